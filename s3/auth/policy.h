/* s3/auth/policy.h: bucket policies, the JSON documents of PutBucketPolicy.
 * Owns reading a policy (jansson), validating it the way S3 does
 * (MalformedPolicy with S3's reason), and evaluating its statements against
 * one request: principal, action, resource and conditions. Knows nothing of
 * HTTP, LMDB, owners or ACLs; s3/auth/access.c combines its verdict with
 * those.
 *
 * Our users are accounts of their own: a user is matched by its account id
 * ("123456789012", "arn:aws:iam::123456789012:root"), by its user ARN
 * ("arn:aws:iam::123456789012:user/NAME") or by its canonical id
 * ({"CanonicalUser": "<64 hex>"}); "*" and {"AWS": "*"} match everyone,
 * anonymous callers included. */
#ifndef S3_AUTH_POLICY_H
#define S3_AUTH_POLICY_H

#include <stddef.h>

#include "core/gw.h"

#define S3_POLICY_MAX  (20 * 1024)   /* bytes, as S3 */

typedef struct s3_policy_s  s3_policy_t;

/* Who is asking. name == NULL: anonymous (the other fields are NULL too). */
typedef struct s3_principal_s {
    const char  *name;          /* user name, as in ${aws:username} */
    const char  *account_id;    /* 12 digits */
    const char  *canonical_id;  /* 64 lowercase hex digits */
} s3_principal_t;

/* The request context for conditions and policy variables: name -> value
 * pairs. Names compare case-insensitively, except the part after the '/'
 * of s3:ExistingObjectTag/<tag> (tag keys are case-sensitive). A name that
 * appears several times has several values (a multivalued key); a name
 * that is absent is "not present in the request". aws:username and
 * aws:userid need not be listed: when absent they are taken from the
 * principal (its name and its canonical id; nothing for anonymous). ctx
 * may be NULL, an empty context. */
typedef struct s3_policy_ctx_s {
    const gw_kv_t  *kv;
    size_t          n;
} s3_policy_ctx_t;

/* Tells whether a principal named in a policy exists: account_id is 12
 * digits, user is NULL for the account itself ("...:root" or a bare id) or
 * the user name of ":user/NAME"; canonical_id is set instead of both for a
 * CanonicalUser principal. Returns 1 when it exists. */
typedef int (*s3_policy_known_pt)(void *ud, const char *account_id,
                                  const char *user, const char *canonical_id);

/* Parses and validates json[0..len) as the policy of bucket. Returns GW_OK
 * with *out (free with s3_policy_free), or GW_EINVAL with S3's
 * MalformedPolicy message in why (NUL-terminated, at most whylen bytes), for
 * example "Policy has invalid action", "Policy has invalid resource",
 * "Invalid principal in policy", "Missing required field Principal",
 * "Action does not apply to any resource(s) in statement",
 * "Policy has an invalid condition key", "This policy contains invalid
 * Json". known may be NULL (every principal is taken as existing); bucket
 * may be NULL (resources are then not checked against a bucket). json is
 * borrowed; *out keeps no pointer into it. Other messages: "Unknown field
 * <name>", "Missing required field <name>", "Invalid effect: <x>",
 * "Invalid Condition type : <op>", "Invalid Condition value", "The policy
 * must contain a valid version string", "Statement IDs (SID) in a single
 * policy must be unique", "Policy exceeds the maximum allowed document
 * size." */
int s3_policy_parse(const char *json, size_t len, const char *bucket,
                    s3_policy_known_pt known, void *ud, s3_policy_t **out,
                    char *why, size_t whylen);
void s3_policy_free(s3_policy_t *p);

#define S3_POLICY_NONE   0   /* no statement applies: implicit deny */
#define S3_POLICY_ALLOW  1
#define S3_POLICY_DENY   2   /* an explicit Deny, which wins over any Allow */

/* Evaluates p for who doing action ("s3:GetObject") on resource
 * ("arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key") in ctx, as IAM
 * does: a statement applies when its principal, action, resource and every
 * condition match; any applicable Deny wins, else any Allow. Allocates
 * nothing unless a policy variable expands past 1 KiB. *which
 * (may be NULL) gets the deciding statement, its Sid or "#N" (N counting
 * from 1), owned by p; NULL for S3_POLICY_NONE. */
int s3_policy_eval(const s3_policy_t *p, const s3_principal_t *who,
                   const char *action, const char *resource,
                   const s3_policy_ctx_t *ctx, const char **which);

/* 1 when p is public in Amazon S3's sense ("The meaning of public"): an
 * Allow statement grants to everyone ("*", or NotPrincipal) without a
 * condition that holds it to fixed values: aws:SourceIp within ranges of
 * at least /8 (IPv4) or /32 (IPv6), or a fixed (no wildcard, no variable)
 * aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner,
 * aws:SourceAccount, aws:userid, aws:PrincipalAccount, aws:PrincipalArn,
 * aws:PrincipalOrgID or s3:x-amz-server-side-encryption-aws-kms-key-id,
 * under a positive operator (StringEquals, StringLike, ArnEquals,
 * IpAddress...; not a Not..., ...IfExists or ForAllValues one). */
int s3_policy_is_public(const s3_policy_t *p);

/* The wildcard match policies use: '*' any run, '?' one character;
 * icase folds ASCII case. 1 on a match. */
int s3_policy_like(const char *pat, size_t plen, const char *s, size_t slen,
                   int icase);

#endif
