/* s3/auth/acl.h: access control lists of buckets and objects. Owns the grant
 * model and every way S3 lets a client say one: canned ACLs (x-amz-acl),
 * x-amz-grant-* headers and AccessControlPolicy XML documents (expat), the
 * AccessControlPolicy document GetBucketAcl/GetObjectAcl answer with, and
 * the compact text form store/ keeps (store/ treats it as opaque bytes).
 * Knows nothing of policies or of who is asking; s3/auth/access.c asks it
 * which permissions a caller holds. */
#ifndef S3_AUTH_ACL_H
#define S3_AUTH_ACL_H

#include <stddef.h>

#include "core/gw.h"
#include "core/pool.h"
#include "s3/xml.h"

#define S3_PERM_READ          0x1
#define S3_PERM_WRITE         0x2
#define S3_PERM_READ_ACP      0x4
#define S3_PERM_WRITE_ACP     0x8
#define S3_PERM_FULL_CONTROL  0xf

#define S3_GRANTEE_USER          1   /* id: a canonical user id */
#define S3_GRANTEE_ALL_USERS     2   /* http://acs.amazonaws.com/groups/global/AllUsers */
#define S3_GRANTEE_AUTH_USERS    3   /* .../global/AuthenticatedUsers */
#define S3_GRANTEE_LOG_DELIVERY  4   /* .../s3/LogDelivery */

#define S3_ACL_MAX_GRANTS  100       /* as S3 */

typedef struct s3_grant_s {
    int        type;                 /* S3_GRANTEE_* */
    char       id[65];               /* S3_GRANTEE_USER: 64 lowercase hex */
    unsigned   perm;                 /* one S3_PERM_* (FULL_CONTROL is one) */
} s3_grant_t;

/* An ACL: its owner and its grants. Grants live in the pool given to the
 * function that filled it. */
typedef struct s3_acl_s {
    char         owner[65];          /* canonical id of the resource owner */
    s3_grant_t  *grants;
    size_t       n;
} s3_acl_t;

/* Who the users are, for email grantees and display names. */
typedef struct s3_acl_dir_s {
    /* canonical id of the user with this email address, or NULL */
    const char  *(*id_by_email)(void *ud, const char *email, size_t len);
    /* display name of a canonical id, or NULL when no user has it */
    const char  *(*name_by_id)(void *ud, const char *id);
    void         *ud;
} s3_acl_dir_t;

/* The canned ACL name[0..len) ("private", "public-read",
 * "public-read-write", "authenticated-read", "bucket-owner-read",
 * "bucket-owner-full-control", "log-delivery-write", "aws-exec-read") for
 * a resource of owner; bucket_owner is the owning bucket's owner (the
 * bucket-owner-* forms grant it; for a bucket pass owner). Every form
 * grants owner FULL_CONTROL first; bucket_owner may be NULL (= owner).
 * Names are case-sensitive, as in S3. aws-exec-read is private here (S3's
 * extra grant is to EC2). Returns S3_ERR_NONE or S3_ERR_INVALID_ARGUMENT
 * for an unknown name (or an owner that is not a canonical id). */
int s3_acl_canned(gw_pool_t *pool, const char *name, size_t len,
                  const char *owner, const char *bucket_owner, s3_acl_t *out);

/* Adds the grants of one x-amz-grant-* header to acl: perm is the header's
 * permission (x-amz-grant-read: S3_PERM_READ, -write, -read-acp, -write-acp,
 * -full-control), value its text: a comma-separated list of id="...",
 * uri="..." or emailAddress="..." (quotes optional, spaces around items
 * allowed). Returns S3_ERR_NONE, S3_ERR_INVALID_ARGUMENT (bad syntax,
 * unknown group URI, bad id, too many grants) or
 * S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL. acl->owner must be set already.
 * Keys are case-insensitive; a grant acl already holds is not added twice
 * (S3_ACL_MAX_GRANTS counts distinct grants). On error acl is unchanged. */
int s3_acl_grant_header(gw_pool_t *pool, s3_acl_t *acl, unsigned perm,
                        gw_str_t value, const s3_acl_dir_t *dir);

/* Parses an AccessControlPolicy document (PutBucketAcl / PutObjectAcl
 * body) into out: Owner/ID and every Grant (Grantee of xsi:type
 * CanonicalUser with ID, Group with URI, AmazonCustomerByEmail with
 * EmailAddress; Permission READ, WRITE, READ_ACP, WRITE_ACP or
 * FULL_CONTROL). Returns S3_ERR_NONE, S3_ERR_MALFORMED_ACL_ERROR (not
 * well-formed, wrong root, a grant missing its grantee or permission, an
 * unknown permission or grantee type, no Owner/ID), S3_ERR_INVALID_ARGUMENT
 * (unknown group URI, too many grants, an Owner or CanonicalUser ID that
 * is not 64 hex digits) or S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL. The S3
 * namespace is optional; without xsi:type the grantee's type is its ID,
 * URI or EmailAddress child, and with it the two must agree. A missing
 * AccessControlList means no grants. Identical grants are merged. No DTD
 * is accepted. out is written only on success. */
int s3_acl_parse_xml(gw_pool_t *pool, const char *buf, size_t len,
                     const s3_acl_dir_t *dir, s3_acl_t *out);

/* Writes the AccessControlPolicy document of acl (Owner with ID and
 * DisplayName, AccessControlList of Grant with xsi:type grantees) into x,
 * a fresh s3_xml_t whose pool field the caller has set (x->pool = the pool
 * that owns the body): s3_xml_begin and s3_xml_end are done here.
 * DisplayName comes from dir->name_by_id and is left out where it answers
 * NULL; dir may be NULL. */
void s3_acl_xml(const s3_acl_t *acl, const s3_acl_dir_t *dir, s3_xml_t *x);

/* The stored form: text that s3_acl_decode reads back to an equal ACL
 * (acl->owner must be a canonical id). Versioned, one line per grant, with
 * the grant count up front so a truncated record does not decode.
 * Returns a pool string (NUL-terminated) and its length in *len. */
char *s3_acl_encode(gw_pool_t *pool, const s3_acl_t *acl, size_t *len);
/* GW_OK, or GW_ECORRUPT for bytes s3_acl_encode did not write. */
int s3_acl_decode(gw_pool_t *pool, const char *buf, size_t len,
                  s3_acl_t *out);

/* 1 when acl grants anything to AllUsers or AuthenticatedUsers: public,
 * in S3's sense (Block Public Access). */
int s3_acl_is_public(const s3_acl_t *acl);
/* acl without its AllUsers and AuthenticatedUsers grants into *out (the
 * grant array in pool): what IgnorePublicAcls leaves of it. */
void s3_acl_drop_public(gw_pool_t *pool, const s3_acl_t *acl, s3_acl_t *out);
/* 1 when every grant of acl is FULL_CONTROL to the user id: an ACL that
 * says no more than "id owns it" (private, or bucket-owner-full-control
 * where id owns the bucket), the only kind BucketOwnerEnforced takes. */
int s3_acl_owner_only(const s3_acl_t *acl, const char *id);

/* The permissions acl grants a caller: canonical_id NULL for anonymous
 * (only AllUsers grants apply), otherwise that user's grants plus AllUsers
 * and AuthenticatedUsers. FULL_CONTROL counts as all four. *which (may be
 * NULL) gets a static description of the first grant that contributed,
 * such as "grant FULL_CONTROL to user", "grant READ to AllUsers", or NULL
 * when none did. LogDelivery grants give no caller anything. Only grants
 * count: what an owner may do regardless is s3/auth/access.c's business. */
unsigned s3_acl_perms(const s3_acl_t *acl, const char *canonical_id,
                      const char **which);

#endif
