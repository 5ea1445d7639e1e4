/*
 * cmd_export.c — idgraph export: the identity mappings as CSV or JSON lines,
 * the stored events as JSON lines or MessagePack.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
mappings_format(const struct args *a, int *json)
{
	const char *format = a->val[OPT_FORMAT];

	if (format == NULL || strcmp(format, "csv") == 0)
		*json = 0;
	else if (strcmp(format, "jsonl") == 0)
		*json = 1;
	else
		return usage_error("bad --format value '%s': use csv or jsonl",
				   format);
	return 0;
}

static int
cmd_export_mappings(struct args *a)
{
	int64_t at;
	int at_given, view, json = 0, rc;
	idg_db *db = NULL;

	if (a->val[OPT_FROM] || a->val[OPT_TO] || a->val[OPT_EVENT])
		return usage_error("--from, --to and --event are for "
				   "export events; see: idgraph "
				   "export --help");
	if ((rc = mappings_format(a, &json)) != 0 ||
	    (rc = parse_at(a, &at, &at_given)) != 0 ||
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

/* The options of export events, from the command line. */
static int
events_options(const struct args *a, struct idg_export_opts *eo)
{
	const char *format = a->val[OPT_FORMAT];
	int at_given, rc;

	if (format == NULL || strcmp(format, "jsonl") == 0)
		eo->format = IDG_FORMAT_JSONL;
	else if (strcmp(format, "msgpack") == 0)
		eo->format = IDG_FORMAT_MSGPACK;
	else
		return usage_error("bad --format value '%s': use jsonl or "
				   "msgpack",
				   format);
	if ((rc = parse_at(a, &eo->at, &at_given)) != 0 ||
	    (rc = parse_view(a, &eo->view)) != 0 ||
	    (rc = parse_time_opt(a, OPT_FROM, &eo->from_ms)) != 0 ||
	    (rc = parse_time_opt(a, OPT_TO, &eo->to_ms)) != 0)
		return rc;
	if (eo->from_ms >= eo->to_ms)
		return usage_error("--from %s is not before --to %s: the range "
				   "is [from, to), give a --from earlier than "
				   "--to",
				   a->val[OPT_FROM], a->val[OPT_TO]);
	eo->event = a->val[OPT_EVENT];
	return 0;
}

static int
cmd_export_events(struct args *a)
{
	struct idg_export_opts eo = IDG_EXPORT_OPTS_INIT;
	idg_db *db = NULL;
	int rc;

	if ((rc = events_options(a, &eo)) != 0)
		return rc;
	if ((rc = open_db(&db, a->pos[1], NULL, IDG_OPEN_RDONLY)) != 0)
		return rc;
	rc = idg_export_events(db, stdout, &eo, NULL);
	if (rc == IDG_EIO)
		rc = fail("cannot write the output: %s", strerror(errno));
	else if (rc == IDG_ENOTFOUND && eo.event)
		rc = usage_error("--event: %s; see: idgraph export --help",
				 detail(db, rc));
	else if (rc != 0)
		rc = fail("cannot export the events of %s: %s", a->pos[1],
			  detail(db, rc));
	if (rc == 0)
		rc = finish_stdout();
	idg_close(db);
	return rc;
}

int
cmd_export(struct args *a)
{
	if (strcmp(a->pos[0], "profiles") == 0)
		return cmd_export_profiles(a);
	if (a->val[OPT_HIDDEN])
		return usage_error("--hidden is for export profiles; see: "
				   "idgraph export --help");
	if (strcmp(a->pos[0], "mappings") == 0)
		return cmd_export_mappings(a);
	if (strcmp(a->pos[0], "events") == 0)
		return cmd_export_events(a);
	return usage_error("unknown export '%s'; use: idgraph export "
			   "mappings|events|profiles DIR",
			   a->pos[0]);
}
