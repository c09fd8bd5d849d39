/* s3/xml.c: the XML writer. */
#include "s3/xml.h"

#include <stdarg.h>
#include <time.h>

static void
s3_xml_reserve(s3_xml_t *x, size_t n)
{
    char    *nb;
    size_t   cap;

    if (x->len + n <= x->cap) {
        return;
    }
    cap = x->cap ? x->cap : 1024;
    while (cap < x->len + n) {
        cap *= 2;
    }
    /* Pool memory cannot grow in place: copy into a bigger block. The old
     * block is given back with the pool. */
    nb = gw_pool_alloc(x->pool, cap);
    if (x->len) {
        memcpy(nb, x->buf, x->len);
    }
    x->buf = nb;
    x->cap = cap;
}

void
s3_xml_raw(s3_xml_t *x, const char *s, size_t len)
{
    s3_xml_reserve(x, len + 1);
    if (len > 0) {
        /* s may be NULL when len is 0 (an absent field of a record, such
         * as the owner of an object written anonymously). */
        memcpy(x->buf + x->len, s, len);
    }
    x->len += len;
    x->buf[x->len] = '\0';
}

void
s3_xml_text(s3_xml_t *x, const char *s, size_t len)
{
    size_t       i, start = 0;
    const char  *rep;

    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':  rep = "&amp;"; break;
        case '<':  rep = "&lt;"; break;
        case '>':  rep = "&gt;"; break;
        case '"':  rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        case '\r': rep = "&#13;"; break;
        case '\n': rep = "&#10;"; break;
        case '\t': rep = "&#9;"; break;
        default:
            /* XML 1.0 cannot carry other control characters at all; S3
             * writes them as numeric references too. */
            if ((unsigned char) s[i] < 0x20) {
                char  num[8];

                s3_xml_raw(x, s + start, i - start);
                snprintf(num, sizeof(num), "&#%d;", s[i]);
                s3_xml_raw(x, num, strlen(num));
                start = i + 1;
            }
            continue;
        }
        s3_xml_raw(x, s + start, i - start);
        s3_xml_raw(x, rep, strlen(rep));
        start = i + 1;
    }
    s3_xml_raw(x, s + start, len - start);
}

void
s3_xml_begin(s3_xml_t *x, gw_pool_t *pool, const char *root)
{
    static const char  decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    static const char  ns[] =
        " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";

    x->pool = pool;
    x->buf = NULL;
    x->len = x->cap = 0;
    s3_xml_raw(x, decl, sizeof(decl) - 1);
    s3_xml_raw(x, "<", 1);
    s3_xml_raw(x, root, strlen(root));
    s3_xml_raw(x, ns, sizeof(ns) - 1);
}

void
s3_xml_end(s3_xml_t *x, const char *root)
{
    s3_xml_close(x, root);
}

void
s3_xml_open(s3_xml_t *x, const char *tag)
{
    s3_xml_raw(x, "<", 1);
    s3_xml_raw(x, tag, strlen(tag));
    s3_xml_raw(x, ">", 1);
}

void
s3_xml_close(s3_xml_t *x, const char *tag)
{
    s3_xml_raw(x, "</", 2);
    s3_xml_raw(x, tag, strlen(tag));
    s3_xml_raw(x, ">", 1);
}

void
s3_xml_elem(s3_xml_t *x, const char *tag, const char *text, size_t len)
{
    s3_xml_open(x, tag);
    s3_xml_text(x, text, len);
    s3_xml_close(x, tag);
}

void
s3_xml_elem_str(s3_xml_t *x, const char *tag, const char *text)
{
    s3_xml_elem(x, tag, text, strlen(text));
}

void
s3_xml_elemf(s3_xml_t *x, const char *tag, const char *fmt, ...)
{
    char     buf[512];
    va_list  ap;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    s3_xml_elem(x, tag, buf, GW_MIN((size_t) n, sizeof(buf) - 1));
}

void
s3_xml_time(int64_t ms, char buf[32])
{
    time_t     t = (time_t) (ms / 1000);
    struct tm  tm;
    size_t     n;

    gmtime_r(&t, &tm);
    n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 32 - n, ".%03dZ", (int) (ms % 1000));
}

/* ==== reading ==== */

#include <expat.h>

#define S3_XML_TEXT_MAX  (64 * 1024)

typedef struct {
    XML_Parser   p;
    int        (*on_elem)(void *ud, int depth, const char *name,
                          const char *text, size_t len);
    void        *ud;
    int          depth;
    int          rc;
    char        *text;
    size_t       tlen;
} s3_xml_in_t;

static void XMLCALL
s3_xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    s3_xml_in_t  *in = ud;

    GW_UNUSED(name);
    GW_UNUSED(attrs);
    in->depth++;
    in->tlen = 0;
}

static void XMLCALL
s3_xml_end_elem(void *ud, const XML_Char *name)
{
    s3_xml_in_t  *in = ud;
    const char   *local = strrchr(name, ' ');
    int           rc;

    /* With namespace processing expat gives "uri name". */
    local = local ? local + 1 : name;
    in->text[in->tlen] = '\0';
    rc = in->on_elem(in->ud, in->depth, local, in->text, in->tlen);
    in->tlen = 0;
    in->depth--;
    if (rc != 0 && in->rc == GW_OK) {
        in->rc = rc;
        XML_StopParser(in->p, XML_FALSE);
    }
}

static void XMLCALL
s3_xml_chars(void *ud, const XML_Char *s, int len)
{
    s3_xml_in_t  *in = ud;

    if ((size_t) len > S3_XML_TEXT_MAX - in->tlen) {
        in->rc = GW_EINVAL;
        XML_StopParser(in->p, XML_FALSE);
        return;
    }
    memcpy(in->text + in->tlen, s, (size_t) len);
    in->tlen += (size_t) len;
}

static void XMLCALL
s3_xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
               const XML_Char *pubid, int has_internal_subset)
{
    s3_xml_in_t  *in = ud;

    /* No DTDs: no entity expansion games. */
    in->rc = GW_EINVAL;
    XML_StopParser(in->p, XML_FALSE);
}

int
s3_xml_parse(const char *buf, size_t len,
             int (*on_elem)(void *ud, int depth, const char *name,
                            const char *text, size_t len),
             void *ud)
{
    s3_xml_in_t  in;
    int          rc;

    memset(&in, 0, sizeof(in));
    in.p = XML_ParserCreateNS(NULL, ' ');
    if (in.p == NULL) {
        return GW_ERROR;
    }
    in.on_elem = on_elem;
    in.ud = ud;
    in.text = gw_alloc(S3_XML_TEXT_MAX + 1);
    XML_SetUserData(in.p, &in);
    XML_SetElementHandler(in.p, s3_xml_start, s3_xml_end_elem);
    XML_SetCharacterDataHandler(in.p, s3_xml_chars);
    XML_SetStartDoctypeDeclHandler(in.p, s3_xml_doctype);
    rc = XML_Parse(in.p, buf, (int) len, XML_TRUE) == XML_STATUS_OK
         ? GW_OK : GW_EINVAL;
    if (in.rc != GW_OK) {
        rc = in.rc;
    }
    XML_ParserFree(in.p);
    gw_free(in.text);
    return rc;
}


/* ==== the document as a tree ====
 *
 * s3_xml_parse reports each element at its end. Children end before their
 * parent, so the elements ended at depth d + 1 since the last end at depth d
 * are the children of the next element to end at depth d: a tree built
 * bottom-up, in the pool. */

typedef struct {
    gw_pool_t      *pool;
    s3_xml_node_t  *head[S3_XML_TREE_DEPTH + 2];
    s3_xml_node_t  *tail[S3_XML_TREE_DEPTH + 2];
    size_t          nodes;
} s3_xml_tree_t;

static int
s3_xml_tree_elem(void *ud, int depth, const char *name, const char *text,
                 size_t len)
{
    s3_xml_tree_t  *t = ud;
    s3_xml_node_t  *n;

    if (depth < 1 || depth > S3_XML_TREE_DEPTH
        || ++t->nodes > S3_XML_TREE_NODES)
    {
        return GW_EINVAL;
    }
    n = gw_pool_calloc(t->pool, sizeof(*n));
    n->name = gw_pool_strndup(t->pool, name, strlen(name));
    n->text = gw_pool_strndup(t->pool, text, len);
    n->len = len;
    n->child = t->head[depth + 1];
    t->head[depth + 1] = t->tail[depth + 1] = NULL;
    if (t->head[depth] == NULL) {
        t->head[depth] = n;
    } else {
        t->tail[depth]->next = n;
    }
    t->tail[depth] = n;
    return 0;
}

int
s3_xml_tree(gw_pool_t *pool, const char *buf, size_t len,
            const s3_xml_node_t **root)
{
    s3_xml_tree_t  t;

    *root = NULL;
    memset(&t, 0, sizeof(t));
    t.pool = pool;
    if (len == 0 || s3_xml_parse(buf, len, s3_xml_tree_elem, &t) != GW_OK) {
        return GW_EINVAL;
    }
    *root = t.head[1];
    return GW_OK;
}

int
s3_xml_is(const s3_xml_node_t *n, const char *name)
{
    return strcmp(n->name, name) == 0;
}

int
s3_xml_text_is(const s3_xml_node_t *n, const char *text)
{
    return n->len == strlen(text) && memcmp(n->text, text, n->len) == 0;
}

gw_str_t
s3_xml_str(const s3_xml_node_t *n)
{
    gw_str_t  s;

    s.base = n->text;
    s.len = n->len;
    return s;
}

int
s3_xml_once(const s3_xml_node_t **slot, const s3_xml_node_t *n)
{
    if (*slot != NULL) {
        return GW_EINVAL;
    }
    *slot = n;
    return GW_OK;
}

int
s3_xml_int(const s3_xml_node_t *n, int64_t lo, int64_t hi, int64_t *out)
{
    const char  *p = n->text, *end = n->text + n->len;
    int64_t      v = 0;
    int          neg = 0, digits = 0;

    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
    }
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'
                       || end[-1] == '\n'))
    {
        end--;
    }
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p++ == '-';
    }
    for ( ; p < end && *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10) {
            return GW_EINVAL;
        }
        v = v * 10 + (*p - '0');
        digits++;
    }
    if (p != end || digits == 0) {
        return GW_EINVAL;
    }
    v = neg ? -v : v;
    if (v < lo || v > hi) {
        return GW_EINVAL;
    }
    *out = v;
    return GW_OK;
}
