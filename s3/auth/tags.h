/* s3/auth/tags.h: object and bucket tag sets: S3's limits on them, the
 * x-amz-tagging header form ("k1=v1&k2=v2") and the Tagging document. Tags are read by access
 * decisions (s3:ExistingObjectTag, s3:RequestObjectTag) as well as by the
 * tagging, PutObject and copy operations, so they live on the auth floor,
 * below all of them. Pure functions; results live in the pool given. */
#ifndef S3_AUTH_TAGS_H
#define S3_AUTH_TAGS_H

#include "core/gw.h"
#include "core/pool.h"
#include "s3/error.h"

#define S3_TAGS_MAX          10          /* per object, as S3 */
#define S3_BUCKET_TAGS_MAX   50          /* per bucket, as S3 */
#define S3_TAG_KEY_MAX       128         /* Unicode characters */
#define S3_TAG_VALUE_MAX     256

/* S3's limits on an object's tag set. S3_ERR_NONE or InvalidTag, *msg
 * saying which limit. */
int s3_tags_check(const gw_kv_t *tags, size_t n, const char **msg);

/* Sorts a tag set by key (bytewise), the order S3 returns tags in. Every
 * parser below returns its set sorted, so stored sets are sorted too. */
void s3_tags_sort(gw_kv_t *tags, size_t n);

/* x-amz-tagging ("k1=v1&k2=v2"; "k" alone is k with an empty value) into tags in pool, validated like
 * PutObjectTagging. Returns S3_ERR_NONE or an S3 error with *msg set. */
int s3_tags_parse_header(gw_pool_t *pool, const gw_str_t *v, gw_kv_t **tags,
                         size_t *ntags, const char **msg);

/* A Tagging document (<Tagging><TagSet><Tag><Key/><Value/></Tag>...), as
 * PutObjectTagging takes it and a browser POST's tagging field carries it,
 * read strictly and validated by s3_tags_check, into tags in pool.
 * S3_ERR_NONE, MalformedXML, or InvalidTag with *msg set. */
int s3_tags_parse_xml(gw_pool_t *pool, const char *buf, size_t len,
                      gw_kv_t **tags, size_t *ntags, const char **msg);

/* A bucket's Tagging document (PutBucketTagging): read as
 * s3_tags_parse_xml reads an object's, with the bucket's limit of 50 tags,
 * and sorted by key (bytewise), the order GetBucketTagging gives them back
 * in. S3_ERR_NONE, MalformedXML, or InvalidTag with *msg set. */
int s3_tags_parse_bucket_xml(gw_pool_t *pool, const char *buf, size_t len,
                             gw_kv_t **tags, size_t *ntags, const char **msg);

#endif
