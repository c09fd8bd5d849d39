/* core/metrics.h: the server's counters for /metrics. Owns one MAP_SHARED
 * anonymous mapping, made before any fork, that holds a slot of counters per
 * worker process: each process adds only to its own slot (relaxed atomics,
 * so pool threads may add too), and a scrape, which may land on any worker,
 * sums every slot, so it reports the whole server. Renders the Prometheus
 * text exposition format (version 0.0.4). Knows nothing about HTTP, S3 or
 * the store: their figures come in as plain numbers.
 *
 * Until gw_metrics_init has run (the unit tests, the admin commands) every
 * gw_metrics_* call that counts does nothing. */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdint.h>

#include "core/gw.h"

/* The operation label of a request that was never routed to an operation
 * (a bad signature, an unknown subresource, a CORS preflight...). */
#define GW_METRICS_OP_OTHER  "other"

/* Adds an operation name to the label set ("GetObject"). name is borrowed
 * for the life of the process (a string literal of a route table). Call
 * before gw_metrics_init; a name given twice is kept once. */
void gw_metrics_op_add(const char *name);

/* Maps the counters for nworkers worker processes (1..64) and sets this
 * process's worker index to 0. Call once, before any fork, after every
 * gw_metrics_op_add. Returns GW_OK or -errno of mmap. */
int gw_metrics_init(unsigned nworkers);

/* The worker index (0..nworkers-1) whose slot this process writes: the
 * master calls it in each child right after fork, before the child serves
 * anything. An index out of range is ignored (the slot stays 0). */
void gw_metrics_set_worker(unsigned index);

/* The worker of index died (the master, before it forks its
 * replacement): its connections are gone, so its gauges (open
 * connections, lifecycle work due) go back to 0. Its counters stay:
 * counters never go down. */
void gw_metrics_worker_gone(unsigned index);

/* One request ended (logged): op is a name given to gw_metrics_op_add or
 * NULL (counted as "other"); status its HTTP status; received the request
 * body bytes read from the connection (after HTTP chunked decoding, with
 * any aws-chunked framing), sent the response body bytes written (not the
 * head); ns its time from the start of the request head to the end. */
void gw_metrics_request(const char *op, int status, uint64_t received,
                        uint64_t sent, uint64_t ns);

/* An S3 connection was accepted (+1) or closed (-1). */
void gw_metrics_conn(int delta);

/* The collector deleted n chunk files. Any thread. */
void gw_metrics_gc_collected(uint64_t n);

/* A group commit of n index operations was committed. Any thread. */
void gw_metrics_batch(uint64_t n);

/* The lifecycle worker has n expirations and aborts found due and not yet
 * carried out (queued or waiting for their turn). A gauge of this
 * process's slot, set, not added: the worker that runs lifecycle alone
 * sets it, and its death sets it back to 0 (gw_metrics_worker_gone). */
void gw_metrics_lc_due(uint64_t n);

/* Request body bytes this process holds in memory now (the digest pipes'
 * segments: core/hashpipe.h), a gauge of its slot, set; and one more time
 * an upload paused because they passed upload_memory. Loop thread. */
void gw_metrics_upload_memory(uint64_t bytes);
void gw_metrics_upload_memory_wait(void);

/* A sendfile slice sent bytes of a response body, on the loop (on_loop:
 * its pages were in the page cache) or on a pool thread. */
void gw_metrics_sendfile(int on_loop, uint64_t bytes);

/* Appends the counters of every slot, summed, in the text format to out. */
void gw_metrics_render(gw_sb_t *out);

/* Appends one gauge (# HELP, # TYPE, the sample) to out; for the figures
 * read at scrape time. value is printed with %.17g. */
void gw_metrics_gauge(gw_sb_t *out, const char *name, const char *help,
                      double value);

#endif
