/* test/unit/test_log.c: core/log. */
#include "core/log.h"
#include "test/unit/unit.h"

TEST(log_escape)
{
    char    out[64];
    size_t  n;

    n = gw_log_escape(out, sizeof(out), "a/b c", 5);
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_STR(out, "a/b c");
    /* Control bytes, DEL, non-ASCII and the backslash itself, so an
     * escape in the log always means a byte that was escaped. */
    n = gw_log_escape(out, sizeof(out), "k\n2\r\x1b[0m\x7f\xc3\xa9\\x\0!",
                      15);
    CHECK_EQ_STR(out, "k\\x0a2\\x0d\\x1b[0m\\x7f\\xc3\\xa9\\x5cx\\x00!");
    CHECK_EQ_INT(n, strlen(out));
    /* It stops before an escape that would not fit, and always ends in a
     * NUL. */
    n = gw_log_escape(out, 6, "ab\ncd", 5);
    CHECK_EQ_STR(out, "ab");
    CHECK_EQ_INT(n, 2);
    n = gw_log_escape(out, 3, "abcd", 4);
    CHECK_EQ_STR(out, "ab");
    CHECK_EQ_INT(gw_log_escape(out, 0, "abcd", 4), 0);
}
