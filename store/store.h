/* store/store.h: persistence. Owns everything under data_dir: the LMDB index
 * and the content-addressed chunk files. Knows nothing about HTTP or S3
 * wire formats; s3/ talks to it in buckets, keys and object records.
 *
 * ==== On-disk layout ====
 *
 *   <data_dir>/index/data.mdb      LMDB environment (named databases below)
 *   <data_dir>/chunks/XX/<sha256>  one file per chunk, named by the lowercase
 *                                  hex SHA-256 of its bytes; XX = the first
 *                                  two hex digits (256 directories)
 *   <data_dir>/tmp/                chunks being written; emptied at start-up
 *   <data_dir>/reserve             8 MiB of allocated disk, deleted when the
 *                                  disk is full so that deletes can commit,
 *                                  made again once there is room (txn.c)
 *
 * A chunk file holds raw bytes only: no header, no framing. Objects are split
 * into chunks of chunk_size bytes (default 4 MiB, the last one shorter); the
 * same bytes are stored once however many objects, copies or parts hold them.
 * Objects of at most inline_max bytes (default 4 KiB) have no chunk file:
 * their bytes live in their index record.
 *
 * ==== Store format ====
 *
 * The index records the format it is written in (meta "format", below);
 * this build reads and writes format STORE_FORMAT. When the store opens:
 *   - an empty index becomes a new index of format STORE_FORMAT;
 *   - format 1 (the index of builds from before the marker: a "buckets"
 *     database and no "meta") is upgraded in place, in one transaction, so
 *     a crash during the upgrade leaves format 1 as it was: bucket records
 *     move to "bucket", the refs, gcq, uploads and bconf values are
 *     rewritten in the encodings below; object and part records are kept
 *     (the object record was already versioned);
 *   - format 2 (the index before versions) is upgraded in place by
 *     creating the "versions" database and writing the new marker: no
 *     record changes, since every format-2 object record is the current,
 *     null version of its key. The bump keeps a format-2 build away from
 *     an index with delete markers, which it would serve as empty objects;
 *   - format 3 (the index before upkeys and outdue) is upgraded in place,
 *     in one transaction, by creating both databases and filling them
 *     from "uploads" and "outbox" (formats 1 and 2 get them too, after
 *     their own steps): no record changes. The bump keeps a format-3
 *     build, which would not maintain them, away from the index;
 *   - a newer format is refused (GW_EFORMAT), with a message naming both
 *     formats; nothing is written.
 * The "meta" database and its "format" key keep this meaning in every
 * format, so any build can tell what it is looking at. Format 2 also keeps a
 * plain key "buckets" in LMDB's main database where format 1 had its bucket
 * database, so that a build from before the marker fails to open a newer
 * index (MDB_INCOMPATIBLE) instead of misreading it.
 *
 * ==== LMDB key schema (format 4) ====
 *
 *   (main)   "buckets"                 -> a line of text, the tombstone above
 *   meta     "format"                  -> meta record
 *            "generation"              -> counter record: the last object
 *                                         generation given out
 *            "lifecycle"               -> lifecycle cursor record: where
 *                                         the lifecycle worker's pass is
 *   bucket   name                      -> bucket record
 *   bconf    bucket 0x00 kind          -> bconf record: one configuration
 *                                         document of the bucket, kind "acl"
 *                                         (s3/acl.h's stored form; absent:
 *                                         private), "policy" (the JSON
 *                                         text of its bucket policy),
 *                                         "replication" (s3/replication.h's
 *                                         stored form), "cors" (the
 *                                         CORSConfiguration XML as put,
 *                                         read by s3/cors.h), "website"
 *                                         (s3/website.h's stored form),
 *                                         "lifecycle" (s3/lifecycle.h's
 *                                         stored form: the
 *                                         LifecycleConfiguration document
 *                                         as GET gives it back),
 *                                         "tagging" (the bucket's Tagging
 *                                         XML, tags sorted by key, as
 *                                         GetBucketTagging answers it),
 *                                         "ownership" (Object Ownership,
 *                                         "1 " and S3's name of it; absent:
 *                                         ObjectWriter) or "pab" (Block
 *                                         Public Access, "1 " and four
 *                                         digits 0/1: BlockPublicAcls,
 *                                         IgnorePublicAcls,
 *                                         BlockPublicPolicy,
 *                                         RestrictPublicBuckets; absent:
 *                                         none), both in s3/auth/controls.h's
 *                                         stored form
 *   objects  bucket 0x00 okey          -> object record of the key's
 *                                         current version (may be a
 *                                         delete marker, which listings
 *                                         and reads skip)
 *   versions bucket 0x00 okey 0x00     -> object record of a noncurrent
 *            u64 (UINT64_MAX - version)   version (or delete marker) of
 *            (big-endian)                 the key, so a cursor walks a
 *                                         key's older versions newest
 *                                         first; a key has entries here
 *                                         only while it has a current one
 *   refs     sha256 (32 bytes)         -> ref record
 *   gcq      sha256 (32 bytes)         -> gcq record
 *   uploads  upload id (32 hex)        -> upload record; an id starts
 *                                         with the upload's initiation
 *                                         time (48 bits of unix ms), so
 *                                         this is initiation order too,
 *                                         which upload expiry walks from
 *                                         the start up to the first upload
 *                                         too young to expire
 *   upkeys   bucket 0x00 okey 0x00     -> empty: one per upload, so that
 *            upload id (16 raw bytes)     ListMultipartUploads is a cursor
 *                                         range over one bucket's uploads
 *                                         in S3's order (key, then
 *                                         initiation); okey as in
 *                                         "objects" (long keys sorted
 *                                         after reading, as listings do);
 *                                         the id raw so that a long key's
 *                                         entry fits 511 bytes
 *   outbox   u64 sequence (big-endian) -> outbox record: a change waiting
 *                                         to reach a replication destination
 *   outkey   bucket 0x00 dest 0x00 key -> u64 sequence of the key's entry
 *                                         for that destination
 *   outdue   u64 next try (unix ms) |  -> empty: one per outbox entry that
 *            u64 sequence (both           has not failed, so that the
 *            big-endian)                  pusher walks only what is due
 *                                         (a cursor from the start up to
 *                                         the first entry not due yet)
 *   parts    upload id | u16 part no.  -> object record of the part (size,
 *            (big-endian, so a cursor    MD5, checksum, chunk list)
 *            walks parts in order)
 *
 * ==== Record formats ====
 *
 * Integers are little-endian. Every record but the object record is
 *
 *   u8 record format (1) | field ... | u8 0
 *
 * and a field, there and in the object record, is
 *
 *   u8 tag (1..255) | u32 length | length bytes
 *
 * A reader skips fields whose tag it does not know, so a field can be added
 * without a new record format. A record format it does not know, a field
 * that runs past the end of the value, a missing end byte, a required field
 * that is absent or an integer field of the wrong length make the record
 * corrupt (GW_ECORRUPT). Bytes after the end byte are ignored.
 *
 *   meta      1 u32 store format                                  (required)
 *   counter   1 u64 value                                         (required)
 *   bucket    1 owner: the user name, whole (up to
 *               GW_CONF_USER_NAME_MAX bytes)  2 region (up to
 *               GW_CONF_REGION_MAX)  3 i64 creation time, ms      (required)
 *               4 u8 versioning (STORE_VERSIONING_*; absent: never)
 *   bconf     1 the document, opaque bytes                        (required)
 *   ref       1 u64 reference count  2 u32 chunk length           (required)
 *   gcq       1 u64 number of the batch that zeroed the count     (required)
 *               2 u64 LMDB id of the write transaction that zeroed it
 *               (absent: 0, collected without waiting for readers)
 *   outbox    1 bucket  2 destination bucket  3 key  4 u8 change (1 put,
 *               2 delete)  (required)  5 u32 attempts  6 i64 next try, unix
 *               ms  7 u8 failed  8 the last error  9 i64 queued at
 *               10 u64 the version to send (absent: the key as it is)
 *   upload    1 bucket name  2 object record template: key, owner, metadata,
 *               checksum algorithm and type; mtime_ms = initiation time
 *                                                                 (required)
 *   lifecycle cursor  1 i64 start of the pass under way, unix ms (0:
 *               none)  2 i64 start of the last finished pass  3 u8 phase
 *               (STORE_LC_*)  (required)  4 bucket being walked  5 the last
 *               key done in it  6 the last upload id done
 *
 * The object record (record format 1) has a fixed head before its fields:
 *
 *   u8 1 | u8 storage_class | u8 cksum_alg | u8 cksum_type | u32 nparts |
 *   u64 size | i64 mtime_ms | md5[16] | cksum[32] | field ... | u8 0
 *
 *   1 key  2 owner  3 content-type  4 content-encoding  5 content-disposition
 *   6 content-language  7 cache-control  8 expires
 *   9 one user metadata pair "name\0value"  10 inline bytes
 *   11 chunk list: n * (sha256[32] | u64 offset | u32 length)
 *   12 one object tag "key\0value"  13 part sizes of a multipart object:
 *   n * u64  14 the object's ACL (s3/acl.h's stored form; absent: private)
 *   15 u64 generation: always the first field, at byte 72, so that a commit
 *   can set it in an encoded record (absent in format-1 records: 0)
 *   16 u8 replication status (STORE_REPL_STATUS_*; absent: none)
 *   17 x-amz-website-redirect-location: where the website endpoint
 *   redirects a request for the object (absent: nowhere)
 *   18 the id of the multipart upload whose completion wrote this record
 *   (STORE_UPLOAD_ID_LEN bytes; absent: not a completed upload), so that a
 *   retried CompleteMultipartUpload, whose upload is gone, can still be
 *   answered while the key holds its result
 *   19 the parts' checksums of a multipart object, in the object's
 *   algorithm: n * its raw length, in part order (absent: the parts had
 *   none, or not all in that algorithm)
 *   20 u8 version flags (STORE_VF_*; absent: 0, the null version of a key
 *   written while its bucket was not versioned)  21 i64 unix ms when the
 *   version became noncurrent (absent: current)  22 u64 version: the
 *   generation of the write that made this version, which in-place
 *   rewrites keep (absent: the generation)
 *   Fields 18 and 19 stay with a record when it becomes noncurrent (it
 *   moves to "versions" as it is, with only 20 to 22 patched).
 *
 * ==== Versions ====
 *
 * A bucket's versioning state is in its record. While it is NONE, a write
 * replaces the key's record as it always did. Once Enabled, a write
 * (PutObject, CompleteMultipartUpload, a copy, a DeleteObject, which
 * writes a delete marker) moves the current record into "versions",
 * stamped with the time, and the new one, flagged STORE_VF_VERSIONED,
 * becomes current; Suspended writes make the null version, replacing the
 * null version wherever it is (current or noncurrent) and moving a
 * versioned current record into "versions". A version's id is its
 * version number (s3/ encodes it); "null" is the one without
 * STORE_VF_VERSIONED. Deleting one version drops its chunk references; the
 * current one's place goes to the newest noncurrent version. A chunk stays
 * referenced while any version, current or not, holds it.
 *
 * An object's generation is the number of the write that made its record:
 * every commit of a key (PutObject, CompleteMultipartUpload, a copy, a
 * rewrite of its metadata, tags or ACL) takes the next number of one counter
 * of the store (meta "generation", saved with the batch), so generations
 * grow with every write and are never given twice, even to a key deleted
 * and written again. A writer can make its commit conditional on the
 * generation it read (store_cond_t).
 *
 * A part holds references to its chunks like an object does. Completing an
 * upload, in one transaction, writes the object record from the chosen
 * parts' chunk lists (no bytes move), then drops every part record: the
 * chosen chunks keep the object's references, the others reach zero.
 * okey is the object key itself when it is at most STORE_KEY_DIRECT bytes
 * long. LMDB keys stop at 511 bytes while S3 keys go to 1024, so a longer key
 * is stored as its first STORE_KEY_DIRECT bytes, a 0xFF byte (never part of
 * UTF-8) and 16 bytes of the SHA-256 of the whole key; the record carries the
 * full key. Byte order still sorts every key correctly against every other,
 * except long keys that share their first STORE_KEY_DIRECT bytes: the listing
 * iterator reads such a group whole and sorts it by full key (store_iter_*).
 *
 * ==== Durability ====
 *
 * Every index change is an op queued to the commit batcher: ops gathered while
 * one batch commits run together in the next, each in a nested transaction,
 * on a libuv thread-pool thread; the batch commit syncs there (fsync on), and
 * each op's callback runs on the loop only after that. Chunk files are
 * fdatasync'ed, renamed into place and their directory fsync'ed before the
 * object record that refers to them is queued. A chunk whose refcount drops
 * to zero goes to gcq; the collector unlinks it later, outside any write
 * transaction, unless it was referred to again or is pinned by a reader or
 * writer of any worker, and a later batch drops the entry once the file is
 * gone (index.c: the argument, and why a crash leaves no file behind that
 * nothing collects). Chunk files
 * nothing refers to (a crash between a chunk's rename and its record's
 * commit) are found by a sweep of chunks/XX that runs in the background
 * after every start, a slice per collector tick (sweep.c).
 *
 * ==== Room ====
 *
 * The LMDB map starts small and grows (doubling, between batches; a batch
 * that ran out is rolled back and runs again) up to index_max_size, whose
 * last sixteenth only deletes may use. At the end, the ops that do not fit
 * fail with MDB_MAP_FULL. When the disk is full, writes that add fail with
 * UV_ENOSPC and no record of them stays (chunk files they had written go to
 * the collector, or, if even that cannot commit, to the sweep after the
 * next start), deletes still commit (on the reserve if need be), and writes are
 * accepted again once the collector finds room. Details in txn.c. */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <uv.h>

#include "core/conf.h"
#include "core/gw.h"
#include "core/hashpipe.h"
#include "core/pool.h"

#define STORE_KEY_MAX      1024
#define STORE_KEY_DIRECT   400
#define STORE_BUCKET_MAX   63
#define STORE_OWNER_MAX    GW_CONF_USER_NAME_MAX
#define STORE_REGION_MAX   GW_CONF_REGION_MAX

/* The index format this build reads and writes (see above). */
#define STORE_FORMAT       4

typedef struct store_s               store_t;
typedef struct store_chunk_writer_s  store_chunk_writer_t;
typedef struct store_iter_s          store_iter_t;

typedef void (*store_done_pt)(void *ud, int rc);

/* Big enough for anything the config accepts, so a name or region is never
 * cut short: the owner is compared with user names. */
typedef struct store_bucket_s {
    char      name[STORE_BUCKET_MAX + 1];
    char      owner[STORE_OWNER_MAX + 1];    /* user name from the config */
    char      region[STORE_REGION_MAX + 1];  /* the region at creation */
    int64_t   ctime_ms;
    uint8_t   versioning;                    /* STORE_VERSIONING_* */
} store_bucket_t;

/* A bucket's versioning state (bucket record field 4; absent: never
 * versioned). Once versioned, a bucket never goes back to NONE. */
#define STORE_VERSIONING_NONE       0
#define STORE_VERSIONING_ENABLED    1
#define STORE_VERSIONING_SUSPENDED  2

typedef struct store_chunk_ref_s {
    unsigned char  sha[32];
    uint64_t       off;           /* offset of the chunk within the object */
    uint32_t       len;
} store_chunk_ref_t;

#define STORE_CLASS_STANDARD            0
#define STORE_CLASS_REDUCED_REDUNDANCY  1

/* An object record. Decoded records own one allocation (raw) that every
 * string view points into; free them with store_object_free. Records built
 * by s3/ for a put borrow their strings until store_object_put returns. */
typedef struct store_object_s {
    gw_str_t            key;
    uint64_t            size;
    int64_t             mtime_ms;
    unsigned char       md5[16];       /* ETag digest */
    uint32_t            nparts;        /* >0: multipart ETag "<md5>-<nparts>" */
    uint8_t             storage_class;
    uint8_t             cksum_alg;     /* gw_cksum_alg_t */
    uint8_t             cksum_type;    /* 0 FULL_OBJECT, 1 COMPOSITE */
    unsigned char       cksum[32];
    gw_str_t            owner;
    gw_str_t            content_type;
    gw_str_t            content_encoding;
    gw_str_t            content_disposition;
    gw_str_t            content_language;
    gw_str_t            cache_control;
    gw_str_t            expires;
    gw_kv_t            *meta;          /* user metadata, names without x-amz-meta- */
    size_t              nmeta;
    gw_kv_t            *tags;          /* object tags (tagging.c) */
    size_t              ntags;
    gw_str_t            acl;           /* s3/acl.h's stored form; empty:
                                        * private to owner */
    uint64_t           *part_sizes;    /* multipart: each part's size, in order */
    size_t              npart_sizes;
    gw_str_t            inline_data;   /* set when there are no chunks */
    store_chunk_ref_t  *chunks;
    size_t              nchunks;
    uint8_t             repl_status;   /* STORE_REPL_STATUS_*: where the
                                        * replication of this version
                                        * stands (x-amz-replication-status) */
    gw_str_t            website_redirect;  /* x-amz-website-redirect-location
                                        * (record field 17); empty: none */
    gw_str_t            upload_id;     /* the upload this record completed
                                        * (record field 18); empty: none */
    gw_str_t            part_cksums;   /* multipart: each part's raw
                                        * checksum in cksum_alg, in order
                                        * (field 19); empty: none */
    const struct store_repl_s *repl;   /* write only: the replication
                                        * destinations this write must
                                        * reach (see "replication outbox"),
                                        * or NULL */
    uint64_t            generation;    /* read: the write that made this
                                        * record (see above), 0 for one from
                                        * before generations; ignored when
                                        * writing: the commit sets it */
    /* Versions (see "versions" above). */
    uint8_t             vflags;        /* STORE_VF_*; a writer sets only
                                        * STORE_VF_MARKER (a delete marker),
                                        * the commit sets the rest */
    uint64_t            version;       /* read: the generation of the write
                                        * that made this version, kept by
                                        * in-place rewrites (its version id
                                        * when STORE_VF_VERSIONED) */
    int64_t             noncurrent_ms; /* read: when a noncurrent version
                                        * stopped being current (unix ms),
                                        * 0 for the current one */
    struct store_vresult_s *vout;      /* write only: NULL, or where the
                                        * commit reports the version it made
                                        * (valid until done runs) */
    void               *raw;
} store_object_t;

#define STORE_VF_MARKER     1      /* a delete marker: no bytes */
#define STORE_VF_VERSIONED  2      /* written while versioning was Enabled:
                                    * its version id is its version; absent:
                                    * the null version */

/* The version a request addresses: the null version, or the one made by
 * write number v (a decoded version id). */
#define STORE_VERSION_NULL  0

/* What a versioned write or delete did. */
typedef struct store_vresult_s {
    uint64_t   version;            /* the version made, or deleted */
    unsigned   versioned:1;        /* it has an id (else it is "null") */
    unsigned   marker:1;           /* it is (was) a delete marker */
    unsigned   found:1;            /* a delete of a version: it existed */
} store_vresult_t;

/* Write preconditions checked inside the commit (atomically), against the
 * key's current version; a current delete marker counts as no record (as
 * in S3) but for has_generation. A put or a delete whose If-Match (ETag or
 * any) finds no record fails GW_ENOTFOUND; a record that fails an ETag,
 * size or time condition, GW_EPRECOND. */
#define STORE_NPARTS_NEVER  UINT32_MAX   /* if_match_nparts of an ETag that
                                          * matches no record (one that does
                                          * not parse) */
typedef struct store_cond_s {
    unsigned       if_none_match_star:1;
    unsigned       has_if_match:1;       /* the record's ETag must be
                                          * if_match_md5/nparts */
    unsigned       if_match_any:1;       /* If-Match: *: a record must exist */
    /* Deletes only (x-amz-if-match-size, -last-modified-time): a record
     * that exists must have this size, this mtime (whole seconds); a
     * missing one is deleted already. */
    unsigned       has_if_match_size:1;
    unsigned       has_if_match_mtime:1;
    uint64_t       if_match_size;
    int64_t        if_match_mtime;       /* unix seconds */
    /* Commit only if the key's current record has this generation (read
     * it with store_object_get): otherwise GW_ECONFLICT, also when the key
     * is gone. For read-modify-write updates: on GW_ECONFLICT read again,
     * apply the change again, and retry. */
    unsigned       has_generation:1;
    /* With has_generation: replace the record of that generation where it
     * is, current or noncurrent, keeping its version (tags, ACL and status
     * rewrites), instead of making a new version. */
    unsigned       in_place:1;
    unsigned char  if_match_md5[16];
    uint32_t       if_match_nparts;
    uint64_t       generation;
} store_cond_t;

/* The destination buckets a change must reach (the replication rules it
 * matched). The commit queues one outbox entry per destination in the
 * same transaction. dests are borrowed for the call. */
typedef struct store_repl_s {
    const char  *const *dests;
    size_t               ndests;
} store_repl_t;

/* x-amz-replication-status of an object (record field 16; absent: none). */
#define STORE_REPL_STATUS_NONE       0
#define STORE_REPL_STATUS_PENDING    1
#define STORE_REPL_STATUS_COMPLETED  2
#define STORE_REPL_STATUS_FAILED     3
#define STORE_REPL_STATUS_REPLICA    4    /* written by replication */

#define STORE_REPL_PUT     1     /* the object as it is now must be sent */
#define STORE_REPL_DELETE  2     /* the object was deleted */
#define STORE_REPL_BACKFILL 3    /* ExistingObjectReplication: the objects of
                                  * the bucket after key (dest "") are to be
                                  * queued, a batch at a time */

/* One change waiting to reach a destination (store/outbox.c). */
typedef struct store_outbox_entry_s {
    uint64_t   seq;                          /* its place in the queue */
    char       bucket[STORE_BUCKET_MAX + 1];
    char       dest[STORE_BUCKET_MAX + 1];
    gw_str_t   key;                          /* owned, see the functions */
    int        change;                       /* STORE_REPL_PUT / _DELETE */
    unsigned   has_version:1;                /* send that version (a put) */
    uint64_t   version;
    uint32_t   attempts;
    int64_t    next_try_ms;                  /* unix ms */
    int64_t    queued_ms;
    int        failed;                       /* given up: a permanent error */
    char       error[256];                   /* the last failure */
} store_outbox_entry_t;

/* Opens (creating when needed) the store under cf->data_dir, checks or
 * upgrades its format (see above; GW_EFORMAT for a newer one), cleans tmp/
 * and starts the collector timer, whose ticks also sweep chunks/XX for
 * orphan chunk files in the background (sweep.c): start-up does nothing
 * per object or per chunk file. For
 * the server only: a second process uses store_open_tool (below). */
int store_open(store_t **out, uv_loop_t *loop, const gw_conf_t *cf);

/* Several worker processes on one data_dir (core/master.c). The master
 * makes the shared region before it forks (it holds every worker's pins
 * and read marks: store/pin.c), and empties a dead worker's part of it
 * before it starts the next one in its place. */
typedef struct store_shared_s store_shared_t;
store_shared_t *store_shared_create(size_t nworkers);
void store_shared_clear(store_shared_t *sh, size_t worker);
void store_shared_free(store_shared_t *sh);
size_t store_shared_nworkers(const store_shared_t *sh);

typedef struct {
    store_shared_t  *shared;    /* NULL: a single process */
    size_t           worker;    /* this one's index in shared */
    int              sweep;     /* clean tmp/, queue orphan chunks: only
                                 * while no other process uses the store */
    int              collect;   /* run the collector and upload expiry
                                 * (one process of those sharing it) */
} store_open_opts_t;

/* store_open for one of several processes sharing the store. */
int store_open_opts(store_t **out, uv_loop_t *loop, const gw_conf_t *cf,
                    const store_open_opts_t *o);

/* The master's start-up, before any worker: opens the store as
 * store_open does (format check or upgrade, the sweep), then closes it,
 * synchronously, without a loop or threads, so that nothing of LMDB is
 * open across fork(). */
int store_prepare(const gw_conf_t *cf);

/* Waits for queued ops to commit, then closes. cb runs when done. */
void store_close(store_t *st, void (*cb)(store_t *st));

/* ==== read scope: one snapshot for the synchronous reads of a request ==== */

/* Until the matching store_read_end, every synchronous point read of st
 * made on this thread (store_bucket_get, store_bconf_get,
 * store_object_get, store_version_get, store_upload_get) runs in one LMDB
 * read transaction, opened here: one snapshot, one reader-table entry,
 * instead of a transaction per read (a GET made seven). Scopes nest; only
 * the outermost end closes. Call both in the same loop turn: a scope left
 * open across turns would keep LMDB from reusing the pages freed since
 * (the index grows) and holds off growing the map. Writes are not seen by
 * a scope opened before they committed. GW_OK or an LMDB error (then the
 * reads open transactions of their own, as without a scope; still call
 * store_read_end). */
int store_read_begin(store_t *st);
void store_read_end(store_t *st);

/* ==== buckets (reads are synchronous, writes go through the batcher) ==== */

/* GW_OK, GW_ENOTFOUND. */
int store_bucket_get(store_t *st, const char *name, store_bucket_t *out);

/* Calls cb for every bucket in name order; cb returning non-zero stops. */
int store_bucket_list(store_t *st,
                      int (*cb)(void *ud, const store_bucket_t *b), void *ud);

/* done gets GW_OK or GW_EEXIST. b and acl (its "acl" configuration, or
 * acl.len == 0 for none) are copied before return. */
void store_bucket_create(store_t *st, const store_bucket_t *b, gw_str_t acl,
                         store_done_pt done, void *ud);

/* One configuration document of a bucket being created. */
typedef struct store_bconf_doc_s {
    const char  *kind;           /* STORE_BCONF_* */
    gw_str_t     doc;            /* len 0: none */
} store_bconf_doc_t;

/* store_bucket_create with any documents (copied before return), which
 * commit with the bucket or not at all. */
void store_bucket_create_docs(store_t *st, const store_bucket_t *b,
                              const store_bconf_doc_t *docs, size_t ndocs,
                              store_done_pt done, void *ud);

/* ==== bucket configuration documents (bconf) ==== */

#define STORE_BCONF_ACL     "acl"
#define STORE_BCONF_POLICY  "policy"
#define STORE_BCONF_REPLICATION  "replication"   /* s3/replication.h's
                                                 * stored form */
#define STORE_BCONF_CORS    "cors"      /* the CORSConfiguration XML
                                         * document as put (s3/cors.h) */
#define STORE_BCONF_WEBSITE  "website"   /* s3/website.h's stored form */
#define STORE_BCONF_LIFECYCLE  "lifecycle"   /* s3/lifecycle.h's stored
                                             * form */
#define STORE_BCONF_TAGGING  "tagging"   /* the bucket's Tagging XML document,
                                          * its tags sorted by key (written
                                          * by s3/ops/tagging.c) */
#define STORE_BCONF_OWNERSHIP  "ownership"   /* s3/auth/controls.h's stored
                                             * Object Ownership */
#define STORE_BCONF_PAB     "pab"       /* s3/auth/controls.h's stored Block
                                         * Public Access flags */
#define STORE_BCONF_KIND_MAX  16

/* The document kind of bucket, copied into pool (NUL-terminated): GW_OK or
 * GW_ENOTFOUND. */
int store_bconf_get(store_t *st, const char *bucket, const char *kind,
                    gw_pool_t *pool, gw_str_t *out);

/* Sets the document kind of bucket to val (copied before return), or
 * removes it when val.base is NULL. done gets GW_OK or GW_ENOBUCKET.
 * Deleting the bucket removes all its documents. */
void store_bconf_put(store_t *st, const char *bucket, const char *kind,
                     gw_str_t val, store_done_pt done, void *ud);

/* Sets the versioning state of bucket (STORE_VERSIONING_ENABLED or
 * _SUSPENDED). done gets GW_OK or GW_ENOBUCKET. */
void store_bucket_versioning(store_t *st, const char *bucket, int state,
                             store_done_pt done, void *ud);
/* The first bucket after the bucket named after ("" for the first of all)
 * that has a document kind, into out: GW_OK or GW_ENOTFOUND. One short
 * read txn; for walks over the buckets of one kind of document (the
 * lifecycle worker). */
int store_bconf_next(store_t *st, const char *kind, const char *after,
                     char out[STORE_BUCKET_MAX + 1]);

/* done gets GW_OK, GW_ENOTFOUND or GW_ENOTEMPTY. */
void store_bucket_delete(store_t *st, const char *name, store_done_pt done,
                         void *ud);

/* ==== objects ==== */

/* Looks one object up: its current version. *out is the caller's
 * (store_object_free). Returns GW_OK or GW_ENOTFOUND (also when the
 * current version is a delete marker). */
int store_object_get(store_t *st, const char *bucket, gw_str_t key,
                     store_object_t **out);
void store_object_free(store_object_t *o);

/* Commits obj under bucket (copied before return) as the key's new current
 * version, with the next generation: the previous current version is kept
 * as noncurrent or dropped as the bucket's versioning state says (see
 * "versions" above), and chunk references move accordingly; obj->vout, if
 * set, gets the version made. cond->in_place rewrites the version of
 * cond->generation where it is instead (tags, ACL, status). done gets
 * GW_OK, GW_ENOBUCKET, GW_ECONFLICT (cond->has_generation and the record is
 * not that generation, or gone), GW_EPRECOND (another condition failed),
 * GW_ENOTFOUND (If-Match on a missing key) or an I/O error. cond may be
 * NULL. */
void store_object_put(store_t *st, const char *bucket,
                      const store_object_t *obj, const store_cond_t *cond,
                      store_done_pt done, void *ud);

/* Deletes a key (GW_OK also when it did not exist); in a versioned
 * bucket, writes a delete marker instead (store_object_remove). */
void store_object_delete(store_t *st, const char *bucket, gw_str_t key,
                         store_done_pt done, void *ud);
/* store_object_delete, queuing the deletion for repl's destinations in the
 * same transaction when the key existed (repl may be NULL). */
void store_object_delete_repl(store_t *st, const char *bucket, gw_str_t key,
                              const store_repl_t *repl, store_done_pt done,
                              void *ud);
/* store_object_delete_repl, but only while the key's record is the one
 * cond->has_generation names (cond may be NULL: unconditional): otherwise
 * done gets GW_ECONFLICT, also when the key is gone. So a writer that
 * decided on a record it read (the lifecycle worker) never deletes a
 * newer one written meanwhile. cond's If-Match (ETag or any), size and
 * mtime conditions are checked in the same commit against the current
 * version (GW_EPRECOND, or GW_ENOTFOUND for If-Match on a missing key or
 * a delete marker); if_none_match_star and in_place are not used. In a
 * versioned bucket the delete writes a delete marker, as S3's Expiration
 * does there. */
void store_object_delete_cond(store_t *st, const char *bucket, gw_str_t key,
                              const store_cond_t *cond,
                              const store_repl_t *repl, store_done_pt done,
                              void *ud);

/* ==== versions (version.c) ==== */

/* Looks up version (STORE_VERSION_NULL or a version number) of key, or
 * the current version, delete marker or not, when current is set. *out
 * is the caller's (store_object_free); *is_current (may be NULL) tells
 * whether it is the key's current version. GW_OK or GW_ENOTFOUND. */
int store_version_get(store_t *st, const char *bucket, gw_str_t key,
                      int current, uint64_t version, store_object_t **out,
                      int *is_current);

/* Deletes key. has_version 0: as DeleteObject without a version id (in a
 * versioned bucket a delete marker is written, owned by owner (a user
 * name, or NULL), and queued for repl's destinations; otherwise the
 * record goes). has_version 1: deletes that
 * one version for good (its chunk references dropped; when it is the
 * current one, the newest noncurrent version becomes current); never
 * replicated, as in S3. cond may be NULL (if_none_match_star and in_place
 * are not used). has_version 0: its conditions are checked against the
 * current version as store_object_delete_cond says. has_version 1: against
 * that version, when it exists: has_generation (GW_ECONFLICT when it is
 * not of that generation), If-Match, size and mtime (GW_EPRECOND). res
 * (may be NULL; valid until done) gets what was done. done gets GW_OK
 * (also when there was nothing to delete: res->found 0), GW_ENOBUCKET,
 * GW_ECONFLICT, GW_EPRECOND, GW_ENOTFOUND (If-Match on a missing key) or
 * an I/O error. */
void store_object_remove(store_t *st, const char *bucket, gw_str_t key,
                         int has_version, uint64_t version,
                         const store_cond_t *cond, const store_repl_t *repl,
                         const char *owner, store_vresult_t *res,
                         store_done_pt done, void *ud);

/* Calls cb for each noncurrent version of key (their records, without
 * chunk lists: generation, version, vflags, noncurrent_ms...), newest
 * first, or oldest first when oldest_first is set; cb returning non-zero
 * stops. One read txn (cb must not wait). GW_OK or an error. Lifecycle's
 * NoncurrentVersionExpiration walks this, then deletes each expired one
 * with store_object_remove(has_version 1, version: v->vflags &
 * STORE_VF_VERSIONED ? v->version : STORE_VERSION_NULL, cond: has_generation
 * on v->generation), which leaves a version rewritten meanwhile alone
 * (GW_ECONFLICT). ExpiredObjectDeleteMarker: a current marker
 * (store_version_get with current) with no noncurrent version, removed
 * the same way. */
int store_version_list(store_t *st, const char *bucket, gw_str_t key,
                       int oldest_first,
                       int (*cb)(void *ud, const store_object_t *v), void *ud);

/* Listing every version: keys in order, each key's versions newest first
 * (the current one first), delete markers included; one read txn. */
typedef struct store_viter_s  store_viter_t;

store_viter_t *store_viter_open(store_t *st, const char *bucket);
/* Positions at the first version of the first key >= key (> key when
 * after is set); with has_version, at the version after that version of
 * key (or at the next key when key has no such version). */
int store_viter_seek(store_viter_t *vt, gw_str_t key, int after,
                     int has_version, uint64_t version);
/* The next version, without its chunk list; *latest is 1 for a key's
 * current version. *out is valid until the next call or close. GW_OK or
 * GW_ENOTFOUND at the end. */
int store_viter_next(store_viter_t *vt, const store_object_t **out,
                     int *latest);
void store_viter_close(store_viter_t *vt);

/* ==== multipart uploads (multipart.c) ==== */

#define STORE_UPLOAD_ID_LEN  32
#define STORE_PART_MAX       10000

typedef struct store_upload_s {
    char             id[STORE_UPLOAD_ID_LEN + 1];
    char             bucket[STORE_BUCKET_MAX + 1];
    store_object_t  *tmpl;       /* key, owner, metadata; mtime = initiated */
} store_upload_t;

/* Starts an upload of tmpl->key in bucket: id gets a new unguessable id
 * (before return); done gets GW_OK or GW_ENOBUCKET. */
void store_upload_create(store_t *st, const char *bucket,
                         const store_object_t *tmpl, char *id,
                         store_done_pt done, void *ud);

/* GW_OK (*out is the caller's: store_upload_free) or GW_ENOTFOUND. */
int store_upload_get(store_t *st, const char *id, store_upload_t **out);
void store_upload_free(store_upload_t *u);

/* Calls cb for the uploads of bucket whose key is from or after it, in
 * S3's order (by key, then initiation), from a cursor over "upkeys": the
 * other buckets' uploads and the keys before from cost nothing. cb
 * returning non-zero stops; u is valid during the call only, which runs
 * inside the walk's read txn (cb must not call the store). GW_OK or an
 * error. */
int store_upload_list(store_t *st, const char *bucket, gw_str_t from,
                      int (*cb)(void *ud, const store_upload_t *u), void *ud);

/* Calls cb for the uploads of every bucket whose id is greater than after
 * ("" for all), in id order; cb returning non-zero stops. u is valid during
 * the call only, which runs inside the walk's read txn: cb must not call
 * the store. GW_OK or an error. */
int store_upload_scan(store_t *st, const char *after,
                      int (*cb)(void *ud, const store_upload_t *u), void *ud);

/* Stores (or replaces) part number partno of upload id. done gets GW_OK or
 * GW_ENOTFOUND (no such upload). part is copied before return. */
void store_part_put(store_t *st, const char *id, uint32_t partno,
                    const store_object_t *part, store_done_pt done, void *ud);

/* Calls cb for the parts of upload id numbered above after, in order, with
 * the part record (no chunk list); non-zero stops. */
int store_part_list(store_t *st, const char *id, uint32_t after,
                    int (*cb)(void *ud, uint32_t partno,
                              const store_object_t *part), void *ud);

/* What CompleteMultipartUpload asks for, and what it found. Owned by the
 * caller until done runs. */
#define STORE_COMPLETE_NO_UPLOAD  1
#define STORE_COMPLETE_BAD_PART   2
#define STORE_COMPLETE_TOO_SMALL  3
#define STORE_COMPLETE_BAD_CKSUM  4   /* a part's algorithm is not the upload's */
#define STORE_COMPLETE_WRONG_CKSUM 5  /* the object's is not the one given */

typedef struct store_complete_s {
    size_t           n;            /* parts listed, ascending numbers */
    uint32_t        *numbers;
    unsigned char  (*md5)[16];     /* each listed part's ETag */
    uint8_t         *part_ck_alg;  /* checksums given for the parts, or NONE */
    unsigned char  (*part_ck)[32];
    uint64_t         min_part;     /* every part but the last at least this */
    uint8_t          want_alg;     /* the object's checksum, when given */
    unsigned char    want[32];
    store_cond_t     cond;
    store_repl_t     repl;         /* replication destinations (borrowed
                                    * until done), or none */
    /* Results (set by the commit). */
    int              reason;       /* STORE_COMPLETE_* when done gets GW_EINVAL */
    uint32_t         bad_part;
    store_object_t   result;       /* size, md5, nparts, checksum and
                                    * generation of the object */
    store_vresult_t  vres;         /* the version it made */
} store_complete_t;

/* Assembles the object from the listed parts in one commit and drops the
 * upload. done gets GW_OK, GW_EINVAL (see c->reason), GW_ECONFLICT,
 * GW_EPRECOND, GW_ENOTFOUND (If-Match on a missing key) or an I/O error
 * (c->cond as store_object_put's cond). */
void store_upload_complete(store_t *st, const char *id, store_complete_t *c,
                           store_done_pt done, void *ud);

/* Drops an upload and its parts; done gets GW_OK or GW_ENOTFOUND. */
void store_upload_abort(store_t *st, const char *id, store_done_pt done,
                        void *ud);

/* ==== the lifecycle worker's cursor (meta "lifecycle") ==== */

/* Where the lifecycle worker (s3/bg/lifecycle.c) is in its pass over the
 * buckets, kept so that a restart goes on from there. */
#define STORE_LC_OBJECTS  0      /* walking the objects of the buckets */
#define STORE_LC_UPLOADS  1      /* walking the multipart uploads */

typedef struct store_lc_cursor_s {
    int64_t   pass_ms;                        /* when the pass under way
                                               * started (unix ms); 0: none */
    int64_t   last_ms;                        /* when the last finished pass
                                               * started; 0: none yet */
    int       phase;                          /* STORE_LC_* */
    char      bucket[STORE_BUCKET_MAX + 1];   /* objects: the bucket being
                                               * walked ("": none yet) */
    char      key[STORE_KEY_MAX];             /* ... the last key done */
    size_t    key_len;                        /* 0: none yet */
    char      upload[STORE_UPLOAD_ID_LEN + 1];  /* uploads: the last id
                                                 * done ("": none yet) */
} store_lc_cursor_t;

/* GW_OK, GW_ENOTFOUND (never saved) or GW_ECORRUPT. */
int store_lc_cursor_get(store_t *st, store_lc_cursor_t *out);
/* Saves c (copied before return) through the batcher. */
void store_lc_cursor_put(store_t *st, const store_lc_cursor_t *c,
                         store_done_pt done, void *ud);

/* ==== replication outbox (store/outbox.c) ==== */

/* Queues change of (bucket, key) for repl's destinations, as a write's
 * commit does, in a transaction of its own. */
void store_outbox_queue(store_t *st, const char *bucket, gw_str_t key,
                        const store_repl_t *repl, int change,
                        store_done_pt done, void *ud);

void store_outbox_entry_free(store_outbox_entry_t *e);
/* A place in the outbox by due time: the pusher's walk in one tick. */
typedef struct store_outbox_pos_s {
    int64_t    due_ms;                       /* { 0, 0 }: the start */
    uint64_t   seq;
} store_outbox_pos_t;
/* The first entry after *after in (next try, sequence) order that is due
 * at now_ms and has not failed, into out (out->key is a copy:
 * store_outbox_entry_free it; next place: out's next_try_ms and seq). A
 * cursor over "outdue": failed entries are not there and the walk ends at
 * the first entry not due, so its cost does not grow with what is waiting.
 * GW_OK or GW_ENOTFOUND. Read-only; safe on the loop (one read txn). */
int store_outbox_next_due(store_t *st, const store_outbox_pos_t *after,
                          int64_t now_ms, store_outbox_entry_t *out);
/* The entry was delivered: it leaves the queue (unless a later change of
 * the key replaced it meanwhile, which then stays). */
void store_outbox_done(store_t *st, const store_outbox_entry_t *e,
                       store_done_pt done, void *ud);
/* Stores e's attempts, next_try_ms, failed and error. */
void store_outbox_retry(store_t *st, const store_outbox_entry_t *e,
                        store_done_pt done, void *ud);
/* How many entries wait, and how many failed for good (an entry too
 * damaged to read counts as failed), from the sizes of "outbox" and
 * "outdue": it reads no entry. */
int store_outbox_count(store_t *st, uint64_t *pending, uint64_t *failed);

/* ==== figures for /metrics and /ready (store/stats.c) ==== */

/* What a scrape reports of the store; read in one read transaction. */
typedef struct store_stats_s {
    uint64_t  objects;          /* current keys (delete markers included) */
    uint64_t  versions;         /* noncurrent versions kept */
    uint64_t  chunks;           /* chunk files referred to */
    uint64_t  chunk_bytes;      /* their bytes, each counted once */
    uint64_t  referenced_bytes; /* chunk bytes times references: what the
                                 * objects and versions hold */
    int       bytes_exact;      /* 0: the scan of refs stopped at
                                 * STORE_STATS_SCAN_MAX; the two byte
                                 * figures cover that many chunks */
    uint64_t  gc_queue;         /* chunks waiting for the collector */
    uint64_t  uploads;          /* multipart uploads in progress */
    uint64_t  outbox_pending, outbox_failed;  /* replication queue */
    uint64_t  disk_free, disk_size;           /* of data_dir (statvfs) */
} store_stats_t;

/* The most refs entries one scrape reads for the byte figures. */
#define STORE_STATS_SCAN_MAX  1000000

/* Fills *out. Synchronous on the loop: entry counts are LMDB's page
 * statistics, the byte figures one cursor pass over refs (at most
 * STORE_STATS_SCAN_MAX entries). GW_OK or an error (out then partial). */
int store_stats(store_t *st, store_stats_t *out);

/* GW_OK when the store takes writes: open and not closing, data_dir
 * writable, no disk-full state, and more than the reserve free on the disk.
 * Otherwise GW_ERROR with the reason in why (cap bytes). In txn.c, beside
 * the reserve it checks. */
int store_ready(store_t *st, char *why, size_t cap);

/* ==== tools: the store from an admin command (store/outbox.c) ==== */

/* An admin command (`s3gw replication ...`) opens the store in a process
 * of its own, usually while the server runs on the same data_dir. LMDB is
 * made for that: readers and writers of several processes share the
 * environment through its lock file, and a write transaction waits for
 * the other process's writer. What store_open does besides opening the
 * index would disturb a running server, so a tool store does none of it:
 * it never sweeps tmp/ (the server's uploads in flight write there), never
 * queues chunk files for collection (a chunk renamed into place is not in
 * the index until its object commits), never writes the format marker,
 * upgrades nor creates anything, never makes the reserve file, never grows
 * the map and never starts the collector. It opens the LMDB environment
 * and the database handles of STORE_FORMAT, and that is all (but for
 * freeing the LMDB reader slots of dead processes, as mdb_reader_check
 * does: an earlier command killed inside a read txn). */
#define STORE_TOOL_READ   0    /* the environment is opened read-only */
#define STORE_TOOL_WRITE  1    /* ... read-write (store_outbox_retry_failed) */

/* Opens the index under cf->data_dir as above (cf is borrowed until
 * store_close_tool). Returns GW_OK with *out; GW_ENOTFOUND when data_dir
 * holds no index (nothing is created); GW_EFORMAT for an index this build
 * cannot read as it is (a newer store format, or format 1, which only
 * the server upgrades); or another error. On error err (errlen bytes) gets
 * a sentence naming the data_dir and what is wrong; nothing is logged. Only
 * the store_outbox_* readers, store_outbox_retry_failed and
 * store_bucket_get may be used on a tool store, without a loop. */
int store_open_tool(store_t **out, const gw_conf_t *cf, int flags,
                    char *err, size_t errlen);
void store_close_tool(store_t *st);

/* Calls cb for every entry of the outbox, pending and failed, in queue
 * order; only those whose source bucket is bucket, unless bucket is NULL.
 * e and its key are valid during the call only. cb returning non-zero
 * stops. The entries are read in batches, each in a short read txn that
 * has ended before cb runs, so a slow consumer (a pager) never holds back
 * a running server's reuse of index pages; a listing that runs while the
 * queue changes is therefore not one snapshot (an entry that a new change
 * of its key replaces meanwhile may show twice). GW_OK or an error. */
int store_outbox_list(store_t *st, const char *bucket,
                      int (*cb)(void *ud, const store_outbox_entry_t *e),
                      void *ud);

/* Makes every failed entry (of source bucket bucket, or all when NULL)
 * pending again, due at now_ms, keeping its attempts and its last error;
 * *n gets how many. Runs synchronously in write transactions of at most a
 * few thousand entries each (LMDB serializes them with a running server's
 * batches), for a store of store_open_tool(..., STORE_TOOL_WRITE, ...).
 * A running server's pusher sees the entries on its next tick. On an error,
 * the entries of the batches already committed (counted in *n) stay
 * pending. */
int store_outbox_retry_failed(store_t *st, const char *bucket,
                              int64_t now_ms, uint64_t *n);

/* ==== listing: keys of one bucket in order, under one read txn ==== */

store_iter_t *store_iter_open(store_t *st, const char *bucket);
/* Positions at the first key >= key (or > key when after is set). */
int store_iter_seek(store_iter_t *it, gw_str_t key, int after);
/* Next object in key order, without its chunk list. *out is valid until the
 * next call or close. GW_OK or GW_ENOTFOUND at the end. */
int store_iter_next(store_iter_t *it, const store_object_t **out);
void store_iter_close(store_iter_t *it);

/* ==== chunks ==== */

/* Path of a chunk file into buf (PATH_MAX). */
void store_chunk_path(store_t *st, const unsigned char sha[32], char *buf,
                      size_t cap);

/* Pins keep the collector (in whichever worker runs it) off chunks this
 * process is reading or writing. A reader pins the chunks of a record it
 * got from store_object_get or store_version_get in the same loop turn
 * (store/pin.c says why that is enough). */
void store_pin(store_t *st, const store_chunk_ref_t *c, size_t n);
void store_unpin(store_t *st, const store_chunk_ref_t *c, size_t n);

/* Number of chunk references and chunk files known to the index (tests,
 * benchmarks). */
size_t store_chunk_count(store_t *st);

/* The streaming chunk writer. Bytes are copied into the writer's buffers
 * (or kept as views of a digest pipe's shared segments) and hashed; full
 * segments go to the thread pool to be written to a temp
 * file, and every chunk_size bytes the temp file is made durable and renamed
 * to its content address. */
store_chunk_writer_t *store_chunk_writer_open(store_t *st,
                                              void (*on_ready)(void *ud),
                                              void *ud);

/* Never keep the bytes inline, however few (multipart parts must be chunk
 * files so that completion can reference them). Call before writing. */
void store_chunk_writer_no_inline(store_chunk_writer_t *w);

/* Takes len bytes (at is borrowed, copied before return). GW_OK, GW_AGAIN
 * (taken, but the writer is behind: stop feeding until on_ready runs) or the
 * error of an earlier failed write. */
int store_chunk_write(store_chunk_writer_t *w, const char *at, size_t len);

/* As store_chunk_write, for len bytes at inside seg (a digest pipe's
 * segment, core/hashpipe.h): the writer keeps a reference to seg until
 * they are on disk instead of copying them. seg NULL: at is borrowed and
 * copied. at NULL: seg gets no more bytes (its pipe paused), so a view of
 * it is written now rather than grown. */
int store_chunk_write_shared(store_chunk_writer_t *w, gw_hseg_t *seg,
                             const char *at, size_t len);

/* No more bytes: flushes the last chunk. Returns GW_OK when everything is
 * already durable (done is not called), GW_DONE when done(ud, rc) will run
 * later, or an error. */
int store_chunk_writer_finish(store_chunk_writer_t *w, store_done_pt done,
                              void *ud);

/* After finish: the chunk list (owned by the writer) or, for a small
 * object, the inline bytes. total is the byte count written. */
const store_chunk_ref_t *store_chunk_writer_chunks(store_chunk_writer_t *w,
                                                   size_t *n);
gw_str_t store_chunk_writer_inline(store_chunk_writer_t *w);
uint64_t store_chunk_writer_total(store_chunk_writer_t *w);

/* Makes a new chunk of bytes [start, start + len) of chunk src (UploadPart-
 * Copy's partial ends): read, hashed, written and made durable in the
 * thread pool like any chunk. *out gets its reference, pinned until the
 * caller's store_unpin (after its commit). done(ud, rc) runs on the loop;
 * out must stay valid until then. */
void store_chunk_slice(store_t *st, const unsigned char src[32],
                       uint32_t start, uint32_t len, store_chunk_ref_t *out,
                       store_done_pt done, void *ud);

/* The MD5 and the alg checksum (alg a gw_cksum_alg_t; ck: gw_cksum_len(alg)
 * bytes, or NULL with GW_CK_NONE) of bytes [from, from + len) of an object
 * whose chunk list is chunks (copied before return): its chunk files are
 * read on the thread pool, a buffer at a time (store/digest.c). The caller
 * keeps the
 * chunks pinned until done(ud, rc) runs on the loop; md5 and ck are
 * written just before, when rc is GW_OK, and must stay valid until then. */
void store_chunk_digest(store_t *st, const store_chunk_ref_t *chunks, size_t n,
                        uint64_t from, uint64_t len, int alg,
                        unsigned char md5[16], unsigned char *ck,
                        store_done_pt done, void *ud);

/* Done with the writer. If the object was committed pass committed=1;
 * otherwise the chunks it made are queued for collection unless something
 * else refers to them. Safe while writes are in flight: the writer frees
 * itself once they settle. */
void store_chunk_writer_close(store_chunk_writer_t *w, int committed);

#endif
