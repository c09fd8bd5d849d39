/* core/pool.c: bump allocator over a list of blocks, plus cleanups. */
#include "core/pool.h"

#include <stdarg.h>

typedef struct gw_pool_block_s {
    struct gw_pool_block_s  *next;
    size_t                   size;
    size_t                   used;
    _Alignas(16) char        data[];
} gw_pool_block_t;

typedef struct gw_pool_cleanup_s {
    struct gw_pool_cleanup_s  *next;
    gw_pool_cleanup_pt         fn;
    void                      *data;
} gw_pool_cleanup_t;

struct gw_pool_s {
    gw_pool_block_t    *first;     /* kept across resets */
    gw_pool_block_t    *cur;
    gw_pool_cleanup_t  *cleanups;
    size_t              block_size;
};

static gw_pool_block_t *
gw_pool_block_new(size_t size)
{
    gw_pool_block_t  *b = gw_alloc(sizeof(*b) + size);

    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

gw_pool_t *
gw_pool_create(size_t block_size)
{
    gw_pool_t  *p = gw_alloc(sizeof(*p));

    p->block_size = block_size;
    p->first = gw_pool_block_new(block_size);
    p->cur = p->first;
    p->cleanups = NULL;
    return p;
}

static void
gw_pool_run_cleanups(gw_pool_t *p)
{
    gw_pool_cleanup_t  *c;

    /* Cleanups live in the pool itself, so walk before freeing blocks. */
    while ((c = p->cleanups) != NULL) {
        p->cleanups = c->next;
        c->fn(c->data);
    }
}

void
gw_pool_reset(gw_pool_t *p)
{
    gw_pool_block_t  *b, *next;

    gw_pool_run_cleanups(p);
    for (b = p->first->next; b != NULL; b = next) {
        next = b->next;
        gw_free(b);
    }
    p->first->next = NULL;
    p->first->used = 0;
    p->cur = p->first;
}

void
gw_pool_destroy(gw_pool_t *p)
{
    if (p == NULL) {
        return;
    }
    gw_pool_reset(p);
    gw_free(p->first);
    gw_free(p);
}

void *
gw_pool_alloc(gw_pool_t *p, size_t n)
{
    gw_pool_block_t  *b;
    size_t            need = (n + 15) & ~(size_t) 15;

    b = p->cur;
    if (b->size - b->used >= need) {
        b->used += need;
        return b->data + b->used - need;
    }
    b = gw_pool_block_new(GW_MAX(need, p->block_size));
    b->used = need;
    if (need > p->block_size) {
        /* A big one-off: keep cur so its free space stays usable. */
        b->next = p->cur->next;
        p->cur->next = b;
    } else {
        b->next = p->cur->next;   /* keep any one-off blocks linked */
        p->cur->next = b;
        p->cur = b;
    }
    return b->data;
}

void *
gw_pool_calloc(gw_pool_t *p, size_t n)
{
    void  *m = gw_pool_alloc(p, n);

    memset(m, 0, n);
    return m;
}

char *
gw_pool_strndup(gw_pool_t *p, const char *s, size_t n)
{
    char  *d = gw_pool_alloc(p, n + 1);

    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
gw_pool_sprintf(gw_pool_t *p, const char *fmt, ...)
{
    va_list  ap;
    int      n;
    char    *s;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    s = gw_pool_alloc(p, (size_t) n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t) n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void
gw_pool_cleanup_add(gw_pool_t *p, gw_pool_cleanup_pt fn, void *data)
{
    gw_pool_cleanup_t  *c = gw_pool_alloc(p, sizeof(*c));

    c->fn = fn;
    c->data = data;
    c->next = p->cleanups;
    p->cleanups = c;
}
