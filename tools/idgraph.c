/*
 * idgraph.c — the idgraph command-line tool, a client of include/idgraph.h
 * only (plus cli_time.h for --at values).
 *
 * Conventions every command keeps: results go to stdout; stderr gets
 * progress (on a terminal only), rejected records, and at most one line
 * "idgraph: <message>" when the command fails, saying what to do next. The
 * exit status is 0 on success, 1 on failure, 2 on a usage error (bad
 * option, missing argument, bad number or time). Every JSON output is
 * written through the idg_jw_* writer of the library, never by hand.
 */
#include "idgraph.h"
#include "cli_time.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2
/* Rejected records printed to stderr per input file; the rest are counted. */
#define REJECTS_SHOWN 20
/* Widest column of the people's log table; longer values overflow it. */
#define LOG_COL_MAX 48
/* Widest progress line: one line of a standard terminal. */
#define PROGRESS_WIDTH 79

/* ------------------------------------------------------------------ */
/* Messages                                                            */

static void
vmsg(const char *fmt, va_list ap)
{
	fputs("idgraph: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Prints "idgraph: <message>" on stderr and returns 1 (failure). */
static int
fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return EXIT_FAILURE;
}

/* Prints "idgraph: <message>" on stderr and returns 2 (usage error). */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* The detail of a library failure: the handle's message, else the code's. */
static const char *
detail(const idg_db *db, int rc)
{
	const char *m = db ? idg_errmsg(db) : "";
	return m && *m ? m : idg_strerror(rc);
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */

enum opt {
	OPT_MODE,
	OPT_MERGE_DELAY,
	OPT_CLUSTER_CAP,
	OPT_REJECTS,
	OPT_CLOCK,
	OPT_BATCH_SIZE,
	OPT_NOSYNC,
	OPT_QUIET,
	OPT_JSON,
	OPT_AT,
	OPT_VIEW,
	OPT_FORMAT,
	OPT_COUNT
};

#define O(x) (1u << (x))

static const struct optdef {
	const char *name; /* without the leading "--" */
	int has_arg;
} optdefs[OPT_COUNT] = {
    [OPT_MODE] = {"mode", 1},
    [OPT_MERGE_DELAY] = {"merge-delay", 1},
    [OPT_CLUSTER_CAP] = {"cluster-cap", 1},
    [OPT_REJECTS] = {"rejects", 1},
    [OPT_CLOCK] = {"clock", 1},
    [OPT_BATCH_SIZE] = {"batch-size", 1},
    [OPT_NOSYNC] = {"nosync", 0},
    [OPT_QUIET] = {"quiet", 0},
    [OPT_JSON] = {"json", 0},
    [OPT_AT] = {"at", 1},
    [OPT_VIEW] = {"view", 1},
    [OPT_FORMAT] = {"format", 1},
};

/* A parsed command line: option values and positional arguments. */
struct args {
	const char *cmd;	    /* command name, for messages */
	const char *val[OPT_COUNT]; /* value given, or "" for flags; or NULL */
	char **pos;		    /* positional arguments */
	int npos;
};

struct command {
	const char *name;
	int (*run)(struct args *a);
	unsigned opts;	      /* O(OPT_*) accepted */
	int min_pos, max_pos; /* max_pos < 0: no limit */
	const char *args;     /* positional arguments, for messages */
	const char *usage;    /* after "usage: idgraph " */
	const char *help;     /* what it does, options, what it prints */
};

static int
is_help_flag(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

static void
print_help(const struct command *c)
{
	printf("usage: idgraph %s%s", c->usage, c->help);
}

/* Parses argv[i] (an option) and its value; advances *i past the value. */
static int
parse_option(const struct command *c, struct args *a, int argc, char **argv,
	     int *i)
{
	const char *s = argv[*i], *name = s + 2, *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	int k;

	for (k = 0; k < OPT_COUNT && s[1] == '-'; k++)
		if ((c->opts & O(k)) && strlen(optdefs[k].name) == n &&
		    strncmp(optdefs[k].name, name, n) == 0)
			break;
	if (k == OPT_COUNT || s[1] != '-')
		return usage_error("unknown option %s for %s; see: idgraph %s "
				   "--help",
				   s, a->cmd, a->cmd);
	if (!optdefs[k].has_arg) {
		if (eq)
			return usage_error("option --%s takes no value; see: "
					   "idgraph %s --help",
					   optdefs[k].name, a->cmd);
		a->val[k] = "";
		return 0;
	}
	if (eq) {
		a->val[k] = eq + 1;
	} else if (*i + 1 < argc) {
		a->val[k] = argv[++*i];
	} else {
		return usage_error("option --%s needs a value; see: idgraph "
				   "%s --help",
				   optdefs[k].name, a->cmd);
	}
	return 0;
}

/*
 * Splits argv (the words after the command name) into options and
 * positional arguments, which are gathered at the front of argv itself.
 * "-" alone is positional (stdin); "--" ends the options.
 */
static int
parse_args(const struct command *c, int argc, char **argv, struct args *a)
{
	int only_pos = 0, rc;

	a->pos = argv;
	a->npos = 0;
	for (int i = 0; i < argc; i++) {
		char *s = argv[i];
		if (!only_pos && strcmp(s, "--") == 0) {
			only_pos = 1;
		} else if (only_pos || s[0] != '-' || s[1] == '\0') {
			argv[a->npos++] = s;
		} else if ((rc = parse_option(c, a, argc, argv, &i)) != 0) {
			return rc;
		}
	}
	if (a->npos < c->min_pos)
		return usage_error("missing arguments: idgraph %s %s "
				   "[OPTIONS]; see: idgraph %s --help",
				   c->name, c->args, c->name);
	if (c->max_pos >= 0 && a->npos > c->max_pos)
		return usage_error("unexpected argument '%s': idgraph %s %s "
				   "[OPTIONS]; see: idgraph %s --help",
				   a->pos[c->max_pos], c->name, c->args,
				   c->name);
	return 0;
}

/* 1 if the words hold --help or -h before any "--". */
static int
wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (is_help_flag(argv[i]))
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Option values                                                       */

/* Parses a decimal integer in [min, max]. */
static int
parse_uint_opt(const struct args *a, int k, uint64_t min, uint64_t max,
	       uint64_t *out)
{
	const char *s = a->val[k];
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			break;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == s || *p != '\0' || v < min || v > max)
		return usage_error("bad --%s value '%s': give a whole number "
				   "from %" PRIu64 " to %" PRIu64,
				   optdefs[k].name, s, min, max);
	*out = v;
	return 0;
}

/* The --at value as *at (IDG_NOW when absent); *given says if present. */
static int
parse_at(const struct args *a, int64_t *at, int *given)
{
	const char *why;

	*at = IDG_NOW;
	*given = a->val[OPT_AT] != NULL;
	if (*given && cli_time_parse(at, a->val[OPT_AT], &why))
		return usage_error("bad --at value '%s': %s", a->val[OPT_AT],
				   why);
	return 0;
}

static int
parse_view(const struct args *a, int *view)
{
	const char *v = a->val[OPT_VIEW];

	*view = IDG_VIEW_LIVE;
	if (v == NULL || strcmp(v, "live") == 0)
		return 0;
	if (strcmp(v, "reported") == 0) {
		*view = IDG_VIEW_REPORTED;
		return 0;
	}
	return usage_error("bad --view value '%s': use live or reported", v);
}

static const char *
view_name(int view)
{
	return view == IDG_VIEW_REPORTED ? "reported" : "live";
}

/* ------------------------------------------------------------------ */
/* Opening databases                                                   */

static void
report_open_error(const char *dir, int rc)
{
	switch (rc) {
	case IDG_ENODB:
		fail("no database at %s; create one with: idgraph init %s", dir,
		     dir);
		break;
	case IDG_ECORRUPT:
		fail("%s is not an idgraph database or is corrupt; check the "
		     "path",
		     dir);
		break;
	case IDG_EBUSY:
		fail("database %s is busy; try again when the other writer "
		     "is done",
		     dir);
		break;
	default:
		fail("cannot open database %s: %s; check the path and its "
		     "permissions",
		     dir, idg_strerror(rc));
		break;
	}
}

/* Opens dir with opts (NULL for defaults) and flags; reports failures. */
static int
open_db(idg_db **db, const char *dir, const struct idg_options *opts,
	unsigned flags)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	int rc;

	if (opts)
		o = *opts;
	o.flags |= flags;
	rc = idg_open(db, dir, &o);
	if (rc != 0) {
		report_open_error(dir, rc);
		return EXIT_FAILURE;
	}
	return 0;
}

/* Flushes stdout; 1 with a message if anything written to it was lost. */
static int
finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return fail("cannot write the output: %s", strerror(errno));
	return 0;
}

/* Closes a JSON writer; 1 with a message if a write failed. */
static int
close_writer(idg_jw *w)
{
	if (idg_jw_close(w) != 0)
		return fail("cannot write the output: %s", strerror(errno));
	return 0;
}

static idg_jw *
open_writer(void)
{
	idg_jw *w = idg_jw_open(stdout);
	if (w == NULL)
		fail("out of memory");
	return w;
}

static void
jw_key(idg_jw *w, const char *key)
{
	idg_jw_key(w, key, strlen(key));
}

static void
jw_str(idg_jw *w, const char *s)
{
	idg_jw_string(w, s, strlen(s));
}

/* Writes a string, or null when it is empty. */
static void
jw_str_or_null(idg_jw *w, const char *s)
{
	if (s == NULL || *s == '\0')
		idg_jw_null(w);
	else
		jw_str(w, s);
}

/* Writes a time as its ISO 8601 text, or null before any record. */
static void
jw_time(idg_jw *w, int64_t ms)
{
	char buf[CLI_TIME_BUFSIZE];

	if (ms == INT64_MIN)
		idg_jw_null(w);
	else
		jw_str(w, cli_time_format(buf, ms));
}

/* "3600 s" or "0.5 s" for a number of milliseconds. */
static const char *
format_seconds(char *buf, size_t size, int64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%" PRId64 " s", ms / 1000);
	else
		snprintf(buf, size, "%" PRId64 ".%03d s", ms / 1000,
			 (int)(ms % 1000));
	return buf;
}

/* ------------------------------------------------------------------ */
/* init                                                                */

static int
parse_mode(const char *s, int *mode)
{
	for (int m = 0; idg_mode_name(m) != NULL; m++)
		if (strcmp(s, idg_mode_name(m)) == 0) {
			*mode = m;
			return 0;
		}
	return usage_error("bad --mode value '%s': use original, simplified "
			   "or legacy",
			   s);
}

/* Applies the settings given on the command line over *o. */
static int
settings_from_args(const struct args *a, struct idg_options *o)
{
	uint64_t cap;
	const char *why;

	if (a->val[OPT_MODE] && parse_mode(a->val[OPT_MODE], &o->mode))
		return EXIT_USAGE;
	if (a->val[OPT_MERGE_DELAY] &&
	    cli_seconds_parse(&o->merge_delay_ms, a->val[OPT_MERGE_DELAY],
			      &why))
		return usage_error("bad --merge-delay value '%s': %s; give "
				   "seconds, e.g. 3600",
				   a->val[OPT_MERGE_DELAY], why);
	if (a->val[OPT_CLUSTER_CAP]) {
		if (parse_uint_opt(a, OPT_CLUSTER_CAP, 0, UINT32_MAX, &cap))
			return EXIT_USAGE;
		o->cluster_cap = (uint32_t)cap;
	}
	return 0;
}

/* What a failed init must remove: nothing, what it put in DIR, or DIR. */
enum undo { UNDO_NOTHING, UNDO_FILES, UNDO_DIR };

/* 1 if dir is a directory with no entries. */
static int
is_empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = d != NULL;

	while (empty && (e = readdir(d)) != NULL)
		empty =
		    strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	if (d)
		closedir(d);
	return empty;
}

/*
 * Undoes a failed init: the directory was empty or absent before, so every
 * entry in it is the database's (LMDB's files, no subdirectories).
 */
static void
undo_init(const char *dir, enum undo undo)
{
	DIR *d = undo == UNDO_NOTHING ? NULL : opendir(dir);
	struct dirent *e;
	char path[4096];

	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir,
				     e->d_name) < sizeof path)
			unlink(path);
	}
	if (d)
		closedir(d);
	if (undo == UNDO_DIR)
		rmdir(dir);
}

/*
 * Opens the database in dir, creating it (and dir) when there is none.
 * *undo says what to remove if the rest of init fails.
 */
static int
open_or_create(idg_db **db, const char *dir, int *created, enum undo *undo)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	struct stat st;
	int rc;

	*created = 0;
	*undo = UNDO_NOTHING;
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return fail("%s exists and is not a directory; choose another "
			    "path",
			    dir);
	rc = idg_open(db, dir, &o);
	if (rc == IDG_ENODB) {
		if (mkdir(dir, 0777) == 0)
			*undo = UNDO_DIR;
		else if (errno == EEXIST && is_empty_dir(dir))
			*undo = UNDO_FILES;
		else if (errno != EEXIST)
			return fail("cannot create directory %s: %s", dir,
				    strerror(errno));
		o.flags = IDG_OPEN_CREATE;
		rc = idg_open(db, dir, &o);
		*created = 1;
	}
	if (rc != 0) {
		undo_init(dir, *undo);
		report_open_error(dir, rc);
		return EXIT_FAILURE;
	}
	return 0;
}

static int
report_configure_error(idg_db *db, const char *dir, const struct idg_options *o,
		       int rc)
{
	switch (rc) {
	case IDG_EUNSUPPORTED:
		return fail("mode %s is not supported yet; only original is: "
			    "use --mode original",
			    idg_mode_name(o->mode));
	case IDG_EMODE:
		return fail("cannot change the mode of %s: %s", dir,
			    detail(db, rc));
	default:
		return fail("cannot set up %s: %s", dir, detail(db, rc));
	}
}

static void
print_settings(const char *verb, const char *dir, const struct idg_info *in)
{
	char delay[48];

	printf("%s %s: mode %s, merge delay %s, cluster cap %" PRIu32 "\n",
	       verb, dir, idg_mode_name(in->mode),
	       format_seconds(delay, sizeof delay, in->merge_delay_ms),
	       in->cluster_cap);
}

/*
 * Creates the database, or changes the settings of an existing one: the
 * settings not given on the command line keep their current values.
 */
static int
cmd_init(struct args *a)
{
	const char *dir = a->pos[0];
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_info info;
	enum undo undo;
	idg_db *db = NULL;
	int rc, created;

	if ((rc = settings_from_args(a, &o)) != 0)
		return rc; /* checks the values before touching anything */
	if ((rc = open_or_create(&db, dir, &created, &undo)) != 0)
		return rc;
	rc = idg_info(db, &info);
	if (rc == 0) {
		o.mode = info.mode;
		o.merge_delay_ms = info.merge_delay_ms;
		o.cluster_cap = info.cluster_cap;
		settings_from_args(a, &o);
		rc = idg_configure(db, &o);
	}
	if (rc == 0)
		rc = idg_info(db, &info);
	if (rc != 0)
		rc = report_configure_error(db, dir, &o, rc);
	else
		print_settings(created ? "created" : "updated", dir, &info);
	if (rc == 0)
		rc = finish_stdout();
	idg_close(db);
	if (rc != 0)
		undo_init(dir, undo);
	return rc;
}

/* ------------------------------------------------------------------ */
/* ingest                                                              */

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

static int
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

/* ------------------------------------------------------------------ */
/* resolve, cluster                                                    */

/* Where cluster members go: a JSON array, or text with a separator. */
struct members {
	idg_jw *w;	 /* JSON writer, or NULL for text on stdout */
	const char *sep; /* text: between members */
	const char *end; /* text: after each member when sep is NULL */
	uint64_t n;
};

static int
on_member(void *user, const char *member, size_t len)
{
	struct members *m = user;

	if (m->w) {
		idg_jw_string(m->w, member, len);
	} else {
		if (m->sep && m->n > 0)
			fputs(m->sep, stdout);
		fwrite(member, 1, len, stdout);
		if (m->end)
			fputs(m->end, stdout);
	}
	m->n++;
	return 0;
}

/* Resolves the id of a resolve/cluster command; 1 with a message if not. */
static int
resolve_id(idg_db *db, const struct args *a, int64_t at, int at_given, int view,
	   struct idg_resolution *r)
{
	const char *id = a->pos[1];
	char when[CLI_TIME_BUFSIZE];
	int rc = idg_resolve(db, id, strlen(id), at, view, r);

	if (rc == IDG_ENOTFOUND && at_given)
		return fail("distinct_id %s not found in %s as of %s", id,
			    a->pos[0], cli_time_format(when, at));
	if (rc == IDG_ENOTFOUND)
		return fail("distinct_id %s not found in %s", id, a->pos[0]);
	if (rc != 0)
		return fail("cannot resolve %s: %s", id, detail(db, rc));
	return 0;
}

/* Opens the database of a resolve/cluster command and resolves its id. */
static int
start_query(const struct args *a, idg_db **db, int64_t *at, int *at_given,
	    int *view, struct idg_resolution *r)
{
	int rc;

	*db = NULL;
	if ((rc = parse_at(a, at, at_given)) != 0 ||
	    (rc = parse_view(a, view)) != 0)
		return rc;
	if ((rc = open_db(db, a->pos[0], NULL, IDG_OPEN_RDONLY)) != 0)
		return rc;
	return resolve_id(*db, a, *at, *at_given, *view, r);
}

static int
foreach_member(idg_db *db, const struct args *a, int64_t at, int view,
	       struct members *m)
{
	const char *id = a->pos[1];
	int rc =
	    idg_cluster_foreach(db, id, strlen(id), at, view, on_member, m);

	if (rc != 0)
		return fail("cannot list the cluster of %s: %s", id,
			    detail(db, rc));
	return 0;
}

static int
resolve_json(idg_db *db, const struct args *a, const struct idg_resolution *r,
	     int64_t at, int at_given, int view)
{
	struct members m = {NULL, NULL, NULL, 0};
	int rc;

	if ((m.w = open_writer()) == NULL)
		return EXIT_FAILURE;
	idg_jw_object_begin(m.w);
	jw_key(m.w, "distinct_id");
	jw_str(m.w, a->pos[1]);
	jw_key(m.w, "canonical");
	idg_jw_string(m.w, r->canonical, r->canonical_len);
	jw_key(m.w, "cluster_size");
	idg_jw_uint(m.w, r->cluster_size);
	jw_key(m.w, "members");
	idg_jw_array_begin(m.w);
	rc = foreach_member(db, a, at, view, &m);
	idg_jw_array_end(m.w);
	jw_key(m.w, "at");
	if (at_given)
		idg_jw_int(m.w, at);
	else
		idg_jw_null(m.w);
	jw_key(m.w, "view");
	jw_str(m.w, view_name(view));
	idg_jw_object_end(m.w);
	idg_jw_newline(m.w);
	if (rc != 0) {
		idg_jw_close(m.w);
		return rc;
	}
	return close_writer(m.w);
}

static int
cmd_resolve(struct args *a)
{
	struct idg_resolution r;
	struct members m = {NULL, ", ", NULL, 0};
	int64_t at;
	int at_given, view, rc;
	idg_db *db;

	rc = start_query(a, &db, &at, &at_given, &view, &r);
	if (rc == 0 && a->val[OPT_JSON]) {
		rc = resolve_json(db, a, &r, at, at_given, view);
	} else if (rc == 0) {
		fputs("canonical: ", stdout);
		fwrite(r.canonical, 1, r.canonical_len, stdout);
		printf("\ncluster size: %" PRIu64 "\nmembers: ",
		       r.cluster_size);
		rc = foreach_member(db, a, at, view, &m);
		putchar('\n');
	}
	if (rc == 0)
		rc = finish_stdout();
	idg_close(db);
	return rc;
}

static int
cmd_cluster(struct args *a)
{
	struct idg_resolution r;
	struct members m = {NULL, NULL, "\n", 0};
	int64_t at;
	int at_given, view, rc;
	idg_db *db;

	rc = start_query(a, &db, &at, &at_given, &view, &r);
	if (rc == 0 && a->val[OPT_JSON]) {
		if ((m.w = open_writer()) == NULL) {
			rc = EXIT_FAILURE;
			goto out;
		}
		idg_jw_object_begin(m.w);
		jw_key(m.w, "canonical");
		idg_jw_string(m.w, r.canonical, r.canonical_len);
		jw_key(m.w, "members");
		idg_jw_array_begin(m.w);
		rc = foreach_member(db, a, at, view, &m);
		idg_jw_array_end(m.w);
		idg_jw_object_end(m.w);
		idg_jw_newline(m.w);
		if (close_writer(m.w) != 0 && rc == 0)
			rc = EXIT_FAILURE;
	} else if (rc == 0) {
		rc = foreach_member(db, a, at, view, &m);
	}
	if (rc == 0)
		rc = finish_stdout();
out:
	idg_close(db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* log                                                                 */

static const char *
outcome_name(int outcome)
{
	switch (outcome) {
	case IDG_OUTCOME_MERGED:
		return "merged";
	case IDG_OUTCOME_NOOP:
		return "noop";
	default:
		return "refused";
	}
}

/* Column widths of the people's log table (a first pass measures them). */
struct log_table {
	int event, ids, outcome, reason;
};

static int
cap_width(size_t n, int current)
{
	int w = n > LOG_COL_MAX ? LOG_COL_MAX : (int)n;
	return w > current ? w : current;
}

static int
measure_entry(void *user, const struct idg_log_entry *e)
{
	struct log_table *t = user;
	const char *reason = idg_reason_name(e->reason);

	t->event = cap_width(strlen(e->event), t->event);
	t->ids = cap_width(strlen(e->ids[0]) + 2 + strlen(e->ids[1]), t->ids);
	t->outcome = cap_width(strlen(outcome_name(e->outcome)), t->outcome);
	t->reason = cap_width(*reason ? strlen(reason) : 1, t->reason);
	return 0;
}

/* Prints s left-aligned in a column of width w, then two spaces. */
static void
print_cell(const char *s, int w)
{
	int n = (int)strlen(s);
	printf("%s%*s  ", s, n < w ? w - n : 0, "");
}

static int
print_entry(void *user, const struct idg_log_entry *e)
{
	const struct log_table *t = user;
	const char *reason = idg_reason_name(e->reason);
	char when[CLI_TIME_BUFSIZE];
	int ids_len = (int)(strlen(e->ids[0]) + 2 + strlen(e->ids[1]));

	print_cell(cli_time_format(when, e->stamp), 24);
	print_cell(e->event, t->event);
	printf("%s, %s%*s  ", e->ids[0], e->ids[1],
	       ids_len < t->ids ? t->ids - ids_len : 0, "");
	print_cell(outcome_name(e->outcome), t->outcome);
	print_cell(*reason ? reason : "-", t->reason);
	printf("%s\n", e->canonical);
	return 0;
}

static int
json_entry(void *user, const struct idg_log_entry *e)
{
	idg_jw *w = user;

	idg_jw_object_begin(w);
	jw_key(w, "seq");
	idg_jw_uint(w, e->seq);
	jw_key(w, "stamp");
	idg_jw_int(w, e->stamp);
	jw_key(w, "time");
	jw_time(w, e->stamp);
	jw_key(w, "event");
	jw_str(w, e->event);
	jw_key(w, "ids");
	idg_jw_array_begin(w);
	jw_str(w, e->ids[0]);
	jw_str(w, e->ids[1]);
	idg_jw_array_end(w);
	jw_key(w, "insert_id");
	jw_str_or_null(w, e->insert_id);
	jw_key(w, "outcome");
	jw_str(w, outcome_name(e->outcome));
	jw_key(w, "reason");
	jw_str_or_null(w, idg_reason_name(e->reason));
	jw_key(w, "description");
	jw_str_or_null(w, e->description);
	jw_key(w, "canonical");
	jw_str(w, e->canonical);
	idg_jw_object_end(w);
	idg_jw_newline(w);
	return 0;
}

static int
log_people(idg_db *db)
{
	struct log_table t = {5, 3, 7, 6};
	int rc = idg_log_foreach(db, measure_entry, &t);

	if (rc != 0)
		return rc;
	print_cell("stamp", 24);
	print_cell("event", t.event);
	print_cell("ids", t.ids);
	print_cell("outcome", t.outcome);
	print_cell("reason", t.reason);
	printf("canonical\n");
	return idg_log_foreach(db, print_entry, &t);
}

static int
cmd_log(struct args *a)
{
	idg_db *db = NULL;
	idg_jw *w = NULL;
	int rc;

	if ((rc = open_db(&db, a->pos[0], NULL, IDG_OPEN_RDONLY)) != 0)
		return rc;
	if (a->val[OPT_JSON]) {
		if ((w = open_writer()) == NULL) {
			idg_close(db);
			return EXIT_FAILURE;
		}
		rc = idg_log_foreach(db, json_entry, w);
	} else {
		rc = log_people(db);
	}
	if (rc != 0)
		rc = fail("cannot read the identity log of %s: %s", a->pos[0],
			  detail(db, rc));
	if (w && close_writer(w) != 0 && rc == 0)
		rc = EXIT_FAILURE;
	if (rc == 0)
		rc = finish_stdout();
	idg_close(db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* export mappings                                                     */

/* Writes one CSV field, quoted (RFC 4180) when it holds , " CR or LF. */
static void
csv_field(const char *s, size_t len)
{
	int quote = 0;

	for (size_t i = 0; i < len && !quote; i++)
		quote =
		    s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (!quote) {
		fwrite(s, 1, len, stdout);
		return;
	}
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			putchar('"');
		putchar(s[i]);
	}
	putchar('"');
}

static int
on_mapping_csv(void *user, const char *id, size_t id_len, const char *res,
	       size_t res_len)
{
	(void)user;
	csv_field(id, id_len);
	putchar(',');
	csv_field(res, res_len);
	putchar('\n');
	return ferror(stdout) ? 1 : 0;
}

static int
on_mapping_json(void *user, const char *id, size_t id_len, const char *res,
		size_t res_len)
{
	idg_jw *w = user;

	idg_jw_object_begin(w);
	jw_key(w, "distinct_id");
	idg_jw_string(w, id, id_len);
	jw_key(w, "resolved_distinct_id");
	idg_jw_string(w, res, res_len);
	idg_jw_object_end(w);
	idg_jw_newline(w);
	return 0;
}

static int
export_mappings(idg_db *db, const struct args *a, int json, int64_t at,
		int view)
{
	idg_jw *w = NULL;
	int rc;

	if (json) {
		if ((w = open_writer()) == NULL)
			return EXIT_FAILURE;
		rc = idg_mappings_foreach(db, at, view, on_mapping_json, w);
	} else {
		fputs("distinct_id,resolved_distinct_id\n", stdout);
		rc = idg_mappings_foreach(db, at, view, on_mapping_csv, NULL);
	}
	if (rc == IDG_ESTOPPED)
		rc = fail("cannot write the output: %s", strerror(errno));
	else if (rc != 0)
		rc = fail("cannot export the mappings of %s: %s", a->pos[1],
			  detail(db, rc));
	if (w && close_writer(w) != 0 && rc == 0)
		rc = EXIT_FAILURE;
	return rc;
}

static int
cmd_export(struct args *a)
{
	const char *format = a->val[OPT_FORMAT];
	int64_t at;
	int at_given, view, json, rc;
	idg_db *db = NULL;

	if (strcmp(a->pos[0], "mappings") != 0)
		return usage_error("unknown export '%s'; use: idgraph export "
				   "mappings DIR",
				   a->pos[0]);
	if (format == NULL || strcmp(format, "csv") == 0)
		json = 0;
	else if (strcmp(format, "jsonl") == 0)
		json = 1;
	else
		return usage_error("bad --format value '%s': use csv or jsonl",
				   format);
	if ((rc = parse_at(a, &at, &at_given)) != 0 ||
	    (rc = parse_view(a, &view)) != 0)
		return rc;
	if ((rc = open_db(&db, a->pos[1], NULL, IDG_OPEN_RDONLY)) != 0)
		return rc;
	rc = export_mappings(db, a, json, at, view);
	if (rc == 0)
		rc = finish_stdout();
	idg_close(db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* info, version                                                       */

static void
info_json(idg_jw *w, const struct idg_info *in)
{
	idg_jw_object_begin(w);
	jw_key(w, "mode");
	jw_str(w, idg_mode_name(in->mode));
	jw_key(w, "merge_delay_ms");
	idg_jw_int(w, in->merge_delay_ms);
	jw_key(w, "cluster_cap");
	idg_jw_uint(w, in->cluster_cap);
	jw_key(w, "stamp");
	if (in->stamp == INT64_MIN)
		idg_jw_null(w);
	else
		idg_jw_int(w, in->stamp);
	jw_key(w, "stamp_time");
	jw_time(w, in->stamp);
	jw_key(w, "records");
	idg_jw_uint(w, in->records);
	jw_key(w, "nodes");
	idg_jw_uint(w, in->nodes);
	jw_key(w, "log_size");
	idg_jw_uint(w, in->log_size);
	idg_jw_object_end(w);
	idg_jw_newline(w);
}

static void
info_people(const struct idg_info *in)
{
	char buf[48], when[CLI_TIME_BUFSIZE];

	printf("mode: %s\n", idg_mode_name(in->mode));
	printf("merge delay: %s\n",
	       format_seconds(buf, sizeof buf, in->merge_delay_ms));
	printf("cluster cap: %" PRIu32 "\n", in->cluster_cap);
	if (in->stamp == INT64_MIN)
		printf("stamp: none (no records yet)\n");
	else
		printf("stamp: %" PRId64 " (%s)\n", in->stamp,
		       cli_time_format(when, in->stamp));
	printf("records: %" PRIu64 "\n", in->records);
	printf("nodes: %" PRIu64 "\n", in->nodes);
	printf("log size: %" PRIu64 "\n", in->log_size);
}

static int
cmd_info(struct args *a)
{
	struct idg_info in;
	idg_db *db = NULL;
	idg_jw *w;
	int rc;

	if ((rc = open_db(&db, a->pos[0], NULL, IDG_OPEN_RDONLY)) != 0)
		return rc;
	if ((rc = idg_info(db, &in)) != 0) {
		rc = fail("cannot read %s: %s", a->pos[0], detail(db, rc));
	} else if (a->val[OPT_JSON]) {
		if ((w = open_writer()) == NULL) {
			rc = EXIT_FAILURE;
		} else {
			info_json(w, &in);
			rc = close_writer(w);
		}
	} else {
		info_people(&in);
	}
	if (rc == 0)
		rc = finish_stdout();
	idg_close(db);
	return rc;
}

static int
cmd_version(struct args *a)
{
	(void)a;
	if (idg_version() == IDG_VERSION_NUMBER)
		printf("idgraph %s\n", IDG_VERSION_STRING);
	else
		printf("idgraph %s (library %s)\n", IDG_VERSION_STRING,
		       idg_version_string());
	return finish_stdout();
}

/* ------------------------------------------------------------------ */
/* Commands and their help                                             */

#define TIME_HELP                                                              \
	"  --at T          as of stamp T (default: the database's current\n"   \
	"                  stamp). T is epoch seconds (a fraction is "         \
	"rounded\n"                                                            \
	"                  to the millisecond), epoch milliseconds (numbers\n" \
	"                  >= 1e11) or ISO 8601 UTC: 2024-05-01,\n"            \
	"                  2024-05-01T12:00:00Z, 2024-05-01T12:00:00.250Z,\n"  \
	"                  '2024-05-01 12:00:00' (Z, +00:00 or no suffix;\n"   \
	"                  other offsets are refused)\n"
#define VIEW_HELP                                                              \
	"  --view V        live (default): every merge stamped <= T; or\n"     \
	"                  reported: only merges stamped <= T - merge "        \
	"delay,\n"                                                             \
	"                  as Mixpanel's reports see them\n"
#define DASH_HELP "A DISTINCT_ID that begins with \"-\" goes after \"--\".\n"

static const struct command commands[] = {
    {"init", cmd_init, O(OPT_MODE) | O(OPT_MERGE_DELAY) | O(OPT_CLUSTER_CAP), 1,
     1, "DIR",
     "init DIR [--mode original|simplified|legacy]\n"
     "                    [--merge-delay SECONDS] [--cluster-cap N]\n\n",
     "Creates an idgraph database in directory DIR (created if missing).\n"
     "On an existing database it changes the settings given and keeps the\n"
     "others; the mode cannot change once the database holds a record.\n"
     "\n"
     "options:\n"
     "  --mode M             identity mode: original (default), simplified\n"
     "                       or legacy\n"
     "  --merge-delay S      seconds before a merge shows in the reported\n"
     "                       view (default 3600; a fraction is allowed)\n"
     "  --cluster-cap N      original mode: most nodes in one cluster\n"
     "                       (default 500; 0 means no cap)\n"
     "\n"
     "prints: one line, e.g. \"created DIR: mode original, merge delay\n"
     "3600 s, cluster cap 500\".\n"},
    {"ingest", cmd_ingest,
     O(OPT_REJECTS) | O(OPT_CLOCK) | O(OPT_BATCH_SIZE) | O(OPT_NOSYNC) |
	 O(OPT_QUIET) | O(OPT_JSON),
     1, -1, "DIR [FILE ...|-]",
     "ingest DIR [FILE ...|-] [--rejects FILE] [--clock event|wall]\n"
     "                      [--batch-size N] [--nosync] [--quiet] [--json]\n"
     "\n",
     "Ingests Mixpanel-shaped JSON lines ({\"event\": ..., \"properties\":\n"
     "{...}}, or a JSON array of them per line) from each FILE in order;\n"
     "\"-\" or no FILE reads stdin. Identity events ($identify,\n"
     "$create_alias, $merge) merge clusters by the database's mode.\n"
     "Rejected records never stop the ingest: each is reported on stderr as\n"
     "\"idgraph: FILE:LINE[:INDEX]: FIELD: MESSAGE\" (the first 20 per file,\n"
     "then a count of the rest; LINE counts from 1, INDEX from 0 within a\n"
     "JSON array line) and the exit status stays 0. The exit\n"
     "status is 1 on a storage or I/O failure: the batches committed\n"
     "before it are kept.\n"
     "\n"
     "options:\n"
     "  --rejects FILE   write each rejected record's bytes, one per line,\n"
     "                   to FILE (replaced if it exists)\n"
     "  --clock C        event (default): stamp records with their own time;\n"
     "                   wall: with the wall clock\n"
     "  --batch-size N   records per write transaction (default 20000)\n"
     "  --nosync         do not flush each batch to disk (faster; a system\n"
     "                   crash may lose the last batches, never half one)\n"
     "  --quiet          no progress display\n"
     "  --json           print the summary as one JSON object\n"
     "\n"
     "prints: progress on stderr when it is a terminal (records, records/s,\n"
     "share of the file), then a summary on stdout: records, rejected,\n"
     "events, identity events, nodes created, merged, noop, refused by\n"
     "reason. With --json: {\"records\", \"rejected\", \"events\",\n"
     "\"identity_events\", \"nodes_created\", \"outcomes\": {\"merged\",\n"
     "\"noop\", and every failure reason, zeros included}, \"files\" (\"-\"\n"
     "for stdin), \"seconds\", \"records_per_second\"}. \"records\" counts\n"
     "every record read, valid or rejected.\n"},
    {"resolve", cmd_resolve, O(OPT_AT) | O(OPT_VIEW) | O(OPT_JSON), 2, 2,
     "DIR DISTINCT_ID",
     "resolve DIR DISTINCT_ID [--at T] [--view live|reported]\n"
     "                       [--json]\n\n",
     "Resolves DISTINCT_ID to the canonical id of its cluster.\n"
     "\n"
     "options:\n" TIME_HELP VIEW_HELP
     "  --json          print one JSON object\n"
     "\n"
     "prints: \"canonical: X\", \"cluster size: N\" and \"members: a, b, c\"\n"
     "(in the order the database first saw them). With --json:\n"
     "{\"distinct_id\", \"canonical\", \"cluster_size\", \"members\": [...],\n"
     "\"at\": T in milliseconds or null, \"view\"}. An id the database had\n"
     "not seen (by T) is an error (exit status 1).\n" DASH_HELP},
    {"cluster", cmd_cluster, O(OPT_AT) | O(OPT_VIEW) | O(OPT_JSON), 2, 2,
     "DIR DISTINCT_ID",
     "cluster DIR DISTINCT_ID [--at T] [--view live|reported]\n"
     "                       [--json]\n\n",
     "Lists the members of DISTINCT_ID's cluster, in the order the database\n"
     "first saw them.\n"
     "\n"
     "options:\n" TIME_HELP VIEW_HELP
     "  --json          print one JSON object\n"
     "\n"
     "prints: one member per line. With --json: {\"canonical\",\n"
     "\"members\": [...]}.\n" DASH_HELP},
    {"log", cmd_log, O(OPT_JSON), 1, 1, "DIR", "log DIR [--json]\n\n",
     "Prints the identity log: every $identify, $create_alias and $merge in\n"
     "stamp order, with its outcome.\n"
     "\n"
     "options:\n"
     "  --json   print JSON lines\n"
     "\n"
     "prints: a table with the stamp (ISO 8601 UTC), the event, the two ids\n"
     "it named (identified and anonymous id for $identify, target and alias\n"
     "for $create_alias, the two ids of $merge), the outcome (merged, noop\n"
     "or refused), the reason of a refusal (\"-\" when none) and the\n"
     "cluster's canonical id afterwards. With --json, one object per line:\n"
     "{\"seq\", \"stamp\" (ms), \"time\" (ISO 8601), \"event\", \"ids\": [a, "
     "b],\n"
     "\"insert_id\", \"outcome\", \"reason\", \"description\", "
     "\"canonical\"};\n"
     "insert_id, reason and description are null when there is none.\n"},
    {"export", cmd_export, O(OPT_FORMAT) | O(OPT_AT) | O(OPT_VIEW), 2, 2,
     "mappings DIR",
     "export mappings DIR [--format csv|jsonl] [--at T]\n"
     "                      [--view live|reported]\n\n",
     "Exports the identity mappings in the shape of Mixpanel's\n"
     "mp_identity_mappings_data: one row per node of every cluster of two\n"
     "or more nodes, with the cluster's canonical id (which maps to itself).\n"
     "\n"
     "options:\n"
     "  --format F      csv (default) or jsonl\n" TIME_HELP VIEW_HELP "\n"
     "prints: CSV with the header \"distinct_id,resolved_distinct_id\",\n"
     "fields quoted as RFC 4180 says when they hold a comma, quote, CR or\n"
     "LF, lines ending in LF; or JSON lines {\"distinct_id\",\n"
     "\"resolved_distinct_id\"}.\n"},
    {"info", cmd_info, O(OPT_JSON), 1, 1, "DIR", "info DIR [--json]\n\n",
     "Prints a database's settings and counters.\n"
     "\n"
     "options:\n"
     "  --json   print one JSON object\n"
     "\n"
     "prints: mode, merge delay, cluster cap, stamp (ms and ISO 8601 UTC;\n"
     "\"none\" before any record), records, nodes, log size. With --json:\n"
     "{\"mode\", \"merge_delay_ms\", \"cluster_cap\", \"stamp\" (null before\n"
     "any record), \"stamp_time\", \"records\", \"nodes\", \"log_size\"}.\n"},
    {"version", cmd_version, 0, 0, 0, "", "version\n\n",
     "Prints \"idgraph VERSION\" (and the library's version when it\n"
     "differs from the one the tool was built with).\n"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
print_overview(void)
{
	fputs("usage: idgraph COMMAND [ARGS] [OPTIONS]\n"
	      "\n"
	      "idgraph resolves Mixpanel identities (ID merge) in a local\n"
	      "database directory.\n"
	      "\n"
	      "commands:\n"
	      "  init DIR              create a database or change its "
	      "settings\n"
	      "  ingest DIR [FILE...]  ingest JSON lines from files or stdin\n"
	      "  resolve DIR ID        canonical id, cluster size and members\n"
	      "  cluster DIR ID        the members of ID's cluster\n"
	      "  log DIR               the identity log\n"
	      "  export mappings DIR   identity mappings (CSV or JSON lines)\n"
	      "  info DIR              settings and counters of a database\n"
	      "  version               the version\n"
	      "  help COMMAND          help on a command (or: COMMAND --help)\n"
	      "\n"
	      "Options may come before or after the arguments; \"--\" ends "
	      "them\n"
	      "(for ids that begin with \"-\"). Times (--at T) are epoch "
	      "seconds,\n"
	      "epoch milliseconds (>= 1e11) or ISO 8601 UTC. Queries use the "
	      "live\n"
	      "view unless --view reported is given.\n"
	      "\n"
	      "exit status: 0 success, 1 failure, 2 usage error.\n",
	      stdout);
}

static int
run_help(int argc, char **argv)
{
	const struct command *c;

	if (argc == 0) {
		print_overview();
		return finish_stdout();
	}
	if ((c = find_command(argv[0])) == NULL)
		return usage_error("no command '%s'; see: idgraph --help",
				   argv[0]);
	print_help(c);
	return finish_stdout();
}

int
main(int argc, char **argv)
{
	struct args a;
	const struct command *c;
	int rc;

	if (argc < 2)
		return usage_error("missing command; see: idgraph --help");
	if (is_help_flag(argv[1]))
		return run_help(0, NULL);
	if (strcmp(argv[1], "help") == 0)
		return run_help(argc - 2, argv + 2);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(NULL);
	if ((c = find_command(argv[1])) == NULL)
		return usage_error("unknown command '%s'; see: idgraph --help",
				   argv[1]);
	if (wants_help(argc - 2, argv + 2)) {
		print_help(c);
		return finish_stdout();
	}
	memset(&a, 0, sizeof a);
	a.cmd = c->name;
	if ((rc = parse_args(c, argc - 2, argv + 2, &a)) != 0)
		return rc;
	return c->run(&a);
}
