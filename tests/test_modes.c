/*
 * test_modes.c — Simplified ID Merge and Legacy ID management (SPEC §2.2,
 * §2.3, and their rows of §2.4) through the public API: resolution,
 * reports, profiles, exports and time travel.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idgraph.h"
#include "testutil.h"

#define T0 INT64_C(1700000000000)
#define MIN INT64_C(60000)

static char *dir;
static idg_db *db;

static void
open_mode(int mode)
{
	struct idg_options o = IDG_OPTIONS_INIT;

	dir = tu_tmpdir();
	o.flags = IDG_OPEN_CREATE;
	o.mode = mode;
	cr_assert_eq(idg_open(&db, dir, &o), 0);
}

static void
simplified(void)
{
	open_mode(IDG_MODE_SIMPLIFIED);
}

static void
legacy(void)
{
	open_mode(IDG_MODE_LEGACY);
}

static void
teardown(void)
{
	idg_close(db);
	tu_rmdir(dir);
}

TestSuite(simplified, .init = simplified, .fini = teardown);
TestSuite(legacy, .init = legacy, .fini = teardown);

/* Ingests the formatted records, none of which may be rejected. */
#define ingest(...) tu_ingestf(db, __VA_ARGS__)

/* An event with optional $device_id, $user_id and distinct_id. */
static void
ev(const char *name, const char *d, const char *u, const char *did,
   int64_t t)
{
	char props[512];
	int n = 0;

	if (d)
		n += snprintf(props + n, sizeof(props) - (size_t)n,
			      "\"$device_id\":\"%s\",", d);
	if (u)
		n += snprintf(props + n, sizeof(props) - (size_t)n,
			      "\"$user_id\":\"%s\",", u);
	if (did)
		n += snprintf(props + n, sizeof(props) - (size_t)n,
			      "\"distinct_id\":\"%s\",", did);
	ingest("{\"event\":\"%s\",\"properties\":{%s\"time\":%lld}}\n", name,
	       props, (long long)t);
}

static const char *
canon(const char *id)
{
	static char buf[128];
	struct idg_resolution r;

	cr_assert_eq(idg_resolve(db, id, strlen(id), IDG_NOW, IDG_VIEW_LIVE,
				 &r),
		     0, "%s: %s", id, idg_errmsg(db));
	snprintf(buf, sizeof(buf), "%s", r.canonical);
	return buf;
}

static uint64_t
size(const char *id)
{
	struct idg_resolution r;

	cr_assert_eq(idg_resolve(db, id, strlen(id), IDG_NOW, IDG_VIEW_LIVE,
				 &r),
		     0);
	return r.cluster_size;
}

static uint64_t
users(int64_t at, int view)
{
	struct idg_report_opts o = IDG_REPORT_OPTS_INIT;
	struct idg_uniques u;

	o.at = at;
	o.view = view;
	cr_assert_eq(idg_report_uniques(db, &o, &u, NULL, NULL), 0, "%s",
		     idg_errmsg(db));
	return u.uniques;
}

static char *
export_all(void)
{
	struct idg_export_opts o = IDG_EXPORT_OPTS_INIT;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_eq(idg_export_events(db, fp, &o, NULL), 0);
	fclose(fp);
	return buf;
}

/* ---- simplified ---------------------------------------------------- */

Test(simplified, row_device_events_count_for_the_user)
{
	ev("a", "D1", NULL, NULL, T0);
	ev("a", "D1", NULL, NULL, T0 + MIN);
	ev("a", "D1", "U1", NULL, T0 + 2 * MIN);
	cr_assert_str_eq(canon("$device:D1"), "U1");
	cr_assert_eq(size("U1"), 2);
	cr_assert_eq(users(IDG_NOW, IDG_VIEW_LIVE), 1, "retroactive");
	/* The reported view sees the link an hour later. */
	cr_assert_eq(users(IDG_NOW, IDG_VIEW_REPORTED), 2);
	cr_assert_eq(users(T0 + 62 * MIN, IDG_VIEW_REPORTED), 1);
}

Test(simplified, row_two_devices_one_user)
{
	ev("a", "D1", "U1", NULL, T0);
	ev("a", "D2", NULL, NULL, T0 + MIN);
	ev("a", "D2", "U1", NULL, T0 + 2 * MIN);
	cr_assert_eq(size("U1"), 3);
	cr_assert_str_eq(canon("$device:D2"), "U1");
}

Test(simplified, row_two_devices_two_users)
{
	ev("a", "D1", "U1", NULL, T0);
	ev("a", "D2", NULL, NULL, T0 + MIN);
	ev("a", "D2", "U2", NULL, T0 + 2 * MIN);
	cr_assert_eq(size("U1"), 2);
	cr_assert_eq(size("U2"), 2);
	cr_assert_eq(users(IDG_NOW, IDG_VIEW_LIVE), 2);
}

Test(simplified, row_shared_device_refused_and_counts_for_user)
{
	struct idg_ingest_stats st;
	char *out;

	ev("a", "D1", "U1", NULL, T0);
	st = ingest("{\"event\":\"b\",\"properties\":{\"$device_id\":\"D1\","
		    "\"$user_id\":\"U2\",\"time\":%lld}}\n",
		    (long long)(T0 + MIN));
	cr_assert_eq(st.refused[IDG_REASON_ANON_ASSIGNED], 1);
	cr_assert_str_eq(canon("$device:D1"), "U1");
	cr_assert_eq(size("U2"), 1);
	out = export_all();
	/* distinct_id was not sent: the resolved one comes first. */
	cr_assert(strstr(out, "{\"event\":\"b\",\"properties\":{"
			      "\"distinct_id\":\"U2\",\"$device_id\":\"D1\","
			      "\"$user_id\":\"U2\",\"time\":1700000060000,"
			      "\"$identity_failure_reason\":"
			      "\"errAnonDistinctIdAssignedAlready\"}}") != NULL,
		  "%s", out);
	free(out);
}

Test(simplified, row_phone_number_device_and_user)
{
	ev("a", "+6512345678", "charlie", NULL, T0);
	ev("a", NULL, "+6512345678", NULL, T0 + MIN);
	cr_assert_str_eq(canon("$device:+6512345678"), "charlie");
	cr_assert_str_eq(canon("+6512345678"), "+6512345678");
	cr_assert_eq(users(IDG_NOW, IDG_VIEW_LIVE), 2);
}

Test(simplified, row_identify_event_merges_nothing)
{
	struct idg_resolution r;

	ev("$identify", "D1", "U1", NULL, T0);
	cr_assert_eq(size("U1"), 1);
	/* Not even a link attempt: the device is not named at all. */
	cr_assert_eq(idg_resolve(db, "$device:D1", 10, IDG_NOW, IDG_VIEW_LIVE,
				 &r),
		     IDG_ENOTFOUND);
	ingest("{\"event\":\"$merge\",\"properties\":{\"distinct_id\":\"U1\","
	       "\"$distinct_ids\":[\"U1\",\"U2\"],\"time\":%lld}}\n",
	       (long long)T0);
	cr_assert_eq(size("U1"), 1);
}

Test(simplified, users_never_merge_and_no_cap)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	char d[16];
	int i;

	o.mode = IDG_MODE_SIMPLIFIED;
	o.cluster_cap = 2;
	cr_assert_eq(idg_configure(db, &o), 0);
	for (i = 0; i < 5; i++) {
		snprintf(d, sizeof(d), "D%d", i);
		ev("a", d, "U1", NULL, T0 + i);
	}
	cr_assert_eq(size("U1"), 6, "no cluster cap in simplified mode");
	/* A device's distinct_id as sent marks a device too. */
	ev("a", NULL, NULL, "$device:D0", T0 + 9);
	cr_assert_str_eq(canon("$device:D0"), "U1");
}

Test(simplified, device_profile_hidden_on_link)
{
	struct idg_profile p;
	struct idg_profiles_opts all = {1, NULL, NULL, 0};

	ingest("{\"$distinct_id\":\"$device:D1\",\"$set\":{\"dev\":1}}\n");
	ev("a", "D1", "U1", NULL, T0);
	cr_assert_eq(idg_profile_get(db, "U1", 2, &p), 0);
	cr_assert_null(p.properties, "the device profile is hidden");
	(void)all;
	/* The user's own profile is the active one. */
	ingest("{\"$distinct_id\":\"U2\",\"$set\":{\"user\":2}}\n"
	       "{\"$distinct_id\":\"$device:D2\",\"$set\":{\"dev\":2}}\n");
	ev("a", "D2", "U2", NULL, T0 + MIN);
	cr_assert_eq(idg_profile_get(db, "$device:D2", 10, &p), 0);
	cr_assert_not_null(p.properties);
	cr_assert_str_eq(p.stored_under, "U2");
}

Test(simplified, dedup_uses_the_resolved_id)
{
	struct idg_ingest_stats st;

	st = ingest("{\"event\":\"a\",\"properties\":{\"$user_id\":\"U1\","
		    "\"distinct_id\":\"x\",\"$insert_id\":\"i1\",\"time\":%lld}}\n"
		    "{\"event\":\"a\",\"properties\":{\"$user_id\":\"U1\","
		    "\"distinct_id\":\"y\",\"$insert_id\":\"i1\",\"time\":%lld}}\n",
		    (long long)T0, (long long)T0);
	cr_assert_eq(st.duplicates, 1);
}

/* ---- legacy -------------------------------------------------------- */

static void
alias(const char *a, const char *target, int64_t t)
{
	ingest("{\"event\":\"$create_alias\",\"properties\":{\"distinct_id\":"
	       "\"%s\",\"alias\":\"%s\",\"time\":%lld}}\n",
	       target, a, (long long)t);
}

static void
event(const char *id, int64_t t)
{
	ingest("{\"event\":\"v\",\"properties\":{\"distinct_id\":\"%s\","
	       "\"time\":%lld}}\n",
	       id, (long long)t);
}

static int
last_reason(void *user, const struct idg_log_entry *e)
{
	*(int *)user = e->reason;
	return 0;
}

Test(legacy, row_alias_is_not_retroactive)
{
	int reason = -1;
	char *out;

	event("12345", T0);
	alias("sally@x", "12345", T0 + MIN);
	event("sally@x", T0 + 2 * MIN);
	event("XYZ", T0 + 3 * MIN);
	alias("sally@x", "XYZ", T0 + 4 * MIN);
	cr_assert_eq(idg_log_foreach(db, last_reason, &reason), 0);
	cr_assert_eq(reason, IDG_REASON_ALIAS_EXISTS);
	event("12345", T0 + 5 * MIN);
	cr_assert_str_eq(canon("sally@x"), "12345");
	cr_assert_eq(users(IDG_NOW, IDG_VIEW_LIVE), 2);
	cr_assert_eq(users(IDG_NOW, IDG_VIEW_REPORTED), 2, "views agree");
	out = export_all();
	cr_assert(strstr(out, "\"distinct_id\":\"12345\","
			      "\"$distinct_id_before_identity\":\"sally@x\"") !=
		      NULL,
		  "%s", out);
	free(out);
}

Test(legacy, event_before_alias_keeps_its_attribution)
{
	char *out;

	event("anon1", T0);
	alias("anon1", "user1", T0 + MIN);
	event("anon1", T0 + 2 * MIN);
	out = export_all();
	/* The first anon1 event was attributed to anon1 and stays so. */
	cr_assert(strstr(out, "{\"event\":\"v\",\"properties\":{\"distinct_id\":"
			      "\"anon1\",\"time\":1700000000000}}") != NULL,
		  "%s", out);
	cr_assert(strstr(out, "\"distinct_id\":\"user1\","
			      "\"$distinct_id_before_identity\":\"anon1\","
			      "\"time\":1700000120000") != NULL,
		  "%s", out);
	free(out);
	cr_assert_eq(users(IDG_NOW, IDG_VIEW_LIVE), 2);
}

Test(legacy, chains_resolve_to_the_end)
{
	alias("a", "b", T0);
	alias("b", "c", T0 + 1);
	cr_assert_str_eq(canon("a"), "c");
	alias("z", "a", T0 + 2);
	cr_assert_str_eq(canon("z"), "c");
	cr_assert_eq(size("c"), 4);
}

Test(legacy, cycle_refused)
{
	int reason = -1;

	alias("a", "b", T0);
	alias("b", "a", T0 + 1);
	cr_assert_eq(idg_log_foreach(db, last_reason, &reason), 0);
	cr_assert_eq(reason, IDG_REASON_ALIAS_CYCLE);
	alias("c", "c", T0 + 2);
	cr_assert_eq(idg_log_foreach(db, last_reason, &reason), 0);
	cr_assert_eq(reason, IDG_REASON_ALIAS_CYCLE);
	cr_assert_str_eq(canon("a"), "b");
}

Test(legacy, identify_and_merge_are_plain_events)
{
	struct idg_ingest_stats st;

	st = ingest("{\"event\":\"$identify\",\"properties\":{\"distinct_id\":"
		    "\"U1\",\"$anon_distinct_id\":"
		    "\"6f1c3b1e-0000-4a1b-9c1d-000000000001\",\"time\":%lld}}\n"
		    "{\"event\":\"$merge\",\"properties\":{\"distinct_id\":\"A\","
		    "\"$distinct_ids\":[\"A\",\"B\"],\"time\":%lld}}\n",
		    (long long)T0, (long long)T0);
	cr_assert_eq(st.identity, 0);
	cr_assert_eq(size("U1"), 1);
	cr_assert_eq(size("A"), 1);
}

static int
count_hidden(void *user, const struct idg_profile *p)
{
	if (p->hidden && strcmp(p->stored_under, "visitor7") == 0)
		++*(int *)user;
	return 0;
}

Test(legacy, ignore_alias_profile_is_the_ids_own)
{
	struct idg_profile p;

	struct idg_profiles_opts all = {1, NULL, NULL, 0};
	int n = 0;

	alias("visitor7", "user", T0);
	ingest("{\"$distinct_id\":\"visitor7\",\"$set\":{\"via\":\"alias\"}}\n"
	       "{\"$distinct_id\":\"visitor7\",\"$ignore_alias\":true,"
	       "\"$set\":{\"own\":1}}\n");
	/* Through the alias chain: the profile of user. */
	cr_assert_eq(idg_profile_get(db, "visitor7", 8, &p), 0);
	cr_assert_str_eq(p.stored_under, "user");
	/* With $ignore_alias: a profile of visitor7's own, kept hidden. */
	cr_assert_eq(idg_profiles_foreach(db, &all, count_hidden, &n), 0);
	cr_assert_eq(n, 1);
}

/* ---- time travel in both modes ------------------------------------ */

static void
compare_rebuild(int mode, const char *const *lines, int n)
{
	int i, j;

	for (i = 0; i < n; i++) {
		struct idg_options o = IDG_OPTIONS_INIT;
		char *pdir = tu_tmpdir();
		int64_t at = T0 + i * 10 * MIN;
		idg_db *part, *full = db;
		uint64_t a, b, c, d;

		o.flags = IDG_OPEN_CREATE;
		o.mode = mode;
		cr_assert_eq(idg_open(&part, pdir, &o), 0);
		for (j = 0; j <= i; j++)
			cr_assert_eq(idg_ingest_buffer(part, lines[j],
						       strlen(lines[j]), NULL,
						       NULL),
				     0);
		a = users(at, IDG_VIEW_LIVE);
		b = users(at, IDG_VIEW_REPORTED);
		db = part;
		c = users(at, IDG_VIEW_LIVE);
		d = users(at, IDG_VIEW_REPORTED);
		db = full;
		cr_assert_eq(a, c, "live at step %d", i);
		cr_assert_eq(b, d, "reported at step %d", i);
		idg_close(part);
		tu_rmdir(pdir);
	}
}

#define L(props, k)                                                            \
	"{\"event\":\"v\",\"properties\":{" props ",\"time\":" k "}}\n"

Test(simplified, time_travel_equals_rebuild)
{
	static const char *const lines[] = {
	    L("\"$device_id\":\"D1\"", "1700000000"),
	    L("\"$device_id\":\"D1\",\"$user_id\":\"U1\"", "1700000600"),
	    L("\"$device_id\":\"D2\"", "1700001200"),
	    L("\"$device_id\":\"D2\",\"$user_id\":\"U1\"", "1700001800"),
	    L("\"$user_id\":\"U2\"", "1700002400"),
	    L("\"$device_id\":\"D2\",\"$user_id\":\"U2\"", "1700003000"),
	};
	int i;

	for (i = 0; i < 6; i++)
		cr_assert_eq(idg_ingest_buffer(db, lines[i], strlen(lines[i]),
					       NULL, NULL),
			     0);
	compare_rebuild(IDG_MODE_SIMPLIFIED, lines, 6);
}

Test(legacy, time_travel_equals_rebuild)
{
	static const char *const lines[] = {
	    L("\"distinct_id\":\"a\"", "1700000000"),
	    "{\"event\":\"$create_alias\",\"properties\":{\"distinct_id\":"
	    "\"u\",\"alias\":\"a\",\"time\":1700000600}}\n",
	    L("\"distinct_id\":\"a\"", "1700001200"),
	    L("\"distinct_id\":\"b\"", "1700001800"),
	    "{\"event\":\"$create_alias\",\"properties\":{\"distinct_id\":"
	    "\"u\",\"alias\":\"b\",\"time\":1700002400}}\n",
	    L("\"distinct_id\":\"b\"", "1700003000"),
	};
	int i;

	for (i = 0; i < 6; i++)
		cr_assert_eq(idg_ingest_buffer(db, lines[i], strlen(lines[i]),
					       NULL, NULL),
			     0);
	compare_rebuild(IDG_MODE_LEGACY, lines, 6);
}

Test(simplified, graph_stats)
{
	struct idg_graph_stats gs;

	ingest("{\"$distinct_id\":\"$device:D9\",\"$set\":{\"a\":1}}\n");
	ev("a", "D1", "U1", NULL, T0);
	ev("a", "D2", "U1", NULL, T0);
	ev("a", "D9", "U2", NULL, T0);
	ev("a", NULL, "U3", NULL, T0);
	cr_assert_eq(idg_graph_stats(db, &gs), 0);
	cr_assert_eq(gs.distinct_ids, 6);
	cr_assert_eq(gs.clusters, 2);
	cr_assert_eq(gs.largest_cluster, 3);
	cr_assert_eq(gs.profiles_active, 0);
	cr_assert_eq(gs.profiles_hidden, 1);
}
