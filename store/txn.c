/* store/txn.c: the write path every index change takes, below the bucket,
 * object and upload code that builds the changes: the commit batcher (ops
 * applied in one syncing LMDB transaction on the thread pool), room for it
 * (the LMDB map and the disk) and chunk reference counts (pins are
 * pin.c's). The
 * object-record commit that every write of a key shares is version.c's. */
#include "store/internal.h"
#include "core/log.h"
#include "core/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define STORE_MIB           ((size_t) 1 << 20)
#define STORE_MAP_INITIAL   (64 * STORE_MIB)
#define STORE_RESERVE       (8 * STORE_MIB)

int
store__mdb_rc(int rc)
{
    return rc == MDB_NOTFOUND ? GW_ENOTFOUND
           : rc == MDB_KEYEXIST ? GW_EEXIST
           : rc > 0 ? -rc : rc;
}

int
store__nospace(int rc)
{
    return rc == ENOSPC || rc == -ENOSPC || rc == EDQUOT || rc == -EDQUOT;
}

/* ==== room: the map and the disk ====
 *
 * The map. LMDB maps the index into memory at a fixed size and fails a
 * transaction that needs more (MDB_MAP_FULL). The map starts small and
 * grows, doubling, up to index_max_size: the batch that hit the end is
 * rolled back whole, the map grows between two batches, when no
 * transaction of this process is open (mdb_env_set_mapsize's rule; an
 * iterator's read transaction defers it), and the batch runs again. The
 * last sixteenth of index_max_size only ever grows for batches of ops that
 * free, so that deletes commit in an index that is full for writes. At the
 * end, the ops of a batch that does not fit run again one by one, so that
 * the ones that fit still commit; the others fail with MDB_MAP_FULL.
 *
 * The disk. LMDB needs free pages to commit even a delete, and on a full
 * disk the file cannot grow (ENOSPC at the commit), so a full disk would
 * refuse the very deletes that could free it. <data_dir>/reserve holds
 * STORE_RESERVE bytes of allocated space for that. When a batch fails for
 * want of disk, its writes that add fail, and its ops that free run again
 * alone; if those fail too and one of them is a delete a client asked for,
 * the reserve is deleted and they run once more. (The collector's own ops
 * never spend the reserve: they wait for a delete to make room.) Once the
 * disk was found full (there, or writing a chunk), writes that add are
 * refused (UV_ENOSPC) before they use anything, until the collector's tick
 * finds space again: twice STORE_RESERVE free to re-create the reserve,
 * and STORE_RESERVE free beside it. */

/* 1 when less than STORE_RESERVE is left on the disk of the data dir. */
static int
store_disk_nearly_full(store_t *st)
{
    struct statvfs  fs;

    return statvfs(st->dir, &fs) == 0
           && (uint64_t) fs.f_bavail * fs.f_frsize < STORE_RESERVE;
}

size_t
store__map_initial(const gw_conf_t *cf)
{
    size_t  m = GW_MIN(STORE_MAP_INITIAL, (size_t) cf->index_max_size / 8);

    return GW_MAX(m & ~(STORE_MIB - 1), STORE_MIB);
}

/* The next map size on the way to limit. */
static size_t
store_map_next(store_t *st, size_t limit)
{
    size_t  m = st->map_size * 2;

    m = (m + STORE_MIB - 1) & ~(STORE_MIB - 1);
    return GW_MIN(m, limit);
}

/* Loop, between batches, no transaction open. */
static void
store_map_resize(store_t *st, size_t size)
{
    int  rc = mdb_env_set_mapsize(st->env, size);

    if (rc != 0) {
        /* Growing stops here: the ops that need more fail as at the cap. */
        gw_log(GW_LOG_ERR, NULL, store__mdb_rc(rc), "cannot grow the index "
               "map from %zu to %zu MiB", st->map_size / STORE_MIB,
               size / STORE_MIB);
        st->map_cap = st->map_size;
        st->map_margin = 0;
        return;
    }
    gw_log(GW_LOG_INFO, NULL, 0, "index map grown from %zu to %zu MiB",
           st->map_size / STORE_MIB, size / STORE_MIB);
    st->map_size = size;
}

/* Loop, no transaction of this process open: the map size another worker
 * set (MDB_MAP_RESIZED). */
static int
store_map_adopt(store_t *st)
{
    MDB_envinfo  info;
    int          rc;

    st->map_adopt = 0;
    rc = mdb_env_set_mapsize(st->env, 0);
    if (rc == 0) {
        rc = mdb_env_info(st->env, &info);
    }
    if (rc != 0) {
        gw_log(GW_LOG_ERR, NULL, store__mdb_rc(rc), "cannot adopt the index "
               "map another worker grew");
        return rc;
    }
    if (info.me_mapsize > st->map_size) {
        gw_log(GW_LOG_INFO, NULL, 0, "index map grown from %zu to %zu MiB by "
               "another worker", st->map_size / STORE_MIB,
               (size_t) info.me_mapsize / STORE_MIB);
        st->map_size = info.me_mapsize;
        st->map_cap = GW_MAX(st->map_cap, st->map_size);
    }
    return 0;
}

int
store__read_begin(store_t *st, MDB_txn **txn)
{
    int  rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);

    if (rc != MDB_MAP_RESIZED) {
        return rc;
    }
    if (st->busy || st->readers > 0) {
        st->map_adopt = 1;      /* the batcher adopts it before its next */
        return rc;
    }
    rc = store_map_adopt(st);
    return rc != 0 ? rc : mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
}

static int
store_reserve_make(store_t *st)
{
    int  fd, rc;

    fd = open(st->reserve_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -errno;
    }
    rc = posix_fallocate(fd, 0, (off_t) STORE_RESERVE);
    close(fd);
    if (rc != 0) {
        unlink(st->reserve_path);
        return -rc;
    }
    st->reserve_held = 1;
    return GW_OK;
}

static void
store_reserve_release(store_t *st)
{
    if (unlink(st->reserve_path) != 0 && errno != ENOENT) {
        gw_log(GW_LOG_ERR, NULL, -errno, "cannot delete \"%s\"",
               st->reserve_path);
    }
    st->reserve_held = 0;
    gw_log(GW_LOG_NOTICE, NULL, 0, "released the %zu MiB reserve \"%s\" so "
           "that deletes can commit", STORE_RESERVE / STORE_MIB,
           st->reserve_path);
}

void
store__space_low(store_t *st, const char *what)
{
    if (st->space_low) {
        return;
    }
    st->space_low = 1;
    gw_log(GW_LOG_WARN, NULL, UV_ENOSPC, "%s under \"%s\": writes that add "
           "are refused until space is freed; deletes still run", what,
           st->dir);
}

void
store__room_check(store_t *st)
{
    struct statvfs  fs;
    uint64_t        avail;

    if (!st->space_low || statvfs(st->dir, &fs) != 0) {
        return;
    }
    avail = (uint64_t) fs.f_bavail * fs.f_frsize;
    if (!st->reserve_held) {
        if (avail < 2 * STORE_RESERVE || store_reserve_make(st) != GW_OK) {
            return;
        }
        avail -= STORE_RESERVE;
    }
    if (avail >= STORE_RESERVE) {
        st->space_low = 0;
        gw_log(GW_LOG_NOTICE, NULL, 0, "space under \"%s\" again: writes are "
               "accepted", st->dir);
    }
}

int
store__room_open(store_t *st)
{
    MDB_envinfo  info;
    MDB_stat     ms;
    struct stat  sb;
    size_t       used, want;
    int          rc;

    if ((rc = mdb_env_info(st->env, &info)) != 0
        || (rc = mdb_env_stat(st->env, &ms)) != 0)
    {
        return rc;
    }
    st->map_size = info.me_mapsize;
    st->map_cap = GW_MAX((size_t) st->cf->index_max_size, st->map_size);
    if (st->map_cap > st->cf->index_max_size) {
        gw_log(GW_LOG_WARN, NULL, 0, "the index in \"%s\" already takes %zu "
               "MiB, more than index_max_size: it will not grow", st->dir,
               st->map_size / STORE_MIB);
    }
    st->map_margin = GW_MAX(st->map_cap / 16, STORE_MIB);
    /* An index that already fills most of the map gets room at once. */
    used = (size_t) (info.me_last_pgno + 1) * ms.ms_psize;
    want = GW_MIN(GW_MAX(2 * used, st->map_size), st->map_cap);
    if (gw_conf_workers(st->cf) > 1) {
        /* Several workers: the map starts as large as writes that add may
         * make it. A map one worker grows must be adopted by the others
         * with no transaction of theirs open, and a read that meets it
         * while its own worker's batch commits cannot begin (it failed
         * with a 500); the map is address space, not memory or disk, so
         * only the deletes' last sixteenth is left to grow into. */
        want = GW_MAX(want, (st->map_cap - st->map_margin) & ~(STORE_MIB - 1));
    }
    if (want > st->map_size) {
        store_map_resize(st, (want + STORE_MIB - 1) & ~(STORE_MIB - 1));
    }

    st->reserve_path = gw_alloc(strlen(st->dir) + sizeof("/reserve"));
    sprintf(st->reserve_path, "%s/reserve", st->dir);
    if (stat(st->reserve_path, &sb) == 0 && sb.st_size == STORE_RESERVE
        && (uint64_t) sb.st_blocks * 512 >= STORE_RESERVE)
    {
        st->reserve_held = 1;
        return GW_OK;
    }
    rc = store_reserve_make(st);
    if (rc != GW_OK) {
        gw_log(GW_LOG_WARN, NULL, rc, "cannot make the %zu MiB reserve \"%s\"",
               STORE_RESERVE / STORE_MIB, st->reserve_path);
        if (store__nospace(rc)) {
            store__space_low(st, "no room for the reserve");
        }
    }
    return GW_OK;
}

int
store__room_make(store_t *st, int rc)
{
    if (rc == EIO && store_disk_nearly_full(st)) {
        rc = ENOSPC;                /* see store_batch_work */
    }
    if (rc == MDB_MAP_FULL && st->map_size < st->map_cap) {
        store_map_resize(st, store_map_next(st, st->map_cap));
        return 1;
    }
    if (store__nospace(rc) && st->reserve_held) {
        store__space_low(st, "the disk is full");
        store_reserve_release(st);
        return 1;
    }
    return 0;
}

void
store__room_close(store_t *st)
{
    gw_free(st->reserve_path);
    st->reserve_path = NULL;
}

/* ==== the commit batcher ==== */

void
store__op_repl(store_op_t *op, const store_repl_t *repl)
{
    size_t  i;

    if (repl == NULL || repl->ndests == 0) {
        return;
    }
    op->repl = gw_alloc(repl->ndests * sizeof(*op->repl));
    for (i = 0; i < repl->ndests; i++) {
        op->repl[i] = gw_strdup(repl->dests[i]);
    }
    op->nrepl = repl->ndests;
}

/* The destinations an op carries, as store__outbox_add takes them. */
store_repl_t
store__op_dests(const store_op_t *op)
{
    store_repl_t  r = { (const char *const *) op->repl, op->nrepl };

    return r;
}

store_op_t *
store__op_new(store_done_pt done, void *ud)
{
    store_op_t  *op = gw_calloc(1, sizeof(*op));

    op->done = done;
    op->ud = ud;
    return op;
}

static void
store_op_free(store_op_t *op)
{
    size_t  i;

    for (i = 0; i < op->nrepl; i++) {
        gw_free(op->repl[i]);
    }
    gw_free(op->repl);
    gw_free(op->key);
    gw_free(op->val);
    gw_free(op->chunks);
    gw_free(op);
}

/* Thread pool, in the batch's write transaction: the generation counter
 * as the index has it now (the outbox sequence is outbox.c's, read again
 * there the same way). */
static int
store_batch_reload(store_t *st, MDB_txn *txn)
{
    MDB_val  k, v;
    int      rc;

    k.mv_data = STORE_META_GEN;
    k.mv_size = sizeof(STORE_META_GEN) - 1;
    rc = mdb_get(txn, st->db_meta, &k, &v);
    if (rc == 0) {
        rc = store__meta_counter_decode(v.mv_data, v.mv_size, &st->gen_last);
        if (rc != GW_OK) {
            return rc;
        }
        st->gen_saved = st->gen_last;
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    return 0;
}

/* The ops of a batch, for the group-commit histogram. */
static uint64_t
store_batch_count(const store_op_t *op)
{
    uint64_t  n = 0;

    for (; op != NULL; op = op->next) {
        n++;
    }
    return n;
}

/* Thread pool: apply every op of the batch, each in a nested txn so one
 * failing op leaves the others, then commit (and sync) once. Out of map,
 * the whole batch is rolled back to run again (store_batch_room). */
static void
store_batch_work(uv_work_t *w)
{
    store_t     *st = w->data;
    store_op_t  *op;
    MDB_txn     *txn, *child;
    int          rc;

    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc != 0) {
        st->batch_rc = rc;
        return;
    }
    /* Other workers commit between our batches: what this process keeps
     * of the index's counters is read again under the write lock. */
    rc = store_batch_reload(st, txn);
    if (rc != 0) {
        goto rollback;
    }
    for (op = st->running; op != NULL; op = op->next) {
        if (op->refused) {
            op->rc = UV_ENOSPC;
            continue;
        }
        rc = mdb_txn_begin(st->env, txn, 0, &child);
        if (rc == 0) {
            rc = op->apply(st, child, op);
            if (rc == GW_OK) {
                rc = mdb_txn_commit(child);
            } else {
                mdb_txn_abort(child);
            }
        }
        op->rc = rc;
        if (rc == MDB_MAP_FULL) {
            goto rollback;
        }
    }
    if (st->gen_last != st->gen_saved) {
        /* Without the counter saved, nothing of the batch may stay. */
        rc = store__generation_save(st, txn);
        if (rc != 0) {
            goto rollback;
        }
    }
    st->batch_rc = mdb_txn_commit(txn);
    if (st->batch_rc == 0) {
        st->gen_saved = st->gen_last;
        gw_metrics_batch(store_batch_count(st->running));
    } else if (st->batch_rc == EIO && store_disk_nearly_full(st)) {
        /* LMDB reports a short write as EIO ("filesystem full?" in its
         * source): on a disk this full, that is what it was. */
        st->batch_rc = ENOSPC;
    }
    return;

rollback:
    mdb_txn_abort(txn);
    st->batch_rc = rc;
}

/* Loop: the batch ops failed for want of room, rc MDB_MAP_FULL (the map)
 * or ENOSPC (the disk); nothing of it was committed. Makes room where it
 * may and puts the ops that may use it on st->retry, to run before
 * anything else; the others get their error in op->rc and are returned. */
static store_op_t *
store_batch_room(store_t *st, store_op_t *ops, int rc)
{
    store_op_t  *op, *next, *fail = NULL, **ft = &fail, *again_ops = NULL;
    store_op_t **rt = &again_ops;
    size_t       nops = 0, adds = 0, deletes = 0, limit;
    int          again;     /* 2: every op, 1: the ones that free, 0: none */

    for (op = ops; op != NULL; op = op->next) {
        nops += !op->refused;
        adds += !op->refused && !op->frees;
        deletes += !op->refused && op->deletes;
    }
    if (rc == MDB_MAP_FULL) {
        limit = adds ? st->map_cap - st->map_margin : st->map_cap;
        again = 2;
        if (st->map_size < limit) {
            st->map_want = store_map_next(st, limit);
        } else if (nops > 1) {
            /* One of them does not fit: find which, one by one. */
            st->retry_one = 1;
        } else {
            /* Once a minute is enough for a state that lasts. */
            if (st->map_full_logged == 0
                || uv_now(st->loop) - st->map_full_logged >= 60000)
            {
                st->map_full_logged = uv_now(st->loop) | 1;
                gw_log(GW_LOG_ERR, NULL, rc, "the index is full: it reached "
                       "index_max_size (%zu MiB)%s", st->map_cap / STORE_MIB,
                       adds ? "; writes that add are refused, deletes still "
                       "run" : "");
            }
            again = 0;
        }
    } else {
        store__space_low(st, "the disk is full (committing the index)");
        if (adds > 0) {
            again = nops > adds;        /* the ones that free may fit alone */
        } else {
            again = deletes > 0 && st->reserve_held;
            if (again) {
                store_reserve_release(st);
            }
        }
        rc = UV_ENOSPC;
    }
    for (op = ops; op != NULL; op = next) {
        next = op->next;
        op->next = NULL;
        if (!op->refused && (again == 2 || (again == 1 && op->frees))) {
            *rt = op;
            rt = &op->next;
        } else {
            op->rc = op->refused ? UV_ENOSPC : rc;
            *ft = op;
            ft = &op->next;
        }
    }
    /* Ahead of what is still to be retried one by one. */
    *rt = st->retry;
    st->retry = again_ops;
    return fail;
}

static void
store_batch_after(uv_work_t *w, int status)
{
    store_t     *st = w->data;
    store_op_t  *op, *next;
    int          rc = st->batch_rc;

    st->busy = 0;
    op = st->running;
    st->running = NULL;
    if (rc == MDB_MAP_RESIZED) {
        /* Another worker grew the map: adopt its size, run them again. */
        st->map_adopt = 1;
        for (next = op; next != NULL && next->next != NULL;
             next = next->next)
        {
            /* to the last op */
        }
        if (next != NULL) {
            next->next = st->retry;
            st->retry = op;
        }
        op = NULL;
        rc = 0;
    } else if (rc == MDB_MAP_FULL || store__nospace(rc)) {
        op = store_batch_room(st, op, rc);
        rc = 0;
    } else if (rc != 0) {
        gw_log(GW_LOG_ERR, NULL, store__mdb_rc(rc), "index commit failed");
    }
    for (; op != NULL; op = next) {
        next = op->next;
        if (op->done != NULL) {
            op->done(op->ud, store__mdb_rc(rc != 0 ? rc : op->rc));
        }
        store_op_free(op);
    }
    store__batch_start(st);
}

void
store__batch_start(store_t *st)
{
    store_op_t  *op;

    if (st->busy) {
        return;
    }
    if (st->map_adopt) {
        if (st->readers > 0) {
            return;             /* store_iter_close calls again */
        }
        store_map_adopt(st);
    }
    if (st->map_want > st->map_size) {
        if (st->readers > 0) {
            return;             /* store_iter_close calls again */
        }
        store_map_resize(st, st->map_want);
    }
    st->map_want = 0;
    if (st->retry != NULL) {
        st->running = st->retry;
        if (st->retry_one) {
            st->retry = st->running->next;
            st->running->next = NULL;
        } else {
            st->retry = NULL;
        }
        st->retry_one = st->retry != NULL && st->retry_one;
    } else if (st->pending != NULL) {
        st->running = st->pending;
        st->pending = NULL;
        st->pending_tail = &st->pending;
    } else {
        if (st->closing && st->on_closed != NULL) {
            void (*cb)(store_t *) = st->on_closed;

            st->on_closed = NULL;
            cb(st);
        }
        return;
    }
    /* Decided here, on the loop, where space_low changes. */
    for (op = st->running; op != NULL; op = op->next) {
        op->refused = st->space_low && !op->frees;
    }
    st->busy = 1;
    st->batch_rc = 0;
    st->batch_seq++;
    st->work.data = st;
    gw_tpool_queue(st->sync_pool, &st->work, store_batch_work,
                   store_batch_after);
}

void
store__submit(store_t *st, store_op_t *op)
{
    op->next = NULL;
    *st->pending_tail = op;
    st->pending_tail = &op->next;
    store__batch_start(st);
}

/* ==== jobs the store waits for ====
 * Chunk writers, sendfile slices and the collector's job use st from a
 * thread; store_close waits until the last has ended. */

void
store__job_begin(store_t *st)
{
    st->jobs++;
}

void
store__job_end(store_t *st)
{
    st->jobs--;
    if (st->jobs == 0 && st->closing) {
        store__batch_start(st);     /* drains now if the batcher is idle */
    }
}

/* ==== the object generation counter ==== */

int
store__generation_save(store_t *st, MDB_txn *txn)
{
    store_recw_t  w;
    MDB_val       k, v;
    int           rc;

    store__meta_counter_encode(st->gen_last, &w);
    k.mv_data = STORE_META_GEN;
    k.mv_size = sizeof(STORE_META_GEN) - 1;
    v.mv_data = w.buf;
    v.mv_size = w.len;
    rc = mdb_put(txn, st->db_meta, &k, &v, 0);
    store__recw_free(&w);
    return rc;
}

/* ==== reference counts ==== */

int
store__gcq_put(store_t *st, MDB_txn *txn, const unsigned char sha[32])
{
    store_recw_t  w;
    MDB_val       k, v;
    int           rc;

    store__gcq_encode(st->batch_seq, mdb_txn_id(txn), &w);
    k.mv_data = (void *) sha;
    k.mv_size = 32;
    v.mv_data = w.buf;
    v.mv_size = w.len;
    rc = mdb_put(txn, st->db_gcq, &k, &v, 0);
    store__recw_free(&w);
    return rc;
}

/* Adds delta (+1/-1) to each chunk's count. A chunk reaching zero goes to
 * the collector's queue; one coming back leaves it. */
int
store__refs_add(store_t *st, MDB_txn *txn, const store_chunk_ref_t *c,
                size_t n, int delta)
{
    store_recw_t   w;
    MDB_val        k, v;
    uint64_t       count;
    uint32_t       len;
    size_t         i;
    int            rc;

    for (i = 0; i < n; i++) {
        k.mv_data = (void *) c[i].sha;
        k.mv_size = 32;
        rc = mdb_get(txn, st->db_refs, &k, &v);
        if (rc == MDB_NOTFOUND) {
            count = 0;
        } else if (rc != 0) {
            return rc;
        } else if (store__ref_decode(v.mv_data, v.mv_size, &count, &len)
                   != GW_OK)
        {
            return GW_ECORRUPT;
        }
        if (delta < 0 && count == 0) {
            continue;   /* never below zero, even on a damaged index */
        }
        count = delta > 0 ? count + 1 : count - 1;
        if (count == 0) {
            rc = mdb_del(txn, st->db_refs, &k, NULL);
            if (rc == 0) {
                rc = store__gcq_put(st, txn, c[i].sha);
            }
        } else {
            store__ref_encode(count, c[i].len, &w);
            v.mv_data = w.buf;
            v.mv_size = w.len;
            rc = mdb_put(txn, st->db_refs, &k, &v, 0);
            store__recw_free(&w);
            if (rc == 0 && count == 1) {
                rc = mdb_del(txn, st->db_gcq, &k, NULL);
                rc = rc == MDB_NOTFOUND ? 0 : rc;
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* ==== object records ==== */

/* Finds the record of (bucket, key) in txn: v is LMDB's memory. */
int
store__object_find(store_t *st, MDB_txn *txn, const char *bucket, gw_str_t key,
                  MDB_val *v)
{
    unsigned char    kb[512];
    MDB_val          k;
    store_object_t  *o;
    int              rc, same;

    k.mv_data = kb;
    k.mv_size = store__object_key(bucket, key, kb);
    rc = mdb_get(txn, st->db_objects, &k, v);
    if (rc != 0 || key.len <= STORE_KEY_DIRECT) {
        return store__mdb_rc(rc);
    }
    /* A long key: make sure the hash did not collide. */
    rc = store__object_decode(v->mv_data, v->mv_size, 0, &o);
    if (rc != GW_OK) {
        return rc;
    }
    same = o->key.len == key.len && memcmp(o->key.base, key.base, key.len) == 0;
    store_object_free(o);
    return same ? GW_OK : GW_ENOTFOUND;
}

int
store__cond_check(const store_cond_t *cond, const MDB_val *v)
{
    store_object_t  *old;
    int              rc;

    if (v == NULL) {
        return cond->has_generation ? GW_ECONFLICT
               : cond->has_if_match || cond->if_match_any ? GW_ENOTFOUND
               : GW_OK;
    }
    if (!cond->has_generation && !cond->has_if_match
        && !cond->has_if_match_size && !cond->has_if_match_mtime)
    {
        return GW_OK;
    }
    rc = store__object_decode(v->mv_data, v->mv_size, 0, &old);
    if (rc != GW_OK) {
        return rc;
    }
    if (cond->has_generation && old->generation != cond->generation) {
        rc = GW_ECONFLICT;
    } else if ((cond->has_if_match
                && (memcmp(old->md5, cond->if_match_md5, 16) != 0
                    || old->nparts != cond->if_match_nparts))
               || (cond->has_if_match_size
                   && old->size != cond->if_match_size)
               || (cond->has_if_match_mtime
                   && old->mtime_ms / 1000 != cond->if_match_mtime))
    {
        rc = GW_EPRECOND;
    }
    store_object_free(old);
    return rc;
}

/* ==== the read scope ==== */

int
store_read_begin(store_t *st)
{
    int  rc;

    if (st->rscope_depth++ > 0) {
        return GW_OK;
    }
    /* The scope's snapshot may hand out chunk lists that are pinned in
     * this loop turn: the read mark goes down before it begins (pin.c). */
    store__read_mark(st);
    rc = st->rscope != NULL ? mdb_txn_renew(st->rscope) : MDB_MAP_RESIZED;
    if (rc == MDB_MAP_RESIZED) {
        /* First use, or another process grew the map: a new txn, which
         * adopts the new size when it can (store__read_begin). */
        if (st->rscope != NULL) {
            mdb_txn_abort(st->rscope);
            st->rscope = NULL;
        }
        rc = store__read_begin(st, &st->rscope);
    }
    if (rc != 0) {
        if (st->rscope != NULL) {
            mdb_txn_abort(st->rscope);
            st->rscope = NULL;
        }
        return store__mdb_rc(rc);
    }
    st->rscope_live = 1;
    st->rscope_thread = pthread_self();
    /* The map must not move under this txn: no resize until it ends. */
    st->readers++;
    return GW_OK;
}

void
store_read_end(store_t *st)
{
    if (st->rscope_depth == 0 || --st->rscope_depth > 0 || !st->rscope_live) {
        return;
    }
    /* Reset, not aborted: the handle and its reader slot serve the next
     * scope (mdb_txn_renew). A reset txn holds no snapshot. */
    mdb_txn_reset(st->rscope);
    st->rscope_live = 0;
    if (--st->readers == 0 && st->map_want > 0) {
        store__batch_start(st);          /* a resize waited for it */
    }
}

void
store__read_scope_free(store_t *st)
{
    if (st->rscope != NULL) {
        mdb_txn_abort(st->rscope);
        st->rscope = NULL;
    }
}

int
store__read_txn(store_t *st, MDB_txn **txn)
{
    if (st->rscope_live && pthread_equal(st->rscope_thread, pthread_self())) {
        *txn = st->rscope;
        return 0;
    }
    return store__read_begin(st, txn);
}

void
store__read_done(store_t *st, MDB_txn *txn)
{
    if (txn != st->rscope) {
        mdb_txn_abort(txn);
    }
}

/* ==== readiness ==== */

int
store_ready(store_t *st, char *why, size_t cap)
{
    struct statvfs  fs;
    uint64_t        avail;

    if (st == NULL || st->closing) {
        snprintf(why, cap, "the store is closing");
        return GW_ERROR;
    }
    if (access(st->dir, W_OK) != 0) {
        snprintf(why, cap, "data_dir \"%s\" is not writable: %s", st->dir,
                 strerror(errno));
        return GW_ERROR;
    }
    if (st->space_low) {
        snprintf(why, cap, "the disk of data_dir was found full: writes "
                 "that add are refused until space is freed");
        return GW_ERROR;
    }
    if (statvfs(st->dir, &fs) != 0) {
        snprintf(why, cap, "statvfs of data_dir: %s", strerror(errno));
        return GW_ERROR;
    }
    avail = (uint64_t) fs.f_bavail * fs.f_frsize;
    if (avail < STORE_RESERVE) {
        snprintf(why, cap, "%llu bytes free on the disk of data_dir, "
                 "under the %zu MiB reserve", (unsigned long long) avail,
                 STORE_RESERVE / STORE_MIB);
        return GW_ERROR;
    }
    return GW_OK;
}
