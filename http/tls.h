/* http/tls.h: TLS sessions over memory BIOs, so that libuv keeps owning the
 * socket and OpenSSL never touches a file descriptor. Owns each session's SSL
 * object and its two memory BIOs, and builds the SSL_CTX of an outbound
 * client (one per client target) and of the server's TLS listeners (one for
 * all of them, built again on SIGHUP), never one per connection or request,
 * as OpenSSL 3 wants: a context fetches its algorithms once. Knows nothing
 * about HTTP or libuv: ciphertext goes in with http_tls_feed and out with
 * http_tls_take; plaintext goes through http_tls_read and http_tls_write.
 *
 * Every call clears this thread's OpenSSL error queue first and drains it
 * on failure, so one session's error never shows up in another's. */
#ifndef HTTP_TLS_H
#define HTTP_TLS_H

#include <openssl/ssl.h>

#include "core/gw.h"

typedef struct http_tls_s {
    SSL    *ssl;
    BIO    *in;           /* ciphertext from the network, read by OpenSSL */
    BIO    *out;          /* ciphertext written by OpenSSL, to be sent */
    long    verify;       /* X509_V_* result of a failed verification, or 0 */
    char    err[192];     /* what went wrong, for the caller's message */
} http_tls_t;

/* Builds a client SSL_CTX into *out: TLS 1.2 or newer; with verify, peers
 * must present a chain to a CA of ca_file (PEM, one or more certificates) or,
 * when ca_file is NULL, of the system store (SSL_CTX_set_default_verify_paths).
 * Without verify nothing about the peer is checked. Returns GW_OK, or
 * GW_EINVAL with the reason in err (errlen bytes, may be NULL) when ca_file
 * cannot be loaded. The caller frees the context with SSL_CTX_free. */
int http_tls_client_ctx(SSL_CTX **out, int verify, const char *ca_file,
                        char *err, size_t errlen);

/* Protocol bits of http_tls_server_ctx (the values of core/conf.h's
 * GW_CONF_TLSV*). */
#define HTTP_TLS_V12  0x1
#define HTTP_TLS_V13  0x2

/* Builds a server SSL_CTX into *out from a PEM certificate chain (cert, the
 * server's certificate first) and its PEM private key (key): the protocols
 * of the HTTP_TLS_V* bits, TLS 1.2 ciphers from ciphers (an OpenSSL cipher
 * list; NULL for OpenSSL's default), no renegotiation. Returns GW_OK, or
 * GW_EINVAL with the reason in err (a file that does not load, a key that
 * does not match the certificate, a cipher list that names nothing). The
 * context is fully built or not at all, so a failed reload leaves the one
 * in use alone. A summary of the certificate (subject, serial, expiry) goes
 * into info (infolen bytes, may be NULL). The caller frees with
 * SSL_CTX_free; sessions hold their own reference. */
int http_tls_server_ctx(SSL_CTX **out, const char *cert, const char *key,
                        unsigned protocols, const char *ciphers,
                        char *err, size_t errlen, char *info,
                        size_t infolen);

/* Starts a server session on ctx (taken with a reference of its own, so a
 * reload may free ctx while the session lives). Never fails but for out of
 * memory, which aborts. */
void http_tls_accept(http_tls_t *t, SSL_CTX *ctx);

/* 1 once the handshake has completed. */
int http_tls_done(const http_tls_t *t);

/* 1 when input handed to http_tls_feed has not been decrypted yet, or
 * decrypted bytes have not been read: the caller must call http_tls_read
 * before it waits on the socket again. */
int http_tls_buffered(const http_tls_t *t);

/* Starts a client session on ctx (borrowed; it must outlive the session).
 * name is what the peer must prove it is: a DNS name is sent as SNI and
 * checked against the certificate's names (SSL_set1_host); an IPv4 or IPv6
 * literal is not sent as SNI (RFC 6066) and is checked against the
 * certificate's IP addresses. name is copied. Returns GW_OK or GW_EINVAL. */
int http_tls_open(http_tls_t *t, SSL_CTX *ctx, const char *name, int verify);

/* Frees the session; safe on a session that failed to open and safe twice.
 * Sends no close_notify: the callers close idle connections by dropping
 * them, as HTTP/1.1 allows (RFC 9112 9.8 asks for it only when the framing
 * depends on the close, and a response body never ends at our close). */
void http_tls_close(http_tls_t *t);

/* Hands len bytes of ciphertext read from the socket to the session (buf is
 * copied). The memory BIO grows by len: callers feed one read at a time and
 * stop reading while the plaintext is not being consumed. */
int http_tls_feed(http_tls_t *t, const char *buf, size_t len);

/* Drives the handshake. Returns GW_OK once it is done, GW_AGAIN while it
 * waits for the peer's bytes, or UV_EPROTO with t->err naming the failure
 * (for a certificate that failed verification, t->verify holds its X509_V_*
 * code and t->err its name, "certificate verify failed: self-signed
 * certificate"). Either way, send what http_tls_take yields. */
int http_tls_handshake(http_tls_t *t);

/* Decrypts into buf (cap bytes). Returns GW_OK with *n > 0, GW_AGAIN when
 * more ciphertext is needed, UV_EOF when the peer sent close_notify, or
 * UV_EPROTO with t->err set. */
int http_tls_read(http_tls_t *t, char *buf, size_t cap, size_t *n);

/* Encrypts len bytes of buf (borrowed for the call) into the outgoing BIO:
 * with a memory BIO this never blocks and takes everything. Returns GW_OK
 * or UV_EPROTO with t->err set. */
int http_tls_write(http_tls_t *t, const char *buf, size_t len);

/* Bytes of ciphertext waiting to be sent. */
size_t http_tls_pending(const http_tls_t *t);

/* Moves up to cap bytes of waiting ciphertext into buf; returns how many. */
size_t http_tls_take(http_tls_t *t, char *buf, size_t cap);

#endif
