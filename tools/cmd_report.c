/*
 * cmd_report.c — idgraph report: unique users (total, or per day or hour)
 * and funnels, in the reported view (the default, as Mixpanel's reports
 * see merges) or the live view, as of a report time T.
 *
 * The library checks what only the data can tell (an unknown event name,
 * an empty range, fewer than two steps): its IDG_ENOTFOUND and IDG_EINVAL
 * are usage errors here, exit status 2, with the library's message.
 */
#include "cli.h"
#include "cli_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Shared with compare                                                 */

/* The --view of a report: reported when absent (reports' default). */
int
parse_report_view(const struct args *a, int *view)
{
	if (a->val[OPT_VIEW] == NULL) {
		*view = IDG_VIEW_REPORTED;
		return 0;
	}
	return parse_view(a, view);
}

/*
 * Splits the comma-separated list s into st (names point into a copy).
 * An empty list or an empty name is a usage error naming option opt.
 */
int
split_steps(const char *s, const char *opt, struct steps *st)
{
	char *p;
	size_t n = 1;

	memset(st, 0, sizeof *st);
	for (const char *q = s; *q; q++)
		n += *q == ',';
	st->buf = strdup(s);
	st->names = calloc(n, sizeof *st->names);
	if (st->buf == NULL || st->names == NULL) {
		free_steps(st);
		return fail("out of memory");
	}
	for (p = st->buf; st->n < n; p++) {
		st->names[st->n++] = p;
		p += strcspn(p, ",");
		if (p == st->names[st->n - 1]) {
			free_steps(st);
			return usage_error("bad --%s value '%s': an event name "
					   "is empty; give names separated by "
					   "commas, e.g. --%s signup,purchase",
					   opt, s, opt);
		}
		*p = '\0';
	}
	return 0;
}

void
free_steps(struct steps *st)
{
	free(st->buf);
	free(st->names);
	memset(st, 0, sizeof *st);
}

/* The exit status and message of a failed report. */
int
report_error(idg_db *db, const char *cmd, const char *what, int rc)
{
	if (rc == IDG_ENOTFOUND || rc == IDG_EINVAL)
		return usage_error("%s: %s; see: idgraph %s --help", what,
				   detail(db, rc), cmd);
	return fail("cannot run the %s report: %s", what, detail(db, rc));
}

/* ------------------------------------------------------------------ */
/* report uniques                                                      */

struct bucket {
	int64_t start;
	uint64_t uniques, events;
};

/* The buckets of a day or hour series, gathered to print after totals. */
struct series {
	struct bucket *b;
	size_t n, cap;
	int oom;
};

static int
on_bucket(void *user, int64_t start, uint64_t uniques, uint64_t events)
{
	struct series *s = user;
	struct bucket *b;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		if ((b = realloc(s->b, cap * sizeof *b)) == NULL) {
			s->oom = 1;
			return 1;
		}
		s->b = b;
		s->cap = cap;
	}
	s->b[s->n++] = (struct bucket){start, uniques, events};
	return 0;
}

static const char *const interval_names[] = {"total", "day", "hour"};

static int
parse_interval(const struct args *a, int *interval)
{
	const char *v = a->val[OPT_INTERVAL];

	*interval = IDG_INTERVAL_TOTAL;
	for (int i = 0; v && i < 3; i++)
		if (strcmp(v, interval_names[i]) == 0) {
			*interval = i;
			return 0;
		}
	if (v == NULL)
		return 0;
	return usage_error("bad --interval value '%s': use total, day or hour",
			   v);
}

static int
uniques_options(const struct args *a, struct idg_report_opts *o)
{
	int at_given, rc;

	if (a->val[OPT_STEPS] || a->val[OPT_WINDOW])
		return usage_error("--steps and --window are for report "
				   "funnel; see: idgraph report --help");
	o->event = a->val[OPT_EVENT];
	if ((rc = parse_interval(a, &o->interval)) != 0 ||
	    (rc = parse_report_view(a, &o->view)) != 0 ||
	    (rc = parse_at(a, &o->at, &at_given)) != 0 ||
	    (rc = parse_time_opt(a, OPT_FROM, &o->from_ms)) != 0 ||
	    (rc = parse_time_opt(a, OPT_TO, &o->to_ms)) != 0)
		return rc;
	return 0;
}

/* "at: ...", "view: ..." lines shared by both reports. */
static void
print_context(int64_t at, int view, uint64_t pending)
{
	char when[CLI_TIME_BUFSIZE];

	printf("pending merges: %" PRIu64 " (not yet in the reported view)\n",
	       pending);
	printf("at: %s\n",
	       at == INT64_MIN ? "none" : cli_time_format(when, at));
	printf("view: %s\n", view_name(view));
}

static void
json_context(idg_jw *w, int64_t at, int view, uint64_t pending)
{
	jw_key(w, "pending_merges");
	idg_jw_uint(w, pending);
	jw_key(w, "at");
	jw_time(w, at);
	jw_key(w, "at_ms");
	if (at == INT64_MIN)
		idg_jw_null(w);
	else
		idg_jw_int(w, at);
	jw_key(w, "view");
	jw_str(w, view_name(view));
}

static int
uniques_json(const struct idg_report_opts *o, const struct idg_uniques *u,
	     const struct series *s)
{
	idg_jw *w = open_writer();

	if (w == NULL)
		return EXIT_FAILURE;
	idg_jw_object_begin(w);
	jw_key(w, "uniques");
	idg_jw_uint(w, u->uniques);
	jw_key(w, "events");
	idg_jw_uint(w, u->events);
	json_context(w, u->at, o->view, u->pending_merges);
	jw_key(w, "interval");
	jw_str(w, interval_names[o->interval]);
	if (o->interval != IDG_INTERVAL_TOTAL) {
		jw_key(w, "series");
		idg_jw_array_begin(w);
		for (size_t i = 0; i < s->n; i++) {
			idg_jw_object_begin(w);
			jw_key(w, "start");
			jw_time(w, s->b[i].start);
			jw_key(w, "start_ms");
			idg_jw_int(w, s->b[i].start);
			jw_key(w, "uniques");
			idg_jw_uint(w, s->b[i].uniques);
			jw_key(w, "events");
			idg_jw_uint(w, s->b[i].events);
			idg_jw_object_end(w);
		}
		idg_jw_array_end(w);
	}
	idg_jw_object_end(w);
	idg_jw_newline(w);
	return close_writer(w);
}

static int
uniques_text(const struct idg_report_opts *o, const struct idg_uniques *u,
	     const struct series *s)
{
	char when[CLI_TIME_BUFSIZE];

	printf("unique users: %" PRIu64 "\n", u->uniques);
	printf("events: %" PRIu64 "\n", u->events);
	print_context(u->at, o->view, u->pending_merges);
	if (o->interval != IDG_INTERVAL_TOTAL) {
		printf("\n%-24s  %10s  %10s\n", "start", "users", "events");
		for (size_t i = 0; i < s->n; i++)
			printf("%-24s  %10" PRIu64 "  %10" PRIu64 "\n",
			       cli_time_format(when, s->b[i].start),
			       s->b[i].uniques, s->b[i].events);
	}
	return finish_stdout();
}

static int
report_uniques(struct args *a)
{
	struct idg_report_opts o = IDG_REPORT_OPTS_INIT;
	struct idg_uniques u;
	struct series s = {NULL, 0, 0, 0};
	idg_db *db = NULL;
	int rc;

	if ((rc = uniques_options(a, &o)) != 0)
		return rc;
	if ((rc = open_db(&db, a->pos[1], NULL, IDG_OPEN_RDONLY)) != 0)
		return rc;
	rc = idg_report_uniques(db, &o, &u, on_bucket, &s);
	if (rc != 0 && s.oom)
		rc = fail("out of memory");
	else if (rc != 0)
		rc = report_error(db, "report", "uniques", rc);
	else if (a->val[OPT_JSON])
		rc = uniques_json(&o, &u, &s);
	else
		rc = uniques_text(&o, &u, &s);
	free(s.b);
	idg_close(db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* report funnel                                                       */

static int
funnel_options(const struct args *a, struct idg_funnel_opts *o,
	       struct steps *st)
{
	const char *why;
	int at_given, rc;

	if (a->val[OPT_EVENT] || a->val[OPT_INTERVAL])
		return usage_error("--event and --interval are for report "
				   "uniques; see: idgraph report --help");
	if (a->val[OPT_STEPS] == NULL)
		return usage_error("report funnel needs --steps A,B[,C...]: "
				   "the event names of the steps, in order");
	if (a->val[OPT_WINDOW] &&
	    (cli_seconds_parse(&o->window_ms, a->val[OPT_WINDOW], &why) ||
	     (why = "it must be more than 0", o->window_ms <= 0)))
		return usage_error("bad --window value '%s': %s; give "
				   "seconds, e.g. 86400 for a day",
				   a->val[OPT_WINDOW], why);
	if ((rc = parse_report_view(a, &o->view)) != 0 ||
	    (rc = parse_at(a, &o->at, &at_given)) != 0 ||
	    (rc = parse_time_opt(a, OPT_FROM, &o->from_ms)) != 0 ||
	    (rc = parse_time_opt(a, OPT_TO, &o->to_ms)) != 0)
		return rc;
	if ((rc = split_steps(a->val[OPT_STEPS], "steps", st)) != 0)
		return rc;
	o->steps = st->names;
	o->nsteps = st->n;
	return 0;
}

/* The report time T a funnel used: the library resolves IDG_NOW. */
static int64_t
funnel_at(idg_db *db, int64_t at)
{
	struct idg_info in;

	if (at != IDG_NOW)
		return at;
	return idg_info(db, &in) == 0 ? in.stamp : INT64_MIN;
}

/* Writes seconds: whole as an integer, else as a decimal number. */
static void
json_seconds(idg_jw *w, int64_t ms)
{
	if (ms % 1000 == 0)
		idg_jw_int(w, ms / 1000);
	else
		idg_jw_double(w, (double)ms / 1000.0);
}

/* The "steps" list of a funnel's JSON (compare writes it too). */
void
json_funnel_steps(idg_jw *w, const struct steps *st,
		  const struct idg_funnel_step *out)
{
	idg_jw_array_begin(w);
	for (size_t i = 0; i < st->n; i++) {
		idg_jw_object_begin(w);
		jw_key(w, "event");
		jw_str(w, st->names[i]);
		jw_key(w, "users");
		idg_jw_uint(w, out[i].users);
		jw_key(w, "conversion");
		idg_jw_double(w, out[i].conversion);
		idg_jw_object_end(w);
	}
	idg_jw_array_end(w);
}

static int
funnel_json(const struct idg_funnel_opts *o, const struct steps *st,
	    const struct idg_funnel_step *out, int64_t at, uint64_t pending)
{
	idg_jw *w = open_writer();

	if (w == NULL)
		return EXIT_FAILURE;
	idg_jw_object_begin(w);
	jw_key(w, "steps");
	json_funnel_steps(w, st, out);
	jw_key(w, "window_seconds");
	json_seconds(w, o->window_ms);
	json_context(w, at, o->view, pending);
	idg_jw_object_end(w);
	idg_jw_newline(w);
	return close_writer(w);
}

static int
funnel_text(const struct idg_funnel_opts *o, const struct steps *st,
	    const struct idg_funnel_step *out, int64_t at, uint64_t pending)
{
	int width = 5; /* strlen("event") */
	char buf[48];

	for (size_t i = 0; i < st->n; i++)
		if ((int)strlen(st->names[i]) > width)
			width = (int)strlen(st->names[i]);
	printf("%-4s  %-*s  %10s  %10s\n", "step", width, "event", "users",
	       "conversion");
	for (size_t i = 0; i < st->n; i++)
		printf("%-4zu  %-*s  %10" PRIu64 "  %9.1f%%\n", i + 1, width,
		       st->names[i], out[i].users, 100.0 * out[i].conversion);
	printf("window: %s\n", format_seconds(buf, sizeof buf, o->window_ms));
	print_context(at, o->view, pending);
	return finish_stdout();
}

static int
report_funnel(struct args *a)
{
	struct idg_funnel_opts o = IDG_FUNNEL_OPTS_INIT;
	struct idg_funnel_step *out = NULL;
	struct steps st = {NULL, NULL, 0};
	uint64_t pending = 0;
	idg_db *db = NULL;
	int rc;

	if ((rc = funnel_options(a, &o, &st)) != 0)
		return rc;
	if ((out = calloc(st.n, sizeof *out)) == NULL) {
		free_steps(&st);
		return fail("out of memory");
	}
	if ((rc = open_db(&db, a->pos[1], NULL, IDG_OPEN_RDONLY)) != 0)
		goto out;
	rc = idg_report_funnel(db, &o, out, &pending);
	if (rc != 0)
		rc = report_error(db, "report", "funnel", rc);
	else if (a->val[OPT_JSON])
		rc = funnel_json(&o, &st, out, funnel_at(db, o.at), pending);
	else
		rc = funnel_text(&o, &st, out, funnel_at(db, o.at), pending);
out:
	idg_close(db);
	free(out);
	free_steps(&st);
	return rc;
}

int
cmd_report(struct args *a)
{
	if (strcmp(a->pos[0], "uniques") == 0)
		return report_uniques(a);
	if (strcmp(a->pos[0], "funnel") == 0)
		return report_funnel(a);
	return usage_error("unknown report '%s'; use: idgraph report "
			   "uniques|funnel DIR",
			   a->pos[0]);
}
