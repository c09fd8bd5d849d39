/* s3/auth/policy.c: bucket policies. s3_policy_parse reads the JSON with jansson,
 * validates it the way S3 validates PutBucketPolicy, and compiles it into
 * plain structs in one pool: principals with their ids split out, actions
 * and resources as wildcard patterns, condition values already converted
 * (numbers, instants, CIDRs, decoded base64). The jansson tree is freed
 * before parse returns, so evaluation walks only our structs and never
 * allocates, except for a policy-variable expansion too long for the stack
 * buffer.
 *
 * The policy operations (GetBucketPolicy, PutBucketPolicy,
 * DeleteBucketPolicy) are s3/ops/policy.c. */
#include "s3/auth/policy.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <strings.h>

#include <jansson.h>

#include "core/hash.h"
#include "core/pool.h"

/* ==== compiled form ==== */

/* What an action applies to, and what a resource pattern can name. */
#define S3_POLICY_RES_BUCKET   0x1
#define S3_POLICY_RES_OBJECT   0x2
#define S3_POLICY_RES_SERVICE  0x4
#define S3_POLICY_RES_ANY      0x7

#define S3_POLICY_PRIN_ANY        0
#define S3_POLICY_PRIN_ACCOUNT    1
#define S3_POLICY_PRIN_USER       2
#define S3_POLICY_PRIN_CANONICAL  3

/* Condition operator families; the comparison and negation are separate. */
#define S3_POLICY_OP_STR     0     /* StringEquals */
#define S3_POLICY_OP_STRI    1     /* StringEqualsIgnoreCase */
#define S3_POLICY_OP_LIKE    2     /* StringLike */
#define S3_POLICY_OP_NUM     3
#define S3_POLICY_OP_DATE    4
#define S3_POLICY_OP_BOOL    5
#define S3_POLICY_OP_BIN     6
#define S3_POLICY_OP_IP      7
#define S3_POLICY_OP_ARN     8
#define S3_POLICY_OP_NULL    9

#define S3_POLICY_CMP_EQ     0
#define S3_POLICY_CMP_LT     1
#define S3_POLICY_CMP_LE     2
#define S3_POLICY_CMP_GT     3
#define S3_POLICY_CMP_GE     4

#define S3_POLICY_SET_NONE   0
#define S3_POLICY_SET_ANY    1     /* ForAnyValue: */
#define S3_POLICY_SET_ALL    2     /* ForAllValues: */

/* Expansions of policy variables up to this size stay on the stack. */
#define S3_POLICY_EXPAND_STACK  1024

/* A wildcard pattern or a literal. vars: it holds "${" in a policy of
 * Version 2012-10-17, so it is expanded before each use. */
typedef struct s3_policy_pat_s {
    const char  *s;
    size_t       len;
    int          vars;
} s3_policy_pat_t;

typedef struct s3_policy_prin_s {
    int          type;               /* S3_POLICY_PRIN_* */
    char         id[65];             /* account id or canonical id */
    const char  *user;               /* S3_POLICY_PRIN_USER */
} s3_policy_prin_t;

typedef struct s3_policy_ip_s {
    int            af;               /* AF_INET or AF_INET6 */
    unsigned char  a[16];
    unsigned       bits;
} s3_policy_ip_t;

/* One value of a condition, in the form its operator compares. */
typedef struct s3_policy_val_s {
    s3_policy_pat_t  str;            /* strings, ARNs, decoded binary */
    double           num;
    int64_t          usec;           /* dates, microseconds since 1970 */
    int              b;              /* Bool, Null */
    s3_policy_ip_t   ip;
} s3_policy_val_t;

typedef struct s3_policy_cond_s {
    int               op;            /* S3_POLICY_OP_* */
    int               cmp;           /* S3_POLICY_CMP_* */
    int               neg;           /* a Not operator */
    int               ifexists;
    int               set;           /* S3_POLICY_SET_* */
    const char       *key;
    size_t            klen;
    s3_policy_val_t  *v;
    size_t            nv;
} s3_policy_cond_t;

typedef struct s3_policy_stmt_s {
    const char        *which;        /* Sid, or "#N" */
    int                deny;
    int                notprin, notact, notres;
    s3_policy_prin_t  *prin;
    size_t             nprin;
    s3_policy_pat_t   *act;
    size_t             nact;
    s3_policy_pat_t   *res;
    size_t             nres;
    s3_policy_cond_t  *cond;
    size_t             ncond;
} s3_policy_stmt_t;

struct s3_policy_s {
    gw_pool_t         *pool;         /* everything below lives in it */
    int                vars;         /* Version 2012-10-17 */
    s3_policy_stmt_t  *st;
    size_t             n;
};

/* Who asks and in which context, as evaluation passes them around. */
typedef struct s3_policy_env_s {
    const s3_principal_t   *who;
    const s3_policy_ctx_t  *ctx;
} s3_policy_env_t;

/* ==== tables ==== */

typedef struct s3_policy_action_s {
    const char  *name;               /* without "s3:" */
    unsigned     res;                /* S3_POLICY_RES_* */
} s3_policy_action_t;

#define OBJ  S3_POLICY_RES_OBJECT
#define BKT  S3_POLICY_RES_BUCKET
#define SVC  S3_POLICY_RES_SERVICE

static const s3_policy_action_t  s3_policy_actions[] = {
    { "GetObject", OBJ },
    { "GetObjectVersion", OBJ },
    { "GetObjectAcl", OBJ },
    { "GetObjectVersionAcl", OBJ },
    { "PutObjectAcl", OBJ },
    { "PutObjectVersionAcl", OBJ },
    { "GetObjectTagging", OBJ },
    { "GetObjectVersionTagging", OBJ },
    { "PutObjectTagging", OBJ },
    { "PutObjectVersionTagging", OBJ },
    { "DeleteObjectTagging", OBJ },
    { "DeleteObjectVersionTagging", OBJ },
    { "GetObjectAttributes", OBJ },
    { "GetObjectVersionAttributes", OBJ },
    { "PutObject", OBJ },
    { "DeleteObject", OBJ },
    { "DeleteObjectVersion", OBJ },
    { "AbortMultipartUpload", OBJ },
    { "ListMultipartUploadParts", OBJ },
    { "RestoreObject", OBJ },
    { "GetObjectRetention", OBJ },
    { "PutObjectRetention", OBJ },
    { "GetObjectLegalHold", OBJ },
    { "PutObjectLegalHold", OBJ },
    { "BypassGovernanceRetention", OBJ },
    { "ListBucket", BKT },
    { "ListBucketVersions", BKT },
    { "ListBucketMultipartUploads", BKT },
    { "GetBucketLocation", BKT },
    { "GetBucketAcl", BKT },
    { "PutBucketAcl", BKT },
    { "GetBucketPolicy", BKT },
    { "PutBucketPolicy", BKT },
    { "DeleteBucketPolicy", BKT },
    { "GetBucketPolicyStatus", BKT },
    { "DeleteBucket", BKT },
    { "CreateBucket", BKT },
    { "GetBucketVersioning", BKT },
    { "PutBucketVersioning", BKT },
    { "GetBucketCORS", BKT },
    { "PutBucketCORS", BKT },
    { "GetBucketWebsite", BKT },
    { "PutBucketWebsite", BKT },
    { "DeleteBucketWebsite", BKT },
    { "GetReplicationConfiguration", BKT },
    { "PutReplicationConfiguration", BKT },
    { "GetBucketTagging", BKT },
    { "PutBucketTagging", BKT },
    { "GetLifecycleConfiguration", BKT },
    { "PutLifecycleConfiguration", BKT },
    { "GetBucketOwnershipControls", BKT },
    { "PutBucketOwnershipControls", BKT },
    { "GetBucketPublicAccessBlock", BKT },
    { "PutBucketPublicAccessBlock", BKT },
    { "GetEncryptionConfiguration", BKT },
    { "PutEncryptionConfiguration", BKT },
    { "GetBucketObjectLockConfiguration", BKT },
    { "PutBucketObjectLockConfiguration", BKT },
    { "GetBucketNotification", BKT },
    { "PutBucketNotification", BKT },
    { "GetBucketLogging", BKT },
    { "PutBucketLogging", BKT },
    { "GetBucketRequestPayment", BKT },
    { "PutBucketRequestPayment", BKT },
    { "ListAllMyBuckets", SVC },
};

#undef OBJ
#undef BKT
#undef SVC

typedef struct s3_policy_opdef_s {
    const char  *name;
    int          op, cmp, neg;
} s3_policy_opdef_t;

static const s3_policy_opdef_t  s3_policy_ops[] = {
    { "StringEquals", S3_POLICY_OP_STR, 0, 0 },
    { "StringNotEquals", S3_POLICY_OP_STR, 0, 1 },
    { "StringEqualsIgnoreCase", S3_POLICY_OP_STRI, 0, 0 },
    { "StringNotEqualsIgnoreCase", S3_POLICY_OP_STRI, 0, 1 },
    { "StringLike", S3_POLICY_OP_LIKE, 0, 0 },
    { "StringNotLike", S3_POLICY_OP_LIKE, 0, 1 },
    { "NumericEquals", S3_POLICY_OP_NUM, S3_POLICY_CMP_EQ, 0 },
    { "NumericNotEquals", S3_POLICY_OP_NUM, S3_POLICY_CMP_EQ, 1 },
    { "NumericLessThan", S3_POLICY_OP_NUM, S3_POLICY_CMP_LT, 0 },
    { "NumericLessThanEquals", S3_POLICY_OP_NUM, S3_POLICY_CMP_LE, 0 },
    { "NumericGreaterThan", S3_POLICY_OP_NUM, S3_POLICY_CMP_GT, 0 },
    { "NumericGreaterThanEquals", S3_POLICY_OP_NUM, S3_POLICY_CMP_GE, 0 },
    { "DateEquals", S3_POLICY_OP_DATE, S3_POLICY_CMP_EQ, 0 },
    { "DateNotEquals", S3_POLICY_OP_DATE, S3_POLICY_CMP_EQ, 1 },
    { "DateLessThan", S3_POLICY_OP_DATE, S3_POLICY_CMP_LT, 0 },
    { "DateLessThanEquals", S3_POLICY_OP_DATE, S3_POLICY_CMP_LE, 0 },
    { "DateGreaterThan", S3_POLICY_OP_DATE, S3_POLICY_CMP_GT, 0 },
    { "DateGreaterThanEquals", S3_POLICY_OP_DATE, S3_POLICY_CMP_GE, 0 },
    { "Bool", S3_POLICY_OP_BOOL, 0, 0 },
    { "BinaryEquals", S3_POLICY_OP_BIN, 0, 0 },
    { "IpAddress", S3_POLICY_OP_IP, 0, 0 },
    { "NotIpAddress", S3_POLICY_OP_IP, 0, 1 },
    { "ArnEquals", S3_POLICY_OP_ARN, 0, 0 },
    { "ArnLike", S3_POLICY_OP_ARN, 0, 0 },
    { "ArnNotEquals", S3_POLICY_OP_ARN, 0, 1 },
    { "ArnNotLike", S3_POLICY_OP_ARN, 0, 1 },
    { "Null", S3_POLICY_OP_NULL, 0, 0 },
};

/* The condition keys we know; names compare case-insensitively. */
static const char  *s3_policy_keys[] = {
    "aws:SourceIp", "aws:SecureTransport", "aws:CurrentTime",
    "aws:EpochTime", "aws:username", "aws:userid", "aws:PrincipalType",
    "aws:PrincipalAccount", "aws:PrincipalArn", "aws:RequestedRegion",
    "aws:Referer", "aws:UserAgent", "aws:SourceVpc", "aws:SourceVpce",
    "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:x-amz-acl",
    "s3:x-amz-content-sha256", "s3:x-amz-storage-class",
    "s3:x-amz-copy-source", "s3:x-amz-metadata-directive",
    "s3:x-amz-server-side-encryption", "s3:authType",
    "s3:signatureversion", "s3:signatureAge", "s3:TlsVersion",
    "s3:RequestObjectTagKeys", "s3:x-amz-grant-read", "s3:x-amz-grant-write",
    "s3:x-amz-grant-read-acp", "s3:x-amz-grant-write-acp",
    "s3:x-amz-grant-full-control",
    /* Real AWS keys that s3gw has nothing to fill in (no organizations,
     * MFA, VPCs, KMS, object lock, access points or service principals):
     * accepted, as S3 accepts them, and never present in a request, so a
     * policy naming them decides as it would for a caller without them. */
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList",
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOrgID",
    "aws:SourceOrgPaths", "aws:SourceIdentity", "aws:VpcSourceIp",
    "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast",
    "aws:ViaAWSService", "aws:MultiFactorAuthPresent",
    "aws:MultiFactorAuthAge", "aws:TokenIssueTime", "aws:FederatedProvider",
    "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
    "aws:TagKeys", "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4", "s3:locationconstraint",
    "s3:VersionId", "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-website-redirect-location", "s3:object-lock-mode",
    "s3:object-lock-retain-until-date",
    "s3:object-lock-remaining-retention-days",
    "s3:object-lock-legal-hold", "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount", "s3:AccessPointNetworkOrigin",
    "s3:ResourceAccount", "s3:x-amz-object-ownership",
    /* The rest of the "Condition keys for Amazon S3" reference page. Those
     * a request can carry here are filled in by s3/auth/access.c (SSE-C
     * and KMS headers, conditional writes, s3:ObjectCreationOperation,
     * s3:versionid, s3:ResourceAccount); the others (access grants, batch
     * jobs, inventory, fault injection, bucket namespaces) name features
     * s3gw does not have and are never present. */
    "s3:x-amz-server-side-encryption-customer-algorithm",
    "s3:if-match", "s3:if-none-match", "s3:ObjectCreationOperation",
    "s3:AccessGrantScope", "s3:AccessGrantsInstanceArn",
    "s3:AccessGrantsLocationScope", "s3:ExistingJobOperation",
    "s3:ExistingJobPriority", "s3:InventoryAccessibleOptionalFields",
    "s3:JobSuspendedCause", "s3:RequestJobOperation",
    "s3:RequestJobPriority", "s3:destinationRegion",
    "s3:isReplicationPauseRequest", "s3:x-amz-bucket-namespace",
    /* The other documented global keys. */
    "aws:SourceVpcArn", "aws:VpceAccount", "aws:VpceOrgID",
    "aws:VpceOrgPaths", "aws:RoleSessionName", "aws:AssumedRoot",
    "aws:ChatbotSourceArn",
};

/* Keys that name a tag after their '/'. */
static const char  *s3_policy_tag_keys[] = {
    "s3:ExistingObjectTag/", "s3:RequestObjectTag/", "s3:BucketTag/",
    "s3:AccessPointTag/", "aws:PrincipalTag/", "aws:RequestTag/",
    "aws:ResourceTag/",
};

/* ==== small helpers ==== */

static int
s3_policy_iprefix(const char *s, size_t len, const char *prefix)
{
    size_t  n = strlen(prefix);

    return len >= n && gw_ascii_ieq(s, n, prefix, n);
}

static int
s3_policy_digits(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return len > 0;
}

/* Context names compare case-insensitively, but a tag key (the part after
 * the '/' of s3:ExistingObjectTag/<tag>) is case-sensitive, as S3 tags. */
static int
s3_policy_key_eq(const char *pk, size_t pklen, const char *ck, size_t cklen)
{
    size_t  i;
    int     tag = 0;

    if (pklen != cklen) {
        return 0;
    }
    for (i = 0; i < pklen; i++) {
        if (tag) {
            if (pk[i] != ck[i]) {
                return 0;
            }
        } else {
            if (gw_ascii_lower((unsigned char) pk[i])
                != gw_ascii_lower((unsigned char) ck[i]))
            {
                return 0;
            }
            tag = pk[i] == '/';
        }
    }
    return 1;
}

/* ==== wildcards ==== */

/* The greedy matcher with one backtrack point, the last '*': on a mismatch
 * the last star swallows one more byte and matching resumes after it. That
 * is O(plen * slen) at worst, where naive recursion is exponential on
 * "*a*a*a*a*b". esc: "\c" in pat is the literal c, which is how expanded
 * policy variables (${*}, or a user name holding '*') stay literal. */
static int
s3_policy_match(const char *pat, size_t plen, const char *s, size_t slen,
                int icase, int esc)
{
    size_t  pi = 0, si = 0, star = SIZE_MAX, mark = 0, w;
    int     c, lit;

    while (si < slen) {
        if (pi < plen) {
            c = (unsigned char) pat[pi];
            w = 1;
            lit = 0;
            if (esc && c == '\\' && pi + 1 < plen) {
                c = (unsigned char) pat[pi + 1];
                w = 2;
                lit = 1;
            }
            if (!lit && c == '*') {
                star = ++pi;
                mark = si;
                continue;
            }
            if ((!lit && c == '?')
                || c == (unsigned char) s[si]
                || (icase && gw_ascii_lower(c)
                             == gw_ascii_lower((unsigned char) s[si])))
            {
                pi += w;
                si++;
                continue;
            }
        }
        if (star != SIZE_MAX) {
            pi = star;
            si = ++mark;
            continue;
        }
        return 0;
    }
    while (pi < plen && pat[pi] == '*') {
        pi++;
    }
    return pi == plen;
}

int
s3_policy_like(const char *pat, size_t plen, const char *s, size_t slen,
               int icase)
{
    return s3_policy_match(pat, plen, s, slen, icase, 0);
}

/* ==== values: numbers, instants, addresses ==== */

/* A decimal number: optional sign, digits, optional fraction. strtod alone
 * would also take "inf", hex and exponents, which IAM does not. */
static int
s3_policy_num(const char *s, size_t len, double *out)
{
    char    buf[64];
    size_t  i = 0, d = 0;

    if (len == 0 || len >= sizeof(buf)) {
        return 0;
    }
    if (s[0] == '-' || s[0] == '+') {
        i++;
    }
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        d++;
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            d++;
        }
    }
    if (i != len || d == 0) {
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    *out = strtod(buf, NULL);
    return 1;
}

/* Reads exactly n digits at s[*i]. */
static int
s3_policy_fixed(const char *s, size_t len, size_t *i, size_t n, int *out)
{
    int  v = 0;

    if (len - *i < n || !s3_policy_digits(s + *i, n)) {
        return 0;
    }
    while (n--) {
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return 1;
}

/* An instant: epoch seconds ("1767225600") or ISO 8601: a date alone
 * ("2026-12-01"), or with "Thh:mm[:ss[.fraction]]" and an optional "Z" or
 * "+hh:mm" offset (no offset is UTC, as aws:CurrentTime always is). */
static int
s3_policy_date(const char *s, size_t len, int64_t *usec)
{
    static const int  mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
                                  30, 31 };
    size_t            i = 0;
    int               y, mo, d, h = 0, mi = 0, sec = 0, oh, om, sign;
    int64_t           frac = 0, scale = 100000, secs;

    if (s3_policy_digits(s, len)) {
        if (len > 12) {
            return 0;
        }
        secs = 0;
        for (i = 0; i < len; i++) {
            secs = secs * 10 + (s[i] - '0');
        }
        *usec = secs * 1000000;
        return 1;
    }
    if (!s3_policy_fixed(s, len, &i, 4, &y) || i >= len || s[i++] != '-'
        || !s3_policy_fixed(s, len, &i, 2, &mo) || i >= len || s[i++] != '-'
        || !s3_policy_fixed(s, len, &i, 2, &d))
    {
        return 0;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]
        || (mo == 2 && d == 29
            && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
    {
        return 0;
    }
    if (i < len && (s[i] == 'T' || s[i] == 't')) {
        i++;
        if (!s3_policy_fixed(s, len, &i, 2, &h) || i >= len || s[i++] != ':'
            || !s3_policy_fixed(s, len, &i, 2, &mi))
        {
            return 0;
        }
        if (i < len && s[i] == ':') {
            i++;
            if (!s3_policy_fixed(s, len, &i, 2, &sec)) {
                return 0;
            }
            if (i < len && s[i] == '.') {
                if (++i >= len || s[i] < '0' || s[i] > '9') {
                    return 0;
                }
                for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
                    frac += (s[i] - '0') * scale;
                    scale /= 10;
                }
            }
        }
        if (h > 23 || mi > 59 || sec > 59) {
            return 0;
        }
    }
    secs = gw_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i++] == '-' ? -1 : 1;
        if (!s3_policy_fixed(s, len, &i, 2, &oh)) {
            return 0;
        }
        if (i < len && s[i] == ':') {
            i++;
        }
        if (!s3_policy_fixed(s, len, &i, 2, &om) || oh > 23 || om > 59) {
            return 0;
        }
        secs -= sign * (oh * 3600 + om * 60);
    }
    if (i != len) {
        return 0;
    }
    *usec = secs * 1000000 + frac;
    return 1;
}

/* An IPv4 or IPv6 address, with "/bits" when cidr (a bare address is one
 * host). Host bits set in a range ("10.1.2.3/8") do not matter:
 * matching compares only the first bits. */
static int
s3_policy_ip(const char *s, size_t len, int cidr, s3_policy_ip_t *out)
{
    char         buf[64];
    const char  *slash;
    size_t       alen;
    unsigned     bits, max;

    if (len == 0 || len >= sizeof(buf)) {
        return 0;
    }
    slash = cidr ? memchr(s, '/', len) : NULL;
    alen = slash ? (size_t) (slash - s) : len;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    memset(out->a, 0, sizeof(out->a));
    if (inet_pton(AF_INET, buf, out->a) == 1) {
        out->af = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, out->a) == 1) {
        out->af = AF_INET6;
        max = 128;
    } else {
        return 0;
    }
    bits = max;
    if (slash) {
        alen++;
        if (len - alen > 3 || !s3_policy_digits(s + alen, len - alen)) {
            return 0;
        }
        for (bits = 0; alen < len; alen++) {
            bits = bits * 10 + (unsigned) (s[alen] - '0');
        }
        if (bits > max) {
            return 0;
        }
    }
    out->bits = bits;
    return 1;
}

static int
s3_policy_ip_in(const s3_policy_ip_t *range, const s3_policy_ip_t *addr)
{
    unsigned  n = range->bits / 8, rest = range->bits % 8;

    if (range->af != addr->af || memcmp(range->a, addr->a, n) != 0) {
        return 0;
    }
    return rest == 0
           || ((range->a[n] ^ addr->a[n]) & (0xff00 >> rest) & 0xff) == 0;
}

/* ==== the request context ==== */

/* A value the request context has without the caller listing it: the
 * user name and id of who asks (the canonical id is our aws:userid). */
static int
s3_policy_synth(const s3_policy_env_t *env, const char *key, size_t klen,
                gw_str_t *v)
{
    const s3_principal_t  *who = env->who;
    const char            *s = NULL;

    if (who == NULL || who->name == NULL) {
        return 0;
    }
    if (gw_ascii_ieq(key, klen, "aws:username", 12)) {
        s = who->name;
    } else if (gw_ascii_ieq(key, klen, "aws:userid", 10)) {
        s = who->canonical_id;
    }
    if (s == NULL) {
        return 0;
    }
    v->base = s;
    v->len = strlen(s);
    return 1;
}

/* Walks the values of one key: those the context lists, or else the one
 * s3_policy_synth makes up. */
typedef struct s3_policy_iter_s {
    const s3_policy_env_t  *env;
    const char             *key;
    size_t                  klen;
    size_t                  i;
    int                     state;   /* 0: in ctx, 1: some found, 2: done */
} s3_policy_iter_t;

static int
s3_policy_next(s3_policy_iter_t *it, gw_str_t *v)
{
    const s3_policy_ctx_t  *ctx = it->env->ctx;
    const gw_kv_t          *kv;

    while (ctx != NULL && it->i < ctx->n) {
        kv = &ctx->kv[it->i++];
        if (s3_policy_key_eq(it->key, it->klen, kv->name.base, kv->name.len))
        {
            it->state = 1;
            *v = kv->value;
            return 1;
        }
    }
    if (it->state == 0) {
        it->state = 2;
        return s3_policy_synth(it->env, it->key, it->klen, v);
    }
    return 0;
}

static void
s3_policy_iter_init(s3_policy_iter_t *it, const s3_policy_env_t *env,
                    const char *key, size_t klen)
{
    it->env = env;
    it->key = key;
    it->klen = klen;
    it->i = 0;
    it->state = 0;
}

/* ==== policy variables ==== */

static size_t
s3_policy_put(char *buf, size_t cap, size_t o, const char *s, size_t n,
              int esc)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (esc && (s[i] == '*' || s[i] == '?' || s[i] == '\\')) {
            if (o < cap) {
                buf[o] = '\\';
            }
            o++;
        }
        if (o < cap) {
            buf[o] = s[i];
        }
        o++;
    }
    return o;
}

/* Writes pat with its ${...} replaced into buf[0..cap) and returns the
 * length it needs (more than cap: call again with a bigger buf), or
 * SIZE_MAX when a variable has no value, which makes pat match nothing.
 * esc: the result is a wildcard pattern, so the text a variable brings in
 * is escaped and the pattern's own '*' and '?' stay wildcards. */
static size_t
s3_policy_subst(const s3_policy_pat_t *pat, const s3_policy_env_t *env,
                int esc, char *buf, size_t cap)
{
    const char        *s = pat->s, *end = pat->s + pat->len, *close;
    size_t             o = 0, nlen;
    s3_policy_iter_t   it;
    gw_str_t           v;

    while (s < end) {
        if (s[0] != '$' || end - s < 3 || s[1] != '{'
            || (close = memchr(s + 2, '}', (size_t) (end - s - 2))) == NULL)
        {
            /* The pattern's own '*' and '?' stay wildcards, but its
             * backslashes are literals. */
            o = s3_policy_put(buf, cap, o, s, 1, esc && s[0] == '\\');
            s++;
            continue;
        }
        nlen = (size_t) (close - s - 2);
        if (nlen == 1 && (s[2] == '*' || s[2] == '?' || s[2] == '$')) {
            o = s3_policy_put(buf, cap, o, s + 2, 1, esc);
        } else {
            s3_policy_iter_init(&it, env, s + 2, nlen);
            if (!s3_policy_next(&it, &v)) {
                return SIZE_MAX;
            }
            o = s3_policy_put(buf, cap, o, v.base, v.len, esc);
        }
        s = close + 1;
    }
    return o;
}

/* Compares s with pat: as a wildcard pattern (like) or as a literal. */
static int
s3_policy_pat_test(const s3_policy_pat_t *pat, const char *s, size_t slen,
                   int like, int icase, const s3_policy_env_t *env)
{
    char     stack[S3_POLICY_EXPAND_STACK], *buf = stack;
    size_t   n;
    int      m;

    if (!pat->vars) {
        if (like) {
            return s3_policy_match(pat->s, pat->len, s, slen, icase, 0);
        }
        return icase ? gw_ascii_ieq(pat->s, pat->len, s, slen)
                     : pat->len == slen && memcmp(pat->s, s, slen) == 0;
    }
    n = s3_policy_subst(pat, env, like, stack, sizeof(stack));
    if (n == SIZE_MAX) {
        return 0;
    }
    if (n > sizeof(stack)) {
        buf = gw_alloc(n);
        s3_policy_subst(pat, env, like, buf, n);
    }
    if (like) {
        m = s3_policy_match(buf, n, s, slen, icase, 1);
    } else {
        m = icase ? gw_ascii_ieq(buf, n, s, slen)
                  : n == slen && memcmp(buf, s, slen) == 0;
    }
    if (buf != stack) {
        gw_free(buf);
    }
    return m;
}

/* ==== evaluation ==== */

static int
s3_policy_cmp(int cmp, double a, double b)
{
    switch (cmp) {
    case S3_POLICY_CMP_LT: return a < b;
    case S3_POLICY_CMP_LE: return a <= b;
    case S3_POLICY_CMP_GT: return a > b;
    case S3_POLICY_CMP_GE: return a >= b;
    default:               return a == b;
    }
}

static int
s3_policy_cmp64(int cmp, int64_t a, int64_t b)
{
    switch (cmp) {
    case S3_POLICY_CMP_LT: return a < b;
    case S3_POLICY_CMP_LE: return a <= b;
    case S3_POLICY_CMP_GT: return a > b;
    case S3_POLICY_CMP_GE: return a >= b;
    default:               return a == b;
    }
}

/* Whether one context value matches any of the condition's values, in the
 * positive sense of the operator (StringNotEquals compares as
 * StringEquals; the caller negates). */
static int
s3_policy_value_matches(const s3_policy_cond_t *c, gw_str_t v,
                        const s3_policy_env_t *env)
{
    const s3_policy_val_t  *pv;
    s3_policy_ip_t          ip;
    double                  num = 0;
    int64_t                 usec = 0;
    size_t                  i;
    int                     b = 0;

    switch (c->op) {
    case S3_POLICY_OP_NUM:
        if (!s3_policy_num(v.base, v.len, &num)) {
            return 0;
        }
        break;
    case S3_POLICY_OP_DATE:
        if (!s3_policy_date(v.base, v.len, &usec)) {
            return 0;
        }
        break;
    case S3_POLICY_OP_BOOL:
        if (gw_ascii_ieq(v.base, v.len, "true", 4)) {
            b = 1;
        } else if (gw_ascii_ieq(v.base, v.len, "false", 5)) {
            b = 0;
        } else {
            return 0;
        }
        break;
    case S3_POLICY_OP_IP:
        if (!s3_policy_ip(v.base, v.len, 0, &ip)) {
            return 0;
        }
        break;
    default:
        break;
    }
    for (i = 0; i < c->nv; i++) {
        pv = &c->v[i];
        switch (c->op) {
        case S3_POLICY_OP_STR:
        case S3_POLICY_OP_STRI:
            if (s3_policy_pat_test(&pv->str, v.base, v.len, 0,
                                   c->op == S3_POLICY_OP_STRI, env))
            {
                return 1;
            }
            break;
        case S3_POLICY_OP_LIKE:
        case S3_POLICY_OP_ARN:
            if (s3_policy_pat_test(&pv->str, v.base, v.len, 1, 0, env)) {
                return 1;
            }
            break;
        case S3_POLICY_OP_NUM:
            if (s3_policy_cmp(c->cmp, num, pv->num)) {
                return 1;
            }
            break;
        case S3_POLICY_OP_DATE:
            if (s3_policy_cmp64(c->cmp, usec, pv->usec)) {
                return 1;
            }
            break;
        case S3_POLICY_OP_BOOL:
            if (b == pv->b) {
                return 1;
            }
            break;
        case S3_POLICY_OP_BIN:
            if (pv->str.len == v.len
                && memcmp(pv->str.s, v.base, v.len) == 0)
            {
                return 1;
            }
            break;
        case S3_POLICY_OP_IP:
            if (s3_policy_ip_in(&pv->ip, &ip)) {
                return 1;
            }
            /* An IPv4-mapped IPv6 client (::ffff:a.b.c.d, a dual-stack
             * listener) is the IPv4 client for IPv4 ranges. */
            if (ip.af == AF_INET6 && pv->ip.af == AF_INET
                && memcmp(ip.a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
            {
                s3_policy_ip_t  v4 = { AF_INET, { 0 }, 32 };

                memcpy(v4.a, ip.a + 12, 4);
                if (s3_policy_ip_in(&pv->ip, &v4)) {
                    return 1;
                }
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

static int
s3_policy_cond_holds(const s3_policy_cond_t *c, const s3_policy_env_t *env)
{
    s3_policy_iter_t  it;
    gw_str_t          v;
    size_t            nvals = 0, i;
    int               ok, any_ok = 0, all_ok = 1, present;

    s3_policy_iter_init(&it, env, c->key, c->klen);
    if (c->op == S3_POLICY_OP_NULL) {
        /* "true": the key must be absent; "false": present. Several
         * values OR, like any other operator's. */
        present = s3_policy_next(&it, &v);
        for (i = 0; i < c->nv; i++) {
            if (c->v[i].b == !present) {
                return 1;
            }
        }
        return 0;
    }
    while (s3_policy_next(&it, &v)) {
        nvals++;
        ok = s3_policy_value_matches(c, v, env);
        if (c->neg) {
            ok = !ok;
        }
        any_ok |= ok;
        all_ok &= ok;
    }
    if (nvals == 0) {
        /* IAM: a missing key fails a positive operator and satisfies a
         * negated one; IfExists and ForAllValues are satisfied by it,
         * ForAnyValue is not. */
        if (c->ifexists) {
            return 1;
        }
        switch (c->set) {
        case S3_POLICY_SET_ANY: return 0;
        case S3_POLICY_SET_ALL: return 1;
        default:                return c->neg;
        }
    }
    switch (c->set) {
    case S3_POLICY_SET_ANY: return any_ok;
    case S3_POLICY_SET_ALL: return all_ok;
    default:
        /* Without a set operator a multivalued key matches a positive
         * operator when any value does, and a negated one when none of its
         * values matches the positive form. */
        return c->neg ? all_ok : any_ok;
    }
}

static int
s3_policy_prin_match(const s3_policy_prin_t *pr, const s3_principal_t *who)
{
    int  anon = who == NULL || who->name == NULL;

    switch (pr->type) {
    case S3_POLICY_PRIN_ANY:
        return 1;
    case S3_POLICY_PRIN_ACCOUNT:
        return !anon && who->account_id != NULL
               && strcmp(who->account_id, pr->id) == 0;
    case S3_POLICY_PRIN_USER:
        return !anon && who->account_id != NULL
               && strcmp(who->account_id, pr->id) == 0
               && strcmp(who->name, pr->user) == 0;
    case S3_POLICY_PRIN_CANONICAL:
        return !anon && who->canonical_id != NULL
               && gw_ascii_ieq(who->canonical_id,
                                strlen(who->canonical_id), pr->id, 64);
    default:
        return 0;
    }
}

static int
s3_policy_applies(const s3_policy_stmt_t *st,
                  const s3_policy_env_t *env, const char *action,
                  size_t alen, const char *resource, size_t rlen)
{
    size_t  i;
    int     m;

    for (m = 0, i = 0; !m && i < st->nact; i++) {
        m = s3_policy_match(st->act[i].s, st->act[i].len, action, alen, 1, 0);
    }
    if (m == st->notact) {
        return 0;
    }
    for (m = 0, i = 0; !m && i < st->nres; i++) {
        m = s3_policy_pat_test(&st->res[i], resource, rlen, 1, 0, env);
    }
    if (m == st->notres) {
        return 0;
    }
    for (m = 0, i = 0; !m && i < st->nprin; i++) {
        m = s3_policy_prin_match(&st->prin[i], env->who);
    }
    if (m == st->notprin) {
        return 0;
    }
    for (i = 0; i < st->ncond; i++) {
        if (!s3_policy_cond_holds(&st->cond[i], env)) {
            return 0;
        }
    }
    return 1;
}

int
s3_policy_eval(const s3_policy_t *p, const s3_principal_t *who,
               const char *action, const char *resource,
               const s3_policy_ctx_t *ctx, const char **which)
{
    s3_policy_env_t   env = { who, ctx };
    const char       *allow = NULL;
    size_t            i, alen, rlen;

    if (which != NULL) {
        *which = NULL;
    }
    if (p == NULL || action == NULL || resource == NULL) {
        return S3_POLICY_NONE;
    }
    alen = strlen(action);
    rlen = strlen(resource);
    for (i = 0; i < p->n; i++) {
        if (!s3_policy_applies(&p->st[i], &env, action, alen, resource, rlen)) {
            continue;
        }
        if (p->st[i].deny) {
            if (which != NULL) {
                *which = p->st[i].which;
            }
            return S3_POLICY_DENY;
        }
        if (allow == NULL) {
            allow = p->st[i].which;
        }
    }
    if (allow == NULL) {
        return S3_POLICY_NONE;
    }
    if (which != NULL) {
        *which = allow;
    }
    return S3_POLICY_ALLOW;
}

/* ==== public policies (Block Public Access) ==== */

/* Condition keys that, held to fixed values, keep a statement to known
 * callers: S3's list in "The meaning of public", less what cannot hold
 * here (access points), plus the principal keys it also names. */
static const char  *const s3_policy_fixing_keys[] = {
    "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner",
    "aws:SourceAccount", "aws:userid", "aws:PrincipalAccount",
    "aws:PrincipalArn", "aws:PrincipalOrgID",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
};

/* A value with no wildcard and no policy variable: one fixed thing. */
static int
s3_policy_val_fixed(const s3_policy_pat_t *v)
{
    return !v->vars && memchr(v->s, '*', v->len) == NULL
           && memchr(v->s, '?', v->len) == NULL;
}

/* 1 when condition c limits a statement to fixed callers: a positive
 * operator (no Not..., no ...IfExists, no ForAllValues, which an absent
 * key passes) on aws:SourceIp with ranges no wider than /8 (IPv4) or /32
 * (IPv6), or on one of the keys above with fixed values. */
static int
s3_policy_cond_fixes(const s3_policy_cond_t *c)
{
    size_t  i;
    int     key = -1;

    if (c->neg || c->ifexists || c->set == S3_POLICY_SET_ALL || c->nv == 0) {
        return 0;
    }
    if (c->klen == 12 && strncasecmp(c->key, "aws:SourceIp", 12) == 0) {
        if (c->op != S3_POLICY_OP_IP) {
            return 0;
        }
        for (i = 0; i < c->nv; i++) {
            if (c->v[i].ip.bits < (c->v[i].ip.af == AF_INET ? 8u : 32u)) {
                return 0;
            }
        }
        return 1;
    }
    for (i = 0; i < GW_NELEMS(s3_policy_fixing_keys); i++) {
        if (strlen(s3_policy_fixing_keys[i]) == c->klen
            && strncasecmp(s3_policy_fixing_keys[i], c->key, c->klen) == 0)
        {
            key = (int) i;
        }
    }
    if (key < 0 || (c->op != S3_POLICY_OP_STR && c->op != S3_POLICY_OP_STRI
                    && c->op != S3_POLICY_OP_LIKE
                    && c->op != S3_POLICY_OP_ARN))
    {
        return 0;
    }
    for (i = 0; i < c->nv; i++) {
        if (!s3_policy_val_fixed(&c->v[i].str)) {
            return 0;
        }
    }
    return 1;
}

int
s3_policy_is_public(const s3_policy_t *p)
{
    const s3_policy_stmt_t  *st;
    size_t                   i, j;
    int                      anyone, fixed;

    for (i = 0; p != NULL && i < p->n; i++) {
        st = &p->st[i];
        if (st->deny) {
            continue;
        }
        /* NotPrincipal in an Allow grants everyone but a few. */
        anyone = st->notprin;
        for (j = 0; !anyone && j < st->nprin; j++) {
            anyone = st->prin[j].type == S3_POLICY_PRIN_ANY;
        }
        if (!anyone) {
            continue;
        }
        fixed = 0;
        for (j = 0; !fixed && j < st->ncond; j++) {
            fixed = s3_policy_cond_fixes(&st->cond[j]);
        }
        if (!fixed) {
            return 1;
        }
    }
    return 0;
}

/* ==== parsing ==== */

typedef struct s3_policy_parser_s {
    s3_policy_t         *p;
    const char          *bucket;
    s3_policy_known_pt   known;
    void                *ud;
    char                *why;
    size_t               whylen;
} s3_policy_parser_t;

static int
s3_policy_fail(s3_policy_parser_t *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
s3_policy_fail(s3_policy_parser_t *ps, const char *fmt, ...)
{
    va_list  ap;

    if (ps->why != NULL && ps->whylen > 0) {
        va_start(ap, fmt);
        vsnprintf(ps->why, ps->whylen, fmt, ap);
        va_end(ap);
    }
    return GW_EINVAL;
}

/* The items of a "string or array of strings" field: their number, 0 when
 * v is neither or an empty array. */
static size_t
s3_policy_list_n(json_t *v)
{
    size_t  i;

    if (json_is_string(v)) {
        return 1;
    }
    if (!json_is_array(v)) {
        return 0;
    }
    for (i = 0; i < json_array_size(v); i++) {
        if (!json_is_string(json_array_get(v, i))) {
            return 0;
        }
    }
    return json_array_size(v);
}

static json_t *
s3_policy_list_at(json_t *v, size_t i)
{
    return json_is_string(v) ? v : json_array_get(v, i);
}

static void
s3_policy_pat_set(s3_policy_parser_t *ps, s3_policy_pat_t *pat,
                  const char *s, size_t len)
{
    pat->s = gw_pool_strndup(ps->p->pool, s, len);
    pat->len = len;
    /* Version 2008-10-17 has no variables: "${" is then plain text. */
    pat->vars = ps->p->vars && len >= 2 && strstr(pat->s, "${") != NULL;
}

static int
s3_policy_parse_aws(s3_policy_parser_t *ps, const char *s, size_t len,
                    s3_policy_prin_t *pr)
{
    static const char  arn[] = "arn:aws:iam::";
    const char        *acct, *rest;
    size_t             rlen, i;

    if (len == 1 && s[0] == '*') {
        pr->type = S3_POLICY_PRIN_ANY;
        return GW_OK;
    }
    if (len == 12 && s3_policy_digits(s, 12)) {
        pr->type = S3_POLICY_PRIN_ACCOUNT;
        memcpy(pr->id, s, 12);
        goto known;
    }
    if (len < sizeof(arn) - 1 + 13 || memcmp(s, arn, sizeof(arn) - 1) != 0) {
        goto fail;
    }
    acct = s + sizeof(arn) - 1;
    if (!s3_policy_digits(acct, 12) || acct[12] != ':') {
        goto fail;
    }
    memcpy(pr->id, acct, 12);
    rest = acct + 13;
    rlen = len - (size_t) (rest - s);
    if (rlen == 4 && memcmp(rest, "root", 4) == 0) {
        pr->type = S3_POLICY_PRIN_ACCOUNT;
        goto known;
    }
    if (rlen <= 5 || memcmp(rest, "user/", 5) != 0) {
        goto fail;
    }
    /* IAM takes no wildcards inside a principal ARN. */
    for (i = 5; i < rlen; i++) {
        if (rest[i] == '*' || rest[i] == '?') {
            goto fail;
        }
    }
    pr->type = S3_POLICY_PRIN_USER;
    pr->user = gw_pool_strndup(ps->p->pool, rest + 5, rlen - 5);

known:
    if (ps->known != NULL
        && !ps->known(ps->ud, pr->id,
                      pr->type == S3_POLICY_PRIN_USER ? pr->user : NULL, NULL))
    {
        goto fail;
    }
    return GW_OK;

fail:
    return s3_policy_fail(ps, "Invalid principal in policy");
}

static int
s3_policy_parse_canonical(s3_policy_parser_t *ps, const char *s, size_t len,
                          s3_policy_prin_t *pr)
{
    size_t  i;

    if (len != 64) {
        goto fail;
    }
    for (i = 0; i < 64; i++) {
        if (gw_hex_value((unsigned char) s[i]) < 0) {
            goto fail;
        }
        pr->id[i] = (char) gw_ascii_lower((unsigned char) s[i]);
    }
    pr->id[64] = '\0';
    pr->type = S3_POLICY_PRIN_CANONICAL;
    if (ps->known != NULL && !ps->known(ps->ud, NULL, NULL, pr->id)) {
        goto fail;
    }
    return GW_OK;

fail:
    return s3_policy_fail(ps, "Invalid principal in policy");
}

static int
s3_policy_parse_principal(s3_policy_parser_t *ps, json_t *v,
                          s3_policy_stmt_t *st)
{
    const char  *key;
    json_t      *list, *item;
    size_t       n = 0, k, i;
    int          rc, aws;

    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "*") != 0) {
            goto fail;
        }
        st->prin = gw_pool_calloc(ps->p->pool, sizeof(*st->prin));
        st->prin->type = S3_POLICY_PRIN_ANY;
        st->nprin = 1;
        return GW_OK;
    }
    if (!json_is_object(v) || json_object_size(v) == 0) {
        goto fail;
    }
    json_object_foreach(v, key, list) {
        if (strcmp(key, "AWS") != 0 && strcmp(key, "CanonicalUser") != 0) {
            goto fail;
        }
        if ((k = s3_policy_list_n(list)) == 0) {
            goto fail;
        }
        n += k;
    }
    st->prin = gw_pool_calloc(ps->p->pool, n * sizeof(*st->prin));
    json_object_foreach(v, key, list) {
        aws = strcmp(key, "AWS") == 0;
        k = s3_policy_list_n(list);
        for (i = 0; i < k; i++) {
            item = s3_policy_list_at(list, i);
            rc = aws ? s3_policy_parse_aws(ps, json_string_value(item),
                                           json_string_length(item),
                                           &st->prin[st->nprin])
                     : s3_policy_parse_canonical(ps, json_string_value(item),
                                                 json_string_length(item),
                                                 &st->prin[st->nprin]);
            if (rc != GW_OK) {
                return rc;
            }
            st->nprin++;
        }
    }
    return GW_OK;

fail:
    return s3_policy_fail(ps, "Invalid principal in policy");
}

/* Sets *res to what the actions apply to (S3_POLICY_RES_*). */
static int
s3_policy_parse_actions(s3_policy_parser_t *ps, json_t *v,
                        s3_policy_stmt_t *st, unsigned *res)
{
    const char  *s;
    json_t      *item;
    size_t       n, i, j, len;
    int          found;

    *res = 0;
    if ((n = s3_policy_list_n(v)) == 0) {
        goto fail;
    }
    st->act = gw_pool_calloc(ps->p->pool, n * sizeof(*st->act));
    for (i = 0; i < n; i++) {
        item = s3_policy_list_at(v, i);
        s = json_string_value(item);
        len = json_string_length(item);
        if (len == 1 && s[0] == '*') {
            *res |= S3_POLICY_RES_ANY;
        } else {
            if (!s3_policy_iprefix(s, len, "s3:")) {
                goto fail;
            }
            /* "s3:Get*" is valid when it names at least one action. */
            for (found = 0, j = 0; j < GW_NELEMS(s3_policy_actions); j++) {
                if (s3_policy_like(s + 3, len - 3, s3_policy_actions[j].name,
                                   strlen(s3_policy_actions[j].name), 1))
                {
                    *res |= s3_policy_actions[j].res;
                    found = 1;
                }
            }
            if (!found) {
                goto fail;
            }
        }
        st->act[i].s = gw_pool_strndup(ps->p->pool, s, len);
        st->act[i].len = len;
        st->nact++;
    }
    return GW_OK;

fail:
    return s3_policy_fail(ps, "Policy has invalid action");
}

/* Sets *res to what the resources can name (S3_POLICY_RES_*). */
static int
s3_policy_parse_resources(s3_policy_parser_t *ps, json_t *v,
                          s3_policy_stmt_t *st, unsigned *res)
{
    static const char  arn[] = "arn:aws:s3:::";
    const char        *s, *b, *slash;
    json_t            *item;
    size_t             n, i, len, blen;

    *res = 0;
    if ((n = s3_policy_list_n(v)) == 0) {
        goto fail;
    }
    st->res = gw_pool_calloc(ps->p->pool, n * sizeof(*st->res));
    for (i = 0; i < n; i++) {
        item = s3_policy_list_at(v, i);
        s = json_string_value(item);
        len = json_string_length(item);
        if (len == 1 && s[0] == '*') {
            *res |= S3_POLICY_RES_ANY;
        } else {
            if (len <= sizeof(arn) - 1
                || memcmp(s, arn, sizeof(arn) - 1) != 0)
            {
                goto fail;
            }
            b = s + sizeof(arn) - 1;
            slash = memchr(b, '/', len - (sizeof(arn) - 1));
            blen = slash ? (size_t) (slash - b) : len - (sizeof(arn) - 1);
            /* A bucket policy speaks only of its own bucket. */
            if (blen == 0
                || (ps->bucket != NULL
                    && !s3_policy_like(b, blen, ps->bucket,
                                       strlen(ps->bucket), 0)))
            {
                goto fail;
            }
            if (slash != NULL) {
                *res |= S3_POLICY_RES_OBJECT;
            } else if (memchr(b, '*', blen) != NULL) {
                /* "arn:aws:s3:::b*" also covers "b/key". */
                *res |= S3_POLICY_RES_BUCKET | S3_POLICY_RES_OBJECT;
            } else {
                *res |= S3_POLICY_RES_BUCKET;
            }
        }
        s3_policy_pat_set(ps, &st->res[i], s, len);
        st->nres++;
    }
    return GW_OK;

fail:
    return s3_policy_fail(ps, "Policy has invalid resource");
}

static int
s3_policy_valid_key(const char *k, size_t len)
{
    size_t  i, n;

    for (i = 0; i < GW_NELEMS(s3_policy_keys); i++) {
        if (gw_ascii_ieq(k, len, s3_policy_keys[i],
                          strlen(s3_policy_keys[i])))
        {
            return 1;
        }
    }
    for (i = 0; i < GW_NELEMS(s3_policy_tag_keys); i++) {
        n = strlen(s3_policy_tag_keys[i]);
        if (len > n && s3_policy_iprefix(k, len, s3_policy_tag_keys[i])) {
            return 1;
        }
    }
    return 0;
}

static int
s3_policy_bool(json_t *v, int *b)
{
    const char  *s;
    size_t       len;

    if (json_is_boolean(v)) {
        *b = json_is_true(v);
        return 1;
    }
    if (!json_is_string(v)) {
        return 0;
    }
    s = json_string_value(v);
    len = json_string_length(v);
    if (gw_ascii_ieq(s, len, "true", 4)) {
        *b = 1;
        return 1;
    }
    if (gw_ascii_ieq(s, len, "false", 5)) {
        *b = 0;
        return 1;
    }
    return 0;
}

/* Converts one policy value of condition c (a JSON scalar) into pv. */
static int
s3_policy_parse_value(s3_policy_parser_t *ps, const s3_policy_cond_t *c,
                      json_t *v, s3_policy_val_t *pv)
{
    unsigned char  *bin;
    const char     *s = NULL;
    char            text[64];
    size_t          len = 0, cap;

    if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);
    }
    switch (c->op) {
    case S3_POLICY_OP_STR:
    case S3_POLICY_OP_STRI:
    case S3_POLICY_OP_LIKE:
    case S3_POLICY_OP_ARN:
        if (s == NULL) {
            /* IAM compares numbers and booleans as their text. */
            if (json_is_integer(v)) {
                snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(v));
            } else if (json_is_real(v)) {
                snprintf(text, sizeof(text), "%.15g", json_real_value(v));
            } else if (json_is_boolean(v)) {
                snprintf(text, sizeof(text), "%s",
                         json_is_true(v) ? "true" : "false");
            } else {
                goto fail;
            }
            s = text;
            len = strlen(text);
        }
        s3_policy_pat_set(ps, &pv->str, s, len);
        return GW_OK;
    case S3_POLICY_OP_NUM:
        if (json_is_number(v)) {
            pv->num = json_number_value(v);
            return GW_OK;
        }
        if (s != NULL && s3_policy_num(s, len, &pv->num)) {
            return GW_OK;
        }
        goto fail;
    case S3_POLICY_OP_DATE:
        if (json_is_integer(v) && json_integer_value(v) >= 0
            && json_integer_value(v) < 1000000000000LL)
        {
            pv->usec = (int64_t) json_integer_value(v) * 1000000;
            return GW_OK;
        }
        if (s != NULL && s3_policy_date(s, len, &pv->usec)) {
            return GW_OK;
        }
        goto fail;
    case S3_POLICY_OP_BOOL:
    case S3_POLICY_OP_NULL:
        if (s3_policy_bool(v, &pv->b)) {
            return GW_OK;
        }
        goto fail;
    case S3_POLICY_OP_BIN:
        if (s == NULL) {
            goto fail;
        }
        cap = len / 4 * 3 + 1;
        bin = gw_pool_alloc(ps->p->pool, cap);
        if (gw_base64_decode(bin, cap, &pv->str.len, s, len) != GW_OK) {
            goto fail;
        }
        pv->str.s = (const char *) bin;
        return GW_OK;
    case S3_POLICY_OP_IP:
        if (s != NULL && s3_policy_ip(s, len, 1, &pv->ip)) {
            return GW_OK;
        }
        goto fail;
    default:
        goto fail;
    }

fail:
    return s3_policy_fail(ps, "Invalid Condition value");
}

/* Finds operator name (with its ForAnyValue:/ForAllValues: prefix and
 * IfExists suffix) and fills the operator fields of c. */
static int
s3_policy_find_op(const char *name, s3_policy_cond_t *c)
{
    static const char  any[] = "ForAnyValue:", all[] = "ForAllValues:";
    static const char  ifex[] = "IfExists";
    size_t             len, i;

    c->set = S3_POLICY_SET_NONE;
    c->ifexists = 0;
    if (strncmp(name, any, sizeof(any) - 1) == 0) {
        c->set = S3_POLICY_SET_ANY;
        name += sizeof(any) - 1;
    } else if (strncmp(name, all, sizeof(all) - 1) == 0) {
        c->set = S3_POLICY_SET_ALL;
        name += sizeof(all) - 1;
    }
    len = strlen(name);
    if (len > sizeof(ifex) - 1
        && strcmp(name + len - (sizeof(ifex) - 1), ifex) == 0)
    {
        c->ifexists = 1;
        len -= sizeof(ifex) - 1;
    }
    for (i = 0; i < GW_NELEMS(s3_policy_ops); i++) {
        if (strlen(s3_policy_ops[i].name) == len
            && memcmp(s3_policy_ops[i].name, name, len) == 0)
        {
            /* Null asks whether the key exists: IfExists makes no sense. */
            if (c->ifexists && s3_policy_ops[i].op == S3_POLICY_OP_NULL) {
                return 0;
            }
            c->op = s3_policy_ops[i].op;
            c->cmp = s3_policy_ops[i].cmp;
            c->neg = s3_policy_ops[i].neg;
            return 1;
        }
    }
    return 0;
}

static int
s3_policy_parse_condition(s3_policy_parser_t *ps, json_t *v,
                          s3_policy_stmt_t *st)
{
    const char        *opname, *key;
    json_t            *block, *val, *item;
    s3_policy_cond_t  *c;
    size_t             n = 0, i, nv;
    int                rc;

    if (!json_is_object(v)) {
        goto bad_value;
    }
    json_object_foreach(v, opname, block) {
        if (json_is_object(block)) {
            n += json_object_size(block);
        }
    }
    st->cond = n ? gw_pool_calloc(ps->p->pool, n * sizeof(*st->cond)) : NULL;
    json_object_foreach(v, opname, block) {
        s3_policy_cond_t  proto;

        memset(&proto, 0, sizeof(proto));
        if (!s3_policy_find_op(opname, &proto)) {
            return s3_policy_fail(ps, "Invalid Condition type : %s", opname);
        }
        if (!json_is_object(block)) {
            goto bad_value;
        }
        json_object_foreach(block, key, val) {
            if (!s3_policy_valid_key(key, strlen(key))) {
                return s3_policy_fail(ps,
                                      "Policy has an invalid condition key");
            }
            c = &st->cond[st->ncond++];
            *c = proto;
            c->klen = strlen(key);
            c->key = gw_pool_strndup(ps->p->pool, key, c->klen);
            if (json_is_array(val)) {
                nv = json_array_size(val);
                if (nv == 0) {
                    goto bad_value;
                }
            } else {
                nv = 1;
            }
            c->v = gw_pool_calloc(ps->p->pool, nv * sizeof(*c->v));
            for (i = 0; i < nv; i++) {
                item = json_is_array(val) ? json_array_get(val, i) : val;
                if (json_is_array(item) || json_is_object(item)
                    || json_is_null(item))
                {
                    goto bad_value;
                }
                rc = s3_policy_parse_value(ps, c, item, &c->v[i]);
                if (rc != GW_OK) {
                    return rc;
                }
                c->nv++;
            }
        }
    }
    return GW_OK;

bad_value:
    return s3_policy_fail(ps, "Invalid Condition value");
}

/* Exactly one of the statement fields name and "Not" name: *out gets its
 * value and *negated whether it was the Not form. GW_OK, or MalformedPolicy
 * with both_msg when both are there, "Missing required field" when none. */
static int
s3_policy_one_of(s3_policy_parser_t *ps, json_t *obj, const char *name,
                 const char *both_msg, json_t **out, int *negated)
{
    char     notname[32];
    json_t  *v, *nv;

    snprintf(notname, sizeof(notname), "Not%s", name);
    v = json_object_get(obj, name);
    nv = json_object_get(obj, notname);
    if (v != NULL && nv != NULL) {
        return s3_policy_fail(ps, "%s", both_msg);
    }
    if (v == NULL && nv == NULL) {
        return s3_policy_fail(ps, "Missing required field %s", name);
    }
    *negated = v == NULL;
    *out = v ? v : nv;
    return GW_OK;
}

/* S3 refuses a field it does not know rather than ignore it: "Unknown
 * field" for the first key of obj that is not among the n names. */
static int
s3_policy_known_fields(s3_policy_parser_t *ps, json_t *obj,
                       const char *const *fields, size_t n)
{
    const char  *key;
    json_t      *v;
    size_t       i;

    json_object_foreach(obj, key, v) {
        for (i = 0; i < n; i++) {
            if (strcmp(key, fields[i]) == 0) {
                break;
            }
        }
        if (i == n) {
            return s3_policy_fail(ps, "Unknown field %s", key);
        }
    }
    return GW_OK;
}

static int
s3_policy_parse_stmt(s3_policy_parser_t *ps, json_t *obj, size_t idx,
                     s3_policy_stmt_t *st)
{
    static const char  *const fields[] = {
        "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
        "Resource", "NotResource", "Condition",
    };
    const char         *eff;
    json_t             *v, *sid, *effect, *cond;
    char               *dump;
    unsigned            amask, rmask;
    int                 rc;

    rc = s3_policy_known_fields(ps, obj, fields, GW_NELEMS(fields));
    if (rc != GW_OK) {
        return rc;
    }

    sid = json_object_get(obj, "Sid");
    if (sid != NULL && !json_is_string(sid)) {
        return s3_policy_fail(ps, "Statement IDs (SID) must be strings");
    }
    if (sid != NULL && json_string_length(sid) > 0) {
        st->which = gw_pool_strndup(ps->p->pool, json_string_value(sid),
                                    json_string_length(sid));
    } else {
        st->which = gw_pool_sprintf(ps->p->pool, "#%zu", idx + 1);
    }

    effect = json_object_get(obj, "Effect");
    if (effect == NULL) {
        return s3_policy_fail(ps, "Missing required field Effect");
    }
    eff = json_string_value(effect);
    if (eff == NULL || (strcmp(eff, "Allow") != 0 && strcmp(eff, "Deny") != 0))
    {
        if (eff != NULL) {
            return s3_policy_fail(ps, "Invalid effect: %s", eff);
        }
        dump = json_dumps(effect, JSON_ENCODE_ANY | JSON_COMPACT);
        rc = s3_policy_fail(ps, "Invalid effect: %s", dump ? dump : "");
        free(dump);
        return rc;
    }
    st->deny = strcmp(eff, "Deny") == 0;

    if ((rc = s3_policy_one_of(ps, obj, "Principal",
                               "Invalid principal in policy", &v,
                               &st->notprin)) != GW_OK
        || (rc = s3_policy_parse_principal(ps, v, st)) != GW_OK
        || (rc = s3_policy_one_of(ps, obj, "Action",
                                  "Policy has invalid action", &v,
                                  &st->notact)) != GW_OK
        || (rc = s3_policy_parse_actions(ps, v, st, &amask)) != GW_OK
        || (rc = s3_policy_one_of(ps, obj, "Resource",
                                  "Policy has invalid resource", &v,
                                  &st->notres)) != GW_OK
        || (rc = s3_policy_parse_resources(ps, v, st, &rmask)) != GW_OK)
    {
        return rc;
    }

    cond = json_object_get(obj, "Condition");
    if (cond != NULL) {
        rc = s3_policy_parse_condition(ps, cond, st);
        if (rc != GW_OK) {
            return rc;
        }
    }

    /* S3 refuses a statement none of whose actions can ever meet one of
     * its resources ("s3:GetObject" on "arn:aws:s3:::b"). The negated
     * forms name everything else, so they always apply somewhere. */
    if (!st->notact && !st->notres && (amask & rmask) == 0) {
        return s3_policy_fail(ps,
            "Action does not apply to any resource(s) in statement");
    }
    return GW_OK;
}

/* The document's Version (absent, 2012-10-17, or 2008-10-17, which has no
 * policy variables) and Id. */
static int
s3_policy_parse_version(s3_policy_parser_t *ps, json_t *root)
{
    json_t      *v;
    const char  *ver;

    v = json_object_get(root, "Version");
    if (v != NULL) {
        ver = json_string_value(v);
        if (ver == NULL || (strcmp(ver, "2012-10-17") != 0
                            && strcmp(ver, "2008-10-17") != 0))
        {
            return s3_policy_fail(ps, "The policy must contain a valid "
                                  "version string");
        }
        ps->p->vars = strcmp(ver, "2012-10-17") == 0;
    }
    v = json_object_get(root, "Id");
    if (v != NULL && !json_is_string(v)) {
        return s3_policy_fail(ps, "Policy Id must be a string");
    }
    return GW_OK;
}

/* How many statements Statement holds: 1 for a lone object, the size of
 * a non-empty array of objects, 0 for anything else. */
static size_t
s3_policy_stmt_count(json_t *stmts)
{
    size_t  n, i;

    if (json_is_object(stmts)) {
        return 1;
    }
    if (!json_is_array(stmts) || json_array_size(stmts) == 0) {
        return 0;
    }
    n = json_array_size(stmts);
    for (i = 0; i < n; i++) {
        if (!json_is_object(json_array_get(stmts, i))) {
            return 0;
        }
    }
    return n;
}

static json_t *
s3_policy_stmt_at(json_t *stmts, size_t i)
{
    return json_is_object(stmts) ? stmts : json_array_get(stmts, i);
}

/* Compiles the n statements of Statement into ps->p->st. */
static int
s3_policy_parse_stmts(s3_policy_parser_t *ps, json_t *stmts, size_t n)
{
    s3_policy_t  *p = ps->p;
    size_t        i;
    int           rc;

    p->st = gw_pool_calloc(p->pool, n * sizeof(*p->st));
    for (i = 0; i < n; i++) {
        rc = s3_policy_parse_stmt(ps, s3_policy_stmt_at(stmts, i), i,
                                  &p->st[i]);
        if (rc != GW_OK) {
            return rc;
        }
        p->n++;
    }
    return GW_OK;
}

/* Statements without a Sid are named "#N", which no Sid can collide
 * with unless it is spelled so; compare only the real Sids. */
static int
s3_policy_check_sids(s3_policy_parser_t *ps, json_t *stmts, size_t n)
{
    const char  *a, *b;
    size_t       i, j;

    for (i = 0; i < n; i++) {
        a = json_string_value(json_object_get(s3_policy_stmt_at(stmts, i),
                                              "Sid"));
        if (a == NULL || a[0] == '\0') {
            continue;
        }
        for (j = i + 1; j < n; j++) {
            b = json_string_value(json_object_get(json_array_get(stmts, j),
                                                  "Sid"));
            if (b != NULL && strcmp(a, b) == 0) {
                return s3_policy_fail(ps,
                    "Statement IDs (SID) in a single policy must be unique");
            }
        }
    }
    return GW_OK;
}

int
s3_policy_parse(const char *json, size_t len, const char *bucket,
                s3_policy_known_pt known, void *ud, s3_policy_t **out,
                char *why, size_t whylen)
{
    static const char  *const fields[] = { "Version", "Id", "Statement" };
    s3_policy_parser_t  ps = { NULL, bucket, known, ud, why, whylen };
    s3_policy_t        *p = NULL;
    json_t             *root = NULL, *stmts;
    json_error_t        jerr;
    size_t              n;
    int                 rc;

    *out = NULL;
    if (why != NULL && whylen > 0) {
        why[0] = '\0';
    }
    if (len > S3_POLICY_MAX) {
        return s3_policy_fail(&ps, "Policy exceeds the maximum allowed "
                              "document size.");
    }
    /* Duplicate keys would let two readers of one policy see two policies;
     * S3 refuses them. jansson also caps nesting depth. */
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        rc = s3_policy_fail(&ps, "This policy contains invalid Json");
        goto fail;
    }
    rc = s3_policy_known_fields(&ps, root, fields, GW_NELEMS(fields));
    if (rc != GW_OK) {
        goto fail;
    }

    p = gw_alloc(sizeof(*p));
    p->pool = gw_pool_create(4096);
    p->vars = 0;
    p->st = NULL;
    p->n = 0;
    ps.p = p;

    rc = s3_policy_parse_version(&ps, root);
    if (rc != GW_OK) {
        goto fail;
    }
    stmts = json_object_get(root, "Statement");
    n = s3_policy_stmt_count(stmts);
    if (n == 0) {
        rc = s3_policy_fail(&ps, "Missing required field Statement");
        goto fail;
    }
    rc = s3_policy_parse_stmts(&ps, stmts, n);
    if (rc == GW_OK) {
        rc = s3_policy_check_sids(&ps, stmts, n);
    }
    if (rc != GW_OK) {
        goto fail;
    }

    json_decref(root);
    *out = p;
    return GW_OK;

fail:
    json_decref(root);
    s3_policy_free(p);
    return rc;
}

void
s3_policy_free(s3_policy_t *p)
{
    if (p == NULL) {
        return;
    }
    gw_pool_destroy(p->pool);
    gw_free(p);
}
