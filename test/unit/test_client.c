/* test/unit/test_client.c: http/client against servers written here, all
 * on 127.0.0.1:
 *   - "ts", a libuv TCP server on the test's own loop, parsing requests with
 *     llhttp; what it answers is chosen by the request path (/cl, /chunked,
 *     /head, /slow?ms=N, /never, /upload, /reject, /midclose, /big) and it
 *     counts what it saw (connections accepted and open at once, body bytes
 *     and their SHA-256, bytes of /big sent);
 *   - a TLS server in a thread, blocking OpenSSL on the raw socket, with a
 *     self-signed certificate (CN and SAN localhost, SAN IP 127.0.0.1) made at
 *     test time with OpenSSL's APIs.
 * Each test has its own loop and ends by asserting uv_loop_close() == 0, so a
 * handle the client forgot to close fails the test. */
#include "http/client.h"
#include "core/hash.h"
#include "test/unit/unit.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "llhttp.h"

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif

/* The runner ends each test's child with _exit, which skips LeakSanitizer's
 * exit-time check; so under ASan each test asks for the check itself, once
 * its loop is closed (anything unreachable by then was leaked). */
#ifdef ASAN_BUILD
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK()  CHECK_EQ_INT(__lsan_do_recoverable_leak_check(), 0)
#else
#define LEAK_CHECK()  ((void) 0)
#endif

#define MIB              (1024 * 1024)
#define BIG_SIZE         (64ULL * MIB)
#define TS_QUEUE_MAX     (256 * 1024)

/* ==== helpers ==== */

/* xorshift64*: the bytes of bodies, cheap and not compressible */
static void
pattern_fill(uint64_t *state, void *buf, size_t n)
{
    unsigned char  *p = buf;
    uint64_t        x = *state, w;

    while (n > 0) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        w = x * 0x2545F4914F6CDD1DULL;
        memcpy(p, &w, GW_MIN(n, 8));
        p += GW_MIN(n, 8);
        n -= GW_MIN(n, 8);
    }
    *state = x;
}

static void
sha_hex(gw_cksum_t *c, char out[65])
{
    unsigned char  d[GW_CKSUM_MAX_LEN];
    size_t         i;

    CHECK_EQ_INT(gw_cksum_final(c, d), 32);
    for (i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
}

static long
max_rss_kib(void)
{
    struct rusage  ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* ==== the libuv test server ==== */

typedef struct ts_s       ts_t;
typedef struct ts_conn_s  ts_conn_t;

struct ts_s {
    uv_loop_t    *loop;
    uv_tcp_t      listener;
    int           port;
    int           closed;
    ts_conn_t    *conns;
    int           drop_second;        /* close a connection at its second
                                       * request head, unanswered */
    uint64_t      continue_delay_ms;  /* wait before 100 Continue */
    /* what it saw */
    int           accepted, open, max_open, requests;
    uint64_t      body_bytes;
    int           body_before_continue;
    uint64_t      big_sent;
    size_t        big_queue_max;
    char          big_sha[65];
};

struct ts_conn_s {
    uv_tcp_t      tcp;
    uv_timer_t    timer;
    ts_t         *ts;
    ts_conn_t    *prev, *next;
    llhttp_t      p;
    char          url[512];
    size_t        url_len;
    char          field[64], value[64];
    size_t        field_len, value_len;
    int           expect, sent_continue, drop, closing, handles, nreq;
    int           close_after_write;
    gw_cksum_t    sha;
    uint64_t      req_body;
    uint64_t      big_left, big_state;
    gw_cksum_t    big_sum;
    int           big_writes;
    char          rbuf[64 * 1024];
};

static llhttp_settings_t  ts_settings;

static void
ts_conn_freed(uv_handle_t *h)
{
    ts_conn_t  *tc = h->data;

    if (--tc->handles == 0) {
        gw_cksum_free(&tc->sha);
        gw_cksum_free(&tc->big_sum);
        free(tc);
    }
}

static void
ts_conn_close(ts_conn_t *tc)
{
    ts_t  *ts = tc->ts;

    if (tc->closing) {
        return;
    }
    tc->closing = 1;
    ts->open--;
    if (tc->prev) {
        tc->prev->next = tc->next;
    } else {
        ts->conns = tc->next;
    }
    if (tc->next) {
        tc->next->prev = tc->prev;
    }
    uv_close((uv_handle_t *) &tc->tcp, ts_conn_freed);
    uv_close((uv_handle_t *) &tc->timer, ts_conn_freed);
}

typedef struct {
    uv_write_t   req;
    ts_conn_t   *tc;
    int          close_after;
    int          big;
    char         data[];
} ts_write_t;

static void ts_big_pump(ts_conn_t *tc);

static void
ts_write_cb(uv_write_t *w, int status)
{
    ts_write_t  *tw = w->data;
    ts_conn_t   *tc = tw->tc;

    if (tw->big) {
        tc->big_writes--;
    }
    if (!tc->closing && (status < 0 || tw->close_after)) {
        ts_conn_close(tc);
    } else if (!tc->closing && tw->big) {
        ts_big_pump(tc);
    }
    free(tw);
}

static void
ts_send(ts_conn_t *tc, const void *buf, size_t len, int close_after, int big)
{
    ts_write_t  *tw = malloc(sizeof(*tw) + len);
    uv_buf_t     b;

    CHECK(tw != NULL);
    memcpy(tw->data, buf, len);
    tw->tc = tc;
    tw->close_after = close_after;
    tw->big = big;
    tw->req.data = tw;
    b = uv_buf_init(tw->data, (unsigned) len);
    if (big) {
        tc->big_writes++;
    }
    CHECK_EQ_INT(uv_write(&tw->req, (uv_stream_t *) &tc->tcp, &b, 1,
                          ts_write_cb), 0);
}

static void
ts_sendf(ts_conn_t *tc, int close_after, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ts_sendf(ts_conn_t *tc, int close_after, const char *fmt, ...)
{
    char     buf[1024];
    va_list  ap;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    CHECK(n > 0 && (size_t) n < sizeof(buf));
    ts_send(tc, buf, (size_t) n, close_after, 0);
}

/* /big: 64 MiB with a Content-Length, written while the socket's write
 * queue stays small, so that a client that stops reading stops us. */
static void
ts_big_pump(ts_conn_t *tc)
{
    ts_t    *ts = tc->ts;
    char     buf[64 * 1024];
    size_t   n, q;

    while (tc->big_left > 0 && tc->big_writes < 8
           && uv_stream_get_write_queue_size((uv_stream_t *) &tc->tcp)
              < TS_QUEUE_MAX)
    {
        n = (size_t) GW_MIN((uint64_t) sizeof(buf), tc->big_left);
        pattern_fill(&tc->big_state, buf, n);
        gw_cksum_update(&tc->big_sum, buf, n);
        tc->big_left -= n;
        ts->big_sent += n;
        ts_send(tc, buf, n, 0, 1);
        q = uv_stream_get_write_queue_size((uv_stream_t *) &tc->tcp);
        ts->big_queue_max = GW_MAX(ts->big_queue_max, q);
    }
    if (tc->big_left == 0 && ts->big_sha[0] == '\0') {
        sha_hex(&tc->big_sum, ts->big_sha);
    }
}

static void
ts_continue_cb(uv_timer_t *t)
{
    ts_conn_t  *tc = t->data;

    tc->sent_continue = 1;
    ts_sendf(tc, 0, "HTTP/1.1 100 Continue\r\n\r\n");
}

static void
ts_slow_cb(uv_timer_t *t)
{
    ts_conn_t  *tc = t->data;

    ts_sendf(tc, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
}

static int
ts_on_message_begin(llhttp_t *p)
{
    ts_conn_t  *tc = p->data;

    tc->url_len = 0;
    tc->field_len = tc->value_len = 0;
    tc->expect = tc->sent_continue = 0;
    tc->req_body = 0;
    gw_cksum_free(&tc->sha);
    CHECK_EQ_INT(gw_cksum_init(&tc->sha, GW_CK_SHA256), GW_OK);
    return 0;
}

static int
ts_on_url(llhttp_t *p, const char *at, size_t len)
{
    ts_conn_t  *tc = p->data;

    CHECK(tc->url_len + len < sizeof(tc->url));
    memcpy(tc->url + tc->url_len, at, len);
    tc->url_len += len;
    tc->url[tc->url_len] = '\0';
    return 0;
}

static int
ts_on_field(llhttp_t *p, const char *at, size_t len)
{
    ts_conn_t  *tc = p->data;
    size_t      i;

    for (i = 0; i < len && tc->field_len < sizeof(tc->field) - 1; i++) {
        tc->field[tc->field_len++] = (char) gw_ascii_lower((unsigned char) at[i]);
    }
    tc->field[tc->field_len] = '\0';
    return 0;
}

static int
ts_on_value(llhttp_t *p, const char *at, size_t len)
{
    ts_conn_t  *tc = p->data;
    size_t      i;

    for (i = 0; i < len && tc->value_len < sizeof(tc->value) - 1; i++) {
        tc->value[tc->value_len++] = at[i];
    }
    tc->value[tc->value_len] = '\0';
    return 0;
}

static int
ts_on_value_complete(llhttp_t *p)
{
    ts_conn_t  *tc = p->data;

    if (strcmp(tc->field, "expect") == 0
        && strcasecmp(tc->value, "100-continue") == 0)
    {
        tc->expect = 1;
    }
    tc->field_len = tc->value_len = 0;
    return 0;
}

static int
ts_on_headers_complete(llhttp_t *p)
{
    ts_conn_t  *tc = p->data;
    ts_t       *ts = tc->ts;

    tc->nreq++;
    ts->requests++;
    if (ts->drop_second && tc->nreq == 2) {
        /* A keep-alive connection the server gave up on just as the
         * request came: closed without an answer. */
        tc->drop = 1;
        return HPE_PAUSED;
    }
    if (strcmp(tc->url, "/reject-now") == 0
        || (strncmp(tc->url, "/reject", 7) == 0 && tc->expect))
    {
        ts_sendf(tc, 0, "HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n"
                 "Connection: close\r\n\r\ndenied");
    } else if (strncmp(tc->url, "/upload", 7) == 0 && tc->expect
               && strstr(tc->url, "no100") == NULL)
    {
        if (ts->continue_delay_ms > 0) {
            uv_timer_start(&tc->timer, ts_continue_cb, ts->continue_delay_ms, 0);
        } else {
            ts_continue_cb(&tc->timer);
        }
    }
    return 0;
}

static int
ts_on_body(llhttp_t *p, const char *at, size_t len)
{
    ts_conn_t  *tc = p->data;

    tc->ts->body_bytes += len;
    tc->req_body += len;
    if (tc->expect && !tc->sent_continue && strstr(tc->url, "no100") == NULL) {
        tc->ts->body_before_continue = 1;
    }
    gw_cksum_update(&tc->sha, at, len);
    return 0;
}

static int
ts_on_message_complete(llhttp_t *p)
{
    ts_conn_t  *tc = p->data;
    char        hex[65];
    char        data[1000];

    if (strcmp(tc->url, "/cl") == 0) {
        ts_sendf(tc, 0, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n"
                 "X-Test: Yes  \r\n\r\nhello world");
    } else if (strcmp(tc->url, "/chunked") == 0) {
        ts_sendf(tc, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n"
                 "0\r\nX-Trailer: t\r\n\r\n");
    } else if (strcmp(tc->url, "/head") == 0) {
        ts_sendf(tc, 0, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
                 "ETag: \"abc\"\r\n\r\n");
    } else if (strncmp(tc->url, "/slow?ms=", 9) == 0) {
        uv_timer_start(&tc->timer, ts_slow_cb,
                       (uint64_t) strtoull(tc->url + 9, NULL, 10), 0);
    } else if (strncmp(tc->url, "/upload", 7) == 0) {
        sha_hex(&tc->sha, hex);
        ts_sendf(tc, 0, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                 "x-bytes: %llu\r\nx-sha256: %s\r\n\r\n",
                 (unsigned long long) tc->req_body, hex);
    } else if (strcmp(tc->url, "/midclose") == 0) {
        memset(data, 'm', sizeof(data));
        ts_sendf(tc, 0, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        ts_send(tc, data, sizeof(data), 1, 0);
    } else if (strcmp(tc->url, "/big") == 0) {
        ts_sendf(tc, 0, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
                 (unsigned long long) BIG_SIZE);
        tc->big_left = BIG_SIZE;
        tc->big_state = 0x9E3779B97F4A7C15ULL;
        CHECK_EQ_INT(gw_cksum_init(&tc->big_sum, GW_CK_SHA256), GW_OK);
        ts_big_pump(tc);
    }
    /* /never and /reject: nothing (more) */
    return 0;
}

static void
ts_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    ts_conn_t  *tc = h->data;

    buf->base = tc->rbuf;
    buf->len = sizeof(tc->rbuf);
}

static void
ts_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    ts_conn_t       *tc = st->data;
    llhttp_errno_t   err;

    if (nread < 0) {
        ts_conn_close(tc);
        return;
    }
    if (nread == 0 || tc->drop) {
        return;
    }
    err = llhttp_execute(&tc->p, buf->base, (size_t) nread);
    if (tc->drop) {
        ts_conn_close(tc);
        return;
    }
    if (err != HPE_OK) {
        fprintf(stderr, "# test server: bad request: %s\n",
                llhttp_errno_name(err));
        ts_conn_close(tc);
    }
}

static void
ts_on_connection(uv_stream_t *ls, int status)
{
    ts_t       *ts = ls->data;
    ts_conn_t  *tc;

    CHECK_EQ_INT(status, 0);
    tc = calloc(1, sizeof(*tc));
    CHECK(tc != NULL);
    tc->ts = ts;
    uv_tcp_init(ts->loop, &tc->tcp);
    uv_timer_init(ts->loop, &tc->timer);
    tc->tcp.data = tc;
    tc->timer.data = tc;
    tc->handles = 2;
    CHECK_EQ_INT(uv_accept(ls, (uv_stream_t *) &tc->tcp), 0);
    tc->next = ts->conns;
    if (ts->conns) {
        ts->conns->prev = tc;
    }
    ts->conns = tc;
    ts->accepted++;
    ts->open++;
    ts->max_open = GW_MAX(ts->max_open, ts->open);
    llhttp_init(&tc->p, HTTP_REQUEST, &ts_settings);
    tc->p.data = tc;
    CHECK_EQ_INT(uv_read_start((uv_stream_t *) &tc->tcp, ts_alloc_cb,
                               ts_read_cb), 0);
}

static void
ts_start(ts_t *ts, uv_loop_t *loop)
{
    struct sockaddr_in       sa;
    struct sockaddr_storage  ss;
    int                      len = sizeof(ss);

    llhttp_settings_init(&ts_settings);
    ts_settings.on_message_begin = ts_on_message_begin;
    ts_settings.on_url = ts_on_url;
    ts_settings.on_header_field = ts_on_field;
    ts_settings.on_header_value = ts_on_value;
    ts_settings.on_header_value_complete = ts_on_value_complete;
    ts_settings.on_headers_complete = ts_on_headers_complete;
    ts_settings.on_body = ts_on_body;
    ts_settings.on_message_complete = ts_on_message_complete;
    memset(ts, 0, sizeof(*ts));
    ts->loop = loop;
    uv_tcp_init(loop, &ts->listener);
    ts->listener.data = ts;
    CHECK_EQ_INT(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
    CHECK_EQ_INT(uv_tcp_bind(&ts->listener, (struct sockaddr *) &sa, 0), 0);
    CHECK_EQ_INT(uv_listen((uv_stream_t *) &ts->listener, 64,
                           ts_on_connection), 0);
    CHECK_EQ_INT(uv_tcp_getsockname(&ts->listener, (struct sockaddr *) &ss,
                                    &len), 0);
    ts->port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
}

static void
ts_close(ts_t *ts)
{
    if (ts->closed) {
        return;
    }
    ts->closed = 1;
    uv_close((uv_handle_t *) &ts->listener, NULL);
    while (ts->conns != NULL) {
        ts_conn_close(ts->conns);
    }
}

/* ==== a test's loop, client and calls ==== */

typedef struct tctx_s  tctx_t;
typedef struct tcall_s tcall_t;

struct tcall_s {
    tctx_t              *x;
    http_client_req_t   *r;
    void               (*then)(tcall_t *t);   /* run from on_done */
    /* outcome */
    int                  done, rc, status;
    int64_t              content_length;
    char                 err[256];
    long                 verify;
    char                 x_bytes[32], x_sha[65], x_test[16], etag[16];
    char                 body[64];
    uint64_t             body_bytes;
    gw_cksum_t           body_sum;
    char                 body_sha[65];
    uint64_t             t_start, t_done;
    /* producer */
    uint64_t             total, produced, filled, state;
    int                  prod_calls, agains;
    gw_cksum_t           prod_sum;
    char                 prod_sha[65];
    char                *abuf;
    size_t               a_pos, a_len;
    uv_work_t            work;
    int                  work_pending;
    /* consumer */
    int                  pause_every, paused, pauses, calls;
    int                  resp_rc, body_rc;    /* what on_response and
                                               * on_body return */
    int                  resp_calls;
    uint64_t             ahead_max;       /* server bytes sent not yet
                                           * consumed, seen at each pause */
    const uint64_t      *sent;            /* the server's count of bytes sent
                                           * (written by the TLS server's
                                           * thread: read atomically) */
    uv_timer_t           timer;
    int                  timer_on;
};

struct tctx_s {
    uv_loop_t            loop;
    ts_t                 ts;
    int                  has_ts;
    http_client_t       *cl;
    int                  pending;
    int                  manual;          /* do not close when all are done */
    tcall_t             *calls[16];
    int                  ncalls;
    uv_timer_t           dog;             /* fails a test that stalls */
    int                  dog_on;
};

static void
tctx_init(tctx_t *x, http_client_opts_t *o, int with_server)
{
    char  err[256] = "";

    memset(x, 0, sizeof(*x));
    CHECK_EQ_INT(uv_loop_init(&x->loop), 0);
    if (with_server) {
        ts_start(&x->ts, &x->loop);
        x->has_ts = 1;
        if (o->port == 0) {
            o->port = x->ts.port;
        }
    }
    if (o->host == NULL) {
        o->host = "127.0.0.1";
    }
    if (http_client_create(&x->loop, o, &x->cl, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "# http_client_create: %s\n", err);
        CHECK(0);
    }
}

/* Everything is done: close the client, the server and the calls' timers,
 * so that the loop runs dry. */
static void
tctx_finish(tctx_t *x)
{
    int  i;

    if (x->cl != NULL) {
        http_client_close(x->cl);
        x->cl = NULL;
    }
    if (x->has_ts) {
        ts_close(&x->ts);
    }
    if (x->dog_on) {
        x->dog_on = 0;
        uv_close((uv_handle_t *) &x->dog, NULL);
    }
    for (i = 0; i < x->ncalls; i++) {
        if (x->calls[i]->timer_on) {
            x->calls[i]->timer_on = 0;
            uv_close((uv_handle_t *) &x->calls[i]->timer, NULL);
        }
    }
}

static void
tctx_run(tctx_t *x)
{
    uv_run(&x->loop, UV_RUN_DEFAULT);
    CHECK(x->cl == NULL);
    CHECK_EQ_INT(uv_loop_close(&x->loop), 0);
    LEAK_CHECK();
}

static void
tcall_init(tctx_t *x, tcall_t *t)
{
    memset(t, 0, sizeof(*t));
    t->x = x;
    CHECK(x->ncalls < (int) GW_NELEMS(x->calls));
    x->calls[x->ncalls++] = t;
    CHECK_EQ_INT(gw_cksum_init(&t->body_sum, GW_CK_SHA256), GW_OK);
    CHECK_EQ_INT(gw_cksum_init(&t->prod_sum, GW_CK_SHA256), GW_OK);
}

static void
copy_header(const http_client_resp_t *resp, const char *name, char *dst,
            size_t cap)
{
    const gw_str_t  *v = http_client_resp_header(resp, name);

    dst[0] = '\0';
    if (v != NULL) {
        snprintf(dst, cap, "%.*s", (int) v->len, v->base);
    }
}

static void
t_done(http_client_req_t *r, int rc)
{
    tcall_t                   *t = http_client_req_data(r);
    const http_client_resp_t  *resp = http_client_req_resp(r);

    CHECK(!t->done);
    CHECK(t->r == r);
    t->done = 1;
    t->rc = rc;
    t->r = NULL;
    t->t_done = uv_now(&t->x->loop);
    t->status = resp->status;
    t->content_length = resp->content_length;
    snprintf(t->err, sizeof(t->err), "%s", http_client_req_error(r));
    t->verify = http_client_req_verify_result(r);
    copy_header(resp, "x-bytes", t->x_bytes, sizeof(t->x_bytes));
    copy_header(resp, "x-sha256", t->x_sha, sizeof(t->x_sha));
    copy_header(resp, "x-test", t->x_test, sizeof(t->x_test));
    copy_header(resp, "etag", t->etag, sizeof(t->etag));
    sha_hex(&t->body_sum, t->body_sha);
    sha_hex(&t->prod_sum, t->prod_sha);
    if (t->then != NULL) {
        t->then(t);
    }
    if (--t->x->pending == 0 && !t->x->manual) {
        tctx_finish(t->x);
    }
}

static int
t_resp(http_client_req_t *r, const http_client_resp_t *resp)
{
    tcall_t  *t = http_client_req_data(r);

    CHECK(resp->status >= 200);
    CHECK(resp == http_client_req_resp(r));
    t->resp_calls++;
    return t->resp_rc;
}

static int
t_body(http_client_req_t *r, const char *at, size_t len)
{
    tcall_t  *t = http_client_req_data(r);

    if (t->body_rc != GW_OK) {
        return t->body_rc;
    }
    size_t    room = sizeof(t->body) - 1 - GW_MIN(t->body_bytes,
                                                  sizeof(t->body) - 1);

    memcpy(t->body + sizeof(t->body) - 1 - room, at, GW_MIN(room, len));
    gw_cksum_update(&t->body_sum, at, len);
    t->body_bytes += len;
    return GW_OK;
}

/* A synchronous producer of t->total pattern bytes. */
static int
t_produce(http_client_req_t *r, char *buf, size_t cap, size_t *len)
{
    tcall_t  *t = http_client_req_data(r);
    size_t    n = (size_t) GW_MIN((uint64_t) cap, t->total - t->produced);

    CHECK(cap > 0);
    t->prod_calls++;
    pattern_fill(&t->state, buf, n);
    gw_cksum_update(&t->prod_sum, buf, n);
    t->produced += n;
    *len = n;
    return t->produced == t->total ? GW_DONE : GW_OK;
}

static void
t_submit(tctx_t *x, tcall_t *t, const char *method, const char *target,
         int64_t clen, const gw_kv_t *hdrs, size_t nhdrs,
         http_client_produce_pt produce, http_client_body_pt on_body)
{
    http_client_req_opts_t  o;

    memset(&o, 0, sizeof(o));
    o.method = method;
    o.target = target;
    o.headers = hdrs;
    o.nheaders = nhdrs;
    o.content_length = clen;
    o.produce = produce;
    o.on_response = t_resp;
    o.on_body = on_body ? on_body : t_body;
    o.on_done = t_done;
    o.data = t;
    if (clen > 0) {
        t->total = (uint64_t) clen;
    }
    t->t_start = uv_now(&x->loop);
    CHECK_EQ_INT(http_client_request(x->cl, &o, &t->r), GW_OK);
    CHECK(t->r != NULL);
    x->pending++;
}

/* ==== plain HTTP ==== */

TEST(client_get_content_length)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t;

    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    t_submit(&x, &t, "GET", "/cl", 0, NULL, 0, NULL, NULL);
    tctx_run(&x);
    CHECK_EQ_INT(t.rc, 0);
    CHECK_EQ_INT(t.status, 200);
    CHECK_EQ_INT(t.content_length, 11);
    CHECK_EQ_STR(t.body, "hello world");
    CHECK_EQ_STR(t.x_test, "Yes");           /* name lowercased, value trimmed */
    CHECK_EQ_STR(t.err, "");
    CHECK_EQ_INT(x.ts.accepted, 1);
}

TEST(client_get_chunked)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t;

    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    t_submit(&x, &t, "GET", "/chunked", 0, NULL, 0, NULL, NULL);
    tctx_run(&x);
    CHECK_EQ_INT(t.rc, 0);
    CHECK_EQ_INT(t.status, 200);
    CHECK_EQ_INT(t.content_length, -1);
    CHECK_EQ_STR(t.body, "hello world");     /* extension and trailer dropped */
}

/* Five requests one after the other (each submitted from the previous
 * on_done) ride one connection. */
static void
keepalive_next(tcall_t *t)
{
    tcall_t  *calls = t->x->calls[0];
    int       i = (int) (t - calls);

    if (i + 1 < 5) {
        t_submit(t->x, &calls[i + 1], "GET", i % 2 ? "/cl" : "/chunked", 0,
                 NULL, 0, NULL, NULL);
    }
}

TEST(client_keepalive_reuse)
{
    http_client_opts_t   o = { 0 };
    http_client_stats_t  st;
    tctx_t               x;
    tcall_t              t[5];
    int                  i;

    tctx_init(&x, &o, 1);
    for (i = 0; i < 5; i++) {
        tcall_init(&x, &t[i]);
        t[i].then = keepalive_next;
    }
    t_submit(&x, &t[0], "GET", "/cl", 0, NULL, 0, NULL, NULL);
    x.manual = 1;
    t[4].then = NULL;
    uv_run(&x.loop, UV_RUN_NOWAIT);
    while (!t[4].done) {
        uv_run(&x.loop, UV_RUN_ONCE);
    }
    http_client_stats(x.cl, &st);
    CHECK_EQ_INT(st.connects, 1);
    CHECK_EQ_INT(st.connections, 1);         /* still open, idle */
    tctx_finish(&x);
    tctx_run(&x);
    for (i = 0; i < 5; i++) {
        CHECK_EQ_INT(t[i].rc, 0);
        CHECK_EQ_STR(t[i].body, "hello world");
    }
    CHECK_EQ_INT(x.ts.accepted, 1);
    CHECK_EQ_INT(x.ts.requests, 5);
}

/* Ten requests at once with a cap of two connections: the server never sees
 * more than two, and every request completes. */
TEST(client_connection_cap)
{
    http_client_opts_t   o = { 0 };
    http_client_stats_t  st;
    tctx_t               x;
    tcall_t              t[10];
    int                  i;

    o.max_connections = 2;
    tctx_init(&x, &o, 1);
    for (i = 0; i < 10; i++) {
        tcall_init(&x, &t[i]);
        t_submit(&x, &t[i], "GET", "/slow?ms=20", 0, NULL, 0, NULL, NULL);
    }
    http_client_stats(x.cl, &st);
    CHECK_EQ_INT(st.queued, 10);
    tctx_run(&x);
    for (i = 0; i < 10; i++) {
        CHECK_EQ_INT(t[i].rc, 0);
        CHECK_EQ_INT(t[i].status, 200);
        CHECK_EQ_STR(t[i].body, "ok");
    }
    CHECK_EQ_INT(x.ts.accepted, 2);
    CHECK_EQ_INT(x.ts.max_open, 2);
    CHECK_EQ_INT(x.ts.requests, 10);
    /* FIFO: the first two finish first */
    CHECK(t[0].t_done <= t[9].t_done);
}

static void
check_upload(tcall_t *t, uint64_t total)
{
    char  n[32];

    CHECK_EQ_INT(t->rc, 0);
    CHECK_EQ_INT(t->status, 200);
    CHECK_EQ_INT(t->produced, total);
    snprintf(n, sizeof(n), "%llu", (unsigned long long) total);
    CHECK_EQ_STR(t->x_bytes, n);
    CHECK_EQ_STR(t->x_sha, t->prod_sha);
}

/* 64 MiB from a synchronous producer: every byte arrives, in order, and the
 * client never held more than its few write buffers, however fast the
 * producer. */
TEST(client_upload_64m_stream)
{
    http_client_opts_t   o = { 0 };
    http_client_stats_t  st;
    tctx_t               x;
    tcall_t              t;
    long                 rss0 = max_rss_kib(), rss1;

    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    t.state = 42;
    t_submit(&x, &t, "PUT", "/upload", (int64_t) BIG_SIZE, NULL, 0, t_produce,
             NULL);
    x.manual = 1;
    while (!t.done) {
        uv_run(&x.loop, UV_RUN_ONCE);
    }
    http_client_stats(x.cl, &st);
    tctx_finish(&x);
    tctx_run(&x);
    rss1 = max_rss_kib();
    check_upload(&t, BIG_SIZE);
    fprintf(stderr, "# upload 64 MiB: %d producer calls, client write buffers "
            "peak %zu KiB, max RSS %ld KiB (at start %ld KiB)\n",
            t.prod_calls, st.out_bytes_peak / 1024, rss1, rss0);
    /* The head and at most HTTP_CLIENT_OUT_SLABS body pieces in flight. */
    CHECK(st.out_bytes_peak <= (HTTP_CLIENT_OUT_SLABS + 1) * HTTP_CLIENT_SLAB_SIZE);
    CHECK_EQ_INT(st.out_bytes, 0);
    CHECK(st.spare_bytes <= HTTP_CLIENT_OUT_SLABS * HTTP_CLIENT_SLAB_SIZE);
#ifndef ASAN_BUILD
    CHECK(rss1 - rss0 < 16 * 1024);          /* nowhere near 64 MiB */
#endif
}

/* An asynchronous producer, as the pusher reading chunk files: each 256 KiB
 * is "read" on the thread pool; meanwhile the producer says GW_AGAIN (with
 * the last bytes of the previous buffer, or with none) and the work's
 * completion resumes the request. Length unknown: chunked. */
#define ABUF_SIZE  (256 * 1024)

static void
async_work(uv_work_t *w)
{
    tcall_t  *t = w->data;
    size_t    n = (size_t) GW_MIN((uint64_t) ABUF_SIZE, t->total - t->filled);

    pattern_fill(&t->state, t->abuf, n);
    t->a_pos = 0;
    t->a_len = n;
    t->filled += n;
}

static void
async_after(uv_work_t *w, int status)
{
    tcall_t  *t = w->data;

    t->work_pending = 0;
    if (t->r != NULL) {
        http_client_resume(t->r);
    }
}

static void
async_start(tcall_t *t)
{
    if (!t->work_pending) {
        t->work_pending = 1;
        t->work.data = t;
        CHECK_EQ_INT(uv_queue_work(&t->x->loop, &t->work, async_work,
                                   async_after), 0);
    }
}

static int
t_produce_async(http_client_req_t *r, char *buf, size_t cap, size_t *len)
{
    tcall_t  *t = http_client_req_data(r);
    size_t    n;

    t->prod_calls++;
    *len = 0;
    CHECK(!t->work_pending);                 /* never asked while paused */
    if (t->a_pos < t->a_len) {
        n = GW_MIN(cap, t->a_len - t->a_pos);
        memcpy(buf, t->abuf + t->a_pos, n);
        gw_cksum_update(&t->prod_sum, buf, n);
        t->a_pos += n;
        t->produced += n;
        *len = n;
        if (t->a_pos < t->a_len) {
            return GW_OK;
        }
        if (t->filled == t->total) {
            return GW_DONE;
        }
        async_start(t);                      /* read ahead; these bytes go */
        t->agains++;
        return GW_AGAIN;
    }
    if (t->filled == t->total) {
        return GW_DONE;
    }
    async_start(t);
    t->agains++;
    return GW_AGAIN;
}

TEST(client_upload_async_producer)
{
    http_client_opts_t   o = { 0 };
    http_client_stats_t  st;
    tctx_t               x;
    tcall_t              t;
    char                 n[32];

    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    t.abuf = gw_alloc(ABUF_SIZE);
    t.state = 7;
    t_submit(&x, &t, "PUT", "/upload", HTTP_CLIENT_CHUNKED, NULL, 0,
             t_produce_async, NULL);
    t.total = BIG_SIZE;
    x.manual = 1;
    while (!t.done) {
        uv_run(&x.loop, UV_RUN_ONCE);
    }
    http_client_stats(x.cl, &st);
    tctx_finish(&x);
    tctx_run(&x);
    gw_free(t.abuf);
    CHECK_EQ_INT(t.rc, 0);
    CHECK_EQ_INT(t.status, 200);
    snprintf(n, sizeof(n), "%llu", (unsigned long long) BIG_SIZE);
    CHECK_EQ_STR(t.x_bytes, n);
    CHECK_EQ_STR(t.x_sha, t.prod_sha);
    CHECK(t.agains >= (int) (BIG_SIZE / ABUF_SIZE));
    fprintf(stderr, "# async chunked upload 64 MiB: %d producer calls, %d "
            "GW_AGAIN, client write buffers peak %zu KiB\n", t.prod_calls,
            t.agains, st.out_bytes_peak / 1024);
    CHECK(st.out_bytes_peak <= (HTTP_CLIENT_OUT_SLABS + 1) * HTTP_CLIENT_SLAB_SIZE);
}

/* 64 MiB down to a consumer that pauses on every 4th piece for 1 ms: it is
 * never called while paused, the server is held back meanwhile (its bytes
 * ahead of the consumer stay bounded by the socket buffers), and every byte
 * arrives. */
static void
pause_resume_cb(uv_timer_t *tm)
{
    tcall_t  *t = tm->data;

    t->paused = 0;
    if (t->r != NULL) {
        http_client_resume(t->r);
    }
}

static int
t_body_pausing(http_client_req_t *r, const char *at, size_t len)
{
    tcall_t  *t = http_client_req_data(r);
    uint64_t  ahead;

    CHECK(!t->paused);
    gw_cksum_update(&t->body_sum, at, len);
    t->body_bytes += len;
    if (++t->calls % t->pause_every == 0) {
        t->paused = 1;
        t->pauses++;
        ahead = __atomic_load_n(t->sent, __ATOMIC_RELAXED) - t->body_bytes;
        t->ahead_max = GW_MAX(t->ahead_max, ahead);
        uv_timer_start(&t->timer, pause_resume_cb, 1, 0);
        return GW_AGAIN;
    }
    return GW_OK;
}

TEST(client_download_64m_paused)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t;
    long                rss0 = max_rss_kib(), rss1;

    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    uv_timer_init(&x.loop, &t.timer);
    t.timer.data = &t;
    t.timer_on = 1;
    t.pause_every = 4;
    t.sent = &x.ts.big_sent;
    t_submit(&x, &t, "GET", "/big", 0, NULL, 0, NULL, t_body_pausing);
    tctx_run(&x);
    rss1 = max_rss_kib();
    CHECK_EQ_INT(t.rc, 0);
    CHECK_EQ_INT(t.status, 200);
    CHECK_EQ_INT(t.body_bytes, BIG_SIZE);
    CHECK_EQ_STR(t.body_sha, x.ts.big_sha);
    fprintf(stderr, "# download 64 MiB: %d body calls, %d pauses, server "
            "ahead of the consumer at most %llu KiB, server write queue max "
            "%zu KiB, max RSS %ld KiB (at start %ld KiB)\n", t.calls,
            t.pauses, (unsigned long long) t.ahead_max / 1024,
            x.ts.big_queue_max / 1024, rss1, rss0);
    CHECK(t.pauses > 100);
    /* Kernel buffers both ways and the server's queue; not the object. */
    CHECK(t.ahead_max < 32 * MIB);
#ifndef ASAN_BUILD
    CHECK(rss1 - rss0 < 16 * 1024);
#endif
}

TEST(client_server_closes_mid_response)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t;

    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    t_submit(&x, &t, "GET", "/midclose", 0, NULL, 0, NULL, NULL);
    tctx_run(&x);
    CHECK_EQ_INT(t.rc, UV_EOF);
    CHECK_EQ_INT(t.status, 200);
    CHECK_EQ_INT(t.body_bytes, 1000);
    CHECK(strstr(t.err, "mid-response") != NULL);
}

TEST(client_connect_refused)
{
    http_client_opts_t   o = { 0 };
    http_client_stats_t  st;
    struct sockaddr_in   sa;
    socklen_t            sl = sizeof(sa);
    tctx_t               x;
    tcall_t             t[3];
    char                want[64];
    int                 fd, i;

    /* A bound socket that does not listen: connecting to it is refused,
     * and nobody else can take the port meanwhile. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ_INT(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
    CHECK_EQ_INT(getsockname(fd, (struct sockaddr *) &sa, &sl), 0);
    o.port = ntohs(sa.sin_port);
    o.max_connections = 1;
    tctx_init(&x, &o, 0);
    for (i = 0; i < 3; i++) {
        tcall_init(&x, &t[i]);
        t_submit(&x, &t[i], "GET", "/cl", 0, NULL, 0, NULL, NULL);
    }
    x.manual = 1;
    while (x.pending > 0) {
        uv_run(&x.loop, UV_RUN_ONCE);
    }
    http_client_stats(x.cl, &st);
    CHECK_EQ_INT(st.connects, 1);
    CHECK_EQ_INT(st.connections, 0);
    CHECK_EQ_INT(st.queued, 0);
    tctx_finish(&x);
    tctx_run(&x);
    close(fd);
    snprintf(want, sizeof(want), "connect to 127.0.0.1:%d failed", o.port);
    for (i = 0; i < 3; i++) {
        /* one connection attempt failed, and with no connection left,
         * every waiting request with it */
        CHECK_EQ_INT(t[i].rc, UV_ECONNREFUSED);
        CHECK(strstr(t[i].err, want) != NULL);
        CHECK_EQ_INT(t[i].status, 0);
    }
}

TEST(client_response_timeout)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t;

    o.response_timeout_ms = 200;
    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    t_submit(&x, &t, "GET", "/never", 0, NULL, 0, NULL, NULL);
    tctx_run(&x);
    CHECK_EQ_INT(t.rc, UV_ETIMEDOUT);
    CHECK(t.t_done - t.t_start >= 190);
    CHECK(t.t_done - t.t_start < 5000);
    CHECK(strstr(t.err, "sent nothing for 200 ms") != NULL);
}

/* HEAD: the Content-Length is reported, no body is read, and the next
 * response on the same connection parses from its first byte. */
static void
head_next(tcall_t *t)
{
    t_submit(t->x, t->x->calls[1], "GET", "/cl", 0, NULL, 0, NULL, NULL);
}

TEST(client_head)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t[2];

    tctx_init(&x, &o, 1);
    tcall_init(&x, &t[0]);
    tcall_init(&x, &t[1]);
    t[0].then = head_next;
    t_submit(&x, &t[0], "HEAD", "/head", 0, NULL, 0, NULL, NULL);
    tctx_run(&x);
    CHECK_EQ_INT(t[0].rc, 0);
    CHECK_EQ_INT(t[0].status, 200);
    CHECK_EQ_INT(t[0].content_length, 1000);
    CHECK_EQ_INT(t[0].body_bytes, 0);
    CHECK_EQ_STR(t[0].etag, "\"abc\"");
    CHECK_EQ_INT(t[1].rc, 0);
    CHECK_EQ_STR(t[1].body, "hello world");
    CHECK_EQ_INT(x.ts.accepted, 1);
}

/* Expect: 100-continue and a final 403 first: the body is never produced
 * nor sent, and the answer is the 403. */
TEST(client_expect_continue_rejected)
{
    http_client_opts_t  o = { 0 };
    gw_kv_t             h[] = {
        { gw_str_lit("Expect"), gw_str_lit("100-continue") },
    };
    tctx_t              x;
    tcall_t             t;

    o.continue_timeout_ms = 2000;
    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    t_submit(&x, &t, "PUT", "/reject", MIB, h, 1, t_produce, NULL);
    tctx_run(&x);
    CHECK_EQ_INT(t.rc, 0);
    CHECK_EQ_INT(t.status, 403);
    CHECK_EQ_STR(t.body, "denied");
    CHECK_EQ_INT(t.prod_calls, 0);
    CHECK_EQ_INT(x.ts.body_bytes, 0);
    CHECK(t.t_done - t.t_start < 1500);       /* did not wait out the clock */
}

/* Expect: 100-continue answered after 100 ms: no body byte before the 100,
 * then all of it. */
TEST(client_expect_continue_accepted)
{
    http_client_opts_t  o = { 0 };
    gw_kv_t             h[] = {
        { gw_str_lit("expect"), gw_str_lit("100-Continue") },
    };
    tctx_t              x;
    tcall_t             t;

    o.continue_timeout_ms = 5000;
    tctx_init(&x, &o, 1);
    x.ts.continue_delay_ms = 100;
    tcall_init(&x, &t);
    t_submit(&x, &t, "PUT", "/upload", 3 * MIB + 5, h, 1, t_produce, NULL);
    tctx_run(&x);
    check_upload(&t, 3 * MIB + 5);
    CHECK_EQ_INT(x.ts.body_before_continue, 0);
    CHECK(t.t_done - t.t_start >= 90);
    CHECK(t.t_done - t.t_start < 4000);
}

/* A server that ignores Expect: the body goes after continue_timeout_ms. */
TEST(client_expect_continue_timeout)
{
    http_client_opts_t  o = { 0 };
    gw_kv_t             h[] = {
        { gw_str_lit("Expect"), gw_str_lit("100-continue") },
    };
    tctx_t              x;
    tcall_t             t;

    o.continue_timeout_ms = 150;
    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    t_submit(&x, &t, "PUT", "/upload?no100", 100000, h, 1, t_produce, NULL);
    tctx_run(&x);
    check_upload(&t, 100000);
    CHECK(t.t_done - t.t_start >= 140);
}

/* The server drops every connection at its second request, unanswered (a
 * keep-alive connection it closed just as our request went out):
 *   1 GET  on A (A's first)                          -> 200
 *   2 GET  on A (A's second): dropped, re-sent on B  -> 200, one retry
 *   3 PUT  with a body on B (B's second): dropped; the body was taken from
 *          the producer, so no retry                 -> the error
 *   4 GET  on C (fresh)                              -> 200
 *   5 PUT  with Expect: 100-continue on C: dropped before the 100, so the
 *          producer was never asked; re-sent on D    -> 200, two retries */
static void
retry_next(tcall_t *t)
{
    tctx_t   *x = t->x;
    tcall_t  *c = x->calls[0];
    int       i = (int) (t - c);
    static gw_kv_t  h[] = {
        { gw_str_lit("Expect"), gw_str_lit("100-continue") },
    };

    switch (i) {
    case 0:
        t_submit(x, &c[1], "GET", "/cl", 0, NULL, 0, NULL, NULL);
        break;
    case 1:
        t_submit(x, &c[2], "PUT", "/upload", 10, NULL, 0, t_produce, NULL);
        break;
    case 2:
        t_submit(x, &c[3], "GET", "/cl", 0, NULL, 0, NULL, NULL);
        break;
    case 3:
        t_submit(x, &c[4], "PUT", "/upload", 10, h, 1, t_produce, NULL);
        break;
    }
}

TEST(client_retry_stale_keepalive)
{
    http_client_opts_t   o = { 0 };
    http_client_stats_t  st;
    tctx_t               x;
    tcall_t              t[5];
    int                  i;

    o.max_connections = 1;
    o.continue_timeout_ms = 3000;
    tctx_init(&x, &o, 1);
    x.ts.drop_second = 1;
    for (i = 0; i < 5; i++) {
        tcall_init(&x, &t[i]);
        t[i].then = retry_next;
    }
    t_submit(&x, &t[0], "GET", "/cl", 0, NULL, 0, NULL, NULL);
    x.manual = 1;
    while (!t[4].done) {
        uv_run(&x.loop, UV_RUN_ONCE);
    }
    http_client_stats(x.cl, &st);
    tctx_finish(&x);
    tctx_run(&x);
    CHECK_EQ_INT(t[0].rc, 0);
    CHECK_EQ_INT(t[1].rc, 0);
    CHECK_EQ_STR(t[1].body, "hello world");
    CHECK(t[2].rc == UV_EOF || t[2].rc == UV_ECONNRESET || t[2].rc == UV_EPIPE);
    CHECK(t[2].prod_calls > 0);
    CHECK_EQ_INT(t[3].rc, 0);
    check_upload(&t[4], 10);
    CHECK_EQ_INT(t[4].prod_calls, 1);
    CHECK_EQ_INT(st.retries, 2);
    CHECK_EQ_INT(x.ts.accepted, 4);
}

/* http_client_cancel on a queued request, then http_client_close with one
 * request on the wire and one queued: everyone hears UV_ECANCELED, every
 * handle closes. */
static tcall_t  *close_calls;

static void
close_timer_cb(uv_timer_t *tm)
{
    tctx_t  *x = tm->data;

    uv_close((uv_handle_t *) tm, NULL);
    CHECK(!close_calls[0].done && !close_calls[1].done);
    tctx_finish(x);
    CHECK(close_calls[0].done && close_calls[1].done);
}

TEST(client_cancel_and_close)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t[3];
    uv_timer_t          tm;
    int                 i;

    o.max_connections = 1;
    tctx_init(&x, &o, 1);
    for (i = 0; i < 3; i++) {
        tcall_init(&x, &t[i]);
        t_submit(&x, &t[i], "GET", "/never", 0, NULL, 0, NULL, NULL);
    }
    close_calls = t;
    x.manual = 1;
    http_client_cancel(t[2].r);
    CHECK(t[2].done);
    CHECK_EQ_INT(t[2].rc, UV_ECANCELED);
    uv_timer_init(&x.loop, &tm);
    tm.data = &x;
    uv_timer_start(&tm, close_timer_cb, 100, 0);
    tctx_run(&x);
    CHECK_EQ_INT(t[0].rc, UV_ECANCELED);
    CHECK_EQ_INT(t[1].rc, UV_ECANCELED);
    CHECK_EQ_INT(x.ts.accepted, 1);
    CHECK_EQ_INT(x.ts.requests, 1);
}

/* A name, resolved on the thread pool ("localhost" may give ::1 first,
 * where nobody listens: the next address is tried). */
TEST(client_resolve_localhost)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t;

    o.host = "localhost";
    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    t_submit(&x, &t, "GET", "/cl", 0, NULL, 0, NULL, NULL);
    tctx_run(&x);
    CHECK_EQ_INT(t.rc, 0);
    CHECK_EQ_STR(t.body, "hello world");
}

static void
noop_done(http_client_req_t *r, int rc)
{
}

TEST(client_refuses_bad_input)
{
    http_client_opts_t      o = { 0 };
    http_client_req_opts_t  ro = { 0 };
    http_client_t          *cl;
    uv_loop_t               loop;
    char                    err[256];
    gw_kv_t                 h[1];

    CHECK_EQ_INT(uv_loop_init(&loop), 0);
    o.host = "127.0.0.1";
    o.scheme = "ftp";
    CHECK_EQ_INT(http_client_create(&loop, &o, &cl, err, sizeof(err)), GW_EINVAL);
    CHECK(strstr(err, "scheme") != NULL);
    o.scheme = "https";
    o.ca_file = "/nonexistent/ca.pem";
    CHECK_EQ_INT(http_client_create(&loop, &o, &cl, err, sizeof(err)), GW_EINVAL);
    CHECK(strstr(err, "/nonexistent/ca.pem") != NULL);
    o.ca_file = NULL;
    o.host = "bad host";
    CHECK_EQ_INT(http_client_create(&loop, &o, &cl, err, sizeof(err)), GW_EINVAL);
    o.host = "127.0.0.1";
    o.scheme = "http";
    o.port = 70000;
    CHECK_EQ_INT(http_client_create(&loop, &o, &cl, err, sizeof(err)), GW_EINVAL);
    o.port = 9;
    CHECK_EQ_INT(http_client_create(&loop, &o, &cl, err, sizeof(err)), GW_OK);

    ro.method = "GET";
    ro.target = "/a b";
    ro.on_done = noop_done;
    CHECK_EQ_INT(http_client_request(cl, &ro, NULL), GW_EINVAL);
    ro.target = "/a\r\nX: y";
    CHECK_EQ_INT(http_client_request(cl, &ro, NULL), GW_EINVAL);
    ro.target = "/ok";
    ro.method = "GE T";
    CHECK_EQ_INT(http_client_request(cl, &ro, NULL), GW_EINVAL);
    ro.method = "PUT";
    ro.content_length = 5;                    /* a body and no producer */
    CHECK_EQ_INT(http_client_request(cl, &ro, NULL), GW_EINVAL);
    ro.content_length = 0;
    ro.headers = h;
    ro.nheaders = 1;
    h[0].name = gw_str_lit("X-Evil");
    h[0].value = gw_str_lit("a\r\nHost: b");
    CHECK_EQ_INT(http_client_request(cl, &ro, NULL), GW_EINVAL);
    h[0].name = gw_str_lit("Content-Length");
    h[0].value = gw_str_lit("0");
    CHECK_EQ_INT(http_client_request(cl, &ro, NULL), GW_EINVAL);
    h[0].name = gw_str_lit("transfer-encoding");
    h[0].value = gw_str_lit("chunked");
    CHECK_EQ_INT(http_client_request(cl, &ro, NULL), GW_EINVAL);
    h[0].name = gw_str_lit("Bad Name");
    h[0].value = gw_str_lit("v");
    CHECK_EQ_INT(http_client_request(cl, &ro, NULL), GW_EINVAL);
    {
        static char  big[HTTP_CLIENT_MAX_REQ_HEAD];

        memset(big, 'v', sizeof(big) - 1);
        h[0].name = gw_str_lit("X-Big");
        h[0].value.base = big;
        h[0].value.len = sizeof(big) - 1;
        CHECK_EQ_INT(http_client_request(cl, &ro, NULL), GW_ETOOBIG);
    }
    http_client_close(cl);
    CHECK_EQ_INT(uv_run(&loop, UV_RUN_DEFAULT), 0);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    LEAK_CHECK();
}

/* The parser entry point of the fuzz target, on a few shapes: all at once,
 * a byte at a time with the consumer pausing, HEAD, interim responses. */
TEST(client_parse_response)
{
    static const char  cl[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                              "ETag: x\r\n\r\nhello";
    static const char  ch[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                              "\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    static const char  co[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 "
                              "Processing\r\n\r\nHTTP/1.1 201 Created\r\n"
                              "Content-Length: 0\r\n\r\n";
    static const char  eof[] = "HTTP/1.1 200 OK\r\n\r\nuntil the close";
    static const char  bad[] = "HTTP/1.1 2x0 OK\r\n\r\n";
    static const char  cut[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab";
    static const char  extra[] = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200";
    static const char  sw[] = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
    http_client_parse_result_t  a, b;
    size_t                      s;

    for (s = 0; s < 3; s++) {
        CHECK_EQ_INT(http_client_parse_response(cl, sizeof(cl) - 1,
                                                s ? HTTP_CLIENT_PARSE_PAUSE : 0,
                                                s, &a), 0);
        CHECK(a.complete && a.keepalive && a.status == 200);
        CHECK_EQ_INT(a.body_bytes, 5);
        CHECK_EQ_INT(a.nheaders, 2);
        CHECK_EQ_INT(http_client_parse_response(ch, sizeof(ch) - 1,
                                                HTTP_CLIENT_PARSE_PAUSE, s,
                                                &b), 0);
        CHECK(b.complete && b.keepalive);
        CHECK_EQ_INT(b.body_bytes, 5);
        CHECK(a.body_hash != b.body_hash);
    }
    CHECK_EQ_INT(http_client_parse_response(cl, sizeof(cl) - 1,
                                            HTTP_CLIENT_PARSE_HEAD, 0, &a), 0);
    CHECK(a.complete && a.body_bytes == 0 && a.leftover == 5 && !a.keepalive);
    CHECK_EQ_INT(http_client_parse_response(co, sizeof(co) - 1,
                                            HTTP_CLIENT_PARSE_EXPECT, 1, &a), 0);
    CHECK(a.complete && a.status == 201 && a.got_continue && a.keepalive);
    CHECK_EQ_INT(http_client_parse_response(eof, sizeof(eof) - 1, 0, 7, &a), 0);
    CHECK(a.complete && !a.keepalive && a.body_bytes == 15);
    CHECK_EQ_INT(http_client_parse_response(bad, sizeof(bad) - 1, 0, 0, &a),
                 UV_EPROTO);
    CHECK_EQ_INT(http_client_parse_response(cut, sizeof(cut) - 1, 0, 0, &a),
                 UV_EOF);
    CHECK(!a.complete && a.body_bytes == 2);
    CHECK_EQ_INT(http_client_parse_response(extra, sizeof(extra) - 1, 0, 0, &a),
                 0);
    CHECK(a.complete && a.status == 204 && a.leftover == 12 && !a.keepalive);
    CHECK_EQ_INT(http_client_parse_response(sw, sizeof(sw) - 1, 0, 0, &a),
                 UV_EPROTO);
    CHECK_EQ_INT(http_client_parse_response("", 0, 0, 0, &a), UV_EOF);
    LEAK_CHECK();
}

/* A final status while the body is still going out (no Expect): the body
 * stops there, the answer is the status, and the connection is not reused. */
TEST(client_early_response_stops_body)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t;

    tctx_init(&x, &o, 1);
    tcall_init(&x, &t);
    t_submit(&x, &t, "PUT", "/reject-now", (int64_t) BIG_SIZE, NULL, 0,
             t_produce, NULL);
    tctx_run(&x);
    CHECK_EQ_INT(t.rc, 0);
    CHECK_EQ_INT(t.status, 403);
    CHECK_EQ_STR(t.body, "denied");
    CHECK(t.produced < BIG_SIZE);
    fprintf(stderr, "# early 403: the producer gave %llu KiB of 64 MiB\n",
            (unsigned long long) t.produced / 1024);
}

/* Producers and consumers that break the contract or fail: the request
 * ends with the code they gave (or GW_EINVAL), nothing else does. */
static int
t_produce_short(http_client_req_t *r, char *buf, size_t cap, size_t *len)
{
    tcall_t  *t = http_client_req_data(r);

    t->prod_calls++;
    memset(buf, 's', 10);
    *len = 10;
    return GW_DONE;                          /* 90 bytes short */
}

static int
t_produce_fail(http_client_req_t *r, char *buf, size_t cap, size_t *len)
{
    *len = 0;
    return GW_ECHECKSUM;
}

static int
t_produce_nothing(http_client_req_t *r, char *buf, size_t cap, size_t *len)
{
    *len = 0;
    return GW_OK;
}

TEST(client_producer_contract)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t[6];
    int                 i;

    o.max_connections = 6;
    tctx_init(&x, &o, 1);
    for (i = 0; i < 6; i++) {
        tcall_init(&x, &t[i]);
    }
    t_submit(&x, &t[0], "PUT", "/upload", 100, NULL, 0, t_produce_short, NULL);
    t_submit(&x, &t[1], "PUT", "/upload", 100, NULL, 0, t_produce_fail, NULL);
    t_submit(&x, &t[2], "PUT", "/upload", HTTP_CLIENT_CHUNKED, NULL, 0,
             t_produce_nothing, NULL);
    t[3].body_rc = GW_ETOOBIG;
    t_submit(&x, &t[3], "GET", "/cl", 0, NULL, 0, NULL, NULL);
    t[4].resp_rc = GW_EPRECOND;
    t_submit(&x, &t[4], "GET", "/cl", 0, NULL, 0, NULL, NULL);
    t_submit(&x, &t[5], "PUT", "/upload", 0, NULL, 0, NULL, NULL);
    tctx_run(&x);
    CHECK_EQ_INT(t[0].rc, GW_EINVAL);
    CHECK(strstr(t[0].err, "90 bytes short of the Content-Length") != NULL);
    CHECK_EQ_INT(t[1].rc, GW_ECHECKSUM);
    CHECK(strstr(t[1].err, "producer failed") != NULL);
    CHECK_EQ_INT(t[2].rc, GW_EINVAL);
    CHECK_EQ_INT(t[3].rc, GW_ETOOBIG);
    CHECK_EQ_INT(t[3].status, 200);
    CHECK_EQ_INT(t[4].rc, GW_EPRECOND);
    CHECK_EQ_INT(t[4].resp_calls, 1);
    CHECK_EQ_INT(t[4].body_bytes, 0);
    /* an empty PUT still says Content-Length: 0 */
    CHECK_EQ_INT(t[5].rc, 0);
    CHECK_EQ_STR(t[5].x_bytes, "0");
}

/* A producer and a consumer that call http_client_resume from inside their
 * own callback and then return GW_AGAIN ("the next bytes are already
 * there"): the request must go on, not stall. A watchdog fails the test
 * instead of letting a stall run into the runner's timeout. */
static int
t_produce_eager(http_client_req_t *r, char *buf, size_t cap, size_t *len)
{
    int  rc = t_produce(r, buf, GW_MIN(cap, (size_t) 1000), len);

    if (rc == GW_OK) {
        http_client_resume(r);
        return GW_AGAIN;
    }
    return rc;
}

static int
t_body_eager(http_client_req_t *r, const char *at, size_t len)
{
    t_body(r, at, len);
    http_client_resume(r);
    return GW_AGAIN;
}

static void
watchdog_cb(uv_timer_t *tm)
{
    fprintf(stderr, "# the requests stalled\n");
    CHECK(0);
}

TEST(client_resume_inside_callbacks)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;
    tcall_t             t[2];

    tctx_init(&x, &o, 1);
    tcall_init(&x, &t[0]);
    tcall_init(&x, &t[1]);
    uv_timer_init(&x.loop, &x.dog);
    uv_timer_start(&x.dog, watchdog_cb, 5000, 0);
    x.dog_on = 1;
    t_submit(&x, &t[0], "PUT", "/upload", 200000, NULL, 0, t_produce_eager,
             NULL);
    t_submit(&x, &t[1], "GET", "/chunked", 0, NULL, 0, NULL, t_body_eager);
    tctx_run(&x);
    check_upload(&t[0], 200000);
    CHECK_EQ_INT(t[0].prod_calls, 200);
    CHECK_EQ_INT(t[1].rc, 0);
    CHECK_EQ_STR(t[1].body, "hello world");
}

/* ==== TLS ==== */

typedef struct {
    int           lfd, port;
    SSL_CTX      *ctx;
    pthread_t     th;
    int           ok, failed;           /* handshakes */
    char          sni[128];
    uint64_t      big_n;
    uint64_t      big_sent;             /* atomic: read by the test thread */
    char          big_sha[65];
} tls_srv_t;

typedef struct {
    EVP_PKEY     *key;
    X509         *cert;
    char          path[64];             /* the certificate, PEM: the CA file */
} tls_cert_t;

static void
tls_cert_add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX       v3;
    X509_EXTENSION  *ext;

    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value);
    CHECK(ext != NULL);
    CHECK_EQ_INT(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/* A self-signed P-256 certificate for localhost and 127.0.0.1, written to
 * a temporary PEM file that serves as the client's CA file. */
static void
tls_cert_make(tls_cert_t *c)
{
    X509_NAME  *name;
    FILE       *fp;
    int         fd;

    c->key = EVP_EC_gen("P-256");
    CHECK(c->key != NULL);
    c->cert = X509_new();
    CHECK(c->cert != NULL);
    CHECK_EQ_INT(X509_set_version(c->cert, 2), 1);
    CHECK_EQ_INT(ASN1_INTEGER_set(X509_get_serialNumber(c->cert), 4242), 1);
    CHECK(X509_gmtime_adj(X509_getm_notBefore(c->cert), -3600) != NULL);
    CHECK(X509_gmtime_adj(X509_getm_notAfter(c->cert), 86400) != NULL);
    CHECK_EQ_INT(X509_set_pubkey(c->cert, c->key), 1);
    name = X509_get_subject_name(c->cert);
    CHECK_EQ_INT(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                            (const unsigned char *) "localhost",
                                            -1, -1, 0), 1);
    CHECK_EQ_INT(X509_set_issuer_name(c->cert, name), 1);
    tls_cert_add_ext(c->cert, NID_basic_constraints, "critical,CA:TRUE");
    tls_cert_add_ext(c->cert, NID_subject_key_identifier, "hash");
    tls_cert_add_ext(c->cert, NID_subject_alt_name,
                     "DNS:localhost,IP:127.0.0.1");
    CHECK(X509_sign(c->cert, c->key, EVP_sha256()) > 0);
    snprintf(c->path, sizeof(c->path), "/tmp/s3gw-test-ca-XXXXXX");
    fd = mkstemp(c->path);
    CHECK(fd >= 0);
    fp = fdopen(fd, "w");
    CHECK(fp != NULL);
    CHECK_EQ_INT(PEM_write_X509(fp, c->cert), 1);
    fclose(fp);
}

static void
tls_cert_free(tls_cert_t *c)
{
    unlink(c->path);
    X509_free(c->cert);
    EVP_PKEY_free(c->key);
}

/* Reads until the end of a request head; returns its length (with the
 * blank line) and leaves *have bytes in buf, or 0 at EOF. */
static size_t
tls_read_head(SSL *ssl, char *buf, size_t cap, size_t *have)
{
    char  *end;
    int    n;

    for ( ;; ) {
        buf[*have] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            return (size_t) (end - buf) + 4;
        }
        if (*have + 1 >= cap) {
            return 0;
        }
        n = SSL_read(ssl, buf + *have, (int) (cap - 1 - *have));
        if (n <= 0) {
            return 0;
        }
        *have += (size_t) n;
    }
}

static void
tls_write_all(SSL *ssl, const char *p, size_t n)
{
    int  w;

    while (n > 0) {
        w = SSL_write(ssl, p, (int) GW_MIN(n, (size_t) 16384));
        if (w <= 0) {
            return;
        }
        p += w;
        n -= (size_t) w;
    }
}

/* One connection: requests until the client closes. GET /hello, PUT
 * /upload (Content-Length body, answered with its size and SHA-256), GET
 * /big?n=N (N pattern bytes). */
static void
tls_serve(tls_srv_t *s, SSL *ssl)
{
    char            buf[16384], out[512], hex[65], body[16384];
    size_t          have = 0, hlen, take, bn;
    uint64_t        clen, got, n, state;
    const char     *v;
    gw_cksum_t      sum;
    int             k;

    for ( ;; ) {
        hlen = tls_read_head(ssl, buf, sizeof(buf), &have);
        if (hlen == 0) {
            return;
        }
        v = strcasestr(buf, "\r\ncontent-length:");
        clen = v != NULL && v < buf + hlen ? strtoull(v + 17, NULL, 10) : 0;
        CHECK_EQ_INT(gw_cksum_init(&sum, GW_CK_SHA256), GW_OK);
        take = (size_t) GW_MIN((uint64_t) (have - hlen), clen);
        gw_cksum_update(&sum, buf + hlen, take);
        got = take;
        while (got < clen) {
            k = SSL_read(ssl, body, (int) GW_MIN(clen - got, (uint64_t) sizeof(body)));
            if (k <= 0) {
                gw_cksum_free(&sum);
                return;
            }
            gw_cksum_update(&sum, body, (size_t) k);
            got += (size_t) k;
        }
        if (strncmp(buf, "GET /hello ", 11) == 0) {
            k = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\n"
                         "Content-Length: 9\r\n\r\nhello tls");
            tls_write_all(ssl, out, (size_t) k);
        } else if (strncmp(buf, "PUT /upload ", 12) == 0) {
            sha_hex(&sum, hex);
            k = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\n"
                         "Content-Length: 0\r\nx-bytes: %llu\r\n"
                         "x-sha256: %s\r\n\r\n", (unsigned long long) got, hex);
            tls_write_all(ssl, out, (size_t) k);
        } else if (strncmp(buf, "GET /big?n=", 11) == 0) {
            n = strtoull(buf + 11, NULL, 10);
            k = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\n"
                         "Content-Length: %llu\r\n\r\n", (unsigned long long) n);
            tls_write_all(ssl, out, (size_t) k);
            gw_cksum_free(&sum);
            CHECK_EQ_INT(gw_cksum_init(&sum, GW_CK_SHA256), GW_OK);
            state = 99;
            s->big_n = n;
            while (n > 0) {
                bn = (size_t) GW_MIN(n, (uint64_t) sizeof(body));
                pattern_fill(&state, body, bn);
                gw_cksum_update(&sum, body, bn);
                tls_write_all(ssl, body, bn);
                __atomic_add_fetch(&s->big_sent, bn, __ATOMIC_RELAXED);
                n -= bn;
            }
            sha_hex(&sum, s->big_sha);
        } else {
            k = snprintf(out, sizeof(out), "HTTP/1.1 404 Not Found\r\n"
                         "Content-Length: 0\r\n\r\n");
            tls_write_all(ssl, out, (size_t) k);
        }
        gw_cksum_free(&sum);
        memmove(buf, buf + hlen + take, have - hlen - take);
        have -= hlen + take;
    }
}

static void *
tls_srv_main(void *arg)
{
    tls_srv_t       *s = arg;
    struct timeval   tv = { 10, 0 };
    const char      *sni;
    SSL             *ssl;
    int              fd;

    for ( ;; ) {
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) {
            break;                      /* shut down by the test */
        }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        ssl = SSL_new(s->ctx);
        CHECK(ssl != NULL);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) {
            s->failed++;
        } else {
            s->ok++;
            sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
            snprintf(s->sni, sizeof(s->sni), "%s", sni ? sni : "");
            tls_serve(s, ssl);
        }
        SSL_free(ssl);
        close(fd);
        ERR_clear_error();
    }
    return NULL;
}

static void
tls_srv_start(tls_srv_t *s, tls_cert_t *c)
{
    struct sockaddr_in  sa;
    socklen_t           sl = sizeof(sa);
    int                 one = 1;

    memset(s, 0, sizeof(*s));
    s->ctx = SSL_CTX_new(TLS_server_method());
    CHECK(s->ctx != NULL);
    CHECK_EQ_INT(SSL_CTX_use_certificate(s->ctx, c->cert), 1);
    CHECK_EQ_INT(SSL_CTX_use_PrivateKey(s->ctx, c->key), 1);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s->lfd >= 0);
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ_INT(bind(s->lfd, (struct sockaddr *) &sa, sizeof(sa)), 0);
    CHECK_EQ_INT(listen(s->lfd, 16), 0);
    CHECK_EQ_INT(getsockname(s->lfd, (struct sockaddr *) &sa, &sl), 0);
    s->port = ntohs(sa.sin_port);
    CHECK_EQ_INT(pthread_create(&s->th, NULL, tls_srv_main, s), 0);
}

static void
tls_srv_stop(tls_srv_t *s)
{
    shutdown(s->lfd, SHUT_RDWR);        /* wakes the accept */
    CHECK_EQ_INT(pthread_join(s->th, NULL), 0);
    close(s->lfd);
    SSL_CTX_free(s->ctx);
}

/* One GET /hello over https with these options; returns the call. */
static void
tls_get(tls_srv_t *s, tls_cert_t *c, const char *host, const char *ca,
        const char *server_name, int no_verify, tcall_t *t)
{
    http_client_opts_t  o = { 0 };
    tctx_t              x;

    o.scheme = "https";
    o.host = host;
    o.port = s->port;
    o.ca_file = ca;
    o.tls_server_name = server_name;
    o.tls_no_verify = no_verify;
    tctx_init(&x, &o, 0);
    tcall_init(&x, t);
    t_submit(&x, t, "GET", "/hello", 0, NULL, 0, NULL, NULL);
    tctx_run(&x);
}

TEST(client_tls_verify_fails_without_ca)
{
    tls_cert_t  c;
    tls_srv_t   s;
    tcall_t     t;

    tls_cert_make(&c);
    tls_srv_start(&s, &c);
    tls_get(&s, &c, "127.0.0.1", NULL, NULL, 0, &t);   /* the system store */
    tls_srv_stop(&s);
    tls_cert_free(&c);
    LEAK_CHECK();
    CHECK_EQ_INT(t.rc, UV_EPROTO);
    CHECK_EQ_INT(t.verify, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    CHECK(strstr(t.err, "certificate verify failed: self-signed certificate")
          != NULL);
    CHECK_EQ_INT(t.status, 0);
    CHECK_EQ_INT(s.ok, 0);
    CHECK_EQ_INT(s.failed, 1);
}

TEST(client_tls_verify_ok_with_ca)
{
    tls_cert_t  c;
    tls_srv_t   s;
    tcall_t     t1, t2;

    tls_cert_make(&c);
    tls_srv_start(&s, &c);
    /* by IP: checked against the IP SAN, no SNI */
    tls_get(&s, &c, "127.0.0.1", c.path, NULL, 0, &t1);
    CHECK_EQ_STR(s.sni, "");
    /* by name: resolved, SNI sent, checked against the DNS SAN */
    tls_get(&s, &c, "localhost", c.path, NULL, 0, &t2);
    CHECK_EQ_STR(s.sni, "localhost");
    tls_srv_stop(&s);
    tls_cert_free(&c);
    LEAK_CHECK();
    CHECK_EQ_INT(t1.rc, 0);
    CHECK_EQ_INT(t1.status, 200);
    CHECK_EQ_STR(t1.body, "hello tls");
    CHECK_EQ_INT(t1.verify, 0);
    CHECK_EQ_INT(t2.rc, 0);
    CHECK_EQ_STR(t2.body, "hello tls");
    CHECK_EQ_INT(s.ok, 2);
}

TEST(client_tls_hostname_mismatch)
{
    tls_cert_t  c;
    tls_srv_t   s;
    tcall_t     t1, t2;

    tls_cert_make(&c);
    tls_srv_start(&s, &c);
    /* a trusted certificate, but not for the name we expect... */
    tls_get(&s, &c, "127.0.0.1", c.path, "s3.example.com", 0, &t1);
    CHECK_EQ_STR(s.sni, "");            /* never got that far */
    /* ...nor for the address */
    tls_get(&s, &c, "127.0.0.1", c.path, "127.0.0.2", 0, &t2);
    tls_srv_stop(&s);
    tls_cert_free(&c);
    LEAK_CHECK();
    CHECK_EQ_INT(t1.rc, UV_EPROTO);
    CHECK_EQ_INT(t1.verify, X509_V_ERR_HOSTNAME_MISMATCH);
    CHECK(strstr(t1.err, "hostname mismatch") != NULL);
    CHECK_EQ_INT(t2.rc, UV_EPROTO);
    CHECK_EQ_INT(t2.verify, X509_V_ERR_IP_ADDRESS_MISMATCH);
    CHECK(strstr(t2.err, "IP address mismatch") != NULL);
    CHECK_EQ_INT(s.failed, 2);
    CHECK_EQ_INT(s.ok, 0);
}

TEST(client_tls_no_verify)
{
    tls_cert_t  c;
    tls_srv_t   s;
    tcall_t     t;

    tls_cert_make(&c);
    tls_srv_start(&s, &c);
    tls_get(&s, &c, "127.0.0.1", NULL, "s3.example.com", 1, &t);
    tls_srv_stop(&s);
    tls_cert_free(&c);
    LEAK_CHECK();
    CHECK_EQ_INT(t.rc, 0);
    CHECK_EQ_STR(t.body, "hello tls");
    CHECK_EQ_STR(s.sni, "s3.example.com");
}

/* Bodies both ways over TLS on one connection: a 16 MiB upload, then a
 * 64 MiB download to a consumer that pauses on every 3rd piece: while it is
 * paused neither the parser nor the socket moves (the server, a thread
 * writing as fast as it can, stays within the socket buffers of it). */
static void
tls_stream_next(tcall_t *t)
{
    if (t == t->x->calls[0]) {
        t_submit(t->x, t->x->calls[1], "GET", "/big?n=67108864", 0, NULL, 0,
                 NULL, t_body_pausing);
    }
}

TEST(client_tls_streams)
{
    http_client_opts_t   o = { 0 };
    http_client_stats_t  st;
    tls_cert_t           c;
    tls_srv_t            s;
    tctx_t               x;
    tcall_t              up, down;
    long                 rss0 = max_rss_kib(), rss1;

    tls_cert_make(&c);
    tls_srv_start(&s, &c);
    o.scheme = "https";
    o.host = "localhost";
    o.port = s.port;
    o.ca_file = c.path;
    tctx_init(&x, &o, 0);
    tcall_init(&x, &up);
    tcall_init(&x, &down);
    up.then = tls_stream_next;
    up.state = 5;
    uv_timer_init(&x.loop, &down.timer);
    down.timer.data = &down;
    down.timer_on = 1;
    down.pause_every = 3;
    down.sent = &s.big_sent;
    t_submit(&x, &up, "PUT", "/upload", 16 * MIB, NULL, 0, t_produce, NULL);
    x.manual = 1;
    while (!down.done) {
        uv_run(&x.loop, UV_RUN_ONCE);
    }
    http_client_stats(x.cl, &st);
    tctx_finish(&x);
    tctx_run(&x);
    tls_srv_stop(&s);
    tls_cert_free(&c);
    LEAK_CHECK();
    rss1 = max_rss_kib();
    check_upload(&up, 16 * MIB);
    CHECK_EQ_INT(down.rc, 0);
    CHECK_EQ_INT(down.body_bytes, BIG_SIZE);
    CHECK_EQ_STR(down.body_sha, s.big_sha);
    fprintf(stderr, "# TLS: upload 16 MiB, download 64 MiB with %d pauses, "
            "server ahead of the consumer at most %llu KiB, client write "
            "buffers peak %zu KiB, max RSS %ld KiB (at start %ld KiB)\n",
            down.pauses, (unsigned long long) down.ahead_max / 1024,
            st.out_bytes_peak / 1024, rss1, rss0);
    CHECK(down.pauses > 100);
    CHECK(down.ahead_max < 32 * MIB);
#ifndef ASAN_BUILD
    CHECK(rss1 - rss0 < 16 * 1024);
#endif
    CHECK_EQ_INT(s.ok, 1);                  /* one connection for both */
    CHECK(st.out_bytes_peak <= (HTTP_CLIENT_OUT_SLABS + 2) * HTTP_CLIENT_SLAB_SIZE);
}
