/* http/range.c: Range header parsing. */
#include "http/range.h"

#include <strings.h>

int
http_range_parse(gw_str_t v, uint64_t size, uint64_t *from, uint64_t *to)
{
    const char  *p = v.base, *end = v.base + v.len, *dash;
    uint64_t     a = 0, b = 0;
    int          has_a = 0, has_b = 0;

    if (v.len < 7 || strncasecmp(p, "bytes=", 6) != 0) {
        return HTTP_RANGE_NONE;
    }
    p += 6;
    if (memchr(p, ',', (size_t) (end - p)) != NULL) {
        return HTTP_RANGE_NONE;     /* several ranges: the whole object */
    }
    while (p < end && *p == ' ') {
        p++;
    }
    dash = memchr(p, '-', (size_t) (end - p));
    if (dash == NULL) {
        return HTTP_RANGE_NONE;
    }
    for (; p < dash; p++) {
        if (*p < '0' || *p > '9' || a > UINT64_MAX / 10 - 10) {
            return HTTP_RANGE_NONE;
        }
        a = a * 10 + (uint64_t) (*p - '0');
        has_a = 1;
    }
    for (p = dash + 1; p < end && *p != ' '; p++) {
        if (*p < '0' || *p > '9' || b > UINT64_MAX / 10 - 10) {
            return HTTP_RANGE_NONE;
        }
        b = b * 10 + (uint64_t) (*p - '0');
        has_b = 1;
    }
    if (!has_a && !has_b) {
        return HTTP_RANGE_NONE;
    }
    if (!has_a) {                       /* bytes=-n: the last n bytes */
        if (b == 0 || size == 0) {
            return HTTP_RANGE_UNSATISFIABLE;
        }
        *from = b >= size ? 0 : size - b;
        *to = size - 1;
        return HTTP_RANGE_OK;
    }
    if (has_b && b < a) {
        return HTTP_RANGE_NONE;                       /* invalid: ignored, as RFC 7233 says */
    }
    if (a >= size) {
        return HTTP_RANGE_UNSATISFIABLE;
    }
    *from = a;
    *to = has_b && b < size ? b : size - 1;
    return HTTP_RANGE_OK;
}
