/*
 * test_original.c — Original ID Merge (SPEC §2.1 and the original rows of
 * §2.4) through the public API only.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idgraph.h"
#include "testutil.h"

#define T0 INT64_C(1700000000000) /* ms: 2023-11-14T22:13:20Z */
#define MIN INT64_C(60000)

/* Anonymous ids must have UUID shape in original mode. */
#define D1 "6f1c3b1e-0000-4a1b-9c1d-000000000001"
#define D2 "6f1c3b1e-0000-4a1b-9c1d-000000000002"
#define D3 "6f1c3b1e-0000-4a1b-9c1d-000000000003"

static idg_db *db;
static char *dir;
static char lines[1 << 20];
static size_t nlines;

static void
open_db(void)
{
	struct idg_options o = IDG_OPTIONS_INIT;

	dir = tu_tmpdir();
	o.flags = IDG_OPEN_CREATE;
	cr_assert_eq(idg_open(&db, dir, &o), 0);
	nlines = 0;
}

static void
close_db(void)
{
	idg_close(db);
	tu_rmdir(dir);
}

TestSuite(original, .init = open_db, .fini = close_db);

static void
add(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(lines + nlines, sizeof(lines) - nlines, fmt, ap);
	va_end(ap);
	cr_assert(n > 0 && (size_t)n < sizeof(lines) - nlines - 1);
	nlines += (size_t)n;
	lines[nlines++] = '\n';
	lines[nlines] = '\0';
}

static void
event(const char *id, int64_t t)
{
	add("{\"event\":\"page\",\"properties\":{\"distinct_id\":\"%s\","
	    "\"time\":%lld}}",
	    id, (long long)t);
}

/* $identify as the JavaScript SDK sends it. */
static void
identify(const char *user, const char *anon, int64_t t)
{
	add("{\"event\":\"$identify\",\"properties\":{\"distinct_id\":\"%s\","
	    "\"$anon_distinct_id\":\"%s\",\"time\":%lld}}",
	    user, anon, (long long)t);
}

static void
alias(const char *alias_id, const char *target, int64_t t)
{
	add("{\"event\":\"$create_alias\",\"properties\":{\"distinct_id\":"
	    "\"%s\",\"alias\":\"%s\",\"time\":%lld}}",
	    target, alias_id, (long long)t);
}

static void
merge(const char *a, const char *b, int64_t t)
{
	add("{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":[\"%s\","
	    "\"%s\"],\"time\":%lld}}",
	    a, b, (long long)t);
}

/* Ingests the lines added so far; none may be rejected. */
static struct idg_ingest_stats
flush(void)
{
	struct idg_ingest_stats st;
	int rc = idg_ingest_buffer(db, lines, nlines, NULL, &st);

	cr_assert_eq(rc, 0, "ingest: %s", idg_errmsg(db));
	cr_assert_eq(st.rejected, 0);
	nlines = 0;
	return st;
}

static char canon_buf[256];

static const char *
canon_at(const char *id, int64_t at, int view)
{
	struct idg_resolution r;
	int rc = idg_resolve(db, id, strlen(id), at, view, &r);

	cr_assert_eq(rc, 0, "resolve %s: %s", id, idg_errmsg(db));
	snprintf(canon_buf, sizeof(canon_buf), "%s", r.canonical);
	return canon_buf;
}

static const char *
canon(const char *id)
{
	return canon_at(id, IDG_NOW, IDG_VIEW_LIVE);
}

static uint64_t
size_at(const char *id, int64_t at, int view)
{
	struct idg_resolution r;

	cr_assert_eq(idg_resolve(db, id, strlen(id), at, view, &r), 0);
	return r.cluster_size;
}

static uint64_t
size(const char *id)
{
	return size_at(id, IDG_NOW, IDG_VIEW_LIVE);
}

/* The outcomes and reasons of the log, in order. */
struct outcomes {
	int n;
	int outcome[64];
	int reason[64];
	char desc[64][160];
	int last_outcome, last_reason;
};

static int
collect(void *user, const struct idg_log_entry *e)
{
	struct outcomes *o = user;

	if (o->n < 64) {
		o->outcome[o->n] = e->outcome;
		o->reason[o->n] = e->reason;
		snprintf(o->desc[o->n], sizeof(o->desc[0]), "%s",
			 e->description);
	}
	o->n++;
	o->last_outcome = e->outcome;
	o->last_reason = e->reason;
	return 0;
}

static struct outcomes
outcomes(void)
{
	struct outcomes o = {0};

	cr_assert_eq(idg_log_foreach(db, collect, &o), 0);
	return o;
}

/* The last log entry's reason (IDG_REASON_NONE when it succeeded). */
static int
last_reason(void)
{
	struct outcomes o = outcomes();

	cr_assert(o.n > 0);
	return o.last_reason;
}

static int
last_outcome(void)
{
	struct outcomes o = outcomes();

	cr_assert(o.n > 0);
	return o.last_outcome;
}

static void
set_cap(uint32_t cap)
{
	struct idg_options o = IDG_OPTIONS_INIT;

	o.cluster_cap = cap;
	cr_assert_eq(idg_configure(db, &o), 0);
}

/* ---- SPEC §2.4, original rows ------------------------------------ */

Test(original, row_identify_two_devices_one_user)
{
	event(D1, T0);
	identify("U1", D1, T0 + 1 * MIN);
	event(D2, T0 + 2 * MIN);
	identify("U1", D2, T0 + 3 * MIN);
	flush();
	cr_assert_str_eq(canon(D1), "U1");
	cr_assert_str_eq(canon(D2), "U1");
	cr_assert_str_eq(canon("U1"), "U1");
	cr_assert_eq(size("U1"), 3);
}

Test(original, row_identify_refuses_assigned_anon)
{
	identify("U1", D1, T0);
	identify("U2", D1, T0 + MIN);
	flush();
	cr_assert_eq(last_outcome(), IDG_OUTCOME_REFUSED);
	cr_assert_eq(last_reason(), IDG_REASON_ANON_ASSIGNED);
	cr_assert_str_eq(canon(D1), "U1");
	cr_assert_eq(size(D1), 2);
	cr_assert_str_eq(canon("U2"), "U2");
	cr_assert_eq(size("U2"), 1);
}

Test(original, row_reset_gives_two_users)
{
	identify("U1", D1, T0);
	identify("U2", D2, T0 + MIN);
	flush();
	cr_assert_str_eq(canon(D1), "U1");
	cr_assert_str_eq(canon(D2), "U2");
	cr_assert_eq(size("U1"), 2);
	cr_assert_eq(size("U2"), 2);
}

Test(original, row_same_ids)
{
	identify("x", "x", T0);
	flush();
	cr_assert_eq(last_outcome(), IDG_OUTCOME_REFUSED);
	cr_assert_eq(last_reason(), IDG_REASON_SAME_IDS);
	cr_assert_eq(size("x"), 1);
}

Test(original, row_non_guid_then_alias_merges)
{
	struct outcomes o;

	identify("u@x.com", "abc", T0);
	alias("abc", "u@x.com", T0 + MIN);
	flush();
	o = outcomes();
	cr_assert_eq(o.n, 2);
	cr_assert_eq(o.reason[0], IDG_REASON_ANON_NON_GUID);
	cr_assert_str_eq(o.desc[0], "$anon_distinct_id didn't match expected "
				    "GUID pattern: abc");
	cr_assert_eq(o.outcome[1], IDG_OUTCOME_MERGED);
	cr_assert_str_eq(canon("abc"), "u@x.com");
	cr_assert_eq(size("abc"), 2);
}

Test(original, row_alias_already_exists)
{
	alias("X", "A", T0);
	alias("X", "B", T0 + MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_ALIAS_EXISTS);
	cr_assert_str_eq(canon("X"), "A");
	cr_assert_eq(size("B"), 1);
}

Test(original, row_merge_chain_any_order)
{
	static const char *const pairs[3][2] = {
	    {"B", "C"}, {"C", "D"}, {"A", "C"}};
	static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
					 {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	int i, j;

	for (i = 0; i < 6; i++) {
		close_db();
		open_db();
		event("A", T0);
		event("B", T0);
		event("C", T0);
		event("D", T0);
		for (j = 0; j < 3; j++)
			merge(pairs[orders[i][j]][0], pairs[orders[i][j]][1],
			      T0 + (j + 1) * MIN);
		flush();
		cr_assert_eq(size("A"), 4, "order %d", i);
		cr_assert_str_eq(canon("A"), canon("D"));
		cr_assert_str_eq(canon("B"), canon("C"));
		cr_assert_str_eq(canon("A"), canon("B"));
	}
}

/* Builds a cluster of n nodes around "hub" with $merge. */
static void
cluster_of(int n, int64_t t)
{
	char id[32];
	int i;

	event("hub", t);
	for (i = 1; i < n; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		merge("hub", id, t);
	}
	flush();
	cr_assert_eq(size("hub"), (uint64_t)n);
}

Test(original, row_cap_refuses_every_kind)
{
	cluster_of(500, T0);
	cr_assert_eq(last_outcome(), IDG_OUTCOME_MERGED,
		     "the 500th node is allowed");
	identify("hub", D1, T0 + MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_MANY_IDS);
	alias("newalias", "hub", T0 + 2 * MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_MANY_IDS);
	merge("hub", "newmerge", T0 + 3 * MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_MANY_IDS);
	cr_assert_eq(size("hub"), 500);
	cr_assert_eq(size(D1), 1);
	cr_assert_eq(size("newalias"), 1);
	cr_assert_eq(size("newmerge"), 1);
}

static int
last_desc(void *user, const struct idg_log_entry *e)
{
	snprintf(user, 160, "%s", e->description);
	return 0;
}

Test(original, cap_description_names_sizes)
{
	char desc[160];

	cluster_of(500, T0);
	merge("hub", "one-more", T0 + MIN);
	flush();
	cr_assert_eq(idg_log_foreach(db, last_desc, desc), 0);
	cr_assert_str_eq(desc, "too many distinctIDs mapped together, "
			       "Cluster size: 501 Max limit: 500");
}

Test(original, small_cap_boundary)
{
	set_cap(3);
	merge("A", "B", T0);
	merge("A", "C", T0);
	merge("A", "D", T0);
	flush();
	cr_assert_eq(size("A"), 3, "a cluster of exactly the cap is allowed");
	cr_assert_eq(last_reason(), IDG_REASON_MANY_IDS);
	cr_assert_eq(size("D"), 1);
	/* Two clusters whose union exceeds the cap stay apart. */
	merge("E", "F", T0 + MIN);
	merge("A", "E", T0 + MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_MANY_IDS);
	cr_assert_eq(size("E"), 2);
}

Test(original, row_merge_has_no_guardrail)
{
	event(D1, T0);
	merge(D1, "B", T0 + MIN);
	merge(D1, "C", T0 + 2 * MIN);
	flush();
	cr_assert_str_eq(canon("B"), canon("C"));
	cr_assert_eq(size("B"), 3);
}

Test(original, row_merge_visible_in_reports_after_an_hour)
{
	int64_t t = T0, merged_at = t + 10 * MIN;

	event(D1, t);
	identify("U1", D1, merged_at);
	event("U1", t + 11 * MIN);
	flush();
	/* Reported view: two users 20 minutes in, one after 71. */
	cr_assert_eq(size_at(D1, t + 20 * MIN, IDG_VIEW_REPORTED), 1);
	cr_assert_str_eq(canon_at(D1, t + 20 * MIN, IDG_VIEW_REPORTED), D1);
	cr_assert_eq(size_at(D1, t + 71 * MIN, IDG_VIEW_REPORTED), 2);
	cr_assert_str_eq(canon_at(D1, t + 71 * MIN, IDG_VIEW_REPORTED), "U1");
	/* At the exact boundary the merge is visible, 1 ms before not. */
	cr_assert_eq(size_at(D1, merged_at + 60 * MIN, IDG_VIEW_REPORTED), 2);
	cr_assert_eq(size_at(D1, merged_at + 60 * MIN - 1, IDG_VIEW_REPORTED),
		     1);
	/* Live view: one user at once. */
	cr_assert_eq(size_at(D1, t + 20 * MIN, IDG_VIEW_LIVE), 2);
	cr_assert_eq(size_at(D1, merged_at, IDG_VIEW_LIVE), 2);
	cr_assert_eq(size_at(D1, merged_at - 1, IDG_VIEW_LIVE), 1);
	/* The default T is the current stamp (t + 11 min): still two. */
	cr_assert_eq(size_at(D1, IDG_NOW, IDG_VIEW_REPORTED), 1);
}

/* ---- each check of §2.1 alone and in order ------------------------ */

Test(original, identify_same_ids_checked_before_guid)
{
	identify("not-a-guid", "not-a-guid", T0);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_SAME_IDS);
}

Test(original, identify_guid_checked_before_assigned)
{
	identify("U1", "abc", T0);
	alias("abc", "U1", T0);
	identify("U2", "abc", T0 + MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_ANON_NON_GUID);
}

Test(original, identify_assigned_checked_before_cap)
{
	set_cap(2);
	identify("U1", D1, T0);
	merge("U2", "V2", T0);
	identify("U2", D1, T0 + MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_ANON_ASSIGNED);
}

Test(original, identify_cap)
{
	set_cap(2);
	merge("U1", "V1", T0);
	identify("U1", D1, T0 + MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_MANY_IDS);
	cr_assert_eq(size(D1), 1);
}

Test(original, identify_same_cluster_is_noop_even_when_assigned)
{
	identify("U1", D1, T0);
	identify("U1", D1, T0 + MIN);
	flush();
	cr_assert_eq(last_outcome(), IDG_OUTCOME_NOOP);
	cr_assert_eq(last_reason(), IDG_REASON_NONE);
}

Test(original, identify_same_cluster_is_noop_at_cap)
{
	set_cap(2);
	identify("U1", D1, T0);
	identify("U1", D1, T0 + MIN);
	flush();
	cr_assert_eq(last_outcome(), IDG_OUTCOME_NOOP);
}

Test(original, identify_accepts_uuid_forms)
{
	identify("U1", "6F1C3B1E-0000-4A1B-9C1D-00000000000A", T0);
	identify("U2", "$device:6f1c3b1e-0000-4a1b-9c1d-00000000000b", T0);
	flush();
	cr_assert_eq(size("U1"), 2);
	cr_assert_eq(size("U2"), 2);
}

Test(original, identify_refuses_near_uuids)
{
	static const char *const bad[] = {
	    "6f1c3b1e-0000-4a1b-9c1d-00000000000",   /* short */
	    "6f1c3b1e-0000-4a1b-9c1d-0000000000001", /* long */
	    "6f1c3b1e00000-4a1b-9c1d-000000000001",  /* dash moved */
	    "6f1c3b1g-0000-4a1b-9c1d-000000000001",  /* not hex */
	    "$device:abc",
	    "device:6f1c3b1e-0000-4a1b-9c1d-000000000001",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		identify("U1", bad[i], T0);
		flush();
		cr_assert_eq(last_reason(), IDG_REASON_ANON_NON_GUID, "%s",
			     bad[i]);
	}
}

Test(original, identify_uses_http_spec_fields)
{
	add("{\"event\":\"$identify\",\"properties\":{\"$identified_id\":"
	    "\"U1\",\"$anon_id\":\"%s\",\"time\":%lld}}",
	    D1, (long long)T0);
	flush();
	cr_assert_str_eq(canon(D1), "U1");
}

Test(original, alias_same_ids)
{
	alias("A", "A", T0);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_SAME_IDS);
}

Test(original, alias_used_checked_before_same_cluster)
{
	alias("X", "A", T0);
	alias("X", "A", T0 + MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_ALIAS_EXISTS);
}

Test(original, alias_same_cluster_is_noop_and_marks_alias)
{
	merge("A", "X", T0);
	alias("X", "A", T0 + MIN);
	alias("X", "B", T0 + 2 * MIN);
	flush();
	{
		struct outcomes o = outcomes();

		cr_assert_eq(o.outcome[1], IDG_OUTCOME_NOOP);
		cr_assert_eq(o.reason[2], IDG_REASON_ALIAS_EXISTS);
	}
}

Test(original, alias_cap)
{
	set_cap(2);
	merge("A", "B", T0);
	alias("X", "A", T0 + MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_MANY_IDS);
	/* A refused alias is not "used": it can alias elsewhere. */
	alias("X", "C", T0 + 2 * MIN);
	flush();
	cr_assert_eq(last_outcome(), IDG_OUTCOME_MERGED);
}

Test(original, alias_needs_no_uuid)
{
	alias("someone@example.com", "12345", T0);
	flush();
	cr_assert_eq(size("12345"), 2);
}

Test(original, merge_same_cluster_noop_at_cap)
{
	set_cap(2);
	merge("A", "B", T0);
	merge("B", "A", T0 + MIN);
	merge("A", "A", T0 + MIN);
	flush();
	{
		struct outcomes o = outcomes();

		cr_assert_eq(o.outcome[1], IDG_OUTCOME_NOOP);
		cr_assert_eq(o.outcome[2], IDG_OUTCOME_NOOP);
	}
}

/* ---- the canonical rule ------------------------------------------ */

Test(original, canonical_browser_alias_flow)
{
	int64_t t1 = T0, t2 = T0 + MIN;

	alias("newuser", D1, t1);
	flush();
	cr_assert_str_eq(canon(D1), D1, "the target wins the alias");
	identify("newuser", D1, t2);
	flush();
	cr_assert_eq(last_outcome(), IDG_OUTCOME_NOOP);
	cr_assert_str_eq(canon(D1), "newuser");
	/* Time travel shows the canonical id as it was. */
	cr_assert_str_eq(canon_at("newuser", t1, IDG_VIEW_LIVE), D1);
	cr_assert_str_eq(canon_at("newuser", t2 - 1, IDG_VIEW_LIVE), D1);
	cr_assert_str_eq(canon_at("newuser", t2, IDG_VIEW_LIVE), "newuser");
}

Test(original, canonical_winner_kept_when_both_identified)
{
	identify("U1", D1, T0);
	identify("U2", D2, T0);
	merge("U2", "U1", T0 + MIN);
	flush();
	cr_assert_str_eq(canon("U1"), "U2");
	cr_assert_str_eq(canon(D1), "U2");
}

Test(original, canonical_moves_to_identified_side)
{
	identify("U1", D1, T0);
	merge("anon-b", "x", T0);
	merge("anon-b", D1, T0 + MIN);
	flush();
	cr_assert_str_eq(canon("anon-b"), "U1");
	cr_assert_str_eq(canon("x"), "U1");
}

Test(original, canonical_independent_of_union_by_size)
{
	/* The winner is the smaller side; its identified id still wins. */
	merge("big", "b1", T0);
	merge("big", "b2", T0);
	merge("big", "b3", T0);
	identify("U1", D1, T0 + MIN);
	merge("U1", "big", T0 + 2 * MIN);
	flush();
	cr_assert_str_eq(canon("b3"), "U1");
	cr_assert_eq(size("U1"), 6);
}

Test(original, canonical_across_chain_of_merges)
{
	identify("U1", D1, T0);
	merge("x", "y", T0 + MIN);
	merge("y", "z", T0 + 2 * MIN);
	merge("z", D1, T0 + 3 * MIN);
	flush();
	cr_assert_str_eq(canon("x"), "U1");
	cr_assert_str_eq(canon_at("x", T0 + 2 * MIN, IDG_VIEW_LIVE), "x");
	cr_assert_eq(size_at("x", T0 + 2 * MIN, IDG_VIEW_LIVE), 3);
	cr_assert_eq(size_at("x", T0 + MIN, IDG_VIEW_LIVE), 2);
	cr_assert_eq(size_at("x", T0 + 3 * MIN, IDG_VIEW_LIVE), 5);
	/* z did not exist before its merge. */
	{
		struct idg_resolution r;

		cr_assert_eq(
		    idg_resolve(db, "z", 1, T0 + MIN, IDG_VIEW_LIVE, &r),
		    IDG_ENOTFOUND);
	}
}

Test(original, identified_flag_survives_batches_and_reopen)
{
	struct idg_options o = IDG_OPTIONS_INIT;

	identify("U1", D1, T0);
	flush();
	idg_close(db);
	cr_assert_eq(idg_open(&db, dir, &o), 0);
	identify("U2", D1, T0 + MIN);
	flush();
	cr_assert_eq(last_reason(), IDG_REASON_ANON_ASSIGNED);
	cr_assert_str_eq(canon(D1), "U1");
}

Test(original, stamps_are_monotone)
{
	struct idg_resolution r;

	/* A late record cannot move the stamp back: the merge it causes is
	 * stamped with the current stamp, not its own older time. */
	event("A", T0 + 10 * MIN);
	merge("A", "B", T0);
	flush();
	cr_assert_eq(size_at("A", T0 + 10 * MIN, IDG_VIEW_LIVE), 2);
	cr_assert_eq(
	    idg_resolve(db, "B", 1, T0 + 10 * MIN - 1, IDG_VIEW_LIVE, &r),
	    IDG_ENOTFOUND, "B is stamped with the current stamp");
}

Test(original, ingest_summary_counts_outcomes)
{
	struct idg_ingest_stats st;

	identify("U1", D1, T0);
	identify("U1", D1, T0);
	identify("U2", D1, T0);
	alias("X", "A", T0);
	alias("X", "B", T0);
	merge("P", "Q", T0);
	event("E", T0);
	st = flush();
	cr_assert_eq(st.records, 7);
	cr_assert_eq(st.events, 7);
	cr_assert_eq(st.identity, 6);
	cr_assert_eq(st.merged, 3);
	cr_assert_eq(st.noop, 1);
	cr_assert_eq(st.refused[IDG_REASON_ANON_ASSIGNED], 1);
	cr_assert_eq(st.refused[IDG_REASON_ALIAS_EXISTS], 1);
	cr_assert_eq(st.nodes_created, 9);
}

Test(original, zero_cap_means_no_cap)
{
	set_cap(0);
	cluster_of(600, T0);
	cr_assert_eq(last_outcome(), IDG_OUTCOME_MERGED);
}

Test(original, resolve_sees_commits_of_another_process)
{
	struct idg_resolution r;
	pid_t pid;
	int status;

	merge("A", "B", T0);
	flush();
	cr_assert_str_eq(canon("B"), "A");
	cr_assert_str_eq(canon("B"), "A", "answered again (from the cache)");
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* Another process, with a handle of its own. */
		struct idg_options o = IDG_OPTIONS_INIT;
		const char *line = "{\"event\":\"$merge\",\"properties\":{"
				   "\"$distinct_ids\":[\"C\",\"A\"],"
				   "\"time\":1700000001}}\n";
		idg_db *h;

		if (idg_open(&h, dir, &o) ||
		    idg_ingest_buffer(h, line, strlen(line), NULL, NULL))
			_exit(1);
		idg_close(h);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(idg_resolve(db, "B", 1, IDG_NOW, IDG_VIEW_LIVE, &r), 0);
	cr_assert_str_eq(r.canonical, "C", "the cached answer is gone");
	cr_assert_eq(r.cluster_size, 3);
}
