/*
 * test_graph.c — the identity graph (engine/graph.c): live roots, sizes and
 * rings after unions, union by size, as-of finds over the stamped forest,
 * the log2(n) path bound, canonical-node history, and a randomized check of
 * find_at against a naive union-find rebuilt from the unions up to T.
 *
 * Graphs are built directly with idg__graph_add / _union / _set_canon at
 * chosen stamps; expected results are worked out by hand or by the naive
 * reference, never read back from the code under test.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "idgraph.h"
#include "ids.h"
#include "store.h"
#include "storefx.h"
#include "testutil.h"

TestSuite(graph, .init = fx_setup, .fini = fx_teardown);

/* Adds nodes 1..n, each a cluster of one created at stamp. */
static void
add_nodes(struct fx *f, uint32_t n, int64_t stamp)
{
	uint32_t i;

	for (i = 1; i <= n; i++)
		cr_assert_eq(idg__graph_add(f->t, i, stamp, &f->e), IDG_OK,
			     "%s", f->e.msg);
}

static struct idg__node
node(struct fx *f, uint32_t n)
{
	struct idg__node nd;

	cr_assert_eq(idg__graph_get(f->t, n, &nd, &f->e), IDG_OK, "%s",
		     f->e.msg);
	return nd;
}

static uint32_t
unite(struct fx *f, uint32_t a, uint32_t b, uint32_t canon, int64_t stamp)
{
	uint32_t r = 0;

	cr_assert_eq(idg__graph_union(f->t, a, b, canon, stamp, &r, &f->e),
		     IDG_OK, "%s", f->e.msg);
	return r;
}

static uint32_t
find_at(struct fx *f, uint32_t n, int64_t at)
{
	uint32_t r = 0;

	cr_assert_eq(idg__graph_find_at(f->t, n, at, &r, &f->e), IDG_OK, "%s",
		     f->e.msg);
	return r;
}

static uint32_t
canon_at(struct fx *f, uint32_t root, int64_t at)
{
	uint32_t c = 0;

	cr_assert_eq(idg__graph_canon_at(f->t, root, at, &c, &f->e), IDG_OK,
		     "%s", f->e.msg);
	return c;
}

/* Checks that r is a well-formed root of a live cluster of size nodes. */
static void
expect_root(struct fx *f, uint32_t r, uint32_t size)
{
	struct idg__node nd = node(f, r);

	cr_assert_eq(nd.parent, r, "root %u has parent %u", r, nd.parent);
	cr_assert_eq(nd.root, r, "root %u is labelled %u", r, nd.root);
	cr_assert_eq(nd.linked, IDG__UNLINKED, "root %u is linked", r);
	cr_assert_eq(nd.size, size, "root %u: size %u, want %u", r, nd.size,
		     size);
}

/* Ring collection: the members visited, in order. */
struct members {
	uint32_t v[2048];
	size_t n;
	size_t stop_after; /* 0: never stop */
};

static int
collect(void *ctx, uint32_t x)
{
	struct members *m = ctx;

	cr_assert_lt(m->n, sizeof(m->v) / sizeof(m->v[0]),
		     "ring does not close");
	m->v[m->n++] = x;
	if (m->stop_after && m->n == m->stop_after)
		return 42;
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The ring from n visits exactly want[0..k) (any order), n first. */
static void
expect_ring(struct fx *f, uint32_t n, const uint32_t *want, size_t k)
{
	struct members m = {.n = 0};
	uint32_t sorted[64];
	size_t i;

	cr_assert_leq(k, 64);
	cr_assert_eq(idg__graph_ring(f->t, n, collect, &m, &f->e), IDG_OK);
	cr_assert_eq(m.n, k, "ring of %u: %zu members, want %zu", n, m.n, k);
	cr_assert_eq(m.v[0], n);
	memcpy(sorted, want, k * sizeof(*want));
	qsort(sorted, k, sizeof(*sorted), cmp_u32);
	qsort(m.v, m.n, sizeof(*m.v), cmp_u32);
	for (i = 0; i < k; i++)
		cr_assert_eq(m.v[i], sorted[i],
			     "ring of %u: member %u, want %u", n, m.v[i],
			     sorted[i]);
}

Test(graph, add_makes_singleton)
{
	struct idg__node nd;

	cr_assert_eq(idg__graph_add(storefx.t, 7, 123, &storefx.e), IDG_OK);
	nd = node(&storefx, 7);
	cr_assert_eq(nd.parent, 7);
	cr_assert_eq(nd.root, 7);
	cr_assert_eq(nd.next, 7);
	cr_assert_eq(nd.size, 1);
	cr_assert_eq(nd.canon, 7);
	cr_assert_eq(nd.flags, 0);
	cr_assert_eq(nd.created, 123);
	cr_assert_eq(nd.linked, IDG__UNLINKED);
	expect_ring(&storefx, 7, (uint32_t[]){7}, 1);
	cr_assert_eq(find_at(&storefx, 7, INT64_MIN), 7);
	cr_assert_eq(find_at(&storefx, 7, INT64_MAX), 7);
	cr_assert_eq(canon_at(&storefx, 7, INT64_MAX), 7);
	/* A node never added is missing. */
	cr_assert_eq(idg__graph_get(storefx.t, 8, &nd, &storefx.e),
		     IDG_ECORRUPT);
}

/*
 * graph_add must store the node or fail: it must not report success for a
 * node it did not write. Nodes added below the highest node so far (LMDB
 * MDB_APPEND out of order) came back IDG_OK and unwritten, because
 * idg__store_put maps MDB_KEYEXIST to IDG_OK whatever the flags.
 */
Test(graph, add_out_of_order_stores_or_fails)
{
	struct idg__node nd;
	int rc;

	cr_assert_eq(idg__graph_add(storefx.t, 5, 0, &storefx.e), IDG_OK);
	rc = idg__graph_add(storefx.t, 3, 7, &storefx.e);
	if (rc == IDG_OK) {
		cr_assert_eq(idg__graph_get(storefx.t, 3, &nd, &storefx.e),
			     IDG_OK,
			     "graph_add(3) after 5 said IDG_OK but stored "
			     "nothing");
		cr_assert_eq(nd.created, 7);
		cr_assert_eq(nd.root, 3);
	}
}

/*
 * Adding a node that exists must fail or leave it alone: resetting it to a
 * cluster of one would break its cluster's ring, size and forest.
 */
Test(graph, add_existing_node_keeps_it_or_fails)
{
	struct idg__node nd;
	int rc;

	add_nodes(&storefx, 3, 0);
	cr_assert_eq(unite(&storefx, 1, 2, 1, 10), 1);
	rc = idg__graph_add(storefx.t, 2, 99, &storefx.e);
	if (rc == IDG_OK) {
		nd = node(&storefx, 2);
		cr_assert(nd.root == 1 && nd.parent == 1 && nd.linked == 10 &&
			      nd.created == 0,
			  "graph_add(2) said IDG_OK and reset node 2: root "
			  "%u parent %u linked %lld created %lld",
			  nd.root, nd.parent, (long long)nd.linked,
			  (long long)nd.created);
	}
	expect_root(&storefx, 1, 2);
	expect_ring(&storefx, 1, (uint32_t[]){1, 2}, 2);
	cr_assert_eq(find_at(&storefx, 2, 10), 1);
}

/* Ties keep the first argument's root; otherwise the larger root stays. */
Test(graph, union_by_size)
{
	uint32_t x;

	add_nodes(&storefx, 8, 0);
	cr_assert_eq(unite(&storefx, 1, 2, 1, 10), 1,
		     "tie: first argument's root");
	cr_assert_eq(unite(&storefx, 4, 3, 4, 11), 4,
		     "tie: first argument's root");
	/* {5} is smaller than {1,2}: 1 stays root though it is second. */
	cr_assert_eq(unite(&storefx, 5, 1, 1, 12), 1);
	/* {4,3} is smaller than {1,2,5}. */
	cr_assert_eq(unite(&storefx, 4, 1, 1, 13), 1);
	cr_assert_eq(unite(&storefx, 6, 7, 6, 14), 6);
	cr_assert_eq(unite(&storefx, 8, 6, 6, 15), 6);

	expect_root(&storefx, 1, 5);
	expect_root(&storefx, 6, 3);
	for (x = 1; x <= 5; x++)
		cr_assert_eq(node(&storefx, x).root, 1, "node %u", x);
	for (x = 6; x <= 8; x++)
		cr_assert_eq(node(&storefx, x).root, 6, "node %u", x);
	/* Forest links and their stamps. */
	cr_assert_eq(node(&storefx, 2).parent, 1);
	cr_assert_eq(node(&storefx, 2).linked, 10);
	cr_assert_eq(node(&storefx, 3).parent, 4);
	cr_assert_eq(node(&storefx, 3).linked, 11);
	cr_assert_eq(node(&storefx, 5).parent, 1);
	cr_assert_eq(node(&storefx, 5).linked, 12);
	cr_assert_eq(node(&storefx, 4).parent, 1);
	cr_assert_eq(node(&storefx, 4).linked, 13);
	cr_assert_eq(node(&storefx, 8).parent, 6);
	cr_assert_eq(node(&storefx, 8).linked, 15);

	/* 5 + 3: {1..5} absorbs {6,7,8} whichever argument it is. */
	cr_assert_eq(unite(&storefx, 6, 1, 1, 16), 1);
	expect_root(&storefx, 1, 8);
	for (x = 1; x <= 8; x++)
		cr_assert_eq(node(&storefx, x).root, 1, "node %u", x);
	cr_assert_eq(node(&storefx, 6).parent, 1);
	cr_assert_eq(node(&storefx, 6).linked, 16);
	/* Sizes of former roots are not read again, but their links are. */
	cr_assert_eq(node(&storefx, 4).linked, 13);
}

Test(graph, ring_visits_members)
{
	uint32_t all[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	struct members m = {.n = 0, .stop_after = 3};
	uint32_t x;

	add_nodes(&storefx, 10, 0);
	expect_ring(&storefx, 3, (uint32_t[]){3}, 1);
	unite(&storefx, 1, 2, 1, 1);
	unite(&storefx, 3, 4, 3, 2);
	unite(&storefx, 5, 6, 5, 3);
	expect_ring(&storefx, 2, (uint32_t[]){1, 2}, 2);
	expect_ring(&storefx, 4, (uint32_t[]){3, 4}, 2);
	unite(&storefx, 1, 3, 1, 4);
	for (x = 1; x <= 4; x++)
		expect_ring(&storefx, x, (uint32_t[]){1, 2, 3, 4}, 4);
	expect_ring(&storefx, 6, (uint32_t[]){5, 6}, 2);
	expect_ring(&storefx, 7, (uint32_t[]){7}, 1);
	unite(&storefx, 7, 5, 5, 5);
	unite(&storefx, 8, 9, 8, 6);
	unite(&storefx, 8, 10, 8, 7);
	unite(&storefx, 5, 8, 8, 8);
	unite(&storefx, 1, 8, 8, 9);
	for (x = 1; x <= 10; x++)
		expect_ring(&storefx, x, all, 10);

	/* A callback's non-zero result stops the walk and is returned. */
	cr_assert_eq(idg__graph_ring(storefx.t, 4, collect, &m, &storefx.e),
		     42);
	cr_assert_eq(m.n, 3);
	cr_assert_eq(m.v[0], 4);
}

/*
 * Forest of depth 2:   1 <-(10)- 2,   3 <-(20)- 4,   1 <-(30)- 3.
 * A link stamped s is followed by find_at(x, T) iff s <= T.
 */
Test(graph, find_at_follows_stamps)
{
	static const struct {
		uint32_t x;
		int64_t at;
		uint32_t want;
	} cases[] = {
	    {1, INT64_MIN, 1}, {1, 9, 1},	  {1, 30, 1},
	    {1, INT64_MAX, 1}, {2, INT64_MIN, 2}, {2, 9, 2},
	    {2, 10, 1},	       {2, 11, 1},	  {2, 30, 1},
	    {3, 19, 3},	       {3, 20, 3},	  {3, 29, 3},
	    {3, 30, 1},	       {3, 31, 1},	  {3, INT64_MAX, 1},
	    {4, 19, 4},	       {4, 20, 3},	  {4, 21, 3},
	    {4, 29, 3},	       {4, 30, 1},	  {4, INT64_MAX, 1},
	    {5, INT64_MIN, 5}, {5, 30, 5},	  {5, INT64_MAX, 5},
	};
	size_t i;

	add_nodes(&storefx, 5, 0);
	cr_assert_eq(unite(&storefx, 1, 2, 1, 10), 1);
	cr_assert_eq(unite(&storefx, 3, 4, 3, 20), 3);
	cr_assert_eq(unite(&storefx, 1, 3, 1, 30), 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_assert_eq(find_at(&storefx, cases[i].x, cases[i].at),
			     cases[i].want, "find_at(%u, %lld)", cases[i].x,
			     (long long)cases[i].at);
}

/* Negative stamps and unions sharing one stamp. */
Test(graph, find_at_negative_and_equal_stamps)
{

	add_nodes(&storefx, 4, -100);
	unite(&storefx, 1, 2, 1, -50);
	unite(&storefx, 3, 4, 3, -50);
	unite(&storefx, 1, 3, 1, -50);
	cr_assert_eq(find_at(&storefx, 4, -51), 4);
	cr_assert_eq(find_at(&storefx, 2, -51), 2);
	cr_assert_eq(find_at(&storefx, 4, -50), 1);
	cr_assert_eq(find_at(&storefx, 2, -50), 1);
	cr_assert_eq(find_at(&storefx, 4, 0), 1);
}

/* A small deterministic generator (xorshift64*), the same on every host. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static uint32_t
rnd_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rnd(s) % n);
}

/*
 * Union by size without path compression: a node at depth d lies in a tree
 * of at least 2^d nodes, so every path is at most log2(n) links.
 */
Test(graph, path_length_bounded)
{
	enum { N = 1024 };
	uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
	struct idg__node nd;
	uint32_t x, y, ra, rb, r, depth, maxdepth = 0;
	int64_t stamp = 0;
	unsigned unions = 0, i;

	add_nodes(&storefx, N, 0);
	for (i = 0; i < 8 * N && unions < N - 1; i++) {
		x = 1 + rnd_below(&seed, N);
		y = 1 + rnd_below(&seed, N);
		ra = node(&storefx, x).root;
		rb = node(&storefx, y).root;
		if (ra == rb)
			continue;
		r = unite(&storefx, ra, rb, ra, ++stamp);
		cr_assert(r == ra || r == rb);
		unions++;
	}
	cr_assert_eq(unions, N - 1, "the random unions left %u clusters",
		     N - unions);
	expect_root(&storefx, node(&storefx, 1).root, N);
	for (x = 1; x <= N; x++) {
		depth = 0;
		y = x;
		for (nd = node(&storefx, y); nd.parent != y;
		     nd = node(&storefx, y)) {
			cr_assert_leq(nd.linked, stamp, "node %u", y);
			y = nd.parent;
			depth++;
			cr_assert_leq(depth, 10, "path from %u is too long", x);
		}
		cr_assert_eq(y, node(&storefx, x).root, "node %u", x);
		cr_assert_eq(find_at(&storefx, x, INT64_MAX), y);
		if (depth > maxdepth)
			maxdepth = depth;
	}
	/* log2(1024) = 10. */
	cr_assert_leq(maxdepth, 10);
	cr_assert_geq(maxdepth, 2, "the random unions made no real tree");
}

/* Per-subtree form of the bound, checked after each of many unions. */
Test(graph, depth_within_log2_of_cluster_size)
{
	enum { N = 256 };
	uint64_t seed = 12345;
	uint32_t x, y, ra, rb, d, size;
	int64_t stamp = 0;
	unsigned i;

	add_nodes(&storefx, N, 0);
	for (i = 0; i < 400; i++) {
		ra = node(&storefx, 1 + rnd_below(&seed, N)).root;
		rb = node(&storefx, 1 + rnd_below(&seed, N)).root;
		if (ra != rb)
			unite(&storefx, ra, rb, rb, ++stamp);
	}
	for (x = 1; x <= N; x++) {
		d = 0;
		for (y = x; node(&storefx, y).parent != y;
		     y = node(&storefx, y).parent)
			d++;
		size = node(&storefx, y).size;
		cr_assert_leq((uint64_t)1 << d, size,
			      "node %u at depth %u in a cluster of %u", x, d,
			      size);
	}
}

/* Sizes agree with the rings after random unions. */
Test(graph, sizes_match_rings)
{
	enum { N = 200 };
	uint64_t seed = 777;
	struct members m;
	uint32_t x, r, ra, rb, total = 0;
	int64_t stamp = 0;
	unsigned i;
	size_t k;

	add_nodes(&storefx, N, 0);
	for (i = 0; i < 150; i++) {
		ra = node(&storefx, 1 + rnd_below(&seed, N)).root;
		rb = node(&storefx, 1 + rnd_below(&seed, N)).root;
		if (ra != rb)
			unite(&storefx, ra, rb, ra, ++stamp);
	}
	for (x = 1; x <= N; x++) {
		r = node(&storefx, x).root;
		m.n = 0;
		m.stop_after = 0;
		cr_assert_eq(
		    idg__graph_ring(storefx.t, x, collect, &m, &storefx.e),
		    IDG_OK);
		cr_assert_eq(m.n, node(&storefx, r).size, "ring of %u", x);
		for (k = 0; k < m.n; k++)
			cr_assert_eq(node(&storefx, m.v[k]).root, r,
				     "ring of %u holds %u of another cluster",
				     x, m.v[k]);
		if (r == x) {
			expect_root(&storefx, x, (uint32_t)m.n);
			total += (uint32_t)m.n;
		}
	}
	cr_assert_eq(total, N, "clusters do not partition the nodes");
}

Test(graph, canon_history)
{

	add_nodes(&storefx, 9, 0);
	cr_assert_eq(canon_at(&storefx, 1, INT64_MIN), 1);
	cr_assert_eq(canon_at(&storefx, 1, INT64_MAX), 1);
	cr_assert_eq(idg__graph_set_canon(storefx.t, 1, 5, 100, &storefx.e),
		     IDG_OK);
	cr_assert_eq(idg__graph_set_canon(storefx.t, 1, 7, 200, &storefx.e),
		     IDG_OK);
	cr_assert_eq(node(&storefx, 1).canon, 7);
	cr_assert_eq(canon_at(&storefx, 1, INT64_MIN), 1);
	cr_assert_eq(canon_at(&storefx, 1, 99), 1);
	cr_assert_eq(canon_at(&storefx, 1, 100), 5);
	cr_assert_eq(canon_at(&storefx, 1, 150), 5);
	cr_assert_eq(canon_at(&storefx, 1, 199), 5);
	cr_assert_eq(canon_at(&storefx, 1, 200), 7);
	cr_assert_eq(canon_at(&storefx, 1, 201), 7);
	cr_assert_eq(canon_at(&storefx, 1, INT64_MAX), 7);

	/* Other roots' histories, before and after 1's, do not leak in. */
	cr_assert_eq(idg__graph_set_canon(storefx.t, 2, 9, 50, &storefx.e),
		     IDG_OK);
	cr_assert_eq(canon_at(&storefx, 1, 60), 1);
	cr_assert_eq(canon_at(&storefx, 1, INT64_MAX), 7);
	cr_assert_eq(canon_at(&storefx, 2, 49), 2);
	cr_assert_eq(canon_at(&storefx, 2, 50), 9);
	cr_assert_eq(canon_at(&storefx, 2, INT64_MAX), 9);
	cr_assert_eq(canon_at(&storefx, 3, 150), 3, "3 has no history");
	cr_assert_eq(canon_at(&storefx, 9, INT64_MAX), 9, "9 has no history");
	cr_assert_eq(canon_at(&storefx, 0, INT64_MAX), 0);

	/* Setting the canon it already has changes nothing. */
	cr_assert_eq(idg__graph_set_canon(storefx.t, 1, 7, 300, &storefx.e),
		     IDG_OK);
	cr_assert_eq(canon_at(&storefx, 1, 250), 7);
	/* Back to itself: the history says so from then on. */
	cr_assert_eq(idg__graph_set_canon(storefx.t, 1, 1, 400, &storefx.e),
		     IDG_OK);
	cr_assert_eq(node(&storefx, 1).canon, 1);
	cr_assert_eq(canon_at(&storefx, 1, 399), 7);
	cr_assert_eq(canon_at(&storefx, 1, 400), 1);
}

/*
 * Stamps on both sides of zero order as numbers, not as bytes. Real stamps
 * are below INT64_MAX (IDG_NOW and IDG__UNLINKED are INT64_MAX), so the
 * latest one tried is INT64_MAX - 1, which a query at INT64_MAX must see.
 */
Test(graph, canon_negative_stamps)
{

	add_nodes(&storefx, 4, INT64_MIN);
	cr_assert_eq(idg__graph_set_canon(storefx.t, 1, 2, -5, &storefx.e),
		     IDG_OK);
	cr_assert_eq(idg__graph_set_canon(storefx.t, 1, 3, 5, &storefx.e),
		     IDG_OK);
	cr_assert_eq(
	    idg__graph_set_canon(storefx.t, 1, 4, INT64_MAX - 1, &storefx.e),
	    IDG_OK);
	cr_assert_eq(canon_at(&storefx, 1, INT64_MIN), 1);
	cr_assert_eq(canon_at(&storefx, 1, -6), 1);
	cr_assert_eq(canon_at(&storefx, 1, -5), 2);
	cr_assert_eq(canon_at(&storefx, 1, -1), 2);
	cr_assert_eq(canon_at(&storefx, 1, 0), 2);
	cr_assert_eq(canon_at(&storefx, 1, 4), 2);
	cr_assert_eq(canon_at(&storefx, 1, 5), 3);
	cr_assert_eq(canon_at(&storefx, 1, INT64_MAX - 2), 3);
	cr_assert_eq(canon_at(&storefx, 1, INT64_MAX - 1), 4);
	cr_assert_eq(canon_at(&storefx, 1, INT64_MAX), 4);
}

Test(graph, canon_after_union)
{

	add_nodes(&storefx, 6, 0);
	/* The canon given to a union is the root's from its stamp on. */
	cr_assert_eq(unite(&storefx, 1, 2, 2, 10), 1);
	cr_assert_eq(node(&storefx, 1).canon, 2);
	cr_assert_eq(canon_at(&storefx, 1, 9), 1);
	cr_assert_eq(canon_at(&storefx, 1, 10), 2);
	/* The root that stays need not be the first argument. */
	cr_assert_eq(unite(&storefx, 3, 1, 3, 20), 1);
	cr_assert_eq(node(&storefx, 1).canon, 3);
	cr_assert_eq(canon_at(&storefx, 1, 19), 2);
	cr_assert_eq(canon_at(&storefx, 1, 20), 3);
	/* Keeping the same canon through a union. */
	cr_assert_eq(unite(&storefx, 1, 4, 3, 30), 1);
	cr_assert_eq(node(&storefx, 1).canon, 3);
	cr_assert_eq(canon_at(&storefx, 1, 30), 3);
	/* The absorbed root keeps its own history up to its link. */
	cr_assert_eq(idg__graph_set_canon(storefx.t, 5, 6, 35, &storefx.e),
		     IDG_OK);
	cr_assert_eq(unite(&storefx, 1, 5, 5, 40), 1);
	cr_assert_eq(canon_at(&storefx, 5, 39), 6);
	cr_assert_eq(canon_at(&storefx, 1, 39), 3);
	cr_assert_eq(canon_at(&storefx, 1, 40), 5);
	cr_assert_eq(canon_at(&storefx, find_at(&storefx, 5, 39), 39), 6);
	cr_assert_eq(canon_at(&storefx, find_at(&storefx, 5, 40), 40), 5);
}

/* The naive reference: a plain array union-find, rebuilt per query. */
static uint32_t
ref_find(uint32_t *p, uint32_t x)
{
	while (p[x] != x)
		x = p[x];
	return x;
}

struct op {
	uint32_t x, y;
	int64_t stamp;
};

/*
 * Random unions at non-decreasing stamps (often equal), then for random T
 * (and every stamp used, and its neighbours) the partition given by
 * find_at(x, T) equals the one of the unions stamped <= T.
 */
Test(graph, find_at_matches_reference)
{
	enum { N = 300, UNIONS = 250, QUERIES = 300 };
	static struct op ops[UNIONS];
	static uint32_t ref[N + 1], got[N + 1], map[N + 1], back[N + 1];
	uint64_t seed = UINT64_C(0xdecafbad);
	uint32_t x, y, ra, rb, rr, rg;
	int64_t stamp = 1000, at;
	size_t nops = 0, q, i;

	add_nodes(&storefx, N, 0);
	while (nops < UNIONS) {
		x = 1 + rnd_below(&seed, N);
		y = 1 + rnd_below(&seed, N);
		ra = node(&storefx, x).root;
		rb = node(&storefx, y).root;
		stamp += rnd_below(&seed, 3); /* 0: same stamp as before */
		if (ra != rb)
			unite(&storefx, ra, rb, x, stamp);
		/* Unions within a cluster are kept: the reference ignores
		 * them too. */
		ops[nops++] = (struct op){x, y, stamp};
	}
	for (q = 0; q < QUERIES + 3 * UNIONS; q++) {
		if (q < QUERIES)
			at = 998 +
			     (int64_t)rnd_below(&seed, (uint32_t)(stamp - 995));
		else
			at = ops[(q - QUERIES) / 3].stamp - 1 +
			     (int64_t)((q - QUERIES) % 3);
		for (x = 0; x <= N; x++)
			ref[x] = x;
		for (i = 0; i < nops && ops[i].stamp <= at; i++) {
			ra = ref_find(ref, ops[i].x);
			rb = ref_find(ref, ops[i].y);
			ref[ra] = rb;
		}
		for (x = 1; x <= N; x++)
			got[x] = find_at(&storefx, x, at);
		/* Same partition: the root maps are bijective. */
		memset(map, 0, sizeof(map));
		memset(back, 0, sizeof(back));
		for (x = 1; x <= N; x++) {
			rr = ref_find(ref, x);
			rg = got[x];
			cr_assert(rg >= 1 && rg <= N);
			if (!map[rr])
				map[rr] = rg;
			if (!back[rg])
				back[rg] = rr;
			cr_assert_eq(map[rr], rg,
				     "T=%lld: node %u split from its "
				     "reference cluster",
				     (long long)at, x);
			cr_assert_eq(back[rg], rr,
				     "T=%lld: node %u merged into another "
				     "cluster",
				     (long long)at, x);
			/* find_at returns a node of the cluster itself. */
			cr_assert_eq(ref_find(ref, rg), rr, "T=%lld",
				     (long long)at);
		}
	}
	/* At the end of time the forest agrees with the live map. */
	for (x = 1; x <= N; x++)
		cr_assert_eq(find_at(&storefx, x, INT64_MAX),
			     node(&storefx, x).root);
}

/* ---- the node cache ---- */

/* Commits S's transaction (with c attached: its commit is noted) and
 * begins the next, attaching c when given. */
static void
next_txn(struct fx *f, struct idg__nodecache *committed_with,
	 struct idg__nodecache *attach)
{
	uint64_t id = idg__store_txn_id(f->t);

	cr_assert_eq(idg__store_commit(f->t, &f->e), IDG_OK, "%s", f->e.msg);
	if (committed_with)
		idg__nodecache_committed(committed_with, id);
	cr_assert_eq(idg__store_begin(f->s, 1, &f->t, &f->e), IDG_OK);
	if (attach)
		cr_assert_eq(idg__nodecache_attach(attach, f->t), IDG_OK);
}

Test(graph, the_node_cache_follows_commits_it_did_not_make_and_aborts)
{
	struct fx *f = &storefx;
	struct idg__nodecache *c = idg__nodecache_new();
	struct idg__node nd;

	cr_assert_not_null(c);
	cr_assert_eq(idg__nodecache_attach(c, f->t), IDG_OK);
	add_nodes(f, 2, 100);
	cr_assert_eq(node(f, 1).size, 1);
	next_txn(f, c, NULL);

	/* A write without the cache (another handle's, say): 1 and 2
	 * united. */
	cr_assert_eq(unite(f, 1, 2, 1, 200), 1);
	next_txn(f, NULL, c);
	nd = node(f, 1);
	cr_assert_eq(nd.size, 2, "not the cached record of before the union");
	cr_assert_eq(node(f, 2).root, 1);

	/* A write with the cache that aborts: its records are forgotten. */
	nd.size = 99;
	cr_assert_eq(idg__graph_put(f->t, 1, &nd, &f->e), IDG_OK);
	cr_assert_eq(node(f, 1).size, 99);
	idg__store_abort(f->t);
	idg__nodecache_clear(c);
	cr_assert_eq(idg__store_begin(f->s, 1, &f->t, &f->e), IDG_OK);
	cr_assert_eq(idg__nodecache_attach(c, f->t), IDG_OK);
	cr_assert_eq(node(f, 1).size, 2);

	/* Read-only transactions never use it. */
	nd.size = 7;
	cr_assert_eq(idg__graph_put(f->t, 1, &nd, &f->e), IDG_OK);
	next_txn(f, c, c);
	{
		struct idg__txn *r;
		struct idg__node got;

		cr_assert_eq(idg__store_begin(f->s, 0, &r, &f->e), IDG_OK);
		cr_assert_null(idg__store_wcache(r));
		cr_assert_eq(idg__graph_get(r, 1, &got, &f->e), IDG_OK);
		cr_assert_eq(got.size, 7);
		idg__store_abort(r);
	}
	cr_assert_eq(node(f, 1).size, 7);
	idg__nodecache_free(c);
}

/* ---- a corrupt node seen by the queries ---- */

static int
count_mapping(void *user, const char *id, size_t il, const char *res,
	      size_t rl)
{
	(void)id;
	(void)il;
	(void)res;
	(void)rl;
	++*(int *)user;
	return 0;
}

/*
 * A node whose root is no node: the identity mappings and the reports
 * say the database is corrupt (the mappings once indexed their tables by
 * it and read far out of bounds; found by the second fuzzing run).
 */
Test(graph, a_root_that_is_no_node_is_corruption)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_report_opts ro = IDG_REPORT_OPTS_INIT;
	struct idg_uniques u;
	struct idg__store *s;
	struct idg__txn *t;
	struct idg__node nd;
	idg_db *db;
	int n = 0;

	o.flags = IDG_OPEN_CREATE;
	o.durability = IDG_NOSYNC;
	cr_assert_eq(idg_open(&db, dir, &o), 0);
	tu_ingestf(db, "{\"event\":\"$create_alias\",\"properties\":{"
		       "\"distinct_id\":\"u1\",\"alias\":\"a1\","
		       "\"time\":1700000000}}\n"
		       "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
		       "\"a1\",\"time\":1700000001}}\n");
	cr_assert_eq(idg_mappings_foreach(db, IDG_NOW, IDG_VIEW_LIVE,
					  count_mapping, &n),
		     0);
	cr_assert_eq(n, 2);
	idg_close(db);

	cr_assert_eq(idg__store_open(&s, dir, 0, &storefx.e), IDG_OK);
	cr_assert_eq(idg__store_begin(s, 1, &t, &storefx.e), IDG_OK);
	cr_assert_eq(idg__graph_get(t, 1, &nd, &storefx.e), IDG_OK);
	nd.root = 4000000000u;
	cr_assert_eq(idg__graph_put(t, 1, &nd, &storefx.e), IDG_OK);
	cr_assert_eq(idg__store_commit(t, &storefx.e), IDG_OK);
	idg__store_close(s);

	o.flags = 0;
	cr_assert_eq(idg_open(&db, dir, &o), 0);
	cr_assert_eq(idg_mappings_foreach(db, IDG_NOW, IDG_VIEW_LIVE,
					  count_mapping, &n),
		     IDG_ECORRUPT, "%s", idg_errmsg(db));
	cr_assert(strstr(idg_errmsg(db), "corrupt"), "%s", idg_errmsg(db));
	ro.view = IDG_VIEW_LIVE;
	cr_assert_eq(idg_report_uniques(db, &ro, &u, NULL, NULL),
		     IDG_ECORRUPT, "%s", idg_errmsg(db));
	idg_close(db);
	tu_rmdir(dir);
}
