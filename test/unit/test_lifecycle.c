/* test/unit/test_lifecycle.c: s3/lifecycle, the bucket lifecycle model:
 * reading and validating documents (each error S3 gives), the document
 * given back (also the stored form), due dates (midnight UTC and a
 * shortened day), filter matching with tags and sizes, the earliest rule
 * for x-amz-expiration, and the worker's per-version decision (current
 * versions, noncurrent ones with NoncurrentDays and NewerNoncurrentVersions,
 * delete markers). */
#include "s3/lifecycle.h"
#include "test/unit/unit.h"

#define DOC(rules)  "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/" \
                    "doc/2006-03-01/\">" rules "</LifecycleConfiguration>"
#define ON          "<Status>Enabled</Status>"
#define OFF         "<Status>Disabled</Status>"
#define TAG(k, v)   "<Tag><Key>" k "</Key><Value>" v "</Value></Tag>"
#define EXP(d)      "<Expiration><Days>" #d "</Days></Expiration>"
#define PFX(p)      "<Filter><Prefix>" p "</Prefix></Filter>"
#define RULE(id, more)  "<Rule><ID>" id "</ID>" more "</Rule>"

/* 2026-01-01T00:00:00Z */
#define JAN1        1767225600000LL
#define HOUR        3600000LL
#define DAYMS       86400000LL

static gw_pool_t  *test_pool;

static gw_pool_t *
test_lc_pool(void)
{
    if (test_pool == NULL) {
        test_pool = gw_pool_create(4096);
    }
    return test_pool;
}

static s3_lc_conf_t *
test_lc_ok(const char *doc)
{
    s3_lc_conf_t  *c;
    const char    *msg;
    int            rc;

    rc = s3_lifecycle_parse(test_lc_pool(), doc, strlen(doc), &c, &msg);
    if (rc != S3_ERR_NONE) {
        fprintf(stderr, "# refused (%d): %s\n# %s\n", rc, msg ? msg : "",
                doc);
    }
    CHECK_EQ_INT(rc, S3_ERR_NONE);
    return c;
}

static void
test_lc_err(const char *doc, int err, const char *want)
{
    s3_lc_conf_t  *c;
    const char    *msg;
    int            rc;

    rc = s3_lifecycle_parse(test_lc_pool(), doc, strlen(doc), &c, &msg);
    if (rc != err) {
        fprintf(stderr, "# got %d (%s), expected %d\n# %s\n", rc,
                msg ? msg : "", err, doc);
    }
    CHECK_EQ_INT(rc, err);
    if (want != NULL) {
        CHECK_EQ_STR(msg, want);
    }
}

static int
test_lc_id_is(const s3_lc_rule_t *r, const char *id)
{
    return r->id.len == strlen(id) && memcmp(r->id.base, id, r->id.len) == 0;
}

TEST(lc_parse)
{
    s3_lc_conf_t  *c, *d;
    s3_xml_t       x;
    gw_str_t       enc;

    c = test_lc_ok(DOC(
        RULE("days", PFX("logs/") ON EXP(30))
        RULE("date", "<Filter>" TAG("k", "v") "</Filter>" OFF
             "<Expiration><Date>2030-01-01T00:00:00.000Z</Date>"
             "</Expiration>")
        RULE("and", "<Filter><And><Prefix>a/</Prefix>" TAG("t1", "x")
             TAG("t2", "") "<ObjectSizeGreaterThan>10</ObjectSizeGreaterThan>"
             "<ObjectSizeLessThan>1000</ObjectSizeLessThan></And></Filter>" ON
             "<NoncurrentVersionExpiration><NoncurrentDays>5</NoncurrentDays>"
             "<NewerNoncurrentVersions>3</NewerNoncurrentVersions>"
             "</NoncurrentVersionExpiration>")
        RULE("dm", "<Filter/>" ON "<Expiration><ExpiredObjectDeleteMarker>"
             "true</ExpiredObjectDeleteMarker></Expiration>"
             "<AbortIncompleteMultipartUpload><DaysAfterInitiation>7"
             "</DaysAfterInitiation></AbortIncompleteMultipartUpload>")
        RULE("legacy", "<Prefix>old/</Prefix>" ON EXP(1))));
    CHECK_EQ_INT(c->nrules, 5);
    CHECK(c->rules[0].enabled && c->rules[0].exp_days == 30);
    CHECK_EQ_INT(c->rules[0].filter, S3_LC_FILTER_PREFIX);
    CHECK(!c->rules[1].enabled && c->rules[1].exp_date_ms == 1893456000000LL);
    CHECK_EQ_INT(c->rules[1].filter, S3_LC_FILTER_TAG);
    CHECK_EQ_INT(c->rules[2].ntags, 2);
    CHECK(c->rules[2].size_gt == 10 && c->rules[2].size_lt == 1000);
    CHECK(c->rules[2].has_nc && c->rules[2].nc_days == 5
          && c->rules[2].nc_newer == 3 && !c->rules[2].has_exp);
    CHECK(c->rules[3].exp_dm == 1 && c->rules[3].abort_days == 7);
    CHECK_EQ_INT(c->rules[3].filter, S3_LC_FILTER_EMPTY);
    CHECK_EQ_INT(c->rules[4].filter, S3_LC_FILTER_LEGACY);

    /* The document given back is the stored form, and reads back the
     * same. */
    enc = s3_lifecycle_encode(test_lc_pool(), c);
    CHECK_EQ_INT(s3_lifecycle_decode(test_lc_pool(), enc.base, enc.len, &d),
                 GW_OK);
    s3_lifecycle_xml(d, &x, test_lc_pool());
    CHECK(x.len == enc.len && memcmp(x.buf, enc.base, enc.len) == 0);
    CHECK(strstr(enc.base, "<Date>2030-01-01T00:00:00.000Z</Date>") != NULL);
    CHECK(strstr(enc.base, "<Prefix>old/</Prefix><Status>") != NULL);
    CHECK_EQ_INT(s3_lifecycle_decode(test_lc_pool(), "junk", 4, &d),
                 GW_ECORRUPT);

    /* A rule without ID gets one, kept by the stored form. */
    c = test_lc_ok(DOC("<Rule><Filter/>" ON EXP(1) "</Rule>"));
    CHECK(c->rules[0].id.len >= 16);
    enc = s3_lifecycle_encode(test_lc_pool(), c);
    CHECK_EQ_INT(s3_lifecycle_decode(test_lc_pool(), enc.base, enc.len, &d),
                 GW_OK);
    CHECK(d->rules[0].id.len == c->rules[0].id.len
          && memcmp(d->rules[0].id.base, c->rules[0].id.base,
                    c->rules[0].id.len) == 0);

    /* Dates in other spellings of midnight UTC. */
    c = test_lc_ok(DOC(RULE("a", "<Filter/>" ON "<Expiration><Date>"
                            "2030-01-01T00:00:00Z</Date></Expiration>")
                       RULE("b", "<Filter/>" ON "<Expiration><Date>"
                            "2030-01-01T00:00:00</Date></Expiration>")
                       RULE("c", "<Filter/>" ON "<Expiration><Date>"
                            "2030-01-01T02:00:00+02:00</Date></Expiration>")));
    CHECK(c->rules[0].exp_date_ms == 1893456000000LL
          && c->rules[1].exp_date_ms == 1893456000000LL
          && c->rules[2].exp_date_ms == 1893456000000LL);
}

TEST(lc_parse_errors)
{
    char   *many, id[257];
    size_t  i, n;

    /* The shape: MalformedXML. */
    test_lc_err("", S3_ERR_MALFORMED_XML, NULL);
    test_lc_err("<LifecycleConfiguration>", S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(""), S3_ERR_MALFORMED_XML, NULL);
    test_lc_err("<Other/>", S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", ON EXP(1))), S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", "<Prefix/><Filter/>" ON EXP(1))),
                S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", "<Filter/>" EXP(1))), S3_ERR_MALFORMED_XML,
                NULL);
    test_lc_err(DOC(RULE("r", "<Filter/><Status>on</Status>" EXP(1))),
                S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", "<Filter/>" ON "<Expiration><Days>1</Days>"
                         "<Date>2030-01-01T00:00:00Z</Date></Expiration>")),
                S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", "<Filter/>" ON "<Expiration><Days>1</Days>"
                         "<ExpiredObjectDeleteMarker>true"
                         "</ExpiredObjectDeleteMarker></Expiration>")),
                S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", "<Filter/>" ON "<Expiration/>")),
                S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", "<Filter/>" ON "<Expiration><Days>x</Days>"
                         "</Expiration>")), S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", "<Filter><Prefix/>" TAG("a", "b") "</Filter>"
                         ON EXP(1))), S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", "<Filter><And>" TAG("a", "b") "</And></Filter>"
                         ON EXP(1))), S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", "<Filter/>" ON EXP(1) "<Bogus/>")),
                S3_ERR_MALFORMED_XML, NULL);
    test_lc_err(DOC(RULE("r", "<Filter/>" ON "<NoncurrentVersionExpiration>"
                         "</NoncurrentVersionExpiration>")),
                S3_ERR_MALFORMED_XML, NULL);

    /* What it says. */
    test_lc_err(DOC(RULE("r", "<Filter/>" ON EXP(0))),
                S3_ERR_INVALID_ARGUMENT,
                "'Days' for Expiration action must be a positive integer");
    test_lc_err(DOC(RULE("r", "<Filter/>" ON "<Expiration><Date>"
                         "2030-01-01T10:00:00Z</Date></Expiration>")),
                S3_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT");
    test_lc_err(DOC(RULE("r", "<Filter/>" ON "<Expiration><Date>"
                         "2030-01-01T00:00:00.5Z</Date></Expiration>")),
                S3_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT");
    test_lc_err(DOC(RULE("r", "<Filter/>" ON "<Expiration><Date>"
                         "tomorrow</Date></Expiration>")),
                S3_ERR_INVALID_ARGUMENT, "Date must be in ISO 8601 format");
    test_lc_err(DOC(RULE("a", "<Filter/>" ON EXP(1))
                    RULE("a", "<Filter/>" ON EXP(2))),
                S3_ERR_INVALID_ARGUMENT, "Rule ID must be unique. Found same "
                "ID for more than one rule");
    memset(id, 'x', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    test_lc_err(gw_pool_sprintf(test_lc_pool(), DOC(RULE("%s", "<Filter/>" ON
                                EXP(1))), id),
                S3_ERR_INVALID_ARGUMENT, "ID length should not exceed "
                "allowed limit of 255");
    id[255] = '\0';
    test_lc_ok(gw_pool_sprintf(test_lc_pool(), DOC(RULE("%s", "<Filter/>" ON
                               EXP(1))), id));
    test_lc_err(DOC(RULE("r", "<Filter/>" ON)), S3_ERR_INVALID_REQUEST,
                "At least one action needs to be specified in a rule");
    test_lc_err(DOC(RULE("r", "<Filter>" TAG("a", "b") "</Filter>" ON
                         "<AbortIncompleteMultipartUpload><DaysAfterInitiation>"
                         "1</DaysAfterInitiation>"
                         "</AbortIncompleteMultipartUpload>")),
                S3_ERR_INVALID_REQUEST, "AbortIncompleteMultipartUpload cannot "
                "be specified with Tags.");
    test_lc_err(DOC(RULE("r", "<Filter><And>" TAG("a", "b") TAG("a", "c")
                         "</And></Filter>" ON EXP(1))),
                S3_ERR_INVALID_REQUEST, "Duplicate Tag Keys are not allowed.");
    test_lc_err(DOC(RULE("r", "<Filter><And><ObjectSizeGreaterThan>9"
                         "</ObjectSizeGreaterThan><ObjectSizeLessThan>9"
                         "</ObjectSizeLessThan></And></Filter>" ON EXP(1))),
                S3_ERR_INVALID_ARGUMENT, NULL);
    test_lc_err(DOC(RULE("r", "<Filter/>" ON "<NoncurrentVersionExpiration>"
                         "<NoncurrentDays>1</NoncurrentDays>"
                         "<NewerNoncurrentVersions>101</NewerNoncurrentVersions>"
                         "</NoncurrentVersionExpiration>")),
                S3_ERR_INVALID_ARGUMENT, NULL);
    test_lc_err(DOC(RULE("r", "<Filter/>" ON EXP(1) "<Transition><Days>1"
                         "</Days><StorageClass>GLACIER</StorageClass>"
                         "</Transition>")), S3_ERR_INVALID_STORAGE_CLASS,
                NULL);

    /* 1000 rules, not 1001. */
    n = 1001;
    many = gw_pool_alloc(test_lc_pool(), n * 128 + 256);
    strcpy(many, "<LifecycleConfiguration>");
    for (i = 0; i < n; i++) {
        sprintf(many + strlen(many), "<Rule><ID>r%zu</ID><Filter/>"
                "<Status>Enabled</Status>" EXP(1) "</Rule>", i);
        if (i == 999) {
            char  *one = gw_pool_sprintf(test_lc_pool(), "%s"
                                         "</LifecycleConfiguration>", many);
            CHECK_EQ_INT(test_lc_ok(one)->nrules, 1000);
        }
    }
    strcat(many, "</LifecycleConfiguration>");
    test_lc_err(many, S3_ERR_MALFORMED_XML, NULL);
}

TEST(lc_dates)
{
    s3_lc_conf_t  *c;
    int64_t        t = JAN1 + 10 * HOUR, day = 10000;

    /* Rounded up to the next midnight UTC; a midnight stays. */
    CHECK(s3_lifecycle_ceil(t, DAYMS) == JAN1 + DAYMS);
    CHECK(s3_lifecycle_ceil(JAN1, DAYMS) == JAN1);
    CHECK(s3_lifecycle_ceil(JAN1 + 1, DAYMS) == JAN1 + DAYMS);
    /* ... and to the next multiple of a shortened day. */
    CHECK(s3_lifecycle_ceil(12345, day) == 20000);
    CHECK(s3_lifecycle_ceil(20000, day) == 20000);

    c = test_lc_ok(DOC(RULE("one", "<Filter/>" ON EXP(1))
                       RULE("three", "<Filter/>" ON EXP(3))
                       RULE("date", "<Filter/>" ON "<Expiration><Date>"
                            "2026-01-02T00:00:00Z</Date></Expiration>")));
    /* S3's example: created 2026-01-01T10:00Z, Days=1: gone from
     * 2026-01-03T00:00Z. */
    CHECK(s3_lifecycle_expiry_of(&c->rules[0], t, DAYMS) == JAN1 + 2 * DAYMS);
    CHECK(s3_lifecycle_expiry_of(&c->rules[1], t, DAYMS) == JAN1 + 4 * DAYMS);
    /* A shortened day: Days=3 of 10 s from 12.345 s is 50 s. */
    CHECK(s3_lifecycle_expiry_of(&c->rules[1], 12345, day) == 50000);
    /* A Date is a real date whatever the day. */
    CHECK(s3_lifecycle_expiry_of(&c->rules[2], t, day) == JAN1 + DAYMS);
    CHECK(s3_lifecycle_expiry_of(&c->rules[2], JAN1 + 5 * DAYMS, DAYMS)
          == JAN1 + DAYMS);
}

TEST(lc_match)
{
    static const gw_kv_t  both[] = { { { "a", 1 }, { "1", 1 } },
                                     { { "b", 1 }, { "2", 1 } } };
    static const gw_kv_t  one[] = { { { "a", 1 }, { "1", 1 } } };
    static const gw_kv_t  wrong[] = { { { "a", 1 }, { "x", 1 } },
                                      { { "b", 1 }, { "2", 1 } } };
    s3_lc_conf_t         *c;

    c = test_lc_ok(DOC(
        RULE("and", "<Filter><And><Prefix>p/</Prefix>" TAG("a", "1")
             TAG("b", "2") "</And></Filter>" ON EXP(1))
        RULE("size", "<Filter><And><ObjectSizeGreaterThan>10"
             "</ObjectSizeGreaterThan><ObjectSizeLessThan>20"
             "</ObjectSizeLessThan></And></Filter>" ON EXP(1))
        RULE("gt", "<Filter><ObjectSizeGreaterThan>0</ObjectSizeGreaterThan>"
             "</Filter>" ON EXP(1))
        RULE("legacy", "<Prefix>q</Prefix>" ON EXP(1))));
    /* Every tag of the filter, with its value, and the prefix. */
    CHECK(s3_lifecycle_match(&c->rules[0], gw_str_lit("p/k"), both, 2, 1));
    CHECK(!s3_lifecycle_match(&c->rules[0], gw_str_lit("p/k"), one, 1, 1));
    CHECK(!s3_lifecycle_match(&c->rules[0], gw_str_lit("p/k"), wrong, 2, 1));
    CHECK(!s3_lifecycle_match(&c->rules[0], gw_str_lit("x/k"), both, 2, 1));
    CHECK(!s3_lifecycle_match(&c->rules[0], gw_str_lit("p"), both, 2, 1));
    /* Sizes are strict bounds. */
    CHECK(!s3_lifecycle_match(&c->rules[1], gw_str_lit("k"), NULL, 0, 10));
    CHECK(s3_lifecycle_match(&c->rules[1], gw_str_lit("k"), NULL, 0, 11));
    CHECK(s3_lifecycle_match(&c->rules[1], gw_str_lit("k"), NULL, 0, 19));
    CHECK(!s3_lifecycle_match(&c->rules[1], gw_str_lit("k"), NULL, 0, 20));
    CHECK(!s3_lifecycle_match(&c->rules[2], gw_str_lit("k"), NULL, 0, 0));
    CHECK(s3_lifecycle_match(&c->rules[2], gw_str_lit("k"), NULL, 0, 1));
    CHECK(s3_lifecycle_match(&c->rules[3], gw_str_lit("qq"), NULL, 0, 0));
    CHECK(!s3_lifecycle_match(&c->rules[3], gw_str_lit("pq"), NULL, 0, 0));
}

TEST(lc_earliest_and_decide)
{
    static const gw_kv_t   tmp[] = { { { "tmp", 3 }, { "1", 1 } } };
    const s3_lc_rule_t    *r;
    s3_lc_conf_t          *c;
    store_object_t         o;
    s3_lc_ver_t            cur;
    int64_t                at = 0, t = JAN1 + 10 * HOUR;

    c = test_lc_ok(DOC(
        RULE("thirty", PFX("logs/") ON EXP(30))
        RULE("one", PFX("logs/x") ON EXP(1))
        RULE("off", PFX("") OFF EXP(1))
        RULE("tag", "<Filter>" TAG("tmp", "1") "</Filter>" ON
             "<Expiration><Date>2026-01-02T00:00:00Z</Date></Expiration>")
        RULE("mpu", PFX("up/") ON "<AbortIncompleteMultipartUpload>"
             "<DaysAfterInitiation>2</DaysAfterInitiation>"
             "</AbortIncompleteMultipartUpload>")
        RULE("mpu-off", PFX("") OFF "<AbortIncompleteMultipartUpload>"
             "<DaysAfterInitiation>1</DaysAfterInitiation>"
             "</AbortIncompleteMultipartUpload>")));

    /* The earliest of the enabled rules that match. */
    r = s3_lifecycle_expiry(c, gw_str_lit("logs/a"), NULL, 0, 1, t, DAYMS,
                            &at);
    CHECK(r != NULL && test_lc_id_is(r, "thirty"));
    CHECK(at == JAN1 + 31 * DAYMS);
    r = s3_lifecycle_expiry(c, gw_str_lit("logs/xy"), NULL, 0, 1, t, DAYMS,
                            &at);
    CHECK(r != NULL && test_lc_id_is(r, "one") && at == JAN1 + 2 * DAYMS);
    r = s3_lifecycle_expiry(c, gw_str_lit("logs/xy"), tmp, 1, 1, t, DAYMS,
                            &at);
    CHECK(r != NULL && test_lc_id_is(r, "tag") && at == JAN1 + DAYMS);
    /* Disabled rules take nothing. */
    CHECK(s3_lifecycle_expiry(c, gw_str_lit("other"), NULL, 0, 1, t, DAYMS,
                              &at) == NULL);

    /* The worker's decision: due, or not yet. */
    memset(&cur, 0, sizeof(cur));
    memset(&o, 0, sizeof(o));
    o.key = gw_str_lit("logs/xy");
    o.size = 1;
    o.mtime_ms = t;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &cur, JAN1 + 2 * DAYMS - 1,
                                     DAYMS, &r), S3_LC_KEEP);
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &cur, JAN1 + 2 * DAYMS, DAYMS, &r),
                 S3_LC_EXPIRE);
    CHECK(test_lc_id_is(r, "one"));
    o.key = gw_str_lit("other");
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &cur, JAN1 + 900 * DAYMS,
                                     DAYMS, &r), S3_LC_KEEP);

    /* Uploads: DaysAfterInitiation from the initiation, rounded up. */
    r = s3_lifecycle_abort(c, gw_str_lit("up/a"), t, DAYMS, &at);
    CHECK(r != NULL && test_lc_id_is(r, "mpu") && at == JAN1 + 3 * DAYMS);
    CHECK(s3_lifecycle_abort(c, gw_str_lit("down/a"), t, DAYMS, &at) == NULL);
    gw_pool_destroy(test_pool);
    test_pool = NULL;
}

TEST(lc_decide_versions)
{
    static const gw_kv_t   tmp[] = { { { "tmp", 3 }, { "1", 1 } } };
    const s3_lc_rule_t    *r;
    s3_lc_conf_t          *c;
    store_object_t         o;
    s3_lc_ver_t            v;
    int64_t                nc = JAN1 + 10 * HOUR, short_day = 2000;

    c = test_lc_ok(DOC(
        RULE("exp", PFX("e/") ON EXP(1))
        RULE("nc", PFX("n/") ON "<NoncurrentVersionExpiration>"
             "<NoncurrentDays>2</NoncurrentDays>"
             "</NoncurrentVersionExpiration>")
        RULE("keep2", PFX("k/") ON "<NoncurrentVersionExpiration>"
             "<NoncurrentDays>1</NoncurrentDays>"
             "<NewerNoncurrentVersions>2</NewerNoncurrentVersions>"
             "</NoncurrentVersionExpiration>")
        RULE("tagged", "<Filter>" TAG("tmp", "1") "</Filter>" ON
             "<NoncurrentVersionExpiration><NoncurrentDays>1"
             "</NoncurrentDays></NoncurrentVersionExpiration>")
        RULE("dm", PFX("m/") ON "<Expiration><ExpiredObjectDeleteMarker>"
             "true</ExpiredObjectDeleteMarker></Expiration>")
        RULE("dm-off", PFX("f/") ON "<Expiration><ExpiredObjectDeleteMarker>"
             "false</ExpiredObjectDeleteMarker></Expiration>")
        RULE("nc-off", PFX("") OFF "<NoncurrentVersionExpiration>"
             "<NoncurrentDays>1</NoncurrentDays>"
             "</NoncurrentVersionExpiration>")));

    /* NoncurrentDays from when the version became noncurrent (not its
     * mtime), rounded up to the next midnight. */
    memset(&o, 0, sizeof(o));
    memset(&v, 0, sizeof(v));
    v.noncurrent = 1;
    o.key = gw_str_lit("n/a");
    o.size = 5;
    o.mtime_ms = JAN1 - 100 * DAYMS;
    o.noncurrent_ms = nc;
    o.vflags = STORE_VF_VERSIONED;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 3 * DAYMS - 1, DAYMS,
                                     &r), S3_LC_KEEP);
    CHECK(r == NULL);
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 3 * DAYMS, DAYMS, &r),
                 S3_LC_REMOVE);
    CHECK(test_lc_id_is(r, "nc"));
    /* A shortened day: 10:00 + 2 * 2 s, up to the next multiple of 2 s. */
    o.noncurrent_ms = nc + 500;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, nc + 4000, short_day, &r),
                 S3_LC_KEEP);
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, nc + 6000, short_day, &r),
                 S3_LC_REMOVE);
    /* The current version of the same key: NoncurrentVersionExpiration is
     * not for it, and no Expiration takes it. */
    v.noncurrent = 0;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 900 * DAYMS, DAYMS,
                                     &r), S3_LC_KEEP);
    /* A noncurrent version under an Expiration-only rule stays. */
    v.noncurrent = 1;
    o.key = gw_str_lit("e/a");
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 900 * DAYMS, DAYMS,
                                     &r), S3_LC_KEEP);
    /* ... while its current version expires (a marker, in the store). */
    v.noncurrent = 0;
    o.mtime_ms = nc;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 2 * DAYMS, DAYMS, &r),
                 S3_LC_EXPIRE);
    CHECK(test_lc_id_is(r, "exp"));
    /* A current delete marker is never expired again, lone or not. */
    o.vflags |= STORE_VF_MARKER;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 900 * DAYMS, DAYMS,
                                     &r), S3_LC_KEEP);

    /* NewerNoncurrentVersions 2: the two newest noncurrent versions stay
     * whatever their age; the third and older go after NoncurrentDays. */
    o.key = gw_str_lit("k/a");
    o.vflags = STORE_VF_VERSIONED;
    o.noncurrent_ms = nc;
    v.noncurrent = 1;
    v.newer = 0;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 900 * DAYMS, DAYMS,
                                     &r), S3_LC_KEEP);
    v.newer = 1;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 900 * DAYMS, DAYMS,
                                     &r), S3_LC_KEEP);
    v.newer = 2;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 2 * DAYMS - 1, DAYMS,
                                     &r), S3_LC_KEEP);
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 2 * DAYMS, DAYMS, &r),
                 S3_LC_REMOVE);
    CHECK(test_lc_id_is(r, "keep2"));
    v.newer = 7;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 2 * DAYMS, DAYMS, &r),
                 S3_LC_REMOVE);
    /* A noncurrent delete marker is a noncurrent version like another. */
    o.vflags |= STORE_VF_MARKER;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 2 * DAYMS, DAYMS, &r),
                 S3_LC_REMOVE);

    /* The filter takes each version's own tags: an untagged version of a
     * key whose newer version is tagged stays, and the other way round. */
    o.key = gw_str_lit("z");
    o.vflags = STORE_VF_VERSIONED;
    v.newer = 0;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 900 * DAYMS, DAYMS,
                                     &r), S3_LC_KEEP);
    o.tags = (gw_kv_t *) tmp;
    o.ntags = 1;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 900 * DAYMS, DAYMS,
                                     &r), S3_LC_REMOVE);
    CHECK(test_lc_id_is(r, "tagged"));
    o.tags = NULL;
    o.ntags = 0;

    /* ExpiredObjectDeleteMarker: a current marker with nothing behind it
     * goes at once; one hiding versions, or under false, stays. */
    memset(&o, 0, sizeof(o));
    memset(&v, 0, sizeof(v));
    o.key = gw_str_lit("m/a");
    o.vflags = STORE_VF_VERSIONED | STORE_VF_MARKER;
    o.mtime_ms = JAN1;
    v.lone = 1;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1, DAYMS, &r),
                 S3_LC_REMOVE);
    CHECK(test_lc_id_is(r, "dm"));
    v.lone = 0;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 900 * DAYMS, DAYMS,
                                     &r), S3_LC_KEEP);
    v.lone = 1;
    o.key = gw_str_lit("f/a");
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 900 * DAYMS, DAYMS,
                                     &r), S3_LC_KEEP);
    /* An Expiration with Days cleans up a lone marker once the marker
     * itself is that old (S3 does so for such rules). */
    o.key = gw_str_lit("e/a");
    o.mtime_ms = nc;
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 2 * DAYMS - 1, DAYMS,
                                     &r), S3_LC_KEEP);
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 2 * DAYMS, DAYMS, &r),
                 S3_LC_REMOVE);
    CHECK(test_lc_id_is(r, "exp"));
    /* A lone marker no rule takes stays (disabled rules take nothing). */
    o.key = gw_str_lit("zz");
    CHECK_EQ_INT(s3_lifecycle_decide(c, &o, &v, JAN1 + 900 * DAYMS, DAYMS,
                                     &r), S3_LC_KEEP);
    gw_pool_destroy(test_pool);
    test_pool = NULL;
}
