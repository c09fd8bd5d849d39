/* s3/ops/multipart.c: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts, ListMultipartUploads.
 *
 * Parts stream through the object write path (s3/put.c) and are kept
 * as chunk lists in the index; completion builds the object's chunk list
 * from them in one commit, so no byte is read or written again. */
#include "s3/lifecycle.h"
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/cond.h"
#include "s3/put.h"
#include "s3/record.h"
#include "s3/uri.h"
#include "s3/version.h"
#include "core/log.h"

#include <openssl/evp.h>
#include <strings.h>
#include <time.h>

#include "llhttp.h"

#define S3_MIN_PART        (5 * 1024 * 1024)
#define S3_MAX_PART        ((uint64_t) 5 << 30)
#define S3_COMPLETE_MAX    (10000 * 512 + 4096)    /* XML body bytes */
#define S3_LIST_MAX        1000

static int s3_mp_create(s3_req_t *r), s3_mp_part(s3_req_t *r),
    s3_mp_complete(s3_req_t *r), s3_mp_abort(s3_req_t *r),
    s3_mp_list_parts(s3_req_t *r), s3_mp_list_uploads(s3_req_t *r);

const s3_route_t  s3_multipart_routes[] = {
    { HTTP_POST,   S3_OBJECT, "uploads", "CreateMultipartUpload",
      s3_mp_create, 0, "s3:PutObject", NULL },
    { HTTP_PUT,    S3_OBJECT, "uploadId", "UploadPart", s3_mp_part, S3_BODY,
      "s3:PutObject", NULL },
    { HTTP_POST,   S3_OBJECT, "uploadId", "CompleteMultipartUpload",
      s3_mp_complete, S3_BODY, "s3:PutObject", NULL },
    { HTTP_DELETE, S3_OBJECT, "uploadId", "AbortMultipartUpload",
      s3_mp_abort, 0, "s3:AbortMultipartUpload", NULL },
    { HTTP_GET,    S3_OBJECT, "uploadId", "ListParts", s3_mp_list_parts, 0,
      "s3:ListMultipartUploadParts", NULL },
    { HTTP_GET,    S3_BUCKET, "uploads", "ListMultipartUploads",
      s3_mp_list_uploads, 0, "s3:ListBucketMultipartUploads", NULL },
    S3_ROUTE_END
};

/* ==== helpers ==== */

/* The upload named by ?uploadId, which must be for this bucket and key. */
static int
s3_mp_upload(s3_req_t *r, store_upload_t **u)
{
    const gw_str_t  *v = s3_param(r, "uploadId");
    char             id[STORE_UPLOAD_ID_LEN + 1];
    int              rc;

    if (v == NULL || v->len != STORE_UPLOAD_ID_LEN) {
        return S3_ERR_NO_SUCH_UPLOAD;
    }
    memcpy(id, v->base, v->len);
    id[v->len] = '\0';
    rc = store_upload_get(r->ctx->store, id, u);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_UPLOAD;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "upload lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    if (strcmp((*u)->bucket, r->bucket) != 0 || (*u)->tmpl->key.len != r->key.len
        || memcmp((*u)->tmpl->key.base, r->key.base, r->key.len) != 0)
    {
        store_upload_free(*u);
        *u = NULL;
        return S3_ERR_NO_SUCH_UPLOAD;
    }
    return S3_ERR_NONE;
}

static void
s3_mp_cksum_headers(s3_req_t *r, gw_cksum_alg_t alg, int composite)
{
    const char  *name = gw_cksum_name(alg);

    if (alg == GW_CK_NONE) {
        return;
    }
    http_resp_header(r->http, "x-amz-checksum-algorithm", name, strlen(name));
    http_resp_header(r->http, "x-amz-checksum-type",
                     composite ? "COMPOSITE" : "FULL_OBJECT",
                     composite ? 9 : 11);
}

/* <ChecksumCRC32>base64[-N]</ChecksumCRC32> */
static void
s3_mp_cksum_xml(s3_xml_t *x, gw_cksum_alg_t alg, const unsigned char *ck,
                uint32_t nparts)
{
    char   tag[32], val[64];
    size_t n;

    if (alg == GW_CK_NONE) {
        return;
    }
    snprintf(tag, sizeof(tag), "Checksum%s", gw_cksum_name(alg));
    n = gw_base64_encode(val, ck, gw_cksum_len(alg));
    if (nparts) {
        snprintf(val + n, sizeof(val) - n, "-%u", nparts);
    }
    s3_xml_elem_str(x, tag, val);
}

/* ==== CreateMultipartUpload ==== */

typedef struct {
    s3_req_t        *r;
    char             id[STORE_UPLOAD_ID_LEN + 1];
    store_object_t   tmpl;
} s3_mp_create_t;

static void
s3_mp_created(void *ud, int rc)
{
    s3_mp_create_t  *c = ud;
    s3_req_t        *r = c->r;
    s3_xml_t         x;

    if (!r->http->aborted) {
        if (rc == GW_OK) {
            s3_mp_cksum_headers(r, (gw_cksum_alg_t) c->tmpl.cksum_alg,
                                c->tmpl.cksum_type);
            s3_xml_begin(&x, r->pool, "InitiateMultipartUploadResult");
            s3_xml_elem_str(&x, "Bucket", r->bucket);
            s3_xml_elem(&x, "Key", r->key.base, r->key.len);
            s3_xml_elem_str(&x, "UploadId", c->id);
            s3_xml_end(&x, "InitiateMultipartUploadResult");
            s3_send_xml(r, 200, &x);
        } else if (rc == GW_ENOBUCKET) {
            s3_error(r, S3_ERR_NO_SUCH_BUCKET, NULL);
        } else {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "creating an upload failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
    }
    http_req_release(r->http);
}

static int
s3_mp_create(s3_req_t *r)
{
    s3_mp_create_t  *c;
    const gw_str_t  *v;
    int              rc;

    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    c = gw_pool_calloc(r->pool, sizeof(*c));
    c->r = r;
    rc = s3_put_headers(r, &c->tmpl);
    if (rc == S3_ERR_NONE) {
        rc = s3_access_new_object(r, &c->tmpl);
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_access_replica(r, &c->tmpl);
    }
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    if ((v = s3_header(r, "x-amz-checksum-algorithm")) != NULL) {
        c->tmpl.cksum_alg = (uint8_t) gw_cksum_from_name(v->base, v->len);
        if (c->tmpl.cksum_alg == GW_CK_NONE) {
            s3_error(r, S3_ERR_INVALID_REQUEST, "Checksum algorithm provided "
                     "is unsupported. Please try again with any of the valid "
                     "types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
            return GW_OK;
        }
    }
    /* As S3: CRC64NVME is always full-object; the others default to
     * composite, and only the CRCs can be full-object. */
    c->tmpl.cksum_type = c->tmpl.cksum_alg != GW_CK_NONE
                         && c->tmpl.cksum_alg != GW_CK_CRC64NVME;
    if ((v = s3_header(r, "x-amz-checksum-type")) != NULL) {
        if (v->len == 11 && strncasecmp(v->base, "FULL_OBJECT", 11) == 0
            && (c->tmpl.cksum_alg == GW_CK_CRC32 || c->tmpl.cksum_alg == GW_CK_CRC32C
                || c->tmpl.cksum_alg == GW_CK_CRC64NVME))
        {
            c->tmpl.cksum_type = 0;
        } else if (v->len == 9 && strncasecmp(v->base, "COMPOSITE", 9) == 0
                   && c->tmpl.cksum_alg != GW_CK_NONE
                   && c->tmpl.cksum_alg != GW_CK_CRC64NVME)
        {
            c->tmpl.cksum_type = 1;
        } else {
            s3_error(r, S3_ERR_INVALID_REQUEST, "The x-amz-checksum-type "
                     "specified is not valid for the checksum algorithm.");
            return GW_OK;
        }
    }
    c->tmpl.mtime_ms = (int64_t) time(NULL) * 1000;
    http_req_hold(r->http);
    store_upload_create(r->ctx->store, r->bucket, &c->tmpl, c->id,
                        s3_mp_created, c);
    return GW_DONE;
}

/* ==== UploadPart ==== */

static void
s3_mp_part_committed(void *ud, int rc)
{
    s3_put_t  *p = ud;
    s3_req_t  *r = p->r;
    char       etag[48], ck[64];

    if (!r->http->aborted) {
        if (rc == GW_OK) {
            s3_etag(p->obj.md5, 0, etag);
            http_resp_header(r->http, "ETag", etag, strlen(etag));
            gw_base64_encode(ck, p->obj.cksum, gw_cksum_len(p->body.cksum_alg));
            http_resp_header(r->http, gw_cksum_header(p->body.cksum_alg), ck,
                             strlen(ck));
            http_resp_send(r->http, 200, NULL, 0, NULL);
        } else if (rc == GW_ENOTFOUND) {
            s3_error(r, S3_ERR_NO_SUCH_UPLOAD, NULL);
        } else {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "storing a part failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
    }
    s3_put_finish(p, rc == GW_OK);
}

static void
s3_mp_part_commit(s3_put_t *p)
{
    s3_req_t  *r = p->r;
    uint64_t   partno = (uint64_t) (uintptr_t) p->data;

    store_part_put(r->ctx->store, s3_param(r, "uploadId")->base,
                   (uint32_t) partno, &p->obj, s3_mp_part_committed, p);
}

/* ==== UploadPartCopy ==== */

/* A part made of another object's bytes: whole chunks inside the range are
 * referenced as they are; only the partial chunks at its two ends are read
 * and written again (store_chunk_slice). The part's ETag must be the MD5 of
 * its bytes (the object's ETag is made of its parts' MD5s), so the range is
 * read once more on the thread pool for its MD5, and its checksum in the
 * upload's algorithm (store_chunk_digest), a buffer at a time. A source kept
 * inline (a few KiB in its record) becomes one new chunk file: parts are
 * always chunk files (see s3/put.c). */
typedef struct {
    s3_req_t              *r;
    store_object_t        *src;
    char                   id[STORE_UPLOAD_ID_LEN + 1];
    uint32_t               partno;
    store_chunk_ref_t     *chunks;
    size_t                 n;
    size_t                 slices[2];    /* indexes of sliced chunks */
    size_t                 nslices;
    store_chunk_writer_t  *w;            /* an inline source's new chunk */
    int                    pending;
    int                    err;
    store_object_t         part;
    const char            *src_vid;      /* x-amz-copy-source-version-id */
} s3_mp_copy_t;

static void
s3_mp_copy_release(s3_mp_copy_t *m, int committed)
{
    size_t  i;

    store_unpin(m->r->ctx->store, m->src->chunks, m->src->nchunks);
    for (i = 0; i < m->nslices; i++) {
        store_unpin(m->r->ctx->store, &m->chunks[m->slices[i]], 1);
    }
    if (m->w != NULL) {
        store_chunk_writer_close(m->w, committed);
    }
    store_object_free(m->src);
    gw_free(m->chunks);
    http_req_release(m->r->http);
}

static void
s3_mp_copy_committed(void *ud, int rc)
{
    s3_mp_copy_t  *m = ud;
    s3_req_t      *r = m->r;
    s3_xml_t       x;
    char           etag[48], t[32];

    if (!r->http->aborted) {
        if (rc == GW_OK) {
            if (m->src_vid != NULL) {
                http_resp_header(r->http, "x-amz-copy-source-version-id",
                                 m->src_vid, strlen(m->src_vid));
            }
            s3_etag(m->part.md5, 0, etag);
            s3_xml_time(m->part.mtime_ms, t);
            s3_xml_begin(&x, r->pool, "CopyPartResult");
            s3_xml_elem_str(&x, "ETag", etag);
            s3_xml_elem_str(&x, "LastModified", t);
            s3_mp_cksum_xml(&x, (gw_cksum_alg_t) m->part.cksum_alg,
                            m->part.cksum, 0);
            s3_xml_end(&x, "CopyPartResult");
            s3_send_xml(r, 200, &x);
        } else if (rc == GW_ENOTFOUND) {
            s3_error(r, S3_ERR_NO_SUCH_UPLOAD, NULL);
        } else {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "storing a copied part failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
    }
    s3_mp_copy_release(m, rc == GW_OK);
}

/* One of the slices, the digest or the inline chunk is done; the last one
 * commits the part. */
static void
s3_mp_copy_step(void *ud, int rc)
{
    s3_mp_copy_t  *m = ud;
    s3_req_t      *r = m->r;
    size_t         i;

    if (rc != GW_OK && m->err == GW_OK) {
        m->err = rc;
    }
    if (--m->pending > 0) {
        return;
    }
    if (m->err != GW_OK || r->http->aborted) {
        if (m->err != GW_OK) {
            gw_log(GW_LOG_ERR, r->http->peer, m->err, "copying a part failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
        /* Only slices that were made hold a pin (a failed one keeps the
         * zero length it started with). */
        for (i = 0; i < m->nslices; i++) {
            if (m->chunks[m->slices[i]].len == 0) {
                m->slices[i--] = m->slices[--m->nslices];
            }
        }
        s3_mp_copy_release(m, 0);
        return;
    }
    if (m->w != NULL) {
        m->part.chunks = (store_chunk_ref_t *)
            store_chunk_writer_chunks(m->w, &m->part.nchunks);
    } else {
        m->part.chunks = m->chunks;
        m->part.nchunks = m->n;
    }
    m->part.mtime_ms = (int64_t) time(NULL) * 1000;
    store_part_put(r->ctx->store, m->id, m->partno, &m->part,
                   s3_mp_copy_committed, m);
}

static void
s3_mp_copy_ready(void *ud)
{
    (void) ud;          /* the one write was taken already */
}

/* The bytes [a, e) of an inline (or empty) source: digested here, they are
 * so few, and written as one new chunk file. */
static void
s3_mp_copy_inline(s3_mp_copy_t *m, uint64_t a, uint64_t e)
{
    s3_req_t    *r = m->r;
    const char  *p = m->src->inline_data.base + a;
    EVP_MD_CTX  *md;
    gw_cksum_t   ck;
    unsigned     len;
    int          rc;

    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, gw_evp_md5(), NULL) != 1
        || gw_cksum_init(&ck, (gw_cksum_alg_t) m->part.cksum_alg) != GW_OK)
    {
        fprintf(stderr, "[crit] cannot start a digest\n");
        abort();
    }
    EVP_DigestUpdate(md, p, e - a);
    EVP_DigestFinal_ex(md, m->part.md5, &len);
    EVP_MD_CTX_free(md);
    gw_cksum_update(&ck, p, e - a);
    gw_cksum_final(&ck, m->part.cksum);
    gw_cksum_free(&ck);
    if (e == a) {
        return;                         /* an empty part has no chunk */
    }
    m->w = store_chunk_writer_open(r->ctx->store, s3_mp_copy_ready, m);
    store_chunk_writer_no_inline(m->w);
    rc = store_chunk_write(m->w, p, e - a);
    if (rc == GW_OK || rc == GW_AGAIN) {
        m->pending++;
        rc = store_chunk_writer_finish(m->w, s3_mp_copy_step, m);
        if (rc == GW_DONE) {
            return;
        }
        m->pending--;
    }
    if (rc != GW_OK && m->err == GW_OK) {
        m->err = rc;
    }
}

/* x-amz-copy-source-range into [*a, *e) of a source of size bytes: S3_ERR_NONE,
 * or the error answered (-1) or to answer. As S3: a value that is not
 * "bytes=first-last" with first <= last is InvalidArgument, and so is a last
 * byte past the source; a first byte past it is unsatisfiable: 416. */
static int
s3_mp_copy_range(s3_req_t *r, const gw_str_t *v, uint64_t size, uint64_t *a,
                 uint64_t *e)
{
    const char  *dash = memchr(v->base, '-', v->len);
    gw_str_t     fs, ls;

    fs.base = v->base + 6;
    fs.len = dash ? (size_t) (dash - fs.base) : 0;
    ls.base = dash ? dash + 1 : "";
    ls.len = dash ? (size_t) (v->base + v->len - ls.base) : 0;
    if (v->len < 9 || strncmp(v->base, "bytes=", 6) != 0 || dash == NULL
        || s3_parse_uint(&fs, UINT64_MAX / 2, a) != 0
        || s3_parse_uint(&ls, UINT64_MAX / 2, e) != 0 || *e < *a)
    {
        s3_error(r, S3_ERR_INVALID_ARGUMENT, "The x-amz-copy-source-range "
                 "value must be of the form bytes=first-last where first "
                 "and last are the zero-based offsets of the first and "
                 "last bytes to copy");
        return -1;
    }
    if (*a >= size) {
        http_resp_headerf(r->http, "Content-Range", "bytes */%llu",
                          (unsigned long long) size);
        return S3_ERR_INVALID_RANGE;
    }
    if (*e >= size) {
        s3_error(r, S3_ERR_INVALID_ARGUMENT, gw_pool_sprintf(r->pool,
                 "Range specified is not valid for source object of size: "
                 "%llu", (unsigned long long) size));
        return -1;
    }
    (*e)++;
    return S3_ERR_NONE;
}

/* Queues the slices of the partial chunks at the ends of [a, e) and the
 * digest of the range; each ends in s3_mp_copy_step. */
static void
s3_mp_copy_chunks(s3_mp_copy_t *m, uint64_t a, uint64_t e)
{
    store_t         *st = m->r->ctx->store;
    store_object_t  *src = m->src;
    uint64_t         s0, s1;
    size_t           i;

    for (i = 0; i < src->nchunks; i++) {
        const store_chunk_ref_t  *c = &src->chunks[i];
        store_chunk_ref_t        *d;

        s0 = GW_MAX(a, c->off);
        s1 = GW_MIN(e, c->off + c->len);
        if (s0 >= s1) {
            continue;
        }
        d = &m->chunks[m->n++];
        if (s0 == c->off && s1 == c->off + c->len) {
            *d = *c;
            d->off = s0 - a;
            continue;
        }
        d->off = s0 - a;
        d->len = 0;                    /* set by the slice when it is made */
        m->slices[m->nslices++] = m->n - 1;
        m->pending++;
        store_chunk_slice(st, c->sha, (uint32_t) (s0 - c->off),
                          (uint32_t) (s1 - s0), d, s3_mp_copy_step, m);
    }
    m->pending++;
    store_chunk_digest(st, src->chunks, src->nchunks, a, e - a,
                       m->part.cksum_alg, m->part.md5,
                       m->part.cksum_alg != GW_CK_NONE ? m->part.cksum : NULL,
                       s3_mp_copy_step, m);
}

static int
s3_mp_part_copy(s3_req_t *r, uint32_t partno)
{
    s3_mp_copy_t     *m;
    store_object_t   *src;
    const gw_str_t   *v;
    const char       *sbucket, *msg = NULL, *src_vid = NULL;
    gw_str_t          skey, vid;
    uint64_t          a = 0, e = 0, sver = 0;
    int               rc, shas = 0;

    rc = s3_copy_source(r, &sbucket, &skey, &vid, &msg);
    if (rc == S3_ERR_NONE) {
        rc = s3_version_source(&vid, &shas, &sver, &msg);
    }
    if (rc != S3_ERR_NONE) {
        s3_error(r, rc, msg);
        return -1;
    }
    rc = s3_access_resource(r, sbucket, &skey, shas ? "s3:GetObjectVersion"
                                                    : "s3:GetObject");
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = s3_version_lookup(r, sbucket, skey, shas, sver, &src, NULL);
    if (rc == S3_ERR_METHOD_NOT_ALLOWED) {
        s3_error(r, S3_ERR_INVALID_REQUEST, "The source of a copy request "
                 "may not specifically refer to a delete marker by version "
                 "id.");
        return -1;
    }
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    if ((src->vflags & STORE_VF_VERSIONED) || s3_version_bucket(r, sbucket)) {
        src_vid = s3_version_of(r, src);
    }
    rc = s3_object_conditions(r, src, 1);
    e = src->size;                                 /* [a, e) */
    if (rc == S3_ERR_NONE
        && (v = s3_header(r, "x-amz-copy-source-range")) != NULL)
    {
        rc = s3_mp_copy_range(r, v, src->size, &a, &e);
    }
    if (rc == S3_ERR_NONE && e - a > S3_MAX_PART) {
        rc = S3_ERR_ENTITY_TOO_LARGE;
    }
    if (rc != S3_ERR_NONE) {
        store_object_free(src);
        return rc;
    }

    m = gw_pool_calloc(r->pool, sizeof(*m));
    m->r = r;
    m->src = src;
    m->src_vid = src_vid;
    m->partno = partno;
    memcpy(m->id, s3_param(r, "uploadId")->base, STORE_UPLOAD_ID_LEN);
    m->part.size = e - a;
    /* The upload's algorithm (s3_mp_part set it), so completion can
     * combine the part's checksum with the others'. */
    m->part.cksum_alg = (uint8_t) r->default_cksum;
    /* Pinned in the lookup's loop turn, as GetObject does. */
    store_pin(r->ctx->store, src->chunks, src->nchunks);
    http_req_hold(r->http);
    m->chunks = gw_alloc(sizeof(*m->chunks) * (src->nchunks + 1));
    m->pending = 1;
    if (src->nchunks == 0) {
        s3_mp_copy_inline(m, a, e);
    } else {
        s3_mp_copy_chunks(m, a, e);
    }
    s3_mp_copy_step(m, GW_OK);
    return GW_DONE;
}

static int
s3_mp_part(s3_req_t *r)
{
    store_upload_t  *u;
    s3_put_t        *p;
    uint64_t         partno;
    int              rc;

    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    if (s3_parse_uint(s3_param(r, "partNumber"), STORE_PART_MAX, &partno) != 0
        || partno == 0)
    {
        s3_error(r, S3_ERR_INVALID_ARGUMENT, "Part number must be an integer "
                 "between 1 and 10000, inclusive");
        return GW_OK;
    }
    rc = s3_mp_upload(r, &u);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    /* Parts without a checksum of their own get the upload's algorithm, so
     * that completion can combine them. */
    r->default_cksum = (gw_cksum_alg_t) u->tmpl->cksum_alg;
    store_upload_free(u);
    if (s3_header(r, "x-amz-copy-source") != NULL) {
        return s3_mp_part_copy(r, (uint32_t) partno);
    }
    if (r->http->content_length < 0 && !r->http->chunked) {
        return S3_ERR_MISSING_CONTENT_LENGTH;
    }
    p = gw_pool_calloc(r->pool, sizeof(*p));
    p->commit = s3_mp_part_commit;
    p->data = (void *) (uintptr_t) partno;
    return s3_put_stream(r, p, S3_MAX_PART);
}

/* ==== CompleteMultipartUpload ==== */

typedef struct {
    s3_req_t          *r;
    store_complete_t   c;
    char               id[STORE_UPLOAD_ID_LEN + 1];
    uv_timer_t         keepalive;   /* whitespace while a commit runs long */
    int                streaming;   /* 200 sent; the result follows */
} s3_mp_complete_t;

/* The document being read. */
typedef struct {
    store_complete_t  *c;
    size_t             cap;
    int                err;
    uint64_t           cur_no;      /* the <Part> being read */
    int                cur_has_no, cur_has_etag;
    unsigned char      cur_md5[16];
    uint8_t            cur_ck_alg;
    unsigned char      cur_ck[32];
} s3_mp_parse_t;

static int
s3_mp_complete_elem(void *ud, int depth, const char *name, const char *text,
                    size_t len)
{
    s3_mp_parse_t     *m = ud;
    store_complete_t  *c = m->c;
    uint32_t           n;
    gw_str_t           v = { text, len };

    if (depth == 1) {
        return strcmp(name, "CompleteMultipartUpload") == 0 ? 0 : GW_EINVAL;
    }
    if (depth == 3 && strcmp(name, "PartNumber") == 0) {
        if (s3_parse_uint(&v, STORE_PART_MAX, &m->cur_no) != 0 || m->cur_no == 0) {
            return GW_EINVAL;
        }
        m->cur_has_no = 1;
    } else if (depth == 3 && strcmp(name, "ETag") == 0) {
        while (v.len > 0 && strchr(" \t\r\n", v.base[0]) != NULL) {
            v.base++;
            v.len--;
        }
        while (v.len > 0 && strchr(" \t\r\n", v.base[v.len - 1]) != NULL) {
            v.len--;
        }
        if (s3_etag_parse(v.base, v.len, m->cur_md5, &n) != 0 || n != 0) {
            m->err = S3_ERR_INVALID_PART;
        }
        m->cur_has_etag = 1;
    } else if (depth == 3 && strncmp(name, "Checksum", 8) == 0
               && strcmp(name, "ChecksumType") != 0)
    {
        gw_cksum_alg_t  a = gw_cksum_from_name(name + 8, strlen(name + 8));
        size_t          got;

        if (a == GW_CK_NONE
            || gw_base64_decode(m->cur_ck, sizeof(m->cur_ck), &got, text, len)
               != GW_OK
            || got != gw_cksum_len(a))
        {
            if (m->err == 0) {
                m->err = S3_ERR_INVALID_PART;
            }
        } else {
            m->cur_ck_alg = (uint8_t) a;
        }
    } else if (depth == 2 && strcmp(name, "Part") == 0) {
        if (!m->cur_has_no || !m->cur_has_etag) {
            return GW_EINVAL;
        }
        if (c->n == STORE_PART_MAX) {
            return GW_EINVAL;
        }
        if (c->n == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 64;
            c->numbers = gw_realloc(c->numbers, sizeof(*c->numbers) * m->cap);
            c->md5 = gw_realloc(c->md5, sizeof(*c->md5) * m->cap);
            c->part_ck_alg = gw_realloc(c->part_ck_alg,
                                        sizeof(*c->part_ck_alg) * m->cap);
            c->part_ck = gw_realloc(c->part_ck, sizeof(*c->part_ck) * m->cap);
        }
        if (c->n > 0 && m->cur_no <= c->numbers[c->n - 1] && m->err == 0) {
            m->err = S3_ERR_INVALID_PART_ORDER;
        }
        c->numbers[c->n] = (uint32_t) m->cur_no;
        memcpy(c->md5[c->n], m->cur_md5, 16);
        c->part_ck_alg[c->n] = m->cur_ck_alg;
        memcpy(c->part_ck[c->n], m->cur_ck, 32);
        c->n++;
        m->cur_has_no = m->cur_has_etag = 0;
        m->cur_ck_alg = GW_CK_NONE;
    }
    return 0;
}

static void
s3_mp_complete_free(void *data)
{
    s3_mp_complete_t  *m = data;

    gw_free(m->c.numbers);
    gw_free(m->c.md5);
    gw_free(m->c.part_ck_alg);
    gw_free(m->c.part_ck);
}

/* Reads a CompleteMultipartUpload document into c (its numbers and md5
 * arrays are malloc'd: the caller frees them): S3_ERR_NONE, or the error to
 * answer (MalformedXML, InvalidPart, InvalidPartOrder). Not static:
 * test/fuzz/fuzz_complete.c drives it. */
int s3__complete_parse(const char *buf, size_t len, store_complete_t *c);

int
s3__complete_parse(const char *buf, size_t len, store_complete_t *c)
{
    s3_mp_parse_t  m;
    int            rc;

    memset(&m, 0, sizeof(m));
    m.c = c;
    rc = s3_xml_parse(buf, len, s3_mp_complete_elem, &m);
    if (rc != GW_OK || c->n == 0) {
        return S3_ERR_MALFORMED_XML;
    }
    return m.err;
}

static void
s3_mp_keepalive_closed(uv_handle_t *h)
{
    s3_mp_complete_t  *m = h->data;

    http_req_release(m->r->http);
}

/* complete_keepalive passed with the commit still running: answer 200 now
 * and keep the connection busy with spaces, as S3 does. */
static void
s3_mp_keepalive(uv_timer_t *t)
{
    s3_mp_complete_t  *m = t->data;
    http_req_t        *hr = m->r->http;
    static const char  decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    if (hr->aborted) {
        uv_timer_stop(t);
        return;
    }
    if (!m->streaming) {
        m->streaming = 1;
        http_resp_header(hr, "Content-Type", "application/xml", 15);
        http_resp_start(hr, 200, HTTP_CHUNKED);
        http_resp_chunk(hr, decl, sizeof(decl) - 1);
        return;
    }
    http_resp_chunk(hr, " ", 1);
}

/* The result once 200 went out already: a document after the spaces (an
 * error too is a document in a 200, which SDKs look for). */
static void
s3_mp_complete_stream_end(s3_mp_complete_t *m, int err, s3_xml_t *x)
{
    http_req_t  *hr = m->r->http;
    s3_xml_t     e = { m->r->pool, NULL, 0, 0 };
    const char  *body;

    if (err != S3_ERR_NONE) {
        s3_xml_open(&e, "Error");
        s3_xml_elem_str(&e, "Code", s3_error_code(err));
        s3_xml_elem_str(&e, "Message", s3_error_message(err));
        s3_xml_elem_str(&e, "RequestId", hr->id);
        s3_xml_elem_str(&e, "HostId", hr->id);
        s3_xml_close(&e, "Error");
        x = &e;
    }
    /* The declaration went out first; skip it here. */
    body = strstr(x->buf, "?>\n");
    body = body != NULL ? body + 3 : x->buf;
    http_resp_chunk(hr, body, x->len - (size_t) (body - x->buf));
    http_resp_end(hr);
}

/* The CompleteMultipartUploadResult of the object res (its ETag and
 * checksum) into x. */
static void
s3_mp_result_xml(s3_req_t *r, const store_object_t *res, s3_xml_t *x)
{
    const gw_str_t  *host = s3_header(r, "host");
    char             etag[48];

    s3_etag(res->md5, res->nparts, etag);
    s3_xml_begin(x, r->pool, "CompleteMultipartUploadResult");
    s3_xml_open(x, "Location");
    s3_xml_text(x, "http://", 7);
    if (host != NULL) {
        s3_xml_text(x, host->base, host->len);
    }
    s3_xml_text(x, r->http->path.base, r->http->path.len);
    s3_xml_close(x, "Location");
    s3_xml_elem_str(x, "Bucket", r->bucket);
    s3_xml_elem(x, "Key", r->key.base, r->key.len);
    s3_xml_elem_str(x, "ETag", etag);
    s3_mp_cksum_xml(x, (gw_cksum_alg_t) res->cksum_alg, res->cksum,
                    res->cksum_type ? res->nparts : 0);
    if (res->cksum_alg != GW_CK_NONE) {
        s3_xml_elem_str(x, "ChecksumType",
                        res->cksum_type ? "COMPOSITE" : "FULL_OBJECT");
    }
    s3_xml_end(x, "CompleteMultipartUploadResult");
}

/* A retried completion (a client that timed out waiting for the first
 * one): the upload is gone, but while the key still holds the object that
 * completing it made, the answer is the first one's (S3 does the same). */
static int
s3_mp_complete_again(s3_req_t *r)
{
    const gw_str_t  *id = s3_param(r, "uploadId");
    store_object_t  *o;
    s3_xml_t         x;
    int              rc;

    rc = store_object_get(r->ctx->store, r->bucket, r->key, &o);
    if (rc != GW_OK) {
        return S3_ERR_NO_SUCH_UPLOAD;
    }
    if (id == NULL || o->upload_id.len != id->len
        || memcmp(o->upload_id.base, id->base, id->len) != 0)
    {
        store_object_free(o);
        return S3_ERR_NO_SUCH_UPLOAD;
    }
    /* In a versioned bucket, the id of the version that completion made. */
    s3_version_headers(r, r->bucket, o);
    s3_mp_result_xml(r, o, &x);
    store_object_free(o);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

static void
s3_mp_completed(void *ud, int rc)
{
    s3_mp_complete_t  *m = ud;
    s3_req_t          *r = m->r;
    store_object_t    *res = &m->c.result;
    s3_xml_t           x;
    int                err = S3_ERR_NONE;

    uv_close((uv_handle_t *) &m->keepalive, s3_mp_keepalive_closed);
    if (!r->http->aborted) {
        if (rc == GW_OK) {
            /* Unless the answer already began (the keepalive). */
            if (!m->streaming
                && (m->c.vres.versioned || s3_version_bucket(r, r->bucket)))
            {
                const char  *id = s3_version_made(r, &m->c.vres);

                http_resp_header(r->http, "x-amz-version-id", id, strlen(id));
            }
            s3_mp_result_xml(r, res, &x);
        } else if (rc == GW_EINVAL) {
            err = m->c.reason == STORE_COMPLETE_NO_UPLOAD ? S3_ERR_NO_SUCH_UPLOAD
                  : m->c.reason == STORE_COMPLETE_TOO_SMALL ? S3_ERR_ENTITY_TOO_SMALL
                  : m->c.reason == STORE_COMPLETE_BAD_CKSUM ? S3_ERR_INVALID_REQUEST
                  : m->c.reason == STORE_COMPLETE_WRONG_CKSUM ? S3_ERR_BAD_DIGEST
                  : S3_ERR_INVALID_PART;
        } else if (rc == GW_EPRECOND) {
            err = S3_ERR_PRECONDITION_FAILED;
        } else if (rc == GW_ENOTFOUND) {
            err = S3_ERR_NO_SUCH_KEY;
        } else if (rc == GW_ENOBUCKET) {
            err = S3_ERR_NO_SUCH_BUCKET;
        } else {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "completing an upload failed");
            err = S3_ERR_INTERNAL_ERROR;
        }
        if (m->streaming) {
            s3_mp_complete_stream_end(m, err, &x);
        } else if (err != S3_ERR_NONE) {
            s3_error(r, err, err == S3_ERR_INVALID_REQUEST
                     ? "The upload was created with a checksum algorithm that "
                       "a part was not uploaded with." : NULL);
        } else {
            s3_lifecycle_expiration_header(r, NULL);
            s3_send_xml(r, 200, &x);
        }
    }
    http_req_release(r->http);
}

static void
s3_mp_complete_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_mp_complete_t  *m = r->data;
    int                rc;

    if (err != S3_ERR_NONE) {
        s3_error(r, err, NULL);
        return;
    }
    rc = s3__complete_parse(buf, len, &m->c);
    if (rc != S3_ERR_NONE) {
        s3_error(r, rc, NULL);
        return;
    }
    m->c.min_part = S3_MIN_PART;
    m->c.result.mtime_ms = (int64_t) time(NULL) * 1000;
    http_req_hold(r->http);
    http_req_hold(r->http);                 /* for the timer, until closed */
    uv_timer_init(r->ctx->loop, &m->keepalive);
    m->keepalive.data = m;
    uv_timer_start(&m->keepalive, s3_mp_keepalive,
                   r->ctx->cf->complete_keepalive_ms,
                   GW_MAX(r->ctx->cf->complete_keepalive_ms, 100));
    store_upload_complete(r->ctx->store, m->id, &m->c, s3_mp_completed, m);
}

static int
s3_mp_complete(s3_req_t *r)
{
    s3_mp_complete_t  *m;
    store_upload_t    *u;
    size_t             i;
    int                rc;

    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = s3_mp_upload(r, &u);
    if (rc == S3_ERR_NO_SUCH_UPLOAD) {
        return s3_mp_complete_again(r);
    }
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    m = gw_pool_calloc(r->pool, sizeof(*m));
    m->r = r;
    memcpy(m->id, u->id, sizeof(m->id));
    rc = u->tmpl->repl_status == STORE_REPL_STATUS_REPLICA ? S3_ERR_NONE
         : s3_record_repl(r, r->bucket, r->key, u->tmpl->tags,
                          u->tmpl->ntags, 0, &m->c.repl);
    store_upload_free(u);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    gw_pool_cleanup_add(r->pool, s3_mp_complete_free, m);
    rc = s3_write_conditions(r, &m->c.cond);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    /* Here x-amz-checksum-<alg> is the whole object's checksum (a composite
     * one ends in "-N"), checked when the object is assembled. */
    r->cksum_is_object = 1;
    for (i = 0; i < r->http->nheaders; i++) {
        const gw_kv_t   *h = &r->http->headers[i];
        gw_cksum_alg_t   a = gw_cksum_from_header(h->name.base, h->name.len);
        const char      *dash;
        size_t           n, vlen = h->value.len;

        if (a == GW_CK_NONE) {
            continue;
        }
        dash = memchr(h->value.base, '-', h->value.len);
        if (dash != NULL) {
            vlen = (size_t) (dash - h->value.base);
        }
        if (gw_base64_decode(m->c.want, sizeof(m->c.want), &n, h->value.base,
                             vlen) != GW_OK || n != gw_cksum_len(a))
        {
            return S3_ERR_INVALID_REQUEST;
        }
        m->c.want_alg = (uint8_t) a;
    }
    r->data = m;
    rc = s3_payload_collect(r, S3_COMPLETE_MAX, s3_mp_complete_body);
    return rc == GW_DONE ? GW_OK : rc;
}

/* ==== AbortMultipartUpload ==== */

static void
s3_mp_aborted(void *ud, int rc)
{
    s3_req_t  *r = ud;

    if (!r->http->aborted) {
        if (rc == GW_OK) {
            http_resp_send(r->http, 204, NULL, 0, NULL);
        } else if (rc == GW_ENOTFOUND) {
            s3_error(r, S3_ERR_NO_SUCH_UPLOAD, NULL);
        } else {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "aborting an upload failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
    }
    http_req_release(r->http);
}

static int
s3_mp_abort(s3_req_t *r)
{
    store_upload_t  *u;
    char             id[STORE_UPLOAD_ID_LEN + 1];
    int              rc;

    rc = s3_object_bucket(r);
    if (rc == S3_ERR_NONE) {
        rc = s3_mp_upload(r, &u);
    }
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    memcpy(id, u->id, sizeof(id));
    store_upload_free(u);
    http_req_hold(r->http);
    store_upload_abort(r->ctx->store, id, s3_mp_aborted, r);
    return GW_DONE;
}

/* ==== ListParts ==== */

typedef struct {
    s3_req_t   *r;
    s3_xml_t   *x;
    uint64_t    max, count;
    uint32_t    last;
    int         truncated;
} s3_mp_parts_t;

static int
s3_mp_part_one(void *ud, uint32_t partno, const store_object_t *part)
{
    s3_mp_parts_t  *l = ud;
    char            t[32], etag[48];

    if (l->count == l->max) {
        l->truncated = 1;
        return 1;
    }
    s3_xml_open(l->x, "Part");
    s3_xml_elemf(l->x, "PartNumber", "%u", partno);
    s3_xml_time(part->mtime_ms, t);
    s3_xml_elem_str(l->x, "LastModified", t);
    s3_etag(part->md5, 0, etag);
    s3_xml_elem_str(l->x, "ETag", etag);
    s3_xml_elemf(l->x, "Size", "%llu", (unsigned long long) part->size);
    s3_mp_cksum_xml(l->x, (gw_cksum_alg_t) part->cksum_alg, part->cksum, 0);
    s3_xml_close(l->x, "Part");
    l->count++;
    l->last = partno;
    return 0;
}

static int
s3_mp_list_parts(s3_req_t *r)
{
    store_upload_t  *u;
    s3_xml_t         x, parts = { r->pool, NULL, 0, 0 };
    s3_mp_parts_t    l = { r, &parts, S3_LIST_MAX, 0, 0, 0 };
    const gw_str_t  *v;
    uint64_t         marker = 0;
    int              rc;

    rc = s3_object_bucket(r);
    if (rc == S3_ERR_NONE) {
        rc = s3_mp_upload(r, &u);
    }
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    if (((v = s3_param(r, "max-parts")) != NULL
         && s3_parse_uint(v, UINT32_MAX, &l.max) != 0)
        || ((v = s3_param(r, "part-number-marker")) != NULL
            && s3_parse_uint(v, UINT32_MAX, &marker) != 0))
    {
        store_upload_free(u);
        return S3_ERR_INVALID_ARGUMENT;
    }
    l.max = GW_MIN(l.max, S3_LIST_MAX);
    rc = store_part_list(r->ctx->store, u->id,
                         (uint32_t) GW_MIN(marker, STORE_PART_MAX),
                         s3_mp_part_one, &l);
    if (rc != GW_OK) {
        store_upload_free(u);
        gw_log(GW_LOG_ERR, r->http->peer, rc, "listing parts failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    s3_xml_begin(&x, r->pool, "ListPartsResult");
    s3_xml_elem_str(&x, "Bucket", r->bucket);
    s3_xml_elem(&x, "Key", r->key.base, r->key.len);
    s3_xml_elem_str(&x, "UploadId", u->id);
    s3_xml_elemf(&x, "PartNumberMarker", "%llu", (unsigned long long) marker);
    if (l.count) {
        s3_xml_elemf(&x, "NextPartNumberMarker", "%u", l.last);
    }
    s3_xml_elemf(&x, "MaxParts", "%llu", (unsigned long long) l.max);
    s3_xml_elem_str(&x, "IsTruncated", l.truncated ? "true" : "false");
    if (parts.len) {
        s3_xml_raw(&x, parts.buf, parts.len);
    }
    s3_owner_xml(r, &x, "Initiator", u->tmpl->owner.base, u->tmpl->owner.len);
    s3_owner_xml(r, &x, "Owner", u->tmpl->owner.base, u->tmpl->owner.len);
    s3_xml_elem_str(&x, "StorageClass",
                    u->tmpl->storage_class == STORE_CLASS_REDUCED_REDUNDANCY
                    ? "REDUCED_REDUNDANCY" : "STANDARD");
    if (u->tmpl->cksum_alg != GW_CK_NONE) {
        s3_xml_elem_str(&x, "ChecksumAlgorithm",
                        gw_cksum_name((gw_cksum_alg_t) u->tmpl->cksum_alg));
        s3_xml_elem_str(&x, "ChecksumType",
                        u->tmpl->cksum_type ? "COMPOSITE" : "FULL_OBJECT");
    }
    s3_xml_end(&x, "ListPartsResult");
    store_upload_free(u);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

/* ==== ListMultipartUploads ==== */

/* A page of ListMultipartUploads, built as the store hands over the
 * bucket's uploads in S3's order (key, then initiation), from the later
 * of prefix and key-marker on; the walk stops at the end of the page or of
 * the prefix, so a page costs what it shows (and the uploads its common
 * prefixes fold). */
typedef struct {
    s3_req_t        *r;
    gw_str_t         prefix, delim, kmark, imark;
    gw_str_t         cp, last_key;
    const char      *last_id;
    s3_xml_t         ups, cps;
    uint64_t         max, count;
    int              url, truncated;
} s3_mp_uploads_t;

static void
s3_mp_elem(s3_xml_t *x, int url, gw_pool_t *pool, const char *tag,
           const char *s, size_t len)
{
    char  *enc;

    if (!url) {
        s3_xml_elem(x, tag, s, len);
        return;
    }
    enc = gw_pool_alloc(pool, 3 * len + 1);
    len = s3_uri_encode(s, len, enc, 1);
    s3_xml_elem(x, tag, enc, len);
}

/* One upload: past the markers (keys after key-marker, or the same key
 * after the upload named by upload-id-marker), folded into a common
 * prefix or listed. Non-zero ends the walk. */
static int
s3_mp_upload_one(void *ud, const store_upload_t *u)
{
    s3_mp_uploads_t  *l = ud;
    s3_req_t         *r = l->r;
    const char       *d, *key = u->tmpl->key.base;
    size_t            key_len = u->tmpl->key.len, m, cl;
    int               c;
    char              t[32];

    if (key_len < l->prefix.len
        || memcmp(key, l->prefix.base, l->prefix.len) != 0)
    {
        return 1;       /* from is at or past the prefix: no more of it */
    }
    m = GW_MIN(key_len, l->kmark.len);
    c = memcmp(key, l->kmark.base, m);
    if (l->kmark.len && (c < 0 || (c == 0 && key_len < l->kmark.len))) {
        return 0;
    }
    if (l->kmark.len && c == 0 && key_len == l->kmark.len
        && (l->imark.len == 0
            || memcmp(u->id, l->imark.base,
                      GW_MIN(l->imark.len, STORE_UPLOAD_ID_LEN)) <= 0))
    {
        return 0;
    }
    d = l->delim.len ? memmem(key + l->prefix.len, key_len - l->prefix.len,
                              l->delim.base, l->delim.len) : NULL;
    if (d != NULL) {
        cl = (size_t) (d - key) + l->delim.len;
        if (l->cp.base != NULL && l->cp.len == cl
            && memcmp(l->cp.base, key, cl) == 0)
        {
            return 0;
        }
        /* A prefix at or before key-marker was on an earlier page. */
        m = GW_MIN(cl, l->kmark.len);
        c = memcmp(key, l->kmark.base, m);
        if (l->kmark.len && (c < 0 || (c == 0 && cl <= l->kmark.len))) {
            return 0;
        }
        if (l->count == l->max) {
            l->truncated = 1;
            return 1;
        }
        l->cp.base = gw_pool_strndup(r->pool, key, cl);
        l->cp.len = cl;
        s3_xml_open(&l->cps, "CommonPrefixes");
        s3_mp_elem(&l->cps, l->url, r->pool, "Prefix", l->cp.base, l->cp.len);
        s3_xml_close(&l->cps, "CommonPrefixes");
        l->count++;
        l->last_key = l->cp;
        l->last_id = "";
        return 0;
    }
    if (l->count == l->max) {
        l->truncated = 1;
        return 1;
    }
    l->count++;
    l->last_key.base = gw_pool_strndup(r->pool, key, key_len);
    l->last_key.len = key_len;
    l->last_id = gw_pool_strndup(r->pool, u->id, STORE_UPLOAD_ID_LEN);
    /* Uploads go in their own buffer: the Next* markers that precede them
     * in the document are only known at the end. */
    s3_xml_open(&l->ups, "Upload");
    s3_mp_elem(&l->ups, l->url, r->pool, "Key", key, key_len);
    s3_xml_elem_str(&l->ups, "UploadId", l->last_id);
    s3_owner_xml(r, &l->ups, "Initiator", u->tmpl->owner.base,
                 u->tmpl->owner.len);
    s3_owner_xml(r, &l->ups, "Owner", u->tmpl->owner.base,
                 u->tmpl->owner.len);
    s3_xml_elem_str(&l->ups, "StorageClass",
                    u->tmpl->storage_class == STORE_CLASS_REDUCED_REDUNDANCY
                    ? "REDUCED_REDUNDANCY" : "STANDARD");
    s3_xml_time(u->tmpl->mtime_ms, t);
    s3_xml_elem_str(&l->ups, "Initiated", t);
    if (u->tmpl->cksum_alg != GW_CK_NONE) {
        s3_xml_elem_str(&l->ups, "ChecksumAlgorithm",
                        gw_cksum_name((gw_cksum_alg_t) u->tmpl->cksum_alg));
    }
    s3_xml_close(&l->ups, "Upload");
    return 0;
}

static int
s3_mp_list_uploads(s3_req_t *r)
{
    s3_mp_uploads_t   l;
    s3_xml_t          x;
    const gw_str_t   *v;
    gw_str_t          from;

    memset(&l, 0, sizeof(l));
    l.r = r;
    l.ups.pool = l.cps.pool = r->pool;
    l.prefix = l.delim = l.kmark = l.imark = l.last_key = gw_str_lit("");
    l.last_id = "";
    l.max = S3_LIST_MAX;
    if ((v = s3_param(r, "prefix")) != NULL) {
        l.prefix = *v;
    }
    if ((v = s3_param(r, "delimiter")) != NULL) {
        l.delim = *v;
    }
    if ((v = s3_param(r, "key-marker")) != NULL) {
        l.kmark = *v;
    }
    if ((v = s3_param(r, "upload-id-marker")) != NULL && l.kmark.len) {
        l.imark = *v;
    }
    if ((v = s3_param(r, "max-uploads")) != NULL
        && s3_parse_uint(v, UINT32_MAX, &l.max) != 0)
    {
        return S3_ERR_INVALID_ARGUMENT;
    }
    l.max = GW_MIN(l.max, S3_LIST_MAX);
    if ((v = s3_param(r, "encoding-type")) != NULL) {
        if (!gw_str_eq_lit(*v, "url")) {
            return S3_ERR_INVALID_ARGUMENT;
        }
        l.url = 1;
    }
    /* The later of the two: nothing before either can be on the page. */
    from = l.prefix;
    if (memcmp(l.kmark.base, from.base, GW_MIN(l.kmark.len, from.len)) > 0
        || (memcmp(l.kmark.base, from.base, GW_MIN(l.kmark.len, from.len))
            == 0 && l.kmark.len > from.len))
    {
        from = l.kmark;
    }
    if (store_upload_list(r->ctx->store, r->bucket, from, s3_mp_upload_one,
                          &l) != GW_OK)
    {
        return S3_ERR_INTERNAL_ERROR;
    }

    s3_xml_begin(&x, r->pool, "ListMultipartUploadsResult");
    s3_xml_elem_str(&x, "Bucket", r->bucket);
    s3_mp_elem(&x, l.url, r->pool, "KeyMarker", l.kmark.base, l.kmark.len);
    s3_xml_elem(&x, "UploadIdMarker", l.imark.base, l.imark.len);
    if (l.truncated) {
        s3_mp_elem(&x, l.url, r->pool, "NextKeyMarker", l.last_key.base,
                   l.last_key.len);
        s3_xml_elem_str(&x, "NextUploadIdMarker", l.last_id);
    }
    if (l.delim.len) {
        s3_mp_elem(&x, l.url, r->pool, "Delimiter", l.delim.base, l.delim.len);
    }
    s3_mp_elem(&x, l.url, r->pool, "Prefix", l.prefix.base, l.prefix.len);
    s3_xml_elemf(&x, "MaxUploads", "%llu", (unsigned long long) l.max);
    s3_xml_elem_str(&x, "IsTruncated", l.truncated ? "true" : "false");
    if (l.url) {
        s3_xml_elem_str(&x, "EncodingType", "url");
    }
    if (l.ups.len) {
        s3_xml_raw(&x, l.ups.buf, l.ups.len);
    }
    if (l.cps.len) {
        s3_xml_raw(&x, l.cps.buf, l.cps.len);
    }
    s3_xml_end(&x, "ListMultipartUploadsResult");
    s3_send_xml(r, 200, &x);
    return GW_OK;
}
