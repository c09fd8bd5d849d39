/* store/chunk.c: the streaming chunk writer.
 *
 * The loop side only copies incoming bytes into segments, or keeps views
 * of a digest pipe's segments that already hold them (core/hashpipe.h:
 * one copy on the loop for both; a view holds a reference to its segment
 * until its job is back). A writer's first
 * segment holds STORE_SEG_MIN bytes and each next one twice the last, up to
 * STORE_SEG: a slow upload holds about what it has sent, a fast one soon
 * moves 256 KiB per job. Each chunk has its own ordered chain of thread-pool
 * jobs: one job at a time hashes a segment into the chunk's SHA-256 and
 * writes it to the chunk's temp file under tmp/; the segment that ends the
 * chunk also finishes the hash, pins the chunk, makes it durable
 * (fdatasync), renames it to chunks/XX/<sha256> and fsyncs that directory.
 * Up to STORE_CHAINS chunks run their chains at once, so the hashing and
 * syncing of one upload use several cores; the chunks' names go into the
 * record in object order however their jobs finish. At most STORE_WINDOW
 * bytes wait in memory; past that store_chunk_write answers GW_AGAIN and
 * the caller stops reading its socket until on_ready.
 *
 * Objects no bigger than inline_max never touch the disk here: their bytes
 * stay in memory and go into the index record. */
#include "store/internal.h"
#include "core/hash.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#define STORE_SEG_MIN  (16 * 1024)
#define STORE_SEG      (256 * 1024)
/* A view of a digest pipe's segment may cover all of it: one job hashes
 * and writes 1 MiB. The window is what one upload may have queued to its
 * writer: views keep the pipe's segments alive until written, so it is
 * memory per upload, and clients upload 10 parts at once (boto3, the AWS
 * CLI): with 8 MiB a 2 GiB upload_file took the server's VmHWM to 72 MiB,
 * past the 64 MiB goal. 2 MiB still lets the next chunk stream while the
 * last one's fdatasync runs. */
#define STORE_VIEW     (1024 * 1024)
#define STORE_WINDOW   ((size_t) 2 * 1024 * 1024)
#define STORE_COPIED   ((size_t) 4 * STORE_SEG)  /* of that, in the writer's copies */
#define STORE_CHAINS   4
#define STORE_INL_MIN  256

typedef struct store_seg_s     store_seg_t;
typedef struct store_wchunk_s  store_wchunk_t;

struct store_seg_s {
    store_seg_t    *next;
    gw_hseg_t      *shared;         /* a view into it (data), or NULL */
    const char     *data;           /* buf, or inside shared */
    size_t          len, cap;
    int             ends_chunk;
    char            buf[];          /* cap bytes (0 for a view) */
};

/* A chunk being written. The loop owns the queue and the list links; the
 * one job in flight owns the rest until its after callback. */
struct store_wchunk_s {
    store_wchunk_t     *next;           /* the writer's, oldest first */
    store_chunk_writer_t *w;
    size_t              idx;            /* in w->chunks */
    store_seg_t        *queue, **queue_tail;
    store_seg_t        *busy;           /* in the thread pool */
    uv_work_t           work;
    EVP_MD_CTX         *sha;
    store_chunk_ref_t   ref;            /* sha set by the sealing job */
    int                 fd;
    int                 rc;
    int                 sealed;         /* renamed and pinned */
    char                tmp[PATH_MAX];
};

struct store_chunk_writer_s {
    store_t            *st;
    size_t              chunk_size;
    size_t              inline_max;

    char               *inl;            /* up to inline_max bytes, grown
                                         * as they come; NULL at first */
    size_t              inl_len, inl_cap;
    int                 spilled;        /* past inline_max: chunks */
    uint64_t            chunk_fill;     /* bytes in the chunk being filled */
    uint64_t            total;
    store_seg_t        *fill;           /* being filled */
    size_t              seg_next;       /* the next segment's size */
    store_wchunk_t     *cur;            /* the chunk being filled */
    store_wchunk_t     *act, **act_tail;    /* not yet sealed */
    size_t              queued;         /* bytes queued or being written */
    size_t              copied;         /* of those, in segments of ours */
    int                 jobs;           /* in the thread pool */
    store_chunk_ref_t  *chunks;         /* in object order */
    unsigned char      *sealed;         /* per chunk: pinned */
    size_t              nchunks, cap;
    int                 err;
    int                 want_ready;
    void              (*on_ready)(void *ud);
    void               *ud;
    store_done_pt       on_finish;
    void               *fud;
    int                 finishing;
    int                 closed;         /* owner let go; free when idle */
    int                 committed;
};

static void store_writer_kick(store_chunk_writer_t *w);
static void store_writer_release(store_chunk_writer_t *w);

store_chunk_writer_t *
store_chunk_writer_open(store_t *st, void (*on_ready)(void *ud), void *ud)
{
    store_chunk_writer_t  *w = gw_calloc(1, sizeof(*w));

    w->st = st;
    w->chunk_size = st->cf->chunk_size;
    w->inline_max = st->cf->inline_max;
    w->seg_next = STORE_SEG_MIN;
    w->act_tail = &w->act;
    w->on_ready = on_ready;
    w->ud = ud;
    if (st->space_low) {
        w->err = UV_ENOSPC;     /* refused before it uses any space */
    }
    return w;
}

void
store_chunk_writer_no_inline(store_chunk_writer_t *w)
{
    w->inline_max = 0;
    w->spilled = 1;
}

/* A segment of cap bytes (0 for a view or one that only marks a chunk's
 * end). */
static store_seg_t *
store_seg_new(size_t cap)
{
    store_seg_t  *s = gw_alloc(sizeof(*s) + cap);

    s->next = NULL;
    s->shared = NULL;
    s->data = s->buf;
    s->len = 0;
    s->cap = cap;
    s->ends_chunk = 0;
    return s;
}

static void
store_seg_free(store_seg_t *s)
{
    if (s != NULL) {
        gw_hseg_unref(s->shared);
        gw_free(s);
    }
}

/* The segment to fill next: each twice the size of the last, so memory
 * follows the bytes that actually arrived. */
static store_seg_t *
store_writer_seg_new(store_chunk_writer_t *w)
{
    size_t  cap = w->seg_next;

    w->seg_next = GW_MIN(cap * 2, STORE_SEG);
    return store_seg_new(cap);
}

/* A new chunk at the end of the object: its place in the record is taken
 * now, so the record keeps object order whatever order chunks seal in. */
static store_wchunk_t *
store_wchunk_new(store_chunk_writer_t *w)
{
    store_wchunk_t  *c = gw_calloc(1, sizeof(*c));

    if (w->nchunks == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->chunks = gw_realloc(w->chunks, sizeof(*w->chunks) * w->cap);
        w->sealed = gw_realloc(w->sealed, w->cap);
    }
    c->w = w;
    c->idx = w->nchunks++;
    memset(&w->chunks[c->idx], 0, sizeof(*w->chunks));
    w->sealed[c->idx] = 0;
    c->ref.off = w->total;
    c->queue_tail = &c->queue;
    c->fd = -1;
    c->sha = EVP_MD_CTX_new();
    if (c->sha == NULL
        || EVP_DigestInit_ex(c->sha, gw_evp_sha256(), NULL) != 1)
    {
        fprintf(stderr, "[crit] cannot start SHA-256\n");
        abort();
    }
    *w->act_tail = c;
    w->act_tail = &c->next;
    return c;
}

/* s leaves the queue (dropped or written). */
static void
store_writer_unqueue(store_chunk_writer_t *w, store_seg_t *s)
{
    w->queued -= s->len;
    if (s->shared == NULL) {
        w->copied -= s->len;
    }
    store_seg_free(s);
}

/* Whether the bytes waiting fill the window, or half of it (slack: the
 * hysteresis of on_ready while jobs run). */
static int
store_writer_full(store_chunk_writer_t *w, int half)
{
    return w->queued >= STORE_WINDOW >> half
           || w->copied >= STORE_COPIED >> half;
}

/* Drops what c has queued (not what is in flight). */
static void
store_wchunk_drop(store_chunk_writer_t *w, store_wchunk_t *c)
{
    store_seg_t  *s;

    while ((s = c->queue) != NULL) {
        c->queue = s->next;
        store_writer_unqueue(w, s);
    }
    c->queue_tail = &c->queue;
}

/* Frees c (no job in flight), removing its temp file if it never sealed. */
static void
store_wchunk_free(store_chunk_writer_t *w, store_wchunk_t *c)
{
    store_wchunk_t  **pp;

    for (pp = &w->act; *pp != c; pp = &(*pp)->next) {
        /* find c */
    }
    *pp = c->next;
    if (w->act_tail == &c->next) {
        w->act_tail = pp;
    }
    if (w->cur == c) {
        w->cur = NULL;
    }
    store_wchunk_drop(w, c);
    if (c->fd >= 0) {
        close(c->fd);
        unlink(c->tmp);
    }
    EVP_MD_CTX_free(c->sha);
    gw_free(c);
}

static void
store_writer_push(store_chunk_writer_t *w)
{
    store_seg_t     *s = w->fill;
    store_wchunk_t  *c = w->cur;

    w->fill = NULL;
    *c->queue_tail = s;
    c->queue_tail = &s->next;
    w->queued += s->len;
    if (s->shared == NULL) {
        w->copied += s->len;
    }
}

/* Ends the chunk being filled: its last segment seals it. */
static void
store_writer_end_chunk(store_chunk_writer_t *w)
{
    store_wchunk_t  *c = w->cur;

    c->ref.len = (uint32_t) w->chunk_fill;
    w->chunks[c->idx].off = c->ref.off;
    w->chunks[c->idx].len = c->ref.len;
    if (w->fill == NULL) {
        w->fill = store_seg_new(0);
    }
    w->fill->ends_chunk = 1;
    store_writer_push(w);
    w->cur = NULL;
    w->chunk_fill = 0;
}

static void
store_writer_feed(store_chunk_writer_t *w, const char *p, size_t n)
{
    size_t  take;

    while (n > 0) {
        if (w->cur == NULL) {
            w->cur = store_wchunk_new(w);
        }
        if (w->fill != NULL && w->fill->shared != NULL) {
            store_writer_push(w);
        }
        if (w->fill == NULL) {
            w->fill = store_writer_seg_new(w);
        }
        take = GW_MIN(n, w->fill->cap - w->fill->len);
        take = GW_MIN(take, w->chunk_size - w->chunk_fill);
        memcpy(w->fill->buf + w->fill->len, p, take);
        w->fill->len += take;
        w->chunk_fill += take;
        w->total += take;
        p += take;
        n -= take;
        if (w->chunk_fill == w->chunk_size) {
            store_writer_end_chunk(w);
        } else if (w->fill->len == w->fill->cap) {
            store_writer_push(w);
        }
    }
}

/* Room for need inline bytes (at most inline_max), doubling. */
static void
store_writer_inl_reserve(store_chunk_writer_t *w, size_t need)
{
    size_t  cap = w->inl_cap ? w->inl_cap : STORE_INL_MIN;

    while (cap < need) {
        cap *= 2;
    }
    cap = GW_MIN(cap, w->inline_max);
    w->inl = gw_realloc(w->inl, cap);
    w->inl_cap = cap;
}

/* Views of seg's bytes at..at+n, cut at chunk ends; a view grows while the
 * next bytes follow it in the same segment, up to STORE_VIEW. */
static void
store_writer_feed_shared(store_chunk_writer_t *w, gw_hseg_t *seg,
                         const char *p, size_t n)
{
    store_seg_t  *f;
    size_t        take;

    while (n > 0) {
        if (w->cur == NULL) {
            w->cur = store_wchunk_new(w);
        }
        f = w->fill;
        if (f != NULL && (f->shared != seg || f->data + f->len != p
                          || f->len >= STORE_VIEW))
        {
            store_writer_push(w);
            f = NULL;
        }
        if (f == NULL) {
            f = w->fill = store_seg_new(0);
            f->shared = seg;
            f->data = p;
            gw_hseg_ref(seg);
        }
        take = GW_MIN(n, STORE_VIEW - f->len);
        take = GW_MIN(take, w->chunk_size - w->chunk_fill);
        f->len += take;
        w->chunk_fill += take;
        w->total += take;
        p += take;
        n -= take;
        if (w->chunk_fill == w->chunk_size) {
            store_writer_end_chunk(w);
        }
    }
}

/* The inline bytes while the object may still stay inline: 1 when they
 * were taken so; else the writer has spilled them into chunks. */
static int
store_writer_inline(store_chunk_writer_t *w, const char *at, size_t len)
{
    if (w->spilled) {
        return 0;
    }
    if (w->inl_len + len <= w->inline_max) {
        if (w->inl_len + len > w->inl_cap) {
            store_writer_inl_reserve(w, w->inl_len + len);
        }
        memcpy(w->inl + w->inl_len, at, len);
        w->inl_len += len;
        w->total += len;
        return 1;
    }
    w->spilled = 1;
    w->total = 0;
    store_writer_feed(w, w->inl, w->inl_len);
    return 0;
}

/* After bytes were queued: start jobs, report an error or the window. */
static int
store_writer_queued(store_chunk_writer_t *w)
{
    store_writer_kick(w);
    if (w->err != GW_OK) {
        return w->err;
    }
    if (store_writer_full(w, 0)) {
        w->want_ready = 1;
        return GW_AGAIN;
    }
    return GW_OK;
}

/* seg gets no more bytes (its pipe paused for the process's limit): a view
 * of it still growing goes to its chunk's writes now, so that what the
 * upload holds drains while it waits. */
static void
store_writer_let_go(store_chunk_writer_t *w, gw_hseg_t *seg)
{
    if (w->fill != NULL && w->fill->shared == seg) {
        store_writer_push(w);
        store_writer_kick(w);
    }
}

int
store_chunk_write_shared(store_chunk_writer_t *w, gw_hseg_t *seg,
                         const char *at, size_t len)
{
    if (seg == NULL) {
        return store_chunk_write(w, at, len);
    }
    if (w->err != GW_OK) {
        return w->err;
    }
    if (at == NULL) {
        store_writer_let_go(w, seg);
        return GW_OK;
    }
    if (len == 0 || store_writer_inline(w, at, len)) {
        return GW_OK;
    }
    store_writer_feed_shared(w, seg, at, len);
    return store_writer_queued(w);
}

int
store_chunk_write(store_chunk_writer_t *w, const char *at, size_t len)
{
    if (w->err != GW_OK) {
        return w->err;
    }
    if (len == 0 || store_writer_inline(w, at, len)) {
        return GW_OK;
    }
    store_writer_feed(w, at, len);
    return store_writer_queued(w);
}

/* ==== the thread-pool side ==== */

static int
store_write_all(int fd, const char *p, size_t n)
{
    ssize_t  k;

    while (n > 0) {
        k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += k;
        n -= (size_t) k;
    }
    return GW_OK;
}

/* Thread pool: makes the temp file fd (closed here) durable and renames it
 * to the chunk named sha. On failure the temp file is removed. */
static int
store_chunk_seal(store_t *st, int fd, const char *tmp, const unsigned char sha[32])
{
    char  path[PATH_MAX];
    int   rc = GW_OK;

    if (st->fsync && fdatasync(fd) != 0) {
        rc = -errno;
    }
    if (close(fd) != 0 && rc == GW_OK) {
        rc = -errno;
    }
    if (rc == GW_OK) {
        store_chunk_path(st, sha, path, sizeof(path));
        /* Renaming over an existing copy is harmless: same bytes. */
        if (rename(tmp, path) != 0) {
            rc = -errno;
        } else if (st->fsync && fsync(st->chunk_dirfd[sha[0]]) != 0) {
            rc = -errno;
        }
    }
    if (rc != GW_OK) {
        unlink(tmp);
    }
    return rc;
}

/* Thread pool: a new temp file under tmp/ (its name into tmp). */
static int
store_chunk_tmp(store_t *st, char *tmp, size_t cap)
{
    unsigned char  rnd[12];
    int            fd;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return GW_ERROR;
    }
    snprintf(tmp, cap,
             "%s/tmp/%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x",
             st->dir, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
             rnd[7], rnd[8], rnd[9], rnd[10], rnd[11]);
    fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    return fd < 0 ? -errno : fd;
}

/* Thread pool: the next segment of one chunk, in order: hashed and
 * written; the last one seals the chunk under its name. */
static void
store_wchunk_work(uv_work_t *req)
{
    store_wchunk_t  *c = req->data;
    store_seg_t     *s = c->busy;
    store_t         *st = c->w->st;     /* w's fields the loop never moves */
    unsigned int     n;
    int              rc;

    if (c->fd < 0) {
        c->fd = store_chunk_tmp(st, c->tmp, sizeof(c->tmp));
        if (c->fd < 0) {
            c->rc = c->fd;
            c->fd = -1;
            return;
        }
    }
    EVP_DigestUpdate(c->sha, s->data, s->len);
    rc = store_write_all(c->fd, s->data, s->len);
    if (rc == GW_OK && s->ends_chunk) {
        EVP_DigestFinal_ex(c->sha, c->ref.sha, &n);
        /* Pinned from before its rename until the owner commits or gives
         * up, so the collector never unlinks it in between. */
        store_pin(st, &c->ref, 1);
        rc = store_chunk_seal(st, c->fd, c->tmp, c->ref.sha);
        c->fd = -1;
        if (rc == GW_OK) {
            c->sealed = 1;
        } else {
            store_unpin(st, &c->ref, 1);
        }
    }
    c->rc = rc;
}

static void
store_wchunk_after(uv_work_t *req, int status)
{
    store_wchunk_t        *c = req->data;
    store_chunk_writer_t  *w = c->w;
    store_t               *st = w->st;    /* w may be freed by the kick */
    store_seg_t           *s = c->busy;

    GW_UNUSED(status);          /* never cancelled */
    c->busy = NULL;
    w->jobs--;
    store_writer_unqueue(w, s);
    if (c->rc != GW_OK && w->err == GW_OK) {
        w->err = c->rc;
        gw_log(GW_LOG_ERR, NULL, w->err, "writing a chunk failed");
        if (store__nospace(w->err)) {
            store__space_low(st, "the disk is full (writing a chunk)");
        }
    }
    if (c->sealed) {
        memcpy(w->chunks[c->idx].sha, c->ref.sha, 32);
        w->sealed[c->idx] = 1;
        store_wchunk_free(w, c);
    }
    store_writer_kick(w);
    store__job_end(st);
}

/* Starts the next segment of each of the oldest STORE_CHAINS chunks that is
 * idle. GW_OK, or an error if the pool refused a job. */
static int
store_writer_start(store_chunk_writer_t *w)
{
    store_wchunk_t  *c;
    store_seg_t     *s;
    int              i;

    for (c = w->act, i = 0; c != NULL && i < STORE_CHAINS; c = c->next, i++) {
        if (c->busy != NULL || c->queue == NULL) {
            continue;
        }
        s = c->queue;
        c->queue = s->next;
        if (c->queue == NULL) {
            c->queue_tail = &c->queue;
        }
        c->busy = s;
        c->work.data = c;
        /* On the store's sync threads (core/tpool.c): the last job of a
         * chunk waits for its fdatasync, which must not hold a thread of
         * libuv's pool that reads and sendfile slices need. */
        if (gw_tpool_queue(w->st->sync_pool, &c->work, store_wchunk_work,
                           store_wchunk_after) != 0)
        {
            c->busy = NULL;
            store_writer_unqueue(w, s);
            return GW_ERROR;
        }
        w->jobs++;
        store__job_begin(w->st);
    }
    return GW_OK;
}

/* Starts what can start, then reports progress or completion. Anything
 * that may free w or reenter the writer comes last. */
static void
store_writer_kick(store_chunk_writer_t *w)
{
    store_wchunk_t  *c, *next;
    store_done_pt    done;

    if (w->err == GW_OK && store_writer_start(w) != GW_OK) {
        w->err = GW_ERROR;
    }
    if (w->err != GW_OK) {
        /* Drop what is queued: it will never be committed. Chunks with no
         * job in flight go now; the rest when their job is back. */
        for (c = w->act; c != NULL; c = next) {
            next = c->next;
            store_wchunk_drop(w, c);
            if (c->busy == NULL && c != w->cur) {
                store_wchunk_free(w, c);
            }
        }
    }
    if (w->jobs > 0) {
        if (w->want_ready && !w->finishing && !w->closed
            && w->err == GW_OK && !store_writer_full(w, 1))
        {
            w->want_ready = 0;
            w->on_ready(w->ud);
        }
        return;
    }
    /* Idle. */
    if (w->closed) {
        store_writer_release(w);
        return;
    }
    if (w->finishing) {
        w->finishing = 0;
        done = w->on_finish;
        w->on_finish = NULL;
        done(w->fud, w->err);
        return;
    }
    if (w->want_ready && !store_writer_full(w, 0)) {
        w->want_ready = 0;
        if (w->on_ready) {
            w->on_ready(w->ud);
        }
    }
}

int
store_chunk_writer_finish(store_chunk_writer_t *w, store_done_pt done,
                          void *ud)
{
    if (w->err != GW_OK) {
        return w->err;
    }
    if (!w->spilled) {
        return GW_OK;
    }
    if (w->chunk_fill > 0) {
        store_writer_end_chunk(w);
    } else if (w->fill != NULL) {
        store_seg_free(w->fill);
        w->fill = NULL;
    }
    w->want_ready = 0;
    if (w->act == NULL) {
        return w->err;
    }
    w->finishing = 1;
    w->on_finish = done;
    w->fud = ud;
    store_writer_kick(w);
    return GW_DONE;
}

const store_chunk_ref_t *
store_chunk_writer_chunks(store_chunk_writer_t *w, size_t *n)
{
    *n = w->spilled ? w->nchunks : 0;
    return w->chunks;
}

gw_str_t
store_chunk_writer_inline(store_chunk_writer_t *w)
{
    gw_str_t  s = { w->inl ? w->inl : "", w->spilled ? 0 : w->inl_len };

    return s;
}

uint64_t
store_chunk_writer_total(store_chunk_writer_t *w)
{
    return w->total;
}

/* ==== letting go ==== */

/* Queue chunks nobody committed for the collector: those the index does not
 * count. Their pins hold until this op is durable. */
static int
store_writer_orphans_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    MDB_val  k, v;
    size_t   i;
    int      rc;

    for (i = 0; i < op->nchunks; i++) {
        k.mv_data = op->chunks[i].sha;
        k.mv_size = 32;
        if (mdb_get(txn, st->db_refs, &k, &v) == 0) {
            continue;
        }
        rc = store__gcq_put(st, txn, op->chunks[i].sha);
        if (rc != 0) {
            return rc;
        }
    }
    return GW_OK;
}

static void
store_writer_orphans_done(void *ud, int rc)
{
    store_chunk_writer_t  *w = ud;

    GW_UNUSED(rc);
    store_unpin(w->st, w->chunks, w->nchunks);
    gw_free(w->chunks);
    gw_free(w->sealed);
    gw_free(w);
}

static void
store_writer_release(store_chunk_writer_t *w)
{
    store_op_t  *op;
    size_t       i, n;

    while (w->act != NULL) {
        store_wchunk_free(w, w->act);
    }
    store_seg_free(w->fill);
    w->fill = NULL;
    gw_free(w->inl);
    w->inl = NULL;
    /* Only sealed chunks hold a pin and a file: keep those. */
    for (i = 0, n = 0; i < w->nchunks; i++) {
        if (w->sealed[i]) {
            w->chunks[n++] = w->chunks[i];
        }
    }
    w->nchunks = n;
    if (w->committed || w->nchunks == 0) {
        store_writer_orphans_done(w, GW_OK);
        return;
    }
    op = store__op_new(store_writer_orphans_done, w);
    op->apply = store_writer_orphans_apply;
    op->frees = 1;              /* they go to the collector */
    op->chunks = gw_alloc(sizeof(*op->chunks) * w->nchunks);
    memcpy(op->chunks, w->chunks, sizeof(*op->chunks) * w->nchunks);
    op->nchunks = w->nchunks;
    store__submit(w->st, op);
}

void
store_chunk_writer_close(store_chunk_writer_t *w, int committed)
{
    if (w == NULL) {
        return;
    }
    w->closed = 1;
    w->committed = committed;
    w->on_ready = NULL;
    w->finishing = 0;
    w->want_ready = 0;
    if (w->err == GW_OK && !committed) {
        w->err = UV_ECANCELED;    /* stops the queue */
    }
    if (w->jobs == 0) {
        store_writer_kick(w);
    }
}

/* ==== slices of existing chunks ==== */

typedef struct {
    uv_work_t           work;
    store_t            *st;
    unsigned char       src[32];
    uint32_t            start, len;
    store_chunk_ref_t  *out;
    store_done_pt       done;
    void               *ud;
    int                 rc;
    int                 refused;    /* the disk is full: write nothing */
} store_slice_t;

static void
store_slice_work(uv_work_t *req)
{
    store_slice_t  *sl = req->data;
    char            path[PATH_MAX], tmp[PATH_MAX];
    char           *buf;
    ssize_t         n;
    size_t          got = 0;
    int             fd, rc = GW_OK;

    if (sl->refused) {
        sl->rc = UV_ENOSPC;
        return;
    }
    buf = gw_alloc(sl->len ? sl->len : 1);
    store_chunk_path(sl->st, sl->src, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
    }
    while (rc == GW_OK && got < sl->len) {
        n = pread(fd, buf + got, sl->len - got, (off_t) (sl->start + got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = n < 0 ? -errno : GW_ECORRUPT;
            break;
        }
        got += (size_t) n;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (rc == GW_OK) {
        gw_sha256(buf, sl->len, sl->out->sha);
        sl->out->len = sl->len;
        /* Pinned before it is renamed into place: the collector may be
         * about to remove an older copy of the same bytes. */
        store_pin(sl->st, sl->out, 1);
        fd = store_chunk_tmp(sl->st, tmp, sizeof(tmp));
        rc = fd < 0 ? fd : store_write_all(fd, buf, sl->len);
        if (fd >= 0 && rc != GW_OK) {
            close(fd);
            unlink(tmp);
        } else if (fd >= 0) {
            rc = store_chunk_seal(sl->st, fd, tmp, sl->out->sha);
        }
        if (rc != GW_OK) {
            store_unpin(sl->st, sl->out, 1);
            sl->out->len = 0;      /* tells the caller no pin is held */
        }
    }
    gw_free(buf);
    sl->rc = rc;
}

static void
store_slice_after(uv_work_t *req, int status)
{
    store_slice_t  *sl = req->data;
    store_t        *st = sl->st;

    if (!sl->refused && store__nospace(sl->rc)) {
        store__space_low(sl->st, "the disk is full (writing a chunk)");
    }
    sl->done(sl->ud, status != 0 ? status : sl->rc);
    gw_free(sl);
    store__job_end(st);
}

void
store_chunk_slice(store_t *st, const unsigned char src[32], uint32_t start,
                  uint32_t len, store_chunk_ref_t *out, store_done_pt done,
                  void *ud)
{
    store_slice_t  *sl = gw_calloc(1, sizeof(*sl));
    int             rc;

    sl->work.data = sl;
    sl->st = st;
    memcpy(sl->src, src, 32);
    sl->start = start;
    sl->len = len;
    sl->out = out;
    sl->done = done;
    sl->ud = ud;
    sl->refused = st->space_low;
    rc = uv_queue_work(st->loop, &sl->work, store_slice_work, store_slice_after);
    if (rc != 0) {
        gw_free(sl);
        done(ud, rc);
        return;
    }
    store__job_begin(st);
}
