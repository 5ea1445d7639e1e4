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

#endif
