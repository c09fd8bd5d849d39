/* test/fuzz/fuzz_awschunked.c: libFuzzer target for http/awschunked. The
 * input is a raw aws-chunked body. It is decoded three times, all at once, a
 * byte at a time and in pieces of a size taken from the input, and the three
 * runs must agree on every callback, the data and the outcome: the framing
 * must not depend on where the network cut the stream. */
#include "http/awschunked.h"

#include <stdint.h>

typedef struct {
    unsigned char  *data;
    size_t          len, cap;
    char            log[1 << 16];
    size_t          loglen;
    int             in_chunk;
    int             completes;
} fuzz_coll_t;

static void
fuzz_log(fuzz_coll_t *c, const char *s, size_t n)
{
    /* a long log is cut short identically in every run */
    n = GW_MIN(n, sizeof(c->log) - c->loglen);
    memcpy(c->log + c->loglen, s, n);
    c->loglen += n;
}

static int
fuzz_begin(void *ud, uint64_t size, const char *sig)
{
    fuzz_coll_t  *c = ud;
    char          buf[96];
    int           n;

    if (c->in_chunk || c->completes || (sig != NULL && strlen(sig) != 64)) {
        abort();
    }
    c->in_chunk = 1;
    n = snprintf(buf, sizeof(buf), "B%llu:%s;", (unsigned long long) size,
                 sig ? sig : "-");
    fuzz_log(c, buf, (size_t) n);
    return GW_OK;
}

static int
fuzz_data(void *ud, const char *at, size_t len)
{
    fuzz_coll_t  *c = ud;

    if (!c->in_chunk || len == 0) {
        abort();
    }
    if (c->len + len > c->cap) {
        c->cap = 2 * (c->len + len);
        c->data = gw_realloc(c->data, c->cap);
    }
    memcpy(c->data + c->len, at, len);
    c->len += len;
    /* exercise the backpressure path too */
    return (c->len & 1) ? GW_AGAIN : GW_OK;
}

static int
fuzz_end(void *ud)
{
    fuzz_coll_t  *c = ud;

    if (!c->in_chunk) {
        abort();
    }
    c->in_chunk = 0;
    fuzz_log(c, "E;", 2);
    return GW_OK;
}

static int
fuzz_trailer(void *ud, gw_str_t name, gw_str_t value)
{
    fuzz_coll_t  *c = ud;
    size_t        i;

    if (c->in_chunk || name.len == 0) {
        abort();
    }
    for (i = 0; i < name.len; i++) {
        if (name.base[i] >= 'A' && name.base[i] <= 'Z') {
            abort();
        }
    }
    fuzz_log(c, "T", 1);
    fuzz_log(c, name.base, name.len);
    fuzz_log(c, "=", 1);
    fuzz_log(c, value.base, value.len);
    fuzz_log(c, ";", 1);
    return GW_OK;
}

static int
fuzz_complete(void *ud)
{
    fuzz_coll_t  *c = ud;

    if (c->in_chunk || c->completes++) {
        abort();
    }
    fuzz_log(c, "C", 1);
    return GW_OK;
}

static const http_awschunked_cb_t  fuzz_cb = {
    fuzz_begin, fuzz_data, fuzz_end, fuzz_trailer, fuzz_complete
};

/* Feeds data in pieces of step bytes (each an exact-size copy, so that an
 * over-read is caught), then finishes. Returns the outcome: GW_OK or the
 * first error. */
static int
fuzz_run(const uint8_t *data, size_t size, size_t step, fuzz_coll_t *c)
{
    http_awschunked_t  d;
    size_t             off = 0, k;
    char              *piece;
    int                rc = GW_OK;

    memset(c, 0, sizeof(*c));
    http_awschunked_init(&d, &fuzz_cb, c, 1 << 20);
    while (off < size) {
        k = GW_MIN(size - off, step);
        piece = gw_alloc(k);
        memcpy(piece, data + off, k);
        rc = http_awschunked_feed(&d, piece, k);
        gw_free(piece);
        if (rc != GW_OK && rc != GW_AGAIN) {
            break;
        }
        rc = GW_OK;
        off += k;
    }
    if (rc == GW_OK) {
        rc = http_awschunked_finish(&d);
    }
    if ((rc == GW_OK) != http_awschunked_done(&d)) {
        abort();
    }
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_coll_t  c[3];
    size_t              steps[3];
    int                 rc[3], i;

    steps[0] = size ? size : 1;
    steps[1] = 1;
    steps[2] = size ? 1 + data[0] % 13 : 1;
    for (i = 0; i < 3; i++) {
        rc[i] = fuzz_run(data, size, steps[i], &c[i]);
        if (rc[i] != GW_OK && rc[i] != GW_EINVAL) {
            abort();
        }
    }
    for (i = 1; i < 3; i++) {
        if (rc[i] != rc[0] || c[i].len != c[0].len
            || (c[0].len && memcmp(c[i].data, c[0].data, c[0].len) != 0)
            || c[i].loglen != c[0].loglen
            || memcmp(c[i].log, c[0].log, c[0].loglen) != 0)
        {
            abort();
        }
    }
    for (i = 0; i < 3; i++) {
        gw_free(c[i].data);
        c[i].data = NULL;
    }
    return 0;
}
