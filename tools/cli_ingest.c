/* cli_ingest.c — idgraph ingest's output: the progress line and the summary. */
#include "cli_ingest.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Widest progress line: one line of a standard terminal. */
#define PROGRESS_WIDTH 79

double
seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

const char *
format_name(int format)
{
	return format == IDG_FORMAT_MSGPACK ? "msgpack" : "jsonl";
}

/* ------------------------------------------------------------------ */
/* Progress                                                            */

void
clear_progress(struct ingest *g)
{
	if (g->progress_len > 0) {
		fprintf(stderr, "\r%*s\r", g->progress_len, "");
		g->progress_len = 0;
	}
}

/* "N records, R records/s, P%" (the share only for a regular file). */
static void
format_progress(char *buf, size_t size, const struct ingest *g,
		const struct idg_progress *p, double secs)
{
	uint64_t size_in = g->file_size > 0 ? (uint64_t)g->file_size : 0;
	int n = snprintf(buf, size, "%" PRIu64 " records", p->records);

	if (secs > 0 && n > 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, ", %.0f records/s",
			      (double)p->records / secs);
	if (size_in > 0 && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ", %d%%",
			 (int)(p->bytes >= size_in ? 100
						   : p->bytes * 100 / size_in));
}

/*
 * Redraws the progress line in place (\r), at most ten times a second. The
 * line must fit one terminal line for \r to redraw it, so a long file name
 * is cut from the left.
 */
int
on_progress(void *user, const struct idg_progress *p)
{
	struct ingest *g = user;
	char stats[128];
	double secs = seconds_since(&g->file_start);
	const char *name = g->in->name;
	int room, n, len = (int)strlen(name);

	if (!g->progress || (g->progress_len > 0 && secs - g->shown_at < 0.1))
		return 0;
	g->shown_at = secs;
	format_progress(stats, sizeof stats, g, p, secs);
	room = PROGRESS_WIDTH - (int)strlen("idgraph: : ") - (int)strlen(stats);
	if (room < 8)
		room = 8;
	if (len <= room)
		n = fprintf(stderr, "\ridgraph: %s: %s", name, stats);
	else
		n = fprintf(stderr, "\ridgraph: ...%s: %s",
			    name + len - (room - 3), stats);
	if (n > 0 && --n < g->progress_len)
		fprintf(stderr, "%*s", g->progress_len - n, "");
	g->progress_len = n > g->progress_len ? n : g->progress_len;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Summary                                                             */

static void
add_stats(struct idg_ingest_stats *sum, const struct idg_ingest_stats *s)
{
	sum->records += s->records;
	sum->rejected += s->rejected;
	sum->events += s->events;
	sum->identity += s->identity;
	sum->nodes_created += s->nodes_created;
	sum->merged += s->merged;
	sum->noop += s->noop;
	for (int i = 0; i < IDG_REASON_COUNT; i++)
		sum->refused[i] += s->refused[i];
	sum->bytes += s->bytes;
	sum->batches += s->batches;
	sum->duplicates += s->duplicates;
	sum->warnings += s->warnings;
	sum->long_strings += s->long_strings;
	sum->many_props += s->many_props;
	sum->profile_updates += s->profile_updates;
	sum->profiles_created += s->profiles_created;
	sum->profiles_deleted += s->profiles_deleted;
	sum->type_clashes += s->type_clashes;
	sum->big_profiles += s->big_profiles;
	sum->anonymous_profiles += s->anonymous_profiles;
	sum->parse_busy += s->parse_busy;
	sum->parse_wait += s->parse_wait;
	sum->apply_busy += s->apply_busy;
	sum->apply_wait += s->apply_wait;
	sum->commit_seconds += s->commit_seconds;
}

/* A time in seconds to the microsecond, for JSON. */
static void
jw_secs(idg_jw *w, const char *key, double secs)
{
	jw_key(w, key);
	idg_jw_double(w, (double)(int64_t)(secs * 1e6 + 0.5) / 1e6);
}

/* Where the time went: each stage's CPU time and waits, and commits. */
void
json_ingest_stages(idg_jw *w, const char *key,
		   const struct idg_ingest_stats *s)
{
	jw_key(w, key);
	idg_jw_object_begin(w);
	jw_secs(w, "parse_busy", s->parse_busy);
	jw_secs(w, "parse_wait", s->parse_wait);
	jw_secs(w, "apply_busy", s->apply_busy);
	jw_secs(w, "apply_wait", s->apply_wait);
	jw_secs(w, "commit_seconds", s->commit_seconds);
	idg_jw_object_end(w);
}

/* One object per input: what it was and what became of it. */
static void
json_files(idg_jw *w, const struct input *inputs, int n)
{
	jw_key(w, "files");
	idg_jw_array_begin(w);
	for (int i = 0; i < n; i++) {
		const struct idg_ingest_stats *s = &inputs[i].stats;
		idg_jw_object_begin(w);
		jw_key(w, "name");
		jw_str(w, inputs[i].arg);
		jw_key(w, "format");
		jw_str(w, format_name(inputs[i].format));
		jw_u(w, "records", s->records);
		jw_u(w, "rejected", s->rejected);
		jw_key(w, "skipped");
		idg_jw_bool(w, s->skipped);
		jw_key(w, "resumed_at");
		if (s->resumed_at)
			idg_jw_uint(w, s->resumed_at);
		else
			idg_jw_null(w);
		idg_jw_object_end(w);
	}
	idg_jw_array_end(w);
	jw_key(w, "skipped_files");
	idg_jw_array_begin(w);
	for (int i = 0; i < n; i++)
		if (inputs[i].stats.skipped)
			jw_str(w, inputs[i].arg);
	idg_jw_array_end(w);
}

void
json_ingest_counts(idg_jw *w, const struct idg_ingest_stats *s)
{
	jw_u(w, "records", s->records);
	jw_u(w, "rejected", s->rejected);
	jw_u(w, "events", s->events);
	jw_u(w, "duplicates", s->duplicates);
	jw_u(w, "identity_events", s->identity);
	jw_u(w, "nodes_created", s->nodes_created);
	jw_u(w, "profile_updates", s->profile_updates);
	jw_u(w, "profiles_created", s->profiles_created);
	jw_u(w, "profiles_deleted", s->profiles_deleted);
	jw_key(w, "outcomes");
	idg_jw_object_begin(w);
	jw_u(w, "merged", s->merged);
	jw_u(w, "noop", s->noop);
	for (int i = IDG_REASON_NONE + 1; i < IDG_REASON_COUNT; i++)
		jw_u(w, idg_reason_name(i), s->refused[i]);
	idg_jw_object_end(w);
	jw_u(w, "warnings", s->warnings);
	jw_key(w, "warning_counts");
	idg_jw_object_begin(w);
	jw_u(w, "long_strings", s->long_strings);
	jw_u(w, "many_properties", s->many_props);
	jw_u(w, "type_clashes", s->type_clashes);
	jw_u(w, "profiles_over_2000_properties", s->big_profiles);
	jw_u(w, "profiles_for_anonymous_ids", s->anonymous_profiles);
	idg_jw_object_end(w);
}

static void
print_summary_json(idg_jw *w, const struct idg_ingest_stats *s,
		   const struct input *inputs, int n, double secs)
{
	idg_jw_object_begin(w);
	json_ingest_counts(w, s);
	json_files(w, inputs, n);
	json_ingest_stages(w, "stages", s);
	jw_secs(w, "seconds", secs);
	jw_u(w, "records_per_second",
		  secs > 0 ? (uint64_t)((double)s->records / secs) : 0);
	idg_jw_object_end(w);
	idg_jw_newline(w);
}

/* "files: 3 (1 skipped, 1 resumed), 0.004 s, 1234 records/s". */
static void
print_files_line(const struct idg_ingest_stats *s, const struct input *inputs,
		 int n, double secs)
{
	int skipped = 0, resumed = 0;

	for (int i = 0; i < n; i++) {
		skipped += inputs[i].stats.skipped != 0;
		resumed += inputs[i].stats.resumed_at != 0;
	}
	printf("files: %d", n);
	if (skipped && resumed)
		printf(" (%d skipped, %d resumed)", skipped, resumed);
	else if (skipped || resumed)
		printf(" (%d %s)", skipped ? skipped : resumed,
		       skipped ? "skipped" : "resumed");
	printf(", %.3f s, %.0f records/s\n", secs,
	       secs > 0 ? (double)s->records / secs : 0.0);
}

/* "stages: parse 1.52 s busy, 0.31 s waiting; apply 1.70 s busy, 0.14 s
 * waiting; commits 0.29 s" (one thread: "stages: 3.20 s busy; ..."). */
static void
print_stages_line(const struct idg_ingest_stats *s)
{
	printf("stages: ");
	if (s->parse_busy > 0)
		printf("parse %.2f s busy, %.2f s waiting; apply %.2f s busy, "
		       "%.2f s waiting",
		       s->parse_busy, s->parse_wait, s->apply_busy,
		       s->apply_wait);
	else
		printf("%.2f s busy", s->apply_busy);
	printf("; commits %.2f s\n", s->commit_seconds);
}

static void
print_summary_people(const struct idg_ingest_stats *s,
		     const struct input *inputs, int n, double secs)
{
	uint64_t refused = 0;

	for (int i = IDG_REASON_NONE + 1; i < IDG_REASON_COUNT; i++)
		refused += s->refused[i];
	printf("records: %" PRIu64 "\n", s->records);
	printf("rejected: %" PRIu64 "\n", s->rejected);
	printf("events: %" PRIu64 "\n", s->events);
	printf("duplicates: %" PRIu64 "\n", s->duplicates);
	printf("identity events: %" PRIu64 "\n", s->identity);
	printf("nodes created: %" PRIu64 "\n", s->nodes_created);
	printf("profile updates: %" PRIu64 " (%" PRIu64 " profiles created, "
	       "%" PRIu64 " deleted)\n",
	       s->profile_updates, s->profiles_created, s->profiles_deleted);
	printf("merged: %" PRIu64 "\n", s->merged);
	printf("noop: %" PRIu64 "\n", s->noop);
	printf("refused: %" PRIu64 "\n", refused);
	for (int i = IDG_REASON_NONE + 1; i < IDG_REASON_COUNT; i++)
		if (s->refused[i])
			printf("  %s: %" PRIu64 "\n", idg_reason_name(i),
			       s->refused[i]);
	printf("warnings: %" PRIu64 "\n", s->warnings);
	if (s->long_strings)
		printf("  strings over 255 bytes: %" PRIu64 "\n",
		       s->long_strings);
	if (s->many_props)
		printf("  events with more than 255 properties: %" PRIu64 "\n",
		       s->many_props);
	if (s->type_clashes)
		printf("  profile operator type clashes: %" PRIu64 "\n",
		       s->type_clashes);
	if (s->big_profiles)
		printf("  profiles over 2000 properties: %" PRIu64 "\n",
		       s->big_profiles);
	if (s->anonymous_profiles)
		printf("  profiles_for_anonymous_ids: %" PRIu64 "\n",
		       s->anonymous_profiles);
	print_files_line(s, inputs, n, secs);
	print_stages_line(s);
}

int
print_summary(const struct args *a, const struct input *inputs, int n,
	      double secs)
{
	struct idg_ingest_stats sum;
	idg_jw *w;

	memset(&sum, 0, sizeof sum);
	for (int i = 0; i < n; i++)
		add_stats(&sum, &inputs[i].stats);
	if (!a->val[OPT_JSON]) {
		print_summary_people(&sum, inputs, n, secs);
	} else {
		if ((w = open_writer()) == NULL)
			return EXIT_FAILURE;
		print_summary_json(w, &sum, inputs, n, secs);
		if (close_writer(w) != 0)
			return EXIT_FAILURE;
	}
	if (finish_stdout() != 0)
		return EXIT_FAILURE;
	if (sum.records && sum.rejected == sum.records)
		return fail("no record of the input was valid: nothing was "
			    "ingested");
	return 0;
}
