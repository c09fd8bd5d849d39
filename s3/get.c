/* s3/get.c: the object read path (see s3/get.h).
 *
 *   record -> preconditions (cond.c) -> partNumber or Range -> headers
 *     -> the bytes: inline from the record, or the chunks of the range one
 *        file at a time with sendfile, pinned against the collector */
#include "s3/get.h"
#include "s3/cond.h"
#include "s3/lifecycle.h"
#include "core/log.h"
#include "http/range.h"

#include <fcntl.h>
#include <limits.h>
#include <strings.h>
#include <unistd.h>


typedef struct s3_get_s {
    s3_req_t         *r;
    store_object_t   *o;
    uint64_t          off, end;     /* [off, end) still to send */
    size_t            ci;           /* chunk holding off */
    uv_fs_t           fs;
    uv_file           fd;           /* the open chunk file */
    int               pinned;
} s3_get_t;

static void s3_get_next(s3_get_t *g);

static void
s3_get_done(s3_get_t *g)
{
    if (g->pinned) {
        store_unpin(g->r->ctx->store, g->o->chunks, g->o->nchunks);
    }
    store_object_free(g->o);
    g->o = NULL;
    http_req_release(g->r->http);
}

static void
s3_get_sent(http_req_t *hr, int rc)
{
    s3_get_t  *g = ((s3_req_t *) hr->data)->data;

    /* Closing a regular file does not wait on the disk. */
    close(g->fd);
    g->fd = -1;
    if (rc != GW_OK || hr->aborted) {
        if (rc != GW_OK && rc != UV_ECANCELED) {
            gw_log(GW_LOG_INFO, hr->peer, rc, "sending an object failed");
        }
        s3_get_done(g);
        return;
    }
    s3_get_next(g);
}

static void
s3_get_opened(uv_fs_t *fs)
{
    s3_get_t                 *g = fs->data;
    http_req_t               *hr = g->r->http;
    const store_chunk_ref_t  *c = &g->o->chunks[g->ci];
    uint64_t                  n;

    if (fs->result < 0 || hr->aborted) {
        if (fs->result < 0) {
            gw_log(GW_LOG_ERR, hr->peer, (int) fs->result,
                   "chunk file of \"%.*s\" cannot be opened", (int) g->r->key.len,
                   g->r->key.base);
            http_req_close_after(hr);
            http_resp_end(hr);
        } else {
            close((uv_file) fs->result);
        }
        uv_fs_req_cleanup(fs);
        s3_get_done(g);
        return;
    }
    g->fd = (uv_file) fs->result;
    uv_fs_req_cleanup(fs);
    n = GW_MIN(g->end, c->off + c->len) - g->off;
    g->off += n;
    http_resp_sendfile(hr, g->fd, (int64_t) (g->off - n - c->off), (size_t) n,
                       s3_get_sent);
}

static void
s3_get_next(s3_get_t *g)
{
    http_req_t  *hr = g->r->http;
    char         path[PATH_MAX];

    if (g->off >= g->end) {
        http_resp_end(hr);
        s3_get_done(g);
        return;
    }
    while (g->ci < g->o->nchunks
           && g->o->chunks[g->ci].off + g->o->chunks[g->ci].len <= g->off)
    {
        g->ci++;
    }
    if (g->ci == g->o->nchunks) {
        gw_log(GW_LOG_ERR, hr->peer, 0, "object record is shorter than its size");
        http_req_close_after(hr);
        http_resp_end(hr);
        s3_get_done(g);
        return;
    }
    store_chunk_path(g->r->ctx->store, g->o->chunks[g->ci].sha, path,
                     sizeof(path));
    g->fs.data = g;
    if (uv_fs_open(g->r->ctx->loop, &g->fs, path, O_RDONLY | O_CLOEXEC, 0,
                   s3_get_opened) != 0)
    {
        http_req_close_after(hr);
        http_resp_end(hr);
        s3_get_done(g);
    }
}

static void
s3_get_headers(s3_req_t *r, const store_object_t *o, unsigned flags)
{
    static const struct {
        const char  *header;
        const char  *param;
        size_t       off;
    } std[] = {
        { "Content-Type", "response-content-type",
          offsetof(store_object_t, content_type) },
        { "Content-Encoding", "response-content-encoding",
          offsetof(store_object_t, content_encoding) },
        { "Content-Disposition", "response-content-disposition",
          offsetof(store_object_t, content_disposition) },
        { "Content-Language", "response-content-language",
          offsetof(store_object_t, content_language) },
        { "Cache-Control", "response-cache-control",
          offsetof(store_object_t, cache_control) },
        { "Expires", "response-expires", offsetof(store_object_t, expires) },
    };
    http_req_t      *hr = r->http;
    const gw_str_t  *v;
    gw_str_t         s;
    char             buf[64], *name;
    size_t           i;

    for (i = 0; i < GW_NELEMS(std); i++) {
        v = flags & S3_GET_WEBSITE ? NULL : s3_param(r, std[i].param);
        s = v ? *v : *(const gw_str_t *) ((const char *) o + std[i].off);
        if (s.len == 0 && i == 0) {
            s = gw_str_lit("binary/octet-stream");
        }
        if (s.len) {
            http_resp_header(hr, std[i].header, s.base, s.len);
        }
    }
    s3_etag(o->md5, o->nparts, buf);
    http_resp_header(hr, "ETag", buf, strlen(buf));
    http_date(o->mtime_ms / 1000, buf);
    http_resp_header(hr, "Last-Modified", buf, strlen(buf));
    http_resp_header(hr, "Accept-Ranges", "bytes", 5);
    if (o->storage_class == STORE_CLASS_REDUCED_REDUNDANCY) {
        http_resp_header(hr, "x-amz-storage-class", "REDUCED_REDUNDANCY", 18);
    }
    if (o->ntags) {
        http_resp_headerf(hr, "x-amz-tagging-count", "%zu", o->ntags);
    }
    if (o->website_redirect.len) {
        http_resp_header(hr, "x-amz-website-redirect-location",
                         o->website_redirect.base, o->website_redirect.len);
    }
    if (o->repl_status != STORE_REPL_STATUS_NONE) {
        static const char  *names[] = { "", "PENDING", "COMPLETED", "FAILED",
                                        "REPLICA" };

        if (o->repl_status < GW_NELEMS(names)) {
            http_resp_header(hr, "x-amz-replication-status",
                             names[o->repl_status],
                             strlen(names[o->repl_status]));
        }
    }
    s3_lifecycle_expiration_header(r, o);
    for (i = 0; i < o->nmeta; i++) {
        name = gw_pool_sprintf(r->pool, "x-amz-meta-%.*s",
                               (int) o->meta[i].name.len, o->meta[i].name.base);
        http_resp_header(hr, name, o->meta[i].value.base, o->meta[i].value.len);
    }
}

/* ?partNumber=N: the bytes of part N of a multipart object (a single PUT
 * is one part), as a range. */
static int
s3_get_part(s3_req_t *r, const store_object_t *o, const gw_str_t *v,
            uint64_t *from, uint64_t *to)
{
    uint64_t  n = 0, off = 0;
    size_t    i;

    for (i = 0; i < v->len && i < 6; i++) {
        if (v->base[i] < '0' || v->base[i] > '9') {
            break;
        }
        n = n * 10 + (uint64_t) (v->base[i] - '0');
    }
    if (i != v->len || n == 0 || n > STORE_PART_MAX) {
        s3_error(r, S3_ERR_INVALID_ARGUMENT, "Part number must be an integer "
                 "between 1 and 10000, inclusive");
        return -1;
    }
    if (s3_header(r, "range") != NULL) {
        s3_error(r, S3_ERR_INVALID_REQUEST, "Cannot specify both Range header "
                 "and partNumber query parameter");
        return -1;
    }
    if (o->npart_sizes == 0) {
        if (n != 1 || o->size == 0) {
            return S3_ERR_INVALID_PART_NUMBER;
        }
        *from = 0;
        *to = o->size - 1;
        return S3_ERR_NONE;
    }
    if (n > o->npart_sizes || o->part_sizes[n - 1] == 0) {
        return S3_ERR_INVALID_PART_NUMBER;
    }
    for (i = 0; i + 1 < n; i++) {
        off += o->part_sizes[i];
    }
    *from = off;
    *to = off + o->part_sizes[n - 1] - 1;
    http_resp_headerf(r->http, "x-amz-mp-parts-count", "%zu", o->npart_sizes);
    return S3_ERR_NONE;
}

/* Starts the answer with status and sends bytes [from, to] of o (none for
 * HEAD or an empty object), from the record or the chunk files; takes o. */
static int
s3_get_body(s3_req_t *r, store_object_t *o, int status, uint64_t from,
            uint64_t to)
{
    http_req_t  *hr = r->http;
    s3_get_t    *g;

    http_resp_start(hr, status, o->size ? to - from + 1 : 0);
    if (hr->head_only || o->size == 0) {
        http_resp_end(hr);
        store_object_free(o);
        return GW_OK;
    }
    if (o->nchunks == 0) {
        /* Inline: the bytes are in the record, which must outlive the write. */
        char  *body = gw_pool_alloc(r->pool, to - from + 1);

        memcpy(body, o->inline_data.base + from, to - from + 1);
        http_resp_write(hr, body, to - from + 1, NULL);
        http_resp_end(hr);
        store_object_free(o);
        return GW_OK;
    }
    g = gw_pool_calloc(r->pool, sizeof(*g));
    g->r = r;
    g->o = o;
    g->off = from;
    g->end = to + 1;
    r->data = g;
    /* Pinned in the same loop turn as the lookup: the collector cannot have
     * removed a chunk in between (see store.h). */
    store_pin(r->ctx->store, o->chunks, o->nchunks);
    g->pinned = 1;
    http_req_hold(hr);
    s3_get_next(g);
    return GW_OK;
}

/* A website's error document: the whole object with the error's status;
 * its own preconditions and Range do not apply. */
static int
s3_get_whole(s3_req_t *r, store_object_t *o, unsigned flags, int status)
{
    s3_get_headers(r, o, flags);
    return s3_get_body(r, o, status, 0, o->size ? o->size - 1 : 0);
}

int
s3_get_send(s3_req_t *r, store_object_t *o, unsigned flags, int status)
{
    http_req_t      *hr = r->http;
    const gw_str_t  *v;
    uint64_t         from = 0, to = 0;
    char             buf[64];
    size_t           n;
    int              rc, range = 0;

    if (status != 0) {
        return s3_get_whole(r, o, flags, status);
    }
    rc = s3_object_conditions(r, o, 0);
    if (rc != S3_ERR_NONE) {
        s3_etag(o->md5, o->nparts, buf);
        http_resp_header(hr, "ETag", buf, strlen(buf));
        http_date(o->mtime_ms / 1000, buf);
        http_resp_header(hr, "Last-Modified", buf, strlen(buf));
        store_object_free(o);
        return rc;
    }
    if (!(flags & S3_GET_WEBSITE)
        && (v = s3_param(r, "partNumber")) != NULL)
    {
        rc = s3_get_part(r, o, v, &from, &to);
        if (rc != S3_ERR_NONE) {
            store_object_free(o);
            return rc;
        }
        range = 1;
    } else if ((v = s3_header(r, "range")) != NULL) {
        range = http_range_parse(*v, o->size, &from, &to);
        if (range == HTTP_RANGE_UNSATISFIABLE) {
            http_resp_headerf(hr, "Content-Range", "bytes */%llu",
                              (unsigned long long) o->size);
            store_object_free(o);
            return S3_ERR_INVALID_RANGE;
        }
    }
    s3_get_headers(r, o, flags);
    v = flags & S3_GET_WEBSITE ? NULL : s3_header(r, "x-amz-checksum-mode");
    if (!range && v != NULL && v->len == 7 && strncasecmp(v->base, "ENABLED", 7) == 0
        && o->cksum_alg != GW_CK_NONE)
    {
        n = gw_base64_encode(buf, o->cksum,
                             gw_cksum_len((gw_cksum_alg_t) o->cksum_alg));
        if (o->cksum_type && o->nparts) {
            /* A composite checksum names its part count, as S3 writes it. */
            snprintf(buf + n, sizeof(buf) - n, "-%u", o->nparts);
        }
        http_resp_header(hr, gw_cksum_header((gw_cksum_alg_t) o->cksum_alg), buf,
                         strlen(buf));
        http_resp_header(hr, "x-amz-checksum-type",
                         o->cksum_type ? "COMPOSITE" : "FULL_OBJECT",
                         o->cksum_type ? 9 : 11);
    }
    if (range) {
        http_resp_headerf(hr, "Content-Range", "bytes %llu-%llu/%llu",
                          (unsigned long long) from, (unsigned long long) to,
                          (unsigned long long) o->size);
    } else if (o->size > 0) {
        to = o->size - 1;
    }
    return s3_get_body(r, o, range ? 206 : 200, from, to);
}
