/* core/log.c: error log on stderr, access log on stdout or a file. */
#include "core/log.h"
#include "core/gw.h"

#include <time.h>
#include <unistd.h>

int          gw_log_level = GW_LOG_INFO;
static FILE *gw_access_fp;   /* NULL when the access log is off */

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

void
gw__log(int level, const char *ctx, int err, const char *fmt, ...)
{
    char       line[2048], ts[32];
    size_t     n;
    int        w;
    time_t     now = time(NULL);
    struct tm  tm;
    va_list    ap;

    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    w = snprintf(line, sizeof(line), "%s [%s] %s%s", ts,
                 gw_log_names[level < 0 ? 0 : level > 6 ? 6 : level],
                 ctx ? ctx : "", ctx ? ": " : "");
    n = w < 0 ? 0 : GW_MIN((size_t) w, sizeof(line) - 1);
    va_start(ap, fmt);
    w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    n = w < 0 ? n : GW_MIN(n + (size_t) w, sizeof(line) - 1);
    if (err != 0 && n < sizeof(line) - 1) {
        w = snprintf(line + n, sizeof(line) - n, ": %s", gw_strerror(err));
        n = w < 0 ? n : GW_MIN(n + (size_t) w, sizeof(line) - 1);
    }
    if (n < sizeof(line) - 1) {
        line[n++] = '\n';
    }
    /* One write(2) per line so lines from several workers do not interleave. */
    if (write(STDERR_FILENO, line, n) < 0) {
        /* Nothing sensible to do when stderr is gone. */
    }
}

int
gw_log_access_open(const char *where)
{
    if (gw_access_fp != NULL && gw_access_fp != stdout) {
        fclose(gw_access_fp);
    }
    gw_access_fp = NULL;
    if (where == NULL || strcmp(where, "off") == 0) {
        return GW_OK;
    }
    if (strcmp(where, "stdout") == 0) {
        gw_access_fp = stdout;
        return GW_OK;
    }
    gw_access_fp = fopen(where, "a");
    return gw_access_fp ? GW_OK : GW_ERROR;
}

void
gw_log_access(const char *line, size_t len)
{
    if (gw_access_fp == NULL) {
        return;
    }
    fwrite(line, 1, len, gw_access_fp);
    fputc('\n', gw_access_fp);
    fflush(gw_access_fp);
}
