/* http/awschunked.c: the aws-chunked body decoder; see http/awschunked.h.
 * A byte-driven state machine: chunk headers and trailer lines are gathered
 * in d->line (bounded), chunk data is passed through as views of the input
 * without a copy. */
#include "http/awschunked.h"
#include "core/hash.h"

enum {
    AWSCHUNKED_SIZE,        /* gathering a chunk header line */
    AWSCHUNKED_DATA,        /* passing d->remaining bytes of data through */
    AWSCHUNKED_DATA_CR,     /* expecting the CR after the data */
    AWSCHUNKED_DATA_LF,     /* expecting the LF after the data */
    AWSCHUNKED_TRAILER,     /* gathering a trailer line, or the final CRLF */
    AWSCHUNKED_DONE,
    AWSCHUNKED_ERROR
};

#define AWSCHUNKED_SIZE_MAX  ((uint64_t) INT64_MAX)

static const char  awschunked_sig_name[] = "chunk-signature";

void
http_awschunked_init(http_awschunked_t *d, const http_awschunked_cb_t *cb,
    void *ud, uint64_t max_chunk)
{
    d->cb = cb;
    d->ud = ud;
    d->max_chunk = max_chunk ? GW_MIN(max_chunk, AWSCHUNKED_SIZE_MAX)
                             : AWSCHUNKED_SIZE_MAX;
    d->remaining = 0;
    d->state = AWSCHUNKED_SIZE;
    d->error = GW_OK;
    d->lf_only = 0;
    d->line_len = 0;
    d->sig[0] = '\0';
}

static int
awschunked_fail(http_awschunked_t *d, int rc)
{
    d->state = AWSCHUNKED_ERROR;
    d->error = rc;
    return rc;
}

static int
awschunked_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int
awschunked_complete(http_awschunked_t *d)
{
    int  rc = GW_OK;

    d->state = AWSCHUNKED_DONE;
    if (d->cb->on_complete != NULL) {
        rc = d->cb->on_complete(d->ud);
    }
    return rc;
}

/* "hex-size[;chunk-signature=<64 hex>][;other-ext[=v]]..." without its CRLF.
 * Extensions other than chunk-signature are ignored, as HTTP/1.1 says. */
static int
awschunked_size_line(http_awschunked_t *d, char *p, size_t n)
{
    const char  *sigp = NULL, *name, *val;
    uint64_t     size = 0;
    size_t       i = 0, nlen, vlen, k;
    int          v, rc;

    while (n > 0 && awschunked_blank(p[n - 1])) {
        n--;
    }
    for (; i < n && (v = gw_hex_value((unsigned char) p[i])) >= 0; i++) {
        if (size > AWSCHUNKED_SIZE_MAX >> 4) {
            return GW_EINVAL;
        }
        size = size << 4 | (uint64_t) v;
    }
    if (i == 0 || size > d->max_chunk) {
        return GW_EINVAL;
    }

    while (i < n) {
        while (i < n && awschunked_blank(p[i])) {
            i++;
        }
        if (i == n) {
            break;
        }
        if (p[i] != ';') {
            return GW_EINVAL;
        }
        i++;
        while (i < n && awschunked_blank(p[i])) {
            i++;
        }
        name = p + i;
        while (i < n && p[i] != '=' && p[i] != ';' && !awschunked_blank(p[i])) {
            i++;
        }
        nlen = (size_t) (p + i - name);
        val = NULL;
        vlen = 0;
        if (i < n && p[i] == '=') {
            val = p + ++i;
            while (i < n && p[i] != ';' && !awschunked_blank(p[i])) {
                i++;
            }
            vlen = (size_t) (p + i - val);
        }
        if (nlen == 0) {
            return GW_EINVAL;
        }
        if (nlen != sizeof(awschunked_sig_name) - 1
            || memcmp(name, awschunked_sig_name, nlen) != 0)
        {
            continue;
        }
        if (sigp != NULL || vlen != 64) {
            return GW_EINVAL;
        }
        for (k = 0; k < 64; k++) {
            if (gw_hex_value((unsigned char) val[k]) < 0) {
                return GW_EINVAL;
            }
        }
        memcpy(d->sig, val, 64);
        d->sig[64] = '\0';
        sigp = d->sig;
    }

    if (d->cb->on_chunk_begin != NULL) {
        rc = d->cb->on_chunk_begin(d->ud, size, sigp);
        if (rc != GW_OK) {
            return rc;
        }
    }
    if (size > 0) {
        d->remaining = size;
        d->state = AWSCHUNKED_DATA;
        return GW_OK;
    }
    /* The final chunk has no data and no CRLF of its own: the trailer
     * section (maybe just the empty line) follows its header directly. */
    if (d->cb->on_chunk_end != NULL) {
        rc = d->cb->on_chunk_end(d->ud);
        if (rc != GW_OK) {
            return rc;
        }
    }
    d->state = AWSCHUNKED_TRAILER;
    d->lf_only = 0;
    return GW_OK;
}

/* One trailer line without its LF; cr says whether a CR preceded the LF. */
static int
awschunked_trailer_line(http_awschunked_t *d, char *p, size_t n, int cr)
{
    gw_str_t  name, value;
    char     *colon;
    size_t    i;

    if (n == 0) {
        /* "name:value\n\r\n": the CRLF finishes the bare-LF line before it
         * rather than the trailer section. */
        if (d->lf_only && cr) {
            d->lf_only = 0;
            return GW_OK;
        }
        return awschunked_complete(d);
    }
    d->lf_only = !cr;

    colon = memchr(p, ':', n);
    if (colon == NULL) {
        return GW_EINVAL;
    }
    name.base = p;
    name.len = (size_t) (colon - p);
    while (name.len > 0 && awschunked_blank(name.base[name.len - 1])) {
        name.len--;
    }
    if (name.len == 0) {
        return GW_EINVAL;
    }
    for (i = 0; i < name.len; i++) {
        if ((unsigned char) p[i] <= ' ' || (unsigned char) p[i] >= 0x7f) {
            return GW_EINVAL;
        }
        if (p[i] >= 'A' && p[i] <= 'Z') {
            p[i] = (char) (p[i] + ('a' - 'A'));
        }
    }
    value.base = colon + 1;
    value.len = (size_t) (p + n - value.base);
    while (value.len > 0 && awschunked_blank(value.base[0])) {
        value.base++;
        value.len--;
    }
    while (value.len > 0 && awschunked_blank(value.base[value.len - 1])) {
        value.len--;
    }
    if (d->cb->on_trailer != NULL) {
        return d->cb->on_trailer(d->ud, name, value);
    }
    return GW_OK;
}

/* Gathers bytes up to and including an LF into d->line. Returns the number
 * of input bytes used, and sets *eol once the line is whole; or -1 when the
 * line grows past HTTP_AWSCHUNKED_LINE_MAX. */
static ptrdiff_t
awschunked_gather(http_awschunked_t *d, const char *at, size_t len, int *eol)
{
    const char  *lf;
    size_t       n;

    lf = memchr(at, '\n', len);
    n = lf != NULL ? (size_t) (lf - at) : len;
    if (d->line_len + n > HTTP_AWSCHUNKED_LINE_MAX - 1) {
        return -1;
    }
    memcpy(d->line + d->line_len, at, n);
    d->line_len += n;
    *eol = lf != NULL;
    return (ptrdiff_t) (n + (lf != NULL));
}

int
http_awschunked_feed(http_awschunked_t *d, const char *at, size_t len)
{
    const char  *end = at + len;
    size_t       n;
    ptrdiff_t    used;
    int          rc, again = 0, eol, cr;

    if (d->state == AWSCHUNKED_ERROR) {
        return d->error;
    }
    while (at < end) {
        switch (d->state) {

        case AWSCHUNKED_SIZE:
        case AWSCHUNKED_TRAILER:
            used = awschunked_gather(d, at, (size_t) (end - at), &eol);
            if (used < 0) {
                return awschunked_fail(d, GW_EINVAL);
            }
            at += used;
            if (!eol) {
                break;
            }
            n = d->line_len;
            d->line_len = 0;
            cr = n > 0 && d->line[n - 1] == '\r';
            n -= cr;
            if (d->state == AWSCHUNKED_SIZE) {
                rc = cr ? awschunked_size_line(d, d->line, n) : GW_EINVAL;
            } else {
                rc = awschunked_trailer_line(d, d->line, n, cr);
            }
            if (rc != GW_OK) {
                return awschunked_fail(d, rc);
            }
            break;

        case AWSCHUNKED_DATA:
            n = (size_t) GW_MIN((uint64_t) (end - at), d->remaining);
            if (d->cb->on_data != NULL) {
                rc = d->cb->on_data(d->ud, at, n);
                if (rc == GW_AGAIN) {
                    again = 1;
                } else if (rc != GW_OK) {
                    return awschunked_fail(d, rc);
                }
            }
            at += n;
            d->remaining -= n;
            if (d->remaining == 0) {
                d->state = AWSCHUNKED_DATA_CR;
            }
            break;

        case AWSCHUNKED_DATA_CR:
            if (*at++ != '\r') {
                return awschunked_fail(d, GW_EINVAL);
            }
            d->state = AWSCHUNKED_DATA_LF;
            break;

        case AWSCHUNKED_DATA_LF:
            if (*at++ != '\n') {
                return awschunked_fail(d, GW_EINVAL);
            }
            d->state = AWSCHUNKED_SIZE;
            if (d->cb->on_chunk_end != NULL) {
                rc = d->cb->on_chunk_end(d->ud);
                if (rc != GW_OK) {
                    return awschunked_fail(d, rc);
                }
            }
            break;

        default:
            /* AWSCHUNKED_DONE: nothing may follow the end of the body. */
            return awschunked_fail(d, GW_EINVAL);
        }
    }
    return again ? GW_AGAIN : GW_OK;
}

int
http_awschunked_finish(http_awschunked_t *d)
{
    int  rc;

    switch (d->state) {
    case AWSCHUNKED_DONE:
        return GW_OK;
    case AWSCHUNKED_ERROR:
        return d->error;
    case AWSCHUNKED_TRAILER:
        /* Ending between trailer lines is fine; inside one, it was cut. */
        if (d->line_len > 0) {
            return awschunked_fail(d, GW_EINVAL);
        }
        rc = awschunked_complete(d);
        return rc == GW_OK ? GW_OK : awschunked_fail(d, rc);
    default:
        return awschunked_fail(d, GW_EINVAL);
    }
}

int
http_awschunked_done(const http_awschunked_t *d)
{
    return d->state == AWSCHUNKED_DONE;
}
