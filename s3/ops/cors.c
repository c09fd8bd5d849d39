/* s3/ops/cors.c: PutBucketCors, GetBucketCors, DeleteBucketCors, and CORS
 * on every request to a bucket or an object:
 *
 *   - an OPTIONS preflight is answered here, before any signature or
 *     access check (a browser sends it without credentials), from the
 *     first rule that allows its Origin, Access-Control-Request-Method and
 *     Access-Control-Request-Headers;
 *   - any other request that carries Origin gets the Access-Control-*
 *     headers of the first rule that allows its origin and method, added
 *     before anything is answered, so errors carry them too (a browser
 *     script can read a 403 or a 404). They grant nothing: the access
 *     decision is unchanged.
 *
 * The configuration is kept as the XML document it was put with, in the
 * bucket's "cors" configuration document, and read again (parsed) for each
 * request that carries Origin; a request without Origin reads nothing. A
 * bucket without one uses the server's cors_default block, if any. The
 * model is s3/cors.c's. */
#include "s3/ops/ops.h"
#include "s3/cors.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "core/log.h"

#include "llhttp.h"

static int s3_cors_op_get(s3_req_t *r), s3_cors_op_put(s3_req_t *r),
    s3_cors_op_delete(s3_req_t *r);

/* As in S3, deleting a configuration takes s3:PutBucketCORS. */
const s3_route_t  s3_cors_routes[] = {
    { HTTP_GET,    S3_BUCKET, "cors", "GetBucketCors", s3_cors_op_get, 0,
      "s3:GetBucketCORS", NULL },
    { HTTP_PUT,    S3_BUCKET, "cors", "PutBucketCors", s3_cors_op_put,
      S3_BODY, "s3:PutBucketCORS", NULL },
    { HTTP_DELETE, S3_BUCKET, "cors", "DeleteBucketCors", s3_cors_op_delete,
      0, "s3:PutBucketCORS", NULL },
    S3_ROUTE_END
};


/* ==== GetBucketCors ==== */

static int
s3_cors_op_get(s3_req_t *r)
{
    s3_cors_conf_t  *c;
    const char      *msg;
    s3_xml_t         x;
    gw_str_t         v;
    int              rc;

    rc = store_bconf_get(r->ctx->store, r->bucket, STORE_BCONF_CORS, r->pool,
                         &v);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_CORS_CONFIGURATION;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "CORS configuration lookup "
               "failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    if (s3_cors_parse(r->pool, v.base, v.len, &c, &msg) != S3_ERR_NONE) {
        gw_log(GW_LOG_ERR, r->http->peer, GW_ECORRUPT, "the CORS "
               "configuration of bucket %s does not parse", r->bucket);
        return S3_ERR_INTERNAL_ERROR;
    }
    s3_cors_xml(c, &x, r->pool);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}


/* ==== PutBucketCors ==== */

static void
s3_cors_op_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_cors_conf_t  *c;
    const char      *msg = NULL;
    gw_str_t         v;

    if (err == S3_ERR_NONE) {
        err = s3_cors_parse(r->pool, buf, len, &c, &msg);
    } else if (err == S3_ERR_ENTITY_TOO_LARGE) {
        err = S3_ERR_MALFORMED_XML;     /* no configuration is this long */
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err, msg);
        return;
    }
    v.base = buf;
    v.len = len;
    s3_bucket_conf_put(r, STORE_BCONF_CORS, v, 200);
}

static int
s3_cors_op_put(s3_req_t *r)
{
    int64_t  cl = r->http->content_length;
    size_t   max = S3_CORS_BODY_MAX;
    int      rc;

    /* S3 requires an integrity check on this body (the SDKs send one);
     * the payload pipeline verifies the one given. */
    if (!s3_payload_has_digest(r)) {
        s3_error(r, S3_ERR_INVALID_REQUEST, "Missing required header for "
                 "this request: Content-MD5");
        return GW_OK;
    }
    /* The collect buffer is allocated whole: no bigger than the body. An
     * aws-chunked body's framing only makes cl larger than its bytes. */
    if (cl >= 0 && (uint64_t) cl <= S3_CORS_BODY_MAX) {
        max = (size_t) cl;
    } else if (cl >= 0 && (r->payload_mode == S3_PAYLOAD_SIGNED
                           || r->payload_mode == S3_PAYLOAD_UNSIGNED))
    {
        return S3_ERR_MALFORMED_XML;
    }
    rc = s3_payload_collect(r, max, s3_cors_op_put_body);
    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_XML;
    }
    return rc == GW_DONE ? GW_OK : rc;
}


/* ==== DeleteBucketCors ==== */

static int
s3_cors_op_delete(s3_req_t *r)
{
    gw_str_t  none = { NULL, 0 };

    /* Deleting what is not there succeeds, as S3 answers it. */
    s3_bucket_conf_put(r, STORE_BCONF_CORS, none, 204);
    return GW_DONE;
}


/* ==== CORS on every request ==== */

/* The configuration that applies to the request's bucket: its own, else
 * cors_default, else NULL. GW_OK, or GW_ERROR when the stored document
 * cannot be read (logged; the request goes on without CORS). */
static int
s3_cors_conf_of(s3_req_t *r, const s3_cors_conf_t **out)
{
    gw_str_t     v;
    int          rc;

    *out = NULL;
    rc = store_bconf_get(r->ctx->store, r->bucket, STORE_BCONF_CORS, r->pool,
                         &v);
    if (rc == GW_ENOTFOUND) {
        *out = s3_cors_default(r->pool, r->ctx->cf);
        return GW_OK;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "CORS configuration lookup "
               "failed");
        return GW_ERROR;
    }
    /* Parsed once per process and document (s3_cors_cached). */
    if (s3_cors_cached(r->ctx, r->bucket, v, out) != S3_ERR_NONE) {
        gw_log(GW_LOG_ERR, r->http->peer, GW_ECORRUPT, "the CORS "
               "configuration of bucket %s does not parse", r->bucket);
        *out = NULL;
        return GW_ERROR;
    }
    return GW_OK;
}

/* A preflight refused with 403 AccessForbidden: S3 names the method asked
 * for and what the URL addresses. */
static void
s3_cors_forbidden(s3_req_t *r, const gw_str_t *method, const char *message)
{
    const char  *extra;

    extra = gw_pool_sprintf(r->pool, "<Method>%.*s</Method>"
                            "<ResourceType>%s</ResourceType>",
                            (int) method->len, method->base,
                            r->target == S3_OBJECT ? "OBJECT" : "BUCKET");
    s3_error_send(r->http, r, 403, "AccessForbidden", message, extra);
}

static int
s3_cors_method_known(const gw_str_t *m)
{
    return gw_str_eq_lit(*m, "GET") || gw_str_eq_lit(*m, "PUT")
           || gw_str_eq_lit(*m, "POST") || gw_str_eq_lit(*m, "DELETE")
           || gw_str_eq_lit(*m, "HEAD");
}

/* OPTIONS: answers the preflight, in S3's order of checks. */
static void
s3_cors_preflight(s3_req_t *r)
{
    const gw_str_t        *origin, *method, *headers;
    const s3_cors_rule_t  *rule;
    const s3_cors_conf_t  *c;
    store_bucket_t         b;
    int                    rc;

    origin = s3_header(r, "origin");
    method = s3_header(r, "access-control-request-method");
    headers = s3_header(r, "access-control-request-headers");
    if (origin == NULL || origin->len == 0) {
        s3_error(r, S3_ERR_BAD_REQUEST, "Insufficient information. Origin "
                 "request header needed.");
        return;
    }
    if (method == NULL || !s3_cors_method_known(method)) {
        s3_error(r, S3_ERR_BAD_REQUEST, method == NULL
                 ? "Invalid Access-Control-Request-Method: null"
                 : gw_pool_sprintf(r->pool, "Invalid Access-Control-Request-"
                                   "Method: %.*s", (int) method->len,
                                   method->base));
        return;
    }
    if (r->bucket == NULL) {
        /* The service has no CORS configuration to allow anything. */
        s3_cors_forbidden(r, method, s3_error_message(S3_ERR_ACCESS_FORBIDDEN));
        return;
    }
    rc = strlen(r->bucket) > STORE_BUCKET_MAX
         ? GW_ENOTFOUND : store_bucket_get(r->ctx->store, r->bucket, &b);
    if (rc == GW_ENOTFOUND) {
        s3_cors_forbidden(r, method, "CORSResponse: Bucket not found");
        return;
    }
    if (rc != GW_OK || s3_cors_conf_of(r, &c) != GW_OK) {
        s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        return;
    }
    if (c == NULL) {
        s3_cors_forbidden(r, method, "CORSResponse: CORS is not enabled for "
                          "this bucket.");
        return;
    }
    rule = s3_cors_match(c, *origin, *method, headers);
    if (rule == NULL) {
        s3_cors_forbidden(r, method,
                          s3_error_message(S3_ERR_ACCESS_FORBIDDEN));
        return;
    }
    s3_cors_headers(r->http, rule, *origin, headers);
    http_resp_send(r->http, 200, NULL, 0, NULL);
}

int
s3_cors_request(s3_req_t *r)
{
    const gw_str_t        *origin;
    const s3_cors_rule_t  *rule;
    const s3_cors_conf_t  *c;

    if (r->http->method == HTTP_OPTIONS) {
        s3_cors_preflight(r);
        return GW_DONE;
    }
    origin = s3_header(r, "origin");
    if (origin == NULL || origin->len == 0 || r->bucket == NULL
        || strlen(r->bucket) > STORE_BUCKET_MAX
        || s3_cors_conf_of(r, &c) != GW_OK)
    {
        return GW_OK;
    }
    rule = s3_cors_match(c, *origin, r->http->method_name, NULL);
    if (rule != NULL) {
        s3_cors_headers(r->http, rule, *origin, NULL);
    }
    return GW_OK;
}
