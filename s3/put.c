/* s3/put.c: the object write path (see s3/put.h).
 *
 *   request body -> payload pipeline (payload.c: decoded, hashed, verified)
 *     -> chunk writer (store/chunk.c; GW_AGAIN pauses the socket)
 *   end of body -> flush the writer -> commit the record (PutObject's
 *     store_object_put, or the caller's p->commit) -> answer once durable */
#include "s3/put.h"
#include "s3/cond.h"
#include "s3/lifecycle.h"
#include "s3/record.h"
#include "s3/version.h"
#include "core/log.h"

#include <strings.h>

#define S3_META_MAX  2048       /* user metadata bytes, as S3 */
#define S3_WEBSITE_REDIRECT_MAX  2048   /* x-amz-website-redirect-location */

void
s3_put_finish(s3_put_t *p, int committed)
{
    store_chunk_writer_close(p->w, committed);
    p->w = NULL;
    p->done = 1;
    http_req_release(p->r->http);
}

static void
s3_put_committed(void *ud, int rc)
{
    s3_put_t  *p = ud;
    s3_req_t  *r = p->r;
    char       etag[48], ck[64];

    if (!r->http->aborted) {
        switch (rc) {
        case GW_OK:
            if (p->respond != NULL) {
                p->respond(p);
                break;
            }
            s3_etag(p->obj.md5, 0, etag);
            http_resp_header(r->http, "ETag", etag, strlen(etag));
            if (p->vres.versioned || s3_version_bucket(r, r->bucket)) {
                const char  *id = s3_version_made(r, &p->vres);

                http_resp_header(r->http, "x-amz-version-id", id, strlen(id));
            }
            gw_base64_encode(ck, p->body.cksum, gw_cksum_len(p->body.cksum_alg));
            http_resp_header(r->http, gw_cksum_header(p->body.cksum_alg), ck,
                             strlen(ck));
            http_resp_header(r->http, "x-amz-checksum-type", "FULL_OBJECT", 11);
            s3_lifecycle_expiration_header(r, &p->obj);
            http_resp_send(r->http, 200, NULL, 0, NULL);
            break;
        case GW_EPRECOND:
            s3_error(r, S3_ERR_PRECONDITION_FAILED, NULL);
            break;
        case GW_ENOTFOUND:
            s3_error(r, S3_ERR_NO_SUCH_KEY, NULL);
            break;
        case GW_ENOBUCKET:
            s3_error(r, S3_ERR_NO_SUCH_BUCKET, NULL);
            break;
        default:
            gw_log(GW_LOG_ERR, r->http->peer, rc, "committing an object failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
    }
    s3_put_finish(p, rc == GW_OK);
}

static void
s3_put_commit(s3_put_t *p)
{
    s3_req_t  *r = p->r;

    p->obj.size = p->body.size;
    memcpy(p->obj.md5, p->body.md5, 16);
    p->obj.cksum_alg = (uint8_t) p->body.cksum_alg;
    memcpy(p->obj.cksum, p->body.cksum, 32);
    p->obj.chunks = (store_chunk_ref_t *) store_chunk_writer_chunks(p->w,
                                                                &p->obj.nchunks);
    p->obj.inline_data = store_chunk_writer_inline(p->w);
    p->obj.mtime_ms = (int64_t) time(NULL) * 1000;
    if (p->commit != NULL) {
        p->commit(p);
        return;
    }
    if (p->obj.repl_status != STORE_REPL_STATUS_REPLICA) {
        if (s3_record_repl(r, r->bucket, p->obj.key, p->obj.tags, p->obj.ntags,
                           0, &p->repl) != S3_ERR_NONE)
        {
            s3_put_committed(p, GW_ERROR);   /* logged: answered 500 */
            return;
        }
        p->obj.repl = &p->repl;
        p->obj.repl_status = p->repl.ndests ? STORE_REPL_STATUS_PENDING
                                            : STORE_REPL_STATUS_NONE;
    }
    p->obj.vout = &p->vres;
    store_object_put(r->ctx->store, r->bucket, &p->obj, &p->cond,
                     s3_put_committed, p);
}

static void
s3_put_flushed(void *ud, int rc)
{
    s3_put_t  *p = ud;

    if (rc != GW_OK || p->r->http->aborted) {
        if (rc != GW_OK) {
            gw_log(GW_LOG_ERR, p->r->http->peer, rc, "writing chunks failed");
            s3_error(p->r, S3_ERR_INTERNAL_ERROR, NULL);
        }
        s3_put_finish(p, 0);
        return;
    }
    s3_put_commit(p);
}

/* What the writer said of the bytes just given: an error is answered
 * and the put finished. */
static int
s3_put_stored(s3_req_t *r, int rc)
{
    s3_put_t  *p = r->data;

    if (rc != GW_OK && rc != GW_AGAIN) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "storing the body failed");
        s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        s3_put_finish(p, 0);
    }
    return rc;
}

static int
s3_put_data(s3_req_t *r, const char *at, size_t len)
{
    s3_put_t  *p = r->data;

    return s3_put_stored(r, store_chunk_write(p->w, at, len));
}

/* The body's bytes as they lie in the digest pipe: the writer keeps the
 * same segments instead of a second copy. */
static int
s3_put_view(s3_req_t *r, gw_hseg_t *seg, const char *at, size_t len)
{
    s3_put_t  *p = r->data;

    return s3_put_stored(r, store_chunk_write_shared(p->w, seg, at, len));
}

static void
s3_put_end(s3_req_t *r, int err, const s3_body_t *b)
{
    s3_put_t  *p = r->data;

    if (p->done) {
        return;
    }
    p->ended = 1;
    if (err != S3_ERR_NONE) {
        if (err > 0) {
            s3_error(r, err, NULL);
        }
        s3_put_finish(p, 0);
        return;
    }
    p->body = *b;
    s3_put_close(p);
}

void
s3_put_close(s3_put_t *p)
{
    int  rc;

    p->ended = 1;
    rc = store_chunk_writer_finish(p->w, s3_put_flushed, p);
    if (rc == GW_DONE) {
        return;
    }
    s3_put_flushed(p, rc);
}

static void
s3_put_ready(void *ud)
{
    s3_put_t  *p = ud;

    s3_payload_resume(p->r);
}

static void
s3_put_abort(http_req_t *hr)
{
    s3_req_t  *r = hr->data;
    s3_put_t  *p = r->data;

    /* Once the body is in, the flush or the commit finishes on its own
     * and sees aborted. */
    if (p != NULL && !p->done && !p->ended) {
        s3_put_finish(p, 0);
    }
}

int
s3_put_meta(s3_req_t *r, store_object_t *o)
{
    static const struct {
        const char  *name;
        size_t       off;
    } std[] = {
        { "content-type", offsetof(store_object_t, content_type) },
        { "content-disposition", offsetof(store_object_t, content_disposition) },
        { "content-language", offsetof(store_object_t, content_language) },
        { "cache-control", offsetof(store_object_t, cache_control) },
        { "expires", offsetof(store_object_t, expires) },
    };
    const gw_str_t  *v;
    const gw_kv_t   *h;
    size_t           i, meta = 0;
    char            *enc;

    for (i = 0; i < GW_NELEMS(std); i++) {
        if ((v = s3_header(r, std[i].name)) != NULL) {
            *(gw_str_t *) ((char *) o + std[i].off) = *v;
        }
    }
    /* aws-chunked is the transfer's framing, not the object's encoding. */
    if ((v = s3_header(r, "content-encoding")) != NULL) {
        enc = gw_pool_strndup(r->pool, v->base, v->len);
        char  *out = gw_pool_alloc(r->pool, v->len + 1), *tok, *save;
        size_t n = 0;

        for (tok = strtok_r(enc, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') {
                tok++;
            }
            if (strcasecmp(tok, "aws-chunked") == 0 || *tok == '\0') {
                continue;
            }
            n += (size_t) sprintf(out + n, "%s%s", n ? "," : "", tok);
        }
        o->content_encoding.base = out;
        o->content_encoding.len = n;
    }
    o->meta = gw_pool_alloc(r->pool, sizeof(gw_kv_t) * (r->http->nheaders + 1));
    for (i = 0; i < r->http->nheaders; i++) {
        h = &r->http->headers[i];
        if (h->name.len > 11 && memcmp(h->name.base, "x-amz-meta-", 11) == 0) {
            o->meta[o->nmeta].name.base = h->name.base + 11;
            o->meta[o->nmeta].name.len = h->name.len - 11;
            o->meta[o->nmeta].value = h->value;
            meta += h->name.len - 11 + h->value.len;
            o->nmeta++;
        }
    }
    if (meta > S3_META_MAX) {
        return S3_ERR_METADATA_TOO_LARGE;
    }
    return s3_put_website_redirect(r, o);
}

int
s3_put_website_redirect(s3_req_t *r, store_object_t *o)
{
    const gw_str_t  *v = s3_header(r, "x-amz-website-redirect-location");

    if (v == NULL) {
        return S3_ERR_NONE;
    }
    /* Where the website endpoint sends a reader of this object: a key of
     * the same site ("/...") or an absolute http(s) URL, as S3 takes it. */
    if (!((v->len >= 1 && v->base[0] == '/')
          || (v->len >= 7 && strncasecmp(v->base, "http://", 7) == 0)
          || (v->len >= 8 && strncasecmp(v->base, "https://", 8) == 0)))
    {
        return S3_ERR_INVALID_REDIRECT_LOCATION;
    }
    if (v->len > S3_WEBSITE_REDIRECT_MAX) {
        return S3_ERR_INVALID_REDIRECT_LOCATION;
    }
    o->website_redirect = *v;
    return S3_ERR_NONE;
}

int
s3_put_headers(s3_req_t *r, store_object_t *o)
{
    const gw_str_t  *v;
    int              rc;

    rc = s3_put_meta(r, o);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    v = s3_header(r, "x-amz-storage-class");
    if (v != NULL) {
        if (gw_str_eq_lit(*v, "REDUCED_REDUNDANCY")) {
            o->storage_class = STORE_CLASS_REDUCED_REDUNDANCY;
        } else if (!gw_str_eq_lit(*v, "STANDARD")) {
            return S3_ERR_INVALID_STORAGE_CLASS;
        }
    }
    o->owner.base = r->user ? r->user->name : "";   /* "": anonymous */
    o->owner.len = strlen(o->owner.base);
    o->key = r->key;
    return S3_ERR_NONE;
}

int
s3_put_stream(s3_req_t *r, s3_put_t *p, uint64_t max)
{
    http_req_t  *hr = r->http;
    int          rc;

    p->r = r;
    r->data = p;
    rc = s3_payload_start(r, max, s3_put_data, s3_put_end);
    if (rc != GW_OK || hr->responded) {
        return rc;
    }
    s3_payload_share(r, s3_put_view);
    p->w = store_chunk_writer_open(r->ctx->store, s3_put_ready, p);
    if (p->commit != NULL) {
        /* Parts become chunk files whatever their size (see multipart). */
        store_chunk_writer_no_inline(p->w);
    }
    hr->on_abort = s3_put_abort;
    http_req_hold(hr);
    return GW_DONE;
}


/* ==== a put fed by its caller ==== */

static void
s3_put_digests_free(void *data)
{
    s3_put_t  *p = data;

    EVP_MD_CTX_free(p->md5);
    p->md5 = NULL;
    gw_cksum_free(&p->ck);
}

void
s3_put_open(s3_req_t *r, s3_put_t *p, gw_cksum_alg_t alg)
{
    http_req_t  *hr = r->http;

    p->r = r;
    p->md5 = EVP_MD_CTX_new();
    if (p->md5 == NULL || EVP_DigestInit_ex(p->md5, EVP_md5(), NULL) != 1
        || gw_cksum_init(&p->ck, alg) != GW_OK)
    {
        fprintf(stderr, "[crit] cannot start a digest\n");
        abort();
    }
    gw_pool_cleanup_add(r->pool, s3_put_digests_free, p);
    p->w = store_chunk_writer_open(r->ctx->store, s3_put_ready, p);
    hr->on_abort = s3_put_abort;
    http_req_hold(hr);
}

int
s3_put_feed(s3_put_t *p, const char *at, size_t len)
{
    EVP_DigestUpdate(p->md5, at, len);
    gw_cksum_update(&p->ck, at, len);
    p->body.size += len;
    return s3_put_data(p->r, at, len);
}

void
s3_put_digest(s3_put_t *p)
{
    unsigned int  n;

    EVP_DigestFinal_ex(p->md5, p->body.md5, &n);
    p->body.cksum_alg = p->ck.alg;
    gw_cksum_final(&p->ck, p->body.cksum);
}
