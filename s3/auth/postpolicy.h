/* s3/auth/postpolicy.h: the authentication of a browser POST upload (S3's
 * "POST Object"): the policy document (base64 JSON with an expiration and
 * conditions) checked against the form's fields, and the form's signature
 * over that policy: SigV4 (x-amz-algorithm, x-amz-credential, x-amz-date,
 * x-amz-signature) or SigV2 (AWSAccessKeyId, signature), which names the
 * user the upload is made as. The form itself (multipart parsing, the
 * file) is s3/ops/post.c's.
 *
 * Fields are passed as gw_kv_t with lowercase names (S3 reads form field
 * names case-insensitively) and their values as sent. */
#ifndef S3_AUTH_POSTPOLICY_H
#define S3_AUTH_POSTPOLICY_H

#include "s3/req.h"

/* What a policy leaves for the upload itself to check. */
typedef struct s3_postpolicy_s {
    int64_t   expiration;          /* unix seconds */
    int       has_range;           /* content-length-range given */
    uint64_t  len_min, len_max;    /* its bounds, inclusive */
} s3_postpolicy_t;

/* Decodes the policy field (base64 JSON), checks that it has not expired
 * at now, that every condition holds for fields and bucket, and that every
 * field but x-amz-signature, file, policy, AWSAccessKeyId, signature and
 * x-ignore-* is named by a condition. Returns S3_ERR_NONE with *out set,
 * or InvalidPolicyDocument / AccessDenied with *msg set to S3's message
 * (in pool). */
int s3_postpolicy_check(gw_pool_t *pool, gw_str_t policy, const char *bucket,
                        const gw_kv_t *fields, size_t n, int64_t now,
                        s3_postpolicy_t *out, const char **msg);

/* The value of field name (lowercase) in fields, or NULL. */
const gw_str_t *s3_postpolicy_field(const gw_kv_t *fields, size_t n,
                                    const char *name);

/* Verifies the form's signature over its policy field and sets r->user
 * and r->signature_version to the signer: SigV4 when x-amz-algorithm is
 * present, else SigV2. Returns S3_ERR_NONE, an S3_ERR_* to answer, or -1
 * when it answered itself (a message of its own). */
int s3_postpolicy_auth(s3_req_t *r, const gw_kv_t *fields, size_t n);

#endif
