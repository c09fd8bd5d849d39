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
 * thread. Jobs run on libuv's thread pool; callbacks run on the loop. */
#ifndef GW_HASHPIPE_H
#define GW_HASHPIPE_H

#include "core/gw.h"
#include "core/hash.h"

#include <uv.h>

#define GW_HASHPIPE_SEG     (1024 * 1024)
#define GW_HASHPIPE_INLINE  (64 * 1024)
#define GW_HASHPIPE_WINDOW  (4 * GW_HASHPIPE_SEG)   /* bytes in flight */

typedef struct gw_hashpipe_s  gw_hashpipe_t;

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
