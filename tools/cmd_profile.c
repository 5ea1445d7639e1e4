/*
 * cmd_profile.c — the People side of the CLI: profile (Mixpanel's Explore
 * view of one user), profiles (the Users tab) and export profiles.
 *
 * Profile properties come from the library as a MessagePack map. The JSON
 * outputs write it whole with idg_jw_msgpack(); the text outputs print one
 * property per line, "  NAME: VALUE" with VALUE as JSON, so the map is
 * walked here with a small reader that only finds where each value ends
 * (the CLI links no MessagePack library: it is a client of idgraph.h).
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Walking a MessagePack map                                           */

/* The big-endian unsigned integer of n bytes at p. */
static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Reads the header of the value at *p: *skip is the bytes it occupies
 * apart from nested values, *children the nested values (two per map
 * entry). Returns -1 when the input ends too early.
 */
static int
mp_header(const unsigned char *p, const unsigned char *end, uint64_t *skip,
	  uint64_t *children)
{
	/* Sizes of the fixed-size types 0xc0..0xd8 (0: variable or unused). */
	static const unsigned char size[25] = {1, 0, 1, 1, 0, 0,  0, 0, 0,
					       0, 5, 9, 2, 3, 5,  9, 2, 3,
					       5, 9, 3, 4, 6, 10, 18};
	unsigned b = *p;
	int w, ext;

	*skip = 1;
	*children = 0;
	if (b <= 0x7f || b >= 0xe0)
		return 0; /* fixint */
	if (b <= 0x8f)
		*children = 2 * (uint64_t)(b & 0x0f); /* fixmap */
	else if (b <= 0x9f)
		*children = b & 0x0f; /* fixarray */
	else if (b <= 0xbf)
		*skip = 1 + (uint64_t)(b & 0x1f); /* fixstr */
	else if (b <= 0xd8 && size[b - 0xc0] != 0)
		*skip = size[b - 0xc0];
	else if (b == 0xc1)
		return -1; /* never used */
	else {
		/* bin, ext, str, array, map: a length of w bytes. */
		w = b == 0xc4 || b == 0xc7 || b == 0xd9 ? 1
		    : b == 0xc5 || b == 0xc8 || b == 0xda || b == 0xdc ||
			    b == 0xde
			? 2
			: 4;
		ext = b >= 0xc7 && b <= 0xc9; /* a type byte after the length */
		if (end - p < 1 + w)
			return -1;
		*skip = 1 + (uint64_t)w;
		if (b >= 0xdc)
			*children = (b >= 0xde ? 2 : 1) * be(p + 1, w);
		else
			*skip += (uint64_t)ext + be(p + 1, w);
	}
	return (uint64_t)(end - p) < *skip ? -1 : 0;
}

/* The end of the value at p, or NULL when the input is cut short. */
static const unsigned char *
mp_skip(const unsigned char *p, const unsigned char *end)
{
	uint64_t need = 1, skip, children;

	while (need > 0) {
		if (p >= end || mp_header(p, end, &skip, &children) != 0)
			return NULL;
		p += skip;
		need += children - 1;
	}
	return p;
}

/* The bytes of the string at p (a map key), or -1 if it is no string. */
static int
mp_string(const unsigned char *p, const unsigned char *end, const char **s,
	  size_t *len)
{
	uint64_t skip, children;
	int head = (*p & 0xe0) == 0xa0 ? 1
		   : *p == 0xd9	       ? 2
		   : *p == 0xda	       ? 3
		   : *p == 0xdb	       ? 5
				       : 0;

	if (head == 0 || mp_header(p, end, &skip, &children) != 0)
		return -1;
	*s = (const char *)p + head;
	*len = (size_t)skip - (size_t)head;
	return 0;
}

/*
 * Prints each property of the map props as "INDENTNAME: VALUE" (VALUE as
 * JSON) through w, which writes the text between the values too. What is
 * not a map (never made by the library) is shown whole on one line.
 */
static void
print_properties(idg_jw *w, const void *props, size_t len, const char *indent)
{
	const unsigned char *p = props, *end = p + len, *k, *v;
	uint64_t skip, entries;
	const char *key;
	size_t key_len;
	int map = len > 0 && ((*p & 0xf0) == 0x80 || *p == 0xde || *p == 0xdf);

	if (!map || mp_header(p, end, &skip, &entries) != 0) {
		idg_jw_raw(w, indent, strlen(indent));
		idg_jw_msgpack(w, props, len);
		idg_jw_newline(w);
		return;
	}
	for (p += skip, entries /= 2; entries > 0; entries--) {
		if ((v = mp_skip(k = p, end)) == NULL ||
		    (p = mp_skip(v, end)) == NULL)
			break;
		idg_jw_raw(w, indent, strlen(indent));
		if (mp_string(k, end, &key, &key_len) == 0)
			idg_jw_raw(w, key, key_len);
		else
			idg_jw_msgpack(w, k, (size_t)(v - k));
		idg_jw_raw(w, ": ", 2);
		idg_jw_msgpack(w, v, (size_t)(p - v));
		idg_jw_newline(w);
	}
}

/* Writes the members of a profile's cluster, as text with sep or JSON. */
static void
print_members(idg_jw *w, const struct idg_profile *pr, const char *sep)
{
	for (size_t i = 0; i < pr->nmembers; i++) {
		if (sep == NULL) {
			idg_jw_string(w, pr->members[i], pr->member_lens[i]);
			continue;
		}
		if (i > 0)
			idg_jw_raw(w, sep, strlen(sep));
		idg_jw_raw(w, pr->members[i], pr->member_lens[i]);
	}
}

/* One profile in the export shape (idg_export_profiles() writes it too);
 * "$properties" null for a cluster with no profile (`profile --json`). */
static void
profile_export_json(idg_jw *w, const struct idg_profile *pr)
{
	idg_jw_object_begin(w);
	jw_key(w, "$distinct_id");
	idg_jw_string(w, pr->distinct_id, pr->distinct_id_len);
	jw_key(w, "$properties");
	if (pr->properties)
		idg_jw_msgpack(w, pr->properties, pr->properties_len);
	else
		idg_jw_null(w);
	jw_key(w, "$distinct_ids");
	idg_jw_array_begin(w);
	print_members(w, pr, NULL);
	idg_jw_array_end(w);
	if (pr->hidden) {
		jw_key(w, "$hidden");
		idg_jw_bool(w, 1);
	}
	idg_jw_object_end(w);
	idg_jw_newline(w);
}

/* ------------------------------------------------------------------ */
/* profile DIR DISTINCT_ID                                             */

static void
profile_text(idg_jw *w, const struct idg_profile *pr)
{
	idg_jw_raw(w, "distinct_id: ", 13);
	idg_jw_raw(w, pr->distinct_id, pr->distinct_id_len);
	idg_jw_raw(w, "\ndistinct_ids: ", 15);
	print_members(w, pr, ", ");
	if (pr->properties == NULL) {
		idg_jw_raw(w, "\nproperties: no profile\n", 24);
		return;
	}
	idg_jw_raw(w, "\nproperties:\n", 13);
	print_properties(w, pr->properties, pr->properties_len, "  ");
}

int
cmd_profile(struct args *a)
{
	const char *dir = a->pos[0], *id = a->pos[1];
	struct idg_profile pr;
	idg_db *db = NULL;
	idg_jw *w = NULL;
	int rc;

	if ((rc = open_db(&db, dir, NULL, IDG_OPEN_RDONLY)) != 0)
		return rc;
	rc = idg_profile_get(db, id, strlen(id), &pr);
	if (rc == IDG_ENOTFOUND)
		rc = fail("distinct_id %s not found in %s", shown_id(id), dir);
	else if (rc != 0)
		rc = fail("cannot read the profile of %s: %s", shown_id(id),
			  detail(db, rc));
	else if ((w = open_writer()) == NULL)
		rc = EXIT_FAILURE;
	else {
		if (a->val[OPT_JSON])
			profile_export_json(w, &pr);
		else
			profile_text(w, &pr);
		rc = close_writer(w);
	}
	idg_close(db);
	return rc;
}

/* ------------------------------------------------------------------ */
/* profiles DIR                                                        */

/* What the callback of profiles needs. */
struct listing {
	idg_jw *w;
	int json;
	uint64_t n;
};

static int
on_profile(void *user, const struct idg_profile *pr)
{
	struct listing *l = user;
	idg_jw *w = l->w;

	if (l->json) {
		profile_export_json(w, pr);
	} else {
		if (l->n > 0)
			idg_jw_raw(w, "\n", 1);
		idg_jw_raw(w, pr->distinct_id, pr->distinct_id_len);
		if (pr->hidden)
			idg_jw_raw(w, " (hidden)", 9);
		idg_jw_raw(w, "\n  distinct_ids: ", 17);
		print_members(w, pr, ", ");
		idg_jw_raw(w, "\n", 1);
		print_properties(w, pr->properties, pr->properties_len, "  ");
	}
	l->n++;
	return 0;
}

/* --where PROP=VALUE and --limit N into o; buf holds PROP. */
static int
profiles_options(const struct args *a, struct idg_profiles_opts *o, char **buf)
{
	const char *where = a->val[OPT_WHERE], *eq;

	*buf = NULL;
	o->hidden = a->val[OPT_HIDDEN] != NULL;
	if (a->val[OPT_LIMIT] &&
	    parse_uint_opt(a, OPT_LIMIT, 1, UINT64_MAX, &o->limit))
		return EXIT_USAGE;
	if (where == NULL)
		return 0;
	if ((eq = strchr(where, '=')) == NULL || eq == where)
		return usage_error("bad --where value '%s': give PROP=VALUE, "
				   "e.g. --where plan=pro",
				   where);
	if ((*buf = strdup(where)) == NULL)
		return fail("out of memory");
	(*buf)[eq - where] = '\0';
	o->where_prop = *buf;
	o->where_value = *buf + (eq - where) + 1;
	return 0;
}

int
cmd_profiles(struct args *a)
{
	struct idg_profiles_opts o = {0, NULL, NULL, 0};
	struct listing l = {NULL, a->val[OPT_JSON] != NULL, 0};
	char n[32], *buf;
	idg_db *db = NULL;
	int rc;

	if ((rc = profiles_options(a, &o, &buf)) != 0)
		return rc;
	if ((rc = open_db(&db, a->pos[0], NULL, IDG_OPEN_RDONLY)) != 0)
		goto out;
	if ((l.w = open_writer()) == NULL) {
		rc = EXIT_FAILURE;
		goto out;
	}
	rc = idg_profiles_foreach(db, &o, on_profile, &l);
	if (rc == 0 && !l.json) {
		snprintf(n, sizeof n, "%s%" PRIu64 " profile%s\n",
			 l.n ? "\n" : "", l.n, l.n == 1 ? "" : "s");
		idg_jw_raw(l.w, n, strlen(n));
	}
	if (rc != 0) {
		idg_jw_close(l.w);
		rc = fail("cannot list the profiles of %s: %s", a->pos[0],
			  detail(db, rc));
	} else {
		rc = close_writer(l.w);
	}
out:
	idg_close(db);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* export profiles DIR                                                 */

int
cmd_export_profiles(struct args *a)
{
	const char *format = a->val[OPT_FORMAT];
	idg_db *db = NULL;
	int rc, f;

	if (a->val[OPT_AT] || a->val[OPT_VIEW] || a->val[OPT_FROM] ||
	    a->val[OPT_TO] || a->val[OPT_EVENT])
		return usage_error("export profiles takes only --hidden and "
				   "--format: profiles have no history; see: "
				   "idgraph export --help");
	if (format == NULL || strcmp(format, "jsonl") == 0)
		f = IDG_FORMAT_JSONL;
	else if (strcmp(format, "msgpack") == 0)
		f = IDG_FORMAT_MSGPACK;
	else
		return usage_error("bad --format value '%s': use jsonl or "
				   "msgpack",
				   format);
	if ((rc = open_db(&db, a->pos[1], NULL, IDG_OPEN_RDONLY)) != 0)
		return rc;
	rc = idg_export_profiles(db, stdout, f, a->val[OPT_HIDDEN] != NULL,
				 NULL);
	if (rc == IDG_EIO)
		rc = fail("cannot write the output: %s", strerror(errno));
	else if (rc != 0)
		rc = fail("cannot export the profiles of %s: %s", a->pos[1],
			  detail(db, rc));
	if (rc == 0)
		rc = finish_stdout();
	idg_close(db);
	return rc;
}
