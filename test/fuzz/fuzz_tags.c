/* test/fuzz/fuzz_tags.c: libFuzzer target for the Tagging documents of
 * PutObjectTagging and PutBucketTagging and the x-amz-tagging header
 * (s3/auth/tags.c): any bytes must parse or be refused, never crash; a tag
 * set that parses keeps its limits, and a bucket's comes sorted by key. */
#include "s3/auth/tags.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s3_fuzz_key_le(const gw_kv_t *a, const gw_kv_t *b)
{
    size_t  n = GW_MIN(a->name.len, b->name.len);
    int     c = memcmp(a->name.base, b->name.base, n);

    return c < 0 || (c == 0 && a->name.len <= b->name.len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_pool_t    *pool = gw_pool_create(4096);
    gw_kv_t      *tags;
    size_t        n, i;
    const char   *msg;
    gw_str_t      v = { (const char *) data, size };

    if (s3_tags_parse_xml(pool, v.base, v.len, &tags, &n, &msg)
        == S3_ERR_NONE && n > S3_TAGS_MAX)
    {
        abort();
    }
    if (s3_tags_parse_bucket_xml(pool, v.base, v.len, &tags, &n, &msg)
        == S3_ERR_NONE)
    {
        if (n > S3_BUCKET_TAGS_MAX) {
            abort();
        }
        for (i = 1; i < n; i++) {
            if (!s3_fuzz_key_le(&tags[i - 1], &tags[i])) {
                fprintf(stderr, "fuzz_tags: bucket tags out of order\n");
                abort();
            }
        }
    }
    (void) s3_tags_parse_header(pool, &v, &tags, &n, &msg);
    gw_pool_destroy(pool);
    return 0;
}
