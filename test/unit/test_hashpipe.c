/* test/unit/test_hashpipe.c: core/hashpipe.c against one-shot digests.
 * Bodies of many hash segments are fed as fast as the window allows, so
 * several segments' jobs are in the thread pool at once: a chain that lets
 * two MD5 (or SHA) jobs run together or out of order, or a CRC joined out
 * of order, gives a wrong digest here. Bodies arrive too slowly in the
 * integration tests for that to show. */
#include "unit.h"
#include "core/hashpipe.h"

typedef struct {
    int  ready;
    int  done;
} fx_pipe_t;

static void
fx_pipe_ready(void *ud)
{
    ((fx_pipe_t *) ud)->ready = 1;
}

static void
fx_pipe_done(void *ud)
{
    ((fx_pipe_t *) ud)->done = 1;
}

/* Feeds body in pieces of step bytes through a pipe for alg (with a
 * whole-body SHA-256) and checks every digest against the one-shot ones. */
static void
fx_pipe_check(uv_loop_t *loop, const unsigned char *body, size_t len,
              size_t step, gw_cksum_alg_t alg)
{
    fx_pipe_t       fx = { 0, 0 };
    gw_hashpipe_t  *hp = gw_hashpipe_new(loop, alg, 1, fx_pipe_ready, &fx);
    unsigned char   md5[16], sha[32], ck[GW_CKSUM_MAX_LEN];
    unsigned char   w_md5[16], w_sha[32], w_ck[GW_CKSUM_MAX_LEN];
    gw_cksum_t      c;
    size_t          off = 0, n, ck_len, w_len;
    int             rc, again = 0;

    while (off < len) {
        n = GW_MIN(step, len - off);
        rc = gw_hashpipe_feed(hp, body + off, n);
        off += n;
        if (rc == GW_AGAIN) {
            again++;
            while (!fx.ready) {
                uv_run(loop, UV_RUN_ONCE);
            }
            fx.ready = 0;
        } else {
            CHECK_EQ_INT(rc, GW_OK);
        }
    }
    CHECK(again > 0);           /* the window did fill */
    rc = gw_hashpipe_finish(hp, fx_pipe_done, &fx);
    if (rc == GW_DONE) {
        while (!fx.done) {
            uv_run(loop, UV_RUN_ONCE);
        }
    } else {
        CHECK_EQ_INT(rc, GW_OK);
    }
    ck_len = gw_hashpipe_result(hp, md5, sha, ck);
    gw_hashpipe_free(hp);

    gw_md5(body, len, w_md5);
    gw_sha256(body, len, w_sha);
    CHECK_EQ_INT(gw_cksum_init(&c, alg), GW_OK);
    gw_cksum_update(&c, body, len);
    w_len = gw_cksum_final(&c, w_ck);
    gw_cksum_free(&c);
    CHECK(memcmp(md5, w_md5, 16) == 0);
    CHECK(memcmp(sha, w_sha, 32) == 0);
    CHECK_EQ_INT(ck_len, w_len);
    CHECK(memcmp(ck, w_ck, w_len) == 0);
}

TEST(hashpipe_many_segments)
{
    static const gw_cksum_alg_t  algs[] = {
        GW_CK_CRC64NVME, GW_CK_CRC32C, GW_CK_CRC32, GW_CK_SHA1, GW_CK_SHA256,
        GW_CK_NONE
    };
    size_t          len = 24 * GW_HASHPIPE_SEG + 12345, i;
    unsigned char  *body = malloc(len);
    uint64_t        x = 0x9e3779b97f4a7c15ULL;
    uv_loop_t       loop;

    CHECK(body != NULL);
    for (i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        body[i] = (unsigned char) x;
    }
    CHECK_EQ_INT(uv_loop_init(&loop), 0);
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        /* Pieces bigger than a segment (several submitted in one feed)
         * and odd ones (segments end mid-piece). */
        fx_pipe_check(&loop, body, len, 3 * GW_HASHPIPE_SEG + 7, algs[i]);
        fx_pipe_check(&loop, body, len, 65521, algs[i]);
    }
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
    free(body);
}
