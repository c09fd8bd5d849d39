/* s3/ops/replication.c: PutBucketReplication, GetBucketReplication,
 * DeleteBucketReplication.
 *
 * The configuration model (reading, validation, stored form, the document
 * given back) is s3/replication.c's; a configuration is stored as the
 * bucket's "replication" configuration document, so deleting the bucket
 * drops it. Only the configuration exists so far: nothing is replicated
 * yet (the pusher comes later).
 *
 * Every destination bucket must be one that a replication_target of the
 * configuration serves (remote replication), or else a bucket of this
 * server (same-site replication); otherwise 400 "Destination bucket must
 * exist.", as S3 answers for a bucket it does not have. Like S3, which
 * checks its Role only when it replicates, this does not check that the
 * caller may write into the destination: that is the pusher's to decide
 * on each object. S3 also wants versioning on both buckets; this server
 * accepts configurations on unversioned buckets too, as it always did
 * (README, "Replication"). */
#include "s3/ops/ops.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "s3/replication.h"
#include "core/log.h"

#include "llhttp.h"

static int s3_repl_op_get(s3_req_t *r), s3_repl_op_put(s3_req_t *r),
    s3_repl_op_delete(s3_req_t *r);

/* S3 asks for s3:PutReplicationConfiguration to delete a configuration;
 * there is no s3:DeleteReplicationConfiguration. */
const s3_route_t  s3_replication_routes[] = {
    { HTTP_GET,    S3_BUCKET, "replication", "GetBucketReplication",
      s3_repl_op_get, 0, "s3:GetReplicationConfiguration", NULL },
    { HTTP_PUT,    S3_BUCKET, "replication", "PutBucketReplication",
      s3_repl_op_put, S3_BODY, "s3:PutReplicationConfiguration", NULL },
    { HTTP_DELETE, S3_BUCKET, "replication", "DeleteBucketReplication",
      s3_repl_op_delete, 0, "s3:PutReplicationConfiguration", NULL },
    S3_ROUTE_END
};


/* ==== GetBucketReplication ==== */

static int
s3_repl_op_get(s3_req_t *r)
{
    s3_repl_conf_t  *c;
    s3_xml_t         x;
    gw_str_t         v;
    int              rc;

    rc = store_bconf_get(r->ctx->store, r->bucket, STORE_BCONF_REPLICATION,
                         r->pool, &v);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_REPLICATION_CONFIGURATION_NOT_FOUND;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "replication configuration "
               "lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    if (s3_replication_decode(r->pool, v.base, v.len, &c) != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, GW_ECORRUPT, "the replication "
               "configuration of bucket %s does not decode", r->bucket);
        return S3_ERR_INTERNAL_ERROR;
    }
    s3_replication_xml(c, &x, r->pool);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}


/* ==== PutBucketReplication ==== */

/* Each destination is served by a target, or is a bucket here: S3_ERR_NONE
 * or the error, with *msg. */
static int
s3_repl_op_destinations(s3_req_t *r, const s3_repl_conf_t *c,
                        const char **msg)
{
    const s3_repl_rule_t  *d;
    store_bucket_t         b;
    char                   name[STORE_BUCKET_MAX + 1];
    size_t                 i, j;
    int                    rc;

    for (i = 0; i < c->nrules; i++) {
        d = &c->rules[i];
        for (j = 0; j < i; j++) {
            if (c->rules[j].dest_bucket.len == d->dest_bucket.len
                && memcmp(c->rules[j].dest_bucket.base, d->dest_bucket.base,
                          d->dest_bucket.len) == 0)
            {
                break;                  /* checked already */
            }
        }
        if (j < i || gw_conf_target_for_bucket(r->ctx->cf, d->dest_bucket.base,
                                               d->dest_bucket.len) != NULL)
        {
            continue;
        }
        /* A valid bucket name (the model checked it) fits. */
        snprintf(name, sizeof(name), "%.*s", (int) d->dest_bucket.len,
                 d->dest_bucket.base);
        rc = store_bucket_get(r->ctx->store, name, &b);
        if (rc == GW_ENOTFOUND) {
            *msg = "Destination bucket must exist.";
            return S3_ERR_INVALID_REQUEST;
        }
        if (rc != GW_OK) {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket lookup failed");
            return S3_ERR_INTERNAL_ERROR;
        }
    }
    return S3_ERR_NONE;
}

/* ExistingObjectReplication Enabled in a rule: a backfill entry from the
 * start of the bucket, queued before the configuration is stored (the two
 * commit in that order), so the pusher queues the objects already there
 * a batch at a time (s3/bg/replicate.c), across restarts. */
static void
s3_repl_op_backfill(s3_req_t *r, const s3_repl_conf_t *c)
{
    static const char *const  none[] = { "" };
    store_repl_t              repl = { none, 1 };
    size_t                    i;

    for (i = 0; i < c->nrules; i++) {
        if (c->rules[i].enabled && c->rules[i].existing) {
            store_outbox_queue(r->ctx->store, r->bucket, gw_str_lit(""),
                               &repl, STORE_REPL_BACKFILL, NULL, NULL);
            return;
        }
    }
}

static void
s3_repl_op_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_repl_conf_t  *c;
    const char      *msg = NULL;

    if (err == S3_ERR_NONE) {
        err = s3_replication_parse(r->pool, buf, len, r->bucket, &c, &msg);
    } else if (err == S3_ERR_ENTITY_TOO_LARGE) {
        err = S3_ERR_MALFORMED_XML;     /* no configuration is this long */
    }
    if (err == S3_ERR_NONE) {
        err = s3_repl_op_destinations(r, c, &msg);
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err, msg);
        return;
    }
    s3_repl_op_backfill(r, c);
    s3_bucket_conf_put(r, STORE_BCONF_REPLICATION,
                       s3_replication_encode(r->pool, c), 200);
}

static int
s3_repl_op_put(s3_req_t *r)
{
    int64_t  cl = r->http->content_length;
    size_t   max = S3_REPL_BODY_MAX;
    int      rc;

    /* S3 requires an integrity check on this body (the SDKs send one). */
    if (!s3_payload_has_digest(r)) {
        s3_error(r, S3_ERR_INVALID_REQUEST, "Missing required header for "
                 "this request: Content-MD5");
        return GW_OK;
    }
    /* The collect buffer is allocated whole: no bigger than the body. An
     * aws-chunked body's framing only makes cl larger than its bytes. */
    if (cl >= 0 && (uint64_t) cl <= S3_REPL_BODY_MAX) {
        max = (size_t) cl;
    } else if (cl >= 0 && (r->payload_mode == S3_PAYLOAD_SIGNED
                           || r->payload_mode == S3_PAYLOAD_UNSIGNED))
    {
        return S3_ERR_MALFORMED_XML;
    }
    rc = s3_payload_collect(r, max, s3_repl_op_put_body);
    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_XML;
    }
    return rc == GW_DONE ? GW_OK : rc;
}


/* ==== DeleteBucketReplication ==== */

static int
s3_repl_op_delete(s3_req_t *r)
{
    gw_str_t  none = { NULL, 0 };

    /* Deleting what is not there succeeds, as S3 answers it. */
    s3_bucket_conf_put(r, STORE_BCONF_REPLICATION, none, 204);
    return GW_DONE;
}
