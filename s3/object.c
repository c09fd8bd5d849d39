/* s3/object.c: PutObject, GetObject, HeadObject, DeleteObject.
 *
 * PutObject streams the body through the payload pipeline (payload.c) into
 * a chunk writer, then commits the record; the answer goes out once the
 * commit is durable. GetObject sends the chunks of the requested range one
 * file at a time, with sendfile. */
#include "s3/s3.h"
#include "core/log.h"
#include "http/range.h"

#include <fcntl.h>
#include <limits.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "llhttp.h"

#define S3_META_MAX  2048       /* user metadata bytes, as S3 */

static int s3_object_put(s3_req_t *r), s3_object_get(s3_req_t *r),
    s3_object_delete(s3_req_t *r);

const s3_route_t  s3_object_routes[] = {
    { HTTP_PUT,    S3_OBJECT, NULL, "PutObject", s3_object_put, S3_BODY,
      "s3:PutObject" },
    { HTTP_GET,    S3_OBJECT, NULL, "GetObject", s3_object_get, 0,
      "s3:GetObject" },
    { HTTP_HEAD,   S3_OBJECT, NULL, "HeadObject", s3_object_get, 0,
      "s3:GetObject" },
    { HTTP_DELETE, S3_OBJECT, NULL, "DeleteObject", s3_object_delete, 0,
      "s3:DeleteObject" },
    S3_ROUTE_END
};

/* ==== shared ==== */

int
s3_object_bucket(s3_req_t *r)
{
    return r->key.len > STORE_KEY_MAX ? S3_ERR_KEY_TOO_LONG : S3_ERR_NONE;
}

void
s3_etag(const unsigned char md5[16], uint32_t nparts, char *buf)
{
    buf[0] = '"';
    gw_hex_encode(buf + 1, md5, 16);
    if (nparts) {
        snprintf(buf + 33, 15, "-%u\"", nparts);
    } else {
        buf[33] = '"';
        buf[34] = '\0';
    }
}

int
s3_etag_parse(const char *s, size_t len, unsigned char md5[16],
              uint32_t *nparts)
{
    const char  *dash;
    char         num[16];

    if (len >= 2 && s[0] == 'W' && s[1] == '/') {
        s += 2;
        len -= 2;
    }
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    *nparts = 0;
    if (len < 32 || gw_hex_decode(md5, s, 32) != GW_OK) {
        return -1;
    }
    if (len == 32) {
        return 0;
    }
    dash = s + 32;
    if (*dash != '-' || len - 33 == 0 || len - 33 >= sizeof(num)) {
        return -1;
    }
    memcpy(num, dash + 1, len - 33);
    num[len - 33] = '\0';
    if (strspn(num, "0123456789") != len - 33) {
        return -1;
    }
    *nparts = (uint32_t) strtoul(num, NULL, 10);
    return 0;
}

int
s3_etag_matches(const gw_str_t *v, const store_object_t *o)
{
    const char     *p = v->base, *end = v->base + v->len, *comma;
    unsigned char   md5[16];
    uint32_t        n;
    size_t          len;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }
        comma = memchr(p, ',', (size_t) (end - p));
        len = (size_t) ((comma ? comma : end) - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
            len--;
        }
        if (len == 1 && *p == '*') {
            return 1;
        }
        if (len && s3_etag_parse(p, len, md5, &n) == 0
            && memcmp(md5, o->md5, 16) == 0 && n == o->nparts)
        {
            return 1;
        }
        p = comma ? comma + 1 : end;
    }
    return 0;
}

int64_t
s3_http_time(const gw_str_t *v)
{
    static const char  *formats[] = {
        "%a, %d %b %Y %H:%M:%S GMT",    /* IMF-fixdate */
        "%A, %d-%b-%y %H:%M:%S GMT",    /* RFC 850 */
        "%a %b %e %H:%M:%S %Y",         /* asctime */
        "%Y-%m-%dT%H:%M:%S",            /* ISO 8601, as some SDKs send */
    };
    char        buf[64];
    struct tm   tm;
    size_t      i;
    const char *end;

    if (v->len >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, v->base, v->len);
    buf[v->len] = '\0';
    for (i = 0; i < GW_NELEMS(formats); i++) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(buf, formats[i], &tm);
        if (end != NULL) {
            return (int64_t) timegm(&tm);
        }
    }
    return -1;
}

/* ==== PutObject ==== */

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
            s3_etag(p->obj.md5, 0, etag);
            http_resp_header(r->http, "ETag", etag, strlen(etag));
            gw_base64_encode(ck, p->body.cksum, gw_cksum_len(p->body.cksum_alg));
            http_resp_header(r->http, gw_cksum_header(p->body.cksum_alg), ck,
                             strlen(ck));
            http_resp_header(r->http, "x-amz-checksum-type", "FULL_OBJECT", 11);
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

static int
s3_put_data(s3_req_t *r, const char *at, size_t len)
{
    s3_put_t  *p = r->data;
    int        rc;

    rc = store_chunk_write(p->w, at, len);
    if (rc != GW_OK && rc != GW_AGAIN) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "storing the body failed");
        s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        s3_put_finish(p, 0);
    }
    return rc;
}

static void
s3_put_end(s3_req_t *r, int err, const s3_body_t *b)
{
    s3_put_t  *p = r->data;
    int        rc;

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
    return meta > S3_META_MAX ? S3_ERR_METADATA_TOO_LARGE : S3_ERR_NONE;
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
    if ((v = s3_header(r, "x-amz-tagging")) != NULL) {
        const char  *msg;

        rc = s3__tagging_header(r, v, &o->tags, &o->ntags, &msg);
        if (rc != S3_ERR_NONE) {
            s3_error(r, rc, msg);
            return -1;
        }
    }
    o->owner.base = r->user ? r->user->name : "";   /* "": anonymous */
    o->owner.len = strlen(o->owner.base);
    o->key = r->key;
    {
        const char  *msg;

        rc = s3_acl_from_headers(r, s3_owner_id(r, o->owner.base,
                                                o->owner.len),
                                 s3_bucket_owner_id(r), &o->acl, &msg);
        if (rc != S3_ERR_NONE && msg != NULL) {
            s3_error(r, rc, msg);
            return -1;
        }
    }
    return rc;
}

static int
s3_object_put(s3_req_t *r)
{
    http_req_t      *hr = r->http;
    s3_put_t        *p;
    const gw_str_t  *v;
    int              rc;

    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    if (s3_header(r, "x-amz-copy-source") != NULL) {
        return s3_copy_object(r);
    }
    if (hr->content_length < 0 && !hr->chunked) {
        return S3_ERR_MISSING_CONTENT_LENGTH;
    }
    p = gw_pool_calloc(r->pool, sizeof(*p));
    p->r = r;
    rc = s3_put_headers(r, &p->obj);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    if ((v = s3_header(r, "if-none-match")) != NULL) {
        if (!gw_str_eq_lit(*v, "*")) {
            return S3_ERR_NOT_IMPLEMENTED;
        }
        p->cond.if_none_match_star = 1;
    }
    if ((v = s3_header(r, "if-match")) != NULL) {
        if (s3_etag_parse(v->base, v->len, p->cond.if_match_md5,
                          &p->cond.if_match_nparts) != 0)
        {
            return S3_ERR_PRECONDITION_FAILED;
        }
        p->cond.has_if_match = 1;
    }
    return s3_put_stream(r, p, r->ctx->cf->max_object_size);
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
    p->w = store_chunk_writer_open(r->ctx->store, s3_put_ready, p);
    if (p->commit != NULL) {
        /* Parts become chunk files whatever their size (see multipart). */
        store_chunk_writer_no_inline(p->w);
    }
    hr->on_abort = s3_put_abort;
    http_req_hold(hr);
    return GW_DONE;
}

/* ==== GetObject and HeadObject ==== */

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

int
s3_object_conditions(s3_req_t *r, const store_object_t *o, int copy)
{
    const char      *pre = copy ? "x-amz-copy-source-" : "";
    char             name[64];
    const gw_str_t  *im, *inm, *ims, *ius;
    int64_t          mtime = o->mtime_ms / 1000, t;
    int              unmodified = copy ? S3_ERR_PRECONDITION_FAILED
                                       : S3_ERR_NOT_MODIFIED;

    snprintf(name, sizeof(name), "%sif-match", pre);
    im = s3_header(r, name);
    snprintf(name, sizeof(name), "%sif-none-match", pre);
    inm = s3_header(r, name);
    snprintf(name, sizeof(name), "%sif-modified-since", pre);
    ims = s3_header(r, name);
    snprintf(name, sizeof(name), "%sif-unmodified-since", pre);
    ius = s3_header(r, name);
    if (im != NULL) {
        if (!s3_etag_matches(im, o)) {
            return S3_ERR_PRECONDITION_FAILED;
        }
    } else if (ius != NULL && (t = s3_http_time(ius)) >= 0 && mtime > t) {
        return S3_ERR_PRECONDITION_FAILED;
    }
    if (inm != NULL) {
        if (s3_etag_matches(inm, o)) {
            return unmodified;
        }
    } else if (ims != NULL && (t = s3_http_time(ims)) >= 0 && mtime <= t
               && (!copy || t <= r->now))
    {
        /* For a copy source, as S3 does, a date in the future is ignored. */
        return unmodified;
    }
    return S3_ERR_NONE;
}

static void
s3_get_headers(s3_req_t *r, const store_object_t *o)
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
        v = s3_param(r, std[i].param);
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

static int
s3_object_get(s3_req_t *r)
{
    http_req_t      *hr = r->http;
    store_object_t  *o;
    s3_get_t        *g;
    const gw_str_t  *v;
    uint64_t         from = 0, to = 0;
    char             buf[64];
    size_t           n;
    int              rc, range = 0;

    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = store_object_get(r->ctx->store, r->bucket, r->key, &o);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_KEY;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, hr->peer, rc, "object lookup failed");
        return S3_ERR_INTERNAL_ERROR;
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
    if ((v = s3_param(r, "partNumber")) != NULL) {
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
    s3_get_headers(r, o);
    v = s3_header(r, "x-amz-checksum-mode");
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
    http_resp_start(hr, range ? 206 : 200, o->size ? to - from + 1 : 0);
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

/* ==== DeleteObject ==== */

static void
s3_object_deleted(void *ud, int rc)
{
    s3_req_t  *r = ud;

    if (!r->http->aborted) {
        if (rc == GW_OK) {
            http_resp_send(r->http, 204, NULL, 0, NULL);
        } else {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "deleting an object failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
    }
    http_req_release(r->http);
}

static int
s3_object_delete(s3_req_t *r)
{
    int  rc = s3_object_bucket(r);

    if (rc != S3_ERR_NONE) {
        return rc;
    }
    http_req_hold(r->http);
    store_object_delete(r->ctx->store, r->bucket, r->key, s3_object_deleted, r);
    return GW_DONE;
}

/* ==== rewriting a record in place (tags, ACL) ====
 *
 * Read the record, pin its chunks in the same loop turn, and commit a copy
 * that differs only in what edit changed, If-Match on the ETag that was
 * read, so an overwrite that commits in between is not undone (the update
 * then counts as done just before that overwrite). store_cond_t compares
 * the ETag only: an overwrite with the same bytes but new metadata, landing
 * between the read and the commit, is not seen and loses its metadata. */

typedef struct {
    s3_req_t        *r;
    store_object_t  *old;        /* the record read; owns the pinned chunks */
    store_object_t   obj;        /* old with the change */
    int              status;     /* answered on success */
} s3_rewrite_t;

static void
s3_rewrite_committed(void *ud, int rc)
{
    s3_rewrite_t  *t = ud;
    s3_req_t      *r = t->r;

    store_unpin(r->ctx->store, t->old->chunks, t->old->nchunks);
    store_object_free(t->old);
    t->old = NULL;
    if (r->http->aborted) {
        goto done;
    }
    switch (rc) {
    case GW_EPRECOND:
    case GW_ENOTFOUND:
        /* The object was overwritten or deleted after it was read, within
         * this request. That overwrite replaced the whole record, tags and
         * ACL included, so this update counts as done just before it: the
         * state is the one that order gives, and the answer is success. */
        gw_log(GW_LOG_DEBUG, r->http->peer, rc, "%s object replaced during a "
               "record update", r->http->id);
        /* fall through */
    case GW_OK:
        http_resp_send(r->http, t->status, NULL, 0, NULL);
        break;
    case GW_ENOBUCKET:
        s3_error(r, S3_ERR_NO_SUCH_BUCKET, NULL);
        break;
    default:
        gw_log(GW_LOG_ERR, r->http->peer, rc, "rewriting an object record "
               "failed");
        s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
    }

done:
    http_req_release(r->http);
}

int
s3_object_rewrite(s3_req_t *r, void (*edit)(store_object_t *o, void *ud),
                  void *ud, int status)
{
    s3_rewrite_t  *t = gw_pool_calloc(r->pool, sizeof(*t));
    store_cond_t   cond;
    int            rc;

    t->r = r;
    t->status = status;
    rc = store_object_get(r->ctx->store, r->bucket, r->key, &t->old);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_KEY;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "object lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    t->obj = *t->old;
    t->obj.raw = NULL;
    edit(&t->obj, ud);
    memset(&cond, 0, sizeof(cond));
    cond.has_if_match = 1;
    memcpy(cond.if_match_md5, t->old->md5, 16);
    cond.if_match_nparts = t->old->nparts;
    /* Pinned in the loop turn of the lookup (store.h): the record that is
     * written back refers to these chunks. */
    store_pin(r->ctx->store, t->old->chunks, t->old->nchunks);
    http_req_hold(r->http);
    store_object_put(r->ctx->store, r->bucket, &t->obj, &cond,
                     s3_rewrite_committed, t);
    return S3_ERR_NONE;
}
