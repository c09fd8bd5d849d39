/* test/unit/test_range.c: http/range. */
#include "http/range.h"
#include "test/unit/unit.h"

static int
range(const char *v, uint64_t size, uint64_t *from, uint64_t *to)
{
    gw_str_t  s = { v, strlen(v) };

    *from = *to = 12345;
    return http_range_parse(s, size, from, to);
}

TEST(range_forms)
{
    uint64_t  f, t;

    CHECK_EQ_INT(range("bytes=0-9", 100, &f, &t), HTTP_RANGE_OK);
    CHECK_EQ_INT(f, 0);
    CHECK_EQ_INT(t, 9);
    CHECK_EQ_INT(range("bytes=90-", 100, &f, &t), HTTP_RANGE_OK);
    CHECK_EQ_INT(f, 90);
    CHECK_EQ_INT(t, 99);
    CHECK_EQ_INT(range("bytes=-10", 100, &f, &t), HTTP_RANGE_OK);
    CHECK_EQ_INT(f, 90);
    CHECK_EQ_INT(t, 99);
    /* A suffix longer than the object is the whole object. */
    CHECK_EQ_INT(range("bytes=-1000", 100, &f, &t), HTTP_RANGE_OK);
    CHECK_EQ_INT(f, 0);
    CHECK_EQ_INT(t, 99);
    /* An end past the object is cut to its last byte. */
    CHECK_EQ_INT(range("bytes=50-5000", 100, &f, &t), HTTP_RANGE_OK);
    CHECK_EQ_INT(f, 50);
    CHECK_EQ_INT(t, 99);
    CHECK_EQ_INT(range("Bytes=99-99", 100, &f, &t), HTTP_RANGE_OK);
    CHECK_EQ_INT(f, 99);
    CHECK_EQ_INT(t, 99);
}

TEST(range_unsatisfiable)
{
    uint64_t  f, t;

    CHECK_EQ_INT(range("bytes=100-", 100, &f, &t), HTTP_RANGE_UNSATISFIABLE);
    CHECK_EQ_INT(range("bytes=100-200", 100, &f, &t), HTTP_RANGE_UNSATISFIABLE);
    CHECK_EQ_INT(range("bytes=-0", 100, &f, &t), HTTP_RANGE_UNSATISFIABLE);
    CHECK_EQ_INT(range("bytes=0-", 0, &f, &t), HTTP_RANGE_UNSATISFIABLE);
    CHECK_EQ_INT(range("bytes=-5", 0, &f, &t), HTTP_RANGE_UNSATISFIABLE);
}

TEST(range_ignored)
{
    static const char  *bad[] = {
        "", "bytes", "bytes=", "bytes=-", "items=0-1", "bytes=5-1",
        "bytes=0-1,3-4", "bytes=a-b", "bytes=1-2x", "bytes=--1",
        "bytes=99999999999999999999999-", "bytes=0-99999999999999999999999",
    };
    uint64_t  f, t;
    size_t    i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (range(bad[i], 100, &f, &t) != HTTP_RANGE_NONE) {
            fprintf(stderr, "# \"%s\" was not ignored\n", bad[i]);
            CHECK(0);
        }
    }
}
