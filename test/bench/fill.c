/* test/bench/fill.c: fills a data_dir through the store API, fast, to time
 * what a big store costs (start-up above all: test/bench/startup.py).
 *
 *   fill DATA_DIR BUCKET OWNER OBJECTS CHUNKED
 *
 * makes bucket BUCKET (owned by user OWNER) and OBJECTS objects in it: the
 * first CHUNKED have one small chunk file each (written here, as the chunk
 * writer would leave it), the others keep their bytes inline. Thousands of
 * puts are in flight at a time, so the batcher commits them in big batches
 * (fsync off: the store is a fixture). */
#include "core/hash.h"
#include "core/log.h"
#include "store/store.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define FILL_WAVE  20000

typedef struct {
    uv_loop_t  loop;
    size_t     left;
    int        rc;
} fill_t;

static void
fill_done(void *ud, int rc)
{
    fill_t  *f = ud;

    f->left--;
    if (rc != GW_OK) {
        f->rc = rc;
    }
}

static void
fill_wait(fill_t *f)
{
    while (f->left > 0) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
}

/* The chunk file of object i: its bytes and where they go. */
static int
fill_chunk(store_t *st, size_t i, store_chunk_ref_t *c)
{
    char  body[32], path[PATH_MAX];
    int   fd, n;

    n = snprintf(body, sizeof(body), "chunk %zu", i);
    gw_sha256(body, (size_t) n, c->sha);
    c->off = 0;
    c->len = (uint32_t) n;
    store_chunk_path(st, c->sha, path, sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    /* Pinned before it is in place, as the chunk writer does, so that the
     * sweep does not take it for an orphan before its object commits. */
    store_pin(st, c, 1);
    if (fd < 0 || write(fd, body, (size_t) n) != n) {
        perror(path);
        return -1;
    }
    close(fd);
    return 0;
}

int
main(int argc, char **argv)
{
    static char      key[64];
    store_bucket_t   b;
    store_object_t   o;
    store_chunk_ref_t *pins;
    store_t         *st;
    gw_conf_t        cf;
    fill_t           f;
    size_t           i, n, chunked, npins = 0;

    if (argc != 6) {
        fprintf(stderr, "usage: fill DATA_DIR BUCKET OWNER OBJECTS CHUNKED\n");
        return 2;
    }
    n = strtoul(argv[4], NULL, 10);
    chunked = strtoul(argv[5], NULL, 10);
    gw_hash_init();
    pins = calloc(FILL_WAVE + 1, sizeof(*pins));
    memset(&f, 0, sizeof(f));
    uv_loop_init(&f.loop);
    gw_conf_init(&cf);
    cf.data_dir = argv[1];
    cf.fsync = 0;
    if (store_open(&st, &f.loop, &cf) != GW_OK) {
        return 1;
    }
    memset(&b, 0, sizeof(b));
    snprintf(b.name, sizeof(b.name), "%s", argv[2]);
    snprintf(b.owner, sizeof(b.owner), "%s", argv[3]);
    snprintf(b.region, sizeof(b.region), "us-east-1");
    b.ctime_ms = (int64_t) time(NULL) * 1000;
    f.left = 1;
    store_bucket_create(st, &b, (gw_str_t) { NULL, 0 }, fill_done, &f);
    fill_wait(&f);
    for (i = 0; i < n && f.rc == GW_OK; i++) {
        memset(&o, 0, sizeof(o));
        o.key.len = (size_t) snprintf(key, sizeof(key), "obj/%08zu", i);
        o.key.base = key;
        o.owner.base = argv[3];
        o.owner.len = strlen(argv[3]);
        o.mtime_ms = b.ctime_ms;
        if (i < chunked) {
            if (fill_chunk(st, i, &pins[npins]) != 0) {
                return 1;
            }
            o.chunks = &pins[npins++];
            o.nchunks = 1;
            o.size = o.chunks->len;
        } else {
            o.inline_data = gw_str_lit("fill: an inline object body");
            o.size = o.inline_data.len;
        }
        gw_md5(key, o.key.len, o.md5);
        f.left++;
        store_object_put(st, argv[2], &o, NULL, fill_done, &f);
        if (f.left >= FILL_WAVE) {
            fill_wait(&f);
            store_unpin(st, pins, npins);
            npins = 0;
        }
    }
    fill_wait(&f);
    store_unpin(st, pins, npins);
    free(pins);
    if (f.rc != GW_OK) {
        fprintf(stderr, "fill: a put failed: %s\n", gw_strerror(f.rc));
        return 1;
    }
    store_close(st, NULL);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    printf("fill: %zu objects (%zu with a chunk file) in %s\n", n, chunked,
           argv[1]);
    return 0;
}
