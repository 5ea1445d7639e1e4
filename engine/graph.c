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

#include <stdlib.h>
#include <string.h>

/* Slots of the node cache: node n lives in slot n % NC_SLOTS (0: empty,
 * node numbers start at 1). 2^18 slots of 48 bytes, 12 MiB. */
#define NC_SLOTS ((uint32_t)1 << 18)

struct nc_slot {
	uint32_t n;
	struct idg__node nd;
};

struct idg__nodecache {
	struct nc_slot *slots; /* allocated on first attach */
	uint64_t txn;          /* the snapshot its records are of */
	int used;              /* slots may hold records */
};

struct idg__nodecache *
idg__nodecache_new(void)
{
	return calloc(1, sizeof(struct idg__nodecache));
}

void
idg__nodecache_free(struct idg__nodecache *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c);
}

void
idg__nodecache_clear(struct idg__nodecache *c)
{
	if (c->used)
		memset(c->slots, 0, NC_SLOTS * sizeof(*c->slots));
	c->used = 0;
	c->txn = 0;
}

int
idg__nodecache_attach(struct idg__nodecache *c, struct idg__txn *t)
{
	uint64_t id = idg__store_txn_id(t);

	if (!c->slots && !(c->slots = calloc(NC_SLOTS, sizeof(*c->slots))))
		return IDG_ENOMEM;
	/* t sees the last commit's snapshot: is it the cache's? */
	if (c->txn + 1 != id)
		idg__nodecache_clear(c);
	c->txn = id - 1;
	c->used = 1;
	idg__store_set_wcache(t, c);
	return IDG_OK;
}

void
idg__nodecache_committed(struct idg__nodecache *c, uint64_t txn_id)
{
	c->txn = txn_id;
}

static struct nc_slot *
nc_slot(struct idg__txn *t, uint32_t n)
{
	struct idg__nodecache *c = idg__store_wcache(t);

	return c ? &c->slots[n % NC_SLOTS] : NULL;
}

static void
nc_put(struct idg__txn *t, uint32_t n, const struct idg__node *nd)
{
	struct nc_slot *s = nc_slot(t, n);

	if (s) {
		s->n = n;
		s->nd = *nd;
	}
}

int
idg__graph_get(struct idg__txn *t, uint32_t n, struct idg__node *out,
	       struct idg__err *e)
{
	struct nc_slot *s = nc_slot(t, n);
	struct idg__val v;
	int rc;

	if (s && s->n == n && n) {
		*out = s->nd;
		return IDG_OK;
	}
	rc = idg__store_get(t, IDG__T_NODES, &n, sizeof(n), &v, e);
	if (rc == IDG_ENOTFOUND || (rc == IDG_OK && v.n != sizeof(*out)))
		return idg__err_set(e, IDG_ECORRUPT, "node %u is missing", n);
	if (rc == IDG_OK) {
		memcpy(out, v.p, sizeof(*out));
		if (s) {
			s->n = n;
			s->nd = *out;
		}
	}
	return rc;
}

int
idg__graph_put(struct idg__txn *t, uint32_t n, const struct idg__node *nd,
	       struct idg__err *e)
{
	int rc = idg__store_put(t, IDG__T_NODES, &n, sizeof(n), nd,
				sizeof(*nd), 0, e);

	if (rc == IDG_OK)
		nc_put(t, n, nd);
	return rc;
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

	int rc = idg__store_put(t, IDG__T_NODES, &n, sizeof(n), &nd,
				sizeof(nd), IDG__PUT_APPEND, e);

	if (rc == IDG_OK)
		nc_put(t, n, &nd);
	return rc;
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
