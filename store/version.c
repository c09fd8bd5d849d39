/* store/version.c: object records and their versions (see "versions" in
 * store.h). Owns every write of an object record: the commit of a new
 * current version (PutObject, copies, CompleteMultipartUpload through
 * multipart.c, delete markers), keeping the replaced current version as
 * noncurrent in the versions database or dropping it, dropping the null
 * version a Suspended write replaces, in-place rewrites of any version,
 * deleting a key or one version (promoting the newest noncurrent one);
 * and lookups by version and the noncurrent versions of a key. The
 * listing of every version is vlist.c's. */
#include "store/internal.h"

#include <time.h>

/* ==== keys ==== */

size_t
store__version_key(const char *bucket, gw_str_t key, uint64_t version,
                   int prefix, unsigned char *out)
{
    size_t    n = store__object_key(bucket, key, out);
    uint64_t  inv = UINT64_MAX - version;
    int       i;

    out[n++] = '\0';
    if (prefix) {
        return n;
    }
    for (i = 7; i >= 0; i--) {
        out[n++] = (unsigned char) (inv >> (8 * i));
    }
    return n;
}

/* 1 when k is an entry of the key whose prefix is p (plen bytes): the
 * prefix and exactly a version after it (a longer key that starts with
 * the same bytes and a 0x00 is another key). */
int
store__version_of(const MDB_val *k, const unsigned char *p, size_t plen)
{
    return k->mv_size == plen + 8 && memcmp(k->mv_data, p, plen) == 0;
}

static int64_t
store_version_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when a record of version info vi is version (STORE_VERSION_NULL or a
 * version number). */
int
store__version_match(const store_vinfo_t *vi, uint64_t version)
{
    return version == STORE_VERSION_NULL
           ? !(vi->flags & STORE_VF_VERSIONED)
           : (vi->flags & STORE_VF_VERSIONED) && vi->version == version;
}

/* Drops the chunk references of the encoded record v. */
static int
store_version_unref(store_t *st, MDB_txn *txn, const MDB_val *v)
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

/* ==== the versioning state ==== */

int
store__bucket_versioning(store_t *st, MDB_txn *txn, const char *bucket,
                         int *state)
{
    store_bucket_t  b;
    MDB_val         k, v;
    int             rc;

    k.mv_data = (void *) bucket;
    k.mv_size = strlen(bucket);
    rc = mdb_get(txn, st->db_buckets, &k, &v);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? GW_ENOBUCKET : store__mdb_rc(rc);
    }
    rc = store__bucket_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, &b);
    *state = b.versioning;
    return rc;
}

/* ==== what a commit of a new current version does here ==== */

int
store__version_stash(store_t *st, MDB_txn *txn, const char *bucket,
                     gw_str_t key, const MDB_val *val, const store_vinfo_t *vi)
{
    unsigned char   kb[512];
    store_vinfo_t   nv = *vi;
    MDB_val         k, v;
    void           *rec;
    size_t          len;
    int             rc;

    nv.noncurrent_ms = store_version_now_ms();
    rec = store__object_vpatch(val->mv_data, val->mv_size, &nv, &len);
    k.mv_data = kb;
    k.mv_size = store__version_key(bucket, key, vi->version, 0, kb);
    v.mv_data = rec;
    v.mv_size = len;
    /* The chunk references move with the record: no count changes. */
    rc = mdb_put(txn, st->db_versions, &k, &v, 0);
    gw_free(rec);
    return store__mdb_rc(rc);
}

/* Finds the noncurrent entry of version (STORE_VERSION_NULL: the one
 * without an id, looked for among all of them) with cur on it: GW_OK,
 * GW_ENOTFOUND or an error. k, v: the entry. */
int
store__version_seek(store_t *st, MDB_cursor *cur, const char *bucket,
                   gw_str_t key, uint64_t version, MDB_val *k, MDB_val *v,
                   store_vinfo_t *vi)
{
    unsigned char  kb[512];
    size_t         plen;
    int            rc;

    (void) st;
    if (version != STORE_VERSION_NULL) {
        k->mv_data = kb;
        k->mv_size = store__version_key(bucket, key, version, 0, kb);
        rc = mdb_cursor_get(cur, k, v, MDB_SET_KEY);
        if (rc != 0) {
            return store__mdb_rc(rc);
        }
        rc = store__object_vinfo(v->mv_data, v->mv_size, vi);
        if (rc != GW_OK) {
            return rc;
        }
        return store__version_match(vi, version) ? GW_OK : GW_ENOTFOUND;
    }
    plen = store__version_key(bucket, key, 0, 1, kb);
    k->mv_data = kb;
    k->mv_size = plen;
    for (rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
         rc == 0 && store__version_of(k, kb, plen);
         rc = mdb_cursor_get(cur, k, v, MDB_NEXT))
    {
        rc = store__object_vinfo(v->mv_data, v->mv_size, vi);
        if (rc != GW_OK) {
            return rc;
        }
        if (store__version_match(vi, STORE_VERSION_NULL)) {
            return GW_OK;
        }
    }
    return rc == 0 || rc == MDB_NOTFOUND ? GW_ENOTFOUND : store__mdb_rc(rc);
}

int
store__version_drop_null(store_t *st, MDB_txn *txn, const char *bucket,
                         gw_str_t key)
{
    MDB_cursor     *cur;
    MDB_val         k, v;
    store_vinfo_t   vi;
    int             rc;

    rc = mdb_cursor_open(txn, st->db_versions, &cur);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = store__version_seek(st, cur, bucket, key, STORE_VERSION_NULL, &k, &v,
                            &vi);
    if (rc == GW_OK) {
        rc = store_version_unref(st, txn, &v);
        if (rc == 0) {
            rc = store__mdb_rc(mdb_cursor_del(cur, 0));
        }
    } else if (rc == GW_ENOTFOUND) {
        rc = GW_OK;
    }
    mdb_cursor_close(cur);
    return rc;
}

int
store__version_replace(store_t *st, MDB_txn *txn, const char *bucket,
                       gw_str_t key, void *val, size_t val_len,
                       const store_chunk_ref_t *chunks, size_t nchunks,
                       const store_cond_t *cond)
{
    unsigned char   kb[512];
    MDB_val         k, v;
    MDB_dbi         db = st->db_objects;
    store_vinfo_t   vi, want;
    int             rc, state;

    rc = store__bucket_versioning(st, txn, bucket, &state);
    if (rc == GW_OK) {
        rc = store__object_vinfo(val, val_len, &want);
    }
    if (rc != GW_OK) {
        return rc;
    }
    /* The current version, or else the noncurrent one the record names. */
    k.mv_data = kb;
    rc = store__object_find(st, txn, bucket, key, &v);
    if (rc == GW_OK) {
        rc = store__object_vinfo(v.mv_data, v.mv_size, &vi);
        if (rc != GW_OK) {
            return rc;
        }
        k.mv_size = store__object_key(bucket, key, kb);
    }
    if (rc == GW_ENOTFOUND
        || (rc == GW_OK && vi.generation != cond->generation))
    {
        db = st->db_versions;
        k.mv_size = store__version_key(bucket, key, want.version, 0, kb);
        rc = store__mdb_rc(mdb_get(txn, db, &k, &v));
        if (rc == GW_OK) {
            rc = store__object_vinfo(v.mv_data, v.mv_size, &vi);
        }
    }
    if (rc == GW_ENOTFOUND
        || (rc == GW_OK && (vi.generation != cond->generation
                            || !cond->has_generation)))
    {
        return GW_ECONFLICT;
    }
    if (rc != GW_OK) {
        return rc;
    }
    rc = store_version_unref(st, txn, &v);
    if (rc == 0) {
        rc = store__refs_add(st, txn, chunks, nchunks, +1);
    }
    if (rc == 0) {
        rc = store__object_set_generation(val, val_len, st->gen_last + 1);
    }
    if (rc != 0) {
        return rc;
    }
    v.mv_data = val;
    v.mv_size = val_len;
    rc = mdb_put(txn, db, &k, &v, 0);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    st->gen_last++;
    return GW_OK;
}

/* ==== committing a new current version ==== */

/* The version fields a new current record gets in state. */
static void
store_commit_vinfo(int state, const store_vinfo_t *given, uint64_t gen,
                   store_vinfo_t *out)
{
    memset(out, 0, sizeof(*out));
    out->generation = gen;
    out->flags = given->flags & STORE_VF_MARKER;
    if (state == STORE_VERSIONING_ENABLED) {
        out->flags |= STORE_VF_VERSIONED;
    }
    out->version = state != STORE_VERSIONING_NONE ? gen : 0;
}

/* Checks cond against the key's current record (v, or none when absent).
 * A delete marker counts as no object, as in S3 (If-None-Match: * writes
 * over it, If-Match fails on it), but for the generation, which names
 * the marker as any other record. */
static int
store_commit_check(const MDB_val *v, int absent, const store_vinfo_t *cur,
                   const store_cond_t *cond)
{
    store_cond_t  c;
    int           rc;

    if (absent) {
        return store__cond_check(cond, NULL);
    }
    if (cur->flags & STORE_VF_MARKER) {
        if (cond->has_generation && cur->generation != cond->generation) {
            return GW_ECONFLICT;
        }
        c = *cond;
        c.has_generation = 0;
        return store__cond_check(&c, NULL);
    }
    rc = store__cond_check(cond, v);
    if (rc != GW_OK) {
        return rc;
    }
    return cond->if_none_match_star ? GW_EPRECOND : GW_OK;
}

/* What becomes of the current record v (of version info cur) that a new
 * one replaces in state: kept as noncurrent, or, the null version, gone
 * with its chunk references. */
static int
store_commit_displace(store_t *st, MDB_txn *txn, const char *bucket,
                      gw_str_t key, int state, const MDB_val *v,
                      const store_vinfo_t *cur)
{
    if (state == STORE_VERSIONING_NONE
        || (state == STORE_VERSIONING_SUSPENDED
            && !(cur->flags & STORE_VF_VERSIONED)))
    {
        return store_version_unref(st, txn, v);
    }
    return store__version_stash(st, txn, bucket, key, v, cur);
}

int
store__object_commit(store_t *st, MDB_txn *txn, const char *bucket,
                     gw_str_t key, void *val, size_t val_len,
                     const store_chunk_ref_t *chunks, size_t nchunks,
                     const store_cond_t *cond, store_vresult_t *res)
{
    unsigned char       kb[512];
    MDB_val             k, v;
    store_vinfo_t       cur, given, want;
    size_t              plen;
    void               *patched = NULL;
    int                 rc, state, absent;

    if (cond->in_place) {
        return store__version_replace(st, txn, bucket, key, val, val_len,
                                      chunks, nchunks, cond);
    }
    rc = store__bucket_versioning(st, txn, bucket, &state);
    if (rc != GW_OK) {
        return rc;
    }
    rc = store__object_find(st, txn, bucket, key, &v);
    if (rc != GW_OK && rc != GW_ENOTFOUND) {
        return rc;
    }
    absent = rc == GW_ENOTFOUND;
    if (!absent && (rc = store__object_vinfo(v.mv_data, v.mv_size, &cur))
                   != GW_OK)
    {
        return rc;
    }
    rc = store_commit_check(&v, absent, &cur, cond);
    if (rc == GW_OK && !absent) {
        rc = store_commit_displace(st, txn, bucket, key, state, &v, &cur);
    }
    if (rc == GW_OK && state == STORE_VERSIONING_SUSPENDED) {
        rc = store__version_drop_null(st, txn, bucket, key);
    }
    if (rc != GW_OK) {
        return rc;
    }
    rc = store__refs_add(st, txn, chunks, nchunks, +1);
    if (rc != 0) {
        return rc;
    }
    /* A number no write had before; saved with the batch (a batch that
     * fails leaves a gap, which is harmless). */
    rc = store__object_set_generation(val, val_len, st->gen_last + 1);
    if (rc == GW_OK) {
        rc = store__object_vinfo(val, val_len, &given);
    }
    if (rc != GW_OK) {
        return rc;
    }
    store_commit_vinfo(state, &given, st->gen_last + 1, &want);
    if (want.flags != given.flags || want.noncurrent_ms != given.noncurrent_ms
        || want.version != (given.version == given.generation
                            ? 0 : given.version))
    {
        /* A versioned bucket, or a record copied from a version. */
        patched = store__object_vpatch(val, val_len, &want, &plen);
        val = patched;
        val_len = plen;
    }
    k.mv_data = kb;
    k.mv_size = store__object_key(bucket, key, kb);
    v.mv_data = val;
    v.mv_size = val_len;
    rc = mdb_put(txn, st->db_objects, &k, &v, 0);
    gw_free(patched);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    st->gen_last++;
    if (res != NULL) {
        res->version = st->gen_last;
        res->versioned = (want.flags & STORE_VF_VERSIONED) != 0;
        res->marker = (want.flags & STORE_VF_MARKER) != 0;
        res->found = 1;
    }
    return GW_OK;
}

static int
store_object_put_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    gw_str_t         key = { op->key, op->key_len };
    store_repl_t     repl = store__op_dests(op);
    store_vresult_t  res;
    int              rc;

    memset(&res, 0, sizeof(res));
    rc = store__object_commit(st, txn, op->bucket, key, op->val, op->val_len,
                              op->chunks, op->nchunks, &op->cond, &res);
    if (rc == GW_OK) {
        rc = store__outbox_add_v(st, txn, op->bucket, key, &repl,
                                 STORE_REPL_PUT, res.versioned, res.version);
    }
    if (rc == GW_OK && op->vres != NULL) {
        *op->vres = res;
    }
    return rc;
}

void
store_object_put(store_t *st, const char *bucket, const store_object_t *obj,
                 const store_cond_t *cond, store_done_pt done, void *ud)
{
    store_op_t  *op = store__op_new(done, ud);

    op->apply = store_object_put_apply;
    snprintf(op->bucket, sizeof(op->bucket), "%s", bucket);
    op->key = gw_strndup(obj->key.base, obj->key.len);
    op->key_len = obj->key.len;
    op->val = store__object_encode(obj, &op->val_len);
    if (obj->nchunks) {
        op->chunks = gw_alloc(sizeof(store_chunk_ref_t) * obj->nchunks);
        memcpy(op->chunks, obj->chunks, sizeof(store_chunk_ref_t) * obj->nchunks);
        op->nchunks = obj->nchunks;
    }
    if (cond != NULL) {
        op->cond = *cond;
    }
    op->vres = obj->vout;
    store__op_repl(op, obj->repl);
    store__submit(st, op);
}

void
store_object_delete(store_t *st, const char *bucket, gw_str_t key,
                    store_done_pt done, void *ud)
{
    store_object_remove(st, bucket, key, 0, 0, NULL, NULL, NULL, NULL, done,
                        ud);
}

void
store_object_delete_repl(store_t *st, const char *bucket, gw_str_t key,
                         const store_repl_t *repl, store_done_pt done,
                         void *ud)
{
    store_object_remove(st, bucket, key, 0, 0, NULL, repl, NULL, NULL, done,
                        ud);
}

void
store_object_delete_cond(store_t *st, const char *bucket, gw_str_t key,
                         const store_cond_t *cond, const store_repl_t *repl,
                         store_done_pt done, void *ud)
{
    store_object_remove(st, bucket, key, 0, 0, cond, repl, NULL, NULL, done,
                        ud);
}

/* ==== deleting ==== */

/* The newest noncurrent version of key, if any, becomes current. */
static int
store_version_promote(store_t *st, MDB_txn *txn, const char *bucket,
                      gw_str_t key)
{
    unsigned char   pb[512], kb[512];
    MDB_cursor     *cur;
    MDB_val         k, v;
    store_vinfo_t   vi;
    void           *rec;
    size_t          plen, len;
    int             rc;

    rc = mdb_cursor_open(txn, st->db_versions, &cur);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    plen = store__version_key(bucket, key, 0, 1, pb);
    k.mv_data = pb;
    k.mv_size = plen;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc != 0 || !store__version_of(&k, pb, plen)) {
        mdb_cursor_close(cur);
        return rc == 0 || rc == MDB_NOTFOUND ? GW_OK : store__mdb_rc(rc);
    }
    rc = store__object_vinfo(v.mv_data, v.mv_size, &vi);
    if (rc == GW_OK) {
        vi.noncurrent_ms = 0;
        rec = store__object_vpatch(v.mv_data, v.mv_size, &vi, &len);
        k.mv_data = kb;
        k.mv_size = store__object_key(bucket, key, kb);
        v.mv_data = rec;
        v.mv_size = len;
        rc = store__mdb_rc(mdb_put(txn, st->db_objects, &k, &v, 0));
        gw_free(rec);
    }
    if (rc == GW_OK) {
        rc = store__mdb_rc(mdb_cursor_del(cur, 0));
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Deletes one version for good. */
static int
store_version_delete(store_t *st, MDB_txn *txn, store_op_t *op,
                     store_vresult_t *res)
{
    unsigned char   kb[512];
    gw_str_t        key = { op->key, op->key_len };
    MDB_cursor     *cur;
    MDB_val         k, v;
    store_vinfo_t   vi;
    int             rc;

    rc = store__object_find(st, txn, op->bucket, key, &v);
    if (rc == GW_ENOTFOUND) {
        return GW_OK;     /* no key, no versions (the invariant of store.h) */
    }
    if (rc == GW_OK) {
        rc = store__object_vinfo(v.mv_data, v.mv_size, &vi);
    }
    if (rc != GW_OK) {
        return rc;
    }
    if (store__version_match(&vi, op->version)) {
        rc = store__cond_check(&op->cond, &v);
        if (rc != GW_OK) {
            return rc;
        }
        rc = store_version_unref(st, txn, &v);
        if (rc == 0) {
            k.mv_data = kb;
            k.mv_size = store__object_key(op->bucket, key, kb);
            rc = store__mdb_rc(mdb_del(txn, st->db_objects, &k, NULL));
        }
        if (rc == GW_OK) {
            rc = store_version_promote(st, txn, op->bucket, key);
        }
    } else {
        rc = mdb_cursor_open(txn, st->db_versions, &cur);
        if (rc != 0) {
            return store__mdb_rc(rc);
        }
        rc = store__version_seek(st, cur, op->bucket, key, op->version, &k, &v,
                                &vi);
        if (rc == GW_OK) {
            rc = store__cond_check(&op->cond, &v);
        }
        if (rc == GW_OK) {
            rc = store_version_unref(st, txn, &v);
        }
        if (rc == GW_OK) {
            rc = store__mdb_rc(mdb_cursor_del(cur, 0));
        }
        mdb_cursor_close(cur);
        if (rc == GW_ENOTFOUND) {
            return GW_OK;
        }
    }
    if (rc == GW_OK) {
        res->found = 1;
        res->version = vi.version;
        res->versioned = (vi.flags & STORE_VF_VERSIONED) != 0;
        res->marker = (vi.flags & STORE_VF_MARKER) != 0;
    }
    return rc;
}

/* DeleteObject without a version in a bucket that was never versioned:
 * the record goes. */
static int
store_object_unversioned_delete(store_t *st, MDB_txn *txn, store_op_t *op,
                                store_vresult_t *res)
{
    unsigned char   kb[512];
    gw_str_t        key = { op->key, op->key_len };
    store_repl_t    repl = store__op_dests(op);
    MDB_val         k, v;
    int             rc;

    rc = store__object_find(st, txn, op->bucket, key, &v);
    if (rc == GW_ENOTFOUND) {
        return GW_OK;
    }
    if (rc != GW_OK) {
        return rc;
    }
    rc = store_version_unref(st, txn, &v);
    if (rc != 0) {
        return rc;
    }
    k.mv_data = kb;
    k.mv_size = store__object_key(op->bucket, key, kb);
    rc = mdb_del(txn, st->db_objects, &k, NULL);
    if (rc == 0) {
        res->found = 1;
        rc = store__outbox_add(st, txn, op->bucket, key, &repl,
                               STORE_REPL_DELETE);
    }
    return store__mdb_rc(rc);
}

/* A delete without a version: op->cond against the key's current version,
 * as a put's conditions are (store_commit_check). */
static int
store_remove_check(store_t *st, MDB_txn *txn, store_op_t *op)
{
    gw_str_t        key = { op->key, op->key_len };
    store_vinfo_t   vi;
    MDB_val         v;
    int             rc;

    rc = store__object_find(st, txn, op->bucket, key, &v);
    if (rc == GW_ENOTFOUND) {
        return store_commit_check(NULL, 1, NULL, &op->cond);
    }
    if (rc == GW_OK) {
        rc = store__object_vinfo(v.mv_data, v.mv_size, &vi);
    }
    if (rc == GW_OK) {
        rc = store_commit_check(&v, 0, &vi, &op->cond);
    }
    return rc;
}

static int
store_object_remove_apply(store_t *st, MDB_txn *txn, store_op_t *op)
{
    gw_str_t         key = { op->key, op->key_len };
    store_repl_t     repl = store__op_dests(op);
    store_vresult_t  res;
    store_cond_t     none;
    int              rc, state;

    memset(&res, 0, sizeof(res));
    rc = store__bucket_versioning(st, txn, op->bucket, &state);
    if (rc != GW_OK) {
        return rc;
    }
    if (!op->has_version) {
        rc = store_remove_check(st, txn, op);
        if (rc != GW_OK) {
            return rc;
        }
    }
    if (op->has_version) {
        rc = store_version_delete(st, txn, op, &res);
    } else if (state == STORE_VERSIONING_NONE) {
        rc = store_object_unversioned_delete(st, txn, op, &res);
    } else {
        /* A delete marker becomes the current version. */
        memset(&none, 0, sizeof(none));
        rc = store__object_commit(st, txn, op->bucket, key, op->val,
                                  op->val_len, NULL, 0, &none, &res);
        if (rc == GW_OK) {
            rc = store__outbox_add_v(st, txn, op->bucket, key, &repl,
                                     STORE_REPL_DELETE, res.versioned,
                                     res.version);
        }
    }
    if (rc == GW_OK && op->vres != NULL) {
        *op->vres = res;
    }
    return rc;
}

void
store_object_remove(store_t *st, const char *bucket, gw_str_t key,
                    int has_version, uint64_t version,
                    const store_cond_t *cond, const store_repl_t *repl,
                    const char *owner, store_vresult_t *res,
                    store_done_pt done, void *ud)
{
    store_op_t      *op = store__op_new(done, ud);
    store_object_t   m;

    op->apply = store_object_remove_apply;
    /* A delete marker adds a record, but it is what a delete leaves. */
    op->frees = op->deletes = 1;
    snprintf(op->bucket, sizeof(op->bucket), "%s", bucket);
    op->key = gw_strndup(key.base, key.len);
    op->key_len = key.len;
    op->has_version = has_version != 0;
    op->version = version;
    op->vres = res;
    if (cond != NULL) {
        op->cond = *cond;
        op->cond.if_none_match_star = 0;
        op->cond.in_place = 0;
    }
    if (!has_version) {
        memset(&m, 0, sizeof(m));
        m.key = key;
        m.mtime_ms = store_version_now_ms();
        m.vflags = STORE_VF_MARKER;
        if (owner != NULL) {
            m.owner.base = owner;
            m.owner.len = strlen(owner);
        }
        op->val = store__object_encode(&m, &op->val_len);
    }
    store__op_repl(op, repl);
    store__submit(st, op);
}

/* ==== reading ==== */

static int
store_version_read(store_t *st, MDB_txn *txn, const char *bucket,
                   gw_str_t key, int current, uint64_t version,
                   store_object_t **out, int *is_current)
{
    MDB_cursor     *cur;
    MDB_val         k, v;
    store_vinfo_t   vi;
    int             rc;

    rc = store__object_find(st, txn, bucket, key, &v);
    if (rc != GW_OK) {
        return rc;          /* no current version: no versions at all */
    }
    rc = store__object_vinfo(v.mv_data, v.mv_size, &vi);
    if (rc != GW_OK) {
        return rc;
    }
    if (current || store__version_match(&vi, version)) {
        if (is_current != NULL) {
            *is_current = 1;
        }
        return store__object_decode(v.mv_data, v.mv_size, STORE_DECODE_CHUNKS,
                                    out);
    }
    rc = mdb_cursor_open(txn, st->db_versions, &cur);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = store__version_seek(st, cur, bucket, key, version, &k, &v, &vi);
    if (rc == GW_OK) {
        if (is_current != NULL) {
            *is_current = 0;
        }
        rc = store__object_decode(v.mv_data, v.mv_size, STORE_DECODE_CHUNKS,
                                  out);
    }
    mdb_cursor_close(cur);
    return rc;
}

int
store_version_get(store_t *st, const char *bucket, gw_str_t key, int current,
                  uint64_t version, store_object_t **out, int *is_current)
{
    MDB_txn  *txn;
    int       rc;

    /* The caller pins the chunks in this loop turn (pin.c). */
    store__read_mark(st);
    rc = store__read_txn(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = store_version_read(st, txn, bucket, key, current, version, out,
                            is_current);
    if (rc == GW_OK && key.len > STORE_KEY_DIRECT
        && ((*out)->key.len != key.len
            || memcmp((*out)->key.base, key.base, key.len) != 0))
    {
        store_object_free(*out);
        rc = GW_ENOTFOUND;          /* another long key with that hash */
    }
    store__read_done(st, txn);
    return rc;
}

int
store_version_list(store_t *st, const char *bucket, gw_str_t key,
                   int oldest_first,
                   int (*cb)(void *ud, const store_object_t *v), void *ud)
{
    unsigned char    pb[512], kb[512];
    MDB_txn         *txn;
    MDB_cursor      *cur;
    MDB_val          k, v;
    store_object_t  *o;
    size_t           plen;
    int              rc, stop = 0;

    rc = store__read_begin(st, &txn);
    if (rc != 0) {
        return store__mdb_rc(rc);
    }
    rc = mdb_cursor_open(txn, st->db_versions, &cur);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return store__mdb_rc(rc);
    }
    plen = store__version_key(bucket, key, 0, 1, pb);
    if (!oldest_first) {
        k.mv_data = pb;
        k.mv_size = plen;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    } else {
        /* The oldest has the greatest key: seek past the last one there
         * can be, then step back. */
        k.mv_data = kb;
        k.mv_size = store__version_key(bucket, key, 0, 0, kb);
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        } else if (rc == 0 && !store__version_of(&k, pb, plen)) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
        }
    }
    while (rc == 0 && store__version_of(&k, pb, plen) && !stop) {
        rc = store__object_decode(v.mv_data, v.mv_size, 0, &o);
        if (rc != GW_OK) {
            break;
        }
        if (key.len <= STORE_KEY_DIRECT
            || (o->key.len == key.len
                && memcmp(o->key.base, key.base, key.len) == 0))
        {
            stop = cb(ud, o);
        }
        store_object_free(o);
        rc = mdb_cursor_get(cur, &k, &v, oldest_first ? MDB_PREV : MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc == 0 || rc == MDB_NOTFOUND || stop ? GW_OK : store__mdb_rc(rc);
}
