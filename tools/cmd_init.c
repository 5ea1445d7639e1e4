/*
 * cmd_init.c — idgraph init: creates a database or changes its settings.
 *
 * A failed init leaves the disk as it found it: it removes the directory it
 * created, or the files it put in an empty one, and never touches a
 * directory that held anything before.
 */
#include "cli.h"
#include "cli_time.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int
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
		else
			return fail("%s holds other files and no database; "
				    "give idgraph init a new or empty "
				    "directory",
				    dir);
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
report_configure_error(idg_db *db, const char *dir, int rc)
{
	switch (rc) {
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
int
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
		rc = report_configure_error(db, dir, rc);
	else
		print_settings(created ? "created" : "updated", dir, &info);
	if (rc == 0)
		rc = finish_stdout();
	idg_close(db);
	if (rc != 0)
		undo_init(dir, undo);
	return rc;
}
