/* s3/auth/signature.c: who sent a request: the signature scheme it uses
 * (SigV4 or SigV2, in the Authorization header or presigned in the query;
 * none: anonymous), checked against the caller's secret, the clock and the
 * region, and the payload mode its x-amz-content-sha256 declares. */
#include "s3/auth/signature.h"
#include "s3/auth/sigv2.h"
#include "s3/auth/sigv4.h"
#include "core/log.h"

#include <strings.h>

#define S3_SKEW_MAX  (15 * 60)   /* seconds, as S3 */

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

/* r->body_signature of a SigV4 streaming upload. */
static void
s3_auth_sigv4_body(const s3_req_t *r, int trailer, const unsigned char prev[32],
                   const unsigned char hash[32], unsigned char out[32])
{
    if (trailer) {
        s3_sigv4_trailer_signature(r->signing_key, r->amz_date, r->scope, prev,
                                   hash, out);
    } else {
        s3_sigv4_chunk_signature(r->signing_key, r->amz_date, r->scope, prev,
                                 hash, out);
    }
}

/* Every header that steers the request must be covered by its signature
 * (the exemptions, with their reasons, are in sigv4.c): else AccessDenied
 * naming those that are not, as Amazon S3 answers. */
static int
s3_auth_headers_signed(s3_req_t *r, const s3_sigv4_input_t *in,
                       const s3_sigv4_auth_t *a)
{
    char      names[512];
    s3_xml_t  x = { r->pool, NULL, 0, 0 };

    if (s3_sigv4_unsigned_headers(in, a, names, sizeof(names)) == 0) {
        return S3_ERR_NONE;
    }
    gw_log(GW_LOG_DEBUG, r->http->peer, 0, "%s headers not signed: %s",
           r->http->id, names);
    s3_xml_elem_str(&x, "HeadersNotSigned", names);
    s3_error_send(r->http, r, 403, "AccessDenied", "There were headers "
                  "present in the request which were not signed", x.buf);
    return -1;
}

/* What a SigV4 request claims besides its signature: the service, the
 * region, the time (and a presigned URL's expiry). S3_ERR_NONE, an S3
 * error, or -1 when answered. */
static int
s3_auth_sigv4_claims(s3_req_t *r, const s3_sigv4_auth_t *a)
{
    int64_t  t;

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
    return S3_ERR_NONE;
}

/* The payload mode x-amz-content-sha256 declares (a presigned request's is
 * unsigned), and how the body's own signatures are checked. S3_ERR_NONE or
 * -1 when answered. */
static int
s3_auth_sigv4_payload(s3_req_t *r, const s3_sigv4_auth_t *a)
{
    if (a->presigned) {
        r->payload_mode = S3_PAYLOAD_UNSIGNED;
    } else {
        /* Without x-amz-content-sha256 (curl --aws-sigv4 on a GET) the
         * signature covered the empty body's hash; bodies need the header,
         * which s3_auth_sigv4 checked. */
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
    if (r->payload_mode == S3_PAYLOAD_STREAMING_SIGNED
        || r->payload_mode == S3_PAYLOAD_STREAMING_SIGNED_TRAILER)
    {
        r->body_signature = s3_auth_sigv4_body;
    }
    return S3_ERR_NONE;
}

/* SigV4, in the Authorization header (authz) or presigned: S3_ERR_NONE,
 * an S3 error, -1 when answered, or GW_DECLINED when the request does not
 * use it. */
static int
s3_auth_sigv4(s3_req_t *r, const gw_str_t *authz)
{
    http_req_t        *hr = r->http;
    s3_sigv4_input_t   in;
    s3_sigv4_auth_t   *a;
    char              *canon = NULL, *sts = NULL, *extra;
    int                rc;

    in.method = hr->method_name;
    in.path = hr->path;
    in.query = hr->query;
    in.headers = hr->headers;
    in.nheaders = hr->nheaders;
    a = gw_pool_alloc(r->pool, sizeof(*a));

    if (authz != NULL) {
        rc = s3_sigv4_parse_header(*authz, &in, a);
        if (rc != GW_OK) {
            return rc == GW_DECLINED ? GW_DECLINED
                                     : S3_ERR_AUTH_HEADER_MALFORMED;
        }
    } else {
        rc = s3_sigv4_parse_query(&in, a);
        if (rc != GW_OK) {
            return rc == GW_DECLINED ? GW_DECLINED
                                     : S3_ERR_AUTH_QUERY_MALFORMED;
        }
    }

    r->user = gw_conf_user_by_access_key(r->ctx->cf, a->access_key.base,
                                         a->access_key.len);
    if (r->user == NULL) {
        return S3_ERR_INVALID_ACCESS_KEY_ID;
    }
    rc = s3_auth_sigv4_claims(r, a);
    if (rc != S3_ERR_NONE) {
        return rc;
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
    if (s3_auth_headers_signed(r, &in, a) != S3_ERR_NONE) {
        return -1;
    }

    rc = s3_auth_sigv4_payload(r, a);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    r->signature_version = "AWS4-HMAC-SHA256";
    r->presigned = a->presigned;
    memcpy(r->amz_date, a->amz_date, sizeof(r->amz_date));
    s3_sigv4_scope(a, r->scope, sizeof(r->scope));
    s3_sigv4_signing_key(r->user->secret_key, a->date, a->region, a->service,
                         r->signing_key);
    return S3_ERR_NONE;
}

/* A SigV2 presigned URL carries the x-amz-* headers it signed as query
 * parameters (botocore moves x-amz-acl, x-amz-meta-* there): they count as
 * the headers they stand for, after any the request sent itself. */
static void
s3_auth_query_headers(s3_req_t *r)
{
    http_req_t  *hr = r->http;
    gw_kv_t     *h;
    size_t       i, n = 0;

    for (i = 0; i < r->nparams; i++) {
        n += r->params[i].name.len > 6
             && gw_ascii_ieq(r->params[i].name.base, 6, "x-amz-", 6);
    }
    if (n == 0) {
        return;
    }
    h = gw_pool_alloc(r->pool, (hr->nheaders + n) * sizeof(*h));
    memcpy(h, hr->headers, hr->nheaders * sizeof(*h));
    n = hr->nheaders;
    for (i = 0; i < r->nparams; i++) {
        const gw_kv_t  *p = &r->params[i];
        char           *name;
        size_t          j;

        if (p->name.len <= 6 || !gw_ascii_ieq(p->name.base, 6, "x-amz-", 6)) {
            continue;
        }
        name = gw_pool_alloc(r->pool, p->name.len + 1);
        for (j = 0; j < p->name.len; j++) {
            name[j] = (char) gw_ascii_lower(p->name.base[j]);
        }
        name[j] = '\0';
        h[n].name.base = name;
        h[n].name.len = p->name.len;
        h[n].value = p->value;
        n++;
    }
    hr->headers = h;
    hr->nheaders = n;
}

/* SigV2 ("AWS AK:sig" or AWSAccessKeyId/Expires/Signature): every x-amz-*
 * header is in its string to sign, the body is unsigned. Returns as
 * s3_auth_sigv4. */
static int
s3_auth_sigv2(s3_req_t *r, const gw_str_t *authz)
{
    http_req_t        *hr = r->http;
    s3_sigv2_input_t   in;
    s3_sigv2_auth_t   *a;
    char              *sts = NULL;
    s3_xml_t           x = { r->pool, NULL, 0, 0 };
    int                rc;

    in.method = hr->method_name;
    in.path = hr->path;
    in.query = hr->query;
    in.headers = hr->headers;
    in.nheaders = hr->nheaders;
    in.bucket.base = r->bucket_in_host ? r->bucket : NULL;
    in.bucket.len = r->bucket_in_host ? strlen(r->bucket) : 0;
    a = gw_pool_alloc(r->pool, sizeof(*a));

    if (authz != NULL) {
        rc = s3_sigv2_parse_header(*authz, &in, a);
        if (rc == GW_EINVAL) {
            s3_error(r, S3_ERR_INVALID_ARGUMENT, "AWS authorization header "
                     "is invalid. Expected AwsAccessKeyId:signature");
            return -1;
        }
        if (rc == GW_ENOTFOUND) {
            s3_error(r, S3_ERR_ACCESS_DENIED, "AWS authentication requires "
                     "a valid Date or x-amz-date header");
            return -1;
        }
    } else {
        rc = s3_sigv2_parse_query(&in, a);
        if (rc == GW_EINVAL) {
            s3_error(r, S3_ERR_ACCESS_DENIED, "Query-string authentication "
                     "requires the Signature, Expires and AWSAccessKeyId "
                     "parameters");
            return -1;
        }
    }
    if (rc != GW_OK) {
        return rc;                                   /* GW_DECLINED */
    }
    r->user = gw_conf_user_by_access_key(r->ctx->cf, a->access_key.base,
                                         a->access_key.len);
    if (r->user == NULL) {
        return S3_ERR_INVALID_ACCESS_KEY_ID;
    }
    if (a->presigned ? r->now > a->expires
                     : a->time > r->now + S3_SKEW_MAX
                       || a->time < r->now - S3_SKEW_MAX)
    {
        return a->presigned ? S3_ERR_EXPIRED_REQUEST
                            : S3_ERR_REQUEST_TIME_TOO_SKEWED;
    }
    if (s3_sigv2_verify(&in, a, r->user->secret_key, &sts) != GW_OK) {
        s3_xml_elem(&x, "AWSAccessKeyId", a->access_key.base,
                    a->access_key.len);
        s3_xml_elem_str(&x, "StringToSign", sts);
        gw_free(sts);
        s3_error_send(r->http, r, 403, "SignatureDoesNotMatch",
                      s3_error_message(S3_ERR_SIGNATURE_DOES_NOT_MATCH),
                      x.buf);
        return -1;
    }
    gw_free(sts);
    if (a->presigned) {
        s3_auth_query_headers(r);
    }
    r->payload_mode = S3_PAYLOAD_UNSIGNED;
    r->signature_version = "AWS";
    r->presigned = a->presigned;
    return S3_ERR_NONE;
}

int
s3_auth_request(s3_req_t *r)
{
    const gw_str_t  *authz = s3_header(r, "authorization");
    int              rc;

    if (authz != NULL && (s3_param(r, "X-Amz-Signature") != NULL
                          || s3_param(r, "Signature") != NULL))
    {
        s3_error(r, S3_ERR_INVALID_ARGUMENT, "Only one auth mechanism "
                 "allowed; only the X-Amz-Algorithm query parameter, "
                 "Signature query string parameter or the Authorization "
                 "header should be specified");
        return -1;
    }
    rc = s3_auth_sigv4(r, authz);
    if (rc == GW_DECLINED) {
        rc = s3_auth_sigv2(r, authz);
    }
    if (rc != GW_DECLINED) {
        return rc;
    }
    if (authz != NULL) {
        s3_error(r, S3_ERR_INVALID_REQUEST, "The authorization mechanism "
                 "you have provided is not supported. Please use "
                 "AWS4-HMAC-SHA256.");
        return -1;
    }
    r->user = NULL;                                  /* anonymous */
    r->payload_mode = S3_PAYLOAD_UNSIGNED;
    return S3_ERR_NONE;
}
