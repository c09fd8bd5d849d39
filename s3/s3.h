/* s3/s3.h: the S3 protocol layer's shared types. Owns the S3 view of a
 * request (bucket, key, query parameters, caller), the route tables of the
 * operation families, and the payload pipeline that decodes and verifies
 * request bodies. Every operation lives in one family file (bucket.c,
 * object.c, ...) that starts with its route table; router.c lists the
 * tables, authenticates, and calls the handler. */
#ifndef S3_S3_H
#define S3_S3_H

#include "core/conf.h"
#include "core/gw.h"
#include "core/hash.h"
#include "core/pool.h"
#include "http/conn.h"
#include "s3/acl.h"
#include "s3/error.h"
#include "s3/policy.h"
#include "s3/xml.h"
#include "store/store.h"

typedef struct s3_ctx_s      s3_ctx_t;
typedef struct s3_req_s      s3_req_t;
typedef struct s3_payload_s  s3_payload_t;

/* Compiled bucket policies, by bucket name hash, so a policy is parsed
 * once, not on every request (access.c). */
#define S3_POLICY_CACHE  256
typedef struct s3_policy_cache_entry_s  s3_policy_cache_entry_t;

/* What a route addresses. */
#define S3_SERVICE  1        /* "/" */
#define S3_BUCKET   2        /* "/bucket" */
#define S3_OBJECT   3        /* "/bucket/key" */

/* Route flags. */
#define S3_BODY     0x1      /* the operation reads a request body */

/* A handler answers (GW_OK), promises to answer later (GW_DONE), or returns
 * an S3_ERR_* for the router to answer. */
typedef int (*s3_handler_pt)(s3_req_t *r);

typedef struct s3_route_s {
    int            method;       /* llhttp method */
    int            target;       /* S3_SERVICE, S3_BUCKET, S3_OBJECT */
    const char    *subresource;  /* query parameter that selects it, or NULL */
    const char    *action;       /* the operation, "HeadObject": logs */
    s3_handler_pt  handler;
    unsigned       flags;
    const char    *perm;         /* the policy action the router checks on
                                  * the request's bucket or object,
                                  * "s3:GetObject"; NULL: any signed caller
                                  * (ListBuckets, CreateBucket); "": the
                                  * handler checks each key itself */
} s3_route_t;

#define S3_ROUTE_END  { 0, 0, NULL, NULL, NULL, 0, NULL }

/* What access decisions read of one bucket, once per request (access.c). */
typedef struct s3_bucket_access_s  s3_bucket_access_t;

struct s3_bucket_access_s {
    store_bucket_t       b;
    const char          *owner_id;     /* canonical id of b.owner */
    s3_acl_t            *acl;          /* NULL: private */
    s3_acl_t             acl_buf;
    s3_policy_t         *policy;       /* NULL: none; borrowed from the
                                        * policy cache, held by the pool */
    s3_bucket_access_t  *next;
};

/* The server-wide context: borrowed by every request. */
struct s3_ctx_s {
    const gw_conf_t          *cf;
    store_t                  *store;
    uv_loop_t                *loop;
    s3_policy_cache_entry_t  *policies[S3_POLICY_CACHE];  /* access.c */
};

/* Payload modes from x-amz-content-sha256. */
#define S3_PAYLOAD_SIGNED             1   /* hex SHA-256 of the body */
#define S3_PAYLOAD_UNSIGNED           2
#define S3_PAYLOAD_STREAMING_SIGNED   3   /* aws-chunked, chunk signatures */
#define S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER  4
#define S3_PAYLOAD_STREAMING_SIGNED_TRAILER    5

struct s3_req_s {
    http_req_t              *http;
    s3_ctx_t                *ctx;
    gw_pool_t               *pool;        /* the HTTP request's pool */
    const s3_route_t        *route;
    int                      target;
    char                    *bucket;      /* decoded, NUL-terminated, or NULL */
    gw_str_t                 key;         /* decoded; len 0 when none */
    gw_kv_t                 *params;      /* decoded query parameters */
    size_t                   nparams;
    const gw_conf_user_t    *user;        /* NULL: anonymous */
    int64_t                  now;         /* request time, unix seconds */
    int                      payload_mode;
    gw_cksum_alg_t           default_cksum;   /* when the client sends none */
    unsigned                 cksum_is_object:1; /* x-amz-checksum-* describe the
                                                 * object, not this body */
    unsigned char            content_sha256[32];
    unsigned char            seed_sig[32];    /* seeds chunk signatures */
    unsigned char            signing_key[32];
    char                     amz_date[17];
    char                     scope[128];
    s3_payload_t            *payload;
    s3_bucket_access_t      *access;      /* buckets read for decisions */
    s3_policy_ctx_t          access_ctx;  /* the request's condition keys */
    unsigned                 access_ctx_built:1;
    void                    *data;        /* handler state */
};

/* ==== access.c: who may do what (the decision itself: access.h) ==== */

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
/* Frees the compiled policies of ctx (at exit). */
void s3_access_cache_free(s3_ctx_t *ctx);
/* Canonical id of an owner name as records keep it ("" is anonymous). */
const char *s3_owner_id(s3_req_t *r, const char *name, size_t len);
/* The users as ACLs look them up. */
void s3_acl_dir(s3_req_t *r, s3_acl_dir_t *dir);
/* What the router's decision read of the request's bucket, or NULL before
 * it; and the canonical id of that bucket's owner (NULL likewise). */
const s3_bucket_access_t *s3_request_bucket(const s3_req_t *r);
const char *s3_bucket_owner_id(s3_req_t *r);

/* ==== acl.c: the ACL operations' shared part ==== */

/* The ACL that x-amz-acl or x-amz-grant-* headers of r ask for, for a
 * resource of owner in a bucket of bucket_owner (canonical ids), encoded
 * into *out in r->pool; out->base NULL when the request names none.
 * S3_ERR_NONE or the error, with *msg set or NULL. */
int s3_acl_from_headers(s3_req_t *r, const char *owner,
                        const char *bucket_owner, gw_str_t *out,
                        const char **msg);

/* ==== router.c ==== */

/* The HTTP server callbacks; ctx is the server's data. */
void s3_on_request(http_req_t *hr);
void s3_on_error(http_req_t *hr, int status, const char *code,
                 const char *message);

/* Answers with an S3 error XML body; message NULL means the default. */
void s3_error(s3_req_t *r, int err, const char *message);

/* A query parameter's decoded value, or NULL. */
const gw_str_t *s3_param(const s3_req_t *r, const char *name);
const gw_str_t *s3_header(const s3_req_t *r, const char *name);

/* Sends a finished XML document with status. */
void s3_send_xml(s3_req_t *r, int status, s3_xml_t *x);

/* The user a bucket's owner name refers to (or a stand-in with the name). */
void s3_owner_xml(s3_req_t *r, s3_xml_t *x, const char *tag,
                  const char *owner, size_t len);

/* ==== payload.c: request bodies ==== */

/* Results of a decoded, verified body. */
typedef struct s3_body_s {
    uint64_t        size;
    unsigned char   md5[16];
    gw_cksum_alg_t  cksum_alg;
    unsigned char   cksum[32];
} s3_body_t;

/* data gets every decoded byte (borrowed view; GW_AGAIN pauses the socket
 * until s3_payload_resume). end runs once: with S3_ERR_NONE and the
 * verified body, or with the S3 error the body failed on (the handler
 * answers it). Returns an S3_ERR_* when the headers already rule the body
 * out (bad Content-MD5, bad checksum header, no length). */
int s3_payload_start(s3_req_t *r, uint64_t max_size,
                     int (*data)(s3_req_t *r, const char *at, size_t len),
                     void (*end)(s3_req_t *r, int err, const s3_body_t *b));
void s3_payload_resume(s3_req_t *r);

/* Reads a small body (an XML document) into r->pool; end gets it. */
int s3_payload_collect(s3_req_t *r, size_t max,
                       void (*end)(s3_req_t *r, int err, const char *buf,
                                   size_t len));

/* ==== object.c: the PutObject write path, shared with UploadPart ==== */

/* The request's key is not too long (the router has already checked the
 * bucket and the caller's right): S3_ERR_NONE or the error to answer. */
int s3_object_bucket(s3_req_t *r);

typedef struct s3_put_s  s3_put_t;

struct s3_put_s {
    s3_req_t              *r;
    store_chunk_writer_t  *w;
    store_object_t         obj;        /* the record being built */
    store_cond_t           cond;
    s3_body_t              body;       /* the verified body, once in */
    int                    ended;      /* the body is in */
    int                    done;       /* answered or abandoned */
    /* Commits the record instead of PutObject's store_object_put; must end
     * with s3_put_finish. A put with a commit hook never stores inline. */
    void                 (*commit)(s3_put_t *p);
    void                  *data;
};

/* Streams the request body through the payload pipeline into chunks, then
 * commits (p->commit or PutObject's). Returns GW_DONE, or an S3_ERR_* /
 * GW_OK when already answered, like a handler. p lives in r->pool. */
int s3_put_stream(s3_req_t *r, s3_put_t *p, uint64_t max);
/* Releases the writer (committed or not) and the request. */
void s3_put_finish(s3_put_t *p, int committed);
/* Content-*, Cache-Control, Expires and x-amz-meta-* of this request into
 * o (views into the request; fields it lacks are left alone):
 * S3_ERR_NONE or MetadataTooLarge. */
int s3_put_meta(s3_req_t *r, store_object_t *o);
/* s3_put_meta, plus x-amz-tagging, storage class, owner and key. Returns
 * S3_ERR_NONE, an S3_ERR_*, or -1 when it already answered. */
int s3_put_headers(s3_req_t *r, store_object_t *o);
/* "<hex md5>[-<nparts>]" with quotes into buf (48 bytes); and back. */
void s3_etag(const unsigned char md5[16], uint32_t nparts, char *buf);
int s3_etag_parse(const char *s, size_t len, unsigned char md5[16],
                  uint32_t *nparts);
/* 1 when the If-Match/If-None-Match list v names o's ETag ("*" too). */
int s3_etag_matches(const gw_str_t *v, const store_object_t *o);
/* An HTTP date header as unix seconds; -1 when it does not parse. */
int64_t s3_http_time(const gw_str_t *v);
/* Rewrites the record of the request's object with edit(copy, ud) applied
 * (only fields that are views into the old record or into r->pool), and
 * answers status once committed. S3_ERR_NONE when queued, or the S3 error
 * to answer (NoSuchKey...). */
int s3_object_rewrite(s3_req_t *r, void (*edit)(store_object_t *o, void *ud),
                      void *ud, int status);
/* If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since against o
 * (RFC 7232 order): S3_ERR_NONE, PreconditionFailed, or NotModified. With
 * copy set, the x-amz-copy-source-if-* forms, where a match of If-None-Match
 * or an unmodified source is PreconditionFailed too. */
int s3_object_conditions(s3_req_t *r, const store_object_t *o, int copy);

/* ==== the families' route tables ==== */

extern const s3_route_t  s3_bucket_routes[];
extern const s3_route_t  s3_object_routes[];
extern const s3_route_t  s3_multipart_routes[];
extern const s3_route_t  s3_delete_routes[];
extern const s3_route_t  s3_tagging_routes[];
extern const s3_route_t  s3_acl_routes[];
extern const s3_route_t  s3_policy_routes[];

/* copy.c: PutObject with x-amz-copy-source (CopyObject), and what
 * UploadPartCopy shares with it. */
int s3_copy_object(s3_req_t *r);
/* x-amz-copy-source into bucket and key (in r->pool): S3_ERR_NONE or an
 * error with *msg set (or NULL for the default message). */
int s3_copy_source(s3_req_t *r, const char **bucket, gw_str_t *key,
                   const char **msg);


/* tagging.c: x-amz-tagging ("k1=v1&k2=v2") into tags in r->pool, validated
 * like PutObjectTagging. Returns S3_ERR_NONE or an S3 error with *msg set. */
int s3__tagging_header(s3_req_t *r, const gw_str_t *v, gw_kv_t **tags,
                       size_t *ntags, const char **msg);

/* bucket.c: the record of the request's bucket, which the router's access
 * decision has read: S3_ERR_NONE or NoSuchBucket. */
int s3_bucket_record(s3_req_t *r, store_bucket_t *out);

/* Stores the configuration document kind of the request's bucket (val.base
 * NULL removes it) and answers status once it is durable. */
void s3_bucket_conf_put(s3_req_t *r, const char *kind, gw_str_t val,
                        int status);

/* Bucket name rules (InvalidBucketName when it returns 0). */
int s3_bucket_name_valid(const char *name);

#endif
