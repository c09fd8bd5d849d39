/* core/hashpipe.h: the digests of one request body, computed off the loop.
 * Owns copies of the body's bytes (segments of up to GW_HASHPIPE_SEG) and the
 * digest state: the MD5 (S3's ETag), optionally a SHA-256 of the whole body
 * (a signed payload) and one x-amz-checksum-* algorithm.
 *
 * The loop only copies bytes. MD5 cannot be split, so one job at a time
 * hashes the segments in order (the next queued when the last finishes); the
 * SHA-256 and a SHA checksum run in a second ordered chain beside it; a CRC
 * checksum is computed per segment in parallel and the results are joined
 * in order with the CRC combine functions. The first GW_HASHPIPE_INLINE
 * bytes are hashed on the loop at once, so small bodies never wait for a
 * thread. Jobs run on libuv's thread pool; callbacks run on the loop.
 *
 * The segments are counted references (gw_hseg_t), so another consumer of
 * the same bytes (the chunk writer) can keep them instead of copying them
 * again: gw_hashpipe_feed_shared shows each piece where it landed. */
#ifndef GW_HASHPIPE_H
#define GW_HASHPIPE_H

#include "core/gw.h"
#include "core/hash.h"

#include <uv.h>

#define GW_HASHPIPE_SEG     (1024 * 1024)
#define GW_HASHPIPE_INLINE  (64 * 1024)
#define GW_HASHPIPE_WINDOW  (4 * GW_HASHPIPE_SEG)   /* bytes in flight */

typedef struct gw_hashpipe_s  gw_hashpipe_t;
typedef struct gw_hseg_s      gw_hseg_t;

/* A piece of the body as it lies in the pipe: at (len bytes) inside seg,
 * which the callee may keep with gw_hseg_ref; seg is NULL for bytes hashed
 * in place (the inline prefix), which are only borrowed. Returns GW_OK,
 * GW_AGAIN (taken; the callee is behind) or an error (feed no more).
 * at NULL (len 0): seg gets no more bytes, since the pipe paused for the
 * process's limit (gw_hashpipe_limit); let go of it as soon as you can. */
typedef int (*gw_hashpipe_view_pt)(void *ud, gw_hseg_t *seg, const char *at,
                                   size_t len);

/* Limits the body bytes the segments of all pipes of this process hold at
 * once to max (0: no limit; the upload_memory directive). Past it a feed
 * answers GW_AGAIN, and the pipe's on_ready runs once freed segments made
 * room again, pipes in the order they paused. loop is the one every pipe
 * runs on. Call again to change max. The bytes a paused pipe holds drain
 * by themselves: its jobs run on, and its half-filled segment is handed to
 * them; a consumer's views (the chunk writer's) go when it writes them. */
void gw_hashpipe_limit(uv_loop_t *loop, size_t max);

/* Before the loop closes: lets go of the limit's handle. */
void gw_hashpipe_limit_close(void);

/* References to a segment, taken and dropped on the loop only; the last
 * one frees it. */
void gw_hseg_ref(gw_hseg_t *s);
void gw_hseg_unref(gw_hseg_t *s);

/* A pipe for alg (GW_CK_NONE for no checksum), with a whole-body SHA-256
 * when sha256 is set. on_ready(ud) runs once the bytes in flight drop
 * below the window after a feed answered GW_AGAIN. Aborts if OpenSSL
 * cannot start a digest. */
gw_hashpipe_t *gw_hashpipe_new(uv_loop_t *loop, gw_cksum_alg_t alg,
                               int sha256, void (*on_ready)(void *ud),
                               void *ud);

/* Hash everything on the loop, never in the pool (small bodies whose end
 * must not wait, such as XML documents). Call before the first feed. */
void gw_hashpipe_inline(gw_hashpipe_t *hp);

/* Takes n bytes (p is borrowed: copied or hashed before return). GW_OK, or
 * GW_AGAIN: taken, but the window is full; feed no more until on_ready. */
int gw_hashpipe_feed(gw_hashpipe_t *hp, const void *p, size_t n);

/* As gw_hashpipe_feed, and view(ud, ...) sees each piece of the n bytes
 * in order, once it is in its segment and before any job reads it. Returns
 * the first error view gave (the rest of the bytes are still hashed but no
 * longer shown), else GW_AGAIN when the window is full or a view answered
 * GW_AGAIN, else GW_OK. */
int gw_hashpipe_feed_shared(gw_hashpipe_t *hp, const void *p, size_t n,
                            gw_hashpipe_view_pt view, void *ud);

/* No more bytes. GW_OK when the digests are ready now, or GW_DONE when
 * done(ud) will run on the loop once they are (hp may be freed inside it). */
int gw_hashpipe_finish(gw_hashpipe_t *hp, void (*done)(void *ud), void *ud);

/* After finish: the MD5, the SHA-256 (when asked for; else untouched) and
 * the checksum (its raw digest, as gw_cksum_final; returns its length). */
size_t gw_hashpipe_result(gw_hashpipe_t *hp, unsigned char md5[16],
                          unsigned char sha256[32],
                          unsigned char ck[GW_CKSUM_MAX_LEN]);

/* Done with hp, finished or not. Safe with jobs in flight: the pipe frees
 * itself once they settle, and calls nothing more. */
void gw_hashpipe_free(gw_hashpipe_t *hp);

#endif
