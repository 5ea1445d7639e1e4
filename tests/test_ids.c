/*
 * test_ids.c — distinct_id interning (engine/ids.c): one node per exact byte
 * string, numbered from *next, names kept byte for byte, persistence across
 * transactions, and hash collisions chained rather than merged.
 *
 * Every test must pass in the default build and in the collision build
 * (-Dhash_bits=4), where only 16 hash keys exist and every lookup walks a
 * chain; the collision test checks the chains themselves.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "idg_config.h"
#include "ids.h"
#include "store.h"
#include "storefx.h"
#include "testutil.h"

TestSuite(ids, .init = fx_setup, .fini = fx_teardown);

/* Interns name[0..len) and returns its node; *created is checked. */
static uint32_t
intern(struct fx *f, const char *name, size_t len, uint32_t *next,
       int want_created)
{
	uint32_t node = 0;
	int created = -1;

	cr_assert_eq(
	    idg__ids_intern(f->t, name, len, next, &node, &created, &f->e),
	    IDG_OK, "%s", f->e.msg);
	cr_assert_eq(created, want_created, "id [%.*s]: created %d, want %d",
		     (int)len, name, created, want_created);
	return node;
}

static uint32_t
find(struct fx *f, const char *name, size_t len)
{
	uint32_t node = 0;

	cr_assert_eq(idg__ids_find(f->t, name, len, &node, &f->e), IDG_OK,
		     "id [%.*s]: %s", (int)len, name, f->e.msg);
	return node;
}

static void
expect_name(struct fx *f, uint32_t node, const char *name, size_t len)
{
	struct idg__val v;

	cr_assert_eq(idg__ids_name(f->t, node, &v, &f->e), IDG_OK, "%s",
		     f->e.msg);
	cr_assert(v.n == len && memcmp(v.p, name, len) == 0,
		  "node %u: name (%zu bytes) [%.*s], want (%zu) [%.*s]", node,
		  v.n, (int)v.n, (const char *)v.p, len, (int)len, name);
}

static void
expect_absent(struct fx *f, const char *name, size_t len)
{
	uint32_t node = 0;

	cr_assert_eq(idg__ids_find(f->t, name, len, &node, &f->e),
		     IDG_ENOTFOUND, "id [%.*s] should be unknown", (int)len,
		     name);
}

static size_t
count(struct fx *f, int table)
{
	size_t n = 0;

	cr_assert_eq(idg__store_count(f->t, table, &n, &f->e), IDG_OK, "%s",
		     f->e.msg);
	return n;
}

#define LIT(s) (s), (sizeof(s) - 1)

Test(ids, same_bytes_same_node)
{
	uint32_t next = 1, a, b;

	a = intern(&storefx, LIT("alice"), &next, 1);
	cr_assert_eq(a, 1);
	cr_assert_eq(next, 2);
	b = intern(&storefx, LIT("alice"), &next, 0);
	cr_assert_eq(b, a);
	cr_assert_eq(next, 2, "a found id must not consume a number");
	cr_assert_eq(find(&storefx, LIT("alice")), a);
	cr_assert_eq(count(&storefx, IDG__T_NAMES), 1);
	cr_assert_eq(count(&storefx, IDG__T_IDS), 1);
}

Test(ids, numbers_follow_next)
{
	uint32_t next = 1;

	cr_assert_eq(intern(&storefx, LIT("a"), &next, 1), 1);
	cr_assert_eq(intern(&storefx, LIT("b"), &next, 1), 2);
	cr_assert_eq(intern(&storefx, LIT("a"), &next, 0), 1);
	cr_assert_eq(intern(&storefx, LIT("c"), &next, 1), 3);
	cr_assert_eq(next, 4);
	/* The number comes from *next, whatever it is. */
	next = 1000;
	cr_assert_eq(intern(&storefx, LIT("d"), &next, 1), 1000);
	cr_assert_eq(next, 1001);
	cr_assert_eq(find(&storefx, LIT("d")), 1000);
	expect_name(&storefx, 1000, LIT("d"));
}

Test(ids, next_at_max_is_full)
{
	uint32_t next = UINT32_MAX, node = 0;
	int created = -1;

	cr_assert_eq(idg__ids_intern(storefx.t, LIT("x"), &next, &node,
				     &created, &storefx.e),
		     IDG_EFULL);
	cr_assert_eq(created, 0);
	cr_assert_eq(next, UINT32_MAX);
	expect_absent(&storefx, LIT("x"));
}

/*
 * intern must make the node it reports, or fail, and leave other ids alone,
 * also when *next is not above every node so far (a caller's mistake, but
 * one that must not corrupt the tables silently). Case 1: *next below the
 * highest node (an unused number); case 2: *next equal to a used number.
 */
Test(ids, intern_below_highest_node_stores_or_fails)
{
	static const uint32_t nexts[] = {2, 10};
	uint32_t next = 10, node = 0;
	struct idg__val v;
	size_t i;
	int created = -1, rc;

	cr_assert_eq(intern(&storefx, LIT("a"), &next, 1), 10);
	for (i = 0; i < 2; i++) {
		next = nexts[i];
		rc = idg__ids_intern(storefx.t, i ? "c" : "b", 1, &next, &node,
				     &created, &storefx.e);
		if (rc != IDG_OK)
			continue;
		cr_assert_eq(created, 1);
		cr_assert_eq(idg__ids_name(storefx.t, node, &v, &storefx.e),
			     IDG_OK, "intern said node %u but it has no name",
			     node);
		cr_assert(v.n == 1 && *(const char *)v.p == (i ? 'c' : 'b'),
			  "node %u is named [%.*s]", node, (int)v.n,
			  (const char *)v.p);
		cr_assert_eq(find(&storefx, i ? "c" : "b", 1), node);
	}
	/* Whatever happened, "a" is still node 10 and named "a". */
	cr_assert_eq(find(&storefx, LIT("a")), 10);
	expect_name(&storefx, 10, LIT("a"));
}

/* Ids that differ in one byte, in case, in length or in NULs. */
Test(ids, near_ids_are_distinct)
{
	static const struct {
		const char *p;
		size_t n;
	} ids[] = {
	    {LIT("alice")},	{LIT("Alice")},	  {LIT("ALICE")},
	    {LIT("alice ")},	{LIT(" alice")},  {LIT("alic")},
	    {LIT("alice\n")},	{LIT("ali\0ce")}, {LIT("ali\0cf")},
	    {LIT("alice\0")},	{LIT("\0alice")}, {LIT("\0")},
	    {LIT("\0\0")},	{LIT("a")},	  {LIT("\xc3\xa9")},
	    {LIT("\xc3\xa9 ")}, {LIT("0")},	  {LIT("00")},
	};
	size_t n = sizeof(ids) / sizeof(ids[0]), i;
	uint32_t next = 1;

	for (i = 0; i < n; i++)
		cr_assert_eq(intern(&storefx, ids[i].p, ids[i].n, &next, 1),
			     i + 1);
	for (i = 0; i < n; i++) {
		cr_assert_eq(intern(&storefx, ids[i].p, ids[i].n, &next, 0),
			     i + 1);
		cr_assert_eq(find(&storefx, ids[i].p, ids[i].n), i + 1);
		expect_name(&storefx, (uint32_t)(i + 1), ids[i].p, ids[i].n);
	}
	cr_assert_eq(next, n + 1);
	expect_absent(&storefx, LIT("alice  "));
	expect_absent(&storefx, LIT("ali\0cg"));
	expect_absent(&storefx, LIT("\0\0\0"));
	expect_absent(&storefx, LIT("ali"));
}

/* 10 KB ids that differ only in the first, a middle or the last byte. */
Test(ids, long_ids)
{
	enum { LEN = 10 * 1024 };
	static const size_t where[] = {0, LEN / 2, LEN - 1};
	static char base[LEN + 1], v[LEN + 1];
	uint32_t next = 1, b;
	size_t i;

	for (i = 0; i < LEN + 1; i++)
		base[i] = (char)('a' + i % 26);
	b = intern(&storefx, base, LEN, &next, 1);
	for (i = 0; i < 3; i++) {
		memcpy(v, base, LEN);
		v[where[i]] = '#';
		cr_assert_eq(intern(&storefx, v, LEN, &next, 1), b + 1 + i);
	}
	/* One byte longer and one byte shorter are other ids too. */
	cr_assert_eq(intern(&storefx, base, LEN + 1, &next, 1), b + 4);
	cr_assert_eq(intern(&storefx, base, LEN - 1, &next, 1), b + 5);

	cr_assert_eq(find(&storefx, base, LEN), b);
	expect_name(&storefx, b, base, LEN);
	for (i = 0; i < 3; i++) {
		memcpy(v, base, LEN);
		v[where[i]] = '#';
		cr_assert_eq(find(&storefx, v, LEN), b + 1 + i);
		expect_name(&storefx, b + 1 + (uint32_t)i, v, LEN);
	}
	expect_name(&storefx, b + 4, base, LEN + 1);
	expect_name(&storefx, b + 5, base, LEN - 1);
	memcpy(v, base, LEN);
	v[LEN - 1] = '$';
	expect_absent(&storefx, v, LEN);
}

/*
 * 40 ids of 10 KB that share all but their last two bytes. In the collision
 * build 40 ids over 16 keys must share chains, so names are compared to the
 * very end, not by a prefix.
 */
Test(ids, long_ids_differ_at_the_end)
{
	enum { LEN = 10 * 1024, N = 40 };
	static char v[LEN];
	uint32_t next = 1;
	unsigned i;

	memset(v, 'x', LEN);
	for (i = 0; i < N; i++) {
		v[LEN - 2] = (char)('a' + i / 8);
		v[LEN - 1] = (char)('0' + i % 8);
		cr_assert_eq(intern(&storefx, v, LEN, &next, 1), i + 1);
	}
	for (i = 0; i < N; i++) {
		v[LEN - 2] = (char)('a' + i / 8);
		v[LEN - 1] = (char)('0' + i % 8);
		cr_assert_eq(intern(&storefx, v, LEN, &next, 0), i + 1);
		cr_assert_eq(find(&storefx, v, LEN), i + 1);
		expect_name(&storefx, i + 1, v, LEN);
	}
	v[LEN - 1] = '9';
	expect_absent(&storefx, v, LEN);
	cr_assert_eq(next, N + 1);
}

Test(ids, unknown_is_not_found)
{
	uint32_t next = 1, node = 77;
	struct idg__val v;

	expect_absent(&storefx, LIT("nobody"));
	intern(&storefx, LIT("somebody"), &next, 1);
	expect_absent(&storefx, LIT("nobody"));
	expect_absent(&storefx, LIT("somebod"));
	expect_absent(&storefx, LIT("somebody!"));
	/* Looking up does not intern. */
	cr_assert_eq(idg__ids_find(storefx.t, LIT("nobody"), &node, &storefx.e),
		     IDG_ENOTFOUND);
	cr_assert_eq(count(&storefx, IDG__T_NAMES), 1);
	cr_assert_eq(next, 2);
	/* A node without a name is corruption, not "not found". */
	cr_assert_eq(idg__ids_name(storefx.t, 2, &v, &storefx.e), IDG_ECORRUPT);
	cr_assert_eq(idg__ids_name(storefx.t, 0, &v, &storefx.e), IDG_ECORRUPT);
}

Test(ids, persists_across_commit)
{
	uint32_t next = 1, node = 0;
	struct idg__val v;
	int created = -1;

	intern(&storefx, LIT("kept-1"), &next, 1);
	intern(&storefx, LIT("kept\0-2"), &next, 1);
	cr_assert_eq(idg__store_commit(storefx.t, &storefx.e), IDG_OK, "%s",
		     storefx.e.msg);
	storefx.t = NULL;

	/* Writes of an aborted transaction are gone. */
	cr_assert_eq(idg__store_begin(storefx.s, 1, &storefx.t, &storefx.e),
		     IDG_OK);
	intern(&storefx, LIT("dropped"), &next, 1);
	cr_assert_eq(find(&storefx, LIT("dropped")), 3);
	idg__store_abort(storefx.t);
	storefx.t = NULL;

	/* Reopen the environment: the committed ids are on disk. */
	idg__store_close(storefx.s);
	cr_assert_eq(idg__store_open(&storefx.s, storefx.dir, 0, &storefx.e),
		     IDG_OK, "%s", storefx.e.msg);
	cr_assert_eq(idg__store_begin(storefx.s, 0, &storefx.t, &storefx.e),
		     IDG_OK);
	cr_assert_eq(find(&storefx, LIT("kept-1")), 1);
	cr_assert_eq(find(&storefx, LIT("kept\0-2")), 2);
	expect_name(&storefx, 1, LIT("kept-1"));
	expect_name(&storefx, 2, LIT("kept\0-2"));
	expect_absent(&storefx, LIT("dropped"));
	cr_assert_eq(idg__ids_name(storefx.t, 3, &v, &storefx.e), IDG_ECORRUPT);
	idg__store_abort(storefx.t);
	storefx.t = NULL;

	/* A new write transaction finds the old ids and numbers on. */
	next = 3;
	cr_assert_eq(idg__store_begin(storefx.s, 1, &storefx.t, &storefx.e),
		     IDG_OK);
	cr_assert_eq(idg__ids_intern(storefx.t, LIT("kept-1"), &next, &node,
				     &created, &storefx.e),
		     IDG_OK);
	cr_assert_eq(node, 1);
	cr_assert_eq(created, 0);
	cr_assert_eq(intern(&storefx, LIT("dropped"), &next, 1), 3);
	cr_assert_eq(next, 4);
}

/* The i-th id of the bulk test: several shapes so that lengths vary. */
static size_t
bulk_id(char *buf, size_t cap, unsigned i)
{
	switch (i % 4) {
	case 0:
		return (size_t)snprintf(buf, cap, "user-%u", i);
	case 1:
		return (size_t)snprintf(buf, cap, "%08x@example.com", i);
	case 2:
		return (size_t)snprintf(buf, cap, "device:%u:%u", i * 7919u, i);
	default:
		return (size_t)snprintf(buf, cap, "%u", i);
	}
}

Test(ids, bulk_20000)
{
	enum { N = 20000 };
	uint32_t next = 1;
	char buf[64];
	unsigned i;
	size_t n;

	for (i = 0; i < N; i++) {
		n = bulk_id(buf, sizeof(buf), i);
		cr_assert_eq(intern(&storefx, buf, n, &next, 1), i + 1);
	}
	cr_assert_eq(next, N + 1);
	cr_assert_eq(count(&storefx, IDG__T_NAMES), N);
	cr_assert_eq(count(&storefx, IDG__T_IDS), N);
	cr_assert_eq(idg__store_commit(storefx.t, &storefx.e), IDG_OK, "%s",
		     storefx.e.msg);
	cr_assert_eq(idg__store_begin(storefx.s, 0, &storefx.t, &storefx.e),
		     IDG_OK);
	for (i = 0; i < N; i++) {
		n = bulk_id(buf, sizeof(buf), i);
		cr_assert_eq(find(&storefx, buf, n), i + 1);
		expect_name(&storefx, i + 1, buf, n);
	}
	/* Neighbours of the ids interned are unknown. */
	for (i = N; i < N + 200; i++) {
		n = bulk_id(buf, sizeof(buf), i);
		expect_absent(&storefx, buf, n);
	}
}

/*
 * Hash collisions chain. With hash_bits=4 there are only 16 keys, so 100 ids
 * must share them; each id still gets its own node and is found back. The
 * ids table is walked key by key: its entries (duplicates included) are the
 * 100 nodes, each exactly once, and it holds at most 2^bits distinct keys.
 */
Test(ids, collisions_chain)
{
	enum { N = 100 };
	unsigned char seen[N + 1] = {0};
	size_t keys = 0, entries = 0, chain = 0, longest = 0, n;
	struct idg__val k, v, prev = {NULL, 0};
	struct idg__cursor *c;
	uint32_t next = 1, node;
	char buf[32];
	unsigned i;
	int rc, op;

	for (i = 0; i < N; i++) {
		n = (size_t)snprintf(buf, sizeof(buf), "c%u", i);
		cr_assert_eq(intern(&storefx, buf, n, &next, 1), i + 1);
	}
	for (i = 0; i < N; i++) {
		n = (size_t)snprintf(buf, sizeof(buf), "c%u", i);
		cr_assert_eq(intern(&storefx, buf, n, &next, 0), i + 1);
		cr_assert_eq(find(&storefx, buf, n), i + 1);
		expect_name(&storefx, i + 1, buf, n);
	}
	/* Unknown ids land on the same chains and must not match. */
	for (i = N; i < 10 * N; i++) {
		n = (size_t)snprintf(buf, sizeof(buf), "c%u", i);
		expect_absent(&storefx, buf, n);
	}
	cr_assert_eq(count(&storefx, IDG__T_IDS), N);

	cr_assert_eq(idg__cursor_open(storefx.t, IDG__T_IDS, &c, &storefx.e),
		     IDG_OK);
	for (op = IDG__FIRST;
	     (rc = idg__cursor_get(c, op, &k, &v, &storefx.e)) == IDG_OK;
	     op = IDG__NEXT) {
		cr_assert_eq(v.n, sizeof(node));
		memcpy(&node, v.p, sizeof(node));
		cr_assert(node >= 1 && node <= N, "node %u in ids", node);
		cr_assert_eq(seen[node], 0, "node %u listed twice", node);
		seen[node] = 1;
		entries++;
		if (prev.p && k.n == prev.n && memcmp(k.p, prev.p, k.n) == 0) {
			chain++;
		} else {
			keys++;
			chain = 1;
		}
		if (chain > longest)
			longest = chain;
		prev = k;
	}
	cr_assert_eq(rc, IDG_ENOTFOUND);
	idg__cursor_close(c);
	cr_assert_eq(entries, N);
	cr_assert_leq(keys, N);
#if IDG_HASH_BITS <= 8
	cr_assert_leq(keys, (size_t)1 << IDG_HASH_BITS,
		      "%zu distinct keys from %d-bit hashes", keys,
		      IDG_HASH_BITS);
	/* Pigeonhole: some key holds at least ceil(N / 2^bits) nodes. */
	cr_assert_geq(longest * ((size_t)1 << IDG_HASH_BITS), N,
		      "longest chain %zu", longest);
#elif IDG_HASH_BITS >= 64
	/* 100 ids under a wide hash: a collision would be astonishing. */
	cr_assert_eq(keys, N);
	cr_assert_eq(longest, 1);
#endif
}
