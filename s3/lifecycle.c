/* s3/lifecycle.c: the bucket lifecycle configuration model (see
 * s3/lifecycle.h): reading and validating a LifecycleConfiguration, the
 * GetBucketLifecycleConfiguration document (also the stored form), rule
 * matching, due dates, and the x-amz-expiration header.
 *
 * A document is read in two passes, as S3 answers it: first its shape
 * against the published schema (MalformedXML: unknown or repeated elements,
 * a rule with both or neither of Filter and the rule-level Prefix, a Status
 * that is neither Enabled nor Disabled, an Expiration with both Days and
 * Date or with ExpiredObjectDeleteMarker beside either, a number that is not
 * one), then what it says (InvalidArgument, InvalidRequest, InvalidTag).
 *
 * s3gw has a single storage class, so a Transition or a
 * NoncurrentVersionTransition can never be carried out: such a rule is
 * refused with InvalidStorageClass, what S3 answers for a storage class it
 * does not offer, rather than stored and ignored.
 *
 * The messages are Amazon S3's as its clients report them ("'Date' must be
 * at midnight GMT", "At least one action needs to be specified in a
 * rule"), or as S3-compatible servers reproduce them (Scality's Arsenal,
 * MinIO) where AWS does not publish them. */
#include "s3/lifecycle.h"
#include "s3/filter.h"
#include "core/hash.h"
#include "core/log.h"

#include <inttypes.h>

/* Numbers in a rule (days, sizes, counts) stay within this, so that sums of
 * days are far from overflow. */
#define S3_LX_INT_MAX  (INT64_MAX / 20)



/* ==== pass 1: the shape ==== */

typedef struct {
    const s3_xml_node_t  *id, *prefix, *filter, *status, *exp, *exp_days,
                        *exp_date, *exp_dm, *nc, *nc_days, *nc_newer,
                        *abort, *abort_days, *fprefix, *gt, *lt;
    const s3_xml_node_t  *transition;    /* the first (No)Transition */
    int                  filter_kind;
    gw_kv_t             *tags;
    size_t               ntags;
} s3_lx_rule_t;

/* One predicate of a Filter or an And: Prefix, Tag, or a size bound. */
static int
s3_lx_predicate(gw_pool_t *pool, s3_lx_rule_t *r, const s3_xml_node_t *c)
{
    if (s3_xml_is(c, "Prefix") && c->child == NULL) {
        return s3_xml_once(&r->fprefix, c);
    }
    if (s3_xml_is(c, "Tag")) {
        return s3_filter_tag_read(pool, c, &r->tags, &r->ntags);
    }
    if (s3_xml_is(c, "ObjectSizeGreaterThan")) {
        return s3_xml_once(&r->gt, c);
    }
    if (s3_xml_is(c, "ObjectSizeLessThan")) {
        return s3_xml_once(&r->lt, c);
    }
    return GW_EINVAL;
}

/* <Filter/>, or one predicate, or <And> with two predicates at least. */
static int
s3_lx_filter(gw_pool_t *pool, s3_lx_rule_t *r, const s3_xml_node_t *f)
{
    const s3_xml_node_t  *c, *one = NULL;
    size_t               n;

    for (c = f->child; c != NULL; c = c->next) {
        if (s3_xml_once(&one, c) != GW_OK) {
            return GW_EINVAL;
        }
    }
    if (one == NULL) {
        r->filter_kind = S3_LC_FILTER_EMPTY;
        return GW_OK;
    }
    if (!s3_xml_is(one, "And")) {
        r->filter_kind = s3_xml_is(one, "Prefix") ? S3_LC_FILTER_PREFIX
                         : s3_xml_is(one, "Tag") ? S3_LC_FILTER_TAG
                         : s3_xml_is(one, "ObjectSizeGreaterThan")
                         ? S3_LC_FILTER_GT : S3_LC_FILTER_LT;
        return s3_lx_predicate(pool, r, one);
    }
    r->filter_kind = S3_LC_FILTER_AND;
    for (c = one->child; c != NULL; c = c->next) {
        if (s3_lx_predicate(pool, r, c) != GW_OK) {
            return GW_EINVAL;
        }
    }
    n = r->ntags + (r->fprefix != NULL) + (r->gt != NULL) + (r->lt != NULL);
    return n >= 2 ? GW_OK : GW_EINVAL;
}

static int
s3_lx_expiration(s3_lx_rule_t *r, const s3_xml_node_t *e)
{
    const s3_xml_node_t  *c;
    int                  rc = GW_OK;

    for (c = e->child; c != NULL && rc == GW_OK; c = c->next) {
        rc = s3_xml_is(c, "Days") ? s3_xml_once(&r->exp_days, c)
             : s3_xml_is(c, "Date") ? s3_xml_once(&r->exp_date, c)
             : s3_xml_is(c, "ExpiredObjectDeleteMarker")
             ? s3_xml_once(&r->exp_dm, c) : GW_EINVAL;
    }
    if (rc != GW_OK
        || (r->exp_days == NULL && r->exp_date == NULL && r->exp_dm == NULL)
        || (r->exp_days != NULL && r->exp_date != NULL)
        || (r->exp_dm != NULL && (r->exp_days != NULL
                                  || r->exp_date != NULL)))
    {
        return GW_EINVAL;
    }
    if (r->exp_dm != NULL && !s3_xml_text_is(r->exp_dm, "true")
        && !s3_xml_text_is(r->exp_dm, "false"))
    {
        return GW_EINVAL;
    }
    return GW_OK;
}

/* A box of numbered children: each name in names at most once, required
 * ones (req bits) present, into slots. */
static int
s3_lx_box(const s3_xml_node_t *box, const char *const *names, size_t n,
          unsigned req, const s3_xml_node_t **slots[])
{
    const s3_xml_node_t  *c;
    size_t               i;

    for (c = box->child; c != NULL; c = c->next) {
        for (i = 0; i < n; i++) {
            if (s3_xml_is(c, names[i])) {
                break;
            }
        }
        if (i == n || s3_xml_once(slots[i], c) != GW_OK) {
            return GW_EINVAL;
        }
    }
    for (i = 0; i < n; i++) {
        if ((req & (1u << i)) && *slots[i] == NULL) {
            return GW_EINVAL;
        }
    }
    return GW_OK;
}

static int
s3_lx_rule(gw_pool_t *pool, s3_lx_rule_t *r, const s3_xml_node_t *rule)
{
    static const char *const  nc_names[] = { "NoncurrentDays",
                                             "NewerNoncurrentVersions" };
    static const char *const  ab_names[] = { "DaysAfterInitiation" };
    const s3_xml_node_t       **nc_slots[2], **ab_slots[1];
    const s3_xml_node_t        *c;
    int                        rc = GW_OK;

    memset(r, 0, sizeof(*r));
    nc_slots[0] = &r->nc_days;
    nc_slots[1] = &r->nc_newer;
    ab_slots[0] = &r->abort_days;
    for (c = rule->child; c != NULL && rc == GW_OK; c = c->next) {
        if (s3_xml_is(c, "ID")) {
            rc = s3_xml_once(&r->id, c);
        } else if (s3_xml_is(c, "Prefix")) {
            rc = c->child == NULL ? s3_xml_once(&r->prefix, c) : GW_EINVAL;
        } else if (s3_xml_is(c, "Filter")) {
            rc = s3_xml_once(&r->filter, c);
            rc = rc == GW_OK ? s3_lx_filter(pool, r, c) : rc;
        } else if (s3_xml_is(c, "Status")) {
            rc = s3_xml_once(&r->status, c);
            if (rc == GW_OK && !s3_xml_text_is(c, "Enabled")
                && !s3_xml_text_is(c, "Disabled"))
            {
                rc = GW_EINVAL;
            }
        } else if (s3_xml_is(c, "Expiration")) {
            rc = s3_xml_once(&r->exp, c);
            rc = rc == GW_OK ? s3_lx_expiration(r, c) : rc;
        } else if (s3_xml_is(c, "NoncurrentVersionExpiration")) {
            rc = s3_xml_once(&r->nc, c);
            rc = rc == GW_OK ? s3_lx_box(c, nc_names, 2, 1, nc_slots) : rc;
        } else if (s3_xml_is(c, "AbortIncompleteMultipartUpload")) {
            rc = s3_xml_once(&r->abort, c);
            rc = rc == GW_OK ? s3_lx_box(c, ab_names, 1, 1, ab_slots) : rc;
        } else if (s3_xml_is(c, "Transition")
                   || s3_xml_is(c, "NoncurrentVersionTransition"))
        {
            if (r->transition == NULL) {
                r->transition = c;
            }
        } else {
            rc = GW_EINVAL;
        }
    }
    if (rc != GW_OK || r->status == NULL
        || (r->prefix == NULL) == (r->filter == NULL))
    {
        return GW_EINVAL;       /* exactly one of the two filter forms */
    }
    return GW_OK;
}


static int
s3_lc_digits(const char *p, size_t n, int *out)
{
    size_t  i;
    int     v = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return GW_EINVAL;
        }
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return GW_OK;
}

/* An ISO 8601 date and time, YYYY-MM-DDThh:mm:ss[.fff][Z|+hh:mm|-hh:mm]
 * (no zone: UTC), into unix ms. GW_EINVAL for text that is not one. */
static int
s3_lc_date(const s3_xml_node_t *n, int64_t *ms)
{
    const char  *p = n->text;
    size_t       len = n->len, i = 19;
    int          y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0, frac = 0;

    if (len < 19 || p[4] != '-' || p[7] != '-' || (p[10] != 'T'
                                                   && p[10] != 't')
        || p[13] != ':' || p[16] != ':'
        || s3_lc_digits(p, 4, &y) || s3_lc_digits(p + 5, 2, &mo)
        || s3_lc_digits(p + 8, 2, &d) || s3_lc_digits(p + 11, 2, &h)
        || s3_lc_digits(p + 14, 2, &mi) || s3_lc_digits(p + 17, 2, &s))
    {
        return GW_EINVAL;
    }
    if (i < len && p[i] == '.') {
        for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
            frac |= p[i] != '0';
        }
    }
    if (i < len && (p[i] == 'Z' || p[i] == 'z')) {
        i++;
    } else if (i < len && (p[i] == '+' || p[i] == '-')) {
        sign = p[i] == '-' ? -1 : 1;
        if (len - i != 6 || p[i + 3] != ':'
            || s3_lc_digits(p + i + 1, 2, &oh)
            || s3_lc_digits(p + i + 4, 2, &om) || oh > 23 || om > 59)
        {
            return GW_EINVAL;
        }
        i += 6;
    }
    if (i != len || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23
        || mi > 59 || s > 59)
    {
        return GW_EINVAL;
    }
    /* A fraction of a second is kept as 1 ms: enough to be no midnight. */
    *ms = ((gw_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
            - sign * (oh * 3600 + om * 60)) * 1000) + (frac ? 1 : 0);
    return GW_OK;
}

/* A positive number of days (or versions) into *out: MalformedXML for text
 * that is no number, InvalidArgument with msg for one that is not > 0. */
static int
s3_lc_positive(const s3_xml_node_t *n, int64_t max, int64_t *out,
               const char *what, const char **msg)
{
    if (n == NULL) {
        *out = -1;
        return S3_ERR_NONE;
    }
    if (s3_xml_int(n, -S3_LX_INT_MAX, S3_LX_INT_MAX, out) != GW_OK) {
        return S3_ERR_MALFORMED_XML;
    }
    if (*out <= 0 || *out > max) {
        *msg = what;
        return S3_ERR_INVALID_ARGUMENT;
    }
    return S3_ERR_NONE;
}

/* The actions of one rule into out. */
static int
s3_lc_check_actions(const s3_lx_rule_t *r, s3_lc_rule_t *out,
                    const char **msg)
{
    int  rc;

    rc = s3_lc_positive(r->exp_days, INT32_MAX, &out->exp_days,
                        "'Days' for Expiration action must be a positive "
                        "integer", msg);
    if (rc == S3_ERR_NONE) {
        rc = s3_lc_positive(r->nc_days, INT32_MAX, &out->nc_days,
                            "'NoncurrentDays' for NoncurrentVersionExpiration"
                            " action must be a positive integer", msg);
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_lc_positive(r->nc_newer, S3_LC_NEWER_MAX, &out->nc_newer,
                            "'NewerNoncurrentVersions' for "
                            "NoncurrentVersionExpiration action must be a "
                            "positive integer up to 100", msg);
    }
    if (rc == S3_ERR_NONE) {
        rc = s3_lc_positive(r->abort_days, INT32_MAX, &out->abort_days,
                            "'DaysAfterInitiation' for "
                            "AbortIncompleteMultipartUpload action must be a "
                            "positive integer", msg);
    }
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    out->exp_date_ms = -1;
    if (r->exp_date != NULL) {
        if (s3_lc_date(r->exp_date, &out->exp_date_ms) != GW_OK) {
            *msg = "Date must be in ISO 8601 format";
            return S3_ERR_INVALID_ARGUMENT;
        }
        if (out->exp_date_ms % S3_LC_DAY_MS != 0) {
            *msg = "'Date' must be at midnight GMT";
            return S3_ERR_INVALID_ARGUMENT;
        }
    }
    out->has_exp = r->exp != NULL;
    out->exp_dm = r->exp_dm == NULL ? -1 : s3_xml_text_is(r->exp_dm, "true");
    out->has_nc = r->nc != NULL;
    if (r->exp == NULL && r->nc == NULL && r->abort == NULL) {
        *msg = "At least one action needs to be specified in a rule";
        return S3_ERR_INVALID_REQUEST;
    }
    if (r->abort != NULL && r->ntags > 0) {
        *msg = "AbortIncompleteMultipartUpload cannot be specified with "
               "Tags.";
        return S3_ERR_INVALID_REQUEST;
    }
    /* An upload has no size until it completes: a size bound could never
     * be decided for it. */
    if (r->abort != NULL && (r->gt != NULL || r->lt != NULL)) {
        *msg = "AbortIncompleteMultipartUpload cannot be specified with "
               "an object size filter.";
        return S3_ERR_INVALID_REQUEST;
    }
    if (out->exp_dm >= 0 && r->ntags > 0) {
        *msg = "ExpiredObjectDeleteMarker cannot be specified with Tags.";
        return S3_ERR_INVALID_REQUEST;
    }
    return S3_ERR_NONE;
}

/* The filter of one rule into out. */
static int
s3_lc_check_filter(const s3_lx_rule_t *r, s3_lc_rule_t *out,
                   const char **msg)
{
    const s3_xml_node_t  *pfx = r->filter != NULL ? r->fprefix : r->prefix;
    int                  rc;

    if (pfx != NULL && pfx->len > S3_LC_PREFIX_MAX) {
        *msg = "The maximum size of a prefix is 1024.";
        return S3_ERR_INVALID_ARGUMENT;
    }
    rc = s3_filter_tags_check(r->tags, r->ntags, msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    out->size_gt = out->size_lt = -1;
    if ((r->gt != NULL && s3_xml_int(r->gt, -S3_LX_INT_MAX, S3_LX_INT_MAX,
                                     &out->size_gt) != GW_OK)
        || (r->lt != NULL && s3_xml_int(r->lt, -S3_LX_INT_MAX, S3_LX_INT_MAX,
                                        &out->size_lt) != GW_OK))
    {
        return S3_ERR_MALFORMED_XML;
    }
    if ((r->gt != NULL && out->size_gt < 0)
        || (r->lt != NULL && out->size_lt <= 0))
    {
        *msg = "Object size filters must be positive integers";
        return S3_ERR_INVALID_ARGUMENT;
    }
    if (r->gt != NULL && r->lt != NULL && out->size_gt >= out->size_lt) {
        *msg = "ObjectSizeGreaterThan must be less than ObjectSizeLessThan";
        return S3_ERR_INVALID_ARGUMENT;
    }
    out->filter = r->filter != NULL ? r->filter_kind : S3_LC_FILTER_LEGACY;
    out->and_prefix = r->filter_kind == S3_LC_FILTER_AND && r->fprefix != NULL;
    out->prefix = pfx != NULL ? s3_xml_str(pfx) : gw_str_lit("");
    out->tags = r->tags;
    out->ntags = r->ntags;
    return S3_ERR_NONE;
}

static int
s3_lc_check(gw_pool_t *pool, const s3_lx_rule_t *rr, size_t n,
            s3_lc_conf_t *c, const char **msg)
{
    size_t  i, j;
    int     rc;

    for (i = 0; i < n; i++) {
        if (rr[i].id != NULL && rr[i].id->len > S3_LC_ID_MAX) {
            *msg = "ID length should not exceed allowed limit of 255";
            return S3_ERR_INVALID_ARGUMENT;
        }
        rc = s3_lc_check_filter(&rr[i], &c->rules[i], msg);
        if (rc == S3_ERR_NONE) {
            rc = s3_lc_check_actions(&rr[i], &c->rules[i], msg);
        }
        if (rc != S3_ERR_NONE) {
            return rc;
        }
        c->rules[i].enabled = s3_xml_text_is(rr[i].status, "Enabled");
        c->rules[i].id = rr[i].id != NULL ? s3_xml_str(rr[i].id)
                                          : gw_str_lit("");
        for (j = 0; j < i; j++) {
            if (rr[i].id != NULL && rr[j].id != NULL
                && gw_str_eq(c->rules[i].id, c->rules[j].id))
            {
                *msg = "Rule ID must be unique. Found same ID for more than "
                       "one rule";
                return S3_ERR_INVALID_ARGUMENT;
            }
        }
    }
    for (i = 0; i < n; i++) {
        if (rr[i].id == NULL) {
            c->rules[i].id = s3_filter_new_id(pool);
        }
    }
    return S3_ERR_NONE;
}

int
s3_lifecycle_parse(gw_pool_t *pool, const char *doc, size_t len,
                   s3_lc_conf_t **out, const char **msg)
{
    const s3_xml_node_t  *root, *c;
    s3_lx_rule_t        *rr;
    s3_lc_conf_t        *conf;
    size_t               n = 0, i = 0;
    int                  rc;

    *msg = NULL;
    *out = NULL;
    if (s3_xml_tree(pool, doc, len, &root) != GW_OK) {
        return S3_ERR_MALFORMED_XML;
    }
    if (root == NULL || root->next != NULL
        || !s3_xml_is(root, "LifecycleConfiguration"))
    {
        return S3_ERR_MALFORMED_XML;
    }
    for (c = root->child; c != NULL; c = c->next) {
        if (!s3_xml_is(c, "Rule")) {
            return S3_ERR_MALFORMED_XML;
        }
        n++;
    }
    if (n == 0) {
        return S3_ERR_MALFORMED_XML;
    }
    if (n > S3_LC_RULES_MAX) {
        *msg = "The number of lifecycle rules should not exceed allowed "
               "limit of 1000 rules";
        return S3_ERR_MALFORMED_XML;
    }
    rr = gw_pool_calloc(pool, n * sizeof(*rr));
    for (c = root->child; c != NULL; c = c->next) {
        if (s3_lx_rule(pool, &rr[i++], c) != GW_OK) {
            return S3_ERR_MALFORMED_XML;
        }
    }
    for (i = 0; i < n; i++) {
        if (rr[i].transition != NULL) {
            *msg = gw_pool_sprintf(pool, "%s: this server has one storage "
                                   "class (STANDARD) and cannot transition "
                                   "objects to another",
                                   rr[i].transition->name);
            return S3_ERR_INVALID_STORAGE_CLASS;
        }
    }
    conf = gw_pool_calloc(pool, sizeof(*conf));
    conf->rules = gw_pool_calloc(pool, n * sizeof(*conf->rules));
    conf->nrules = n;
    rc = s3_lc_check(pool, rr, n, conf, msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    *out = conf;
    return S3_ERR_NONE;
}


static void
s3_lc_xml_filter(const s3_lc_rule_t *r, s3_xml_t *x)
{
    size_t  k;

    if (r->filter == S3_LC_FILTER_LEGACY) {
        s3_xml_elem(x, "Prefix", r->prefix.base, r->prefix.len);
        return;
    }
    s3_xml_open(x, "Filter");
    if (r->filter == S3_LC_FILTER_AND) {
        s3_xml_open(x, "And");
    }
    if (r->filter == S3_LC_FILTER_PREFIX || r->and_prefix) {
        s3_xml_elem(x, "Prefix", r->prefix.base, r->prefix.len);
    }
    for (k = 0; k < r->ntags; k++) {
        s3_filter_tag_xml(x, &r->tags[k]);
    }
    if (r->size_gt >= 0) {
        s3_xml_elemf(x, "ObjectSizeGreaterThan", "%" PRId64, r->size_gt);
    }
    if (r->size_lt >= 0) {
        s3_xml_elemf(x, "ObjectSizeLessThan", "%" PRId64, r->size_lt);
    }
    if (r->filter == S3_LC_FILTER_AND) {
        s3_xml_close(x, "And");
    }
    s3_xml_close(x, "Filter");
}

static void
s3_lc_xml_actions(const s3_lc_rule_t *r, s3_xml_t *x)
{
    char  t[32];

    if (r->has_exp) {
        s3_xml_open(x, "Expiration");
        if (r->exp_days > 0) {
            s3_xml_elemf(x, "Days", "%" PRId64, r->exp_days);
        }
        if (r->exp_date_ms >= 0) {
            s3_xml_time(r->exp_date_ms, t);
            s3_xml_elem_str(x, "Date", t);
        }
        if (r->exp_dm >= 0) {
            s3_xml_elem_str(x, "ExpiredObjectDeleteMarker",
                            r->exp_dm ? "true" : "false");
        }
        s3_xml_close(x, "Expiration");
    }
    if (r->has_nc) {
        s3_xml_open(x, "NoncurrentVersionExpiration");
        s3_xml_elemf(x, "NoncurrentDays", "%" PRId64, r->nc_days);
        if (r->nc_newer > 0) {
            s3_xml_elemf(x, "NewerNoncurrentVersions", "%" PRId64,
                         r->nc_newer);
        }
        s3_xml_close(x, "NoncurrentVersionExpiration");
    }
    if (r->abort_days > 0) {
        s3_xml_open(x, "AbortIncompleteMultipartUpload");
        s3_xml_elemf(x, "DaysAfterInitiation", "%" PRId64, r->abort_days);
        s3_xml_close(x, "AbortIncompleteMultipartUpload");
    }
}

void
s3_lifecycle_xml(const s3_lc_conf_t *c, s3_xml_t *x, gw_pool_t *pool)
{
    const s3_lc_rule_t  *r;
    size_t               i;

    s3_xml_begin(x, pool, "LifecycleConfiguration");
    for (i = 0; i < c->nrules; i++) {
        r = &c->rules[i];
        s3_xml_open(x, "Rule");
        s3_xml_elem(x, "ID", r->id.base, r->id.len);
        s3_lc_xml_filter(r, x);
        s3_xml_elem_str(x, "Status", r->enabled ? "Enabled" : "Disabled");
        s3_lc_xml_actions(r, x);
        s3_xml_close(x, "Rule");
    }
    s3_xml_end(x, "LifecycleConfiguration");
}

gw_str_t
s3_lifecycle_encode(gw_pool_t *pool, const s3_lc_conf_t *c)
{
    s3_xml_t  x;
    gw_str_t  s;

    s3_lifecycle_xml(c, &x, pool);
    s.base = x.buf;
    s.len = x.len;
    return s;
}

int
s3_lifecycle_decode(gw_pool_t *pool, const char *buf, size_t len,
                    s3_lc_conf_t **out)
{
    const char  *msg;

    return s3_lifecycle_parse(pool, buf, len, out, &msg) == S3_ERR_NONE
           ? GW_OK : GW_ECORRUPT;
}


/* ==== matching and dates ==== */

int64_t
s3_lifecycle_ceil(int64_t t_ms, int64_t day_ms)
{
    int64_t  q;

    if (day_ms <= 0) {
        return t_ms;
    }
    q = t_ms / day_ms;
    if (t_ms % day_ms > 0) {
        q++;
    }
    return q * day_ms;
}

int
s3_lifecycle_match(const s3_lc_rule_t *r, gw_str_t key, const gw_kv_t *tags,
                   size_t ntags, uint64_t size)
{
    if (key.len < r->prefix.len
        || (r->prefix.len > 0
            && memcmp(key.base, r->prefix.base, r->prefix.len) != 0))
    {
        return 0;
    }
    if ((r->size_gt >= 0 && size <= (uint64_t) r->size_gt)
        || (r->size_lt >= 0 && size >= (uint64_t) r->size_lt))
    {
        return 0;
    }
    return s3_filter_tags_match(r->tags, r->ntags, tags, ntags);
}

int64_t
s3_lifecycle_expiry_of(const s3_lc_rule_t *r, int64_t mtime_ms,
                       int64_t day_ms)
{
    if (r->exp_days > 0) {
        return s3_lifecycle_ceil(mtime_ms + r->exp_days * day_ms, day_ms);
    }
    if (r->exp_date_ms >= 0) {
        return r->exp_date_ms;
    }
    return -1;
}

const s3_lc_rule_t *
s3_lifecycle_expiry(const s3_lc_conf_t *c, gw_str_t key, const gw_kv_t *tags,
                    size_t ntags, uint64_t size, int64_t mtime_ms,
                    int64_t day_ms, int64_t *at)
{
    const s3_lc_rule_t  *best = NULL;
    int64_t              t;
    size_t               i;

    for (i = 0; i < c->nrules; i++) {
        if (!c->rules[i].enabled
            || !s3_lifecycle_match(&c->rules[i], key, tags, ntags, size))
        {
            continue;
        }
        t = s3_lifecycle_expiry_of(&c->rules[i], mtime_ms, day_ms);
        if (t >= 0 && (best == NULL || t < *at)) {
            best = &c->rules[i];
            *at = t;
        }
    }
    return best;
}

/* When rule r removes the lone delete marker m: at once with
 * ExpiredObjectDeleteMarker true, else when its Expiration would expire an
 * object made when the marker was; -1 when never. */
static int64_t
s3_lc_marker_due(const s3_lc_rule_t *r, const store_object_t *m,
                 int64_t day_ms)
{
    if (r->exp_dm == 1) {
        return 0;
    }
    return s3_lifecycle_expiry_of(r, m->mtime_ms, day_ms);
}

/* When rule r removes the noncurrent version o, which has newer noncurrent
 * versions newer than it; -1 when never. */
static int64_t
s3_lc_noncurrent_due(const s3_lc_rule_t *r, const store_object_t *o,
                     uint64_t newer, int64_t day_ms)
{
    int64_t  since;

    if (!r->has_nc || r->nc_days <= 0
        || (r->nc_newer > 0 && newer < (uint64_t) r->nc_newer))
    {
        return -1;
    }
    /* A record from before the stamp: its own time is the best known. */
    since = o->noncurrent_ms > 0 ? o->noncurrent_ms : o->mtime_ms;
    return s3_lifecycle_ceil(since + r->nc_days * day_ms, day_ms);
}

/* See lifecycle.h. Each kind of version has its own actions; the earliest
 * due time among the enabled rules that match decides. */
int
s3_lifecycle_decide(const s3_lc_conf_t *c, const store_object_t *o,
                    const s3_lc_ver_t *v, int64_t now_ms, int64_t day_ms,
                    const s3_lc_rule_t **rule)
{
    const s3_lc_rule_t  *r, *best = NULL;
    int64_t              t, at = -1;
    int                  marker = (o->vflags & STORE_VF_MARKER) != 0;
    size_t               i;

    *rule = NULL;
    if (!v->noncurrent && !marker) {
        *rule = s3_lifecycle_expiry(c, o->key, o->tags, o->ntags, o->size,
                                    o->mtime_ms, day_ms, &at);
        if (*rule == NULL || at > now_ms) {
            *rule = NULL;
            return S3_LC_KEEP;
        }
        return S3_LC_EXPIRE;
    }
    if (!v->noncurrent && !v->lone) {
        return S3_LC_KEEP;          /* a marker hiding older versions */
    }
    for (i = 0; i < c->nrules; i++) {
        r = &c->rules[i];
        if (!r->enabled
            || !s3_lifecycle_match(r, o->key, o->tags, o->ntags, o->size))
        {
            continue;
        }
        t = v->noncurrent ? s3_lc_noncurrent_due(r, o, v->newer, day_ms)
                          : s3_lc_marker_due(r, o, day_ms);
        if (t >= 0 && (best == NULL || t < at)) {
            best = r;
            at = t;
        }
    }
    if (best == NULL || at > now_ms) {
        return S3_LC_KEEP;
    }
    *rule = best;
    return S3_LC_REMOVE;
}

const s3_lc_rule_t *
s3_lifecycle_abort(const s3_lc_conf_t *c, gw_str_t key, int64_t init_ms,
                   int64_t day_ms, int64_t *at)
{
    const s3_lc_rule_t  *best = NULL;
    int64_t              t;
    size_t               i;

    for (i = 0; i < c->nrules; i++) {
        if (!c->rules[i].enabled || c->rules[i].abort_days <= 0
            || !s3_lifecycle_match(&c->rules[i], key, NULL, 0, 0))
        {
            continue;
        }
        t = s3_lifecycle_ceil(init_ms + c->rules[i].abort_days * day_ms,
                              day_ms);
        if (best == NULL || t < *at) {
            best = &c->rules[i];
            *at = t;
        }
    }
    return best;
}


/* ==== x-amz-expiration ==== */

void
s3_lifecycle_expiration_header(s3_req_t *r, const store_object_t *o)
{
    const s3_lc_rule_t  *rule;
    store_object_t      *own = NULL;
    s3_lc_conf_t        *c;
    gw_str_t             doc;
    int64_t              at = 0;
    char                 date[32], *id;
    size_t               i;
    int                  rc;

    rc = store_bconf_get(r->ctx->store, r->bucket, STORE_BCONF_LIFECYCLE,
                         r->pool, &doc);
    if (rc == GW_ENOTFOUND) {
        return;
    }
    if (rc != GW_OK
        || s3_lifecycle_decode(r->pool, doc.base, doc.len, &c) != GW_OK)
    {
        gw_log(GW_LOG_ERR, r->http->peer, rc != GW_OK ? rc : GW_ECORRUPT,
               "reading the lifecycle configuration of \"%s\" failed",
               r->bucket);
        return;
    }
    if (o == NULL) {
        if (store_object_get(r->ctx->store, r->bucket, r->key, &own)
            != GW_OK)
        {
            return;
        }
        o = own;
    }
    rule = s3_lifecycle_expiry(c, o->key, o->tags, o->ntags, o->size,
                               o->mtime_ms, r->ctx->cf->lifecycle_day_ms,
                               &at);
    store_object_free(own);
    if (rule == NULL) {
        return;
    }
    /* The ID is the client's text: no byte of it may end the header. */
    id = gw_pool_strndup(r->pool, rule->id.base, rule->id.len);
    for (i = 0; i < rule->id.len; i++) {
        if ((unsigned char) id[i] < 0x20 || id[i] == 0x7f || id[i] == '"') {
            id[i] = '_';
        }
    }
    http_date(at / 1000, date);
    http_resp_headerf(r->http, "x-amz-expiration",
                      "expiry-date=\"%s\", rule-id=\"%s\"", date, id);
}
