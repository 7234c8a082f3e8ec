#!/usr/bin/env python3
"""Strict fake AWS endpoint for the collector's tests (Python 3 standard library only).

One HTTP(S) port serves, all on 127.0.0.1:
  * SigV4-signed APIs: CloudWatch Logs (JSON 1.1), CloudWatch (JSON 1.0 and query),
    STS AssumeRole / GetCallerIdentity (query);
  * unsigned credential sources: IMDSv2, ECS container credentials, ECS agent
    introspection (/v1/metadata, /v1/tasks);
  * a control API under /_fake/ (credentials, fault injection, request log, state).

Limits and error codes follow /work/shared/spec/cloudwatch.md; see README.md.
"""

import argparse
import base64
import datetime
import gzip
import json
import math
import os
import re
import secrets
import signal
import socket
import ssl
import string
import struct
import sys
import threading
import time
import traceback
import unicodedata
import urllib.parse
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape as xml_escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sigv4_verify  # noqa: E402  (sibling module, works when run as a script)

LOGS_TARGET = "Logs_20140328"
CW_TARGET = "GraniteServiceVersion20100801"
CW_VERSION = "2010-08-01"
STS_VERSION = "2011-06-15"
XMLNS = {"monitoring": "http://monitoring.amazonaws.com/doc/2010-08-01/",
         "sts": "https://sts.amazonaws.com/doc/2011-06-15/"}
ACCOUNT_ID = "123456789012"
MAX_REQUEST_BYTES = 32 * 1024 * 1024

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
LOGS_BATCH_LIMIT = 1048576
LOGS_EVENT_OVERHEAD = 26
LOGS_MAX_EVENTS = 10000
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                  1827, 2192, 2557, 2922, 3288, 3653)
LOG_GROUP_CHARS = set(string.ascii_letters + string.digits + "._-/#")
CW_UNITS = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
    "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
    "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
    "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
    "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None")
CW_MAX_DATUMS = 1000
CW_MAX_BODY = 1048576
CW_MAX_DIMENSIONS = 30
CW_MAX_VALUES = 150
CW_VALUE_LIMIT = 2.0 ** 360
CW_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
FAULT_KINDS = ("throttle", "status", "latency", "reset", "expire", "close")


# --------------------------------------------------------------------------- errors

class ApiError(Exception):
    """An AWS error answer. `code` is the JSON __type; `query_code` the awsQuery code."""

    def __init__(self, status, code, message, query_code=None, receiver=False):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.query_code = query_code or (code[:-len("Exception")]
                                         if code.endswith("Exception") else code)
        self.receiver = receiver


def logs_invalid(message):
    return ApiError(400, "InvalidParameterException", message)


def logs_constraint(where, value, constraint):
    """Logs model-validation failure, worded like the service."""
    if value is None:
        shown = "null"
    elif isinstance(value, (list, dict)):
        shown = "'[...]'"
    else:
        shown = "'%s'" % value
    return logs_invalid("1 validation error detected: Value %s at '%s' failed to satisfy "
                        "constraint: %s" % (shown, where, constraint))


def not_found(message):
    return ApiError(400, "ResourceNotFoundException", message)


def serialization(message):
    return ApiError(400, "SerializationException", message, "InvalidParameterValue")


def cw_invalid(name, value):
    return ApiError(400, "InvalidParameterValueException",
                    "The value %s for parameter %s is invalid." % (value, name))


def cw_invalid_msg(message):
    return ApiError(400, "InvalidParameterValueException", message)


def cw_missing(name):
    return ApiError(400, "MissingRequiredParameterException",
                    "The parameter %s is required." % name, "MissingParameter")


def cw_combination(message):
    return ApiError(400, "InvalidParameterCombinationException", message)


def sts_validation(message):
    return ApiError(400, "ValidationError", message)


AUTH_ERRORS = {
    "missing": (403, "MissingAuthenticationTokenException", "MissingAuthenticationToken"),
    "incomplete": (400, "IncompleteSignatureException", "IncompleteSignature"),
    "unknown_key": (403, "UnrecognizedClientException", "InvalidClientTokenId"),
    "bad_token": (403, "UnrecognizedClientException", "InvalidClientTokenId"),
    "signature": (403, "InvalidSignatureException", "SignatureDoesNotMatch"),
    "expired_token": (400, "ExpiredTokenException", "ExpiredToken"),
}


def auth_error(err):
    status, code, query_code = AUTH_ERRORS[err.kind]
    return ApiError(status, code, err.message, query_code)


# --------------------------------------------------------------------------- helpers

class Stamp(float):
    """Epoch seconds: a number in JSON, ISO-8601 in XML."""


def iso8601(seconds):
    """'YYYY-MM-DDTHH:MM:SSZ' (UTC) for epoch seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def parse_iso8601(text):
    """Epoch seconds for an ISO-8601 timestamp (naive means UTC); None if malformed."""
    try:
        stamp = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp()


def now_ms():
    return int(time.time() * 1000)


def random_id(prefix, length):
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length - len(prefix)))


def encode_token(payload):
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_token(token, error):
    """Decode a paging token made by encode_token; raise `error` if it is not one."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        if isinstance(payload, dict):
            return payload
    except (ValueError, TypeError):
        pass
    raise error


def xml_value(tag, value):
    """Render a JSON-shaped value as awsQuery XML (lists as <member>)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        inner = "".join(xml_value(k, v) for k, v in value.items())
    elif isinstance(value, list):
        inner = "".join(xml_value("member", v) for v in value)
    elif isinstance(value, bool):
        inner = "true" if value else "false"
    elif isinstance(value, Stamp):
        inner = iso8601(value)
    else:
        inner = xml_escape(str(value))
    return "<%s>%s</%s>" % (tag, inner, tag)


def parse_query_form(pairs):
    """Nest awsQuery keys: 'A.member.2.B=x' -> {'A': [.., {'B': 'x'}]} (1-based lists)."""
    root = {}
    for key, value in pairs:
        node = root
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise cw_invalid_msg("Malformed query parameter %s" % key)
        if isinstance(node.get(parts[-1]), dict):
            raise cw_invalid_msg("Malformed query parameter %s" % key)
        node[parts[-1]] = value
    return _lists_from_members(root, "")


def _lists_from_members(node, where):
    """Replace {"member": {"1": a, "2": b}} by [a, b], recursively."""
    if not isinstance(node, dict):
        return node
    if "member" in node:
        members = node["member"]
        if len(node) != 1 or not isinstance(members, dict) or \
                not all(k.isdigit() and int(k) > 0 for k in members):
            raise cw_invalid_msg("Malformed list parameter %smember" % where)
        indexes = sorted(members, key=int)
        if [int(k) for k in indexes] != list(range(1, len(indexes) + 1)):
            raise cw_invalid_msg("List %smember is not numbered 1..N" % where)
        return [_lists_from_members(members[k], "%smember.%s." % (where, k))
                for k in indexes]
    return {k: _lists_from_members(v, "%s%s." % (where, k)) for k, v in node.items()}


def check_members(params, allowed, where=""):
    """Reject members the API model does not define (catches client typos)."""
    for name in params:
        if name not in allowed:
            raise serialization("Unknown member '%s%s' for this operation" % (where, name))


def get_typed(params, name, kinds, where=None):
    """params[name] if absent or of one of `kinds` (bool is never an int)."""
    value = params.get(name)
    if value is None:
        return None
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        raise serialization("Unexpected value type for '%s'" % (where or name))
    return value


# --------------------------------------------------------------------------- state

class Credential:
    """An access key the signature checker accepts."""

    def __init__(self, secret, token=None, expires_at=None):
        self.secret = secret
        self.token = token
        self.expires_at = expires_at


def issue_credentials(state, lifetime):
    """Create, register and return (akid, Credential) for temporary credentials."""
    akid = random_id("ASIA", 20)
    cred = Credential(base64.b64encode(secrets.token_bytes(30)).decode(),
                      base64.b64encode(secrets.token_bytes(96)).decode(),
                      time.time() + lifetime)
    state.credentials[akid] = cred
    return akid, cred


class State:
    """Everything the fake remembers; guarded by `lock`."""

    def __init__(self, region, sts_duration):
        self.lock = threading.RLock()
        self.region = region
        self.sts_duration = sts_duration
        self.credentials = {}
        self.reset()

    def reset(self):
        """Clear resources, faults, request log and service config (credentials stay)."""
        self.log_groups = {}
        self.metrics = []
        self.dashboards = {}
        self.faults = []
        self.requests = []
        self.seq = 0
        self.imds = {"role": "fake-role", "region": self.region,
                     "instance_id": "i-0fa4e0c0ffee00001", "local_ipv4": "10.0.0.42",
                     "hostname": "ip-10-0-0-42.ec2.internal", "allow_v1": False,
                     "credentials_expire_in": 21600}
        self.imds_tokens = {}
        self.imds_creds = None
        self.ecs = {"path": "/v2/credentials/test-role", "token": None, "expire_in": 21600}
        self.ecs_creds = None
        self.introspection = {
            "metadata": {"Cluster": "fake-cluster",
                         "ContainerInstanceArn": "arn:aws:ecs:%s:%s:container-instance/"
                         "fake-cluster/0123456789abcdef0123456789abcdef"
                         % (self.region, ACCOUNT_ID),
                         "Version": "Amazon ECS Agent - v1.89.0 (fake)"},
            "tasks": {"Tasks": []}}

    def lookup_credential(self, akid):
        return self.credentials.get(akid)

    def new_record(self, handler):
        """Append and return a request-log entry for a non-control request."""
        with self.lock:
            self.seq += 1
            record = {"seq": self.seq, "time": time.time(), "method": handler.command,
                      "path": handler.path, "service": None, "operation": None,
                      "status": None, "error_code": None, "access_key_id": None,
                      "headers": lowercase_headers(handler.headers),
                      "body_bytes": 0, "gzip": False, "json": None, "form": None,
                      "fault": None}
            self.requests.append(record)
            return record

    def take_fault(self, names):
        """Consume one unit of the first queued fault whose target is in `names`."""
        with self.lock:
            for fault in self.faults:
                if fault["target"] is None or fault["target"] in names:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return dict(fault)
        return None


def lowercase_headers(headers):
    """Headers as {lower-case name: value}, repeated names joined by ","."""
    result = {}
    for name, value in headers.items():
        name = name.lower()
        result[name] = result[name] + "," + value if name in result else value
    return result


# --------------------------------------------------------------------------- CloudWatch Logs

def logs_name(params, member, kind):
    """Validate a log group (kind 'group') or stream ('stream') name member."""
    value = get_typed(params, member, str)
    if value is None:
        raise logs_constraint(member, None, "Member must not be null")
    if len(value) < 1:
        raise logs_constraint(member, value, "Member must have length greater than or equal to 1")
    if len(value) > 512:
        raise logs_constraint(member, value, "Member must have length less than or equal to 512")
    if kind == "group" and not set(value) <= LOG_GROUP_CHARS:
        raise logs_constraint(member, value, "Member must satisfy regular expression "
                              "pattern: [\\.\\-_/#A-Za-z0-9]+")
    if kind == "stream" and (":" in value or "*" in value):
        raise logs_constraint(member, value,
                              "Member must satisfy regular expression pattern: [^:*]*")
    return value


def group_from_identifier(state, params):
    """Resolve exactly one of logGroupName / logGroupIdentifier (name or ARN)."""
    has_name = params.get("logGroupName") is not None
    ident = get_typed(params, "logGroupIdentifier", str)
    if has_name == (ident is not None):
        raise logs_invalid("LogGroup name and LogGroup ARN are mutually exclusive "
                           "parameters, exactly one must be specified.")
    if has_name:
        name = logs_name(params, "logGroupName", "group")
    else:
        prefix = "arn:aws:logs:%s:%s:log-group:" % (state.region, ACCOUNT_ID)
        name = ident[len(prefix):] if ident.startswith(prefix) else ident
        name = name[:-2] if name.endswith(":*") else name
    return existing_group(state, name)


def existing_group(state, name):
    group = state.log_groups.get(name)
    if group is None:
        raise not_found("The specified log group does not exist.")
    return group


def existing_stream(group, name):
    stream = group["streams"].get(name)
    if stream is None:
        raise not_found("The specified log stream does not exist.")
    return stream


def tag_chars_ok(text):
    return all(c in "_.:/=+-@" or unicodedata.category(c)[0] in "LZN" for c in text)


def validate_tags(tags):
    """CreateLogGroup tags: 1-50 entries, key 1-128 / value 0-256 of the allowed chars."""
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise serialization("Unexpected value type for 'tags'")
    if not 1 <= len(tags) <= 50:
        raise logs_constraint("tags", tags, "Member must have length between 1 and 50")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or not tag_chars_ok(key):
            raise logs_constraint("tags", tags, "Map keys must satisfy constraint: [Member "
                                  "must satisfy regular expression pattern: "
                                  "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$]")
        if key.lower().startswith("aws:"):
            raise logs_invalid("Tag keys beginning with 'aws:' are reserved.")
        if len(value) > 256 or not tag_chars_ok(value):
            raise logs_constraint("tags", tags, "Map value must satisfy constraint: [Member "
                                  "must have length less than or equal to 256]")


def op_create_log_group(state, p):
    """CreateLogGroup: name rules, kmsKeyId, tags, logGroupClass; duplicate -> exists."""
    check_members(p, {"logGroupName", "kmsKeyId", "tags", "logGroupClass",
                      "deletionProtectionEnabled"})
    name = logs_name(p, "logGroupName", "group")
    if name.startswith("aws/"):
        raise logs_invalid("Log group names cannot start with 'aws/'.")
    kms = get_typed(p, "kmsKeyId", str)
    if kms is not None and len(kms) > 256:
        raise logs_constraint("kmsKeyId", kms, "Member must have length less than or equal to 256")
    if p.get("tags") is not None:
        validate_tags(p["tags"])
    klass = get_typed(p, "logGroupClass", str) or "STANDARD"
    if klass not in ("STANDARD", "INFREQUENT_ACCESS", "DELIVERY"):
        raise logs_constraint("logGroupClass", klass, "Member must satisfy enum value set: "
                              "[STANDARD, INFREQUENT_ACCESS, DELIVERY]")
    protection = get_typed(p, "deletionProtectionEnabled", bool) or False
    if name in state.log_groups:
        raise ApiError(400, "ResourceAlreadyExistsException",
                       "The specified log group already exists")
    state.log_groups[name] = {"creationTime": now_ms(), "retentionInDays": None,
                              "logGroupClass": klass, "kmsKeyId": kms,
                              "tags": dict(p.get("tags") or {}),
                              "deletionProtectionEnabled": protection, "streams": {}}
    return None


def op_create_log_stream(state, p):
    """CreateLogStream: group must exist, stream name unique."""
    check_members(p, {"logGroupName", "logStreamName"})
    group_name = logs_name(p, "logGroupName", "group")
    stream_name = logs_name(p, "logStreamName", "stream")
    group = existing_group(state, group_name)
    if stream_name in group["streams"]:
        raise ApiError(400, "ResourceAlreadyExistsException",
                       "The specified log stream already exists")
    group["streams"][stream_name] = {"creationTime": now_ms(), "events": [],
                                     "firstEventTimestamp": None,
                                     "lastEventTimestamp": None, "lastIngestionTime": None}
    return None


def op_delete_log_group(state, p):
    """DeleteLogGroup."""
    check_members(p, {"logGroupName"})
    name = logs_name(p, "logGroupName", "group")
    existing_group(state, name)
    del state.log_groups[name]
    return None


def op_delete_log_stream(state, p):
    """DeleteLogStream."""
    check_members(p, {"logGroupName", "logStreamName"})
    group = existing_group(state, logs_name(p, "logGroupName", "group"))
    name = logs_name(p, "logStreamName", "stream")
    existing_stream(group, name)
    del group["streams"][name]
    return None


def op_put_retention_policy(state, p):
    """PutRetentionPolicy: only the documented day values."""
    check_members(p, {"logGroupName", "retentionInDays"})
    name = logs_name(p, "logGroupName", "group")
    days = get_typed(p, "retentionInDays", int)
    if days is None:
        raise logs_constraint("retentionInDays", None, "Member must not be null")
    if days not in RETENTION_DAYS:
        raise logs_constraint("retentionInDays", days, "Member must satisfy enum value set: "
                              "[%s]" % ", ".join(str(d) for d in RETENTION_DAYS))
    existing_group(state, name)["retentionInDays"] = days
    return None


def op_delete_retention_policy(state, p):
    """DeleteRetentionPolicy."""
    check_members(p, {"logGroupName"})
    existing_group(state, logs_name(p, "logGroupName", "group"))["retentionInDays"] = None
    return None


def validate_log_events(events):
    """Model checks of PutLogEvents.logEvents (count, member types, message length)."""
    if events is None:
        raise logs_constraint("logEvents", None, "Member must not be null")
    if not isinstance(events, list):
        raise serialization("Unexpected value type for 'logEvents'")
    if len(events) < 1:
        raise logs_constraint("logEvents", events,
                              "Member must have length greater than or equal to 1")
    if len(events) > LOGS_MAX_EVENTS:
        raise logs_constraint("logEvents", events,
                              "Member must have length less than or equal to 10000")
    for i, event in enumerate(events):
        where = "logEvents.%d.member" % (i + 1)
        if not isinstance(event, dict):
            raise serialization("Unexpected value type for '%s'" % where)
        check_members(event, {"timestamp", "message"}, where + ".")
        stamp = get_typed(event, "timestamp", int, where + ".timestamp")
        message = get_typed(event, "message", str, where + ".message")
        if stamp is None:
            raise logs_constraint(where + ".timestamp", None, "Member must not be null")
        if stamp < 0:
            raise logs_constraint(where + ".timestamp", stamp,
                                  "Member must have value greater than or equal to 0")
        if message is None:
            raise logs_constraint(where + ".message", None, "Member must not be null")
        if message == "":
            raise logs_constraint(where + ".message", message,
                                  "Member must have length greater than or equal to 1")


def utf8_len(text):
    """Bytes AWS counts for a message (a lone surrogate counts as U+FFFD: 3 bytes)."""
    return len(text.encode("utf-8", "surrogatepass"))


def check_batch_size(events):
    """PutLogEvents size rules: each event and the batch <= 1,048,576 (UTF-8 + 26)."""
    total = 0
    for event in events:
        size = utf8_len(event["message"]) + LOGS_EVENT_OVERHEAD
        if size > LOGS_BATCH_LIMIT:
            raise logs_invalid("Log event too large: %d bytes exceeds limit of %d"
                               % (size, LOGS_BATCH_LIMIT))
        total += size
    if total > LOGS_BATCH_LIMIT:
        raise logs_invalid("Upload too large: %d bytes exceeds limit of %d"
                           % (total, LOGS_BATCH_LIMIT))


def split_rejected(events, retention_days, now):
    """Return (start, end, info): events[start:end] are acceptable; info as AWS reports."""
    stamps = [e["timestamp"] for e in events]
    too_old_end = sum(1 for s in stamps if s < now - 14 * DAY_MS)
    expired_end = 0
    if retention_days is not None:
        expired_end = sum(1 for s in stamps if s < now - retention_days * DAY_MS)
    too_new_start = next((i for i, s in enumerate(stamps) if s > now + 2 * HOUR_MS),
                         len(stamps))
    info = {}
    if too_new_start < len(stamps):
        info["tooNewLogEventStartIndex"] = too_new_start
    if too_old_end:
        info["tooOldLogEventEndIndex"] = too_old_end
    if expired_end:
        info["expiredLogEventEndIndex"] = expired_end
    start = max(too_old_end, expired_end)
    return start, max(start, too_new_start), info


def op_put_log_events(state, p):
    """PutLogEvents: batch limits, ordering, 24 h span, per-event rejection, storage."""
    check_members(p, {"logGroupName", "logStreamName", "logEvents", "sequenceToken",
                      "entity"})
    group_name = logs_name(p, "logGroupName", "group")
    stream_name = logs_name(p, "logStreamName", "stream")
    events = p.get("logEvents")
    validate_log_events(events)
    group = existing_group(state, group_name)
    stream = existing_stream(group, stream_name)
    check_batch_size(events)
    for prev, cur in zip(events, events[1:]):
        if cur["timestamp"] < prev["timestamp"]:
            raise logs_invalid("Log events in a single PutLogEvents request must be in "
                               "chronological order.")
    now = now_ms()
    start, end, info = split_rejected(events, group["retentionInDays"], now)
    valid = events[start:end]
    if valid and valid[-1]["timestamp"] - valid[0]["timestamp"] > DAY_MS:
        raise logs_invalid("The batch of log events in a single PutLogEvents request "
                           "cannot span more than 24 hours.")
    store_events(stream, valid, now)
    result = {"nextSequenceToken": "%056d" % (len(stream["events"]) + 1)}
    if info:
        result["rejectedLogEventsInfo"] = info
    return result


def store_events(stream, events, ingestion):
    """Append accepted events to a stream and update its timestamps."""
    for event in events:
        stream["events"].append({"timestamp": event["timestamp"],
                                 "message": event["message"], "ingestionTime": ingestion})
    if events:
        first = min(e["timestamp"] for e in events)
        last = max(e["timestamp"] for e in events)
        old_first = stream["firstEventTimestamp"]
        stream["firstEventTimestamp"] = first if old_first is None else min(old_first, first)
        stream["lastEventTimestamp"] = max(stream["lastEventTimestamp"] or 0, last)
        stream["lastIngestionTime"] = ingestion


def page_limit(p, maximum, default):
    """The "limit" member, checked against 1..maximum."""
    limit = get_typed(p, "limit", int)
    if limit is None:
        return default
    if not 1 <= limit <= maximum:
        raise logs_constraint("limit", limit, "Member must have value between 1 and %d"
                              % maximum)
    return limit


def page_offset(p, kind):
    """Offset encoded in a "nextToken" made by page(); InvalidParameter if forged."""
    token = get_typed(p, "nextToken", str)
    if token is None:
        return 0
    payload = decode_token(token, logs_invalid("The specified nextToken is invalid."))
    if payload.get("k") != kind or not isinstance(payload.get("o"), int):
        raise logs_invalid("The specified nextToken is invalid.")
    return payload["o"]


def page(items, p, kind, maximum):
    """Slice `items` per limit/nextToken; returns (page, nextToken or None)."""
    limit = page_limit(p, maximum, maximum)
    offset = page_offset(p, kind)
    chunk = items[offset:offset + limit]
    more = offset + limit < len(items)
    return chunk, encode_token({"k": kind, "o": offset + limit}) if more else None


def group_arn(state, name):
    return "arn:aws:logs:%s:%s:log-group:%s" % (state.region, ACCOUNT_ID, name)


def describe_stream(state, group_name, name, stream):
    """DescribeLogStreams entry for one stream."""
    out = {"logStreamName": name, "creationTime": stream["creationTime"],
           "arn": "%s:log-stream:%s" % (group_arn(state, group_name), name),
           "storedBytes": 0}
    for key in ("firstEventTimestamp", "lastEventTimestamp", "lastIngestionTime"):
        if stream[key] is not None:
            out[key] = stream[key]
    if stream["events"]:
        out["uploadSequenceToken"] = "%056d" % (len(stream["events"]) + 1)
    return out


def op_describe_log_streams(state, p):
    """DescribeLogStreams: prefix, orderBy/descending, limit 1-50, nextToken paging."""
    check_members(p, {"logGroupName", "logGroupIdentifier", "logStreamNamePrefix",
                      "orderBy", "descending", "nextToken", "limit"})
    group = group_from_identifier(state, p)
    group_name = next(n for n, g in state.log_groups.items() if g is group)
    prefix = get_typed(p, "logStreamNamePrefix", str)
    order = get_typed(p, "orderBy", str) or "LogStreamName"
    if order not in ("LogStreamName", "LastEventTime"):
        raise logs_constraint("orderBy", order, "Member must satisfy enum value set: "
                              "[LogStreamName, LastEventTime]")
    if order == "LastEventTime" and prefix is not None:
        raise logs_invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
    names = [n for n in group["streams"] if prefix is None or n.startswith(prefix)]
    if order == "LogStreamName":
        names.sort()
    else:
        names.sort(key=lambda n: group["streams"][n]["lastEventTimestamp"] or 0)
    if get_typed(p, "descending", bool):
        names.reverse()
    chunk, token = page(names, p, "streams", 50)
    result = {"logStreams": [describe_stream(state, group_name, n, group["streams"][n])
                             for n in chunk]}
    if token:
        result["nextToken"] = token
    return result


def op_describe_log_groups(state, p):
    """DescribeLogGroups: prefix, limit 1-50, nextToken paging, retentionInDays."""
    check_members(p, {"accountIdentifiers", "logGroupNamePrefix", "logGroupNamePattern",
                      "nextToken", "limit", "includeLinkedAccounts", "logGroupClass",
                      "logGroupIdentifiers"})
    prefix = get_typed(p, "logGroupNamePrefix", str)
    pattern = get_typed(p, "logGroupNamePattern", str)
    if prefix is not None and pattern is not None:
        raise logs_invalid("LogGroup name prefix and LogGroup name pattern are mutually "
                           "exclusive parameters.")
    names = sorted(n for n in state.log_groups
                   if (prefix is None or n.startswith(prefix))
                   and (pattern is None or pattern.lower() in n.lower()))
    chunk, token = page(names, p, "groups", 50)
    result = {"logGroups": [describe_group(state, n) for n in chunk]}
    if token:
        result["nextToken"] = token
    return result


def describe_group(state, name):
    """DescribeLogGroups entry for one group."""
    group = state.log_groups[name]
    out = {"logGroupName": name, "creationTime": group["creationTime"],
           "metricFilterCount": 0, "arn": group_arn(state, name) + ":*", "storedBytes": 0,
           "logGroupClass": group["logGroupClass"], "logGroupArn": group_arn(state, name)}
    if group["retentionInDays"] is not None:
        out["retentionInDays"] = group["retentionInDays"]
    if group["kmsKeyId"]:
        out["kmsKeyId"] = group["kmsKeyId"]
    return out


def parse_event_token(token, size):
    """'f/N' or 'b/N' (0 <= N <= size) -> (direction, N)."""
    if not isinstance(token, str) or token[:2] not in ("f/", "b/") or \
            not token[2:].isdigit() or int(token[2:]) > size:
        raise logs_invalid("The specified nextToken is invalid.")
    return token[0], int(token[2:])


def take_forward(events, start, limit):
    """End index of a forward page from `start` (limit events, <= 1 MB)."""
    end, used = start, 0
    while end < len(events) and end - start < limit:
        used += utf8_len(events[end]["message"]) + LOGS_EVENT_OVERHEAD
        if used > LOGS_BATCH_LIMIT and end > start:
            break
        end += 1
    return end


def take_backward(events, end, limit):
    """Start index of a backward page ending at `end` (limit events, <= 1 MB)."""
    start, used = end, 0
    while start > 0 and end - start < limit:
        used += utf8_len(events[start - 1]["message"]) + LOGS_EVENT_OVERHEAD
        if used > LOGS_BATCH_LIMIT and start < end:
            break
        start -= 1
    return start


def op_get_log_events(state, p):
    """GetLogEvents: time window, startFromHead, limit, f/ b/ tokens, 1 MB pages."""
    check_members(p, {"logGroupName", "logGroupIdentifier", "logStreamName", "startTime",
                      "endTime", "nextToken", "limit", "startFromHead", "unmask"})
    stream_name = logs_name(p, "logStreamName", "stream")
    stream = existing_stream(group_from_identifier(state, p), stream_name)
    start_time = get_typed(p, "startTime", int)
    end_time = get_typed(p, "endTime", int)
    limit = page_limit(p, LOGS_MAX_EVENTS, LOGS_MAX_EVENTS)
    events = sorted((e for e in stream["events"]
                     if (start_time is None or e["timestamp"] >= start_time)
                     and (end_time is None or e["timestamp"] < end_time)),
                    key=lambda e: e["timestamp"])
    token = get_typed(p, "nextToken", str)
    if token is not None:
        direction, pos = parse_event_token(token, len(events))
    else:
        direction, pos = ("f", 0) if get_typed(p, "startFromHead", bool) else ("b", len(events))
    if direction == "f":
        lo, hi = pos, take_forward(events, pos, limit)
    else:
        lo, hi = take_backward(events, pos, limit), pos
    return {"events": [dict(e) for e in events[lo:hi]],
            "nextForwardToken": "f/%d" % hi, "nextBackwardToken": "b/%d" % lo}


LOGS_OPS = {
    "CreateLogGroup": op_create_log_group,
    "CreateLogStream": op_create_log_stream,
    "DeleteLogGroup": op_delete_log_group,
    "DeleteLogStream": op_delete_log_stream,
    "PutRetentionPolicy": op_put_retention_policy,
    "DeleteRetentionPolicy": op_delete_retention_policy,
    "PutLogEvents": op_put_log_events,
    "DescribeLogStreams": op_describe_log_streams,
    "DescribeLogGroups": op_describe_log_groups,
    "GetLogEvents": op_get_log_events,
}


# --------------------------------------------------------------------------- CloudWatch metrics
#
# Both protocols are first converted to one typed shape (JSON member names, floats,
# epoch-second timestamps); validation and storage are shared.

DATUM_MEMBERS = {"MetricName", "Dimensions", "Timestamp", "Value", "StatisticValues",
                 "Values", "Counts", "Unit", "StorageResolution"}
STAT_MEMBERS = ("SampleCount", "Sum", "Minimum", "Maximum")


def query_number(value, name):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise cw_invalid(name, value) from None


def query_int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise cw_invalid(name, value) from None


def query_timestamp(value, name):
    stamp = parse_iso8601(value) if isinstance(value, str) else None
    if stamp is None:
        raise cw_invalid(name, value)
    return stamp


def query_list(value, name):
    if not isinstance(value, list):
        raise cw_invalid_msg("Parameter %s must be a list (%s.member.N)" % (name, name))
    return value


def query_struct(value, name):
    if not isinstance(value, dict):
        raise cw_invalid_msg("Parameter %s must be a structure" % name)
    return value


def datum_from_query(raw, name):
    """Convert one query-form MetricData member to the typed shape."""
    raw = query_struct(raw, name)
    out = dict(raw)
    if "Value" in raw:
        out["Value"] = query_number(raw["Value"], name + ".Value")
    for key in ("Values", "Counts"):
        if key in raw:
            items = query_list(raw[key], "%s.%s" % (name, key))
            out[key] = [query_number(v, "%s.%s.member.%d" % (name, key, i + 1))
                        for i, v in enumerate(items)]
    if "StatisticValues" in raw:
        stats = query_struct(raw["StatisticValues"], name + ".StatisticValues")
        out["StatisticValues"] = {k: query_number(v, "%s.StatisticValues.%s" % (name, k))
                                  for k, v in stats.items()}
    if "Timestamp" in raw:
        out["Timestamp"] = query_timestamp(raw["Timestamp"], name + ".Timestamp")
    if "StorageResolution" in raw:
        out["StorageResolution"] = query_int(raw["StorageResolution"],
                                             name + ".StorageResolution")
    if "Dimensions" in raw:
        out["Dimensions"] = query_list(raw["Dimensions"], name + ".Dimensions")
    return out


def put_metric_data_from_query(form):
    """Typed PutMetricData params from a nested query form."""
    params = {k: v for k, v in form.items() if k not in ("Action", "Version")}
    if "MetricData" in params:
        data = query_list(params["MetricData"], "MetricData")
        params["MetricData"] = [datum_from_query(d, "MetricData.member.%d" % (i + 1))
                                for i, d in enumerate(data)]
    return params


def check_json_number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise serialization("Unexpected value type for '%s'" % name)
    return float(value)


def datum_from_json(raw, name):
    """Type-check one JSON MetricData member and convert numbers to float."""
    if not isinstance(raw, dict):
        raise serialization("Unexpected value type for '%s'" % name)
    out = dict(raw)
    for key in ("MetricName", "Unit"):
        get_typed(raw, key, str, "%s.%s" % (name, key))
    if raw.get("Value") is not None:
        out["Value"] = check_json_number(raw["Value"], name + ".Value")
    if raw.get("Timestamp") is not None:
        out["Timestamp"] = check_json_number(raw["Timestamp"], name + ".Timestamp")
    get_typed(raw, "StorageResolution", int, name + ".StorageResolution")
    for key in ("Values", "Counts"):
        if raw.get(key) is not None:
            items = get_typed(raw, key, list, "%s.%s" % (name, key))
            out[key] = [check_json_number(v, "%s.%s" % (name, key)) for v in items]
    if raw.get("StatisticValues") is not None:
        stats = get_typed(raw, "StatisticValues", dict, name + ".StatisticValues")
        out["StatisticValues"] = {k: check_json_number(v, "%s.StatisticValues.%s" % (name, k))
                                  for k, v in stats.items() if v is not None}
    dims = get_typed(raw, "Dimensions", list, name + ".Dimensions")
    for dim in dims or []:
        if not isinstance(dim, dict):
            raise serialization("Unexpected value type for '%s.Dimensions'" % name)
        get_typed(dim, "Name", str)
        get_typed(dim, "Value", str)
    return {k: v for k, v in out.items() if v is not None}


def put_metric_data_from_json(body):
    """Typed PutMetricData params from a JSON 1.0 body."""
    params = dict(body)
    get_typed(params, "Namespace", str)
    data = get_typed(params, "MetricData", list)
    if data is not None:
        params["MetricData"] = [datum_from_json(d, "MetricData.member.%d" % (i + 1))
                                for i, d in enumerate(data)]
    return params


def printable_ascii(text):
    return all(32 <= ord(c) < 127 for c in text)


def validate_namespace(namespace):
    """Namespace: required, 1-255 printable ASCII, no leading ":" or "AWS/"."""
    if namespace is None:
        raise cw_missing("Namespace")
    if not 1 <= len(namespace) <= 255 or namespace.startswith(":") or \
            not printable_ascii(namespace) or namespace.startswith("AWS/"):
        raise cw_invalid("Namespace", namespace)


def validate_dimensions(dims, name):
    """<= 30 dimensions, each Name 1-255 / Value 1-1024 printable ASCII, unique."""
    if len(dims) > CW_MAX_DIMENSIONS:
        raise cw_invalid_msg("The collection %s.Dimensions must not have a size greater "
                             "than %d." % (name, CW_MAX_DIMENSIONS))
    seen = set()
    for j, dim in enumerate(dims):
        where = "%s.Dimensions.member.%d" % (name, j + 1)
        if not isinstance(dim, dict):
            raise cw_invalid_msg("Parameter %s must be a structure" % where)
        check_members(dim, {"Name", "Value"}, where + ".")
        dname, dvalue = dim.get("Name"), dim.get("Value")
        if dname is None:
            raise cw_missing(where + ".Name")
        if dvalue is None:
            raise cw_missing(where + ".Value")
        if not 1 <= len(dname) <= 255 or dname.startswith(":") or \
                not printable_ascii(dname) or not dname.strip():
            raise cw_invalid(where + ".Name", dname)
        if not 1 <= len(dvalue) <= 1024 or not printable_ascii(dvalue) or not dvalue.strip():
            raise cw_invalid(where + ".Value", dvalue)
        if dname in seen:
            raise cw_invalid_msg("The dimension name %s is duplicated in %s.Dimensions."
                                 % (dname, name))
        seen.add(dname)


def check_value(value, name):
    """Finite and within +-2^360."""
    if math.isnan(value) or math.isinf(value) or abs(value) > CW_VALUE_LIMIT:
        raise cw_invalid(name, value)


def validate_values(datum, name):
    """Exactly one of Value / Values(+Counts) / StatisticValues, each well-formed."""
    given = [k for k in ("Value", "Values", "StatisticValues") if k in datum]
    if len(given) > 1:
        raise cw_combination("The parameters %s.%s and %s.%s are mutually exclusive and you "
                             "have specified both." % (name, given[0], name, given[1]))
    if not given:
        raise cw_missing("%s.Value" % name)
    if "Counts" in datum and "Values" not in datum:
        raise cw_combination("The parameter %s.Counts requires %s.Values." % (name, name))
    if "Value" in datum:
        check_value(datum["Value"], name + ".Value")
    if "Values" in datum:
        validate_value_list(datum, name)
    if "StatisticValues" in datum:
        validate_statistic_values(datum["StatisticValues"], name + ".StatisticValues")


def validate_value_list(datum, name):
    """Values: 1-150 valid numbers; Counts: same length, non-negative."""
    values, counts = datum["Values"], datum.get("Counts")
    if not values:
        raise cw_missing("%s.Values.member.1" % name)
    if len(values) > CW_MAX_VALUES:
        raise cw_invalid_msg("The collection %s.Values must not have a size greater than "
                             "%d." % (name, CW_MAX_VALUES))
    for k, value in enumerate(values):
        check_value(value, "%s.Values.member.%d" % (name, k + 1))
    if counts is not None:
        if len(counts) != len(values):
            raise cw_invalid_msg("The parameters %s.Values and %s.Counts must be of the same "
                                 "size." % (name, name))
        for k, count in enumerate(counts):
            check_value(count, "%s.Counts.member.%d" % (name, k + 1))
            if count < 0:
                raise cw_invalid("%s.Counts.member.%d" % (name, k + 1), count)


def validate_statistic_values(stats, name):
    """All four members present and valid; SampleCount > 0."""
    check_members(stats, set(STAT_MEMBERS), name + ".")
    for key in STAT_MEMBERS:
        if key not in stats:
            raise cw_missing("%s.%s" % (name, key))
        check_value(stats[key], "%s.%s" % (name, key))
    if stats["SampleCount"] <= 0:
        raise cw_invalid(name + ".SampleCount", stats["SampleCount"])


def validate_datum(datum, name, now):
    """All §3.2 rules for one MetricData member; returns the stored form."""
    check_members(datum, DATUM_MEMBERS, name + ".")
    metric = datum.get("MetricName")
    if metric is None:
        raise cw_missing(name + ".MetricName")
    if not 1 <= len(metric) <= 255:
        raise cw_invalid(name + ".MetricName", metric)
    validate_dimensions(datum.get("Dimensions") or [], name)
    validate_values(datum, name)
    unit = datum.get("Unit", "None")
    if unit not in CW_UNITS:
        raise cw_invalid(name + ".Unit", unit)
    resolution = datum.get("StorageResolution", 60)
    if resolution not in (1, 60):
        raise cw_invalid(name + ".StorageResolution", resolution)
    stamp = datum.get("Timestamp", now)
    if stamp < now - 14 * 86400:
        raise cw_invalid_msg("The parameter %s.Timestamp must specify a time no more than "
                             "two weeks in the past." % name)
    if stamp > now + 2 * 3600:
        raise cw_invalid_msg("The parameter %s.Timestamp must specify a time no more than "
                             "two hours in the future." % name)
    stored = {k: datum[k] for k in ("Value", "Values", "Counts", "StatisticValues")
              if k in datum}
    stored.update({"MetricName": metric, "Timestamp": stamp, "Unit": unit,
                   "StorageResolution": resolution,
                   "Dimensions": [{"Name": d["Name"], "Value": d["Value"]}
                                  for d in datum.get("Dimensions") or []]})
    return stored


def op_put_metric_data(state, p, protocol):
    """PutMetricData (typed params): namespace, 1..1000 datums, per-datum rules."""
    check_members(p, {"Namespace", "MetricData", "EntityMetricData",
                      "StrictEntityValidation"})
    if p.get("EntityMetricData"):
        raise cw_invalid_msg("EntityMetricData is not supported by this fake endpoint.")
    validate_namespace(p.get("Namespace"))
    data = p.get("MetricData")
    if not data:
        raise cw_missing("MetricData")
    if len(data) > CW_MAX_DATUMS:
        raise cw_invalid_msg("The collection MetricData must not have a size greater than "
                             "%d." % CW_MAX_DATUMS)
    now = time.time()
    stored = [validate_datum(d, "MetricData.member.%d" % (i + 1), now)
              for i, d in enumerate(data)]
    for item in stored:
        item.update({"Namespace": p["Namespace"], "protocol": protocol})
        state.metrics.append(item)
    return None


def dimension_key(dims):
    return tuple(sorted((d["Name"], d["Value"]) for d in dims))


def typed_dimensions(raw, where):
    """Dimensions / DimensionFilters list from either protocol, type-checked."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(d, dict) for d in raw):
        raise serialization("Unexpected value type for '%s'" % where)
    for d in raw:
        check_members(d, {"Name", "Value"}, where + ".member.")
        if not isinstance(d.get("Name"), str):
            raise cw_missing(where + ".member.Name")
    return raw


def op_list_metrics(state, p):
    """ListMetrics: filter by Namespace / MetricName / Dimensions; 500 per page."""
    check_members(p, {"Namespace", "MetricName", "Dimensions", "NextToken", "RecentlyActive",
                      "IncludeLinkedAccounts", "OwningAccount"})
    filters = typed_dimensions(p.get("Dimensions"), "Dimensions")
    seen, metrics = set(), []
    for m in state.metrics:
        key = (m["Namespace"], m["MetricName"], dimension_key(m["Dimensions"]))
        if key in seen or not metric_matches(m, p, filters):
            continue
        seen.add(key)
        metrics.append({"Namespace": key[0], "MetricName": key[1],
                        "Dimensions": [{"Name": n, "Value": v} for n, v in key[2]]})
    offset = 0
    if p.get("NextToken") is not None:
        payload = decode_token(str(p["NextToken"]), cw_invalid("NextToken", p["NextToken"]))
        offset = payload.get("o", 0)
    result = {"Metrics": metrics[offset:offset + 500]}
    if offset + 500 < len(metrics):
        result["NextToken"] = encode_token({"o": offset + 500})
    return result


def metric_matches(m, p, filters):
    """ListMetrics filter test for one stored datum."""
    if p.get("Namespace") is not None and m["Namespace"] != p["Namespace"]:
        return False
    if p.get("MetricName") is not None and m["MetricName"] != p["MetricName"]:
        return False
    have = {d["Name"]: d["Value"] for d in m["Dimensions"]}
    return all(f["Name"] in have and f.get("Value") in (None, have[f["Name"]])
               for f in filters)


def datum_stats(m):
    """(count, sum, min, max) contributed by one stored datum."""
    if "Value" in m:
        v = m["Value"]
        return 1.0, v, v, v
    if "Values" in m:
        counts = m.get("Counts") or [1.0] * len(m["Values"])
        return (sum(counts), sum(v * c for v, c in zip(m["Values"], counts)),
                min(m["Values"]), max(m["Values"]))
    s = m["StatisticValues"]
    return s["SampleCount"], s["Sum"], s["Minimum"], s["Maximum"]


def metric_time_param(p, name, protocol):
    value = p.get(name)
    if value is None:
        raise cw_missing(name)
    if protocol == "query":
        return query_timestamp(value, name)
    return check_json_number(value, name)


def op_get_metric_statistics(state, p, protocol):
    """GetMetricStatistics: aggregate stored datums per period (exact dimension match)."""
    check_members(p, {"Namespace", "MetricName", "Dimensions", "StartTime", "EndTime",
                      "Period", "Statistics", "ExtendedStatistics", "Unit"})
    for name in ("Namespace", "MetricName"):
        if p.get(name) is None:
            raise cw_missing(name)
    start = metric_time_param(p, "StartTime", protocol)
    end = metric_time_param(p, "EndTime", protocol)
    if start >= end:
        raise cw_invalid_msg("The parameter StartTime must be less than the parameter EndTime.")
    period = get_period(p, protocol)
    stats = p.get("Statistics") or []
    if not stats and not p.get("ExtendedStatistics"):
        raise cw_missing("Statistics")
    for s in stats:
        if s not in CW_STATISTICS:
            raise cw_invalid("Statistics", s)
    if (end - start) / period > 1440:
        raise cw_combination("You have requested up to %d datapoints, which exceeds the "
                             "limit of 1440." % int((end - start) / period))
    dims = dimension_key(typed_dimensions(p.get("Dimensions"), "Dimensions"))
    buckets = {}
    for m in state.metrics:
        if (m["Namespace"], m["MetricName"]) != (p["Namespace"], p["MetricName"]) or \
                dimension_key(m["Dimensions"]) != dims or not start <= m["Timestamp"] < end or \
                p.get("Unit") not in (None, m["Unit"]):
            continue
        bucket = start + (m["Timestamp"] - start) // period * period
        buckets.setdefault(bucket, []).append(m)
    points = [datapoint(b, items, stats) for b, items in sorted(buckets.items())]
    return {"Label": p["MetricName"], "Datapoints": points}


def get_period(p, protocol):
    """Period: 1, 5, 10, 30 or a multiple of 60."""
    period = p.get("Period")
    if period is None:
        raise cw_missing("Period")
    period = query_int(period, "Period") if protocol == "query" else period
    if isinstance(period, bool) or not isinstance(period, int):
        raise serialization("Unexpected value type for 'Period'")
    if period < 1 or (period % 60 and period not in (1, 5, 10, 30)):
        raise cw_invalid("Period", period)
    return period


def datapoint(bucket, items, stats):
    """One GetMetricStatistics datapoint aggregating `items`."""
    count = total = 0.0
    low, high = math.inf, -math.inf
    for m in items:
        c, s, lo, hi = datum_stats(m)
        count, total, low, high = count + c, total + s, min(low, lo), max(high, hi)
    values = {"SampleCount": count, "Sum": total, "Minimum": low, "Maximum": high,
              "Average": total / count if count else 0.0}
    point = {"Timestamp": Stamp(bucket), "Unit": items[0]["Unit"]}
    point.update({s: values[s] for s in stats})
    return point


# --------------------------------------------------------------------------- STS

STS_ASSUME_ROLE_MEMBERS = {"RoleArn", "RoleSessionName", "DurationSeconds", "Policy",
                           "PolicyArns", "Tags", "TransitiveTagKeys", "ExternalId",
                           "SerialNumber", "TokenCode", "SourceIdentity", "ProvidedContexts"}


def op_assume_role(state, p, caller):
    """AssumeRole: validates RoleArn / RoleSessionName / DurationSeconds, issues creds."""
    unknown = set(p) - STS_ASSUME_ROLE_MEMBERS
    if unknown:
        raise sts_validation("Unknown parameter %s" % sorted(unknown)[0])
    arn, session = p.get("RoleArn"), p.get("RoleSessionName")
    if arn is None:
        raise ApiError(400, "MissingParameter", "The request must contain the parameter RoleArn")
    if session is None:
        raise ApiError(400, "MissingParameter",
                       "The request must contain the parameter RoleSessionName")
    if not 20 <= len(arn) <= 2048:
        raise sts_validation("1 validation error detected: Value '%s' at 'roleArn' failed to "
                             "satisfy constraint: Member must have length greater than or "
                             "equal to 20" % arn)
    allowed = set(string.ascii_letters + string.digits + "_+=,.@-")
    if not 2 <= len(session) <= 64 or not set(session) <= allowed:
        raise sts_validation("1 validation error detected: Value '%s' at 'roleSessionName' "
                             "failed to satisfy constraint: Member must satisfy regular "
                             "expression pattern: [\\w+=,.@-]*" % session)
    duration = query_int(p.get("DurationSeconds", "3600"), "DurationSeconds")
    if not 900 <= duration <= 43200:
        raise sts_validation("1 validation error detected: Value '%d' at 'durationSeconds' "
                             "failed to satisfy constraint: Member must have value between "
                             "900 and 43200" % duration)
    lifetime = state.sts_duration if state.sts_duration is not None else duration
    akid, cred = issue_credentials(state, lifetime)
    role_name = arn.rsplit("/", 1)[-1]
    return {"Credentials": {"AccessKeyId": akid, "SecretAccessKey": cred.secret,
                            "SessionToken": cred.token, "Expiration": Stamp(cred.expires_at)},
            "AssumedRoleUser": {"AssumedRoleId": "AROAFAKEROLEID0000001:%s" % session,
                                "Arn": "arn:aws:sts::%s:assumed-role/%s/%s"
                                       % (ACCOUNT_ID, role_name, session)}}


def op_get_caller_identity(state, p, caller):
    """GetCallerIdentity: who signed the request."""
    return {"UserId": caller, "Account": ACCOUNT_ID,
            "Arn": "arn:aws:iam::%s:user/fake-%s" % (ACCOUNT_ID, caller)}


DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer"}


def op_put_dashboard(state, p):
    """PutDashboard: a name of A-Z a-z 0-9 - _ (1..255) and a body CloudWatch
    accepts: a JSON object whose `widgets` are objects of a known type, with
    whole x/y (>= 0), width 1..24 and height 1..1000, and `properties`; a
    metric widget's properties name a region and metrics (or a query).
    Stored in state.dashboards (name -> parsed body)."""
    check_members(p, {"DashboardName", "DashboardBody"})
    name, text = p.get("DashboardName"), p.get("DashboardBody")
    if not isinstance(name, str) or not DASHBOARD_NAME.match(name):
        raise ApiError(400, "InvalidParameterValue",
                       "DashboardName must be 1..255 of A-Z, a-z, 0-9, '-', '_'")
    if not isinstance(text, str):
        raise ApiError(400, "MissingParameter", "The parameter DashboardBody is required.")

    def invalid(path, message):
        return ApiError(400, "InvalidParameterInput",
                        "The dashboard body is invalid, there are 1 validation errors: "
                        "[{\"dataPath\": \"%s\", \"message\": \"%s\"}]" % (path, message))
    try:
        body = json.loads(text)
    except ValueError:
        raise invalid("", "Invalid JSON")
    if not isinstance(body, dict) or not isinstance(body.get("widgets"), list):
        raise invalid("", "Should have required property 'widgets'")
    for i, w in enumerate(body["widgets"]):
        where = "/widgets/%d" % i
        if not isinstance(w, dict) or w.get("type") not in WIDGET_TYPES:
            raise invalid(where + "/type", "Should be equal to one of the allowed values")
        for key, lo, hi in (("x", 0, 23), ("y", 0, None), ("width", 1, 24), ("height", 1, 1000)):
            v = w.get(key)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < lo
                                  or (hi is not None and v > hi)):
                raise invalid("%s/%s" % (where, key), "Should be an integer in range")
        props = w.get("properties")
        if not isinstance(props, dict):
            raise invalid(where, "Should have required property 'properties'")
        if w["type"] == "metric":
            if not isinstance(props.get("region"), str):
                raise invalid(where + "/properties", "Should have required property 'region'")
            if not isinstance(props.get("metrics"), list) and "query" not in props:
                raise invalid(where + "/properties", "Should have required property 'metrics'")
            for k, row in enumerate(props.get("metrics") or []):
                if not isinstance(row, list) or not row:
                    raise invalid("%s/properties/metrics/%d" % (where, k), "Should be array")
    state.dashboards[name] = body
    return {"DashboardValidationMessages": []}


STS_OPS = {"AssumeRole": op_assume_role, "GetCallerIdentity": op_get_caller_identity}
CW_OPS = {"PutMetricData", "ListMetrics", "GetMetricStatistics", "PutDashboard"}


# --------------------------------------------------------------------------- HTTP handler

class Handler(BaseHTTPRequestHandler):
    """Routes one HTTP request: control API, unsigned credential services, signed APIs."""

    protocol_version = "HTTP/1.1"
    timeout = 120
    record = None
    force_close = False

    def version_string(self):
        return "FakeAWS/1.0"

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake_aws: %s\n" % (fmt % args))

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_GET

    @property
    def state(self):
        return self.server.state

    def dispatch(self):
        """Read the body, then route by path and method."""
        self.url = urllib.parse.urlsplit(self.path)
        self.request_id = str(uuid.uuid4())
        self.record = None
        self.force_close = False
        try:
            self.body = self.read_body()
        except ValueError as exc:
            self.close_connection = True
            return self.send_plain(400, str(exc))
        if self.url.path.startswith("/_fake/"):
            return self.handle_control()
        self.record = self.state.new_record(self)
        self.record["body_bytes"] = len(self.body)
        try:
            self.route()
        except Exception:  # a bug in the fake must still produce an answer
            traceback.print_exc()
            self.send_plain(500, "fake_aws internal error")

    def route(self):
        """Pick the service for a non-control request by path and method."""
        path, method = self.url.path, self.command
        if path == "/latest/api/token":
            return self.imds_token()
        if path.startswith("/latest/") and method == "GET":
            return self.imds_get()
        if path == self.state.ecs["path"] and method == "GET":
            return self.ecs_credentials()
        if path in ("/v1/metadata", "/v1/tasks") and method == "GET":
            return self.introspection()
        if method == "POST":
            return self.aws_api()
        self.send_plain(404, "Not Found")

    # ------------------------------------------------------------ body and answers

    def read_body(self):
        """The request body (Content-Length or chunked); ValueError if malformed."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit() or int(length) > MAX_REQUEST_BYTES:
            raise ValueError("bad Content-Length")
        return self.rfile.read(int(length))

    def read_chunked(self):
        """Decode a Transfer-Encoding: chunked body."""
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise ValueError("bad chunk size") from None
            if size == 0:
                break
            total += size
            if total > MAX_REQUEST_BYTES:
                raise ValueError("body too large")
            parts.append(self.rfile.read(size))
            self.rfile.readline(8)
        while self.rfile.readline(8192).strip():
            pass  # trailers
        return b"".join(parts)

    def send(self, status, body, content_type, headers=None):
        """Write a complete response and note its status in the request log."""
        if self.record is not None:
            self.record["status"] = status
        self.send_response(status)
        self.send_header("x-amzn-RequestId", self.request_id)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_plain(self, status, text, headers=None):
        self.send(status, text.encode(), "text/plain", headers)

    def send_json(self, status, obj, content_type="application/json", headers=None):
        self.send(status, json.dumps(obj).encode(), content_type, headers)

    # ------------------------------------------------------------ control API

    def handle_control(self):
        """/_fake/* endpoints (JSON in and out, never signed, never logged)."""
        try:
            params = json.loads(self.body) if self.body.strip() else {}
            if not isinstance(params, dict):
                raise ValueError("body must be a JSON object")
            routes = {("POST", "/_fake/credentials"): control_credentials,
                      ("POST", "/_fake/faults"): control_faults,
                      ("POST", "/_fake/imds"): control_imds,
                      ("POST", "/_fake/ecs_credentials"): control_ecs,
                      ("POST", "/_fake/introspection"): control_introspection,
                      ("GET", "/_fake/requests"): control_requests,
                      ("GET", "/_fake/state"): control_state,
                      ("POST", "/_fake/messages"): control_messages,
                      ("POST", "/_fake/reset"): control_reset}
            func = routes.get((self.command, self.url.path))
            if func is None:
                return self.send_json(404, {"error": "no such control endpoint"})
            with self.state.lock:  # serialize while no handler can change the state
                body = json.dumps(func(self.state, params)).encode()
            self.send(200, body, "application/json")
        except (ValueError, TypeError, KeyError) as exc:
            self.send_json(400, {"error": str(exc)})

    # ------------------------------------------------------------ faults

    def apply_fault(self, names, render_error):
        """Consume a matching queued fault; True if the request has been answered."""
        fault = self.state.take_fault(names)
        if fault is None:
            return False
        self.record["fault"] = fault["kind"]
        kind = fault["kind"]
        if kind == "latency":
            time.sleep(fault["ms"] / 1000.0)
            return False
        if kind == "reset":
            self.reset_connection()
            return True
        if kind == "close":
            self.force_close = True
            return False
        render_error(fault_error(fault))
        return True

    def reset_connection(self):
        """Drop the connection without answering (RST via SO_LINGER 0)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            os.close(self.connection.detach())
        except (OSError, ValueError):
            pass

    def end_headers(self):
        if self.force_close:
            self.send_header("Connection", "close")
        super().end_headers()

    # ------------------------------------------------------------ signed AWS APIs

    def aws_api(self):
        """POST /: identify protocol+operation, verify SigV4, apply faults, run the op."""
        self.protocol, self.service, self.operation = "logs", None, None
        try:
            try:
                self.identify()
            finally:
                self.record.update({"service": self.service, "operation": self.operation})
            self.authenticate()
            if self.apply_fault({self.operation, self.service}, self.send_api_error):
                return
            self.run_operation()
        except ApiError as err:
            self.send_api_error(err)

    def identify(self):
        """Set protocol ('logs', 'cwjson', 'query'), service and operation from headers/body."""
        target = self.headers.get("X-Amz-Target")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        self.gzip = "gzip" in (self.headers.get("Content-Encoding") or "").lower()
        self.record["gzip"] = self.gzip
        if normalized_path(self.url.path) != "/":
            raise ApiError(404, "UnknownOperationException", "")
        if target:
            self.identify_json(target, ctype)
        elif ctype == "application/x-www-form-urlencoded":
            self.identify_query()
        else:
            raise ApiError(400, "UnknownOperationException", "")

    def identify_json(self, target, ctype):
        """JSON protocols: target prefix selects service; Content-Type must match."""
        prefix, _, op = target.partition(".")
        if prefix == LOGS_TARGET:
            self.protocol, self.service, want = "logs", "logs", "application/x-amz-json-1.1"
        elif prefix == CW_TARGET:
            self.protocol, self.service = "cwjson", "monitoring"
            want = "application/x-amz-json-1.0"
        else:
            raise ApiError(400, "UnknownOperationException", "")
        self.operation = op
        self.record["json"] = self.json_body()
        if ctype != want:
            raise ApiError(400, "UnknownOperationException",
                           "Content-Type must be %s for %s" % (want, prefix))

    def identify_query(self):
        """Query protocol: parse the (possibly gzipped) form; Action selects service."""
        self.protocol = "query"
        self.service = "monitoring"
        try:
            text = self.plain_body().decode("utf-8")
            pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        except (ValueError, OSError, EOFError, zlib.error):
            raise ApiError(400, "MalformedQueryString", "The request body is not a valid "
                           "application/x-www-form-urlencoded string.") from None
        self.form_pairs = pairs
        self.record["form"] = dict(pairs)
        form = dict(pairs)
        self.operation = form.get("Action")
        if self.operation in STS_OPS:
            self.service = "sts"

    def json_body(self):
        """The parsed JSON body, or None when it is not a JSON document."""
        try:
            return json.loads(self.plain_body().decode("utf-8"))
        except (ValueError, OSError, EOFError, zlib.error):
            return None

    def plain_body(self):
        """The request body, gunzipped when Content-Encoding says gzip."""
        return gzip.decompress(self.body) if self.gzip else self.body

    def authenticate(self):
        """SigV4 check for self.service; records the access key id."""
        try:
            auth = sigv4_verify.parse_authorization(self.headers.get("Authorization"))
            self.record["access_key_id"] = auth["access_key_id"]
        except sigv4_verify.SigV4Error:
            pass
        with self.state.lock:
            try:
                auth, _ = sigv4_verify.verify(
                    self.command, self.url.path, self.url.query, list(self.headers.items()),
                    self.body, self.state.lookup_credential, self.state.region, self.service)
            except sigv4_verify.SigV4Error as err:
                raise auth_error(err) from None
        self.caller = auth["access_key_id"]

    def run_operation(self):
        """Run a verified request and answer it."""
        if self.protocol == "query":
            return self.run_query()
        ops = LOGS_OPS if self.protocol == "logs" else CW_OPS
        if self.operation not in ops:
            raise ApiError(400, "UnknownOperationException", "")
        params = self.record["json"]
        if not isinstance(params, dict):
            raise serialization("Request body is not a JSON object")
        with self.state.lock:
            if self.protocol == "logs":
                result = LOGS_OPS[self.operation](self.state, params)
            else:
                result = self.run_cloudwatch(params, "json") or {}
        self.send_api_result(result)

    def run_cloudwatch(self, params, protocol):
        """Dispatch a CloudWatch operation whose params are in the typed shape."""
        if self.operation == "PutMetricData":
            self.check_metric_body_size()
            typed = put_metric_data_from_query(params) if protocol == "query" \
                else put_metric_data_from_json(params)
            return op_put_metric_data(self.state, typed, protocol)
        if self.operation == "ListMetrics":
            return op_list_metrics(self.state, strip_query_keys(params))
        if self.operation == "PutDashboard":
            return op_put_dashboard(self.state, strip_query_keys(params))
        return op_get_metric_statistics(self.state, strip_query_keys(params), protocol)

    def check_metric_body_size(self):
        """PutMetricData body <= 1 MB, compressed and decompressed."""
        size = max(len(self.body), len(self.plain_body()))
        if size > CW_MAX_BODY:
            raise ApiError(413, "RequestEntityTooLarge",
                           "Request size %d exceeded %d bytes" % (size, CW_MAX_BODY))

    def run_query(self):
        """Query protocol: check Action / Version, then run the CloudWatch or STS op."""
        action = self.operation
        want = STS_VERSION if self.service == "sts" else CW_VERSION
        form = dict(self.form_pairs)
        if action is None:
            raise ApiError(400, "MissingAction", "Request is missing Action")
        if action not in STS_OPS and action not in CW_OPS:
            raise ApiError(400, "InvalidAction", "Could not find operation %s for version %s"
                           % (action, form.get("Version")))
        if form.get("Version") != want:
            raise ApiError(400, "InvalidAction", "Could not find operation %s for version %s"
                           % (action, form.get("Version")))
        params = parse_query_form(self.form_pairs)
        with self.state.lock:
            if self.service == "sts":
                params = {k: v for k, v in params.items() if k not in ("Action", "Version")}
                result = STS_OPS[action](self.state, params, self.caller)
            else:
                result = self.run_cloudwatch(params, "query")
        self.send_api_result(result)

    def send_api_result(self, result):
        """Answer 200 in the request protocol (JSON, or awsQuery XML)."""
        if self.protocol == "logs":
            body = b"" if result is None else json.dumps(result).encode()
            return self.send(200, body, "application/x-amz-json-1.1")
        if self.protocol == "cwjson":
            return self.send(200, json.dumps(result).encode(), "application/x-amz-json-1.0")
        op = self.operation
        inner = xml_value(op + "Result", result) if result else ""
        xml = ('<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>%s</RequestId>'
               '</ResponseMetadata></%sResponse>'
               % (op, XMLNS[self.service], inner, self.request_id, op))
        self.send(200, xml.encode(), "text/xml")

    def send_api_error(self, err):
        """Render an ApiError in the request's protocol and log its code."""
        if self.protocol == "query":
            code = err.query_code
            kind = "Receiver" if err.receiver else "Sender"
            xml = ('<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code>'
                   '<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>'
                   % (XMLNS[self.service or "monitoring"], kind, code,
                      xml_escape(err.message), self.request_id))
            self.record["error_code"] = code
            return self.send(err.status, xml.encode(), "text/xml")
        self.record["error_code"] = err.code
        headers = {"x-amzn-ErrorType": err.code}
        ctype = "application/x-amz-json-1.1"
        if self.protocol == "cwjson":
            ctype = "application/x-amz-json-1.0"
            headers["x-amzn-query-error"] = "%s;%s" % (
                err.query_code, "Receiver" if err.receiver else "Sender")
        self.send_json(err.status, {"__type": err.code, "message": err.message}, ctype,
                       headers)

    # ------------------------------------------------------------ IMDSv2

    def imds_token(self):
        """PUT /latest/api/token with a TTL header 1-21600 -> session token."""
        self.record.update({"service": "imds", "operation": "GetToken"})
        if self.command != "PUT":
            return self.send_plain(405, "Method Not Allowed")
        if self.apply_fault({"imds"}, self.send_unsigned_fault):
            return
        if self.headers.get("X-Forwarded-For"):
            return self.send_plain(403, "Forbidden")
        ttl = (self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") or "").strip()
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.send_plain(400, "Bad Request")
        token = base64.urlsafe_b64encode(secrets.token_bytes(42)).decode()
        with self.state.lock:
            self.state.imds_tokens[token] = time.time() + int(ttl)
        self.send_plain(200, token, {"X-aws-ec2-metadata-token-ttl-seconds": ttl})

    def imds_authorized(self):
        """A valid IMDSv2 token was sent, or IMDSv1 is allowed and none was sent."""
        token = self.headers.get("X-aws-ec2-metadata-token")
        with self.state.lock:
            if token is None:
                return self.state.imds["allow_v1"]
            return self.state.imds_tokens.get(token.strip(), 0) > time.time()

    def imds_get(self):
        """GET /latest/...: metadata paths, 401 without a valid token (unless v1 allowed)."""
        self.record.update({"service": "imds", "operation": self.url.path})
        if self.apply_fault({"imds"}, self.send_unsigned_fault):
            return
        if not self.imds_authorized():
            return self.send_plain(401, "Unauthorized")
        with self.state.lock:
            answer = imds_document(self.state, self.url.path)
        if answer is None:
            return self.send_plain(404, "Not Found")
        self.send_plain(200, answer)

    # ------------------------------------------------------------ ECS credentials / agent

    def ecs_credentials(self):
        """GET <configured path>: container credentials, Authorization token checked."""
        self.record.update({"service": "ecs_credentials", "operation": "GetCredentials"})
        if self.apply_fault({"ecs_credentials"}, self.send_unsigned_fault):
            return
        with self.state.lock:
            want = self.state.ecs["token"]
            given = self.headers.get("Authorization")
            if want is not None and given is None:
                return self.send_json(401, {"code": "NoAuthorization",
                                            "message": "Authorization header missing"})
            if want is not None and given.strip() != want:
                return self.send_json(403, {"code": "AccessDenied",
                                            "message": "Authorization token invalid"})
            self.send_json(200, ecs_document(self.state))

    def introspection(self):
        """GET /v1/metadata and /v1/tasks[?dockerid=|?taskarn=] (scripted content)."""
        self.record.update({"service": "introspection", "operation": self.url.path})
        if self.apply_fault({"introspection"}, self.send_unsigned_fault):
            return
        with self.state.lock:
            data = self.state.introspection
            if self.url.path == "/v1/metadata":
                return self.send_json(200, data["metadata"])
            query = dict(urllib.parse.parse_qsl(self.url.query))
            status, body = filter_tasks(data["tasks"], query)
        self.send_json(status, body)

    def send_unsigned_fault(self, err):
        """Fault answers for IMDS / ECS paths (plain status, JSON body)."""
        self.record["error_code"] = err.code
        status = 429 if err.code == "ThrottlingException" else err.status
        self.send_json(status, {"code": err.code, "message": err.message})


def normalized_path(path):
    return sigv4_verify.normalize_path(urllib.parse.unquote(path))


def strip_query_keys(params):
    return {k: v for k, v in params.items() if k not in ("Action", "Version")}


def fault_error(fault):
    """The ApiError a throttle / status / expire fault answers with."""
    kind = fault["kind"]
    if kind == "throttle":
        return ApiError(400, "ThrottlingException", "Rate exceeded", "Throttling")
    if kind == "expire":
        return ApiError(400, "ExpiredTokenException",
                        sigv4_verify.EXPIRED_TOKEN_MSG, "ExpiredToken")
    status = fault["status"]
    if status == 503:
        return ApiError(503, "ServiceUnavailableException", "Service Unavailable",
                        "ServiceUnavailable", receiver=True)
    return ApiError(status, "ServiceUnavailableException", "Internal failure",
                    "InternalFailure", receiver=True)


# --------------------------------------------------------------------------- unsigned documents

def fresh_credentials(state, current, lifetime):
    """Reuse `current` (akid, cred) unless it is in its last half-life / 5 minutes."""
    if current is not None:
        remaining = current[1].expires_at - time.time()
        if remaining > min(300, lifetime / 2.0):
            return current
    return issue_credentials(state, lifetime)


def imds_document(state, path):
    """Body for an IMDS GET path, or None for 404."""
    cfg = state.imds
    base = "/latest/meta-data/iam/security-credentials/"
    if path.rstrip("/") == base.rstrip("/"):
        return cfg["role"] or None
    if path.startswith(base):
        if not cfg["role"] or path[len(base):].rstrip("/") != cfg["role"]:
            return None
        state.imds_creds = fresh_credentials(state, state.imds_creds,
                                             cfg["credentials_expire_in"])
        akid, cred = state.imds_creds
        return json.dumps({"Code": "Success", "LastUpdated": iso8601(time.time()),
                           "Type": "AWS-HMAC", "AccessKeyId": akid,
                           "SecretAccessKey": cred.secret, "Token": cred.token,
                           "Expiration": iso8601(cred.expires_at)}, indent=2)
    simple = {"/latest/meta-data/placement/region": cfg["region"],
              "/latest/meta-data/placement/availability-zone": cfg["region"] + "a",
              "/latest/meta-data/instance-id": cfg["instance_id"],
              "/latest/meta-data/local-ipv4": cfg["local_ipv4"],
              "/latest/meta-data/hostname": cfg["hostname"]}
    if path.rstrip("/") in simple:
        return simple[path.rstrip("/")]
    if path == "/latest/dynamic/instance-identity/document":
        return json.dumps({"accountId": ACCOUNT_ID, "architecture": "x86_64",
                           "availabilityZone": cfg["region"] + "a",
                           "imageId": "ami-0fa4e0c0ffee00001",
                           "instanceId": cfg["instance_id"], "instanceType": "m5.large",
                           "privateIp": cfg["local_ipv4"], "region": cfg["region"],
                           "version": "2017-09-30",
                           "pendingTime": iso8601(time.time() - 3600)}, indent=2)
    return None


def ecs_document(state):
    """Body of the ECS container-credentials answer (credentials rotated as needed)."""
    cfg = state.ecs
    state.ecs_creds = fresh_credentials(state, state.ecs_creds, cfg["expire_in"])
    akid, cred = state.ecs_creds
    role = cfg["path"].rstrip("/").rsplit("/", 1)[-1]
    return {"RoleArn": "arn:aws:iam::%s:role/%s" % (ACCOUNT_ID, role),
            "AccessKeyId": akid, "SecretAccessKey": cred.secret, "Token": cred.token,
            "Expiration": iso8601(cred.expires_at)}


def filter_tasks(tasks, query):
    """ECS agent /v1/tasks filtering: dockerid (full or 12-char short) or taskarn."""
    docker_id, task_arn = query.get("dockerid"), query.get("taskarn")
    if docker_id is None and task_arn is None:
        return 200, tasks
    if docker_id is not None and task_arn is not None:
        return 400, {}
    items = tasks.get("Tasks") or [] if isinstance(tasks, dict) else []
    if task_arn is not None:
        found = [t for t in items if t.get("Arn") == task_arn]
    else:
        found = [t for t in items
                 if any(docker_id_matches(c.get("DockerId", ""), docker_id)
                        for c in t.get("Containers") or [])]
    if len(found) > 1:
        return 400, {}
    return (200, found[0]) if found else (404, {})


def docker_id_matches(full, wanted):
    return full == wanted or (len(wanted) == 12 and full.startswith(wanted))


# --------------------------------------------------------------------------- control endpoints

def control_credentials(state, p):
    """Add accepted credentials."""
    akid, secret = p["access_key_id"], p["secret_access_key"]
    if not isinstance(akid, str) or not isinstance(secret, str) or not akid or not secret:
        raise ValueError("access_key_id and secret_access_key must be non-empty strings")
    expires = p.get("expires_in")
    state.credentials[akid] = Credential(secret, p.get("session_token") or None,
                                         None if expires is None else time.time() + expires)
    return {"ok": True}


def control_faults(state, p):
    """Queue a fault."""
    kind = p.get("kind")
    if kind not in FAULT_KINDS:
        raise ValueError("kind must be one of %s" % ", ".join(FAULT_KINDS))
    fault = {"kind": kind, "count": int(p.get("count", 1)), "status": int(p.get("status", 503)),
             "ms": int(p.get("ms", 1000)), "target": p.get("target")}
    if fault["count"] < 1 or not 100 <= fault["status"] <= 599 or fault["ms"] < 0:
        raise ValueError("count must be >= 1, status 100..599, ms >= 0")
    state.faults.append(fault)
    return {"ok": True, "queued": len(state.faults)}


def control_imds(state, p):
    """Configure IMDS (merge); new credentials are issued on the next fetch."""
    allowed = {"role", "region", "instance_id", "local_ipv4", "hostname", "allow_v1",
               "credentials_expire_in"}
    merge_config(state.imds, p, allowed)
    state.imds_creds = None
    return {"ok": True, "imds": state.imds}


def control_ecs(state, p):
    """Configure the ECS container-credentials endpoint (merge)."""
    merge_config(state.ecs, p, {"path", "token", "expire_in"})
    if not str(state.ecs["path"]).startswith("/") or state.ecs["path"].startswith("/_fake/"):
        raise ValueError("path must start with '/' and not be under /_fake/")
    state.ecs_creds = None
    return {"ok": True, "ecs_credentials": state.ecs}


def merge_config(config, params, allowed):
    """Update `config` with `params`, refusing unknown keys."""
    unknown = set(params) - allowed
    if unknown:
        raise ValueError("unknown keys: %s" % ", ".join(sorted(unknown)))
    config.update(params)


def control_introspection(state, p):
    """Set the documents served by /v1/metadata and /v1/tasks."""
    if "metadata" in p:
        state.introspection["metadata"] = p["metadata"]
    if "tasks" in p:
        state.introspection["tasks"] = p["tasks"]
    return {"ok": True}


def control_requests(state, p):
    """Every non-control request seen since start / reset."""
    return {"requests": state.requests}


def control_state(state, p):
    """Stored log groups (with streams and events) and metric datums."""
    groups = {}
    for name, g in state.log_groups.items():
        groups[name] = {"retentionInDays": g["retentionInDays"],
                        "logGroupClass": g["logGroupClass"], "kmsKeyId": g["kmsKeyId"],
                        "tags": g["tags"],
                        "streams": {s: {"events": st["events"]}
                                    for s, st in g["streams"].items()}}
    return {"log_groups": groups, "metrics": state.metrics, "dashboards": state.dashboards}


def control_messages(state, p):
    """The messages of one stream in arrival order, from index `start`, at
    most `limit` (default 100000): for tests that follow millions of events
    without fetching the whole state each time."""
    g = state.log_groups.get(p["group"])
    st = g["streams"].get(p["stream"]) if g else None
    if st is None:
        return {"messages": [], "total": 0}
    start, limit = int(p.get("start", 0)), int(p.get("limit", 100000))
    return {"messages": [e["message"] for e in st["events"][start:start + limit]],
            "total": len(st["events"])}


def control_reset(state, p):
    """Forget resources, faults, the request log and service config (keep credentials)."""
    state.reset()
    return {"ok": True}


# --------------------------------------------------------------------------- server

class FakeServer(ThreadingHTTPServer):
    """Threading HTTP(S) server; TLS handshakes happen in the connection thread."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address, state, ssl_context=None, verbose=False):
        self.state = state
        self.ssl_context = ssl_context
        self.verbose = verbose
        super().__init__(address, Handler)

    def get_request(self):
        """Accept; wrap in TLS without handshaking (the handler thread does that)."""
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        """Stay quiet about clients that hang up; print real errors."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError)):
            return
        super().handle_error(request, client_address)


def parse_credentials(values):
    """--credentials AKID:SECRET[:TOKEN] -> {akid: Credential}."""
    result = {}
    for value in values:
        parts = value.split(":", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise SystemExit("--credentials wants AKID:SECRET[:TOKEN], got %r" % value)
        result[parts[0]] = Credential(parts[1], parts[2] if len(parts) == 3 else None)
    return result


def parse_args(argv):
    """Command-line options (see README.md)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--credentials", action="append", default=[],
                    help="AKID:SECRET[:TOKEN] (repeatable)")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--sts-duration", type=int, default=None,
                    help="lifetime (s) of AssumeRole credentials, overriding DurationSeconds")
    ap.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    return args


def write_port_file(path, port):
    """Write the port number atomically (temp file + rename)."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    """Serve until SIGTERM/SIGINT, then exit 0."""
    args = parse_args(argv)
    state = State(args.region, args.sts_duration)
    state.credentials.update(parse_credentials(args.credentials))
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    server = FakeServer((args.host, args.port), state, context, args.verbose)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    write_port_file(args.port_file, server.server_address[1])
    while not stop.wait(0.2):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
