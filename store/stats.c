/* store/stats.c: the store's figures for a scrape: entry counts from LMDB's
 * page statistics (no scan), the byte figures from one pass over refs, the
 * replication queue and the disk. Reads only. */
#include "store/internal.h"

#include <sys/statvfs.h>

static int
store_stats_entries(MDB_txn *txn, MDB_dbi dbi, uint64_t *out)
{
    MDB_stat  ms;
    int       rc;

    rc = mdb_stat(txn, dbi, &ms);
    if (rc == 0) {
        *out = ms.ms_entries;
    }
    return rc;
}

/* Sums chunk lengths, once and times their reference count. The total
 * would need a counter kept by every commit to be free; one pass over refs
 * (some 50 bytes an entry, in order) costs milliseconds per 100,000
 * chunks, and the cap bounds what a scrape of a huge store costs. */
static int
store_stats_bytes(store_t *st, MDB_txn *txn, store_stats_t *out)
{
    MDB_cursor  *cur;
    MDB_val      k, v;
    uint64_t     count, n = 0;
    uint32_t     len;
    int          rc;

    rc = mdb_cursor_open(txn, st->db_refs, &cur);
    if (rc != 0) {
        return rc;
    }
    out->bytes_exact = 1;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (n++ == STORE_STATS_SCAN_MAX) {
            out->bytes_exact = 0;
            break;
        }
        if (store__ref_decode(v.mv_data, v.mv_size, &count, &len) == GW_OK) {
            out->chunk_bytes += len;
            out->referenced_bytes += count * len;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_stats(store_t *st, store_stats_t *out)
{
    MDB_txn         *txn;
    struct statvfs   fs;
    int              rc;

    memset(out, 0, sizeof(*out));
    if (statvfs(st->dir, &fs) == 0) {
        out->disk_free = (uint64_t) fs.f_bavail * fs.f_frsize;
        out->disk_size = (uint64_t) fs.f_blocks * fs.f_frsize;
    }
    rc = store__read_begin(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = store_stats_entries(txn, st->db_objects, &out->objects);
    if (rc == 0) {
        rc = store_stats_entries(txn, st->db_versions, &out->versions);
    }
    if (rc == 0) {
        rc = store_stats_entries(txn, st->db_refs, &out->chunks);
    }
    if (rc == 0) {
        rc = store_stats_entries(txn, st->db_gcq, &out->gc_queue);
    }
    if (rc == 0) {
        rc = store_stats_entries(txn, st->db_uploads, &out->uploads);
    }
    if (rc == 0) {
        rc = store_stats_bytes(st, txn, out);
    }
    mdb_txn_abort(txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    return store_outbox_count(st, &out->outbox_pending, &out->outbox_failed);
}
