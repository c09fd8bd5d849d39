/* store/sweep.c: the sweep for orphan chunk files. A crash between renaming
 * a chunk file into place and committing the record that refers to it
 * leaves a file nothing refers to; so does a write whose collection could
 * not commit (a full disk). Start-up only empties tmp/ (nothing writes there
 * yet); the chunks/XX directories are walked afterwards, in the background,
 * a slice of whole directories per collector tick, so that a store of a
 * million chunk files starts serving at once.
 *
 * The walk runs while writes go on. A chunk file in place with no reference
 * is either an orphan or the work of a writer whose object has not committed
 * yet, and such a writer holds a pin on it from before its rename until
 * after its commit (chunk.c). So the sweep decides inside a write
 * transaction of the batcher, checking the references and the pins there:
 * a file with neither is an orphan and goes to gcq. A writer that pins a
 * chunk after that only does so to write those very bytes again, and its
 * commit drops the gcq entry (store__refs_add); the collector checks the
 * references and the pins once more before it unlinks anything. */
#include "store/internal.h"
#include "core/log.h"

#include <dirent.h>

/* Names looked at per slice: directories are taken whole until this many.
 * A small store is swept in one slice; one with 1M chunk files (about 4000
 * a directory) in one directory per tick. */
#define STORE_SWEEP_SLICE  4096

void
store__sweep_tmp(store_t *st)
{
    char            path[PATH_MAX];
    DIR            *d;
    struct dirent  *e;

    snprintf(path, sizeof(path), "%s/tmp", st->dir);
    d = opendir(path);
    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            unlinkat(dirfd(d), e->d_name, 0);
        }
    }
    closedir(d);
}

/* The sha of a chunk file's name, or -1 for a name that is not one. */
static int
store_sweep_name(const char *name, unsigned char sha[32])
{
    size_t  j;
    int     hi, lo;

    if (strlen(name) != 64) {
        return -1;
    }
    for (j = 0; j < 64; j++) {
        if (!((name[j] >= '0' && name[j] <= '9')
              || (name[j] >= 'a' && name[j] <= 'f')))
        {
            return -1;
        }
    }
    for (j = 0; j < 32; j++) {
        hi = name[2 * j];
        lo = name[2 * j + 1];
        hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
        lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
        sha[j] = (unsigned char) (hi << 4 | lo);
    }
    return 0;
}

/* Inside the batch: queues the orphans of one chunks/XX directory; *seen
 * and *found count the names looked at and the orphans queued. */
static int
store_sweep_dir(store_t *st, MDB_txn *txn, unsigned dir, size_t *seen,
                size_t *found)
{
    char            path[PATH_MAX];
    DIR            *d;
    struct dirent  *e;
    MDB_val         k, v;
    unsigned char   sha[32];
    int             rc = 0, orphan;

    snprintf(path, sizeof(path), "%s/chunks/%02x", st->dir, dir);
    d = opendir(path);
    if (d == NULL) {
        return 0;           /* made at start; gone means nothing to sweep */
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (store_sweep_name(e->d_name, sha) != 0) {
            continue;
        }
        (*seen)++;
        k.mv_data = sha;
        k.mv_size = 32;
        rc = mdb_get(txn, st->db_refs, &k, &v);
        if (rc != MDB_NOTFOUND) {
            continue;       /* referenced (0), or an error that stops */
        }
        store__pins_lock_all(st);
        orphan = !store__pinned(st, sha);
        store__pins_unlock_all(st);
        rc = 0;
        if (orphan) {
            rc = store__gcq_put(st, txn, sha);
            *found += rc == 0;
        }
    }
    closedir(d);
    return rc;
}

/* Thread pool, inside a batch: the slice from directory op->partno on.
 * The directory after it and the orphans found go to st->sweep_next and
 * st->sweep_slice, which only the done callback reads, on the loop, after
 * the batch; a batch that runs again does the same slice again. */
static int
store_sweep_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    unsigned  dir = op->partno;
    size_t    seen = 0, found = 0;
    int       rc = 0;

    while (dir < 256 && seen < STORE_SWEEP_SLICE && rc == 0) {
        rc = store_sweep_dir(st, txn, dir++, &seen, &found);
    }
    st->sweep_next = dir;
    st->sweep_slice = found;
    return rc;
}

static void
store_sweep_done(void *ud, int rc)
{
    store_t  *st = ud;

    st->sweep_queued = 0;
    if (rc != GW_OK) {
        /* The same slice again next tick. */
        gw_log(store__nospace(rc) ? GW_LOG_INFO : GW_LOG_ERR, NULL, rc,
               "sweeping chunks/%02x for orphan chunk files failed",
               st->sweep_dir);
        return;
    }
    st->sweep_dir = st->sweep_next;
    st->sweep_found += st->sweep_slice;
    if (st->sweep_dir == 256 && st->sweep_found > 0) {
        gw_log(GW_LOG_NOTICE, NULL, 0, "%zu unreferenced chunk files queued "
               "for collection", st->sweep_found);
    }
}

void
store__sweep_tick(store_t *st)
{
    store_op_t  *op;

    if (st->sweep_dir >= 256 || st->sweep_queued || st->closing) {
        return;
    }
    op = store__op_new(store_sweep_done, st);
    op->apply = store_sweep_apply;
    op->partno = st->sweep_dir;
    /* What it queues is space to be given back: it runs on a full disk. */
    op->frees = 1;
    st->sweep_queued = 1;
    store__submit(st, op);
}

int
store__sweep_finished(const store_t *st)
{
    return st->sweep_dir >= 256;
}
