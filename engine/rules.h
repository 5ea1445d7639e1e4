/* rules.h — identity rules, one file per mode. */
#ifndef IDG_RULES_H
#define IDG_RULES_H

#include <stdint.h>

#include "db.h"
#include "record.h"

/* An identity event with its ids already interned as nodes. */
struct idg__ident {
	int kind;             /* enum idg__ident_kind */
	struct idg__str names[2];
	uint32_t nodes[2];
	int64_t stamp;
};

/* What an identity event did. */
struct idg__outcome {
	int outcome; /* enum idg_outcome */
	int reason;  /* enum idg_reason */
	char desc[320];
	uint32_t canon; /* canonical node of nodes[0]'s cluster afterwards */
};

/* Original ID Merge (SPEC §2.1). */
int idg__rules_original(struct idg__batch *b, const struct idg__ident *ev,
			struct idg__outcome *out);

/*
 * Simplified ID Merge (SPEC §2.2): an event naming a user (nodes[0]) and a
 * device (nodes[1]) links the device into the user's cluster.
 */
int idg__rules_simplified(struct idg__batch *b, const struct idg__ident *ev,
			  struct idg__outcome *out);

/* Legacy ID management (SPEC §2.3): $create_alias, target then alias. */
int idg__rules_legacy(struct idg__batch *b, const struct idg__ident *ev,
		      struct idg__outcome *out);

/*
 * Marks node a user id (simplified mode: any id without the "$device:"
 * prefix), so its cluster counts as having one.
 */
int idg__rules_mark_user(struct idg__batch *b, uint32_t node);

#endif
