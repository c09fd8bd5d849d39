/* core/main.c: the s3gw process: command line, config, the loop, signals
 * and the orderly shutdown (stop accepting, let in-flight requests finish
 * within shutdown_timeout, flush the index, exit 0). */
#include "core/conf.h"
#include "core/gw.h"
#include "core/hash.h"
#include "core/log.h"
#include "http/conn.h"
#include "s3/s3.h"
#include "s3/bg/replicate.h"
#include "store/store.h"

#include <signal.h>
#include <unistd.h>

#define GW_VERSION  "0.1.0"

typedef struct gw_main_s {
    uv_loop_t        *loop;
    gw_conf_t         cf;
    http_limits_t     limits;
    http_server_t    *srv;
    store_t          *store;
    s3_ctx_t          ctx;
    s3_repl_t        *repl;
    uv_signal_t       sig_term, sig_int, sig_hup;
    const char       *conf_path, *extra;   /* what SIGHUP reads again */
    uv_timer_t        shutdown_timer;
    int               stopping;
} gw_main_t;

static gw_main_t  gw_main;

static const http_server_cb_t  gw_http_cb = { s3_on_request, s3_on_error };

static void
gw_usage(FILE *fp)
{
    fprintf(fp,
            "usage: s3gw [-c FILE] [-g DIRECTIVES] [-t] [-v]\n"
            "  -c FILE        read the configuration from FILE (default: the\n"
            "                 embedded default, same as s3gw.conf.example)\n"
            "  -g DIRECTIVES  add or override directives, e.g.\n"
            "                 -g 'listen 127.0.0.1:9123; data_dir /tmp/d;'\n"
            "  -t             check the configuration and exit\n"
            "  -v             print the version and exit\n");
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
    uv_close((uv_handle_t *) &gw_main.shutdown_timer, gw_handle_closed);
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
gw_http_stopped(http_server_t *s)
{
    GW_UNUSED(s);
    uv_timer_stop(&gw_main.shutdown_timer);
    /* What the pusher has in flight stays in the outbox for the next
     * start. */
    s3_repl_stop(gw_main.repl, gw_repl_stopped, NULL);
}

static void
gw_shutdown_timeout(uv_timer_t *t)
{
    GW_UNUSED(t);
    gw_log(GW_LOG_WARN, NULL, 0, "shutdown_timeout passed: closing %zu "
           "connections", http_server_nconns(gw_main.srv));
    http_server_close_all(gw_main.srv);
}

static void
gw_on_signal(uv_signal_t *s, int signum)
{
    GW_UNUSED(s);
    if (gw_main.stopping) {
        return;
    }
    gw_main.stopping = 1;
    gw_log(GW_LOG_NOTICE, NULL, 0, "signal %d: shutting down", signum);
    uv_timer_start(&gw_main.shutdown_timer, gw_shutdown_timeout,
                   gw_main.cf.shutdown_timeout_ms, 0);
    http_server_shutdown(gw_main.srv, gw_http_stopped);
}

/* SIGHUP: new or removed users (keys) and trusted proxies take effect for
 * the next request; connections stay open. */
static void
gw_on_reload(uv_signal_t *s, int signum)
{
    char  err[1024];

    GW_UNUSED(s);
    if (gw_conf_reload_users(&gw_main.cf, gw_main.conf_path, gw_main.extra,
                             err, sizeof(err)) != GW_OK)
    {
        gw_log(GW_LOG_ERR, NULL, 0, "signal %d: configuration not reloaded: "
               "%s", signum, err);
        return;
    }
    gw_log(GW_LOG_NOTICE, NULL, 0, "signal %d: reloaded %zu users", signum,
           gw_main.cf.nusers);
}

int
main(int argc, char **argv)
{
    const char  *conf_path = NULL, *extra = NULL;
    char         err[1024];
    size_t       i;
    int          opt, test_only = 0, rc;

    while ((opt = getopt(argc, argv, "c:g:tvh")) != -1) {
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
    if (optind < argc) {
        gw_usage(stderr);
        return 1;
    }

    gw_hash_init();
    if (gw_conf_load(&gw_main.cf, conf_path, extra, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "s3gw: %s\n", err);
        if (test_only) {
            fprintf(stderr, "s3gw: configuration file %s test failed\n",
                    conf_path ? conf_path : "(embedded)");
        }
        return 1;
    }
    if (gw_main.cf.worker_processes != 1) {
        fprintf(stderr, "s3gw: worker_processes %zu: only 1 is supported in "
                "this version\n", gw_main.cf.worker_processes);
        return 1;
    }
    if (test_only) {
        printf("s3gw: the configuration file %s syntax is ok\n"
               "s3gw: configuration file %s test is successful\n",
               gw_main.cf.file, gw_main.cf.file);
        gw_conf_free(&gw_main.cf);
        return 0;
    }

    gw_log_level = gw_main.cf.log_level;
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
    rc = store_open(&gw_main.store, gw_main.loop, &gw_main.cf);
    if (rc != GW_OK) {
        fprintf(stderr, "s3gw: cannot open the store in %s: %s\n",
                gw_main.cf.data_dir, gw_strerror(rc));
        return 1;
    }
    gw_main.ctx.cf = &gw_main.cf;
    gw_main.ctx.store = gw_main.store;
    gw_main.ctx.loop = gw_main.loop;
    if (s3_repl_start(&gw_main.ctx, &gw_main.repl) != GW_OK) {
        fprintf(stderr, "s3gw: cannot start the replication pusher\n");
        return 1;
    }
    gw_main.limits.max_header_size = gw_main.cf.max_header_size;
    gw_main.limits.max_headers = gw_main.cf.max_headers;
    gw_main.limits.max_url = gw_main.cf.max_url;
    gw_main.limits.header_timeout_ms = gw_main.cf.header_timeout_ms;
    gw_main.limits.idle_timeout_ms = gw_main.cf.idle_timeout_ms;
    gw_main.limits.body_timeout_ms = gw_main.cf.client_body_timeout_ms;
    gw_main.limits.max_connections = gw_main.cf.max_connections;
    gw_main.limits.max_conns_per_ip = gw_conf_conn_per_ip(&gw_main.cf);
    gw_main.srv = http_server_create(gw_main.loop, &gw_http_cb,
                                     &gw_main.limits, &gw_main.ctx);
    for (i = 0; i < gw_main.cf.nlisten; i++) {
        rc = http_server_listen(gw_main.srv, gw_main.cf.listen[i].host,
                                gw_main.cf.listen[i].port);
        if (rc != GW_OK) {
            fprintf(stderr, "s3gw: cannot listen on %s:%d: %s\n",
                    gw_main.cf.listen[i].host, gw_main.cf.listen[i].port,
                    gw_strerror(rc));
            return 1;
        }
    }
    uv_signal_init(gw_main.loop, &gw_main.sig_term);
    uv_signal_init(gw_main.loop, &gw_main.sig_int);
    uv_signal_start(&gw_main.sig_term, gw_on_signal, SIGTERM);
    uv_signal_start(&gw_main.sig_int, gw_on_signal, SIGINT);
    uv_signal_init(gw_main.loop, &gw_main.sig_hup);
    uv_signal_start(&gw_main.sig_hup, gw_on_reload, SIGHUP);
    gw_main.conf_path = conf_path;
    gw_main.extra = extra;
    uv_timer_init(gw_main.loop, &gw_main.shutdown_timer);

    /* stdout carries the access log only: the banner goes to stderr. */
    gw_conf_print_summary(&gw_main.cf, stderr);
    gw_log(GW_LOG_NOTICE, NULL, 0, "s3gw ready (version %s)", GW_VERSION);

    uv_run(gw_main.loop, UV_RUN_DEFAULT);

    rc = uv_loop_close(gw_main.loop);
    if (rc != 0) {
        gw_log(GW_LOG_WARN, NULL, rc, "loop closed with handles open");
    }
    gw_log(GW_LOG_NOTICE, NULL, 0, "exiting");
    gw_log_access_open("off");
    s3_access_cache_free(&gw_main.ctx);
    gw_conf_free(&gw_main.cf);
    return 0;
}
