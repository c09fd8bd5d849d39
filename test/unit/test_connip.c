/* test/unit/test_connip.c: http/connip.c, limit_conn_per_ip's table that
 * the workers share: the limit and the grace over the counts of every
 * worker, removal that keeps every probe run reachable, a full table
 * failing open, and a dead worker's counts dropped. */
#include "http/connip.h"
#include "test/unit/unit.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

/* The IPv4 address 10.0.x.y, as the table takes it. */
static void
connip_ip(unsigned char ip[16], uint32_t n)
{
    memcpy(ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x00", 14);
    ip[14] = (unsigned char) (n >> 8);
    ip[15] = (unsigned char) n;
}

TEST(connip_limit_over_workers)
{
    http_connip_t  *t = http_connip_create(2, 8);
    unsigned char   a[16], b[16];
    int             i;

    CHECK(t != NULL);
    connip_ip(a, 1);
    connip_ip(b, 2);
    /* Limit 4, grace 2, whichever worker the connections are in. */
    for (i = 0; i < 4; i++) {
        CHECK_EQ_INT(http_connip_add(t, (size_t) i % 2, a, 4, 2, "a"),
                     HTTP_CONNIP_SERVE);
    }
    CHECK_EQ_INT(http_connip_add(t, 1, a, 4, 2, "a"), HTTP_CONNIP_SLOWDOWN);
    CHECK_EQ_INT(http_connip_add(t, 0, a, 4, 2, "a"), HTTP_CONNIP_SLOWDOWN);
    CHECK_EQ_INT(http_connip_add(t, 1, a, 4, 2, "a"), HTTP_CONNIP_CLOSE);
    CHECK_EQ_INT(http_connip_count(t, a), 6);
    /* Another address has a limit of its own. */
    CHECK_EQ_INT(http_connip_add(t, 1, b, 4, 2, "b"), HTTP_CONNIP_SERVE);
    /* One closed, in either worker: room for one again. */
    http_connip_remove(t, 0, a, "a");
    http_connip_remove(t, 0, a, "a");
    http_connip_remove(t, 1, a, "a");
    CHECK_EQ_INT(http_connip_count(t, a), 3);
    CHECK_EQ_INT(http_connip_add(t, 1, a, 4, 2, "a"), HTTP_CONNIP_SERVE);
    /* The worker gone holds the most; what the other holds still counts. */
    http_connip_worker_gone(t, 1);
    CHECK_EQ_INT(http_connip_count(t, a), 1);
    CHECK_EQ_INT(http_connip_count(t, b), 0);
    /* A remove for a count dropped with its worker changes nothing. */
    http_connip_remove(t, 1, a, "a");
    CHECK_EQ_INT(http_connip_count(t, a), 1);
    http_connip_remove(t, 0, a, "a");
    CHECK_EQ_INT(http_connip_count(t, a), 0);
    http_connip_free(t);
}

TEST(connip_probe_runs_and_full)
{
    /* 1 worker of 8 connections: 64 slots, 48 in use at most. */
    http_connip_t  *t = http_connip_create(1, 8);
    unsigned char   ip[16];
    uint32_t        i;

    CHECK(t != NULL);
    for (i = 0; i < 48; i++) {
        connip_ip(ip, i);
        CHECK_EQ_INT(http_connip_add(t, 0, ip, 1, 0, "x"), HTTP_CONNIP_SERVE);
    }
    /* Full: a new address is let in uncounted; a known one still counts. */
    connip_ip(ip, 1000);
    CHECK_EQ_INT(http_connip_add(t, 0, ip, 1, 0, "x"),
                 HTTP_CONNIP_UNCOUNTED);
    CHECK_EQ_INT(http_connip_count(t, ip), 0);
    connip_ip(ip, 7);
    CHECK_EQ_INT(http_connip_add(t, 0, ip, 1, 0, "x"), HTTP_CONNIP_CLOSE);
    /* Every other one goes: the rest must still be found. */
    for (i = 0; i < 48; i += 2) {
        connip_ip(ip, i);
        http_connip_remove(t, 0, ip, "x");
    }
    for (i = 0; i < 48; i++) {
        connip_ip(ip, i);
        CHECK_EQ_INT(http_connip_count(t, ip), i % 2);
    }
    connip_ip(ip, 1000);
    CHECK_EQ_INT(http_connip_add(t, 0, ip, 1, 0, "x"), HTTP_CONNIP_SERVE);
    http_connip_free(t);
}

/* A worker killed while it holds the lock: the next locker gets the table
 * back (EOWNERDEAD), rebuilt, with every count it had. The mutex is the
 * table's first member, which is what lets the child take it here. */
TEST(connip_owner_died)
{
    http_connip_t  *t = http_connip_create(2, 8);
    unsigned char   a[16];
    pid_t           pid;
    int             st;

    CHECK(t != NULL);
    connip_ip(a, 1);
    CHECK_EQ_INT(http_connip_add(t, 0, a, 4, 2, "a"), HTTP_CONNIP_SERVE);
    CHECK_EQ_INT(http_connip_add(t, 1, a, 4, 2, "a"), HTTP_CONNIP_SERVE);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        pthread_mutex_lock((pthread_mutex_t *) (void *) t);
        _exit(0);
    }
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK_EQ_INT(http_connip_count(t, a), 2);
    CHECK_EQ_INT(http_connip_add(t, 0, a, 3, 2, "a"), HTTP_CONNIP_SERVE);
    CHECK_EQ_INT(http_connip_add(t, 1, a, 3, 2, "a"),
                 HTTP_CONNIP_SLOWDOWN);
    /* Made consistent again, not left unrecoverable (where every lock
     * would fail and nothing would exclude anything any more). */
    CHECK_EQ_INT(pthread_mutex_lock((pthread_mutex_t *) (void *) t), 0);
    pthread_mutex_unlock((pthread_mutex_t *) (void *) t);
    http_connip_free(t);
}

/* A dead worker's counts dropped in place, across probe runs: the entries
 * that moved back into a freed slot are dropped too, and the others are
 * still found. */
TEST(connip_worker_gone_many)
{
    http_connip_t  *t = http_connip_create(2, 8);     /* 64 slots */
    unsigned char   ip[16];
    uint32_t        i;

    CHECK(t != NULL);
    for (i = 0; i < 44; i++) {
        connip_ip(ip, i);
        CHECK_EQ_INT(http_connip_add(t, 1, ip, 9, 0, "x"), HTTP_CONNIP_SERVE);
        if (i % 2) {
            CHECK_EQ_INT(http_connip_add(t, 0, ip, 9, 0, "x"),
                         HTTP_CONNIP_SERVE);
        }
    }
    http_connip_worker_gone(t, 1);
    for (i = 0; i < 44; i++) {
        connip_ip(ip, i);
        CHECK_EQ_INT(http_connip_count(t, ip), i % 2);
    }
    /* Room again: the emptied slots are free. */
    for (i = 100; i < 100 + 48 - 22; i++) {
        connip_ip(ip, i);
        CHECK_EQ_INT(http_connip_add(t, 0, ip, 9, 0, "x"), HTTP_CONNIP_SERVE);
    }
    http_connip_free(t);
}
