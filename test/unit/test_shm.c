/* test/unit/test_shm.c: core/shm.c, the robust process-shared mutex: a
 * holder that dies is reported to the next locker, and the mutex stays
 * usable after it. */
#include "core/gw.h"
#include "core/shm.h"
#include "test/unit/unit.h"

#include <sys/wait.h>
#include <unistd.h>

/* Runs a child that locks m and exits holding it, as a killed worker
 * would; the child's exit status is what its gw_shm_lock returned (0 for
 * GW_OK, 1 for GW_SHM_OWNERDEAD, 2 for anything else). */
static int
shm_child_dies_holding(pthread_mutex_t *m)
{
    pid_t  pid;
    int    st, rc;

    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        rc = gw_shm_lock(m);
        _exit(rc == GW_OK ? 0 : rc == GW_SHM_OWNERDEAD ? 1 : 2);
    }
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* A mutex of gw_shm_mutex_init in a mapping of its own. */
static pthread_mutex_t *
shm_mutex_new(void)
{
    pthread_mutex_t  *m = gw_shm_map(sizeof(*m));

    CHECK(m != NULL);
    CHECK_EQ_INT(gw_shm_mutex_init(m), GW_OK);
    return m;
}

/* The next lock after a death reports it; the mutex is usable again, not
 * left unrecoverable (where every lock would fail), and the death is
 * reported once only. Unmaps m. */
static void
shm_check_told_once(pthread_mutex_t *m)
{
    CHECK_EQ_INT(gw_shm_lock(m), GW_SHM_OWNERDEAD);
    pthread_mutex_unlock(m);
    CHECK_EQ_INT(gw_shm_lock(m), GW_OK);
    pthread_mutex_unlock(m);
    gw_shm_unmap(m, sizeof(*m));
}

TEST(shm_owner_died)
{
    pthread_mutex_t  *m = shm_mutex_new();

    CHECK_EQ_INT(gw_shm_lock(m), GW_OK);
    pthread_mutex_unlock(m);
    CHECK_EQ_INT(shm_child_dies_holding(m), 0);
    shm_check_told_once(m);
}

/* gw_shm_lock marks the mutex consistent before the caller repairs: a
 * locker that dies while repairing must still leave the next one told. */
TEST(shm_died_repairing)
{
    pthread_mutex_t  *m = shm_mutex_new();

    CHECK_EQ_INT(shm_child_dies_holding(m), 0);
    CHECK_EQ_INT(shm_child_dies_holding(m), 1);
    shm_check_told_once(m);
}
