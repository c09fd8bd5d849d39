/* s3/req.h: the S3 view of one request, the bottom floor of s3/ (request
 * plumbing). Owns the request and server context types, the route row
 * type, and the helpers every handler uses to read a request and answer
 * it: query parameters and headers, bucket and key from the target, owner
 * XML, S3 error and XML responses (the error table is s3/error.c's).
 *
 * s3/ is built in floors; a file includes only its own floor or below
 * (test/layers.sh checks it):
 *   1. request plumbing  the files of s3/ itself: req, error, xml, uri,
 *                        cond, payload, put, get, record, version,
 *                        replication, cors, website, lifecycle
 *   2. auth              s3/auth/: signatures, the access decision, the
 *                        policy language, the ACL model, tags
 *   3. operations        s3/ops/: one file per family of operations, each
 *                        starting with its route table; handlers never call
 *                        each other
 *   4. routes            s3/routes.c: the route table of tables, the entry
 *                        point */
#ifndef S3_REQ_H
#define S3_REQ_H

#include "core/conf.h"
#include "core/gw.h"
#include "core/hash.h"
#include "core/pool.h"
#include "http/conn.h"
#include "s3/error.h"
#include "s3/xml.h"
#include "store/store.h"

typedef struct s3_ctx_s      s3_ctx_t;
typedef struct s3_req_s      s3_req_t;
typedef struct s3_payload_s  s3_payload_t;

/* Compiled bucket policies, by bucket name hash, so a policy is parsed
 * once, not on every request (auth/access.c). */
#define S3_POLICY_CACHE  256
typedef struct s3_policy_cache_entry_s  s3_policy_cache_entry_t;

/* Parsed bucket CORS configurations, by bucket name hash (s3/cors.c). */
#define S3_CORS_CACHE  256
typedef struct s3_cors_cache_entry_s  s3_cors_cache_entry_t;

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
    const char    *header;       /* a request header whose presence selects
                                  * this row over one without it
                                  * ("x-amz-copy-source"), or NULL */
} s3_route_t;

#define S3_ROUTE_END  { 0, 0, NULL, NULL, NULL, 0, NULL, NULL }

/* What the access decision read of one bucket (s3/auth/access.h). */
typedef struct s3_bucket_access_s  s3_bucket_access_t;

/* The server-wide context: borrowed by every request. */
struct s3_ctx_s {
    const gw_conf_t          *cf;
    store_t                  *store;
    uv_loop_t                *loop;
    s3_policy_cache_entry_t  *policies[S3_POLICY_CACHE];  /* auth/access.c */
    s3_cors_cache_entry_t    *cors[S3_CORS_CACHE];        /* cors.c */
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
    unsigned                 bucket_in_host:1;  /* virtual-hosted style */
    unsigned                 website:1;   /* Host BUCKET.<website_domain>:
                                           * the static website endpoint */
    gw_str_t                 key;         /* decoded; len 0 when none */
    gw_kv_t                 *params;      /* decoded query parameters */
    size_t                   nparams;
    const gw_conf_user_t    *user;        /* NULL: anonymous */
    const char              *signature_version;  /* "AWS4-HMAC-SHA256",
                                                  * "AWS" (SigV2); NULL */
    unsigned                 presigned:1; /* signed in the query string */
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
    /* Set by authentication when the body is aws-chunked and signed: the
     * signature the next chunk (trailer 0) or the trailer (1) must carry,
     * from the previous signature and the SHA-256 of its bytes. The payload
     * pipeline calls it without knowing the signature scheme. */
    void                   (*body_signature)(const s3_req_t *r, int trailer,
                                             const unsigned char prev[32],
                                             const unsigned char hash[32],
                                             unsigned char out[32]);
    s3_bucket_access_t      *access;      /* buckets read for decisions
                                           * (auth/access.c) */
    struct s3_policy_ctx_s  *access_ctx;  /* the request's condition keys,
                                           * once built (auth/access.c) */
    struct s3_access_obj_s  *access_obj;  /* the request's own object as
                                           * the decision read it, for the
                                           * handler to take
                                           * (s3_access_object_take) */
    void                    *data;        /* handler state */
};

/* ==== req.c: reading the request ==== */

/* Bucket and key from Host (a website request under website_domain, which
 * sets r->website, or virtual-hosted style under server_name) or the path,
 * then the decoded query parameters, into r (in r->pool): S3_ERR_NONE or
 * the error to answer. */
int s3_req_parse(s3_req_t *r);

/* Headers that ask for what s3gw does not do (server-side encryption):
 * S3_ERR_NONE or NotImplemented. */
int s3_req_unsupported(const s3_req_t *r);

/* A query parameter's decoded value, or NULL. */
const gw_str_t *s3_param(const s3_req_t *r, const char *name);
const gw_str_t *s3_header(const s3_req_t *r, const char *name);

/* Canonical id of an owner name as records keep it ("" is anonymous). */
const char *s3_owner_id(s3_req_t *r, const char *name, size_t len);

/* The user a bucket's owner name refers to (or a stand-in with the name). */
void s3_owner_xml(s3_req_t *r, s3_xml_t *x, const char *tag,
                  const char *owner, size_t len);

/* The request's key is not too long: S3_ERR_NONE or KeyTooLongError. */
int s3_object_bucket(s3_req_t *r);

/* Bucket name rules (InvalidBucketName when it returns 0). */
int s3_bucket_name_valid(const char *name);

/* x-amz-copy-source into bucket, key and the text of its versionId (base
 * NULL when none), in r->pool: S3_ERR_NONE or an error with *msg set (or
 * NULL for the default message). */
int s3_copy_source(s3_req_t *r, const char **bucket, gw_str_t *key,
                   gw_str_t *vid, const char **msg);

/* A decimal parameter or header (max-keys, partNumber, x-amz-max-parts...):
 * its value in *out, or -1 when v is NULL, empty, longer than 19 digits,
 * not all digits or over max (*out then untouched). A caller that caps
 * instead of refusing passes UINT64_MAX and caps. */
int s3_parse_uint(const gw_str_t *v, uint64_t max, uint64_t *out);

/* ==== req.c: answering ==== */

/* Answers with an S3 error XML body; message NULL means the default. */
void s3_error(s3_req_t *r, int err, const char *message);
/* The same with any status and code, and extra XML elements (or NULL)
 * before Resource; r may be NULL (an error before the S3 view exists). */
void s3_error_send(http_req_t *hr, s3_req_t *r, int status, const char *code,
                   const char *message, const char *extra);
/* The HTTP server's error callback: errors http/ answers itself. */
void s3_on_error(http_req_t *hr, int status, const char *code,
                 const char *message);

/* Writes <tag>s</tag> into x, URL-encoded when the listing was asked
 * for with encoding-type=url (url set). */
void s3_xml_elem_url(s3_req_t *r, s3_xml_t *x, const char *tag,
                     const char *s, size_t len, int url);

/* Sends a finished XML document with status. */
void s3_send_xml(s3_req_t *r, int status, s3_xml_t *x);

#endif
