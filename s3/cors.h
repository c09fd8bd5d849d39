/* s3/cors.h: the CORS model, request plumbing floor. Owns the reading and
 * validation of a CORSConfiguration document (PutBucketCors), the document
 * GetBucketCors gives back, the rule the server-wide cors_default block
 * makes, the choice of the rule that allows a cross-origin request, and the
 * Access-Control-* response headers of that rule. Knows nothing of stores
 * or routes: s3/ops/cors.c reads the bucket's document and answers.
 *
 * Matching is Amazon S3's: the first rule whose AllowedOrigin, AllowedMethod
 * and (for a preflight) AllowedHeader all admit the request wins. Origins
 * compare case-sensitively, with one "*" matching any run of characters
 * (none included); headers compare case-insensitively, with the same "*";
 * methods compare exactly. A rule that lists the origin "*" answers
 * Access-Control-Allow-Origin: * and no credentials; any other echoes the
 * origin and allows credentials. */
#ifndef S3_CORS_H
#define S3_CORS_H

#include "s3/req.h"

#define S3_CORS_RULES_MAX  100          /* rules in one configuration */
#define S3_CORS_ID_MAX     255          /* bytes of a rule's ID */
#define S3_CORS_BODY_MAX   (256 * 1024) /* a PutBucketCors body */
#define S3_CORS_NO_MAX_AGE (-1)

typedef struct s3_cors_rule_s {
    gw_str_t   id;              /* base NULL: no ID element */
    gw_str_t  *origins;         /* AllowedOrigin, in document order */
    size_t     norigins;
    gw_str_t  *methods;         /* AllowedMethod */
    size_t     nmethods;
    gw_str_t  *headers;         /* AllowedHeader */
    size_t     nheaders;
    gw_str_t  *expose;          /* ExposeHeader */
    size_t     nexpose;
    int64_t    max_age;         /* MaxAgeSeconds, or S3_CORS_NO_MAX_AGE */
} s3_cors_rule_t;

typedef struct s3_cors_conf_s {
    s3_cors_rule_t  *rules;
    size_t           nrules;
} s3_cors_conf_t;

/* Reads and checks a CORSConfiguration document into *out (every string a
 * view into pool memory; buf may go once it returns). S3_ERR_NONE, or
 * MalformedXML for a document of the wrong shape (checked over the whole
 * document first), or InvalidRequest with *msg (in pool) for the first
 * value S3 refuses: a method other than GET, PUT, POST, DELETE, HEAD; an
 * origin or allowed header with more than one "*"; an exposed header with
 * any. */
int s3_cors_parse(gw_pool_t *pool, const char *buf, size_t len,
                  s3_cors_conf_t **out, const char **msg);

/* The parsed form of bucket's stored document text, from this process's
 * cache (parsed and kept when the text is not the one cached): valid
 * until the loop turn ends, so use it now and copy what must last.
 * S3_ERR_NONE, or s3_cors_parse's error for a text that does not parse
 * (nothing is cached then). */
int s3_cors_cached(s3_ctx_t *ctx, const char *bucket, gw_str_t text,
                   const s3_cors_conf_t **out);
/* Frees the cache of ctx (at exit). */
void s3_cors_cache_free(s3_ctx_t *ctx);

/* The configuration as GetBucketCors writes it, into x (in pool). */
void s3_cors_xml(const s3_cors_conf_t *c, s3_xml_t *x, gw_pool_t *pool);

/* The one-rule configuration of cf's cors_default block (its strings are
 * cf's, the arrays pool's), or NULL when the block is not given. */
s3_cors_conf_t *s3_cors_default(gw_pool_t *pool, const gw_conf_t *cf);

/* 1 when the request headers of a preflight (the comma-separated list of
 * Access-Control-Request-Headers; NULL or empty: none) are all allowed by
 * rule. */
int s3_cors_headers_allowed(const s3_cors_rule_t *rule,
                            const gw_str_t *request_headers);

/* The first rule of c that allows origin with method (and, when
 * request_headers is not NULL, every header it lists), or NULL. */
const s3_cors_rule_t *s3_cors_match(const s3_cors_conf_t *c,
                                    gw_str_t origin, gw_str_t method,
                                    const gw_str_t *request_headers);

/* 1 when one "*"-pattern matches s: origins case-sensitively (nocase 0),
 * headers not (1). */
int s3_cors_pattern_match(gw_str_t pattern, gw_str_t s, int nocase);

/* Adds rule's Access-Control-* headers and Vary to the response of hr:
 * Allow-Origin (origin, or "*"), Allow-Methods, Allow-Headers (the
 * preflight's request headers, lowercased; only when request_headers names
 * some), Expose-Headers, Max-Age, Allow-Credentials, Vary. */
void s3_cors_headers(http_req_t *hr, const s3_cors_rule_t *rule,
                     gw_str_t origin, const gw_str_t *request_headers);

#endif
