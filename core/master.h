/* core/master.h: the master process of worker_processes N (N > 1). Owns
 * the listening sockets (bound once, before the workers exist), the
 * workers' process ids and the master's signals. Runs no S3 code and
 * opens no store: what the workers share (the store's pin region) is the
 * caller's, made before and reset through the callbacks. */
#ifndef GW_MASTER_H
#define GW_MASTER_H

#include "core/conf.h"

/* What one worker gets: its index (0 runs the background jobs) and its
 * own listening socket per listen directive (in cf's order). Valid for
 * the worker's whole life. */
typedef struct gw_worker_s {
    size_t           index;
    const int       *fds;
    size_t           nfds;
} gw_worker_t;

typedef struct gw_master_cb_s {
    /* In the worker process after fork: the server loop. Returns the
     * worker's exit status. */
    int   (*run)(const gw_worker_t *w, void *ud);
    /* In the master, before a worker starts at index (again, when one
     * died): forget what the last one left in shared memory. */
    void  (*starting)(size_t index, void *ud);
    /* In the master, as soon as it has reaped the worker at index (not
     * while stopping): what it held in shared memory for its open
     * connections is void now, whenever its replacement starts. */
    void  (*gone)(size_t index, void *ud);
} gw_master_cb_t;

/* Binds, forks n workers running cb->run(w, ud), starts a
 * new one in place of any that dies (after a short pause if they die at
 * once, over and over), passes SIGTERM and SIGINT (graceful shutdown) and
 * SIGHUP (users reloaded; checked here first against conf_path and extra)
 * on to them. Returns the master's exit status: 0 once every worker has
 * exited 0 after a shutdown signal, 1 when start-up fails or a worker did
 * not stop cleanly. In a worker it does not return: the process exits with
 * run's status. */
int gw_master_run(gw_conf_t *cf, const char *conf_path, const char *extra,
                  size_t n, const gw_master_cb_t *cb, void *ud);

/* In a worker, once its signal handlers are in place: lets SIGTERM,
 * SIGINT and SIGHUP in (they wait while it starts). */
void gw_master_worker_signals(void);

#endif
