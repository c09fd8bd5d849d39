/* s3/record.h: record writes several operations share: rewriting an
 * object record in place (tags, ACL) and storing a bucket configuration
 * document (ACL, policy), each answered once durable. */
#ifndef S3_RECORD_H
#define S3_RECORD_H

#include "s3/req.h"

/* Rewrites the record of the request's object (the version its versionId
 * names, or the current one; in place: it keeps its version id and its
 * place among the versions) with edit(copy, ud) applied
 * (only fields that are views into the old record or into r->pool), and
 * answers status once committed. A write of the key that lands between the
 * read and the commit is never undone: the record is read again and edit
 * applied again (so it may run more than once). S3_ERR_NONE when queued, or
 * the S3 error to answer (NoSuchKey, NoSuchVersion, MethodNotAllowed for a
 * delete marker, InvalidArgument for a bad version id...). */
int s3_object_rewrite(s3_req_t *r, void (*edit)(store_object_t *o, void *ud),
                      void *ud, int status);
/* Stores the configuration document kind of the request's bucket (val.base
 * NULL removes it) and answers status once it is durable. */
void s3_bucket_conf_put(s3_req_t *r, const char *kind, gw_str_t val,
                        int status);

/* The destinations a change of (bucket, key) must reach under the
 * bucket's replication rules, into *out (its names in r->pool; ndests 0
 * when none): for a write, every destination whose highest-priority
 * matching rule takes an object with these tags; for a delete (tags
 * unused), the one rule that decides, when it replicates deletes.
 * S3_ERR_NONE or InternalError (a configuration that does not decode). */
int s3_record_repl(s3_req_t *r, const char *bucket, gw_str_t key,
                   const gw_kv_t *tags, size_t ntags, int del,
                   store_repl_t *out);

#endif
