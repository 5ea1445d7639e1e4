/* db.h — the database handle and the write batch, shared by the engine. */
#ifndef IDG_DB_H
#define IDG_DB_H

#include <stdint.h>

#include "error.h"
#include "store.h"

/* Counters kept in the meta table and carried through a batch. */
struct idg__state {
	int64_t stamp;      /* INT64_MIN before the first record */
	uint32_t next_node; /* number the next new node gets (from 1) */
	uint64_t log_seq;   /* entries in the identity log */
	uint64_t records;   /* valid records ingested */
	uint64_t ev_seq;    /* events stored */
	int64_t max_time;   /* latest event time stored (INT64_MIN: none) */
	uint32_t next_evname; /* number the next new event name gets */
};

/* Settings of the database (meta table), fixed per handle while open. */
struct idg__settings {
	int mode;
	int64_t merge_delay_ms;
	uint32_t cluster_cap;
};

struct idg__jparser;
struct idg__mpw;
struct idg__mpin;
struct idg__mpdec;
struct idg__profiler;
struct idg__pview;
struct idg__idcache;
struct idg__rcache;
struct idg__keys;
struct idg__nodecache;
struct idg__evrun;

struct idg_db {
	struct idg__store *store;
	struct idg__err err;
	struct idg__settings set;
	uint32_t batch_size;
	unsigned flags;
	struct idg__jparser *jp; /* made on first ingest */
	struct idg__mpin *mpin;  /* MessagePack input, idem */
	struct idg__profiler *profiler; /* profile updates, idem */
	struct idg__pview *pview;       /* profiles handed out */
	struct idg__idcache *idcache;   /* ingest: distinct_id -> node */
	uint32_t ids_next;              /* next_node as idcache knows it */
	struct idg__idcache *namecache; /* ingest: event name -> number */
	struct idg__nodecache *nodecache; /* ingest: node records (graph.h) */
	struct idg__rcache *rcache;     /* resolve: answers per snapshot */
	struct idg__keys *keys;         /* property names by number */
	struct idg__mpw *mpw;    /* msgpack scratch for log entries */
	struct idg__mpw *blkw;   /* ingest: the block of bodies being filled */
	struct idg__mpdec *mpdec; /* ingest: bodies of duplicate candidates */
	struct idg__evrun *runbuf; /* ingest: the run of heads, idem */
	char *out;               /* strings returned to the caller */
	size_t out_cap;
};

/* One write transaction of an ingest. */
struct idg__batch {
	struct idg_db *db;
	struct idg__txn *txn;
	struct idg__err *err;
	struct idg__state st;
	struct idg_ingest_stats *stats;
	/* Append cursors on ev and evbody, opened by the batch's first event
	 * and ended with its transaction (which closes them). */
	struct idg__cursor *evc, *bodyc;
	/* The block of event bodies being filled (events.c): blk_n bodies
	 * from seq blk_first on, in db->blkw, stored by idg__events_flush. */
	uint64_t blk_first;
	uint32_t blk_n;
	size_t blk_at;
	/* The run of heads being filled (events.c): run_n in db->runbuf,
	 * after every stored head. */
	uint32_t run_n;
};

int idg__state_load(struct idg__txn *t, struct idg__state *out,
		    struct idg__err *e);
/* Only the current stamp: what a query as of T needs. */
int idg__state_stamp(struct idg__txn *t, int64_t *out, struct idg__err *e);
int idg__state_save(struct idg__txn *t, const struct idg__state *st,
		    struct idg__err *e);
int idg__settings_load(struct idg__txn *t, struct idg__settings *out,
		       struct idg__err *e);

void idg__pview_free(struct idg__pview *v);
void idg__rcache_free(struct idg__rcache *c);

/*
 * Makes the handle's property-name dictionary if needed and brings it up
 * to the snapshot of t: before a write batch, and before bodies are read.
 */
int idg__db_keys(struct idg_db *db, struct idg__txn *t);

/* Copies s into the handle's output buffer, NUL-terminated. */
const char *idg__db_keep(struct idg_db *db, const void *s, size_t n);

#endif
