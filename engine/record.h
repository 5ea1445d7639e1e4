/* record.h — validation of input records (SPEC §4). */
#ifndef IDG_RECORD_H
#define IDG_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "codec_json_in.h"

struct idg__mpw;

/* Mixpanel's limit on one record. */
#define IDG__MAX_RECORD_BYTES (1024 * 1024)

struct idg__str {
	const char *p;
	size_t n;
};

/*
 * What storing a valid event takes besides its fields (idg__record_extras):
 * its body's head (idg__body_head; NULL if it could not be written), its
 * dedup hash (idg__event_key_hash; 0 without $insert_id) and idg__hash64 of
 * its name. done is 0 until they are worked out.
 */
struct idg__extras {
	int done;
	const void *bhead;
	size_t bhead_len;
	uint64_t dedup;
	uint64_t name_hash;
};

/* A record that passed validation. Strings borrow from the parser. */
struct idg__rec {
	struct idg__str event;
	struct idg__str distinct_id; /* "" for an event of no user */
	int64_t time_ms;
	struct idg__str insert_id;   /* p == NULL when absent */
	int identity;                /* an identity event of the mode */
	int kind;                    /* enum idg__ident_kind, if identity */
	struct idg__str ids[2];      /* ids the identity event names */
	struct idg__str device;      /* simplified: "$device:<$device_id>"
					of an event that also names a
					$user_id (a link), else p == NULL */
};

/* Room for "$device:" + a $device_id, grown by validation as needed, and
 * for the head of a checked event's body (made on first use). */
struct idg__scratch {
	char *p;
	size_t cap;
	struct idg__mpw *head;
};

/* Frees what validation allocated in sc. */
void idg__scratch_free(struct idg__scratch *sc);

/* A profile update that passed validation (SPEC §3, §4). */
struct idg__prec {
	struct idg__str distinct_id;
	int has_time;
	int64_t time_ms;
	int ignore_time;
	int ignore_alias;
	struct idg__str ops[IDG__OP_COUNT]; /* p == NULL when absent */
};

/* Why a record was rejected. */
struct idg__invalid {
	const char *field;
	char msg[256];
};

/*
 * Validates a parsed record against SPEC §4 at wall-clock time now_ms, for
 * a database in mode (enum idg_mode): which events are identity events,
 * and how the distinct_id is found (SPEC §2.2), depend on it. Returns 0
 * and fills out, or -1 and fills why. out may point into sc.
 */
int idg__record_validate(const struct idg__inrec *jr, int64_t now_ms, int mode,
			 struct idg__scratch *sc, struct idg__rec *out,
			 struct idg__invalid *why);

/* 1 if the record is a profile update: no "event", a "$distinct_id". */
int idg__record_is_profile(const struct idg__inrec *jr);

/* Validates a profile update; 0 and out, or -1 and why. */
int idg__profile_validate(const struct idg__inrec *jr, int64_t now_ms,
			  struct idg__prec *out, struct idg__invalid *why);

/*
 * A record read and checked, as the appliers (apply.c) take it: a valid
 * event or profile update, or a rejected record with why and its bytes.
 * Pointers borrow from the codec, the scratch room and why, as those of
 * idg__rec do.
 */
enum idg__vkind { IDG__V_REJECT, IDG__V_EVENT, IDG__V_PROFILE };

struct idg__vrec {
	int kind; /* enum idg__vkind */
	union {
		struct idg__rec ev;  /* EVENT */
		struct idg__prec pr; /* PROFILE */
	};
	/* EVENT: its properties as stored (input.h), and soft limits. */
	const void *props;
	size_t props_len;
	const struct idg__pkey *pkeys; /* nprops of them, or NULL */
	uint32_t nprops;
	/* EVENT and PROFILE: strings over 255 bytes (names and values; an
	 * event's name; a profile update's operator values). */
	uint32_t long_strings;
	int did_in_props; /* ev.distinct_id is properties.distinct_id */
	struct idg__extras x; /* EVENT: done by the parse stage, or not */
	/* EVENT and PROFILE: idg__hash64 of the distinct_id (ev's, pr's). */
	uint64_t id_hash;
	/* REJECT: */
	const char *field; /* a string constant */
	const char *msg;
	const char *raw;
	size_t raw_len;
};

/*
 * Checks one record as a codec handed it over (error: why it could not be
 * read) for a database in mode at wall-clock time now_ms, into out. A
 * rejected record's message may be in why.
 */
void idg__record_check(const struct idg__inrec *jr, const char *error,
		       int64_t now_ms, int mode, struct idg__scratch *sc,
		       struct idg__vrec *out, struct idg__invalid *why);

/*
 * Works out the extras of checked event v into out, its body's head in sc.
 * Either stage may: the parse stage when the apply stage is behind, else
 * the apply stage.
 */
void idg__record_extras(const struct idg__vrec *v, struct idg__scratch *sc,
			struct idg__extras *out);

/* Takes a checked record; a nonzero return stops its unit. */
typedef int (*idg__vrec_fn)(void *ctx, const struct idg__vrec *v,
			    uint32_t index, int in_array);
/* Is told of a checked record a few records before it is taken. */
typedef void (*idg__ahead_fn)(void *ctx, const struct idg__vrec *v,
			      int stage);

/* 1 if s is one of Mixpanel's forbidden id values. */
int idg__id_forbidden(const char *s, size_t n);

/* 1 if s has UUID shape (8-4-4-4-12 hex), optionally after "$device:". */
int idg__id_is_uuid(const char *s, size_t n);

/* Converts a time in seconds (< 1e11) or milliseconds to milliseconds. */
int64_t idg__time_to_ms(double t);

#endif
