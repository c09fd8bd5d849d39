/* test/fuzz/fuzz_complete.c: libFuzzer target for the CompleteMultipartUpload
 * body reader (s3/ops/multipart.c): any bytes are parsed or refused, never a
 * crash; an accepted document has parts in strictly ascending order. */
#include "s3/s3.h"

#include <stdint.h>

/* Not in s3.h: only multipart.c and this target use it. */
int s3__complete_parse(const char *buf, size_t len, store_complete_t *c);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    store_complete_t  c;
    size_t            i;

    memset(&c, 0, sizeof(c));
    if (s3__complete_parse((const char *) data, size, &c) == S3_ERR_NONE) {
        for (i = 1; i < c.n; i++) {
            if (c.numbers[i] <= c.numbers[i - 1]) {
                abort();
            }
        }
        if (c.n == 0 || c.numbers[0] == 0 || c.numbers[c.n - 1] > STORE_PART_MAX) {
            abort();
        }
    }
    free(c.numbers);
    free(c.md5);
    free(c.part_ck_alg);
    free(c.part_ck);
    return 0;
}
