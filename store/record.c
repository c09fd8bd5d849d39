/* store/record.c: the object record codec and the objects-db key.
 *
 * Record layout (version 1, integers little-endian):
 *
 *   u8 version | u8 storage_class | u8 cksum_alg | u8 cksum_type
 *   u32 nparts | u64 size | i64 mtime_ms | md5[16] | cksum[32]
 *   then fields, each: u8 tag | u32 len | len bytes, until tag 0:
 *     1 key  2 owner  3 content-type  4 content-encoding
 *     5 content-disposition  6 content-language  7 cache-control  8 expires
 *     9 one user metadata pair "name\0value"  10 inline bytes
 *     11 chunk list: n * (sha256[32] | u64 offset | u32 length)
 *     12 one object tag "key\0value"
 *     13 part sizes of a multipart object: n * u64
 *     14 the object's ACL (s3/acl.h's stored form; absent: private)
 *
 * Unknown tags are skipped, so later versions can add fields. */
#include "store/internal.h"

#include <openssl/sha.h>

#define REC_VERSION      1
#define REC_FIXED        (4 + 4 + 8 + 8 + 16 + 32)
#define REC_CHUNK_SIZE   44

enum {
    REC_END = 0, REC_KEY, REC_OWNER, REC_CTYPE, REC_CENC, REC_CDISP, REC_CLANG,
    REC_CACHE, REC_EXPIRES, REC_META, REC_INLINE, REC_CHUNKS, REC_TAG,
    REC_PARTS, REC_ACL
};

static void
rec_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
    p[2] = (unsigned char) (v >> 16);
    p[3] = (unsigned char) (v >> 24);
}

static void
rec_u64(unsigned char *p, uint64_t v)
{
    rec_u32(p, (uint32_t) v);
    rec_u32(p + 4, (uint32_t) (v >> 32));
}

static uint32_t
rec_get_u32(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}

static uint64_t
rec_get_u64(const unsigned char *p)
{
    return (uint64_t) rec_get_u32(p) | (uint64_t) rec_get_u32(p + 4) << 32;
}

static unsigned char *
rec_field(unsigned char *p, int tag, const void *data, size_t len)
{
    *p++ = (unsigned char) tag;
    rec_u32(p, (uint32_t) len);
    p += 4;
    if (len) {
        memcpy(p, data, len);
    }
    return p + len;
}

/* A "name\0value" field (metadata, tags). */
static unsigned char *
rec_pair(unsigned char *p, int tag, const gw_kv_t *kv)
{
    *p++ = (unsigned char) tag;
    rec_u32(p, (uint32_t) (kv->name.len + 1 + kv->value.len));
    p += 4;
    memcpy(p, kv->name.base, kv->name.len);
    p += kv->name.len;
    *p++ = '\0';
    memcpy(p, kv->value.base, kv->value.len);
    return p + kv->value.len;
}

void *
store__object_encode(const store_object_t *o, size_t *len)
{
    const gw_str_t  *strs[] = {
        &o->key, &o->owner, &o->content_type, &o->content_encoding,
        &o->content_disposition, &o->content_language, &o->cache_control,
        &o->expires
    };
    unsigned char   *buf, *p;
    size_t           i, j, n = REC_FIXED + 1 + 5 + o->acl.len;

    for (i = 0; i < GW_NELEMS(strs); i++) {
        n += 5 + strs[i]->len;
    }
    for (i = 0; i < o->nmeta; i++) {
        n += 5 + o->meta[i].name.len + 1 + o->meta[i].value.len;
    }
    for (i = 0; i < o->ntags; i++) {
        n += 5 + o->tags[i].name.len + 1 + o->tags[i].value.len;
    }
    n += 5 + o->npart_sizes * 8;
    n += 5 + o->inline_data.len + 5 + o->nchunks * REC_CHUNK_SIZE;

    buf = gw_alloc(n);
    p = buf;
    p[0] = REC_VERSION;
    p[1] = o->storage_class;
    p[2] = o->cksum_alg;
    p[3] = o->cksum_type;
    rec_u32(p + 4, o->nparts);
    rec_u64(p + 8, o->size);
    rec_u64(p + 16, (uint64_t) o->mtime_ms);
    memcpy(p + 24, o->md5, 16);
    memcpy(p + 40, o->cksum, 32);
    p += REC_FIXED;
    for (i = 0; i < GW_NELEMS(strs); i++) {
        if (strs[i]->len) {
            p = rec_field(p, (int) i + REC_KEY, strs[i]->base, strs[i]->len);
        }
    }
    if (o->acl.len) {
        p = rec_field(p, REC_ACL, o->acl.base, o->acl.len);
    }
    for (i = 0; i < o->nmeta; i++) {
        p = rec_pair(p, REC_META, &o->meta[i]);
    }
    for (i = 0; i < o->ntags; i++) {
        p = rec_pair(p, REC_TAG, &o->tags[i]);
    }
    if (o->npart_sizes) {
        *p++ = REC_PARTS;
        rec_u32(p, (uint32_t) (o->npart_sizes * 8));
        p += 4;
        for (j = 0; j < o->npart_sizes; j++, p += 8) {
            rec_u64(p, o->part_sizes[j]);
        }
    }
    if (o->nchunks == 0) {
        p = rec_field(p, REC_INLINE, o->inline_data.base, o->inline_data.len);
    } else {
        *p++ = REC_CHUNKS;
        rec_u32(p, (uint32_t) (o->nchunks * REC_CHUNK_SIZE));
        p += 4;
        for (j = 0; j < o->nchunks; j++) {
            memcpy(p, o->chunks[j].sha, 32);
            rec_u64(p + 32, o->chunks[j].off);
            rec_u32(p + 40, o->chunks[j].len);
            p += REC_CHUNK_SIZE;
        }
    }
    *p++ = REC_END;
    *len = (size_t) (p - buf);
    return buf;
}

static int
rec_chunks(const unsigned char *p, size_t len, store_chunk_ref_t *out)
{
    size_t  i;

    for (i = 0; i < len / REC_CHUNK_SIZE; i++, p += REC_CHUNK_SIZE) {
        memcpy(out[i].sha, p, 32);
        out[i].off = rec_get_u64(p + 32);
        out[i].len = rec_get_u32(p + 40);
    }
    return GW_OK;
}

int
store__object_decode(const void *buf, size_t len, int flags,
                     store_object_t **out)
{
    const unsigned char  *p, *end, *f;
    store_object_t       *o;
    unsigned char        *raw;
    gw_str_t             *strs[8];
    size_t                flen, nmeta = 0, i;
    int                   tag;

    if (len < REC_FIXED + 1 || ((const unsigned char *) buf)[0] != REC_VERSION) {
        return GW_ECORRUPT;
    }
    /* Count metadata pairs first so one allocation holds everything. */
    end = (const unsigned char *) buf + len;
    for (p = (const unsigned char *) buf + REC_FIXED; p < end && *p != REC_END;) {
        if (end - p < 5 || rec_get_u32(p + 1) > (size_t) (end - p - 5)) {
            return GW_ECORRUPT;
        }
        nmeta += *p == REC_META || *p == REC_TAG;
        p += 5 + rec_get_u32(p + 1);
    }
    if (p >= end) {
        return GW_ECORRUPT;
    }
    o = gw_calloc(1, sizeof(*o) + nmeta * sizeof(gw_kv_t));
    raw = gw_alloc(len);
    memcpy(raw, buf, len);
    o->raw = raw;
    o->meta = (gw_kv_t *) (o + 1);
    p = raw;
    end = raw + len;
    o->storage_class = p[1];
    o->cksum_alg = p[2];
    o->cksum_type = p[3];
    o->nparts = rec_get_u32(p + 4);
    o->size = rec_get_u64(p + 8);
    o->mtime_ms = (int64_t) rec_get_u64(p + 16);
    memcpy(o->md5, p + 24, 16);
    memcpy(o->cksum, p + 40, 32);
    strs[0] = &o->key;
    strs[1] = &o->owner;
    strs[2] = &o->content_type;
    strs[3] = &o->content_encoding;
    strs[4] = &o->content_disposition;
    strs[5] = &o->content_language;
    strs[6] = &o->cache_control;
    strs[7] = &o->expires;
    for (p = raw + REC_FIXED; *p != REC_END;) {
        tag = *p;
        flen = rec_get_u32(p + 1);
        f = p + 5;
        p = f + flen;
        if (tag >= REC_KEY && tag <= REC_EXPIRES) {
            strs[tag - REC_KEY]->base = (const char *) f;
            strs[tag - REC_KEY]->len = flen;
        } else if (tag == REC_META || tag == REC_TAG) {
            const unsigned char *z = memchr(f, '\0', flen);
            gw_kv_t             *kv;

            if (z == NULL) {
                continue;
            }
            /* Metadata fills the array from the front, tags from the back. */
            kv = tag == REC_META ? &o->meta[o->nmeta++]
                                 : &o->meta[nmeta - ++o->ntags];
            kv->name.base = (const char *) f;
            kv->name.len = (size_t) (z - f);
            kv->value.base = (const char *) z + 1;
            kv->value.len = flen - kv->name.len - 1;
        } else if (tag == REC_PARTS && (flags & STORE_DECODE_CHUNKS)) {
            o->npart_sizes = flen / 8;
            o->part_sizes = gw_alloc(sizeof(uint64_t) * (o->npart_sizes + 1));
            for (i = 0; i < o->npart_sizes; i++) {
                o->part_sizes[i] = rec_get_u64(f + 8 * i);
            }
        } else if (tag == REC_ACL) {
            o->acl.base = (const char *) f;
            o->acl.len = flen;
        } else if (tag == REC_INLINE) {
            o->inline_data.base = (const char *) f;
            o->inline_data.len = flen;
        } else if (tag == REC_CHUNKS && (flags & STORE_DECODE_CHUNKS)) {
            o->nchunks = flen / REC_CHUNK_SIZE;
            o->chunks = gw_alloc(sizeof(store_chunk_ref_t) * (o->nchunks + 1));
            rec_chunks(f, flen, o->chunks);
        }
    }
    /* Tags were filled backwards from the end of the array. */
    o->tags = o->meta + (nmeta - o->ntags);
    for (i = 0; i < o->ntags / 2; i++) {
        gw_kv_t  t = o->tags[i];

        o->tags[i] = o->tags[o->ntags - 1 - i];
        o->tags[o->ntags - 1 - i] = t;
    }
    *out = o;
    return GW_OK;
}

int
store__object_chunks(const void *buf, size_t len, store_chunk_ref_t **chunks,
                     size_t *n)
{
    const unsigned char  *p, *end = (const unsigned char *) buf + len;

    *chunks = NULL;
    *n = 0;
    if (len < REC_FIXED + 1) {
        return GW_ECORRUPT;
    }
    for (p = (const unsigned char *) buf + REC_FIXED; p < end && *p != REC_END;) {
        if (end - p < 5 || rec_get_u32(p + 1) > (size_t) (end - p - 5)) {
            return GW_ECORRUPT;
        }
        if (*p == REC_CHUNKS) {
            *n = rec_get_u32(p + 1) / REC_CHUNK_SIZE;
            *chunks = gw_alloc(sizeof(store_chunk_ref_t) * (*n + 1));
            return rec_chunks(p + 5, rec_get_u32(p + 1), *chunks);
        }
        p += 5 + rec_get_u32(p + 1);
    }
    return GW_OK;
}

void
store_object_free(store_object_t *o)
{
    if (o == NULL) {
        return;
    }
    gw_free(o->chunks);
    gw_free(o->part_sizes);
    gw_free(o->raw);
    gw_free(o);
}

size_t
store__object_key(const char *bucket, gw_str_t key, unsigned char *out)
{
    size_t         bl = strlen(bucket), n;
    unsigned char  h[SHA256_DIGEST_LENGTH];

    memcpy(out, bucket, bl);
    out[bl] = '\0';
    n = bl + 1;
    if (key.len <= STORE_KEY_DIRECT) {
        memcpy(out + n, key.base, key.len);
        return n + key.len;
    }
    memcpy(out + n, key.base, STORE_KEY_DIRECT);
    n += STORE_KEY_DIRECT;
    out[n++] = 0xFF;
    SHA256((const unsigned char *) key.base, key.len, h);
    memcpy(out + n, h, 16);
    return n + 16;
}
