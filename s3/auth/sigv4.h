/* s3/auth/sigv4.h: AWS Signature Version 4 as S3 checks it on the server side.
 * Owns the parsing of the Authorization header and of presigned query
 * parameters, the canonical request, the string to sign, the signing key, the
 * chunk and trailer signatures of streaming uploads (percent-encoding is
 * s3/uri.h's). Pure functions: no I/O, no clock, no key lookup. The
 * caller (s3/auth) finds the secret for a->access_key, checks the clock skew
 * and the expiry, and maps the return codes to S3 errors.
 *
 * Hashing uses OpenSSL directly (EVP, HMAC), so this module has no
 * dependency inside s3gw beyond core/gw.h and s3/uri.h. */
#ifndef S3_AUTH_SIGV4_H
#define S3_AUTH_SIGV4_H

#include "core/gw.h"
#include "s3/uri.h"

/* The request as the HTTP layer received it. Every view is borrowed and must
 * stay valid as long as any s3_sigv4_auth_t parsed from it is used. */
typedef struct s3_sigv4_input_s {
    gw_str_t        method;      /* "GET" */
    gw_str_t        path;        /* raw request-target path as received,
                                  * still percent-encoded, no query */
    gw_str_t        query;       /* raw query string after '?', may be empty */
    const gw_kv_t  *headers;     /* all request headers; names already
                                  * lowercase; values raw */
    size_t          nheaders;
} s3_sigv4_input_t;

#define S3_SIGV4_BUF_MAX  2048

/* What a request claims about itself. The views point into the input, or, for
 * presigned requests whose parameters had to be percent-decoded, into
 * a->_buf: so the struct must not be copied by value after parsing (the
 * copy's views would still point into the original). */
typedef struct s3_sigv4_auth_s {
    gw_str_t       access_key;
    char           date[9];          /* YYYYMMDD of the credential scope */
    gw_str_t       region, service;
    gw_str_t       signed_headers;   /* "host;x-amz-date", as sent */
    unsigned char  signature[32];
    char           amz_date[17];     /* YYYYMMDDTHHMMSSZ, NUL-terminated: from
                                      * x-amz-date, else the Date header
                                      * converted, or X-Amz-Date (presigned) */
    int            presigned;
    int64_t        expires;          /* X-Amz-Expires, 1..604800 (presigned) */
    gw_str_t       payload_hash;     /* x-amz-content-sha256 as sent (hex,
                                      * UNSIGNED-PAYLOAD, STREAMING-...); empty
                                      * when absent (header form); see the
                                      * parse functions */
    char           _buf[S3_SIGV4_BUF_MAX];   /* private: decoded values */
} s3_sigv4_auth_t;

/* Parses an Authorization header value of the form
 *   AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request,
 *   SignedHeaders=host;x-amz-date, Signature=<64 hex>
 * The components may come in any order, separated by commas and/or spaces.
 * Reads x-amz-date (or, failing that, an RFC 1123 Date header) and
 * x-amz-content-sha256 from in->headers. When x-amz-content-sha256 is absent
 * payload_hash is empty (len 0): AWS answers InvalidRequest "Missing required
 * header", and verify signs the SHA-256 of an empty body, which is what
 * MinIO accepts from clients that leave the header out.
 * Returns GW_OK; GW_DECLINED when the scheme is not AWS4-HMAC-SHA256 (SigV2
 * "AWS AK:sig", SigV4a, Basic...); GW_EINVAL when the header is malformed,
 * the date is missing or malformed, or the credential date is not the date of
 * x-amz-date (S3 answers AuthorizationHeaderMalformed). */
int s3_sigv4_parse_header(gw_str_t authorization, const s3_sigv4_input_t *in,
    s3_sigv4_auth_t *a);

/* Parses a presigned URL's X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
 * X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature. payload_hash is the
 * X-Amz-Content-Sha256 parameter, else the x-amz-content-sha256 header, else
 * "UNSIGNED-PAYLOAD". Returns GW_OK; GW_DECLINED when the query has no
 * X-Amz-Algorithm; GW_EINVAL when a parameter is missing, duplicated or
 * malformed, the algorithm is not AWS4-HMAC-SHA256, X-Amz-Expires is outside
 * 1..604800, or the credential date is not the date of X-Amz-Date (S3
 * answers AuthorizationQueryParametersError). */
int s3_sigv4_parse_query(const s3_sigv4_input_t *in, s3_sigv4_auth_t *a);

/* Recomputes the signature of the request with secret and compares it with
 * a->signature in constant time. seed_out (32 bytes, required) receives the
 * computed signature: it seeds the chunk signatures of a streaming upload.
 * When canonical_out / sts_out are not NULL they receive NUL-terminated
 * copies of the canonical request and of the string to sign, allocated with
 * gw_alloc; the caller frees them with gw_free (they go in the
 * SignatureDoesNotMatch body). They are set on GW_OK and GW_ECHECKSUM and are
 * NULL otherwise.
 * Returns GW_OK when the signature matches; GW_ECHECKSUM when it does not,
 * including when a header named in SignedHeaders is absent from the request;
 * GW_EINVAL when the path or query holds a malformed %-escape or the signed
 * header list is empty or has an empty name. */
int s3_sigv4_verify(const s3_sigv4_input_t *in, const s3_sigv4_auth_t *a,
    const char *secret, unsigned char seed_out[32], char **canonical_out,
    char **sts_out);

/* The headers of in that a signature must cover and a->signed_headers
 * leaves out: "host", and every x-amz-* header but the exemptions (see
 * sigv4.c). Their names go into out (cap bytes, NUL-terminated, joined by
 * ", ", cut short when they do not fit). Returns how many there are: 0
 * when the signature covers everything that steers the request. */
size_t s3_sigv4_unsigned_headers(const s3_sigv4_input_t *in,
    const s3_sigv4_auth_t *a, char *out, size_t cap);

/* Signs an outgoing request (the replication pusher's): the signature of
 * in with a's credential scope, signed header list, amz_date and
 * payload_hash (presigned 0) for secret, into sig. Every header a names
 * must be among in's. GW_OK, or GW_EINVAL on a malformed path or query or
 * a signed header that is absent. */
int s3_sigv4_sign(const s3_sigv4_input_t *in, const s3_sigv4_auth_t *a,
    const char *secret, unsigned char sig[32]);

/* key = HMAC chain "AWS4"+secret, date (8 chars), region, service,
 * "aws4_request". */
void s3_sigv4_signing_key(const char *secret, const char date[8],
    gw_str_t region, gw_str_t service, unsigned char key[32]);

/* Signature of one chunk of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
 * body: HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\n" amz_date "\n" scope "\n"
 * hex(prev_sig) "\n" hex(sha256("")) "\n" hex(chunk_sha256)). amz_date is
 * 16 chars and need not be NUL-terminated; scope is a C string
 * "20130524/us-east-1/s3/aws4_request" (see s3_sigv4_scope). */
void s3_sigv4_chunk_signature(const unsigned char key[32],
    const char amz_date[16], const char *scope,
    const unsigned char prev_sig[32], const unsigned char chunk_sha256[32],
    unsigned char out[32]);

/* Signature of the trailer of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
 * body: HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" amz_date "\n" scope "\n"
 * hex(prev_sig) "\n" hex(trailer_sha256)), where prev_sig is the signature
 * of the final 0-size chunk and trailer_sha256 the SHA-256 of the trailing
 * headers other than x-amz-trailer-signature, each as "name:value\n". */
void s3_sigv4_trailer_signature(const unsigned char key[32],
    const char amz_date[16], const char *scope,
    const unsigned char prev_sig[32], const unsigned char trailer_sha256[32],
    unsigned char out[32]);

/* Parses a credential "AK/20130524/us-east-1/s3/aws4_request" into
 * a->access_key, date, region and service (views into v). GW_OK, or
 * GW_EINVAL when it has not that shape (a date of 8 digits, the
 * "aws4_request" terminator, no empty field). */
int s3_sigv4_parse_credential(gw_str_t v, s3_sigv4_auth_t *a);

/* The signature of a browser POST form: HMAC-SHA256 with the signing key of
 * a's credential scope (date, region, service) over the policy field as
 * sent (its base64 text, n bytes). */
void s3_sigv4_post_signature(const char *secret, const s3_sigv4_auth_t *a,
    const char *policy, size_t n, unsigned char sig[32]);

/* Writes "date/region/service/aws4_request" and a NUL into buf. Returns
 * GW_OK, or GW_ETOOBIG when cap is too small (buf is then untouched). */
int s3_sigv4_scope(const s3_sigv4_auth_t *a, char *buf, size_t cap);

/* Converts YYYYMMDDTHHMMSSZ (16 chars, UTC) to seconds since the epoch.
 * Returns GW_OK, or GW_EINVAL when malformed or out of range. */
int s3_sigv4_time_parse(const char amz_date[16], int64_t *unix_seconds);

#endif
