/* test/fuzz/fuzz_sigv4.c: libFuzzer target for s3/auth/sigv4. The input is a
 * request in a line format, so that the seeds are readable:
 *     method \n path \n query \n authorization \n name:value \n ...
 * Header names are lowercased here, as the HTTP layer does. Both parsers run
 * on it; whatever parses is verified with the AWS example secret (so the
 * seeds taken from the AWS examples reach the matching path). The URI
 * helpers and the time parser get the raw input as well. */
#include "s3/auth/sigv4.h"

#include <stdint.h>

#define FUZZ_SECRET   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define FUZZ_HEADERS  64

static void
fuzz_verify(const s3_sigv4_input_t *in, const s3_sigv4_auth_t *a)
{
    unsigned char  seed[32], key[32], sig[32];
    char           scope[256];
    char          *cr = NULL, *sts = NULL;
    int            rc;

    rc = s3_sigv4_verify(in, a, FUZZ_SECRET, seed, &cr, &sts);
    if (rc != GW_OK && rc != GW_ECHECKSUM && rc != GW_EINVAL) {
        abort();
    }
    if ((rc == GW_EINVAL) != (cr == NULL) || (cr == NULL) != (sts == NULL)) {
        abort();
    }
    gw_free(cr);
    gw_free(sts);
    if (s3_sigv4_scope(a, scope, sizeof(scope)) == GW_OK) {
        s3_sigv4_signing_key(FUZZ_SECRET, a->date, a->region, a->service, key);
        s3_sigv4_chunk_signature(key, a->amz_date, scope, seed, seed, sig);
        s3_sigv4_trailer_signature(key, a->amz_date, scope, sig, seed, sig);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s3_sigv4_input_t  in;
    s3_sigv4_auth_t   a;
    gw_kv_t           h[FUZZ_HEADERS];
    gw_str_t          line[4];
    char             *buf, *p, *end, *nl, *colon, *out;
    size_t            n, i, nh = 0, outlen;
    int64_t           t;
    int               rc;

    /* One exact-size copy, so that any over-read is caught; the header
     * names are lowercased in it. */
    buf = gw_alloc(size ? size : 1);
    memcpy(buf, data, size);
    p = buf;
    end = buf + size;
    for (i = 0; i < 4; i++) {
        nl = memchr(p, '\n', (size_t) (end - p));
        line[i].base = p;
        line[i].len = (size_t) ((nl ? nl : end) - p);
        p = nl ? nl + 1 : end;
    }
    while (p < end && nh < FUZZ_HEADERS) {
        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) {
            nl = end;
        }
        colon = memchr(p, ':', (size_t) (nl - p));
        if (colon != NULL) {
            for (n = 0; p + n < colon; n++) {
                if (p[n] >= 'A' && p[n] <= 'Z') {
                    p[n] = (char) (p[n] + ('a' - 'A'));
                }
            }
            h[nh].name.base = p;
            h[nh].name.len = (size_t) (colon - p);
            h[nh].value.base = colon + 1;
            h[nh].value.len = (size_t) (nl - colon - 1);
            nh++;
        }
        p = nl < end ? nl + 1 : end;
    }

    in.method = line[0];
    in.path = line[1];
    in.query = line[2];
    in.headers = h;
    in.nheaders = nh;

    rc = s3_sigv4_parse_header(line[3], &in, &a);
    if (rc == GW_OK) {
        fuzz_verify(&in, &a);
    } else if (rc != GW_EINVAL && rc != GW_DECLINED) {
        abort();
    }
    rc = s3_sigv4_parse_query(&in, &a);
    if (rc == GW_OK) {
        if (a.expires < 1 || a.expires > 604800) {
            abort();
        }
        fuzz_verify(&in, &a);
    } else if (rc != GW_EINVAL && rc != GW_DECLINED) {
        abort();
    }

    out = gw_alloc(3 * size + 1);
    if (s3_uri_decode((const char *) data, size, out, &outlen, size & 1)
        == GW_OK && outlen > size)
    {
        abort();
    }
    if (s3_uri_encode((const char *) data, size, out, size & 2) > 3 * size) {
        abort();
    }
    gw_free(out);
    if (size >= 16) {
        (void) s3_sigv4_time_parse((const char *) data, &t);
    }
    gw_free(buf);
    return 0;
}
