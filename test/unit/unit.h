/* test/unit/unit.h: the tiny assertion kit of the unit tests. A failed CHECK
 * prints file:line and the expression, and ends the test (each test runs in
 * its own forked process, so nothing leaks into the next one). */
#ifndef GW_TEST_UNIT_H
#define GW_TEST_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST(name)  void test_##name(void)

#define CHECK(expr)                                                         \
    do {                                                                    \
        if (!(expr)) {                                                      \
            fprintf(stderr, "# %s:%d: CHECK failed: %s\n",                  \
                    __FILE__, __LINE__, #expr);                             \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                  \
    do {                                                                    \
        long long a_ = (long long) (a), b_ = (long long) (b);               \
        if (a_ != b_) {                                                     \
            fprintf(stderr, "# %s:%d: %s == %lld, expected %s == %lld\n",   \
                    __FILE__, __LINE__, #a, a_, #b, b_);                    \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                  \
    do {                                                                    \
        const char *a_ = (a), *b_ = (b);                                    \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {              \
            fprintf(stderr, "# %s:%d: %s is \"%s\", expected \"%s\"\n",     \
                    __FILE__, __LINE__, #a, a_ ? a_ : "(null)",             \
                    b_ ? b_ : "(null)");                                    \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

#endif
