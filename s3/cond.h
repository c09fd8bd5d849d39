/* s3/cond.h: ETags and HTTP preconditions: the ETag text of an MD5 (and
 * part count), If-Match / If-None-Match / If-(Un)Modified-Since against a
 * stored object, and HTTP dates. */
#ifndef S3_COND_H
#define S3_COND_H

#include "s3/req.h"

/* "<hex md5>[-<nparts>]" with quotes into buf (48 bytes); and back. */
void s3_etag(const unsigned char md5[16], uint32_t nparts, char *buf);
int s3_etag_parse(const char *s, size_t len, unsigned char md5[16],
                  uint32_t *nparts);
/* 1 when the If-Match/If-None-Match list v names o's ETag ("*" too). */
int s3_etag_matches(const gw_str_t *v, const store_object_t *o);
/* An HTTP date header as unix seconds; -1 when it does not parse. */
int64_t s3_http_time(const gw_str_t *v);
/* If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since against o
 * (RFC 7232 order): S3_ERR_NONE, PreconditionFailed, or NotModified. With
 * copy set, the x-amz-copy-source-if-* forms, where a match of If-None-Match
 * or an unmodified source is PreconditionFailed too. */
int s3_object_conditions(s3_req_t *r, const store_object_t *o, int copy);

/* The conditions of a write (PutObject, CompleteMultipartUpload) into c,
 * checked later inside the commit: If-None-Match (only "*", as S3: another
 * value is NotImplemented) and If-Match (an ETag, or "*": the key must
 * exist). S3_ERR_NONE or the error to answer. */
int s3_write_conditions(s3_req_t *r, store_cond_t *c);
/* If-Match value v (an ETag or "*") into c; an ETag that does not parse
 * matches no record. */
void s3_cond_if_match(const char *v, size_t len, store_cond_t *c);
/* The conditions of DeleteObject into c: If-Match, x-amz-if-match-size
 * and x-amz-if-match-last-modified-time. S3_ERR_NONE or InvalidArgument
 * (*msg set). */
int s3_delete_conditions(s3_req_t *r, store_cond_t *c, const char **msg);
/* A size (decimal) and a time (HTTP date or ISO 8601) condition value into
 * c: 0, or -1 when it does not parse. */
int s3_cond_size(const char *v, size_t len, store_cond_t *c);
int s3_cond_mtime(const char *v, size_t len, store_cond_t *c);

#endif
