/*
 * gen_rec.h — the records of the workload generator as small trees of
 * values, written as JSON (through the library's idg_jw_* writer) or as
 * MessagePack (by a minimal encoder: the public header has no MessagePack
 * writer for arbitrary values, and idg_export_events() writes only stored
 * events). Building a record once and writing it in either format is what
 * makes the JSON and MessagePack streams of one seed hold the same records.
 */
#ifndef IDG_GEN_REC_H
#define IDG_GEN_REC_H

#include "idgraph.h"

#include <stddef.h>
#include <stdint.h>

enum rec_type { V_STR, V_INT, V_DEC, V_BOOL, V_NULL, V_OBJ, V_ARR };

/* A value; in an object it carries its key. Containers list their
 * children through first/next (indexes into the arena, -1 for none). A
 * decimal is i / 10^places. */
struct rec_node {
	const char *key;
	const char *s;
	size_t len;
	int64_t i;
	int type, places;
	int first, last, next, n;
};

#define REC_MAX_NODES 256
#define REC_MAX_TEXT 8192

/* One record: node 0 is its root. Strings are borrowed (literals) or live
 * in text. rec_clear() empties it for the next record. */
struct rec {
	struct rec_node nodes[REC_MAX_NODES];
	int nn;
	int has_insert_id; /* an event that can be deduplicated */
	char text[REC_MAX_TEXT];
	size_t nt;
};

void rec_clear(struct rec *r);

/*
 * Each adds a value to the container parent (-1: the root) under key
 * (NULL in an array). The containers return their index, to add to.
 * Overflowing the arena is a bug of the generator: an assert.
 */
int rec_obj(struct rec *r, int parent, const char *key);
int rec_arr(struct rec *r, int parent, const char *key);
/* A string the record does not own: a literal, or text in r->text. */
void rec_str(struct rec *r, int parent, const char *key, const char *s,
	     size_t len);
void rec_strz(struct rec *r, int parent, const char *key, const char *s);
/* A string formatted into, or copied into, the record's text. */
void rec_strf(struct rec *r, int parent, const char *key, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void rec_strcopy(struct rec *r, int parent, const char *key, const char *s,
		 size_t len);
void rec_int(struct rec *r, int parent, const char *key, int64_t v);
/* The decimal number mantissa / 10^places (mantissa >= 0, 0 < places <
 * 10): JSON gets its exact digits, MessagePack the nearest double; since
 * IEEE division rounds correctly both read back as the same double. */
void rec_dec(struct rec *r, int parent, const char *key, int64_t mantissa,
	     int places);
void rec_bool(struct rec *r, int parent, const char *key, int v);

/* Writes the record as one JSON value (the caller ends the line). */
void rec_write_json(idg_jw *w, const struct rec *r);

#endif
