/* s3/error.h: every S3 error s3gw answers with, in one X-macro list
 * (code, HTTP status, S3 Code, default Message). Handlers return S3_ERR_*
 * (> 0) and the router writes the XML body. */
#ifndef S3_ERROR_H
#define S3_ERROR_H

#define S3_ERROR_MAP(XX)                                                      \
    XX(ACCESS_DENIED, 403, "AccessDenied", "Access Denied")                   \
    XX(ACCESS_FORBIDDEN, 403, "AccessForbidden",                              \
       "CORSResponse: This CORS request is not allowed. This is usually "     \
       "because the evalution of Origin, request method / "                   \
       "Access-Control-Request-Method or Access-Control-Request-Headers are " \
       "not whitelisted by the resource's CORS spec.")                        \
    XX(AUTH_HEADER_MALFORMED, 400, "AuthorizationHeaderMalformed",            \
       "The authorization header is malformed.")                              \
    XX(AUTH_QUERY_MALFORMED, 400, "AuthorizationQueryParametersError",        \
       "Error parsing the X-Amz-Credential parameter.")                       \
    XX(BAD_REQUEST, 400, "BadRequest", "Bad Request")                         \
    XX(BAD_DIGEST, 400, "BadDigest",                                          \
       "The Content-MD5 you specified did not match what we received.")       \
    XX(BUCKET_ALREADY_EXISTS, 409, "BucketAlreadyExists",                     \
       "The requested bucket name is not available. The bucket namespace is " \
       "shared by all users of the system. Please select a different name "   \
       "and try again.")                                                      \
    XX(BUCKET_ALREADY_OWNED_BY_YOU, 409, "BucketAlreadyOwnedByYou",           \
       "Your previous request to create the named bucket succeeded and you "  \
       "already own it.")                                                     \
    XX(BUCKET_NOT_EMPTY, 409, "BucketNotEmpty",                               \
       "The bucket you tried to delete is not empty")                         \
    XX(ENTITY_TOO_LARGE, 400, "EntityTooLarge",                               \
       "Your proposed upload exceeds the maximum allowed size")               \
    XX(EXPIRED_REQUEST, 403, "AccessDenied", "Request has expired")           \
    XX(INCOMPLETE_BODY, 400, "IncompleteBody",                                \
       "You did not provide the number of bytes specified by the "            \
       "Content-Length HTTP header.")                                         \
    XX(INTERNAL_ERROR, 500, "InternalError",                                  \
       "We encountered an internal error. Please try again.")                 \
    XX(INVALID_ACCESS_KEY_ID, 403, "InvalidAccessKeyId",                      \
       "The AWS Access Key Id you provided does not exist in our records.")   \
    XX(INVALID_ARGUMENT, 400, "InvalidArgument", "Invalid Argument")          \
    XX(ILLEGAL_VERSIONING_CONFIGURATION, 400,                                 \
       "IllegalVersioningConfigurationException",                             \
       "The Versioning element must be specified")                            \
    XX(INVALID_URI, 400, "InvalidURI", "Couldn't parse the specified URI.")   \
    XX(INVALID_BUCKET_NAME, 400, "InvalidBucketName",                         \
       "The specified bucket is not valid.")                                  \
    XX(INVALID_DIGEST, 400, "InvalidDigest",                                  \
       "The Content-MD5 you specified is not valid.")                         \
    XX(INVALID_LOCATION_CONSTRAINT, 400, "InvalidLocationConstraint",         \
       "The specified location-constraint is not valid")                      \
    XX(INVALID_PART, 400, "InvalidPart",                                      \
       "One or more of the specified parts could not be found. The part may " \
       "not have been uploaded, or the specified entity tag may not match "   \
       "the part's entity tag.")                                              \
    XX(INVALID_PART_ORDER, 400, "InvalidPartOrder",                           \
       "The list of parts was not in ascending order. The parts list must be "\
       "specified in order by part number.")                                  \
    XX(ENTITY_TOO_SMALL, 400, "EntityTooSmall",                               \
       "Your proposed upload is smaller than the minimum allowed object "     \
       "size.")                                                               \
    XX(NO_SUCH_UPLOAD, 404, "NoSuchUpload",                                   \
       "The specified upload does not exist. The upload ID may be invalid, "  \
       "or the upload may have been aborted or completed.")                   \
    XX(INVALID_TAG, 400, "InvalidTag", "The tag provided was not a valid tag.")\
    XX(INVALID_PART_NUMBER, 416, "InvalidPartNumber",                         \
       "The requested partnumber is not satisfiable")                         \
    XX(INVALID_RANGE, 416, "InvalidRange",                                    \
       "The requested range is not satisfiable")                              \
    XX(INVALID_REQUEST, 400, "InvalidRequest", "Invalid Request")             \
    XX(INVALID_REDIRECT_LOCATION, 400, "InvalidRedirectLocation",             \
       "The website redirect location must have a prefix of 'http://' or "    \
       "'https://' or '/'.")                                                  \
    XX(INVALID_STORAGE_CLASS, 400, "InvalidStorageClass",                     \
       "The storage class you specified is not valid")                        \
    XX(KEY_TOO_LONG, 400, "KeyTooLongError", "Your key is too long")          \
    XX(MALFORMED_ACL_ERROR, 400, "MalformedACLError",                         \
       "The XML you provided was not well-formed or did not validate "        \
       "against our published schema")                                       \
    XX(MALFORMED_POLICY, 400, "MalformedPolicy", "Policies must be valid "    \
       "JSON and the first byte must be '{'")                                 \
    XX(MALFORMED_XML, 400, "MalformedXML",                                    \
       "The XML you provided was not well-formed or did not validate "        \
       "against our published schema")                                       \
    XX(METADATA_TOO_LARGE, 400, "MetadataTooLarge",                           \
       "Your metadata headers exceed the maximum allowed metadata size.")     \
    XX(METHOD_NOT_ALLOWED, 405, "MethodNotAllowed",                           \
       "The specified method is not allowed against this resource.")          \
    XX(MISSING_CONTENT_LENGTH, 411, "MissingContentLength",                   \
       "You must provide the Content-Length HTTP header.")                    \
    XX(NO_SUCH_BUCKET, 404, "NoSuchBucket",                                   \
       "The specified bucket does not exist")                                 \
    XX(NO_SUCH_BUCKET_POLICY, 404, "NoSuchBucketPolicy",                      \
       "The bucket policy does not exist")                                    \
    XX(NO_SUCH_CORS_CONFIGURATION, 404, "NoSuchCORSConfiguration",            \
       "The CORS configuration does not exist")                               \
    XX(NO_SUCH_KEY, 404, "NoSuchKey", "The specified key does not exist.")    \
    XX(NO_SUCH_VERSION, 404, "NoSuchVersion",                                 \
       "The specified version does not exist.")                               \
    XX(NO_SUCH_TAG_SET, 404, "NoSuchTagSet", "The TagSet does not exist")     \
    XX(NO_SUCH_WEBSITE_CONFIGURATION, 404, "NoSuchWebsiteConfiguration",      \
       "The specified bucket does not have a website configuration")          \
    XX(NO_SUCH_LIFECYCLE_CONFIGURATION, 404, "NoSuchLifecycleConfiguration", \
       "The lifecycle configuration does not exist")                          \
    XX(NOT_IMPLEMENTED, 501, "NotImplemented",                                \
       "A header you provided implies functionality that is not "             \
       "implemented")                                                         \
    XX(NOT_MODIFIED, 304, "NotModified", "Not Modified")                      \
    XX(OPERATION_ABORTED, 409, "OperationAborted",                           \
       "A conflicting conditional operation is currently in progress "        \
       "against this resource. Please try again.")                            \
    XX(PRECONDITION_FAILED, 412, "PreconditionFailed",                        \
       "At least one of the pre-conditions you specified did not hold")       \
    XX(REPLICATION_CONFIGURATION_NOT_FOUND, 404,                              \
       "ReplicationConfigurationNotFoundError",                               \
       "The replication configuration was not found")                         \
    XX(REQUEST_TIME_TOO_SKEWED, 403, "RequestTimeTooSkewed",                  \
       "The difference between the request time and the server's time is "    \
       "too large.")                                                          \
    XX(SIGNATURE_DOES_NOT_MATCH, 403, "SignatureDoesNotMatch",                \
       "The request signature we calculated does not match the signature "    \
       "you provided. Check your key and signing method.")                    \
    XX(CONTENT_SHA256_MISMATCH, 400, "XAmzContentSHA256Mismatch",             \
       "The provided 'x-amz-content-sha256' header does not match what was "  \
       "computed.")                                                           \
    XX(UNRESOLVABLE_GRANT_BY_EMAIL, 400, "UnresolvableGrantByEmailAddress",   \
       "The e-mail address you provided does not match any account on "       \
       "record.")                                                             \
    XX(UNEXPECTED_CONTENT, 400, "UnexpectedContent",                          \
       "This request does not support content")                               \
    XX(SERVICE_UNAVAILABLE, 503, "ServiceUnavailable",                        \
       "Please reduce your request rate.")                                    \
    XX(INVALID_POLICY_DOCUMENT, 400, "InvalidPolicyDocument",                 \
       "The content of the form does not meet the conditions specified in "   \
       "the policy document.")                                                \
    XX(MALFORMED_POST_REQUEST, 400, "MalformedPOSTRequest",                   \
       "The body of your POST request is not well-formed "                    \
       "multipart/form-data.")                                                \
    XX(MAX_POST_PRE_DATA, 400, "MaxPostPreDataLengthExceeded",                \
       "Your POST request fields preceeding the upload file was too large.")  \
    XX(ACCESS_CONTROL_LIST_NOT_SUPPORTED, 400,                                \
       "AccessControlListNotSupported", "The bucket does not allow ACLs")     \
    XX(INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP, 400,                         \
       "InvalidBucketAclWithObjectOwnership",                                 \
       "Bucket cannot have ACLs set with ObjectOwnership's "                  \
       "BucketOwnerEnforced setting")                                         \
    XX(OWNERSHIP_CONTROLS_NOT_FOUND, 404, "OwnershipControlsNotFoundError",   \
       "The bucket ownership controls were not found")                        \
    XX(NO_SUCH_PUBLIC_ACCESS_BLOCK, 404,                                      \
       "NoSuchPublicAccessBlockConfiguration",                                \
       "The public access block configuration was not found")

enum {
    S3_ERR_NONE = 0,
#define S3_ERR_ENUM(name, status, code, msg) S3_ERR_##name,
    S3_ERROR_MAP(S3_ERR_ENUM)
#undef S3_ERR_ENUM
    S3_ERR_LAST
};

int s3_error_status(int err);
const char *s3_error_code(int err);
const char *s3_error_message(int err);

#endif
