/* s3/auth/acl.c: access control lists. Canned ACLs, x-amz-grant-* headers,
 * AccessControlPolicy documents in (expat) and out (s3/xml), the stored
 * text form, and the permissions an ACL gives a caller.
 *
 * Identical grants (same grantee, same permission) are merged: an ACL holds
 * each one once, in the order it first appeared, and S3_ACL_MAX_GRANTS
 * counts distinct grants. S3 answers GetBucketAcl the same way whether a
 * grant was sent once or twice, and merging keeps the stored form small.
 *
 * Every function that fills an ACL builds the new grant array on the side
 * and only stores it on success, so an error leaves the caller's ACL as it
 * was.
 *
 * The ACL operations are s3/ops/acl.c; the ACL a request's headers ask for
 * is s3/auth/access.c's. */
#include "s3/auth/acl.h"
#include "s3/error.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#define S3_ACL_NS          "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_ACL_XSI_NS      "http://www.w3.org/2001/XMLSchema-instance"
#define S3_ACL_XSI_TYPE    S3_ACL_XSI_NS " type"   /* expat's "uri local" */
#define S3_ACL_TEXT_MAX    1024      /* longest element text we look at */
#define S3_ACL_DEPTH_MAX   5         /* Policy/List/Grant/Grantee/ID */

/* The shortest grant line of the stored form: "G all 1\n". */
#define S3_ACL_LINE_MIN    8


/* ==== grantees and permissions ==== */

static const struct {
    const char  *uri;
    int          type;
} s3_acl_group_uris[] = {
    { "http://acs.amazonaws.com/groups/global/AllUsers",
      S3_GRANTEE_ALL_USERS },
    { "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
      S3_GRANTEE_AUTH_USERS },
    { "http://acs.amazonaws.com/groups/s3/LogDelivery",
      S3_GRANTEE_LOG_DELIVERY },
    /* Not a URI S3 writes, but some tools send it; it can only mean the
     * one above, which is what we write back. */
    { "http://acs.amazonaws.com/groups/global/LogDelivery",
      S3_GRANTEE_LOG_DELIVERY },
};

/* Indexed by the permission's position; the stored form keeps the hex digit
 * of the bit mask. */
static const struct {
    const char  *name;
    unsigned     perm;
    char         digit;
} s3_acl_perm_names[] = {
    { "READ",         S3_PERM_READ,         '1' },
    { "WRITE",        S3_PERM_WRITE,        '2' },
    { "READ_ACP",     S3_PERM_READ_ACP,     '4' },
    { "WRITE_ACP",    S3_PERM_WRITE_ACP,    '8' },
    { "FULL_CONTROL", S3_PERM_FULL_CONTROL, 'f' },
};

/* Position of perm in s3_acl_perm_names, or -1 for anything that is not
 * exactly one S3 permission. */
static int
s3_acl_perm_index(unsigned perm)
{
    size_t  i;

    for (i = 0; i < GW_NELEMS(s3_acl_perm_names); i++) {
        if (s3_acl_perm_names[i].perm == perm) {
            return (int) i;
        }
    }
    return -1;
}

static const char *
s3_acl_group_uri(int type)
{
    size_t  i;

    for (i = 0; i < GW_NELEMS(s3_acl_group_uris); i++) {
        if (s3_acl_group_uris[i].type == type) {
            return s3_acl_group_uris[i].uri;
        }
    }
    return NULL;
}

/* S3_GRANTEE_* of the group URI s[0..len), or 0. URIs compare exactly, as
 * S3 compares them. */
static int
s3_acl_group_by_uri(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < GW_NELEMS(s3_acl_group_uris); i++) {
        if (strlen(s3_acl_group_uris[i].uri) == len
            && memcmp(s3_acl_group_uris[i].uri, s, len) == 0)
        {
            return s3_acl_group_uris[i].type;
        }
    }
    return 0;
}

/* Copies the canonical user id s[0..len) into id, lowercased. Returns -1,
 * and leaves id alone, unless it is exactly 64 hex digits. */
static int
s3_acl_id_copy(char id[65], const char *s, size_t len)
{
    char    tmp[65];
    size_t  i;
    char    c;

    if (len != 64) {
        return -1;
    }
    for (i = 0; i < 64; i++) {
        c = s[i];
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
            tmp[i] = c;
        } else if (c >= 'A' && c <= 'F') {
            tmp[i] = (char) (c - 'A' + 'a');
        } else {
            return -1;
        }
    }
    tmp[64] = '\0';
    memcpy(id, tmp, sizeof(tmp));
    return 0;
}

/* The canonical id of the user with email address email[0..len). */
static int
s3_acl_email(const s3_acl_dir_t *dir, const char *email, size_t len,
             char id[65])
{
    const char  *found;

    if (dir == NULL || dir->id_by_email == NULL || len == 0) {
        return S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL;
    }
    found = dir->id_by_email(dir->ud, email, len);
    /* A directory answer that is not a canonical id names nobody we can
     * grant to. */
    if (found == NULL || s3_acl_id_copy(id, found, strnlen(found, 65)) != 0) {
        return S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL;
    }
    return S3_ERR_NONE;
}

static const char *
s3_acl_name(const s3_acl_dir_t *dir, const char *id)
{
    if (dir == NULL || dir->name_by_id == NULL) {
        return NULL;
    }
    return dir->name_by_id(dir->ud, id);
}


/* ==== grant lists ==== */

/* A grant array being built in a pool. It never writes into an array it
 * did not allocate (cap == n for a borrowed one), so the ACL it started
 * from stays intact until the caller stores g and n. */
typedef struct {
    s3_grant_t  *g;
    size_t       n, cap;
} s3_acl_list_t;

/* Adds one grant unless an identical one is there. id is a 64-hex
 * canonical id for S3_GRANTEE_USER and ignored otherwise. Returns
 * S3_ERR_NONE or S3_ERR_INVALID_ARGUMENT past S3_ACL_MAX_GRANTS. */
static int
s3_acl_list_add(gw_pool_t *pool, s3_acl_list_t *l, int type, const char *id,
                unsigned perm)
{
    s3_grant_t  *g;
    size_t       i, cap;

    for (i = 0; i < l->n; i++) {
        g = &l->g[i];
        if (g->type == type && g->perm == perm
            && (type != S3_GRANTEE_USER || strcmp(g->id, id) == 0))
        {
            return S3_ERR_NONE;
        }
    }
    if (l->n >= S3_ACL_MAX_GRANTS) {
        return S3_ERR_INVALID_ARGUMENT;
    }
    if (l->n == l->cap) {
        /* n < S3_ACL_MAX_GRANTS here, so cap always ends above n. */
        cap = GW_MIN(l->n ? l->n * 2 : 8, S3_ACL_MAX_GRANTS);
        g = gw_pool_alloc(pool, cap * sizeof(*g));
        if (l->n) {
            memcpy(g, l->g, l->n * sizeof(*g));
        }
        l->g = g;
        l->cap = cap;
    }
    g = &l->g[l->n++];
    memset(g, 0, sizeof(*g));
    g->type = type;
    g->perm = perm;
    if (type == S3_GRANTEE_USER) {
        memcpy(g->id, id, 64);
    }
    return S3_ERR_NONE;
}


/* ==== canned ACLs ==== */

typedef struct {
    const char  *name;
    int          group;           /* S3_GRANTEE_* granted group_perms, or 0 */
    unsigned     group_perms[2];  /* 0 ends the list */
    unsigned     bucket_owner;    /* granted to a different bucket owner */
} s3_acl_canned_t;

static const s3_acl_canned_t  s3_acl_canned_list[] = {
    { "private", 0, { 0, 0 }, 0 },
    { "public-read", S3_GRANTEE_ALL_USERS, { S3_PERM_READ, 0 }, 0 },
    { "public-read-write", S3_GRANTEE_ALL_USERS,
      { S3_PERM_READ, S3_PERM_WRITE }, 0 },
    { "authenticated-read", S3_GRANTEE_AUTH_USERS, { S3_PERM_READ, 0 }, 0 },
    { "bucket-owner-read", 0, { 0, 0 }, S3_PERM_READ },
    { "bucket-owner-full-control", 0, { 0, 0 }, S3_PERM_FULL_CONTROL },
    { "log-delivery-write", S3_GRANTEE_LOG_DELIVERY,
      { S3_PERM_WRITE, S3_PERM_READ_ACP }, 0 },
    /* S3 adds READ for EC2, to fetch AMI bundles. There is no EC2 here, so
     * it is private. */
    { "aws-exec-read", 0, { 0, 0 }, 0 },
};

int
s3_acl_canned(gw_pool_t *pool, const char *name, size_t len,
              const char *owner, const char *bucket_owner, s3_acl_t *out)
{
    const s3_acl_canned_t  *c = NULL;
    s3_acl_list_t           l = { NULL, 0, 0 };
    char                    own[65], bown[65];
    size_t                  i;
    int                     rc;

    for (i = 0; i < GW_NELEMS(s3_acl_canned_list); i++) {
        if (strlen(s3_acl_canned_list[i].name) == len
            && memcmp(s3_acl_canned_list[i].name, name, len) == 0)
        {
            c = &s3_acl_canned_list[i];
            break;
        }
    }
    if (c == NULL || owner == NULL
        || s3_acl_id_copy(own, owner, strnlen(owner, 65)) != 0)
    {
        return S3_ERR_INVALID_ARGUMENT;
    }
    if (bucket_owner == NULL) {
        bucket_owner = owner;
    }
    if (s3_acl_id_copy(bown, bucket_owner, strnlen(bucket_owner, 65)) != 0) {
        return S3_ERR_INVALID_ARGUMENT;
    }

    /* At most three grants: nothing below can pass the limit. */
    rc = s3_acl_list_add(pool, &l, S3_GRANTEE_USER, own,
                         S3_PERM_FULL_CONTROL);
    for (i = 0; rc == S3_ERR_NONE && i < 2 && c->group_perms[i]; i++) {
        rc = s3_acl_list_add(pool, &l, c->group, NULL, c->group_perms[i]);
    }
    if (rc == S3_ERR_NONE && c->bucket_owner && strcmp(own, bown) != 0) {
        rc = s3_acl_list_add(pool, &l, S3_GRANTEE_USER, bown,
                             c->bucket_owner);
    }
    if (rc != S3_ERR_NONE) {
        return rc;
    }
    memcpy(out->owner, own, sizeof(own));
    out->grants = l.g;
    out->n = l.n;
    return S3_ERR_NONE;
}


/* ==== x-amz-grant-* headers ==== */

static const char *
s3_acl_skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    return p;
}

/* Resolves one key=value item of a grant header to a grantee. */
static int
s3_acl_header_grantee(const char *key, size_t klen, const char *val,
                      size_t vlen, const s3_acl_dir_t *dir, int *type,
                      char id[65])
{
    if (klen == 2 && strncasecmp(key, "id", 2) == 0) {
        *type = S3_GRANTEE_USER;
        return s3_acl_id_copy(id, val, vlen) == 0
               ? S3_ERR_NONE : S3_ERR_INVALID_ARGUMENT;
    }
    if (klen == 3 && strncasecmp(key, "uri", 3) == 0) {
        *type = s3_acl_group_by_uri(val, vlen);
        return *type != 0 ? S3_ERR_NONE : S3_ERR_INVALID_ARGUMENT;
    }
    if (klen == 12 && strncasecmp(key, "emailAddress", 12) == 0) {
        *type = S3_GRANTEE_USER;
        return s3_acl_email(dir, val, vlen, id);
    }
    return S3_ERR_INVALID_ARGUMENT;
}

int
s3_acl_grant_header(gw_pool_t *pool, s3_acl_t *acl, unsigned perm,
                    gw_str_t value, const s3_acl_dir_t *dir)
{
    const char     *p = value.base, *end = value.base + value.len;
    const char     *key, *val;
    size_t          klen, vlen;
    s3_acl_list_t   l;
    char            id[65];
    int             rc, type;

    if (s3_acl_perm_index(perm) < 0 || (p == NULL && value.len != 0)) {
        return S3_ERR_INVALID_ARGUMENT;
    }
    l.g = acl->grants;
    l.n = acl->n;
    l.cap = acl->n;

    /* item *( "," item ), item = key "=" ( '"' chars '"' | token ), with
     * blanks allowed around every part. An empty item, an empty header or
     * a trailing comma is an error. */
    for ( ;; ) {
        p = s3_acl_skip_ws(p, end);
        key = p;
        while (p < end
               && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        {
            p++;
        }
        klen = (size_t) (p - key);
        p = s3_acl_skip_ws(p, end);
        if (klen == 0 || p == end || *p != '=') {
            return S3_ERR_INVALID_ARGUMENT;
        }
        p = s3_acl_skip_ws(p + 1, end);
        if (p < end && *p == '"') {
            val = ++p;
            while (p < end && *p != '"') {
                p++;
            }
            if (p == end) {
                return S3_ERR_INVALID_ARGUMENT;
            }
            vlen = (size_t) (p - val);
            p++;
        } else {
            val = p;
            while (p < end && *p != ',' && *p != ' ' && *p != '\t'
                   && *p != '"')
            {
                p++;
            }
            vlen = (size_t) (p - val);
        }
        if (vlen == 0) {
            return S3_ERR_INVALID_ARGUMENT;
        }

        rc = s3_acl_header_grantee(key, klen, val, vlen, dir, &type, id);
        if (rc != S3_ERR_NONE) {
            return rc;
        }
        rc = s3_acl_list_add(pool, &l, type, id, perm);
        if (rc != S3_ERR_NONE) {
            return rc;
        }

        p = s3_acl_skip_ws(p, end);
        if (p == end) {
            break;
        }
        if (*p != ',') {
            return S3_ERR_INVALID_ARGUMENT;
        }
        p++;
    }
    acl->grants = l.g;
    acl->n = l.n;
    return S3_ERR_NONE;
}


/* ==== AccessControlPolicy documents, reading ==== */

enum {
    S3_ACL_E_NONE = 0,
    S3_ACL_E_POLICY,
    S3_ACL_E_OWNER,
    S3_ACL_E_OWNER_ID,
    S3_ACL_E_OWNER_NAME,
    S3_ACL_E_LIST,
    S3_ACL_E_GRANT,
    S3_ACL_E_GRANTEE,
    S3_ACL_E_GRANTEE_ID,
    S3_ACL_E_GRANTEE_NAME,
    S3_ACL_E_URI,
    S3_ACL_E_EMAIL,
    S3_ACL_E_PERMISSION
};

#define S3_ACL_BIT(e)  (1u << (e))

/* What a Grantee says it is (xsi:type), or which child names it. */
enum {
    S3_ACL_T_NONE = 0,
    S3_ACL_T_USER,
    S3_ACL_T_GROUP,
    S3_ACL_T_EMAIL
};

/* The schema S3 validates against: which element may appear in which, and
 * whether more than once. Anything else is MalformedACLError. */
static const struct {
    int          parent;
    const char  *name;
    int          elem;
    int          many;
} s3_acl_schema[] = {
    { S3_ACL_E_NONE,    "AccessControlPolicy", S3_ACL_E_POLICY, 0 },
    { S3_ACL_E_POLICY,  "Owner",               S3_ACL_E_OWNER, 0 },
    { S3_ACL_E_POLICY,  "AccessControlList",   S3_ACL_E_LIST, 0 },
    { S3_ACL_E_OWNER,   "ID",                  S3_ACL_E_OWNER_ID, 0 },
    { S3_ACL_E_OWNER,   "DisplayName",         S3_ACL_E_OWNER_NAME, 0 },
    { S3_ACL_E_LIST,    "Grant",               S3_ACL_E_GRANT, 1 },
    { S3_ACL_E_GRANT,   "Grantee",             S3_ACL_E_GRANTEE, 0 },
    { S3_ACL_E_GRANT,   "Permission",          S3_ACL_E_PERMISSION, 0 },
    { S3_ACL_E_GRANTEE, "ID",                  S3_ACL_E_GRANTEE_ID, 0 },
    { S3_ACL_E_GRANTEE, "DisplayName",         S3_ACL_E_GRANTEE_NAME, 0 },
    { S3_ACL_E_GRANTEE, "URI",                 S3_ACL_E_URI, 0 },
    { S3_ACL_E_GRANTEE, "EmailAddress",        S3_ACL_E_EMAIL, 0 },
};

typedef struct {
    XML_Parser           p;
    gw_pool_t           *pool;
    const s3_acl_dir_t  *dir;
    int                  rc;        /* the first S3_ERR_*; ends the parse */
    int                  depth;     /* of the open element; root = 1 */
    int                  elem[S3_ACL_DEPTH_MAX + 1];  /* open at each depth */
    unsigned             seen[S3_ACL_DEPTH_MAX + 1];  /* children seen */
    char                 text[S3_ACL_TEXT_MAX];
    size_t               tlen;
    int                  tover;     /* the text was longer than text[] */
    char                 owner[65];

    /* The Grant being read. The Grantee's children are checked as they
     * end and the verdict kept, because only at </Grantee> is it known
     * which of them names the grantee. */
    int                  xsi;       /* S3_ACL_T_* of xsi:type */
    int                  id_rc;     /* of <ID> */
    int                  uri_type;  /* S3_GRANTEE_* of <URI>, or 0 */
    int                  email_rc;  /* of <EmailAddress> */
    char                 id[65];    /* from <ID> or <EmailAddress> */
    int                  type;      /* the resolved grantee */
    unsigned             perm;

    s3_acl_list_t        list;
} s3_acl_parse_t;

static void
s3_acl_parse_fail(s3_acl_parse_t *st, int rc)
{
    if (st->rc == S3_ERR_NONE) {
        st->rc = rc;
        XML_StopParser(st->p, XML_FALSE);
    }
}

/* The local name of an element in the S3 namespace or in none, else NULL.
 * With namespace processing expat gives "uri local". */
static const char *
s3_acl_xml_local(const char *name)
{
    const char  *sp = strchr(name, ' ');

    if (sp == NULL) {
        return name;
    }
    if ((size_t) (sp - name) != sizeof(S3_ACL_NS) - 1
        || memcmp(name, S3_ACL_NS, sizeof(S3_ACL_NS) - 1) != 0)
    {
        return NULL;
    }
    return sp + 1;
}

/* The element's text without the blanks a pretty-printer puts around it. */
static gw_str_t
s3_acl_xml_text(const s3_acl_parse_t *st)
{
    const char  *b = st->text, *e = st->text + st->tlen;

    while (b < e && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')) {
        b++;
    }
    while (e > b
           && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'
               || e[-1] == '\n'))
    {
        e--;
    }
    return (gw_str_t) { b, (size_t) (e - b) };
}

static int
s3_acl_xml_xsi(const XML_Char **attrs)
{
    size_t  i;

    for (i = 0; attrs[i] != NULL; i += 2) {
        if (strcmp(attrs[i], S3_ACL_XSI_TYPE) != 0) {
            continue;
        }
        if (strcmp(attrs[i + 1], "CanonicalUser") == 0) {
            return S3_ACL_T_USER;
        }
        if (strcmp(attrs[i + 1], "Group") == 0) {
            return S3_ACL_T_GROUP;
        }
        if (strcmp(attrs[i + 1], "AmazonCustomerByEmail") == 0) {
            return S3_ACL_T_EMAIL;
        }
        return -1;
    }
    return S3_ACL_T_NONE;
}

static void XMLCALL
s3_acl_xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    s3_acl_parse_t  *st = ud;
    const char      *local;
    size_t           i;
    int              parent, elem;

    if (st->rc != S3_ERR_NONE) {
        return;
    }
    local = s3_acl_xml_local(name);
    parent = st->elem[st->depth];
    for (i = 0; i < GW_NELEMS(s3_acl_schema); i++) {
        if (s3_acl_schema[i].parent == parent && local != NULL
            && strcmp(s3_acl_schema[i].name, local) == 0)
        {
            break;
        }
    }
    /* Leaves have no row as parent, so a match is never deeper than
     * S3_ACL_DEPTH_MAX. */
    if (i == GW_NELEMS(s3_acl_schema)) {
        s3_acl_parse_fail(st, S3_ERR_MALFORMED_ACL_ERROR);
        return;
    }
    elem = s3_acl_schema[i].elem;
    if (!s3_acl_schema[i].many
        && (st->seen[st->depth] & S3_ACL_BIT(elem)))
    {
        s3_acl_parse_fail(st, S3_ERR_MALFORMED_ACL_ERROR);
        return;
    }
    st->seen[st->depth] |= S3_ACL_BIT(elem);
    st->depth++;
    st->elem[st->depth] = elem;
    st->seen[st->depth] = 0;
    st->tlen = 0;
    st->tover = 0;

    switch (elem) {
    case S3_ACL_E_GRANT:
        st->type = 0;
        st->perm = 0;
        break;
    case S3_ACL_E_GRANTEE:
        st->id_rc = S3_ERR_INVALID_ARGUMENT;
        st->uri_type = 0;
        st->email_rc = S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL;
        st->xsi = s3_acl_xml_xsi(attrs);
        if (st->xsi < 0) {
            s3_acl_parse_fail(st, S3_ERR_MALFORMED_ACL_ERROR);
        }
        break;
    default:
        break;
    }
}

/* At </Grantee>: exactly one of ID, URI and EmailAddress names the
 * grantee, and an xsi:type, when given, must say the same. */
static int
s3_acl_xml_grantee(s3_acl_parse_t *st, unsigned seen)
{
    unsigned  named = seen & (S3_ACL_BIT(S3_ACL_E_GRANTEE_ID)
                              | S3_ACL_BIT(S3_ACL_E_URI)
                              | S3_ACL_BIT(S3_ACL_E_EMAIL));
    int       kind;

    if (named == S3_ACL_BIT(S3_ACL_E_GRANTEE_ID)) {
        kind = S3_ACL_T_USER;
    } else if (named == S3_ACL_BIT(S3_ACL_E_URI)) {
        kind = S3_ACL_T_GROUP;
    } else if (named == S3_ACL_BIT(S3_ACL_E_EMAIL)) {
        kind = S3_ACL_T_EMAIL;
    } else {
        return S3_ERR_MALFORMED_ACL_ERROR;
    }
    if (st->xsi != S3_ACL_T_NONE && st->xsi != kind) {
        return S3_ERR_MALFORMED_ACL_ERROR;
    }
    switch (kind) {
    case S3_ACL_T_USER:
        st->type = S3_GRANTEE_USER;
        return st->id_rc;
    case S3_ACL_T_GROUP:
        st->type = st->uri_type;
        return st->uri_type != 0 ? S3_ERR_NONE : S3_ERR_INVALID_ARGUMENT;
    default:
        st->type = S3_GRANTEE_USER;
        return st->email_rc;
    }
}

static void XMLCALL
s3_acl_xml_end(void *ud, const XML_Char *name)
{
    s3_acl_parse_t  *st = ud;
    unsigned         seen;
    gw_str_t         t;
    size_t           i;
    int              elem, rc = S3_ERR_NONE;

    GW_UNUSED(name);
    if (st->rc != S3_ERR_NONE) {
        return;
    }
    elem = st->elem[st->depth];
    seen = st->seen[st->depth];
    t = s3_acl_xml_text(st);
    if (st->tover) {
        /* Too long to be any id, URI, address or permission. */
        t.len = SIZE_MAX;
    }

    switch (elem) {
    case S3_ACL_E_OWNER_ID:
        if (t.len == SIZE_MAX || s3_acl_id_copy(st->owner, t.base, t.len) != 0)
        {
            rc = S3_ERR_INVALID_ARGUMENT;
        }
        break;
    case S3_ACL_E_OWNER:
        if (!(seen & S3_ACL_BIT(S3_ACL_E_OWNER_ID))) {
            rc = S3_ERR_MALFORMED_ACL_ERROR;
        }
        break;
    case S3_ACL_E_GRANTEE_ID:
        st->id_rc = t.len != SIZE_MAX
                    && s3_acl_id_copy(st->id, t.base, t.len) == 0
                    ? S3_ERR_NONE : S3_ERR_INVALID_ARGUMENT;
        break;
    case S3_ACL_E_URI:
        st->uri_type = t.len != SIZE_MAX
                       ? s3_acl_group_by_uri(t.base, t.len) : 0;
        break;
    case S3_ACL_E_EMAIL:
        st->email_rc = t.len != SIZE_MAX
                       ? s3_acl_email(st->dir, t.base, t.len, st->id)
                       : S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL;
        break;
    case S3_ACL_E_GRANTEE:
        rc = s3_acl_xml_grantee(st, seen);
        break;
    case S3_ACL_E_PERMISSION:
        rc = S3_ERR_MALFORMED_ACL_ERROR;
        for (i = 0; t.len != SIZE_MAX && i < GW_NELEMS(s3_acl_perm_names);
             i++)
        {
            if (strlen(s3_acl_perm_names[i].name) == t.len
                && memcmp(s3_acl_perm_names[i].name, t.base, t.len) == 0)
            {
                st->perm = s3_acl_perm_names[i].perm;
                rc = S3_ERR_NONE;
                break;
            }
        }
        break;
    case S3_ACL_E_GRANT:
        if ((seen & S3_ACL_BIT(S3_ACL_E_GRANTEE)) == 0
            || (seen & S3_ACL_BIT(S3_ACL_E_PERMISSION)) == 0)
        {
            rc = S3_ERR_MALFORMED_ACL_ERROR;
            break;
        }
        rc = s3_acl_list_add(st->pool, &st->list, st->type, st->id, st->perm);
        break;
    case S3_ACL_E_POLICY:
        /* A missing AccessControlList is taken as an empty one (boto3
         * leaves it out when Grants is absent); a missing Owner is not. */
        if (!(seen & S3_ACL_BIT(S3_ACL_E_OWNER))) {
            rc = S3_ERR_MALFORMED_ACL_ERROR;
        }
        break;
    default:
        break;
    }
    st->depth--;
    st->tlen = 0;
    st->tover = 0;
    if (rc != S3_ERR_NONE) {
        s3_acl_parse_fail(st, rc);
    }
}

static void XMLCALL
s3_acl_xml_chars(void *ud, const XML_Char *s, int len)
{
    s3_acl_parse_t  *st = ud;

    if (st->rc != S3_ERR_NONE) {
        return;
    }
    if ((size_t) len > sizeof(st->text) - st->tlen) {
        st->tover = 1;
        return;
    }
    memcpy(st->text + st->tlen, s, (size_t) len);
    st->tlen += (size_t) len;
}

static void XMLCALL
s3_acl_xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                   const XML_Char *pubid, int has_internal_subset)
{
    /* No DTDs, hence no entity expansion games (as s3/xml.c). */
    s3_acl_parse_fail(ud, S3_ERR_MALFORMED_ACL_ERROR);
}

static void XMLCALL
s3_acl_xml_entity(void *ud, const XML_Char *name, int is_param,
                  const XML_Char *value, int value_len, const XML_Char *base,
                  const XML_Char *sysid, const XML_Char *pubid,
                  const XML_Char *notation)
{
    /* Unreachable past the DOCTYPE refusal; kept so that no entity is ever
     * declared even if the two handlers drift apart. */
    s3_acl_parse_fail(ud, S3_ERR_MALFORMED_ACL_ERROR);
}

int
s3_acl_parse_xml(gw_pool_t *pool, const char *buf, size_t len,
                 const s3_acl_dir_t *dir, s3_acl_t *out)
{
    s3_acl_parse_t  *st;
    int              rc;

    if (len > INT_MAX) {
        return S3_ERR_MALFORMED_ACL_ERROR;
    }
    /* The state holds the text buffer: heap, not the loop's stack. */
    st = gw_calloc(1, sizeof(*st));
    st->pool = pool;
    st->dir = dir;
    st->p = XML_ParserCreateNS(NULL, ' ');
    if (st->p == NULL) {
        rc = S3_ERR_INTERNAL_ERROR;
        goto done;
    }
    XML_SetUserData(st->p, st);
    XML_SetElementHandler(st->p, s3_acl_xml_start, s3_acl_xml_end);
    XML_SetCharacterDataHandler(st->p, s3_acl_xml_chars);
    XML_SetStartDoctypeDeclHandler(st->p, s3_acl_xml_doctype);
    XML_SetEntityDeclHandler(st->p, s3_acl_xml_entity);

    if (XML_Parse(st->p, buf, (int) len, XML_TRUE) != XML_STATUS_OK) {
        s3_acl_parse_fail(st, S3_ERR_MALFORMED_ACL_ERROR);
    }
    rc = st->rc;
    if (rc == S3_ERR_NONE) {
        memcpy(out->owner, st->owner, sizeof(out->owner));
        out->grants = st->list.g;
        out->n = st->list.n;
    }

done:
    if (st->p != NULL) {
        XML_ParserFree(st->p);
    }
    gw_free(st);
    return rc;
}


/* ==== AccessControlPolicy documents, writing ==== */

static void
s3_acl_xml_grantee_open(s3_xml_t *x, const char *type)
{
    static const char  open[] =
        "<Grantee xmlns:xsi=\"" S3_ACL_XSI_NS "\" xsi:type=\"";

    s3_xml_raw(x, open, sizeof(open) - 1);
    s3_xml_raw(x, type, strlen(type));
    s3_xml_raw(x, "\">", 2);
}

void
s3_acl_xml(const s3_acl_t *acl, const s3_acl_dir_t *dir, s3_xml_t *x)
{
    const s3_grant_t  *g;
    const char        *name, *uri;
    size_t             i;
    int                pi;

    s3_xml_begin(x, x->pool, "AccessControlPolicy");
    s3_xml_open(x, "Owner");
    s3_xml_elem(x, "ID", acl->owner, strnlen(acl->owner, 64));
    name = s3_acl_name(dir, acl->owner);
    if (name != NULL) {
        s3_xml_elem_str(x, "DisplayName", name);
    }
    s3_xml_close(x, "Owner");

    s3_xml_open(x, "AccessControlList");
    for (i = 0; i < acl->n; i++) {
        g = &acl->grants[i];
        pi = s3_acl_perm_index(g->perm);
        uri = s3_acl_group_uri(g->type);
        /* Only grants this module could have made are written. */
        if (pi < 0 || (g->type != S3_GRANTEE_USER && uri == NULL)) {
            continue;
        }
        s3_xml_open(x, "Grant");
        if (g->type == S3_GRANTEE_USER) {
            s3_acl_xml_grantee_open(x, "CanonicalUser");
            s3_xml_elem(x, "ID", g->id, strnlen(g->id, 64));
            name = s3_acl_name(dir, g->id);
            if (name != NULL) {
                s3_xml_elem_str(x, "DisplayName", name);
            }
        } else {
            s3_acl_xml_grantee_open(x, "Group");
            s3_xml_elem_str(x, "URI", uri);
        }
        s3_xml_close(x, "Grantee");
        s3_xml_elem_str(x, "Permission", s3_acl_perm_names[pi].name);
        s3_xml_close(x, "Grant");
    }
    s3_xml_close(x, "AccessControlList");
    s3_xml_end(x, "AccessControlPolicy");
}


/* ==== the stored form ====
 *
 *   "1 " <owner> " " <count> "\n"        version 1, count in decimal
 *   "U " <id> " " <perm> "\n"            a user grant
 *   "G " <group> " " <perm> "\n"         group: all, auth or log
 *
 * ids are 64 lowercase hex digits, perm the hex digit of its mask (1, 2,
 * 4, 8 or f). The count makes a truncated record fail to decode instead
 * of losing its last grants quietly. */

static const struct {
    const char  *name;
    int          type;
} s3_acl_stored_groups[] = {
    { "all",  S3_GRANTEE_ALL_USERS },
    { "auth", S3_GRANTEE_AUTH_USERS },
    { "log",  S3_GRANTEE_LOG_DELIVERY },
};

static const char *
s3_acl_stored_group(int type)
{
    size_t  i;

    for (i = 0; i < GW_NELEMS(s3_acl_stored_groups); i++) {
        if (s3_acl_stored_groups[i].type == type) {
            return s3_acl_stored_groups[i].name;
        }
    }
    return NULL;
}

/* Whether encode can write g; it skips what it cannot, so that decode
 * never meets it. */
static int
s3_acl_storable(const s3_grant_t *g)
{
    return s3_acl_perm_index(g->perm) >= 0
           && (g->type == S3_GRANTEE_USER
               || s3_acl_stored_group(g->type) != NULL);
}

char *
s3_acl_encode(gw_pool_t *pool, const s3_acl_t *acl, size_t *len)
{
    const s3_grant_t  *g;
    size_t             i, cap, n, count = 0;
    char              *buf;
    int                w;

    for (i = 0; i < acl->n; i++) {
        count += s3_acl_storable(&acl->grants[i]);
    }
    /* "1 " id " " count "\n", then at most "U " id " f\n" per grant. */
    cap = 2 + 64 + 1 + 20 + 1 + count * (2 + 64 + 3) + 1;
    buf = gw_pool_alloc(pool, cap);
    w = snprintf(buf, cap, "1 %.64s %zu\n", acl->owner, count);
    n = (size_t) w;
    for (i = 0; i < acl->n; i++) {
        g = &acl->grants[i];
        if (!s3_acl_storable(g)) {
            continue;
        }
        if (g->type == S3_GRANTEE_USER) {
            w = snprintf(buf + n, cap - n, "U %.64s %c\n", g->id,
                         s3_acl_perm_names[s3_acl_perm_index(g->perm)].digit);
        } else {
            w = snprintf(buf + n, cap - n, "G %s %c\n",
                         s3_acl_stored_group(g->type),
                         s3_acl_perm_names[s3_acl_perm_index(g->perm)].digit);
        }
        n += (size_t) w;
    }
    *len = n;
    return buf;
}

/* Reads exactly 64 lowercase hex digits at *p into id. */
static int
s3_acl_decode_id(const char **p, const char *end, char id[65])
{
    size_t  i;
    char    c;

    if (end - *p < 64) {
        return -1;
    }
    for (i = 0; i < 64; i++) {
        c = (*p)[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return -1;
        }
        id[i] = c;
    }
    id[64] = '\0';
    *p += 64;
    return 0;
}

/* Reads " " <perm digit> "\n" at *p. */
static int
s3_acl_decode_perm(const char **p, const char *end, unsigned *perm)
{
    size_t  i;

    if (end - *p < 3 || (*p)[0] != ' ' || (*p)[2] != '\n') {
        return -1;
    }
    for (i = 0; i < GW_NELEMS(s3_acl_perm_names); i++) {
        if (s3_acl_perm_names[i].digit == (*p)[1]) {
            *perm = s3_acl_perm_names[i].perm;
            *p += 3;
            return 0;
        }
    }
    return -1;
}

/* Reads <group> at *p, up to the blank before the permission. */
static int
s3_acl_decode_group(const char **p, const char *end, int *type)
{
    size_t  i, n;

    for (i = 0; i < GW_NELEMS(s3_acl_stored_groups); i++) {
        n = strlen(s3_acl_stored_groups[i].name);
        if ((size_t) (end - *p) > n && (*p)[n] == ' '
            && memcmp(*p, s3_acl_stored_groups[i].name, n) == 0)
        {
            *type = s3_acl_stored_groups[i].type;
            *p += n;
            return 0;
        }
    }
    return -1;
}

int
s3_acl_decode(gw_pool_t *pool, const char *buf, size_t len, s3_acl_t *out)
{
    const char  *p = buf, *end = buf + len, *digits;
    s3_grant_t  *g = NULL;
    size_t       count = 0, i;
    char         owner[65];

    if (buf == NULL || len < 2 || p[0] != '1' || p[1] != ' ') {
        return GW_ECORRUPT;
    }
    p += 2;
    if (s3_acl_decode_id(&p, end, owner) != 0 || p == end || *p++ != ' ') {
        return GW_ECORRUPT;
    }
    /* Seven digits are more grants than any record can hold; the bound
     * also keeps count from overflowing. */
    digits = p;
    while (p < end && *p >= '0' && *p <= '9' && p - digits < 7) {
        count = count * 10 + (size_t) (*p - '0');
        p++;
    }
    if (p == digits || (p - digits > 1 && *digits == '0') || p == end
        || *p++ != '\n')
    {
        return GW_ECORRUPT;
    }
    /* Checked before allocating: count comes from the bytes. */
    if (count > (size_t) (end - p) / S3_ACL_LINE_MIN) {
        return GW_ECORRUPT;
    }
    if (count > 0) {
        g = gw_pool_calloc(pool, count * sizeof(*g));
    }
    for (i = 0; i < count; i++) {
        if (end - p < 2 || p[1] != ' ') {
            return GW_ECORRUPT;
        }
        if (p[0] == 'U') {
            p += 2;
            if (s3_acl_decode_id(&p, end, g[i].id) != 0) {
                return GW_ECORRUPT;
            }
            g[i].type = S3_GRANTEE_USER;
        } else if (p[0] == 'G') {
            p += 2;
            if (s3_acl_decode_group(&p, end, &g[i].type) != 0) {
                return GW_ECORRUPT;
            }
        } else {
            return GW_ECORRUPT;
        }
        if (s3_acl_decode_perm(&p, end, &g[i].perm) != 0) {
            return GW_ECORRUPT;
        }
    }
    if (p != end) {
        return GW_ECORRUPT;
    }
    memcpy(out->owner, owner, sizeof(owner));
    out->grants = g;
    out->n = count;
    return GW_OK;
}


/* ==== permissions of a caller ==== */

unsigned
s3_acl_perms(const s3_acl_t *acl, const char *canonical_id,
             const char **which)
{
    /* [grantee][permission], in the order of s3_acl_perm_names. */
    static const char  *const desc[3][5] = {
        { "grant READ to user", "grant WRITE to user",
          "grant READ_ACP to user", "grant WRITE_ACP to user",
          "grant FULL_CONTROL to user" },
        { "grant READ to AllUsers", "grant WRITE to AllUsers",
          "grant READ_ACP to AllUsers", "grant WRITE_ACP to AllUsers",
          "grant FULL_CONTROL to AllUsers" },
        { "grant READ to AuthenticatedUsers",
          "grant WRITE to AuthenticatedUsers",
          "grant READ_ACP to AuthenticatedUsers",
          "grant WRITE_ACP to AuthenticatedUsers",
          "grant FULL_CONTROL to AuthenticatedUsers" },
    };
    const s3_grant_t  *g;
    unsigned           perms = 0;
    size_t             i;
    int                who, pi;

    if (which != NULL) {
        *which = NULL;
    }
    for (i = 0; i < acl->n; i++) {
        g = &acl->grants[i];
        switch (g->type) {
        case S3_GRANTEE_USER:
            if (canonical_id == NULL || strcasecmp(g->id, canonical_id) != 0)
            {
                continue;
            }
            who = 0;
            break;
        case S3_GRANTEE_ALL_USERS:
            who = 1;
            break;
        case S3_GRANTEE_AUTH_USERS:
            if (canonical_id == NULL) {
                continue;
            }
            who = 2;
            break;
        default:
            /* LogDelivery is S3's own log writer; no caller here is it. */
            continue;
        }
        pi = s3_acl_perm_index(g->perm);
        if (pi < 0) {
            continue;
        }
        if (which != NULL && *which == NULL) {
            *which = desc[who][pi];
        }
        perms |= g->perm;
    }
    return perms;
}


/* ==== public grants, owner-only ACLs ==== */

static int
s3_acl_grant_public(const s3_grant_t *g)
{
    return g->type == S3_GRANTEE_ALL_USERS || g->type == S3_GRANTEE_AUTH_USERS;
}

int
s3_acl_is_public(const s3_acl_t *acl)
{
    size_t  i;

    for (i = 0; i < acl->n; i++) {
        if (s3_acl_grant_public(&acl->grants[i])) {
            return 1;
        }
    }
    return 0;
}

void
s3_acl_drop_public(gw_pool_t *pool, const s3_acl_t *acl, s3_acl_t *out)
{
    size_t  i, n = 0;

    memcpy(out->owner, acl->owner, sizeof(out->owner));
    out->grants = acl->n ? gw_pool_alloc(pool, acl->n * sizeof(s3_grant_t))
                         : NULL;
    for (i = 0; i < acl->n; i++) {
        if (!s3_acl_grant_public(&acl->grants[i])) {
            out->grants[n++] = acl->grants[i];
        }
    }
    out->n = n;
}

int
s3_acl_owner_only(const s3_acl_t *acl, const char *id)
{
    size_t  i;

    for (i = 0; i < acl->n; i++) {
        if (acl->grants[i].type != S3_GRANTEE_USER
            || acl->grants[i].perm != S3_PERM_FULL_CONTROL
            || id == NULL || strcasecmp(acl->grants[i].id, id) != 0)
        {
            return 0;
        }
    }
    return 1;
}
