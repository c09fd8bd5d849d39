/* s3/record.c: record writes several operations share (see s3/record.h). */
#include "s3/record.h"
#include "core/log.h"

/* ==== rewriting a record in place (tags, ACL) ====
 *
 * Read the record, pin its chunks in the same loop turn, and commit a copy
 * that differs only in what edit changed, If-Match on the ETag that was
 * read, so an overwrite that commits in between is not undone (the update
 * then counts as done just before that overwrite). store_cond_t compares
 * the ETag only: an overwrite with the same bytes but new metadata, landing
 * between the read and the commit, is not seen and loses its metadata. */

typedef struct {
    s3_req_t        *r;
    store_object_t  *old;        /* the record read; owns the pinned chunks */
    store_object_t   obj;        /* old with the change */
    int              status;     /* answered on success */
} s3_rewrite_t;

static void
s3_rewrite_committed(void *ud, int rc)
{
    s3_rewrite_t  *t = ud;
    s3_req_t      *r = t->r;

    store_unpin(r->ctx->store, t->old->chunks, t->old->nchunks);
    store_object_free(t->old);
    t->old = NULL;
    if (r->http->aborted) {
        goto done;
    }
    switch (rc) {
    case GW_EPRECOND:
    case GW_ENOTFOUND:
        /* The object was overwritten or deleted after it was read, within
         * this request. That overwrite replaced the whole record, tags and
         * ACL included, so this update counts as done just before it: the
         * state is the one that order gives, and the answer is success. */
        gw_log(GW_LOG_DEBUG, r->http->peer, rc, "%s object replaced during a "
               "record update", r->http->id);
        /* fall through */
    case GW_OK:
        http_resp_send(r->http, t->status, NULL, 0, NULL);
        break;
    case GW_ENOBUCKET:
        s3_error(r, S3_ERR_NO_SUCH_BUCKET, NULL);
        break;
    default:
        gw_log(GW_LOG_ERR, r->http->peer, rc, "rewriting an object record "
               "failed");
        s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
    }

done:
    http_req_release(r->http);
}

int
s3_object_rewrite(s3_req_t *r, void (*edit)(store_object_t *o, void *ud),
                  void *ud, int status)
{
    s3_rewrite_t  *t = gw_pool_calloc(r->pool, sizeof(*t));
    store_cond_t   cond;
    int            rc;

    t->r = r;
    t->status = status;
    rc = store_object_get(r->ctx->store, r->bucket, r->key, &t->old);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_KEY;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "object lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    t->obj = *t->old;
    t->obj.raw = NULL;
    edit(&t->obj, ud);
    memset(&cond, 0, sizeof(cond));
    cond.has_if_match = 1;
    memcpy(cond.if_match_md5, t->old->md5, 16);
    cond.if_match_nparts = t->old->nparts;
    /* Pinned in the loop turn of the lookup (store.h): the record that is
     * written back refers to these chunks. */
    store_pin(r->ctx->store, t->old->chunks, t->old->nchunks);
    http_req_hold(r->http);
    store_object_put(r->ctx->store, r->bucket, &t->obj, &cond,
                     s3_rewrite_committed, t);
    return S3_ERR_NONE;
}


/* ==== bucket configuration documents (ops/acl.c, ops/policy.c) ==== */

typedef struct {
    s3_req_t  *r;
    int        status;
} s3_bucket_conf_t;

static void
s3_bucket_conf_stored(void *ud, int rc)
{
    s3_bucket_conf_t  *c = ud;
    s3_req_t          *r = c->r;

    if (r->http->aborted) {
        http_req_release(r->http);
        return;
    }
    if (rc == GW_ENOBUCKET) {
        s3_error(r, S3_ERR_NO_SUCH_BUCKET, NULL);
    } else if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "storing the bucket's %s "
               "failed", r->route->action);
        s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
    } else {
        http_resp_send(r->http, c->status, NULL, 0, NULL);
    }
    http_req_release(r->http);
}

void
s3_bucket_conf_put(s3_req_t *r, const char *kind, gw_str_t val, int status)
{
    s3_bucket_conf_t  *c = gw_pool_alloc(r->pool, sizeof(*c));

    c->r = r;
    c->status = status;
    http_req_hold(r->http);
    store_bconf_put(r->ctx->store, r->bucket, kind, val, s3_bucket_conf_stored,
                    c);
}

