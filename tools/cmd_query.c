/* cmd_query.c — read-only lookups: resolve, cluster, info, version. */
#include "cli.h"
#include "cli_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		put_text(stdout, member, len);
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
		return fail("distinct_id %s not found in %s as of %s",
			    shown_id(id), a->pos[0], cli_time_format(when, at));
	if (rc == IDG_ENOTFOUND)
		return fail("distinct_id %s not found in %s", shown_id(id),
			    a->pos[0]);
	if (rc != 0)
		return fail("cannot resolve %s: %s", shown_id(id),
			    detail(db, rc));
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
		return fail("cannot list the cluster of %s: %s", shown_id(id),
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
	jw_at(m.w, at_given, at);
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

int
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
		put_text(stdout, r.canonical, r.canonical_len);
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

int
cmd_cluster(struct args *a)
{
	struct idg_resolution r;
	struct members m = {NULL, NULL, "\n", 0};
	int64_t at;
	int at_given, view, rc;
	idg_db *db;

	rc = start_query(a, &db, &at, &at_given, &view, &r);
	if (rc == 0 && a->val[OPT_JSON]) /* the same object as resolve's */
		rc = resolve_json(db, a, &r, at, at_given, view);
	else if (rc == 0)
		rc = foreach_member(db, a, at, view, &m);
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
		printf("stamp: none (no record has given a time yet)\n");
	else
		printf("stamp: %" PRId64 " (%s)\n", in->stamp,
		       cli_time_format(when, in->stamp));
	printf("records: %" PRIu64 "\n", in->records);
	printf("nodes: %" PRIu64 "\n", in->nodes);
	printf("log size: %" PRIu64 "\n", in->log_size);
}

int
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

int
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
