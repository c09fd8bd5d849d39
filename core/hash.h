/* core/hash.h: checksums, digests and their text encodings. Owns the CRC
 * lookup tables (built once, thread-safely) and wraps OpenSSL's EVP for
 * SHA-1, SHA-256, MD5 and HMAC. Knows nothing about HTTP or S3 beyond the
 * names of the x-amz-checksum-* algorithms.
 *
 * All CRCs follow zlib's convention: start with crc = 0 and pass the previous
 * result back in to continue, so crc(AB) == update(update(0, A), B). The
 * pre- and post-inversion happens inside each call. */
#ifndef GW_HASH_H
#define GW_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* Builds the CRC tables and fetches the OpenSSL algorithms. Call once from
 * main before any worker thread starts; every function below also calls it through pthread_once, so forgetting it
 * costs only the first caller a few microseconds. */
void gw_hash_init(void);

/* CRC-32 as zlib and S3's CRC32 (reflected polynomial 0xEDB88320). */
uint32_t gw_crc32_update(uint32_t crc, const void *p, size_t n);

/* CRC-32C, Castagnoli (reflected polynomial 0x82F63B78), S3's CRC32C. */
uint32_t gw_crc32c_update(uint32_t crc, const void *p, size_t n);

/* CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout all
 * ones), S3's CRC64NVME. The check value for "123456789" is
 * 0xAE8B14860A799888. */
uint64_t gw_crc64nvme_update(uint64_t crc, const void *p, size_t n);

/* The three CRCs fold 16 bytes at a time with PCLMULQDQ when the CPU has
 * it (checked once, at init), and use slicing-by-8 tables otherwise. Turns
 * the folding off (enable 0) or back on, for tests and benchmarks that
 * compare the two; returns 1 when the folding is in use. Not thread-safe:
 * call it before any worker thread hashes. */
int gw_hash_crc_simd(int enable);

/* Given crc1 of A and crc2 of B (len2 bytes), returns the CRC of A then B
 * without the bytes, as zlib's crc32_combine. Multipart uploads use this to
 * build a full-object checksum from the part checksums. O(log len2). */
uint32_t gw_crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);
uint32_t gw_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);
uint64_t gw_crc64nvme_combine(uint64_t crc1, uint64_t crc2, uint64_t len2);

/* The algorithms of S3's ChecksumAlgorithm / x-amz-checksum-*. */
typedef enum {
    GW_CK_NONE = 0,
    GW_CK_CRC32,
    GW_CK_CRC32C,
    GW_CK_CRC64NVME,
    GW_CK_SHA1,
    GW_CK_SHA256
} gw_cksum_alg_t;

#define GW_CKSUM_MAX_LEN  32   /* the longest raw digest (SHA-256) */

/* A running checksum of one algorithm. crc holds the CRC state; md is an EVP
 * context owned by this struct for SHA-1 and SHA-256 (NULL otherwise, and
 * NULL again after final or free). */
typedef struct gw_cksum_s {
    gw_cksum_alg_t   alg;
    uint64_t         crc;
    EVP_MD_CTX      *md;
} gw_cksum_t;

/* Starts a checksum. GW_CK_NONE is accepted and produces an empty digest.
 * Returns GW_OK, GW_EINVAL for an unknown alg or GW_ERROR if OpenSSL fails
 * (then nothing needs freeing). */
int gw_cksum_init(gw_cksum_t *c, gw_cksum_alg_t alg);

/* Adds n bytes. p is borrowed only for the call. */
void gw_cksum_update(gw_cksum_t *c, const void *p, size_t n);

/* Writes the raw digest, big-endian for the CRCs (4 bytes for CRC32 and
 * CRC32C, 8 for CRC64NVME, 20 for SHA1, 32 for SHA256), and returns its
 * length. Frees the EVP context; a second final of a SHA returns 0. */
size_t gw_cksum_final(gw_cksum_t *c, unsigned char out[GW_CKSUM_MAX_LEN]);

/* Frees the EVP context if any. Safe after final and safe twice. */
void gw_cksum_free(gw_cksum_t *c);

/* The raw digest length of alg, 0 for GW_CK_NONE or unknown. */
size_t gw_cksum_len(gw_cksum_alg_t alg);

/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" as S3 spells them, or ""
 * for GW_CK_NONE. Static strings. */
const char *gw_cksum_name(gw_cksum_alg_t alg);

/* "x-amz-checksum-crc32" ... (lowercase), or "" for GW_CK_NONE. Static. */
const char *gw_cksum_header(gw_cksum_alg_t alg);

/* Case-insensitive "crc32", "CRC32C", ... to an alg; GW_CK_NONE if unknown. */
gw_cksum_alg_t gw_cksum_from_name(const char *s, size_t n);

/* Case-insensitive "x-amz-checksum-crc32", ... to an alg; GW_CK_NONE for any
 * other header (including x-amz-checksum-type and -algorithm). */
gw_cksum_alg_t gw_cksum_from_header(const char *s, size_t n);

/* Length of the base64 text of n bytes, without the NUL. */
#define GW_BASE64_LEN(n)  (4 * (((n) + 2) / 3))

/* Standard alphabet with padding. dst needs GW_BASE64_LEN(n) + 1 bytes; it is
 * NUL-terminated. Returns the length written (without the NUL). */
size_t gw_base64_encode(char *dst, const unsigned char *src, size_t n);

/* Strict standard base64: n a multiple of 4, padding only at the end, no
 * whitespace, and the unused bits of the last group zero (so each byte string
 * has exactly one accepted encoding). Writes *outlen bytes to dst. Returns
 * GW_OK, or GW_EINVAL on bad input or when dstcap is too small (then dst may
 * hold partial output). */
int gw_base64_decode(unsigned char *dst, size_t dstcap, size_t *outlen,
    const char *src, size_t n);

/* Lowercase hex; dst needs 2n + 1 bytes and is NUL-terminated. */
void gw_hex_encode(char *dst, const unsigned char *src, size_t n);

/* Decodes n hex digits (either case) into n / 2 bytes. Returns GW_OK, or
 * GW_EINVAL if n is odd or a character is not a hex digit. */
int gw_hex_decode(unsigned char *dst, const char *src, size_t n);

/* The value of one hex digit (either case), or -1. */
int gw_hex_value(int c);

/* The algorithms, fetched from OpenSSL's providers once per process: pass
 * these, never EVP_sha256() & co., which look the algorithm up again on
 * every use. */
const EVP_MD *gw_evp_md5(void);
const EVP_MD *gw_evp_sha1(void);
const EVP_MD *gw_evp_sha256(void);

/* One-shot digests. Abort if OpenSSL fails, which only happens when it is
 * broken (out of memory or a provider missing). */
void gw_sha256(const void *p, size_t n, unsigned char out[32]);
void gw_md5(const void *p, size_t n, unsigned char out[16]);
void gw_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
    unsigned char out[32]);

/* Constant-time comparison of n bytes (for signatures): 1 if equal, else 0. */
int gw_ct_memeq(const void *a, const void *b, size_t n);

/* Fills dst from OpenSSL's CSPRNG; aborts if it cannot. */
void gw_random_bytes(void *dst, size_t n);

#endif
