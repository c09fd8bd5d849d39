/* test/fuzz/fuzz_cors.c: libFuzzer target for the PutBucketCors body
 * (s3/cors.c): any bytes must parse or be refused, never crash; what
 * parses must give back a GetBucketCors document that parses to the same
 * document again, and matching and the response headers must hold up on
 * an origin, a method and a header list taken from the input. */
#include "s3/cors.h"

#include <stdint.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_pool_t             *pool = gw_pool_create(4096);
    s3_cors_conf_t        *c, *again;
    const s3_cors_rule_t  *rule;
    const char            *msg;
    http_req_t             hr;
    s3_xml_t               x, y;
    gw_str_t               origin, method, headers;

    if (s3_cors_parse(pool, (const char *) data, size, &c, &msg)
        == S3_ERR_NONE)
    {
        if (c->nrules == 0 || c->nrules > S3_CORS_RULES_MAX) {
            abort();
        }
        s3_cors_xml(c, &x, pool);
        if (s3_cors_parse(pool, x.buf, x.len, &again, &msg) != S3_ERR_NONE) {
            fprintf(stderr, "fuzz_cors: the document given back is refused: "
                    "%s\n%.*s\n", msg ? msg : "", (int) GW_MIN(x.len, 4096),
                    x.buf);
            abort();
        }
        s3_cors_xml(again, &y, pool);
        if (x.len != y.len || memcmp(x.buf, y.buf, x.len) != 0) {
            fprintf(stderr, "fuzz_cors: the document changes\n");
            abort();
        }
        /* The origin and header list are slices of the input; the method
         * is one of the rule's when there is one. */
        origin.base = (const char *) data;
        origin.len = GW_MIN(size, 24);
        headers.base = (const char *) data + size / 2;
        headers.len = size - size / 2;
        method = c->rules[0].methods[0];
        rule = s3_cors_match(c, origin, method, &headers);
        if (rule == NULL) {
            rule = s3_cors_match(c, c->rules[c->nrules - 1].origins[0],
                                 method, NULL);
        }
        if (rule != NULL) {
            memset(&hr, 0, sizeof(hr));
            hr.pool = pool;
            s3_cors_headers(&hr, rule, origin, &headers);
        }
    }
    gw_pool_destroy(pool);
    return 0;
}
