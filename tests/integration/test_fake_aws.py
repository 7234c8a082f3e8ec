"""Tests of the strict fake AWS endpoint (tests/fakes/fake_aws.py).

Run from the repository root:  python3 -m unittest tests.integration.test_fake_aws

Requests are signed with the small SigV4 signer below, written independently of
tests/fakes/sigv4_verify.py, so a shared mistake would have to be made twice.
"""

import gzip
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from tests.fakes import emf_check, fake_aws, sigv4_verify
from tests.fakes.fake_aws_ctl import FakeAWS

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.path.join(HERE, "..", "data", "sigv4")  # AWS's suite, in its original layout
SUITE_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
AKID, SECRET = "AKIDTEST", "secret"
TOKEN_AKID, TOKEN_SECRET, TOKEN = "AKIDSESSION", "sessionsecret", "sessiontoken123"
LOGS_CT, CW_CT = "application/x-amz-json-1.1", "application/x-amz-json-1.0"
FORM_CT = "application/x-www-form-urlencoded; charset=utf-8"
DAY_MS = 86400 * 1000
HOUR_MS = 3600 * 1000


# --------------------------------------------------------------------------- test signer

def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign_headers(method, headers, body, secret, akid, region, service, amz_date,
                 hashed=None):
    """Return the Authorization value for `headers` (dict, lower-case names), path '/'.

    `hashed` overrides the bytes hashed (to forge a wrong payload hash)."""
    names = sorted(headers)
    canonical = "\n".join([
        method, "/", "",
        "".join("%s:%s\n" % (n, " ".join(headers[n].split())) for n in names),
        ";".join(names),
        hashlib.sha256(body if hashed is None else hashed).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + secret).encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        akid, scope, ";".join(names), sig)


def amz_now(offset=0):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + offset))


# --------------------------------------------------------------------------- SigV4 vectors

def parse_suite_request(raw):
    head, _, body = raw.partition("\n\n")
    lines = head.split("\n")
    method, rest = lines[0].split(" ", 1)
    target = rest.rsplit(" ", 1)[0]
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        if name.lower() != "authorization":
            headers.append((name, value))
    path, _, query = target.partition("?")
    return method, path, query, headers, body.encode()


class SigV4VectorTests(unittest.TestCase):
    """sigv4_verify against the AWS SigV4 test suite and the spec's §6.2 vectors."""

    def read_case(self, case, ext):
        name = os.path.basename(case)
        with open(os.path.join(case, name + ext), encoding="utf-8", newline="") as f:
            return f.read()

    def test_official_suite(self):
        # A case is a folder holding <folder name>.req; some are nested
        # (normalize-path/get-space, post-sts-token/post-sts-header-after).
        cases = sorted(root for root, _, files in os.walk(SUITE)
                       if os.path.basename(root) + ".req" in files)
        self.assertGreaterEqual(len(cases), 30)
        for case in cases:
            with self.subTest(case=os.path.relpath(case, SUITE)):
                files = os.listdir(case)
                ext = ".sreq" if os.path.basename(case) + ".sreq" in files else ".req"
                method, path, query, headers, body = parse_suite_request(
                    self.read_case(case, ext))
                auth = sigv4_verify.parse_authorization(self.read_case(case, ".authz"))
                creq = sigv4_verify.canonical_request(method, path, query, headers,
                                                      auth["signed_headers"],
                                                      sigv4_verify.sha256_hex(body))
                self.assertEqual(creq, self.read_case(case, ".creq"))
                sts = sigv4_verify.string_to_sign(
                    "20150830T123600Z", "20150830/us-east-1/service/aws4_request", creq)
                self.assertEqual(sts, self.read_case(case, ".sts"))
                self.assertEqual(sigv4_verify.signature(SUITE_KEY, "20150830", "us-east-1",
                                                        "service", sts), auth["signature"])

    def spec_vector(self, headers, body, service):
        creq = sigv4_verify.canonical_request("POST", "/", "", headers,
                                              sorted(h.lower() for h, _ in headers),
                                              sigv4_verify.sha256_hex(body))
        scope = "20150830/us-east-1/%s/aws4_request" % service
        sts = sigv4_verify.string_to_sign("20150830T123600Z", scope, creq)
        return (sigv4_verify.sha256_hex(body), sigv4_verify.sha256_hex(creq.encode()),
                sigv4_verify.signature(SUITE_KEY, "20150830", "us-east-1", service, sts))

    def test_spec_put_log_events_vector(self):
        body = (b'{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":'
                b'1440938160000,"message":"hello"}]}')
        headers = [("Content-Type", LOGS_CT), ("Host", "logs.us-east-1.amazonaws.com"),
                   ("X-Amz-Date", "20150830T123600Z"),
                   ("X-Amz-Target", "Logs_20140328.PutLogEvents")]
        self.assertEqual(self.spec_vector(headers, body, "logs"), (
            "95ef2e8b6df07e8b2e91a27adef24ceb3c5c16696a0a2056a748ac37815b72a5",
            "d4c14a841394aeceaf5419bc82c432e994804c9983ae3d69ca602d9faf71272b",
            "c1ef666d77656a61414cb171d565874f660fa07607c6bdb33e6d5565daf743b5"))

    def test_spec_put_metric_data_query_vector(self):
        body = (b"Action=PutMetricData&Version=2010-08-01&Namespace=NS&MetricData.member.1."
                b"MetricName=m&MetricData.member.1.Value=1")
        headers = [("Content-Type", FORM_CT), ("Host", "monitoring.us-east-1.amazonaws.com"),
                   ("X-Amz-Date", "20150830T123600Z")]
        self.assertEqual(self.spec_vector(headers, body, "monitoring"), (
            "c2d6dccb42ab4c87f8bd821499d7a242f66657d24b79eff9c33a7cfc7e221ca8",
            "3ba3ca56def5f58145b2bd010879946215176c764319709b7f3ef33dc8340b07",
            "02dc6da9b358463773d23c2cc84ee73e2692b7c2feb04204ef73a11b94961ecd"))


# --------------------------------------------------------------------------- live server

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def code(self):
        """Error code of a JSON or XML error body."""
        if self.body.startswith(b"<"):
            return ET.fromstring(self.body).find("{*}Error/{*}Code").text
        # AWS answers "Code" or "prefix#Code" (the fake alternates)
        return self.json["__type"].rpartition("#")[2]


class FakeAWSTestCase(unittest.TestCase):
    """Starts one fake for the class; every test starts from a reset fake."""

    fake_kwargs = {}

    @classmethod
    def setUpClass(cls):
        cls.aws = FakeAWS(credentials=[(AKID, SECRET), (TOKEN_AKID, TOKEN_SECRET, TOKEN)],
                          **cls.fake_kwargs)
        cls.aws.start()

    @classmethod
    def tearDownClass(cls):
        errors = cls.aws.stderr_text()
        cls.aws.stop()
        if "Traceback" in errors:
            raise AssertionError("fake_aws crashed while handling a request:\n" + errors)

    def setUp(self):
        self.aws.reset()
        # the API's semantics, without per-API rate limits (RateLimits tests those)
        self.aws.config(rate_limits={name: 0 for name in fake_aws.DEFAULT_RATE_LIMITS})

    # ------------------------------------------------------------ transport

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.aws.port, timeout=15)

    def raw(self, method, path, body=b"", headers=None, conn=None):
        """One request; a fresh connection (closed afterwards) unless `conn` is given."""
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return Response(resp.status, resp.headers, resp.read())
        finally:
            if own:
                conn.close()

    def signed(self, service, body, content_type, target=None, akid=AKID, secret=SECRET,
               token=None, region="us-east-1", scope_service=None, amz_date=None,
               extra=None, hashed=None, conn=None):
        """POST / signed with SigV4 (all headers below are signed)."""
        amz_date = amz_date or amz_now()
        headers = {"host": "127.0.0.1:%d" % self.aws.port, "x-amz-date": amz_date,
                   "content-type": content_type}
        if target:
            headers["x-amz-target"] = target
        if token:
            headers["x-amz-security-token"] = token
        headers.update(extra or {})
        headers["authorization"] = sign_headers("POST", headers, body, secret, akid, region,
                                                scope_service or service, amz_date, hashed)
        return self.raw("POST", "/", body, headers, conn)

    def logs(self, op, payload, **kw):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.signed("logs", body, LOGS_CT, "Logs_20140328." + op, **kw)

    def cw(self, op, payload, **kw):
        body = json.dumps(payload).encode()
        return self.signed("monitoring", body, CW_CT, "GraniteServiceVersion20100801." + op,
                           **kw)

    def query(self, params, service="monitoring", **kw):
        body = urllib.parse.urlencode(params).encode()
        return self.signed(service, body, FORM_CT, **kw)

    # ------------------------------------------------------------ assertions and fixtures

    def assertError(self, resp, status, code, message_part=None):
        self.assertEqual(resp.status, status, resp.body[:500])
        self.assertEqual(resp.code, code, resp.body[:500])
        if message_part is not None:
            self.assertIn(message_part, resp.body.decode())

    def assertOK(self, resp):
        self.assertEqual(resp.status, 200, resp.body[:500])
        self.assertTrue(resp.headers.get("x-amzn-RequestId"))

    def make_stream(self, group="g", stream="s"):
        self.assertOK(self.logs("CreateLogGroup", {"logGroupName": group}))
        self.assertOK(self.logs("CreateLogStream", {"logGroupName": group,
                                                    "logStreamName": stream}))

    def put_events(self, events, group="g", stream="s", **kw):
        return self.logs("PutLogEvents", {"logGroupName": group, "logStreamName": stream,
                                          "logEvents": events}, **kw)

    @staticmethod
    def now_ms():
        return int(time.time() * 1000)


class SignatureTests(FakeAWSTestCase):
    """Every way of getting SigV4 wrong is refused like AWS refuses it."""

    def test_valid_request_accepted_and_logged(self):
        resp = self.logs("DescribeLogGroups", {})
        self.assertOK(resp)
        self.assertEqual(resp.json, {"logGroups": []})
        record = self.aws.requests()[-1]
        self.assertEqual((record["service"], record["operation"], record["status"],
                          record["access_key_id"]),
                         ("logs", "DescribeLogGroups", 200, AKID))
        self.assertEqual(record["headers"]["x-amz-target"], "Logs_20140328.DescribeLogGroups")

    def test_bad_signature(self):
        resp = self.logs("DescribeLogGroups", {}, secret="wrong")
        self.assertError(resp, 403, "InvalidSignatureException",
                         "The request signature we calculated does not match")
        self.assertEqual(self.aws.requests()[-1]["error_code"], "InvalidSignatureException")

    def test_body_altered_after_signing(self):
        resp = self.logs("DescribeLogGroups", {}, hashed=b'{"limit":5}')
        self.assertError(resp, 403, "InvalidSignatureException")

    def test_unknown_access_key(self):
        resp = self.logs("DescribeLogGroups", {}, akid="AKIDNOBODY")
        self.assertError(resp, 403, "UnrecognizedClientException",
                         "The security token included in the request is invalid.")
        resp = self.query({"Action": "ListMetrics", "Version": "2010-08-01"},
                          akid="AKIDNOBODY")
        self.assertError(resp, 403, "InvalidClientTokenId")

    def test_wrong_region_scope(self):
        resp = self.logs("DescribeLogGroups", {}, region="eu-west-1")
        self.assertError(resp, 403, "InvalidSignatureException")

    def test_wrong_service_scope(self):
        resp = self.logs("DescribeLogGroups", {}, scope_service="monitoring")
        self.assertError(resp, 403, "InvalidSignatureException", "correct service")
        resp = self.query({"Action": "ListMetrics", "Version": "2010-08-01"},
                          scope_service="logs")
        self.assertError(resp, 403, "SignatureDoesNotMatch")

    def test_clock_skew(self):
        resp = self.logs("DescribeLogGroups", {}, amz_date=amz_now(-330))
        self.assertError(resp, 403, "InvalidSignatureException", "Signature expired")
        resp = self.logs("DescribeLogGroups", {}, amz_date=amz_now(330))
        self.assertError(resp, 403, "InvalidSignatureException", "not yet current")
        self.assertOK(self.logs("DescribeLogGroups", {}, amz_date=amz_now(-240)))

    def test_host_must_be_signed(self):
        amz_date = amz_now()
        headers = {"x-amz-date": amz_date, "content-type": LOGS_CT,
                   "x-amz-target": "Logs_20140328.DescribeLogGroups"}
        auth = sign_headers("POST", headers, b"{}", SECRET, AKID, "us-east-1", "logs", amz_date)
        resp = self.raw("POST", "/", b"{}", dict(headers, authorization=auth))
        self.assertError(resp, 403, "InvalidSignatureException", "Host")

    def test_missing_authorization(self):
        resp = self.raw("POST", "/", b"{}", {"Content-Type": LOGS_CT,
                                             "X-Amz-Target": "Logs_20140328.DescribeLogGroups"})
        self.assertError(resp, 403, "MissingAuthenticationTokenException")

    def test_session_token_required(self):
        resp = self.logs("DescribeLogGroups", {}, akid=TOKEN_AKID, secret=TOKEN_SECRET)
        self.assertError(resp, 403, "UnrecognizedClientException")
        resp = self.logs("DescribeLogGroups", {}, akid=TOKEN_AKID, secret=TOKEN_SECRET,
                         token="othertoken")
        self.assertError(resp, 403, "UnrecognizedClientException")
        self.assertOK(self.logs("DescribeLogGroups", {}, akid=TOKEN_AKID,
                                secret=TOKEN_SECRET, token=TOKEN))

    def test_expired_credentials(self):
        self.aws.add_credentials("AKIDOLD", "oldsecret", session_token="oldtoken",
                                 expires_in=-5)
        resp = self.logs("DescribeLogGroups", {}, akid="AKIDOLD", secret="oldsecret",
                         token="oldtoken")
        self.assertError(resp, 400, "ExpiredTokenException",
                         "The security token included in the request is expired")

    def test_unknown_operation(self):
        self.assertError(self.logs("DescribeEverything", {}), 400, "UnknownOperationException")
        resp = self.signed("logs", b"{}", LOGS_CT, "Bogus_20990101.Op")
        self.assertError(resp, 400, "UnknownOperationException")
        resp = self.signed("logs", b"{}", CW_CT, "Logs_20140328.DescribeLogGroups")
        self.assertError(resp, 400, "UnknownOperationException")

    def test_chunked_body(self):
        body = b'{"limit": 5}'
        amz_date = amz_now()
        headers = {"host": "127.0.0.1:%d" % self.aws.port, "x-amz-date": amz_date,
                   "content-type": LOGS_CT, "x-amz-target": "Logs_20140328.DescribeLogGroups"}
        headers["authorization"] = sign_headers("POST", headers, body, SECRET, AKID,
                                                "us-east-1", "logs", amz_date)
        conn = self.connection()
        conn.request("POST", "/", body=iter([body[:4], body[4:]]), headers=headers,
                     encode_chunked=True)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200, resp.read())
        conn.close()
        self.assertEqual(self.aws.requests()[-1]["headers"]["transfer-encoding"], "chunked")


    def test_expect_100_continue(self):
        body = b'{"limit": 5}'
        amz_date = amz_now()
        headers = {"host": "127.0.0.1:%d" % self.aws.port, "x-amz-date": amz_date,
                   "content-type": LOGS_CT, "x-amz-target": "Logs_20140328.DescribeLogGroups"}
        headers["authorization"] = sign_headers("POST", headers, body, SECRET, AKID,
                                                "us-east-1", "logs", amz_date)
        head = "".join("%s: %s\r\n" % kv for kv in headers.items())
        with socket.create_connection(("127.0.0.1", self.aws.port), timeout=5) as sock:
            sock.sendall(("POST / HTTP/1.1\r\n%sContent-Length: %d\r\n"
                          "Expect: 100-continue\r\n\r\n" % (head, len(body))).encode())
            self.assertTrue(sock.recv(25).startswith(b"HTTP/1.1 100 Continue"))
            sock.sendall(body)
            answer = b""
            while b'"logGroups"' not in answer:
                chunk = sock.recv(4096)
                self.assertTrue(chunk, answer)
                answer += chunk
        self.assertIn(b"HTTP/1.1 200", answer)


class LogsTests(FakeAWSTestCase):
    """CloudWatch Logs operations and PutLogEvents batch rules."""

    def test_group_stream_events_round_trip(self):
        self.make_stream()
        now = self.now_ms()
        resp = self.put_events([{"timestamp": now - 10, "message": "one"},
                                {"timestamp": now, "message": "twö"}])
        self.assertOK(resp)
        self.assertNotIn("rejectedLogEventsInfo", resp.json)
        got = self.logs("GetLogEvents", {"logGroupName": "g", "logStreamName": "s",
                                         "startFromHead": True}).json
        self.assertEqual([e["message"] for e in got["events"]], ["one", "twö"])
        self.assertTrue(all("ingestionTime" in e for e in got["events"]))
        again = self.logs("GetLogEvents", {"logGroupName": "g", "logStreamName": "s",
                                           "startFromHead": True,
                                           "nextToken": got["nextForwardToken"]}).json
        self.assertEqual((again["events"], again["nextForwardToken"]),
                         ([], got["nextForwardToken"]))
        streams = self.logs("DescribeLogStreams", {"logGroupName": "g"}).json["logStreams"]
        self.assertEqual(streams[0]["lastEventTimestamp"], now)
        state = self.aws.state()["log_groups"]["g"]
        self.assertEqual(len(state["streams"]["s"]["events"]), 2)

    def test_create_rules(self):
        self.make_stream()
        self.assertError(self.logs("CreateLogGroup", {"logGroupName": "g"}), 400,
                         "ResourceAlreadyExistsException")
        self.assertError(self.logs("CreateLogStream", {"logGroupName": "g",
                                                       "logStreamName": "s"}),
                         400, "ResourceAlreadyExistsException")
        self.assertError(self.logs("CreateLogStream", {"logGroupName": "nope",
                                                       "logStreamName": "s"}),
                         400, "ResourceNotFoundException")
        for bad in ("aws/x", "has space", "x" * 513, ""):
            self.assertError(self.logs("CreateLogGroup", {"logGroupName": bad}), 400,
                             "InvalidParameterException")
        self.assertError(self.logs("CreateLogStream", {"logGroupName": "g",
                                                       "logStreamName": "a:b"}),
                         400, "InvalidParameterException")
        self.assertError(self.logs("CreateLogGroup", {"logGroupName": "h",
                                                      "logGroupClass": "CHEAP"}),
                         400, "InvalidParameterException")
        self.assertOK(self.logs("CreateLogGroup", {"logGroupName": "/ecs/a_b-c.d#1",
                                                   "tags": {"team": "obs"},
                                                   "logGroupClass": "INFREQUENT_ACCESS"}))

    def test_retention(self):
        self.make_stream()
        self.assertError(self.logs("PutRetentionPolicy", {"logGroupName": "g",
                                                          "retentionInDays": 2}),
                         400, "InvalidParameterException")
        self.assertOK(self.logs("PutRetentionPolicy", {"logGroupName": "g",
                                                       "retentionInDays": 1096}))
        groups = self.logs("DescribeLogGroups", {"logGroupNamePrefix": "g"}).json
        self.assertEqual(groups["logGroups"][0]["retentionInDays"], 1096)
        self.assertError(self.logs("PutRetentionPolicy", {"logGroupName": "zz",
                                                          "retentionInDays": 7}),
                         400, "ResourceNotFoundException")

    def test_missing_stream_or_group(self):
        self.assertOK(self.logs("CreateLogGroup", {"logGroupName": "g"}))
        event = [{"timestamp": self.now_ms(), "message": "x"}]
        self.assertError(self.put_events(event), 400, "ResourceNotFoundException",
                         "log stream")
        self.assertError(self.put_events(event, group="other"), 400,
                         "ResourceNotFoundException", "log group")

    def test_event_count_limit(self):
        self.make_stream()
        now = self.now_ms()
        self.assertOK(self.put_events([{"timestamp": now, "message": "x"}] * 10000))
        self.assertError(self.put_events([{"timestamp": now, "message": "x"}] * 10001),
                         400, "InvalidParameterException", "10000")

    def test_batch_bytes_limit_counts_utf8_plus_26(self):
        self.make_stream()
        now = self.now_ms()
        fixed = ["€" * 100000, "é" * 100000, "😀" * 1000, 'quote " and \n newline']
        used = sum(len(m.encode()) for m in fixed) + 26 * 5
        filler = "a" * (1048576 - used)
        ok = [{"timestamp": now, "message": m} for m in fixed + [filler]]
        self.assertOK(self.put_events(ok))
        over = [{"timestamp": now, "message": m} for m in fixed + [filler + "a"]]
        self.assertError(self.put_events(over), 400, "InvalidParameterException")
        single = [{"timestamp": now, "message": "b" * (1048576 - 25)}]
        self.assertError(self.put_events(single), 400, "InvalidParameterException")

    def test_order_span_and_empty_message(self):
        self.make_stream()
        now = self.now_ms()
        resp = self.put_events([{"timestamp": now, "message": "b"},
                                {"timestamp": now - 1, "message": "a"}])
        self.assertError(resp, 400, "InvalidParameterException", "chronological order")
        resp = self.put_events([{"timestamp": now - 25 * HOUR_MS, "message": "a"},
                                {"timestamp": now, "message": "b"}])
        self.assertError(resp, 400, "InvalidParameterException", "24 hours")
        self.assertOK(self.put_events([{"timestamp": now - DAY_MS, "message": "a"},
                                       {"timestamp": now, "message": "b"}]))
        resp = self.put_events([{"timestamp": now, "message": ""}])
        self.assertError(resp, 400, "InvalidParameterException")

    def test_too_old_and_too_new_are_rejected_individually(self):
        self.make_stream()
        now = self.now_ms()
        events = [{"timestamp": now - 15 * DAY_MS, "message": "old1"},
                  {"timestamp": now - 15 * DAY_MS + 1, "message": "old2"},
                  {"timestamp": now - HOUR_MS, "message": "ok1"},
                  {"timestamp": now, "message": "ok2"},
                  {"timestamp": now + 3 * HOUR_MS, "message": "new"}]
        resp = self.put_events(events)
        self.assertOK(resp)
        self.assertEqual(resp.json["rejectedLogEventsInfo"],
                         {"tooOldLogEventEndIndex": 2, "tooNewLogEventStartIndex": 4})
        stored = self.aws.state()["log_groups"]["g"]["streams"]["s"]["events"]
        self.assertEqual([e["message"] for e in stored], ["ok1", "ok2"])

    def test_events_older_than_retention_are_expired(self):
        self.make_stream()
        self.assertOK(self.logs("PutRetentionPolicy", {"logGroupName": "g",
                                                       "retentionInDays": 1}))
        now = self.now_ms()
        resp = self.put_events([{"timestamp": now - 3 * DAY_MS, "message": "gone"},
                                {"timestamp": now, "message": "kept"}])
        self.assertOK(resp)
        self.assertEqual(resp.json["rejectedLogEventsInfo"], {"expiredLogEventEndIndex": 1})

    def test_describe_log_streams_paging_and_rules(self):
        self.assertOK(self.logs("CreateLogGroup", {"logGroupName": "g"}))
        for i in range(5):
            self.assertOK(self.logs("CreateLogStream", {"logGroupName": "g",
                                                        "logStreamName": "s%d" % i}))
        first = self.logs("DescribeLogStreams", {"logGroupName": "g", "limit": 2}).json
        self.assertEqual([s["logStreamName"] for s in first["logStreams"]], ["s0", "s1"])
        rest = self.logs("DescribeLogStreams", {"logGroupName": "g", "limit": 50,
                                                "nextToken": first["nextToken"]}).json
        self.assertEqual([s["logStreamName"] for s in rest["logStreams"]], ["s2", "s3", "s4"])
        self.assertNotIn("nextToken", rest)
        self.assertError(self.logs("DescribeLogStreams", {"logGroupName": "g", "limit": 51}),
                         400, "InvalidParameterException")
        self.assertError(self.logs("DescribeLogStreams", {"logGroupName": "g",
                                                          "orderBy": "LastEventTime",
                                                          "logStreamNamePrefix": "s"}),
                         400, "InvalidParameterException")

    def test_gzip_logs_body_accepted_and_recorded(self):
        self.assertOK(self.logs("CreateLogGroup", gzip.compress(b'{"logGroupName":"z"}'),
                                extra={"content-encoding": "gzip"}))
        self.assertTrue(self.aws.requests()[-1]["gzip"])
        self.assertIn("z", self.aws.state()["log_groups"])


class MetricsTests(FakeAWSTestCase):
    """PutMetricData (JSON 1.0 and query), ListMetrics, GetMetricStatistics."""

    def datum(self, **kw):
        d = {"MetricName": "m", "Value": 1.0, "Unit": "Count",
             "Dimensions": [{"Name": "a", "Value": "b"}]}
        d.update(kw)
        return d

    def put(self, data, namespace="NS", **kw):
        return self.cw("PutMetricData", {"Namespace": namespace, "MetricData": data}, **kw)

    def assertCwError(self, resp, status, code, query_code):
        self.assertError(resp, status, code)
        self.assertEqual(resp.headers.get("x-amzn-query-error"), query_code + ";Sender")

    def test_json_put_and_read_back(self):
        ts = int(time.time()) // 60 * 60
        self.assertOK(self.put([
            self.datum(Timestamp=ts),
            self.datum(Values=[2.0, 4.0], Counts=[1.0, 3.0], Timestamp=ts, Value=None),
            self.datum(StatisticValues={"SampleCount": 2, "Sum": 10, "Minimum": 0.5,
                                        "Maximum": 9.5}, Timestamp=ts, Value=None,
                       StorageResolution=1)]))
        metrics = self.aws.state()["metrics"]
        self.assertEqual(len(metrics), 3)
        self.assertEqual(metrics[0]["protocol"], "json")
        self.assertEqual(metrics[2]["StorageResolution"], 1)
        stats = self.cw("GetMetricStatistics", {
            "Namespace": "NS", "MetricName": "m", "Dimensions": [{"Name": "a", "Value": "b"}],
            "StartTime": ts - 60, "EndTime": ts + 60, "Period": 60,
            "Statistics": ["SampleCount", "Sum", "Minimum", "Maximum", "Average"]}).json
        point = stats["Datapoints"][0]
        self.assertEqual((point["SampleCount"], point["Sum"], point["Minimum"],
                          point["Maximum"]), (7.0, 25.0, 0.5, 9.5))
        listed = self.cw("ListMetrics", {"Namespace": "NS"}).json["Metrics"]
        self.assertEqual(listed, [{"Namespace": "NS", "MetricName": "m",
                                   "Dimensions": [{"Name": "a", "Value": "b"}]}])

    def test_datum_count_limit(self):
        self.assertOK(self.put([self.datum()] * 1000))
        self.assertCwError(self.put([self.datum()] * 1001), 400,
                           "InvalidParameterValueException", "InvalidParameterValue")

    def test_datum_rules(self):
        dims31 = [{"Name": "d%d" % i, "Value": "v"} for i in range(31)]
        cases = [
            (self.datum(Dimensions=dims31), "InvalidParameterValue"),
            (self.datum(Value=float("nan")), "InvalidParameterValue"),
            (self.datum(Value=float("inf")), "InvalidParameterValue"),
            (self.datum(Value=2.0 ** 361), "InvalidParameterValue"),
            (self.datum(Unit="Parsecs"), "InvalidParameterValue"),
            (self.datum(StorageResolution=30), "InvalidParameterValue"),
            (self.datum(Value=None, Values=[1.0, 2.0], Counts=[1.0]), "InvalidParameterValue"),
            (self.datum(Value=None, Values=[1.0] * 151), "InvalidParameterValue"),
            (self.datum(Values=[1.0]), "InvalidParameterCombination"),
            (self.datum(StatisticValues={"SampleCount": 1, "Sum": 1, "Minimum": 1,
                                         "Maximum": 1}), "InvalidParameterCombination"),
            (self.datum(Value=None, StatisticValues={"SampleCount": 1, "Sum": 1}),
             "MissingParameter"),
            (self.datum(Value=None), "MissingParameter"),
            (self.datum(Dimensions=[{"Name": "a", "Value": "x" * 1025}]),
             "InvalidParameterValue"),
            (self.datum(Timestamp=time.time() - 15 * 86400), "InvalidParameterValue"),
            (self.datum(Timestamp=time.time() + 3 * 3600), "InvalidParameterValue"),
            (self.datum(Timestamp=time.time() * 1000), "InvalidParameterValue"),
        ]
        for datum, code in cases:
            with self.subTest(datum=str(datum)[:120]):
                datum = {k: v for k, v in datum.items() if v is not None}
                resp = self.put([datum])
                self.assertEqual(resp.status, 400, resp.body)
                self.assertEqual(resp.headers["x-amzn-query-error"], code + ";Sender")
        self.assertEqual(self.aws.state()["metrics"], [])

    def test_namespace_rules(self):
        self.assertCwError(self.put([self.datum()], namespace="AWS/x"), 400,
                           "InvalidParameterValueException", "InvalidParameterValue")
        self.assertCwError(self.put([self.datum()], namespace=":x"), 400,
                           "InvalidParameterValueException", "InvalidParameterValue")
        resp = self.cw("PutMetricData", {"MetricData": [self.datum()]})
        self.assertCwError(resp, 400, "MissingRequiredParameterException", "MissingParameter")

    def test_unknown_member_rejected(self):
        resp = self.put([dict(self.datum(), Dimension=[{"Name": "a", "Value": "b"}])])
        self.assertError(resp, 400, "SerializationException")

    def gzip_put(self, payload_override=None):
        body = json.dumps({"Namespace": "NS", "MetricData": [self.datum()] * 400}).encode()
        packed = gzip.compress(body)
        return self.signed("monitoring", packed, CW_CT,
                           "GraniteServiceVersion20100801.PutMetricData",
                           extra={"content-encoding": "gzip"},
                           hashed=body if payload_override else None)

    def test_gzip_body_signed_over_compressed_bytes(self):
        self.assertOK(self.gzip_put())
        self.assertEqual(len(self.aws.state()["metrics"]), 400)
        record = self.aws.requests()[-1]
        self.assertTrue(record["gzip"])
        self.assertEqual(len(record["json"]["MetricData"]), 400)

    def test_gzip_body_signed_over_uncompressed_bytes_rejected(self):
        self.assertError(self.gzip_put(payload_override=True), 403,
                         "InvalidSignatureException")

    def test_body_over_1mb_rejected(self):
        datum = self.datum(Dimensions=[{"Name": "d%d" % i, "Value": "v" * 1000}
                                       for i in range(30)])
        resp = self.put([datum] * 40)
        self.assertEqual(resp.status, 413)

    def test_query_protocol(self):
        params = {"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": "Q",
                  "MetricData.member.1.MetricName": "m",
                  "MetricData.member.1.Dimensions.member.1.Name": "a",
                  "MetricData.member.1.Dimensions.member.1.Value": "b",
                  "MetricData.member.1.Value": "1.5", "MetricData.member.1.Unit": "Bytes",
                  "MetricData.member.1.Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                 time.gmtime()),
                  "MetricData.member.2.MetricName": "n",
                  "MetricData.member.2.Values.member.1": "1",
                  "MetricData.member.2.Values.member.2": "3",
                  "MetricData.member.2.Counts.member.1": "2",
                  "MetricData.member.2.Counts.member.2": "1",
                  "MetricData.member.2.StorageResolution": "1",
                  "MetricData.member.3.MetricName": "o",
                  "MetricData.member.3.StatisticValues.SampleCount": "2",
                  "MetricData.member.3.StatisticValues.Sum": "3",
                  "MetricData.member.3.StatisticValues.Minimum": "1",
                  "MetricData.member.3.StatisticValues.Maximum": "2"}
        resp = self.query(params)
        self.assertOK(resp)
        root = ET.fromstring(resp.body)
        self.assertTrue(root.tag.endswith("PutMetricDataResponse"))
        self.assertTrue(root.find("{*}ResponseMetadata/{*}RequestId").text)
        metrics = self.aws.state()["metrics"]
        self.assertEqual([(m["MetricName"], m["protocol"]) for m in metrics],
                         [("m", "query"), ("n", "query"), ("o", "query")])
        self.assertEqual(metrics[0]["Dimensions"], [{"Name": "a", "Value": "b"}])
        self.assertEqual((metrics[1]["Values"], metrics[1]["Counts"]), ([1.0, 3.0], [2.0, 1.0]))
        listed = self.query({"Action": "ListMetrics", "Version": "2010-08-01",
                             "Namespace": "Q"})
        names = [e.text for e in ET.fromstring(listed.body).iter()
                 if e.tag.endswith("MetricName")]
        self.assertEqual(sorted(names), ["m", "n", "o"])

    def test_query_gzip(self):
        form = {"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": "Q",
                "MetricData.member.1.MetricName": "m", "MetricData.member.1.Value": "1"}
        body = gzip.compress(urllib.parse.urlencode(form).encode())
        self.assertOK(self.signed("monitoring", body, FORM_CT,
                                  extra={"content-encoding": "gzip"}))
        self.assertEqual(self.aws.state()["metrics"][0]["protocol"], "query")

    def test_query_errors(self):
        base = {"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": "Q",
                "MetricData.member.1.MetricName": "m"}
        self.assertError(self.query(dict(base, **{"MetricData.member.1.Value": "NaN"})),
                         400, "InvalidParameterValue")
        self.assertError(self.query(dict(base, **{"MetricData.member.1.Value": "1",
                                                  "Namespace": "AWS/EC2"})),
                         400, "InvalidParameterValue")
        self.assertError(self.query(base), 400, "MissingParameter")
        params = dict(base, **{"MetricData.member.1.Value": "1"})
        del params["Namespace"]
        self.assertError(self.query(params), 400, "MissingParameter")
        self.assertError(self.query({"Action": "DeleteAlarms", "Version": "2010-08-01"}),
                         400, "InvalidAction")
        self.assertError(self.query({"Action": "ListMetrics", "Version": "2011-06-15"}),
                         400, "InvalidAction")
        typo = dict(base, **{"MetricData.member.1.Value": "1",
                             "MetricData.member.1.Dimension.member.1.Name": "a"})
        self.assertError(self.query(typo), 400, "InvalidParameterValue")


class FaultTests(FakeAWSTestCase):
    """Queued faults are consumed in order by matching requests only."""

    def test_throttle_then_success(self):
        self.aws.fault("throttle", count=2, target="DescribeLogGroups")
        self.assertOK(self.logs("CreateLogGroup", {"logGroupName": "g"}))
        for _ in range(2):
            self.assertError(self.logs("DescribeLogGroups", {}), 400, "ThrottlingException",
                             "Rate exceeded")
        self.assertOK(self.logs("DescribeLogGroups", {}))
        faults = [r["fault"] for r in self.aws.requests()]
        self.assertEqual(faults, [None, "throttle", "throttle", None])

    def test_faults_in_order(self):
        self.aws.fault("status", status=503)
        self.aws.fault("throttle")
        self.aws.fault("expire")
        self.assertError(self.logs("DescribeLogGroups", {}), 503, "ServiceUnavailableException")
        self.assertError(self.logs("DescribeLogGroups", {}), 400, "ThrottlingException")
        self.assertError(self.logs("DescribeLogGroups", {}), 400, "ExpiredTokenException")
        self.assertOK(self.logs("DescribeLogGroups", {}))

    def test_query_throttle_and_status(self):
        self.aws.fault("throttle", target="PutMetricData")
        self.aws.fault("status", status=500, target="monitoring")
        params = {"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": "Q",
                  "MetricData.member.1.MetricName": "m", "MetricData.member.1.Value": "1"}
        self.assertError(self.query(params), 400, "Throttling")
        self.assertError(self.query(params), 500, "InternalFailure")
        self.assertOK(self.query(params))

    def test_unsigned_requests_do_not_consume_faults(self):
        self.aws.fault("throttle")
        self.assertError(self.logs("DescribeLogGroups", {}, secret="bad"), 403,
                         "InvalidSignatureException")
        self.assertError(self.logs("DescribeLogGroups", {}), 400, "ThrottlingException")

    def test_latency(self):
        self.aws.fault("latency", ms=300)
        start = time.monotonic()
        self.assertOK(self.logs("DescribeLogGroups", {}))
        self.assertGreaterEqual(time.monotonic() - start, 0.3)

    def test_reset_closes_without_answer(self):
        self.aws.fault("reset")
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
            self.logs("DescribeLogGroups", {})
        self.assertOK(self.logs("DescribeLogGroups", {}))

    def test_close_answers_then_closes(self):
        self.aws.fault("close")
        conn = self.connection()
        resp = self.logs("DescribeLogGroups", {}, conn=conn)
        self.assertOK(resp)
        self.assertEqual(resp.headers["Connection"], "close")
        conn.close()

    def test_keep_alive(self):
        conn = self.connection()
        self.assertOK(self.logs("DescribeLogGroups", {}, conn=conn))
        sock = conn.sock
        self.assertOK(self.logs("DescribeLogGroups", {}, conn=conn))
        self.assertIs(conn.sock, sock)
        conn.close()


class StrictnessTests(FakeAWSTestCase):
    """Where the fake used to be lenient: per-API rate limits, both forms of
    the error __type, EMF checked against the specification, and a bug in the
    fake failing the test instead of passing for a retried 500. Each test has
    a fake of its own, since some of them leave problems that fail its stop."""

    @classmethod
    def setUpClass(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        pass

    def setUp(self):
        self.aws = FakeAWS(credentials=[(AKID, SECRET)])
        self.aws.start()
        self.addCleanup(self.stop_quietly)

    def stop_quietly(self):
        try:
            self.aws.stop()
        except AssertionError:
            pass

    def test_create_log_stream_is_throttled_above_its_rate(self):
        self.aws.config(rate_limits={"CreateLogStream": 5})
        self.assertOK(self.logs("CreateLogGroup", {"logGroupName": "g"}))
        codes = [self.logs("CreateLogStream", {"logGroupName": "g", "logStreamName": f"s{i}"})
                 for i in range(20)]
        throttled = [r for r in codes if r.status == 400 and r.code == "ThrottlingException"]
        self.assertGreaterEqual(len(throttled), 10, "a burst of 20 against 5/s")
        self.assertLessEqual(len(throttled), 15)
        self.assertTrue(all(r.status in (200, 400) for r in codes))
        time.sleep(1.1)  # the bucket refills
        self.assertOK(self.logs("CreateLogStream", {"logGroupName": "g", "logStreamName": "late"}))

    def test_put_log_events_per_stream_rate(self):
        self.aws.config(rate_limits={"PutLogEvents per stream": 2})
        self.make_stream(stream="a")
        self.assertOK(self.logs("CreateLogStream", {"logGroupName": "g", "logStreamName": "b"}))
        now = self.now_ms()
        one = [{"timestamp": now, "message": "x"}]
        got = [self.put_events(one, stream="a").status for _ in range(4)]
        self.assertEqual(got.count(400), 2, got)
        self.assertOK(self.put_events(one, stream="b"))  # another stream has its own budget

    def test_error_type_comes_bare_and_fully_qualified(self):
        raw = set()
        for _ in range(4):
            r = self.logs("DescribeLogStreams", {"logGroupName": "missing"})
            self.assertError(r, 400, "ResourceNotFoundException")
            raw.add(r.json["__type"])
        self.assertEqual(raw, {"ResourceNotFoundException",
                               "com.amazonaws.logs#ResourceNotFoundException"})
        self.aws.config(error_type="bare")
        r = self.logs("DescribeLogStreams", {"logGroupName": "missing"})
        self.assertEqual(r.json["__type"], "ResourceNotFoundException")

    def emf(self, **over):
        doc = {"_aws": {"Timestamp": self.now_ms(), "CloudWatchMetrics": [
            {"Namespace": "NS", "Dimensions": [["Service"]],
             "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}]},
               "Service": "api", "Latency": 12.5}
        doc.update(over)
        return json.dumps(doc)

    def test_emf_checked_against_the_specification(self):
        ok = json.loads(self.emf())
        self.assertEqual(emf_check.emf_problems(json.dumps(ok)), [])
        cases = {
            "no _aws": {"Service": "api"},
            "_aws.CloudWatchMetrics must be an array": {"_aws": {"Timestamp": 1}},
            "Timestamp": {"_aws": {"Timestamp": "now", "CloudWatchMetrics": []}},
            # seconds where milliseconds belong: 1970, dropped by CloudWatch
            "outside what CloudWatch accepts": {"_aws": {"Timestamp": int(time.time()),
                                                         "CloudWatchMetrics": []}},
        }
        for expect, doc in cases.items():
            self.assertTrue(any(expect in p for p in emf_check.emf_problems(json.dumps(doc))),
                            (expect, emf_check.emf_problems(json.dumps(doc))))
        d = ok["_aws"]["CloudWatchMetrics"][0]
        broken = [
            ("dimension 'Service' is not a member", lambda r: r.pop("Service")),
            ("metric 'Latency' is not a member", lambda r: r.pop("Latency")),
            ("is not a number", lambda r: r.update(Latency="12")),
            ("not a string member", lambda r: r.update(Service=3)),
            ("Namespace", lambda r: d.update(Namespace="")),
            ("more than 100", lambda r: d.update(Metrics=[{"Name": f"m{i}"} for i in range(101)])),
            ("more than 30", lambda r: d.update(Dimensions=[[f"d{i}" for i in range(31)]])),
            ("not a CloudWatch unit", lambda r: d.update(Metrics=[{"Name": "Latency", "Unit": "ms"}])),
            ("must be 1 or 60", lambda r: d.update(
                Metrics=[{"Name": "Latency", "StorageResolution": 5}])),
            ("1 to 100 numbers", lambda r: r.update(Latency=list(range(101)))),
            ("non-empty array of dimension sets", lambda r: d.update(Dimensions=[])),
        ]
        for expect, change in broken:
            root = json.loads(self.emf())
            d = root["_aws"]["CloudWatchMetrics"][0]
            change(root)
            problems = emf_check.emf_problems(json.dumps(root))
            self.assertTrue(any(expect in p for p in problems), (expect, problems))

    def test_bad_emf_fails_the_test_that_sent_it(self):
        self.make_stream()
        now = self.now_ms()
        good = self.emf()
        self.assertOK(self.put_events([{"timestamp": now, "message": good}],
                                      extra={"x-amzn-logs-format": "json/emf"}))
        self.assertEqual(self.aws.problems()["emf_errors"], [])
        bad = self.emf(Latency="slow")
        # accepted and stored, as CloudWatch does; its metric would be lost
        self.assertOK(self.put_events([{"timestamp": now, "message": bad}]))
        errors = self.aws.problems()["emf_errors"]
        self.assertEqual(len(errors), 1)
        self.assertIn("'Latency' is not a number", errors[0]["problems"][0])
        with self.assertRaisesRegex(AssertionError, "FAKE_AWS_EMF_ERROR g/s event 0"):
            self.aws.stop()

    def test_an_exception_inside_the_fake_fails_the_test(self):
        self.aws.fault("crash", target="DescribeLogGroups")
        r = self.logs("DescribeLogGroups", {})
        self.assertEqual(r.status, 500)
        self.assertOK(self.logs("DescribeLogGroups", {}))  # it keeps serving
        self.assertEqual(len(self.aws.problems()["internal_errors"]), 1)
        with self.assertRaisesRegex(AssertionError, "FAKE_AWS_INTERNAL_ERROR POST /"):
            self.aws.stop()


class CredentialSourceTests(FakeAWSTestCase):
    """IMDSv2, ECS container credentials, STS AssumeRole, ECS agent introspection."""

    def imds_token(self, ttl="21600"):
        return self.raw("PUT", "/latest/api/token", b"",
                        {"X-aws-ec2-metadata-token-ttl-seconds": ttl})

    def test_imds_v2_flow_and_credentials_work(self):
        token = self.imds_token()
        self.assertEqual(token.status, 200)
        hdr = {"X-aws-ec2-metadata-token": token.body.decode()}
        role = self.raw("GET", "/latest/meta-data/iam/security-credentials/", headers=hdr)
        self.assertEqual((role.status, role.body), (200, b"fake-role"))
        creds = self.raw("GET", "/latest/meta-data/iam/security-credentials/fake-role",
                         headers=hdr).json
        self.assertEqual(creds["Code"], "Success")
        self.assertRegex(creds["Expiration"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        region = self.raw("GET", "/latest/meta-data/placement/region", headers=hdr)
        self.assertEqual(region.body, b"us-east-1")
        doc = self.raw("GET", "/latest/dynamic/instance-identity/document", headers=hdr).json
        self.assertEqual(doc["region"], "us-east-1")
        self.assertOK(self.logs("DescribeLogGroups", {}, akid=creds["AccessKeyId"],
                                secret=creds["SecretAccessKey"], token=creds["Token"]))

    def test_imds_refusals(self):
        self.assertEqual(self.imds_token("0").status, 400)
        self.assertEqual(self.imds_token("21601").status, 400)
        self.assertEqual(self.raw("PUT", "/latest/api/token").status, 400)
        path = "/latest/meta-data/instance-id"
        self.assertEqual(self.raw("GET", path).status, 401)
        self.assertEqual(self.raw("GET", path, headers={
            "X-aws-ec2-metadata-token": "forged"}).status, 401)
        self.aws.imds(allow_v1=True, instance_id="i-123")
        resp = self.raw("GET", path)
        self.assertEqual((resp.status, resp.body), (200, b"i-123"))

    def test_imds_expiring_credentials_rotate(self):
        self.aws.imds(credentials_expire_in=-1)
        hdr = {"X-aws-ec2-metadata-token": self.imds_token().body.decode()}
        path = "/latest/meta-data/iam/security-credentials/fake-role"
        first = self.raw("GET", path, headers=hdr).json
        second = self.raw("GET", path, headers=hdr).json
        self.assertNotEqual(first["AccessKeyId"], second["AccessKeyId"])
        resp = self.logs("DescribeLogGroups", {}, akid=first["AccessKeyId"],
                         secret=first["SecretAccessKey"], token=first["Token"])
        self.assertError(resp, 400, "ExpiredTokenException")

    def test_ecs_credentials_token_check(self):
        self.aws.ecs_credentials(path="/v2/credentials/abc", token="sekrit")
        self.assertEqual(self.raw("GET", "/v2/credentials/abc").status, 401)
        self.assertEqual(self.raw("GET", "/v2/credentials/abc",
                                  headers={"Authorization": "nope"}).status, 403)
        resp = self.raw("GET", "/v2/credentials/abc", headers={"Authorization": "sekrit"})
        self.assertEqual(resp.status, 200)
        creds = resp.json
        self.assertEqual(set(creds), {"RoleArn", "AccessKeyId", "SecretAccessKey", "Token",
                                      "Expiration"})
        self.assertOK(self.logs("DescribeLogGroups", {}, akid=creds["AccessKeyId"],
                                secret=creds["SecretAccessKey"], token=creds["Token"]))
        self.aws.fault("status", status=500, target="ecs_credentials")
        self.assertEqual(self.raw("GET", "/v2/credentials/abc",
                                  headers={"Authorization": "sekrit"}).status, 500)

    def test_sts_assume_role(self):
        resp = self.query({"Action": "AssumeRole", "Version": "2011-06-15",
                           "RoleArn": "arn:aws:iam::123456789012:role/agent",
                           "RoleSessionName": "collector", "DurationSeconds": "900"},
                          service="sts")
        self.assertOK(resp)
        creds = ET.fromstring(resp.body).find("{*}AssumeRoleResult/{*}Credentials")
        akid, secret, token = (creds.find("{*}" + n).text for n in
                               ("AccessKeyId", "SecretAccessKey", "SessionToken"))
        self.assertRegex(creds.find("{*}Expiration").text, r"Z$")
        self.assertOK(self.logs("DescribeLogGroups", {}, akid=akid, secret=secret,
                                token=token))
        resp = self.query({"Action": "AssumeRole", "Version": "2011-06-15",
                           "RoleArn": "arn:aws:iam::123456789012:role/agent",
                           "RoleSessionName": "collector"}, service="monitoring")
        self.assertError(resp, 403, "SignatureDoesNotMatch")
        resp = self.query({"Action": "AssumeRole", "Version": "2011-06-15",
                           "RoleArn": "arn:aws:iam::123456789012:role/agent",
                           "RoleSessionName": "c", "DurationSeconds": "60"}, service="sts")
        self.assertError(resp, 400, "ValidationError")

    def test_introspection_filters(self):
        long_id = "a" * 12 + "b" * 52
        tasks = {"Tasks": [
            {"Arn": "arn:aws:ecs:us-east-1:123456789012:task/c/1", "Family": "web",
             "Containers": [{"DockerId": long_id, "Name": "nginx"}]},
            {"Arn": "arn:aws:ecs:us-east-1:123456789012:task/c/2", "Family": "db",
             "Containers": [{"DockerId": "c" * 64, "Name": "pg"}]}]}
        self.aws.introspection(metadata={"Cluster": "c"}, tasks=tasks)
        self.assertEqual(self.raw("GET", "/v1/metadata").json, {"Cluster": "c"})
        self.assertEqual(self.raw("GET", "/v1/tasks").json, tasks)
        self.assertEqual(self.raw("GET", "/v1/tasks?dockerid=" + long_id).json["Family"], "web")
        self.assertEqual(self.raw("GET", "/v1/tasks?dockerid=aaaaaaaaaaaa").json["Family"],
                         "web")
        resp = self.raw("GET", "/v1/tasks?taskarn=arn:aws:ecs:us-east-1:123456789012:task/c/2")
        self.assertEqual(resp.json["Family"], "db")
        self.assertEqual(self.raw("GET", "/v1/tasks?dockerid=" + "d" * 64).status, 404)

    def test_request_log_includes_unsigned_and_rejected(self):
        self.raw("GET", "/latest/meta-data/instance-id")
        self.logs("DescribeLogGroups", {}, secret="bad")
        records = self.aws.requests()
        self.assertEqual([(r["service"], r["status"]) for r in records],
                         [("imds", 401), ("logs", 403)])
        self.assertEqual(records[1]["json"], {})
        self.assertEqual(records[1]["error_code"], "InvalidSignatureException")
        self.assertFalse(any(r["path"].startswith("/_fake/") for r in records))


@unittest.skipUnless(shutil.which("openssl"), "openssl CLI not available")
class TLSTests(FakeAWSTestCase):
    """The same fake over HTTPS (self-signed certificate made with the openssl CLI)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fake_aws_tls.")
        cert, key = os.path.join(cls.tmp, "cert.pem"), os.path.join(cls.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        cls.fake_kwargs = {"tls_cert": cert, "tls_key": key}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def connection(self):
        import ssl
        context = ssl.create_default_context(cafile=self.fake_kwargs["tls_cert"])
        return http.client.HTTPSConnection("127.0.0.1", self.aws.port, timeout=15,
                                           context=context)

    def test_signed_request_over_tls(self):
        self.assertTrue(self.aws.url.startswith("https://"))
        self.assertOK(self.logs("DescribeLogGroups", {}))

    def test_plain_http_client_gets_nothing_useful(self):
        with socket.create_connection(("127.0.0.1", self.aws.port), timeout=5) as sock:
            sock.sendall(b"GET /v1/metadata HTTP/1.1\r\nHost: x\r\n\r\n")
            data = sock.recv(100)
        self.assertFalse(data.startswith(b"HTTP/1.1 200"))


try:
    import botocore.session
    from botocore.config import Config as BotoConfig
    from botocore.exceptions import ClientError
    from botocore.utils import ContainerMetadataFetcher, InstanceMetadataFetcher
except ImportError:
    botocore = None


@unittest.skipIf(botocore is None, "botocore not installed")
class BotocoreInteropTests(FakeAWSTestCase):
    """A real AWS SDK (when installed) is accepted end to end: an independent check that
    the fake is not strict in ways AWS is not."""

    def client(self, service, **kw):
        session = botocore.session.get_session()
        session.set_credentials(AKID, SECRET)
        config = BotoConfig(retries={"total_max_attempts": 1})
        return session.create_client(service, region_name="us-east-1",
                                     endpoint_url=self.aws.url, config=config, **kw)

    def test_logs(self):
        logs = self.client("logs")
        logs.create_log_group(logGroupName="/sdk/g")
        logs.create_log_stream(logGroupName="/sdk/g", logStreamName="s")
        logs.put_log_events(logGroupName="/sdk/g", logStreamName="s",
                            logEvents=[{"timestamp": self.now_ms(), "message": "hé"}])
        events = logs.get_log_events(logGroupName="/sdk/g", logStreamName="s",
                                     startFromHead=True)["events"]
        self.assertEqual([e["message"] for e in events], ["hé"])
        with self.assertRaises(ClientError) as ctx:
            logs.put_retention_policy(logGroupName="/sdk/g", retentionInDays=2)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidParameterException")

    def test_cloudwatch_json_gzip_and_query(self):
        cw = self.client("cloudwatch")
        datum = {"MetricName": "m", "Value": 2.0, "Unit": "Count",
                 "Dimensions": [{"Name": "a", "Value": "b"}]}
        cw.put_metric_data(Namespace="NS", MetricData=[datum] * 400)
        self.assertTrue(self.aws.requests()[-1]["gzip"])
        with self.assertRaises(ClientError) as ctx:
            cw.put_metric_data(Namespace="AWS/EC2", MetricData=[datum])
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidParameterValue")
        points = cw.get_metric_statistics(
            Namespace="NS", MetricName="m", Dimensions=[{"Name": "a", "Value": "b"}],
            StartTime=time.time() - 600, EndTime=time.time() + 600, Period=60,
            Statistics=["Sum"])["Datapoints"]
        self.assertEqual(sum(p["Sum"] for p in points), 800.0)

    def test_sts_and_credential_fetchers(self):
        creds = self.client("sts").assume_role(
            RoleArn="arn:aws:iam::123456789012:role/agent",
            RoleSessionName="sdk")["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"))
        imds = InstanceMetadataFetcher(timeout=2, num_attempts=1, base_url=self.aws.url + "/",
                                       env={})  # ignore AWS_EC2_METADATA_DISABLED
        self.assertEqual(imds.retrieve_iam_role_credentials()["role_name"], "fake-role")
        self.aws.ecs_credentials(path="/creds", token="tok")
        got = ContainerMetadataFetcher().retrieve_full_uri(self.aws.url + "/creds",
                                                           headers={"Authorization": "tok"})
        self.assertOK(self.logs("DescribeLogGroups", {}, akid=got["AccessKeyId"],
                                secret=got["SecretAccessKey"], token=got["Token"]))


def curl_has_sigv4():
    if not shutil.which("curl"):
        return False
    return "--aws-sigv4" in subprocess.run(["curl", "--help", "all"], capture_output=True,
                                           text=True).stdout


@unittest.skipUnless(curl_has_sigv4(), "curl with --aws-sigv4 not available")
class CurlInteropTests(FakeAWSTestCase):
    """libcurl's own SigV4 signer (what a C agent may use) is accepted."""

    def curl(self, secret):
        out = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
             "--aws-sigv4", "aws:amz:us-east-1:logs", "--user", "%s:%s" % (AKID, secret),
             "-H", "Content-Type: " + LOGS_CT,
             "-H", "X-Amz-Target: Logs_20140328.DescribeLogGroups",
             "--data", "{}", self.aws.url + "/"], capture_output=True, text=True, timeout=15)
        return out.stdout

    def test_curl_sigv4(self):
        self.assertEqual(self.curl(SECRET), "200")
        self.assertEqual(self.curl("wrong"), "403")


class ProcessTests(unittest.TestCase):
    """Start / stop behaviour of the controller."""

    def test_stop_terminates_process_and_bad_args_raise(self):
        aws = FakeAWS()
        aws.start()
        proc = aws.proc
        aws.stop()
        self.assertEqual(proc.returncode, 0)
        bad = FakeAWS(tls_cert="/nonexistent.pem", tls_key="/nonexistent.pem")
        with self.assertRaises(RuntimeError):
            bad.start()
        self.assertIsNone(bad.proc)


if __name__ == "__main__":
    unittest.main()
