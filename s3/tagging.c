/* s3/tagging.c: GetObjectTagging, PutObjectTagging, DeleteObjectTagging.
 *
 * Tags live in the object record (store_object_t.tags). Changing them
 * rewrites the record with s3_object_rewrite (object.c).
 *
 * Also the parsing and validation of x-amz-tagging for CopyObject (copy.c). */
#include "s3/s3.h"
#include "s3/sigv4.h"
#include "core/log.h"

#include "llhttp.h"

#define S3_TAGS_MAX          10          /* per object, as S3 */
#define S3_TAG_KEY_MAX       128         /* Unicode characters */
#define S3_TAG_VALUE_MAX     256
#define S3_TAGGING_BODY_MAX  (64 * 1024)


static int s3_tagging_get(s3_req_t *r), s3_tagging_put(s3_req_t *r),
    s3_tagging_delete(s3_req_t *r);

const s3_route_t  s3_tagging_routes[] = {
    { HTTP_GET,    S3_OBJECT, "tagging", "GetObjectTagging", s3_tagging_get,
      0, "s3:GetObjectTagging" },
    { HTTP_PUT,    S3_OBJECT, "tagging", "PutObjectTagging", s3_tagging_put,
      S3_BODY, "s3:PutObjectTagging" },
    { HTTP_DELETE, S3_OBJECT, "tagging", "DeleteObjectTagging",
      s3_tagging_delete, 0, "s3:DeleteObjectTagging" },
    S3_ROUTE_END
};

/* One tag update: the new set, in r->pool. */
typedef struct s3_tagging_s {
    gw_kv_t         *tags;
    size_t           ntags;
} s3_tagging_t;

/* ==== validation ==== */

/* Unicode characters of UTF-8 text: bytes that do not continue one. */
static size_t
s3_tagging_chars(const gw_str_t *s)
{
    size_t  i, n = 0;

    for (i = 0; i < s->len; i++) {
        n += ((unsigned char) s->base[i] & 0xC0) != 0x80;
    }
    return n;
}

/* S3's limits on an object's tag set. S3_ERR_NONE or InvalidTag, *msg
 * saying which limit. */
static int
s3_tagging_check(const gw_kv_t *tags, size_t n, const char **msg)
{
    size_t  i, j;

    if (n > S3_TAGS_MAX) {
        *msg = "Object tags cannot be greater than 10";
        return S3_ERR_INVALID_TAG;
    }
    for (i = 0; i < n; i++) {
        if (tags[i].name.len == 0) {
            *msg = "The TagKey you have provided is invalid";
            return S3_ERR_INVALID_TAG;
        }
        if (s3_tagging_chars(&tags[i].name) > S3_TAG_KEY_MAX) {
            *msg = "The TagKey you have provided is too long, max 128";
            return S3_ERR_INVALID_TAG;
        }
        if (s3_tagging_chars(&tags[i].value) > S3_TAG_VALUE_MAX) {
            *msg = "The TagValue you have provided is too long, max 256";
            return S3_ERR_INVALID_TAG;
        }
        if (tags[i].name.len >= 4
            && memcmp(tags[i].name.base, "aws:", 4) == 0)
        {
            *msg = "Your TagKey cannot be prefixed with aws:";
            return S3_ERR_INVALID_TAG;
        }
        for (j = 0; j < i; j++) {
            if (tags[j].name.len == tags[i].name.len
                && memcmp(tags[j].name.base, tags[i].name.base,
                          tags[i].name.len) == 0)
            {
                *msg = "Cannot provide multiple Tags with the same key";
                return S3_ERR_INVALID_TAG;
            }
        }
    }
    return S3_ERR_NONE;
}

int
s3__tagging_header(s3_req_t *r, const gw_str_t *v, gw_kv_t **tags,
                   size_t *ntags, const char **msg)
{
    const char  *p = v->base, *end = v->base + v->len, *amp, *eq;
    gw_kv_t     *t;
    size_t       n = 1, i, len;
    char        *buf;

    for (i = 0; i < v->len; i++) {
        n += v->base[i] == '&';
    }
    t = gw_pool_alloc(r->pool, sizeof(gw_kv_t) * n);
    n = 0;
    for (; p < end; p = amp < end ? amp + 1 : end) {
        amp = memchr(p, '&', (size_t) (end - p));
        amp = amp ? amp : end;
        if (amp == p) {
            continue;
        }
        eq = memchr(p, '=', (size_t) (amp - p));
        len = (size_t) ((eq ? eq : amp) - p);
        buf = gw_pool_alloc(r->pool, len + 1);
        if (s3_uri_decode(p, len, buf, &len, 1) != GW_OK) {
            goto bad;
        }
        t[n].name.base = buf;
        t[n].name.len = len;
        t[n].value.base = "";
        t[n].value.len = 0;
        if (eq != NULL) {
            len = (size_t) (amp - eq - 1);
            buf = gw_pool_alloc(r->pool, len + 1);
            if (s3_uri_decode(eq + 1, len, buf, &len, 1) != GW_OK) {
                goto bad;
            }
            t[n].value.base = buf;
            t[n].value.len = len;
        }
        n++;
    }
    *tags = t;
    *ntags = n;
    return s3_tagging_check(t, n, msg);

bad:
    *msg = "The header 'x-amz-tagging' shall be encoded as UTF-8 then "
           "URLEncoded URL query parameters without tag name duplicates.";
    return S3_ERR_INVALID_ARGUMENT;
}

/* ==== shared ==== */

/* The bucket must exist and be the caller's, and no version but the
 * current one ("null") can be named. */
static int
s3_tagging_target(s3_req_t *r, const char **msg)
{
    const gw_str_t  *v;
    int              rc;

    *msg = NULL;
    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    v = s3_param(r, "versionId");
    if (v != NULL && !gw_str_eq_lit(*v, "null")) {
        *msg = "Invalid version id specified: this server keeps no object "
               "versions, so \"null\" is the only version id it knows.";
        return S3_ERR_INVALID_ARGUMENT;
    }
    return S3_ERR_NONE;
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
    if (rc != S3_ERR_NONE) {
        return s3_tagging_fail(r, rc, msg);
    }
    rc = store_object_get(r->ctx->store, r->bucket, r->key, &o);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_KEY;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "object lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
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

/* <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>, read
 * strictly: any other element is MalformedXML. */
typedef struct s3_tagging_doc_s {
    gw_pool_t  *pool;
    gw_kv_t     tags[S3_TAGS_MAX + 1];
    size_t      n;              /* tags seen (may pass the array) */
    gw_str_t    key, value;
    int         has_key, has_value;
    int         tagsets;
} s3_tagging_doc_t;

static int
s3_tagging_elem(void *ud, int depth, const char *name, const char *text,
                size_t len)
{
    s3_tagging_doc_t  *d = ud;
    gw_str_t          *s;

    switch (depth) {
    case 1:
        return strcmp(name, "Tagging") == 0 && d->tagsets == 1 ? 0 : GW_EINVAL;
    case 2:
        if (strcmp(name, "TagSet") != 0) {
            return GW_EINVAL;
        }
        d->tagsets++;
        return 0;
    case 3:
        if (strcmp(name, "Tag") != 0 || !d->has_key || !d->has_value) {
            return GW_EINVAL;
        }
        if (d->n < GW_NELEMS(d->tags)) {
            d->tags[d->n].name = d->key;
            d->tags[d->n].value = d->value;
        }
        d->n++;
        d->has_key = d->has_value = 0;
        return 0;
    case 4:
        if (strcmp(name, "Key") == 0 && !d->has_key) {
            s = &d->key;
            d->has_key = 1;
        } else if (strcmp(name, "Value") == 0 && !d->has_value) {
            s = &d->value;
            d->has_value = 1;
        } else {
            return GW_EINVAL;
        }
        s->base = gw_pool_strndup(d->pool, text, len);
        s->len = len;
        return 0;
    default:
        return GW_EINVAL;
    }
}

static void
s3_tagging_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_tagging_doc_t  *d;
    s3_tagging_t      *t;
    const char        *msg = NULL;

    if (err != S3_ERR_NONE) {
        s3_error(r, err == S3_ERR_ENTITY_TOO_LARGE ? S3_ERR_MALFORMED_XML : err,
                 NULL);
        return;
    }
    d = gw_pool_calloc(r->pool, sizeof(*d));
    d->pool = r->pool;
    if (len == 0 || s3_xml_parse(buf, len, s3_tagging_elem, d) != GW_OK) {
        s3_error(r, S3_ERR_MALFORMED_XML, NULL);
        return;
    }
    err = s3_tagging_check(d->tags, d->n, &msg);
    if (err != S3_ERR_NONE) {
        s3_error(r, err, msg);
        return;
    }
    t = gw_pool_calloc(r->pool, sizeof(*t));
    t->tags = d->tags;
    t->ntags = d->n;
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
