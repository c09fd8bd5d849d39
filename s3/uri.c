/* s3/uri.c: percent-encoding as S3 and SigV4 use it (see s3/uri.h). */
#include "s3/uri.h"
#include "core/hash.h"

static const char  s3_uri_hex_upper[] = "0123456789ABCDEF";

int
s3_uri_decode(const char *s, size_t n, char *out, size_t *outlen,
    int plus_is_space)
{
    size_t  i, o = 0;
    int     hi, lo;

    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (n - i < 3) {
                return GW_EINVAL;
            }
            hi = gw_hex_value((unsigned char) s[i + 1]);
            lo = gw_hex_value((unsigned char) s[i + 2]);
            if (hi < 0 || lo < 0) {
                return GW_EINVAL;
            }
            out[o++] = (char) (hi << 4 | lo);
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    *outlen = o;
    return GW_OK;
}

size_t
s3_uri_encode(const char *s, size_t n, char *out, int keep_slash)
{
    size_t         i, o = 0;
    unsigned char  c;

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '~' || (c == '/' && keep_slash))
        {
            out[o++] = (char) c;
        } else {
            out[o++] = '%';
            out[o++] = s3_uri_hex_upper[c >> 4];
            out[o++] = s3_uri_hex_upper[c & 0x0f];
        }
    }
    out[o] = '\0';
    return o;
}

int
s3_utf8_valid(const char *s, size_t n)
{
    const unsigned char  *p = (const unsigned char *) s, *end = p + n;
    uint32_t              cp;
    size_t                k, i;

    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        if (*p >= 0xc2 && *p <= 0xdf) {
            k = 1;
            cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            k = 2;
            cp = *p & 0x0f;
        } else if (*p >= 0xf0 && *p <= 0xf4) {
            k = 3;
            cp = *p & 0x07;
        } else {
            return 0;           /* a continuation byte, 0xc0, 0xc1, > 0xf4 */
        }
        if ((size_t) (end - p) <= k) {
            return 0;
        }
        for (i = 1; i <= k; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return 0;
            }
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        {
            return 0;
        }
        p += k + 1;
    }
    return 1;
}
