/* events.h — the event store: every valid event, deduplicated. */
#ifndef IDG_EVENTS_H
#define IDG_EVENTS_H

#include <stdint.h>

#include "codec_msgpack.h"
#include "db.h"

/*
 * The fixed head of an event, value of both time-ordered indexes: enough
 * for reports, which never decode properties.
 */
struct idg__evhead {
	int64_t stamp;
	uint32_t node;  /* 0 for an event of no user (empty distinct_id) */
	uint32_t name;
	uint64_t dedup; /* hash of the dedup key; 0 without $insert_id */
};

/*
 * Heads are stored in runs (events.c): one ev value holds up to
 * IDG__RUN_MAX heads of consecutive keys, each with its time and seq.
 */
struct idg__evrun {
	int64_t time;
	uint64_t seq;
	struct idg__evhead head;
};
#define IDG__RUN_MAX 48

/* Index key: (time, seq), big-endian. */
#define IDG__EVKEY_BYTES 16
void idg__evkey(unsigned char key[IDG__EVKEY_BYTES], int64_t time_ms,
		uint64_t seq);
/* Reads back the time and seq of an index key. */
void idg__evkey_read(const void *key, size_t len, int64_t *time_ms,
		     uint64_t *seq);

/* An event to store. */
struct idg__event {
	struct idg__body body;
	struct idg__evhead head; /* with its dedup hash */
	const void *bhead;       /* its body's head (idg__body_head) or NULL */
	size_t bhead_len;
	const char *extra[4]; /* properties to add: key, value, key, value */
	int nextra;           /* pairs in extra */
};

/*
 * Bodies are stored in blocks (events.c) of at most IDG__BLOCK_BYTES
 * (unless one body is larger) and IDG__BLOCK_MAX bodies. A view holds the
 * last block read, so that reading consecutive events reads it once.
 */
#define IDG__BLOCK_BYTES 2000
#define IDG__BLOCK_MAX 64

struct idg__blockview {
	uint64_t first; /* seq of items[0] */
	uint32_t n;     /* 0: none read yet */
	struct idg__blob items[IDG__BLOCK_MAX];
};

/*
 * The stored body of event seq, through bv (zeroed before first use; its
 * items point into t's pages and are valid while t is and has not
 * written). IDG_ECORRUPT (with a message) when it is missing.
 */
int idg__events_body(struct idg__txn *t, struct idg__blockview *bv,
		     uint64_t seq, struct idg__val *out, struct idg__err *e);

/* Stores the batch's block of bodies and run of heads being filled:
 * before the batch commits. */
int idg__events_flush(struct idg__batch *b);

/*
 * Finds an earlier copy of ev, the event with the same (name, time,
 * distinct_id as sent, $insert_id), by ev->head.dedup: 0 and its seq, or
 * IDG_ENOTFOUND. Events without $insert_id never have one.
 */
int idg__events_find_dup(struct idg__batch *b, const struct idg__event *ev,
			 uint64_t *seq);
/* Stores a new event under seq st.ev_seq + 1. */
int idg__events_insert(struct idg__batch *b, const struct idg__event *ev);
/* Replaces the properties of event seq with those of ev (last one wins). */
int idg__events_replace(struct idg__batch *b, uint64_t seq,
			const struct idg__event *ev);

/*
 * Calls fn for each event with time in [from_ms, to_ms), in (time, seq)
 * order: all events when name is 0, else those of event name number name.
 * fn returning non-zero stops the scan with that value.
 */
typedef int (*idg__event_fn)(void *ctx, int64_t time_ms, uint64_t seq,
			     const struct idg__evhead *head);
int idg__events_scan(struct idg__txn *t, uint32_t name, int64_t from_ms,
		     int64_t to_ms, idg__event_fn fn, void *ctx,
		     struct idg__err *e);

#endif
