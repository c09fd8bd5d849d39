/* s3/ops/delete.c: DeleteObjects (POST /bucket?delete).
 *
 * The body, <Delete><Quiet/><Object><Key/><VersionId/></Object>...</Delete>,
 * is small (at most 1000 keys), so it is collected whole by the payload
 * pipeline, which also verifies the Content-MD5 or x-amz-checksum-* value
 * that S3 requires on this operation. It is parsed with expat into an array
 * on the request pool; only when the whole document is valid is any key
 * deleted. An <Object> may carry conditions (<ETag>, <Size>,
 * <LastModifiedTime>), checked in its delete's commit as DeleteObject's
 * headers are. Every delete is then queued to the store at once, so the commit
 * batcher gathers them into a batch or two, and the answer goes out once the
 * last of their callbacks has run. A key that did not exist is reported as
 * deleted, as S3 does. An <Object> with a <VersionId> deletes that version
 * for good (s3:DeleteObjectVersion); one without, in a versioned bucket,
 * writes a delete marker, and the result says so (DeleteMarker,
 * DeleteMarkerVersionId). */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/cond.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "s3/version.h"
#include "core/log.h"

#include <strings.h>

#include "llhttp.h"

#define S3_DELETE_MAX       1000
/* 1000 keys of 1024 bytes, each possibly written with entities ("&amp;" is
 * five bytes for one), plus the markup around them. */
#define S3_DELETE_BODY_MAX  (6 * 1024 * 1024)

static int s3_delete_objects(s3_req_t *r);

const s3_route_t  s3_delete_routes[] = {
    { HTTP_POST, S3_BUCKET, "delete", "DeleteObjects", s3_delete_objects,
      S3_BODY, "", NULL },
    S3_ROUTE_END
};

typedef struct s3_delete_s  s3_delete_t;

/* One <Object> of the request and what became of it. */
typedef struct {
    s3_delete_t  *d;
    gw_str_t      key;          /* copy on the pool */
    gw_str_t      version;      /* copy on the pool; base NULL when none */
    const char   *code;         /* per-key <Error> Code, NULL: deleted */
    const char   *message;
    store_repl_t  repl;         /* where the delete must be copied */
    uint64_t      v;            /* the version, when version.base is set */
    store_vresult_t  res;       /* what the delete did */
    store_cond_t  cond;         /* <ETag>, <Size>, <LastModifiedTime> */
} s3_delete_obj_t;

struct s3_delete_s {
    s3_req_t         *r;
    gw_pool_t        *pool;
    s3_delete_obj_t  *objs;     /* S3_DELETE_MAX slots */
    size_t            nobjs;
    int               quiet;
    int               seen_quiet;
    int               key_too_long;
    size_t            pending;  /* store callbacks still to come, + 1 */

    /* The <Object> being read: its children end before it does. */
    size_t            nchildren;
    int               has_key, has_version, bad_cond;
    gw_str_t          key, version;
    store_cond_t      cond;
};

/* Not static: test/fuzz/fuzz_delete.c drives the parser and the writer of
 * the answer, and declares these two itself (s3/s3.h is no place for them). */
int s3__delete_parse(gw_pool_t *pool, const char *buf, size_t len,
                     s3_delete_t **out, size_t *nobjs);
size_t s3__delete_result(s3_delete_t *d, s3_xml_t *x);

/* ==== the request body ==== */

/* xs:boolean, with blanks around it allowed and true/false in any case. */
static int
s3_delete_bool(const char *s, size_t len, int *out)
{
    while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'
                       || s[len - 1] == '\r' || s[len - 1] == '\n'))
    {
        len--;
    }
    if ((len == 4 && strncasecmp(s, "true", 4) == 0)
        || (len == 1 && *s == '1'))
    {
        *out = 1;
        return 0;
    }
    if ((len == 5 && strncasecmp(s, "false", 5) == 0)
        || (len == 1 && *s == '0'))
    {
        *out = 0;
        return 0;
    }
    return -1;
}

/* Called at the end of every element (see s3/xml.h). Anything the schema
 * does not allow stops the parse with GW_EINVAL; the 1001st <Object> stops
 * it with GW_ETOOBIG. Both are MalformedXML to the client, as in S3. */
static int
s3_delete_elem(void *ud, int depth, const char *name, const char *text,
               size_t len)
{
    s3_delete_t      *d = ud;
    s3_delete_obj_t  *o;

    switch (depth) {
    case 3:
        d->nchildren++;
        if (strcmp(name, "Key") == 0) {
            if (d->has_key) {
                return GW_EINVAL;
            }
            d->has_key = 1;
            d->key.len = len;
            if (len > STORE_KEY_MAX) {
                /* Refused whole, once the document is known to be valid. */
                d->key_too_long = 1;
                d->key.base = NULL;
            } else {
                d->key.base = gw_pool_strndup(d->pool, text, len);
            }
        } else if (strcmp(name, "VersionId") == 0) {
            if (d->has_version) {
                return GW_EINVAL;
            }
            d->has_version = 1;
            d->version.len = GW_MIN(len, 1024);
            d->version.base = gw_pool_strndup(d->pool, text, d->version.len);
        } else if (strcmp(name, "ETag") == 0) {
            s3_cond_if_match(text, len, &d->cond);
        } else if (strcmp(name, "Size") == 0) {
            d->bad_cond |= s3_cond_size(text, len, &d->cond) != 0;
        } else if (strcmp(name, "LastModifiedTime") == 0) {
            d->bad_cond |= s3_cond_mtime(text, len, &d->cond) != 0;
        } else {
            return GW_EINVAL;
        }
        return 0;

    case 2:
        if (strcmp(name, "Object") == 0) {
            if (!d->has_key || d->key.len == 0) {
                return GW_EINVAL;
            }
            if (d->nobjs == S3_DELETE_MAX) {
                return GW_ETOOBIG;
            }
            o = &d->objs[d->nobjs++];
            o->d = d;
            o->key = d->key;
            o->version.base = NULL;
            o->version.len = 0;
            o->code = NULL;
            o->message = NULL;
            memset(&o->res, 0, sizeof(o->res));
            memset(&o->repl, 0, sizeof(o->repl));
            o->cond = d->cond;
            if (d->has_version) {
                o->version = d->version;
                /* An id no version ever had: as S3 answers it per key. */
                if (s3_version_parse(d->version.base, d->version.len, &o->v)
                    != S3_ERR_NONE)
                {
                    o->code = "NoSuchVersion";
                    o->message = "The specified version does not exist.";
                }
            }
            if (d->bad_cond && o->code == NULL) {
                o->code = "InvalidArgument";
                o->message = "Size must be a number of bytes and "
                             "LastModifiedTime a timestamp.";
            }
        } else if (strcmp(name, "Quiet") == 0) {
            if (d->nchildren != 0 || d->seen_quiet
                || s3_delete_bool(text, len, &d->quiet) != 0)
            {
                return GW_EINVAL;
            }
            d->seen_quiet = 1;
        } else {
            return GW_EINVAL;
        }
        d->nchildren = 0;
        d->has_key = d->has_version = d->bad_cond = 0;
        memset(&d->cond, 0, sizeof(d->cond));
        return 0;

    case 1:
        return strcmp(name, "Delete") == 0 ? 0 : GW_EINVAL;

    default:
        return GW_EINVAL;
    }
}

/* Parses a DeleteObjects body into a new s3_delete_t on pool. Returns
 * S3_ERR_NONE (*out and *nobjs set), S3_ERR_MALFORMED_XML (not well-formed,
 * not the schema, no <Object> or more than 1000) or S3_ERR_KEY_TOO_LONG. */
int
s3__delete_parse(gw_pool_t *pool, const char *buf, size_t len,
                 s3_delete_t **out, size_t *nobjs)
{
    s3_delete_t  *d;
    int           rc;

    d = gw_pool_calloc(pool, sizeof(*d));
    d->pool = pool;
    d->objs = gw_pool_alloc(pool, S3_DELETE_MAX * sizeof(s3_delete_obj_t));
    rc = s3_xml_parse(buf, len, s3_delete_elem, d);
    if (rc != GW_OK || d->nobjs == 0) {
        return S3_ERR_MALFORMED_XML;
    }
    if (d->key_too_long) {
        /* Like S3: one key too long fails the whole request, and nothing
         * is deleted. */
        return S3_ERR_KEY_TOO_LONG;
    }
    *out = d;
    *nobjs = d->nobjs;
    return S3_ERR_NONE;
}

/* ==== the answer ==== */

/* Writes the DeleteResult document; returns how many <Deleted> and <Error>
 * entries it holds. */
size_t
s3__delete_result(s3_delete_t *d, s3_xml_t *x)
{
    s3_delete_obj_t  *o;
    size_t            i, n = 0;

    s3_xml_begin(x, d->pool, "DeleteResult");
    for (i = 0; i < d->nobjs; i++) {
        o = &d->objs[i];
        if (o->code == NULL && d->quiet) {
            continue;
        }
        s3_xml_open(x, o->code == NULL ? "Deleted" : "Error");
        s3_xml_elem(x, "Key", o->key.base, o->key.len);
        if (o->version.base != NULL) {
            s3_xml_elem(x, "VersionId", o->version.base, o->version.len);
        }
        if (o->code == NULL && o->res.marker) {
            char  id[S3_VERSION_ID_LEN + 1];

            /* The marker made, or the marker that was deleted. */
            s3_xml_elem_str(x, "DeleteMarker", "true");
            if (o->version.base != NULL) {
                s3_xml_elem(x, "DeleteMarkerVersionId", o->version.base,
                            o->version.len);
            } else {
                if (o->res.versioned) {
                    s3_version_id(o->res.version, id);
                } else {
                    memcpy(id, "null", 5);
                }
                s3_xml_elem_str(x, "DeleteMarkerVersionId", id);
            }
        }
        if (o->code != NULL) {
            s3_xml_elem_str(x, "Code", o->code);
            s3_xml_elem_str(x, "Message", o->message);
        }
        s3_xml_close(x, o->code == NULL ? "Deleted" : "Error");
        n++;
    }
    s3_xml_end(x, "DeleteResult");
    return n;
}

/* One callback fewer to wait for; the last one answers. */
static void
s3_delete_settle(s3_delete_t *d)
{
    s3_req_t  *r = d->r;
    s3_xml_t   x;

    if (--d->pending != 0) {
        return;
    }
    if (!r->http->aborted) {
        s3__delete_result(d, &x);
        s3_send_xml(r, 200, &x);
    }
    http_req_release(r->http);
}

static void
s3_delete_done(void *ud, int rc)
{
    s3_delete_obj_t  *o = ud;

    if (rc == GW_EPRECOND || rc == GW_ENOTFOUND) {
        /* A condition of this <Object> failed: S3 reports it per key. */
        int  err = rc == GW_EPRECOND ? S3_ERR_PRECONDITION_FAILED
                                     : S3_ERR_NO_SUCH_KEY;

        o->code = s3_error_code(err);
        o->message = s3_error_message(err);
    } else if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, o->d->r->http->peer, rc,
               "DeleteObjects: deleting a key failed");
        o->code = s3_error_code(S3_ERR_INTERNAL_ERROR);
        o->message = s3_error_message(S3_ERR_INTERNAL_ERROR);
    }
    s3_delete_settle(o->d);
}

static void
s3_delete_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_delete_t  *d;
    size_t        i, n;

    if (err != S3_ERR_NONE) {
        s3_error(r, err, NULL);
        return;
    }
    err = s3__delete_parse(r->pool, buf, len, &d, &n);
    if (err != S3_ERR_NONE) {
        s3_error(r, err, NULL);
        return;
    }
    d->r = r;
    /* The extra count keeps a callback that runs early from answering
     * before every delete is queued. */
    d->pending = 1;
    http_req_hold(r->http);
    for (i = 0; i < n; i++) {
        if (d->objs[i].code == NULL
            && s3_access_resource(r, r->bucket, &d->objs[i].key,
                                  d->objs[i].version.base != NULL
                                  ? "s3:DeleteObjectVersion"
                                  : "s3:DeleteObject") != S3_ERR_NONE)
        {
            /* S3 decides each key on its own. */
            d->objs[i].code = "AccessDenied";
            d->objs[i].message = "Access Denied";
        }
        if (d->objs[i].code == NULL && d->objs[i].version.base == NULL
            && s3_record_repl(r, r->bucket, d->objs[i].key, NULL, 0, 1,
                              &d->objs[i].repl) != S3_ERR_NONE)
        {
            d->objs[i].code = "InternalError";
            d->objs[i].message = "We encountered an internal error.";
        }
        if (d->objs[i].code == NULL) {
            d->pending++;
            /* A version deleted for good is not replicated, as in S3. */
            store_object_remove(r->ctx->store, r->bucket, d->objs[i].key,
                                d->objs[i].version.base != NULL,
                                d->objs[i].v, &d->objs[i].cond,
                                &d->objs[i].repl,
                                r->user ? r->user->name : NULL,
                                &d->objs[i].res, s3_delete_done,
                                &d->objs[i]);
        }
    }
    s3_delete_settle(d);
}

/* ==== the handler ==== */

static int
s3_delete_objects(s3_req_t *r)
{
    int64_t  cl = r->http->content_length;
    size_t   max = S3_DELETE_BODY_MAX;
    int      rc;

    if (!s3_payload_has_digest(r)) {
        s3_error(r, S3_ERR_INVALID_REQUEST, "Missing required header for "
                 "this request: Content-MD5");
        return GW_OK;
    }
    /* The collect buffer is allocated whole up front: no bigger than the
     * body. An aws-chunked body's framing only makes cl larger than what
     * is decoded, so it is a safe bound there too. */
    if (cl >= 0 && (uint64_t) cl <= S3_DELETE_BODY_MAX) {
        max = (size_t) cl;
    } else if (cl >= 0 && (r->payload_mode == S3_PAYLOAD_SIGNED
                           || r->payload_mode == S3_PAYLOAD_UNSIGNED))
    {
        /* Far more than 1000 keys could need. */
        return S3_ERR_MALFORMED_XML;
    }
    rc = s3_payload_collect(r, max, s3_delete_body);
    return rc == GW_DONE ? GW_OK : rc;
}
