/* test/unit/test_gw.c: core/gw. */
#include "core/gw.h"
#include "test/unit/unit.h"

#include <errno.h>
#include <lmdb.h>
#include <uv.h>

TEST(gw_strerror)
{
    CHECK_EQ_STR(gw_strerror(GW_ENOTFOUND), "not found");
    CHECK_EQ_STR(gw_strerror(UV_ENOENT), uv_strerror(UV_ENOENT));
    CHECK_EQ_STR(gw_strerror(MDB_NOTFOUND), mdb_strerror(MDB_NOTFOUND));
    CHECK_EQ_STR(gw_strerror(MDB_MAP_FULL), mdb_strerror(MDB_MAP_FULL));
    /* LMDB returns system errors as positive errno values. */
    CHECK_EQ_STR(gw_strerror(ENOSPC), uv_strerror(UV_ENOSPC));
    CHECK_EQ_STR(gw_strerror(UV_ENOSPC), "no space left on device");
}

TEST(gw_ascii)
{
    CHECK(gw_ascii_ieq("Content-MD5", 11, "content-md5", 11));
    CHECK(!gw_ascii_ieq("Content-MD5", 11, "content-md", 10));
    CHECK(!gw_ascii_ieq("ab", 2, "ac", 2));
    CHECK(gw_ascii_ieq("a\0B", 3, "a\0b", 3));      /* NULs are bytes too */
    CHECK(!gw_ascii_ieq("\xc4", 1, "\xe4", 1));     /* ASCII only */
    CHECK(gw_ascii_ieq(NULL, 0, "", 0));
    CHECK_EQ_INT(gw_ascii_lower('Q'), 'q');
    CHECK_EQ_INT(gw_ascii_lower('['), '[');
}

TEST(gw_days_from_civil)
{
    CHECK_EQ_INT(gw_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ_INT(gw_days_from_civil(1969, 12, 31), -1);
    CHECK_EQ_INT(gw_days_from_civil(2000, 3, 1), 11017);
    CHECK_EQ_INT(gw_days_from_civil(2026, 12, 1), 20788);
    CHECK_EQ_INT(gw_days_from_civil(2024, 2, 29) + 1,
                 gw_days_from_civil(2024, 3, 1));
}
