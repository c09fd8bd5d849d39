/* http/connip.h: the count of open connections per client address that
 * limit_conn_per_ip checks, for the whole server (nginx's limit_conn zone,
 * where worker_connections, our max_connections, stays per worker). Owns
 * one MAP_SHARED anonymous mapping, made before the workers fork: a hash
 * table of addresses, each with a count per worker, under one
 * process-shared robust mutex. A single process has a table of its own of
 * one worker: the same code, one path.
 *
 * A worker's counts live in its own column so that its death can be undone
 * exactly: its connections died with it, and http_connip_worker_gone drops
 * them. Fixed size, from max_connections and the number of workers: it
 * holds every address when each worker is at max_connections. Past a bound
 * on that size a full table admits a new address uncounted (fails open) and
 * says so once in the log. Knows nothing of sockets or requests: addresses
 * come in as 16 bytes (IPv4 as ::ffff:a.b.c.d). */
#ifndef HTTP_CONNIP_H
#define HTTP_CONNIP_H

#include <stddef.h>

#include "core/gw.h"

typedef struct http_connip_s  http_connip_t;

/* What http_connip_add decided for a new connection. */
#define HTTP_CONNIP_SERVE     0     /* counted: serve it */
#define HTTP_CONNIP_SLOWDOWN  1     /* counted, over the limit: answer 503 */
#define HTTP_CONNIP_CLOSE     (-1)  /* not counted: close it now */
#define HTTP_CONNIP_UNCOUNTED 2     /* the table is full: serve it, and
                                     * do not call http_connip_remove */

/* Maps a table for nworkers (1..64) workers of max_conns connections each.
 * Call before any fork. NULL with errno set when mmap or the mutex fails. */
http_connip_t *http_connip_create(size_t nworkers, size_t max_conns);

void http_connip_free(http_connip_t *t);

/* Counts a connection of worker from ip (16 bytes, borrowed). Up to limit
 * open from ip in all workers it is served; the next grace are counted
 * and answered 503; past those it is closed. The first refusal of an
 * episode (since ip last had none open) is logged as a warning with peer
 * (the address as text, for the log) as its context. */
int http_connip_add(http_connip_t *t, size_t worker,
                    const unsigned char ip[16], size_t limit, size_t grace,
                    const char *peer);

/* A connection that http_connip_add counted (SERVE or SLOWDOWN) is closed.
 * When it was ip's last one in all workers and some were refused, the end
 * of the episode is logged (a notice, with how many were refused). */
void http_connip_remove(http_connip_t *t, size_t worker,
                        const unsigned char ip[16], const char *peer);

/* The process of worker died: drops its counts (its connections went with
 * it). Called by the master when it reaps the worker. */
void http_connip_worker_gone(http_connip_t *t, size_t worker);

/* Test hook (test/unit): ip's connections open in all workers. */
size_t http_connip_count(http_connip_t *t, const unsigned char ip[16]);

#endif
