/*
 * view.c — what "as of stamp T, in a view" means for a query.
 *
 * The live view at T applies every merge stamped <= T, the reported view
 * every merge stamped <= T - merge_delay. A query whose effective stamp is
 * at or after the database's current stamp reads the live map; any other
 * walks the stamped forest.
 */
#include "view.h"

#include "graph.h"

struct idg__asof
idg__asof_make(const struct idg_db *db, const struct idg__state *st, int64_t at,
	       int view)
{
	struct idg__asof a;

	a.at = at == IDG_NOW ? st->stamp : at;
	a.eff = a.at;
	if (view == IDG_VIEW_REPORTED)
		a.eff = a.at < INT64_MIN + db->set.merge_delay_ms
			    ? INT64_MIN
			    : a.at - db->set.merge_delay_ms;
	a.live = a.eff >= st->stamp;
	return a;
}

/* Root and canonical node of node's cluster as of a. */
int
idg__asof_root(struct idg__txn *t, uint32_t node, const struct idg__asof *a,
	       uint32_t *root, uint32_t *canon, struct idg__err *e)
{
	struct idg__node nd;
	int rc;

	if (a->live) {
		rc = idg__graph_get(t, node, &nd, e);
		if (rc == IDG_OK)
			rc = idg__graph_get(t, nd.root, &nd, e);
		*root = nd.root;
		if (canon)
			*canon = nd.canon;
		return rc;
	}
	rc = idg__graph_find_at(t, node, a->eff, root, e);
	if (rc == IDG_OK && canon)
		rc = idg__graph_canon_at(t, *root, a->eff, canon, e);
	return rc;
}
