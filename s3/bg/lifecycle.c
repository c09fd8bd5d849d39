/* s3/bg/lifecycle.c: the lifecycle worker (see lifecycle.h).
 *
 *   tick -> (no pass, and a day boundary passed since the last one began)
 *             a new pass: cursor at the first bucket
 *        -> objects: the next bucket with a "lifecycle" document
 *           (store_bconf_next), its versions after the cursor's key
 *           (store_viter_*: each key's current version, then its
 *           noncurrent ones newest first), s3_lifecycle_decide on each
 *             -> EXPIRE: store_object_delete_cond on the generation
 *                examined (a delete marker in a versioned bucket)
 *             -> REMOVE: store_object_remove of that version, on the
 *                generation examined
 *        -> uploads: the uploads after the cursor's id (store_upload_scan),
 *           s3_lifecycle_abort on each -> store_upload_abort
 *        -> what the walk found due held (w->held), and queued
 *           S3_LC_DELETES a tick; the next walk once all are queued
 *        -> the cursor saved (store_lc_cursor_put)
 *
 * Versions. A key with many versions may take several walks: the walk
 * keeps, in memory, the key under way, the last version it keeps (the
 * next walk seeks past it; the versions removed meanwhile are gone by
 * then, as a walk starts only once the last one's deletes committed) and
 * how many noncurrent versions it has seen (NewerNoncurrentVersions). The
 * saved cursor names the last key finished, so a restart walks the key
 * under way again from its current version, which decides the same. A
 * current delete marker is "lone" when the next version read is another
 * key's (or there is none): the walk reads one past its budget to know.
 *
 * Replication. A lifecycle deletion goes through the store's delete path as
 * DeleteObject does, but queues no outbox entry: Amazon S3 does not
 * replicate what lifecycle actions do ("Replicating delete markers between
 * buckets": the delete markers that an S3 Lifecycle expiration rule adds
 * are not replicated, even with delete marker replication enabled; the
 * destination has a lifecycle configuration of its own for that). */
#include "s3/bg/lifecycle.h"
#include "s3/lifecycle.h"
#include "core/log.h"
#include "core/metrics.h"

#include <inttypes.h>
#include <time.h>

struct s3_lc_s {
    s3_ctx_t           *ctx;
    uv_timer_t          timer;
    store_lc_cursor_t   cur;
    size_t              inflight;     /* deletes, aborts, cursor saves */
    int                 stopping;
    int                 timer_closed;
    int                 save_failed;  /* the last cursor save failed */
    /* The key whose versions are under way (see the top). */
    int                 kmid;
    char                kkey[STORE_KEY_MAX];
    size_t              kkey_len;
    uint64_t            kversion;     /* the last version kept: resume past
                                       * it (STORE_VERSION_NULL or a
                                       * version number) */
    uint64_t            kseen;        /* noncurrent versions seen */
    /* What the last walk found due, queued S3_LC_DELETES a tick from
     * held[next_held]; while some wait, base (the cursor where that walk
     * began) is the place saved, so a restart walks them again. */
    struct s3_lc_job_s *held[S3_LC_SCAN + 1];
    size_t              nheld, next_held;
    store_lc_cursor_t   base;
    uint64_t            due;          /* found due, not yet settled: the
                                       * s3gw_lifecycle_due gauge */
    void              (*done)(void *ud);
    void               *done_ud;
};

/* One delete or abort, held or in flight. */
typedef struct s3_lc_job_s {
    s3_lc_t   *w;
    char       bucket[STORE_BUCKET_MAX + 1];
    char      *key;                 /* the object's, or the upload's id */
    size_t     key_len;
    char      *rule;                /* the rule's ID, NUL-terminated */
    uint64_t   generation;          /* of the object examined */
    int        upload;              /* an upload to abort, not an object */
    int        remove;              /* that version to remove for good */
    uint64_t   version;             /* ... STORE_VERSION_NULL or a number */
    int        marker;              /* ... it is a delete marker */
    store_vresult_t  res;
} s3_lc_job_t;

/* A walk's deletes (w->held), queued once the walk's read txn has
 * ended. */
typedef struct {
    s3_lc_job_t  **jobs;
    size_t         n, cap;
} s3_lc_batch_t;

static void s3_lc_maybe_stopped(s3_lc_t *w);

static int64_t
s3_lc_now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static s3_lc_job_t *
s3_lc_job(s3_lc_t *w, const char *bucket, const char *key, size_t key_len,
          gw_str_t rule)
{
    s3_lc_job_t  *j = gw_calloc(1, sizeof(*j));

    j->w = w;
    snprintf(j->bucket, sizeof(j->bucket), "%s", bucket);
    j->key = gw_strndup(key, key_len);
    j->key_len = key_len;
    j->rule = gw_strndup(rule.base, rule.len);
    return j;
}

static void
s3_lc_job_free(s3_lc_job_t *j)
{
    gw_free(j->key);
    gw_free(j->rule);
    gw_free(j);
}

static void
s3_lc_job_end(s3_lc_job_t *j)
{
    s3_lc_t  *w = j->w;

    s3_lc_job_free(j);
    w->inflight--;
    w->due--;
    gw_metrics_lc_due(w->due);
    s3_lc_maybe_stopped(w);
}

static void
s3_lc_deleted(void *ud, int rc)
{
    s3_lc_job_t  *j = ud;

    if (rc == GW_OK) {
        gw_log(GW_LOG_INFO, NULL, 0, "lifecycle: expired %s/%.*s (rule %s)",
               j->bucket, (int) j->key_len, j->key, j->rule);
    } else if (rc == GW_ECONFLICT) {
        /* Written again (or deleted) since it was examined: the new
         * record is not the one that fell due. */
        gw_log(GW_LOG_DEBUG, NULL, 0, "lifecycle: %s/%.*s changed since it "
               "was examined: kept", j->bucket, (int) j->key_len, j->key);
    } else {
        gw_log(GW_LOG_ERR, NULL, rc, "lifecycle: expiring %s/%.*s failed "
               "(the next pass tries again)", j->bucket, (int) j->key_len,
               j->key);
    }
    s3_lc_job_end(j);
}

static void
s3_lc_removed(void *ud, int rc)
{
    s3_lc_job_t  *j = ud;

    if (rc == GW_OK && j->res.found) {
        gw_log(GW_LOG_INFO, NULL, 0, "lifecycle: removed %s %s/%.*s "
               "version %" PRIu64 " (rule %s)",
               j->marker ? "delete marker" : "noncurrent version", j->bucket,
               (int) j->key_len, j->key, j->version, j->rule);
    } else if (rc == GW_OK || rc == GW_ECONFLICT) {
        gw_log(GW_LOG_DEBUG, NULL, 0, "lifecycle: a version of %s/%.*s "
               "changed or went since it was examined: kept", j->bucket,
               (int) j->key_len, j->key);
    } else {
        gw_log(GW_LOG_ERR, NULL, rc, "lifecycle: removing a version of "
               "%s/%.*s failed (the next pass tries again)", j->bucket,
               (int) j->key_len, j->key);
    }
    s3_lc_job_end(j);
}

static void
s3_lc_aborted(void *ud, int rc)
{
    s3_lc_job_t  *j = ud;

    if (rc == GW_OK) {
        gw_log(GW_LOG_INFO, NULL, 0, "lifecycle: aborted multipart upload %s "
               "of %s (rule %s)", j->key, j->bucket, j->rule);
    } else if (rc != GW_ENOTFOUND) {        /* completed or aborted since */
        gw_log(GW_LOG_ERR, NULL, rc, "lifecycle: aborting upload %s failed",
               j->key);
    }
    s3_lc_job_end(j);
}

static void
s3_lc_saved(void *ud, int rc)
{
    s3_lc_t  *w = ud;

    if (rc != GW_OK) {
        /* The pass goes on; a restart before the next save redoes a step,
         * which finds nothing more to do. A full disk fails every save:
         * warn once until one succeeds. */
        gw_log(w->save_failed ? GW_LOG_DEBUG : GW_LOG_WARN, NULL, rc,
               "lifecycle: saving the worker's place failed");
    }
    w->save_failed = rc != GW_OK;
    w->inflight--;
    s3_lc_maybe_stopped(w);
}

/* The lifecycle configuration of bucket into *out (NULL: none, or one that
 * does not decode, logged). */
static void
s3_lc_conf(s3_lc_t *w, gw_pool_t *pool, const char *bucket,
           s3_lc_conf_t **out)
{
    gw_str_t  doc;
    int       rc;

    *out = NULL;
    rc = store_bconf_get(w->ctx->store, bucket, STORE_BCONF_LIFECYCLE, pool,
                         &doc);
    if (rc == GW_OK
        && s3_lifecycle_decode(pool, doc.base, doc.len, out) != GW_OK)
    {
        rc = GW_ECORRUPT;
    }
    if (rc != GW_OK && rc != GW_ENOTFOUND) {
        gw_log(GW_LOG_ERR, NULL, rc, "lifecycle: reading the configuration "
               "of bucket %s failed: skipped in this pass", bucket);
    }
}

/* 1 when some enabled rule of c acts on objects or versions (the others
 * need not walk the bucket: their actions are for uploads). */
static int
s3_lc_walks(const s3_lc_conf_t *c)
{
    const s3_lc_rule_t  *r;
    size_t               i;

    for (i = 0; c != NULL && i < c->nrules; i++) {
        r = &c->rules[i];
        if (r->enabled && (r->exp_days > 0 || r->exp_date_ms >= 0
                           || r->exp_dm == 1 || r->has_nc))
        {
            return 1;
        }
    }
    return 0;
}

static uint64_t
s3_lc_version_of(const store_object_t *o)
{
    return (o->vflags & STORE_VF_VERSIONED) ? o->version : STORE_VERSION_NULL;
}

/* A job for the version o of the walk's key, decided d by rule. */
static s3_lc_job_t *
s3_lc_version_job(s3_lc_t *w, const store_object_t *o, int d,
                  const s3_lc_rule_t *rule)
{
    s3_lc_job_t  *j;

    j = s3_lc_job(w, w->cur.bucket, o->key.base, o->key.len, rule->id);
    j->generation = o->generation;
    j->remove = d == S3_LC_REMOVE;
    j->version = s3_lc_version_of(o);
    j->marker = (o->vflags & STORE_VF_MARKER) != 0;
    return j;
}

/* Walks the cursor's bucket from its key (or from the version of the key
 * under way), within *budget versions and the room left in b. Returns 1
 * when the bucket is done. */
static int
s3_lc_walk(s3_lc_t *w, gw_pool_t *pool, int64_t now, size_t *budget,
           s3_lc_batch_t *b)
{
    store_lc_cursor_t     *cur = &w->cur;
    const store_object_t  *o;
    const s3_lc_rule_t    *rule;
    s3_lc_conf_t          *c;
    s3_lc_job_t           *lone = NULL;   /* a current marker's removal,
                                           * if nothing is behind it */
    store_viter_t         *vt;
    s3_lc_ver_t            v;
    gw_str_t               key;
    int64_t                day = (int64_t) w->ctx->cf->lifecycle_day_ms;
    int                    rc = GW_OK, d, latest, finished = 0, peek = 0;

    s3_lc_conf(w, pool, cur->bucket, &c);
    if (!s3_lc_walks(c)) {
        w->kmid = 0;
        return 1;
    }
    vt = store_viter_open(w->ctx->store, cur->bucket);
    if (w->kmid) {
        key.base = w->kkey;
        key.len = w->kkey_len;
        rc = store_viter_seek(vt, key, 1, 1, w->kversion);
    } else if (cur->key_len > 0) {
        key.base = cur->key;
        key.len = cur->key_len;
        rc = store_viter_seek(vt, key, 1, 0, 0);
    }
    for (;;) {
        if (rc == GW_OK) {
            if (*budget == 0 || b->n + (lone != NULL) >= b->cap) {
                if (lone == NULL) {
                    break;
                }
                peek = 1;       /* one more read, to settle the marker */
            }
            rc = store_viter_next(vt, &o, &latest);
        }
        if (rc != GW_OK) {
            if (rc != GW_ENOTFOUND) {
                gw_log(GW_LOG_ERR, NULL, rc, "lifecycle: reading the objects "
                       "of bucket %s failed: skipped in this pass",
                       cur->bucket);
            }
            if (lone != NULL && rc == GW_ENOTFOUND) {
                b->jobs[b->n++] = lone;
                lone = NULL;
            }
            finished = 1;
            w->kmid = 0;
            break;
        }
        if (lone != NULL) {
            if (latest) {
                b->jobs[b->n++] = lone;         /* nothing was behind it */
            } else {
                s3_lc_job_free(lone);
            }
            lone = NULL;
        }
        if (peek) {
            break;              /* o is read again by the next walk */
        }
        (*budget)--;
        memset(&v, 0, sizeof(v));
        if (latest) {
            if (w->kmid) {      /* the key before is done */
                memcpy(cur->key, w->kkey, w->kkey_len);
                cur->key_len = w->kkey_len;
            }
            memcpy(w->kkey, o->key.base, o->key.len);
            w->kkey_len = o->key.len;
            w->kmid = 1;
            w->kseen = 0;
            v.lone = (o->vflags & STORE_VF_MARKER) != 0;  /* so far */
        } else {
            v.noncurrent = 1;
            v.newer = w->kseen++;
        }
        d = s3_lifecycle_decide(c, o, &v, now, day, &rule);
        if (d != S3_LC_REMOVE || latest) {
            /* Still there next walk (an expired current version lives on
             * as a noncurrent one): the place to resume after. */
            w->kversion = s3_lc_version_of(o);
        }
        if (d == S3_LC_KEEP) {
            continue;
        }
        if (latest && d == S3_LC_REMOVE) {
            lone = s3_lc_version_job(w, o, d, rule);   /* if it is alone */
        } else {
            b->jobs[b->n++] = s3_lc_version_job(w, o, d, rule);
        }
    }
    store_viter_close(vt);
    return finished;
}

/* The objects of the pass: bucket after bucket, within *budget. Returns 1
 * when every bucket is done. */
static int
s3_lc_objects(s3_lc_t *w, gw_pool_t *pool, int64_t now, size_t *budget,
              s3_lc_batch_t *b)
{
    store_lc_cursor_t  *cur = &w->cur;
    char                next[STORE_BUCKET_MAX + 1];
    int                 rc;

    while (*budget > 0 && b->n < b->cap) {
        if (cur->bucket[0] == '\0') {
            rc = store_bconf_next(w->ctx->store, STORE_BCONF_LIFECYCLE, "",
                                  next);
            if (rc != GW_OK) {
                return 1;
            }
            memcpy(cur->bucket, next, sizeof(next));
            cur->key_len = 0;
            w->kmid = 0;
        }
        if (!s3_lc_walk(w, pool, now, budget, b)) {
            return 0;
        }
        rc = store_bconf_next(w->ctx->store, STORE_BCONF_LIFECYCLE,
                              cur->bucket, next);
        if (rc != GW_OK) {
            return 1;
        }
        memcpy(cur->bucket, next, sizeof(next));
        cur->key_len = 0;
        w->kmid = 0;
        (*budget)--;                    /* a bucket costs a look too */
    }
    return 0;
}

/* Uploads as the scan gives them (the scan's read txn allows no other
 * store call), decided on afterwards. */
typedef struct {
    char      id[STORE_UPLOAD_ID_LEN + 1];
    char      bucket[STORE_BUCKET_MAX + 1];
    char     *key;
    size_t    key_len;
    int64_t   init_ms;
} s3_lc_upload_t;

typedef struct {
    gw_pool_t       *pool;
    s3_lc_upload_t  *u;
    size_t           n, cap;
} s3_lc_uploads_t;

static int
s3_lc_upload_seen(void *ud, const store_upload_t *u)
{
    s3_lc_uploads_t  *s = ud;
    s3_lc_upload_t   *e = &s->u[s->n++];

    memcpy(e->id, u->id, sizeof(e->id));
    memcpy(e->bucket, u->bucket, sizeof(e->bucket));
    e->key = gw_pool_strndup(s->pool, u->tmpl->key.base, u->tmpl->key.len);
    e->key_len = u->tmpl->key.len;
    e->init_ms = u->tmpl->mtime_ms;
    return s->n == s->cap;
}

/* The uploads of the pass after the cursor's id, within *budget. Returns 1
 * when every upload is done. */
static int
s3_lc_uploads(s3_lc_t *w, gw_pool_t *pool, int64_t now, size_t *budget,
              s3_lc_batch_t *b)
{
    const s3_lc_rule_t  *rule;
    s3_lc_uploads_t      s;
    s3_lc_conf_t        *c = NULL;
    const char          *cbucket = NULL;
    gw_str_t             key;
    int64_t              at;
    size_t               i;
    int                  rc;

    s.pool = pool;
    s.n = 0;
    s.cap = GW_MIN(*budget, b->cap - b->n);
    if (s.cap == 0) {
        return 0;
    }
    s.u = gw_pool_alloc(pool, s.cap * sizeof(*s.u));
    rc = store_upload_scan(w->ctx->store, w->cur.upload, s3_lc_upload_seen,
                           &s);
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, NULL, rc, "lifecycle: reading the multipart "
               "uploads failed");
        return 1;
    }
    for (i = 0; i < s.n; i++) {
        memcpy(w->cur.upload, s.u[i].id, sizeof(w->cur.upload));
        (*budget)--;
        if (cbucket == NULL || strcmp(cbucket, s.u[i].bucket) != 0) {
            s3_lc_conf(w, pool, s.u[i].bucket, &c);
            cbucket = s.u[i].bucket;
        }
        if (c == NULL) {
            continue;
        }
        key.base = s.u[i].key;
        key.len = s.u[i].key_len;
        rule = s3_lifecycle_abort(c, key, s.u[i].init_ms,
                                  (int64_t) w->ctx->cf->lifecycle_day_ms, &at);
        if (rule != NULL && at <= now) {
            b->jobs[b->n] = s3_lc_job(w, s.u[i].bucket, s.u[i].id,
                                      STORE_UPLOAD_ID_LEN, rule->id);
            b->jobs[b->n++]->upload = 1;
        }
    }
    return s.n < s.cap;
}

/* Starts a pass when none runs and a day boundary has passed since the last
 * one started. Returns 1 when a pass runs. */
static int
s3_lc_pass(s3_lc_t *w, int64_t now)
{
    int64_t  day = (int64_t) w->ctx->cf->lifecycle_day_ms, next;

    if (w->cur.pass_ms != 0) {
        return 1;
    }
    next = w->cur.last_ms == 0 ? 0 : (w->cur.last_ms / day + 1) * day;
    if (now < next) {
        return 0;
    }
    w->cur.pass_ms = now;
    w->cur.phase = STORE_LC_OBJECTS;
    w->cur.bucket[0] = '\0';
    w->cur.key_len = 0;
    w->cur.upload[0] = '\0';
    w->kmid = 0;
    gw_log(GW_LOG_DEBUG, NULL, 0, "lifecycle: pass started");
    return 1;
}

/* One walk of the pass from the cursor, within S3_LC_SCAN records: what
 * it finds due goes to w->held. */
static void
s3_lc_step(s3_lc_t *w, int64_t now)
{
    s3_lc_batch_t   b;
    gw_pool_t      *pool;
    size_t          budget = S3_LC_SCAN;
    int             done;

    w->base = w->cur;
    b.jobs = w->held;
    b.n = 0;
    b.cap = GW_NELEMS(w->held);
    pool = gw_pool_create(4096);
    if (w->cur.phase == STORE_LC_OBJECTS
        && s3_lc_objects(w, pool, now, &budget, &b))
    {
        w->cur.phase = STORE_LC_UPLOADS;
        w->cur.upload[0] = '\0';
    }
    done = w->cur.phase == STORE_LC_UPLOADS
           && s3_lc_uploads(w, pool, now, &budget, &b);
    gw_pool_destroy(pool);
    w->nheld = b.n;
    w->next_held = 0;
    w->due += b.n;
    gw_metrics_lc_due(w->due);
    if (done) {
        gw_log(GW_LOG_DEBUG, NULL, 0, "lifecycle: pass done");
        w->cur.last_ms = w->cur.pass_ms;
        w->cur.pass_ms = 0;
    }
}

/* Queues the next S3_LC_DELETES held jobs. */
static void
s3_lc_queue(s3_lc_t *w)
{
    s3_lc_job_t   *j;
    store_cond_t   cond;
    gw_str_t       key;
    size_t         n;

    for (n = 0; n < S3_LC_DELETES && w->next_held < w->nheld; n++) {
        j = w->held[w->next_held++];
        key.base = j->key;
        key.len = j->key_len;
        w->inflight++;
        if (j->remove) {
            memset(&cond, 0, sizeof(cond));
            cond.has_generation = 1;
            cond.generation = j->generation;
            store_object_remove(w->ctx->store, j->bucket, key, 1, j->version,
                                &cond, NULL, NULL, &j->res, s3_lc_removed, j);
        } else if (!j->upload) {
            memset(&cond, 0, sizeof(cond));
            cond.has_generation = 1;
            cond.generation = j->generation;
            /* repl NULL: lifecycle expirations are not replicated (see the
             * top of this file). */
            store_object_delete_cond(w->ctx->store, j->bucket, key, &cond,
                                     NULL, s3_lc_deleted, j);
        } else {
            store_upload_abort(w->ctx->store, j->key, s3_lc_aborted, j);
        }
    }
}

static void
s3_lc_tick(uv_timer_t *t)
{
    s3_lc_t  *w = t->data;
    int64_t   now = s3_lc_now_ms();
    int       drained;

    if (w->stopping || w->inflight > 0) {
        return;
    }
    if (w->next_held == w->nheld) {
        if (!s3_lc_pass(w, now)) {
            return;
        }
        s3_lc_step(w, now);
    }
    s3_lc_queue(w);
    drained = w->next_held == w->nheld;
    /* Queued after this step's deletes, so committed with them or later. */
    w->inflight++;
    store_lc_cursor_put(w->ctx->store, drained ? &w->cur : &w->base,
                        s3_lc_saved, w);
}

/* ==== start and stop ==== */

int
s3_lc_start(s3_ctx_t *ctx, s3_lc_t **out)
{
    s3_lc_t   *w = gw_calloc(1, sizeof(*w));
    uint64_t   tick;
    int        rc;

    w->ctx = ctx;
    rc = store_lc_cursor_get(ctx->store, &w->cur);
    if (rc == GW_ENOTFOUND) {
        memset(&w->cur, 0, sizeof(w->cur));
    } else if (rc != GW_OK) {
        /* A cursor that cannot be read only costs a pass from the start. */
        gw_log(GW_LOG_WARN, NULL, rc, "lifecycle: the saved place of the "
               "worker cannot be read: starting a new pass");
        memset(&w->cur, 0, sizeof(w->cur));
    } else if (w->cur.pass_ms != 0) {
        gw_log(GW_LOG_NOTICE, NULL, 0, "lifecycle: resuming the pass begun "
               "at %" PRId64 " (bucket \"%s\")", w->cur.pass_ms / 1000,
               w->cur.bucket);
    }
    tick = ctx->cf->lifecycle_day_ms / 10;
    tick = GW_MAX(GW_MIN(tick, S3_LC_TICK_MAX), S3_LC_TICK_MIN);
    uv_timer_init(ctx->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, s3_lc_tick, tick, tick);
    *out = w;
    return GW_OK;
}

static void
s3_lc_timer_closed(uv_handle_t *h)
{
    s3_lc_t  *w = h->data;

    w->timer_closed = 1;
    s3_lc_maybe_stopped(w);
}

static void
s3_lc_maybe_stopped(s3_lc_t *w)
{
    void   (*done)(void *ud) = w->done;
    void    *ud = w->done_ud;

    if (!w->stopping || w->inflight > 0 || !w->timer_closed) {
        return;
    }
    gw_free(w);
    if (done != NULL) {
        done(ud);
    }
}

void
s3_lc_stop(s3_lc_t *w, void (*done)(void *ud), void *ud)
{
    /* The jobs still held are dropped: the saved place is before them. */
    while (w->next_held < w->nheld) {
        s3_lc_job_free(w->held[w->next_held++]);
        w->due--;
    }
    gw_metrics_lc_due(w->due);
    w->stopping = 1;
    w->done = done;
    w->done_ud = ud;
    uv_close((uv_handle_t *) &w->timer, s3_lc_timer_closed);
}
