/*
 * rules_original.c — Original ID Merge, SPEC §2.1.
 *
 * Each identity event runs its checks in the order the spec gives; the
 * first failing check refuses the event and changes nothing in the graph.
 * The canonical rule is deterministic: a cluster that holds an identified
 * user id always has such an id as its canonical id.
 */
#include "rules.h"

#include <stdio.h>
#include <string.h>

#include "graph.h"
#include "log.h"
#include "profile.h"

/* The live root and cluster of a node, read once per check. */
struct side {
	uint32_t root;
	struct idg__node r;
};

static int
load_side(struct idg__batch *b, uint32_t n, struct side *s)
{
	struct idg__node nd;
	int rc = idg__graph_get(b->txn, n, &nd, b->err);

	if (rc == IDG_OK) {
		s->root = nd.root;
		rc = idg__graph_get(b->txn, nd.root, &s->r, b->err);
	}
	return rc;
}

static int
refuse(struct idg__outcome *out, int reason, const char *fmt,
       const struct idg__str *a, const struct idg__str *c)
{
	out->outcome = IDG_OUTCOME_REFUSED;
	out->reason = reason;
	snprintf(out->desc, sizeof(out->desc), fmt,
		 (int)(a->n > 128 ? 128 : a->n), a->p,
		 (int)(c && c->n > 128 ? 128 : c ? c->n : 0), c ? c->p : "");
	return IDG_OK;
}

static int
is_identified(struct idg__batch *b, uint32_t n, int *out)
{
	struct idg__node nd;
	int rc = idg__graph_get(b->txn, n, &nd, b->err);

	*out = rc == IDG_OK && (nd.flags & IDG__N_IDENTIFIED);
	return rc;
}

/* errManyIDs if the union of two clusters would exceed the cap. */
static int
over_cap(struct idg__batch *b, const struct side *w, const struct side *o,
	 struct idg__outcome *out)
{
	uint64_t size = (uint64_t)w->r.size + o->r.size;
	uint32_t cap = b->db->set.cluster_cap;

	if (cap == 0 || size <= cap)
		return 0;
	out->outcome = IDG_OUTCOME_REFUSED;
	out->reason = IDG_REASON_MANY_IDS;
	snprintf(out->desc, sizeof(out->desc),
		 "too many distinctIDs mapped together, Cluster size: %llu "
		 "Max limit: %u",
		 (unsigned long long)size, cap);
	return 1;
}

/*
 * Unites the winner's and the other side's clusters. The union keeps the
 * winner's canonical id, unless only the other side's is identified.
 */
static int
merge(struct idg__batch *b, const struct side *w, const struct side *o,
      int64_t stamp, struct idg__outcome *out)
{
	uint32_t canon = w->r.canon, root;
	int wid, oid, rc;

	rc = is_identified(b, w->r.canon, &wid);
	if (rc == IDG_OK)
		rc = is_identified(b, o->r.canon, &oid);
	if (rc)
		return rc;
	if (!wid && oid)
		canon = o->r.canon;
	out->outcome = IDG_OUTCOME_MERGED;
	rc = idg__graph_union(b->txn, w->root, o->root, canon, stamp, &root,
			      b->err);
	/* The side that keeps its canonical id keeps its profile. */
	if (rc == IDG_OK && canon == w->r.canon)
		rc = idg__profile_merged(b, root, w->r.profile, o->r.profile,
					 0);
	else if (rc == IDG_OK)
		rc = idg__profile_merged(b, root, o->r.profile, w->r.profile,
					 0);
	return rc;
}

static int
set_flag(struct idg__batch *b, uint32_t n, uint32_t flag)
{
	struct idg__node nd;
	int rc = idg__graph_get(b->txn, n, &nd, b->err);

	if (rc || (nd.flags & flag))
		return rc;
	nd.flags |= flag;
	return idg__graph_put(b->txn, n, &nd, b->err);
}

/*
 * After a successful $identify: the identified id is marked, its cluster
 * knows it holds one, and becomes its canonical id unless the canonical id
 * is already identified.
 */
static int
after_identify(struct idg__batch *b, uint32_t ident, int64_t stamp)
{
	struct side s;
	int canon_identified, rc;

	rc = set_flag(b, ident, IDG__N_IDENTIFIED);
	if (rc == IDG_OK)
		rc = load_side(b, ident, &s);
	if (rc == IDG_OK)
		rc = set_flag(b, s.root, IDG__N_HAS_IDENTIFIED);
	if (rc == IDG_OK)
		rc = is_identified(b, s.r.canon, &canon_identified);
	if (rc == IDG_OK && !canon_identified)
		rc = idg__graph_set_canon(b->txn, s.root, ident, stamp, b->err);
	return rc;
}

static int
identify(struct idg__batch *b, const struct idg__ident *ev,
	 struct idg__outcome *out)
{
	const struct idg__str *idn = &ev->names[0], *anon = &ev->names[1];
	struct side si, sa;
	int rc;

	if (ev->nodes[0] == ev->nodes[1])
		return refuse(out, IDG_REASON_SAME_IDS,
			      "$anon_distinct_id and distinct_id are the same: "
			      "%.*s%.*s",
			      anon, NULL);
	if (!idg__id_is_uuid(anon->p, anon->n))
		return refuse(out, IDG_REASON_ANON_NON_GUID,
			      "$anon_distinct_id didn't match expected GUID "
			      "pattern: %.*s%.*s",
			      anon, NULL);
	rc = load_side(b, ev->nodes[0], &si);
	if (rc == IDG_OK)
		rc = load_side(b, ev->nodes[1], &sa);
	if (rc)
		return rc;
	if (si.root == sa.root) {
		out->outcome = IDG_OUTCOME_NOOP;
	} else if (sa.r.flags & IDG__N_HAS_IDENTIFIED) {
		return refuse(out, IDG_REASON_ANON_ASSIGNED,
			      "$anon_distinct_id %.*s is already merged with "
			      "another identified id; not merging it into "
			      "%.*s",
			      anon, idn);
	} else if (over_cap(b, &si, &sa, out)) {
		return IDG_OK;
	} else if ((rc = merge(b, &si, &sa, ev->stamp, out)) != IDG_OK) {
		return rc;
	}
	return after_identify(b, ev->nodes[0], ev->stamp);
}

/* 1 if node n was the alias of a successful $create_alias. */
static int
alias_used(struct idg__batch *b, uint32_t n, int *rc)
{
	struct idg__node nd;

	*rc = idg__graph_get(b->txn, n, &nd, b->err);
	return *rc == IDG_OK && (nd.flags & IDG__N_ALIAS_USED);
}

static int
create_alias(struct idg__batch *b, const struct idg__ident *ev,
	     struct idg__outcome *out)
{
	const struct idg__str *alias = &ev->names[1];
	struct side st, sa;
	int rc;

	if (ev->nodes[0] == ev->nodes[1])
		return refuse(out, IDG_REASON_SAME_IDS,
			      "alias and distinct_id are the same: %.*s%.*s",
			      alias, NULL);
	rc = load_side(b, ev->nodes[0], &st);
	if (rc == IDG_OK)
		rc = load_side(b, ev->nodes[1], &sa);
	if (rc)
		return rc;
	if (alias_used(b, ev->nodes[1], &rc))
		return refuse(out, IDG_REASON_ALIAS_EXISTS,
			      "alias %.*s already exists%.*s", alias, NULL);
	if (rc)
		return rc;
	if (st.root == sa.root)
		out->outcome = IDG_OUTCOME_NOOP;
	else if (over_cap(b, &st, &sa, out))
		return IDG_OK;
	else if ((rc = merge(b, &st, &sa, ev->stamp, out)) != IDG_OK)
		return rc;
	return set_flag(b, ev->nodes[1], IDG__N_ALIAS_USED);
}

static int
merge_ids(struct idg__batch *b, const struct idg__ident *ev,
	  struct idg__outcome *out)
{
	struct side s0, s1;
	int rc;

	rc = load_side(b, ev->nodes[0], &s0);
	if (rc == IDG_OK)
		rc = load_side(b, ev->nodes[1], &s1);
	if (rc)
		return rc;
	if (s0.root == s1.root) {
		out->outcome = IDG_OUTCOME_NOOP;
		return IDG_OK;
	}
	if (over_cap(b, &s0, &s1, out))
		return IDG_OK;
	return merge(b, &s0, &s1, ev->stamp, out);
}

int
idg__rules_original(struct idg__batch *b, const struct idg__ident *ev,
		    struct idg__outcome *out)
{
	struct side s;
	int rc;

	out->outcome = IDG_OUTCOME_NOOP;
	out->reason = IDG_REASON_NONE;
	out->desc[0] = '\0';
	switch (ev->kind) {
	case IDG__IDENTIFY:
		rc = identify(b, ev, out);
		break;
	case IDG__ALIAS:
		rc = create_alias(b, ev, out);
		break;
	default:
		rc = merge_ids(b, ev, out);
	}
	if (rc == IDG_OK)
		rc = load_side(b, ev->nodes[0], &s);
	if (rc == IDG_OK)
		out->canon = s.r.canon;
	return rc;
}
