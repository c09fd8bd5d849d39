/* s3/lifecycle.h: the bucket lifecycle configuration model. Owns the
 * reading and validation of a LifecycleConfiguration document (the body of
 * PutBucketLifecycleConfiguration), its stored form (the bucket's
 * "lifecycle" configuration document), the GetBucketLifecycleConfiguration
 * document written back from it, rule matching (prefix, tags, object size)
 * and the dates S3 computes from a rule: when an object expires, when an
 * incomplete multipart upload is aborted. Also the x-amz-expiration header
 * of object responses, the one function here that reads the store.
 *
 * Request plumbing, so that the operations (s3/ops/lifecycle.c), the object
 * responses and the background worker (s3/bg/lifecycle.c) can all use it.
 * Everything but s3_lifecycle_expiration_header is a pure function: no I/O,
 * every result in the pool given.
 *
 * Days and dates. S3 counts Days from an object's creation (its
 * Last-Modified) and rounds the resulting time UP to the next midnight UTC:
 * an object created 2026-01-01T10:00Z with Days=1 expires at
 * 2026-01-03T00:00Z. Here a "day" is day_ms long (the lifecycle_day
 * directive, 1d by default; tests shorten it, like RGW's
 * rgw_lc_debug_interval), and midnight is the next multiple of day_ms since
 * the epoch. A Date is always a real date (midnight UTC). */
#ifndef S3_LIFECYCLE_H
#define S3_LIFECYCLE_H

#include "s3/req.h"

#define S3_LC_RULES_MAX     1000
#define S3_LC_ID_MAX        255
#define S3_LC_PREFIX_MAX    1024          /* the longest key */
#define S3_LC_NEWER_MAX     100           /* NewerNoncurrentVersions */
#define S3_LC_BODY_MAX      (2 * 1024 * 1024)
#define S3_LC_DAY_MS        86400000LL

/* What a rule filters on. */
#define S3_LC_FILTER_LEGACY  0   /* no Filter: the rule-level Prefix */
#define S3_LC_FILTER_EMPTY   1   /* <Filter/>: every key */
#define S3_LC_FILTER_PREFIX  2
#define S3_LC_FILTER_TAG     3
#define S3_LC_FILTER_AND     4
#define S3_LC_FILTER_GT      5   /* ObjectSizeGreaterThan alone */
#define S3_LC_FILTER_LT      6   /* ObjectSizeLessThan alone */

/* One rule. Strings are views into the parsed document or the pool, not
 * NUL-terminated. Absent numbers are -1. */
typedef struct s3_lc_rule_s {
    gw_str_t    id;                  /* given, or generated */
    unsigned    enabled:1;           /* Status Enabled */
    unsigned    and_prefix:1;        /* an And filter with a Prefix */
    int         filter;              /* S3_LC_FILTER_* */
    gw_str_t    prefix;              /* len 0: every key */
    gw_kv_t    *tags;                /* every one must be on the object */
    size_t      ntags;
    int64_t     size_gt, size_lt;    /* object size bounds (bytes), or -1 */
    /* Actions. */
    unsigned    has_exp:1;           /* Expiration */
    int64_t     exp_days;            /* Expiration/Days, or -1 */
    int64_t     exp_date_ms;         /* Expiration/Date (midnight UTC), or -1 */
    int         exp_dm;              /* ExpiredObjectDeleteMarker: -1 absent,
                                      * 0 false, 1 true */
    unsigned    has_nc:1;            /* NoncurrentVersionExpiration */
    int64_t     nc_days;             /* NoncurrentDays */
    int64_t     nc_newer;            /* NewerNoncurrentVersions, or -1 */
    int64_t     abort_days;          /* AbortIncompleteMultipartUpload/
                                      * DaysAfterInitiation, or -1 */
} s3_lc_rule_t;

typedef struct s3_lc_conf_s {
    s3_lc_rule_t  *rules;            /* in document order */
    size_t         nrules;
} s3_lc_conf_t;

/* Reads and validates a PutBucketLifecycleConfiguration body as S3 does.
 * On S3_ERR_NONE, *out is the configuration (in pool; its strings view doc,
 * which must live as long, or the pool), with an ID generated for every
 * rule that had none. Otherwise the S3 error (MalformedXML, InvalidArgument,
 * InvalidRequest, InvalidTag, InvalidStorageClass) with *msg its message
 * (static or in pool), or NULL for the error's default one. */
int s3_lifecycle_parse(gw_pool_t *pool, const char *doc, size_t len,
                       s3_lc_conf_t **out, const char **msg);

/* The GetBucketLifecycleConfiguration document of c into x (begun and ended
 * here, in pool). */
void s3_lifecycle_xml(const s3_lc_conf_t *c, s3_xml_t *x, gw_pool_t *pool);

/* The stored form of c, in pool: the document s3_lifecycle_xml writes (the
 * XML is its own versioned, self-describing encoding; the IDs generated at
 * the put are in it, so they stay the same). */
gw_str_t s3_lifecycle_encode(gw_pool_t *pool, const s3_lc_conf_t *c);
/* A stored form back into *out (in pool, viewing buf). GW_OK or
 * GW_ECORRUPT. */
int s3_lifecycle_decode(gw_pool_t *pool, const char *buf, size_t len,
                        s3_lc_conf_t **out);

/* t_ms rounded up to the next multiple of day_ms since the epoch (the next
 * midnight UTC for a real day); a multiple stays as it is. */
int64_t s3_lifecycle_ceil(int64_t t_ms, int64_t day_ms);

/* 1 when rule r's filter takes an object of this key, tags and size
 * (whatever its Status). */
int s3_lifecycle_match(const s3_lc_rule_t *r, gw_str_t key,
                       const gw_kv_t *tags, size_t ntags, uint64_t size);

/* When the Expiration (Days or Date) of rule r makes an object last
 * modified at mtime_ms expire, in unix ms; -1 when r has neither. */
int64_t s3_lifecycle_expiry_of(const s3_lc_rule_t *r, int64_t mtime_ms,
                               int64_t day_ms);

/* The enabled rule whose Expiration expires this object first, with *at
 * set to when; NULL when none does (the x-amz-expiration of the object). */
const s3_lc_rule_t *s3_lifecycle_expiry(const s3_lc_conf_t *c, gw_str_t key,
                                        const gw_kv_t *tags, size_t ntags,
                                        uint64_t size, int64_t mtime_ms,
                                        int64_t day_ms, int64_t *at);

/* What the worker does with one version of an object at now_ms. */
#define S3_LC_KEEP    0
#define S3_LC_EXPIRE  1           /* delete the key as DeleteObject does: the
                                   * record goes, or, in a versioned bucket,
                                   * a delete marker becomes current */
#define S3_LC_REMOVE  2           /* delete this version for good (a
                                   * noncurrent version, or a delete marker
                                   * left alone) */

/* Where a version stands among its key's versions, as the worker saw
 * them. */
typedef struct s3_lc_ver_s {
    unsigned   noncurrent:1;      /* not the key's current version */
    unsigned   lone:1;            /* current: no noncurrent version is
                                   * behind it */
    uint64_t   newer;             /* noncurrent: how many noncurrent versions
                                   * of the key are newer than it */
} s3_lc_ver_t;

/* The per-version decision of the worker for the record o (a current or
 * noncurrent version, or a delete marker, of any bucket), placed among its
 * key's versions by v; *rule says which rule decided (NULL for KEEP).
 *   - the current version, not a marker: Expiration (Days or Date) makes
 *     it S3_LC_EXPIRE once its earliest due time has come; in an
 *     unversioned bucket that removes it, in a versioned one it gets a
 *     delete marker (the store's DeleteObject);
 *   - the current version, a delete marker: S3_LC_REMOVE when v->lone and
 *     a rule has ExpiredObjectDeleteMarker true, or an Expiration whose
 *     Days or Date, counted from the marker's creation, have passed (S3
 *     cleans up expired object delete markers for such rules too); a
 *     marker is never given another;
 *   - a noncurrent version or marker: S3_LC_REMOVE once a rule's
 *     NoncurrentDays, counted from when it became noncurrent and rounded
 *     up as Days are, have passed, and at least NewerNoncurrentVersions
 *     noncurrent versions are newer than it (v->newer).
 * Filters apply to each version's own tags and size (a marker has none,
 * and size 0). */
int s3_lifecycle_decide(const s3_lc_conf_t *c, const store_object_t *o,
                        const s3_lc_ver_t *v, int64_t now_ms, int64_t day_ms,
                        const s3_lc_rule_t **rule);

/* The enabled rule whose AbortIncompleteMultipartUpload aborts an upload of
 * key initiated at init_ms first, with *at set to when; NULL when none. */
const s3_lc_rule_t *s3_lifecycle_abort(const s3_lc_conf_t *c, gw_str_t key,
                                       int64_t init_ms, int64_t day_ms,
                                       int64_t *at);

/* Sets x-amz-expiration on r's response for object o (NULL: the record of
 * r's bucket and key, read now) when an enabled Expiration rule of the
 * bucket expires it:
 *   x-amz-expiration: expiry-date="Fri, 23 Dec 2012 00:00:00 GMT",
 *                     rule-id="picture-deletion-rule"
 * Nothing when the bucket has no lifecycle configuration or none matches;
 * a configuration that cannot be read is logged, and the response goes
 * without the header. */
void s3_lifecycle_expiration_header(s3_req_t *r, const store_object_t *o);

#endif
