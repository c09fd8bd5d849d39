/* test/unit/test_store.c: the chunk writer, object records, the key schema's
 * ordering of long keys, reference counts and the collector, on a real store
 * in a temp directory and a real loop. */
#include "store/store.h"
#include "core/hash.h"
#include "test/unit/unit.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
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

static void
fx_open(fx_t *fx)
{
    store_bucket_t  b;

    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/s3gw-unit-XXXXXX");
    CHECK(mkdtemp(fx->dir) != NULL);
    CHECK_EQ_INT(uv_loop_init(&fx->loop), 0);
    uv_timer_init(&fx->loop, &fx->alive);
    uv_timer_start(&fx->alive, fx_tick, 5, 5);
    gw_conf_init(&fx->cf);
    fx->cf.data_dir = fx->dir;
    fx->cf.chunk_size = 64 * 1024;
    fx->cf.inline_max = 100;
    fx->cf.gc_interval_ms = 10;
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

static void
fx_close(fx_t *fx)
{
    char  cmd[128];

    uv_close((uv_handle_t *) &fx->alive, NULL);
    store_close(fx->st, fx_closed);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&fx->loop), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
    CHECK_EQ_INT(system(cmd), 0);
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
