/* core/pool.h: per-connection and per-request memory (nginx's pools). A pool
 * hands out memory that lives until gw_pool_destroy or gw_pool_reset, which
 * free it all in one call and first run the registered cleanups in reverse
 * order (close a file, free an EVP context). Body bytes never go into a pool:
 * pools hold headers, names, parsed XML and response headers. */
#ifndef GW_POOL_H
#define GW_POOL_H

#include "core/gw.h"

typedef struct gw_pool_s gw_pool_t;
typedef void (*gw_pool_cleanup_pt)(void *data);

/* Creates a pool whose blocks are block_size bytes; larger requests get a
 * block of their own. Never returns NULL. */
gw_pool_t *gw_pool_create(size_t block_size);

/* Runs the cleanups and frees everything. p may be NULL. */
void gw_pool_destroy(gw_pool_t *p);

/* Runs the cleanups and frees everything but the first block, so a
 * keep-alive connection reuses its pool without going back to malloc. */
void gw_pool_reset(gw_pool_t *p);

/* Memory aligned for any type, valid until the pool is reset or destroyed. */
void *gw_pool_alloc(gw_pool_t *p, size_t n);
void *gw_pool_calloc(gw_pool_t *p, size_t n);
char *gw_pool_strndup(gw_pool_t *p, const char *s, size_t n);
char *gw_pool_sprintf(gw_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Registers fn(data) to run when the pool is reset or destroyed. */
void gw_pool_cleanup_add(gw_pool_t *p, gw_pool_cleanup_pt fn, void *data);

#endif
