/* s3/bg/replicate.h: the replication pusher, background work on the
 * server's loop. Owns one HTTP client per replication_target, the jobs in
 * flight and their chunk reads. Fed by the durable outbox in store/ (an
 * entry per change a replication rule matched, written with the change):
 * it sends each object as it is now, with a signed PUT (or DELETE) to the
 * destination bucket's target, or copies it into a bucket of this server
 * when no target serves the destination; settles the entry when the
 * destination answered 2xx; retries with capped exponential backoff and
 * jitter on network errors, 5xx and 429; marks it failed, with the reason,
 * on any other answer. Never blocks a client request: it runs in bounded
 * steps from a timer, at most S3_REPL_INFLIGHT jobs at a time. */
#ifndef S3_BG_REPLICATE_H
#define S3_BG_REPLICATE_H

#include "s3/req.h"

#define S3_REPL_INFLIGHT     16
#define S3_REPL_TICK_MS      100
#define S3_REPL_BACKOFF_MS   500          /* first retry */
#define S3_REPL_BACKOFF_MAX  30000        /* capped, so a returning
                                           * destination is caught up fast */

typedef struct s3_repl_s  s3_repl_t;

/* Starts the pusher of ctx's store and targets (the HTTP clients are made
 * now, so a bad ca_file fails here). GW_OK with *out, or an error, logged. */
int s3_repl_start(s3_ctx_t *ctx, s3_repl_t **out);

/* SIGHUP: makes the clients of cf's targets (cf becomes ctx->cf right
 * after the call and must outlive p). Jobs in flight finish on the
 * clients they have, which close when the last one ends; new jobs use the
 * new targets. GW_OK, or an error (logged) with nothing changed. */
int s3_repl_reload(s3_repl_t *p, const gw_conf_t *cf);

/* Cancels what is in flight (the outbox keeps it for the next start), and
 * calls done once every callback has run and p is freed. */
void s3_repl_stop(s3_repl_t *p, void (*done)(void *ud), void *ud);

#endif
