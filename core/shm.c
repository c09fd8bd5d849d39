/* core/shm.c: shared mappings and robust process-shared mutexes (see
 * shm.h). */
#include "core/shm.h"
#include "core/gw.h"

#include <errno.h>
#include <sys/mman.h>

void *
gw_shm_map(size_t size)
{
    void  *p;

    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
             -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void
gw_shm_unmap(void *p, size_t size)
{
    if (p != NULL) {
        munmap(p, size);
    }
}

int
gw_shm_mutex_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t  a;
    int                  rc;

    rc = pthread_mutexattr_init(&a);
    if (rc != 0) {
        return -rc;
    }
    rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (rc == 0) {
        rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    }
    if (rc == 0) {
        rc = pthread_mutex_init(m, &a);
    }
    pthread_mutexattr_destroy(&a);
    return -rc;
}

int
gw_shm_lock(pthread_mutex_t *m)
{
    int  rc = pthread_mutex_lock(m);

    if (rc == EOWNERDEAD) {
        /* Marked consistent before the caller repairs, not after: it still
         * holds the lock, so nobody sees the data half repaired, and should
         * it die repairing, the next locker is told of that death too. */
        pthread_mutex_consistent(m);
        return GW_SHM_OWNERDEAD;
    }
    return -rc;
}
