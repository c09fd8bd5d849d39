/* core/log.h: leveled logging to stderr and the access log. Owns the log
 * level and the access log stream. gw_log checks the level before it formats
 * anything. Never pass secrets, Authorization headers or signatures here. */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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

/* Opens the access log: "stdout", "off" or a file path (appended). The
 * new file is opened before the old one is closed: on failure (GW_ERROR,
 * errno set) the log in use stays. */
int gw_log_access_open(const char *where);

/* 1 when the access log is on (a line is worth formatting). */
int gw_log_access_on(void);

/* SIGUSR1 (logrotate): opens the access log's path again, so that lines
 * go to a new file once the old one was renamed; nothing is lost, as
 * every line is written whole before the signal is handled. The error log
 * is stderr, which the process does not own (the service manager or the
 * shell does), so there is nothing to reopen for it. GW_OK, or GW_ERROR
 * with the old file kept. */
int gw_log_access_reopen(void);

/* The access log format: GW_LOG_FORMAT_TEXT or GW_LOG_FORMAT_JSON. */
#define GW_LOG_FORMAT_TEXT  0
#define GW_LOG_FORMAT_JSON  1
extern int  gw_log_access_format;

/* Writes len bytes, a whole line with its newline, to the access log as
 * they are, flushed at once. */
void gw_log_access_write(const char *line, size_t len);

/* What an access log line of the json format says about one request.
 * Strings are borrowed for the call; NULL is written as null; a (ptr, len)
 * pair may hold any bytes. */
typedef struct gw_log_rec_s {
    const char  *remote_addr;
    int          remote_port;
    const char  *request_id;
    const char  *method;
    const char  *uri;            /* the target, credentials redacted */
    size_t       uri_len;
    int          status;
    uint64_t     bytes_sent;     /* response body */
    uint64_t     request_ms;
    const char  *operation;      /* S3 operation, e.g. "PutObject" */
    const char  *bucket;
    size_t       bucket_len;
    const char  *key;
    size_t       key_len;
    const char  *user;           /* the user who signed it */
    const char  *access_key;
    const char  *user_agent;
    size_t       user_agent_len;
    const char  *referer;
    size_t       referer_len;
} gw_log_rec_t;

/* core/logjson.c: rec as one JSON object and a newline into out
 * (GW_LOG_JSON_MAX bytes), with "time" (ISO 8601, UTC, milliseconds);
 * returns the length. */
#define GW_LOG_JSON_MAX  32768
size_t gw_log_json_format(const gw_log_rec_t *rec, char *out);

/* Formats rec (as above) and writes it to the access log. */
void gw_log_access_json(const gw_log_rec_t *rec);

/* One access log line (already formatted, without the newline); escaped
 * as with gw_log_escape on the way out. */
void gw_log_access(const char *line, size_t len);

/* Copies src[0..n) into dst (cap bytes, NUL-terminated) with every control
 * byte, DEL, byte above 0x7e and backslash written as \xHH, as nginx
 * writes its logs. Stops at a whole escape that would not fit. Returns the
 * length written, without the NUL. */
size_t gw_log_escape(char *dst, size_t cap, const char *src, size_t n);

#endif
