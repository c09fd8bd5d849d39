/* test/unit/test_proxy.c: http/proxy, the PROXY protocol header. */
#include "http/proxy.h"
#include "test/unit/unit.h"

#include <sys/socket.h>

static int
parse(const char *buf, size_t len, http_proxy_hdr_t *h, char ip[64])
{
    int  rc = http_proxy_parse(buf, len, h);

    strcpy(ip, "-");
    if (rc > 0) {
        http_proxy_src_name(h, ip, 64);
    }
    return rc;
}

#define V2SIG  "\r\n\r\n\0\r\nQUIT\n"

/* A v2 PROXY header for TCP over IPv4 192.0.2.7:4242 -> 10.0.0.1:9000,
 * with one TLV (type 0x04, NOOP, 3 bytes) after the addresses. */
static const char  v2_tcp4[] =
    V2SIG "\x21\x11\x00\x12"
    "\xc0\x00\x02\x07" "\x0a\x00\x00\x01" "\x10\x92" "\x23\x28"
    "\x04\x00\x03" "abc"
    "GET / HTTP/1.1\r\n";
#define V2_TCP4_LEN  (16 + 18)

TEST(proxy_v2)
{
    http_proxy_hdr_t  h;
    char              ip[64], buf[128];
    size_t            i;

    CHECK_EQ_INT(parse(v2_tcp4, sizeof(v2_tcp4) - 1, &h, ip), V2_TCP4_LEN);
    CHECK_EQ_INT(h.version, 2);
    CHECK_EQ_INT(h.family, AF_INET);
    CHECK_EQ_STR(ip, "192.0.2.7");
    CHECK_EQ_INT(h.src_port, 4242);
    CHECK_EQ_INT(h.dst_port, 9000);
    /* Every shorter beginning asks for more; none is refused. */
    for (i = 0; i < V2_TCP4_LEN; i++) {
        CHECK_EQ_INT(http_proxy_parse(v2_tcp4, i, &h), GW_AGAIN);
    }
    /* IPv6: 2001:db8::1 port 1 -> ::1 port 2. */
    memcpy(buf, V2SIG "\x21\x21\x00\x24", 16);
    memset(buf + 16, 0, 36);
    buf[16] = 0x20; buf[17] = 0x01; buf[18] = 0x0d; buf[19] = (char) 0xb8;
    buf[31] = 1;
    buf[47] = 1;
    buf[49] = 1;
    buf[51] = 2;
    CHECK_EQ_INT(parse(buf, 52, &h, ip), 52);
    CHECK_EQ_INT(h.family, AF_INET6);
    CHECK_EQ_STR(ip, "2001:db8::1");
    CHECK_EQ_INT(h.src_port, 1);
    CHECK_EQ_INT(h.dst_port, 2);
    /* LOCAL (the proxy's own health check): no address, socket's stays. */
    memcpy(buf, V2SIG "\x20\x00\x00\x00", 16);
    CHECK_EQ_INT(parse(buf, 16, &h, ip), 16);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
    /* LOCAL with an address block still skips all of it. */
    memcpy(buf, v2_tcp4, V2_TCP4_LEN);
    buf[12] = 0x20;
    CHECK_EQ_INT(parse(buf, V2_TCP4_LEN, &h, ip), V2_TCP4_LEN);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
    /* UDP, UNSPEC and UNIX families: skipped, no address. */
    buf[12] = 0x21;
    buf[13] = 0x12;
    CHECK_EQ_INT(parse(buf, V2_TCP4_LEN, &h, ip), V2_TCP4_LEN);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
    buf[13] = 0x00;
    CHECK_EQ_INT(parse(buf, V2_TCP4_LEN, &h, ip), V2_TCP4_LEN);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
    CHECK(http_proxy_src_name(&h, ip, 64) == GW_EINVAL);
}

TEST(proxy_v2_invalid)
{
    http_proxy_hdr_t  h;
    char              buf[128];

    /* Version 1 in the binary form, and commands past PROXY. */
    memcpy(buf, v2_tcp4, V2_TCP4_LEN);
    buf[12] = 0x11;
    CHECK_EQ_INT(http_proxy_parse(buf, V2_TCP4_LEN, &h), GW_EINVAL);
    buf[12] = 0x22;
    CHECK_EQ_INT(http_proxy_parse(buf, V2_TCP4_LEN, &h), GW_EINVAL);
    /* An address block shorter than its family needs. */
    memcpy(buf, V2SIG "\x21\x11\x00\x08", 16);
    CHECK_EQ_INT(http_proxy_parse(buf, 24, &h), GW_EINVAL);
    memcpy(buf, V2SIG "\x21\x21\x00\x0c", 16);
    CHECK_EQ_INT(http_proxy_parse(buf, 28, &h), GW_EINVAL);
    /* Longer than HTTP_PROXY_MAX: refused before it is all in. */
    memcpy(buf, V2SIG "\x21\x11\xff\xff", 16);
    CHECK_EQ_INT(http_proxy_parse(buf, 16, &h), GW_EINVAL);
    /* A damaged signature is refused at its first wrong byte. */
    memcpy(buf, v2_tcp4, V2_TCP4_LEN);
    buf[8] = 'X';
    CHECK_EQ_INT(http_proxy_parse(buf, 9, &h), GW_EINVAL);
    CHECK_EQ_INT(http_proxy_parse(buf, 8, &h), GW_AGAIN);
    /* Plain HTTP, a TLS ClientHello: no header at all. */
    CHECK_EQ_INT(http_proxy_parse("GET / HTTP/1.1\r\n", 16, &h), GW_EINVAL);
    CHECK_EQ_INT(http_proxy_parse("\x16\x03\x01", 3, &h), GW_EINVAL);
    CHECK_EQ_INT(http_proxy_parse("", 0, &h), GW_AGAIN);
}

TEST(proxy_v1)
{
    static const char  l4[] = "PROXY TCP4 198.51.100.22 10.0.0.1 35646 80\r\n"
                              "GET /";
    static const char  l6[] = "PROXY TCP6 2001:db8::22 ::1 65535 0\r\n";
    http_proxy_hdr_t   h;
    char               ip[64];
    size_t             i, n = sizeof(l4) - 1 - 5;

    CHECK_EQ_INT(parse(l4, sizeof(l4) - 1, &h, ip), (int) n);
    CHECK_EQ_INT(h.version, 1);
    CHECK_EQ_INT(h.family, AF_INET);
    CHECK_EQ_STR(ip, "198.51.100.22");
    CHECK_EQ_INT(h.src_port, 35646);
    CHECK_EQ_INT(h.dst_port, 80);
    for (i = 0; i < n; i++) {
        CHECK_EQ_INT(http_proxy_parse(l4, i, &h), GW_AGAIN);
    }
    CHECK_EQ_INT(parse(l6, sizeof(l6) - 1, &h, ip), (int) sizeof(l6) - 1);
    CHECK_EQ_STR(ip, "2001:db8::22");
    CHECK_EQ_INT(h.src_port, 65535);
    CHECK_EQ_INT(parse("PROXY UNKNOWN\r\n", 15, &h, ip), 15);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
    CHECK_EQ_INT(parse("PROXY UNKNOWN 1.2.3.4 x y z\r\n", 29, &h, ip), 29);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
}

static int
v1(const char *line)
{
    http_proxy_hdr_t  h;

    return http_proxy_parse(line, strlen(line), &h);
}

TEST(proxy_v1_invalid)
{
    char  big[200];

    CHECK_EQ_INT(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXY TCP4 ::1 ::1 1 2\r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXY \r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROXYTCP4"), GW_EINVAL);
    CHECK_EQ_INT(v1("PUT / HTTP/1.1\r\n"), GW_EINVAL);
    CHECK_EQ_INT(v1("PROX"), GW_AGAIN);
    /* No CRLF within 107 bytes: refused, never buffered further. */
    memset(big, 'a', sizeof(big));
    memcpy(big, "PROXY TCP4 ", 11);
    CHECK_EQ_INT(http_proxy_parse(big, 106, &(http_proxy_hdr_t){0}), GW_AGAIN);
    CHECK_EQ_INT(http_proxy_parse(big, 107, &(http_proxy_hdr_t){0}), GW_EINVAL);
}
