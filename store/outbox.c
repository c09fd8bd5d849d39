/* store/outbox.c: the replication outbox (see store.h, "replication
 * outbox"). An entry is queued inside the transaction that commits the
 * change it stands for, so an acknowledged write can never miss its
 * replication, even through kill -9. Only the latest change of a key can
 * matter to a destination: a new entry for the same (bucket, destination,
 * key) replaces the one before (the pusher reads the object as it is when
 * it sends). Entries leave when the pusher reports them done.
 *
 *   outbox  u64 sequence (big-endian)       -> outbox record
 *   outkey  bucket 0x00 dest 0x00 key       -> u64 sequence of its entry
 *   outdue  i64 next try | u64 sequence     -> empty: every entry that is
 *           (both big-endian)                  not failed, by when it is
 *                                              due, so the pusher's walk
 *                                              ends at the first entry not
 *                                              due yet and never meets a
 *                                              failed one
 *
 * The outbox record (record format 1): 1 bucket  2 destination bucket
 * 3 key  4 u8 change (STORE_REPL_PUT, STORE_REPL_DELETE)  5 u32 attempts
 * 6 i64 next try (unix ms)  7 u8 failed  8 the last error, text
 * 9 i64 queued at (unix ms)  10 u64 the version to send (absent: the key
 * as it is when sent). Entries of versions are not coalesced: each
 * version of a key reaches the destination, in order.
 *
 * The end of the file is the admin side (store.h, "tools"): a store
 * opened from another process than the server's, to list the queue and to
 * send failed changes again. It lives here because the outbox is all it
 * serves; it shares no state with the server but the LMDB files. */
#include "store/internal.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

enum {
    OB_BUCKET = 1, OB_DEST, OB_KEY, OB_CHANGE, OB_ATTEMPTS, OB_NEXT_TRY,
    OB_FAILED, OB_ERROR, OB_QUEUED, OB_VERSION
};

static int64_t
store_outbox_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
store_outbox_seq_key(uint64_t seq, unsigned char out[8])
{
    int  i;

    for (i = 7; i >= 0; i--) {
        out[i] = (unsigned char) seq;
        seq >>= 8;
    }
}

static uint64_t
store_outbox_seq_of(const unsigned char *p)
{
    uint64_t  seq = 0;
    int       i;

    for (i = 0; i < 8; i++) {
        seq = seq << 8 | p[i];
    }
    return seq;
}

/* bucket 0x00 dest 0x00 key into a buffer the caller frees. */
static unsigned char *
store_outkey(const char *bucket, const char *dest, gw_str_t key, size_t *len)
{
    size_t          bl = strlen(bucket), dl = strlen(dest);
    unsigned char  *k = gw_alloc(bl + dl + key.len + 2);

    memcpy(k, bucket, bl);
    k[bl] = 0;
    memcpy(k + bl + 1, dest, dl);
    k[bl + 1 + dl] = 0;
    memcpy(k + bl + dl + 2, key.base, key.len);
    *len = bl + dl + key.len + 2;
    return k;
}

/* The outdue key of (next try, seq): next try is a unix ms time, never
 * negative in practice; a negative one sorts first (due). */
static void
store_outdue_key(int64_t due, uint64_t seq, unsigned char out[16])
{
    store_outbox_seq_key(due < 0 ? 0 : (uint64_t) due, out);
    store_outbox_seq_key(seq, out + 8);
}

/* Adds (add) or removes the outdue entry of e (a failed entry has none). */
static int
store_outdue_set(store_t *st, MDB_txn *txn, int64_t due, uint64_t seq,
                 int failed, int add)
{
    unsigned char  kb[16];
    MDB_val        k, e = { 0, NULL };
    int            rc;

    if (failed) {
        return 0;
    }
    store_outdue_key(due, seq, kb);
    k.mv_data = kb;
    k.mv_size = 16;
    rc = add ? mdb_put(txn, st->db_outdue, &k, &e, 0)
             : mdb_del(txn, st->db_outdue, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static void
store_outbox_encode(const store_outbox_entry_t *e, store_recw_t *w)
{
    unsigned char  b;

    store__recw_init(w, STORE_REC_V1);
    store__recw_field(w, OB_BUCKET, e->bucket, strlen(e->bucket));
    store__recw_field(w, OB_DEST, e->dest, strlen(e->dest));
    store__recw_field(w, OB_KEY, e->key.base, e->key.len);
    b = (unsigned char) e->change;
    store__recw_field(w, OB_CHANGE, &b, 1);
    store__recw_u32(w, OB_ATTEMPTS, e->attempts);
    store__recw_u64(w, OB_NEXT_TRY, (uint64_t) e->next_try_ms);
    b = (unsigned char) e->failed;
    store__recw_field(w, OB_FAILED, &b, 1);
    if (e->error[0] != '\0') {
        store__recw_field(w, OB_ERROR, e->error, strlen(e->error));
    }
    store__recw_u64(w, OB_QUEUED, (uint64_t) e->queued_ms);
    if (e->has_version) {
        store__recw_u64(w, OB_VERSION, e->version);
    }
    store__recw_end(w);
}

static uint64_t
store_outbox_u64(const store_field_t *f)
{
    uint64_t  v = 0;
    size_t    i;

    for (i = f->len; i > 0; i--) {
        v = v << 8 | f->data[i - 1];
    }
    return v;
}

/* Decodes into e; e->key is a view into buf. */
int
store__outbox_decode(const void *buf, size_t len, store_outbox_entry_t *e)
{
    store_rec_t    r;
    store_field_t  f;
    unsigned       seen = 0;
    int            rc;

    memset(e, 0, sizeof(*e));
    if (store__rec_open(&r, buf, len, STORE_REC_V1) != GW_OK) {
        return GW_ECORRUPT;
    }
    while ((rc = store__rec_next(&r, &f)) == GW_OK) {
        switch (f.tag) {
        case OB_BUCKET:
        case OB_DEST:
            if (f.len > STORE_BUCKET_MAX) {
                return GW_ECORRUPT;
            }
            memcpy(f.tag == OB_BUCKET ? e->bucket : e->dest, f.data, f.len);
            break;
        case OB_KEY:
            e->key.base = (const char *) f.data;
            e->key.len = f.len;
            break;
        case OB_CHANGE:
        case OB_FAILED:
            if (f.len != 1) {
                return GW_ECORRUPT;
            }
            *(f.tag == OB_CHANGE ? &e->change : &e->failed) = f.data[0];
            break;
        case OB_VERSION:
            if (f.len != 8) {
                return GW_ECORRUPT;
            }
            e->has_version = 1;
            e->version = store_outbox_u64(&f);
            break;
        case OB_ATTEMPTS:
        case OB_NEXT_TRY:
        case OB_QUEUED:
            if (f.len != (f.tag == OB_ATTEMPTS ? 4u : 8u)) {
                return GW_ECORRUPT;
            }
            if (f.tag == OB_ATTEMPTS) {
                e->attempts = (uint32_t) store_outbox_u64(&f);
            } else if (f.tag == OB_NEXT_TRY) {
                e->next_try_ms = (int64_t) store_outbox_u64(&f);
            } else {
                e->queued_ms = (int64_t) store_outbox_u64(&f);
            }
            break;
        case OB_ERROR:
            snprintf(e->error, sizeof(e->error), "%.*s", (int) f.len,
                     (const char *) f.data);
            break;
        default:
            continue;                       /* a field of a later build */
        }
        seen |= 1u << f.tag;
    }
    if (rc != GW_DONE) {
        return GW_ECORRUPT;
    }
    if ((seen & (1u << OB_BUCKET | 1u << OB_DEST | 1u << OB_KEY
                 | 1u << OB_CHANGE))
        != (1u << OB_BUCKET | 1u << OB_DEST | 1u << OB_KEY | 1u << OB_CHANGE))
    {
        return GW_ECORRUPT;
    }
    return GW_OK;
}

/* Removes the entry of sequence key sk (8 bytes, maybe LMDB's memory)
 * with its outdue entry. MDB_NOTFOUND when there is none. */
static int
store_outbox_drop(store_t *st, MDB_txn *txn, const void *sk)
{
    store_outbox_entry_t  e;
    unsigned char         kb[8];
    MDB_val               k, v;
    int                   rc;

    memcpy(kb, sk, 8);
    k.mv_data = kb;
    k.mv_size = 8;
    rc = mdb_get(txn, st->db_outbox, &k, &v);
    if (rc == 0 && store__outbox_decode(v.mv_data, v.mv_size, &e) == GW_OK) {
        rc = store_outdue_set(st, txn, e.next_try_ms,
                              store_outbox_seq_of(kb), e.failed, 0);
    }
    return rc != 0 ? rc : mdb_del(txn, st->db_outbox, &k, NULL);
}

int
store__outbox_add(store_t *st, MDB_txn *txn, const char *bucket,
                  gw_str_t key, const store_repl_t *repl, int change)
{
    return store__outbox_add_v(st, txn, bucket, key, repl, change, 0, 0);
}

int
store__outbox_add_v(store_t *st, MDB_txn *txn, const char *bucket,
                    gw_str_t key, const store_repl_t *repl, int change,
                    int has_version, uint64_t version)
{
    store_outbox_entry_t   e;
    store_recw_t           w;
    unsigned char          sk[8], *ok;
    MDB_val                k, v, kk;
    size_t                 i, oklen;
    int                    rc = 0;

    if (repl != NULL && repl->ndests > 0
        && st->outbox_batch != st->batch_seq)
    {
        /* Other workers add entries between our batches: the last
         * sequence is read again, under the write lock, once a batch, and
         * before an entry is dropped below, so that its number is not
         * given again at once. */
        rc = store__outbox_open(st, txn);
        st->outbox_batch = st->batch_seq;
    }
    for (i = 0; repl != NULL && i < repl->ndests && rc == 0; i++) {
        memset(&e, 0, sizeof(e));
        snprintf(e.bucket, sizeof(e.bucket), "%s", bucket);
        snprintf(e.dest, sizeof(e.dest), "%s", repl->dests[i]);
        e.key = key;
        e.change = change;
        e.has_version = has_version != 0;
        e.version = version;
        e.queued_ms = e.next_try_ms = store_outbox_now_ms();

        ok = store_outkey(bucket, e.dest, key, &oklen);
        kk.mv_data = ok;
        kk.mv_size = oklen;
        rc = mdb_get(txn, st->db_outkey, &kk, &v);
        if (rc == 0 && v.mv_size == 8 && !has_version) {
            /* Only the latest change of a key matters to a destination,
             * unless it is a version: every version is sent, in order. */
            rc = store_outbox_drop(st, txn, v.mv_data);
        }
        rc = rc == MDB_NOTFOUND ? 0 : rc;
        if (rc == 0) {
            store_outbox_seq_key(++st->outbox_seq, sk);
            store_outbox_encode(&e, &w);
            k.mv_data = sk;
            k.mv_size = 8;
            v.mv_data = w.buf;
            v.mv_size = w.len;
            rc = mdb_put(txn, st->db_outbox, &k, &v, 0);
            store__recw_free(&w);
        }
        if (rc == 0) {
            rc = store_outdue_set(st, txn, e.next_try_ms, st->outbox_seq, 0,
                                  1);
        }
        if (rc == 0) {
            v.mv_data = sk;
            v.mv_size = 8;
            rc = mdb_put(txn, st->db_outkey, &kk, &v, 0);
        }
        gw_free(ok);
    }
    return rc;
}

int
store__outbox_open(store_t *st, MDB_txn *txn)
{
    MDB_cursor  *cur;
    MDB_val      k, v;
    int          rc;

    st->outbox_seq = 0;
    rc = mdb_cursor_open(txn, st->db_outbox, &cur);
    if (rc != 0) {
        return rc;
    }
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == 8) {
        st->outbox_seq = store_outbox_seq_of(k.mv_data);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
store_outbox_queue_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    gw_str_t      key = { op->key, op->key_len };
    store_repl_t  repl = store__op_dests(op);

    return store__outbox_add(st, txn, op->bucket, key, &repl,
                             (int) op->partno);
}

void
store_outbox_queue(store_t *st, const char *bucket, gw_str_t key,
                   const store_repl_t *repl, int change, store_done_pt done,
                   void *ud)
{
    store_op_t  *op = store__op_new(done, ud);

    op->apply = store_outbox_queue_apply;
    snprintf(op->bucket, sizeof(op->bucket), "%s", bucket);
    op->key = gw_strndup(key.base, key.len);
    op->key_len = key.len;
    op->partno = (uint32_t) change;
    store__op_repl(op, repl);
    store__submit(st, op);
}

/* ==== reading the outbox (the pusher) ==== */

int
store_outbox_next_due(store_t *st, const store_outbox_pos_t *after,
                      int64_t now_ms, store_outbox_entry_t *out)
{
    MDB_txn       *txn;
    MDB_cursor    *cur;
    MDB_val        k, v, ek;
    unsigned char  kb[16];
    int            rc;

    rc = store__read_begin(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = mdb_cursor_open(txn, st->db_outdue, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return store__mdb_rc(rc);
    }
    /* Just after the position: (due, seq + 1). */
    store_outdue_key(after->due_ms, after->seq + 1, kb);
    k.mv_data = kb;
    k.mv_size = 16;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 16) {
            continue;
        }
        if ((int64_t) store_outbox_seq_of(k.mv_data) > now_ms) {
            rc = MDB_NOTFOUND;          /* the rest is not due yet */
            break;
        }
        ek.mv_data = (unsigned char *) k.mv_data + 8;
        ek.mv_size = 8;
        if (mdb_get(txn, st->db_outbox, &ek, &v) != 0
            || store__outbox_decode(v.mv_data, v.mv_size, out) != GW_OK
            || out->failed)
        {
            continue;                 /* never let one bad entry stop all */
        }
        out->seq = store_outbox_seq_of(ek.mv_data);
        out->key.base = gw_strndup(out->key.base, out->key.len);
        break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc == 0 ? GW_OK : store__mdb_rc(rc);
}

int
store__outdue_build(store_t *st, MDB_txn *txn, size_t *count)
{
    store_outbox_entry_t  e;
    MDB_cursor           *cur;
    MDB_val               k, v;
    int                   rc;

    *count = 0;
    rc = mdb_cursor_open(txn, st->db_outbox, &cur);
    if (rc != 0) {
        return rc;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 8
            || store__outbox_decode(v.mv_data, v.mv_size, &e) != GW_OK
            || e.failed)
        {
            continue;
        }
        rc = store_outdue_set(st, txn, e.next_try_ms,
                              store_outbox_seq_of(k.mv_data), 0, 1);
        if (rc != 0) {
            break;
        }
        (*count)++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

void
store_outbox_entry_free(store_outbox_entry_t *e)
{
    gw_free((void *) e->key.base);
    e->key.base = NULL;
}

/* Every entry but a failed one has its outdue entry: both counts come
 * from the databases' sizes, without reading the queue. */
int
store_outbox_count(store_t *st, uint64_t *pending, uint64_t *failed)
{
    MDB_txn   *txn;
    MDB_stat   all, due;
    int        rc;

    *pending = *failed = 0;
    rc = store__read_begin(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = mdb_stat(txn, st->db_outbox, &all);
    if (rc == 0) {
        rc = mdb_stat(txn, st->db_outdue, &due);
    }
    mdb_txn_abort(txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    *pending = due.ms_entries;
    *failed = all.ms_entries > due.ms_entries
              ? all.ms_entries - due.ms_entries : 0;
    return GW_OK;
}

/* ==== settling an entry ==== */

static int
store_outbox_settle_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    const store_outbox_entry_t  *e = op->val;
    store_outbox_entry_t         cur;
    store_recw_t                 w;
    unsigned char                sk[8], *ok;
    MDB_val                      k, v, kk;
    size_t                       oklen;
    int64_t                      old_due;
    int                          rc, old_failed;

    store_outbox_seq_key(e->seq, sk);
    k.mv_data = sk;
    k.mv_size = 8;
    rc = mdb_get(txn, st->db_outbox, &k, &v);
    if (rc == MDB_NOTFOUND) {
        return GW_OK;        /* replaced by a later change meanwhile */
    }
    if (rc != 0) {
        return rc;
    }
    if (op->partno == 0) {                                   /* retry */
        rc = store__outbox_decode(v.mv_data, v.mv_size, &cur);
        if (rc != GW_OK) {
            return rc;
        }
        old_due = cur.next_try_ms;
        old_failed = cur.failed;
        cur.attempts = e->attempts;
        cur.next_try_ms = e->next_try_ms;
        cur.failed = e->failed;
        memcpy(cur.error, e->error, sizeof(cur.error));
        store_outbox_encode(&cur, &w);    /* copies cur.key out of the page */
        rc = store_outdue_set(st, txn, old_due, e->seq, old_failed, 0);
        if (rc == 0) {
            rc = store_outdue_set(st, txn, e->next_try_ms, e->seq,
                                  e->failed, 1);
        }
        v.mv_data = w.buf;
        v.mv_size = w.len;
        if (rc == 0) {
            rc = mdb_put(txn, st->db_outbox, &k, &v, 0);
        }
        store__recw_free(&w);
        return rc;
    }
    rc = store__outbox_decode(v.mv_data, v.mv_size, &cur);  /* done */
    if (rc != GW_OK) {
        return rc;
    }
    ok = store_outkey(cur.bucket, cur.dest, cur.key, &oklen);
    kk.mv_data = ok;
    kk.mv_size = oklen;
    /* The key's entry, unless a later version of it waits too. */
    rc = mdb_get(txn, st->db_outkey, &kk, &v);
    if (rc == 0 && (v.mv_size != 8 || memcmp(v.mv_data, sk, 8) == 0)) {
        rc = mdb_del(txn, st->db_outkey, &kk, NULL);
    }
    gw_free(ok);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }
    return store_outbox_drop(st, txn, sk);
}

static void
store_outbox_settle(store_t *st, const store_outbox_entry_t *e, int done_it,
                    store_done_pt done, void *ud)
{
    store_op_t            *op = store__op_new(done, ud);
    store_outbox_entry_t  *copy = gw_alloc(sizeof(*copy));

    *copy = *e;
    copy->key.base = NULL;          /* the record's key is read again */
    copy->key.len = 0;
    op->apply = store_outbox_settle_apply;
    op->val = copy;
    op->partno = (uint32_t) done_it;
    /* Settling frees a queue entry: it must work on a full disk too. */
    op->deletes = 1;
    store__submit(st, op);
}

void
store_outbox_done(store_t *st, const store_outbox_entry_t *e,
                  store_done_pt done, void *ud)
{
    store_outbox_settle(st, e, 1, done, ud);
}

void
store_outbox_retry(store_t *st, const store_outbox_entry_t *e,
                   store_done_pt done, void *ud)
{
    store_outbox_settle(st, e, 0, done, ud);
}

/* ==== tools: the store from another process ==== */

#define STORE_TOOL_LIST_BATCH   256     /* entries per read txn */
#define STORE_TOOL_RETRY_SCAN   4096    /* entries looked at per write txn */
#define STORE_TOOL_RETRY_BATCH  1024    /* ... and rewritten */

/* The databases of STORE_FORMAT (internal.h's STORE_DBS). */
static const struct {
    const char  *name;
    size_t       off;
} store_tool_dbs[] = {
#define STORE_DB_ROW(name, field)  { name, offsetof(store_t, field) },
    STORE_DBS(STORE_DB_ROW)
#undef STORE_DB_ROW
};

/* The server grows the map of the index as it fills. A transaction of this
 * process that finds the data past its own, older map gets
 * MDB_MAP_RESIZED: adopt the size the server wrote, and begin again (no
 * transaction of this process is open, as mdb_env_set_mapsize wants). */
static int
store_tool_txn_begin(store_t *st, unsigned flags, MDB_txn **txn)
{
    int  rc, tries;

    for (tries = 0; tries < 3; tries++) {
        rc = mdb_txn_begin(st->env, NULL, flags, txn);
        if (rc != MDB_MAP_RESIZED) {
            break;
        }
        if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0) {
            break;
        }
        rc = MDB_MAP_RESIZED;
    }
    return rc;
}

/* After MDB_MAP_FULL (no transaction open): 1 when the server has made the
 * map bigger meanwhile and this process now uses that size. A tool never
 * grows the map itself: that is the server's to decide. */
static int
store_tool_map_adopt(store_t *st)
{
    MDB_envinfo  before, after;

    if (mdb_env_info(st->env, &before) != 0
        || mdb_env_set_mapsize(st->env, 0) != 0
        || mdb_env_info(st->env, &after) != 0)
    {
        return 0;
    }
    return after.me_mapsize > before.me_mapsize;
}

/* Inside the opening read txn: the format marker says STORE_FORMAT, and
 * every database of it is there; their handles into st. */
static int
store_tool_check(store_t *st, MDB_txn *txn, char *err, size_t errlen)
{
    MDB_dbi   dbi;
    MDB_val   k, v;
    uint32_t  format = 0;
    size_t    i;
    int       rc;

    rc = mdb_dbi_open(txn, "meta", 0, &dbi);
    if (rc == MDB_NOTFOUND) {
        rc = mdb_dbi_open(txn, STORE_V1_BUCKETS, 0, &dbi);
        if (rc == 0) {
            snprintf(err, errlen, "the index in \"%s\" is in store format "
                     "1: start s3gw on it once to upgrade it to store "
                     "format %d", st->dir, STORE_FORMAT);
        } else {
            snprintf(err, errlen, "the index in \"%s\" has no store format "
                     "marker: not an index that s3gw has set up", st->dir);
        }
        return GW_EFORMAT;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the index in \"%s\": %s", st->dir,
                 gw_strerror(store__mdb_rc(rc)));
        return store__mdb_rc(rc);
    }
    k.mv_data = STORE_META_FORMAT;
    k.mv_size = sizeof(STORE_META_FORMAT) - 1;
    rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0) {
        rc = store__meta_format_decode(v.mv_data, v.mv_size, &format);
    }
    if (rc != 0) {
        snprintf(err, errlen, "the index in \"%s\" has no readable store "
                 "format marker (written by a newer s3gw?); this s3gw reads "
                 "store format %d", st->dir, STORE_FORMAT);
        return GW_EFORMAT;
    }
    if (format != STORE_FORMAT) {
        snprintf(err, errlen, "the index in \"%s\" is in store format %u, "
                 "%s store format %d that this s3gw reads%s", st->dir,
                 format, format > STORE_FORMAT ? "newer than" : "not",
                 STORE_FORMAT, format > STORE_FORMAT ? "; use a newer s3gw"
                 : "");
        return GW_EFORMAT;
    }
    for (i = 0; i < GW_NELEMS(store_tool_dbs); i++) {
        rc = mdb_dbi_open(txn, store_tool_dbs[i].name, 0,
                          (MDB_dbi *) ((char *) st + store_tool_dbs[i].off));
        if (rc == MDB_NOTFOUND) {
            /* Databases come with new features inside a format; only the
             * server makes them. */
            snprintf(err, errlen, "the index in \"%s\" has no database "
                     "\"%s\" yet: start this s3gw on it once", st->dir,
                     store_tool_dbs[i].name);
            return GW_EFORMAT;
        }
        if (rc != 0) {
            snprintf(err, errlen, "cannot open the index database \"%s\" in "
                     "\"%s\": %s", store_tool_dbs[i].name, st->dir,
                     gw_strerror(store__mdb_rc(rc)));
            return store__mdb_rc(rc);
        }
    }
    return GW_OK;
}

int
store_open_tool(store_t **out, const gw_conf_t *cf, int flags, char *err,
                size_t errlen)
{
    store_t      *st;
    MDB_txn      *txn;
    struct stat   sb;
    char          path[PATH_MAX];
    size_t        i;
    int           rc;

    *out = NULL;
    st = gw_calloc(1, sizeof(*st));
    st->cf = cf;
    st->dir = gw_strdup(cf->data_dir);
    for (i = 0; i < 256; i++) {
        st->chunk_dirfd[i] = -1;
    }
    /* An index that is not there is not made: a wrong data_dir must not
     * leave an empty store behind. */
    snprintf(path, sizeof(path), "%s/index/data.mdb", st->dir);
    if (stat(path, &sb) != 0) {
        rc = errno == ENOENT ? GW_ENOTFOUND : -errno;
        snprintf(err, errlen, "no store in data_dir \"%s\" (%s: %s)", st->dir,
                 path, strerror(errno));
        goto fail;
    }
    /* No mdb_env_set_mapsize: the environment opens at the size the server
     * last wrote into it (LMDB keeps the larger one in its meta page, so a
     * tool never shrinks it either). */
    if ((rc = mdb_env_create(&st->env)) != 0
        || (rc = mdb_env_set_maxdbs(st->env, 16)) != 0)
    {
        snprintf(err, errlen, "cannot set up LMDB: %s",
                 gw_strerror(store__mdb_rc(rc)));
        rc = store__mdb_rc(rc);
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/index", st->dir);
    rc = mdb_env_open(st->env, path, MDB_NOTLS
                      | (flags & STORE_TOOL_WRITE ? 0 : MDB_RDONLY), 0644);
    if (rc != 0) {
        snprintf(err, errlen, "cannot open the index in \"%s\": %s", path,
                 gw_strerror(store__mdb_rc(rc)));
        rc = store__mdb_rc(rc);
        goto fail;
    }
    /* Frees the reader slots of processes that died inside a read txn (a
     * command killed at the wrong moment): each holds back the reuse of
     * index pages until cleared. Slots of live processes, the server's
     * among them, are left alone. */
    mdb_reader_check(st->env, NULL);
    rc = store_tool_txn_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the index in \"%s\": %s", path,
                 gw_strerror(store__mdb_rc(rc)));
        rc = store__mdb_rc(rc);
        goto fail;
    }
    rc = store_tool_check(st, txn, err, errlen);
    if (rc != GW_OK) {
        mdb_txn_abort(txn);
        goto fail;
    }
    /* Committing the read txn keeps the database handles it opened (an
     * abort would close them). */
    if ((rc = mdb_txn_commit(txn)) != 0) {
        snprintf(err, errlen, "cannot read the index in \"%s\": %s", path,
                 gw_strerror(store__mdb_rc(rc)));
        rc = store__mdb_rc(rc);
        goto fail;
    }
    *out = st;
    return GW_OK;

fail:
    store_close_tool(st);
    return rc;
}

void
store_close_tool(store_t *st)
{
    if (st == NULL) {
        return;
    }
    if (st->env != NULL) {
        mdb_env_close(st->env);
    }
    gw_free(st->dir);
    gw_free(st);
}

/* Up to cap entries of bucket (or all) after sequence *after, copied into
 * out (keys too), in one read txn; *after moves past what was looked at. */
static int
store_outbox_read(store_t *st, const char *bucket, uint64_t *after,
                  store_outbox_entry_t *out, size_t cap, size_t *n)
{
    MDB_txn       *txn;
    MDB_cursor    *cur;
    MDB_val        k, v;
    unsigned char  sk[8];
    int            rc;

    *n = 0;
    rc = store_tool_txn_begin(st, MDB_RDONLY, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = mdb_cursor_open(txn, st->db_outbox, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return store__mdb_rc(rc);
    }
    store_outbox_seq_key(*after + 1, sk);
    k.mv_data = sk;
    k.mv_size = 8;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && *n < cap; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 8) {
            continue;
        }
        *after = store_outbox_seq_of(k.mv_data);
        if (store__outbox_decode(v.mv_data, v.mv_size, &out[*n]) != GW_OK
            || (bucket != NULL && strcmp(out[*n].bucket, bucket) != 0))
        {
            continue;              /* as the pusher does: skip a bad one */
        }
        out[*n].seq = *after;
        out[*n].key.base = gw_strndup(out[*n].key.base, out[*n].key.len);
        (*n)++;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc == 0 || rc == MDB_NOTFOUND ? GW_OK : store__mdb_rc(rc);
}

int
store_outbox_list(store_t *st, const char *bucket,
                  int (*cb)(void *ud, const store_outbox_entry_t *e),
                  void *ud)
{
    store_outbox_entry_t  *batch;
    uint64_t               after = 0;
    size_t                 n, i;
    int                    rc, stop = 0;

    batch = gw_calloc(STORE_TOOL_LIST_BATCH, sizeof(*batch));
    do {
        rc = store_outbox_read(st, bucket, &after, batch,
                               STORE_TOOL_LIST_BATCH, &n);
        /* No transaction is open here. */
        for (i = 0; i < n; i++) {
            if (!stop && cb(ud, &batch[i]) != 0) {
                stop = 1;
            }
            store_outbox_entry_free(&batch[i]);
        }
    } while (rc == GW_OK && n == STORE_TOOL_LIST_BATCH && !stop);
    gw_free(batch);
    return rc;
}

/* One write txn: failed entries after *after become pending, up to the
 * batch limits; *more is set when entries are left to look at. */
static int
store_outbox_retry_batch(store_t *st, const char *bucket, int64_t now_ms,
                         uint64_t *after, uint64_t *n, int *more)
{
    MDB_txn               *txn;
    MDB_cursor            *cur;
    MDB_val                k, v, nk, nv;
    store_outbox_entry_t   e;
    store_recw_t           w;
    unsigned char          sk[8];
    uint64_t               last = *after, changed = 0;
    size_t                 scanned = 0;
    int                    rc;

    *more = 0;
    rc = store_tool_txn_begin(st, 0, &txn);
    if (rc != 0) {
        return rc;
    }
    rc = mdb_cursor_open(txn, st->db_outbox, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    store_outbox_seq_key(last + 1, sk);
    k.mv_data = sk;
    k.mv_size = 8;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (scanned == STORE_TOOL_RETRY_SCAN
            || changed == STORE_TOOL_RETRY_BATCH)
        {
            *more = 1;
            break;
        }
        scanned++;
        if (k.mv_size != 8) {
            continue;
        }
        last = store_outbox_seq_of(k.mv_data);
        if (store__outbox_decode(v.mv_data, v.mv_size, &e) != GW_OK
            || !e.failed
            || (bucket != NULL && strcmp(e.bucket, bucket) != 0))
        {
            continue;
        }
        /* Pending again, due now; the attempts and the last error stay
         * (the pusher's backoff and the listing go on from them). The
         * sequence stays too: the server's own counter of sequences is
         * not this process's to move. */
        e.failed = 0;
        e.next_try_ms = now_ms;
        store_outbox_encode(&e, &w);      /* copies e.key out of the page */
        rc = store_outdue_set(st, txn, now_ms, last, 0, 1);
        if (rc != 0) {
            store__recw_free(&w);
            break;
        }
        store_outbox_seq_key(last, sk);
        nk.mv_data = sk;
        nk.mv_size = 8;
        nv.mv_data = w.buf;
        nv.mv_size = w.len;
        rc = mdb_cursor_put(cur, &nk, &nv, MDB_CURRENT);
        store__recw_free(&w);
        if (rc != 0) {
            break;
        }
        changed++;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        return rc;
    }
    *after = last;
    *n += changed;
    return 0;
}

int
store_outbox_retry_failed(store_t *st, const char *bucket, int64_t now_ms,
                          uint64_t *n)
{
    uint64_t  after = 0;
    int       rc, more;

    *n = 0;
    do {
        rc = store_outbox_retry_batch(st, bucket, now_ms, &after, n, &more);
        if (rc == MDB_MAP_FULL && store_tool_map_adopt(st)) {
            more = 1;               /* the same batch, in the bigger map */
            rc = 0;
        }
    } while (rc == 0 && more);
    return store__mdb_rc(rc);
}
