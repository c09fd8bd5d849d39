/* store/index.c: the LMDB index: opening and closing the store, bucket
 * records (and their versioning state), reading object records, bucket
 * configuration, listing and the collector. Changes go through the batcher
 * in txn.c; a bucket's uploads are dropped through multipart.c; writes of
 * object records are version.c's. */
#include "store/internal.h"
#include "core/metrics.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORE_GC_BATCH    512
/* Threads for durable syncs: the commit batch runs one at a time, so the
 * rest serve chunk writers; more would only queue deeper on the disk. */
#define STORE_SYNC_THREADS  4

/* ==== buckets ==== */

int
store_bucket_get(store_t *st, const char *name, store_bucket_t *out)
{
    MDB_txn  *txn;
    MDB_val   k, v;
    int       rc;

    k.mv_size = strlen(name);
    if (k.mv_size == 0 || k.mv_size > STORE_BUCKET_MAX) {
        return GW_ENOTFOUND;
    }
    rc = store__read_txn(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    k.mv_data = (void *) name;
    rc = mdb_get(txn, st->db_buckets, &k, &v);
    if (rc == 0) {
        rc = store__bucket_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size,
                                  out);
    }
    store__read_done(st, txn);
    return store__mdb_rc(rc);
}

int
store_bucket_list(store_t *st, int (*cb)(void *ud, const store_bucket_t *b),
                  void *ud)
{
    MDB_txn         *txn;
    MDB_cursor      *cur;
    MDB_val          k, v;
    store_bucket_t   b;
    int              rc;

    rc = store__read_begin(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = mdb_cursor_open(txn, st->db_buckets, &cur);
    if (rc == 0) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        {
            if (store__bucket_decode(k.mv_data, k.mv_size, v.mv_data,
                                     v.mv_size, &b) != GW_OK)
            {
                /* One damaged record must not hide every other bucket. */
                gw_log(GW_LOG_ERR, NULL, GW_ECORRUPT, "bucket record \"%.*s\"",
                       (int) GW_MIN(k.mv_size, STORE_BUCKET_MAX),
                       (const char *) k.mv_data);
                continue;
            }
            if (cb(ud, &b) != 0) {
                break;
            }
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    return rc == MDB_NOTFOUND || rc == 0 ? GW_OK : store__mdb_rc(rc);
}

/* The bconf key of (bucket, kind) into out (STORE_BUCKET_MAX + 2 +
 * STORE_BCONF_KIND_MAX bytes). */
static size_t
store_bconf_key(const char *bucket, const char *kind, char *out)
{
    size_t  bl = strlen(bucket), kl = strlen(kind);

    memcpy(out, bucket, bl + 1);
    memcpy(out + bl + 1, kind, kl);
    return bl + 1 + kl;
}

/* The bconf record of val into a buffer the op owns. */
static void
store_bconf_val(store_op_t *op, gw_str_t val)
{
    store_recw_t  w;

    store__bconf_encode(val, &w);
    op->val = store__recw_detach(&w, &op->val_len);
}

/* A new bucket's documents travel in op->val as a list of
 *   u8 kind length | kind | u32 record length (host order) | bconf record
 * so that the bucket and its documents commit in one op. */
static int
store_bucket_create_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    store_recw_t          w;
    MDB_val               k, v;
    const unsigned char  *p = op->val, *end = p + op->val_len;
    char                  kb[STORE_BUCKET_MAX + 2 + STORE_BCONF_KIND_MAX];
    char                  kind[STORE_BCONF_KIND_MAX + 1];
    uint32_t              rlen;
    int                   rc;

    k.mv_data = op->bucket_rec.name;
    k.mv_size = strlen(op->bucket_rec.name);
    store__bucket_encode(&op->bucket_rec, &w);
    v.mv_data = w.buf;
    v.mv_size = w.len;
    rc = mdb_put(txn, st->db_buckets, &k, &v, MDB_NOOVERWRITE);
    store__recw_free(&w);
    while (rc == 0 && p != NULL && p < end) {
        memcpy(kind, p + 1, p[0]);
        kind[p[0]] = '\0';
        p += 1 + p[0];
        memcpy(&rlen, p, 4);
        p += 4;
        k.mv_data = kb;
        k.mv_size = store_bconf_key(op->bucket_rec.name, kind, kb);
        v.mv_data = (void *) p;
        v.mv_size = rlen;
        rc = mdb_put(txn, st->db_bconf, &k, &v, 0);
        p += rlen;
    }
    return store__mdb_rc(rc);
}

void
store_bucket_create_docs(store_t *st, const store_bucket_t *b,
                         const store_bconf_doc_t *docs, size_t ndocs,
                         store_done_pt done, void *ud)
{
    store_op_t     *op = store__op_new(done, ud);
    store_recw_t    w;
    unsigned char  *buf = NULL;
    size_t          i, n = 0, klen;
    uint32_t        rlen;

    op->apply = store_bucket_create_apply;
    op->bucket_rec = *b;
    for (i = 0; i < ndocs; i++) {
        if (docs[i].doc.len == 0) {
            continue;
        }
        klen = GW_MIN(strlen(docs[i].kind), STORE_BCONF_KIND_MAX);
        store__bconf_encode(docs[i].doc, &w);
        rlen = (uint32_t) w.len;
        buf = gw_realloc(buf, n + 1 + klen + 4 + rlen);
        buf[n] = (unsigned char) klen;
        memcpy(buf + n + 1, docs[i].kind, klen);
        memcpy(buf + n + 1 + klen, &rlen, 4);
        memcpy(buf + n + 1 + klen + 4, w.buf, rlen);
        n += 1 + klen + 4 + rlen;
        store__recw_free(&w);
    }
    op->val = buf;
    op->val_len = n;
    store__submit(st, op);
}

void
store_bucket_create(store_t *st, const store_bucket_t *b, gw_str_t acl,
                    store_done_pt done, void *ud)
{
    store_bconf_doc_t  doc = { STORE_BCONF_ACL, acl };

    store_bucket_create_docs(st, b, &doc, 1, done, ud);
}

/* ==== bucket configuration documents ==== */

int
store_bconf_get(store_t *st, const char *bucket, const char *kind,
                gw_pool_t *pool, gw_str_t *out)
{
    MDB_txn   *txn;
    MDB_val    k, v;
    gw_str_t   doc;
    char       kb[STORE_BUCKET_MAX + 2 + STORE_BCONF_KIND_MAX], *buf;
    int        rc;

    if (strlen(bucket) > STORE_BUCKET_MAX
        || strlen(kind) > STORE_BCONF_KIND_MAX)
    {
        return GW_ENOTFOUND;
    }
    rc = store__read_txn(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    k.mv_data = kb;
    k.mv_size = store_bconf_key(bucket, kind, kb);
    rc = mdb_get(txn, st->db_bconf, &k, &v);
    if (rc == 0) {
        rc = store__bconf_decode(v.mv_data, v.mv_size, &doc);
    }
    if (rc == 0) {
        buf = gw_pool_alloc(pool, doc.len + 1);
        memcpy(buf, doc.base, doc.len);
        buf[doc.len] = '\0';
        out->base = buf;
        out->len = doc.len;
    }
    store__read_done(st, txn);
    return store__mdb_rc(rc);
}

static int
store_bconf_put_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    MDB_val  k, v;
    char     kb[STORE_BUCKET_MAX + 2 + STORE_BCONF_KIND_MAX];
    int      rc;

    k.mv_data = op->bucket;
    k.mv_size = strlen(op->bucket);
    rc = mdb_get(txn, st->db_buckets, &k, &v);
    if (rc == MDB_NOTFOUND) {
        return GW_ENOBUCKET;
    }
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    k.mv_data = kb;
    k.mv_size = store_bconf_key(op->bucket, op->key, kb);
    if (op->val == NULL) {
        rc = mdb_del(txn, st->db_bconf, &k, NULL);
        return rc == MDB_NOTFOUND ? GW_OK : store__mdb_rc(rc);
    }
    v.mv_data = op->val;
    v.mv_size = op->val_len;
    return store__mdb_rc(mdb_put(txn, st->db_bconf, &k, &v, 0));
}

void
store_bconf_put(store_t *st, const char *bucket, const char *kind,
                gw_str_t val, store_done_pt done, void *ud)
{
    store_op_t  *op = store__op_new(done, ud);

    op->apply = store_bconf_put_apply;
    op->frees = op->deletes = val.base == NULL;
    snprintf(op->bucket, sizeof(op->bucket), "%s", bucket);
    op->key = gw_strndup(kind, GW_MIN(strlen(kind), STORE_BCONF_KIND_MAX));
    op->key_len = strlen(op->key);
    if (val.base != NULL) {
        store_bconf_val(op, val);
    }
    store__submit(st, op);
}

int
store_bconf_next(store_t *st, const char *kind, const char *after,
                 char out[STORE_BUCKET_MAX + 1])
{
    MDB_txn     *txn;
    MDB_cursor  *cur;
    MDB_val      k, v;
    char         kb[STORE_BUCKET_MAX + 2];
    size_t       alen = strlen(after), klen = strlen(kind), blen;
    int          rc;

    if (alen > STORE_BUCKET_MAX) {
        return GW_ENOTFOUND;
    }
    rc = store__read_begin(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = mdb_cursor_open(txn, st->db_bconf, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return store__mdb_rc(rc);
    }
    /* "after" 0x01 sorts after every "after" 0x00 kind and before any
     * longer name (bucket names have no byte below 0x2d). */
    memcpy(kb, after, alen);
    kb[alen] = '\x01';
    k.mv_data = kb;
    k.mv_size = alen + 1;
    for (rc = mdb_cursor_get(cur, &k, &v, alen > 0 ? MDB_SET_RANGE : MDB_FIRST);
         rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        const char  *z = memchr(k.mv_data, 0, k.mv_size);

        if (z == NULL) {
            continue;
        }
        blen = (size_t) (z - (const char *) k.mv_data);
        if (blen <= STORE_BUCKET_MAX && k.mv_size - blen - 1 == klen
            && memcmp(z + 1, kind, klen) == 0)
        {
            memcpy(out, k.mv_data, blen);
            out[blen] = '\0';
            break;
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return store__mdb_rc(rc);
}

/* ==== the lifecycle worker's cursor ==== */

int
store_lc_cursor_get(store_t *st, store_lc_cursor_t *out)
{
    MDB_txn  *txn;
    MDB_val   k, v;
    int       rc;

    rc = store__read_begin(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    k.mv_data = STORE_META_LC;
    k.mv_size = sizeof(STORE_META_LC) - 1;
    rc = mdb_get(txn, st->db_meta, &k, &v);
    rc = rc == 0 ? store__lc_cursor_decode(v.mv_data, v.mv_size, out)
                 : store__mdb_rc(rc);
    mdb_txn_abort(txn);
    return rc;
}

static int
store_lc_cursor_put_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    MDB_val  k, v;

    k.mv_data = STORE_META_LC;
    k.mv_size = sizeof(STORE_META_LC) - 1;
    v.mv_data = op->val;
    v.mv_size = op->val_len;
    return store__mdb_rc(mdb_put(txn, st->db_meta, &k, &v, 0));
}

void
store_lc_cursor_put(store_t *st, const store_lc_cursor_t *c,
                    store_done_pt done, void *ud)
{
    store_op_t    *op = store__op_new(done, ud);
    store_recw_t   w;

    op->apply = store_lc_cursor_put_apply;
    store__lc_cursor_encode(c, &w);
    op->val = store__recw_detach(&w, &op->val_len);
    store__submit(st, op);
}

/* Removes every configuration document of bucket. */
static int
store_bconf_drop_bucket(store_t *st, MDB_txn *txn, const char *bucket)
{
    MDB_cursor  *cur;
    MDB_val      k, v;
    size_t       bl = strlen(bucket) + 1;
    int          rc;

    rc = mdb_cursor_open(txn, st->db_bconf, &cur);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    k.mv_data = (void *) bucket;
    k.mv_size = bl;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size >= bl && memcmp(k.mv_data, bucket, bl) == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0) {
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? GW_OK : store__mdb_rc(rc);
}

/* ==== versioning state ==== */

static int
store_bucket_versioning_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    store_bucket_t  b;
    store_recw_t    w;
    MDB_val         k, v;
    int             rc;

    k.mv_data = op->bucket;
    k.mv_size = strlen(op->bucket);
    rc = mdb_get(txn, st->db_buckets, &k, &v);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? GW_ENOBUCKET : store__mdb_rc(rc);
    }
    rc = store__bucket_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, &b);
    if (rc != GW_OK) {
        return rc;
    }
    b.versioning = (uint8_t) op->partno;
    store__bucket_encode(&b, &w);
    v.mv_data = w.buf;
    v.mv_size = w.len;
    rc = mdb_put(txn, st->db_buckets, &k, &v, 0);
    store__recw_free(&w);
    return store__mdb_rc(rc);
}

void
store_bucket_versioning(store_t *st, const char *bucket, int state,
                        store_done_pt done, void *ud)
{
    store_op_t  *op = store__op_new(done, ud);

    op->apply = store_bucket_versioning_apply;
    snprintf(op->bucket, sizeof(op->bucket), "%s", bucket);
    op->partno = (uint32_t) state;
    store__submit(st, op);
}

/* 1 when some object key of bucket exists. */
static int
store_bucket_has_objects(store_t *st, MDB_txn *txn, const char *bucket,
                         int *has)
{
    MDB_cursor  *cur;
    MDB_val      k, v;
    size_t       bl = strlen(bucket);
    char         prefix[STORE_BUCKET_MAX + 2];
    int          rc;

    memcpy(prefix, bucket, bl + 1);
    rc = mdb_cursor_open(txn, st->db_objects, &cur);
    if (rc != 0) {
        return rc;
    }
    k.mv_data = prefix;
    k.mv_size = bl + 1;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    *has = rc == 0 && k.mv_size >= bl + 1 && memcmp(k.mv_data, prefix, bl + 1) == 0;
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

static int
store_bucket_delete_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    MDB_val  k;
    int      rc, has;

    rc = store_bucket_has_objects(st, txn, op->bucket, &has);
    if (rc != 0) {
        return rc;
    }
    if (has) {
        return GW_ENOTEMPTY;
    }
    rc = store__uploads_drop_bucket(st, txn, op->bucket);
    if (rc == GW_OK) {
        rc = store_bconf_drop_bucket(st, txn, op->bucket);
    }
    if (rc != GW_OK) {
        return rc;
    }
    k.mv_data = op->bucket;
    k.mv_size = strlen(op->bucket);
    return store__mdb_rc(mdb_del(txn, st->db_buckets, &k, NULL));
}

void
store_bucket_delete(store_t *st, const char *name, store_done_pt done,
                    void *ud)
{
    store_op_t  *op = store__op_new(done, ud);

    op->apply = store_bucket_delete_apply;
    op->frees = op->deletes = 1;
    snprintf(op->bucket, sizeof(op->bucket), "%s", name);
    store__submit(st, op);
}

/* ==== objects ==== */

int
store_object_get(store_t *st, const char *bucket, gw_str_t key,
                 store_object_t **out)
{
    MDB_txn  *txn;
    MDB_val   v;
    int       rc;

    /* The caller pins the chunks in this loop turn (pin.c). */
    store__read_mark(st);
    rc = store__read_txn(st, &txn);
    if (rc != 0) {
        return rc;
    }
    rc = store__object_find(st, txn, bucket, key, &v);
    if (rc == GW_OK) {
        rc = store__object_decode(v.mv_data, v.mv_size, STORE_DECODE_CHUNKS,
                                  out);
    }
    if (rc == GW_OK && ((*out)->vflags & STORE_VF_MARKER)) {
        store_object_free(*out);     /* deleted, as far as reads go */
        *out = NULL;
        rc = GW_ENOTFOUND;
    }
    store__read_done(st, txn);
    return rc;
}

/* ==== listing ==== */

struct store_iter_s {
    store_t          *st;
    MDB_txn          *txn;
    MDB_cursor       *cur;
    unsigned char     prefix[STORE_BUCKET_MAX + 2];
    size_t            plen;
    int               positioned;   /* cursor is on the next entry to read */
    int               at_end;
    int               markers;      /* delete markers too (version.c) */
    store_object_t   *last;
    /* A group of long keys with one direct prefix, sorted by full key. */
    store_object_t  **group;
    size_t            ngroup, igroup;
};

store_iter_t *
store_iter_open(store_t *st, const char *bucket)
{
    store_iter_t  *it = gw_calloc(1, sizeof(*it));

    it->st = st;
    it->plen = strlen(bucket) + 1;
    memcpy(it->prefix, bucket, it->plen);
    if (store__read_begin(st, &it->txn) != 0) {
        it->txn = NULL;
        it->at_end = 1;
        return it;
    }
    /* The map must not move under this txn: no resize until it ends. */
    st->readers++;
    if (mdb_cursor_open(it->txn, st->db_objects, &it->cur) != 0) {
        it->cur = NULL;
        it->at_end = 1;
    }
    return it;
}

static void
store_iter_group_free(store_iter_t *it)
{
    size_t  i;

    for (i = it->igroup; i < it->ngroup; i++) {
        store_object_free(it->group[i]);
    }
    gw_free(it->group);
    it->group = NULL;
    it->ngroup = it->igroup = 0;
}

int
store_iter_seek(store_iter_t *it, gw_str_t key, int after)
{
    unsigned char        kb[512];
    MDB_val              k, v;
    int                  rc;
    gw_str_t             probe = key;
    const store_object_t *o;

    if (it->at_end && it->cur == NULL) {
        return GW_ENOTFOUND;
    }
    store_iter_group_free(it);
    /* A long key seeks to its group; the group is then skipped through. */
    if (probe.len > STORE_KEY_DIRECT) {
        probe.len = STORE_KEY_DIRECT;
    }
    memcpy(kb, it->prefix, it->plen);
    memcpy(kb + it->plen, probe.base, probe.len);
    k.mv_data = kb;
    k.mv_size = it->plen + probe.len;
    rc = mdb_cursor_get(it->cur, &k, &v, MDB_SET_RANGE);
    it->at_end = rc != 0;
    it->positioned = rc == 0;
    if (key.len <= STORE_KEY_DIRECT && !after) {
        return GW_OK;
    }
    /* Skip what is < key (or <= key with after). */
    for (;;) {
        rc = store_iter_next(it, &o);
        if (rc != GW_OK) {
            return GW_OK;
        }
        size_t  m = GW_MIN(o->key.len, key.len);
        int     c = memcmp(o->key.base, key.base, m);

        if (c > 0 || (c == 0 && (o->key.len > key.len
                                 || (!after && o->key.len == key.len))))
        {
            /* Push it back: it is the next one to return. */
            store_object_t **g = gw_alloc(sizeof(*g) * (it->ngroup - it->igroup + 1));
            size_t           n = 0, i;

            g[n++] = it->last;
            it->last = NULL;
            for (i = it->igroup; i < it->ngroup; i++) {
                g[n++] = it->group[i];
            }
            gw_free(it->group);
            it->group = g;
            it->ngroup = n;
            it->igroup = 0;
            return GW_OK;
        }
    }
}

static int
store_iter_cmp(const void *a, const void *b)
{
    const store_object_t  *x = *(store_object_t *const *) a;
    const store_object_t  *y = *(store_object_t *const *) b;
    size_t                 m = GW_MIN(x->key.len, y->key.len);
    int                    c = memcmp(x->key.base, y->key.base, m);

    return c != 0 ? c : (x->key.len > y->key.len) - (x->key.len < y->key.len);
}

MDB_txn *
store__iter_txn(store_iter_t *it)
{
    return it->txn;
}

const char *
store__iter_bucket(store_iter_t *it, char *buf)
{
    memcpy(buf, it->prefix, it->plen);      /* the name and its 0x00 */
    return buf;
}

void
store__iter_markers(store_iter_t *it)
{
    it->markers = 1;
}

static int store_iter_any(store_iter_t *it, const store_object_t **out);

/* Listings of objects skip delete markers: a key whose current version is
 * one is deleted as far as they are concerned. */
int
store_iter_next(store_iter_t *it, const store_object_t **out)
{
    int  rc;

    while ((rc = store_iter_any(it, out)) == GW_OK && !it->markers
           && ((*out)->vflags & STORE_VF_MARKER))
    {
        /* next */
    }
    return rc;
}

static int
store_iter_any(store_iter_t *it, const store_object_t **out)
{
    MDB_val          k, v;
    store_object_t  *o;
    size_t           cap = 0;
    unsigned char    gkey[512];
    size_t           glen;
    int              rc;

    store_object_free(it->last);
    it->last = NULL;
    if (it->igroup < it->ngroup) {
        it->last = it->group[it->igroup++];
        *out = it->last;
        return GW_OK;
    }
    store_iter_group_free(it);
    if (it->at_end) {
        return GW_ENOTFOUND;
    }
    if (it->positioned) {
        rc = mdb_cursor_get(it->cur, &k, &v, MDB_GET_CURRENT);
        it->positioned = 0;
    } else {
        rc = mdb_cursor_get(it->cur, &k, &v, MDB_NEXT);
    }
    if (rc != 0 || k.mv_size < it->plen
        || memcmp(k.mv_data, it->prefix, it->plen) != 0)
    {
        it->at_end = 1;
        return GW_ENOTFOUND;
    }
    if (k.mv_size <= it->plen + STORE_KEY_DIRECT) {
        rc = store__object_decode(v.mv_data, v.mv_size, 0, &o);
        if (rc != GW_OK) {
            return rc;
        }
        /* The record's key is the LMDB key's tail for direct keys. */
        it->last = o;
        *out = o;
        return GW_OK;
    }
    /* Long keys: gather the group that shares this direct prefix. */
    glen = it->plen + STORE_KEY_DIRECT + 1;
    memcpy(gkey, k.mv_data, glen);
    for (;;) {
        rc = store__object_decode(v.mv_data, v.mv_size, 0, &o);
        if (rc != GW_OK) {
            return rc;
        }
        if (it->ngroup == cap) {
            cap = cap ? cap * 2 : 8;
            it->group = gw_realloc(it->group, sizeof(*it->group) * cap);
        }
        it->group[it->ngroup++] = o;
        rc = mdb_cursor_get(it->cur, &k, &v, MDB_NEXT);
        if (rc != 0 || k.mv_size < glen || memcmp(k.mv_data, gkey, glen) != 0) {
            break;
        }
    }
    if (rc == 0) {
        it->positioned = 1;     /* the cursor already sits on the next one */
    } else {
        it->at_end = 1;
    }
    qsort(it->group, it->ngroup, sizeof(*it->group), store_iter_cmp);
    it->igroup = 1;
    it->last = it->group[0];
    *out = it->last;
    if (it->at_end && rc != MDB_NOTFOUND && rc != 0) {
        return rc;
    }
    it->at_end = 0;
    if (rc != 0) {
        it->at_end = 1;
    }
    return GW_OK;
}

void
store_iter_close(store_iter_t *it)
{
    if (it == NULL) {
        return;
    }
    store_object_free(it->last);
    store_iter_group_free(it);
    if (it->cur) {
        mdb_cursor_close(it->cur);
    }
    if (it->txn) {
        mdb_txn_abort(it->txn);
        if (--it->st->readers == 0 && it->st->map_want > 0) {
            store__batch_start(it->st);      /* a resize waited for it */
        }
    }
    gw_free(it);
}

/* ==== chunk file names ==== */

void
store_chunk_path(store_t *st, const unsigned char sha[32], char *buf,
                 size_t cap)
{
    static const char  hex[] = "0123456789abcdef";
    char               name[65];
    size_t             i;

    for (i = 0; i < 32; i++) {
        name[2 * i] = hex[sha[i] >> 4];
        name[2 * i + 1] = hex[sha[i] & 15];
    }
    name[64] = '\0';
    snprintf(buf, cap, "%s/chunks/%.2s/%s", st->dir, name, name);
}

/* ==== the collector ====
 *
 * No chunk file is unlinked inside a write transaction: an unlink can take a
 * while, and every PUT and DELETE of every worker waits for the batch. A
 * collection is a job on a pool thread (store_gc_work), outside any write
 * transaction, and then an op of the batcher (store_gc_clean_apply) that
 * drops the gcq entries of the files the job found gone.
 *
 * Why the job never unlinks a chunk someone needs. For each gcq entry it
 * takes every pin table's lock, THEN renews its read transaction (snapshot
 * S), then reads the lowest read mark of all workers; it unlinks only when,
 * in S, the entry is there with a zeroing transaction D no later than that
 * mark, no reference exists, and no table pins the chunk, and it unlinks
 * before it lets the locks go.
 *  - A reader whose snapshot is older than D may have found a record that
 *    refers to the chunk. It lowered its mark (to at most its snapshot,
 *    below D) before its read transaction began, and the mark stays there
 *    until its loop turn is over, after its pins (pin.c). The mark read
 *    under the locks is not below D, so that reader's turn was over: it
 *    pinned before the locks were taken, and the pin is seen, or it is done
 *    with the chunk.
 *  - Snapshots from D to S see no reference: one added in between would be
 *    in S, or its removal would have queued the entry again with a later D.
 *  - A reference committed after S comes from a writer of the same bytes
 *    (the name is the content's hash) or from a copy of a record a reader
 *    found, both pinned from before their commit until after it. A pin
 *    taken before the locks is seen. One taken after them waits for the
 *    locks; a writer renames its file into place only after its pin, so it
 *    puts the file back after the unlink. Had the snapshot been taken before
 *    the locks, a writer could pin, rename, commit and unpin in between and
 *    the job would unlink a chunk of a committed object.
 * The entry is re-read in S, not taken from an earlier choice: between a
 * choice and the unlink the chunk may be referred to again and dropped
 * again, with a reader of the new record not yet pinned.
 *
 * Crash safety: an entry is dropped only by a later batch, and only while
 * no reference exists and its file is gone (stat: ENOENT). A crash leaves
 * the file with its entry (collected after the restart) or the entry alone
 * (dropped by the next collection), never a file nobody will collect. A
 * writer that puts the same bytes back after that check either commits its
 * reference, or gives them to the collector (store_writer_orphans_apply),
 * or dies, and the sweep finds the file (sweep.c). */

typedef struct store_gc_job_s {
    uv_work_t       work;
    store_t        *st;
    int             rc;             /* LMDB's, of the read transaction */
    int             bad;            /* entries with a key of the wrong size */
    size_t          unlinked;
    size_t          ngone;          /* gcq entries to drop: file gone, or
                                     * referred to again */
    unsigned char   gone[STORE_GC_BATCH][32];
} store_gc_job_t;

/* Pool thread: the checks above for one entry, and its unlink. txn is a
 * reset read transaction. Returns 1 when the file is gone, 0 when it stays,
 * or, negative, the error of the renewal (an LMDB code, or -errno). */
static int
store_gc_one(store_t *st, MDB_txn *txn, const unsigned char sha[32],
             store_gc_job_t *job)
{
    MDB_val   k, v;
    uint64_t  seq, zeroed;
    char      path[PATH_MAX];
    int       rc, gone = 0;

    k.mv_data = (void *) sha;
    k.mv_size = 32;
    store__pins_lock_all(st);
    rc = mdb_txn_renew(txn);                /* after the locks: see above */
    if (rc != 0) {
        store__pins_unlock_all(st);
        return rc > 0 ? -rc : rc;   /* LMDB's codes are negative already */
    }
    if (mdb_get(txn, st->db_gcq, &k, &v) == 0) {
        /* A damaged entry counts as zeroed long ago: the chunk is still
         * only deleted if nothing refers to it. */
        if (store__gcq_decode(v.mv_data, v.mv_size, &seq, &zeroed) != GW_OK) {
            zeroed = 0;
        }
        if (mdb_get(txn, st->db_refs, &k, &v) == 0) {
            gone = 1;               /* referred to again: drop the entry */
        } else if (zeroed <= store__read_mark_min(st)
                   && !store__pinned(st, sha))
        {
            store_chunk_path(st, sha, path, sizeof(path));
            if (unlink(path) == 0) {
                job->unlinked++;
                gone = 1;
            } else {
                gone = errno == ENOENT;
            }
        }
    }
    mdb_txn_reset(txn);
    store__pins_unlock_all(st);
    return gone;
}

/* Pool thread, no write transaction: one pass over (the start of) gcq. The
 * entries are read first, in a snapshot of their own, then each is checked
 * again under the locks in store_gc_one. */
static void
store_gc_work(uv_work_t *w)
{
    store_gc_job_t  *job = w->data;
    store_t         *st = job->st;
    unsigned char  (*cand)[32];
    MDB_txn         *txn;
    MDB_cursor      *cur;
    MDB_val          k, v;
    size_t           n = 0, i;
    int              rc;

    rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        job->rc = rc;
        return;
    }
    cand = gw_alloc(STORE_GC_BATCH * sizeof(*cand));
    rc = mdb_cursor_open(txn, st->db_gcq, &cur);
    if (rc == 0) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
             rc == 0 && n < STORE_GC_BATCH;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        {
            if (k.mv_size != 32) {
                job->bad = 1;
                continue;
            }
            memcpy(cand[n++], k.mv_data, 32);
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_reset(txn);
    for (i = 0; i < n; i++) {
        rc = store_gc_one(st, txn, cand[i], job);
        if (rc < 0) {
            job->rc = rc;           /* e.g. another worker grew the map */
            break;
        }
        if (rc == 1) {
            memcpy(job->gone[job->ngone++], cand[i], 32);
        }
    }
    mdb_txn_abort(txn);
    gw_free(cand);
}

/* Inside a batch: drops the gcq entries of the job's chunks that are
 * referred to again, or have no reference and no file (see above). */
static int
store_gc_clean_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    MDB_cursor   *cur;
    MDB_val       k, v;
    struct stat   sb;
    char          path[PATH_MAX];
    size_t        i;
    int           rc = 0, drop;

    for (i = 0; i < op->nchunks && rc == 0; i++) {
        k.mv_data = op->chunks[i].sha;
        k.mv_size = 32;
        drop = mdb_get(txn, st->db_refs, &k, &v) == 0;
        if (!drop) {
            store_chunk_path(st, op->chunks[i].sha, path, sizeof(path));
            drop = stat(path, &sb) != 0 && errno == ENOENT;
        }
        if (drop) {
            rc = mdb_del(txn, st->db_gcq, &k, NULL);
            rc = rc == MDB_NOTFOUND ? 0 : rc;
        }
    }
    if (rc == 0 && op->partno) {
        /* Keys of the wrong size: no chunk is named by them. */
        rc = mdb_cursor_open(txn, st->db_gcq, &cur);
        if (rc != 0) {
            return rc;
        }
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        {
            if (k.mv_size != 32 && (rc = mdb_cursor_del(cur, 0)) != 0) {
                break;
            }
        }
        mdb_cursor_close(cur);
    }
    return rc == 0 || rc == MDB_NOTFOUND ? GW_OK : rc;
}

static void
store_gc_done(void *ud, int rc)
{
    store_t  *st = ud;

    st->gc_queued = 0;
    if (rc != GW_OK) {
        /* A full disk was already reported; the next tick tries again. */
        gw_log(store__nospace(rc) ? GW_LOG_INFO : GW_LOG_ERR, NULL, rc,
               "chunk collection failed");
    }
}

static void
store_gc_after(uv_work_t *w, int status)
{
    store_gc_job_t  *job = w->data;
    store_t         *st = job->st;
    store_op_t      *op;
    size_t           i;

    GW_UNUSED(status);          /* never cancelled */
    gw_metrics_gc_collected((uint64_t) job->unlinked);
    /* Its read transaction held a map resize back. */
    if (--st->readers == 0 && st->map_want > 0) {
        store__batch_start(st);
    }
    if (job->rc == MDB_MAP_RESIZED) {
        st->map_adopt = 1;      /* adopted before the next batch */
    } else if (job->rc != 0) {
        gw_log(GW_LOG_ERR, NULL, store__mdb_rc(job->rc),
               "chunk collection failed");
    }
    if (job->ngone == 0 && !job->bad) {
        st->gc_queued = 0;
    } else {
        op = store__op_new(store_gc_done, st);
        op->apply = store_gc_clean_apply;
        op->frees = 1;
        op->partno = (uint32_t) job->bad;
        op->chunks = gw_calloc(GW_MAX(job->ngone, 1), sizeof(*op->chunks));
        for (i = 0; i < job->ngone; i++) {
            memcpy(op->chunks[i].sha, job->gone[i], 32);
        }
        op->nchunks = job->ngone;
        store__submit(st, op);
    }
    gw_free(job);
    store__job_end(st);
}

/* Loop: starts a collection (see above). */
static void
store_gc_start(store_t *st)
{
    store_gc_job_t  *job = gw_calloc(1, sizeof(*job));

    job->st = st;
    job->work.data = job;
    /* The job's read transaction counts as a reader: the map is not
     * resized under it. */
    st->readers++;
    st->gc_queued = 1;
    if (uv_queue_work(st->loop, &job->work, store_gc_work, store_gc_after)
        != 0)
    {
        st->readers--;
        st->gc_queued = 0;
        gw_free(job);
        return;
    }
    store__job_begin(st);       /* store_close waits for it */
}

static void
store_gc_tick(uv_timer_t *t)
{
    store_t     *st = t->data;
    MDB_txn     *txn;
    MDB_stat     ms;
    int          dead = 0;

    if (st->closing) {
        return;
    }
    store__room_check(st);
    if (!st->collect) {
        return;         /* one worker collects (see store_open_opts) */
    }
    /* Reader slots of workers that died keep old pages from reuse. */
    if (mdb_reader_check(st->env, &dead) == 0 && dead > 0) {
        gw_log(GW_LOG_NOTICE, NULL, 0, "cleared %d stale index readers",
               dead);
    }
    store__sweep_tick(st);
    if (st->gc_queued) {
        return;
    }
    /* Stale multipart uploads: looked for about once a minute, or faster
     * when they expire sooner. */
    if (st->cf->multipart_expire_ms > 0
        && uv_now(st->loop) >= st->next_expire_scan)
    {
        st->next_expire_scan = uv_now(st->loop)
                               + GW_MIN(60000, st->cf->multipart_expire_ms / 2);
        store__uploads_expire(st, st->cf->multipart_expire_ms);
    }
    if (store__read_begin(st, &txn) != 0) {
        return;
    }
    ms.ms_entries = 0;
    mdb_stat(txn, st->db_gcq, &ms);
    mdb_txn_abort(txn);
    if (ms.ms_entries == 0) {
        return;
    }
    store_gc_start(st);
}

size_t
store_chunk_count(store_t *st)
{
    MDB_txn   *txn;
    MDB_stat   ms;

    if (store__read_begin(st, &txn) != 0) {
        return 0;
    }
    ms.ms_entries = 0;
    mdb_stat(txn, st->db_refs, &ms);
    mdb_txn_abort(txn);
    return ms.ms_entries;
}

/* ==== opening and closing ==== */

static void store_closed(store_t *st);

static int
store_mkdir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        return -errno;
    }
    return GW_OK;
}

/* The entries of the store's own directories (data_dir in its parent,
 * index/, chunks/, tmp/, the 256 chunks/XX, the index files) must be
 * durable before anything stored in them is acknowledged: chunk and LMDB
 * syncs cover the files, not the names that lead to them. At every start,
 * which also covers a crash right after a first one. */
static int
store_sync_dirs(store_t *st)
{
    static const char  *dirs[] = { "..", ".", "index", "chunks", "tmp" };
    char                path[PATH_MAX];
    size_t              i;
    int                 fd, rc = GW_OK;

    for (i = 0; i < GW_NELEMS(dirs) && rc == GW_OK; i++) {
        snprintf(path, sizeof(path), "%s/%s", st->dir, dirs[i]);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0) {
            rc = -errno;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    for (i = 0; i < 256 && rc == GW_OK; i++) {
        if (fsync(st->chunk_dirfd[i]) != 0) {
            rc = -errno;
        }
    }
    return rc;
}

int
store_open(store_t **out, uv_loop_t *loop, const gw_conf_t *cf)
{
    store_open_opts_t  o = { NULL, 0, 1, 1 };

    return store_open_opts(out, loop, cf, &o);
}

int
store_prepare(const gw_conf_t *cf)
{
    store_open_opts_t  o = { NULL, 0, 1, 0 };
    store_t           *st;
    int                rc;

    rc = store_open_opts(&st, NULL, cf, &o);
    if (rc == GW_OK) {
        store_closed(st);
        gw_free(st);
    }
    return rc;
}

/* data_dir and its index/, chunks/, tmp/, and the 256 chunks/XX, each of
 * which stays open (st->chunk_dirfd) for the chunk files made in it. */
static int
store_open_dirs(store_t *st)
{
    static const char  *subs[] = { "index", "chunks", "tmp" };
    char                path[PATH_MAX];
    size_t              i;
    int                 rc;

    rc = store_mkdir(st->dir);
    if (rc != GW_OK) {
        gw_log(GW_LOG_CRIT, NULL, rc, "cannot create data_dir \"%s\"", st->dir);
        return rc;
    }
    for (i = 0; i < GW_NELEMS(subs); i++) {
        snprintf(path, sizeof(path), "%s/%s", st->dir, subs[i]);
        if ((rc = store_mkdir(path)) != GW_OK) {
            gw_log(GW_LOG_CRIT, NULL, rc, "cannot create \"%s\"", path);
            return rc;
        }
    }
    for (i = 0; i < 256; i++) {
        snprintf(path, sizeof(path), "%s/chunks/%02zx", st->dir, i);
        if ((rc = store_mkdir(path)) != GW_OK) {
            return rc;
        }
        st->chunk_dirfd[i] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (st->chunk_dirfd[i] < 0) {
            return -errno;
        }
    }
    return GW_OK;
}

/* The LMDB env in <data>/index. Once it is open, the directories that lead
 * to it are synced (store_sync_dirs says why). Returns GW_OK, an errno or
 * an MDB_* code: the caller maps it. On failure st->env may be set, and the
 * caller closes it. */
static int
store_open_env(store_t *st)
{
    char  path[PATH_MAX];
    int   rc;

    if ((rc = mdb_env_create(&st->env)) != 0
        || (rc = mdb_env_set_maxdbs(st->env, 16)) != 0
        || (rc = mdb_env_set_mapsize(st->env, store__map_initial(st->cf))) != 0)
    {
        return rc;
    }
    snprintf(path, sizeof(path), "%s/index", st->dir);
    rc = mdb_env_open(st->env, path,
                      MDB_NOTLS | (st->cf->fsync ? 0 : MDB_NOSYNC), 0644);
    if (rc != 0) {
        gw_log(GW_LOG_CRIT, NULL, store__mdb_rc(rc), "cannot open the index "
               "in \"%s\"", path);
        return rc;
    }
    if (st->fsync && (rc = store_sync_dirs(st)) != GW_OK) {
        gw_log(GW_LOG_CRIT, NULL, rc, "cannot sync the directories of "
               "data_dir \"%s\"", st->dir);
        return rc;
    }
    return GW_OK;
}

/* The format marker (checked, created or upgraded), every database handle
 * and the generation counter, in one write transaction (format.c). Returns
 * GW_OK, GW_EFORMAT (already logged) or another error, which the caller
 * maps. */
static int
store_open_format(store_t *st)
{
    MDB_txn  *txn;
    int       rc;

    /* Nothing else runs yet: when these need room, it is made at once. */
    do {
        if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0) {
            return rc;
        }
        rc = store__format_open(st, txn);
        if (rc == GW_OK) {
            rc = mdb_txn_commit(txn);
        } else {
            mdb_txn_abort(txn);
        }
    } while (rc != GW_OK && store__room_make(st, rc));
    if (rc != GW_OK && rc != GW_EFORMAT) {
        gw_log(GW_LOG_CRIT, NULL, store__mdb_rc(rc), "cannot set up the "
               "index in \"%s/index\"", st->dir);
    }
    return rc;
}

/* What an earlier process left behind: its temp files and its readers. */
static void
store_open_recover(store_t *st, const store_open_opts_t *o)
{
    int  dead;

    /* A worker of several starts beside others that write: their temp
     * files are theirs, and the master emptied tmp/ before any of them.
     * The chunk files are swept in the background, by the worker that
     * collects (sweep.c). */
    if (o->sweep) {
        store__sweep_tmp(st);
    }
    /* Reader slots of a worker this one replaces. */
    if (mdb_reader_check(st->env, &dead) == 0 && dead > 0) {
        gw_log(GW_LOG_NOTICE, NULL, 0, "cleared %d stale index readers",
               dead);
    }
}

/* The pieces that run on st->loop: the end-of-turn hook, the sync threads
 * and the collector's timer. */
static int
store_open_background(store_t *st)
{
    int  rc;

    store__turn_start(st);
    rc = gw_tpool_open(&st->sync_pool, st->loop, STORE_SYNC_THREADS);
    if (rc != GW_OK) {
        gw_log(GW_LOG_CRIT, NULL, rc, "cannot start the sync threads");
        return rc;
    }
    uv_timer_init(st->loop, &st->gc_timer);
    st->gc_timer.data = st;
    uv_timer_start(&st->gc_timer, store_gc_tick, 100, st->cf->gc_interval_ms);
    uv_unref((uv_handle_t *) &st->gc_timer);
    return GW_OK;
}

int
store_open_opts(store_t **out, uv_loop_t *loop, const gw_conf_t *cf,
                const store_open_opts_t *o)
{
    store_t  *st;
    size_t    i;
    int       rc;

    st = gw_calloc(1, sizeof(*st));
    st->loop = loop;
    st->cf = cf;
    st->dir = gw_strdup(cf->data_dir);
    st->fsync = cf->fsync;
    st->pending_tail = &st->pending;
    st->batch_seq = 1;
    st->collect = o->collect;
    for (i = 0; i < 256; i++) {
        st->chunk_dirfd[i] = -1;
    }
    /* Each step leaves what it acquired in st, where fail: finds it. */
    if ((rc = store__pins_init(st, o->shared, o->worker)) != GW_OK
        || (rc = store_open_dirs(st)) != GW_OK
        || (rc = store_open_env(st)) != GW_OK
        || (rc = store__room_open(st)) != GW_OK
        || (rc = store_open_format(st)) != GW_OK)
    {
        goto fail;
    }
    store_open_recover(st, o);
    if (loop == NULL) {
        *out = st;              /* store_prepare's: nothing runs */
        return GW_OK;
    }
    if ((rc = store_open_background(st)) != GW_OK) {
        goto fail;
    }
    *out = st;
    return GW_OK;

fail:
    if (st->env) {
        mdb_env_close(st->env);
    }
    for (i = 0; i < 256; i++) {
        if (st->chunk_dirfd[i] >= 0) {
            close(st->chunk_dirfd[i]);
        }
    }
    store__room_close(st);
    store__pins_free(st);
    gw_free(st->dir);
    gw_free(st);
    return store__mdb_rc(rc);
}

static void
store_closed(store_t *st)
{
    size_t  i;

    gw_tpool_close(st->sync_pool);
    store__read_scope_free(st);
    mdb_env_close(st->env);
    for (i = 0; i < 256; i++) {
        close(st->chunk_dirfd[i]);
    }
    store__pins_free(st);
    store__room_close(st);
    gw_free(st->dir);
}

static void
store_gc_timer_closed(uv_handle_t *h)
{
    store_t  *st = h->data;
    void    (*cb)(store_t *) = st->user_closed;

    store_closed(st);
    gw_free(st);
    if (cb) {
        cb(NULL);
    }
}

static void
store_turn_closed(uv_handle_t *h)
{
    store_t  *st = h->data;

    uv_close((uv_handle_t *) &st->gc_timer, store_gc_timer_closed);
}

static void
store_drained(store_t *st)
{
    if (st->jobs > 0) {
        /* A writer's or slice's job still uses st: the last one to end
         * runs the batcher, which calls here again once idle. */
        st->on_closed = store_drained;
        return;
    }
    uv_close((uv_handle_t *) &st->turn, store_turn_closed);
}

void
store_close(store_t *st, void (*cb)(store_t *st))
{
    st->closing = 1;
    uv_timer_stop(&st->gc_timer);
    st->on_closed = store_drained;
    st->user_closed = cb;
    store__batch_start(st);
}
