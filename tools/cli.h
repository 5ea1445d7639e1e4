/*
 * cli.h — what the files of the idgraph command-line tool share; the tool is
 * a client of include/idgraph.h only (plus cli_time.h for --at values).
 *
 * Conventions every command keeps: results go to stdout; stderr gets
 * progress (on a terminal only), rejected records, and at most one line
 * "idgraph: <message>" when the command fails, saying what to do next. The
 * exit status is 0 on success, 1 on failure, 2 on a usage error (bad
 * option, missing argument, bad number or time). Every JSON output is
 * written through the idg_jw_* writer of the library, never by hand.
 *
 * A command is a function cmd_NAME(struct args *) in its cmd_*.c file, a
 * row of the command table in cli.c and its help_NAME in cli_help.c.
 */
#ifndef IDG_CLI_H
#define IDG_CLI_H

#include "idgraph.h"

#include <stddef.h>
#include <stdint.h>

/* Exit status of a usage error (EXIT_SUCCESS and EXIT_FAILURE otherwise). */
#define EXIT_USAGE 2

/* ------------------------------------------------------------------ */
/* Command line                                                        */

/* The options of every command; struct command says which one accepts. */
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
	OPT_FORCE,
	OPT_RESUME,
	OPT_FROM,
	OPT_TO,
	OPT_EVENT,
	OPT_INTERVAL, /* report, profile(s), export profiles, compare */
	OPT_STEPS,
	OPT_WINDOW,
	OPT_WHERE,
	OPT_LIMIT,
	OPT_HIDDEN,
	OPT_MODES,
	OPT_FUNNEL,
	OPT_KEEP,
	OPT_EVENTS, /* gen, bench */
	OPT_SEED,
	OPT_NOISE,
	OPT_RUNS,
	OPT_THREADS, /* ingest */
	OPT_COUNT
};

/* The bit of option x in struct command's opts. */
#define O(x) (1u << (x))

/* A parsed command line: option values and positional arguments. */
struct args {
	const char *cmd;	    /* command name, for messages */
	const char *val[OPT_COUNT]; /* value given, or "" for flags; or NULL */
	char **pos;		    /* positional arguments */
	int npos;
};

/* The help of one command, printed as "usage: idgraph " usage text. */
struct cmd_help {
	const char *usage; /* after "usage: idgraph " */
	const char *text;  /* what it does, options, what it prints */
	const char *more;  /* text continued, or NULL (C caps a string
			      literal at 4095 bytes) */
};

/* One row of the command table: how main() parses and runs a command. */
struct command {
	const char *name;
	int (*run)(struct args *a);
	unsigned opts;	      /* O(OPT_*) accepted */
	int min_pos, max_pos; /* max_pos < 0: no limit */
	const char *args;     /* positional arguments, for messages */
	const struct cmd_help *help;
};

/* The row of the command named name, or NULL. */
const struct command *find_command(const char *name);

/* Parses a decimal integer in [min, max] from option k. */
int parse_uint_opt(const struct args *a, int k, uint64_t min, uint64_t max,
		   uint64_t *out);

/* The --at value as *at (IDG_NOW when absent); *given says if present. */
int parse_at(const struct args *a, int64_t *at, int *given);

/* The time value of option k (--from, --to) as *t; unchanged when absent. */
int parse_time_opt(const struct args *a, int k, int64_t *t);

/* The --view value as *view (IDG_VIEW_LIVE when absent). */
int parse_view(const struct args *a, int *view);

/* The --view name of a view: "live" or "reported". */
const char *view_name(int view);

/* ------------------------------------------------------------------ */
/* Help (cli_help.c)                                                   */

/* Prints the help of command c on stdout. */
void print_help(const struct command *c);

/* The help command: the overview with no words, else argv[0]'s help. */
int run_help(int argc, char **argv);

/* The help of each command, for its row of the command table. */
extern const struct cmd_help help_init, help_ingest, help_resolve, help_cluster,
    help_log, help_explain, help_export, help_info, help_version;
extern const struct cmd_help help_gen, help_bench;
extern const struct cmd_help help_report, help_profile, help_profiles,
    help_compare;

/* ------------------------------------------------------------------ */
/* Commands (cmd_*.c): each returns the exit status                    */

/* init DIR: creates a database or changes its settings (cmd_init.c). */
int cmd_init(struct args *a);

/* ingest DIR [FILE ...|-]: ingests JSON lines or MessagePack (cmd_ingest.c). */
int cmd_ingest(struct args *a);

/* resolve DIR ID: canonical id, size and members (cmd_query.c). */
int cmd_resolve(struct args *a);

/* cluster DIR ID: the members of ID's cluster (cmd_query.c). */
int cmd_cluster(struct args *a);

/* info DIR: settings and counters of a database (cmd_query.c). */
int cmd_info(struct args *a);

/* version: the tool's (and the library's) version; a may be NULL. */
int cmd_version(struct args *a);

/* log DIR: the identity log as a table or JSON lines (cmd_log.c). */
int cmd_log(struct args *a);

/* explain DIR ID [ID2]: the merges that built ID's cluster, or the
 * shortest chain of merges from ID to ID2 (cmd_explain.c). */
int cmd_explain(struct args *a);

/* export mappings|events DIR: identity mappings as CSV or JSON lines, or
 * the stored events as JSON lines or MessagePack (cmd_export.c). */
int cmd_export(struct args *a);

/* export profiles DIR: the profiles as JSON lines or MessagePack
 * (cmd_profile.c, called by cmd_export). */
int cmd_export_profiles(struct args *a);

/* report uniques|funnel DIR: unique users and funnels (cmd_report.c). */
int cmd_report(struct args *a);

/* profile DIR ID: the Explore view of one id (cmd_profile.c). */
int cmd_profile(struct args *a);

/* profiles DIR: the profiles, like Mixpanel's Users tab (cmd_profile.c). */
int cmd_profiles(struct args *a);

/* compare FILE ...: the same input under each mode (cmd_compare.c). */
int cmd_compare(struct args *a);

/* ------------------------------------------------------------------ */
/* Reports (cmd_report.c), shared with compare                         */

/* A comma-separated list of event names, split. */
struct steps {
	char *buf; /* the copy the names point into */
	const char **names;
	size_t n;
};

/* Splits s (the value of --opt) into st; a usage error for empty names. */
int split_steps(const char *s, const char *opt, struct steps *st);

/* Frees what split_steps() allocated; st may be zeroed. */
void free_steps(struct steps *st);

/* The --view of a report as *view: reported when absent. */
int parse_report_view(const struct args *a, int *view);

/* Exit status and message of a failed report in command cmd (for the
 * "see: idgraph cmd --help"): 2 for the library's
 * IDG_ENOTFOUND (unknown event) and IDG_EINVAL (bad range, steps). */
int report_error(idg_db *db, const char *cmd, const char *what, int rc);

/* Writes a funnel's "steps" list: [{"event", "users", "conversion"}]. */
void json_funnel_steps(idg_jw *w, const struct steps *st,
		       const struct idg_funnel_step *out);

/* gen: a generated Mixpanel-shaped workload on stdout (cmd_gen.c). */
int cmd_gen(struct args *a);

/* bench: the standard benchmark and its baselines (cmd_bench.c). */
int cmd_bench(struct args *a);

/* ------------------------------------------------------------------ */
/* Messages, databases and output (cli_util.c)                         */

/* Prints "idgraph: <message>" on stderr and returns 1 (failure). */
int fail(const char *fmt, ...);

/* Prints "idgraph: <message>" on stderr and returns 2 (usage error). */
int usage_error(const char *fmt, ...);

/* An id for a message: quoted, its first 80 bytes ("..." after). */
const char *shown_id(const char *id);
/* The detail of a library failure: the handle's message, else the code's. */
const char *detail(const idg_db *db, int rc);

/* Prints why idg_open(dir) failed with rc and what to do about it. */
void report_open_error(const char *dir, int rc);

/* 1 if path is a directory that holds a database (its data.mdb). */
int is_database(const char *path);

/* Opens dir with opts (NULL for defaults) and flags; reports failures. */
int open_db(idg_db **db, const char *dir, const struct idg_options *opts,
	    unsigned flags);

/* Flushes stdout; 1 with a message if anything written to it was lost. */
int finish_stdout(void);

/* A JSON writer on stdout, or NULL with a message. */
idg_jw *open_writer(void);

/* Closes a JSON writer; 1 with a message if a write failed. */
int close_writer(idg_jw *w);

/* Writes a NUL-terminated object key. */
void jw_key(idg_jw *w, const char *key);

/* Writes a NUL-terminated string. */
void jw_str(idg_jw *w, const char *s);

/* Writes "key": v. */
void jw_u(idg_jw *w, const char *key, uint64_t v);

/* Writes a string, or null when it is empty. */
void jw_str_or_null(idg_jw *w, const char *s);

/* Writes a time as its ISO 8601 text, or null before any record. */
void jw_time(idg_jw *w, int64_t ms);
/* "at" (ISO 8601) and "at_ms" of a query's --at, as the reports write
 * them; both null without --at (now). */
void jw_at(idg_jw *w, int given, int64_t at);

/* Writes "key": [a, b]. */
void jw_pair(idg_jw *w, const char *key, const char *a, const char *b);

/* The fields an identity-log entry's object begins with (log --json, the
 * merges of explain --json): "seq", "stamp", "time", "event", "ids":
 * [a, b], "insert_id" (null when there is none). */
void jw_log_head(idg_jw *w, const struct idg_log_entry *e);

/*
 * Writes p[0..n) on fp for a person to read: control characters (NUL,
 * newline, escape, ..., and U+0080 to U+009F) as \xNN per byte, so that a
 * value stays on its line and a terminal runs none of them; every other
 * byte as it is. Returns the columns written (a UTF-8 character counts
 * one). --json outputs give such values exactly instead.
 */
size_t put_text(FILE *fp, const char *p, size_t n);
/* The columns put_text takes for p[0..n). */
size_t text_width(const char *p, size_t n);

/* Tables for people (log, explain): columns as wide as their widest
 * value, up to TABLE_COL_MAX (wider values overflow their column). */
#define TABLE_COL_MAX 80

/* The width of a column after a value of n bytes, current before. */
int table_width(size_t n, int current);

/* Prints s left-aligned in a column of width w, then two spaces. */
void table_cell(const char *s, int w);

/* The columns of a log entry's "a, b" cell, and the cell printed as
 * table_cell does (its ids through put_text). */
size_t table_ids_len(const struct idg_log_entry *e);
void table_ids(const struct idg_log_entry *e, int w);

/* "3600 s" or "0.5 s" for a number of milliseconds; returns buf. */
const char *format_seconds(char *buf, size_t size, int64_t ms);

/* Applies --mode, --merge-delay and --cluster-cap, when given, over *o:
 * 0, or EXIT_USAGE after its message. */
int settings_from_args(const struct args *a, struct idg_options *o);

/* Removes a file or a directory tree; what is missing is no error. */
void remove_tree(const char *path);

#endif
