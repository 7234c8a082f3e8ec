"""Independent AWS Signature Version 4 implementation used by the fake AWS endpoint.

Written from the AWS algorithm description (spec/cloudwatch.md §6.1), not from any
SDK.  It exposes the canonicalization primitives (so the tests can check them
against the official test-suite vectors) and `verify()`, which checks an
incoming request and raises `SigV4Error` with an AWS-style reason.
"""

import calendar
import hashlib
import hmac
import re
import time
import urllib.parse

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 300
_UNRESERVED = "-_.~"
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,"
    r"\s*Signature=([0-9a-f]{64})\s*$")
_AMZ_DATE_RE = re.compile(r"^\d{8}T\d{6}Z$")

SIGNATURE_MISMATCH_MSG = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details.")
INVALID_TOKEN_MSG = "The security token included in the request is invalid."
EXPIRED_TOKEN_MSG = "The security token included in the request is expired"


class SigV4Error(Exception):
    """A rejected signature. `kind` is one of: missing, incomplete, unknown_key,
    bad_token, signature, expired_token."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


def sha256_hex(data):
    """Lower-case hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def uri_encode(text, encode_slash=True):
    """RFC 3986 percent-encoding as SigV4 wants it (unreserved characters kept)."""
    safe = _UNRESERVED + ("" if encode_slash else "/")
    return urllib.parse.quote(text, safe=safe)


def normalize_path(path):
    """Remove '.' and '..' segments and collapse '//' (non-S3 services)."""
    if not path:
        return "/"
    segments = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if segments:
                segments.pop()
            continue
        segments.append(seg)
    result = "/" + "/".join(segments)
    if path.endswith("/") and result != "/":
        result += "/"
    return result


def canonical_uri(path):
    """Canonical URI: the normalized path, URI-encoded once more ('/' kept)."""
    return uri_encode(normalize_path(path), encode_slash=False)


def canonical_query(query):
    """Canonical query string: decode each pair, re-encode, sort by name then value."""
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((uri_encode(urllib.parse.unquote(name)),
                      uri_encode(urllib.parse.unquote(value))))
    pairs.sort()
    return "&".join("%s=%s" % p for p in pairs)


def _clean_header_value(value):
    """Trim and collapse sequential whitespace (folded lines included) to one space."""
    return " ".join(value.split())


def canonical_headers(headers, signed_names):
    """Canonical header block for `signed_names` from a list of (name, value) pairs.

    Repeated headers are joined with ',' in the order received."""
    values = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(_clean_header_value(value))
    lines = []
    for name in signed_names:
        lines.append("%s:%s\n" % (name, ",".join(values.get(name, []))))
    return "".join(lines)


def canonical_request(method, path, query, headers, signed_names, payload_hash):
    """The SigV4 canonical request string."""
    return "\n".join([
        method.upper(),
        canonical_uri(path),
        canonical_query(query),
        canonical_headers(headers, signed_names),
        ";".join(signed_names),
        payload_hash,
    ])


def string_to_sign(amz_date, scope, creq):
    """The SigV4 string to sign for a canonical request."""
    return "\n".join([ALGORITHM, amz_date, scope,
                      sha256_hex(creq.encode("utf-8"))])


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    """Derived signing key kSigning."""
    k = _hmac(("AWS4" + secret).encode("utf-8"), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def signature(secret, date, region, service, sts):
    """Hex signature of a string to sign."""
    key = signing_key(secret, date, region, service)
    return hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_authorization(value):
    """Split an Authorization header into a dict; raise SigV4Error if malformed."""
    if not value:
        raise SigV4Error("missing", "Missing Authentication Token")
    m = _AUTH_RE.match(value.strip())
    if not m:
        raise SigV4Error("incomplete",
                         "Authorization header requires 'Credential', 'Signature' and "
                         "'SignedHeaders' parameters. Authorization=%s" % value.strip())
    cred, signed, sig = m.groups()
    parts = cred.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SigV4Error("incomplete",
                         "Credential should be scoped to a valid region, "
                         "not '%s'. " % cred)
    return {"access_key_id": parts[0], "date": parts[1], "region": parts[2],
            "service": parts[3], "signed_headers": signed.split(";"), "signature": sig}


def amz_date_to_epoch(amz_date):
    """Seconds since the epoch for a YYYYMMDD'T'HHMMSS'Z' stamp."""
    return calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))


def epoch_to_amz_date(seconds):
    """YYYYMMDD'T'HHMMSS'Z' for seconds since the epoch."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))


def _header(headers, name):
    for hname, value in headers:
        if hname.lower() == name:
            return value.strip()
    return None


def _check_scope(auth, amz_date, region, service):
    """Credential scope and SignedHeaders checks."""
    if auth["date"] != amz_date[:8]:
        raise SigV4Error("signature",
                         "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                         "version of date from HTTP: '%s' != '%s', from '%s'."
                         % (auth["date"], amz_date[:8], amz_date))
    if auth["region"] != region:
        raise SigV4Error("signature", "Credential should be scoped to a valid region. ")
    if auth["service"] != service:
        raise SigV4Error("signature",
                         "Credential should be scoped to correct service: '%s'. " % service)
    signed = auth["signed_headers"]
    if signed != sorted(set(signed)) or any(h != h.lower() for h in signed):
        raise SigV4Error("signature", SIGNATURE_MISMATCH_MSG)
    if "host" not in signed:
        raise SigV4Error("signature",
                         "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                         "Authorization.")
    if "x-amz-date" not in signed:
        raise SigV4Error("signature",
                         "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")


def _check_clock(amz_date, now):
    """X-Amz-Date within 5 minutes of `now`."""
    stamp = amz_date_to_epoch(amz_date)
    if stamp < now - MAX_SKEW_SECONDS:
        raise SigV4Error("signature",
                         "Signature expired: %s is now earlier than %s (%s - 5 min.)"
                         % (amz_date, epoch_to_amz_date(now - MAX_SKEW_SECONDS),
                            epoch_to_amz_date(now)))
    if stamp > now + MAX_SKEW_SECONDS:
        raise SigV4Error("signature",
                         "Signature not yet current: %s is still later than %s (%s + 5 min.)"
                         % (amz_date, epoch_to_amz_date(now + MAX_SKEW_SECONDS),
                            epoch_to_amz_date(now)))


def verify(method, path, query, headers, body, lookup, region, service, now=None):
    """Verify a SigV4-signed request.

    headers: list of (name, value) as received; body: exact received bytes;
    lookup(akid) -> credential object with .secret, .token, .expires_at (epoch or None),
    or None when unknown.  Returns (parsed authorization, credential)."""
    now = time.time() if now is None else now
    auth = parse_authorization(_header(headers, "authorization"))
    amz_date = _header(headers, "x-amz-date")
    if not amz_date or not _AMZ_DATE_RE.match(amz_date):
        raise SigV4Error("incomplete",
                         "Authorization header requires existence of either a 'X-Amz-Date' "
                         "or a 'Date' header.")
    cred = lookup(auth["access_key_id"])
    if cred is None:
        raise SigV4Error("unknown_key", INVALID_TOKEN_MSG)
    if (cred.token or None) != _header(headers, "x-amz-security-token"):
        raise SigV4Error("bad_token", INVALID_TOKEN_MSG)
    _check_scope(auth, amz_date, region, service)
    _check_clock(amz_date, now)
    payload_hash = sha256_hex(body)
    declared = _header(headers, "x-amz-content-sha256")
    if declared is not None and declared != payload_hash:
        raise SigV4Error("signature",
                         "The provided 'x-amz-content-sha256' header does not match what "
                         "was computed.")
    creq = canonical_request(method, path, query, headers, auth["signed_headers"],
                             payload_hash)
    scope = "/".join([auth["date"], region, service, "aws4_request"])
    expected = signature(cred.secret, auth["date"], region, service,
                         string_to_sign(amz_date, scope, creq))
    if not hmac.compare_digest(expected, auth["signature"]):
        raise SigV4Error("signature", SIGNATURE_MISMATCH_MSG)
    if cred.expires_at is not None and cred.expires_at <= now:
        raise SigV4Error("expired_token", EXPIRED_TOKEN_MSG)
    return auth, cred
