/* core/logjson.c: the access log as one JSON object per line
 * (access_log_format json), for log shippers. Every string is escaped so
 * that the line is valid JSON whatever bytes a client sent: quote,
 * backslash, control bytes, DEL and every byte above 0x7e become \uXXXX
 * or the short escapes, so a key that is not UTF-8 cannot break a parser
 * (a byte 0xff is written \u00ff: the value keeps every byte, read as
 * Latin-1). Lines are built in a fixed buffer; a field that does not fit is
 * cut at a whole escape, and the object is always closed. Hooked into the
 * access log with one branch (http/conn.c), apart from the text format. */
#include "core/log.h"
#include "core/gw.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

/* Each string field is cut at this many bytes before escaping (a key is
 * at most 1024 bytes anyway; a User-Agent may be far longer), so that a
 * whole line, at most 6 bytes per input byte, always fits GW_LOG_JSON_MAX
 * and no field is ever cut in the middle of its name. */
#define GW_LOGJSON_FIELD_MAX  1024

typedef struct {
    char   *buf;
    size_t  len;
    size_t  cap;      /* room kept back for the closing "}\n" */
} gw_logjson_t;

static void
gw_logjson_raw(gw_logjson_t *j, const char *s, size_t n)
{
    if (n > j->cap - j->len) {
        n = j->cap - j->len;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}

/* A JSON string of s[0..n), quotes included; NULL is null. */
static void
gw_logjson_str(gw_logjson_t *j, const char *s, size_t n)
{
    static const char  hex[] = "0123456789abcdef";
    char               e[6];
    size_t             i, el;
    unsigned char      c;

    if (s == NULL) {
        gw_logjson_raw(j, "null", 4);
        return;
    }
    n = GW_MIN(n, GW_LOGJSON_FIELD_MAX);
    j->cap -= 1;                         /* the closing quote always fits */
    gw_logjson_raw(j, "\"", 1);
    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];
        el = 2;
        e[0] = '\\';
        if (c == '"' || c == '\\') {
            e[1] = (char) c;
        } else if (c == '\n') {
            e[1] = 'n';
        } else if (c == '\r') {
            e[1] = 'r';
        } else if (c == '\t') {
            e[1] = 't';
        } else if (c < 0x20 || c >= 0x7f) {
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            el = 6;
        } else {
            e[0] = (char) c;
            el = 1;
        }
        if (el > j->cap - j->len) {
            break;                       /* cut at a whole escape */
        }
        gw_logjson_raw(j, e, el);
    }
    j->cap += 1;
    gw_logjson_raw(j, "\"", 1);
}

/* ,"name": and then a string value. */
static void
gw_logjson_field(gw_logjson_t *j, const char *name, const char *s, size_t n)
{
    gw_logjson_raw(j, ",\"", 2);
    gw_logjson_raw(j, name, strlen(name));
    gw_logjson_raw(j, "\":", 2);
    gw_logjson_str(j, s, n);
}

static void
gw_logjson_cstr(gw_logjson_t *j, const char *name, const char *s)
{
    gw_logjson_field(j, name, s, s != NULL ? strlen(s) : 0);
}

static void
gw_logjson_num(gw_logjson_t *j, const char *name, uint64_t v)
{
    char  num[32];
    int   n;

    n = snprintf(num, sizeof(num), ",\"%s\":%" PRIu64, name, v);
    if (n > 0) {
        gw_logjson_raw(j, num, GW_MIN((size_t) n, sizeof(num) - 1));
    }
}

size_t
gw_log_json_format(const gw_log_rec_t *rec, char *out)
{
    gw_logjson_t         j;
    struct timespec      ts;
    struct tm            tm;
    char                 when[40];
    size_t               n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);

    j.buf = out;
    j.len = 0;
    j.cap = GW_LOG_JSON_MAX - 2;          /* "}\n" */
    gw_logjson_raw(&j, "{\"time\":", 8);
    gw_logjson_str(&j, when, strlen(when));
    gw_logjson_cstr(&j, "remote_addr", rec->remote_addr);
    gw_logjson_num(&j, "remote_port", (uint64_t) rec->remote_port);
    gw_logjson_cstr(&j, "request_id", rec->request_id);
    gw_logjson_cstr(&j, "method", rec->method);
    gw_logjson_field(&j, "uri", rec->uri, rec->uri_len);
    gw_logjson_num(&j, "status", (uint64_t) rec->status);
    gw_logjson_num(&j, "bytes_sent", rec->bytes_sent);
    gw_logjson_num(&j, "request_time_ms", rec->request_ms);
    gw_logjson_cstr(&j, "operation", rec->operation);
    gw_logjson_field(&j, "bucket", rec->bucket, rec->bucket_len);
    gw_logjson_field(&j, "key", rec->key, rec->key_len);
    gw_logjson_cstr(&j, "user", rec->user);
    gw_logjson_cstr(&j, "access_key", rec->access_key);
    gw_logjson_field(&j, "user_agent", rec->user_agent, rec->user_agent_len);
    gw_logjson_field(&j, "referer", rec->referer, rec->referer_len);
    j.cap = GW_LOG_JSON_MAX;
    gw_logjson_raw(&j, "}\n", 2);
    return j.len;
}

void
gw_log_access_json(const gw_log_rec_t *rec)
{
    static char  line[GW_LOG_JSON_MAX];   /* the loop's thread only */
    size_t       n;

    n = gw_log_json_format(rec, line);
    gw_log_access_write(line, n);
}
