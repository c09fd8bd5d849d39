/* s3/cors.c: the CORS model (see s3/cors.h): CORSConfiguration documents
 * read and checked, written back, the cors_default rule, matching, and the
 * response headers of a matched rule. */
#include "s3/cors.h"

#include <stdio.h>

/* ==== reading a document ==== */

/* Values of one list, grown by doubling in the pool (a document is small;
 * the old arrays stay in the pool until the request ends). */
typedef struct s3_cors_list_s {
    gw_str_t  *v;
    size_t     n, cap;
} s3_cors_list_t;

typedef struct s3_cors_parse_s {
    gw_pool_t       *pool;
    s3_cors_list_t   origins, methods, headers, expose;
    gw_str_t         id;
    int              has_id, has_max_age;
    int64_t          max_age;
    s3_cors_rule_t  *rules;
    size_t           nrules;
    int              root_ok;
} s3_cors_parse_t;

static void
s3_cors_list_add(gw_pool_t *pool, s3_cors_list_t *l, const char *text,
                 size_t len)
{
    gw_str_t  *n;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        n = gw_pool_alloc(pool, l->cap * sizeof(*n));
        if (l->n) {
            memcpy(n, l->v, l->n * sizeof(*n));
        }
        l->v = n;
    }
    l->v[l->n].base = gw_pool_strndup(pool, text, len);
    l->v[l->n].len = len;
    l->n++;
}

static int
s3_cors_blank(const char *text, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r'
            && text[i] != '\n')
        {
            return 0;
        }
    }
    return 1;
}

/* MaxAgeSeconds: decimal digits only (leading zeros allowed), at most
 * 2^31 - 1, as S3 takes it. */
static int
s3_cors_max_age(const char *text, size_t len, int64_t *out)
{
    int64_t  v = 0;
    size_t   i;

    if (len == 0) {
        return GW_EINVAL;
    }
    for (i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return GW_EINVAL;
        }
        v = v * 10 + (text[i] - '0');
        if (v > 2147483647) {
            return GW_EINVAL;
        }
    }
    *out = v;
    return GW_OK;
}

/* A CORSRule ended: its elements become a rule. */
static int
s3_cors_rule_end(s3_cors_parse_t *st)
{
    s3_cors_rule_t  *r;

    if (st->origins.n == 0 || st->methods.n == 0
        || st->nrules == S3_CORS_RULES_MAX)
    {
        return S3_ERR_MALFORMED_XML;
    }
    if (st->rules == NULL) {
        st->rules = gw_pool_calloc(st->pool,
                                   S3_CORS_RULES_MAX * sizeof(*st->rules));
    }
    r = &st->rules[st->nrules++];
    r->id = st->has_id ? st->id : (gw_str_t) { NULL, 0 };
    r->origins = st->origins.v;
    r->norigins = st->origins.n;
    r->methods = st->methods.v;
    r->nmethods = st->methods.n;
    r->headers = st->headers.v;
    r->nheaders = st->headers.n;
    r->expose = st->expose.v;
    r->nexpose = st->expose.n;
    r->max_age = st->has_max_age ? st->max_age : S3_CORS_NO_MAX_AGE;
    memset(&st->origins, 0, sizeof(st->origins));
    memset(&st->methods, 0, sizeof(st->methods));
    memset(&st->headers, 0, sizeof(st->headers));
    memset(&st->expose, 0, sizeof(st->expose));
    st->has_id = st->has_max_age = 0;
    return S3_ERR_NONE;
}

/* An element of a rule (depth 3) ended. */
static int
s3_cors_rule_elem(s3_cors_parse_t *st, const char *name, const char *text,
                  size_t len)
{
    if (strcmp(name, "AllowedOrigin") == 0) {
        s3_cors_list_add(st->pool, &st->origins, text, len);
    } else if (strcmp(name, "AllowedMethod") == 0) {
        s3_cors_list_add(st->pool, &st->methods, text, len);
    } else if (strcmp(name, "AllowedHeader") == 0) {
        s3_cors_list_add(st->pool, &st->headers, text, len);
    } else if (strcmp(name, "ExposeHeader") == 0) {
        s3_cors_list_add(st->pool, &st->expose, text, len);
    } else if (strcmp(name, "ID") == 0) {
        if (st->has_id || len > S3_CORS_ID_MAX) {
            return S3_ERR_MALFORMED_XML;
        }
        st->has_id = 1;
        st->id.base = gw_pool_strndup(st->pool, text, len);
        st->id.len = len;
    } else if (strcmp(name, "MaxAgeSeconds") == 0) {
        if (st->has_max_age
            || s3_cors_max_age(text, len, &st->max_age) != GW_OK)
        {
            return S3_ERR_MALFORMED_XML;
        }
        st->has_max_age = 1;
    } else {
        return S3_ERR_MALFORMED_XML;
    }
    return S3_ERR_NONE;
}

/* Elements end innermost first: a rule's elements gather until its
 * CORSRule ends; the root ends last. */
static int
s3_cors_on_elem(void *ud, int depth, const char *name, const char *text,
                size_t len)
{
    s3_cors_parse_t  *st = ud;

    switch (depth) {
    case 1:
        if (strcmp(name, "CORSConfiguration") != 0 || !s3_cors_blank(text, len)
            || st->nrules == 0)
        {
            return S3_ERR_MALFORMED_XML;
        }
        st->root_ok = 1;
        return S3_ERR_NONE;
    case 2:
        if (strcmp(name, "CORSRule") != 0 || !s3_cors_blank(text, len)) {
            return S3_ERR_MALFORMED_XML;
        }
        return s3_cors_rule_end(st);
    case 3:
        return s3_cors_rule_elem(st, name, text, len);
    default:
        return S3_ERR_MALFORMED_XML;   /* markup inside a value */
    }
}

static size_t
s3_cors_stars(gw_str_t v)
{
    size_t  i, n = 0;

    for (i = 0; i < v.len; i++) {
        n += v.base[i] == '*';
    }
    return n;
}

static int
s3_cors_method_valid(gw_str_t m)
{
    return gw_str_eq_lit(m, "GET") || gw_str_eq_lit(m, "PUT")
           || gw_str_eq_lit(m, "POST") || gw_str_eq_lit(m, "DELETE")
           || gw_str_eq_lit(m, "HEAD");
}

/* The values S3 refuses with InvalidRequest, in its order: within a rule
 * methods, then origins, then allowed headers, then exposed headers. */
static int
s3_cors_rule_check(gw_pool_t *pool, const s3_cors_rule_t *r, const char **msg)
{
    size_t  i;

    for (i = 0; i < r->nmethods; i++) {
        if (!s3_cors_method_valid(r->methods[i])) {
            *msg = gw_pool_sprintf(pool, "Found unsupported HTTP method in "
                                   "CORS config. Unsupported method is %.*s",
                                   (int) r->methods[i].len,
                                   r->methods[i].base);
            return S3_ERR_INVALID_REQUEST;
        }
    }
    for (i = 0; i < r->norigins; i++) {
        if (s3_cors_stars(r->origins[i]) > 1) {
            *msg = gw_pool_sprintf(pool, "AllowedOrigin \"%.*s\" can not "
                                   "have more than one wildcard.",
                                   (int) r->origins[i].len,
                                   r->origins[i].base);
            return S3_ERR_INVALID_REQUEST;
        }
    }
    for (i = 0; i < r->nheaders; i++) {
        if (s3_cors_stars(r->headers[i]) > 1) {
            *msg = gw_pool_sprintf(pool, "AllowedHeader \"%.*s\" can not "
                                   "have more than one wildcard.",
                                   (int) r->headers[i].len,
                                   r->headers[i].base);
            return S3_ERR_INVALID_REQUEST;
        }
    }
    for (i = 0; i < r->nexpose; i++) {
        if (s3_cors_stars(r->expose[i]) > 0) {
            *msg = gw_pool_sprintf(pool, "ExposeHeader \"%.*s\" contains "
                                   "wildcard. We currently do not support "
                                   "wildcard for ExposeHeader.",
                                   (int) r->expose[i].len, r->expose[i].base);
            return S3_ERR_INVALID_REQUEST;
        }
    }
    return S3_ERR_NONE;
}

int
s3_cors_parse(gw_pool_t *pool, const char *buf, size_t len,
              s3_cors_conf_t **out, const char **msg)
{
    s3_cors_parse_t  st;
    s3_cors_conf_t  *c;
    size_t           i;
    int              rc;

    *msg = NULL;
    memset(&st, 0, sizeof(st));
    st.pool = pool;
    rc = s3_xml_parse(buf, len, s3_cors_on_elem, &st);
    if (rc != GW_OK || !st.root_ok) {
        return S3_ERR_MALFORMED_XML;
    }
    for (i = 0; i < st.nrules; i++) {
        rc = s3_cors_rule_check(pool, &st.rules[i], msg);
        if (rc != S3_ERR_NONE) {
            return rc;
        }
    }
    c = gw_pool_alloc(pool, sizeof(*c));
    c->rules = st.rules;
    c->nrules = st.nrules;
    *out = c;
    return S3_ERR_NONE;
}


/* ==== the parsed configurations of this process ==== */

/* Parsing a bucket's stored document costs more than the rest of a small
 * GET (about 220 us for 100 rules), and a browser sends Origin on every
 * request. So each process keeps the parsed form of the last document seen
 * per bucket (one slot per hash value), and reuses it while the stored
 * text is byte for byte the same, as s3/auth/access.c does with compiled
 * policies: another worker process, or this one, changing the document
 * changes the text, so nothing needs invalidating. A parsed form is only
 * used inside the loop turn that looked it up (its headers are copied
 * into the response), so a slot can be replaced at once. */
struct s3_cors_cache_entry_s {
    char             bucket[STORE_BUCKET_MAX + 1];
    char            *text;
    size_t           len;
    gw_pool_t       *pool;          /* the parsed form's memory */
    s3_cors_conf_t  *conf;
};

static void
s3_cors_entry_free(s3_cors_cache_entry_t *e)
{
    gw_pool_destroy(e->pool);
    gw_free(e->text);
    gw_free(e);
}

int
s3_cors_cached(s3_ctx_t *ctx, const char *bucket, gw_str_t text,
               const s3_cors_conf_t **out)
{
    s3_cors_cache_entry_t  **slot, *e;
    s3_cors_conf_t          *c;
    const char              *msg;
    size_t                   h = 5381, i, blen = strlen(bucket);
    int                      rc;

    for (i = 0; i < blen; i++) {
        h = h * 33 + (unsigned char) bucket[i];
    }
    slot = &ctx->cors[h % S3_CORS_CACHE];
    e = *slot;
    if (e != NULL && strcmp(e->bucket, bucket) == 0 && e->len == text.len
        && memcmp(e->text, text.base, text.len) == 0)
    {
        *out = e->conf;
        return S3_ERR_NONE;
    }
    if (blen > STORE_BUCKET_MAX) {
        return S3_ERR_INVALID_ARGUMENT;
    }
    e = gw_calloc(1, sizeof(*e));
    e->pool = gw_pool_create(4096);
    rc = s3_cors_parse(e->pool, text.base, text.len, &c, &msg);
    if (rc != S3_ERR_NONE) {
        gw_pool_destroy(e->pool);
        gw_free(e);
        return rc;
    }
    memcpy(e->bucket, bucket, blen + 1);
    e->text = gw_alloc(text.len + 1);
    memcpy(e->text, text.base, text.len);
    e->len = text.len;
    e->conf = c;
    if (*slot != NULL) {
        s3_cors_entry_free(*slot);
    }
    *slot = e;
    *out = c;
    return S3_ERR_NONE;
}

void
s3_cors_cache_free(s3_ctx_t *ctx)
{
    size_t  i;

    for (i = 0; i < S3_CORS_CACHE; i++) {
        if (ctx->cors[i] != NULL) {
            s3_cors_entry_free(ctx->cors[i]);
            ctx->cors[i] = NULL;
        }
    }
}

/* ==== writing a document ==== */

static void
s3_cors_xml_list(s3_xml_t *x, const char *tag, const gw_str_t *v, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        s3_xml_elem(x, tag, v[i].base, v[i].len);
    }
}

/* S3's element order: ID, methods, origins, headers, max age, exposed. */
void
s3_cors_xml(const s3_cors_conf_t *c, s3_xml_t *x, gw_pool_t *pool)
{
    const s3_cors_rule_t  *r;
    size_t                 i;

    s3_xml_begin(x, pool, "CORSConfiguration");
    for (i = 0; i < c->nrules; i++) {
        r = &c->rules[i];
        s3_xml_open(x, "CORSRule");
        if (r->id.base != NULL) {
            s3_xml_elem(x, "ID", r->id.base, r->id.len);
        }
        s3_cors_xml_list(x, "AllowedMethod", r->methods, r->nmethods);
        s3_cors_xml_list(x, "AllowedOrigin", r->origins, r->norigins);
        s3_cors_xml_list(x, "AllowedHeader", r->headers, r->nheaders);
        if (r->max_age != S3_CORS_NO_MAX_AGE) {
            s3_xml_elemf(x, "MaxAgeSeconds", "%lld", (long long) r->max_age);
        }
        s3_cors_xml_list(x, "ExposeHeader", r->expose, r->nexpose);
        s3_xml_close(x, "CORSRule");
    }
    s3_xml_end(x, "CORSConfiguration");
}


/* ==== the server-wide default ==== */

static gw_str_t *
s3_cors_strs(gw_pool_t *pool, char **v, size_t n)
{
    gw_str_t  *s;
    size_t     i;

    s = gw_pool_alloc(pool, (n ? n : 1) * sizeof(*s));
    for (i = 0; i < n; i++) {
        s[i].base = v[i];
        s[i].len = strlen(v[i]);
    }
    return s;
}

s3_cors_conf_t *
s3_cors_default(gw_pool_t *pool, const gw_conf_t *cf)
{
    const gw_conf_cors_t  *d = &cf->cors_default;
    s3_cors_conf_t        *c;
    s3_cors_rule_t        *r;

    if (!d->enabled) {
        return NULL;
    }
    c = gw_pool_calloc(pool, sizeof(*c));
    r = gw_pool_calloc(pool, sizeof(*r));
    r->origins = s3_cors_strs(pool, d->origins, d->norigins);
    r->norigins = d->norigins;
    r->methods = s3_cors_strs(pool, d->methods, d->nmethods);
    r->nmethods = d->nmethods;
    r->headers = s3_cors_strs(pool, d->headers, d->nheaders);
    r->nheaders = d->nheaders;
    r->expose = s3_cors_strs(pool, d->expose, d->nexpose);
    r->nexpose = d->nexpose;
    r->max_age = d->max_age == GW_CONF_CORS_NO_MAX_AGE
                 ? S3_CORS_NO_MAX_AGE : (int64_t) d->max_age;
    c->rules = r;
    c->nrules = 1;
    return c;
}


/* ==== matching ==== */

static int
s3_cors_bytes_eq(const char *a, const char *b, size_t n, int nocase)
{
    return nocase ? gw_ascii_ieq(a, n, b, n) : memcmp(a, b, n) == 0;
}

int
s3_cors_pattern_match(gw_str_t pattern, gw_str_t s, int nocase)
{
    const char  *star = memchr(pattern.base, '*', pattern.len);
    size_t       pre, post;

    if (star == NULL) {
        return pattern.len == s.len
               && s3_cors_bytes_eq(pattern.base, s.base, s.len, nocase);
    }
    /* The text around the one "*" may not overlap in s. */
    pre = (size_t) (star - pattern.base);
    post = pattern.len - pre - 1;
    return s.len >= pre + post
           && s3_cors_bytes_eq(pattern.base, s.base, pre, nocase)
           && s3_cors_bytes_eq(star + 1, s.base + s.len - post, post, nocase);
}

/* Calls fn on each name of a comma-separated header list, trimmed of
 * spaces and tabs, skipping empty ones; stops at the first 0. */
static int
s3_cors_each_header(const gw_str_t *list,
                    int (*fn)(void *ud, gw_str_t name), void *ud)
{
    const char  *p, *end, *comma;
    gw_str_t     name;

    if (list == NULL) {
        return 1;
    }
    p = list->base;
    end = list->base + list->len;
    while (p < end) {
        comma = memchr(p, ',', (size_t) (end - p));
        if (comma == NULL) {
            comma = end;
        }
        name.base = p;
        name.len = (size_t) (comma - p);
        while (name.len && (name.base[0] == ' ' || name.base[0] == '\t')) {
            name.base++;
            name.len--;
        }
        while (name.len && (name.base[name.len - 1] == ' '
                            || name.base[name.len - 1] == '\t'))
        {
            name.len--;
        }
        if (name.len && !fn(ud, name)) {
            return 0;
        }
        p = comma + 1;
    }
    return 1;
}

static int
s3_cors_header_allowed(void *ud, gw_str_t name)
{
    const s3_cors_rule_t  *rule = ud;
    size_t                 i;

    for (i = 0; i < rule->nheaders; i++) {
        if (s3_cors_pattern_match(rule->headers[i], name, 1)) {
            return 1;
        }
    }
    return 0;
}

int
s3_cors_headers_allowed(const s3_cors_rule_t *rule,
                        const gw_str_t *request_headers)
{
    return s3_cors_each_header(request_headers, s3_cors_header_allowed,
                               (void *) rule);
}

static int
s3_cors_origin_allowed(const s3_cors_rule_t *r, gw_str_t origin)
{
    size_t  i;

    for (i = 0; i < r->norigins; i++) {
        if (s3_cors_pattern_match(r->origins[i], origin, 0)) {
            return 1;
        }
    }
    return 0;
}

const s3_cors_rule_t *
s3_cors_match(const s3_cors_conf_t *c, gw_str_t origin, gw_str_t method,
              const gw_str_t *request_headers)
{
    const s3_cors_rule_t  *r;
    size_t                 i, k;

    for (i = 0; c != NULL && i < c->nrules; i++) {
        r = &c->rules[i];
        for (k = 0; k < r->nmethods; k++) {
            if (r->methods[k].len == method.len
                && memcmp(r->methods[k].base, method.base, method.len) == 0)
            {
                break;
            }
        }
        if (k < r->nmethods && s3_cors_origin_allowed(r, origin)
            && s3_cors_headers_allowed(r, request_headers))
        {
            return r;
        }
    }
    return NULL;
}


/* ==== response headers ==== */

#define S3_CORS_VARY  "Origin, Access-Control-Request-Headers, " \
                      "Access-Control-Request-Method"

/* A list joined with ", " into a pool string. */
static void
s3_cors_join(http_req_t *hr, const char *name, const gw_str_t *v, size_t n)
{
    size_t  i, len = 0;
    char   *buf, *p;

    if (n == 0) {
        return;
    }
    for (i = 0; i < n; i++) {
        len += v[i].len + 2;
    }
    p = buf = gw_pool_alloc(hr->pool, len);
    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
            *p++ = ' ';
        }
        memcpy(p, v[i].base, v[i].len);
        p += v[i].len;
    }
    http_resp_header(hr, name, buf, (size_t) (p - buf));
}

typedef struct s3_cors_lower_s {
    char    *buf;
    size_t   len;
} s3_cors_lower_t;

static int
s3_cors_lower_add(void *ud, gw_str_t name)
{
    s3_cors_lower_t  *l = ud;
    size_t            i;

    if (l->len) {
        l->buf[l->len++] = ',';
        l->buf[l->len++] = ' ';
    }
    for (i = 0; i < name.len; i++) {
        l->buf[l->len++] = (char) gw_ascii_lower(name.base[i]);
    }
    return 1;
}

void
s3_cors_headers(http_req_t *hr, const s3_cors_rule_t *rule, gw_str_t origin,
                const gw_str_t *request_headers)
{
    s3_cors_lower_t  l;
    size_t           i;
    int              any = 0;

    for (i = 0; i < rule->norigins; i++) {
        any |= gw_str_eq_lit(rule->origins[i], "*");
    }
    if (any) {
        http_resp_header(hr, "Access-Control-Allow-Origin", "*", 1);
    } else {
        http_resp_header(hr, "Access-Control-Allow-Origin", origin.base,
                         origin.len);
    }
    s3_cors_join(hr, "Access-Control-Allow-Methods", rule->methods,
                 rule->nmethods);
    if (request_headers != NULL) {
        /* The names are at most the list's bytes, and each ", " stands
         * for a comma of it: twice its length is room enough. */
        l.buf = gw_pool_alloc(hr->pool, request_headers->len * 2 + 1);
        l.len = 0;
        s3_cors_each_header(request_headers, s3_cors_lower_add, &l);
        if (l.len) {
            http_resp_header(hr, "Access-Control-Allow-Headers", l.buf,
                             l.len);
        }
    }
    s3_cors_join(hr, "Access-Control-Expose-Headers", rule->expose,
                 rule->nexpose);
    if (rule->max_age != S3_CORS_NO_MAX_AGE) {
        http_resp_headerf(hr, "Access-Control-Max-Age", "%lld",
                          (long long) rule->max_age);
    }
    if (!any) {
        http_resp_header(hr, "Access-Control-Allow-Credentials", "true", 4);
    }
    http_resp_header(hr, "Vary", S3_CORS_VARY, sizeof(S3_CORS_VARY) - 1);
}
