/* test/unit/test_pin.c: store/pin.c, the pin tables the workers share:
 * counts per chunk, removal that keeps every probe run reachable (many
 * hashes with one home slot), a table past its load limit counting what
 * did not fit (every chunk then counts as pinned), tables of other workers
 * seen by the collector, and a dead worker's table emptied. */
#include "store/internal.h"
#include "test/unit/unit.h"

/* A chunk reference whose hash has home slot home (the low bits of the
 * first 8 bytes) and is told apart by tag. */
static store_chunk_ref_t
pin_ref(uint64_t home, uint32_t tag)
{
    store_chunk_ref_t  c;

    memset(&c, 0, sizeof(c));
    memcpy(c.sha, &home, sizeof(home));
    memcpy(c.sha + 8, &tag, sizeof(tag));
    return c;
}

TEST(pin_counts_and_probe_runs)
{
    store_t            st;
    store_chunk_ref_t  c[40];
    uint32_t           ovf;
    size_t             i;

    memset(&st, 0, sizeof(st));
    CHECK_EQ_INT(store__pins_init(&st, NULL, 0), GW_OK);
    /* 40 hashes in one probe run, wrapping the table's end. */
    for (i = 0; i < 40; i++) {
        c[i] = pin_ref(8190 + (i % 3), (uint32_t) i);
    }
    store_pin(&st, c, 40);
    store_pin(&st, c, 1);                               /* twice */
    CHECK_EQ_INT(store__pins_count(&st, 0, &ovf), 40);
    CHECK_EQ_INT(ovf, 0);
    /* Every other one goes: the rest must still be found. */
    for (i = 0; i < 40; i += 2) {
        store_unpin(&st, &c[i], 1);
    }
    CHECK(store__pinned(&st, c[0].sha));                /* still once */
    for (i = 1; i < 40; i++) {
        CHECK_EQ_INT(store__pinned(&st, c[i].sha), (int) (i % 2));
    }
    store_unpin(&st, c, 40);
    store_unpin(&st, c, 1);
    CHECK_EQ_INT(store__pins_count(&st, 0, &ovf), 0);
    for (i = 0; i < 40; i++) {
        CHECK(!store__pinned(&st, c[i].sha));
    }
    store__pins_free(&st);
}

TEST(pin_overflow_and_workers)
{
    store_shared_t     *sh = store_shared_create(2);
    store_t             a, b;
    store_chunk_ref_t   c, other = pin_ref(77, 999999);
    uint32_t            ovf;
    size_t              i, n = 8192;

    CHECK(sh != NULL);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    CHECK_EQ_INT(store__pins_init(&a, sh, 0), GW_OK);
    CHECK_EQ_INT(store__pins_init(&b, sh, 1), GW_OK);
    /* Worker 1 pins; the collector (worker 0) sees it. */
    c = pin_ref(5, 1);
    store_pin(&b, &c, 1);
    store__pins_lock_all(&a);
    CHECK(store__pinned(&a, c.sha));
    CHECK(!store__pinned(&a, other.sha));
    store__pins_unlock_all(&a);
    store_unpin(&b, &c, 1);
    CHECK(!store__pinned(&a, c.sha));
    /* Past three quarters full, pins are counted, and all count. */
    for (i = 0; i < n; i++) {
        c = pin_ref(i * 7919, (uint32_t) i);
        store_pin(&b, &c, 1);
    }
    CHECK_EQ_INT(store__pins_count(&b, 1, &ovf), n / 4 * 3);
    CHECK_EQ_INT(ovf, n / 4);
    CHECK(store__pinned(&a, other.sha));
    for (i = 0; i < n; i++) {
        c = pin_ref(i * 7919, (uint32_t) i);
        store_unpin(&b, &c, 1);
    }
    CHECK_EQ_INT(store__pins_count(&b, 1, &ovf), 0);
    CHECK_EQ_INT(ovf, 0);
    CHECK(!store__pinned(&a, other.sha));
    /* A dead worker's pins and read mark go with it. */
    store_pin(&b, &other, 1);
    CHECK(store__pinned(&a, other.sha));
    store_shared_clear(sh, 1);
    CHECK(!store__pinned(&a, other.sha));
    CHECK(store__read_mark_min(&a) == UINT64_MAX);
    store__pins_free(&a);
    store__pins_free(&b);
    store_shared_free(sh);
}
