/*
 * test_events.c — the event store through the public API: exact round
 * trips, deduplication, file memory and resume, MessagePack input,
 * failed identity events, soft-limit warnings and export filters.
 */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idgraph.h"
#include "testutil.h"

#define D1 "6f1c3b1e-0000-4a1b-9c1d-000000000001"

static char *dir;
static idg_db *db;

static idg_db *
open_at(const char *path, uint32_t batch)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	idg_db *h;

	o.flags = IDG_OPEN_CREATE;
	o.batch_size = batch;
	cr_assert_eq(idg_open(&h, path, &o), 0);
	return h;
}

static void
setup(void)
{
	dir = tu_tmpdir();
	db = open_at(dir, 0);
}

static void
teardown(void)
{
	idg_close(db);
	tu_rmdir(dir);
}

TestSuite(events, .init = setup, .fini = teardown);

static struct idg_ingest_stats
ingest(idg_db *h, const char *text)
{
	struct idg_ingest_stats st;

	cr_assert_eq(idg_ingest_buffer(h, text, strlen(text), NULL, &st), 0,
		     "%s", idg_errmsg(h));
	return st;
}

/* The export as one malloc'd string. */
static char *
export_opts(idg_db *h, const struct idg_export_opts *o, uint64_t *n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	cr_assert_eq(idg_export_events(h, fp, o, n), 0, "%s", idg_errmsg(h));
	fclose(fp);
	return buf;
}

static char *
export_all(idg_db *h)
{
	struct idg_export_opts o = IDG_EXPORT_OPTS_INIT;

	return export_opts(h, &o, NULL);
}

/* Asserts a == b, long as they are, showing where they first differ. */
static void
expect_text(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] && a[i] == b[i])
		i++;
	cr_assert(a[i] == b[i], "differ at byte %zu: \"%.60s\" vs \"%.60s\"",
		  i, a + (i > 20 ? i - 20 : 0), b + (i > 20 ? i - 20 : 0));
}

/* The export is want, and so again from a handle opened anew (what is
 * stored, not what the ingesting handle holds in memory). */
static void
expect_export(const char *want)
{
	char *out = export_all(db);

	expect_text(out, want);
	free(out);
	idg_close(db);
	db = open_at(dir, 0);
	out = export_all(db);
	expect_text(out, want);
	free(out);
}

Test(events, round_trip_keeps_every_type_exact)
{
	/* Written as the exporter writes: the export must equal it. */
	const char *line =
	    "{\"event\":\"Typed\",\"properties\":{\"distinct_id\":\"u\","
	    "\"time\":1700000000,\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\","
	    "\"esc\":\"q\\\"b\\\\n\\nt\\tc\\u0001\","
	    "\"i\":-42,\"big53\":9007199254740993,"
	    "\"u64\":18446744073709551615,"
	    "\"huge\":123456789012345678901234567890,"
	    "\"f\":0.1,\"one\":1.0,\"exp\":1e+300,\"negz\":-0.0,"
	    "\"t\":true,\"no\":false,\"nil\":null,\"empty\":\"\","
	    "\"list\":[1,\"two\",[3.5,{\"k\":null}],[]],"
	    "\"obj\":{\"a\":{\"b\":{}},\"c\":[]}}}\n";
	char *out;

	ingest(db, line);
	out = export_all(db);
	cr_assert_str_eq(out, line);
	free(out);
}

/* Property names with escapes are read unescaped ("\u0074ime" is time),
 * those without as they stand; the export writes each as JSON needs. */
Test(events, escaped_names_are_read_unescaped)
{
	char *out;

	ingest(db, "{\"ev\\u0065nt\":\"e\",\"properties\":{"
		   "\"distinct_\\u0069d\":\"u1\",\"\\u0074ime\":1700000000,"
		   "\"a\\\"b\":1,\"c\\\\d\":2,\"\\u00e9\":3,\"plain\":4}}\n");
	out = export_all(db);
	cr_assert_str_eq(out,
			 "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
			 "\"u1\",\"time\":1700000000,\"a\\\"b\":1,"
			 "\"c\\\\d\":2,\"\xc3\xa9\":3,\"plain\":4}}\n");
	free(out);
}

Test(events, integer_distinct_id_exports_its_text)
{
	char *out;

	ingest(db, "{\"event\":\"e\",\"properties\":{\"distinct_id\":12345,"
		   "\"time\":1700000000}}\n");
	out = export_all(db);
	/* An integer stands for its text: the same id, not a change. */
	cr_assert_str_eq(out,
			 "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
			 "\"12345\",\"time\":1700000000}}\n");
	free(out);
}

Test(events, export_resolves_and_keeps_id_as_sent)
{
	char *out;

	ingest(db, "{\"event\":\"a\",\"properties\":{\"distinct_id\":\"" D1
		   "\",\"time\":1700000000}}\n"
		   "{\"event\":\"$identify\",\"properties\":{\"distinct_id\":"
		   "\"U1\",\"$anon_distinct_id\":\"" D1
		   "\",\"time\":1700000600}}\n");
	out = export_all(db);
	cr_assert_str_eq(
	    out,
	    "{\"event\":\"a\",\"properties\":{\"distinct_id\":\"U1\","
	    "\"$distinct_id_before_identity\":\"" D1
	    "\",\"time\":1700000000}}\n"
	    "{\"event\":\"$identify\",\"properties\":{\"distinct_id\":"
	    "\"U1\",\"$anon_distinct_id\":\"" D1 "\",\"time\":1700000600}}\n");
	free(out);
}

/*
 * 40,000 clusters of two nodes each (a device and the user it identified
 * as: 80,000 nodes, more than the export's memo of canonical ids has
 * slots), then two events from each device, the second 40,000 events
 * after the first: every event exports its own user, whether its node's
 * answer was still kept or its slot had been taken by another node.
 */
Test(events, export_resolves_every_node_of_a_large_graph)
{
	enum { N = 40000 };
	size_t cap = (size_t)N * 400, len = 0;
	char *in = malloc(cap), *out, *line, *nl, want[160];
	int i, d;

	cr_assert_not_null(in);
	for (i = 0; i < N; i++)
		len += (size_t)snprintf(
		    in + len, cap - len,
		    "{\"event\":\"$identify\",\"properties\":{"
		    "\"distinct_id\":\"u%d\",\"$anon_distinct_id\":"
		    "\"00000000-0000-4000-8000-%012d\",\"time\":%d}}\n",
		    i, i, 1700000000 + i);
	for (i = 0; i < 2 * N; i++)
		len += (size_t)snprintf(
		    in + len, cap - len,
		    "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
		    "\"00000000-0000-4000-8000-%012d\",\"time\":%d}}\n",
		    (i * 7919) % N, 1700100000 + i);
	cr_assert_lt(len, cap);
	cr_assert_eq(idg_ingest_buffer(db, in, len, NULL, NULL), 0, "%s",
		     idg_errmsg(db));
	out = export_all(db);
	line = out;
	for (i = 0; i < 3 * N; i++, line = nl + 1) {
		nl = strchr(line, '\n');
		cr_assert_not_null(nl, "line %d missing", i);
		*nl = '\0';
		if (i < N)
			continue;
		d = (i - N) * 7919 % N;
		snprintf(want, sizeof(want),
			 "\"distinct_id\":\"u%d\",\"$distinct_id_before_"
			 "identity\":\"00000000-0000-4000-8000-%012d\"",
			 d, d);
		cr_assert(strstr(line, want), "event %d: %s, want %s", i - N,
			  line, want);
	}
	cr_assert_eq(*line, '\0');
	free(out);
	free(in);
}

Test(events, export_as_of_before_the_merge)
{
	struct idg_export_opts o = IDG_EXPORT_OPTS_INIT;
	char *out;

	ingest(db, "{\"event\":\"a\",\"properties\":{\"distinct_id\":\"" D1
		   "\",\"time\":1700000000}}\n"
		   "{\"event\":\"$identify\",\"properties\":{\"distinct_id\":"
		   "\"U1\",\"$anon_distinct_id\":\"" D1
		   "\",\"time\":1700000600}}\n");
	o.at = INT64_C(1700000000000);
	out = export_opts(db, &o, NULL);
	cr_assert_str_eq(out,
			 "{\"event\":\"a\",\"properties\":{\"distinct_id\":"
			 "\"" D1 "\",\"time\":1700000000}}\n");
	free(out);
	/* The reported view 30 minutes after the merge does not see it. */
	o.at = INT64_C(1700000600000) + 30 * 60000;
	o.view = IDG_VIEW_REPORTED;
	out = export_opts(db, &o, NULL);
	cr_assert(strstr(out, "\"distinct_id\":\"" D1 "\"") != NULL);
	free(out);
}

Test(events, export_filters_by_time_and_name)
{
	struct idg_export_opts o = IDG_EXPORT_OPTS_INIT;
	uint64_t n;
	char *out;

	ingest(db, "{\"event\":\"a\",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000001}}\n"
		   "{\"event\":\"b\",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000002}}\n"
		   "{\"event\":\"a\",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000003}}\n"
		   "{\"event\":\"a\",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000004}}\n");
	o.event = "a";
	free(export_opts(db, &o, &n));
	cr_assert_eq(n, 3);
	o.from_ms = INT64_C(1700000002000);
	o.to_ms = INT64_C(1700000004000);
	out = export_opts(db, &o, &n);
	cr_assert_eq(n, 1);
	cr_assert(strstr(out, "1700000003") != NULL);
	free(out);
	o.event = NULL;
	free(export_opts(db, &o, &n));
	cr_assert_eq(n, 2, "b at ...002 and a at ...003");
	{
		FILE *fp = fopen("/dev/null", "w");

		/* a name never seen is an error that lists the known ones,
		 * as in the reports, not an empty export */
		o.event = "nope";
		cr_assert_eq(idg_export_events(db, fp, &o, NULL),
			     IDG_ENOTFOUND);
		cr_assert_str_eq(idg_errmsg(db), "no event named \"nope\"; "
						 "known events: a, b");
		o.event = NULL;
		o.from_ms = o.to_ms;
		cr_assert_eq(idg_export_events(db, fp, &o, NULL), IDG_EINVAL);
		fclose(fp);
	}
}

Test(events, export_orders_by_time_then_ingestion)
{
	char *out;

	ingest(db, "{\"event\":\"late\",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000009}}\n"
		   "{\"event\":\"early\",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000001}}\n"
		   "{\"event\":\"tie2\",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000005}}\n"
		   "{\"event\":\"tie1\",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000005}}\n");
	out = export_all(db);
	cr_assert(strstr(out, "early") < strstr(out, "tie2"));
	cr_assert(strstr(out, "tie2") < strstr(out, "tie1"));
	cr_assert(strstr(out, "tie1") < strstr(out, "late"));
	free(out);
}

#define EV(ins, t, extra)                                                      \
	"{\"event\":\"buy\",\"properties\":{\"distinct_id\":\"u1\","           \
	"\"time\":" t ",\"$insert_id\":\"" ins "\"" extra "}}\n"

Test(events, dedup_last_copy_wins)
{
	struct idg_ingest_stats st;
	uint64_t n;
	char *out;

	st = ingest(db, EV("abc", "1700000000", ",\"v\":1")
			    EV("abc", "1700000000", ",\"v\":2"));
	cr_assert_eq(st.events, 2);
	cr_assert_eq(st.duplicates, 1);
	{
		struct idg_export_opts o = IDG_EXPORT_OPTS_INIT;

		out = export_opts(db, &o, &n);
	}
	cr_assert_eq(n, 1);
	cr_assert(strstr(out, "\"v\":2") != NULL);
	cr_assert(strstr(out, "\"v\":1") == NULL);
	free(out);
}

Test(events, dedup_needs_every_key_part)
{
	struct idg_export_opts o = IDG_EXPORT_OPTS_INIT;
	struct idg_ingest_stats st;
	uint64_t n;

	st = ingest(
	    db,
	    EV("abc", "1700000000", "") EV(
		"abc", "1700000001",
		"") "{\"event\":\"other\",\"properties\":{\"distinct_id\":"
		    "\"u1\","
		    "\"time\":1700000000,\"$insert_id\":\"abc\"}}\n"
		    "{\"event\":\"buy\",\"properties\":{\"distinct_id\":\"u2\","
		    "\"time\":1700000000,\"$insert_id\":\"abc\"}}\n" EV(
			"abd", "1700000000", ""));
	cr_assert_eq(st.duplicates, 0);
	free(export_opts(db, &o, &n));
	cr_assert_eq(n, 5);
	/* Seconds and milliseconds name the same time. */
	st = ingest(db, EV("abc", "1700000000000", ""));
	cr_assert_eq(st.duplicates, 1);
}

/*
 * 64 events of one millisecond that differ in one key part each: none is a
 * copy of another. In the hash_bits=4 build their dedup hashes collide
 * (64 events, 16 hashes), so the comparison of names and ids that
 * confirms a match is what keeps them apart.
 */
Test(events, dedup_confirms_a_matching_hash)
{
	struct idg_export_opts o = IDG_EXPORT_OPTS_INIT;
	struct idg_ingest_stats st;
	size_t cap = 64 * 200, len = 0;
	char *text = malloc(cap);
	uint64_t n;

	cr_assert_not_null(text);
	for (int i = 0; i < 64; i++) {
		/* i % 3 picks the part that differs: name, id or $insert_id. */
		int v = i / 3;

		len += (size_t)snprintf(
		    text + len, cap - len,
		    "{\"event\":\"e%d\",\"properties\":{\"distinct_id\":"
		    "\"u%d\",\"time\":1700000000,\"$insert_id\":\"i%d\"}}\n",
		    i % 3 == 0 ? v : 0, i % 3 == 1 ? v : 0,
		    i % 3 == 2 ? v : 0);
	}
	/* i = 0, 1, 2 are one event three times over: v is 0 for all. */
	st = ingest(db, text);
	cr_assert_eq(st.events, 64);
	cr_assert_eq(st.duplicates, 2);
	free(export_opts(db, &o, &n));
	cr_assert_eq(n, 62);
	/* The same again: every one a copy now. */
	st = ingest(db, text);
	cr_assert_eq(st.duplicates, 64);
	free(export_opts(db, &o, &n));
	cr_assert_eq(n, 62);
	free(text);
}

/* The stats say where the time went: both stages on two threads, the
 * calling thread alone on one. */
Test(events, stats_time_each_stage)
{
	struct idg_ingest_opts o = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats st;
	char text[4096];
	size_t len = 0;

	for (int i = 0; i < 20; i++)
		len += (size_t)snprintf(
		    text + len, sizeof(text) - len,
		    "{\"event\":\"E\",\"properties\":{\"distinct_id\":"
		    "\"u%d\",\"time\":1700000000,\"$insert_id\":\"t%d\"}}\n",
		    i, i);
	for (int threads = 1; threads <= 2; threads++) {
		o.threads = threads;
		cr_assert_eq(idg_ingest_buffer(db, text, len, &o, &st), 0,
			     "%s", idg_errmsg(db));
		cr_assert_eq(st.events, 20);
		cr_assert_gt(st.apply_busy, 0);
		cr_assert_gt(st.commit_seconds, 0);
		cr_assert_geq(st.apply_wait, 0);
		cr_assert_geq(st.parse_wait, 0);
		if (threads == 1) {
			cr_assert_eq(st.parse_busy, 0);
			cr_assert_eq(st.apply_wait, 0);
		} else {
			cr_assert_gt(st.parse_busy, 0);
		}
	}
}

Test(events, no_insert_id_never_dedups)
{
	struct idg_export_opts o = IDG_EXPORT_OPTS_INIT;
	const char *line = "{\"event\":\"buy\",\"properties\":{\"distinct_id\":"
			   "\"u1\",\"time\":1700000000}}\n";
	struct idg_ingest_stats st;
	uint64_t n;

	ingest(db, line);
	st = ingest(db, line);
	cr_assert_eq(st.duplicates, 0);
	free(export_opts(db, &o, &n));
	cr_assert_eq(n, 2);
}

Test(events, duplicate_identity_event_merges_nothing_again)
{
	struct idg_ingest_stats st;
	const char *line =
	    "{\"event\":\"$merge\",\"properties\":{"
	    "\"$distinct_ids\":[\"a\",\"b\"],\"time\":1700000000,"
	    "\"$insert_id\":\"m1\"}}\n";
	struct idg_info info;

	ingest(db, line);
	st = ingest(db, line);
	cr_assert_eq(st.duplicates, 1);
	cr_assert_eq(st.identity, 0);
	cr_assert_eq(idg_info(db, &info), 0);
	cr_assert_eq(info.log_size, 1);
}

Test(events, failed_identity_event_keeps_failure_properties)
{
	char *out;

	ingest(db, "{\"event\":\"$identify\",\"properties\":{\"distinct_id\":"
		   "\"u@x.com\",\"$anon_distinct_id\":\"abc\",\"time\":"
		   "1700000000}}\n");
	out = export_all(db);
	cr_assert_str_eq(
	    out,
	    "{\"event\":\"$identify\",\"properties\":{\"distinct_id\":"
	    "\"u@x.com\",\"$anon_distinct_id\":\"abc\",\"time\":1700000000,"
	    "\"$failure_reason\":\"errAnonDistinctIdNonGUIDForm\","
	    "\"$failure_description\":\"$anon_distinct_id didn't match "
	    "expected GUID pattern: abc\"}}\n");
	free(out);
}

Test(events, soft_limits_are_warnings_not_truncation)
{
	char *line = malloc(200000), *out;
	struct idg_ingest_stats st;
	size_t n = 0;
	int i;

	n += (size_t)sprintf(line, "{\"event\":\"wide\",\"properties\":{"
				   "\"distinct_id\":\"u\",\"time\":1700000000");
	for (i = 0; i < 300; i++)
		n += (size_t)sprintf(line + n, ",\"p%d\":%d", i, i);
	n += (size_t)sprintf(line + n, ",\"long\":\"");
	memset(line + n, 'x', 300);
	n += 300;
	n += (size_t)sprintf(line + n, "\",\"list\":[\"");
	memset(line + n, 'y', 256);
	n += 256;
	sprintf(line + n, "\"]}}\n");
	st = ingest(db, line);
	cr_assert_eq(st.rejected, 0);
	cr_assert_eq(st.many_props, 1);
	cr_assert_eq(st.long_strings, 2);
	cr_assert_eq(st.warnings, 3);
	out = export_all(db);
	cr_assert_str_eq(out, line, "kept whole");
	free(out);
	free(line);
}

/* ---- files: memory, resume --------------------------------------- */

static char *
write_file(const char *name, const char *text)
{
	return tu_write_file(dir, name, text, strlen(text));
}

Test(events, same_file_twice_is_skipped)
{
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats st;
	struct idg_info before, after;
	char *path = write_file(
	    "in.jsonl", "{\"event\":\"a\",\"properties\":{\"distinct_id\":"
			"\"x\",\"time\":1700000000}}\n"
			"{\"event\":\"$merge\",\"properties\":{"
			"\"$distinct_ids\":[\"x\",\"y\"],"
			"\"time\":1700000001}}\n");
	char *e1, *e2;

	cr_assert_eq(idg_ingest_file(db, path, &io, &st), 0);
	cr_assert_eq(st.skipped, 0);
	cr_assert_eq(st.events, 2);
	cr_assert_eq(idg_info(db, &before), 0);
	e1 = export_all(db);
	cr_assert_eq(idg_ingest_file(db, path, &io, &st), 0);
	cr_assert_eq(st.skipped, 1);
	cr_assert_eq(st.records, 0);
	cr_assert_eq(idg_info(db, &after), 0);
	cr_assert_eq(after.records, before.records);
	cr_assert_eq(after.log_size, before.log_size);
	e2 = export_all(db);
	cr_assert_str_eq(e1, e2);
	/* --force ingests it again: events without $insert_id repeat. */
	io.force = 1;
	cr_assert_eq(idg_ingest_file(db, path, &io, &st), 0);
	cr_assert_eq(st.skipped, 0);
	cr_assert_eq(st.events, 2);
	free(e1);
	free(e2);
	free(path);
}

Test(events, missing_file_is_a_clear_error)
{
	struct idg_ingest_stats st;

	cr_assert_eq(idg_ingest_file(db, "/nonexistent/x.jsonl", NULL, &st),
		     IDG_EIO);
	cr_assert(strstr(idg_errmsg(db), "/nonexistent/x.jsonl") != NULL);
}

/* A generated stream with merges, duplicates and no-insert-id events. */
static char *
generated(int n)
{
	char *buf = malloc((size_t)n * 200 + 1), *p = buf;
	int i;

	for (i = 0; i < n; i++) {
		long long t = 1700000000000LL + i * 1000LL;

		if (i % 7 == 3)
			p += sprintf(p,
				     "{\"event\":\"$merge\",\"properties\":{"
				     "\"$distinct_ids\":[\"u%d\",\"u%d\"],"
				     "\"time\":%lld}}\n",
				     i % 50, (i * 13) % 97, t);
		else if (i % 5 == 0)
			p +=
			    sprintf(p,
				    "{\"event\":\"e%d\",\"properties\":{"
				    "\"distinct_id\":\"u%d\",\"time\":%lld}}\n",
				    i % 3, i % 97, t);
		else
			p += sprintf(p,
				     "{\"event\":\"e%d\",\"properties\":{"
				     "\"distinct_id\":\"u%d\",\"time\":%lld,"
				     "\"$insert_id\":\"i%d\"}}\n",
				     i % 3, i % 97, t, i % 400);
	}
	return buf;
}

static int
mapping_line(void *user, const char *id, size_t il, const char *res, size_t rl)
{
	FILE *fp = user;

	fprintf(fp, "%.*s,%.*s\n", (int)il, id, (int)rl, res);
	return 0;
}

static int
log_line(void *user, const struct idg_log_entry *e)
{
	fprintf(user, "%llu %lld %s %s %s %d %d %s\n",
		(unsigned long long)e->seq, (long long)e->stamp, e->event,
		e->ids[0], e->ids[1], e->outcome, e->reason, e->canonical);
	return 0;
}

/* Everything a database holds, as text, for comparing two of them. */
static char *
dump(idg_db *h)
{
	struct idg_export_opts o = IDG_EXPORT_OPTS_INIT;
	struct idg_info info;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_eq(idg_export_events(h, fp, &o, NULL), 0);
	cr_assert_eq(
	    idg_mappings_foreach(h, IDG_NOW, IDG_VIEW_LIVE, mapping_line, fp),
	    0);
	cr_assert_eq(idg_log_foreach(h, log_line, fp), 0);
	cr_assert_eq(idg_info(h, &info), 0);
	fprintf(fp, "%lld %llu %llu %llu\n", (long long)info.stamp,
		(unsigned long long)info.records,
		(unsigned long long)info.nodes,
		(unsigned long long)info.log_size);
	fclose(fp);
	return buf;
}

static int
kill_after_two(void *user, const struct idg_progress *p)
{
	int *batches = user;

	(void)p;
	if (++*batches == 2)
		kill(getpid(), SIGKILL);
	return 0;
}

Test(events, resume_after_kill_equals_one_clean_ingest)
{
	char *text = generated(2000), *path = write_file("big.jsonl", text);
	char *clean_dir = tu_tmpdir(), *a, *b;
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats st;
	idg_db *clean;
	pid_t pid;
	int status;

	idg_close(db);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int batches = 0;
		idg_db *h = open_at(dir, 300);

		io.on_progress = kill_after_two;
		io.user = &batches;
		idg_ingest_file(h, path, &io, NULL);
		_exit(3); /* not reached: killed after two batches */
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	db = open_at(dir, 300);
	{
		struct idg_info info;

		cr_assert_eq(idg_info(db, &info), 0);
		cr_assert_eq(info.records, 600, "two whole batches");
	}
	cr_assert_eq(idg_ingest_file(db, path, &io, &st), IDG_EPARTIAL);
	cr_assert(strstr(idg_errmsg(db), "--resume") != NULL);
	io.resume = 1;
	cr_assert_eq(idg_ingest_file(db, path, &io, &st), 0, "%s",
		     idg_errmsg(db));
	cr_assert_eq(st.resumed_at, 601);
	cr_assert_eq(st.records, 1400);
	clean = open_at(clean_dir, 0);
	io.resume = 0;
	cr_assert_eq(idg_ingest_file(clean, path, &io, &st), 0);
	a = dump(db);
	b = dump(clean);
	cr_assert_str_eq(a, b);
	/* Done now: a third ingest is skipped. */
	cr_assert_eq(idg_ingest_file(db, path, &io, &st), 0);
	cr_assert_eq(st.skipped, 1);
	idg_close(clean);
	tu_rmdir(clean_dir);
	free(a);
	free(b);
	free(text);
	free(path);
}

/*
 * After the first batch of an ingest, another process ingests the same
 * file: with --resume (what the message of a partly ingested file
 * advises), or from its start, as a second run begun at the same time
 * would. Either way the first ingest must stop at its next commit, and
 * the database must hold each record once.
 */
struct rival {
	const char *dir, *path;
	int resume, batches, status;
};

static int
rival_after_first(void *user, const struct idg_progress *p)
{
	struct rival *r = user;
	pid_t pid;

	(void)p;
	if (++r->batches != 1)
		return 0;
	pid = fork();
	if (pid == 0) {
		struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
		idg_db *h = NULL;
		int rc;

		io.threads = 1;
		io.resume = r->resume;
		io.force = !r->resume;
		rc = idg_open(&h, r->dir, NULL);
		if (rc == 0)
			rc = idg_ingest_file(h, r->path, &io, NULL);
		idg_close(h);
		_exit(rc == 0 ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &r->status, 0) != pid)
		r->status = -1;
	return 0;
}

static void
rival_ingest(int resume)
{
	char *text = generated(2000), *path = write_file("rival.jsonl", text);
	char *clean_dir = tu_tmpdir(), *a, *b;
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct rival r = {dir, path, resume, 0, -1};
	struct idg_ingest_stats st;
	idg_db *clean;

	idg_close(db);
	db = open_at(dir, 300);
	io.threads = 1; /* fork() from a process of one thread */
	io.on_progress = rival_after_first;
	io.user = &r;
	cr_assert_eq(idg_ingest_file(db, path, &io, NULL), IDG_EBUSY, "%s",
		     idg_errmsg(db));
	cr_assert(strstr(idg_errmsg(db), "another ingest of") != NULL, "%s",
		  idg_errmsg(db));
	cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
		  "the other ingest ran: %d", r.status);
	cr_assert_eq(r.batches, 1, "no commit after the other's");
	clean = open_at(clean_dir, 0);
	io.on_progress = NULL;
	if (!resume) {
		/* the other started over: what it made is the first batch
		 * (the first 300 lines, this ingest's), then the whole file */
		const char *p = text;

		for (int line = 0; line < 300; line++)
			p = strchr(p, '\n') + 1;
		cr_assert_eq(idg_ingest_buffer(clean, text,
					       (size_t)(p - text), NULL, NULL),
			     0);
	}
	cr_assert_eq(idg_ingest_file(clean, path, &io, NULL), 0);
	a = dump(db);
	b = dump(clean);
	cr_assert_str_eq(a, b);
	/* The file is done: one more ingest is skipped. */
	cr_assert_eq(idg_ingest_file(db, path, &io, &st), 0);
	cr_assert_eq(st.skipped, 1);
	idg_close(clean);
	tu_rmdir(clean_dir);
	free(a);
	free(b);
	free(text);
	free(path);
}

Test(events, ingest_stops_when_another_resumes_the_same_file)
{
	rival_ingest(1);
}

Test(events, ingest_stops_when_another_ingests_the_same_file)
{
	rival_ingest(0);
}

/* ---- MessagePack input ------------------------------------------- */

static void
pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* The MessagePack twin of the JSON lines in json_twin below. */
static void
pack_twin(msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	/* {"event":"a","properties":{"distinct_id":D1,"time":1700000000,
	 *  "n":-5,"f":2.5,"l":[1,"x"],"o":{"k":true},"z":null}} */
	msgpack_pack_map(&pk, 2);
	pack_str(&pk, "event");
	pack_str(&pk, "a");
	pack_str(&pk, "properties");
	msgpack_pack_map(&pk, 7);
	pack_str(&pk, "distinct_id");
	pack_str(&pk, D1);
	pack_str(&pk, "time");
	msgpack_pack_int64(&pk, 1700000000);
	pack_str(&pk, "n");
	msgpack_pack_int64(&pk, -5);
	pack_str(&pk, "f");
	msgpack_pack_double(&pk, 2.5);
	pack_str(&pk, "l");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int64(&pk, 1);
	pack_str(&pk, "x");
	pack_str(&pk, "o");
	msgpack_pack_map(&pk, 1);
	pack_str(&pk, "k");
	msgpack_pack_true(&pk);
	pack_str(&pk, "z");
	msgpack_pack_nil(&pk);
	/* an array of two records: an identify and a bad one */
	msgpack_pack_array(&pk, 2);
	msgpack_pack_map(&pk, 2);
	pack_str(&pk, "event");
	pack_str(&pk, "$identify");
	pack_str(&pk, "properties");
	msgpack_pack_map(&pk, 3);
	pack_str(&pk, "distinct_id");
	pack_str(&pk, "U1");
	pack_str(&pk, "$anon_distinct_id");
	pack_str(&pk, D1);
	pack_str(&pk, "time");
	msgpack_pack_int64(&pk, 1700000600);
	msgpack_pack_map(&pk, 1);
	pack_str(&pk, "event");
	pack_str(&pk, "no properties");
}

static const char json_twin[] =
    "{\"event\":\"a\",\"properties\":{\"distinct_id\":\"" D1
    "\",\"time\":1700000000,\"n\":-5,\"f\":2.5,\"l\":[1,\"x\"],"
    "\"o\":{\"k\":true},\"z\":null}}\n"
    "[{\"event\":\"$identify\",\"properties\":{\"distinct_id\":\"U1\","
    "\"$anon_distinct_id\":\"" D1 "\",\"time\":1700000600}},"
    "{\"event\":\"no properties\"}]\n";

struct rejects {
	int n;
	uint64_t line[4];
	uint32_t index[4];
};

static int
on_reject(void *user, const struct idg_reject *r)
{
	struct rejects *rj = user;

	if (rj->n < 4) {
		rj->line[rj->n] = r->line;
		rj->index[rj->n] = r->index;
	}
	rj->n++;
	return 0;
}

Test(events, msgpack_input_equals_json_input)
{
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats sj, sm;
	struct rejects rj = {0}, rm = {0};
	char *mdir = tu_tmpdir(), *a, *b;
	msgpack_sbuffer sb;
	idg_db *m;

	io.on_reject = on_reject;
	io.user = &rj;
	cr_assert_eq(
	    idg_ingest_buffer(db, json_twin, strlen(json_twin), &io, &sj), 0);
	msgpack_sbuffer_init(&sb);
	pack_twin(&sb);
	m = open_at(mdir, 0);
	io.user = &rm;
	cr_assert_eq(idg_ingest_buffer(m, sb.data, sb.size, &io, &sm), 0);
	cr_assert_eq(sm.records, sj.records);
	cr_assert_eq(sm.rejected, 1);
	cr_assert_eq(sj.rejected, 1);
	cr_assert_eq(rm.line[0], 2, "second top-level value");
	cr_assert_eq(rm.index[0], 1, "its second element");
	a = dump(db);
	b = dump(m);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	idg_close(m);
	tu_rmdir(mdir);
	msgpack_sbuffer_destroy(&sb);
}

Test(events, msgpack_truncated_and_broken_streams)
{
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats st;
	msgpack_sbuffer sb;
	char *broken;

	msgpack_sbuffer_init(&sb);
	pack_twin(&sb);
	/* Cut the last value short: the first two survive. */
	cr_assert_eq(idg_ingest_buffer(db, sb.data, sb.size - 3, &io, &st), 0);
	cr_assert_eq(st.events, 1);
	cr_assert_eq(st.rejected, 1);
	/* 0xc1 is never valid MessagePack: the rest cannot be read. */
	broken = malloc(sb.size + 1);
	memcpy(broken, sb.data, sb.size);
	broken[sb.size] = (char)0xc1;
	io.format = IDG_FORMAT_MSGPACK;
	cr_assert_eq(idg_ingest_buffer(db, broken, sb.size + 1, &io, &st), 0);
	cr_assert_eq(st.rejected, 2);
	free(broken);
	msgpack_sbuffer_destroy(&sb);
}

Test(events, msgpack_from_a_stream_in_small_reads)
{
	struct idg_ingest_stats st;
	msgpack_sbuffer sb;
	FILE *fp;
	char *a, *b, *mdir = tu_tmpdir();
	idg_db *m;
	int i;

	msgpack_sbuffer_init(&sb);
	for (i = 0; i < 3000; i++)
		pack_twin(&sb);
	fp = fmemopen(sb.data, sb.size, "r");
	cr_assert_not_null(fp);
	m = open_at(mdir, 500);
	cr_assert_eq(idg_ingest_stream(m, fp, NULL, &st), 0, "%s",
		     idg_errmsg(m));
	cr_assert_eq(st.events, 6000);
	cr_assert_eq(st.rejected, 3000);
	fclose(fp);
	cr_assert_eq(idg_ingest_buffer(db, sb.data, sb.size, NULL, &st), 0);
	a = dump(db);
	b = dump(m);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	idg_close(m);
	tu_rmdir(mdir);
	msgpack_sbuffer_destroy(&sb);
}

/* A directory is no file of records: said so, not "read error". */
Test(events, a_directory_is_no_input_file)
{
	struct idg_ingest_stats st;

	cr_assert_eq(idg_ingest_file(db, dir, NULL, &st), IDG_EINVAL);
	cr_assert(strstr(idg_errmsg(db), "is a directory"), "%s",
		  idg_errmsg(db));
}

Test(events, different_files_are_never_taken_for_the_same)
{
	struct idg_ingest_stats st;
	char name[32], line[160];
	int i;

	/* File memory uses the full hash even in the collision build. */
	for (i = 0; i < 40; i++) {
		char *path;

		snprintf(name, sizeof(name), "f%d.jsonl", i);
		snprintf(line, sizeof(line),
			 "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
			 "\"u%d\",\"time\":1700000000}}\n",
			 i);
		path = write_file(name, line);
		cr_assert_eq(idg_ingest_file(db, path, NULL, &st), 0);
		cr_assert_eq(st.skipped, 0, "file %d taken for another", i);
		free(path);
	}
}

Test(events, failure_properties_are_replaced_not_repeated)
{
	char *first, *second, *d2 = tu_tmpdir();
	idg_db *other = open_at(d2, 0);

	ingest(db, "{\"event\":\"$identify\",\"properties\":{\"distinct_id\":"
		   "\"x\",\"$anon_distinct_id\":\"x\",\"time\":1700000000}}\n");
	first = export_all(db);
	cr_assert(strstr(first, "\"$failure_reason\":\"errSameIDs\"") != NULL);
	ingest(other, first);
	second = export_all(other);
	cr_assert_str_eq(second, first);
	free(first);
	free(second);
	idg_close(other);
	tu_rmdir(d2);
}

Test(events, parse_only_counts_records_without_a_database)
{
	const char *text = json_twin;
	msgpack_sbuffer sb;
	uint64_t n;
	FILE *fp;

	fp = fmemopen((void *)text, strlen(text), "r");
	cr_assert_eq(idg_parse_only(fp, IDG_FORMAT_AUTO, &n), 0);
	fclose(fp);
	cr_assert_eq(n, 3, "a record and an array of two");
	msgpack_sbuffer_init(&sb);
	pack_twin(&sb);
	fp = fmemopen(sb.data, sb.size, "r");
	cr_assert_eq(idg_parse_only(fp, IDG_FORMAT_AUTO, &n), 0);
	fclose(fp);
	cr_assert_eq(n, 3);
	msgpack_sbuffer_destroy(&sb);
	cr_assert_eq(idg_parse_only(NULL, IDG_FORMAT_AUTO, &n), IDG_EINVAL);
}

/* Every u0..u96 of generated() resolves alike in a and b: the copy holds
 * each id under its hash (several under one in the collision build). */
static void
expect_same_ids(idg_db *a, idg_db *b)
{
	struct idg_resolution ra, rb;
	char id[16], ca[64];
	int i, found = 0;

	for (i = 0; i < 97; i++) {
		int rc;

		snprintf(id, sizeof id, "u%d", i);
		rc = idg_resolve(a, id, strlen(id), IDG_NOW, IDG_VIEW_LIVE, &ra);
		cr_assert(rc == 0 || rc == IDG_ENOTFOUND);
		snprintf(ca, sizeof ca, "%s", rc == 0 ? ra.canonical : "");
		cr_assert_eq(idg_resolve(b, id, strlen(id), IDG_NOW,
					 IDG_VIEW_LIVE, &rb),
			     rc, "%s", id);
		found += rc == 0;
		if (rc == 0) {
			cr_assert_str_eq(rb.canonical, ca, "%s", id);
			cr_assert_eq(rb.cluster_size, ra.cluster_size, "%s", id);
		}
	}
	cr_assert_geq(found, 90);
}

/* dump() and the profiles, hidden ones included. */
static char *
dump_all(idg_db *h)
{
	char *d = dump(h), *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	fputs(d, fp);
	cr_assert_eq(idg_export_profiles(h, fp, IDG_FORMAT_JSONL, 1, NULL), 0,
		     "%s", idg_errmsg(h));
	fclose(fp);
	free(d);
	return buf;
}

Test(events, store_only_copies_every_record)
{
	static const char profiles[] =
	    "{\"$distinct_id\":\"u1\",\"$set\":{\"a\":1,\"b\":\"x\"}}\n"
	    "{\"$distinct_id\":\"u2\",\"$union\":{\"l\":[1,2]}}\n"
	    "{\"$distinct_id\":\"u3\",\"$delete\":\"\"}\n";
	static const char more[] =
	    "{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":"
	    "[\"u1\",\"new\"],\"time\":1800000000000}}\n"
	    "{\"event\":\"late\",\"properties\":{\"distinct_id\":\"new\","
	    "\"time\":1800000001000,\"$insert_id\":\"i1\"}}\n"
	    "{\"$distinct_id\":\"new\",\"$add\":{\"n\":2}}\n";
	char *text = generated(3000), *base = tu_tmpdir(), *a, *b;
	char dst[4096], dst2[4096];
	uint64_t n = 0, n2 = 0;
	struct idg_info info;
	idg_db *copy;

	snprintf(dst, sizeof dst, "%s/copy", base);
	snprintf(dst2, sizeof dst2, "%s/copy2", base);
	ingest(db, text);
	ingest(db, profiles);
	cr_assert_eq(idg_store_only(db, dst, 3, &n), 0, "%s", idg_errmsg(db));
	/* at least a name, a hash entry and a record per node, and the
	 * identity log */
	cr_assert_eq(idg_info(db, &info), 0);
	cr_assert_geq(n, 3 * info.nodes + info.log_size, "%llu records",
		      (unsigned long long)n);
	copy = open_at(dst, 0);
	expect_same_ids(db, copy);
	a = dump_all(db);
	b = dump_all(copy);
	expect_text(a, b);
	free(a);
	free(b);
	/* The copy of the copy writes as many records (0 commits: one). */
	cr_assert_eq(idg_store_only(copy, dst2, 0, &n2), 0);
	cr_assert_eq(n2, n);
	/* The copy goes on as the database would: its counters came too. */
	ingest(db, more);
	ingest(copy, more);
	a = dump_all(db);
	b = dump_all(copy);
	expect_text(a, b);
	free(a);
	free(b);
	/* A path that holds a database is refused, and left as it was. */
	a = dump_all(copy);
	idg_close(copy);
	cr_assert_eq(idg_store_only(db, dst, 1, &n2), IDG_EINVAL);
	cr_assert(strstr(idg_errmsg(db), "holds a database already"),
		  "%s", idg_errmsg(db));
	cr_assert_eq(n2, 0);
	copy = open_at(dst, 0);
	b = dump_all(copy);
	expect_text(a, b);
	free(a);
	free(b);
	cr_assert_eq(idg_store_only(NULL, dst2, 1, &n2), IDG_EINVAL);
	idg_close(copy);
	free(text);
	tu_rmdir(base);
}

Test(events, json_to_msgpack_ingests_like_the_json)
{
	char *mp = NULL, *a, *b, *d2 = tu_tmpdir();
	size_t len = 0;
	FILE *fp = open_memstream(&mp, &len);
	const char line[] = "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
			    "\"u\",\"time\":1700000000,\"big\":"
			    "123456789012345678901234567890,\"f\":2.5,"
			    "\"l\":[1,\"x\",{\"k\":null}]}}";
	idg_db *other = open_at(d2, 0);

	cr_assert_eq(idg_json_to_msgpack(line, sizeof(line) - 1, fp), 0);
	cr_assert_eq(idg_json_to_msgpack("{\"a\":", 5, fp), IDG_EINVAL);
	fclose(fp);
	cr_assert((((unsigned char)mp[0] & 0xf0) == 0x80 ||
		   (unsigned char)mp[0] == 0xde ||
		   (unsigned char)mp[0] == 0xdf),
		  "a MessagePack map");
	ingest(db, line);
	cr_assert_eq(idg_ingest_buffer(other, mp, len, NULL, NULL), 0);
	a = export_all(db);
	b = export_all(other);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	free(mp);
	idg_close(other);
	tu_rmdir(d2);
}

/* A lone string, number, true, false or null is a JSON value too: its
 * encoding once failed (On-Demand reads a scalar only as a document), and
 * with it `idgraph gen --noise --format msgpack`. */
Test(events, json_to_msgpack_of_a_lone_scalar)
{
	static const struct {
		const char *json, *mp;
		size_t mp_len;
	} cases[] = {
	    {"\"not a record\"", "\xacnot a record", 13},
	    {" \"x\" ", "\xa1x", 2},
	    {"1", "\x01", 1},
	    {"-2.5", "\xcb\xc0\x04\0\0\0\0\0\0", 9},
	    {"true", "\xc3", 1},
	    {"null", "\xc0", 1},
	    {"123456789012345678901234567890",
	     "\xc7\x1e\x01" "123456789012345678901234567890", 33},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *mp = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&mp, &len);

		cr_assert_eq(idg_json_to_msgpack(cases[i].json,
						 strlen(cases[i].json), fp),
			     0, "%s", cases[i].json);
		fclose(fp);
		cr_assert_eq(len, cases[i].mp_len, "%s: %zu bytes",
			     cases[i].json, len);
		cr_assert(memcmp(mp, cases[i].mp, len) == 0, "%s",
			  cases[i].json);
		free(mp);
	}
	cr_assert_eq(idg_json_to_msgpack("1 2", 3, stdout), IDG_EINVAL);
	/* Wrapped in [ ], these would be lists: they are no one value. */
	cr_assert_eq(idg_json_to_msgpack("1,2", 3, stdout), IDG_EINVAL);
	cr_assert_eq(idg_json_to_msgpack("\"a\", {\"b\":1}", 13, stdout),
		     IDG_EINVAL);
	cr_assert_eq(idg_json_to_msgpack("1 ,[2,3]", 8, stdout), IDG_EINVAL);
	cr_assert_eq(idg_json_to_msgpack("", 0, stdout), IDG_EINVAL);
}

/* Ingests text into dir from another process, with its own handle (one
 * handle per directory and process: an LMDB rule). */
static void
ingest_elsewhere(const char *text)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		idg_db *h = open_at(dir, 0);
		int rc = idg_ingest_buffer(h, text, strlen(text), NULL, NULL);

		idg_close(h);
		_exit(rc == 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(events, two_processes_number_property_names_without_clashing)
{
	const char *l1 = "{\"event\":\"E\",\"properties\":{\"distinct_id\":"
			 "\"u\",\"time\":1700000001,\"a1\":1}}\n";
	const char *l2 = "{\"event\":\"E\",\"properties\":{\"distinct_id\":"
			 "\"u\",\"time\":1700000002,\"b1\":2}}\n";
	const char *l3 = "{\"event\":\"E\",\"properties\":{\"distinct_id\":"
			 "\"u\",\"time\":1700000003,\"c1\":3,\"b1\":4,\"a1\":5}}\n";
	char want[512];

	/* Each handle numbers names in its own memory: names another
	 * process added since must be read before the next batch numbers
	 * more (one handle per directory and process: an LMDB rule). */
	ingest(db, l1);
	ingest_elsewhere(l2);
	ingest(db, l3);
	snprintf(want, sizeof(want), "%s%s%s", l1, l2, l3);
	expect_export(want);
}

Test(events, long_names_and_a_full_dictionary_round_trip)
{
	/* 70 events of 1,000 new names each: past the 65,535 names the
	 * dictionary holds, so later names are kept as text. One name is
	 * longer than any the dictionary takes. */
	char *in = NULL, *out;
	size_t len = 0;
	FILE *fp = open_memstream(&in, &len);

	cr_assert_not_null(fp);
	for (int e = 0; e < 70; e++) {
		fprintf(fp, "{\"event\":\"Wide\",\"properties\":{"
			    "\"distinct_id\":\"u\",\"time\":%d", 1700000000 + e);
		if (e == 0) {
			fputs(",\"", fp);
			for (int i = 0; i < 300; i++)
				fputc('n', fp);
			fputs("\":true", fp);
		}
		for (int i = 0; i < 1000; i++)
			fprintf(fp, ",\"p%d_%d\":%d", e, i, i);
		fputs(",\"$browser\":\"Chrome\"}}\n", fp);
	}
	fclose(fp);
	ingest(db, in);
	out = export_all(db);
	cr_assert_eq(strlen(out), strlen(in));
	cr_assert(strcmp(out, in) == 0, "the export differs from the input");
	free(out);
	free(in);
}

/* ---- one thread or two ---------------------------------------------- */

/* Every reject as a line of text: where, which field, why, which bytes. */
static int
reject_text(void *user, const struct idg_reject *r)
{
	fprintf(user, "%llu %u %d %s %s %zu %.*s\n",
		(unsigned long long)r->line, r->index, r->in_array, r->field,
		r->message, r->raw_len, (int)(r->raw_len < 60 ? r->raw_len : 60),
		r->raw);
	return 0;
}

/* Ingests text into a fresh database with `threads`; returns its dump,
 * and the rejects and counts as text in *log. */
static char *
ingest_with(const char *text, size_t len, int threads, char **log)
{
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats st;
	char *d = tu_tmpdir(), *out;
	size_t n = 0;
	FILE *fp = open_memstream(log, &n);
	idg_db *h = open_at(d, 300);

	io.threads = threads;
	io.on_reject = reject_text;
	io.user = fp;
	cr_assert_eq(idg_ingest_buffer(h, text, len, &io, &st), 0, "%s",
		     idg_errmsg(h));
	fprintf(fp, "records %llu rejected %llu events %llu bytes %llu "
		    "batches %llu duplicates %llu\n",
		(unsigned long long)st.records,
		(unsigned long long)st.rejected, (unsigned long long)st.events,
		(unsigned long long)st.bytes, (unsigned long long)st.batches,
		(unsigned long long)st.duplicates);
	fclose(fp);
	out = dump(h);
	idg_close(h);
	tu_rmdir(d);
	return out;
}

Test(events, one_thread_and_two_make_the_same_database)
{
	char *good = generated(3000), *text, *a, *b, *la, *lb;
	size_t big = (size_t)1024 * 1024 + 10, len = 0;
	FILE *fp = open_memstream(&text, &len);
	const char *cut = good;

	/* The generated lines, with bad and odd ones among them, and one
	 * record larger than the parse stage's 1 MiB chunks. */
	for (int i = 0; i < 3000; i++) {
		const char *nl = strchr(cut, '\n');

		fwrite(cut, 1, (size_t)(nl - cut) + 1, fp);
		cut = nl + 1;
		if (i % 97 == 5)
			fputs("{\"event\":\"broken\",\n", fp);
		if (i % 211 == 7)
			fputs("\r\n   \n", fp);
		if (i % 331 == 9)
			fputs("[{\"event\":\"ok\",\"properties\":{\"distinct_id\":"
			      "\"a\",\"time\":1700000000}},{\"event\":1}]\n",
			      fp);
		if (i == 10) {
			/* Unreadable after their fields were half read. */
			fputs("{\"$distinct_id\":\"u\",\"$set\":{\"a\":1},"
			      "\"$add\":{\"b\":1},\"x\":tru}\n", fp);
			fputs("{\"event\":\"e\",\"properties\":{},"
			      "\"properties\":{\"time\":1},\"x\":tru}\n", fp);
		}
		if (i == 2000) {
			/* One line of 30,000 records: it spans many of the
			 * parse stage's chunks. */
			fputc('[', fp);
			for (int k = 0; k < 30000; k++)
				fprintf(fp, "%s{\"event\":\"a%d\",\"properties\":"
					    "{\"distinct_id\":\"arr%d\",\"time\":"
					    "%d}}",
					k ? "," : "", k % 5, k % 300,
					k % 1000 == 7 ? 5 : 1700000000 + k);
			fputs("]\n", fp);
		}
		if (i == 1500) {
			fputs("{\"event\":\"huge\",\"properties\":{\"x\":\"", fp);
			for (size_t k = 0; k < big; k++)
				fputc('x', fp);
			fputs("\"}}\n", fp);
		}
	}
	fclose(fp);
	a = ingest_with(text, len, 1, &la);
	b = ingest_with(text, len, 0, &lb);
	cr_assert(strstr(la, "larger than 1 MiB"), "%.200s", la);
	/* 31 broken lines, 10 bad array elements, the huge record, the two
	 * half-read records, 30 records of the long line (time 5). */
	cr_assert(strstr(la, " rejected 74 "), "%s", la);
	cr_assert_str_eq(la, lb);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	free(la);
	free(lb);
	free(text);
	free(good);
}

Test(events, one_thread_and_two_read_messagepack_alike)
{
	msgpack_sbuffer sb;
	char *a, *b, *la, *lb, *broken;
	size_t n;

	msgpack_sbuffer_init(&sb);
	for (int i = 0; i < 500; i++)
		pack_twin(&sb);
	/* A value cut short at the end; then a stream broken midway. */
	a = ingest_with(sb.data, sb.size - 3, 1, &la);
	b = ingest_with(sb.data, sb.size - 3, 0, &lb);
	cr_assert(strstr(la, "truncated"), "%.200s", la);
	cr_assert_str_eq(la, lb);
	cr_assert_str_eq(a, b);
	free(a), free(b), free(la), free(lb);
	n = sb.size / 2;
	broken = malloc(sb.size);
	memcpy(broken, sb.data, sb.size);
	broken[n] = (char)0xc1;
	a = ingest_with(broken, sb.size, 1, &la);
	b = ingest_with(broken, sb.size, 0, &lb);
	cr_assert_str_eq(la, lb);
	cr_assert_str_eq(a, b);
	free(a), free(b), free(la), free(lb);
	free(broken);
	msgpack_sbuffer_destroy(&sb);
}

/* The peak RSS of this process, in KiB. */
static long
peak_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

Test(events, long_array_lines_cross_threads_in_bounded_memory)
{
	/* Three lines of 340,000 unreadable records each (3 MB of input):
	 * the parse stage hands them over a chunk at a time rather than
	 * holding a line's records at once (478 MB for one such line). */
	enum { LINES = 3, ELEMS = 340000 };
	size_t len = (size_t)LINES * (2 * ELEMS + 2);
	char *text = malloc(len + 1), *p = text;
	pid_t pid;
	int status;

	for (int l = 0; l < LINES; l++) {
		*p++ = '[';
		for (int k = 0; k < ELEMS; k++) {
			*p++ = '1';
			*p++ = k + 1 < ELEMS ? ',' : ']';
		}
		*p++ = '\n';
	}
	len = (size_t)(p - text);
	fflush(NULL);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* Its own process, so that only this ingest's peak counts,
		 * and its own database (an LMDB handle stays in the process
		 * that opened it). */
		struct idg_ingest_stats st;
		char *d = tu_tmpdir();
		idg_db *h = open_at(d, 0);
		long before = peak_kb();
		int rc = idg_ingest_buffer(h, text, len, NULL, &st);

		idg_close(h);
		tu_rmdir(d);
		_exit(rc != 0 ? 2
		      : st.rejected != (uint64_t)LINES * ELEMS ? 3
		      : peak_kb() - before > 200 * 1024 ? 4
							  : 0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0,
		     "2: ingest failed, 3: wrong count, 4: over 200 MiB");
	free(text);
}

Test(events, an_id_another_process_added_is_found_not_made_again)
{
	/* This handle's id cache knows every id of the database it filled
	 * from empty, and so takes a miss for a new id: until another
	 * process adds ids, which the next batch must notice. */
	const char *a = "{\"event\":\"E\",\"properties\":{\"distinct_id\":"
			"\"ida\",\"time\":1700000001}}\n";
	const char *b = "{\"event\":\"E\",\"properties\":{\"distinct_id\":"
			"\"idb\",\"time\":1700000002}}\n";
	const char *ab = "{\"event\":\"E\",\"properties\":{\"distinct_id\":"
			 "\"idb\",\"time\":1700000003}}\n"
			 "{\"event\":\"E\",\"properties\":{\"distinct_id\":"
			 "\"ida\",\"time\":1700000004}}\n";
	struct idg_info info;

	ingest(db, a);
	ingest_elsewhere(b);
	cr_assert_eq(ingest(db, ab).nodes_created, 0);
	cr_assert_eq(idg_info(db, &info), 0);
	cr_assert_eq(info.nodes, 2, "idb was made twice");
}

Test(events, node_records_another_process_changed_are_read_again)
{
	/* This handle caches node records from one batch to the next: until
	 * another process commits, which the next batch must notice. Here
	 * that process merges u1's cluster into a larger one, so u1's root
	 * is no longer a root; a merge through a stale u1 would split the
	 * cluster. */
	const char *mine = "{\"event\":\"$merge\",\"properties\":{"
			   "\"$distinct_ids\":[\"d1\",\"u1\"],"
			   "\"time\":1700000001}}\n";
	const char *theirs = "{\"event\":\"$merge\",\"properties\":{"
			     "\"$distinct_ids\":[\"d2\",\"u2\"],"
			     "\"time\":1700000002}}\n"
			     "{\"event\":\"$merge\",\"properties\":{"
			     "\"$distinct_ids\":[\"d3\",\"u2\"],"
			     "\"time\":1700000003}}\n"
			     "{\"event\":\"$merge\",\"properties\":{"
			     "\"$distinct_ids\":[\"u1\",\"u2\"],"
			     "\"time\":1700000004}}\n";
	const char *more = "{\"event\":\"$merge\",\"properties\":{"
			   "\"$distinct_ids\":[\"d4\",\"u1\"],"
			   "\"time\":1700000005}}\n";
	static const char *const ids[] = {"d1", "u1", "d2", "u2", "d3", "d4"};
	struct idg_resolution r;
	char canon[64];

	cr_assert_eq(ingest(db, mine).merged, 1);
	ingest_elsewhere(theirs);
	cr_assert_eq(ingest(db, more).merged, 1);
	cr_assert_eq(idg_resolve(db, "u2", 2, IDG_NOW, IDG_VIEW_LIVE, &r), 0);
	snprintf(canon, sizeof(canon), "%.*s", (int)r.canonical_len,
		 r.canonical);
	for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
		cr_assert_eq(idg_resolve(db, ids[i], strlen(ids[i]), IDG_NOW,
					 IDG_VIEW_LIVE, &r),
			     0);
		cr_assert_eq(r.cluster_size, 6, "%s: cluster of %llu", ids[i],
			     (unsigned long long)r.cluster_size);
		cr_assert_eq(strcmp(r.canonical, canon), 0, "%s: %s, not %s",
			     ids[i], r.canonical, canon);
	}
}

/* Event i of the block test as the export writes it: its payload "p" is
 * empty, short or over 2 KB, and version v of its properties. */
static int
block_line(char *buf, size_t cap, int i, int v)
{
	static char big[3001];
	int kind = i % 7 == 3 ? 2 : i % 3;

	if (!big[0])
		memset(big, 'x', sizeof(big) - 1);
	return snprintf(buf, cap,
			"{\"event\":\"E%d\",\"properties\":{\"distinct_id\":"
			"\"u%d\",\"time\":%d,\"$insert_id\":\"i%d\","
			"\"v\":%d,\"p\":\"%.*s\"}}\n",
			i % 4, i % 50, 1700000000 + i, i, v,
			kind == 0 ? 0 : kind == 1 ? 40 : 3000, big);
}

Test(events, bodies_in_blocks_read_back_in_any_order_and_batch)
{
	/* Bodies are stored in blocks of consecutive events, each filled in
	 * memory and stored when full or when its batch commits. Here
	 * batches of 7 cut blocks short, bodies of 3,000 bytes have blocks
	 * of their own, events come out of time order, and copies of events
	 * of every earlier batch, and of the block being filled, replace
	 * their bodies: the export must be every event, once, in time
	 * order, with its last properties. */
	enum { N = 400 };
	size_t cap = (size_t)N * 3200, len = 0, wlen = 0;
	char *in = malloc(cap), *want = malloc(cap);
	int order[N], v[N], copies = 0;
	struct idg_ingest_stats st;

	cr_assert(in && want);
	for (int i = 0; i < N; i++) {
		order[i] = i;
		v[i] = 1;
	}
	/* A fixed shuffle: late events land in earlier blocks' times. */
	for (int i = N - 1; i > 0; i--) {
		int j = (i * 7919) % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (int k = 0; k < N; k++) {
		len += (size_t)block_line(in + len, cap - len, order[k], 1);
		if (k % 11 == 5) { /* a copy of a body still in memory */
			len += (size_t)block_line(in + len, cap - len,
						  order[k], 4);
			v[order[k]] = 4;
			copies++;
		}
	}
	/* Copies: of events ingested long before, and of the last few. */
	for (int k = 0; k < N; k += 9) {
		int i = order[k];

		v[i] = 2;
		len += (size_t)block_line(in + len, cap - len, i, 2);
		copies++;
		if (k % 2 == 0) {
			len += (size_t)block_line(in + len, cap - len, i, 3);
			v[i] = 3;
			copies++;
		}
	}
	for (int i = 0; i < N; i++)
		wlen += (size_t)block_line(want + wlen, cap - wlen, i, v[i]);
	idg_close(db);
	db = open_at(dir, 7); /* batches of 7 records */
	st = ingest(db, in);
	cr_assert_eq(st.events, (uint64_t)N + copies);
	cr_assert_eq(st.duplicates, (uint64_t)copies);
	cr_assert_eq(strlen(want), wlen);
	expect_export(want);
	free(in);
	free(want);
}

/* Event of the runs test: time T0 + t seconds, name E<t % 3>. */
#define RUN_T0 1700000000
static int
run_line(char *buf, size_t cap, int t, int v)
{
	return snprintf(buf, cap,
			"{\"event\":\"E%d\",\"properties\":{\"distinct_id\":"
			"\"u%d\",\"time\":%d,\"$insert_id\":\"i%d\","
			"\"v\":%d}}\n",
			t % 3, t % 40, RUN_T0 + t, t, v);
}

Test(events, heads_in_runs_stay_in_time_order_through_late_events)
{
	/* Heads are stored in runs of up to 48. In order: 1,000 events on
	 * even seconds (full runs); then, in later batches, odd seconds
	 * into the stored runs (which split when full), events before
	 * every other and after, late ones inside the run being filled, and
	 * copies of stored and of late events. Exports (all, and ranges
	 * that start and end inside runs) must give every event once, in
	 * time order, with its last properties. */
	enum { T = 2000, TMAX = T + 120 };
	static char in[TMAX * 200], want[TMAX * 200];
	int v[TMAX] = {0};
	size_t len = 0, wlen = 0;
	uint64_t n, events = 0;
	char *out;

#define ADD(t, ver)                                                            \
	do {                                                                   \
		len += (size_t)run_line(in + len, sizeof(in) - len, (t),       \
					(ver));                                \
		v[(t)] = (ver);                                                \
	} while (0)
	for (int t = 2; t < T; t += 2)
		ADD(t, 1);
	ingest(db, in);
	len = 0;
	for (int t = 1; t < T / 2; t += 2) /* into stored runs */
		ADD(t, 1);
	ADD(0, 1);             /* before every head */
	ADD(T + 4, 1);         /* after every head: a new run */
	ADD(T + 8, 1);
	ADD(T + 7, 1);         /* late, inside that run */
	ADD(T + 5, 1);
	ADD(T + 3, 1);         /* late, before it: into a stored one */
	ADD(T + 1, 1);
	ADD(10, 2);            /* copies: of a stored head, */
	ADD(11, 2);            /* of a late one, */
	ADD(T + 1, 2);         /* of one in the run being filled */
	ingest(db, in);
	len = 0;
	for (int t = T / 2 + 1; t < T; t += 2) /* more, next batch */
		ADD(t, 1);
	ADD(T + 2, 1);
	ADD(12, 3);
	for (int t = T + 10; t < T + 10 + 2 * 48; t += 2) /* a full run */
		ADD(t, 1);
	ADD(T + 11, 1); /* inside it: its first 48 are stored */
	ADD(T + 6, 1);
	ingest(db, in);
	for (int t = 0; t < TMAX; t++) {
		if (v[t])
			wlen += (size_t)run_line(want + wlen,
						 sizeof(want) - wlen, t, v[t]);
		events += v[t] != 0;
	}
	out = export_opts(db, &(struct idg_export_opts)IDG_EXPORT_OPTS_INIT,
			  &n);
	cr_assert_eq(n, events);
	/* 0 to T - 1, T + 1 to T + 8, T + 11, 48 from T + 10 on. */
	cr_assert_eq(events, T + 8 + 1 + 48, "%llu",
		     (unsigned long long)events);
	expect_text(out, want);
	free(out);
	/* Ranges that start and end inside runs. */
	for (int from = 0; from < TMAX; from += 97) {
		struct idg_export_opts o = IDG_EXPORT_OPTS_INIT;
		size_t a = 0, b = 0;

		o.from_ms = (int64_t)(RUN_T0 + from) * 1000;
		o.to_ms = (int64_t)(RUN_T0 + from + 301) * 1000;
		uint64_t in_range = 0;

		for (int t = 0; t < TMAX; t++) {
			int l = v[t] ? run_line(NULL, 0, t, v[t]) : 0;

			if (t < from)
				a += (size_t)l;
			else if (t < from + 301) {
				b += (size_t)l;
				in_range += v[t] != 0;
			}
		}
		out = export_opts(db, &o, &n);
		cr_assert_eq(n, in_range, "from %d: %llu events", from,
			     (unsigned long long)n);
		cr_assert_eq(strlen(out), b);
		cr_assert_eq(strncmp(out, want + a, b), 0, "from %d", from);
		free(out);
	}
#undef ADD
}
