/* http/tls.c: OpenSSL client sessions over memory BIOs (see http/tls.h).
 *
 * The two memory BIOs stand between OpenSSL and libuv: what the socket reads
 * is written into t->in, what OpenSSL wants to send piles up in t->out and
 * is taken out by the caller, who queues it on the socket. A memory BIO that
 * is empty reports "retry" (BIO_set_mem_eof_return -1) so that OpenSSL
 * answers SSL_ERROR_WANT_READ instead of taking an empty BIO for EOF. */
#include "http/tls.h"

#include <arpa/inet.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <uv.h>

/* Writes the reason of the last OpenSSL failure into t->err (or the fallback
 * what) and empties the thread's error queue. */
static void
http_tls_set_err(http_tls_t *t, const char *what)
{
    unsigned long  e = ERR_get_error();
    char           buf[128];

    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(t->err, sizeof(t->err), "%s: %s", what, buf);
    } else {
        snprintf(t->err, sizeof(t->err), "%s", what);
    }
    ERR_clear_error();
}

static int
http_tls_is_ip(const char *name)
{
    unsigned char  a[16];

    return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

int
http_tls_client_ctx(SSL_CTX **out, int verify, const char *ca_file,
                    char *err, size_t errlen)
{
    SSL_CTX        *ctx;
    unsigned long   e;
    char            buf[128];

    *out = NULL;
    ERR_clear_error();
    ctx = SSL_CTX_new_ex(NULL, NULL, TLS_client_method());
    if (ctx == NULL) {
        /* Only out of memory or a broken OpenSSL install gets here. */
        fprintf(stderr, "[crit] SSL_CTX_new_ex failed at %s:%d\n", __FILE__,
                __LINE__);
        abort();
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* An idle keep-alive connection gives its 2 x 16 KiB record buffers
     * back; they come again with the next request. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if ((ca_file != NULL && SSL_CTX_load_verify_file(ctx, ca_file) != 1)
            || (ca_file == NULL && SSL_CTX_set_default_verify_paths(ctx) != 1))
        {
            e = ERR_get_error();
            ERR_error_string_n(e, buf, sizeof(buf));
            ERR_clear_error();
            if (err != NULL) {
                snprintf(err, errlen, "cannot load the CA certificates%s%s: %s",
                         ca_file ? " of " : "", ca_file ? ca_file : "",
                         e ? buf : "no certificate found");
            }
            SSL_CTX_free(ctx);
            return GW_EINVAL;
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    *out = ctx;
    return GW_OK;
}

/* "subject CN=..., serial 1A2B, expires Jan  1 00:00:00 2030 GMT" of the
 * context's certificate, for the log line that says which one is in use. */
static void
http_tls_cert_info(SSL_CTX *ctx, char *info, size_t cap)
{
    X509        *x = SSL_CTX_get0_certificate(ctx);
    BIGNUM      *bn = NULL;
    char        *hex = NULL, subj[256], exp[64];
    BIO         *b;
    int          n = 0;

    if (info == NULL || cap == 0 || x == NULL) {
        return;
    }
    X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    exp[0] = '\0';
    b = BIO_new(BIO_s_mem());
    if (b != NULL && ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1) {
        n = BIO_read(b, exp, sizeof(exp) - 1);
    }
    exp[n > 0 ? n : 0] = '\0';
    snprintf(info, cap, "subject %s, serial %s, expires %s", subj,
             hex ? hex : "?", exp);
    BIO_free(b);
    OPENSSL_free(hex);
    BN_free(bn);
    ERR_clear_error();
}

/* The reason of the last OpenSSL failure, with what was being done, into
 * err; empties the error queue. */
static int
http_tls_ctx_err(char *err, size_t errlen, const char *what, const char *arg)
{
    unsigned long  e = ERR_peek_last_error();
    char           buf[160];

    ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    if (err != NULL) {
        snprintf(err, errlen, "%s \"%s\": %s", what, arg,
                 e ? buf : "no certificate or key found");
    }
    return GW_EINVAL;
}

int
http_tls_server_ctx(SSL_CTX **out, const char *cert, const char *key,
                    unsigned protocols, const char *ciphers,
                    char *err, size_t errlen, char *info, size_t infolen)
{
    static const unsigned char  sid[] = "s3gw";
    SSL_CTX                    *ctx;
    int                         rc;

    *out = NULL;
    ERR_clear_error();
    ctx = SSL_CTX_new_ex(NULL, NULL, TLS_server_method());
    if (ctx == NULL) {
        fprintf(stderr, "[crit] SSL_CTX_new_ex failed at %s:%d\n", __FILE__,
                __LINE__);
        abort();
    }
    SSL_CTX_set_min_proto_version(ctx, (protocols & HTTP_TLS_V12)
                                       ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, (protocols & HTTP_TLS_V13)
                                       ? TLS1_3_VERSION : TLS1_2_VERSION);
    /* Client-started renegotiation costs the server a handshake for the
     * price of a record; HTTP/1.1 over TLS 1.2 never needs it. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION
                             | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        rc = http_tls_ctx_err(err, errlen, "cannot load ssl_certificate",
                              cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        rc = http_tls_ctx_err(err, errlen, "cannot load ssl_certificate_key",
                              key);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        rc = http_tls_ctx_err(err, errlen, "ssl_certificate_key does not "
                              "match the certificate of", cert);
        goto fail;
    }
    if (ciphers != NULL && SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
        rc = http_tls_ctx_err(err, errlen, "invalid ssl_ciphers", ciphers);
        goto fail;
    }
    http_tls_cert_info(ctx, info, infolen);
    *out = ctx;
    return GW_OK;

fail:
    SSL_CTX_free(ctx);
    return rc;
}

void
http_tls_accept(http_tls_t *t, SSL_CTX *ctx)
{
    memset(t, 0, sizeof(*t));
    ERR_clear_error();
    t->ssl = SSL_new(ctx);
    t->in = BIO_new(BIO_s_mem());
    t->out = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || t->in == NULL || t->out == NULL) {
        fprintf(stderr, "[crit] SSL_new failed at %s:%d\n", __FILE__, __LINE__);
        abort();
    }
    BIO_set_mem_eof_return(t->in, -1);
    BIO_set_mem_eof_return(t->out, -1);
    SSL_set_bio(t->ssl, t->in, t->out);
    SSL_set_accept_state(t->ssl);
}

int
http_tls_done(const http_tls_t *t)
{
    return t->ssl != NULL && SSL_is_init_finished(t->ssl);
}

int
http_tls_buffered(const http_tls_t *t)
{
    return t->ssl != NULL
           && (SSL_pending(t->ssl) > 0 || BIO_ctrl_pending(t->in) > 0);
}

int
http_tls_open(http_tls_t *t, SSL_CTX *ctx, const char *name, int verify)
{
    X509_VERIFY_PARAM  *vp;

    memset(t, 0, sizeof(*t));
    ERR_clear_error();
    t->ssl = SSL_new(ctx);
    t->in = BIO_new(BIO_s_mem());
    t->out = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || t->in == NULL || t->out == NULL) {
        fprintf(stderr, "[crit] SSL_new failed at %s:%d\n", __FILE__, __LINE__);
        abort();
    }
    BIO_set_mem_eof_return(t->in, -1);
    BIO_set_mem_eof_return(t->out, -1);
    SSL_set_bio(t->ssl, t->in, t->out);     /* the SSL owns both BIOs now */
    SSL_set_connect_state(t->ssl);
    if (http_tls_is_ip(name)) {
        if (verify) {
            vp = SSL_get0_param(t->ssl);
            if (X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1) {
                http_tls_set_err(t, "bad IP address to verify");
                return GW_EINVAL;
            }
        }
        return GW_OK;
    }
    if (SSL_set_tlsext_host_name(t->ssl, name) != 1) {
        http_tls_set_err(t, "bad server name");
        return GW_EINVAL;
    }
    if (verify) {
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(t->ssl, name) != 1) {
            http_tls_set_err(t, "bad server name");
            return GW_EINVAL;
        }
    }
    return GW_OK;
}

void
http_tls_close(http_tls_t *t)
{
    if (t->ssl != NULL) {
        SSL_free(t->ssl);                   /* frees the BIOs too */
    }
    t->ssl = NULL;
    t->in = t->out = NULL;
}

int
http_tls_feed(http_tls_t *t, const char *buf, size_t len)
{
    if (len > 0 && BIO_write(t->in, buf, (int) len) != (int) len) {
        http_tls_set_err(t, "cannot buffer TLS input");
        return UV_EPROTO;
    }
    return GW_OK;
}

/* Maps SSL_get_error after a failed call with ret to our codes. */
static int
http_tls_result(http_tls_t *t, int ret, const char *what)
{
    long  v;

    switch (SSL_get_error(t->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:              /* memory BIOs: means "send what
                                             * is pending, then go on" */
        ERR_clear_error();
        return GW_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        return UV_EOF;
    }
    v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK) {
        /* The handshake stopped because verification failed: name that,
         * not the generic "certificate verify failed" of the error queue. */
        t->verify = v;
        snprintf(t->err, sizeof(t->err), "TLS certificate verify failed: %s "
                 "(X509_V %ld)", X509_verify_cert_error_string(v), v);
        ERR_clear_error();
        return UV_EPROTO;
    }
    http_tls_set_err(t, what);
    return UV_EPROTO;
}

int
http_tls_handshake(http_tls_t *t)
{
    int  ret;

    ERR_clear_error();
    ret = SSL_do_handshake(t->ssl);
    if (ret == 1) {
        return GW_OK;
    }
    return http_tls_result(t, ret, "TLS handshake failed");
}

int
http_tls_read(http_tls_t *t, char *buf, size_t cap, size_t *n)
{
    size_t  got = 0;
    int     ret;

    *n = 0;
    ERR_clear_error();
    ret = SSL_read_ex(t->ssl, buf, cap, &got);
    if (ret == 1) {
        *n = got;
        return GW_OK;
    }
    return http_tls_result(t, ret, "TLS read failed");
}

int
http_tls_write(http_tls_t *t, const char *buf, size_t len)
{
    size_t  done = 0;
    int     ret;

    if (len == 0) {
        return GW_OK;
    }
    ERR_clear_error();
    ret = SSL_write_ex(t->ssl, buf, len, &done);
    if (ret == 1 && done == len) {
        return GW_OK;
    }
    ret = http_tls_result(t, ret, "TLS write failed");
    return ret == GW_AGAIN ? UV_EPROTO : ret;
}

size_t
http_tls_pending(const http_tls_t *t)
{
    return t->out != NULL ? BIO_ctrl_pending(t->out) : 0;
}

size_t
http_tls_take(http_tls_t *t, char *buf, size_t cap)
{
    int  n;

    if (t->out == NULL || cap == 0) {
        return 0;
    }
    n = BIO_read(t->out, buf, (int) GW_MIN(cap, (size_t) INT32_MAX));
    return n > 0 ? (size_t) n : 0;
}
