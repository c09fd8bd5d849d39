/* s3/ops/tagging.c: GetObjectTagging, PutObjectTagging, DeleteObjectTagging;
 * GetBucketTagging, PutBucketTagging, DeleteBucketTagging.
 *
 * An object's tags live in its record (store_object_t.tags). Changing them
 * rewrites the record with s3_object_rewrite (s3/record.c). A bucket's tags
 * are its "tagging" configuration document: the Tagging XML, tags sorted by
 * key, so deleting the bucket drops them. The limits on a tag set and the
 * x-amz-tagging header are s3/auth/tags.c's. */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/auth/tags.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "s3/version.h"
#include "core/log.h"

#include "llhttp.h"

#define S3_TAGGING_BODY_MAX  (64 * 1024)
/* 50 tags of 128 + 256 characters of up to 4 bytes, escaped, and markup. */
#define S3_TAGGING_BUCKET_BODY_MAX  (512 * 1024)


static int s3_tagging_get(s3_req_t *r), s3_tagging_put(s3_req_t *r),
    s3_tagging_delete(s3_req_t *r), s3_tagging_bucket_get(s3_req_t *r),
    s3_tagging_bucket_put(s3_req_t *r), s3_tagging_bucket_delete(s3_req_t *r);

const s3_route_t  s3_tagging_routes[] = {
    { HTTP_GET,    S3_OBJECT, "tagging", "GetObjectTagging", s3_tagging_get,
      0, "s3:GetObjectTagging", NULL },
    /* Decided by the handler: a policy may ask for the tags of the body
     * (s3:RequestObjectTag/<key>, s3:RequestObjectTagKeys). */
    { HTTP_PUT,    S3_OBJECT, "tagging", "PutObjectTagging", s3_tagging_put,
      S3_BODY, "", NULL },
    { HTTP_DELETE, S3_OBJECT, "tagging", "DeleteObjectTagging",
      s3_tagging_delete, 0, "s3:DeleteObjectTagging", NULL },
    /* As in S3, s3:PutBucketTagging also deletes: there is no
     * s3:DeleteBucketTagging. */
    { HTTP_GET,    S3_BUCKET, "tagging", "GetBucketTagging",
      s3_tagging_bucket_get, 0, "s3:GetBucketTagging", NULL },
    { HTTP_PUT,    S3_BUCKET, "tagging", "PutBucketTagging",
      s3_tagging_bucket_put, S3_BODY, "s3:PutBucketTagging", NULL },
    { HTTP_DELETE, S3_BUCKET, "tagging", "DeleteBucketTagging",
      s3_tagging_bucket_delete, 0, "s3:PutBucketTagging", NULL },
    S3_ROUTE_END
};

/* One tag update: the new set, in r->pool. */
typedef struct s3_tagging_s {
    gw_kv_t         *tags;
    size_t           ntags;
} s3_tagging_t;

/* ==== shared ==== */

/* The key must not be too long, and a versionId must be one. */
static int
s3_tagging_target(s3_req_t *r, const char **msg)
{
    uint64_t  v;
    int       rc, has;

    *msg = NULL;
    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    return s3_version_param(r, &has, &v, msg);
}

/* Answers err (with msg when set) for a handler: GW_OK, or err for the
 * router when there is no message. */
static int
s3_tagging_fail(s3_req_t *r, int err, const char *msg)
{
    if (msg == NULL) {
        return err;
    }
    s3_error(r, err, msg);
    return GW_OK;
}

/* Sets the new tag set on the record being rewritten. */
static void
s3_tagging_edit(store_object_t *o, void *ud)
{
    s3_tagging_t  *t = ud;

    o->tags = t->tags;
    o->ntags = t->ntags;
}

/* ==== GetObjectTagging ==== */

static int
s3_tagging_get(s3_req_t *r)
{
    store_object_t  *o;
    const char      *msg;
    s3_xml_t         x;
    size_t           i;
    int              rc;

    rc = s3_tagging_target(r, &msg);
    if (rc == S3_ERR_NONE) {
        rc = s3_version_request(r, &o, &msg);
    }
    if (rc != S3_ERR_NONE) {
        return s3_tagging_fail(r, rc, msg);
    }
    s3_version_headers(r, r->bucket, o);
    /* Sets stored before parsers sorted them come back sorted as well. */
    s3_tags_sort(o->tags, o->ntags);
    s3_xml_begin(&x, r->pool, "Tagging");
    s3_xml_open(&x, "TagSet");
    for (i = 0; i < o->ntags; i++) {
        s3_xml_open(&x, "Tag");
        s3_xml_elem(&x, "Key", o->tags[i].name.base, o->tags[i].name.len);
        s3_xml_elem(&x, "Value", o->tags[i].value.base, o->tags[i].value.len);
        s3_xml_close(&x, "Tag");
    }
    s3_xml_close(&x, "TagSet");
    s3_xml_end(&x, "Tagging");
    store_object_free(o);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

/* ==== PutObjectTagging ==== */

/* The bucket of a PutObjectTagging whose access is still to be decided
 * once its tags are known (it has a policy), or NULL when it was decided
 * before the body (no policy: tags cannot matter). */
static const s3_bucket_access_t *
s3_tagging_decided(s3_req_t *r)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);

    return ba != NULL && ba->policy != NULL ? NULL : ba;
}

static void
s3_tagging_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_tagging_t      *t;
    const char        *msg = NULL;
    int                rc;

    t = gw_pool_calloc(r->pool, sizeof(*t));
    if (err == S3_ERR_ENTITY_TOO_LARGE) {
        err = S3_ERR_MALFORMED_XML;
    } else if (err == S3_ERR_NONE) {
        err = s3_tags_parse_xml(r->pool, buf, len, &t->tags, &t->ntags, &msg);
    }
    if (s3_tagging_decided(r) == NULL) {
        /* A caller the policy refuses hears AccessDenied, whatever the
         * body; one it allows only with certain tags, about those tags. */
        if (err == S3_ERR_NONE) {
            s3_access_request_tags(r, t->tags, t->ntags);
        }
        rc = s3_access_resource(r, r->bucket, &r->key, "s3:PutObjectTagging");
        if (rc != S3_ERR_NONE) {
            s3_error(r, rc, NULL);
            return;
        }
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err, msg);
        return;
    }
    err = s3_object_rewrite(r, s3_tagging_edit, t, 200);
    if (err != S3_ERR_NONE) {
        s3_error(r, err, NULL);
    }
}

static int
s3_tagging_put(s3_req_t *r)
{
    const char  *msg;
    int          rc;

    if (s3_tagging_decided(r) != NULL) {
        rc = s3_access_resource(r, r->bucket, &r->key, "s3:PutObjectTagging");
        if (rc != S3_ERR_NONE) {
            return rc;
        }
    }
    rc = s3_tagging_target(r, &msg);
    if (rc != S3_ERR_NONE) {
        return s3_tagging_fail(r, rc, msg);
    }
    /* No tag set takes this much: a longer body is no Tagging document,
     * whether its length was announced or not. */
    rc = s3_payload_collect(r, S3_TAGGING_BODY_MAX, s3_tagging_put_body);
    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_XML;
    }
    return rc == GW_DONE ? GW_OK : rc;
}

/* ==== DeleteObjectTagging ==== */

static int
s3_tagging_delete(s3_req_t *r)
{
    s3_tagging_t  *t;
    const char    *msg;
    int            rc;

    rc = s3_tagging_target(r, &msg);
    if (rc != S3_ERR_NONE) {
        return s3_tagging_fail(r, rc, msg);
    }
    t = gw_pool_calloc(r->pool, sizeof(*t));
    rc = s3_object_rewrite(r, s3_tagging_edit, t, 204);
    return rc == S3_ERR_NONE ? GW_DONE : rc;
}


/* ==== the bucket's tags ==== */

/* The Tagging document of tags, into x in r->pool. */
static void
s3_tagging_xml(s3_req_t *r, const gw_kv_t *tags, size_t ntags, s3_xml_t *x)
{
    size_t  i;

    s3_xml_begin(x, r->pool, "Tagging");
    s3_xml_open(x, "TagSet");
    for (i = 0; i < ntags; i++) {
        s3_xml_open(x, "Tag");
        s3_xml_elem(x, "Key", tags[i].name.base, tags[i].name.len);
        s3_xml_elem(x, "Value", tags[i].value.base, tags[i].value.len);
        s3_xml_close(x, "Tag");
    }
    s3_xml_close(x, "TagSet");
    s3_xml_end(x, "Tagging");
}

static int
s3_tagging_bucket_get(s3_req_t *r)
{
    gw_kv_t     *tags;
    size_t       ntags;
    const char  *msg;
    s3_xml_t     x;
    gw_str_t     v;
    int          rc;

    rc = store_bconf_get(r->ctx->store, r->bucket, STORE_BCONF_TAGGING,
                         r->pool, &v);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_TAG_SET;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket tagging lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    /* Read back through the model, so what is answered is a valid tag set
     * even if the stored bytes were not. */
    if (s3_tags_parse_bucket_xml(r->pool, v.base, v.len, &tags, &ntags, &msg)
        != S3_ERR_NONE)
    {
        gw_log(GW_LOG_ERR, r->http->peer, GW_ECORRUPT, "the tags of bucket "
               "%s do not parse", r->bucket);
        return S3_ERR_INTERNAL_ERROR;
    }
    s3_tagging_xml(r, tags, ntags, &x);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

static void
s3_tagging_bucket_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    gw_kv_t     *tags = NULL;
    size_t       ntags = 0;
    const char  *msg = NULL;
    s3_xml_t     x;
    gw_str_t     v = { NULL, 0 };

    if (err == S3_ERR_ENTITY_TOO_LARGE) {
        err = S3_ERR_MALFORMED_XML;     /* no tag set is this long */
    } else if (err == S3_ERR_NONE) {
        err = s3_tags_parse_bucket_xml(r->pool, buf, len, &tags, &ntags,
                                       &msg);
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err, msg);
        return;
    }
    /* An empty TagSet leaves the bucket without tags. */
    if (ntags > 0) {
        s3_tagging_xml(r, tags, ntags, &x);
        v.base = x.buf;
        v.len = x.len;
    }
    s3_bucket_conf_put(r, STORE_BCONF_TAGGING, v, 204);
}

static int
s3_tagging_bucket_put(s3_req_t *r)
{
    int  rc;

    /* Content-MD5 and x-amz-checksum-* are verified by the collector when
     * the request has them. */
    rc = s3_payload_collect(r, S3_TAGGING_BUCKET_BODY_MAX,
                            s3_tagging_bucket_put_body);
    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_XML;
    }
    return rc == GW_DONE ? GW_OK : rc;
}

static int
s3_tagging_bucket_delete(s3_req_t *r)
{
    gw_str_t  none = { NULL, 0 };

    /* Deleting tags that are not there succeeds, as S3 answers it. */
    s3_bucket_conf_put(r, STORE_BCONF_TAGGING, none, 204);
    return GW_DONE;
}
