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
