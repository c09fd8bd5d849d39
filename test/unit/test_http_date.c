/* test/unit/test_http_date.c: http_date (http/conn.c), formatted by hand,
 * against the C library's gmtime_r + strftime. */
#include "http/conn.h"
#include "test/unit/unit.h"

#include <time.h>

static void
check_date(int64_t t)
{
    char       want[64], got[32];
    time_t     tt = (time_t) t;
    struct tm  tm;

    gmtime_r(&tt, &tm);
    strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    memset(got, 'x', sizeof(got));
    http_date(t, got);
    CHECK_EQ_STR(got, want);
}

TEST(http_date_matches_strftime)
{
    int64_t  t;

    check_date(0);
    check_date(-1);
    check_date(951782400);          /* 2000-02-29 */
    check_date(4107542399);         /* 2100-02-28T23:59:59 */
    check_date(253402300799);       /* 9999-12-31T23:59:59 */
    check_date(-2208988800);        /* 1900-01-01 */
    /* Every day boundary and a spread of times from 1960 to 2150. */
    for (t = -315619200; t < 5680281600; t += 86400 - 1 + t % 7) {
        check_date(t);
    }
}
