/* s3/ops/bucket.c: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
 * GetBucketLocation, ListObjects (V1) and ListObjectsV2 (versioning is
 * versions.c's). */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/cond.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "core/log.h"

#include <ctype.h>

#include "llhttp.h"

#define S3_LIST_MAX_KEYS     1000
#define S3_CREATE_BODY_MAX   (16 * 1024)

static int s3_bucket_list_all(s3_req_t *r), s3_bucket_create(s3_req_t *r),
    s3_bucket_head(s3_req_t *r), s3_bucket_delete(s3_req_t *r),
    s3_bucket_location(s3_req_t *r), s3_bucket_list_objects(s3_req_t *r);

const s3_route_t  s3_bucket_routes[] = {
    { HTTP_GET,    S3_SERVICE, NULL, "ListBuckets", s3_bucket_list_all, 0,
      NULL, NULL },
    { HTTP_PUT,    S3_BUCKET, NULL, "CreateBucket", s3_bucket_create, S3_BODY,
      NULL, NULL },
    { HTTP_HEAD,   S3_BUCKET, NULL, "HeadBucket", s3_bucket_head, 0,
      "s3:ListBucket", NULL },
    { HTTP_DELETE, S3_BUCKET, NULL, "DeleteBucket", s3_bucket_delete, 0,
      "s3:DeleteBucket", NULL },
    { HTTP_GET,    S3_BUCKET, "location", "GetBucketLocation",
      s3_bucket_location, 0, "s3:GetBucketLocation", NULL },
    { HTTP_GET,    S3_BUCKET, NULL, "ListObjects", s3_bucket_list_objects, 0,
      "s3:ListBucket", NULL },
    S3_ROUTE_END
};

/* ==== ListBuckets ==== */

/* ListBuckets pages as S3 does since 2024: max-buckets (1..10000) buckets
 * a page, after the one the continuation-token names (the base64 of the
 * last name given), of those whose names start with prefix and that live
 * in bucket-region. Without max-buckets every matching bucket comes at
 * once, as before S3 paginated. */
#define S3_LIST_BUCKETS_MAX  10000

typedef struct {
    s3_req_t    *r;
    s3_xml_t    *x;
    gw_str_t     prefix;
    gw_str_t     after;       /* list names > after; len 0: from the start */
    gw_str_t     region;      /* len 0: any */
    uint64_t     max;         /* 0: no limit */
    uint64_t     count;
    const char  *next;        /* the last name listed, once a page is full
                               * and another bucket matches */
    const char  *last;
} s3_list_buckets_t;

static int
s3_bucket_list_one(void *ud, const store_bucket_t *b)
{
    s3_list_buckets_t  *lb = ud;
    size_t              len = strlen(b->name);
    char                t[32];
    int                 cmp;

    if (strcmp(b->owner, lb->r->user->name) != 0) {
        return 0;
    }
    if (len < lb->prefix.len
        || memcmp(b->name, lb->prefix.base, lb->prefix.len) != 0)
    {
        return 0;
    }
    if (lb->region.len && (strlen(b->region) != lb->region.len
                           || memcmp(b->region, lb->region.base,
                                     lb->region.len) != 0))
    {
        return 0;
    }
    if (lb->after.len) {
        cmp = memcmp(b->name, lb->after.base, GW_MIN(len, lb->after.len));
        if (cmp < 0 || (cmp == 0 && len <= lb->after.len)) {
            return 0;
        }
    }
    if (lb->max && lb->count == lb->max) {
        /* One more matches: the page is truncated after the last one. */
        lb->next = lb->last;
        return 1;
    }
    s3_xml_time(b->ctime_ms, t);
    s3_xml_open(lb->x, "Bucket");
    s3_xml_elem_str(lb->x, "Name", b->name);
    s3_xml_elem_str(lb->x, "CreationDate", t);
    s3_xml_elem_str(lb->x, "BucketRegion", b->region);
    s3_xml_close(lb->x, "Bucket");
    lb->count++;
    lb->last = gw_pool_strndup(lb->r->pool, b->name, len);
    return 0;
}

/* max-buckets, continuation-token, prefix and bucket-region into lb:
 * S3_ERR_NONE, or InvalidArgument with *msg. */
static int
s3_bucket_list_params(s3_req_t *r, s3_list_buckets_t *lb, const char **msg)
{
    const gw_str_t  *v;
    unsigned char   *tok;
    size_t           n, i;

    if ((v = s3_param(r, "max-buckets")) != NULL) {
        lb->max = 0;
        for (i = 0; i < v->len && i < 6 && v->base[i] >= '0'
                    && v->base[i] <= '9'; i++)
        {
            lb->max = lb->max * 10 + (uint64_t) (v->base[i] - '0');
        }
        if (v->len == 0 || i != v->len || lb->max < 1
            || lb->max > S3_LIST_BUCKETS_MAX)
        {
            *msg = "Argument max-buckets must be an integer between 1 and "
                   "10000";
            return S3_ERR_INVALID_ARGUMENT;
        }
    }
    if ((v = s3_param(r, "continuation-token")) != NULL && v->len > 0) {
        tok = gw_pool_alloc(r->pool, v->len + 1);
        if (gw_base64_decode(tok, v->len + 1, &n, v->base, v->len) != GW_OK
            || n == 0 || n > STORE_BUCKET_MAX)
        {
            *msg = "The continuation token provided is incorrect";
            return S3_ERR_INVALID_ARGUMENT;
        }
        lb->after.base = (const char *) tok;
        lb->after.len = n;
    }
    if ((v = s3_param(r, "prefix")) != NULL) {
        lb->prefix = *v;
    }
    if ((v = s3_param(r, "bucket-region")) != NULL) {
        lb->region = *v;
    }
    return S3_ERR_NONE;
}

static int
s3_bucket_list_all(s3_req_t *r)
{
    s3_xml_t           x;
    s3_list_buckets_t  lb;
    const char        *name = r->user->name, *msg = NULL;
    char              *tok;
    int                rc;

    memset(&lb, 0, sizeof(lb));
    lb.r = r;
    lb.x = &x;
    lb.prefix = lb.after = lb.region = (gw_str_t) { "", 0 };
    rc = s3_bucket_list_params(r, &lb, &msg);
    if (rc != S3_ERR_NONE) {
        s3_error(r, rc, msg);
        return GW_OK;
    }
    s3_xml_begin(&x, r->pool, "ListAllMyBucketsResult");
    s3_owner_xml(r, &x, "Owner", name, strlen(name));
    s3_xml_open(&x, "Buckets");
    rc = store_bucket_list(r->ctx->store, s3_bucket_list_one, &lb);
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket listing failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    s3_xml_close(&x, "Buckets");
    if (lb.next != NULL) {
        tok = gw_pool_alloc(r->pool, 4 * ((strlen(lb.next) + 2) / 3) + 1);
        gw_base64_encode(tok, (const unsigned char *) lb.next,
                         strlen(lb.next));
        s3_xml_elem_str(&x, "ContinuationToken", tok);
    }
    if (s3_param(r, "prefix") != NULL) {
        s3_xml_elem(&x, "Prefix", lb.prefix.base, lb.prefix.len);
    }
    s3_xml_end(&x, "ListAllMyBucketsResult");
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

/* ==== CreateBucket ==== */

static int
s3_create_elem(void *ud, int depth, const char *name, const char *text,
               size_t len)
{
    char  *region = ud;

    if (depth == 1 && strcmp(name, "CreateBucketConfiguration") != 0) {
        return GW_EINVAL;
    }
    if (depth == 2 && strcmp(name, "LocationConstraint") == 0) {
        if (len > STORE_REGION_MAX) {
            return GW_ETOOBIG;
        }
        memcpy(region, text, len);
        region[len] = '\0';
    }
    return 0;
}

/* A bucket of this name exists (b): what CreateBucket answers. Another
 * account's is BucketAlreadyExists. One's own is BucketAlreadyOwnedByYou,
 * except in us-east-1, where S3 keeps its legacy answer: 200, the bucket
 * untouched. S3_ERR_NONE means "answer 200". */
static int
s3_bucket_exists_err(s3_req_t *r, const store_bucket_t *b)
{
    if (strcmp(b->owner, r->user->name) != 0) {
        return S3_ERR_BUCKET_ALREADY_EXISTS;
    }
    return strcmp(r->ctx->cf->region, "us-east-1") == 0
           ? S3_ERR_NONE : S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU;
}

static void
s3_bucket_created_ok(s3_req_t *r)
{
    http_resp_headerf(r->http, "Location", "/%s", r->bucket);
    http_resp_send(r->http, 200, NULL, 0, NULL);
}

static void
s3_bucket_created(void *ud, int rc)
{
    s3_req_t        *r = ud;
    store_bucket_t   b;

    if (r->http->aborted) {
        http_req_release(r->http);
        return;
    }
    if (rc == GW_EEXIST) {
        /* Lost a race, or it was there already: who owns it decides. */
        rc = store_bucket_get(r->ctx->store, r->bucket, &b) == GW_OK
             ? s3_bucket_exists_err(r, &b) : S3_ERR_BUCKET_ALREADY_EXISTS;
        if (rc == S3_ERR_NONE) {
            s3_bucket_created_ok(r);
        } else {
            s3_error(r, rc, NULL);
        }
    } else if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "creating a bucket failed");
        s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
    } else {
        s3_bucket_created_ok(r);
    }
    http_req_release(r->http);
}

/* The new bucket's Object Ownership (x-amz-object-ownership, or
 * default_object_ownership) in its stored form, into *out. A bucket whose
 * ACLs are disabled takes no ACL beyond its owner's full control (acl:
 * the encoded ACL the request asks for, or base NULL). S3_ERR_NONE or the
 * error, with *msg. */
static int
s3_bucket_create_ownership(s3_req_t *r, gw_str_t acl, gw_str_t *out,
                           const char **msg)
{
    const gw_str_t  *v = s3_header(r, "x-amz-object-ownership");
    s3_acl_t         a;
    int              ownership = r->ctx->cf->default_object_ownership;

    *msg = NULL;
    if (v != NULL) {
        ownership = s3_ownership_by_name(v->base, v->len);
        if (ownership < 0) {
            *msg = "Invalid x-amz-object-ownership header";
            return S3_ERR_INVALID_ARGUMENT;
        }
    }
    if (ownership == S3_OWNERSHIP_ENFORCED && acl.base != NULL
        && (s3_acl_decode(r->pool, acl.base, acl.len, &a) != GW_OK
            || !s3_acl_owner_only(&a, r->user->canonical_id)))
    {
        return S3_ERR_INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP;
    }
    out->base = s3_ownership_encode(r->pool, ownership, &out->len);
    return S3_ERR_NONE;
}

static void
s3_bucket_create_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    store_bucket_t     b;
    store_bconf_doc_t  docs[2] = { { STORE_BCONF_ACL, { NULL, 0 } },
                                   { STORE_BCONF_OWNERSHIP, { NULL, 0 } } };
    gw_str_t           acl;
    const char        *msg;
    char               region[STORE_REGION_MAX + 1] = "";
    size_t          i;
    int             rc;

    if (err != S3_ERR_NONE) {
        s3_error(r, err, NULL);
        return;
    }
    for (i = 0; i < len && isspace((unsigned char) buf[i]); i++) {
        /* an all-blank body is no configuration */
    }
    if (i < len) {
        rc = s3_xml_parse(buf, len, s3_create_elem, region);
        if (rc == GW_ETOOBIG) {
            s3_error(r, S3_ERR_INVALID_LOCATION_CONSTRAINT, NULL);
            return;
        }
        if (rc != GW_OK) {
            s3_error(r, S3_ERR_MALFORMED_XML, NULL);
            return;
        }
    }
    if (region[0] != '\0' && strcmp(region, r->ctx->cf->region) != 0) {
        s3_error(r, S3_ERR_INVALID_LOCATION_CONSTRAINT,
                 gw_pool_sprintf(r->pool, "The specified location-constraint "
                                 "is not valid: this server serves region "
                                 "'%s'", r->ctx->cf->region));
        return;
    }
    if (store_bucket_get(r->ctx->store, r->bucket, &b) == GW_OK) {
        /* Created meanwhile, or ours in us-east-1 (s3_bucket_create let the
         * body be checked first): nothing of it changes. */
        rc = s3_bucket_exists_err(r, &b);
        if (rc == S3_ERR_NONE) {
            s3_bucket_created_ok(r);
        } else {
            s3_error(r, rc, NULL);
        }
        return;
    }
    rc = s3_acl_from_headers(r, r->user->canonical_id, r->user->canonical_id,
                             &acl, &msg);
    if (rc == S3_ERR_NONE) {
        rc = s3_bucket_create_ownership(r, acl, &docs[1].doc, &msg);
    }
    if (rc != S3_ERR_NONE) {
        s3_error(r, rc, msg);
        return;
    }
    memset(&b, 0, sizeof(b));
    snprintf(b.name, sizeof(b.name), "%s", r->bucket);
    snprintf(b.owner, sizeof(b.owner), "%s", r->user->name);
    snprintf(b.region, sizeof(b.region), "%s", r->ctx->cf->region);
    b.ctime_ms = r->now * 1000;
    docs[0].doc = acl;
    http_req_hold(r->http);
    /* The ACL and Object Ownership commit with the bucket. */
    store_bucket_create_docs(r->ctx->store, &b, docs, GW_NELEMS(docs),
                             s3_bucket_created, r);
}

static int
s3_bucket_create(s3_req_t *r)
{
    store_bucket_t  b;
    int             rc;

    if (!s3_bucket_name_valid(r->bucket)) {
        return S3_ERR_INVALID_BUCKET_NAME;
    }
    if (store_bucket_get(r->ctx->store, r->bucket, &b) == GW_OK) {
        rc = s3_bucket_exists_err(r, &b);
        if (rc != S3_ERR_NONE) {
            return rc;
        }
        /* Ours in us-east-1: the body is still checked, then 200. */
    }
    rc = s3_payload_collect(r, S3_CREATE_BODY_MAX, s3_bucket_create_body);
    return rc == GW_DONE ? GW_OK : rc;
}

/* ==== HeadBucket, location ==== */

static int
s3_bucket_head(s3_req_t *r)
{
    store_bucket_t  b;
    int             rc = s3_bucket_record(r, &b);

    if (rc != S3_ERR_NONE) {
        return rc;
    }
    http_resp_header(r->http, "x-amz-bucket-region", b.region, strlen(b.region));
    http_resp_send(r->http, 200, NULL, 0, NULL);
    return GW_OK;
}

static int
s3_bucket_location(s3_req_t *r)
{
    store_bucket_t  b;
    s3_xml_t        x;
    int             rc = s3_bucket_record(r, &b);

    if (rc != S3_ERR_NONE) {
        return rc;
    }
    s3_xml_begin(&x, r->pool, "LocationConstraint");
    /* us-east-1 is written as an empty constraint, as S3 does. */
    if (strcmp(b.region, "us-east-1") != 0) {
        s3_xml_text(&x, b.region, strlen(b.region));
    }
    s3_xml_end(&x, "LocationConstraint");
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

/* ==== DeleteBucket ==== */

static void
s3_bucket_deleted(void *ud, int rc)
{
    s3_req_t  *r = ud;

    if (!r->http->aborted) {
        if (rc == GW_OK) {
            http_resp_send(r->http, 204, NULL, 0, NULL);
        } else if (rc == GW_ENOTEMPTY) {
            s3_error(r, S3_ERR_BUCKET_NOT_EMPTY, NULL);
        } else if (rc == GW_ENOTFOUND) {
            s3_error(r, S3_ERR_NO_SUCH_BUCKET, NULL);
        } else {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "deleting a bucket failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
    }
    http_req_release(r->http);
}

static int
s3_bucket_delete(s3_req_t *r)
{
    store_bucket_t  b;
    int             rc = s3_bucket_record(r, &b);

    if (rc != S3_ERR_NONE) {
        return rc;
    }
    http_req_hold(r->http);
    store_bucket_delete(r->ctx->store, r->bucket, s3_bucket_deleted, r);
    return GW_DONE;
}

/* ==== ListObjects and ListObjectsV2 ==== */

typedef struct {
    s3_req_t   *r;
    s3_xml_t   *x;
    int         url;          /* encoding-type=url */
} s3_list_t;

/* Writes <tag>value</tag>, URL-encoded when the client asked for it. */
static void
s3_list_elem(s3_list_t *l, const char *tag, const char *s, size_t len)
{
    s3_xml_elem_url(l->r, l->x, tag, s, len, l->url);
}

/* The smallest string greater than every string that starts with p (p with
 * its last byte incremented, dropping trailing 0xFF bytes). */
static size_t
s3_prefix_successor(const char *p, size_t len, char *out)
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

/* A listing's request: what its query parameters ask for. */
typedef struct {
    int        v2;            /* list-type=2 */
    int        url;           /* encoding-type=url */
    int        fetch_owner;
    int        have_start;    /* start is after the prefix's first key */
    gw_str_t   prefix, delim, marker, token;
    gw_str_t   start;         /* list after this key (decoded token,
                               * start-after or marker) */
    uint64_t   max_keys;
} s3_list_query_t;

/* A listing's page as it is written. */
typedef struct {
    uint64_t   count;         /* keys and common prefixes written */
    int        truncated;
    gw_str_t   last;          /* the last of them (r->pool) */
} s3_list_page_t;

/* The continuation-token (v2) or the start-after, the marker (v1). 0, or
 * -1 once answered with an error. */
static int
s3_list_query_start(s3_req_t *r, s3_list_query_t *q)
{
    const gw_str_t  *v;
    char            *tok;
    size_t           n;

    if (!q->v2) {
        if ((v = s3_param(r, "marker")) != NULL) {
            q->marker = *v;
            q->start = *v;
        }
        return 0;
    }
    /* An empty token is no token: a listing from the start (the SDKs send
     * one when a caller passes ""). */
    v = s3_param(r, "continuation-token");
    if (v != NULL && v->len > 0) {
        q->token = *v;
        tok = gw_pool_alloc(r->pool, v->len + 1);
        if (gw_base64_decode((unsigned char *) tok, v->len + 1, &n, v->base,
                             v->len) != GW_OK || n == 0 || n > STORE_KEY_MAX)
        {
            s3_error(r, S3_ERR_INVALID_ARGUMENT, "The continuation token "
                     "provided is incorrect");
            return -1;
        }
        q->start.base = tok;
        q->start.len = n;
    } else if ((v = s3_param(r, "start-after")) != NULL) {
        q->start = *v;
    }
    return 0;
}

/* The query parameters into *q. 0, or -1 once answered with an error. */
static int
s3_list_query(s3_req_t *r, s3_list_query_t *q)
{
    const gw_str_t  *v;

    memset(q, 0, sizeof(*q));
    q->prefix = q->delim = q->marker = q->token = q->start =
        (gw_str_t) { "", 0 };
    v = s3_param(r, "list-type");
    q->v2 = v != NULL && gw_str_eq_lit(*v, "2");
    if ((v = s3_param(r, "prefix")) != NULL) {
        q->prefix = *v;
    }
    if ((v = s3_param(r, "delimiter")) != NULL) {
        q->delim = *v;
    }
    q->max_keys = S3_LIST_MAX_KEYS;
    if ((v = s3_param(r, "max-keys")) != NULL
        && s3_parse_uint(v, UINT64_MAX, &q->max_keys) != 0)
    {
        s3_error(r, S3_ERR_INVALID_ARGUMENT, "Provided max-keys not an integer "
                 "or within integer range");
        return -1;
    }
    q->max_keys = GW_MIN(q->max_keys, S3_LIST_MAX_KEYS);
    if ((v = s3_param(r, "encoding-type")) != NULL) {
        if (!gw_str_eq_lit(*v, "url")) {
            s3_error(r, S3_ERR_INVALID_ARGUMENT, "Invalid Encoding Method "
                     "specified in Request");
            return -1;
        }
        q->url = 1;
    }
    q->fetch_owner = !q->v2;
    if (q->v2 && (v = s3_param(r, "fetch-owner")) != NULL) {
        q->fetch_owner = gw_str_eq_lit(*v, "true");
    }
    if (s3_list_query_start(r, q) != 0) {
        return -1;
    }
    q->have_start = q->start.len > 0;
    return 0;
}

/* Begins at the later of the prefix and the start key (have_start is
 * cleared when the prefix is later). */
static void
s3_list_seek(store_iter_t *it, s3_list_query_t *q)
{
    if (q->have_start
        && (q->start.len >= q->prefix.len
            ? memcmp(q->start.base, q->prefix.base, q->prefix.len) >= 0
            : memcmp(q->start.base, q->prefix.base, q->start.len) > 0))
    {
        store_iter_seek(it, q->start, 1);
    } else {
        q->have_start = 0;
        store_iter_seek(it, q->prefix, 0);
    }
}

/* The elements before the keys: what the request asked for, echoed. */
static void
s3_list_head(s3_list_t *l, const s3_list_query_t *q)
{
    s3_req_t        *r = l->r;
    s3_xml_t        *x = l->x;
    const gw_str_t  *v;

    s3_xml_elem_str(x, "Name", r->bucket);
    if (q->v2) {
        s3_list_elem(l, "Prefix", q->prefix.base, q->prefix.len);
    } else {
        /* V1 echoes the prefix as given even with encoding-type=url, as S3
         * does; the SDKs decode only Delimiter, Marker, NextMarker, keys
         * and common prefixes of a V1 answer. */
        s3_xml_elem(x, "Prefix", q->prefix.base, q->prefix.len);
    }
    if (q->v2) {
        if (q->token.len) {
            s3_xml_elem(x, "ContinuationToken", q->token.base, q->token.len);
        }
        if ((v = s3_param(r, "start-after")) != NULL) {
            s3_list_elem(l, "StartAfter", v->base, v->len);
        }
    } else {
        s3_list_elem(l, "Marker", q->marker.base, q->marker.len);
    }
    s3_xml_elemf(x, "MaxKeys", "%llu", (unsigned long long) q->max_keys);
    if (q->delim.len) {
        s3_list_elem(l, "Delimiter", q->delim.base, q->delim.len);
    }
    if (l->url) {
        s3_xml_elem_str(x, "EncodingType", "url");
    }
}

/* One <Contents> element. */
static void
s3_list_contents(s3_list_t *l, const store_object_t *o, int fetch_owner)
{
    s3_xml_t  *x = l->x;
    char       t[32], etag[48];

    s3_xml_open(x, "Contents");
    s3_list_elem(l, "Key", o->key.base, o->key.len);
    s3_xml_time(o->mtime_ms, t);
    s3_xml_elem_str(x, "LastModified", t);
    s3_etag(o->md5, o->nparts, etag);
    s3_xml_elem_str(x, "ETag", etag);
    if (o->cksum_alg != GW_CK_NONE) {
        s3_xml_elem_str(x, "ChecksumAlgorithm",
                        gw_cksum_name((gw_cksum_alg_t) o->cksum_alg));
        s3_xml_elem_str(x, "ChecksumType",
                        o->cksum_type ? "COMPOSITE" : "FULL_OBJECT");
    }
    s3_xml_elemf(x, "Size", "%llu", (unsigned long long) o->size);
    if (fetch_owner) {
        s3_owner_xml(l->r, x, "Owner", o->owner.base, o->owner.len);
    }
    s3_xml_elem_str(x, "StorageClass",
                    o->storage_class == STORE_CLASS_REDUCED_REDUNDANCY
                    ? "REDUCED_REDUNDANCY" : "STANDARD");
    s3_xml_close(x, "Contents");
}

/* The keys of the page: Contents into l, common prefixes into cpl (S3
 * writes them after all Contents), up to max_keys of both. GW_OK,
 * GW_ENOTFOUND (the bucket's end) or a store error. */
static int
s3_list_walk(s3_list_t *l, s3_list_t *cpl, const s3_list_query_t *q,
             store_iter_t *it, s3_list_page_t *pg)
{
    s3_req_t              *r = l->r;
    const store_object_t  *o;
    const gw_str_t        *prefix = &q->prefix, *delim = &q->delim;
    const gw_str_t        *start = &q->start;
    gw_str_t               cp;
    const char            *d;
    char                  *succ;
    size_t                 n;
    int                    rc = GW_OK;

    succ = gw_pool_alloc(r->pool, STORE_KEY_MAX + 1);
    /* max-keys=0 asks for an empty page, which is complete (S3 says
     * IsTruncated false and gives no token). */
    while (q->max_keys > 0 && (rc = store_iter_next(it, &o)) == GW_OK) {
        if (o->key.len < prefix->len
            || memcmp(o->key.base, prefix->base, prefix->len) != 0)
        {
            break;
        }
        d = NULL;
        if (delim->len) {
            d = memmem(o->key.base + prefix->len, o->key.len - prefix->len,
                       delim->base, delim->len);
        }
        if (d != NULL) {
            cp.base = o->key.base;
            cp.len = (size_t) (d - o->key.base) + delim->len;
            if (q->have_start
                && (cp.len <= start->len
                    ? memcmp(cp.base, start->base, cp.len) <= 0
                    : memcmp(cp.base, start->base, start->len) < 0))
            {
                /* The start key lies inside this prefix: it was listed. */
            } else {
                if (pg->count == q->max_keys) {
                    pg->truncated = 1;
                    break;
                }
                s3_xml_open(cpl->x, "CommonPrefixes");
                s3_list_elem(cpl, "Prefix", cp.base, cp.len);
                s3_xml_close(cpl->x, "CommonPrefixes");
                pg->count++;
                pg->last.base = gw_pool_strndup(r->pool, cp.base, cp.len);
                pg->last.len = cp.len;
            }
            n = s3_prefix_successor(cp.base, cp.len, succ);
            if (n == 0) {
                break;
            }
            store_iter_seek(it, (gw_str_t) { succ, n }, 0);
            continue;
        }
        if (pg->count == q->max_keys) {
            pg->truncated = 1;
            break;
        }
        s3_list_contents(l, o, q->fetch_owner);
        pg->count++;
        pg->last.base = gw_pool_strndup(r->pool, o->key.base, o->key.len);
        pg->last.len = o->key.len;
    }
    return rc;
}

static int
s3_bucket_list_objects(s3_req_t *r)
{
    store_bucket_t    b;
    s3_list_query_t   q;
    s3_list_page_t    pg = { 0, 0, { "", 0 } };
    s3_xml_t          x;
    s3_xml_t          cpx = { r->pool, NULL, 0, 0 };
    s3_list_t         l = { r, &x, 0 }, cpl = { r, &cpx, 0 };
    store_iter_t     *it;
    char             *tok;
    int               rc;

    rc = s3_bucket_record(r, &b);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    if (s3_list_query(r, &q) != 0) {
        return GW_OK;
    }
    l.url = cpl.url = q.url;
    it = store_iter_open(r->ctx->store, r->bucket);
    s3_list_seek(it, &q);
    s3_xml_begin(&x, r->pool, "ListBucketResult");
    s3_list_head(&l, &q);
    rc = s3_list_walk(&l, &cpl, &q, it, &pg);
    store_iter_close(it);
    if (rc != GW_OK && rc != GW_ENOTFOUND) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "listing failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    if (cpx.len) {
        s3_xml_raw(&x, cpx.buf, cpx.len);
    }
    s3_xml_elem_str(&x, "IsTruncated", pg.truncated ? "true" : "false");
    if (q.v2) {
        s3_xml_elemf(&x, "KeyCount", "%llu", (unsigned long long) pg.count);
        if (pg.truncated) {
            tok = gw_pool_alloc(r->pool, 4 * ((pg.last.len + 2) / 3) + 1);
            gw_base64_encode(tok, (const unsigned char *) pg.last.base,
                             pg.last.len);
            s3_xml_elem_str(&x, "NextContinuationToken", tok);
        }
    } else if (pg.truncated && q.delim.len) {
        s3_list_elem(&l, "NextMarker", pg.last.base, pg.last.len);
    }
    s3_xml_end(&x, "ListBucketResult");
    s3_send_xml(r, 200, &x);
    return GW_OK;
}
