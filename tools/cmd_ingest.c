/*
 * cmd_ingest.c — idgraph ingest: inputs, file memory, rejects.
 *
 * Regular files go through idg_ingest_file(), which remembers each one by
 * the hash of its content: a file ingested whole before is skipped, one an
 * earlier run left half done is refused unless --resume or --force says
 * what to do. stdin and pipes cannot be read twice (hashed, then ingested),
 * so they go through idg_ingest_stream() and are never remembered.
 */
#include "cli_ingest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Rejected records printed to stderr per input file; the rest are counted. */
#define REJECTS_SHOWN 20

/* 1 if byte c starts a MessagePack map or array (the library's rule). */
static int
msgpack_first_byte(int c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0xdc && c <= 0xdf);
}

/* "FILE:LINE[:INDEX]" for JSON lines, "FILE: value N[:INDEX]" otherwise. */
static void
print_where(const struct input *in, const struct idg_reject *r)
{
	if (in->format == IDG_FORMAT_MSGPACK)
		fprintf(stderr, "idgraph: %s: value %" PRIu64, in->name,
			r->line);
	else
		fprintf(stderr, "idgraph: %s:%" PRIu64, in->name, r->line);
	if (r->in_array)
		fprintf(stderr, ":%" PRIu32, r->index);
}

/*
 * Reports a rejected record on stderr and writes its bytes to --rejects:
 * a JSON record as a line, a MessagePack record as it is, so that the
 * rejects file is a valid input of the same format.
 */
static int
on_reject(void *user, const struct idg_reject *r)
{
	struct ingest *g = user;
	int json = g->in->format != IDG_FORMAT_MSGPACK;

	if (++g->file_rejected <= REJECTS_SHOWN) {
		clear_progress(g);
		print_where(g->in, r);
		/* a forbidden value quoted in the message may hold a
		 * newline: one reject, one line */
		if (r->field && *r->field) {
			fputs(": ", stderr);
			put_text(stderr, r->field, strlen(r->field));
		}
		fputs(": ", stderr);
		if (r->message)
			put_text(stderr, r->message, strlen(r->message));
		fputc('\n', stderr);
	}
	if (g->rejects == NULL)
		return 0;
	/* Written through before the batch commits: a reject of a committed
	 * batch is on disk, and one that cannot be written stops the ingest
	 * with its batch rolled back, so that a resume reads it again. */
	errno = 0;
	if (fwrite(r->raw, 1, r->raw_len, g->rejects) != r->raw_len ||
	    (json && putc('\n', g->rejects) == EOF) ||
	    fflush(g->rejects) != 0) {
		g->rejects_errno = errno ? errno : EIO;
		return 1; /* stop: a reject must never be lost silently */
	}
	return 0;
}

/*
 * The compression whose magic number begins b[0..n) (n >= 1; a pipe gives
 * its first byte only), and the tool that undoes it; NULL if none. No JSON
 * line and no MessagePack record begins with one of these bytes.
 */
static const char *
compressed(const unsigned char *b, size_t n, const char **cat)
{
	static const struct {
		const char *name, *cat;
		unsigned char magic[4];
		size_t m;
		int by_first; /* its first byte alone tells it (on a pipe) */
	} kinds[] = {
	    {"gzip", "zcat", {0x1f, 0x8b}, 2, 1},
	    {"zstd", "zstdcat", {0x28, 0xb5, 0x2f, 0xfd}, 4, 1},
	    {"xz", "xzcat", {0xfd, '7', 'z', 'X'}, 4, 1},
	    {"bzip2", "bzcat", {'B', 'Z', 'h'}, 3, 0}, /* 'B' could be text */
	};

	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		size_t m = n == 1 && kinds[k].by_first ? 1 : kinds[k].m;

		if (n >= m && memcmp(b, kinds[k].magic, m) == 0) {
			*cat = kinds[k].cat;
			return kinds[k].name;
		}
	}
	return NULL;
}

/* A compressed input is refused before anything is ingested: a file (stdin
 * too, when it is one) by its magic number, a pipe by its first byte. */
static int
check_compressed(const struct input *in, FILE *fp, int first, int seekable)
{
	unsigned char b[4] = {0};
	ssize_t n = 0;
	const char *kind, *cat;

	if (seekable)
		n = pread(fileno(fp), b, sizeof b, 0);
	else if (first != EOF)
		b[n++] = (unsigned char)first;
	if (n <= 0 || (kind = compressed(b, (size_t)n, &cat)) == NULL)
		return 0;
	return fail("%s is %s-compressed; idgraph reads JSON lines or "
		    "MessagePack: %s %s | idgraph ingest DIR -; nothing was "
		    "ingested",
		    in->name, kind, cat, in->regular ? in->arg : "FILE");
}

/*
 * Opens an input to learn its kind and format (--format, else its first
 * byte). stdin and pipes stay open, with the byte pushed back, since they
 * cannot be opened again.
 */
static int
probe_input(struct input *in, int format)
{
	struct stat st;
	FILE *fp = strcmp(in->arg, "-") == 0 ? stdin : fopen(in->arg, "rb");
	int c, known;

	in->name = fp == stdin ? "<stdin>" : in->arg;
	if (fp == NULL)
		return fail("cannot read %s: %s; nothing was ingested", in->arg,
			    strerror(errno));
	known = fstat(fileno(fp), &st) == 0;
	in->regular = fp != stdin && known && S_ISREG(st.st_mode);
	in->identified = known;
	in->dev = known ? st.st_dev : 0;
	in->ino = known ? st.st_ino : 0;
	if (known && S_ISDIR(st.st_mode)) {
		if (fp != stdin)
			fclose(fp);
		if (is_database(in->arg))
			return fail("%s is a database, not an input: the "
				    "database comes first (idgraph ingest "
				    "DIR FILE...); nothing was ingested",
				    in->name);
		return fail("%s is a directory; give the files in it; nothing "
			    "was ingested",
			    in->name);
	}
	c = getc(fp);
	if (c != EOF)
		ungetc(c, fp);
	in->format = format;
	if (format == IDG_FORMAT_AUTO)
		in->format = c != EOF && msgpack_first_byte(c)
				 ? IDG_FORMAT_MSGPACK
				 : IDG_FORMAT_JSONL;
	if (check_compressed(in, fp, c,
			     known && S_ISREG(st.st_mode) &&
				 ftello(fp) == 0) != 0) {
		if (fp != stdin)
			fclose(fp);
		return EXIT_FAILURE;
	}
	if (in->regular)
		fclose(fp);
	else
		in->fp = fp;
	return 0;
}

/* The --rejects file is created empty before any input is read: it must
 * be none of them, and none of the database's own files. */
static int
check_rejects(const char *path, const char *dir, const struct input *inputs,
	      int n)
{
	static const char *const own[] = {"data.mdb", "lock.mdb"};
	char file[4096];
	struct stat st, db;

	if (!path || stat(path, &st) != 0)
		return 0;
	for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
		if ((size_t)snprintf(file, sizeof file, "%s/%s", dir,
				     own[k]) < sizeof file &&
		    stat(file, &db) == 0 && db.st_dev == st.st_dev &&
		    db.st_ino == st.st_ino)
			return usage_error("--rejects %s is the database's own "
					   "%s: writing to it would destroy "
					   "the database; write the rejects "
					   "to another file",
					   path, own[k]);
	for (int i = 0; i < n; i++)
		if (inputs[i].identified && inputs[i].dev == st.st_dev &&
		    inputs[i].ino == st.st_ino)
			return usage_error("--rejects %s is an input (%s): it "
					   "would be emptied before it is "
					   "read; write the rejects to another "
					   "file",
					   path, inputs[i].name);
	return 0;
}

/*
 * Checks that every input can be read before ingesting any, and that a
 * --rejects file would hold a single format and is none of them.
 */
static int
check_inputs(const struct args *a, struct input *inputs, int n, int format)
{
	const char *json = NULL, *msgpack = NULL;
	int rc;

	for (int i = 0; i < n; i++) {
		if ((rc = probe_input(&inputs[i], format)) != 0)
			return rc;
		if (inputs[i].format == IDG_FORMAT_MSGPACK && !msgpack)
			msgpack = inputs[i].name;
		else if (inputs[i].format == IDG_FORMAT_JSONL && !json)
			json = inputs[i].name;
	}
	if (a->val[OPT_REJECTS] && json && msgpack)
		return usage_error("--rejects cannot hold both JSON lines (%s) "
				   "and MessagePack (%s); ingest them in "
				   "separate runs",
				   json, msgpack);
	return check_rejects(a->val[OPT_REJECTS], a->pos[0], inputs, n);
}

/* The notes on stderr about a file the database remembered. */
static void
print_file_notes(const struct input *in)
{
	if (in->stats.skipped)
		fprintf(stderr,
			"idgraph: %s: already ingested (same content); "
			"skipped \xe2\x80\x94 use --force to ingest it again\n",
			in->name);
	if (in->stats.resumed_at)
		fprintf(stderr,
			"idgraph: %s: resumed at %s %" PRIu64
			"; what came before it was ingested by an earlier "
			"run\n",
			in->name,
			in->format == IDG_FORMAT_MSGPACK ? "value" : "line",
			in->stats.resumed_at);
}

/* Ingests one input into db; its counts go to in->stats. */
static int
ingest_one(idg_db *db, struct input *in, struct ingest *g,
	   struct idg_ingest_opts *io)
{
	struct stat st;
	int rc;

	g->in = in;
	g->file_rejected = 0;
	g->file_size = -1;
	if (in->regular && stat(in->arg, &st) == 0)
		g->file_size = (int64_t)st.st_size;
	clock_gettime(CLOCK_MONOTONIC, &g->file_start);
	if (in->regular)
		rc = idg_ingest_file(db, in->arg, io, &in->stats);
	else
		rc = idg_ingest_stream(db, in->fp, io, &in->stats);
	clear_progress(g);
	if (g->file_rejected > REJECTS_SHOWN)
		fprintf(stderr, "idgraph: %s: ... %" PRIu64 " more rejected\n",
			in->name, g->file_rejected - REJECTS_SHOWN);
	if (rc == IDG_ESTOPPED && g->rejects_errno)
		return fail("cannot write the rejects file %s: %s; the "
			    "batches committed before were kept, with their "
			    "rejects in it, and the batch in progress was "
			    "rolled back: go on with --resume and another "
			    "--rejects file",
			    g->rejects_path, strerror(g->rejects_errno));
	if (rc == IDG_EPARTIAL)
		return fail("%s", detail(db, rc));
	if (rc != 0)
		return fail("ingest of %s failed: %s; the batches committed "
			    "before it were kept",
			    in->name, detail(db, rc));
	print_file_notes(in);
	if (in->stats.records && in->stats.rejected == in->stats.records &&
	    in->format != IDG_FORMAT_MSGPACK)
		fprintf(stderr,
			"idgraph: %s: every record was rejected; idgraph reads "
			"JSON lines, one record a line: a JSON array converts "
			"with jq -c '.[]', pretty-printed objects with jq -c "
			"., piped to: idgraph ingest DIR -\n",
			in->name);
	return 0;
}

static int
parse_input_format(const struct args *a, int *format)
{
	const char *f = a->val[OPT_FORMAT];

	if (f == NULL || strcmp(f, "auto") == 0)
		*format = IDG_FORMAT_AUTO;
	else if (strcmp(f, "jsonl") == 0)
		*format = IDG_FORMAT_JSONL;
	else if (strcmp(f, "msgpack") == 0)
		*format = IDG_FORMAT_MSGPACK;
	else
		return usage_error("bad --format value '%s': use auto, jsonl "
				   "or msgpack",
				   f);
	return 0;
}

/* The handle's options and the ingest options from the command line. */
static int
ingest_options(const struct args *a, struct idg_options *o,
	       struct idg_ingest_opts *io)
{
	const char *clock = a->val[OPT_CLOCK];
	uint64_t batch, threads = 2;

	if (a->val[OPT_BATCH_SIZE]) {
		if (parse_uint_opt(a, OPT_BATCH_SIZE, 1, UINT32_MAX, &batch))
			return EXIT_USAGE;
		o->batch_size = (uint32_t)batch;
	}
	if (a->val[OPT_NOSYNC])
		o->durability = IDG_NOSYNC;
	if (a->val[OPT_THREADS] &&
	    parse_uint_opt(a, OPT_THREADS, 1, 2, &threads))
		return EXIT_USAGE;
	io->threads = (int)threads == 1 ? 1 : 0;
	if (clock == NULL || strcmp(clock, "event") == 0)
		io->clock = IDG_CLOCK_EVENT;
	else if (strcmp(clock, "wall") == 0)
		io->clock = IDG_CLOCK_WALL;
	else
		return usage_error("bad --clock value '%s': use event or wall",
				   clock);
	if (a->val[OPT_FORCE] && a->val[OPT_RESUME])
		return usage_error("--force starts a file over and --resume "
				   "continues it: give one of them");
	io->force = a->val[OPT_FORCE] != NULL;
	io->resume = a->val[OPT_RESUME] != NULL;
	return parse_input_format(a, &io->format);
}

/* Ingests every input in order; stops at the first failure. */
static int
ingest_all(const struct args *a, idg_db *db, struct input *inputs, int n,
	   struct idg_ingest_opts *io)
{
	struct ingest g;
	struct timespec t0;
	int rc = 0;

	memset(&g, 0, sizeof g);
	g.rejects_path = a->val[OPT_REJECTS];
	if (g.rejects_path && (g.rejects = fopen(g.rejects_path, "wb")) == NULL)
		return fail("cannot create the rejects file %s: %s",
			    g.rejects_path, strerror(errno));
	g.progress = !a->val[OPT_QUIET] && isatty(STDERR_FILENO);
	io->on_reject = on_reject;
	io->on_progress = on_progress;
	io->user = &g;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n && rc == 0; i++)
		rc = ingest_one(db, &inputs[i], &g, io);
	if (g.rejects && fclose(g.rejects) != 0 && rc == 0)
		rc = fail("cannot write the rejects file %s: %s",
			  a->val[OPT_REJECTS], strerror(errno));
	if (rc == 0)
		rc = print_summary(a, inputs, n, seconds_since(&t0));
	return rc;
}

int
cmd_ingest(struct args *a)
{
	static char stdin_arg[] = "-";
	static char *only_stdin[] = {stdin_arg};
	char **files = a->npos > 1 ? a->pos + 1 : only_stdin;
	int n = a->npos > 1 ? a->npos - 1 : 1, rc;
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct input *inputs;
	idg_db *db = NULL;

	if ((rc = ingest_options(a, &o, &io)) != 0)
		return rc;
	if ((inputs = calloc((size_t)n, sizeof *inputs)) == NULL)
		return fail("out of memory");
	for (int i = 0; i < n; i++)
		inputs[i].arg = files[i];
	rc = check_inputs(a, inputs, n, io.format);
	if (rc == 0)
		rc = open_db(&db, a->pos[0], &o, 0);
	if (rc == 0)
		rc = ingest_all(a, db, inputs, n, &io);
	idg_close(db);
	for (int i = 0; i < n; i++)
		if (inputs[i].fp && inputs[i].fp != stdin)
			fclose(inputs[i].fp);
	free(inputs);
	return rc;
}
