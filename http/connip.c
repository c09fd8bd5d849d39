/* http/connip.c: connections per client address, shared by every worker
 * (see connip.h).
 *
 * The table is open addressing with linear probing; an entry is in use
 * while its total (the sum of its per-worker counts) is not 0, and a
 * removed entry is zeroed whole and the entries after it in its probe run
 * move back into the hole (no tombstones: the table never degrades).
 *
 * Why dropping a dead worker's counts is the master's job, at reap: the
 * counts are wrong from the moment the process died (the kernel closed its
 * sockets), and a worker that dies right after it started is replaced only
 * after a pause of up to seconds; a replacement that dropped them at its
 * start would keep the address refused all that while. The master learns
 * of the death first, and it writes no other column, so it cannot race
 * with the counts it drops.
 *
 * A worker killed while it holds the lock leaves the next locker
 * EOWNERDEAD and perhaps an update half done: a count not yet added to its
 * total, or an entry moved back but not yet cleared at its old slot (the
 * same address twice, with the same counts). The locker then rebuilds the
 * table from the per-worker counts, merging twins by the larger count, so
 * the table is whole again before anyone reads it. */
#include "http/connip.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/shm.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <uv.h>

/* The most entries a table gets, whatever max_connections x workers says:
 * 262144 addresses of 2 workers are 8 MiB of mapping (touched only where
 * entries land). Load is kept at three quarters. */
#define HTTP_CONNIP_CAP_MIN   64
#define HTTP_CONNIP_CAP_MAX   (256 * 1024)
#define HTTP_CONNIP_WORKERS   64

typedef struct {
    unsigned char   ip[16];
    uint64_t        refused;        /* since ip last had none open */
    uint32_t        total;          /* the sum of n[]; 0: an empty slot */
    uint32_t        n[];            /* open, per worker */
} http_connip_ent_t;

struct http_connip_s {
    pthread_mutex_t     lock;       /* first: test/unit takes it as a
                                     * dying worker would */
    size_t              size;       /* of the mapping */
    size_t              nworkers;
    size_t              cap;        /* entries, a power of 2 */
    size_t              maxuse;
    size_t              stride;     /* bytes per entry */
    uint64_t            seed;       /* so no client can choose colliding
                                     * addresses */
    size_t              used;
    int                 full_said;  /* "full" logged in this episode */
    unsigned char      *ent;        /* inside the mapping, after this */
};

static http_connip_ent_t *
http_connip_at(http_connip_t *t, size_t i)
{
    return (http_connip_ent_t *) (void *) (t->ent + i * t->stride);
}

http_connip_t *
http_connip_create(size_t nworkers, size_t max_conns)
{
    http_connip_t  *t;
    size_t          cap = HTTP_CONNIP_CAP_MIN, want, head, stride, size;
    void           *p;
    int             rc;

    if (nworkers < 1 || nworkers > HTTP_CONNIP_WORKERS) {
        errno = EINVAL;
        return NULL;
    }
    /* Every connection of every worker from an address of its own, at
     * most three quarters full. */
    want = max_conns * nworkers / 3 * 4 + 4;
    while (cap < want && cap < HTTP_CONNIP_CAP_MAX) {
        cap <<= 1;
    }
    stride = offsetof(http_connip_ent_t, n) + nworkers * sizeof(uint32_t);
    stride = (stride + 7) & ~(size_t) 7;
    head = (sizeof(*t) + 63) & ~(size_t) 63;
    size = head + cap * stride;
    p = gw_shm_map(size);
    if (p == NULL) {
        return NULL;
    }
    t = p;
    t->size = size;
    t->nworkers = nworkers;
    t->cap = cap;
    t->maxuse = cap / 4 * 3;
    t->stride = stride;
    t->ent = (unsigned char *) p + head;
    gw_random_bytes(&t->seed, sizeof(t->seed));
    rc = gw_shm_mutex_init(&t->lock);
    if (rc != GW_OK) {
        gw_shm_unmap(p, size);
        errno = -rc;
        return NULL;
    }
    return t;
}

void
http_connip_free(http_connip_t *t)
{
    if (t != NULL) {
        gw_shm_unmap(t, t->size);
    }
}

/* ==== the table: open addressing, linear probing ==== */

static size_t
http_connip_home(const http_connip_t *t, const unsigned char ip[16])
{
    uint64_t  w[2], h = t->seed;
    int       i;

    memcpy(w, ip, 16);
    for (i = 0; i < 2; i++) {
        h = (h ^ w[i]) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
    }
    return (size_t) h & (t->cap - 1);
}

/* The slot of ip, or of the empty slot that ends its probe. */
static size_t
http_connip_find(http_connip_t *t, const unsigned char ip[16])
{
    size_t  i = http_connip_home(t, ip);

    while (http_connip_at(t, i)->total != 0
           && memcmp(http_connip_at(t, i)->ip, ip, 16) != 0)
    {
        i = (i + 1) & (t->cap - 1);
    }
    return i;
}

/* Empties slot i, moving later entries of its probe run back into it. */
static void
http_connip_delete(http_connip_t *t, size_t i)
{
    size_t  j = i, home;

    for (;;) {
        memset(http_connip_at(t, i), 0, t->stride);
        for (;;) {
            j = (j + 1) & (t->cap - 1);
            if (http_connip_at(t, j)->total == 0) {
                t->used--;
                return;
            }
            home = http_connip_home(t, http_connip_at(t, j)->ip);
            /* j may move to i unless its home lies cyclically in (i, j]. */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
                break;
            }
        }
        memcpy(http_connip_at(t, i), http_connip_at(t, j), t->stride);
        i = j;
    }
}

static void
http_connip_name(const unsigned char ip[16], char *out, size_t len)
{
    if (memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        uv_inet_ntop(AF_INET, ip + 12, out, len);
    } else {
        uv_inet_ntop(AF_INET6, ip, out, len);
    }
}

/* Rebuilds the table from the per-worker counts (a worker died holding
 * the lock). Twins (a move cut short) merge by the larger count. */
static void
http_connip_rebuild(http_connip_t *t)
{
    http_connip_ent_t  *o, *e;
    unsigned char      *old = gw_alloc(t->cap * t->stride);
    size_t              i, k, slot;
    uint32_t            total;

    memcpy(old, t->ent, t->cap * t->stride);
    memset(t->ent, 0, t->cap * t->stride);
    t->used = 0;
    for (i = 0; i < t->cap; i++) {
        o = (http_connip_ent_t *) (void *) (old + i * t->stride);
        for (k = 0, total = 0; k < t->nworkers; k++) {
            total += o->n[k];
        }
        if (total == 0) {
            continue;
        }
        slot = http_connip_find(t, o->ip);
        e = http_connip_at(t, slot);
        if (e->total == 0) {
            memcpy(e, o, t->stride);
            e->total = 0;
            t->used++;
        }
        for (k = 0, e->total = 0; k < t->nworkers; k++) {
            e->n[k] = GW_MAX(e->n[k], o->n[k]);
            e->total += e->n[k];
        }
        e->refused = GW_MAX(e->refused, o->refused);
    }
    gw_free(old);
}

static void
http_connip_lock(http_connip_t *t)
{
    if (gw_shm_lock(&t->lock) == GW_SHM_OWNERDEAD) {
        gw_log(GW_LOG_WARN, NULL, 0, "limit_conn_per_ip: a worker died "
               "holding the table; rebuilding it");
        http_connip_rebuild(t);
    }
}

/* ==== the workers' side ==== */

int
http_connip_add(http_connip_t *t, size_t worker, const unsigned char ip[16],
                size_t limit, size_t grace, const char *peer)
{
    http_connip_ent_t  *e;
    size_t              open;
    int                 rc, warn = 0, full = 0;

    http_connip_lock(t);
    e = http_connip_at(t, http_connip_find(t, ip));
    if (e->total == 0) {
        if (t->used >= t->maxuse) {
            full = !t->full_said;
            t->full_said = 1;
            rc = HTTP_CONNIP_UNCOUNTED;
            goto done;
        }
        memcpy(e->ip, ip, 16);
        t->used++;
    }
    open = e->total;
    if (open < limit) {
        rc = HTTP_CONNIP_SERVE;
    } else {
        warn = e->refused++ == 0;
        rc = open >= limit + grace ? HTTP_CONNIP_CLOSE : HTTP_CONNIP_SLOWDOWN;
    }
    if (rc != HTTP_CONNIP_CLOSE) {
        e->n[worker]++;
        e->total++;
    }

done:
    pthread_mutex_unlock(&t->lock);
    if (warn) {
        gw_log(GW_LOG_WARN, peer, 0, "%zu connections open: "
               "limit_conn_per_ip reached, refusing more", open);
    }
    if (full) {
        gw_log(GW_LOG_WARN, peer, 0, "limit_conn_per_ip: the table of "
               "%zu addresses is full; new addresses are not limited until "
               "it empties", t->maxuse);
    }
    return rc;
}

void
http_connip_remove(http_connip_t *t, size_t worker, const unsigned char ip[16],
                   const char *peer)
{
    http_connip_ent_t  *e;
    size_t              i;
    uint64_t            refused = 0;

    http_connip_lock(t);
    i = http_connip_find(t, ip);
    e = http_connip_at(t, i);
    /* Not there, or not of this worker: its counts were dropped as those of
     * a dead worker (this process is the one that replaced it). */
    if (e->total != 0 && e->n[worker] > 0) {
        e->n[worker]--;
        if (--e->total == 0) {
            refused = e->refused;
            http_connip_delete(t, i);
            if (t->used < t->maxuse / 2) {
                t->full_said = 0;
            }
        }
    }
    pthread_mutex_unlock(&t->lock);
    if (refused > 0) {
        gw_log(GW_LOG_NOTICE, peer, 0, "no connections left open; %llu "
               "were refused over limit_conn_per_ip",
               (unsigned long long) refused);
    }
}

/* ==== the master's side ==== */

void
http_connip_worker_gone(http_connip_t *t, size_t worker)
{
    http_connip_ent_t  *e;
    size_t              i = 0;
    char                name[48];

    if (worker >= t->nworkers) {
        return;
    }
    http_connip_lock(t);
    /* In place: a delete moves later entries back into slot i, which is
     * looked at again; an entry that wraps round from the start was seen
     * already and is seen once more, which changes nothing. */
    while (i < t->cap) {
        e = http_connip_at(t, i);
        if (e->total == 0 || e->n[worker] == 0) {
            i++;
            continue;
        }
        e->total -= e->n[worker];
        e->n[worker] = 0;
        if (e->total != 0) {
            i++;
            continue;
        }
        if (e->refused > 0) {
            http_connip_name(e->ip, name, sizeof(name));
            gw_log(GW_LOG_NOTICE, name, 0, "no connections left open (a "
                   "worker died); %llu were refused over limit_conn_per_ip",
                   (unsigned long long) e->refused);
        }
        http_connip_delete(t, i);
    }
    if (t->used < t->maxuse / 2) {
        t->full_said = 0;
    }
    pthread_mutex_unlock(&t->lock);
}

size_t
http_connip_count(http_connip_t *t, const unsigned char ip[16])
{
    size_t  n;

    http_connip_lock(t);
    n = http_connip_at(t, http_connip_find(t, ip))->total;
    pthread_mutex_unlock(&t->lock);
    return n;
}
