/* s3/ops/attributes.c: GetObjectAttributes (GET /bucket/key?attributes).
 *
 * The attributes x-amz-object-attributes names (ETag, Checksum,
 * ObjectParts, StorageClass, ObjectSize), from the object record alone: no
 * byte of the object is read. ObjectParts pages through a multipart
 * object's parts (x-amz-part-number-marker, x-amz-max-parts); each part's
 * size and checksum come from the record's part sizes and part checksums
 * (store/store.h, object record fields 13 and 19). As S3 requires both
 * s3:GetObjectAttributes (the route) and s3:GetObject (checked here); with
 * ?versionId= they become s3:GetObjectVersionAttributes and
 * s3:GetObjectVersion, and the attributes are that version's. */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/cond.h"
#include "s3/version.h"
#include "core/log.h"

#include <strings.h>

#include "llhttp.h"

#define S3_ATTR_ETAG     0x01
#define S3_ATTR_CKSUM    0x02
#define S3_ATTR_PARTS    0x04
#define S3_ATTR_CLASS    0x08
#define S3_ATTR_SIZE     0x10
#define S3_ATTR_PARTS_MAX  1000

static int s3_attributes_get(s3_req_t *r);

const s3_route_t  s3_attributes_routes[] = {
    { HTTP_GET, S3_OBJECT, "attributes", "GetObjectAttributes",
      s3_attributes_get, 0, "s3:GetObjectAttributes", NULL },
    S3_ROUTE_END
};

/* x-amz-object-attributes, a comma-separated list, into S3_ATTR_* bits:
 * 0 when it names nothing or something unknown (InvalidArgument). */
static unsigned
s3_attributes_parse(const gw_str_t *v)
{
    static const struct {
        const char  *name;
        unsigned     bit;
    } names[] = {
        { "ETag", S3_ATTR_ETAG }, { "Checksum", S3_ATTR_CKSUM },
        { "ObjectParts", S3_ATTR_PARTS }, { "StorageClass", S3_ATTR_CLASS },
        { "ObjectSize", S3_ATTR_SIZE },
    };
    const char  *p = v->base, *end = v->base + v->len, *comma;
    unsigned     bits = 0;
    size_t       len, i;

    while (p <= end) {
        comma = memchr(p, ',', (size_t) (end - p));
        if (comma == NULL) {
            comma = end;
        }
        while (p < comma && (*p == ' ' || *p == '\t')) {
            p++;
        }
        len = (size_t) (comma - p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) {
            len--;
        }
        for (i = 0; i < GW_NELEMS(names); i++) {
            if (strlen(names[i].name) == len
                && memcmp(names[i].name, p, len) == 0)
            {
                bits |= names[i].bit;
                break;
            }
        }
        if (i == GW_NELEMS(names)) {
            return 0;
        }
        p = comma + 1;
    }
    return bits;
}

/* A decimal header value up to max into *out (absent: left alone): 0, or
 * -1 when it is not one. */
static int
s3_attributes_uint(s3_req_t *r, const char *name, uint64_t max, uint64_t *out)
{
    const gw_str_t  *v = s3_header(r, name);

    return v == NULL ? 0 : s3_parse_uint(v, max, out);
}

/* <ChecksumCRC32>base64</ChecksumCRC32>, with "-N" for a composite one. */
static void
s3_attributes_cksum(s3_xml_t *x, gw_cksum_alg_t alg, const void *ck,
                    uint32_t nparts)
{
    char    tag[32], val[64];
    size_t  n;

    snprintf(tag, sizeof(tag), "Checksum%s", gw_cksum_name(alg));
    n = gw_base64_encode(val, ck, gw_cksum_len(alg));
    if (nparts) {
        snprintf(val + n, sizeof(val) - n, "-%u", nparts);
    }
    s3_xml_elem_str(x, tag, val);
}

/* <ObjectParts> of a multipart object: PartsCount, and the page of parts
 * after marker when the parts have checksums (S3 lists them only then). */
static void
s3_attributes_parts(s3_xml_t *x, const store_object_t *o, uint64_t marker,
                    uint64_t max)
{
    gw_cksum_alg_t  alg = (gw_cksum_alg_t) o->cksum_alg;
    size_t          ckl = gw_cksum_len(alg), i, n = 0;
    int             listed = alg != GW_CK_NONE && ckl
                             && o->part_cksums.len == ckl * o->npart_sizes;

    s3_xml_open(x, "ObjectParts");
    s3_xml_elemf(x, "PartsCount", "%zu", o->npart_sizes);
    if (listed) {
        s3_xml_elemf(x, "PartNumberMarker", "%llu",
                     (unsigned long long) marker);
        s3_xml_elemf(x, "MaxParts", "%llu", (unsigned long long) max);
        for (i = (size_t) GW_MIN(marker, o->npart_sizes);
             i < o->npart_sizes && n < max; i++, n++)
        {
            s3_xml_open(x, "Part");
            s3_xml_elemf(x, "PartNumber", "%zu", i + 1);
            s3_xml_elemf(x, "Size", "%llu",
                         (unsigned long long) o->part_sizes[i]);
            s3_attributes_cksum(x, alg, o->part_cksums.base + i * ckl, 0);
            s3_xml_close(x, "Part");
        }
        s3_xml_elem_str(x, "IsTruncated", i < o->npart_sizes ? "true"
                                                             : "false");
        if (i < o->npart_sizes) {
            s3_xml_elemf(x, "NextPartNumberMarker", "%zu", i);
        }
    }
    s3_xml_close(x, "ObjectParts");
}

static void
s3_attributes_xml(s3_req_t *r, const store_object_t *o, unsigned attrs,
                  uint64_t marker, uint64_t max, s3_xml_t *x)
{
    char  etag[48];

    s3_xml_begin(x, r->pool, "GetObjectAttributesResponse");
    if (attrs & S3_ATTR_ETAG) {
        /* Without the quotes, as S3 writes it here. */
        s3_etag(o->md5, o->nparts, etag);
        s3_xml_elem(x, "ETag", etag + 1, strlen(etag) - 2);
    }
    if ((attrs & S3_ATTR_CKSUM) && o->cksum_alg != GW_CK_NONE) {
        s3_xml_open(x, "Checksum");
        s3_attributes_cksum(x, (gw_cksum_alg_t) o->cksum_alg, o->cksum,
                            o->cksum_type && o->nparts ? o->nparts : 0);
        s3_xml_elem_str(x, "ChecksumType",
                        o->cksum_type ? "COMPOSITE" : "FULL_OBJECT");
        s3_xml_close(x, "Checksum");
    }
    if ((attrs & S3_ATTR_PARTS) && o->npart_sizes > 0) {
        s3_attributes_parts(x, o, marker, max);
    }
    if (attrs & S3_ATTR_CLASS) {
        s3_xml_elem_str(x, "StorageClass",
                        o->storage_class == STORE_CLASS_REDUCED_REDUNDANCY
                        ? "REDUCED_REDUNDANCY" : "STANDARD");
    }
    if (attrs & S3_ATTR_SIZE) {
        s3_xml_elemf(x, "ObjectSize", "%llu", (unsigned long long) o->size);
    }
    s3_xml_end(x, "GetObjectAttributesResponse");
}

static int
s3_attributes_get(s3_req_t *r)
{
    const gw_str_t  *v;
    store_object_t  *o;
    s3_xml_t         x;
    const char      *msg = NULL;
    uint64_t         marker = 0, max = S3_ATTR_PARTS_MAX;
    unsigned         attrs;
    char             date[64];
    int              rc;

    rc = s3_object_bucket(r);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = s3_access_resource(r, r->bucket, &r->key, "s3:GetObject");
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    v = s3_header(r, "x-amz-object-attributes");
    attrs = v != NULL ? s3_attributes_parse(v) : 0;
    if (attrs == 0) {
        s3_error(r, S3_ERR_INVALID_ARGUMENT, v == NULL
                 ? "The x-amz-object-attributes header specifying the "
                   "attributes to be retrieved is either missing or empty"
                 : "Invalid attribute name specified.");
        return GW_OK;
    }
    if (s3_attributes_uint(r, "x-amz-part-number-marker", STORE_PART_MAX,
                           &marker) != 0
        || s3_attributes_uint(r, "x-amz-max-parts", UINT32_MAX, &max) != 0)
    {
        s3_error(r, S3_ERR_INVALID_ARGUMENT, "x-amz-part-number-marker and "
                 "x-amz-max-parts must be non-negative integers.");
        return GW_OK;
    }
    max = GW_MIN(max, S3_ATTR_PARTS_MAX);
    rc = s3_version_request(r, &o, &msg);
    if (rc != S3_ERR_NONE) {
        if (msg == NULL) {
            return rc;
        }
        s3_error(r, rc, msg);
        return GW_OK;
    }
    s3_version_headers(r, r->bucket, o);
    s3_attributes_xml(r, o, attrs, marker, max, &x);
    http_date(o->mtime_ms / 1000, date);
    http_resp_header(r->http, "Last-Modified", date, strlen(date));
    store_object_free(o);
    s3_send_xml(r, 200, &x);
    return GW_OK;
}
