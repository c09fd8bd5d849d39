/* s3/website.h: the static website configuration model. Owns the reading
 * and validation of a WebsiteConfiguration document (the body of
 * PutBucketWebsite), its stored form (the bucket's "website" configuration
 * document: the normalized XML that GetBucketWebsite gives back), and the
 * pure decisions of the website endpoint: the index document a key maps
 * to, the redirect of RedirectAllRequestsTo, and which routing rule (if
 * any) redirects a request, and where.
 *
 * Request plumbing, so that the operations and the website endpoint
 * (s3/ops/website.c) can both use it. Pure functions: no I/O, no request;
 * every result lives in the pool given.
 *
 * Routing rules are tried in document order, the first that matches wins,
 * as S3 does. A rule whose Condition names no HttpErrorCodeReturnedEquals
 * is tried before the object is looked up (error 0 below): it redirects
 * whether the key exists or not. A rule with HttpErrorCodeReturnedEquals
 * is tried only once the request failed with that status. */
#ifndef S3_WEBSITE_H
#define S3_WEBSITE_H

#include "core/gw.h"
#include "core/pool.h"
#include "s3/error.h"
#include "s3/xml.h"

#define S3_WEB_RULES_MAX  50                 /* S3's limit */
#define S3_WEB_BODY_MAX   (128 * 1024)       /* the longest document taken */
#define S3_WEB_TEXT_MAX   1024               /* a key, prefix or host name */

/* One routing rule. Strings are views (into the parsed document or the
 * pool), not NUL-terminated. */
typedef struct s3_web_rule_s {
    unsigned    has_prefix:1;         /* Condition KeyPrefixEquals given */
    unsigned    has_replace_prefix:1; /* Redirect ReplaceKeyPrefixWith */
    unsigned    has_replace_key:1;    /* Redirect ReplaceKeyWith */
    gw_str_t    prefix;               /* KeyPrefixEquals */
    int         error_code;           /* HttpErrorCodeReturnedEquals; 0:
                                       * none */
    gw_str_t    protocol;             /* "http", "https"; len 0: the
                                       * request's */
    gw_str_t    host;                 /* len 0: the request's Host */
    gw_str_t    replace_prefix;
    gw_str_t    replace_key;
    int         code;                 /* HttpRedirectCode; 0: none given
                                       * (301) */
} s3_web_rule_t;

typedef struct s3_web_conf_s {
    unsigned        redirect_all:1;   /* RedirectAllRequestsTo */
    unsigned        has_error_doc:1;
    gw_str_t        all_host;         /* RedirectAllRequestsTo HostName */
    gw_str_t        all_protocol;     /* len 0: the request's */
    gw_str_t        suffix;           /* IndexDocument Suffix */
    gw_str_t        error_key;        /* ErrorDocument Key */
    s3_web_rule_t  *rules;            /* in document order */
    size_t          nrules;
} s3_web_conf_t;

/* A redirect the endpoint answers with. */
typedef struct s3_web_redirect_s {
    int          status;              /* 301, 302, 303, 307, 308 */
    const char  *location;            /* NUL-terminated, in the pool */
} s3_web_redirect_t;

/* Reads and validates a PutBucketWebsite body (or the stored form), as S3
 * does. S3_ERR_NONE with *out in pool (its strings view doc, which must
 * live as long, or the pool), or MalformedXML or InvalidArgument with *msg
 * set (static or in pool). */
int s3_website_parse(gw_pool_t *pool, const char *doc, size_t len,
                     s3_web_conf_t **out, const char **msg);
/* The WebsiteConfiguration document of c, normalized (the stored form,
 * and what GetBucketWebsite answers), into x in pool. */
void s3_website_xml(const s3_web_conf_t *c, s3_xml_t *x, gw_pool_t *pool);

/* The key the endpoint serves for key: key itself, or key + Suffix when key
 * is "" (the site's root) or ends with "/" (a folder). Returns 1 when the
 * index document was appended, 0 otherwise; *out in pool. */
int s3_website_index(const s3_web_conf_t *c, gw_pool_t *pool, gw_str_t key,
                     gw_str_t *out);
/* "key/" + Suffix: the index document that a request for a missing "key"
 * is redirected to ("/key/", 302) when it exists; *out in pool. */
void s3_website_folder_index(const s3_web_conf_t *c, gw_pool_t *pool,
                             gw_str_t key, gw_str_t *out);

/* RedirectAllRequestsTo: 1 with *out set (301 to protocol://host/key,
 * protocol defaulting to proto, the request's), or 0 when c has none. */
int s3_website_redirect_all(const s3_web_conf_t *c, gw_pool_t *pool,
                            gw_str_t key, const char *proto,
                            s3_web_redirect_t *out);
/* The first routing rule that matches a request for key (the key as
 * requested, before the index document) that ended with HTTP status error
 * (0: before the lookup, see above): 1 with *out set, or 0. The Location is
 * protocol://host/newkey, protocol and host defaulting to proto and host
 * (the request's scheme and Host); newkey is ReplaceKeyWith, or key with
 * the matched KeyPrefixEquals replaced by ReplaceKeyPrefixWith, or key;
 * it is percent-encoded but for '/'. */
int s3_website_route(const s3_web_conf_t *c, gw_pool_t *pool, gw_str_t key,
                     int error, const char *proto, const char *host,
                     s3_web_redirect_t *out);

#endif
