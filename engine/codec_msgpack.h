/*
 * codec_msgpack.h — stored values in MessagePack: the only file that
 * includes <msgpack.h> is codec_msgpack.c.
 */
#ifndef IDG_CODEC_MSGPACK_H
#define IDG_CODEC_MSGPACK_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A writer into a reusable buffer. */
struct idg__mpw;

struct idg__mpw *idg__mpw_new(void);
void idg__mpw_free(struct idg__mpw *w);
void idg__mpw_reset(struct idg__mpw *w);
/* Each returns 0, or IDG_ENOMEM. */
int idg__mpw_array(struct idg__mpw *w, uint32_t n);
int idg__mpw_str(struct idg__mpw *w, const char *s, size_t n);
int idg__mpw_int(struct idg__mpw *w, int64_t v);
int idg__mpw_uint(struct idg__mpw *w, uint64_t v);
int idg__mpw_nil(struct idg__mpw *w);
int idg__mpw_double(struct idg__mpw *w, double v);
int idg__mpw_bool(struct idg__mpw *w, int v);
/* An integer beyond 64 bits, kept as its decimal text (ext type 1). */
int idg__mpw_bigint(struct idg__mpw *w, const char *digits, size_t n);
/* Bytes that already are MessagePack. */
int idg__mpw_raw(struct idg__mpw *w, const void *p, size_t n);
/* Opaque bytes, as a MessagePack bin. */
int idg__mpw_bin(struct idg__mpw *w, const void *p, size_t n);
/* One bin of a[0..an) then b[0..bn). */
int idg__mpw_bin2(struct idg__mpw *w, const void *a, size_t an, const void *b,
		  size_t bn);
/*
 * A map or array whose size is known only at its end: _begin writes a
 * 32-bit header and returns where it is, _end patches the count in.
 */
size_t idg__mpw_map_begin(struct idg__mpw *w);
void idg__mpw_map_end(struct idg__mpw *w, size_t at, uint32_t n);
size_t idg__mpw_array_begin(struct idg__mpw *w);
void idg__mpw_array_end(struct idg__mpw *w, size_t at, uint32_t n);
/*
 * A top-level property name of the map begun at map_at, noted (with
 * where its value starts) for idg__mpw_pkeys. _pkeys_reset forgets the
 * notes, which idg__mpw_reset also does.
 */
int idg__mpw_prop_key(struct idg__mpw *w, size_t map_at, const char *s,
		      size_t n);
/*
 * With keys, idg__mpw_prop_key writes a name keys knows as its number
 * (struct idg__pkey); NULL (the start) writes every name as text. keys is
 * only read, by the writer's thread, and must outlive its use.
 */
struct idg__keys;
void idg__mpw_set_keys(struct idg__mpw *w, const struct idg__keys *keys);
void idg__mpw_pkeys_reset(struct idg__mpw *w);
/* The noted names, valid until the next write or reset. */
const struct idg__pkey *idg__mpw_pkeys(const struct idg__mpw *w,
				       uint32_t *count);
/* IDG_ENOMEM if any write since the last reset failed, else 0. */
int idg__mpw_error(const struct idg__mpw *w);
const void *idg__mpw_data(const struct idg__mpw *w, size_t *len);

/*
 * A block of event bodies (events.c): a MessagePack array of bins, each
 * one body. Reads the block data[0..len) into at most max items, each
 * pointing into data: 0 and *count, or IDG_ECORRUPT.
 */
struct idg__blob {
	const void *p;
	size_t n;
};
int idg__block_read(const void *data, size_t len, struct idg__blob *items,
		    uint32_t max, uint32_t *count);

/* The extension type of integers beyond 64 bits. */
#define IDG__MP_EXT_BIGINT 1

/* One decoded flat array of scalars (strings, integers, nil). */
#define IDG__MP_MAX_ITEMS 16

struct idg__mp_item {
	int kind; /* IDG__MP_NIL, _INT, _STR, or _OTHER */
	int64_t i;
	const char *s; /* points into the decoded buffer */
	size_t n;
};

enum { IDG__MP_NIL, IDG__MP_INT, IDG__MP_STR, IDG__MP_OTHER };

/*
 * Decodes data[0..len), an array of at most IDG__MP_MAX_ITEMS scalars, into
 * items; *count receives the number. Returns 0 or IDG_ECORRUPT.
 */
int idg__mp_read_array(const void *data, size_t len,
		       struct idg__mp_item items[IDG__MP_MAX_ITEMS],
		       uint32_t *count);

/*
 * A stored event body (database format 4): the distinct_id as sent, the
 * $insert_id or nil, then the properties map, three MessagePack values
 * back to back. Its name and time are its head's (events.h), not stored
 * again. Ids that the properties already hold are not stored twice:
 * distinct_id nil means properties.distinct_id, $insert_id true means
 * properties.$insert_id. A top-level property name is its text or its
 * number in the property-name dictionary (keys.h). The two ids are the
 * body's head, which the parse stage writes (idg__body_head); the
 * properties follow as the parser wrote them, unless names must be
 * numbered or properties added.
 */
struct idg__body {
	uint32_t name;   /* the head's: not stored in the body */
	int64_t time_ms; /* the head's: not stored in the body */
	const char *did; /* as sent */
	size_t did_len;
	const char *ins; /* NULL when absent */
	size_t ins_len;
	const void *props; /* a MessagePack map */
	size_t props_len;
	int did_in_props; /* encode: did is properties.distinct_id's string */
	int ins_in_props; /* encode: ins is properties.$insert_id's */
	const struct idg__pkey *pkeys; /* encode: where props' names lie */
	uint32_t npkeys;               /* (as many as props has), or 0 */
};

/*
 * Encodes b into w (after a reset), with nextra string properties appended
 * to its properties: extra[0] = extra[1], extra[2] = extra[3], ... (how
 * Mixpanel marks failed identity events: $failure_reason and
 * $failure_description, or $identity_failure_reason); those bodies name
 * every property by its text, which keys gives for numbered names. With
 * b->pkeys and nums, nums[i] is the number that stands for property i's
 * name (0: its text); without nums, b->props is stored as it is.
 */
int idg__body_encode(struct idg__mpw *w, const struct idg__body *b,
		     const uint32_t *nums, const char *const *extra,
		     int nextra, const struct idg__keys *keys);
/* Appends b's head (its two ids) to w: what idg__body_encode writes before
 * the properties. 0 or IDG_ENOMEM. */
int idg__body_head(struct idg__mpw *w, const struct idg__body *b);
/*
 * A body decoder: one zone kept from body to body, holding the properties
 * of the body it decoded last. NULL when out of memory; _free(NULL) does
 * nothing.
 */
struct idg__mpdec;
struct idg__mpdec *idg__mpdec_new(void);
void idg__mpdec_free(struct idg__mpdec *d);

/*
 * Decodes a body, its properties into d (until d's next decode); strings
 * point into data or into keys, which names the numbered property names.
 * name and time_ms are left 0: the caller has them from the head. 0 or
 * IDG_ECORRUPT.
 */
int idg__body_decode(struct idg__mpdec *d, const void *data, size_t len,
		     const struct idg__keys *keys, struct idg__body *out);

struct idg_jw;

/*
 * Writes {"event": name, "properties": {...}} for an export of body b,
 * which d decoded last: the properties in their stored order, with
 * distinct_id replaced by resolved and, when the id as sent differs,
 * $distinct_id_before_identity after it. As JSON through jw, or as
 * MessagePack into w.
 */
int idg__event_write_json(struct idg_jw *jw, const struct idg__mpdec *d,
			  const struct idg__keys *keys, const char *name,
			  size_t name_len, const struct idg__body *b,
			  const char *resolved, size_t resolved_len);
int idg__event_write_msgpack(struct idg__mpw *w, const struct idg__mpdec *d,
			     const struct idg__keys *keys, const char *name,
			     size_t name_len, const struct idg__body *b,
			     const char *resolved, size_t resolved_len);

/* ---- MessagePack input ---- */

struct idg__mpin;

struct idg__mpin *idg__mpin_new(void);
void idg__mpin_free(struct idg__mpin *in);

/* Numbers the records' top-level property names by keys (idg__mpw_set_keys):
 * NULL for text. */
void idg__mpin_set_keys(struct idg__mpin *in, const struct idg__keys *keys);

/* 1 if a stream starting with byte c is MessagePack rather than JSON. */
int idg__mpin_sniff(unsigned char c);

/* Results of idg__mpin_next() besides 0 and a callback's code. */
#define IDG__MPIN_MORE 1   /* the value is incomplete: read more bytes */
#define IDG__MPIN_BROKEN 2 /* malformed bytes: the rest cannot be read */

/*
 * Reads the top-level value at data[*off..len) — a record, or an array
 * of records — and calls cb for each record (index = position in the
 * array), then advances *off past it. A broken stream is reported to cb
 * once (with data[*off..len) as its raw bytes) before IDG__MPIN_BROKEN.
 */
int idg__mpin_next(struct idg__mpin *in, const char *data, size_t len,
		   size_t *off, idg__inrec_fn cb, void *ctx);

/*
 * 1 if the map holds property key with a value equal to value: a string
 * by its bytes, any other value by its JSON text (30, 2.5, true, null).
 */
int idg__mp_map_match(const void *map, size_t len, const char *key,
		      const char *value);

/* ---- profile properties and the People operators (SPEC §3) ---- */

/*
 * An editable profile: a property map decoded from its stored MessagePack,
 * changed by the operators, and encoded again. Keys keep their order of
 * first insertion; values keep their exact types. One idg__props is reused
 * from record to record: idg__props_load() starts over. Operator values
 * are MessagePack (a map for $set, $set_once, $add, $append, $union,
 * $remove; an array of strings for $unset), already validated by type
 * (SPEC §4); the bytes passed in must stay valid until the next
 * idg__props_encode() or idg__props_load().
 */
struct idg__props;

struct idg__props *idg__props_new(void);
void idg__props_free(struct idg__props *p);

/* Starts from a stored map (len 0: an empty profile). 0 or IDG_ECORRUPT. */
int idg__props_load(struct idg__props *p, const void *map, size_t len);

/* What an operator could not do, counted as warnings. */
struct idg__props_warn {
	uint32_t clashes; /* $add on a non-number or to a sum beyond a
			     double, $append/$union on a non-list: the
			     property is left unchanged */
};

/* $set (once = 0) or $set_once (once = 1). */
int idg__props_set(struct idg__props *p, const void *map, size_t len,
		   int once);
/* $add: a missing property counts as 0; integer sums stay integers,
 * falling back to float on overflow; int + float is float. */
int idg__props_add(struct idg__props *p, const void *map, size_t len,
		   struct idg__props_warn *w);
/* $append: missing -> a one-element list; list -> pushed. */
int idg__props_append(struct idg__props *p, const void *map, size_t len,
		      struct idg__props_warn *w);
/* $union: missing -> the array without duplicates; list -> values not yet
 * present added in order. Equality is by type and value (1, 1.0, "1" and
 * true all differ; lists and maps compare deeply). */
int idg__props_union(struct idg__props *p, const void *map, size_t len,
		     struct idg__props_warn *w);
/* $remove: every element equal to the value is removed from the list;
 * a missing or non-list property is left as it is. */
int idg__props_remove(struct idg__props *p, const void *map, size_t len);
/* $unset: the named properties are removed. */
int idg__props_unset(struct idg__props *p, const void *array, size_t len);
/* Sets one string property (for $last_seen). */
int idg__props_set_str(struct idg__props *p, const char *key,
		       const char *val, size_t val_len);

/* The number of properties. */
size_t idg__props_count(const struct idg__props *p);
/* Encodes the map into w (after a reset of w). 0 or IDG_ENOMEM. */
int idg__props_encode(const struct idg__props *p, struct idg__mpw *w);

#ifdef __cplusplus
}
#endif

#endif
