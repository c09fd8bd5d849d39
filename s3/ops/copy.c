/* s3/ops/copy.c: CopyObject (PUT with x-amz-copy-source): a metadata
 * operation that adds chunk references.
 *
 *   x-amz-copy-source -> source bucket (the caller's) and key
 *   source record (store_object_get) + store_pin, in one loop turn
 *   x-amz-copy-source-if-* -> 412
 *   directives -> the destination record: the source's chunk list (or inline
 *                 bytes), size, ETag and checksum, with a new key, owner,
 *                 time, and copied or replaced metadata and tags
 *   store_object_put (adds the chunk references) -> store_unpin, answer
 *
 * No byte of the object is read or written: the pin keeps the collector off
 * the source's chunks until the new record refers to them, even when the
 * source is overwritten or deleted meanwhile. */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/auth/tags.h"
#include "s3/cond.h"
#include "s3/put.h"
#include "s3/record.h"
#include "s3/version.h"
#include "core/log.h"

#include <strings.h>
#include <time.h>

#include "llhttp.h"

static int s3_copy_object(s3_req_t *r);

/* PutObject with x-amz-copy-source: the row wins over PutObject's. */
const s3_route_t  s3_copy_routes[] = {
    { HTTP_PUT, S3_OBJECT, NULL, "CopyObject", s3_copy_object, S3_BODY,
      "s3:PutObject", "x-amz-copy-source" },
    S3_ROUTE_END
};

typedef struct s3_copy_s {
    s3_req_t        *r;
    store_object_t  *src;       /* owns the pinned chunk list */
    store_object_t   obj;       /* borrows from src and r->pool */
    store_cond_t     cond;
    store_repl_t     repl;
    store_vresult_t  vres;      /* the version the copy made */
    const char      *sbucket;
} s3_copy_t;


/* ==== the request ==== */


/* "COPY" (1 when absent), "REPLACE" (0), anything else -1. */
static int
s3_copy_directive(s3_req_t *r, const char *name)
{
    const gw_str_t  *v = s3_header(r, name);

    if (v == NULL || gw_str_eq_lit(*v, "COPY")) {
        return 1;
    }
    return gw_str_eq_lit(*v, "REPLACE") ? 0 : -1;
}

/* x-amz-metadata-directive REPLACE: Content-* headers and user metadata
 * from this request, as PutObject takes them. Nothing of the source's. */
static int
s3_copy_replace_meta(s3_req_t *r, store_object_t *o)
{
    memset(&o->content_type, 0, sizeof(o->content_type));
    memset(&o->content_encoding, 0, sizeof(o->content_encoding));
    memset(&o->content_disposition, 0, sizeof(o->content_disposition));
    memset(&o->content_language, 0, sizeof(o->content_language));
    memset(&o->cache_control, 0, sizeof(o->cache_control));
    memset(&o->expires, 0, sizeof(o->expires));
    memset(&o->website_redirect, 0, sizeof(o->website_redirect));
    o->meta = NULL;
    o->nmeta = 0;
    return s3_put_meta(r, o);
}

/* ==== the answer ==== */

static void
s3_copy_answer(s3_copy_t *c)
{
    s3_req_t        *r = c->r;
    store_object_t  *o = &c->obj;
    s3_xml_t         x;
    char             buf[64];

    /* The source's version and the copy's, as S3 tells them. */
    if ((c->src->vflags & STORE_VF_VERSIONED)
        || s3_version_bucket(r, c->sbucket))
    {
        const char  *id = s3_version_of(r, c->src);

        http_resp_header(r->http, "x-amz-copy-source-version-id", id,
                         strlen(id));
    }
    if (c->vres.versioned || s3_version_bucket(r, r->bucket)) {
        const char  *id = s3_version_made(r, &c->vres);

        http_resp_header(r->http, "x-amz-version-id", id, strlen(id));
    }
    s3_xml_begin(&x, r->pool, "CopyObjectResult");
    s3_etag(o->md5, o->nparts, buf);
    s3_xml_elem_str(&x, "ETag", buf);
    s3_xml_time(o->mtime_ms, buf);
    s3_xml_elem_str(&x, "LastModified", buf);
    if (o->cksum_alg != GW_CK_NONE) {
        s3_xml_elem_str(&x, "ChecksumType",
                        o->cksum_type ? "COMPOSITE" : "FULL_OBJECT");
        gw_base64_encode(buf, o->cksum,
                         gw_cksum_len((gw_cksum_alg_t) o->cksum_alg));
        s3_xml_elem_str(&x, gw_pool_sprintf(r->pool, "Checksum%s",
                            gw_cksum_name((gw_cksum_alg_t) o->cksum_alg)),
                        buf);
    }
    s3_xml_end(&x, "CopyObjectResult");
    s3_send_xml(r, 200, &x);
}

static void
s3_copy_committed(void *ud, int rc)
{
    s3_copy_t  *c = ud;
    s3_req_t   *r = c->r;

    store_unpin(r->ctx->store, c->src->chunks, c->src->nchunks);
    if (!r->http->aborted) {
        switch (rc) {
        case GW_OK:
            s3_copy_answer(c);
            break;
        case GW_ENOBUCKET:
            s3_error(r, S3_ERR_NO_SUCH_BUCKET, NULL);
            break;
        case GW_ECONFLICT:
            /* The object copied onto itself was written meanwhile. */
            s3_error(r, S3_ERR_OPERATION_ABORTED, NULL);
            break;
        default:
            gw_log(GW_LOG_ERR, r->http->peer, rc, "committing a copy failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
    }
    store_object_free(c->src);
    c->src = NULL;
    http_req_release(r->http);
}

/* ==== CopyObject ==== */

/* What a CopyObject request alone decides, before any lookup. */
typedef struct {
    const char      *sbucket;       /* the source (r->pool) */
    gw_str_t         skey, vid;
    int              shas;          /* a source versionId was given */
    uint64_t         sver;
    int              copy_meta;     /* the directives: 1 COPY, 0 REPLACE */
    int              copy_tags;
    int              sclass;        /* x-amz-storage-class, or -1 */
    gw_kv_t         *tags;          /* x-amz-tagging (REPLACE) */
    size_t           ntags;
} s3_copy_req_t;

/* The request's headers into *q: S3_ERR_NONE or an error (*msg set, or
 * left NULL for the default message). */
static int
s3_copy_request(s3_req_t *r, s3_copy_req_t *q, const char **msg)
{
    const gw_str_t  *v;
    int              rc;

    memset(q, 0, sizeof(*q));
    q->sclass = -1;
    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = s3_copy_source(r, &q->sbucket, &q->skey, &q->vid, msg);
    if (rc == S3_ERR_NONE) {
        rc = s3_version_source(&q->vid, &q->shas, &q->sver, msg);
    }
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    q->copy_meta = s3_copy_directive(r, "x-amz-metadata-directive");
    if (q->copy_meta < 0) {
        *msg = "Unknown metadata directive.";
        return S3_ERR_INVALID_ARGUMENT;
    }
    q->copy_tags = s3_copy_directive(r, "x-amz-tagging-directive");
    if (q->copy_tags < 0) {
        *msg = "Unknown tagging directive.";
        return S3_ERR_INVALID_ARGUMENT;
    }
    if ((v = s3_header(r, "x-amz-storage-class")) != NULL) {
        if (gw_str_eq_lit(*v, "STANDARD")) {
            q->sclass = STORE_CLASS_STANDARD;
        } else if (gw_str_eq_lit(*v, "REDUCED_REDUNDANCY")) {
            q->sclass = STORE_CLASS_REDUCED_REDUNDANCY;
        } else {
            return S3_ERR_INVALID_STORAGE_CLASS;
        }
    }
    if (!q->copy_tags && (v = s3_header(r, "x-amz-tagging")) != NULL) {
        return s3_tags_parse_header(r->pool, v, &q->tags, &q->ntags, msg);
    }
    return S3_ERR_NONE;
}

/* 1 when the source is the current version of the destination's key. */
static int
s3_copy_onto_itself(s3_req_t *r, const s3_copy_req_t *q, int scur)
{
    return scur && strcmp(q->sbucket, r->bucket) == 0
           && q->skey.len == r->key.len
           && memcmp(q->skey.base, r->key.base, q->skey.len) == 0;
}

/* What the request asks of the source found: a checksum it has, and a
 * change when it is copied onto itself. S3_ERR_NONE or an error, *msg
 * set. */
static int
s3_copy_check(s3_req_t *r, const s3_copy_req_t *q, const store_object_t *src,
              int scur, const char **msg)
{
    const gw_str_t  *v;
    gw_cksum_alg_t   alg;

    /* A new checksum would mean reading every byte; the copy shares the
     * source's bytes and keeps the source's checksum. */
    if ((v = s3_header(r, "x-amz-checksum-algorithm")) != NULL) {
        alg = gw_cksum_from_name(v->base, v->len);
        if (alg == GW_CK_NONE) {
            *msg = "Checksum algorithm provided is unsupported. Please try "
                   "again with any of the valid types: [CRC32, CRC32C, "
                   "CRC64NVME, SHA1, SHA256]";
            return S3_ERR_INVALID_REQUEST;
        }
        if (alg != (gw_cksum_alg_t) src->cksum_alg) {
            *msg = gw_pool_sprintf(r->pool, "This server cannot give a copy "
                                   "a checksum algorithm its source does not "
                                   "have; the source's is %s.",
                                   src->cksum_alg != GW_CK_NONE
                                   ? gw_cksum_name((gw_cksum_alg_t)
                                                   src->cksum_alg)
                                   : "none");
            return S3_ERR_NOT_IMPLEMENTED;
        }
    }
    if (s3_copy_onto_itself(r, q, scur) && q->copy_meta && q->copy_tags
        && s3_header(r, "x-amz-website-redirect-location") == NULL
        && (q->sclass < 0 || q->sclass == src->storage_class))
    {
        *msg = "This copy request is illegal because it is trying to copy an "
               "object to itself without changing the object's metadata, "
               "storage class, website redirect location or encryption "
               "attributes.";
        return S3_ERR_INVALID_REQUEST;
    }
    return S3_ERR_NONE;
}

/* The copy's record into c->obj: the source's content (chunks or inline
 * bytes, size, ETag, checksum, part sizes) and, for COPY, its metadata and
 * tags; the owner, ACL, time and class of a new object. S3_ERR_NONE or an
 * error (*msg as s3_copy_request). */
static int
s3_copy_record(s3_req_t *r, const s3_copy_req_t *q, const store_object_t *src,
               s3_copy_t *c, const char **msg)
{
    store_object_t  *o = &c->obj;
    int              rc;

    *o = *src;
    o->raw = NULL;
    o->key = r->key;
    /* A copy is no upload's result: a retried completion must not answer
     * for it. */
    o->upload_id.base = NULL;
    o->upload_id.len = 0;
    o->owner.base = r->user ? r->user->name : "";   /* "": anonymous */
    o->owner.len = strlen(o->owner.base);
    /* A copy has the owner and ACL its request and the bucket's Object
     * Ownership give it, as S3: not the source's. */
    rc = s3_access_object_acl(r, o, msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    o->mtime_ms = (int64_t) time(NULL) * 1000;
    /* Like S3: the copy is STANDARD unless the request names a class. */
    o->storage_class = (uint8_t) (q->sclass < 0 ? STORE_CLASS_STANDARD
                                                : q->sclass);
    /* COPY keeps the source's redirect location unless the request names
     * one; REPLACE takes the request's (or none), like the rest of the
     * metadata. */
    rc = q->copy_meta ? s3_put_website_redirect(r, o)
                      : s3_copy_replace_meta(r, o);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    if (!q->copy_tags) {
        o->tags = q->tags;
        o->ntags = q->ntags;
    }
    return S3_ERR_NONE;
}

static int
s3_copy_object(s3_req_t *r)
{
    s3_copy_req_t    q;
    s3_copy_t       *c;
    store_object_t  *src = NULL, *o;
    const char      *msg = NULL;
    int              rc, scur = 0;

    rc = s3_copy_request(r, &q, &msg);
    if (rc != S3_ERR_NONE) {
        goto fail;
    }
    rc = s3_access_resource(r, q.sbucket, &q.skey,
                            q.shas ? "s3:GetObjectVersion" : "s3:GetObject");
    if (rc != S3_ERR_NONE) {
        goto fail;
    }
    rc = s3_version_lookup(r, q.sbucket, q.skey, q.shas, q.sver, &src, &scur);
    if (rc == S3_ERR_METHOD_NOT_ALLOWED) {
        /* A delete marker cannot be copied. */
        rc = S3_ERR_INVALID_REQUEST;
        msg = "The source of a copy request may not specifically refer to a "
              "delete marker by version id.";
    }
    if (rc != S3_ERR_NONE) {
        goto fail;
    }
    rc = s3_object_conditions(r, src, 1);
    if (rc == S3_ERR_NONE) {
        rc = s3_copy_check(r, &q, src, scur, &msg);
    }
    if (rc != S3_ERR_NONE) {
        goto fail;
    }
    c = gw_pool_calloc(r->pool, sizeof(*c));
    c->r = r;
    o = &c->obj;
    rc = s3_copy_record(r, &q, src, c, &msg);
    if (rc != S3_ERR_NONE) {
        goto fail;
    }

    /* Pinned in the loop turn of the lookup: the collector cannot have taken
     * a chunk in between (store.h), and cannot until the commit refers to
     * them. */
    c->src = src;
    c->sbucket = q.sbucket;
    memset(&c->cond, 0, sizeof(c->cond));
    if (s3_copy_onto_itself(r, &q, scur)) {
        /* A copy onto itself (new metadata, tags or storage class) is a
         * read-modify-write of the record: it must not undo a write that
         * landed since the read. */
        c->cond.has_generation = 1;
        c->cond.generation = src->generation;
    }
    rc = s3_record_repl(r, r->bucket, o->key, o->tags, o->ntags, 0, &c->repl);
    if (rc != S3_ERR_NONE) {
        goto fail;
    }
    o->repl = &c->repl;
    o->repl_status = c->repl.ndests ? STORE_REPL_STATUS_PENDING
                                    : STORE_REPL_STATUS_NONE;
    o->vout = &c->vres;
    store_pin(r->ctx->store, src->chunks, src->nchunks);
    http_req_hold(r->http);
    store_object_put(r->ctx->store, r->bucket, o, &c->cond, s3_copy_committed,
                     c);
    return GW_DONE;

fail:
    store_object_free(src);
    if (msg != NULL) {
        s3_error(r, rc, msg);
        return GW_OK;
    }
    return rc;
}
