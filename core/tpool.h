/* core/tpool.h: a small set of threads of its own, beside libuv's pool. Owns
 * N threads, one FIFO queue of jobs and the uv_async handle that brings
 * their completions back to the loop. The store gives its durable syncs
 * (chunk write + fdatasync, the index commit) such a set, so a burst of
 * fsyncs waiting on the disk never holds the threads that serve reads,
 * sendfile slices and hashing.
 *
 * The API mirrors uv_queue_work: the caller owns the uv_work_t (data is its
 * pointer), work runs on one of the threads, after runs on the loop with
 * status 0. Jobs are never cancelled. */
#ifndef GW_TPOOL_H
#define GW_TPOOL_H

#include "core/gw.h"

#include <uv.h>

typedef struct gw_tpool_s  gw_tpool_t;

/* Starts nthreads threads whose completions run on loop. Returns GW_OK or
 * a negative errno (nothing is left running then). */
int gw_tpool_open(gw_tpool_t **out, uv_loop_t *loop, unsigned nthreads);

/* Queues work(req) on a thread and after(req, 0) on the loop once it has
 * run. req must stay valid until after runs. Returns GW_OK, or GW_ERROR
 * after gw_tpool_close began (then neither callback runs). */
int gw_tpool_queue(gw_tpool_t *tp, uv_work_t *req, uv_work_cb work,
                   uv_after_work_cb after);

/* Runs what is queued, joins the threads, runs the last after callbacks
 * and closes the async handle; tp is freed in its close callback, so the
 * loop must run once more. Call on the loop, when nothing queues again. */
void gw_tpool_close(gw_tpool_t *tp);

#endif
