/* s3/xml.h: building XML response bodies. An s3_xml_t is a growable buffer
 * owned by the request's pool (freed with it); every text and attribute is
 * escaped on the way in. */
#ifndef S3_XML_H
#define S3_XML_H

#include "core/gw.h"
#include "core/pool.h"

typedef struct s3_xml_s {
    gw_pool_t  *pool;
    char       *buf;
    size_t      len, cap;
} s3_xml_t;

/* Starts a document: the XML declaration and <root xmlns="...S3 ns...">. */
void s3_xml_begin(s3_xml_t *x, gw_pool_t *pool, const char *root);
/* Closes root. */
void s3_xml_end(s3_xml_t *x, const char *root);

void s3_xml_open(s3_xml_t *x, const char *tag);
void s3_xml_close(s3_xml_t *x, const char *tag);
/* <tag>escaped text</tag> */
void s3_xml_elem(s3_xml_t *x, const char *tag, const char *text, size_t len);
void s3_xml_elem_str(s3_xml_t *x, const char *tag, const char *text);
void s3_xml_elemf(s3_xml_t *x, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Raw bytes, no escaping (for markup built by the caller). */
void s3_xml_raw(s3_xml_t *x, const char *s, size_t len);
/* Escaped text only. */
void s3_xml_text(s3_xml_t *x, const char *s, size_t len);

/* ISO 8601 time with milliseconds, as S3 writes it in XML bodies. */
void s3_xml_time(int64_t ms, char buf[32]);

#endif

#ifndef S3_XML_IN_H
#define S3_XML_IN_H
/* Reading XML request bodies with expat. on_elem runs at each element's end
 * with its local name (namespace stripped), depth (root = 1) and its text
 * content (borrowed, valid during the call); returning non-zero stops the
 * parse with that value. Returns GW_OK, GW_EINVAL for a document that is not
 * well-formed (or declares a DTD), or what on_elem returned. */
int s3_xml_parse(const char *buf, size_t len,
                 int (*on_elem)(void *ud, int depth, const char *name,
                                const char *text, size_t len),
                 void *ud);

/* A document read whole as a tree, for configurations whose meaning is
 * checked after their shape (replication, lifecycle): every element with its
 * local name, text and children in document order, in pool. At most
 * S3_XML_TREE_DEPTH deep and S3_XML_TREE_NODES elements, bounds that only
 * cap what a hostile document can make the parse take. */
#define S3_XML_TREE_DEPTH  8
#define S3_XML_TREE_NODES  200000

typedef struct s3_xml_node_s  s3_xml_node_t;

struct s3_xml_node_s {
    const char     *name;
    const char     *text;          /* NUL-terminated */
    size_t          len;
    s3_xml_node_t  *child;         /* in document order */
    s3_xml_node_t  *next;
};

/* *root is the first top-level element (its next: any other one). GW_OK,
 * or GW_EINVAL for an empty, malformed, too deep or too large document. */
int s3_xml_tree(gw_pool_t *pool, const char *buf, size_t len,
                const s3_xml_node_t **root);
int s3_xml_is(const s3_xml_node_t *n, const char *name);
int s3_xml_text_is(const s3_xml_node_t *n, const char *text);
gw_str_t s3_xml_str(const s3_xml_node_t *n);
/* Sets *slot to n unless it is set already (a repeated element):
 * GW_OK or GW_EINVAL. */
int s3_xml_once(const s3_xml_node_t **slot, const s3_xml_node_t *n);
/* An xsd integer (optional sign, digits, blanks around) within [lo, hi]
 * into *out: GW_OK, or GW_EINVAL for text that is not one or out of range. */
int s3_xml_int(const s3_xml_node_t *n, int64_t lo, int64_t hi, int64_t *out);
#endif
