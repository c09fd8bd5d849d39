/* s3/bg/lifecycle.h: the lifecycle worker, background work on the server's
 * loop beside the replication pusher. Carries out the buckets' lifecycle
 * configurations (s3/lifecycle.h): removes the objects an enabled
 * Expiration rule has made due (in a versioned bucket: gives them a delete
 * marker), removes the noncurrent versions NoncurrentVersionExpiration has
 * made due and the delete markers left alone that ExpiredObjectDeleteMarker
 * (or an Expiration) takes, and aborts the multipart uploads an
 * AbortIncompleteMultipartUpload rule has made due.
 *
 * It works in passes: one starts at every lifecycle day boundary (midnight
 * UTC, or the next multiple of a shortened lifecycle_day), walks the
 * objects of every bucket that has a lifecycle configuration, then every
 * multipart upload, and ends; so an object is gone within one lifecycle day
 * after it falls due, as S3 promises. A pass runs in bounded steps from a
 * timer: a walk looks at no more than S3_LC_SCAN versions (and one more,
 * to tell whether a current delete marker is alone) in a read transaction
 * of its own, and holds what it finds due; each tick queues no more than
 * S3_LC_DELETES of those deletes and waits for the last tick's, and the
 * next walk starts once all are queued. What is held or queued is the
 * s3gw_lifecycle_due gauge of /metrics. Where the pass is (its start, the
 * bucket and the key it reached, the upload it reached) is saved in the
 * store after every tick (store_lc_cursor_put): where the walk began while
 * some of what it found waits, where it ended once all is queued; so a
 * restart, even after kill -9, goes on from there.
 *
 * An object is deleted only if it is still the record that was examined
 * (its generation, store_object_delete_cond; a version: store_object_remove
 * on its generation): a PUT that lands between the look and the delete is
 * never lost. */
#ifndef S3_BG_LIFECYCLE_H
#define S3_BG_LIFECYCLE_H

#include "s3/req.h"

#define S3_LC_SCAN      1000      /* records looked at per walk */
#define S3_LC_DELETES   100       /* deletes and aborts queued per tick */
#define S3_LC_TICK_MIN  100       /* ms; a tick is a tenth of a lifecycle */
#define S3_LC_TICK_MAX  1000      /* day, within these */

typedef struct s3_lc_s  s3_lc_t;

/* Starts the worker of ctx's store: reads the saved cursor and starts the
 * timer. GW_OK with *out, or an error, logged. */
int s3_lc_start(s3_ctx_t *ctx, s3_lc_t **out);

/* Stops the timer, and calls done once every delete or abort it queued
 * has settled and w is freed (the cursor is saved: the next start goes on
 * from it). */
void s3_lc_stop(s3_lc_t *w, void (*done)(void *ud), void *ud);

#endif
