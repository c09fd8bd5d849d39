/* s3/ops/versions.c: PutBucketVersioning, GetBucketVersioning and
 * ListObjectVersions.
 *
 * The versioning state lives in the bucket record (store.h): unset, then
 * Enabled or Suspended, never unset again. ListObjectVersions walks the
 * store's version iterator: keys in order, each key's versions newest
 * first, as one cursor scan (old versions cost a seek per key). */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/cond.h"
#include "s3/payload.h"
#include "s3/version.h"
#include "core/log.h"

#include "llhttp.h"

#define S3_VERSIONING_BODY_MAX  4096
#define S3_VERSIONS_MAX_KEYS    1000

static int s3_versioning_put(s3_req_t *r), s3_versioning_get(s3_req_t *r),
    s3_versions_list(s3_req_t *r);

const s3_route_t  s3_versions_routes[] = {
    { HTTP_PUT,    S3_BUCKET, "versioning", "PutBucketVersioning",
      s3_versioning_put, S3_BODY, "s3:PutBucketVersioning", NULL },
    { HTTP_GET,    S3_BUCKET, "versioning", "GetBucketVersioning",
      s3_versioning_get, 0, "s3:GetBucketVersioning", NULL },
    { HTTP_GET,    S3_BUCKET, "versions", "ListObjectVersions",
      s3_versions_list, 0, "s3:ListBucketVersions", NULL },
    S3_ROUTE_END
};

/* ==== PutBucketVersioning ==== */

typedef struct {
    int   status;        /* STORE_VERSIONING_*, or -1 unknown, 0 absent */
    int   mfa;           /* 1 Enabled, 0 Disabled or absent, -1 unknown */
    int   root_ok;
} s3_versioning_doc_t;

static int
s3_versioning_elem(void *ud, int depth, const char *name, const char *text,
                   size_t len)
{
    s3_versioning_doc_t  *d = ud;
    gw_str_t              t = { text, len };

    if (depth == 1) {
        d->root_ok = strcmp(name, "VersioningConfiguration") == 0;
    } else if (depth == 2 && strcmp(name, "Status") == 0) {
        d->status = gw_str_eq_lit(t, "Enabled") ? STORE_VERSIONING_ENABLED
                    : gw_str_eq_lit(t, "Suspended")
                    ? STORE_VERSIONING_SUSPENDED : -1;
    } else if (depth == 2 && strcmp(name, "MfaDelete") == 0) {
        d->mfa = gw_str_eq_lit(t, "Enabled") ? 1
                 : gw_str_eq_lit(t, "Disabled") ? 0 : -1;
    } else if (depth == 2) {
        return 1;          /* an element S3 does not have there */
    }
    return 0;
}

static void
s3_versioning_set(void *ud, int rc)
{
    s3_req_t  *r = ud;

    if (!r->http->aborted) {
        if (rc == GW_OK) {
            http_resp_send(r->http, 200, NULL, 0, NULL);
        } else if (rc == GW_ENOBUCKET) {
            s3_error(r, S3_ERR_NO_SUCH_BUCKET, NULL);
        } else {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "setting versioning failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
    }
    http_req_release(r->http);
}

static void
s3_versioning_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_versioning_doc_t  d;

    memset(&d, 0, sizeof(d));
    if (err == S3_ERR_ENTITY_TOO_LARGE) {
        err = S3_ERR_MALFORMED_XML;
    }
    if (err == S3_ERR_NONE
        && (s3_xml_parse(buf, len, s3_versioning_elem, &d) != GW_OK
            || !d.root_ok || d.status < 0 || d.mfa < 0))
    {
        err = S3_ERR_MALFORMED_XML;
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err, NULL);
        return;
    }
    if (d.mfa == 1) {
        /* MFA delete needs the x-amz-mfa device code; s3gw has no MFA. */
        s3_error(r, S3_ERR_NOT_IMPLEMENTED, "MFA delete is not supported: "
                 "s3gw has no multi-factor authentication devices.");
        return;
    }
    if (d.status == 0) {
        s3_error(r, S3_ERR_ILLEGAL_VERSIONING_CONFIGURATION, NULL);
        return;
    }
    http_req_hold(r->http);
    store_bucket_versioning(r->ctx->store, r->bucket, d.status,
                            s3_versioning_set, r);
}

static int
s3_versioning_put(s3_req_t *r)
{
    int  rc;

    if (s3_header(r, "x-amz-mfa") != NULL) {
        return S3_ERR_NOT_IMPLEMENTED;
    }
    rc = s3_payload_collect(r, S3_VERSIONING_BODY_MAX, s3_versioning_body);
    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_XML;
    }
    return rc == GW_DONE ? GW_OK : rc;
}

/* ==== GetBucketVersioning ==== */

static int
s3_versioning_get(s3_req_t *r)
{
    store_bucket_t  b;
    s3_xml_t        x;
    int             rc;

    /* Read afresh: the access decision's copy may predate a change. */
    rc = store_bucket_get(r->ctx->store, r->bucket, &b);
    if (rc != GW_OK) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    s3_xml_begin(&x, r->pool, "VersioningConfiguration");
    if (b.versioning == STORE_VERSIONING_ENABLED) {
        s3_xml_elem_str(&x, "Status", "Enabled");
    } else if (b.versioning == STORE_VERSIONING_SUSPENDED) {
        s3_xml_elem_str(&x, "Status", "Suspended");
    }
    s3_xml_end(&x, "VersioningConfiguration");
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

/* ==== ListObjectVersions ==== */

typedef struct {
    s3_req_t   *r;
    s3_xml_t   *x;
    int         url;          /* encoding-type=url */
} s3_vlist_t;

static void
s3_vlist_elem(s3_vlist_t *l, const char *tag, const char *s, size_t len)
{
    s3_xml_elem_url(l->r, l->x, tag, s, len, l->url);
}

/* One <Version> or <DeleteMarker>. */
static void
s3_vlist_entry(s3_vlist_t *l, const store_object_t *o, int latest,
               const store_bucket_t *b)
{
    s3_xml_t  *x = l->x;
    char       t[32], etag[48];
    int        marker = (o->vflags & STORE_VF_MARKER) != 0;

    s3_xml_open(x, marker ? "DeleteMarker" : "Version");
    s3_vlist_elem(l, "Key", o->key.base, o->key.len);
    s3_xml_elem_str(x, "VersionId", s3_version_of(l->r, o));
    s3_xml_elem_str(x, "IsLatest", latest ? "true" : "false");
    s3_xml_time(o->mtime_ms, t);
    s3_xml_elem_str(x, "LastModified", t);
    if (!marker) {
        s3_etag(o->md5, o->nparts, etag);
        s3_xml_elem_str(x, "ETag", etag);
        s3_xml_elemf(x, "Size", "%llu", (unsigned long long) o->size);
        s3_xml_elem_str(x, "StorageClass",
                        o->storage_class == STORE_CLASS_REDUCED_REDUNDANCY
                        ? "REDUCED_REDUNDANCY" : "STANDARD");
    }
    /* The deleter owns a marker; an anonymous one, the bucket owner. */
    if (o->owner.len) {
        s3_owner_xml(l->r, x, "Owner", o->owner.base, o->owner.len);
    } else {
        s3_owner_xml(l->r, x, "Owner", b->owner, strlen(b->owner));
    }
    s3_xml_close(x, marker ? "DeleteMarker" : "Version");
}

typedef struct {
    gw_str_t   prefix, delim, key_marker;
    uint64_t   max_keys;
    uint64_t   vmarker;
    int        has_vmarker;
} s3_vlist_args_t;

/* The query of a ListObjectVersions into a (*url: encoding-type=url):
 * S3_ERR_NONE, or InvalidArgument with *msg set. */
static int
s3_vlist_args(s3_req_t *r, s3_vlist_args_t *a, int *url, const char **msg)
{
    const gw_str_t  *v;

    memset(a, 0, sizeof(*a));
    a->prefix = a->delim = a->key_marker = (gw_str_t) { "", 0 };
    a->max_keys = S3_VERSIONS_MAX_KEYS;
    *url = 0;
    if ((v = s3_param(r, "prefix")) != NULL) {
        a->prefix = *v;
    }
    if ((v = s3_param(r, "delimiter")) != NULL) {
        a->delim = *v;
    }
    if ((v = s3_param(r, "key-marker")) != NULL) {
        a->key_marker = *v;
    }
    if ((v = s3_param(r, "max-keys")) != NULL
        && s3_parse_uint(v, UINT64_MAX, &a->max_keys) != 0)
    {
        *msg = "Provided max-keys not an integer or within integer range";
        return S3_ERR_INVALID_ARGUMENT;
    }
    a->max_keys = GW_MIN(a->max_keys, S3_VERSIONS_MAX_KEYS);
    if ((v = s3_param(r, "encoding-type")) != NULL) {
        if (!gw_str_eq_lit(*v, "url")) {
            *msg = "Invalid Encoding Method specified in Request";
            return S3_ERR_INVALID_ARGUMENT;
        }
        *url = 1;
    }
    if ((v = s3_param(r, "version-id-marker")) != NULL && v->len > 0) {
        if (a->key_marker.len == 0) {
            *msg = "A version-id marker cannot be specified without a key "
                   "marker.";
            return S3_ERR_INVALID_ARGUMENT;
        }
        if (s3_version_parse(v->base, v->len, &a->vmarker) != S3_ERR_NONE) {
            *msg = S3_VERSION_BAD_ID;
            return S3_ERR_INVALID_ARGUMENT;
        }
        a->has_vmarker = 1;
    }
    return S3_ERR_NONE;
}

/* The smallest string greater than every string that starts with p. */
static size_t
s3_vlist_successor(const char *p, size_t len, char *out)
{
    memcpy(out, p, len);
    while (len > 0 && (unsigned char) out[len - 1] == 0xFF) {
        len--;
    }
    if (len > 0) {
        out[len - 1]++;
    }
    return len;
}

static void
s3_vlist_head(s3_vlist_t *l, const s3_vlist_args_t *a)
{
    s3_xml_t         *x = l->x;
    const gw_str_t   *v = s3_param(l->r, "version-id-marker");

    s3_xml_elem_str(x, "Name", l->r->bucket);
    s3_vlist_elem(l, "Prefix", a->prefix.base, a->prefix.len);
    s3_vlist_elem(l, "KeyMarker", a->key_marker.base, a->key_marker.len);
    s3_xml_elem(x, "VersionIdMarker", v ? v->base : "", v ? v->len : 0);
    s3_xml_elemf(x, "MaxKeys", "%llu", (unsigned long long) a->max_keys);
    if (a->delim.len) {
        s3_vlist_elem(l, "Delimiter", a->delim.base, a->delim.len);
    }
    if (l->url) {
        s3_xml_elem_str(x, "EncodingType", "url");
    }
}

/* What a listing gathered: Version and DeleteMarker entries, common
 * prefixes apart (S3 writes them after), and where it stopped. */
typedef struct {
    s3_vlist_t     l, cpl;
    s3_xml_t       body, cpx;
    gw_str_t       last;          /* the last key (or prefix) listed */
    const char    *last_id;       /* its version id; NULL for a prefix */
    uint64_t       count;
    int            truncated;
} s3_vlist_walk_t;

/* A common prefix: listed unless the key marker lies inside it. */
static int
s3_vlist_prefix(s3_vlist_walk_t *w, const s3_vlist_args_t *a, gw_str_t cp,
                int have_start)
{
    gw_str_t  start = a->key_marker;

    if (have_start && (cp.len <= start.len
                       ? memcmp(cp.base, start.base, cp.len) <= 0
                       : memcmp(cp.base, start.base, start.len) < 0))
    {
        return 0;
    }
    if (w->count == a->max_keys) {
        w->truncated = 1;
        return 1;
    }
    s3_xml_open(&w->cpx, "CommonPrefixes");
    s3_vlist_elem(&w->cpl, "Prefix", cp.base, cp.len);
    s3_xml_close(&w->cpx, "CommonPrefixes");
    w->count++;
    w->last.base = gw_pool_strndup(w->l.r->pool, cp.base, cp.len);
    w->last.len = cp.len;
    w->last_id = NULL;
    return 0;
}

/* The scan: from the later of the prefix and the markers, while keys
 * start with the prefix, up to max-keys entries and prefixes. */
static int
s3_vlist_walk(s3_req_t *r, const s3_vlist_args_t *a, const store_bucket_t *b,
              s3_vlist_walk_t *w)
{
    const store_object_t  *o;
    store_viter_t         *vt;
    gw_str_t               start = a->key_marker, cp;
    const char            *d;
    char                  *succ;
    size_t                 n;
    int                    rc, latest, have_start = start.len > 0;

    vt = store_viter_open(r->ctx->store, r->bucket);
    if (have_start && (start.len >= a->prefix.len
                       ? memcmp(start.base, a->prefix.base, a->prefix.len) >= 0
                       : memcmp(start.base, a->prefix.base, start.len) > 0))
    {
        rc = store_viter_seek(vt, start, 1, a->has_vmarker, a->vmarker);
    } else {
        have_start = 0;
        rc = store_viter_seek(vt, a->prefix, 0, 0, 0);
    }
    succ = gw_pool_alloc(r->pool, STORE_KEY_MAX + 1);
    while (rc == GW_OK && (rc = store_viter_next(vt, &o, &latest)) == GW_OK) {
        if (o->key.len < a->prefix.len
            || memcmp(o->key.base, a->prefix.base, a->prefix.len) != 0)
        {
            break;
        }
        d = a->delim.len == 0 ? NULL
            : memmem(o->key.base + a->prefix.len, o->key.len - a->prefix.len,
                     a->delim.base, a->delim.len);
        if (d != NULL) {
            cp.base = o->key.base;
            cp.len = (size_t) (d - o->key.base) + a->delim.len;
            if (s3_vlist_prefix(w, a, cp, have_start)) {
                break;
            }
            /* Past every key under the prefix, in one seek. */
            n = s3_vlist_successor(cp.base, cp.len, succ);
            if (n == 0) {
                break;
            }
            rc = store_viter_seek(vt, (gw_str_t) { succ, n }, 0, 0, 0);
            continue;
        }
        if (w->count == a->max_keys) {
            w->truncated = 1;
            break;
        }
        s3_vlist_entry(&w->l, o, latest, b);
        w->count++;
        w->last.base = gw_pool_strndup(r->pool, o->key.base, o->key.len);
        w->last.len = o->key.len;
        w->last_id = s3_version_of(r, o);
    }
    store_viter_close(vt);
    return rc;
}

static int
s3_versions_list(s3_req_t *r)
{
    store_bucket_t    b;
    s3_vlist_args_t   a;
    s3_vlist_walk_t   w;
    s3_xml_t          x;
    s3_vlist_t        l = { r, &x, 0 };
    const char       *msg = NULL;
    int               rc;

    rc = s3_bucket_record(r, &b);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = s3_vlist_args(r, &a, &l.url, &msg);
    if (rc != S3_ERR_NONE) {
        s3_error(r, rc, msg);
        return GW_OK;
    }
    memset(&w, 0, sizeof(w));
    w.body.pool = w.cpx.pool = r->pool;
    w.l.r = w.cpl.r = r;
    w.l.x = &w.body;
    w.cpl.x = &w.cpx;
    w.l.url = w.cpl.url = l.url;
    w.last.base = "";
    rc = s3_vlist_walk(r, &a, &b, &w);
    if (rc != GW_OK && rc != GW_ENOTFOUND) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "listing versions failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    s3_xml_begin(&x, r->pool, "ListVersionsResult");
    s3_vlist_head(&l, &a);
    s3_xml_elem_str(&x, "IsTruncated", w.truncated ? "true" : "false");
    if (w.truncated) {
        s3_vlist_elem(&l, "NextKeyMarker", w.last.base, w.last.len);
        if (w.last_id != NULL) {
            s3_xml_elem_str(&x, "NextVersionIdMarker", w.last_id);
        }
    }
    if (w.body.len) {
        s3_xml_raw(&x, w.body.buf, w.body.len);
    }
    if (w.cpx.len) {
        s3_xml_raw(&x, w.cpx.buf, w.cpx.len);
    }
    s3_xml_end(&x, "ListVersionsResult");
    s3_send_xml(r, 200, &x);
    return GW_OK;
}
