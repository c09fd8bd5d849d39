/* http/proxy.c: the PROXY protocol header, versions 1 (a text line) and 2
 * (binary), as HAProxy's proxy-protocol.txt defines them. Strict where a
 * mistake would hand out a wrong address (every field of a v1 line, the
 * lengths of v2), lenient where the spec asks receivers to be (v2 TLVs and
 * families or transports we have no use for are skipped, and the socket's
 * address stays, as nginx does). */
#include "http/proxy.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#define HTTP_PROXY_V1_MAX  107    /* "PROXY TCP6 " + two addresses,
                                   * two ports and CRLF, at most */

static const char  http_proxy_v2_sig[12] =
    "\r\n\r\n\0\r\nQUIT\n";

/* 1 when the len bytes of buf are a beginning of the sig_len bytes of
 * sig (a header still arriving), else 0. */
static int
http_proxy_prefix(const char *buf, size_t len, const char *sig,
                  size_t sig_len)
{
    return memcmp(buf, sig, GW_MIN(len, sig_len)) == 0;
}

/* The next space-delimited field of the v1 line [*p, end) into f; moves *p
 * past it and one following space. 0 when the field is empty. */
static int
http_proxy_v1_field(const char **p, const char *end, gw_str_t *f)
{
    const char  *s = *p;

    while (*p < end && **p != ' ') {
        (*p)++;
    }
    f->base = s;
    f->len = (size_t) (*p - s);
    if (*p < end) {
        (*p)++;
    }
    return f->len > 0;
}

static int
http_proxy_v1_addr(gw_str_t f, int family, unsigned char *addr)
{
    char  tmp[48];

    if (f.len >= sizeof(tmp)) {
        return GW_EINVAL;
    }
    memcpy(tmp, f.base, f.len);
    tmp[f.len] = '\0';
    return inet_pton(family, tmp, addr) == 1 ? GW_OK : GW_EINVAL;
}

static int
http_proxy_v1_port(gw_str_t f, uint16_t *port)
{
    uint32_t  n = 0;
    size_t    i;

    if (f.len == 0 || f.len > 5) {
        return GW_EINVAL;
    }
    for (i = 0; i < f.len; i++) {
        if (f.base[i] < '0' || f.base[i] > '9') {
            return GW_EINVAL;
        }
        n = n * 10 + (uint32_t) (f.base[i] - '0');
    }
    if (n > 65535) {
        return GW_EINVAL;
    }
    *port = (uint16_t) n;
    return GW_OK;
}

/* "PROXY TCP4 SRC DST SPORT DPORT\r\n", "PROXY TCP6 ...", or "PROXY
 * UNKNOWN[ anything]\r\n". */
static int
http_proxy_v1(const char *buf, size_t len, http_proxy_hdr_t *out)
{
    const char  *crlf, *p, *end;
    gw_str_t     proto, src, dst, sport, dport;
    size_t       i, n = GW_MIN(len, HTTP_PROXY_V1_MAX);

    crlf = NULL;
    for (i = 0; i + 1 < n; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n') {
            crlf = buf + i;
            break;
        }
    }
    if (crlf == NULL) {
        return len >= HTTP_PROXY_V1_MAX ? GW_EINVAL : GW_AGAIN;
    }
    p = buf + 6;
    end = crlf;
    if (!http_proxy_v1_field(&p, end, &proto)) {
        return GW_EINVAL;
    }
    out->version = 1;
    out->family = AF_UNSPEC;
    if (gw_str_eq_lit(proto, "UNKNOWN")) {
        return (int) (crlf + 2 - buf);
    }
    if (gw_str_eq_lit(proto, "TCP4")) {
        out->family = AF_INET;
    } else if (gw_str_eq_lit(proto, "TCP6")) {
        out->family = AF_INET6;
    } else {
        return GW_EINVAL;
    }
    if (!http_proxy_v1_field(&p, end, &src)
        || !http_proxy_v1_field(&p, end, &dst)
        || !http_proxy_v1_field(&p, end, &sport)
        || !http_proxy_v1_field(&p, end, &dport)
        || p != end || end[-1] == ' '
        || http_proxy_v1_addr(src, out->family, out->src) != GW_OK
        || http_proxy_v1_addr(dst, out->family, out->dst) != GW_OK
        || http_proxy_v1_port(sport, &out->src_port) != GW_OK
        || http_proxy_v1_port(dport, &out->dst_port) != GW_OK)
    {
        return GW_EINVAL;
    }
    return (int) (crlf + 2 - buf);
}

/* 12 bytes of signature, version and command, family and transport, the
 * length of what follows (big endian), then the addresses and TLVs. */
static int
http_proxy_v2(const unsigned char *b, size_t len, http_proxy_hdr_t *out)
{
    size_t  body, total;

    if (len < 16) {
        return GW_AGAIN;
    }
    if ((b[12] >> 4) != 2 || (b[12] & 0x0f) > 1) {
        return GW_EINVAL;             /* version 2; LOCAL or PROXY */
    }
    body = (size_t) b[14] << 8 | b[15];
    total = 16 + body;
    if (total > HTTP_PROXY_MAX) {
        return GW_EINVAL;
    }
    if (len < total) {
        return GW_AGAIN;
    }
    memset(out, 0, sizeof(*out));
    out->version = 2;
    out->family = AF_UNSPEC;
    /* LOCAL (a health check of the proxy's own), and transports other
     * than STREAM, keep the socket's address. */
    if ((b[12] & 0x0f) == 0 || (b[13] & 0x0f) != 1) {
        return (int) total;
    }
    switch (b[13] >> 4) {
    case 1:
        if (body < 12) {
            return GW_EINVAL;
        }
        out->family = AF_INET;
        memcpy(out->src, b + 16, 4);
        memcpy(out->dst, b + 20, 4);
        out->src_port = (uint16_t) (b[24] << 8 | b[25]);
        out->dst_port = (uint16_t) (b[26] << 8 | b[27]);
        break;
    case 2:
        if (body < 36) {
            return GW_EINVAL;
        }
        out->family = AF_INET6;
        memcpy(out->src, b + 16, 16);
        memcpy(out->dst, b + 32, 16);
        out->src_port = (uint16_t) (b[48] << 8 | b[49]);
        out->dst_port = (uint16_t) (b[50] << 8 | b[51]);
        break;
    case 3:
        if (body < 216) {
            return GW_EINVAL;
        }
        break;                        /* UNIX: no address for policies */
    default:
        break;                        /* UNSPEC, or one to come */
    }
    return (int) total;
}

int
http_proxy_parse(const char *buf, size_t len, http_proxy_hdr_t *out)
{
    memset(out, 0, sizeof(*out));
    out->family = AF_UNSPEC;
    if (len == 0) {
        return GW_AGAIN;
    }
    if (buf[0] == 'P') {
        if (!http_proxy_prefix(buf, len, "PROXY ", 6)) {
            return GW_EINVAL;
        }
        return len < 6 ? GW_AGAIN : http_proxy_v1(buf, len, out);
    }
    if (!http_proxy_prefix(buf, len, http_proxy_v2_sig,
                           sizeof(http_proxy_v2_sig)))
    {
        return GW_EINVAL;
    }
    return http_proxy_v2((const unsigned char *) buf, len, out);
}

int
http_proxy_src_name(const http_proxy_hdr_t *h, char *ip, size_t size)
{
    if (h->family != AF_INET && h->family != AF_INET6) {
        return GW_EINVAL;
    }
    if (inet_ntop(h->family, h->src, ip, (socklen_t) size) == NULL) {
        return GW_EINVAL;
    }
    return GW_OK;
}
