/* s3/auth/sigv2.h: AWS Signature Version 2 ("Signing and authenticating REST
 * requests", HMAC-SHA1) as S3 checks it on the server side. Owns the parsing
 * of "Authorization: AWS AccessKeyId:Signature" and of the presigned query
 * parameters AWSAccessKeyId / Expires / Signature, the request time of the
 * header form (x-amz-date or Date), the StringToSign with its
 * CanonicalizedAmzHeaders and CanonicalizedResource (including which query
 * parameters are signed sub-resources), and the HMAC-SHA1 itself, whose
 * OpenSSL algorithm is fetched once per process.
 *
 * Pure functions of their arguments: no I/O, no clock, no key lookup. The
 * caller (the router) finds the secret for a->access_key, checks the clock
 * skew and the expiry, and maps the return codes to S3 errors:
 *
 *   s3_sigv2_parse_header
 *     GW_DECLINED  not SigV2 (no "AWS " scheme): try SigV4, else the
 *                  "authorization mechanism is not supported" error
 *     GW_EINVAL    400 InvalidArgument "AWS authorization header is invalid.
 *                  Expected AwsAccessKeyId:signature"
 *     GW_ENOTFOUND 403 AccessDenied "AWS authentication requires a valid
 *                  Date or x-amz-date header"
 *     GW_OK        then: unknown key -> 403 InvalidAccessKeyId;
 *                  |now - a->time| > 15 min -> 403 RequestTimeTooSkewed
 *   s3_sigv2_parse_query
 *     GW_DECLINED  no AWSAccessKeyId and no Signature parameter: SigV4
 *                  presigned or anonymous
 *     GW_EINVAL    403 AccessDenied "Query-string authentication requires the
 *                  Signature, Expires and AWSAccessKeyId parameters" (also for
 *                  a duplicated or malformed one, or a non-numeric Expires)
 *     GW_OK        then: unknown key -> 403 InvalidAccessKeyId;
 *                  now > a->expires -> 403 AccessDenied "Request has expired"
 *   s3_sigv2_verify
 *     GW_ECHECKSUM 403 SignatureDoesNotMatch, with the StringToSign (and the
 *                  AWSAccessKeyId and SignatureProvided) in the error body
 *
 * A request with both an Authorization header and query-string credentials
 * (SigV2 or SigV4) is S3's 400 InvalidArgument "Only one auth mechanism
 * allowed"; that check is the router's. SigV2 does not sign the body (only a
 * Content-MD5 header, whose digest the body check covers), so a SigV2 request
 * has an unsigned payload. */
#ifndef S3_AUTH_SIGV2_H
#define S3_AUTH_SIGV2_H

#include "core/gw.h"

#define S3_SIGV2_SIG_LEN     20       /* HMAC-SHA1 */
#define S3_SIGV2_SKEW_MAX    (15 * 60)  /* seconds; header form only */
#define S3_SIGV2_BUF_MAX     256

/* The request as the HTTP layer received it: the fields of
 * s3_sigv4_input_t plus the bucket of a virtual-hosted request. Every view
 * is borrowed and must stay valid as long as any s3_sigv2_auth_t parsed from
 * it is used. */
typedef struct s3_sigv2_input_s {
    gw_str_t        method;      /* "GET" */
    gw_str_t        path;        /* raw request-target path as received,
                                  * still percent-encoded, no query */
    gw_str_t        query;       /* raw query string after '?', may be empty */
    const gw_kv_t  *headers;     /* all request headers, repeats included, in
                                  * the order received; values raw */
    size_t          nheaders;
    gw_str_t        bucket;      /* the bucket when it came from the Host
                                  * header (virtual-hosted style): it prefixes
                                  * the CanonicalizedResource as "/bucket".
                                  * Empty for path-style requests, whose path
                                  * already holds it */
} s3_sigv2_input_t;

/* What a request claims about itself. The views point into the input, or,
 * for presigned requests (whose parameters are percent-decoded), into
 * a->_buf: so the struct must not be copied by value after parsing. */
typedef struct s3_sigv2_auth_s {
    gw_str_t       access_key;
    unsigned char  signature[S3_SIGV2_SIG_LEN];   /* base64-decoded */
    int            presigned;
    int64_t        time;         /* header form: the request time from
                                  * x-amz-date, else Date (unix seconds), for
                                  * the skew check; 0 when presigned */
    int64_t        expires;      /* presigned: Expires (unix seconds) */
    gw_str_t       date;         /* the Date line of the StringToSign: the
                                  * Date header as sent (trimmed), empty when
                                  * x-amz-date is present, or the Expires
                                  * parameter when presigned */
    char           _buf[S3_SIGV2_BUF_MAX];   /* private: decoded values */
} s3_sigv2_auth_t;

/* Parses an Authorization header value "AWS AccessKeyId:Signature" (blanks
 * around it are allowed; the signature is the strict base64 of 20 bytes),
 * then the request time: x-amz-date when present (it wins, and the Date line
 * of the StringToSign is then empty), else the Date header. Both take an
 * RFC 1123 date ("Tue, 27 Mar 2007 19:36:42 +0000", GMT/UTC/UT/Z or a
 * numeric zone, weekday optional), an RFC 850 or asctime date, or an ISO 8601
 * basic one (20070327T193642Z); see s3_sigv2_time_parse.
 * Returns GW_OK; GW_DECLINED when the scheme is not "AWS" (AWS4-HMAC-SHA256,
 * Bearer, ...); GW_EINVAL when the credential is malformed (no colon, an
 * empty access key, blanks inside, bad base64, not 20 bytes); GW_ENOTFOUND
 * when there is no x-amz-date and no Date, or the one that counts does not
 * parse. Errors are checked in that order. */
int s3_sigv2_parse_header(gw_str_t authorization, const s3_sigv2_input_t *in,
    s3_sigv2_auth_t *a);

/* Parses the presigned parameters AWSAccessKeyId, Expires (decimal unix
 * seconds) and Signature (URL-encoded base64; a literal '+' is taken as '+',
 * since base64 never holds a space). Returns GW_OK; GW_DECLINED when the
 * query has neither AWSAccessKeyId nor Signature; GW_EINVAL when one of the
 * three is missing, repeated, empty or malformed. a->time is 0. */
int s3_sigv2_parse_query(const s3_sigv2_input_t *in, s3_sigv2_auth_t *a);

/* Builds the StringToSign, as botocore's HmacV1Auth does:
 *   Method \n Content-MD5 \n Content-Type \n a->date \n
 *   CanonicalizedAmzHeaders CanonicalizedResource
 * Content-MD5 and Content-Type are the headers' values, trimmed ("" when
 * absent). CanonicalizedAmzHeaders: every x-amz-* header, name lowercased,
 * value trimmed with folded line breaks unfolded to one space (inner blanks
 * are kept, as botocore keeps them), sorted by name, repeats joined with
 * ',' in the order received, each "name:value\n". A presigned request adds
 * its query parameters whose decoded name starts with "x-amz-" (lowercase,
 * as botocore writes them) as headers, values decoded: botocore moves the
 * x-amz-* headers it signed (x-amz-acl, x-amz-security-token, ...) into the
 * URL (the router should apply them as the headers they stand for).
 * CanonicalizedResource: "/" bucket when in->bucket is set, the raw path
 * ("/" when empty; a path-style request on a bucket, "/name", gets its
 * trailing slash, "/name/", as botocore's authPath has it), then the signed
 * sub-resources among the query parameters (s3_sigv2_subresource), sorted
 * by name (stably, so repeats keep their order), as "?name" or
 * "?name=value" (value percent-decoded; '+' stays '+' and a malformed
 * escape stays as sent, as Python's unquote has it), joined with '&'.
 * Returns a NUL-terminated string allocated with gw_alloc (never NULL; the
 * caller frees it with gw_free) and its length in *len when len is not
 * NULL. It is what SignatureDoesNotMatch's StringToSign element shows. */
char *s3_sigv2_string_to_sign(const s3_sigv2_input_t *in,
    const s3_sigv2_auth_t *a, size_t *len);

/* Signs the StringToSign of the request with secret (a C string) and
 * compares the result with a->signature in constant time (CRYPTO_memcmp).
 * A path-style request on a bucket ("/name") also matches when signed with
 * the path as sent, without the trailing slash (signers other than
 * botocore). When sts_out is not NULL it receives the StringToSign (as
 * s3_sigv2_string_to_sign; the caller frees it with gw_free).
 * Returns GW_OK when the signature matches, GW_ECHECKSUM when it does not. */
int s3_sigv2_verify(const s3_sigv2_input_t *in, const s3_sigv2_auth_t *a,
    const char *secret, char **sts_out);

/* out = HMAC-SHA1(secret, msg[0..n)): the SigV2 signature before base64. A
 * browser POST's SigV2 policy is signed the same way. The HMAC algorithm and
 * its SHA-1 are fetched from OpenSSL once per process (pthread_once), never
 * per call; aborts with file:line if OpenSSL cannot provide them. */
void s3_sigv2_hmac(const char *secret, const void *msg, size_t n,
    unsigned char out[S3_SIGV2_SIG_LEN]);

/* 1 when name (raw, as in the query string, case-sensitive) is a query
 * parameter SigV2 signs as a sub-resource: exactly botocore's
 * HmacV1Auth.QSAOfInterest (acl, uploadId, versionId, response-*, ...).
 * Other clients differ at the edges (aws-sdk-js v2 signs a shorter list,
 * without accelerate, analytics, select..., and signs sub-resource values
 * other than response-* undecoded); botocore is the one followed here. */
int s3_sigv2_subresource(const char *name, size_t n);

/* Parses an HTTP date for x-amz-date / Date into seconds since the epoch:
 * RFC 1123 "Sun, 06 Nov 1994 08:49:37 GMT" (the weekday is optional; the
 * zone is GMT, UTC, UT, Z or +hhmm/-hhmm), RFC 850 "Sunday, 06-Nov-94
 * 08:49:37 GMT" (two-digit years are 1970..2069), asctime "Sun Nov  6
 * 08:49:37 1994", or ISO 8601 basic "19941106T084937Z". Blanks around s are
 * ignored. Returns GW_OK, or GW_EINVAL when malformed or out of range. */
int s3_sigv2_time_parse(gw_str_t s, int64_t *unix_seconds);

#endif
