/* core/master.c: the master process of worker_processes N (see master.h).
 *
 * Sockets. Each worker gets a listening socket of its own per listen
 * directive, all bound by the master before the first fork with
 * SO_REUSEPORT, so the kernel spreads new connections over the workers by
 * their addresses. One socket shared by all would be one accept queue,
 * but libuv accepts greedily: the worker that wakes first takes a whole
 * burst of connections, and keep-alive clients then stay where they
 * landed. The master keeps every socket open, so a dead worker's queued
 * connections wait for the worker that replaces it instead of being reset.
 *
 * LMDB. An environment must not be used across fork(): the caller
 * prepares the store before (core/main.c: store_prepare opens it, checks
 * or upgrades its format, cleans tmp/, sweeps, closes it), and each worker
 * opens its own. The master uses no libuv loop either (no threads to lose in the fork): it waits for its
 * signals with sigtimedwait. */
#include "core/master.h"
#include "core/gw.h"
#include "core/log.h"
#include "core/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#define GW_RESTART_FAST_MS   1000   /* a worker that dies sooner than this */
#define GW_RESTART_PAUSE_MIN 100    /* ... is restarted after this, */
#define GW_RESTART_PAUSE_MAX 5000   /* doubling up to this */

typedef struct {
    pid_t      pid;             /* 0: not running */
    uint64_t   started_ms;
    uint64_t   restart_at_ms;   /* when pid is 0 and not stopping */
    unsigned   pause_ms;
    int       *fds;
    int        status;          /* its last exit status */
} gw_slot_t;

typedef struct {
    gw_conf_t       *cf;
    const char      *conf_path, *extra;
    size_t           n;
    gw_slot_t       *w;
    const gw_master_cb_t *cb;
    void            *ud;
    sigset_t         old_mask;
    int              stopping;
    uint64_t         kill_at_ms;
    int              failed;    /* a worker did not stop cleanly */
} gw_master_t;

static uint64_t
gw_master_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* A listening socket of one worker on l; -errno on failure. */
static int
gw_master_socket(const gw_conf_listen_t *l)
{
    struct sockaddr_storage  ss;
    int                      fd, on = 1, rc;

    memset(&ss, 0, sizeof(ss));
    rc = strchr(l->host, ':') != NULL
         ? uv_ip6_addr(l->host, l->port, (struct sockaddr_in6 *) &ss)
         : uv_ip4_addr(l->host, l->port, (struct sockaddr_in *) &ss);
    if (rc != 0) {
        return rc;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0
        || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0
        || (ss.ss_family == AF_INET6
            && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0)
        || bind(fd, (struct sockaddr *) &ss, ss.ss_family == AF_INET6
                ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in))
           != 0
        || listen(fd, 511) != 0)
    {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

static int
gw_master_bind(gw_master_t *m)
{
    size_t  i, j;
    int     fd;

    for (i = 0; i < m->n; i++) {
        m->w[i].fds = gw_alloc(sizeof(int) * (m->cf->nlisten + 1));
        for (j = 0; j < m->cf->nlisten; j++) {
            m->w[i].fds[j] = -1;
        }
        for (j = 0; j < m->cf->nlisten; j++) {
            fd = gw_master_socket(&m->cf->listen[j]);
            if (fd < 0) {
                fprintf(stderr, "s3gw: cannot listen on %s:%d: %s\n",
                        m->cf->listen[j].host, m->cf->listen[j].port,
                        gw_strerror(fd));
                return fd;
            }
            m->w[i].fds[j] = fd;
        }
    }
    return GW_OK;
}

/* In the new worker: keep only its own sockets, take the signals back,
 * and stop with the master. */
static void
gw_master_child(gw_master_t *m, size_t i, pid_t master)
{
    gw_worker_t  w;
    sigset_t     mask;
    size_t       k, j;
    int          rc;

    for (k = 0; k < m->n; k++) {
        for (j = 0; k != i && j < m->cf->nlisten; j++) {
            close(m->w[k].fds[j]);
        }
    }
    /* SIGTERM, SIGINT and SIGHUP stay blocked until the worker's handlers
     * are in place (gw_master_worker_signals): one that comes while it
     * starts waits for them instead of killing it. */
    mask = m->old_mask;
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    /* The master alone talks to the service manager (NotifyAccess=main). */
    unsetenv("NOTIFY_SOCKET");
    /* A master killed outright must not leave workers serving alone. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != master) {
        _exit(1);
    }
    w.index = i;
    w.fds = m->w[i].fds;
    w.nfds = m->cf->nlisten;
    rc = m->cb->run(&w, m->ud);
    for (k = 0; k < m->n; k++) {
        gw_free(m->w[k].fds);
    }
    gw_free(m->w);
    exit(rc);
}

void
gw_master_worker_signals(void)
{
    sigset_t  set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static int
gw_master_spawn(gw_master_t *m, size_t i)
{
    pid_t  master = getpid(), pid;

    m->cb->starting(i, m->ud);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        gw_log(GW_LOG_ALERT, NULL, -errno, "cannot start worker %zu", i);
        return -errno;
    }
    if (pid == 0) {
        gw_master_child(m, i, master);
    }
    m->w[i].pid = pid;
    m->w[i].started_ms = gw_master_now();
    gw_log(GW_LOG_NOTICE, NULL, 0, "worker %zu started (pid %ld)", i,
           (long) pid);
    return GW_OK;
}

static void
gw_master_reaped(gw_master_t *m, size_t i, int status)
{
    gw_slot_t  *s = &m->w[i];
    uint64_t    now = gw_master_now();
    char        how[64];

    if (WIFSIGNALED(status)) {
        snprintf(how, sizeof(how), "was killed by signal %d",
                 WTERMSIG(status));
    } else {
        snprintf(how, sizeof(how), "exited with %d", WEXITSTATUS(status));
    }
    s->status = status;
    if (m->stopping) {
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            m->failed = 1;
            gw_log(GW_LOG_ERR, NULL, 0, "worker %zu (pid %ld) %s while "
                   "stopping", i, (long) s->pid, how);
        }
        s->pid = 0;
        return;
    }
    m->cb->gone(i, m->ud);
    /* Dying at once, over and over (a full disk, a bad file): pause. */
    if (now - s->started_ms < GW_RESTART_FAST_MS) {
        s->pause_ms = s->pause_ms == 0 ? GW_RESTART_PAUSE_MIN
                      : GW_MIN(s->pause_ms * 2, GW_RESTART_PAUSE_MAX);
    } else {
        s->pause_ms = 0;
    }
    gw_log(GW_LOG_ALERT, NULL, 0, "worker %zu (pid %ld) %s; starting "
           "another%s", i, (long) s->pid, how,
           s->pause_ms ? " after a pause" : "");
    s->pid = 0;
    s->restart_at_ms = now + s->pause_ms;
}

static void
gw_master_reap(gw_master_t *m)
{
    pid_t   pid;
    size_t  i;
    int     status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < m->n; i++) {
            if (m->w[i].pid == pid) {
                gw_master_reaped(m, i, status);
                break;
            }
        }
    }
}

static void
gw_master_signal_all(gw_master_t *m, int sig)
{
    size_t  i;

    for (i = 0; i < m->n; i++) {
        if (m->w[i].pid > 0) {
            kill(m->w[i].pid, sig);
        }
    }
}

static void
gw_master_stop(gw_master_t *m, int sig)
{
    if (m->stopping) {
        return;
    }
    m->stopping = 1;
    gw_notify("STOPPING=1");
    gw_log(GW_LOG_NOTICE, NULL, 0, "signal %d: stopping %zu workers", sig,
           m->n);
    /* Each drains within shutdown_timeout; one that hangs past it and a
     * margin is killed. */
    m->kill_at_ms = gw_master_now() + m->cf->shutdown_timeout_ms + 30000;
    gw_master_signal_all(m, SIGTERM);
}

/* SIGHUP: the workers reload their users; checked here first, and kept
 * here too, so a worker started later has them. */
static void
gw_master_reload(gw_master_t *m)
{
    char  err[1024];

    gw_notify("RELOADING=1");
    if (gw_conf_reload_users(m->cf, m->conf_path, m->extra, err, sizeof(err))
        != GW_OK)
    {
        gw_log(GW_LOG_ERR, NULL, 0, "signal %d: configuration not reloaded: "
               "%s", SIGHUP, err);
        gw_notify("READY=1");
        return;
    }
    gw_log(GW_LOG_NOTICE, NULL, 0, "signal %d: reloading the configuration "
           "(%zu users) in %zu workers", SIGHUP, m->cf->nusers, m->n);
    gw_master_signal_all(m, SIGHUP);
    gw_notify("READY=1");
}

/* Starts the workers that are due; returns the wait until the next one
 * (ms), or -1 for none. */
static long
gw_master_due(gw_master_t *m)
{
    uint64_t  now = gw_master_now();
    long      wait = -1, left;
    size_t    i;

    for (i = 0; i < m->n && !m->stopping; i++) {
        if (m->w[i].pid != 0) {
            continue;
        }
        if (m->w[i].restart_at_ms <= now) {
            if (gw_master_spawn(m, i) != GW_OK) {
                m->w[i].restart_at_ms = now + GW_RESTART_PAUSE_MAX;
            }
            continue;
        }
        left = (long) (m->w[i].restart_at_ms - now);
        wait = wait < 0 ? left : GW_MIN(wait, left);
    }
    return wait;
}

static size_t
gw_master_alive(gw_master_t *m)
{
    size_t  i, n = 0;

    for (i = 0; i < m->n; i++) {
        n += m->w[i].pid != 0;
    }
    return n;
}

static void
gw_master_loop(gw_master_t *m, const sigset_t *set)
{
    struct timespec  ts;
    siginfo_t        si;
    long             wait;
    int              sig;

    while (!m->stopping || gw_master_alive(m) > 0) {
        wait = gw_master_due(m);
        if (m->stopping) {
            uint64_t  now = gw_master_now();

            if (now >= m->kill_at_ms) {
                gw_log(GW_LOG_ERR, NULL, 0, "workers still running long "
                       "after shutdown_timeout: killing them");
                gw_master_signal_all(m, SIGKILL);
                m->kill_at_ms = now + 5000;
            }
            wait = (long) (m->kill_at_ms - now);
        }
        if (wait < 0) {
            wait = 60000;
        }
        ts.tv_sec = wait / 1000;
        ts.tv_nsec = (wait % 1000) * 1000000;
        sig = sigtimedwait(set, &si, &ts);
        switch (sig) {
        case SIGCHLD:
            gw_master_reap(m);
            break;
        case SIGTERM:
        case SIGINT:
            gw_master_stop(m, sig);
            break;
        case SIGHUP:
            gw_master_reload(m);
            break;
        case SIGUSR1:
            /* logrotate: each worker reopens its own access log. */
            gw_master_signal_all(m, SIGUSR1);
            break;
        default:
            break;              /* the timeout, EINTR */
        }
        /* SIGCHLDs merge: look for every exit each time round. */
        gw_master_reap(m);
    }
}

int
gw_master_run(gw_conf_t *cf, const char *conf_path, const char *extra,
              size_t n, const gw_master_cb_t *cb, void *ud)
{
    gw_master_t  m;
    sigset_t     set;
    size_t       i, j;
    int          rc;

    memset(&m, 0, sizeof(m));
    m.cf = cf;
    m.conf_path = conf_path;
    m.extra = extra;
    m.n = n;
    m.cb = cb;
    m.ud = ud;
    m.w = gw_calloc(n, sizeof(*m.w));
    /* Signals wait in the mask until sigtimedwait takes them; the workers
     * get the old mask back. */
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &m.old_mask);

    if ((rc = gw_master_bind(&m)) != GW_OK) {
        goto fail;
    }
    gw_conf_print_summary(cf, stderr);
    gw_log(GW_LOG_NOTICE, NULL, 0, "s3gw ready (master pid %ld, %zu "
           "workers)", (long) getpid(), n);
    /* The sockets are bound and listening: connections queue until a
     * worker takes them. */
    gw_notify("READY=1");
    gw_master_loop(&m, &set);
    gw_log(GW_LOG_NOTICE, NULL, 0, "all workers stopped; exiting");
    rc = m.failed ? GW_ERROR : GW_OK;

fail:
    for (i = 0; i < n; i++) {
        for (j = 0; m.w[i].fds != NULL && j < cf->nlisten; j++) {
            if (m.w[i].fds[j] >= 0) {
                close(m.w[i].fds[j]);
            }
        }
        gw_free(m.w[i].fds);
    }
    gw_free(m.w);
    sigprocmask(SIG_SETMASK, &m.old_mask, NULL);
    return rc == GW_OK ? 0 : 1;
}
