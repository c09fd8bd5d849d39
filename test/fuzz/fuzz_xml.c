/* test/fuzz/fuzz_xml.c: libFuzzer target for the XML body reader
 * (s3/xml.c, expat): any bytes must parse or be refused, never crash. */
#include "s3/xml.h"

#include <stdint.h>

static int
fuzz_elem(void *ud, int depth, const char *name, const char *text, size_t len)
{
    size_t  *count = ud;

    /* Touch every byte handed out, so ASan sees any bad view. */
    *count += strlen(name) + (depth > 0) + (len ? (unsigned char) text[len - 1] : 0);
    return *count > (1u << 30);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t  count = 0;

    (void) s3_xml_parse((const char *) data, size, fuzz_elem, &count);
    return 0;
}
