/* s3/ops/lifecycle.c: PutBucketLifecycleConfiguration,
 * GetBucketLifecycleConfiguration, DeleteBucketLifecycle.
 *
 * The configuration model (reading, validation, stored form, the document
 * given back) is s3/lifecycle.c's; a configuration is stored as the
 * bucket's "lifecycle" configuration document, so deleting the bucket
 * drops it. The background worker (s3/bg/lifecycle.c) carries it out. */
#include "s3/ops/ops.h"
#include "s3/lifecycle.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "core/log.h"

#include "llhttp.h"

static int s3_lc_op_get(s3_req_t *r), s3_lc_op_put(s3_req_t *r),
    s3_lc_op_delete(s3_req_t *r);

/* S3 asks for s3:PutLifecycleConfiguration to delete a configuration;
 * there is no s3:DeleteLifecycleConfiguration. */
const s3_route_t  s3_lifecycle_routes[] = {
    { HTTP_GET,    S3_BUCKET, "lifecycle", "GetBucketLifecycleConfiguration",
      s3_lc_op_get, 0, "s3:GetLifecycleConfiguration", NULL },
    { HTTP_PUT,    S3_BUCKET, "lifecycle", "PutBucketLifecycleConfiguration",
      s3_lc_op_put, S3_BODY, "s3:PutLifecycleConfiguration", NULL },
    { HTTP_DELETE, S3_BUCKET, "lifecycle", "DeleteBucketLifecycle",
      s3_lc_op_delete, 0, "s3:PutLifecycleConfiguration", NULL },
    S3_ROUTE_END
};


/* ==== GetBucketLifecycleConfiguration ==== */

static int
s3_lc_op_get(s3_req_t *r)
{
    s3_lc_conf_t  *c;
    s3_xml_t       x;
    gw_str_t       v;
    int            rc;

    rc = store_bconf_get(r->ctx->store, r->bucket, STORE_BCONF_LIFECYCLE,
                         r->pool, &v);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_LIFECYCLE_CONFIGURATION;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "lifecycle configuration "
               "lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    if (s3_lifecycle_decode(r->pool, v.base, v.len, &c) != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, GW_ECORRUPT, "the lifecycle "
               "configuration of bucket %s does not decode", r->bucket);
        return S3_ERR_INTERNAL_ERROR;
    }
    s3_lifecycle_xml(c, &x, r->pool);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}


/* ==== PutBucketLifecycleConfiguration ==== */

static void
s3_lc_op_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_lc_conf_t  *c;
    const char    *msg = NULL;

    if (err == S3_ERR_NONE) {
        err = s3_lifecycle_parse(r->pool, buf, len, &c, &msg);
    } else if (err == S3_ERR_ENTITY_TOO_LARGE) {
        err = S3_ERR_MALFORMED_XML;     /* no configuration is this long */
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err, msg);
        return;
    }
    s3_bucket_conf_put(r, STORE_BCONF_LIFECYCLE,
                       s3_lifecycle_encode(r->pool, c), 200);
}

static int
s3_lc_op_put(s3_req_t *r)
{
    int64_t  cl = r->http->content_length;
    size_t   max = S3_LC_BODY_MAX;
    int      rc;

    /* S3 requires an integrity check on this body: Content-MD5, or an
     * x-amz-checksum-* (boto3 and the CLI send one); the payload pipeline
     * verifies whichever came. */
    if (!s3_payload_has_digest(r)) {
        s3_error(r, S3_ERR_INVALID_REQUEST, "Missing required header for "
                 "this request: Content-MD5");
        return GW_OK;
    }
    /* The collect buffer is allocated whole: no bigger than the body. */
    if (cl >= 0 && (uint64_t) cl <= S3_LC_BODY_MAX) {
        max = (size_t) cl;
    } else if (cl >= 0 && (r->payload_mode == S3_PAYLOAD_SIGNED
                           || r->payload_mode == S3_PAYLOAD_UNSIGNED))
    {
        return S3_ERR_MALFORMED_XML;
    }
    rc = s3_payload_collect(r, max, s3_lc_op_put_body);
    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_XML;
    }
    return rc == GW_DONE ? GW_OK : rc;
}


/* ==== DeleteBucketLifecycle ==== */

static int
s3_lc_op_delete(s3_req_t *r)
{
    gw_str_t  none = { NULL, 0 };

    /* Deleting what is not there succeeds, as S3 answers it. */
    s3_bucket_conf_put(r, STORE_BCONF_LIFECYCLE, none, 204);
    return GW_DONE;
}
