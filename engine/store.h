/* store.h — LMDB environment, named tables and transactions. */
#ifndef IDG_STORE_H
#define IDG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The named tables of a database (see store.c for their layouts). */
enum idg__table {
	IDG__T_META,  /* settings and counters: short ASCII key -> int64 */
	IDG__T_IDS,   /* id hash -> node numbers (dup-sorted uint32) */
	IDG__T_NAMES, /* node number (uint32) -> distinct_id bytes */
	IDG__T_NODES, /* node number (uint32) -> struct idg__node */
	IDG__T_CANON, /* (root, stamp) big-endian -> canonical node (uint32) */
	IDG__T_LOG,   /* log sequence (uint64) -> msgpack log entry */
	IDG__T_EVHASH,  /* event name hash -> name numbers (dup-sorted) */
	IDG__T_EVNAMES, /* name number (uint32) -> event name bytes */
	IDG__T_EV,      /* (time, seq) big-endian -> struct idg__evhead */
	IDG__T_EVBODY,  /* seq (uint64) -> msgpack event body */
	IDG__T_FILES,   /* input content hash -> msgpack ingest progress */
	IDG__T_PROFILES, /* node (uint32) -> [hidden, properties map] */
	IDG__T_PKEYS,    /* property name number (uint32) -> name bytes */
	IDG__T_COUNT
};

/* A borrowed byte range; inside a transaction, valid until it ends. */
struct idg__val {
	const void *p;
	size_t n;
};

/* Cursor operations (a subset of LMDB's, under our own names). */
enum idg__op {
	IDG__FIRST,
	IDG__LAST,
	IDG__NEXT,
	IDG__PREV,
	IDG__SET_KEY,   /* exactly key */
	IDG__SET_RANGE, /* first key >= key */
	IDG__NEXT_DUP,  /* next value of the same key */
};

/* Put flags. */
#define IDG__PUT_APPEND 0x1u   /* key sorts after every key in the table */
#define IDG__PUT_NODUPDATA 0x2u

struct idg__store;
struct idg__txn;
struct idg__cursor;

#define IDG__STORE_CREATE 0x1u
#define IDG__STORE_RDONLY 0x2u
#define IDG__STORE_NOSYNC 0x4u

int idg__store_open(struct idg__store **out, const char *dir, unsigned flags,
		    struct idg__err *e);
void idg__store_close(struct idg__store *s);

/*
 * Unmaps from this process the pages of the database file it has read,
 * which stay in the kernel's page cache: resident memory then counts what
 * the engine allocates, not how much of the file it has touched (the
 * kernel maps up to 16 neighbouring pages on each read fault). Safe while
 * transactions are open: a later read maps its page again. Linux only.
 */
void idg__store_drop_pages(struct idg__store *s);

int idg__store_begin(struct idg__store *s, int write, struct idg__txn **out,
		     struct idg__err *e);
/* Commits and ends the transaction, also when the commit fails. */
int idg__store_commit(struct idg__txn *t, struct idg__err *e);
/* Ends the transaction, discarding its writes. NULL is a no-op. */
void idg__store_abort(struct idg__txn *t);

/* The snapshot a transaction sees: it changes with every commit. A write
 * transaction's is the last commit's + 1. */
uint64_t idg__store_txn_id(struct idg__txn *t);
/*
 * The id a read transaction begun now would have (the last commit's, any
 * process's), without beginning one: 0, or -1 when LMDB cannot tell.
 */
int idg__store_snapshot(struct idg__store *s, uint64_t *out);

/*
 * A cache that a write transaction's readers may use (graph.c's node
 * records): set on the open write transaction t, it is what
 * idg__store_wcache answers for t until t commits or aborts, and NULL for
 * any other transaction. Whoever sets it keeps it true to t's writes.
 */
void idg__store_set_wcache(struct idg__txn *t, void *cache);
void *idg__store_wcache(struct idg__txn *t);

/* IDG_ENOTFOUND (with no message) when the key is absent. */
int idg__store_get(struct idg__txn *t, int table, const void *key, size_t klen,
		   struct idg__val *out, struct idg__err *e);
int idg__store_put(struct idg__txn *t, int table, const void *key, size_t klen,
		   const void *val, size_t vlen, unsigned flags,
		   struct idg__err *e);
/* Deletes a key (all its values); IDG_ENOTFOUND (no message) if absent. */
int idg__store_del(struct idg__txn *t, int table, const void *key, size_t klen,
		   struct idg__err *e);
/* Number of entries in a table. */
int idg__store_count(struct idg__txn *t, int table, size_t *out,
		     struct idg__err *e);

/*
 * Puts through a cursor of a write transaction. With IDG__PUT_APPEND a
 * cursor left at the end by the previous append adds the next key with no
 * search from the root: the way to write a run of ascending keys.
 */
int idg__cursor_put(struct idg__cursor *c, const void *key, size_t klen,
		    const void *val, size_t vlen, unsigned flags,
		    struct idg__err *e);
int idg__cursor_open(struct idg__txn *t, int table, struct idg__cursor **out,
		     struct idg__err *e);
/* A cursor of a write transaction may also be left to the transaction's
 * end, which closes it. */
void idg__cursor_close(struct idg__cursor *c);
/*
 * Moves the cursor; key may be an input (SET_KEY, SET_RANGE) and is then
 * updated to the key found. IDG_ENOTFOUND (no message) past either end.
 */
int idg__cursor_get(struct idg__cursor *c, int op, struct idg__val *key,
		    struct idg__val *val, struct idg__err *e);
/*
 * Moves the cursor to the last key not after *key (in the table's order),
 * updating key and val. IDG_ENOTFOUND (no message) when every key is
 * after it, or the table is empty.
 */
int idg__cursor_floor(struct idg__cursor *c, struct idg__val *key,
		      struct idg__val *val, struct idg__err *e);

/*
 * The store-only baseline (idg_store_only): every record of src written
 * into dst, a database just made (its tables empty), each table in key
 * order with LMDB's appends, in about `commits` write transactions of
 * equal numbers of records, each committed as dst was opened (durable
 * unless IDG__STORE_NOSYNC). *written receives the records written.
 */
int idg__store_copy(struct idg__store *src, struct idg__store *dst,
		    uint64_t commits, uint64_t *written, struct idg__err *e);

#endif
