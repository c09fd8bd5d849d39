/* core/log.c: error log on stderr, access log on stdout or a file. */
#include "core/log.h"
#include "core/gw.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

int          gw_log_level = GW_LOG_INFO;
/* The access log's descriptor: -1 when it is off. A descriptor and one
 * write(2) per line rather than a FILE and fwrite + fflush: the same one
 * syscall, without stdio's locking and buffer copy. */
static int   gw_access_fd = -1;
int          gw_log_access_format = GW_LOG_FORMAT_TEXT;

static const char  *gw_log_names[] = {
    "crit", "alert", "error", "warn", "notice", "info", "debug"
};

int
gw_log_level_parse(const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < GW_NELEMS(gw_log_names); i++) {
        if (strlen(gw_log_names[i]) == len
            && memcmp(gw_log_names[i], name, len) == 0)
        {
            return (int) i;
        }
    }
    return -1;
}

size_t
gw_log_escape(char *dst, size_t cap, const char *src, size_t n)
{
    static const char  hex[] = "0123456789abcdef";
    size_t             i, o = 0;
    unsigned char      c;

    if (cap == 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        c = (unsigned char) src[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (o + 1 >= cap) {
                break;
            }
            dst[o++] = (char) c;
            continue;
        }
        if (o + 4 >= cap) {
            break;
        }
        dst[o++] = '\\';
        dst[o++] = 'x';
        dst[o++] = hex[c >> 4];
        dst[o++] = hex[c & 15];
    }
    dst[o] = '\0';
    return o;
}

void
gw__log(int level, const char *ctx, int err, const char *fmt, ...)
{
    char       msg[2048], line[4096], ts[32];
    size_t     n, mlen;
    int        w;
    time_t     now = time(NULL);
    struct tm  tm;
    va_list    ap;

    va_start(ap, fmt);
    w = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* The length, not strlen: a "%.*s" of a key may hold a NUL. */
    mlen = w < 0 ? 0 : GW_MIN((size_t) w, sizeof(msg) - 1);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    w = snprintf(line, sizeof(line), "%s [%s] ", ts,
                 gw_log_names[level < 0 ? 0 : level > 6 ? 6 : level]);
    n = w < 0 ? 0 : GW_MIN((size_t) w, sizeof(line) - 1);
    /* The context and the message may carry bytes from a request (a key,
     * a header): escaped, they cannot forge a line or a terminal escape. */
    if (ctx != NULL) {
        n += gw_log_escape(line + n, sizeof(line) - n - 2, ctx, strlen(ctx));
        if (n < sizeof(line) - 3) {
            line[n++] = ':';
            line[n++] = ' ';
        }
    }
    n += gw_log_escape(line + n, sizeof(line) - n - 1, msg, mlen);
    if (err != 0 && n < sizeof(line) - 1) {
        w = snprintf(line + n, sizeof(line) - n, ": %s", gw_strerror(err));
        n = w < 0 ? n : GW_MIN(n + (size_t) w, sizeof(line) - 1);
    }
    if (n < sizeof(line)) {
        line[n++] = '\n';
    }
    /* One write(2) per line so lines from several workers do not interleave. */
    if (write(STDERR_FILENO, line, n) < 0) {
        /* Nothing sensible to do when stderr is gone. */
    }
}

/* The access log's path when it is a file, for gw_log_access_reopen. */
static char  gw_access_path[4096];

int
gw_log_access_open(const char *where)
{
    int  fd = -1;

    /* The new file is opened before the old one is closed, so that a
     * reopen that fails keeps the old one. */
    if (where != NULL && strcmp(where, "stdout") == 0) {
        fd = STDOUT_FILENO;
    } else if (where != NULL && strcmp(where, "off") != 0) {
        /* What fopen(where, "a") made. */
        fd = open(where, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (fd < 0) {
            return GW_ERROR;
        }
    }
    if (gw_access_fd > STDERR_FILENO) {
        close(gw_access_fd);
    }
    gw_access_fd = fd;
    gw_access_path[0] = '\0';
    if (fd > STDERR_FILENO) {
        snprintf(gw_access_path, sizeof(gw_access_path), "%s", where);
    }
    return GW_OK;
}

int
gw_log_access_on(void)
{
    return gw_access_fd >= 0;
}

int
gw_log_access_reopen(void)
{
    char  path[sizeof(gw_access_path)];

    if (gw_access_path[0] == '\0') {
        return GW_OK;                    /* off or stdout */
    }
    memcpy(path, gw_access_path, sizeof(path));
    return gw_log_access_open(path);
}

void
gw_log_access_write(const char *line, size_t len)
{
    /* One write per line, so lines from several workers never mix. */
    if (gw_access_fd >= 0 && write(gw_access_fd, line, len) < 0) {
        /* A full disk or a closed pipe: the request is served anyway. */
    }
}

void
gw_log_access(const char *line, size_t len)
{
    char    out[4096];
    size_t  n;

    if (gw_access_fd < 0) {
        return;
    }
    n = gw_log_escape(out, sizeof(out) - 1, line, len);
    out[n++] = '\n';
    gw_log_access_write(out, n);
}
