/* cmd_gen.c — idgraph gen: a generated workload on stdout (see gen.h). */
#include "cli.h"
#include "gen.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The --format of gen: jsonl (default) or msgpack. */
static int
parse_gen_format(const struct args *a, int *format)
{
	const char *f = a->val[OPT_FORMAT];

	*format = IDG_FORMAT_JSONL;
	if (f == NULL || strcmp(f, "jsonl") == 0)
		return 0;
	if (strcmp(f, "msgpack") == 0) {
		*format = IDG_FORMAT_MSGPACK;
		return 0;
	}
	return usage_error("bad --format value '%s': use jsonl or msgpack", f);
}

/* Reads --events (required), --seed (default 1), --noise and --format. */
static int
parse_gen_opts(const struct args *a, struct gen_opts *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	o->seed = 1;
	if (a->val[OPT_EVENTS] == NULL)
		return usage_error(
		    "missing --events N; see: idgraph gen --help");
	if ((rc = parse_uint_opt(a, OPT_EVENTS, 0, UINT64_C(1) << 40,
				 &o->records)) != 0)
		return rc;
	if (a->val[OPT_SEED] &&
	    (rc = parse_uint_opt(a, OPT_SEED, 0, UINT64_MAX, &o->seed)) != 0)
		return rc;
	o->noise = a->val[OPT_NOISE] != NULL;
	return parse_gen_format(a, &o->format);
}

int
cmd_gen(struct args *a)
{
	struct gen_opts o;
	struct gen *g;
	int rc;

	if ((rc = parse_gen_opts(a, &o)) != 0)
		return rc;
	if (o.format == IDG_FORMAT_MSGPACK && isatty(STDOUT_FILENO))
		return usage_error("MessagePack is binary: redirect stdout to "
				   "a file or a pipe");
	if ((g = gen_new(&o)) == NULL)
		return fail("out of memory");
	rc = gen_write(g, stdout);
	gen_free(g);
	if (rc != 0)
		return fail("cannot write the workload: %s", idg_strerror(rc));
	return finish_stdout();
}
