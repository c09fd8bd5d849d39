/* core/conf.h: the configuration. Owns gw_conf_t and every string in it,
 * reads the nginx-style s3gw.conf (or the embedded copy of s3gw.conf.example)
 * plus the -g command-line directives, and checks every value against the
 * bounds in the directive table in conf.c. Knows nothing about what the values
 * are used for.
 *
 * Syntax: `name arg ...;` directives, `#` comments to the end of the line,
 * "..." or '...' strings with backslash escapes (\" \' \\ \n \t \r), and
 * `user NAME { ... }`, `replication_target NAME { ... }` and
 * `cors_default { ... }` blocks. Sizes
 * take k/m/g/t suffixes (powers of 1024); times take ms/s/m/h/d, and a plain
 * number is seconds. */
#ifndef GW_CONF_H
#define GW_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GW_CONF_MAX_LISTEN  8

/* The longest user name and region the config accepts (bytes). store/ keeps
 * both whole in bucket records, so its buffers are sized from these. */
#define GW_CONF_USER_NAME_MAX  64
#define GW_CONF_REGION_MAX     64

/* One `user NAME { ... }` block. All strings are owned by the gw_conf_t. */
typedef struct gw_conf_user_s {
    char  *name;
    char  *access_key;
    char  *secret_key;
    char  *display_name;   /* default: name */
    char  *canonical_id;   /* default: lowercase hex SHA-256 of "s3gw:" NAME;
                            * always 64 lowercase hex characters */
    char  *account_id;     /* 12 digits, the account in policy ARNs; default:
                            * derived from the same digest */
    char  *email;          /* for ACL grants by email address; may be NULL */
    int    builtin;        /* defined by the embedded default text, whose
                            * keys are public: the only secret ever printed */
} gw_conf_user_t;

#define GW_CONF_MAX_PROXIES  16

/* An address range (trusted_proxy): family AF_INET or AF_INET6, the
 * address in network order (4 or 16 bytes) and the prefix length. */
typedef struct gw_conf_cidr_s {
    int            family;
    unsigned char  addr[16];
    int            bits;
} gw_conf_cidr_t;

/* One address to listen on. host is a numeric address: "0.0.0.0" for "*" or
 * a bare port, IPv6 without the brackets ("::1"), so a ':' in host means
 * IPv6. port is 1..65535. */
typedef struct gw_conf_listen_s {
    char  host[64];
    int   port;
    int   ssl;         /* `listen ADDRESS ssl;`: TLS on this one */
    int   proxy_protocol;  /* `listen ADDRESS proxy_protocol;`: connections
                            * start with a PROXY header (v1 or v2) */
} gw_conf_listen_t;

/* ssl_protocols bits. TLS 1.0 and 1.1 are refused when the config is read:
 * both are deprecated (RFC 8996) and OpenSSL 3 disables them anyway. */
#define GW_CONF_TLSV12  0x1
#define GW_CONF_TLSV13  0x2

/* One `replication_target NAME { ... }` block: another S3 endpoint that
 * destination buckets of replication rules may live on. All strings are
 * owned by the gw_conf_t. */
typedef struct gw_conf_target_s {
    char    *name;
    char    *endpoint;         /* as written: "https://host:9000" */
    int      https;            /* the scheme */
    char    *host;             /* a DNS name or a numeric address, IPv6
                                * without brackets */
    int      port;             /* 1..65535; default 443 or 80 */
    char    *access_key;
    char    *secret_key;       /* never printed */
    char    *region;           /* default "us-east-1" */
    char   **buckets;          /* the destination bucket names it serves;
                                * "*" serves any */
    size_t   nbuckets;
    int      tls_verify;       /* on|off, default on; https only */
    char    *ca_file;          /* PEM bundle; NULL: the system's; https
                                * only */
    size_t   max_connections;  /* default 8, 1..1024 */
} gw_conf_target_t;

/* The `cors_default { ... }` block: one CORS rule for the buckets that have
 * no CORS configuration of their own (s3/cors.c applies it). The values
 * are checked as PutBucketCors checks a rule's: methods among GET, PUT,
 * POST, DELETE, HEAD; at most one "*" in an origin or a header; none in an
 * exposed header. All strings are owned by the gw_conf_t. */
#define GW_CONF_CORS_NO_MAX_AGE  SIZE_MAX

typedef struct gw_conf_cors_s {
    int      enabled;          /* a block was given; default off */
    char   **origins;          /* AllowedOrigin values */
    size_t   norigins;
    char   **methods;          /* AllowedMethod values */
    size_t   nmethods;
    char   **headers;          /* AllowedHeader values */
    size_t   nheaders;
    char   **expose;           /* ExposeHeader values */
    size_t   nexpose;
    size_t   max_age;          /* seconds, 0..2147483647, or
                                * GW_CONF_CORS_NO_MAX_AGE */
} gw_conf_cors_t;

/* S3 Object Ownership settings, as default_object_ownership names them
 * (s3/auth/controls.h uses the same values). */
#define GW_CONF_OWNERSHIP_WRITER     0   /* ObjectWriter */
#define GW_CONF_OWNERSHIP_PREFERRED  1   /* BucketOwnerPreferred */
#define GW_CONF_OWNERSHIP_ENFORCED   2   /* BucketOwnerEnforced */

/* access_log_format values. */
#define GW_CONF_LOG_TEXT  0   /* "PEER METHOD TARGET STATUS BYTES MSms ID" */
#define GW_CONF_LOG_JSON  1   /* one JSON object per line */

typedef struct gw_conf_s {
    /* Listens accumulate within one source, and a `listen` in a later source
     * (the -g text) replaces all earlier ones: -g 'listen 127.0.0.1:9123;'
     * moves the server. Default 127.0.0.1:9000. */
    gw_conf_listen_t   listen[GW_CONF_MAX_LISTEN];
    size_t             nlisten;
    char              *ssl_certificate;   /* PEM chain of the ssl
                                           * listens; required with one;
                                           * re-read on SIGHUP */
    char              *ssl_certificate_key; /* its PEM private key */
    unsigned           ssl_protocols;     /* GW_CONF_TLSV*; default both */
    char              *ssl_ciphers;       /* OpenSSL cipher list for TLS
                                           * 1.2; NULL: OpenSSL's default */
    gw_conf_listen_t   status_listen;     /* `status_listen ADDRESS;`: the
                                           * /metrics, /health, /ready
                                           * listener; port 0: off (the
                                           * default) */
    char              *data_dir;          /* default "./data" */
    char              *region;            /* default "us-east-1" */
    char              *server_name;       /* virtual-host domain, lowercase;
                                           * default NULL (path style only) */
    char              *website_domain;    /* static website endpoint domain:
                                           * Host BUCKET.<this> is a website
                                           * request; lowercase; default
                                           * NULL (no website endpoint) */
    gw_conf_user_t    *users;             /* a block naming an existing user
                                           * replaces it */
    size_t             nusers;
    gw_conf_cidr_t     trusted_proxy[GW_CONF_MAX_PROXIES]; /* peers whose
                                           * X-Forwarded-For and
                                           * X-Forwarded-Proto count;
                                           * default none */
    size_t             ntrusted_proxy;
    void              *retired;           /* user arrays replaced by
                                           * gw_conf_reload_users, kept
                                           * until gw_conf_free because
                                           * requests may still point in */
    int                fsync;             /* on|off, default on (1) */
    int                log_level;         /* GW_LOG_*, default GW_LOG_INFO */
    int                default_object_ownership;  /* GW_CONF_OWNERSHIP_*
                                           * of a bucket created without
                                           * x-amz-object-ownership;
                                           * default ObjectWriter */
    char              *access_log;        /* "stdout" (default), "off", path */
    int                access_log_format; /* GW_CONF_LOG_*; default text */
    size_t             chunk_size;        /* default 4m, 64k..64m */
    size_t             inline_max;        /* default 4k, 0..256k, and less
                                           * than chunk_size */
    size_t             upload_memory;     /* default 32m, 4m..64g: request
                                           * bodies in memory per worker */
    size_t             max_header_size;   /* request line + headers; default
                                           * 16k, 1k..1m */
    size_t             max_headers;       /* default 100, 8..1000 */
    size_t             max_url;           /* default 8k, 256..64k */
    uint64_t           max_object_size;   /* single PUT; default 5g, 1k..5t */
    uint64_t           index_max_size;    /* the most the LMDB index may
                                           * grow to; default 64g, 16m..64t */
    uint64_t           header_timeout_ms; /* whole request head; default 30s */
    uint64_t           idle_timeout_ms;   /* keep-alive idle; default 60s */
    uint64_t           client_body_timeout_ms; /* longest wait between two
                                           * reads of a request body;
                                           * default 60s, 100ms..1d */
    uint64_t           shutdown_timeout_ms; /* grace after SIGTERM; def. 10s */
    uint64_t           gc_interval_ms;    /* default 2s */
    uint64_t           multipart_expire_ms; /* default 7d; 0: never */
    uint64_t           complete_keepalive_ms; /* default 5s */
    uint64_t           lifecycle_day_ms;  /* how long a day of bucket
                                           * lifecycle rules lasts: 1d (the
                                           * default), shorter for tests;
                                           * 1s..1d */
    size_t             max_connections;   /* default 1024, 1..100000 */
    size_t             limit_conn_per_ip; /* connections open at once from
                                           * one peer address, 1..100000;
                                           * 0 is "auto" (the default):
                                           * see gw_conf_conn_per_ip */
    size_t             worker_processes;  /* 1..64; 0 is "auto" (the
                                           * default): see gw_conf_workers */
    gw_conf_target_t  *targets;           /* replication targets, in the
                                           * order given; a block naming an
                                           * existing target replaces it */
    size_t             ntargets;
    gw_conf_cors_t     cors_default;      /* the server-wide CORS rule;
                                           * a later block replaces an
                                           * earlier one */
    char              *file;              /* the path read, or "(embedded)" */
} gw_conf_t;

/* The per-address connection limit in force: limit_conn_per_ip, or for
 * "auto" a quarter of max_connections (at least 1). */
static inline size_t
gw_conf_conn_per_ip(const gw_conf_t *cf)
{
    if (cf->limit_conn_per_ip != 0) {
        return cf->limit_conn_per_ip;
    }
    return cf->max_connections / 4 > 0 ? cf->max_connections / 4 : 1;
}

/* The number of worker processes: worker_processes, or for "auto" the
 * number of online CPUs (1..64). In conf.c. */
size_t gw_conf_workers(const gw_conf_t *cf);

/* s3gw.conf.example as a C string, generated by the Makefile into
 * build/conf_default.c. Used when no config file is given. */
extern const char  gw_conf_default_text[];

/* Sets every default (from the directive table). Allocates nothing, so a
 * config that was only initialized needs no gw_conf_free, though calling it
 * is harmless. */
void gw_conf_init(gw_conf_t *cf);

/* Fills cf from scratch (it need not be initialized, and anything it held is
 * NOT freed): the defaults, then the file at path (or gw_conf_default_text
 * when path is NULL), then the -g text extra (may be NULL), whose directives
 * override the file's. Returns GW_OK, or GW_EINVAL with "FILE:LINE: message"
 * in err (the -g text is named "(command line)"), for example
 *     s3gw.conf:7: unknown directive "lisen"
 *     s3gw.conf:3: invalid size "12q" in "chunk_size"
 * On error cf holds the defaults. Either way, release it with gw_conf_free.
 * Secret keys never appear in err. */
int gw_conf_load(gw_conf_t *cf, const char *path, const char *extra,
    char *err, size_t errlen);

/* SIGHUP: loads path and extra afresh like gw_conf_load and, when that
 * succeeds, moves its users, trusted proxies and ssl_* settings (the
 * caller loads the certificates again) into live; the users live
 * had stay allocated until gw_conf_free, so a gw_conf_user_t pointer taken
 * before stays valid. Every other directive keeps its running value.
 * Returns GW_OK, or GW_EINVAL with the message in err (live unchanged). */
int gw_conf_reload_users(gw_conf_t *live, const char *path, const char *extra,
    char *err, size_t errlen);

/* SIGHUP: the directives a running server cannot change (listen,
 * data_dir, worker_processes, index_max_size, chunk_size, inline_max,
 * fsync, gc_interval, multipart_expire, lifecycle_day: what the listeners
 * and the store took at start) get run's values back in next, and
 * changed(ud, name) is called for each one that differed, so the caller
 * can say that it needs a restart. Returns how many differed. */
size_t gw_conf_keep_restart(const gw_conf_t *run, gw_conf_t *next,
    void (*changed)(void *ud, const char *name), void *ud);

/* Frees everything cf owns and leaves it initialized to the defaults, so it
 * is safe twice. */
void gw_conf_free(gw_conf_t *cf);

/* The user whose access key is exactly ak[0..len), or NULL. The result points
 * into cf and lives as long as it. */
const gw_conf_user_t *gw_conf_user_by_access_key(const gw_conf_t *cf,
    const char *ak, size_t len);

/* The canonical id a user NAME (len bytes) has by default: the lowercase
 * hex SHA-256 of "s3gw:" NAME, into hex (65 bytes with the NUL). */
void gw_conf_default_canonical_id(const char *name, size_t len, char *hex);

/* Parses "ADDRESS[/BITS]" (IPv4 or IPv6) into out: GW_OK or GW_EINVAL. */
int gw_conf_cidr_parse(const char *s, size_t len, gw_conf_cidr_t *out);

/* 1 when the address (4 or 16 bytes of family) lies in c; an IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) matches IPv4 ranges. */
int gw_conf_cidr_match(const gw_conf_cidr_t *c, int family,
    const unsigned char *addr);

/* The user named exactly name[0..len), or NULL; lives as long as cf. */
const gw_conf_user_t *gw_conf_user_by_name(const gw_conf_t *cf,
    const char *name, size_t len);

/* The first replication target whose "buckets" names bucket[0..len), or
 * lists "*"; NULL when none serves it. Lives as long as cf. */
const gw_conf_target_t *gw_conf_target_for_bucket(const gw_conf_t *cf,
    const char *bucket, size_t len);

/* Writes a short human summary for `make run` and start-up: endpoints,
 * region, data dir, and each user's access key, plus the secret keys of
 * the embedded default config's own users (public anyway) so a developer
 * can point a client at the server; a secret from a config file or from
 * -g is never printed. */
void gw_conf_print_summary(const gw_conf_t *cf, FILE *fp);

#endif
