/* test/fuzz/fuzz_website.c: libFuzzer target for the PutBucketWebsite body
 * (s3/website.c): any bytes must parse or be refused, never crash; what
 * parses must survive its stored form (the normalized document reads back
 * and writes the same bytes again), and the endpoint's decisions on it
 * (index, redirect-all, routing rules) must not crash. */
#include "s3/website.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int    errors[] = { 0, 403, 404, 500 };
    gw_pool_t          *pool = gw_pool_create(4096);
    s3_web_conf_t      *c, *d;
    s3_web_redirect_t   to;
    const char         *msg;
    s3_xml_t            x, y;
    gw_str_t            key, out;
    size_t              i;

    if (s3_website_parse(pool, (const char *) data, size, &c, &msg)
        == S3_ERR_NONE)
    {
        if (c->nrules > S3_WEB_RULES_MAX) {
            abort();
        }
        s3_website_xml(c, &x, pool);
        if (s3_website_parse(pool, x.buf, x.len, &d, &msg) != S3_ERR_NONE) {
            fprintf(stderr, "fuzz_website: the stored form is refused: %s\n"
                    "%.*s\n", msg ? msg : "", (int) GW_MIN(x.len, 4096),
                    x.buf);
            abort();
        }
        s3_website_xml(d, &y, pool);
        if (x.len != y.len || memcmp(x.buf, y.buf, x.len) != 0) {
            fprintf(stderr, "fuzz_website: the stored form changes\n");
            abort();
        }
        key.base = size > 0 ? (const char *) data : "";
        key.len = GW_MIN(size, 24);
        (void) s3_website_index(d, pool, key, &out);
        (void) s3_website_redirect_all(d, pool, key, "http", &to);
        for (i = 0; i < GW_NELEMS(errors); i++) {
            (void) s3_website_route(d, pool, key, errors[i], "http", "h",
                                    &to);
        }
    }
    gw_pool_destroy(pool);
    return 0;
}
