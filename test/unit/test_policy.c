/* test/unit/test_policy.c: s3/policy, validation as S3 does it and IAM's
 * evaluation logic. Every policy here is for bucket "b". */
#include <time.h>

#include "s3/auth/policy.h"
#include "test/unit/unit.h"

#define ACCT1  "111122223333"
#define ACCT2  "444455556666"
#define CID_A  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CID_B  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
               "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define CID_C  "cccccccccccccccccccccccccccccccc" \
               "cccccccccccccccccccccccccccccccc"

#define KV(n, v)  { { (n), sizeof(n) - 1 }, { (v), sizeof(v) - 1 } }

/* A policy of version 2012-10-17 with the given statements. */
#define POL(stmts) \
    "{\"Version\":\"2012-10-17\",\"Statement\":[" stmts "]}"
/* One Allow statement for everyone on everything of b, with cond. */
#define ALLOW_IF(cond) \
    POL("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\"," \
        "\"Resource\":[\"arn:aws:s3:::b\",\"arn:aws:s3:::b/*\"]," \
        "\"Condition\":" cond "}")

static const s3_principal_t  alice = { "alice", ACCT1, CID_A };
static const s3_principal_t  bob = { "bob", ACCT1, CID_B };
static const s3_principal_t  carol = { "carol", ACCT2, CID_C };
static const s3_principal_t  anon = { NULL, NULL, NULL };

/* Our directory: accounts ACCT1 (alice, bob) and ACCT2 (carol). */
static int
known(void *ud, const char *account_id, const char *user,
      const char *canonical_id)
{
    int  *calls = ud;

    if (calls != NULL) {
        (*calls)++;
    }
    if (canonical_id != NULL) {
        return strcmp(canonical_id, CID_A) == 0
               || strcmp(canonical_id, CID_B) == 0
               || strcmp(canonical_id, CID_C) == 0;
    }
    if (strcmp(account_id, ACCT1) == 0) {
        return user == NULL || strcmp(user, "alice") == 0
               || strcmp(user, "bob") == 0;
    }
    if (strcmp(account_id, ACCT2) == 0) {
        return user == NULL || strcmp(user, "carol") == 0;
    }
    return 0;
}

static s3_policy_t *
good(const char *json)
{
    s3_policy_t  *p = NULL;
    char          why[256];
    int           rc;

    rc = s3_policy_parse(json, strlen(json), "b", known, NULL, &p, why,
                         sizeof(why));
    if (rc != GW_OK) {
        fprintf(stderr, "# refused (%s): %s\n", why, json);
    }
    CHECK_EQ_INT(rc, GW_OK);
    CHECK(p != NULL);
    return p;
}

static void
bad(const char *json, const char *msg)
{
    s3_policy_t  *p = (s3_policy_t *) 1;
    char          why[256];

    CHECK_EQ_INT(s3_policy_parse(json, strlen(json), "b", known, NULL, &p,
                                 why, sizeof(why)), GW_EINVAL);
    CHECK(p == NULL);
    if (strcmp(why, msg) != 0) {
        fprintf(stderr, "# for: %s\n", json);
    }
    CHECK_EQ_STR(why, msg);
}

static int
ev_ctx(const s3_policy_t *p, const s3_principal_t *who, const char *action,
       const char *resource, const gw_kv_t *kv, size_t n)
{
    s3_policy_ctx_t  ctx = { kv, n };

    return s3_policy_eval(p, who, action, resource, &ctx, NULL);
}

static int
ev(const s3_policy_t *p, const s3_principal_t *who, const char *action,
   const char *resource)
{
    return s3_policy_eval(p, who, action, resource, NULL, NULL);
}

/* Evaluates ALLOW_IF-style policy p for alice's GetObject with ctx. */
static int
cond(const s3_policy_t *p, const gw_kv_t *kv, size_t n)
{
    return ev_ctx(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k", kv, n);
}

#define A  S3_POLICY_ALLOW
#define D  S3_POLICY_DENY
#define N  S3_POLICY_NONE

/* ==== validation ==== */

TEST(policy_parse_errors)
{
    static const char  *stmt_ok =
        "\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::b/*\"";
    char                big[S3_POLICY_MAX + 64], buf[1024];
    s3_policy_t        *p;
    char                why[64];

    memset(big, ' ', sizeof(big));
    memcpy(big, "{}", 2);
    p = (s3_policy_t *) 1;
    CHECK_EQ_INT(s3_policy_parse(big, sizeof(big), "b", NULL, NULL, &p, why,
                                 sizeof(why)), GW_EINVAL);
    CHECK(p == NULL);
    CHECK_EQ_STR(why, "Policy exceeds the maximum allowed document size.");

    bad("", "This policy contains invalid Json");
    bad("{", "This policy contains invalid Json");
    bad("[]", "This policy contains invalid Json");
    bad("\"x\"", "This policy contains invalid Json");
    bad("{\"Statement\":[],\"Statement\":[]}",
        "This policy contains invalid Json");
    snprintf(buf, sizeof(buf), "{\"Statement\":{%s,\"Effect\":\"Deny\"}}",
             stmt_ok);
    bad(buf, "This policy contains invalid Json");

    bad("{\"Version\":\"2012-10-17\"}", "Missing required field Statement");
    bad(POL(""), "Missing required field Statement");
    bad("{\"Statement\":\"x\"}", "Missing required field Statement");
    bad("{\"Statement\":[1]}", "Missing required field Statement");
    bad("{\"Version\":\"2012-10-18\",\"Statement\":{}}",
        "The policy must contain a valid version string");
    bad("{\"Version\":2012,\"Statement\":{}}",
        "The policy must contain a valid version string");
    bad("{\"Statement\":{},\"Extra\":1}", "Unknown field Extra");

    snprintf(buf, sizeof(buf), POL("{%s,\"Foo\":1}"), stmt_ok);
    bad(buf, "Unknown field Foo");
    bad(POL("{\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
            "\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Missing required field Effect");
    bad(POL("{\"Effect\":\"allow\",\"Principal\":\"*\","
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid effect: allow");
    bad(POL("{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
            "\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Missing required field Principal");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotPrincipal\":\"*\","
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Missing required field Action");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Action\":\"s3:GetObject\"}"),
        "Missing required field Resource");

    /* Sids must be unique */
    snprintf(buf, sizeof(buf), POL("{\"Sid\":\"x\",%s},{\"Sid\":\"x\",%s}"),
             stmt_ok, stmt_ok);
    bad(buf, "Statement IDs (SID) in a single policy must be unique");
    snprintf(buf, sizeof(buf), POL("{\"Sid\":\"x\",%s},{\"Sid\":\"y\",%s}"),
             stmt_ok, stmt_ok);
    s3_policy_free(good(buf));

    /* actions */
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:Fly\","
            "\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Policy has invalid action");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Action\":\"iam:GetUser\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Policy has invalid action");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[],"
            "\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Policy has invalid action");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Action\":[\"s3:GetObject\",3],"
            "\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Policy has invalid action");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:Xyz*\","
            "\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Policy has invalid action");

    /* resources: only this bucket's */
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::c/*\"}"),
        "Policy has invalid resource");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::/k\"}"),
        "Policy has invalid resource");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Action\":\"s3:GetObject\",\"Resource\":\"b/*\"}"),
        "Policy has invalid resource");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Action\":\"s3:GetObject\",\"Resource\":[\"arn:aws:s3:::b/*\","
            "\"arn:aws:s3:::bb/*\"]}"),
        "Policy has invalid resource");

    /* actions that meet none of the resources */
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b\"}"),
        "Action does not apply to any resource(s) in statement");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Action does not apply to any resource(s) in statement");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
            "\"Action\":\"s3:ListAllMyBuckets\","
            "\"Resource\":\"arn:aws:s3:::b\"}"),
        "Action does not apply to any resource(s) in statement");
    /* ... but wildcards and the negated forms apply broadly */
    s3_policy_free(good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"Action\":\"s3:Get*\",\"Resource\":\"arn:aws:s3:::b\"}")));
    s3_policy_free(good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b*\"}")));
    s3_policy_free(good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"Action\":\"s3:ListBucket\",\"Resource\":\"*\"}")));
    s3_policy_free(good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"NotAction\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}")));
    s3_policy_free(good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"Action\":\"s3:ListBucket\",\"NotResource\":\"arn:aws:s3:::b/*\"}")));

    /* conditions */
    bad(ALLOW_IF("{\"StringFoo\":{\"s3:prefix\":\"a\"}}"),
        "Invalid Condition type : StringFoo");
    bad(ALLOW_IF("{\"NullIfExists\":{\"s3:prefix\":\"true\"}}"),
        "Invalid Condition type : NullIfExists");
    bad(ALLOW_IF("{\"ForSomeValues:StringLike\":{\"s3:prefix\":\"a\"}}"),
        "Invalid Condition type : ForSomeValues:StringLike");
    bad(ALLOW_IF("{\"StringEquals\":{\"s3:nosuchkey\":\"a\"}}"),
        "Policy has an invalid condition key");
    bad(ALLOW_IF("{\"StringEquals\":{\"s3:ExistingObjectTag/\":\"a\"}}"),
        "Policy has an invalid condition key");
    bad(ALLOW_IF("{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.300/8\"}}"),
        "Invalid Condition value");
    bad(ALLOW_IF("{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/33\"}}"),
        "Invalid Condition value");
    bad(ALLOW_IF("{\"NumericLessThan\":{\"s3:max-keys\":\"ten\"}}"),
        "Invalid Condition value");
    bad(ALLOW_IF("{\"DateLessThan\":{\"aws:CurrentTime\":\"2026-02-30\"}}"),
        "Invalid Condition value");
    bad(ALLOW_IF("{\"Bool\":{\"aws:SecureTransport\":\"yes\"}}"),
        "Invalid Condition value");
    bad(ALLOW_IF("{\"BinaryEquals\":{\"s3:prefix\":\"not base64!\"}}"),
        "Invalid Condition value");
    bad(ALLOW_IF("{\"StringEquals\":{\"s3:prefix\":[]}}"),
        "Invalid Condition value");
    bad(ALLOW_IF("{\"StringEquals\":{\"s3:prefix\":[[\"a\"]]}}"),
        "Invalid Condition value");
    bad(ALLOW_IF("{\"StringEquals\":\"s3:prefix\"}"),
        "Invalid Condition value");

    /* every operator with every prefix and suffix is known */
    s3_policy_free(good(ALLOW_IF("{"
        "\"ForAnyValue:StringNotEqualsIgnoreCaseIfExists\":{\"s3:prefix\":1},"
        "\"ForAllValues:ArnNotLike\":{\"aws:Referer\":true},"
        "\"NumericGreaterThanEqualsIfExists\":{\"s3:max-keys\":[\"1.5\",2]},"
        "\"DateNotEquals\":{\"aws:EpochTime\":1700000000},"
        "\"Null\":{\"s3:ExistingObjectTag/Team\":false},"
        "\"BinaryEquals\":{\"s3:prefix\":\"AAEC\"},"
        "\"NotIpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"::1\"]},"
        "\"StringLike\":{\"AWS:USERAGENT\":\"*\"}}")));
    s3_policy_free(good("{\"Id\":\"x\",\"Statement\":{\"Effect\":\"Deny\","
        "\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}}"));
}

/* ==== principals ==== */

TEST(policy_principals)
{
    s3_policy_t  *p;
    char          why[128];
    int           calls = 0;
    const char   *j;

    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
                 "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::"
                 "b/*\"}"));
    CHECK_EQ_INT(ev(p, &anon, "s3:GetObject", "arn:aws:s3:::b/k"), A);
    CHECK_EQ_INT(ev(p, &carol, "s3:GetObject", "arn:aws:s3:::b/k"), A);
    s3_policy_free(p);

    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},"
                 "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::"
                 "b/*\"}"));
    CHECK_EQ_INT(ev(p, &anon, "s3:GetObject", "arn:aws:s3:::b/k"), A);
    s3_policy_free(p);

    /* an account id and :root both name every user of the account */
    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ACCT1 "\"},"
                 "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::"
                 "b/*\"}"));
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k"), A);
    CHECK_EQ_INT(ev(p, &bob, "s3:GetObject", "arn:aws:s3:::b/k"), A);
    CHECK_EQ_INT(ev(p, &carol, "s3:GetObject", "arn:aws:s3:::b/k"), N);
    CHECK_EQ_INT(ev(p, &anon, "s3:GetObject", "arn:aws:s3:::b/k"), N);
    s3_policy_free(p);
    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                 "[\"arn:aws:iam::" ACCT2 ":root\"]},"
                 "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::"
                 "b/*\"}"));
    CHECK_EQ_INT(ev(p, &carol, "s3:GetObject", "arn:aws:s3:::b/k"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k"), N);
    s3_policy_free(p);

    /* a user ARN names one user; CanonicalUser one canonical id */
    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                 "\"arn:aws:iam::" ACCT1 ":user/bob\",\"CanonicalUser\":"
                 "[\"" CID_C "\"]},\"Action\":\"s3:GetObject\","
                 "\"Resource\":\"arn:aws:s3:::b/*\"}"));
    CHECK_EQ_INT(ev(p, &bob, "s3:GetObject", "arn:aws:s3:::b/k"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k"), N);
    CHECK_EQ_INT(ev(p, &carol, "s3:GetObject", "arn:aws:s3:::b/k"), A);
    CHECK_EQ_INT(ev(p, &anon, "s3:GetObject", "arn:aws:s3:::b/k"), N);
    s3_policy_free(p);

    /* canonical ids compare without case */
    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":{\"CanonicalUser\":"
                 "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"},"
                 "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::"
                 "b/*\"}"));
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k"), A);
    CHECK_EQ_INT(ev(p, &bob, "s3:GetObject", "arn:aws:s3:::b/k"), N);
    s3_policy_free(p);

    /* NotPrincipal: everyone but the listed, anonymous included */
    p = good(POL("{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":"
                 "[\"arn:aws:iam::" ACCT1 ":user/alice\"]},"
                 "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"}"));
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k"), N);
    CHECK_EQ_INT(ev(p, &bob, "s3:GetObject", "arn:aws:s3:::b/k"), D);
    CHECK_EQ_INT(ev(p, &anon, "s3:GetObject", "arn:aws:s3:::b/k"), D);
    s3_policy_free(p);

    /* the forms S3 refuses */
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":\"" ACCT1 "\","
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"x\"},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":{},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"12345\"},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
            "\"arn:aws:iam::" ACCT1 ":group/x\"},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
            "\"arn:aws:iam::" ACCT1 ":user/*\"},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":{\"CanonicalUser\":\"abc\"},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");
    /* well-formed, but not one of ours */
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"999988887777\"},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
            "\"arn:aws:iam::" ACCT2 ":user/alice\"},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");
    bad(POL("{\"Effect\":\"Allow\",\"Principal\":{\"CanonicalUser\":"
            "\"dddddddddddddddddddddddddddddddd"
            "dddddddddddddddddddddddddddddddd\"},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
        "Invalid principal in policy");

    /* known is asked once per named principal, and may be NULL */
    j = POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"" ACCT1 "\","
            "\"arn:aws:iam::" ACCT1 ":user/bob\",\"*\"]},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}");
    CHECK_EQ_INT(s3_policy_parse(j, strlen(j), "b", known, &calls, &p, why,
                                 sizeof(why)), GW_OK);
    CHECK_EQ_INT(calls, 2);
    s3_policy_free(p);
    j = POL("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"999988887777\"},"
            "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}");
    CHECK_EQ_INT(s3_policy_parse(j, strlen(j), "b", NULL, NULL, &p, why,
                                 sizeof(why)), GW_OK);
    s3_policy_free(p);
}

/* ==== actions and resources ==== */

TEST(policy_actions_resources)
{
    s3_policy_t  *p;

    /* "s3:Get*" with both kinds of resource; actions fold case */
    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
                 "\"Action\":\"s3:Get*\","
                 "\"Resource\":[\"arn:aws:s3:::b\",\"arn:aws:s3:::b/*\"]}"));
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:getobjectacl", "arn:aws:s3:::b/k"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetBucketAcl", "arn:aws:s3:::b"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:PutObject", "arn:aws:s3:::b/k"), N);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::bb/k"), N);
    s3_policy_free(p);

    /* a star after the slash names the objects, not the bucket; and
     * resources keep their case */
    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
                 "\"Action\":\"*\",\"Resource\":\"arn:aws:s3:::b/*\"}"));
    CHECK_EQ_INT(ev(p, &alice, "s3:ListBucket", "arn:aws:s3:::b"), N);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/a/b/c"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::B/k"), N);
    s3_policy_free(p);

    /* '?' is one byte exactly */
    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
                 "\"Action\":\"s3:GetObjec?\","
                 "\"Resource\":\"arn:aws:s3:::b/k?\"}"));
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k1"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k"), N);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k12"), N);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObjectAcl", "arn:aws:s3:::b/k1"), N);
    s3_policy_free(p);

    /* NotAction: every action but the listed */
    p = good(POL("{\"Effect\":\"Deny\",\"Principal\":\"*\","
                 "\"NotAction\":[\"s3:GetObject\",\"s3:List*\"],"
                 "\"Resource\":[\"arn:aws:s3:::b\",\"arn:aws:s3:::b/*\"]}"));
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/k"), N);
    CHECK_EQ_INT(ev(p, &alice, "s3:ListBucket", "arn:aws:s3:::b"), N);
    CHECK_EQ_INT(ev(p, &alice, "s3:DeleteObject", "arn:aws:s3:::b/k"), D);
    s3_policy_free(p);

    /* NotResource: everything but the listed */
    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
                 "\"Action\":\"s3:*\","
                 "\"NotResource\":\"arn:aws:s3:::b/private/*\"}"));
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/public/x"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:ListBucket", "arn:aws:s3:::b"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/private/x"),
                 N);
    s3_policy_free(p);

    /* a bucket wildcard covers the bucket and its objects */
    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
                 "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::*\"}"));
    CHECK_EQ_INT(ev(p, &anon, "s3:ListBucket", "arn:aws:s3:::b"), A);
    CHECK_EQ_INT(ev(p, &anon, "s3:PutObject", "arn:aws:s3:::b/x/y"), A);
    s3_policy_free(p);
}

/* ==== combining statements ==== */

TEST(policy_deny_wins)
{
    s3_policy_t  *p;
    const char   *which = "unset";
    s3_policy_ctx_t  ctx = { NULL, 0 };

    p = good(POL(
        "{\"Sid\":\"everyone\",\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"},"
        "{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"" ACCT2 "\"},"
        "\"Action\":\"s3:DeleteObject\",\"Resource\":\"arn:aws:s3:::b/*\"},"
        "{\"Sid\":\"bob\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::" ACCT1 ":user/bob\"},\"Action\":\"s3:ListBucket\","
        "\"Resource\":\"arn:aws:s3:::b\"}"));
    CHECK_EQ_INT(s3_policy_eval(p, &carol, "s3:GetObject",
                                "arn:aws:s3:::b/k", &ctx, &which), A);
    CHECK_EQ_STR(which, "everyone");
    CHECK_EQ_INT(s3_policy_eval(p, &carol, "s3:DeleteObject",
                                "arn:aws:s3:::b/k", &ctx, &which), D);
    CHECK_EQ_STR(which, "#2");
    CHECK_EQ_INT(s3_policy_eval(p, &alice, "s3:DeleteObject",
                                "arn:aws:s3:::b/k", &ctx, &which), A);
    CHECK_EQ_INT(s3_policy_eval(p, &bob, "s3:ListBucket",
                                "arn:aws:s3:::b", &ctx, &which), A);
    CHECK_EQ_STR(which, "bob");
    CHECK_EQ_INT(s3_policy_eval(p, &alice, "s3:ListBucket",
                                "arn:aws:s3:::b", &ctx, &which), N);
    CHECK(which == NULL);
    s3_policy_free(p);

    /* a Deny statement earlier or later decides the same */
    p = good("{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
             "\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::b/*\"},"
             "{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
             "\"Resource\":\"*\"}]}");
    CHECK_EQ_INT(s3_policy_eval(p, &alice, "s3:PutObject",
                                "arn:aws:s3:::b/k", NULL, &which), D);
    CHECK_EQ_STR(which, "#1");
    CHECK_EQ_INT(s3_policy_eval(p, &alice, "s3:GetObject",
                                "arn:aws:s3:::b/k", NULL, &which), A);
    CHECK_EQ_STR(which, "#2");
    s3_policy_free(p);
    s3_policy_free(NULL);
}

/* ==== conditions ==== */

TEST(policy_cond_string)
{
    static const gw_kv_t  pre[] = { KV("s3:prefix", "home/alice") };
    static const gw_kv_t  pre_uc[] = { KV("S3:Prefix", "HOME/ALICE") };
    static const gw_kv_t  other[] = { KV("s3:delimiter", "/") };
    s3_policy_t          *p;

    p = good(ALLOW_IF("{\"StringEquals\":{\"s3:prefix\":[\"x\","
                      "\"home/alice\"]}}"));
    CHECK_EQ_INT(cond(p, pre, 1), A);
    CHECK_EQ_INT(cond(p, pre_uc, 1), N);       /* values keep case */
    CHECK_EQ_INT(cond(p, other, 1), N);        /* absent: false */
    CHECK_EQ_INT(cond(p, NULL, 0), N);
    s3_policy_free(p);

    p = good(ALLOW_IF("{\"StringEqualsIgnoreCase\":{\"s3:prefix\":"
                      "\"Home/Alice\"}}"));
    CHECK_EQ_INT(cond(p, pre, 1), A);
    CHECK_EQ_INT(cond(p, pre_uc, 1), A);
    s3_policy_free(p);

    p = good(ALLOW_IF("{\"StringNotEquals\":{\"s3:prefix\":[\"a\","
                      "\"home/alice\"]}}"));
    CHECK_EQ_INT(cond(p, pre, 1), N);
    CHECK_EQ_INT(cond(p, pre_uc, 1), A);
    CHECK_EQ_INT(cond(p, other, 1), A);        /* absent: true for Not* */
    s3_policy_free(p);

    p = good(ALLOW_IF("{\"StringNotEqualsIgnoreCase\":{\"s3:prefix\":"
                      "\"HOME/alice\"}}"));
    CHECK_EQ_INT(cond(p, pre_uc, 1), N);
    s3_policy_free(p);

    p = good(ALLOW_IF("{\"StringLike\":{\"s3:prefix\":\"home/*\"}}"));
    CHECK_EQ_INT(cond(p, pre, 1), A);
    CHECK_EQ_INT(cond(p, pre_uc, 1), N);
    CHECK_EQ_INT(cond(p, other, 1), N);
    s3_policy_free(p);

    p = good(ALLOW_IF("{\"StringNotLike\":{\"s3:prefix\":\"home/*\"}}"));
    CHECK_EQ_INT(cond(p, pre, 1), N);
    CHECK_EQ_INT(cond(p, other, 1), A);
    s3_policy_free(p);

    /* IfExists: an absent key satisfies it */
    p = good(ALLOW_IF("{\"StringEqualsIfExists\":{\"s3:prefix\":\"x\"}}"));
    CHECK_EQ_INT(cond(p, pre, 1), N);
    CHECK_EQ_INT(cond(p, other, 1), A);
    s3_policy_free(p);

    /* operators AND, keys AND */
    p = good(ALLOW_IF("{\"StringLike\":{\"s3:prefix\":\"home/*\","
                      "\"s3:delimiter\":\"/\"},"
                      "\"StringNotEquals\":{\"s3:prefix\":\"home/bob\"}}"));
    {
        static const gw_kv_t  both[] = { KV("s3:prefix", "home/alice"),
                                         KV("s3:delimiter", "/") };
        static const gw_kv_t  bobs[] = { KV("s3:prefix", "home/bob"),
                                         KV("s3:delimiter", "/") };

        CHECK_EQ_INT(cond(p, both, 2), A);
        CHECK_EQ_INT(cond(p, bobs, 2), N);
        CHECK_EQ_INT(cond(p, pre, 1), N);
    }
    s3_policy_free(p);

    /* numbers compare as their text in string operators */
    p = good(ALLOW_IF("{\"StringEquals\":{\"s3:max-keys\":10}}"));
    {
        static const gw_kv_t  mk[] = { KV("s3:max-keys", "10") };

        CHECK_EQ_INT(cond(p, mk, 1), A);
    }
    s3_policy_free(p);

    /* tag keys are case-sensitive after the '/' */
    p = good(ALLOW_IF("{\"StringEquals\":{\"s3:ExistingObjectTag/Team\":"
                      "\"x\"}}"));
    {
        static const gw_kv_t  t1[] = { KV("s3:existingobjecttag/Team", "x") };
        static const gw_kv_t  t2[] = { KV("s3:ExistingObjectTag/team", "x") };

        CHECK_EQ_INT(cond(p, t1, 1), A);
        CHECK_EQ_INT(cond(p, t2, 1), N);
    }
    s3_policy_free(p);
}

/* Keys of the whole S3 reference page and the global aws:* keys parse;
 * present they compare, absent they are "not present" (IfExists and Null
 * true hold, other operators do not). */
TEST(policy_documented_keys)
{
    static const char  *keys[] = {
        "s3:x-amz-server-side-encryption-customer-algorithm",
        "s3:if-match", "s3:if-none-match", "s3:ObjectCreationOperation",
        "s3:AccessGrantScope", "s3:ExistingJobPriority",
        "s3:InventoryAccessibleOptionalFields", "s3:destinationRegion",
        "s3:isReplicationPauseRequest", "s3:x-amz-bucket-namespace",
        "s3:BucketTag/team", "s3:AccessPointTag/x", "aws:SourceVpcArn",
        "aws:VpceAccount", "aws:RoleSessionName", "aws:AssumedRoot",
        "S3:IF-NONE-MATCH",
    };
    static const gw_kv_t  inm[] = { KV("s3:if-none-match", "*") };
    static const gw_kv_t  create[] = {
        KV("s3:ObjectCreationOperation", "false")
    };
    s3_policy_t          *p;
    char                  json[512];
    size_t                i;

    for (i = 0; i < GW_NELEMS(keys); i++) {
        snprintf(json, sizeof(json),
                 ALLOW_IF("{\"Null\":{\"%s\":\"true\"}}"), keys[i]);
        p = good(json);
        CHECK_EQ_INT(cond(p, NULL, 0), A);      /* absent */
        s3_policy_free(p);
    }
    bad(ALLOW_IF("{\"Null\":{\"s3:if-nonematch\":\"true\"}}"),
        "Policy has an invalid condition key");
    bad(ALLOW_IF("{\"Null\":{\"s3:BucketTag/\":\"true\"}}"),
        "Policy has an invalid condition key");

    p = good(ALLOW_IF("{\"StringEquals\":{\"s3:if-none-match\":\"*\"}}"));
    CHECK_EQ_INT(cond(p, inm, 1), A);
    CHECK_EQ_INT(cond(p, NULL, 0), N);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"StringEqualsIfExists\":"
                      "{\"s3:x-amz-server-side-encryption-customer-algorithm\""
                      ":\"AES256\"}}"));
    CHECK_EQ_INT(cond(p, NULL, 0), A);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"Bool\":{\"s3:ObjectCreationOperation\":false}}"));
    CHECK_EQ_INT(cond(p, create, 1), A);
    CHECK_EQ_INT(cond(p, NULL, 0), N);
    s3_policy_free(p);
}

TEST(policy_cond_typed)
{
    static const gw_kv_t  mk5[] = { KV("s3:max-keys", "5") };
    static const gw_kv_t  mk10[] = { KV("s3:max-keys", "10.0") };
    static const gw_kv_t  mkbad[] = { KV("s3:max-keys", "lots") };
    static const gw_kv_t  t_iso[] = { KV("aws:CurrentTime",
                                         "2026-06-01T12:00:00Z") };
    static const gw_kv_t  t_frac[] = { KV("aws:CurrentTime",
                                          "2026-12-01T15:52:00.250Z") };
    static const gw_kv_t  t_epoch[] = { KV("aws:EpochTime", "1798761600") };
    static const gw_kv_t  sec_t[] = { KV("aws:SecureTransport", "TRUE") };
    static const gw_kv_t  sec_f[] = { KV("aws:SecureTransport", "false") };
    static const gw_kv_t  bin[] = { KV("s3:x-amz-content-sha256", "\x01\x02") };
    static const gw_kv_t  binx[] = { KV("s3:x-amz-content-sha256",
                                        "\x01\x03") };
    s3_policy_t          *p;

    p = good(ALLOW_IF("{\"NumericLessThanEquals\":{\"s3:max-keys\":\"10\"}}"));
    CHECK_EQ_INT(cond(p, mk5, 1), A);
    CHECK_EQ_INT(cond(p, mk10, 1), A);
    CHECK_EQ_INT(cond(p, mkbad, 1), N);
    CHECK_EQ_INT(cond(p, NULL, 0), N);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"NumericLessThan\":{\"s3:max-keys\":10}}"));
    CHECK_EQ_INT(cond(p, mk5, 1), A);
    CHECK_EQ_INT(cond(p, mk10, 1), N);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"NumericGreaterThan\":{\"s3:max-keys\":5.5}}"));
    CHECK_EQ_INT(cond(p, mk5, 1), N);
    CHECK_EQ_INT(cond(p, mk10, 1), A);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"NumericNotEquals\":{\"s3:max-keys\":10}}"));
    CHECK_EQ_INT(cond(p, mk5, 1), A);
    CHECK_EQ_INT(cond(p, mk10, 1), N);
    CHECK_EQ_INT(cond(p, NULL, 0), A);
    s3_policy_free(p);

    /* dates: ISO 8601 with or without time and fraction, or epoch */
    p = good(ALLOW_IF("{\"DateLessThan\":{\"aws:CurrentTime\":"
                      "\"2026-12-01T15:52:00Z\"}}"));
    CHECK_EQ_INT(cond(p, t_iso, 1), A);
    CHECK_EQ_INT(cond(p, t_frac, 1), N);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"DateGreaterThan\":{\"aws:CurrentTime\":"
                      "\"2026-12-01T15:52:00Z\"}}"));
    CHECK_EQ_INT(cond(p, t_frac, 1), A);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"DateGreaterThanEquals\":{\"aws:CurrentTime\":"
                      "\"2026-06-01\"}}"));
    CHECK_EQ_INT(cond(p, t_iso, 1), A);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"DateLessThanEquals\":{\"aws:CurrentTime\":"
                      "\"2026-06-01T11:59:59.999Z\"}}"));
    CHECK_EQ_INT(cond(p, t_iso, 1), N);
    s3_policy_free(p);
    /* 1798761600 is 2027-01-01T00:00:00Z, whichever side says it */
    p = good(ALLOW_IF("{\"DateEquals\":{\"aws:EpochTime\":"
                      "\"2027-01-01T02:00:00+02:00\"}}"));
    CHECK_EQ_INT(cond(p, t_epoch, 1), A);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"DateEquals\":{\"aws:CurrentTime\":1780315200}}"));
    CHECK_EQ_INT(cond(p, t_iso, 1), A);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"DateNotEquals\":{\"aws:CurrentTime\":"
                      "\"1780315200\"}}"));
    CHECK_EQ_INT(cond(p, t_iso, 1), N);
    CHECK_EQ_INT(cond(p, t_frac, 1), A);
    s3_policy_free(p);

    /* Bool folds case; a missing key is not false */
    p = good(ALLOW_IF("{\"Bool\":{\"aws:SecureTransport\":\"true\"}}"));
    CHECK_EQ_INT(cond(p, sec_t, 1), A);
    CHECK_EQ_INT(cond(p, sec_f, 1), N);
    CHECK_EQ_INT(cond(p, NULL, 0), N);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"Bool\":{\"aws:SecureTransport\":false}}"));
    CHECK_EQ_INT(cond(p, sec_f, 1), A);
    CHECK_EQ_INT(cond(p, sec_t, 1), N);
    s3_policy_free(p);

    /* Null: true means absent, false present */
    p = good(ALLOW_IF("{\"Null\":{\"aws:SecureTransport\":\"true\"}}"));
    CHECK_EQ_INT(cond(p, NULL, 0), A);
    CHECK_EQ_INT(cond(p, sec_f, 1), N);
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"Null\":{\"aws:SecureTransport\":false}}"));
    CHECK_EQ_INT(cond(p, NULL, 0), N);
    CHECK_EQ_INT(cond(p, sec_f, 1), A);
    s3_policy_free(p);

    /* BinaryEquals: the policy holds base64 of the bytes */
    p = good(ALLOW_IF("{\"BinaryEquals\":{\"s3:x-amz-content-sha256\":"
                      "\"AQI=\"}}"));
    CHECK_EQ_INT(cond(p, bin, 1), A);
    CHECK_EQ_INT(cond(p, binx, 1), N);
    s3_policy_free(p);
}

TEST(policy_cond_ip)
{
    static const gw_kv_t  in4[] = { KV("aws:SourceIp", "192.0.2.77") };
    static const gw_kv_t  out4[] = { KV("aws:SourceIp", "192.0.3.1") };
    static const gw_kv_t  mapped[] = { KV("aws:SourceIp", "::ffff:192.0.2.5") };
    static const gw_kv_t  in6[] = { KV("aws:SourceIp", "2001:db8:1:2::9") };
    static const gw_kv_t  out6[] = { KV("aws:SourceIp", "2001:db9::1") };
    static const gw_kv_t  host[] = { KV("aws:SourceIp", "203.0.113.9") };
    static const gw_kv_t  junk[] = { KV("aws:SourceIp", "not-an-ip") };
    s3_policy_t          *p;

    p = good(ALLOW_IF("{\"IpAddress\":{\"aws:SourceIp\":[\"192.0.2.0/24\","
                      "\"2001:DB8::/32\",\"203.0.113.9\"]}}"));
    CHECK_EQ_INT(cond(p, in4, 1), A);
    CHECK_EQ_INT(cond(p, out4, 1), N);
    CHECK_EQ_INT(cond(p, mapped, 1), A);
    CHECK_EQ_INT(cond(p, in6, 1), A);
    CHECK_EQ_INT(cond(p, out6, 1), N);
    CHECK_EQ_INT(cond(p, host, 1), A);
    CHECK_EQ_INT(cond(p, junk, 1), N);
    CHECK_EQ_INT(cond(p, NULL, 0), N);
    s3_policy_free(p);

    /* odd prefix lengths, host bits set in the range */
    p = good(ALLOW_IF("{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.77/25\"}}"));
    CHECK_EQ_INT(cond(p, in4, 1), A);
    {
        static const gw_kv_t  hi[] = { KV("aws:SourceIp", "192.0.2.200") };

        CHECK_EQ_INT(cond(p, hi, 1), N);
    }
    s3_policy_free(p);

    p = good(ALLOW_IF("{\"NotIpAddress\":{\"aws:SourceIp\":"
                      "\"192.0.2.0/24\"}}"));
    CHECK_EQ_INT(cond(p, in4, 1), N);
    CHECK_EQ_INT(cond(p, mapped, 1), N);
    CHECK_EQ_INT(cond(p, out4, 1), A);
    CHECK_EQ_INT(cond(p, NULL, 0), A);
    s3_policy_free(p);

    p = good(ALLOW_IF("{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}"));
    CHECK_EQ_INT(cond(p, out4, 1), A);
    CHECK_EQ_INT(cond(p, in6, 1), N);
    s3_policy_free(p);
}

TEST(policy_cond_sets)
{
    static const gw_kv_t  keys_ok[] = {
        KV("s3:RequestObjectTagKeys", "team"),
        KV("s3:RequestObjectTagKeys", "cost"),
    };
    static const gw_kv_t  keys_mixed[] = {
        KV("s3:RequestObjectTagKeys", "team"),
        KV("s3:RequestObjectTagKeys", "secret"),
    };
    static const gw_kv_t  keys_none[] = {
        KV("s3:RequestObjectTagKeys", "x"),
        KV("s3:RequestObjectTagKeys", "y"),
    };
    s3_policy_t          *p;

    p = good(ALLOW_IF("{\"ForAllValues:StringEquals\":"
                      "{\"s3:RequestObjectTagKeys\":[\"team\",\"cost\"]}}"));
    CHECK_EQ_INT(cond(p, keys_ok, 2), A);
    CHECK_EQ_INT(cond(p, keys_mixed, 2), N);
    CHECK_EQ_INT(cond(p, NULL, 0), A);         /* vacuously */
    s3_policy_free(p);

    p = good(ALLOW_IF("{\"ForAnyValue:StringEquals\":"
                      "{\"s3:RequestObjectTagKeys\":[\"team\",\"cost\"]}}"));
    CHECK_EQ_INT(cond(p, keys_mixed, 2), A);
    CHECK_EQ_INT(cond(p, keys_none, 2), N);
    CHECK_EQ_INT(cond(p, NULL, 0), N);
    s3_policy_free(p);

    /* no set operator: any value for a positive operator ... */
    p = good(ALLOW_IF("{\"StringEquals\":"
                      "{\"s3:RequestObjectTagKeys\":\"secret\"}}"));
    CHECK_EQ_INT(cond(p, keys_mixed, 2), A);
    CHECK_EQ_INT(cond(p, keys_ok, 2), N);
    s3_policy_free(p);
    /* ... and no value matching for a negated one */
    p = good(ALLOW_IF("{\"StringNotEquals\":"
                      "{\"s3:RequestObjectTagKeys\":\"secret\"}}"));
    CHECK_EQ_INT(cond(p, keys_mixed, 2), N);
    CHECK_EQ_INT(cond(p, keys_ok, 2), A);
    s3_policy_free(p);

    /* ForAnyValue with a negated operator: some value differs from all */
    p = good(ALLOW_IF("{\"ForAnyValue:StringNotEquals\":"
                      "{\"s3:RequestObjectTagKeys\":[\"team\",\"cost\"]}}"));
    CHECK_EQ_INT(cond(p, keys_ok, 2), N);
    CHECK_EQ_INT(cond(p, keys_mixed, 2), A);
    s3_policy_free(p);
    /* ForAllValues with a negated operator: none of the forbidden keys */
    p = good(ALLOW_IF("{\"ForAllValues:StringNotLike\":"
                      "{\"s3:RequestObjectTagKeys\":\"sec*\"}}"));
    CHECK_EQ_INT(cond(p, keys_ok, 2), A);
    CHECK_EQ_INT(cond(p, keys_mixed, 2), N);
    s3_policy_free(p);
}

/* ==== policy variables ==== */

TEST(policy_variables)
{
    static const gw_kv_t  ref[] = { KV("aws:Referer", "https://example.com/x"),
                                    KV("s3:prefix", "home/alice/") };
    static const gw_kv_t  star[] = { KV("s3:prefix", "a*b") };
    s3_policy_t          *p;

    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
                 "\"Action\":\"s3:*\","
                 "\"Resource\":\"arn:aws:s3:::b/home/${aws:username}/*\"}"));
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/home/alice/f"),
                 A);
    CHECK_EQ_INT(ev(p, &bob, "s3:GetObject", "arn:aws:s3:::b/home/alice/f"),
                 N);
    CHECK_EQ_INT(ev(p, &bob, "s3:GetObject", "arn:aws:s3:::b/home/bob/f"), A);
    /* anonymous has no user name: nothing matches */
    CHECK_EQ_INT(ev(p, &anon, "s3:GetObject",
                    "arn:aws:s3:::b/home//f"), N);
    CHECK_EQ_INT(ev(p, &anon, "s3:GetObject",
                    "arn:aws:s3:::b/home/${aws:username}/f"), N);
    s3_policy_free(p);

    /* Version 2008-10-17 (or none) has no variables */
    p = good("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
             "\"Action\":\"s3:*\","
             "\"Resource\":\"arn:aws:s3:::b/home/${aws:username}/*\"}}");
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/home/alice/f"),
                 N);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject",
                    "arn:aws:s3:::b/home/${aws:username}/f"), A);
    s3_policy_free(p);

    /* ${*} is a literal star; a user name's own characters are literal */
    p = good(POL("{\"Effect\":\"Allow\",\"Principal\":\"*\","
                 "\"Action\":\"s3:GetObject\","
                 "\"Resource\":\"arn:aws:s3:::b/${*}${?}${$}/${aws:"
                 "username}\"}"));
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/*?$/alice"), A);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/x?$/alice"), N);
    CHECK_EQ_INT(ev(p, &alice, "s3:GetObject", "arn:aws:s3:::b/*x$/alice"), N);
    {
        static const s3_principal_t  wild = { "a*", ACCT1, CID_A };

        CHECK_EQ_INT(ev(p, &wild, "s3:GetObject", "arn:aws:s3:::b/*?$/a*"), A);
        CHECK_EQ_INT(ev(p, &wild, "s3:GetObject", "arn:aws:s3:::b/*?$/ab"), N);
    }
    s3_policy_free(p);

    /* context keys and variables in condition values */
    p = good(ALLOW_IF("{\"StringLike\":{\"s3:prefix\":\"home/${aws:"
                      "username}/*\"},"
                      "\"StringEquals\":{\"aws:Referer\":"
                      "\"https://example.com/${S3:PREFIX}\"}}"));
    CHECK_EQ_INT(cond(p, ref, 2), N);   /* Referer differs */
    {
        static const gw_kv_t  ref2[] = {
            KV("aws:referer", "https://example.com/home/alice/"),
            KV("s3:prefix", "home/alice/"),
        };

        CHECK_EQ_INT(cond(p, ref2, 2), A);
        CHECK_EQ_INT(ev_ctx(p, &anon, "s3:GetObject", "arn:aws:s3:::b/k",
                            ref2, 2), N);
    }
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"StringLike\":{\"s3:prefix\":\"home/${aws:"
                      "username}/*\"}}"));
    CHECK_EQ_INT(cond(p, ref, 2), A);
    CHECK_EQ_INT(ev_ctx(p, &bob, "s3:GetObject", "arn:aws:s3:::b/k", ref, 2),
                 N);
    s3_policy_free(p);
    /* a variable whose key is absent matches nothing */
    p = good(ALLOW_IF("{\"StringLike\":{\"s3:prefix\":\"${aws:Referer}*\"}}"));
    CHECK_EQ_INT(cond(p, star, 1), N);
    s3_policy_free(p);
    /* a substituted value is literal even inside StringLike */
    p = good(ALLOW_IF("{\"StringLike\":{\"aws:Referer\":\"${s3:prefix}\"}}"));
    {
        static const gw_kv_t  lit[] = { KV("s3:prefix", "a*b"),
                                        KV("aws:Referer", "a*b") };
        static const gw_kv_t  wide[] = { KV("s3:prefix", "a*b"),
                                         KV("aws:Referer", "axxb") };

        CHECK_EQ_INT(cond(p, lit, 2), A);
        CHECK_EQ_INT(cond(p, wide, 2), N);
    }
    s3_policy_free(p);

    /* Arn operators: case-sensitive wildcards */
    p = good(ALLOW_IF("{\"ArnLike\":{\"aws:Referer\":\"arn:aws:s3:::b/*\"}}"));
    {
        static const gw_kv_t  a1[] = { KV("aws:Referer", "arn:aws:s3:::b/x") };
        static const gw_kv_t  a2[] = { KV("aws:Referer", "ARN:aws:s3:::b/x") };

        CHECK_EQ_INT(cond(p, a1, 1), A);
        CHECK_EQ_INT(cond(p, a2, 1), N);
    }
    s3_policy_free(p);
    p = good(ALLOW_IF("{\"ArnNotEquals\":{\"aws:Referer\":\"arn:aws:s3:::"
                      "b\"}}"));
    {
        static const gw_kv_t  a1[] = { KV("aws:Referer", "arn:aws:s3:::b") };

        CHECK_EQ_INT(cond(p, a1, 1), N);
        CHECK_EQ_INT(cond(p, NULL, 0), A);
    }
    s3_policy_free(p);

    /* a long expansion goes past the stack buffer */
    {
        static char  val[3000], twice[6000];
        gw_kv_t      kv[2];

        memset(val, 'v', sizeof(val) - 1);
        memset(twice, 'v', sizeof(twice) - 2);
        kv[0].name = (gw_str_t) { "s3:prefix", 9 };
        kv[0].value = (gw_str_t) { val, sizeof(val) - 1 };
        kv[1].name = (gw_str_t) { "aws:Referer", 11 };
        kv[1].value = (gw_str_t) { twice, sizeof(twice) - 2 };
        p = good(ALLOW_IF("{\"StringEquals\":"
                          "{\"aws:Referer\":\"${s3:prefix}${s3:prefix}\"}}"));
        CHECK_EQ_INT(cond(p, kv, 2), A);
        kv[1].value.len--;
        CHECK_EQ_INT(cond(p, kv, 2), N);
        s3_policy_free(p);
        p = good(ALLOW_IF("{\"StringLike\":{\"aws:Referer\":"
                          "\"${s3:prefix}*\"}}"));
        CHECK_EQ_INT(cond(p, kv, 2), A);
        s3_policy_free(p);
    }
}

/* ==== wildcards ==== */

static int
like(const char *pat, const char *s, int icase)
{
    return s3_policy_like(pat, strlen(pat), s, strlen(s), icase);
}

TEST(policy_like)
{
    static char      s[100001];
    struct timespec  t0, t1;
    double           secs;

    CHECK_EQ_INT(like("", "", 0), 1);
    CHECK_EQ_INT(like("*", "", 0), 1);
    CHECK_EQ_INT(like("", "a", 0), 0);
    CHECK_EQ_INT(like("?", "", 0), 0);
    CHECK_EQ_INT(like("a*", "a/b/c", 0), 1);
    CHECK_EQ_INT(like("*c", "a/b/c", 0), 1);
    CHECK_EQ_INT(like("a*b*c", "aXbYc", 0), 1);
    CHECK_EQ_INT(like("a*b*c", "aXbY", 0), 0);
    CHECK_EQ_INT(like("a?c", "abc", 0), 1);
    CHECK_EQ_INT(like("a?c", "ac", 0), 0);
    CHECK_EQ_INT(like("*?", "", 0), 0);
    CHECK_EQ_INT(like("**a**", "bab", 0), 1);
    CHECK_EQ_INT(like("*ab", "aab", 0), 1);
    CHECK_EQ_INT(like("ABC", "abc", 0), 0);
    CHECK_EQ_INT(like("ABC", "abc", 1), 1);
    CHECK_EQ_INT(like("s3:get*", "s3:GetObject", 1), 1);
    CHECK_EQ_INT(s3_policy_like("a*", 2, "ab\0c", 4, 0), 1);
    CHECK_EQ_INT(s3_policy_like("ab", 2, "ab\0", 3, 0), 0);

    /* backtracking must stay polynomial */
    memset(s, 'a', sizeof(s) - 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_EQ_INT(like("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", s, 0), 0);
    CHECK_EQ_INT(like("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", s, 0), 1);
    CHECK_EQ_INT(like("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*b", s, 1), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double) (t1.tv_sec - t0.tv_sec)
           + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(secs < 5.0);
}

/* ==== garbage ==== */

static uint64_t
xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

TEST(policy_garbage)
{
    static const char  *seeds[] = {
        ALLOW_IF("{\"ForAnyValue:StringLikeIfExists\":{\"s3:prefix\":"
                 "[\"a*\",\"${aws:username}\"]},\"IpAddress\":"
                 "{\"aws:SourceIp\":\"10.0.0.0/8\"},\"DateLessThan\":"
                 "{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"}}"),
        POL("{\"Sid\":\"s\",\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":"
            "[\"" ACCT1 "\",\"arn:aws:iam::" ACCT2 ":user/carol\"]},"
            "\"NotAction\":\"s3:Get*\",\"NotResource\":\"arn:aws:s3:::b/x\"}"),
    };
    static const char   alphabet[] = "{}[]\",:*?$/ 0123456789abAWSEffect"
                                     "AllowDenys3:GetObjectarn:aws:s3:::b";
    static const gw_kv_t  kv[] = { KV("s3:prefix", "a1"),
                                   KV("aws:SourceIp", "10.1.2.3"),
                                   KV("aws:CurrentTime", "2029-01-01") };
    s3_policy_ctx_t     ctx = { kv, 3 };
    s3_policy_t        *p;
    uint64_t            r = 0x0123456789abcdefULL;
    char                why[128], *buf, *q;
    size_t              n, i, j;
    int                 iter, rc, oks = 0, refusals = 0;

    for (iter = 0; iter < 20000; iter++) {
        if (iter % 2 == 0) {
            n = xorshift(&r) % 400;
            buf = gw_alloc(n + 1);
            for (i = 0; i < n; i++) {
                buf[i] = (xorshift(&r) & 3) == 0
                         ? (char) xorshift(&r)
                         : alphabet[xorshift(&r) % (sizeof(alphabet) - 1)];
            }
        } else {
            const char  *sd = seeds[xorshift(&r) % GW_NELEMS(seeds)];

            n = strlen(sd);
            buf = gw_alloc(n + 1);
            memcpy(buf, sd, n);
            for (j = xorshift(&r) % 3 + 1; j > 0; j--) {
                buf[xorshift(&r) % n] =
                    alphabet[xorshift(&r) % (sizeof(alphabet) - 1)];
            }
        }
        /* an exact-size copy, so ASan sees any over-read */
        q = gw_alloc(n ? n : 1);
        memcpy(q, buf, n);
        rc = s3_policy_parse(q, n, "b", known, NULL, &p, why, sizeof(why));
        CHECK(rc == GW_OK || rc == GW_EINVAL);
        if (rc == GW_OK) {
            oks++;
            rc = s3_policy_eval(p, &alice, "s3:GetObject", "arn:aws:s3:::b/a1",
                                &ctx, NULL);
            CHECK(rc == A || rc == D || rc == N);
            rc = s3_policy_eval(p, &anon, "s3:ListBucket", "arn:aws:s3:::b",
                                &ctx, NULL);
            CHECK(rc == A || rc == D || rc == N);
            s3_policy_free(p);
        } else {
            CHECK(p == NULL);
            CHECK(why[0] != '\0');
            refusals++;
        }
        gw_free(q);
        gw_free(buf);
    }
    /* some mutations must stay valid, or evaluation went untested */
    CHECK(oks > 50);
    CHECK(refusals > 1000);

    /* deep nesting, within the size limit */
    n = S3_POLICY_MAX;
    buf = gw_alloc(n);
    memset(buf, '[', n);
    rc = s3_policy_parse(buf, n, "b", NULL, NULL, &p, why, sizeof(why));
    CHECK_EQ_INT(rc, GW_EINVAL);
    CHECK_EQ_STR(why, "This policy contains invalid Json");
    for (i = 0; i + 5 < n; i += 5) {
        memcpy(buf + i, "{\"a\":", 5);
    }
    rc = s3_policy_parse(buf, i, "b", NULL, NULL, &p, why, sizeof(why));
    CHECK_EQ_INT(rc, GW_EINVAL);
    gw_free(buf);

    /* a tiny why buffer is cut, not overrun */
    rc = s3_policy_parse("{}", 2, "b", NULL, NULL, &p, why, 4);
    CHECK_EQ_INT(rc, GW_EINVAL);
    CHECK_EQ_STR(why, "Mis");
    CHECK_EQ_INT(s3_policy_parse("{}", 2, "b", NULL, NULL, &p, NULL, 0),
                 GW_EINVAL);
}
