/* core/conf.c: the s3gw.conf reader. A small lexer turns the text into words
 * and the punctuation ; { }, and a directive table (nginx's ngx_command_t,
 * Redis's typed config table) says for each directive where it may appear,
 * how many arguments it takes, which typed setter stores it at which offset,
 * its default and its bounds. Adding a directive is one table row.
 *
 * String defaults point at the static text in the table instead of being
 * copied, so gw_conf_init allocates nothing and cannot leak; gw_conf_free
 * knows a default by comparing pointers with the table. */
#include "core/gw.h"
#include "core/conf.h"
#include "core/hash.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>

#define GW_CONF_MAX_ARGS    8

#define GW_CONF_SWAP(type, a, b)  do { type t_ = (a); (a) = (b); (b) = t_; } \
                                  while (0)
#define GW_CONF_MAX_FILE    (1024 * 1024)

/* Directive type bits: how many arguments (bit n allows n), the contexts it
 * may appear in, and what it is. */
#define GW_CONF_TAKE0       0x0001
#define GW_CONF_TAKE1       0x0002
#define GW_CONF_TAKE2       0x0004
#define GW_CONF_TAKE3       0x0008
#define GW_CONF_MAIN        0x0100   /* top level */
#define GW_CONF_USER        0x0200   /* inside user NAME { } */
#define GW_CONF_BLOCK       0x0400   /* opens a { } block */
#define GW_CONF_STRING      0x0800   /* the slot is a char * with a static
                                      * default; see the file comment */
#define GW_CONF_SECRET      0x1000   /* never echo the value in errors */
#define GW_CONF_TARGET      0x2000   /* inside replication_target NAME { } */
#define GW_CONF_1MORE       0x4000   /* one argument or more (up to
                                      * GW_CONF_MAX_ARGS) */
#define GW_CONF_CORS        0x8000   /* inside cors_default { } */

#define GW_CONF_SRC_DEFAULT (-1)
#define GW_CONF_SRC_FILE    0
#define GW_CONF_SRC_CMDLINE 1

#define GW_CONF_EMBEDDED    "(embedded)"
#define GW_CONF_CMDLINE     "(command line)"

/* The source name of the embedded text; compared by pointer. */
static const char  gw_conf_embedded_name[] = GW_CONF_EMBEDDED;

typedef struct gw_conf_parse_s    gw_conf_parse_t;

/* Users replaced by a reload (gw_conf_t.retired). */
typedef struct gw_conf_retired_s {
    gw_conf_user_t            *users;
    size_t                     nusers;
    struct gw_conf_retired_s  *next;
} gw_conf_retired_t;
typedef struct gw_conf_command_s  gw_conf_command_t;

typedef int (*gw_conf_set_pt)(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);

struct gw_conf_command_s {
    const char      *name;
    unsigned         type;     /* GW_CONF_TAKE*, contexts and kind bits */
    gw_conf_set_pt   set;
    size_t           offset;   /* into gw_conf_t or gw_conf_user_t */
    uint64_t         min;      /* bounds: the value, or a string's length */
    uint64_t         max;
    const char      *def;      /* the default, as config text; NULL: none */
};

/* Where a directive was last set, for checks that involve two of them. */
typedef struct {
    const char  *src;
    int          line;
    unsigned     seq;          /* 0: never set */
} gw_conf_where_t;

enum {
    GW_CONF_TOK_WORD,
    GW_CONF_TOK_SEMI,
    GW_CONF_TOK_LBRACE,
    GW_CONF_TOK_RBRACE,
    GW_CONF_TOK_EOF,
    GW_CONF_TOK_ERROR
};

struct gw_conf_parse_s {
    gw_conf_t        *cf;
    const char       *src;         /* the source's name in errors */
    int               srcno;       /* GW_CONF_SRC_* */
    int               listen_src;  /* the source the listens came from */
    int               proxy_src;   /* and the trusted proxies */
    const char       *ssl_src;     /* where the first `listen ... ssl` of */
    int               ssl_line;    /* the listens in force is; NULL: none */
    char             *buf;         /* a private, mutable copy of the text */
    size_t            len;
    size_t            pos;
    int               line;        /* the lexer's current line */
    int               dline;       /* the line of the current directive */
    int               tline;       /* the line of the last token */
    char             *err;
    size_t            errlen;
    unsigned          seq;
    gw_conf_where_t  *where;       /* one per table row */
};

static int gw_conf_set_str(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_name(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_host(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_flag(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_size(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_size64(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_msec(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_num(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_log_level(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_ownership(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_log_format(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_listen(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_status_listen(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_user(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_protocols(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_access_key(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_canonical_id(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_account_id(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_trusted_proxy(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_num_auto(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_target(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_endpoint(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_buckets(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_file(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_cors(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs);
static int gw_conf_set_cors_list(gw_conf_parse_t *p,
    const gw_conf_command_t *cmd, void *conf, gw_str_t *args, size_t nargs);

#define GW_K  1024ull
#define GW_M  (1024ull * 1024)
#define GW_G  (1024ull * 1024 * 1024)
#define GW_T  (1024ull * 1024 * 1024 * 1024)
#define GW_S  1000ull
#define GW_H  (3600ull * 1000)
#define GW_D  (86400ull * 1000)

#define GW_MAIN1    (GW_CONF_MAIN | GW_CONF_TAKE1)
#define GW_USER1    (GW_CONF_USER | GW_CONF_TAKE1)
#define GW_TARGET1  (GW_CONF_TARGET | GW_CONF_TAKE1)
#define GW_CF(f)    offsetof(gw_conf_t, f)
#define GW_UF(f)    offsetof(gw_conf_user_t, f)
#define GW_TF(f)    offsetof(gw_conf_target_t, f)
#define GW_RF(f)    offsetof(gw_conf_cors_t, f)

/* What the values of a cors_default list are (the row's min). */
#define GW_CONF_CORS_ORIGIN  1
#define GW_CONF_CORS_METHOD  2
#define GW_CONF_CORS_HEADER  3
#define GW_CONF_CORS_EXPOSE  4

/* Every directive. Bounds of strings are byte lengths. The defaults are
 * what s3gw.conf.example says; test_conf checks that the two agree. */
static const gw_conf_command_t  gw_conf_commands[] = {
    { "listen", GW_MAIN1 | GW_CONF_TAKE2 | GW_CONF_TAKE3, gw_conf_set_listen, 0, 0, 0,
      "127.0.0.1:9000" },
    { "status_listen", GW_MAIN1 | GW_CONF_TAKE1, gw_conf_set_status_listen,
      0, 0, 0, NULL },
    { "ssl_certificate", GW_MAIN1 | GW_CONF_STRING, gw_conf_set_file,
      GW_CF(ssl_certificate), 1, 4095, NULL },
    { "ssl_certificate_key", GW_MAIN1 | GW_CONF_STRING, gw_conf_set_file,
      GW_CF(ssl_certificate_key), 1, 4095, NULL },
    { "ssl_protocols", GW_CONF_MAIN | GW_CONF_1MORE, gw_conf_set_protocols,
      GW_CF(ssl_protocols), 0, 0, "TLSv1.2 TLSv1.3" },
    { "ssl_ciphers", GW_MAIN1 | GW_CONF_STRING, gw_conf_set_str,
      GW_CF(ssl_ciphers), 1, 4095, NULL },
    { "data_dir", GW_MAIN1 | GW_CONF_STRING, gw_conf_set_str,
      GW_CF(data_dir), 1, 4095, "./data" },
    { "region", GW_MAIN1 | GW_CONF_STRING, gw_conf_set_name,
      GW_CF(region), 1, GW_CONF_REGION_MAX, "us-east-1" },
    { "server_name", GW_MAIN1 | GW_CONF_STRING, gw_conf_set_host,
      GW_CF(server_name), 1, 253, NULL },
    { "website_domain", GW_MAIN1 | GW_CONF_STRING, gw_conf_set_host,
      GW_CF(website_domain), 1, 253, NULL },
    { "fsync", GW_MAIN1, gw_conf_set_flag, GW_CF(fsync), 0, 1, "on" },
    { "log_level", GW_MAIN1, gw_conf_set_log_level, GW_CF(log_level),
      0, 0, "info" },
    { "access_log", GW_MAIN1 | GW_CONF_STRING, gw_conf_set_str,
      GW_CF(access_log), 1, 4095, "stdout" },
    { "access_log_format", GW_MAIN1, gw_conf_set_log_format,
      GW_CF(access_log_format), 0, 0, "text" },
    { "chunk_size", GW_MAIN1, gw_conf_set_size, GW_CF(chunk_size),
      64 * GW_K, 64 * GW_M, "4m" },
    { "inline_max", GW_MAIN1, gw_conf_set_size, GW_CF(inline_max),
      0, 256 * GW_K, "4k" },
    { "upload_memory", GW_MAIN1, gw_conf_set_size, GW_CF(upload_memory),
      4 * GW_M, 64 * GW_G, "32m" },
    { "max_header_size", GW_MAIN1, gw_conf_set_size, GW_CF(max_header_size),
      GW_K, GW_M, "16k" },
    { "max_headers", GW_MAIN1, gw_conf_set_num, GW_CF(max_headers),
      8, 1000, "100" },
    { "max_url", GW_MAIN1, gw_conf_set_size, GW_CF(max_url),
      256, 64 * GW_K, "8k" },
    { "max_object_size", GW_MAIN1, gw_conf_set_size64,
      GW_CF(max_object_size), GW_K, 5 * GW_T, "5g" },
    { "index_max_size", GW_MAIN1, gw_conf_set_size64,
      GW_CF(index_max_size), 16 * GW_M, 64 * GW_T, "64g" },
    { "header_timeout", GW_MAIN1, gw_conf_set_msec,
      GW_CF(header_timeout_ms), 100, GW_H, "30s" },
    { "idle_timeout", GW_MAIN1, gw_conf_set_msec, GW_CF(idle_timeout_ms),
      100, GW_D, "60s" },
    { "client_body_timeout", GW_MAIN1, gw_conf_set_msec,
      GW_CF(client_body_timeout_ms), 100, GW_D, "60s" },
    { "shutdown_timeout", GW_MAIN1, gw_conf_set_msec,
      GW_CF(shutdown_timeout_ms), 0, GW_H, "10s" },
    { "gc_interval", GW_MAIN1, gw_conf_set_msec, GW_CF(gc_interval_ms),
      10, GW_H, "2s" },
    { "multipart_expire", GW_MAIN1, gw_conf_set_msec,
      GW_CF(multipart_expire_ms), 0, 3650 * GW_D, "7d" },
    { "complete_keepalive", GW_MAIN1, gw_conf_set_msec,
      GW_CF(complete_keepalive_ms), 0, GW_H, "5s" },
    { "lifecycle_day", GW_MAIN1, gw_conf_set_msec, GW_CF(lifecycle_day_ms),
      GW_S, GW_D, "1d" },
    { "max_connections", GW_MAIN1, gw_conf_set_num, GW_CF(max_connections),
      1, 100000, "1024" },
    { "limit_conn_per_ip", GW_MAIN1, gw_conf_set_num_auto,
      GW_CF(limit_conn_per_ip), 1, 100000, "auto" },
    { "worker_processes", GW_MAIN1, gw_conf_set_num_auto,
      GW_CF(worker_processes), 1, 64, "auto" },
    { "trusted_proxy", GW_MAIN1, gw_conf_set_trusted_proxy, 0, 0, 0, NULL },
    { "default_object_ownership", GW_MAIN1, gw_conf_set_ownership,
      GW_CF(default_object_ownership), 0, 0, "ObjectWriter" },
    { "user", GW_MAIN1 | GW_CONF_BLOCK, gw_conf_set_user, 0, 1,
      GW_CONF_USER_NAME_MAX, NULL },

    { "access_key", GW_USER1, gw_conf_set_access_key, GW_UF(access_key),
      1, 128, NULL },
    { "secret_key", GW_USER1 | GW_CONF_SECRET, gw_conf_set_str,
      GW_UF(secret_key), 1, 256, NULL },
    { "display_name", GW_USER1, gw_conf_set_str, GW_UF(display_name),
      1, 256, NULL },
    { "canonical_id", GW_USER1, gw_conf_set_canonical_id,
      GW_UF(canonical_id), 64, 64, NULL },
    { "account_id", GW_USER1, gw_conf_set_account_id, GW_UF(account_id),
      12, 12, NULL },
    { "email", GW_USER1, gw_conf_set_str, GW_UF(email), 3, 254, NULL },

    /* A name may come back in another context with its own row: the row
     * of the context being read wins (gw_conf_find). */
    { "replication_target", GW_MAIN1 | GW_CONF_BLOCK, gw_conf_set_target, 0,
      1, 64, NULL },
    { "endpoint", GW_TARGET1, gw_conf_set_endpoint, GW_TF(endpoint),
      1, 1024, NULL },
    { "access_key", GW_TARGET1, gw_conf_set_str, GW_TF(access_key),
      1, 128, NULL },
    { "secret_key", GW_TARGET1 | GW_CONF_SECRET, gw_conf_set_str,
      GW_TF(secret_key), 1, 256, NULL },
    { "region", GW_TARGET1, gw_conf_set_name, GW_TF(region),
      1, GW_CONF_REGION_MAX, NULL },
    { "buckets", GW_CONF_TARGET | GW_CONF_1MORE, gw_conf_set_buckets, 0,
      1, 63, NULL },
    { "tls_verify", GW_TARGET1, gw_conf_set_flag, GW_TF(tls_verify),
      0, 1, NULL },
    { "ca_file", GW_TARGET1, gw_conf_set_file, GW_TF(ca_file),
      1, 4095, NULL },
    { "max_connections", GW_TARGET1, gw_conf_set_num,
      GW_TF(max_connections), 1, 1024, NULL },

    /* The list rows' offset is the array; the count follows it. min is
     * what the values are (gw_conf_set_cors_list). */
    { "cors_default", GW_CONF_MAIN | GW_CONF_TAKE0 | GW_CONF_BLOCK,
      gw_conf_set_cors, 0, 0, 0, NULL },
    { "allowed_origin", GW_CONF_CORS | GW_CONF_1MORE, gw_conf_set_cors_list,
      GW_RF(origins), GW_CONF_CORS_ORIGIN, 4096, NULL },
    { "allowed_method", GW_CONF_CORS | GW_CONF_1MORE, gw_conf_set_cors_list,
      GW_RF(methods), GW_CONF_CORS_METHOD, 6, NULL },
    { "allowed_header", GW_CONF_CORS | GW_CONF_1MORE, gw_conf_set_cors_list,
      GW_RF(headers), GW_CONF_CORS_HEADER, 1024, NULL },
    { "expose_header", GW_CONF_CORS | GW_CONF_1MORE, gw_conf_set_cors_list,
      GW_RF(expose), GW_CONF_CORS_EXPOSE, 1024, NULL },
    { "max_age", GW_CONF_CORS | GW_CONF_TAKE1, gw_conf_set_num,
      GW_RF(max_age), 0, 2147483647, NULL },
};

#define GW_CONF_NCOMMANDS  GW_NELEMS(gw_conf_commands)


/* ==== Errors ==== */

/* Copies s into dst for an error message: at most about 40 bytes, with
 * control and non-ASCII bytes as \xNN, so garbage input cannot garble the
 * terminal or the log. */
static const char *
gw_conf_quote(char *dst, size_t cap, const char *s, size_t n)
{
    static const char  hex[] = "0123456789abcdef";
    size_t             i, o = 0;
    unsigned char      c;

    for (i = 0; i < n; i++) {
        if (o + 8 >= cap || i >= 40) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        c = (unsigned char) s[i];
        if (c < 0x20 || c >= 0x7f) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        } else {
            dst[o++] = (char) c;
        }
    }
    dst[o] = '\0';
    return dst;
}

static int
gw_conf_error_at(gw_conf_parse_t *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
gw_conf_error_at(gw_conf_parse_t *p, int line, const char *fmt, ...)
{
    va_list  ap;
    int      n;

    if (p->err == NULL || p->errlen == 0) {
        return GW_EINVAL;
    }
    if (line > 0) {
        n = snprintf(p->err, p->errlen, "%s:%d: ", p->src, line);
    } else {
        n = snprintf(p->err, p->errlen, "%s: ", p->src);
    }
    if (n >= 0 && (size_t) n < p->errlen) {
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t) n, fmt, ap);
        va_end(ap);
    }
    return GW_EINVAL;
}

/* "invalid size "12q" in "chunk_size"", hiding secrets. */
static int
gw_conf_invalid(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    const char *what, gw_str_t v, const char *hint)
{
    char  q[64];

    if (cmd->type & GW_CONF_SECRET) {
        return gw_conf_error_at(p, p->dline, "invalid %s in \"%s\"%s", what,
                                cmd->name, hint);
    }
    return gw_conf_error_at(p, p->dline, "invalid %s \"%s\" in \"%s\"%s",
                            what, gw_conf_quote(q, sizeof(q), v.base, v.len),
                            cmd->name, hint);
}


/* ==== Lexer ==== */

static int
gw_conf_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'
           || c == '\v';
}

static int
gw_conf_is_special(char c)
{
    return c == ';' || c == '{' || c == '}';
}

/* Reads a quoted string whose opening quote is at p->pos, unescaping it in
 * place (the result is never longer than the source). */
static int
gw_conf_lex_quoted(gw_conf_parse_t *p, gw_str_t *tok)
{
    char   quote = p->buf[p->pos];
    char  *w = p->buf + p->pos, *start = w, c;
    int    line = p->line;
    char   q[16];

    p->pos++;
    for ( ;; ) {
        if (p->pos >= p->len) {
            return gw_conf_error_at(p, line, "unexpected end of file in "
                                    "the string that starts here");
        }
        c = p->buf[p->pos++];
        if (c == quote) {
            break;
        }
        if (c == '\n') {
            p->line++;
        }
        if (c == '\\' && p->pos < p->len) {
            c = p->buf[p->pos++];
            switch (c) {
            case 'n':  c = '\n'; break;
            case 't':  c = '\t'; break;
            case 'r':  c = '\r'; break;
            case '\\': case '"': case '\'':
                break;
            default:
                /* As nginx: an unknown escape keeps its backslash, so
                 * Windows paths and regexes survive. */
                if (c == '\n') {
                    p->line++;
                }
                *w++ = '\\';
                break;
            }
        }
        *w++ = c;
    }
    if (p->pos < p->len && !gw_conf_is_space(p->buf[p->pos])
        && !gw_conf_is_special(p->buf[p->pos]))
    {
        return gw_conf_error_at(p, p->line, "unexpected \"%s\" after a "
                                "quoted string",
                                gw_conf_quote(q, sizeof(q), p->buf + p->pos,
                                              1));
    }
    tok->base = start;
    tok->len = (size_t) (w - start);
    return GW_OK;
}

/* The next token: its type, its text in tok (a view into p->buf) and its
 * line in p->tline. */
static int
gw_conf_lex(gw_conf_parse_t *p, gw_str_t *tok)
{
    char    c;
    size_t  start;

    tok->base = "";
    tok->len = 0;
    for ( ;; ) {
        if (p->pos >= p->len) {
            p->tline = p->line;
            return GW_CONF_TOK_EOF;
        }
        c = p->buf[p->pos];
        if (c == '\n') {
            p->line++;
            p->pos++;
        } else if (gw_conf_is_space(c)) {
            p->pos++;
        } else if (c == '#') {
            while (p->pos < p->len && p->buf[p->pos] != '\n') {
                p->pos++;
            }
        } else {
            break;
        }
    }
    p->tline = p->line;
    switch (c) {
    case ';':
        p->pos++;
        return GW_CONF_TOK_SEMI;
    case '{':
        p->pos++;
        return GW_CONF_TOK_LBRACE;
    case '}':
        p->pos++;
        return GW_CONF_TOK_RBRACE;
    case '"':
    case '\'':
        if (gw_conf_lex_quoted(p, tok) != GW_OK) {
            return GW_CONF_TOK_ERROR;
        }
        return GW_CONF_TOK_WORD;
    }
    /* A bare word runs to whitespace or ; { }. A '#' or a quote inside it
     * is an ordinary character, as in nginx. */
    start = p->pos;
    while (p->pos < p->len && !gw_conf_is_space(p->buf[p->pos])
           && !gw_conf_is_special(p->buf[p->pos]))
    {
        p->pos++;
    }
    tok->base = p->buf + start;
    tok->len = p->pos - start;
    return GW_CONF_TOK_WORD;
}

static const char *
gw_conf_tok_name(int t)
{
    switch (t) {
    case GW_CONF_TOK_SEMI:    return ";";
    case GW_CONF_TOK_LBRACE:  return "{";
    case GW_CONF_TOK_RBRACE:  return "}";
    default:                  return "end of file";
    }
}


/* ==== Directives ==== */

/* The row of directive name for context ctx, or else its first row (which
 * the caller finds not allowed there), or NULL. */
static const gw_conf_command_t *
gw_conf_find(gw_str_t name, unsigned ctx)
{
    const gw_conf_command_t  *first = NULL;
    size_t                    i;

    for (i = 0; i < GW_CONF_NCOMMANDS; i++) {
        if (strlen(gw_conf_commands[i].name) == name.len
            && memcmp(gw_conf_commands[i].name, name.base, name.len) == 0)
        {
            if (gw_conf_commands[i].type & ctx) {
                return &gw_conf_commands[i];
            }
            if (first == NULL) {
                first = &gw_conf_commands[i];
            }
        }
    }
    return first;
}

/* Reads directives until the end of the text (ctx GW_CONF_MAIN) or the
 * closing brace (a block's context). conf is the struct the setters write
 * to. */
static int
gw_conf_parse_block(gw_conf_parse_t *p, unsigned ctx, void *conf)
{
    const gw_conf_command_t  *cmd;
    gw_str_t                  name, args[GW_CONF_MAX_ARGS], tok;
    size_t                    nargs;
    int                       t;
    char                      q[64];

    for ( ;; ) {
        t = gw_conf_lex(p, &name);
        switch (t) {
        case GW_CONF_TOK_ERROR:
            return GW_EINVAL;
        case GW_CONF_TOK_EOF:
            if (ctx != GW_CONF_MAIN) {
                return gw_conf_error_at(p, p->tline, "unexpected end of file,"
                                        " expecting \"}\"");
            }
            return GW_OK;
        case GW_CONF_TOK_RBRACE:
            if (ctx != GW_CONF_MAIN) {
                return GW_OK;
            }
            /* fall through */
        case GW_CONF_TOK_SEMI:
        case GW_CONF_TOK_LBRACE:
            return gw_conf_error_at(p, p->tline, "unexpected \"%s\"",
                                    gw_conf_tok_name(t));
        }

        p->dline = p->tline;
        nargs = 0;
        while ((t = gw_conf_lex(p, &tok)) == GW_CONF_TOK_WORD) {
            if (nargs < GW_CONF_MAX_ARGS) {
                args[nargs] = tok;
            }
            nargs++;
        }
        if (t == GW_CONF_TOK_ERROR) {
            return GW_EINVAL;
        }

        cmd = gw_conf_find(name, ctx);
        if (cmd == NULL) {
            return gw_conf_error_at(p, p->dline, "unknown directive \"%s\"",
                                    gw_conf_quote(q, sizeof(q), name.base,
                                                  name.len));
        }
        if (!(cmd->type & ctx)) {
            return gw_conf_error_at(p, p->dline, "\"%s\" directive is not "
                                    "allowed here", cmd->name);
        }
        if (cmd->type & GW_CONF_BLOCK) {
            if (t != GW_CONF_TOK_LBRACE) {
                return gw_conf_error_at(p, p->dline, "directive \"%s\" has "
                                        "no opening \"{\"", cmd->name);
            }
        } else if (t != GW_CONF_TOK_SEMI) {
            return gw_conf_error_at(p, p->dline, "directive \"%s\" has no "
                                    "\";\"", cmd->name);
        }
        if (nargs > GW_CONF_MAX_ARGS
            || ((cmd->type & GW_CONF_1MORE) ? nargs == 0
                                             : !(cmd->type & (1u << nargs))))
        {
            return gw_conf_error_at(p, p->dline, "invalid number of "
                                    "arguments in \"%s\" directive",
                                    cmd->name);
        }
        if (cmd->set(p, cmd, conf, args, nargs) != GW_OK) {
            return GW_EINVAL;
        }
        p->where[cmd - gw_conf_commands].src = p->src;
        p->where[cmd - gw_conf_commands].line = p->dline;
        p->where[cmd - gw_conf_commands].seq = ++p->seq;
    }
}


/* ==== Setters ==== */

static char **
gw_conf_str_slot(const gw_conf_command_t *cmd, void *conf)
{
    return (char **) ((char *) conf + cmd->offset);
}

/* Replaces a string slot, freeing the old value unless it is the table's
 * static default. */
static void
gw_conf_str_store(const gw_conf_command_t *cmd, void *conf, const char *s,
    size_t n)
{
    char  **slot = gw_conf_str_slot(cmd, conf);

    if (*slot != NULL && *slot != cmd->def) {
        gw_free(*slot);
    }
    *slot = gw_strndup(s, n);
}

static int
gw_conf_check_len(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    gw_str_t v)
{
    if (v.len < cmd->min || v.len > cmd->max) {
        if (cmd->min == cmd->max) {
            return gw_conf_error_at(p, p->dline, "\"%s\" must be %llu "
                                    "characters long", cmd->name,
                                    (unsigned long long) cmd->min);
        }
        return gw_conf_error_at(p, p->dline, "\"%s\" must be %llu to %llu "
                                "characters long", cmd->name,
                                (unsigned long long) cmd->min,
                                (unsigned long long) cmd->max);
    }
    return GW_OK;
}

/* Any text without control characters (UTF-8 is fine). */
static int
gw_conf_set_str(gw_conf_parse_t *p, const gw_conf_command_t *cmd, void *conf,
    gw_str_t *args, size_t nargs)
{
    size_t  i;

    if (gw_conf_check_len(p, cmd, args[0]) != GW_OK) {
        return GW_EINVAL;
    }
    for (i = 0; i < args[0].len; i++) {
        if ((unsigned char) args[0].base[i] < 0x20
            || args[0].base[i] == 0x7f)
        {
            return gw_conf_invalid(p, cmd, "character", args[0],
                                   " (control characters are not allowed)");
        }
        /* A secret is typed into clients; keep it to printable ASCII. */
        if ((cmd->type & GW_CONF_SECRET)
            && (unsigned char) args[0].base[i] >= 0x80)
        {
            return gw_conf_invalid(p, cmd, "value", args[0],
                                   " (use printable ASCII)");
        }
    }
    gw_conf_str_store(cmd, conf, args[0].base, args[0].len);
    return GW_OK;
}

/* Letters, digits, '-' and '_': a region appears in SigV4 credential scopes,
 * where a '/' would split it. */
static int
gw_conf_set_name(gw_conf_parse_t *p, const gw_conf_command_t *cmd, void *conf,
    gw_str_t *args, size_t nargs)
{
    size_t  i;
    char    c;

    if (gw_conf_check_len(p, cmd, args[0]) != GW_OK) {
        return GW_EINVAL;
    }
    for (i = 0; i < args[0].len; i++) {
        c = args[0].base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return gw_conf_invalid(p, cmd, "value", args[0],
                                   " (use letters, digits, \"-\" and \"_\")");
        }
    }
    gw_conf_str_store(cmd, conf, args[0].base, args[0].len);
    return GW_OK;
}

/* A DNS name, stored lowercase since Host headers compare without case. */
static int
gw_conf_set_host(gw_conf_parse_t *p, const gw_conf_command_t *cmd, void *conf,
    gw_str_t *args, size_t nargs)
{
    gw_str_t  v = args[0];
    size_t    i;
    char      c, **slot;

    if (gw_conf_check_len(p, cmd, v) != GW_OK) {
        return GW_EINVAL;
    }
    for (i = 0; i < v.len; i++) {
        c = v.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '.'))
        {
            return gw_conf_invalid(p, cmd, "host name", v, "");
        }
    }
    if (v.base[0] == '.' || v.base[v.len - 1] == '.') {
        return gw_conf_invalid(p, cmd, "host name", v, "");
    }
    gw_conf_str_store(cmd, conf, v.base, v.len);
    slot = gw_conf_str_slot(cmd, conf);
    for (i = 0; i < v.len; i++) {
        if ((*slot)[i] >= 'A' && (*slot)[i] <= 'Z') {
            (*slot)[i] += 'a' - 'A';
        }
    }
    return GW_OK;
}


static int
gw_conf_set_flag(gw_conf_parse_t *p, const gw_conf_command_t *cmd, void *conf,
    gw_str_t *args, size_t nargs)
{
    int  *slot = (int *) ((char *) conf + cmd->offset);

    if (gw_ascii_ieq(args[0].base, args[0].len, "on", 2)) {
        *slot = 1;
    } else if (gw_ascii_ieq(args[0].base, args[0].len, "off", 3)) {
        *slot = 0;
    } else {
        return gw_conf_invalid(p, cmd, "value", args[0],
                               ", it must be \"on\" or \"off\"");
    }
    return GW_OK;
}

static int
gw_conf_set_log_level(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    int  level = gw_log_level_parse(args[0].base, args[0].len);

    if (level < 0) {
        return gw_conf_invalid(p, cmd, "log level", args[0],
                               " (use crit, alert, error, warn, notice, info "
                               "or debug)");
    }
    *(int *) ((char *) conf + cmd->offset) = level;
    return GW_OK;
}

/* S3's names of the Object Ownership settings, case-sensitive as S3
 * takes them in x-amz-object-ownership. */
static int
gw_conf_set_log_format(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    int  v;

    if (gw_str_eq_lit(args[0], "text")) {
        v = GW_CONF_LOG_TEXT;
    } else if (gw_str_eq_lit(args[0], "json")) {
        v = GW_CONF_LOG_JSON;
    } else {
        return gw_conf_invalid(p, cmd, "format", args[0],
                               " (use text or json)");
    }
    *(int *) ((char *) conf + cmd->offset) = v;
    return GW_OK;
}

static int
gw_conf_set_ownership(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    int  v;

    if (gw_str_eq_lit(args[0], "ObjectWriter")) {
        v = GW_CONF_OWNERSHIP_WRITER;
    } else if (gw_str_eq_lit(args[0], "BucketOwnerPreferred")) {
        v = GW_CONF_OWNERSHIP_PREFERRED;
    } else if (gw_str_eq_lit(args[0], "BucketOwnerEnforced")) {
        v = GW_CONF_OWNERSHIP_ENFORCED;
    } else {
        return gw_conf_invalid(p, cmd, "setting", args[0],
                               " (use ObjectWriter, BucketOwnerPreferred or "
                               "BucketOwnerEnforced)");
    }
    *(int *) ((char *) conf + cmd->offset) = v;
    return GW_OK;
}

/* Parses leading decimal digits of v into *out; returns how many there were,
 * or 0 if none or on overflow. */
static size_t
gw_conf_digits(gw_str_t v, uint64_t *out)
{
    uint64_t  n = 0;
    size_t    i;
    unsigned  d;

    for (i = 0; i < v.len && v.base[i] >= '0' && v.base[i] <= '9'; i++) {
        d = (unsigned) (v.base[i] - '0');
        if (n > (UINT64_MAX - d) / 10) {
            return 0;
        }
        n = n * 10 + d;
    }
    *out = n;
    return i;
}

/* Formats a byte count with the largest suffix that divides it. */
static const char *
gw_conf_fmt_size(char *dst, size_t cap, uint64_t v)
{
    static const struct { uint64_t unit; char c; } u[] = {
        { GW_T, 't' }, { GW_G, 'g' }, { GW_M, 'm' }, { GW_K, 'k' }
    };
    size_t  i;

    for (i = 0; v != 0 && i < GW_NELEMS(u); i++) {
        if (v % u[i].unit == 0) {
            snprintf(dst, cap, "%llu%c", (unsigned long long) (v / u[i].unit),
                     u[i].c);
            return dst;
        }
    }
    snprintf(dst, cap, "%llu", (unsigned long long) v);
    return dst;
}

static const char *
gw_conf_fmt_msec(char *dst, size_t cap, uint64_t v)
{
    static const struct { uint64_t unit; const char *s; } u[] = {
        { GW_D, "d" }, { GW_H, "h" }, { 60 * GW_S, "m" }, { GW_S, "s" }
    };
    size_t  i;

    for (i = 0; v != 0 && i < GW_NELEMS(u); i++) {
        if (v % u[i].unit == 0) {
            snprintf(dst, cap, "%llu%s", (unsigned long long) (v / u[i].unit),
                     u[i].s);
            return dst;
        }
    }
    snprintf(dst, cap, v == 0 ? "0" : "%llums", (unsigned long long) v);
    return dst;
}

/* "1024", "64k", "4M", "5g", "1t": powers of 1024. */
static int
gw_conf_parse_size(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    gw_str_t v, uint64_t *out)
{
    uint64_t  n, mult = 1;
    size_t    i;
    char      lo[24], hi[24], q[64];

    i = gw_conf_digits(v, &n);
    if (i == 0) {
        return gw_conf_invalid(p, cmd, "size", v, "");
    }
    if (i + 1 == v.len) {
        switch (v.base[i]) {
        case 'k': case 'K': mult = GW_K; break;
        case 'm': case 'M': mult = GW_M; break;
        case 'g': case 'G': mult = GW_G; break;
        case 't': case 'T': mult = GW_T; break;
        default:
            return gw_conf_invalid(p, cmd, "size", v, "");
        }
    } else if (i != v.len) {
        return gw_conf_invalid(p, cmd, "size", v, "");
    }
    if (n > UINT64_MAX / mult || n * mult < cmd->min || n * mult > cmd->max) {
        return gw_conf_error_at(p, p->dline, "size \"%s\" in \"%s\" is out "
                                "of range (%s..%s)",
                                gw_conf_quote(q, sizeof(q), v.base, v.len),
                                cmd->name,
                                gw_conf_fmt_size(lo, sizeof(lo), cmd->min),
                                gw_conf_fmt_size(hi, sizeof(hi), cmd->max));
    }
    *out = n * mult;
    return GW_OK;
}

static int
gw_conf_set_size(gw_conf_parse_t *p, const gw_conf_command_t *cmd, void *conf,
    gw_str_t *args, size_t nargs)
{
    uint64_t  v;

    if (gw_conf_parse_size(p, cmd, args[0], &v) != GW_OK) {
        return GW_EINVAL;
    }
    *(size_t *) ((char *) conf + cmd->offset) = (size_t) v;
    return GW_OK;
}

static int
gw_conf_set_size64(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    uint64_t  v;

    if (gw_conf_parse_size(p, cmd, args[0], &v) != GW_OK) {
        return GW_EINVAL;
    }
    *(uint64_t *) ((char *) conf + cmd->offset) = v;
    return GW_OK;
}

/* "500ms", "30s", "2m", "1h", "1d"; a plain number is seconds. */
static int
gw_conf_set_msec(gw_conf_parse_t *p, const gw_conf_command_t *cmd, void *conf,
    gw_str_t *args, size_t nargs)
{
    gw_str_t     v = args[0];
    gw_str_t     unit;
    uint64_t     n, mult;
    size_t       i;

    i = gw_conf_digits(v, &n);
    if (i == 0) {
        return gw_conf_invalid(p, cmd, "time", v, "");
    }
    unit.base = v.base + i;
    unit.len = v.len - i;
    if (unit.len == 0 || gw_str_eq_lit(unit, "s")) {
        mult = GW_S;
    } else if (gw_str_eq_lit(unit, "ms")) {
        mult = 1;
    } else if (gw_str_eq_lit(unit, "m")) {
        mult = 60 * GW_S;
    } else if (gw_str_eq_lit(unit, "h")) {
        mult = GW_H;
    } else if (gw_str_eq_lit(unit, "d")) {
        mult = GW_D;
    } else {
        return gw_conf_invalid(p, cmd, "time", v,
                               " (use ms, s, m, h or d)");
    }
    if (n > UINT64_MAX / mult || n * mult < cmd->min || n * mult > cmd->max) {
        char  lo[24], hi[24], q[64];

        return gw_conf_error_at(p, p->dline, "time \"%s\" in \"%s\" is out "
                                "of range (%s..%s)",
                                gw_conf_quote(q, sizeof(q), v.base, v.len),
                                cmd->name,
                                gw_conf_fmt_msec(lo, sizeof(lo), cmd->min),
                                gw_conf_fmt_msec(hi, sizeof(hi), cmd->max));
    }
    *(uint64_t *) ((char *) conf + cmd->offset) = n * mult;
    return GW_OK;
}

static int
gw_conf_set_num(gw_conf_parse_t *p, const gw_conf_command_t *cmd, void *conf,
    gw_str_t *args, size_t nargs)
{
    uint64_t  n;
    char      q[64];

    if (gw_conf_digits(args[0], &n) != args[0].len || args[0].len == 0) {
        return gw_conf_invalid(p, cmd, "number", args[0], "");
    }
    if (n < cmd->min || n > cmd->max) {
        return gw_conf_error_at(p, p->dline, "number \"%s\" in \"%s\" is out "
                                "of range (%llu..%llu)",
                                gw_conf_quote(q, sizeof(q), args[0].base,
                                              args[0].len),
                                cmd->name, (unsigned long long) cmd->min,
                                (unsigned long long) cmd->max);
    }
    *(size_t *) ((char *) conf + cmd->offset) = (size_t) n;
    return GW_OK;
}

/* A number, or "auto" (stored as 0) for a value derived from other
 * directives where it is used. */
static int
gw_conf_set_num_auto(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    if (gw_str_eq_lit(args[0], "auto")) {
        *(size_t *) ((char *) conf + cmd->offset) = 0;
        return GW_OK;
    }
    return gw_conf_set_num(p, cmd, conf, args, nargs);
}

size_t
gw_conf_workers(const gw_conf_t *cf)
{
    long  n;

    if (cf->worker_processes != 0) {
        return cf->worker_processes;
    }
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (size_t) n;
}

/* "127.0.0.1:9000", "[::1]:9000", "*:9000", "localhost:9000" or "9000" (all
 * IPv4 addresses). The host is stored in inet_ntop's form, so the same
 * address written two ways is caught as a duplicate. */
static int
gw_conf_parse_address(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    gw_str_t v, gw_conf_listen_t *out)
{
    gw_str_t           host, port;
    gw_conf_listen_t   l;
    const char        *end = v.base + v.len, *close, *colon;
    unsigned char      addr[16];
    char               tmp[64];
    uint64_t           n;
    size_t             i;
    int                family = AF_INET;

    memset(&l, 0, sizeof(l));
    if (v.len > 0 && v.base[0] == '[') {
        close = memchr(v.base, ']', v.len);
        if (close == NULL || close + 1 >= end || close[1] != ':') {
            return gw_conf_invalid(p, cmd, "address", v,
                                   " (expected [ADDRESS]:PORT)");
        }
        host.base = v.base + 1;
        host.len = (size_t) (close - host.base);
        port.base = close + 2;
        family = AF_INET6;
    } else {
        colon = NULL;
        for (i = 0; i < v.len; i++) {
            if (v.base[i] == ':') {
                colon = v.base + i;
            }
        }
        host.base = v.base;
        host.len = colon ? (size_t) (colon - v.base) : 0;
        port.base = colon ? colon + 1 : v.base;
        if (colon != NULL && (host.len == 0 || memchr(host.base, ':',
                                                      host.len) != NULL))
        {
            return gw_conf_invalid(p, cmd, "address", v,
                                   " (write IPv6 addresses as [ADDRESS]:PORT)");
        }
    }
    port.len = (size_t) (end - port.base);
    if (port.len == 0 || gw_conf_digits(port, &n) != port.len
        || n < 1 || n > 65535)
    {
        return gw_conf_invalid(p, cmd, "port", port, "");
    }

    l.port = (int) n;
    if (host.len == 0 || (host.len == 1 && host.base[0] == '*')) {
        strcpy(l.host, family == AF_INET6 ? "::" : "0.0.0.0");
    } else if (family == AF_INET
               && gw_ascii_ieq(host.base, host.len, "localhost", 9))
    {
        strcpy(l.host, "127.0.0.1");
    } else {
        if (host.len >= sizeof(tmp)) {
            return gw_conf_invalid(p, cmd, "address", host, "");
        }
        memcpy(tmp, host.base, host.len);
        tmp[host.len] = '\0';
        if (inet_pton(family, tmp, addr) != 1
            || inet_ntop(family, addr, l.host, sizeof(l.host)) == NULL)
        {
            return gw_conf_invalid(p, cmd, "address", host, "");
        }
    }
    *out = l;
    return GW_OK;
}

static int
gw_conf_set_listen(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    gw_conf_t         *cf = conf;
    gw_conf_listen_t   l;
    char               q[64];
    size_t             i;
    int                rc;

    rc = gw_conf_parse_address(p, cmd, args[0], &l);
    if (rc != GW_OK) {
        return rc;
    }
    for (i = 1; i < nargs; i++) {
        if (gw_str_eq_lit(args[i], "ssl") && !l.ssl) {
            l.ssl = 1;
        } else if (gw_str_eq_lit(args[i], "proxy_protocol")
                   && !l.proxy_protocol)
        {
            l.proxy_protocol = 1;
        } else {
            return gw_conf_invalid(p, cmd, "parameter", args[i],
                                   " (they are \"ssl\" and "
                                   "\"proxy_protocol\")");
        }
    }

    /* Listens from an earlier source (the defaults, then the file) are
     * replaced as a whole by the first listen of a later one. */
    if (p->listen_src != p->srcno) {
        cf->nlisten = 0;
        p->listen_src = p->srcno;
        p->ssl_src = NULL;
    }
    for (i = 0; i < cf->nlisten; i++) {
        if (cf->listen[i].port == l.port
            && strcmp(cf->listen[i].host, l.host) == 0)
        {
            return gw_conf_error_at(p, p->dline, "duplicate \"listen\" \"%s\"",
                                    gw_conf_quote(q, sizeof(q),
                                                  args[0].base,
                                                  args[0].len));
        }
    }
    if (cf->nlisten == GW_CONF_MAX_LISTEN) {
        return gw_conf_error_at(p, p->dline, "too many \"listen\" directives "
                                "(at most %d)", GW_CONF_MAX_LISTEN);
    }
    cf->listen[cf->nlisten++] = l;
    if (l.ssl && p->ssl_src == NULL) {
        p->ssl_src = p->src;
        p->ssl_line = p->dline;
    }
    return GW_OK;
}

/* status_listen ADDRESS; the forms of listen, without ssl: one
 * listener, and a later source's replaces the earlier one. */
static int
gw_conf_set_status_listen(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    gw_conf_t  *cf = conf;

    GW_UNUSED(nargs);
    return gw_conf_parse_address(p, cmd, args[0], &cf->status_listen);
}

/* ssl_protocols TLSv1.2 TLSv1.3; (the default's text comes as one argument
 * with a space, so each argument is split on blanks too). */
static int
gw_conf_set_protocols(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    unsigned   *slot = (unsigned *) ((char *) conf + cmd->offset), bits = 0;
    gw_str_t    w;
    const char *q, *end;
    char        b[64];
    size_t      i;

    for (i = 0; i < nargs; i++) {
        q = args[i].base;
        end = q + args[i].len;
        while (q < end) {
            while (q < end && (*q == ' ' || *q == '\t')) {
                q++;
            }
            w.base = q;
            while (q < end && *q != ' ' && *q != '\t') {
                q++;
            }
            w.len = (size_t) (q - w.base);
            if (w.len == 0) {
                continue;
            }
            if (gw_str_eq_lit(w, "TLSv1.2")) {
                bits |= GW_CONF_TLSV12;
            } else if (gw_str_eq_lit(w, "TLSv1.3")) {
                bits |= GW_CONF_TLSV13;
            } else if (gw_str_eq_lit(w, "TLSv1") || gw_str_eq_lit(w, "TLSv1.1")
                       || gw_str_eq_lit(w, "SSLv2")
                       || gw_str_eq_lit(w, "SSLv3"))
            {
                return gw_conf_error_at(p, p->dline, "\"%s\" in \"%s\" is "
                                        "not supported: TLSv1.2 and TLSv1.3 "
                                        "only", gw_conf_quote(b, sizeof(b),
                                                              w.base, w.len),
                                        cmd->name);
            } else {
                return gw_conf_invalid(p, cmd, "protocol", w,
                                       " (TLSv1.2 or TLSv1.3)");
            }
        }
    }
    *slot = bits;
    return GW_OK;
}

/* Unreserved URL characters only: the access key travels in the Credential
 * of Authorization headers and presigned URLs, split on '/' and ','. */
static int
gw_conf_set_access_key(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    size_t  i;
    char    c;

    if (gw_conf_check_len(p, cmd, args[0]) != GW_OK) {
        return GW_EINVAL;
    }
    for (i = 0; i < args[0].len; i++) {
        c = args[0].base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
              || c == '~'))
        {
            return gw_conf_invalid(p, cmd, "value", args[0],
                                   " (use letters, digits, \"-\", \"_\", "
                                   "\".\" and \"~\")");
        }
    }
    gw_conf_str_store(cmd, conf, args[0].base, args[0].len);
    return GW_OK;
}

/* 64 hex digits, stored lowercase so comparisons are plain strcmp. */
static int
gw_conf_set_canonical_id(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    unsigned char  raw[32];
    char           hex[65];

    if (args[0].len != 64 || gw_hex_decode(raw, args[0].base, 64) != GW_OK) {
        return gw_conf_invalid(p, cmd, "value", args[0],
                               " (expected 64 hex digits)");
    }
    gw_hex_encode(hex, raw, sizeof(raw));
    gw_conf_str_store(cmd, conf, hex, 64);
    return GW_OK;
}

/* Exactly 12 decimal digits, as AWS account ids. */
static int
gw_conf_set_account_id(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    uint64_t  n;

    if (args[0].len != 12 || gw_conf_digits(args[0], &n) != 12) {
        return gw_conf_invalid(p, cmd, "value", args[0],
                               " (expected 12 digits)");
    }
    gw_conf_str_store(cmd, conf, args[0].base, 12);
    return GW_OK;
}

int
gw_conf_cidr_parse(const char *s, size_t len, gw_conf_cidr_t *out)
{
    char         tmp[64];
    const char  *slash = memchr(s, '/', len);
    size_t       alen = slash ? (size_t) (slash - s) : len, i;
    int          max, bits = 0;

    if (alen == 0 || alen >= sizeof(tmp)) {
        return GW_EINVAL;
    }
    memcpy(tmp, s, alen);
    tmp[alen] = '\0';
    memset(out, 0, sizeof(*out));
    out->family = memchr(tmp, ':', alen) ? AF_INET6 : AF_INET;
    if (inet_pton(out->family, tmp, out->addr) != 1) {
        return GW_EINVAL;
    }
    max = out->family == AF_INET ? 32 : 128;
    if (slash == NULL) {
        out->bits = max;
        return GW_OK;
    }
    if (slash + 1 == s + len || len - alen - 1 > 3) {
        return GW_EINVAL;
    }
    for (i = alen + 1; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return GW_EINVAL;
        }
        bits = bits * 10 + (s[i] - '0');
    }
    if (bits > max) {
        return GW_EINVAL;
    }
    out->bits = bits;
    return GW_OK;
}

int
gw_conf_cidr_match(const gw_conf_cidr_t *c, int family,
    const unsigned char *addr)
{
    static const unsigned char  mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                               0xff, 0xff };
    int                         full, rest;

    if (family == AF_INET6 && c->family == AF_INET
        && memcmp(addr, mapped, 12) == 0)
    {
        family = AF_INET;
        addr += 12;
    }
    if (family != c->family) {
        return 0;
    }
    full = c->bits / 8;
    rest = c->bits % 8;
    if (memcmp(addr, c->addr, (size_t) full) != 0) {
        return 0;
    }
    return rest == 0
           || ((addr[full] ^ c->addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* trusted_proxy ADDRESS[/BITS]; repeatable, like listen a later source
 * replaces the earlier ones. */
static int
gw_conf_set_trusted_proxy(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    gw_conf_t       *cf = conf;
    gw_conf_cidr_t   c;

    if (gw_conf_cidr_parse(args[0].base, args[0].len, &c) != GW_OK) {
        return gw_conf_invalid(p, cmd, "address", args[0],
                               " (expected ADDRESS or ADDRESS/BITS)");
    }
    if (p->proxy_src != p->srcno) {
        cf->ntrusted_proxy = 0;
        p->proxy_src = p->srcno;
    }
    if (cf->ntrusted_proxy == GW_CONF_MAX_PROXIES) {
        return gw_conf_error_at(p, p->dline, "too many \"trusted_proxy\" "
                                "directives (at most %d)",
                                GW_CONF_MAX_PROXIES);
    }
    cf->trusted_proxy[cf->ntrusted_proxy++] = c;
    return GW_OK;
}

void
gw_conf_default_canonical_id(const char *name, size_t len, char *hex)
{
    unsigned char  d[32];
    char          *seed = gw_alloc(len + 6);

    memcpy(seed, "s3gw:", 5);
    if (len) {
        memcpy(seed + 5, name, len);     /* name may be NULL when len is 0 */
    }
    gw_sha256(seed, len + 5, d);
    gw_free(seed);
    gw_hex_encode(hex, d, sizeof(d));
}

static void
gw_conf_user_free(gw_conf_user_t *u)
{
    gw_free(u->name);
    gw_free(u->access_key);
    gw_free(u->secret_key);
    gw_free(u->display_name);
    gw_free(u->canonical_id);
    gw_free(u->account_id);
    gw_free(u->email);
    memset(u, 0, sizeof(*u));
}

/* user NAME { ... }: reads the block into a new user, then adds it or
 * replaces the user of the same name. */
static int
gw_conf_set_user(gw_conf_parse_t *p, const gw_conf_command_t *cmd, void *conf,
    gw_str_t *args, size_t nargs)
{
    gw_conf_t       *cf = conf;
    gw_conf_user_t   u, *old = NULL, *o;
    int              line = p->dline;
    size_t           i;
    unsigned char    d[32];
    char             hex[65], q[64], q2[64];

    memset(&u, 0, sizeof(u));
    if (gw_conf_check_len(p, cmd, args[0]) != GW_OK) {
        return GW_EINVAL;
    }
    for (i = 0; i < args[0].len; i++) {
        if ((unsigned char) args[0].base[i] <= 0x20
            || (unsigned char) args[0].base[i] >= 0x7f)
        {
            return gw_conf_invalid(p, cmd, "user name", args[0],
                                   " (use printable ASCII without spaces)");
        }
    }
    u.name = gw_strndup(args[0].base, args[0].len);
    /* Only the embedded default's own users have public keys: a user from
     * -g (even over the embedded default) or from a file does not. */
    u.builtin = p->src == gw_conf_embedded_name;

    if (gw_conf_parse_block(p, GW_CONF_USER, &u) != GW_OK) {
        goto fail;
    }
    p->dline = line;
    if (u.access_key == NULL || u.secret_key == NULL) {
        gw_conf_error_at(p, line, "user \"%s\" has no \"%s\"", u.name,
                         u.access_key == NULL ? "access_key" : "secret_key");
        goto fail;
    }
    if (u.display_name == NULL) {
        u.display_name = gw_strdup(u.name);
    }
    gw_conf_default_canonical_id(u.name, strlen(u.name), hex);
    if (u.canonical_id == NULL) {
        u.canonical_id = gw_strdup(hex);
    }
    if (u.account_id == NULL) {
        /* Twelve digits from the same digest, stable across restarts. */
        if (gw_hex_decode(d, hex, 64) != GW_OK) {
            goto fail;
        }
        for (i = 0; i < 12; i++) {
            hex[i] = (char) ('0' + d[i] % 10);
        }
        u.account_id = gw_strndup(hex, 12);
    }

    for (i = 0; i < cf->nusers; i++) {
        o = &cf->users[i];
        if (strcmp(o->name, u.name) == 0) {
            old = o;
            continue;
        }
        if (strcmp(o->access_key, u.access_key) == 0) {
            gw_conf_error_at(p, line, "duplicate access key \"%s\" in users "
                             "\"%s\" and \"%s\"",
                             gw_conf_quote(q, sizeof(q), u.access_key,
                                           strlen(u.access_key)),
                             o->name,
                             gw_conf_quote(q2, sizeof(q2), u.name,
                                           strlen(u.name)));
            goto fail;
        }
        if (strcmp(o->canonical_id, u.canonical_id) == 0) {
            gw_conf_error_at(p, line, "duplicate \"canonical_id\" in users "
                             "\"%s\" and \"%s\"", o->name, u.name);
            goto fail;
        }
        if (strcmp(o->account_id, u.account_id) == 0) {
            gw_conf_error_at(p, line, "duplicate \"account_id\" in users "
                             "\"%s\" and \"%s\"", o->name, u.name);
            goto fail;
        }
    }
    if (old != NULL) {
        gw_conf_user_free(old);
        *old = u;
    } else {
        cf->users = gw_realloc(cf->users, (cf->nusers + 1) * sizeof(u));
        cf->users[cf->nusers++] = u;
    }
    return GW_OK;

fail:
    gw_conf_user_free(&u);
    return GW_EINVAL;
}


/* ==== Replication targets ==== */

/* endpoint http://HOST[:PORT] or https://HOST[:PORT], HOST a DNS name, an
 * IPv4 address or [IPv6]; a trailing "/" is allowed, no other path (the
 * pusher addresses buckets path-style under the root). */
static int
gw_conf_set_endpoint(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    static const char  hint[] = " (expected http://HOST[:PORT] or "
                                "https://HOST[:PORT])";
    gw_conf_target_t  *t = conf;
    gw_str_t           v = args[0], host, port;
    const char        *s, *end, *close;
    unsigned char      addr[16];
    char               tmp[64];
    uint64_t           n = 0;
    size_t             i;
    int                https;

    if (gw_conf_check_len(p, cmd, v) != GW_OK) {
        return GW_EINVAL;
    }
    if (v.len > 8 && gw_ascii_ieq(v.base, 8, "https://", 8)) {
        https = 1;
        s = v.base + 8;
    } else if (v.len > 7 && gw_ascii_ieq(v.base, 7, "http://", 7)) {
        https = 0;
        s = v.base + 7;
    } else {
        return gw_conf_invalid(p, cmd, "endpoint", v, hint);
    }
    end = v.base + v.len;
    if (end[-1] == '/') {
        end--;
    }
    host.base = s;
    if (s < end && *s == '[') {
        close = memchr(s, ']', (size_t) (end - s));
        if (close == NULL) {
            return gw_conf_invalid(p, cmd, "endpoint", v, hint);
        }
        host.base = s + 1;
        host.len = (size_t) (close - host.base);
        s = close + 1;
        if (host.len == 0 || host.len >= sizeof(tmp)) {
            return gw_conf_invalid(p, cmd, "endpoint", v, hint);
        }
        memcpy(tmp, host.base, host.len);
        tmp[host.len] = '\0';
        if (inet_pton(AF_INET6, tmp, addr) != 1) {
            return gw_conf_invalid(p, cmd, "endpoint", v, hint);
        }
    } else {
        while (s < end && *s != ':') {
            s++;
        }
        host.len = (size_t) (s - host.base);
        if (host.len == 0 || host.len > 253 || host.base[0] == '.'
            || host.base[0] == '-' || host.base[host.len - 1] == '.'
            || host.base[host.len - 1] == '-')
        {
            return gw_conf_invalid(p, cmd, "endpoint", v, hint);
        }
        for (i = 0; i < host.len; i++) {
            char  c = host.base[i];

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                  || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            {
                return gw_conf_invalid(p, cmd, "endpoint", v, hint);
            }
        }
    }
    if (s < end) {
        if (*s != ':') {
            return gw_conf_invalid(p, cmd, "endpoint", v, hint);
        }
        port.base = s + 1;
        port.len = (size_t) (end - port.base);
        if (port.len == 0 || port.len > 5
            || gw_conf_digits(port, &n) != port.len || n < 1 || n > 65535)
        {
            return gw_conf_invalid(p, cmd, "port", port, "");
        }
    }
    gw_conf_str_store(cmd, conf, v.base, v.len);
    gw_free(t->host);
    t->host = gw_strndup(host.base, host.len);
    for (i = 0; i < host.len; i++) {
        t->host[i] = (char) gw_ascii_lower(t->host[i]);
    }
    t->https = https;
    t->port = n != 0 ? (int) n : https ? 443 : 80;
    return GW_OK;
}

/* buckets NAME|* ...: bucket names as S3 allows them (lowercase letters,
 * digits, "." and "-", 3 to 63 long), or "*" for any; repeatable. */
static int
gw_conf_set_buckets(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    gw_conf_target_t  *t = conf;
    size_t             i, k;
    char               c;

    for (k = 0; k < nargs; k++) {
        if (args[k].len == 1 && args[k].base[0] == '*') {
            continue;
        }
        if (args[k].len < 3 || args[k].len > cmd->max) {
            return gw_conf_invalid(p, cmd, "bucket name", args[k],
                                   " (3 to 63 characters, or \"*\")");
        }
        for (i = 0; i < args[k].len; i++) {
            c = args[k].base[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || c == '.' || c == '-'))
            {
                return gw_conf_invalid(p, cmd, "bucket name", args[k],
                                       " (use lowercase letters, digits, "
                                       "\".\" and \"-\", or \"*\")");
            }
        }
    }
    t->buckets = gw_realloc(t->buckets,
                            (t->nbuckets + nargs) * sizeof(*t->buckets));
    for (k = 0; k < nargs; k++) {
        t->buckets[t->nbuckets++] = gw_strndup(args[k].base, args[k].len);
    }
    return GW_OK;
}

/* A path to a file that must be readable now, so that `s3gw -t` catches a
 * wrong one rather than the first connection that needs it. */
static int
gw_conf_set_file(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    char  **slot = gw_conf_str_slot(cmd, conf), q[64];

    if (gw_conf_set_str(p, cmd, conf, args, nargs) != GW_OK) {
        return GW_EINVAL;
    }
    if (access(*slot, R_OK) != 0) {
        return gw_conf_error_at(p, p->dline, "cannot read \"%s\" \"%s\": %s",
                                cmd->name,
                                gw_conf_quote(q, sizeof(q), args[0].base,
                                              args[0].len),
                                strerror(errno));
    }
    return GW_OK;
}

static void
gw_conf_target_free(gw_conf_target_t *t)
{
    size_t  i;

    gw_free(t->name);
    gw_free(t->endpoint);
    gw_free(t->host);
    gw_free(t->access_key);
    gw_free(t->secret_key);
    gw_free(t->region);
    for (i = 0; i < t->nbuckets; i++) {
        gw_free(t->buckets[i]);
    }
    gw_free(t->buckets);
    gw_free(t->ca_file);
    memset(t, 0, sizeof(*t));
}

/* The line of the last use of the target directive name (in the block
 * just read, when the caller knows it was set there). */
static int
gw_conf_target_line(gw_conf_parse_t *p, const char *name)
{
    gw_str_t  s;

    s.base = name;
    s.len = strlen(name);
    return p->where[gw_conf_find(s, GW_CONF_TARGET) - gw_conf_commands].line;
}

/* replication_target NAME { ... }: reads the block into a new target, checks
 * it as a whole, then adds it or replaces the target of the same name. */
static int
gw_conf_set_target(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    gw_conf_t         *cf = conf;
    gw_conf_target_t   t, *old = NULL;
    int                line = p->dline;
    const char        *missing;
    size_t             i;

    memset(&t, 0, sizeof(t));
    if (gw_conf_check_len(p, cmd, args[0]) != GW_OK) {
        return GW_EINVAL;
    }
    for (i = 0; i < args[0].len; i++) {
        if ((unsigned char) args[0].base[i] <= 0x20
            || (unsigned char) args[0].base[i] >= 0x7f)
        {
            return gw_conf_invalid(p, cmd, "target name", args[0],
                                   " (use printable ASCII without spaces)");
        }
    }
    t.name = gw_strndup(args[0].base, args[0].len);
    t.tls_verify = -1;                  /* not given */
    t.max_connections = 8;

    if (gw_conf_parse_block(p, GW_CONF_TARGET, &t) != GW_OK) {
        goto fail;
    }
    p->dline = line;
    missing = t.endpoint == NULL ? "endpoint"
              : t.access_key == NULL ? "access_key"
              : t.secret_key == NULL ? "secret_key"
              : t.nbuckets == 0 ? "buckets" : NULL;
    if (missing != NULL) {
        gw_conf_error_at(p, line, "replication_target \"%s\" has no \"%s\"",
                         t.name, missing);
        goto fail;
    }
    /* TLS settings on a plain-HTTP endpoint would be taken and never used. */
    if (!t.https && (t.tls_verify != -1 || t.ca_file != NULL)) {
        missing = t.ca_file != NULL ? "ca_file" : "tls_verify";
        gw_conf_error_at(p, gw_conf_target_line(p, missing), "\"%s\" needs "
                         "an https:// endpoint in replication_target \"%s\"",
                         missing, t.name);
        goto fail;
    }
    if (t.tls_verify == -1) {
        t.tls_verify = 1;
    }
    if (t.region == NULL) {
        t.region = gw_strdup("us-east-1");
    }

    for (i = 0; i < cf->ntargets; i++) {
        if (strcmp(cf->targets[i].name, t.name) == 0) {
            old = &cf->targets[i];
        }
    }
    if (old != NULL) {
        gw_conf_target_free(old);
        *old = t;
    } else {
        cf->targets = gw_realloc(cf->targets,
                                 (cf->ntargets + 1) * sizeof(t));
        cf->targets[cf->ntargets++] = t;
    }
    return GW_OK;

fail:
    gw_conf_target_free(&t);
    return GW_EINVAL;
}

const gw_conf_target_t *
gw_conf_target_for_bucket(const gw_conf_t *cf, const char *bucket, size_t len)
{
    const gw_conf_target_t  *t;
    size_t                   i, k;

    for (i = 0; i < cf->ntargets; i++) {
        t = &cf->targets[i];
        for (k = 0; k < t->nbuckets; k++) {
            if (strcmp(t->buckets[k], "*") == 0
                || (strlen(t->buckets[k]) == len
                    && memcmp(t->buckets[k], bucket, len) == 0))
            {
                return t;
            }
        }
    }
    return NULL;
}


/* ==== cors_default { ... } ==== */

static void
gw_conf_cors_strs_free(char **v, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        gw_free(v[i]);
    }
    gw_free(v);
}

static void
gw_conf_cors_free(gw_conf_cors_t *c)
{
    gw_conf_cors_strs_free(c->origins, c->norigins);
    gw_conf_cors_strs_free(c->methods, c->nmethods);
    gw_conf_cors_strs_free(c->headers, c->nheaders);
    gw_conf_cors_strs_free(c->expose, c->nexpose);
    memset(c, 0, sizeof(*c));
}

/* One value of a cors_default list, checked as PutBucketCors checks the
 * element (the same messages, so a rule moves between the two). */
static int
gw_conf_cors_value_ok(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    gw_str_t v)
{
    static const char *const  methods[] = {
        "GET", "PUT", "POST", "DELETE", "HEAD"
    };
    size_t                    i, stars = 0;

    for (i = 0; i < v.len; i++) {
        if ((unsigned char) v.base[i] <= 0x20
            || (unsigned char) v.base[i] >= 0x7f)
        {
            return gw_conf_invalid(p, cmd, "value", v,
                                   " (use printable ASCII without spaces)");
        }
        stars += v.base[i] == '*';
    }
    if (v.len > cmd->max) {
        return gw_conf_invalid(p, cmd, "value", v, " (too long)");
    }
    switch (cmd->min) {
    case GW_CONF_CORS_METHOD:
        for (i = 0; i < GW_NELEMS(methods); i++) {
            if (v.len == strlen(methods[i])
                && memcmp(v.base, methods[i], v.len) == 0)
            {
                return GW_OK;
            }
        }
        return gw_conf_invalid(p, cmd, "method", v,
                               " (GET, PUT, POST, DELETE or HEAD)");
    case GW_CONF_CORS_EXPOSE:
        return stars == 0 ? GW_OK
               : gw_conf_invalid(p, cmd, "header", v,
                                 " (an exposed header takes no \"*\")");
    default:
        return stars <= 1 ? GW_OK
               : gw_conf_invalid(p, cmd, "value", v,
                                 " (at most one \"*\")");
    }
}

/* allowed_origin, allowed_method, allowed_header, expose_header: values
 * added to the list at cmd->offset (its count is the next field);
 * repeatable. */
static int
gw_conf_set_cors_list(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    char   ***list = (char ***) ((char *) conf + cmd->offset);
    size_t   *n = (size_t *) (list + 1);
    size_t    k;

    for (k = 0; k < nargs; k++) {
        if (gw_conf_cors_value_ok(p, cmd, args[k]) != GW_OK) {
            return GW_EINVAL;
        }
    }
    *list = gw_realloc(*list, (*n + nargs) * sizeof(**list));
    for (k = 0; k < nargs; k++) {
        (*list)[(*n)++] = gw_strndup(args[k].base, args[k].len);
    }
    return GW_OK;
}

/* cors_default { ... }: reads the block into a new rule, checks that it
 * names origins and methods, then replaces any earlier block. */
static int
gw_conf_set_cors(gw_conf_parse_t *p, const gw_conf_command_t *cmd,
    void *conf, gw_str_t *args, size_t nargs)
{
    gw_conf_t       *cf = conf;
    gw_conf_cors_t   c;
    int              line = p->dline;

    memset(&c, 0, sizeof(c));
    c.max_age = GW_CONF_CORS_NO_MAX_AGE;
    if (gw_conf_parse_block(p, GW_CONF_CORS, &c) != GW_OK) {
        goto fail;
    }
    p->dline = line;
    if (c.norigins == 0 || c.nmethods == 0) {
        gw_conf_error_at(p, line, "cors_default has no \"%s\"",
                         c.norigins == 0 ? "allowed_origin"
                                         : "allowed_method");
        goto fail;
    }
    c.enabled = 1;
    gw_conf_cors_free(&cf->cors_default);
    cf->cors_default = c;
    return GW_OK;

fail:
    gw_conf_cors_free(&c);
    return GW_EINVAL;
}


/* ==== Loading ==== */

static const gw_conf_command_t *
gw_conf_find_lit(const char *name)
{
    gw_str_t  s;

    s.base = name;
    s.len = strlen(name);
    return gw_conf_find(s, GW_CONF_MAIN);
}

void
gw_conf_init(gw_conf_t *cf)
{
    const gw_conf_command_t  *cmd;
    gw_conf_parse_t           p;
    gw_conf_where_t           where[GW_CONF_NCOMMANDS];
    gw_str_t                  v;
    char                      err[256];
    size_t                    i;

    memset(cf, 0, sizeof(*cf));
    memset(&p, 0, sizeof(p));
    p.cf = cf;
    p.src = "(defaults)";
    p.srcno = GW_CONF_SRC_DEFAULT;
    p.listen_src = GW_CONF_SRC_DEFAULT - 1;
    p.proxy_src = GW_CONF_SRC_DEFAULT - 1;
    p.err = err;
    p.errlen = sizeof(err);
    p.where = where;

    for (i = 0; i < GW_CONF_NCOMMANDS; i++) {
        cmd = &gw_conf_commands[i];
        if (!(cmd->type & GW_CONF_MAIN) || cmd->def == NULL) {
            continue;
        }
        if (cmd->type & GW_CONF_STRING) {
            *gw_conf_str_slot(cmd, cf) = (char *) cmd->def;
            continue;
        }
        /* Defaults go through the setters, so they obey the same bounds as
         * a config file; a bad table row fails the first start-up. */
        v.base = cmd->def;
        v.len = strlen(cmd->def);
        if (cmd->set(&p, cmd, cf, &v, 1) != GW_OK) {
            fprintf(stderr, "[crit] bad built-in default: %s\n", err);
            abort();
        }
    }
    cf->file = (char *) gw_conf_embedded_name;
}

int
gw_conf_reload_users(gw_conf_t *live, const char *path, const char *extra,
    char *err, size_t errlen)
{
    gw_conf_t           fresh;
    gw_conf_retired_t  *old;

    if (gw_conf_load(&fresh, path, extra, err, errlen) != GW_OK) {
        gw_conf_free(&fresh);
        return GW_EINVAL;
    }
    old = gw_alloc(sizeof(*old));
    old->users = live->users;
    old->nusers = live->nusers;
    old->next = live->retired;
    live->retired = old;
    live->users = fresh.users;
    live->nusers = fresh.nusers;
    memcpy(live->trusted_proxy, fresh.trusted_proxy,
           sizeof(live->trusted_proxy));
    live->ntrusted_proxy = fresh.ntrusted_proxy;
    /* Swapped, so the old strings go with fresh. */
    GW_CONF_SWAP(char *, live->ssl_certificate, fresh.ssl_certificate);
    GW_CONF_SWAP(char *, live->ssl_certificate_key, fresh.ssl_certificate_key);
    GW_CONF_SWAP(char *, live->ssl_ciphers, fresh.ssl_ciphers);
    live->ssl_protocols = fresh.ssl_protocols;
    fresh.users = NULL;
    fresh.nusers = 0;
    gw_conf_free(&fresh);
    return GW_OK;
}

/* Puts run's string at off (directive name) into next: the shared
 * default text, or a copy. */
static void
gw_conf_keep_str(const gw_conf_t *run, gw_conf_t *next, const char *name,
    size_t off)
{
    const gw_conf_command_t  *cmd = gw_conf_find_lit(name);
    char                    **from, **to;

    from = (char **) ((char *) run + off);
    to = (char **) ((char *) next + off);
    if (*to != cmd->def) {
        gw_free(*to);
    }
    *to = *from == cmd->def ? *from : gw_strdup(*from);
}

static int
gw_conf_same_listen(const gw_conf_t *a, const gw_conf_t *b)
{
    size_t  i;

    if (a->nlisten != b->nlisten) {
        return 0;
    }
    for (i = 0; i < a->nlisten; i++) {
        if (strcmp(a->listen[i].host, b->listen[i].host) != 0
            || a->listen[i].port != b->listen[i].port
            || a->listen[i].ssl != b->listen[i].ssl)
        {
            return 0;
        }
    }
    return 1;
}

size_t
gw_conf_keep_restart(const gw_conf_t *run, gw_conf_t *next,
    void (*changed)(void *ud, const char *name), void *ud)
{
    size_t  n = 0;

#define GW_KEEP(field, name)                                                \
    if (next->field != run->field) {                                        \
        next->field = run->field;                                           \
        changed(ud, name);                                                  \
        n++;                                                                \
    }

    if (!gw_conf_same_listen(run, next)) {
        memcpy(next->listen, run->listen, sizeof(run->listen));
        next->nlisten = run->nlisten;
        changed(ud, "listen");
        n++;
    }
    if (strcmp(next->data_dir, run->data_dir) != 0) {
        gw_conf_keep_str(run, next, "data_dir", GW_CF(data_dir));
        changed(ud, "data_dir");
        n++;
    }
    GW_KEEP(worker_processes, "worker_processes")
    GW_KEEP(index_max_size, "index_max_size")
    GW_KEEP(chunk_size, "chunk_size")
    GW_KEEP(inline_max, "inline_max")
    GW_KEEP(fsync, "fsync")
    GW_KEEP(gc_interval_ms, "gc_interval")
    GW_KEEP(multipart_expire_ms, "multipart_expire")
    GW_KEEP(lifecycle_day_ms, "lifecycle_day")
#undef GW_KEEP
    return n;
}

void
gw_conf_free(gw_conf_t *cf)
{
    const gw_conf_command_t  *cmd;
    char                    **slot;
    size_t                    i;

    for (i = 0; i < GW_CONF_NCOMMANDS; i++) {
        cmd = &gw_conf_commands[i];
        if ((cmd->type & GW_CONF_MAIN) && (cmd->type & GW_CONF_STRING)) {
            slot = gw_conf_str_slot(cmd, cf);
            if (*slot != cmd->def) {
                gw_free(*slot);
            }
        }
    }
    for (i = 0; i < cf->nusers; i++) {
        gw_conf_user_free(&cf->users[i]);
    }
    gw_free(cf->users);
    for (i = 0; i < cf->ntargets; i++) {
        gw_conf_target_free(&cf->targets[i]);
    }
    gw_free(cf->targets);
    gw_conf_cors_free(&cf->cors_default);
    while (cf->retired != NULL) {
        gw_conf_retired_t  *old = cf->retired;

        cf->retired = old->next;
        for (i = 0; i < old->nusers; i++) {
            gw_conf_user_free(&old->users[i]);
        }
        gw_free(old->users);
        gw_free(old);
    }
    if (cf->file != gw_conf_embedded_name) {
        gw_free(cf->file);
    }
    gw_conf_init(cf);
}

/* Reads the whole file into p->buf. */
static int
gw_conf_read_file(gw_conf_parse_t *p, const char *path)
{
    FILE    *fp;
    char    *buf = NULL;
    size_t   len = 0, cap = 0, n;
    int      rc = GW_EINVAL;

    fp = fopen(path, "rb");
    if (fp == NULL) {
        return gw_conf_error_at(p, 0, "cannot open: %s", strerror(errno));
    }
    for ( ;; ) {
        if (len == cap) {
            if (cap >= GW_CONF_MAX_FILE) {
                gw_conf_error_at(p, 0, "file is larger than %d bytes",
                                 GW_CONF_MAX_FILE);
                goto fail;
            }
            cap = cap ? cap * 2 : 16384;
            buf = gw_realloc(buf, cap + 1);
        }
        n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0) {
            if (ferror(fp)) {
                gw_conf_error_at(p, 0, "cannot read: %s", strerror(errno));
                goto fail;
            }
            break;
        }
    }
    buf[len] = '\0';
    p->buf = buf;
    p->len = len;
    buf = NULL;
    rc = GW_OK;

fail:
    gw_free(buf);
    fclose(fp);
    return rc;
}

/* Parses p->buf as the source p->src, then frees the buffer. */
static int
gw_conf_parse_text(gw_conf_parse_t *p)
{
    const char  *nul;
    size_t       i;
    int          rc, line = 1;

    p->pos = 0;
    p->line = 1;
    /* A NUL would silently cut strings short later; refuse it up front. */
    nul = memchr(p->buf, '\0', p->len);
    if (nul != NULL) {
        for (i = 0; p->buf + i < nul; i++) {
            line += p->buf[i] == '\n';
        }
        rc = gw_conf_error_at(p, line, "unexpected NUL byte");
    } else {
        rc = gw_conf_parse_block(p, GW_CONF_MAIN, p->cf);
    }
    gw_free(p->buf);
    p->buf = NULL;
    p->len = 0;
    return rc;
}

/* Checks that involve more than one directive, reported at the later one. */
static int
gw_conf_check(gw_conf_parse_t *p)
{
    gw_conf_t        *cf = p->cf;
    gw_conf_where_t  *wi, *wc, *w;
    char              a[24], b[24];

    /* A Host under both would be ambiguous: a website request or a
     * virtual-hosted REST one. */
    if (cf->website_domain != NULL && cf->server_name != NULL
        && strcmp(cf->website_domain, cf->server_name) == 0)
    {
        w = &p->where[gw_conf_find_lit("website_domain") - gw_conf_commands];
        if (w->seq != 0) {
            p->src = w->src;
        }
        return gw_conf_error_at(p, w->line, "\"website_domain\" must not be "
                                "\"server_name\" (%s)", cf->server_name);
    }
    /* As nginx: a TLS listener without a certificate is a config error,
     * not a port that fails every handshake. */
    if (p->ssl_src != NULL && cf->ssl_certificate == NULL) {
        p->src = p->ssl_src;
        return gw_conf_error_at(p, p->ssl_line, "no \"ssl_certificate\" is "
                                "defined for the \"listen ... ssl\" "
                                "directive");
    }
    if (cf->ssl_certificate != NULL && cf->ssl_certificate_key == NULL) {
        w = &p->where[gw_conf_find_lit("ssl_certificate") - gw_conf_commands];
        p->src = w->src;
        return gw_conf_error_at(p, w->line, "no \"ssl_certificate_key\" is "
                                "defined for \"ssl_certificate\"");
    }
    if (cf->inline_max >= cf->chunk_size) {
        wi = &p->where[gw_conf_find_lit("inline_max") - gw_conf_commands];
        wc = &p->where[gw_conf_find_lit("chunk_size") - gw_conf_commands];
        w = wi->seq > wc->seq ? wi : wc;
        if (w->seq != 0) {
            p->src = w->src;
        }
        return gw_conf_error_at(p, w->line, "\"inline_max\" (%s) must be "
                                "less than \"chunk_size\" (%s)",
                                gw_conf_fmt_size(a, sizeof(a),
                                                 cf->inline_max),
                                gw_conf_fmt_size(b, sizeof(b),
                                                 cf->chunk_size));
    }
    return GW_OK;
}

int
gw_conf_load(gw_conf_t *cf, const char *path, const char *extra,
    char *err, size_t errlen)
{
    gw_conf_parse_t  p;
    gw_conf_where_t  where[GW_CONF_NCOMMANDS];
    int              rc;

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    gw_conf_init(cf);
    memset(&p, 0, sizeof(p));
    memset(where, 0, sizeof(where));
    p.cf = cf;
    p.err = err;
    p.errlen = errlen;
    p.where = where;
    p.listen_src = GW_CONF_SRC_DEFAULT;
    p.proxy_src = GW_CONF_SRC_DEFAULT;
    p.srcno = GW_CONF_SRC_FILE;

    if (path != NULL) {
        p.src = path;
        rc = gw_conf_read_file(&p, path);
        if (rc != GW_OK) {
            goto fail;
        }
        cf->file = gw_strdup(path);
    } else {
        p.src = gw_conf_embedded_name;
        p.buf = gw_strdup(gw_conf_default_text);
        p.len = strlen(p.buf);
    }
    rc = gw_conf_parse_text(&p);
    if (rc != GW_OK) {
        goto fail;
    }

    if (extra != NULL) {
        p.src = GW_CONF_CMDLINE;
        p.srcno = GW_CONF_SRC_CMDLINE;
        p.buf = gw_strdup(extra);
        p.len = strlen(p.buf);
        rc = gw_conf_parse_text(&p);
        if (rc != GW_OK) {
            goto fail;
        }
    }

    rc = gw_conf_check(&p);
    if (rc != GW_OK) {
        goto fail;
    }
    return GW_OK;

fail:
    gw_conf_free(cf);
    return GW_EINVAL;
}

const gw_conf_user_t *
gw_conf_user_by_name(const gw_conf_t *cf, const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < cf->nusers; i++) {
        if (strlen(cf->users[i].name) == len
            && memcmp(cf->users[i].name, name, len) == 0)
        {
            return &cf->users[i];
        }
    }
    return NULL;
}

const gw_conf_user_t *
gw_conf_user_by_access_key(const gw_conf_t *cf, const char *ak, size_t len)
{
    size_t  i;

    for (i = 0; i < cf->nusers; i++) {
        if (strlen(cf->users[i].access_key) == len
            && memcmp(cf->users[i].access_key, ak, len) == 0)
        {
            return &cf->users[i];
        }
    }
    return NULL;
}

void
gw_conf_print_summary(const gw_conf_t *cf, FILE *fp)
{
    const gw_conf_listen_t  *l;
    const gw_conf_user_t    *u;
    size_t                   i;
    int                      v6;

    fprintf(fp, "s3gw configuration from %s\n", cf->file);
    for (i = 0; i < cf->nlisten; i++) {
        l = &cf->listen[i];
        v6 = strchr(l->host, ':') != NULL;
        fprintf(fp, "  endpoint      %s://%s%s%s:%d%s%s\n",
                l->ssl ? "https" : "http", v6 ? "[" : "",
                l->host, v6 ? "]" : "", l->port,
                strcmp(l->host, "0.0.0.0") == 0 || strcmp(l->host, "::") == 0
                ? "  (all addresses)" : "",
                l->proxy_protocol ? "  (PROXY protocol)" : "");
    }
    if (cf->status_listen.port != 0) {
        v6 = strchr(cf->status_listen.host, ':') != NULL;
        fprintf(fp, "  status        http://%s%s%s:%d/metrics /health "
                "/ready\n", v6 ? "[" : "", cf->status_listen.host,
                v6 ? "]" : "", cf->status_listen.port);
    }
    if (cf->server_name != NULL) {
        fprintf(fp, "  virtual host  BUCKET.%s\n", cf->server_name);
    }
    if (cf->website_domain != NULL) {
        fprintf(fp, "  website       BUCKET.%s\n", cf->website_domain);
    }
    fprintf(fp, "  region        %s\n", cf->region);
    fprintf(fp, "  data dir      %s\n", cf->data_dir);
    if (cf->nusers == 0) {
        fprintf(fp, "  users         none: every request will be denied\n");
    }
    for (i = 0; i < cf->nusers; i++) {
        u = &cf->users[i];
        /* Only the embedded default's well-known keys are shown: a real
         * secret, from a config file or from -g, stays where it was given
         * (a command line is visible to every local user anyway, but a
         * start-up banner ends up in logs). */
        if (u->builtin) {
            fprintf(fp, "  user %s: access key %s  secret key %s", u->name,
                    u->access_key, u->secret_key);
        } else if (cf->file != gw_conf_embedded_name) {
            fprintf(fp, "  user %s: access key %s  (secret key in %s)",
                    u->name, u->access_key, cf->file);
        } else {
            fprintf(fp, "  user %s: access key %s  (secret key given with "
                    "-g)", u->name, u->access_key);
        }
        /* Policies name users by account: arn:aws:iam::ACCOUNT:user/NAME. */
        fprintf(fp, "  account %s\n", u->account_id);
    }
    for (i = 0; i < cf->ntargets; i++) {
        const gw_conf_target_t  *t = &cf->targets[i];
        size_t                   k;

        /* Never the secret key, whatever the source. */
        fprintf(fp, "  replication target %s: %s, access key %s, buckets",
                t->name, t->endpoint, t->access_key);
        for (k = 0; k < t->nbuckets; k++) {
            fprintf(fp, " %s", t->buckets[k]);
        }
        fprintf(fp, "\n");
    }
}
