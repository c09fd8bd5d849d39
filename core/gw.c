/* core/gw.c: allocation wrappers, gw_strerror, ASCII comparison, UTF-8
 * length and calendar days. */
#include "core/gw.h"

#include <lmdb.h>
#include <stdarg.h>
#include <uv.h>

int
gw_ascii_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t  i;

    if (alen != blen) {
        return 0;
    }
    for (i = 0; i < alen; i++) {
        if (gw_ascii_lower((unsigned char) a[i])
            != gw_ascii_lower((unsigned char) b[i]))
        {
            return 0;
        }
    }
    return 1;
}

size_t
gw_utf8_chars(gw_str_t s)
{
    size_t  i, n = 0;

    for (i = 0; i < s.len; i++) {
        n += ((unsigned char) s.base[i] & 0xC0) != 0x80;
    }
    return n;
}

int64_t
gw_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t  era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void *
gw__alloc(size_t n, const char *file, int line)
{
    void  *p = malloc(n ? n : 1);

    if (p == NULL) {
        fprintf(stderr, "[crit] out of memory allocating %zu bytes at %s:%d\n",
                n, file, line);
        abort();
    }
    return p;
}

void *
gw__calloc(size_t n, size_t size, const char *file, int line)
{
    void  *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL) {
        fprintf(stderr, "[crit] out of memory allocating %zu*%zu bytes at %s:%d\n",
                n, size, file, line);
        abort();
    }
    return p;
}

void *
gw__realloc(void *p, size_t n, const char *file, int line)
{
    void  *q = realloc(p, n ? n : 1);

    if (q == NULL) {
        fprintf(stderr, "[crit] out of memory reallocating %zu bytes at %s:%d\n",
                n, file, line);
        abort();
    }
    return q;
}

char *
gw__strndup(const char *s, size_t n, const char *file, int line)
{
    char  *p = gw__alloc(n + 1, file, line);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

const char *
gw_strerror(int rc)
{
    switch (rc) {
    case GW_OK:         return "ok";
    case GW_AGAIN:      return "again";
    case GW_DONE:       return "done";
    case GW_DECLINED:   return "declined";
    case GW_ERROR:      return "error";
    case GW_ENOTFOUND:  return "not found";
    case GW_EEXIST:     return "already exists";
    case GW_ETOOBIG:    return "too big";
    case GW_EINVAL:     return "invalid argument";
    case GW_ECORRUPT:   return "corrupt record";
    case GW_ENOTEMPTY:  return "not empty";
    case GW_EPRECOND:   return "precondition failed";
    case GW_ECHECKSUM:  return "checksum mismatch";
    case GW_ENOBUCKET:  return "no such bucket";
    case GW_EFORMAT:    return "unsupported data format";
    case GW_ECONFLICT:  return "changed since it was read";
    }
    if (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE) {
        return mdb_strerror(rc);
    }
    if (rc < 0 && rc > -4096) {
        return uv_strerror(rc);
    }
    /* A plain errno, as LMDB returns them (ENOSPC from a commit). */
    if (rc > 0 && rc < 4096) {
        return uv_strerror(-rc);
    }
    return "unknown error";
}

void
gw_sb_put(gw_sb_t *sb, const char *s, size_t n)
{
    size_t  cap;

    if (sb->len + n + 1 > sb->cap) {
        cap = sb->cap ? sb->cap : 256;
        while (cap < sb->len + n + 1) {
            cap *= 2;
        }
        sb->p = gw_realloc(sb->p, cap);
        sb->cap = cap;
    }
    if (n > 0) {
        memcpy(sb->p + sb->len, s, n);
    }
    sb->len += n;
    sb->p[sb->len] = '\0';
}

void
gw_sb_putc(gw_sb_t *sb, char c)
{
    gw_sb_put(sb, &c, 1);
}

void
gw_sb_printf(gw_sb_t *sb, const char *fmt, ...)
{
    char     buf[512];
    va_list  ap;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0) {
        gw_sb_put(sb, buf, GW_MIN((size_t) n, sizeof(buf) - 1));
    }
}
