/* test/unit/test_replication.c: s3/replication, the replication
 * configuration model: reading and validating documents (each error S3
 * gives), the stored form, the document given back, rule matching. */
#include "s3/replication.h"
#include "test/unit/unit.h"

#define NS  " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
#define DOC(rules)                                                          \
    "<ReplicationConfiguration" NS "><Role>arn:aws:iam::123456789012:role/"  \
    "rep</Role>" rules "</ReplicationConfiguration>"
#define DEST(b)     "<Destination><Bucket>arn:aws:s3:::" b "</Bucket>"       \
                    "</Destination>"
#define DMR(s)      "<DeleteMarkerReplication><Status>" s "</Status>"        \
                    "</DeleteMarkerReplication>"
#define ON          "<Status>Enabled</Status>"
#define OFF         "<Status>Disabled</Status>"
#define PRIO(n)     "<Priority>" #n "</Priority>"
#define TAG(k, v)   "<Tag><Key>" k "</Key><Value>" v "</Value></Tag>"
/* A minimal valid V2 rule with what goes between its tags. */
#define V2(n, more) "<Rule>" ON PRIO(n) DMR("Disabled") more DEST("dst")     \
                    "</Rule>"
#define V1(pfx)     "<Rule>" ON "<Prefix>" pfx "</Prefix>" DEST("dst")       \
                    "</Rule>"

#define SCHEMA(what, verb)                                                  \
    what " " verb " for this version of Cross Region Replication "          \
    "configuration schema. Please refer to S3 Developer Guide for more "    \
    "information."

static gw_pool_t  *test_pool;

static s3_repl_conf_t *
test_repl_ok(const char *doc)
{
    s3_repl_conf_t  *c;
    const char      *msg;
    int              rc;

    if (test_pool == NULL) {
        test_pool = gw_pool_create(4096);
    }
    rc = s3_replication_parse(test_pool, doc, strlen(doc), "src", &c, &msg);
    if (rc != S3_ERR_NONE) {
        fprintf(stderr, "# parse failed: %s %s\n# %s\n", s3_error_code(rc),
                msg ? msg : "", doc);
        exit(1);
    }
    return c;
}

/* The document must fail with err and message msg (NULL: the default). */
#define CHECK_REPL_ERR(doc, err, msg)                                       \
    do {                                                                    \
        s3_repl_conf_t  *c_;                                                \
        const char      *m_, *want_ = (msg);                                \
        gw_pool_t       *p_ = gw_pool_create(4096);                         \
        int              rc_;                                               \
        rc_ = s3_replication_parse(p_, (doc), strlen(doc), "src", &c_,      \
                                   &m_);                                    \
        if (rc_ != (err)) {                                                 \
            fprintf(stderr, "# %s:%d: got %s (%s), expected %s\n# %s\n",    \
                    __FILE__, __LINE__, s3_error_code(rc_), m_ ? m_ : "",   \
                    s3_error_code(err), (doc));                             \
            exit(1);                                                        \
        }                                                                   \
        CHECK(c_ == NULL);                                                  \
        if (want_ == NULL) {                                                \
            CHECK(m_ == NULL);                                              \
        } else {                                                            \
            CHECK_EQ_STR(m_, want_);                                        \
        }                                                                   \
        gw_pool_destroy(p_);                                                \
    } while (0)

static int
test_str_is(gw_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.base, want, s.len) == 0;
}

#define CHECK_STR(s, want)                                                  \
    do {                                                                    \
        if (!test_str_is((s), (want))) {                                    \
            fprintf(stderr, "# %s:%d: %s is \"%.*s\", expected \"%s\"\n",   \
                    __FILE__, __LINE__, #s, (int) (s).len, (s).base,        \
                    (want));                                                \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

/* ==== reading ==== */

TEST(repl_parse_v2)
{
    s3_repl_conf_t  *c;

    c = test_repl_ok(DOC(
        "<Rule><ID>all</ID>" PRIO(1) "<Filter/>" ON
        DMR("Enabled") DEST("dst") "</Rule>"
        "<Rule><ID>logs</ID>" PRIO(7) "<Filter><Prefix>logs/</Prefix>"
        "</Filter>" OFF "<ExistingObjectReplication>" ON
        "</ExistingObjectReplication><Destination><Bucket>arn:aws:s3:::other"
        "</Bucket><StorageClass>GLACIER_IR</StorageClass></Destination>"
        DMR("Disabled") "</Rule>"
        "<Rule><ID>tag</ID>" PRIO(3) "<Filter>" TAG("k", "v") "</Filter>" ON
        DMR("Disabled") DEST("dst") "</Rule>"
        "<Rule>" PRIO(2) "<Filter><And><Prefix>a/</Prefix>" TAG("k1", "")
        TAG("k2", "x&amp;y") "</And></Filter>" ON DMR("Disabled")
        "<Destination><Bucket>arn:aws:s3:::dst</Bucket><StorageClass>"
        "STANDARD</StorageClass></Destination></Rule>"
        "<Rule><ID>pfx-empty</ID>" PRIO(0) "<Filter><Prefix></Prefix></Filter>"
        ON "<DeleteMarkerReplication/>" DEST("dst") "</Rule>"));
    CHECK_EQ_INT(c->version, 2);
    CHECK_STR(c->role, "arn:aws:iam::123456789012:role/rep");
    CHECK_EQ_INT(c->nrules, 5);

    CHECK_STR(c->rules[0].id, "all");
    CHECK_EQ_INT(c->rules[0].priority, 1);
    CHECK_EQ_INT(c->rules[0].filter, S3_REPL_FILTER_EMPTY);
    CHECK(c->rules[0].enabled && c->rules[0].delete_markers);
    CHECK(c->rules[0].has_dmr && !c->rules[0].has_existing);
    CHECK_STR(c->rules[0].dest_bucket, "dst");
    CHECK_EQ_INT(c->rules[0].storage_class.len, 0);

    CHECK_EQ_INT(c->rules[1].priority, 7);
    CHECK_EQ_INT(c->rules[1].filter, S3_REPL_FILTER_PREFIX);
    CHECK_STR(c->rules[1].prefix, "logs/");
    CHECK(!c->rules[1].enabled && !c->rules[1].delete_markers);
    CHECK(c->rules[1].has_existing && c->rules[1].existing);
    CHECK_STR(c->rules[1].dest_bucket, "other");
    CHECK_STR(c->rules[1].storage_class, "GLACIER_IR");

    CHECK_EQ_INT(c->rules[2].filter, S3_REPL_FILTER_TAG);
    CHECK_EQ_INT(c->rules[2].ntags, 1);
    CHECK_STR(c->rules[2].tags[0].name, "k");
    CHECK_STR(c->rules[2].tags[0].value, "v");

    /* No ID: S3 makes one, base64 of a UUID's text. */
    CHECK_EQ_INT(c->rules[3].id.len, 48);
    CHECK_EQ_INT(c->rules[3].filter, S3_REPL_FILTER_AND);
    CHECK(c->rules[3].and_prefix);
    CHECK_STR(c->rules[3].prefix, "a/");
    CHECK_EQ_INT(c->rules[3].ntags, 2);
    CHECK_STR(c->rules[3].tags[1].value, "x&y");
    CHECK_STR(c->rules[3].storage_class, "STANDARD");

    CHECK_EQ_INT(c->rules[4].filter, S3_REPL_FILTER_PREFIX);
    CHECK_EQ_INT(c->rules[4].prefix.len, 0);
    CHECK(!c->rules[4].delete_markers);     /* no Status: Disabled */
    gw_pool_destroy(test_pool);
}

TEST(repl_parse_v1)
{
    s3_repl_conf_t  *c;

    c = test_repl_ok(DOC(
        "<Rule><ID>one</ID>" ON "<Prefix>a/</Prefix>" DEST("dst") "</Rule>"
        "<Rule>" OFF "<Prefix>b/</Prefix><Destination><Bucket>arn:aws:s3:::dst"
        "</Bucket><StorageClass>REDUCED_REDUNDANCY</StorageClass>"
        "</Destination></Rule>"));
    CHECK_EQ_INT(c->version, 1);
    CHECK_EQ_INT(c->nrules, 2);
    CHECK_EQ_INT(c->rules[0].filter, S3_REPL_FILTER_V1);
    CHECK_EQ_INT(c->rules[0].priority, -1);
    CHECK_STR(c->rules[0].prefix, "a/");
    /* S3 replicates delete markers under V1 rules. */
    CHECK(c->rules[0].delete_markers && !c->rules[0].has_dmr);
    CHECK(!c->rules[1].enabled);
    CHECK_EQ_INT(c->rules[1].id.len, 48);
    CHECK_STR(c->rules[1].storage_class, "REDUCED_REDUNDANCY");

    /* One rule with an empty prefix: every key. */
    c = test_repl_ok(DOC(V1("")));
    CHECK_EQ_INT(c->rules[0].prefix.len, 0);
    gw_pool_destroy(test_pool);
}

TEST(repl_generated_ids)
{
    s3_repl_conf_t  *c;
    size_t           i, j;

    c = test_repl_ok(DOC(V2(1, "<Filter/>") V2(2, "<Filter/>")
                         "<Rule><ID></ID>" ON PRIO(3) DMR("Disabled")
                         "<Filter/>" DEST("dst") "</Rule>"));
    for (i = 0; i < 3; i++) {
        CHECK_EQ_INT(c->rules[i].id.len, 48);
        for (j = 0; j < c->rules[i].id.len; j++) {
            char  ch = c->rules[i].id.base[j];

            CHECK((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
                  || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'
                  || ch == '=');
        }
        for (j = 0; j < i; j++) {
            CHECK(!(c->rules[j].id.len == c->rules[i].id.len
                    && memcmp(c->rules[j].id.base, c->rules[i].id.base,
                              c->rules[i].id.len) == 0));
        }
    }
    gw_pool_destroy(test_pool);
}

TEST(repl_parse_malformed)
{
    static const char  *docs[] = {
        "",
        "not xml",
        "<ReplicationConfiguration><Role>r</Role>",
        "<Other" NS "><Role>r</Role>" V2(1, "<Filter/>") "</Other>",
        /* no Role, no rule, two Roles, an unknown element */
        "<ReplicationConfiguration>" V2(1, "<Filter/>")
        "</ReplicationConfiguration>",
        DOC(""),
        "<ReplicationConfiguration><Role>r</Role><Role>r</Role>"
        V2(1, "<Filter/>") "</ReplicationConfiguration>",
        DOC(V2(1, "<Filter/>") "<Bogus/>"),
        DOC(V2(1, "<Filter/><Bogus/>")),
        /* Status missing, wrong, twice */
        DOC("<Rule>" PRIO(1) DMR("Disabled") "<Filter/>" DEST("dst")
            "</Rule>"),
        DOC("<Rule><Status>enabled</Status>" PRIO(1) DMR("Disabled")
            "<Filter/>" DEST("dst") "</Rule>"),
        DOC("<Rule>" ON ON PRIO(1) DMR("Disabled") "<Filter/>" DEST("dst")
            "</Rule>"),
        /* no Destination, no Bucket, a storage class S3 does not have */
        DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/></Rule>"),
        DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/><Destination>"
            "</Destination></Rule>"),
        DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/><Destination>"
            "<Bucket>arn:aws:s3:::dst</Bucket><StorageClass>COLD"
            "</StorageClass></Destination></Rule>"),
        /* neither Filter nor Prefix; both */
        DOC("<Rule>" ON PRIO(1) DMR("Disabled") DEST("dst") "</Rule>"),
        DOC("<Rule>" ON "<Prefix>a</Prefix><Filter/>" DEST("dst") "</Rule>"),
        /* Filter with two conditions outside And; And with one */
        DOC(V2(1, "<Filter><Prefix>a</Prefix>" TAG("k", "v") "</Filter>")),
        DOC(V2(1, "<Filter><And>" TAG("k", "v") "</And></Filter>")),
        DOC(V2(1, "<Filter><And><Prefix>a</Prefix></And></Filter>")),
        DOC(V2(1, "<Filter><Tag><Key>k</Key></Tag></Filter>")),
        DOC(V2(1, "<Filter><Tag><Value>v</Value></Tag></Filter>")),
        DOC(V2(1, "<Filter><Tag><Key>k</Key><Key>j</Key><Value>v</Value>"
                  "</Tag></Filter>")),
        /* DeleteMarkerReplication and ExistingObjectReplication statuses */
        DOC("<Rule>" ON PRIO(1) DMR("On") "<Filter/>" DEST("dst") "</Rule>"),
        DOC(V2(1, "<Filter/><ExistingObjectReplication/>")),
        DOC(V2(1, "<Filter/><ExistingObjectReplication><Status>yes</Status>"
                  "</ExistingObjectReplication>")),
        /* Priority that is not an integer */
        DOC("<Rule>" ON "<Priority>one</Priority>" DMR("Disabled")
            "<Filter/>" DEST("dst") "</Rule>"),
        DOC("<Rule>" ON "<Priority>1.5</Priority>" DMR("Disabled")
            "<Filter/>" DEST("dst") "</Rule>"),
        DOC("<Rule>" ON "<Priority>2147483648</Priority>" DMR("Disabled")
            "<Filter/>" DEST("dst") "</Rule>"),
        DOC("<Rule>" ON "<Priority></Priority>" DMR("Disabled")
            "<Filter/>" DEST("dst") "</Rule>"),
        /* a DTD */
        "<!DOCTYPE x [<!ENTITY e \"e\">]>" DOC(V2(1, "<Filter/>")),
        /* deeper than any valid document */
        DOC(V2(1, "<Filter><And><Tag><Key><a><b><c>k</c></b></a></Key>"
                  "<Value>v</Value></Tag>" TAG("x", "y") "</And></Filter>")),
    };
    size_t  i;

    for (i = 0; i < GW_NELEMS(docs); i++) {
        CHECK_REPL_ERR(docs[i], S3_ERR_MALFORMED_XML, NULL);
    }
    /* Shape comes before meaning: a later malformed rule wins over an
     * earlier rule S3 would refuse for what it says. */
    CHECK_REPL_ERR(DOC("<Rule>" ON DMR("Disabled") "<Filter/>" DEST("dst")
                       "</Rule>" "<Rule>" ON PRIO(1) "</Rule>"),
                   S3_ERR_MALFORMED_XML, NULL);
}

TEST(repl_parse_invalid)
{
    char  big[1400], doc[4096];

    /* V2 needs Priority and DeleteMarkerReplication. */
    CHECK_REPL_ERR(DOC("<Rule>" ON DMR("Disabled") "<Filter/>" DEST("dst")
                       "</Rule>"),
                   S3_ERR_INVALID_REQUEST, SCHEMA("Priority",
                                                  "must be specified"));
    CHECK_REPL_ERR(DOC("<Rule>" ON PRIO(1) "<Filter/>" DEST("dst") "</Rule>"),
                   S3_ERR_INVALID_REQUEST,
                   SCHEMA("DeleteMarkerReplication", "must be specified"));
    /* V1 (a rule without Filter) has neither, nor the V2-only elements. */
    CHECK_REPL_ERR(DOC("<Rule>" ON PRIO(1) "<Prefix>a</Prefix>" DEST("dst")
                       "</Rule>"),
                   S3_ERR_INVALID_REQUEST, SCHEMA("Priority",
                                                  "cannot be used"));
    CHECK_REPL_ERR(DOC("<Rule>" ON DMR("Disabled") "<Prefix>a</Prefix>"
                       DEST("dst") "</Rule>"),
                   S3_ERR_INVALID_REQUEST,
                   SCHEMA("DeleteMarkerReplication", "cannot be used"));
    CHECK_REPL_ERR(DOC("<Rule>" ON "<Prefix>a</Prefix>"
                       "<ExistingObjectReplication>" ON
                       "</ExistingObjectReplication>" DEST("dst") "</Rule>"),
                   S3_ERR_INVALID_REQUEST,
                   SCHEMA("ExistingObjectReplication", "cannot be used"));
    CHECK_REPL_ERR(DOC(V1("a") V2(1, "<Filter/>")), S3_ERR_INVALID_REQUEST,
                   SCHEMA("Filter", "cannot be used"));

    CHECK_REPL_ERR(DOC(V2(1, "<Filter/>") V2(1, "<Filter/>")),
                   S3_ERR_INVALID_REQUEST, "Found duplicate priority 1.");
    CHECK_REPL_ERR(DOC(V2(-1, "<Filter/>")), S3_ERR_INVALID_REQUEST,
                   "Priority must be between 0 and 2147483647.");
    CHECK_REPL_ERR(DOC("<Rule><ID>x</ID>" ON PRIO(1) DMR("Disabled")
                       "<Filter/>" DEST("dst") "</Rule>"
                       "<Rule><ID>x</ID>" ON PRIO(2) DMR("Disabled")
                       "<Filter/>" DEST("dst") "</Rule>"),
                   S3_ERR_INVALID_ARGUMENT, "Rule Id must be unique");
    memset(big, 'i', 256);
    big[256] = '\0';
    snprintf(doc, sizeof(doc), DOC("<Rule><ID>%s</ID>" ON PRIO(1)
                                   DMR("Disabled") "<Filter/>" DEST("dst")
                                   "</Rule>"), big);
    CHECK_REPL_ERR(doc, S3_ERR_INVALID_ARGUMENT,
                   "Rule Id cannot be greater than 255");
    big[255] = '\0';
    snprintf(doc, sizeof(doc), DOC("<Rule><ID>%s</ID>" ON PRIO(1)
                                   DMR("Disabled") "<Filter/>" DEST("dst")
                                   "</Rule>"), big);
    test_repl_ok(doc);
    memset(big, 'p', 1025);
    big[1025] = '\0';
    snprintf(doc, sizeof(doc), DOC(V2(1, "<Filter><Prefix>%s</Prefix>"
                                         "</Filter>")), big);
    CHECK_REPL_ERR(doc, S3_ERR_INVALID_ARGUMENT, "Rule prefix cannot be "
                   "longer than maximum allowed key length of 1024");
    snprintf(doc, sizeof(doc), DOC(V1("%s")), big);
    CHECK_REPL_ERR(doc, S3_ERR_INVALID_ARGUMENT, "Rule prefix cannot be "
                   "longer than maximum allowed key length of 1024");

    /* Delete markers and tags do not go together. */
    CHECK_REPL_ERR(DOC("<Rule>" ON PRIO(1) DMR("Enabled") "<Filter>"
                       TAG("k", "v") "</Filter>" DEST("dst") "</Rule>"),
                   S3_ERR_INVALID_REQUEST, "Delete marker replication is "
                   "not supported if any Tag filter is specified. Please "
                   "refer to S3 Developer Guide for more information.");
    CHECK_REPL_ERR(DOC("<Rule>" ON PRIO(1) DMR("Enabled") "<Filter><And>"
                       "<Prefix>p</Prefix>" TAG("k", "v") "</And></Filter>"
                       DEST("dst") "</Rule>"),
                   S3_ERR_INVALID_REQUEST, "Delete marker replication is "
                   "not supported if any Tag filter is specified. Please "
                   "refer to S3 Developer Guide for more information.");
    CHECK_REPL_ERR(DOC(V2(1, "<Filter><And>" TAG("k", "1") TAG("k", "2")
                             "</And></Filter>")),
                   S3_ERR_INVALID_REQUEST,
                   "Duplicate Tag Keys are not allowed.");
    CHECK_REPL_ERR(DOC(V2(1, "<Filter>" TAG("", "v") "</Filter>")),
                   S3_ERR_INVALID_TAG,
                   "The TagKey you have provided is invalid");
    memset(big, 'k', 129);
    big[129] = '\0';
    snprintf(doc, sizeof(doc), DOC(V2(1, "<Filter>" TAG("%s", "v")
                                         "</Filter>")), big);
    CHECK_REPL_ERR(doc, S3_ERR_INVALID_TAG,
                   "The TagKey you have provided is too long, max 128");
    memset(big, 'v', 257);
    big[257] = '\0';
    snprintf(doc, sizeof(doc), DOC(V2(1, "<Filter>" TAG("k", "%s")
                                         "</Filter>")), big);
    CHECK_REPL_ERR(doc, S3_ERR_INVALID_TAG,
                   "The TagValue you have provided is too long, max 256");

    /* The destination: an S3 bucket ARN, a valid name, not the source. */
    CHECK_REPL_ERR(DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/>"
                       "<Destination><Bucket>dst</Bucket></Destination>"
                       "</Rule>"),
                   S3_ERR_INVALID_ARGUMENT, "Invalid bucket ARN");
    CHECK_REPL_ERR(DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/>"
                       "<Destination><Bucket>arn:aws:s3:::</Bucket>"
                       "</Destination></Rule>"),
                   S3_ERR_INVALID_ARGUMENT, "Invalid bucket ARN");
    CHECK_REPL_ERR(DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/>"
                       "<Destination><Bucket>arn:aws:iam:::dst</Bucket>"
                       "</Destination></Rule>"),
                   S3_ERR_INVALID_ARGUMENT, "Invalid bucket ARN");
    CHECK_REPL_ERR(DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/>"
                       DEST("Not_A_Bucket") "</Rule>"),
                   S3_ERR_INVALID_ARGUMENT,
                   "The specified bucket is not valid.");
    CHECK_REPL_ERR(DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/>"
                       DEST("src") "</Rule>"),
                   S3_ERR_INVALID_REQUEST,
                   "Destination bucket cannot be the same as the source "
                   "bucket.");

    /* V1: one destination, and prefixes that do not overlap. */
    CHECK_REPL_ERR(DOC(V1("a") "<Rule>" ON "<Prefix>b</Prefix>" DEST("dst2")
                       "</Rule>"),
                   S3_ERR_INVALID_REQUEST,
                   "The destination bucket must be same for all rules");
    CHECK_REPL_ERR(DOC(V1("logs/") V1("logs/2024")), S3_ERR_INVALID_REQUEST,
                   "Found overlapping prefixes 'logs/' and 'logs/2024'");
    CHECK_REPL_ERR(DOC(V1("a") V1("")), S3_ERR_INVALID_REQUEST,
                   "Found overlapping prefixes 'a' and ''");
    /* V2 allows several destinations and overlapping filters. */
    test_repl_ok(DOC(V2(1, "<Filter><Prefix>a</Prefix></Filter>")
                     "<Rule>" ON PRIO(2) DMR("Disabled")
                     "<Filter><Prefix>ab</Prefix></Filter>" DEST("dst2")
                     "</Rule>"));
    gw_pool_destroy(test_pool);
}

TEST(repl_parse_limits)
{
    gw_pool_t       *pool = gw_pool_create(4096);
    s3_repl_conf_t  *c;
    const char      *msg;
    char            *doc;
    size_t           i, n, len, cap = 1001 * 400 + 512;
    int              rc;

    /* 1000 rules are fine, 1001 are not. */
    for (n = 1000; n <= 1001; n++) {
        doc = gw_alloc(cap);
        len = (size_t) sprintf(doc, "<ReplicationConfiguration><Role>r"
                                    "</Role>");
        for (i = 0; i < n; i++) {
            len += (size_t) sprintf(doc + len, "<Rule>" ON "<Priority>%zu"
                                    "</Priority>" DMR("Disabled") "<Filter/>"
                                    DEST("dst") "</Rule>", i);
        }
        len += (size_t) sprintf(doc + len, "</ReplicationConfiguration>");
        rc = s3_replication_parse(pool, doc, len, "src", &c, &msg);
        if (n == 1000) {
            CHECK_EQ_INT(rc, S3_ERR_NONE);
            CHECK_EQ_INT(c->nrules, 1000);
        } else {
            CHECK_EQ_INT(rc, S3_ERR_INVALID_REQUEST);
            CHECK_EQ_STR(msg, "Number of defined replication rules cannot "
                         "exceed 1000");
        }
        gw_free(doc);
    }
    gw_pool_destroy(pool);
}

TEST(repl_parse_unsupported)
{
    static const struct {
        const char  *doc;
        const char  *elem;
    } cases[] = {
        { DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/><Destination>"
              "<Bucket>arn:aws:s3:::dst</Bucket><Account>123456789012"
              "</Account></Destination></Rule>"), "Account" },
        { DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/><Destination>"
              "<Bucket>arn:aws:s3:::dst</Bucket><AccessControlTranslation>"
              "<Owner>Destination</Owner></AccessControlTranslation>"
              "</Destination></Rule>"), "AccessControlTranslation" },
        { DOC(V2(1, "<Filter/><SourceSelectionCriteria>"
                    "<SseKmsEncryptedObjects>" ON "</SseKmsEncryptedObjects>"
                    "</SourceSelectionCriteria>")),
          "SourceSelectionCriteria" },
        { DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/><Destination>"
              "<Bucket>arn:aws:s3:::dst</Bucket><EncryptionConfiguration>"
              "<ReplicaKmsKeyID>k</ReplicaKmsKeyID></EncryptionConfiguration>"
              "</Destination></Rule>"), "EncryptionConfiguration" },
        { DOC("<Rule>" ON PRIO(1) DMR("Disabled") "<Filter/><Destination>"
              "<Bucket>arn:aws:s3:::dst</Bucket><Metrics>" ON "</Metrics>"
              "<ReplicationTime>" ON "</ReplicationTime></Destination>"
              "</Rule>"), "Metrics" },
    };
    char    want[256];
    size_t  i;

    for (i = 0; i < GW_NELEMS(cases); i++) {
        snprintf(want, sizeof(want), "The replication configuration element "
                 "%s is not implemented by this server", cases[i].elem);
        CHECK_REPL_ERR(cases[i].doc, S3_ERR_NOT_IMPLEMENTED, want);
    }
    /* After the shape, before the meaning. */
    CHECK_REPL_ERR(DOC("<Rule>" ON "<Filter/><SourceSelectionCriteria/>"
                       DEST("dst") "</Rule>"),
                   S3_ERR_NOT_IMPLEMENTED, "The replication configuration "
                   "element SourceSelectionCriteria is not implemented by "
                   "this server");
    CHECK_REPL_ERR(DOC("<Rule><SourceSelectionCriteria/><Filter/></Rule>"),
                   S3_ERR_MALFORMED_XML, NULL);
}

/* ==== the stored form and the document given back ==== */

static const char  test_repl_full[] = DOC(
    "<Rule><ID>all</ID>" PRIO(1) "<Filter/>" ON DMR("Enabled") DEST("dst")
    "</Rule>"
    "<Rule><ID>logs &lt;&amp;&gt;</ID>" PRIO(7)
    "<Filter><Prefix>logs/\xc3\xa9</Prefix></Filter>" OFF
    "<ExistingObjectReplication>" ON "</ExistingObjectReplication>"
    "<Destination><Bucket>arn:aws:s3:::other</Bucket><StorageClass>"
    "GLACIER_IR</StorageClass></Destination>" DMR("Disabled") "</Rule>"
    "<Rule><ID>tag</ID>" PRIO(3) "<Filter>" TAG("k", "v") "</Filter>" ON
    DMR("Disabled") DEST("dst") "</Rule>"
    "<Rule><ID>and</ID>" PRIO(2) "<Filter><And><Prefix>a/</Prefix>"
    TAG("k1", "") TAG("k2", "x&amp;y") "</And></Filter>" ON DMR("Disabled")
    DEST("dst") "</Rule>"
    "<Rule><ID>and2</ID>" PRIO(4) "<Filter><And>" TAG("a", "1") TAG("b", "2")
    "</And></Filter>" ON DMR("Disabled") DEST("dst") "</Rule>");

static void
test_repl_same(const s3_repl_conf_t *a, const s3_repl_conf_t *b)
{
    size_t  i, k;

    CHECK_EQ_INT(a->version, b->version);
    CHECK(a->role.len == b->role.len
          && memcmp(a->role.base, b->role.base, a->role.len) == 0);
    CHECK_EQ_INT(a->nrules, b->nrules);
    for (i = 0; i < a->nrules; i++) {
        const s3_repl_rule_t  *x = &a->rules[i], *y = &b->rules[i];

        CHECK(x->id.len == y->id.len
              && memcmp(x->id.base, y->id.base, x->id.len) == 0);
        CHECK_EQ_INT(x->priority, y->priority);
        CHECK_EQ_INT(x->enabled, y->enabled);
        CHECK_EQ_INT(x->delete_markers, y->delete_markers);
        CHECK_EQ_INT(x->has_dmr, y->has_dmr);
        CHECK_EQ_INT(x->has_existing, y->has_existing);
        CHECK_EQ_INT(x->existing, y->existing);
        CHECK_EQ_INT(x->and_prefix, y->and_prefix);
        CHECK_EQ_INT(x->filter, y->filter);
        CHECK(x->prefix.len == y->prefix.len
              && memcmp(x->prefix.base, y->prefix.base, x->prefix.len) == 0);
        CHECK_EQ_INT(x->ntags, y->ntags);
        for (k = 0; k < x->ntags; k++) {
            CHECK(x->tags[k].name.len == y->tags[k].name.len
                  && memcmp(x->tags[k].name.base, y->tags[k].name.base,
                            x->tags[k].name.len) == 0);
            CHECK(x->tags[k].value.len == y->tags[k].value.len
                  && memcmp(x->tags[k].value.base, y->tags[k].value.base,
                            x->tags[k].value.len) == 0);
        }
        CHECK(x->dest_bucket.len == y->dest_bucket.len
              && memcmp(x->dest_bucket.base, y->dest_bucket.base,
                        x->dest_bucket.len) == 0);
        CHECK(x->storage_class.len == y->storage_class.len
              && memcmp(x->storage_class.base, y->storage_class.base,
                        x->storage_class.len) == 0);
    }
}

TEST(repl_encode_decode)
{
    static const char  *docs[] = { test_repl_full, DOC(V1("a/") V1("b/")) };
    s3_repl_conf_t     *c, *d;
    gw_str_t            enc, enc2;
    char               *copy;
    size_t              i, j;

    for (i = 0; i < GW_NELEMS(docs); i++) {
        c = test_repl_ok(docs[i]);
        enc = s3_replication_encode(test_pool, c);
        CHECK_EQ_INT((unsigned char) enc.base[0], 1);
        CHECK_EQ_INT(enc.base[enc.len - 1], 0);
        CHECK_EQ_INT(s3_replication_decode(test_pool, enc.base, enc.len, &d),
                     GW_OK);
        test_repl_same(c, d);
        /* Encoding what was decoded gives the same bytes. */
        enc2 = s3_replication_encode(test_pool, d);
        CHECK(enc2.len == enc.len && memcmp(enc2.base, enc.base, enc.len) == 0);

        /* Every truncation is refused, and no byte change crashes it. */
        for (j = 0; j < enc.len; j++) {
            CHECK_EQ_INT(s3_replication_decode(test_pool, enc.base, j, &d),
                         GW_ECORRUPT);
            CHECK(d == NULL);
        }
        copy = gw_alloc(enc.len);
        for (j = 0; j < enc.len; j++) {
            memcpy(copy, enc.base, enc.len);
            copy[j] ^= 0x5a;
            if (s3_replication_decode(test_pool, copy, enc.len, &d) == GW_OK) {
                CHECK(d != NULL && d->nrules > 0);
            }
        }
        gw_free(copy);
    }

    CHECK_EQ_INT(s3_replication_decode(test_pool, "\x02\x00", 2, &d),
                 GW_ECORRUPT);
    /* A field this build does not know is skipped. */
    {
        static const char  v[] =
            "\x01"
            "\x01\x01\x00\x00\x00\x02"                    /* version 2 */
            "\x02\x01\x00\x00\x00" "r"                    /* role */
            "\x09\x03\x00\x00\x00" "new"                  /* unknown */
            "\x03\x1a\x00\x00\x00"                        /* a rule */
              "\x01\x01\x00\x00\x00" "i"
              "\x02\x01\x00\x00\x00\x01"
              "\x04\x01\x00\x00\x00\x01"
              "\x07\x03\x00\x00\x00" "dst"
            "\x00";

        CHECK_EQ_INT(s3_replication_decode(test_pool, v, sizeof(v) - 1, &d),
                     GW_OK);
        CHECK_EQ_INT(d->nrules, 1);
        CHECK_STR(d->rules[0].dest_bucket, "dst");
        CHECK(d->rules[0].enabled);
        CHECK_EQ_INT(d->rules[0].filter, S3_REPL_FILTER_EMPTY);
    }
    gw_pool_destroy(test_pool);
}

TEST(repl_xml)
{
    s3_repl_conf_t  *c, *again;
    s3_xml_t         x;
    const char      *msg;

    c = test_repl_ok(DOC("<Rule><ID>v1</ID>" ON "<Prefix>a/&lt;b&gt;"
                         "</Prefix>" DEST("dst") "</Rule>"));
    s3_replication_xml(c, &x, test_pool);
    CHECK_EQ_STR(x.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<ReplicationConfiguration" NS "><Role>arn:aws:iam::"
                 "123456789012:role/rep</Role><Rule><ID>v1</ID><Prefix>"
                 "a/&lt;b&gt;</Prefix><Status>Enabled</Status>"
                 "<Destination><Bucket>arn:aws:s3:::dst</Bucket></Destination>"
                 "</Rule></ReplicationConfiguration>");

    c = test_repl_ok(DOC("<Rule><ID>r1</ID>" PRIO(5)
                         "<Filter><And><Prefix>p</Prefix>" TAG("k", "v")
                         "</And></Filter>" ON "<ExistingObjectReplication>"
                         OFF "</ExistingObjectReplication><Destination>"
                         "<Bucket>arn:aws:s3:::dst</Bucket><StorageClass>"
                         "STANDARD_IA</StorageClass></Destination>"
                         DMR("Disabled") "</Rule>"
                         "<Rule><ID>r2</ID>" PRIO(6) "<Filter></Filter>" ON
                         DMR("Enabled") DEST("dst") "</Rule>"));
    s3_replication_xml(c, &x, test_pool);
    CHECK_EQ_STR(x.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<ReplicationConfiguration" NS "><Role>arn:aws:iam::"
                 "123456789012:role/rep</Role>"
                 "<Rule><ID>r1</ID><Priority>5</Priority><Filter><And>"
                 "<Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>"
                 "</And></Filter><Status>Enabled</Status>"
                 "<ExistingObjectReplication><Status>Disabled</Status>"
                 "</ExistingObjectReplication><Destination><Bucket>"
                 "arn:aws:s3:::dst</Bucket><StorageClass>STANDARD_IA"
                 "</StorageClass></Destination><DeleteMarkerReplication>"
                 "<Status>Disabled</Status></DeleteMarkerReplication></Rule>"
                 "<Rule><ID>r2</ID><Priority>6</Priority><Filter></Filter>"
                 "<Status>Enabled</Status><Destination><Bucket>"
                 "arn:aws:s3:::dst</Bucket></Destination>"
                 "<DeleteMarkerReplication><Status>Enabled</Status>"
                 "</DeleteMarkerReplication></Rule>"
                 "</ReplicationConfiguration>");

    /* What is given back reads as the same configuration. */
    c = test_repl_ok(test_repl_full);
    s3_replication_xml(c, &x, test_pool);
    CHECK_EQ_INT(s3_replication_parse(test_pool, x.buf, x.len, "src", &again,
                                      &msg), S3_ERR_NONE);
    test_repl_same(c, again);
    gw_pool_destroy(test_pool);
}

/* ==== matching ==== */

static gw_str_t
test_key(const char *k)
{
    gw_str_t  s;

    s.base = k;
    s.len = strlen(k);
    return s;
}

static const char *
test_match_id(const s3_repl_conf_t *c, const char *key, const gw_kv_t *tags,
              size_t ntags)
{
    const s3_repl_rule_t  *r = s3_replication_match(c, test_key(key), tags,
                                                    ntags);

    return r == NULL ? "(none)" : gw_pool_strndup(test_pool, r->id.base,
                                                  r->id.len);
}

#define KV(k, v)  { { k, sizeof(k) - 1 }, { v, sizeof(v) - 1 } }

TEST(repl_match)
{
    static const gw_kv_t  blue[] = { KV("team", "blue") };
    static const gw_kv_t  blue_prod[] = { KV("env", "prod"),
                                          KV("team", "blue") };
    static const gw_kv_t  red[] = { KV("team", "red"), KV("env", "prod") };
    s3_repl_conf_t       *c;
    const s3_repl_rule_t *all[8], *r;
    size_t                n;

    c = test_repl_ok(DOC(
        "<Rule><ID>everything</ID>" PRIO(1) "<Filter/>" ON DMR("Enabled")
        DEST("dst") "</Rule>"
        "<Rule><ID>logs</ID>" PRIO(5) "<Filter><Prefix>logs/</Prefix>"
        "</Filter>" ON DMR("Disabled") DEST("dst") "</Rule>"
        "<Rule><ID>logs-off</ID>" PRIO(9) "<Filter><Prefix>logs/old/"
        "</Prefix></Filter>" OFF DMR("Disabled") DEST("dst") "</Rule>"
        "<Rule><ID>blue</ID>" PRIO(7) "<Filter>" TAG("team", "blue")
        "</Filter>" ON DMR("Disabled") DEST("dst2") "</Rule>"
        "<Rule><ID>blue-prod-logs</ID>" PRIO(8) "<Filter><And><Prefix>logs/"
        "</Prefix>" TAG("team", "blue") TAG("env", "prod") "</And></Filter>"
        ON DMR("Disabled") DEST("dst") "</Rule>"));

    CHECK_EQ_STR(test_match_id(c, "a", NULL, 0), "everything");
    CHECK_EQ_STR(test_match_id(c, "logs/x", NULL, 0), "logs");
    /* a disabled rule never decides, whatever its priority */
    CHECK_EQ_STR(test_match_id(c, "logs/old/x", NULL, 0), "logs");
    CHECK_EQ_STR(test_match_id(c, "log", NULL, 0), "everything");
    /* a tag filter: the tag with its value */
    CHECK_EQ_STR(test_match_id(c, "a", blue, 1), "blue");
    CHECK_EQ_STR(test_match_id(c, "a", red, 2), "everything");
    CHECK_EQ_STR(test_match_id(c, "logs/x", blue, 1), "blue");
    /* And: the prefix and every tag */
    CHECK_EQ_STR(test_match_id(c, "logs/x", blue_prod, 2), "blue-prod-logs");
    CHECK_EQ_STR(test_match_id(c, "other", blue_prod, 2), "blue");
    CHECK_EQ_STR(test_match_id(c, "logs/x", red, 2), "logs");

    /* One rule per destination, highest priority first. */
    n = s3_replication_match_all(c, test_key("logs/x"), blue_prod, 2, all, 8);
    CHECK_EQ_INT(n, 2);
    CHECK(test_str_is(all[0]->id, "blue-prod-logs"));
    CHECK(test_str_is(all[1]->id, "blue"));
    n = s3_replication_match_all(c, test_key("x"), NULL, 0, all, 8);
    CHECK_EQ_INT(n, 1);
    CHECK(test_str_is(all[0]->id, "everything"));
    CHECK_EQ_INT(s3_replication_match_all(c, test_key("logs/x"), blue_prod,
                                          2, all, 1), 1);

    /* Delete markers follow the deciding rule. */
    CHECK_EQ_INT(s3_replication_match_delete(c, test_key("a"), NULL, 0, &r),
                 1);
    CHECK(test_str_is(r->id, "everything"));
    CHECK_EQ_INT(s3_replication_match_delete(c, test_key("logs/a"), NULL, 0,
                                             &r), 0);
    CHECK(test_str_is(r->id, "logs"));

    /* Nothing enabled: nothing matches. */
    c = test_repl_ok(DOC("<Rule>" OFF PRIO(1) DMR("Enabled") "<Filter/>"
                         DEST("dst") "</Rule>"));
    CHECK(s3_replication_match(c, test_key("a"), NULL, 0) == NULL);
    CHECK_EQ_INT(s3_replication_match_delete(c, test_key("a"), NULL, 0, &r),
                 0);
    CHECK(r == NULL);

    /* V1: the one rule whose prefix matches; it replicates delete markers. */
    c = test_repl_ok(DOC("<Rule><ID>a</ID>" ON "<Prefix>a/</Prefix>"
                         DEST("dst") "</Rule><Rule><ID>b</ID>" ON
                         "<Prefix>b/</Prefix>" DEST("dst") "</Rule>"));
    CHECK_EQ_STR(test_match_id(c, "b/1", NULL, 0), "b");
    CHECK_EQ_STR(test_match_id(c, "c/1", NULL, 0), "(none)");
    CHECK_EQ_INT(s3_replication_match_delete(c, test_key("a/1"), NULL, 0,
                                             NULL), 1);
    gw_pool_destroy(test_pool);
}
