/* store/pin.c: chunk pins and read marks, shared by every worker process.
 * Owns the shared region (store_shared_t): one table per worker, each with
 * the chunks its requests pin (hash -> count) and its read mark, in memory
 * mapped MAP_SHARED before the workers fork, so that the collector in one
 * worker sees what every other worker reads or writes. A single process
 * has a region of its own with one table: the same code, one path.
 *
 * Why the collector never unlinks a chunk a reader still needs.
 *
 * A chunk reaches the collector's queue (gcq) in the write transaction that
 * drops its last reference; the entry keeps that transaction's LMDB id, D.
 * A reader finds a record in a read transaction and pins its chunks in the
 * same loop turn (store.h), possibly in another process. The reader could
 * have seen the record (and so may pin the chunk) only if its snapshot is
 * older than D. Before it begins a read transaction that may hand out a
 * chunk list, a worker lowers its read mark to the last committed id minus
 * one (store__read_mark: at or below the snapshot it will get, even while a
 * commit is half done), and the mark goes back to "none" only when the loop
 * turn is over (a prepare handle), that is after the pins of that turn. The
 * collector, outside any write transaction, holds every table's lock, then
 * begins a read transaction (which sees D's commit) and takes the lowest
 * mark of all workers: a mark below D is a reader that may not have pinned
 * yet, and the entry waits. Otherwise every reader of an older snapshot has
 * finished its turn, so its pins are in the tables, and the collector checks
 * them and unlinks under the locks (writers pin a chunk before renaming it
 * into place: see chunk.c). The whole argument is at the collector in
 * index.c.
 *
 * Each worker writes only its own table, under a process-shared robust
 * mutex; a worker that dies holding it leaves it to the next locker
 * (EOWNERDEAD), and the master empties a dead worker's table before it
 * starts the next one. A table that is full counts the pins it could not
 * hold; while it has any, every chunk counts as pinned (collection waits,
 * it never goes wrong). */
#include "store/internal.h"
#include "core/log.h"
#include "core/shm.h"

#include <errno.h>
#include <stdatomic.h>

/* Entries per worker: pins of chunks being read or written. Load is kept at
 * three quarters; more pins than that overflow (see above). */
#define STORE_PIN_CAP      8192
#define STORE_PIN_MAXUSE   (STORE_PIN_CAP / 4 * 3)
#define STORE_MARK_NONE    UINT64_MAX

typedef struct {
    unsigned char   sha[32];
    uint32_t        count;          /* 0: an empty slot */
} store_pin_ent_t;

typedef struct {
    pthread_mutex_t     lock;
    _Atomic uint64_t    read_mark;
    uint32_t            used;
    uint32_t            overflow;   /* pins that did not fit */
    store_pin_ent_t     ent[STORE_PIN_CAP];
} store_pin_table_t;

struct store_shared_s {
    size_t              nworkers;
    size_t              size;       /* of the mapping */
    store_pin_table_t   t[];
};

store_shared_t *
store_shared_create(size_t nworkers)
{
    store_shared_t  *sh;
    size_t           size, i;
    int              rc;

    size = sizeof(*sh) + nworkers * sizeof(store_pin_table_t);
    sh = gw_shm_map(size);
    if (sh == NULL) {
        return NULL;
    }
    sh->nworkers = nworkers;
    sh->size = size;
    for (i = 0; i < nworkers; i++) {
        rc = gw_shm_mutex_init(&sh->t[i].lock);
        if (rc != GW_OK) {
            gw_shm_unmap(sh, size);
            errno = -rc;
            return NULL;
        }
        atomic_store(&sh->t[i].read_mark, STORE_MARK_NONE);
    }
    return sh;
}

void
store_shared_free(store_shared_t *sh)
{
    if (sh != NULL) {
        gw_shm_unmap(sh, sh->size);
    }
}

size_t
store_shared_nworkers(const store_shared_t *sh)
{
    return sh->nworkers;
}

static void
store_table_lock(store_pin_table_t *t)
{
    /* Its owner may have died holding it (GW_SHM_OWNERDEAD): nothing to
     * repair, the table is emptied before a new one starts; until then its
     * pins only keep chunks longer. */
    (void) gw_shm_lock(&t->lock);
}

void
store_shared_clear(store_shared_t *sh, size_t worker)
{
    store_pin_table_t  *t = &sh->t[worker];

    store_table_lock(t);
    memset(t->ent, 0, sizeof(t->ent));
    t->used = t->overflow = 0;
    atomic_store(&t->read_mark, STORE_MARK_NONE);
    pthread_mutex_unlock(&t->lock);
}

/* ==== one table: open addressing, linear probing ==== */

static size_t
store_pin_home(const unsigned char sha[32])
{
    uint64_t  h;

    memcpy(&h, sha, sizeof(h));     /* a SHA-256: already uniform */
    return (size_t) (h & (STORE_PIN_CAP - 1));
}

/* The slot of sha, or of the empty slot that ends its probe. */
static size_t
store_pin_find(const store_pin_table_t *t, const unsigned char sha[32])
{
    size_t  i = store_pin_home(sha);

    while (t->ent[i].count != 0 && memcmp(t->ent[i].sha, sha, 32) != 0) {
        i = (i + 1) & (STORE_PIN_CAP - 1);
    }
    return i;
}

static void
store_table_pin(store_pin_table_t *t, const unsigned char sha[32])
{
    size_t  i = store_pin_find(t, sha);

    if (t->ent[i].count != 0) {
        t->ent[i].count++;
    } else if (t->used >= STORE_PIN_MAXUSE) {
        t->overflow++;
    } else {
        memcpy(t->ent[i].sha, sha, 32);
        t->ent[i].count = 1;
        t->used++;
    }
}

/* Removes slot i, moving later entries of its probe run back into the hole
 * (no tombstones: the table never degrades). */
static void
store_table_remove(store_pin_table_t *t, size_t i)
{
    size_t  j = i, home;

    for (;;) {
        t->ent[i].count = 0;
        for (;;) {
            j = (j + 1) & (STORE_PIN_CAP - 1);
            if (t->ent[j].count == 0) {
                t->used--;
                return;
            }
            home = store_pin_home(t->ent[j].sha);
            /* j may move to i unless its home lies cyclically in (i, j]. */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
                break;
            }
        }
        t->ent[i] = t->ent[j];
        i = j;
    }
}

static void
store_table_unpin(store_pin_table_t *t, const unsigned char sha[32])
{
    size_t  i = store_pin_find(t, sha);

    if (t->ent[i].count == 0) {
        if (t->overflow > 0) {
            t->overflow--;          /* it was one that did not fit */
        }
    } else if (--t->ent[i].count == 0) {
        store_table_remove(t, i);
    }
}

static int
store_table_pinned(const store_pin_table_t *t, const unsigned char sha[32])
{
    return t->overflow > 0 || t->ent[store_pin_find(t, sha)].count != 0;
}

/* ==== the store's side ==== */

int
store__pins_init(store_t *st, store_shared_t *sh, size_t worker)
{
    if (sh == NULL) {
        sh = store_shared_create(1);
        if (sh == NULL) {
            return -errno;
        }
        st->shared_own = 1;
        worker = 0;
    }
    st->shared = sh;
    st->worker = worker;
    return GW_OK;
}

void
store__pins_free(store_t *st)
{
    if (st->shared_own) {
        store_shared_free(st->shared);
    }
    st->shared = NULL;
}

void
store_pin(store_t *st, const store_chunk_ref_t *c, size_t n)
{
    store_pin_table_t  *t = &st->shared->t[st->worker];
    size_t              i;

    store_table_lock(t);
    for (i = 0; i < n; i++) {
        store_table_pin(t, c[i].sha);
    }
    pthread_mutex_unlock(&t->lock);
}

void
store_unpin(store_t *st, const store_chunk_ref_t *c, size_t n)
{
    store_pin_table_t  *t = &st->shared->t[st->worker];
    size_t              i;

    store_table_lock(t);
    for (i = 0; i < n; i++) {
        store_table_unpin(t, c[i].sha);
    }
    pthread_mutex_unlock(&t->lock);
}

void
store__pins_lock_all(store_t *st)
{
    size_t  i;

    /* Always in index order; a pinner only ever holds its own. */
    for (i = 0; i < st->shared->nworkers; i++) {
        store_table_lock(&st->shared->t[i]);
    }
}

void
store__pins_unlock_all(store_t *st)
{
    size_t  i;

    for (i = st->shared->nworkers; i-- > 0;) {
        pthread_mutex_unlock(&st->shared->t[i].lock);
    }
}

int
store__pinned(store_t *st, const unsigned char sha[32])
{
    size_t  i;

    for (i = 0; i < st->shared->nworkers; i++) {
        if (store_table_pinned(&st->shared->t[i], sha)) {
            return 1;
        }
    }
    return 0;
}

/* ==== read marks ==== */

void
store__read_mark(store_t *st)
{
    store_pin_table_t  *t = &st->shared->t[st->worker];
    MDB_envinfo         info;
    uint64_t            m;

    if (mdb_env_info(st->env, &info) != 0) {
        m = 0;                      /* unknown: the lowest there is */
    } else {
        /* The meta page may already show a commit whose readers still get
         * the one before: one lower is at or below any snapshot to come. */
        m = info.me_last_txnid > 0 ? (uint64_t) info.me_last_txnid - 1 : 0;
    }
    if (m < atomic_load(&t->read_mark)) {
        atomic_store(&t->read_mark, m);
    }
}

static void
store_turn_end(uv_prepare_t *p)
{
    store_t  *st = p->data;

    atomic_store(&st->shared->t[st->worker].read_mark, STORE_MARK_NONE);
}

uint64_t
store__read_mark_min(store_t *st)
{
    uint64_t  m = STORE_MARK_NONE, x;
    size_t    i;

    for (i = 0; i < st->shared->nworkers; i++) {
        x = atomic_load(&st->shared->t[i].read_mark);
        m = GW_MIN(m, x);
    }
    return m;
}

void
store__turn_start(store_t *st)
{
    uv_prepare_init(st->loop, &st->turn);
    st->turn.data = st;
    uv_prepare_start(&st->turn, store_turn_end);
    uv_unref((uv_handle_t *) &st->turn);
}

/* Test hook (test/unit): pins of a table, its overflow. */
size_t
store__pins_count(store_t *st, size_t worker, uint32_t *overflow)
{
    store_pin_table_t  *t = &st->shared->t[worker];

    *overflow = t->overflow;
    return t->used;
}
