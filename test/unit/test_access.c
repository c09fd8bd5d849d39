/* test/unit/test_access.c: the access decision, table-driven. Each row is a
 * bucket policy, the bucket's ACL, the object's owner and ACL, the caller,
 * the action, the resource and the request context, and the decision S3
 * makes for them. The bucket "b" is alice's; bob and carol are other
 * accounts. In policies, @alice@ @bob@ @carol@ stand for account ids and
 * #bob# for bob's canonical id. */
#include "s3/auth/access.h"
#include "core/hash.h"
#include "test/unit/unit.h"

#define A   S3_ACCESS_ALLOW
#define D   S3_ACCESS_DENY
#define NO  S3_ACCESS_NOT_OWNER

typedef struct {
    const char  *policy;     /* JSON, or NULL */
    const char  *bacl;       /* bucket ACL: see test_acl_build; NULL private */
    const char  *oowner;     /* object owner, NULL: no such object */
    const char  *oacl;       /* object ACL */
    const char  *caller;     /* user, or NULL: anonymous */
    const char  *action;
    const char  *key;        /* NULL: the bucket itself */
    const char  *ctx;        /* "name=value;name=value" */
    int          expect;
} test_access_case_t;

#define P(stmts)  "{\"Version\":\"2012-10-17\",\"Statement\":[" stmts "]}"
#define ALLOW_ALL_GET \
    "{\"Sid\":\"Pub\",\"Effect\":\"Allow\",\"Principal\":\"*\"," \
    "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"
#define DENY_ALL_DELETE \
    "{\"Sid\":\"NoDel\",\"Effect\":\"Deny\",\"Principal\":\"*\"," \
    "\"Action\":\"s3:DeleteObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"
#define BOB_PUT_ARTIFACTS \
    "{\"Sid\":\"CI\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":" \
    "\"arn:aws:iam::@bob@:user/bob\"},\"Action\":\"s3:PutObject\"," \
    "\"Resource\":\"arn:aws:s3:::b/artifacts/*\"}"
#define COND(op, key, val) \
    "{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\"," \
    "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"" op "\":{\"" key \
    "\":" val "}}}"
#define DCOND(op, key, val) \
    "{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\"," \
    "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"" op "\":{\"" key \
    "\":" val "}}}"

static const test_access_case_t  test_access_cases[] = {
    /* ---- owners, no policy, private ACLs ---- */
    { NULL, NULL, "alice", NULL, "alice", "s3:GetObject", "k", "", A },
    { NULL, NULL, "alice", NULL, "bob", "s3:GetObject", "k", "", D },
    { NULL, NULL, "alice", NULL, NULL, "s3:GetObject", "k", "", D },
    { NULL, NULL, NULL, NULL, "alice", "s3:PutObject", "k", "", A },
    { NULL, NULL, NULL, NULL, "bob", "s3:PutObject", "k", "", D },
    { NULL, NULL, NULL, NULL, NULL, "s3:PutObject", "k", "", D },
    { NULL, NULL, NULL, NULL, "alice", "s3:ListBucket", NULL, "", A },
    { NULL, NULL, NULL, NULL, "bob", "s3:ListBucket", NULL, "", D },
    { NULL, NULL, NULL, NULL, "alice", "s3:DeleteBucket", NULL, "", A },
    { NULL, NULL, NULL, NULL, "bob", "s3:DeleteBucket", NULL, "", D },
    { NULL, NULL, NULL, NULL, "alice", "s3:GetBucketAcl", NULL, "", A },
    { NULL, NULL, NULL, NULL, "bob", "s3:PutBucketAcl", NULL, "", D },
    { NULL, NULL, "alice", NULL, "alice", "s3:DeleteObject", "k", "", A },
    { NULL, NULL, "alice", NULL, "alice", "s3:GetObjectTagging", "k", "", A },
    { NULL, NULL, "alice", NULL, "bob", "s3:PutObjectTagging", "k", "", D },
    { NULL, NULL, NULL, NULL, "alice", "s3:GetObject", "missing", "", A },
    { NULL, NULL, NULL, NULL, "bob", "s3:GetObject", "missing", "", D },
    /* An object bob wrote into alice's bucket is bob's. */
    { NULL, NULL, "bob", NULL, "alice", "s3:GetObject", "k", "", D },
    { NULL, NULL, "bob", NULL, "bob", "s3:GetObject", "k", "", A },
    { NULL, NULL, "bob", NULL, "alice", "s3:DeleteObject", "k", "", A },
    { NULL, NULL, "bob", NULL, "bob", "s3:DeleteObject", "k", "", D },
    { NULL, NULL, "bob", NULL, "bob", "s3:PutObjectAcl", "k", "", A },
    { NULL, NULL, "bob", NULL, "alice", "s3:GetObjectAcl", "k", "", D },
    { NULL, NULL, "bob", "bucket-owner-read", "alice", "s3:GetObject", "k", "",
      A },
    { NULL, NULL, "bob", "bucket-owner-read", "alice", "s3:GetObjectAcl", "k",
      "", D },
    { NULL, NULL, "bob", "bucket-owner-full-control", "alice",
      "s3:GetObjectAcl", "k", "", A },
    { NULL, NULL, "bob", "bucket-owner-full-control", "carol", "s3:GetObject",
      "k", "", D },
    /* Unknown actions: the owner only. */
    { NULL, "public-read-write", NULL, NULL, "alice", "s3:FlyAway", NULL, "",
      A },
    { NULL, "public-read-write", NULL, NULL, "bob", "s3:FlyAway", NULL, "", D },

    /* ---- bucket ACLs ---- */
    { NULL, "public-read", NULL, NULL, NULL, "s3:ListBucket", NULL, "", A },
    { NULL, "public-read", NULL, NULL, "bob", "s3:ListBucket", NULL, "", A },
    { NULL, "public-read", NULL, NULL, NULL, "s3:PutObject", "k", "", D },
    { NULL, "public-read", "alice", NULL, NULL, "s3:GetObject", "k", "", D },
    { NULL, "public-read", NULL, NULL, NULL, "s3:ListBucketMultipartUploads",
      NULL, "", A },
    { NULL, "public-read", NULL, NULL, NULL, "s3:GetBucketAcl", NULL, "", D },
    { NULL, "public-read-write", NULL, NULL, NULL, "s3:PutObject", "k", "", A },
    { NULL, "public-read-write", "alice", NULL, NULL, "s3:DeleteObject", "k",
      "", A },
    { NULL, "public-read-write", NULL, NULL, NULL, "s3:AbortMultipartUpload",
      "k", "", A },
    { NULL, "public-read-write", NULL, NULL, NULL, "s3:DeleteBucket", NULL, "",
      D },
    { NULL, "public-read-write", NULL, NULL, NULL, "s3:PutBucketAcl", NULL, "",
      D },
    { NULL, "authenticated-read", NULL, NULL, "bob", "s3:ListBucket", NULL, "",
      A },
    { NULL, "authenticated-read", NULL, NULL, NULL, "s3:ListBucket", NULL, "",
      D },
    { NULL, "R:bob", NULL, NULL, "bob", "s3:ListBucket", NULL, "", A },
    { NULL, "R:bob", NULL, NULL, "carol", "s3:ListBucket", NULL, "", D },
    { NULL, "R:bob", NULL, NULL, "bob", "s3:PutObject", "k", "", D },
    { NULL, "W:bob", NULL, NULL, "bob", "s3:PutObject", "k", "", A },
    { NULL, "W:bob", NULL, NULL, "bob", "s3:ListBucket", NULL, "", D },
    { NULL, "RA:bob", NULL, NULL, "bob", "s3:GetBucketAcl", NULL, "", A },
    { NULL, "RA:bob", NULL, NULL, "bob", "s3:PutBucketAcl", NULL, "", D },
    { NULL, "WA:bob", NULL, NULL, "bob", "s3:PutBucketAcl", NULL, "", A },
    { NULL, "F:bob", NULL, NULL, "bob", "s3:PutObject", "k", "", A },
    { NULL, "F:bob", NULL, NULL, "bob", "s3:GetBucketAcl", NULL, "", A },
    /* FULL_CONTROL on the bucket does not reach the objects in it. */
    { NULL, "F:bob", "alice", NULL, "bob", "s3:GetObject", "k", "", D },
    /* ... nor does it make anyone the owner. */
    { NULL, "F:bob", NULL, NULL, "bob", "s3:DeleteBucket", NULL, "", D },
    { NULL, "F:bob", NULL, NULL, "bob", "s3:GetBucketPolicy", NULL, "", D },
    { NULL, "W:all", NULL, NULL, NULL, "s3:PutObject", "k", "", A },
    { NULL, "R:auth", NULL, NULL, "carol", "s3:ListBucket", NULL, "", A },

    /* ---- object ACLs ---- */
    { NULL, NULL, "alice", "public-read", NULL, "s3:GetObject", "k", "", A },
    { NULL, NULL, "alice", "public-read", NULL, "s3:GetObjectAcl", "k", "",
      D },
    { NULL, NULL, "alice", "public-read", NULL, "s3:ListBucket", NULL, "", D },
    { NULL, NULL, "alice", "authenticated-read", "bob", "s3:GetObject", "k",
      "", A },
    { NULL, NULL, "alice", "authenticated-read", NULL, "s3:GetObject", "k",
      "", D },
    { NULL, NULL, "alice", "R:bob", "bob", "s3:GetObject", "k", "", A },
    { NULL, NULL, "alice", "RA:bob", "bob", "s3:GetObjectAcl", "k", "", A },
    { NULL, NULL, "alice", "RA:bob", "bob", "s3:GetObject", "k", "", D },
    { NULL, NULL, "alice", "WA:bob", "bob", "s3:PutObjectAcl", "k", "", A },
    { NULL, NULL, "alice", "F:bob", "bob", "s3:GetObject", "k", "", A },
    /* Object ACLs do not grant writes or tag access. */
    { NULL, NULL, "alice", "public-read-write", NULL, "s3:DeleteObject", "k",
      "", D },
    { NULL, NULL, "alice", "F:bob", "bob", "s3:GetObjectTagging", "k", "", D },
    /* A missing object has no ACL to grant with. */
    { NULL, "public-read", NULL, "public-read", NULL, "s3:GetObject", "nope",
      "", D },

    /* ---- bucket policies: principals ---- */
    { P(ALLOW_ALL_GET), NULL, "alice", NULL, NULL, "s3:GetObject", "k", "",
      A },
    { P(ALLOW_ALL_GET), NULL, "alice", NULL, "bob", "s3:GetObject", "k", "",
      A },
    { P(ALLOW_ALL_GET), NULL, NULL, NULL, NULL, "s3:GetObject", "nope", "", A },
    { P(ALLOW_ALL_GET), NULL, "alice", NULL, NULL, "s3:PutObject", "k", "", D },
    { P(ALLOW_ALL_GET), NULL, "alice", NULL, NULL, "s3:ListBucket", NULL, "",
      D },
    /* A bucket policy cannot give away another owner's object. */
    { P(ALLOW_ALL_GET), NULL, "bob", NULL, "carol", "s3:GetObject", "k", "",
      D },
    { P(ALLOW_ALL_GET), NULL, "bob", NULL, "alice", "s3:GetObject", "k", "",
      D },
    { P("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"@bob@\"},"
        "\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::b\"}"),
      NULL, NULL, NULL, "bob", "s3:ListBucket", NULL, "", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"@bob@\"},"
        "\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::b\"}"),
      NULL, NULL, NULL, "carol", "s3:ListBucket", NULL, "", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"@bob@\"},"
        "\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::b\"}"),
      NULL, NULL, NULL, NULL, "s3:ListBucket", NULL, "", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "[\"arn:aws:iam::@carol@:root\",\"arn:aws:iam::@bob@:root\"]},"
        "\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::b\"}"),
      NULL, NULL, NULL, "bob", "s3:ListBucket", NULL, "", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":{\"CanonicalUser\":\"#bob#\"},"
        "\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::b\"}"),
      NULL, NULL, NULL, "bob", "s3:ListBucket", NULL, "", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},"
        "\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::b\"}"),
      NULL, NULL, NULL, NULL, "s3:ListBucket", NULL, "", A },
    { P(BOB_PUT_ARTIFACTS), NULL, NULL, NULL, "bob", "s3:PutObject",
      "artifacts/x.tar", "", A },
    { P(BOB_PUT_ARTIFACTS), NULL, NULL, NULL, "bob", "s3:PutObject",
      "artifactsx", "", D },
    { P(BOB_PUT_ARTIFACTS), NULL, NULL, NULL, "bob", "s3:PutObject",
      "other/x", "", D },
    { P(BOB_PUT_ARTIFACTS), NULL, NULL, NULL, "carol", "s3:PutObject",
      "artifacts/x", "", D },
    { P(BOB_PUT_ARTIFACTS), NULL, "bob", NULL, "bob", "s3:GetObject",
      "artifacts/x", "", A },   /* bob owns what he wrote */
    { P(BOB_PUT_ARTIFACTS), NULL, "alice", NULL, "bob", "s3:GetObject",
      "artifacts/y", "", D },
    /* NotPrincipal: everyone but bob. */
    { P("{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"@bob@\"},"
        "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"},"
        ALLOW_ALL_GET), NULL, "alice", NULL, "bob", "s3:GetObject", "k", "",
      A },
    { P("{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"@bob@\"},"
        "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"},"
        ALLOW_ALL_GET), NULL, "alice", NULL, "carol", "s3:GetObject", "k", "",
      D },
    { P("{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"@bob@\"},"
        "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"},"
        ALLOW_ALL_GET), NULL, "alice", NULL, NULL, "s3:GetObject", "k", "",
      D },

    /* ---- explicit deny over every allow ---- */
    { P(DENY_ALL_DELETE), NULL, "alice", NULL, "alice", "s3:DeleteObject", "k",
      "", D },
    { P(DENY_ALL_DELETE), "public-read-write", "alice", NULL, NULL,
      "s3:DeleteObject", "k", "", D },
    { P(DENY_ALL_DELETE), NULL, "alice", NULL, "alice", "s3:GetObject", "k",
      "", A },
    { P(DENY_ALL_DELETE "," ALLOW_ALL_GET), NULL, "alice", NULL, NULL,
      "s3:GetObject", "k", "", A },
    { P("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:Get*\","
        "\"Resource\":\"arn:aws:s3:::b/secret/*\"}," ALLOW_ALL_GET),
      NULL, "alice", NULL, NULL, "s3:GetObject", "secret/plan", "", D },
    { P("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:Get*\","
        "\"Resource\":\"arn:aws:s3:::b/secret/*\"}," ALLOW_ALL_GET),
      NULL, "alice", NULL, NULL, "s3:GetObject", "public/plan", "", A },
    { P("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:Get*\","
        "\"Resource\":\"arn:aws:s3:::b/secret/*\"}"),
      NULL, "alice", "public-read", NULL, "s3:GetObject", "secret/x", "", D },
    /* The owner keeps the policy itself, whatever it says. */
    { P("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\","
        "\"Resource\":[\"arn:aws:s3:::b\",\"arn:aws:s3:::b/*\"]}"),
      NULL, NULL, NULL, "alice", "s3:DeleteBucketPolicy", NULL, "", A },
    { P("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\","
        "\"Resource\":[\"arn:aws:s3:::b\",\"arn:aws:s3:::b/*\"]}"),
      NULL, NULL, NULL, "alice", "s3:ListBucket", NULL, "", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"@bob@\"},"
        "\"Action\":\"s3:GetBucketPolicy\",\"Resource\":\"arn:aws:s3:::b\"}"),
      NULL, NULL, NULL, "bob", "s3:GetBucketPolicy", NULL, "", NO },
    { NULL, NULL, NULL, NULL, "bob", "s3:PutBucketPolicy", NULL, "", D },

    /* ---- NotAction, NotResource, wildcards ---- */
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotAction\":"
        "\"s3:DeleteObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
      NULL, NULL, NULL, NULL, "s3:PutObject", "k", "", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotAction\":"
        "\"s3:DeleteObject\",\"Resource\":\"arn:aws:s3:::b/*\"}"),
      NULL, "alice", NULL, NULL, "s3:DeleteObject", "k", "", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
        "\"NotResource\":\"arn:aws:s3:::b/private/*\"}"),
      NULL, "alice", NULL, NULL, "s3:GetObject", "public/a", "", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
        "\"NotResource\":\"arn:aws:s3:::b/private/*\"}"),
      NULL, "alice", NULL, NULL, "s3:GetObject", "private/a", "", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:Get*\","
        "\"Resource\":\"arn:aws:s3:::b/*\"}"),
      NULL, "alice", NULL, NULL, "s3:GetObjectTagging", "k", "", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:Get*\","
        "\"Resource\":\"arn:aws:s3:::b/*\"}"),
      NULL, "alice", NULL, NULL, "s3:PutObject", "k", "", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"S3:getobject\","
        "\"Resource\":\"arn:aws:s3:::b/*\"}"),
      NULL, "alice", NULL, NULL, "s3:GetObject", "k", "", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\","
        "\"Resource\":\"arn:aws:s3:::b/*.jpg\"}"),
      NULL, "alice", NULL, NULL, "s3:GetObject", "photos/cat.jpg", "", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\","
        "\"Resource\":\"arn:aws:s3:::b/*.jpg\"}"),
      NULL, "alice", NULL, NULL, "s3:GetObject", "photos/cat.JPG", "", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\","
        "\"Resource\":\"arn:aws:s3:::b/log-??.txt\"}"),
      NULL, "alice", NULL, NULL, "s3:GetObject", "log-01.txt", "", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\","
        "\"Resource\":\"arn:aws:s3:::b/log-??.txt\"}"),
      NULL, "alice", NULL, NULL, "s3:GetObject", "log-1.txt", "", D },
    /* Objects of b are not b itself. */
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\","
        "\"Resource\":\"arn:aws:s3:::b/*\"}"),
      NULL, NULL, NULL, NULL, "s3:ListBucket", NULL, "", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\","
        "\"Resource\":\"arn:aws:s3:::b*\"}"),
      NULL, NULL, NULL, NULL, "s3:ListBucket", NULL, "", A },
    /* Policy variables. */
    { P("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"@bob@\",\"@carol@\"]},"
        "\"Action\":\"s3:PutObject\","
        "\"Resource\":\"arn:aws:s3:::b/home/${aws:username}/*\"}"),
      NULL, NULL, NULL, "bob", "s3:PutObject", "home/bob/f", "", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"@bob@\",\"@carol@\"]},"
        "\"Action\":\"s3:PutObject\","
        "\"Resource\":\"arn:aws:s3:::b/home/${aws:username}/*\"}"),
      NULL, NULL, NULL, "carol", "s3:PutObject", "home/bob/f", "", D },

    /* ---- conditions ---- */
    { P(COND("IpAddress", "aws:SourceIp", "\"10.0.0.0/8\"")), NULL, "alice",
      NULL, NULL, "s3:GetObject", "k", "aws:SourceIp=10.2.3.4", A },
    { P(COND("IpAddress", "aws:SourceIp", "\"10.0.0.0/8\"")), NULL, "alice",
      NULL, NULL, "s3:GetObject", "k", "aws:SourceIp=11.2.3.4", D },
    { P(COND("IpAddress", "aws:SourceIp", "[\"192.0.2.0/24\",\"::1\"]")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k", "aws:SourceIp=::1", A },
    { P(COND("IpAddress", "aws:SourceIp", "\"2001:db8::/32\"")), NULL, "alice",
      NULL, NULL, "s3:GetObject", "k", "aws:SourceIp=2001:db8:1::5", A },
    { P(DCOND("NotIpAddress", "aws:SourceIp", "\"127.0.0.0/8\"")
        "," ALLOW_ALL_GET), NULL, "alice", NULL, NULL, "s3:GetObject", "k",
      "aws:SourceIp=127.0.0.1", A },
    { P(DCOND("NotIpAddress", "aws:SourceIp", "\"127.0.0.0/8\"")
        "," ALLOW_ALL_GET), NULL, "alice", NULL, NULL, "s3:GetObject", "k",
      "aws:SourceIp=192.0.2.1", D },
    { P(DCOND("NotIpAddress", "aws:SourceIp", "\"127.0.0.0/8\"")), NULL,
      "alice", NULL, "alice", "s3:GetObject", "k", "aws:SourceIp=192.0.2.1",
      D },   /* even the owner */
    { P(DCOND("Bool", "aws:SecureTransport", "\"false\"")), NULL, "alice",
      NULL, "alice", "s3:GetObject", "k", "aws:SecureTransport=false", D },
    { P(DCOND("Bool", "aws:SecureTransport", "\"false\"")), NULL, "alice",
      NULL, "alice", "s3:GetObject", "k", "aws:SecureTransport=true", A },
    { P(COND("StringEquals", "aws:Referer", "\"https://example.com/\"")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k",
      "aws:Referer=https://example.com/", A },
    { P(COND("StringEquals", "aws:Referer", "\"https://example.com/\"")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k", "", D },
    { P(COND("StringLike", "aws:Referer", "\"https://*.example.com/*\"")),
      NULL, "alice", NULL, NULL, "s3:GetObject", "k",
      "aws:Referer=https://www.example.com/page", A },
    { P(COND("StringNotLike", "aws:UserAgent", "\"*curl*\"")), NULL, "alice",
      NULL, NULL, "s3:GetObject", "k", "aws:UserAgent=curl/7.88", D },
    { P(COND("StringNotLike", "aws:UserAgent", "\"*curl*\"")), NULL, "alice",
      NULL, NULL, "s3:GetObject", "k", "aws:UserAgent=Boto3/1.43", A },
    /* A negated operator holds when the key is absent. */
    { P(COND("StringNotEquals", "aws:UserAgent", "\"bad\"")), NULL, "alice",
      NULL, NULL, "s3:GetObject", "k", "", A },
    { P(COND("StringEqualsIgnoreCase", "aws:UserAgent", "\"MyAgent\"")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k", "aws:UserAgent=myagent", A },
    { P(COND("StringEqualsIfExists", "aws:Referer", "\"https://a/\"")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k", "", A },
    { P(COND("StringEqualsIfExists", "aws:Referer", "\"https://a/\"")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k", "aws:Referer=https://b/", D },
    { P(COND("Null", "aws:Referer", "\"true\"")), NULL, "alice", NULL, NULL,
      "s3:GetObject", "k", "", A },
    { P(COND("Null", "aws:Referer", "\"true\"")), NULL, "alice", NULL, NULL,
      "s3:GetObject", "k", "aws:Referer=x", D },
    { P(COND("Null", "aws:username", "\"false\"")), NULL, "alice", NULL,
      "bob", "s3:GetObject", "k", "aws:username=bob", A },
    { P(COND("NumericLessThanEquals", "s3:signatureAge", "600000")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k", "s3:signatureAge=5000", A },
    { P(COND("NumericLessThanEquals", "s3:signatureAge", "600000")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k", "s3:signatureAge=700000", D },
    { P(COND("NumericGreaterThan", "s3:signatureAge", "\"10\"")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k", "s3:signatureAge=11", A },
    { P(COND("DateLessThan", "aws:CurrentTime", "\"2030-01-01T00:00:00Z\"")),
      NULL, "alice", NULL, NULL, "s3:GetObject", "k",
      "aws:CurrentTime=2026-12-01T15:52:00Z", A },
    { P(COND("DateGreaterThan", "aws:CurrentTime", "\"2030-01-01T00:00:00Z\"")),
      NULL, "alice", NULL, NULL, "s3:GetObject", "k",
      "aws:CurrentTime=2026-12-01T15:52:00Z", D },
    { P(COND("DateGreaterThanEquals", "aws:EpochTime", "1700000000")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k", "aws:EpochTime=1780000000", A },
    { P(COND("StringEquals", "s3:ExistingObjectTag/public", "\"yes\"")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k",
      "s3:ExistingObjectTag/public=yes", A },
    { P(COND("StringEquals", "s3:ExistingObjectTag/public", "\"yes\"")), NULL,
      "alice", NULL, NULL, "s3:GetObject", "k",
      "s3:ExistingObjectTag/Public=yes", D },
    { P(COND("ArnLike", "aws:userid", "\"arn:aws:*\"")), NULL, "alice",
      NULL, NULL, "s3:GetObject", "k", "", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:ListBucket\","
        "\"Resource\":\"arn:aws:s3:::b\",\"Condition\":{\"StringLike\":"
        "{\"s3:prefix\":[\"home/\",\"home/bob/*\"]}}}"),
      NULL, NULL, NULL, "bob", "s3:ListBucket", NULL, "s3:prefix=home/bob/x",
      A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:ListBucket\","
        "\"Resource\":\"arn:aws:s3:::b\",\"Condition\":{\"StringLike\":"
        "{\"s3:prefix\":[\"home/\",\"home/bob/*\"]}}}"),
      NULL, NULL, NULL, "bob", "s3:ListBucket", NULL, "s3:prefix=home/carol/",
      D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:ListBucket\","
        "\"Resource\":\"arn:aws:s3:::b\",\"Condition\":{\"StringLike\":"
        "{\"s3:prefix\":[\"home/\",\"home/bob/*\"]}}}"),
      NULL, NULL, NULL, "bob", "s3:ListBucket", NULL, "", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:ListBucket\","
        "\"Resource\":\"arn:aws:s3:::b\",\"Condition\":{\"NumericLessThanEquals\""
        ":{\"s3:max-keys\":\"10\"}}}"),
      NULL, NULL, NULL, NULL, "s3:ListBucket", NULL, "s3:max-keys=5", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:ListBucket\","
        "\"Resource\":\"arn:aws:s3:::b\",\"Condition\":{\"StringEquals\""
        ":{\"s3:delimiter\":\"/\"}}}"),
      NULL, NULL, NULL, NULL, "s3:ListBucket", NULL, "s3:delimiter=,", D },
    /* Conditions within one statement all hold, or it does not apply. */
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:PutObject\","
        "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringEquals\":"
        "{\"s3:x-amz-acl\":\"bucket-owner-full-control\"},\"IpAddress\":"
        "{\"aws:SourceIp\":\"127.0.0.1/32\"}}}"),
      NULL, NULL, NULL, "bob", "s3:PutObject", "k",
      "s3:x-amz-acl=bucket-owner-full-control;aws:SourceIp=127.0.0.1", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:PutObject\","
        "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringEquals\":"
        "{\"s3:x-amz-acl\":\"bucket-owner-full-control\"},\"IpAddress\":"
        "{\"aws:SourceIp\":\"127.0.0.1/32\"}}}"),
      NULL, NULL, NULL, "bob", "s3:PutObject", "k",
      "s3:x-amz-acl=bucket-owner-full-control;aws:SourceIp=127.0.0.2", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:PutObject\","
        "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringEquals\":"
        "{\"s3:x-amz-acl\":\"bucket-owner-full-control\"},\"IpAddress\":"
        "{\"aws:SourceIp\":\"127.0.0.1/32\"}}}"),
      NULL, NULL, NULL, "bob", "s3:PutObject", "k", "aws:SourceIp=127.0.0.1",
      D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringEquals\":"
        "{\"aws:username\":\"${aws:username}\"}}}"),
      NULL, "alice", NULL, "bob", "s3:GetObject", "k", "aws:username=bob", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{"
        "\"ForAnyValue:StringEquals\":{\"s3:RequestObjectTagKeys\":"
        "[\"team\",\"cost\"]}}}"),
      NULL, "alice", NULL, NULL, "s3:GetObject", "k",
      "s3:RequestObjectTagKeys=x;s3:RequestObjectTagKeys=cost", A },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{"
        "\"ForAllValues:StringEquals\":{\"s3:RequestObjectTagKeys\":"
        "[\"team\",\"cost\"]}}}"),
      NULL, "alice", NULL, NULL, "s3:GetObject", "k",
      "s3:RequestObjectTagKeys=x;s3:RequestObjectTagKeys=cost", D },
    { P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{"
        "\"ForAllValues:StringEquals\":{\"s3:RequestObjectTagKeys\":"
        "[\"team\",\"cost\"]}}}"),
      NULL, "alice", NULL, NULL, "s3:GetObject", "k",
      "s3:RequestObjectTagKeys=team;s3:RequestObjectTagKeys=cost", A },
};

typedef struct {
    const char  *name;
    char         id[65];
    char         account[13];
} test_access_user_t;

static test_access_user_t  test_access_users[3] = {
    { "alice", "", "" }, { "bob", "", "" }, { "carol", "", "" }
};

static void
test_access_users_init(void)
{
    unsigned char  d[32];
    char           seed[64];
    size_t         i, j;

    for (i = 0; i < GW_NELEMS(test_access_users); i++) {
        snprintf(seed, sizeof(seed), "s3gw:%s", test_access_users[i].name);
        gw_sha256(seed, strlen(seed), d);
        gw_hex_encode(test_access_users[i].id, d, sizeof(d));
        for (j = 0; j < 12; j++) {
            test_access_users[i].account[j] = (char) ('0' + d[j] % 10);
        }
        test_access_users[i].account[12] = '\0';
    }
}

static const test_access_user_t *
test_access_user(const char *name)
{
    size_t  i;

    for (i = 0; name != NULL && i < GW_NELEMS(test_access_users); i++) {
        if (strcmp(test_access_users[i].name, name) == 0) {
            return &test_access_users[i];
        }
    }
    return NULL;
}

/* The policy text with @user@ and #user# replaced. */
static char *
test_access_expand(const char *in)
{
    char    *out = gw_alloc(strlen(in) * 8 + 1), *o = out, name[16];
    size_t   n;

    while (*in) {
        if ((*in == '@' || *in == '#') && strchr(in + 1, *in) != NULL
            && (n = (size_t) (strchr(in + 1, *in) - in - 1)) < sizeof(name)
            && n > 0)
        {
            const test_access_user_t  *u;

            memcpy(name, in + 1, n);
            name[n] = '\0';
            u = test_access_user(name);
            if (u != NULL) {
                o += sprintf(o, "%s", *in == '@' ? u->account : u->id);
                in += n + 2;
                continue;
            }
        }
        *o++ = *in++;
    }
    *o = '\0';
    return out;
}

/* An ACL spec: a canned name, or "PERM:grantee" with PERM one of R W RA WA
 * F and grantee a user, "all" or "auth"; the owner keeps FULL_CONTROL. */
static void
test_access_acl(gw_pool_t *pool, const char *spec, const char *owner,
                const char *bucket_owner, s3_acl_t *out)
{
    const char                *colon = strchr(spec, ':');
    const test_access_user_t  *u;
    s3_grant_t                *g;

    if (colon == NULL) {
        CHECK_EQ_INT(s3_acl_canned(pool, spec, strlen(spec), owner,
                                   bucket_owner, out), 0);
        return;
    }
    CHECK_EQ_INT(s3_acl_canned(pool, "private", 7, owner, owner, out), 0);
    g = gw_pool_calloc(pool, sizeof(*g) * (out->n + 1));
    memcpy(g, out->grants, sizeof(*g) * out->n);
    out->grants = g;
    g = &out->grants[out->n++];
    if (strncmp(spec, "RA:", 3) == 0) {
        g->perm = S3_PERM_READ_ACP;
    } else if (strncmp(spec, "WA:", 3) == 0) {
        g->perm = S3_PERM_WRITE_ACP;
    } else if (spec[0] == 'R') {
        g->perm = S3_PERM_READ;
    } else if (spec[0] == 'W') {
        g->perm = S3_PERM_WRITE;
    } else {
        g->perm = S3_PERM_FULL_CONTROL;
    }
    if (strcmp(colon + 1, "all") == 0) {
        g->type = S3_GRANTEE_ALL_USERS;
    } else if (strcmp(colon + 1, "auth") == 0) {
        g->type = S3_GRANTEE_AUTH_USERS;
    } else {
        u = test_access_user(colon + 1);
        CHECK(u != NULL);
        g->type = S3_GRANTEE_USER;
        memcpy(g->id, u->id, sizeof(g->id));
    }
}

static void
test_access_ctx(gw_pool_t *pool, const char *spec, s3_policy_ctx_t *out)
{
    gw_kv_t     *kv = gw_pool_calloc(pool, sizeof(*kv) * 16);
    const char  *p = spec, *semi, *eq;

    out->kv = kv;
    out->n = 0;
    while (*p) {
        semi = strchr(p, ';');
        semi = semi ? semi : p + strlen(p);
        eq = memchr(p, '=', (size_t) (semi - p));
        CHECK(eq != NULL && out->n < 16);
        kv[out->n].name.base = p;
        kv[out->n].name.len = (size_t) (eq - p);
        kv[out->n].value.base = eq + 1;
        kv[out->n].value.len = (size_t) (semi - eq - 1);
        out->n++;
        p = *semi ? semi + 1 : semi;
    }
}

TEST(access_table)
{
    const test_access_user_t  *alice, *caller, *oowner;
    size_t                     i, failed = 0;

    test_access_users_init();
    alice = test_access_user("alice");
    CHECK(GW_NELEMS(test_access_cases) >= 100);
    for (i = 0; i < GW_NELEMS(test_access_cases); i++) {
        const test_access_case_t  *c = &test_access_cases[i];
        gw_pool_t                 *pool = gw_pool_create(4096);
        s3_policy_t               *pol = NULL;
        s3_principal_t             who;
        s3_policy_ctx_t            ctx;
        s3_access_t                a;
        s3_acl_t                   bacl, oacl;
        char                       why[256], res[128], *text;
        int                        got;

        memset(&a, 0, sizeof(a));
        memset(&who, 0, sizeof(who));
        caller = test_access_user(c->caller);
        if (caller != NULL) {
            who.name = caller->name;
            who.account_id = caller->account;
            who.canonical_id = caller->id;
        }
        if (c->policy != NULL) {
            text = test_access_expand(c->policy);
            if (s3_policy_parse(text, strlen(text), "b", NULL, NULL, &pol,
                                why, sizeof(why)) != GW_OK)
            {
                fprintf(stderr, "# case %zu: policy does not parse: %s\n",
                        i, why);
                exit(1);
            }
            gw_free(text);
        }
        a.who = &who;
        a.action = c->action;
        snprintf(res, sizeof(res), "arn:aws:s3:::b%s%s", c->key ? "/" : "",
                 c->key ? c->key : "");
        a.resource = res;
        a.bucket_owner = alice->id;
        if (c->bacl != NULL) {
            test_access_acl(pool, c->bacl, alice->id, alice->id, &bacl);
            a.bucket_acl = &bacl;
        }
        oowner = test_access_user(c->oowner);
        if (oowner != NULL) {
            a.object_owner = oowner->id;
            if (c->oacl != NULL) {
                test_access_acl(pool, c->oacl, oowner->id, alice->id, &oacl);
                a.object_acl = &oacl;
            }
        }
        a.policy = pol;
        test_access_ctx(pool, c->ctx, &ctx);
        a.ctx = &ctx;

        got = s3_access_decide(&a, why, sizeof(why));
        if (got != c->expect) {
            fprintf(stderr, "# case %zu (line of %s %s by %s): got %d, "
                    "expected %d (%s)\n", i, c->action, res,
                    c->caller ? c->caller : "anonymous", got, c->expect, why);
            failed++;
        }
        CHECK(why[0] != '\0');
        s3_policy_free(pol);
        gw_pool_destroy(pool);
    }
    fprintf(stderr, "# %zu decisions, %zu wrong\n",
            GW_NELEMS(test_access_cases), failed);
    CHECK_EQ_INT(failed, 0);
}

TEST(access_known)
{
    CHECK(s3_access_known("s3:GetObject"));
    CHECK(s3_access_known("ListBucket"));
    CHECK(s3_access_known("s3:listbucket"));
    /* Bucket policies can grant the replication configuration actions. */
    CHECK(s3_access_known("s3:GetReplicationConfiguration"));
    CHECK(s3_access_known("s3:PutReplicationConfiguration"));
    CHECK(!s3_access_known("s3:DeleteReplicationConfiguration"));
    CHECK(s3_access_known("s3:GetLifecycleConfiguration"));
    CHECK(s3_access_known("s3:PutLifecycleConfiguration"));
    CHECK(!s3_access_known("s3:DeleteLifecycleConfiguration"));
    CHECK(!s3_access_known("s3:FlyAway"));
    CHECK(!s3_access_known(""));
}

/* Keys S3 knows but s3gw never fills in are accepted, and absent. */
TEST(access_absent_aws_keys)
{
    static const char  *accepted[] = {
        P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
          "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringEquals\":"
          "{\"aws:PrincipalOrgID\":\"o-123\"}}}"),
        P("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
          "\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringEquals\":"
          "{\"aws:PrincipalTag/team\":\"blue\"}}}"),
    };
    s3_principal_t   anon = { NULL, NULL, NULL };
    s3_policy_ctx_t  ctx = { NULL, 0 };
    s3_policy_t     *p;
    char             why[256];
    size_t           i;

    for (i = 0; i < GW_NELEMS(accepted); i++) {
        CHECK_EQ_INT(s3_policy_parse(accepted[i], strlen(accepted[i]), "b",
                                     NULL, NULL, &p, why, sizeof(why)), GW_OK);
        CHECK_EQ_INT(s3_policy_eval(p, &anon, "s3:GetObject",
                                    "arn:aws:s3:::b/k", &ctx, NULL),
                     S3_POLICY_NONE);
        s3_policy_free(p);
    }
}
