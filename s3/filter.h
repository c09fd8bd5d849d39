/* s3/filter.h: what the rule filters of the bucket replication and
 * lifecycle configurations share: the <Tag><Key/><Value/></Tag> element,
 * S3's limits on a filter's tags, matching a filter's tags against an
 * object's, and the ID S3 makes for a rule that has none. Request
 * plumbing, below both configuration models (s3/replication.c,
 * s3/lifecycle.c). Pure functions; results live in the pool given. */
#ifndef S3_FILTER_H
#define S3_FILTER_H

#include "core/gw.h"
#include "core/pool.h"
#include "s3/xml.h"

#define S3_FILTER_TAG_KEY_MAX    128     /* Unicode characters, as S3 */
#define S3_FILTER_TAG_VALUE_MAX  256

/* Appends the Key and Value of a <Tag> element to *tags (*ntags of them,
 * grown in pool). GW_OK, or GW_EINVAL for a Tag that is not exactly one
 * Key and one Value (MalformedXML). */
int s3_filter_tag_read(gw_pool_t *pool, const s3_xml_node_t *tag,
                       gw_kv_t **tags, size_t *ntags);

/* The tags of one filter: S3's limits on a tag (InvalidTag) and no key
 * twice (InvalidRequest), with S3's message in *msg; S3_ERR_NONE if
 * they hold. */
int s3_filter_tags_check(const gw_kv_t *tags, size_t n, const char **msg);

/* 1 if every tag a filter wants is among the object's, with its value. */
int s3_filter_tags_match(const gw_kv_t *want, size_t nwant,
                         const gw_kv_t *have, size_t nhave);

/* <Tag><Key>..</Key><Value>..</Value></Tag> */
void s3_filter_tag_xml(s3_xml_t *x, const gw_kv_t *t);

/* An ID as S3 makes one for a rule without: the base64 of the text of a
 * random (version 4) UUID, 48 characters. */
gw_str_t s3_filter_new_id(gw_pool_t *pool);

#endif
