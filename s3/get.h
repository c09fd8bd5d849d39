/* s3/get.h: the object read path shared by GetObject and HeadObject and
 * the static website endpoint: preconditions (If-Match, If-None-Match,
 * If-(Un)Modified-Since), partNumber and Range, the response headers an
 * object record gives (Content-*, ETag, Last-Modified, x-amz-meta-*...)
 * and the bytes, inline from the record or streamed from its chunk files. */
#ifndef S3_GET_H
#define S3_GET_H

#include "s3/req.h"

/* A website request: the query selects nothing (no response-* header
 * overrides, no partNumber, no checksum mode). */
#define S3_GET_WEBSITE  0x1

/* Answers a GET or HEAD of the object o, which it takes (freed at once or
 * once its bytes are sent). status 0: the object as GetObject answers it
 * (200, 206, or a failed precondition or range); another status: the whole
 * object with that status, no preconditions or Range (a website's error
 * document). Returns GW_OK when answered (or streaming), -1 when it
 * answered an error itself, or an S3_ERR_* to answer (NotModified,
 * PreconditionFailed with ETag and Last-Modified already set,
 * InvalidRange with Content-Range, InvalidPartNumber). */
int s3_get_send(s3_req_t *r, store_object_t *o, unsigned flags, int status);

#endif
