/* s3/routes.c: from an HTTP request head to an S3 handler; the top floor
 * of s3/ and the only file that knows every family of operations.
 *
 *   addressing (virtual-hosted or path-style) -> bucket, key (req.c)
 *   query -> decoded parameters (req.c)
 *   CORS (ops/cors.c): an OPTIONS preflight is answered there; a request
 *   with Origin gets its Access-Control-* headers before any answer
 *   signature (auth/signature.c) -> caller, payload mode
 *   route (method, target, subresource, selecting header)
 *   access decision (auth/access.c) on the route's policy action
 *   -> the handler (ops/) */
#include "s3/s3.h"
#include "s3/auth/access.h"
#include "s3/auth/signature.h"
#include "s3/ops/ops.h"
#include "core/log.h"
#include "core/metrics.h"

#include <time.h>

#include "llhttp.h"

static const s3_route_t  *s3_route_tables[] = {
    s3_bucket_routes,
    s3_versions_routes,
    s3_object_routes,
    s3_copy_routes,
    s3_multipart_routes,
    s3_delete_routes,
    s3_tagging_routes,
    s3_acl_routes,
    s3_policy_routes,
    s3_replication_routes,
    s3_cors_routes,
    s3_website_routes,
    s3_post_routes,
    s3_lifecycle_routes,
    s3_controls_routes,
    s3_attributes_routes,
};

/* Query parameters that name a subresource S3 has; one we do not route is
 * NotImplemented rather than being mistaken for the plain operation. */
#define S3_SUB(s)  { s, sizeof(s) - 1 }
static const gw_str_t  s3_subresources[] = {
    S3_SUB("accelerate"), S3_SUB("acl"), S3_SUB("analytics"),
    S3_SUB("attributes"), S3_SUB("cors"), S3_SUB("delete"),
    S3_SUB("encryption"), S3_SUB("intelligent-tiering"),
    S3_SUB("inventory"), S3_SUB("legal-hold"), S3_SUB("lifecycle"),
    S3_SUB("location"), S3_SUB("logging"), S3_SUB("metrics"),
    S3_SUB("notification"), S3_SUB("object-lock"),
    S3_SUB("ownershipControls"), S3_SUB("policy"), S3_SUB("policyStatus"),
    S3_SUB("publicAccessBlock"), S3_SUB("replication"),
    S3_SUB("requestPayment"), S3_SUB("restore"), S3_SUB("retention"),
    S3_SUB("select"), S3_SUB("tagging"), S3_SUB("torrent"),
    S3_SUB("uploadId"), S3_SUB("uploads"), S3_SUB("versioning"),
    S3_SUB("versions"), S3_SUB("website"), S3_SUB("session"),
    S3_SUB("metadataTable"),
};

/* ==== routing ==== */

static int
s3_is_subresource(const gw_str_t *name)
{
    size_t  i;

    for (i = 0; i < GW_NELEMS(s3_subresources); i++) {
        /* Lengths from the table: a presigned URL's six parameters
         * would otherwise cost two hundred strlen calls. */
        if (name->len == s3_subresources[i].len
            && memcmp(name->base, s3_subresources[i].base, name->len) == 0)
        {
            return 1;
        }
    }
    return 0;
}

/* The row of the tables for r among those with a subresource present in
 * the query (sub) or without one: one whose header is present wins over
 * one without a header. *method_seen tells whether any row matched all but
 * the method. */
static const s3_route_t *
s3_route_find(s3_req_t *r, int sub, int *method_seen)
{
    const s3_route_t  *rt, *found = NULL;
    size_t             t;

    for (t = 0; t < GW_NELEMS(s3_route_tables); t++) {
        for (rt = s3_route_tables[t]; rt->handler != NULL; rt++) {
            if (rt->target != r->target
                || (sub ? rt->subresource == NULL
                          || s3_param(r, rt->subresource) == NULL
                        : rt->subresource != NULL)
                || (rt->header != NULL && s3_header(r, rt->header) == NULL))
            {
                continue;
            }
            *method_seen = 1;
            if (rt->method == r->http->method
                && (found == NULL || (found->header == NULL
                                      && rt->header != NULL)))
            {
                found = rt;
            }
        }
    }
    return found;
}

/* Routes with a subresource win; a plain route only matches a query that
 * names no subresource. */
static int
s3_route(s3_req_t *r)
{
    size_t  i;
    int     method_seen = 0, sub = 0;

    r->route = s3_route_find(r, 1, &method_seen);
    if (r->route != NULL) {
        return S3_ERR_NONE;
    }
    for (i = 0; i < r->nparams; i++) {
        sub |= s3_is_subresource(&r->params[i].name);
    }
    if (sub) {
        return method_seen ? S3_ERR_METHOD_NOT_ALLOWED : S3_ERR_NOT_IMPLEMENTED;
    }
    r->route = s3_route_find(r, 0, &method_seen);
    return r->route != NULL ? S3_ERR_NONE : S3_ERR_METHOD_NOT_ALLOWED;
}

/* ==== metrics ==== */

void
s3_routes_metrics(void)
{
    const s3_route_t  *rt;
    size_t             t;

    for (t = 0; t < GW_NELEMS(s3_route_tables); t++) {
        for (rt = s3_route_tables[t]; rt->handler != NULL; rt++) {
            gw_metrics_op_add(rt->action);
        }
    }
}

/* ==== the entry point ==== */

/* What a json access log line adds to the HTTP fields: all of it lives in
 * the request's pool, the route table or the configuration, so it outlives
 * the line (written before the pool goes). */
static void
s3_log_fields(s3_req_t *r)
{
    gw_log_rec_t  *l = &r->http->log;

    l->operation = r->route != NULL ? r->route->action : NULL;
    l->bucket = r->bucket;
    l->bucket_len = r->bucket != NULL ? strlen(r->bucket) : 0;
    l->key = r->key.len > 0 ? r->key.base : NULL;
    l->key_len = r->key.len;
    l->user = r->user != NULL ? r->user->name : NULL;
    l->access_key = r->user != NULL ? r->user->access_key : NULL;
}

void
s3_on_request(http_req_t *hr)
{
    s3_req_t  *r;
    store_t   *st;
    int        rc;

    r = gw_pool_calloc(hr->pool, sizeof(*r));
    r->http = hr;
    r->ctx = hr->ctx;
    r->pool = hr->pool;
    r->now = (int64_t) time(NULL);
    hr->data = r;

    /* One read snapshot for everything decided and read in this turn (the
     * bucket, its documents, the object): see store_read_begin. Ended
     * before returning, so never held while waiting on a client. */
    st = r->ctx->store;
    store_read_begin(st);
    rc = s3_req_parse(r);
    if (rc == S3_ERR_NONE && s3_cors_request(r) == GW_DONE) {
        goto done;
    }
    if (r->website) {
        s3_website_request(r, rc);
        goto done;
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_auth_request(r);
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_req_unsupported(r);
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_route(r);
        hr->op = r->route != NULL ? r->route->action : NULL;
    }
    if (rc == S3_ERR_NONE && r->bucket != NULL
        && strlen(r->bucket) > STORE_BUCKET_MAX)
    {
        rc = r->route->handler != NULL && r->target == S3_BUCKET
             && r->http->method == HTTP_PUT ? S3_ERR_INVALID_BUCKET_NAME
                                            : S3_ERR_NO_SUCH_BUCKET;
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_access_request(r);
    }
    s3_log_fields(r);
    if (rc == S3_ERR_NONE) {
        gw_log(GW_LOG_DEBUG, hr->peer, 0, "%s %s user %s", hr->id,
               r->route->action, r->user ? r->user->name : "(anonymous)");
        rc = r->route->handler(r);
    }
    if (rc > 0) {
        s3_error(r, rc, NULL);
    }
done:
    store_read_end(st);     /* not through r: the answer may have freed it */
}
