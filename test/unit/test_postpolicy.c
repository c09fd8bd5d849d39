/* test/unit/test_postpolicy.c: s3/auth/postpolicy, POST policy documents:
 * condition matching, field coverage and expiry. */
#include "s3/auth/postpolicy.h"
#include "test/unit/unit.h"

#include <openssl/evp.h>

#define NOW  1900000000          /* 2030-03-17T17:46:40Z */

/* Checks the policy JSON doc (base64-encoded here) against fields given as
 * "name=value" strings. */
static int
check(const char *doc, const char **fields, size_t n, s3_postpolicy_t *pp,
      const char **msg)
{
    static gw_pool_t  *pool;
    gw_kv_t            kv[16];
    char              *b64;
    gw_str_t           pol;
    size_t             i;

    if (pool == NULL) {
        pool = gw_pool_create(4096);
    }
    for (i = 0; i < n; i++) {
        const char  *eq = strchr(fields[i], '=');

        kv[i].name.base = fields[i];
        kv[i].name.len = (size_t) (eq - fields[i]);
        kv[i].value.base = eq + 1;
        kv[i].value.len = strlen(eq + 1);
    }
    b64 = gw_pool_alloc(pool, 4 * strlen(doc) / 3 + 8);
    pol.len = (size_t) EVP_EncodeBlock((unsigned char *) b64,
                                       (const unsigned char *) doc,
                                       (int) strlen(doc));
    pol.base = b64;
    return s3_postpolicy_check(pool, pol, "bkt", kv, n, NOW, pp, msg);
}

#define EXP  "\"expiration\": \"2030-03-17T17:46:40.000Z\", "

TEST(postpolicy_conditions)
{
    const char       *f[] = { "key=user/a.txt", "acl=public-read",
                              "content-type=image/png, image/gif",
                              "x-amz-meta-x=", "x-ignore-me=1",
                              "policy=p", "x-amz-signature=s", "file=f" };
    s3_postpolicy_t   pp;
    const char       *msg;

    CHECK_EQ_INT(check("{" EXP "\"conditions\": [{\"bucket\": \"bkt\"}, "
                       "[\"starts-with\", \"$key\", \"user/\"], "
                       "{\"acl\": \"public-read\"}, "
                       "[\"starts-with\", \"$Content-Type\", \"image/\"], "
                       "[\"eq\", \"$x-amz-meta-x\", \"\"], "
                       "[\"content-length-range\", 1, \"1048576\"]]}",
                       f, GW_NELEMS(f), &pp, &msg), S3_ERR_NONE);
    CHECK(pp.has_range && pp.len_min == 1 && pp.len_max == 1048576);
    CHECK_EQ_INT(pp.expiration, NOW);

    /* each condition failing on its own, named as S3 names it */
    CHECK_EQ_INT(check("{" EXP "\"conditions\": [[\"eq\", \"$key\", \"x\"]]}",
                       f, 1, &pp, &msg), S3_ERR_ACCESS_DENIED);
    CHECK_EQ_STR(msg, "Invalid according to Policy: Policy Condition failed: "
                 "[\"eq\", \"$key\", \"x\"]");
    CHECK_EQ_INT(check("{" EXP "\"conditions\": [[\"starts-with\", \"$key\", "
                       "\"admin/\"]]}", f, 1, &pp, &msg), S3_ERR_ACCESS_DENIED);
    CHECK_EQ_STR(msg, "Invalid according to Policy: Policy Condition failed: "
                 "[\"starts-with\", \"$key\", \"admin/\"]");
    CHECK_EQ_INT(check("{" EXP "\"conditions\": [{\"bucket\": \"other\"}]}",
                       f, 0, &pp, &msg), S3_ERR_ACCESS_DENIED);
    CHECK_EQ_STR(msg, "Invalid according to Policy: Policy Condition failed: "
                 "[\"eq\", \"$bucket\", \"other\"]");
    /* every Content-Type of a list must match */
    CHECK_EQ_INT(check("{" EXP "\"conditions\": [[\"starts-with\", "
                       "\"$content-type\", \"image/p\"]]}", f + 2, 1, &pp,
                       &msg), S3_ERR_ACCESS_DENIED);
    /* "" matches anything, and a missing field */
    CHECK_EQ_INT(check("{" EXP "\"conditions\": [[\"starts-with\", \"$key\", "
                       "\"\"], [\"starts-with\", \"$nope\", \"\"]]}", f, 1,
                       &pp, &msg), S3_ERR_NONE);
    CHECK(!pp.has_range);
    /* a missing field is not equal to a value */
    CHECK_EQ_INT(check("{" EXP "\"conditions\": [{\"nope\": \"v\"}]}", f, 0,
                       &pp, &msg), S3_ERR_ACCESS_DENIED);
}

TEST(postpolicy_coverage)
{
    const char       *f[] = { "key=k", "foo=1", "policy=p", "file=x",
                              "x-ignore-a=1", "awsaccesskeyid=a",
                              "signature=s", "x-amz-signature=s", "bar=2" };
    s3_postpolicy_t   pp;
    const char       *msg;

    CHECK_EQ_INT(check("{" EXP "\"conditions\": [{\"key\": \"k\"}]}", f,
                       GW_NELEMS(f), &pp, &msg), S3_ERR_ACCESS_DENIED);
    CHECK_EQ_STR(msg, "Invalid according to Policy: Extra input fields: "
                 "foo, bar");
    CHECK_EQ_INT(check("{" EXP "\"conditions\": [{\"key\": \"k\"}, "
                       "[\"starts-with\", \"$FOO\", \"\"], "
                       "[\"eq\", \"$bar\", \"2\"]]}", f, GW_NELEMS(f), &pp,
                       &msg), S3_ERR_NONE);
}

TEST(postpolicy_expiry)
{
    s3_postpolicy_t   pp;
    const char       *msg;

    CHECK_EQ_INT(check("{\"expiration\": \"2030-03-17T17:46:39Z\", "
                       "\"conditions\": []}", NULL, 0, &pp, &msg),
                 S3_ERR_ACCESS_DENIED);
    CHECK_EQ_STR(msg, "Invalid according to Policy: Policy expired.");
    CHECK_EQ_INT(check("{\"expiration\": \"2030-03-17T17:46:40Z\", "
                       "\"conditions\": []}", NULL, 0, &pp, &msg), S3_ERR_NONE);
    CHECK_EQ_INT(pp.expiration, NOW);
    CHECK_EQ_INT(check("{\"expiration\": \"2030-03-17T17:46:41.5Z\", "
                       "\"conditions\": []}", NULL, 0, &pp, &msg), S3_ERR_NONE);
}

TEST(postpolicy_invalid_documents)
{
    static const char  *docs[] = {
        "not json",
        "[]",
        "{\"conditions\": []}",
        "{\"expiration\": \"2030-03-17T17:46:40Z\"}",
        "{\"expiration\": \"2030-03-17\", \"conditions\": []}",
        "{\"expiration\": \"2030-03-17T17:46:40Z junk\", \"conditions\": []}",
        "{\"expiration\": 5, \"conditions\": []}",
        "{" EXP "\"conditions\": {}}",
        "{" EXP "\"conditions\": [[\"eq\", \"key\", \"x\"]]}",
        "{" EXP "\"conditions\": [[\"lt\", \"$key\", \"x\"]]}",
        "{" EXP "\"conditions\": [[\"eq\", \"$key\"]]}",
        "{" EXP "\"conditions\": [[\"content-length-range\", -1, 5]]}",
        "{" EXP "\"conditions\": [[\"content-length-range\", \"x\", 5]]}",
        "{" EXP "\"conditions\": [{\"key\": 5}]}",
        "{" EXP "\"conditions\": [{\"a\": \"1\", \"b\": \"2\"}]}",
        "{" EXP "\"conditions\": [\"key\"]}",
    };
    s3_postpolicy_t   pp;
    const char       *msg;
    size_t            i;

    for (i = 0; i < GW_NELEMS(docs); i++) {
        int  rc = check(docs[i], NULL, 0, &pp, &msg);

        if (rc != S3_ERR_INVALID_POLICY_DOCUMENT) {
            fprintf(stderr, "# doc %zu: %d\n", i, rc);
        }
        CHECK_EQ_INT(rc, S3_ERR_INVALID_POLICY_DOCUMENT);
        CHECK(msg != NULL && strncmp(msg, "Invalid Policy: ", 16) == 0);
    }
}
