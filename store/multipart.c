/* store/multipart.c: multipart uploads in the index (the uploads and parts
 * databases, see store.h), and their completion into an object record. */
#include "store/internal.h"
#include "core/hash.h"
#include "core/log.h"

#include <time.h>

#include <openssl/evp.h>

#define STORE_PART_KEY  (STORE_UPLOAD_ID_LEN + 2)

static void
store_part_key(const char *id, uint32_t partno, unsigned char *k)
{
    memcpy(k, id, STORE_UPLOAD_ID_LEN);
    k[STORE_UPLOAD_ID_LEN] = (unsigned char) (partno >> 8);
    k[STORE_UPLOAD_ID_LEN + 1] = (unsigned char) partno;
}

/* The upload record (store.h) of id into *out. */
static int
store_upload_decode(const char *id, const MDB_val *v, store_upload_t **out)
{
    store_upload_t  *u;
    gw_str_t         bucket, tmpl;
    int              rc;

    rc = store__upload_decode(v->mv_data, v->mv_size, &bucket, &tmpl);
    if (rc != GW_OK) {
        return rc;
    }
    u = gw_calloc(1, sizeof(*u));
    memcpy(u->id, id, STORE_UPLOAD_ID_LEN);
    memcpy(u->bucket, bucket.base, bucket.len);
    rc = store__object_decode(tmpl.base, tmpl.len, 0, &u->tmpl);
    if (rc != GW_OK) {
        gw_free(u);
        return rc;
    }
    *out = u;
    return GW_OK;
}

/* ==== upkeys: the uploads of a bucket in S3's order ==== */

/* The upkeys key (store.h) of upload id of (bucket, key) into out
 * (STORE_UPKEY_MAX bytes). The id goes in raw, 16 bytes, so that a long
 * key's entry fits LMDB's 511 bytes; hex and raw sort alike. */
#define STORE_UPKEY_MAX  512

static size_t
store_upkey(const char *bucket, gw_str_t key, const char *id,
            unsigned char *out)
{
    size_t  n = store__object_key(bucket, key, out);

    out[n++] = '\0';
    gw_hex_decode(out + n, id, STORE_UPLOAD_ID_LEN);
    return n + STORE_UPLOAD_ID_LEN / 2;
}

/* The upkeys key of the upload record v of id. */
static int
store_upkey_of(const char *id, const MDB_val *v, unsigned char *out,
               size_t *len)
{
    store_upload_t  *u;
    int              rc;

    rc = store_upload_decode(id, v, &u);
    if (rc != GW_OK) {
        return rc;
    }
    *len = store_upkey(u->bucket, u->tmpl->key, id, out);
    store_upload_free(u);
    return GW_OK;
}

/* Adds (add) or removes the upkeys entry of the upload record v of id. */
static int
store_upkey_set(store_t *st, MDB_txn *txn, const char *id, const MDB_val *v,
                int add)
{
    unsigned char  kb[STORE_UPKEY_MAX];
    MDB_val        k, e = { 0, NULL };
    int            rc;

    rc = store_upkey_of(id, v, kb, &k.mv_size);
    if (rc != GW_OK) {
        return rc;
    }
    k.mv_data = kb;
    rc = add ? mdb_put(txn, st->db_upkeys, &k, &e, 0)
             : mdb_del(txn, st->db_upkeys, &k, NULL);
    return rc == MDB_NOTFOUND ? GW_OK : store__mdb_rc(rc);
}

int
store__upkeys_build(store_t *st, MDB_txn *txn, size_t *count)
{
    MDB_cursor  *cur;
    MDB_val      k, v;
    char         id[STORE_UPLOAD_ID_LEN + 1];
    int          rc;

    *count = 0;
    rc = mdb_cursor_open(txn, st->db_uploads, &cur);
    if (rc != 0) {
        return rc;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != STORE_UPLOAD_ID_LEN) {
            continue;
        }
        memcpy(id, k.mv_data, STORE_UPLOAD_ID_LEN);
        id[STORE_UPLOAD_ID_LEN] = '\0';
        rc = store_upkey_set(st, txn, id, &v, 1);
        if (rc == GW_ECORRUPT) {
            /* Listings skipped such a record before too. */
            gw_log(GW_LOG_WARN, NULL, rc, "upload %s: record not readable, "
                   "left out of its bucket's listing", id);
            rc = 0;
        }
        if (rc != 0) {
            break;
        }
        (*count)++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? GW_OK : rc;
}

void
store_upload_free(store_upload_t *u)
{
    if (u != NULL) {
        store_object_free(u->tmpl);
        gw_free(u);
    }
}

/* ==== create ==== */

static int
store_upload_create_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    MDB_val  k, v;
    int      rc;

    k.mv_data = op->bucket;
    k.mv_size = strlen(op->bucket);
    rc = mdb_get(txn, st->db_buckets, &k, &v);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? GW_ENOBUCKET : rc;
    }
    k.mv_data = op->key;
    k.mv_size = STORE_UPLOAD_ID_LEN;
    v.mv_data = op->val;
    v.mv_size = op->val_len;
    rc = mdb_put(txn, st->db_uploads, &k, &v, MDB_NOOVERWRITE);
    return rc != 0 ? store__mdb_rc(rc) : store_upkey_set(st, txn, op->key, &v, 1);
}

void
store_upload_create(store_t *st, const char *bucket,
                    const store_object_t *tmpl, char *id, store_done_pt done,
                    void *ud)
{
    static uint16_t  seq;
    store_op_t      *op = store__op_new(done, ud);
    store_recw_t     w;
    unsigned char    raw[STORE_UPLOAD_ID_LEN / 2];
    void            *rec;
    size_t           len;
    uint64_t         ms = (uint64_t) tmpl->mtime_ms;

    /* 48 bits of initiation time and a 16-bit sequence first, so that ids
     * sort in initiation order (ListMultipartUploads pages by them, even
     * past an upload that is gone), then 64 random bits, so that an id
     * cannot be guessed. */
    raw[0] = (unsigned char) (ms >> 40);
    raw[1] = (unsigned char) (ms >> 32);
    raw[2] = (unsigned char) (ms >> 24);
    raw[3] = (unsigned char) (ms >> 16);
    raw[4] = (unsigned char) (ms >> 8);
    raw[5] = (unsigned char) ms;
    seq++;
    raw[6] = (unsigned char) (seq >> 8);
    raw[7] = (unsigned char) seq;
    gw_random_bytes(raw + 8, sizeof(raw) - 8);
    gw_hex_encode(id, raw, sizeof(raw));
    rec = store__object_encode(tmpl, &len);
    store__upload_encode((gw_str_t) { bucket, strlen(bucket) }, rec, len, &w);
    gw_free(rec);
    op->apply = store_upload_create_apply;
    snprintf(op->bucket, sizeof(op->bucket), "%s", bucket);
    op->key = gw_strndup(id, STORE_UPLOAD_ID_LEN);
    op->val = store__recw_detach(&w, &op->val_len);
    store__submit(st, op);
}

/* ==== reads ==== */

int
store_upload_get(store_t *st, const char *id, store_upload_t **out)
{
    MDB_txn  *txn;
    MDB_val   k, v;
    int       rc;

    if (strlen(id) != STORE_UPLOAD_ID_LEN) {
        return GW_ENOTFOUND;
    }
    rc = store__read_txn(st, &txn);
    if (rc != 0) {
        return rc;
    }
    k.mv_data = (void *) id;
    k.mv_size = STORE_UPLOAD_ID_LEN;
    rc = mdb_get(txn, st->db_uploads, &k, &v);
    rc = rc == 0 ? store_upload_decode(id, &v, out) : store__mdb_rc(rc);
    store__read_done(st, txn);
    return rc;
}

/* A walk over the upkeys entries of one bucket. */
typedef struct {
    store_t          *st;
    MDB_txn          *txn;
    MDB_cursor       *cur;
    gw_str_t          from;
    int             (*cb)(void *ud, const store_upload_t *u);
    void             *ud;
    store_upload_t  **group;      /* long keys sharing a direct prefix */
    size_t            ngroup, cap;
} store_uplist_t;

/* The upload of the upkeys key k (its record read from uploads), or
 * GW_ENOTFOUND for an entry without a readable one. */
static int
store_uplist_get(store_uplist_t *l, const MDB_val *k, store_upload_t **u)
{
    const unsigned char  *p = k->mv_data;
    char                  id[STORE_UPLOAD_ID_LEN + 1];
    MDB_val               ik, v;
    int                   rc;

    gw_hex_encode(id, p + k->mv_size - STORE_UPLOAD_ID_LEN / 2,
                  STORE_UPLOAD_ID_LEN / 2);
    id[STORE_UPLOAD_ID_LEN] = '\0';
    ik.mv_data = id;
    ik.mv_size = STORE_UPLOAD_ID_LEN;
    rc = mdb_get(l->txn, l->st->db_uploads, &ik, &v);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? GW_ENOTFOUND : store__mdb_rc(rc);
    }
    return store_upload_decode(id, &v, u) == GW_OK ? GW_OK : GW_ENOTFOUND;
}

/* S3's order: key bytes, then initiation, which is id order. */
static int
store_uplist_cmp(const void *a, const void *b)
{
    const store_upload_t  *x = *(store_upload_t *const *) a;
    const store_upload_t  *y = *(store_upload_t *const *) b;
    size_t                 m = GW_MIN(x->tmpl->key.len, y->tmpl->key.len);
    int                    c = memcmp(x->tmpl->key.base, y->tmpl->key.base, m);

    if (c == 0 && x->tmpl->key.len != y->tmpl->key.len) {
        c = x->tmpl->key.len < y->tmpl->key.len ? -1 : 1;
    }
    return c != 0 ? c : strcmp(x->id, y->id);
}

/* 1 when u's key sorts before l->from. */
static int
store_uplist_before(const store_uplist_t *l, const store_upload_t *u)
{
    size_t  m = GW_MIN(u->tmpl->key.len, l->from.len);
    int     c = memcmp(u->tmpl->key.base, l->from.base, m);

    return c < 0 || (c == 0 && u->tmpl->key.len < l->from.len);
}

/* Gives cb the long keys gathered, in S3's order; 1 when cb stopped. */
static int
store_uplist_flush(store_uplist_t *l)
{
    size_t  i;
    int     stop = 0;

    if (l->ngroup > 1) {
        qsort(l->group, l->ngroup, sizeof(*l->group), store_uplist_cmp);
    }
    for (i = 0; i < l->ngroup; i++) {
        if (!stop && !store_uplist_before(l, l->group[i])) {
            stop = l->cb(l->ud, l->group[i]);
        }
        store_upload_free(l->group[i]);
    }
    l->ngroup = 0;
    return stop;
}

/* Walks from the cursor's entry k on while entries are bucket's (prefix:
 * bucket 0x00, plen bytes). Keys longer than STORE_KEY_DIRECT sort by
 * their first bytes and a hash in the index (store.h), so the uploads of
 * such keys that share those bytes are read as a group and sorted. */
static int
store_uplist_walk(store_uplist_t *l, MDB_val *k, const unsigned char *prefix,
                  size_t plen)
{
    MDB_val          v;
    store_upload_t  *u;
    unsigned char    gkey[STORE_UPKEY_MAX];
    size_t           glen = plen + STORE_KEY_DIRECT + 1;
    int              rc = 0, stop = 0;

    for (; rc == 0 && !stop; rc = mdb_cursor_get(l->cur, k, &v, MDB_NEXT)) {
        const unsigned char  *p = k->mv_data;
        int                   longkey;

        if (k->mv_size < plen || memcmp(p, prefix, plen) != 0) {
            break;
        }
        longkey = k->mv_size > glen && p[glen - 1] == 0xFF
                  && k->mv_size == glen + 16 + 1 + STORE_UPLOAD_ID_LEN / 2;
        if (l->ngroup > 0 && (!longkey || memcmp(p, gkey, glen) != 0)) {
            stop = store_uplist_flush(l);
            if (stop) {
                break;
            }
        }
        rc = store_uplist_get(l, k, &u);
        if (rc == GW_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc != GW_OK) {
            break;
        }
        if (!longkey) {
            stop = !store_uplist_before(l, u) && l->cb(l->ud, u);
            store_upload_free(u);
            continue;
        }
        if (l->ngroup == 0) {
            memcpy(gkey, p, glen);
        }
        if (l->ngroup == l->cap) {
            l->cap = l->cap ? 2 * l->cap : 8;
            l->group = gw_realloc(l->group, sizeof(*l->group) * l->cap);
        }
        l->group[l->ngroup++] = u;
    }
    if (rc == 0 || rc == MDB_NOTFOUND) {
        rc = 0;
        if (!stop && l->ngroup > 0) {
            store_uplist_flush(l);
        }
    }
    while (l->ngroup > 0) {
        store_upload_free(l->group[--l->ngroup]);
    }
    gw_free(l->group);
    return rc;
}

int
store_upload_list(store_t *st, const char *bucket, gw_str_t from,
                  int (*cb)(void *ud, const store_upload_t *u), void *ud)
{
    store_uplist_t   l;
    MDB_val          k, v;
    unsigned char    kb[STORE_UPKEY_MAX], prefix[STORE_BUCKET_MAX + 1];
    size_t           plen = strlen(bucket) + 1;
    int              rc;

    if (plen > sizeof(prefix)) {
        return GW_OK;
    }
    memcpy(prefix, bucket, plen);
    memset(&l, 0, sizeof(l));
    l.st = st;
    l.from = from;
    l.cb = cb;
    l.ud = ud;
    rc = store__read_begin(st, &l.txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = mdb_cursor_open(l.txn, st->db_upkeys, &l.cur);
    if (rc == 0) {
        /* From the first entry that can be from's or after: a long from
         * starts at its group, whose order is only known once sorted. */
        k.mv_data = kb;
        k.mv_size = store__object_key(bucket, (gw_str_t) { from.base,
                                      GW_MIN(from.len, STORE_KEY_DIRECT) },
                                      kb);
        rc = mdb_cursor_get(l.cur, &k, &v, MDB_SET_RANGE);
        if (rc == 0) {
            rc = store_uplist_walk(&l, &k, prefix, plen);
        }
        mdb_cursor_close(l.cur);
    }
    mdb_txn_abort(l.txn);
    return rc == 0 || rc == MDB_NOTFOUND ? GW_OK : store__mdb_rc(rc);
}

int
store_upload_scan(store_t *st, const char *after,
                  int (*cb)(void *ud, const store_upload_t *u), void *ud)
{
    MDB_txn         *txn;
    MDB_cursor      *cur;
    MDB_val          k, v;
    store_upload_t  *u;
    char             id[STORE_UPLOAD_ID_LEN + 1];
    size_t           alen = strlen(after);
    int              rc, stop = 0;

    rc = store__read_begin(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = mdb_cursor_open(txn, st->db_uploads, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return store__mdb_rc(rc);
    }
    k.mv_data = (void *) after;
    k.mv_size = alen;
    for (rc = mdb_cursor_get(cur, &k, &v, alen > 0 ? MDB_SET_RANGE : MDB_FIRST);
         rc == 0 && !stop; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != STORE_UPLOAD_ID_LEN
            || (k.mv_size == alen && memcmp(k.mv_data, after, alen) == 0))
        {
            continue;
        }
        memcpy(id, k.mv_data, STORE_UPLOAD_ID_LEN);
        id[STORE_UPLOAD_ID_LEN] = '\0';
        if (store_upload_decode(id, &v, &u) != GW_OK) {
            continue;
        }
        stop = cb(ud, u);
        store_upload_free(u);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc == 0 || rc == MDB_NOTFOUND ? GW_OK : store__mdb_rc(rc);
}

int
store_part_list(store_t *st, const char *id, uint32_t after,
                int (*cb)(void *ud, uint32_t partno,
                          const store_object_t *part), void *ud)
{
    MDB_txn         *txn;
    MDB_cursor      *cur;
    MDB_val          k, v;
    store_object_t  *o;
    unsigned char    kb[STORE_PART_KEY];
    const unsigned char *kp;
    int              rc, stop = 0;

    rc = store__read_begin(st, &txn);
    if (rc != 0) {
        return rc;
    }
    rc = mdb_cursor_open(txn, st->db_parts, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    store_part_key(id, after + 1, kb);
    k.mv_data = kb;
    k.mv_size = sizeof(kb);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !stop;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        kp = k.mv_data;
        if (k.mv_size != STORE_PART_KEY
            || memcmp(kp, id, STORE_UPLOAD_ID_LEN) != 0)
        {
            break;
        }
        if (store__object_decode(v.mv_data, v.mv_size, 0, &o) != GW_OK) {
            continue;
        }
        stop = cb(ud, (uint32_t) kp[STORE_UPLOAD_ID_LEN] << 8
                      | kp[STORE_UPLOAD_ID_LEN + 1], o);
        store_object_free(o);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc == 0 || rc == MDB_NOTFOUND ? GW_OK : rc;
}

/* ==== parts ==== */

static int
store_upload_exists(store_t *st, MDB_txn *txn, const char *id)
{
    MDB_val  k, v;
    int      rc;

    k.mv_data = (void *) id;
    k.mv_size = STORE_UPLOAD_ID_LEN;
    rc = mdb_get(txn, st->db_uploads, &k, &v);
    return store__mdb_rc(rc);
}

/* Drops one part record and its chunk references. */
static int
store_part_drop(store_t *st, MDB_txn *txn, MDB_val *v)
{
    store_chunk_ref_t  *c;
    size_t              n;
    int                 rc;

    rc = store__object_chunks(v->mv_data, v->mv_size, &c, &n);
    if (rc != GW_OK) {
        return rc;
    }
    rc = store__refs_add(st, txn, c, n, -1);
    gw_free(c);
    return rc;
}

static int
store_part_put_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    unsigned char  kb[STORE_PART_KEY];
    MDB_val        k, v;
    int            rc;

    rc = store_upload_exists(st, txn, op->key);
    if (rc != GW_OK) {
        return rc;
    }
    store_part_key(op->key, op->partno, kb);
    k.mv_data = kb;
    k.mv_size = sizeof(kb);
    rc = mdb_get(txn, st->db_parts, &k, &v);
    if (rc == 0) {
        rc = store_part_drop(st, txn, &v);      /* a re-uploaded part */
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }
    rc = store__refs_add(st, txn, op->chunks, op->nchunks, +1);
    if (rc != 0) {
        return rc;
    }
    v.mv_data = op->val;
    v.mv_size = op->val_len;
    return store__mdb_rc(mdb_put(txn, st->db_parts, &k, &v, 0));
}

void
store_part_put(store_t *st, const char *id, uint32_t partno,
               const store_object_t *part, store_done_pt done, void *ud)
{
    store_op_t  *op = store__op_new(done, ud);

    op->apply = store_part_put_apply;
    op->key = gw_strndup(id, STORE_UPLOAD_ID_LEN);
    op->partno = partno;
    op->val = store__object_encode(part, &op->val_len);
    if (part->nchunks) {
        op->chunks = gw_alloc(sizeof(store_chunk_ref_t) * part->nchunks);
        memcpy(op->chunks, part->chunks, sizeof(store_chunk_ref_t) * part->nchunks);
        op->nchunks = part->nchunks;
    }
    store__submit(st, op);
}

/* Drops every part of upload id, then the upload itself. */
static int
store_upload_drop(store_t *st, MDB_txn *txn, const char *id)
{
    MDB_cursor     *cur;
    MDB_val         k, v;
    unsigned char   kb[STORE_PART_KEY];
    int             rc;

    rc = mdb_cursor_open(txn, st->db_parts, &cur);
    if (rc != 0) {
        return rc;
    }
    store_part_key(id, 0, kb);
    k.mv_data = kb;
    k.mv_size = sizeof(kb);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != STORE_PART_KEY
            || memcmp(k.mv_data, id, STORE_UPLOAD_ID_LEN) != 0)
        {
            break;
        }
        rc = store_part_drop(st, txn, &v);
        if (rc == 0) {
            rc = mdb_cursor_del(cur, 0);
        }
        if (rc != 0) {
            break;
        }
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }
    k.mv_data = (void *) id;
    k.mv_size = STORE_UPLOAD_ID_LEN;
    rc = mdb_get(txn, st->db_uploads, &k, &v);
    if (rc == 0) {
        rc = store_upkey_set(st, txn, id, &v, 0);
        /* A damaged record has no entry to remove; it still goes. */
        rc = rc == GW_ECORRUPT ? 0 : rc;
    }
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    return store__mdb_rc(mdb_del(txn, st->db_uploads, &k, NULL));
}

static int
store_upload_abort_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    int  rc = store_upload_exists(st, txn, op->key);

    return rc == GW_OK ? store_upload_drop(st, txn, op->key) : rc;
}

void
store_upload_abort(store_t *st, const char *id, store_done_pt done, void *ud)
{
    store_op_t  *op = store__op_new(done, ud);

    op->apply = store_upload_abort_apply;
    op->frees = op->deletes = 1;
    op->key = gw_strndup(id, STORE_UPLOAD_ID_LEN);
    store__submit(st, op);
}

/* ==== completion ==== */

static uint64_t
store_be(const unsigned char *p, size_t n)
{
    uint64_t  v = 0;
    size_t    i;

    for (i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void
store_put_be(unsigned char *p, size_t n, uint64_t v)
{
    while (n-- > 0) {
        p[n] = (unsigned char) v;
        v >>= 8;
    }
}

/* The object's checksum from its parts'. A full-object CRC is the parts'
 * CRCs combined (as if computed over all the bytes); anything else is
 * composite: the algorithm over the concatenated part checksums ("-N"). */
static int
store_complete_cksum(store_object_t *res, store_object_t **parts, size_t n,
                     uint8_t alg, uint8_t type)
{
    gw_cksum_t  ck;
    size_t      i, len = gw_cksum_len((gw_cksum_alg_t) alg);
    uint64_t    acc = 0, v;

    for (i = 0; i < n; i++) {
        if (parts[i]->cksum_alg != alg) {
            return -1;
        }
    }
    res->cksum_alg = alg;
    res->cksum_type = type;
    if (type == 0 && (alg == GW_CK_CRC32 || alg == GW_CK_CRC32C
                      || alg == GW_CK_CRC64NVME))
    {
        for (i = 0; i < n; i++) {
            v = store_be(parts[i]->cksum, len);
            acc = i == 0 ? v
                  : alg == GW_CK_CRC32 ? gw_crc32_combine((uint32_t) acc, (uint32_t) v,
                                                          parts[i]->size)
                  : alg == GW_CK_CRC32C ? gw_crc32c_combine((uint32_t) acc, (uint32_t) v,
                                                            parts[i]->size)
                  : gw_crc64nvme_combine(acc, v, parts[i]->size);
        }
        store_put_be(res->cksum, len, acc);
        return 0;
    }
    res->cksum_type = 1;
    gw_cksum_init(&ck, (gw_cksum_alg_t) alg);
    for (i = 0; i < n; i++) {
        gw_cksum_update(&ck, parts[i]->cksum, len);
    }
    gw_cksum_final(&ck, res->cksum);
    return 0;
}

/* The listed parts into parts[] (each to store_object_free), checked
 * against the request: each there, with its ETag and checksum, every one
 * but the last at least min_part. *nchunks gets their chunks' count. GW_OK,
 * GW_EINVAL with c->reason, or an error. */
static int
store_complete_parts(store_t *st, MDB_txn *txn, store_op_t *op,
                     store_object_t **parts, size_t *nchunks)
{
    store_complete_t  *c = op->complete;
    unsigned char      kb[STORE_PART_KEY];
    MDB_val            k, v;
    size_t             i;
    int                rc;

    *nchunks = 0;
    for (i = 0; i < c->n; i++) {
        store_part_key(op->key, c->numbers[i], kb);
        k.mv_data = kb;
        k.mv_size = sizeof(kb);
        rc = mdb_get(txn, st->db_parts, &k, &v);
        if (rc == 0) {
            rc = store__object_decode(v.mv_data, v.mv_size, STORE_DECODE_CHUNKS,
                                      &parts[i]);
        }
        if (rc == MDB_NOTFOUND
            || (rc == GW_OK && memcmp(parts[i]->md5, c->md5[i], 16) != 0)
            || (rc == GW_OK && c->part_ck_alg != NULL
                && c->part_ck_alg[i] != GW_CK_NONE
                && (parts[i]->cksum_alg != c->part_ck_alg[i]
                    || memcmp(parts[i]->cksum, c->part_ck[i],
                              gw_cksum_len((gw_cksum_alg_t) c->part_ck_alg[i]))
                       != 0)))
        {
            c->reason = STORE_COMPLETE_BAD_PART;
            c->bad_part = c->numbers[i];
            rc = GW_EINVAL;
        }
        if (rc != GW_OK) {
            return rc;
        }
        if (i + 1 < c->n && parts[i]->size < c->min_part) {
            c->reason = STORE_COMPLETE_TOO_SMALL;
            c->bad_part = c->numbers[i];
            return GW_EINVAL;
        }
        *nchunks += parts[i]->nchunks;
    }
    return GW_OK;
}

/* The parts' chunks end to end into obj, with the part sizes, the size and
 * the multipart ETag. The arrays go to *chunks and *psizes (the caller
 * frees them, whatever the result). GW_OK, GW_EINVAL with c->reason, or
 * GW_ERROR. */
static int
store_complete_chunks(store_complete_t *c, store_object_t **parts,
                      size_t nchunks, store_object_t *obj,
                      store_chunk_ref_t **chunks, uint64_t **psizes)
{
    EVP_MD_CTX    *md5;
    uint64_t       off = 0;
    unsigned int   mdlen;
    size_t         i, j, n = 0;
    int            rc = GW_OK;

    obj->chunks = *chunks = gw_alloc(sizeof(**chunks) * (nchunks + 1));
    obj->part_sizes = *psizes = gw_alloc(sizeof(uint64_t) * (c->n + 1));
    obj->npart_sizes = c->n;
    md5 = EVP_MD_CTX_new();
    if (md5 == NULL || EVP_DigestInit_ex(md5, gw_evp_md5(), NULL) != 1) {
        rc = GW_ERROR;
        goto done;
    }
    for (i = 0; i < c->n; i++) {
        for (j = 0; j < parts[i]->nchunks; j++) {
            (*chunks)[n] = parts[i]->chunks[j];
            (*chunks)[n++].off = off + parts[i]->chunks[j].off;
        }
        if (parts[i]->nchunks == 0 && parts[i]->size > 0) {
            c->reason = STORE_COMPLETE_BAD_PART;
            c->bad_part = c->numbers[i];
            rc = GW_EINVAL;
            goto done;
        }
        obj->part_sizes[i] = parts[i]->size;
        off += parts[i]->size;
        EVP_DigestUpdate(md5, parts[i]->md5, 16);
    }
    obj->nchunks = n;
    obj->size = off;
    obj->nparts = (uint32_t) c->n;
    EVP_DigestFinal_ex(md5, obj->md5, &mdlen);

done:
    EVP_MD_CTX_free(md5);
    return rc;
}

/* The object's checksum from its parts' (in the upload's algorithm, else
 * a full-object CRC64NVME when every part has one), checked against the
 * one the request gave; and each part's, for GetObjectAttributes, into
 * *pck (the caller frees it). GW_OK or GW_EINVAL with c->reason. */
static int
store_complete_object_cksum(store_complete_t *c, const store_upload_t *u,
                            store_object_t **parts, store_object_t *obj,
                            char **pck)
{
    size_t  i, none, ckl;

    memset(obj->cksum, 0, sizeof(obj->cksum));
    for (i = 0, none = 0; i < c->n; i++) {
        none += parts[i]->cksum_alg == GW_CK_NONE;
    }
    if (u->tmpl->cksum_alg != GW_CK_NONE && none == 0
        && store_complete_cksum(obj, parts, c->n, u->tmpl->cksum_alg,
                                u->tmpl->cksum_type) != 0)
    {
        c->reason = STORE_COMPLETE_BAD_CKSUM;
        return GW_EINVAL;
    }
    if (none > 0) {
        /* Parts copied with UploadPartCopy carry no checksum (their bytes
         * were never read): the object then has none either. */
        obj->cksum_alg = GW_CK_NONE;
    }
    if (u->tmpl->cksum_alg == GW_CK_NONE && none == 0
        && store_complete_cksum(obj, parts, c->n, GW_CK_CRC64NVME, 0) != 0)
    {
        obj->cksum_alg = GW_CK_NONE;    /* parts of mixed kinds: no checksum */
    }
    if (c->want_alg != GW_CK_NONE
        && (obj->cksum_alg != c->want_alg
            || memcmp(obj->cksum, c->want,
                      gw_cksum_len((gw_cksum_alg_t) c->want_alg)) != 0))
    {
        c->reason = STORE_COMPLETE_WRONG_CKSUM;
        return GW_EINVAL;
    }
    if (obj->cksum_alg == GW_CK_NONE) {
        return GW_OK;
    }
    /* Each part's checksum, for GetObjectAttributes' ObjectParts. */
    ckl = gw_cksum_len((gw_cksum_alg_t) obj->cksum_alg);
    for (i = 0; i < c->n; i++) {
        if (parts[i]->cksum_alg != obj->cksum_alg) {
            return GW_OK;
        }
    }
    *pck = gw_alloc(ckl * c->n + 1);
    for (i = 0; i < c->n; i++) {
        memcpy(*pck + i * ckl, parts[i]->cksum, ckl);
    }
    obj->part_cksums.base = *pck;
    obj->part_cksums.len = ckl * c->n;
    return GW_OK;
}

static int
store_upload_complete_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    store_complete_t   *c = op->complete;
    store_upload_t     *u = NULL;
    store_object_t    **parts, obj;
    store_chunk_ref_t  *chunks = NULL;
    uint64_t           *psizes = NULL;
    char               *pck = NULL;
    MDB_val             k, v;
    size_t              i, nchunks;
    void               *val = NULL;
    size_t              val_len;
    int                 rc;

    parts = gw_calloc(c->n + 1, sizeof(*parts));
    k.mv_data = op->key;
    k.mv_size = STORE_UPLOAD_ID_LEN;
    rc = mdb_get(txn, st->db_uploads, &k, &v);
    if (rc != 0) {
        c->reason = STORE_COMPLETE_NO_UPLOAD;
        rc = rc == MDB_NOTFOUND ? GW_EINVAL : rc;
        goto done;
    }
    rc = store_upload_decode(op->key, &v, &u);
    if (rc == GW_OK) {
        rc = store_complete_parts(st, txn, op, parts, &nchunks);
    }
    if (rc != GW_OK) {
        goto done;
    }
    /* The object: the template plus the parts' chunks, end to end. (The s3
     * layer never stores a part inline: a commit does no file I/O, so an
     * inline part could not become a chunk here.) */
    obj = *u->tmpl;
    rc = store_complete_chunks(c, parts, nchunks, &obj, &chunks, &psizes);
    if (rc != GW_OK) {
        goto done;
    }
    obj.inline_data.base = NULL;
    obj.inline_data.len = 0;
    rc = store_complete_object_cksum(c, u, parts, &obj, &pck);
    if (rc != GW_OK) {
        goto done;
    }
    obj.mtime_ms = c->result.mtime_ms;
    /* So that a retry of this completion finds its answer (store.h). */
    obj.upload_id.base = op->key;
    obj.upload_id.len = STORE_UPLOAD_ID_LEN;
    if (c->repl.ndests) {            /* else the template's: a replica */
        obj.repl_status = STORE_REPL_STATUS_PENDING;
    }
    val = store__object_encode(&obj, &val_len);
    rc = store__object_commit(st, txn, u->bucket, u->tmpl->key, val, val_len,
                              chunks, obj.nchunks, &c->cond, &c->vres);
    c->result.generation = c->vres.version;
    if (rc == GW_OK) {
        rc = store_upload_drop(st, txn, op->key);
    }
    if (rc == GW_OK) {
        rc = store__outbox_add_v(st, txn, u->bucket, u->tmpl->key, &c->repl,
                                 STORE_REPL_PUT, c->vres.versioned,
                                 c->vres.version);
    }
    if (rc == GW_OK) {
        c->result.size = obj.size;
        memcpy(c->result.md5, obj.md5, 16);
        c->result.nparts = obj.nparts;
        c->result.cksum_alg = obj.cksum_alg;
        c->result.cksum_type = obj.cksum_type;
        memcpy(c->result.cksum, obj.cksum, sizeof(obj.cksum));
    }

done:
    gw_free(psizes);
    gw_free(pck);
    gw_free(val);
    gw_free(chunks);
    for (i = 0; i < c->n; i++) {
        store_object_free(parts[i]);
    }
    gw_free(parts);
    store_upload_free(u);
    return rc;
}

void
store_upload_complete(store_t *st, const char *id, store_complete_t *c,
                      store_done_pt done, void *ud)
{
    store_op_t  *op = store__op_new(done, ud);

    op->apply = store_upload_complete_apply;
    op->key = gw_strndup(id, STORE_UPLOAD_ID_LEN);
    op->complete = c;
    store__submit(st, op);
}

/* ==== expiry ==== */

#define STORE_EXPIRE_BATCH  64

static void
store_upload_expired(void *ud, int rc)
{
    GW_UNUSED(ud);
    if (rc != GW_OK && rc != GW_ENOTFOUND) {
        gw_log(GW_LOG_ERR, NULL, rc, "expiring an upload failed");
    }
}

/* The initiation time (unix ms) at the start of an upload id. */
static int64_t
store_upload_id_ms(const char *id)
{
    unsigned char  raw[6];

    if (gw_hex_decode(raw, id, 12) != GW_OK) {
        return 0;       /* not one of ours: looked at, as before */
    }
    return (int64_t) ((uint64_t) raw[0] << 40 | (uint64_t) raw[1] << 32
                      | (uint64_t) raw[2] << 24 | (uint64_t) raw[3] << 16
                      | (uint64_t) raw[4] << 8 | raw[5]);
}

size_t
store__uploads_expire(store_t *st, uint64_t max_age_ms)
{
    MDB_txn          *txn;
    MDB_cursor       *cur;
    MDB_val           k, v;
    store_upload_t   *u;
    char              ids[STORE_EXPIRE_BATCH][STORE_UPLOAD_ID_LEN + 1];
    int64_t           cutoff = (int64_t) time(NULL) * 1000 - (int64_t) max_age_ms;
    size_t            n = 0, i;
    int               rc;

    if (store__read_begin(st, &txn) != 0) {
        return 0;
    }
    if (mdb_cursor_open(txn, st->db_uploads, &cur) == 0) {
        /* Ids begin with their initiation time (store_upload_create), so
         * the uploads database is in initiation order: the walk ends at
         * the first upload too young to expire. */
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
             rc == 0 && n < STORE_EXPIRE_BATCH
             && (k.mv_size != STORE_UPLOAD_ID_LEN
                 || store_upload_id_ms(k.mv_data) < cutoff);
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        {
            if (k.mv_size != STORE_UPLOAD_ID_LEN) {
                continue;
            }
            memcpy(ids[n], k.mv_data, STORE_UPLOAD_ID_LEN);
            ids[n][STORE_UPLOAD_ID_LEN] = '\0';
            if (store_upload_decode(ids[n], &v, &u) != GW_OK) {
                continue;
            }
            if (u->tmpl->mtime_ms < cutoff) {
                n++;
            }
            store_upload_free(u);
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    for (i = 0; i < n; i++) {
        gw_log(GW_LOG_INFO, NULL, 0, "multipart upload %s expired", ids[i]);
        store_upload_abort(st, ids[i], store_upload_expired, NULL);
    }
    return n;
}

/* Inside DeleteBucket's commit: uploads still open in the bucket go with
 * it (their parts' chunks are released), so that a new bucket of the same
 * name, perhaps another user's, cannot complete them. */
int
store__uploads_drop_bucket(store_t *st, MDB_txn *txn, const char *bucket)
{
    MDB_cursor     *cur;
    MDB_val         k, v;
    char            ids[STORE_EXPIRE_BATCH][STORE_UPLOAD_ID_LEN + 1];
    unsigned char   prefix[STORE_BUCKET_MAX + 1];
    size_t          n, i, plen = strlen(bucket) + 1;
    int             rc;

    memcpy(prefix, bucket, plen);
    do {
        n = 0;
        rc = mdb_cursor_open(txn, st->db_upkeys, &cur);
        if (rc != 0) {
            return rc;
        }
        k.mv_data = prefix;
        k.mv_size = plen;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
             rc == 0 && n < STORE_EXPIRE_BATCH && k.mv_size > plen
             + STORE_UPLOAD_ID_LEN / 2 && memcmp(k.mv_data, prefix, plen) == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        {
            gw_hex_encode(ids[n], (const unsigned char *) k.mv_data
                          + k.mv_size - STORE_UPLOAD_ID_LEN / 2,
                          STORE_UPLOAD_ID_LEN / 2);
            ids[n++][STORE_UPLOAD_ID_LEN] = '\0';
            /* Gone first, so that an entry whose upload record is missing
             * cannot come round again. */
            rc = mdb_cursor_del(cur, 0);
            if (rc != 0) {
                break;
            }
        }
        mdb_cursor_close(cur);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }
        for (i = 0; i < n; i++) {
            rc = store_upload_drop(st, txn, ids[i]);
            if (rc != GW_OK && rc != GW_ENOTFOUND) {
                return rc;
            }
        }
    } while (n == STORE_EXPIRE_BATCH);
    return GW_OK;
}
