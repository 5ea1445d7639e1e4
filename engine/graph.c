/*
 * graph.c — the identity graph: a live map and a stamped union-find forest.
 *
 * Every node belongs to exactly one live cluster. Two structures describe
 * the clusters, and a union updates both:
 *
 *   - The live map: each node's `root` names its live cluster, so the live
 *     view costs one read. The members of a live cluster form a ring through
 *     `next`, so a union relabels the smaller side and splices the rings.
 *   - The forest: each node's `parent` and `linked` stamp. A union links the
 *     smaller root under the larger (union by size), stamps the link, and is
 *     never undone; there is no path compression. So the forest as of any
 *     stamp T is the forest restricted to links stamped <= T, and find(x, T)
 *     walks up while the next link is stamped <= T. Link stamps never
 *     decrease along a path (a root is linked only after every link below
 *     it), and union by size bounds a path by log2(n) links.
 *
 * Invariants: for a root r, r.parent == r, r.linked == IDG__UNLINKED,
 * r.size is its live cluster's node count and r.canon its canonical node;
 * for every node x, x.root is the root reached by the live find. The
 * canonical node of a root as of T is the last entry of the canon table
 * for (r, stamp <= T), or r itself when it has none.
 */
#include "graph.h"

#include <string.h>

int
idg__graph_get(struct idg__txn *t, uint32_t n, struct idg__node *out,
	       struct idg__err *e)
{
	struct idg__val v;
	int rc = idg__store_get(t, IDG__T_NODES, &n, sizeof(n), &v, e);

	if (rc == IDG_ENOTFOUND || (rc == IDG_OK && v.n != sizeof(*out)))
		return idg__err_set(e, IDG_ECORRUPT, "node %u is missing", n);
	if (rc == IDG_OK)
		memcpy(out, v.p, sizeof(*out));
	return rc;
}

int
idg__graph_put(struct idg__txn *t, uint32_t n, const struct idg__node *nd,
	       struct idg__err *e)
{
	return idg__store_put(t, IDG__T_NODES, &n, sizeof(n), nd, sizeof(*nd),
			      0, e);
}

int
idg__graph_add(struct idg__txn *t, uint32_t n, int64_t stamp,
	       struct idg__err *e)
{
	struct idg__node nd = {
	    .parent = n,
	    .root = n,
	    .next = n,
	    .size = 1,
	    .canon = n,
	    .flags = 0,
	    .profile = 0,
	    .spare = 0,
	    .created = stamp,
	    .linked = IDG__UNLINKED,
	};

	return idg__store_put(t, IDG__T_NODES, &n, sizeof(n), &nd, sizeof(nd),
			      IDG__PUT_APPEND, e);
}

int
idg__graph_find_at(struct idg__txn *t, uint32_t n, int64_t at, uint32_t *out,
		   struct idg__err *e)
{
	struct idg__node nd;
	int rc;

	for (;;) {
		rc = idg__graph_get(t, n, &nd, e);
		if (rc)
			return rc;
		if (nd.linked > at || nd.parent == n)
			break;
		n = nd.parent;
	}
	*out = n;
	return IDG_OK;
}

/* Canon table key: root and stamp, big-endian so keys sort by both. */
static void
canon_key(unsigned char key[12], uint32_t root, int64_t stamp)
{
	uint64_t s = (uint64_t)stamp ^ (UINT64_C(1) << 63);
	int i;

	for (i = 0; i < 4; i++)
		key[i] = (unsigned char)(root >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		key[4 + i] = (unsigned char)(s >> (56 - 8 * i));
}

int
idg__graph_canon_at(struct idg__txn *t, uint32_t root, int64_t at,
		    uint32_t *out, struct idg__err *e)
{
	unsigned char key[12], want[4];
	struct idg__cursor *c;
	struct idg__val k, v;
	int rc;

	*out = root;
	if (at == INT64_MAX)
		at = INT64_MAX - 1;
	canon_key(key, root, at + 1);
	memcpy(want, key, 4);
	rc = idg__cursor_open(t, IDG__T_CANON, &c, e);
	if (rc)
		return rc;
	k.p = key;
	k.n = sizeof(key);
	rc = idg__cursor_get(c, IDG__SET_RANGE, &k, &v, e);
	if (rc == IDG_OK)
		rc = idg__cursor_get(c, IDG__PREV, &k, &v, e);
	else if (rc == IDG_ENOTFOUND)
		rc = idg__cursor_get(c, IDG__LAST, &k, &v, e);
	if (rc == IDG_OK && k.n == sizeof(key) && memcmp(k.p, want, 4) == 0)
		memcpy(out, v.p, sizeof(*out));
	idg__cursor_close(c);
	return rc == IDG_ENOTFOUND ? IDG_OK : rc;
}

int
idg__graph_set_canon(struct idg__txn *t, uint32_t root, uint32_t canon,
		     int64_t stamp, struct idg__err *e)
{
	unsigned char key[12];
	struct idg__node r;
	int rc;

	rc = idg__graph_get(t, root, &r, e);
	if (rc || r.canon == canon)
		return rc;
	r.canon = canon;
	rc = idg__graph_put(t, root, &r, e);
	if (rc)
		return rc;
	canon_key(key, root, stamp);
	return idg__store_put(t, IDG__T_CANON, key, sizeof(key), &canon,
			      sizeof(canon), 0, e);
}

int
idg__graph_ring(struct idg__txn *t, uint32_t n, idg__member_fn cb, void *ctx,
		struct idg__err *e)
{
	struct idg__node nd;
	uint32_t x = n;
	int rc;

	do {
		rc = idg__graph_get(t, x, &nd, e);
		if (rc)
			return rc;
		rc = cb(ctx, x);
		if (rc)
			return rc;
		x = nd.next;
	} while (x != n);
	return IDG_OK;
}

struct relabel {
	struct idg__txn *t;
	struct idg__err *e;
	uint32_t root;
};

static int
relabel_one(void *ctx, uint32_t x)
{
	struct relabel *rl = ctx;
	struct idg__node nd;
	int rc = idg__graph_get(rl->t, x, &nd, rl->e);

	if (rc)
		return rc;
	nd.root = rl->root;
	return idg__graph_put(rl->t, x, &nd, rl->e);
}

int
idg__graph_union(struct idg__txn *t, uint32_t a, uint32_t b, uint32_t canon,
		 int64_t stamp, uint32_t *out, struct idg__err *e)
{
	struct idg__node big, small;
	struct relabel rl = {t, e, 0};
	uint32_t bi = a, si = b, tmp;
	int rc;

	rc = idg__graph_get(t, a, &big, e);
	if (rc == IDG_OK)
		rc = idg__graph_get(t, b, &small, e);
	if (rc)
		return rc;
	if (small.size > big.size) {
		struct idg__node x = big;

		big = small;
		small = x;
		bi = b;
		si = a;
	}
	/* Relabel the smaller side first: its ring is still its own. */
	rl.root = bi;
	rc = idg__graph_ring(t, si, relabel_one, &rl, e);
	if (rc)
		return rc;
	rc = idg__graph_get(t, si, &small, e);
	if (rc)
		return rc;
	small.parent = bi;
	small.linked = stamp;
	small.profile = 0; /* only roots name a profile */
	tmp = big.next;
	big.next = small.next;
	small.next = tmp;
	big.size += small.size;
	big.flags |= small.flags & IDG__N_HAS_IDENTIFIED;
	rc = idg__graph_put(t, si, &small, e);
	if (rc == IDG_OK)
		rc = idg__graph_put(t, bi, &big, e);
	if (rc == IDG_OK)
		rc = idg__graph_set_canon(t, bi, canon, stamp, e);
	if (rc == IDG_OK)
		*out = bi;
	return rc;
}

int
idg__graph_set_profile(struct idg__txn *t, uint32_t root, uint32_t profile,
		       struct idg__err *e)
{
	struct idg__node r;
	int rc = idg__graph_get(t, root, &r, e);

	if (rc || r.profile == profile)
		return rc;
	r.profile = profile;
	return idg__graph_put(t, root, &r, e);
}
