/* store/txn.c: the write path every index change takes, below the bucket,
 * object and upload code that builds the changes: the commit batcher (ops
 * applied in one syncing LMDB transaction on the thread pool), chunk pins,
 * chunk reference counts, and the object-record commit that PutObject and
 * CompleteMultipartUpload share. */
#include "store/internal.h"
#include "core/log.h"

struct store_pin_s {
    store_pin_t    *next;
    unsigned char   sha[32];
    uint32_t        count;
};

int
store__mdb_rc(int rc)
{
    return rc == MDB_NOTFOUND ? GW_ENOTFOUND
           : rc == MDB_KEYEXIST ? GW_EEXIST : rc;
}

/* ==== the commit batcher ==== */

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
    gw_free(op->key);
    gw_free(op->val);
    gw_free(op->chunks);
    gw_free(op);
}

/* Thread pool: apply every op of the batch, each in a nested txn so one
 * failing op leaves the others, then commit (and sync) once. */
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
    for (op = st->running; op != NULL; op = op->next) {
        rc = mdb_txn_begin(st->env, txn, 0, &child);
        if (rc != 0) {
            op->rc = rc;
            continue;
        }
        op->rc = op->apply(st, child, op);
        if (op->rc == GW_OK) {
            rc = mdb_txn_commit(child);
            if (rc != 0) {
                op->rc = rc;
            }
        } else {
            mdb_txn_abort(child);
        }
    }
    if (st->gen_last != st->gen_saved) {
        rc = store__generation_save(st, txn);
        if (rc != 0) {
            /* Without the counter saved, nothing of the batch may stay. */
            mdb_txn_abort(txn);
            st->batch_rc = rc;
            return;
        }
    }
    st->batch_rc = mdb_txn_commit(txn);
    if (st->batch_rc == 0) {
        st->gen_saved = st->gen_last;
    }
}

static void
store_batch_after(uv_work_t *w, int status)
{
    store_t     *st = w->data;
    store_op_t  *op, *next;

    st->busy = 0;
    op = st->running;
    st->running = NULL;
    if (st->batch_rc != 0) {
        gw_log(GW_LOG_ERR, NULL, st->batch_rc, "index commit failed");
    }
    for (; op != NULL; op = next) {
        next = op->next;
        if (op->done != NULL) {
            op->done(op->ud, st->batch_rc != 0 ? store__mdb_rc(st->batch_rc)
                                               : op->rc);
        }
        store_op_free(op);
    }
    store__batch_start(st);
}

void
store__batch_start(store_t *st)
{
    if (st->busy || st->pending == NULL) {
        if (!st->busy && st->closing && st->on_closed != NULL) {
            void (*cb)(store_t *) = st->on_closed;

            st->on_closed = NULL;
            cb(st);
        }
        return;
    }
    st->running = st->pending;
    st->pending = NULL;
    st->pending_tail = &st->pending;
    st->busy = 1;
    st->batch_rc = 0;
    st->batch_seq++;
    st->work.data = st;
    uv_queue_work(st->loop, &st->work, store_batch_work, store_batch_after);
}

void
store__submit(store_t *st, store_op_t *op)
{
    op->next = NULL;
    *st->pending_tail = op;
    st->pending_tail = &op->next;
    store__batch_start(st);
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

/* ==== pins ==== */

void
store__pins_init(store_t *st)
{
    st->npin_buckets = 4096;
    st->pins = gw_calloc(st->npin_buckets, sizeof(*st->pins));
    pthread_mutex_init(&st->pin_lock, NULL);
}

void
store__pins_free(store_t *st)
{
    store_pin_t  *p, *n;
    size_t        i;

    for (i = 0; i < st->npin_buckets; i++) {
        for (p = st->pins[i]; p != NULL; p = n) {
            n = p->next;
            gw_free(p);
        }
    }
    gw_free(st->pins);
    pthread_mutex_destroy(&st->pin_lock);
}

static size_t
store_pin_slot(store_t *st, const unsigned char sha[32])
{
    uint64_t  h;

    memcpy(&h, sha, sizeof(h));
    return (size_t) (h % st->npin_buckets);
}

void
store_pin(store_t *st, const store_chunk_ref_t *c, size_t n)
{
    store_pin_t  *p;
    size_t        i, s;

    pthread_mutex_lock(&st->pin_lock);
    for (i = 0; i < n; i++) {
        s = store_pin_slot(st, c[i].sha);
        for (p = st->pins[s]; p != NULL; p = p->next) {
            if (memcmp(p->sha, c[i].sha, 32) == 0) {
                break;
            }
        }
        if (p == NULL) {
            p = gw_alloc(sizeof(*p));
            memcpy(p->sha, c[i].sha, 32);
            p->count = 0;
            p->next = st->pins[s];
            st->pins[s] = p;
        }
        p->count++;
    }
    pthread_mutex_unlock(&st->pin_lock);
}

void
store_unpin(store_t *st, const store_chunk_ref_t *c, size_t n)
{
    store_pin_t  **pp, *p;
    size_t         i;

    pthread_mutex_lock(&st->pin_lock);
    for (i = 0; i < n; i++) {
        for (pp = &st->pins[store_pin_slot(st, c[i].sha)]; (p = *pp) != NULL;
             pp = &p->next)
        {
            if (memcmp(p->sha, c[i].sha, 32) == 0) {
                if (--p->count == 0) {
                    *pp = p->next;
                    gw_free(p);
                }
                break;
            }
        }
    }
    pthread_mutex_unlock(&st->pin_lock);
}

/* Caller holds pin_lock. */
int
store__pinned(store_t *st, const unsigned char sha[32])
{
    store_pin_t  *p;

    for (p = st->pins[store_pin_slot(st, sha)]; p != NULL; p = p->next) {
        if (memcmp(p->sha, sha, 32) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ==== reference counts ==== */

int
store__gcq_put(store_t *st, MDB_txn *txn, const unsigned char sha[32])
{
    store_recw_t  w;
    MDB_val       k, v;
    int           rc;

    store__gcq_encode(st->batch_seq, &w);
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
store__object_commit(store_t *st, MDB_txn *txn, const char *bucket,
                     gw_str_t key, void *val, size_t val_len,
                     const store_chunk_ref_t *chunks, size_t nchunks,
                     const store_cond_t *cond, uint64_t *gen)
{
    unsigned char       kb[512];
    MDB_val             k, v, bk;
    store_object_t     *old = NULL;
    store_chunk_ref_t  *oldc;
    size_t              noldc;
    int                 rc;

    bk.mv_data = (void *) bucket;
    bk.mv_size = strlen(bucket);
    rc = mdb_get(txn, st->db_buckets, &bk, &v);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? GW_ENOBUCKET : rc;
    }
    rc = store__object_find(st, txn, bucket, key, &v);
    if (rc != GW_OK && rc != GW_ENOTFOUND) {
        return rc;
    }
    if (rc == GW_ENOTFOUND) {
        if (cond->has_generation) {
            return GW_ECONFLICT;
        }
        if (cond->has_if_match) {
            return GW_ENOTFOUND;
        }
    } else {
        if (cond->has_generation || cond->has_if_match) {
            rc = store__object_decode(v.mv_data, v.mv_size, 0, &old);
            if (rc != GW_OK) {
                return rc;
            }
            rc = cond->has_generation && old->generation != cond->generation
                 ? GW_ECONFLICT
                 : cond->has_if_match
                   && (memcmp(old->md5, cond->if_match_md5, 16) != 0
                       || old->nparts != cond->if_match_nparts)
                 ? GW_EPRECOND : GW_OK;
            store_object_free(old);
            if (rc != GW_OK) {
                return rc;
            }
        }
        if (cond->if_none_match_star) {
            return GW_EPRECOND;
        }
        rc = store__object_chunks(v.mv_data, v.mv_size, &oldc, &noldc);
        if (rc != GW_OK) {
            return rc;
        }
        rc = store__refs_add(st, txn, oldc, noldc, -1);
        gw_free(oldc);
        if (rc != 0) {
            return rc;
        }
    }
    rc = store__refs_add(st, txn, chunks, nchunks, +1);
    if (rc != 0) {
        return rc;
    }
    /* A number no write had before; saved with the batch (a batch that
     * fails leaves a gap, which is harmless). */
    rc = store__object_set_generation(val, val_len, st->gen_last + 1);
    if (rc != GW_OK) {
        return rc;
    }
    k.mv_data = kb;
    k.mv_size = store__object_key(bucket, key, kb);
    v.mv_data = val;
    v.mv_size = val_len;
    rc = mdb_put(txn, st->db_objects, &k, &v, 0);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    st->gen_last++;
    if (gen != NULL) {
        *gen = st->gen_last;
    }
    return GW_OK;
}
