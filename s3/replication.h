/* s3/replication.h: the bucket replication configuration model. Owns the
 * reading and validation of a ReplicationConfiguration document (the body
 * of PutBucketReplication), its stored form (the bucket's "replication"
 * configuration document), the GetBucketReplication document written back
 * from it, and rule matching: which rule decides, for an object key and
 * its tags, whether and where the object (or its delete marker) goes.
 *
 * Request plumbing, so that the operations (s3/ops/replication.c), the
 * object write path (what to enqueue) and the background pusher can all
 * use it. Pure functions: no I/O, no request; every result lives in the
 * pool given.
 *
 * The two schemas of S3:
 *   V2  every rule has a Filter (Prefix, Tag, or And{Prefix, Tag...}, or
 *       empty), a Priority (0..2^31-1, unique) and a DeleteMarkerReplication
 *       status; the highest priority among the enabled rules that match
 *       decides.
 *   V1  a rule without Filter has a top-level Prefix; S3 then reads the whole
 *       configuration as V1: no Priority, no DeleteMarkerReplication, one
 *       destination, prefixes that do not overlap (so at most one rule
 *       matches a key), and delete markers are replicated (S3's "backward
 *       compatibility" rule for V1). */
#ifndef S3_REPLICATION_H
#define S3_REPLICATION_H

#include "core/gw.h"
#include "core/pool.h"
#include "s3/error.h"
#include "s3/xml.h"

#define S3_REPL_RULES_MAX     1000
#define S3_REPL_ID_MAX        255
#define S3_REPL_PREFIX_MAX    1024         /* the longest key */
#define S3_REPL_PRIORITY_MAX  2147483647
#define S3_REPL_BODY_MAX      (2 * 1024 * 1024)   /* S3's limit on the
                                                   * document */

/* What a rule filters on. */
#define S3_REPL_FILTER_V1      0   /* no Filter: the top-level Prefix */
#define S3_REPL_FILTER_EMPTY   1   /* <Filter/>: every key */
#define S3_REPL_FILTER_PREFIX  2   /* <Filter><Prefix/></Filter> */
#define S3_REPL_FILTER_TAG     3   /* <Filter><Tag/></Filter> */
#define S3_REPL_FILTER_AND     4   /* <Filter><And>...</And></Filter> */

/* One rule. Strings are views (into the parsed document, the stored form,
 * or the pool), not NUL-terminated. */
typedef struct s3_repl_rule_s {
    gw_str_t    id;                   /* given, or generated as S3 does */
    int64_t     priority;             /* -1: none (V1) */
    unsigned    enabled:1;            /* Status Enabled */
    unsigned    delete_markers:1;     /* replicate delete markers: the
                                       * DeleteMarkerReplication status (V2),
                                       * always (V1) */
    unsigned    has_dmr:1;            /* DeleteMarkerReplication was given */
    unsigned    has_existing:1;       /* ExistingObjectReplication was given */
    unsigned    existing:1;           /* ... with Status Enabled */
    unsigned    and_prefix:1;         /* an And filter with a Prefix */
    int         filter;               /* S3_REPL_FILTER_* */
    gw_str_t    prefix;               /* len 0: every key */
    gw_kv_t    *tags;                 /* every one must be on the object */
    size_t      ntags;
    gw_str_t    dest_bucket;          /* the name of arn:aws:s3:::NAME */
    gw_str_t    storage_class;        /* len 0: none given (the source
                                       * object's class) */
} s3_repl_rule_t;

typedef struct s3_repl_conf_s {
    int              version;         /* 1 or 2 */
    gw_str_t         role;            /* stored and given back, never
                                       * evaluated */
    s3_repl_rule_t  *rules;           /* in document order */
    size_t           nrules;
} s3_repl_conf_t;

/* Reads and validates a PutBucketReplication body for the bucket named
 * source, as S3 does. On S3_ERR_NONE, *out is the configuration (in pool;
 * its strings view doc, which must live as long, or the pool), with an ID
 * generated for every rule that had none. Otherwise returns the S3 error
 * (MalformedXML, InvalidRequest, InvalidArgument, InvalidTag,
 * NotImplemented) with *msg set to its message (static or in pool), or
 * NULL for the error's default one. Destination buckets are only checked
 * for form here: whether they exist is the operation's question. */
int s3_replication_parse(gw_pool_t *pool, const char *doc, size_t len,
                         const char *source, s3_repl_conf_t **out,
                         const char **msg);

/* The stored form of c, in pool:
 *
 *   u8 format (1) | field ... | u8 0      field: u8 tag | u32 len | bytes
 *
 * (integers little-endian, as store/ records), top-level fields 1 u8
 * schema version, 2 role, 3 one rule, whose bytes are fields again:
 * 1 id, 2 u8 flags, 3 u32 priority, 4 u8 filter, 5 prefix, 6 one tag
 * (u32 key length | key | value), 7 destination bucket, 8 storage class.
 * A reader skips fields whose tag it does not know. */
gw_str_t s3_replication_encode(gw_pool_t *pool, const s3_repl_conf_t *c);

/* A stored form back into *out (in pool; its strings view buf, which must
 * live as long). GW_OK, or GW_ECORRUPT for bytes that are not one. */
int s3_replication_decode(gw_pool_t *pool, const char *buf, size_t len,
                          s3_repl_conf_t **out);

/* The GetBucketReplication document of c into x (begun and ended here,
 * in x's pool). */
void s3_replication_xml(const s3_repl_conf_t *c, s3_xml_t *x,
                        gw_pool_t *pool);

/* The rule that decides for an object of this key and tags: the enabled
 * rule whose filter matches (the prefix, and every tag of the filter is on
 * the object with the same value) with the highest priority; NULL when
 * none. */
const s3_repl_rule_t *s3_replication_match(const s3_repl_conf_t *c,
                                           gw_str_t key, const gw_kv_t *tags,
                                           size_t ntags);

/* With several destinations S3 replicates to each one by the rule of
 * highest priority among those that match and go there: those rules, one
 * per destination bucket, highest priority first, into out (at most cap);
 * returns how many. */
size_t s3_replication_match_all(const s3_repl_conf_t *c, gw_str_t key,
                                const gw_kv_t *tags, size_t ntags,
                                const s3_repl_rule_t **out, size_t cap);

/* For a delete of this key (tags: the deleted object's): 1 when the rule
 * that decides (s3_replication_match) replicates delete markers, with
 * *rule set to it (may be NULL); 0 otherwise. */
int s3_replication_match_delete(const s3_repl_conf_t *c, gw_str_t key,
                                const gw_kv_t *tags, size_t ntags,
                                const s3_repl_rule_t **rule);

#endif
