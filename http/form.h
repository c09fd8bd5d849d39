/* http/form.h: incremental parser of multipart/form-data request bodies
 * (RFC 7578 on RFC 2046's multipart framing), as HTML forms send them.
 * Owns the framing only: the boundary from Content-Type, the preamble,
 * each part's header block (Content-Disposition's name and filename,
 * Content-Type), the part bodies and the close delimiter; what the fields
 * mean is the caller's (S3's browser POST upload in s3/ops/post.c).
 *
 * The body is
 *     [preamble CRLF] --boundary [padding] CRLF
 *     headers CRLF CRLF  data  CRLF --boundary [padding] CRLF   (repeated)
 *     headers CRLF CRLF  data  CRLF --boundary--  [epilogue]
 *
 * Bytes may arrive in any split (a boundary cut across two feeds is found).
 * Memory is bounded: a part's header block is held (at most
 * HTTP_FORM_HEADER_MAX bytes), a part's data never is: it streams through
 * on_data as borrowed views, and bytes that might begin a delimiter are held
 * back only as a count (they are a prefix of the delimiter, so they are
 * re-sent from the delimiter itself if they turn out to be data).
 *
 * No allocation: the parser is a plain struct the caller embeds. */
#ifndef HTTP_FORM_H
#define HTTP_FORM_H

#include "core/gw.h"

/* RFC 2046: a boundary is 1 to 70 characters. */
#define HTTP_FORM_BOUNDARY_MAX  70
/* Longest header block of one part, its final empty line included. */
#define HTTP_FORM_HEADER_MAX    8192

/* One part's headers. Views are borrowed: valid only during on_part. */
typedef struct http_form_part_s {
    gw_str_t  name;           /* Content-Disposition name, unquoted */
    gw_str_t  filename;       /* filename, unquoted; base NULL when absent */
    gw_str_t  content_type;   /* the part's Content-Type; len 0 when absent */
} http_form_part_t;

/* Every callback may be NULL. A callback returns GW_OK to go on; anything
 * else stops the parser, and feed() returns it (the parser is then spent:
 * later feeds return the same). */
typedef struct http_form_cb_s {
    int (*on_part)(void *ud, const http_form_part_t *part);
    /* A piece of the current part's data; never empty. */
    int (*on_data)(void *ud, const char *at, size_t len);
    /* The current part's data ended (its delimiter was read). */
    int (*on_part_end)(void *ud);
} http_form_cb_t;

typedef struct http_form_s {
    const http_form_cb_t  *cb;
    void                  *ud;
    char                   delim[HTTP_FORM_BOUNDARY_MAX + 4];  /* CRLF--b */
    size_t                 dlen;
    unsigned char          fail[HTTP_FORM_BOUNDARY_MAX + 5];   /* KMP */
    size_t                 match;      /* delimiter bytes held back */
    int                    state;
    int                    rc;         /* once stopped: what feed returns */
    size_t                 hlen;
    char                   hbuf[HTTP_FORM_HEADER_MAX];
} http_form_t;

/* The boundary parameter of a Content-Type value if it is
 * multipart/form-data (media type and parameter name case-insensitive,
 * the value a token or a quoted string). *boundary is a view into ct.
 * Returns GW_OK; GW_DECLINED when the media type is not
 * multipart/form-data; GW_EINVAL when the boundary is missing or not a
 * valid RFC 2046 boundary. */
int http_form_boundary(gw_str_t ct, gw_str_t *boundary);

/* Starts a parser for boundary (copied; 1..HTTP_FORM_BOUNDARY_MAX bytes,
 * as http_form_boundary checked it). */
void http_form_init(http_form_t *f, gw_str_t boundary,
                    const http_form_cb_t *cb, void *ud);

/* Parses len more bytes (borrowed). Returns GW_OK; GW_EINVAL when the body
 * is not well-formed multipart (junk after a delimiter, a part without a
 * form-data Content-Disposition or name, a bad header line); GW_ETOOBIG
 * when a part's header block is over HTTP_FORM_HEADER_MAX; or what a
 * callback returned to stop it. */
int http_form_feed(http_form_t *f, const char *at, size_t len);

/* The body ended: GW_OK when the close delimiter was read, GW_EINVAL when
 * the body stops short of it (or the parser had stopped with an error). */
int http_form_finish(http_form_t *f);

#endif
