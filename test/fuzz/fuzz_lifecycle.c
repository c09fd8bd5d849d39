/* test/fuzz/fuzz_lifecycle.c: libFuzzer target for the
 * PutBucketLifecycleConfiguration body (s3/lifecycle.c): any bytes must
 * parse or be refused, never crash; what parses must survive its stored
 * form (decode, then encode to the same bytes), and the rules must answer
 * matching and due-date questions without fault. */
#include "s3/lifecycle.h"

#include <stdint.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const gw_kv_t   tags[] = {
        { { "k", 1 }, { "v", 1 } }, { { "team", 4 }, { "blue", 4 } },
    };
    gw_pool_t             *pool = gw_pool_create(4096);
    s3_lc_conf_t          *c, *d;
    store_object_t         o;
    s3_lc_ver_t            v;
    const s3_lc_rule_t    *r;
    const char            *msg;
    gw_str_t               enc, again, key;
    int64_t                at;

    if (s3_lifecycle_parse(pool, (const char *) data, size, &c, &msg)
        == S3_ERR_NONE)
    {
        if (c->nrules == 0 || c->nrules > S3_LC_RULES_MAX) {
            abort();
        }
        enc = s3_lifecycle_encode(pool, c);
        if (s3_lifecycle_decode(pool, enc.base, enc.len, &d) != GW_OK) {
            fprintf(stderr, "fuzz_lifecycle: the stored form does not "
                    "decode\n%.*s\n", (int) GW_MIN(enc.len, 4096), enc.base);
            abort();
        }
        again = s3_lifecycle_encode(pool, d);
        if (again.len != enc.len || memcmp(again.base, enc.base, enc.len)) {
            fprintf(stderr, "fuzz_lifecycle: the stored form differs\n");
            abort();
        }
        key.base = size > 0 ? (const char *) data : "";
        key.len = GW_MIN(size, 16);
        (void) s3_lifecycle_expiry(d, key, tags, 2, size, 1767225600000LL,
                                   S3_LC_DAY_MS, &at);
        (void) s3_lifecycle_abort(d, key, 1767225600000LL, 10000, &at);
        memset(&o, 0, sizeof(o));
        o.key = key;
        o.tags = (gw_kv_t *) tags;
        o.ntags = 1;
        o.size = size;
        memset(&v, 0, sizeof(v));
        (void) s3_lifecycle_decide(d, &o, &v, 1767225600000LL, 1000, &r);
        /* The same record as a noncurrent version, then a lone marker. */
        v.noncurrent = 1;
        v.newer = size % 4;
        o.noncurrent_ms = 1767225600000LL - 5000;
        (void) s3_lifecycle_decide(d, &o, &v, 1767225600000LL, 1000, &r);
        v.noncurrent = 0;
        v.lone = 1;
        o.vflags = STORE_VF_MARKER;
        (void) s3_lifecycle_decide(d, &o, &v, 1767225600000LL, 1000, &r);
    }
    gw_pool_destroy(pool);
    return 0;
}
