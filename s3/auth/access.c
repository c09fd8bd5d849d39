/* s3/auth/access.c: the access decision (see access.h for the rules), and
 * the gathering of its inputs for a request: the bucket's owner, ACL and
 * policy, the object's owner, ACL and tags, and the condition keys of the
 * request context. Also the ACL and tags a request gives what it creates. */
#include "s3/auth/access.h"
#include "s3/auth/sigv4.h"
#include "s3/auth/tags.h"
#include "s3/cors.h"
#include "s3/version.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <strings.h>
#include <time.h>

#include "llhttp.h"

/* How an action finds its owner and its ACL. */
#define S3_ACT_BUCKET  1   /* the bucket: bucket owner, bucket ACL */
#define S3_ACT_WRITE   2   /* a write into the bucket: the same */
#define S3_ACT_OBJECT  3   /* an object: object owner, object ACL */
#define S3_ACT_UPLOAD  4   /* a multipart upload: bucket owner or initiator,
                            * bucket ACL */
#define S3_ACT_POLICY  5   /* the bucket policy: the bucket owner's account
                            * only */

typedef struct {
    const char  *name;     /* without "s3:" */
    int          kind;
    unsigned     perm;     /* the ACL permission that grants it, or 0 */
} s3_action_t;

/* Amazon S3's "Mapping of ACL permissions and access policy permissions". */
static const s3_action_t  s3_actions[] = {
    { "GetObject",                   S3_ACT_OBJECT, S3_PERM_READ },
    { "GetObjectVersion",            S3_ACT_OBJECT, S3_PERM_READ },
    { "GetObjectAttributes",         S3_ACT_OBJECT, S3_PERM_READ },
    { "GetObjectVersionAttributes",  S3_ACT_OBJECT, S3_PERM_READ },
    { "GetObjectAcl",                S3_ACT_OBJECT, S3_PERM_READ_ACP },
    { "PutObjectAcl",                S3_ACT_OBJECT, S3_PERM_WRITE_ACP },
    { "GetObjectVersionAcl",         S3_ACT_OBJECT, S3_PERM_READ_ACP },
    { "PutObjectVersionAcl",         S3_ACT_OBJECT, S3_PERM_WRITE_ACP },
    { "GetObjectTagging",            S3_ACT_OBJECT, 0 },
    { "PutObjectTagging",            S3_ACT_OBJECT, 0 },
    { "DeleteObjectTagging",         S3_ACT_OBJECT, 0 },
    { "GetObjectVersionTagging",     S3_ACT_OBJECT, 0 },
    { "PutObjectVersionTagging",     S3_ACT_OBJECT, 0 },
    { "DeleteObjectVersionTagging",  S3_ACT_OBJECT, 0 },
    { "PutObject",                   S3_ACT_WRITE,  S3_PERM_WRITE },
    { "DeleteObject",                S3_ACT_WRITE,  S3_PERM_WRITE },
    { "DeleteObjectVersion",         S3_ACT_WRITE,  S3_PERM_WRITE },
    { "AbortMultipartUpload",        S3_ACT_UPLOAD, S3_PERM_WRITE },
    { "ListMultipartUploadParts",    S3_ACT_UPLOAD, 0 },
    { "ListBucket",                  S3_ACT_BUCKET, S3_PERM_READ },
    { "ListBucketVersions",          S3_ACT_BUCKET, S3_PERM_READ },
    { "ListBucketMultipartUploads",  S3_ACT_BUCKET, S3_PERM_READ },
    { "GetBucketAcl",                S3_ACT_BUCKET, S3_PERM_READ_ACP },
    { "PutBucketAcl",                S3_ACT_BUCKET, S3_PERM_WRITE_ACP },
    { "GetBucketLocation",           S3_ACT_BUCKET, 0 },
    { "GetBucketVersioning",         S3_ACT_BUCKET, 0 },
    { "PutBucketVersioning",         S3_ACT_BUCKET, 0 },
    { "DeleteBucket",                S3_ACT_BUCKET, 0 },
    { "GetBucketPolicy",             S3_ACT_POLICY, 0 },
    { "PutBucketPolicy",             S3_ACT_POLICY, 0 },
    { "DeleteBucketPolicy",          S3_ACT_POLICY, 0 },
    /* Put also deletes a configuration, as in S3. */
    { "GetReplicationConfiguration", S3_ACT_BUCKET, 0 },
    { "PutReplicationConfiguration", S3_ACT_BUCKET, 0 },
    { "GetBucketCORS",               S3_ACT_BUCKET, 0 },
    { "PutBucketCORS",               S3_ACT_BUCKET, 0 },
    { "GetBucketWebsite",            S3_ACT_BUCKET, 0 },
    { "PutBucketWebsite",            S3_ACT_BUCKET, 0 },
    { "DeleteBucketWebsite",         S3_ACT_BUCKET, 0 },
    /* Put also deletes a lifecycle configuration, as in S3. */
    { "GetLifecycleConfiguration",   S3_ACT_BUCKET, 0 },
    { "PutLifecycleConfiguration",   S3_ACT_BUCKET, 0 },
    { "GetBucketTagging",            S3_ACT_BUCKET, 0 },
    { "PutBucketTagging",            S3_ACT_BUCKET, 0 },
    /* Delete takes Put for both, as in S3. */
    { "GetBucketOwnershipControls",  S3_ACT_BUCKET, 0 },
    { "PutBucketOwnershipControls",  S3_ACT_BUCKET, 0 },
    { "GetBucketPublicAccessBlock",  S3_ACT_BUCKET, 0 },
    { "PutBucketPublicAccessBlock",  S3_ACT_BUCKET, 0 },
    { "GetBucketPolicyStatus",       S3_ACT_BUCKET, 0 },
    /* A replica written by another server's replication (see
     * s3_access_replica); ACLs grant it to nobody. */
    { "ReplicateObject",             S3_ACT_WRITE,  0 },
};

static const s3_action_t *
s3_action_find(const char *action)
{
    size_t  i;

    if (strncmp(action, "s3:", 3) == 0) {
        action += 3;
    }
    for (i = 0; i < GW_NELEMS(s3_actions); i++) {
        if (strcasecmp(s3_actions[i].name, action) == 0) {
            return &s3_actions[i];
        }
    }
    return NULL;
}

int
s3_access_known(const char *action)
{
    return s3_action_find(action) != NULL;
}

static const char *
s3_perm_name(unsigned perm)
{
    switch (perm) {
    case S3_PERM_READ:      return "READ";
    case S3_PERM_WRITE:     return "WRITE";
    case S3_PERM_READ_ACP:  return "READ_ACP";
    case S3_PERM_WRITE_ACP: return "WRITE_ACP";
    default:                return "FULL_CONTROL";
    }
}

int
s3_access_decide(const s3_access_t *a, char *why, size_t whylen)
{
    const s3_action_t  *act = s3_action_find(a->action);
    const char         *caller = a->who->name ? a->who->canonical_id : NULL;
    const char         *owner, *which = NULL, *grant = NULL;
    const s3_acl_t     *acl;
    int                 verdict = S3_POLICY_NONE, is_owner, restricted = 0;
    char                scratch[8];

    if (why == NULL) {
        why = scratch;
        whylen = sizeof(scratch);
    }
    if (a->policy != NULL) {
        verdict = s3_policy_eval(a->policy, a->who, a->action, a->resource,
                                 a->ctx, &which);
    }
    if (a->restrict_policy && verdict == S3_POLICY_ALLOW
        && (caller == NULL || a->bucket_owner == NULL
            || strcmp(caller, a->bucket_owner) != 0))
    {
        /* Every user is an account of its own: only the bucket owner is in
         * the bucket owner's account. */
        verdict = S3_POLICY_NONE;
        restricted = 1;
    }

    if (act == NULL) {
        owner = a->bucket_owner;
        acl = NULL;
    } else if (act->kind == S3_ACT_OBJECT && a->object_owner != NULL) {
        owner = a->object_owner;
        acl = a->object_acl;
    } else if (act->kind == S3_ACT_OBJECT) {
        owner = a->bucket_owner;
        acl = NULL;             /* no object: no object ACL grants anything */
    } else {
        owner = a->bucket_owner;
        acl = a->bucket_acl;
    }
    is_owner = caller != NULL && owner != NULL && strcmp(caller, owner) == 0;
    if (!is_owner && act != NULL && act->kind == S3_ACT_UPLOAD
        && caller != NULL && a->initiator != NULL)
    {
        is_owner = strcmp(caller, a->initiator) == 0;
    }

    if (act != NULL && act->kind == S3_ACT_POLICY) {
        /* Only the bucket owner's account manages the policy, and a Deny
         * cannot lock it out. Another account that a policy allows gets
         * 405, as S3 answers it. */
        if (is_owner) {
            snprintf(why, whylen, "bucket owner");
            return S3_ACCESS_ALLOW;
        }
        if (verdict == S3_POLICY_ALLOW) {
            snprintf(why, whylen, "policy statement %s allows, but not the "
                     "bucket owner", which);
            return S3_ACCESS_NOT_OWNER;
        }
        snprintf(why, whylen, verdict == S3_POLICY_DENY
                 ? "policy statement %s denies" : "not the bucket owner",
                 which);
        return S3_ACCESS_DENY;
    }

    if (verdict == S3_POLICY_DENY) {
        snprintf(why, whylen, "policy statement %s denies", which);
        return S3_ACCESS_DENY;
    }
    if (is_owner) {
        snprintf(why, whylen, "owner");
        return S3_ACCESS_ALLOW;
    }
    if (verdict == S3_POLICY_ALLOW
        && !(act != NULL && act->kind == S3_ACT_OBJECT
             && a->object_owner != NULL && a->bucket_owner != NULL
             && strcmp(a->object_owner, a->bucket_owner) != 0))
    {
        snprintf(why, whylen, "policy statement %s allows", which);
        return S3_ACCESS_ALLOW;
    }
    if (act != NULL && act->perm != 0 && acl != NULL
        && (s3_acl_perms(acl, caller, &grant) & act->perm) == act->perm)
    {
        snprintf(why, whylen, "%s ACL: %s (%s needed)",
                 acl == a->object_acl ? "object" : "bucket", grant,
                 s3_perm_name(act->perm));
        return S3_ACCESS_ALLOW;
    }
    snprintf(why, whylen, verdict == S3_POLICY_ALLOW
             ? "the bucket policy cannot grant another owner's object"
             : restricted ? "RestrictPublicBuckets: the public policy "
                            "allows only the bucket owner's account"
             : "nothing allows it");
    return S3_ACCESS_DENY;
}

/* ==== the inputs of one request ==== */

static const char *
s3_dir_id_by_email(void *ud, const char *email, size_t len)
{
    const gw_conf_t  *cf = ud;
    size_t            i;

    for (i = 0; i < cf->nusers; i++) {
        if (cf->users[i].email != NULL && strlen(cf->users[i].email) == len
            && strncasecmp(cf->users[i].email, email, len) == 0)
        {
            return cf->users[i].canonical_id;
        }
    }
    return NULL;
}

static const char *
s3_dir_name_by_id(void *ud, const char *id)
{
    const gw_conf_t  *cf = ud;
    size_t            i;

    for (i = 0; i < cf->nusers; i++) {
        if (strcmp(cf->users[i].canonical_id, id) == 0) {
            return cf->users[i].display_name;
        }
    }
    return NULL;
}

void
s3_acl_dir(s3_req_t *r, s3_acl_dir_t *dir)
{
    dir->id_by_email = s3_dir_id_by_email;
    dir->name_by_id = s3_dir_name_by_id;
    dir->ud = (void *) r->ctx->cf;
}

/* ==== compiled policies ====
 *
 * A bucket's policy is kept as JSON in the index; compiling it costs a
 * hundred microseconds for a few kilobytes, more than the rest of a GET.
 * So each process keeps the compiled form of the last policy seen per
 * bucket (one slot per hash value), and reuses it while the stored text is
 * byte for byte the same: another worker process, or this one, changing
 * the policy changes the text, so nothing needs invalidating. A request
 * holds a reference until its pool goes, since DeleteObjects decides again
 * in a later loop turn, after the slot may have been taken. */

struct s3_policy_cache_entry_s {
    char          bucket[STORE_BUCKET_MAX + 1];
    char         *text;
    size_t        len;
    s3_policy_t  *policy;
    unsigned      refs;          /* the slot's, plus one per request */
};

static void
s3_policy_entry_release(void *data)
{
    s3_policy_cache_entry_t  *e = data;

    if (--e->refs == 0) {
        s3_policy_free(e->policy);
        gw_free(e->text);
        gw_free(e);
    }
}

void
s3_access_cache_free(s3_ctx_t *ctx)
{
    size_t  i;

    s3_cors_cache_free(ctx);     /* the other per-process cache of ctx */
    for (i = 0; i < S3_POLICY_CACHE; i++) {
        if (ctx->policies[i] != NULL) {
            s3_policy_entry_release(ctx->policies[i]);
            ctx->policies[i] = NULL;
        }
    }
}

/* The compiled policy of bucket whose stored text is v, held by r's pool:
 * GW_OK, or GW_EINVAL with S3's reason in why. */
static int
s3_policy_compiled(s3_req_t *r, const char *bucket, gw_str_t v,
                   s3_policy_t **out, char *why, size_t whylen)
{
    s3_policy_cache_entry_t  **slot, *e;
    size_t                     h = 5381, i;
    int                        rc;

    for (i = 0; bucket[i]; i++) {
        h = h * 33 + (unsigned char) bucket[i];
    }
    slot = &r->ctx->policies[h % S3_POLICY_CACHE];
    e = *slot;
    if (e == NULL || strcmp(e->bucket, bucket) != 0 || e->len != v.len
        || memcmp(e->text, v.base, v.len) != 0)
    {
        e = gw_calloc(1, sizeof(*e));
        rc = s3_policy_parse(v.base, v.len, bucket, NULL, NULL, &e->policy,
                             why, whylen);
        if (rc != GW_OK) {
            gw_free(e);
            return rc;
        }
        snprintf(e->bucket, sizeof(e->bucket), "%s", bucket);
        e->text = gw_alloc(v.len + 1);
        memcpy(e->text, v.base, v.len);
        e->len = v.len;
        e->refs = 1;
        if (*slot != NULL) {
            s3_policy_entry_release(*slot);
        }
        *slot = e;
    }
    e->refs++;
    gw_pool_cleanup_add(r->pool, s3_policy_entry_release, e);
    *out = e->policy;
    return GW_OK;
}

/* The bucket's Object Ownership and Block Public Access documents into ba
 * (absent: ObjectWriter, no flags). */
static int
s3_access_controls(s3_req_t *r, const char *bucket, s3_bucket_access_t *ba)
{
    gw_str_t  v;
    int       rc;

    ba->ownership = S3_OWNERSHIP_WRITER;
    rc = store_bconf_get(r->ctx->store, bucket, STORE_BCONF_OWNERSHIP,
                         r->pool, &v);
    if (rc == GW_OK) {
        rc = s3_ownership_decode(v.base, v.len, &ba->ownership);
        ba->has_ownership = 1;
    }
    if (rc == GW_OK || rc == GW_ENOTFOUND) {
        rc = store_bconf_get(r->ctx->store, bucket, STORE_BCONF_PAB, r->pool,
                             &v);
        if (rc == GW_OK) {
            rc = s3_pab_decode(v.base, v.len, &ba->pab);
            ba->has_pab = 1;
        }
    }
    if (rc != GW_OK && rc != GW_ENOTFOUND) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket \"%s\": its ownership "
               "or public access block does not read", bucket);
        return S3_ERR_INTERNAL_ERROR;
    }
    ba->policy_public = ba->policy != NULL && s3_policy_is_public(ba->policy);
    return S3_ERR_NONE;
}

/* The bucket's owner, ACL and policy, read once per request and bucket. */
static int
s3_access_bucket(s3_req_t *r, const char *bucket, s3_bucket_access_t **out)
{
    s3_bucket_access_t  *ba;
    gw_str_t             v;
    char                 why[256];
    int                  rc;

    for (ba = r->access; ba != NULL; ba = ba->next) {
        if (strcmp(ba->b.name, bucket) == 0) {
            *out = ba;
            return S3_ERR_NONE;
        }
    }
    if (strlen(bucket) > STORE_BUCKET_MAX) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    ba = gw_pool_calloc(r->pool, sizeof(*ba));
    rc = store_bucket_get(r->ctx->store, bucket, &ba->b);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    ba->owner_id = s3_owner_id(r, ba->b.owner, strlen(ba->b.owner));
    rc = store_bconf_get(r->ctx->store, bucket, STORE_BCONF_ACL, r->pool, &v);
    if (rc == GW_OK) {
        rc = s3_acl_decode(r->pool, v.base, v.len, &ba->acl_buf);
        if (rc != GW_OK) {
            gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket \"%s\": its ACL "
                   "does not decode", bucket);
            return S3_ERR_INTERNAL_ERROR;
        }
        ba->acl = &ba->acl_buf;
    } else if (rc != GW_ENOTFOUND) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket ACL lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    rc = store_bconf_get(r->ctx->store, bucket, STORE_BCONF_POLICY, r->pool,
                         &v);
    if (rc == GW_OK) {
        rc = s3_policy_compiled(r, bucket, v, &ba->policy, why, sizeof(why));
        if (rc != GW_OK) {
            /* It was valid when it was put; a user it named may since have
             * left the configuration, which parse does not check here. */
            gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket \"%s\": its policy "
                   "no longer parses: %s", bucket, why);
            return S3_ERR_INTERNAL_ERROR;
        }
    } else if (rc != GW_ENOTFOUND) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket policy lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    rc = s3_access_controls(r, bucket, ba);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    ba->next = r->access;
    r->access = ba;
    *out = ba;
    return S3_ERR_NONE;
}

/* ==== the request context ==== */

typedef struct {
    gw_kv_t  *kv;
    size_t    n, cap;
} s3_ctx_build_t;

static void
s3_ctx_add(s3_req_t *r, s3_ctx_build_t *c, const char *name, size_t nlen,
           const char *value, size_t vlen)
{
    gw_kv_t  *kv;

    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        kv = gw_pool_alloc(r->pool, c->cap * sizeof(*kv));
        if (c->n) {
            memcpy(kv, c->kv, c->n * sizeof(*kv));
        }
        c->kv = kv;
    }
    c->kv[c->n].name.base = name;
    c->kv[c->n].name.len = nlen;
    c->kv[c->n].value.base = value;
    c->kv[c->n].value.len = vlen;
    c->n++;
}

static void
s3_ctx_str(s3_req_t *r, s3_ctx_build_t *c, const char *name,
           const char *value)
{
    s3_ctx_add(r, c, name, strlen(name), value, strlen(value));
}

static void
s3_ctx_header(s3_req_t *r, s3_ctx_build_t *c, const char *key,
              const char *header)
{
    const gw_str_t  *v = s3_header(r, header);

    if (v != NULL) {
        s3_ctx_add(r, c, key, strlen(key), v->base, v->len);
    }
}

static void
s3_ctx_param(s3_req_t *r, s3_ctx_build_t *c, const char *key,
             const char *param)
{
    const gw_str_t  *v = s3_param(r, param);

    if (v != NULL) {
        s3_ctx_add(r, c, key, strlen(key), v->base, v->len);
    }
}

/* s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys of the tags a
 * request gives an object (x-amz-tagging, or a Tagging document). */
static void
s3_ctx_request_tags(s3_req_t *r, s3_ctx_build_t *c, const gw_kv_t *tags,
                    size_t ntags)
{
    size_t  i;
    char   *t;

    for (i = 0; i < ntags; i++) {
        t = gw_pool_sprintf(r->pool, "s3:RequestObjectTag/%.*s",
                            (int) tags[i].name.len, tags[i].name.base);
        s3_ctx_add(r, c, t, strlen(t), tags[i].value.base, tags[i].value.len);
        s3_ctx_add(r, c, "s3:RequestObjectTagKeys", 23, tags[i].name.base,
                   tags[i].name.len);
    }
}

/* 1 when the address text lies in a trusted_proxy range. */
static int
s3_trusted_proxy(const gw_conf_t *cf, const char *ip, size_t len)
{
    gw_conf_cidr_t  a;
    size_t          i;

    if (cf->ntrusted_proxy == 0 || gw_conf_cidr_parse(ip, len, &a) != GW_OK) {
        return 0;
    }
    for (i = 0; i < cf->ntrusted_proxy; i++) {
        if (gw_conf_cidr_match(&cf->trusted_proxy[i], a.family, a.addr)) {
            return 1;
        }
    }
    return 0;
}

/* Walks one X-Forwarded-For value from its right end: sets *ip to each
 * hop in turn and returns 1 at the first that is no trusted proxy; 0 when
 * all were (*ip is then the leftmost, or untouched for an empty value). */
static int
s3_xff_hops(const gw_conf_t *cf, const gw_str_t *xff, gw_str_t *ip)
{
    const char  *p, *start, *end = xff->base + xff->len;

    while (end > xff->base) {
        p = end;
        while (p > xff->base && p[-1] != ',') {
            p--;
        }
        start = p;
        while (start < end && (*start == ' ' || *start == '\t')) {
            start++;
        }
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        if (end > start) {
            ip->base = start;
            ip->len = (size_t) (end - start);
            if (!s3_trusted_proxy(cf, ip->base, ip->len)) {
                return 1;
            }
        }
        end = p > xff->base ? p - 1 : p;
    }
    return 0;
}

/* The client address: the peer, or behind trusted proxies the rightmost
 * X-Forwarded-For hop that is not one of them. Several X-Forwarded-For
 * lines are one list in order (RFC 9110 5.3): HAProxy's `option
 * forwardfor` adds its own line after the client's, so the last line is
 * read first and a client's forged line is only reached past trusted hops.
 * Sets *secure when the request came on a TLS listener, or from
 * X-Forwarded-Proto when the peer is trusted. */
static gw_str_t
s3_source_ip(s3_req_t *r, int *secure)
{
    const gw_conf_t  *cf = r->ctx->cf;
    const gw_str_t   *proto;
    const gw_kv_t    *h;
    gw_str_t          ip;
    size_t            i;

    ip.base = r->http->peer_ip;
    ip.len = strlen(ip.base);
    *secure = r->http->secure;           /* came on a TLS listener */
    if (!s3_trusted_proxy(cf, ip.base, ip.len)) {
        return ip;
    }
    proto = s3_header(r, "x-forwarded-proto");
    *secure = *secure || (proto != NULL && proto->len == 5
                          && strncasecmp(proto->base, "https", 5) == 0);
    for (i = r->http->nheaders; i > 0; i--) {
        h = &r->http->headers[i - 1];
        if (gw_str_eq_lit(h->name, "x-forwarded-for")
            && s3_xff_hops(cf, &h->value, &ip))
        {
            break;
        }
    }
    return ip;
}

int
s3_request_secure(s3_req_t *r)
{
    int  secure;

    (void) s3_source_ip(r, &secure);
    return secure;
}

/* The s3: keys that are request headers (and s3:versionid, a query
 * parameter), present when the request carries them. */
static void
s3_ctx_headers(s3_req_t *r, s3_ctx_build_t *c)
{
    s3_ctx_header(r, c, "s3:x-amz-acl", "x-amz-acl");
    s3_ctx_header(r, c, "s3:x-amz-content-sha256", "x-amz-content-sha256");
    s3_ctx_header(r, c, "s3:x-amz-storage-class", "x-amz-storage-class");
    s3_ctx_header(r, c, "s3:x-amz-copy-source", "x-amz-copy-source");
    s3_ctx_header(r, c, "s3:x-amz-metadata-directive",
                  "x-amz-metadata-directive");
    s3_ctx_header(r, c, "s3:x-amz-server-side-encryption",
                  "x-amz-server-side-encryption");
    s3_ctx_header(r, c, "s3:x-amz-grant-read", "x-amz-grant-read");
    s3_ctx_header(r, c, "s3:x-amz-grant-write", "x-amz-grant-write");
    s3_ctx_header(r, c, "s3:x-amz-grant-read-acp", "x-amz-grant-read-acp");
    s3_ctx_header(r, c, "s3:x-amz-grant-write-acp", "x-amz-grant-write-acp");
    s3_ctx_header(r, c, "s3:x-amz-grant-full-control",
                  "x-amz-grant-full-control");
    s3_ctx_header(r, c, "s3:x-amz-server-side-encryption-customer-algorithm",
                  "x-amz-server-side-encryption-customer-algorithm");
    s3_ctx_header(r, c, "s3:x-amz-server-side-encryption-aws-kms-key-id",
                  "x-amz-server-side-encryption-aws-kms-key-id");
    s3_ctx_header(r, c, "s3:x-amz-website-redirect-location",
                  "x-amz-website-redirect-location");
    s3_ctx_header(r, c, "s3:x-amz-object-ownership", "x-amz-object-ownership");
    s3_ctx_header(r, c, "s3:object-lock-mode", "x-amz-object-lock-mode");
    s3_ctx_header(r, c, "s3:object-lock-retain-until-date",
                  "x-amz-object-lock-retain-until-date");
    s3_ctx_header(r, c, "s3:object-lock-legal-hold",
                  "x-amz-object-lock-legal-hold");
    s3_ctx_param(r, c, "s3:versionid", "versionId");
}

/* The condition keys of the request itself, built once per request (the
 * keys of DeleteObjects are decided one by one against the same ones). */
static const s3_policy_ctx_t *
s3_access_request_context(s3_req_t *r)
{
    s3_ctx_build_t   c = { NULL, 0, 0 };
    const gw_str_t  *v;
    gw_str_t         ip;
    gw_kv_t         *tags;
    size_t           ntags;
    const char      *msg;
    struct tm        tm;
    time_t           now = (time_t) r->now;
    char            *t;
    int              secure;

    ip = s3_source_ip(r, &secure);
    s3_ctx_add(r, &c, "aws:SourceIp", 12, ip.base, ip.len);
    s3_ctx_str(r, &c, "aws:SecureTransport", secure ? "true" : "false");
    t = gw_pool_alloc(r->pool, 32);
    gmtime_r(&now, &tm);
    strftime(t, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    s3_ctx_str(r, &c, "aws:CurrentTime", t);
    s3_ctx_str(r, &c, "aws:EpochTime",
               gw_pool_sprintf(r->pool, "%lld", (long long) r->now));
    s3_ctx_str(r, &c, "aws:RequestedRegion", r->ctx->cf->region);
    if (r->user != NULL) {
        int64_t  signed_at;

        s3_ctx_str(r, &c, "aws:username", r->user->name);
        s3_ctx_str(r, &c, "aws:userid", r->user->canonical_id);
        s3_ctx_str(r, &c, "aws:PrincipalAccount", r->user->account_id);
        s3_ctx_str(r, &c, "aws:PrincipalArn",
                   gw_pool_sprintf(r->pool, "arn:aws:iam::%s:user/%s",
                                   r->user->account_id, r->user->name));
        s3_ctx_str(r, &c, "aws:PrincipalType", "User");
        s3_ctx_str(r, &c, "s3:authType", r->presigned ? "REST-QUERY-STRING"
                                                      : "REST-HEADER");
        s3_ctx_str(r, &c, "s3:signatureversion", r->signature_version);
        if (s3_sigv4_time_parse(r->amz_date, &signed_at) == GW_OK) {
            s3_ctx_str(r, &c, "s3:signatureAge",
                       gw_pool_sprintf(r->pool, "%lld", (long long)
                                       GW_MAX(0, r->now - signed_at) * 1000));
        }
    } else {
        s3_ctx_str(r, &c, "aws:PrincipalType", "Anonymous");
    }
    s3_ctx_header(r, &c, "aws:Referer", "referer");
    s3_ctx_header(r, &c, "aws:UserAgent", "user-agent");
    s3_ctx_param(r, &c, "s3:prefix", "prefix");
    s3_ctx_param(r, &c, "s3:delimiter", "delimiter");
    s3_ctx_param(r, &c, "s3:max-keys", "max-keys");
    s3_ctx_headers(r, &c);
    v = s3_header(r, "x-amz-tagging");
    if (v != NULL
        && s3_tags_parse_header(r->pool, v, &tags, &ntags, &msg) == S3_ERR_NONE)
    {
        s3_ctx_request_tags(r, &c, tags, ntags);
    }
    r->access_ctx = gw_pool_alloc(r->pool, sizeof(*r->access_ctx));
    r->access_ctx->kv = c.kv;
    r->access_ctx->n = c.n;
    return r->access_ctx;
}

/* Keys that depend on the action being decided, not only on the request:
 * the conditional-write keys, which S3 gives s3:PutObject alone
 * (CreateMultipartUpload, UploadPart and UploadPartCopy take no
 * conditional headers, so s3:ObjectCreationOperation is false for them and
 * true for the writes that create the object). */
static void
s3_ctx_action(s3_req_t *r, s3_ctx_build_t *c, const char *action)
{
    const char  *op = r->route != NULL ? r->route->action : "";

    if (strcasecmp(action, "s3:PutObject") != 0) {
        return;
    }
    s3_ctx_header(r, c, "s3:if-match", "if-match");
    s3_ctx_header(r, c, "s3:if-none-match", "if-none-match");
    s3_ctx_str(r, c, "s3:ObjectCreationOperation",
               strcmp(op, "CreateMultipartUpload") == 0
               || strcmp(op, "UploadPart") == 0 ? "false" : "true");
}

/* The request's keys, plus those of the resource: the account that owns
 * its bucket (s3:ResourceAccount, aws:ResourceAccount), the
 * s3:ExistingObjectTag/<key> of obj (may be NULL), and the keys of the
 * action. Only a policy reads them, so without one nothing is added. */
static void
s3_access_context(s3_req_t *r, const s3_bucket_access_t *ba,
                  const store_object_t *obj, const char *action,
                  s3_policy_ctx_t *out)
{
    const s3_policy_ctx_t  *base;
    const gw_conf_user_t   *u;
    s3_ctx_build_t          c;
    size_t                  i;
    char                   *t;

    if (ba->policy == NULL) {
        /* Nothing reads the keys: the request's are not even built (they
         * cost more than the rest of a small GET's decision). */
        out->kv = NULL;
        out->n = 0;
        return;
    }
    base = r->access_ctx != NULL ? r->access_ctx
                                 : s3_access_request_context(r);
    *out = *base;
    c.cap = base->n + (obj != NULL ? obj->ntags : 0) + 8;
    c.kv = gw_pool_alloc(r->pool, c.cap * sizeof(*c.kv));
    memcpy(c.kv, base->kv, base->n * sizeof(*c.kv));
    c.n = base->n;
    u = gw_conf_user_by_name(r->ctx->cf, ba->b.owner, strlen(ba->b.owner));
    if (u != NULL) {
        s3_ctx_str(r, &c, "s3:ResourceAccount", u->account_id);
        s3_ctx_str(r, &c, "aws:ResourceAccount", u->account_id);
    }
    s3_ctx_action(r, &c, action);
    for (i = 0; obj != NULL && i < obj->ntags; i++) {
        t = gw_pool_sprintf(r->pool, "s3:ExistingObjectTag/%.*s",
                            (int) obj->tags[i].name.len,
                            obj->tags[i].name.base);
        /* The value is a view into obj, which lives as long as r->pool. */
        s3_ctx_add(r, &c, t, strlen(t), obj->tags[i].value.base,
                   obj->tags[i].value.len);
    }
    out->kv = c.kv;
    out->n = c.n;
}

void
s3_access_request_tags(s3_req_t *r, const gw_kv_t *tags, size_t ntags)
{
    const s3_policy_ctx_t  *base = r->access_ctx != NULL
                                   ? r->access_ctx
                                   : s3_access_request_context(r);
    s3_ctx_build_t          c;

    c.cap = base->n + 2 * ntags + 1;
    c.kv = gw_pool_alloc(r->pool, c.cap * sizeof(*c.kv));
    memcpy(c.kv, base->kv, base->n * sizeof(*c.kv));
    c.n = base->n;
    s3_ctx_request_tags(r, &c, tags, ntags);
    r->access_ctx = gw_pool_alloc(r->pool, sizeof(*r->access_ctx));
    r->access_ctx->kv = c.kv;
    r->access_ctx->n = c.n;
}

/* ==== deciding ==== */

static void
s3_principal(const s3_req_t *r, s3_principal_t *who)
{
    memset(who, 0, sizeof(*who));
    if (r->user != NULL) {
        who->name = r->user->name;
        who->account_id = r->user->account_id;
        who->canonical_id = r->user->canonical_id;
    }
}

static const char *
s3_access_who(const s3_req_t *r)
{
    return r->user ? r->user->name : "anonymous";
}

/* The keys of ctx with s3:prefix set to key: the missing key is decided as
 * the listing that would show it, so a policy that lets someone list only
 * under public/ shows them NoSuchKey for public/x and AccessDenied for
 * private/x, as S3 does. */
static void
s3_access_prefix_context(s3_req_t *r, const gw_str_t *key,
                         s3_policy_ctx_t *ctx)
{
    s3_ctx_build_t  c;
    size_t          i;

    c.cap = ctx->n + 1;
    c.kv = gw_pool_alloc(r->pool, c.cap * sizeof(*c.kv));
    c.n = 0;
    for (i = 0; i < ctx->n; i++) {
        if (!gw_str_eq_lit(ctx->kv[i].name, "s3:prefix")) {
            c.kv[c.n++] = ctx->kv[i];
        }
    }
    s3_ctx_add(r, &c, "s3:prefix", 9, key->base, key->len);
    ctx->kv = c.kv;
    ctx->n = c.n;
}

/* What the bucket's settings leave of the owners and ACLs in a: under
 * BucketOwnerEnforced the bucket owner owns every object and no ACL
 * counts; IgnorePublicAcls drops the public grants. */
static void
s3_access_effective_acls(s3_req_t *r, const s3_bucket_access_t *ba,
                         s3_access_t *a)
{
    s3_acl_t  *acl;

    if (ba->ownership == S3_OWNERSHIP_ENFORCED) {
        if (a->object_owner != NULL) {
            a->object_owner = ba->owner_id;
        }
        a->bucket_acl = NULL;
        a->object_acl = NULL;
        return;
    }
    if (!ba->pab.ignore_acls) {
        return;
    }
    if (a->bucket_acl != NULL) {
        acl = gw_pool_alloc(r->pool, sizeof(*acl));
        s3_acl_drop_public(r->pool, a->bucket_acl, acl);
        a->bucket_acl = acl;
    }
    if (a->object_acl != NULL) {
        acl = gw_pool_alloc(r->pool, sizeof(*acl));
        s3_acl_drop_public(r->pool, a->object_acl, acl);
        a->object_acl = acl;
    }
}

/* An object the decision read, freed with the pool unless the handler
 * took it. */
struct s3_access_obj_s {
    store_object_t  *obj;
    unsigned         by_version:1;
};

static void
s3_object_cleanup(void *data)
{
    struct s3_access_obj_s  *h = data;

    store_object_free(h->obj);
}

store_object_t *
s3_access_object_take(s3_req_t *r, int by_version)
{
    struct s3_access_obj_s  *h = r->access_obj;
    store_object_t          *o;

    if (h == NULL || h->obj == NULL || h->by_version != (unsigned) by_version) {
        return NULL;
    }
    o = h->obj;
    h->obj = NULL;
    return o;
}

/* The object an object action is decided on: the version the request's
 * versionId names for the request's own object (its owner, ACL and tags
 * are that version's), else the current one. A delete marker is no
 * object. */
static int
s3_access_object(s3_req_t *r, const char *bucket, const gw_str_t *key,
                 store_object_t **obj)
{
    const gw_str_t  *id = s3_param(r, "versionId");
    uint64_t         v;
    int              rc;

    if (id == NULL || key != &r->key
        || s3_version_parse(id->base, id->len, &v) != S3_ERR_NONE)
    {
        return store_object_get(r->ctx->store, bucket, *key, obj);
    }
    rc = store_version_get(r->ctx->store, bucket, *key, 0, v, obj, NULL);
    if (rc == GW_OK && ((*obj)->vflags & STORE_VF_MARKER)) {
        store_object_free(*obj);
        *obj = NULL;
        rc = GW_ENOTFOUND;
    }
    return rc;
}

/* The policy action of a route's action when the request names a version
 * (?versionId=), as S3 decides it. */
static const char *
s3_access_versioned(const s3_req_t *r, const char *perm)
{
    static const char  *map[][2] = {
        { "s3:GetObject", "s3:GetObjectVersion" },
        { "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes" },
        { "s3:DeleteObject", "s3:DeleteObjectVersion" },
        { "s3:GetObjectTagging", "s3:GetObjectVersionTagging" },
        { "s3:PutObjectTagging", "s3:PutObjectVersionTagging" },
        { "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging" },
        { "s3:GetObjectAcl", "s3:GetObjectVersionAcl" },
        { "s3:PutObjectAcl", "s3:PutObjectVersionAcl" },
    };
    size_t  i;

    if (r->target != S3_OBJECT || s3_param(r, "versionId") == NULL) {
        return perm;
    }
    for (i = 0; i < GW_NELEMS(map); i++) {
        if (strcmp(perm, map[i][0]) == 0) {
            return map[i][1];
        }
    }
    return perm;
}

/* "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key", in r->pool (by
 * hand: every decision makes one). */
static char *
s3_access_arn(s3_req_t *r, const char *bucket, const gw_str_t *key)
{
    size_t   blen = strlen(bucket), klen = key != NULL ? key->len : 0;
    char    *arn = gw_pool_alloc(r->pool, 13 + blen + 1 + klen + 1), *p;

    memcpy(arn, "arn:aws:s3:::", 13);
    memcpy(arn + 13, bucket, blen);
    p = arn + 13 + blen;
    if (key != NULL) {
        *p++ = '/';
        memcpy(p, key->base, klen);
        p += klen;
    }
    *p = '\0';
    return arn;
}

/* Keeps obj, read for a decision on bucket/key, until the pool goes; the
 * handler may take it (s3_access_object_take) when it is the request's own
 * object. */
static void
s3_access_object_keep(s3_req_t *r, const char *bucket, const gw_str_t *key,
                      store_object_t *obj)
{
    struct s3_access_obj_s  *h;
    const gw_str_t          *vid;
    uint64_t                 vnum;

    h = gw_pool_calloc(r->pool, sizeof(*h));
    h->obj = obj;
    h->by_version = key == &r->key
                    && (vid = s3_param(r, "versionId")) != NULL
                    && s3_version_parse(vid->base, vid->len, &vnum)
                       == S3_ERR_NONE;
    gw_pool_cleanup_add(r->pool, s3_object_cleanup, h);
    if (key == &r->key && bucket == r->bucket && r->access_obj == NULL) {
        r->access_obj = h;
    }
}

/* The object's owner and ACL into a (the ACL decoded into oacl, which must
 * live as long as a); *obj stays NULL when there is no such key. */
static int
s3_access_object_inputs(s3_req_t *r, const char *bucket, const gw_str_t *key,
                        s3_access_t *a, s3_acl_t *oacl, store_object_t **obj)
{
    int  rc;

    rc = s3_access_object(r, bucket, key, obj);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NONE;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "object lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    s3_access_object_keep(r, bucket, key, *obj);
    a->object_owner = s3_owner_id(r, (*obj)->owner.base, (*obj)->owner.len);
    if ((*obj)->acl.len) {
        if (s3_acl_decode(r->pool, (*obj)->acl.base, (*obj)->acl.len, oacl)
            != GW_OK)
        {
            gw_log(GW_LOG_ERR, r->http->peer, GW_ECORRUPT, "object "
                   "ACL does not decode");
            return S3_ERR_INTERNAL_ERROR;
        }
        a->object_acl = oacl;
    }
    return S3_ERR_NONE;
}

/* The initiator of the multipart upload ?uploadId= names, into a; none
 * when there is no such upload. */
static void
s3_access_upload_initiator(s3_req_t *r, s3_access_t *a)
{
    const gw_str_t  *upload_id = s3_param(r, "uploadId");
    store_upload_t  *up = NULL;
    char             id[STORE_UPLOAD_ID_LEN + 1];

    if (upload_id == NULL || upload_id->len != STORE_UPLOAD_ID_LEN) {
        return;
    }
    memcpy(id, upload_id->base, STORE_UPLOAD_ID_LEN);
    id[STORE_UPLOAD_ID_LEN] = '\0';
    if (store_upload_get(r->ctx->store, id, &up) == GW_OK) {
        a->initiator = s3_owner_id(r, up->tmpl->owner.base,
                                   up->tmpl->owner.len);
        a->initiator = gw_pool_strndup(r->pool, a->initiator,
                                       strlen(a->initiator));
        store_upload_free(up);
    }
}

/* An object action on a missing key. S3 tells it from a forbidden one to
 * those who may list the bucket, and to nobody else; an explicit Deny of
 * the action itself still stands. So: AccessDenied on that Deny, else a
 * (and ctx, which a->ctx points to) now ask for s3:ListBucket on the
 * bucket with s3:prefix the key. */
static int
s3_access_missing_key(s3_req_t *r, const char *bucket, const gw_str_t *key,
                      s3_access_t *a, s3_policy_ctx_t *ctx)
{
    const char  *which;

    if (a->policy != NULL
        && s3_policy_eval(a->policy, a->who, a->action, a->resource, ctx,
                          &which) == S3_POLICY_DENY)
    {
        gw_log(GW_LOG_DEBUG, r->http->peer, 0, "%s access %s %s by %s: "
               "denied (policy statement %s denies)", r->http->id,
               a->action, a->resource, s3_access_who(r), which);
        return S3_ERR_ACCESS_DENIED;
    }
    a->action = "s3:ListBucket";
    a->resource = gw_pool_sprintf(r->pool, "arn:aws:s3:::%s", bucket);
    s3_access_prefix_context(r, key, ctx);
    return S3_ERR_NONE;
}

/* Decides a, logs the verdict and maps it to the error to answer. */
static int
s3_access_verdict(s3_req_t *r, const s3_access_t *a)
{
    char  why[256];
    int   verdict;

    verdict = s3_access_decide(a, why, sizeof(why));
    gw_log(GW_LOG_DEBUG, r->http->peer, 0, "%s access %s %s by %s: %s (%s)",
           r->http->id, a->action, a->resource, s3_access_who(r),
           verdict == S3_ACCESS_ALLOW ? "allowed" : "denied", why);
    if (verdict == S3_ACCESS_NOT_OWNER) {
        return S3_ERR_METHOD_NOT_ALLOWED;
    }
    return verdict == S3_ACCESS_ALLOW ? S3_ERR_NONE : S3_ERR_ACCESS_DENIED;
}

int
s3_access_resource(s3_req_t *r, const char *bucket, const gw_str_t *key,
                   const char *action)
{
    const s3_action_t   *act = s3_action_find(action);
    int                  on_object = act != NULL && act->kind == S3_ACT_OBJECT
                                     && key != NULL;
    s3_bucket_access_t  *ba;
    s3_access_t          a;
    s3_principal_t       who;
    s3_policy_ctx_t      ctx;
    s3_acl_t             oacl;
    store_object_t      *obj = NULL;
    int                  rc;

    rc = s3_access_bucket(r, bucket, &ba);
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    memset(&a, 0, sizeof(a));
    s3_principal(r, &who);
    a.who = &who;
    a.action = action;
    a.bucket_owner = ba->owner_id;
    a.bucket_acl = ba->acl;
    a.policy = ba->policy;
    a.restrict_policy = ba->pab.restrict_public && ba->policy_public;
    a.resource = s3_access_arn(r, bucket, key);

    if (on_object) {
        rc = s3_access_object_inputs(r, bucket, key, &a, &oacl, &obj);
        if (rc != S3_ERR_NONE) {
            return rc;
        }
    }
    if (act != NULL && act->kind == S3_ACT_UPLOAD) {
        s3_access_upload_initiator(r, &a);
    }
    s3_access_context(r, ba, obj, action, &ctx);
    a.ctx = &ctx;
    s3_access_effective_acls(r, ba, &a);

    if (on_object && obj == NULL) {
        rc = s3_access_missing_key(r, bucket, key, &a, &ctx);
        if (rc != S3_ERR_NONE) {
            return rc;
        }
    }
    return s3_access_verdict(r, &a);
}

/* x-amz-expected-bucket-owner: a client's guard against writing into, or
 * reading from, a bucket that someone else now owns. */
static int
s3_access_expected_owner(s3_req_t *r, const s3_bucket_access_t *ba)
{
    const gw_str_t         *v = s3_header(r, "x-amz-expected-bucket-owner");
    const gw_conf_user_t   *u;

    if (v == NULL) {
        return S3_ERR_NONE;
    }
    u = gw_conf_user_by_name(r->ctx->cf, ba->b.owner, strlen(ba->b.owner));
    return u != NULL && v->len == 12 && memcmp(v->base, u->account_id, 12) == 0
           ? S3_ERR_NONE : S3_ERR_ACCESS_DENIED;
}

int
s3_access_request(s3_req_t *r)
{
    const char          *perm = r->route->perm;
    s3_bucket_access_t  *ba;
    int                  rc;

    if (perm == NULL) {
        /* ListBuckets and CreateBucket: any signed caller, as S3. */
        return r->user != NULL ? S3_ERR_NONE : S3_ERR_ACCESS_DENIED;
    }
    rc = s3_access_bucket(r, r->bucket, &ba);
    if (rc == S3_ERR_NONE) {
        rc = s3_access_expected_owner(r, ba);
    }
    if (rc != S3_ERR_NONE || *perm == '\0') {
        /* "": the handler decides per key (DeleteObjects). */
        return rc;
    }
    return s3_access_resource(r, r->bucket,
                              r->target == S3_OBJECT ? &r->key : NULL,
                              s3_access_versioned(r, perm));
}

const s3_bucket_access_t *
s3_request_bucket(const s3_req_t *r)
{
    const s3_bucket_access_t  *ba;

    for (ba = r->access; ba != NULL; ba = ba->next) {
        if (r->bucket != NULL && strcmp(ba->b.name, r->bucket) == 0) {
            return ba;
        }
    }
    return NULL;
}

const char *
s3_bucket_owner_id(s3_req_t *r)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);

    return ba != NULL ? ba->owner_id : NULL;
}

int
s3_bucket_record(s3_req_t *r, store_bucket_t *out)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);

    if (ba == NULL) {
        return S3_ERR_NO_SUCH_BUCKET;
    }
    *out = ba->b;
    return S3_ERR_NONE;
}

/* ==== what a request says about access to what it creates ==== */

int
s3_acl_from_headers(s3_req_t *r, const char *owner, const char *bucket_owner,
                    gw_str_t *out, const char **msg)
{
    static const struct {
        const char  *header;
        unsigned     perm;
    } grants[] = {
        /* In the order S3 documents them, which is the order the grants
         * read back in: FULL_CONTROL (the owner's, usually) first, as in
         * every canned ACL. */
        { "x-amz-grant-full-control", S3_PERM_FULL_CONTROL },
        { "x-amz-grant-read",         S3_PERM_READ },
        { "x-amz-grant-read-acp",     S3_PERM_READ_ACP },
        { "x-amz-grant-write",        S3_PERM_WRITE },
        { "x-amz-grant-write-acp",    S3_PERM_WRITE_ACP },
    };
    const gw_str_t  *canned = s3_header(r, "x-amz-acl"), *v;
    const s3_bucket_access_t  *ba;
    s3_acl_dir_t     dir;
    s3_acl_t         acl;
    size_t           i;
    int              rc, any = 0;

    out->base = NULL;
    out->len = 0;
    *msg = NULL;
    memset(&acl, 0, sizeof(acl));
    snprintf(acl.owner, sizeof(acl.owner), "%s", owner);
    s3_acl_dir(r, &dir);
    for (i = 0; i < GW_NELEMS(grants); i++) {
        v = s3_header(r, grants[i].header);
        if (v == NULL) {
            continue;
        }
        if (canned != NULL) {
            *msg = "Specifying both Canned ACLs and Header Grants is not "
                   "allowed";
            return S3_ERR_INVALID_REQUEST;
        }
        rc = s3_acl_grant_header(r->pool, &acl, grants[i].perm, *v, &dir);
        if (rc != S3_ERR_NONE) {
            return rc;
        }
        any = 1;
    }
    ba = s3_request_bucket(r);
    if (canned != NULL && ba != NULL && ba->ownership == S3_OWNERSHIP_ENFORCED
        && !gw_str_eq_lit(*canned, "bucket-owner-full-control")
        && !gw_str_eq_lit(*canned, "private"))
    {
        /* Under BucketOwnerEnforced the owner is the bucket owner, so
         * bucket-owner-read would say no more than private; S3 still
         * takes only the two names that mean "the bucket owner's". */
        return S3_ERR_ACCESS_CONTROL_LIST_NOT_SUPPORTED;
    }
    if (canned != NULL) {
        rc = s3_acl_canned(r->pool, canned->base, canned->len, owner,
                           bucket_owner, &acl);
        if (rc != S3_ERR_NONE) {
            return rc;
        }
        any = 1;
    }
    if (any) {
        rc = s3_access_acl_allowed(r, &acl);
        if (rc != S3_ERR_NONE) {
            return rc;
        }
        out->base = s3_acl_encode(r->pool, &acl, &out->len);
    }
    return S3_ERR_NONE;
}

int
s3_access_acl_allowed(s3_req_t *r, const s3_acl_t *acl)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);

    if (ba == NULL) {
        return S3_ERR_NONE;
    }
    if (ba->ownership == S3_OWNERSHIP_ENFORCED
        && !s3_acl_owner_only(acl, ba->owner_id))
    {
        return S3_ERR_ACCESS_CONTROL_LIST_NOT_SUPPORTED;
    }
    if (ba->pab.block_acls && s3_acl_is_public(acl)) {
        gw_log(GW_LOG_DEBUG, r->http->peer, 0, "%s BlockPublicAcls refuses "
               "a public ACL", r->http->id);
        return S3_ERR_ACCESS_DENIED;
    }
    return S3_ERR_NONE;
}

int
s3_access_replica(s3_req_t *r, store_object_t *o)
{
    const gw_str_t  *v = s3_header(r, "x-amz-replication-status");
    int              rc;

    if (v == NULL) {
        return S3_ERR_NONE;
    }
    if (!gw_str_eq_lit(*v, "REPLICA")) {
        return S3_ERR_INVALID_ARGUMENT;
    }
    rc = s3_access_resource(r, r->bucket, &r->key, "s3:ReplicateObject");
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    o->repl_status = STORE_REPL_STATUS_REPLICA;
    return S3_ERR_NONE;
}

int
s3_access_new_object(s3_req_t *r, store_object_t *o)
{
    const gw_str_t  *v;
    const char      *msg;
    int              rc;

    if ((v = s3_header(r, "x-amz-tagging")) != NULL) {
        rc = s3_tags_parse_header(r->pool, v, &o->tags, &o->ntags, &msg);
        if (rc != S3_ERR_NONE) {
            s3_error(r, rc, msg);
            return -1;
        }
    }
    rc = s3_access_object_acl(r, o, &msg);
    if (rc != S3_ERR_NONE && msg != NULL) {
        s3_error(r, rc, msg);
        return -1;
    }
    return rc;
}

int
s3_access_object_acl(s3_req_t *r, store_object_t *o, const char **msg)
{
    const s3_bucket_access_t  *ba = s3_request_bucket(r);
    const gw_str_t            *canned = s3_header(r, "x-amz-acl");

    if (ba != NULL
        && (ba->ownership == S3_OWNERSHIP_ENFORCED
            || (ba->ownership == S3_OWNERSHIP_PREFERRED && canned != NULL
                && gw_str_eq_lit(*canned, "bucket-owner-full-control"))))
    {
        /* ba lives in r->pool, as long as o's views must. */
        o->owner.base = ba->b.owner;
        o->owner.len = strlen(ba->b.owner);
    }
    return s3_acl_from_headers(r, s3_owner_id(r, o->owner.base, o->owner.len),
                               s3_bucket_owner_id(r), &o->acl, msg);
}
