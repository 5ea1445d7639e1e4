/* view.h — queries as of a stamp, in the live or the reported view. */
#ifndef IDG_VIEW_H
#define IDG_VIEW_H

#include <stdint.h>

#include "db.h"

/* The stamps a query as of at in view works with. */
struct idg__asof {
	int64_t at;  /* nodes created after this do not exist yet */
	int64_t eff; /* merges stamped after this are not applied */
	int live;    /* eff is at or after the current stamp */
};

/* at may be IDG_NOW; view is enum idg_view. */
struct idg__asof idg__asof_make(const struct idg_db *db,
				const struct idg__state *st, int64_t at,
				int view);

/* Root and canonical node (canon may be NULL) of node's cluster as of a. */
int idg__asof_root(struct idg__txn *t, uint32_t node,
		   const struct idg__asof *a, uint32_t *root, uint32_t *canon,
		   struct idg__err *e);

/*
 * The members of node's live cluster, as node numbers in the order first
 * seen: *out is malloc'd (free it), *n its length.
 */
int idg__members_live(struct idg__txn *t, uint32_t node, uint32_t **out,
		      size_t *n, struct idg__err *e);

#endif
