/* s3/ops/tagging.c: GetObjectTagging, PutObjectTagging, DeleteObjectTagging.
 *
 * Tags live in the object record (store_object_t.tags). Changing them
 * rewrites the record with s3_object_rewrite (s3/record.c). The limits on
 * a tag set and the x-amz-tagging header are s3/auth/tags.c's. */
#include "s3/ops/ops.h"
#include "s3/auth/tags.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "s3/version.h"
#include "core/log.h"

#include "llhttp.h"

#define S3_TAGGING_BODY_MAX  (64 * 1024)


static int s3_tagging_get(s3_req_t *r), s3_tagging_put(s3_req_t *r),
    s3_tagging_delete(s3_req_t *r);

const s3_route_t  s3_tagging_routes[] = {
    { HTTP_GET,    S3_OBJECT, "tagging", "GetObjectTagging", s3_tagging_get,
      0, "s3:GetObjectTagging", NULL },
    { HTTP_PUT,    S3_OBJECT, "tagging", "PutObjectTagging", s3_tagging_put,
      S3_BODY, "s3:PutObjectTagging", NULL },
    { HTTP_DELETE, S3_OBJECT, "tagging", "DeleteObjectTagging",
      s3_tagging_delete, 0, "s3:DeleteObjectTagging", NULL },
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

static void
s3_tagging_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_tagging_t      *t;
    const char        *msg = NULL;

    if (err != S3_ERR_NONE) {
        s3_error(r, err == S3_ERR_ENTITY_TOO_LARGE ? S3_ERR_MALFORMED_XML : err,
                 NULL);
        return;
    }
    t = gw_pool_calloc(r->pool, sizeof(*t));
    err = s3_tags_parse_xml(r->pool, buf, len, &t->tags, &t->ntags, &msg);
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
