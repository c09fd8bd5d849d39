/* store/vlist.c: the listing of every version of a bucket (ListObject-
 * Versions): the objects iterator of index.c for the current versions,
 * and a cursor over the versions database (version.c's key schema) for
 * the older ones of each key. */
#include "store/internal.h"

/* ==== listing every version ====
 *
 * The objects iterator (index.c) walks the current versions in key order;
 * after each, a cursor of the same read txn walks that key's noncurrent
 * versions, which sit together in the versions database, newest first. A
 * key's old versions cost one seek when a listing passes the key. */

#define STORE_VITER_KEY   0    /* the next current version is due */
#define STORE_VITER_CUR   1    /* vt->cur is to be returned */
#define STORE_VITER_FIRST 2    /* the key's first noncurrent one is due */
#define STORE_VITER_NEXT  3    /* ... the one after the cursor's */

struct store_viter_s {
    store_iter_t           *it;
    MDB_cursor             *vcur;
    const store_object_t   *cur;      /* the key's current version (it's) */
    store_object_t         *last;     /* the noncurrent one returned */
    int                     state;
    unsigned char           prefix[512];
    size_t                  plen;
};

store_viter_t *
store_viter_open(store_t *st, const char *bucket)
{
    store_viter_t  *vt = gw_calloc(1, sizeof(*vt));

    vt->it = store_iter_open(st, bucket);
    store__iter_markers(vt->it);
    if (store__iter_txn(vt->it) == NULL
        || mdb_cursor_open(store__iter_txn(vt->it), st->db_versions,
                           &vt->vcur) != 0)
    {
        vt->vcur = NULL;
    }
    return vt;
}

/* The key of vt->cur's versions into vt->prefix. */
static void
store_viter_prefix(store_viter_t *vt, const char *bucket)
{
    vt->plen = store__version_key(bucket, vt->cur->key, 0, 1, vt->prefix);
}

int
store_viter_seek(store_viter_t *vt, gw_str_t key, int after, int has_version,
                 uint64_t version)
{
    const char     *bucket;
    char            bname[STORE_BUCKET_MAX + 1];
    MDB_val         k, v;
    store_vinfo_t   vi;
    int             rc;

    store_object_free(vt->last);
    vt->last = NULL;
    vt->cur = NULL;
    vt->state = STORE_VITER_KEY;
    if (!has_version) {
        return store_iter_seek(vt->it, key, after);
    }
    rc = store_iter_seek(vt->it, key, 0);
    if (rc == GW_OK) {
        rc = store_iter_next(vt->it, &vt->cur);
    }
    if (rc != GW_OK) {
        vt->cur = NULL;
        return rc == GW_ENOTFOUND ? GW_OK : rc;
    }
    if (vt->cur->key.len != key.len
        || memcmp(vt->cur->key.base, key.base, key.len) != 0)
    {
        vt->state = STORE_VITER_CUR;       /* the marker's key is gone */
        return GW_OK;
    }
    bucket = store__iter_bucket(vt->it, bname);
    store_viter_prefix(vt, bucket);
    vi.flags = vt->cur->vflags;
    vi.version = vt->cur->version;
    if (store__version_match(&vi, version)) {
        vt->state = STORE_VITER_FIRST;
        return GW_OK;
    }
    if (vt->vcur == NULL) {
        return UV_EIO;
    }
    rc = store__version_seek(NULL, vt->vcur, bucket, key, version, &k, &v, &vi);
    if (rc == GW_OK) {
        vt->state = STORE_VITER_NEXT;   /* the cursor is on the marker */
        return GW_OK;
    }
    vt->state = STORE_VITER_KEY;        /* no such version: the next key */
    return rc == GW_ENOTFOUND ? GW_OK : rc;
}

int
store_viter_next(store_viter_t *vt, const store_object_t **out, int *latest)
{
    char      bname[STORE_BUCKET_MAX + 1];
    MDB_val   k, v;
    int       rc;

    store_object_free(vt->last);
    vt->last = NULL;
    for (;;) {
        switch (vt->state) {
        case STORE_VITER_KEY:
            rc = store_iter_next(vt->it, &vt->cur);
            if (rc != GW_OK) {
                return rc;
            }
            /* fall through */
        case STORE_VITER_CUR:
            store_viter_prefix(vt, store__iter_bucket(vt->it, bname));
            vt->state = STORE_VITER_FIRST;
            *out = vt->cur;
            *latest = 1;
            return GW_OK;
        case STORE_VITER_FIRST:
            if (vt->vcur == NULL) {
                return UV_EIO;
            }
            k.mv_data = vt->prefix;
            k.mv_size = vt->plen;
            rc = mdb_cursor_get(vt->vcur, &k, &v, MDB_SET_RANGE);
            break;
        default:
            rc = mdb_cursor_get(vt->vcur, &k, &v, MDB_NEXT);
            break;
        }
        vt->state = STORE_VITER_NEXT;
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return store__mdb_rc(rc);
        }
        if (rc == MDB_NOTFOUND || !store__version_of(&k, vt->prefix, vt->plen)) {
            vt->state = STORE_VITER_KEY;
            continue;
        }
        rc = store__object_decode(v.mv_data, v.mv_size, 0, &vt->last);
        if (rc != GW_OK) {
            return rc;
        }
        if (vt->last->key.len != vt->cur->key.len
            || memcmp(vt->last->key.base, vt->cur->key.base,
                      vt->cur->key.len) != 0)
        {
            store_object_free(vt->last);     /* a long key's hash twin */
            vt->last = NULL;
            continue;
        }
        *out = vt->last;
        *latest = 0;
        return GW_OK;
    }
}

void
store_viter_close(store_viter_t *vt)
{
    if (vt == NULL) {
        return;
    }
    store_object_free(vt->last);
    if (vt->vcur != NULL) {
        mdb_cursor_close(vt->vcur);
    }
    store_iter_close(vt->it);
    gw_free(vt);
}
