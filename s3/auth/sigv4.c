/* s3/auth/sigv4.c: AWS Signature Version 4 for S3, checked the way S3
 * checks it. Everything here is a pure function of its arguments; see s3/auth/sigv4.h. */
#include "s3/auth/sigv4.h"
#include "core/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>

#define SIGV4_ALGORITHM     "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR    "aws4_request"
#define SIGV4_EMPTY_SHA256 \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_UNSIGNED      "UNSIGNED-PAYLOAD"
#define SIGV4_EXPIRES_MAX   604800

/* One query parameter of the canonical query string, already re-encoded. */
typedef struct {
    const char  *name;
    const char  *value;
} sigv4_param_t;

/* ==== small helpers ==== */

/* A signature is exactly 64 hex digits; anything else is malformed. */
static int
sigv4_unhex32(const char *s, size_t n, unsigned char out[32])
{
    return n == 64 ? gw_hex_decode(out, s, 64) : GW_EINVAL;
}

static int
sigv4_is_digits(const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

static gw_str_t
sigv4_trim(gw_str_t s)
{
    while (s.len > 0 && (s.base[0] == ' ' || s.base[0] == '\t')) {
        s.base++;
        s.len--;
    }
    while (s.len > 0
           && (s.base[s.len - 1] == ' ' || s.base[s.len - 1] == '\t'))
    {
        s.len--;
    }
    return s;
}

/* The first header called name (names in the input are lowercase). */
static const gw_kv_t *
sigv4_header(const s3_sigv4_input_t *in, const char *name)
{
    size_t  i, n = strlen(name);

    for (i = 0; i < in->nheaders; i++) {
        if (gw_ascii_ieq(in->headers[i].name.base, in->headers[i].name.len,
                      name, n))
        {
            return &in->headers[i];
        }
    }
    return NULL;
}


/* ==== URI encoding ==== */


/* ==== time ==== */

static int
sigv4_num(const char *s, size_t n)
{
    int     v = 0;
    size_t  i;

    for (i = 0; i < n; i++) {
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int
s3_sigv4_time_parse(const char amz_date[16], int64_t *unix_seconds)
{
    static const int  mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31};
    int               y, mo, d, h, mi, s, leap, dim;

    if (!sigv4_is_digits(amz_date, 8) || amz_date[8] != 'T'
        || !sigv4_is_digits(amz_date + 9, 6) || amz_date[15] != 'Z')
    {
        return GW_EINVAL;
    }
    y = sigv4_num(amz_date, 4);
    mo = sigv4_num(amz_date + 4, 2);
    d = sigv4_num(amz_date + 6, 2);
    h = sigv4_num(amz_date + 9, 2);
    mi = sigv4_num(amz_date + 11, 2);
    s = sigv4_num(amz_date + 13, 2);
    if (y < 1 || mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) {
        return GW_EINVAL;
    }
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    dim = mdays[mo - 1] + (mo == 2 && leap);
    if (d < 1 || d > dim) {
        return GW_EINVAL;
    }
    *unix_seconds = gw_days_from_civil(y, mo, d) * 86400
                    + h * 3600 + mi * 60 + s;
    return GW_OK;
}

/* Converts an RFC 1123 date ("Fri, 24 May 2013 00:00:00 GMT") into
 * YYYYMMDDTHHMMSSZ. S3 accepts the Date header in place of x-amz-date; the
 * weekday is optional here because it carries no information. */
static int
sigv4_date_from_http(gw_str_t v, char out[17])
{
    static const char  months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char        *p = v.base, *end = v.base + v.len, *q;
    int                day, mon = -1, i;
    int64_t            t;

    q = memchr(p, ',', v.len);
    if (q != NULL) {
        p = q + 1;
    }
    while (p < end && *p == ' ') {
        p++;
    }
    /* "DD Mon YYYY HH:MM:SS GMT" with a 1- or 2-digit day */
    if (end - p >= 2 && p[0] >= '0' && p[0] <= '9' && p[1] == ' ') {
        day = p[0] - '0';
        p += 2;
    } else if (end - p >= 3 && sigv4_is_digits(p, 2) && p[2] == ' ') {
        day = sigv4_num(p, 2);
        p += 3;
    } else {
        return GW_EINVAL;
    }
    if (end - p < 21) {
        return GW_EINVAL;
    }
    for (i = 0; i < 12; i++) {
        if (memcmp(p, months + 3 * i, 3) == 0) {
            mon = i + 1;
        }
    }
    if (mon < 0 || p[3] != ' ' || !sigv4_is_digits(p + 4, 4) || p[8] != ' '
        || !sigv4_is_digits(p + 9, 2) || p[11] != ':'
        || !sigv4_is_digits(p + 12, 2) || p[14] != ':'
        || !sigv4_is_digits(p + 15, 2) || p[17] != ' ')
    {
        return GW_EINVAL;
    }
    q = p + 18;
    if (!((end - q == 3 && memcmp(q, "GMT", 3) == 0)
          || (end - q == 3 && memcmp(q, "UTC", 3) == 0)))
    {
        return GW_EINVAL;
    }
    memcpy(out, p + 4, 4);
    out[4] = (char) ('0' + mon / 10);
    out[5] = (char) ('0' + mon % 10);
    out[6] = (char) ('0' + day / 10);
    out[7] = (char) ('0' + day % 10);
    out[8] = 'T';
    memcpy(out + 9, p + 9, 2);
    memcpy(out + 11, p + 12, 2);
    memcpy(out + 13, p + 15, 2);
    out[15] = 'Z';
    out[16] = '\0';
    return s3_sigv4_time_parse(out, &t);
}


/* ==== parsing ==== */

/* Splits "AK/20130524/us-east-1/s3/aws4_request" from the right, so that
 * only the four scope fields are constrained and the access key is whatever
 * precedes them. */
int
s3_sigv4_parse_credential(gw_str_t v, s3_sigv4_auth_t *a)
{
    const char  *slash[4];
    size_t       i, k = 0;

    for (i = v.len; i > 0 && k < 4; i--) {
        if (v.base[i - 1] == '/') {
            slash[k++] = v.base + i - 1;
        }
    }
    if (k < 4) {
        return GW_EINVAL;
    }
    /* slash[3] ends the access key; slash[2] the date; slash[1] the region;
     * slash[0] the service. */
    a->access_key.base = v.base;
    a->access_key.len = (size_t) (slash[3] - v.base);
    if (slash[2] - slash[3] - 1 != 8 || !sigv4_is_digits(slash[3] + 1, 8)) {
        return GW_EINVAL;
    }
    memcpy(a->date, slash[3] + 1, 8);
    a->date[8] = '\0';
    a->region.base = slash[2] + 1;
    a->region.len = (size_t) (slash[1] - slash[2] - 1);
    a->service.base = slash[1] + 1;
    a->service.len = (size_t) (slash[0] - slash[1] - 1);
    if ((size_t) (v.base + v.len - slash[0] - 1) != sizeof(SIGV4_TERMINATOR) - 1
        || memcmp(slash[0] + 1, SIGV4_TERMINATOR,
                  sizeof(SIGV4_TERMINATOR) - 1) != 0)
    {
        return GW_EINVAL;
    }
    if (a->access_key.len == 0 || a->region.len == 0 || a->service.len == 0) {
        return GW_EINVAL;
    }
    return GW_OK;
}

/* SignedHeaders must name at least one header and no empty ones; the names
 * themselves are checked against the request in verify. */
static int
sigv4_check_signed_headers(gw_str_t v)
{
    size_t  i, run = 0;

    if (v.len == 0) {
        return GW_EINVAL;
    }
    for (i = 0; i < v.len; i++) {
        if (v.base[i] == ';') {
            if (run == 0) {
                return GW_EINVAL;
            }
            run = 0;
        } else if ((unsigned char) v.base[i] <= ' '
                   || (unsigned char) v.base[i] >= 0x7f || v.base[i] == ':')
        {
            return GW_EINVAL;
        } else {
            run++;
        }
    }
    return run == 0 ? GW_EINVAL : GW_OK;
}

static int
sigv4_is_sep(char c)
{
    return c == ' ' || c == '\t' || c == ',' || c == '\r' || c == '\n';
}

/* ==== parsing: steps both forms share ==== */

/* Takes a 16-char YYYYMMDDTHHMMSSZ (x-amz-date or X-Amz-Date) as the
 * request's date. */
static int
sigv4_set_amz_date(s3_sigv4_auth_t *a, gw_str_t v)
{
    int64_t  t;

    if (v.len != 16) {
        return GW_EINVAL;
    }
    memcpy(a->amz_date, v.base, 16);
    a->amz_date[16] = '\0';
    if (s3_sigv4_time_parse(a->amz_date, &t) != GW_OK) {
        return GW_EINVAL;
    }
    return GW_OK;
}

/* The credential scope must be for the day the request says it was made. */
static int
sigv4_check_scope_date(const s3_sigv4_auth_t *a)
{
    return memcmp(a->amz_date, a->date, 8) == 0 ? GW_OK : GW_EINVAL;
}

/* The x-amz-content-sha256 header as sent, else dflt: the two forms differ
 * in what an absent header means. */
static gw_str_t
sigv4_payload_hash_header(const s3_sigv4_input_t *in, gw_str_t dflt)
{
    const gw_kv_t  *h = sigv4_header(in, "x-amz-content-sha256");

    return h != NULL ? sigv4_trim(h->value) : dflt;
}

/* ==== parsing: the Authorization header ==== */

#define SIGV4_H_CREDENTIAL      0x1
#define SIGV4_H_SIGNED_HEADERS  0x2
#define SIGV4_H_SIGNATURE       0x4
#define SIGV4_H_ALL             0x7

/* Moves *p past the scheme: GW_OK for AWS4-HMAC-SHA256, GW_DECLINED for any
 * other, which another scheme's parser may take. */
static int
sigv4_header_scheme(const char **p, const char *end)
{
    const char  *tok;

    while (*p < end && (**p == ' ' || **p == '\t')) {
        (*p)++;
    }
    tok = *p;
    while (*p < end && **p != ' ' && **p != '\t') {
        (*p)++;
    }
    if ((size_t) (*p - tok) != sizeof(SIGV4_ALGORITHM) - 1
        || memcmp(tok, SIGV4_ALGORITHM, sizeof(SIGV4_ALGORITHM) - 1) != 0)
    {
        return GW_DECLINED;
    }
    return GW_OK;
}

/* Each component may appear once: 1 the first time bit is seen, else 0. */
static int
sigv4_header_once(unsigned *seen, unsigned bit)
{
    if (*seen & bit) {
        return 0;
    }
    *seen |= bit;
    return 1;
}

/* One Name=value component; *seen has a bit per component. */
static int
sigv4_header_field(gw_str_t name, gw_str_t value, s3_sigv4_auth_t *a,
    unsigned *seen)
{
    if (gw_ascii_ieq(name.base, name.len, "Credential", 10)) {
        if (!sigv4_header_once(seen, SIGV4_H_CREDENTIAL)
            || s3_sigv4_parse_credential(value, a) != GW_OK)
        {
            return GW_EINVAL;
        }
    } else if (gw_ascii_ieq(name.base, name.len, "SignedHeaders", 13)) {
        if (!sigv4_header_once(seen, SIGV4_H_SIGNED_HEADERS)
            || sigv4_check_signed_headers(value) != GW_OK)
        {
            return GW_EINVAL;
        }
        a->signed_headers = value;
    } else if (gw_ascii_ieq(name.base, name.len, "Signature", 9)) {
        if (!sigv4_header_once(seen, SIGV4_H_SIGNATURE)
            || sigv4_unhex32(value.base, value.len, a->signature) != GW_OK)
        {
            return GW_EINVAL;
        }
    } else {
        return GW_EINVAL;
    }
    return GW_OK;
}

/* The components after the scheme, in any order, separated by commas
 * and/or spaces; all three must be there. */
static int
sigv4_header_fields(const char *p, const char *end, s3_sigv4_auth_t *a)
{
    const char  *tok, *eq;
    gw_str_t     name, value;
    unsigned     seen = 0;

    for ( ;; ) {
        while (p < end && sigv4_is_sep(*p)) {
            p++;
        }
        if (p == end) {
            break;
        }
        tok = p;
        while (p < end && !sigv4_is_sep(*p)) {
            p++;
        }
        eq = memchr(tok, '=', (size_t) (p - tok));
        if (eq == NULL) {
            return GW_EINVAL;
        }
        name.base = tok;
        name.len = (size_t) (eq - tok);
        value.base = eq + 1;
        value.len = (size_t) (p - eq - 1);
        if (sigv4_header_field(name, value, a, &seen) != GW_OK) {
            return GW_EINVAL;
        }
    }
    return seen == SIGV4_H_ALL ? GW_OK : GW_EINVAL;
}

/* The request's date: x-amz-date, else the Date header converted. */
static int
sigv4_header_date(const s3_sigv4_input_t *in, s3_sigv4_auth_t *a)
{
    const gw_kv_t  *h;

    h = sigv4_header(in, "x-amz-date");
    if (h != NULL) {
        return sigv4_set_amz_date(a, sigv4_trim(h->value));
    }
    h = sigv4_header(in, "date");
    if (h == NULL
        || sigv4_date_from_http(sigv4_trim(h->value), a->amz_date) != GW_OK)
    {
        return GW_EINVAL;
    }
    return GW_OK;
}

int
s3_sigv4_parse_header(gw_str_t authorization, const s3_sigv4_input_t *in,
    s3_sigv4_auth_t *a)
{
    const char  *p = authorization.base;
    const char  *end = authorization.base + authorization.len;

    memset(a, 0, sizeof(*a));
    if (p == NULL || sigv4_header_scheme(&p, end) != GW_OK) {
        return GW_DECLINED;
    }
    if (sigv4_header_fields(p, end, a) != GW_OK
        || sigv4_header_date(in, a) != GW_OK
        || sigv4_check_scope_date(a) != GW_OK)
    {
        return GW_EINVAL;
    }
    /* Left empty when absent, so that the S3 layer can tell; verify then
     * signs the hash of an empty body. */
    a->payload_hash = sigv4_payload_hash_header(in, gw_str_lit(""));
    return GW_OK;
}

/* ==== parsing: presigned query parameters ==== */

/* Copies the decoded value into a->_buf. Presigned parameters arrive
 * percent-encoded (the credential's slashes are %2F, the header list's
 * semicolons %3B), so unlike the header form they cannot be views into the
 * input. */
static int
sigv4_query_value(s3_sigv4_auth_t *a, size_t *used, gw_str_t raw,
    gw_str_t *out)
{
    size_t  n;

    if (raw.len > sizeof(a->_buf) - *used) {
        return GW_EINVAL;
    }
    if (s3_uri_decode(raw.base, raw.len, a->_buf + *used, &n, 1) != GW_OK) {
        return GW_EINVAL;
    }
    out->base = a->_buf + *used;
    out->len = n;
    *used += n;
    return GW_OK;
}

/* The short parameters (algorithm, date, expiry, signature) decode into a
 * stack buffer of this size; a longer one is malformed. */
#define SIGV4_Q_SHORT  80

static int
sigv4_query_short(gw_str_t raw, char tmp[SIGV4_Q_SHORT], size_t *n)
{
    if (raw.len >= SIGV4_Q_SHORT
        || s3_uri_decode(raw.base, raw.len, tmp, n, 1) != GW_OK)
    {
        return GW_EINVAL;
    }
    return GW_OK;
}

enum {
    SIGV4_Q_ALGORITHM,
    SIGV4_Q_CREDENTIAL,
    SIGV4_Q_DATE,
    SIGV4_Q_EXPIRES,
    SIGV4_Q_SIGNED_HEADERS,
    SIGV4_Q_SIGNATURE,
    SIGV4_Q_CONTENT_SHA256,
    SIGV4_Q_N
};

static const char  *sigv4_query_names[SIGV4_Q_N] = {
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Content-Sha256"
};

/* Finds our parameters in the query: raw[k] gets the still-encoded value of
 * sigv4_query_names[k] and seen[k] is set. GW_EINVAL when one is there
 * twice. */
static int
sigv4_query_collect(gw_str_t query, gw_str_t raw[SIGV4_Q_N],
    int seen[SIGV4_Q_N])
{
    const char  *p = query.base, *end = query.base + query.len;
    const char  *amp, *eq;
    char         name[32];
    size_t       n, k;

    while (p != NULL && p < end) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }
        eq = memchr(p, '=', (size_t) (amp - p));
        if (eq == NULL) {
            eq = amp;
        }
        /* Our parameter names are short; a longer raw name is not ours. */
        if ((size_t) (eq - p) < sizeof(name)
            && s3_uri_decode(p, (size_t) (eq - p), name, &n, 1) == GW_OK)
        {
            for (k = 0; k < SIGV4_Q_N; k++) {
                if (strlen(sigv4_query_names[k]) == n
                    && memcmp(sigv4_query_names[k], name, n) == 0)
                {
                    if (seen[k]++) {
                        return GW_EINVAL;
                    }
                    raw[k].base = eq < amp ? eq + 1 : eq;
                    raw[k].len = (size_t) (amp - raw[k].base);
                }
            }
        }
        p = amp + 1;
    }
    return GW_OK;
}

static int
sigv4_query_algorithm(gw_str_t raw)
{
    char    tmp[SIGV4_Q_SHORT];
    size_t  n;

    if (sigv4_query_short(raw, tmp, &n) != GW_OK
        || n != sizeof(SIGV4_ALGORITHM) - 1
        || memcmp(tmp, SIGV4_ALGORITHM, n) != 0)
    {
        return GW_EINVAL;
    }
    return GW_OK;
}

static int
sigv4_query_date(gw_str_t raw, s3_sigv4_auth_t *a)
{
    char    tmp[SIGV4_Q_SHORT];
    size_t  n;

    if (sigv4_query_short(raw, tmp, &n) != GW_OK) {
        return GW_EINVAL;
    }
    return sigv4_set_amz_date(a, (gw_str_t) { tmp, n });
}

/* X-Amz-Expires: whole seconds, 1 to 7 days. */
static int
sigv4_query_expires(gw_str_t raw, s3_sigv4_auth_t *a)
{
    char    tmp[SIGV4_Q_SHORT];
    size_t  n;

    if (sigv4_query_short(raw, tmp, &n) != GW_OK
        || n == 0 || n > 7 || !sigv4_is_digits(tmp, n))
    {
        return GW_EINVAL;
    }
    a->expires = sigv4_num(tmp, n);
    if (a->expires < 1 || a->expires > SIGV4_EXPIRES_MAX) {
        return GW_EINVAL;
    }
    return GW_OK;
}

static int
sigv4_query_signature(gw_str_t raw, s3_sigv4_auth_t *a)
{
    char    tmp[SIGV4_Q_SHORT];
    size_t  n;

    if (sigv4_query_short(raw, tmp, &n) != GW_OK
        || sigv4_unhex32(tmp, n, a->signature) != GW_OK)
    {
        return GW_EINVAL;
    }
    return GW_OK;
}

int
s3_sigv4_parse_query(const s3_sigv4_input_t *in, s3_sigv4_auth_t *a)
{
    gw_str_t  raw[SIGV4_Q_N], v;
    int       seen[SIGV4_Q_N] = {0};
    size_t    used = 0, k;

    memset(a, 0, sizeof(*a));
    memset(raw, 0, sizeof(raw));
    if (sigv4_query_collect(in->query, raw, seen) != GW_OK) {
        return GW_EINVAL;
    }
    if (!seen[SIGV4_Q_ALGORITHM]) {
        return GW_DECLINED;
    }
    a->presigned = 1;
    for (k = 0; k < SIGV4_Q_CONTENT_SHA256; k++) {
        if (!seen[k]) {
            return GW_EINVAL;
        }
    }

    if (sigv4_query_algorithm(raw[SIGV4_Q_ALGORITHM]) != GW_OK
        || sigv4_query_date(raw[SIGV4_Q_DATE], a) != GW_OK
        || sigv4_query_expires(raw[SIGV4_Q_EXPIRES], a) != GW_OK
        || sigv4_query_signature(raw[SIGV4_Q_SIGNATURE], a) != GW_OK
        || sigv4_query_value(a, &used, raw[SIGV4_Q_CREDENTIAL], &v) != GW_OK
        || s3_sigv4_parse_credential(v, a) != GW_OK
        || sigv4_query_value(a, &used, raw[SIGV4_Q_SIGNED_HEADERS],
                             &a->signed_headers) != GW_OK
        || sigv4_check_signed_headers(a->signed_headers) != GW_OK
        || sigv4_check_scope_date(a) != GW_OK)
    {
        return GW_EINVAL;
    }

    if (seen[SIGV4_Q_CONTENT_SHA256]) {
        if (sigv4_query_value(a, &used, raw[SIGV4_Q_CONTENT_SHA256],
                              &a->payload_hash) != GW_OK)
        {
            return GW_EINVAL;
        }
    } else {
        a->payload_hash = sigv4_payload_hash_header(in,
                                                gw_str_lit(SIGV4_UNSIGNED));
    }
    return GW_OK;
}


/* ==== canonical request ==== */

/* S3 does not normalise the path and does not double-encode it: each
 * segment between raw slashes is decoded and encoded again, so "%2F" inside
 * a segment stays "%2F" while "%7E" and "~" both become "~". */
static int
sigv4_canonical_uri(gw_sb_t *sb, gw_str_t path)
{
    char    *dec, *enc;
    size_t   i, start, n;
    int      rc = GW_OK;

    if (path.len == 0) {
        gw_sb_putc(sb, '/');
        return GW_OK;
    }
    dec = gw_alloc(path.len);
    enc = gw_alloc(3 * path.len + 1);
    start = 0;
    for (i = 0; i <= path.len; i++) {
        if (i < path.len && path.base[i] != '/') {
            continue;
        }
        if (s3_uri_decode(path.base + start, i - start, dec, &n, 0) != GW_OK) {
            rc = GW_EINVAL;
            goto done;
        }
        n = s3_uri_encode(dec, n, enc, 0);
        gw_sb_put(sb, enc, n);
        if (i < path.len) {
            gw_sb_putc(sb, '/');
        }
        start = i + 1;
    }

done:
    gw_free(dec);
    gw_free(enc);
    return rc;
}

static int
sigv4_param_cmp(const void *x, const void *y)
{
    const sigv4_param_t  *a = x, *b = y;
    int                   c;

    c = strcmp(a->name, b->name);
    return c != 0 ? c : strcmp(a->value, b->value);
}

/* Every parameter is decoded ('+' as space, as form encoding has it) and
 * encoded again by the AWS rules, then sorted by name and value. Re-encoded
 * strings never contain NUL (it becomes %00), so strcmp orders them
 * byte-wise as AWS does. */
static int
sigv4_canonical_query(gw_sb_t *sb, gw_str_t query, int presigned)
{
    sigv4_param_t  *params = NULL;
    const char     *p, *end, *amp, *eq;
    char           *arena = NULL, *dec = NULL, *w;
    size_t          np = 0, maxp = 1, i, n;
    int             rc = GW_OK;

    if (query.len == 0) {
        return GW_OK;
    }
    for (i = 0; i < query.len; i++) {
        maxp += query.base[i] == '&';
    }
    params = gw_alloc(maxp * sizeof(*params));
    /* Each raw byte grows to at most 3, plus a NUL per name and value. */
    arena = gw_alloc(3 * query.len + 2 * maxp + 1);
    dec = gw_alloc(query.len + 1);
    w = arena;

    p = query.base;
    end = query.base + query.len;
    while (p < end) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }
        if (amp == p) {
            p = amp + 1;
            continue;
        }
        eq = memchr(p, '=', (size_t) (amp - p));
        if (eq == NULL) {
            eq = amp;
        }
        if (s3_uri_decode(p, (size_t) (eq - p), dec, &n, 1) != GW_OK) {
            rc = GW_EINVAL;
            goto done;
        }
        if (presigned && n == 15 && memcmp(dec, "X-Amz-Signature", 15) == 0) {
            p = amp + 1;
            continue;
        }
        params[np].name = w;
        w += s3_uri_encode(dec, n, w, 0) + 1;
        if (eq < amp) {
            if (s3_uri_decode(eq + 1, (size_t) (amp - eq - 1), dec, &n, 1)
                != GW_OK)
            {
                rc = GW_EINVAL;
                goto done;
            }
        } else {
            n = 0;
        }
        params[np].value = w;
        w += s3_uri_encode(dec, n, w, 0) + 1;
        np++;
        p = amp + 1;
    }

    qsort(params, np, sizeof(*params), sigv4_param_cmp);
    for (i = 0; i < np; i++) {
        if (i > 0) {
            gw_sb_putc(sb, '&');
        }
        gw_sb_put(sb, params[i].name, strlen(params[i].name));
        gw_sb_putc(sb, '=');
        gw_sb_put(sb, params[i].value, strlen(params[i].value));
    }

done:
    gw_free(params);
    gw_free(arena);
    gw_free(dec);
    return rc;
}

/* Appends a header value trimmed, with each inner run of blanks collapsed to
 * one space (what the AWS SDKs do before signing). */
static void
sigv4_put_value(gw_sb_t *sb, gw_str_t v)
{
    size_t  i;
    int     blank = 0;

    v = sigv4_trim(v);
    for (i = 0; i < v.len; i++) {
        if (v.base[i] == ' ' || v.base[i] == '\t') {
            blank = 1;
            continue;
        }
        if (blank) {
            gw_sb_putc(sb, ' ');
            blank = 0;
        }
        gw_sb_putc(sb, v.base[i]);
    }
}

/* One "name:value\n" line per signed header, in the order of SignedHeaders
 * (which the client sorted when it signed). Repeated headers are joined
 * with ','. A signed header the request lacks sets *missing: the request
 * cannot match, but the canonical request is still built so that the error
 * body can show it. */
static int
sigv4_canonical_headers(gw_sb_t *sb, const s3_sigv4_input_t *in,
    gw_str_t list, int *missing)
{
    size_t  i, j, start = 0, k;
    int     found;

    for (i = 0; i <= list.len; i++) {
        if (i < list.len && list.base[i] != ';') {
            continue;
        }
        if (i == start) {
            return GW_EINVAL;
        }
        for (k = start; k < i; k++) {
            gw_sb_putc(sb, (char) gw_ascii_lower((unsigned char) list.base[k]));
        }
        gw_sb_putc(sb, ':');
        found = 0;
        for (j = 0; j < in->nheaders; j++) {
            if (!gw_ascii_ieq(in->headers[j].name.base, in->headers[j].name.len,
                           list.base + start, i - start))
            {
                continue;
            }
            if (found++) {
                gw_sb_putc(sb, ',');
            }
            sigv4_put_value(sb, in->headers[j].value);
        }
        if (!found) {
            *missing = 1;
        }
        gw_sb_putc(sb, '\n');
        start = i + 1;
    }
    return GW_OK;
}


/* ==== signing ==== */

/* A signing key changes once a day per secret, region and service, and
 * deriving one costs four HMACs, as much as checking the signature itself;
 * so the last ones derived are kept, direct-mapped by a hash of the inputs.
 * An entry serves only inputs equal to its own byte for byte. The mutex
 * costs nothing on the loop thread, which does all signing today, and keeps
 * the function safe to call from anywhere. */
#define SIGV4_KEYS           64
#define SIGV4_KEY_INPUT_MAX  256

typedef struct {
    size_t         len;                       /* of in; 0: empty */
    char           in[SIGV4_KEY_INPUT_MAX];   /* secret 0 date 0 region 0
                                               * service */
    unsigned char  key[32];
} sigv4_key_t;

static sigv4_key_t      sigv4_keys[SIGV4_KEYS];
static pthread_mutex_t  sigv4_keys_lock = PTHREAD_MUTEX_INITIALIZER;

static void
sigv4_signing_key_derive(const char *secret, size_t slen, const char date[8],
    gw_str_t region, gw_str_t service, unsigned char key[32])
{
    unsigned char  k[32];
    char          *s;

    s = gw_alloc(slen + 4);
    memcpy(s, "AWS4", 4);
    memcpy(s + 4, secret, slen);
    gw_hmac_sha256(s, slen + 4, date, 8, k);
    OPENSSL_cleanse(s, slen + 4);
    gw_free(s);
    gw_hmac_sha256(k, 32, region.base, region.len, k);
    gw_hmac_sha256(k, 32, service.base, service.len, k);
    gw_hmac_sha256(k, 32, SIGV4_TERMINATOR, sizeof(SIGV4_TERMINATOR) - 1,
                   key);
    OPENSSL_cleanse(k, sizeof(k));
}

void
s3_sigv4_signing_key(const char *secret, const char date[8],
    gw_str_t region, gw_str_t service, unsigned char key[32])
{
    sigv4_key_t  *e;
    char          in[SIGV4_KEY_INPUT_MAX];
    size_t        slen = strlen(secret), len, i;
    uint32_t      h = 2166136261u;          /* FNV-1a */

    len = slen + 1 + 8 + 1 + region.len + 1 + service.len;
    if (len > sizeof(in)) {
        sigv4_signing_key_derive(secret, slen, date, region, service, key);
        return;
    }
    memcpy(in, secret, slen);
    in[slen] = '\0';
    memcpy(in + slen + 1, date, 8);
    in[slen + 9] = '\0';
    memcpy(in + slen + 10, region.base, region.len);
    in[slen + 10 + region.len] = '\0';
    memcpy(in + slen + 11 + region.len, service.base, service.len);
    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char) in[i]) * 16777619u;
    }
    e = &sigv4_keys[h % SIGV4_KEYS];

    pthread_mutex_lock(&sigv4_keys_lock);
    if (e->len != len || memcmp(e->in, in, len) != 0) {
        sigv4_signing_key_derive(secret, slen, date, region, service, e->key);
        memcpy(e->in, in, len);
        e->len = len;
    }
    memcpy(key, e->key, 32);
    pthread_mutex_unlock(&sigv4_keys_lock);
    OPENSSL_cleanse(in, len);
}

void
s3_sigv4_post_signature(const char *secret, const s3_sigv4_auth_t *a,
    const char *policy, size_t n, unsigned char sig[32])
{
    unsigned char  key[32];

    s3_sigv4_signing_key(secret, a->date, a->region, a->service, key);
    gw_hmac_sha256(key, 32, policy, n, sig);
    OPENSSL_cleanse(key, sizeof(key));
}

int
s3_sigv4_scope(const s3_sigv4_auth_t *a, char *buf, size_t cap)
{
    size_t  need;

    need = 8 + 1 + a->region.len + 1 + a->service.len + 1
           + sizeof(SIGV4_TERMINATOR);
    if (cap < need) {
        return GW_ETOOBIG;
    }
    memcpy(buf, a->date, 8);
    buf += 8;
    *buf++ = '/';
    memcpy(buf, a->region.base, a->region.len);
    buf += a->region.len;
    *buf++ = '/';
    memcpy(buf, a->service.base, a->service.len);
    buf += a->service.len;
    *buf++ = '/';
    memcpy(buf, SIGV4_TERMINATOR, sizeof(SIGV4_TERMINATOR));
    return GW_OK;
}

/* Headers that may come unsigned, each with the reason. Nothing else: an
 * x-amz-* header changes what a request does (x-amz-copy-source, x-amz-acl,
 * x-amz-tagging...), so an unsigned one would let whoever holds a presigned
 * URL, or sits between client and server, steer a signed request. */
static const char  *sigv4_unsigned_ok[] = {
    /* Amazon S3 accepts it unsigned: in header auth its value is part of
     * the canonical request whether it is listed or not, so it cannot be
     * changed; a presigned request's payload is unsigned whatever it says. */
    "x-amz-content-sha256",
};

static int
sigv4_is_signed(const s3_sigv4_auth_t *a, const char *name, size_t len)
{
    const char  *p = a->signed_headers.base;
    const char  *end = p + a->signed_headers.len, *semi;

    while (p < end) {
        semi = memchr(p, ';', (size_t) (end - p));
        if (semi == NULL) {
            semi = end;
        }
        if (gw_ascii_ieq(p, (size_t) (semi - p), name, len)) {
            return 1;
        }
        p = semi + 1;
    }
    return 0;
}

static int
sigv4_must_sign(const char *name, size_t len)
{
    size_t  i;

    if (len < 6 || !gw_ascii_ieq(name, 6, "x-amz-", 6)) {
        return 0;
    }
    for (i = 0; i < GW_NELEMS(sigv4_unsigned_ok); i++) {
        if (gw_ascii_ieq(name, len, sigv4_unsigned_ok[i],
                         strlen(sigv4_unsigned_ok[i])))
        {
            return 0;
        }
    }
    return 1;
}

/* Appends name to the list in out (cap bytes), joined by ", ". */
static void
sigv4_name_add(char *out, size_t cap, size_t *o, const char *name, size_t len)
{
    size_t  w;

    if (cap == 0) {
        return;
    }
    w = (size_t) snprintf(out + *o, cap - *o, "%s%.*s", *o ? ", " : "",
                          (int) len, name);
    *o = *o + w < cap ? *o + w : cap - 1;
}

size_t
s3_sigv4_unsigned_headers(const s3_sigv4_input_t *in, const s3_sigv4_auth_t *a,
                          char *out, size_t cap)
{
    const gw_kv_t  *h;
    size_t          i, j, n = 0, o = 0;

    if (cap > 0) {
        out[0] = '\0';
    }
    if (!sigv4_is_signed(a, "host", 4)) {
        sigv4_name_add(out, cap, &o, "host", 4);
        n++;
    }
    for (i = 0; i < in->nheaders; i++) {
        h = &in->headers[i];
        if (!sigv4_must_sign(h->name.base, h->name.len)
            || gw_ascii_ieq(h->name.base, h->name.len, "host", 4)
            || sigv4_is_signed(a, h->name.base, h->name.len))
        {
            continue;
        }
        for (j = 0; j < i; j++) {
            if (gw_ascii_ieq(in->headers[j].name.base, in->headers[j].name.len,
                             h->name.base, h->name.len))
            {
                break;       /* a repeated header is named once */
            }
        }
        if (j == i) {
            sigv4_name_add(out, cap, &o, h->name.base, h->name.len);
            n++;
        }
    }
    return n;
}

/* The signature of the request in and a for secret into sig (the canonical
 * request and the string to sign into *_out when not NULL); *missing set
 * when a signed header is absent. GW_OK or GW_EINVAL. */
static int
sigv4_compute(const s3_sigv4_input_t *in, const s3_sigv4_auth_t *a,
    const char *secret, unsigned char sig[32], char **canonical_out,
    char **sts_out, int *missing_out)
{
    gw_sb_t     cr = {NULL, 0, 0}, sts = {NULL, 0, 0};
    unsigned char  hash[32], key[32];
    char           hex[65];
    gw_str_t       ph;
    int            rc, missing = 0;

    if (canonical_out != NULL) {
        *canonical_out = NULL;
    }
    if (sts_out != NULL) {
        *sts_out = NULL;
    }
    memset(sig, 0, 32);

    gw_sb_put(&cr, in->method.base, in->method.len);
    gw_sb_putc(&cr, '\n');
    rc = sigv4_canonical_uri(&cr, in->path);
    if (rc != GW_OK) {
        goto fail;
    }
    gw_sb_putc(&cr, '\n');
    rc = sigv4_canonical_query(&cr, in->query, a->presigned);
    if (rc != GW_OK) {
        goto fail;
    }
    gw_sb_putc(&cr, '\n');
    rc = sigv4_canonical_headers(&cr, in, a->signed_headers, &missing);
    if (rc != GW_OK) {
        goto fail;
    }
    gw_sb_putc(&cr, '\n');
    gw_sb_put(&cr, a->signed_headers.base, a->signed_headers.len);
    gw_sb_putc(&cr, '\n');
    /* Without x-amz-content-sha256, a presigned URL signs UNSIGNED-PAYLOAD
     * and a header-signed request (curl --aws-sigv4, generic SigV4 signers)
     * the hash of its body: only an empty one can be checked here. */
    ph = a->payload_hash;
    if (ph.len == 0) {
        ph = a->presigned ? gw_str_lit(SIGV4_UNSIGNED)
                          : gw_str_lit(SIGV4_EMPTY_SHA256);
    }
    gw_sb_put(&cr, ph.base, ph.len);

    gw_sha256(cr.p, cr.len, hash);
    gw_hex_encode(hex, hash, 32);
    gw_sb_put(&sts, SIGV4_ALGORITHM "\n", sizeof(SIGV4_ALGORITHM));
    gw_sb_put(&sts, a->amz_date, 16);
    gw_sb_putc(&sts, '\n');
    gw_sb_put(&sts, a->date, 8);
    gw_sb_putc(&sts, '/');
    gw_sb_put(&sts, a->region.base, a->region.len);
    gw_sb_putc(&sts, '/');
    gw_sb_put(&sts, a->service.base, a->service.len);
    gw_sb_put(&sts, "/" SIGV4_TERMINATOR "\n", sizeof(SIGV4_TERMINATOR) + 1);
    gw_sb_put(&sts, hex, 64);

    s3_sigv4_signing_key(secret, a->date, a->region, a->service, key);
    gw_hmac_sha256(key, 32, sts.p, sts.len, sig);
    OPENSSL_cleanse(key, sizeof(key));

    *missing_out = missing;
    rc = GW_OK;

    if (canonical_out != NULL) {
        *canonical_out = cr.p;
        cr.p = NULL;
    }
    if (sts_out != NULL) {
        *sts_out = sts.p;
        sts.p = NULL;
    }

fail:
    gw_free(cr.p);
    gw_free(sts.p);
    return rc;
}

int
s3_sigv4_verify(const s3_sigv4_input_t *in, const s3_sigv4_auth_t *a,
    const char *secret, unsigned char seed_out[32], char **canonical_out,
    char **sts_out)
{
    int  rc, missing = 0;

    rc = sigv4_compute(in, a, secret, seed_out, canonical_out, sts_out,
                       &missing);
    if (rc != GW_OK) {
        return rc;
    }
    /* The comparison runs in constant time even when a header is missing, so
     * the timing says nothing about how much of the signature was right. */
    return CRYPTO_memcmp(seed_out, a->signature, 32) == 0 && !missing
           ? GW_OK : GW_ECHECKSUM;
}

int
s3_sigv4_sign(const s3_sigv4_input_t *in, const s3_sigv4_auth_t *a,
    const char *secret, unsigned char sig[32])
{
    int  missing = 0, rc;

    rc = sigv4_compute(in, a, secret, sig, NULL, NULL, &missing);
    return rc == GW_OK && missing ? GW_EINVAL : rc;
}

static void
sigv4_stream_signature(const unsigned char key[32], const char *algorithm,
    const char amz_date[16], const char *scope,
    const unsigned char prev_sig[32], const unsigned char *hash1,
    const unsigned char *hash2, unsigned char out[32])
{
    gw_sb_t  sb = {NULL, 0, 0};
    char        hex[65];

    gw_sb_put(&sb, algorithm, strlen(algorithm));
    gw_sb_putc(&sb, '\n');
    gw_sb_put(&sb, amz_date, 16);
    gw_sb_putc(&sb, '\n');
    gw_sb_put(&sb, scope, strlen(scope));
    gw_sb_putc(&sb, '\n');
    gw_hex_encode(hex, prev_sig, 32);
    gw_sb_put(&sb, hex, 64);
    if (hash1 != NULL) {
        gw_sb_putc(&sb, '\n');
        gw_hex_encode(hex, hash1, 32);
        gw_sb_put(&sb, hex, 64);
    }
    gw_sb_putc(&sb, '\n');
    gw_hex_encode(hex, hash2, 32);
    gw_sb_put(&sb, hex, 64);
    gw_hmac_sha256(key, 32, sb.p, sb.len, out);
    gw_free(sb.p);
}

void
s3_sigv4_chunk_signature(const unsigned char key[32],
    const char amz_date[16], const char *scope,
    const unsigned char prev_sig[32], const unsigned char chunk_sha256[32],
    unsigned char out[32])
{
    static const unsigned char  empty[32] = {
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
        0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
        0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55
    };

    sigv4_stream_signature(key, "AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope,
                           prev_sig, empty, chunk_sha256, out);
}

void
s3_sigv4_trailer_signature(const unsigned char key[32],
    const char amz_date[16], const char *scope,
    const unsigned char prev_sig[32], const unsigned char trailer_sha256[32],
    unsigned char out[32])
{
    sigv4_stream_signature(key, "AWS4-HMAC-SHA256-TRAILER", amz_date, scope,
                           prev_sig, NULL, trailer_sha256, out);
}
