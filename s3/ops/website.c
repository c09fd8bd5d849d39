/* s3/ops/website.c: PutBucketWebsite, GetBucketWebsite,
 * DeleteBucketWebsite, and the static website endpoint.
 *
 * The configuration model (validation, stored form, the endpoint's
 * decisions) is s3/website.c's; a configuration is stored, normalized, as
 * the bucket's "website" configuration document.
 *
 * The endpoint (a Host of BUCKET.<website_domain>, see s3_req_parse)
 * answers anonymous GET and HEAD the way S3's website endpoint does:
 *
 *   no bucket, no configuration             404 HTML page
 *   RedirectAllRequestsTo                   301 to it
 *   a routing rule without an error code    its redirect
 *   "" or "dir/"                            the index document dir/Suffix
 *   a missing "dir" whose dir/Suffix exists 302 to /dir/
 *   the object, readable by anonymous       its redirect location (301) or
 *                                           its bytes, as GetObject sends
 *                                           them (s3/get.c)
 *   otherwise 403 or 404 (404 only to whom anonymous ListBucket allows, as
 *   the REST endpoint decides) -> a routing rule on that code, else the
 *   ErrorDocument with that status, else an HTML error page.
 *
 * Signatures are not looked at: the endpoint serves anonymous readers
 * only, so access is decided for an anonymous caller (s3/auth/access.c). */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/get.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "s3/uri.h"
#include "s3/website.h"
#include "core/log.h"

#include "llhttp.h"

static int s3_web_op_get(s3_req_t *r), s3_web_op_put(s3_req_t *r),
    s3_web_op_delete(s3_req_t *r);

const s3_route_t  s3_website_routes[] = {
    { HTTP_GET,    S3_BUCKET, "website", "GetBucketWebsite", s3_web_op_get, 0,
      "s3:GetBucketWebsite", NULL },
    { HTTP_PUT,    S3_BUCKET, "website", "PutBucketWebsite", s3_web_op_put,
      S3_BODY, "s3:PutBucketWebsite", NULL },
    { HTTP_DELETE, S3_BUCKET, "website", "DeleteBucketWebsite",
      s3_web_op_delete, 0, "s3:DeleteBucketWebsite", NULL },
    S3_ROUTE_END
};


/* ==== the configuration ==== */

/* The bucket's configuration: S3_ERR_NONE, NoSuchWebsiteConfiguration or
 * InternalError. */
static int
s3_web_conf(s3_req_t *r, s3_web_conf_t **out)
{
    const char  *msg;
    gw_str_t     v;
    int          rc;

    rc = store_bconf_get(r->ctx->store, r->bucket, STORE_BCONF_WEBSITE,
                         r->pool, &v);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_WEBSITE_CONFIGURATION;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "website configuration lookup "
               "failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    if (s3_website_parse(r->pool, v.base, v.len, out, &msg) != S3_ERR_NONE) {
        gw_log(GW_LOG_ERR, r->http->peer, GW_ECORRUPT, "the website "
               "configuration of bucket %s does not parse", r->bucket);
        return S3_ERR_INTERNAL_ERROR;
    }
    return S3_ERR_NONE;
}

static int
s3_web_op_get(s3_req_t *r)
{
    s3_web_conf_t  *c;
    s3_xml_t        x;
    int             rc;

    rc = s3_web_conf(r, &c);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    s3_website_xml(c, &x, r->pool);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}

static void
s3_web_op_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    s3_web_conf_t  *c;
    const char     *msg = NULL;
    s3_xml_t        x;
    gw_str_t        v;

    if (err == S3_ERR_NONE) {
        err = s3_website_parse(r->pool, buf, len, &c, &msg);
    } else if (err == S3_ERR_ENTITY_TOO_LARGE) {
        err = S3_ERR_MALFORMED_XML;     /* no configuration is this long */
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err, msg);
        return;
    }
    s3_website_xml(c, &x, r->pool);
    v.base = x.buf;
    v.len = x.len;
    s3_bucket_conf_put(r, STORE_BCONF_WEBSITE, v, 200);
}

static int
s3_web_op_put(s3_req_t *r)
{
    int64_t  cl = r->http->content_length;
    size_t   max = S3_WEB_BODY_MAX;
    int      rc;

    /* The collect buffer is allocated whole: no bigger than the body. An
     * aws-chunked body's framing only makes cl larger than its bytes. */
    if (cl >= 0 && (uint64_t) cl <= S3_WEB_BODY_MAX) {
        max = (size_t) cl;
    } else if (cl >= 0 && (r->payload_mode == S3_PAYLOAD_SIGNED
                           || r->payload_mode == S3_PAYLOAD_UNSIGNED))
    {
        return S3_ERR_MALFORMED_XML;
    }
    rc = s3_payload_collect(r, max, s3_web_op_put_body);
    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        return S3_ERR_MALFORMED_XML;
    }
    return rc == GW_DONE ? GW_OK : rc;
}

static int
s3_web_op_delete(s3_req_t *r)
{
    gw_str_t  none = { NULL, 0 };

    /* Deleting what is not there succeeds, as S3 answers it. */
    s3_bucket_conf_put(r, STORE_BCONF_WEBSITE, none, 204);
    return GW_DONE;
}


/* ==== the endpoint's answers ==== */

static const char *
s3_web_reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 412: return "Precondition Failed";
    case 416: return "Requested Range Not Satisfiable";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default:  return "Internal Server Error";
    }
}

/* "<li>Name: text</li>", the text HTML-escaped (XML escaping is HTML's). */
static void
s3_web_li(s3_xml_t *x, const char *name, const char *text, size_t len)
{
    s3_xml_raw(x, "<li>", 4);
    s3_xml_raw(x, name, strlen(name));
    s3_xml_raw(x, ": ", 2);
    s3_xml_text(x, text, len);
    s3_xml_raw(x, "</li>\n", 6);
}

/* An HTML error page like S3's website endpoint sends; doc_err, when not
 * 0, is why the ErrorDocument could not be sent in its place. */
static void
s3_web_error(s3_req_t *r, int err, int doc_err)
{
    http_req_t  *hr = r->http;
    const char  *code = s3_error_code(err), *msg = s3_error_message(err);
    int          status = s3_error_status(err);
    s3_xml_t     x;
    char        *title;

    if (hr->responded || hr->aborted) {
        return;
    }
    gw_log(GW_LOG_DEBUG, hr->peer, 0, "%s website %s", hr->id, code);
    if (status == 304) {
        http_resp_send(hr, 304, NULL, 0, NULL);
        return;
    }
    memset(&x, 0, sizeof(x));
    x.pool = r->pool;
    title = gw_pool_sprintf(r->pool, "%d %s", status, s3_web_reason(status));
    s3_xml_raw(&x, "<html>\n<head><title>", 20);
    s3_xml_raw(&x, title, strlen(title));
    s3_xml_raw(&x, "</title></head>\n<body>\n<h1>", 27);
    s3_xml_raw(&x, title, strlen(title));
    s3_xml_raw(&x, "</h1>\n<ul>\n", 11);
    s3_web_li(&x, "Code", code, strlen(code));
    s3_web_li(&x, "Message", msg, strlen(msg));
    if (err == S3_ERR_NO_SUCH_KEY && r->key.len
        && s3_utf8_valid(r->key.base, r->key.len))
    {
        s3_web_li(&x, "Key", r->key.base, r->key.len);
    }
    if ((err == S3_ERR_NO_SUCH_BUCKET
         || err == S3_ERR_NO_SUCH_WEBSITE_CONFIGURATION) && r->bucket != NULL)
    {
        s3_web_li(&x, "BucketName", r->bucket, strlen(r->bucket));
    }
    s3_web_li(&x, "RequestId", hr->id, strlen(hr->id));
    s3_web_li(&x, "HostId", hr->id, strlen(hr->id));
    s3_xml_raw(&x, "</ul>\n", 6);
    if (doc_err != 0) {
        s3_xml_raw(&x, "<h3>An Error Occurred While Attempting to Retrieve a "
                   "Custom Error Document</h3>\n<ul>\n", 82);
        s3_web_li(&x, "Code", s3_error_code(doc_err),
                  strlen(s3_error_code(doc_err)));
        s3_web_li(&x, "Message", s3_error_message(doc_err),
                  strlen(s3_error_message(doc_err)));
        s3_xml_raw(&x, "</ul>\n", 6);
    }
    s3_xml_raw(&x, "<hr/>\n</body>\n</html>\n", 22);
    if (status == 405) {
        http_resp_header(hr, "Allow", "GET, HEAD", 9);
    }
    http_resp_send(hr, status, x.buf, x.len, "text/html; charset=utf-8");
}

static void
s3_web_redirect(s3_req_t *r, const s3_web_redirect_t *to)
{
    gw_log(GW_LOG_DEBUG, r->http->peer, 0, "%s website redirect %d %s",
           r->http->id, to->status, to->location);
    http_resp_header(r->http, "Location", to->location, strlen(to->location));
    http_resp_send(r->http, to->status, NULL, 0, NULL);
}

/* The object key, if anonymous may read it: *o set (NULL when there is no
 * such key) and S3_ERR_NONE, or AccessDenied / InternalError. A missing key
 * is AccessDenied to whom anonymous s3:ListBucket does not allow. */
static int
s3_web_object(s3_req_t *r, gw_str_t key, store_object_t **o)
{
    int  rc;

    *o = NULL;
    if (key.len > STORE_KEY_MAX) {
        return S3_ERR_KEY_TOO_LONG;
    }
    rc = s3_access_resource(r, r->bucket, &key, "s3:GetObject");
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = store_object_get(r->ctx->store, r->bucket, key, o);
    if (rc == GW_ENOTFOUND) {
        *o = NULL;
        return S3_ERR_NONE;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "object lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    return S3_ERR_NONE;
}

/* Whether key is there, whoever may read it. */
static int
s3_web_exists(s3_req_t *r, gw_str_t key)
{
    store_object_t  *o;

    if (store_object_get(r->ctx->store, r->bucket, key, &o) != GW_OK) {
        return 0;
    }
    store_object_free(o);
    return 1;
}

/* The request failed with err: a routing rule on its status, the
 * ErrorDocument with that status, or the HTML page. */
static void
s3_web_failed(s3_req_t *r, const s3_web_conf_t *c, const char *proto,
              const char *host, int err)
{
    s3_web_redirect_t   to;
    store_object_t     *o;
    int                 status = s3_error_status(err), rc;

    if (s3_website_route(c, r->pool, r->key, status, proto, host, &to)) {
        s3_web_redirect(r, &to);
        return;
    }
    if (!c->has_error_doc || status < 400 || status > 499) {
        s3_web_error(r, err, 0);
        return;
    }
    rc = s3_web_object(r, c->error_key, &o);
    if (rc == S3_ERR_NONE && o == NULL) {
        rc = S3_ERR_NO_SUCH_KEY;
    }
    if (rc != S3_ERR_NONE) {
        s3_web_error(r, err, rc);
        return;
    }
    rc = s3_get_send(r, o, S3_GET_WEBSITE, status);
    if (rc > 0) {
        s3_web_error(r, rc, 0);
    }
}

/* After the index document: the object, its redirect or the folder's
 * redirect. S3_ERR_NONE when answered, or the error to answer. */
static int
s3_web_serve(s3_req_t *r, const s3_web_conf_t *c, gw_str_t key, int indexed)
{
    s3_web_redirect_t   to;
    store_object_t     *o, *idx;
    gw_str_t            folder;
    char               *enc;
    size_t              n;
    int                 rc;

    rc = s3_web_object(r, key, &o);
    if (o == NULL && !indexed
        && (rc == S3_ERR_NONE
            || (rc == S3_ERR_ACCESS_DENIED && !s3_web_exists(r, key))))
    {
        /* "dir" is not there but "dir/index.html" is: the folder. */
        s3_website_folder_index(c, r->pool, key, &folder);
        if (s3_web_object(r, folder, &idx) == S3_ERR_NONE && idx != NULL) {
            store_object_free(idx);
            enc = gw_pool_alloc(r->pool, 3 * key.len + 3);
            enc[0] = '/';
            n = 1 + s3_uri_encode(key.base, key.len, enc + 1, 1);
            enc[n++] = '/';
            enc[n] = '\0';
            to.status = 302;
            to.location = enc;
            s3_web_redirect(r, &to);
            return S3_ERR_NONE;
        }
    }
    if (rc != S3_ERR_NONE || o == NULL) {
        return rc != S3_ERR_NONE ? rc : S3_ERR_NO_SUCH_KEY;
    }
    if (o->website_redirect.len) {
        to.status = 301;
        to.location = gw_pool_strndup(r->pool, o->website_redirect.base,
                                      o->website_redirect.len);
        store_object_free(o);
        s3_web_redirect(r, &to);
        return S3_ERR_NONE;
    }
    rc = s3_get_send(r, o, S3_GET_WEBSITE, 0);
    return rc > 0 ? rc : S3_ERR_NONE;
}

static int
s3_web_bucket(s3_req_t *r)
{
    store_bucket_t  b;
    int             rc;

    if (r->bucket == NULL || strlen(r->bucket) > STORE_BUCKET_MAX) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    rc = store_bucket_get(r->ctx->store, r->bucket, &b);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    return S3_ERR_NONE;
}

void
s3_website_request(s3_req_t *r, int rc)
{
    http_req_t         *hr = r->http;
    s3_web_conf_t      *c = NULL;
    s3_web_redirect_t   to;
    const gw_str_t     *h;
    const char         *proto, *host;
    gw_str_t            key;
    int                 indexed;

    /* Anonymous, whatever the request carries: S3's website endpoint
     * serves public content only. */
    r->user = NULL;
    if (rc == S3_ERR_NONE && hr->method != HTTP_GET && hr->method != HTTP_HEAD) {
        rc = S3_ERR_METHOD_NOT_ALLOWED;
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_web_bucket(r);
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_web_conf(r, &c);
    }
    if (rc != S3_ERR_NONE) {
        s3_web_error(r, rc, 0);
        return;
    }
    gw_log(GW_LOG_DEBUG, hr->peer, 0, "%s website %s", hr->id, r->bucket);
    proto = s3_request_secure(r) ? "https" : "http";
    h = s3_header(r, "host");
    host = h ? gw_pool_strndup(r->pool, h->base, h->len) : "";
    if (s3_website_redirect_all(c, r->pool, r->key, proto, &to)
        || s3_website_route(c, r->pool, r->key, 0, proto, host, &to))
    {
        s3_web_redirect(r, &to);
        return;
    }
    indexed = s3_website_index(c, r->pool, r->key, &key);
    rc = s3_web_serve(r, c, key, indexed);
    if (rc == S3_ERR_NOT_MODIFIED || rc == S3_ERR_PRECONDITION_FAILED
        || rc == S3_ERR_INVALID_RANGE)
    {
        /* The object's own answers, as GetObject gives them. */
        s3_web_error(r, rc, 0);
    } else if (rc != S3_ERR_NONE) {
        s3_web_failed(r, c, proto, host, rc);
    }
}
