/* log.h — the identity log ("Live View"): every identity event. */
#ifndef IDG_LOG_H
#define IDG_LOG_H

#include <stdint.h>

#include "db.h"

/* Identity event kinds. */
enum idg__ident_kind {
	IDG__IDENTIFY,
	IDG__ALIAS,
	IDG__MERGE,
	IDG__LINK, /* simplified mode: a device linked to a user */
};

/* The event names of the kinds: "$identify", "$create_alias", "$merge". */
const char *idg__ident_name(int kind);

struct idg__log_rec {
	int64_t stamp;
	int kind;         /* enum idg__ident_kind */
	uint32_t ids[2];  /* identified+anon, target+alias, or the two ids */
	const char *insert_id; /* may be NULL */
	size_t insert_len;
	int outcome;      /* enum idg_outcome */
	int reason;       /* enum idg_reason */
	const char *desc; /* failure description, may be NULL */
	size_t desc_len;
	uint32_t canon;   /* canonical node afterwards */
};

/* Appends r to the log as entry st.log_seq + 1. */
int idg__log_append(struct idg__batch *b, const struct idg__log_rec *r);

/*
 * Counts the merges (outcome merged) stamped in (after, upto], among the
 * log's first `entries` entries, by binary search on the stamp order.
 */
int idg__log_count_merges(struct idg__txn *t, uint64_t entries, int64_t after,
			  int64_t upto, uint64_t *out, struct idg__err *e);

/* Decodes a stored entry; strings point into data. */
int idg__log_decode(const void *data, size_t len, struct idg__log_rec *out);

#endif
