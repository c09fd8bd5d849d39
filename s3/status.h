/* s3/status.h: the status listener (`status_listen`): GET /metrics (the
 * Prometheus text format: core/metrics.h's counters and the store's
 * figures), /health (the process answers) and /ready (the store takes
 * writes); 404 for any other path. Not S3: no signatures, no S3 error
 * documents, and the S3 listeners never route here. Meant for 127.0.0.1 or
 * a private network. hr->ctx is the server's s3_ctx_t. */
#ifndef S3_STATUS_H
#define S3_STATUS_H

#include "http/conn.h"

void s3_status_on_request(http_req_t *hr);
void s3_status_on_error(http_req_t *hr, int status, const char *code,
                        const char *message);

#endif
