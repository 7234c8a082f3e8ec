/* AWS error parsing (see errors.h). Code lists from botocore's
 * retries/standard.py (spec §1.5). */
#include "collector/aws/errors.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

static const char *const throttle_codes[] = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException", NULL,
};

/* Standard-mode transient codes, plus the server faults CloudWatch models
 * (retried by status anyway when they come with a 5xx). */
static const char *const transient_codes[] = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "ServiceUnavailableException", "ServiceUnavailable", "InternalFailure",
    "InternalServiceFault", "InternalServiceError", "InternalError", NULL,
};

static const char *const expired_codes[] = {
    "ExpiredToken", "ExpiredTokenException", "RequestExpired", NULL,
};

static const char *const auth_codes[] = {
    "UnrecognizedClientException", "UnrecognizedClient", "InvalidClientTokenId",
    "AccessDeniedException", "AccessDenied", "InvalidSignatureException",
    "SignatureDoesNotMatch", "IncompleteSignature", "IncompleteSignatureException",
    "MissingAuthenticationToken", "MissingAuthenticationTokenException",
    "NotAuthorized", "AuthFailure", "InvalidAccessKeyId", NULL,
};

static int in_list(const char *const *list, const char *code)
{
    if (!code || !*code) return 0;
    for (; *list; list++)
        if (strcmp(*list, code) == 0) return 1;
    return 0;
}

int aws_error_is_throttle_code(const char *code) { return in_list(throttle_codes, code); }
int aws_error_is_transient_code(const char *code) { return in_list(transient_codes, code); }

int aws_error_wants_refresh(const char *code)
{
    return code && (strcmp(code, "ExpiredToken") == 0 ||
                    strcmp(code, "ExpiredTokenException") == 0 ||
                    strcmp(code, "UnrecognizedClientException") == 0 ||
                    strcmp(code, "InvalidClientTokenId") == 0);
}

const char *aws_error_kind_name(enum aws_error_kind kind)
{
    static const char *const names[AWS_ERR_KIND_COUNT] = {
        "none", "throttle", "transient", "network", "expired", "auth",
        "client", "not_found", "credentials", "internal",
    };
    return (unsigned)kind < AWS_ERR_KIND_COUNT ? names[kind] : "unknown";
}

enum aws_error_kind aws_error_classify(const char *code, int status)
{
    if (status >= 200 && status < 300) return AWS_ERR_NONE;
    if (aws_error_is_throttle_code(code) || status == 429) return AWS_ERR_THROTTLE;
    if (aws_error_is_transient_code(code)) return AWS_ERR_TRANSIENT;
    if (in_list(expired_codes, code)) return AWS_ERR_EXPIRED;
    if (in_list(auth_codes, code)) return AWS_ERR_AUTH;
    if (code && strcmp(code, "ResourceNotFoundException") == 0) return AWS_ERR_NOT_FOUND;
    if (status >= 500 && status <= 599) return AWS_ERR_TRANSIENT;
    if (status == 0) return AWS_ERR_NETWORK;
    if (status == 401 || status == 403) return AWS_ERR_AUTH;
    return AWS_ERR_CLIENT;
}

void aws_error_normalize_code(const char *raw, char *out, size_t outlen)
{
    if (!outlen) return;
    out[0] = '\0';
    if (!raw) return;
    size_t len = strcspn(raw, ":");          /* "Code:extra" -> "Code" */
    const char *start = raw;
    for (size_t i = 0; i < len; i++)         /* "prefix#Code" -> "Code" */
        if (raw[i] == '#') start = raw + i + 1;
    len -= (size_t)(start - raw);
    while (len && (start[len - 1] == ' ' || start[len - 1] == '\r' || start[len - 1] == '\n'))
        len--;
    while (len && *start == ' ') start++, len--;
    if (len >= outlen) len = outlen - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

static void copy_str(char *out, size_t outlen, const char *s)
{
    snprintf(out, outlen, "%s", s ? s : "");
}

static const char *json_str(json_t *obj, const char *k1, const char *k2)
{
    json_t *v = json_object_get(obj, k1);
    if (!json_is_string(v) && k2) v = json_object_get(obj, k2);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void decode_entities(char *s)
{
    static const struct { const char *ent; char c; } map[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
    };
    char *w = s;
    for (char *r = s; *r;) {
        int done = 0;
        if (*r == '&') {
            for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
                size_t l = strlen(map[i].ent);
                if (strncmp(r, map[i].ent, l) == 0) {
                    *w++ = map[i].c;
                    r += l;
                    done = 1;
                    break;
                }
            }
        }
        if (!done) *w++ = *r++;
    }
    *w = '\0';
}

int aws_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t outlen)
{
    char open[80], close[80];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *end = xml + len;
    const char *s = memmem(xml, len, open, strlen(open));
    if (!s) return -1;
    s += strlen(open);
    const char *e = memmem(s, (size_t)(end - s), close, strlen(close));
    if (!e) return -1;
    size_t n = (size_t)(e - s);
    if (n >= outlen) n = outlen - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    decode_entities(out);
    return 0;
}

static void parse_json_body(const char *body, size_t len, struct aws_error *out)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    const char *code = json_str(root, "__type", NULL);
    if (!code) code = json_str(root, "code", "Code");
    if (code) aws_error_normalize_code(code, out->code, sizeof out->code);
    copy_str(out->message, sizeof out->message, json_str(root, "message", "Message"));
    json_decref(root);
}

static void parse_xml_body(const char *body, size_t len, struct aws_error *out)
{
    char code[sizeof out->code];
    if (aws_xml_text(body, len, "Code", code, sizeof code) == 0)
        aws_error_normalize_code(code, out->code, sizeof out->code);
    if (aws_xml_text(body, len, "Message", out->message, sizeof out->message) != 0)
        out->message[0] = '\0';
}

enum aws_error_kind aws_error_parse(int status, const char *error_type_header,
                                    const char *query_error_header, const char *body,
                                    size_t len, struct aws_error *out)
{
    memset(out, 0, sizeof *out);
    if (status >= 200 && status < 300) return out->kind = AWS_ERR_NONE;
    const char *p = body;
    while (p && len && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++, len--;
    if (p && len && *p == '{')
        parse_json_body(p, len, out);
    else if (p && len && *p == '<')
        parse_xml_body(p, len, out);
    if (!out->code[0] && error_type_header && *error_type_header)
        aws_error_normalize_code(error_type_header, out->code, sizeof out->code);
    if (query_error_header && *query_error_header) {
        /* "AWS.Code;Sender": the query-compatible code */
        size_t n = strcspn(query_error_header, ";");
        if (n > 0 && n < sizeof out->code) {
            memcpy(out->code, query_error_header, n);
            out->code[n] = '\0';
        }
    }
    if (!out->message[0] && !out->code[0] && status)
        snprintf(out->message, sizeof out->message, "HTTP %d", status);
    return out->kind = aws_error_classify(out->code, status);
}
