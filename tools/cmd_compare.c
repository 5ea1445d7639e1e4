/*
 * cmd_compare.c — idgraph compare: ingests the same files under each
 * identity mode, each into its own database, and prints the numbers side
 * by side, so a team can see what moving from Original to Simplified ID
 * Merge (or from Legacy) would change before it does.
 *
 * The databases are temporary (a mkdtemp directory under $TMPDIR or /tmp)
 * and removed before the command returns, on success, on failure and on
 * SIGINT/SIGTERM (the ingest stops after its current batch); with --keep
 * DIR they are DIR/MODE and stay.
 */
#include "cli.h"
#include "cli_time.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NMODES 3

/* The numbers of one mode. */
struct result {
	int mode;
	char *dir;		    /* its database */
	struct idg_ingest_stats in; /* added up over the files */
	struct idg_graph_stats g;
	struct idg_uniques live, reported, ev_live, ev_reported;
	struct idg_funnel_step *funnel; /* nsteps entries, or NULL */
};

/* One run of compare. */
struct compare {
	const struct args *a;
	struct idg_options o; /* mode set per result */
	const char *event;
	struct steps funnel; /* n == 0 without --funnel */
	int64_t at;
	char *tmp; /* the mkdtemp directory, or NULL with --keep */
	struct result r[NMODES];
	int n;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}

static int
on_progress_stop(void *user, const struct idg_progress *p)
{
	(void)user;
	(void)p;
	return interrupted != 0;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */

/* --modes: names of modes, separated by commas, each once. */
static int
parse_modes(struct compare *c, const char *s)
{
	const char *p = s;
	size_t len;
	int m;

	for (c->n = 0; c->n == 0 || *p++ == ','; c->n++) {
		len = strcspn(p, ",");
		for (m = 0; idg_mode_name(m); m++)
			if (strlen(idg_mode_name(m)) == len &&
			    strncmp(p, idg_mode_name(m), len) == 0)
				break;
		for (int i = 0; idg_mode_name(m) && i < c->n; i++)
			if (c->r[i].mode == m)
				return usage_error("bad --modes value '%s': "
						   "%s is named twice",
						   s, idg_mode_name(m));
		if (idg_mode_name(m) == NULL || c->n == NMODES)
			return usage_error(
			    "bad --modes value '%s': give "
			    "original, simplified and/or legacy, "
			    "separated by commas",
			    s);
		c->r[c->n].mode = m;
		p += len;
	}
	return 0;
}

/* Every option, and a check that every FILE can be read. */
static int
compare_options(struct compare *c)
{
	const struct args *a = c->a;
	const char *opt, *steps;
	int at_given, rc;
	FILE *fp;

	if ((rc = parse_modes(c, a->val[OPT_MODES] ? a->val[OPT_MODES]
						   : "original,simplified,"
						     "legacy")) != 0)
		return rc;
	if ((rc = settings_from_args(a, &c->o)) != 0)
		return rc;
	if ((rc = parse_at(a, &c->at, &at_given)) != 0)
		return rc;
	c->event = a->val[OPT_EVENT];
	if (a->val[OPT_FUNNEL] && a->val[OPT_STEPS])
		return usage_error("--steps and --funnel are the same option: "
				   "give one of them");
	/* --steps, as report funnel names it; --funnel, as it was first */
	opt = a->val[OPT_STEPS] ? "steps" : "funnel";
	steps = a->val[OPT_STEPS] ? a->val[OPT_STEPS] : a->val[OPT_FUNNEL];
	if (steps && (rc = split_steps(steps, opt, &c->funnel)) != 0)
		return rc;
	if (steps && c->funnel.n < 2)
		return usage_error("bad --%s value '%s': a funnel needs two "
				   "or more steps, e.g. --%s signup,purchase",
				   opt, steps, opt);
	for (int i = 0; i < a->npos; i++) {
		if (strcmp(a->pos[i], "-") == 0)
			return usage_error("compare reads each FILE once per "
					   "mode, so not from stdin: save the "
					   "input to a file first");
		if ((fp = fopen(a->pos[i], "rb")) == NULL)
			return fail("cannot read %s: %s; check the path",
				    a->pos[i], strerror(errno));
		fclose(fp);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Databases                                                           */

static char *
join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s/%s", dir, name);
	return s;
}

/* Makes the directory of each mode's database: under --keep or a tmp. */
static int
make_dirs(struct compare *c)
{
	const char *keep = c->a->val[OPT_KEEP], *base = keep;
	const char *tmpdir = getenv("TMPDIR");
	struct stat st;
	char *tmpl;

	if (keep == NULL) {
		if (tmpdir == NULL || *tmpdir == '\0')
			tmpdir = "/tmp";
		if ((tmpl = join(tmpdir, "idgraph-compare.XXXXXX")) == NULL)
			return fail("out of memory");
		if (mkdtemp(tmpl) == NULL) {
			free(tmpl);
			return fail("cannot make a temporary directory in %s: "
				    "%s; set TMPDIR to a writable directory",
				    tmpdir, strerror(errno));
		}
		base = c->tmp = tmpl;
	} else if (mkdir(keep, 0777) != 0 &&
		   (errno != EEXIST || stat(keep, &st) != 0 ||
		    !S_ISDIR(st.st_mode))) {
		return fail("cannot make directory %s for --keep: %s", keep,
			    errno == EEXIST ? "it is not a directory"
					    : strerror(errno));
	}
	for (int i = 0; i < c->n; i++) {
		if ((c->r[i].dir = join(base, idg_mode_name(c->r[i].mode))) ==
		    NULL)
			return fail("out of memory");
		if (mkdir(c->r[i].dir, 0777) != 0)
			return fail("cannot make directory %s: %s%s",
				    c->r[i].dir, strerror(errno),
				    errno == EEXIST ? "; give --keep a new "
						      "or empty directory"
						    : "");
	}
	return 0;
}

/* Adds the counts of one file's ingest to the mode's. */
static void
add_stats(struct idg_ingest_stats *sum, const struct idg_ingest_stats *s)
{
	sum->records += s->records;
	sum->rejected += s->rejected;
	sum->merged += s->merged;
	sum->noop += s->noop;
	for (int i = 0; i < IDG_REASON_COUNT; i++)
		sum->refused[i] += s->refused[i];
}

static int
ingest_files(struct compare *c, idg_db *db, struct result *r)
{
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats s;
	int rc;

	io.on_progress = on_progress_stop;
	for (int i = 0; i < c->a->npos; i++) {
		memset(&s, 0, sizeof s);
		rc = idg_ingest_file(db, c->a->pos[i], &io, &s);
		if (rc == IDG_ESTOPPED || interrupted)
			return fail("interrupted; the databases of compare "
				    "are removed (unless --keep)");
		if (rc != 0)
			return fail("cannot ingest %s in mode %s: %s",
				    c->a->pos[i], idg_mode_name(r->mode),
				    detail(db, rc));
		add_stats(&r->in, &s);
	}
	return 0;
}

/* Uniques of event (NULL: all) in both views. */
static int
uniques(struct compare *c, idg_db *db, const char *event,
	struct idg_uniques *live, struct idg_uniques *reported)
{
	struct idg_report_opts o = IDG_REPORT_OPTS_INIT;
	int rc;

	o.event = event;
	o.at = c->at;
	o.view = IDG_VIEW_LIVE;
	if ((rc = idg_report_uniques(db, &o, live, NULL, NULL)) == 0) {
		o.view = IDG_VIEW_REPORTED;
		rc = idg_report_uniques(db, &o, reported, NULL, NULL);
	}
	return rc == 0 ? 0 : report_error(db, "compare", "uniques", rc);
}

static int
funnel(struct compare *c, idg_db *db, struct result *r)
{
	struct idg_funnel_opts o = IDG_FUNNEL_OPTS_INIT;
	int rc;

	if (c->funnel.n == 0)
		return 0;
	if ((r->funnel = calloc(c->funnel.n, sizeof *r->funnel)) == NULL)
		return fail("out of memory");
	o.steps = c->funnel.names;
	o.nsteps = c->funnel.n;
	o.at = c->at;
	rc = idg_report_funnel(db, &o, r->funnel, NULL);
	return rc == 0 ? 0 : report_error(db, "compare", "funnel", rc);
}

/* Ingests the files under r->mode and takes its numbers. */
static int
run_mode(struct compare *c, struct result *r)
{
	struct idg_options o = c->o;
	idg_db *db = NULL;
	int rc;

	o.mode = r->mode;
	o.durability = IDG_NOSYNC; /* a scratch database */
	if ((rc = open_db(&db, r->dir, &o, IDG_OPEN_CREATE)) != 0)
		return rc;
	if ((rc = ingest_files(c, db, r)) == 0 &&
	    (rc = idg_graph_stats(db, &r->g)) != 0)
		rc = fail("cannot read the graph of mode %s: %s",
			  idg_mode_name(r->mode), detail(db, rc));
	if (rc == 0)
		rc = uniques(c, db, NULL, &r->live, &r->reported);
	if (rc == 0 && c->event)
		rc = uniques(c, db, c->event, &r->ev_live, &r->ev_reported);
	if (rc == 0)
		rc = funnel(c, db, r);
	idg_close(db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static void
json_outcomes(idg_jw *w, const struct idg_ingest_stats *s)
{
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
}

static void
json_result(const struct compare *c, idg_jw *w, const struct result *r)
{
	jw_u(w, "records", r->in.records);
	jw_u(w, "rejected", r->in.rejected);
	jw_u(w, "distinct_ids", r->g.distinct_ids);
	jw_u(w, "clusters", r->g.clusters);
	jw_u(w, "uniques_live", r->live.uniques);
	jw_u(w, "uniques_reported", r->reported.uniques);
	jw_key(w, "uniques_event_live");
	if (c->event)
		idg_jw_uint(w, r->ev_live.uniques);
	else
		idg_jw_null(w);
	jw_key(w, "uniques_event_reported");
	if (c->event)
		idg_jw_uint(w, r->ev_reported.uniques);
	else
		idg_jw_null(w);
	jw_key(w, "outcomes");
	json_outcomes(w, &r->in);
	jw_u(w, "largest_cluster", r->g.largest_cluster);
	jw_u(w, "profiles_active", r->g.profiles_active);
	jw_u(w, "profiles_hidden", r->g.profiles_hidden);
	jw_key(w, "funnel");
	if (r->funnel)
		json_funnel_steps(w, &c->funnel, r->funnel);
	else
		idg_jw_null(w);
	jw_u(w, "pending_merges", r->reported.pending_merges);
	jw_key(w, "at");
	jw_time(w, r->reported.at);
	jw_key(w, "database");
	if (c->tmp)
		idg_jw_null(w);
	else
		jw_str(w, r->dir);
}

static int
print_json(const struct compare *c)
{
	idg_jw *w = open_writer();

	if (w == NULL)
		return EXIT_FAILURE;
	idg_jw_object_begin(w);
	for (int i = 0; i < c->n; i++) {
		jw_key(w, idg_mode_name(c->r[i].mode));
		idg_jw_object_begin(w);
		json_result(c, w, &c->r[i]);
		idg_jw_object_end(w);
	}
	idg_jw_object_end(w);
	idg_jw_newline(w);
	return close_writer(w);
}

/* One row of the table: a label and a cell per mode. */
struct row {
	char label[96];
	char cell[NMODES][40];
};

/* The rows of the table, at most 40 of them; returns how many. */
static int
table_rows(const struct compare *c, struct row *t)
{
	int n = 0, k;
	uint64_t any;

#define ROW(lab, ...)                                                          \
	do {                                                                   \
		snprintf(t[n].label, sizeof t[n].label, "%s", lab);            \
		for (int i = 0; i < c->n; i++) {                               \
			const struct result *r = &c->r[i];                     \
			snprintf(t[n].cell[i], sizeof t[n].cell[i],            \
				 __VA_ARGS__);                                 \
		}                                                              \
		n++;                                                           \
	} while (0)
	ROW("records", "%" PRIu64, r->in.records);
	ROW("rejected", "%" PRIu64, r->in.rejected);
	ROW("distinct ids", "%" PRIu64, r->g.distinct_ids);
	ROW("clusters (2+)", "%" PRIu64, r->g.clusters);
	ROW("unique users (live)", "%" PRIu64, r->live.uniques);
	ROW("unique users (reported)", "%" PRIu64, r->reported.uniques);
	if (c->event) {
		char lab[80];
		snprintf(lab, sizeof lab, "unique users %.40s (live)",
			 c->event);
		ROW(lab, "%" PRIu64, r->ev_live.uniques);
		snprintf(lab, sizeof lab, "unique users %.40s (reported)",
			 c->event);
		ROW(lab, "%" PRIu64, r->ev_reported.uniques);
	}
	ROW("merges: merged", "%" PRIu64, r->in.merged);
	ROW("merges: noop", "%" PRIu64, r->in.noop);
	for (k = IDG_REASON_NONE + 1; k < IDG_REASON_COUNT; k++) {
		any = 0;
		for (int i = 0; i < c->n; i++)
			any += c->r[i].in.refused[k];
		if (any) {
			char lab[80];
			snprintf(lab, sizeof lab, "merges: %s",
				 idg_reason_name(k));
			ROW(lab, "%" PRIu64, r->in.refused[k]);
		}
	}
	ROW("largest cluster", "%" PRIu64, r->g.largest_cluster);
	ROW("profiles active", "%" PRIu64, r->g.profiles_active);
	ROW("profiles hidden", "%" PRIu64, r->g.profiles_hidden);
	for (size_t s = 0; s < c->funnel.n && n < 40; s++) {
		char lab[80];
		snprintf(lab, sizeof lab, "funnel %zu. %.40s", s + 1,
			 c->funnel.names[s]);
		ROW(lab, "%" PRIu64 " (%.1f%%)", r->funnel[s].users,
		    100.0 * r->funnel[s].conversion);
	}
#undef ROW
	return n;
}

static int
print_table(const struct compare *c)
{
	struct row t[40];
	int n = table_rows(c, t), lw = 0, cw[NMODES];
	char when[CLI_TIME_BUFSIZE], delay[48];

	for (int j = 0; j < n; j++)
		if ((int)strlen(t[j].label) > lw)
			lw = (int)strlen(t[j].label);
	for (int i = 0; i < c->n; i++) {
		cw[i] = (int)strlen(idg_mode_name(c->r[i].mode));
		for (int j = 0; j < n; j++)
			if ((int)strlen(t[j].cell[i]) > cw[i])
				cw[i] = (int)strlen(t[j].cell[i]);
	}
	printf("%-*s", lw, "");
	for (int i = 0; i < c->n; i++)
		printf("  %*s", cw[i], idg_mode_name(c->r[i].mode));
	putchar('\n');
	for (int j = 0; j < n; j++) {
		printf("%-*s", lw, t[j].label);
		for (int i = 0; i < c->n; i++)
			printf("  %*s", cw[i], t[j].cell[i]);
		putchar('\n');
	}
	printf("at: %s; reported view and funnel: merges stamped <= at - %s\n",
	       c->r[0].reported.at == INT64_MIN
		   ? "none"
		   : cli_time_format(when, c->r[0].reported.at),
	       format_seconds(delay, sizeof delay, c->o.merge_delay_ms));
	return finish_stdout();
}

/* ------------------------------------------------------------------ */
/* compare FILE ...                                                    */

int
cmd_compare(struct args *a)
{
	struct compare c;
	struct sigaction sa, old_int, old_term;
	int rc;

	memset(&c, 0, sizeof c);
	c.a = a;
	c.o = (struct idg_options)IDG_OPTIONS_INIT;
	if ((rc = compare_options(&c)) != 0)
		goto out;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if ((rc = make_dirs(&c)) == 0)
		for (int i = 0; i < c.n && rc == 0; i++)
			rc = run_mode(&c, &c.r[i]);
	if (c.tmp)
		remove_tree(c.tmp);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (interrupted)
		rc = 128 + interrupted;
	else if (rc == 0)
		rc = a->val[OPT_JSON] ? print_json(&c) : print_table(&c);
out:
	for (int i = 0; i < NMODES; i++) {
		free(c.r[i].dir);
		free(c.r[i].funnel);
	}
	free(c.tmp);
	free_steps(&c.funnel);
	return rc;
}
