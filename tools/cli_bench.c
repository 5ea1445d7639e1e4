/* cli_bench.c — the output of `idgraph bench`: the table and --json. */
#include "cli_bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_ingest.h"

static void
machine(int *cpus, char *model, size_t size)
{
	FILE *fp = fopen("/proc/cpuinfo", "r");
	char line[512];

	*cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(model, size, "unknown");
	while (fp && fgets(line, sizeof line, fp)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			snprintf(model, size, "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (fp)
		fclose(fp);
}

/* "1,234,567" for v rounded to a whole number. */
static const char *
grouped(char *buf, size_t size, double v)
{
	char digits[32];
	int n = snprintf(digits, sizeof digits, "%.0f", v < 0 ? 0 : v), k = 0;
	size_t o = 0;

	for (int i = 0; i < n && o + 2 < size; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
		k++;
	}
	buf[o] = '\0';
	return buf;
}

static double
rate(double count, double seconds)
{
	return seconds > 0 ? count / seconds : 0;
}

/* Megabytes (10^6 bytes) of a number of kilobytes (1024 bytes). */
static double
mb(long kb)
{
	return (double)kb * 1024 / 1e6;
}

/* One row of the table; a baseline value < 0 prints as skipped. */
static void
row(const char *figure, const char *value, const char *baseline,
    const char *bvalue, double ratio)
{
	char r[32];

	if (ratio < 0)
		snprintf(r, sizeof r, "-");
	else
		snprintf(r, sizeof r, ratio < 10 ? "%.2f" : "%.1f", ratio);
	printf("%-34s %16s   %-34s %16s %7s\n", figure, value, baseline, bvalue,
	       r);
}

static const char *
per_s(char *buf, size_t size, double count, double seconds, const char *unit)
{
	char g[48];

	snprintf(buf, size, "%s %s", grouped(g, sizeof g, rate(count, seconds)),
		 unit);
	return buf;
}

static const char *
secs(char *buf, size_t size, double s)
{
	if (s < 0)
		snprintf(buf, size, "skipped");
	else
		snprintf(buf, size, s < 0.01 ? "%.2f ms" : "%.3f s",
			 s < 0.01 ? s * 1000 : s);
	return buf;
}

static const char *
yes(int ok)
{
	return ok ? "yes" : "NO";
}

/* "  JSONL  parse 1.52 busy, 0.31 waiting; apply 1.70 busy, 0.14
 * waiting; commits 0.29". */
static void
print_stages(const char *what, const struct stage_times *t)
{
	printf("  %-12s parse %.2f busy, %.2f waiting; apply %.2f busy, %.2f "
	       "waiting; commits %.2f\n",
	       what, bench_median(&t->parse_busy), bench_median(&t->parse_wait),
	       bench_median(&t->apply_busy), bench_median(&t->apply_wait),
	       bench_median(&t->commit));
}

void
bench_print_table(struct bench *b)
{
	double n = (double)b->counts.records;
	double tj = bench_median(&b->t_jsonl), tm = bench_median(&b->t_msgpack);
	double t1 = bench_median(&b->t_jsonl1);
	double pj = bench_median(&b->t_parse_j),
	       pm = bench_median(&b->t_parse_m);
	double tr = bench_median(&b->t_resolve),
	       ur = bench_median(&b->t_uf_resolve);
	double ti = bench_median(&b->t_ident), tu = bench_median(&b->t_uf);
	double qu = bench_median(&b->t_uniques),
	       qf = bench_median(&b->t_funnel);
	double tx = bench_median(&b->t_export), ex = (double)b->exported;
	double ts = bench_median(&b->t_store);
	double look = (double)b->nlookups;
	char v[64], w[64], x[96], model[128];
	int cpus;

	machine(&cpus, model, sizeof model);
	printf("idgraph bench: %" PRIu64 " records, seed %" PRIu64
	       ", median of %" PRIu64 " runs\n",
	       b->counts.records, b->seed, b->runs);
	printf("machine: %d cpus, %s\n", cpus, model);
	printf("workload: %" PRIu64 " events (%" PRIu64 " identity), %" PRIu64
	       " profile updates, %" PRIu64 " distinct ids; JSONL %.1f MB, "
	       "MessagePack %.1f MB\n\n",
	       b->counts.events, b->counts.identity, b->counts.profile_updates,
	       b->nids, (double)b->counts.bytes / 1e6,
	       (double)b->msgpack_bytes / 1e6);
	printf("%-34s %16s   %-34s %16s %7s\n", "figure", "engine", "baseline",
	       "baseline", "ratio");
	row("JSONL ingest, durable", per_s(v, sizeof v, n, tj, "ev/s"),
	    "parse-only, simdjson",
	    pj < 0 ? "skipped" : per_s(w, sizeof w, n, pj, "ev/s"),
	    pj < 0 ? -1 : pj / tj);
	row("", "", "store-only, LMDB", per_s(w, sizeof w, n, ts, "ev/s"),
	    ts / tj);
	row("JSONL ingest, one thread", per_s(v, sizeof v, n, t1, "ev/s"),
	    "parse-only, simdjson",
	    pj < 0 ? "skipped" : per_s(w, sizeof w, n, pj, "ev/s"),
	    pj < 0 ? -1 : pj / t1);
	row("MessagePack ingest, durable", per_s(v, sizeof v, n, tm, "ev/s"),
	    "parse-only, msgpack-c",
	    pm < 0 ? "skipped" : per_s(w, sizeof w, n, pm, "ev/s"),
	    pm < 0 ? -1 : pm / tm);
	row("", "", "store-only, LMDB", per_s(w, sizeof w, n, ts, "ev/s"),
	    ts / tm);
	row("resolve, warm, random ids", per_s(v, sizeof v, look, tr, "/s"),
	    "in-memory union-find", per_s(w, sizeof w, look, ur, "/s"),
	    ur / tr);
	snprintf(x, sizeof x, "identity replay, %" PRIu64 " ev",
		 b->ident_records);
	row(x, secs(v, sizeof v, ti), "in-memory union-find",
	    secs(w, sizeof w, tu), tu / ti);
	row("", "", "networkx components", secs(w, sizeof w, b->nx.seconds),
	    b->nx.seconds < 0 ? -1 : b->nx.seconds / ti);
	row("", "", "SQLite min-label propagation",
	    secs(w, sizeof w, b->sql.seconds),
	    b->sql.seconds < 0 ? -1 : b->sql.seconds / ti);
	row("uniques report, reported view", secs(v, sizeof v, qu),
	    "JSONL parse-only", secs(w, sizeof w, pj), pj < 0 ? -1 : pj / qu);
	row("3-step funnel, reported view", secs(v, sizeof v, qf),
	    "JSONL parse-only", secs(w, sizeof w, pj), pj < 0 ? -1 : pj / qf);
	row("events export, JSONL", per_s(v, sizeof v, ex, tx, "ev/s"),
	    "JSONL parse-only",
	    pj < 0 ? "skipped" : per_s(w, sizeof w, n, pj, "ev/s"),
	    pj < 0 ? -1 : rate(ex, tx) / rate(n, pj));
	snprintf(w, sizeof w, "%.1f MB", (double)b->counts.bytes / 1e6);
	snprintf(v, sizeof v, "%.1f MB", mb(b->peak_rss_child_kb));
	row("peak RSS, idgraph ingest alone", b->peak_rss_child_kb ? v : "n/a",
	    "JSONL input", w,
	    b->peak_rss_child_kb
		? mb(b->peak_rss_child_kb) * 1e6 / (double)b->counts.bytes
		: -1);
	snprintf(v, sizeof v, "%.1f MB", mb(b->peak_rss_ingest_kb));
	row("peak RSS, gen + ingest", v, "JSONL input", w,
	    mb(b->peak_rss_ingest_kb) * 1e6 / (double)b->counts.bytes);
	snprintf(v, sizeof v, "%.1f MB", mb(b->peak_rss_kb));
	row("peak RSS, + queries", v, "JSONL input", w,
	    mb(b->peak_rss_kb) * 1e6 / (double)b->counts.bytes);
	snprintf(v, sizeof v, "%.0f B", (double)b->db_bytes / n);
	snprintf(w, sizeof w, "%.0f B", (double)b->counts.bytes / n);
	row("database bytes per event", v, "JSONL bytes per event", w,
	    (double)b->db_bytes / (double)b->counts.bytes);
	if (b->rss_anon_kb >= 0)
		printf(
		    "%-34s %16s\n", "anonymous RSS, end of an ingest",
		    (snprintf(v, sizeof v, "%.1f MB", mb(b->rss_anon_kb)), v));
	printf("\nwhere the ingest time goes (medians, seconds; busy: a "
	       "stage's CPU time,\nthe commits' included; waiting: blocked on "
	       "the other stage; commits: their\nwhole time, flushes to disk "
	       "included):\n");
	print_stages("JSONL", &b->sg_j);
	print_stages("MessagePack", &b->sg_m);
	printf("\nratios: speed rows are engine speed / baseline speed (above "
	       "1: faster than\nthe baseline); size rows are engine / "
	       "baseline. Store-only is LMDB alone writing\nthe JSONL "
	       "database's %" PRIu64 " records into a new one, in key order, "
	       "in as\nmany durable commits as the ingest: the floor of its "
	       "apply stage. The\nidentity replay ingests the workload's "
	       "identity events alone; the union-find\ngets only the %" PRIu64
	       " merges the engine's log says it applied.\n",
	       b->store_records, b->nedges);
	printf("\nchecks: ingest counts = generated counts: %s; MessagePack "
	       "= JSONL: %s;\n  one thread = two: %s;\n  union-find = engine "
	       "clusters (%" PRIu32 " nodes, %" PRIu64 " clusters): %s;\n"
	       "  identity replay = full ingest: %s; networkx: %s; SQLite: "
	       "%s;\n  events exported = events stored: %s; store-only copy "
	       "= JSONL database: %s\n",
	       yes(b->counts_ok), yes(b->msgpack_ok), yes(b->threads_ok),
	       uf_count(b->uf),
	       b->uf_clusters, yes(b->uf_ok), yes(b->ident_ok),
	       b->nx.seconds < 0 ? "skipped"
				 : yes(bench_external_ok(b, &b->nx)),
	       b->sql.seconds < 0 ? "skipped"
				  : yes(bench_external_ok(b, &b->sql)),
	       yes(b->export_ok), yes(b->store_ok));
	if (!b->uf_ok && b->uf_why[0])
		printf("  union-find differs: %s\n", b->uf_why);
	if (b->parse_skipped)
		printf("%s\n", b->parse_why);
	if (b->nx.seconds < 0)
		printf("%s\n", b->nx.skipped);
	if (b->sql.seconds < 0)
		printf("%s\n", b->sql.skipped);
}

/* ---- JSON ---- */

static void
jw_num_or_null(idg_jw *w, const char *key, double v)
{
	jw_key(w, key);
	if (v < 0)
		idg_jw_null(w);
	else
		idg_jw_double(w, v);
}

/* An ingest's counts, in the shape `idgraph ingest --json` prints them. */
static void
json_ingest_stats(idg_jw *w, const char *key, const struct idg_ingest_stats *s)
{
	jw_key(w, key);
	idg_jw_object_begin(w);
	json_ingest_counts(w, s);
	idg_jw_object_end(w);
}

static void
json_graph_stats(idg_jw *w, const char *key, const struct idg_graph_stats *g)
{
	jw_key(w, key);
	idg_jw_object_begin(w);
	jw_u(w, "distinct_ids", g->distinct_ids);
	jw_u(w, "clusters", g->clusters);
	jw_u(w, "largest_cluster", g->largest_cluster);
	jw_u(w, "profiles_active", g->profiles_active);
	jw_u(w, "profiles_hidden", g->profiles_hidden);
	idg_jw_object_end(w);
}

/* {"seconds", "<unit>_per_second", "baseline_seconds", ..., "ratio"} */
static void
json_rate(idg_jw *w, const char *key, double count, double s, double base)
{
	jw_key(w, key);
	idg_jw_object_begin(w);
	jw_num_or_null(w, "seconds", s);
	jw_num_or_null(w, "per_second", rate(count, s));
	jw_num_or_null(w, "baseline_seconds", base);
	jw_num_or_null(w, "baseline_per_second",
		       base < 0 ? -1 : rate(count, base));
	jw_num_or_null(w, "ratio", base < 0 ? -1 : base / s);
	idg_jw_object_end(w);
}

static void
json_external(idg_jw *w, const struct bench *b, const char *key,
	      const struct external *x, double engine)
{
	jw_key(w, key);
	if (x->seconds < 0) {
		idg_jw_null(w);
		return;
	}
	idg_jw_object_begin(w);
	jw_num_or_null(w, "seconds", x->seconds);
	jw_u(w, "components", x->components);
	jw_u(w, "nodes", x->nodes);
	jw_u(w, "largest", x->largest);
	if (x->iterations)
		jw_u(w, "iterations", x->iterations);
	jw_num_or_null(w, "ratio", x->seconds / engine);
	jw_key(w, "matches_union_find");
	idg_jw_bool(w, bench_external_ok(b, x));
	idg_jw_object_end(w);
}

static void
json_timing(idg_jw *w, const char *key, const struct timing *t)
{
	jw_key(w, key);
	idg_jw_array_begin(w);
	for (int k = 0; k < t->n; k++)
		idg_jw_double(w, t->s[k]);
	idg_jw_array_end(w);
}

/* Every run's seconds, to judge the noise behind a median. */
static void
json_samples(idg_jw *w, const struct bench *b)
{
	jw_key(w, "samples");
	idg_jw_object_begin(w);
	json_timing(w, "jsonl_ingest", &b->t_jsonl);
	json_timing(w, "jsonl_ingest_one_thread", &b->t_jsonl1);
	json_timing(w, "msgpack_ingest", &b->t_msgpack);
	json_timing(w, "parse_only_jsonl", &b->t_parse_j);
	json_timing(w, "parse_only_msgpack", &b->t_parse_m);
	json_timing(w, "identity_replay", &b->t_ident);
	json_timing(w, "resolve", &b->t_resolve);
	json_timing(w, "uf_resolve", &b->t_uf_resolve);
	json_timing(w, "uf", &b->t_uf);
	json_timing(w, "uniques", &b->t_uniques);
	json_timing(w, "funnel", &b->t_funnel);
	json_timing(w, "export", &b->t_export);
	json_timing(w, "store_only", &b->t_store);
	idg_jw_object_end(w);
}

static void
json_checks(idg_jw *w, const struct bench *b)
{
	jw_key(w, "checks");
	idg_jw_object_begin(w);
	jw_key(w, "counts_match");
	idg_jw_bool(w, b->counts_ok);
	jw_key(w, "msgpack_matches_jsonl");
	idg_jw_bool(w, b->msgpack_ok);
	jw_key(w, "one_thread_matches");
	idg_jw_bool(w, b->threads_ok);
	jw_key(w, "uf_matches_engine");
	idg_jw_bool(w, b->uf_ok);
	jw_key(w, "export_matches_events");
	idg_jw_bool(w, b->export_ok);
	jw_key(w, "store_only_matches");
	idg_jw_bool(w, b->store_ok);
	jw_key(w, "identity_replay_matches");
	idg_jw_bool(w, b->ident_ok);
	jw_key(w, "networkx_matches");
	if (b->nx.seconds < 0)
		idg_jw_null(w);
	else
		idg_jw_bool(w, bench_external_ok(b, &b->nx));
	jw_key(w, "sqlite_matches");
	if (b->sql.seconds < 0)
		idg_jw_null(w);
	else
		idg_jw_bool(w, bench_external_ok(b, &b->sql));
	jw_key(w, "uf_difference");
	jw_str_or_null(w, b->uf_why);
	idg_jw_object_end(w);
}

static void
json_skipped(idg_jw *w, const struct bench *b)
{
	jw_key(w, "skipped");
	idg_jw_array_begin(w);
	if (b->parse_skipped)
		jw_str(w, b->parse_why);
	if (b->nx.seconds < 0)
		jw_str(w, b->nx.skipped);
	if (b->sql.seconds < 0)
		jw_str(w, b->sql.skipped);
	idg_jw_array_end(w);
}

static void
json_workload(idg_jw *w, const struct bench *b)
{
	char model[128];
	int cpus;

	machine(&cpus, model, sizeof model);
	jw_key(w, "machine");
	idg_jw_object_begin(w);
	jw_u(w, "cpus", (uint64_t)cpus);
	jw_key(w, "model");
	jw_str(w, model);
	idg_jw_object_end(w);
	jw_key(w, "workload");
	idg_jw_object_begin(w);
	jw_u(w, "records", b->counts.records);
	jw_u(w, "events", b->counts.events);
	jw_u(w, "identity_events", b->counts.identity);
	jw_u(w, "profile_updates", b->counts.profile_updates);
	jw_u(w, "distinct_ids", b->nids);
	jw_u(w, "jsonl_bytes", b->counts.bytes);
	jw_u(w, "msgpack_bytes", b->msgpack_bytes);
	idg_jw_object_end(w);
}

static void
json_graph(idg_jw *w, const struct bench *b, double ti)
{
	double tu = bench_median(&b->t_uf);

	jw_key(w, "graph");
	idg_jw_object_begin(w);
	jw_u(w, "identity_events", b->ident_records);
	jw_u(w, "merged_edges", b->nedges);
	jw_u(w, "nodes_in_edges", uf_count(b->uf));
	jw_u(w, "clusters", b->uf_clusters);
	jw_u(w, "largest_cluster", b->uf_largest);
	jw_num_or_null(w, "engine_seconds", ti);
	jw_num_or_null(w, "uf_seconds", tu);
	jw_num_or_null(w, "uf_ratio", tu / ti);
	json_external(w, b, "networkx", &b->nx, ti);
	json_external(w, b, "sqlite", &b->sql, ti);
	idg_jw_object_end(w);
}

/* The medians of the runs' timings, as `ingest --json` writes them. */
static void
json_stages(idg_jw *w, const char *key, const struct stage_times *t)
{
	struct idg_ingest_stats m = {0};

	m.parse_busy = bench_median(&t->parse_busy);
	m.parse_wait = bench_median(&t->parse_wait);
	m.apply_busy = bench_median(&t->apply_busy);
	m.apply_wait = bench_median(&t->apply_wait);
	m.commit_seconds = bench_median(&t->commit);
	json_ingest_stages(w, key, &m);
}

static void
json_report(idg_jw *w, const char *key, double s, double pj)
{
	jw_key(w, key);
	idg_jw_object_begin(w);
	jw_num_or_null(w, "seconds", s);
	jw_num_or_null(w, "parse_only_seconds", pj);
	jw_num_or_null(w, "ratio", pj < 0 ? -1 : pj / s);
	idg_jw_object_end(w);
}

/* The events export: its events per second against parse-only's records
 * per second. */
static void
json_export(idg_jw *w, const struct bench *b, double n, double pj)
{
	double tx = bench_median(&b->t_export), ex = (double)b->exported;

	jw_key(w, "export");
	idg_jw_object_begin(w);
	jw_u(w, "events", b->exported);
	jw_num_or_null(w, "seconds", tx);
	jw_num_or_null(w, "per_second", rate(ex, tx));
	jw_num_or_null(w, "parse_only_seconds", pj);
	jw_num_or_null(w, "parse_only_per_second", pj < 0 ? -1 : rate(n, pj));
	jw_num_or_null(w, "ratio", pj < 0 ? -1 : rate(ex, tx) / rate(n, pj));
	idg_jw_object_end(w);
}

/* LMDB alone storing the JSONL database's records: the ingests' floor. */
static void
json_store_only(idg_jw *w, const struct bench *b, double n)
{
	double ts = bench_median(&b->t_store);

	jw_key(w, "store_only");
	idg_jw_object_begin(w);
	jw_u(w, "lmdb_records", b->store_records);
	jw_num_or_null(w, "seconds", ts);
	jw_num_or_null(w, "per_second", rate(n, ts));
	jw_num_or_null(w, "jsonl_ingest_ratio",
		       ts / bench_median(&b->t_jsonl));
	jw_num_or_null(w, "msgpack_ingest_ratio",
		       ts / bench_median(&b->t_msgpack));
	idg_jw_object_end(w);
}

int
bench_print_json(struct bench *b)
{
	idg_jw *w = open_writer();
	double n = (double)b->counts.records, pj = bench_median(&b->t_parse_j);

	if (!w)
		return EXIT_FAILURE;
	idg_jw_object_begin(w);
	jw_u(w, "events", b->records);
	jw_u(w, "seed", b->seed);
	jw_u(w, "runs", b->runs);
	json_workload(w, b);
	json_rate(w, "jsonl_ingest", n, bench_median(&b->t_jsonl), pj);
	json_rate(w, "jsonl_ingest_one_thread", n, bench_median(&b->t_jsonl1),
		  pj);
	json_rate(w, "msgpack_ingest", n, bench_median(&b->t_msgpack),
		  bench_median(&b->t_parse_m));
	json_store_only(w, b, n);
	json_rate(w, "resolve", (double)b->nlookups,
		  bench_median(&b->t_resolve), bench_median(&b->t_uf_resolve));
	jw_u(w, "resolve_lookups", b->nlookups);
	json_report(w, "uniques", bench_median(&b->t_uniques), pj);
	jw_u(w, "uniques_users", b->uniq.uniques);
	jw_u(w, "uniques_events", b->uniq.events);
	json_report(w, "funnel", bench_median(&b->t_funnel), pj);
	jw_key(w, "funnel_users");
	idg_jw_array_begin(w);
	for (int k = 0; k < FUNNEL_STEPS; k++)
		idg_jw_uint(w, b->funnel[k].users);
	idg_jw_array_end(w);
	json_export(w, b, n, pj);
	json_graph(w, b, bench_median(&b->t_ident));
	jw_u(w, "peak_rss_bytes", (uint64_t)b->peak_rss_kb * 1024);
	jw_u(w, "peak_rss_ingest_bytes",
	     (uint64_t)b->peak_rss_ingest_kb * 1024);
	jw_u(w, "peak_rss_ingest_alone_bytes",
	     (uint64_t)b->peak_rss_child_kb * 1024);
	jw_key(w, "rss_anon_ingest_bytes");
	if (b->rss_anon_kb < 0)
		idg_jw_null(w);
	else
		idg_jw_uint(w, (uint64_t)b->rss_anon_kb * 1024);
	jw_u(w, "db_bytes", b->db_bytes);
	jw_num_or_null(w, "db_bytes_per_event", (double)b->db_bytes / n);
	jw_num_or_null(w, "jsonl_bytes_per_event", (double)b->counts.bytes / n);
	jw_num_or_null(w, "db_ratio_to_jsonl",
		       (double)b->db_bytes / (double)b->counts.bytes);
	jw_key(w, "ingest_stats");
	idg_jw_object_begin(w);
	json_ingest_stats(w, "jsonl", &b->st_j);
	json_ingest_stats(w, "msgpack", &b->st_m);
	json_ingest_stats(w, "identity_replay", &b->st_i);
	idg_jw_object_end(w);
	jw_key(w, "stages");
	idg_jw_object_begin(w);
	json_stages(w, "jsonl", &b->sg_j);
	json_stages(w, "msgpack", &b->sg_m);
	idg_jw_object_end(w);
	jw_key(w, "graph_stats");
	idg_jw_object_begin(w);
	json_graph_stats(w, "jsonl", &b->gs_j);
	json_graph_stats(w, "msgpack", &b->gs_m);
	json_graph_stats(w, "identity_replay", &b->gs_i);
	idg_jw_object_end(w);
	json_samples(w, b);
	json_checks(w, b);
	json_skipped(w, b);
	idg_jw_object_end(w);
	idg_jw_newline(w);
	return close_writer(w);
}
