/* s3/ops/object.c: PutObject, GetObject, HeadObject, DeleteObject.
 *
 * PutObject streams the body through the object write path (s3/put.c)
 * into a chunk writer, then commits the record; the answer goes out once the
 * commit is durable. GetObject and HeadObject find the record and leave
 * the answer to the object read path (s3/get.c). */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/cond.h"
#include "s3/get.h"
#include "s3/put.h"
#include "s3/record.h"
#include "s3/version.h"
#include "core/log.h"

#include "llhttp.h"

static int s3_object_put(s3_req_t *r), s3_object_get(s3_req_t *r),
    s3_object_delete(s3_req_t *r);

const s3_route_t  s3_object_routes[] = {
    { HTTP_PUT,    S3_OBJECT, NULL, "PutObject", s3_object_put, S3_BODY,
      "s3:PutObject", NULL },
    { HTTP_GET,    S3_OBJECT, NULL, "GetObject", s3_object_get, 0,
      "s3:GetObject", NULL },
    { HTTP_HEAD,   S3_OBJECT, NULL, "HeadObject", s3_object_get, 0,
      "s3:GetObject", NULL },
    { HTTP_DELETE, S3_OBJECT, NULL, "DeleteObject", s3_object_delete, 0,
      "s3:DeleteObject", NULL },
    S3_ROUTE_END
};

/* ==== PutObject ==== */

static int
s3_object_put(s3_req_t *r)
{
    http_req_t      *hr = r->http;
    s3_put_t        *p;
    int              rc;

    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    if (hr->content_length < 0 && !hr->chunked) {
        return S3_ERR_MISSING_CONTENT_LENGTH;
    }
    p = gw_pool_calloc(r->pool, sizeof(*p));
    p->r = r;
    rc = s3_put_headers(r, &p->obj);
    if (rc == S3_ERR_NONE) {
        rc = s3_access_new_object(r, &p->obj);
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_access_replica(r, &p->obj);
    }
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = s3_write_conditions(r, &p->cond);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    return s3_put_stream(r, p, r->ctx->cf->max_object_size);
}

/* ==== GetObject and HeadObject ==== */

/* A delete marker addressed by a read: 404 NoSuchKey when it is the
 * current version of the key, 405 MethodNotAllowed when the request named
 * it by its id, both saying what it is, as S3. */
static int
s3_object_marker(s3_req_t *r, store_object_t *o, int by_id)
{
    char  date[64];

    s3_version_headers(r, r->bucket, o);
    if (by_id) {
        http_date(o->mtime_ms / 1000, date);
        http_resp_header(r->http, "Last-Modified", date, strlen(date));
        http_resp_header(r->http, "Allow", "DELETE", 6);
    }
    store_object_free(o);
    s3_error(r, by_id ? S3_ERR_METHOD_NOT_ALLOWED : S3_ERR_NO_SUCH_KEY,
             by_id ? "The specified method is not allowed against this "
                     "resource." : NULL);
    return GW_OK;
}

static int
s3_object_get(s3_req_t *r)
{
    store_object_t  *o;
    const char      *msg;
    uint64_t         v = 0;
    int              rc, has;

    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = s3_version_param(r, &has, &v, &msg);
    if (rc != S3_ERR_NONE) {
        s3_error(r, rc, msg);
        return GW_OK;
    }
    /* The record the access decision read and decoded, when it did. */
    o = s3_access_object_take(r, has);
    rc = o != NULL ? GW_OK
                   : store_version_get(r->ctx->store, r->bucket, r->key, !has,
                                       v, &o, NULL);
    if (rc == GW_ENOTFOUND) {
        return has ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "object lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    if (o->vflags & STORE_VF_MARKER) {
        return s3_object_marker(r, o, has);
    }
    s3_version_headers(r, r->bucket, o);
    return s3_get_send(r, o, 0, 0);
}

/* ==== DeleteObject ==== */

typedef struct {
    s3_req_t         *r;
    store_vresult_t   res;
    int               has_version;
} s3_object_del_t;

static void
s3_object_deleted(void *ud, int rc)
{
    s3_object_del_t  *d = ud;
    s3_req_t         *r = d->r;
    const gw_str_t   *id;
    const char       *made;

    if (!r->http->aborted) {
        if (rc == GW_OK) {
            if (d->has_version) {
                /* The id asked for, as S3 echoes it. */
                id = s3_param(r, "versionId");
                http_resp_header(r->http, "x-amz-version-id", id->base,
                                 id->len);
            } else if (d->res.marker) {
                made = s3_version_made(r, &d->res);
                http_resp_header(r->http, "x-amz-version-id", made,
                                 strlen(made));
            }
            if (d->res.marker) {
                http_resp_header(r->http, "x-amz-delete-marker", "true", 4);
            }
            http_resp_send(r->http, 204, NULL, 0, NULL);
        } else if (rc == GW_EPRECOND) {
            s3_error(r, S3_ERR_PRECONDITION_FAILED, NULL);
        } else if (rc == GW_ENOTFOUND) {
            s3_error(r, S3_ERR_NO_SUCH_KEY, NULL);
        } else {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "deleting an object failed");
            s3_error(r, S3_ERR_INTERNAL_ERROR, NULL);
        }
    }
    http_req_release(r->http);
}

/* Without a version id: the key is deleted (a delete marker in a
 * versioned bucket, replicated when the rules replicate delete markers).
 * With one: that version goes for good, which S3 never replicates. */
static int
s3_object_delete(s3_req_t *r)
{
    s3_object_del_t  *d;
    store_repl_t     *repl = NULL;
    store_cond_t      cond;
    const char       *msg;
    uint64_t          v = 0;
    int               rc = s3_object_bucket(r);

    if (rc != S3_ERR_NONE) {
        return rc;
    }
    d = gw_pool_calloc(r->pool, sizeof(*d));
    d->r = r;
    /* Conditional deletes (If-Match, x-amz-if-match-size, -time) are
     * decided in the delete's commit, against the current version (or the
     * version named). */
    memset(&cond, 0, sizeof(cond));
    rc = s3_delete_conditions(r, &cond, &msg);
    if (rc == S3_ERR_NONE) {
        rc = s3_version_param(r, &d->has_version, &v, &msg);
    }
    if (rc != S3_ERR_NONE) {
        s3_error(r, rc, msg);
        return GW_OK;
    }
    if (!d->has_version) {
        repl = gw_pool_alloc(r->pool, sizeof(*repl));
        rc = s3_record_repl(r, r->bucket, r->key, NULL, 0, 1, repl);
        if (rc != S3_ERR_NONE) {
            return rc;
        }
    }
    http_req_hold(r->http);
    store_object_remove(r->ctx->store, r->bucket, r->key, d->has_version, v,
                        &cond, repl, r->user ? r->user->name : NULL, &d->res,
                        s3_object_deleted, d);
    return GW_DONE;
}
