/* http/client.c: the outbound HTTP/1.1 client (see http/client.h).
 *
 * Shape. A client is one target; it has a list of connections and a FIFO of
 * waiting requests. The dispatcher (run from a zero-delay timer, "the kick",
 * never from inside another callback) gives waiting requests to idle
 * connections and opens new ones up to the cap. A connection goes
 * RESOLVING -> CONNECTING -> (HANDSHAKE) -> IDLE <-> BUSY, and any state can
 * end in http_client_conn_close, which also decides the fate of the request
 * it carried (retry or fail).
 *
 * Writing. Every byte we send lives in a slab (a write buffer the client
 * owns, with its uv_write_t), so no write ever points into the caller's or
 * the request's memory and a request can end while its writes are still
 * queued. The pump asks the producer for the next slab only while the
 * socket's write queue is under HTTP_CLIENT_HIGH_WATER and fewer than
 * HTTP_CLIENT_OUT_SLABS slabs are in flight; each write callback pumps
 * again. Under TLS the producer fills a slab with plaintext, which is
 * encrypted into the session's memory BIO and the slab handed back at once;
 * the ciphertext is then drained into slabs of its own.
 *
 * Reading. c->in holds plaintext: the socket reads into it directly, or,
 * under TLS, the read lands there, is fed to the session and c->in is
 * refilled by SSL_read. The parser consumes all of c->in unless the
 * consumer paused it (HPE_PAUSED from on_body), in which case the socket is
 * not read until http_client_resume feeds the rest. So c->in is always
 * empty when libuv asks for a read buffer, and one buffer per connection is
 * all the input memory there is.
 *
 * Reentrancy. User callbacks may call back into the client (cancel, close,
 * resume, request). Three rules keep that safe: a request the client is
 * working with is held (r->holds), and on_done runs only when the last hold
 * is released; connection memory is freed only from libuv's close
 * callbacks, so a closed connection stays readable until the stack unwinds;
 * and after every call that can run user code the caller checks c->closing
 * and c->req before going on. */
#include "http/client.h"
#include "http/tls.h"

#include <stdio.h>

#include "llhttp.h"

#define HTTP_CLIENT_IN_SIZE       (64 * 1024)  /* read buffer per connection */
#define HTTP_CLIENT_MAX_HEADERS   256
#define HTTP_CLIENT_FREE_SLABS    16           /* kept for reuse per client */
#define HTTP_CLIENT_MAX_ADDRS     8
#define HTTP_CLIENT_CHUNK_HEAD    8            /* room for "8000\r\n" */
#define HTTP_CLIENT_CHUNK_TAIL    8            /* "\r\n" and "0\r\n\r\n" */

#define HTTP_CLIENT_DEF_CONNS         4
#define HTTP_CLIENT_DEF_CONNECT_MS    10000
#define HTTP_CLIENT_DEF_RESPONSE_MS   60000
#define HTTP_CLIENT_DEF_IDLE_MS       15000
#define HTTP_CLIENT_DEF_CONTINUE_MS   1000

/* What the parser glue returns besides errors (which are negative). */
#define HTTP_RP_MORE      1    /* all input consumed; more is needed */
#define HTTP_RP_PAUSED    2    /* the consumer paused; input left over */
#define HTTP_RP_COMPLETE  3    /* the final response ended */
#define HTTP_RP_CONTINUE  4    /* a 100 Continue ended; input left over */

typedef struct http_client_conn_s  http_client_conn_t;
typedef struct http_slab_s         http_slab_t;

struct http_slab_s {
    uv_write_t           req;
    http_client_conn_t  *conn;
    http_slab_t         *next;            /* in the client's free list */
    size_t               len;
    char                 data[HTTP_CLIENT_SLAB_SIZE];
};

enum {
    HTTP_CONN_RESOLVING,
    HTTP_CONN_CONNECTING,
    HTTP_CONN_HANDSHAKE,
    HTTP_CONN_IDLE,
    HTTP_CONN_BUSY
};

enum {
    HTTP_BODY_DONE,          /* no body, or all of it queued on the socket */
    HTTP_BODY_WAIT,          /* held back until 100 Continue */
    HTTP_BODY_SENDING,
    HTTP_BODY_ABANDONED      /* a final response came first: never finished */
};

struct http_client_conn_s {
    uv_tcp_t             tcp;
    uv_timer_t           timer;           /* connect, response, continue or
                                           * idle clock, by state */
    uv_getaddrinfo_t     gai;
    uv_connect_t         connect;
    http_client_t       *cl;
    http_client_conn_t  *prev, *next;     /* the client's connections */
    int                  state;           /* HTTP_CONN_* */
    int                  handles;         /* uv handles not yet closed */
    struct sockaddr_storage  addrs[HTTP_CLIENT_MAX_ADDRS];
    int                  naddrs, addr_i;
    int                  last_err;
    http_tls_t           tls;
    llhttp_t             parser;
    char                *in;              /* HTTP_CLIENT_IN_SIZE bytes */
    size_t               in_pos, in_last;
    http_client_req_t   *req;             /* the request on the wire */
    size_t               slabs;           /* writes in flight */
    uint64_t             served;          /* responses completed here */
    uint64_t             idle_since;
    unsigned             tcp_open:1;      /* tcp initialized, not closing */
    unsigned             tls_on:1;
    unsigned             gai_pending:1;
    unsigned             reading:1;
    unsigned             eof:1;
    unsigned             closing:1;
    unsigned             processing:1, process_again:1;
    unsigned             pumping:1, pump_again:1;
    unsigned             exec_pending:1;  /* run the parser even on no input
                                           * (it was resumed) */
};

struct http_client_req_s {
    http_client_t           *cl;
    http_client_conn_t      *conn;
    http_client_req_t       *qprev, *qnext;
    void                    *data;
    http_client_produce_pt   produce;
    http_client_resp_pt      on_response;
    http_client_body_pt      on_body;
    http_client_done_pt      on_done;

    char                    *head;        /* the request head, kept for a
                                           * retry */
    size_t                   head_len;
    int64_t                  content_length;
    uint64_t                 body_left;   /* declared bytes not produced yet */
    uint64_t                 body_taken;  /* bytes the producer gave */
    int                      body;        /* HTTP_BODY_* */
    int                      holds;
    int                      rc;
    int                      fail_rc;     /* a callback's error, for the glue */
    unsigned                 is_head:1, idempotent:1, expect:1, chunked:1;
    unsigned                 no_reuse:1, queued:1, head_sent:1;
    unsigned                 retried:1, fresh_only:1;
    unsigned                 producer_paused:1, producer_wake:1, in_produce:1;
    unsigned                 consumer_paused:1, consumer_wake:1, in_consume:1;
    unsigned                 got_bytes:1, got_continue:1, interim:1;
    unsigned                 headers_done:1, complete:1, keepalive:1;
    unsigned                 finished:1;

    /* The response head being collected: bytes, and per header the offset
     * and length of its name and of its value. */
    char                    *rh;
    size_t                   rh_len, rh_cap;
    size_t                  *rh_off;
    size_t                   nh, nh_cap;
    int                      in_value;
    gw_kv_t                 *kv;
    http_client_resp_t       resp;
    long                     verify;
    char                     err[256];
};

struct http_client_s {
    uv_loop_t           *loop;
    uv_timer_t           kick;            /* runs the dispatcher on the next
                                           * loop turn; its close callback is
                                           * one of the two that may free us */
    char                *host;
    char                *hostport;        /* for Host and messages */
    char                *server_name;
    char                 port_str[8];
    int                  tls, verify;
    int                  numeric;
    struct sockaddr_storage  addr;
    SSL_CTX             *ssl_ctx;
    size_t               max_conns;
    uint64_t             connect_ms, response_ms, idle_ms, continue_ms;
    http_client_conn_t  *conns;
    size_t               nconns;          /* open (not closing) */
    size_t               nconns_mem;      /* not yet freed */
    http_client_req_t   *qhead, *qtail;
    size_t               nqueued;
    http_slab_t         *free_slabs;
    size_t               nfree, slabs_live, slabs_peak;
    uint64_t             connects, retries;
    unsigned             closing:1, kick_closed:1;
};

static void http_client_conn_close(http_client_conn_t *c, int rc,
                                   const char *msg);
static void http_client_conn_process(http_client_conn_t *c);
static void http_client_conn_pump(http_client_conn_t *c);
static void http_client_conn_timer(http_client_conn_t *c);
static void http_client_kick(http_client_t *cl);
static const llhttp_settings_t  http_client_settings;

/* ==== slabs ==== */

static http_slab_t *
http_client_slab_get(http_client_t *cl)
{
    http_slab_t  *s = cl->free_slabs;

    if (s != NULL) {
        cl->free_slabs = s->next;
        cl->nfree--;
    } else {
        s = gw_alloc(sizeof(*s));
    }
    cl->slabs_live++;
    cl->slabs_peak = GW_MAX(cl->slabs_peak, cl->slabs_live);
    s->conn = NULL;
    s->next = NULL;
    s->len = 0;
    return s;
}

/* Gives the spare write buffers back once no connection is busy, so that
 * an idle client holds none (nginx gives a keep-alive connection's large
 * buffers back the same way). */
static void
http_client_slab_trim(http_client_t *cl)
{
    http_slab_t  *s;

    while ((s = cl->free_slabs) != NULL) {
        cl->free_slabs = s->next;
        cl->nfree--;
        gw_free(s);
    }
}

static void
http_client_slab_put(http_client_t *cl, http_slab_t *s)
{
    cl->slabs_live--;
    if (cl->nfree < HTTP_CLIENT_FREE_SLABS) {
        s->next = cl->free_slabs;
        cl->free_slabs = s;
        cl->nfree++;
        return;
    }
    gw_free(s);
}

/* ==== requests: lifetime and the wait queue ==== */

static void
http_client_req_free(http_client_req_t *r)
{
    gw_free(r->head);
    gw_free(r->rh);
    gw_free(r->rh_off);
    gw_free(r->kv);
    gw_free(r);
}

static void
http_client_req_complete(http_client_req_t *r)
{
    r->on_done(r, r->rc);
    http_client_req_free(r);
}

/* Ends r with rc. on_done runs now, or when the last hold is released if
 * the client (or a callback of r) is still working with r. r must already
 * be off its connection and out of the queue. */
static void
http_client_req_finish(http_client_req_t *r, int rc, const char *msg)
{
    if (r->finished) {
        return;
    }
    r->finished = 1;
    r->rc = rc;
    if (rc != 0 && r->err[0] == '\0') {
        snprintf(r->err, sizeof(r->err), "%s", msg ? msg : gw_strerror(rc));
    }
    if (r->holds == 0) {
        http_client_req_complete(r);
    }
}

static void
http_client_req_hold(http_client_req_t *r)
{
    r->holds++;
}

/* Returns 1 when this release completed r: r is gone. */
static int
http_client_req_release(http_client_req_t *r)
{
    if (--r->holds == 0 && r->finished) {
        http_client_req_complete(r);
        return 1;
    }
    return 0;
}

/* Forgets what a failed attempt left, before the retry. */
static void
http_client_req_reset(http_client_req_t *r)
{
    r->head_sent = 0;
    r->producer_paused = r->producer_wake = 0;
    r->consumer_paused = r->consumer_wake = 0;
    r->got_bytes = r->got_continue = r->interim = 0;
    r->headers_done = r->complete = r->keepalive = 0;
    r->fail_rc = 0;
    r->rh_len = 0;
    r->nh = 0;
    r->in_value = 0;
    memset(&r->resp, 0, sizeof(r->resp));
    r->verify = 0;
    r->err[0] = '\0';
}

static void
http_client_queue_push(http_client_t *cl, http_client_req_t *r, int front)
{
    r->queued = 1;
    if (front) {
        r->qprev = NULL;
        r->qnext = cl->qhead;
        if (cl->qhead) {
            cl->qhead->qprev = r;
        } else {
            cl->qtail = r;
        }
        cl->qhead = r;
    } else {
        r->qnext = NULL;
        r->qprev = cl->qtail;
        if (cl->qtail) {
            cl->qtail->qnext = r;
        } else {
            cl->qhead = r;
        }
        cl->qtail = r;
    }
    cl->nqueued++;
}

static void
http_client_queue_remove(http_client_t *cl, http_client_req_t *r)
{
    if (r->qprev) {
        r->qprev->qnext = r->qnext;
    } else {
        cl->qhead = r->qnext;
    }
    if (r->qnext) {
        r->qnext->qprev = r->qprev;
    } else {
        cl->qtail = r->qprev;
    }
    r->qprev = r->qnext = NULL;
    r->queued = 0;
    cl->nqueued--;
}

/* ==== the response parser glue ====
 * These callbacks touch only the request (p->data), never a connection, so
 * that http_client_parse_response runs them without a socket. They record
 * what the connection must do (got_continue, complete, body abandoned) and
 * the connection acts once llhttp_execute has returned. */

static int
http_client_rh_append(llhttp_t *p, http_client_req_t *r, const char *at,
                      size_t len)
{
    size_t  cap;

    if (len > HTTP_CLIENT_MAX_RESP_HEAD - r->rh_len) {
        llhttp_set_error_reason(p, "response head too large");
        return -1;
    }
    if (r->rh_len + len > r->rh_cap) {
        cap = r->rh_cap ? r->rh_cap : 1024;
        while (cap < r->rh_len + len) {
            cap *= 2;
        }
        cap = GW_MIN(cap, (size_t) HTTP_CLIENT_MAX_RESP_HEAD);
        r->rh = gw_realloc(r->rh, cap);
        r->rh_cap = cap;
    }
    memcpy(r->rh + r->rh_len, at, len);
    r->rh_len += len;
    return 0;
}

static int
http_client_on_message_begin(llhttp_t *p)
{
    http_client_req_t  *r = p->data;

    r->rh_len = 0;
    r->nh = 0;
    r->in_value = 0;
    r->headers_done = 0;
    r->interim = 0;
    return 0;
}

static int
http_client_on_header_field(llhttp_t *p, const char *at, size_t len)
{
    http_client_req_t  *r = p->data;
    size_t             *h;

    if (r->headers_done) {
        return 0;                      /* the trailers of a chunked body */
    }
    if (r->nh == 0 || r->in_value) {
        if (r->nh == HTTP_CLIENT_MAX_HEADERS) {
            llhttp_set_error_reason(p, "too many response headers");
            return -1;
        }
        if (r->nh == r->nh_cap) {
            r->nh_cap = r->nh_cap ? r->nh_cap * 2 : 32;
            r->rh_off = gw_realloc(r->rh_off, sizeof(size_t) * 4 * r->nh_cap);
        }
        h = &r->rh_off[4 * r->nh++];
        h[0] = r->rh_len;
        h[1] = 0;
        h[2] = r->rh_len;
        h[3] = 0;
        r->in_value = 0;
    }
    h = &r->rh_off[4 * (r->nh - 1)];
    if (http_client_rh_append(p, r, at, len) != 0) {
        return -1;
    }
    h[1] += len;
    h[2] = r->rh_len;
    return 0;
}

static int
http_client_on_header_value(llhttp_t *p, const char *at, size_t len)
{
    http_client_req_t  *r = p->data;
    size_t             *h;

    if (r->headers_done || r->nh == 0) {
        return 0;
    }
    h = &r->rh_off[4 * (r->nh - 1)];
    r->in_value = 1;
    if (http_client_rh_append(p, r, at, len) != 0) {
        return -1;
    }
    h[3] += len;
    return 0;
}

static int
http_client_on_headers_complete(llhttp_t *p)
{
    http_client_req_t  *r = p->data;
    int                 status = p->status_code, rc;
    size_t              i, j, *h;
    gw_kv_t            *kv;

    if (status < 100) {
        llhttp_set_error_reason(p, "status below 100");
        return -1;
    }
    if (status == 101) {
        llhttp_set_error_reason(p, "unexpected 101 Switching Protocols");
        return -1;
    }
    if (status < 200) {
        /* Interim: 100 releases a held body, the others are ignored
         * (RFC 9110 15.2). Either way the final response follows. */
        r->interim = 1;
        if (status == 100 && r->body == HTTP_BODY_WAIT) {
            r->got_continue = 1;
        }
        return 1;                      /* no body; parse the next message */
    }
    r->kv = gw_realloc(r->kv, sizeof(gw_kv_t) * (r->nh + 1));
    for (i = 0; i < r->nh; i++) {
        h = &r->rh_off[4 * i];
        kv = &r->kv[i];
        for (j = 0; j < h[1]; j++) {
            r->rh[h[0] + j] = (char) gw_ascii_lower((unsigned char) r->rh[h[0] + j]);
        }
        kv->name.base = r->rh + h[0];
        kv->name.len = h[1];
        kv->value.base = r->rh + h[2];
        kv->value.len = h[3];
        /* llhttp leaves the value's trailing blanks to us */
        while (kv->value.len > 0 && (kv->value.base[kv->value.len - 1] == ' '
                                     || kv->value.base[kv->value.len - 1] == '\t'))
        {
            kv->value.len--;
        }
    }
    r->headers_done = 1;
    r->resp.status = status;
    r->resp.headers = r->kv;
    r->resp.nheaders = r->nh;
    r->resp.content_length = (p->flags & F_CONTENT_LENGTH)
                             && !(p->flags & F_CHUNKED)
                             ? (int64_t) p->content_length : -1;
    if (r->body == HTTP_BODY_WAIT || r->body == HTTP_BODY_SENDING) {
        /* A final answer before the body is all out: the server does not
         * want the rest (RFC 9112 9.5). Stop sending; the connection will
         * not be reused, since the server's view of the framing is lost. */
        r->body = HTTP_BODY_ABANDONED;
    }
    if (r->on_response != NULL) {
        r->in_consume = 1;
        rc = r->on_response(r, &r->resp);
        r->in_consume = 0;
        if (r->finished) {
            return -1;
        }
        if (rc != GW_OK) {
            r->fail_rc = rc;
            llhttp_set_error_reason(p, "aborted by on_response");
            return -1;
        }
    }
    if (r->is_head || status == 204 || status == 304) {
        /* No body whatever the headers say (RFC 9112 6.3); llhttp would
         * otherwise read a HEAD's Content-Length worth of the next reply. */
        return 1;
    }
    return 0;
}

static int
http_client_on_body(llhttp_t *p, const char *at, size_t len)
{
    http_client_req_t  *r = p->data;
    int                 rc;

    if (len == 0 || r->on_body == NULL) {
        /* llhttp reports an empty span when it is resumed on no input */
        return 0;
    }
    r->in_consume = 1;
    r->consumer_wake = 0;
    rc = r->on_body(r, at, len);
    r->in_consume = 0;
    if (r->finished) {
        return HPE_USER;
    }
    if (rc == GW_AGAIN) {
        if (r->consumer_wake) {
            r->consumer_wake = 0;       /* resumed before it returned */
            return 0;
        }
        r->consumer_paused = 1;
        return HPE_PAUSED;
    }
    if (rc != GW_OK) {
        r->fail_rc = rc;
        llhttp_set_error_reason(p, "aborted by on_body");
        return HPE_USER;
    }
    return 0;
}

static int
http_client_on_message_complete(llhttp_t *p)
{
    http_client_req_t  *r = p->data;

    if (r->interim) {
        r->interim = 0;
        /* Stop after a 100 that releases the body, so that the body starts
         * before whatever follows is parsed: the final status then finds
         * the body as sent as the 100 allowed, however the bytes of the two
         * were cut into reads. */
        return r->got_continue ? HPE_PAUSED : 0;
    }
    r->keepalive = llhttp_should_keep_alive(p) != 0;
    r->complete = 1;
    /* Stop right here: anything after the response is not ours to parse. */
    return HPE_PAUSED;
}

static const llhttp_settings_t  http_client_settings = {
    .on_message_begin = http_client_on_message_begin,
    .on_header_field = http_client_on_header_field,
    .on_header_value = http_client_on_header_value,
    .on_headers_complete = http_client_on_headers_complete,
    .on_body = http_client_on_body,
    .on_message_complete = http_client_on_message_complete,
};

/* Runs the parser over len bytes of data (len may be 0 after a resume).
 * Returns HTTP_RP_* with *used bytes consumed, or an error: a callback's
 * code, or UV_EPROTO with r->err naming what was malformed. The caller
 * checks r->finished first: a callback may have ended r. */
static int
http_client_parse(http_client_req_t *r, llhttp_t *p, const char *data,
                  size_t len, size_t *used)
{
    llhttp_errno_t  err;
    const char     *reason;

    *used = 0;
    err = llhttp_execute(p, data, len);
    if (err == HPE_OK) {
        *used = len;
        return HTTP_RP_MORE;
    }
    if (err == HPE_PAUSED) {
        *used = (size_t) (llhttp_get_error_pos(p) - data);
        return r->complete ? HTTP_RP_COMPLETE
               : r->consumer_paused ? HTTP_RP_PAUSED : HTTP_RP_CONTINUE;
    }
    if (r->finished) {
        return UV_ECANCELED;
    }
    if (r->fail_rc != 0) {
        snprintf(r->err, sizeof(r->err), "%s: %s",
                 llhttp_get_error_reason(p), gw_strerror(r->fail_rc));
        return r->fail_rc;
    }
    reason = llhttp_get_error_reason(p);
    snprintf(r->err, sizeof(r->err), "malformed response: %s (%s)",
             reason ? reason : "?", llhttp_errno_name(err));
    return UV_EPROTO;
}

/* The server closed the connection: that ends a response whose body runs
 * until the close; anything else was cut short. */
static int
http_client_parse_eof(http_client_req_t *r, llhttp_t *p)
{
    llhttp_errno_t  err;

    err = llhttp_finish(p);
    if (err == HPE_PAUSED && r->complete) {
        r->keepalive = 0;
        return HTTP_RP_COMPLETE;
    }
    if (r->finished) {
        return UV_ECANCELED;
    }
    snprintf(r->err, sizeof(r->err), "%s",
             r->resp.status != 0 ? "connection closed mid-response (body)"
             : r->got_bytes ? "connection closed mid-response (head)"
             : "connection closed before any response");
    return UV_EOF;
}

/* ==== connections: writing ==== */

static void
http_client_write_cb(uv_write_t *w, int status)
{
    http_slab_t         *s = w->data;
    http_client_conn_t  *c = s->conn;
    char                 msg[128];

    c->slabs--;
    http_client_slab_put(c->cl, s);
    if (c->closing) {
        return;                         /* canceled by the close */
    }
    if (status < 0) {
        snprintf(msg, sizeof(msg), "write to %s failed: %s", c->cl->hostport,
                 uv_strerror(status));
        http_client_conn_close(c, status, msg);
        return;
    }
    http_client_conn_timer(c);          /* the server took bytes: progress */
    http_client_conn_pump(c);
}

/* Queues len bytes of s from off on the socket. s is the connection's
 * until the write callback. On error the connection is closed. */
static int
http_client_conn_write(http_client_conn_t *c, http_slab_t *s, size_t off,
                       size_t len)
{
    uv_buf_t  b = uv_buf_init(s->data + off, (unsigned) len);
    char      msg[128];
    int       rc;

    s->conn = c;
    s->len = len;
    s->req.data = s;
    c->slabs++;
    rc = uv_write(&s->req, (uv_stream_t *) &c->tcp, &b, 1, http_client_write_cb);
    if (rc != 0) {
        c->slabs--;
        http_client_slab_put(c->cl, s);
        snprintf(msg, sizeof(msg), "write to %s failed: %s", c->cl->hostport,
                 uv_strerror(rc));
        http_client_conn_close(c, rc, msg);
    }
    return rc;
}

/* Sends what the TLS session has ready. */
static int
http_client_conn_flush_tls(http_client_conn_t *c)
{
    http_slab_t  *s;
    size_t        n;
    int           rc;

    while (!c->closing && http_tls_pending(&c->tls) > 0) {
        s = http_client_slab_get(c->cl);
        n = http_tls_take(&c->tls, s->data, sizeof(s->data));
        if (n == 0) {
            http_client_slab_put(c->cl, s);
            break;
        }
        rc = http_client_conn_write(c, s, 0, n);
        if (rc != 0) {
            return rc;
        }
    }
    return c->closing ? UV_ECANCELED : GW_OK;
}

/* Sends len bytes of plaintext from s at off: s itself under plain TCP,
 * its encryption under TLS (and then s goes back to the free list). */
static int
http_client_conn_send(http_client_conn_t *c, http_slab_t *s, size_t off,
                      size_t len)
{
    int  rc;

    if (!c->tls_on) {
        return http_client_conn_write(c, s, off, len);
    }
    rc = http_tls_write(&c->tls, s->data + off, len);
    http_client_slab_put(c->cl, s);
    if (rc != GW_OK) {
        http_client_conn_close(c, rc, c->tls.err);
        return rc;
    }
    return http_client_conn_flush_tls(c);
}

/* Asks the producer for the next piece of r's body and sends it. Returns
 * GW_OK, or an error when the connection or the request went away. */
static int
http_client_conn_body(http_client_conn_t *c, http_client_req_t *r)
{
    http_client_t  *cl = c->cl;
    http_slab_t    *s;
    size_t          off, end, cap, n = 0;
    char            hex[16], msg[160];
    int             rc, k;

    s = http_client_slab_get(cl);
    if (r->chunked) {
        /* [room][size CRLF][data][CRLF][last-chunk CRLF]: the size line is
         * written right before the data once n is known, so no byte moves */
        off = HTTP_CLIENT_CHUNK_HEAD;
        cap = sizeof(s->data) - HTTP_CLIENT_CHUNK_HEAD - HTTP_CLIENT_CHUNK_TAIL;
    } else {
        off = 0;
        cap = (size_t) GW_MIN((uint64_t) sizeof(s->data), r->body_left);
    }
    r->in_produce = 1;
    r->producer_wake = 0;
    rc = r->produce(r, s->data + off, cap, &n);
    r->in_produce = 0;
    if (r->finished || c->closing || c->req != r) {
        http_client_slab_put(cl, s);
        return UV_ECANCELED;
    }
    if (rc != GW_OK && rc != GW_DONE && rc != GW_AGAIN) {
        http_client_slab_put(cl, s);
        snprintf(msg, sizeof(msg), "the body producer failed: %s",
                 gw_strerror(rc));
        http_client_conn_close(c, rc, msg);
        return rc;
    }
    if (n > cap || (rc == GW_OK && n == 0)) {
        http_client_slab_put(cl, s);
        http_client_conn_close(c, GW_EINVAL, n > cap
                               ? "the body producer overran its buffer"
                               : "the body producer returned GW_OK and no byte");
        return GW_EINVAL;
    }
    r->body_taken += n;
    end = off + n;
    if (!r->chunked) {
        r->body_left -= n;
        if (r->body_left == 0) {
            r->body = HTTP_BODY_DONE;
        } else if (rc == GW_DONE) {
            http_client_slab_put(cl, s);
            snprintf(msg, sizeof(msg), "the body producer ended %llu bytes "
                     "short of the Content-Length",
                     (unsigned long long) r->body_left);
            http_client_conn_close(c, GW_EINVAL, msg);
            return GW_EINVAL;
        }
    } else {
        if (n > 0) {
            k = snprintf(hex, sizeof(hex), "%zx\r\n", n);
            off -= (size_t) k;
            memcpy(s->data + off, hex, (size_t) k);
            memcpy(s->data + end, "\r\n", 2);
            end += 2;
        }
        if (rc == GW_DONE) {
            memcpy(s->data + end, "0\r\n\r\n", 5);
            end += 5;
            r->body = HTTP_BODY_DONE;
        }
    }
    if (rc == GW_AGAIN && r->body == HTTP_BODY_SENDING) {
        if (r->producer_wake) {
            r->producer_wake = 0;      /* resumed before it returned */
        } else {
            r->producer_paused = 1;
        }
    }
    if (end == off) {
        http_client_slab_put(cl, s);
    } else if ((rc = http_client_conn_send(c, s, off, end - off)) != 0) {
        return rc;
    }
    if (r->producer_paused) {
        http_client_conn_timer(c);     /* our producer is the one waiting */
    }
    return GW_OK;
}

/* Sends what can be sent now: the head, then body pieces while the socket
 * keeps up. Called when a request starts and from every write callback,
 * resume and 100 Continue. */
static void
http_client_conn_pump(http_client_conn_t *c)
{
    http_client_req_t  *r;
    http_slab_t        *s;
    int                 gone;

    if (c->pumping) {
        c->pump_again = 1;
        return;
    }
    c->pumping = 1;
    do {
        c->pump_again = 0;
        r = c->req;
        if (c->closing || r == NULL || c->state != HTTP_CONN_BUSY) {
            break;
        }
        http_client_req_hold(r);
        if (!r->head_sent) {
            r->head_sent = 1;
            s = http_client_slab_get(c->cl);
            memcpy(s->data, r->head, r->head_len);
            (void) http_client_conn_send(c, s, 0, r->head_len);
        }
        while (!c->closing && c->req == r && !r->finished
               && r->body == HTTP_BODY_SENDING && !r->producer_paused
               && c->slabs < HTTP_CLIENT_OUT_SLABS
               && uv_stream_get_write_queue_size((uv_stream_t *) &c->tcp)
                  < HTTP_CLIENT_HIGH_WATER)
        {
            if (http_client_conn_body(c, r) != GW_OK) {
                break;
            }
        }
        gone = http_client_req_release(r);
        if (gone) {
            break;
        }
    } while (c->pump_again);
    c->pumping = 0;
}

/* ==== connections: the clock ==== */

static void
http_client_timer_cb(uv_timer_t *t)
{
    http_client_conn_t  *c = t->data;
    http_client_t       *cl = c->cl;
    http_client_req_t   *r = c->req;
    char                 msg[160];

    switch (c->state) {
    case HTTP_CONN_IDLE:
        http_client_conn_close(c, 0, NULL);
        return;
    case HTTP_CONN_BUSY:
        if (r->body == HTTP_BODY_WAIT) {
            /* No 100 in time: send the body anyway (RFC 9110 10.1.1). */
            r->body = HTTP_BODY_SENDING;
            http_client_conn_timer(c);
            http_client_conn_pump(c);
            return;
        }
        snprintf(msg, sizeof(msg), "%s sent nothing for %llu ms",
                 cl->hostport, (unsigned long long) cl->response_ms);
        http_client_conn_close(c, UV_ETIMEDOUT, msg);
        return;
    default:
        snprintf(msg, sizeof(msg), "connect to %s timed out after %llu ms",
                 cl->hostport, (unsigned long long) cl->connect_ms);
        http_client_conn_close(c, UV_ETIMEDOUT, msg);
    }
}

/* Sets the clock for the connection's state; called on every progress. */
static void
http_client_conn_timer(http_client_conn_t *c)
{
    http_client_t      *cl = c->cl;
    http_client_req_t  *r = c->req;
    uint64_t            ms;

    if (c->closing) {
        return;
    }
    switch (c->state) {
    case HTTP_CONN_IDLE:
        ms = cl->idle_ms;
        break;
    case HTTP_CONN_BUSY:
        if (r->body == HTTP_BODY_WAIT) {
            return;                     /* the continue clock runs */
        }
        if (r->consumer_paused
            || (r->body == HTTP_BODY_SENDING && r->producer_paused
                && c->slabs == 0))
        {
            /* Our side is the one waiting, not the server. */
            uv_timer_stop(&c->timer);
            return;
        }
        ms = cl->response_ms;
        break;
    default:
        return;                         /* the connect clock runs */
    }
    uv_timer_start(&c->timer, http_client_timer_cb, ms, 0);
}

/* ==== connections: reading ==== */

static void
http_client_conn_reading(http_client_conn_t *c);

static void
http_client_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    http_client_conn_t  *c = h->data;

    if (c->in_pos == c->in_last) {
        c->in_pos = c->in_last = 0;
    }
    buf->base = c->in + c->in_last;
    buf->len = HTTP_CLIENT_IN_SIZE - c->in_last;
}

static void
http_client_read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    http_client_conn_t  *c = st->data;
    char                 msg[128];

    if (c->closing || nread == 0) {
        return;
    }
    if (nread < 0) {
        if (nread == UV_EOF) {
            c->eof = 1;
            http_client_conn_process(c);
            return;
        }
        snprintf(msg, sizeof(msg), "read from %s failed: %s",
                 c->cl->hostport, uv_strerror((int) nread));
        http_client_conn_close(c, (int) nread, msg);
        return;
    }
    if (c->tls_on) {
        if (http_tls_feed(&c->tls, buf->base, (size_t) nread) != GW_OK) {
            http_client_conn_close(c, UV_EPROTO, c->tls.err);
            return;
        }
    } else {
        c->in_last += (size_t) nread;
    }
    if (c->state == HTTP_CONN_BUSY) {
        http_client_conn_timer(c);
    }
    http_client_conn_process(c);
}

static void
http_client_conn_reading(http_client_conn_t *c)
{
    int  want;

    want = !c->closing && !c->eof && c->tcp_open
           && c->state >= HTTP_CONN_HANDSHAKE
           && !(c->req != NULL && c->req->consumer_paused);
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *) &c->tcp, http_client_alloc_cb,
                          http_client_read_cb) == 0)
        {
            c->reading = 1;
        }
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *) &c->tcp);
        c->reading = 0;
    }
}

static size_t
http_client_busy(http_client_t *cl)
{
    http_client_conn_t  *c;
    size_t               n = 0;

    for (c = cl->conns; c != NULL; c = c->next) {
        n += c->state == HTTP_CONN_BUSY;
    }
    return n;
}

/* The final response ended: reuse the connection or close it, then end r. */
static void
http_client_conn_done(http_client_conn_t *c, http_client_req_t *r)
{
    http_client_t  *cl = c->cl;
    int             keep;

    keep = r->keepalive && !r->no_reuse && r->body == HTTP_BODY_DONE
           && c->in_pos == c->in_last && !c->eof && !cl->closing;
    c->req = NULL;
    r->conn = NULL;
    c->served++;
    if (keep) {
        c->state = HTTP_CONN_IDLE;
        c->idle_since = uv_now(cl->loop);
        http_client_conn_timer(c);
        http_client_kick(cl);
    } else {
        http_client_conn_close(c, 0, NULL);
    }
    if (cl->nqueued == 0 && http_client_busy(cl) == 0) {
        http_client_slab_trim(cl);
    }
    http_client_req_finish(r, 0, NULL);
}

/* Feeds c->in (or nothing, after a resume) to r's parser. */
static void
http_client_conn_parse(http_client_conn_t *c, http_client_req_t *r)
{
    size_t  used = 0, avail = c->in_last - c->in_pos;
    int     rc;

    if (avail > 0) {
        r->got_bytes = 1;
    }
    c->exec_pending = 0;
    http_client_req_hold(r);
    rc = http_client_parse(r, &c->parser, c->in + c->in_pos, avail, &used);
    if (c->closing || r->finished || c->req != r) {
        http_client_req_release(r);    /* a callback ended it */
        return;
    }
    c->in_pos += used;
    switch (rc) {
    case HTTP_RP_MORE:
        break;
    case HTTP_RP_PAUSED:
        http_client_conn_timer(c);
        break;
    case HTTP_RP_CONTINUE:
        llhttp_resume(&c->parser);     /* the body starts below */
        break;
    case HTTP_RP_COMPLETE:
        http_client_conn_done(c, r);
        break;
    default:
        http_client_conn_close(c, rc, NULL);
    }
    if (!c->closing && c->req == r && r->got_continue) {
        r->got_continue = 0;
        if (r->body == HTTP_BODY_WAIT) {
            r->body = HTTP_BODY_SENDING;
            http_client_conn_timer(c);
            http_client_conn_pump(c);
        }
    }
    http_client_req_release(r);
}

static void
http_client_conn_ready(http_client_conn_t *c);

/* The server closed its side. */
static void
http_client_conn_eof(http_client_conn_t *c)
{
    http_client_req_t  *r = c->req;
    int                 rc;

    if (r == NULL || c->state != HTTP_CONN_BUSY) {
        http_client_conn_close(c, c->state == HTTP_CONN_HANDSHAKE ? UV_EOF : 0,
                               "connection closed during the TLS handshake");
        return;
    }
    http_client_req_hold(r);
    rc = http_client_parse_eof(r, &c->parser);
    if (!c->closing && !r->finished && c->req == r) {
        if (rc == HTTP_RP_COMPLETE) {
            http_client_conn_done(c, r);
        } else {
            http_client_conn_close(c, rc, NULL);
        }
    }
    http_client_req_release(r);
}

/* Drains what was read: TLS handshake, decryption, parsing. */
static void
http_client_conn_input(http_client_conn_t *c)
{
    http_client_req_t  *r;
    size_t              n;
    int                 rc;

    for ( ;; ) {
        if (c->closing) {
            return;
        }
        if (c->state == HTTP_CONN_HANDSHAKE) {
            rc = http_tls_handshake(&c->tls);
            if (http_client_conn_flush_tls(c) != GW_OK) {
                return;
            }
            if (rc == GW_AGAIN) {
                break;
            }
            if (rc != GW_OK) {
                http_client_conn_close(c, rc, c->tls.err);
                return;
            }
            http_client_conn_ready(c);
            continue;
        }
        r = c->req;
        if (r != NULL && r->consumer_paused) {
            return;
        }
        if (c->in_pos < c->in_last || (c->exec_pending && r != NULL)) {
            if (r == NULL) {
                /* Bytes nobody asked for on an idle connection: the
                 * framing can no longer be trusted. */
                http_client_conn_close(c, 0, NULL);
                return;
            }
            http_client_conn_parse(c, r);
            continue;
        }
        if (c->tls_on) {
            c->in_pos = c->in_last = 0;
            rc = http_tls_read(&c->tls, c->in, HTTP_CLIENT_IN_SIZE, &n);
            if (http_client_conn_flush_tls(c) != GW_OK) {
                return;
            }
            if (rc == GW_OK) {
                c->in_last = n;
                continue;
            }
            if (rc == UV_EOF) {
                c->eof = 1;             /* close_notify */
            } else if (rc != GW_AGAIN) {
                http_client_conn_close(c, rc, c->tls.err);
                return;
            }
        }
        break;
    }
    if (c->eof) {
        http_client_conn_eof(c);
    }
}

static void
http_client_conn_process(http_client_conn_t *c)
{
    if (c->processing) {
        c->process_again = 1;
        return;
    }
    c->processing = 1;
    do {
        c->process_again = 0;
        http_client_conn_input(c);
    } while (c->process_again && !c->closing);
    c->processing = 0;
    http_client_conn_reading(c);
}

/* ==== connections: opening and closing ==== */

static void
http_client_maybe_free(http_client_t *cl);

static void
http_client_conn_maybe_free(http_client_conn_t *c)
{
    http_client_t  *cl = c->cl;

    if (!c->closing || c->handles > 0 || c->gai_pending) {
        return;
    }
    gw_free(c->in);
    gw_free(c);
    cl->nconns_mem--;
    http_client_maybe_free(cl);
}

static void
http_client_conn_handle_closed(uv_handle_t *h)
{
    http_client_conn_t  *c = h->data;

    c->handles--;
    http_client_conn_maybe_free(c);
}

/* A connect attempt failed and no request was on the connection: the
 * request waiting longest fails with it, and when no other connection is
 * left to serve the queue, every waiting request does (the target is down;
 * retrying is the caller's business). */
static void
http_client_connect_failed(http_client_t *cl, http_client_conn_t *c, int rc,
                           const char *msg)
{
    http_client_req_t  *r;
    size_t              n = cl->nqueued;
    int                 all = cl->nconns == 0;

    while (n-- > 0 && cl->qhead != NULL && !cl->closing) {
        r = cl->qhead;
        http_client_queue_remove(cl, r);
        r->verify = c->tls.verify;
        http_client_req_finish(r, rc, msg);
        if (!all) {
            break;
        }
    }
}

static int
http_client_retryable(http_client_t *cl, http_client_conn_t *c,
                      http_client_req_t *r, int rc)
{
    return !cl->closing && !r->finished && !r->retried && c->served > 0
           && !r->got_bytes && r->body_taken == 0 && r->idempotent
           && (rc == UV_EOF || rc == UV_ECONNRESET || rc == UV_EPIPE);
}

/* Closes c. The request on it, if any, is retried (see http_client.h) or
 * ends with rc and msg (msg is copied; NULL keeps the request's own). */
static void
http_client_conn_close(http_client_conn_t *c, int rc, const char *msg)
{
    http_client_t      *cl = c->cl;
    http_client_req_t  *r = c->req;
    int                 connecting = c->state < HTTP_CONN_IDLE;

    if (c->closing) {
        return;
    }
    c->closing = 1;
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        cl->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    cl->nconns--;
    if (c->tcp_open) {
        c->tcp_open = 0;
        uv_close((uv_handle_t *) &c->tcp, http_client_conn_handle_closed);
    }
    uv_close((uv_handle_t *) &c->timer, http_client_conn_handle_closed);
    if (c->gai_pending) {
        /* If the lookup already runs, its callback still comes; the
         * connection waits for it (gai_pending) before it is freed. */
        (void) uv_cancel((uv_req_t *) &c->gai);
    }
    if (c->tls_on) {
        http_tls_close(&c->tls);        /* tls.err and tls.verify survive */
    }
    c->req = NULL;
    if (r != NULL) {
        r->conn = NULL;
        r->verify = c->tls.verify;
        if (http_client_retryable(cl, c, r, rc)) {
            r->retried = 1;
            r->fresh_only = 1;
            cl->retries++;
            http_client_req_reset(r);
            http_client_queue_push(cl, r, 1);
        } else {
            http_client_req_finish(r, rc, msg);
        }
    } else if (connecting && rc != 0) {
        http_client_connect_failed(cl, c, rc, msg);
    }
    http_client_kick(cl);
}

/* Connected (and TLS done): the connection is ready for a request. */
static void
http_client_conn_ready(http_client_conn_t *c)
{
    c->state = HTTP_CONN_IDLE;
    c->idle_since = uv_now(c->cl->loop);
    uv_timer_stop(&c->timer);
    http_client_conn_timer(c);
    http_client_conn_reading(c);
    http_client_kick(c->cl);
}

static void http_client_conn_connect_next(http_client_conn_t *c);

static void
http_client_connect_cb(uv_connect_t *req, int status)
{
    http_client_conn_t  *c = req->data;
    http_client_t       *cl = c->cl;
    char                 msg[512];
    int                  rc;

    if (c->closing || status == UV_ECANCELED) {
        return;
    }
    if (status < 0) {
        c->last_err = status;
        http_client_conn_connect_next(c);
        return;
    }
    if (!cl->tls) {
        http_client_conn_ready(c);
        return;
    }
    c->tls_on = 1;
    rc = http_tls_open(&c->tls, cl->ssl_ctx, cl->server_name, cl->verify);
    if (rc != GW_OK) {
        snprintf(msg, sizeof(msg), "TLS setup for %s failed: %s",
                 cl->hostport, c->tls.err);
        http_client_conn_close(c, UV_EPROTO, msg);
        return;
    }
    c->state = HTTP_CONN_HANDSHAKE;
    http_client_conn_process(c);        /* sends the ClientHello, reads */
}

static void
http_client_tcp_retry_closed(uv_handle_t *h)
{
    http_client_conn_t  *c = h->data;

    c->handles--;
    if (c->closing) {
        http_client_conn_maybe_free(c);
        return;
    }
    http_client_conn_connect_next(c);
}

/* Tries the next resolved address; a failed socket is closed first, since
 * a libuv TCP handle cannot connect twice. */
static void
http_client_conn_connect_next(http_client_conn_t *c)
{
    http_client_t  *cl = c->cl;
    char            msg[160];
    int             rc;

    if (c->tcp_open) {
        c->tcp_open = 0;
        uv_close((uv_handle_t *) &c->tcp, http_client_tcp_retry_closed);
        return;
    }
    while (c->addr_i < c->naddrs) {
        uv_tcp_init(cl->loop, &c->tcp);
        c->tcp.data = c;
        c->handles++;
        c->tcp_open = 1;
        uv_tcp_nodelay(&c->tcp, 1);
        c->connect.data = c;
        rc = uv_tcp_connect(&c->connect, &c->tcp,
                            (struct sockaddr *) &c->addrs[c->addr_i++],
                            http_client_connect_cb);
        if (rc == 0) {
            return;
        }
        c->last_err = rc;
        c->tcp_open = 0;
        uv_close((uv_handle_t *) &c->tcp, http_client_tcp_retry_closed);
        return;
    }
    rc = c->last_err ? c->last_err : UV_EADDRNOTAVAIL;
    snprintf(msg, sizeof(msg), "connect to %s failed: %s", cl->hostport,
             uv_strerror(rc));
    http_client_conn_close(c, rc, msg);
}

static void
http_client_gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    http_client_conn_t  *c = req->data;
    struct addrinfo     *ai;
    char                 msg[160];

    c->gai_pending = 0;
    if (c->closing) {
        if (res != NULL) {
            uv_freeaddrinfo(res);
        }
        http_client_conn_maybe_free(c);
        return;
    }
    if (status < 0) {
        snprintf(msg, sizeof(msg), "cannot resolve %s: %s", c->cl->host,
                 uv_strerror(status));
        http_client_conn_close(c, status, msg);
        return;
    }
    for (ai = res; ai != NULL && c->naddrs < HTTP_CLIENT_MAX_ADDRS;
         ai = ai->ai_next)
    {
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            && ai->ai_addrlen <= sizeof(c->addrs[0]))
        {
            memcpy(&c->addrs[c->naddrs++], ai->ai_addr, ai->ai_addrlen);
        }
    }
    uv_freeaddrinfo(res);
    c->state = HTTP_CONN_CONNECTING;
    http_client_conn_connect_next(c);
}

static void
http_client_conn_open(http_client_t *cl)
{
    http_client_conn_t  *c = gw_calloc(1, sizeof(*c));
    struct addrinfo      hints;
    char                 msg[160];
    int                  rc;

    c->cl = cl;
    c->next = cl->conns;
    if (cl->conns) {
        cl->conns->prev = c;
    }
    cl->conns = c;
    cl->nconns++;
    cl->nconns_mem++;
    cl->connects++;
    c->in = gw_alloc(HTTP_CLIENT_IN_SIZE);
    uv_timer_init(cl->loop, &c->timer);
    c->timer.data = c;
    c->handles++;
    uv_timer_start(&c->timer, http_client_timer_cb, cl->connect_ms, 0);
    if (cl->numeric) {
        c->addrs[0] = cl->addr;
        c->naddrs = 1;
        c->state = HTTP_CONN_CONNECTING;
        http_client_conn_connect_next(c);
        return;
    }
    /* Resolved per connection, on the loop's thread pool: a few lookups
     * per target, and a DNS change is seen by the next connection. */
    c->state = HTTP_CONN_RESOLVING;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    c->gai.data = c;
    rc = uv_getaddrinfo(cl->loop, &c->gai, http_client_gai_cb, cl->host,
                        cl->port_str, &hints);
    if (rc != 0) {
        snprintf(msg, sizeof(msg), "cannot resolve %s: %s", cl->host,
                 uv_strerror(rc));
        http_client_conn_close(c, rc, msg);
        return;
    }
    c->gai_pending = 1;
}

/* Puts r on the idle connection c. */
static void
http_client_conn_start(http_client_conn_t *c, http_client_req_t *r)
{
    http_client_t  *cl = c->cl;

    c->req = r;
    r->conn = c;
    c->state = HTTP_CONN_BUSY;
    c->in_pos = c->in_last = 0;
    c->exec_pending = 0;
    llhttp_init(&c->parser, HTTP_RESPONSE, &http_client_settings);
    c->parser.data = r;
    r->body = r->content_length == 0 ? HTTP_BODY_DONE
              : r->expect ? HTTP_BODY_WAIT : HTTP_BODY_SENDING;
    if (r->body == HTTP_BODY_WAIT) {
        uv_timer_start(&c->timer, http_client_timer_cb, cl->continue_ms, 0);
    } else {
        http_client_conn_timer(c);
    }
    http_client_conn_pump(c);
}

/* ==== the dispatcher ==== */

/* The idle connection to use: the most recently used one (the likeliest to
 * be still open on the server's side), or one that never served a request
 * when fresh is set. */
static http_client_conn_t *
http_client_pick_idle(http_client_t *cl, int fresh)
{
    http_client_conn_t  *c, *best = NULL;

    for (c = cl->conns; c != NULL; c = c->next) {
        if (c->state != HTTP_CONN_IDLE || (fresh && c->served > 0)) {
            continue;
        }
        if (best == NULL || c->idle_since >= best->idle_since) {
            best = c;
        }
    }
    return best;
}

static void
http_client_dispatch(http_client_t *cl)
{
    http_client_req_t   *r, *next;
    http_client_conn_t  *c, *oldest;
    size_t               pending = 0;

    if (cl->closing) {
        return;
    }
    for (r = cl->qhead; r != NULL && !cl->closing; r = next) {
        next = r->qnext;
        c = http_client_pick_idle(cl, r->fresh_only);
        if (c != NULL) {
            http_client_queue_remove(cl, r);
            http_client_conn_start(c, r);
            /* The start may have run user code (the producer): the queue
             * may have changed, so begin again from its head. */
            next = cl->qhead;
        }
    }
    for (c = cl->conns; c != NULL; c = c->next) {
        pending += c->state < HTTP_CONN_IDLE;
    }
    while (!cl->closing && cl->nqueued > pending) {
        if (cl->nconns >= cl->max_conns) {
            /* Every idle connection left has served a request, so what
             * still waits is a retry that needs a fresh one: make room. */
            oldest = NULL;
            for (c = cl->conns; c != NULL; c = c->next) {
                if (c->state == HTTP_CONN_IDLE
                    && (oldest == NULL || c->idle_since < oldest->idle_since))
                {
                    oldest = c;
                }
            }
            if (oldest == NULL) {
                break;
            }
            http_client_conn_close(oldest, 0, NULL);
        }
        http_client_conn_open(cl);
        pending++;
    }
}

static void
http_client_kick_cb(uv_timer_t *t)
{
    http_client_dispatch(t->data);
}

static void
http_client_kick(http_client_t *cl)
{
    if (!cl->closing) {
        uv_timer_start(&cl->kick, http_client_kick_cb, 0, 0);
    }
}

/* ==== the client ==== */

static void
http_client_maybe_free(http_client_t *cl)
{
    if (!cl->closing || !cl->kick_closed || cl->nconns_mem > 0) {
        return;
    }
    http_client_slab_trim(cl);
    if (cl->ssl_ctx != NULL) {
        SSL_CTX_free(cl->ssl_ctx);
    }
    gw_free(cl->host);
    gw_free(cl->hostport);
    gw_free(cl->server_name);
    gw_free(cl);
}

static void
http_client_kick_closed(uv_handle_t *h)
{
    http_client_t  *cl = h->data;

    cl->kick_closed = 1;
    http_client_maybe_free(cl);
}

static int
http_client_host_ok(const char *h)
{
    size_t  i, n = strlen(h);

    if (n == 0 || n > 253) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z')
              || (h[i] >= '0' && h[i] <= '9') || h[i] == '.' || h[i] == '-'
              || h[i] == '_' || h[i] == ':' || h[i] == '%'))
        {
            return 0;
        }
    }
    return 1;
}

int
http_client_create(uv_loop_t *loop, const http_client_opts_t *o,
                   http_client_t **out, char *err, size_t errlen)
{
    http_client_t  *cl;
    int             tls, port, v6 = 0, rc;
    char            buf[300];

    *out = NULL;
    if (o->scheme == NULL || strcmp(o->scheme, "http") == 0) {
        tls = 0;
    } else if (strcmp(o->scheme, "https") == 0) {
        tls = 1;
    } else {
        if (err) {
            snprintf(err, errlen, "unknown scheme \"%s\"", o->scheme);
        }
        return GW_EINVAL;
    }
    if (o->host == NULL || !http_client_host_ok(o->host)) {
        if (err) {
            snprintf(err, errlen, "bad host \"%s\"", o->host ? o->host : "");
        }
        return GW_EINVAL;
    }
    port = o->port ? o->port : tls ? 443 : 80;
    if (port < 1 || port > 65535) {
        if (err) {
            snprintf(err, errlen, "bad port %d", o->port);
        }
        return GW_EINVAL;
    }
    cl = gw_calloc(1, sizeof(*cl));
    cl->loop = loop;
    cl->tls = tls;
    cl->verify = !o->tls_no_verify;
    cl->host = gw_strdup(o->host);
    cl->server_name = gw_strdup(o->tls_server_name ? o->tls_server_name
                                                   : o->host);
    snprintf(cl->port_str, sizeof(cl->port_str), "%d", port);
    if (uv_ip4_addr(o->host, port, (struct sockaddr_in *) &cl->addr) == 0) {
        cl->numeric = 1;
    } else if (uv_ip6_addr(o->host, port,
                           (struct sockaddr_in6 *) &cl->addr) == 0)
    {
        cl->numeric = 1;
        v6 = 1;
    }
    if (port == (tls ? 443 : 80)) {
        snprintf(buf, sizeof(buf), v6 ? "[%s]" : "%s", o->host);
    } else {
        snprintf(buf, sizeof(buf), v6 ? "[%s]:%d" : "%s:%d", o->host, port);
    }
    cl->hostport = gw_strdup(buf);
    cl->max_conns = o->max_connections ? o->max_connections
                                       : HTTP_CLIENT_DEF_CONNS;
    cl->connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms
                                           : HTTP_CLIENT_DEF_CONNECT_MS;
    cl->response_ms = o->response_timeout_ms ? o->response_timeout_ms
                                             : HTTP_CLIENT_DEF_RESPONSE_MS;
    cl->idle_ms = o->idle_timeout_ms ? o->idle_timeout_ms
                                     : HTTP_CLIENT_DEF_IDLE_MS;
    cl->continue_ms = o->continue_timeout_ms ? o->continue_timeout_ms
                                             : HTTP_CLIENT_DEF_CONTINUE_MS;
    if (tls) {
        rc = http_tls_client_ctx(&cl->ssl_ctx, cl->verify, o->ca_file, err,
                                 errlen);
        if (rc != GW_OK) {
            gw_free(cl->host);
            gw_free(cl->hostport);
            gw_free(cl->server_name);
            gw_free(cl);
            return rc;
        }
    }
    uv_timer_init(loop, &cl->kick);
    cl->kick.data = cl;
    *out = cl;
    return GW_OK;
}

void
http_client_close(http_client_t *cl)
{
    http_client_req_t  *r;

    if (cl->closing) {
        return;
    }
    cl->closing = 1;
    uv_close((uv_handle_t *) &cl->kick, http_client_kick_closed);
    while ((r = cl->qhead) != NULL) {
        http_client_queue_remove(cl, r);
        http_client_req_finish(r, UV_ECANCELED, "the client was closed");
    }
    while (cl->conns != NULL) {
        http_client_conn_close(cl->conns, UV_ECANCELED,
                               "the client was closed");
    }
}

static int
http_client_is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
           || (ch >= '0' && ch <= '9') || (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int
http_client_token_ok(const char *s, size_t n)
{
    size_t  i;

    if (n == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!http_client_is_tchar((unsigned char) s[i])) {
            return 0;
        }
    }
    return 1;
}

/* A field value may hold anything visible, blanks and obs-text, but no
 * control character: CR, LF or NUL would split or cut the head. */
static int
http_client_value_ok(const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        unsigned char  ch = (unsigned char) s[i];

        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* What checking a request's options learns for writing its head. */
typedef struct {
    size_t  mlen, tlen;
    size_t  len;              /* the whole head, the blank line included */
    int     has_host, expect, no_reuse;
    int     nframing;
    char    framing[64];      /* the Content-Length or Transfer-Encoding
                               * line, or empty */
} http_client_head_t;

/* The options every request needs, the method (a token) and the target
 * (already encoded: visible ASCII only). */
static int
http_client_opts_check(const http_client_req_opts_t *o, http_client_head_t *hd)
{
    size_t  i;

    if (o->on_done == NULL || o->method == NULL || o->target == NULL
        || o->content_length < HTTP_CLIENT_CHUNKED
        || (o->content_length != 0 && o->produce == NULL))
    {
        return GW_EINVAL;
    }
    hd->mlen = strlen(o->method);
    hd->tlen = strlen(o->target);
    if (!http_client_token_ok(o->method, hd->mlen) || hd->tlen == 0) {
        return GW_EINVAL;
    }
    for (i = 0; i < hd->tlen; i++) {
        if ((unsigned char) o->target[i] <= 0x20
            || (unsigned char) o->target[i] >= 0x7f)
        {
            return GW_EINVAL;
        }
    }
    hd->len = hd->mlen + 1 + hd->tlen + sizeof(" HTTP/1.1\r\n") - 1;
    return GW_OK;
}

/* The caller's headers: each must be well formed, and the framing headers
 * are ours to write. Notes Host, Expect: 100-continue and Connection: close
 * and adds each header's size to hd->len. */
static int
http_client_headers_check(const http_client_req_opts_t *o,
                          http_client_head_t *hd)
{
    const gw_kv_t  *h;
    size_t          i;

    for (i = 0; i < o->nheaders; i++) {
        h = &o->headers[i];
        if (!http_client_token_ok(h->name.base, h->name.len)
            || !http_client_value_ok(h->value.base, h->value.len)
            || gw_ascii_ieq(h->name.base, h->name.len, "content-length", 14)
            || gw_ascii_ieq(h->name.base, h->name.len, "transfer-encoding", 17))
        {
            return GW_EINVAL;
        }
        hd->has_host |= gw_ascii_ieq(h->name.base, h->name.len, "host", 4);
        if (gw_ascii_ieq(h->name.base, h->name.len, "expect", 6)
            && gw_ascii_ieq(h->value.base, h->value.len, "100-continue", 12))
        {
            hd->expect = 1;
        }
        if (gw_ascii_ieq(h->name.base, h->name.len, "connection", 10)
            && gw_ascii_ieq(h->value.base, h->value.len, "close", 5))
        {
            hd->no_reuse = 1;
        }
        hd->len += h->name.len + 2 + h->value.len + 2;
    }
    return GW_OK;
}

/* The body's framing line: chunked, or a Content-Length for a body or for
 * a method whose empty body a server may not assume. */
static void
http_client_framing(const http_client_req_opts_t *o, http_client_head_t *hd)
{
    if (o->content_length == HTTP_CLIENT_CHUNKED) {
        hd->nframing = snprintf(hd->framing, sizeof(hd->framing),
                                "Transfer-Encoding: chunked\r\n");
    } else if (o->content_length > 0
               || !(strcmp(o->method, "GET") == 0
                    || strcmp(o->method, "HEAD") == 0
                    || strcmp(o->method, "DELETE") == 0
                    || strcmp(o->method, "OPTIONS") == 0))
    {
        hd->nframing = snprintf(hd->framing, sizeof(hd->framing),
                                "Content-Length: %lld\r\n",
                                (long long) o->content_length);
    } else {
        hd->nframing = 0;
        hd->framing[0] = '\0';
    }
}

/* Writes the head that hd was measured for into a new buffer of hd->len
 * bytes, which the caller owns (gw_free). */
static char *
http_client_head_write(http_client_t *cl, const http_client_req_opts_t *o,
                       const http_client_head_t *hd)
{
    const gw_kv_t  *h;
    size_t          i;
    char           *head, *p;

    head = p = gw_alloc(hd->len);
    memcpy(p, o->method, hd->mlen);
    p += hd->mlen;
    *p++ = ' ';
    memcpy(p, o->target, hd->tlen);
    p += hd->tlen;
    memcpy(p, " HTTP/1.1\r\n", 11);
    p += 11;
    if (!hd->has_host) {
        p += sprintf(p, "Host: %s\r\n", cl->hostport);
    }
    for (i = 0; i < o->nheaders; i++) {
        h = &o->headers[i];
        memcpy(p, h->name.base, h->name.len);
        p += h->name.len;
        *p++ = ':';
        *p++ = ' ';
        memcpy(p, h->value.base, h->value.len);
        p += h->value.len;
        *p++ = '\r';
        *p++ = '\n';
    }
    memcpy(p, hd->framing, (size_t) hd->nframing);
    p += hd->nframing;
    *p++ = '\r';
    *p++ = '\n';
    return head;
}

/* A new request for the checked options; it owns its head. */
static http_client_req_t *
http_client_req_new(http_client_t *cl, const http_client_req_opts_t *o,
                    const http_client_head_t *hd)
{
    http_client_req_t  *r;

    r = gw_calloc(1, sizeof(*r));
    r->cl = cl;
    r->data = o->data;
    r->produce = o->produce;
    r->on_response = o->on_response;
    r->on_body = o->on_body;
    r->on_done = o->on_done;
    r->content_length = o->content_length;
    r->chunked = o->content_length == HTTP_CLIENT_CHUNKED;
    r->body_left = o->content_length > 0 ? (uint64_t) o->content_length : 0;
    r->expect = hd->expect && o->content_length != 0;
    r->no_reuse = hd->no_reuse;
    r->is_head = strcmp(o->method, "HEAD") == 0;
    r->idempotent = strcmp(o->method, "GET") == 0 || r->is_head
                    || strcmp(o->method, "PUT") == 0
                    || strcmp(o->method, "DELETE") == 0
                    || strcmp(o->method, "OPTIONS") == 0;
    r->head = http_client_head_write(cl, o, hd);
    r->head_len = hd->len;
    return r;
}

int
http_client_request(http_client_t *cl, const http_client_req_opts_t *o,
                    http_client_req_t **out)
{
    http_client_req_t   *r;
    http_client_head_t   hd;
    int                  rc;

    if (out != NULL) {
        *out = NULL;
    }
    if (cl->closing) {
        return UV_ECANCELED;
    }
    /* Everything is checked and measured before anything is allocated, so
     * no error path has memory to free. */
    memset(&hd, 0, sizeof(hd));
    rc = http_client_opts_check(o, &hd);
    if (rc != GW_OK) {
        return rc;
    }
    rc = http_client_headers_check(o, &hd);
    if (rc != GW_OK) {
        return rc;
    }
    if (!hd.has_host) {
        hd.len += sizeof("Host: \r\n") - 1 + strlen(cl->hostport);
    }
    http_client_framing(o, &hd);
    hd.len += (size_t) hd.nframing + 2;
    if (hd.len > HTTP_CLIENT_MAX_REQ_HEAD) {
        return GW_ETOOBIG;
    }

    r = http_client_req_new(cl, o, &hd);
    http_client_queue_push(cl, r, 0);
    http_client_kick(cl);
    if (out != NULL) {
        *out = r;
    }
    return GW_OK;
}

void
http_client_resume(http_client_req_t *r)
{
    http_client_conn_t  *c = r->conn;

    if (r->finished) {
        return;
    }
    if (r->in_produce) {
        r->producer_wake = 1;
    }
    if (r->in_consume) {
        r->consumer_wake = 1;
    }
    if (c == NULL || c->closing) {
        return;
    }
    http_client_req_hold(r);
    if (r->producer_paused) {
        r->producer_paused = 0;
        http_client_conn_timer(c);
        http_client_conn_pump(c);
    }
    if (!r->finished && c->req == r && !c->closing && r->consumer_paused) {
        r->consumer_paused = 0;
        llhttp_resume(&c->parser);
        c->exec_pending = 1;
        http_client_conn_timer(c);
        http_client_conn_process(c);
    }
    http_client_req_release(r);
}

void
http_client_cancel(http_client_req_t *r)
{
    if (r->finished) {
        return;
    }
    if (r->queued) {
        http_client_queue_remove(r->cl, r);
    } else if (r->conn != NULL) {
        http_client_conn_close(r->conn, UV_ECANCELED, "canceled");
        return;
    }
    http_client_req_finish(r, UV_ECANCELED, "canceled");
}

void *
http_client_req_data(const http_client_req_t *r)
{
    return r->data;
}

const http_client_resp_t *
http_client_req_resp(const http_client_req_t *r)
{
    return &r->resp;
}

const char *
http_client_req_error(const http_client_req_t *r)
{
    return r->err;
}

long
http_client_req_verify_result(const http_client_req_t *r)
{
    return r->verify;
}

const gw_str_t *
http_client_resp_header(const http_client_resp_t *resp, const char *name)
{
    size_t  i, n = strlen(name);

    for (i = 0; i < resp->nheaders; i++) {
        if (resp->headers[i].name.len == n
            && memcmp(resp->headers[i].name.base, name, n) == 0)
        {
            return &resp->headers[i].value;
        }
    }
    return NULL;
}

void
http_client_stats(const http_client_t *cl, http_client_stats_t *st)
{
    st->connections = cl->nconns;
    st->connects = cl->connects;
    st->queued = cl->nqueued;
    st->out_bytes = cl->slabs_live * HTTP_CLIENT_SLAB_SIZE;
    st->out_bytes_peak = cl->slabs_peak * HTTP_CLIENT_SLAB_SIZE;
    st->spare_bytes = cl->nfree * HTTP_CLIENT_SLAB_SIZE;
    st->retries = cl->retries;
}

/* ==== the test hook ==== */

typedef struct {
    http_client_parse_result_t  *res;
    unsigned                     flags;
    unsigned                     calls;
} http_client_hook_t;

static int
http_client_hook_response(http_client_req_t *r, const http_client_resp_t *resp)
{
    http_client_hook_t  *h = r->data;
    size_t               i, j;

    for (i = 0; i < resp->nheaders; i++) {
        for (j = 0; j < resp->headers[i].name.len; j++) {
            if (resp->headers[i].name.base[j] >= 'A'
                && resp->headers[i].name.base[j] <= 'Z')
            {
                abort();                /* names must come lowercased */
            }
        }
    }
    if (resp->status < 200 || h->res->status != 0) {
        abort();                        /* one final head, never interim */
    }
    h->res->status = resp->status;
    h->res->nheaders = resp->nheaders;
    return GW_OK;
}

static int
http_client_hook_body(http_client_req_t *r, const char *at, size_t len)
{
    http_client_hook_t  *h = r->data;
    size_t               i;

    if (len == 0 || h->res->status == 0) {
        abort();
    }
    for (i = 0; i < len; i++) {
        h->res->body_hash = (h->res->body_hash ^ (unsigned char) at[i])
                            * 0x100000001b3ULL;
    }
    h->res->body_bytes += len;
    if ((h->flags & HTTP_CLIENT_PARSE_PAUSE) && (++h->calls & 1)) {
        return GW_AGAIN;
    }
    return GW_OK;
}

int
http_client_parse_response(const char *data, size_t len, unsigned flags,
                           size_t slice, http_client_parse_result_t *res)
{
    http_client_req_t   *r = gw_calloc(1, sizeof(*r));
    http_client_hook_t   h;
    llhttp_t             p;
    size_t               pos = 0, end, used;
    int                  rc;

    memset(res, 0, sizeof(*res));
    res->body_hash = 0xcbf29ce484222325ULL;
    h.res = res;
    h.flags = flags;
    h.calls = 0;
    r->data = &h;
    r->on_response = http_client_hook_response;
    r->on_body = http_client_hook_body;
    r->is_head = (flags & HTTP_CLIENT_PARSE_HEAD) != 0;
    r->body = (flags & HTTP_CLIENT_PARSE_EXPECT) ? HTTP_BODY_WAIT
                                                 : HTTP_BODY_DONE;
    r->holds = 1;                       /* nothing here ever completes r */
    llhttp_init(&p, HTTP_RESPONSE, &http_client_settings);
    p.data = r;
    if (slice == 0) {
        slice = len;
    }
    for ( ;; ) {
        end = pos + GW_MIN(slice, len - pos);
        if (end > pos) {
            r->got_bytes = 1;
        }
        rc = http_client_parse(r, &p, data + pos, end - pos, &used);
        if (r->got_continue) {
            /* what the connection does: send the body, all at once here */
            r->got_continue = 0;
            res->got_continue = 1;
            if (r->body == HTTP_BODY_WAIT) {
                r->body = HTTP_BODY_DONE;
            }
        }
        if (rc == HTTP_RP_PAUSED || rc == HTTP_RP_CONTINUE) {
            pos += used;
            r->consumer_paused = 0;
            llhttp_resume(&p);
            continue;
        }
        if (rc == HTTP_RP_COMPLETE) {
            pos += used;
            res->complete = 1;
            res->leftover = len - pos;
            res->keepalive = r->keepalive && r->body == HTTP_BODY_DONE
                             && res->leftover == 0;
            rc = GW_OK;
            break;
        }
        if (rc < 0) {
            break;
        }
        pos = end;
        if (pos == len) {
            rc = http_client_parse_eof(r, &p);
            if (rc == HTTP_RP_COMPLETE) {
                res->complete = 1;
                rc = GW_OK;
            }
            break;
        }
    }
    if (res->complete && !r->is_head && r->resp.status != 204
        && r->resp.status != 304 && r->resp.content_length >= 0
        && res->body_bytes != (uint64_t) r->resp.content_length)
    {
        abort();                        /* Content-Length is the law */
    }
    http_client_req_free(r);
    return rc;
}
