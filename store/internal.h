/* store/internal.h: what the files of store/ share and nobody else sees: the
 * store itself, the commit batcher's op type and the record codecs. */
#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>

#include "store/store.h"
#include "core/tpool.h"

typedef struct store_op_s  store_op_t;

/* One queued index change. apply runs on a thread-pool thread inside a
 * nested transaction of the batch and returns GW_OK or an error (its
 * changes are then rolled back alone); done runs on the loop once the batch
 * is durable. */
struct store_op_s {
    int          (*apply)(store_t *st, MDB_txn *txn, store_op_t *op);
    store_done_pt  done;
    void          *ud;
    int            rc;
    store_op_t    *next;
    /* The op only gives space back: it still runs when the disk is full
     * and may use the last part of the map (see "room" in txn.c). deletes:
     * it is a delete a client asked for (an object, a bucket, an upload, a
     * bucket document), which may also use the reserve; the collector's
     * ops wait for room instead. Set before store__submit. */
    unsigned       frees:1;
    unsigned       deletes:1;
    unsigned       refused:1;    /* by the batcher: fails with UV_ENOSPC */
    /* Arguments, owned by the op. */
    char           bucket[STORE_BUCKET_MAX + 1];
    char          *key;
    size_t         key_len;
    void          *val;          /* encoded record */
    size_t         val_len;
    store_chunk_ref_t *chunks;   /* the new record's chunks, or candidates */
    size_t         nchunks;
    store_cond_t   cond;
    store_bucket_t bucket_rec;
    uint32_t       partno;
    store_complete_t *complete;
    store_vresult_t  *vres;      /* the caller's, or NULL */
    uint64_t          version;   /* store_object_remove's */
    unsigned          has_version:1;
    char            **repl;      /* replication destinations, owned */
    size_t            nrepl;
};

struct store_s {
    uv_loop_t        *loop;
    const gw_conf_t  *cf;
    MDB_env          *env;
    MDB_dbi           db_meta, db_buckets, db_objects, db_refs, db_gcq;
    MDB_dbi           db_uploads, db_parts, db_bconf;
    MDB_dbi           db_outbox, db_outkey, db_versions, db_upkeys;
    MDB_dbi           db_outdue;
    uint64_t          outbox_seq;     /* the last outbox sequence given */
    uint64_t          outbox_batch;   /* ... as read in this batch */
    char             *dir;            /* data_dir */
    int               chunk_dirfd[256];
    int               fsync;

    /* The commit batcher. */
    store_op_t       *pending, **pending_tail;
    store_op_t       *retry;          /* to run again before pending */
    int               retry_one;      /* ... one op per batch */
    store_op_t       *running;
    uv_work_t         work;
    int               busy;
    int               batch_rc;
    uint64_t          batch_seq;      /* number of the batch being applied */
    uint64_t          gen_last;       /* the last object generation given */
    uint64_t          gen_saved;      /* ... and the one meta holds */

    /* Room (txn.c): the LMDB map and the disk. */
    size_t            map_size;       /* the map now */
    size_t            map_cap;        /* index_max_size (or the index's size
                                       * if it is already bigger) */
    size_t            map_margin;     /* the end of the map kept for ops
                                       * that free */
    size_t            map_want;       /* grow to this before the next batch */
    uint64_t          map_full_logged;    /* loop time of the last "full" */
    int               readers;        /* read txns kept across loop turns
                                       * (iterators), or a read scope open
                                       * (store_read_begin), or the
                                       * collector's job (index.c): no
                                       * resize meanwhile */
    /* The read scope (store_read_begin): its txn, kept reset between
     * scopes so a request does not pay mdb_txn_begin's allocation; the
     * depth of nested begins; the thread that opened it (the loop's). */
    MDB_txn          *rscope;
    int               rscope_depth;
    int               rscope_live;    /* renewed, not reset */
    pthread_t         rscope_thread;
    char             *reserve_path;
    int               reserve_held;
    int               space_low;      /* the disk was full: refuse writes
                                       * that add until there is room */

    /* Durable syncs (chunk write + fdatasync, the commit batch) run on
     * threads of their own, apart from reads on libuv's pool. */
    gw_tpool_t       *sync_pool;

    /* The collector. */
    uv_timer_t        gc_timer;
    int               gc_queued;
    uint64_t          next_expire_scan;   /* loop time, ms */
    /* The background sweep for orphan chunk files (sweep.c). */
    unsigned          sweep_dir;      /* the next chunks/XX; 256: done */
    unsigned          sweep_next;     /* ... after the slice committing */
    size_t            sweep_slice;    /* orphans found by that slice */
    size_t            sweep_found;    /* ... by the slices done */
    int               sweep_queued;
    void            (*on_closed)(store_t *st);   /* internal: drained */
    void            (*user_closed)(store_t *st);
    int               closing;
    /* Thread-pool jobs of chunk writers and slices, which use st and may
     * submit ops when they end: closing waits for them (store__job_end). */
    int               jobs;

    /* Pins and read marks of every worker (pin.c), and this worker's
     * place among them. */
    store_shared_t   *shared;
    size_t            worker;
    int               shared_own;     /* made by store_open: unmap at close */
    uv_prepare_t      turn;           /* ends the read mark of a loop turn */
    int               collect;        /* this worker runs the collector */
    int               map_adopt;      /* another process grew the map */
};

/* The databases of STORE_FORMAT (store.h's key schema), as
 * XX(name, field of store_t): format.c opens them at start, creating what
 * is missing; the tools' open (outbox.c) opens them as they are. */
#define STORE_DBS(XX)                                                       \
    XX("meta", db_meta) XX("bucket", db_buckets) XX("objects", db_objects)  \
    XX("refs", db_refs) XX("gcq", db_gcq) XX("uploads", db_uploads)         \
    XX("parts", db_parts) XX("bconf", db_bconf) XX("outbox", db_outbox)     \
    XX("outkey", db_outkey) XX("versions", db_versions)                    \
    XX("upkeys", db_upkeys) XX("outdue", db_outdue)

/* The meta key of the store format, and format 1's bucket database, whose
 * name stays a plain key of the main database (store.h). */
#define STORE_META_FORMAT  "format"
#define STORE_META_LC      "lifecycle"
#define STORE_V1_BUCKETS   "buckets"

/* ==== txn.c: read transactions of the synchronous getters ==== */

/* The read txn a getter uses: the open read scope's when the caller is
 * the thread that opened it, else a txn of its own. Give it back with
 * store__read_done, which ends only a txn of its own. */
int store__read_txn(store_t *st, MDB_txn **txn);
void store__read_done(store_t *st, MDB_txn *txn);
void store__read_scope_free(store_t *st);

/* ==== txn.c: the batcher, pins, reference counts ==== */

/* Saves st->gen_last in meta (key STORE_META_GEN), inside a batch's
 * transaction. */
#define STORE_META_GEN  "generation"
int store__generation_save(store_t *st, MDB_txn *txn);
/* Copies repl's destinations into op (repl may be NULL); and gives them
 * back in store__outbox_add's form. */
void store__op_repl(store_op_t *op, const store_repl_t *repl);
store_repl_t store__op_dests(const store_op_t *op);
/* Queues op; it is applied in the next batch. */
void store__submit(store_t *st, store_op_t *op);
/* Starts the next batch if none runs; when closing and idle, calls
 * st->on_closed instead. */
void store__batch_start(store_t *st);
/* Counts a thread-pool job that uses st (call once it is queued), and ends
 * it: last thing in its after callback, once any op it submits is queued.
 * A closing store drains only when no such job is left. */
void store__job_begin(store_t *st);
void store__job_end(store_t *st);
store_op_t *store__op_new(store_done_pt done, void *ud);
/* Begins a read transaction on the loop. Another process may have grown
 * the map past this one's (MDB_MAP_RESIZED): the new size is adopted here
 * when nothing of this process has a transaction open, else by the
 * batcher before its next batch (and this read fails). Returns 0 or an
 * LMDB code, as mdb_txn_begin. */
int store__read_begin(store_t *st, MDB_txn **txn);

/* ==== pin.c: pins and read marks, shared by the workers ==== */

/* sh: the workers' region and this one's index in it; NULL: a region of
 * this store's own (a single process). */
int store__pins_init(store_t *st, store_shared_t *sh, size_t worker);
void store__pins_free(store_t *st);
/* The collector holds every table's lock across store__pinned and the
 * unlink of a chunk that is not pinned. */
void store__pins_lock_all(store_t *st);
void store__pins_unlock_all(store_t *st);
int store__pinned(store_t *st, const unsigned char sha[32]);
/* Loop, before a read transaction that may hand out a chunk list which
 * the caller pins in this loop turn: lowers this worker's read mark (see
 * pin.c for why). */
void store__read_mark(store_t *st);
/* The lowest read mark of all workers (UINT64_MAX: none). */
uint64_t store__read_mark_min(store_t *st);
/* Starts the prepare handle that ends a loop turn's read mark. */
void store__turn_start(store_t *st);
size_t store__pins_count(store_t *st, size_t worker, uint32_t *overflow);
/* An LMDB or system code as one of ours or libuv's: MDB_NOTFOUND is
 * GW_ENOTFOUND, MDB_KEYEXIST GW_EEXIST, a positive errno (LMDB returns
 * those) -errno; other MDB_* codes stay (gw_strerror names them). */
int store__mdb_rc(int rc);
/* 1 for the codes of a full disk (ENOSPC, EDQUOT, either sign). */
int store__nospace(int rc);

/* Room. Before the environment opens: the map size to start with. After:
 * adopts the map LMDB settled on and makes or finds the reserve file. */
size_t store__map_initial(const gw_conf_t *cf);
int store__room_open(store_t *st);
/* Start-up transactions failed with rc: makes room if it can (grows the
 * map, or releases the reserve). Returns 1 when the step may be retried. */
int store__room_make(store_t *st, int rc);
/* The disk is full (what failed, for the log): writes that add are refused
 * until store__room_check finds space again. */
void store__space_low(store_t *st, const char *what);
/* Collector tick: re-creates the reserve and leaves the low-space state
 * once there is room again. */
void store__room_check(store_t *st);
void store__room_close(store_t *st);

/* ==== record.c: the codecs of every value in the index (store.h) ==== */

#define STORE_REC_V1   1        /* the record format every record has now */
#define STORE_REC_END  0        /* the byte after the last field */

/* A record being written: u8 format, fields, then the end byte. Small
 * records stay in the struct; bigger ones move to the heap. */
typedef struct store_recw_s {
    unsigned char  *buf;
    size_t          len, cap;
    unsigned char   small[64];
} store_recw_t;

void store__recw_init(store_recw_t *w, unsigned format);
void store__recw_field(store_recw_t *w, unsigned tag, const void *data,
                       size_t len);
void store__recw_u32(store_recw_t *w, unsigned tag, uint32_t v);
void store__recw_u64(store_recw_t *w, unsigned tag, uint64_t v);
void store__recw_end(store_recw_t *w);
/* The record as a malloc'd buffer the caller owns; w is empty after. */
void *store__recw_detach(store_recw_t *w, size_t *len);
void store__recw_free(store_recw_t *w);

/* A record being read. Fields are views into the buffer given. */
typedef struct store_rec_s {
    const unsigned char  *p, *end;
} store_rec_t;

typedef struct store_field_s {
    unsigned              tag;
    const unsigned char  *data;
    size_t                len;
} store_field_t;

/* GW_OK when buf starts with format and has room for the end byte, else
 * GW_ECORRUPT. */
int store__rec_open(store_rec_t *r, const void *buf, size_t len,
                    unsigned format);
/* The next field: GW_OK, GW_DONE at the end byte, or GW_ECORRUPT when a
 * field runs past the buffer or the end byte is missing. */
int store__rec_next(store_rec_t *r, store_field_t *f);

/* Each record's codec. Encoders write into w (store__recw_free it);
 * decoders return GW_OK or GW_ECORRUPT (a missing required field, a field
 * of the wrong size, truncation), and their string outputs are views into
 * buf unless they are copied into a struct. */
void store__meta_format_encode(uint32_t format, store_recw_t *w);
int store__meta_format_decode(const void *buf, size_t len, uint32_t *format);
void store__meta_counter_encode(uint64_t value, store_recw_t *w);
int store__meta_counter_decode(const void *buf, size_t len, uint64_t *value);
void store__bucket_encode(const store_bucket_t *b, store_recw_t *w);
int store__bucket_decode(const void *name, size_t name_len, const void *buf,
                         size_t len, store_bucket_t *out);
void store__lc_cursor_encode(const store_lc_cursor_t *c, store_recw_t *w);
int store__lc_cursor_decode(const void *buf, size_t len,
                            store_lc_cursor_t *c);
void store__bconf_encode(gw_str_t doc, store_recw_t *w);
int store__bconf_decode(const void *buf, size_t len, gw_str_t *doc);
void store__ref_encode(uint64_t count, uint32_t chunk_len, store_recw_t *w);
int store__ref_decode(const void *buf, size_t len, uint64_t *count,
                      uint32_t *chunk_len);
/* txnid: the LMDB id of the write transaction that zeroed the count (0 in
 * entries written before it was kept). */
void store__gcq_encode(uint64_t seq, uint64_t txnid, store_recw_t *w);
int store__gcq_decode(const void *buf, size_t len, uint64_t *seq,
                      uint64_t *txnid);
void store__upload_encode(gw_str_t bucket, const void *tmpl, size_t tmpl_len,
                          store_recw_t *w);
int store__upload_decode(const void *buf, size_t len, gw_str_t *bucket,
                         gw_str_t *tmpl);

/* The object record. encode returns a malloc'd buffer. */
void *store__object_encode(const store_object_t *o, size_t *len);
/* flags: STORE_DECODE_CHUNKS to decode the chunk list too. */
#define STORE_DECODE_CHUNKS  1
int store__object_decode(const void *buf, size_t len, int flags,
                         store_object_t **out);
/* Sets the generation of an encoded record (it is always there, at a fixed
 * place): GW_OK, or GW_ECORRUPT for a value that is not such a record. */
int store__object_set_generation(void *val, size_t len, uint64_t gen);
/* The version fields of an encoded record (version = generation when
 * the record has none), after checking the whole record. */
typedef struct store_vinfo_s {
    uint64_t   generation;
    uint64_t   version;
    int64_t    noncurrent_ms;
    uint8_t    flags;
} store_vinfo_t;
int store__object_vinfo(const void *buf, size_t len, store_vinfo_t *vi);
/* A malloc'd copy of a valid encoded record (checked by the caller) with
 * its version fields set to vi's (generation unchanged; zero fields
 * dropped). */
void *store__object_vpatch(const void *buf, size_t len,
                           const store_vinfo_t *vi, size_t *out_len);
/* Chunk list of an encoded record, without decoding the rest (the whole
 * record is still checked: no references from a damaged one). */
int store__object_chunks(const void *buf, size_t len,
                         store_chunk_ref_t **chunks, size_t *n);
/* The objects-db key for (bucket, key) into out (512 bytes). */
size_t store__object_key(const char *bucket, gw_str_t key, unsigned char *out);

int store__refs_add(store_t *st, MDB_txn *txn, const store_chunk_ref_t *c,
                    size_t n, int delta);
/* Queues chunk sha for the collector, stamped with the current batch and
 * txn's LMDB id. */
int store__gcq_put(store_t *st, MDB_txn *txn, const unsigned char sha[32]);

/* Finds the record of (bucket, key) in txn: v is LMDB's memory. */
int store__object_find(store_t *st, MDB_txn *txn, const char *bucket,
                       gw_str_t key, MDB_val *v);

/* cond against the key's record v (NULL: there is none): GW_OK,
 * GW_ECONFLICT (generation), GW_EPRECOND (ETag, size, mtime),
 * GW_ENOTFOUND (If-Match on a missing key) or a decoding error. The
 * if_none_match_star condition is the caller's, and so is treating a
 * current delete marker as no record (version.c). In txn.c. */
int store__cond_check(const store_cond_t *cond, const MDB_val *v);

/* ==== version.c: object records and their versions ==== */

/* Writes obj's encoded record val under (bucket, key) in txn as its new
 * current version (see "versions" in store.h): checks cond against the
 * current version, gives val the next generation and its version fields,
 * keeps the previous current version as noncurrent or drops it (and the
 * null version a Suspended write replaces) with its chunk references, and
 * refers to chunks. With cond->in_place, replaces the record of
 * cond->generation where it is instead (version.c). *res (may be NULL)
 * gets the version made; res->version is its generation. Shared by
 * PutObject, CompleteMultipartUpload and delete markers. */
int store__object_commit(store_t *st, MDB_txn *txn, const char *bucket,
                         gw_str_t key, void *val, size_t val_len,
                         const store_chunk_ref_t *chunks, size_t nchunks,
                         const store_cond_t *cond, store_vresult_t *res);

/* The versions-db key of (bucket, key, version) into out (512 bytes);
 * without the version (the prefix of the key's entries) when prefix. */
size_t store__version_key(const char *bucket, gw_str_t key, uint64_t version,
                          int prefix, unsigned char *out);
/* The record val of the key's current version (of versioning info vi)
 * becomes noncurrent, stamped now. */
int store__version_stash(store_t *st, MDB_txn *txn, const char *bucket,
                         gw_str_t key, const MDB_val *val,
                         const store_vinfo_t *vi);
/* Drops the key's noncurrent null version, if any, and its references. */
int store__version_drop_null(store_t *st, MDB_txn *txn, const char *bucket,
                             gw_str_t key);
/* 1 when the versions-db key k is an entry of the key whose prefix (from
 * store__version_key) is p, plen bytes long. */
int store__version_of(const MDB_val *k, const unsigned char *p, size_t plen);
/* 1 when a record of version info vi is version (STORE_VERSION_NULL or a
 * version number). */
int store__version_match(const store_vinfo_t *vi, uint64_t version);
/* Puts cursor cur of the versions db on the entry of version of key:
 * GW_OK (k, v, vi: the entry), GW_ENOTFOUND or an error. */
int store__version_seek(store_t *st, MDB_cursor *cur, const char *bucket,
                        gw_str_t key, uint64_t version, MDB_val *k,
                        MDB_val *v, store_vinfo_t *vi);
/* cond->in_place: replaces the version of generation cond->generation. */
int store__version_replace(store_t *st, MDB_txn *txn, const char *bucket,
                           gw_str_t key, void *val, size_t val_len,
                           const store_chunk_ref_t *chunks, size_t nchunks,
                           const store_cond_t *cond);
/* The versioning state of bucket from its record: GW_OK, GW_ENOBUCKET. */
int store__bucket_versioning(store_t *st, MDB_txn *txn, const char *bucket,
                             int *state);
/* The iterator's transaction; listing markers too (version.c's iterator). */
MDB_txn *store__iter_txn(store_iter_t *it);
/* The iterator's bucket name into buf (STORE_BUCKET_MAX + 1 bytes). */
const char *store__iter_bucket(store_iter_t *it, char *buf);
void store__iter_markers(store_iter_t *it);

/* ==== format.c: the format marker, opening the databases, upgrades ==== */

/* Inside the open transaction: reads the format marker, refuses a newer
 * format (GW_EFORMAT, logged), upgrades format 1, creates a fresh index,
 * opens every database handle of st and reads the generation counter. */
int store__format_open(store_t *st, MDB_txn *txn);

/* ==== sweep.c: orphan chunk files ==== */

/* Start-up, before anything is served: empties tmp/. */
void store__sweep_tmp(store_t *st);
/* Collector tick: queues the next slice of the walk over chunks/XX, if
 * the walk is not over and no slice is in flight. */
void store__sweep_tick(store_t *st);
/* 1 once every chunks/XX directory was swept since the store opened. */
int store__sweep_finished(const store_t *st);

/* ==== outbox.c: the replication outbox ==== */

/* Queues change (STORE_REPL_*) of (bucket, key) for each destination of
 * repl inside txn, replacing an earlier entry of the same key and
 * destination. repl may be NULL. Returns 0 or an LMDB code. */
int store__outbox_add(store_t *st, MDB_txn *txn, const char *bucket,
                      gw_str_t key, const store_repl_t *repl, int change);
/* The same for one version of the key (has_version): the entry names it,
 * and does not replace the key's earlier entries (each version is sent). */
int store__outbox_add_v(store_t *st, MDB_txn *txn, const char *bucket,
                        gw_str_t key, const store_repl_t *repl, int change,
                        int has_version, uint64_t version);
/* Format upgrade: makes the outdue entry of every entry not failed;
 * *count gets how many. */
int store__outdue_build(store_t *st, MDB_txn *txn, size_t *count);
/* At open: the last sequence in use. */
int store__outbox_open(store_t *st, MDB_txn *txn);
int store__outbox_decode(const void *buf, size_t len, store_outbox_entry_t *e);

/* ==== multipart.c: uploads, above txn.c; index.c calls these ==== */

/* Aborts uploads started more than max_age_ms ago (up to a batch of them
 * per call); returns how many were queued. Called by the collector. */
size_t store__uploads_expire(store_t *st, uint64_t max_age_ms);
/* Format upgrade: makes the upkeys entry of every upload; *count gets
 * how many. */
int store__upkeys_build(store_t *st, MDB_txn *txn, size_t *count);
/* Drops every multipart upload of bucket. */
int store__uploads_drop_bucket(store_t *st, MDB_txn *txn, const char *bucket);

#endif
