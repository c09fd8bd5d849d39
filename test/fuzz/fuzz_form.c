/* test/fuzz/fuzz_form.c: libFuzzer target for http/form. The input is a
 * boundary length byte, then the boundary, then a multipart/form-data body.
 * The body is parsed whole, a byte at a time and in random pieces (sizes
 * drawn from a generator seeded by the input, as a body arrives from the
 * network), and every run must agree on every part, every data byte and
 * the outcome. */
#include "http/form.h"

#include <stdint.h>

typedef struct {
    char    log[1 << 16];
    size_t  loglen;
    int     in_part;
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
fuzz_part(void *ud, const http_form_part_t *p)
{
    fuzz_coll_t  *c = ud;

    if (c->in_part || p->name.base == NULL) {
        abort();
    }
    c->in_part = 1;
    fuzz_log(c, "P", 1);
    fuzz_log(c, p->name.base, p->name.len);
    fuzz_log(c, "|", 1);
    if (p->filename.base != NULL) {
        fuzz_log(c, p->filename.base, p->filename.len);
    }
    fuzz_log(c, "|", 1);
    fuzz_log(c, p->content_type.base ? p->content_type.base : "",
             p->content_type.len);
    fuzz_log(c, ";", 1);
    return GW_OK;
}

static int
fuzz_data(void *ud, const char *at, size_t len)
{
    fuzz_coll_t  *c = ud;

    if (!c->in_part || len == 0) {
        abort();
    }
    fuzz_log(c, at, len);
    return GW_OK;
}

static int
fuzz_end(void *ud)
{
    fuzz_coll_t  *c = ud;

    if (!c->in_part) {
        abort();
    }
    c->in_part = 0;
    fuzz_log(c, ";E;", 3);
    return GW_OK;
}

static const http_form_cb_t  fuzz_cb = { fuzz_part, fuzz_data, fuzz_end };

/* Feeds body in pieces: step bytes each, or (step 0) sizes from a small
 * generator seeded by seed; each piece an exact-size copy, so an over-read
 * is caught. Returns GW_OK or the first error. */
static int
fuzz_run(gw_str_t boundary, const uint8_t *data, size_t size, size_t step,
         uint32_t seed, fuzz_coll_t *c)
{
    static http_form_t  f;
    size_t              off = 0, k;
    char               *piece;
    int                 rc = GW_OK;

    memset(c, 0, sizeof(*c));
    http_form_init(&f, boundary, &fuzz_cb, c);
    while (off < size) {
        if (step == 0) {
            seed = seed * 1103515245u + 12345u;
            k = 1 + (seed >> 16) % 97;
        } else {
            k = step;
        }
        k = GW_MIN(size - off, k);
        piece = gw_alloc(k);
        memcpy(piece, data + off, k);
        rc = http_form_feed(&f, piece, k);
        gw_free(piece);
        if (rc != GW_OK) {
            break;
        }
        off += k;
    }
    if (rc == GW_OK) {
        rc = http_form_finish(&f);
    }
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_coll_t  c[3];
    size_t              steps[3];
    uint32_t            seed = 0;
    gw_str_t            b;
    size_t              blen, i;
    int                 rc[3];

    if (size < 1) {
        return 0;
    }
    blen = data[0] % HTTP_FORM_BOUNDARY_MAX + 1;
    if (size < 1 + blen) {
        return 0;
    }
    b.base = (const char *) data + 1;
    b.len = blen;
    data += 1 + blen;
    size -= 1 + blen;
    for (i = 0; i < GW_MIN(size, (size_t) 4); i++) {
        seed = seed << 8 | data[i];
    }
    steps[0] = size ? size : 1;
    steps[1] = 1;
    steps[2] = 0;
    for (i = 0; i < 3; i++) {
        rc[i] = fuzz_run(b, data, size, steps[i], seed, &c[i]);
        if (rc[i] != GW_OK && rc[i] != GW_EINVAL && rc[i] != GW_ETOOBIG) {
            abort();
        }
    }
    for (i = 1; i < 3; i++) {
        if (rc[i] != rc[0] || c[i].loglen != c[0].loglen
            || memcmp(c[i].log, c[0].log, c[0].loglen) != 0)
        {
            abort();
        }
    }
    return 0;
}
