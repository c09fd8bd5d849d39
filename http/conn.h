/* http/conn.h: HTTP/1.1 server connections on libuv + llhttp. Owns the
 * listening sockets, each connection's socket, read buffer, parser, timers,
 * TLS session (on a TLS listener; http/tls.h does the OpenSSL part) and the
 * request being served, and writes responses (from memory, or from a file
 * with sendfile). Knows nothing about S3: the layer above gets a parsed
 * request head through on_request and answers through http_resp_*.
 *
 * One request at a time per connection: with pipelining the parser pauses at
 * the end of a request until its response has been written. Request bodies
 * are delivered as borrowed views (valid only during the callback); when the
 * body sink says it is behind (GW_AGAIN) the socket stops being read until
 * http_req_resume(). */
#ifndef HTTP_CONN_H
#define HTTP_CONN_H

#include <openssl/ssl.h>
#include <uv.h>

#include "core/gw.h"
#include "core/log.h"
#include "core/pool.h"
#include "http/connip.h"

typedef struct http_server_s  http_server_t;
typedef struct http_conn_s    http_conn_t;
typedef struct http_req_s     http_req_t;

typedef int  (*http_body_pt)(http_req_t *r, const char *at, size_t len);
typedef void (*http_req_pt)(http_req_t *r);
typedef void (*http_done_pt)(http_req_t *r, int rc);

typedef struct http_limits_s {
    size_t    max_header_size;     /* request line + headers, bytes */
    size_t    max_headers;
    size_t    max_url;
    uint64_t  header_timeout_ms;
    uint64_t  idle_timeout_ms;     /* keep-alive, and waiting on a write */
    uint64_t  body_timeout_ms;     /* between two reads of a body */
    size_t    max_connections;
    size_t    max_conns_per_ip;    /* open at once from one peer address,
                                    * in every worker of the table of
                                    * http_server_set_connip; 0: no limit */
} http_limits_t;

typedef struct http_server_cb_s {
    /* The request head is complete. The handler answers now, or sets the
     * body callbacks on r and answers once the body is in. */
    http_req_pt   on_request;
    /* The head broke a limit or did not parse; answer with this status and
     * S3-style code. r has no valid target when the request line was bad. */
    void        (*on_error)(http_req_t *r, int status, const char *code,
                            const char *message);
} http_server_cb_t;

struct http_req_s {
    http_conn_t   *conn;
    void          *ctx;             /* the server's data */
    gw_pool_t     *pool;            /* freed when the request ends */
    int            method;          /* llhttp_method_t */
    gw_str_t       method_name;
    gw_str_t       target;          /* raw request-target */
    gw_str_t       path;            /* raw, still percent-encoded */
    gw_str_t       query;           /* after '?', raw, may be empty */
    gw_kv_t       *headers;         /* names lowercased; all in pool */
    size_t         nheaders;
    int64_t        content_length;  /* -1 when absent */
    unsigned       chunked:1;       /* Transfer-Encoding: chunked */
    unsigned       expect_continue:1;
    unsigned       keepalive:1;
    unsigned       responded:1;     /* response head queued */
    unsigned       body_done:1;     /* the whole body has been received */
    unsigned       aborted:1;       /* connection gone; answer nothing */
    unsigned       head_only:1;     /* HEAD: never send a body */
    unsigned       chunked_out:1;   /* the response uses chunked coding */
    unsigned       secure:1;        /* arrived on a TLS listener */
    char           id[17];          /* request id, 16 hex digits */
    const char    *peer;            /* "ip:port" of the client */
    const char    *peer_ip;         /* its address alone */
    uint64_t       start_ms;
    int            status;
    uint64_t       body_bytes;      /* response body bytes sent */
    gw_log_rec_t   log;             /* what the handler adds to a json
                                     * access log line: operation, bucket,
                                     * key, user (borrowed: they must live
                                     * as long as the request's pool) */
    uint64_t       body_in;         /* request body bytes read (after
                                     * chunked decoding) */
    uint64_t       start_ns;        /* uv_hrtime() at the request head */
    const char    *op;              /* the operation, for metrics: a string
                                     * of static life, or NULL */
    unsigned       counted:1;       /* the server counts it in metrics */

    /* Set by the handler. on_body returns GW_OK, GW_AGAIN (took the bytes,
     * but stop reading until http_req_resume) or an error (the handler
     * has answered or will answer; the rest of the body is discarded). */
    http_body_pt   on_body;
    http_req_pt    on_body_end;     /* the whole body has arrived */
    http_req_pt    on_abort;        /* the connection went away before
                                     * the body was all in */
    void          *data;            /* handler state */
    int            holds;           /* async work still referring to r */

    /* Response internals. */
    gw_kv_t       *out_hdrs;
    size_t         nout_hdrs, cap_out_hdrs;
    int            writes_pending;
    char          *head_pending;    /* the head of http_resp_start, not
                                     * yet written (in pool) */
    size_t         head_pending_len;
    unsigned       end_on_drain:1;  /* http_resp_end ran while writes were
                                     * out: the last one ends r */
    http_done_pt   write_done;
    uv_file        sf_fd;
    int64_t        sf_off;
    size_t         sf_left;
    http_done_pt   sf_done;
    int            sf_waiting;      /* sendfile waits for writability */
    void          *sf_tls;          /* the slice reader of a TLS send */
    int            sf_busy;         /* a slice runs on a pool thread */
    int            sf_cold;         /* a slice of this range was not in
                                     * the page cache: the rest goes to
                                     * the pool too */
    int            sf_sock;         /* the slice's own dup of the socket */
    uv_work_t      sf_work;
    ssize_t        sf_sent;         /* what the slice sent */
    int            sf_err;          /* and why it stopped: 0, EAGAIN, errno,
                                     * or -1 at the end of the file */
    int            ended;
};

/* Starts a server on the loop. cb and limits are borrowed for its life. */
http_server_t *http_server_create(uv_loop_t *loop, const http_server_cb_t *cb,
                                  const http_limits_t *limits, void *data);
void *http_server_data(http_server_t *s);

/* max_conns_per_ip counts in t (shared by the workers, see http/connip.h)
 * as worker, instead of the table of its own the server starts with, so
 * the limit holds for the whole server. t is borrowed for the server's
 * life. Call before the server listens. */
void http_server_set_connip(http_server_t *s, http_connip_t *t,
                            size_t worker);

/* Binds and listens on host:port. Returns GW_OK or a UV_E* error. */
int http_server_listen(http_server_t *s, const char *host, int port);
/* Listens on fd, a socket bound (and listening) already: a worker's, from
 * the master (core/master.c), with http_server_listen_opts's flags. The
 * server owns fd from here on. */
int http_server_listen_fd(http_server_t *s, int fd, unsigned flags);

/* The same for a TLS listener: each connection does a TLS handshake with
 * the context of http_server_set_tls, then HTTP/1.1 as on a plain one. A
 * client that speaks plain HTTP to it gets 400 "The plain HTTP request was
 * sent to HTTPS port" and is closed, as from nginx. */
int http_server_listen_tls(http_server_t *s, const char *host, int port);

/* http_server_listen with options: HTTP_LISTEN_TLS as _tls;
 * HTTP_LISTEN_PROXY (nginx's `listen ... proxy_protocol`): every
 * connection must begin with a PROXY protocol header (v2 or v1, before the
 * TLS handshake on a TLS listener), whose source address becomes the
 * request's peer (policies, access log). One that sends no valid header
 * within header_timeout is closed. max_conns_per_ip still counts the
 * socket's peer, the proxy. */
#define HTTP_LISTEN_TLS    0x1
#define HTTP_LISTEN_PROXY  0x2
int http_server_listen_opts(http_server_t *s, const char *host, int port,
                            unsigned flags);

/* Takes ctx (a server context, http_tls_server_ctx) for the handshakes of
 * connections accepted from now on, and frees the one before (SIGHUP's
 * reload); open connections keep theirs. Without one, the connections of a
 * TLS listener are closed as they come. */
void http_server_set_tls(http_server_t *s, SSL_CTX *ctx);

/* Counts the requests and connections of s in core/metrics.h (the S3
 * server; not the status listener that serves the figures). */
void http_server_count(http_server_t *s);

/* Stops accepting, closes idle connections and lets busy ones finish their
 * current request; calls done once no connection is left. */
void http_server_shutdown(http_server_t *s, void (*done)(http_server_t *s));

/* Closes whatever is still open (after the shutdown timeout). */
void http_server_close_all(http_server_t *s);
size_t http_server_nconns(http_server_t *s);

/* Looks a request header up by lowercase name; NULL when absent. */
const gw_str_t *http_req_header(const http_req_t *r, const char *name);

/* Keeps r alive across async work: every hold needs one release. A request
 * whose connection closed is freed at its last release. */
void http_req_hold(http_req_t *r);
void http_req_release(http_req_t *r);

/* Reading was paused by an on_body GW_AGAIN: feed on. */
void http_req_resume(http_req_t *r);

/* Adds a response header; name and value are copied into r->pool. */
void http_resp_header(http_req_t *r, const char *name, const char *value,
                      size_t len);
void http_resp_headerf(http_req_t *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A whole response with an in-memory body (copied). Ends the request. */
void http_resp_send(http_req_t *r, int status, const char *body, size_t len,
                    const char *content_type);

/* Starts a streamed response of content_length body bytes: queue the head,
 * then send the body with http_resp_write/http_resp_sendfile, then call
 * http_resp_end. For HEAD only the head goes out. */
void http_resp_start(http_req_t *r, int status, uint64_t content_length);

/* content_length for http_resp_start when the length is not known yet: the
 * body goes out with chunked transfer coding through http_resp_chunk. */
#define HTTP_CHUNKED  UINT64_MAX

/* One chunk of a chunked response (copied). */
void http_resp_chunk(http_req_t *r, const char *buf, size_t len);

/* Sends len bytes of buf (borrowed until done runs). */
void http_resp_write(http_req_t *r, const char *buf, size_t len,
                     http_done_pt done);

/* Sends len bytes of file fd from off. On plain TCP with sendfile, whose
 * calls run on libuv's thread pool in bounded slices (a cold file blocks a
 * thread on the disk, never the loop); on TLS by reading slices of the file
 * on the thread pool and encrypting them, one slice in flight (see
 * http_tls_sendfile). done runs on the loop once they are all out, or with
 * an error. fd stays the caller's and must stay open until done runs. */
void http_resp_sendfile(http_req_t *r, uv_file fd, int64_t off, size_t len,
                        http_done_pt done);

/* The body is complete: finish the request (keep-alive or close). */
void http_resp_end(http_req_t *r);

/* Closes the connection after the current response (e.g. the handler gave up
 * on a request body it did not read). */
void http_req_close_after(http_req_t *r);

/* HTTP date (RFC 7231 IMF-fixdate) of t into buf (30 bytes). */
void http_date(int64_t t, char buf[32]);

#endif
