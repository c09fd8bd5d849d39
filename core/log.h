/* core/log.h: leveled logging to stderr and the access log. Owns the log
 * level and the access log stream. gw_log checks the level before it formats
 * anything. Never pass secrets, Authorization headers or signatures here. */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define GW_LOG_CRIT    0
#define GW_LOG_ALERT   1
#define GW_LOG_ERR     2
#define GW_LOG_WARN    3
#define GW_LOG_NOTICE  4
#define GW_LOG_INFO    5
#define GW_LOG_DEBUG   6

extern int  gw_log_level;

/* Maps "crit", "alert", "error", "warn", "notice", "info", "debug" to a level;
 * returns -1 for anything else. */
int gw_log_level_parse(const char *name, size_t len);

/* Writes "time [level] ctx: message[: gw_strerror(err)]" to stderr. ctx names
 * the client and request ("127.0.0.1:5512 req 1A2B...") or is NULL. err is 0
 * or a return code to name. ctx and the message are escaped as with
 * gw_log_escape, so a key or header that came from a request can never
 * start a line of its own. */
#define gw_log(level, ctx, err, ...)                                        \
    do {                                                                    \
        if ((level) <= gw_log_level) {                                      \
            gw__log((level), (ctx), (err), __VA_ARGS__);                    \
        }                                                                   \
    } while (0)

void gw__log(int level, const char *ctx, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Opens the access log: "stdout", "off" or a file path (appended). */
int gw_log_access_open(const char *where);

/* 1 when the access log is on (a line is worth formatting). */
int gw_log_access_on(void);

/* One access log line (already formatted, without the newline); escaped
 * as with gw_log_escape on the way out. */
void gw_log_access(const char *line, size_t len);

/* Copies src[0..n) into dst (cap bytes, NUL-terminated) with every control
 * byte, DEL, byte above 0x7e and backslash written as \xHH, as nginx
 * writes its logs. Stops at a whole escape that would not fit. Returns the
 * length written, without the NUL. */
size_t gw_log_escape(char *dst, size_t cap, const char *src, size_t n);

#endif
