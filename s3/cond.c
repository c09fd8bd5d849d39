/* s3/cond.c: ETags, HTTP dates and preconditions (see s3/cond.h). */
#include "s3/cond.h"

#include <strings.h>
#include <time.h>

void
s3_etag(const unsigned char md5[16], uint32_t nparts, char *buf)
{
    buf[0] = '"';
    gw_hex_encode(buf + 1, md5, 16);
    if (nparts) {
        snprintf(buf + 33, 15, "-%u\"", nparts);
    } else {
        buf[33] = '"';
        buf[34] = '\0';
    }
}
int
s3_etag_parse(const char *s, size_t len, unsigned char md5[16],
              uint32_t *nparts)
{
    const char  *dash;
    char         num[16];

    if (len >= 2 && s[0] == 'W' && s[1] == '/') {
        s += 2;
        len -= 2;
    }
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    *nparts = 0;
    if (len < 32 || gw_hex_decode(md5, s, 32) != GW_OK) {
        return -1;
    }
    if (len == 32) {
        return 0;
    }
    dash = s + 32;
    if (*dash != '-' || len - 33 == 0 || len - 33 >= sizeof(num)) {
        return -1;
    }
    memcpy(num, dash + 1, len - 33);
    num[len - 33] = '\0';
    if (strspn(num, "0123456789") != len - 33) {
        return -1;
    }
    *nparts = (uint32_t) strtoul(num, NULL, 10);
    return 0;
}
int
s3_etag_matches(const gw_str_t *v, const store_object_t *o)
{
    const char     *p = v->base, *end = v->base + v->len, *comma;
    unsigned char   md5[16];
    uint32_t        n;
    size_t          len;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }
        comma = memchr(p, ',', (size_t) (end - p));
        len = (size_t) ((comma ? comma : end) - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
            len--;
        }
        if (len == 1 && *p == '*') {
            return 1;
        }
        if (len && s3_etag_parse(p, len, md5, &n) == 0
            && memcmp(md5, o->md5, 16) == 0 && n == o->nparts)
        {
            return 1;
        }
        p = comma ? comma + 1 : end;
    }
    return 0;
}
int64_t
s3_http_time(const gw_str_t *v)
{
    static const char  *formats[] = {
        "%a, %d %b %Y %H:%M:%S GMT",    /* IMF-fixdate */
        "%A, %d-%b-%y %H:%M:%S GMT",    /* RFC 850 */
        "%a %b %e %H:%M:%S %Y",         /* asctime */
        "%Y-%m-%dT%H:%M:%S",            /* ISO 8601, as some SDKs send */
    };
    char        buf[64];
    struct tm   tm;
    size_t      i;
    const char *end;

    if (v->len >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, v->base, v->len);
    buf[v->len] = '\0';
    for (i = 0; i < GW_NELEMS(formats); i++) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(buf, formats[i], &tm);
        if (end != NULL) {
            return (int64_t) timegm(&tm);
        }
    }
    return -1;
}
int
s3_object_conditions(s3_req_t *r, const store_object_t *o, int copy)
{
    const char      *pre = copy ? "x-amz-copy-source-" : "";
    char             name[64];
    const gw_str_t  *im, *inm, *ims, *ius;
    int64_t          mtime = o->mtime_ms / 1000, t;
    int              unmodified = copy ? S3_ERR_PRECONDITION_FAILED
                                       : S3_ERR_NOT_MODIFIED;

    snprintf(name, sizeof(name), "%sif-match", pre);
    im = s3_header(r, name);
    snprintf(name, sizeof(name), "%sif-none-match", pre);
    inm = s3_header(r, name);
    snprintf(name, sizeof(name), "%sif-modified-since", pre);
    ims = s3_header(r, name);
    snprintf(name, sizeof(name), "%sif-unmodified-since", pre);
    ius = s3_header(r, name);
    if (im != NULL) {
        if (!s3_etag_matches(im, o)) {
            return S3_ERR_PRECONDITION_FAILED;
        }
    } else if (ius != NULL && (t = s3_http_time(ius)) >= 0 && mtime > t) {
        return S3_ERR_PRECONDITION_FAILED;
    }
    if (inm != NULL) {
        if (s3_etag_matches(inm, o)) {
            return unmodified;
        }
    } else if (ims != NULL && (t = s3_http_time(ims)) >= 0 && mtime <= t
               && (!copy || t <= r->now))
    {
        /* For a copy source, as S3 does, a date in the future is ignored. */
        return unmodified;
    }
    return S3_ERR_NONE;
}

/* ==== conditional writes and deletes (checked in the commit) ==== */

void
s3_cond_if_match(const char *v, size_t len, store_cond_t *c)
{
    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) {
        len--;
    }
    if (len == 1 && *v == '*') {
        c->if_match_any = 1;
        return;
    }
    c->has_if_match = 1;
    if (s3_etag_parse(v, len, c->if_match_md5, &c->if_match_nparts) != 0) {
        /* No record has this ETag: 412 if the key exists, else 404. */
        c->if_match_nparts = STORE_NPARTS_NEVER;
    }
}

int
s3_write_conditions(s3_req_t *r, store_cond_t *c)
{
    const gw_str_t  *v;

    if ((v = s3_header(r, "if-none-match")) != NULL) {
        if (!gw_str_eq_lit(*v, "*")) {
            return S3_ERR_NOT_IMPLEMENTED;
        }
        c->if_none_match_star = 1;
    }
    if ((v = s3_header(r, "if-match")) != NULL) {
        s3_cond_if_match(v->base, v->len, c);
    }
    return S3_ERR_NONE;
}

int
s3_cond_size(const char *v, size_t len, store_cond_t *c)
{
    uint64_t  n = 0;
    size_t    i;

    if (len == 0 || len > 19) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return -1;
        }
        n = n * 10 + (uint64_t) (v[i] - '0');
    }
    c->has_if_match_size = 1;
    c->if_match_size = n;
    return 0;
}

int
s3_cond_mtime(const char *v, size_t len, store_cond_t *c)
{
    gw_str_t  s = { v, len };
    int64_t   t = s3_http_time(&s);

    if (t < 0) {
        return -1;
    }
    c->has_if_match_mtime = 1;
    c->if_match_mtime = t;
    return 0;
}

int
s3_delete_conditions(s3_req_t *r, store_cond_t *c, const char **msg)
{
    const gw_str_t  *v;

    *msg = NULL;
    if ((v = s3_header(r, "if-match")) != NULL) {
        s3_cond_if_match(v->base, v->len, c);
    }
    if ((v = s3_header(r, "x-amz-if-match-size")) != NULL
        && s3_cond_size(v->base, v->len, c) != 0)
    {
        *msg = "x-amz-if-match-size must be a number of bytes.";
        return S3_ERR_INVALID_ARGUMENT;
    }
    if ((v = s3_header(r, "x-amz-if-match-last-modified-time")) != NULL
        && s3_cond_mtime(v->base, v->len, c) != 0)
    {
        *msg = "x-amz-if-match-last-modified-time must be a date.";
        return S3_ERR_INVALID_ARGUMENT;
    }
    return S3_ERR_NONE;
}
