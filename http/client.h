/* http/client.h: the outbound HTTP/1.1 client, on the libuv loop, for the
 * replication pusher. Owns, per target (scheme, host, port): the keep-alive
 * connections (at most max_connections; requests beyond wait in a FIFO
 * queue), their sockets, TLS sessions, parsers, timers and write buffers,
 * the one SSL_CTX of the target, and each request from submission to its
 * on_done. Knows nothing about S3: the caller builds the target and signs
 * and supplies every header but the body framing.
 *
 * Bodies stream both ways and are never held whole:
 *   - the request body is pulled from a producer callback, which copies the
 *     next bytes into a buffer the client owns; the client asks only while
 *     the socket's write queue (uv_stream_get_write_queue_size) is below a
 *     high-water mark, and again from the write callback once it drains. A
 *     producer that has nothing yet (a chunk file read pending on the thread
 *     pool) returns GW_AGAIN and later calls http_client_resume();
 *   - the response body is pushed to a consumer as borrowed views; a
 *     consumer that returns GW_AGAIN stops the parser there and the socket
 *     is not read until http_client_resume().
 * Memory per busy connection is bounded whatever the body sizes: one 64 KiB
 * read buffer, at most HTTP_CLIENT_OUT_SLABS (+1 under TLS) write buffers of
 * 32 KiB, the response head (at most HTTP_CLIENT_MAX_RESP_HEAD) and, for
 * TLS, the session: at most one read of ciphertext waiting in it, and
 * OpenSSL's record buffers, which it gives back while the connection is
 * idle. An idle connection keeps its read buffer; an idle client keeps no
 * write buffer.
 *
 * Callbacks follow libuv's rule: a function that takes callbacks and returns
 * an error never calls them; once http_client_request() returned 0, on_done
 * runs exactly once. No callback runs from inside http_client_request(),
 * and on_done never runs while another callback of the same request is on
 * the stack (a cancel or close from inside one completes after it returns).
 *
 * Errors given to on_done (a request fails as a whole; nothing is retried
 * except as said at http_client_request):
 *   UV_ECONNREFUSED, UV_EAI_*, ...   connect or resolve failed (libuv's code)
 *   UV_ETIMEDOUT      connect (+ TLS handshake), response or write timeout
 *   UV_EPROTO         TLS failed, or the response was malformed; the
 *                     message names which (a certificate that failed
 *                     verification is named, "TLS certificate verify
 *                     failed: self-signed certificate (X509_V 18)", and
 *                     http_client_req_verify_result() gives the code)
 *   UV_EOF            the server closed the connection before the response
 *                     was complete (UV_ECONNRESET / UV_EPIPE when it reset it)
 *   UV_ECANCELED      http_client_cancel() or http_client_close()
 *   GW_EINVAL         the producer broke its contract (see below)
 *   any code a callback returned to abort the request. */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include <uv.h>

#include "core/gw.h"

typedef struct http_client_s      http_client_t;
typedef struct http_client_req_s  http_client_req_t;

/* Size of one write buffer and how many a connection may have queued on
 * its socket at once; the producer is also not asked while more than
 * HTTP_CLIENT_HIGH_WATER bytes wait in the socket's write queue. */
#define HTTP_CLIENT_SLAB_SIZE   (32 * 1024)
#define HTTP_CLIENT_OUT_SLABS   6
#define HTTP_CLIENT_HIGH_WATER  (128 * 1024)

/* The largest request head (request line and headers), which must fit one
 * write buffer, and the largest response head. */
#define HTTP_CLIENT_MAX_REQ_HEAD  HTTP_CLIENT_SLAB_SIZE
#define HTTP_CLIENT_MAX_RESP_HEAD (64 * 1024)

/* content_length of a request whose body length is not known: the body
 * goes out with Transfer-Encoding: chunked. */
#define HTTP_CLIENT_CHUNKED     (-1)

/* A target and how to talk to it. Zero means the default in every field,
 * and the zero default of TLS is the safe one (verify). All strings are
 * copied by http_client_create. */
typedef struct http_client_opts_s {
    const char  *scheme;               /* "http" or "https" */
    const char  *host;                 /* DNS name, IPv4 or IPv6 literal
                                        * (without brackets) */
    int          port;                 /* 0: 80 or 443 */
    size_t       max_connections;      /* keep-alive pool cap; 0: 4 */
    uint64_t     connect_timeout_ms;   /* resolve + connect + TLS handshake;
                                        * 0: 10 s */
    uint64_t     response_timeout_ms;  /* longest silence of the server while
                                        * a request is on the wire (no byte
                                        * read, no write completed); paused
                                        * while our producer or consumer is
                                        * the one waiting; 0: 60 s */
    uint64_t     idle_timeout_ms;      /* an unused keep-alive connection is
                                        * closed after this; 0: 15 s, below
                                        * what servers use, so that we close
                                        * first rather than race their close */
    uint64_t     continue_timeout_ms;  /* with Expect: 100-continue, how long
                                        * to wait for 100 before sending the
                                        * body anyway (RFC 9110 10.1.1);
                                        * 0: 1 s */
    int          tls_no_verify;        /* 1: accept any certificate (tls_verify
                                        * off); 0: verify chain and name */
    const char  *ca_file;              /* PEM CA bundle; NULL: the system store */
    const char  *tls_server_name;      /* the name to send as SNI and to verify;
                                        * NULL: host */
} http_client_opts_t;

/* The response head, as the server sent it. Everything it points to belongs
 * to the request and stays valid until on_done returns. */
typedef struct http_client_resp_s {
    int              status;           /* 0 until a final head arrived */
    const gw_kv_t   *headers;          /* names lowercased, values without
                                        * surrounding blanks, in order */
    size_t           nheaders;
    int64_t          content_length;   /* -1: chunked, until close, or none */
} http_client_resp_t;

/* The producer of a request body. Called when the connection can take more:
 * copy up to cap bytes into buf (the client's memory, valid only during the
 * call) and set *len. Returns
 *   GW_OK      *len > 0 bytes were produced and more will follow;
 *   GW_DONE    the body is complete after these *len bytes (*len may be 0).
 *              With a declared length the client stops asking once it has
 *              that many bytes, so GW_DONE is needed only for a chunked body;
 *              GW_DONE before the declared length is a GW_EINVAL failure;
 *   GW_AGAIN   *len bytes (maybe 0) were produced and nothing more is ready:
 *              the client stops asking until http_client_resume(r), which the
 *              producer may call from anywhere, even before it returns;
 *   an error   the request ends with it (the connection is closed).
 * The producer is never asked for more than the declared length. */
typedef int (*http_client_produce_pt)(http_client_req_t *r, char *buf,
                                      size_t cap, size_t *len);

/* The final response head arrived (interim 1xx responses are consumed by
 * the client). resp is valid until on_done returns. Return GW_OK, or an
 * error to abort the request with it. */
typedef int (*http_client_resp_pt)(http_client_req_t *r,
                                   const http_client_resp_t *resp);

/* A piece of the response body (chunked framing removed). at is borrowed:
 * valid only during the call. Return GW_OK; GW_AGAIN (the bytes are taken,
 * but deliver nothing more and stop reading the socket until
 * http_client_resume(r)); or an error to abort the request with it. */
typedef int (*http_client_body_pt)(http_client_req_t *r, const char *at,
                                   size_t len);

/* The request is over: rc is 0 when a complete response arrived, whatever
 * its status, else the error (see the top of this file). r and everything
 * it points to is freed when this returns. */
typedef void (*http_client_done_pt)(http_client_req_t *r, int rc);

/* What to send. method, target and headers are copied into the request
 * head by http_client_request, so they are borrowed only for that call. */
typedef struct http_client_req_opts_s {
    const char              *method;   /* "PUT", "GET", "HEAD", ... */
    const char              *target;   /* origin-form, already encoded:
                                        * "/bucket/key?partNumber=2&uploadId=x" */
    const gw_kv_t           *headers;  /* sent in this order; Host is added
                                        * (host[:port]) when absent; never
                                        * Content-Length or Transfer-Encoding:
                                        * the client writes those */
    size_t                   nheaders;
    int64_t                  content_length;
                                       /* >= 0: exactly this many body bytes,
                                        * sent with Content-Length (0 also
                                        * sends "Content-Length: 0", except
                                        * for GET, HEAD, DELETE, OPTIONS);
                                        * HTTP_CLIENT_CHUNKED: chunked */
    http_client_produce_pt   produce;  /* required when there is a body */
    http_client_resp_pt      on_response;  /* may be NULL */
    http_client_body_pt      on_body;      /* may be NULL: body discarded */
    http_client_done_pt      on_done;      /* required */
    void                    *data;         /* the caller's */
} http_client_req_opts_t;

/* Counters, for tests and the pusher's status page. */
typedef struct http_client_stats_s {
    size_t    connections;        /* open now: connecting, busy or idle */
    uint64_t  connects;           /* connection attempts so far */
    size_t    queued;             /* requests waiting for a connection */
    size_t    out_bytes;          /* write buffers held now, all connections */
    size_t    out_bytes_peak;     /* the most ever held at once */
    size_t    spare_bytes;        /* write buffers kept for reuse; given
                                   * back when no connection is busy */
    uint64_t  retries;            /* requests re-sent on a fresh connection */
} http_client_stats_t;

/* Creates the client of one target on loop. Builds its SSL_CTX now (for
 * https), so a bad ca_file fails here. Returns GW_OK with *out, or GW_EINVAL
 * (a bad scheme, host or ca_file) with the reason in err (errlen bytes; err
 * may be NULL). Connects lazily, on the first request. */
int http_client_create(uv_loop_t *loop, const http_client_opts_t *opts,
                       http_client_t **out, char *err, size_t errlen);

/* Ends everything: every queued or running request gets on_done with
 * UV_ECANCELED (before this returns, unless one of its callbacks is running,
 * in which case right after that callback), and every connection closes. c
 * must not be used afterwards; its memory goes once the loop has run the
 * handles' close callbacks, so run the loop before uv_loop_close. */
void http_client_close(http_client_t *c);

/* Submits a request. It is sent on an idle keep-alive connection, on a new
 * one while fewer than max_connections are open, or waits in a FIFO queue.
 * Returns GW_OK (*out, if not NULL, gets the request, valid until on_done
 * returns), GW_EINVAL (a missing callback, a method, target, header name or
 * value that would break the head: CR, LF, NUL, blanks in a token; a
 * Content-Length or Transfer-Encoding header), GW_ETOOBIG (the head exceeds
 * HTTP_CLIENT_MAX_REQ_HEAD) or UV_ECANCELED (the client is closing).
 *
 * A header "Expect: 100-continue" (the caller's choice) holds the body back
 * until the server answers 100, or continue_timeout_ms passed; a final
 * status that comes first means the body is never sent (the connection is
 * then closed, not reused).
 *
 * Retry, once: a keep-alive connection the server closed while it was idle
 * can fail the request sent on it just as the close arrives. The request is
 * re-sent on a fresh connection, once, only when all of these hold: the
 * connection had served an earlier request; it ended with EOF, ECONNRESET
 * or EPIPE; not one byte of the response had arrived; the producer had not
 * been asked for any byte (no body, or a body still held back by Expect:
 * 100-continue); and the method is idempotent (GET, HEAD, PUT, DELETE,
 * OPTIONS), so that a server which did act on the first copy is not hurt
 * by the second. Everything else fails with the error. */
int http_client_request(http_client_t *c, const http_client_req_opts_t *o,
                        http_client_req_t **out);

/* Wakes a request whose producer or consumer returned GW_AGAIN: the client
 * asks the producer again and goes on parsing. Harmless when nothing is
 * paused. May run the producer, the consumer, even on_done before it
 * returns. r must still be alive: a producer whose asynchronous read ends
 * after on_done (the request failed, or the server answered before the
 * body was all out) must drop that read instead of resuming. */
void http_client_resume(http_client_req_t *r);

/* Ends a request now with UV_ECANCELED; its connection, if it had one, is
 * closed. on_done runs before this returns (or right after the running
 * callback of r, when called from one). */
void http_client_cancel(http_client_req_t *r);

/* The caller's data pointer of the request. */
void *http_client_req_data(const http_client_req_t *r);

/* The response head so far (status 0 before the final head). Valid until
 * on_done returns. */
const http_client_resp_t *http_client_req_resp(const http_client_req_t *r);

/* What went wrong, in words, for the log ("connect to 127.0.0.1:9 failed:
 * connection refused"); "" when nothing did. Valid until on_done returns. */
const char *http_client_req_error(const http_client_req_t *r);

/* The X509_V_* code of the certificate verification that failed the
 * request's connection, or 0. */
long http_client_req_verify_result(const http_client_req_t *r);

/* Looks a response header up by its lowercase name; NULL when absent. */
const gw_str_t *http_client_resp_header(const http_client_resp_t *resp,
                                        const char *name);

void http_client_stats(const http_client_t *c, http_client_stats_t *st);

/* ==== test hook ====
 * Parses data as the response to a GET (a HEAD with HTTP_CLIENT_PARSE_HEAD;
 * with HTTP_CLIENT_PARSE_EXPECT, to a request still holding its body back
 * for 100-continue) with the very code a connection runs: the same llhttp
 * callbacks, limits, interim responses, pause (the consumer returns GW_AGAIN
 * on every other piece with HTTP_CLIENT_PARSE_PAUSE) and resume, and the
 * end-of-input rules of a closed connection. Data is fed slice bytes at a
 * time (0: all at once). Touches no socket and no loop; for the fuzz target
 * and the unit tests. Returns what on_done would get. */
#define HTTP_CLIENT_PARSE_HEAD    0x1
#define HTTP_CLIENT_PARSE_EXPECT  0x2
#define HTTP_CLIENT_PARSE_PAUSE   0x4

typedef struct http_client_parse_result_s {
    int        status;            /* final status, 0 if none */
    int        complete;          /* a final response ended */
    int        keepalive;         /* the connection could be reused */
    int        got_continue;      /* a 100 came before the final head */
    size_t     nheaders;
    uint64_t   body_bytes;        /* bytes given to the consumer */
    uint64_t   body_hash;         /* FNV-1a 64 of those bytes */
    size_t     leftover;          /* bytes after the final response */
} http_client_parse_result_t;

int http_client_parse_response(const char *data, size_t len, unsigned flags,
                               size_t slice, http_client_parse_result_t *res);

#endif
