/* s3/req.c: reading a request (bucket and key from the target, decoded
 * query parameters, headers, owner ids, the name rules every handler
 * checks) and answering it (S3 error bodies, XML documents); see
 * s3/req.h. */
#include "s3/req.h"
#include "s3/uri.h"
#include "core/log.h"

#include <ctype.h>
#include <strings.h>

/* ==== parsing the request ==== */

static int
s3_parse_query(s3_req_t *r)
{
    gw_str_t     q = r->http->query;
    const char  *p = q.base, *end = q.base + q.len, *amp, *eq;
    size_t       n = 1, i, len;
    char        *buf;

    for (i = 0; i < q.len; i++) {
        n += q.base[i] == '&';
    }
    r->params = gw_pool_alloc(r->pool, sizeof(gw_kv_t) * n);
    r->nparams = 0;
    while (p < end) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }
        if (amp == p) {
            p++;
            continue;
        }
        eq = memchr(p, '=', (size_t) (amp - p));
        gw_kv_t  *kv = &r->params[r->nparams++];

        len = (size_t) ((eq ? eq : amp) - p);
        buf = gw_pool_alloc(r->pool, len + 1);
        if (s3_uri_decode(p, len, buf, &len, 1) != GW_OK) {
            return S3_ERR_INVALID_ARGUMENT;
        }
        kv->name.base = buf;
        kv->name.len = len;
        if (eq != NULL) {
            len = (size_t) (amp - eq - 1);
            buf = gw_pool_alloc(r->pool, len + 1);
            if (s3_uri_decode(eq + 1, len, buf, &len, 1) != GW_OK) {
                return S3_ERR_INVALID_ARGUMENT;
            }
            kv->value.base = buf;
            kv->value.len = len;
        } else {
            kv->value.base = "";
            kv->value.len = 0;
        }
        p = amp + 1;
    }
    return S3_ERR_NONE;
}

/* A bucket name as sent may hold any byte once decoded; only those bucket
 * names may hold (old names allowed capitals and '_') get as far as a
 * lookup, so "%00" cannot cut a name short. */
static int
s3_bucket_bytes_valid(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (!(gw_ascii_lower(s[i]) >= 'a' && gw_ascii_lower(s[i]) <= 'z')
            && !(s[i] >= '0' && s[i] <= '9')
            && s[i] != '.' && s[i] != '-' && s[i] != '_')
        {
            return 0;
        }
    }
    return 1;
}

/* The length of the bucket label when host is BUCKET.domain[:port] (any
 * case), or 0. */
static size_t
s3_host_under(const gw_str_t *host, const char *domain)
{
    const char  *colon = memchr(host->base, ':', host->len);
    size_t       hlen = colon ? (size_t) (colon - host->base) : host->len;
    size_t       sl = strlen(domain);

    if (hlen > sl + 1 && host->base[hlen - sl - 1] == '.'
        && strncasecmp(host->base + hlen - sl, domain, sl) == 0)
    {
        return hlen - sl - 1;
    }
    return 0;
}

/* Bucket and key from Host (a website request under website_domain, or
 * virtual-hosted style under server_name) or from the path. */
static int
s3_parse_target(s3_req_t *r)
{
    const gw_conf_t  *cf = r->ctx->cf;
    const gw_str_t   *host = s3_header(r, "host");
    gw_str_t          path = r->http->path;
    char             *dec;
    size_t            len, n = 0, wn = 0, i;
    const char       *slash;

    if (path.len == 0 || path.base[0] != '/') {
        /* Absolute-form targets ("http://host/path") from proxies. */
        const char  *s = memmem(path.base, path.len, "://", 3);

        if (s == NULL || (s = memchr(s + 3, '/', (size_t) (path.base + path.len - s - 3))) == NULL) {
            return S3_ERR_INVALID_REQUEST;
        }
        path.len -= (size_t) (s - path.base);
        path.base = s;
    }
    dec = gw_pool_alloc(r->pool, path.len + 1);
    if (s3_uri_decode(path.base, path.len, dec, &len, 0) != GW_OK) {
        return S3_ERR_INVALID_ARGUMENT;
    }
    dec[len] = '\0';

    if (host != NULL && cf->server_name != NULL) {
        n = s3_host_under(host, cf->server_name);
    }
    if (host != NULL && cf->website_domain != NULL) {
        wn = s3_host_under(host, cf->website_domain);
    }
    /* Under both (one domain inside the other): the longer domain wins. */
    if (wn != 0 && (n == 0 || wn < n)) {
        n = wn;
        r->website = 1;
    }
    if (n != 0) {
        if (!s3_bucket_bytes_valid(host->base, n)) {
            return S3_ERR_INVALID_BUCKET_NAME;
        }
        r->bucket = gw_pool_strndup(r->pool, host->base, n);
        r->bucket_in_host = 1;
        for (i = 0; r->bucket[i]; i++) {
            r->bucket[i] = (char) (r->bucket[i] >= 'A' && r->bucket[i] <= 'Z'
                                   ? r->bucket[i] + 32 : r->bucket[i]);
        }
        r->key.base = dec + 1;
        r->key.len = len - 1;
        r->target = r->key.len ? S3_OBJECT : S3_BUCKET;
        return S3_ERR_NONE;
    }
    if (len <= 1) {
        r->target = S3_SERVICE;
        return S3_ERR_NONE;
    }
    slash = memchr(dec + 1, '/', len - 1);
    if (!s3_bucket_bytes_valid(dec + 1, slash ? (size_t) (slash - dec - 1)
                                              : len - 1))
    {
        return S3_ERR_INVALID_BUCKET_NAME;
    }
    if (slash == NULL) {
        r->bucket = gw_pool_strndup(r->pool, dec + 1, len - 1);
        r->target = S3_BUCKET;
        return S3_ERR_NONE;
    }
    r->bucket = gw_pool_strndup(r->pool, dec + 1, (size_t) (slash - dec - 1));
    r->key.base = slash + 1;
    r->key.len = len - (size_t) (slash + 1 - dec);
    r->target = r->key.len ? S3_OBJECT : S3_BUCKET;
    return S3_ERR_NONE;
}

int
s3_req_parse(s3_req_t *r)
{
    int  rc;

    rc = s3_parse_target(r);
    if (rc == S3_ERR_NONE && r->key.len
        && !s3_utf8_valid(r->key.base, r->key.len))
    {
        rc = S3_ERR_INVALID_URI;         /* as S3 answers such a key */
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_parse_query(r);
    }
    return rc;
}

/* Server-side encryption is not offered: a request that asks for it (or
 * names an SSE-C key to read or copy with) is refused, so no client
 * believes its data was encrypted. */
int
s3_req_unsupported(const s3_req_t *r)
{
    const gw_kv_t  *h;
    size_t          i;

    for (i = 0; i < r->http->nheaders; i++) {
        h = &r->http->headers[i];
        if ((h->name.len >= 28
             && memcmp(h->name.base, "x-amz-server-side-encryption", 28) == 0)
            || (h->name.len >= 40
                && memcmp(h->name.base,
                          "x-amz-copy-source-server-side-encryption", 40) == 0))
        {
            return S3_ERR_NOT_IMPLEMENTED;
        }
    }
    return S3_ERR_NONE;
}

/* ==== lookups ==== */

const gw_str_t *
s3_param(const s3_req_t *r, const char *name)
{
    size_t  i, n = strlen(name);

    for (i = 0; i < r->nparams; i++) {
        if (r->params[i].name.len == n
            && memcmp(r->params[i].name.base, name, n) == 0)
        {
            return &r->params[i].value;
        }
    }
    return NULL;
}

const gw_str_t *
s3_header(const s3_req_t *r, const char *name)
{
    return http_req_header(r->http, name);
}

void
s3_owner_xml(s3_req_t *r, s3_xml_t *x, const char *tag, const char *owner,
             size_t len)
{
    const gw_conf_user_t  *u = gw_conf_user_by_name(r->ctx->cf, owner, len);

    s3_xml_open(x, tag);
    s3_xml_elem_str(x, "ID", s3_owner_id(r, owner, len));
    s3_xml_elem(x, "DisplayName", u ? u->display_name : owner,
                u ? strlen(u->display_name) : len);
    s3_xml_close(x, tag);
}


const char *
s3_owner_id(s3_req_t *r, const char *name, size_t len)
{
    const gw_conf_user_t  *u;
    char                  *hex;

    u = len ? gw_conf_user_by_name(r->ctx->cf, name, len) : NULL;
    if (u != NULL) {
        return u->canonical_id;
    }
    /* A user since removed from the configuration keeps the id it had by
     * default; "" (anonymous, as writer of an object) gets the id of the
     * empty name, which no user can have. */
    hex = gw_pool_alloc(r->pool, 65);
    gw_conf_default_canonical_id(name, len, hex);
    return hex;
}

/* ==== names and sources ==== */

int
s3_object_bucket(s3_req_t *r)
{
    return r->key.len > STORE_KEY_MAX ? S3_ERR_KEY_TOO_LONG : S3_ERR_NONE;
}

int
s3_bucket_name_valid(const char *name)
{
    size_t  i, n = strlen(name);
    int     dots = 0, digits_only = 1;

    if (n < 3 || n > 63) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char  c = name[i];

        if (!(islower((unsigned char) c) || isdigit((unsigned char) c)
              || c == '.' || c == '-'))
        {
            return 0;
        }
        if (c == '.') {
            dots++;
            if (i > 0 && (name[i - 1] == '.' || name[i - 1] == '-')) {
                return 0;
            }
        } else if (c == '-' && i > 0 && name[i - 1] == '.') {
            return 0;
        } else if (!isdigit((unsigned char) c)) {
            digits_only = 0;
        }
    }
    if (!isalnum((unsigned char) name[0]) || !isalnum((unsigned char) name[n - 1])) {
        return 0;
    }
    if (dots == 3 && digits_only) {
        return 0;    /* formatted like an IP address */
    }
    if (strncmp(name, "xn--", 4) == 0 || strncmp(name, "sthree-", 7) == 0
        || (n > 8 && strcmp(name + n - 8, "-s3alias") == 0)
        || (n > 7 && strcmp(name + n - 7, "--ol-s3") == 0))
    {
        return 0;
    }
    return 1;
}

/* "bucket/key" or "/bucket/key", percent-encoded, optionally followed by
 * "?versionId=...", whose decoded text goes to *vid (base NULL when
 * absent; s3/version.h reads it). Returns S3_ERR_NONE, or an S3 error with
 * *msg set. */
int
s3_copy_source(s3_req_t *r, const char **bucket, gw_str_t *key,
               gw_str_t *vid, const char **msg)
{
    const gw_str_t  *v = s3_header(r, "x-amz-copy-source");
    const char      *q, *p, *end, *amp, *eq;
    char            *dec, *s, *slash;
    size_t           len, n;

    *msg = NULL;
    vid->base = NULL;
    vid->len = 0;
    q = memchr(v->base, '?', v->len);
    if (q != NULL) {
        end = v->base + v->len;
        for (p = q + 1; p < end; p = amp < end ? amp + 1 : end) {
            amp = memchr(p, '&', (size_t) (end - p));
            amp = amp ? amp : end;
            eq = memchr(p, '=', (size_t) (amp - p));
            if (eq == NULL || eq - p != 9 || memcmp(p, "versionId", 9) != 0) {
                continue;
            }
            n = (size_t) (amp - eq - 1);
            dec = gw_pool_alloc(r->pool, n + 1);
            if (s3_uri_decode(eq + 1, n, dec, &n, 1) != GW_OK) {
                *msg = "Invalid version id specified";
                return S3_ERR_INVALID_ARGUMENT;
            }
            vid->base = dec;
            vid->len = n;
        }
    }
    n = q ? (size_t) (q - v->base) : v->len;
    dec = gw_pool_alloc(r->pool, n + 1);
    if (s3_uri_decode(v->base, n, dec, &len, 0) != GW_OK) {
        *msg = "Invalid copy source encoding.";
        return S3_ERR_INVALID_ARGUMENT;
    }
    dec[len] = '\0';
    s = dec;
    if (len > 0 && *s == '/') {
        s++;
        len--;
    }
    slash = memchr(s, '/', len);
    if (slash == NULL || slash == s || (size_t) (slash - s) + 1 == len
        || memchr(s, '\0', (size_t) (slash - s)) != NULL)
    {
        *msg = "Copy Source must mention the source bucket and key: "
               "sourcebucket/sourcekey";
        return S3_ERR_INVALID_ARGUMENT;
    }
    *slash = '\0';
    *bucket = s;
    key->base = slash + 1;
    key->len = len - (size_t) (slash + 1 - s);
    if (key->len > STORE_KEY_MAX) {
        return S3_ERR_KEY_TOO_LONG;
    }
    return S3_ERR_NONE;
}

/* ==== answering ==== */

void
s3_error_send(http_req_t *hr, s3_req_t *r, int status, const char *code,
              const char *message, const char *extra)
{
    s3_xml_t  x;

    if (hr->responded || hr->aborted) {
        return;
    }
    if (status == 304) {
        http_resp_send(hr, 304, NULL, 0, NULL);
        return;
    }
    x.pool = hr->pool;
    x.buf = NULL;
    x.len = x.cap = 0;
    s3_xml_raw(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>", 46);
    s3_xml_elem_str(&x, "Code", code);
    s3_xml_elem_str(&x, "Message", message);
    if (r != NULL && r->key.len && s3_utf8_valid(r->key.base, r->key.len)) {
        s3_xml_elem(&x, "Key", r->key.base, r->key.len);     /* XML is UTF-8 */
    }
    if (r != NULL && r->bucket != NULL) {
        s3_xml_elem_str(&x, "BucketName", r->bucket);
    }
    if (extra != NULL) {
        s3_xml_raw(&x, extra, strlen(extra));
    }
    if (hr->path.base != NULL) {
        s3_xml_elem(&x, "Resource", hr->path.base, hr->path.len);
    }
    s3_xml_elem_str(&x, "RequestId", hr->id);
    s3_xml_elem_str(&x, "HostId", hr->id);
    s3_xml_raw(&x, "</Error>", 8);
    http_resp_send(hr, status, x.buf, x.len, "application/xml");
}

void
s3_error(s3_req_t *r, int err, const char *message)
{
    gw_log(GW_LOG_DEBUG, r->http->peer, 0, "%s %s", r->http->id,
           s3_error_code(err));
    s3_error_send(r->http, r, s3_error_status(err), s3_error_code(err),
                  message ? message : s3_error_message(err), NULL);
}

void
s3_on_error(http_req_t *hr, int status, const char *code, const char *message)
{
    s3_error_send(hr, hr->data, status, code, message, NULL);
}

void
s3_send_xml(s3_req_t *r, int status, s3_xml_t *x)
{
    http_resp_send(r->http, status, x->buf, x->len, "application/xml");
}



/* ==== listings ==== */

int
s3_parse_uint(const gw_str_t *v, uint64_t max, uint64_t *out)
{
    uint64_t  n = 0;
    size_t    i;

    /* 19 digits always fit in 64 bits, so no step can overflow. */
    if (v == NULL || v->len == 0 || v->len > 19) {
        return -1;
    }
    for (i = 0; i < v->len; i++) {
        if (v->base[i] < '0' || v->base[i] > '9') {
            return -1;
        }
        n = n * 10 + (uint64_t) (v->base[i] - '0');
    }
    if (n > max) {
        return -1;
    }
    *out = n;
    return 0;
}

void
s3_xml_elem_url(s3_req_t *r, s3_xml_t *x, const char *tag, const char *s,
                size_t len, int url)
{
    char  *enc;

    if (!url) {
        s3_xml_elem(x, tag, s, len);
        return;
    }
    enc = gw_pool_alloc(r->pool, 3 * len + 1);
    len = s3_uri_encode(s, len, enc, 1);
    s3_xml_elem(x, tag, enc, len);
}
