/* cli.c — main(), the command table, and parsing of options and values. */
#include "cli.h"
#include "cli_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Commands                                                            */

/*
 * Every command: its name, its function, the options it accepts and how
 * many positional arguments it takes. A new command is one row here, its
 * cmd_*.c file and its help in cli_help.c.
 */
static const struct command commands[] = {
    {"init", cmd_init, O(OPT_MODE) | O(OPT_MERGE_DELAY) | O(OPT_CLUSTER_CAP), 1,
     1, "DIR", &help_init},
    {"ingest", cmd_ingest,
     O(OPT_REJECTS) | O(OPT_CLOCK) | O(OPT_FORMAT) | O(OPT_FORCE) |
	 O(OPT_RESUME) | O(OPT_BATCH_SIZE) | O(OPT_NOSYNC) | O(OPT_QUIET) |
	 O(OPT_JSON) | O(OPT_THREADS),
     1, -1, "DIR [FILE ...|-]", &help_ingest},
    {"resolve", cmd_resolve, O(OPT_AT) | O(OPT_VIEW) | O(OPT_JSON), 2, 2,
     "DIR DISTINCT_ID", &help_resolve},
    {"cluster", cmd_cluster, O(OPT_AT) | O(OPT_VIEW) | O(OPT_JSON), 2, 2,
     "DIR DISTINCT_ID", &help_cluster},
    {"log", cmd_log, O(OPT_JSON), 1, 1, "DIR", &help_log},
    {"explain", cmd_explain, O(OPT_AT) | O(OPT_VIEW) | O(OPT_JSON), 2, 3,
     "DIR DISTINCT_ID [DISTINCT_ID]", &help_explain},
    {"export", cmd_export,
     O(OPT_FORMAT) | O(OPT_AT) | O(OPT_VIEW) | O(OPT_FROM) | O(OPT_TO) |
	 O(OPT_EVENT) | O(OPT_HIDDEN),
     2, 2, "mappings|events|profiles DIR", &help_export},
    {"info", cmd_info, O(OPT_JSON), 1, 1, "DIR", &help_info},
    {"report", cmd_report,
     O(OPT_EVENT) | O(OPT_FROM) | O(OPT_TO) | O(OPT_INTERVAL) | O(OPT_AT) |
	 O(OPT_VIEW) | O(OPT_STEPS) | O(OPT_WINDOW) | O(OPT_JSON),
     2, 2, "uniques|funnel DIR", &help_report},
    {"profile", cmd_profile, O(OPT_JSON), 2, 2, "DIR DISTINCT_ID",
     &help_profile},
    {"profiles", cmd_profiles,
     O(OPT_WHERE) | O(OPT_LIMIT) | O(OPT_HIDDEN) | O(OPT_JSON), 1, 1, "DIR",
     &help_profiles},
    {"compare", cmd_compare,
     O(OPT_MODES) | O(OPT_CLUSTER_CAP) | O(OPT_MERGE_DELAY) | O(OPT_EVENT) |
	 O(OPT_FUNNEL) | O(OPT_STEPS) | O(OPT_AT) | O(OPT_KEEP) | O(OPT_JSON),
     1, -1, "FILE ...", &help_compare},
    {"gen", cmd_gen, O(OPT_EVENTS) | O(OPT_SEED) | O(OPT_NOISE) | O(OPT_FORMAT),
     0, 0, "", &help_gen},
    {"bench", cmd_bench,
     O(OPT_EVENTS) | O(OPT_SEED) | O(OPT_RUNS) | O(OPT_JSON), 0, 0, "",
     &help_bench},
    {"version", cmd_version, 0, 0, 0, "", &help_version},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */

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
    [OPT_FORCE] = {"force", 0},
    [OPT_RESUME] = {"resume", 0},
    [OPT_FROM] = {"from", 1},
    [OPT_TO] = {"to", 1},
    [OPT_EVENT] = {"event", 1},
    [OPT_INTERVAL] = {"interval", 1},
    [OPT_STEPS] = {"steps", 1},
    [OPT_WINDOW] = {"window", 1},
    [OPT_WHERE] = {"where", 1},
    [OPT_LIMIT] = {"limit", 1},
    [OPT_HIDDEN] = {"hidden", 0},
    [OPT_MODES] = {"modes", 1},
    [OPT_FUNNEL] = {"funnel", 1},
    [OPT_KEEP] = {"keep", 1},
    [OPT_EVENTS] = {"events", 1},
    [OPT_SEED] = {"seed", 1},
    [OPT_NOISE] = {"noise", 0},
    [OPT_RUNS] = {"runs", 1},
    [OPT_THREADS] = {"threads", 1},
};

static int
is_help_flag(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
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

/*
 * The DIR of a command that reads a database, when it is not one but
 * another argument is: the arguments were given in the wrong order.
 */
static int
check_db_first(const struct command *c, const struct args *a)
{
	const char *u = c->args;
	int k = 0, dir = -1;

	for (; *u; k++) {
		size_t n = strcspn(u, " ");

		if (n == 3 && strncmp(u, "DIR", 3) == 0)
			dir = k;
		u += n + (u[n] == ' ');
	}
	if (dir < 0 || strcmp(c->name, "init") == 0 || dir >= a->npos ||
	    is_database(a->pos[dir]))
		return 0;
	for (k = 0; k < a->npos; k++)
		if (k != dir && is_database(a->pos[k]))
			return usage_error("%s is a database and %s is not: "
					   "the arguments are out of order; "
					   "idgraph %s %s",
					   a->pos[k], a->pos[dir], c->name,
					   c->args);
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
int
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
int
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

/* The time value of option k (--from, --to) as *t; unchanged when absent. */
int
parse_time_opt(const struct args *a, int k, int64_t *t)
{
	const char *why;

	if (a->val[k] && cli_time_parse(t, a->val[k], &why))
		return usage_error("bad --%s value '%s': %s", optdefs[k].name,
				   a->val[k], why);
	return 0;
}

int
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

const char *
view_name(int view)
{
	return view == IDG_VIEW_REPORTED ? "reported" : "live";
}

/* ------------------------------------------------------------------ */
/* main                                                                */

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
	if ((rc = parse_args(c, argc - 2, argv + 2, &a)) != 0 ||
	    (rc = check_db_first(c, &a)) != 0)
		return rc;
	return c->run(&a);
}
