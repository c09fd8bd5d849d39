/* test/unit/test_hash.c: core/hash. Expected values were computed with
 * Python's zlib, hashlib, hmac, base64 and a bit-at-a-time CRC. */
#include "core/hash.h"
#include "core/gw.h"
#include "test/unit/unit.h"

#define CHECK_HEX(buf, len, hex)                                            \
    do {                                                                    \
        char  hex_[2 * 64 + 1];                                             \
        gw_hex_encode(hex_, (buf), (len));                                  \
        CHECK_EQ_STR(hex_, (hex));                                          \
    } while (0)

/* A fixed-seed xorshift so failures reproduce. */
static uint64_t
test_hash_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One bit at a time, straight from the definition: the reference the
 * slicing-by-8 code is checked against. */
static uint64_t
test_crc_bitwise(uint64_t poly, int width, const unsigned char *p, size_t n)
{
    uint64_t  mask = width == 64 ? ~0ull : (1ull << width) - 1;
    uint64_t  c = mask;
    int       k;

    while (n--) {
        c ^= *p++;
        for (k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        }
    }
    return c ^ mask;
}

TEST(hash_crc_check_values)
{
    const char  *s = "123456789";

    gw_hash_init();
    gw_hash_init();   /* twice is harmless */
    CHECK_EQ_INT(gw_crc32_update(0, s, 9), 0xCBF43926u);
    CHECK_EQ_INT(gw_crc32c_update(0, s, 9), 0xE3069283u);
    CHECK(gw_crc64nvme_update(0, s, 9) == 0xAE8B14860A799888ull);
    CHECK_EQ_INT(gw_crc32_update(0, "", 0), 0);
    CHECK_EQ_INT(gw_crc32c_update(0, NULL, 0), 0);
    CHECK(gw_crc64nvme_update(0, "", 0) == 0);
    CHECK_EQ_INT(gw_crc32_update(0, "hello world", 11), 0x0d4a1185u);
    CHECK_EQ_INT(gw_crc32c_update(0, "hello world", 11), 0xc99465aau);
    CHECK(gw_crc64nvme_update(0, "hello world", 11) == 0x8d29d5c3f6ea8ebeull);
}

/* Random buffers of every size up to 80 and some large ones, at every
 * alignment, hashed one-shot and in odd pieces, against the bitwise CRC. */
TEST(hash_crc_incremental)
{
    static unsigned char  buf[70000 + 8];
    size_t                sizes[100], nsizes = 0, i, off, n, pos, step;
    uint64_t              seed = 0x9e3779b97f4a7c15ull;
    uint32_t              a32, a32c;
    uint64_t              a64;

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (unsigned char) test_hash_rand(&seed);
    }
    for (i = 0; i <= 80; i++) {
        sizes[nsizes++] = i;
    }
    sizes[nsizes++] = 255;
    sizes[nsizes++] = 256;
    sizes[nsizes++] = 1023;
    sizes[nsizes++] = 4097;
    sizes[nsizes++] = 65536;
    sizes[nsizes++] = 70000;

    for (i = 0; i < nsizes; i++) {
        for (off = 0; off < 8; off++) {
            n = sizes[i];
            a32 = gw_crc32_update(0, buf + off, n);
            a32c = gw_crc32c_update(0, buf + off, n);
            a64 = gw_crc64nvme_update(0, buf + off, n);
            if (n <= 4097 || off == 0) {   /* the bitwise CRC is slow */
                CHECK(a32 == test_crc_bitwise(0xEDB88320u, 32, buf + off, n));
                CHECK(a32c == test_crc_bitwise(0x82F63B78u, 32, buf + off, n));
                CHECK(a64 == test_crc_bitwise(0x9A6C9329AC4BC9B5ull, 64,
                                              buf + off, n));
            }
            /* Pieces of 1, 2, 3, 5, 7, 11, ... bytes cross the 8-byte
             * blocks at every phase. */
            for (step = 1; step <= 13; step += 2) {
                uint32_t  b32 = 0, b32c = 0;
                uint64_t  b64 = 0;
                size_t    k;

                for (pos = 0; pos < n; pos += k) {
                    k = GW_MIN(step + pos % 3, n - pos);
                    b32 = gw_crc32_update(b32, buf + off + pos, k);
                    b32c = gw_crc32c_update(b32c, buf + off + pos, k);
                    b64 = gw_crc64nvme_update(b64, buf + off + pos, k);
                }
                CHECK(a32 == b32);
                CHECK(a32c == b32c);
                CHECK(a64 == b64);
            }
        }
    }
}

/* Both CRC paths (PCLMULQDQ folding and the tables) against the bitwise
 * reference at every length up to 1100 (the folding starts at 256 and works
 * in 64- and 16-byte blocks) at random alignments and random start
 * values, and on a large buffer with the folding on, off and on again. */
TEST(hash_crc_simd)
{
    static unsigned char  buf[1100 + 32];   /* up to 7 + 15 past the end */
    uint64_t              seed = 0x2545f4914f6cdd1dull, c64, m64;
    uint32_t              c32;
    size_t                i, n, off;
    int                   pass, simd;

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (unsigned char) test_hash_rand(&seed);
    }
    simd = gw_hash_crc_simd(1);
    for (pass = 0; pass < 2; pass++) {
        CHECK_EQ_INT(gw_hash_crc_simd(pass == 0), pass == 0 ? simd : 0);
        for (n = 0; n <= 1100; n++) {
            off = test_hash_rand(&seed) % 16;
            CHECK(gw_crc32_update(0, buf + off, n)
                  == test_crc_bitwise(0xEDB88320u, 32, buf + off, n));
            CHECK(gw_crc32c_update(0, buf + off, n)
                  == test_crc_bitwise(0x82F63B78u, 32, buf + off, n));
            CHECK(gw_crc64nvme_update(0, buf + off, n)
                  == test_crc_bitwise(0x9A6C9329AC4BC9B5ull, 64, buf + off, n));
            /* A non-zero start goes through the same fold. */
            c32 = gw_crc32c_update(0, buf, 7);
            CHECK(gw_crc32c_update(c32, buf + 7 + off, n)
                  == gw_crc32c_combine(c32, test_crc_bitwise(0x82F63B78u, 32,
                                                 buf + 7 + off, n), n));
            c64 = gw_crc64nvme_update(0, buf, 5);
            m64 = test_crc_bitwise(0x9A6C9329AC4BC9B5ull, 64, buf + 5 + off, n);
            CHECK(gw_crc64nvme_update(c64, buf + 5 + off, n)
                  == gw_crc64nvme_combine(c64, m64, n));
        }
    }
    gw_hash_crc_simd(1);
}

TEST(hash_crc_combine)
{
    static unsigned char  buf[20000];
    uint64_t              seed = 42;
    size_t                i, cut, n;
    size_t                cuts[] = { 0, 1, 7, 8, 9, 100, 4096, 19999, 20000 };

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (unsigned char) test_hash_rand(&seed);
    }
    n = sizeof(buf);
    for (i = 0; i < GW_NELEMS(cuts); i++) {
        cut = cuts[i];
        CHECK(gw_crc32_combine(gw_crc32_update(0, buf, cut),
                               gw_crc32_update(0, buf + cut, n - cut),
                               n - cut) == gw_crc32_update(0, buf, n));
        CHECK(gw_crc32c_combine(gw_crc32c_update(0, buf, cut),
                                gw_crc32c_update(0, buf + cut, n - cut),
                                n - cut) == gw_crc32c_update(0, buf, n));
        CHECK(gw_crc64nvme_combine(gw_crc64nvme_update(0, buf, cut),
                                   gw_crc64nvme_update(0, buf + cut, n - cut),
                                   n - cut) == gw_crc64nvme_update(0, buf, n));
    }
    /* Three parts, as a multipart upload would fold them. */
    {
        uint32_t  c = gw_crc32c_update(0, buf, 5000);

        c = gw_crc32c_combine(c, gw_crc32c_update(0, buf + 5000, 6000), 6000);
        c = gw_crc32c_combine(c, gw_crc32c_update(0, buf + 11000, 9000), 9000);
        CHECK(c == gw_crc32c_update(0, buf, n));
    }
    /* A length beyond 32 bits must not wrap: zlib's value for
     * crc32_combine64(0x12345678, 0x9abcdef0, 2^33 + 5), from zlib. */
    CHECK_EQ_INT(gw_crc32_combine(0x12345678u, 0x9abcdef0u,
                                  (1ull << 33) + 5), 0x315d2a04u);
    /* The CRC of 2^20 zero bytes, directly and by doubling with combine,
     * which walks through twenty different powers of x. */
    {
        static unsigned char  zero[1 << 20];
        uint32_t              z32 = gw_crc32c_update(0, zero, 1);
        uint64_t              z64 = gw_crc64nvme_update(0, zero, 1);
        size_t                len;

        for (len = 1; len < sizeof(zero); len *= 2) {
            z32 = gw_crc32c_combine(z32, z32, len);
            z64 = gw_crc64nvme_combine(z64, z64, len);
        }
        CHECK(z32 == gw_crc32c_update(0, zero, sizeof(zero)));
        CHECK(z64 == gw_crc64nvme_update(0, zero, sizeof(zero)));
    }
}

TEST(hash_cksum)
{
    gw_cksum_t     c;
    unsigned char  out[32];
    char           b64[GW_BASE64_LEN(32) + 1];
    size_t         n;
    static const struct {
        gw_cksum_alg_t  alg;
        const char     *b64;
    } cases[] = {
        { GW_CK_CRC32,     "DUoRhQ==" },
        { GW_CK_CRC32C,    "yZRlqg==" },
        { GW_CK_CRC64NVME, "jSnVw/bqjr4=" },
        { GW_CK_SHA1,      "Kq5sNclPz7QV2+lfQIuc6R7oRu0=" },
        { GW_CK_SHA256,    "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=" },
    };
    size_t         i;

    for (i = 0; i < GW_NELEMS(cases); i++) {
        CHECK_EQ_INT(gw_cksum_init(&c, cases[i].alg), GW_OK);
        gw_cksum_update(&c, "hello", 5);
        gw_cksum_update(&c, "", 0);
        gw_cksum_update(&c, " world", 6);
        n = gw_cksum_final(&c, out);
        CHECK_EQ_INT(n, gw_cksum_len(cases[i].alg));
        gw_base64_encode(b64, out, n);
        CHECK_EQ_STR(b64, cases[i].b64);
        gw_cksum_free(&c);   /* after final, and twice: both harmless */
        gw_cksum_free(&c);
    }
    /* Freed without final. */
    CHECK_EQ_INT(gw_cksum_init(&c, GW_CK_SHA256), GW_OK);
    gw_cksum_update(&c, "x", 1);
    gw_cksum_free(&c);
    CHECK(c.md == NULL);
    /* A second final of a SHA yields nothing rather than a crash. */
    CHECK_EQ_INT(gw_cksum_final(&c, out), 0);

    CHECK_EQ_INT(gw_cksum_init(&c, GW_CK_NONE), GW_OK);
    gw_cksum_update(&c, "x", 1);
    CHECK_EQ_INT(gw_cksum_final(&c, out), 0);
    CHECK_EQ_INT(gw_cksum_init(&c, (gw_cksum_alg_t) 99), GW_EINVAL);
    CHECK(c.md == NULL);
}

TEST(hash_cksum_names)
{
    static const char  *names[] = {
        "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"
    };
    static const char  *headers[] = {
        "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
        "x-amz-checksum-crc64nvme", "x-amz-checksum-sha1",
        "x-amz-checksum-sha256"
    };
    size_t              lens[] = { 4, 4, 8, 20, 32 };
    gw_cksum_alg_t      alg;
    size_t              i;

    for (i = 0; i < 5; i++) {
        alg = (gw_cksum_alg_t) (GW_CK_CRC32 + i);
        CHECK_EQ_STR(gw_cksum_name(alg), names[i]);
        CHECK_EQ_STR(gw_cksum_header(alg), headers[i]);
        CHECK_EQ_INT(gw_cksum_len(alg), lens[i]);
        CHECK_EQ_INT(gw_cksum_from_name(names[i], strlen(names[i])), alg);
        CHECK_EQ_INT(gw_cksum_from_header(headers[i], strlen(headers[i])),
                     alg);
    }
    CHECK_EQ_INT(gw_cksum_from_name("crc32", 5), GW_CK_CRC32);
    CHECK_EQ_INT(gw_cksum_from_name("Crc64Nvme", 9), GW_CK_CRC64NVME);
    CHECK_EQ_INT(gw_cksum_from_name("sha256", 6), GW_CK_SHA256);
    /* Prefixes, extensions and embedded NULs are not names. */
    CHECK_EQ_INT(gw_cksum_from_name("CRC32", 4), GW_CK_NONE);
    CHECK_EQ_INT(gw_cksum_from_name("CRC32CX", 7), GW_CK_NONE);
    CHECK_EQ_INT(gw_cksum_from_name("CRC32\0", 6), GW_CK_NONE);
    CHECK_EQ_INT(gw_cksum_from_name("", 0), GW_CK_NONE);
    CHECK_EQ_INT(gw_cksum_from_name("MD5", 3), GW_CK_NONE);
    CHECK_EQ_INT(gw_cksum_from_header("X-Amz-Checksum-CRC32C", 21),
                 GW_CK_CRC32C);
    CHECK_EQ_INT(gw_cksum_from_header("x-amz-checksum-type", 19), GW_CK_NONE);
    CHECK_EQ_INT(gw_cksum_from_header("x-amz-checksum-algorithm", 24),
                 GW_CK_NONE);
    CHECK_EQ_INT(gw_cksum_from_header("x-amz-checksum-", 15), GW_CK_NONE);
    CHECK_EQ_STR(gw_cksum_name(GW_CK_NONE), "");
    CHECK_EQ_STR(gw_cksum_header((gw_cksum_alg_t) 42), "");
    CHECK_EQ_INT(gw_cksum_len(GW_CK_NONE), 0);
}

TEST(hash_base64)
{
    static const struct {
        const char  *raw, *b64;
    } v[] = {   /* RFC 4648 section 10 */
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
    };
    static const char  *bad[] = {
        "Zg=", "Zg", "Z===", "====", "Zm9v====", "Zg==Zg==", "Zm=v",
        "Zm9 ", "Zm9\n", "Zm9-", "Zm9_", "Zh==", "Zm9=", "Zm8\0",
    };
    unsigned char       out[64], raw[256];
    char                enc[GW_BASE64_LEN(256) + 1];
    size_t              i, n, len;
    uint64_t            seed = 7;

    for (i = 0; i < GW_NELEMS(v); i++) {
        n = strlen(v[i].raw);
        CHECK_EQ_INT(gw_base64_encode(enc, (const unsigned char *) v[i].raw,
                                      n), strlen(v[i].b64));
        CHECK_EQ_STR(enc, v[i].b64);
        CHECK_EQ_INT(gw_base64_decode(out, sizeof(out), &len, v[i].b64,
                                      strlen(v[i].b64)), GW_OK);
        CHECK_EQ_INT(len, n);
        CHECK(memcmp(out, v[i].raw, n) == 0);
        /* Exactly enough room is enough; one byte less is not. */
        CHECK_EQ_INT(gw_base64_decode(out, n, &len, v[i].b64,
                                      strlen(v[i].b64)), GW_OK);
        if (n > 0) {
            CHECK_EQ_INT(gw_base64_decode(out, n - 1, &len, v[i].b64,
                                          strlen(v[i].b64)), GW_EINVAL);
        }
    }
    for (i = 0; i < GW_NELEMS(bad); i++) {
        n = strlen(bad[i]);
        if (i == GW_NELEMS(bad) - 1) {
            n = 4;   /* the one with a NUL inside */
        }
        CHECK_EQ_INT(gw_base64_decode(out, sizeof(out), &len, bad[i], n),
                     GW_EINVAL);
    }
    /* Round trips of random bytes of every length up to 256. */
    for (n = 0; n <= 256; n++) {
        for (i = 0; i < n; i++) {
            raw[i] = (unsigned char) test_hash_rand(&seed);
        }
        len = gw_base64_encode(enc, raw, n);
        CHECK_EQ_INT(len, GW_BASE64_LEN(n));
        CHECK_EQ_INT(strlen(enc), len);
        {
            unsigned char  back[256];
            size_t         blen;

            CHECK_EQ_INT(gw_base64_decode(back, sizeof(back), &blen, enc,
                                          len), GW_OK);
            CHECK_EQ_INT(blen, n);
            CHECK(memcmp(back, raw, n) == 0);
        }
    }
    /* All 256 byte values survive, including '+' and '/' in the text. */
    for (i = 0; i < 256; i++) {
        raw[i] = (unsigned char) i;
    }
    gw_base64_encode(enc, raw, 256);
    CHECK(strchr(enc, '+') != NULL && strchr(enc, '/') != NULL);
}

TEST(hash_hex)
{
    unsigned char  out[8];
    char           hex[17];

    gw_hex_encode(hex, (const unsigned char *) "\x00\x01\xab\xff", 4);
    CHECK_EQ_STR(hex, "0001abff");
    gw_hex_encode(hex, NULL, 0);
    CHECK_EQ_STR(hex, "");
    CHECK_EQ_INT(gw_hex_decode(out, "0001ABff", 8), GW_OK);
    CHECK(memcmp(out, "\x00\x01\xab\xff", 4) == 0);
    CHECK_EQ_INT(gw_hex_decode(out, "", 0), GW_OK);
    CHECK_EQ_INT(gw_hex_decode(out, "abc", 3), GW_EINVAL);
    CHECK_EQ_INT(gw_hex_decode(out, "0g", 2), GW_EINVAL);
    CHECK_EQ_INT(gw_hex_decode(out, "g0", 2), GW_EINVAL);
    CHECK_EQ_INT(gw_hex_decode(out, "0 ", 2), GW_EINVAL);
    CHECK_EQ_INT(gw_hex_decode(out, "\0" "0", 2), GW_EINVAL);
}

TEST(hash_digests)
{
    unsigned char  d[32];
    unsigned char  key[131];

    gw_sha256("abc", 3, d);
    CHECK_HEX(d, 32, "ba7816bf8f01cfea414140de5dae2223"
                     "b00361a396177a9cb410ff61f20015ad");
    gw_sha256("", 0, d);
    CHECK_HEX(d, 32, "e3b0c44298fc1c149afbf4c8996fb924"
                     "27ae41e4649b934ca495991b7852b855");
    gw_md5("", 0, d);
    CHECK_HEX(d, 16, "d41d8cd98f00b204e9800998ecf8427e");
    gw_md5("hello world", 11, d);
    CHECK_HEX(d, 16, "5eb63bbbe01eeed093cb22bb8f5acdc3");

    /* RFC 4231 test case 2. */
    gw_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
    CHECK_HEX(d, 32, "5bdcc146bf60754e6a042426089575c7"
                     "5a003f089d2739839dec58b964ec3843");
    /* RFC 4231 test case 6: a key longer than the block size. */
    memset(key, 0xaa, sizeof(key));
    gw_hmac_sha256(key, sizeof(key),
                   "Test Using Larger Than Block-Size Key - Hash Key First",
                   54, d);
    CHECK_HEX(d, 32, "60e431591ee0b67f0d8a26aacbf5b77f"
                     "8e0bc6213728c5140546040f0ee37f54");
    /* An empty key is a valid HMAC key. */
    gw_hmac_sha256("", 0, "", 0, d);
    CHECK_HEX(d, 32, "b613679a0814d9ec772f95d778c35fc5"
                     "ff1697c493715653c6c712144292c5ad");
}

TEST(hash_misc)
{
    unsigned char  a[64], b[64];

    CHECK(gw_ct_memeq("abc", "abc", 3) == 1);
    CHECK(gw_ct_memeq("abc", "abd", 3) == 0);
    CHECK(gw_ct_memeq("", "x", 0) == 1);
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    gw_random_bytes(a, sizeof(a));
    gw_random_bytes(b, sizeof(b));
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    gw_random_bytes(a, 0);
}
