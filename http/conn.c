/* http/conn.c: connections, the llhttp glue, and response writing.
 *
 * Driving the parser: bytes read from the socket land in c->in and are fed to
 * llhttp by http_conn_feed(). Everything that can end a request or free it
 * (a response finishing, the connection closing) only sets flags while the
 * parser runs; http_conn_feed() acts on them after llhttp_execute returns, so
 * no callback ever frees memory the parser is still walking.
 *
 * On a TLS listener the socket's bytes are ciphertext: the TLS section at
 * the end decrypts them into c->in and encrypts every write, so the rest of
 * this file sees plaintext either way.
 *
 * On a proxy_protocol listener a PROXY header comes before anything else
 * (before the TLS handshake too): the PROXY section takes it off the first
 * bytes read and hands the rest on, and its source address becomes the
 * connection's peer. */
#include "http/conn.h"
#include "http/connip.h"
#include "http/proxy.h"
#include "http/tls.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/tpool.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "llhttp.h"

/* The read buffer starts at HTTP_IN_MIN and doubles while reads fill it,
 * up to HTTP_IN_MAX, so a connection that sends little (an idle one, a slow
 * upload) holds little, and a fast upload is read 64 KiB at a time. */
#define HTTP_IN_MIN           (4 * 1024)
#define HTTP_IN_MAX           (64 * 1024)
/* The request head is copied into a buffer that starts at HTTP_HEAD_MIN
 * bytes (a signed S3 request head is about 1.5 KB) and HTTP_HDRS_MIN
 * headers, and doubles up to max_header_size and max_headers. */
#define HTTP_HEAD_MIN         2048
#define HTTP_HDRS_MIN         16
#define HTTP_DRAIN_MAX        (256 * 1024)  /* unread body we still drain for keep-alive */
#define HTTP_LINGER_MS        5000          /* how long an early answer's
                                             * connection reads and drops
                                             * the rest of the body */
/* At most this much per sendfile job on the pool: small enough that the
 * jobs of many downloads take turns, large enough that the hand-off to a
 * thread and back costs little next to the copy. */
#define HTTP_SENDFILE_SLICE   (2 * 1024 * 1024)
/* Connections over max_conns_per_ip that still get their request read and
 * answered 503 SlowDown; past these, an address's new connections are
 * closed at once, so a flood cannot hold header_timeout-long slots. */
#define HTTP_LIMIT_GRACE      8

struct http_server_s {
    uv_loop_t               *loop;
    const http_server_cb_t  *cb;
    const http_limits_t     *limits;
    void                    *data;
    uv_tcp_t                *listeners[8];
    size_t                   nlisteners;
    http_conn_t             *conns;          /* doubly linked */
    size_t                   nconns;
    int                      stopping;
    int                      counted;        /* http_server_count */
    void                   (*on_stopped)(http_server_t *s);
    uint64_t                 req_seq;
    uint64_t                 req_base;
    http_connip_t           *connip;         /* max_conns_per_ip's
                                              * counts; NULL: none */
    size_t                   connip_worker;  /* our column in it */
    int                      connip_own;     /* ours alone, to free */
    SSL_CTX                 *tls_ctx;        /* of the TLS listeners; NULL
                                              * until http_server_set_tls */
    gw_tpool_t              *cold;           /* threads for cold sendfile
                                              * slices (http_sf_run); NULL
                                              * until the first */
};

/* A listening socket; tcp comes first, so the uv_tcp_t * of the
 * listeners array and of the connection callback is one of these. */
typedef struct http_listener_s {
    uv_tcp_t  tcp;
    int       tls;
    int       proxy;      /* connections start with a PROXY header */
} http_listener_t;

struct http_conn_s {
    uv_tcp_t        tcp;
    uv_timer_t      timer;
    uv_poll_t       poll;           /* writability, for sendfile */
    int             poll_fd;        /* dup of the socket; -1 until needed */
    int             handles;        /* open uv handles left to close */
    http_server_t  *srv;
    http_conn_t    *prev, *next;
    llhttp_t        parser;
    char           *in;             /* in_size bytes; NULL when idle */
    size_t          in_size, in_next;  /* now, and for the next read */
    size_t          in_pos, in_last;
    http_req_t     *r;              /* the request being served */
    unsigned char   ip[16];         /* the peer's, as counted in
                                     * srv->connip (IPv4 as ::ffff:a.b.c.d) */
    char            peer[64];
    char            peer_ip[48];
    http_tls_t     *tls;            /* NULL on a plain listener */
    char           *pp;             /* the start of a PROXY header split
                                     * over reads; NULL when none */
    size_t          pp_len;

    /* Head accumulation for the request being parsed. */
    char           *head;           /* head_cap bytes, in r->pool */
    size_t          head_len, head_cap;
    size_t          url_len;
    size_t          nhdrs;
    size_t         *hdr_off;        /* per header: name off, name len, value off, value len */
    size_t          hdr_cap;        /* headers hdr_off has room for */
    int             in_value;

    unsigned        reading:1;      /* uv_read_start is active */
    unsigned        executing:1;    /* inside llhttp_execute */
    unsigned        parser_paused:1;/* paused at message end */
    unsigned        body_paused:1;  /* the sink asked us to stop reading */
    unsigned        body_failed:1;  /* the sink refused the body; discard */
    unsigned        in_head:1;      /* between message begin and headers complete */
    unsigned        closing:1;
    unsigned        close_after:1;
    unsigned        eof:1;
    unsigned        limited:1;      /* over max_conns_per_ip: answer 503 */
    unsigned        ip_counted:1;   /* counted in srv->connip */
    unsigned        tls_pumping:1;  /* inside http_conn_tls_pump */
    unsigned        tls_started:1;  /* the first bytes have been seen */
    unsigned        proxy_wait:1;   /* the PROXY header is still due */
    unsigned        lingering:1;    /* answered early: dropping the body
                                     * until linger_until, then closing */
    uint64_t        linger_until;   /* uv_now() deadline of lingering */
    uint64_t        body_seen;

    /* Set by a parser callback that refuses the request with something
     * other than 400 BadRequest; http_bad_request answers with it. */
    int             err_status;
    const char     *err_code;
    const char     *err_msg;
};

static llhttp_settings_t  http_settings;

static void http_conn_close(http_conn_t *c);
static void http_conn_unadmit(http_server_t *s, http_conn_t *c);
static void http_conn_feed(http_conn_t *c);
static void http_conn_read_start(http_conn_t *c);
static void http_req_finish(http_req_t *r);
static void http_sf_run(http_req_t *r);
static void http_sf_finish(http_req_t *r, int rc);
static void http_conn_took(http_conn_t *c, size_t nread, size_t room);
static void http_conn_eof(http_conn_t *c);
static void http_conn_sock_read(http_conn_t *c);
static int  http_conn_tls_start(http_conn_t *c);
static void http_conn_tls_read(http_conn_t *c, const char *buf, size_t len);
static void http_conn_tls_pump(http_conn_t *c);
static void http_conn_tls_send(http_conn_t *c, const char *buf, size_t len);
static char *http_conn_tls_seal(http_conn_t *c, const char *buf, size_t len,
                                uv_buf_t *out);
static void http_tls_sendfile(http_req_t *r);
static gw_pool_t *http_pool_get(void);
static void http_conn_proxy_read(http_conn_t *c, char *buf, size_t len,
                                 size_t room);

/* ==== small helpers ==== */

static uint64_t
http_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Decimal v at p; returns the end. Used on the per-request paths instead
 * of snprintf, whose setup costs more than the number. */
static char *
http_put_u64(char *p, uint64_t v)
{
    char    tmp[20];
    size_t  n = 0;

    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) {
        *p++ = tmp[--n];
    }
    return p;
}

static char *
http_put_2(char *p, unsigned v)
{
    *p++ = (char) ('0' + v / 10 % 10);
    *p++ = (char) ('0' + v % 10);
    return p;
}

static char *
http_put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define HTTP_PUT_LIT(p, lit)  http_put((p), (lit), sizeof(lit) - 1)

/* By hand rather than gmtime_r + strftime (locale lookups, a lock in
 * tzset): days to a civil date as in Howard Hinnant's days_from_civil
 * inverse, valid for any t. */
void
http_date(int64_t t, char buf[32])
{
    static const char  wday[] = "ThuFriSatSunMonTueWed";
    static const char  mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int64_t            days = t / 86400, secs = t % 86400, era, y;
    unsigned           doe, yoe, doy, mp, d, m, w;
    char              *p = buf;

    if (secs < 0) {
        secs += 86400;
        days--;
    }
    w = (unsigned) (((days % 7) + 7) % 7);      /* 1970-01-01: Thursday */
    days += 719468;
    era = (days >= 0 ? days : days - 146096) / 146097;
    doe = (unsigned) (days - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t) yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    p = http_put(p, wday + 3 * w, 3);
    p = HTTP_PUT_LIT(p, ", ");
    p = http_put_2(p, d);
    *p++ = ' ';
    p = http_put(p, mon + 3 * (m - 1), 3);
    *p++ = ' ';
    if (y < 0 || y > 9999) {
        y = y < 0 ? 0 : 9999;    /* outside what IMF-fixdate can say */
    }
    p = http_put_2(p, (unsigned) (y / 100));
    p = http_put_2(p, (unsigned) (y % 100));
    *p++ = ' ';
    p = http_put_2(p, (unsigned) (secs / 3600));
    *p++ = ':';
    p = http_put_2(p, (unsigned) (secs / 60 % 60));
    *p++ = ':';
    p = http_put_2(p, (unsigned) (secs % 60));
    p = HTTP_PUT_LIT(p, " GMT");
    *p = '\0';
}

/* The Date header's value, formatted once per second (as nginx's
 * ngx_cached_http_time). */
static const char *
http_date_now(void)
{
    static int64_t  cached = -1;
    static char     buf[32];
    int64_t         now = (int64_t) time(NULL);

    if (now != cached) {
        http_date(now, buf);
        cached = now;
    }
    return buf;
}

static const char *
http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    }
    return "Unknown";
}

static void
http_conn_timer_cb(uv_timer_t *t)
{
    http_conn_t  *c = t->data;
    http_req_t   *r = c->r;

    if (r != NULL && !r->responded && !c->in_head && !r->body_done) {
        /* A body that stalled: S3 answers RequestTimeout and hangs up. */
        gw_log(GW_LOG_INFO, c->peer, 0, "request body timed out");
        c->close_after = 1;
        c->srv->cb->on_error(r, 400, "RequestTimeout",
                             "Your socket connection to the server was not "
                             "read from or written to within the timeout "
                             "period. Idle connections will be closed.");
        return;
    }
    if (c->proxy_wait) {
        gw_log(GW_LOG_INFO, c->peer, 0, "no PROXY protocol header within "
               "header_timeout");
    } else {
        gw_log(GW_LOG_DEBUG, c->peer, 0, "connection timed out");
    }
    http_conn_close(c);
}

static void
http_conn_timer(http_conn_t *c, uint64_t ms)
{
    if (!c->closing) {
        uv_timer_start(&c->timer, http_conn_timer_cb, ms, 0);
    }
}

/* ==== llhttp callbacks ==== */

static int
http_on_message_begin(llhttp_t *p)
{
    http_conn_t    *c = p->data;
    http_server_t  *s = c->srv;
    http_req_t     *r;
    gw_pool_t      *pool;

    pool = http_pool_get();
    r = gw_pool_calloc(pool, sizeof(*r));
    r->pool = pool;
    r->conn = c;
    r->ctx = s->data;
    r->content_length = -1;
    r->peer = c->peer;
    r->peer_ip = c->peer_ip;
    r->secure = c->tls != NULL;
    r->start_ms = http_now_ms();
    r->start_ns = uv_hrtime();
    r->counted = s->counted;
    r->sf_fd = -1;
    r->sf_sock = -1;
    snprintf(r->id, sizeof(r->id), "%016llX",
             (unsigned long long) (s->req_base + ++s->req_seq * 0x9E3779B97F4A7C15ULL));
    c->r = r;
    c->head_cap = GW_MIN(HTTP_HEAD_MIN, s->limits->max_header_size);
    c->head = gw_pool_alloc(pool, c->head_cap);
    c->hdr_cap = GW_MIN(HTTP_HDRS_MIN, s->limits->max_headers);
    c->hdr_off = gw_pool_alloc(pool, sizeof(size_t) * 4 * c->hdr_cap);
    c->head_len = 0;
    c->url_len = 0;
    c->nhdrs = 0;
    c->in_value = 0;
    c->in_head = 1;
    c->body_failed = 0;
    c->body_seen = 0;
    c->err_code = NULL;
    http_conn_timer(c, s->limits->header_timeout_ms);
    return 0;
}

/* A copy of an array of the head (used of *cap items of size bytes), with
 * room for twice as many (at most max), from r->pool: what is left behind
 * goes with the request. */
static void *
http_head_grow(http_conn_t *c, void *old, size_t size, size_t used,
               size_t *cap, size_t max)
{
    void  *n;

    *cap = GW_MIN(*cap * 2, max);
    n = gw_pool_alloc(c->r->pool, *cap * size);
    memcpy(n, old, used * size);
    return n;
}

static int
http_head_append(http_conn_t *c, const char *at, size_t len)
{
    size_t  max = c->srv->limits->max_header_size;

    /* The limit may have shrunk below what is in by a reload (SIGHUP). */
    if (c->head_len > max || len > max - c->head_len) {
        return -1;
    }
    while (len > c->head_cap - c->head_len) {
        c->head = http_head_grow(c, c->head, 1, c->head_len, &c->head_cap,
                                 max);
    }
    memcpy(c->head + c->head_len, at, len);
    c->head_len += len;
    return 0;
}

static int
http_on_url(llhttp_t *p, const char *at, size_t len)
{
    http_conn_t  *c = p->data;

    if (c->url_len + len > c->srv->limits->max_url) {
        llhttp_set_error_reason(p, "url too long");
        return HPE_USER;
    }
    c->url_len += len;
    if (http_head_append(c, at, len) != 0) {
        llhttp_set_error_reason(p, "header too large");
        return HPE_USER;
    }
    return 0;
}

static int
http_on_header_field(llhttp_t *p, const char *at, size_t len)
{
    http_conn_t  *c = p->data;
    size_t       *h;

    if (c->nhdrs == 0 || c->in_value) {
        if (c->nhdrs >= c->srv->limits->max_headers) {   /* >=: reload */
            llhttp_set_error_reason(p, "too many headers");
            return HPE_USER;
        }
        if (c->nhdrs == c->hdr_cap) {
            c->hdr_off = http_head_grow(c, c->hdr_off, 4 * sizeof(size_t),
                                        c->nhdrs, &c->hdr_cap,
                                        c->srv->limits->max_headers);
        }
        h = &c->hdr_off[4 * c->nhdrs++];
        h[0] = c->head_len;
        h[1] = 0;
        h[2] = c->head_len;
        h[3] = 0;
        c->in_value = 0;
    }
    h = &c->hdr_off[4 * (c->nhdrs - 1)];
    if (http_head_append(c, at, len) != 0) {
        llhttp_set_error_reason(p, "header too large");
        return HPE_USER;
    }
    h[1] += len;
    h[2] = c->head_len;
    return 0;
}

static int
http_on_header_value(llhttp_t *p, const char *at, size_t len)
{
    http_conn_t  *c = p->data;
    size_t       *h = &c->hdr_off[4 * (c->nhdrs - 1)];

    c->in_value = 1;
    if (http_head_append(c, at, len) != 0) {
        llhttp_set_error_reason(p, "header too large");
        return HPE_USER;
    }
    h[3] += len;
    return 0;
}

/* RFC 9112 6.1: the only transfer coding s3gw decodes is chunked, so a
 * request must say exactly that, once. Anything else (gzip, identity, a
 * list ending in chunked) is NotImplemented, as S3 answers, rather than a
 * body read as plain chunked that is not. */
static int
http_te_supported(const http_req_t *r)
{
    size_t  i, n = 0;
    int     ok = 0;

    for (i = 0; i < r->nheaders; i++) {
        if (gw_str_eq_lit(r->headers[i].name, "transfer-encoding")) {
            n++;
            ok = gw_ascii_ieq(r->headers[i].value.base,
                              r->headers[i].value.len, "chunked", 7);
        }
    }
    return n == 0 || (n == 1 && ok);
}

static void
http_set_te_error(http_conn_t *c)
{
    c->err_status = 501;
    c->err_code = "NotImplemented";
    c->err_msg = "A header you provided implies functionality that is not "
                 "implemented.";
}

/* Turns the header offsets gathered during parsing into r->headers (names
 * lowercased in place) and the target into path and query. */
static void
http_req_build_head(http_conn_t *c, http_req_t *r)
{
    size_t       i, j, *h;
    const char  *q;
    char        *name;
    gw_str_t    *v;

    r->headers = gw_pool_alloc(r->pool, sizeof(gw_kv_t) * (c->nhdrs + 1));
    for (i = 0; i < c->nhdrs; i++) {
        h = &c->hdr_off[4 * i];
        name = c->head + h[0];
        for (j = 0; j < h[1]; j++) {
            name[j] = (char) tolower((unsigned char) name[j]);
        }
        r->headers[i].name.base = name;
        r->headers[i].name.len = h[1];
        v = &r->headers[i].value;
        v->base = c->head + h[2];
        v->len = h[3];
        /* llhttp leaves trailing blanks of the value to us. */
        while (v->len > 0
               && (v->base[v->len - 1] == ' ' || v->base[v->len - 1] == '\t'))
        {
            v->len--;
        }
    }
    r->nheaders = c->nhdrs;
    r->target.base = c->head;
    r->target.len = c->url_len;
    q = memchr(r->target.base, '?', r->target.len);
    r->path.base = r->target.base;
    r->path.len = q ? (size_t) (q - r->target.base) : r->target.len;
    r->query.base = q ? q + 1 : r->target.base + r->target.len;
    r->query.len = q ? r->target.len - r->path.len - 1 : 0;
}

static int
http_on_headers_complete(llhttp_t *p)
{
    http_conn_t    *c = p->data;
    http_req_t     *r = c->r;
    const gw_str_t *v;

    http_req_build_head(c, r);
    if (!http_te_supported(r)) {
        http_set_te_error(c);
        return -1;
    }
    c->in_head = 0;
    r->method = llhttp_get_method(p);
    r->method_name.base = llhttp_method_name(r->method);
    r->method_name.len = strlen(r->method_name.base);
    r->head_only = r->method == HTTP_HEAD;
    if (p->flags & F_CONTENT_LENGTH) {
        r->content_length = (int64_t) p->content_length;
    }
    r->chunked = (p->flags & F_CHUNKED) != 0;
    r->keepalive = llhttp_should_keep_alive(p) != 0;
    v = http_req_header(r, "expect");
    r->expect_continue = v != NULL && v->len == 12
                         && strncasecmp(v->base, "100-continue", 12) == 0;

    /* From here until the body is in, reading is timed by
     * client_body_timeout; a request without one waits for its answer. */
    http_conn_timer(c, r->content_length > 0 || r->chunked
                       ? c->srv->limits->body_timeout_ms
                       : c->srv->limits->idle_timeout_ms);
    if (c->limited) {
        /* S3's answer to too much from one client: SDKs back off. */
        c->close_after = 1;
        c->srv->cb->on_error(r, 503, "SlowDown",
                             "Please reduce your request rate.");
        return 0;
    }
    c->srv->cb->on_request(r);

    /* 100 even for an empty body: botocore keeps the response class of a
     * final answer to an Expect request and misreads the next response on
     * that connection, so it must always see 100 before a success. */
    if (c->r == r && !r->responded && !r->aborted && r->expect_continue) {
        static const char  cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        uv_buf_t           b = uv_buf_init((char *) cont, sizeof(cont) - 1);

        /* Best effort: if the socket cannot take 25 bytes right now, the
         * client sends the body after its own short wait anyway. */
        if (c->tls != NULL) {
            http_conn_tls_send(c, cont, sizeof(cont) - 1);
        } else {
            (void) uv_try_write((uv_stream_t *) &c->tcp, &b, 1);
        }
    }
    return 0;
}

static int
http_on_body(llhttp_t *p, const char *at, size_t len)
{
    http_conn_t  *c = p->data;
    http_req_t   *r = c->r;
    int           rc;

    c->body_seen += len;
    r->body_in += len;
    if (r->on_body == NULL || c->body_failed || r->aborted) {
        return 0;
    }
    rc = r->on_body(r, at, len);
    if (rc == GW_AGAIN) {
        c->body_paused = 1;
    } else if (rc != GW_OK) {
        c->body_failed = 1;
    }
    return 0;
}

static int
http_on_message_complete(llhttp_t *p)
{
    http_conn_t  *c = p->data;
    http_req_t   *r = c->r;

    r->body_done = 1;
    if (r->on_body_end != NULL && !c->body_failed && !r->aborted) {
        r->on_body_end(r);
    }
    /* Stop here: the next pipelined request waits for this response. */
    return HPE_PAUSED;
}

/* ==== reading ==== */

/* Room for the next bytes of the request in c->in, into buf. */
static void
http_conn_in_room(http_conn_t *c, uv_buf_t *buf)
{
    size_t  want = c->in_next ? c->in_next : HTTP_IN_MIN;

    /* Reading only goes on once the parser has taken every byte (it stops
     * with the parser), so the buffer is empty here and can change size
     * without a copy. */
    if (c->in_pos == c->in_last) {
        c->in_pos = c->in_last = 0;
        if (c->in_size != want) {
            gw_free(c->in);
            c->in = gw_alloc(want);
            c->in_size = want;
        }
    } else if (c->in_last == c->in_size) {
        c->in_size *= 2;
        c->in = gw_realloc(c->in, c->in_size);
    }
    buf->base = c->in + c->in_last;
    buf->len = c->in_size - c->in_last;
}

/* Ciphertext of every TLS connection is read here and copied into the
 * session's input BIO before the read callback returns, so one buffer
 * serves them all (libuv calls alloc, read and the callback in a row). */
static char  http_tls_rbuf[64 * 1024];

static void
http_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    http_conn_t  *c = h->data;

    if (c->tls != NULL) {
        *buf = uv_buf_init(http_tls_rbuf, sizeof(http_tls_rbuf));
        return;
    }
    http_conn_in_room(c, buf);
}

static void
http_bad_request(http_conn_t *c, llhttp_errno_t err)
{
    const char  *reason = llhttp_get_error_reason(&c->parser);
    int          status = 400;
    const char  *code = "BadRequest";
    const char  *msg = "An error occurred when parsing the HTTP request.";

    if (c->r == NULL) {
        http_on_message_begin(&c->parser);
    }
    c->in_head = 0;
    c->close_after = 1;
    if (err == HPE_INVALID_TRANSFER_ENCODING) {
        /* llhttp stops at a coding after chunked ("chunked, gzip"). */
        http_set_te_error(c);
    }
    if (c->err_code != NULL) {
        status = c->err_status;
        code = c->err_code;
        msg = c->err_msg;
    } else if (err == HPE_USER && reason != NULL) {
        if (strcmp(reason, "url too long") == 0) {
            status = 414;
            code = "RequestURITooLong";
            msg = "The request URI is too long.";
        } else if (strcmp(reason, "too many headers") == 0
                   || strcmp(reason, "header too large") == 0)
        {
            code = "RequestHeaderSectionTooLarge";
            msg = "Your request header section exceeds the maximum allowed "
                  "size.";
        }
    }
    if (c->r->responded) {
        http_conn_close(c);
        return;
    }
    c->srv->cb->on_error(c->r, status, code, msg);
}

static void
http_conn_feed(http_conn_t *c)
{
    llhttp_errno_t  err;
    http_req_t     *r;
    const char     *pos;

    while (!c->closing && c->in_pos < c->in_last && !c->parser_paused) {
        c->executing = 1;
        err = llhttp_execute(&c->parser, c->in + c->in_pos,
                             c->in_last - c->in_pos);
        c->executing = 0;
        if (err == HPE_OK) {
            c->in_pos = c->in_last;
        } else if (err == HPE_PAUSED) {
            pos = llhttp_get_error_pos(&c->parser);
            c->in_pos = (size_t) (pos - c->in);
            c->parser_paused = 1;
        } else {
            if (c->r != NULL && c->r->responded) {
                http_conn_close(c);
                return;
            }
            if (c->r != NULL && !c->in_head) {
                /* A broken body (bad chunked framing): the handler's sink
                 * never sees its end; answer and hang up. */
                c->close_after = 1;
                c->srv->cb->on_error(c->r, 400, "IncompleteBody",
                                     "The request body terminated "
                                     "unexpectedly.");
                return;
            }
            http_bad_request(c, err);
            return;
        }
        r = c->r;
        if (r != NULL && r->ended && r->body_done) {
            http_req_finish(r);
        }
    }
    if (c->closing) {
        return;
    }
    if (c->in_pos == c->in_last) {
        c->in_pos = c->in_last = 0;
        if (c->r == NULL) {
            /* Between requests a keep-alive connection holds no read
             * buffer, as nginx gives its buffers back. */
            gw_free(c->in);
            c->in = NULL;
            c->in_size = c->in_next = 0;
        }
    }
    if (c->body_paused || c->parser_paused) {
        if (c->reading) {
            uv_read_stop((uv_stream_t *) &c->tcp);
            c->reading = 0;
        }
        if (c->body_paused && c->r != NULL && !c->r->responded) {
            /* Our store is behind, not the client: no idle timeout. */
            uv_timer_stop(&c->timer);
        }
        return;
    }
    if (c->eof) {
        /* The client is done sending. A request whose body is in still gets
         * its answer (close_after is set); anything else ends here. */
        if (c->r == NULL || c->in_head || !c->r->body_done) {
            http_conn_close(c);
        }
        return;
    }
    http_conn_read_start(c);
}

/* The client will send nothing more. */
static void
http_conn_eof(http_conn_t *c)
{
    http_req_t  *r = c->r;

    if (c->reading) {
        uv_read_stop((uv_stream_t *) &c->tcp);
    }
    c->reading = 0;
    c->eof = 1;
    if (r == NULL || c->in_head || !r->body_done) {
        http_conn_close(c);
    }
    /* Otherwise the response still goes out; close after it. */
    c->close_after = 1;
}

static void
http_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    http_conn_t  *c = st->data;

    if (nread < 0) {
        if (nread != UV_EOF) {
            gw_log(GW_LOG_DEBUG, c->peer, (int) nread, "read failed");
            http_conn_close(c);
            return;
        }
        http_conn_eof(c);
        return;
    }
    if (nread == 0) {
        return;
    }
    if (c->proxy_wait) {
        http_conn_proxy_read(c, buf->base, (size_t) nread, buf->len);
        return;
    }
    if (c->tls != NULL) {
        http_conn_tls_read(c, buf->base, (size_t) nread);
        return;
    }
    http_conn_took(c, (size_t) nread, buf->len);
}

/* nread bytes of request arrived in c->in, which had room for room. */
static void
http_conn_took(http_conn_t *c, size_t nread, size_t room)
{
    http_req_t  *r = c->r;

    c->in_last += nread;
    /* A read that filled the buffer says more is waiting: the next one gets
     * twice the room. One that used a quarter of it lets it shrink back. */
    if (nread == room && c->in_size < HTTP_IN_MAX) {
        c->in_next = c->in_size * 2;
    } else if (nread <= c->in_size / 4 && c->in_size > HTTP_IN_MIN) {
        c->in_next = c->in_size / 2;
    } else {
        c->in_next = c->in_size;
    }
    if (c->lingering) {
        /* The timer set when lingering began stays: a client that keeps
         * sending is cut at the deadline all the same. */
        if (uv_now(c->tcp.loop) >= c->linger_until) {
            http_conn_close(c);
            return;
        }
    } else if (r != NULL && !c->in_head && !r->body_done) {
        /* client_body_timeout is the longest wait between two reads of
         * the body, as nginx's: a body that trickles on is not cut. */
        http_conn_timer(c, c->srv->limits->body_timeout_ms);
    } else if (r == NULL) {
        /* First bytes of a new request: the header clock starts. */
        http_conn_timer(c, c->srv->limits->header_timeout_ms);
    }
    http_conn_feed(c);
}

static void
http_conn_read_start(http_conn_t *c)
{
    if (c->tls != NULL && !c->tls_pumping && !c->closing
        && http_tls_buffered(c->tls))
    {
        /* Records read before a pause come first. */
        http_conn_tls_pump(c);
        return;
    }
    http_conn_sock_read(c);
}

static void
http_conn_sock_read(http_conn_t *c)
{
    if (!c->reading && !c->closing && !c->eof) {
        if (uv_read_start((uv_stream_t *) &c->tcp, http_alloc_cb,
                          http_read_cb) == 0)
        {
            c->reading = 1;
        }
    }
}

void
http_req_resume(http_req_t *r)
{
    http_conn_t  *c = r->conn;

    if (c == NULL || c->closing || !c->body_paused) {
        return;
    }
    c->body_paused = 0;
    if (!c->executing) {
        http_conn_timer(c, c->srv->limits->body_timeout_ms);
        http_conn_feed(c);
    }
}

/* ==== request lifetime ==== */

/* Request pools are kept for the next requests instead of going back to
 * malloc each time: a small GET otherwise pays a malloc and a free of the
 * pool's 8 KiB block. One loop per process, so a plain array does. */
#define HTTP_POOL_CACHE  64

static gw_pool_t  *http_pool_cache[HTTP_POOL_CACHE];
static size_t      http_pool_ncache;

static gw_pool_t *
http_pool_get(void)
{
    if (http_pool_ncache > 0) {
        return http_pool_cache[--http_pool_ncache];
    }
    return gw_pool_create(8192);
}

static void
http_req_free(http_req_t *r)
{
    if (http_pool_ncache == HTTP_POOL_CACHE) {
        gw_pool_destroy(r->pool);
        return;
    }
    /* The reset runs the cleanups, as a destroy would. */
    gw_pool_reset(r->pool);
    http_pool_cache[http_pool_ncache++] = r->pool;
}

void
http_req_hold(http_req_t *r)
{
    r->holds++;
}

void
http_req_release(http_req_t *r)
{
    if (--r->holds == 0 && r->conn == NULL) {
        http_req_free(r);
    }
}

/* A query parameter name, percent-decoded and folded to lower case, into
 * out (cap bytes); "" when it is longer than that. */
static void
http_param_name(const char *p, size_t len, char *out, size_t cap)
{
    size_t  i, o = 0;
    int     hi, lo, c;

    for (i = 0; i < len && o + 1 < cap; i++) {
        c = (unsigned char) p[i];
        if (c == '%' && i + 2 < len
            && (hi = gw_hex_value(p[i + 1])) >= 0
            && (lo = gw_hex_value(p[i + 2])) >= 0)
        {
            c = hi << 4 | lo;
            i += 2;
        }
        out[o++] = (char) gw_ascii_lower(c);
    }
    out[i < len ? 0 : o] = '\0';
}

/* Appends n bytes of src to dst (cap bytes) at *o, as many as fit before
 * the last byte, which stays for the NUL. */
static void
http_log_put(char *dst, size_t *o, size_t cap, const char *src, size_t n)
{
    n = GW_MIN(n, cap - 1 - *o);
    memcpy(dst + *o, src, n);
    *o += n;
}

/* The request target for the access log, at most cap - 1 bytes, with the
 * value of every query parameter that is a credential replaced by
 * REDACTED: a presigned URL's X-Amz-Signature (SigV4), Signature (SigV2)
 * and X-Amz-Security-Token. The other parameters stay, in order. */
static size_t
http_log_target(const http_req_t *r, char *dst, size_t cap)
{
    static const char  *secret[] = {
        "x-amz-signature", "signature", "x-amz-security-token"
    };
    const char  *p, *end, *amp, *eq;
    size_t       i, o = 0;
    char         name[32];

    if (r->target.base == NULL) {
        http_log_put(dst, &o, cap, "-", 1);
        dst[o] = '\0';
        return o;
    }
    http_log_put(dst, &o, cap, r->path.base, r->path.len);
    p = r->query.base;
    end = r->query.base + r->query.len;
    if (r->path.len < r->target.len && o + 1 < cap) {
        dst[o++] = '?';
    }
    while (p < end && o + 1 < cap) {
        amp = memchr(p, '&', (size_t) (end - p));
        amp = amp ? amp : end;
        eq = memchr(p, '=', (size_t) (amp - p));
        http_param_name(p, (size_t) ((eq ? eq : amp) - p), name, sizeof(name));
        for (i = 0; eq != NULL && i < GW_NELEMS(secret); i++) {
            if (strcmp(name, secret[i]) == 0) {
                break;
            }
        }
        if (eq != NULL && i < GW_NELEMS(secret)) {
            http_log_put(dst, &o, cap, p, (size_t) (eq - p));
            http_log_put(dst, &o, cap, "=REDACTED", 9);
        } else {
            http_log_put(dst, &o, cap, p, (size_t) (amp - p));
        }
        if (amp < end && o + 1 < cap) {
            dst[o++] = '&';
        }
        p = amp + (amp < end);
    }
    dst[o] = '\0';
    return o;
}

/* access_log_format json: the fields of the text line, and what the
 * handler put in r->log, as a JSON object (core/logjson.c). */
static void
http_access_log_json(http_req_t *r, const char *target, size_t tlen)
{
    const gw_str_t  *ua = http_req_header(r, "user-agent");
    const gw_str_t  *ref = http_req_header(r, "referer");
    const char      *colon = strrchr(r->peer, ':');

    r->log.remote_addr = r->peer_ip;
    r->log.remote_port = colon != NULL ? atoi(colon + 1) : 0;
    r->log.request_id = r->id;
    r->log.method = r->method_name.base;
    r->log.uri = target;
    r->log.uri_len = tlen;
    r->log.status = r->status;
    r->log.bytes_sent = r->body_bytes;
    r->log.request_ms = http_now_ms() - r->start_ms;
    if (ua != NULL) {
        r->log.user_agent = ua->base;
        r->log.user_agent_len = ua->len;
    }
    if (ref != NULL) {
        r->log.referer = ref->base;
        r->log.referer_len = ref->len;
    }
    gw_log_access_json(&r->log);
}

/* "peer method target status bytes Nms id", built by hand rather than
 * with snprintf: it runs for every request. */
static void
http_access_log(http_req_t *r)
{
    char         line[1024], target[700], num[24];
    const char  *method = r->method_name.base ? r->method_name.base : "-";
    size_t       o = 0;

    if (!gw_log_access_on()) {
        return;
    }
    if (gw_log_access_format == GW_LOG_FORMAT_JSON) {
        http_access_log_json(r, target,
                             http_log_target(r, target, sizeof(target)));
        return;
    }
    http_log_put(line, &o, sizeof(line), r->peer, strlen(r->peer));
    http_log_put(line, &o, sizeof(line), " ", 1);
    http_log_put(line, &o, sizeof(line), method, strlen(method));
    http_log_put(line, &o, sizeof(line), " ", 1);
    /* Never log a signature: see http_log_target. gw_log_access escapes
     * whatever control bytes the target holds. */
    http_log_put(line, &o, sizeof(line), target,
                 http_log_target(r, target, sizeof(target)));
    http_log_put(line, &o, sizeof(line), " ", 1);
    http_log_put(line, &o, sizeof(line), num,
                 (size_t) (http_put_u64(num, (uint64_t) (r->status < 0
                                                         ? 0 : r->status))
                           - num));
    http_log_put(line, &o, sizeof(line), " ", 1);
    http_log_put(line, &o, sizeof(line), num,
                 (size_t) (http_put_u64(num, r->body_bytes) - num));
    http_log_put(line, &o, sizeof(line), " ", 1);
    http_log_put(line, &o, sizeof(line), num,
                 (size_t) (http_put_u64(num, http_now_ms() - r->start_ms)
                           - num));
    http_log_put(line, &o, sizeof(line), "ms ", 3);
    http_log_put(line, &o, sizeof(line), r->id, strlen(r->id));
    gw_log_access(line, o);
    if (r->counted) {
        gw_metrics_request(r->op, r->status, r->body_in, r->body_bytes,
                           uv_hrtime() - r->start_ns);
    }
}

/* Called once the response is out and the body was read (or is being
 * dropped with the connection). */
static void
http_req_finish(http_req_t *r)
{
    http_conn_t  *c = r->conn;

    c->r = NULL;
    r->conn = NULL;
    if (r->holds == 0) {
        http_req_free(r);
    }
    c->head = NULL;
    c->hdr_off = NULL;
    if (c->close_after || c->srv->stopping || !llhttp_should_keep_alive(&c->parser)) {
        if (!c->executing) {
            http_conn_close(c);
        } else {
            c->closing = 0;
            c->close_after = 1;
        }
        return;
    }
    if (c->parser_paused) {
        llhttp_resume(&c->parser);
        c->parser_paused = 0;
    }
    c->body_paused = 0;
    http_conn_timer(c, c->srv->limits->idle_timeout_ms);
    if (!c->executing) {
        http_conn_feed(c);
    }
}

/* The response has been written in full. */
static void
http_req_ended(http_req_t *r)
{
    http_conn_t  *c = r->conn;
    uint64_t      left;

    r->ended = 1;
    http_access_log(r);
    if (c == NULL) {
        return;
    }
    if (r->body_done) {
        if (!c->executing) {
            http_req_finish(r);
        }
        return;
    }
    /* The body is not all in (an early error). Drain a little for the sake
     * of keep-alive; otherwise hang up. */
    left = r->content_length >= 0
           ? (uint64_t) r->content_length - c->body_seen : UINT64_MAX;
    r->on_body = NULL;
    c->body_failed = 1;
    if (r->expect_continue) {
        /* The client waits for 100 Continue and will send no body. */
        http_conn_close(c);
        return;
    }
    if (left > HTTP_DRAIN_MAX || c->close_after) {
        /* Too much for keep-alive, but hanging up with body bytes unread
         * makes the kernel answer them with a reset, which can destroy
         * the answer on its way to a client still sending (it then sees
         * "connection reset", not our 400 or 403). So, as nginx's
         * lingering close, read and drop the rest for a while first. */
        c->close_after = 1;
        c->lingering = 1;
        c->linger_until = uv_now(c->tcp.loop) + HTTP_LINGER_MS;
        c->body_paused = 0;
        http_conn_timer(c, HTTP_LINGER_MS);
        if (!c->executing) {
            http_conn_feed(c);
        }
        return;
    }
    c->body_paused = 0;
    http_conn_timer(c, c->srv->limits->body_timeout_ms);
    if (!c->executing) {
        http_conn_feed(c);
    }
}

/* ==== closing ==== */

/* The last connection of a stopping server is gone: the cold slice
 * threads are joined (a slice still running ends there, its request was
 * already cancelled) and the owner is told. */
static void
http_server_stopped(http_server_t *s)
{
    void  (*done)(http_server_t *) = s->on_stopped;

    if (s->cold != NULL) {
        gw_tpool_close(s->cold);
        s->cold = NULL;
    }
    s->on_stopped = NULL;
    if (done != NULL) {
        done(s);
    }
}

static void
http_conn_handle_closed(uv_handle_t *h)
{
    http_conn_t    *c = h->data;
    http_server_t  *s = c->srv;

    if (--c->handles > 0) {
        return;
    }
    if (c->poll_fd >= 0) {
        close(c->poll_fd);
    }
    if (c->tls != NULL) {
        http_tls_close(c->tls);
        gw_free(c->tls);
    }
    gw_free(c->in);
    gw_free(c->pp);
    gw_free(c);
    if (s->stopping && s->nconns == 0) {
        http_server_stopped(s);
    }
}

static void
http_conn_close(http_conn_t *c)
{
    http_server_t  *s = c->srv;
    http_req_t     *r = c->r;

    if (c->closing) {
        return;
    }
    c->closing = 1;
    if (r != NULL) {
        c->r = NULL;
        r->conn = NULL;
        if (!r->ended) {
            r->aborted = 1;
            if (r->status == 0) {
                r->status = 499;   /* as nginx logs a client that went away */
            }
            http_access_log(r);
        }
        if (r->on_abort != NULL && (!r->ended || !r->body_done)) {
            /* Answered or not, the rest of the body will never come: a
             * handler still waiting for it must let go now. */
            r->holds++;
            r->on_abort(r);
            r->holds--;
        }
        if (r->sf_waiting) {
            /* The poll handle closes below and will never call back: end
             * the sendfile here, or its hold keeps r forever. */
            r->holds++;
            http_sf_finish(r, UV_ECANCELED);
            r->holds--;
        }
        if (r->holds == 0) {
            http_req_free(r);
        }
    }
    if (c->ip_counted) {
        http_conn_unadmit(s, c);
    }
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        s->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    s->nconns--;
    if (s->counted) {
        gw_metrics_conn(-1);
    }
    c->handles = 2;
    if (c->poll_fd >= 0) {
        c->handles++;
        uv_close((uv_handle_t *) &c->poll, http_conn_handle_closed);
    }
    uv_close((uv_handle_t *) &c->timer, http_conn_handle_closed);
    uv_close((uv_handle_t *) &c->tcp, http_conn_handle_closed);
}

/* ==== accepting ==== */

/* Counts c against its address (from ss), in every worker's connections,
 * and decides: 0 to serve it, 1 to answer its request 503 SlowDown, -1 to
 * close it now. */
static int
http_conn_admit(http_server_t *s, http_conn_t *c,
                const struct sockaddr_storage *ss)
{
    size_t  limit = s->limits->max_conns_per_ip;
    int     rc;

    if (limit == 0 || s->connip == NULL) {
        return 0;
    }
    if (ss->ss_family == AF_INET6) {
        memcpy(c->ip, &((const struct sockaddr_in6 *) ss)->sin6_addr, 16);
    } else {
        memcpy(c->ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
        memcpy(c->ip + 12, &((const struct sockaddr_in *) ss)->sin_addr, 4);
    }
    rc = http_connip_add(s->connip, s->connip_worker, c->ip, limit,
                         HTTP_LIMIT_GRACE, c->peer_ip);
    switch (rc) {
    case HTTP_CONNIP_SERVE:
        c->ip_counted = 1;
        return 0;
    case HTTP_CONNIP_SLOWDOWN:
        c->ip_counted = 1;
        return 1;
    case HTTP_CONNIP_CLOSE:
        return -1;
    default:
        return 0;                   /* the table is full: fail open */
    }
}

/* The connection c counted for its address is gone. */
static void
http_conn_unadmit(http_server_t *s, http_conn_t *c)
{
    c->ip_counted = 0;
    http_connip_remove(s->connip, s->connip_worker, c->ip, c->peer_ip);
}

static void
http_on_connection(uv_stream_t *ls, int status)
{
    http_server_t      *s = ls->data;
    http_conn_t        *c;
    struct sockaddr_storage  ss;
    int                 len = sizeof(ss), port = 0, admit = 0;
    char                ip[48] = "?";

    if (status < 0) {
        gw_log(GW_LOG_ERR, NULL, status, "accept failed");
        return;
    }
    c = gw_calloc(1, sizeof(*c));
    c->srv = s;
    c->poll_fd = -1;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->next = s->conns;
    if (s->conns) {
        s->conns->prev = c;
    }
    s->conns = c;
    s->nconns++;
    if (s->counted) {
        gw_metrics_conn(1);
    }
    if (uv_accept(ls, (uv_stream_t *) &c->tcp) != 0
        || s->nconns > s->limits->max_connections)
    {
        http_conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *) &ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *) &ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *) &ss, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
        }
    }
    snprintf(c->peer, sizeof(c->peer), "%s:%d", ip, port);
    snprintf(c->peer_ip, sizeof(c->peer_ip), "%s", ip);
    if (strcmp(ip, "?") != 0) {
        admit = http_conn_admit(s, c, &ss);
    }
    if (admit < 0) {
        http_conn_close(c);
        return;
    }
    c->limited = admit == 1;
    c->proxy_wait = ((http_listener_t *) ls)->proxy != 0;
    if (((http_listener_t *) ls)->tls && http_conn_tls_start(c) != GW_OK) {
        http_conn_close(c);
        return;
    }
    llhttp_init(&c->parser, HTTP_REQUEST, &http_settings);
    c->parser.data = c;
    http_conn_timer(c, s->limits->header_timeout_ms);
    http_conn_read_start(c);
}

http_server_t *
http_server_create(uv_loop_t *loop, const http_server_cb_t *cb,
                   const http_limits_t *limits, void *data)
{
    http_server_t  *s = gw_calloc(1, sizeof(*s));

    llhttp_settings_init(&http_settings);
    http_settings.on_message_begin = http_on_message_begin;
    http_settings.on_url = http_on_url;
    http_settings.on_header_field = http_on_header_field;
    http_settings.on_header_value = http_on_header_value;
    http_settings.on_headers_complete = http_on_headers_complete;
    http_settings.on_body = http_on_body;
    http_settings.on_message_complete = http_on_message_complete;
    s->loop = loop;
    s->cb = cb;
    s->limits = limits;
    s->data = data;
    if (RAND_bytes((unsigned char *) &s->req_base, sizeof(s->req_base)) != 1) {
        s->req_base = (uint64_t) time(NULL) * 2654435761u;
    }
    /* A table of its own until http_server_set_connip gives it the
     * workers' shared one; without one (no memory to map) nothing is
     * limited, which is logged. */
    s->connip = http_connip_create(1, limits->max_connections);
    if (s->connip == NULL) {
        gw_log(GW_LOG_ERR, NULL, -errno, "cannot map the table of "
               "limit_conn_per_ip: connections per address are not limited");
    }
    s->connip_own = 1;
    return s;
}

void
http_server_set_connip(http_server_t *s, http_connip_t *t, size_t worker)
{
    if (s->connip_own) {
        http_connip_free(s->connip);
    }
    s->connip = t;
    s->connip_worker = worker;
    s->connip_own = 0;
}

void
http_server_count(http_server_t *s)
{
    s->counted = 1;
}

void *
http_server_data(http_server_t *s)
{
    return s->data;
}

size_t
http_server_nconns(http_server_t *s)
{
    return s->nconns;
}

static void
http_listener_closed(uv_handle_t *h)
{
    gw_free(h);
}

static int http_listener_start(http_server_t *s, uv_os_sock_t fd,
                               const struct sockaddr *sa, unsigned flags);

int
http_server_listen(http_server_t *s, const char *host, int port)
{
    return http_server_listen_opts(s, host, port, 0);
}

int
http_server_listen_tls(http_server_t *s, const char *host, int port)
{
    return http_server_listen_opts(s, host, port, HTTP_LISTEN_TLS);
}

int
http_server_listen_fd(http_server_t *s, int fd, unsigned flags)
{
    return http_listener_start(s, fd, NULL, flags);
}

void
http_server_set_tls(http_server_t *s, SSL_CTX *ctx)
{
    /* Sessions hold references of their own (SSL_new): the connections
     * open now finish on the old certificate. */
    SSL_CTX_free(s->tls_ctx);
    s->tls_ctx = ctx;
}

int
http_server_listen_opts(http_server_t *s, const char *host, int port,
                        unsigned flags)
{
    struct sockaddr_storage  ss;
    int                      rc;

    if (strchr(host, ':') != NULL) {
        rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *) &ss);
    } else {
        rc = uv_ip4_addr(host, port, (struct sockaddr_in *) &ss);
    }
    if (rc != 0) {
        return rc;
    }
    return http_listener_start(s, -1, (struct sockaddr *) &ss, flags);
}

/* A listener on sa (bound here), or on fd, a socket bound and listening
 * already (a worker's, from the master); the server owns it from here. */
static int
http_listener_start(http_server_t *s, uv_os_sock_t fd,
                    const struct sockaddr *sa, unsigned flags)
{
    http_listener_t  *hl;
    uv_tcp_t         *l;
    int               rc;

    if (s->nlisteners == GW_NELEMS(s->listeners)) {
        return UV_ENOBUFS;
    }
    hl = gw_calloc(1, sizeof(*hl));
    hl->tls = (flags & HTTP_LISTEN_TLS) != 0;
    hl->proxy = (flags & HTTP_LISTEN_PROXY) != 0;
    l = &hl->tcp;
    uv_tcp_init(s->loop, l);
    l->data = s;
    rc = sa != NULL ? uv_tcp_bind(l, sa, 0) : uv_tcp_open(l, fd);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *) l, 511, http_on_connection);
    }
    if (rc != 0) {
        uv_close((uv_handle_t *) l, http_listener_closed);
        return rc;
    }
    s->listeners[s->nlisteners++] = l;
    return GW_OK;
}

void
http_server_shutdown(http_server_t *s, void (*done)(http_server_t *s))
{
    http_conn_t  *c, *next;
    size_t        i;

    s->stopping = 1;
    s->on_stopped = done;
    for (i = 0; i < s->nlisteners; i++) {
        uv_close((uv_handle_t *) s->listeners[i], http_listener_closed);
    }
    s->nlisteners = 0;
    for (c = s->conns; c != NULL; c = next) {
        next = c->next;
        if (c->r == NULL || c->in_head) {
            http_conn_close(c);
        } else {
            c->close_after = 1;
        }
    }
    if (s->nconns == 0) {
        http_server_stopped(s);
    }
}

void
http_server_close_all(http_server_t *s)
{
    while (s->conns != NULL) {
        http_conn_close(s->conns);
    }
}

/* ==== requests and responses ==== */

const gw_str_t *
http_req_header(const http_req_t *r, const char *name)
{
    size_t  i, n = strlen(name);

    for (i = 0; i < r->nheaders; i++) {
        if (r->headers[i].name.len == n
            && memcmp(r->headers[i].name.base, name, n) == 0)
        {
            return &r->headers[i].value;
        }
    }
    return NULL;
}

void
http_req_close_after(http_req_t *r)
{
    if (r->conn != NULL) {
        r->conn->close_after = 1;
    }
}

void
http_resp_header(http_req_t *r, const char *name, const char *value,
                 size_t len)
{
    gw_kv_t  *n;

    if (r->nout_hdrs == r->cap_out_hdrs) {
        r->cap_out_hdrs = r->cap_out_hdrs ? r->cap_out_hdrs * 2 : 16;
        n = gw_pool_alloc(r->pool, sizeof(gw_kv_t) * r->cap_out_hdrs);
        if (r->nout_hdrs) {
            memcpy(n, r->out_hdrs, sizeof(gw_kv_t) * r->nout_hdrs);
        }
        r->out_hdrs = n;
    }
    n = &r->out_hdrs[r->nout_hdrs++];
    n->name.base = gw_pool_strndup(r->pool, name, strlen(name));
    n->name.len = strlen(name);
    n->value.base = gw_pool_strndup(r->pool, value, len);
    n->value.len = len;
}

void
http_resp_headerf(http_req_t *r, const char *name, const char *fmt, ...)
{
    char     buf[1024];
    va_list  ap;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    http_resp_header(r, name, buf, GW_MIN((size_t) n, sizeof(buf) - 1));
}

/* Formats the status line and headers into r->pool. */
static char *
http_resp_head(http_req_t *r, int status, uint64_t content_length,
               const char *content_type, size_t *outlen)
{
    http_conn_t  *c = r->conn;
    size_t        i, cap = 512;
    const char   *reason;
    char         *b, *p;
    int           keep;

    for (i = 0; i < r->nout_hdrs; i++) {
        cap += r->out_hdrs[i].name.len + r->out_hdrs[i].value.len + 4;
    }
    keep = r->keepalive && !c->close_after && !c->srv->stopping;
    if (!r->body_done && (r->expect_continue || r->chunked
                          || (r->content_length > 0
                              && (uint64_t) r->content_length - c->body_seen
                                 > HTTP_DRAIN_MAX)))
    {
        /* Answered before the body is in: the connection will not be
         * reused (see http_req_ended), so say so. */
        keep = 0;
    }
    if (!keep) {
        c->close_after = 1;
    }
    if (content_type != NULL) {
        cap += strlen(content_type);
    }
    b = gw_pool_alloc(r->pool, cap);
    /* Built by hand: this runs for every response (see http_put_u64). */
    p = HTTP_PUT_LIT(b, "HTTP/1.1 ");
    p = http_put_u64(p, (uint64_t) (status < 0 ? 0 : status));
    *p++ = ' ';
    reason = http_reason(status);
    p = http_put(p, reason, strlen(reason));
    p = HTTP_PUT_LIT(p, "\r\nServer: s3gw\r\nDate: ");
    p = http_put(p, http_date_now(), 29);
    p = HTTP_PUT_LIT(p, "\r\nx-amz-request-id: ");
    p = http_put(p, r->id, 16);
    p = HTTP_PUT_LIT(p, "\r\nx-amz-id-2: ");
    p = http_put(p, r->id, 16);
    if (content_length == HTTP_CHUNKED) {
        r->chunked_out = 1;
        p = HTTP_PUT_LIT(p, "\r\nTransfer-Encoding: chunked\r\n");
    } else {
        p = HTTP_PUT_LIT(p, "\r\nContent-Length: ");
        p = http_put_u64(p, content_length);
        p = HTTP_PUT_LIT(p, "\r\n");
    }
    if (content_type != NULL) {
        p = HTTP_PUT_LIT(p, "Content-Type: ");
        p = http_put(p, content_type, strlen(content_type));
        p = HTTP_PUT_LIT(p, "\r\n");
    }
    if (!keep) {
        p = HTTP_PUT_LIT(p, "Connection: close\r\n");
    }
    *outlen = (size_t) (p - b);
    for (i = 0; i < r->nout_hdrs; i++) {
        memcpy(b + *outlen, r->out_hdrs[i].name.base, r->out_hdrs[i].name.len);
        *outlen += r->out_hdrs[i].name.len;
        memcpy(b + *outlen, ": ", 2);
        *outlen += 2;
        memcpy(b + *outlen, r->out_hdrs[i].value.base, r->out_hdrs[i].value.len);
        *outlen += r->out_hdrs[i].value.len;
        memcpy(b + *outlen, "\r\n", 2);
        *outlen += 2;
    }
    memcpy(b + *outlen, "\r\n", 2);
    *outlen += 2;
    r->status = status;
    r->responded = 1;
    return b;
}

typedef struct http_write_s {
    uv_write_t     req;
    http_req_t    *r;
    http_done_pt   done;
    int            end;      /* this write carries the whole response */
    char          *cipher;   /* what goes out on a TLS connection */
} http_write_t;

static void
http_write_cb(uv_write_t *w, int status)
{
    http_write_t  *hw = w->data;
    http_req_t    *r = hw->r;
    http_conn_t   *c = r->conn;

    r->writes_pending--;
    if (status != 0 && c != NULL) {
        http_conn_close(c);
        c = NULL;
    }
    if (c != NULL && !c->closing) {
        http_conn_timer(c, c->srv->limits->idle_timeout_ms);
    }
    if (hw->done != NULL) {
        hw->done(r, status);
    }
    /* The end of the response is this write, or the last one out after
     * http_resp_end (see there). */
    if ((hw->end || (r->end_on_drain && r->writes_pending == 0))
        && c != NULL && !c->closing)
    {
        r->end_on_drain = 0;
        http_req_ended(r);
    }
    gw_free(hw->cipher);
    /* hw lives in r->pool, which the release may free. */
    http_req_release(r);
}

static void
http_write(http_req_t *r, const char *buf, size_t len, http_done_pt done,
           int end)
{
    http_conn_t   *c = r->conn;
    http_write_t  *hw;
    uv_buf_t       b[2];
    unsigned       nb;
    int            rc;

    if (c == NULL || c->closing) {
        if (done != NULL) {
            done(r, UV_ECANCELED);
        }
        return;
    }
    /* From the pool, which the hold below keeps until the callback. */
    hw = gw_pool_alloc(r->pool, sizeof(*hw));
    hw->r = r;
    hw->done = done;
    hw->end = end;
    hw->req.data = hw;
    nb = 0;
    if (r->head_pending != NULL) {
        /* The head queued by http_resp_start goes out with the first bytes
         * after it, in one writev: one syscall and one segment for a small
         * response instead of two. */
        b[nb++] = uv_buf_init(r->head_pending, (unsigned) r->head_pending_len);
        r->head_pending = NULL;
    }
    if (len > 0 || nb == 0) {
        b[nb++] = uv_buf_init((char *) buf, (unsigned) len);
    }
    hw->cipher = NULL;
    if (c->tls != NULL) {
        /* What would leave in one writev leaves in one TLS buffer. */
        if ((nb == 2 && http_tls_write(c->tls, b[0].base, b[0].len) != GW_OK)
            || (hw->cipher = http_conn_tls_seal(c, b[nb - 1].base,
                                                b[nb - 1].len, &b[0]))
               == NULL)
        {
            http_conn_close(c);
            if (done != NULL) {
                done(r, UV_EPROTO);
            }
            return;
        }
        nb = 1;
    }
    r->writes_pending++;
    http_req_hold(r);
    rc = uv_write(&hw->req, (uv_stream_t *) &c->tcp, b, nb, http_write_cb);
    if (rc != 0) {
        r->writes_pending--;
        gw_free(hw->cipher);
        http_conn_close(c);
        if (done != NULL) {
            done(r, rc);
        }
        http_req_release(r);
    }
}

void
http_resp_send(http_req_t *r, int status, const char *body, size_t len,
               const char *content_type)
{
    char    *head, *all;
    size_t   hlen;

    if (r->conn == NULL || r->responded) {
        return;
    }
    head = http_resp_head(r, status, len, content_type, &hlen);
    if (r->head_only || body == NULL) {
        len = 0;
    }
    all = gw_pool_alloc(r->pool, hlen + len);
    memcpy(all, head, hlen);
    if (len) {
        memcpy(all + hlen, body, len);
    }
    r->body_bytes = len;
    http_write(r, all, hlen + len, NULL, 1);
}

void
http_resp_start(http_req_t *r, int status, uint64_t content_length)
{
    char    *head;
    size_t   hlen;

    if (r->conn == NULL || r->responded) {
        return;
    }
    head = http_resp_head(r, status, content_length, NULL, &hlen);
    /* Held back until the first body bytes or the end: see http_write. */
    r->head_pending = head;
    r->head_pending_len = hlen;
}

void
http_resp_write(http_req_t *r, const char *buf, size_t len, http_done_pt done)
{
    r->body_bytes += len;
    http_write(r, buf, len, done, 0);
}

static void
http_end_write_cb(http_req_t *r, int status)
{
    GW_UNUSED(status);
}

void
http_resp_chunk(http_req_t *r, const char *buf, size_t len)
{
    char  *b;
    int    n;

    if (len == 0 || !r->chunked_out) {
        return;
    }
    b = gw_pool_alloc(r->pool, len + 24);
    n = snprintf(b, 24, "%zx\r\n", len);
    memcpy(b + n, buf, len);
    memcpy(b + n + len, "\r\n", 2);
    r->body_bytes += len;
    http_write(r, b, (size_t) n + len + 2, NULL, 0);
}

void
http_resp_end(http_req_t *r)
{
    http_conn_t  *c = r->conn;

    if (c == NULL || c->closing) {
        return;
    }
    if (r->chunked_out) {
        r->chunked_out = 0;
        http_write(r, "0\r\n\r\n", 5, http_end_write_cb, 1);
        return;
    }
    if (r->head_pending != NULL) {
        /* A head alone (HEAD, an empty body): it is the whole response. */
        http_write(r, "", 0, NULL, 1);
        return;
    }
    if (r->writes_pending > 0) {
        /* The last write out ends the request (http_write_cb). */
        r->end_on_drain = 1;
        return;
    }
    http_req_ended(r);
}

/* ==== sendfile ==== */

/* sendfile goes out in slices of at most HTTP_SENDFILE_SLICE bytes. A slice
 * whose pages are all in the page cache runs on the loop, as nginx's
 * sendfile does: a cached body costs no thread hand-off. A cold one runs
 * on threads of the server's own (s->cold, at a lower priority: see
 * HTTP_SF_NICE), as nginx's "aio threads": on a cold file it waits for the
 * disk, and the loop must not (every other connection would wait with it).
 * Once a slice of a range was cold, the rest of the range stays cold: the
 * readahead that slice started makes the next pages resident while the
 * disk is still busy, and the loop would spend whole slices sending them
 * while other connections wait (a cold download is disk-bound anyway).
 * While other downloads run too, a cached slice goes to libuv's pool
 * (http_sf_runs). The socket
 * is non-blocking, so a slice never waits for the client: a full socket
 * buffer ends it with EAGAIN and the loop polls for writability before the
 * next one. The job sends through its own dup of the socket, so a
 * connection closed meanwhile cannot hand the descriptor number to another
 * socket under it; the dup is closed once the job is back on the loop. */

/* Sendfile runs under way in this process (one loop a process). A resident
 * slice goes out on the loop only while its run is the only one: with
 * several downloads at once the pool sends them on every core, where the
 * loop would send them one after the other on its own (on the 2-core box
 * 64 MiB GETs at c=4 went 2,052 -> 1,677 MB/s with all on the loop). */
static size_t  http_sf_runs;

/* Ends a sendfile run: tells its owner how it went, then drops the hold
 * http_resp_sendfile took, which may free r. Never while a slice runs. */
static void
http_sf_finish(http_req_t *r, int rc)
{
    http_done_pt  done = r->sf_done;

    if (r->sf_sock >= 0) {
        close(r->sf_sock);
        r->sf_sock = -1;
    }
    r->sf_done = NULL;
    r->sf_fd = -1;
    http_sf_runs--;
    r->sf_waiting = 0;
    done(r, rc);
    http_req_release(r);
}

static void
http_poll_cb(uv_poll_t *p, int status, int events)
{
    http_conn_t  *c = p->data;
    http_req_t   *r = c->r;
    int           err = 0;
    socklen_t     len = sizeof(err);

    uv_poll_stop(p);
    if (r == NULL || r->sf_done == NULL || !r->sf_waiting) {
        return;
    }
    r->sf_waiting = 0;
    if (status < 0) {
        /* libuv reports any POLLERR as UV_EBADF; the socket knows what
         * really happened (usually a reset). */
        if (getsockopt(c->poll_fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0
            && err != 0)
        {
            status = -err;
        }
        http_conn_close(c);
        http_sf_finish(r, status);
        return;
    }
    http_sf_run(r);
}

static void
http_sf_wait(http_req_t *r)
{
    http_conn_t  *c = r->conn;
    uv_os_fd_t    fd;

    if (c->poll_fd < 0) {
        if (uv_fileno((uv_handle_t *) &c->tcp, &fd) != 0
            || (c->poll_fd = dup(fd)) < 0
            || uv_poll_init(c->srv->loop, &c->poll, c->poll_fd) != 0)
        {
            if (c->poll_fd >= 0) {
                close(c->poll_fd);
                c->poll_fd = -1;
            }
            http_conn_close(c);
            http_sf_finish(r, UV_EIO);
            return;
        }
        c->poll.data = c;
    }
    r->sf_waiting = 1;
    uv_poll_start(&c->poll, UV_WRITABLE, http_poll_cb);
}

/* One slice: sendfile until HTTP_SENDFILE_SLICE bytes are out, the socket
 * is full (EAGAIN) or an error. Touches only the sf_ fields, which the loop
 * leaves alone while sf_busy is set, so it runs on a pool thread or, for a
 * resident range, on the loop itself. */
static void
http_sf_slice(http_req_t *r)
{
    off_t        off = (off_t) r->sf_off;
    size_t       left = GW_MIN(r->sf_left, (size_t) HTTP_SENDFILE_SLICE);
    ssize_t      n;

    r->sf_sent = 0;
    r->sf_err = 0;
    while (left > 0) {
        n = sendfile(r->sf_sock, r->sf_fd, &off, left);
        if (n > 0) {
            r->sf_sent += n;
            left -= (size_t) n;
            continue;
        }
        if (n == 0) {
            r->sf_err = -1;     /* the file is shorter than its record */
            break;
        }
        if (errno != EINTR) {
            r->sf_err = errno;
            break;
        }
    }
}

/* Cold slices (pages not in the page cache) run on threads of their own,
 * HTTP_SF_COLD_THREADS of them, at nice HTTP_SF_NICE: on a busy box the
 * loop, which answers every connection, then wins the CPU from a thread
 * copying a cold download at once, so the download no longer adds run-queue
 * waits to the small requests beside it (HEAD p99 during a cold 512 MiB
 * GET: 2.7x idle -> 1.2x, test/bench). They are not libuv's threads: a
 * thread cannot raise its priority again without CAP_SYS_NICE, and libuv's
 * pool also hashes and writes uploads and sends cached slices, which must
 * not lose the CPU to other programs. A failed setpriority changes nothing
 * but the latency: ignored. */
#define HTTP_SF_NICE          10
#define HTTP_SF_COLD_THREADS  4

static void
http_sf_work(uv_work_t *w)
{
    http_sf_slice(w->data);
}

static void
http_sf_cold_work(uv_work_t *w)
{
    static _Thread_local int  niced;

    if (!niced) {
        niced = 1;
        (void) setpriority(PRIO_PROCESS, (id_t) gettid(), HTTP_SF_NICE);
        /* So that top -H and the tests tell them from libuv's. */
        (void) pthread_setname_np(pthread_self(), "s3gw-cold-io");
    }
    http_sf_slice(w->data);
}

/* Back on the loop after a slice, wherever it ran: counts what it sent and
 * picks what comes next. A slice run on the loop that filled its quota
 * waits for writability before the next, which the socket has at once:
 * the other connections get their turn in between, as with nginx's
 * sendfile_max_chunk. */
static void
http_sf_done_slice(http_req_t *r, int status, int on_loop)
{
    http_conn_t  *c = r->conn;
    int           rc;

    r->sf_off += r->sf_sent;
    r->sf_left -= (size_t) r->sf_sent;
    r->body_bytes += (uint64_t) r->sf_sent;
    gw_metrics_sendfile(on_loop, (uint64_t) r->sf_sent);
    if (c == NULL || c->closing) {
        http_sf_finish(r, UV_ECANCELED);
        return;
    }
    if (r->sf_sent > 0) {
        http_conn_timer(c, c->srv->limits->idle_timeout_ms);
    }
    if (status == 0 && (r->sf_err == EAGAIN || r->sf_err == EWOULDBLOCK)) {
        http_sf_wait(r);
        return;
    }
    rc = status != 0 ? status
         : r->sf_err == -1 ? GW_ECORRUPT
         : -r->sf_err;
    if (rc != 0) {
        http_conn_close(c);
        http_sf_finish(r, rc);
        return;
    }
    if (on_loop && r->sf_left > 0) {
        http_sf_wait(r);
        return;
    }
    http_sf_run(r);
}

static void
http_sf_after(uv_work_t *w, int status)
{
    http_req_t  *r = w->data;

    r->sf_busy = 0;
    http_sf_done_slice(r, status, 0);
}

/* Whether the len bytes of fd at off are all in the page cache and read
 * (mincore over a short-lived mapping that is never touched). cachestat(2)
 * would be one call, but it counts pages still being read in, and sendfile
 * on the loop would wait for those. A page evicted between this and the
 * sendfile is read on the loop: rare, one slice at most, as nginx risks it
 * on every send. Any failure says no: the pool is always safe. */
static int
http_sf_resident(int fd, int64_t off, size_t len)
{
    unsigned char  vec[HTTP_SENDFILE_SLICE / 4096 + 2];
    long           pg = sysconf(_SC_PAGESIZE);
    int64_t        start;
    size_t         span, npages, i;
    void          *p;
    int            rc;

    if (pg <= 0 || len == 0) {
        return 0;
    }
    start = off - off % pg;
    span = (size_t) (off - start) + len;
    npages = (span + (size_t) pg - 1) / (size_t) pg;
    if (npages > sizeof(vec)) {
        return 0;
    }
    p = mmap(NULL, span, PROT_READ, MAP_SHARED, fd, (off_t) start);
    if (p == MAP_FAILED) {
        return 0;
    }
    rc = mincore(p, span, vec);
    munmap(p, span);
    if (rc != 0) {
        return 0;
    }
    for (i = 0; i < npages; i++) {
        if ((vec[i] & 1) == 0) {
            return 0;
        }
    }
    return 1;
}

/* Sends the next slice: on the loop when its pages are in the page cache
 * and no other download runs, as nginx does, else on a pool thread; or
 * ends the run when nothing is left. */
static void
http_sf_run(http_req_t *r)
{
    http_conn_t  *c = r->conn;
    uv_os_fd_t    sock;
    int           rc;

    if (c == NULL || c->closing) {
        http_sf_finish(r, UV_ECANCELED);
        return;
    }
    if (r->sf_left == 0) {
        http_conn_timer(c, c->srv->limits->idle_timeout_ms);
        http_sf_finish(r, GW_OK);
        return;
    }
    if (r->sf_sock < 0) {
        rc = uv_fileno((uv_handle_t *) &c->tcp, &sock);
        if (rc == 0 && (r->sf_sock = dup(sock)) < 0) {
            rc = -errno;
        }
        if (rc != 0) {
            goto fail;
        }
    }
    if (!r->sf_cold
        && !http_sf_resident(r->sf_fd, r->sf_off,
                             GW_MIN(r->sf_left, (size_t) HTTP_SENDFILE_SLICE)))
    {
        r->sf_cold = 1;
    }
    if (!r->sf_cold && http_sf_runs == 1) {
        http_sf_slice(r);
        http_sf_done_slice(r, 0, 1);
        return;
    }
    r->sf_work.data = r;
    r->sf_busy = 1;
    if (r->sf_cold && c->srv->cold == NULL
        && gw_tpool_open(&c->srv->cold, c->srv->loop, HTTP_SF_COLD_THREADS)
           != GW_OK)
    {
        c->srv->cold = NULL;        /* libuv's pool serves it, unniced */
    }
    if (r->sf_cold && c->srv->cold != NULL) {
        rc = gw_tpool_queue(c->srv->cold, &r->sf_work, http_sf_cold_work,
                            http_sf_after);
        rc = rc == GW_OK ? 0 : UV_ECANCELED;
    } else {
        rc = uv_queue_work(c->srv->loop, &r->sf_work, http_sf_work,
                           http_sf_after);
    }
    if (rc == 0) {
        return;
    }
    r->sf_busy = 0;
fail:
    http_conn_close(c);
    http_sf_finish(r, rc);
}

static void
http_sf_after_writes(http_req_t *r, int status)
{
    if (status != 0) {
        http_sf_finish(r, status);
        return;
    }
    http_sf_run(r);
}

void
http_resp_sendfile(http_req_t *r, uv_file fd, int64_t off, size_t len,
                   http_done_pt done)
{
    r->sf_fd = fd;
    r->sf_off = off;
    r->sf_left = len;
    r->sf_done = done;
    r->sf_cold = 0;
    http_sf_runs++;
    http_req_hold(r);
    if (r->conn != NULL && r->conn->tls != NULL) {
        http_tls_sendfile(r);
        return;
    }
    if (r->writes_pending > 0 || r->head_pending != NULL) {
        /* The head (or earlier body) must reach the socket first. */
        http_write(r, "", 0, http_sf_after_writes, 0);
        return;
    }
    http_sf_run(r);
}

/* ==== TLS ====
 *
 * A TLS connection keeps the plain path's shape: ciphertext read from the
 * socket goes into the session (http/tls.h), and what it decrypts lands in
 * c->in as a plain read would, so llhttp, the timers and the pauses work
 * unchanged. Decrypting stops where reading would stop (a paused parser or
 * body sink); the records still in the session are decrypted on resume,
 * before the socket is read again. Every write is encrypted at once into a
 * buffer of its own that lives until uv_write is done with it, so the
 * caller's rule (its buffer is borrowed until done runs) and the one-write-
 * at-a-time backpressure of the streaming paths hold as on plain TCP. */

/* Bytes a TLS "sendfile" reads from the file and encrypts at a time: big
 * enough that the thread pool round trip is small beside the crypto, small
 * enough that a slow client holds little (one slice of plaintext and one of
 * ciphertext per connection). */
#define HTTP_TLS_SLICE  (256 * 1024)

static const char  http_tls_plain_answer[] =
    "HTTP/1.1 400 Bad Request\r\nServer: s3gw\r\n"
    "Content-Type: text/plain\r\nContent-Length: 46\r\n"
    "Connection: close\r\n\r\n"
    "The plain HTTP request was sent to HTTPS port\n";

/* A write of the connection's own (handshake records, alerts, 100
 * Continue, the answer to plain HTTP), not of a request. */
typedef struct http_out_s {
    uv_write_t    req;
    http_conn_t  *c;
    int           close;        /* close the connection once it is out */
    char          data[];
} http_out_t;

static void
http_out_cb(uv_write_t *w, int status)
{
    http_out_t   *o = w->data;
    http_conn_t  *c = o->c;

    /* libuv calls back (with UV_ECANCELED) before the close callback of
     * the stream, so c is still there. */
    if ((status != 0 || o->close) && !c->closing) {
        http_conn_close(c);
    }
    gw_free(o);
}

/* Queues len bytes of buf (copied) on the socket as they are. */
static void
http_conn_out(http_conn_t *c, const char *buf, size_t len, int close)
{
    http_out_t  *o;
    uv_buf_t     b;

    if (c->closing || (len == 0 && !close)) {
        return;
    }
    o = gw_alloc(sizeof(*o) + len);
    o->c = c;
    o->close = close;
    o->req.data = o;
    memcpy(o->data, buf, len);
    b = uv_buf_init(o->data, (unsigned) len);
    if (uv_write(&o->req, (uv_stream_t *) &c->tcp, &b, 1, http_out_cb) != 0) {
        gw_free(o);
        http_conn_close(c);
    }
}

/* Sends whatever ciphertext the session has produced. */
static void
http_conn_tls_flush(http_conn_t *c)
{
    http_out_t  *o;
    size_t       n = http_tls_pending(c->tls);
    uv_buf_t     b;

    if (n == 0 || c->closing) {
        return;
    }
    o = gw_alloc(sizeof(*o) + n);
    o->c = c;
    o->close = 0;
    o->req.data = o;
    n = http_tls_take(c->tls, o->data, n);
    b = uv_buf_init(o->data, (unsigned) n);
    if (uv_write(&o->req, (uv_stream_t *) &c->tcp, &b, 1, http_out_cb) != 0) {
        gw_free(o);
        http_conn_close(c);
    }
}

static int
http_conn_tls_start(http_conn_t *c)
{
    if (c->srv->tls_ctx == NULL) {
        return GW_EINVAL;
    }
    c->tls = gw_alloc(sizeof(*c->tls));
    http_tls_accept(c->tls, c->srv->tls_ctx);
    return GW_OK;
}

/* Encrypts len bytes of buf into a new buffer (returned, for the caller to
 * free once written) described by out; NULL when the session failed. */
static char *
http_conn_tls_seal(http_conn_t *c, const char *buf, size_t len, uv_buf_t *out)
{
    size_t  n;
    char   *ct;

    if (http_tls_write(c->tls, buf, len) != GW_OK) {
        gw_log(GW_LOG_INFO, c->peer, 0, "%s", c->tls->err);
        return NULL;
    }
    n = http_tls_pending(c->tls);
    ct = gw_alloc(n > 0 ? n : 1);
    n = http_tls_take(c->tls, ct, n);
    *out = uv_buf_init(ct, (unsigned) n);
    return ct;
}

static void
http_conn_tls_send(http_conn_t *c, const char *buf, size_t len)
{
    if (!c->closing && http_tls_write(c->tls, buf, len) == GW_OK) {
        http_conn_tls_flush(c);
    }
}

static void
http_conn_tls_read(http_conn_t *c, const char *buf, size_t len)
{
    if (!c->tls_started) {
        c->tls_started = 1;
        /* A handshake record starts with 0x16; a request line with a
         * method in capitals. */
        if (buf[0] >= 'A' && buf[0] <= 'Z') {
            gw_log(GW_LOG_INFO, c->peer, 0, "plain HTTP request on a TLS "
                   "listener");
            uv_read_stop((uv_stream_t *) &c->tcp);
            c->reading = 0;
            http_conn_out(c, http_tls_plain_answer,
                          sizeof(http_tls_plain_answer) - 1, 1);
            return;
        }
    }
    if (http_tls_feed(c->tls, buf, len) != GW_OK) {
        http_conn_close(c);
        return;
    }
    http_conn_tls_pump(c);
}

/* Runs the handshake, then decrypts into c->in and feeds the parser, for
 * as long as the connection wants request bytes and the session has them. */
static void
http_conn_tls_pump(http_conn_t *c)
{
    uv_buf_t  b;
    size_t    n;
    int       rc;

    c->tls_pumping = 1;
    while (!c->closing) {
        if (!http_tls_done(c->tls)) {
            rc = http_tls_handshake(c->tls);
            http_conn_tls_flush(c);
            if (rc == GW_AGAIN) {
                http_conn_sock_read(c);
                break;
            }
            if (rc != GW_OK) {
                gw_log(GW_LOG_INFO, c->peer, 0, "%s", c->tls->err);
                http_conn_close(c);
                break;
            }
            continue;
        }
        http_conn_in_room(c, &b);
        rc = http_tls_read(c->tls, b.base, b.len, &n);
        http_conn_tls_flush(c);       /* e.g. an answer to a key update */
        if (rc == GW_AGAIN) {
            http_conn_sock_read(c);
            break;
        }
        if (rc == UV_EOF) {           /* close_notify */
            http_conn_eof(c);
            break;
        }
        if (rc != GW_OK) {
            gw_log(GW_LOG_INFO, c->peer, 0, "%s", c->tls->err);
            http_conn_close(c);
            break;
        }
        http_conn_took(c, n, b.len);
        if (!c->reading) {
            break;                    /* paused, or done reading */
        }
    }
    c->tls_pumping = 0;
}

/* The "sendfile" of a TLS connection: r->sf_* describe the range. Reads a
 * slice on the thread pool, encrypts and writes it, and reads the next one
 * once the socket has taken it, so a slow client holds one slice. */
typedef struct http_tls_sf_s {
    uv_fs_t      fs;
    http_req_t  *r;
    char        *buf;
} http_tls_sf_t;

static void http_tls_sf_read(http_tls_sf_t *t);
static void http_tls_sf_written(http_req_t *r, int status);

static void
http_tls_sf_end(http_tls_sf_t *t, int rc)
{
    http_req_t  *r = t->r;

    if (rc != GW_OK && r->conn != NULL) {
        http_conn_close(r->conn);
    }
    r->sf_tls = NULL;
    gw_free(t->buf);
    gw_free(t);
    http_sf_finish(r, rc);
}

static void
http_tls_sf_got(uv_fs_t *fs)
{
    http_tls_sf_t  *t = fs->data;
    http_req_t     *r = t->r;
    ssize_t         n = fs->result;

    uv_fs_req_cleanup(fs);
    if (r->conn == NULL || r->conn->closing) {
        http_tls_sf_end(t, UV_ECANCELED);
        return;
    }
    if (n <= 0) {
        /* 0: the file is shorter than its record. */
        http_tls_sf_end(t, n == 0 ? GW_ECORRUPT : (int) n);
        return;
    }
    r->sf_off += n;
    r->sf_left -= (size_t) n;
    r->body_bytes += (uint64_t) n;
    http_write(r, t->buf, (size_t) n, http_tls_sf_written, 0);
}

static void
http_tls_sf_written(http_req_t *r, int status)
{
    http_tls_sf_t  *t = r->sf_tls;

    if (status != 0) {
        http_tls_sf_end(t, status);
        return;
    }
    http_tls_sf_read(t);
}

static void
http_tls_sf_read(http_tls_sf_t *t)
{
    http_req_t  *r = t->r;
    uv_buf_t     b;

    if (r->conn == NULL || r->conn->closing) {
        http_tls_sf_end(t, UV_ECANCELED);
        return;
    }
    if (r->sf_left == 0) {
        http_tls_sf_end(t, GW_OK);
        return;
    }
    b = uv_buf_init(t->buf, (unsigned) GW_MIN(r->sf_left,
                                              (size_t) HTTP_TLS_SLICE));
    t->fs.data = t;
    if (uv_fs_read(r->conn->srv->loop, &t->fs, r->sf_fd, &b, 1, r->sf_off,
                   http_tls_sf_got) != 0)
    {
        http_tls_sf_end(t, UV_EIO);
    }
}

static void
http_tls_sendfile(http_req_t *r)
{
    http_tls_sf_t  *t;

    if (r->sf_left == 0) {
        http_sf_finish(r, GW_OK);
        return;
    }
    t = gw_alloc(sizeof(*t));
    t->r = r;
    t->buf = gw_alloc(GW_MIN(r->sf_left, (size_t) HTTP_TLS_SLICE));
    r->sf_tls = t;
    http_tls_sf_read(t);
}


/* ==== PROXY protocol ==== */

/* The first len bytes read on a proxy_protocol listener's connection, in
 * buf (inside c->in on plain TCP, whose free space was room; the TLS read
 * buffer otherwise). Takes the header off, makes its source the peer and
 * passes what follows on as if just read. Bytes of a header split over
 * reads wait in c->pp (at most HTTP_PROXY_MAX: longer is refused). */
static void
http_conn_proxy_read(http_conn_t *c, char *buf, size_t len, size_t room)
{
    http_proxy_hdr_t  h;
    size_t            prev = c->pp_len, take, used;
    char              ip[48];
    int               rc;

    if (c->pp != NULL) {
        take = GW_MIN(len, HTTP_PROXY_MAX - prev);
        memcpy(c->pp + prev, buf, take);
        c->pp_len += take;
        rc = http_proxy_parse(c->pp, c->pp_len, &h);
    } else {
        rc = http_proxy_parse(buf, len, &h);
    }
    if (rc == GW_AGAIN) {
        if (c->pp == NULL) {
            c->pp = gw_alloc(HTTP_PROXY_MAX);
            memcpy(c->pp, buf, len);
            c->pp_len = len;
        }
        return;
    }
    if (rc < 0) {
        /* nginx's "broken header": whoever this is did not come through
         * the proxy, or the proxy does not send the protocol. */
        gw_log(GW_LOG_INFO, c->peer, 0, "no valid PROXY protocol header; "
               "closing");
        http_conn_close(c);
        return;
    }
    c->proxy_wait = 0;
    gw_free(c->pp);
    c->pp = NULL;
    c->pp_len = 0;
    if (http_proxy_src_name(&h, ip, sizeof(ip)) == GW_OK) {
        snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, h.src_port);
        snprintf(c->peer_ip, sizeof(c->peer_ip), "%s", ip);
    }
    /* The header ended in this read (a shorter stream asked for more). */
    used = (size_t) rc - prev;
    if (used == len) {
        return;
    }
    if (c->tls != NULL) {
        http_conn_tls_read(c, buf + used, len - used);
        return;
    }
    memmove(buf, buf + used, len - used);
    http_conn_took(c, len - used, room);
}
