/* cmd_ingest.c — idgraph ingest: progress, rejects and the summary. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Rejected records printed to stderr per input file; the rest are counted. */
#define REJECTS_SHOWN 20
/* Widest progress line: one line of a standard terminal. */
#define PROGRESS_WIDTH 79

struct ingest {
	const char *name;  /* input name for messages */
	FILE *rejects;	   /* --rejects file, or NULL */
	int rejects_errno; /* set when writing it failed */
	uint64_t file_rejected;
	int progress;	   /* show progress on stderr */
	int64_t file_size; /* -1 when unknown (a pipe) */
	struct timespec file_start;
	int progress_len; /* width of the progress line on screen */
	double shown_at;  /* seconds into the file of the last update */
};

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
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
static int
on_progress(void *user, const struct idg_progress *p)
{
	struct ingest *g = user;
	char stats[128];
	double secs = seconds_since(&g->file_start);
	int room, n, len = (int)strlen(g->name);

	if (!g->progress || (g->progress_len > 0 && secs - g->shown_at < 0.1))
		return 0;
	g->shown_at = secs;
	format_progress(stats, sizeof stats, g, p, secs);
	room = PROGRESS_WIDTH - (int)strlen("idgraph: : ") - (int)strlen(stats);
	if (room < 8)
		room = 8;
	if (len <= room)
		n = fprintf(stderr, "\ridgraph: %s: %s", g->name, stats);
	else
		n = fprintf(stderr, "\ridgraph: ...%s: %s",
			    g->name + len - (room - 3), stats);
	if (n > 0 && --n < g->progress_len)
		fprintf(stderr, "%*s", g->progress_len - n, "");
	g->progress_len = n > g->progress_len ? n : g->progress_len;
	return 0;
}

static int
on_reject(void *user, const struct idg_reject *r)
{
	struct ingest *g = user;

	if (++g->file_rejected <= REJECTS_SHOWN) {
		clear_progress(g);
		fprintf(stderr, "idgraph: %s:%" PRIu64, g->name, r->line);
		if (r->in_array)
			fprintf(stderr, ":%" PRIu32, r->index);
		if (r->field && *r->field)
			fprintf(stderr, ": %s", r->field);
		fprintf(stderr, ": %s\n", r->message ? r->message : "");
	}
	if (g->rejects == NULL)
		return 0;
	errno = 0;
	if (fwrite(r->raw, 1, r->raw_len, g->rejects) != r->raw_len ||
	    putc('\n', g->rejects) == EOF) {
		g->rejects_errno = errno ? errno : EIO;
		return 1; /* stop: a reject must never be lost silently */
	}
	return 0;
}

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
}

static const char *
input_name(const char *arg)
{
	return strcmp(arg, "-") == 0 ? "<stdin>" : arg;
}

/* Checks that every input file can be read before ingesting any. */
static int
check_inputs(char **files, int n)
{
	for (int i = 0; i < n; i++) {
		FILE *fp;
		if (strcmp(files[i], "-") == 0)
			continue;
		fp = fopen(files[i], "rb");
		if (fp == NULL)
			return fail("cannot read %s: %s; nothing was ingested",
				    files[i], strerror(errno));
		fclose(fp);
	}
	return 0;
}

/* Ingests one input (a path or "-") into db, adding its counts to *sum. */
static int
ingest_one(idg_db *db, const char *arg, struct ingest *g,
	   struct idg_ingest_opts *io, struct idg_ingest_stats *sum)
{
	struct idg_ingest_stats s;
	struct stat st;
	FILE *fp = strcmp(arg, "-") == 0 ? stdin : fopen(arg, "rb");
	int rc;

	if (fp == NULL)
		return fail("cannot read %s: %s", arg, strerror(errno));
	g->name = input_name(arg);
	g->file_rejected = 0;
	g->file_size = fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)
			   ? (int64_t)st.st_size
			   : -1;
	clock_gettime(CLOCK_MONOTONIC, &g->file_start);
	memset(&s, 0, sizeof s);
	rc = idg_ingest_stream(db, fp, io, &s);
	clear_progress(g);
	if (fp != stdin)
		fclose(fp);
	add_stats(sum, &s);
	if (g->file_rejected > REJECTS_SHOWN)
		fprintf(stderr, "idgraph: %s: ... %" PRIu64 " more rejected\n",
			g->name, g->file_rejected - REJECTS_SHOWN);
	if (rc == IDG_ESTOPPED && g->rejects_errno)
		return fail("cannot write the rejects file: %s; the batches "
			    "committed before were kept",
			    strerror(g->rejects_errno));
	if (rc != 0)
		return fail("ingest of %s failed: %s; the batches committed "
			    "before it were kept",
			    g->name, detail(db, rc));
	return 0;
}

static void
print_summary_json(idg_jw *w, const struct idg_ingest_stats *s, char **files,
		   int nfiles, double secs)
{
	idg_jw_object_begin(w);
	jw_key(w, "records");
	idg_jw_uint(w, s->records);
	jw_key(w, "rejected");
	idg_jw_uint(w, s->rejected);
	jw_key(w, "events");
	idg_jw_uint(w, s->events);
	jw_key(w, "identity_events");
	idg_jw_uint(w, s->identity);
	jw_key(w, "nodes_created");
	idg_jw_uint(w, s->nodes_created);
	jw_key(w, "outcomes");
	idg_jw_object_begin(w);
	jw_key(w, "merged");
	idg_jw_uint(w, s->merged);
	jw_key(w, "noop");
	idg_jw_uint(w, s->noop);
	for (int i = IDG_REASON_NONE + 1; i < IDG_REASON_COUNT; i++) {
		jw_key(w, idg_reason_name(i));
		idg_jw_uint(w, s->refused[i]);
	}
	idg_jw_object_end(w);
	jw_key(w, "files");
	idg_jw_array_begin(w);
	for (int i = 0; i < nfiles; i++)
		jw_str(w, files[i]);
	idg_jw_array_end(w);
	jw_key(w, "seconds");
	idg_jw_double(w, (double)(int64_t)(secs * 1e6 + 0.5) / 1e6);
	jw_key(w, "records_per_second");
	idg_jw_uint(w, secs > 0 ? (uint64_t)((double)s->records / secs) : 0);
	idg_jw_object_end(w);
	idg_jw_newline(w);
}

static void
print_summary_people(const struct idg_ingest_stats *s, int nfiles, double secs)
{
	uint64_t refused = 0;

	for (int i = IDG_REASON_NONE + 1; i < IDG_REASON_COUNT; i++)
		refused += s->refused[i];
	printf("records: %" PRIu64 "\n", s->records);
	printf("rejected: %" PRIu64 "\n", s->rejected);
	printf("events: %" PRIu64 "\n", s->events);
	printf("identity events: %" PRIu64 "\n", s->identity);
	printf("nodes created: %" PRIu64 "\n", s->nodes_created);
	printf("merged: %" PRIu64 "\n", s->merged);
	printf("noop: %" PRIu64 "\n", s->noop);
	printf("refused: %" PRIu64 "\n", refused);
	for (int i = IDG_REASON_NONE + 1; i < IDG_REASON_COUNT; i++)
		if (s->refused[i])
			printf("  %s: %" PRIu64 "\n", idg_reason_name(i),
			       s->refused[i]);
	printf("files: %d, %.3f s, %.0f records/s\n", nfiles, secs,
	       secs > 0 ? (double)s->records / secs : 0.0);
}

static int
print_summary(const struct args *a, const struct idg_ingest_stats *s,
	      char **files, int nfiles, double secs)
{
	idg_jw *w;

	if (!a->val[OPT_JSON]) {
		print_summary_people(s, nfiles, secs);
		return finish_stdout();
	}
	if ((w = open_writer()) == NULL)
		return EXIT_FAILURE;
	print_summary_json(w, s, files, nfiles, secs);
	if (close_writer(w) != 0)
		return EXIT_FAILURE;
	return finish_stdout();
}

/* The handle's options and the ingest options from the command line. */
static int
ingest_options(const struct args *a, struct idg_options *o,
	       struct idg_ingest_opts *io)
{
	const char *clock = a->val[OPT_CLOCK];
	uint64_t batch;

	if (a->val[OPT_BATCH_SIZE]) {
		if (parse_uint_opt(a, OPT_BATCH_SIZE, 1, UINT32_MAX, &batch))
			return EXIT_USAGE;
		o->batch_size = (uint32_t)batch;
	}
	if (a->val[OPT_NOSYNC])
		o->durability = IDG_NOSYNC;
	if (clock == NULL || strcmp(clock, "event") == 0)
		io->clock = IDG_CLOCK_EVENT;
	else if (strcmp(clock, "wall") == 0)
		io->clock = IDG_CLOCK_WALL;
	else
		return usage_error("bad --clock value '%s': use event or wall",
				   clock);
	return 0;
}

int
cmd_ingest(struct args *a)
{
	static char stdin_arg[] = "-";
	static char *only_stdin[] = {stdin_arg};
	const char *dir = a->pos[0];
	char **files = a->npos > 1 ? a->pos + 1 : only_stdin;
	int nfiles = a->npos > 1 ? a->npos - 1 : 1, rc;
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats sum;
	struct ingest g;
	struct timespec t0;
	idg_db *db = NULL;

	memset(&g, 0, sizeof g);
	memset(&sum, 0, sizeof sum);
	if ((rc = ingest_options(a, &o, &io)) != 0)
		return rc;
	if ((rc = check_inputs(files, nfiles)) != 0)
		return rc;
	if ((rc = open_db(&db, dir, &o, 0)) != 0)
		return rc;
	if (a->val[OPT_REJECTS] &&
	    (g.rejects = fopen(a->val[OPT_REJECTS], "wb")) == NULL) {
		rc = fail("cannot create the rejects file %s: %s",
			  a->val[OPT_REJECTS], strerror(errno));
		goto out;
	}
	g.progress = !a->val[OPT_QUIET] && isatty(STDERR_FILENO);
	io.on_reject = on_reject;
	io.on_progress = on_progress;
	io.user = &g;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < nfiles && rc == 0; i++)
		rc = ingest_one(db, files[i], &g, &io, &sum);
	if (g.rejects && fclose(g.rejects) != 0 && rc == 0)
		rc = fail("cannot write the rejects file %s: %s",
			  a->val[OPT_REJECTS], strerror(errno));
	g.rejects = NULL;
	if (rc == 0)
		rc = print_summary(a, &sum, files, nfiles, seconds_since(&t0));
out:
	if (g.rejects)
		fclose(g.rejects);
	idg_close(db);
	return rc;
}
