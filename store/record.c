/* store/record.c: the codecs of every value the index holds (the record
 * formats are documented at the top of store.h), the field reader and writer
 * they share, and the objects-db key.
 *
 * Decoders check every length against the bytes they were given before they
 * read, so a truncated or damaged value is GW_ECORRUPT and never a read past
 * its end. They skip fields whose tag they do not know. */
#include "store/internal.h"

#include <openssl/sha.h>

#define REC_FIXED        (4 + 4 + 8 + 8 + 16 + 32)
#define REC_CHUNK_SIZE   44
#define REC_FIELD_HEAD   5

/* The object record's tags. */
enum {
    REC_KEY = 1, REC_OWNER, REC_CTYPE, REC_CENC, REC_CDISP, REC_CLANG,
    REC_CACHE, REC_EXPIRES, REC_META, REC_INLINE, REC_CHUNKS, REC_TAG,
    REC_PARTS, REC_ACL, REC_GEN, REC_REPL, REC_WEBSITE_REDIRECT,
    REC_UPLOAD_ID, REC_PART_CKSUMS, REC_VFLAGS, REC_NONCURRENT, REC_VERSION
};

/* The generation is the first field, so its value sits at a fixed offset. */
#define REC_GEN_OFF      (REC_FIXED + REC_FIELD_HEAD)

/* The other records' tags. */
#define REC_META_FORMAT     1
#define REC_COUNTER_VALUE   1
#define REC_BUCKET_OWNER    1
#define REC_BUCKET_REGION   2
#define REC_BUCKET_CTIME    3
#define REC_BUCKET_VERSIONING 4
#define REC_BCONF_DOC       1
#define REC_REF_COUNT       1
#define REC_REF_LEN         2
#define REC_GCQ_SEQ         1
#define REC_GCQ_TXNID       2
#define REC_UPLOAD_BUCKET   1
#define REC_UPLOAD_TMPL     2
#define REC_LC_PASS         1
#define REC_LC_LAST         2
#define REC_LC_PHASE        3
#define REC_LC_BUCKET       4
#define REC_LC_KEY          5
#define REC_LC_UPLOAD       6

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

/* ==== fields: the writer ==== */

void
store__recw_init(store_recw_t *w, unsigned format)
{
    w->buf = w->small;
    w->cap = sizeof(w->small);
    w->len = 0;
    w->buf[w->len++] = (unsigned char) format;
}

static void
store_recw_reserve(store_recw_t *w, size_t n)
{
    if (w->len + n <= w->cap) {
        return;
    }
    while (w->cap < w->len + n) {
        w->cap *= 2;
    }
    if (w->buf == w->small) {
        w->buf = gw_alloc(w->cap);
        memcpy(w->buf, w->small, w->len);
    } else {
        w->buf = gw_realloc(w->buf, w->cap);
    }
}

void
store__recw_field(store_recw_t *w, unsigned tag, const void *data, size_t len)
{
    store_recw_reserve(w, REC_FIELD_HEAD + len);
    w->buf[w->len] = (unsigned char) tag;
    rec_u32(w->buf + w->len + 1, (uint32_t) len);
    if (len) {
        memcpy(w->buf + w->len + REC_FIELD_HEAD, data, len);
    }
    w->len += REC_FIELD_HEAD + len;
}

void
store__recw_u32(store_recw_t *w, unsigned tag, uint32_t v)
{
    unsigned char  b[4];

    rec_u32(b, v);
    store__recw_field(w, tag, b, sizeof(b));
}

void
store__recw_u64(store_recw_t *w, unsigned tag, uint64_t v)
{
    unsigned char  b[8];

    rec_u64(b, v);
    store__recw_field(w, tag, b, sizeof(b));
}

void
store__recw_end(store_recw_t *w)
{
    store_recw_reserve(w, 1);
    w->buf[w->len++] = STORE_REC_END;
}

void *
store__recw_detach(store_recw_t *w, size_t *len)
{
    void  *p;

    if (w->buf == w->small) {
        p = gw_alloc(w->len);
        memcpy(p, w->small, w->len);
    } else {
        p = w->buf;
    }
    *len = w->len;
    w->buf = w->small;
    w->len = 0;
    return p;
}

void
store__recw_free(store_recw_t *w)
{
    if (w->buf != w->small) {
        gw_free(w->buf);
    }
    w->buf = w->small;
    w->len = 0;
}

/* ==== fields: the reader ==== */

int
store__rec_open(store_rec_t *r, const void *buf, size_t len, unsigned format)
{
    const unsigned char  *p = buf;

    r->p = r->end = p;
    if (len < 2 || p[0] != format) {
        return GW_ECORRUPT;
    }
    r->p = p + 1;
    r->end = p + len;
    return GW_OK;
}

int
store__rec_next(store_rec_t *r, store_field_t *f)
{
    size_t  left = (size_t) (r->end - r->p), flen;

    if (left == 0) {
        return GW_ECORRUPT;             /* no end byte */
    }
    if (r->p[0] == STORE_REC_END) {
        return GW_DONE;
    }
    if (left < REC_FIELD_HEAD) {
        return GW_ECORRUPT;
    }
    flen = rec_get_u32(r->p + 1);
    if (flen > left - REC_FIELD_HEAD) {
        return GW_ECORRUPT;
    }
    f->tag = r->p[0];
    f->data = r->p + REC_FIELD_HEAD;
    f->len = flen;
    r->p += REC_FIELD_HEAD + flen;
    return GW_OK;
}

static int
rec_field_u32(const store_field_t *f, uint32_t *v)
{
    if (f->len != 4) {
        return GW_ECORRUPT;
    }
    *v = rec_get_u32(f->data);
    return GW_OK;
}

static int
rec_field_u64(const store_field_t *f, uint64_t *v)
{
    if (f->len != 8) {
        return GW_ECORRUPT;
    }
    *v = rec_get_u64(f->data);
    return GW_OK;
}

/* Copies a string field into a fixed buffer of cap bytes, NUL-terminated;
 * one that does not fit is corrupt (no build of this format writes it). */
static int
rec_field_cstr(const store_field_t *f, char *out, size_t cap)
{
    if (f->len >= cap || memchr(f->data, '\0', f->len) != NULL) {
        return GW_ECORRUPT;
    }
    memcpy(out, f->data, f->len);
    out[f->len] = '\0';
    return GW_OK;
}

/* ==== meta ==== */

void
store__meta_format_encode(uint32_t format, store_recw_t *w)
{
    store__recw_init(w, STORE_REC_V1);
    store__recw_u32(w, REC_META_FORMAT, format);
    store__recw_end(w);
}

int
store__meta_format_decode(const void *buf, size_t len, uint32_t *format)
{
    store_rec_t    r;
    store_field_t  f;
    int            rc, seen = 0;

    rc = store__rec_open(&r, buf, len, STORE_REC_V1);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        if (f.tag == REC_META_FORMAT) {
            rc = rec_field_u32(&f, format);
            seen = 1;
        }
    }
    return rc == GW_DONE && seen ? GW_OK : GW_ECORRUPT;
}

void
store__meta_counter_encode(uint64_t value, store_recw_t *w)
{
    store__recw_init(w, STORE_REC_V1);
    store__recw_u64(w, REC_COUNTER_VALUE, value);
    store__recw_end(w);
}

int
store__meta_counter_decode(const void *buf, size_t len, uint64_t *value)
{
    store_rec_t    r;
    store_field_t  f;
    int            rc, seen = 0;

    rc = store__rec_open(&r, buf, len, STORE_REC_V1);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        if (f.tag == REC_COUNTER_VALUE) {
            rc = rec_field_u64(&f, value);
            seen = 1;
        }
    }
    return rc == GW_DONE && seen ? GW_OK : GW_ECORRUPT;
}

/* ==== the lifecycle worker's cursor ==== */

void
store__lc_cursor_encode(const store_lc_cursor_t *c, store_recw_t *w)
{
    unsigned char  phase = (unsigned char) c->phase;

    store__recw_init(w, STORE_REC_V1);
    store__recw_u64(w, REC_LC_PASS, (uint64_t) c->pass_ms);
    store__recw_u64(w, REC_LC_LAST, (uint64_t) c->last_ms);
    store__recw_field(w, REC_LC_PHASE, &phase, 1);
    store__recw_field(w, REC_LC_BUCKET, c->bucket, strlen(c->bucket));
    store__recw_field(w, REC_LC_KEY, c->key, c->key_len);
    store__recw_field(w, REC_LC_UPLOAD, c->upload, strlen(c->upload));
    store__recw_end(w);
}

int
store__lc_cursor_decode(const void *buf, size_t len, store_lc_cursor_t *c)
{
    store_rec_t    r;
    store_field_t  f;
    uint64_t       v = 0;
    unsigned       seen = 0;
    int            rc;

    memset(c, 0, sizeof(*c));
    rc = store__rec_open(&r, buf, len, STORE_REC_V1);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        switch (f.tag) {
        case REC_LC_PASS:
        case REC_LC_LAST:
            rc = rec_field_u64(&f, &v);
            *(f.tag == REC_LC_PASS ? &c->pass_ms : &c->last_ms) = (int64_t) v;
            break;
        case REC_LC_PHASE:
            rc = f.len == 1 && f.data[0] <= STORE_LC_UPLOADS ? GW_OK
                                                             : GW_ECORRUPT;
            c->phase = f.data[0];
            break;
        case REC_LC_BUCKET:
            rc = f.len <= STORE_BUCKET_MAX ? GW_OK : GW_ECORRUPT;
            memcpy(c->bucket, f.data, GW_MIN(f.len, STORE_BUCKET_MAX));
            break;
        case REC_LC_KEY:
            rc = f.len <= STORE_KEY_MAX ? GW_OK : GW_ECORRUPT;
            c->key_len = GW_MIN(f.len, STORE_KEY_MAX);
            memcpy(c->key, f.data, c->key_len);
            break;
        case REC_LC_UPLOAD:
            rc = f.len <= STORE_UPLOAD_ID_LEN ? GW_OK : GW_ECORRUPT;
            memcpy(c->upload, f.data, GW_MIN(f.len, STORE_UPLOAD_ID_LEN));
            break;
        default:
            continue;
        }
        seen |= 1u << f.tag;
    }
    return rc == GW_DONE && (seen & 0xe) == 0xe ? GW_OK : GW_ECORRUPT;
}

/* ==== buckets ==== */

void
store__bucket_encode(const store_bucket_t *b, store_recw_t *w)
{
    store__recw_init(w, STORE_REC_V1);
    store__recw_field(w, REC_BUCKET_OWNER, b->owner, strlen(b->owner));
    store__recw_field(w, REC_BUCKET_REGION, b->region, strlen(b->region));
    store__recw_u64(w, REC_BUCKET_CTIME, (uint64_t) b->ctime_ms);
    if (b->versioning != STORE_VERSIONING_NONE) {
        store__recw_field(w, REC_BUCKET_VERSIONING, &b->versioning, 1);
    }
    store__recw_end(w);
}

int
store__bucket_decode(const void *name, size_t name_len, const void *buf,
                     size_t len, store_bucket_t *out)
{
    store_rec_t    r;
    store_field_t  f;
    uint64_t       ctime = 0;
    unsigned       seen = 0;
    int            rc;

    memset(out, 0, sizeof(*out));
    if (name_len == 0 || name_len > STORE_BUCKET_MAX) {
        return GW_ECORRUPT;
    }
    memcpy(out->name, name, name_len);
    rc = store__rec_open(&r, buf, len, STORE_REC_V1);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        switch (f.tag) {
        case REC_BUCKET_OWNER:
            rc = rec_field_cstr(&f, out->owner, sizeof(out->owner));
            break;
        case REC_BUCKET_REGION:
            rc = rec_field_cstr(&f, out->region, sizeof(out->region));
            break;
        case REC_BUCKET_CTIME:
            rc = rec_field_u64(&f, &ctime);
            break;
        case REC_BUCKET_VERSIONING:
            if (f.len != 1) {
                rc = GW_ECORRUPT;
            } else {
                out->versioning = f.data[0];
            }
            continue;
        default:
            continue;
        }
        seen |= 1u << f.tag;
    }
    out->ctime_ms = (int64_t) ctime;
    return rc == GW_DONE && seen == 0xe ? GW_OK : GW_ECORRUPT;
}

/* ==== bucket configuration documents ==== */

void
store__bconf_encode(gw_str_t doc, store_recw_t *w)
{
    store__recw_init(w, STORE_REC_V1);
    store__recw_field(w, REC_BCONF_DOC, doc.base, doc.len);
    store__recw_end(w);
}

int
store__bconf_decode(const void *buf, size_t len, gw_str_t *doc)
{
    store_rec_t    r;
    store_field_t  f;
    int            rc, seen = 0;

    rc = store__rec_open(&r, buf, len, STORE_REC_V1);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        if (f.tag == REC_BCONF_DOC) {
            doc->base = (const char *) f.data;
            doc->len = f.len;
            seen = 1;
        }
    }
    return rc == GW_DONE && seen ? GW_OK : GW_ECORRUPT;
}

/* ==== chunk reference counts and the collector's queue ==== */

void
store__ref_encode(uint64_t count, uint32_t chunk_len, store_recw_t *w)
{
    store__recw_init(w, STORE_REC_V1);
    store__recw_u64(w, REC_REF_COUNT, count);
    store__recw_u32(w, REC_REF_LEN, chunk_len);
    store__recw_end(w);
}

int
store__ref_decode(const void *buf, size_t len, uint64_t *count,
                  uint32_t *chunk_len)
{
    store_rec_t    r;
    store_field_t  f;
    unsigned       seen = 0;
    int            rc;

    rc = store__rec_open(&r, buf, len, STORE_REC_V1);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        if (f.tag == REC_REF_COUNT) {
            rc = rec_field_u64(&f, count);
        } else if (f.tag == REC_REF_LEN) {
            rc = rec_field_u32(&f, chunk_len);
        } else {
            continue;
        }
        seen |= 1u << f.tag;
    }
    return rc == GW_DONE && seen == 0x6 ? GW_OK : GW_ECORRUPT;
}

void
store__gcq_encode(uint64_t seq, uint64_t txnid, store_recw_t *w)
{
    store__recw_init(w, STORE_REC_V1);
    store__recw_u64(w, REC_GCQ_SEQ, seq);
    store__recw_u64(w, REC_GCQ_TXNID, txnid);
    store__recw_end(w);
}

int
store__gcq_decode(const void *buf, size_t len, uint64_t *seq,
                  uint64_t *txnid)
{
    store_rec_t    r;
    store_field_t  f;
    int            rc, seen = 0;

    *txnid = 0;
    rc = store__rec_open(&r, buf, len, STORE_REC_V1);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        if (f.tag == REC_GCQ_SEQ) {
            rc = rec_field_u64(&f, seq);
            seen = 1;
        } else if (f.tag == REC_GCQ_TXNID) {
            rc = rec_field_u64(&f, txnid);
        }
    }
    return rc == GW_DONE && seen ? GW_OK : GW_ECORRUPT;
}

/* ==== multipart uploads ==== */

void
store__upload_encode(gw_str_t bucket, const void *tmpl, size_t tmpl_len,
                     store_recw_t *w)
{
    store__recw_init(w, STORE_REC_V1);
    store__recw_field(w, REC_UPLOAD_BUCKET, bucket.base, bucket.len);
    store__recw_field(w, REC_UPLOAD_TMPL, tmpl, tmpl_len);
    store__recw_end(w);
}

int
store__upload_decode(const void *buf, size_t len, gw_str_t *bucket,
                     gw_str_t *tmpl)
{
    store_rec_t    r;
    store_field_t  f;
    unsigned       seen = 0;
    int            rc;

    rc = store__rec_open(&r, buf, len, STORE_REC_V1);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        if (f.tag == REC_UPLOAD_BUCKET) {
            if (f.len == 0 || f.len > STORE_BUCKET_MAX) {
                rc = GW_ECORRUPT;
            }
            bucket->base = (const char *) f.data;
            bucket->len = f.len;
        } else if (f.tag == REC_UPLOAD_TMPL) {
            tmpl->base = (const char *) f.data;
            tmpl->len = f.len;
        } else {
            continue;
        }
        seen |= 1u << f.tag;
    }
    return rc == GW_DONE && seen == 0x6 ? GW_OK : GW_ECORRUPT;
}

/* ==== object records ==== */

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

/* The version fields (18, 19, 20) that are not zero. */
static unsigned char *
rec_object_vfields(unsigned char *p, uint8_t flags, uint64_t version,
                   int64_t noncurrent_ms)
{
    unsigned char  b[8];

    if (flags) {
        p = rec_field(p, REC_VFLAGS, &flags, 1);
    }
    if (noncurrent_ms) {
        rec_u64(b, (uint64_t) noncurrent_ms);
        p = rec_field(p, REC_NONCURRENT, b, 8);
    }
    if (version) {
        rec_u64(b, version);
        p = rec_field(p, REC_VERSION, b, 8);
    }
    return p;
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
    size_t           i, j, n = REC_FIXED + 1 + 5 + 8 + 5 + o->acl.len + 6
                             + 5 + o->website_redirect.len
                             + 5 + o->upload_id.len
                             + 5 + o->part_cksums.len + 6 + 13 + 13;

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
    p[0] = STORE_REC_V1;
    p[1] = o->storage_class;
    p[2] = o->cksum_alg;
    p[3] = o->cksum_type;
    rec_u32(p + 4, o->nparts);
    rec_u64(p + 8, o->size);
    rec_u64(p + 16, (uint64_t) o->mtime_ms);
    memcpy(p + 24, o->md5, 16);
    memcpy(p + 40, o->cksum, 32);
    p += REC_FIXED;
    *p++ = REC_GEN;
    rec_u32(p, 8);
    rec_u64(p + 4, o->generation);
    p += 4 + 8;
    for (i = 0; i < GW_NELEMS(strs); i++) {
        if (strs[i]->len) {
            p = rec_field(p, (int) i + REC_KEY, strs[i]->base, strs[i]->len);
        }
    }
    if (o->acl.len) {
        p = rec_field(p, REC_ACL, o->acl.base, o->acl.len);
    }
    if (o->repl_status) {
        p = rec_field(p, REC_REPL, &o->repl_status, 1);
    }
    if (o->website_redirect.len) {
        p = rec_field(p, REC_WEBSITE_REDIRECT, o->website_redirect.base,
                      o->website_redirect.len);
    }
    if (o->upload_id.len) {
        p = rec_field(p, REC_UPLOAD_ID, o->upload_id.base, o->upload_id.len);
    }
    if (o->part_cksums.len) {
        p = rec_field(p, REC_PART_CKSUMS, o->part_cksums.base,
                      o->part_cksums.len);
    }
    p = rec_object_vfields(p, o->vflags, o->version, o->noncurrent_ms);
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
    *p++ = STORE_REC_END;
    *len = (size_t) (p - buf);
    return buf;
}

int
store__object_set_generation(void *val, size_t len, uint64_t gen)
{
    unsigned char  *p = val;

    if (len < REC_GEN_OFF + 8 + 1 || p[0] != STORE_REC_V1
        || p[REC_FIXED] != REC_GEN || rec_get_u32(p + REC_FIXED + 1) != 8)
    {
        return GW_ECORRUPT;
    }
    rec_u64(p + REC_GEN_OFF, gen);
    return GW_OK;
}

static int rec_object_open(store_rec_t *r, const void *buf, size_t len);

int
store__object_vinfo(const void *buf, size_t len, store_vinfo_t *vi)
{
    store_rec_t    r;
    store_field_t  f;
    int            rc;

    memset(vi, 0, sizeof(*vi));
    rc = rec_object_open(&r, buf, len);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        if ((f.tag == REC_GEN || f.tag == REC_NONCURRENT
             || f.tag == REC_VERSION) && f.len != 8)
        {
            return GW_ECORRUPT;
        }
        if (f.tag == REC_GEN) {
            vi->generation = rec_get_u64(f.data);
        } else if (f.tag == REC_VERSION) {
            vi->version = rec_get_u64(f.data);
        } else if (f.tag == REC_NONCURRENT) {
            vi->noncurrent_ms = (int64_t) rec_get_u64(f.data);
        } else if (f.tag == REC_VFLAGS && f.len == 1) {
            vi->flags = f.data[0];
        }
    }
    if (rc != GW_DONE) {
        return GW_ECORRUPT;
    }
    if (vi->version == 0) {
        vi->version = vi->generation;
    }
    return GW_OK;
}

void *
store__object_vpatch(const void *buf, size_t len, const store_vinfo_t *vi,
                     size_t *out_len)
{
    const unsigned char  *src = buf;
    unsigned char        *out, *p;
    store_rec_t           r;
    store_field_t         f;
    int                   done = 0;

    out = gw_alloc(len + 6 + 13 + 13);
    memcpy(out, src, REC_FIXED);
    p = out + REC_FIXED;

    rec_object_open(&r, buf, len);
    while (store__rec_next(&r, &f) == GW_OK) {
        if (f.tag == REC_VFLAGS || f.tag == REC_NONCURRENT
            || f.tag == REC_VERSION)
        {
            continue;
        }
        p = rec_field(p, (int) f.tag, f.data, f.len);
        if (f.tag == REC_GEN && !done) {
            /* Right after the generation, which stays first. */
            p = rec_object_vfields(p, vi->flags, vi->version,
                                   vi->noncurrent_ms);
            done = 1;
        }
    }
    if (!done) {
        /* A format-1 record, without a generation. */
        p = rec_object_vfields(p, vi->flags, vi->version, vi->noncurrent_ms);
    }
    *p++ = STORE_REC_END;
    *out_len = (size_t) (p - out);
    return out;
}

/* The fields of an object record, after its fixed head. */
static int
rec_object_open(store_rec_t *r, const void *buf, size_t len)
{
    const unsigned char  *p = buf;

    r->p = r->end = p;
    if (len < REC_FIXED + 1 || p[0] != STORE_REC_V1) {
        return GW_ECORRUPT;
    }
    r->p = p + REC_FIXED;
    r->end = p + len;
    return GW_OK;
}

static void
rec_chunks(const unsigned char *p, size_t len, store_chunk_ref_t *out)
{
    size_t  i;

    for (i = 0; i < len / REC_CHUNK_SIZE; i++, p += REC_CHUNK_SIZE) {
        memcpy(out[i].sha, p, 32);
        out[i].off = rec_get_u64(p + 32);
        out[i].len = rec_get_u32(p + 40);
    }
}

/* Checks every field of an object record and counts its metadata pairs and
 * tags, so that the decoder can make one allocation for everything and never
 * leave an object half decoded. */
static int
rec_object_check(const void *buf, size_t len, size_t *npairs)
{
    store_rec_t    r;
    store_field_t  f;
    int            rc;

    *npairs = 0;
    rc = rec_object_open(&r, buf, len);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        *npairs += f.tag == REC_META || f.tag == REC_TAG;
        if (((f.tag == REC_GEN || f.tag == REC_NONCURRENT
              || f.tag == REC_VERSION) && f.len != 8)
            || (f.tag == REC_VFLAGS && f.len != 1))
        {
            rc = GW_ECORRUPT;
        }
    }
    return rc == GW_DONE ? GW_OK : GW_ECORRUPT;
}

/* The fixed head that follows the format byte. */
static void
rec_object_head(store_object_t *o, const unsigned char *raw)
{
    o->storage_class = raw[1];
    o->cksum_alg = raw[2];
    o->cksum_type = raw[3];
    o->nparts = rec_get_u32(raw + 4);
    o->size = rec_get_u64(raw + 8);
    o->mtime_ms = (int64_t) rec_get_u64(raw + 16);
    memcpy(o->md5, raw + 24, 16);
    memcpy(o->cksum, raw + 40, 32);
}

/* The member of o that a string field's tag names, or NULL. */
static gw_str_t *
rec_object_str(store_object_t *o, unsigned tag)
{
    switch (tag) {
    case REC_KEY:               return &o->key;
    case REC_OWNER:             return &o->owner;
    case REC_CTYPE:             return &o->content_type;
    case REC_CENC:              return &o->content_encoding;
    case REC_CDISP:             return &o->content_disposition;
    case REC_CLANG:             return &o->content_language;
    case REC_CACHE:             return &o->cache_control;
    case REC_EXPIRES:           return &o->expires;
    case REC_ACL:               return &o->acl;
    case REC_WEBSITE_REDIRECT:  return &o->website_redirect;
    case REC_UPLOAD_ID:         return &o->upload_id;
    case REC_PART_CKSUMS:       return &o->part_cksums;
    case REC_INLINE:            return &o->inline_data;
    default:                    return NULL;
    }
}

/* A "name\0value" field: metadata fills o->meta (npairs slots) from the
 * front, tags from the back; rec_object_tags puts the tags in order. A pair
 * without its '\0' is skipped. */
static void
rec_object_pair(store_object_t *o, const store_field_t *f, size_t npairs)
{
    const unsigned char  *z = memchr(f->data, '\0', f->len);
    gw_kv_t              *kv;

    if (z == NULL) {
        return;
    }
    kv = f->tag == REC_META ? &o->meta[o->nmeta++]
                            : &o->meta[npairs - ++o->ntags];
    kv->name.base = (const char *) f->data;
    kv->name.len = (size_t) (z - f->data);
    kv->value.base = (const char *) z + 1;
    kv->value.len = f->len - kv->name.len - 1;
}

/* The part sizes or the chunk list, which only readers of the content ask
 * for (STORE_DECODE_CHUNKS). Unlike the strings they are copied out of the
 * record, each into an allocation store_object_free frees. */
static void
rec_object_lists(store_object_t *o, const store_field_t *f)
{
    size_t  i;

    if (f->tag == REC_PARTS) {
        o->npart_sizes = f->len / 8;
        o->part_sizes = gw_alloc(sizeof(uint64_t) * (o->npart_sizes + 1));
        for (i = 0; i < o->npart_sizes; i++) {
            o->part_sizes[i] = rec_get_u64(f->data + 8 * i);
        }
    } else {
        o->nchunks = f->len / REC_CHUNK_SIZE;
        o->chunks = gw_alloc(sizeof(store_chunk_ref_t) * (o->nchunks + 1));
        rec_chunks(f->data, f->len, o->chunks);
    }
}

/* One field of a record rec_object_check accepted (so the fixed-size ones
 * have their size). Strings point into o->raw; unknown tags are skipped. */
static void
rec_object_field(store_object_t *o, const store_field_t *f, int flags,
                 size_t npairs)
{
    gw_str_t  *s;

    switch (f->tag) {
    case REC_META:
    case REC_TAG:
        rec_object_pair(o, f, npairs);
        break;
    case REC_PARTS:
    case REC_CHUNKS:
        if (flags & STORE_DECODE_CHUNKS) {
            rec_object_lists(o, f);
        }
        break;
    case REC_GEN:
        o->generation = rec_get_u64(f->data);
        break;
    case REC_REPL:
        if (f->len == 1) {
            o->repl_status = f->data[0];
        }
        break;
    case REC_VFLAGS:
        o->vflags = f->data[0];
        break;
    case REC_NONCURRENT:
        o->noncurrent_ms = (int64_t) rec_get_u64(f->data);
        break;
    case REC_VERSION:
        o->version = rec_get_u64(f->data);
        break;
    default:
        if ((s = rec_object_str(o, f->tag)) != NULL) {
            s->base = (const char *) f->data;
            s->len = f->len;
        }
        break;
    }
}

/* Tags were filled backwards from the end of o->meta: turn them around. */
static void
rec_object_tags(store_object_t *o, size_t npairs)
{
    size_t  i;

    o->tags = o->meta + (npairs - o->ntags);
    for (i = 0; i < o->ntags / 2; i++) {
        gw_kv_t  t = o->tags[i];

        o->tags[i] = o->tags[o->ntags - 1 - i];
        o->tags[o->ntags - 1 - i] = t;
    }
}

int
store__object_decode(const void *buf, size_t len, int flags,
                     store_object_t **out)
{
    store_rec_t      r;
    store_field_t    f;
    store_object_t  *o;
    unsigned char   *raw;
    size_t           npairs;

    if (rec_object_check(buf, len, &npairs) != GW_OK) {
        return GW_ECORRUPT;
    }
    o = gw_calloc(1, sizeof(*o) + npairs * sizeof(gw_kv_t));
    raw = gw_alloc(len);
    memcpy(raw, buf, len);
    o->raw = raw;
    o->meta = (gw_kv_t *) (o + 1);
    rec_object_head(o, raw);
    rec_object_open(&r, raw, len);
    while (store__rec_next(&r, &f) == GW_OK) {
        rec_object_field(o, &f, flags, npairs);
    }
    if (o->version == 0) {
        o->version = o->generation;     /* never rewritten in place */
    }
    rec_object_tags(o, npairs);
    *out = o;
    return GW_OK;
}

int
store__object_chunks(const void *buf, size_t len, store_chunk_ref_t **chunks,
                     size_t *n)
{
    store_rec_t    r;
    store_field_t  f;
    int            rc;

    *chunks = NULL;
    *n = 0;
    rc = rec_object_open(&r, buf, len);
    while (rc == GW_OK && (rc = store__rec_next(&r, &f)) == GW_OK) {
        if (f.tag == REC_CHUNKS && *chunks == NULL) {
            *n = f.len / REC_CHUNK_SIZE;
            *chunks = gw_alloc(sizeof(store_chunk_ref_t) * (*n + 1));
            rec_chunks(f.data, f.len, *chunks);
        }
    }
    if (rc != GW_DONE) {
        /* Never release references read from a damaged record. */
        gw_free(*chunks);
        *chunks = NULL;
        *n = 0;
        return GW_ECORRUPT;
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
