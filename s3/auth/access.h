/* s3/auth/access.h: the access decision. One pure function, s3_access_decide,
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
 * Two bucket settings change the inputs (s3/auth/controls.h):
 * BucketOwnerEnforced Object Ownership makes the bucket owner the owner of
 * every object and takes every ACL out (rules 2 and 4); Block Public
 * Access's IgnorePublicAcls takes the AllUsers and AuthenticatedUsers
 * grants out of both ACLs, and RestrictPublicBuckets, when the policy is
 * public, keeps rule 3 to the bucket owner's account (a Deny still
 * denies).
 *
 * s3_access_request gathers those inputs for one request (routes.c), and
 * s3_access_resource for a second resource of it (a copy source, each key
 * of DeleteObjects). Also what a request says about access to what it
 * creates: the ACL (and tags) of a new object or bucket. */
#ifndef S3_AUTH_ACCESS_H
#define S3_AUTH_ACCESS_H

#include "s3/auth/acl.h"
#include "s3/auth/controls.h"
#include "s3/auth/policy.h"
#include "s3/req.h"

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
    unsigned                restrict_policy:1;  /* RestrictPublicBuckets
                                            * on a public policy: it
                                            * allows nobody but the bucket
                                            * owner's account */
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

/* ==== the inputs of one request ==== */

/* What access decisions read of one bucket, once per request (the type is
 * declared in s3/req.h). */
struct s3_bucket_access_s {
    store_bucket_t       b;
    const char          *owner_id;     /* canonical id of b.owner */
    s3_acl_t            *acl;          /* NULL: private */
    s3_acl_t             acl_buf;
    s3_policy_t         *policy;       /* NULL: none; borrowed from the
                                        * policy cache, held by the pool */
    int                  ownership;    /* S3_OWNERSHIP_*: the "ownership"
                                        * document (absent: ObjectWriter) */
    unsigned             has_ownership:1;  /* the document exists */
    unsigned             has_pab:1;    /* a "pab" document exists */
    unsigned             policy_public:1;  /* s3_policy_is_public */
    s3_pab_t             pab;          /* Block Public Access (absent: all
                                        * flags off) */
    s3_bucket_access_t  *next;
};


/* Decides the request's route->perm on its bucket or object, and checks
 * x-amz-expected-bucket-owner: S3_ERR_NONE, AccessDenied, NoSuchBucket,
 * MethodNotAllowed. */
int s3_access_request(s3_req_t *r);
/* Decides action on bucket (key NULL) or bucket/key for the caller of r:
 * S3_ERR_NONE or the error to answer. For an object action on a missing
 * key s3:ListBucket decides instead (after any explicit Deny of the
 * action), so the handler's NoSuchKey is seen by those S3 would show it
 * to and AccessDenied by everyone else. */
int s3_access_resource(s3_req_t *r, const char *bucket, const gw_str_t *key,
                       const char *action);
/* Adds the tags a request body gives an object (PutObjectTagging's
 * Tagging document) to r's condition keys, as s3:RequestObjectTag/<key>
 * and s3:RequestObjectTagKeys, for the decisions made after it. tags must
 * live as long as r->pool. */
void s3_access_request_tags(s3_req_t *r, const gw_kv_t *tags, size_t ntags);
/* 1 when the client reached us over https: a trusted proxy said so in
 * X-Forwarded-Proto (the listeners themselves speak plain HTTP). */
int s3_request_secure(s3_req_t *r);
/* Frees the compiled policies of ctx, and its parsed CORS
 * configurations (s3_cors_cache_free), at exit. */
void s3_access_cache_free(s3_ctx_t *ctx);
/* The users as ACLs look them up. */
void s3_acl_dir(s3_req_t *r, s3_acl_dir_t *dir);
/* What the router's decision read of the request's bucket, or NULL before
 * it; and the canonical id of that bucket's owner (NULL likewise). */
const s3_bucket_access_t *s3_request_bucket(const s3_req_t *r);
const char *s3_bucket_owner_id(s3_req_t *r);
/* The decoded record of the request's own object (r->bucket, r->key) that
 * the router's decision read, so the handler does not read and decode it
 * again: the version ?versionId= names when by_version is set, else the
 * key's current version. The caller owns it (store_object_free); NULL
 * when the decision read none of that kind (no object action, no such
 * key or version, a current delete marker, or already taken): read it
 * from the store then. */
store_object_t *s3_access_object_take(s3_req_t *r, int by_version);
/* The record of the request's bucket, which the access decision has read:
 * S3_ERR_NONE or NoSuchBucket. */
int s3_bucket_record(s3_req_t *r, store_bucket_t *out);

/* ==== what a request says about access to what it creates ==== */

/* The ACL that x-amz-acl or x-amz-grant-* headers of r ask for, for a
 * resource of owner in a bucket of bucket_owner (canonical ids), encoded
 * into *out in r->pool; out->base NULL when the request names none.
 * S3_ERR_NONE or the error, with *msg set or NULL. */
int s3_acl_from_headers(s3_req_t *r, const char *owner,
                        const char *bucket_owner, gw_str_t *out,
                        const char **msg);
/* x-amz-tagging and x-amz-acl / x-amz-grant-* of a request that creates
 * the object o (o->owner set to the writer) into o->tags and o->acl, in
 * r->pool: tags feed access decisions (s3:ExistingObjectTag) as the ACL
 * does. Returns S3_ERR_NONE, an S3_ERR_*, or -1 when it already answered.
 * The owner and ACL are s3_access_object_acl's. */
int s3_access_new_object(s3_req_t *r, store_object_t *o);
/* The owner and ACL of the object o that the request writes (o->owner set
 * to the writer's name), by the bucket's Object Ownership: the bucket
 * owner owns it under BucketOwnerEnforced, and under BucketOwnerPreferred
 * when x-amz-acl is bucket-owner-full-control; then x-amz-acl /
 * x-amz-grant-* into o->acl (s3_acl_from_headers). S3_ERR_NONE or the
 * error, with *msg set or NULL. */
int s3_access_object_acl(s3_req_t *r, store_object_t *o, const char **msg);
/* Whether the bucket of r lets acl be set on it or its objects:
 * S3_ERR_NONE, AccessControlListNotSupported (BucketOwnerEnforced and acl
 * grants more than the bucket owner's FULL_CONTROL) or AccessDenied
 * (BlockPublicAcls and acl is public). A request without a bucket read
 * (CreateBucket) passes. */
int s3_access_acl_allowed(s3_req_t *r, const s3_acl_t *acl);
/* x-amz-replication-status: REPLICA on a write: another server's
 * replication writing a copy, allowed to whom s3:ReplicateObject allows
 * (the bucket owner, or a policy). Marks o a replica, which no rule of
 * this bucket replicates again (two servers replicating to each other do
 * not send a change back and forth). S3_ERR_NONE (also without the
 * header), AccessDenied or InvalidArgument. */
int s3_access_replica(s3_req_t *r, store_object_t *o);

#endif
