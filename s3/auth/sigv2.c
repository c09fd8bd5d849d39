/* s3/auth/sigv2.c: AWS Signature Version 2 for S3, checked the way botocore
 * signs it. Everything here but the once-per-process OpenSSL fetch is a pure
 * function of its arguments; see s3/auth/sigv2.h. */
#include "s3/auth/sigv2.h"
#include "core/hash.h"

#include <pthread.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define SIGV2_SCHEME        "AWS"
#define SIGV2_SIG_B64_LEN   GW_BASE64_LEN(S3_SIGV2_SIG_LEN)   /* 28 */
#define SIGV2_EXPIRES_MAX   18       /* digits: fits an int64_t */

/* One x-amz-* header (or presigned x-amz-* query parameter) to sign. name
 * is lowercased into an arena; idx keeps the order received, so that sorting
 * by name stays stable and repeats are joined in the order sent. */
typedef struct {
    gw_str_t  name;
    gw_str_t  value;
    size_t    idx;
} sigv2_amz_t;

/* One signed sub-resource of the query string: raw name, raw value. */
typedef struct {
    gw_str_t  name;
    gw_str_t  value;
    int       has_value;   /* "acl=" and "acl" are signed differently */
    size_t    idx;
} sigv2_sub_t;

/* botocore's HmacV1Auth.QSAOfInterest (which lists requestPayment twice),
 * in one place so that test_sigv2.py can compare the two. */
static const char  *sigv2_subresources[] = {
    "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete",
    "inventory", "lifecycle", "location", "logging", "metrics",
    "notification", "object-lock", "partNumber", "policy", "replication",
    "requestPayment", "response-cache-control",
    "response-content-disposition", "response-content-encoding",
    "response-content-language", "response-content-type",
    "response-expires", "restore", "select", "select-type", "storageClass",
    "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
    "versions", "website"
};

/* HMAC with SHA-1 set, fetched and configured once. Each signature dups
 * this keyless template, so neither the HMAC nor the SHA-1 implementation
 * is looked up again per request (a fetch takes a lock and walks the
 * provider's tables; setting the digest parameter would fetch SHA-1). */
static pthread_once_t   sigv2_once = PTHREAD_ONCE_INIT;
static EVP_MAC         *sigv2_mac;
static EVP_MAC_CTX     *sigv2_template;


/* ==== small helpers ==== */

/* What Python's str.strip() removes, for the ASCII range: botocore strips
 * every value it signs with it. */
static int
sigv2_is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
           || c == '\f';
}

static gw_str_t
sigv2_trim(gw_str_t s)
{
    while (s.len > 0 && sigv2_is_blank((unsigned char) s.base[0])) {
        s.base++;
        s.len--;
    }
    while (s.len > 0 && sigv2_is_blank((unsigned char) s.base[s.len - 1])) {
        s.len--;
    }
    return s;
}

static int
sigv2_is_digits(const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return n > 0;
}

/* The first header called name, compared without case. */
static const gw_kv_t *
sigv2_header(const s3_sigv2_input_t *in, const char *name, size_t n)
{
    size_t  i;

    for (i = 0; i < in->nheaders; i++) {
        if (gw_ascii_ieq(in->headers[i].name.base, in->headers[i].name.len,
                         name, n))
        {
            return &in->headers[i];
        }
    }
    return NULL;
}

static int
sigv2_is_amz(gw_str_t name)
{
    return name.len >= 6 && gw_ascii_ieq(name.base, 6, "x-amz-", 6);
}

/* Percent-decodes s[0..n) into out (n bytes suffice) the way Python's
 * urllib.parse.unquote does: a '%' not followed by two hex digits stays as
 * it is. The canonical resource must be the one botocore signed, and it
 * signs what unquote returns. With plus_is_space, '+' becomes ' '. */
static size_t
sigv2_unquote(const char *s, size_t n, char *out, int plus_is_space)
{
    size_t  i, o = 0;
    int     hi, lo;

    for (i = 0; i < n; i++) {
        if (s[i] == '%' && n - i >= 3
            && (hi = gw_hex_value((unsigned char) s[i + 1])) >= 0
            && (lo = gw_hex_value((unsigned char) s[i + 2])) >= 0)
        {
            out[o++] = (char) (hi << 4 | lo);
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

/* Iterates the raw query: sets name/value views (value empty and *has_value
 * 0 without '=') and returns the position after the parameter, or NULL at
 * the end. Empty parameters ("a&&b") are skipped. */
static const char *
sigv2_next_param(const char *p, const char *end, gw_str_t *name,
    gw_str_t *value, int *has_value)
{
    const char  *amp, *eq;

    while (p != NULL && p < end && *p == '&') {
        p++;
    }
    if (p == NULL || p >= end) {
        return NULL;
    }
    amp = memchr(p, '&', (size_t) (end - p));
    if (amp == NULL) {
        amp = end;
    }
    eq = memchr(p, '=', (size_t) (amp - p));
    name->base = p;
    name->len = (size_t) ((eq != NULL ? eq : amp) - p);
    *has_value = eq != NULL;
    value->base = eq != NULL ? eq + 1 : amp;
    value->len = (size_t) (amp - value->base);
    return amp;
}


/* ==== HMAC-SHA1 ==== */

static void
sigv2_hmac_setup(void)
{
    OSSL_PARAM  params[2];

    sigv2_mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (sigv2_mac == NULL) {
        return;
    }
    sigv2_template = EVP_MAC_CTX_new(sigv2_mac);
    if (sigv2_template == NULL) {
        return;
    }
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA1", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(sigv2_template, params) != 1) {
        EVP_MAC_CTX_free(sigv2_template);
        sigv2_template = NULL;
    }
}

static void
sigv2_fatal(const char *what, int line)
{
    fprintf(stderr, "[crit] OpenSSL %s failed at %s:%d\n", what, __FILE__,
            line);
    abort();
}

void
s3_sigv2_hmac(const char *secret, const void *msg, size_t n,
    unsigned char out[S3_SIGV2_SIG_LEN])
{
    static const unsigned char  nokey[1];
    EVP_MAC_CTX                *ctx;
    size_t                      klen = strlen(secret), olen = 0;
    const unsigned char        *key = (const unsigned char *) secret;

    if (pthread_once(&sigv2_once, sigv2_hmac_setup) != 0
        || sigv2_template == NULL)
    {
        sigv2_fatal("HMAC-SHA1 fetch", __LINE__);
    }
    /* A NULL key means "keep the previous key" to EVP_MAC_init, and this
     * context has none: an empty secret still needs a pointer. */
    if (klen == 0) {
        key = nokey;
    }
    ctx = EVP_MAC_CTX_dup(sigv2_template);
    if (ctx == NULL
        || EVP_MAC_init(ctx, key, klen, NULL) != 1
        || EVP_MAC_update(ctx, msg, n) != 1
        || EVP_MAC_final(ctx, out, &olen, S3_SIGV2_SIG_LEN) != 1
        || olen != S3_SIGV2_SIG_LEN)
    {
        sigv2_fatal("HMAC-SHA1", __LINE__);
    }
    EVP_MAC_CTX_free(ctx);
}


/* ==== dates ==== */

/* A cursor over the date text. Each scan_* consumes what it matched and
 * returns 1, or returns 0; a field that is too long is caught by the scan
 * of the separator that must follow it. */

typedef struct {
    const char  *p;
    const char  *end;
} sigv2_scan_t;

static int
sigv2_scan_num(sigv2_scan_t *s, int min, int max, int *v)
{
    int  n = 0;

    *v = 0;
    while (s->p < s->end && n < max && *s->p >= '0' && *s->p <= '9') {
        *v = *v * 10 + (*s->p++ - '0');
        n++;
    }
    return n >= min;
}

static int
sigv2_scan_char(sigv2_scan_t *s, char c)
{
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* At least one space. */
static int
sigv2_scan_spaces(sigv2_scan_t *s)
{
    const char  *p = s->p;

    while (s->p < s->end && *s->p == ' ') {
        s->p++;
    }
    return s->p > p;
}

static int
sigv2_scan_month(sigv2_scan_t *s, int *mon)
{
    static const char  months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    int                i, k;

    if (s->end - s->p < 3) {
        return 0;
    }
    for (i = 0; i < 12; i++) {
        for (k = 0; k < 3; k++) {
            if (gw_ascii_lower((unsigned char) s->p[k]) != months[3 * i + k]) {
                break;
            }
        }
        if (k == 3) {
            *mon = i + 1;
            s->p += 3;
            return 1;
        }
    }
    return 0;
}

static int
sigv2_scan_hms(sigv2_scan_t *s, int *h, int *mi, int *sec)
{
    return sigv2_scan_num(s, 2, 2, h) && sigv2_scan_char(s, ':')
           && sigv2_scan_num(s, 2, 2, mi) && sigv2_scan_char(s, ':')
           && sigv2_scan_num(s, 2, 2, sec);
}

/* "GMT", "UTC", "UT", "Z" or +hhmm / -hhmm, to the end of the input; the
 * offset is east of UTC, in seconds. */
static int
sigv2_scan_zone(sigv2_scan_t *s, int *offset)
{
    size_t  n = (size_t) (s->end - s->p);
    int     v, sign;

    *offset = 0;
    if ((n == 3 && (memcmp(s->p, "GMT", 3) == 0 || memcmp(s->p, "UTC", 3) == 0))
        || (n == 2 && memcmp(s->p, "UT", 2) == 0)
        || (n == 1 && *s->p == 'Z'))
    {
        s->p = s->end;
        return 1;
    }
    if (n != 5 || (*s->p != '+' && *s->p != '-')) {
        return 0;
    }
    sign = *s->p++ == '-' ? -1 : 1;
    if (!sigv2_scan_num(s, 4, 4, &v) || v / 100 > 23 || v % 100 > 59) {
        return 0;
    }
    *offset = sign * (v / 100 * 3600 + v % 100 * 60);
    return 1;
}

static int
sigv2_civil(int y, int mo, int d, int h, int mi, int sec, int offset,
    int64_t *t)
{
    static const int  mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31};
    int               leap;

    if (y < 1 || y > 9999 || mo < 1 || mo > 12 || h > 23 || mi > 59
        || sec > 60)
    {
        return GW_EINVAL;
    }
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d < 1 || d > mdays[mo - 1] + (mo == 2 && leap)) {
        return GW_EINVAL;
    }
    *t = gw_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
         - offset;
    return GW_OK;
}

int
s3_sigv2_time_parse(gw_str_t str, int64_t *unix_seconds)
{
    sigv2_scan_t  s;
    const char   *comma;
    int           y, mo, d, h, mi, sec, offset = 0;

    str = sigv2_trim(str);
    s.p = str.base;
    s.end = str.base + str.len;
    if (str.len == 0) {
        return GW_EINVAL;
    }

    /* ISO 8601 basic, as SigV4's x-amz-date. */
    if (str.len == 16 && str.base[8] == 'T' && str.base[15] == 'Z') {
        if (!sigv2_scan_num(&s, 4, 4, &y) || !sigv2_scan_num(&s, 2, 2, &mo)
            || !sigv2_scan_num(&s, 2, 2, &d) || !sigv2_scan_char(&s, 'T')
            || !sigv2_scan_num(&s, 2, 2, &h) || !sigv2_scan_num(&s, 2, 2, &mi)
            || !sigv2_scan_num(&s, 2, 2, &sec))
        {
            return GW_EINVAL;
        }
        return sigv2_civil(y, mo, d, h, mi, sec, 0, unix_seconds);
    }

    comma = memchr(str.base, ',', str.len);
    if (comma != NULL) {
        s.p = comma + 1;
        sigv2_scan_spaces(&s);
    }

    if (s.p < s.end && *s.p >= '0' && *s.p <= '9') {
        if (!sigv2_scan_num(&s, 1, 2, &d)) {
            return GW_EINVAL;
        }
        if (sigv2_scan_char(&s, '-')) {
            /* RFC 850: 06-Nov-94 08:49:37 GMT */
            if (!sigv2_scan_month(&s, &mo) || !sigv2_scan_char(&s, '-')
                || !sigv2_scan_num(&s, 2, 2, &y) || !sigv2_scan_spaces(&s)
                || !sigv2_scan_hms(&s, &h, &mi, &sec)
                || !sigv2_scan_spaces(&s) || !sigv2_scan_zone(&s, &offset))
            {
                return GW_EINVAL;
            }
            y += y < 70 ? 2000 : 1900;
        } else {
            /* RFC 1123: 06 Nov 1994 08:49:37 GMT */
            if (!sigv2_scan_spaces(&s) || !sigv2_scan_month(&s, &mo)
                || !sigv2_scan_spaces(&s) || !sigv2_scan_num(&s, 4, 4, &y)
                || !sigv2_scan_spaces(&s)
                || !sigv2_scan_hms(&s, &h, &mi, &sec)
                || !sigv2_scan_spaces(&s) || !sigv2_scan_zone(&s, &offset))
            {
                return GW_EINVAL;
            }
        }
    } else if (comma == NULL) {
        /* asctime: Sun Nov  6 08:49:37 1994 */
        while (s.p < s.end && *s.p != ' ') {
            s.p++;
        }
        if (!sigv2_scan_spaces(&s) || !sigv2_scan_month(&s, &mo)
            || !sigv2_scan_spaces(&s) || !sigv2_scan_num(&s, 1, 2, &d)
            || !sigv2_scan_spaces(&s) || !sigv2_scan_hms(&s, &h, &mi, &sec)
            || !sigv2_scan_spaces(&s) || !sigv2_scan_num(&s, 4, 4, &y)
            || s.p != s.end)
        {
            return GW_EINVAL;
        }
    } else {
        return GW_EINVAL;
    }
    return sigv2_civil(y, mo, d, h, mi, sec, offset, unix_seconds);
}


/* ==== parsing ==== */

/* Strict base64 of exactly 20 bytes. */
static int
sigv2_signature(const char *s, size_t n, unsigned char out[S3_SIGV2_SIG_LEN])
{
    unsigned char  buf[S3_SIGV2_SIG_LEN];
    size_t         len;

    if (n != SIGV2_SIG_B64_LEN
        || gw_base64_decode(buf, sizeof(buf), &len, s, n) != GW_OK
        || len != S3_SIGV2_SIG_LEN)
    {
        return GW_EINVAL;
    }
    memcpy(out, buf, S3_SIGV2_SIG_LEN);
    return GW_OK;
}

int
s3_sigv2_parse_header(gw_str_t authorization, const s3_sigv2_input_t *in,
    s3_sigv2_auth_t *a)
{
    const char     *p, *end, *tok, *colon;
    const gw_kv_t  *h;
    size_t          i;

    memset(a, 0, sizeof(*a));
    if (authorization.base == NULL) {
        return GW_DECLINED;
    }
    p = authorization.base;
    end = p + authorization.len;
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    tok = p;
    while (p < end && *p != ' ' && *p != '\t') {
        p++;
    }
    if ((size_t) (p - tok) != sizeof(SIGV2_SCHEME) - 1
        || memcmp(tok, SIGV2_SCHEME, sizeof(SIGV2_SCHEME) - 1) != 0)
    {
        return GW_DECLINED;
    }

    /* "AccessKeyId:Signature", one token, blanks only around it. */
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    colon = memchr(p, ':', (size_t) (end - p));
    if (colon == NULL || colon == p) {
        return GW_EINVAL;
    }
    for (i = 0; i < (size_t) (colon - p); i++) {
        if ((unsigned char) p[i] <= ' ' || p[i] == 0x7f) {
            return GW_EINVAL;
        }
    }
    a->access_key.base = p;
    a->access_key.len = (size_t) (colon - p);
    if (sigv2_signature(colon + 1, (size_t) (end - colon - 1), a->signature)
        != GW_OK)
    {
        return GW_EINVAL;
    }

    /* x-amz-date wins over Date, and then the Date line is signed empty:
     * some HTTP libraries will not let the caller set Date. */
    h = sigv2_header(in, "x-amz-date", 10);
    if (h != NULL) {
        a->date = gw_str_lit("");
    } else {
        h = sigv2_header(in, "date", 4);
        if (h == NULL) {
            return GW_ENOTFOUND;
        }
        a->date = sigv2_trim(h->value);
    }
    if (s3_sigv2_time_parse(h->value, &a->time) != GW_OK) {
        return GW_ENOTFOUND;
    }
    return GW_OK;
}

enum {
    SIGV2_Q_ACCESS_KEY,
    SIGV2_Q_EXPIRES,
    SIGV2_Q_SIGNATURE,
    SIGV2_Q_N
};

static const char  *sigv2_query_names[SIGV2_Q_N] = {
    "AWSAccessKeyId", "Expires", "Signature"
};

int
s3_sigv2_parse_query(const s3_sigv2_input_t *in, s3_sigv2_auth_t *a)
{
    const char  *p, *end;
    gw_str_t     name, value, raw[SIGV2_Q_N];
    int          seen[SIGV2_Q_N] = {0}, has_value;
    char         dec[32], sig[3 * SIGV2_SIG_B64_LEN];
    size_t       n, k, used = 0;
    int64_t      t;

    memset(a, 0, sizeof(*a));
    memset(raw, 0, sizeof(raw));
    p = in->query.base;
    end = p + in->query.len;
    while ((p = sigv2_next_param(p, end, &name, &value, &has_value)) != NULL) {
        /* Our names are short; a longer raw name is not one of them. */
        if (name.len >= sizeof(dec)) {
            continue;
        }
        n = sigv2_unquote(name.base, name.len, dec, 1);
        for (k = 0; k < SIGV2_Q_N; k++) {
            if (strlen(sigv2_query_names[k]) == n
                && memcmp(sigv2_query_names[k], dec, n) == 0)
            {
                seen[k]++;
                raw[k] = value;
            }
        }
    }
    if (!seen[SIGV2_Q_ACCESS_KEY] && !seen[SIGV2_Q_SIGNATURE]) {
        return GW_DECLINED;
    }
    a->presigned = 1;
    for (k = 0; k < SIGV2_Q_N; k++) {
        if (seen[k] != 1 || raw[k].len == 0) {
            return GW_EINVAL;
        }
    }

    /* The decoded values are never longer than the raw ones. */
    if (raw[SIGV2_Q_ACCESS_KEY].len + raw[SIGV2_Q_EXPIRES].len
        > sizeof(a->_buf))
    {
        return GW_EINVAL;
    }
    n = sigv2_unquote(raw[SIGV2_Q_ACCESS_KEY].base,
                      raw[SIGV2_Q_ACCESS_KEY].len, a->_buf, 1);
    for (k = 0; k < n; k++) {
        if ((unsigned char) a->_buf[k] <= ' ' || a->_buf[k] == 0x7f) {
            return GW_EINVAL;
        }
    }
    a->access_key.base = a->_buf;
    a->access_key.len = n;
    used = n;

    n = sigv2_unquote(raw[SIGV2_Q_EXPIRES].base, raw[SIGV2_Q_EXPIRES].len,
                      a->_buf + used, 1);
    if (n > SIGV2_EXPIRES_MAX || !sigv2_is_digits(a->_buf + used, n)) {
        return GW_EINVAL;
    }
    a->date.base = a->_buf + used;
    a->date.len = n;
    for (k = 0, t = 0; k < n; k++) {
        t = t * 10 + (a->_buf[used + k] - '0');
    }
    a->expires = t;

    /* Base64 never holds a space, so a '+' the client forgot to encode can
     * only have meant '+'. */
    if (raw[SIGV2_Q_SIGNATURE].len > sizeof(sig)) {
        return GW_EINVAL;
    }
    n = sigv2_unquote(raw[SIGV2_Q_SIGNATURE].base, raw[SIGV2_Q_SIGNATURE].len,
                      sig, 0);
    if (sigv2_signature(sig, n, a->signature) != GW_OK) {
        return GW_EINVAL;
    }
    return GW_OK;
}


/* ==== the string to sign ==== */

int
s3_sigv2_subresource(const char *name, size_t n)
{
    size_t  i;

    for (i = 0; i < GW_NELEMS(sigv2_subresources); i++) {
        if (strlen(sigv2_subresources[i]) == n
            && memcmp(sigv2_subresources[i], name, n) == 0)
        {
            return 1;
        }
    }
    return 0;
}

static int
sigv2_str_cmp(gw_str_t a, gw_str_t b)
{
    int  c;

    c = memcmp(a.base, b.base, GW_MIN(a.len, b.len));
    if (c != 0) {
        return c;
    }
    return a.len < b.len ? -1 : a.len > b.len;
}

static int
sigv2_amz_cmp(const void *x, const void *y)
{
    const sigv2_amz_t  *a = x, *b = y;
    int                 c;

    c = sigv2_str_cmp(a->name, b->name);
    if (c != 0) {
        return c;
    }
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int
sigv2_sub_cmp(const void *x, const void *y)
{
    const sigv2_sub_t  *a = x, *b = y;
    int                 c;

    c = sigv2_str_cmp(a->name, b->name);
    if (c != 0) {
        return c;
    }
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Appends a value trimmed, with each run of blanks that holds a line break
 * (an obsolete folded header) turned into one space. Other inner blanks
 * stay: botocore signs the value as given, stripped at the ends only. */
static void
sigv2_put_value(gw_sb_t *sb, gw_str_t v)
{
    size_t  i, j;
    int     fold;

    v = sigv2_trim(v);
    for (i = 0; i < v.len; i = j) {
        if (!sigv2_is_blank((unsigned char) v.base[i])) {
            gw_sb_putc(sb, v.base[i]);
            j = i + 1;
            continue;
        }
        fold = 0;
        for (j = i; j < v.len && sigv2_is_blank((unsigned char) v.base[j]);
             j++)
        {
            fold |= v.base[j] == '\r' || v.base[j] == '\n';
        }
        if (fold) {
            gw_sb_putc(sb, ' ');
        } else {
            gw_sb_put(sb, v.base + i, j - i);
        }
    }
}

static void
sigv2_amz_headers(gw_sb_t *sb, const s3_sigv2_input_t *in,
    const s3_sigv2_auth_t *a)
{
    sigv2_amz_t  *e;
    char         *arena, *w;
    const char   *p, *end;
    gw_str_t      name, value;
    size_t        n = 0, i, k, cap = 1, maxe = 0;
    int           has_value;

    for (i = 0; i < in->nheaders; i++) {
        if (sigv2_is_amz(in->headers[i].name)) {
            maxe++;
            cap += in->headers[i].name.len;
        }
    }
    if (a->presigned) {
        for (i = 0; i < in->query.len; i++) {
            maxe += in->query.base[i] == '&';
        }
        maxe++;
        cap += in->query.len;
    }
    if (maxe == 0) {
        return;
    }
    e = gw_alloc(maxe * sizeof(*e));
    arena = gw_alloc(cap);
    w = arena;

    for (i = 0; i < in->nheaders; i++) {
        if (!sigv2_is_amz(in->headers[i].name)) {
            continue;
        }
        e[n].name.base = w;
        e[n].name.len = in->headers[i].name.len;
        for (k = 0; k < e[n].name.len; k++) {
            *w++ = (char) gw_ascii_lower((unsigned char)
                                         in->headers[i].name.base[k]);
        }
        e[n].value = in->headers[i].value;
        e[n].idx = n;
        n++;
    }

    /* botocore's presigned URLs carry the x-amz-* headers it signed as
     * query parameters (x-amz-acl, x-amz-security-token, metadata), since a
     * browser following the URL sends none. It writes the names lowercase;
     * matching only those keeps SigV4's X-Amz-* parameters out. */
    if (a->presigned) {
        p = in->query.base;
        end = p + in->query.len;
        while ((p = sigv2_next_param(p, end, &name, &value, &has_value))
               != NULL)
        {
            if (name.len < 6 || n == maxe) {
                continue;
            }
            e[n].name.base = w;
            e[n].name.len = sigv2_unquote(name.base, name.len, w, 1);
            if (e[n].name.len < 6 || memcmp(w, "x-amz-", 6) != 0) {
                continue;
            }
            for (k = 6; k < e[n].name.len; k++) {
                w[k] = (char) gw_ascii_lower((unsigned char) w[k]);
            }
            w += e[n].name.len;
            e[n].value.base = w;
            e[n].value.len = sigv2_unquote(value.base, value.len, w, 1);
            w += e[n].value.len;
            e[n].idx = n;
            n++;
        }
    }

    qsort(e, n, sizeof(*e), sigv2_amz_cmp);
    for (i = 0; i < n; i++) {
        if (i > 0 && sigv2_str_cmp(e[i].name, e[i - 1].name) == 0) {
            gw_sb_putc(sb, ',');
        } else {
            if (i > 0) {
                gw_sb_putc(sb, '\n');
            }
            gw_sb_put(sb, e[i].name.base, e[i].name.len);
            gw_sb_putc(sb, ':');
        }
        sigv2_put_value(sb, e[i].value);
    }
    if (n > 0) {
        gw_sb_putc(sb, '\n');
    }
    gw_free(e);
    gw_free(arena);
}

/* A path-style request on a bucket itself: "/name", one segment. */
static int
sigv2_bucket_only(const s3_sigv2_input_t *in)
{
    return in->bucket.len == 0 && in->path.len > 1 && in->path.base[0] == '/'
           && memchr(in->path.base + 1, '/', in->path.len - 1) == NULL;
}

/* literal: sign a path-style bucket request's "/name" as sent rather than
 * as "/name/" (see s3_sigv2_string_to_sign). */
static void
sigv2_resource(gw_sb_t *sb, const s3_sigv2_input_t *in, int literal)
{
    sigv2_sub_t  *s = NULL;
    const char   *p, *end;
    char         *dec = NULL;
    gw_str_t      name, value;
    size_t        n = 0, i, maxs = 1, dlen;
    int           has_value;

    if (in->bucket.len > 0) {
        gw_sb_putc(sb, '/');
        gw_sb_put(sb, in->bucket.base, in->bucket.len);
    }
    if (in->path.len > 0) {
        gw_sb_put(sb, in->path.base, in->path.len);
    } else {
        gw_sb_putc(sb, '/');
    }
    if (!literal && sigv2_bucket_only(in)) {
        gw_sb_putc(sb, '/');
    }
    if (in->query.len == 0) {
        return;
    }

    for (i = 0; i < in->query.len; i++) {
        maxs += in->query.base[i] == '&';
    }
    s = gw_alloc(maxs * sizeof(*s));
    p = in->query.base;
    end = p + in->query.len;
    while ((p = sigv2_next_param(p, end, &name, &value, &has_value)) != NULL) {
        /* botocore compares the raw name, before any decoding. */
        if (n < maxs && s3_sigv2_subresource(name.base, name.len)) {
            s[n].name = name;
            s[n].value = value;
            s[n].has_value = has_value;
            s[n].idx = n;
            n++;
        }
    }
    if (n == 0) {
        goto done;
    }
    qsort(s, n, sizeof(*s), sigv2_sub_cmp);
    dec = gw_alloc(in->query.len);
    for (i = 0; i < n; i++) {
        gw_sb_putc(sb, i == 0 ? '?' : '&');
        gw_sb_put(sb, s[i].name.base, s[i].name.len);
        if (s[i].has_value) {
            gw_sb_putc(sb, '=');
            dlen = sigv2_unquote(s[i].value.base, s[i].value.len, dec, 0);
            gw_sb_put(sb, dec, dlen);
        }
    }

done:
    gw_free(s);
    gw_free(dec);
}

static char *
sigv2_string_to_sign(const s3_sigv2_input_t *in, const s3_sigv2_auth_t *a,
    int literal, size_t *len)
{
    gw_sb_t      sb = {NULL, 0, 0};
    const gw_kv_t  *h;
    gw_str_t        v;

    gw_sb_put(&sb, in->method.base, in->method.len);
    gw_sb_putc(&sb, '\n');
    h = sigv2_header(in, "content-md5", 11);
    if (h != NULL) {
        v = sigv2_trim(h->value);
        gw_sb_put(&sb, v.base, v.len);
    }
    gw_sb_putc(&sb, '\n');
    h = sigv2_header(in, "content-type", 12);
    if (h != NULL) {
        v = sigv2_trim(h->value);
        gw_sb_put(&sb, v.base, v.len);
    }
    gw_sb_putc(&sb, '\n');
    gw_sb_put(&sb, a->date.base, a->date.len);
    gw_sb_putc(&sb, '\n');
    sigv2_amz_headers(&sb, in, a);
    sigv2_resource(&sb, in, literal);
    if (len != NULL) {
        *len = sb.len;
    }
    return sb.p;
}

char *
s3_sigv2_string_to_sign(const s3_sigv2_input_t *in, const s3_sigv2_auth_t *a,
    size_t *len)
{
    return sigv2_string_to_sign(in, a, 0, len);
}

int
s3_sigv2_verify(const s3_sigv2_input_t *in, const s3_sigv2_auth_t *a,
    const char *secret, char **sts_out)
{
    unsigned char  mac[S3_SIGV2_SIG_LEN];
    char          *sts, *alt;
    size_t         n;
    int            rc;

    sts = sigv2_string_to_sign(in, a, 0, &n);
    s3_sigv2_hmac(secret, sts, n, mac);
    rc = CRYPTO_memcmp(mac, a->signature, S3_SIGV2_SIG_LEN) == 0
         ? GW_OK : GW_ECHECKSUM;
    /* Signers that take the path as sent sign a path-style "/name" as it
     * is; both forms name the same bucket, so either signature proves the
     * same request. */
    if (rc != GW_OK && sigv2_bucket_only(in)) {
        alt = sigv2_string_to_sign(in, a, 1, &n);
        s3_sigv2_hmac(secret, alt, n, mac);
        rc = CRYPTO_memcmp(mac, a->signature, S3_SIGV2_SIG_LEN) == 0
             ? GW_OK : GW_ECHECKSUM;
        gw_free(alt);
    }
    /* The right signature of this request is as good as a credential for
     * it until it expires; do not leave it on the stack. */
    OPENSSL_cleanse(mac, sizeof(mac));
    if (sts_out != NULL) {
        *sts_out = sts;
    } else {
        gw_free(sts);
    }
    return rc;
}
