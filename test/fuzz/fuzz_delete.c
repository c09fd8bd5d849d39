/* test/fuzz/fuzz_delete.c: libFuzzer target for the DeleteObjects body
 * (s3/ops/delete.c): any bytes must parse or be refused, never crash; and what
 * parses must give back a DeleteResult that is itself well-formed XML with
 * one entry per object (none for deleted ones in Quiet mode). */
#include "s3/xml.h"
#include "s3/error.h"
#include "core/pool.h"

#include <stdint.h>

/* Defined in s3/ops/delete.c, non-static for this target only; s3/s3.h is the
 * shared header of the whole layer and does not carry them. */
struct s3_delete_s;
int s3__delete_parse(gw_pool_t *pool, const char *buf, size_t len,
                     struct s3_delete_s **out, size_t *nobjs);
size_t s3__delete_result(struct s3_delete_s *d, s3_xml_t *x);

typedef struct {
    size_t  entries;    /* <Deleted> and <Error> */
    size_t  keys;
    int     bad;
} fuzz_result_t;

static int
fuzz_result_elem(void *ud, int depth, const char *name, const char *text,
                 size_t len)
{
    fuzz_result_t  *f = ud;

    if (depth == 2) {
        if (strcmp(name, "Deleted") == 0 || strcmp(name, "Error") == 0) {
            f->entries++;
        } else {
            f->bad = 1;
        }
    } else if (depth == 3 && strcmp(name, "Key") == 0) {
        /* Keys are never empty, so the writer must not lose them. */
        f->keys++;
        f->bad |= len == 0 || text[len - 1] == '\0';
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_pool_t           *pool = gw_pool_create(4096);
    struct s3_delete_s  *d;
    s3_xml_t             x;
    fuzz_result_t        f;
    size_t               nobjs, n;

    if (s3__delete_parse(pool, (const char *) data, size, &d, &nobjs)
        == S3_ERR_NONE)
    {
        if (nobjs == 0 || nobjs > 1000) {
            abort();
        }
        n = s3__delete_result(d, &x);
        memset(&f, 0, sizeof(f));
        if (n > nobjs || s3_xml_parse(x.buf, x.len, fuzz_result_elem, &f)
                         != GW_OK
            || f.bad || f.entries != n || f.keys != n)
        {
            fprintf(stderr, "fuzz_delete: bad DeleteResult:\n%.*s\n",
                    (int) GW_MIN(x.len, 4096), x.buf);
            abort();
        }
    }
    gw_pool_destroy(pool);
    return 0;
}
