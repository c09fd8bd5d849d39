/* http/range.h: the Range request header (RFC 7233), single byte ranges as
 * S3 serves them. Pure functions, no I/O. */
#ifndef HTTP_RANGE_H
#define HTTP_RANGE_H

#include "core/gw.h"

#define HTTP_RANGE_NONE           0   /* absent, malformed or several: send all */
#define HTTP_RANGE_OK             1   /* [*from, *to], both inclusive */
#define HTTP_RANGE_UNSATISFIABLE  (-1)

/* Parses "bytes=a-b", "bytes=a-" and "bytes=-n" against an object of size
 * bytes. A syntactically invalid or multi-range value is ignored (the whole
 * object is sent), as S3 does. */
int http_range_parse(gw_str_t v, uint64_t size, uint64_t *from, uint64_t *to);

#endif
