/* test/fuzz/fuzz_policy.c: libFuzzer target for bucket policies
 * (s3/auth/policy.c, jansson): any bytes must parse or be refused with a
 * message, and a policy that parses must evaluate, never crash. */
#include "s3/auth/policy.h"

#include <stdint.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const gw_kv_t  kv[] = {
        { { "aws:SourceIp", 12 }, { "10.1.2.3", 8 } },
        { { "aws:CurrentTime", 15 }, { "2026-12-01T15:52:00Z", 20 } },
        { { "s3:prefix", 9 }, { "home/bob/", 9 } },
        { { "s3:ExistingObjectTag/t", 22 }, { "v", 1 } },
        { { "s3:max-keys", 11 }, { "10", 2 } },
    };
    s3_principal_t         bob = { "bob", "123456789012",
                                   "5292f5d2e03c49dfcef224bc5a84b342"
                                   "928936992429ad5f85f5c68023a4bd1a" };
    s3_principal_t         anon = { NULL, NULL, NULL };
    s3_policy_ctx_t        ctx = { kv, sizeof(kv) / sizeof(kv[0]) };
    s3_policy_t           *p;
    const char            *which;
    char                   why[256];

    if (s3_policy_parse((const char *) data, size, "b", NULL, NULL, &p, why,
                        sizeof(why)) != GW_OK)
    {
        if (why[0] == '\0') {
            __builtin_trap();    /* a refusal always says why */
        }
        return 0;
    }
    (void) s3_policy_eval(p, &bob, "s3:GetObject", "arn:aws:s3:::b/home/bob/x",
                          &ctx, &which);
    (void) s3_policy_eval(p, &anon, "s3:ListBucket", "arn:aws:s3:::b", &ctx,
                          &which);
    s3_policy_free(p);
    return 0;
}
