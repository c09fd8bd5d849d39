/* s3/ops/acl.c: GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl.
 *
 * The ACL model (grants, canned ACLs, documents, the stored form) is
 * s3/auth/acl.c's; a bucket ACL is stored as the bucket's "acl"
 * configuration document, an object ACL inside the object record
 * (rewritten with s3_object_rewrite). */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "s3/version.h"
#include "core/log.h"

#include "llhttp.h"

static int s3_acl_bucket_get(s3_req_t *r), s3_acl_bucket_put(s3_req_t *r),
    s3_acl_object_get(s3_req_t *r), s3_acl_object_put(s3_req_t *r);

const s3_route_t  s3_acl_routes[] = {
    { HTTP_GET, S3_BUCKET, "acl", "GetBucketAcl", s3_acl_bucket_get, 0,
      "s3:GetBucketAcl", NULL },
    { HTTP_PUT, S3_BUCKET, "acl", "PutBucketAcl", s3_acl_bucket_put, S3_BODY,
      "s3:PutBucketAcl", NULL },
    { HTTP_GET, S3_OBJECT, "acl", "GetObjectAcl", s3_acl_object_get, 0,
      "s3:GetObjectAcl", NULL },
    { HTTP_PUT, S3_OBJECT, "acl", "PutObjectAcl", s3_acl_object_put, S3_BODY,
      "s3:PutObjectAcl", NULL },
    S3_ROUTE_END
};


#define S3_ACL_BODY_MAX  (64 * 1024)

/* The ACL a resource has: its stored form, or private to owner. */
static int
s3_acl_stored(s3_req_t *r, gw_str_t stored, const char *owner, s3_acl_t *out)
{
    if (stored.len == 0) {
        return s3_acl_canned(r->pool, "private", 7, owner, owner, out);
    }
    if (s3_acl_decode(r->pool, stored.base, stored.len, out) != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, GW_ECORRUPT, "a stored ACL does "
               "not decode");
        return S3_ERR_INTERNAL_ERROR;
    }
    return S3_ERR_NONE;
}

static int
s3_acl_send(s3_req_t *r, const s3_acl_t *acl)
{
    s3_acl_dir_t  dir;
    s3_xml_t      x;

    s3_acl_dir(r, &dir);
    x.pool = r->pool;
    s3_acl_xml(acl, &dir, &x);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

/* The new ACL of a Put*Acl request, from its headers or its body, encoded
 * into *out: S3_ERR_NONE or the error, with *msg set or NULL. */
static int
s3_acl_new(s3_req_t *r, const char *owner, const char *bucket_owner,
           const char *buf, size_t len, gw_str_t *out, const char **msg)
{
    s3_acl_dir_t  dir;
    s3_acl_t      acl;
    size_t        i;
    int           rc;

    rc = s3_acl_from_headers(r, owner, bucket_owner, out, msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    for (i = 0; i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'
                            || buf[i] == '\n'); i++)
    {
        /* a blank body is no body */
    }
    if (out->base != NULL) {
        return i < len ? S3_ERR_UNEXPECTED_CONTENT : S3_ERR_NONE;
    }
    if (i == len) {
        *msg = "You must specify an ACL: an AccessControlPolicy document, "
               "x-amz-acl or x-amz-grant-* headers";
        return S3_ERR_MALFORMED_ACL_ERROR;
    }
    s3_acl_dir(r, &dir);
    rc = s3_acl_parse_xml(r->pool, buf, len, &dir, &acl);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    /* The owner cannot be changed through the ACL: S3 keeps it. */
    snprintf(acl.owner, sizeof(acl.owner), "%s", owner);
    rc = s3_access_acl_allowed(r, &acl);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    out->base = s3_acl_encode(r->pool, &acl, &out->len);
    return S3_ERR_NONE;
}

/* 1 when the request's bucket has BucketOwnerEnforced: its bucket owner
 * owns every object. */
static int
s3_bucket_enforced(s3_req_t *r)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);

    return ba != NULL && ba->ownership == S3_OWNERSHIP_ENFORCED;
}

/* ==== GetBucketAcl, PutBucketAcl ==== */

static int
s3_acl_bucket_get(s3_req_t *r)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);
    s3_acl_t                   acl;

    if (ba == NULL) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    if (ba->acl == NULL) {
        int  rc = s3_acl_canned(r->pool, "private", 7, ba->owner_id,
                                ba->owner_id, &acl);

        if (rc != S3_ERR_NONE) {
            return rc;
        }
        return s3_acl_send(r, &acl);
    }
    return s3_acl_send(r, ba->acl);
}

static void
s3_acl_bucket_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    const char  *owner = s3_bucket_owner_id(r), *msg;
    gw_str_t     enc;

    if (err != S3_ERR_NONE) {
        s3_error(r, err == S3_ERR_ENTITY_TOO_LARGE
                    ? S3_ERR_MALFORMED_ACL_ERROR : err, NULL);
        return;
    }
    err = s3_acl_new(r, owner, owner, buf, len, &enc, &msg);
    if (err != S3_ERR_NONE) {
        s3_error(r, err, msg);
        return;
    }
    s3_bucket_conf_put(r, STORE_BCONF_ACL, enc, 200);
}

static int
s3_acl_bucket_put(s3_req_t *r)
{
    int  rc;

    if (s3_bucket_owner_id(r) == NULL) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    rc = s3_payload_collect(r, S3_ACL_BODY_MAX, s3_acl_bucket_put_body);
    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_ACL_ERROR;
    }
    return rc == GW_DONE ? GW_OK : rc;
}

/* ==== GetObjectAcl, PutObjectAcl ==== */

/* Each version has an ACL of its own: the request's versionId names it. */
static int
s3_acl_object_get(s3_req_t *r)
{
    store_object_t  *o;
    s3_acl_t         acl;
    const char      *msg = NULL;
    int              rc;

    rc = s3_version_request(r, &o, &msg);
    if (rc != S3_ERR_NONE) {
        if (msg == NULL) {
            return rc;
        }
        s3_error(r, rc, msg);
        return GW_OK;
    }
    s3_version_headers(r, r->bucket, o);
    if (s3_bucket_enforced(r)) {
        /* ACLs are disabled: S3 answers the bucket owner's full control
         * whatever the object had. */
        gw_str_t  none = { NULL, 0 };

        rc = s3_acl_stored(r, none, s3_bucket_owner_id(r), &acl);
    } else {
        rc = s3_acl_stored(r, o->acl, s3_owner_id(r, o->owner.base,
                                                  o->owner.len), &acl);
    }
    store_object_free(o);
    return rc != S3_ERR_NONE ? rc : s3_acl_send(r, &acl);
}

static void
s3_acl_object_edit(store_object_t *o, void *ud)
{
    o->acl = *(gw_str_t *) ud;
}

static void
s3_acl_object_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    store_object_t  *o;
    const char      *msg, *owner;
    gw_str_t        *enc;
    int              rc;

    if (err != S3_ERR_NONE) {
        s3_error(r, err == S3_ERR_ENTITY_TOO_LARGE
                    ? S3_ERR_MALFORMED_ACL_ERROR : err, NULL);
        return;
    }
    rc = s3_version_request(r, &o, &msg);
    if (rc != S3_ERR_NONE) {
        s3_error(r, rc, msg);
        return;
    }
    owner = s3_bucket_enforced(r) ? s3_bucket_owner_id(r)
                                  : s3_owner_id(r, o->owner.base, o->owner.len);
    store_object_free(o);
    enc = gw_pool_alloc(r->pool, sizeof(*enc));
    err = s3_acl_new(r, owner, s3_bucket_owner_id(r), buf, len, enc, &msg);
    if (err == S3_ERR_NONE) {
        err = s3_object_rewrite(r, s3_acl_object_edit, enc, 200);
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err, msg);
    }
}

static int
s3_acl_object_put(s3_req_t *r)
{
    const char  *msg;
    uint64_t     v;
    int          rc, has;

    rc = s3_version_param(r, &has, &v, &msg);
    if (rc != S3_ERR_NONE) {
        s3_error(r, rc, msg);
        return GW_OK;
    }
    rc = s3_payload_collect(r, S3_ACL_BODY_MAX, s3_acl_object_put_body);
    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_ACL_ERROR;
    }
    return rc == GW_DONE ? GW_OK : rc;
}

