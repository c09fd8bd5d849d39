/* s3/access.h: the access decision. One pure function, s3_access_decide,
 * decides every request from who asks, the action, the resource, the
 * resource's owners and ACLs, the bucket policy and the request context,
 * combining them the way Amazon S3 documents it for buckets with ACLs
 * enabled (object writer owns the object):
 *
 *   1. an explicit Deny in the bucket policy denies (the bucket owner may
 *      still read, change and delete the policy, so nobody is locked out);
 *   2. the owner of the resource is allowed: the bucket owner for bucket
 *      actions and for writes into the bucket (PutObject, DeleteObject,
 *      AbortMultipartUpload...), the object owner for reads and ACL or tag
 *      changes of an object (the bucket owner when there is none), the
 *      initiator of a multipart upload for its abort and part listing;
 *   3. an Allow in the bucket policy allows, except reads of an object the
 *      bucket owner does not own: a bucket policy speaks only for what the
 *      bucket owner owns;
 *   4. an ACL grant of the permission the action maps to (bucket ACL for
 *      bucket actions and writes, object ACL for object reads) allows;
 *   5. anything else is denied.
 *
 * s3_access_request gathers those inputs for one request (router.c), and
 * s3_access_resource for a second resource of it (a copy source, each key
 * of DeleteObjects); both are declared in s3/s3.h. */
#ifndef S3_ACCESS_H
#define S3_ACCESS_H

#include "s3/acl.h"
#include "s3/policy.h"

typedef struct s3_access_s {
    const s3_principal_t   *who;           /* name NULL: anonymous */
    const char             *action;        /* "s3:GetObject" */
    const char             *resource;      /* "arn:aws:s3:::b" or ".../key" */
    const char             *bucket_owner;  /* canonical id */
    const s3_acl_t         *bucket_acl;    /* NULL: private */
    const char             *object_owner;  /* canonical id; NULL: no object */
    const s3_acl_t         *object_acl;    /* NULL: private */
    const char             *initiator;     /* canonical id of the upload's
                                            * initiator, or NULL */
    const s3_policy_t      *policy;        /* NULL: none */
    const s3_policy_ctx_t  *ctx;
} s3_access_t;

#define S3_ACCESS_DENY       0
#define S3_ACCESS_ALLOW      1
#define S3_ACCESS_NOT_OWNER  2   /* a policy action a policy allows to an
                                  * account that does not own the bucket:
                                  * 405 MethodNotAllowed, as S3 */

/* The decision; *why (may be NULL) gets what decided, for the debug log:
 * "owner", "policy statement <sid> allows", "bucket ACL: grant READ to
 * AllUsers", "nothing allows it"... (a string that lives as long as a and
 * the policy). Actions it does not know are denied to all but the owner. */
int s3_access_decide(const s3_access_t *a, char *why, size_t whylen);

/* 1 when action (with or without "s3:") is one the decision knows. */
int s3_access_known(const char *action);

#endif
