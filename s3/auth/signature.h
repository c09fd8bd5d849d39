/* s3/auth/signature.h: authentication of a request: the scheme it is
 * signed with, its signature, the caller it names, the clock skew or
 * expiry, and its payload mode; what the body's own signatures need
 * (signing key, scope, seed signature, r->body_signature) is kept in r. */
#ifndef S3_AUTH_SIGNATURE_H
#define S3_AUTH_SIGNATURE_H

#include "s3/req.h"

/* Sets r->user (NULL: anonymous), r->payload_mode and what verifying the
 * body takes. Returns S3_ERR_NONE, an S3 error to answer, or -1 when it
 * already answered (SignatureDoesNotMatch with its StringToSign). */
int s3_auth_request(s3_req_t *r);

#endif
