/* s3/put.h: the object write path shared by PutObject, UploadPart and
 * browser POST uploads: the body streamed through the payload pipeline
 * (or fed by the caller: a POST form's file part) into a chunk writer,
 * then one index commit; and the object record fields a
 * write request's headers give (Content-*, x-amz-meta-*, storage class,
 * owner, key). The ACL and tags a new object gets are auth's
 * (s3_access_new_object in s3/auth/access.h). */
#ifndef S3_PUT_H
#define S3_PUT_H

#include "s3/payload.h"
#include "s3/req.h"

typedef struct s3_put_s  s3_put_t;

struct s3_put_s {
    s3_req_t              *r;
    store_chunk_writer_t  *w;
    store_object_t         obj;        /* the record being built */
    store_cond_t           cond;
    store_repl_t           repl;       /* where the object must be copied */
    store_vresult_t        vres;       /* the version PutObject made */
    s3_body_t              body;       /* the verified body, once in */
    int                    ended;      /* the body is in */
    int                    done;       /* answered or abandoned */
    /* Commits the record instead of PutObject's store_object_put; must end
     * with s3_put_finish. A put with a commit hook never stores inline. */
    void                 (*commit)(s3_put_t *p);
    /* Answers a committed put instead of PutObject's 200 (POST's
     * success_action_*); must not finish it. */
    void                 (*respond)(s3_put_t *p);
    void                  *data;
    /* s3_put_open's digests of the bytes fed */
    EVP_MD_CTX            *md5;
    gw_cksum_t             ck;
};

/* Streams the request body through the payload pipeline into chunks, then
 * commits (p->commit or PutObject's). Returns GW_DONE, or an S3_ERR_* /
 * GW_OK when already answered, like a handler. p lives in r->pool. */
int s3_put_stream(s3_req_t *r, s3_put_t *p, uint64_t max);
/* A put whose caller feeds the bytes (a POST form's file part, cut out of
 * the request body the caller parses): opens the writer and starts MD5 and
 * the alg checksum. p must be r->data (or its first member) while the put
 * runs: an abort of the connection finishes it. */
void s3_put_open(s3_req_t *r, s3_put_t *p, gw_cksum_alg_t alg);
/* Hashes and stores len bytes (borrowed): GW_OK, GW_AGAIN (taken; stop
 * feeding until the request body resumes), or an error, answered and the
 * put finished. */
int s3_put_feed(s3_put_t *p, const char *at, size_t len);
/* All bytes fed: p->body gets their size and digests, for the caller to
 * check before s3_put_close. */
void s3_put_digest(s3_put_t *p);
/* Flushes the writer and commits p->body's object (p->commit or
 * PutObject's); the answer goes out once durable (p->respond or 200). */
void s3_put_close(s3_put_t *p);
/* Releases the writer (committed or not) and the request. */
void s3_put_finish(s3_put_t *p, int committed);
/* Content-*, Cache-Control, Expires, x-amz-meta-* and
 * x-amz-website-redirect-location of this request into o (views into the
 * request; fields it lacks are left alone): S3_ERR_NONE, MetadataTooLarge
 * or InvalidRedirectLocation. */
int s3_put_meta(s3_req_t *r, store_object_t *o);
/* x-amz-website-redirect-location alone (a copy that keeps the source's
 * metadata may still set it): S3_ERR_NONE or InvalidRedirectLocation. */
int s3_put_website_redirect(s3_req_t *r, store_object_t *o);
/* s3_put_meta, plus storage class, owner and key: S3_ERR_NONE or an
 * S3_ERR_*. */
int s3_put_headers(s3_req_t *r, store_object_t *o);

#endif
