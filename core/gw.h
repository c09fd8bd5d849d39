/* core/gw.h: what every s3gw file includes. Owns the shared return codes, the
 * allocation wrappers (which abort on out-of-memory instead of returning NULL)
 * and a few tiny helpers. Knows nothing about HTTP, S3 or storage.
 *
 * Return codes: 0 (GW_OK) is success, a negative value is an error. Errors from
 * libuv and the system pass through unchanged (UV_E* is -errno). Our own codes
 * live in the range -32000..-32099, which collides with neither libuv (-4095
 * and above) nor LMDB (-30799..-30780). */
#ifndef GW_GW_H
#define GW_GW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_OK           0
#define GW_AGAIN        (-32001)   /* would block; you will be called back */
#define GW_DONE         (-32002)   /* an async continuation now owns finishing */
#define GW_DECLINED     (-32003)   /* not mine; try the next handler */
#define GW_ERROR        (-32004)   /* generic failure, already logged */
#define GW_ENOTFOUND    (-32010)
#define GW_EEXIST       (-32011)
#define GW_ETOOBIG      (-32012)
#define GW_EINVAL       (-32013)
#define GW_ECORRUPT     (-32014)
#define GW_ENOTEMPTY    (-32015)
#define GW_EPRECOND     (-32016)   /* a write's precondition (If-Match...) failed */
#define GW_ECHECKSUM    (-32017)   /* bytes did not match a declared digest */
#define GW_ENOBUCKET    (-32018)
#define GW_EFORMAT      (-32019)   /* data written in a format this build does
                                    * not read (newer, or unknown) */
#define GW_ECONFLICT    (-32020)   /* the record changed since it was read
                                    * (generation mismatch): read, retry */

/* Names any code: ours, libuv's (-errno), a plain errno, or LMDB's. The
 * string is static. */
const char *gw_strerror(int rc);

#define GW_UNUSED(x)    ((void) (x))
#define GW_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define GW_MAX(a, b)    ((a) > (b) ? (a) : (b))
#define GW_NELEMS(a)    (sizeof(a) / sizeof((a)[0]))

/* Allocation never fails from the caller's point of view: on out-of-memory
 * it prints file:line and aborts (H2O, Redis). Sizes that come from input
 * must be checked against a configured limit before they get here. */
#define gw_alloc(n)        gw__alloc((n), __FILE__, __LINE__)
#define gw_calloc(n, s)    gw__calloc((n), (s), __FILE__, __LINE__)
#define gw_realloc(p, n)   gw__realloc((p), (n), __FILE__, __LINE__)
#define gw_strndup(s, n)   gw__strndup((s), (n), __FILE__, __LINE__)
#define gw_strdup(s)       gw__strndup((s), strlen(s), __FILE__, __LINE__)
#define gw_free(p)         free(p)

void *gw__alloc(size_t n, const char *file, int line);
void *gw__calloc(size_t n, size_t size, const char *file, int line);
void *gw__realloc(void *p, size_t n, const char *file, int line);
char *gw__strndup(const char *s, size_t n, const char *file, int line);

/* A borrowed or owned byte range; who owns base is said where it is used. */
typedef struct gw_str_s {
    const char  *base;
    size_t       len;
} gw_str_t;

/* A header or query parameter: name and value, both borrowed views. */
typedef struct gw_kv_s {
    gw_str_t     name;
    gw_str_t     value;
} gw_kv_t;

/* ASCII case folding and case-insensitive equality of two byte ranges.
 * Not tolower/strncasecmp: those follow the locale, and strncasecmp stops
 * at a NUL inside the range. */
static inline int
gw_ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int gw_ascii_ieq(const char *a, size_t alen, const char *b, size_t blen);

/* Byte-for-byte equality of two ranges (either may have a NULL base when
 * empty). */
static inline int
gw_str_eq(gw_str_t a, gw_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.base, b.base, a.len) == 0);
}

/* Unicode characters of UTF-8 text, the unit S3's length limits count in:
 * bytes that do not continue a character. */
size_t gw_utf8_chars(gw_str_t s);

/* A growable NUL-terminated string on the heap, for texts built once per
 * request (canonical requests, strings to sign): doubling growth through
 * gw_realloc. Start from { NULL, 0, 0 }; the owner frees p with gw_free. */
typedef struct gw_sb_s {
    char    *p;
    size_t   len;
    size_t   cap;
} gw_sb_t;

void gw_sb_put(gw_sb_t *sb, const char *s, size_t n);
void gw_sb_putc(gw_sb_t *sb, char c);
/* printf onto sb; one call writes at most 511 bytes (a line of a text
 * format such as /metrics). */
void gw_sb_printf(gw_sb_t *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): exact, and free of timegm() and the TZ variable. */
int64_t gw_days_from_civil(int64_t y, int64_t m, int64_t d);

#define gw_str_lit(s)   ((gw_str_t) { (s), sizeof(s) - 1 })
#define gw_str_eq_lit(str, lit) \
    ((str).len == sizeof(lit) - 1 && memcmp((str).base, (lit), (str).len) == 0)

#endif
