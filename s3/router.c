/* s3/router.c: from an HTTP request head to an S3 handler.
 *
 *   addressing (virtual-hosted or path-style) -> bucket, key
 *   query -> decoded parameters -> route (method, target, subresource)
 *   SigV4 (header or presigned) -> caller, payload mode
 *   access decision (access.c) on the route's policy action -> handler
 *
 * Also writes S3 error bodies. */
#include "s3/s3.h"
#include "s3/sigv4.h"
#include "core/log.h"

#include <strings.h>
#include <time.h>

#include "llhttp.h"

#define S3_SKEW_MAX  (15 * 60)   /* seconds, as S3 */

static const s3_route_t  *s3_route_tables[] = {
    s3_bucket_routes,
    s3_object_routes,
    s3_multipart_routes,
    s3_delete_routes,
    s3_tagging_routes,
    s3_acl_routes,
    s3_policy_routes,
};

/* Query parameters that name a subresource S3 has; one we do not route is
 * NotImplemented rather than being mistaken for the plain operation. */
static const char  *s3_subresources[] = {
    "accelerate", "acl", "analytics", "attributes", "cors", "delete",
    "encryption", "intelligent-tiering", "inventory", "legal-hold",
    "lifecycle", "location", "logging", "metrics", "notification",
    "object-lock", "ownershipControls", "policy", "policyStatus",
    "publicAccessBlock", "replication", "requestPayment", "restore",
    "retention", "select", "tagging", "torrent", "uploadId", "uploads",
    "versioning", "versions", "website", "session", "metadataTable",
};

/* ==== errors ==== */

typedef struct {
    int          status;
    const char  *code;
    const char  *message;
} s3_error_def_t;

static const s3_error_def_t  s3_errors[] = {
    { 500, "InternalError", "We encountered an internal error." },
#define S3_ERR_DEF(name, status, code, msg) { status, code, msg },
    S3_ERROR_MAP(S3_ERR_DEF)
#undef S3_ERR_DEF
};

int
s3_error_status(int err)
{
    return err > 0 && err < S3_ERR_LAST ? s3_errors[err].status : 500;
}

const char *
s3_error_code(int err)
{
    return err > 0 && err < S3_ERR_LAST ? s3_errors[err].code : "InternalError";
}

const char *
s3_error_message(int err)
{
    return err > 0 && err < S3_ERR_LAST ? s3_errors[err].message
                                        : "We encountered an internal error.";
}

static void
s3_error_send(http_req_t *hr, s3_req_t *r, int status, const char *code,
              const char *message, const char *extra)
{
    s3_xml_t  x;

    if (hr->responded || hr->aborted) {
        return;
    }
    if (status == 304) {
        http_resp_send(hr, 304, NULL, 0, NULL);
        return;
    }
    x.pool = hr->pool;
    x.buf = NULL;
    x.len = x.cap = 0;
    s3_xml_raw(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>", 46);
    s3_xml_elem_str(&x, "Code", code);
    s3_xml_elem_str(&x, "Message", message);
    if (r != NULL && r->key.len) {
        s3_xml_elem(&x, "Key", r->key.base, r->key.len);
    }
    if (r != NULL && r->bucket != NULL) {
        s3_xml_elem_str(&x, "BucketName", r->bucket);
    }
    if (extra != NULL) {
        s3_xml_raw(&x, extra, strlen(extra));
    }
    if (hr->path.base != NULL) {
        s3_xml_elem(&x, "Resource", hr->path.base, hr->path.len);
    }
    s3_xml_elem_str(&x, "RequestId", hr->id);
    s3_xml_elem_str(&x, "HostId", hr->id);
    s3_xml_raw(&x, "</Error>", 8);
    http_resp_send(hr, status, x.buf, x.len, "application/xml");
}

void
s3_error(s3_req_t *r, int err, const char *message)
{
    gw_log(GW_LOG_DEBUG, r->http->peer, 0, "%s %s", r->http->id,
           s3_error_code(err));
    s3_error_send(r->http, r, s3_error_status(err), s3_error_code(err),
                  message ? message : s3_error_message(err), NULL);
}

void
s3_on_error(http_req_t *hr, int status, const char *code, const char *message)
{
    s3_error_send(hr, hr->data, status, code, message, NULL);
}

void
s3_send_xml(s3_req_t *r, int status, s3_xml_t *x)
{
    http_resp_send(r->http, status, x->buf, x->len, "application/xml");
}

/* ==== lookups ==== */

const gw_str_t *
s3_param(const s3_req_t *r, const char *name)
{
    size_t  i, n = strlen(name);

    for (i = 0; i < r->nparams; i++) {
        if (r->params[i].name.len == n
            && memcmp(r->params[i].name.base, name, n) == 0)
        {
            return &r->params[i].value;
        }
    }
    return NULL;
}

const gw_str_t *
s3_header(const s3_req_t *r, const char *name)
{
    return http_req_header(r->http, name);
}

void
s3_owner_xml(s3_req_t *r, s3_xml_t *x, const char *tag, const char *owner,
             size_t len)
{
    const gw_conf_user_t  *u = gw_conf_user_by_name(r->ctx->cf, owner, len);

    s3_xml_open(x, tag);
    s3_xml_elem_str(x, "ID", s3_owner_id(r, owner, len));
    s3_xml_elem(x, "DisplayName", u ? u->display_name : owner,
                u ? strlen(u->display_name) : len);
    s3_xml_close(x, tag);
}

/* ==== parsing the request ==== */

static int
s3_parse_query(s3_req_t *r)
{
    gw_str_t     q = r->http->query;
    const char  *p = q.base, *end = q.base + q.len, *amp, *eq;
    size_t       n = 1, i, len;
    char        *buf;

    for (i = 0; i < q.len; i++) {
        n += q.base[i] == '&';
    }
    r->params = gw_pool_alloc(r->pool, sizeof(gw_kv_t) * n);
    r->nparams = 0;
    while (p < end) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }
        if (amp == p) {
            p++;
            continue;
        }
        eq = memchr(p, '=', (size_t) (amp - p));
        gw_kv_t  *kv = &r->params[r->nparams++];

        len = (size_t) ((eq ? eq : amp) - p);
        buf = gw_pool_alloc(r->pool, len + 1);
        if (s3_uri_decode(p, len, buf, &len, 1) != GW_OK) {
            return S3_ERR_INVALID_ARGUMENT;
        }
        kv->name.base = buf;
        kv->name.len = len;
        if (eq != NULL) {
            len = (size_t) (amp - eq - 1);
            buf = gw_pool_alloc(r->pool, len + 1);
            if (s3_uri_decode(eq + 1, len, buf, &len, 1) != GW_OK) {
                return S3_ERR_INVALID_ARGUMENT;
            }
            kv->value.base = buf;
            kv->value.len = len;
        } else {
            kv->value.base = "";
            kv->value.len = 0;
        }
        p = amp + 1;
    }
    return S3_ERR_NONE;
}

/* Bucket and key from Host (virtual-hosted style under server_name) or from
 * the path. */
static int
s3_parse_target(s3_req_t *r)
{
    const gw_conf_t  *cf = r->ctx->cf;
    const gw_str_t   *host = s3_header(r, "host");
    gw_str_t          path = r->http->path;
    char             *dec;
    size_t            len, hlen, sl, i;
    const char       *slash, *colon;

    if (path.len == 0 || path.base[0] != '/') {
        /* Absolute-form targets ("http://host/path") from proxies. */
        const char  *s = memmem(path.base, path.len, "://", 3);

        if (s == NULL || (s = memchr(s + 3, '/', (size_t) (path.base + path.len - s - 3))) == NULL) {
            return S3_ERR_INVALID_REQUEST;
        }
        path.len -= (size_t) (s - path.base);
        path.base = s;
    }
    dec = gw_pool_alloc(r->pool, path.len + 1);
    if (s3_uri_decode(path.base, path.len, dec, &len, 0) != GW_OK) {
        return S3_ERR_INVALID_ARGUMENT;
    }
    dec[len] = '\0';

    if (cf->server_name != NULL && host != NULL) {
        colon = memchr(host->base, ':', host->len);
        hlen = colon ? (size_t) (colon - host->base) : host->len;
        sl = strlen(cf->server_name);
        if (hlen > sl + 1 && host->base[hlen - sl - 1] == '.'
            && strncasecmp(host->base + hlen - sl, cf->server_name, sl) == 0)
        {
            r->bucket = gw_pool_strndup(r->pool, host->base, hlen - sl - 1);
            for (i = 0; r->bucket[i]; i++) {
                r->bucket[i] = (char) (r->bucket[i] >= 'A' && r->bucket[i] <= 'Z'
                                       ? r->bucket[i] + 32 : r->bucket[i]);
            }
            r->key.base = dec + 1;
            r->key.len = len - 1;
            r->target = r->key.len ? S3_OBJECT : S3_BUCKET;
            return S3_ERR_NONE;
        }
    }
    if (len <= 1) {
        r->target = S3_SERVICE;
        return S3_ERR_NONE;
    }
    slash = memchr(dec + 1, '/', len - 1);
    if (slash == NULL) {
        r->bucket = gw_pool_strndup(r->pool, dec + 1, len - 1);
        r->target = S3_BUCKET;
        return S3_ERR_NONE;
    }
    r->bucket = gw_pool_strndup(r->pool, dec + 1, (size_t) (slash - dec - 1));
    r->key.base = slash + 1;
    r->key.len = len - (size_t) (slash + 1 - dec);
    r->target = r->key.len ? S3_OBJECT : S3_BUCKET;
    return S3_ERR_NONE;
}

static int
s3_is_subresource(const gw_str_t *name)
{
    size_t  i;

    for (i = 0; i < GW_NELEMS(s3_subresources); i++) {
        if (name->len == strlen(s3_subresources[i])
            && memcmp(name->base, s3_subresources[i], name->len) == 0)
        {
            return 1;
        }
    }
    return 0;
}

/* Routes with a subresource win; a plain route only matches a query that
 * names no subresource. */
static int
s3_route(s3_req_t *r)
{
    const s3_route_t  *rt;
    size_t             t, i;
    int                method_seen = 0, sub = 0;

    for (t = 0; t < GW_NELEMS(s3_route_tables); t++) {
        for (rt = s3_route_tables[t]; rt->handler != NULL; rt++) {
            if (rt->target != r->target || rt->subresource == NULL
                || s3_param(r, rt->subresource) == NULL)
            {
                continue;
            }
            method_seen = 1;
            if (rt->method == r->http->method) {
                r->route = rt;
                return S3_ERR_NONE;
            }
        }
    }
    for (i = 0; i < r->nparams; i++) {
        sub |= s3_is_subresource(&r->params[i].name);
    }
    if (sub) {
        return method_seen ? S3_ERR_METHOD_NOT_ALLOWED : S3_ERR_NOT_IMPLEMENTED;
    }
    for (t = 0; t < GW_NELEMS(s3_route_tables); t++) {
        for (rt = s3_route_tables[t]; rt->handler != NULL; rt++) {
            if (rt->target != r->target || rt->subresource != NULL) {
                continue;
            }
            method_seen = 1;
            if (rt->method == r->http->method) {
                r->route = rt;
                return S3_ERR_NONE;
            }
        }
    }
    return S3_ERR_METHOD_NOT_ALLOWED;
}

/* ==== authentication ==== */

static int
s3_payload_mode(s3_req_t *r, gw_str_t v)
{
    if (gw_str_eq_lit(v, "UNSIGNED-PAYLOAD")) {
        return S3_PAYLOAD_UNSIGNED;
    }
    if (gw_str_eq_lit(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) {
        return S3_PAYLOAD_STREAMING_SIGNED;
    }
    if (gw_str_eq_lit(v, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")) {
        return S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
    }
    if (gw_str_eq_lit(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")) {
        return S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
    }
    if (v.len == 64 && gw_hex_decode(r->content_sha256, v.base, 64) == GW_OK) {
        return S3_PAYLOAD_SIGNED;
    }
    return 0;
}

static int
s3_authenticate(s3_req_t *r)
{
    http_req_t        *hr = r->http;
    s3_sigv4_input_t   in;
    s3_sigv4_auth_t   *a;
    const gw_str_t    *authz;
    char              *canon = NULL, *sts = NULL, *extra;
    int64_t            t;
    int                rc;

    in.method = hr->method_name;
    in.path = hr->path;
    in.query = hr->query;
    in.headers = hr->headers;
    in.nheaders = hr->nheaders;
    a = gw_pool_alloc(r->pool, sizeof(*a));

    authz = s3_header(r, "authorization");
    if (authz != NULL) {
        rc = s3_sigv4_parse_header(*authz, &in, a);
        if (rc == GW_DECLINED) {
            s3_error(r, S3_ERR_INVALID_REQUEST, "The authorization mechanism "
                     "you have provided is not supported. Please use "
                     "AWS4-HMAC-SHA256.");
            return -1;
        }
        if (rc != GW_OK) {
            return S3_ERR_AUTH_HEADER_MALFORMED;
        }
    } else {
        rc = s3_sigv4_parse_query(&in, a);
        if (rc == GW_DECLINED) {
            r->user = NULL;
            r->payload_mode = S3_PAYLOAD_UNSIGNED;
            return S3_ERR_NONE;
        }
        if (rc != GW_OK) {
            return S3_ERR_AUTH_QUERY_MALFORMED;
        }
    }

    r->user = gw_conf_user_by_access_key(r->ctx->cf, a->access_key.base,
                                         a->access_key.len);
    if (r->user == NULL) {
        return S3_ERR_INVALID_ACCESS_KEY_ID;
    }
    if (!gw_str_eq_lit(a->service, "s3")) {
        return a->presigned ? S3_ERR_AUTH_QUERY_MALFORMED
                            : S3_ERR_AUTH_HEADER_MALFORMED;
    }
    if (a->region.len != strlen(r->ctx->cf->region)
        || memcmp(a->region.base, r->ctx->cf->region, a->region.len) != 0)
    {
        char  *msg = gw_pool_sprintf(r->pool, "The authorization header is "
                                     "malformed; the region '%.*s' is wrong; "
                                     "expecting '%s'", (int) a->region.len,
                                     a->region.base, r->ctx->cf->region);

        s3_error(r, a->presigned ? S3_ERR_AUTH_QUERY_MALFORMED
                                 : S3_ERR_AUTH_HEADER_MALFORMED, msg);
        return -1;
    }
    if (s3_sigv4_time_parse(a->amz_date, &t) != GW_OK) {
        s3_error(r, S3_ERR_ACCESS_DENIED, "AWS authentication requires a "
                 "valid Date or x-amz-date header");
        return -1;
    }
    if (a->presigned) {
        if (r->now > t + a->expires) {
            return S3_ERR_EXPIRED_REQUEST;
        }
        if (t > r->now + S3_SKEW_MAX) {
            s3_error(r, S3_ERR_ACCESS_DENIED, "Request is not valid yet");
            return -1;
        }
    } else if (t > r->now + S3_SKEW_MAX || t < r->now - S3_SKEW_MAX) {
        return S3_ERR_REQUEST_TIME_TOO_SKEWED;
    }

    if (!a->presigned && a->payload_hash.len == 0
        && (hr->content_length > 0 || hr->chunked))
    {
        s3_error(r, S3_ERR_INVALID_REQUEST, "Missing required header for "
                 "this request: x-amz-content-sha256");
        return -1;
    }
    rc = s3_sigv4_verify(&in, a, r->user->secret_key, r->seed_sig, &canon,
                         &sts);
    if (rc != GW_OK) {
        extra = NULL;
        if (canon != NULL && sts != NULL) {
            s3_xml_t  x = { r->pool, NULL, 0, 0 };

            s3_xml_elem(&x, "AWSAccessKeyId", a->access_key.base,
                        a->access_key.len);
            s3_xml_elem_str(&x, "StringToSign", sts);
            s3_xml_elem_str(&x, "CanonicalRequest", canon);
            extra = x.buf;
        }
        free(canon);
        free(sts);
        s3_error_send(r->http, r, 403, "SignatureDoesNotMatch",
                      s3_error_message(S3_ERR_SIGNATURE_DOES_NOT_MATCH), extra);
        return -1;
    }
    free(canon);
    free(sts);

    if (a->presigned) {
        r->payload_mode = S3_PAYLOAD_UNSIGNED;
    } else {
        /* Without x-amz-content-sha256 (curl --aws-sigv4 on a GET) the
         * signature covered the empty body's hash; bodies need the header,
         * checked above. */
        r->payload_mode = a->payload_hash.len == 0
                          ? S3_PAYLOAD_UNSIGNED
                          : s3_payload_mode(r, a->payload_hash);
        if (r->payload_mode == 0) {
            s3_error(r, S3_ERR_INVALID_ARGUMENT, "x-amz-content-sha256 must be "
                     "UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
                     "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                     "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid "
                     "sha256 value.");
            return -1;
        }
    }
    memcpy(r->amz_date, a->amz_date, sizeof(r->amz_date));
    s3_sigv4_scope(a, r->scope, sizeof(r->scope));
    s3_sigv4_signing_key(r->user->secret_key, a->date, a->region, a->service,
                         r->signing_key);
    return S3_ERR_NONE;
}

/* ==== the entry point ==== */

void
s3_on_request(http_req_t *hr)
{
    s3_req_t  *r;
    int        rc;

    r = gw_pool_calloc(hr->pool, sizeof(*r));
    r->http = hr;
    r->ctx = hr->ctx;
    r->pool = hr->pool;
    r->now = (int64_t) time(NULL);
    hr->data = r;

    rc = s3_parse_target(r);
    if (rc == S3_ERR_NONE) {
        rc = s3_parse_query(r);
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_authenticate(r);
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_route(r);
    }
    if (rc == S3_ERR_NONE && r->bucket != NULL
        && strlen(r->bucket) > STORE_BUCKET_MAX)
    {
        rc = r->route->handler != NULL && r->target == S3_BUCKET
             && r->http->method == HTTP_PUT ? S3_ERR_INVALID_BUCKET_NAME
                                            : S3_ERR_NO_SUCH_BUCKET;
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_access_request(r);
    }
    if (rc == S3_ERR_NONE) {
        gw_log(GW_LOG_DEBUG, hr->peer, 0, "%s %s user %s", hr->id,
               r->route->action, r->user ? r->user->name : "(anonymous)");
        rc = r->route->handler(r);
    }
    if (rc > 0) {
        s3_error(r, rc, NULL);
    }
}
