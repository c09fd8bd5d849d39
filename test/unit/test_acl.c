/* test/unit/test_acl.c: s3/acl: canned ACLs, grant headers, policy
 * documents in and out, the stored form and a caller's permissions. */
#include <strings.h>

#include "s3/auth/acl.h"
#include "s3/error.h"
#include "test/unit/unit.h"

#define ALICE  "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7c" \
               "d47ef2be"
#define BOB    "0123456789abcdef0123456789abcdef0123456789abcdef01234567" \
               "89abcdef"
#define CAROL  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba98" \
               "76543210"

#define URI_ALL   "http://acs.amazonaws.com/groups/global/AllUsers"
#define URI_AUTH  "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define URI_LOG   "http://acs.amazonaws.com/groups/s3/LogDelivery"

#define XSI  "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
#define NS   "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

/* ==== a directory of two users ==== */

static const struct {
    const char  *id, *email, *name;
} acl_users[] = {
    { ALICE, "alice@example.com", "alice" },
    { BOB,   "bob@example.com",   "bob" },
};

static int  acl_dir_bad_answer;   /* id_by_email answers a non-id */

static const char *
acl_id_by_email(void *ud, const char *email, size_t len)
{
    size_t  i;

    CHECK(ud == &acl_users);
    if (acl_dir_bad_answer) {
        return "not-a-canonical-id";
    }
    for (i = 0; i < GW_NELEMS(acl_users); i++) {
        if (strlen(acl_users[i].email) == len
            && strncasecmp(acl_users[i].email, email, len) == 0)
        {
            return acl_users[i].id;
        }
    }
    return NULL;
}

static const char *
acl_name_by_id(void *ud, const char *id)
{
    size_t  i;

    CHECK(ud == &acl_users);
    for (i = 0; i < GW_NELEMS(acl_users); i++) {
        if (strcmp(acl_users[i].id, id) == 0) {
            return acl_users[i].name;
        }
    }
    return NULL;
}

static const s3_acl_dir_t  acl_dir = {
    acl_id_by_email, acl_name_by_id, (void *) &acl_users
};

/* ==== helpers ==== */

/* grant i of acl is exactly (type, id, perm); id NULL for groups */
static void
acl_check_grant(const s3_acl_t *acl, size_t i, int type, const char *id,
                unsigned perm, int line)
{
    if (i >= acl->n) {
        fprintf(stderr, "# line %d: grant %zu of %zu\n", line, i, acl->n);
        exit(1);
    }
    if (acl->grants[i].type != type || acl->grants[i].perm != perm
        || (type == S3_GRANTEE_USER && strcmp(acl->grants[i].id, id) != 0))
    {
        fprintf(stderr, "# line %d: grant %zu is (%d, %s, %u), expected "
                "(%d, %s, %u)\n", line, i, acl->grants[i].type,
                acl->grants[i].id, acl->grants[i].perm, type,
                id ? id : "-", perm);
        exit(1);
    }
}

#define GRANT(acl, i, type, id, perm) \
    acl_check_grant((acl), (i), (type), (id), (perm), __LINE__)

static int
acl_equal(const s3_acl_t *a, const s3_acl_t *b)
{
    size_t  i;

    if (strcmp(a->owner, b->owner) != 0 || a->n != b->n) {
        return 0;
    }
    for (i = 0; i < a->n; i++) {
        if (a->grants[i].type != b->grants[i].type
            || a->grants[i].perm != b->grants[i].perm
            || (a->grants[i].type == S3_GRANTEE_USER
                && strcmp(a->grants[i].id, b->grants[i].id) != 0))
        {
            return 0;
        }
    }
    return 1;
}

static int
acl_canned(gw_pool_t *pool, const char *name, const char *owner,
           const char *bucket_owner, s3_acl_t *acl)
{
    return s3_acl_canned(pool, name, strlen(name), owner, bucket_owner, acl);
}

static void
acl_init(s3_acl_t *acl, const char *owner)
{
    memset(acl, 0, sizeof(*acl));
    strcpy(acl->owner, owner);
}

static int
acl_header(gw_pool_t *pool, s3_acl_t *acl, unsigned perm, const char *v)
{
    return s3_acl_grant_header(pool, acl, perm,
                               (gw_str_t) { v, strlen(v) }, &acl_dir);
}

static int
acl_parse(gw_pool_t *pool, const char *doc, s3_acl_t *acl)
{
    return s3_acl_parse_xml(pool, doc, strlen(doc), &acl_dir, acl);
}

/* <AccessControlPolicy> with owner ALICE around grants */
static char *
acl_doc(gw_pool_t *pool, const char *grants)
{
    return gw_pool_sprintf(pool, "<AccessControlPolicy " NS "><Owner><ID>"
                           ALICE "</ID></Owner><AccessControlList>%s"
                           "</AccessControlList></AccessControlPolicy>",
                           grants);
}

/* ==== canned ACLs ==== */

TEST(acl_canned)
{
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;

    CHECK_EQ_INT(acl_canned(pool, "private", ALICE, ALICE, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_STR(acl.owner, ALICE);
    CHECK_EQ_INT(acl.n, 1);
    GRANT(&acl, 0, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);

    CHECK_EQ_INT(acl_canned(pool, "public-read", ALICE, ALICE, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 2);
    GRANT(&acl, 0, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);
    GRANT(&acl, 1, S3_GRANTEE_ALL_USERS, NULL, S3_PERM_READ);

    CHECK_EQ_INT(acl_canned(pool, "public-read-write", ALICE, ALICE, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 3);
    GRANT(&acl, 0, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);
    GRANT(&acl, 1, S3_GRANTEE_ALL_USERS, NULL, S3_PERM_READ);
    GRANT(&acl, 2, S3_GRANTEE_ALL_USERS, NULL, S3_PERM_WRITE);

    CHECK_EQ_INT(acl_canned(pool, "authenticated-read", ALICE, ALICE, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 2);
    GRANT(&acl, 0, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);
    GRANT(&acl, 1, S3_GRANTEE_AUTH_USERS, NULL, S3_PERM_READ);

    CHECK_EQ_INT(acl_canned(pool, "log-delivery-write", ALICE, ALICE, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 3);
    GRANT(&acl, 0, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);
    GRANT(&acl, 1, S3_GRANTEE_LOG_DELIVERY, NULL, S3_PERM_WRITE);
    GRANT(&acl, 2, S3_GRANTEE_LOG_DELIVERY, NULL, S3_PERM_READ_ACP);

    CHECK_EQ_INT(acl_canned(pool, "aws-exec-read", ALICE, ALICE, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 1);
    GRANT(&acl, 0, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);

    /* The name is (name, len): a longer buffer is fine. */
    CHECK_EQ_INT(s3_acl_canned(pool, "privateXYZ", 7, ALICE, NULL, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 1);
    gw_pool_destroy(pool);
}

TEST(acl_canned_bucket_owner)
{
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;

    /* Same owner: nothing beyond the owner's FULL_CONTROL. */
    CHECK_EQ_INT(acl_canned(pool, "bucket-owner-read", ALICE, ALICE, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 1);
    GRANT(&acl, 0, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);
    CHECK_EQ_INT(acl_canned(pool, "bucket-owner-full-control", ALICE, NULL,
                            &acl), S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 1);
    GRANT(&acl, 0, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);

    /* Different owner: the bucket owner is granted too. */
    CHECK_EQ_INT(acl_canned(pool, "bucket-owner-read", ALICE, BOB, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_STR(acl.owner, ALICE);
    CHECK_EQ_INT(acl.n, 2);
    GRANT(&acl, 0, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);
    GRANT(&acl, 1, S3_GRANTEE_USER, BOB, S3_PERM_READ);
    CHECK_EQ_INT(acl_canned(pool, "bucket-owner-full-control", ALICE, BOB,
                            &acl), S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 2);
    GRANT(&acl, 0, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);
    GRANT(&acl, 1, S3_GRANTEE_USER, BOB, S3_PERM_FULL_CONTROL);

    /* Other canned ACLs ignore the bucket owner. */
    CHECK_EQ_INT(acl_canned(pool, "public-read", ALICE, BOB, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 2);
    GRANT(&acl, 1, S3_GRANTEE_ALL_USERS, NULL, S3_PERM_READ);
    gw_pool_destroy(pool);
}

TEST(acl_canned_unknown)
{
    static const char  *bad[] = {
        "", "Private", "PUBLIC-READ", "public", "public-read ",
        " private", "private\n", "public_read", "bucket-owner",
        "log-delivery-write-x",
    };
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;
    size_t      i;

    for (i = 0; i < GW_NELEMS(bad); i++) {
        memset(&acl, 0x5a, sizeof(acl));
        if (acl_canned(pool, bad[i], ALICE, ALICE, &acl)
            != S3_ERR_INVALID_ARGUMENT)
        {
            fprintf(stderr, "# accepted \"%s\"\n", bad[i]);
            CHECK(0);
        }
        CHECK_EQ_INT(acl.n, 0x5a5a5a5a5a5a5a5aULL);   /* left alone */
    }
    /* Prefix of a valid name, by length. */
    CHECK_EQ_INT(s3_acl_canned(pool, "public-read", 6, ALICE, ALICE, &acl),
                 S3_ERR_INVALID_ARGUMENT);
    /* An owner that is not a canonical id. */
    CHECK_EQ_INT(acl_canned(pool, "private", "alice", ALICE, &acl),
                 S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(acl_canned(pool, "bucket-owner-read", ALICE, "bob", &acl),
                 S3_ERR_INVALID_ARGUMENT);
    gw_pool_destroy(pool);
}

/* ==== x-amz-grant-* headers ==== */

TEST(acl_grant_header_forms)
{
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;

    acl_init(&acl, ALICE);
    /* The S3 documentation's own example. */
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ,
                            "id=\"" BOB "\", uri=\"" URI_ALL "\", "
                            "emailAddress=\"alice@example.com\""),
                 S3_ERR_NONE);
    CHECK_EQ_STR(acl.owner, ALICE);
    CHECK_EQ_INT(acl.n, 3);
    GRANT(&acl, 0, S3_GRANTEE_USER, BOB, S3_PERM_READ);
    GRANT(&acl, 1, S3_GRANTEE_ALL_USERS, NULL, S3_PERM_READ);
    GRANT(&acl, 2, S3_GRANTEE_USER, ALICE, S3_PERM_READ);

    /* Keys in any case, values unquoted, blanks everywhere, upper-case hex
     * stored lower-case; added after what acl holds. */
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_WRITE,
                            "  ID = 0123456789ABCDEF0123456789abcdef"
                            "0123456789ABCDEF0123456789abcdef ,\tUri="
                            URI_AUTH ",EMAILADDRESS=\"Bob@Example.com\" "),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 5);
    GRANT(&acl, 3, S3_GRANTEE_USER, BOB, S3_PERM_WRITE);
    GRANT(&acl, 4, S3_GRANTEE_AUTH_USERS, NULL, S3_PERM_WRITE);
    /* bob by email: the same grant as bob by id, merged. */

    /* Both LogDelivery spellings mean the same group; merged. */
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ_ACP,
                            "uri=" URI_LOG ", uri=\"http://acs.amazonaws.com/"
                            "groups/global/LogDelivery\""), S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 6);
    GRANT(&acl, 5, S3_GRANTEE_LOG_DELIVERY, NULL, S3_PERM_READ_ACP);

    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_WRITE_ACP, "id=" CAROL),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_FULL_CONTROL,
                            "emailaddress=alice@example.com"), S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 8);
    GRANT(&acl, 6, S3_GRANTEE_USER, CAROL, S3_PERM_WRITE_ACP);
    GRANT(&acl, 7, S3_GRANTEE_USER, ALICE, S3_PERM_FULL_CONTROL);

    /* The same grant again changes nothing. */
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ, "uri=" URI_ALL),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 8);
    gw_pool_destroy(pool);
}

TEST(acl_grant_header_errors)
{
    static const struct {
        const char  *v;
        int          rc;
    } bad[] = {
        { "", S3_ERR_INVALID_ARGUMENT },
        { "   ", S3_ERR_INVALID_ARGUMENT },
        { "id=", S3_ERR_INVALID_ARGUMENT },
        { "id=\"\"", S3_ERR_INVALID_ARGUMENT },
        { "id", S3_ERR_INVALID_ARGUMENT },
        { "=" BOB, S3_ERR_INVALID_ARGUMENT },
        { BOB, S3_ERR_INVALID_ARGUMENT },
        { "id=\"" BOB, S3_ERR_INVALID_ARGUMENT },             /* no close */
        { "id=\"" BOB "\"x", S3_ERR_INVALID_ARGUMENT },
        { "id=" BOB ",", S3_ERR_INVALID_ARGUMENT },           /* trailing */
        { "id=" BOB ",,id=" CAROL, S3_ERR_INVALID_ARGUMENT },
        { ",id=" BOB, S3_ERR_INVALID_ARGUMENT },
        { "id=" BOB " id=" CAROL, S3_ERR_INVALID_ARGUMENT },  /* no comma */
        { "id=" BOB ";id=" CAROL, S3_ERR_INVALID_ARGUMENT },
        { "id=a\"b", S3_ERR_INVALID_ARGUMENT },
        /* ids: short, long, not hex */
        { "id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
          S3_ERR_INVALID_ARGUMENT },
        { "id=" BOB "0", S3_ERR_INVALID_ARGUMENT },
        { "id=g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          S3_ERR_INVALID_ARGUMENT },
        { "id=alice", S3_ERR_INVALID_ARGUMENT },
        /* unknown URIs, and known ones spelled otherwise */
        { "uri=http://acs.amazonaws.com/groups/global/Everyone",
          S3_ERR_INVALID_ARGUMENT },
        { "uri=https://acs.amazonaws.com/groups/global/AllUsers",
          S3_ERR_INVALID_ARGUMENT },
        { "uri=http://acs.amazonaws.com/groups/global/allusers",
          S3_ERR_INVALID_ARGUMENT },
        { "uri=" URI_ALL "/", S3_ERR_INVALID_ARGUMENT },
        { "uri=AllUsers", S3_ERR_INVALID_ARGUMENT },
        /* unknown keys */
        { "user=" BOB, S3_ERR_INVALID_ARGUMENT },
        { "email=bob@example.com", S3_ERR_INVALID_ARGUMENT },
        { "i d=" BOB, S3_ERR_INVALID_ARGUMENT },
        /* email addresses nobody has */
        { "emailAddress=\"nobody@example.com\"",
          S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL },
        { "emailAddress=alice@example.co",
          S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL },
        { "emailAddress=", S3_ERR_INVALID_ARGUMENT },
        /* an error after good items still fails the whole header */
        { "id=" BOB ", uri=" URI_ALL ", id=nope", S3_ERR_INVALID_ARGUMENT },
        { "uri=" URI_ALL ", emailAddress=x@y",
          S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL },
        { "\x01\xff\"=,", S3_ERR_INVALID_ARGUMENT },
    };
    gw_pool_t   *pool = gw_pool_create(4096);
    s3_acl_t     acl;
    s3_grant_t  *before;
    size_t       i;
    int          rc;

    for (i = 0; i < GW_NELEMS(bad); i++) {
        acl_init(&acl, ALICE);
        CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ, "id=" CAROL),
                     S3_ERR_NONE);
        before = acl.grants;
        rc = acl_header(pool, &acl, S3_PERM_READ, bad[i].v);
        if (rc != bad[i].rc) {
            fprintf(stderr, "# \"%s\": %d, expected %d\n", bad[i].v, rc,
                    bad[i].rc);
            CHECK(0);
        }
        /* A failed header leaves the ACL as it was. */
        CHECK(acl.grants == before);
        CHECK_EQ_INT(acl.n, 1);
        GRANT(&acl, 0, S3_GRANTEE_USER, CAROL, S3_PERM_READ);
    }

    /* Not one S3 permission. */
    acl_init(&acl, ALICE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ | S3_PERM_WRITE,
                            "id=" BOB), S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(acl_header(pool, &acl, 0, "id=" BOB),
                 S3_ERR_INVALID_ARGUMENT);

    /* A directory that answers with something that is not an id. */
    acl_dir_bad_answer = 1;
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ,
                            "emailAddress=bob@example.com"),
                 S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL);
    acl_dir_bad_answer = 0;
    /* No directory at all. */
    CHECK_EQ_INT(s3_acl_grant_header(pool, &acl, S3_PERM_READ,
                                     gw_str_lit("emailAddress=bob@example.com"),
                                     NULL),
                 S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL);
    CHECK_EQ_INT(acl.n, 0);
    gw_pool_destroy(pool);
}

TEST(acl_grant_header_limit)
{
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;
    char        item[80];
    char       *v = NULL;
    int         i;

    /* 100 distinct grants in one header are fine... */
    acl_init(&acl, ALICE);
    for (i = 0; i < S3_ACL_MAX_GRANTS; i++) {
        snprintf(item, sizeof(item), "%sid=%064x", i ? ", " : "",
                 (unsigned) i);
        v = v ? gw_pool_sprintf(pool, "%s%s", v, item)
              : gw_pool_strndup(pool, item, strlen(item));
    }
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ, v), S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, S3_ACL_MAX_GRANTS);
    GRANT(&acl, 99, S3_GRANTEE_USER,
          "0000000000000000000000000000000000000000000000000000000000000063",
          S3_PERM_READ);
    /* ... and so is repeating one of them (merged) ... */
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ,
                            "id=00000000000000000000000000000000000000000000"
                            "00000000000000000005"), S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, S3_ACL_MAX_GRANTS);
    /* ... but one more is not, and changes nothing; the same grantee
     * with another permission is another grant. */
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_WRITE, "id=" BOB),
                 S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ, "id=" BOB ", id=" BOB
                            ", uri=" URI_ALL), S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_WRITE,
                            "id=00000000000000000000000000000000000000000000"
                            "00000000000000000005"), S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(acl.n, S3_ACL_MAX_GRANTS);

    /* The same in two headers: the limit is on the whole ACL. */
    acl_init(&acl, ALICE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ, v), S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ, "uri=" URI_ALL),
                 S3_ERR_INVALID_ARGUMENT);
    gw_pool_destroy(pool);
}

/* ==== AccessControlPolicy documents ==== */

static const char  acl_example[] =
    "<AccessControlPolicy " NS "><Owner><ID>" ALICE "</ID>"
    "<DisplayName>a</DisplayName></Owner><AccessControlList>"
    "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><ID>" BOB "</ID>"
    "<DisplayName>b</DisplayName></Grantee><Permission>READ</Permission>"
    "</Grant><Grant><Grantee " XSI " xsi:type=\"Group\"><URI>" URI_ALL
    "</URI></Grantee><Permission>READ</Permission></Grant>"
    "</AccessControlList></AccessControlPolicy>";

TEST(acl_parse_xml_example)
{
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;
    char       *doc;

    CHECK_EQ_INT(acl_parse(pool, acl_example, &acl), S3_ERR_NONE);
    CHECK_EQ_STR(acl.owner, ALICE);
    CHECK_EQ_INT(acl.n, 2);
    GRANT(&acl, 0, S3_GRANTEE_USER, BOB, S3_PERM_READ);
    GRANT(&acl, 1, S3_GRANTEE_ALL_USERS, NULL, S3_PERM_READ);

    /* No namespace, an XML declaration, pretty-printed, upper-case hex, no
     * xsi:type (inferred), email grantee, every permission, and a
     * duplicate grant (merged). */
    doc =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<AccessControlPolicy>\n  <Owner>\n    <ID>\n      " ALICE
        "\n    </ID>\n  </Owner>\n  <AccessControlList>\n"
        "    <Grant><Grantee><ID>0123456789ABCDEF0123456789ABCDEF0123456789"
        "ABCDEF0123456789ABCDEF</ID></Grantee>\n"
        "      <Permission> WRITE </Permission></Grant>\n"
        "    <Grant><Permission>READ_ACP</Permission><Grantee><URI>" URI_AUTH
        "</URI></Grantee></Grant>\n"
        "    <Grant><Grantee " XSI " xsi:type=\"AmazonCustomerByEmail\">"
        "<EmailAddress>alice@example.com</EmailAddress></Grantee>"
        "<Permission>WRITE_ACP</Permission></Grant>\n"
        "    <Grant><Grantee><EmailAddress>bob@example.com</EmailAddress>"
        "</Grantee><Permission>FULL_CONTROL</Permission></Grant>\n"
        "    <Grant><Grantee " XSI " xsi:type=\"Group\"><URI>" URI_LOG
        "</URI></Grantee><Permission>WRITE</Permission></Grant>\n"
        "    <Grant><Grantee><ID>" BOB "</ID></Grantee>"
        "<Permission>WRITE</Permission></Grant>\n"
        "  </AccessControlList>\n</AccessControlPolicy>\n";
    CHECK_EQ_INT(acl_parse(pool, doc, &acl), S3_ERR_NONE);
    CHECK_EQ_STR(acl.owner, ALICE);
    CHECK_EQ_INT(acl.n, 5);
    GRANT(&acl, 0, S3_GRANTEE_USER, BOB, S3_PERM_WRITE);
    GRANT(&acl, 1, S3_GRANTEE_AUTH_USERS, NULL, S3_PERM_READ_ACP);
    GRANT(&acl, 2, S3_GRANTEE_USER, ALICE, S3_PERM_WRITE_ACP);
    GRANT(&acl, 3, S3_GRANTEE_USER, BOB, S3_PERM_FULL_CONTROL);
    GRANT(&acl, 4, S3_GRANTEE_LOG_DELIVERY, NULL, S3_PERM_WRITE);

    /* Another prefix for xsi, and an S3-namespace prefix. */
    doc = "<s3:AccessControlPolicy xmlns:s3=\"http://s3.amazonaws.com/doc/"
          "2006-03-01/\"><s3:Owner><s3:ID>" BOB "</s3:ID></s3:Owner>"
          "<s3:AccessControlList><s3:Grant><s3:Grantee xmlns:i=\"http://www"
          ".w3.org/2001/XMLSchema-instance\" i:type=\"Group\"><s3:URI>"
          URI_ALL "</s3:URI></s3:Grantee><s3:Permission>READ</s3:Permission>"
          "</s3:Grant></s3:AccessControlList></s3:AccessControlPolicy>";
    CHECK_EQ_INT(acl_parse(pool, doc, &acl), S3_ERR_NONE);
    CHECK_EQ_STR(acl.owner, BOB);
    CHECK_EQ_INT(acl.n, 1);
    GRANT(&acl, 0, S3_GRANTEE_ALL_USERS, NULL, S3_PERM_READ);
    gw_pool_destroy(pool);
}

TEST(acl_parse_xml_empty)
{
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;

    memset(&acl, 0x5a, sizeof(acl));
    CHECK_EQ_INT(acl_parse(pool, acl_doc(pool, ""), &acl), S3_ERR_NONE);
    CHECK_EQ_STR(acl.owner, ALICE);
    CHECK_EQ_INT(acl.n, 0);

    memset(&acl, 0x5a, sizeof(acl));
    CHECK_EQ_INT(acl_parse(pool, "<AccessControlPolicy><Owner><ID>" BOB
                           "</ID></Owner><AccessControlList/>"
                           "</AccessControlPolicy>", &acl), S3_ERR_NONE);
    CHECK_EQ_STR(acl.owner, BOB);
    CHECK_EQ_INT(acl.n, 0);

    /* No AccessControlList at all: also no grants. */
    memset(&acl, 0x5a, sizeof(acl));
    CHECK_EQ_INT(acl_parse(pool, "<AccessControlPolicy><Owner><ID>" BOB
                           "</ID></Owner></AccessControlPolicy>", &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, 0);
    gw_pool_destroy(pool);
}

#define G_USER(id, perm) \
    "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><ID>" id \
    "</ID></Grantee><Permission>" perm "</Permission></Grant>"

TEST(acl_parse_xml_malformed)
{
    static const char  *bad[] = {
        /* not well-formed, or empty */
        "", "   ", "<AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>" ALICE "</ID></Owner>"
        "</AccessControlList></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>" ALICE "</ID></Owner>"
        "<AccessControlList></AccessControlList></AccessControlPolicy><x/>",
        "\xff\xfe<",
        /* an undeclared xsi prefix is not namespace-well-formed */
        "<AccessControlPolicy><Owner><ID>" ALICE "</ID></Owner>"
        "<AccessControlList><Grant><Grantee xsi:type=\"Group\"><URI>" URI_ALL
        "</URI></Grantee><Permission>READ</Permission></Grant>"
        "</AccessControlList></AccessControlPolicy>",
        /* wrong root, wrong namespace */
        "<AccessControlList/>",
        "<Policy><Owner><ID>" ALICE "</ID></Owner></Policy>",
        "<AccessControlPolicy xmlns=\"http://example.com/\"><Owner><ID>" ALICE
        "</ID></Owner></AccessControlPolicy>",
        /* no Owner, no Owner/ID, two of them */
        "<AccessControlPolicy><AccessControlList/></AccessControlPolicy>",
        "<AccessControlPolicy/>",
        "<AccessControlPolicy><Owner><DisplayName>a</DisplayName></Owner>"
        "<AccessControlList/></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>" ALICE "</ID><ID>" ALICE "</ID>"
        "</Owner></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>" ALICE "</ID></Owner><Owner><ID>"
        ALICE "</ID></Owner></AccessControlPolicy>",
        /* elements the schema does not have, or in the wrong place */
        "<AccessControlPolicy><Owner><ID>" ALICE "</ID></Owner><Extra/>"
        "</AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>" ALICE "<b/></ID></Owner>"
        "</AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>" ALICE "</ID></Owner>"
        "<AccessControlList>" G_USER(BOB, "READ") "</AccessControlList>"
        "<AccessControlList/></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>" ALICE "</ID></Owner>"
        G_USER(BOB, "READ") "</AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>" ALICE "</ID></Owner>"
        "<AccessControlList><Grantee><ID>" BOB "</ID></Grantee>"
        "</AccessControlList></AccessControlPolicy>",
        NULL
    };
    static const char  *bad_grants[] = {
        /* unknown permissions */
        G_USER(BOB, "read"), G_USER(BOB, "READ_WRITE"), G_USER(BOB, ""),
        G_USER(BOB, "FULL CONTROL"),
        /* grant without grantee, without permission, empty */
        "<Grant><Permission>READ</Permission></Grant>",
        "<Grant><Grantee><ID>" BOB "</ID></Grantee></Grant>",
        "<Grant/>",
        /* two grantees, two permissions */
        "<Grant><Grantee><ID>" BOB "</ID></Grantee><Grantee><ID>" BOB
        "</ID></Grantee><Permission>READ</Permission></Grant>",
        "<Grant><Grantee><ID>" BOB "</ID></Grantee><Permission>READ"
        "</Permission><Permission>READ</Permission></Grant>",
        /* unknown xsi:type, xsi:type that disagrees with the child */
        "<Grant><Grantee " XSI " xsi:type=\"User\"><ID>" BOB "</ID>"
        "</Grantee><Permission>READ</Permission></Grant>",
        "<Grant><Grantee " XSI " xsi:type=\"\"><ID>" BOB "</ID>"
        "</Grantee><Permission>READ</Permission></Grant>",
        "<Grant><Grantee " XSI " xsi:type=\"Group\"><ID>" BOB "</ID>"
        "</Grantee><Permission>READ</Permission></Grant>",
        "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><URI>" URI_ALL
        "</URI></Grantee><Permission>READ</Permission></Grant>",
        "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><EmailAddress>"
        "bob@example.com</EmailAddress></Grantee><Permission>READ"
        "</Permission></Grant>",
        /* a grantee named by nothing, or by two things */
        "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><DisplayName>b"
        "</DisplayName></Grantee><Permission>READ</Permission></Grant>",
        "<Grant><Grantee><ID>" BOB "</ID><URI>" URI_ALL "</URI></Grantee>"
        "<Permission>READ</Permission></Grant>",
        "<Grant><Grantee><ID>" BOB "</ID><ID>" BOB "</ID></Grantee>"
        "<Permission>READ</Permission></Grant>",
        /* unknown child of a grantee */
        "<Grant><Grantee><ID>" BOB "</ID><Name>b</Name></Grantee>"
        "<Permission>READ</Permission></Grant>",
        NULL
    };
    gw_pool_t   *pool = gw_pool_create(4096);
    s3_acl_t     acl;
    const char  *doc;
    size_t       i;
    int          rc;

    for (i = 0; bad[i] != NULL; i++) {
        memset(&acl, 0x5a, sizeof(acl));
        rc = acl_parse(pool, bad[i], &acl);
        if (rc != S3_ERR_MALFORMED_ACL_ERROR) {
            fprintf(stderr, "# %d for: %s\n", rc, bad[i]);
            CHECK(0);
        }
        CHECK_EQ_INT(acl.n, 0x5a5a5a5a5a5a5a5aULL);   /* out untouched */
    }
    for (i = 0; bad_grants[i] != NULL; i++) {
        doc = acl_doc(pool, bad_grants[i]);
        rc = acl_parse(pool, doc, &acl);
        if (rc != S3_ERR_MALFORMED_ACL_ERROR) {
            fprintf(stderr, "# %d for: %s\n", rc, doc);
            CHECK(0);
        }
        /* A good grant before the bad one does not help. */
        doc = acl_doc(pool, gw_pool_sprintf(pool, "%s%s", G_USER(BOB, "READ"),
                                            bad_grants[i]));
        CHECK_EQ_INT(acl_parse(pool, doc, &acl), S3_ERR_MALFORMED_ACL_ERROR);
    }
    /* Truncated at every length: never accepted. */
    for (i = 0; i < sizeof(acl_example) - 1; i++) {
        CHECK_EQ_INT(s3_acl_parse_xml(pool, acl_example, i, &acl_dir, &acl),
                     S3_ERR_MALFORMED_ACL_ERROR);
    }
    gw_pool_destroy(pool);
}

TEST(acl_parse_xml_refuses_dtd)
{
    static const char  *bad[] = {
        "<!DOCTYPE AccessControlPolicy [<!ENTITY id \"" ALICE "\">]>"
        "<AccessControlPolicy><Owner><ID>&id;</ID></Owner>"
        "</AccessControlPolicy>",
        "<!DOCTYPE AccessControlPolicy><AccessControlPolicy><Owner><ID>"
        ALICE "</ID></Owner></AccessControlPolicy>",
        "<!DOCTYPE AccessControlPolicy SYSTEM \"http://example.com/a.dtd\">"
        "<AccessControlPolicy><Owner><ID>" ALICE "</ID></Owner>"
        "</AccessControlPolicy>",
        "<!DOCTYPE a [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">"
        "<!ENTITY c \"&b;&b;&b;&b;\">]><AccessControlPolicy><Owner><ID>&c;"
        "</ID></Owner></AccessControlPolicy>",
        /* an entity that was never declared */
        "<AccessControlPolicy><Owner><ID>&id;</ID></Owner>"
        "</AccessControlPolicy>",
    };
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;
    size_t      i;

    for (i = 0; i < GW_NELEMS(bad); i++) {
        memset(&acl, 0, sizeof(acl));
        CHECK_EQ_INT(acl_parse(pool, bad[i], &acl),
                     S3_ERR_MALFORMED_ACL_ERROR);
        CHECK_EQ_STR(acl.owner, "");
    }
    /* Character references and the predefined entities are plain XML. */
    CHECK_EQ_INT(acl_parse(pool, "<AccessControlPolicy><Owner><ID>&#55;9a59df9"
                           "00b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd"
                           "47ef2be</ID></Owner><AccessControlList><Grant>"
                           "<Grantee><EmailAddress>bob&#64;example.com"
                           "</EmailAddress></Grantee><Permission>READ"
                           "</Permission></Grant></AccessControlList>"
                           "</AccessControlPolicy>", &acl), S3_ERR_NONE);
    CHECK_EQ_STR(acl.owner, ALICE);
    GRANT(&acl, 0, S3_GRANTEE_USER, BOB, S3_PERM_READ);
    gw_pool_destroy(pool);
}

TEST(acl_parse_xml_invalid)
{
    static const struct {
        const char  *grants;
        int          rc;
    } bad[] = {
        { G_USER("0123", "READ"), S3_ERR_INVALID_ARGUMENT },
        { G_USER(BOB "0", "READ"), S3_ERR_INVALID_ARGUMENT },
        { G_USER("x123456789abcdef0123456789abcdef"
                 "0123456789abcdef0123456789abcdef", "READ"),
          S3_ERR_INVALID_ARGUMENT },
        { G_USER("", "READ"), S3_ERR_INVALID_ARGUMENT },
        { "<Grant><Grantee " XSI " xsi:type=\"Group\"><URI>http://acs."
          "amazonaws.com/groups/global/Everyone</URI></Grantee>"
          "<Permission>READ</Permission></Grant>", S3_ERR_INVALID_ARGUMENT },
        { "<Grant><Grantee><URI></URI></Grantee>"
          "<Permission>READ</Permission></Grant>", S3_ERR_INVALID_ARGUMENT },
        { "<Grant><Grantee " XSI " xsi:type=\"AmazonCustomerByEmail\">"
          "<EmailAddress>nobody@example.com</EmailAddress></Grantee>"
          "<Permission>READ</Permission></Grant>",
          S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL },
        { "<Grant><Grantee><EmailAddress></EmailAddress></Grantee>"
          "<Permission>READ</Permission></Grant>",
          S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL },
    };
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;
    size_t      i;
    char       *doc, *big;
    int         rc;

    for (i = 0; i < GW_NELEMS(bad); i++) {
        doc = acl_doc(pool, bad[i].grants);
        rc = acl_parse(pool, doc, &acl);
        if (rc != bad[i].rc) {
            fprintf(stderr, "# %d, expected %d, for: %s\n", rc, bad[i].rc,
                    doc);
            CHECK(0);
        }
    }
    /* An Owner ID that is not a canonical id. */
    CHECK_EQ_INT(acl_parse(pool, "<AccessControlPolicy><Owner><ID>alice</ID>"
                           "</Owner></AccessControlPolicy>", &acl),
                 S3_ERR_INVALID_ARGUMENT);
    /* Text far longer than any id: refused, not truncated to one. */
    big = gw_pool_alloc(pool, 5000);
    memset(big, 'a', 4999);
    big[4999] = '\0';
    memcpy(big, ALICE, 64);
    CHECK_EQ_INT(acl_parse(pool, gw_pool_sprintf(pool, "<AccessControlPolicy>"
                           "<Owner><ID>%s</ID></Owner></AccessControlPolicy>",
                           big), &acl), S3_ERR_INVALID_ARGUMENT);
    /* A long DisplayName is only ignored. */
    CHECK_EQ_INT(acl_parse(pool, gw_pool_sprintf(pool, "<AccessControlPolicy>"
                           "<Owner><ID>" ALICE "</ID><DisplayName>%s"
                           "</DisplayName></Owner></AccessControlPolicy>",
                           big), &acl), S3_ERR_NONE);
    gw_pool_destroy(pool);
}

TEST(acl_parse_xml_limit)
{
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;
    char        id[65];
    char       *grants = "";
    int         i;

    for (i = 0; i < S3_ACL_MAX_GRANTS; i++) {
        snprintf(id, sizeof(id), "%064x", (unsigned) i);
        grants = gw_pool_sprintf(pool, "%s<Grant><Grantee><ID>%s</ID>"
                                 "</Grantee><Permission>READ</Permission>"
                                 "</Grant>", grants, id);
    }
    CHECK_EQ_INT(acl_parse(pool, acl_doc(pool, grants), &acl), S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, S3_ACL_MAX_GRANTS);
    GRANT(&acl, 42, S3_GRANTEE_USER,
          "000000000000000000000000000000000000000000000000000000000000002a",
          S3_PERM_READ);
    /* A duplicate does not count... */
    CHECK_EQ_INT(acl_parse(pool, acl_doc(pool, gw_pool_sprintf(pool,
                           "%s%s", grants, G_USER("0000000000000000000000000"
                           "000000000000000000000000000000000000007", "READ"))),
                           &acl), S3_ERR_NONE);
    CHECK_EQ_INT(acl.n, S3_ACL_MAX_GRANTS);
    /* ... the 101st distinct grant does. */
    CHECK_EQ_INT(acl_parse(pool, acl_doc(pool, gw_pool_sprintf(pool,
                           "%s%s", grants, G_USER(BOB, "READ"))), &acl),
                 S3_ERR_INVALID_ARGUMENT);
    gw_pool_destroy(pool);
}

/* ==== writing the document ==== */

TEST(acl_xml_output)
{
    static const char  expect[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<AccessControlPolicy " NS "><Owner><ID>" ALICE "</ID>"
        "<DisplayName>alice</DisplayName></Owner><AccessControlList>"
        "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><ID>" ALICE
        "</ID><DisplayName>alice</DisplayName></Grantee>"
        "<Permission>FULL_CONTROL</Permission></Grant>"
        "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><ID>" CAROL
        "</ID></Grantee><Permission>READ_ACP</Permission></Grant>"
        "<Grant><Grantee " XSI " xsi:type=\"Group\"><URI>" URI_ALL
        "</URI></Grantee><Permission>READ</Permission></Grant>"
        "<Grant><Grantee " XSI " xsi:type=\"Group\"><URI>" URI_AUTH
        "</URI></Grantee><Permission>WRITE</Permission></Grant>"
        "<Grant><Grantee " XSI " xsi:type=\"Group\"><URI>" URI_LOG
        "</URI></Grantee><Permission>WRITE_ACP</Permission></Grant>"
        "</AccessControlList></AccessControlPolicy>";
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl;
    s3_xml_t    x;

    CHECK_EQ_INT(acl_canned(pool, "private", ALICE, NULL, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ_ACP, "id=" CAROL),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ, "uri=" URI_ALL),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_WRITE, "uri=" URI_AUTH),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_WRITE_ACP, "uri=" URI_LOG),
                 S3_ERR_NONE);
    memset(&x, 0, sizeof(x));
    x.pool = pool;
    s3_acl_xml(&acl, &acl_dir, &x);
    CHECK_EQ_STR(x.buf, expect);
    CHECK_EQ_INT(x.len, sizeof(expect) - 1);

    /* Without a directory: no DisplayName anywhere. */
    memset(&x, 0, sizeof(x));
    x.pool = pool;
    s3_acl_xml(&acl, NULL, &x);
    CHECK(strstr(x.buf, "DisplayName") == NULL);
    CHECK(strstr(x.buf, "<Owner><ID>" ALICE "</ID></Owner>") != NULL);

    /* No grants: an empty list, still there. */
    acl.n = 0;
    memset(&x, 0, sizeof(x));
    x.pool = pool;
    s3_acl_xml(&acl, &acl_dir, &x);
    CHECK(strstr(x.buf, "</Owner><AccessControlList></AccessControlList>"
                        "</AccessControlPolicy>") != NULL);
    gw_pool_destroy(pool);
}

TEST(acl_xml_round_trip)
{
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    a, b, c;
    s3_xml_t    x;
    char       *doc;

    doc = acl_doc(pool,
                  G_USER(BOB, "READ") G_USER(ALICE, "FULL_CONTROL")
                  G_USER(CAROL, "WRITE_ACP")
                  "<Grant><Grantee><URI>" URI_ALL "</URI></Grantee>"
                  "<Permission>READ</Permission></Grant>"
                  "<Grant><Grantee><URI>" URI_AUTH "</URI></Grantee>"
                  "<Permission>READ_ACP</Permission></Grant>"
                  "<Grant><Grantee><URI>" URI_LOG "</URI></Grantee>"
                  "<Permission>WRITE</Permission></Grant>"
                  "<Grant><Grantee><EmailAddress>bob@example.com"
                  "</EmailAddress></Grantee><Permission>WRITE</Permission>"
                  "</Grant>");
    CHECK_EQ_INT(acl_parse(pool, doc, &a), S3_ERR_NONE);
    CHECK_EQ_INT(a.n, 7);
    memset(&x, 0, sizeof(x));
    x.pool = pool;
    s3_acl_xml(&a, &acl_dir, &x);
    CHECK_EQ_INT(s3_acl_parse_xml(pool, x.buf, x.len, &acl_dir, &b),
                 S3_ERR_NONE);
    CHECK(acl_equal(&a, &b));
    GRANT(&b, 6, S3_GRANTEE_USER, BOB, S3_PERM_WRITE);

    /* The same through the stored form. */
    {
        size_t  len;
        char   *enc = s3_acl_encode(pool, &b, &len);

        CHECK_EQ_INT(s3_acl_decode(pool, enc, len, &c), GW_OK);
        CHECK(acl_equal(&a, &c));
    }
    gw_pool_destroy(pool);
}

/* ==== the stored form ==== */

TEST(acl_encode_decode)
{
    static const char  expect[] =
        "1 " ALICE " 4\n"
        "U " ALICE " f\n"
        "G all 1\n"
        "G auth 2\n"
        "U " BOB " 4\n";
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    acl, out;
    size_t      len, i, j;
    char       *enc, *buf;
    unsigned    perms[] = { S3_PERM_READ, S3_PERM_WRITE, S3_PERM_READ_ACP,
                            S3_PERM_WRITE_ACP, S3_PERM_FULL_CONTROL };

    CHECK_EQ_INT(acl_canned(pool, "public-read", ALICE, NULL, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_WRITE, "uri=" URI_AUTH),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ_ACP, "id=" BOB),
                 S3_ERR_NONE);
    enc = s3_acl_encode(pool, &acl, &len);
    CHECK_EQ_STR(enc, expect);
    CHECK_EQ_INT(len, sizeof(expect) - 1);
    CHECK_EQ_INT(s3_acl_decode(pool, enc, len, &out), GW_OK);
    CHECK(acl_equal(&acl, &out));

    /* Every permission with every kind of grantee. */
    acl_init(&acl, BOB);
    for (i = 0; i < GW_NELEMS(perms); i++) {
        CHECK_EQ_INT(acl_header(pool, &acl, perms[i], "id=" CAROL ", uri="
                                URI_ALL ", uri=" URI_AUTH ", uri=" URI_LOG),
                     S3_ERR_NONE);
    }
    CHECK_EQ_INT(acl.n, 20);
    enc = s3_acl_encode(pool, &acl, &len);
    CHECK_EQ_INT(s3_acl_decode(pool, enc, len, &out), GW_OK);
    CHECK(acl_equal(&acl, &out));

    /* No grants. */
    acl.n = 0;
    enc = s3_acl_encode(pool, &acl, &len);
    CHECK_EQ_STR(enc, "1 " BOB " 0\n");
    CHECK_EQ_INT(s3_acl_decode(pool, enc, len, &out), GW_OK);
    CHECK_EQ_STR(out.owner, BOB);
    CHECK_EQ_INT(out.n, 0);

    /* Every proper prefix, in a buffer of exactly that size (so ASan sees
     * any read past it), is corrupt. */
    for (i = 0; i < sizeof(expect) - 1; i++) {
        buf = gw_alloc(i ? i : 1);
        memcpy(buf, expect, i);
        CHECK_EQ_INT(s3_acl_decode(pool, buf, i, &out), GW_ECORRUPT);
        gw_free(buf);
    }
    /* Every byte changed to each of a few others: decodes (to something
     * valid) or is corrupt; never a crash, never a half-filled ACL. */
    for (i = 0; i < sizeof(expect) - 1; i++) {
        static const char  subst[] = "\0 \n01f9aAGUgz";

        for (j = 0; j < sizeof(subst) - 1; j++) {
            int  rc;

            buf = gw_alloc(sizeof(expect) - 1);
            memcpy(buf, expect, sizeof(expect) - 1);
            buf[i] = subst[j];
            memset(&out, 0, sizeof(out));
            rc = s3_acl_decode(pool, buf, sizeof(expect) - 1, &out);
            CHECK(rc == GW_OK || rc == GW_ECORRUPT);
            if (rc == GW_ECORRUPT) {
                CHECK_EQ_INT(out.n, 0);
            } else {
                CHECK_EQ_INT(strlen(out.owner), 64);
                CHECK_EQ_INT(out.n, 4);
            }
            gw_free(buf);
        }
    }
    gw_pool_destroy(pool);
}

TEST(acl_decode_corrupt)
{
    static const char  *bad[] = {
        "",
        "1",
        "1 ",
        "2 " ALICE " 0\n",                          /* unknown version */
        "1 " ALICE "\n",                            /* no count */
        "1 " ALICE " 0",                            /* no newline */
        "1 " ALICE " 00\n",                         /* leading zero */
        "1 " ALICE " 1\n",                          /* count too high */
        "1 " ALICE " 0\nU " BOB " 1\n",             /* count too low */
        "1 " ALICE " 99999999\n",
        "1 " ALICE " -1\n",
        "1 " ALICE " 0\n\n",                        /* trailing bytes */
        "1 " ALICE " 0\r\n",
        "1 79A59DF900B949E55D96A1E698FBACEDFD6E09D98EACF8F8D5218E7CD47EF2BE"
        " 0\n",                                     /* upper-case hex */
        "1 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2b"
        " 0\n",                                     /* 63 digits */
        "1 " ALICE " 1\nU " BOB " 3\n",             /* two bits */
        "1 " ALICE " 1\nU " BOB " F\n",
        "1 " ALICE " 1\nU " BOB " 0\n",
        "1 " ALICE " 1\nU " BOB "  1\n",
        "1 " ALICE " 1\nU " BOB " 1",
        "1 " ALICE " 1\nU alice 1\n",
        "1 " ALICE " 1\nG everyone 1\n",
        "1 " ALICE " 1\nG All 1\n",
        "1 " ALICE " 1\nG all\n",
        "1 " ALICE " 1\nG all  1\n",
        "1 " ALICE " 1\nG allx 1\n",
        "1 " ALICE " 1\nX all 1\n",
        "1 " ALICE " 1\nUU " BOB " 1\n",
        "1 " ALICE " 1\nG all 1\nG all 1\n",
    };
    gw_pool_t  *pool = gw_pool_create(4096);
    s3_acl_t    out;
    size_t      i, len;
    char       *buf;

    for (i = 0; i < GW_NELEMS(bad); i++) {
        len = strlen(bad[i]);
        buf = gw_alloc(len ? len : 1);
        memcpy(buf, bad[i], len);
        memset(&out, 0x5a, sizeof(out));
        if (s3_acl_decode(pool, buf, len, &out) != GW_ECORRUPT) {
            fprintf(stderr, "# decoded: %s\n", bad[i]);
            CHECK(0);
        }
        CHECK_EQ_INT(out.n, 0x5a5a5a5a5a5a5a5aULL);
        gw_free(buf);
    }
    /* An embedded NUL is just a wrong byte. */
    {
        static const char  nul[] = "1 " ALICE " 1\nG all\0001\n";

        CHECK_EQ_INT(s3_acl_decode(pool, nul, sizeof(nul) - 1, &out),
                     GW_ECORRUPT);
    }
    CHECK_EQ_INT(s3_acl_decode(pool, NULL, 0, &out), GW_ECORRUPT);

    /* Pseudo-random bytes, and random lines of the right shape. */
    {
        unsigned  seed = 12345;
        int       n, k, rc;

        for (n = 0; n < 2000; n++) {
            len = (size_t) (n % 200) + 1;
            buf = gw_alloc(len);
            for (i = 0; i < len; i++) {
                seed = seed * 1103515245u + 12345u;
                buf[i] = (char) (seed >> 16);
            }
            if (n % 2) {
                /* a good header, then noise made of the alphabet */
                static const char  alpha[] = "UG 1248f\nallauthog";

                k = snprintf(buf, len, "1 " ALICE " %d\n", n % 3);
                for (i = k > 0 && (size_t) k < len ? (size_t) k : 0; i < len;
                     i++)
                {
                    buf[i] = alpha[(unsigned char) buf[i]
                                   % (sizeof(alpha) - 1)];
                }
            }
            rc = s3_acl_decode(pool, buf, len, &out);
            CHECK(rc == GW_OK || rc == GW_ECORRUPT);
            gw_free(buf);
        }
    }
    gw_pool_destroy(pool);
}

/* ==== permissions of a caller ==== */

TEST(acl_perms)
{
    gw_pool_t   *pool = gw_pool_create(4096);
    s3_acl_t     acl;
    const char  *which;

    /* private: the owner, nobody else */
    CHECK_EQ_INT(acl_canned(pool, "private", ALICE, NULL, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(s3_acl_perms(&acl, ALICE, &which), S3_PERM_FULL_CONTROL);
    CHECK_EQ_STR(which, "grant FULL_CONTROL to user");
    CHECK_EQ_INT(s3_acl_perms(&acl, BOB, &which), 0);
    CHECK(which == NULL);
    CHECK_EQ_INT(s3_acl_perms(&acl, NULL, &which), 0);
    CHECK(which == NULL);
    CHECK_EQ_INT(s3_acl_perms(&acl, ALICE, NULL), S3_PERM_FULL_CONTROL);

    /* public-read-write: everyone reads and writes */
    CHECK_EQ_INT(acl_canned(pool, "public-read-write", ALICE, NULL, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(s3_acl_perms(&acl, NULL, &which),
                 S3_PERM_READ | S3_PERM_WRITE);
    CHECK_EQ_STR(which, "grant READ to AllUsers");
    CHECK_EQ_INT(s3_acl_perms(&acl, BOB, NULL),
                 S3_PERM_READ | S3_PERM_WRITE);
    CHECK_EQ_INT(s3_acl_perms(&acl, ALICE, NULL), S3_PERM_FULL_CONTROL);

    /* authenticated-read: any signed-in user, not anonymous */
    CHECK_EQ_INT(acl_canned(pool, "authenticated-read", ALICE, NULL, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(s3_acl_perms(&acl, BOB, &which), S3_PERM_READ);
    CHECK_EQ_STR(which, "grant READ to AuthenticatedUsers");
    CHECK_EQ_INT(s3_acl_perms(&acl, CAROL, NULL), S3_PERM_READ);
    CHECK_EQ_INT(s3_acl_perms(&acl, NULL, &which), 0);
    CHECK(which == NULL);

    /* log-delivery-write: nothing for ordinary callers */
    CHECK_EQ_INT(acl_canned(pool, "log-delivery-write", ALICE, NULL, &acl),
                 S3_ERR_NONE);
    CHECK_EQ_INT(s3_acl_perms(&acl, BOB, NULL), 0);
    CHECK_EQ_INT(s3_acl_perms(&acl, NULL, NULL), 0);

    /* User grants add up; FULL_CONTROL is all four; ids compare without
     * regard to case. */
    acl_init(&acl, ALICE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ_ACP, "id=" BOB),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_WRITE,
                            "id=" BOB ", uri=" URI_AUTH), S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_READ, "uri=" URI_ALL),
                 S3_ERR_NONE);
    CHECK_EQ_INT(acl_header(pool, &acl, S3_PERM_FULL_CONTROL, "id=" CAROL),
                 S3_ERR_NONE);
    CHECK_EQ_INT(s3_acl_perms(&acl, BOB, &which),
                 S3_PERM_READ_ACP | S3_PERM_WRITE | S3_PERM_READ);
    CHECK_EQ_STR(which, "grant READ_ACP to user");
    CHECK_EQ_INT(s3_acl_perms(&acl, "0123456789ABCDEF0123456789ABCDEF"
                              "0123456789ABCDEF0123456789ABCDEF", NULL),
                 S3_PERM_READ_ACP | S3_PERM_WRITE | S3_PERM_READ);
    CHECK_EQ_INT(s3_acl_perms(&acl, CAROL, NULL), S3_PERM_FULL_CONTROL);
    /* The owner holds only what is granted to it: WRITE (authenticated)
     * and READ (everyone); the rest is access.c's call. */
    CHECK_EQ_INT(s3_acl_perms(&acl, ALICE, &which),
                 S3_PERM_WRITE | S3_PERM_READ);
    CHECK_EQ_STR(which, "grant WRITE to AuthenticatedUsers");
    CHECK_EQ_INT(s3_acl_perms(&acl, NULL, &which), S3_PERM_READ);
    CHECK_EQ_STR(which, "grant READ to AllUsers");

    /* Empty ACL: nothing for anyone. */
    acl_init(&acl, ALICE);
    CHECK_EQ_INT(s3_acl_perms(&acl, ALICE, &which), 0);
    CHECK(which == NULL);
    gw_pool_destroy(pool);
}
