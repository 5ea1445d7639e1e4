/*
 * rules_simplified.c — Simplified ID Merge, SPEC §2.2.
 *
 * Every id without the "$device:" prefix is a user id, and its cluster
 * "has a user" (the root's IDG__N_HAS_IDENTIFIED flag). A cluster holds at
 * most one user: devices link into a user's cluster, users never merge.
 * The canonical id is always the user id, and a device's own profile is
 * hidden when it links (the user's profile, if any, stays active).
 */
#include "rules.h"

#include <string.h>

#include "graph.h"
#include "profile.h"

int
idg__rules_mark_user(struct idg__batch *b, uint32_t node)
{
	struct idg__node nd;
	int rc = idg__graph_get(b->txn, node, &nd, b->err);

	if (rc || (nd.flags & IDG__N_IDENTIFIED))
		return rc;
	/* A new user id is a cluster of one: it is its own root. */
	nd.flags |= IDG__N_IDENTIFIED | IDG__N_HAS_IDENTIFIED;
	return idg__graph_put(b->txn, node, &nd, b->err);
}

static int
root_of(struct idg__batch *b, uint32_t n, uint32_t *root,
	struct idg__node *r)
{
	struct idg__node nd;
	int rc = idg__graph_get(b->txn, n, &nd, b->err);

	*root = nd.root;
	return rc ? rc : idg__graph_get(b->txn, nd.root, r, b->err);
}

int
idg__rules_simplified(struct idg__batch *b, const struct idg__ident *ev,
		      struct idg__outcome *out)
{
	struct idg__node user, dev;
	uint32_t ur, dr, root;
	int rc;

	out->outcome = IDG_OUTCOME_NOOP;
	out->reason = IDG_REASON_NONE;
	out->desc[0] = '\0';
	rc = root_of(b, ev->nodes[0], &ur, &user);
	if (rc == IDG_OK)
		rc = root_of(b, ev->nodes[1], &dr, &dev);
	if (rc)
		return rc;
	out->canon = user.canon;
	if (ur == dr)
		return IDG_OK;
	if (dev.flags & IDG__N_HAS_IDENTIFIED) {
		out->outcome = IDG_OUTCOME_REFUSED;
		out->reason = IDG_REASON_ANON_ASSIGNED;
		return IDG_OK;
	}
	out->outcome = IDG_OUTCOME_MERGED;
	rc = idg__graph_union(b->txn, ur, dr, user.canon, ev->stamp, &root,
			      b->err);
	if (rc == IDG_OK)
		rc = idg__profile_merged(b, root, user.profile, dev.profile, 1);
	return rc;
}
