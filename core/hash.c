/* core/hash.c: CRCs (carry-less-multiply folding where the CPU has it,
 * table-driven slicing-by-8 otherwise), CRC combination in GF(2)[x], the S3
 * checksum wrapper, base64/hex, and thin EVP wrappers.
 *
 * The CRC tables are computed at first use instead of being pasted in as
 * literals: it keeps the file readable, and pthread_once makes the lazy build
 * safe when several threads (libuv's pool) hash at the same time. */
#include "core/hash.h"
#include "core/gw.h"

#include <pthread.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GW_CRC_CLMUL  1
#endif

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#define GW_CRC32_POLY      0xEDB88320u
#define GW_CRC32C_POLY     0x82F63B78u
#define GW_CRC64NVME_POLY  0x9A6C9329AC4BC9B5ull

/* x^(2^k) mod P for k = 0..66, enough for any 64-bit byte count (which is a
 * bit count of up to 2^67). */
#define GW_X2N_LEN  67

static uint32_t        gw_crc32_tab[8][256];
static uint32_t        gw_crc32c_tab[8][256];
static uint64_t        gw_crc64_tab[8][256];
static uint64_t        gw_crc32_x2n[GW_X2N_LEN];
static uint64_t        gw_crc32c_x2n[GW_X2N_LEN];
static uint64_t        gw_crc64_x2n[GW_X2N_LEN];
static pthread_once_t  gw_hash_once = PTHREAD_ONCE_INIT;

/* Folding constants of one CRC for the carry-less-multiply path: x^(n+63)
 * and x^(n-1) mod P (see gw_crc_fold) for n = 128 and n = 512 bits. */
typedef struct {
    uint64_t  k128[2];
    uint64_t  k512[2];
} gw_crc_fold_t;

static gw_crc_fold_t   gw_crc32_fold, gw_crc32c_fold, gw_crc64_fold;
static int             gw_crc_clmul_ok;    /* the CPU has PCLMULQDQ */
static int             gw_crc_clmul_on;    /* ... and tests did not turn it off */

/* OpenSSL 3 looks an algorithm up in its provider tables, under a lock and
 * with reference counting, every time EVP_sha256() or HMAC() is used; these
 * are fetched once, by gw_hash_init, and live as long as the process. */
static EVP_MD         *gw_evp_md5_md, *gw_evp_sha1_md, *gw_evp_sha256_md;
static EVP_MAC_CTX    *gw_hmac_sha256_template;   /* HMAC with SHA-256 set,
                                                   * no key: dup'ed per call */


/* ==== CRC tables ==== */

/* Multiplies a by b modulo the reflected polynomial poly, where top is the
 * bit that stands for x^0 (bit 31 or bit 63 in the reflected order). This is
 * zlib's multmodp() made width-generic so all three CRCs share it. */
static uint64_t
gw_gf2_mulmod(uint64_t a, uint64_t b, uint64_t poly, uint64_t top)
{
    uint64_t  m = top, p = 0;

    for ( ;; ) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0) {
                break;
            }
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ poly : b >> 1;
    }
    return p;
}

static void
gw_crc_x2n_build(uint64_t *x2n, uint64_t poly, uint64_t top)
{
    uint64_t  p = top >> 1;   /* x^1 */
    int       k;

    x2n[0] = p;
    for (k = 1; k < GW_X2N_LEN; k++) {
        p = gw_gf2_mulmod(p, p, poly, top);
        x2n[k] = p;
    }
}

/* x^(8 * len) mod poly: the factor that shifts a CRC past len zero bytes. */
static uint64_t
gw_crc_x8n(const uint64_t *x2n, uint64_t len, uint64_t poly, uint64_t top)
{
    uint64_t  p = top;   /* x^0 */
    int       k = 3;     /* bytes to bits */

    while (len) {
        if (len & 1) {
            p = gw_gf2_mulmod(x2n[k], p, poly, top);
        }
        len >>= 1;
        k++;
    }
    return p;
}

static void
gw_crc32_tab_build(uint32_t tab[8][256], uint32_t poly)
{
    uint32_t  c;
    int       i, j;

    for (i = 0; i < 256; i++) {
        c = (uint32_t) i;
        for (j = 0; j < 8; j++) {
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        }
        tab[0][i] = c;
    }
    /* tab[k][i] is the CRC of byte i followed by k zero bytes, so eight
     * lookups advance the CRC by eight bytes at once. */
    for (i = 0; i < 256; i++) {
        for (j = 1; j < 8; j++) {
            c = tab[j - 1][i];
            tab[j][i] = (c >> 8) ^ tab[0][c & 0xff];
        }
    }
}

static void
gw_crc64_tab_build(uint64_t tab[8][256], uint64_t poly)
{
    uint64_t  c;
    int       i, j;

    for (i = 0; i < 256; i++) {
        c = (uint64_t) i;
        for (j = 0; j < 8; j++) {
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        }
        tab[0][i] = c;
    }
    for (i = 0; i < 256; i++) {
        for (j = 1; j < 8; j++) {
            c = tab[j - 1][i];
            tab[j][i] = (c >> 8) ^ tab[0][c & 0xff];
        }
    }
}

/* x^n mod P as a 64-bit reflected value (bit 63 - d stands for x^d),
 * whatever the CRC's width: the form PCLMULQDQ multiplies. */
static uint64_t
gw_crc_xn64(unsigned n, uint64_t poly, int width)
{
    uint64_t  v = 1ull << (width - 1);    /* x^0 */

    while (n--) {
        v = (v & 1) ? (v >> 1) ^ poly : v >> 1;
    }
    return width == 64 ? v : v << (64 - width);
}

static void
gw_crc_fold_build(gw_crc_fold_t *k, uint64_t poly, int width)
{
    k->k128[0] = gw_crc_xn64(128 + 63, poly, width);
    k->k128[1] = gw_crc_xn64(128 - 1, poly, width);
    k->k512[0] = gw_crc_xn64(512 + 63, poly, width);
    k->k512[1] = gw_crc_xn64(512 - 1, poly, width);
}

static void gw_hash_fatal(const char *what, int line);

static void
gw_hash_fetch(void)
{
    EVP_MAC     *mac;
    OSSL_PARAM   params[2];

    gw_evp_md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
    gw_evp_sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
    gw_evp_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (gw_evp_md5_md == NULL || gw_evp_sha1_md == NULL
        || gw_evp_sha256_md == NULL)
    {
        gw_hash_fatal("EVP_MD_fetch", __LINE__);
    }
    mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (mac == NULL) {
        gw_hash_fatal("EVP_MAC_fetch", __LINE__);
    }
    gw_hmac_sha256_template = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);          /* the context holds its own reference */
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (gw_hmac_sha256_template == NULL
        || EVP_MAC_CTX_set_params(gw_hmac_sha256_template, params) != 1)
    {
        gw_hash_fatal("HMAC-SHA256 setup", __LINE__);
    }
}

static void
gw_hash_build(void)
{
    gw_hash_fetch();
    gw_crc32_tab_build(gw_crc32_tab, GW_CRC32_POLY);
    gw_crc32_tab_build(gw_crc32c_tab, GW_CRC32C_POLY);
    gw_crc64_tab_build(gw_crc64_tab, GW_CRC64NVME_POLY);
    gw_crc_x2n_build(gw_crc32_x2n, GW_CRC32_POLY, 1u << 31);
    gw_crc_x2n_build(gw_crc32c_x2n, GW_CRC32C_POLY, 1u << 31);
    gw_crc_x2n_build(gw_crc64_x2n, GW_CRC64NVME_POLY, 1ull << 63);
    gw_crc_fold_build(&gw_crc32_fold, GW_CRC32_POLY, 32);
    gw_crc_fold_build(&gw_crc32c_fold, GW_CRC32C_POLY, 32);
    gw_crc_fold_build(&gw_crc64_fold, GW_CRC64NVME_POLY, 64);
#ifdef GW_CRC_CLMUL
    __builtin_cpu_init();
    gw_crc_clmul_ok = __builtin_cpu_supports("pclmul")
                      && __builtin_cpu_supports("sse4.1");
#endif
    gw_crc_clmul_on = gw_crc_clmul_ok;
}

void
gw_hash_init(void)
{
    if (pthread_once(&gw_hash_once, gw_hash_build) != 0) {
        fprintf(stderr, "[crit] pthread_once failed at %s:%d\n",
                __FILE__, __LINE__);
        abort();
    }
}


/* ==== CRC update ==== */

/* Loads are byte by byte so any alignment works and the result does not
 * depend on the host's endianness; compilers turn these into one load. */
static inline uint32_t
gw_le32(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}

static uint32_t
gw_crc32_slice8(uint32_t tab[8][256], uint32_t crc, const unsigned char *p,
    size_t n)
{
    uint32_t  a, b;

    crc = ~crc;
    while (n >= 8) {
        a = gw_le32(p) ^ crc;
        b = gw_le32(p + 4);
        crc = tab[7][a & 0xff] ^ tab[6][(a >> 8) & 0xff]
              ^ tab[5][(a >> 16) & 0xff] ^ tab[4][a >> 24]
              ^ tab[3][b & 0xff] ^ tab[2][(b >> 8) & 0xff]
              ^ tab[1][(b >> 16) & 0xff] ^ tab[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) {
        crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
    }
    return ~crc;
}

static uint64_t
gw_crc64_slice8(uint64_t (*tab)[256], uint64_t crc, const unsigned char *s,
    size_t n)
{
    crc = ~crc;
    while (n >= 8) {
        crc ^= (uint64_t) gw_le32(s) | (uint64_t) gw_le32(s + 4) << 32;
        crc = tab[7][crc & 0xff] ^ tab[6][(crc >> 8) & 0xff]
              ^ tab[5][(crc >> 16) & 0xff] ^ tab[4][(crc >> 24) & 0xff]
              ^ tab[3][(crc >> 32) & 0xff] ^ tab[2][(crc >> 40) & 0xff]
              ^ tab[1][(crc >> 48) & 0xff] ^ tab[0][crc >> 56];
        s += 8;
        n -= 8;
    }
    while (n--) {
        crc = (crc >> 8) ^ tab[0][(crc ^ *s++) & 0xff];
    }
    return ~crc;
}

/* Below this many bytes the tables win over setting up the folds. */
#define GW_CRC_FOLD_MIN  256

#ifdef GW_CRC_CLMUL
/* Folds n bytes at p (n a multiple of 16, at least 64) into 16 bytes out
 * that are congruent to them modulo P, so the CRC of out (from a zero
 * state) is the CRC of the n bytes. s is the CRC's inner state, which a
 * reflected CRC xors into the first bytes of the message.
 *
 * The 16 bytes of an accumulator X, loaded little-endian, hold the
 * coefficients of x^127 (bit 0) down to x^0 (bit 127). Appending a block B
 * n bits later makes X * x^n + B; X's low half is a * x^64 and its high
 * half b, so that is a * x^(n+64) + b * x^n + B. The product of two
 * reflected 64-bit values comes out one degree low in this order, hence
 * the constants x^(n+63) and x^(n-1) mod P, each at most 64 bits, so every
 * product fits in 128. Four accumulators hide the multiplier's latency. */
__attribute__((target("pclmul,sse4.1")))
static void
gw_crc_fold(const gw_crc_fold_t *k, uint64_t s, const unsigned char *p,
    size_t n, unsigned char out[16])
{
    __m128i  x0, x1, x2, x3, kk;
    size_t   i;

#define GW_FOLD(x, kk, b)                                                   \
    x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, kk, 0x00),      \
                                    _mm_clmulepi64_si128(x, kk, 0x11)), b)

    x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *) p),
                       _mm_cvtsi64_si128((long long) s));
    x1 = _mm_loadu_si128((const __m128i *) (p + 16));
    x2 = _mm_loadu_si128((const __m128i *) (p + 32));
    x3 = _mm_loadu_si128((const __m128i *) (p + 48));
    kk = _mm_set_epi64x((long long) k->k512[1], (long long) k->k512[0]);
    for (i = 64; i + 64 <= n; i += 64) {
        GW_FOLD(x0, kk, _mm_loadu_si128((const __m128i *) (p + i)));
        GW_FOLD(x1, kk, _mm_loadu_si128((const __m128i *) (p + i + 16)));
        GW_FOLD(x2, kk, _mm_loadu_si128((const __m128i *) (p + i + 32)));
        GW_FOLD(x3, kk, _mm_loadu_si128((const __m128i *) (p + i + 48)));
    }
    kk = _mm_set_epi64x((long long) k->k128[1], (long long) k->k128[0]);
    GW_FOLD(x0, kk, x1);
    GW_FOLD(x0, kk, x2);
    GW_FOLD(x0, kk, x3);
    for ( ; i < n; i += 16) {
        GW_FOLD(x0, kk, _mm_loadu_si128((const __m128i *) (p + i)));
    }
#undef GW_FOLD
    _mm_storeu_si128((__m128i *) out, x0);
}
#endif

uint32_t
gw_crc32_update(uint32_t crc, const void *p, size_t n)
{
    gw_hash_init();
#ifdef GW_CRC_CLMUL
    if (gw_crc_clmul_on && n >= GW_CRC_FOLD_MIN) {
        unsigned char  x[16];
        size_t         m = n & ~(size_t) 15;

        gw_crc_fold(&gw_crc32_fold, (uint32_t) ~crc, p, m, x);
        crc = gw_crc32_slice8(gw_crc32_tab, ~0u, x, 16);
        return gw_crc32_slice8(gw_crc32_tab, crc, (const unsigned char *) p + m,
                               n - m);
    }
#endif
    return gw_crc32_slice8(gw_crc32_tab, crc, p, n);
}

uint32_t
gw_crc32c_update(uint32_t crc, const void *p, size_t n)
{
    gw_hash_init();
#ifdef GW_CRC_CLMUL
    if (gw_crc_clmul_on && n >= GW_CRC_FOLD_MIN) {
        unsigned char  x[16];
        size_t         m = n & ~(size_t) 15;

        gw_crc_fold(&gw_crc32c_fold, (uint32_t) ~crc, p, m, x);
        crc = gw_crc32_slice8(gw_crc32c_tab, ~0u, x, 16);
        return gw_crc32_slice8(gw_crc32c_tab, crc,
                               (const unsigned char *) p + m, n - m);
    }
#endif
    return gw_crc32_slice8(gw_crc32c_tab, crc, p, n);
}

uint64_t
gw_crc64nvme_update(uint64_t crc, const void *p, size_t n)
{
    gw_hash_init();
#ifdef GW_CRC_CLMUL
    if (gw_crc_clmul_on && n >= GW_CRC_FOLD_MIN) {
        unsigned char  x[16];
        size_t         m = n & ~(size_t) 15;

        gw_crc_fold(&gw_crc64_fold, ~crc, p, m, x);
        crc = gw_crc64_slice8(gw_crc64_tab, ~0ull, x, 16);
        return gw_crc64_slice8(gw_crc64_tab, crc, (const unsigned char *) p + m,
                               n - m);
    }
#endif
    return gw_crc64_slice8(gw_crc64_tab, crc, p, n);
}

int
gw_hash_crc_simd(int enable)
{
    gw_hash_init();
    gw_crc_clmul_on = enable && gw_crc_clmul_ok;
    return gw_crc_clmul_on;
}

/* With init == xorout (all ones here), the CRC of A then B is the CRC of A
 * shifted past len2 zero bytes, xored with the CRC of B; the inversions
 * cancel out, which is why zlib's formula holds for all three. */
uint32_t
gw_crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
    gw_hash_init();
    return (uint32_t) gw_gf2_mulmod(
               gw_crc_x8n(gw_crc32_x2n, len2, GW_CRC32_POLY, 1u << 31),
               crc1, GW_CRC32_POLY, 1u << 31) ^ crc2;
}

uint32_t
gw_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
    gw_hash_init();
    return (uint32_t) gw_gf2_mulmod(
               gw_crc_x8n(gw_crc32c_x2n, len2, GW_CRC32C_POLY, 1u << 31),
               crc1, GW_CRC32C_POLY, 1u << 31) ^ crc2;
}

uint64_t
gw_crc64nvme_combine(uint64_t crc1, uint64_t crc2, uint64_t len2)
{
    gw_hash_init();
    return gw_gf2_mulmod(
               gw_crc_x8n(gw_crc64_x2n, len2, GW_CRC64NVME_POLY, 1ull << 63),
               crc1, GW_CRC64NVME_POLY, 1ull << 63) ^ crc2;
}


/* ==== S3 checksums ==== */

typedef struct {
    const char  *name;
    const char  *header;
    size_t       len;
} gw_cksum_info_t;

/* Indexed by gw_cksum_alg_t. */
static const gw_cksum_info_t  gw_cksum_info[] = {
    { "",          "",                         0 },
    { "CRC32",     "x-amz-checksum-crc32",     4 },
    { "CRC32C",    "x-amz-checksum-crc32c",    4 },
    { "CRC64NVME", "x-amz-checksum-crc64nvme", 8 },
    { "SHA1",      "x-amz-checksum-sha1",      20 },
    { "SHA256",    "x-amz-checksum-sha256",    32 },
};

#define GW_CKSUM_VALID(alg) \
    ((unsigned) (alg) < GW_NELEMS(gw_cksum_info))

int
gw_cksum_init(gw_cksum_t *c, gw_cksum_alg_t alg)
{
    const EVP_MD  *md;

    c->alg = GW_CK_NONE;
    c->crc = 0;
    c->md = NULL;
    switch (alg) {
    case GW_CK_NONE:
    case GW_CK_CRC32:
    case GW_CK_CRC32C:
    case GW_CK_CRC64NVME:
        gw_hash_init();
        c->alg = alg;
        return GW_OK;
    case GW_CK_SHA1:
        md = gw_evp_sha1();
        break;
    case GW_CK_SHA256:
        md = gw_evp_sha256();
        break;
    default:
        return GW_EINVAL;
    }
    c->md = EVP_MD_CTX_new();
    if (c->md == NULL) {
        goto fail;
    }
    if (EVP_DigestInit_ex(c->md, md, NULL) != 1) {
        goto fail;
    }
    c->alg = alg;
    return GW_OK;

fail:
    EVP_MD_CTX_free(c->md);
    c->md = NULL;
    return GW_ERROR;
}

void
gw_cksum_update(gw_cksum_t *c, const void *p, size_t n)
{
    switch (c->alg) {
    case GW_CK_CRC32:
        c->crc = gw_crc32_update((uint32_t) c->crc, p, n);
        break;
    case GW_CK_CRC32C:
        c->crc = gw_crc32c_update((uint32_t) c->crc, p, n);
        break;
    case GW_CK_CRC64NVME:
        c->crc = gw_crc64nvme_update(c->crc, p, n);
        break;
    case GW_CK_SHA1:
    case GW_CK_SHA256:
        /* EVP_DigestUpdate only fails on a broken context, which final
         * reports by returning a short digest. */
        if (c->md != NULL && EVP_DigestUpdate(c->md, p, n) != 1) {
            EVP_MD_CTX_free(c->md);
            c->md = NULL;
        }
        break;
    default:
        break;
    }
}

static void
gw_put_be(unsigned char *out, uint64_t v, size_t len)
{
    while (len--) {
        out[len] = (unsigned char) (v & 0xff);
        v >>= 8;
    }
}

size_t
gw_cksum_final(gw_cksum_t *c, unsigned char out[GW_CKSUM_MAX_LEN])
{
    unsigned int  len = 0;

    switch (c->alg) {
    case GW_CK_CRC32:
    case GW_CK_CRC32C:
        gw_put_be(out, c->crc, 4);
        return 4;
    case GW_CK_CRC64NVME:
        gw_put_be(out, c->crc, 8);
        return 8;
    case GW_CK_SHA1:
    case GW_CK_SHA256:
        if (c->md == NULL || EVP_DigestFinal_ex(c->md, out, &len) != 1) {
            len = 0;
        }
        gw_cksum_free(c);
        return len;
    default:
        return 0;
    }
}

void
gw_cksum_free(gw_cksum_t *c)
{
    EVP_MD_CTX_free(c->md);
    c->md = NULL;
}

size_t
gw_cksum_len(gw_cksum_alg_t alg)
{
    return GW_CKSUM_VALID(alg) ? gw_cksum_info[alg].len : 0;
}

const char *
gw_cksum_name(gw_cksum_alg_t alg)
{
    return GW_CKSUM_VALID(alg) ? gw_cksum_info[alg].name : "";
}

const char *
gw_cksum_header(gw_cksum_alg_t alg)
{
    return GW_CKSUM_VALID(alg) ? gw_cksum_info[alg].header : "";
}

gw_cksum_alg_t
gw_cksum_from_name(const char *s, size_t n)
{
    size_t  i;

    for (i = 1; i < GW_NELEMS(gw_cksum_info); i++) {
        if (gw_ascii_ieq(s, n, gw_cksum_info[i].name,
                         strlen(gw_cksum_info[i].name))) {
            return (gw_cksum_alg_t) i;
        }
    }
    return GW_CK_NONE;
}

gw_cksum_alg_t
gw_cksum_from_header(const char *s, size_t n)
{
    size_t  i;

    for (i = 1; i < GW_NELEMS(gw_cksum_info); i++) {
        if (gw_ascii_ieq(s, n, gw_cksum_info[i].header,
                         strlen(gw_cksum_info[i].header))) {
            return (gw_cksum_alg_t) i;
        }
    }
    return GW_CK_NONE;
}


/* ==== base64 and hex ==== */

static const char  gw_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
gw_base64_encode(char *dst, const unsigned char *src, size_t n)
{
    char      *d = dst;
    uint32_t   v;

    for ( ; n >= 3; n -= 3, src += 3) {
        v = (uint32_t) src[0] << 16 | (uint32_t) src[1] << 8 | src[2];
        *d++ = gw_b64_alphabet[(v >> 18) & 63];
        *d++ = gw_b64_alphabet[(v >> 12) & 63];
        *d++ = gw_b64_alphabet[(v >> 6) & 63];
        *d++ = gw_b64_alphabet[v & 63];
    }
    if (n > 0) {
        v = (uint32_t) src[0] << 16 | (n > 1 ? (uint32_t) src[1] << 8 : 0);
        *d++ = gw_b64_alphabet[(v >> 18) & 63];
        *d++ = gw_b64_alphabet[(v >> 12) & 63];
        *d++ = n > 1 ? gw_b64_alphabet[(v >> 6) & 63] : '=';
        *d++ = '=';
    }
    *d = '\0';
    return (size_t) (d - dst);
}

/* The 6-bit value of a base64 character, or -1. */
static int
gw_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

int
gw_base64_decode(unsigned char *dst, size_t dstcap, size_t *outlen,
    const char *src, size_t n)
{
    const unsigned char  *s = (const unsigned char *) src;
    size_t                i, pad = 0, need, o = 0;
    uint32_t              v;
    int                   j, x;

    *outlen = 0;
    if (n % 4 != 0) {
        return GW_EINVAL;
    }
    if (n > 0 && s[n - 1] == '=') {
        pad = s[n - 2] == '=' ? 2 : 1;
    }
    need = n / 4 * 3 - pad;
    if (need > dstcap) {
        return GW_EINVAL;
    }
    for (i = 0; i < n; i += 4) {
        v = 0;
        for (j = 0; j < 4; j++) {
            if (i + 4 == n && j >= 4 - (int) pad) {
                x = 0;                       /* the padding itself */
            } else if ((x = gw_b64_value(s[i + j])) < 0) {
                return GW_EINVAL;            /* includes '=' in the middle */
            }
            v = v << 6 | (uint32_t) x;
        }
        if (i + 4 == n && pad > 0) {
            /* The bits under the padding must be zero, or two encodings
             * would name the same bytes. */
            if ((pad == 1 && (v & 0xff) != 0)
                || (pad == 2 && (v & 0xffff) != 0))
            {
                return GW_EINVAL;
            }
        }
        dst[o++] = (unsigned char) (v >> 16);
        if (o < need) {
            dst[o++] = (unsigned char) (v >> 8);
        }
        if (o < need) {
            dst[o++] = (unsigned char) v;
        }
    }
    *outlen = o;
    return GW_OK;
}

void
gw_hex_encode(char *dst, const unsigned char *src, size_t n)
{
    static const char  digits[] = "0123456789abcdef";
    size_t             i;

    for (i = 0; i < n; i++) {
        dst[2 * i] = digits[src[i] >> 4];
        dst[2 * i + 1] = digits[src[i] & 15];
    }
    dst[2 * n] = '\0';
}

int
gw_hex_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
gw_hex_decode(unsigned char *dst, const char *src, size_t n)
{
    size_t  i;
    int     hi, lo;

    if (n % 2 != 0) {
        return GW_EINVAL;
    }
    for (i = 0; i < n; i += 2) {
        hi = gw_hex_value((unsigned char) src[i]);
        lo = gw_hex_value((unsigned char) src[i + 1]);
        if (hi < 0 || lo < 0) {
            return GW_EINVAL;
        }
        dst[i / 2] = (unsigned char) (hi << 4 | lo);
    }
    return GW_OK;
}


/* ==== OpenSSL wrappers ==== */

static void
gw_hash_fatal(const char *what, int line)
{
    fprintf(stderr, "[crit] OpenSSL %s failed at %s:%d\n", what, __FILE__,
            line);
    abort();
}

const EVP_MD *
gw_evp_md5(void)
{
    gw_hash_init();
    return gw_evp_md5_md;
}

const EVP_MD *
gw_evp_sha1(void)
{
    gw_hash_init();
    return gw_evp_sha1_md;
}

const EVP_MD *
gw_evp_sha256(void)
{
    gw_hash_init();
    return gw_evp_sha256_md;
}

void
gw_sha256(const void *p, size_t n, unsigned char out[32])
{
    if (EVP_Digest(p, n, out, NULL, gw_evp_sha256(), NULL) != 1) {
        gw_hash_fatal("SHA-256", __LINE__);
    }
}

void
gw_md5(const void *p, size_t n, unsigned char out[16])
{
    if (EVP_Digest(p, n, out, NULL, gw_evp_md5(), NULL) != 1) {
        gw_hash_fatal("MD5", __LINE__);
    }
}

void
gw_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
    unsigned char out[32])
{
    static const unsigned char  nokey[1];
    EVP_MAC_CTX                *c;
    size_t                      len = 0;

    if (keylen == 0) {
        key = nokey;   /* OpenSSL may reject a NULL key even of length 0 */
    }
    gw_hash_init();
    c = EVP_MAC_CTX_dup(gw_hmac_sha256_template);
    if (c == NULL || EVP_MAC_init(c, key, keylen, NULL) != 1
        || EVP_MAC_update(c, msg, n) != 1
        || EVP_MAC_final(c, out, &len, 32) != 1 || len != 32)
    {
        gw_hash_fatal("HMAC-SHA256", __LINE__);
    }
    EVP_MAC_CTX_free(c);
}

int
gw_ct_memeq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void
gw_random_bytes(void *dst, size_t n)
{
    unsigned char  *d = dst;
    size_t          k;

    /* RAND_bytes takes an int length, so feed it in slices. */
    while (n > 0) {
        k = GW_MIN(n, (size_t) 1 << 20);
        if (RAND_bytes(d, (int) k) != 1) {
            gw_hash_fatal("RAND_bytes", __LINE__);
        }
        d += k;
        n -= k;
    }
}
