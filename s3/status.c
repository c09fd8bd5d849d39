/* s3/status.c: the answers of the status listener. Each is made at once,
 * on the loop, from shared counters and one read transaction. */
#include "s3/status.h"
#include "s3/req.h"
#include "core/log.h"
#include "core/metrics.h"

#include <inttypes.h>

#include "llhttp.h"

#define S3_STATUS_TEXT     "text/plain; charset=utf-8"
#define S3_STATUS_PROM     "text/plain; version=0.0.4; charset=utf-8"

/* The store's figures, read now; nothing of them when the read fails (the
 * counters still go out, and the log says why). */
static void
s3_status_store(s3_ctx_t *ctx, gw_sb_t *sb, const char *peer)
{
    store_stats_t  s;
    int            rc;

    if (ctx->store == NULL) {
        return;
    }
    rc = store_stats(ctx->store, &s);
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, peer, rc, "/metrics: cannot read the store's "
               "figures");
        return;
    }
    gw_metrics_gauge(sb, "s3gw_store_objects", "Keys with a current "
                     "version (delete markers included).",
                     (double) s.objects);
    gw_metrics_gauge(sb, "s3gw_store_noncurrent_versions", "Noncurrent "
                     "object versions kept.", (double) s.versions);
    gw_metrics_gauge(sb, "s3gw_store_chunks", "Chunk files referred to by "
                     "objects, versions or uploads.", (double) s.chunks);
    gw_metrics_gauge(sb, "s3gw_store_chunk_bytes", "Bytes of those chunks, "
                     "each stored once.", (double) s.chunk_bytes);
    gw_metrics_gauge(sb, "s3gw_store_referenced_bytes", "Chunk bytes times "
                     "the references to them: what objects hold before "
                     "deduplication.", (double) s.referenced_bytes);
    gw_metrics_gauge(sb, "s3gw_store_dedup_ratio", "referenced_bytes / "
                     "chunk_bytes (1 for an empty store).",
                     s.chunk_bytes == 0 ? 1.0
                     : (double) s.referenced_bytes / (double) s.chunk_bytes);
    gw_metrics_gauge(sb, "s3gw_store_bytes_exact", "1 when the byte "
                     "figures cover every chunk; 0 when the scan stopped at "
                     "its cap.", s.bytes_exact);
    gw_metrics_gauge(sb, "s3gw_gc_queue_chunks", "Chunks queued for the "
                     "collector.", (double) s.gc_queue);
    gw_metrics_gauge(sb, "s3gw_multipart_uploads", "Multipart uploads in "
                     "progress.", (double) s.uploads);
    gw_sb_printf(sb, "# HELP s3gw_replication_queue Replication changes "
                     "waiting (pending) or given up (failed).\n"
                     "# TYPE s3gw_replication_queue gauge\n"
                     "s3gw_replication_queue{state=\"pending\"} %" PRIu64 "\n"
                     "s3gw_replication_queue{state=\"failed\"} %" PRIu64 "\n",
                     s.outbox_pending, s.outbox_failed);
    gw_metrics_gauge(sb, "s3gw_disk_free_bytes", "Bytes free for s3gw on "
                     "the disk of data_dir.", (double) s.disk_free);
    gw_metrics_gauge(sb, "s3gw_disk_size_bytes", "Size of the disk of "
                     "data_dir.", (double) s.disk_size);
}

static void
s3_status_metrics(http_req_t *hr)
{
    gw_sb_t  sb = { NULL, 0, 0 };

    gw_metrics_render(&sb);
    s3_status_store(hr->ctx, &sb, hr->peer);
    http_resp_send(hr, 200, sb.p, sb.len, S3_STATUS_PROM);
    gw_free(sb.p);
}

static void
s3_status_ready(http_req_t *hr)
{
    s3_ctx_t  *ctx = hr->ctx;
    char       why[512], body[600];
    int        n;

    if (store_ready(ctx->store, why, sizeof(why)) == GW_OK) {
        http_resp_send(hr, 200, "ready\n", 6, S3_STATUS_TEXT);
        return;
    }
    n = snprintf(body, sizeof(body), "not ready: %s\n", why);
    http_resp_send(hr, 503, body, GW_MIN((size_t) n, sizeof(body) - 1),
                   S3_STATUS_TEXT);
}

void
s3_status_on_request(http_req_t *hr)
{
    int  known;

    known = gw_str_eq_lit(hr->path, "/metrics")
            || gw_str_eq_lit(hr->path, "/health")
            || gw_str_eq_lit(hr->path, "/ready");
    if (!known) {
        http_resp_send(hr, 404, "not found\n", 10, S3_STATUS_TEXT);
        return;
    }
    if (hr->method != HTTP_GET && hr->method != HTTP_HEAD) {
        http_resp_header(hr, "Allow", "GET, HEAD", 9);
        http_resp_send(hr, 405, "method not allowed\n", 19, S3_STATUS_TEXT);
        return;
    }
    if (gw_str_eq_lit(hr->path, "/metrics")) {
        s3_status_metrics(hr);
    } else if (gw_str_eq_lit(hr->path, "/health")) {
        http_resp_send(hr, 200, "ok\n", 3, S3_STATUS_TEXT);
    } else {
        s3_status_ready(hr);
    }
}

void
s3_status_on_error(http_req_t *hr, int status, const char *code,
                   const char *message)
{
    char  body[256];
    int   n;

    GW_UNUSED(code);
    n = snprintf(body, sizeof(body), "%s\n", message ? message : "error");
    http_resp_send(hr, status, body, GW_MIN((size_t) n, sizeof(body) - 1),
                   S3_STATUS_TEXT);
}
