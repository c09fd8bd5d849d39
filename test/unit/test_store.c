/* test/unit/test_store.c: the chunk writer, object records, the key schema's
 * ordering of long keys, reference counts and the collector, the store
 * format (upgrade, refusal), on a real store in a temp directory and a real
 * loop. It includes store/internal.h (and so lmdb.h) to build a format-1
 * index byte by byte, as the builds before the format marker wrote it. */
#include "store/internal.h"
#include "core/hash.h"
#include "test/unit/unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    uv_loop_t   loop;
    uv_timer_t  alive;      /* the collector's timer does not keep a loop up */
    gw_conf_t   cf;
    store_t    *st;
    char        dir[64];
    int         done, rc;
} fx_t;

static void
fx_done(void *ud, int rc)
{
    fx_t  *fx = ud;

    fx->done = 1;
    fx->rc = rc;
}

/* Runs the loop until the pending op called fx_done. */
static int
fx_wait(fx_t *fx)
{
    while (!fx->done) {
        uv_run(&fx->loop, UV_RUN_ONCE);
    }
    fx->done = 0;
    return fx->rc;
}

static void
fx_tick(uv_timer_t *t)
{
    GW_UNUSED(t);
}

/* A loop and a config for the store in fx->dir (which must exist). */
static void
fx_init(fx_t *fx)
{
    CHECK_EQ_INT(uv_loop_init(&fx->loop), 0);
    uv_timer_init(&fx->loop, &fx->alive);
    uv_timer_start(&fx->alive, fx_tick, 5, 5);
    gw_conf_init(&fx->cf);
    fx->cf.data_dir = fx->dir;
    fx->cf.chunk_size = 64 * 1024;
    fx->cf.inline_max = 100;
    fx->cf.gc_interval_ms = 10;
}

static void
fx_mkdir(fx_t *fx)
{
    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/s3gw-unit-XXXXXX");
    CHECK(mkdtemp(fx->dir) != NULL);
}

static void
fx_open(fx_t *fx)
{
    store_bucket_t  b;

    fx_mkdir(fx);
    fx_init(fx);
    CHECK_EQ_INT(store_open(&fx->st, &fx->loop, &fx->cf), GW_OK);
    memset(&b, 0, sizeof(b));
    strcpy(b.name, "bkt");
    strcpy(b.owner, "admin");
    store_bucket_create(fx->st, &b, (gw_str_t) { NULL, 0 }, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), GW_OK);
}

static void
fx_closed(store_t *st)
{
    GW_UNUSED(st);
}

/* Closes the store and the loop; the directory stays. */
static void
fx_stop(fx_t *fx)
{
    uv_close((uv_handle_t *) &fx->alive, NULL);
    if (fx->st != NULL) {
        store_close(fx->st, fx_closed);
        fx->st = NULL;
    }
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&fx->loop), 0);
}

static void
fx_rmdir(fx_t *fx)
{
    char  cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static void
fx_close(fx_t *fx)
{
    fx_stop(fx);
    fx_rmdir(fx);
}

static size_t
fx_chunk_files(fx_t *fx)
{
    char            path[PATH_MAX];
    DIR            *d;
    struct dirent  *e;
    size_t          n = 0, i;

    for (i = 0; i < 256; i++) {
        snprintf(path, sizeof(path), "%s/chunks/%02zx", fx->dir, i);
        d = opendir(path);
        CHECK(d != NULL);
        while ((e = readdir(d)) != NULL) {
            n += e->d_name[0] != '.';
        }
        closedir(d);
    }
    return n;
}

static void
fx_ready(void *ud)
{
    GW_UNUSED(ud);
}

/* Streams data through a writer in uneven pieces; returns the writer. */
static store_chunk_writer_t *
fx_write(fx_t *fx, const unsigned char *data, size_t len)
{
    store_chunk_writer_t  *w = store_chunk_writer_open(fx->st, fx_ready, fx);
    size_t                 off = 0, n;
    int                    rc;

    while (off < len) {
        n = GW_MIN(len - off, (size_t) (off % 7919) + 1);
        rc = store_chunk_write(w, (const char *) data + off, n);
        CHECK(rc == GW_OK || rc == GW_AGAIN);
        off += n;
        while (rc == GW_AGAIN && uv_run(&fx->loop, UV_RUN_ONCE)) {
            rc = GW_OK;      /* the writer drains; on_ready is a no-op here */
        }
    }
    rc = store_chunk_writer_finish(w, fx_done, fx);
    if (rc == GW_DONE) {
        rc = fx_wait(fx);
    }
    CHECK_EQ_INT(rc, GW_OK);
    return w;
}

static unsigned char *
fx_random(size_t len, unsigned seed)
{
    unsigned char  *p = malloc(len);
    size_t          i;

    srand(seed);
    for (i = 0; i < len; i++) {
        p[i] = (unsigned char) rand();
    }
    return p;
}

TEST(store_chunk_writer)
{
    fx_t                      fx;
    store_chunk_writer_t     *w;
    const store_chunk_ref_t  *c;
    unsigned char            *data = fx_random(200000, 1), sha[32];
    char                      path[PATH_MAX];
    size_t                    n, i;
    FILE                     *fp;
    unsigned char            *buf = malloc(65536);

    fx_open(&fx);
    w = fx_write(&fx, data, 200000);
    c = store_chunk_writer_chunks(w, &n);
    CHECK_EQ_INT(store_chunk_writer_total(w), 200000);
    CHECK_EQ_INT(n, 4);                       /* 3 x 64 KiB + 3392 bytes */
    for (i = 0; i < n; i++) {
        CHECK_EQ_INT(c[i].off, i * 65536);
        CHECK_EQ_INT(c[i].len, i < 3 ? 65536 : 200000 - 3 * 65536);
        gw_sha256(data + c[i].off, c[i].len, sha);
        CHECK(memcmp(sha, c[i].sha, 32) == 0);
        store_chunk_path(fx.st, c[i].sha, path, sizeof(path));
        fp = fopen(path, "rb");
        CHECK(fp != NULL);
        CHECK_EQ_INT(fread(buf, 1, 65536, fp), c[i].len);
        fclose(fp);
        CHECK(memcmp(buf, data + c[i].off, c[i].len) == 0);
    }
    /* Nothing committed: closing queues the chunks for the collector. */
    store_chunk_writer_close(w, 0);
    CHECK_EQ_INT(fx_chunk_files(&fx), 4);
    for (i = 0; i < 200 && fx_chunk_files(&fx) != 0; i++) {
        uv_run(&fx.loop, UV_RUN_NOWAIT);
        usleep(10000);
    }
    CHECK_EQ_INT(fx_chunk_files(&fx), 0);

    /* Small bodies stay in memory. */
    w = fx_write(&fx, data, 100);
    c = store_chunk_writer_chunks(w, &n);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(store_chunk_writer_inline(w).len, 100);
    CHECK(memcmp(store_chunk_writer_inline(w).base, data, 100) == 0);
    store_chunk_writer_close(w, 0);
    fx_close(&fx);
    free(buf);
    free(data);
}

static void
fx_put(fx_t *fx, const char *key, store_chunk_writer_t *w, int expect)
{
    store_object_t  o;

    memset(&o, 0, sizeof(o));
    o.key.base = key;
    o.key.len = strlen(key);
    o.size = store_chunk_writer_total(w);
    o.owner = gw_str_lit("admin");
    o.content_type = gw_str_lit("text/plain");
    o.chunks = (store_chunk_ref_t *) store_chunk_writer_chunks(w, &o.nchunks);
    o.inline_data = store_chunk_writer_inline(w);
    store_object_put(fx->st, "bkt", &o, NULL, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), expect);
}

TEST(store_refcounts_and_gc)
{
    fx_t                   fx;
    unsigned char         *data = fx_random(150000, 2);
    store_chunk_writer_t  *w1, *w2;
    store_object_t        *o;
    size_t                 i;

    fx_open(&fx);
    w1 = fx_write(&fx, data, 150000);
    fx_put(&fx, "one", w1, GW_OK);
    store_chunk_writer_close(w1, 1);
    w2 = fx_write(&fx, data, 150000);
    fx_put(&fx, "two", w2, GW_OK);
    store_chunk_writer_close(w2, 1);
    /* Same bytes under two keys: stored once. */
    CHECK_EQ_INT(fx_chunk_files(&fx), 3);
    CHECK_EQ_INT(store_chunk_count(fx.st), 3);

    CHECK_EQ_INT(store_object_get(fx.st, "bkt", gw_str_lit("two"), &o), GW_OK);
    CHECK_EQ_INT(o->size, 150000);
    CHECK_EQ_INT(o->nchunks, 3);
    CHECK(gw_str_eq_lit(o->content_type, "text/plain"));
    CHECK(gw_str_eq_lit(o->key, "two"));
    store_object_free(o);

    store_object_delete(fx.st, "bkt", gw_str_lit("one"), fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    for (i = 0; i < 30; i++) {
        uv_run(&fx.loop, UV_RUN_NOWAIT);
        usleep(10000);
    }
    CHECK_EQ_INT(fx_chunk_files(&fx), 3);       /* "two" still holds them */
    store_object_delete(fx.st, "bkt", gw_str_lit("two"), fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    for (i = 0; i < 200 && fx_chunk_files(&fx) != 0; i++) {
        uv_run(&fx.loop, UV_RUN_NOWAIT);
        usleep(10000);
    }
    CHECK_EQ_INT(fx_chunk_files(&fx), 0);
    CHECK_EQ_INT(store_chunk_count(fx.st), 0);
    CHECK_EQ_INT(store_object_get(fx.st, "bkt", gw_str_lit("two"), &o),
                 GW_ENOTFOUND);
    fx_close(&fx);
    free(data);
}

static int
key_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

TEST(store_long_keys_order)
{
    fx_t                   fx;
    store_chunk_writer_t  *w;
    const store_object_t  *o;
    store_iter_t          *it;
    char                  *keys[40], base[1100];
    size_t                 n = 0, i;
    unsigned char          one = 'x';

    fx_open(&fx);
    memset(base, 'k', sizeof(base) - 1);
    base[sizeof(base) - 1] = '\0';
    /* Long keys sharing their first 400+ bytes, short ones around them. */
    for (i = 395; i <= 1020; i += 25) {
        keys[n] = strndup(base, i);
        keys[n][i - 1] = (char) ('a' + (i % 26));
        n++;
    }
    keys[n++] = strdup("a");
    keys[n++] = strdup("l");
    keys[n++] = strndup(base, 400);
    keys[n++] = strndup(base, 401);
    keys[n++] = strndup(base, 1024);
    w = fx_write(&fx, &one, 1);
    for (i = 0; i < n; i++) {
        fx_put(&fx, keys[i], w, GW_OK);
    }
    store_chunk_writer_close(w, 1);
    qsort(keys, n, sizeof(keys[0]), key_cmp);

    it = store_iter_open(fx.st, "bkt");
    CHECK_EQ_INT(store_iter_seek(it, gw_str_lit(""), 0), GW_OK);
    for (i = 0; i < n; i++) {
        CHECK_EQ_INT(store_iter_next(it, &o), GW_OK);
        CHECK_EQ_INT(o->key.len, strlen(keys[i]));
        CHECK(memcmp(o->key.base, keys[i], o->key.len) == 0);
    }
    CHECK_EQ_INT(store_iter_next(it, &o), GW_ENOTFOUND);
    store_iter_close(it);

    /* Seeking past each key lands on the next one. */
    for (i = 0; i + 1 < n; i++) {
        gw_str_t  k = { keys[i], strlen(keys[i]) };

        it = store_iter_open(fx.st, "bkt");
        CHECK_EQ_INT(store_iter_seek(it, k, 1), GW_OK);
        CHECK_EQ_INT(store_iter_next(it, &o), GW_OK);
        CHECK_EQ_INT(o->key.len, strlen(keys[i + 1]));
        CHECK(memcmp(o->key.base, keys[i + 1], o->key.len) == 0);
        store_iter_close(it);
    }
    for (i = 0; i < n; i++) {
        free(keys[i]);
    }
    fx_close(&fx);
}

/* ==== the store format ==== */

static void fx_put_cond(fx_t *fx, const char *key, const char *body,
                        const store_cond_t *cond, int expect);

/* The bucket record of format 1: store_bucket_t as it was. */
typedef struct {
    char     name[64];
    char     owner[64];
    char     region[32];
    int64_t  ctime_ms;
} v1_bucket_t;

static void
v1_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kl, const void *v,
       size_t vl)
{
    MDB_val  key, val;

    key.mv_data = (void *) k;
    key.mv_size = kl;
    val.mv_data = (void *) v;
    val.mv_size = vl;
    CHECK_EQ_INT(mdb_put(txn, dbi, &key, &val, 0), 0);
}

/* An object record as format 1 wrote it: without the generation field
 * (tag 15, 13 bytes right after the 72-byte head). */
static void *
v1_object(const store_object_t *o, size_t *len)
{
    unsigned char  *rec = store__object_encode(o, len);

    CHECK_EQ_INT(rec[72], 15);
    memmove(rec + 72, rec + 72 + 13, *len - 72 - 13);
    *len -= 13;
    return rec;
}

/* Opens the LMDB environment under dir/index directly. */
static MDB_env *
raw_env(const char *dir)
{
    MDB_env  *env;
    char      path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/index", dir);
    mkdir(path, 0755);
    CHECK_EQ_INT(mdb_env_create(&env), 0);
    CHECK_EQ_INT(mdb_env_set_maxdbs(env, 16), 0);
    CHECK_EQ_INT(mdb_env_set_mapsize(env, 64 << 20), 0);
    CHECK_EQ_INT(mdb_env_open(env, path, MDB_NOTLS, 0644), 0);
    return env;
}

#define V1_UPLOAD_ID  "0000018c0e6a8b2c0001a1b2c3d4e5f6"
#define V1_MORE_REFS  3000

/* A format-1 index with two buckets, a chunked object and an inline one,
 * the chunk's reference, a queued orphan, an upload and two documents; the
 * chunk file on disk. Returns the chunk's hash in sha. */
static void
v1_make(const char *dir, unsigned char sha[32])
{
    static const char  body[] = "the bytes of one chunk";
    MDB_env           *env = raw_env(dir);
    MDB_txn           *txn;
    MDB_dbi            buckets, objects, refs, gcq, uploads, parts, bconf;
    v1_bucket_t        b;
    store_object_t     o;
    store_chunk_ref_t  c;
    unsigned char      kb[512], orphan[32], raw[12], *up;
    char               path[PATH_MAX], hex[65];
    void              *rec;
    size_t             len, kl;
    uint64_t           u64;
    uint32_t           u32;
    FILE              *fp;

    CHECK_EQ_INT(sizeof(v1_bucket_t), 168);
    CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "buckets", MDB_CREATE, &buckets), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "objects", MDB_CREATE, &objects), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "refs", MDB_CREATE, &refs), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "gcq", MDB_CREATE, &gcq), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "uploads", MDB_CREATE, &uploads), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "parts", MDB_CREATE, &parts), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "bconf", MDB_CREATE, &bconf), 0);

    memset(&b, 0, sizeof(b));
    strcpy(b.name, "bkt");
    strcpy(b.owner, "admin");
    strcpy(b.region, "us-east-1");
    b.ctime_ms = 1234;
    v1_put(txn, buckets, "bkt", 3, &b, sizeof(b));
    memset(&b, 0, sizeof(b));
    strcpy(b.name, "long");
    memset(b.owner, 'o', 63);                /* as long as format 1 held */
    memset(b.region, 'r', 31);
    b.ctime_ms = 5678;
    v1_put(txn, buckets, "long", 4, &b, sizeof(b));

    /* The chunk file, its reference and a record that holds it. */
    gw_sha256(body, sizeof(body) - 1, sha);
    gw_hex_encode(hex, sha, 32);
    snprintf(path, sizeof(path), "%s/chunks", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/chunks/%.2s", dir, hex);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/chunks/%.2s/%s", dir, hex, hex);
    fp = fopen(path, "wb");
    CHECK(fp != NULL);
    CHECK_EQ_INT(fwrite(body, 1, sizeof(body) - 1, fp), sizeof(body) - 1);
    fclose(fp);
    memcpy(c.sha, sha, 32);
    c.off = 0;
    c.len = sizeof(body) - 1;
    memset(&o, 0, sizeof(o));
    o.key = gw_str_lit("obj");
    o.owner = gw_str_lit("admin");
    o.size = c.len;
    o.chunks = &c;
    o.nchunks = 1;
    rec = v1_object(&o, &len);
    kl = store__object_key("bkt", o.key, kb);
    v1_put(txn, objects, kb, kl, rec, len);
    gw_free(rec);
    u64 = 1;
    u32 = c.len;
    memcpy(raw, &u64, 8);
    memcpy(raw + 8, &u32, 4);
    v1_put(txn, refs, sha, 32, raw, 12);
    memset(orphan, 0xee, 32);
    u64 = 3;
    v1_put(txn, gcq, orphan, 32, &u64, 8);
    /* Many more references (without files), so the upgrade rewrites
     * values over several pages while it walks them. */
    for (kl = 0; kl < V1_MORE_REFS; kl++) {
        memset(kb, 0, 32);
        memcpy(kb, &kl, sizeof(kl));
        kb[31] = 0x5a;
        u64 = 2 + kl;
        u32 = (uint32_t) kl;
        memcpy(raw, &u64, 8);
        memcpy(raw + 8, &u32, 4);
        v1_put(txn, refs, kb, 32, raw, 12);
    }

    memset(&o, 0, sizeof(o));
    o.key = gw_str_lit("small");
    o.owner = gw_str_lit("admin");
    o.size = 4;
    o.inline_data = gw_str_lit("tiny");
    rec = v1_object(&o, &len);
    kl = store__object_key("bkt", o.key, kb);
    v1_put(txn, objects, kb, kl, rec, len);
    gw_free(rec);

    /* An upload: u8 n | bucket | template. */
    memset(&o, 0, sizeof(o));
    o.key = gw_str_lit("mp");
    o.owner = gw_str_lit("admin");
    o.mtime_ms = (int64_t) time(NULL) * 1000;
    rec = v1_object(&o, &len);
    up = gw_alloc(4 + len);
    up[0] = 3;
    memcpy(up + 1, "bkt", 3);
    memcpy(up + 4, rec, len);
    v1_put(txn, uploads, V1_UPLOAD_ID, 32, up, 4 + len);
    gw_free(up);
    gw_free(rec);

    v1_put(txn, bconf, "bkt\0acl", 7, "ACLDOC", 6);
    v1_put(txn, bconf, "bkt\0policy", 10, "{\"Statement\":[]}", 16);
    CHECK_EQ_INT(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static int
fx_count_upload(void *ud, const store_upload_t *u)
{
    (*(int *) ud)++;
    CHECK_EQ_STR(u->id, V1_UPLOAD_ID);
    return 0;
}

TEST(store_format_upgrade_v1)
{
    fx_t              fx;
    store_bucket_t    b;
    store_object_t   *o;
    store_upload_t   *u;
    gw_pool_t        *pool;
    gw_str_t          doc;
    unsigned char     sha[32];
    MDB_env          *env;
    MDB_txn          *txn;
    MDB_cursor       *cur;
    MDB_dbi           dbi;
    MDB_val           k, v;
    store_cond_t      cond;
    uint32_t          format = 0;
    size_t            i;
    int               n = 0;

    fx_mkdir(&fx);
    v1_make(fx.dir, sha);
    fx_init(&fx);
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);

    CHECK_EQ_INT(store_bucket_get(fx.st, "bkt", &b), GW_OK);
    CHECK_EQ_STR(b.owner, "admin");
    CHECK_EQ_STR(b.region, "us-east-1");
    CHECK_EQ_INT(b.ctime_ms, 1234);
    CHECK_EQ_INT(store_bucket_get(fx.st, "long", &b), GW_OK);
    CHECK_EQ_INT(strlen(b.owner), 63);
    CHECK_EQ_INT(strlen(b.region), 31);
    CHECK_EQ_INT(b.ctime_ms, 5678);
    pool = gw_pool_create(4096);
    CHECK_EQ_INT(store_bconf_get(fx.st, "bkt", STORE_BCONF_ACL, pool, &doc),
                 GW_OK);
    CHECK(gw_str_eq_lit(doc, "ACLDOC"));
    CHECK_EQ_INT(store_bconf_get(fx.st, "bkt", STORE_BCONF_POLICY, pool,
                                 &doc), GW_OK);
    CHECK(gw_str_eq_lit(doc, "{\"Statement\":[]}"));
    gw_pool_destroy(pool);
    CHECK_EQ_INT(store_object_get(fx.st, "bkt", gw_str_lit("small"), &o),
                 GW_OK);
    CHECK(gw_str_eq_lit(o->inline_data, "tiny"));
    CHECK_EQ_INT(o->generation, 0);          /* from before generations */
    store_object_free(o);
    memset(&cond, 0, sizeof(cond));
    cond.has_generation = 1;
    cond.generation = 1;
    fx_put_cond(&fx, "small", "tiny2", &cond, GW_ECONFLICT);
    cond.generation = 0;
    fx_put_cond(&fx, "small", "tiny2", &cond, GW_OK);
    CHECK_EQ_INT(store_object_get(fx.st, "bkt", gw_str_lit("obj"), &o), GW_OK);
    CHECK_EQ_INT(o->nchunks, 1);
    CHECK(memcmp(o->chunks[0].sha, sha, 32) == 0);
    store_object_free(o);
    CHECK_EQ_INT(store_chunk_count(fx.st), 1 + V1_MORE_REFS);
    CHECK_EQ_INT(store_upload_get(fx.st, V1_UPLOAD_ID, &u), GW_OK);
    CHECK_EQ_STR(u->bucket, "bkt");
    CHECK(gw_str_eq_lit(u->tmpl->key, "mp"));
    store_upload_free(u);
    CHECK_EQ_INT(store_upload_list(fx.st, "bkt", gw_str_lit(""), fx_count_upload, &n), GW_OK);
    CHECK_EQ_INT(n, 1);

    /* The converted reference count works: deleting the only object that
     * holds the chunk lets the collector remove its file. */
    CHECK_EQ_INT(fx_chunk_files(&fx), 1);
    store_object_delete(fx.st, "bkt", gw_str_lit("obj"), fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    for (i = 0; i < 200 && fx_chunk_files(&fx) != 0; i++) {
        uv_run(&fx.loop, UV_RUN_NOWAIT);
        usleep(10000);
    }
    CHECK_EQ_INT(fx_chunk_files(&fx), 0);
    CHECK_EQ_INT(store_chunk_count(fx.st), V1_MORE_REFS);
    fx_stop(&fx);

    /* On disk: the marker says format 2, and a format-1 build's first
     * step, opening "buckets", now fails instead of misreading. */
    env = raw_env(fx.dir);
    CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "buckets", MDB_CREATE, &dbi),
                 MDB_INCOMPATIBLE);
    mdb_txn_abort(txn);
    CHECK_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    k.mv_data = "format";
    k.mv_size = 6;
    CHECK_EQ_INT(mdb_get(txn, dbi, &k, &v), 0);
    CHECK_EQ_INT(store__meta_format_decode(v.mv_data, v.mv_size, &format),
                 GW_OK);
    CHECK_EQ_INT(format, STORE_FORMAT);
    /* Every reference was rewritten whole, with its count and length. */
    CHECK_EQ_INT(mdb_dbi_open(txn, "refs", 0, &dbi), 0);
    CHECK_EQ_INT(mdb_cursor_open(txn, dbi, &cur), 0);
    n = 0;
    while (mdb_cursor_get(cur, &k, &v, n ? MDB_NEXT : MDB_FIRST) == 0) {
        uint64_t  count = 0;
        uint32_t  clen = 0;
        size_t    which = 0;

        CHECK_EQ_INT(store__ref_decode(v.mv_data, v.mv_size, &count, &clen),
                     GW_OK);
        memcpy(&which, k.mv_data, sizeof(which));
        CHECK_EQ_INT(((unsigned char *) k.mv_data)[31], 0x5a);
        CHECK_EQ_INT(count, 2 + which);
        CHECK_EQ_INT(clen, which);
        n++;
    }
    CHECK_EQ_INT(n, V1_MORE_REFS);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    mdb_env_close(env);

    /* Opening it again reads format 2 as it is. */
    fx_init(&fx);
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    CHECK_EQ_INT(store_bucket_get(fx.st, "bkt", &b), GW_OK);
    CHECK_EQ_STR(b.owner, "admin");
    CHECK_EQ_INT(store_bucket_get(fx.st, "long", &b), GW_OK);
    fx_close(&fx);
}

/* Reads what the test wrote to stderr since fx_stderr_begin. */
static char *
fx_stderr_read(const char *path)
{
    static char  buf[8192];
    FILE        *fp = fopen(path, "rb");
    size_t       n;

    CHECK(fp != NULL);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

TEST(store_format_newer_refused)
{
    fx_t           fx;
    store_recw_t   w;
    MDB_env       *env;
    MDB_txn       *txn;
    MDB_dbi        dbi;
    MDB_val        k, v;
    store_bucket_t b;
    uint32_t       format = 0;
    char           log[PATH_MAX], *text;
    int            fd, saved;

    fx_open(&fx);
    fx_stop(&fx);
    /* Mark it as written by a build of the next format. */
    env = raw_env(fx.dir);
    CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    store__meta_format_encode(STORE_FORMAT + 1, &w);
    v1_put(txn, dbi, "format", 6, w.buf, w.len);
    store__recw_free(&w);
    CHECK_EQ_INT(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    snprintf(log, sizeof(log), "%s.log", fx.dir);
    fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    saved = dup(2);
    dup2(fd, 2);
    fx_init(&fx);
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_EFORMAT);
    dup2(saved, 2);
    close(saved);
    close(fd);
    text = fx_stderr_read(log);
    unlink(log);
    fprintf(stderr, "# %s", text);
    CHECK(strstr(text, "[crit]") != NULL);
    CHECK(strstr(text, "store format 5, newer than store format 4") != NULL);
    fx.st = NULL;
    fx_stop(&fx);

    /* Nothing was changed: the marker still says 3 and the bucket record
     * is still there, in the format it had. */
    env = raw_env(fx.dir);
    CHECK_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    k.mv_data = "format";
    k.mv_size = 6;
    CHECK_EQ_INT(mdb_get(txn, dbi, &k, &v), 0);
    CHECK_EQ_INT(store__meta_format_decode(v.mv_data, v.mv_size, &format),
                 GW_OK);
    CHECK_EQ_INT(format, STORE_FORMAT + 1);
    CHECK_EQ_INT(mdb_dbi_open(txn, "bucket", 0, &dbi), 0);
    k.mv_data = "bkt";
    k.mv_size = 3;
    CHECK_EQ_INT(mdb_get(txn, dbi, &k, &v), 0);
    CHECK_EQ_INT(store__bucket_decode("bkt", 3, v.mv_data, v.mv_size, &b),
                 GW_OK);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    fx_rmdir(&fx);
}

TEST(store_bucket_long_names)
{
    fx_t            fx;
    store_bucket_t  b, got;

    /* The longest user name and region the config accepts survive a
     * round trip through the index and a reopen, whole. */
    fx_open(&fx);
    memset(&b, 0, sizeof(b));
    strcpy(b.name, "long");
    memset(b.owner, 'u', STORE_OWNER_MAX);
    memset(b.region, 'r', STORE_REGION_MAX);
    b.ctime_ms = 42;
    store_bucket_create(fx.st, &b, (gw_str_t) { NULL, 0 }, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    fx_stop(&fx);
    fx_init(&fx);
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    CHECK_EQ_INT(store_bucket_get(fx.st, "long", &got), GW_OK);
    CHECK_EQ_INT(strlen(got.owner), GW_CONF_USER_NAME_MAX);
    CHECK_EQ_STR(got.owner, b.owner);
    CHECK_EQ_INT(strlen(got.region), GW_CONF_REGION_MAX);
    CHECK_EQ_STR(got.region, b.region);
    fx_close(&fx);
}

/* ==== generations ==== */

static void
fx_put_cond(fx_t *fx, const char *key, const char *body,
            const store_cond_t *cond, int expect)
{
    store_object_t  o;

    memset(&o, 0, sizeof(o));
    o.key.base = key;
    o.key.len = strlen(key);
    o.owner = gw_str_lit("admin");
    o.inline_data.base = body;
    o.inline_data.len = strlen(body);
    o.size = o.inline_data.len;
    o.generation = 999999;           /* ignored: the commit sets it */
    store_object_put(fx->st, "bkt", &o, cond, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), expect);
}

/* The generation and the body of key (which must exist). */
static uint64_t
fx_gen(fx_t *fx, const char *key, const char *body)
{
    store_object_t  *o;
    uint64_t         g;

    CHECK_EQ_INT(store_object_get(fx->st, "bkt",
                                  (gw_str_t) { key, strlen(key) }, &o), GW_OK);
    CHECK(o->inline_data.len == strlen(body)
          && memcmp(o->inline_data.base, body, strlen(body)) == 0);
    g = o->generation;
    store_object_free(o);
    return g;
}

/* A completed two-chunk upload of key, with cond. */
static int
fx_complete(fx_t *fx, const char *key, const store_cond_t *cond,
            uint64_t *gen)
{
    store_object_t         tmpl, part;
    store_chunk_writer_t  *w;
    store_complete_t       c;
    unsigned char         *data = fx_random(70000, 9);
    char                   id[STORE_UPLOAD_ID_LEN + 1];
    uint32_t               number = 1;
    unsigned char          md5[1][16];
    int                    rc;

    memset(&tmpl, 0, sizeof(tmpl));
    tmpl.key.base = key;
    tmpl.key.len = strlen(key);
    tmpl.owner = gw_str_lit("admin");
    tmpl.mtime_ms = (int64_t) time(NULL) * 1000;
    store_upload_create(fx->st, "bkt", &tmpl, id, fx_done, fx);
    id[STORE_UPLOAD_ID_LEN] = '\0';
    CHECK_EQ_INT(fx_wait(fx), GW_OK);
    w = store_chunk_writer_open(fx->st, fx_ready, fx);
    store_chunk_writer_no_inline(w);
    CHECK_EQ_INT(store_chunk_write(w, (const char *) data, 70000), GW_OK);
    rc = store_chunk_writer_finish(w, fx_done, fx);
    CHECK(rc == GW_OK || (rc == GW_DONE && fx_wait(fx) == GW_OK));
    memset(&part, 0, sizeof(part));
    part.size = 70000;
    gw_md5(data, 70000, part.md5);
    part.chunks = (store_chunk_ref_t *) store_chunk_writer_chunks(w,
                                                              &part.nchunks);
    CHECK_EQ_INT(part.nchunks, 2);
    store_part_put(fx->st, id, 1, &part, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), GW_OK);
    store_chunk_writer_close(w, 1);
    memcpy(md5[0], part.md5, 16);
    memset(&c, 0, sizeof(c));
    c.n = 1;
    c.numbers = &number;
    c.md5 = md5;
    if (cond != NULL) {
        c.cond = *cond;
    }
    store_upload_complete(fx->st, id, &c, fx_done, fx);
    rc = fx_wait(fx);
    *gen = c.result.generation;
    free(data);
    return rc;
}

TEST(store_object_generation)
{
    fx_t            fx;
    store_cond_t    cond;
    store_object_t *o;
    uint64_t        g1, g2, g3, g4, g5, g6;

    fx_open(&fx);
    fx_put_cond(&fx, "g", "one", NULL, GW_OK);
    g1 = fx_gen(&fx, "g", "one");
    CHECK(g1 > 0);

    /* Read g1; another write lands; the write conditional on g1 fails
     * and changes nothing. */
    fx_put_cond(&fx, "g", "two", NULL, GW_OK);
    g2 = fx_gen(&fx, "g", "two");
    CHECK(g2 > g1);
    memset(&cond, 0, sizeof(cond));
    cond.has_generation = 1;
    cond.generation = g1;
    fx_put_cond(&fx, "g", "stale", &cond, GW_ECONFLICT);
    CHECK_EQ_INT(fx_gen(&fx, "g", "two"), g2);

    /* With the generation read again it succeeds, and bumps it. */
    cond.generation = g2;
    fx_put_cond(&fx, "g", "three", &cond, GW_OK);
    g3 = fx_gen(&fx, "g", "three");
    CHECK(g3 > g2);
    fx_put_cond(&fx, "g", "late", &cond, GW_ECONFLICT);

    /* Other keys' writes take numbers too: generations never repeat. */
    fx_put_cond(&fx, "other", "x", NULL, GW_OK);
    CHECK(fx_gen(&fx, "other", "x") > g3);

    /* Deleted and written again: the old generation does not match the
     * gone record, nor the new one. */
    store_object_delete(fx.st, "bkt", gw_str_lit("g"), fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    cond.generation = g3;
    fx_put_cond(&fx, "g", "ghost", &cond, GW_ECONFLICT);
    CHECK_EQ_INT(store_object_get(fx.st, "bkt", gw_str_lit("g"), &o),
                 GW_ENOTFOUND);
    fx_put_cond(&fx, "g", "again", NULL, GW_OK);
    g4 = fx_gen(&fx, "g", "again");
    CHECK(g4 > g3);
    fx_put_cond(&fx, "g", "stale", &cond, GW_ECONFLICT);

    /* CompleteMultipartUpload is a write of the key like any other, and
     * takes the same condition. */
    CHECK_EQ_INT(fx_complete(&fx, "g", &cond, &g5), GW_ECONFLICT);
    CHECK_EQ_INT(fx_gen(&fx, "g", "again"), g4);
    cond.generation = g4;
    CHECK_EQ_INT(fx_complete(&fx, "g", &cond, &g5), GW_OK);
    CHECK(g5 > g4);
    CHECK_EQ_INT(store_object_get(fx.st, "bkt", gw_str_lit("g"), &o), GW_OK);
    CHECK_EQ_INT(o->generation, g5);
    CHECK_EQ_INT(o->nparts, 1);
    store_object_free(o);

    /* The counter survives a restart: no number is given twice. */
    fx_stop(&fx);
    fx_init(&fx);
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    fx_put_cond(&fx, "g", "after", NULL, GW_OK);
    g6 = fx_gen(&fx, "g", "after");
    CHECK(g6 > g5);
    fx_close(&fx);
}

/* ==== what the lifecycle worker uses ==== */

static void
fx_lc_bucket(fx_t *fx, const char *name, const char *lifecycle)
{
    store_bucket_t  b;

    memset(&b, 0, sizeof(b));
    strcpy(b.name, name);
    strcpy(b.owner, "admin");
    store_bucket_create(fx->st, &b, (gw_str_t) { NULL, 0 }, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), GW_OK);
    if (lifecycle != NULL) {
        store_bconf_put(fx->st, name, STORE_BCONF_LIFECYCLE,
                        (gw_str_t) { lifecycle, strlen(lifecycle) }, fx_done,
                        fx);
        CHECK_EQ_INT(fx_wait(fx), GW_OK);
    }
}

TEST(store_lifecycle)
{
    fx_t               fx;
    store_cond_t       cond;
    store_object_t    *o;
    store_lc_cursor_t  c, d;
    char               next[STORE_BUCKET_MAX + 1];
    uint64_t           g1, g2;

    fx_open(&fx);

    /* A delete on the generation examined: a newer write is kept. */
    fx_put_cond(&fx, "k", "one", NULL, GW_OK);
    g1 = fx_gen(&fx, "k", "one");
    fx_put_cond(&fx, "k", "two", NULL, GW_OK);
    g2 = fx_gen(&fx, "k", "two");
    memset(&cond, 0, sizeof(cond));
    cond.has_generation = 1;
    cond.generation = g1;
    store_object_delete_cond(fx.st, "bkt", gw_str_lit("k"), &cond, NULL,
                             fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_ECONFLICT);
    CHECK_EQ_INT(fx_gen(&fx, "k", "two"), g2);
    cond.generation = g2;
    store_object_delete_cond(fx.st, "bkt", gw_str_lit("k"), &cond, NULL,
                             fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    CHECK_EQ_INT(store_object_get(fx.st, "bkt", gw_str_lit("k"), &o),
                 GW_ENOTFOUND);
    /* Gone already: a conflict too, not a success. */
    store_object_delete_cond(fx.st, "bkt", gw_str_lit("k"), &cond, NULL,
                             fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_ECONFLICT);

    /* The buckets with a lifecycle document, in name order, one at a
     * time; a bucket whose name extends another's is not skipped. */
    fx_lc_bucket(&fx, "a", "<x/>");
    fx_lc_bucket(&fx, "a-b", "<x/>");
    fx_lc_bucket(&fx, "b", NULL);
    fx_lc_bucket(&fx, "c", "<x/>");
    store_bconf_put(fx.st, "b", STORE_BCONF_POLICY, gw_str_lit("{}"),
                    fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    CHECK_EQ_INT(store_bconf_next(fx.st, STORE_BCONF_LIFECYCLE, "", next),
                 GW_OK);
    CHECK_EQ_STR(next, "a");
    CHECK_EQ_INT(store_bconf_next(fx.st, STORE_BCONF_LIFECYCLE, next, next),
                 GW_OK);
    CHECK_EQ_STR(next, "a-b");
    CHECK_EQ_INT(store_bconf_next(fx.st, STORE_BCONF_LIFECYCLE, next, next),
                 GW_OK);
    CHECK_EQ_STR(next, "c");
    CHECK_EQ_INT(store_bconf_next(fx.st, STORE_BCONF_LIFECYCLE, next, next),
                 GW_ENOTFOUND);

    /* The cursor: absent, then saved, and kept across a restart. */
    CHECK_EQ_INT(store_lc_cursor_get(fx.st, &c), GW_ENOTFOUND);
    memset(&c, 0, sizeof(c));
    c.pass_ms = 1767225600123LL;
    c.last_ms = 1767139200000LL;
    c.phase = STORE_LC_OBJECTS;
    strcpy(c.bucket, "a-b");
    memcpy(c.key, "k\0ey", 4);
    c.key_len = 4;
    strcpy(c.upload, "0123456789abcdef0123456789abcdef");
    store_lc_cursor_put(fx.st, &c, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    fx_stop(&fx);
    fx_init(&fx);
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    CHECK_EQ_INT(store_lc_cursor_get(fx.st, &d), GW_OK);
    CHECK(d.pass_ms == c.pass_ms && d.last_ms == c.last_ms);
    CHECK_EQ_INT(d.phase, STORE_LC_OBJECTS);
    CHECK_EQ_STR(d.bucket, "a-b");
    CHECK_EQ_INT(d.key_len, 4);
    CHECK(memcmp(d.key, "k\0ey", 4) == 0);
    CHECK_EQ_STR(d.upload, c.upload);
    fx_close(&fx);
}

/* ==== replication outbox ==== */

static void
fx_put_repl(fx_t *fx, const char *key, const char *body,
            const store_repl_t *repl)
{
    store_object_t  o;

    memset(&o, 0, sizeof(o));
    o.key.base = key;
    o.key.len = strlen(key);
    o.inline_data.base = body;
    o.inline_data.len = strlen(body);
    o.size = o.inline_data.len;
    o.repl = repl;
    store_object_put(fx->st, "bkt", &o, NULL, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), GW_OK);
}

/* The first due entry after entry after (NULL: from the start), through
 * the pusher's walk in (next try, sequence) order. */
static int
fx_outbox_after(store_t *st, const store_outbox_entry_t *after,
                int64_t now_ms, store_outbox_entry_t *out)
{
    store_outbox_pos_t  pos = { 0, 0 };

    if (after != NULL) {
        pos.due_ms = after->next_try_ms;
        pos.seq = after->seq;
    }
    return store_outbox_next_due(st, &pos, now_ms, out);
}

TEST(store_outbox)
{
    static const char *const  two[] = { "dest1", "dest2" };
    static const char *const  one[] = { "dest1" };
    store_repl_t              r2 = { two, 2 }, r1 = { one, 1 };
    store_outbox_entry_t      e, f;
    uint64_t                  pending, failed;
    int64_t                   far = (int64_t) 1 << 50;
    fx_t                      fx;

    fx_open(&fx);
    /* A write without destinations queues nothing. */
    fx_put_repl(&fx, "plain", "x", NULL);
    CHECK_EQ_INT(fx_outbox_after(fx.st, NULL, far, &e), GW_ENOTFOUND);

    /* One entry per destination, in the commit of the write. */
    fx_put_repl(&fx, "k", "v1", &r2);
    CHECK_EQ_INT(store_outbox_count(fx.st, &pending, &failed), GW_OK);
    CHECK_EQ_INT(pending, 2);
    CHECK_EQ_INT(fx_outbox_after(fx.st, NULL, far, &e), GW_OK);
    CHECK_EQ_STR(e.bucket, "bkt");
    CHECK_EQ_STR(e.dest, "dest1");
    CHECK(e.key.len == 1 && e.key.base[0] == 'k');
    CHECK_EQ_INT(e.change, STORE_REPL_PUT);
    CHECK_EQ_INT(fx_outbox_after(fx.st, &e, far, &f), GW_OK);
    CHECK_EQ_STR(f.dest, "dest2");
    CHECK(f.seq > e.seq);
    store_outbox_entry_free(&f);

    /* An overwrite replaces the entry of the same key and destination:
     * only the latest change matters. */
    fx_put_repl(&fx, "k", "v2", &r1);
    CHECK_EQ_INT(store_outbox_count(fx.st, &pending, &failed), GW_OK);
    CHECK_EQ_INT(pending, 2);
    CHECK_EQ_INT(fx_outbox_after(fx.st, NULL, far, &f), GW_OK);
    CHECK_EQ_STR(f.dest, "dest2");            /* dest1's moved to the end */
    store_outbox_entry_free(&f);

    /* Settling a replaced entry changes nothing. */
    store_outbox_done(fx.st, &e, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_outbox_entry_free(&e);
    CHECK_EQ_INT(store_outbox_count(fx.st, &pending, &failed), GW_OK);
    CHECK_EQ_INT(pending, 2);

    /* A delete replaces the put for its destinations. */
    store_object_delete_repl(fx.st, "bkt", gw_str_lit("k"), &r1, fx_done,
                             &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    CHECK_EQ_INT(fx_outbox_after(fx.st, NULL, far, &e), GW_OK);
    CHECK_EQ_STR(e.dest, "dest2");
    CHECK_EQ_INT(e.change, STORE_REPL_PUT);
    CHECK_EQ_INT(fx_outbox_after(fx.st, &e, far, &f), GW_OK);
    CHECK_EQ_STR(f.dest, "dest1");
    CHECK_EQ_INT(f.change, STORE_REPL_DELETE);
    store_outbox_entry_free(&f);

    /* A retry later is not due now; a failed entry is never due. */
    e.attempts = 3;
    e.next_try_ms = far;
    snprintf(e.error, sizeof(e.error), "503 SlowDown");
    store_outbox_retry(fx.st, &e, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_outbox_entry_free(&e);
    CHECK_EQ_INT(fx_outbox_after(fx.st, NULL, far - 1, &f), GW_OK);
    CHECK_EQ_STR(f.dest, "dest1");
    store_outbox_entry_free(&f);
    CHECK_EQ_INT(fx_outbox_after(fx.st, &f, far - 1, &e), GW_ENOTFOUND);
    /* Due again, it comes after the entries due before it. */
    CHECK_EQ_INT(fx_outbox_after(fx.st, &f, far, &f), GW_OK);
    CHECK_EQ_STR(f.dest, "dest2");
    CHECK_EQ_INT(f.attempts, 3);
    CHECK_EQ_STR(f.error, "503 SlowDown");
    f.failed = 1;
    store_outbox_retry(fx.st, &f, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_outbox_entry_free(&f);
    CHECK_EQ_INT(store_outbox_count(fx.st, &pending, &failed), GW_OK);
    CHECK_EQ_INT(pending, 1);
    CHECK_EQ_INT(failed, 1);

    /* The queue and its sequence survive a restart. */
    fx_stop(&fx);
    fx_init(&fx);
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    CHECK_EQ_INT(fx_outbox_after(fx.st, NULL, far, &f), GW_OK);
    CHECK_EQ_STR(f.dest, "dest1");
    fx_put_repl(&fx, "k2", "v", &r1);
    CHECK_EQ_INT(fx_outbox_after(fx.st, &f, far, &e), GW_OK);
    CHECK(e.seq > f.seq);
    CHECK(e.key.len == 2);

    /* Delivered: gone. */
    store_outbox_done(fx.st, &f, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_outbox_done(fx.st, &e, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_outbox_entry_free(&f);
    store_outbox_entry_free(&e);
    CHECK_EQ_INT(store_outbox_count(fx.st, &pending, &failed), GW_OK);
    CHECK_EQ_INT(pending + failed, 1);
    fx_close(&fx);
}

/* ==== the outbox from an admin command (store_open_tool) ==== */

#define FX_TOOL_BULK  1300     /* more than a list batch and a retry batch */

static void
fx_put_in(fx_t *fx, const char *bucket, gw_str_t key,
          const store_repl_t *repl)
{
    store_object_t  o;

    memset(&o, 0, sizeof(o));
    o.key = key;
    o.inline_data = gw_str_lit("v");
    o.size = 1;
    o.repl = repl;
    store_object_put(fx->st, bucket, &o, NULL, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), GW_OK);
}

static void
fx_bucket(fx_t *fx, const char *name)
{
    store_bucket_t  b;

    memset(&b, 0, sizeof(b));
    snprintf(b.name, sizeof(b.name), "%s", name);
    strcpy(b.owner, "admin");
    store_bucket_create(fx->st, &b, (gw_str_t) { NULL, 0 }, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), GW_OK);
}

static size_t  fx_ops_left;

static void
fx_op_done(void *ud, int rc)
{
    GW_UNUSED(ud);
    CHECK_EQ_INT(rc, GW_OK);
    fx_ops_left--;
}

static void
fx_ops_wait(fx_t *fx)
{
    while (fx_ops_left > 0) {
        uv_run(&fx->loop, UV_RUN_ONCE);
    }
}

/* Marks every due entry of bucket failed, as the pusher does on a 403,
 * all in a few batches. */
static size_t
fx_fail_all(fx_t *fx, const char *bucket)
{
    store_outbox_entry_t  e;
    store_outbox_pos_t    after = { 0, 0 };
    size_t                n = 0;

    while (store_outbox_next_due(fx->st, &after, (int64_t) 1 << 50, &e)
           == GW_OK)
    {
        after.due_ms = e.next_try_ms;
        after.seq = e.seq;
        if (strcmp(e.bucket, bucket) == 0) {
            e.attempts = 1;
            e.failed = 1;
            snprintf(e.error, sizeof(e.error), "dst answered 403 "
                     "SignatureDoesNotMatch");
            fx_ops_left++;
            store_outbox_retry(fx->st, &e, fx_op_done, fx);  /* copies e */
            n++;
        }
        store_outbox_entry_free(&e);
    }
    fx_ops_wait(fx);
    return n;
}

typedef struct {
    size_t    n, pending, failed, bulk;
    uint64_t  last_seq;
    int       in_order;
    int       saw_ctl;        /* the key with control bytes, whole */
    char      first_bucket[STORE_BUCKET_MAX + 1];
} fx_listed_t;

static int
fx_list_cb(void *ud, const store_outbox_entry_t *e)
{
    fx_listed_t  *l = ud;

    if (l->n == 0) {
        snprintf(l->first_bucket, sizeof(l->first_bucket), "%s", e->bucket);
    }
    l->in_order &= l->n == 0 || e->seq > l->last_seq;
    l->last_seq = e->seq;
    l->n++;
    *(e->failed ? &l->failed : &l->pending) += 1;
    l->bulk += strcmp(e->bucket, "bulk") == 0;
    if (e->key.len == 6 && memcmp(e->key.base, "c\x1b[2J\n", 6) == 0) {
        l->saw_ctl = e->failed && e->attempts == 1
                     && strcmp(e->error, "dst answered 403 "
                               "SignatureDoesNotMatch") == 0
                     && strcmp(e->dest, "dest1") == 0
                     && e->change == STORE_REPL_PUT && e->queued_ms > 0;
    }
    return 0;
}

static fx_listed_t
fx_list(store_t *st, const char *bucket)
{
    fx_listed_t  l;

    memset(&l, 0, sizeof(l));
    l.in_order = 1;
    CHECK_EQ_INT(store_outbox_list(st, bucket, fx_list_cb, &l), GW_OK);
    return l;
}

/* The admin side, as `s3gw replication` runs it: in a process of its own,
 * beside the server's, which here is the parent. */
static void
fx_tool_child(fx_t *fx, int64_t now_ms)
{
    store_t      *st;
    fx_listed_t   l;
    char          err[512];
    uint64_t      n;

    /* Read-only: the whole queue, in order, then one bucket. */
    CHECK_EQ_INT(store_open_tool(&st, &fx->cf, STORE_TOOL_READ, err,
                                 sizeof(err)), GW_OK);
    l = fx_list(st, NULL);
    CHECK_EQ_INT(l.n, FX_TOOL_BULK + 3);
    CHECK_EQ_INT(l.failed, FX_TOOL_BULK + 2);
    CHECK_EQ_INT(l.pending, 1);
    CHECK(l.in_order);
    CHECK(l.saw_ctl);
    CHECK_EQ_STR(l.first_bucket, "bkt");
    l = fx_list(st, "bkt");
    CHECK_EQ_INT(l.n, 3);
    CHECK_EQ_INT(l.failed, 2);
    CHECK_EQ_INT(l.bulk, 0);
    l = fx_list(st, "none");
    CHECK_EQ_INT(l.n, 0);
    /* A read-only store cannot write. */
    CHECK(store_outbox_retry_failed(st, NULL, now_ms, &n) != GW_OK);
    CHECK_EQ_INT(n, 0);
    store_close_tool(st);

    /* Read-write: the failed entries of one bucket, then the rest. */
    CHECK_EQ_INT(store_open_tool(&st, &fx->cf, STORE_TOOL_WRITE, err,
                                 sizeof(err)), GW_OK);
    CHECK_EQ_INT(store_outbox_retry_failed(st, "bkt", now_ms, &n), GW_OK);
    CHECK_EQ_INT(n, 2);
    l = fx_list(st, NULL);
    CHECK_EQ_INT(l.pending, 3);
    CHECK_EQ_INT(l.failed, FX_TOOL_BULK);
    CHECK_EQ_INT(store_outbox_retry_failed(st, NULL, now_ms, &n), GW_OK);
    CHECK_EQ_INT(n, FX_TOOL_BULK);
    CHECK_EQ_INT(store_outbox_retry_failed(st, NULL, now_ms, &n), GW_OK);
    CHECK_EQ_INT(n, 0);
    l = fx_list(st, NULL);
    CHECK_EQ_INT(l.failed, 0);
    CHECK_EQ_INT(l.pending, FX_TOOL_BULK + 3);
    CHECK(l.in_order);
    store_close_tool(st);
}

TEST(store_outbox_tool)
{
    static const char *const  one[] = { "dest1" };
    static const char *const  two[] = { "dest1", "dest2" };
    store_repl_t              r1 = { one, 1 }, r2 = { two, 2 };
    store_outbox_entry_t      e;
    store_object_t            o;
    store_recw_t              w;
    struct stat               sb;
    struct timespec           ts;
    fx_t                      fx;
    unsigned char             orphan[32];
    char                      path[PATH_MAX], hex[65], key[32], err[512];
    uint64_t                  pending, failed;
    int64_t                   now_ms, far = (int64_t) 1 << 50;
    store_t                  *st;
    MDB_env                  *env;
    MDB_txn                  *txn;
    MDB_dbi                   dbi;
    MDB_val                   k, v;
    size_t                    i;
    pid_t                     pid;
    int                       status, fd, dead, rc;

    /* The server's store: in "bkt" a failed change with control bytes in
     * its key, a pending one and a failed one (to two destinations); in
     * "bulk" many failed ones, after them in the queue. */
    fx_mkdir(&fx);
    fx_init(&fx);
    fx.cf.fsync = 0;
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    fx_bucket(&fx, "bkt");
    fx_bucket(&fx, "bulk");
    fx_put_in(&fx, "bkt", (gw_str_t) { "c\x1b[2J\n", 6 }, &r1);
    fx_put_in(&fx, "bkt", gw_str_lit("p"), &r2);
    CHECK_EQ_INT(fx_outbox_after(fx.st, NULL, far, &e), GW_OK);   /* c */
    e.attempts = 1;
    e.failed = 1;
    snprintf(e.error, sizeof(e.error), "dst answered 403 "
             "SignatureDoesNotMatch");
    store_outbox_retry(fx.st, &e, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_outbox_entry_free(&e);
    CHECK_EQ_INT(fx_outbox_after(fx.st, &e, far, &e), GW_OK);
    CHECK_EQ_STR(e.dest, "dest1");                             /* p, 1 */
    store_outbox_entry_free(&e);
    CHECK_EQ_INT(fx_outbox_after(fx.st, &e, far, &e), GW_OK);
    CHECK_EQ_STR(e.dest, "dest2");                             /* p, 2 */
    e.attempts = 1;
    e.failed = 1;
    store_outbox_retry(fx.st, &e, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_outbox_entry_free(&e);
    memset(&o, 0, sizeof(o));
    o.inline_data = gw_str_lit("v");
    o.size = 1;
    o.repl = &r1;
    for (i = 0; i < FX_TOOL_BULK; i++) {
        snprintf(key, sizeof(key), "b%05zu", i);
        o.key.base = key;
        o.key.len = strlen(key);
        fx_ops_left++;
        store_object_put(fx.st, "bulk", &o, NULL, fx_op_done, &fx);
    }
    fx_ops_wait(&fx);
    CHECK_EQ_INT(fx_fail_all(&fx, "bulk"), FX_TOOL_BULK);
    CHECK_EQ_INT(store_outbox_count(fx.st, &pending, &failed), GW_OK);
    CHECK_EQ_INT(pending, 1);
    CHECK_EQ_INT(failed, FX_TOOL_BULK + 2);

    /* What the server has in flight that a store_open would clean away:
     * an upload's temp file, and a chunk renamed into place whose object
     * has not committed yet (the index does not know it). */
    snprintf(path, sizeof(path), "%s/tmp/upload-in-flight", fx.dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    close(fd);
    memset(orphan, 0xab, sizeof(orphan));
    gw_hex_encode(hex, orphan, sizeof(orphan));
    snprintf(path, sizeof(path), "%s/chunks/ab/%s", fx.dir, hex);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    close(fd);

    /* A command killed inside a read txn leaves its reader slot behind;
     * it would hold back the reuse of pages until someone clears it. */
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (store_open_tool(&st, &fx.cf, STORE_TOOL_READ, err, sizeof(err))
            != GW_OK || mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) != 0)
        {
            _exit(1);
        }
        _exit(0);
    }
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* The tool, in another process, while the server's store is open. */
    clock_gettime(CLOCK_REALTIME, &ts);
    now_ms = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        fx_tool_child(&fx, now_ms);
        fflush(stderr);
        _exit(0);
    }
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* The server's things are untouched: the temp file is there, the
     * unreferenced chunk is not queued for collection. */
    snprintf(path, sizeof(path), "%s/tmp/upload-in-flight", fx.dir);
    CHECK_EQ_INT(stat(path, &sb), 0);
    snprintf(path, sizeof(path), "%s/chunks/ab/%s", fx.dir, hex);
    CHECK_EQ_INT(stat(path, &sb), 0);
    CHECK_EQ_INT(mdb_txn_begin(fx.st->env, NULL, MDB_RDONLY, &txn), 0);
    k.mv_data = orphan;
    k.mv_size = 32;
    CHECK_EQ_INT(mdb_get(txn, fx.st->db_gcq, &k, &v), MDB_NOTFOUND);
    mdb_txn_abort(txn);
    /* The dead command's reader slot was cleared by the next one. */
    CHECK_EQ_INT(mdb_reader_check(fx.st->env, &dead), 0);
    CHECK_EQ_INT(dead, 0);

    /* The server sees the retried entries due now, attempts and error
     * kept, and goes on committing. */
    CHECK_EQ_INT(store_outbox_count(fx.st, &pending, &failed), GW_OK);
    CHECK_EQ_INT(pending, FX_TOOL_BULK + 3);
    CHECK_EQ_INT(failed, 0);
    CHECK_EQ_INT(fx_outbox_after(fx.st, NULL, now_ms, &e), GW_OK);
    CHECK_EQ_STR(e.dest, "dest1");         /* p, 1: due since it was queued */
    CHECK_EQ_INT(e.attempts, 0);
    store_outbox_entry_free(&e);
    CHECK_EQ_INT(fx_outbox_after(fx.st, &e, now_ms, &e), GW_OK);
    CHECK(e.key.len == 6 && memcmp(e.key.base, "c\x1b[2J\n", 6) == 0);
    CHECK_EQ_INT(e.attempts, 1);
    CHECK_EQ_INT(e.next_try_ms, now_ms);
    CHECK_EQ_STR(e.error, "dst answered 403 SignatureDoesNotMatch");
    store_outbox_entry_free(&e);
    for (rc = fx_outbox_after(fx.st, NULL, now_ms, &e); rc == GW_OK;
         store_outbox_entry_free(&e),
         rc = fx_outbox_after(fx.st, &e, now_ms, &e))
    {
        pending--;
    }
    CHECK_EQ_INT(pending, 0);
    fx_put_in(&fx, "bkt", gw_str_lit("after"), &r1);
    CHECK_EQ_INT(store_outbox_count(fx.st, &pending, &failed), GW_OK);
    CHECK_EQ_INT(pending, FX_TOOL_BULK + 4);
    fx_stop(&fx);

    /* No index: nothing is created. */
    snprintf(path, sizeof(path), "%s/nothing", fx.dir);
    fx.cf.data_dir = path;
    CHECK_EQ_INT(store_open_tool(&st, &fx.cf, STORE_TOOL_WRITE, err,
                                 sizeof(err)), GW_ENOTFOUND);
    CHECK(st == NULL);
    CHECK(strstr(err, "no store in data_dir") != NULL);
    CHECK(stat(path, &sb) != 0);
    fx.cf.data_dir = fx.dir;

    /* A newer store format is refused, with both formats named. */
    env = raw_env(fx.dir);
    CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    store__meta_format_encode(STORE_FORMAT + 1, &w);
    v1_put(txn, dbi, "format", 6, w.buf, w.len);
    store__recw_free(&w);
    CHECK_EQ_INT(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    CHECK_EQ_INT(store_open_tool(&st, &fx.cf, STORE_TOOL_READ, err,
                                 sizeof(err)), GW_EFORMAT);
    CHECK(strstr(err, "store format 5, newer than store format 4") != NULL);
    fx_rmdir(&fx);
}

/* ==== room ==== */

typedef struct {
    fx_t  *fx;
    int    rc;
    int    done;
} fx_slot_t;

static size_t  fx_slots_left;

static void
fx_slot_done(void *ud, int rc)
{
    fx_slot_t  *s = ud;

    s->rc = rc;
    s->done = 1;
    fx_slots_left--;
}

/* Bodies of 12000 bytes (inline: overflow pages), 1500 of them, 18 MB
 * against a 15 MiB map: few enough operations that the run under ASan,
 * where each batch's nested transactions allocate and poison megabytes,
 * stays far from the runner's timeout (6000 of 3000 bytes took 82 s). */
#define FX_MAP_OBJECTS  1500
#define FX_MAP_BODY     12000

TEST(store_map_growth)
{
    fx_t             fx;
    fx_slot_t       *slots = calloc(FX_MAP_OBJECTS, sizeof(*slots));
    store_object_t   o, *got;
    store_bucket_t   b;
    char             key[32], *body = malloc(FX_MAP_BODY);
    size_t           i, ok = 0, full = 0, initial;

    /* A 16 MiB cap: the map of one worker starts at 2 MiB, and writes
     * may grow it to 15 MiB (the last sixteenth is for deletes). */
    fx_mkdir(&fx);
    fx_init(&fx);
    fx.cf.worker_processes = 1;
    fx.cf.index_max_size = 16 << 20;
    fx.cf.inline_max = FX_MAP_BODY;
    fx.cf.fsync = 0;
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    initial = fx.st->map_size;
    CHECK_EQ_INT(initial, 2 << 20);
    memset(&b, 0, sizeof(b));
    strcpy(b.name, "bkt");
    strcpy(b.owner, "admin");
    store_bucket_create(fx.st, &b, (gw_str_t) { NULL, 0 }, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);

    /* More than fits, all queued at once: big batches that hit the end of
     * the map, grow it and run again, then run one by one at the cap. */
    memset(&o, 0, sizeof(o));
    o.owner = gw_str_lit("admin");
    o.size = FX_MAP_BODY;
    o.inline_data.base = body;
    o.inline_data.len = FX_MAP_BODY;
    fx_slots_left = FX_MAP_OBJECTS;
    for (i = 0; i < FX_MAP_OBJECTS; i++) {
        snprintf(key, sizeof(key), "k%05zu", i);
        memset(body, 'a' + (int) (i % 26), FX_MAP_BODY);
        o.key.base = key;
        o.key.len = strlen(key);
        slots[i].fx = &fx;
        store_object_put(fx.st, "bkt", &o, NULL, fx_slot_done, &slots[i]);
    }
    while (fx_slots_left > 0) {
        uv_run(&fx.loop, UV_RUN_ONCE);
    }
    for (i = 0; i < FX_MAP_OBJECTS; i++) {
        CHECK(slots[i].rc == GW_OK || slots[i].rc == MDB_MAP_FULL);
        ok += slots[i].rc == GW_OK;
        full += slots[i].rc == MDB_MAP_FULL;
    }
    fprintf(stderr, "# map %zu -> %zu KiB: %zu objects stored, %zu refused\n",
            initial >> 10, fx.st->map_size >> 10, ok, full);
    CHECK(fx.st->map_size > 4 * initial);
    CHECK(fx.st->map_size <= (size_t) 15 << 20);
    CHECK(ok > 1000);               /* most of 15 MiB holds 12000-byte ones */
    CHECK(full > 0);
    /* What was acknowledged is there, whole; what was refused is not. */
    for (i = 0; i < FX_MAP_OBJECTS; i++) {
        snprintf(key, sizeof(key), "k%05zu", i);
        if (slots[i].rc != GW_OK) {
            CHECK_EQ_INT(store_object_get(fx.st, "bkt",
                                          (gw_str_t) { key, strlen(key) },
                                          &got), GW_ENOTFOUND);
            continue;
        }
        CHECK_EQ_INT(store_object_get(fx.st, "bkt",
                                      (gw_str_t) { key, strlen(key) }, &got),
                     GW_OK);
        CHECK_EQ_INT(got->inline_data.len, FX_MAP_BODY);
        CHECK_EQ_INT(got->inline_data.base[FX_MAP_BODY - 1],
                     'a' + (int) (i % 26));
        store_object_free(got);
    }
    /* The full index still takes deletes, and then writes again. */
    for (i = 0; i < FX_MAP_OBJECTS; i++) {
        if (slots[i].rc == GW_OK) {
            snprintf(key, sizeof(key), "k%05zu", i);
            store_object_delete(fx.st, "bkt", (gw_str_t) { key, strlen(key) },
                                fx_done, &fx);
            CHECK_EQ_INT(fx_wait(&fx), GW_OK);
        }
    }
    fx_put_cond(&fx, "after", "x", NULL, GW_OK);
    fx_close(&fx);
    free(slots);
    free(body);
}

/* ==== versions ==== */

static void
fx_versioning(fx_t *fx, int state)
{
    store_bucket_versioning(fx->st, "bkt", state, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), GW_OK);
}

/* Puts key with an inline body, or with w's chunks; returns what the
 * commit made. */
static store_vresult_t
fx_vput(fx_t *fx, const char *key, const char *body, store_chunk_writer_t *w)
{
    store_object_t   o;
    store_vresult_t  res;

    memset(&o, 0, sizeof(o));
    memset(&res, 0, sizeof(res));
    o.key.base = key;
    o.key.len = strlen(key);
    o.owner = gw_str_lit("admin");
    if (w != NULL) {
        o.size = store_chunk_writer_total(w);
        o.chunks = (store_chunk_ref_t *) store_chunk_writer_chunks(w,
                                                                &o.nchunks);
    } else {
        o.inline_data.base = body;
        o.inline_data.len = strlen(body);
        o.size = o.inline_data.len;
    }
    o.vout = &res;
    store_object_put(fx->st, "bkt", &o, NULL, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), GW_OK);
    return res;
}

static store_vresult_t
fx_vremove(fx_t *fx, const char *key, int has_version, uint64_t version,
           const store_cond_t *cond, int expect)
{
    store_vresult_t  res;

    memset(&res, 0, sizeof(res));
    store_object_remove(fx->st, "bkt", (gw_str_t) { key, strlen(key) },
                        has_version, version, cond, NULL, NULL, &res, fx_done,
                        fx);
    CHECK_EQ_INT(fx_wait(fx), expect);
    return res;
}

/* The body of version (current when current is set) of key, or NULL when
 * there is none; "<marker>" for a delete marker, "<N chunks>" otherwise
 * for a chunked one. */
static const char *
fx_vbody(fx_t *fx, const char *key, int current, uint64_t version,
         int *is_current)
{
    static char      buf[64];
    store_object_t  *o;
    int              rc;

    rc = store_version_get(fx->st, "bkt", (gw_str_t) { key, strlen(key) },
                           current, version, &o, is_current);
    if (rc == GW_ENOTFOUND) {
        return NULL;
    }
    CHECK_EQ_INT(rc, GW_OK);
    if (o->vflags & STORE_VF_MARKER) {
        snprintf(buf, sizeof(buf), "<marker>");
    } else if (o->nchunks) {
        snprintf(buf, sizeof(buf), "<%zu chunks>", o->nchunks);
    } else {
        snprintf(buf, sizeof(buf), "%.*s", (int) o->inline_data.len,
                 o->inline_data.base);
    }
    store_object_free(o);
    return buf;
}

typedef struct {
    uint64_t  version[16];
    int64_t   noncurrent[16];
    size_t    n;
} fx_vlist_t;

static int
fx_vlist_cb(void *ud, const store_object_t *v)
{
    fx_vlist_t  *l = ud;

    CHECK(l->n < 16);
    l->noncurrent[l->n] = v->noncurrent_ms;
    l->version[l->n++] = v->version;
    return 0;
}

static fx_vlist_t
fx_vlist(fx_t *fx, const char *key, int oldest_first)
{
    fx_vlist_t  l;

    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(store_version_list(fx->st, "bkt",
                                    (gw_str_t) { key, strlen(key) },
                                    oldest_first, fx_vlist_cb, &l), GW_OK);
    return l;
}

/* "key:version:latest:marker" of every version the iterator gives after
 * seeking to (key, version), joined by spaces. */
static char *
fx_viter(fx_t *fx, const char *key, int has_version, uint64_t version)
{
    static char            buf[1024];
    store_viter_t         *vt = store_viter_open(fx->st, "bkt");
    const store_object_t  *o;
    size_t                 n = 0;
    int                    latest;

    buf[0] = '\0';
    CHECK_EQ_INT(store_viter_seek(vt, (gw_str_t) { key, strlen(key) },
                                  has_version, has_version, version), GW_OK);
    while (store_viter_next(vt, &o, &latest) == GW_OK) {
        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s%.*s:%s:%d:%d",
                               n ? " " : "", (int) o->key.len, o->key.base,
                               o->vflags & STORE_VF_VERSIONED
                               ? (o->version > 0 ? "v" : "?") : "null",
                               latest, (o->vflags & STORE_VF_MARKER) != 0);
    }
    store_viter_close(vt);
    return buf;
}

static void
fx_gc_until(fx_t *fx, size_t files)
{
    size_t  i;

    for (i = 0; i < 300 && fx_chunk_files(fx) != files; i++) {
        uv_run(&fx->loop, UV_RUN_NOWAIT);
        usleep(10000);
    }
    CHECK_EQ_INT(fx_chunk_files(fx), files);
}

TEST(store_versions)
{
    fx_t                   fx;
    unsigned char         *data = fx_random(150000, 3);
    store_chunk_writer_t  *w;
    store_vresult_t        r0, r1, r2, r3, m;
    store_bucket_t         b;
    store_object_t        *o;
    store_cond_t           cond;
    fx_vlist_t             l;
    int                    cur = -1;

    fx_open(&fx);
    /* Written before versioning: the null version. */
    r0 = fx_vput(&fx, "a", "a0", NULL);
    CHECK(!r0.versioned);
    fx_versioning(&fx, STORE_VERSIONING_ENABLED);
    CHECK_EQ_INT(store_bucket_get(fx.st, "bkt", &b), GW_OK);
    CHECK_EQ_INT(b.versioning, STORE_VERSIONING_ENABLED);

    r1 = fx_vput(&fx, "k", "v1", NULL);
    w = fx_write(&fx, data, 150000);
    r2 = fx_vput(&fx, "k", NULL, w);
    store_chunk_writer_close(w, 1);
    r3 = fx_vput(&fx, "k", "v3", NULL);
    CHECK(r1.versioned && r2.versioned && r3.versioned);
    CHECK(r1.version < r2.version && r2.version < r3.version);
    /* The noncurrent r2 still holds its chunks, collector or not. */
    {
        size_t  i;

        for (i = 0; i < 30; i++) {
            uv_run(&fx.loop, UV_RUN_NOWAIT);
            usleep(10000);
        }
    }
    CHECK_EQ_INT(fx_chunk_files(&fx), 3);
    CHECK_EQ_INT(store_chunk_count(fx.st), 3);

    /* Each version readable by its number; the current one as ever. */
    CHECK_EQ_STR(fx_vbody(&fx, "k", 0, r1.version, &cur), "v1");
    CHECK_EQ_INT(cur, 0);
    CHECK_EQ_STR(fx_vbody(&fx, "k", 0, r2.version, &cur), "<3 chunks>");
    CHECK_EQ_STR(fx_vbody(&fx, "k", 0, r3.version, &cur), "v3");
    CHECK_EQ_INT(cur, 1);
    CHECK(fx_vbody(&fx, "k", 0, r3.version + 100, NULL) == NULL);
    CHECK(fx_vbody(&fx, "k", 0, STORE_VERSION_NULL, NULL) == NULL);
    CHECK_EQ_STR(fx_vbody(&fx, "a", 0, STORE_VERSION_NULL, &cur), "a0");
    CHECK(fx_gen(&fx, "k", "v3") > 0);

    /* Noncurrent versions of a key, both ways, with their time. */
    l = fx_vlist(&fx, "k", 0);
    CHECK_EQ_INT(l.n, 2);
    CHECK_EQ_INT(l.version[0], r2.version);
    CHECK_EQ_INT(l.version[1], r1.version);
    CHECK(l.noncurrent[0] > 0 && l.noncurrent[1] > 0);
    l = fx_vlist(&fx, "k", 1);
    CHECK_EQ_INT(l.n, 2);
    CHECK_EQ_INT(l.version[0], r1.version);
    CHECK_EQ_INT(fx_vlist(&fx, "a", 0).n, 0);

    /* Listing every version; and from a version on. */
    CHECK_EQ_STR(fx_viter(&fx, "", 0, 0),
                 "a:null:1:0 k:v:1:0 k:v:0:0 k:v:0:0");
    CHECK_EQ_STR(fx_viter(&fx, "k", 1, r2.version), "k:v:0:0");
    CHECK_EQ_STR(fx_viter(&fx, "k", 1, r3.version), "k:v:0:0 k:v:0:0");
    CHECK_EQ_STR(fx_viter(&fx, "a", 1, STORE_VERSION_NULL),
                 "k:v:1:0 k:v:0:0 k:v:0:0");

    /* A delete writes a marker: the key is gone for reads and listings. */
    m = fx_vremove(&fx, "k", 0, 0, NULL, GW_OK);
    CHECK(m.marker && m.versioned && m.version > r3.version);
    CHECK_EQ_INT(store_object_get(fx.st, "bkt", gw_str_lit("k"), &o),
                 GW_ENOTFOUND);
    CHECK_EQ_STR(fx_vbody(&fx, "k", 1, 0, &cur), "<marker>");
    CHECK_EQ_STR(fx_viter(&fx, "", 0, 0),
                 "a:null:1:0 k:v:1:1 k:v:0:0 k:v:0:0 k:v:0:0");
    {
        store_iter_t          *it = store_iter_open(fx.st, "bkt");
        const store_object_t  *io;

        CHECK_EQ_INT(store_iter_next(it, &io), GW_OK);
        CHECK(gw_str_eq_lit(io->key, "a"));
        CHECK_EQ_INT(store_iter_next(it, &io), GW_ENOTFOUND);
        store_iter_close(it);
    }
    /* Deleting the marker brings the last version back. */
    m = fx_vremove(&fx, "k", 1, m.version, NULL, GW_OK);
    CHECK(m.found && m.marker);
    CHECK_EQ_STR(fx_vbody(&fx, "k", 1, 0, &cur), "v3");
    CHECK_EQ_INT(fx_vlist(&fx, "k", 0).n, 2);

    /* A conditional delete of a version on a stale generation. */
    memset(&cond, 0, sizeof(cond));
    cond.has_generation = 1;
    cond.generation = 1;
    fx_vremove(&fx, "k", 1, r2.version, &cond, GW_ECONFLICT);
    /* Deleting a version for good drops its chunks, once no other holds
     * them. */
    m = fx_vremove(&fx, "k", 1, r2.version, NULL, GW_OK);
    CHECK(m.found && !m.marker);
    fx_gc_until(&fx, 0);
    CHECK(fx_vbody(&fx, "k", 0, r2.version, NULL) == NULL);
    m = fx_vremove(&fx, "k", 1, r2.version, NULL, GW_OK);
    CHECK(!m.found);

    /* Suspended: writes make the null version and replace it. */
    fx_versioning(&fx, STORE_VERSIONING_SUSPENDED);
    r0 = fx_vput(&fx, "k", "n1", NULL);
    CHECK(!r0.versioned);
    r0 = fx_vput(&fx, "k", "n2", NULL);
    CHECK_EQ_STR(fx_vbody(&fx, "k", 0, STORE_VERSION_NULL, &cur), "n2");
    CHECK_EQ_INT(cur, 1);
    l = fx_vlist(&fx, "k", 0);
    CHECK_EQ_INT(l.n, 2);
    CHECK_EQ_INT(l.version[0], r3.version);
    /* A delete there is a null marker, in place of the null version. */
    m = fx_vremove(&fx, "k", 0, 0, NULL, GW_OK);
    CHECK(m.marker && !m.versioned);
    CHECK_EQ_STR(fx_vbody(&fx, "k", 0, STORE_VERSION_NULL, &cur), "<marker>");
    CHECK_EQ_INT(fx_vlist(&fx, "k", 0).n, 2);
    /* Enabled again: the null marker becomes noncurrent; a Suspended write
     * after that replaces it where it is. */
    fx_versioning(&fx, STORE_VERSIONING_ENABLED);
    r1 = fx_vput(&fx, "k", "v5", NULL);
    CHECK_EQ_INT(fx_vlist(&fx, "k", 0).n, 3);
    fx_versioning(&fx, STORE_VERSIONING_SUSPENDED);
    fx_vput(&fx, "k", "n3", NULL);
    CHECK_EQ_INT(fx_vlist(&fx, "k", 0).n, 3);    /* v5 in, null marker out */
    CHECK_EQ_STR(fx_vbody(&fx, "k", 0, r1.version, &cur), "v5");

    /* Restart: everything is still there. */
    fx_stop(&fx);
    fx_init(&fx);
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    CHECK_EQ_INT(store_bucket_get(fx.st, "bkt", &b), GW_OK);
    CHECK_EQ_INT(b.versioning, STORE_VERSIONING_SUSPENDED);
    CHECK_EQ_STR(fx_vbody(&fx, "k", 0, r1.version, &cur), "v5");
    CHECK_EQ_STR(fx_vbody(&fx, "k", 0, r3.version, &cur), "v3");
    CHECK_EQ_STR(fx_vbody(&fx, "k", 0, STORE_VERSION_NULL, &cur), "n3");
    /* The bucket is not empty while versions remain. */
    store_bucket_delete(fx.st, "bkt", fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_ENOTEMPTY);
    fx_close(&fx);
    free(data);
}

/* Tags or ACL of a noncurrent version: rewritten where it is, keeping its
 * version number. */
TEST(store_version_rewrite)
{
    fx_t              fx;
    store_vresult_t   r1;
    store_object_t   *o, copy;
    store_cond_t      cond;
    gw_kv_t           tag = { gw_str_lit("t"), gw_str_lit("1") };
    int               cur;

    fx_open(&fx);
    fx_versioning(&fx, STORE_VERSIONING_ENABLED);
    r1 = fx_vput(&fx, "k", "v1", NULL);
    fx_vput(&fx, "k", "v2", NULL);
    CHECK_EQ_INT(store_version_get(fx.st, "bkt", gw_str_lit("k"), 0,
                                   r1.version, &o, &cur), GW_OK);
    CHECK_EQ_INT(cur, 0);
    copy = *o;
    copy.raw = NULL;
    copy.tags = &tag;
    copy.ntags = 1;
    memset(&cond, 0, sizeof(cond));
    cond.has_generation = cond.in_place = 1;
    cond.generation = o->generation;
    store_object_put(fx.st, "bkt", &copy, &cond, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    /* The same again, on the generation that is gone. */
    store_object_put(fx.st, "bkt", &copy, &cond, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_ECONFLICT);
    store_object_free(o);
    CHECK_EQ_INT(store_version_get(fx.st, "bkt", gw_str_lit("k"), 0,
                                   r1.version, &o, &cur), GW_OK);
    CHECK_EQ_INT(o->ntags, 1);
    CHECK(o->noncurrent_ms > 0);
    CHECK(o->generation > r1.version);
    CHECK_EQ_INT(fx_vlist(&fx, "k", 0).n, 1);
    store_object_free(o);
    fx_close(&fx);
}

/* A format-2 index (no versions database) opens as the current format. */
TEST(store_format_upgrade_v2)
{
    fx_t            fx;
    store_recw_t    w;
    MDB_env        *env;
    MDB_txn        *txn;
    MDB_dbi         dbi;
    MDB_val         k, v;
    uint32_t        format = 0;
    int             cur;

    fx_open(&fx);
    fx_vput(&fx, "k", "v0", NULL);
    fx_stop(&fx);
    env = raw_env(fx.dir);
    CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "versions", 0, &dbi), 0);
    CHECK_EQ_INT(mdb_drop(txn, dbi, 1), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    store__meta_format_encode(2, &w);
    v1_put(txn, dbi, "format", 6, w.buf, w.len);
    store__recw_free(&w);
    CHECK_EQ_INT(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    fx_init(&fx);
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    CHECK_EQ_STR(fx_vbody(&fx, "k", 0, STORE_VERSION_NULL, &cur), "v0");
    fx_versioning(&fx, STORE_VERSIONING_ENABLED);
    fx_vput(&fx, "k", "v1", NULL);
    CHECK_EQ_INT(fx_vlist(&fx, "k", 0).n, 1);
    fx_stop(&fx);

    env = raw_env(fx.dir);
    CHECK_EQ_INT(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    CHECK_EQ_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    k.mv_data = "format";
    k.mv_size = 6;
    CHECK_EQ_INT(mdb_get(txn, dbi, &k, &v), 0);
    CHECK_EQ_INT(store__meta_format_decode(v.mv_data, v.mv_size, &format),
                 GW_OK);
    CHECK_EQ_INT(format, STORE_FORMAT);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    fx_rmdir(&fx);
}

/* ==== the read scope ==== */

TEST(store_read_scope)
{
    fx_t            fx;
    store_bucket_t  b, got;
    gw_str_t        doc;
    gw_pool_t      *pool = gw_pool_create(1024);
    MDB_txn        *txn;

    fx_open(&fx);
    /* Inside a scope every getter reads the one snapshot: a bucket and a
     * document that commit meanwhile are not seen until it ends. (A real
     * scope never spans loop turns; the test runs the loop on purpose.) */
    CHECK_EQ_INT(store_read_begin(fx.st), GW_OK);
    CHECK_EQ_INT(store_read_begin(fx.st), GW_OK);      /* nested */
    CHECK_EQ_INT(fx.st->readers, 1);
    CHECK_EQ_INT(store__read_txn(fx.st, &txn), 0);
    CHECK(txn == fx.st->rscope);
    store__read_done(fx.st, txn);
    CHECK_EQ_INT(store_bucket_get(fx.st, "bkt", &got), GW_OK);
    memset(&b, 0, sizeof(b));
    strcpy(b.name, "later");
    strcpy(b.owner, "admin");
    store_bucket_create(fx.st, &b, (gw_str_t) { NULL, 0 }, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_bconf_put(fx.st, "bkt", STORE_BCONF_POLICY, gw_str_lit("{}"),
                    fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    CHECK_EQ_INT(store_bucket_get(fx.st, "later", &got), GW_ENOTFOUND);
    CHECK_EQ_INT(store_bconf_get(fx.st, "bkt", STORE_BCONF_POLICY, pool,
                                 &doc), GW_ENOTFOUND);
    store_read_end(fx.st);
    /* Still inside the outer one. */
    CHECK_EQ_INT(store_bucket_get(fx.st, "later", &got), GW_ENOTFOUND);
    store_read_end(fx.st);
    CHECK_EQ_INT(fx.st->readers, 0);
    CHECK_EQ_INT(store_bucket_get(fx.st, "later", &got), GW_OK);
    CHECK_EQ_INT(store_bconf_get(fx.st, "bkt", STORE_BCONF_POLICY, pool,
                                 &doc), GW_OK);
    /* The next scope (the kept txn renewed) sees the present. */
    CHECK_EQ_INT(store_read_begin(fx.st), GW_OK);
    CHECK_EQ_INT(store_bucket_get(fx.st, "later", &got), GW_OK);
    store_read_end(fx.st);
    store_read_end(fx.st);                /* an extra end does nothing */
    CHECK_EQ_INT(fx.st->readers, 0);
    gw_pool_destroy(pool);
    fx_close(&fx);
}

/* ==== upkeys: the uploads of a bucket in S3's order ==== */

typedef struct {
    char    keys[16][1100];
    char    ids[16][STORE_UPLOAD_ID_LEN + 1];
    size_t  n;
} fx_uplist_t;

static int
fx_uplist_one(void *ud, const store_upload_t *u)
{
    fx_uplist_t  *l = ud;

    CHECK(l->n < 16);
    memcpy(l->keys[l->n], u->tmpl->key.base, u->tmpl->key.len);
    l->keys[l->n][u->tmpl->key.len] = '\0';
    memcpy(l->ids[l->n++], u->id, STORE_UPLOAD_ID_LEN + 1);
    return 0;
}

static void
fx_upload(fx_t *fx, const char *bucket, const char *key, char *id)
{
    store_object_t  t;

    memset(&t, 0, sizeof(t));
    t.key.base = key;
    t.key.len = strlen(key);
    t.owner = gw_str_lit("admin");
    t.mtime_ms = (int64_t) time(NULL) * 1000;
    store_upload_create(fx->st, bucket, &t, id, fx_done, fx);
    CHECK_EQ_INT(fx_wait(fx), GW_OK);
}

static fx_uplist_t
fx_uplist(fx_t *fx, const char *bucket, const char *from)
{
    fx_uplist_t  l;

    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(store_upload_list(fx->st, bucket,
                                   (gw_str_t) { from, strlen(from) },
                                   fx_uplist_one, &l), GW_OK);
    return l;
}

/* Uploads come back by key, then initiation, only the bucket's, from the
 * key asked for; long keys that share their first STORE_KEY_DIRECT bytes
 * too. A format-3 index (no upkeys) gets them at its upgrade. */
TEST(store_upkeys)
{
    fx_t            fx;
    fx_uplist_t     l;
    store_bucket_t  b;
    store_recw_t    w;
    MDB_env        *env;
    MDB_txn        *txn;
    MDB_dbi         dbi;
    char            id[6][STORE_UPLOAD_ID_LEN + 1], other[STORE_UPLOAD_ID_LEN + 1];
    char            la[1025], lb[1025];
    store_upload_t *u = NULL;
    int             pass;

    fx_open(&fx);
    memset(&b, 0, sizeof(b));
    strcpy(b.name, "bk");            /* a prefix of "bkt": stays apart */
    strcpy(b.owner, "admin");
    store_bucket_create(fx.st, &b, (gw_str_t) { NULL, 0 }, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    memset(la, 'x', 1024);
    memset(lb, 'x', 1024);
    la[1024] = lb[1024] = '\0';
    /* lb before la, but with the bigger hash: the index alone would put
     * them the other way round. */
    la[1000] = 'z';
    for (lb[1000] = 'a'; lb[1000] < 'z'; lb[1000]++) {
        unsigned char  ha[32], hb[32];

        gw_sha256(la, 1024, ha);
        gw_sha256(lb, 1024, hb);
        if (memcmp(hb, ha, 16) > 0) {
            break;
        }
    }
    CHECK(lb[1000] < 'z');
    fx_upload(&fx, "bkt", "m", id[0]);
    fx_upload(&fx, "bkt", "a", id[1]);
    fx_upload(&fx, "bk", "a", other);
    fx_upload(&fx, "bkt", "m", id[2]);
    fx_upload(&fx, "bkt", la, id[3]);
    fx_upload(&fx, "bkt", lb, id[4]);
    fx_upload(&fx, "bkt", "ab", id[5]);
    for (pass = 0; pass < 2; pass++) {
        l = fx_uplist(&fx, "bkt", "");
        CHECK_EQ_INT(l.n, 6);
        CHECK_EQ_STR(l.keys[0], "a");
        CHECK_EQ_STR(l.keys[1], "ab");
        CHECK_EQ_STR(l.keys[2], "m");
        CHECK_EQ_STR(l.ids[2], strcmp(id[0], id[2]) < 0 ? id[0] : id[2]);
        CHECK_EQ_STR(l.keys[3], "m");
        CHECK_EQ_STR(l.keys[4], lb);
        CHECK_EQ_STR(l.keys[5], la);
        l = fx_uplist(&fx, "bkt", "ab");
        CHECK_EQ_INT(l.n, 5);
        l = fx_uplist(&fx, "bkt", la);
        CHECK_EQ_INT(l.n, 1);
        CHECK_EQ_STR(l.ids[0], id[3]);
        l = fx_uplist(&fx, "bk", "");
        CHECK_EQ_INT(l.n, 1);
        CHECK_EQ_STR(l.ids[0], other);
        if (pass == 1) {
            break;
        }
        /* Back to format 3: no upkeys database (outdue stays: the
         * upgrade makes its entries again, the same). */
        fx_stop(&fx);
        env = raw_env(fx.dir);
        CHECK_EQ_INT(mdb_txn_begin(env, NULL, 0, &txn), 0);
        CHECK_EQ_INT(mdb_dbi_open(txn, "upkeys", 0, &dbi), 0);
        CHECK_EQ_INT(mdb_drop(txn, dbi, 1), 0);
        CHECK_EQ_INT(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
        store__meta_format_encode(3, &w);
        v1_put(txn, dbi, "format", 6, w.buf, w.len);
        store__recw_free(&w);
        CHECK_EQ_INT(mdb_txn_commit(txn), 0);
        mdb_env_close(env);
        fx_init(&fx);
        CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    }
    /* Abort and bucket deletion take the entries with them. */
    store_upload_abort(fx.st, id[1], fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    l = fx_uplist(&fx, "bkt", "");
    CHECK_EQ_INT(l.n, 5);
    CHECK_EQ_STR(l.keys[0], "ab");
    store_bucket_delete(fx.st, "bk", fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    CHECK_EQ_INT(fx_uplist(&fx, "bk", "").n, 0);
    CHECK_EQ_INT(fx_uplist(&fx, "bkt", "").n, 5);
    CHECK_EQ_INT(store_upload_get(fx.st, other, &u), GW_ENOTFOUND);
    fx_close(&fx);
}

/* ==== the background sweep for orphan chunk files ==== */

static void
fx_chunk_file(fx_t *fx, const char *body, store_chunk_ref_t *c)
{
    char  path[PATH_MAX];
    int   fd;

    memset(c, 0, sizeof(*c));
    gw_sha256(body, strlen(body), c->sha);
    c->len = (uint32_t) strlen(body);
    store_chunk_path(fx->st, c->sha, path, sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ_INT(write(fd, body, c->len), (ssize_t) c->len);
    close(fd);
}

static int
fx_chunk_exists(fx_t *fx, const store_chunk_ref_t *c)
{
    struct stat  sb;
    char         path[PATH_MAX];

    store_chunk_path(fx->st, c->sha, path, sizeof(path));
    return stat(path, &sb) == 0;
}

static int
fx_gcq_has(fx_t *fx, const store_chunk_ref_t *c)
{
    MDB_txn  *txn;
    MDB_val   k, v;
    int       rc;

    CHECK_EQ_INT(mdb_txn_begin(fx->st->env, NULL, MDB_RDONLY, &txn), 0);
    k.mv_data = (void *) c->sha;
    k.mv_size = 32;
    rc = mdb_get(txn, fx->st->db_gcq, &k, &v);
    mdb_txn_abort(txn);
    return rc == 0;
}

/* Runs the loop until the sweep is over and the collector has nothing
 * left but what stays pinned. */
static void
fx_sweep_settle(fx_t *fx)
{
    uint64_t  until;

    while (!store__sweep_finished(fx->st)) {
        uv_run(&fx->loop, UV_RUN_ONCE);
    }
    until = uv_now(&fx->loop) + 300;       /* many collector ticks */
    while (uv_now(&fx->loop) < until) {
        uv_run(&fx->loop, UV_RUN_ONCE);
    }
}

/* After start-up, in the background: an orphan is collected; a chunk in
 * place whose writer has not committed (pinned) is left alone, and stays
 * once its object commits and the pin goes; a referenced one stays. */
TEST(store_sweep_background)
{
    fx_t                fx;
    store_chunk_ref_t   orphan, inflight, live;
    store_object_t      o;

    fx_open(&fx);
    /* The sweep store_open started ends first: a real writer pins its
     * chunk before the file is in place, this test writes "live chunk"
     * unpinned, and a sweep running meanwhile would rightly queue it. */
    fx_sweep_settle(&fx);
    memset(&o, 0, sizeof(o));
    o.owner = gw_str_lit("admin");
    /* A committed object's chunk. */
    fx_chunk_file(&fx, "live chunk", &live);
    o.key = gw_str_lit("live");
    o.chunks = &live;
    o.nchunks = 1;
    o.size = live.len;
    store_object_put(fx.st, "bkt", &o, NULL, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    /* A writer's chunk: pinned before it is in place. */
    memset(&inflight, 0, sizeof(inflight));
    gw_sha256("in flight", 9, inflight.sha);
    store_pin(fx.st, &inflight, 1);
    fx_chunk_file(&fx, "in flight", &inflight);
    fx_chunk_file(&fx, "orphan", &orphan);
    /* A sweep from the start, as after a restart. */
    fx.st->sweep_dir = 0;
    fx_sweep_settle(&fx);
    CHECK(!fx_chunk_exists(&fx, &orphan));
    CHECK(fx_chunk_exists(&fx, &inflight));
    CHECK(fx_chunk_exists(&fx, &live));
    /* The sweep itself left the pinned and the referenced chunk out of
     * the collector's queue (the collector checks again, but a queued
     * chunk must not be one a writer is about to commit). */
    CHECK(!fx_gcq_has(&fx, &inflight));
    CHECK(!fx_gcq_has(&fx, &live));
    /* The writer commits, then unpins: the chunk is the object's. */
    o.key = gw_str_lit("inflight");
    o.chunks = &inflight;
    o.size = inflight.len;
    store_object_put(fx.st, "bkt", &o, NULL, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_unpin(fx.st, &inflight, 1);
    fx.st->sweep_dir = 0;
    fx_sweep_settle(&fx);
    CHECK(fx_chunk_exists(&fx, &inflight));
    CHECK(fx_chunk_exists(&fx, &live));
    CHECK_EQ_INT(fx_chunk_files(&fx), 2);
    fx_close(&fx);
}

/* The pusher's walk: only due entries, by due time, never a failed one;
 * retried entries move to their new time. */
TEST(store_outbox_due)
{
    static const char *const  one[] = { "dest1" };
    store_repl_t              r1 = { one, 1 };
    store_outbox_entry_t      e;
    store_outbox_pos_t        pos = { 0, 0 };
    fx_t                      fx;
    int64_t                   far = (int64_t) 1 << 50;
    uint64_t                  sa, sb;

    fx_mkdir(&fx);
    fx_init(&fx);
    fx.cf.fsync = 0;
    CHECK_EQ_INT(store_open(&fx.st, &fx.loop, &fx.cf), GW_OK);
    fx_bucket(&fx, "bkt");
    fx_put_in(&fx, "bkt", gw_str_lit("a"), &r1);
    fx_put_in(&fx, "bkt", gw_str_lit("b"), &r1);
    fx_put_in(&fx, "bkt", gw_str_lit("c"), &r1);
    CHECK_EQ_INT(store_outbox_next_due(fx.st, &pos, far, &e), GW_OK);
    CHECK(gw_str_eq_lit(e.key, "a"));
    sa = e.seq;
    /* a: failed for good; b: later. */
    e.failed = 1;
    store_outbox_retry(fx.st, &e, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_outbox_entry_free(&e);
    CHECK_EQ_INT(store_outbox_next_due(fx.st, &pos, far, &e), GW_OK);
    CHECK(gw_str_eq_lit(e.key, "b"));
    sb = e.seq;
    e.next_try_ms = far - 10;
    e.attempts = 1;
    store_outbox_retry(fx.st, &e, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_outbox_entry_free(&e);
    /* Due now: c only. */
    CHECK_EQ_INT(store_outbox_next_due(fx.st, &pos, far - 11, &e), GW_OK);
    CHECK(gw_str_eq_lit(e.key, "c"));
    pos.due_ms = e.next_try_ms;
    pos.seq = e.seq;
    store_outbox_done(fx.st, &e, fx_done, &fx);
    CHECK_EQ_INT(fx_wait(&fx), GW_OK);
    store_outbox_entry_free(&e);
    CHECK_EQ_INT(store_outbox_next_due(fx.st, &pos, far - 11, &e),
                 GW_ENOTFOUND);
    /* Later, b is due; a never comes. */
    pos.due_ms = 0;
    pos.seq = 0;
    CHECK_EQ_INT(store_outbox_next_due(fx.st, &pos, far, &e), GW_OK);
    CHECK_EQ_INT(e.seq, sb);
    pos.due_ms = e.next_try_ms;
    pos.seq = e.seq;
    store_outbox_entry_free(&e);
    CHECK_EQ_INT(store_outbox_next_due(fx.st, &pos, far, &e), GW_ENOTFOUND);
    CHECK(sa != sb);
    /* A new change of b replaces its entry, due now. */
    fx_put_in(&fx, "bkt", gw_str_lit("b"), &r1);
    pos.due_ms = 0;
    pos.seq = 0;
    CHECK_EQ_INT(store_outbox_next_due(fx.st, &pos, far - 11, &e), GW_OK);
    CHECK(gw_str_eq_lit(e.key, "b") && e.seq != sb);
    store_outbox_entry_free(&e);
    fx_close(&fx);
}
