/* s3/website.c: the static website configuration model (see
 * s3/website.h): reading and validating a WebsiteConfiguration, writing it
 * back, and the endpoint's pure decisions (index document, redirects). */
#include "s3/website.h"
#include "s3/uri.h"

#include <stdio.h>
#include <strings.h>

/* ==== reading ==== */

/* Every element the document may hold, one bit each. */
enum {
    W_ROOT = 0, W_INDEX, W_ERROR, W_ALL, W_RULES, W_SUFFIX, W_KEY,
    W_HOST, W_PROTOCOL, W_RULE, W_CONDITION, W_REDIRECT, W_PREFIX_EQ,
    W_ERROR_EQ, W_REPLACE_PREFIX, W_REPLACE_KEY, W_CODE, W_N
};

static const char  *s3_web_names[W_N] = {
    "WebsiteConfiguration", "IndexDocument", "ErrorDocument",
    "RedirectAllRequestsTo", "RoutingRules", "Suffix", "Key", "HostName",
    "Protocol", "RoutingRule", "Condition", "Redirect", "KeyPrefixEquals",
    "HttpErrorCodeReturnedEquals", "ReplaceKeyPrefixWith", "ReplaceKeyWith",
    "HttpRedirectCode",
};

#define B(e)  (1u << (e))

/* The children each container may have. */
static unsigned
s3_web_allowed(int e)
{
    switch (e) {
    case W_ROOT:      return B(W_INDEX) | B(W_ERROR) | B(W_ALL) | B(W_RULES);
    case W_INDEX:     return B(W_SUFFIX);
    case W_ERROR:     return B(W_KEY);
    case W_ALL:       return B(W_HOST) | B(W_PROTOCOL);
    case W_RULES:     return B(W_RULE);
    case W_RULE:      return B(W_CONDITION) | B(W_REDIRECT);
    case W_CONDITION: return B(W_PREFIX_EQ) | B(W_ERROR_EQ);
    case W_REDIRECT:  return B(W_HOST) | B(W_PROTOCOL) | B(W_REPLACE_PREFIX)
                             | B(W_REPLACE_KEY) | B(W_CODE);
    default:          return 0;
    }
}

typedef struct {
    gw_pool_t      *pool;
    s3_web_conf_t  *c;
    size_t          cap;
    unsigned        kids[7];        /* children ended at each depth since
                                     * their parent's last sibling ended */
    gw_str_t        host, protocol; /* the last HostName, Protocol read */
    s3_web_rule_t   rule;           /* the routing rule being read */
    unsigned        has_index:1, has_all:1, has_rules:1;
    int             err;
    const char     *msg;
} s3_web_parse_t;

static int
s3_web_fail(s3_web_parse_t *p, int err, const char *msg)
{
    p->err = err;
    p->msg = msg;
    return 1;
}

/* HttpRedirectCode and HttpErrorCodeReturnedEquals: three digits. */
static int
s3_web_code(const char *s, size_t len)
{
    if (len != 3 || s[0] < '1' || s[0] > '9' || s[1] < '0' || s[1] > '9'
        || s[2] < '0' || s[2] > '9')
    {
        return -1;
    }
    return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* Text that goes into a Location header as it is (a host, a protocol). */
static int
s3_web_header_safe(gw_str_t v)
{
    size_t  i;

    for (i = 0; i < v.len; i++) {
        unsigned char  ch = (unsigned char) v.base[i];

        if (ch <= 0x20 || ch == 0x7f || ch == '/' || ch == '\\'
            || ch == '?' || ch == '#' || ch == '@')
        {
            return 0;
        }
    }
    return 1;
}

static int
s3_web_protocol_ok(gw_str_t v)
{
    return gw_str_eq_lit(v, "http") || gw_str_eq_lit(v, "https");
}

/* A leaf's text, kept in the pool. */
static int
s3_web_leaf(s3_web_parse_t *p, int e, const char *text, size_t len)
{
    gw_str_t  v;
    char      m[160];
    int       code;

    if (len > S3_WEB_TEXT_MAX) {
        return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT,
                           gw_pool_sprintf(p->pool, "The value of %s is too "
                                           "long.", s3_web_names[e]));
    }
    v.base = gw_pool_strndup(p->pool, text, len);
    v.len = len;
    switch (e) {
    case W_SUFFIX:
        p->c->suffix = v;
        break;
    case W_KEY:
        p->c->error_key = v;
        break;
    case W_HOST:
        if (len == 0 || !s3_web_header_safe(v)) {
            return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT, "Invalid "
                               "HostName.");
        }
        p->host = v;
        break;
    case W_PROTOCOL:
        if (!s3_web_protocol_ok(v)) {
            return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT, "Invalid protocol, "
                               "protocol can be http or https. If not "
                               "defined the protocol will be selected "
                               "automatically.");
        }
        p->protocol = v;
        break;
    case W_PREFIX_EQ:
        p->rule.prefix = v;
        p->rule.has_prefix = 1;
        break;
    case W_ERROR_EQ:
        code = s3_web_code(text, len);
        if (code < 400 || code > 599) {
            snprintf(m, sizeof(m), "The provided HTTP error code (%.8s) is "
                     "not valid. Valid codes are 4XX or 5XX.", text);
            return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT,
                               gw_pool_strndup(p->pool, m, strlen(m)));
        }
        p->rule.error_code = code;
        break;
    case W_REPLACE_PREFIX:
        p->rule.replace_prefix = v;
        p->rule.has_replace_prefix = 1;
        break;
    case W_REPLACE_KEY:
        p->rule.replace_key = v;
        p->rule.has_replace_key = 1;
        break;
    case W_CODE:
        code = s3_web_code(text, len);
        if (code < 301 || code > 308 || code == 306) {
            snprintf(m, sizeof(m), "The provided HTTP redirect code (%.8s) is "
                     "not valid. Valid codes are 3XX except 300.", text);
            return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT,
                               gw_pool_strndup(p->pool, m, strlen(m)));
        }
        p->rule.code = code;
        break;
    }
    return 0;
}

/* A container has ended with its children in kids: check and keep it. */
static int
s3_web_container(s3_web_parse_t *p, int e, unsigned kids)
{
    s3_web_conf_t  *c = p->c;
    s3_web_rule_t  *nr;

    switch (e) {
    case W_INDEX:
        if (!(kids & B(W_SUFFIX))) {
            return s3_web_fail(p, S3_ERR_MALFORMED_XML, NULL);
        }
        p->has_index = 1;
        break;
    case W_ERROR:
        if (!(kids & B(W_KEY))) {
            return s3_web_fail(p, S3_ERR_MALFORMED_XML, NULL);
        }
        if (c->error_key.len == 0) {
            return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT, "The ErrorDocument "
                               "Key is not well formed");
        }
        c->has_error_doc = 1;
        break;
    case W_ALL:
        if (!(kids & B(W_HOST))) {
            return s3_web_fail(p, S3_ERR_MALFORMED_XML, NULL);
        }
        c->all_host = p->host;
        c->all_protocol = (kids & B(W_PROTOCOL)) ? p->protocol
                                                 : (gw_str_t) { NULL, 0 };
        p->has_all = 1;
        break;
    case W_RULES:
        if (c->nrules == 0) {
            return s3_web_fail(p, S3_ERR_MALFORMED_XML, NULL);
        }
        p->has_rules = 1;
        break;
    case W_CONDITION:
        if (kids == 0) {
            return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT, "Condition cannot "
                               "be empty. To redirect all requests without a "
                               "condition, the condition element shouldn't "
                               "be present.");
        }
        break;
    case W_REDIRECT:
        if (kids == 0) {
            return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT, "Redirect cannot "
                               "be empty. At least one of the redirect "
                               "elements must be present.");
        }
        if (p->rule.has_replace_key && p->rule.has_replace_prefix) {
            return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT, "You can only "
                               "define ReplaceKeyPrefix or ReplaceKey but not "
                               "both.");
        }
        p->rule.host = (kids & B(W_HOST)) ? p->host : (gw_str_t) { NULL, 0 };
        p->rule.protocol = (kids & B(W_PROTOCOL)) ? p->protocol
                                                  : (gw_str_t) { NULL, 0 };
        break;
    case W_RULE:
        if (!(kids & B(W_REDIRECT))) {
            return s3_web_fail(p, S3_ERR_MALFORMED_XML, NULL);
        }
        if (c->nrules == S3_WEB_RULES_MAX) {
            return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT, "The number of "
                               "routing rules must not exceed allowed limit "
                               "of 50 rules.");
        }
        if (c->nrules == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 4;
            nr = gw_pool_alloc(p->pool, p->cap * sizeof(*nr));
            if (c->nrules) {
                memcpy(nr, c->rules, c->nrules * sizeof(*nr));
            }
            c->rules = nr;
        }
        c->rules[c->nrules++] = p->rule;
        memset(&p->rule, 0, sizeof(p->rule));
        break;
    }
    return 0;
}

static int
s3_web_on_elem(void *ud, int depth, const char *name, const char *text,
               size_t len)
{
    s3_web_parse_t  *p = ud;
    unsigned         kids;
    int              e;

    for (e = 0; e < W_N; e++) {
        if (strcmp(name, s3_web_names[e]) == 0) {
            break;
        }
    }
    if (e == W_N || depth < 1 || depth > 5 || (depth == 1) != (e == W_ROOT)) {
        return s3_web_fail(p, S3_ERR_MALFORMED_XML, NULL);
    }
    /* Each element once in its parent, but RoutingRule. */
    if ((p->kids[depth] & B(e)) && e != W_RULE) {
        return s3_web_fail(p, S3_ERR_MALFORMED_XML, NULL);
    }
    p->kids[depth] |= B(e);
    kids = p->kids[depth + 1];
    p->kids[depth + 1] = 0;
    if (kids & ~s3_web_allowed(e)) {
        return s3_web_fail(p, S3_ERR_MALFORMED_XML, NULL);
    }
    if (s3_web_allowed(e) == 0) {
        return s3_web_leaf(p, e, text, len);
    }
    return e == W_ROOT ? 0 : s3_web_container(p, e, kids);
}

/* What holds only for the document as a whole. */
static int
s3_web_check(s3_web_parse_t *p)
{
    s3_web_conf_t  *c = p->c;

    if (p->has_all && (p->has_index || c->has_error_doc || p->has_rules)) {
        return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT, "RedirectAllRequestsTo "
                           "cannot be provided in conjunction with other "
                           "Routing Rules.");
    }
    if (p->has_all) {
        c->redirect_all = 1;
        return 0;
    }
    if (!p->has_index) {
        return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT, "A value for "
                           "IndexDocument Suffix must be provided if "
                           "RedirectAllRequestsTo is empty");
    }
    if (c->suffix.len == 0 || memchr(c->suffix.base, '/', c->suffix.len)) {
        return s3_web_fail(p, S3_ERR_INVALID_ARGUMENT, "The IndexDocument "
                           "Suffix is not well formed");
    }
    return 0;
}

int
s3_website_parse(gw_pool_t *pool, const char *doc, size_t len,
                 s3_web_conf_t **out, const char **msg)
{
    s3_web_parse_t  p;
    int             rc;

    memset(&p, 0, sizeof(p));
    p.pool = pool;
    p.c = gw_pool_calloc(pool, sizeof(*p.c));
    *msg = NULL;
    rc = s3_xml_parse(doc, len, s3_web_on_elem, &p);
    if (rc == 1) {
        *msg = p.msg;
        return p.err;
    }
    if (rc != GW_OK || !(p.kids[1] & B(W_ROOT))) {
        return S3_ERR_MALFORMED_XML;
    }
    if (s3_web_check(&p) != 0) {
        *msg = p.msg;
        return p.err;
    }
    *out = p.c;
    return S3_ERR_NONE;
}

/* ==== writing ==== */

void
s3_website_xml(const s3_web_conf_t *c, s3_xml_t *x, gw_pool_t *pool)
{
    const s3_web_rule_t  *rl;
    size_t                i;

    s3_xml_begin(x, pool, "WebsiteConfiguration");
    if (c->redirect_all) {
        s3_xml_open(x, "RedirectAllRequestsTo");
        s3_xml_elem(x, "HostName", c->all_host.base, c->all_host.len);
        if (c->all_protocol.len) {
            s3_xml_elem(x, "Protocol", c->all_protocol.base,
                        c->all_protocol.len);
        }
        s3_xml_close(x, "RedirectAllRequestsTo");
        s3_xml_end(x, "WebsiteConfiguration");
        return;
    }
    s3_xml_open(x, "IndexDocument");
    s3_xml_elem(x, "Suffix", c->suffix.base, c->suffix.len);
    s3_xml_close(x, "IndexDocument");
    if (c->has_error_doc) {
        s3_xml_open(x, "ErrorDocument");
        s3_xml_elem(x, "Key", c->error_key.base, c->error_key.len);
        s3_xml_close(x, "ErrorDocument");
    }
    if (c->nrules) {
        s3_xml_open(x, "RoutingRules");
    }
    for (i = 0; i < c->nrules; i++) {
        rl = &c->rules[i];
        s3_xml_open(x, "RoutingRule");
        if (rl->has_prefix || rl->error_code) {
            s3_xml_open(x, "Condition");
            if (rl->error_code) {
                s3_xml_elemf(x, "HttpErrorCodeReturnedEquals", "%d",
                             rl->error_code);
            }
            if (rl->has_prefix) {
                s3_xml_elem(x, "KeyPrefixEquals", rl->prefix.base,
                            rl->prefix.len);
            }
            s3_xml_close(x, "Condition");
        }
        s3_xml_open(x, "Redirect");
        if (rl->host.len) {
            s3_xml_elem(x, "HostName", rl->host.base, rl->host.len);
        }
        if (rl->code) {
            s3_xml_elemf(x, "HttpRedirectCode", "%d", rl->code);
        }
        if (rl->protocol.len) {
            s3_xml_elem(x, "Protocol", rl->protocol.base, rl->protocol.len);
        }
        if (rl->has_replace_prefix) {
            s3_xml_elem(x, "ReplaceKeyPrefixWith", rl->replace_prefix.base,
                        rl->replace_prefix.len);
        }
        if (rl->has_replace_key) {
            s3_xml_elem(x, "ReplaceKeyWith", rl->replace_key.base,
                        rl->replace_key.len);
        }
        s3_xml_close(x, "Redirect");
        s3_xml_close(x, "RoutingRule");
    }
    if (c->nrules) {
        s3_xml_close(x, "RoutingRules");
    }
    s3_xml_end(x, "WebsiteConfiguration");
}

/* ==== the endpoint's decisions ==== */

int
s3_website_index(const s3_web_conf_t *c, gw_pool_t *pool, gw_str_t key,
                 gw_str_t *out)
{
    char  *s;

    if (c->redirect_all || (key.len && key.base[key.len - 1] != '/')) {
        *out = key;
        return 0;
    }
    s = gw_pool_alloc(pool, key.len + c->suffix.len + 1);
    memcpy(s, key.base, key.len);
    memcpy(s + key.len, c->suffix.base, c->suffix.len);
    s[key.len + c->suffix.len] = '\0';
    out->base = s;
    out->len = key.len + c->suffix.len;
    return 1;
}

void
s3_website_folder_index(const s3_web_conf_t *c, gw_pool_t *pool, gw_str_t key,
                        gw_str_t *out)
{
    char  *s = gw_pool_alloc(pool, key.len + 1 + c->suffix.len + 1);

    memcpy(s, key.base, key.len);
    s[key.len] = '/';
    memcpy(s + key.len + 1, c->suffix.base, c->suffix.len);
    s[key.len + 1 + c->suffix.len] = '\0';
    out->base = s;
    out->len = key.len + 1 + c->suffix.len;
}

/* protocol://host/ + key (percent-encoded, '/' kept) + rest, in pool. */
static const char *
s3_web_location(gw_pool_t *pool, gw_str_t proto, const char *host,
                gw_str_t key, gw_str_t rest)
{
    char    *enc = gw_pool_alloc(pool, 3 * (key.len + rest.len) + 1);
    size_t   n;

    n = s3_uri_encode(key.base, key.len, enc, 1);
    n += s3_uri_encode(rest.base, rest.len, enc + n, 1);
    enc[n] = '\0';
    return gw_pool_sprintf(pool, "%.*s://%s/%s", (int) proto.len, proto.base,
                           host, enc);
}

static gw_str_t
s3_web_str(const char *s)
{
    gw_str_t  v;

    v.base = s;
    v.len = strlen(s);
    return v;
}

int
s3_website_redirect_all(const s3_web_conf_t *c, gw_pool_t *pool, gw_str_t key,
                        const char *proto, s3_web_redirect_t *out)
{
    gw_str_t  none = { "", 0 };
    char     *host;

    if (!c->redirect_all) {
        return 0;
    }
    host = gw_pool_strndup(pool, c->all_host.base, c->all_host.len);
    out->status = 301;
    out->location = s3_web_location(pool, c->all_protocol.len
                                          ? c->all_protocol : s3_web_str(proto),
                                     host, key, none);
    return 1;
}

int
s3_website_route(const s3_web_conf_t *c, gw_pool_t *pool, gw_str_t key,
                 int error, const char *proto, const char *host,
                 s3_web_redirect_t *out)
{
    const s3_web_rule_t  *rl;
    gw_str_t              head, rest = { "", 0 };
    size_t                i;

    for (i = 0; i < c->nrules; i++) {
        rl = &c->rules[i];
        if (rl->error_code != error
            || (rl->has_prefix
                && (key.len < rl->prefix.len
                    || memcmp(key.base, rl->prefix.base, rl->prefix.len) != 0)))
        {
            continue;
        }
        if (rl->has_replace_key) {
            head = rl->replace_key;
        } else if (rl->has_replace_prefix) {
            head = rl->replace_prefix;
            rest.base = key.base + (rl->has_prefix ? rl->prefix.len : 0);
            rest.len = key.len - (rl->has_prefix ? rl->prefix.len : 0);
        } else {
            head = key;
        }
        out->status = rl->code ? rl->code : 301;
        out->location = s3_web_location(
            pool, rl->protocol.len ? rl->protocol : s3_web_str(proto),
            rl->host.len ? gw_pool_strndup(pool, rl->host.base, rl->host.len)
                         : host,
            head, rest);
        return 1;
    }
    return 0;
}
