/* s3/record.c: record writes several operations share (see s3/record.h). */
#include "s3/record.h"
#include "s3/replication.h"
#include "s3/version.h"
#include "core/log.h"

/* ==== rewriting a record in place (tags, ACL) ====
 *
 * Read the record, pin its chunks in the same loop turn, and commit a copy
 * that differs only in what edit changed, on the condition that the record
 * is still the one that was read: its generation, which every write of the
 * key changes (an overwrite with the same bytes too). When another write
 * landed in between, read again and apply the edit to what it left, so no
 * acknowledged write is ever undone; after S3_REWRITE_TRIES such races in
 * a row, answer 409 OperationAborted as S3 does for conflicting writes. */

#define S3_REWRITE_TRIES  16

typedef struct {
    s3_req_t        *r;
    void           (*edit)(store_object_t *o, void *ud);
    void            *ud;
    int              status;     /* answered on success */
    int              tries;
    store_object_t  *old;        /* the record read; owns the pinned chunks */
    store_object_t   obj;        /* old with the change */
} s3_rewrite_t;

static int s3_rewrite_start(s3_rewrite_t *t);

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
    if (rc == GW_ECONFLICT && ++t->tries < S3_REWRITE_TRIES) {
        gw_log(GW_LOG_DEBUG, r->http->peer, rc, "%s object written during a "
               "record update: again", r->http->id);
        rc = s3_rewrite_start(t);
        if (rc == S3_ERR_NONE) {
            goto done;                  /* the new attempt holds r */
        }
        s3_error(r, rc, NULL);
        goto done;
    }
    switch (rc) {
    case GW_OK:
        /* Scalars of the record read, which t->obj copied. */
        s3_version_headers(r, r->bucket, &t->obj);
        http_resp_send(r->http, t->status, NULL, 0, NULL);
        break;
    case GW_ENOTFOUND:
        s3_error(r, S3_ERR_NO_SUCH_KEY, NULL);
        break;
    case GW_ECONFLICT:
        s3_error(r, S3_ERR_OPERATION_ABORTED, NULL);
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

/* One attempt: read, edit, commit on the generation read. S3_ERR_NONE when
 * the commit is queued (it holds r until s3_rewrite_committed), or the S3
 * error to answer. */
static int
s3_rewrite_start(s3_rewrite_t *t)
{
    s3_req_t      *r = t->r;
    store_cond_t   cond;
    const char    *msg;
    int            rc;

    /* The version the request names, or the current one; the commit
     * rewrites it where it is, keeping its version. */
    rc = s3_version_request(r, &t->old, &msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    t->obj = *t->old;
    t->obj.raw = NULL;
    t->edit(&t->obj, t->ud);
    memset(&cond, 0, sizeof(cond));
    cond.has_generation = cond.in_place = 1;
    cond.generation = t->old->generation;
    /* Pinned in the loop turn of the lookup (store.h): the record that is
     * written back refers to these chunks. */
    store_pin(r->ctx->store, t->old->chunks, t->old->nchunks);
    http_req_hold(r->http);
    store_object_put(r->ctx->store, r->bucket, &t->obj, &cond,
                     s3_rewrite_committed, t);
    return S3_ERR_NONE;
}

int
s3_object_rewrite(s3_req_t *r, void (*edit)(store_object_t *o, void *ud),
                  void *ud, int status)
{
    s3_rewrite_t  *t = gw_pool_calloc(r->pool, sizeof(*t));

    t->r = r;
    t->edit = edit;
    t->ud = ud;
    t->status = status;
    return s3_rewrite_start(t);
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

/* ==== what a change must reach (bucket replication) ==== */

int
s3_record_repl(s3_req_t *r, const char *bucket, gw_str_t key,
               const gw_kv_t *tags, size_t ntags, int del, store_repl_t *out)
{
    const s3_repl_rule_t  *rules[16], *rule;
    s3_repl_conf_t        *conf;
    const char           **dests;
    gw_str_t               doc;
    size_t                 i, n;
    int                    rc;

    out->dests = NULL;
    out->ndests = 0;
    rc = store_bconf_get(r->ctx->store, bucket, STORE_BCONF_REPLICATION,
                         r->pool, &doc);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NONE;
    }
    if (rc != GW_OK
        || s3_replication_decode(r->pool, doc.base, doc.len, &conf) != GW_OK)
    {
        gw_log(GW_LOG_ERR, r->http->peer, rc != GW_OK ? rc : GW_ECORRUPT,
               "reading the replication rules of \"%s\" failed", bucket);
        return S3_ERR_INTERNAL_ERROR;
    }
    if (del) {
        n = s3_replication_match_delete(conf, key, NULL, 0, &rule) ? 1 : 0;
        rules[0] = rule;
    } else {
        n = s3_replication_match_all(conf, key, tags, ntags, rules,
                                     GW_NELEMS(rules));
    }
    if (n == 0) {
        return S3_ERR_NONE;
    }
    dests = gw_pool_alloc(r->pool, n * sizeof(*dests));
    for (i = 0; i < n; i++) {
        dests[i] = gw_pool_strndup(r->pool, rules[i]->dest_bucket.base,
                                   rules[i]->dest_bucket.len);
    }
    out->dests = dests;
    out->ndests = n;
    return S3_ERR_NONE;
}
