/*
 * rules_legacy.c — Legacy ID management, SPEC §2.3.
 *
 * Only $create_alias has meaning: the alias joins its target's cluster,
 * whose canonical id is the end of the alias chain. An alias maps to one
 * id only, and an alias whose target already resolves to it would close
 * a cycle. Attribution is not retroactive: the ingest stores each event
 * under the canonical id its distinct_id had at that moment.
 */
#include "rules.h"

#include <stdio.h>

#include "graph.h"
#include "profile.h"

int
idg__rules_legacy(struct idg__batch *b, const struct idg__ident *ev,
		  struct idg__outcome *out)
{
	const struct idg__str *alias = &ev->names[1];
	struct idg__node an, at, ar, tr;
	uint32_t root;
	int rc;

	out->outcome = IDG_OUTCOME_NOOP;
	out->reason = IDG_REASON_NONE;
	out->desc[0] = '\0';
	rc = idg__graph_get(b->txn, ev->nodes[1], &an, b->err);
	if (rc == IDG_OK)
		rc = idg__graph_get(b->txn, ev->nodes[0], &at, b->err);
	if (rc == IDG_OK)
		rc = idg__graph_get(b->txn, an.root, &ar, b->err);
	if (rc == IDG_OK)
		rc = idg__graph_get(b->txn, at.root, &tr, b->err);
	if (rc)
		return rc;
	out->canon = tr.canon;
	if (an.flags & IDG__N_ALIAS_USED) {
		out->outcome = IDG_OUTCOME_REFUSED;
		out->reason = IDG_REASON_ALIAS_EXISTS;
		snprintf(out->desc, sizeof(out->desc),
			 "alias %.*s already exists",
			 (int)(alias->n > 128 ? 128 : alias->n), alias->p);
		return IDG_OK;
	}
	if (an.root == at.root) {
		out->outcome = IDG_OUTCOME_REFUSED;
		out->reason = IDG_REASON_ALIAS_CYCLE;
		snprintf(out->desc, sizeof(out->desc),
			 "alias %.*s: its target already resolves to it",
			 (int)(alias->n > 128 ? 128 : alias->n), alias->p);
		return IDG_OK;
	}
	out->outcome = IDG_OUTCOME_MERGED;
	rc = idg__graph_union(b->txn, at.root, an.root, tr.canon, ev->stamp,
			      &root, b->err);
	if (rc == IDG_OK)
		rc = idg__profile_merged(b, root, tr.profile, ar.profile, 0);
	if (rc == IDG_OK) {
		/* Re-read: the union relabelled the alias's node. */
		rc = idg__graph_get(b->txn, ev->nodes[1], &an, b->err);
		if (rc == IDG_OK) {
			an.flags |= IDG__N_ALIAS_USED;
			rc = idg__graph_put(b->txn, ev->nodes[1], &an, b->err);
		}
	}
	return rc;
}
