/* store/digest.c: digests of stored bytes, read back from their chunk files
 * on the thread pool (store_chunk_digest in store.h). UploadPartCopy needs
 * the real MD5 of a range of an object, which the chunk list alone cannot
 * give: the ETag of a multipart object is made from its parts' MD5s. */
#include "store/internal.h"
#include "core/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <unistd.h>

#define STORE_DIGEST_BUF  (256 * 1024)    /* bytes read at a time */

typedef struct {
    uv_work_t           work;
    store_t            *st;
    store_chunk_ref_t  *chunks;     /* copy of the caller's list */
    size_t              n;
    uint64_t            from, len;
    gw_cksum_alg_t      alg;
    unsigned char      *md5;        /* the caller's, written on the loop */
    unsigned char      *ck;
    unsigned char       md5_out[16];
    unsigned char       ck_out[GW_CKSUM_MAX_LEN];
    store_done_pt       done;
    void               *ud;
    int                 rc;
} store_digest_t;

/* Feeds bytes [off, off + len) of one chunk file into the digests. */
static int
store_digest_chunk(store_digest_t *d, const store_chunk_ref_t *c,
                   uint64_t off, uint64_t len, EVP_MD_CTX *md,
                   gw_cksum_t *ck, char *buf)
{
    char     path[PATH_MAX];
    ssize_t  n;
    size_t   want;
    int      fd, rc = GW_OK;

    store_chunk_path(d->st, c->sha, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    while (len > 0) {
        want = (size_t) GW_MIN(len, STORE_DIGEST_BUF);
        n = pread(fd, buf, want, (off_t) off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = n < 0 ? -errno : GW_ECORRUPT;   /* shorter than its record */
            break;
        }
        EVP_DigestUpdate(md, buf, (size_t) n);
        gw_cksum_update(ck, buf, (size_t) n);
        off += (uint64_t) n;
        len -= (uint64_t) n;
    }
    close(fd);
    return rc;
}

static void
store_digest_work(uv_work_t *req)
{
    store_digest_t  *d = req->data;
    EVP_MD_CTX      *md;
    gw_cksum_t       ck;
    char            *buf;
    uint64_t         end = d->from + d->len, s0, s1;
    unsigned int     mlen;
    size_t           i;
    int              rc = GW_OK;

    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, gw_evp_md5(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        d->rc = GW_ERROR;
        return;
    }
    if (gw_cksum_init(&ck, d->alg) != GW_OK) {
        EVP_MD_CTX_free(md);
        d->rc = GW_ERROR;
        return;
    }
    buf = gw_alloc(STORE_DIGEST_BUF);
    for (i = 0; i < d->n && rc == GW_OK; i++) {
        const store_chunk_ref_t  *c = &d->chunks[i];

        s0 = GW_MAX(d->from, c->off);
        s1 = GW_MIN(end, c->off + c->len);
        if (s0 < s1) {
            rc = store_digest_chunk(d, c, s0 - c->off, s1 - s0, md, &ck, buf);
        }
    }
    gw_free(buf);
    if (rc == GW_OK) {
        EVP_DigestFinal_ex(md, d->md5_out, &mlen);
        gw_cksum_final(&ck, d->ck_out);
    }
    gw_cksum_free(&ck);
    EVP_MD_CTX_free(md);
    d->rc = rc;
}

static void
store_digest_after(uv_work_t *req, int status)
{
    store_digest_t  *d = req->data;
    int              rc = status != 0 ? status : d->rc;

    if (rc == GW_OK) {
        memcpy(d->md5, d->md5_out, 16);
        if (d->ck != NULL) {
            memcpy(d->ck, d->ck_out, gw_cksum_len(d->alg));
        }
    }
    d->done(d->ud, rc);
    gw_free(d->chunks);
    gw_free(d);
}

void
store_chunk_digest(store_t *st, const store_chunk_ref_t *chunks, size_t n,
                   uint64_t from, uint64_t len, int alg,
                   unsigned char md5[16], unsigned char *ck,
                   store_done_pt done, void *ud)
{
    store_digest_t  *d = gw_calloc(1, sizeof(*d));
    int              rc;

    d->work.data = d;
    d->st = st;
    d->chunks = gw_alloc(sizeof(*chunks) * (n + 1));
    if (n) {
        memcpy(d->chunks, chunks, sizeof(*chunks) * n);
    }
    d->n = n;
    d->from = from;
    d->len = len;
    d->alg = (gw_cksum_alg_t) alg;
    d->md5 = md5;
    d->ck = ck;
    d->done = done;
    d->ud = ud;
    rc = uv_queue_work(st->loop, &d->work, store_digest_work,
                       store_digest_after);
    if (rc != 0) {
        gw_free(d->chunks);
        gw_free(d);
        done(ud, rc);
    }
}
