/*
 * idgraph.h — the public interface of idgraph, a local identity-graph
 * resolution engine.
 *
 * OVERVIEW
 *
 * An idgraph database is a directory holding an LMDB environment. It stores
 * one Mixpanel-like project: every distinct_id it has seen (a "node"), the
 * identity clusters those nodes form, and the identity log. Records arrive as
 * Mixpanel-shaped JSON lines ({"event": ..., "properties": {...}}) through
 * idg_ingest_buffer() or idg_ingest_stream(); identity events ($identify,
 * $create_alias, $merge) merge clusters according to the database's mode.
 *
 * Every ingested record gets a stamp: a monotone number of milliseconds,
 * max(previous stamp, clock(record)), where the clock is the record's own
 * time (IDG_CLOCK_EVENT, a replay of history) or the wall clock
 * (IDG_CLOCK_WALL). Merges carry the stamp of the record that caused them,
 * so every query can be asked "as of" a past stamp T:
 *
 *   - the live view at T applies every merge stamped <= T;
 *   - the reported view at T applies every merge stamped <= T - merge_delay
 *     (Mixpanel's reports see a merge only 60 minutes after it happened).
 *
 * Pass IDG_NOW as T for the database's current stamp.
 *
 * ERRORS
 *
 * Functions return int: 0 on success, a negative IDG_E* code on failure.
 * idg_strerror() gives the static text of a code; idg_errmsg() the detail of
 * the last failure on a handle (which id, which line, what to do next).
 *
 * MEMORY
 *
 * Strings passed in are borrowed for the duration of the call. Strings and
 * structs handed out (through out-parameters or to callbacks) are owned by
 * the library: out-parameters stay valid until the next call on the same
 * handle, callback arguments only until the callback returns. Copy what you
 * keep.
 *
 * THREADS AND PROCESSES
 *
 * An idg_db handle is not thread-safe: use it from one thread at a time
 * (it may move between threads). LMDB allows one writer and many readers
 * per database, across threads and processes:
 *
 *   - any number of handles, in any processes, may read (resolve, cluster,
 *     log, mappings) while one ingests; readers see the database as of the
 *     last committed batch, never a half-applied one;
 *   - a second ingest, or idg_configure(), waits until the running ingest's
 *     current batch commits — writers are serialized batch by batch;
 *   - open a given directory at most once per process (an LMDB rule): share
 *     one handle between threads with your own lock, or open one handle per
 *     process;
 *   - an ingest call reads and parses its input on a thread of its own
 *     (idg_ingest_opts.threads), and idg_ingest_file() may hash its file
 *     on another (whatever threads says); both end before the call
 *     returns; the handle and every callback stay on the calling thread.
 *
 * DURABILITY
 *
 * Ingest writes in batches of options.batch_size records, one LMDB write
 * transaction each. With IDG_DURABLE (the default) each batch is flushed to
 * disk when it commits: after a crash or kill -9 the database opens and
 * holds exactly the committed batches. IDG_NOSYNC skips the flush (faster;
 * a system crash may lose the last batches, but never leaves one half
 * applied).
 */
#ifndef IDGRAPH_H
#define IDGRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library exports what this header declares and nothing else: it is
 * built with hidden visibility, and these declarations are the exception. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/*
 * Until 1.0 a minor version may change the ABI (0.2 added
 * idg_ingest_opts.threads); the library's soname carries it
 * (libidgraph.so.0.2), so a program runs only with the library it was
 * built for.
 */
#define IDG_VERSION_MAJOR 0
#define IDG_VERSION_MINOR 6
#define IDG_VERSION_PATCH 0
#define IDG_VERSION_NUMBER                                                     \
	(IDG_VERSION_MAJOR * 10000 + IDG_VERSION_MINOR * 100 + IDG_VERSION_PATCH)
#define IDG_VERSION_STRING "0.6.0"

/* Returns IDG_VERSION_NUMBER of the library actually linked. */
int idg_version(void);
/* Returns IDG_VERSION_STRING of the library actually linked (static). */
const char *idg_version_string(void);

/*
 * Error codes. IDG_ERRNO_MAP(X) expands X(name, value, text) for each code;
 * the enum and idg_strerror() are both built from it.
 */
#define IDG_ERRNO_MAP(X)                                                       \
	X(EINVAL, -1, "invalid argument")                                      \
	X(ENOMEM, -2, "out of memory")                                         \
	X(EIO, -3, "input/output error")                                       \
	X(ENOTFOUND, -4, "not found")                                          \
	X(ENODB, -5, "no idgraph database at this path")                       \
	X(EMODE, -6, "the database's identity mode cannot change")             \
	X(ECORRUPT, -7, "database is corrupt")                                 \
	X(EFULL, -8, "database is full")                                       \
	X(EBUSY, -9, "database is busy")                                       \
	X(EUNSUPPORTED, -10, "not supported yet")                              \
	X(ESTOPPED, -11, "stopped by the callback")                            \
	X(EPARTIAL, -12, "the file was partly ingested before")                \
	X(EFORMAT, -13, "the database was made by another version of idgraph")

enum idg_error {
	IDG_OK = 0,
#define IDG__ERRENUM(name, value, text) IDG_##name = value,
	IDG_ERRNO_MAP(IDG__ERRENUM)
#undef IDG__ERRENUM
};

/* Static text for an error code; "unknown error" for codes not listed. */
const char *idg_strerror(int code);

/* Identity modes (SPEC §2): fixed once a database holds a record. */
enum idg_mode {
	IDG_MODE_ORIGINAL = 0,
	IDG_MODE_SIMPLIFIED = 1,
	IDG_MODE_LEGACY = 2,
};

/* Static name of a mode ("original", ...), or NULL if out of range. */
const char *idg_mode_name(int mode);

enum idg_durability {
	IDG_DURABLE = 0, /* fsync at each batch commit */
	IDG_NOSYNC = 1,  /* no fsync: faster, still never half a batch */
};

/* Flags for idg_options.flags. */
#define IDG_OPEN_CREATE 0x1u /* create the database if the path has none */
#define IDG_OPEN_RDONLY 0x2u /* read-only handle: ingest is refused */

#define IDG_OPTIONS_VERSION 1
#define IDG_DEFAULT_MERGE_DELAY_MS 3600000
#define IDG_DEFAULT_CLUSTER_CAP 500
/* Records per ingest transaction: a larger batch rewrites the pages that
 * random id, node and profile updates dirty fewer times (bench/RESULTS.md:
 * at 10M records, 100,000 spent 16 s of a 43 s ingest in commits, 400,000
 * 7 s of 26). */
#define IDG_DEFAULT_BATCH_SIZE 500000

/*
 * Options for idg_open(). mode, merge_delay_ms and cluster_cap are settings
 * of the database: they are used only when idg_open() creates it, and
 * changed later only through idg_configure(). batch_size, durability and
 * flags belong to the handle.
 */
struct idg_options {
	int version;            /* IDG_OPTIONS_VERSION */
	int mode;               /* enum idg_mode */
	int64_t merge_delay_ms; /* reported view delay, default 3600 s */
	uint32_t cluster_cap;   /* original mode: max nodes per cluster */
	uint32_t batch_size;    /* records per write transaction */
	int durability;         /* enum idg_durability */
	unsigned flags;         /* IDG_OPEN_* */
};

#define IDG_OPTIONS_INIT                                                       \
	{                                                                      \
		IDG_OPTIONS_VERSION, IDG_MODE_ORIGINAL,                        \
		    IDG_DEFAULT_MERGE_DELAY_MS, IDG_DEFAULT_CLUSTER_CAP,       \
		    IDG_DEFAULT_BATCH_SIZE, IDG_DURABLE, 0                     \
	}

typedef struct idg_db idg_db;

/*
 * Opens the database in directory dir. opts may be NULL for the defaults.
 * Without IDG_OPEN_CREATE a path that holds no database gives IDG_ENODB.
 * On success *out is a new handle, to be closed with idg_close(); on failure
 * *out is NULL, and idg_open_errmsg() says why.
 */
int idg_open(idg_db **out, const char *dir, const struct idg_options *opts);

/*
 * Detail of the calling thread's last failed idg_open(), e.g. "DIR/data.mdb
 * is cut short (...): restore it from a copy"; "" when there was none or
 * only the return code is known. Valid until the thread's next idg_open().
 */
const char *idg_open_errmsg(void);

/* Closes a handle. idg_close(NULL) does nothing. */
void idg_close(idg_db *db);

/*
 * Detail of the last failure on this handle, e.g. "line 12: distinct_id is
 * a forbidden value". Static "" when there was none. Valid until the next
 * call on the handle.
 */
const char *idg_errmsg(const idg_db *db);

/* The database's settings and counters. */
struct idg_info {
	int mode;
	int64_t merge_delay_ms;
	uint32_t cluster_cap;
	int64_t stamp;     /* current stamp; INT64_MIN before any record */
	uint64_t records;  /* records ingested (valid ones) */
	uint64_t nodes;    /* distinct_ids seen */
	uint64_t log_size; /* identity events in the log */
};

int idg_info(idg_db *db, struct idg_info *out);

/* The shape of the identity graph now (live view), for comparisons. */
struct idg_graph_stats {
	uint64_t distinct_ids;    /* nodes */
	uint64_t clusters;        /* clusters of two or more nodes */
	uint64_t largest_cluster; /* nodes in the largest cluster (1 if none
				     merged; 0 for an empty database) */
	uint64_t profiles_active;
	uint64_t profiles_hidden;
};

/* Walks every node and profile once: cost grows with the database. */
int idg_graph_stats(idg_db *db, struct idg_graph_stats *out);

/*
 * Changes the database's settings to those of opts (mode, merge_delay_ms,
 * cluster_cap). Changing the mode of a database that holds a record gives
 * IDG_EMODE, and idg_errmsg() names the mode in force.
 */
int idg_configure(idg_db *db, const struct idg_options *opts);

/* ------------------------------------------------------------------ */
/* Ingest                                                              */

/* Outcome of an identity event. */
enum idg_outcome {
	IDG_OUTCOME_MERGED = 0,
	IDG_OUTCOME_NOOP = 1,
	IDG_OUTCOME_REFUSED = 2,
};

/*
 * Reasons an identity event was refused, with Mixpanel's names.
 * IDG_REASON_NONE for merged and no-op outcomes.
 */
#define IDG_REASON_MAP(X)                                                      \
	X(NONE, "")                                                            \
	X(SAME_IDS, "errSameIDs")                                              \
	X(ANON_NON_GUID, "errAnonDistinctIdNonGUIDForm")                       \
	X(ANON_ASSIGNED, "errAnonDistinctIdAssignedAlready")                   \
	X(MANY_IDS, "errManyIDs")                                              \
	X(ALIAS_EXISTS, "errAliasAlreadyExists")                               \
	X(ALIAS_CYCLE, "errAliasCycle")                                        \
	X(MERGE_REQUIRES_IMPORT, "errMergeRequiresImport")

enum idg_reason {
#define IDG__REASONENUM(name, text) IDG_REASON_##name,
	IDG_REASON_MAP(IDG__REASONENUM)
#undef IDG__REASONENUM
	    IDG_REASON_COUNT
};

/* Mixpanel's name of a reason ("errSameIDs", ...); "" for NONE. Static. */
const char *idg_reason_name(int reason);

/* A record that was rejected, handed to idg_ingest_opts.on_reject. */
struct idg_reject {
	uint64_t line;       /* 1-based line number in the input */
	uint32_t index;      /* 0-based index in a JSON array line, else 0 */
	int in_array;        /* 1 if the line was a JSON array of records */
	const char *field;   /* the offending field, e.g. "properties.time" */
	const char *message; /* what is wrong, for people */
	const char *raw;     /* the rejected record's bytes, untouched */
	size_t raw_len;
};

/* Progress of a running ingest, handed to idg_ingest_opts.on_progress. */
struct idg_progress {
	uint64_t records;  /* records read so far (valid and rejected) */
	uint64_t rejected;
	uint64_t bytes;    /* input bytes consumed so far */
};

enum idg_clock {
	IDG_CLOCK_EVENT = 0, /* stamp from the record's own time */
	IDG_CLOCK_WALL = 1,  /* stamp from the wall clock */
};

/* Input formats. */
enum idg_format {
	IDG_FORMAT_AUTO = 0,    /* MessagePack if the first byte is a map or
				   array header, JSON lines otherwise */
	IDG_FORMAT_JSONL = 1,   /* JSON lines (an array per line allowed) */
	IDG_FORMAT_MSGPACK = 2, /* a stream of MessagePack maps (or arrays
				   of maps) */
};

/*
 * Per-call ingest options; zero-initialize (or use IDG_INGEST_OPTS_INIT).
 * Callbacks are optional; on_progress is called after each committed batch.
 * A callback returning non-zero stops the ingest, and the call returns
 * IDG_ESTOPPED: on_progress after its batch committed; on_reject with the
 * batch in progress rolled back (the batches before stay committed), so
 * that nothing after the last commit is kept and a resume of the file
 * reads the rejected record again (a rejects file that cannot be written
 * loses no reject).
 *
 * For MessagePack input, idg_reject.line is the 1-based number of the
 * top-level value in the stream (a record, or an array of records).
 */
struct idg_ingest_opts {
	int clock; /* enum idg_clock */
	int (*on_reject)(void *user, const struct idg_reject *rej);
	int (*on_progress)(void *user, const struct idg_progress *prog);
	void *user;
	int format; /* enum idg_format */
	/* idg_ingest_file() only: */
	int force;  /* ingest a file again that was ingested whole before */
	int resume; /* continue a file where an interrupted ingest stopped */
	/*
	 * 0 (the default): input is read and parsed on a thread of the
	 * call's own while the calling thread applies, up to 32 chunks
	 * of 1,024 parsed records (32 MiB at most) ahead, so that it goes
	 * on while a batch commits (more only to hold one record larger
	 * than a chunk); 1: read, parse and apply on the calling thread
	 * (idg_ingest_file may still hash its file on a thread of its
	 * own). The results are the same; callbacks always run on the
	 * calling thread.
	 */
	int threads;
};

#define IDG_INGEST_OPTS_INIT {IDG_CLOCK_EVENT, NULL, NULL, NULL, 0, 0, 0, 0}

/* Counts of one ingest call. */
struct idg_ingest_stats {
	uint64_t records;  /* records read: valid + rejected */
	uint64_t rejected;
	uint64_t events;   /* valid events (identity events included) */
	uint64_t identity; /* identity events */
	uint64_t nodes_created;
	uint64_t merged;
	uint64_t noop;
	uint64_t refused[IDG_REASON_COUNT]; /* by enum idg_reason */
	uint64_t bytes;
	uint64_t batches;
	uint64_t duplicates;    /* events that replaced an earlier copy */
	uint64_t warnings;      /* all the warnings below, added up: */
	uint64_t long_strings;  /*   strings over 255 bytes: names, values */
	uint64_t many_props;    /*   events with more than 255 properties */
	uint64_t profile_updates;   /* valid profile updates */
	uint64_t profiles_created;
	uint64_t profiles_deleted;
	uint64_t type_clashes;      /* warnings: $add on a non-number, ... */
	uint64_t big_profiles;      /* warnings: over 2000 properties */
	uint64_t anonymous_profiles; /* warnings: profiles_for_anonymous_ids */
	int skipped;            /* idg_ingest_file(): already ingested */
	uint64_t resumed_at;    /* idg_ingest_file(): first line (or value)
				   read on --resume, else 0 */
	/*
	 * Where the time went, in seconds (timings: they move from run to
	 * run). busy is a stage's CPU time; wait, how long it was blocked on
	 * the other stage. The apply stage is the calling thread; with
	 * threads = 1 it parses too, and the parse fields are 0.
	 */
	double parse_busy;
	double parse_wait;     /* for the apply stage to free a chunk */
	double apply_busy;     /* the commits' CPU time included */
	double apply_wait;     /* for the parse stage's next chunk */
	double commit_seconds; /* batch commits, their flush to disk included */
};

/*
 * Ingests JSON lines from buf[0..len). A line may also hold a JSON array of
 * records. Rejected records are reported to opts->on_reject and skipped:
 * they never stop the ingest. stats (may be NULL) receives the counts. On a
 * storage failure the batch in progress is rolled back, the earlier batches
 * stay committed, and a negative code is returned.
 */
int idg_ingest_buffer(idg_db *db, const char *buf, size_t len,
		      const struct idg_ingest_opts *opts,
		      struct idg_ingest_stats *stats);

/* Same as idg_ingest_buffer(), reading fp until end of file. */
int idg_ingest_stream(idg_db *db, FILE *fp, const struct idg_ingest_opts *opts,
		      struct idg_ingest_stats *stats);

/*
 * Ingests the file at path, and remembers it by the hash of its content,
 * in the same transaction as each batch: how far it got, and whether it
 * finished. A file ingested whole before is skipped (stats->skipped = 1,
 * return 0) unless opts->force. A file an earlier ingest did not finish
 * (a crash, kill -9) gives IDG_EPARTIAL unless opts->resume, which goes on
 * at its first uncommitted record, or opts->force, which starts over.
 * If another ingest of the same content (another process) commits while
 * this one runs, this one stops at its next commit with IDG_EBUSY, that
 * batch rolled back: no record is applied by both.
 * The hash is made first only when a file of the same size is remembered,
 * else beside the ingest, on a thread of its own.
 */
int idg_ingest_file(idg_db *db, const char *path,
		    const struct idg_ingest_opts *opts,
		    struct idg_ingest_stats *stats);

/*
 * A benchmark baseline, not an ingest: runs the same parser as ingest
 * (JSON lines into typed fields and MessagePack properties, or MessagePack
 * values) over fp to its end, and touches no database. *records receives
 * the records read. format as in idg_ingest_opts (IDG_FORMAT_AUTO looks at
 * the first byte).
 */
int idg_parse_only(FILE *fp, int format, uint64_t *records);

/*
 * A benchmark baseline, not an ingest: writes every record of db into a
 * new database at dst (a path that holds no database), the cheapest way
 * LMDB can store them: each table in key order, appended, in about
 * `commits` durable write transactions of equal numbers of records (pass
 * the ingest's stats.batches to match its commits). Its time is the floor
 * of the ingest's apply stage: storing what the ingest stored, with no
 * engine work. The copy is a database with the same content. *records
 * receives the records (LMDB entries) written.
 */
int idg_store_only(idg_db *db, const char *dst, uint64_t commits,
		   uint64_t *records);

/*
 * Writes the MessagePack encoding of one JSON value json[0..len) — a
 * record, for tools that produce MessagePack input — to out, with the
 * types ingest keeps (integers beyond 64 bits as extension type 1, their
 * digits). IDG_EINVAL for malformed JSON, IDG_EIO if the write fails.
 */
int idg_json_to_msgpack(const char *json, size_t len, FILE *out);

/* ------------------------------------------------------------------ */
/* Queries                                                             */

/* T for "the database's current stamp". */
#define IDG_NOW INT64_MAX

enum idg_view {
	IDG_VIEW_LIVE = 0,     /* every merge stamped <= T */
	IDG_VIEW_REPORTED = 1, /* every merge stamped <= T - merge_delay */
};

/* The cluster of a distinct_id, as of a stamp, in a view. */
struct idg_resolution {
	const char *canonical; /* canonical distinct_id (not NUL-safe: use len) */
	size_t canonical_len;
	uint64_t cluster_size; /* nodes in the cluster, itself included */
};

/*
 * Resolves distinct_id id[0..len) as of stamp at (IDG_NOW for now) in view.
 * IDG_ENOTFOUND if the database had not seen the id by then. out->canonical
 * is NUL-terminated and valid until the next call on the handle.
 */
int idg_resolve(idg_db *db, const char *id, size_t len, int64_t at, int view,
		struct idg_resolution *out);

/*
 * Calls cb once per member of id's cluster as of stamp at in view, in the
 * order the database first saw them. member is NUL-terminated and valid
 * during the call. cb returning non-zero stops with IDG_ESTOPPED.
 */
typedef int (*idg_member_cb)(void *user, const char *member, size_t len);
int idg_cluster_foreach(idg_db *db, const char *id, size_t len, int64_t at,
			int view, idg_member_cb cb, void *user);

/* One identity event of the log. Strings NUL-terminated, valid in the cb;
 * the lengths at the end count the bytes of those that may hold a NUL. */
struct idg_log_entry {
	uint64_t seq;          /* 1-based position in the log */
	int64_t stamp;
	const char *event;     /* "$identify", "$create_alias" or "$merge" */
	const char *ids[2];    /* the ids it named: identified+anon, target+alias,
				  or the two $distinct_ids */
	const char *insert_id; /* "" when the event had none */
	int outcome;           /* enum idg_outcome */
	int reason;            /* enum idg_reason */
	const char *description; /* Mixpanel's failure description, or "" */
	const char *canonical; /* canonical id of the cluster afterwards */
	size_t ids_len[2];     /* bytes of ids[0] and ids[1] */
	size_t insert_id_len;
	size_t canonical_len;
};

typedef int (*idg_log_cb)(void *user, const struct idg_log_entry *e);

/* Calls cb for each identity event, in stamp (ingestion) order. */
int idg_log_foreach(idg_db *db, idg_log_cb cb, void *user);

/*
 * Identity mappings (Mixpanel's mp_identity_mappings_data): one call per
 * node of every cluster of two or more nodes as of stamp at in view, with
 * the cluster's canonical id (which maps to itself). Nodes come in the
 * order the database first saw them.
 */
typedef int (*idg_mapping_cb)(void *user, const char *distinct_id,
			      size_t id_len, const char *resolved,
			      size_t resolved_len);
int idg_mappings_foreach(idg_db *db, int64_t at, int view, idg_mapping_cb cb,
			 void *user);

/* ------------------------------------------------------------------ */
/* Reports                                                             */

/*
 * Reports count users the way Mixpanel's Insights and Funnels do: an
 * event's user is the cluster of its distinct_id in the chosen view as of
 * the report time T, and only events stamped <= T exist. In the reported
 * view (the default) a merge counts only once merge_delay has passed. The
 * numbers as of any T equal those of a database that ingested only the
 * records stamped <= T. Events named $identify, $create_alias or $merge,
 * and events with an empty distinct_id, are never counted as users.
 */

enum idg_interval {
	IDG_INTERVAL_TOTAL = 0,
	IDG_INTERVAL_DAY = 1,  /* UTC days of event time */
	IDG_INTERVAL_HOUR = 2, /* UTC hours of event time */
};

/* Options of idg_report_uniques(); start from IDG_REPORT_OPTS_INIT. */
struct idg_report_opts {
	const char *event; /* only this event name, or NULL for all */
	int64_t from_ms;   /* event time >= from_ms (INT64_MIN: no bound) */
	int64_t to_ms;     /* event time < to_ms (INT64_MAX: no bound) */
	int interval;      /* enum idg_interval */
	int64_t at;        /* report time T, or IDG_NOW */
	int view;          /* enum idg_view; IDG_VIEW_REPORTED by default */
};

#define IDG_REPORT_OPTS_INIT                                                   \
	{NULL, INT64_MIN, INT64_MAX, IDG_INTERVAL_TOTAL, IDG_NOW,              \
	 IDG_VIEW_REPORTED}

struct idg_uniques {
	uint64_t uniques;        /* distinct users over the whole range */
	uint64_t events;         /* matching events, users or not */
	uint64_t pending_merges; /* merges stamped in (T - delay, T]: not yet
				    in the reported view (0 in legacy mode,
				    whose reports no merge changes) */
	int64_t at;              /* T as used (IDG_NOW resolved) */
};

/* One bucket of a day or hour series, handed to the callback in order. */
typedef int (*idg_bucket_cb)(void *user, int64_t start_ms, uint64_t uniques,
			     uint64_t events);

/*
 * Distinct users (SPEC §5) among events matching opts. For a day or hour
 * interval, cb (may be NULL) receives each bucket that has events, in time
 * order. An unknown opts->event gives IDG_ENOTFOUND with the known names
 * in idg_errmsg(); an empty range gives IDG_EINVAL.
 */
int idg_report_uniques(idg_db *db, const struct idg_report_opts *opts,
		       struct idg_uniques *out, idg_bucket_cb cb, void *user);

/* Options of idg_report_funnel(); start from IDG_FUNNEL_OPTS_INIT. */
struct idg_funnel_opts {
	const char *const *steps; /* event names, two or more */
	size_t nsteps;
	int64_t window_ms; /* conversion window; default 30 days */
	int64_t from_ms;   /* range of the first step's event time */
	int64_t to_ms;
	int64_t at;        /* report time T, or IDG_NOW */
	int view;          /* enum idg_view */
};

#define IDG_DEFAULT_FUNNEL_WINDOW_MS (INT64_C(30) * 24 * 3600 * 1000)
#define IDG_FUNNEL_OPTS_INIT                                                   \
	{NULL, 0, IDG_DEFAULT_FUNNEL_WINDOW_MS, INT64_MIN, INT64_MAX, IDG_NOW, \
	 IDG_VIEW_REPORTED}

/* One step of a funnel's result. */
struct idg_funnel_step {
	uint64_t users;    /* users who reached this step (or a later one) */
	double conversion; /* users / users of step 1; 0 when none started */
};

/*
 * A funnel (SPEC §5): a user reaches step k if, after a first-step event
 * in the range, steps 2..k happen in that order, each strictly later than
 * the one before (event time, then ingestion order), all within the window
 * of the first step. out must have opts->nsteps entries. *pending (may be
 * NULL) receives the merges still pending in the reported view at T.
 */
int idg_report_funnel(idg_db *db, const struct idg_funnel_opts *opts,
		      struct idg_funnel_step *out, uint64_t *pending);

/* ------------------------------------------------------------------ */
/* Profiles (the People API)                                           */

/*
 * A cluster has at most one active profile, which every update to any of
 * its distinct_ids reaches. Profiles that lost a merge are hidden: kept,
 * never shown by idg_profile_get(), listed and exported on request.
 */
struct idg_profile {
	const char *distinct_id;  /* active: the cluster's canonical id;
				     hidden: the id it is stored under */
	size_t distinct_id_len;
	const char *stored_under; /* the id the profile is stored under */
	size_t stored_under_len;
	int hidden;
	const void *properties;   /* a MessagePack map: see idg_jw_msgpack() */
	size_t properties_len;
	const char *const *members; /* every distinct_id of the cluster of
				       stored_under, in the order first seen */
	const size_t *member_lens;
	size_t nmembers;
};

/*
 * The Explore view of distinct_id id: the active profile of its cluster
 * (live view, at once). When the cluster has no profile, out->properties is
 * NULL and the rest is filled. IDG_ENOTFOUND for an id never seen. Valid
 * until the next call on the handle.
 */
int idg_profile_get(idg_db *db, const char *id, size_t len,
		    struct idg_profile *out);

/* What idg_profiles_foreach() lists. */
struct idg_profiles_opts {
	int hidden;             /* 0: active only; 1: hidden too */
	const char *where_prop; /* only profiles whose property where_prop */
	const char *where_value; /* equals this: a string property by its
				    text, any other by its JSON text (30,
				    true, null, [1,2]) */
	uint64_t limit;         /* at most this many; 0: no limit */
};

typedef int (*idg_profile_cb)(void *user, const struct idg_profile *p);

/* Calls cb for each profile, in the order they were made. */
int idg_profiles_foreach(idg_db *db, const struct idg_profiles_opts *opts,
			 idg_profile_cb cb, void *user);

/*
 * Writes every active profile (and the hidden ones when hidden is 1) as
 * {"$distinct_id", "$properties", "$distinct_ids"} per line (hidden ones
 * also carry "$hidden": true), or as MessagePack maps of the same shape.
 */
int idg_export_profiles(idg_db *db, FILE *out, int format, int hidden,
			uint64_t *count);

/* ------------------------------------------------------------------ */
/* Events export                                                       */

/* What idg_export_events() writes; zero-initialize, then set. */
struct idg_export_opts {
	int format;       /* IDG_FORMAT_JSONL (or 0) or IDG_FORMAT_MSGPACK */
	int64_t at;       /* as of this stamp; IDG_NOW (set it!) for now */
	int view;         /* enum idg_view, for resolving distinct_ids */
	int64_t from_ms;  /* event time >= from_ms (INT64_MIN: no bound) */
	int64_t to_ms;    /* event time < to_ms (INT64_MAX: no bound) */
	const char *event; /* only events of this name, or NULL for all */
};

#define IDG_EXPORT_OPTS_INIT                                                   \
	{IDG_FORMAT_JSONL, IDG_NOW, IDG_VIEW_LIVE, INT64_MIN, INT64_MAX, NULL}

/*
 * Writes the events stored as of opts->at, in event-time order (ties in
 * ingestion order), in Mixpanel's export shape: one {"event", "properties"}
 * per line (or one MessagePack map each), with properties.distinct_id
 * replaced by its canonical id in the view as of at, and the id as sent
 * kept as $distinct_id_before_identity when it differs. Every other
 * property is written back with its type and value exact. *count (may be
 * NULL) receives the number of events written. An opts->event the
 * database never saw is IDG_ENOTFOUND, idg_errmsg() listing the known
 * names (as the reports do); an empty time range is IDG_EINVAL.
 */
int idg_export_events(idg_db *db, FILE *out, const struct idg_export_opts *opts,
		      uint64_t *count);

/* ------------------------------------------------------------------ */
/* JSON writer                                                         */

/*
 * The writer every JSON output of idgraph goes through (the CLI's --json
 * answers and the exports). It escapes every string correctly (quotes,
 * backslash, control characters as \uXXXX or their short forms; valid
 * UTF-8 passed through; each byte of invalid UTF-8 written as U+FFFD) and
 * writes numbers that round-trip exactly (integers in full, doubles in the
 * shortest form that reads back to the same value; NaN and infinities,
 * which JSON cannot hold, as null). Commas and colons are placed by the
 * writer. Output is buffered and flushed by idg_jw_newline() when the
 * buffer is large, and by idg_jw_close().
 */
typedef struct idg_jw idg_jw;

/* New writer on fp (borrowed, not closed). NULL when out of memory. */
idg_jw *idg_jw_open(FILE *fp);
/* Flushes and frees; 0, or IDG_EIO if any write failed. NULL is a no-op. */
int idg_jw_close(idg_jw *w);
void idg_jw_object_begin(idg_jw *w);
void idg_jw_object_end(idg_jw *w);
void idg_jw_array_begin(idg_jw *w);
void idg_jw_array_end(idg_jw *w);
/* An object key (escaped like a string); the next value is its value. */
void idg_jw_key(idg_jw *w, const char *key, size_t len);
void idg_jw_string(idg_jw *w, const char *s, size_t len);
void idg_jw_int(idg_jw *w, int64_t v);
void idg_jw_uint(idg_jw *w, uint64_t v);
void idg_jw_double(idg_jw *w, double v);
void idg_jw_bool(idg_jw *w, int v);
void idg_jw_null(idg_jw *w);
/* A number given as its JSON text, written as it is (for integers beyond
 * 64 bits, kept as their digits). The caller vouches that it is valid. */
void idg_jw_number_text(idg_jw *w, const char *digits, size_t len);
/* A MessagePack value (such as idg_profile.properties) as JSON. */
void idg_jw_msgpack(idg_jw *w, const void *data, size_t len);
/* Ends the current top-level value with '\n' (JSON lines). */
void idg_jw_newline(idg_jw *w);
/* Writes bytes as they are (for non-JSON text between values). */
void idg_jw_raw(idg_jw *w, const char *s, size_t len);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* IDGRAPH_H */
