/* s3/version.c: version ids and the version headers (see s3/version.h). */
#include "s3/version.h"
#include "core/hash.h"
#include "core/log.h"

/* The scrambling: multiplication by an odd constant and an XOR, both
 * bijections of the 64-bit numbers; the inverse multiplier is computed
 * once by Newton's iteration. Not a secret: ids are opaque, not private. */
#define S3_VERSION_MUL   0x9e3779b97f4a7c15ULL
#define S3_VERSION_XOR   0x5bd1e9955bd1e995ULL

static const char  s3_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint64_t
s3_version_inverse(void)
{
    uint64_t  x = S3_VERSION_MUL;
    int       i;

    for (i = 0; i < 6; i++) {
        x *= 2 - S3_VERSION_MUL * x;
    }
    return x;
}

/* The 12 bytes an id carries: the scrambled number, big-endian, and the
 * first 4 bytes of its SHA-256. */
static void
s3_version_bytes(uint64_t v, unsigned char out[12])
{
    unsigned char  h[32];
    uint64_t       y = (v * S3_VERSION_MUL) ^ S3_VERSION_XOR;
    int            i;

    for (i = 0; i < 8; i++) {
        out[i] = (unsigned char) (y >> (56 - 8 * i));
    }
    gw_sha256(out, 8, h);
    memcpy(out + 8, h, 4);
}

void
s3_version_id(uint64_t v, char *out)
{
    unsigned char  b[12];
    uint32_t       w;
    int            i;

    s3_version_bytes(v, b);
    for (i = 0; i < 4; i++) {
        w = (uint32_t) b[3 * i] << 16 | (uint32_t) b[3 * i + 1] << 8
            | b[3 * i + 2];
        out[4 * i] = s3_b64url[w >> 18];
        out[4 * i + 1] = s3_b64url[(w >> 12) & 63];
        out[4 * i + 2] = s3_b64url[(w >> 6) & 63];
        out[4 * i + 3] = s3_b64url[w & 63];
    }
    out[S3_VERSION_ID_LEN] = '\0';
}

int
s3_version_parse(const char *id, size_t len, uint64_t *v)
{
    unsigned char  b[12], check[12];
    const char    *p;
    uint64_t       y = 0;
    uint32_t       w;
    int            i, j;

    if (len == 4 && memcmp(id, "null", 4) == 0) {
        *v = STORE_VERSION_NULL;
        return S3_ERR_NONE;
    }
    if (len != S3_VERSION_ID_LEN) {
        return S3_ERR_INVALID_ARGUMENT;
    }
    for (i = 0; i < 4; i++) {
        w = 0;
        for (j = 0; j < 4; j++) {
            p = id[4 * i + j] ? strchr(s3_b64url, id[4 * i + j]) : NULL;
            if (p == NULL) {
                return S3_ERR_INVALID_ARGUMENT;
            }
            w = w << 6 | (uint32_t) (p - s3_b64url);
        }
        b[3 * i] = (unsigned char) (w >> 16);
        b[3 * i + 1] = (unsigned char) (w >> 8);
        b[3 * i + 2] = (unsigned char) w;
    }
    for (i = 0; i < 8; i++) {
        y = y << 8 | b[i];
    }
    *v = (y ^ S3_VERSION_XOR) * s3_version_inverse();
    s3_version_bytes(*v, check);
    if (*v == 0 || memcmp(check, b, 12) != 0) {
        return S3_ERR_INVALID_ARGUMENT;
    }
    return S3_ERR_NONE;
}

int
s3_version_param(s3_req_t *r, int *has, uint64_t *v, const char **msg)
{
    const gw_str_t  *id = s3_param(r, "versionId");

    *has = 0;
    *msg = NULL;
    if (id == NULL) {
        return S3_ERR_NONE;
    }
    if (s3_version_parse(id->base, id->len, v) != S3_ERR_NONE) {
        *msg = S3_VERSION_BAD_ID;
        return S3_ERR_INVALID_ARGUMENT;
    }
    *has = 1;
    return S3_ERR_NONE;
}

const char *
s3_version_of(s3_req_t *r, const store_object_t *o)
{
    char  *id;

    if (!(o->vflags & STORE_VF_VERSIONED)) {
        return "null";
    }
    id = gw_pool_alloc(r->pool, S3_VERSION_ID_LEN + 1);
    s3_version_id(o->version, id);
    return id;
}

const char *
s3_version_made(s3_req_t *r, const store_vresult_t *res)
{
    char  *id;

    if (!res->versioned) {
        return "null";
    }
    id = gw_pool_alloc(r->pool, S3_VERSION_ID_LEN + 1);
    s3_version_id(res->version, id);
    return id;
}

int
s3_version_bucket(s3_req_t *r, const char *bucket)
{
    store_bucket_t  b;

    return store_bucket_get(r->ctx->store, bucket, &b) == GW_OK
           && b.versioning != STORE_VERSIONING_NONE;
}

void
s3_version_headers(s3_req_t *r, const char *bucket, const store_object_t *o)
{
    const char  *id;

    if (!(o->vflags & STORE_VF_VERSIONED) && !s3_version_bucket(r, bucket)) {
        return;
    }
    id = s3_version_of(r, o);
    http_resp_header(r->http, "x-amz-version-id", id, strlen(id));
    if (o->vflags & STORE_VF_MARKER) {
        http_resp_header(r->http, "x-amz-delete-marker", "true", 4);
    }
}

int
s3_version_source(const gw_str_t *vid, int *has, uint64_t *v,
                  const char **msg)
{
    *has = vid->base != NULL;
    if (*has && s3_version_parse(vid->base, vid->len, v) != S3_ERR_NONE) {
        *msg = S3_VERSION_BAD_ID;
        return S3_ERR_INVALID_ARGUMENT;
    }
    return S3_ERR_NONE;
}

int
s3_version_lookup(s3_req_t *r, const char *bucket, gw_str_t key, int has,
                  uint64_t v, store_object_t **o, int *is_current)
{
    int  rc;

    rc = store_version_get(r->ctx->store, bucket, key, !has, v, o,
                           is_current);
    if (rc == GW_ENOTFOUND) {
        return has ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "object lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    if ((*o)->vflags & STORE_VF_MARKER) {
        store_object_free(*o);
        *o = NULL;
        return has ? S3_ERR_METHOD_NOT_ALLOWED : S3_ERR_NO_SUCH_KEY;
    }
    return S3_ERR_NONE;
}

int
s3_version_request(s3_req_t *r, store_object_t **o, const char **msg)
{
    uint64_t  v = 0;
    int       has, rc;

    rc = s3_version_param(r, &has, &v, msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    return s3_version_lookup(r, r->bucket, r->key, has, v, o, NULL);
}
