/* cmd_log.c — idgraph log: the identity log as a table or JSON lines. */
#include "cli.h"
#include "cli_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
measure_entry(void *user, const struct idg_log_entry *e)
{
	struct log_table *t = user;
	const char *reason = idg_reason_name(e->reason);

	t->event = table_width(text_width(e->event, strlen(e->event)), t->event);
	t->ids = table_width(table_ids_len(e), t->ids);
	t->outcome = table_width(strlen(outcome_name(e->outcome)), t->outcome);
	t->reason = table_width(*reason ? strlen(reason) : 1, t->reason);
	return 0;
}

static int
print_entry(void *user, const struct idg_log_entry *e)
{
	const struct log_table *t = user;
	const char *reason = idg_reason_name(e->reason);
	char when[CLI_TIME_BUFSIZE];

	table_cell(cli_time_format(when, e->stamp), 24);
	table_cell(e->event, t->event);
	table_ids(e, t->ids);
	table_cell(outcome_name(e->outcome), t->outcome);
	table_cell(*reason ? reason : "-", t->reason);
	put_text(stdout, e->canonical, e->canonical_len);
	putchar('\n');
	return 0;
}

static int
json_entry(void *user, const struct idg_log_entry *e)
{
	idg_jw *w = user;

	idg_jw_object_begin(w);
	jw_log_head(w, e);
	jw_key(w, "outcome");
	jw_str(w, outcome_name(e->outcome));
	jw_key(w, "reason");
	jw_str_or_null(w, idg_reason_name(e->reason));
	jw_key(w, "description");
	jw_str_or_null(w, e->description);
	jw_key(w, "canonical");
	idg_jw_string(w, e->canonical, e->canonical_len);
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
	table_cell("stamp", 24);
	table_cell("event", t.event);
	table_cell("ids", t.ids);
	table_cell("outcome", t.outcome);
	table_cell("reason", t.reason);
	printf("canonical\n");
	return idg_log_foreach(db, print_entry, &t);
}

int
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
