/* s3/ops/controls.c: PutBucketOwnershipControls, GetBucketOwnershipControls,
 * DeleteBucketOwnershipControls, PutPublicAccessBlock, GetPublicAccessBlock,
 * DeletePublicAccessBlock and GetBucketPolicyStatus.
 *
 * The settings' model (documents, stored forms) is s3/auth/controls.c's,
 * what they mean for a request s3/auth/access.c's; each is stored as a
 * bucket configuration document ("ownership", "pab"), so deleting the
 * bucket drops it. As in S3, deleting takes the Put action. */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "core/log.h"

#include "llhttp.h"

#define S3_CONTROLS_BODY_MAX  (16 * 1024)

static int s3_own_op_get(s3_req_t *r), s3_own_op_put(s3_req_t *r),
    s3_own_op_delete(s3_req_t *r), s3_pab_op_get(s3_req_t *r),
    s3_pab_op_put(s3_req_t *r), s3_pab_op_delete(s3_req_t *r),
    s3_policy_status(s3_req_t *r);

const s3_route_t  s3_controls_routes[] = {
    { HTTP_GET,    S3_BUCKET, "ownershipControls",
      "GetBucketOwnershipControls", s3_own_op_get, 0,
      "s3:GetBucketOwnershipControls", NULL },
    { HTTP_PUT,    S3_BUCKET, "ownershipControls",
      "PutBucketOwnershipControls", s3_own_op_put, S3_BODY,
      "s3:PutBucketOwnershipControls", NULL },
    { HTTP_DELETE, S3_BUCKET, "ownershipControls",
      "DeleteBucketOwnershipControls", s3_own_op_delete, 0,
      "s3:PutBucketOwnershipControls", NULL },
    { HTTP_GET,    S3_BUCKET, "publicAccessBlock", "GetPublicAccessBlock",
      s3_pab_op_get, 0, "s3:GetBucketPublicAccessBlock", NULL },
    { HTTP_PUT,    S3_BUCKET, "publicAccessBlock", "PutPublicAccessBlock",
      s3_pab_op_put, S3_BODY, "s3:PutBucketPublicAccessBlock", NULL },
    { HTTP_DELETE, S3_BUCKET, "publicAccessBlock", "DeletePublicAccessBlock",
      s3_pab_op_delete, 0, "s3:PutBucketPublicAccessBlock", NULL },
    { HTTP_GET,    S3_BUCKET, "policyStatus", "GetBucketPolicyStatus",
      s3_policy_status, 0, "s3:GetBucketPolicyStatus", NULL },
    S3_ROUTE_END
};


/* ==== Object Ownership ==== */

static int
s3_own_op_get(s3_req_t *r)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);
    s3_xml_t                   x;

    if (ba == NULL) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    if (!ba->has_ownership) {
        return S3_ERR_OWNERSHIP_CONTROLS_NOT_FOUND;
    }
    s3_ownership_xml(ba->ownership, &x, r->pool);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

static void
s3_own_op_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);
    gw_str_t                   v;
    int                        ownership;

    if (err == S3_ERR_NONE && ba == NULL) {
        err = S3_ERR_NO_SUCH_BUCKET;
    }
    if (err == S3_ERR_NONE) {
        err = s3_ownership_parse_xml(buf, len, &ownership);
    }
    /* S3 will not disable ACLs that grant anything beyond the owner: they
     * would stop meaning what they say without anyone being told. */
    if (err == S3_ERR_NONE && ownership == S3_OWNERSHIP_ENFORCED
        && ba->acl != NULL && !s3_acl_owner_only(ba->acl, ba->owner_id))
    {
        err = S3_ERR_INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP;
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err == S3_ERR_ENTITY_TOO_LARGE ? S3_ERR_MALFORMED_XML
                                                   : err, NULL);
        return;
    }
    v.base = s3_ownership_encode(r->pool, ownership, &v.len);
    s3_bucket_conf_put(r, STORE_BCONF_OWNERSHIP, v, 200);
}

static int
s3_own_op_put(s3_req_t *r)
{
    int  rc = s3_payload_collect(r, S3_CONTROLS_BODY_MAX, s3_own_op_put_body);

    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_XML;
    }
    return rc == GW_DONE ? GW_OK : rc;
}

static int
s3_own_op_delete(s3_req_t *r)
{
    gw_str_t  none = { NULL, 0 };

    /* Without a setting the bucket is ObjectWriter, as S3's buckets from
     * before Object Ownership. */
    s3_bucket_conf_put(r, STORE_BCONF_OWNERSHIP, none, 204);
    return GW_DONE;
}


/* ==== Block Public Access ==== */

static int
s3_pab_op_get(s3_req_t *r)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);
    s3_xml_t                   x;

    if (ba == NULL) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    if (!ba->has_pab) {
        return S3_ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK;
    }
    s3_pab_xml(&ba->pab, &x, r->pool);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

static void
s3_pab_op_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_pab_t  pab;
    gw_str_t  v;

    if (err == S3_ERR_NONE) {
        err = s3_pab_parse_xml(buf, len, &pab);
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err == S3_ERR_ENTITY_TOO_LARGE ? S3_ERR_MALFORMED_XML
                                                   : err, NULL);
        return;
    }
    v.base = s3_pab_encode(r->pool, &pab, &v.len);
    s3_bucket_conf_put(r, STORE_BCONF_PAB, v, 200);
}

static int
s3_pab_op_put(s3_req_t *r)
{
    int  rc = s3_payload_collect(r, S3_CONTROLS_BODY_MAX, s3_pab_op_put_body);

    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_XML;
    }
    return rc == GW_DONE ? GW_OK : rc;
}

static int
s3_pab_op_delete(s3_req_t *r)
{
    gw_str_t  none = { NULL, 0 };

    s3_bucket_conf_put(r, STORE_BCONF_PAB, none, 204);
    return GW_DONE;
}


/* ==== GetBucketPolicyStatus ==== */

static int
s3_policy_status(s3_req_t *r)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);
    s3_xml_t                   x;

    if (ba == NULL) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    if (ba->policy == NULL) {
        return S3_ERR_NO_SUCH_BUCKET_POLICY;
    }
    s3_xml_begin(&x, r->pool, "PolicyStatus");
    s3_xml_elem_str(&x, "IsPublic", ba->policy_public ? "true" : "false");
    s3_xml_end(&x, "PolicyStatus");
    s3_send_xml(r, 200, &x);
    return GW_OK;
}
