/* s3/uri.h: percent-encoding as S3 and SigV4 use it. Pure functions of
 * their arguments; shared by target parsing and the signature schemes. */
#ifndef S3_URI_H
#define S3_URI_H

#include "core/gw.h"

/* Percent-decodes s[0..n) into out (which needs n bytes; the result is not
 * NUL-terminated) and sets *outlen. With plus_is_space, '+' becomes ' ' (the
 * query-string convention). Returns GW_OK, or GW_EINVAL on a malformed %xx. */
int s3_uri_decode(const char *s, size_t n, char *out, size_t *outlen,
    int plus_is_space);

/* Percent-encodes s[0..n) by the AWS rules: A-Z a-z 0-9 - _ . ~ stay, every
 * other byte becomes %XX with uppercase hex (a space is %20), and '/' stays
 * when keep_slash. out needs 3n+1 bytes; it is NUL-terminated. Returns the
 * length written, without the NUL. */
size_t s3_uri_encode(const char *s, size_t n, char *out, int keep_slash);

/* 1 when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF), as S3 requires of object keys. */
int s3_utf8_valid(const char *s, size_t n);

#endif
