/* store/format.c: the index's format. Owns the format marker (meta
 * "format"), opening the databases a format has (internal.h's STORE_DBS),
 * and the upgrades of an index
 * from format 1 (the builds before the marker), 2 (before versions) or 3
 * (before upkeys and outdue) to STORE_FORMAT. The formats
 * themselves are described at the top of store.h; the record codecs are in
 * record.c. Runs only while the store opens, inside its first write
 * transaction, before anything is served. */
#include "store/internal.h"
#include "core/log.h"

/* Format 1 kept its bucket records in a database of this name. Format 2
 * puts a plain key of the same name in LMDB's main database instead, so
 * that a format-1 build, which opens "buckets" first, stops there with
 * MDB_INCOMPATIBLE and changes nothing. */
#define STORE_V1_TOMBSTONE  "s3gw: store format 2 or newer; see meta \"format\""

/* Format 1 values were C structs and raw integers in the machine's byte
 * order (the one this build runs on: they are only read on the machine that
 * wrote them). The bucket record was store_bucket_t of then: name[64],
 * owner[64], region[32], int64_t ctime_ms. */
#define STORE_V1_BUCKET_SIZE   168
#define STORE_V1_BUCKET_OWNER  64
#define STORE_V1_BUCKET_REGION 128
#define STORE_V1_BUCKET_CTIME  160
#define STORE_V1_REF_SIZE      12
#define STORE_V1_GCQ_SIZE      8

/* Opens every database of STORE_FORMAT. */
static int
store_format_dbs(store_t *st, MDB_txn *txn)
{
    static const struct {
        const char  *name;
        size_t       off;
    } dbs[] = {
#define STORE_DB_ROW(name, field)  { name, offsetof(store_t, field) },
        STORE_DBS(STORE_DB_ROW)
#undef STORE_DB_ROW
    };
    size_t  i;
    int     rc;

    for (i = 0; i < GW_NELEMS(dbs); i++) {
        rc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE,
                          (MDB_dbi *) ((char *) st + dbs[i].off));
        if (rc != 0) {
            gw_log(GW_LOG_CRIT, NULL, store__mdb_rc(rc), "cannot open the "
                   "index database \"%s\"", dbs[i].name);
            return rc;
        }
    }
    return GW_OK;
}

/* Writes the marker of STORE_FORMAT and the tombstone that stops format-1
 * builds. */
static int
store_format_mark(store_t *st, MDB_txn *txn)
{
    store_recw_t  w;
    MDB_dbi       main_db;
    MDB_val       k, v;
    int           rc;

    rc = mdb_dbi_open(txn, NULL, 0, &main_db);
    if (rc != 0) {
        return rc;
    }
    k.mv_data = STORE_V1_BUCKETS;
    k.mv_size = sizeof(STORE_V1_BUCKETS) - 1;
    v.mv_data = STORE_V1_TOMBSTONE;
    v.mv_size = sizeof(STORE_V1_TOMBSTONE) - 1;
    rc = mdb_put(txn, main_db, &k, &v, 0);
    if (rc != 0) {
        return rc;
    }
    store__meta_format_encode(STORE_FORMAT, &w);
    k.mv_data = STORE_META_FORMAT;
    k.mv_size = sizeof(STORE_META_FORMAT) - 1;
    v.mv_data = w.buf;
    v.mv_size = w.len;
    rc = mdb_put(txn, st->db_meta, &k, &v, 0);
    store__recw_free(&w);
    return rc;
}

/* ==== the upgrade from format 1 ==== */

typedef struct {
    store_t     *st;
    const char  *db;            /* name, for messages */
    size_t       count;
} store_upgrade_t;

/* A format-1 value that cannot be converted: the upgrade stops. */
static int
store_upgrade_bad(store_upgrade_t *u, const MDB_val *k, const MDB_val *v)
{
    gw_log(GW_LOG_CRIT, NULL, GW_ECORRUPT, "cannot upgrade the index in "
           "\"%s\": a value of %zu bytes in \"%s\" (key of %zu bytes) is not "
           "a format-1 record", u->st->dir, v->mv_size, u->db, k->mv_size);
    return GW_ECORRUPT;
}

/* Rewrites every value of dbi in place with convert, which fills w from
 * the format-1 value or returns GW_ECORRUPT. */
static int
store_upgrade_db(store_upgrade_t *u, MDB_txn *txn, MDB_dbi dbi,
                 int (*convert)(const MDB_val *k, const MDB_val *v,
                                store_recw_t *w))
{
    MDB_cursor    *cur;
    MDB_val        k, v, nk, nv;
    store_recw_t   w;
    unsigned char  kb[512];
    int            rc;

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        return rc;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size > sizeof(kb) || convert(&k, &v, &w) != GW_OK) {
            rc = store_upgrade_bad(u, &k, &v);
            break;
        }
        /* The key is copied first: k points into the page the put
         * rewrites when the value changes size. */
        memcpy(kb, k.mv_data, k.mv_size);
        nk.mv_data = kb;
        nk.mv_size = k.mv_size;
        nv.mv_data = w.buf;
        nv.mv_size = w.len;
        rc = mdb_cursor_put(cur, &nk, &nv, MDB_CURRENT);
        store__recw_free(&w);
        if (rc != 0) {
            break;
        }
        u->count++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? GW_OK : rc;
}

static int
store_upgrade_ref(const MDB_val *k, const MDB_val *v, store_recw_t *w)
{
    uint64_t  count;
    uint32_t  len;

    if (k->mv_size != 32 || v->mv_size != STORE_V1_REF_SIZE) {
        return GW_ECORRUPT;
    }
    memcpy(&count, v->mv_data, 8);
    memcpy(&len, (const char *) v->mv_data + 8, 4);
    store__ref_encode(count, len, w);
    return GW_OK;
}

static int
store_upgrade_gcq(const MDB_val *k, const MDB_val *v, store_recw_t *w)
{
    uint64_t  seq;

    if (k->mv_size != 32 || v->mv_size != STORE_V1_GCQ_SIZE) {
        return GW_ECORRUPT;
    }
    memcpy(&seq, v->mv_data, 8);
    store__gcq_encode(seq, 0, w);
    return GW_OK;
}

/* u8 n | bucket[n] | object record template. */
static int
store_upgrade_upload(const MDB_val *k, const MDB_val *v, store_recw_t *w)
{
    const unsigned char  *p = v->mv_data;
    gw_str_t              bucket;

    if (v->mv_size < 2 || p[0] == 0 || p[0] > STORE_BUCKET_MAX
        || v->mv_size <= 1u + p[0])
    {
        return GW_ECORRUPT;
    }
    bucket.base = (const char *) p + 1;
    bucket.len = p[0];
    store__upload_encode(bucket, p + 1 + p[0], v->mv_size - 1 - p[0], w);
    return GW_OK;
}

static int
store_upgrade_bconf(const MDB_val *k, const MDB_val *v, store_recw_t *w)
{
    gw_str_t  doc = { v->mv_data, v->mv_size };

    store__bconf_encode(doc, w);
    return GW_OK;
}

/* Moves the bucket records from "buckets" (old) to "bucket", re-encoded,
 * then drops "buckets". */
static int
store_upgrade_buckets(store_upgrade_t *u, MDB_txn *txn, MDB_dbi old)
{
    store_t         *st = u->st;
    MDB_cursor      *cur;
    MDB_val          k, v, nv;
    store_bucket_t   b;
    store_recw_t     w;
    const char      *p;
    int              rc;

    rc = mdb_cursor_open(txn, old, &cur);
    if (rc != 0) {
        return rc;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        p = v.mv_data;
        if (v.mv_size != STORE_V1_BUCKET_SIZE || k.mv_size == 0
            || k.mv_size > STORE_BUCKET_MAX)
        {
            rc = store_upgrade_bad(u, &k, &v);
            break;
        }
        /* Format 1 cut the owner at 63 bytes and the region at 31, so
         * both fit the bigger fields of now. */
        memset(&b, 0, sizeof(b));
        memcpy(b.name, k.mv_data, k.mv_size);
        memcpy(b.owner, p + STORE_V1_BUCKET_OWNER,
               strnlen(p + STORE_V1_BUCKET_OWNER,
                       STORE_V1_BUCKET_REGION - STORE_V1_BUCKET_OWNER - 1));
        memcpy(b.region, p + STORE_V1_BUCKET_REGION,
               strnlen(p + STORE_V1_BUCKET_REGION,
                       STORE_V1_BUCKET_CTIME - STORE_V1_BUCKET_REGION - 1));
        memcpy(&b.ctime_ms, p + STORE_V1_BUCKET_CTIME, 8);
        store__bucket_encode(&b, &w);
        nv.mv_data = w.buf;
        nv.mv_size = w.len;
        rc = mdb_put(txn, st->db_buckets, &k, &nv, MDB_NOOVERWRITE);
        store__recw_free(&w);
        if (rc != 0) {
            break;
        }
        u->count++;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) {
        return rc;
    }
    /* Deletes the database and closes its handle. */
    return mdb_drop(txn, old, 1);
}

static int
store_upgrade_v1(store_t *st, MDB_txn *txn, MDB_dbi old)
{
    store_upgrade_t  u[5];
    size_t           n;
    int              rc;

    memset(u, 0, sizeof(u));
    u[0].st = u[1].st = u[2].st = u[3].st = u[4].st = st;
    u[0].db = STORE_V1_BUCKETS;
    u[1].db = "refs";
    u[2].db = "gcq";
    u[3].db = "uploads";
    u[4].db = "bconf";
    if ((rc = store_format_dbs(st, txn)) != GW_OK
        || (rc = store_upgrade_buckets(&u[0], txn, old)) != GW_OK
        || (rc = store_upgrade_db(&u[1], txn, st->db_refs,
                                  store_upgrade_ref)) != GW_OK
        || (rc = store_upgrade_db(&u[2], txn, st->db_gcq,
                                  store_upgrade_gcq)) != GW_OK
        || (rc = store_upgrade_db(&u[3], txn, st->db_uploads,
                                  store_upgrade_upload)) != GW_OK
        || (rc = store_upgrade_db(&u[4], txn, st->db_bconf,
                                  store_upgrade_bconf)) != GW_OK
        || (rc = store__upkeys_build(st, txn, &u[3].count)) != GW_OK
        || (rc = store__outdue_build(st, txn, &n)) != GW_OK
        || (rc = store_format_mark(st, txn)) != GW_OK)
    {
        return rc;
    }
    gw_log(GW_LOG_NOTICE, NULL, 0, "upgrading the index in \"%s\" from store "
           "format 1 to %d: %zu buckets, %zu chunk references, %zu queued "
           "chunks, %zu uploads, %zu bucket documents rewritten", st->dir,
           STORE_FORMAT, u[0].count, u[1].count, u[2].count, u[3].count,
           u[4].count);
    return GW_OK;
}

/* Format 2 had no versions: every object record is the current, null
 * version of its key, as format 3 reads it; format 3 had no upkeys and no
 * outdue. The upgrade from either creates the databases that are missing
 * (versions, upkeys, outdue), makes the upkeys entry of every upload and
 * the outdue entry of every pending replication entry, and writes the
 * marker;
 * no record changes. */
static int
store_upgrade_v23(store_t *st, MDB_txn *txn, uint32_t format)
{
    size_t  n = 0, m = 0;
    int     rc;

    if ((rc = store_format_dbs(st, txn)) != GW_OK
        || (rc = store__upkeys_build(st, txn, &n)) != GW_OK
        || (rc = store__outdue_build(st, txn, &m)) != GW_OK
        || (rc = store_format_mark(st, txn)) != GW_OK)
    {
        return rc;
    }
    gw_log(GW_LOG_NOTICE, NULL, 0, "upgrading the index in \"%s\" from store "
           "format %u to %d: %s%zu uploads indexed by bucket and key, %zu "
           "replication entries by due time", st->dir, format, STORE_FORMAT,
           format == 2 ? "the versions database was added, " : "", n, m);
    return GW_OK;
}

/* ==== the generation counter ==== */

static int
store_generation_load(store_t *st, MDB_txn *txn)
{
    MDB_val  k, v;
    int      rc;

    k.mv_data = STORE_META_GEN;
    k.mv_size = sizeof(STORE_META_GEN) - 1;
    rc = mdb_get(txn, st->db_meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        st->gen_last = st->gen_saved = 0;
        return GW_OK;
    }
    if (rc == 0) {
        rc = store__meta_counter_decode(v.mv_data, v.mv_size, &st->gen_last);
    }
    if (rc != 0) {
        /* Giving out a number twice would make a stale conditional write
         * succeed: better not to start. */
        gw_log(GW_LOG_CRIT, NULL, store__mdb_rc(rc), "cannot read the "
               "generation counter of the index in \"%s\"", st->dir);
        return rc;
    }
    st->gen_saved = st->gen_last;
    return GW_OK;
}

/* ==== opening ==== */

static int
store_format_check(store_t *st, MDB_txn *txn)
{
    MDB_dbi   meta, old;
    MDB_val   k, v;
    uint32_t  format = 0;
    int       rc;

    rc = mdb_dbi_open(txn, "meta", 0, &meta);
    if (rc == MDB_NOTFOUND) {
        rc = mdb_dbi_open(txn, STORE_V1_BUCKETS, 0, &old);
        if (rc == 0) {
            return store_upgrade_v1(st, txn, old);
        }
        if (rc != MDB_NOTFOUND) {
            gw_log(GW_LOG_CRIT, NULL, store__mdb_rc(rc), "the index in "
                   "\"%s\" has no format marker and is not of store format 1",
                   st->dir);
            return rc == MDB_INCOMPATIBLE ? GW_EFORMAT : rc;
        }
        /* A new index. */
        rc = store_format_dbs(st, txn);
        return rc != GW_OK ? rc : store_format_mark(st, txn);
    }
    if (rc != 0) {
        return rc;
    }
    k.mv_data = STORE_META_FORMAT;
    k.mv_size = sizeof(STORE_META_FORMAT) - 1;
    rc = mdb_get(txn, meta, &k, &v);
    if (rc == 0) {
        rc = store__meta_format_decode(v.mv_data, v.mv_size, &format);
    }
    if (rc != 0) {
        gw_log(GW_LOG_CRIT, NULL, store__mdb_rc(rc), "the index in \"%s\" "
               "has no readable store format marker (written by a newer "
               "s3gw?); this s3gw reads store format %d", st->dir,
               STORE_FORMAT);
        return GW_EFORMAT;
    }
    if (format > STORE_FORMAT) {
        gw_log(GW_LOG_CRIT, NULL, 0, "the index in \"%s\" is in store format "
               "%u, newer than store format %d that this s3gw reads; run a "
               "newer s3gw (nothing was changed)", st->dir, format,
               STORE_FORMAT);
        return GW_EFORMAT;
    }
    if (format == 2 || format == 3) {
        return store_upgrade_v23(st, txn, format);
    }
    if (format < STORE_FORMAT) {
        /* No other format before STORE_FORMAT wrote a marker. */
        gw_log(GW_LOG_CRIT, NULL, 0, "the index in \"%s\" claims store "
               "format %u, which this s3gw (store format %d) cannot read",
               st->dir, format, STORE_FORMAT);
        return GW_EFORMAT;
    }
    return store_format_dbs(st, txn);
}

int
store__format_open(store_t *st, MDB_txn *txn)
{
    int  rc = store_format_check(st, txn);

    if (rc == GW_OK) {
        rc = store_generation_load(st, txn);
    }
    return rc != GW_OK ? rc : store__outbox_open(st, txn);
}
