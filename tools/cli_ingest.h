/*
 * cli_ingest.h — what the two halves of `idgraph ingest` share:
 * cmd_ingest.c reads the inputs and reports rejects, cli_ingest.c draws the
 * progress line and prints the summary.
 *
 * Each input is ingested once, in order, and keeps its own counts; the
 * summary adds them up. An input's format is known before its ingest
 * starts (from --format, else its first byte, as the library decides), so
 * reject messages can say "line" or "value".
 */
#ifndef IDG_CLI_INGEST_H
#define IDG_CLI_INGEST_H

#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* One input of an ingest: a named file, or "-" for stdin. */
struct input {
	const char *arg;  /* as given on the command line */
	const char *name; /* for messages: the path, or "<stdin>" */
	int format;	  /* IDG_FORMAT_JSONL or IDG_FORMAT_MSGPACK */
	int regular;	  /* a regular file: remembered by its content */
	FILE *fp;	  /* kept open from the check: stdin, pipes */
	dev_t dev;	  /* the file it reads (identified: 1) */
	ino_t ino;
	int identified;
	struct idg_ingest_stats stats;
};

/* The state of one `idgraph ingest` run, handed to the callbacks. */
struct ingest {
	struct input *in;  /* the input being ingested */
	FILE *rejects;	   /* --rejects file, or NULL */
	const char *rejects_path;
	int rejects_errno; /* set when writing it failed */
	uint64_t file_rejected;
	int progress;	   /* show progress on stderr */
	int64_t file_size; /* -1 when unknown (a pipe) */
	struct timespec file_start;
	int progress_len; /* width of the progress line on screen */
	double shown_at;  /* seconds into the file of the last update */
};

/* Seconds elapsed since *t0 (CLOCK_MONOTONIC). */
double seconds_since(const struct timespec *t0);

/* The name of an input format: "jsonl" or "msgpack". */
const char *format_name(int format);

/* Erases the progress line, if one is on screen. */
void clear_progress(struct ingest *g);

/* idg_ingest_opts.on_progress: redraws the progress line. */
int on_progress(void *user, const struct idg_progress *p);

/* The counts of an ingest as members of the open JSON object: "records",
 * ..., "outcomes", "warnings", "warning_counts" (`ingest --json`). */
void json_ingest_counts(idg_jw *w, const struct idg_ingest_stats *s);
/* key: {"parse_busy", "parse_wait", "apply_busy", "apply_wait",
 * "commit_seconds"}, s's timings to the microsecond. */
void json_ingest_stages(idg_jw *w, const char *key,
			const struct idg_ingest_stats *s);

/* Prints the summary of all inputs (people's text, or JSON with --json). */
int print_summary(const struct args *a, const struct input *inputs, int n,
		  double secs);

#endif
