/* core/shm.h: memory shared by the worker processes, and the robust
 * process-shared mutexes that guard what lives in it. Owns no state: the
 * caller keeps the mapping (and its size) and places its mutexes inside
 * it. A region is mapped before the workers fork, so every worker and the
 * master see the same bytes.
 *
 * A worker may die holding a lock (a crash, SIGKILL). A robust mutex does
 * not stay locked forever then: the next locker gets it with word that its
 * holder died, and only the caller knows what a half-done update of its
 * data looks like, so gw_shm_lock reports the death and the repair stays
 * with the caller. */
#ifndef GW_SHM_H
#define GW_SHM_H

#include <pthread.h>
#include <stddef.h>

/* gw_shm_lock: the lock is held, and its previous holder died holding it. */
#define GW_SHM_OWNERDEAD  1

/* Maps size bytes of zeroed memory, shared with the processes forked after
 * the call. NULL with errno set when mmap fails. */
void *gw_shm_map(size_t size);

/* Unmaps a region of gw_shm_map, with the size it was mapped with (p NULL:
 * nothing). */
void gw_shm_unmap(void *p, size_t size);

/* Initialises *m, which lies in a region of gw_shm_map, as a mutex shared
 * by processes and robust against a holder's death. GW_OK or a negative
 * errno. */
int gw_shm_mutex_init(pthread_mutex_t *m);

/* Locks *m (of gw_shm_mutex_init). GW_OK; or GW_SHM_OWNERDEAD: the lock is
 * held and already marked consistent, but its previous holder died holding
 * it, so the data it guards may be half updated; the caller repairs it
 * before it unlocks. Or a negative errno: ENOTRECOVERABLE only if a holder
 * unlocked after a death without marking the mutex consistent, which
 * cannot happen while every lock goes through here. */
int gw_shm_lock(pthread_mutex_t *m);

#endif
