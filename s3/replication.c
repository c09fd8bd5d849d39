/* s3/replication.c: the replication configuration model (see
 * s3/replication.h): reading and validating a ReplicationConfiguration,
 * its stored form, the GetBucketReplication document and rule matching.
 *
 * A document is read in two passes, as S3 answers it: first its shape
 * against the published schema (MalformedXML: unknown or repeated
 * elements, a missing Status or Destination, a Status that is neither
 * Enabled nor Disabled, a storage class S3 does not have...), then what it
 * says (InvalidRequest, InvalidArgument, InvalidTag), so a document that is
 * wrong in both ways gets MalformedXML whatever the order of its rules.
 *
 * Elements of the schema that this server does not do are refused with
 * 501 NotImplemented naming the element, between the two passes: Account
 * and AccessControlTranslation (replicas owned by the destination's
 * account), SourceSelectionCriteria (SSE-KMS objects, replica
 * modifications), EncryptionConfiguration, ReplicationTime and Metrics.
 * Storing them and then replicating as if they were absent would be
 * accepting a setting and silently ignoring it. Role is the exception:
 * S3 requires it, so it is stored and given back, but a role means
 * nothing here (no IAM): it is never evaluated.
 *
 * Where the messages come from: the V1/V2 schema messages ("... must be
 * specified for" / "... cannot be used for this version of Cross Region
 * Replication configuration schema. Please refer to S3 Developer Guide
 * for more information.") are Amazon S3's as its clients report them; the
 * others follow S3 as reproduced by Scality's Arsenal, OpenStack Swift's
 * s3api and MinIO (duplicate IDs and priorities, the ARN and tag
 * messages, "Delete marker replication is not supported if any Tag filter
 * is specified."). */
#include "s3/replication.h"
#include "s3/filter.h"
#include "s3/req.h"
#include "core/hash.h"

#include <inttypes.h>

/* S3's limits on one tag, as for object tags (s3/auth/tags.c, a floor
 * up, keeps the same numbers for the object side). */
#define S3_REPL_ROLE_MAX       2048

#define S3_REPL_ARN  "arn:aws:s3:::"

#define S3_REPL_SCHEMA_MSG(what, verb)                                        \
    what " " verb " for this version of Cross Region Replication "            \
    "configuration schema. Please refer to S3 Developer Guide for more "      \
    "information."

/* The storage classes S3 knows (botocore's enum of Destination.StorageClass):
 * a replica may go to another S3 that has them, so all are accepted. */
static const char  *s3_repl_classes[] = {
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
    "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS",
    "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE", "FSX_OPENZFS", "FSX_ONTAP",
};


/* ==== pass 1: the shape ==== */

/* One rule as the document gives it. */
typedef struct {
    const s3_xml_node_t  *id, *priority, *prefix, *filter, *status, *dmr,
                        *dmr_status, *eor, *eor_status, *dest, *bucket,
                        *sclass;
    int                  filter_kind;
    const s3_xml_node_t  *fprefix;       /* Filter/Prefix or Filter/And/Prefix */
    gw_kv_t             *tags;
    size_t               ntags;
    int64_t              prio;
} s3_rx_rule_t;

typedef struct {
    gw_pool_t     *pool;
    const char    *unsupported;         /* the first such element seen */
    s3_rx_rule_t  *rules;
    size_t         nrules;
    const s3_xml_node_t  *role;
} s3_rx_doc_t;

static void
s3_rx_unsupported(s3_rx_doc_t *d, const s3_xml_node_t *n)
{
    if (d->unsupported == NULL) {
        d->unsupported = n->name;
    }
}

/* <Status>Enabled|Disabled</Status> */
static int
s3_rx_status(const s3_xml_node_t *n)
{
    return s3_xml_text_is(n, "Enabled") || s3_xml_text_is(n, "Disabled")
           ? GW_OK : GW_EINVAL;
}

/* A container whose only child is an optional (required: mandatory)
 * Status. */
static int
s3_rx_status_box(const s3_xml_node_t *box, int required,
                 const s3_xml_node_t **status)
{
    const s3_xml_node_t  *c;

    *status = NULL;
    for (c = box->child; c != NULL; c = c->next) {
        if (!s3_xml_is(c, "Status") || s3_xml_once(status, c) != GW_OK
            || s3_rx_status(c) != GW_OK)
        {
            return GW_EINVAL;
        }
    }
    return *status == NULL && required ? GW_EINVAL : GW_OK;
}

/* <Filter/>, <Filter><Prefix/></Filter>, <Filter><Tag/></Filter> or
 * <Filter><And><Prefix/>?<Tag/>*</And></Filter>, the And with two
 * conditions at least. */
static int
s3_rx_filter(s3_rx_doc_t *d, s3_rx_rule_t *r, const s3_xml_node_t *f)
{
    const s3_xml_node_t  *c, *one = NULL;

    for (c = f->child; c != NULL; c = c->next) {
        if (s3_xml_once(&one, c) != GW_OK) {
            return GW_EINVAL;
        }
    }
    if (one == NULL) {
        r->filter_kind = S3_REPL_FILTER_EMPTY;
        return GW_OK;
    }
    if (s3_xml_is(one, "Prefix") && one->child == NULL) {
        r->filter_kind = S3_REPL_FILTER_PREFIX;
        r->fprefix = one;
        return GW_OK;
    }
    if (s3_xml_is(one, "Tag")) {
        r->filter_kind = S3_REPL_FILTER_TAG;
        return s3_filter_tag_read(d->pool, one, &r->tags, &r->ntags);
    }
    if (!s3_xml_is(one, "And")) {
        return GW_EINVAL;
    }
    r->filter_kind = S3_REPL_FILTER_AND;
    for (c = one->child; c != NULL; c = c->next) {
        if (s3_xml_is(c, "Prefix") && c->child == NULL) {
            if (s3_xml_once(&r->fprefix, c) != GW_OK) {
                return GW_EINVAL;
            }
        } else if (!s3_xml_is(c, "Tag") || s3_filter_tag_read(d->pool, c, &r->tags, &r->ntags) != GW_OK) {
            return GW_EINVAL;
        }
    }
    return r->ntags + (r->fprefix != NULL) >= 2 ? GW_OK : GW_EINVAL;
}

static int
s3_rx_destination(s3_rx_doc_t *d, s3_rx_rule_t *r, const s3_xml_node_t *dest)
{
    const s3_xml_node_t  *c;
    size_t               i;

    for (c = dest->child; c != NULL; c = c->next) {
        if (s3_xml_is(c, "Bucket")) {
            if (s3_xml_once(&r->bucket, c) != GW_OK) {
                return GW_EINVAL;
            }
        } else if (s3_xml_is(c, "StorageClass")) {
            if (s3_xml_once(&r->sclass, c) != GW_OK) {
                return GW_EINVAL;
            }
            for (i = 0; i < GW_NELEMS(s3_repl_classes); i++) {
                if (s3_xml_text_is(c, s3_repl_classes[i])) {
                    break;
                }
            }
            if (i == GW_NELEMS(s3_repl_classes)) {
                return GW_EINVAL;
            }
        } else if (s3_xml_is(c, "Account")
                   || s3_xml_is(c, "AccessControlTranslation")
                   || s3_xml_is(c, "EncryptionConfiguration")
                   || s3_xml_is(c, "ReplicationTime")
                   || s3_xml_is(c, "Metrics"))
        {
            s3_rx_unsupported(d, c);
        } else {
            return GW_EINVAL;
        }
    }
    return r->bucket != NULL ? GW_OK : GW_EINVAL;
}

static int
s3_rx_rule(s3_rx_doc_t *d, s3_rx_rule_t *r, const s3_xml_node_t *rule)
{
    const s3_xml_node_t  *c;
    int                  rc = GW_OK;

    memset(r, 0, sizeof(*r));
    r->prio = -1;
    for (c = rule->child; c != NULL && rc == GW_OK; c = c->next) {
        if (s3_xml_is(c, "ID")) {
            rc = s3_xml_once(&r->id, c);
        } else if (s3_xml_is(c, "Priority")) {
            rc = s3_xml_once(&r->priority, c);
            if (rc == GW_OK) {
                rc = s3_xml_int(c, INT32_MIN, INT32_MAX, &r->prio);
            }
        } else if (s3_xml_is(c, "Prefix")) {
            rc = s3_xml_once(&r->prefix, c);
        } else if (s3_xml_is(c, "Filter")) {
            rc = s3_xml_once(&r->filter, c);
            if (rc == GW_OK) {
                rc = s3_rx_filter(d, r, c);
            }
        } else if (s3_xml_is(c, "Status")) {
            rc = s3_xml_once(&r->status, c);
            if (rc == GW_OK) {
                rc = s3_rx_status(c);
            }
        } else if (s3_xml_is(c, "DeleteMarkerReplication")) {
            rc = s3_xml_once(&r->dmr, c);
            if (rc == GW_OK) {
                rc = s3_rx_status_box(c, 0, &r->dmr_status);
            }
        } else if (s3_xml_is(c, "ExistingObjectReplication")) {
            rc = s3_xml_once(&r->eor, c);
            if (rc == GW_OK) {
                rc = s3_rx_status_box(c, 1, &r->eor_status);
            }
        } else if (s3_xml_is(c, "Destination")) {
            rc = s3_xml_once(&r->dest, c);
            if (rc == GW_OK) {
                rc = s3_rx_destination(d, r, c);
            }
        } else if (s3_xml_is(c, "SourceSelectionCriteria")) {
            s3_rx_unsupported(d, c);
        } else {
            rc = GW_EINVAL;
        }
    }
    if (rc != GW_OK || r->status == NULL || r->dest == NULL
        || (r->prefix == NULL) == (r->filter == NULL))
    {
        return GW_EINVAL;     /* exactly one of the two filter forms */
    }
    return GW_OK;
}

/* The shape of the whole document into d. */
static int
s3_rx_doc(s3_rx_doc_t *d, const s3_xml_node_t *root)
{
    const s3_xml_node_t  *c;
    size_t               n = 0;

    if (root == NULL || root->next != NULL
        || !s3_xml_is(root, "ReplicationConfiguration"))
    {
        return GW_EINVAL;
    }
    for (c = root->child; c != NULL; c = c->next) {
        if (s3_xml_is(c, "Rule")) {
            n++;
        } else if (!s3_xml_is(c, "Role") || s3_xml_once(&d->role, c) != GW_OK
                   || c->child != NULL)
        {
            return GW_EINVAL;
        }
    }
    if (d->role == NULL || n == 0) {
        return GW_EINVAL;
    }
    d->rules = gw_pool_calloc(d->pool, n * sizeof(*d->rules));
    for (c = root->child; c != NULL; c = c->next) {
        if (s3_xml_is(c, "Rule")
            && s3_rx_rule(d, &d->rules[d->nrules++], c) != GW_OK)
        {
            return GW_EINVAL;
        }
    }
    return GW_OK;
}


static int
s3_repl_starts(gw_str_t s, gw_str_t prefix)
{
    return s.len >= prefix.len
           && (prefix.len == 0 || memcmp(s.base, prefix.base, prefix.len) == 0);
}

/* Destination/Bucket: "arn:aws:s3:::NAME" with a valid bucket name, not
 * the source. The name into *name. */
static int
s3_repl_check_bucket(gw_pool_t *pool, const s3_xml_node_t *b,
                     const char *source, gw_str_t *name, const char **msg)
{
    const size_t  alen = sizeof(S3_REPL_ARN) - 1;
    char         *s;

    if (b->len <= alen || memcmp(b->text, S3_REPL_ARN, alen) != 0) {
        *msg = "Invalid bucket ARN";
        return S3_ERR_INVALID_ARGUMENT;
    }
    s = gw_pool_strndup(pool, b->text + alen, b->len - alen);
    if (strlen(s) != b->len - alen || !s3_bucket_name_valid(s)) {
        *msg = "The specified bucket is not valid.";
        return S3_ERR_INVALID_ARGUMENT;
    }
    if (strcmp(s, source) == 0) {
        *msg = "Destination bucket cannot be the same as the source bucket.";
        return S3_ERR_INVALID_REQUEST;
    }
    name->base = s;
    name->len = b->len - alen;
    return S3_ERR_NONE;
}

/* The rule's own elements: the Id's length, the elements schema version
 * allows or requires, and the Priority's range. */
static int
s3_repl_check_elements(int version, const s3_rx_rule_t *r, const char **msg)
{
    if (r->id != NULL && r->id->len > S3_REPL_ID_MAX) {
        *msg = "Rule Id cannot be greater than 255";
        return S3_ERR_INVALID_ARGUMENT;
    }
    if (version == 1) {
        *msg = r->filter ? S3_REPL_SCHEMA_MSG("Filter", "cannot be used")
               : r->priority ? S3_REPL_SCHEMA_MSG("Priority", "cannot be used")
               : r->dmr ? S3_REPL_SCHEMA_MSG("DeleteMarkerReplication",
                                             "cannot be used")
               : r->eor ? S3_REPL_SCHEMA_MSG("ExistingObjectReplication",
                                             "cannot be used")
               : NULL;
    } else {
        *msg = r->priority == NULL
               ? S3_REPL_SCHEMA_MSG("Priority", "must be specified")
               : r->dmr == NULL
               ? S3_REPL_SCHEMA_MSG("DeleteMarkerReplication",
                                    "must be specified")
               : NULL;
    }
    if (*msg != NULL) {
        return S3_ERR_INVALID_REQUEST;
    }
    if (r->priority != NULL && r->prio < 0) {
        *msg = "Priority must be between 0 and 2147483647.";
        return S3_ERR_INVALID_REQUEST;
    }
    return S3_ERR_NONE;
}

/* The filter (V1: the rule's Prefix): the prefix's length and the tags.
 * Fills the filter's part of out. */
static int
s3_repl_check_filter(int version, const s3_rx_rule_t *r, s3_repl_rule_t *out,
                     const char **msg)
{
    const s3_xml_node_t  *pfx;
    int                   rc;

    pfx = version == 1 ? r->prefix : r->fprefix;
    if (pfx != NULL && pfx->len > S3_REPL_PREFIX_MAX) {
        *msg = "Rule prefix cannot be longer than maximum allowed key length "
               "of 1024";
        return S3_ERR_INVALID_ARGUMENT;
    }
    rc = s3_filter_tags_check(r->tags, r->ntags, msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    out->filter = version == 1 ? S3_REPL_FILTER_V1 : r->filter_kind;
    out->and_prefix = r->filter_kind == S3_REPL_FILTER_AND
                      && r->fprefix != NULL;
    out->prefix = pfx != NULL ? s3_xml_str(pfx) : gw_str_lit("");
    out->tags = r->tags;
    out->ntags = r->ntags;
    return S3_ERR_NONE;
}

/* DeleteMarkerReplication (always on in V1), which a Tag filter rules
 * out. Fills has_dmr and delete_markers. */
static int
s3_repl_check_delete_markers(int version, const s3_rx_rule_t *r,
                             s3_repl_rule_t *out, const char **msg)
{
    out->has_dmr = r->dmr != NULL;
    out->delete_markers = version == 1
                          || (r->dmr_status != NULL
                              && s3_xml_text_is(r->dmr_status, "Enabled"));
    if (out->delete_markers && r->ntags > 0) {
        *msg = "Delete marker replication is not supported if any Tag "
               "filter is specified. Please refer to S3 Developer Guide for "
               "more information.";
        return S3_ERR_INVALID_REQUEST;
    }
    return S3_ERR_NONE;
}

/* The Destination: its bucket, which in V1 must be the same for every
 * rule, and its storage class. */
static int
s3_repl_check_destination(gw_pool_t *pool, int version, const s3_rx_rule_t *r,
                          const char *source, s3_repl_rule_t *out,
                          const s3_repl_rule_t *before, size_t i,
                          const char **msg)
{
    int  rc;

    rc = s3_repl_check_bucket(pool, r->bucket, source, &out->dest_bucket,
                              msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    if (version == 1 && i > 0
        && !gw_str_eq(out->dest_bucket, before[0].dest_bucket))
    {
        *msg = "The destination bucket must be same for all rules";
        return S3_ERR_INVALID_REQUEST;
    }
    out->storage_class = r->sclass != NULL ? s3_xml_str(r->sclass)
                                           : gw_str_lit("");
    return S3_ERR_NONE;
}

/* The filled rule out against the i rules before it: Ids and priorities
 * are unique, and V1 prefixes do not overlap. */
static int
s3_repl_check_earlier(gw_pool_t *pool, int version, const s3_repl_rule_t *out,
                      const s3_repl_rule_t *before, size_t i, const char **msg)
{
    size_t  j;

    for (j = 0; j < i; j++) {
        if (out->id.len > 0 && gw_str_eq(out->id, before[j].id)) {
            *msg = "Rule Id must be unique";
            return S3_ERR_INVALID_ARGUMENT;
        }
        if (out->priority >= 0 && out->priority == before[j].priority) {
            *msg = gw_pool_sprintf(pool, "Found duplicate priority %" PRId64
                                   ".", out->priority);
            return S3_ERR_INVALID_REQUEST;
        }
        /* V1 has no priorities: at most one rule may match a key. */
        if (version == 1 && (s3_repl_starts(out->prefix, before[j].prefix)
                             || s3_repl_starts(before[j].prefix, out->prefix)))
        {
            *msg = gw_pool_sprintf(pool, "Found overlapping prefixes '%.*s' "
                                   "and '%.*s'", (int) before[j].prefix.len,
                                   before[j].prefix.base, (int) out->prefix.len,
                                   out->prefix.base);
            return S3_ERR_INVALID_REQUEST;
        }
    }
    return S3_ERR_NONE;
}

/* One rule of a configuration of schema version into out; rules[0..i)
 * are the rules before it, already checked. The order of the checks
 * decides which error a rule with several faults gets, so keep it. */
static int
s3_repl_check_rule(gw_pool_t *pool, int version, const s3_rx_rule_t *r,
                   const char *source, s3_repl_rule_t *out,
                   const s3_repl_rule_t *before, size_t i, const char **msg)
{
    int  rc;

    memset(out, 0, sizeof(*out));
    rc = s3_repl_check_elements(version, r, msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = s3_repl_check_filter(version, r, out, msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = s3_repl_check_delete_markers(version, r, out, msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    rc = s3_repl_check_destination(pool, version, r, source, out, before, i,
                                   msg);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    out->enabled = s3_xml_text_is(r->status, "Enabled");
    out->id = r->id != NULL ? s3_xml_str(r->id) : gw_str_lit("");
    out->priority = r->priority != NULL ? r->prio : -1;
    out->has_existing = r->eor != NULL;
    out->existing = r->eor_status != NULL
                    && s3_xml_text_is(r->eor_status, "Enabled");
    return s3_repl_check_earlier(pool, version, out, before, i, msg);
}

int
s3_replication_parse(gw_pool_t *pool, const char *doc, size_t len,
                     const char *source, s3_repl_conf_t **out,
                     const char **msg)
{
    const s3_xml_node_t  *root;
    s3_rx_doc_t      d;
    s3_repl_conf_t  *c;
    size_t           i, j;
    int              rc;

    *msg = NULL;
    *out = NULL;
    if (s3_xml_tree(pool, doc, len, &root) != GW_OK) {
        return S3_ERR_MALFORMED_XML;
    }
    memset(&d, 0, sizeof(d));
    d.pool = pool;
    if (s3_rx_doc(&d, root) != GW_OK) {
        return S3_ERR_MALFORMED_XML;
    }
    if (d.unsupported != NULL) {
        *msg = gw_pool_sprintf(pool, "The replication configuration element "
                               "%s is not implemented by this server",
                               d.unsupported);
        return S3_ERR_NOT_IMPLEMENTED;
    }
    if (d.nrules > S3_REPL_RULES_MAX) {
        *msg = "Number of defined replication rules cannot exceed 1000";
        return S3_ERR_INVALID_REQUEST;
    }
    if (d.role->len > S3_REPL_ROLE_MAX) {
        *msg = "Invalid Role specified in replication configuration";
        return S3_ERR_INVALID_ARGUMENT;
    }

    c = gw_pool_calloc(pool, sizeof(*c));
    /* S3: without a Filter the configuration is the earlier version. */
    c->version = 2;
    for (i = 0; i < d.nrules; i++) {
        if (d.rules[i].filter == NULL) {
            c->version = 1;
        }
    }
    c->role = s3_xml_str(d.role);
    c->rules = gw_pool_calloc(pool, d.nrules * sizeof(*c->rules));
    c->nrules = d.nrules;
    for (i = 0; i < d.nrules; i++) {
        rc = s3_repl_check_rule(pool, c->version, &d.rules[i], source,
                                &c->rules[i], c->rules, i, msg);
        if (rc != S3_ERR_NONE) {
            return rc;
        }
    }
    for (i = 0; i < c->nrules; i++) {
        if (c->rules[i].id.len > 0) {
            continue;
        }
        do {
            c->rules[i].id = s3_filter_new_id(pool);
            for (j = 0; j < c->nrules; j++) {
                if (j != i && gw_str_eq(c->rules[i].id,
                                             c->rules[j].id))
                {
                    break;
                }
            }
        } while (j < c->nrules);
    }
    *out = c;
    return S3_ERR_NONE;
}


/* ==== the stored form ==== */

#define S3_REPL_FORMAT        1

#define S3_REPL_F_VERSION     1
#define S3_REPL_F_ROLE        2
#define S3_REPL_F_RULE        3

#define S3_REPL_R_ID          1
#define S3_REPL_R_FLAGS       2
#define S3_REPL_R_PRIORITY    3
#define S3_REPL_R_FILTER      4
#define S3_REPL_R_PREFIX      5
#define S3_REPL_R_TAG         6
#define S3_REPL_R_DEST        7
#define S3_REPL_R_CLASS       8

#define S3_REPL_FL_ENABLED    0x01
#define S3_REPL_FL_DM         0x02
#define S3_REPL_FL_HAS_DMR    0x04
#define S3_REPL_FL_HAS_EOR    0x08
#define S3_REPL_FL_EOR        0x10
#define S3_REPL_FL_AND_PREFIX 0x20

typedef struct {
    gw_pool_t      *pool;
    unsigned char  *buf;
    size_t          len, cap;
} s3_repl_w_t;

static unsigned char *
s3_repl_w_reserve(s3_repl_w_t *w, size_t n)
{
    unsigned char  *nb;
    size_t          cap;

    if (w->len + n > w->cap) {
        cap = w->cap ? w->cap : 256;
        while (cap < w->len + n) {
            cap *= 2;
        }
        /* Pool memory cannot grow in place (as s3/xml.c). */
        nb = gw_pool_alloc(w->pool, cap);
        if (w->len > 0) {
            memcpy(nb, w->buf, w->len);
        }
        w->buf = nb;
        w->cap = cap;
    }
    w->len += n;
    return w->buf + w->len - n;
}

static void
s3_repl_w_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
    p[2] = (unsigned char) (v >> 16);
    p[3] = (unsigned char) (v >> 24);
}

static uint32_t
s3_repl_r_u32(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}

/* A field of the given bytes; returns the offset of its length, so a
 * field whose bytes follow (a rule) can have it set afterwards. */
static size_t
s3_repl_w_field(s3_repl_w_t *w, unsigned tag, const void *a, size_t alen)
{
    unsigned char  *p = s3_repl_w_reserve(w, 5 + alen);
    size_t          at = w->len - alen - 4;

    p[0] = (unsigned char) tag;
    s3_repl_w_u32(p + 1, (uint32_t) alen);
    if (alen > 0) {
        memcpy(p + 5, a, alen);
    }
    return at;
}

static void
s3_repl_w_str(s3_repl_w_t *w, unsigned tag, gw_str_t s)
{
    s3_repl_w_field(w, tag, s.base, s.len);
}

/* A tag: u32 key length | key | value, as one field. */
static void
s3_repl_w_tag(s3_repl_w_t *w, const gw_kv_t *t)
{
    unsigned char  *p;
    size_t          n = 4 + t->name.len + t->value.len;

    p = s3_repl_w_reserve(w, 5 + n);
    p[0] = S3_REPL_R_TAG;
    s3_repl_w_u32(p + 1, (uint32_t) n);
    s3_repl_w_u32(p + 5, (uint32_t) t->name.len);
    if (t->name.len > 0) {
        memcpy(p + 9, t->name.base, t->name.len);
    }
    if (t->value.len > 0) {
        memcpy(p + 9 + t->name.len, t->value.base, t->value.len);
    }
}

static void
s3_repl_w_byte(s3_repl_w_t *w, unsigned tag, unsigned v)
{
    unsigned char  b = (unsigned char) v;

    s3_repl_w_field(w, tag, &b, 1);
}

gw_str_t
s3_replication_encode(gw_pool_t *pool, const s3_repl_conf_t *c)
{
    const s3_repl_rule_t  *r;
    s3_repl_w_t            w;
    unsigned char          u[4];
    size_t                 i, k, at;
    unsigned               fl;
    gw_str_t               out;

    memset(&w, 0, sizeof(w));
    w.pool = pool;
    *s3_repl_w_reserve(&w, 1) = S3_REPL_FORMAT;
    s3_repl_w_byte(&w, S3_REPL_F_VERSION, (unsigned) c->version);
    s3_repl_w_str(&w, S3_REPL_F_ROLE, c->role);
    for (i = 0; i < c->nrules; i++) {
        r = &c->rules[i];
        /* The rule's length is known once its fields are written. */
        at = s3_repl_w_field(&w, S3_REPL_F_RULE, NULL, 0);
        s3_repl_w_str(&w, S3_REPL_R_ID, r->id);
        fl = (r->enabled ? S3_REPL_FL_ENABLED : 0)
             | (r->delete_markers ? S3_REPL_FL_DM : 0)
             | (r->has_dmr ? S3_REPL_FL_HAS_DMR : 0)
             | (r->has_existing ? S3_REPL_FL_HAS_EOR : 0)
             | (r->existing ? S3_REPL_FL_EOR : 0)
             | (r->and_prefix ? S3_REPL_FL_AND_PREFIX : 0);
        s3_repl_w_byte(&w, S3_REPL_R_FLAGS, fl);
        if (r->priority >= 0) {
            s3_repl_w_u32(u, (uint32_t) r->priority);
            s3_repl_w_field(&w, S3_REPL_R_PRIORITY, u, 4);
        }
        s3_repl_w_byte(&w, S3_REPL_R_FILTER, (unsigned) r->filter);
        s3_repl_w_str(&w, S3_REPL_R_PREFIX, r->prefix);
        for (k = 0; k < r->ntags; k++) {
            s3_repl_w_tag(&w, &r->tags[k]);
        }
        s3_repl_w_str(&w, S3_REPL_R_DEST, r->dest_bucket);
        if (r->storage_class.len > 0) {
            s3_repl_w_str(&w, S3_REPL_R_CLASS, r->storage_class);
        }
        s3_repl_w_u32(w.buf + at, (uint32_t) (w.len - at - 4));
    }
    *s3_repl_w_reserve(&w, 1) = 0;
    out.base = (const char *) w.buf;
    out.len = w.len;
    return out;
}

/* Reads one field at *pos of buf[0..end): GW_OK with its tag and bytes,
 * GW_DONE at the end byte, GW_ECORRUPT. */
static int
s3_repl_r_field(const unsigned char *buf, size_t end, size_t *pos,
                unsigned *tag, const unsigned char **val, size_t *vlen)
{
    uint32_t  n;

    if (*pos >= end) {
        return GW_ECORRUPT;
    }
    *tag = buf[*pos];
    if (*tag == 0) {
        (*pos)++;
        return GW_DONE;
    }
    if (end - *pos < 5) {
        return GW_ECORRUPT;
    }
    n = s3_repl_r_u32(buf + *pos + 1);
    if (n > end - *pos - 5) {
        return GW_ECORRUPT;
    }
    *val = buf + *pos + 5;
    *vlen = n;
    *pos += 5 + (size_t) n;
    return GW_OK;
}

/* One rule's fields (the whole of val; a rule has no end byte of its own:
 * its field length bounds it). */
static int
s3_repl_decode_rule(gw_pool_t *pool, const unsigned char *val, size_t vlen,
                    s3_repl_rule_t *r)
{
    const unsigned char  *v;
    size_t                pos = 0, n, ntags = 0;
    unsigned              tag, seen = 0;
    uint32_t              klen;

    memset(r, 0, sizeof(*r));
    r->priority = -1;
    /* Count the tags first: one allocation. */
    while (pos < vlen) {
        if (s3_repl_r_field(val, vlen, &pos, &tag, &v, &n) != GW_OK) {
            return GW_ECORRUPT;
        }
        ntags += tag == S3_REPL_R_TAG;
    }
    if (ntags > 0) {
        r->tags = gw_pool_alloc(pool, ntags * sizeof(*r->tags));
    }
    pos = 0;
    while (pos < vlen) {
        s3_repl_r_field(val, vlen, &pos, &tag, &v, &n);
        switch (tag) {
        case S3_REPL_R_ID:
            r->id.base = (const char *) v;
            r->id.len = n;
            break;
        case S3_REPL_R_FLAGS:
            if (n != 1) {
                return GW_ECORRUPT;
            }
            r->enabled = (v[0] & S3_REPL_FL_ENABLED) != 0;
            r->delete_markers = (v[0] & S3_REPL_FL_DM) != 0;
            r->has_dmr = (v[0] & S3_REPL_FL_HAS_DMR) != 0;
            r->has_existing = (v[0] & S3_REPL_FL_HAS_EOR) != 0;
            r->existing = (v[0] & S3_REPL_FL_EOR) != 0;
            r->and_prefix = (v[0] & S3_REPL_FL_AND_PREFIX) != 0;
            break;
        case S3_REPL_R_PRIORITY:
            if (n != 4 || s3_repl_r_u32(v) > S3_REPL_PRIORITY_MAX) {
                return GW_ECORRUPT;
            }
            r->priority = s3_repl_r_u32(v);
            break;
        case S3_REPL_R_FILTER:
            if (n != 1 || v[0] > S3_REPL_FILTER_AND) {
                return GW_ECORRUPT;
            }
            r->filter = v[0];
            break;
        case S3_REPL_R_PREFIX:
            r->prefix.base = (const char *) v;
            r->prefix.len = n;
            break;
        case S3_REPL_R_TAG:
            if (n < 4 || (klen = s3_repl_r_u32(v)) > n - 4) {
                return GW_ECORRUPT;
            }
            r->tags[r->ntags].name.base = (const char *) v + 4;
            r->tags[r->ntags].name.len = klen;
            r->tags[r->ntags].value.base = (const char *) v + 4 + klen;
            r->tags[r->ntags].value.len = n - 4 - klen;
            r->ntags++;
            break;
        case S3_REPL_R_DEST:
            r->dest_bucket.base = (const char *) v;
            r->dest_bucket.len = n;
            break;
        case S3_REPL_R_CLASS:
            r->storage_class.base = (const char *) v;
            r->storage_class.len = n;
            break;
        default:
            continue;           /* a field of a later s3gw */
        }
        seen |= 1u << tag;
    }
    if ((seen & (1u << S3_REPL_R_ID | 1u << S3_REPL_R_FLAGS
                 | 1u << S3_REPL_R_FILTER | 1u << S3_REPL_R_DEST))
        != (1u << S3_REPL_R_ID | 1u << S3_REPL_R_FLAGS
            | 1u << S3_REPL_R_FILTER | 1u << S3_REPL_R_DEST)
        || r->dest_bucket.len == 0)
    {
        return GW_ECORRUPT;
    }
    if (r->prefix.base == NULL) {
        r->prefix = gw_str_lit("");
    }
    if (r->storage_class.base == NULL) {
        r->storage_class = gw_str_lit("");
    }
    return GW_OK;
}

int
s3_replication_decode(gw_pool_t *pool, const char *buf, size_t len,
                      s3_repl_conf_t **out)
{
    const unsigned char  *b = (const unsigned char *) buf, *v;
    s3_repl_conf_t       *c;
    size_t                pos, n, nrules = 0;
    unsigned              tag;
    int                   rc, has_role = 0;

    *out = NULL;
    if (len < 2 || b[0] != S3_REPL_FORMAT) {
        return GW_ECORRUPT;
    }
    for (pos = 1; (rc = s3_repl_r_field(b, len, &pos, &tag, &v, &n))
                  == GW_OK; )
    {
        nrules += tag == S3_REPL_F_RULE;
    }
    if (rc != GW_DONE || nrules == 0) {
        return GW_ECORRUPT;
    }
    c = gw_pool_calloc(pool, sizeof(*c));
    c->rules = gw_pool_calloc(pool, nrules * sizeof(*c->rules));
    for (pos = 1; s3_repl_r_field(b, len, &pos, &tag, &v, &n) == GW_OK; ) {
        switch (tag) {
        case S3_REPL_F_VERSION:
            if (n != 1 || (v[0] != 1 && v[0] != 2)) {
                return GW_ECORRUPT;
            }
            c->version = v[0];
            break;
        case S3_REPL_F_ROLE:
            c->role.base = (const char *) v;
            c->role.len = n;
            has_role = 1;
            break;
        case S3_REPL_F_RULE:
            if (s3_repl_decode_rule(pool, v, n, &c->rules[c->nrules])
                != GW_OK)
            {
                return GW_ECORRUPT;
            }
            c->nrules++;
            break;
        default:
            break;              /* a field of a later s3gw */
        }
    }
    if (c->version == 0 || !has_role) {
        return GW_ECORRUPT;
    }
    *out = c;
    return GW_OK;
}


static void
s3_repl_xml_status(s3_xml_t *x, const char *box, int enabled)
{
    s3_xml_open(x, box);
    s3_xml_elem_str(x, "Status", enabled ? "Enabled" : "Disabled");
    s3_xml_close(x, box);
}

void
s3_replication_xml(const s3_repl_conf_t *c, s3_xml_t *x, gw_pool_t *pool)
{
    const s3_repl_rule_t  *r;
    size_t                 i, k;

    s3_xml_begin(x, pool, "ReplicationConfiguration");
    s3_xml_elem(x, "Role", c->role.base, c->role.len);
    /* Each rule's elements in the order of S3's schema. */
    for (i = 0; i < c->nrules; i++) {
        r = &c->rules[i];
        s3_xml_open(x, "Rule");
        s3_xml_elem(x, "ID", r->id.base, r->id.len);
        if (r->priority >= 0) {
            s3_xml_elemf(x, "Priority", "%" PRId64, r->priority);
        }
        switch (r->filter) {
        case S3_REPL_FILTER_V1:
            s3_xml_elem(x, "Prefix", r->prefix.base, r->prefix.len);
            break;
        case S3_REPL_FILTER_EMPTY:
            s3_xml_raw(x, "<Filter></Filter>", 17);
            break;
        case S3_REPL_FILTER_PREFIX:
            s3_xml_open(x, "Filter");
            s3_xml_elem(x, "Prefix", r->prefix.base, r->prefix.len);
            s3_xml_close(x, "Filter");
            break;
        case S3_REPL_FILTER_TAG:
            s3_xml_open(x, "Filter");
            s3_filter_tag_xml(x, &r->tags[0]);
            s3_xml_close(x, "Filter");
            break;
        default:
            s3_xml_open(x, "Filter");
            s3_xml_open(x, "And");
            if (r->and_prefix) {
                s3_xml_elem(x, "Prefix", r->prefix.base, r->prefix.len);
            }
            for (k = 0; k < r->ntags; k++) {
                s3_filter_tag_xml(x, &r->tags[k]);
            }
            s3_xml_close(x, "And");
            s3_xml_close(x, "Filter");
        }
        s3_xml_elem_str(x, "Status", r->enabled ? "Enabled" : "Disabled");
        if (r->has_existing) {
            s3_repl_xml_status(x, "ExistingObjectReplication", r->existing);
        }
        s3_xml_open(x, "Destination");
        s3_xml_open(x, "Bucket");
        s3_xml_raw(x, S3_REPL_ARN, sizeof(S3_REPL_ARN) - 1);
        s3_xml_text(x, r->dest_bucket.base, r->dest_bucket.len);
        s3_xml_close(x, "Bucket");
        if (r->storage_class.len > 0) {
            s3_xml_elem(x, "StorageClass", r->storage_class.base,
                        r->storage_class.len);
        }
        s3_xml_close(x, "Destination");
        if (r->has_dmr) {
            s3_repl_xml_status(x, "DeleteMarkerReplication",
                               r->delete_markers);
        }
        s3_xml_close(x, "Rule");
    }
    s3_xml_end(x, "ReplicationConfiguration");
}


/* ==== matching ==== */

static int
s3_repl_rule_matches(const s3_repl_rule_t *r, gw_str_t key,
                     const gw_kv_t *tags, size_t ntags)
{
    if (!r->enabled || !s3_repl_starts(key, r->prefix)) {
        return 0;
    }
    return s3_filter_tags_match(r->tags, r->ntags, tags, ntags);
}

/* a decides before b: the higher priority, or (V1, where at most one rule
 * matches anyway) the earlier rule. */
static int
s3_repl_before(const s3_repl_rule_t *a, const s3_repl_rule_t *b)
{
    return b == NULL || a->priority > b->priority;
}

const s3_repl_rule_t *
s3_replication_match(const s3_repl_conf_t *c, gw_str_t key,
                     const gw_kv_t *tags, size_t ntags)
{
    const s3_repl_rule_t  *best = NULL;
    size_t                 i;

    for (i = 0; i < c->nrules; i++) {
        if (s3_repl_rule_matches(&c->rules[i], key, tags, ntags)
            && s3_repl_before(&c->rules[i], best))
        {
            best = &c->rules[i];
        }
    }
    return best;
}

size_t
s3_replication_match_all(const s3_repl_conf_t *c, gw_str_t key,
                         const gw_kv_t *tags, size_t ntags,
                         const s3_repl_rule_t **out, size_t cap)
{
    const s3_repl_rule_t  *r;
    size_t                 i, j, n = 0;

    for (i = 0; i < c->nrules; i++) {
        r = &c->rules[i];
        if (!s3_repl_rule_matches(r, key, tags, ntags)) {
            continue;
        }
        for (j = 0; j < n; j++) {
            if (gw_str_eq(out[j]->dest_bucket, r->dest_bucket)) {
                break;
            }
        }
        if (j < n) {
            if (s3_repl_before(r, out[j])) {
                out[j] = r;
            }
            continue;
        }
        if (n < cap) {
            out[n++] = r;
        }
    }
    /* Highest priority first: insertion sort, n is small. */
    for (i = 1; i < n; i++) {
        for (j = i; j > 0 && s3_repl_before(out[j], out[j - 1]); j--) {
            r = out[j];
            out[j] = out[j - 1];
            out[j - 1] = r;
        }
    }
    return n;
}

int
s3_replication_match_delete(const s3_repl_conf_t *c, gw_str_t key,
                            const gw_kv_t *tags, size_t ntags,
                            const s3_repl_rule_t **rule)
{
    const s3_repl_rule_t  *r = s3_replication_match(c, key, tags, ntags);

    if (rule != NULL) {
        *rule = r;
    }
    return r != NULL && r->delete_markers;
}
