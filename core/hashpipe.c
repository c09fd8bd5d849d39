/* core/hashpipe.c: a request body's digests, off the loop (see hashpipe.h).
 *
 *   feed (loop): copy into the filling segment; full -> submitted
 *   submitted segments, oldest first:
 *     MD5 chain   one job at a time, in order (the ETag cannot be split)
 *     aux chain   the same for the whole-body SHA-256 and SHA checksums
 *     CRC jobs    one per segment, all at once
 *   a segment retires (oldest first) when its jobs are back: its CRC is
 *   combined into the running one and its bytes leave the window; the
 *   pipe drops its reference (the chunk writer may still hold one). */
#include "core/hashpipe.h"
#include "core/metrics.h"

#include <openssl/evp.h>

#define GW_HASHPIPE_SEG_MIN  (256 * 1024)
/* Full-size segments kept for reuse once freed. A fast upload frees one
 * for each it takes; going back to malloc each time cost a brk or mmap and
 * 256 page faults per MiB on the loop (17% of its time in perf). Two
 * windows' worth are at most 4 MiB idle per process. */
#define GW_HASHPIPE_CACHE    4

typedef struct gw_hseg_s  gw_hseg_t;

struct gw_hseg_s {
    gw_hseg_t      *next;
    gw_hashpipe_t  *hp;
    unsigned        refs;           /* the pipe's and its sharers' */
    size_t          len, cap;
    int             pending;        /* its jobs not yet back */
    uint64_t        crc;            /* CRC of this segment alone */
    uv_work_t       w_md5, w_aux, w_crc;
    unsigned char   buf[];
};

struct gw_hashpipe_s {
    uv_loop_t      *loop;
    EVP_MD_CTX     *md5;
    EVP_MD_CTX     *sha;            /* whole-body SHA-256, or NULL */
    gw_cksum_t      ck;             /* CRCs: prefix and retired segments */
    int             ck_split;       /* a CRC: computed per segment */
    int             aux;            /* the aux chain has work */
    int             inline_only;
    int             offloaded;      /* past the inline prefix */
    size_t          inl;            /* bytes hashed on the loop */
    size_t          seg_next;       /* the next segment's size */
    gw_hseg_t      *fill;
    gw_hseg_t      *head, **tail;   /* submitted, oldest first */
    gw_hseg_t      *md5_next;       /* being or next to be MD5'd */
    gw_hseg_t      *aux_next;
    int             md5_busy, aux_busy;
    int             jobs;           /* in the thread pool */
    size_t          inflight;       /* bytes copied and not yet retired */
    int             want_ready;
    int             finishing;
    int             freed;
    void          (*on_ready)(void *ud);
    void           *ud;
    void          (*done)(void *ud);
    void           *dud;
    gw_hashpipe_t  *wnext, **wprev;  /* in gw_hp_limit's queue, or NULL */
    unsigned char   md5_out[16], sha_out[32], ck_out[GW_CKSUM_MAX_LEN];
    size_t          ck_len;
};

/* Loop thread only, as every reference count change. */
static gw_hseg_t  *gw_hseg_cache[GW_HASHPIPE_CACHE];
static unsigned    gw_hseg_ncache;

/* The process's limit on body bytes in segments (upload_memory). Pipes that
 * paused for it wait in order; once freed segments take the bytes below
 * the limit, the idle handle wakes them on the next turn of the loop (not
 * from gw_hseg_unref itself: a wake feeds bytes of another request, which
 * must not run inside whatever freed the segment). */
static struct {
    size_t          max;            /* 0: no limit */
    size_t          live;           /* bytes of segments in use */
    gw_hashpipe_t  *head, **tail;   /* paused for the limit, oldest first */
    uv_idle_t       wake;
    int             ready;          /* wake initialised */
} gw_hp_limit = { .tail = &gw_hp_limit.head };

static void gw_hashpipe_limit_kick(void);

static gw_hseg_t *
gw_hseg_new(size_t cap)
{
    gw_hseg_t  *s;

    if (cap == GW_HASHPIPE_SEG && gw_hseg_ncache > 0) {
        s = gw_hseg_cache[--gw_hseg_ncache];
    } else {
        s = gw_alloc(sizeof(gw_hseg_t) + cap);
    }
    memset(s, 0, sizeof(gw_hseg_t));
    s->refs = 1;
    s->cap = cap;
    gw_hp_limit.live += cap;
    gw_metrics_upload_memory(gw_hp_limit.live);
    return s;
}

void
gw_hseg_ref(gw_hseg_t *s)
{
    s->refs++;
}

void
gw_hseg_unref(gw_hseg_t *s)
{
    if (s == NULL || --s->refs > 0) {
        return;
    }
    gw_hp_limit.live -= s->cap;
    gw_metrics_upload_memory(gw_hp_limit.live);
    gw_hashpipe_limit_kick();
    if (s->cap == GW_HASHPIPE_SEG && gw_hseg_ncache < GW_HASHPIPE_CACHE) {
        gw_hseg_cache[gw_hseg_ncache++] = s;
        return;
    }
    gw_free(s);
}

/* ==== the process's limit on body bytes in memory ==== */

static int
gw_hashpipe_over(void)
{
    return gw_hp_limit.max != 0 && gw_hp_limit.live > gw_hp_limit.max;
}

/* Room for a woken pipe to fill a whole segment without going over. */
static int
gw_hashpipe_room(void)
{
    return gw_hp_limit.max == 0
           || gw_hp_limit.live + GW_HASHPIPE_SEG <= gw_hp_limit.max;
}

static void
gw_hashpipe_limit_leave(gw_hashpipe_t *hp)
{
    if (hp->wprev == NULL) {
        return;
    }
    *hp->wprev = hp->wnext;
    if (hp->wnext != NULL) {
        hp->wnext->wprev = hp->wprev;
    } else {
        gw_hp_limit.tail = hp->wprev;
    }
    hp->wnext = NULL;
    hp->wprev = NULL;
}

static void
gw_hashpipe_limit_wait(gw_hashpipe_t *hp)
{
    if (hp->wprev != NULL) {
        return;
    }
    hp->wnext = NULL;
    hp->wprev = gw_hp_limit.tail;
    *gw_hp_limit.tail = hp;
    gw_hp_limit.tail = &hp->wnext;
    gw_metrics_upload_memory_wait();
}

/* On the loop's next turn: the waiting pipes, oldest first, while there is
 * room. A woken pipe that goes over again waits at the end, and the room
 * is gone then, so this ends. */
static void
gw_hashpipe_limit_wake(uv_idle_t *h)
{
    gw_hashpipe_t  *hp;

    uv_idle_stop(h);
    while ((hp = gw_hp_limit.head) != NULL && gw_hashpipe_room()) {
        gw_hashpipe_limit_leave(hp);
        /* A pipe whose own window is still full hears from its jobs. */
        if (hp->want_ready && hp->inflight < GW_HASHPIPE_WINDOW) {
            hp->want_ready = 0;
            hp->on_ready(hp->ud);
        }
    }
}

static void
gw_hashpipe_limit_kick(void)
{
    if (gw_hp_limit.ready && gw_hp_limit.head != NULL && gw_hashpipe_room()) {
        uv_idle_start(&gw_hp_limit.wake, gw_hashpipe_limit_wake);
    }
}

void
gw_hashpipe_limit(uv_loop_t *loop, size_t max)
{
    if (!gw_hp_limit.ready) {
        uv_idle_init(loop, &gw_hp_limit.wake);
        gw_hp_limit.ready = 1;
    }
    gw_hp_limit.max = max;
    gw_hashpipe_limit_kick();
}

void
gw_hashpipe_limit_close(void)
{
    if (gw_hp_limit.ready) {
        gw_hp_limit.ready = 0;
        uv_close((uv_handle_t *) &gw_hp_limit.wake, NULL);
    }
}

static EVP_MD_CTX *
gw_hashpipe_md(const EVP_MD *md)
{
    EVP_MD_CTX  *c = EVP_MD_CTX_new();

    if (c == NULL || EVP_DigestInit_ex(c, md, NULL) != 1) {
        fprintf(stderr, "[crit] cannot start a digest at %s:%d\n", __FILE__,
                __LINE__);
        abort();
    }
    return c;
}

gw_hashpipe_t *
gw_hashpipe_new(uv_loop_t *loop, gw_cksum_alg_t alg, int sha256,
                void (*on_ready)(void *ud), void *ud)
{
    gw_hashpipe_t  *hp = gw_calloc(1, sizeof(*hp));

    hp->loop = loop;
    hp->md5 = gw_hashpipe_md(gw_evp_md5());
    if (sha256) {
        hp->sha = gw_hashpipe_md(gw_evp_sha256());
    }
    if (gw_cksum_init(&hp->ck, alg) != GW_OK) {
        fprintf(stderr, "[crit] cannot start a checksum at %s:%d\n",
                __FILE__, __LINE__);
        abort();
    }
    hp->ck_split = alg == GW_CK_CRC32 || alg == GW_CK_CRC32C
                   || alg == GW_CK_CRC64NVME;
    hp->aux = hp->sha != NULL || (!hp->ck_split && alg != GW_CK_NONE);
    hp->seg_next = GW_HASHPIPE_SEG_MIN;
    hp->tail = &hp->head;
    hp->on_ready = on_ready;
    hp->ud = ud;
    return hp;
}

void
gw_hashpipe_inline(gw_hashpipe_t *hp)
{
    hp->inline_only = 1;
}

/* ==== the thread-pool side ==== */

static void
gw_hashpipe_md5_work(uv_work_t *w)
{
    gw_hseg_t  *s = w->data;

    EVP_DigestUpdate(s->hp->md5, s->buf, s->len);
}

static void
gw_hashpipe_aux_work(uv_work_t *w)
{
    gw_hseg_t      *s = w->data;
    gw_hashpipe_t  *hp = s->hp;

    if (hp->sha != NULL) {
        EVP_DigestUpdate(hp->sha, s->buf, s->len);
    }
    if (!hp->ck_split) {
        gw_cksum_update(&hp->ck, s->buf, s->len);
    }
}

static void
gw_hashpipe_crc_work(uv_work_t *w)
{
    gw_hseg_t  *s = w->data;

    switch (s->hp->ck.alg) {
    case GW_CK_CRC32:
        s->crc = gw_crc32_update(0, s->buf, s->len);
        break;
    case GW_CK_CRC32C:
        s->crc = gw_crc32c_update(0, s->buf, s->len);
        break;
    default:
        s->crc = gw_crc64nvme_update(0, s->buf, s->len);
        break;
    }
}

/* ==== the loop side ==== */

static void gw_hashpipe_settle(gw_hashpipe_t *hp);

static void
gw_hashpipe_after(uv_work_t *w, int status)
{
    gw_hseg_t      *s = w->data;
    gw_hashpipe_t  *hp = s->hp;

    GW_UNUSED(status);          /* never cancelled */
    if (w == &s->w_md5) {
        hp->md5_busy = 0;
        hp->md5_next = s->next;
    } else if (w == &s->w_aux) {
        hp->aux_busy = 0;
        hp->aux_next = s->next;
    }
    s->pending--;
    hp->jobs--;
    gw_hashpipe_settle(hp);
}

/* Runs job on s in the pool, or here if the pool refuses it. */
static void
gw_hashpipe_queue(gw_hashpipe_t *hp, gw_hseg_t *s, uv_work_t *w,
                  uv_work_cb job)
{
    w->data = s;
    hp->jobs++;
    if (uv_queue_work(hp->loop, w, job, gw_hashpipe_after) != 0) {
        job(w);
        gw_hashpipe_after(w, 0);
    }
}

/* Starts each ordered chain on its next segment if it is idle. */
static void
gw_hashpipe_kick(gw_hashpipe_t *hp)
{
    if (!hp->md5_busy && hp->md5_next != NULL) {
        hp->md5_busy = 1;
        gw_hashpipe_queue(hp, hp->md5_next, &hp->md5_next->w_md5,
                          gw_hashpipe_md5_work);
    }
    if (!hp->aux_busy && hp->aux_next != NULL) {
        hp->aux_busy = 1;
        gw_hashpipe_queue(hp, hp->aux_next, &hp->aux_next->w_aux,
                          gw_hashpipe_aux_work);
    }
}

static void
gw_hashpipe_submit(gw_hashpipe_t *hp)
{
    gw_hseg_t  *s = hp->fill;

    hp->fill = NULL;
    s->hp = hp;
    s->pending = 1 + hp->aux + hp->ck_split;
    *hp->tail = s;
    hp->tail = &s->next;
    if (hp->md5_next == NULL) {
        hp->md5_next = s;
    }
    if (hp->aux && hp->aux_next == NULL) {
        hp->aux_next = s;
    }
    if (hp->ck_split) {
        gw_hashpipe_queue(hp, s, &s->w_crc, gw_hashpipe_crc_work);
    }
    gw_hashpipe_kick(hp);
}

/* Retires the oldest segments whose jobs are all back, in order. */
static void
gw_hashpipe_retire(gw_hashpipe_t *hp)
{
    gw_hseg_t  *s;

    while ((s = hp->head) != NULL && s->pending == 0) {
        switch (hp->ck.alg) {
        case GW_CK_CRC32:
            hp->ck.crc = gw_crc32_combine((uint32_t) hp->ck.crc,
                                          (uint32_t) s->crc, s->len);
            break;
        case GW_CK_CRC32C:
            hp->ck.crc = gw_crc32c_combine((uint32_t) hp->ck.crc,
                                           (uint32_t) s->crc, s->len);
            break;
        case GW_CK_CRC64NVME:
            hp->ck.crc = gw_crc64nvme_combine(hp->ck.crc, s->crc, s->len);
            break;
        default:
            break;
        }
        hp->head = s->next;
        if (hp->head == NULL) {
            hp->tail = &hp->head;
        }
        hp->inflight -= s->len;
        gw_hseg_unref(s);
    }
}

static void
gw_hashpipe_final(gw_hashpipe_t *hp)
{
    unsigned int  n;

    EVP_DigestFinal_ex(hp->md5, hp->md5_out, &n);
    if (hp->sha != NULL) {
        EVP_DigestFinal_ex(hp->sha, hp->sha_out, &n);
    }
    hp->ck_len = gw_cksum_final(&hp->ck, hp->ck_out);
}

static void
gw_hashpipe_release(gw_hashpipe_t *hp)
{
    gw_hseg_t  *s;

    while ((s = hp->head) != NULL) {
        hp->head = s->next;
        gw_hseg_unref(s);
    }
    gw_hseg_unref(hp->fill);
    EVP_MD_CTX_free(hp->md5);
    EVP_MD_CTX_free(hp->sha);
    gw_cksum_free(&hp->ck);
    gw_free(hp);
}

/* After a job: retire, start what can start, then tell the owner. The owner's
 * callback comes last, since it may free hp. */
static void
gw_hashpipe_settle(gw_hashpipe_t *hp)
{
    if (hp->freed) {
        if (hp->jobs == 0) {
            gw_hashpipe_release(hp);
        }
        return;
    }
    gw_hashpipe_retire(hp);
    gw_hashpipe_kick(hp);
    if (hp->finishing) {
        if (hp->head == NULL) {
            hp->finishing = 0;
            gw_hashpipe_final(hp);
            hp->done(hp->dud);
        }
        return;
    }
    if (hp->want_ready && hp->inflight < GW_HASHPIPE_WINDOW
        && hp->wprev == NULL)
    {
        hp->want_ready = 0;
        hp->on_ready(hp->ud);
    }
}

static void
gw_hashpipe_now(gw_hashpipe_t *hp, const void *p, size_t n)
{
    EVP_DigestUpdate(hp->md5, p, n);
    if (hp->sha != NULL) {
        EVP_DigestUpdate(hp->sha, p, n);
    }
    gw_cksum_update(&hp->ck, p, n);
}

/* A new segment to fill, each four times the last up to the full size. */
static void
gw_hashpipe_fill_new(gw_hashpipe_t *hp)
{
    hp->fill = gw_hseg_new(hp->seg_next);
    hp->seg_next = GW_MIN(hp->seg_next * 4, GW_HASHPIPE_SEG);
}

/* Over the limit: hp takes no more bytes until there is room. What it
 * holds must drain without new bytes, or pipes that all wait would hold
 * the room they wait for: its half-filled segment goes to its jobs, and
 * the viewer hears that last, where the last bytes went, is complete
 * (a view of no bytes), so that it writes the view of last it was still
 * growing. */
static void
gw_hashpipe_pause(gw_hashpipe_t *hp, gw_hseg_t *last,
                  gw_hashpipe_view_pt view, void *ud)
{
    gw_hseg_ref(last);      /* a job run in place may retire it at once */
    if (hp->fill != NULL && hp->fill->len > 0) {
        gw_hashpipe_submit(hp);
    }
    if (view != NULL) {
        (void) view(ud, last, NULL, 0);     /* an error shows at next feed */
    }
    gw_hseg_unref(last);
    gw_hashpipe_limit_wait(hp);
    hp->want_ready = 1;
}

int
gw_hashpipe_feed_shared(gw_hashpipe_t *hp, const void *p, size_t n,
                        gw_hashpipe_view_pt view, void *ud)
{
    const unsigned char  *at = p;
    gw_hseg_t            *last = NULL;  /* where the last bytes went */
    size_t                take;
    int                   rc = GW_OK, vrc;
    int                   failed = 0;   /* rc is view's error */

    if (!hp->offloaded) {
        if (hp->inline_only || n <= GW_HASHPIPE_INLINE - hp->inl) {
            gw_hashpipe_now(hp, p, n);
            hp->inl += n;
            return view != NULL ? view(ud, NULL, p, n) : GW_OK;
        }
        hp->offloaded = 1;
    }
    while (n > 0) {
        if (hp->fill == NULL) {
            gw_hashpipe_fill_new(hp);
        }
        take = GW_MIN(n, hp->fill->cap - hp->fill->len);
        memcpy(hp->fill->buf + hp->fill->len, at, take);
        /* Shown before the segment can go to a job, so the viewer's
         * reference is taken while only the loop knows the bytes. */
        if (view != NULL && !failed) {
            vrc = view(ud, hp->fill, (const char *) hp->fill->buf
                                     + hp->fill->len, take);
            if (vrc != GW_OK) {
                rc = vrc;
                failed = vrc != GW_AGAIN;
            }
        }
        hp->fill->len += take;
        hp->inflight += take;
        at += take;
        n -= take;
        last = hp->fill;
        if (hp->fill->len == hp->fill->cap) {
            gw_hashpipe_submit(hp);
        }
    }
    if (failed) {
        return rc;
    }
    if (last != NULL && gw_hashpipe_over()) {
        gw_hashpipe_pause(hp, last, view, ud);
        return GW_AGAIN;
    }
    if (hp->inflight >= GW_HASHPIPE_WINDOW) {
        hp->want_ready = 1;
        return GW_AGAIN;
    }
    return rc;
}

int
gw_hashpipe_feed(gw_hashpipe_t *hp, const void *p, size_t n)
{
    return gw_hashpipe_feed_shared(hp, p, n, NULL, NULL);
}

int
gw_hashpipe_finish(gw_hashpipe_t *hp, void (*done)(void *ud), void *ud)
{
    hp->want_ready = 0;
    gw_hashpipe_limit_leave(hp);
    if (hp->fill != NULL && hp->fill->len > 0) {
        gw_hashpipe_submit(hp);
    }
    if (hp->head == NULL) {
        gw_hashpipe_final(hp);
        return GW_OK;
    }
    hp->finishing = 1;
    hp->done = done;
    hp->dud = ud;
    return GW_DONE;
}

size_t
gw_hashpipe_result(gw_hashpipe_t *hp, unsigned char md5[16],
                   unsigned char sha256[32],
                   unsigned char ck[GW_CKSUM_MAX_LEN])
{
    memcpy(md5, hp->md5_out, 16);
    if (hp->sha != NULL && sha256 != NULL) {
        memcpy(sha256, hp->sha_out, 32);
    }
    memcpy(ck, hp->ck_out, hp->ck_len);
    return hp->ck_len;
}

void
gw_hashpipe_free(gw_hashpipe_t *hp)
{
    if (hp == NULL) {
        return;
    }
    hp->freed = 1;
    gw_hashpipe_limit_leave(hp);
    if (hp->jobs == 0) {
        gw_hashpipe_release(hp);
    }
}
