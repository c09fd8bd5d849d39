/* s3/version.h: object version ids on the wire, in one place. A version
 * id is the opaque, URL-safe text of a store version number (store.h,
 * "versions"): 16 characters of base64url over the number, scrambled by
 * a bijection so ids do not read as a counter, and a 4-byte check, so that
 * an id this server never gave is told apart (InvalidArgument) from one of
 * a version that is gone (NoSuchVersion). "null" is the null version. Ids
 * are not ordered; listings order versions by the store's keys. Also the
 * x-amz-version-id and x-amz-delete-marker headers of responses. */
#ifndef S3_VERSION_H
#define S3_VERSION_H

#include "s3/req.h"

#define S3_VERSION_ID_LEN  16      /* without the NUL; "null" is shorter */

/* The id of version number v (> 0) into out (S3_VERSION_ID_LEN + 1). */
void s3_version_id(uint64_t v, char *out);

/* The version an id names: S3_ERR_NONE with *v (STORE_VERSION_NULL for
 * "null"), or InvalidArgument for text no version ever had. */
int s3_version_parse(const char *id, size_t len, uint64_t *v);

/* The versionId query parameter: S3_ERR_NONE with *has 0 (absent) or 1
 * and *v, or InvalidArgument (the message is S3's, set in *msg). */
int s3_version_param(s3_req_t *r, int *has, uint64_t *v, const char **msg);

/* The id of a record ("null" or its number's), in r->pool. */
const char *s3_version_of(s3_req_t *r, const store_object_t *o);
/* The id of what a write or delete made, in r->pool. */
const char *s3_version_made(s3_req_t *r, const store_vresult_t *res);

/* 1 when bucket is or was versioned (its records then answer with ids). */
int s3_version_bucket(s3_req_t *r, const char *bucket);

/* x-amz-version-id (and x-amz-delete-marker for a marker) of record o of
 * bucket on the response: only in a bucket that is or was versioned, as
 * S3, unless o has an id of its own. */
void s3_version_headers(s3_req_t *r, const char *bucket,
                        const store_object_t *o);

/* The record of version v of bucket/key (the current one when has is 0):
 * S3_ERR_NONE with *o (the caller's: store_object_free), or the error to
 * answer: NoSuchKey (also when the current version is a delete marker),
 * NoSuchVersion, MethodNotAllowed (a delete marker named by its id) or
 * InternalError. */
int s3_version_lookup(s3_req_t *r, const char *bucket, gw_str_t key, int has,
                      uint64_t v, store_object_t **o, int *is_current);

/* The copy source's version (x-amz-copy-source's versionId text vid, base
 * NULL when none): S3_ERR_NONE with *has and *v, or InvalidArgument. */
int s3_version_source(const gw_str_t *vid, int *has, uint64_t *v,
                      const char **msg);
/* The same for the request's own object and its versionId; *msg is set
 * for an InvalidArgument (a bad id). */
int s3_version_request(s3_req_t *r, store_object_t **o, const char **msg);

#define S3_VERSION_BAD_ID  "Invalid version id specified"

#endif
