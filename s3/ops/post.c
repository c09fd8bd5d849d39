/* s3/ops/post.c: POST Object, the browser form upload: a
 * multipart/form-data POST to the bucket's URL.
 *
 *   request body -> payload pipeline (s3/payload.c) -> form parser
 *     (http/form.c) -> fields before the file part, kept (20 KB in all)
 *   file part begins -> policy and signature (s3/auth/postpolicy.c), the
 *     access decision as the signer (or anonymous), the object record from
 *     the fields -> a put fed by us (s3/put.h s3_put_open)
 *   file bytes -> s3_put_feed (chunk writer; content-length-range checked
 *     as they come) -> file part ends: the rest of the body is read and
 *     dropped, as S3 ignores fields after the file
 *   body end -> minimum size, checksum -> s3_put_close: commit, then the
 *     success_action_redirect / success_action_status answer.
 *
 * Form fields become the request headers PutObject would have had
 * (Content-Type, x-amz-meta-*, acl as x-amz-acl, tagging as x-amz-tagging),
 * so the object record, its ACL and tags, and the access decision's
 * condition keys come from the same code as PutObject's. */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/auth/postpolicy.h"
#include "s3/auth/tags.h"
#include "s3/cond.h"
#include "s3/put.h"
#include "s3/uri.h"
#include "s3/version.h"
#include "core/log.h"
#include "http/form.h"

#include <strings.h>

#include "llhttp.h"

#define S3_POST_PRE_MAX     (20 * 1024)   /* field bytes before the file, S3 */
#define S3_POST_FIELDS_MAX  256
/* Bytes a body may carry besides the file: fields, framing, an epilogue. */
#define S3_POST_SLACK       (1024 * 1024)

static int s3_post(s3_req_t *r);

const s3_route_t  s3_post_routes[] = {
    { HTTP_POST, S3_BUCKET, NULL, "PostObject", s3_post, S3_BODY, "", NULL },
    S3_ROUTE_END
};

enum {
    S3_POST_FIELDS = 0,     /* reading fields before the file */
    S3_POST_FILE,           /* the file part streams into the put */
    S3_POST_FILE_DONE,      /* the file part ended; the rest is dropped */
    S3_POST_ANSWERED        /* an error went out; nothing more to do */
};

typedef struct s3_post_s {
    s3_put_t          put;          /* first: r->data once the file streams
                                     * (s3_put_open) */
    s3_req_t         *r;
    http_form_t       form;
    int               state;
    int               put_open;
    int               again;        /* the writer asked us to pause */
    int               in_field;
    gw_kv_t           fields[S3_POST_FIELDS_MAX];
    size_t            nfields;
    char             *pre;          /* the fields' names and values */
    size_t            prelen;
    gw_str_t          filename;
    int               has_policy;
    s3_postpolicy_t   pp;
    uint64_t          max;          /* file bytes allowed */
    int               ck_want_set;
    unsigned char     ck_want[32];
    int               status;       /* success_action_status */
    const gw_str_t   *redirect;
} s3_post_t;

/* ==== answering ==== */

/* Answers an error once (err > 0: the code's message unless msg, extra
 * XML elements or NULL; err < 0: already answered) and abandons the put.
 * Returns GW_ERROR, which stops the form parser and the body. */
static int
s3_post_fail(s3_post_t *ps, int err, const char *msg, const char *extra)
{
    s3_req_t  *r = ps->r;

    if (ps->state == S3_POST_ANSWERED) {
        return GW_ERROR;
    }
    ps->state = S3_POST_ANSWERED;
    if (err > 0 && !r->http->responded) {
        s3_error_send(r->http, r, s3_error_status(err), s3_error_code(err),
                      msg != NULL ? msg : s3_error_message(err), extra);
    }
    if (ps->put_open && !ps->put.done) {
        s3_put_finish(&ps->put, 0);
    }
    return GW_ERROR;
}

static int
s3_post_fail_arg(s3_post_t *ps, int err, const char *msg, const char *name,
                 const char *value)
{
    s3_xml_t  x = { ps->r->pool, NULL, 0, 0 };

    s3_xml_elem_str(&x, "ArgumentName", name);
    s3_xml_elem_str(&x, "ArgumentValue", value);
    return s3_post_fail(ps, err, msg, x.buf);
}

/* EntityTooLarge / EntityTooSmall with the sizes S3 names. */
static int
s3_post_fail_size(s3_post_t *ps, int err, uint64_t proposed, uint64_t limit)
{
    s3_xml_t  x = { ps->r->pool, NULL, 0, 0 };

    s3_xml_elemf(&x, "ProposedSize", "%llu", (unsigned long long) proposed);
    s3_xml_elemf(&x, err == S3_ERR_ENTITY_TOO_SMALL ? "MinSizeAllowed"
                                                   : "MaxSizeAllowed",
                 "%llu", (unsigned long long) limit);
    return s3_post_fail(ps, err, NULL, x.buf);
}

/* The object's URL: path-style or virtual-hosted, as the request came. */
static char *
s3_post_location(s3_req_t *r)
{
    const gw_str_t  *host = s3_header(r, "host");
    const gw_str_t  *proto = s3_header(r, "x-forwarded-proto");
    char            *key = gw_pool_alloc(r->pool, 3 * r->key.len + 1);

    s3_uri_encode(r->key.base, r->key.len, key, 1);
    return gw_pool_sprintf(r->pool, "%s://%.*s%s%s/%s",
                           proto != NULL && gw_str_eq_lit(*proto, "https")
                           ? "https" : "http",
                           host ? (int) host->len : 0, host ? host->base : "",
                           r->bucket_in_host ? "" : "/",
                           r->bucket_in_host ? "" : r->bucket, key);
}

/* The put's respond hook: success_action_redirect, else
 * success_action_status (204 by default). */
static void
s3_post_respond(s3_put_t *p)
{
    s3_req_t     *r = p->r;
    s3_post_t    *ps = p->data;
    http_req_t   *hr = r->http;
    char          etag[48], *loc, *enc, *b, *k;
    s3_xml_t      x;

    s3_etag(p->obj.md5, 0, etag);
    loc = s3_post_location(r);
    http_resp_header(hr, "ETag", etag, strlen(etag));
    if (p->vres.versioned || s3_version_bucket(r, r->bucket)) {
        const char  *id = s3_version_made(r, &p->vres);

        http_resp_header(hr, "x-amz-version-id", id, strlen(id));
    }
    if (ps->redirect != NULL) {
        b = gw_pool_alloc(r->pool, 3 * strlen(r->bucket) + 1);
        s3_uri_encode(r->bucket, strlen(r->bucket), b, 0);
        k = gw_pool_alloc(r->pool, 3 * r->key.len + 1);
        s3_uri_encode(r->key.base, r->key.len, k, 0);
        enc = gw_pool_alloc(r->pool, 3 * strlen(etag) + 1);
        s3_uri_encode(etag, strlen(etag), enc, 0);
        loc = gw_pool_sprintf(r->pool, "%.*s%sbucket=%s&key=%s&etag=%s",
                              (int) ps->redirect->len, ps->redirect->base,
                              memchr(ps->redirect->base, '?',
                                     ps->redirect->len) ? "&" : "?",
                              b, k, enc);
        http_resp_header(hr, "Location", loc, strlen(loc));
        http_resp_send(hr, 303, NULL, 0, NULL);
        return;
    }
    http_resp_header(hr, "Location", loc, strlen(loc));
    if (ps->status == 201) {
        s3_xml_begin(&x, r->pool, "PostResponse");
        s3_xml_elem_str(&x, "Location", loc);
        s3_xml_elem_str(&x, "Bucket", r->bucket);
        s3_xml_elem(&x, "Key", r->key.base, r->key.len);
        s3_xml_elem_str(&x, "ETag", etag);
        s3_xml_end(&x, "PostResponse");
        s3_send_xml(r, 201, &x);
        return;
    }
    http_resp_send(hr, ps->status, NULL, 0, NULL);
}

/* ==== from fields to the request PutObject would have been ==== */

static const gw_str_t *
s3_post_field(s3_post_t *ps, const char *name)
{
    return s3_postpolicy_field(ps->fields, ps->nfields, name);
}

/* Fields that sign the form or steer the upload itself, not the object. */
static int
s3_post_control_field(const gw_str_t *n)
{
    return gw_str_eq_lit(*n, "x-amz-algorithm")
           || gw_str_eq_lit(*n, "x-amz-credential")
           || gw_str_eq_lit(*n, "x-amz-date")
           || gw_str_eq_lit(*n, "x-amz-signature")
           || gw_str_eq_lit(*n, "x-amz-security-token")
           || gw_str_eq_lit(*n, "x-amz-checksum-algorithm")
           || gw_cksum_from_header(n->base, n->len) != GW_CK_NONE;
}

/* The tagging field's Tagging document as an x-amz-tagging value. */
static int
s3_post_tagging(s3_post_t *ps, const gw_str_t *v, gw_str_t *out)
{
    s3_req_t    *r = ps->r;
    gw_kv_t     *tags;
    size_t       n, i, o = 0;
    const char  *msg;
    char        *buf;
    int          rc;

    rc = s3_tags_parse_xml(r->pool, v->base, v->len, &tags, &n, &msg);
    if (rc != S3_ERR_NONE) {
        return s3_post_fail(ps, rc, msg, NULL);
    }
    buf = gw_pool_alloc(r->pool, 3 * v->len + 1);
    for (i = 0; i < n; i++) {
        if (i > 0) {
            buf[o++] = '&';
        }
        o += s3_uri_encode(tags[i].name.base, tags[i].name.len, buf + o, 0);
        buf[o++] = '=';
        o += s3_uri_encode(tags[i].value.base, tags[i].value.len, buf + o, 0);
    }
    out->base = buf;
    out->len = o;
    return GW_OK;
}

/* Replaces the request's headers with those the fields stand for, plus the
 * request's own that say nothing about the object (Host, User-Agent,
 * Referer...): Content-Type and the rest are the form's to set. */
static int
s3_post_headers(s3_post_t *ps)
{
    static const char  *std[] = {
        "content-type", "cache-control", "content-disposition",
        "content-encoding", "expires",
    };
    http_req_t      *hr = ps->r->http;
    gw_kv_t         *h;
    const gw_kv_t   *f;
    size_t           i, j, n = 0;

    h = gw_pool_alloc(ps->r->pool, (hr->nheaders + ps->nfields) * sizeof(*h));
    for (i = 0; i < ps->nfields; i++) {
        f = &ps->fields[i];
        h[n] = *f;
        if (gw_str_eq_lit(f->name, "acl")) {
            h[n].name.base = "x-amz-acl";
            h[n].name.len = 9;
        } else if (gw_str_eq_lit(f->name, "tagging")) {
            h[n].name.base = "x-amz-tagging";
            h[n].name.len = 13;
            if (s3_post_tagging(ps, &f->value, &h[n].value) != GW_OK) {
                return GW_ERROR;
            }
        } else if (f->name.len > 6 && memcmp(f->name.base, "x-amz-", 6) == 0) {
            if (s3_post_control_field(&f->name)) {
                continue;
            }
        } else {
            for (j = 0; j < GW_NELEMS(std); j++) {
                if (f->name.len == strlen(std[j])
                    && memcmp(f->name.base, std[j], f->name.len) == 0)
                {
                    break;
                }
            }
            if (j == GW_NELEMS(std)) {
                continue;
            }
        }
        n++;
    }
    for (i = 0; i < hr->nheaders; i++) {
        const gw_str_t  *name = &hr->headers[i].name;

        if ((name->len >= 8 && memcmp(name->base, "content-", 8) == 0)
            || (name->len >= 6 && memcmp(name->base, "x-amz-", 6) == 0)
            || gw_str_eq_lit(*name, "cache-control")
            || gw_str_eq_lit(*name, "expires"))
        {
            continue;
        }
        h[n++] = hr->headers[i];
    }
    hr->headers = h;
    hr->nheaders = n;
    return GW_OK;
}

/* x-amz-checksum-algorithm and x-amz-checksum-<alg>: the algorithm the
 * object's checksum uses and the value the file must have. */
static int
s3_post_checksum(s3_post_t *ps, gw_cksum_alg_t *alg)
{
    const gw_str_t  *v = s3_post_field(ps, "x-amz-checksum-algorithm");
    gw_cksum_alg_t   a, named = GW_CK_NONE;
    size_t           i, n;

    *alg = GW_CK_NONE;
    if (v != NULL) {
        named = gw_cksum_from_name(v->base, v->len);
        if (named == GW_CK_NONE) {
            return s3_post_fail(ps, S3_ERR_INVALID_REQUEST, "Checksum "
                                "algorithm provided is unsupported. Please "
                                "try again with any of the valid types: "
                                "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                                NULL);
        }
    }
    for (i = 0; i < ps->nfields; i++) {
        a = gw_cksum_from_header(ps->fields[i].name.base,
                                 ps->fields[i].name.len);
        if (a == GW_CK_NONE) {
            continue;
        }
        if (*alg != GW_CK_NONE) {
            return s3_post_fail(ps, S3_ERR_INVALID_REQUEST, "Expecting a "
                                "single x-amz-checksum- header. Multiple "
                                "checksum Types are not allowed.", NULL);
        }
        *alg = a;
        v = &ps->fields[i].value;
        if (gw_base64_decode(ps->ck_want, sizeof(ps->ck_want), &n, v->base,
                             v->len) != GW_OK || n != gw_cksum_len(a))
        {
            return s3_post_fail(ps, S3_ERR_INVALID_REQUEST,
                                gw_pool_sprintf(ps->r->pool, "Value for %s "
                                "header is invalid.", gw_cksum_header(a)),
                                NULL);
        }
        ps->ck_want_set = 1;
    }
    if (named != GW_CK_NONE && *alg != GW_CK_NONE && named != *alg) {
        return s3_post_fail(ps, S3_ERR_INVALID_REQUEST, "Value for "
                            "x-amz-checksum-algorithm does not match the "
                            "x-amz-checksum- field sent.", NULL);
    }
    if (*alg == GW_CK_NONE) {
        *alg = named != GW_CK_NONE ? named : GW_CK_CRC64NVME;
    }
    return GW_OK;
}

/* ==== the file part begins: everything is decided here ==== */

/* key, with ${filename} replaced by the file's name. */
static int
s3_post_key(s3_post_t *ps)
{
    s3_req_t        *r = ps->r;
    const gw_str_t  *k = s3_post_field(ps, "key");
    gw_sb_t          sb = { NULL, 0, 0 };
    size_t           i;
    int              rc;

    if (k == NULL) {
        return s3_post_fail_arg(ps, S3_ERR_INVALID_ARGUMENT, "Bucket POST "
                                "must contain a field named 'key'.  If it is "
                                "specified, please check the order of the "
                                "fields.", "key", "");
    }
    for (i = 0; i < k->len; i++) {
        if (k->len - i >= 11 && memcmp(k->base + i, "${filename}", 11) == 0) {
            gw_sb_put(&sb, ps->filename.base, ps->filename.len);
            i += 10;
        } else {
            gw_sb_putc(&sb, k->base[i]);
        }
    }
    r->key.base = gw_pool_strndup(r->pool, sb.p ? sb.p : "", sb.len);
    r->key.len = sb.len;
    gw_free(sb.p);
    if (r->key.len == 0) {
        return s3_post_fail_arg(ps, S3_ERR_INVALID_ARGUMENT, "User key must "
                                "have a length greater than 0.", "key", "");
    }
    rc = s3_object_bucket(r);
    return rc == S3_ERR_NONE ? GW_OK : s3_post_fail(ps, rc, NULL, NULL);
}

/* Who uploads: the policy and signature, or anonymous when the form has
 * neither. */
static int
s3_post_auth(s3_post_t *ps)
{
    static const char  *sigfields[] = {
        "policy", "x-amz-signature", "x-amz-credential", "x-amz-algorithm",
        "awsaccesskeyid", "signature",
    };
    s3_req_t    *r = ps->r;
    const char  *msg;
    size_t       i;
    int          rc, any = 0;

    for (i = 0; i < GW_NELEMS(sigfields); i++) {
        any |= s3_post_field(ps, sigfields[i]) != NULL;
    }
    r->user = NULL;
    r->signature_version = NULL;
    if (!any) {
        return GW_OK;                       /* anonymous */
    }
    rc = s3_postpolicy_auth(r, ps->fields, ps->nfields);
    if (rc != S3_ERR_NONE) {
        return s3_post_fail(ps, rc, NULL, NULL);
    }
    rc = s3_postpolicy_check(r->pool, *s3_post_field(ps, "policy"), r->bucket,
                             ps->fields, ps->nfields, r->now, &ps->pp, &msg);
    if (rc != S3_ERR_NONE) {
        return s3_post_fail(ps, rc, msg, NULL);
    }
    ps->has_policy = 1;
    return GW_OK;
}

/* success_action_redirect (or its old name redirect) when it is a URL,
 * else success_action_status: 200, 201 or 204 (anything else is 204). */
static void
s3_post_success(s3_post_t *ps)
{
    const gw_str_t  *v = s3_post_field(ps, "success_action_redirect");

    if (v == NULL) {
        v = s3_post_field(ps, "redirect");
    }
    if (v != NULL && ((v->len > 7 && strncasecmp(v->base, "http://", 7) == 0)
                      || (v->len > 8
                          && strncasecmp(v->base, "https://", 8) == 0)))
    {
        ps->redirect = v;
    }
    ps->status = 204;
    v = s3_post_field(ps, "success_action_status");
    if (v != NULL && (gw_str_eq_lit(*v, "200") || gw_str_eq_lit(*v, "201"))) {
        ps->status = v->base[2] == '0' ? 200 : 201;
    }
}

static int
s3_post_file_begin(s3_post_t *ps, const http_form_part_t *part)
{
    s3_req_t        *r = ps->r;
    store_object_t  *o = &ps->put.obj;
    gw_cksum_alg_t   alg;
    int              rc;

    ps->filename.base = part->filename.base != NULL
        ? gw_pool_strndup(r->pool, part->filename.base, part->filename.len)
        : "";
    ps->filename.len = part->filename.base != NULL ? part->filename.len : 0;
    if (s3_post_key(ps) != GW_OK || s3_post_auth(ps) != GW_OK
        || s3_post_headers(ps) != GW_OK || s3_post_checksum(ps, &alg) != GW_OK)
    {
        return GW_ERROR;
    }
    rc = s3_req_unsupported(r);
    if (rc == S3_ERR_NONE) {
        rc = s3_access_resource(r, r->bucket, &r->key, "s3:PutObject");
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_put_headers(r, o);
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_access_new_object(r, o);
    }
    if (rc != S3_ERR_NONE) {
        if (rc < 0) {
            ps->state = S3_POST_ANSWERED;    /* answered */
        }
        return s3_post_fail(ps, rc, NULL, NULL);
    }
    s3_post_success(ps);
    ps->max = r->ctx->cf->max_object_size;
    if (ps->has_policy && ps->pp.has_range) {
        ps->max = GW_MIN(ps->max, ps->pp.len_max);
    }
    ps->put.respond = s3_post_respond;
    ps->put.data = ps;
    s3_put_open(r, &ps->put, alg);
    ps->put_open = 1;
    ps->state = S3_POST_FILE;
    return GW_OK;
}

/* ==== the form's callbacks ==== */

static int
s3_post_on_part(void *ud, const http_form_part_t *part)
{
    s3_post_t  *ps = ud;
    gw_kv_t    *f;
    size_t      i;

    if (gw_ascii_ieq(part->name.base, part->name.len, "file", 4)) {
        return s3_post_file_begin(ps, part);
    }
    if (ps->nfields == S3_POST_FIELDS_MAX
        || part->name.len > S3_POST_PRE_MAX - ps->prelen)
    {
        return s3_post_fail(ps, S3_ERR_MAX_POST_PRE_DATA, NULL, NULL);
    }
    f = &ps->fields[ps->nfields];
    f->name.base = ps->pre + ps->prelen;
    f->name.len = part->name.len;
    for (i = 0; i < part->name.len; i++) {
        ps->pre[ps->prelen++] = (char) gw_ascii_lower(part->name.base[i]);
    }
    if (s3_post_field(ps, gw_pool_strndup(ps->r->pool, f->name.base,
                                          f->name.len)) != NULL)
    {
        return s3_post_fail(ps, S3_ERR_INVALID_ARGUMENT, gw_pool_sprintf(
                            ps->r->pool, "POST form field '%.*s' appears "
                            "more than once.", (int) f->name.len,
                            f->name.base), NULL);
    }
    f->value.base = ps->pre + ps->prelen;
    f->value.len = 0;
    ps->nfields++;
    ps->in_field = 1;
    return GW_OK;
}

static int
s3_post_on_data(void *ud, const char *at, size_t len)
{
    s3_post_t  *ps = ud;
    gw_kv_t    *f;
    int         rc;

    if (ps->state == S3_POST_FIELDS) {
        if (len > S3_POST_PRE_MAX - ps->prelen) {
            return s3_post_fail(ps, S3_ERR_MAX_POST_PRE_DATA, NULL, NULL);
        }
        f = &ps->fields[ps->nfields - 1];
        memcpy(ps->pre + ps->prelen, at, len);
        ps->prelen += len;
        f->value.len += len;
        return GW_OK;
    }
    if (len > ps->max - GW_MIN(ps->put.body.size, ps->max)) {
        return s3_post_fail_size(ps, S3_ERR_ENTITY_TOO_LARGE,
                                 ps->put.body.size + len, ps->max);
    }
    rc = s3_put_feed(&ps->put, at, len);
    if (rc == GW_AGAIN) {
        ps->again = 1;
    } else if (rc != GW_OK) {
        ps->state = S3_POST_ANSWERED;    /* answered and finished */
        return GW_ERROR;
    }
    return GW_OK;
}

static int
s3_post_on_part_end(void *ud)
{
    s3_post_t  *ps = ud;

    if (ps->state == S3_POST_FILE) {
        ps->state = S3_POST_FILE_DONE;
        return GW_DONE;               /* the rest of the body is dropped */
    }
    ps->in_field = 0;
    return GW_OK;
}

static const http_form_cb_t  s3_post_form_cb = {
    s3_post_on_part, s3_post_on_data, s3_post_on_part_end
};

/* ==== the body ==== */

static int
s3_post_body(s3_req_t *r, const char *at, size_t len)
{
    s3_post_t  *ps = r->data;
    int         rc;

    if (ps->state == S3_POST_FILE_DONE) {
        return GW_OK;
    }
    if (ps->state == S3_POST_ANSWERED) {
        return GW_ERROR;
    }
    ps->again = 0;
    rc = http_form_feed(&ps->form, at, len);
    if (rc == GW_OK || (rc == GW_DONE && ps->state == S3_POST_FILE_DONE)) {
        return ps->again ? GW_AGAIN : GW_OK;
    }
    return s3_post_fail(ps, S3_ERR_MALFORMED_POST_REQUEST, NULL, NULL);
}

static void
s3_post_end(s3_req_t *r, int err, const s3_body_t *b)
{
    s3_post_t  *ps = r->data;
    char        msg[128];

    GW_UNUSED(b);
    if (ps->state == S3_POST_ANSWERED) {
        return;
    }
    if (err != S3_ERR_NONE) {
        s3_post_fail(ps, err, NULL, NULL);
        return;
    }
    if (ps->state != S3_POST_FILE_DONE) {
        if (ps->state == S3_POST_FILE
            || http_form_finish(&ps->form) != GW_OK)
        {
            s3_post_fail(ps, S3_ERR_MALFORMED_POST_REQUEST, NULL, NULL);
        } else {
            s3_post_fail_arg(ps, S3_ERR_INVALID_ARGUMENT, "POST requires "
                             "exactly one file upload per request.", "file",
                             "0");
        }
        return;
    }
    s3_put_digest(&ps->put);
    if (ps->has_policy && ps->pp.has_range
        && ps->put.body.size < ps->pp.len_min)
    {
        s3_post_fail_size(ps, S3_ERR_ENTITY_TOO_SMALL, ps->put.body.size,
                          ps->pp.len_min);
        return;
    }
    if (ps->ck_want_set
        && memcmp(ps->put.body.cksum, ps->ck_want,
                  gw_cksum_len(ps->put.body.cksum_alg)) != 0)
    {
        snprintf(msg, sizeof(msg), "The %s you specified did not match the "
                 "calculated checksum.", gw_cksum_name(ps->put.body.cksum_alg));
        s3_post_fail(ps, S3_ERR_BAD_DIGEST, msg, NULL);
        return;
    }
    s3_put_close(&ps->put);
}

static int
s3_post(s3_req_t *r)
{
    http_req_t       *hr = r->http;
    const gw_str_t   *ct = s3_header(r, "content-type");
    gw_str_t          boundary, none = { "", 0 };
    s3_post_t        *ps;
    s3_xml_t          x = { r->pool, NULL, 0, 0 };
    int               rc;

    rc = http_form_boundary(ct != NULL ? *ct : none, &boundary);
    if (rc == GW_DECLINED) {
        s3_xml_elem_str(&x, "Condition", "Bucket POST must be of the "
                        "enclosure-type multipart/form-data");
        s3_error_send(hr, r, 412, "PreconditionFailed",
                      s3_error_message(S3_ERR_PRECONDITION_FAILED), x.buf);
        return GW_OK;
    }
    if (rc != GW_OK) {
        return S3_ERR_MALFORMED_POST_REQUEST;
    }
    if (hr->content_length < 0 && !hr->chunked) {
        return S3_ERR_MISSING_CONTENT_LENGTH;
    }
    ps = gw_pool_calloc(r->pool, sizeof(*ps));
    ps->r = r;
    ps->pre = gw_pool_alloc(r->pool, S3_POST_PRE_MAX);
    http_form_init(&ps->form, boundary, &s3_post_form_cb, ps);
    r->data = ps;
    /* The file is limited as it streams (s3_post_on_data); the body may
     * carry fields and framing besides. */
    rc = s3_payload_start(r, r->ctx->cf->max_object_size + S3_POST_PRE_MAX
                          + S3_POST_SLACK, s3_post_body, s3_post_end);
    if (rc != GW_OK || hr->responded) {
        return rc;
    }
    return GW_DONE;
}
