/*
 * gen.h — the workload generator that `idgraph gen` and `idgraph bench`
 * share: a stream of Mixpanel-shaped records that looks like
 * mixpanel-browser traffic (anonymous devices, logins, resets, shared
 * devices, returning users on new devices), a server's $create_alias and
 * $merge calls, and People updates of every operator.
 *
 * The stream is a function of the options alone: the same options give the
 * same bytes on every machine (the generator has its own random number
 * generator, its own clock and no floating-point arithmetic beyond exact
 * divisions by 100 and 1000).
 */
#ifndef IDG_GEN_H
#define IDG_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The first event's time: 2024-01-01T00:00:00Z in milliseconds. */
#define GEN_EPOCH_MS INT64_C(1704067200000)

struct gen_opts {
	uint64_t records; /* records to write: events, profile updates and,
			     with noise, the noise records */
	uint64_t seed;
	int noise;  /* duplicates, late events, malformed records and
		       forbidden ids */
	int format; /* IDG_FORMAT_JSONL or IDG_FORMAT_MSGPACK */
};

/* What a generator wrote. Without noise, rejected records are none and an
 * ingest of the stream into an empty database counts exactly these. */
struct gen_counts {
	uint64_t records;	  /* every record written */
	uint64_t events;	  /* valid events, identity events and
				     duplicates included */
	uint64_t identity;	  /* valid identity events ($identify,
				     $create_alias, $merge), not duplicates */
	uint64_t profile_updates; /* valid profile updates */
	uint64_t duplicates;	  /* noise: exact copies of an event */
	uint64_t late;		  /* noise: events up to an hour late */
	uint64_t malformed;	  /* noise: records rejected as malformed */
	uint64_t forbidden;	  /* noise: records naming a forbidden id */
	uint64_t bytes;		  /* bytes written */
};

struct gen;

/* A new generator, or NULL when out of memory. */
struct gen *gen_new(const struct gen_opts *o);

/* Writes the whole stream to out: 0, or IDG_EIO / IDG_ENOMEM. */
int gen_write(struct gen *g, FILE *out);

/* The counts of what gen_write() wrote. Valid until gen_free(). */
const struct gen_counts *gen_counts(const struct gen *g);

/*
 * The distinct_ids the stream named, numbered from 0 (devices, then users,
 * then server-side ids): gen_id() writes the k-th into buf (NUL-terminated)
 * and returns its length. Valid after gen_write().
 */
uint64_t gen_id_count(const struct gen *g);
size_t gen_id(const struct gen *g, uint64_t k, char *buf, size_t size);

/* Frees a generator; NULL is a no-op. */
void gen_free(struct gen *g);

#endif
