/* profile.h — user profiles: the People API and profile merges (SPEC §3). */
#ifndef IDG_PROFILE_H
#define IDG_PROFILE_H

#include <stdint.h>

#include "db.h"
#include "record.h"

/* What profile updates did, for the ingest summary. */
struct idg__profile_stats {
	uint64_t updates;
	uint64_t created;
	uint64_t deleted;
	uint64_t clashes;    /* operator type clashes */
	uint64_t big;        /* updates leaving over 2000 properties */
	uint64_t anonymous;  /* profiles created for anonymous ids */
};

/*
 * Applies one profile update at the batch's stamp; node is the interned
 * $distinct_id.
 */
int idg__profile_update(struct idg__batch *b, const struct idg__prec *u,
			uint32_t node, struct idg__profile_stats *ps);

/*
 * After two clusters merged into root: the side that kept its canonical
 * id keeps its active profile (keep); if it had none, the other side's
 * (other) becomes active, unless other_stays_hidden (a simplified-mode
 * device profile); a profile that loses is hidden, never deleted.
 */
int idg__profile_merged(struct idg__batch *b, uint32_t root, uint32_t keep,
			uint32_t other, int other_stays_hidden);

/* Frees the per-handle profile tools (db.h's profiler). NULL is a no-op. */
struct idg__profiler;
void idg__profiler_free(struct idg__profiler *pr);

/* A stored profile: where it is stored, whether hidden, its properties. */
struct idg__profile_rec {
	int hidden;
	const void *props; /* MessagePack map */
	size_t props_len;
};

/* Reads the profile stored under node; IDG_ENOTFOUND (no message) if none. */
int idg__profile_get(struct idg__txn *t, uint32_t node,
		     struct idg__profile_rec *out, struct idg__err *e);

#endif
