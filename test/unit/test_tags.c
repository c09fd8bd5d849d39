/* test/unit/test_tags.c: s3/auth/tags, the order tag sets come back in. */
#include "s3/auth/tags.h"
#include "test/unit/unit.h"

static int
tag_is(const gw_kv_t *t, const char *k, const char *v)
{
    return t->name.len == strlen(k) && memcmp(t->name.base, k, t->name.len) == 0
           && t->value.len == strlen(v)
           && memcmp(t->value.base, v, t->value.len) == 0;
}

TEST(tags_header_sorted)
{
    gw_pool_t    *pool = gw_pool_create(1024);
    gw_str_t      v = gw_str_lit("foo=bar&bar&b%C3%A9=1&B=2&ba=");
    gw_kv_t      *t;
    size_t        n;
    const char   *msg = NULL;

    CHECK_EQ_INT(s3_tags_parse_header(pool, &v, &t, &n, &msg), S3_ERR_NONE);
    CHECK_EQ_INT(n, 5);
    /* Bytewise by key; "bar" alone is bar with an empty value. */
    CHECK(tag_is(&t[0], "B", "2"));
    CHECK(tag_is(&t[1], "ba", ""));
    CHECK(tag_is(&t[2], "bar", ""));
    CHECK(tag_is(&t[3], "b\xc3\xa9", "1"));
    CHECK(tag_is(&t[4], "foo", "bar"));
    gw_pool_destroy(pool);
}

TEST(tags_document_sorted)
{
    gw_pool_t    *pool = gw_pool_create(1024);
    const char    doc[] = "<Tagging><TagSet>"
                          "<Tag><Key>z</Key><Value>1</Value></Tag>"
                          "<Tag><Key>a</Key><Value></Value></Tag>"
                          "<Tag><Key>m</Key><Value>3</Value></Tag>"
                          "</TagSet></Tagging>";
    gw_kv_t      *t;
    size_t        n;
    const char   *msg = NULL;

    CHECK_EQ_INT(s3_tags_parse_xml(pool, doc, sizeof(doc) - 1, &t, &n, &msg),
                 S3_ERR_NONE);
    CHECK_EQ_INT(n, 3);
    CHECK(tag_is(&t[0], "a", ""));
    CHECK(tag_is(&t[1], "m", "3"));
    CHECK(tag_is(&t[2], "z", "1"));
    s3_tags_sort(t, 0);
    s3_tags_sort(NULL, 0);
    gw_pool_destroy(pool);
}
