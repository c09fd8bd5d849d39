/* test/unit/test_xml.c: s3/xml, writing and reading. */
#include "s3/xml.h"
#include "test/unit/unit.h"

TEST(xml_escape)
{
    gw_pool_t  *pool = gw_pool_create(1024);
    s3_xml_t    x;
    const char  text[] = "a<b>&\"c'\x01\td\n";

    s3_xml_begin(&x, pool, "R");
    s3_xml_elem(&x, "K", text, sizeof(text) - 1);
    s3_xml_end(&x, "R");
    CHECK(strstr(x.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R xmlns="
                        "\"http://s3.amazonaws.com/doc/2006-03-01/\">") == x.buf);
    CHECK(strstr(x.buf, "<K>a&lt;b&gt;&amp;&quot;c&apos;&#1;&#9;d&#10;</K></R>")
          != NULL);
    CHECK_EQ_INT(strlen(x.buf), x.len);
    gw_pool_destroy(pool);
}

TEST(xml_grows)
{
    gw_pool_t  *pool = gw_pool_create(512);
    s3_xml_t    x;
    char        key[64];
    int         i;

    s3_xml_begin(&x, pool, "L");
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "key-%05d", i);
        s3_xml_elem_str(&x, "Key", key);
    }
    s3_xml_end(&x, "L");
    CHECK(strstr(x.buf, "<Key>key-04999</Key></L>") != NULL);
    CHECK(strstr(x.buf, "<Key>key-00000</Key>") != NULL);
    gw_pool_destroy(pool);
}

typedef struct {
    char  names[256];
    char  texts[256];
} xml_seen_t;

static int
xml_collect(void *ud, int depth, const char *name, const char *text,
            size_t len)
{
    xml_seen_t  *s = ud;
    size_t       n = strlen(s->names);

    snprintf(s->names + n, sizeof(s->names) - n, "%d:%s ", depth, name);
    n = strlen(s->texts);
    snprintf(s->texts + n, sizeof(s->texts) - n, "[%.*s]", (int) len, text);
    return 0;
}

TEST(xml_parse)
{
    static const char  doc[] =
        "<?xml version=\"1.0\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/"
        "2006-03-01/\"><Object><Key>a&amp;b</Key></Object></Delete>";
    xml_seen_t  s;

    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(s3_xml_parse(doc, sizeof(doc) - 1, xml_collect, &s), GW_OK);
    CHECK_EQ_STR(s.names, "3:Key 2:Object 1:Delete ");
    CHECK(strstr(s.texts, "[a&b]") == s.texts);
}

TEST(xml_parse_refuses)
{
    static const char  *bad[] = {
        "", "<a>", "<a></b>", "not xml", "<a><b></a></b>",
        "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
        "<a>&undefined;</a>", "<a/><b/>",
    };
    xml_seen_t  s;
    size_t      i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&s, 0, sizeof(s));
        if (s3_xml_parse(bad[i], strlen(bad[i]), xml_collect, &s) == GW_OK) {
            fprintf(stderr, "# accepted: %s\n", bad[i]);
            CHECK(0);
        }
    }
}
