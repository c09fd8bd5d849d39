/* http/proxy.h: the PROXY protocol header (HAProxy's spec, versions 1 and
 * 2) that a load balancer sends first on a connection to say whose it is.
 * A pure parser: no I/O, no allocation; http/conn.c feeds it the first
 * bytes of a connection on a `listen ... proxy_protocol` listener. TLVs of
 * version 2 are skipped. */
#ifndef HTTP_PROXY_H
#define HTTP_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "core/gw.h"

/* The longest header accepted: a version 1 line is at most 107 bytes, a
 * version 2 header 16 bytes plus its addresses (216 for AF_UNIX pairs) and
 * TLVs. HAProxy's own TLVs (ALPN, SSL details, unique id) fit in far less;
 * a longer header is refused rather than buffered. */
#define HTTP_PROXY_MAX  4096

typedef struct http_proxy_hdr_s {
    /* AF_INET or AF_INET6: src/dst hold the connection's real endpoints
     * (network byte order; IPv4 in the first 4 bytes). AF_UNSPEC: the
     * header gives no usable address (the LOCAL command of a health check,
     * "PROXY UNKNOWN", UNIX or UNSPEC families): keep the socket's. */
    int            family;
    unsigned char  src[16], dst[16];
    uint16_t       src_port, dst_port;  /* host byte order */
    int            version;             /* 1 or 2 */
} http_proxy_hdr_t;

/* Parses the header at the start of buf (len bytes so far). Returns its
 * length in bytes (> 0) with *out filled, GW_AGAIN when buf is a valid
 * beginning of a header that needs more bytes, or GW_EINVAL when it is no
 * PROXY header (or one longer than HTTP_PROXY_MAX): then the connection
 * must be closed. Bytes after the header are the client's and are not
 * looked at. */
int http_proxy_parse(const char *buf, size_t len, http_proxy_hdr_t *out);

/* The source address of h as text ("192.0.2.1", "2001:db8::1") into ip;
 * GW_OK, or GW_EINVAL when h has none (AF_UNSPEC). */
int http_proxy_src_name(const http_proxy_hdr_t *h, char *ip, size_t size);

#endif
