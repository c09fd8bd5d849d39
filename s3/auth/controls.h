/* s3/auth/controls.h: the two bucket settings that override ACLs and
 * policies, as Amazon S3 has them: Object Ownership (who owns the objects
 * written into a bucket, and whether ACLs count at all) and Block Public
 * Access (four flags that refuse or ignore public ACLs and policies). Owns
 * their documents (OwnershipControls, PublicAccessBlockConfiguration: read
 * with s3/xml's expat reader, written with s3/xml) and their stored forms,
 * the bucket's "ownership" and "pab" configuration documents (store/
 * treats them as opaque bytes). What they mean for a request is
 * s3/auth/access.c's. */
#ifndef S3_AUTH_CONTROLS_H
#define S3_AUTH_CONTROLS_H

#include "core/conf.h"
#include "core/gw.h"
#include "core/pool.h"
#include "s3/xml.h"

/* The settings, by the values default_object_ownership parses to. */
#define S3_OWNERSHIP_WRITER     GW_CONF_OWNERSHIP_WRITER
#define S3_OWNERSHIP_PREFERRED  GW_CONF_OWNERSHIP_PREFERRED
#define S3_OWNERSHIP_ENFORCED   GW_CONF_OWNERSHIP_ENFORCED

/* S3_OWNERSHIP_* of S3's name s[0..len) (case-sensitive), or -1. */
int s3_ownership_by_name(const char *s, size_t len);
/* S3's name of an S3_OWNERSHIP_* value. */
const char *s3_ownership_name(int ownership);

/* An OwnershipControls document (PutBucketOwnershipControls) into *out:
 * exactly one Rule with one ObjectOwnership of a known name. S3_ERR_NONE
 * or S3_ERR_MALFORMED_XML. */
int s3_ownership_parse_xml(const char *buf, size_t len, int *out);
/* The OwnershipControls document of ownership into x (in pool). */
void s3_ownership_xml(int ownership, s3_xml_t *x, gw_pool_t *pool);

/* The stored form: "1 " and S3's name. Returns a pool string and its
 * length in *len. */
char *s3_ownership_encode(gw_pool_t *pool, int ownership, size_t *len);
/* GW_OK with *out, or GW_ECORRUPT. */
int s3_ownership_decode(const char *buf, size_t len, int *out);

/* Block Public Access: the four flags of S3's PublicAccessBlockConfiguration
 * (an absent flag is false). */
typedef struct s3_pab_s {
    unsigned  block_acls:1;      /* BlockPublicAcls: refuse public ACLs */
    unsigned  ignore_acls:1;     /* IgnorePublicAcls: public grants count
                                  * for nothing */
    unsigned  block_policy:1;    /* BlockPublicPolicy: refuse a public
                                  * bucket policy */
    unsigned  restrict_public:1; /* RestrictPublicBuckets: a public policy
                                  * grants only the owner's account */
} s3_pab_t;

/* A PublicAccessBlockConfiguration document into *out: each flag at most
 * once, "true" or "false". S3_ERR_NONE or S3_ERR_MALFORMED_XML. */
int s3_pab_parse_xml(const char *buf, size_t len, s3_pab_t *out);
/* The document of pab, every flag written, into x (in pool). */
void s3_pab_xml(const s3_pab_t *pab, s3_xml_t *x, gw_pool_t *pool);
/* The stored form: "1 " and four digits 0 or 1 in S3's order. */
char *s3_pab_encode(gw_pool_t *pool, const s3_pab_t *pab, size_t *len);
/* GW_OK with *out, or GW_ECORRUPT. */
int s3_pab_decode(const char *buf, size_t len, s3_pab_t *out);

#endif
