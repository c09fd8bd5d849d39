/* s3/s3.h: the S3 layer as the server sees it (core/main.c): the context
 * the HTTP callbacks get, s3_on_request (routes.c) and s3_on_error
 * (error.c), and freeing what the layer cached at exit.
 *
 * Inside, s3/ is built in floors (see s3/req.h): request plumbing in s3/,
 * authentication and access in s3/auth/, one file per family of
 * operations in s3/ops/, and s3/routes.c on top. */
#ifndef S3_S3_H
#define S3_S3_H

#include "s3/auth/access.h"   /* s3_access_cache_free */
#include "s3/req.h"           /* s3_ctx_t, s3_on_error */

/* The HTTP server's request callback; hr->ctx is an s3_ctx_t. */
void s3_on_request(http_req_t *hr);

/* Gives every operation name of the route tables to core/metrics.h, as the
 * op label of s3gw_requests_total (routes.c). Before gw_metrics_init. */
void s3_routes_metrics(void);

#endif
