/* test/unit/test_gw.c: core/gw. */
#include "core/gw.h"
#include "test/unit/unit.h"

#include <lmdb.h>
#include <uv.h>

TEST(gw_strerror)
{
    CHECK_EQ_STR(gw_strerror(GW_ENOTFOUND), "not found");
    CHECK_EQ_STR(gw_strerror(UV_ENOENT), uv_strerror(UV_ENOENT));
    CHECK_EQ_STR(gw_strerror(MDB_NOTFOUND), mdb_strerror(MDB_NOTFOUND));
}
