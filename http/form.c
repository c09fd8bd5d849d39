/* http/form.c: multipart/form-data, incrementally (see http/form.h).
 *
 * The delimiter "CRLF--boundary" is found with a KMP automaton over the
 * bytes as they come. The parser starts as if a CRLF had just been read, so
 * a body that opens with "--boundary" (no preamble, what every browser
 * sends) matches the same delimiter as every later one. */
#include "http/form.h"

#include <strings.h>

enum {
    FORM_PREAMBLE = 0,   /* before the first delimiter: dropped */
    FORM_DELIM_END,      /* just after a delimiter: "--", padding or CRLF */
    FORM_DELIM_PAD,      /* transport padding before the CRLF */
    FORM_DELIM_LF,       /* the LF of the CRLF after a delimiter */
    FORM_CLOSE_DASH,     /* the second '-' of a close delimiter */
    FORM_HEADERS,        /* a part's header block */
    FORM_DATA,           /* a part's data */
    FORM_EPILOGUE,       /* after the close delimiter: dropped */
    FORM_STOPPED         /* an error or a callback stopped it: f->rc */
};

/* ==== the boundary ==== */

static int
form_bchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("'()+_,-./:=? ", c));
}

static int
form_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
           || (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static void
form_skip_ows(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t')) {
        (*p)++;
    }
}

/* A token, or a quoted string with its backslash escapes of '"' and '\'
 * undone in place when unescape (browsers percent-encode '"' in names
 * instead, and a Windows path's other backslashes are kept as sent).
 * *p moves past it. GW_OK or GW_EINVAL. */
static int
form_param_value(char **p, char *end, gw_str_t *out, int unescape)
{
    char  *s = *p, *o;

    if (s < end && *s == '"') {
        o = ++s;
        out->base = s;
        while (s < end && *s != '"') {
            if (*s == '\\' && s + 1 < end && (s[1] == '"' || s[1] == '\\')) {
                s++;
            }
            if (unescape) {
                *o = *s;
            }
            o++;
            s++;
        }
        if (s == end) {
            return GW_EINVAL;
        }
        out->len = unescape ? (size_t) (o - out->base)
                            : (size_t) (s - out->base);
        *p = s + 1;
        return GW_OK;
    }
    out->base = s;
    while (s < end && form_tchar((unsigned char) *s)) {
        s++;
    }
    out->len = (size_t) (s - out->base);
    *p = s;
    return out->len ? GW_OK : GW_EINVAL;
}

int
http_form_boundary(gw_str_t ct, gw_str_t *boundary)
{
    static const char   mt[] = "multipart/form-data";
    /* Never written through: the boundary's value is read with unescape
     * off. */
    char               *p = (char *) ct.base, *end = p + ct.len, *name;
    gw_str_t            v;
    size_t              i, nlen;

    boundary->base = NULL;
    boundary->len = 0;
    form_skip_ows((const char **) &p, end);
    if ((size_t) (end - p) < sizeof(mt) - 1
        || strncasecmp(p, mt, sizeof(mt) - 1) != 0)
    {
        return GW_DECLINED;
    }
    p += sizeof(mt) - 1;
    form_skip_ows((const char **) &p, end);
    if (p < end && *p != ';') {
        return GW_DECLINED;      /* multipart/form-dataX */
    }
    while (p < end) {
        if (*p++ != ';') {
            return GW_EINVAL;
        }
        form_skip_ows((const char **) &p, end);
        name = p;
        while (p < end && form_tchar((unsigned char) *p)) {
            p++;
        }
        nlen = (size_t) (p - name);
        if (nlen == 0 || p == end || *p++ != '=') {
            return GW_EINVAL;
        }
        /* The boundary is used as sent: no escapes to undo (a quoted
         * boundary holds only bchars, which need none). */
        if (form_param_value(&p, end, &v, 0) != GW_OK) {
            return GW_EINVAL;
        }
        if (nlen == 8 && strncasecmp(name, "boundary", 8) == 0) {
            *boundary = v;
        }
        form_skip_ows((const char **) &p, end);
    }
    if (boundary->len == 0 || boundary->len > HTTP_FORM_BOUNDARY_MAX
        || boundary->base[boundary->len - 1] == ' ')
    {
        return GW_EINVAL;
    }
    for (i = 0; i < boundary->len; i++) {
        if (!form_bchar((unsigned char) boundary->base[i])) {
            return GW_EINVAL;
        }
    }
    return GW_OK;
}

void
http_form_init(http_form_t *f, gw_str_t boundary, const http_form_cb_t *cb,
               void *ud)
{
    size_t  m, k;

    memset(f, 0, offsetof(http_form_t, hbuf));
    f->cb = cb;
    f->ud = ud;
    boundary.len = GW_MIN(boundary.len, (size_t) HTTP_FORM_BOUNDARY_MAX);
    memcpy(f->delim, "\r\n--", 4);
    memcpy(f->delim + 4, boundary.base, boundary.len);
    f->dlen = boundary.len + 4;
    /* fail[m]: the longest proper prefix of delim[0..m) that is also its
     * suffix (KMP). */
    f->fail[0] = 0;
    f->fail[1] = 0;
    k = 0;
    for (m = 1; m < f->dlen; m++) {
        while (k > 0 && f->delim[m] != f->delim[k]) {
            k = f->fail[k];
        }
        if (f->delim[m] == f->delim[k]) {
            k++;
        }
        f->fail[m + 1] = (unsigned char) k;
    }
    f->state = FORM_PREAMBLE;
    f->match = 2;            /* as if a CRLF came before the body */
}

/* ==== a part's headers ==== */

/* Content-Disposition: form-data; name="x"; filename="y". */
static int
form_disposition(char *p, char *end, http_form_part_t *part)
{
    char      *name;
    size_t     nlen;
    gw_str_t   v;

    form_skip_ows((const char **) &p, end);
    if ((size_t) (end - p) < 9 || strncasecmp(p, "form-data", 9) != 0) {
        return GW_EINVAL;
    }
    p += 9;
    form_skip_ows((const char **) &p, end);
    while (p < end) {
        if (*p++ != ';') {
            return GW_EINVAL;
        }
        form_skip_ows((const char **) &p, end);
        if (p == end) {
            break;               /* a trailing ';' */
        }
        name = p;
        while (p < end && form_tchar((unsigned char) *p)) {
            p++;
        }
        nlen = (size_t) (p - name);
        form_skip_ows((const char **) &p, end);
        if (nlen == 0 || p == end || *p++ != '=') {
            return GW_EINVAL;
        }
        form_skip_ows((const char **) &p, end);
        /* filename="" is what a file input with no file chosen sends */
        if (form_param_value(&p, end, &v, 1) != GW_OK) {
            return GW_EINVAL;
        }
        if (nlen == 4 && strncasecmp(name, "name", 4) == 0) {
            if (part->name.base != NULL) {
                return GW_EINVAL;
            }
            part->name = v;
        } else if (nlen == 8 && strncasecmp(name, "filename", 8) == 0) {
            if (part->filename.base != NULL) {
                return GW_EINVAL;
            }
            part->filename = v;
        }
        form_skip_ows((const char **) &p, end);
    }
    return part->name.base != NULL ? GW_OK : GW_EINVAL;
}

/* The header block in f->hbuf (ending with an empty line) into part. */
static int
form_headers(http_form_t *f, http_form_part_t *part)
{
    char    *p = f->hbuf, *end = f->hbuf + f->hlen - 2, *eol, *colon, *v;
    size_t   nlen;
    int      disp = 0;

    memset(part, 0, sizeof(*part));
    while (p < end) {
        eol = memmem(p, (size_t) (end - p), "\r\n", 2);
        if (eol == NULL || memchr(p, '\n', (size_t) (eol - p)) != NULL
            || memchr(p, '\r', (size_t) (eol - p)) != NULL)
        {
            return GW_EINVAL;
        }
        colon = memchr(p, ':', (size_t) (eol - p));
        if (colon == NULL) {
            return GW_EINVAL;
        }
        nlen = (size_t) (colon - p);
        for (v = p; v < colon; v++) {
            if (!form_tchar((unsigned char) *v)) {
                return GW_EINVAL;
            }
        }
        v = colon + 1;
        form_skip_ows((const char **) &v, eol);
        if (nlen == 19 && strncasecmp(p, "content-disposition", 19) == 0) {
            if (disp++ || form_disposition(v, eol, part) != GW_OK) {
                return GW_EINVAL;
            }
        } else if (nlen == 12 && strncasecmp(p, "content-type", 12) == 0) {
            char  *e = eol;

            while (e > v && (e[-1] == ' ' || e[-1] == '\t')) {
                e--;
            }
            part->content_type.base = v;
            part->content_type.len = (size_t) (e - v);
        }
        p = eol + 2;
    }
    return disp ? GW_OK : GW_EINVAL;
}

/* ==== the automaton ==== */

static int
form_stop(http_form_t *f, int rc)
{
    f->state = FORM_STOPPED;
    f->rc = rc;
    return rc;
}

/* Runs the delimiter automaton over at[0..len): data bytes go to on_data
 * when emit (a part's data), else are dropped (the preamble). *used gets
 * the bytes consumed; *found is set when they end with a delimiter. */
static int
form_scan(http_form_t *f, const char *at, size_t len, int emit, size_t *used,
          int *found)
{
    size_t  i, m = f->match, carried = f->match, m2, rel, k, span;
    int     rc;

    *found = 0;
    for (i = 0; i < len; i++) {
        while (m > 0 && at[i] != f->delim[m]) {
            /* Held-back bytes that cannot start the delimiter any more are
             * data. Those from an earlier feed are re-sent from delim (they
             * are its first bytes); those of this feed are still in at and
             * go out with the span below. */
            m2 = f->fail[m];
            rel = m - m2;
            k = GW_MIN(rel, carried);
            if (k > 0) {
                if (emit && f->cb->on_data != NULL
                    && (rc = f->cb->on_data(f->ud, f->delim, k)) != GW_OK)
                {
                    return form_stop(f, rc);
                }
                carried -= k;
            }
            m = m2;
        }
        if (at[i] == f->delim[m]) {
            m++;
        }
        if (m == f->dlen) {
            i++;
            *found = 1;
            break;
        }
    }
    /* at[0..span) is data: what is neither held back nor delimiter. */
    span = i - (m - carried);
    if (emit && span > 0 && f->cb->on_data != NULL
        && (rc = f->cb->on_data(f->ud, at, span)) != GW_OK)
    {
        return form_stop(f, rc);
    }
    f->match = *found ? 0 : m;
    *used = i;
    return GW_OK;
}

/* Header bytes up to the end of the block; at the end, the part starts. */
static int
form_header_bytes(http_form_t *f, const char *at, size_t len, size_t *used)
{
    http_form_part_t  part;
    size_t            i;
    int               rc;

    for (i = 0; i < len; i++) {
        if (f->hlen == sizeof(f->hbuf)) {
            return form_stop(f, GW_ETOOBIG);
        }
        f->hbuf[f->hlen++] = at[i];
        if ((f->hlen == 2 && memcmp(f->hbuf, "\r\n", 2) == 0)
            || (f->hlen >= 4 && memcmp(f->hbuf + f->hlen - 4, "\r\n\r\n", 4) == 0))
        {
            i++;
            if (form_headers(f, &part) != GW_OK) {
                return form_stop(f, GW_EINVAL);
            }
            if (f->cb->on_part != NULL
                && (rc = f->cb->on_part(f->ud, &part)) != GW_OK)
            {
                return form_stop(f, rc);
            }
            f->state = FORM_DATA;
            f->match = 0;
            break;
        }
    }
    *used = i;
    return GW_OK;
}

/* One byte after a delimiter. */
static int
form_delim_byte(http_form_t *f, char c)
{
    switch (f->state) {
    case FORM_DELIM_END:
        if (c == '-') {
            f->state = FORM_CLOSE_DASH;
            return GW_OK;
        }
        /* fall through */
    case FORM_DELIM_PAD:
        if (c == ' ' || c == '\t') {
            f->state = FORM_DELIM_PAD;
        } else if (c == '\r') {
            f->state = FORM_DELIM_LF;
        } else {
            return form_stop(f, GW_EINVAL);
        }
        return GW_OK;
    case FORM_DELIM_LF:
        if (c != '\n') {
            return form_stop(f, GW_EINVAL);
        }
        f->state = FORM_HEADERS;
        f->hlen = 0;
        return GW_OK;
    default:                          /* FORM_CLOSE_DASH */
        if (c != '-') {
            return form_stop(f, GW_EINVAL);
        }
        f->state = FORM_EPILOGUE;
        return GW_OK;
    }
}

int
http_form_feed(http_form_t *f, const char *at, size_t len)
{
    size_t  used;
    int     rc, found;

    while (len > 0) {
        switch (f->state) {
        case FORM_STOPPED:
            return f->rc;
        case FORM_EPILOGUE:
            return GW_OK;
        case FORM_PREAMBLE:
        case FORM_DATA:
            rc = form_scan(f, at, len, f->state == FORM_DATA, &used, &found);
            if (rc != GW_OK) {
                return rc;
            }
            if (found) {
                if (f->state == FORM_DATA && f->cb->on_part_end != NULL
                    && (rc = f->cb->on_part_end(f->ud)) != GW_OK)
                {
                    return form_stop(f, rc);
                }
                f->state = FORM_DELIM_END;
            }
            break;
        case FORM_HEADERS:
            rc = form_header_bytes(f, at, len, &used);
            if (rc != GW_OK) {
                return rc;
            }
            break;
        default:
            rc = form_delim_byte(f, *at);
            if (rc != GW_OK) {
                return rc;
            }
            used = 1;
        }
        at += used;
        len -= used;
    }
    return f->state == FORM_STOPPED ? f->rc : GW_OK;
}

int
http_form_finish(http_form_t *f)
{
    return f->state == FORM_EPILOGUE ? GW_OK : GW_EINVAL;
}
