/* s3/payload.c: request bodies, decoded and verified as they stream.
 *
 *   http on_body -> [aws-chunked decoder: framing, chunk signatures,
 *                    trailers] -> digests (MD5 for the ETag, the payload
 *                    SHA-256 when signed, the x-amz-checksum-* algorithm)
 *                 -> the handler's data callback (e.g. the chunk writer)
 *
 * The digests run off the loop (core/hashpipe.c): the loop copies each view
 * into the pipe's segments and hands it on in place; either side answering
 * GW_AGAIN pauses the socket. At the end of the body the pipe's jobs are
 * waited for (the request held meanwhile), every declared digest is
 * compared, and the handler learns the verdict through its end callback. */
#include "s3/payload.h"
#include "http/awschunked.h"
#include "core/hashpipe.h"
#include "core/log.h"

#include <openssl/evp.h>
#include <strings.h>

struct s3_payload_s {
    s3_req_t           *r;
    int               (*data)(s3_req_t *r, const char *at, size_t len);
    int               (*view)(s3_req_t *r, gw_hseg_t *seg, const char *at,
                              size_t len);  /* s3_payload_share */
    void              (*end)(s3_req_t *r, int err, const s3_body_t *b);
    uint64_t            max;
    uint64_t            got;
    int64_t             expect;         /* decoded length, -1 unknown */
    gw_hashpipe_t      *hp;             /* MD5, the signed payload's
                                         * SHA-256, the checksum */
    gw_cksum_alg_t      ck_alg;
    int                 signed_payload; /* S3_PAYLOAD_SIGNED: check the
                                         * body's SHA-256 */
    int                 hash_wait;      /* the request is held for hp */
    int                 ck_want_set;
    int                 ck_trailer;     /* the value comes as a trailer */
    unsigned char       ck_want[32];
    int                 md5_want_set;
    unsigned char       md5_want[16];
    int                 aws_chunked;
    http_awschunked_t   dec;
    EVP_MD_CTX         *chunk_sha;
    unsigned char       chunk_sig[32];
    int                 chunk_sig_set;
    unsigned char       prev_sig[32];
    EVP_MD_CTX         *trailer_sha;
    unsigned char       trailer_sig[32];
    int                 trailer_sig_set;
    int                 failed;         /* S3_ERR_* once the body is refused */
    int                 ended;

    /* s3_payload_collect */
    char               *cbuf;
    size_t              clen, cmax;
    void              (*cend)(s3_req_t *r, int err, const char *buf,
                              size_t len);
};

static void
s3_payload_cleanup(void *data)
{
    s3_payload_t  *p = data;

    gw_hashpipe_free(p->hp);
    p->hp = NULL;
    EVP_MD_CTX_free(p->chunk_sha);
    EVP_MD_CTX_free(p->trailer_sha);
}

static EVP_MD_CTX *
s3_md_new(const EVP_MD *md)
{
    EVP_MD_CTX  *c = EVP_MD_CTX_new();

    if (c == NULL || EVP_DigestInit_ex(c, md, NULL) != 1) {
        fprintf(stderr, "[crit] cannot start a digest\n");
        abort();
    }
    return c;
}

/* Fails the body once; the handler hears about it through end. */
static int
s3_payload_fail(s3_payload_t *p, int err)
{
    if (!p->failed) {
        p->failed = err;
        if (!p->ended) {
            p->ended = 1;
            p->end(p->r, err, NULL);
        }
    }
    return GW_ERROR;
}

/* A piece of the body in the digest pipe's segment, for the handler. */
static int
s3_payload_view(void *ud, gw_hseg_t *seg, const char *at, size_t len)
{
    s3_payload_t  *p = ud;

    return p->view(p->r, seg, at, len);
}

/* Decoded bytes: hash, count, pass on. GW_AGAIN when either the digests
 * or the handler are behind; each calls s3_payload_resume when it catches
 * up, and a feed that finds the other still behind pauses again. */
static int
s3_payload_bytes(s3_payload_t *p, const char *at, size_t len)
{
    int  hrc, rc;

    if (p->failed) {
        return GW_ERROR;
    }
    if (len > p->max - GW_MIN(p->got, p->max)) {
        return s3_payload_fail(p, S3_ERR_ENTITY_TOO_LARGE);
    }
    p->got += len;
    if (p->chunk_sha != NULL) {
        EVP_DigestUpdate(p->chunk_sha, at, len);
    }
    if (p->view != NULL) {
        return gw_hashpipe_feed_shared(p->hp, at, len, s3_payload_view, p);
    }
    hrc = gw_hashpipe_feed(p->hp, at, len);
    rc = p->data(p->r, at, len);
    return rc == GW_OK ? hrc : rc;
}

/* ==== aws-chunked callbacks ==== */

static int
s3_chunk_begin(void *ud, uint64_t size, const char *sig_hex)
{
    s3_payload_t  *p = ud;
    s3_req_t      *r = p->r;
    int            signed_mode = r->payload_mode == S3_PAYLOAD_STREAMING_SIGNED
                       || r->payload_mode == S3_PAYLOAD_STREAMING_SIGNED_TRAILER;

    if (signed_mode) {
        if (sig_hex == NULL || gw_hex_decode(p->chunk_sig, sig_hex, 64) != GW_OK) {
            return s3_payload_fail(p, S3_ERR_SIGNATURE_DOES_NOT_MATCH);
        }
        p->chunk_sig_set = 1;
        if (p->chunk_sha == NULL) {
            p->chunk_sha = s3_md_new(gw_evp_sha256());
        } else {
            EVP_DigestInit_ex(p->chunk_sha, gw_evp_sha256(), NULL);
        }
    }
    return GW_OK;
}

static int
s3_chunk_data(void *ud, const char *at, size_t len)
{
    return s3_payload_bytes(ud, at, len);
}

static int
s3_chunk_end(void *ud)
{
    s3_payload_t   *p = ud;
    s3_req_t       *r = p->r;
    unsigned char   h[32], want[32];
    unsigned int    n;

    if (!p->chunk_sig_set) {
        return GW_OK;
    }
    EVP_DigestFinal_ex(p->chunk_sha, h, &n);
    r->body_signature(r, 0, p->prev_sig, h, want);
    if (!gw_ct_memeq(want, p->chunk_sig, 32)) {
        return s3_payload_fail(p, S3_ERR_SIGNATURE_DOES_NOT_MATCH);
    }
    memcpy(p->prev_sig, want, 32);
    p->chunk_sig_set = 0;
    return GW_OK;
}

static int
s3_chunk_trailer(void *ud, gw_str_t name, gw_str_t value)
{
    s3_payload_t   *p = ud;
    size_t          n;

    if (gw_str_eq_lit(name, "x-amz-trailer-signature")) {
        if (value.len != 64
            || gw_hex_decode(p->trailer_sig, value.base, 64) != GW_OK)
        {
            return s3_payload_fail(p, S3_ERR_SIGNATURE_DOES_NOT_MATCH);
        }
        p->trailer_sig_set = 1;
        return GW_OK;
    }
    if (p->trailer_sha == NULL) {
        p->trailer_sha = s3_md_new(gw_evp_sha256());
    }
    EVP_DigestUpdate(p->trailer_sha, name.base, name.len);
    EVP_DigestUpdate(p->trailer_sha, ":", 1);
    EVP_DigestUpdate(p->trailer_sha, value.base, value.len);
    EVP_DigestUpdate(p->trailer_sha, "\n", 1);
    if (gw_cksum_from_header(name.base, name.len) == p->ck_alg
        && p->ck_alg != GW_CK_NONE)
    {
        if (gw_base64_decode(p->ck_want, sizeof(p->ck_want), &n, value.base,
                             value.len) != GW_OK
            || n != gw_cksum_len(p->ck_alg))
        {
            return s3_payload_fail(p, S3_ERR_INVALID_REQUEST);
        }
        p->ck_want_set = 1;
    }
    return GW_OK;
}

static int
s3_chunk_complete(void *ud)
{
    s3_payload_t   *p = ud;
    s3_req_t       *r = p->r;
    unsigned char   h[32], want[32];
    unsigned int    n;

    if (r->payload_mode != S3_PAYLOAD_STREAMING_SIGNED_TRAILER) {
        return GW_OK;
    }
    if (p->trailer_sha == NULL) {
        p->trailer_sha = s3_md_new(gw_evp_sha256());
    }
    EVP_DigestFinal_ex(p->trailer_sha, h, &n);
    r->body_signature(r, 1, p->prev_sig, h, want);
    if (!p->trailer_sig_set || !gw_ct_memeq(want, p->trailer_sig, 32)) {
        return s3_payload_fail(p, S3_ERR_SIGNATURE_DOES_NOT_MATCH);
    }
    return GW_OK;
}

static const http_awschunked_cb_t  s3_chunk_cb = {
    s3_chunk_begin, s3_chunk_data, s3_chunk_end, s3_chunk_trailer,
    s3_chunk_complete
};

/* ==== the HTTP body callbacks ==== */

static int
s3_payload_on_body(http_req_t *hr, const char *at, size_t len)
{
    s3_req_t      *r = hr->data;
    s3_payload_t  *p = r->payload;
    int            rc;

    if (p->failed) {
        return GW_ERROR;
    }
    if (!p->aws_chunked) {
        return s3_payload_bytes(p, at, len);
    }
    rc = http_awschunked_feed(&p->dec, at, len);
    if (rc == GW_EINVAL) {
        return s3_payload_fail(p, S3_ERR_INCOMPLETE_BODY);
    }
    return rc;
}

static void s3_payload_verify(s3_payload_t *p);

/* The pipe's jobs are back: verify, then let the request go (the release
 * may free it, and hp with it, so it comes last). */
static void
s3_payload_hashed(void *ud)
{
    s3_payload_t  *p = ud;
    http_req_t    *hr = p->r->http;

    p->hash_wait = 0;
    s3_payload_verify(p);
    http_req_release(hr);
}

static void
s3_payload_on_end(http_req_t *hr)
{
    s3_req_t       *r = hr->data;
    s3_payload_t   *p = r->payload;

    if (p->failed || p->ended) {
        return;
    }
    if (p->aws_chunked && http_awschunked_finish(&p->dec) != GW_OK) {
        s3_payload_fail(p, p->failed ? p->failed : S3_ERR_INCOMPLETE_BODY);
        return;
    }
    if (p->failed) {
        return;
    }
    if (p->expect >= 0 && p->got != (uint64_t) p->expect) {
        s3_payload_fail(p, S3_ERR_INCOMPLETE_BODY);
        return;
    }
    if (gw_hashpipe_finish(p->hp, s3_payload_hashed, p) == GW_DONE) {
        p->hash_wait = 1;
        http_req_hold(hr);
        return;
    }
    s3_payload_verify(p);
}

/* Every digest is final: compare what the request declared. */
static void
s3_payload_verify(s3_payload_t *p)
{
    s3_req_t       *r = p->r;
    s3_body_t       b;
    unsigned char   h[32];
    char            msg[128];

    if (p->failed || p->ended) {
        return;
    }
    memset(&b, 0, sizeof(b));
    b.size = p->got;
    b.cksum_alg = p->ck_alg;
    gw_hashpipe_result(p->hp, b.md5, h, b.cksum);
    if (p->signed_payload && memcmp(h, r->content_sha256, 32) != 0) {
        s3_payload_fail(p, S3_ERR_CONTENT_SHA256_MISMATCH);
        return;
    }
    if (p->md5_want_set && memcmp(b.md5, p->md5_want, 16) != 0) {
        s3_payload_fail(p, S3_ERR_BAD_DIGEST);
        return;
    }
    if (p->ck_trailer && !p->ck_want_set) {
        p->ended = 1;
        p->failed = S3_ERR_INVALID_REQUEST;
        s3_error(r, S3_ERR_INVALID_REQUEST,
                 "The request did not carry the checksum trailer it "
                 "announced in x-amz-trailer.");
        p->end(r, -1, NULL);
        return;
    }
    if (p->ck_want_set && memcmp(b.cksum, p->ck_want, gw_cksum_len(b.cksum_alg)) != 0) {
        snprintf(msg, sizeof(msg), "The %s you specified did not match the "
                 "calculated checksum.", gw_cksum_name(b.cksum_alg));
        p->ended = 1;
        p->failed = S3_ERR_BAD_DIGEST;
        s3_error(r, S3_ERR_BAD_DIGEST, msg);
        p->end(r, -1, NULL);
        return;
    }
    p->ended = 1;
    p->end(r, S3_ERR_NONE, &b);
}

/* Picks the checksum algorithm and any value the headers declare. */
static int
s3_payload_checksum(s3_req_t *r, s3_payload_t *p)
{
    const gw_str_t  *v;
    gw_cksum_alg_t   alg = GW_CK_NONE, a;
    size_t           i, n;
    const gw_kv_t   *h;

    for (i = 0; i < r->http->nheaders; i++) {
        h = &r->http->headers[i];
        a = gw_cksum_from_header(h->name.base, h->name.len);
        if (a == GW_CK_NONE || r->cksum_is_object) {
            continue;
        }
        if (alg != GW_CK_NONE) {
            s3_error(r, S3_ERR_INVALID_REQUEST, "Expecting a single "
                     "x-amz-checksum- header. Multiple checksum Types are not "
                     "allowed.");
            return -1;
        }
        alg = a;
        if (gw_base64_decode(p->ck_want, sizeof(p->ck_want), &n, h->value.base,
                             h->value.len) != GW_OK
            || n != gw_cksum_len(a))
        {
            char  msg[96];

            snprintf(msg, sizeof(msg), "Value for %s header is invalid.",
                     gw_cksum_header(a));
            s3_error(r, S3_ERR_INVALID_REQUEST, msg);
            return -1;
        }
        p->ck_want_set = 1;
    }
    v = s3_header(r, "x-amz-trailer");
    if (v != NULL && alg == GW_CK_NONE) {
        alg = gw_cksum_from_header(v->base, v->len);
        if (alg == GW_CK_NONE) {
            s3_error(r, S3_ERR_INVALID_REQUEST,
                     "The value specified in the x-amz-trailer header is not "
                     "supported");
            return -1;
        }
        p->ck_trailer = 1;
    }
    if (alg == GW_CK_NONE) {
        v = s3_header(r, "x-amz-sdk-checksum-algorithm");
        if (v != NULL) {
            alg = gw_cksum_from_name(v->base, v->len);
            if (alg == GW_CK_NONE) {
                s3_error(r, S3_ERR_INVALID_REQUEST,
                         "Checksum algorithm provided is unsupported. Please "
                         "try again with any of the valid types: [CRC32, "
                         "CRC32C, CRC64NVME, SHA1, SHA256]");
                return -1;
            }
        }
    }
    /* Like Amazon S3 today: no checksum from the client, CRC64NVME from us. */
    if (alg == GW_CK_NONE) {
        alg = r->default_cksum != GW_CK_NONE ? r->default_cksum
                                             : GW_CK_CRC64NVME;
    }
    p->ck_alg = alg;
    return 0;
}

static void
s3_payload_hp_ready(void *ud)
{
    s3_payload_t  *p = ud;

    s3_payload_resume(p->r);
}

int
s3_payload_start(s3_req_t *r, uint64_t max_size,
                 int (*data)(s3_req_t *r, const char *at, size_t len),
                 void (*end)(s3_req_t *r, int err, const s3_body_t *b))
{
    http_req_t      *hr = r->http;
    s3_payload_t    *p;
    const gw_str_t  *v;
    size_t           n;
    char             num[32];

    p = gw_pool_calloc(r->pool, sizeof(*p));
    p->r = r;
    p->data = data;
    p->end = end;
    p->max = max_size;
    p->expect = hr->content_length;
    gw_pool_cleanup_add(r->pool, s3_payload_cleanup, p);
    r->payload = p;

    v = s3_header(r, "content-md5");
    if (v != NULL) {
        if (gw_base64_decode(p->md5_want, sizeof(p->md5_want), &n, v->base,
                             v->len) != GW_OK || n != 16)
        {
            return S3_ERR_INVALID_DIGEST;
        }
        p->md5_want_set = 1;
    }
    if (s3_payload_checksum(r, p) != 0) {
        return GW_OK;    /* answered */
    }
    p->signed_payload = r->payload_mode == S3_PAYLOAD_SIGNED;
    p->hp = gw_hashpipe_new(r->ctx->loop, p->ck_alg, p->signed_payload,
                            s3_payload_hp_ready, p);
    switch (r->payload_mode) {
    case S3_PAYLOAD_SIGNED:
        break;
    case S3_PAYLOAD_STREAMING_SIGNED:
    case S3_PAYLOAD_STREAMING_SIGNED_TRAILER:
        memcpy(p->prev_sig, r->seed_sig, 32);
        /* fall through */
    case S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER:
        p->aws_chunked = 1;
        http_awschunked_init(&p->dec, &s3_chunk_cb, p, 0);
        p->expect = -1;
        v = s3_header(r, "x-amz-decoded-content-length");
        if (v != NULL) {
            if (v->len == 0 || v->len >= sizeof(num)) {
                return S3_ERR_INVALID_ARGUMENT;
            }
            memcpy(num, v->base, v->len);
            num[v->len] = '\0';
            if (strspn(num, "0123456789") != v->len) {
                return S3_ERR_INVALID_ARGUMENT;
            }
            p->expect = (int64_t) strtoull(num, NULL, 10);
        }
        break;
    }
    if (p->expect >= 0 && (uint64_t) p->expect > max_size) {
        return S3_ERR_ENTITY_TOO_LARGE;
    }
    hr->on_body = s3_payload_on_body;
    hr->on_body_end = s3_payload_on_end;
    return GW_OK;
}

void
s3_payload_share(s3_req_t *r,
                 int (*view)(s3_req_t *r, gw_hseg_t *seg, const char *at,
                             size_t len))
{
    r->payload->view = view;
}

void
s3_payload_resume(s3_req_t *r)
{
    http_req_resume(r->http);
}

int
s3_payload_has_digest(const s3_req_t *r)
{
    const gw_kv_t  *h;
    size_t          i;

    if (s3_header(r, "content-md5") != NULL) {
        return 1;
    }
    for (i = 0; i < r->http->nheaders; i++) {
        h = &r->http->headers[i];
        if (gw_cksum_from_header(h->name.base, h->name.len) != GW_CK_NONE) {
            return 1;
        }
    }
    return s3_header(r, "x-amz-trailer") != NULL;
}

/* ==== small bodies ==== */

static int
s3_collect_data(s3_req_t *r, const char *at, size_t len)
{
    s3_payload_t  *p = r->payload;

    if (len > p->cmax - p->clen) {
        return s3_payload_fail(p, S3_ERR_MALFORMED_XML);
    }
    memcpy(p->cbuf + p->clen, at, len);
    p->clen += len;
    return GW_OK;
}

static void
s3_collect_end(s3_req_t *r, int err, const s3_body_t *b)
{
    s3_payload_t  *p = r->payload;

    GW_UNUSED(b);
    if (err < 0) {
        return;    /* already answered */
    }
    p->cbuf[p->clen] = '\0';
    p->cend(r, err, p->cbuf, p->clen);
}

int
s3_payload_collect(s3_req_t *r, size_t max,
                   void (*end)(s3_req_t *r, int err, const char *buf,
                               size_t len))
{
    int  rc;

    rc = s3_payload_start(r, max, s3_collect_data, s3_collect_end);
    if (rc != GW_OK) {
        return rc;
    }
    if (r->http->responded) {
        return GW_OK;
    }
    /* A document's handler answers from its end callback, which must not
     * wait for the thread pool. */
    gw_hashpipe_inline(r->payload->hp);
    r->payload->cbuf = gw_pool_alloc(r->pool, max + 1);
    r->payload->cmax = max;
    r->payload->cend = end;
    return GW_DONE;
}
