/* test/fuzz/fuzz_replication.c: libFuzzer target for the PutBucketReplication
 * body (s3/replication.c): any bytes must parse or be refused, never crash;
 * what parses must survive its stored form (decode, then encode to the same
 * bytes), and the GetBucketReplication document written from it must read
 * back as the same configuration. */
#include "s3/replication.h"

#include <stdint.h>

static void
fuzz_same(gw_str_t a, gw_str_t b, const char *what, const s3_xml_t *x)
{
    if (a.len != b.len || memcmp(a.base, b.base, a.len) != 0) {
        fprintf(stderr, "fuzz_replication: %s differs\n%.*s\n", what,
                x ? (int) GW_MIN(x->len, 4096) : 0, x ? x->buf : "");
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const gw_kv_t   tags[] = {
        { { "k", 1 }, { "v", 1 } }, { { "team", 4 }, { "blue", 4 } },
    };
    gw_pool_t             *pool = gw_pool_create(4096);
    s3_repl_conf_t        *c, *d, *again;
    const s3_repl_rule_t  *all[4];
    const char            *msg;
    s3_xml_t               x;
    gw_str_t               enc, key;

    if (s3_replication_parse(pool, (const char *) data, size, "src", &c, &msg)
        == S3_ERR_NONE)
    {
        if (c->nrules == 0 || c->nrules > S3_REPL_RULES_MAX) {
            abort();
        }
        enc = s3_replication_encode(pool, c);
        if (s3_replication_decode(pool, enc.base, enc.len, &d) != GW_OK) {
            fprintf(stderr, "fuzz_replication: the stored form does not "
                    "decode\n");
            abort();
        }
        fuzz_same(enc, s3_replication_encode(pool, d), "stored form", NULL);
        s3_replication_xml(d, &x, pool);
        if (s3_replication_parse(pool, x.buf, x.len, "src", &again, &msg)
            != S3_ERR_NONE)
        {
            fprintf(stderr, "fuzz_replication: the document given back is "
                    "refused: %s\n%.*s\n", msg ? msg : "",
                    (int) GW_MIN(x.len, 4096), x.buf);
            abort();
        }
        fuzz_same(enc, s3_replication_encode(pool, again), "document", &x);
        key.base = size > 0 ? (const char *) data : "";
        key.len = GW_MIN(size, 16);
        (void) s3_replication_match(d, key, tags, 2);
        (void) s3_replication_match_all(d, key, tags, 1, all, 4);
        (void) s3_replication_match_delete(d, key, NULL, 0, NULL);
    }
    gw_pool_destroy(pool);
    return 0;
}
