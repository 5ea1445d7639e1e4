/* cli_util.c — shared helpers: messages, opening databases, output. */
#include "cli.h"

#include "cli_time.h"
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Messages                                                            */

static void
vmsg(const char *fmt, va_list ap)
{
	fputs("idgraph: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Prints "idgraph: <message>" on stderr and returns 1 (failure). */
int
fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return EXIT_FAILURE;
}

/* Prints "idgraph: <message>" on stderr and returns 2 (usage error). */
int
usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/* An id for a message: in quotes (so that "" and " " show), its first 80
 * bytes (not cutting a UTF-8 character), control bytes as \xNN. Valid
 * until the next call. */
const char *
shown_id(const char *id)
{
	static char buf[4 * 80 + 8];
	size_t n = strlen(id), cut = n > 80 ? 80 : n, i, o = 0;

	while (cut < n && cut > 0 && ((unsigned char)id[cut] & 0xc0) == 0x80)
		cut--; /* back to the start of a character */
	buf[o++] = '"';
	for (i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)id[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
					      "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	snprintf(buf + o, sizeof(buf) - o, "\"%s", cut < n ? "..." : "");
	return buf;
}

/* The detail of a library failure: the handle's message, else the code's. */
const char *
detail(const idg_db *db, int rc)
{
	const char *m = db ? idg_errmsg(db) : "";
	return m && *m ? m : idg_strerror(rc);
}
/* ------------------------------------------------------------------ */
/* Opening databases                                                   */

void
report_open_error(const char *dir, int rc)
{
	const char *m = idg_open_errmsg();

	switch (rc) {
	case IDG_ENODB:
		if (*m)
			fail("%s", m);
		else
			fail("no database at %s; create one with: idgraph "
			     "init %s",
			     dir, dir);
		break;
	case IDG_ECORRUPT:
		if (*m)
			fail("cannot open database %s: %s", dir, m);
		else
			fail("%s is not an idgraph database or is corrupt; "
			     "check the path",
			     dir);
		break;
	case IDG_EFORMAT:
		fail("%s was made by another version of idgraph, whose format "
		     "this one does not read; ingest its input again into a "
		     "new database: idgraph init NEWDIR, then idgraph ingest "
		     "NEWDIR FILE ...",
		     dir);
		break;
	case IDG_EBUSY:
		fail("database %s is busy; try again when the other writer "
		     "is done",
		     dir);
		break;
	default:
		fail("cannot open database %s: %s; check the path and its "
		     "permissions",
		     dir, *m ? m : idg_strerror(rc));
		break;
	}
}

int
is_database(const char *path)
{
	char mdb[4096];
	struct stat st;

	return (size_t)snprintf(mdb, sizeof mdb, "%s/data.mdb", path) <
		   sizeof mdb &&
	       stat(mdb, &st) == 0 && S_ISREG(st.st_mode);
}

/* Opens dir with opts (NULL for defaults) and flags; reports failures. */
int
open_db(idg_db **db, const char *dir, const struct idg_options *opts,
	unsigned flags)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	int rc;

	if (opts)
		o = *opts;
	o.flags |= flags;
	rc = idg_open(db, dir, &o);
	if (rc != 0) {
		report_open_error(dir, rc);
		return EXIT_FAILURE;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

/* Flushes stdout; 1 with a message if anything written to it was lost. */
int
finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return fail("cannot write the output: %s", strerror(errno));
	return 0;
}

/* Closes a JSON writer; 1 with a message if a write failed. */
int
close_writer(idg_jw *w)
{
	if (idg_jw_close(w) != 0)
		return fail("cannot write the output: %s", strerror(errno));
	return 0;
}

idg_jw *
open_writer(void)
{
	idg_jw *w = idg_jw_open(stdout);
	if (w == NULL)
		fail("out of memory");
	return w;
}

void
jw_key(idg_jw *w, const char *key)
{
	idg_jw_key(w, key, strlen(key));
}

void
jw_str(idg_jw *w, const char *s)
{
	idg_jw_string(w, s, strlen(s));
}

void
jw_u(idg_jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	idg_jw_uint(w, v);
}

/* Writes a string, or null when it is empty. */
void
jw_str_or_null(idg_jw *w, const char *s)
{
	if (s == NULL || *s == '\0')
		idg_jw_null(w);
	else
		jw_str(w, s);
}

/* Writes a time as its ISO 8601 text, or null before any record. */
void
jw_time(idg_jw *w, int64_t ms)
{
	char buf[CLI_TIME_BUFSIZE];

	if (ms == INT64_MIN)
		idg_jw_null(w);
	else
		jw_str(w, cli_time_format(buf, ms));
}

void
jw_at(idg_jw *w, int given, int64_t at)
{
	jw_key(w, "at");
	jw_time(w, given ? at : INT64_MIN);
	jw_key(w, "at_ms");
	if (given)
		idg_jw_int(w, at);
	else
		idg_jw_null(w);
}

/* Writes "key": [a, b]. */
void
jw_pair(idg_jw *w, const char *key, const char *a, const char *b)
{
	jw_key(w, key);
	idg_jw_array_begin(w);
	jw_str(w, a);
	jw_str(w, b);
	idg_jw_array_end(w);
}

/* The first fields of an identity-log entry's object. */
void
jw_log_head(idg_jw *w, const struct idg_log_entry *e)
{
	jw_key(w, "seq");
	idg_jw_uint(w, e->seq);
	jw_key(w, "stamp");
	idg_jw_int(w, e->stamp);
	jw_key(w, "time");
	jw_time(w, e->stamp);
	jw_key(w, "event");
	jw_str(w, e->event);
	jw_key(w, "ids");
	idg_jw_array_begin(w);
	idg_jw_string(w, e->ids[0], e->ids_len[0]);
	idg_jw_string(w, e->ids[1], e->ids_len[1]);
	idg_jw_array_end(w);
	jw_key(w, "insert_id");
	if (e->insert_id_len)
		idg_jw_string(w, e->insert_id, e->insert_id_len);
	else
		idg_jw_null(w);
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */

/*
 * How put_text shows the bytes at p[i..n): *len of them (1 or 2) as *cols
 * columns; escaped when they are a C0 control or DEL, or a C1 control
 * (U+0080 to U+009F, which some terminals also act on).
 */
static int
text_unit(const unsigned char *p, size_t i, size_t n, size_t *len,
	  size_t *cols)
{
	unsigned char c = p[i];

	*len = 1;
	if (c < 0x20 || c == 0x7f) {
		*cols = 4;
		return 1;
	}
	if (c == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
		*len = 2;
		*cols = 8;
		return 1;
	}
	*cols = (c & 0xc0) != 0x80; /* a UTF-8 character's first byte */
	return 0;
}

size_t
text_width(const char *p, size_t n)
{
	size_t w = 0, len, cols;

	for (size_t i = 0; i < n; i += len) {
		text_unit((const unsigned char *)p, i, n, &len, &cols);
		w += cols;
	}
	return w;
}

size_t
put_text(FILE *fp, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, run = 0, len, cols, w = 0;

	for (; i < n; i += len) {
		if (!text_unit(u, i, n, &len, &cols)) {
			w += cols;
			continue;
		}
		fwrite(p + run, 1, i - run, fp);
		for (size_t k = 0; k < len; k++)
			fprintf(fp, "\\x%02x", u[i + k]);
		w += cols;
		run = i + len;
	}
	fwrite(p + run, 1, n - run, fp);
	return w;
}

int
table_width(size_t n, int current)
{
	int w = n > TABLE_COL_MAX ? TABLE_COL_MAX : (int)n;

	return w > current ? w : current;
}

void
table_cell(const char *s, int w)
{
	int n = (int)put_text(stdout, s, strlen(s));

	printf("%*s  ", n < w ? w - n : 0, "");
}

size_t
table_ids_len(const struct idg_log_entry *e)
{
	return text_width(e->ids[0], e->ids_len[0]) + 2 +
	       text_width(e->ids[1], e->ids_len[1]);
}

void
table_ids(const struct idg_log_entry *e, int w)
{
	size_t n = put_text(stdout, e->ids[0], e->ids_len[0]);

	fputs(", ", stdout);
	n += 2 + put_text(stdout, e->ids[1], e->ids_len[1]);
	printf("%*s  ", n < (size_t)w ? w - (int)n : 0, "");
}

/* "3600 s" or "0.5 s" for a number of milliseconds. */
const char *
format_seconds(char *buf, size_t size, int64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%" PRId64 " s", ms / 1000);
	else
		snprintf(buf, size, "%" PRId64 ".%03d s", ms / 1000,
			 (int)(ms % 1000));
	return buf;
}

void
remove_tree(const char *path)
{
	struct stat st;
	struct dirent *e;
	char sub[4096];
	DIR *d;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path,
					     e->d_name) < sizeof sub)
				remove_tree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}
