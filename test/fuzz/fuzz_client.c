/* test/fuzz/fuzz_client.c: libFuzzer target for the response parser of
 * http/client. The input is whatever a server sent back. It goes through
 * http_client_parse_response, which runs the very code a connection runs
 * (the llhttp callbacks, the head limits, interim 1xx responses, the
 * consumer's pause and resume, the end-of-input rules of a closed
 * connection), five ways:
 *   1. the answer to a GET, all at once;
 *   2. the same, a byte at a time, the consumer pausing on every other piece;
 *   3. the same, in pieces whose size comes from the first byte, pausing;
 *   4. the answer to a HEAD;
 *   5. the answer to a PUT holding its body back for 100-continue, twice.
 * Runs 1 to 3 must agree on everything (outcome, status, headers, body bytes
 * and their hash, completion, keep-alive, leftover bytes), and so must the
 * two runs of 5: the framing may not depend on where the network cut the
 * stream, nor on the consumer's pauses. The parser itself aborts when a
 * completed response's body is not its Content-Length, when a header name
 * is not lowercased or when a body byte comes before a final head. */
#include "http/client.h"

#include <stdint.h>

static void
fuzz_same(int ra, const http_client_parse_result_t *a, int rb,
          const http_client_parse_result_t *b)
{
    if (ra != rb || a->status != b->status || a->complete != b->complete
        || a->keepalive != b->keepalive || a->got_continue != b->got_continue
        || a->nheaders != b->nheaders || a->body_bytes != b->body_bytes
        || a->body_hash != b->body_hash || a->leftover != b->leftover)
    {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char                  *in = (const char *) data;
    http_client_parse_result_t   a, b, c;
    size_t                       slice = size > 0 ? 1 + data[0] % 37 : 1;
    int                          ra, rb, rc;

    ra = http_client_parse_response(in, size, 0, 0, &a);
    rb = http_client_parse_response(in, size, HTTP_CLIENT_PARSE_PAUSE, 1, &b);
    rc = http_client_parse_response(in, size, HTTP_CLIENT_PARSE_PAUSE, slice,
                                    &c);
    fuzz_same(ra, &a, rb, &b);
    fuzz_same(ra, &a, rc, &c);
    if (ra == GW_OK && !a.complete) {
        abort();                /* success means a whole final response */
    }

    ra = http_client_parse_response(in, size, HTTP_CLIENT_PARSE_HEAD, 0, &a);
    if (ra == GW_OK && a.body_bytes != 0) {
        abort();                /* a HEAD answer has no body */
    }

    ra = http_client_parse_response(in, size, HTTP_CLIENT_PARSE_EXPECT, 0, &a);
    rb = http_client_parse_response(in, size, HTTP_CLIENT_PARSE_EXPECT
                                    | HTTP_CLIENT_PARSE_PAUSE, slice, &b);
    fuzz_same(ra, &a, rb, &b);
    return 0;
}
