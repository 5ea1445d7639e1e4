/*
 * test_report.c — uniques and funnels with the merge-visibility window
 * (SPEC §1, §5) through the public API, and the time-travel property:
 * a report as of T equals one on a database rebuilt from the records
 * stamped <= T.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idgraph.h"
#include "testutil.h"

#define T0 INT64_C(1700000000000)
#define MIN INT64_C(60000)
#define D1 "6f1c3b1e-0000-4a1b-9c1d-000000000001"
#define D2 "6f1c3b1e-0000-4a1b-9c1d-000000000002"

static char *dir;
static idg_db *db;
static char text[1 << 16];
static size_t tlen;

static idg_db *
fresh(const char *path)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	idg_db *h;

	o.flags = IDG_OPEN_CREATE;
	cr_assert_eq(idg_open(&h, path, &o), 0);
	return h;
}

static void
setup(void)
{
	dir = tu_tmpdir();
	db = fresh(dir);
	tlen = 0;
}

static void
teardown(void)
{
	idg_close(db);
	tu_rmdir(dir);
}

TestSuite(report, .init = setup, .fini = teardown);

static void
add(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tlen += (size_t)vsnprintf(text + tlen, sizeof(text) - tlen, fmt, ap);
	va_end(ap);
	text[tlen++] = '\n';
	text[tlen] = '\0';
}

static void
event(const char *name, const char *id, int64_t t)
{
	add("{\"event\":\"%s\",\"properties\":{\"distinct_id\":\"%s\","
	    "\"time\":%lld}}",
	    name, id, (long long)t);
}

static void
identify(const char *user, const char *anon, int64_t t)
{
	add("{\"event\":\"$identify\",\"properties\":{\"distinct_id\":\"%s\","
	    "\"$anon_distinct_id\":\"%s\",\"time\":%lld}}",
	    user, anon, (long long)t);
}

static void
flush(void)
{
	struct idg_ingest_stats st;

	cr_assert_eq(idg_ingest_buffer(db, text, tlen, NULL, &st), 0);
	cr_assert_eq(st.rejected, 0);
	tlen = 0;
}

static struct idg_uniques
uniques(idg_db *h, const char *ev, int64_t at, int view)
{
	struct idg_report_opts o = IDG_REPORT_OPTS_INIT;
	struct idg_uniques u;

	o.event = ev;
	o.at = at;
	o.view = view;
	cr_assert_eq(idg_report_uniques(h, &o, &u, NULL, NULL), 0, "%s",
		     idg_errmsg(h));
	return u;
}

Test(report, row_merge_visible_after_an_hour)
{
	int64_t t = T0, merged = t + 10 * MIN;
	struct idg_uniques u;

	event("view", D1, t);
	identify("U1", D1, merged);
	event("view", "U1", t + 11 * MIN);
	flush();
	u = uniques(db, NULL, t + 20 * MIN, IDG_VIEW_REPORTED);
	cr_assert_eq(u.uniques, 2);
	cr_assert_eq(u.events, 2, "the $identify is not counted");
	cr_assert_eq(u.pending_merges, 1);
	u = uniques(db, NULL, t + 71 * MIN, IDG_VIEW_REPORTED);
	cr_assert_eq(u.uniques, 1);
	cr_assert_eq(u.pending_merges, 0);
	cr_assert_eq(uniques(db, NULL, t + 20 * MIN, IDG_VIEW_LIVE).uniques, 1);
	cr_assert_eq(uniques(db, NULL, t + 71 * MIN, IDG_VIEW_LIVE).uniques, 1);
	/* The boundary: merge stamp + delay counts one, 1 ms before two. */
	cr_assert_eq(
	    uniques(db, NULL, merged + 60 * MIN, IDG_VIEW_REPORTED).uniques, 1);
	cr_assert_eq(
	    uniques(db, NULL, merged + 60 * MIN - 1, IDG_VIEW_REPORTED).uniques,
	    2);
	/* Default T is the current stamp (t + 11 min): still two. */
	u = uniques(db, NULL, IDG_NOW, IDG_VIEW_REPORTED);
	cr_assert_eq(u.uniques, 2);
	cr_assert_eq(u.at, t + 11 * MIN);
}

Test(report, events_after_t_do_not_exist_yet)
{
	event("view", "a", T0);
	event("view", "b", T0 + MIN);
	flush();
	cr_assert_eq(uniques(db, NULL, T0, IDG_VIEW_LIVE).uniques, 1);
	cr_assert_eq(uniques(db, NULL, T0 - 1, IDG_VIEW_LIVE).events, 0);
}

Test(report, empty_ids_and_identity_events_are_not_users)
{
	struct idg_uniques u;

	event("view", "", T0);
	event("view", "a", T0);
	add("{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":"
	    "[\"x\",\"y\"],\"time\":%lld}}",
	    (long long)T0);
	flush();
	u = uniques(db, NULL, IDG_NOW, IDG_VIEW_LIVE);
	cr_assert_eq(u.uniques, 1);
	cr_assert_eq(u.events, 2);
	u = uniques(db, "$merge", IDG_NOW, IDG_VIEW_LIVE);
	cr_assert_eq(u.uniques, 0);
}

Test(report, event_filter_and_range)
{
	struct idg_report_opts o = IDG_REPORT_OPTS_INIT;
	struct idg_uniques u;

	event("a", "x", T0);
	event("b", "y", T0 + MIN);
	event("a", "z", T0 + 2 * MIN);
	flush();
	cr_assert_eq(uniques(db, "a", IDG_NOW, IDG_VIEW_LIVE).uniques, 2);
	o.from_ms = T0 + MIN;
	o.to_ms = T0 + 2 * MIN;
	cr_assert_eq(idg_report_uniques(db, &o, &u, NULL, NULL), 0);
	cr_assert_eq(u.uniques, 1, "[from, to) holds only b");
	cr_assert_eq(u.events, 1);
}

struct series {
	int n;
	int64_t start[8];
	uint64_t users[8], events[8];
};

static int
bucket(void *user, int64_t start, uint64_t users, uint64_t events)
{
	struct series *s = user;

	cr_assert(s->n < 8);
	s->start[s->n] = start;
	s->users[s->n] = users;
	s->events[s->n] = events;
	s->n++;
	return 0;
}

Test(report, day_and_hour_series)
{
	struct idg_report_opts o = IDG_REPORT_OPTS_INIT;
	struct series s = {0};
	struct idg_uniques u;
	int64_t day = INT64_C(1700006400000); /* 2023-11-15T00:00:00Z */

	event("v", "a", day + 1000);
	event("v", "a", day + 2000);
	event("v", "b", day + 3600000 + 5);
	event("v", "a", day + 86400000 + 7);
	flush();
	o.interval = IDG_INTERVAL_DAY;
	o.view = IDG_VIEW_LIVE;
	cr_assert_eq(idg_report_uniques(db, &o, &u, bucket, &s), 0);
	cr_assert_eq(u.uniques, 2);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.start[0], day);
	cr_assert_eq(s.users[0], 2);
	cr_assert_eq(s.events[0], 3);
	cr_assert_eq(s.start[1], day + 86400000);
	cr_assert_eq(s.users[1], 1);
	memset(&s, 0, sizeof(s));
	o.interval = IDG_INTERVAL_HOUR;
	cr_assert_eq(idg_report_uniques(db, &o, &u, bucket, &s), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.start[1], day + 3600000);
	cr_assert_eq(s.users[0], 1);
	cr_assert_eq(s.events[0], 2);
}

Test(report, bad_arguments)
{
	struct idg_report_opts o = IDG_REPORT_OPTS_INIT;
	struct idg_funnel_opts fo = IDG_FUNNEL_OPTS_INIT;
	const char *one[] = {"a"}, *two[] = {"a", "nope"};
	struct idg_funnel_step out[2];
	struct idg_uniques u;

	event("a", "x", T0);
	flush();
	o.event = "nope";
	cr_assert_eq(idg_report_uniques(db, &o, &u, NULL, NULL), IDG_ENOTFOUND);
	cr_assert(strstr(idg_errmsg(db), "known events: a") != NULL, "%s",
		  idg_errmsg(db));
	o.event = NULL;
	o.from_ms = T0;
	o.to_ms = T0;
	cr_assert_eq(idg_report_uniques(db, &o, &u, NULL, NULL), IDG_EINVAL);
	fo.steps = one;
	fo.nsteps = 1;
	cr_assert_eq(idg_report_funnel(db, &fo, out, NULL), IDG_EINVAL);
	fo.nsteps = 0;
	cr_assert_eq(idg_report_funnel(db, &fo, out, NULL), IDG_EINVAL);
	fo.steps = two;
	fo.nsteps = 2;
	cr_assert_eq(idg_report_funnel(db, &fo, out, NULL), IDG_ENOTFOUND);
}

/* ---- funnels ------------------------------------------------------ */

static void
funnel(idg_db *h, const char *const *steps, size_t n, int64_t window,
       int64_t at, int view, struct idg_funnel_step *out)
{
	struct idg_funnel_opts o = IDG_FUNNEL_OPTS_INIT;

	o.steps = steps;
	o.nsteps = n;
	o.window_ms = window;
	o.at = at;
	o.view = view;
	cr_assert_eq(idg_report_funnel(h, &o, out, NULL), 0, "%s",
		     idg_errmsg(h));
}

Test(report, funnel_order_matters)
{
	const char *steps[] = {"a", "b", "c"};
	struct idg_funnel_step out[3];

	event("a", "u1", T0);
	event("b", "u1", T0 + 1);
	event("c", "u1", T0 + 2);
	event("b", "u2", T0);
	event("a", "u2", T0 + 1); /* b came before a: stops at step 1 */
	event("c", "u2", T0 + 2);
	event("b", "u3", T0); /* never started */
	flush();
	funnel(db, steps, 3, IDG_DEFAULT_FUNNEL_WINDOW_MS, IDG_NOW,
	       IDG_VIEW_LIVE, out);
	cr_assert_eq(out[0].users, 2);
	cr_assert_eq(out[1].users, 1);
	cr_assert_eq(out[2].users, 1);
	cr_assert_float_eq(out[1].conversion, 0.5, 1e-12);
	cr_assert_float_eq(out[0].conversion, 1.0, 1e-12);
}

/* Identity events and events of an empty id are no user's steps, as
 * they are no users in uniques (README, Reports). */
Test(report, funnel_leaves_out_identity_events)
{
	const char *steps[] = {"$merge", "b"}, *steps2[] = {"a", "$merge"};
	struct idg_funnel_step out[2];

	/* u1's a, then a $merge u1 names first (so it is u1's), then b */
	event("a", "u1", T0 + 1);
	add("{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":"
	    "[\"u1\",\"u2\"],\"time\":%lld}}",
	    (long long)(T0 + 2));
	event("b", "u1", T0 + 3);
	event("a", "", T0 + 4);
	event("b", "", T0 + 5);
	flush();
	funnel(db, steps, 2, IDG_DEFAULT_FUNNEL_WINDOW_MS, IDG_NOW,
	       IDG_VIEW_LIVE, out);
	cr_assert_eq(out[0].users, 0, "the $merge starts no one's funnel");
	cr_assert_eq(out[1].users, 0);
	funnel(db, steps2, 2, IDG_DEFAULT_FUNNEL_WINDOW_MS, IDG_NOW,
	       IDG_VIEW_LIVE, out);
	cr_assert_eq(out[0].users, 1, "u1 only: the empty id is no user");
	cr_assert_eq(out[1].users, 0, "u1's $merge after its a is no step");
}

/* No event of the first step as of the time asked: no user at any step
 * (the empty list of hits once reached qsort as a null pointer, which
 * UBSan reports). */
Test(report, funnel_with_no_first_step)
{
	const char *steps[] = {"a", "b"};
	struct idg_funnel_step out[2];

	event("b", "u1", T0);
	event("a", "u1", T0 + 1);
	flush();
	funnel(db, steps, 2, IDG_DEFAULT_FUNNEL_WINDOW_MS, T0 - 1,
	       IDG_VIEW_LIVE, out);
	cr_assert_eq(out[0].users, 0);
	cr_assert_eq(out[1].users, 0);
	funnel(db, steps, 2, IDG_DEFAULT_FUNNEL_WINDOW_MS, IDG_NOW,
	       IDG_VIEW_LIVE, out);
	cr_assert_eq(out[0].users, 1);
	cr_assert_eq(out[1].users, 0);
}

Test(report, funnel_ties_follow_ingestion_order)
{
	const char *steps[] = {"a", "b"};
	struct idg_funnel_step out[2];

	event("a", "u1", T0);
	event("b", "u1", T0); /* same time, ingested after: counts */
	event("b", "u2", T0);
	event("a", "u2", T0); /* same time, ingested before a: does not */
	flush();
	funnel(db, steps, 2, IDG_DEFAULT_FUNNEL_WINDOW_MS, IDG_NOW,
	       IDG_VIEW_LIVE, out);
	cr_assert_eq(out[0].users, 2);
	cr_assert_eq(out[1].users, 1);
}

Test(report, funnel_window_edges)
{
	const char *steps[] = {"a", "b"};
	struct idg_funnel_step out[2];
	int64_t w = 10 * MIN;

	event("a", "in", T0);
	event("b", "in", T0 + w); /* exactly at the edge: inside */
	event("a", "out", T0);
	event("b", "out", T0 + w + 1);
	flush();
	funnel(db, steps, 2, w, IDG_NOW, IDG_VIEW_LIVE, out);
	cr_assert_eq(out[0].users, 2);
	cr_assert_eq(out[1].users, 1);
}

Test(report, funnel_later_start_rescues_window)
{
	const char *steps[] = {"a", "b", "c"};
	struct idg_funnel_step out[3];
	int64_t w = 10 * MIN;

	/* The first a is too early for c; the second a completes. */
	event("a", "u", T0);
	event("a", "u", T0 + 5 * MIN);
	event("b", "u", T0 + 6 * MIN);
	event("c", "u", T0 + 14 * MIN);
	flush();
	funnel(db, steps, 3, w, IDG_NOW, IDG_VIEW_LIVE, out);
	cr_assert_eq(out[2].users, 1);
}

Test(report, funnel_repeated_step_names)
{
	const char *steps[] = {"a", "a", "b"};
	struct idg_funnel_step out[3];

	event("a", "once", T0);
	event("b", "once", T0 + 1);
	event("a", "twice", T0);
	event("a", "twice", T0 + 1);
	event("b", "twice", T0 + 2);
	flush();
	funnel(db, steps, 3, IDG_DEFAULT_FUNNEL_WINDOW_MS, IDG_NOW,
	       IDG_VIEW_LIVE, out);
	cr_assert_eq(out[0].users, 2);
	cr_assert_eq(out[1].users, 1, "one a cannot be two steps");
	cr_assert_eq(out[2].users, 1);
}

Test(report, funnel_range_limits_only_the_first_step)
{
	struct idg_funnel_opts o = IDG_FUNNEL_OPTS_INIT;
	const char *steps[] = {"a", "b"};
	struct idg_funnel_step out[2];

	event("a", "u", T0);
	event("b", "u", T0 + 100 * MIN);
	event("a", "early", T0 - 10 * MIN);
	flush();
	o.steps = steps;
	o.nsteps = 2;
	o.from_ms = T0;
	o.to_ms = T0 + MIN;
	o.view = IDG_VIEW_LIVE;
	cr_assert_eq(idg_report_funnel(db, &o, out, NULL), 0);
	cr_assert_eq(out[0].users, 1);
	cr_assert_eq(out[1].users, 1, "b may fall after the range");
}

Test(report, funnel_spanning_a_merge_converts_after_the_delay)
{
	const char *steps[] = {"visit", "signup", "buy"};
	struct idg_funnel_step out[3];
	uint64_t pending;
	int64_t merged = T0 + 2 * MIN;

	event("visit", D1, T0);
	event("signup", D1, T0 + MIN);
	identify("U1", D1, merged);
	event("buy", "U1", T0 + 3 * MIN);
	flush();
	/* Reported view right after: the buy belongs to another user. */
	funnel(db, steps, 3, IDG_DEFAULT_FUNNEL_WINDOW_MS, T0 + 5 * MIN,
	       IDG_VIEW_REPORTED, out);
	cr_assert_eq(out[0].users, 1);
	cr_assert_eq(out[2].users, 0);
	/* Live at once, reported after an hour: one user converts. */
	funnel(db, steps, 3, IDG_DEFAULT_FUNNEL_WINDOW_MS, T0 + 5 * MIN,
	       IDG_VIEW_LIVE, out);
	cr_assert_eq(out[2].users, 1);
	funnel(db, steps, 3, IDG_DEFAULT_FUNNEL_WINDOW_MS, merged + 60 * MIN,
	       IDG_VIEW_REPORTED, out);
	cr_assert_eq(out[2].users, 1);
	{
		struct idg_funnel_opts o = IDG_FUNNEL_OPTS_INIT;

		o.steps = steps;
		o.nsteps = 3;
		o.at = T0 + 5 * MIN;
		cr_assert_eq(idg_report_funnel(db, &o, out, &pending), 0);
		cr_assert_eq(pending, 1);
	}
}

/* ---- the time-travel property ------------------------------------ */

/* A small deterministic generator (xorshift). */
static uint64_t rng;

static uint32_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

#define NREC 160

struct rec {
	char line[256];
	int64_t stamp;
};

static void
generate(struct rec *r, int n, uint64_t seed)
{
	static const char *const names[] = {"a", "b", "c"};
	int64_t t = T0, stamp = INT64_MIN, time;
	int i, k;

	rng = seed * 2654435761u + 1;
	for (i = 0; i < n; i++) {
		char dev[64], user[16];

		t += (int64_t)(next_rand() % 20) * MIN;
		time = next_rand() % 8 == 0
			   ? t - (int64_t)(next_rand() % 90) * MIN
			   : t;
		snprintf(dev, sizeof(dev), "6f1c3b1e-0000-4a1b-9c1d-%012u",
			 next_rand() % 10);
		snprintf(user, sizeof(user), "user%u", next_rand() % 5);
		k = (int)(next_rand() % 10);
		if (k == 0)
			snprintf(r[i].line, sizeof(r[i].line),
				 "{\"event\":\"$identify\",\"properties\":{"
				 "\"distinct_id\":\"%s\",\"$anon_distinct_id\":"
				 "\"%s\",\"time\":%lld}}",
				 user, dev, (long long)time);
		else if (k == 1)
			snprintf(r[i].line, sizeof(r[i].line),
				 "{\"event\":\"$merge\",\"properties\":{"
				 "\"$distinct_ids\":[\"%s\",\"%s\"],"
				 "\"time\":%lld}}",
				 user, dev, (long long)time);
		else
			snprintf(r[i].line, sizeof(r[i].line),
				 "{\"event\":\"%s\",\"properties\":{"
				 "\"distinct_id\":\"%s\",\"time\":%lld}}",
				 names[next_rand() % 3],
				 next_rand() % 2 ? dev : user, (long long)time);
		if (time > stamp)
			stamp = time;
		r[i].stamp = stamp;
	}
}

static void
ingest_lines(idg_db *h, const struct rec *r, int n, int64_t upto)
{
	char *buf = malloc((size_t)n * 260), *p = buf;
	int i;

	for (i = 0; i < n && r[i].stamp <= upto; i++)
		p += sprintf(p, "%s\n", r[i].line);
	cr_assert_eq(idg_ingest_buffer(h, buf, (size_t)(p - buf), NULL, NULL),
		     0);
	free(buf);
}

/* Trials where the two views disagreed: the property must see some. */
static int views_differ;

static void
compare_at(idg_db *full, idg_db *part, int64_t at, int view)
{
	static const char *const steps[] = {"a", "b", "c"};
	struct idg_funnel_step f1[3], f2[3];
	struct idg_uniques u1, u2;
	int i;

	u1 = uniques(full, NULL, at, view);
	u2 = uniques(part, NULL, at, view);
	cr_assert_eq(u1.uniques, u2.uniques, "uniques at %lld view %d",
		     (long long)at, view);
	cr_assert_eq(u1.events, u2.events);
	cr_assert_eq(u1.pending_merges, u2.pending_merges);
	cr_assert_eq(uniques(full, "b", at, view).uniques,
		     uniques(part, "b", at, view).uniques);
	funnel(full, steps, 3, 45 * MIN, at, view, f1);
	funnel(part, steps, 3, 45 * MIN, at, view, f2);
	for (i = 0; i < 3; i++)
		cr_assert_eq(f1[i].users, f2[i].users,
			     "funnel step %d at %lld view %d", i, (long long)at,
			     view);
}

Test(report, time_travel_equals_rebuild)
{
	static struct rec r[NREC];
	uint64_t seed;
	int trial;

	for (seed = 1; seed <= 4; seed++) {
		generate(r, NREC, seed);
		idg_close(db);
		tu_rmdir(dir);
		dir = tu_tmpdir();
		db = fresh(dir);
		ingest_lines(db, r, NREC, INT64_MAX);
		for (trial = 0; trial < 6; trial++) {
			int64_t at = r[next_rand() % NREC].stamp +
				     (int64_t)(next_rand() % 3) * 30 * MIN -
				     MIN;
			char *pdir = tu_tmpdir();
			idg_db *part = fresh(pdir);

			ingest_lines(part, r, NREC, at);
			compare_at(db, part, at, IDG_VIEW_LIVE);
			compare_at(db, part, at, IDG_VIEW_REPORTED);
			views_differ +=
			    uniques(db, NULL, at, IDG_VIEW_LIVE).uniques !=
			    uniques(db, NULL, at, IDG_VIEW_REPORTED).uniques;
			idg_close(part);
			tu_rmdir(pdir);
		}
	}
	cr_assert(views_differ > 0, "the generator never made the views "
				    "differ: the property tests nothing");
}
