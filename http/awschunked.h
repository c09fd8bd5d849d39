/* http/awschunked.h: incremental decoder of "Content-Encoding: aws-chunked"
 * request bodies (S3 streaming uploads). Owns the framing only: chunk
 * headers, the CRLF after each chunk's data, the final 0-size chunk and the
 * trailing header lines. It does no crypto: chunk signatures and trailers
 * are handed to the callbacks, and the S3 layer checks them.
 *
 * The body is
 *     hex-size[;chunk-signature=<64 hex>]\r\n <size bytes> \r\n   (repeated)
 *     0[;chunk-signature=<64 hex>]\r\n
 *     [name:value\r\n]...                  (trailers, e.g. x-amz-checksum-*
 *                                           and x-amz-trailer-signature)
 *     \r\n
 * Real clients vary at the end, and all of these are accepted:
 *   - AWS docs, signed:  0;chunk-signature=..\r\n\r\n
 *   - botocore, AWS SDK JS v3, unsigned trailer:
 *                        0\r\nx-amz-checksum-crc32:..\r\n\r\n
 *   - signed trailer:    0;chunk-signature=..\r\nx-amz-checksum-crc32c:..\r\n
 *                        x-amz-trailer-signature:..\r\n\r\n
 *   - trailer lines ended by a bare LF (a CRLF line right after one is taken
 *     as the rest of its terminator, as MinIO does);
 *   - a body that just stops after "0\r\n" or after the last trailer line
 *     (SDK JS v3 without a checksum): http_awschunked_finish() accepts it.
 * Chunk-size lines and the CRLF after the data must be exact.
 *
 * No allocation: the decoder is a plain struct the caller embeds. */
#ifndef HTTP_AWSCHUNKED_H
#define HTTP_AWSCHUNKED_H

#include "core/gw.h"

/* Longest chunk header or trailer line, CRLF included. */
#define HTTP_AWSCHUNKED_LINE_MAX  4096

/* Every callback may be NULL. A callback returns GW_OK to go on, or an error
 * that stops the decoder; feed() then returns that error. Views are borrowed
 * and valid only during the call. */
typedef struct http_awschunked_cb_s {
    /* A chunk header was read. sig_hex is the 64 hex digits of
     * chunk-signature, NUL-terminated, or NULL when absent. */
    int (*on_chunk_begin)(void *ud, uint64_t size, const char *sig_hex);
    /* Part of the current chunk's data; may run several times per chunk.
     * May return GW_AGAIN: "accepted, but ask the producer to pause". */
    int (*on_data)(void *ud, const char *at, size_t len);
    /* After each chunk's data and its CRLF, and after the final 0-size
     * chunk's header. */
    int (*on_chunk_end)(void *ud);
    /* One trailing header, x-amz-trailer-signature included. name is
     * lowercased, value trimmed of blanks. */
    int (*on_trailer)(void *ud, gw_str_t name, gw_str_t value);
    /* The body is complete; runs once. */
    int (*on_complete)(void *ud);
} http_awschunked_cb_t;

typedef struct http_awschunked_s {
    const http_awschunked_cb_t  *cb;
    void                        *ud;
    uint64_t                     max_chunk;
    uint64_t                     remaining;   /* data left in this chunk */
    int                          state;
    int                          error;       /* sticky, once failed */
    int                          lf_only;     /* last trailer line ended in
                                               * a bare LF */
    size_t                       line_len;
    char                         sig[65];
    char                         line[HTTP_AWSCHUNKED_LINE_MAX];
} http_awschunked_t;

/* Prepares d. cb and ud are borrowed for the decoder's lifetime. A chunk
 * larger than max_chunk bytes is an error; 0 means no limit (sizes are still
 * capped at 2^63 - 1). */
void http_awschunked_init(http_awschunked_t *d, const http_awschunked_cb_t *cb,
    void *ud, uint64_t max_chunk);

/* Consumes all len bytes (never fewer) unless it fails. at is borrowed.
 * Returns GW_OK; GW_AGAIN if any on_data returned GW_AGAIN (all bytes were
 * still consumed); GW_EINVAL on malformed framing (bad hex, oversized line,
 * missing CRLF, chunk larger than max_chunk, data after completion); or the
 * first other error a callback returned. After an error every later call
 * returns the same error. */
int http_awschunked_feed(http_awschunked_t *d, const char *at, size_t len);

/* Tells the decoder the body ended (Content-Length or the HTTP chunked body
 * reached its end). Returns GW_OK when the body is complete: already done, or
 * ended cleanly after the final chunk or a whole trailer line, in which case
 * on_complete runs now. Returns GW_EINVAL when the body was cut short, or the
 * error of on_complete or of an earlier failure. */
int http_awschunked_finish(http_awschunked_t *d);

/* 1 once the final chunk and the trailers were read and on_complete ran. */
int http_awschunked_done(const http_awschunked_t *d);

#endif
