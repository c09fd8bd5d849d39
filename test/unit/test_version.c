/* test/unit/test_version.c: version ids (s3/version.c): round trips,
 * uniqueness, URL safety, the refusal of ids never given; the order of the
 * versions-db keys (newest first within a key, keys apart); the version
 * fields of the object record and their patching (store/record.c). */
#include "store/internal.h"
#include "s3/version.h"
#include "test/unit/unit.h"

static void
check_roundtrip(uint64_t v)
{
    char      id[S3_VERSION_ID_LEN + 1];
    uint64_t  back = 0;
    size_t    i;

    s3_version_id(v, id);
    CHECK_EQ_INT(strlen(id), S3_VERSION_ID_LEN);
    for (i = 0; i < S3_VERSION_ID_LEN; i++) {
        CHECK((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' && id[i] <= 'z')
              || (id[i] >= '0' && id[i] <= '9') || id[i] == '-'
              || id[i] == '_');
    }
    CHECK_EQ_INT(s3_version_parse(id, strlen(id), &back), S3_ERR_NONE);
    CHECK(back == v);
}

TEST(version_id_roundtrip)
{
    uint64_t  v, x = 88172645463325252ULL;
    int       i;

    for (v = 1; v < 2000; v++) {
        check_roundtrip(v);
    }
    check_roundtrip(UINT32_MAX);
    check_roundtrip((uint64_t) 1 << 63);
    check_roundtrip(UINT64_MAX - 1);
    check_roundtrip(UINT64_MAX);
    for (i = 0; i < 10000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_roundtrip(x | 1);
    }
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp((const char *) a, (const char *) b);
}

TEST(version_id_unique_and_opaque)
{
    static char  ids[5000][S3_VERSION_ID_LEN + 1];
    size_t       i, same_prefix = 0;

    for (i = 0; i < 5000; i++) {
        s3_version_id(i + 1, ids[i]);
        /* Consecutive numbers do not give ids that read as a counter. */
        if (i > 0 && memcmp(ids[i], ids[i - 1], 8) == 0) {
            same_prefix++;
        }
    }
    CHECK(same_prefix < 50);
    qsort(ids, 5000, sizeof(ids[0]), str_cmp);
    for (i = 1; i < 5000; i++) {
        CHECK(strcmp(ids[i - 1], ids[i]) != 0);
    }
}

TEST(version_id_refused)
{
    char      id[S3_VERSION_ID_LEN + 1], bad[S3_VERSION_ID_LEN + 1];
    uint64_t  v = 7;
    size_t    i, refused = 0;

    CHECK_EQ_INT(s3_version_parse("null", 4, &v), S3_ERR_NONE);
    CHECK(v == STORE_VERSION_NULL);
    CHECK_EQ_INT(s3_version_parse("", 0, &v), S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_version_parse("NULL", 4, &v), S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_version_parse("nul", 3, &v), S3_ERR_INVALID_ARGUMENT);
    s3_version_id(12345, id);
    CHECK_EQ_INT(s3_version_parse(id, S3_VERSION_ID_LEN - 1, &v),
                 S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_version_parse("AAAAAAAAAAAAAAAA", 16, &v),
                 S3_ERR_INVALID_ARGUMENT);
    memcpy(bad, id, sizeof(bad));
    bad[3] = '=';
    CHECK_EQ_INT(s3_version_parse(bad, 16, &v), S3_ERR_INVALID_ARGUMENT);
    bad[3] = '\0';
    CHECK_EQ_INT(s3_version_parse(bad, 16, &v), S3_ERR_INVALID_ARGUMENT);
    /* Any one character changed: the check catches it (the last character
     * carries 6 bits of the check, so nearly always). */
    for (i = 0; i < S3_VERSION_ID_LEN; i++) {
        memcpy(bad, id, sizeof(bad));
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        refused += s3_version_parse(bad, 16, &v) == S3_ERR_INVALID_ARGUMENT;
    }
    CHECK_EQ_INT(refused, S3_VERSION_ID_LEN);
}

TEST(version_keys_order)
{
    unsigned char  a[512], b[512], c[512], p[512];
    size_t         na, nb, nc, np;
    char           longkey[600];

    /* Within a key: the newer version (greater number) sorts first. */
    na = store__version_key("bkt", gw_str_lit("k"), 10, 0, a);
    nb = store__version_key("bkt", gw_str_lit("k"), 9, 0, b);
    CHECK_EQ_INT(na, nb);
    CHECK(memcmp(a, b, na) < 0);
    /* Every entry of a key starts with its prefix and is 8 bytes longer. */
    np = store__version_key("bkt", gw_str_lit("k"), 0, 1, p);
    CHECK_EQ_INT(na, np + 8);
    CHECK(memcmp(a, p, np) == 0);
    /* "k" and "k\0x" are other keys: same prefix bytes, other lengths. */
    nc = store__version_key("bkt", (gw_str_t) { "k\0x", 3 }, 5, 0, c);
    CHECK(nc != np + 8);
    /* A long key is stored hashed, and still fits an LMDB key. */
    memset(longkey, 'z', sizeof(longkey));
    nc = store__version_key("bkt", (gw_str_t) { longkey, STORE_KEY_MAX }, 5,
                            0, c);
    CHECK(nc <= 511);
}

TEST(version_record_fields)
{
    store_object_t   o, *d;
    store_vinfo_t    vi, want;
    unsigned char   *buf, *patched;
    size_t           len, plen;

    memset(&o, 0, sizeof(o));
    o.key = gw_str_lit("k");
    o.inline_data = gw_str_lit("bytes");
    o.size = 5;
    buf = store__object_encode(&o, &len);
    CHECK_EQ_INT(store__object_set_generation(buf, len, 42), GW_OK);
    /* No version fields: the null version, numbered by its generation. */
    CHECK_EQ_INT(store__object_vinfo(buf, len, &vi), GW_OK);
    CHECK_EQ_INT(vi.flags, 0);
    CHECK_EQ_INT(vi.version, 42);
    CHECK_EQ_INT(vi.noncurrent_ms, 0);
    memset(&want, 0, sizeof(want));
    want.flags = STORE_VF_VERSIONED | STORE_VF_MARKER;
    want.version = 40;
    want.noncurrent_ms = 1700000000123LL;
    patched = store__object_vpatch(buf, len, &want, &plen);
    CHECK_EQ_INT(store__object_decode(patched, plen, STORE_DECODE_CHUNKS, &d),
                 GW_OK);
    CHECK_EQ_INT(d->generation, 42);
    CHECK_EQ_INT(d->vflags, STORE_VF_VERSIONED | STORE_VF_MARKER);
    CHECK_EQ_INT(d->version, 40);
    CHECK_EQ_INT(d->noncurrent_ms, 1700000000123LL);
    CHECK(gw_str_eq_lit(d->inline_data, "bytes"));
    /* The generation stays first: it can still be set in place. */
    CHECK_EQ_INT(store__object_set_generation(patched, plen, 43), GW_OK);
    store_object_free(d);
    /* Patched again, without the time: that field goes. */
    want.noncurrent_ms = 0;
    gw_free(buf);
    buf = store__object_vpatch(patched, plen, &want, &len);
    CHECK_EQ_INT(store__object_vinfo(buf, len, &vi), GW_OK);
    CHECK_EQ_INT(vi.generation, 43);
    CHECK_EQ_INT(vi.noncurrent_ms, 0);
    CHECK_EQ_INT(vi.version, 40);
    CHECK(len < plen);
    /* A record cut short is damaged. */
    CHECK_EQ_INT(store__object_vinfo(buf, len - 1, &vi), GW_ECORRUPT);
    gw_free(buf);
    gw_free(patched);
}
