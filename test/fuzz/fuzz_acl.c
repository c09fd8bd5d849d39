/* test/fuzz/fuzz_acl.c: libFuzzer target for ACL documents and grant
 * headers (s3/auth/acl.c, expat): any bytes must parse or be refused with an S3
 * error, and what parses must encode, decode back and answer as XML. */
#include "s3/auth/acl.h"
#include "s3/error.h"

#include <stdint.h>

static const char *
fuzz_acl_by_email(void *ud, const char *email, size_t len)
{
    (void) ud;
    return len == 15 && memcmp(email, "bob@example.com", 15) == 0
           ? "5292f5d2e03c49dfcef224bc5a84b342928936992429ad5f85f5c68023a4bd1a"
           : NULL;
}

static const char *
fuzz_acl_name(void *ud, const char *id)
{
    (void) ud;
    (void) id;
    return "someone";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s3_acl_dir_t  dir = { fuzz_acl_by_email, fuzz_acl_name, NULL };
    gw_pool_t    *pool = gw_pool_create(4096);
    s3_acl_t      acl, back;
    s3_xml_t      x;
    gw_str_t      v = { (const char *) data, size };
    char         *enc;
    size_t        len;

    if (s3_acl_parse_xml(pool, (const char *) data, size, &dir, &acl)
        == S3_ERR_NONE)
    {
        enc = s3_acl_encode(pool, &acl, &len);
        if (s3_acl_decode(pool, enc, len, &back) != GW_OK
            || back.n != acl.n)
        {
            __builtin_trap();
        }
        x.pool = pool;
        s3_acl_xml(&acl, &dir, &x);
    }
    memset(&acl, 0, sizeof(acl));
    memset(acl.owner, 'a', 64);
    (void) s3_acl_grant_header(pool, &acl, S3_PERM_READ, v, &dir);
    (void) s3_acl_decode(pool, (const char *) data, size, &back);
    (void) s3_acl_perms(&acl, NULL, NULL);
    gw_pool_destroy(pool);
    return 0;
}
