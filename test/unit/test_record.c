/* test/unit/test_record.c: store/record.c, the codecs of the index's values:
 * each one round trips, skips fields it does not know, and refuses a value
 * cut short anywhere (and a few other damaged forms). */
#include "store/internal.h"
#include "test/unit/unit.h"

/* Decodes buf with one codec: GW_OK or an error. */
typedef int (*rec_decode_pt)(const void *buf, size_t len);

/* Every strict prefix of a valid value must be refused. */
static void
check_truncations(rec_decode_pt dec, const unsigned char *buf, size_t len)
{
    unsigned char  *copy;
    size_t          n;

    CHECK_EQ_INT(dec(buf, len), GW_OK);
    for (n = 0; n < len; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past it. */
        copy = gw_alloc(n);
        memcpy(copy, buf, n);
        if (dec(copy, n) != GW_ECORRUPT) {
            fprintf(stderr, "# a prefix of %zu of %zu bytes was accepted\n",
                    n, len);
            CHECK(0);
        }
        gw_free(copy);
    }
}

/* The value with an unknown field (tag 200) spliced in at off. */
static unsigned char *
with_unknown_field(const unsigned char *buf, size_t len, size_t off,
                   size_t *out_len)
{
    static const unsigned char  extra[] = { 200, 3, 0, 0, 0, 'x', 'y', 'z' };
    unsigned char              *p = gw_alloc(len + sizeof(extra));

    memcpy(p, buf, off);
    memcpy(p + off, extra, sizeof(extra));
    memcpy(p + off + sizeof(extra), buf + off, len - off);
    *out_len = len + sizeof(extra);
    return p;
}

TEST(record_fields)
{
    store_recw_t   w;
    store_rec_t    r;
    store_field_t  f;
    char           big[300];

    memset(big, 'b', sizeof(big));
    store__recw_init(&w, 7);
    store__recw_field(&w, 1, "abc", 3);
    store__recw_field(&w, 255, big, sizeof(big));   /* moves to the heap */
    store__recw_field(&w, 2, NULL, 0);
    store__recw_end(&w);
    CHECK_EQ_INT(w.len, 1 + 8 + 305 + 5 + 1);

    CHECK_EQ_INT(store__rec_open(&r, w.buf, w.len, 6), GW_ECORRUPT);
    CHECK_EQ_INT(store__rec_open(&r, w.buf, w.len, 7), GW_OK);
    CHECK_EQ_INT(store__rec_next(&r, &f), GW_OK);
    CHECK_EQ_INT(f.tag, 1);
    CHECK_EQ_INT(f.len, 3);
    CHECK(memcmp(f.data, "abc", 3) == 0);
    CHECK_EQ_INT(store__rec_next(&r, &f), GW_OK);
    CHECK_EQ_INT(f.tag, 255);
    CHECK_EQ_INT(f.len, sizeof(big));
    CHECK(memcmp(f.data, big, sizeof(big)) == 0);
    CHECK_EQ_INT(store__rec_next(&r, &f), GW_OK);
    CHECK_EQ_INT(f.tag, 2);
    CHECK_EQ_INT(f.len, 0);
    CHECK_EQ_INT(store__rec_next(&r, &f), GW_DONE);

    /* A length that runs past the end. */
    w.buf[2] = 4;
    CHECK_EQ_INT(store__rec_open(&r, w.buf, w.len, 7), GW_OK);
    CHECK_EQ_INT(store__rec_next(&r, &f), GW_OK);   /* "abc\xff" as 4 bytes */
    w.buf[2] = 0xff;
    w.buf[3] = 0xff;
    CHECK_EQ_INT(store__rec_open(&r, w.buf, w.len, 7), GW_OK);
    CHECK_EQ_INT(store__rec_next(&r, &f), GW_ECORRUPT);
    store__recw_free(&w);
}

/* ==== meta ==== */

static int
dec_meta(const void *buf, size_t len)
{
    uint32_t  v;

    return store__meta_format_decode(buf, len, &v);
}

TEST(record_meta)
{
    store_recw_t   w;
    unsigned char *x;
    uint32_t       v = 0;
    size_t         n;

    store__meta_format_encode(123456, &w);
    CHECK_EQ_INT(store__meta_format_decode(w.buf, w.len, &v), GW_OK);
    CHECK_EQ_INT(v, 123456);
    check_truncations(dec_meta, w.buf, w.len);
    x = with_unknown_field(w.buf, w.len, 1, &n);
    v = 0;
    CHECK_EQ_INT(store__meta_format_decode(x, n, &v), GW_OK);
    CHECK_EQ_INT(v, 123456);
    gw_free(x);
    /* The format field missing, or not 4 bytes. */
    store__recw_free(&w);
    store__recw_init(&w, STORE_REC_V1);
    store__recw_end(&w);
    CHECK_EQ_INT(store__meta_format_decode(w.buf, w.len, &v), GW_ECORRUPT);
    store__recw_free(&w);
    store__recw_init(&w, STORE_REC_V1);
    store__recw_u64(&w, 1, 2);
    store__recw_end(&w);
    CHECK_EQ_INT(store__meta_format_decode(w.buf, w.len, &v), GW_ECORRUPT);
    store__recw_free(&w);
}

/* ==== buckets ==== */

static int
dec_bucket(const void *buf, size_t len)
{
    store_bucket_t  b;

    return store__bucket_decode("bkt", 3, buf, len, &b);
}

TEST(record_bucket)
{
    store_bucket_t  b, d;
    store_recw_t    w;
    unsigned char  *x;
    size_t          n;

    /* The longest user name and region the config accepts, whole. */
    memset(&b, 0, sizeof(b));
    strcpy(b.name, "bkt");
    memset(b.owner, 'o', GW_CONF_USER_NAME_MAX);
    memset(b.region, 'r', GW_CONF_REGION_MAX);
    b.ctime_ms = -1234567890123;
    store__bucket_encode(&b, &w);
    CHECK_EQ_INT(store__bucket_decode("bkt", 3, w.buf, w.len, &d), GW_OK);
    CHECK_EQ_STR(d.name, "bkt");
    CHECK_EQ_INT(strlen(d.owner), GW_CONF_USER_NAME_MAX);
    CHECK_EQ_STR(d.owner, b.owner);
    CHECK_EQ_INT(strlen(d.region), GW_CONF_REGION_MAX);
    CHECK_EQ_STR(d.region, b.region);
    CHECK_EQ_INT(d.ctime_ms, b.ctime_ms);
    check_truncations(dec_bucket, w.buf, w.len);
    /* Unknown fields first, between, and last. */
    x = with_unknown_field(w.buf, w.len, 1, &n);
    CHECK_EQ_INT(store__bucket_decode("bkt", 3, x, n, &d), GW_OK);
    CHECK_EQ_STR(d.owner, b.owner);
    gw_free(x);
    x = with_unknown_field(w.buf, w.len, w.len - 1, &n);
    CHECK_EQ_INT(store__bucket_decode("bkt", 3, x, n, &d), GW_OK);
    CHECK_EQ_STR(d.region, b.region);
    CHECK_EQ_INT(d.ctime_ms, b.ctime_ms);
    gw_free(x);
    store__recw_free(&w);

    /* An owner longer than any this build accepts, a missing field, and a
     * bucket name out of bounds. */
    store__recw_init(&w, STORE_REC_V1);
    store__recw_field(&w, 1, b.owner, GW_CONF_USER_NAME_MAX);
    store__recw_field(&w, 1, "o", 1);
    store__recw_field(&w, 2, "r", 1);
    store__recw_u64(&w, 3, 1);
    store__recw_end(&w);
    CHECK_EQ_INT(store__bucket_decode("bkt", 3, w.buf, w.len, &d), GW_OK);
    CHECK_EQ_STR(d.owner, "o");                 /* the last one counts */
    CHECK_EQ_INT(store__bucket_decode("", 0, w.buf, w.len, &d), GW_ECORRUPT);
    store__recw_free(&w);
    {
        char  longer[GW_CONF_USER_NAME_MAX + 1];

        memset(longer, 'o', sizeof(longer));
        store__recw_init(&w, STORE_REC_V1);
        store__recw_field(&w, 1, longer, sizeof(longer));
        store__recw_field(&w, 2, "r", 1);
        store__recw_u64(&w, 3, 1);
        store__recw_end(&w);
        CHECK_EQ_INT(store__bucket_decode("bkt", 3, w.buf, w.len, &d),
                     GW_ECORRUPT);
        store__recw_free(&w);
    }
    store__recw_init(&w, STORE_REC_V1);
    store__recw_field(&w, 1, "o", 1);
    store__recw_u64(&w, 3, 1);
    store__recw_end(&w);
    CHECK_EQ_INT(store__bucket_decode("bkt", 3, w.buf, w.len, &d),
                 GW_ECORRUPT);
    store__recw_free(&w);
}

/* ==== bucket documents, refs, gcq, uploads ==== */

static int
dec_bconf(const void *buf, size_t len)
{
    gw_str_t  doc;

    return store__bconf_decode(buf, len, &doc);
}

static int
dec_ref(const void *buf, size_t len)
{
    uint64_t  c;
    uint32_t  l;

    return store__ref_decode(buf, len, &c, &l);
}

static int
dec_gcq(const void *buf, size_t len)
{
    uint64_t  s, t;

    return store__gcq_decode(buf, len, &s, &t);
}

static int
dec_upload(const void *buf, size_t len)
{
    gw_str_t  b, t;

    return store__upload_decode(buf, len, &b, &t);
}

TEST(record_small)
{
    store_recw_t    w;
    unsigned char  *x;
    gw_str_t        doc, b, t;
    uint64_t        count = 0, seq = 0, txnid = 0;
    uint32_t        clen = 0;
    size_t          n;

    /* bconf: any bytes, an empty document included. */
    store__bconf_encode(gw_str_lit("{\"Version\":\"2012-10-17\"}\0x"), &w);
    CHECK_EQ_INT(store__bconf_decode(w.buf, w.len, &doc), GW_OK);
    CHECK(doc.len == 26 && memcmp(doc.base, "{\"Version\":\"2012-10-17\"}\0x",
                                  26) == 0);
    check_truncations(dec_bconf, w.buf, w.len);
    x = with_unknown_field(w.buf, w.len, 1, &n);
    CHECK_EQ_INT(store__bconf_decode(x, n, &doc), GW_OK);
    CHECK_EQ_INT(doc.len, 26);
    gw_free(x);
    store__recw_free(&w);
    store__bconf_encode((gw_str_t) { "", 0 }, &w);
    CHECK_EQ_INT(store__bconf_decode(w.buf, w.len, &doc), GW_OK);
    CHECK_EQ_INT(doc.len, 0);
    store__recw_free(&w);

    /* ref */
    store__ref_encode(UINT64_C(0x0102030405060708), 4194304, &w);
    CHECK_EQ_INT(store__ref_decode(w.buf, w.len, &count, &clen), GW_OK);
    CHECK(count == UINT64_C(0x0102030405060708));
    CHECK_EQ_INT(clen, 4194304);
    check_truncations(dec_ref, w.buf, w.len);
    x = with_unknown_field(w.buf, w.len, 14, &n);     /* between the two */
    count = clen = 0;
    CHECK_EQ_INT(store__ref_decode(x, n, &count, &clen), GW_OK);
    CHECK(count == UINT64_C(0x0102030405060708));
    CHECK_EQ_INT(clen, 4194304);
    gw_free(x);
    store__recw_free(&w);
    store__recw_init(&w, STORE_REC_V1);                /* u32 as 8 bytes */
    store__recw_u64(&w, 1, 1);
    store__recw_u64(&w, 2, 1);
    store__recw_end(&w);
    CHECK_EQ_INT(store__ref_decode(w.buf, w.len, &count, &clen), GW_ECORRUPT);
    store__recw_free(&w);

    /* gcq */
    store__gcq_encode(77, 901, &w);
    CHECK_EQ_INT(store__gcq_decode(w.buf, w.len, &seq, &txnid), GW_OK);
    CHECK_EQ_INT(seq, 77);
    CHECK_EQ_INT(txnid, 901);
    check_truncations(dec_gcq, w.buf, w.len);
    x = with_unknown_field(w.buf, w.len, 1, &n);
    seq = 0;
    CHECK_EQ_INT(store__gcq_decode(x, n, &seq, &txnid), GW_OK);
    CHECK_EQ_INT(seq, 77);
    gw_free(x);
    w.buf[0] = 2;                                      /* a newer format */
    CHECK_EQ_INT(store__gcq_decode(w.buf, w.len, &seq, &txnid), GW_ECORRUPT);
    store__recw_free(&w);
    /* An entry from before the txn id was kept: 0, collected at once. */
    store__recw_init(&w, STORE_REC_V1);
    store__recw_u64(&w, 1, 5);
    store__recw_end(&w);
    CHECK_EQ_INT(store__gcq_decode(w.buf, w.len, &seq, &txnid), GW_OK);
    CHECK_EQ_INT(txnid, 0);
    store__recw_free(&w);

    /* upload: the bucket and the template record, as given. */
    store__upload_encode(gw_str_lit("bkt"), "TEMPLATE", 8, &w);
    CHECK_EQ_INT(store__upload_decode(w.buf, w.len, &b, &t), GW_OK);
    CHECK(gw_str_eq_lit(b, "bkt"));
    CHECK(gw_str_eq_lit(t, "TEMPLATE"));
    check_truncations(dec_upload, w.buf, w.len);
    x = with_unknown_field(w.buf, w.len, w.len - 1, &n);
    CHECK_EQ_INT(store__upload_decode(x, n, &b, &t), GW_OK);
    CHECK(gw_str_eq_lit(b, "bkt"));
    CHECK(gw_str_eq_lit(t, "TEMPLATE"));
    gw_free(x);
    store__recw_free(&w);
    store__upload_encode((gw_str_t) { "", 0 }, "T", 1, &w);
    CHECK_EQ_INT(store__upload_decode(w.buf, w.len, &b, &t), GW_ECORRUPT);
    store__recw_free(&w);
}

/* ==== object records ==== */

static int
dec_object(const void *buf, size_t len)
{
    store_object_t     *o = NULL;
    store_chunk_ref_t  *c = NULL;
    size_t              n;
    int                 rc, rc2;

    rc = store__object_decode(buf, len, STORE_DECODE_CHUNKS, &o);
    store_object_free(o);
    rc2 = store__object_chunks(buf, len, &c, &n);
    gw_free(c);
    CHECK_EQ_INT(rc, rc2);
    return rc;
}

static void
check_object(const store_object_t *a, const store_object_t *b)
{
    size_t  i;

    CHECK(a->key.len == b->key.len
          && memcmp(a->key.base, b->key.base, a->key.len) == 0);
    CHECK(a->owner.len == b->owner.len
          && memcmp(a->owner.base, b->owner.base, a->owner.len) == 0);
    CHECK(a->content_type.len == b->content_type.len);
    CHECK(a->expires.len == b->expires.len);
    CHECK_EQ_INT(a->size, b->size);
    CHECK_EQ_INT(a->mtime_ms, b->mtime_ms);
    CHECK(memcmp(a->md5, b->md5, 16) == 0);
    CHECK_EQ_INT(a->nparts, b->nparts);
    CHECK(a->generation == b->generation);
    CHECK_EQ_INT(a->storage_class, b->storage_class);
    CHECK_EQ_INT(a->cksum_alg, b->cksum_alg);
    CHECK(memcmp(a->cksum, b->cksum, 32) == 0);
    CHECK_EQ_INT(a->nmeta, b->nmeta);
    for (i = 0; i < a->nmeta; i++) {
        CHECK(a->meta[i].name.len == b->meta[i].name.len
              && memcmp(a->meta[i].value.base, b->meta[i].value.base,
                        a->meta[i].value.len) == 0);
    }
    CHECK_EQ_INT(a->ntags, b->ntags);
    for (i = 0; i < a->ntags; i++) {
        CHECK(a->tags[i].name.len == b->tags[i].name.len
              && memcmp(a->tags[i].name.base, b->tags[i].name.base,
                        a->tags[i].name.len) == 0);
    }
    CHECK(a->acl.len == b->acl.len
          && memcmp(a->acl.base, b->acl.base, a->acl.len) == 0);
    CHECK(a->website_redirect.len == b->website_redirect.len
          && memcmp(a->website_redirect.base, b->website_redirect.base,
                    a->website_redirect.len) == 0);
    CHECK(a->part_cksums.len == b->part_cksums.len
          && memcmp(a->part_cksums.base, b->part_cksums.base,
                    a->part_cksums.len) == 0);
    CHECK(a->upload_id.len == b->upload_id.len
          && memcmp(a->upload_id.base, b->upload_id.base,
                    a->upload_id.len) == 0);
    CHECK_EQ_INT(a->npart_sizes, b->npart_sizes);
    for (i = 0; i < a->npart_sizes; i++) {
        CHECK_EQ_INT(a->part_sizes[i], b->part_sizes[i]);
    }
    CHECK_EQ_INT(a->nchunks, b->nchunks);
    for (i = 0; i < a->nchunks; i++) {
        CHECK(memcmp(a->chunks[i].sha, b->chunks[i].sha, 32) == 0);
        CHECK_EQ_INT(a->chunks[i].off, b->chunks[i].off);
        CHECK_EQ_INT(a->chunks[i].len, b->chunks[i].len);
    }
}

TEST(record_object)
{
    store_object_t      o, *d;
    store_chunk_ref_t   chunks[3], *c;
    uint64_t            psizes[2] = { 5 << 20, 1 };
    gw_kv_t             meta[2], tags[1];
    unsigned char      *buf, *x;
    size_t              len, n, i;

    memset(&o, 0, sizeof(o));
    o.key = gw_str_lit("dir/key");
    o.owner = gw_str_lit("admin");
    o.content_type = gw_str_lit("text/plain");
    o.expires = gw_str_lit("Thu, 01 Dec 2094 16:00:00 GMT");
    o.size = (5 << 20) + 1;
    o.mtime_ms = 1700000000123;
    memset(o.md5, 0xab, 16);
    o.nparts = 2;
    o.storage_class = STORE_CLASS_REDUCED_REDUNDANCY;
    o.cksum_alg = 3;
    o.cksum_type = 1;
    memset(o.cksum, 0xcd, 32);
    meta[0].name = gw_str_lit("a");
    meta[0].value = gw_str_lit("1");
    meta[1].name = gw_str_lit("b");
    meta[1].value = gw_str_lit("");
    o.meta = meta;
    o.nmeta = 2;
    tags[0].name = gw_str_lit("t");
    tags[0].value = gw_str_lit("v");
    o.tags = tags;
    o.ntags = 1;
    o.acl = gw_str_lit("ACL");
    o.website_redirect = gw_str_lit("/elsewhere.html");
    o.upload_id = gw_str_lit("0123456789abcdef0123456789abcdef");
    o.part_cksums = gw_str_lit("\1\2\3\4\5\6\7\10");
    o.part_sizes = psizes;
    o.npart_sizes = 2;
    for (i = 0; i < 3; i++) {
        memset(chunks[i].sha, (int) i + 1, 32);
        chunks[i].off = i * 4194304;
        chunks[i].len = i < 2 ? 4194304 : 1;
    }
    o.chunks = chunks;
    o.nchunks = 2;
    o.generation = UINT64_C(0x1122334455667788);

    buf = store__object_encode(&o, &len);
    CHECK_EQ_INT(store__object_decode(buf, len, STORE_DECODE_CHUNKS, &d),
                 GW_OK);
    check_object(&o, d);
    store_object_free(d);
    check_truncations(dec_object, buf, len);

    /* An unknown field right after the fixed head and one at the end. */
    x = with_unknown_field(buf, len, 72, &n);
    CHECK_EQ_INT(store__object_decode(x, n, STORE_DECODE_CHUNKS, &d), GW_OK);
    check_object(&o, d);
    store_object_free(d);
    CHECK_EQ_INT(store__object_chunks(x, n, &c, &i), GW_OK);
    CHECK_EQ_INT(i, 2);
    gw_free(c);
    gw_free(x);
    x = with_unknown_field(buf, len, len - 1, &n);
    CHECK_EQ_INT(store__object_decode(x, n, STORE_DECODE_CHUNKS, &d), GW_OK);
    check_object(&o, d);
    store_object_free(d);
    gw_free(x);
    /* A commit sets the generation in place. */
    CHECK_EQ_INT(store__object_set_generation(buf, len, 42), GW_OK);
    CHECK_EQ_INT(store__object_decode(buf, len, 0, &d), GW_OK);
    CHECK_EQ_INT(d->generation, 42);
    store_object_free(d);
    CHECK_EQ_INT(store__object_set_generation(buf, 80, 42), GW_ECORRUPT);
    /* A record without the field (format 1) has generation 0. */
    memmove(buf + 72, buf + 72 + 13, len - 72 - 13);
    CHECK_EQ_INT(store__object_decode(buf, len - 13, 0, &d), GW_OK);
    CHECK_EQ_INT(d->generation, 0);
    CHECK(gw_str_eq_lit(d->key, "dir/key"));
    store_object_free(d);
    CHECK_EQ_INT(store__object_set_generation(buf, len - 13, 1), GW_ECORRUPT);
    /* A newer record format. */
    buf[0] = 2;
    CHECK_EQ_INT(store__object_decode(buf, len - 13, 0, &d), GW_ECORRUPT);
    gw_free(buf);
}

static int
dec_counter(const void *buf, size_t len)
{
    uint64_t  v;

    return store__meta_counter_decode(buf, len, &v);
}

/* The field of tag in an encoded object record (fields start after the
 * 72-byte head: a tag byte, a u32 LE length, the bytes): its length, or -1
 * when absent. */
static long
object_field(const unsigned char *buf, size_t len, unsigned tag,
             const unsigned char **data)
{
    size_t    off = 72;
    uint32_t  n;

    while (off + 5 <= len) {
        n = (uint32_t) buf[off + 1] | (uint32_t) buf[off + 2] << 8
            | (uint32_t) buf[off + 3] << 16 | (uint32_t) buf[off + 4] << 24;
        if (buf[off] == tag) {
            *data = buf + off + 5;
            return (long) n;
        }
        off += 5 + n;
    }
    return -1;
}

/* The tag numbers are the format (store.h): 18 the completed upload's id,
 * 19 the part checksums, 20 to 22 the version fields; and a version
 * patch (a record becoming noncurrent) keeps 18 and 19. */
TEST(record_object_tags)
{
    store_object_t        o, *d;
    store_vinfo_t         vi;
    const unsigned char  *f;
    unsigned char        *buf, *p;
    size_t                len, plen;

    memset(&o, 0, sizeof(o));
    o.key = gw_str_lit("k");
    o.upload_id = gw_str_lit("0123456789abcdef0123456789abcdef");
    o.part_cksums = gw_str_lit("\1\2\3\4");
    o.vflags = STORE_VF_MARKER;
    buf = store__object_encode(&o, &len);
    CHECK_EQ_INT(object_field(buf, len, 18, &f), 32);
    CHECK(memcmp(f, o.upload_id.base, 32) == 0);
    CHECK_EQ_INT(object_field(buf, len, 19, &f), 4);
    CHECK(memcmp(f, "\1\2\3\4", 4) == 0);
    CHECK_EQ_INT(object_field(buf, len, 20, &f), 1);
    CHECK_EQ_INT(f[0], STORE_VF_MARKER);

    memset(&vi, 0, sizeof(vi));
    vi.flags = STORE_VF_VERSIONED;
    vi.version = 7;
    vi.noncurrent_ms = 1700000000123;
    p = store__object_vpatch(buf, len, &vi, &plen);
    CHECK_EQ_INT(object_field(p, plen, 20, &f), 1);
    CHECK_EQ_INT(f[0], STORE_VF_VERSIONED);
    CHECK_EQ_INT(object_field(p, plen, 21, &f), 8);
    CHECK_EQ_INT(f[0], 1700000000123 & 0xff);
    CHECK_EQ_INT(object_field(p, plen, 22, &f), 8);
    CHECK_EQ_INT(f[0], 7);
    CHECK_EQ_INT(store__object_decode(p, plen, 0, &d), GW_OK);
    CHECK(d->upload_id.len == 32
          && memcmp(d->upload_id.base, o.upload_id.base, 32) == 0);
    CHECK(d->part_cksums.len == 4
          && memcmp(d->part_cksums.base, "\1\2\3\4", 4) == 0);
    CHECK_EQ_INT(d->vflags, STORE_VF_VERSIONED);
    CHECK_EQ_INT(d->version, 7);
    CHECK_EQ_INT(d->noncurrent_ms, 1700000000123);
    store_object_free(d);
    gw_free(p);
    gw_free(buf);
}

TEST(record_counter)
{
    store_recw_t    w;
    unsigned char  *x;
    uint64_t        v = 0;
    size_t          n;

    store__meta_counter_encode(UINT64_MAX - 1, &w);
    CHECK_EQ_INT(store__meta_counter_decode(w.buf, w.len, &v), GW_OK);
    CHECK(v == UINT64_MAX - 1);
    check_truncations(dec_counter, w.buf, w.len);
    x = with_unknown_field(w.buf, w.len, w.len - 1, &n);
    v = 0;
    CHECK_EQ_INT(store__meta_counter_decode(x, n, &v), GW_OK);
    CHECK(v == UINT64_MAX - 1);
    gw_free(x);
    store__recw_free(&w);
}
