/* s3/bg/replicate.c: the replication pusher (see replicate.h).
 *
 *   timer tick -> store_outbox_next_due (due entries, not in flight)
 *     PUT:    store_object_get (or store_version_get: the version the
 *             entry names) + store_pin -> signed PUT, the body read from
 *             the chunk files on the thread pool as the socket drains
 *             (or a metadata copy into a bucket of this server)
 *     DELETE: signed DELETE
 *   answer -> store_outbox_done | store_outbox_retry (backoff or failed) */
#include "s3/bg/replicate.h"
#include "s3/auth/sigv4.h"
#include "s3/cond.h"
#include "s3/replication.h"
#include "s3/uri.h"
#include "core/log.h"
#include "http/client.h"

#include <fcntl.h>
#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#define S3_REPL_BUF      (64 * 1024)
#define S3_REPL_HDRS     64
#define S3_REPL_ERR_MAX  4096         /* bytes of an error body kept */
#define S3_REPL_BACKFILL_BATCH  100   /* objects queued per backfill step */
#define S3_REPL_BACKFILL_WAIT   5     /* tries for its configuration */
#define S3_REPL_DEPTH_MS 60000        /* how often the queue's depth is
                                       * counted, and logged if not empty */

typedef struct s3_repl_job_s  s3_repl_job_t;

struct s3_repl_s {
    s3_ctx_t          *ctx;
    uv_timer_t         timer;
    http_client_t    **clients;       /* one per cf->targets[i] */
    size_t             nclients;
    http_client_t    **retired;       /* clients of the targets before a
                                       * reload, closed once no job uses
                                       * them */
    size_t             nretired;
    s3_repl_job_t     *jobs[S3_REPL_INFLIGHT];
    size_t             njobs;
    int                stopping;
    int                timer_closed;
    uint64_t           depth_at;      /* loop time of the last count, or 0 */
    void             (*done)(void *ud);
    void              *done_ud;
};

struct s3_repl_job_s {
    s3_repl_t               *p;
    store_outbox_entry_t     e;
    store_object_t          *obj;      /* PUT: the object now; its chunks
                                        * stay pinned until the job ends */
    const gw_conf_target_t  *t;
    http_client_t           *client;
    http_client_req_t       *req;
    gw_pool_t               *pool;     /* headers, target, error text */
    /* The body, from the chunk files. */
    size_t                   ci;       /* the chunk being read */
    uint64_t                 coff;     /* bytes of it read */
    int                      fd;
    uv_fs_t                  fs;
    int                      fs_busy;  /* a thread-pool read or open runs */
    char                    *buf;
    size_t                   blen, bpos;
    int                      io_error;
    /* A multipart source goes as a multipart upload with the same part
     * boundaries, so the replica's ETag is the source's. */
    uint32_t                 step;     /* 0 create, 1..nparts the parts,
                                        * nparts + 1 complete */
    char                    *upload_id;
    char                   **etags;    /* of each part sent */
    size_t                   cend;     /* the part's chunks end here */
    char                    *doc;      /* CompleteMultipartUpload body */
    size_t                   doclen, docpos;
    /* The answer. */
    int                      status;
    char                    *errbody;
    size_t                   errlen;
    int                      settled;
    int                      outcome;  /* the source's status to record */
};

static void s3_repl_tick(uv_timer_t *t);
static void s3_repl_job_end(s3_repl_job_t *j);
static void s3_repl_settled_local(void *ud, int rc);

static int64_t
s3_repl_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ==== settling an entry ==== */

static void
s3_repl_status_written(void *ud, int rc)
{
    s3_repl_job_t  *j = ud;

    /* GW_ECONFLICT: written again meanwhile; the new version has a status
     * of its own. */
    if (rc != GW_OK && rc != GW_ECONFLICT && rc != GW_ENOTFOUND) {
        gw_log(GW_LOG_ERR, NULL, rc, "replication: recording the status of "
               "%s/%.*s failed", j->e.bucket, (int) j->e.key.len,
               j->e.key.base);
    }
    j->settled = 1;
    s3_repl_job_end(j);
}

static void
s3_repl_settled(void *ud, int rc)
{
    s3_repl_job_t  *j = ud;
    store_object_t  o;
    store_cond_t    cond;

    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, NULL, rc, "replication: settling the outbox entry "
               "of \"%s\" failed", j->e.bucket);
    }
    if (rc == GW_OK && j->outcome != 0 && j->obj != NULL
        && j->obj->repl_status != j->outcome)
    {
        /* x-amz-replication-status of the version that was sent, and only
         * of that version: on the generation it had. */
        o = *j->obj;
        o.raw = NULL;
        o.repl = NULL;
        o.repl_status = (uint8_t) j->outcome;
        memset(&cond, 0, sizeof(cond));
        cond.has_generation = cond.in_place = 1;
        cond.generation = j->obj->generation;
        store_object_put(j->p->ctx->store, j->e.bucket, &o, &cond,
                         s3_repl_status_written, j);
        return;
    }
    j->settled = 1;
    s3_repl_job_end(j);
}

/* retry: 0 done, 1 try again later, 2 give up (reason in why). */
static void
s3_repl_settle(s3_repl_job_t *j, int retry, const char *why)
{
    int64_t  delay;

    j->outcome = retry == 0 ? STORE_REPL_STATUS_COMPLETED
                 : retry == 2 ? STORE_REPL_STATUS_FAILED : 0;
    if (retry == 0) {
        gw_log(GW_LOG_DEBUG, NULL, 0, "replication: %s/%.*s -> %s done",
               j->e.bucket, (int) j->e.key.len, j->e.key.base, j->e.dest);
        store_outbox_done(j->p->ctx->store, &j->e, s3_repl_settled, j);
        return;
    }
    j->e.attempts++;
    snprintf(j->e.error, sizeof(j->e.error), "%s", why);
    if (retry == 2) {
        j->e.failed = 1;
    } else {
        delay = S3_REPL_BACKOFF_MS << GW_MIN(j->e.attempts - 1, 16);
        delay = GW_MIN(delay, S3_REPL_BACKOFF_MAX);
        /* Jitter, so that entries of one outage do not retry in step. */
        delay = delay / 2 + (int64_t) ((uint64_t) rand()
                                       % (uint64_t) (delay / 2 + 1));
        j->e.next_try_ms = s3_repl_now_ms() + delay;
    }
    /* A destination that is down fails every entry at each try: warn of
     * the first failure of an entry and of every tenth, the rest at debug. */
    gw_log(retry == 2 ? GW_LOG_ERR
           : j->e.attempts == 1 || j->e.attempts % 10 == 0 ? GW_LOG_WARN
           : GW_LOG_DEBUG, NULL, 0, "replication: "
           "%s/%.*s -> %s %s (attempt %u): %s", j->e.bucket,
           (int) j->e.key.len, j->e.key.base, j->e.dest,
           retry == 2 ? "failed" : "will be retried", j->e.attempts, why);
    store_outbox_retry(j->p->ctx->store, &j->e, s3_repl_settled, j);
}

/* ==== the job's end ==== */

/* Closes the clients a reload replaced that no job in flight uses. */
static void
s3_repl_close_retired(s3_repl_t *p)
{
    size_t  i, k;

    for (i = 0; i < p->nretired; ) {
        for (k = 0; k < p->njobs && p->jobs[k]->client != p->retired[i];
             k++)
        {
            /* look for a job on it */
        }
        if (k < p->njobs) {
            i++;
            continue;
        }
        http_client_close(p->retired[i]);
        p->retired[i] = p->retired[--p->nretired];
    }
}

static void
s3_repl_job_free(s3_repl_job_t *j)
{
    s3_repl_t  *p = j->p;
    size_t      i;

    for (i = 0; i < p->njobs; i++) {
        if (p->jobs[i] == j) {
            p->jobs[i] = p->jobs[--p->njobs];
            break;
        }
    }
    if (j->obj != NULL) {
        store_unpin(p->ctx->store, j->obj->chunks, j->obj->nchunks);
        store_object_free(j->obj);
    }
    if (j->fd >= 0) {
        close(j->fd);
    }
    store_outbox_entry_free(&j->e);
    gw_pool_destroy(j->pool);
    gw_free(j->buf);
    gw_free(j);
    s3_repl_close_retired(p);
}

static void s3_repl_maybe_stopped(s3_repl_t *p);

/* Frees the job once nothing of it runs any more: the request, a chunk
 * read on the thread pool, the store's settling. */
static void
s3_repl_job_end(s3_repl_job_t *j)
{
    s3_repl_t  *p = j->p;

    if (j->req != NULL || j->fs_busy || !j->settled) {
        return;
    }
    s3_repl_job_free(j);
    if (p->stopping) {
        s3_repl_maybe_stopped(p);
        return;
    }
    /* A slot is free: the next due entry need not wait for the timer
     * (small objects would drain at S3_REPL_INFLIGHT per tick). The tick
     * only queues work: every job's callbacks come later, from the loop. */
    s3_repl_tick(&p->timer);
}

/* ==== the request body, from the chunk files ==== */

static void s3_repl_read_next(s3_repl_job_t *j);

static void
s3_repl_read_done(uv_fs_t *fs)
{
    s3_repl_job_t  *j = fs->data;
    ssize_t         n = fs->result;

    uv_fs_req_cleanup(fs);
    j->fs_busy = 0;
    if (j->req == NULL) {                 /* the request ended meanwhile */
        s3_repl_job_end(j);
        return;
    }
    if (n <= 0) {
        j->io_error = n < 0 ? (int) n : GW_ECORRUPT;   /* a short chunk */
    } else {
        j->blen = (size_t) n;
        j->bpos = 0;
        j->coff += (uint64_t) n;
    }
    http_client_resume(j->req);
}

static void
s3_repl_open_done(uv_fs_t *fs)
{
    s3_repl_job_t  *j = fs->data;
    ssize_t         fd = fs->result;

    uv_fs_req_cleanup(fs);
    j->fs_busy = 0;
    if (fd < 0) {
        j->io_error = (int) fd;
    } else {
        j->fd = (int) fd;
    }
    if (j->req == NULL) {
        s3_repl_job_end(j);
        return;
    }
    if (j->fd >= 0) {
        s3_repl_read_next(j);           /* its callback resumes the request */
    }
    if (!j->fs_busy) {
        http_client_resume(j->req);     /* the producer reports the error */
    }
}

/* Starts the next read (or the open of the next chunk file) on the thread
 * pool; its callback resumes the request. */
static void
s3_repl_read_next(s3_repl_job_t *j)
{
    const store_chunk_ref_t  *c = &j->obj->chunks[j->ci];
    char                      path[4096];
    uv_buf_t                  b;
    int                       rc;

    if (j->fd < 0) {
        store_chunk_path(j->p->ctx->store, c->sha, path, sizeof(path));
        j->fs.data = j;
        rc = uv_fs_open(j->p->ctx->loop, &j->fs, path, O_RDONLY | O_CLOEXEC, 0,
                        s3_repl_open_done);
    } else {
        b = uv_buf_init(j->buf, (unsigned) GW_MIN((uint64_t) S3_REPL_BUF,
                                                  c->len - j->coff));
        j->fs.data = j;
        rc = uv_fs_read(j->p->ctx->loop, &j->fs, j->fd, &b, 1,
                        (int64_t) j->coff, s3_repl_read_done);
    }
    if (rc != 0) {
        j->io_error = rc;
        return;
    }
    j->fs_busy = 1;
}

static int
s3_repl_produce(http_client_req_t *r, char *buf, size_t cap, size_t *len)
{
    s3_repl_job_t  *j = http_client_req_data(r);
    size_t          n;

    *len = 0;
    if (j->io_error != 0) {
        return j->io_error;
    }
    if (j->obj->nchunks == 0) {                       /* stored inline */
        n = GW_MIN(cap, j->obj->inline_data.len - j->bpos);
        memcpy(buf, j->obj->inline_data.base + j->bpos, n);
        j->bpos += n;
        *len = n;
        return j->bpos == j->obj->inline_data.len ? GW_DONE : GW_OK;
    }
    while (j->bpos == j->blen) {
        if (j->fs_busy) {
            return GW_AGAIN;
        }
        if (j->fd >= 0 && j->coff == j->obj->chunks[j->ci].len) {
            close(j->fd);             /* this chunk is sent: the next one */
            j->fd = -1;
            j->coff = 0;
            if (++j->ci == j->cend) {
                return GW_DONE;       /* the object's, or the part's, end */
            }
        }
        s3_repl_read_next(j);
        if (j->io_error != 0) {
            return j->io_error;
        }
    }
    n = GW_MIN(cap, j->blen - j->bpos);
    memcpy(buf, j->buf + j->bpos, n);
    j->bpos += n;
    *len = n;
    return GW_OK;
}

/* ==== the answer ==== */

static int
s3_repl_response(http_client_req_t *r, const http_client_resp_t *resp)
{
    s3_repl_job_t  *j = http_client_req_data(r);

    const gw_str_t  *v;

    j->status = resp->status;
    if ((v = http_client_resp_header(resp, "etag")) != NULL) {
        if (j->etags != NULL && j->step >= 1 && j->step <= j->obj->nparts) {
            j->etags[j->step - 1] = gw_pool_strndup(j->pool, v->base, v->len);
        }
    }
    return GW_OK;
}

static int
s3_repl_body(http_client_req_t *r, const char *at, size_t len)
{
    s3_repl_job_t  *j = http_client_req_data(r);
    size_t          n;

    /* Kept: an error document, the UploadId of a new upload, or what
     * CompleteMultipartUpload answered (an error may come with a 200). */
    if (j->status >= 300 || j->step == 0
        || (j->obj != NULL && j->step > j->obj->nparts))
    {
        if (j->errbody == NULL) {
            j->errbody = gw_pool_alloc(j->pool, S3_REPL_ERR_MAX + 1);
        }
        n = GW_MIN(len, S3_REPL_ERR_MAX - j->errlen);
        memcpy(j->errbody + j->errlen, at, n);
        j->errlen += n;
        j->errbody[j->errlen] = '\0';
    }
    return GW_OK;
}

/* The S3 error code of the error document, or "". */
static const char *
s3_repl_error_code(s3_repl_job_t *j)
{
    const char  *a, *b;

    if (j->errbody == NULL || (a = strstr(j->errbody, "<Code>")) == NULL
        || (b = strstr(a, "</Code>")) == NULL)
    {
        return "";
    }
    return gw_pool_strndup(j->pool, a + 6, (size_t) (b - a - 6));
}

static int s3_repl_mp_next(s3_repl_job_t *j, const char **why);

static void
s3_repl_request_done(http_client_req_t *r, int rc)
{
    s3_repl_job_t  *j = http_client_req_data(r);
    char           *why;

    j->req = NULL;
    if (j->p->stopping && rc == UV_ECANCELED) {
        j->settled = 1;                 /* the outbox keeps it as it was */
        s3_repl_job_end(j);
        return;
    }
    if (rc != 0) {
        why = gw_pool_sprintf(j->pool, "%s", j->io_error
                              ? gw_strerror(j->io_error)
                              : http_client_req_error(r));
        s3_repl_settle(j, 1, why);
        return;
    }
    if (j->status >= 200 && j->status < 300) {
        const char  *mwhy = NULL;

        if (j->obj != NULL && j->obj->nparts > 0
            && j->obj->npart_sizes == j->obj->nparts)
        {
            rc = s3_repl_mp_next(j, &mwhy);   /* the next step, or done */
            if (rc == GW_AGAIN) {
                return;
            }
            if (rc != GW_OK) {
                s3_repl_settle(j, 1, mwhy);
                return;
            }
        }
        s3_repl_settle(j, 0, NULL);
        return;
    }
    why = gw_pool_sprintf(j->pool, "%s answered %d %s", j->t->name,
                          j->status, s3_repl_error_code(j));
    if (j->status == 404 && j->e.change == STORE_REPL_DELETE) {
        s3_repl_settle(j, 0, NULL);     /* already gone there */
    } else if (j->status >= 500 || j->status == 429 || j->status == 408) {
        s3_repl_settle(j, 1, why);
    } else {
        s3_repl_settle(j, 2, why);      /* 403, NoSuchBucket...: not by
                                         * waiting; retried once fixed */
    }
}

/* ==== building a request ==== */

typedef struct {
    gw_kv_t   h[S3_REPL_HDRS];
    size_t    n;
} s3_repl_hdrs_t;

static void
s3_repl_hdr(s3_repl_job_t *j, s3_repl_hdrs_t *hs, const char *name,
            gw_str_t value)
{
    char    *lc;
    size_t   i, len = strlen(name);

    if (hs->n == S3_REPL_HDRS || value.base == NULL) {
        return;
    }
    lc = gw_pool_alloc(j->pool, len + 1);
    for (i = 0; i < len; i++) {
        lc[i] = (char) gw_ascii_lower(name[i]);
    }
    lc[len] = '\0';
    hs->h[hs->n].name.base = lc;
    hs->h[hs->n].name.len = len;
    hs->h[hs->n].value = value;
    hs->n++;
}

static int
s3_repl_hdr_cmp(const void *x, const void *y)
{
    const gw_kv_t  *a = x, *b = y;
    int             c;

    c = memcmp(a->name.base, b->name.base, GW_MIN(a->name.len, b->name.len));
    return c != 0 ? c : (a->name.len > b->name.len) - (a->name.len < b->name.len);
}

/* The object's stored headers, metadata and tags, as a PUT sends them. */
static void
s3_repl_object_headers(s3_repl_job_t *j, s3_repl_hdrs_t *hs)
{
    const store_object_t  *o = j->obj;
    char                  *tags, *p, enc[3 * 256 + 1];
    char                   md5[32], ck[64];
    size_t                 i, n;

    /* A replica: an s3gw destination does not replicate it again (two
     * servers replicating to each other would send it back and forth). */
    s3_repl_hdr(j, hs, "x-amz-replication-status", gw_str_lit("REPLICA"));
    s3_repl_hdr(j, hs, "content-type", o->content_type);
    s3_repl_hdr(j, hs, "content-encoding", o->content_encoding);
    s3_repl_hdr(j, hs, "content-disposition", o->content_disposition);
    s3_repl_hdr(j, hs, "content-language", o->content_language);
    s3_repl_hdr(j, hs, "cache-control", o->cache_control);
    s3_repl_hdr(j, hs, "expires", o->expires);
    for (i = 0; i < o->nmeta; i++) {
        s3_repl_hdr(j, hs, gw_pool_sprintf(j->pool, "x-amz-meta-%.*s",
                                           (int) o->meta[i].name.len,
                                           o->meta[i].name.base),
                    o->meta[i].value);
    }
    if (o->ntags > 0) {
        tags = p = gw_pool_alloc(j->pool, o->ntags * (2 * sizeof(enc) + 2));
        for (i = 0; i < o->ntags; i++) {
            if (i > 0) {
                *p++ = '&';
            }
            n = s3_uri_encode(o->tags[i].name.base, o->tags[i].name.len, enc, 0);
            memcpy(p, enc, n);
            p += n;
            *p++ = '=';
            n = s3_uri_encode(o->tags[i].value.base, o->tags[i].value.len, enc,
                              0);
            memcpy(p, enc, n);
            p += n;
        }
        s3_repl_hdr(j, hs, "x-amz-tagging",
                    (gw_str_t) { tags, (size_t) (p - tags) });
    }
    if (o->nparts == 0) {
        /* The destination checks the bytes against the source's MD5, and
         * against its checksum, which it keeps as the source did. */
        gw_base64_encode(md5, o->md5, 16);
        s3_repl_hdr(j, hs, "content-md5",
                    (gw_str_t) { gw_pool_strndup(j->pool, md5, strlen(md5)),
                                 strlen(md5) });
        if (o->cksum_alg != GW_CK_NONE && o->cksum_type == 0) {
            gw_base64_encode(ck, o->cksum,
                             gw_cksum_len((gw_cksum_alg_t) o->cksum_alg));
            s3_repl_hdr(j, hs, gw_cksum_header((gw_cksum_alg_t) o->cksum_alg),
                        (gw_str_t) { gw_pool_strndup(j->pool, ck, strlen(ck)),
                                     strlen(ck) });
        }
    }
}

/* Signs and sends one request of the job to its target: method on the
 * object's destination key with query (or ""), a body of length bytes from
 * produce, the object's stored headers when obj_headers. */
static int
s3_repl_send(s3_repl_job_t *j, const char *method, const char *query,
             int64_t length, http_client_produce_pt produce, int obj_headers)
{
    const gw_conf_target_t  *t = j->t;
    http_client_req_opts_t   o;
    s3_sigv4_input_t         in;
    s3_sigv4_auth_t         *a;
    s3_repl_hdrs_t           hs;
    unsigned char            sig[32];
    char                     hex[65], amz[17], *path, *sh, *p;
    size_t                   i, n;
    time_t                   now = time(NULL);
    struct tm                tm;
    const char              *payload;

    n = s3_uri_encode(j->e.key.base, j->e.key.len,
                      path = gw_pool_alloc(j->pool, 3 * j->e.key.len + 2 +
                                                    strlen(j->e.dest) + 2),
                      1);
    GW_UNUSED(n);
    path = gw_pool_sprintf(j->pool, "/%s/%s", j->e.dest, path);
    gmtime_r(&now, &tm);
    strftime(amz, sizeof(amz), "%Y%m%dT%H%M%SZ", &tm);
    payload = length > 0 ? "UNSIGNED-PAYLOAD"
              : "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    hs.n = 0;
    s3_repl_hdr(j, &hs, "host", gw_str_lit(""));
    hs.h[0].value.base = (t->port == (t->https ? 443 : 80))
                         ? t->host
                         : gw_pool_sprintf(j->pool, "%s%s%s:%d",
                                           strchr(t->host, ':') ? "[" : "",
                                           t->host,
                                           strchr(t->host, ':') ? "]" : "",
                                           t->port);
    hs.h[0].value.len = strlen(hs.h[0].value.base);
    s3_repl_hdr(j, &hs, "x-amz-date",
                (gw_str_t) { gw_pool_strndup(j->pool, amz, 16), 16 });
    s3_repl_hdr(j, &hs, "x-amz-content-sha256",
                (gw_str_t) { payload, strlen(payload) });
    if (obj_headers) {
        s3_repl_object_headers(j, &hs);
    }
    qsort(hs.h, hs.n, sizeof(hs.h[0]), s3_repl_hdr_cmp);

    /* Every header sent is signed. */
    sh = p = gw_pool_alloc(j->pool, hs.n * 80 + 1);
    for (i = 0; i < hs.n; i++) {
        p += sprintf(p, "%s%.*s", i ? ";" : "", (int) hs.h[i].name.len,
                     hs.h[i].name.base);
    }
    a = gw_pool_calloc(j->pool, sizeof(*a));
    a->access_key = gw_str_lit("");
    a->access_key.base = t->access_key;
    a->access_key.len = strlen(t->access_key);
    memcpy(a->date, amz, 8);
    a->region.base = t->region;
    a->region.len = strlen(t->region);
    a->service = gw_str_lit("s3");
    a->signed_headers.base = sh;
    a->signed_headers.len = (size_t) (p - sh);
    memcpy(a->amz_date, amz, 17);
    a->payload_hash.base = payload;
    a->payload_hash.len = strlen(payload);
    in.method.base = method;
    in.method.len = strlen(method);
    in.path.base = path;
    in.path.len = strlen(path);
    in.query.base = query;
    in.query.len = strlen(query);
    in.headers = hs.h;
    in.nheaders = hs.n;
    if (s3_sigv4_sign(&in, a, t->secret_key, sig) != GW_OK) {
        return GW_EINVAL;
    }
    gw_hex_encode(hex, sig, 32);
    hex[64] = '\0';
    s3_repl_hdr(j, &hs, "authorization", gw_str_lit(""));
    hs.h[hs.n - 1].value.base = gw_pool_sprintf(j->pool,
        "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/s3/aws4_request, "
        "SignedHeaders=%s, Signature=%s", t->access_key, amz, t->region, sh,
        hex);
    hs.h[hs.n - 1].value.len = strlen(hs.h[hs.n - 1].value.base);

    memset(&o, 0, sizeof(o));
    o.method = method;
    o.target = query[0] ? gw_pool_sprintf(j->pool, "%s?%s", path, query)
                        : path;
    o.headers = hs.h;
    o.nheaders = hs.n;
    o.content_length = length;
    o.produce = length > 0 ? produce : NULL;
    o.on_response = s3_repl_response;
    o.on_body = s3_repl_body;
    o.on_done = s3_repl_request_done;
    o.data = j;
    return http_client_request(j->client, &o, &j->req);
}

/* ==== a multipart source ==== */

static int
s3_repl_produce_doc(http_client_req_t *r, char *buf, size_t cap, size_t *len)
{
    s3_repl_job_t  *j = http_client_req_data(r);
    size_t          n = GW_MIN(cap, j->doclen - j->docpos);

    memcpy(buf, j->doc + j->docpos, n);
    j->docpos += n;
    *len = n;
    return j->docpos == j->doclen ? GW_DONE : GW_OK;
}

/* The text of <name> in the collected answer, or NULL. */
static char *
s3_repl_xml_text(s3_repl_job_t *j, const char *name)
{
    char         open[64], close[64];
    const char  *a, *b;

    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    if (j->errbody == NULL || (a = strstr(j->errbody, open)) == NULL
        || (b = strstr(a, close)) == NULL)
    {
        return NULL;
    }
    a += strlen(open);
    return gw_pool_strndup(j->pool, a, (size_t) (b - a));
}

/* The chunks of part j->step, from where the last part's ended until they
 * add up to its stored size (parts never share a chunk), into ci..cend:
 * the part's length, or 0 when the record does not add up. */
static uint64_t
s3_repl_part_chunks(s3_repl_job_t *j)
{
    const store_object_t  *o = j->obj;
    uint64_t               sum = 0, want = o->part_sizes[j->step - 1];
    size_t                 i;

    if (j->fd >= 0) {
        /* The client asks for no byte past a part's length, so the last
         * chunk of the part before is still open. */
        close(j->fd);
        j->fd = -1;
    }
    j->ci = j->cend;
    for (i = j->ci; i < o->nchunks && sum < want; i++) {
        sum += o->chunks[i].len;
    }
    j->cend = i;
    j->coff = 0;
    j->bpos = j->blen = 0;
    return sum == want ? sum : 0;
}

/* Sends CompleteMultipartUpload with the parts' ETags. */
static int
s3_repl_complete(s3_repl_job_t *j)
{
    char    *p;
    size_t   i;

    j->doc = p = gw_pool_alloc(j->pool, 128 + j->obj->nparts * 160);
    p += sprintf(p, "<CompleteMultipartUpload>");
    for (i = 0; i < j->obj->nparts; i++) {
        p += sprintf(p, "<Part><PartNumber>%zu</PartNumber><ETag>%.100s"
                     "</ETag></Part>", i + 1, j->etags[i]);
    }
    p += sprintf(p, "</CompleteMultipartUpload>");
    j->doclen = (size_t) (p - j->doc);
    j->docpos = 0;
    return s3_repl_send(j, "POST", gw_pool_sprintf(j->pool, "uploadId=%s",
                                                   j->upload_id),
                        (int64_t) j->doclen, s3_repl_produce_doc, 0);
}

/* The replica's multipart ETag, MD5 of its parts' MD5s, must be the
 * source's: the parts' bytes arrived as they were sent (single PUTs are
 * checked by the destination through Content-MD5). */
static int
s3_repl_etag_check(s3_repl_job_t *j, const char **why)
{
    char         want[48], *got = s3_repl_xml_text(j, "ETag");
    const char  *g, *w;
    size_t       gl, wl;

    if (got == NULL) {
        *why = "CompleteMultipartUpload answered no ETag";
        return GW_EINVAL;
    }
    s3_etag(j->obj->md5, j->obj->nparts, want);
    /* Quotes may come as they are or as &quot;. */
    g = got;
    gl = strlen(g);
    if (gl >= 12 && strncmp(g, "&quot;", 6) == 0) {
        g += 6;
        gl -= 12;
    } else if (gl >= 2 && g[0] == '"') {
        g++;
        gl -= 2;
    }
    w = want + 1;
    wl = strlen(want) - 2;
    if (gl != wl || strncmp(g, w, wl) != 0) {
        *why = gw_pool_sprintf(j->pool, "the replica's ETag %s is not the "
                               "source's %s", got, want);
        return GW_ECHECKSUM;
    }
    return GW_OK;
}

/* After a step of a multipart replication answered 2xx: sends the next one
 * (GW_AGAIN: the job goes on), or GW_OK once the upload is complete, or an
 * error with *why. The parts are the source's, so is the replica's ETag. */
static int
s3_repl_mp_next(s3_repl_job_t *j, const char **why)
{
    const store_object_t  *o = j->obj;
    uint64_t               len;
    int                    rc;

    if (j->step == 0) {
        j->upload_id = s3_repl_xml_text(j, "UploadId");
        if (j->upload_id == NULL) {
            *why = "CreateMultipartUpload answered no UploadId";
            return GW_EINVAL;
        }
        j->etags = gw_pool_calloc(j->pool, o->nparts * sizeof(char *));
        j->buf = gw_alloc(S3_REPL_BUF);
    } else if (j->step == o->nparts + 1) {
        if (s3_repl_xml_text(j, "Code") != NULL) {
            /* S3 may answer CompleteMultipartUpload 200 with an error. */
            *why = gw_pool_sprintf(j->pool, "CompleteMultipartUpload: %s",
                                   s3_repl_xml_text(j, "Code"));
            return GW_EINVAL;
        }
        return s3_repl_etag_check(j, why);
    } else if (j->etags[j->step - 1] == NULL) {
        *why = "UploadPart answered no ETag";
        return GW_EINVAL;
    }
    j->errlen = 0;
    j->status = 0;
    if (++j->step > o->nparts) {
        rc = s3_repl_complete(j);
    } else if ((len = s3_repl_part_chunks(j)) == 0) {
        *why = "the parts of the source do not add up to its chunks";
        return GW_ECORRUPT;
    } else {
        rc = s3_repl_send(j, "PUT", gw_pool_sprintf(j->pool,
                          "partNumber=%u&uploadId=%s", j->step, j->upload_id),
                          (int64_t) len, s3_repl_produce, 0);
    }
    if (rc != GW_OK) {
        *why = gw_strerror(rc);
        return rc;
    }
    return GW_AGAIN;
}

/* ==== existing objects (ExistingObjectReplication) ==== */

/* One step of a backfill entry (its key is the cursor): queues the next
 * objects after the cursor for the destinations that the rules with
 * ExistingObjectReplication Enabled give them, then a backfill entry after
 * the last of them (none at the end of the bucket), and settles this one.
 * The batcher applies the queuing in that order, so a restart goes on from
 * the last cursor stored; an object queued twice is sent once, since the
 * outbox keeps one entry per key and destination. */
static void
s3_repl_backfill(s3_repl_job_t *j)
{
    store_t                *st = j->p->ctx->store;
    const s3_repl_rule_t   *rules[16];
    const char             *dests[16], *none[1] = { "" };
    const store_object_t   *o;
    s3_repl_conf_t         *conf;
    store_iter_t           *it;
    store_repl_t            repl;
    gw_str_t                doc, last = { NULL, 0 };
    size_t                  i, n, count = 0;
    int                     rc;

    rc = store_bconf_get(st, j->e.bucket, STORE_BCONF_REPLICATION, j->pool,
                         &doc);
    if (rc == GW_ENOTFOUND && j->e.attempts < S3_REPL_BACKFILL_WAIT) {
        /* The configuration commits just after the entry that PutBucket-
         * Replication queues first (maybe in the next batch): wait for it
         * a little; a configuration deleted since ends the backfill. */
        s3_repl_settle(j, 1, "the replication configuration is not stored "
                       "yet");
        return;
    }
    if (rc != GW_OK
        || s3_replication_decode(j->pool, doc.base, doc.len, &conf) != GW_OK)
    {
        s3_repl_settle(j, 0, NULL);     /* no rules (any more): nothing */
        return;
    }
    it = store_iter_open(st, j->e.bucket);
    if (it == NULL) {
        s3_repl_settle(j, 1, "cannot list the bucket");
        return;
    }
    rc = store_iter_seek(it, j->e.key, j->e.key.len > 0);
    while (rc == GW_OK && count < S3_REPL_BACKFILL_BATCH
           && store_iter_next(it, &o) == GW_OK)
    {
        count++;
        last.base = gw_pool_strndup(j->pool, o->key.base, o->key.len);
        last.len = o->key.len;
        n = s3_replication_match_all(conf, o->key, o->tags, o->ntags, rules,
                                     GW_NELEMS(rules));
        for (repl.ndests = 0, i = 0; i < n; i++) {
            if (rules[i]->existing) {
                dests[repl.ndests++] = gw_pool_strndup(j->pool,
                    rules[i]->dest_bucket.base, rules[i]->dest_bucket.len);
            }
        }
        repl.dests = dests;
        if (repl.ndests > 0) {
            store_outbox_queue(st, j->e.bucket, last, &repl, STORE_REPL_PUT,
                               NULL, NULL);
        }
    }
    store_iter_close(it);
    if (count == S3_REPL_BACKFILL_BATCH) {
        repl.dests = none;
        repl.ndests = 1;
        store_outbox_queue(st, j->e.bucket, last, &repl, STORE_REPL_BACKFILL,
                           NULL, NULL);
    }
    s3_repl_settle(j, 0, NULL);
}

/* ==== one entry ==== */

static void
s3_repl_settled_local(void *ud, int rc)
{
    s3_repl_job_t  *j = ud;

    if (rc == GW_OK || (rc == GW_ENOTFOUND
                        && j->e.change == STORE_REPL_DELETE))
    {
        s3_repl_settle(j, 0, NULL);
    } else if (rc == GW_ENOBUCKET) {
        s3_repl_settle(j, 2, gw_pool_sprintf(j->pool, "the destination "
                                             "bucket \"%s\" does not exist",
                                             j->e.dest));
    } else {
        s3_repl_settle(j, 1, gw_strerror(rc));
    }
}

/* Same-site replication: the destination is a bucket of this server. A copy
 * of the record with the same chunks: no byte moves. */
static void
s3_repl_local(s3_repl_job_t *j)
{
    store_object_t  o;

    if (j->e.change == STORE_REPL_DELETE) {
        store_object_delete(j->p->ctx->store, j->e.dest, j->e.key,
                            s3_repl_settled_local, j);
        return;
    }
    o = *j->obj;
    o.raw = NULL;
    o.repl = NULL;
    o.repl_status = STORE_REPL_STATUS_REPLICA;
    store_object_put(j->p->ctx->store, j->e.dest, &o, NULL,
                     s3_repl_settled_local, j);
}

static void
s3_repl_start_job(s3_repl_t *p, const store_outbox_entry_t *e)
{
    s3_repl_job_t  *j = gw_calloc(1, sizeof(*j));
    size_t          ti;
    int             rc;

    j->p = p;
    j->e = *e;
    j->fd = -1;
    j->pool = gw_pool_create(4096);
    p->jobs[p->njobs++] = j;
    if (e->change == STORE_REPL_BACKFILL) {
        s3_repl_backfill(j);
        return;
    }
    if (e->change == STORE_REPL_PUT) {
        /* A version of a versioned bucket: that version's bytes, each in
         * its turn; otherwise the key as it is now. */
        rc = e->has_version
             ? store_version_get(p->ctx->store, e->bucket, e->key, 0,
                                 e->version, &j->obj, NULL)
             : store_object_get(p->ctx->store, e->bucket, e->key, &j->obj);
        if (rc == GW_OK && (j->obj->vflags & STORE_VF_MARKER)) {
            store_object_free(j->obj);
            j->obj = NULL;
            rc = GW_ENOTFOUND;
        }
        if (rc == GW_ENOTFOUND) {
            /* Deleted since: the delete has an entry of its own, or
             * nothing is to be sent (a version deleted for good). */
            s3_repl_settle(j, 0, NULL);
            return;
        }
        if (rc != GW_OK) {
            s3_repl_settle(j, 1, gw_strerror(rc));
            return;
        }
        /* Pinned in the turn of the lookup: the chunks stay while they are
         * sent, whatever overwrites the object meanwhile. */
        store_pin(p->ctx->store, j->obj->chunks, j->obj->nchunks);
    }
    j->t = gw_conf_target_for_bucket(p->ctx->cf, e->dest, strlen(e->dest));
    if (j->t == NULL) {
        s3_repl_local(j);
        return;
    }
    ti = (size_t) (j->t - p->ctx->cf->targets);
    if (ti >= p->nclients) {
        /* Cannot happen: s3_repl_reload makes a client per target. */
        s3_repl_settle(j, 1, "replication_target has no client");
        return;
    }
    j->client = p->clients[ti];
    if (e->change == STORE_REPL_PUT && j->obj->nparts > 0
        && j->obj->npart_sizes == j->obj->nparts)
    {
        rc = s3_repl_send(j, "POST", "uploads", 0, NULL, 1);
    } else if (e->change == STORE_REPL_PUT) {
        j->buf = gw_alloc(S3_REPL_BUF);
        j->cend = j->obj->nchunks;
        rc = s3_repl_send(j, "PUT", "", (int64_t) j->obj->size,
                          s3_repl_produce, 1);
    } else {
        rc = s3_repl_send(j, "DELETE", "", 0, NULL, 0);
    }
    if (rc != GW_OK) {
        j->req = NULL;
        s3_repl_settle(j, 2, gw_strerror(rc));
    }
}

/* An entry is left alone while a job for it, or for an earlier change of
 * the same key to the same destination, is in flight: the two would race,
 * and the older bytes could land last. */
static int
s3_repl_busy(const s3_repl_t *p, const store_outbox_entry_t *e)
{
    const store_outbox_entry_t  *f;
    size_t                       i;

    for (i = 0; i < p->njobs; i++) {
        f = &p->jobs[i]->e;
        if (f->seq == e->seq
            || (strcmp(f->bucket, e->bucket) == 0
                && strcmp(f->dest, e->dest) == 0 && f->key.len == e->key.len
                && memcmp(f->key.base, e->key.base, e->key.len) == 0))
        {
            return 1;
        }
    }
    return 0;
}

/* At the first tick and then once a minute: how deep the queue is, when
 * it is not empty, so that a backlog or failed changes show in the log
 * (failed ones wait for an admin: `s3gw replication list`, `retry`). The
 * count is cheap (store_outbox_count reads no entry); the log line is not. */
static void
s3_repl_log_depth(s3_repl_t *p)
{
    uint64_t  now = uv_now(p->ctx->loop), pending, failed;

    if (p->depth_at != 0 && now - p->depth_at < S3_REPL_DEPTH_MS) {
        return;
    }
    p->depth_at = now != 0 ? now : 1;
    if (store_outbox_count(p->ctx->store, &pending, &failed) != GW_OK
        || pending + failed == 0)
    {
        return;
    }
    gw_log(failed != 0 ? GW_LOG_WARN : GW_LOG_NOTICE, NULL, 0,
           "replication: queue: %" PRIu64 " pending, %" PRIu64 " failed%s",
           pending, failed, failed != 0 ? " (s3gw replication list shows "
           "them; s3gw replication retry queues them again)" : "");
}

static void
s3_repl_tick(uv_timer_t *t)
{
    s3_repl_t             *p = t->data;
    store_outbox_entry_t   e;
    store_outbox_pos_t     after = { 0, 0 };
    int64_t                now = s3_repl_now_ms();

    s3_repl_log_depth(p);
    /* Due entries only, by due time: what waits or failed is not walked. */
    while (!p->stopping && p->njobs < S3_REPL_INFLIGHT
           && store_outbox_next_due(p->ctx->store, &after, now, &e) == GW_OK)
    {
        after.due_ms = e.next_try_ms;
        after.seq = e.seq;
        if (s3_repl_busy(p, &e)) {
            store_outbox_entry_free(&e);
            continue;
        }
        s3_repl_start_job(p, &e);       /* takes e's key */
    }
}

/* ==== start and stop ==== */

/* One client per target of cf into *out (*n of them); on an error the
 * ones made are closed and *out is NULL. */
static int
s3_repl_clients(uv_loop_t *loop, const gw_conf_t *cf, http_client_t ***out,
                size_t *n, int level)
{
    http_client_t      **c;
    http_client_opts_t   o;
    char                 err[256];
    size_t               i;
    int                  rc;

    c = gw_calloc(cf->ntargets ? cf->ntargets : 1, sizeof(*c));
    for (i = 0; i < cf->ntargets; i++) {
        memset(&o, 0, sizeof(o));
        o.scheme = cf->targets[i].https ? "https" : "http";
        o.host = cf->targets[i].host;
        o.port = cf->targets[i].port;
        o.max_connections = cf->targets[i].max_connections;
        o.tls_no_verify = cf->targets[i].https && !cf->targets[i].tls_verify;
        o.ca_file = cf->targets[i].ca_file;
        rc = http_client_create(loop, &o, &c[i], err, sizeof(err));
        if (rc != GW_OK) {
            gw_log(level, NULL, rc, "replication_target %s: %s",
                   cf->targets[i].name, err);
            while (i > 0) {
                http_client_close(c[--i]);
            }
            gw_free(c);
            *out = NULL;
            *n = 0;
            return rc;
        }
    }
    *out = c;
    *n = cf->ntargets;
    return GW_OK;
}

int
s3_repl_reload(s3_repl_t *p, const gw_conf_t *cf)
{
    http_client_t  **c;
    size_t           n, i;
    int              rc;

    rc = s3_repl_clients(p->ctx->loop, cf, &c, &n, GW_LOG_ERR);
    if (rc != GW_OK) {
        return rc;
    }
    /* Jobs in flight keep their client and target (whose conf stays
     * allocated): they finish against the old endpoint. */
    p->retired = gw_realloc(p->retired, (p->nretired + p->nclients + 1)
                                        * sizeof(*p->retired));
    for (i = 0; i < p->nclients; i++) {
        p->retired[p->nretired++] = p->clients[i];
    }
    gw_free(p->clients);
    p->clients = c;
    p->nclients = n;
    s3_repl_close_retired(p);
    return GW_OK;
}

int
s3_repl_start(s3_ctx_t *ctx, s3_repl_t **out)
{
    s3_repl_t  *p = gw_calloc(1, sizeof(*p));
    int         rc;

    p->ctx = ctx;
    rc = s3_repl_clients(ctx->loop, ctx->cf, &p->clients, &p->nclients,
                         GW_LOG_CRIT);
    if (rc != GW_OK) {
        p->stopping = 1;
        s3_repl_stop(p, NULL, NULL);
        return rc;
    }
    uv_timer_init(ctx->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, s3_repl_tick, S3_REPL_TICK_MS, S3_REPL_TICK_MS);
    *out = p;
    return GW_OK;
}

static void
s3_repl_timer_closed(uv_handle_t *h)
{
    s3_repl_t  *p = h->data;

    p->timer_closed = 1;
    s3_repl_maybe_stopped(p);
}

static void
s3_repl_maybe_stopped(s3_repl_t *p)
{
    void   (*done)(void *ud) = p->done;
    void    *ud = p->done_ud;

    if (!p->stopping || p->njobs > 0 || !p->timer_closed) {
        return;
    }
    gw_free(p->clients);
    gw_free(p->retired);
    gw_free(p);
    if (done != NULL) {
        done(ud);
    }
}

void
s3_repl_stop(s3_repl_t *p, void (*done)(void *ud), void *ud)
{
    size_t  i;

    p->stopping = 1;
    p->done = done;
    p->done_ud = ud;
    /* Closing a client cancels its requests: their entries stay queued. */
    for (i = 0; i < p->nclients; i++) {
        http_client_close(p->clients[i]);
    }
    p->nclients = 0;
    for (i = 0; i < p->nretired; i++) {
        http_client_close(p->retired[i]);
    }
    p->nretired = 0;
    if (p->timer.loop != NULL) {               /* the timer was started */
        uv_close((uv_handle_t *) &p->timer, s3_repl_timer_closed);
        return;
    }
    p->timer_closed = 1;
    s3_repl_maybe_stopped(p);
}
