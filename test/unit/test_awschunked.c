/* test/unit/test_awschunked.c: http/awschunked on the bodies of the AWS
 * docs (signed, unsigned trailer, signed trailer) and what SDKs send, fed
 * all at once, a byte at a time and in random pieces; malformed framing;
 * and random garbage. */
#include "http/awschunked.h"
#include "test/unit/unit.h"

#define SIG1  "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define SIG2  "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define SIG3  "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
#define TSIG1 "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2"
#define TSIG2 "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7"
#define TSIG3 "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"
#define TRSIG "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"

/* What the callbacks saw, flattened so that runs can be compared. */
typedef struct {
    char      *data;
    size_t     len, cap;
    char       log[8192];       /* "B<size>:<sig|->;" "E;" "T<n>=<v>;" "C" */
    size_t     loglen;
    int        in_chunk;
    int        completes;
    unsigned   again_every;     /* on_data returns GW_AGAIN every Nth call */
    unsigned   ndata;
    int        fail_begin;      /* on_chunk_begin returns this at chunk #n */
    int        fail_at;
    int        nbegin;
} coll_t;

static void
logf_(coll_t *c, const char *s, size_t n)
{
    CHECK(c->loglen + n < sizeof(c->log));
    memcpy(c->log + c->loglen, s, n);
    c->loglen += n;
    c->log[c->loglen] = '\0';
}

static int
on_begin(void *ud, uint64_t size, const char *sig)
{
    coll_t  *c = ud;
    char     buf[128];

    CHECK(!c->in_chunk);
    CHECK(c->completes == 0);
    c->in_chunk = 1;
    if (c->fail_begin != GW_OK && c->nbegin == c->fail_at) {
        return c->fail_begin;
    }
    c->nbegin++;
    if (sig != NULL) {
        CHECK(strlen(sig) == 64);
    }
    snprintf(buf, sizeof(buf), "B%llu:%s;", (unsigned long long) size,
             sig ? sig : "-");
    logf_(c, buf, strlen(buf));
    return GW_OK;
}

static int
on_data(void *ud, const char *at, size_t len)
{
    coll_t  *c = ud;

    CHECK(c->in_chunk);
    CHECK(len > 0);
    if (c->len + len > c->cap) {
        c->cap = (c->len + len) * 2;
        c->data = gw_realloc(c->data, c->cap);
    }
    memcpy(c->data + c->len, at, len);
    c->len += len;
    c->ndata++;
    if (c->again_every && c->ndata % c->again_every == 0) {
        return GW_AGAIN;
    }
    return GW_OK;
}

static int
on_end(void *ud)
{
    coll_t  *c = ud;

    CHECK(c->in_chunk);
    c->in_chunk = 0;
    logf_(c, "E;", 2);
    return GW_OK;
}

static int
on_trailer(void *ud, gw_str_t name, gw_str_t value)
{
    coll_t  *c = ud;

    CHECK(!c->in_chunk);
    logf_(c, "T", 1);
    logf_(c, name.base, name.len);
    logf_(c, "=", 1);
    logf_(c, value.base, value.len);
    logf_(c, ";", 1);
    return GW_OK;
}

static int
on_complete(void *ud)
{
    coll_t  *c = ud;

    CHECK(!c->in_chunk);
    c->completes++;
    logf_(c, "C", 1);
    return GW_OK;
}

static const http_awschunked_cb_t  cbs = {
    on_begin, on_data, on_end, on_trailer, on_complete
};

static uint64_t
xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A growable body under construction. */
typedef struct {
    char    *p;
    size_t   len;
} body_t;

static void
put(body_t *b, const char *s, size_t n)
{
    b->p = gw_realloc(b->p, b->len + n + 1);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void
puts_(body_t *b, const char *s)
{
    put(b, s, strlen(s));
}

static void
put_a(body_t *b, size_t n)
{
    b->p = gw_realloc(b->p, b->len + n + 1);
    memset(b->p + b->len, 'a', n);
    b->len += n;
}

/* The three bodies of the AWS docs' 65 KB example. */
static body_t
body_signed(void)
{
    body_t  b = { NULL, 0 };

    puts_(&b, "10000;chunk-signature=" SIG1 "\r\n");
    put_a(&b, 65536);
    puts_(&b, "\r\n400;chunk-signature=" SIG2 "\r\n");
    put_a(&b, 1024);
    puts_(&b, "\r\n0;chunk-signature=" SIG3 "\r\n\r\n");
    return b;
}

static body_t
body_unsigned_trailer(void)
{
    body_t  b = { NULL, 0 };

    puts_(&b, "10000\r\n");
    put_a(&b, 65536);
    puts_(&b, "\r\n400\r\n");
    put_a(&b, 1024);
    puts_(&b, "\r\n0\r\nx-amz-checksum-crc32:sK4Y7A==\r\n\r\n");
    return b;
}

static body_t
body_signed_trailer(void)
{
    body_t  b = { NULL, 0 };

    puts_(&b, "10000;chunk-signature=" TSIG1 "\r\n");
    put_a(&b, 65536);
    puts_(&b, "\r\n400;chunk-signature=" TSIG2 "\r\n");
    put_a(&b, 1024);
    puts_(&b, "\r\n0;chunk-signature=" TSIG3 "\r\n"
          "x-amz-checksum-crc32c:sOO8/Q==\r\n"
          "x-amz-trailer-signature:" TRSIG "\r\n\r\n");
    return b;
}

#define LOG_SIGNED \
    "B65536:" SIG1 ";E;B1024:" SIG2 ";E;B0:" SIG3 ";E;C"
#define LOG_UNSIGNED_TRAILER \
    "B65536:-;E;B1024:-;E;B0:-;E;Tx-amz-checksum-crc32=sK4Y7A==;C"
#define LOG_SIGNED_TRAILER \
    "B65536:" TSIG1 ";E;B1024:" TSIG2 ";E;B0:" TSIG3 ";E;" \
    "Tx-amz-checksum-crc32c=sOO8/Q==;Tx-amz-trailer-signature=" TRSIG ";C"

/* Feeds body in pieces cut at cuts[0..ncuts) (sorted offsets), then calls
 * finish; checks the outcome against want_log and want_len bytes of 'a'. */
static void
run_cuts(const body_t *b, const size_t *cuts, size_t ncuts,
    const char *want_log, size_t want_len, unsigned again_every)
{
    http_awschunked_t  d;
    coll_t             c;
    size_t             i, from = 0, to;
    int                rc, saw_again = 0;
    char              *piece;

    memset(&c, 0, sizeof(c));
    c.again_every = again_every;
    http_awschunked_init(&d, &cbs, &c, 1 << 20);
    for (i = 0; i <= ncuts; i++) {
        to = i < ncuts ? cuts[i] : b->len;
        /* an exact-size copy so that ASan catches any over-read */
        piece = gw_alloc(to - from);
        memcpy(piece, b->p + from, to - from);
        rc = http_awschunked_feed(&d, piece, to - from);
        gw_free(piece);
        CHECK(rc == GW_OK || rc == GW_AGAIN);
        saw_again |= rc == GW_AGAIN;
        from = to;
    }
    CHECK_EQ_INT(http_awschunked_finish(&d), GW_OK);
    CHECK_EQ_INT(http_awschunked_done(&d), 1);
    CHECK_EQ_INT(c.completes, 1);
    CHECK_EQ_STR(c.log, want_log);
    CHECK_EQ_INT(c.len, want_len);
    for (i = 0; i < c.len; i++) {
        CHECK(c.data[i] == 'a');
    }
    if (again_every == 1) {
        CHECK(saw_again);
    }
    /* nothing may follow */
    CHECK_EQ_INT(http_awschunked_feed(&d, "x", 1), GW_EINVAL);
    CHECK_EQ_INT(http_awschunked_feed(&d, "", 0), GW_EINVAL);
    gw_free(c.data);
}

/* All at once, a byte at a time, and 200 random splittings. */
static void
run_all_ways(const body_t *b, const char *want_log, size_t want_len)
{
    size_t    *cuts, i, n;
    uint64_t   s = 0x1234567887654321ULL;
    int        round;

    run_cuts(b, NULL, 0, want_log, want_len, 0);
    run_cuts(b, NULL, 0, want_log, want_len, 1);

    cuts = gw_alloc(b->len * sizeof(*cuts));
    for (i = 0; i + 1 < b->len; i++) {
        cuts[i] = i + 1;
    }
    run_cuts(b, cuts, b->len - 1, want_log, want_len, 0);
    run_cuts(b, cuts, b->len - 1, want_log, want_len, 7);

    for (round = 0; round < 200; round++) {
        n = 0;
        for (i = 1; i < b->len; i++) {
            /* few cuts in the data, dense cuts near the framing */
            if (xorshift(&s) % (round % 2 ? 5000 : 40) == 0) {
                cuts[n++] = i;
            }
        }
        run_cuts(b, cuts, n, want_log, want_len, round % 3);
    }
    gw_free(cuts);
}

TEST(awschunked_signed)
{
    body_t  b = body_signed();

    /* the Content-Length of the docs' example */
    CHECK_EQ_INT(b.len, 66824);
    run_all_ways(&b, LOG_SIGNED, 66560);
    gw_free(b.p);
}

TEST(awschunked_unsigned_trailer)
{
    body_t  b = body_unsigned_trailer();

    run_all_ways(&b, LOG_UNSIGNED_TRAILER, 66560);
    gw_free(b.p);
}

TEST(awschunked_signed_trailer)
{
    body_t  b = body_signed_trailer();

    run_all_ways(&b, LOG_SIGNED_TRAILER, 66560);
    gw_free(b.p);
}

/* Decodes a whole small body; returns what feed and finish said. */
static int
decode(const char *s, size_t n, uint64_t max, coll_t *c, int *finish_rc)
{
    http_awschunked_t  d;
    char              *copy;
    int                rc;

    memset(c, 0, sizeof(*c));
    http_awschunked_init(&d, &cbs, c, max);
    copy = gw_alloc(n);
    memcpy(copy, s, n);
    rc = http_awschunked_feed(&d, copy, n);
    gw_free(copy);
    *finish_rc = http_awschunked_finish(&d);
    /* a failure is sticky */
    if (rc != GW_OK && rc != GW_AGAIN) {
        CHECK_EQ_INT(http_awschunked_feed(&d, "0\r\n\r\n", 5), rc);
        CHECK_EQ_INT(*finish_rc, rc);
    }
    gw_free(c->data);
    c->data = NULL;
    return rc;
}

/* The endings real clients send. */
TEST(awschunked_endings)
{
    static const struct {
        const char  *body;
        int          feed_rc, finish_rc;
        const char  *log;
    } cases[] = {
        { "0\r\n\r\n", GW_OK, GW_OK, "B0:-;E;C" },
        /* SDK JS v3 without a checksum stops after the final chunk */
        { "0\r\n", GW_OK, GW_OK, "B0:-;E;C" },
        { "3\r\nabc\r\n0\r\n", GW_OK, GW_OK, "B3:-;E;B0:-;E;C" },
        /* a trailer without the empty line after it */
        { "0\r\nx-amz-checksum-sha256:abc=\r\n", GW_OK, GW_OK,
          "B0:-;E;Tx-amz-checksum-sha256=abc=;C" },
        /* bare-LF trailer lines; a CRLF right after one belongs to it */
        { "0;chunk-signature=" TSIG3 "\r\nx-amz-checksum-crc32c:sOO8/Q==\n"
          "\r\nx-amz-trailer-signature:" TRSIG "\r\n\r\n", GW_OK, GW_OK,
          "B0:" TSIG3 ";E;Tx-amz-checksum-crc32c=sOO8/Q==;"
          "Tx-amz-trailer-signature=" TRSIG ";C" },
        { "0\r\nA:1\nb:2\n\n", GW_OK, GW_OK, "B0:-;E;Ta=1;Tb=2;C" },
        { "0\r\nA:1\n\r\n", GW_OK, GW_OK, "B0:-;E;Ta=1;C" },
        /* names are lowercased, values trimmed */
        { "0\r\nX-Amz-Checksum-CRC32 :  AAAAAA== \t\r\n\r\n", GW_OK, GW_OK,
          "B0:-;E;Tx-amz-checksum-crc32=AAAAAA==;C" },
        { "0\r\nx-empty:\r\n\r\n", GW_OK, GW_OK, "B0:-;E;Tx-empty=;C" },
        { "0\r\nx:a:b\r\n\r\n", GW_OK, GW_OK, "B0:-;E;Tx=a:b;C" },
        /* upper-case hex, leading zeros, trailing blanks, other extensions */
        { "0000A\r\naaaaaaaaaa\r\n0 \r\n\r\n", GW_OK, GW_OK,
          "B10:-;E;B0:-;E;C" },
        { "1;foo=bar;chunk-signature=" SIG1 ";x\r\na\r\n0;y\r\n\r\n", GW_OK,
          GW_OK, "B1:" SIG1 ";E;B0:-;E;C" },
        { "1 ; chunk-signature=" SIG1 "\r\na\r\n0\r\n\r\n", GW_OK, GW_OK,
          "B1:" SIG1 ";E;B0:-;E;C" },
        /* cut short */
        { "", GW_OK, GW_EINVAL, "" },
        { "3", GW_OK, GW_EINVAL, "" },
        { "3\r\nab", GW_OK, GW_EINVAL, "B3:-;" },
        { "3\r\nabc", GW_OK, GW_EINVAL, "B3:-;" },
        { "3\r\nabc\r", GW_OK, GW_EINVAL, "B3:-;" },
        { "3\r\nabc\r\n", GW_OK, GW_EINVAL, "B3:-;E;" },
        { "0\r\nx-amz-checksum-crc32:AAA", GW_OK, GW_EINVAL, "B0:-;E;" },
    };
    coll_t  c;
    size_t  i;
    int     rc, frc;

    for (i = 0; i < GW_NELEMS(cases); i++) {
        rc = decode(cases[i].body, strlen(cases[i].body), 0, &c, &frc);
        if (rc != cases[i].feed_rc || frc != cases[i].finish_rc
            || strcmp(c.log, cases[i].log) != 0)
        {
            fprintf(stderr, "# case %zu: feed %d finish %d log %s\n", i, rc,
                    frc, c.log);
            CHECK(0);
        }
    }
}

TEST(awschunked_malformed)
{
    static const char  *cases[] = {
        "g\r\n",
        "\r\n",
        ";chunk-signature=" SIG1 "\r\n",
        "-1\r\n",
        " 1\r\na\r\n0\r\n\r\n",
        "0x10\r\n",
        "1 2\r\n",
        /* 2^64 and 2^63 do not fit */
        "10000000000000000\r\n",
        "8000000000000000\r\n",
        "ffffffffffffffffffff\r\n",
        /* the size line needs its CR */
        "3\nabc\r\n0\r\n\r\n",
        /* the data needs its CRLF */
        "3\r\nabcX\r\n0\r\n\r\n",
        "3\r\nabc\rX0\r\n\r\n",
        "3\r\nabc\n0\r\n\r\n",
        "3\r\nabcd\r\n",
        /* signature extension */
        "3;chunk-signature=abc\r\n",
        "3;chunk-signature=" SIG1 "0\r\n",
        "3;chunk-signature=\r\n",
        "3;chunk-signature\r\n",
        "3;chunk-signature=zd80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a"
        "65485a288648\r\n",
        "3;chunk-signature=" SIG1 ";chunk-signature=" SIG1 "\r\n",
        "3;=x\r\n",
        "3;;\r\n",
        /* trailers */
        "0\r\nnocolon\r\n\r\n",
        "0\r\n:value\r\n\r\n",
        "0\r\nbad name:v\r\n\r\n",
        "0\r\n\x01:v\r\n\r\n",
        /* garbage after the end */
        "0\r\n\r\nX",
        "0\r\n\r\n\r\n",
        "0\r\n\r\n0\r\n\r\n",
        "3\r\nabc\r\n0\r\nx:1\r\n\r\nmore",
    };
    coll_t  c;
    size_t  i;
    int     rc, frc;

    for (i = 0; i < GW_NELEMS(cases); i++) {
        rc = decode(cases[i], strlen(cases[i]), 0, &c, &frc);
        if (rc != GW_EINVAL) {
            fprintf(stderr, "# case %zu: feed %d log %s\n", i, rc, c.log);
            CHECK(0);
        }
    }
}

TEST(awschunked_limits)
{
    coll_t  c;
    char   *line;
    size_t  n;
    int     frc;

    /* the largest size that fits, and one over max_chunk */
    CHECK_EQ_INT(decode("7fffffffffffffff\r\n", 18, 0, &c, &frc), GW_OK);
    CHECK_EQ_STR(c.log, "B9223372036854775807:-;");
    CHECK_EQ_INT(frc, GW_EINVAL);
    CHECK_EQ_INT(decode("400\r\n", 5, 1024, &c, &frc), GW_OK);
    CHECK_EQ_INT(decode("401\r\n", 5, 1024, &c, &frc), GW_EINVAL);
    CHECK_EQ_INT(decode("400\r\n", 5, 1023, &c, &frc), GW_EINVAL);

    /* A line of exactly HTTP_AWSCHUNKED_LINE_MAX bytes with its CRLF is
     * accepted, one more is not; the same for trailer lines. */
    line = gw_alloc(HTTP_AWSCHUNKED_LINE_MAX + 64);
    n = (size_t) sprintf(line, "0;x=");
    memset(line + n, 'y', HTTP_AWSCHUNKED_LINE_MAX - 2 - n);
    memcpy(line + HTTP_AWSCHUNKED_LINE_MAX - 2, "\r\n\r\n", 4);
    CHECK_EQ_INT(decode(line, HTTP_AWSCHUNKED_LINE_MAX + 2, 0, &c, &frc),
                 GW_OK);
    CHECK_EQ_INT(frc, GW_OK);
    n = (size_t) sprintf(line, "0;x=");
    memset(line + n, 'y', HTTP_AWSCHUNKED_LINE_MAX - 1 - n);
    memcpy(line + HTTP_AWSCHUNKED_LINE_MAX - 1, "\r\n\r\n", 4);
    CHECK_EQ_INT(decode(line, HTTP_AWSCHUNKED_LINE_MAX + 3, 0, &c, &frc),
                 GW_EINVAL);
    /* an endless line fails before the buffer would overflow */
    memset(line, '1', HTTP_AWSCHUNKED_LINE_MAX + 64);
    CHECK_EQ_INT(decode(line, HTTP_AWSCHUNKED_LINE_MAX + 64, 0, &c, &frc),
                 GW_EINVAL);

    n = (size_t) sprintf(line, "0\r\nx-a:");
    memset(line + n, 'v', HTTP_AWSCHUNKED_LINE_MAX - 2 - (n - 3));
    n += HTTP_AWSCHUNKED_LINE_MAX - 2 - (n - 3);
    memcpy(line + n, "\r\n\r\n", 4);
    CHECK_EQ_INT(decode(line, n + 4, 0, &c, &frc), GW_OK);
    CHECK_EQ_INT(frc, GW_OK);
    line[n] = 'v';
    memcpy(line + n + 1, "\r\n\r\n", 4);
    CHECK_EQ_INT(decode(line, n + 5, 0, &c, &frc), GW_EINVAL);
    gw_free(line);
}

/* An error from a callback stops the decoder and is returned as is. */
TEST(awschunked_callback_error)
{
    http_awschunked_t  d;
    coll_t             c;
    body_t             b = body_signed();

    memset(&c, 0, sizeof(c));
    c.fail_begin = GW_ECHECKSUM;
    c.fail_at = 1;
    http_awschunked_init(&d, &cbs, &c, 0);
    CHECK_EQ_INT(http_awschunked_feed(&d, b.p, b.len), GW_ECHECKSUM);
    CHECK_EQ_INT(c.len, 65536);
    CHECK_EQ_INT(http_awschunked_feed(&d, "0\r\n\r\n", 5), GW_ECHECKSUM);
    CHECK_EQ_INT(http_awschunked_finish(&d), GW_ECHECKSUM);
    CHECK_EQ_INT(http_awschunked_done(&d), 0);
    CHECK_EQ_INT(c.completes, 0);
    gw_free(c.data);
    gw_free(b.p);

    /* NULL callbacks are skipped */
    {
        static const http_awschunked_cb_t  none = { NULL, NULL, NULL, NULL,
                                                    NULL };

        b = body_signed_trailer();
        http_awschunked_init(&d, &none, NULL, 0);
        CHECK_EQ_INT(http_awschunked_feed(&d, b.p, b.len), GW_OK);
        CHECK_EQ_INT(http_awschunked_done(&d), 1);
        gw_free(b.p);
    }
}

/* Random garbage, and valid bodies with random bytes changed, in random
 * pieces: the decoder must neither crash nor read out of bounds (ASan in
 * `make test`), and must only ever answer OK, AGAIN or EINVAL. */
TEST(awschunked_garbage)
{
    static const char  alphabet[] = "0123456789abcdefABCDEF;=\r\n:- xyz"
                                    "chunk-signature=";
    body_t             valid[3];
    http_awschunked_t  d;
    coll_t             c;
    uint64_t           s = 0xfeedface0badf00dULL;
    size_t             n, i, off, k;
    char              *buf, *piece;
    int                iter, rc, done = 0;

    valid[0] = body_signed();
    valid[1] = body_unsigned_trailer();
    valid[2] = body_signed_trailer();
    for (iter = 0; iter < 3000; iter++) {
        if (iter % 2 == 0) {
            n = xorshift(&s) % 600;
            buf = gw_alloc(n + 1);
            for (i = 0; i < n; i++) {
                buf[i] = (xorshift(&s) % 3 == 0)
                         ? (char) xorshift(&s)
                         : alphabet[xorshift(&s) % (sizeof(alphabet) - 1)];
            }
            if (n > 2 && xorshift(&s) % 2) {
                buf[0] = (char) alphabet[xorshift(&s) % 16];
                buf[1] = '\r';
                buf[2] = '\n';
            }
        } else {
            k = (size_t) (xorshift(&s) % 3);
            n = valid[k].len;
            buf = gw_alloc(n + 1);
            memcpy(buf, valid[k].p, n);
            for (i = xorshift(&s) % 3; i > 0; i--) {
                /* aim most mutations at the framing around the data */
                off = xorshift(&s) % 2 ? xorshift(&s) % n
                                       : n - 1 - xorshift(&s) % GW_MIN(n, 200);
                buf[off] = (xorshift(&s) % 2)
                           ? (char) xorshift(&s)
                           : alphabet[xorshift(&s) % (sizeof(alphabet) - 1)];
            }
            n -= xorshift(&s) % 4 == 0 ? xorshift(&s) % n : 0;
        }

        memset(&c, 0, sizeof(c));
        c.again_every = (unsigned) (xorshift(&s) % 3);
        http_awschunked_init(&d, &cbs, &c, xorshift(&s) % 2 ? 0 : 70000);
        off = 0;
        rc = GW_OK;
        while (off < n && (rc == GW_OK || rc == GW_AGAIN)) {
            k = 1 + (size_t) (xorshift(&s) % 97);   /* GW_MIN evaluates twice */
            k = GW_MIN(n - off, k);
            piece = gw_alloc(k);
            memcpy(piece, buf + off, k);
            rc = http_awschunked_feed(&d, piece, k);
            gw_free(piece);
            CHECK(rc == GW_OK || rc == GW_AGAIN || rc == GW_EINVAL);
            off += k;
        }
        rc = http_awschunked_finish(&d);
        CHECK(rc == GW_OK || rc == GW_EINVAL);
        CHECK_EQ_INT(rc == GW_OK, http_awschunked_done(&d));
        /* on_complete may have run before garbage after the end failed */
        CHECK(c.completes == (rc == GW_OK)
              || (rc == GW_EINVAL && c.completes == 1));
        done += rc == GW_OK;
        gw_free(c.data);
        gw_free(buf);
    }
    /* some mutated bodies must still decode, or the loop tests little */
    CHECK(done > 50);
    for (i = 0; i < 3; i++) {
        gw_free(valid[i].p);
    }
}
