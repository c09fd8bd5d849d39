/* s3/auth/tags.c: object and bucket tags as S3 limits them (see
 * s3/auth/tags.h). */
#include "s3/auth/tags.h"
#include "s3/uri.h"
#include "s3/xml.h"

#include <stdlib.h>
#include <string.h>

/* The limits common to object and bucket tags: each key and value. */
static int
s3_tags_check_each(const gw_kv_t *tags, size_t n, const char **msg)
{
    size_t  i, j;

    for (i = 0; i < n; i++) {
        if (tags[i].name.len == 0) {
            *msg = "The TagKey you have provided is invalid";
            return S3_ERR_INVALID_TAG;
        }
        if (gw_utf8_chars(tags[i].name) > S3_TAG_KEY_MAX) {
            *msg = "The TagKey you have provided is too long, max 128";
            return S3_ERR_INVALID_TAG;
        }
        if (gw_utf8_chars(tags[i].value) > S3_TAG_VALUE_MAX) {
            *msg = "The TagValue you have provided is too long, max 256";
            return S3_ERR_INVALID_TAG;
        }
        if (tags[i].name.len >= 4
            && memcmp(tags[i].name.base, "aws:", 4) == 0)
        {
            *msg = "Your TagKey cannot be prefixed with aws:";
            return S3_ERR_INVALID_TAG;
        }
        for (j = 0; j < i; j++) {
            if (tags[j].name.len == tags[i].name.len
                && memcmp(tags[j].name.base, tags[i].name.base,
                          tags[i].name.len) == 0)
            {
                *msg = "Cannot provide multiple Tags with the same key";
                return S3_ERR_INVALID_TAG;
            }
        }
    }
    return S3_ERR_NONE;
}

static int
s3_tags_cmp(const void *a, const void *b)
{
    const gw_kv_t  *x = a, *y = b;
    int             c = memcmp(x->name.base, y->name.base,
                               GW_MIN(x->name.len, y->name.len));

    if (c != 0) {
        return c;
    }
    return (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

void
s3_tags_sort(gw_kv_t *tags, size_t n)
{
    if (n > 1) {
        qsort(tags, n, sizeof(*tags), s3_tags_cmp);
    }
}

int
s3_tags_check(const gw_kv_t *tags, size_t n, const char **msg)
{
    if (n > S3_TAGS_MAX) {
        *msg = "Object tags cannot be greater than 10";
        return S3_ERR_INVALID_TAG;
    }
    return s3_tags_check_each(tags, n, msg);
}

int
s3_tags_parse_header(gw_pool_t *pool, const gw_str_t *v, gw_kv_t **tags,
                     size_t *ntags, const char **msg)
{
    const char  *p = v->base, *end = v->base + v->len, *amp, *eq;
    gw_kv_t     *t;
    size_t       n = 1, i, len;
    char        *buf;
    int          err;

    for (i = 0; i < v->len; i++) {
        n += v->base[i] == '&';
    }
    t = gw_pool_alloc(pool, sizeof(gw_kv_t) * n);
    n = 0;
    for (; p < end; p = amp < end ? amp + 1 : end) {
        amp = memchr(p, '&', (size_t) (end - p));
        amp = amp ? amp : end;
        if (amp == p) {
            continue;
        }
        eq = memchr(p, '=', (size_t) (amp - p));
        len = (size_t) ((eq ? eq : amp) - p);
        buf = gw_pool_alloc(pool, len + 1);
        if (s3_uri_decode(p, len, buf, &len, 1) != GW_OK) {
            goto bad;
        }
        t[n].name.base = buf;
        t[n].name.len = len;
        t[n].value.base = "";
        t[n].value.len = 0;
        if (eq != NULL) {
            len = (size_t) (amp - eq - 1);
            buf = gw_pool_alloc(pool, len + 1);
            if (s3_uri_decode(eq + 1, len, buf, &len, 1) != GW_OK) {
                goto bad;
            }
            t[n].value.base = buf;
            t[n].value.len = len;
        }
        n++;
    }
    *tags = t;
    *ntags = n;
    err = s3_tags_check(t, n, msg);
    if (err == S3_ERR_NONE) {
        s3_tags_sort(t, n);
    }
    return err;

bad:
    *msg = "The header 'x-amz-tagging' shall be encoded as UTF-8 then "
           "URLEncoded URL query parameters without tag name duplicates.";
    return S3_ERR_INVALID_ARGUMENT;
}

/* ==== the Tagging document ==== */

/* <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>, read
 * strictly: any other element is MalformedXML. */
typedef struct s3_tags_doc_s {
    gw_pool_t  *pool;
    gw_kv_t    *tags;           /* max + 1 */
    size_t      max;
    size_t      n;              /* tags seen (may pass the array) */
    gw_str_t    key, value;
    int         has_key, has_value;
    int         tagsets;
} s3_tags_doc_t;

static int
s3_tags_elem(void *ud, int depth, const char *name, const char *text,
                size_t len)
{
    s3_tags_doc_t  *d = ud;
    gw_str_t          *s;

    switch (depth) {
    case 1:
        return strcmp(name, "Tagging") == 0 && d->tagsets == 1 ? 0 : GW_EINVAL;
    case 2:
        if (strcmp(name, "TagSet") != 0) {
            return GW_EINVAL;
        }
        d->tagsets++;
        return 0;
    case 3:
        if (strcmp(name, "Tag") != 0 || !d->has_key || !d->has_value) {
            return GW_EINVAL;
        }
        if (d->n <= d->max) {
            d->tags[d->n].name = d->key;
            d->tags[d->n].value = d->value;
        }
        d->n++;
        d->has_key = d->has_value = 0;
        return 0;
    case 4:
        if (strcmp(name, "Key") == 0 && !d->has_key) {
            s = &d->key;
            d->has_key = 1;
        } else if (strcmp(name, "Value") == 0 && !d->has_value) {
            s = &d->value;
            d->has_value = 1;
        } else {
            return GW_EINVAL;
        }
        s->base = gw_pool_strndup(d->pool, text, len);
        s->len = len;
        return 0;
    default:
        return GW_EINVAL;
    }
}

/* Reads the document into d (d->max set); S3_ERR_NONE or MalformedXML. */
static int
s3_tags_read(s3_tags_doc_t *d, gw_pool_t *pool, const char *buf, size_t len)
{
    d->pool = pool;
    d->tags = gw_pool_alloc(pool, (d->max + 1) * sizeof(*d->tags));
    if (len == 0 || s3_xml_parse(buf, len, s3_tags_elem, d) != GW_OK) {
        return S3_ERR_MALFORMED_XML;
    }
    return S3_ERR_NONE;
}

int
s3_tags_parse_xml(gw_pool_t *pool, const char *buf, size_t len, gw_kv_t **tags,
                  size_t *ntags, const char **msg)
{
    s3_tags_doc_t  *d;
    int             err;

    *msg = NULL;
    d = gw_pool_calloc(pool, sizeof(*d));
    d->max = S3_TAGS_MAX;
    err = s3_tags_read(d, pool, buf, len);
    if (err == S3_ERR_NONE) {
        err = s3_tags_check(d->tags, d->n, msg);
    }
    if (err != S3_ERR_NONE) {
        return err;
    }
    s3_tags_sort(d->tags, d->n);
    *tags = d->tags;
    *ntags = d->n;
    return S3_ERR_NONE;
}

int
s3_tags_parse_bucket_xml(gw_pool_t *pool, const char *buf, size_t len,
                         gw_kv_t **tags, size_t *ntags, const char **msg)
{
    s3_tags_doc_t  *d;
    int             err;

    *msg = NULL;
    d = gw_pool_calloc(pool, sizeof(*d));
    d->max = S3_BUCKET_TAGS_MAX;
    err = s3_tags_read(d, pool, buf, len);
    if (err != S3_ERR_NONE) {
        return err;
    }
    if (d->n > S3_BUCKET_TAGS_MAX) {
        *msg = "Bucket tag count cannot be greater than 50";
        return S3_ERR_INVALID_TAG;
    }
    err = s3_tags_check_each(d->tags, d->n, msg);
    if (err != S3_ERR_NONE) {
        return err;
    }
    s3_tags_sort(d->tags, d->n);
    *tags = d->tags;
    *ntags = d->n;
    return S3_ERR_NONE;
}
