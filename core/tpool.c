/* core/tpool.c: see tpool.h. One mutex guards both lists: jobs wait on
 * `todo` for a thread, finished ones on `done` for the loop; one async send
 * may stand for many completions, so the loop takes the whole list. */
#include "core/tpool.h"

#include <pthread.h>
#include <signal.h>

typedef struct gw_tpool_job_s  gw_tpool_job_t;

struct gw_tpool_job_s {
    uv_work_t         *req;
    uv_work_cb         work;
    uv_after_work_cb   after;
    gw_tpool_job_t    *next;
};

typedef struct {
    gw_tpool_job_t    *head;
    gw_tpool_job_t   **tail;
} gw_tpool_list_t;

struct gw_tpool_s {
    uv_async_t         async;
    pthread_mutex_t    lock;
    pthread_cond_t     cond;
    gw_tpool_list_t    todo;
    gw_tpool_list_t    done;
    pthread_t         *threads;
    unsigned           nthreads;
    size_t             pending;      /* queued, after not run yet (loop) */
    int                stopping;     /* threads leave once todo is empty */
};

static void
gw_tpool_push(gw_tpool_list_t *l, gw_tpool_job_t *j)
{
    j->next = NULL;
    *l->tail = j;
    l->tail = &j->next;
}

static gw_tpool_job_t *
gw_tpool_take(gw_tpool_list_t *l)
{
    gw_tpool_job_t  *j = l->head;

    l->head = NULL;
    l->tail = &l->head;
    return j;
}

static void *
gw_tpool_thread(void *arg)
{
    gw_tpool_t      *tp = arg;
    gw_tpool_job_t  *j;

    pthread_mutex_lock(&tp->lock);
    for ( ;; ) {
        while (tp->todo.head == NULL && !tp->stopping) {
            pthread_cond_wait(&tp->cond, &tp->lock);
        }
        if (tp->todo.head == NULL) {
            break;
        }
        j = tp->todo.head;
        tp->todo.head = j->next;
        if (tp->todo.head == NULL) {
            tp->todo.tail = &tp->todo.head;
        }
        pthread_mutex_unlock(&tp->lock);
        j->work(j->req);
        pthread_mutex_lock(&tp->lock);
        gw_tpool_push(&tp->done, j);
        uv_async_send(&tp->async);
    }
    pthread_mutex_unlock(&tp->lock);
    return NULL;
}

/* Loop: the after callbacks, in the order the jobs finished. */
static void
gw_tpool_deliver(gw_tpool_t *tp)
{
    gw_tpool_job_t  *j, *next;

    pthread_mutex_lock(&tp->lock);
    j = gw_tpool_take(&tp->done);
    pthread_mutex_unlock(&tp->lock);
    for (; j != NULL; j = next) {
        next = j->next;
        if (--tp->pending == 0) {
            uv_unref((uv_handle_t *) &tp->async);
        }
        j->after(j->req, 0);
        gw_free(j);
    }
}

static void
gw_tpool_async_cb(uv_async_t *a)
{
    gw_tpool_deliver(a->data);
}

/* Joins the first n threads after telling them to stop. */
static void
gw_tpool_join(gw_tpool_t *tp, unsigned n)
{
    unsigned  i;

    pthread_mutex_lock(&tp->lock);
    tp->stopping = 1;
    pthread_cond_broadcast(&tp->cond);
    pthread_mutex_unlock(&tp->lock);
    for (i = 0; i < n; i++) {
        pthread_join(tp->threads[i], NULL);
    }
}

static void
gw_tpool_free(gw_tpool_t *tp)
{
    pthread_cond_destroy(&tp->cond);
    pthread_mutex_destroy(&tp->lock);
    gw_free(tp->threads);
    gw_free(tp);
}

static void
gw_tpool_closed(uv_handle_t *h)
{
    gw_tpool_free(h->data);
}

int
gw_tpool_open(gw_tpool_t **out, uv_loop_t *loop, unsigned nthreads)
{
    gw_tpool_t  *tp = gw_calloc(1, sizeof(*tp));
    sigset_t     all, old;
    unsigned     i;
    int          rc;

    tp->todo.tail = &tp->todo.head;
    tp->done.tail = &tp->done.head;
    tp->threads = gw_calloc(nthreads, sizeof(*tp->threads));
    pthread_mutex_init(&tp->lock, NULL);
    pthread_cond_init(&tp->cond, NULL);
    rc = uv_async_init(loop, &tp->async, gw_tpool_async_cb);
    if (rc != 0) {
        gw_tpool_free(tp);
        return rc;
    }
    tp->async.data = tp;
    /* Only jobs in flight keep the loop running, as libuv's own do. */
    uv_unref((uv_handle_t *) &tp->async);
    /* Signals belong to the loop thread (SIGTERM, SIGHUP): the threads
     * start with all of them blocked, as libuv's do. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (i = 0; i < nthreads; i++) {
        rc = -pthread_create(&tp->threads[i], NULL, gw_tpool_thread, tp);
        if (rc != 0) {
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        gw_tpool_join(tp, i);
        uv_close((uv_handle_t *) &tp->async, gw_tpool_closed);
        return rc;
    }
    tp->nthreads = nthreads;
    *out = tp;
    return GW_OK;
}

int
gw_tpool_queue(gw_tpool_t *tp, uv_work_t *req, uv_work_cb work,
               uv_after_work_cb after)
{
    gw_tpool_job_t  *j;

    if (tp->stopping) {
        return GW_ERROR;
    }
    j = gw_alloc(sizeof(*j));
    j->req = req;
    j->work = work;
    j->after = after;
    if (tp->pending++ == 0) {
        uv_ref((uv_handle_t *) &tp->async);
    }
    pthread_mutex_lock(&tp->lock);
    gw_tpool_push(&tp->todo, j);
    pthread_cond_signal(&tp->cond);
    pthread_mutex_unlock(&tp->lock);
    return GW_OK;
}

void
gw_tpool_close(gw_tpool_t *tp)
{
    if (tp == NULL) {
        return;                 /* never opened (a store without a loop) */
    }
    gw_tpool_join(tp, tp->nthreads);
    gw_tpool_deliver(tp);
    uv_close((uv_handle_t *) &tp->async, gw_tpool_closed);
}
