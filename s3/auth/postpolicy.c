/* s3/auth/postpolicy.c: POST policies and form signatures (see
 * s3/auth/postpolicy.h).
 *
 *   policy field -> base64 -> JSON {"expiration": ..., "conditions": [...]}
 *   conditions: {"field": "value"}           exact match
 *               ["eq", "$field", "value"]    exact match
 *               ["starts-with", "$field", "prefix"]  ("" matches anything)
 *               ["content-length-range", min, max]   left to the upload
 *   every form field must be named by some condition (the exemptions are
 *   S3's), and the bucket condition is checked against the request's. */
#include "s3/auth/postpolicy.h"
#include "s3/auth/sigv2.h"
#include "s3/auth/sigv4.h"

#include <jansson.h>
#include <strings.h>

#define S3_POLICY_MAX  (20 * 1024)     /* a policy within the form's limit */

const gw_str_t *
s3_postpolicy_field(const gw_kv_t *fields, size_t n, const char *name)
{
    size_t  i, len = strlen(name);

    for (i = 0; i < n; i++) {
        if (fields[i].name.len == len
            && memcmp(fields[i].name.base, name, len) == 0)
        {
            return &fields[i].value;
        }
    }
    return NULL;
}

/* ==== the policy document ==== */

/* "2030-01-01T00:00:00Z" or with fractional seconds ("...00.000Z"). */
static int
s3_postpolicy_time(const char *s, int64_t *t)
{
    int   y, mo, d, h, mi, sec, n = 0;
    char  z = 0;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n)
        != 6 || n != 19)
    {
        return GW_EINVAL;
    }
    s += n;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') {
            return GW_EINVAL;
        }
        while (*s >= '0' && *s <= '9') {
            s++;
        }
    }
    z = *s++;
    if (z != 'Z' || *s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31
        || h > 23 || mi > 59 || sec > 60)
    {
        return GW_EINVAL;
    }
    *t = gw_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return GW_OK;
}

typedef struct s3_pp_check_s {
    gw_pool_t        *pool;
    const char       *bucket;
    const gw_kv_t    *fields;
    size_t            n;
    unsigned char    *covered;     /* per field: a condition names it */
    s3_postpolicy_t  *out;
    const char      **msg;
} s3_pp_check_t;

/* The value a condition on name (without '$', any case) is checked
 * against: the bucket, a field (marked covered), or "" when absent. */
static gw_str_t
s3_pp_value(s3_pp_check_t *c, const char *name)
{
    gw_str_t  v = { "", 0 };
    size_t    i, len = strlen(name);

    if (strcasecmp(name, "bucket") == 0) {
        v.base = c->bucket;
        v.len = strlen(c->bucket);
        return v;
    }
    for (i = 0; i < c->n; i++) {
        if (gw_ascii_ieq(c->fields[i].name.base, c->fields[i].name.len, name,
                         len))
        {
            c->covered[i] = 1;
            v = c->fields[i].value;
        }
    }
    return v;
}

static int
s3_pp_failed(s3_pp_check_t *c, const char *op, const char *name,
             const char *want)
{
    json_t  *a = json_pack("[s, s+, s]", op, "$", name, want);
    char    *text = a != NULL ? json_dumps(a, JSON_COMPACT) : NULL;
    char    *s, *o;

    /* S3 prints the condition as ["eq", "$key", "x"]: JSON with a space
     * after each comma between elements. */
    if (text == NULL) {
        json_decref(a);
        *c->msg = "Invalid according to Policy: Policy Condition failed";
        return S3_ERR_ACCESS_DENIED;
    }
    static const char  prefix[] = "Invalid according to Policy: Policy "
                                  "Condition failed: ";

    o = gw_pool_alloc(c->pool, sizeof(prefix) + 2 * strlen(text));
    *c->msg = o;
    memcpy(o, prefix, sizeof(prefix) - 1);
    o += sizeof(prefix) - 1;
    for (s = text; *s; s++) {
        *o++ = *s;
        if (*s == '"' && s[1] == ',' && s[2] == '"') {
            *o++ = ',';
            *o++ = ' ';
            s++;
        }
    }
    *o = '\0';
    free(text);
    json_decref(a);
    return S3_ERR_ACCESS_DENIED;
}

/* starts-with: every comma-separated Content-Type must start with prefix
 * (S3's rule for a form that names several); other fields whole. */
static int
s3_pp_starts(const char *name, gw_str_t v, const char *prefix)
{
    size_t  plen = strlen(prefix);
    size_t  i, start = 0;

    if (strcasecmp(name, "content-type") != 0) {
        return v.len >= plen && memcmp(v.base, prefix, plen) == 0;
    }
    for (i = 0; i <= v.len; i++) {
        if (i == v.len || v.base[i] == ',') {
            size_t  s = start, e = i;

            while (s < e && v.base[s] == ' ') {
                s++;
            }
            if (e - s < plen || memcmp(v.base + s, prefix, plen) != 0) {
                return 0;
            }
            start = i + 1;
        }
    }
    return 1;
}

static int
s3_pp_integer(json_t *j, uint64_t *out)
{
    const char  *s;
    char        *end;

    if (json_is_integer(j) && json_integer_value(j) >= 0) {
        *out = (uint64_t) json_integer_value(j);
        return GW_OK;
    }
    if (json_is_string(j)) {
        s = json_string_value(j);
        if (*s >= '0' && *s <= '9') {
            *out = strtoull(s, &end, 10);
            return *end == '\0' ? GW_OK : GW_EINVAL;
        }
    }
    return GW_EINVAL;
}

/* One array condition. */
static int
s3_pp_array(s3_pp_check_t *c, json_t *cond)
{
    const char  *op, *name, *want;
    gw_str_t     v;

    if (json_array_size(cond) != 3 || !json_is_string(json_array_get(cond, 0))) {
        goto invalid;
    }
    op = json_string_value(json_array_get(cond, 0));
    if (strcasecmp(op, "content-length-range") == 0) {
        if (s3_pp_integer(json_array_get(cond, 1), &c->out->len_min) != GW_OK
            || s3_pp_integer(json_array_get(cond, 2), &c->out->len_max)
               != GW_OK)
        {
            goto invalid;
        }
        c->out->has_range = 1;
        return S3_ERR_NONE;
    }
    if (!json_is_string(json_array_get(cond, 1))
        || !json_is_string(json_array_get(cond, 2)))
    {
        goto invalid;
    }
    name = json_string_value(json_array_get(cond, 1));
    want = json_string_value(json_array_get(cond, 2));
    if (name[0] != '$' || name[1] == '\0') {
        goto invalid;
    }
    name++;
    v = s3_pp_value(c, name);
    if (strcasecmp(op, "eq") == 0) {
        if (v.len != strlen(want) || memcmp(v.base, want, v.len) != 0) {
            return s3_pp_failed(c, "eq", name, want);
        }
        return S3_ERR_NONE;
    }
    if (strcasecmp(op, "starts-with") == 0) {
        if (!s3_pp_starts(name, v, want)) {
            return s3_pp_failed(c, "starts-with", name, want);
        }
        return S3_ERR_NONE;
    }
invalid:
    *c->msg = "Invalid Policy: Invalid Simple-Condition: a condition must be "
              "an object of one field, or [\"eq\" or \"starts-with\", "
              "\"$field\", \"value\"], or [\"content-length-range\", min, max].";
    return S3_ERR_INVALID_POLICY_DOCUMENT;
}

/* The conditions, then the fields no condition names. */
static int
s3_pp_conditions(s3_pp_check_t *c, json_t *conds)
{
    json_t      *cond, *val;
    const char  *name;
    gw_sb_t      extra = { NULL, 0, 0 };
    size_t       i;
    gw_str_t     v;
    int          rc;

    json_array_foreach(conds, i, cond) {
        if (json_is_array(cond)) {
            rc = s3_pp_array(c, cond);
        } else if (json_is_object(cond) && json_object_size(cond) == 1) {
            rc = S3_ERR_NONE;
            json_object_foreach(cond, name, val) {
                if (!json_is_string(val)) {
                    *c->msg = "Invalid Policy: Invalid Simple-Condition: "
                              "value must be a string.";
                    return S3_ERR_INVALID_POLICY_DOCUMENT;
                }
                v = s3_pp_value(c, name);
                if (v.len != strlen(json_string_value(val))
                    || memcmp(v.base, json_string_value(val), v.len) != 0)
                {
                    rc = s3_pp_failed(c, "eq", name, json_string_value(val));
                }
            }
        } else {
            *c->msg = "Invalid Policy: Invalid Simple-Condition: a condition "
                      "must be an object of one field or an array.";
            rc = S3_ERR_INVALID_POLICY_DOCUMENT;
        }
        if (rc != S3_ERR_NONE) {
            return rc;
        }
    }
    for (i = 0; i < c->n; i++) {
        const gw_str_t  *f = &c->fields[i].name;

        if (c->covered[i] || gw_str_eq_lit(*f, "x-amz-signature")
            || gw_str_eq_lit(*f, "file") || gw_str_eq_lit(*f, "policy")
            || gw_str_eq_lit(*f, "awsaccesskeyid")
            || gw_str_eq_lit(*f, "signature")
            || (f->len >= 9 && memcmp(f->base, "x-ignore-", 9) == 0))
        {
            continue;
        }
        if (extra.len) {
            gw_sb_put(&extra, ", ", 2);
        }
        gw_sb_put(&extra, f->base, f->len);
    }
    if (extra.len) {
        *c->msg = gw_pool_sprintf(c->pool, "Invalid according to Policy: "
                                  "Extra input fields: %.*s", (int) extra.len,
                                  extra.p);
        gw_free(extra.p);
        return S3_ERR_ACCESS_DENIED;
    }
    return S3_ERR_NONE;
}

int
s3_postpolicy_check(gw_pool_t *pool, gw_str_t policy, const char *bucket,
                    const gw_kv_t *fields, size_t n, int64_t now,
                    s3_postpolicy_t *out, const char **msg)
{
    s3_pp_check_t   c;
    unsigned char  *doc;
    size_t          len;
    json_t         *root, *exp, *conds;
    int             rc = S3_ERR_INVALID_POLICY_DOCUMENT;

    memset(out, 0, sizeof(*out));
    *msg = NULL;
    doc = gw_pool_alloc(pool, policy.len + 1);
    if (policy.len > S3_POLICY_MAX
        || gw_base64_decode(doc, policy.len + 1, &len, policy.base,
                            policy.len) != GW_OK)
    {
        *msg = "Invalid Policy: Invalid Base64 Encoding.";
        return rc;
    }
    root = json_loadb((const char *) doc, len, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL || !json_is_object(root)) {
        *msg = "Invalid Policy: Invalid JSON.";
        goto done;
    }
    exp = json_object_get(root, "expiration");
    conds = json_object_get(root, "conditions");
    if (exp == NULL) {
        *msg = "Invalid Policy: Policy missing expiration.";
        goto done;
    }
    if (!json_is_string(exp)
        || s3_postpolicy_time(json_string_value(exp), &out->expiration)
           != GW_OK)
    {
        *msg = "Invalid Policy: Invalid 'expiration' value: it must be an "
               "ISO 8601 GMT date (2030-01-01T12:00:00.000Z).";
        goto done;
    }
    if (conds == NULL || !json_is_array(conds)) {
        *msg = conds == NULL ? "Invalid Policy: Policy missing conditions."
                             : "Invalid Policy: Invalid 'conditions' value: "
                               "it must be an array.";
        goto done;
    }
    if (now > out->expiration) {
        *msg = "Invalid according to Policy: Policy expired.";
        rc = S3_ERR_ACCESS_DENIED;
        goto done;
    }
    c.pool = pool;
    c.bucket = bucket;
    c.fields = fields;
    c.n = n;
    c.covered = gw_pool_calloc(pool, n + 1);
    c.out = out;
    c.msg = msg;
    rc = s3_pp_conditions(&c, conds);
done:
    json_decref(root);
    return rc;
}

/* ==== the form's signature ==== */

static int
s3_pp_missing(s3_req_t *r, const char *name)
{
    s3_error(r, S3_ERR_INVALID_ARGUMENT, gw_pool_sprintf(r->pool,
             "Bucket POST must contain a field named '%s'.  If it is "
             "specified, please check the order of the fields.", name));
    return -1;
}

static int
s3_pp_sigv4(s3_req_t *r, const gw_kv_t *f, size_t n, gw_str_t policy)
{
    const gw_str_t   *alg = s3_postpolicy_field(f, n, "x-amz-algorithm");
    const gw_str_t   *cred = s3_postpolicy_field(f, n, "x-amz-credential");
    const gw_str_t   *date = s3_postpolicy_field(f, n, "x-amz-date");
    const gw_str_t   *sig = s3_postpolicy_field(f, n, "x-amz-signature");
    s3_sigv4_auth_t  *a;
    unsigned char     want[32], got[32];
    int64_t           t;

    if (cred == NULL) {
        return s3_pp_missing(r, "X-Amz-Credential");
    }
    if (date == NULL) {
        return s3_pp_missing(r, "X-Amz-Date");
    }
    if (sig == NULL) {
        return s3_pp_missing(r, "X-Amz-Signature");
    }
    if (!gw_str_eq_lit(*alg, "AWS4-HMAC-SHA256")) {
        s3_error(r, S3_ERR_INVALID_ARGUMENT, "X-Amz-Algorithm only supports "
                 "\"AWS4-HMAC-SHA256\"");
        return -1;
    }
    a = gw_pool_calloc(r->pool, sizeof(*a));
    if (s3_sigv4_parse_credential(*cred, a) != GW_OK) {
        s3_error(r, S3_ERR_AUTH_QUERY_MALFORMED, "Error parsing the "
                 "X-Amz-Credential parameter; the Credential is mal-formed; "
                 "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/"
                 "aws4_request\".");
        return -1;
    }
    if (a->region.len != strlen(r->ctx->cf->region)
        || memcmp(a->region.base, r->ctx->cf->region, a->region.len) != 0)
    {
        s3_error(r, S3_ERR_AUTH_QUERY_MALFORMED, gw_pool_sprintf(r->pool,
                 "Error parsing the X-Amz-Credential parameter; the region "
                 "'%.*s' is wrong; expecting '%s'", (int) a->region.len,
                 a->region.base, r->ctx->cf->region));
        return -1;
    }
    if (!gw_str_eq_lit(a->service, "s3")) {
        s3_error(r, S3_ERR_AUTH_QUERY_MALFORMED, gw_pool_sprintf(r->pool,
                 "Error parsing the X-Amz-Credential parameter; incorrect "
                 "service '%.*s'. This endpoint belongs to 's3'.",
                 (int) a->service.len, a->service.base));
        return -1;
    }
    if (date->len != 16 || s3_sigv4_time_parse(date->base, &t) != GW_OK
        || memcmp(date->base, a->date, 8) != 0)
    {
        s3_error(r, S3_ERR_AUTH_QUERY_MALFORMED, "Invalid date format "
                 "header, expected to be in ISO8601, RFC1123 or RFC1123Z "
                 "time format, and to be the credential's date.");
        return -1;
    }
    r->user = gw_conf_user_by_access_key(r->ctx->cf, a->access_key.base,
                                         a->access_key.len);
    if (r->user == NULL) {
        return S3_ERR_INVALID_ACCESS_KEY_ID;
    }
    s3_sigv4_post_signature(r->user->secret_key, a, policy.base, policy.len,
                            want);
    if (sig->len != 64 || gw_hex_decode(got, sig->base, 64) != GW_OK
        || !gw_ct_memeq(want, got, 32))
    {
        r->user = NULL;
        return S3_ERR_SIGNATURE_DOES_NOT_MATCH;
    }
    memcpy(r->amz_date, date->base, 16);
    r->amz_date[16] = '\0';
    r->signature_version = "AWS4-HMAC-SHA256";
    return S3_ERR_NONE;
}

static int
s3_pp_sigv2(s3_req_t *r, const gw_kv_t *f, size_t n, gw_str_t policy)
{
    const gw_str_t  *ak = s3_postpolicy_field(f, n, "awsaccesskeyid");
    const gw_str_t  *sig = s3_postpolicy_field(f, n, "signature");
    unsigned char    want[S3_SIGV2_SIG_LEN], got[32];
    size_t           glen;

    if (ak == NULL) {
        return s3_pp_missing(r, "AWSAccessKeyId");
    }
    if (sig == NULL) {
        return s3_pp_missing(r, "Signature");
    }
    r->user = gw_conf_user_by_access_key(r->ctx->cf, ak->base, ak->len);
    if (r->user == NULL) {
        return S3_ERR_INVALID_ACCESS_KEY_ID;
    }
    s3_sigv2_hmac(r->user->secret_key, policy.base, policy.len, want);
    if (gw_base64_decode(got, sizeof(got), &glen, sig->base, sig->len) != GW_OK
        || glen != S3_SIGV2_SIG_LEN || !gw_ct_memeq(want, got, glen))
    {
        r->user = NULL;
        return S3_ERR_SIGNATURE_DOES_NOT_MATCH;
    }
    r->signature_version = "AWS";
    return S3_ERR_NONE;
}

int
s3_postpolicy_auth(s3_req_t *r, const gw_kv_t *fields, size_t n)
{
    const gw_str_t  *policy = s3_postpolicy_field(fields, n, "policy");

    if (policy == NULL) {
        return s3_pp_missing(r, "Policy");
    }
    if (s3_postpolicy_field(fields, n, "x-amz-algorithm") != NULL) {
        return s3_pp_sigv4(r, fields, n, *policy);
    }
    return s3_pp_sigv2(r, fields, n, *policy);
}
