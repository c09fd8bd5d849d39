/* s3/payload.h: request bodies, decoded and verified as they stream
 * (aws-chunked framing, chunk signatures through r->body_signature,
 * Content-MD5, x-amz-checksum-*, the signed payload hash), handed to the
 * handler one borrowed view at a time; and small bodies (XML documents)
 * collected whole into the request's pool. */
#ifndef S3_PAYLOAD_H
#define S3_PAYLOAD_H

#include "s3/req.h"
#include "core/hashpipe.h"

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

/* After s3_payload_start: the handler takes the body as pieces of the
 * digest pipeline's own segments instead of through data, so the bytes are
 * copied once on the loop for both (see core/hashpipe.h: seg may be kept
 * with gw_hseg_ref; NULL means a borrowed view). Same return codes as
 * data. */
void s3_payload_share(s3_req_t *r,
                      int (*view)(s3_req_t *r, gw_hseg_t *seg,
                                  const char *at, size_t len));

/* 1 when the request declares a digest of its body: Content-MD5, an
 * x-amz-checksum-* header, or a checksum trailer (x-amz-trailer). The
 * pipeline checks the value itself; S3 requires one on some operations
 * (DeleteObjects, PutBucketReplication). */
int s3_payload_has_digest(const s3_req_t *r);

/* Reads a small body (an XML document) into r->pool; end gets it. */
int s3_payload_collect(s3_req_t *r, size_t max,
                       void (*end)(s3_req_t *r, int err, const char *buf,
                                   size_t len));

#endif
