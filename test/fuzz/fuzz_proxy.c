/* test/fuzz/fuzz_proxy.c: libFuzzer target for the PROXY protocol header
 * (http/proxy.c): any bytes parse, ask for more or are refused, never
 * crash; a parsed header is never longer than the input or HTTP_PROXY_MAX,
 * and every shorter prefix of it asks for more or is refused (never parses
 * to something else), which is what lets conn.c feed it byte by byte. */
#include "http/proxy.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_proxy_hdr_t  h, p;
    char              ip[64];
    int               rc, prc;
    size_t            i;

    rc = http_proxy_parse((const char *) data, size, &h);
    if (rc == GW_AGAIN || rc == GW_EINVAL) {
        return 0;
    }
    if (rc <= 0 || (size_t) rc > size || rc > HTTP_PROXY_MAX) {
        abort();
    }
    if ((h.family == AF_INET || h.family == AF_INET6)
        != (http_proxy_src_name(&h, ip, sizeof(ip)) == GW_OK))
    {
        abort();
    }
    for (i = 0; i < (size_t) rc; i++) {
        prc = http_proxy_parse((const char *) data, i, &p);
        if (prc != GW_AGAIN) {
            abort();
        }
    }
    return 0;
}
