/* s3/ops/ops.h: the route tables of the operation families, one per file
 * of s3/ops/, for s3/routes.c. Each family file starts with its table; a
 * handler never calls another family's: what two need lives a floor down
 * (s3/auth/ or the request plumbing in s3/).
 *
 *   bucket.c     ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
 *                GetBucketLocation, ListObjects(V2)
 *   versions.c   Put/GetBucketVersioning, ListObjectVersions
 *   object.c     PutObject, GetObject, HeadObject, DeleteObject
 *   copy.c       CopyObject (PutObject with x-amz-copy-source)
 *   multipart.c  Create/Complete/AbortMultipartUpload, UploadPart(Copy),
 *                ListParts, ListMultipartUploads
 *   delete.c     DeleteObjects
 *   tagging.c    Get/Put/DeleteObjectTagging
 *   acl.c        Get/PutBucketAcl, Get/PutObjectAcl
 *   policy.c     Get/Put/DeleteBucketPolicy
 *   replication.c  Get/Put/DeleteBucketReplication
 *   cors.c       Get/Put/DeleteBucketCors, and CORS on every request
 *                (s3_cors_request, before authentication)
 *   website.c    Get/Put/DeleteBucketWebsite, and the website endpoint
 *                (s3_website_request)
 *   post.c       PostObject (browser form uploads)
 *   lifecycle.c  Get/Put/DeleteBucketLifecycleConfiguration
 *   controls.c   Get/Put/DeleteBucketOwnershipControls,
 *                Get/Put/DeletePublicAccessBlock, GetBucketPolicyStatus
 *   attributes.c GetObjectAttributes */
#ifndef S3_OPS_OPS_H
#define S3_OPS_OPS_H

#include "s3/req.h"

extern const s3_route_t  s3_bucket_routes[];
extern const s3_route_t  s3_versions_routes[];
extern const s3_route_t  s3_object_routes[];
extern const s3_route_t  s3_copy_routes[];
extern const s3_route_t  s3_multipart_routes[];
extern const s3_route_t  s3_delete_routes[];
extern const s3_route_t  s3_tagging_routes[];
extern const s3_route_t  s3_acl_routes[];
extern const s3_route_t  s3_policy_routes[];
extern const s3_route_t  s3_replication_routes[];
extern const s3_route_t  s3_cors_routes[];

/* Called once the bucket and key are known, before authentication: answers
 * an OPTIONS preflight itself (GW_DONE: the request is answered), or adds
 * the Access-Control-* headers a request with Origin gets (GW_OK), so that
 * every later answer, errors included, carries them. A request without
 * Origin reads nothing. */
int s3_cors_request(s3_req_t *r);

extern const s3_route_t  s3_website_routes[];

/* Answers a request to the website endpoint (r->website), which
 * s3_req_parse read with result rc: never signed, never routed. */
void s3_website_request(s3_req_t *r, int rc);

extern const s3_route_t  s3_post_routes[];
extern const s3_route_t  s3_controls_routes[];

extern const s3_route_t  s3_lifecycle_routes[];

extern const s3_route_t  s3_attributes_routes[];

#endif
