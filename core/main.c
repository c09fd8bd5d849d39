/* core/main.c: the s3gw process: command line, config, the loop, signals
 * and the orderly shutdown (stop accepting, let in-flight requests finish
 * within shutdown_timeout, flush the index, exit 0); and the admin
 * commands (`s3gw replication list|retry`), which run on the data_dir of
 * the configuration in a process of their own, beside a running server. */
#include "core/conf.h"
#include "core/gw.h"
#include "core/hash.h"
#include "core/hashpipe.h"
#include "core/log.h"
#include "core/master.h"
#include "core/notify.h"
#include "core/metrics.h"
#include "http/conn.h"
#include "http/connip.h"
#include "http/tls.h"
#include "s3/s3.h"
#include "s3/status.h"
#include "s3/bg/lifecycle.h"
#include "s3/bg/replicate.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define GW_VERSION  "0.1.0"

typedef struct gw_main_s {
    uv_loop_t        *loop;
    gw_conf_t         cf;
    http_limits_t     limits;
    http_server_t    *srv;
    http_server_t    *status_srv;     /* status_listen's, or NULL */
    store_t          *store;
    s3_ctx_t          ctx;
    s3_repl_t        *repl;
    s3_lc_t          *lc;
    uv_signal_t       sig_term, sig_int, sig_hup, sig_usr1;
    const char       *conf_path, *extra;   /* what SIGHUP reads again */
    gw_conf_t       **old;                 /* configurations a reload
                                            * replaced: kept to the end */
    size_t            nold;
    uv_timer_t        shutdown_timer;
    int               stopping;
    store_shared_t   *shared;           /* of several workers */
    http_connip_t    *connip;           /* of several workers:
                                         * limit_conn_per_ip's counts */
    SSL_CTX          *tls;              /* main's, until gw_serve takes it */
} gw_main_t;

static gw_main_t  gw_main;

static const http_server_cb_t  gw_http_cb = { s3_on_request, s3_on_error };
static const http_server_cb_t  gw_status_cb = { s3_status_on_request,
                                                s3_status_on_error };

static void
gw_usage(FILE *fp)
{
    fprintf(fp,
            "usage: s3gw [-c FILE] [-g DIRECTIVES] [-t] [-v]\n"
            "       s3gw [-c FILE] [-g DIRECTIVES] replication list [BUCKET]\n"
            "       s3gw [-c FILE] [-g DIRECTIVES] replication retry [BUCKET]\n"
            "  -c FILE        read the configuration from FILE (default: the\n"
            "                 embedded default, same as s3gw.conf.example)\n"
            "  -g DIRECTIVES  add or override directives, e.g.\n"
            "                 -g 'listen 127.0.0.1:9123; data_dir /tmp/d;'\n"
            "  -t             check the configuration and exit\n"
            "  -v             print the version and exit\n"
            "  replication list [BUCKET]\n"
            "                 print the replication queue of data_dir (of\n"
            "                 source bucket BUCKET, or all): one line per\n"
            "                 change, tab-separated: bucket, key, destination,\n"
            "                 put/delete, pending/failed, attempts, next try,\n"
            "                 queued at, last error; then\n"
            "                 \"N pending, N failed\"\n"
            "  replication retry [BUCKET]\n"
            "                 make every failed change (of BUCKET, or all)\n"
            "                 pending again, due now; prints how many\n"
            "  Both work while s3gw runs on the same data_dir, and change\n"
            "  nothing else in it.\n");
}

static void
gw_handle_closed(uv_handle_t *h)
{
    GW_UNUSED(h);
}

static void
gw_store_closed(store_t *st)
{
    GW_UNUSED(st);
    gw_main.store = NULL;
    uv_close((uv_handle_t *) &gw_main.sig_term, gw_handle_closed);
    uv_close((uv_handle_t *) &gw_main.sig_int, gw_handle_closed);
    uv_close((uv_handle_t *) &gw_main.sig_hup, gw_handle_closed);
    uv_close((uv_handle_t *) &gw_main.sig_usr1, gw_handle_closed);
    uv_close((uv_handle_t *) &gw_main.shutdown_timer, gw_handle_closed);
    gw_hashpipe_limit_close();
}

static void
gw_repl_stopped(void *ud)
{
    GW_UNUSED(ud);
    gw_main.repl = NULL;
    gw_log(GW_LOG_NOTICE, NULL, 0, "all connections closed; flushing the index");
    store_close(gw_main.store, gw_store_closed);
}

static void
gw_lc_stopped(void *ud)
{
    GW_UNUSED(ud);
    gw_main.lc = NULL;
    /* What the pusher has in flight stays in the outbox for the next
     * start. Only one worker of several runs it. */
    if (gw_main.repl == NULL) {
        gw_repl_stopped(NULL);
        return;
    }
    s3_repl_stop(gw_main.repl, gw_repl_stopped, NULL);
}

static void
gw_http_stopped(http_server_t *s)
{
    GW_UNUSED(s);
    uv_timer_stop(&gw_main.shutdown_timer);
    /* The lifecycle worker's deletes settle; its place is saved for the
     * next start. */
    if (gw_main.lc == NULL) {
        gw_lc_stopped(NULL);
        return;
    }
    s3_lc_stop(gw_main.lc, gw_lc_stopped, NULL);
}

static void
gw_shutdown_timeout(uv_timer_t *t)
{
    GW_UNUSED(t);
    gw_log(GW_LOG_WARN, NULL, 0, "shutdown_timeout passed: closing %zu "
           "connections", http_server_nconns(gw_main.srv));
    http_server_close_all(gw_main.srv);
    if (gw_main.status_srv != NULL) {
        http_server_close_all(gw_main.status_srv);
    }
}

static void
gw_on_signal(uv_signal_t *s, int signum)
{
    GW_UNUSED(s);
    if (gw_main.stopping) {
        return;
    }
    gw_main.stopping = 1;
    gw_notify("STOPPING=1");
    gw_log(GW_LOG_NOTICE, NULL, 0, "signal %d: shutting down", signum);
    uv_timer_start(&gw_main.shutdown_timer, gw_shutdown_timeout,
                   gw_main.ctx.cf->shutdown_timeout_ms, 0);
    /* The status listener stops with the S3 ones: a request of it being
     * answered ends at once, before the store closes. */
    if (gw_main.status_srv != NULL) {
        http_server_shutdown(gw_main.status_srv, NULL);
    }
    http_server_shutdown(gw_main.srv, gw_http_stopped);
}

/* SIGHUP: new or removed users (keys) and trusted proxies take effect for
 * the next request; connections stay open. */
/* The server context of the TLS listeners from cf's ssl_* directives into
 * *ctx; NULL (and GW_OK) when no listen has ssl. On error the message is in
 * err and *ctx is NULL. */
static int
gw_tls_load(const gw_conf_t *cf, SSL_CTX **ctx, char *err, size_t errlen)
{
    char    info[512];
    size_t  i;
    int     rc;

    *ctx = NULL;
    for (i = 0; i < cf->nlisten && !cf->listen[i].ssl; i++) {
        /* find the first TLS listener */
    }
    if (i == cf->nlisten) {
        return GW_OK;
    }
    rc = http_tls_server_ctx(ctx, cf->ssl_certificate,
                             cf->ssl_certificate_key, cf->ssl_protocols,
                             cf->ssl_ciphers, err, errlen, info,
                             sizeof(info));
    if (rc == GW_OK) {
        gw_log(GW_LOG_NOTICE, NULL, 0, "TLS certificate %s: %s",
               cf->ssl_certificate, info);
    }
    return rc;
}

/* The values of cf that the HTTP server and the logs read as they go. */
static void
gw_apply(const gw_conf_t *cf)
{
    gw_main.limits.max_header_size = cf->max_header_size;
    gw_main.limits.max_headers = cf->max_headers;
    gw_main.limits.max_url = cf->max_url;
    gw_main.limits.header_timeout_ms = cf->header_timeout_ms;
    gw_main.limits.idle_timeout_ms = cf->idle_timeout_ms;
    gw_main.limits.body_timeout_ms = cf->client_body_timeout_ms;
    gw_main.limits.max_connections = cf->max_connections;
    gw_main.limits.max_conns_per_ip = gw_conf_conn_per_ip(cf);
    gw_log_level = cf->log_level;
    gw_log_access_format = cf->access_log_format == GW_CONF_LOG_JSON
                           ? GW_LOG_FORMAT_JSON : GW_LOG_FORMAT_TEXT;
    if (gw_main.loop != NULL) {     /* a worker's, or the only process */
        gw_hashpipe_limit(gw_main.loop, cf->upload_memory);
    }
}

static void
gw_restart_changed(void *ud, const char *name)
{
    GW_UNUSED(ud);
    gw_log(GW_LOG_WARN, NULL, 0, "%s changed: needs a restart, the old "
           "value stays", name);
}

/* Makes next the running configuration, after everything that can fail
 * (certificates, access_log, replication clients) succeeded; on a failure
 * the running one stays whole. GW_OK or GW_ERROR (logged). */
static int
gw_reload_swap(gw_conf_t *next, int signum)
{
    const gw_conf_t  *cur = gw_main.ctx.cf;
    SSL_CTX          *ctx;
    char              err[1024];
    int               log_moved = 0;

    if (gw_tls_load(next, &ctx, err, sizeof(err)) != GW_OK) {
        gw_log(GW_LOG_ERR, NULL, 0, "signal %d: TLS certificate not "
               "reloaded, the old one stays: %s (configuration not "
               "reloaded)", signum, err);
        return GW_ERROR;
    }
    if (strcmp(next->access_log, cur->access_log) != 0) {
        if (gw_log_access_open(next->access_log) != GW_OK) {
            gw_log(GW_LOG_ERR, NULL, -errno, "signal %d: configuration not "
                   "reloaded, the old one stays: cannot open access_log "
                   "\"%s\"", signum, next->access_log);
            SSL_CTX_free(ctx);
            return GW_ERROR;
        }
        log_moved = 1;
    }
    if (gw_main.repl != NULL && s3_repl_reload(gw_main.repl, next) != GW_OK) {
        gw_log(GW_LOG_ERR, NULL, 0, "signal %d: configuration not reloaded, "
               "the old one stays: a replication_target failed", signum);
        if (log_moved) {
            gw_log_access_open(cur->access_log);
        }
        SSL_CTX_free(ctx);
        return GW_ERROR;
    }
    /* Requests in flight may hold pointers into cur (a user, a target, a
     * CORS rule): it stays allocated until exit. */
    gw_main.old = gw_realloc(gw_main.old,
                             (gw_main.nold + 1) * sizeof(*gw_main.old));
    gw_main.old[gw_main.nold++] = (gw_conf_t *) cur;
    gw_main.ctx.cf = next;
    gw_apply(next);
    if (ctx != NULL) {
        http_server_set_tls(gw_main.srv, ctx);
    }
    return GW_OK;
}

/* SIGHUP: the whole configuration is read again. Users, trusted proxies,
 * limits, CORS default, replication targets, log level and access log
 * take effect for the next request (the certificates for the next
 * handshake); connections stay open. A file that does not parse, or a
 * certificate that does not load, changes nothing. Directives the running
 * server cannot change keep their values and are named in the log. */
static void
gw_on_reload(uv_signal_t *s, int signum)
{
    gw_conf_t  *next = gw_calloc(1, sizeof(*next));
    char        err[1024];

    GW_UNUSED(s);
    gw_notify("RELOADING=1");
    if (gw_conf_load(next, gw_main.conf_path, gw_main.extra, err,
                     sizeof(err)) != GW_OK)
    {
        gw_log(GW_LOG_ERR, NULL, 0, "signal %d: configuration not reloaded, "
               "the old one stays: %s", signum, err);
        goto fail;
    }
    gw_conf_keep_restart(gw_main.ctx.cf, next, gw_restart_changed, NULL);
    if (gw_reload_swap(next, signum) != GW_OK) {
        goto fail;
    }
    gw_log(GW_LOG_NOTICE, NULL, 0, "signal %d: configuration %s: reloaded "
           "%zu users, %zu replication targets", signum, next->file,
           next->nusers, next->ntargets);
    gw_notify("READY=1");
    return;

fail:
    gw_conf_free(next);
    gw_free(next);
    gw_notify("READY=1");
}

/* SIGUSR1: logrotate renamed the access log; lines go to a new file at
 * its path from now on. */
static void
gw_on_reopen(uv_signal_t *s, int signum)
{
    GW_UNUSED(s);
    if (gw_log_access_reopen() != GW_OK) {
        gw_log(GW_LOG_ERR, NULL, -errno, "signal %d: cannot reopen "
               "access_log \"%s\", the old file stays", signum,
               gw_main.ctx.cf->access_log);
        return;
    }
    gw_log(GW_LOG_NOTICE, NULL, 0, "signal %d: reopened access_log %s",
           signum, gw_main.ctx.cf->access_log);
}

/* status_listen: a server of its own, so that nothing of the S3 namespace
 * is taken and its requests are not counted as S3's. GW_OK, or 1 with the
 * message on stderr. */
static int
gw_status_listen(gw_main_t *m)
{
    const gw_conf_listen_t  *l = &m->cf.status_listen;
    int                      rc;

    if (l->port == 0) {
        return GW_OK;
    }
    m->status_srv = http_server_create(m->loop, &gw_status_cb, &m->limits,
                                       &m->ctx);
    rc = http_server_listen(m->status_srv, l->host, l->port);
    if (rc != GW_OK) {
        fprintf(stderr, "s3gw: cannot listen on %s:%d (status_listen): %s\n",
                l->host, l->port, gw_strerror(rc));
        return 1;
    }
    return GW_OK;
}

/* ==== admin commands ==== */

/* An ISO 8601 UTC time of unix ms into buf (32 bytes); "-" for none. */
static const char *
gw_cmd_time(int64_t ms, char *buf, size_t cap)
{
    time_t     t = (time_t) (ms / 1000);
    struct tm  tm;

    if (ms <= 0 || gmtime_r(&t, &tm) == NULL
        || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        return "-";
    }
    return buf;
}

typedef struct {
    uint64_t  pending, failed;
} gw_cmd_list_t;

/* One line per entry. The key and the error came from clients and from
 * the destination: escaped as the logs escape them (control bytes, bytes
 * above 0x7e and backslash as \xHH), so no byte of theirs can reach the
 * terminal as a control sequence, nor split the line or its columns. */
static int
gw_cmd_list_entry(void *ud, const store_outbox_entry_t *e)
{
    static char     key[STORE_KEY_MAX * 4 + 1];
    static char     error[sizeof(e->error) * 4 + 1];
    gw_cmd_list_t  *l = ud;
    char            next[32], queued[32];

    gw_log_escape(key, sizeof(key), e->key.base, e->key.len);
    gw_log_escape(error, sizeof(error), e->error, strlen(e->error));
    printf("%s\t%s\t%s\t%s\t%s\t%" PRIu32 "\t%s\t%s\t%s\n", e->bucket, key,
           e->dest, e->change == STORE_REPL_DELETE ? "delete" : "put",
           e->failed ? "failed" : "pending", e->attempts,
           e->failed ? "-" : gw_cmd_time(e->next_try_ms, next, sizeof(next)),
           gw_cmd_time(e->queued_ms, queued, sizeof(queued)),
           error[0] != '\0' ? error : "-");
    *(e->failed ? &l->failed : &l->pending) += 1;
    return 0;
}

static int64_t
gw_cmd_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* s3gw ... replication list|retry [BUCKET]: args are the words after
 * "replication". Exit status 0, or 1 with a message on stderr. */
static int
gw_cmd_replication(const gw_conf_t *cf, int argc, char **argv)
{
    const char     *verb, *bucket;
    store_t        *st;
    store_bucket_t  b;
    gw_cmd_list_t   l;
    uint64_t        n;
    char            err[1024], in[STORE_BUCKET_MAX + 32];
    int             list, rc;

    if (argc < 1 || argc > 2
        || (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "retry") != 0))
    {
        gw_usage(stderr);
        return 1;
    }
    verb = argv[0];
    list = strcmp(verb, "list") == 0;
    bucket = argc == 2 ? argv[1] : NULL;
    if (bucket != NULL
        && (bucket[0] == '\0' || strlen(bucket) > STORE_BUCKET_MAX))
    {
        fprintf(stderr, "s3gw: replication %s: \"%s\" is not a bucket name\n",
                verb, bucket);
        return 1;
    }
    /* Read-only for list: it cannot change a byte of the index. */
    rc = store_open_tool(&st, cf, list ? STORE_TOOL_READ : STORE_TOOL_WRITE,
                         err, sizeof(err));
    if (rc != GW_OK) {
        fprintf(stderr, "s3gw: replication %s: %s\n", verb, err);
        return 1;
    }
    in[0] = '\0';
    if (bucket != NULL) {
        snprintf(in, sizeof(in), " in bucket %s", bucket);
        if (store_bucket_get(st, bucket, &b) == GW_ENOTFOUND) {
            /* Not an error: a deleted bucket's last deletes may wait. */
            fprintf(stderr, "s3gw: replication %s: note: the store in "
                    "\"%s\" has no bucket \"%s\"\n", verb, cf->data_dir,
                    bucket);
        }
    }
    if (list) {
        memset(&l, 0, sizeof(l));
        printf("bucket\tkey\tdestination\tchange\tstate\tattempts\t"
               "next_try\tqueued\terror\n");
        rc = store_outbox_list(st, bucket, gw_cmd_list_entry, &l);
        if (rc == GW_OK) {
            printf("%" PRIu64 " pending, %" PRIu64 " failed%s\n", l.pending,
                   l.failed, in);
        }
    } else {
        rc = store_outbox_retry_failed(st, bucket, gw_cmd_now_ms(), &n);
        if (rc == GW_OK || n > 0) {
            printf("%" PRIu64 " failed change%s queued again%s\n", n,
                   n == 1 ? "" : "s", in);
        }
    }
    store_close_tool(st);
    if (rc != GW_OK) {
        fprintf(stderr, "s3gw: replication %s: the queue in \"%s\": %s\n",
                verb, cf->data_dir, gw_strerror(rc));
        return 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "s3gw: replication %s: cannot write the output\n",
                verb);
        return 1;
    }
    return 0;
}

/* ==== the server: the one process, or one worker of several ==== */

/* Listens where the configuration says (a single process), or on the
 * sockets the master bound for this worker. */
static int
gw_listen(const gw_worker_t *w)
{
    size_t    i;
    unsigned  flags;
    int       rc;

    for (i = 0; i < gw_main.cf.nlisten; i++) {
        flags = (gw_main.cf.listen[i].ssl ? HTTP_LISTEN_TLS : 0)
                | (gw_main.cf.listen[i].proxy_protocol ? HTTP_LISTEN_PROXY : 0);
        rc = w != NULL ? http_server_listen_fd(gw_main.srv, w->fds[i], flags)
             : http_server_listen_opts(gw_main.srv, gw_main.cf.listen[i].host,
                                       gw_main.cf.listen[i].port, flags);
        if (rc != GW_OK) {
            fprintf(stderr, "s3gw: cannot listen on %s:%d: %s\n",
                    gw_main.cf.listen[i].host, gw_main.cf.listen[i].port,
                    gw_strerror(rc));
            return rc;
        }
    }
    return GW_OK;
}

/* The configurations SIGHUP replaced, kept until exit (gw_reload_swap),
 * and the running one unless it is gw_main.cf itself. */
static void
gw_olds_free(void)
{
    size_t  i;

    if (gw_main.ctx.cf != NULL && gw_main.ctx.cf != &gw_main.cf) {
        gw_conf_free((gw_conf_t *) gw_main.ctx.cf);
        gw_free((gw_conf_t *) gw_main.ctx.cf);
    }
    for (i = 0; i < gw_main.nold; i++) {
        if (gw_main.old[i] != &gw_main.cf) {
            gw_conf_free(gw_main.old[i]);
            gw_free(gw_main.old[i]);
        }
    }
    gw_free(gw_main.old);
    gw_main.old = NULL;
    gw_main.nold = 0;
}

/* Opens the store and, where this process runs them, the background jobs.
 * Of several workers, the first runs them: the collector, upload expiry,
 * the lifecycle worker, the pusher. GW_OK, or GW_ERROR once said on
 * stderr. */
static int
gw_serve_store(const gw_worker_t *w)
{
    store_open_opts_t  so;
    int                rc;

    so.shared = w != NULL ? gw_main.shared : NULL;
    so.worker = w != NULL ? w->index : 0;
    so.sweep = w == NULL;
    so.collect = w == NULL || w->index == 0;
    rc = store_open_opts(&gw_main.store, gw_main.loop, &gw_main.cf, &so);
    if (rc != GW_OK) {
        fprintf(stderr, "s3gw: cannot open the store in %s: %s\n",
                gw_main.cf.data_dir, gw_strerror(rc));
        return GW_ERROR;
    }
    gw_main.ctx.cf = &gw_main.cf;
    gw_main.ctx.store = gw_main.store;
    gw_main.ctx.loop = gw_main.loop;
    if (so.collect && s3_repl_start(&gw_main.ctx, &gw_main.repl) != GW_OK) {
        fprintf(stderr, "s3gw: cannot start the replication pusher\n");
        return GW_ERROR;
    }
    if (so.collect && s3_lc_start(&gw_main.ctx, &gw_main.lc) != GW_OK) {
        fprintf(stderr, "s3gw: cannot start the lifecycle worker\n");
        return GW_ERROR;
    }
    return GW_OK;
}

/* The HTTP server, its TLS context and every listener, the status port
 * first. GW_OK, or GW_ERROR once said. */
static int
gw_serve_http(const gw_worker_t *w)
{
    char  err[1024];

    gw_apply(&gw_main.cf);
    gw_main.srv = http_server_create(gw_main.loop, &gw_http_cb,
                                     &gw_main.limits, &gw_main.ctx);
    if (w != NULL && gw_main.tls != NULL) {
        /* A worker started after a SIGHUP takes the certificate the
         * master's configuration names now, not the one it began with. */
        SSL_CTX_free(gw_main.tls);
        if (gw_tls_load(&gw_main.cf, &gw_main.tls, err, sizeof(err))
            != GW_OK)
        {
            fprintf(stderr, "s3gw: %s\n", err);
            return GW_ERROR;
        }
    }
    if (w != NULL) {
        http_server_set_connip(gw_main.srv, gw_main.connip, w->index);
    }
    http_server_count(gw_main.srv);
    http_server_set_tls(gw_main.srv, gw_main.tls);
    gw_main.tls = NULL;
    /* First: a status port that cannot be had stops the start before any
     * S3 port accepts (what a supervisor sees: not up, not half up). Of
     * several workers the first serves it: the counters are shared. */
    if ((w == NULL || w->index == 0) && gw_status_listen(&gw_main) != GW_OK) {
        return GW_ERROR;
    }
    return gw_listen(w) == GW_OK ? GW_OK : GW_ERROR;
}

static void
gw_serve_signals(const gw_worker_t *w)
{
    uv_signal_init(gw_main.loop, &gw_main.sig_term);
    uv_signal_init(gw_main.loop, &gw_main.sig_int);
    uv_signal_start(&gw_main.sig_term, gw_on_signal, SIGTERM);
    uv_signal_start(&gw_main.sig_int, gw_on_signal, SIGINT);
    uv_signal_init(gw_main.loop, &gw_main.sig_hup);
    uv_signal_start(&gw_main.sig_hup, gw_on_reload, SIGHUP);
    uv_signal_init(gw_main.loop, &gw_main.sig_usr1);
    uv_signal_start(&gw_main.sig_usr1, gw_on_reopen, SIGUSR1);
    uv_timer_init(gw_main.loop, &gw_main.shutdown_timer);
    if (w != NULL) {
        gw_master_worker_signals();
    }
}

static void
gw_serve_ready(const gw_worker_t *w)
{
    if (w == NULL) {
        /* stdout carries the access log only: the banner goes to stderr.
         * (The master prints it for its workers.) */
        gw_conf_print_summary(&gw_main.cf, stderr);
        gw_log(GW_LOG_NOTICE, NULL, 0, "s3gw ready (version %s)", GW_VERSION);
        /* The listeners are bound and listening: connections are accepted
         * from here on, the kernel queues them until the loop runs. (Of
         * several workers, the master tells.) */
        gw_notify("READY=1");
    } else {
        gw_log(GW_LOG_NOTICE, NULL, 0, "worker %zu ready (pid %ld, version "
               "%s)", w->index, (long) getpid(), GW_VERSION);
    }
}

/* After the loop ran out: what the process still holds. */
static void
gw_serve_exit(void)
{
    int  rc;

    rc = uv_loop_close(gw_main.loop);
    if (rc != 0) {
        gw_log(GW_LOG_WARN, NULL, rc, "loop closed with handles open");
    }
    http_server_set_tls(gw_main.srv, NULL);
    gw_log(GW_LOG_NOTICE, NULL, 0, "exiting");
    gw_log_access_open("off");
    s3_access_cache_free(&gw_main.ctx);
    gw_olds_free();
    gw_conf_free(&gw_main.cf);
}

/* w is NULL for a single process; otherwise this worker's part (master.h).
 * Returns the exit status. */
static int
gw_serve(const gw_worker_t *w, void *ud)
{
    GW_UNUSED(ud);
    if (w != NULL) {
        gw_metrics_set_worker(w->index);
    }
    if (gw_log_access_open(gw_main.cf.access_log) != GW_OK) {
        fprintf(stderr, "s3gw: cannot open access_log \"%s\"\n",
                gw_main.cf.access_log);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    /* fsync and index commits sit in the thread pool: give it room so that
     * reads are not stuck behind them. */
    setenv("UV_THREADPOOL_SIZE", "16", 0);

    gw_main.loop = uv_default_loop();
    /* The handlers go in before the listeners open: a SIGTERM sent as soon
     * as the port answers must shut down cleanly, not kill the process
     * (test_format met that window under ASan). libuv only records the
     * signal here; its callback runs in the loop, once all is up. */
    gw_serve_signals(w);
    if (gw_serve_store(w) != GW_OK || gw_serve_http(w) != GW_OK) {
        return 1;
    }
    gw_serve_ready(w);

    uv_run(gw_main.loop, UV_RUN_DEFAULT);

    gw_serve_exit();
    return 0;
}

/* Master: whatever the worker before pinned or was reading is over. */
static void
gw_worker_starting(size_t index, void *ud)
{
    GW_UNUSED(ud);
    store_shared_clear(gw_main.shared, index);
    gw_metrics_worker_gone(index);
}

/* Master: a worker died, and its connections with it. */
static void
gw_worker_gone(size_t index, void *ud)
{
    GW_UNUSED(ud);
    http_connip_worker_gone(gw_main.connip, index);
}

static const gw_master_cb_t  gw_master_cb = { gw_serve, gw_worker_starting,
                                              gw_worker_gone };

/* Loads the configuration and the TLS certificate, and runs what stops
 * there: -t, or an admin command (args, nargs: the words after the
 * options). Returns the exit status of those, or -1 to serve. */
static int
gw_main_config(const char *conf_path, const char *extra, int test_only,
               int nargs, char **args)
{
    char  err[1024];
    int   rc;

    if (gw_conf_load(&gw_main.cf, conf_path, extra, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "s3gw: %s\n", err);
        if (test_only) {
            fprintf(stderr, "s3gw: configuration file %s test failed\n",
                    conf_path ? conf_path : "(embedded)");
        }
        return 1;
    }
    if (nargs > 0) {
        gw_log_level = gw_main.cf.log_level;
        rc = gw_cmd_replication(&gw_main.cf, nargs - 1, args + 1);
        gw_conf_free(&gw_main.cf);
        return rc;
    }
    /* As nginx -t: the certificate and key must load too. Workers forked
     * later inherit the context (OpenSSL 3 reseeds its generators in a
     * child) and load their own on SIGHUP. */
    if (gw_tls_load(&gw_main.cf, &gw_main.tls, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "s3gw: %s\n", err);
        if (test_only) {
            fprintf(stderr, "s3gw: configuration file %s test failed\n",
                    gw_main.cf.file);
        }
        gw_conf_free(&gw_main.cf);
        return 1;
    }
    if (test_only) {
        SSL_CTX_free(gw_main.tls);
        printf("s3gw: the configuration file %s syntax is ok\n"
               "s3gw: configuration file %s test is successful\n",
               gw_main.cf.file, gw_main.cf.file);
        gw_conf_free(&gw_main.cf);
        return 0;
    }
    return -1;
}

/* Several workers: what they share is made before the master forks them.
 * Returns the exit status. */
static int
gw_main_workers(size_t nworkers)
{
    int  rc;

    /* Checked once here, so a bad path fails the start, not each worker. */
    if (gw_log_access_open(gw_main.cf.access_log) != GW_OK) {
        fprintf(stderr, "s3gw: cannot open access_log \"%s\"\n",
                gw_main.cf.access_log);
        return 1;
    }
    gw_log_access_open("off");
    /* Nothing of LMDB may be open across fork(): prepared, then closed. */
    rc = store_prepare(&gw_main.cf);
    if (rc != GW_OK) {
        fprintf(stderr, "s3gw: cannot open the store in %s: %s\n",
                gw_main.cf.data_dir, gw_strerror(rc));
        return 1;
    }
    gw_main.shared = store_shared_create(nworkers);
    if (gw_main.shared == NULL) {
        fprintf(stderr, "s3gw: cannot map the workers' shared memory\n");
        return 1;
    }
    gw_main.connip = http_connip_create(nworkers, gw_main.cf.max_connections);
    if (gw_main.connip == NULL) {
        fprintf(stderr, "s3gw: cannot map the workers' shared memory\n");
        store_shared_free(gw_main.shared);
        return 1;
    }
    rc = gw_master_run(&gw_main.cf, gw_main.conf_path, gw_main.extra,
                       nworkers, &gw_master_cb, NULL);
    http_connip_free(gw_main.connip);
    store_shared_free(gw_main.shared);
    SSL_CTX_free(gw_main.tls);
    gw_conf_free(&gw_main.cf);
    return rc;
}

int
main(int argc, char **argv)
{
    const char  *conf_path = NULL, *extra = NULL;
    size_t       nworkers;
    int          opt, test_only = 0, rc;

    /* "+": options stop at the first word, the command's. */
    while ((opt = getopt(argc, argv, "+c:g:tvh")) != -1) {
        switch (opt) {
        case 'c': conf_path = optarg; break;
        case 'g': extra = optarg; break;
        case 't': test_only = 1; break;
        case 'v':
            printf("s3gw version %s\n", GW_VERSION);
            return 0;
        case 'h':
            gw_usage(stdout);
            return 0;
        default:
            gw_usage(stderr);
            return 1;
        }
    }
    if (optind < argc
        && (test_only || strcmp(argv[optind], "replication") != 0))
    {
        gw_usage(stderr);
        return 1;
    }

    gw_hash_init();
    rc = gw_main_config(conf_path, extra, test_only, argc - optind,
                        argv + optind);
    if (rc >= 0) {
        return rc;
    }
    gw_apply(&gw_main.cf);
    gw_main.conf_path = conf_path;
    gw_main.extra = extra;
    nworkers = gw_conf_workers(&gw_main.cf);
    /* Before any fork: the workers share the counters' mapping. */
    s3_routes_metrics();
    rc = gw_metrics_init((unsigned) nworkers);
    if (rc != GW_OK) {
        fprintf(stderr, "s3gw: cannot map the metrics counters: %s\n",
                gw_strerror(rc));
        return 1;
    }
    if (nworkers == 1) {
        return gw_serve(NULL, NULL);
    }
    return gw_main_workers(nworkers);
}
