/* core/metrics.c: per-worker counter slots in a shared mapping, summed and
 * rendered in the Prometheus text format at scrape time. */
#include "core/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/mman.h>

#define GW_METRICS_OPS_MAX      192    /* route actions, and "other" */
#define GW_METRICS_WORKERS_MAX  64     /* worker_processes' bound */
#define GW_METRICS_CLASSES      5      /* 1xx .. 5xx */

/* Request latency buckets, upper bounds in ns and as the le label says them:
 * 0.5 ms (a HEAD from the page cache) to 10 s (a big object on a slow
 * client); slower ones fall in +Inf. */
static const uint64_t  gw_lat_ns[] = {
    500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
    100000000, 250000000, 500000000, 1000000000, 2500000000ULL,
    5000000000ULL, 10000000000ULL
};
static const char     *gw_lat_le[] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "0.5", "1", "2.5", "5", "10"
};
#define GW_LAT_N  GW_NELEMS(gw_lat_ns)

/* Group-commit sizes (ops per batch): powers of two up to 1024. */
static const char     *gw_batch_le[] = {
    "1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024"
};
#define GW_BATCH_N  GW_NELEMS(gw_batch_le)

static const char     *gw_class_names[GW_METRICS_CLASSES] = {
    "1xx", "2xx", "3xx", "4xx", "5xx"
};

/* One worker's counters. Bucket counts are per bucket (not cumulative):
 * one add per observation; the scrape makes them cumulative. */
typedef struct gw_metrics_slot_s {
    uint64_t  requests[GW_METRICS_OPS_MAX][GW_METRICS_CLASSES];
    uint64_t  lat[GW_METRICS_OPS_MAX][GW_LAT_N + 1];
    uint64_t  lat_sum_ns[GW_METRICS_OPS_MAX];
    uint64_t  received, sent;
    uint64_t  conns;              /* opened minus closed, wrapping */
    uint64_t  gc_collected;
    uint64_t  lc_due;             /* a gauge: set by its worker */
    uint64_t  batch[GW_BATCH_N + 1];
    uint64_t  batch_sum;
    uint64_t  sendfile[2];        /* bytes: [0] pool, [1] loop */
    uint64_t  upload_memory;      /* a gauge: set by its worker */
    uint64_t  upload_waits;
} gw_metrics_slot_t;

/* Op names, sorted (for bsearch) and unique; index 0 is "other". The
 * table is process memory filled before the fork, so every worker has the
 * same indexes. */
static const char         *gw_ops[GW_METRICS_OPS_MAX] = { GW_METRICS_OP_OTHER };
static size_t              gw_nops = 1;
static gw_metrics_slot_t  *gw_slots;     /* NULL: not counting */
static unsigned            gw_nslots;
static gw_metrics_slot_t  *gw_mine;

#define GW_ADD(field, v)  __atomic_fetch_add(&(field), (v), __ATOMIC_RELAXED)
#define GW_LOAD(field)    __atomic_load_n(&(field), __ATOMIC_RELAXED)

void
gw_metrics_op_add(const char *name)
{
    size_t  i, at;
    int     c;

    for (at = 1; at < gw_nops; at++) {
        c = strcmp(name, gw_ops[at]);
        if (c == 0) {
            return;
        }
        if (c < 0) {
            break;
        }
    }
    if (gw_nops == GW_METRICS_OPS_MAX || strcmp(name, gw_ops[0]) == 0) {
        return;                 /* counted as "other" */
    }
    for (i = gw_nops; i > at; i--) {
        gw_ops[i] = gw_ops[i - 1];
    }
    gw_ops[at] = name;
    gw_nops++;
}

/* The index of op among gw_ops[1..]: 0 ("other") when it is not there. */
static size_t
gw_metrics_op_index(const char *op)
{
    size_t  lo = 1, hi = gw_nops, mid;
    int     c;

    if (op == NULL) {
        return 0;
    }
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = strcmp(op, gw_ops[mid]);
        if (c == 0) {
            return mid;
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return 0;
}

int
gw_metrics_init(unsigned nworkers)
{
    void  *p;

    if (nworkers < 1 || nworkers > GW_METRICS_WORKERS_MAX) {
        return GW_EINVAL;
    }
    /* Anonymous and shared: forked workers write the same pages, and the
     * kernel gives them zeroed. */
    p = mmap(NULL, sizeof(gw_metrics_slot_t) * nworkers,
             PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return -errno;
    }
    gw_slots = p;
    gw_nslots = nworkers;
    gw_mine = &gw_slots[0];
    return GW_OK;
}

void
gw_metrics_set_worker(unsigned index)
{
    if (gw_slots != NULL && index < gw_nslots) {
        gw_mine = &gw_slots[index];
    }
}

void
gw_metrics_worker_gone(unsigned index)
{
    if (gw_slots != NULL && index < gw_nslots) {
        __atomic_store_n(&gw_slots[index].conns, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&gw_slots[index].lc_due, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&gw_slots[index].upload_memory, 0,
                         __ATOMIC_RELAXED);
    }
}

void
gw_metrics_request(const char *op, int status, uint64_t received,
                   uint64_t sent, uint64_t ns)
{
    size_t  i, b;
    int     cls;

    if (gw_mine == NULL) {
        return;
    }
    i = gw_metrics_op_index(op);
    cls = status / 100 - 1;
    cls = cls < 0 ? 0 : cls >= GW_METRICS_CLASSES ? GW_METRICS_CLASSES - 1
                                                   : cls;
    for (b = 0; b < GW_LAT_N && ns > gw_lat_ns[b]; b++) {
        /* the first bucket that holds ns */
    }
    GW_ADD(gw_mine->requests[i][cls], 1);
    GW_ADD(gw_mine->lat[i][b], 1);
    GW_ADD(gw_mine->lat_sum_ns[i], ns);
    GW_ADD(gw_mine->received, received);
    GW_ADD(gw_mine->sent, sent);
}

void
gw_metrics_conn(int delta)
{
    if (gw_mine != NULL) {
        GW_ADD(gw_mine->conns, (uint64_t) (int64_t) delta);
    }
}

void
gw_metrics_gc_collected(uint64_t n)
{
    if (gw_mine != NULL) {
        GW_ADD(gw_mine->gc_collected, n);
    }
}

void
gw_metrics_upload_memory(uint64_t bytes)
{
    if (gw_mine != NULL) {
        __atomic_store_n(&gw_mine->upload_memory, bytes, __ATOMIC_RELAXED);
    }
}

void
gw_metrics_upload_memory_wait(void)
{
    if (gw_mine != NULL) {
        GW_ADD(gw_mine->upload_waits, 1);
    }
}

void
gw_metrics_lc_due(uint64_t n)
{
    if (gw_mine != NULL) {
        __atomic_store_n(&gw_mine->lc_due, n, __ATOMIC_RELAXED);
    }
}

void
gw_metrics_batch(uint64_t n)
{
    size_t  b;

    if (gw_mine == NULL) {
        return;
    }
    for (b = 0; b < GW_BATCH_N && n > (1ULL << b); b++) {
        /* the first power of two >= n */
    }
    GW_ADD(gw_mine->batch[b], 1);
    GW_ADD(gw_mine->batch_sum, n);
}

void
gw_metrics_sendfile(int on_loop, uint64_t bytes)
{
    if (gw_mine != NULL) {
        GW_ADD(gw_mine->sendfile[on_loop != 0], bytes);
    }
}

/* ==== rendering ==== */

static void
gw_metrics_head(gw_sb_t *out, const char *name, const char *type,
                const char *help)
{
    gw_sb_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample without labels, with its # HELP and # TYPE. */
static void
gw_metrics_u64(gw_sb_t *out, const char *name, const char *type,
               const char *help, uint64_t value)
{
    gw_metrics_head(out, name, type, help);
    gw_sb_printf(out, "%s %" PRIu64 "\n", name, value);
}

void
gw_metrics_gauge(gw_sb_t *out, const char *name, const char *help,
                 double value)
{
    gw_metrics_head(out, name, "gauge", help);
    gw_sb_printf(out, "%s %.17g\n", name, value);
}

/* Every slot summed into *t. Reads race with adds; each figure is one
 * atomic load, so a scrape sees each counter whole, if not all of them at
 * the same instant (as with any Prometheus client). */
static void
gw_metrics_sum(gw_metrics_slot_t *t)
{
    const gw_metrics_slot_t  *s;
    unsigned                  w;
    size_t                    i, k;

    memset(t, 0, sizeof(*t));
    for (w = 0; w < gw_nslots; w++) {
        s = &gw_slots[w];
        for (i = 0; i < gw_nops; i++) {
            for (k = 0; k < GW_METRICS_CLASSES; k++) {
                t->requests[i][k] += GW_LOAD(s->requests[i][k]);
            }
            for (k = 0; k <= GW_LAT_N; k++) {
                t->lat[i][k] += GW_LOAD(s->lat[i][k]);
            }
            t->lat_sum_ns[i] += GW_LOAD(s->lat_sum_ns[i]);
        }
        t->received += GW_LOAD(s->received);
        t->sent += GW_LOAD(s->sent);
        t->conns += GW_LOAD(s->conns);
        t->gc_collected += GW_LOAD(s->gc_collected);
        t->lc_due += GW_LOAD(s->lc_due);
        for (k = 0; k <= GW_BATCH_N; k++) {
            t->batch[k] += GW_LOAD(s->batch[k]);
        }
        t->batch_sum += GW_LOAD(s->batch_sum);
        t->sendfile[0] += GW_LOAD(s->sendfile[0]);
        t->sendfile[1] += GW_LOAD(s->sendfile[1]);
        t->upload_memory += GW_LOAD(s->upload_memory);
        t->upload_waits += GW_LOAD(s->upload_waits);
    }
}

/* Requests and latency: a series only for the operations (and classes)
 * that have had a request, so a scrape is not hundreds of zeros. */
static void
gw_metrics_render_requests(gw_sb_t *out, const gw_metrics_slot_t *t)
{
    uint64_t  n, cum;
    size_t    i, k;

    gw_metrics_head(out, "s3gw_requests_total", "counter",
                    "S3 requests by operation and status class.");
    for (i = 0; i < gw_nops; i++) {
        for (k = 0; k < GW_METRICS_CLASSES; k++) {
            if ((n = t->requests[i][k]) != 0) {
                gw_sb_printf(out, "s3gw_requests_total{op=\"%s\",status="
                             "\"%s\"} %" PRIu64 "\n", gw_ops[i],
                             gw_class_names[k], n);
            }
        }
    }
    gw_metrics_head(out, "s3gw_request_duration_seconds", "histogram",
                    "S3 request time, from the request head to the last "
                    "byte of the response, by operation.");
    for (i = 0; i < gw_nops; i++) {
        for (k = 0, cum = 0; k <= GW_LAT_N; k++) {
            cum += t->lat[i][k];
        }
        if (cum == 0) {
            continue;
        }
        for (k = 0, cum = 0; k <= GW_LAT_N; k++) {
            cum += t->lat[i][k];
            gw_sb_printf(out, "s3gw_request_duration_seconds_bucket{op=\"%s\","
                         "le=\"%s\"} %" PRIu64 "\n", gw_ops[i],
                         k < GW_LAT_N ? gw_lat_le[k] : "+Inf", cum);
        }
        gw_sb_printf(out, "s3gw_request_duration_seconds_sum{op=\"%s\"} "
                     "%.9f\n", gw_ops[i], (double) t->lat_sum_ns[i] / 1e9);
        gw_sb_printf(out, "s3gw_request_duration_seconds_count{op=\"%s\"} "
                     "%" PRIu64 "\n", gw_ops[i], cum);
    }
}

void
gw_metrics_render(gw_sb_t *out)
{
    gw_metrics_slot_t  *t;
    uint64_t            cum;
    size_t              k;

    if (gw_slots == NULL) {
        return;
    }
    t = gw_alloc(sizeof(*t));
    gw_metrics_sum(t);
    gw_metrics_render_requests(out, t);
    gw_metrics_u64(out, "s3gw_received_bytes_total", "counter",
                   "Request body bytes read from S3 clients.",
                   t->received);
    gw_metrics_u64(out, "s3gw_sent_bytes_total", "counter",
                   "Response body bytes written to S3 clients.",
                   t->sent);
    gw_metrics_head(out, "s3gw_open_connections", "gauge",
                    "S3 client connections open now.");
    gw_sb_printf(out, "s3gw_open_connections %" PRId64 "\n",
                 (int64_t) t->conns);
    gw_metrics_u64(out, "s3gw_gc_collected_chunks_total", "counter",
                   "Chunk files the collector deleted.",
                   t->gc_collected);
    gw_metrics_u64(out, "s3gw_lifecycle_due", "gauge",
                   "Expirations and multipart upload aborts the lifecycle "
                   "worker has found due and not yet carried out.",
                   t->lc_due);
    gw_metrics_head(out, "s3gw_sendfile_bytes_total", "counter",
                    "Response body bytes sent with sendfile, by the thread "
                    "that sent them: the event loop (pages in the page "
                    "cache) or a pool thread.");
    gw_sb_printf(out, "s3gw_sendfile_bytes_total{thread=\"loop\"} %" PRIu64
                 "\ns3gw_sendfile_bytes_total{thread=\"pool\"} %" PRIu64
                 "\n", t->sendfile[1], t->sendfile[0]);
    gw_metrics_u64(out, "s3gw_upload_memory_bytes", "gauge",
                   "Request body bytes held in memory while they are "
                   "hashed and written (upload_memory bounds them per "
                   "worker).",
                   t->upload_memory);
    gw_metrics_u64(out, "s3gw_upload_memory_waits_total", "counter",
                   "Times an upload stopped reading its connection because "
                   "its worker held upload_memory bytes of bodies.",
                   t->upload_waits);
    gw_metrics_head(out, "s3gw_commit_batch_ops", "histogram",
                    "Index operations per group commit.");
    for (k = 0, cum = 0; k <= GW_BATCH_N; k++) {
        cum += t->batch[k];
        gw_sb_printf(out, "s3gw_commit_batch_ops_bucket{le=\"%s\"} %" PRIu64
                     "\n", k < GW_BATCH_N ? gw_batch_le[k] : "+Inf", cum);
    }
    gw_sb_printf(out, "s3gw_commit_batch_ops_sum %" PRIu64 "\n"
                 "s3gw_commit_batch_ops_count %" PRIu64 "\n", t->batch_sum,
                 cum);
    gw_free(t);
}
