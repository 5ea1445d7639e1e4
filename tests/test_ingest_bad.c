/*
 * test_ingest_bad.c — bad input never stops an ingest: each rejection rule
 * of SPEC §4 that applies to events, alone, with the field and message
 * reported, and with valid neighbours that are kept; then random garbage.
 *
 * Each check ingests three lines into a fresh database: a valid event of
 * "before", the bad line, a valid event of "after". The bad line must be
 * the only rejected record, reported at line 2 with its bytes untouched,
 * and both neighbours must resolve afterwards.
 */
#define _GNU_SOURCE
#include "idgraph.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define D1 "11111111-aaaa-4bbb-8ccc-000000000001"

#define BEFORE                                                                 \
	"{\"event\":\"e\",\"properties\":{\"distinct_id\":\"before\","         \
	"\"time\":1700000000}}"
#define AFTER                                                                  \
	"{\"event\":\"e\",\"properties\":{\"distinct_id\":\"after\","          \
	"\"time\":1700000002}}"

/* Builds {"event":E,"properties":{P}} around literal pieces. */
#define REC(ev, props) "{\"event\":" ev ",\"properties\":{" props "}}"
#define EVP(props) REC("\"e\"", props)

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

struct rej {
	uint64_t line;
	uint32_t index;
	int in_array;
	char *field;
	char *message;
	char *raw;
	size_t raw_len;
};

struct rejects {
	int n;
	struct rej r[8];
};

static int
on_reject(void *user, const struct idg_reject *r)
{
	struct rejects *rs = user;

	cr_assert_not_null(r->field);
	cr_assert_not_null(r->message);
	cr_assert_not_null(r->raw);
	if (rs->n < 8) {
		struct rej *x = &rs->r[rs->n];

		x->line = r->line;
		x->index = r->index;
		x->in_array = r->in_array;
		x->field = strdup(r->field);
		x->message = strdup(r->message);
		x->raw = malloc(r->raw_len + 1);
		cr_assert_not_null(x->raw);
		memcpy(x->raw, r->raw, r->raw_len);
		x->raw_len = r->raw_len;
	}
	rs->n++;
	return 0;
}

static void
rejects_free(struct rejects *rs)
{
	int i;

	for (i = 0; i < rs->n && i < 8; i++) {
		free(rs->r[i].field);
		free(rs->r[i].message);
		free(rs->r[i].raw);
	}
	rs->n = 0;
}

static idg_db *
open_db(const char *dir)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	idg_db *db = NULL;
	int rc;

	o.flags = IDG_OPEN_CREATE;
	o.durability = IDG_NOSYNC;
	rc = idg_open(&db, dir, &o);
	cr_assert_eq(rc, 0, "idg_open: %d", rc);
	return db;
}

/* Ingests buf into db, collecting rejects; asserts success. */
static struct idg_ingest_stats
ingest(idg_db *db, const char *buf, size_t len, struct rejects *rs)
{
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats st;
	int rc;

	io.on_reject = on_reject;
	io.user = rs;
	memset(&st, 0xa5, sizeof(st));
	rc = idg_ingest_buffer(db, buf, len, &io, &st);
	cr_assert_eq(rc, 0, "ingest: %d %s", rc, idg_errmsg(db));
	cr_assert_eq(st.records, st.rejected + st.events + st.profile_updates);
	return st;
}

static int
found(idg_db *db, const char *id, size_t len)
{
	struct idg_resolution r;
	int rc = idg_resolve(db, id, len, IDG_NOW, IDG_VIEW_LIVE, &r);

	cr_assert(rc == 0 || rc == IDG_ENOTFOUND, "resolve: %d", rc);
	return rc == 0;
}

static void
expect_found(idg_db *db, const char *id)
{
	cr_assert(found(db, id, strlen(id)), "%s not found", id);
}

static int
contains_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

/* 1 if the line holds a JSON array of records (its first byte is '['). */
static int
array_line(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < len && s[i] == '[';
}

/*
 * BEFORE, bad[0..len), AFTER as three lines: exactly the bad line is
 * rejected, with this field and a message containing needle. A line that
 * is an array but cannot be read is one record, index 0, in_array 1.
 */
static void
reject_one_n(const char *bad, size_t len, const char *field, const char *needle)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir);
	size_t n = strlen(BEFORE "\n") + len + strlen("\n" AFTER "\n");
	char *buf = malloc(n);
	struct rejects rs = {0};
	struct idg_ingest_stats st;
	struct idg_info in;

	cr_assert_not_null(buf);
	memcpy(buf, BEFORE "\n", strlen(BEFORE "\n"));
	memcpy(buf + strlen(BEFORE "\n"), bad, len);
	memcpy(buf + strlen(BEFORE "\n") + len, "\n" AFTER "\n",
	       strlen("\n" AFTER "\n"));
	st = ingest(db, buf, n, &rs);
	cr_assert_eq(st.records, 3, "[%.*s]: %llu records", (int)len, bad,
		     (unsigned long long)st.records);
	cr_assert_eq(st.rejected, 1, "[%.*s] not rejected", (int)len, bad);
	cr_assert_eq(st.events, 2);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].line, 2);
	cr_assert_eq(rs.r[0].index, 0);
	cr_assert_eq(rs.r[0].in_array, array_line(bad, len));
	cr_assert_str_eq(rs.r[0].field, field, "[%.*s]: field %s, want %s",
			 (int)(len > 200 ? 200 : len), bad, rs.r[0].field,
			 field);
	cr_assert(contains_ci(rs.r[0].message, needle),
		  "[%.*s]: message \"%s\" lacks \"%s\"",
		  (int)(len > 200 ? 200 : len), bad, rs.r[0].message, needle);
	cr_assert_eq(rs.r[0].raw_len, len, "[%.*s]: raw of %zu bytes",
		     (int)(len > 200 ? 200 : len), bad, rs.r[0].raw_len);
	cr_assert(memcmp(rs.r[0].raw, bad, len) == 0);
	expect_found(db, "before");
	expect_found(db, "after");
	in = (struct idg_info){0};
	cr_assert_eq(idg_info(db, &in), 0);
	cr_assert_eq(in.records, 2);
	cr_assert_eq(in.stamp, 1700000002000);
	rejects_free(&rs);
	free(buf);
	idg_close(db);
	tu_rmdir(dir);
}

static void
reject_one(const char *bad, const char *field, const char *needle)
{
	reject_one_n(bad, strlen(bad), field, needle);
}

/*
 * Ingests one good line into a fresh database and returns its info;
 * the line must be accepted. The database stays open in *dbp.
 */
static struct idg_info
accept_one(const char *line, char **dirp, idg_db **dbp)
{
	struct rejects rs = {0};
	struct idg_ingest_stats st;
	struct idg_info in;

	*dirp = tu_tmpdir();
	*dbp = open_db(*dirp);
	st = ingest(*dbp, line, strlen(line), &rs);
	cr_assert_eq(rs.n, 0, "[%s] rejected: %s: %s", line,
		     rs.n ? rs.r[0].field : "", rs.n ? rs.r[0].message : "");
	cr_assert_eq(st.records, 1);
	cr_assert_eq(st.events, 1);
	cr_assert_eq(idg_info(*dbp, &in), 0);
	rejects_free(&rs);
	return in;
}

static void
done(char *dir, idg_db *db)
{
	idg_close(db);
	tu_rmdir(dir);
}

/* The line is accepted and id resolves afterwards. */
static void
accept_resolves(const char *line, const char *id, size_t id_len)
{
	char *dir;
	idg_db *db;

	accept_one(line, &dir, &db);
	cr_assert(found(db, id, id_len), "[%s]: %.*s not found", line,
		  (int)id_len, id);
	done(dir, db);
}

/* The line is accepted and its stamp is want. */
static void
accept_stamp(const char *line, int64_t want)
{
	char *dir;
	idg_db *db;
	struct idg_info in = accept_one(line, &dir, &db);

	cr_assert_eq(in.stamp, want, "[%s]: stamp %lld, want %lld", line,
		     (long long)in.stamp, (long long)want);
	done(dir, db);
}

static int64_t
wall_s(void)
{
	return (int64_t)time(NULL);
}

/* ------------------------------------------------------------------ */
/* Not JSON, not an object                                             */

Test(ingest_bad, malformed_json)
{
	reject_one("{\"event\":\"e\"", "", "malformed JSON");
	reject_one("{\"event\":\"e\",\"properties\":{\"distinct_id\":\"x\"", "",
		   "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"), "",
		   "malformed JSON");
	reject_one("{event:\"e\"}", "", "malformed JSON");
	reject_one("{'event':'e'}", "", "malformed JSON");
	reject_one("{\"event\" \"e\"}", "", "malformed JSON");
	reject_one("{\"event\":\"e\",}", "", "malformed JSON");
	reject_one("{\"event\":\"unclosed}", "", "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"a\\qb\",\"time\":1700000001"), "",
		   "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":01700000001"), "",
		   "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001.e"), "",
		   "malformed JSON");
	reject_one(EVP("\"distinct_id\":tru,\"time\":1700000001"), "",
		   "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001") "}", "",
		   "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001") " x", "",
		   "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001")
		       EVP("\"distinct_id\":\"y\",\"time\":1700000001"),
		   "", "malformed JSON");
	reject_one("{", "", "malformed JSON");
	reject_one("}", "", "malformed JSON");
	reject_one("nul", "", "malformed JSON");
	reject_one("\"unclosed", "", "malformed JSON");
	reject_one("[{\"event\":\"e\"", "", "malformed JSON");
}

/*
 * Errors inside values the engine does not read must still reject the
 * record (they were accepted while On Demand skipped unread values; every
 * value is now read and kept).
 */
Test(ingest_bad, malformed_json_in_unread_value)
{
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"other\":[1,2,]"),
		   "", "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"other\":tru"),
		   "", "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"other\":01"),
		   "", "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"other\":{\"a\" 1}"),
		   "", "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"other\":\"bad \\x escape\""),
		   "", "malformed JSON");
	reject_one("{\"event\":\"e\",\"extra\":[1,,2],\"properties\":{"
		   "\"distinct_id\":\"x\",\"time\":1700000001}}",
		   "", "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"other\":[1}"),
		   "", "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"other\":1e999"),
		   "", "malformed JSON");
}

Test(ingest_bad, not_an_object)
{
	reject_one("42", "", "not a JSON object");
	reject_one(" 42 ", "", "not a JSON object");
	reject_one("-1.5", "", "not a JSON object");
	reject_one("\"a string\"", "", "not a JSON object");
	reject_one("null", "", "not a JSON object");
	reject_one("true", "", "not a JSON object");
	reject_one("  false", "", "not a JSON object");
}

/*
 * A valid JSON boolean followed by white space is a record that is not an
 * object, not malformed JSON (it was given the wrong message before the
 * parser stopped counting trailing blanks as part of the value).
 */
Test(ingest_bad, boolean_with_trailing_space)
{
	reject_one("false  ", "", "not a JSON object");
	reject_one("true ", "", "not a JSON object");
}

Test(ingest_bad, array_lines)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir);
	struct rejects rs = {0};
	struct idg_ingest_stats st;
	const char in[] =
	    "[" EVP("\"distinct_id\":\"a\",\"time\":1700000000") ", 42, " EVP(
		"\"distinct_id\":\"b\",\"time\":1700000001") "]\n"
							     "[1, \"two\", "
							     "null]\n"
							     "[]\n"
							     "  [ " EVP(
								 "\"distinct_"
								 "id\":\"c\","
								 "\"time\":"
								 "1700000002") " ]  \n";

	st = ingest(db, in, sizeof(in) - 1, &rs);
	cr_assert_eq(st.records, 7);
	cr_assert_eq(st.rejected, 4);
	cr_assert_eq(st.events, 3);
	cr_assert_eq(rs.n, 4);
	cr_assert_eq(rs.r[0].line, 1);
	cr_assert_eq(rs.r[0].index, 1);
	cr_assert_eq(rs.r[0].in_array, 1);
	cr_assert_str_eq(rs.r[0].field, "");
	cr_assert(contains_ci(rs.r[0].message, "not a JSON object"));
	cr_assert_eq(rs.r[0].raw_len, 2);
	cr_assert(memcmp(rs.r[0].raw, "42", 2) == 0);
	cr_assert_eq(rs.r[1].line, 2);
	cr_assert_eq(rs.r[1].index, 0);
	cr_assert_eq(rs.r[1].in_array, 1);
	cr_assert_eq(rs.r[2].index, 1);
	cr_assert_eq(rs.r[2].raw_len, 5);
	cr_assert(memcmp(rs.r[2].raw, "\"two\"", 5) == 0);
	cr_assert_eq(rs.r[3].line, 2);
	cr_assert_eq(rs.r[3].index, 2);
	cr_assert(contains_ci(rs.r[3].message, "not a JSON object"));
	expect_found(db, "a");
	expect_found(db, "b");
	expect_found(db, "c");
	rejects_free(&rs);
	idg_close(db);
	tu_rmdir(dir);

	/* A malformed array line is one rejected record, nothing kept. */
	reject_one("[" EVP("\"distinct_id\":\"z\",\"time\":1700000001") ",]",
		   "", "malformed JSON");
	reject_one("[" EVP("\"distinct_id\":\"z\",\"time\":1700000001") "] x",
		   "", "malformed JSON");
}

/* ------------------------------------------------------------------ */
/* event, properties                                                   */

Test(ingest_bad, event_field)
{
	reject_one("{\"properties\":{\"distinct_id\":\"x\",\"time\":"
		   "1700000001}}",
		   "event", "event is missing");
	reject_one("{}", "event", "event is missing");
	reject_one(REC("42", "\"distinct_id\":\"x\",\"time\":1700000001"),
		   "event", "must be a string");
	reject_one(REC("null", "\"distinct_id\":\"x\",\"time\":1700000001"),
		   "event", "must be a string");
	reject_one(REC("[\"e\"]", "\"distinct_id\":\"x\",\"time\":1700000001"),
		   "event", "must be a string");
	reject_one(REC("{}", "\"distinct_id\":\"x\",\"time\":1700000001"),
		   "event", "must be a string");
	reject_one(REC("\"\"", "\"distinct_id\":\"x\",\"time\":1700000001"),
		   "event", "event is empty");
}

Test(ingest_bad, properties_field)
{
	reject_one("{\"event\":\"e\"}", "properties", "properties is missing");
	reject_one("{\"event\":\"e\",\"properties\":\"x\"}", "properties",
		   "must be an object");
	reject_one("{\"event\":\"e\",\"properties\":null}", "properties",
		   "must be an object");
	reject_one("{\"event\":\"e\",\"properties\":[]}", "properties",
		   "must be an object");
	reject_one("{\"event\":\"e\",\"properties\":[{\"distinct_id\":\"x\","
		   "\"time\":1700000001}]}",
		   "properties", "must be an object");
	reject_one("{\"event\":\"e\",\"properties\":7}", "properties",
		   "must be an object");
}

/* ------------------------------------------------------------------ */
/* time                                                                */

Test(ingest_bad, time_field)
{
	char line[256];

	reject_one(EVP("\"distinct_id\":\"x\""), "properties.time",
		   "time is missing");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":\"1700000001\""),
		   "properties.time", "must be a number");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":null"),
		   "properties.time", "must be a number");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":true"),
		   "properties.time", "must be a number");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":[1700000001]"),
		   "properties.time", "must be a number");
	/* 1971-01-01T00:00:00Z is 31536000 s. */
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":31535999"),
		   "properties.time", "before 1971");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":0"), "properties.time",
		   "before 1971");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":-1700000000"),
		   "properties.time", "before 1971");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":31535999.9994"),
		   "properties.time", "before 1971");
	/* Below int64 too (it once said "after the wall clock"). */
	reject_one(EVP("\"distinct_id\":\"x\","
		       "\"time\":-99999999999999999999999"),
		   "properties.time", "before 1971");
	accept_stamp(EVP("\"distinct_id\":\"x\",\"time\":31536000"),
		     31536000000);

	/* More than one hour after the wall clock. */
	snprintf(line, sizeof(line), EVP("\"distinct_id\":\"x\",\"time\":%lld"),
		 (long long)(wall_s() + 3600 + 120));
	reject_one(line, "properties.time", "after the wall clock");
	snprintf(line, sizeof(line), EVP("\"distinct_id\":\"x\",\"time\":%lld"),
		 (long long)(wall_s() + 3600 + 120) * 1000);
	reject_one(line, "properties.time", "after the wall clock");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1e300"),
		   "properties.time", "after the wall clock");
	reject_one(EVP("\"distinct_id\":\"x\","
		       "\"time\":99999999999999999999999"),
		   "properties.time", "after the wall clock");
	snprintf(line, sizeof(line), EVP("\"distinct_id\":\"x\",\"time\":%lld"),
		 (long long)(wall_s() + 3600 - 120));
	accept_stamp(line, (wall_s() + 3600 - 120) * 1000);
}

Test(ingest_bad, time_seconds_and_milliseconds)
{
	accept_stamp(EVP("\"distinct_id\":\"x\",\"time\":1700000000"),
		     1700000000000);
	accept_stamp(EVP("\"distinct_id\":\"x\",\"time\":1700000000000"),
		     1700000000000);
	accept_stamp(EVP("\"distinct_id\":\"x\",\"time\":1700000000.5"),
		     1700000000500);
	accept_stamp(EVP("\"distinct_id\":\"x\",\"time\":1700000000.0004"),
		     1700000000000);
	accept_stamp(EVP("\"distinct_id\":\"x\",\"time\":1700000000.0006"),
		     1700000000001);
	accept_stamp(EVP("\"distinct_id\":\"x\",\"time\":1.7e9"),
		     1700000000000);
	accept_stamp(EVP("\"distinct_id\":\"x\",\"time\":1700000000123"),
		     1700000000123);
	/* 1e11 and above is milliseconds, below is seconds. */
	accept_stamp(EVP("\"distinct_id\":\"x\",\"time\":99999999.999"),
		     INT64_C(99999999999));
	accept_stamp(EVP("\"distinct_id\":\"x\",\"time\":100000000000"),
		     INT64_C(100000000000));
}

/* ------------------------------------------------------------------ */
/* distinct_id                                                         */

Test(ingest_bad, distinct_id_wrong_type)
{
	reject_one(EVP("\"time\":1700000001"), "properties.distinct_id",
		   "distinct_id is missing");
	reject_one(EVP("\"distinct_id\":1.5,\"time\":1700000001"),
		   "properties.distinct_id", "must be a string or an integer");
	reject_one(EVP("\"distinct_id\":1e3,\"time\":1700000001"),
		   "properties.distinct_id", "must be a string or an integer");
	reject_one(EVP("\"distinct_id\":true,\"time\":1700000001"),
		   "properties.distinct_id", "must be a string or an integer");
	reject_one(EVP("\"distinct_id\":null,\"time\":1700000001"),
		   "properties.distinct_id", "must be a string or an integer");
	reject_one(EVP("\"distinct_id\":{\"id\":\"x\"},\"time\":1700000001"),
		   "properties.distinct_id", "must be a string or an integer");
	reject_one(EVP("\"distinct_id\":[\"x\"],\"time\":1700000001"),
		   "properties.distinct_id", "must be a string or an integer");
	/* distinct_id at the top level is not properties.distinct_id. */
	reject_one("{\"event\":\"e\",\"distinct_id\":\"x\",\"properties\":{"
		   "\"time\":1700000001}}",
		   "properties.distinct_id", "distinct_id is missing");
}

static const char *const forbidden[] = {
    "00000000-0000-0000-0000-000000000000",
    "anon",
    "anonymous",
    "nil",
    "none",
    "null",
    "n/a",
    "na",
    "undefined",
    "unknown",
    "<nil>",
    "0",
    "-1",
    "true",
    "false",
    "[]",
    "{}",
};

#define NFORBIDDEN (sizeof(forbidden) / sizeof(forbidden[0]))

/* Upper-cases s, and wraps it in ASCII white space when pad. */
static void
variant(char *out, size_t cap, const char *s, int upper, const char *pad)
{
	size_t i, n;

	snprintf(out, cap, "%s%s%s", pad, s, pad);
	n = strlen(out);
	for (i = 0; upper && i < n; i++)
		if (out[i] >= 'a' && out[i] <= 'z')
			out[i] -= 'a' - 'A';
}

/* JSON escapes the white space a variant may hold. */
static void
json_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < cap; s++) {
		if (*s == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (*s == '\r') {
			out[o++] = '\\';
			out[o++] = 'r';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

Test(ingest_bad, distinct_id_forbidden_values)
{
	static const char *const pads[] = {"", " ", "  \t", "\r "};
	char v[128], esc[160], line[512];
	size_t i, p;
	int upper;

	cr_assert_eq(NFORBIDDEN, 17);
	for (i = 0; i < NFORBIDDEN; i++)
		for (upper = 0; upper <= 1; upper++)
			for (p = 0; p < sizeof(pads) / sizeof(pads[0]); p++) {
				variant(v, sizeof(v), forbidden[i], upper,
					pads[p]);
				json_escape(esc, sizeof(esc), v);
				snprintf(line, sizeof(line),
					 EVP("\"distinct_id\":\"%s\","
					     "\"time\":1700000001"),
					 esc);
				reject_one(line, "properties.distinct_id",
					   "forbidden");
			}
	/* Mixed case. */
	reject_one(EVP("\"distinct_id\":\"AnonYmous\",\"time\":1700000001"),
		   "properties.distinct_id", "forbidden");
	reject_one(EVP("\"distinct_id\":\"N/a\",\"time\":1700000001"),
		   "properties.distinct_id", "forbidden");
	/* Integers stand for their text: 0 and -1 are forbidden too. */
	reject_one(EVP("\"distinct_id\":0,\"time\":1700000001"),
		   "properties.distinct_id", "forbidden");
	reject_one(EVP("\"distinct_id\":-1,\"time\":1700000001"),
		   "properties.distinct_id", "forbidden");
	/* -0 is the integer 0, whose text is "0" (it was kept as "-0"). */
	reject_one(EVP("\"distinct_id\":-0,\"time\":1700000001"),
		   "properties.distinct_id", "forbidden");
	reject_one("{\"event\":\"$create_alias\",\"properties\":{"
		   "\"distinct_id\":\"U1\",\"alias\":-0,"
		   "\"time\":1700000001}}",
		   "properties.alias", "forbidden");
	reject_one("{\"$distinct_id\":-0,\"$set\":{\"a\":1}}",
		   "$distinct_id", "forbidden");
}

Test(ingest_bad, distinct_id_near_forbidden_accepted)
{
	static const char *const ok[] = {
	    "anon1",	"nulll", "n/aa",
	    "00",	"-10",	 "1",
	    "un known", "[ ]",	 "{ }",
	    "nil>",	"<nil",	 "00000000-0000-0000-0000-000000000001",
	};
	char line[256];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(line, sizeof(line),
			 EVP("\"distinct_id\":\"%s\",\"time\":1700000001"),
			 ok[i]);
		accept_resolves(line, ok[i], strlen(ok[i]));
	}
}

Test(ingest_bad, distinct_id_integer_and_empty)
{
	char *dir;
	idg_db *db;
	struct idg_info in;
	struct rejects rs = {0};
	struct idg_ingest_stats st;
	const char empty[] = EVP("\"distinct_id\":\"\",\"time\":1700000001");

	accept_resolves(EVP("\"distinct_id\":12345,\"time\":1700000001"),
			"12345", 5);
	accept_resolves(EVP("\"distinct_id\":-42,\"time\":1700000001"), "-42",
			3);
	accept_resolves(EVP("\"distinct_id\":9223372036854775807,"
			    "\"time\":1700000001"),
			"9223372036854775807", 19);
	accept_resolves(EVP("\"distinct_id\":18446744073709551615,"
			    "\"time\":1700000001"),
			"18446744073709551615", 20);
	accept_resolves(EVP("\"distinct_id\":18446744073709551616,"
			    "\"time\":1700000001"),
			"18446744073709551616", 20);
	accept_resolves(EVP("\"distinct_id\":123456789012345678901234567890,"
			    "\"time\":1700000001"),
			"123456789012345678901234567890", 30);

	/* 12345 and "12345" are one node. */
	in = accept_one(EVP("\"distinct_id\":12345,\"time\":1700000001"), &dir,
			&db);
	st = ingest(db,
		    EVP("\"distinct_id\":\"12345\",\"time\":1700000002") "\n",
		    strlen(EVP("\"distinct_id\":\"12345\","
			       "\"time\":1700000002") "\n"),
		    &rs);
	cr_assert_eq(st.nodes_created, 0);
	cr_assert_eq(rs.n, 0);
	done(dir, db);

	/* The empty distinct_id: an event of no user, no node. */
	in = accept_one(empty, &dir, &db);
	cr_assert_eq(in.records, 1);
	cr_assert_eq(in.nodes, 0);
	cr_assert_eq(in.stamp, 1700000001000);
	cr_assert(!found(db, "", 0));
	done(dir, db);

	/* A NUL inside an id (escaped) is part of the id's bytes. */
	accept_resolves(
	    EVP("\"distinct_id\":\"a\\u0000b\",\"time\":1700000001"), "a\0b",
	    3);
}

/* ------------------------------------------------------------------ */
/* $insert_id                                                          */

Test(ingest_bad, insert_id)
{
	const char *fld = "properties.$insert_id";

	reject_one(
	    EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		"\"$insert_id\":\"0123456789012345678901234567890123456\""),
	    fld, "36");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"$insert_id\":\"ab_c\""),
		   fld, "A-Z");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"$insert_id\":\"ab c\""),
		   fld, "A-Z");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"$insert_id\":\"abc\\u00e9\""),
		   fld, "A-Z");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"$insert_id\":\"null\""),
		   fld, "forbidden");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"$insert_id\":\"UNDEFINED\""),
		   fld, "forbidden");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"$insert_id\":\"00000000-0000-0000-0000-"
		       "000000000000\""),
		   fld, "forbidden");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"$insert_id\":\"-1\""),
		   fld, "forbidden");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"$insert_id\":12345"),
		   fld, "must be a string");
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"$insert_id\":null"),
		   fld, "must be a string");
	accept_resolves(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
			    "\"$insert_id\":\"012345678901234567890123456789"
			    "012345\""),
			"x", 1);
	accept_resolves(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
			    "\"$insert_id\":\"Ab-9\""),
			"x", 1);
}

/* ------------------------------------------------------------------ */
/* Identity events                                                     */

#define IDP(ev, props) REC("\"" ev "\"", props ",\"time\":1700000001")

Test(ingest_bad, identify_ids)
{
	reject_one(IDP("$identify", "\"$anon_distinct_id\":\"" D1 "\""),
		   "properties.distinct_id", "missing");
	reject_one(IDP("$identify", "\"distinct_id\":\"u\""),
		   "properties.$anon_distinct_id", "missing");
	reject_one(IDP("$identify",
		       "\"distinct_id\":\"\",\"$anon_distinct_id\":\"" D1 "\""),
		   "properties.distinct_id", "empty");
	reject_one(IDP("$identify",
		       "\"distinct_id\":\"u\",\"$anon_distinct_id\":\"\""),
		   "properties.$anon_distinct_id", "empty");
	reject_one(
	    IDP("$identify", "\"$identified_id\":\"\",\"$anon_id\":\"" D1 "\""),
	    "properties.$identified_id", "empty");
	reject_one(IDP("$identify",
		       "\"$identified_id\":\"u\",\"$anon_id\":\" NULL \""),
		   "properties.$anon_id", "forbidden");
	reject_one(IDP("$identify", "\"distinct_id\":\"undefined\","
				    "\"$anon_distinct_id\":\"" D1 "\""),
		   "properties.distinct_id", "forbidden");
	reject_one(IDP("$identify", "\"distinct_id\":\"u\","
				    "\"$anon_distinct_id\":\"00000000-0000-"
				    "0000-0000-000000000000\""),
		   "properties.$anon_distinct_id", "forbidden");
	reject_one(IDP("$identify",
		       "\"distinct_id\":\"u\",\"$anon_distinct_id\":true"),
		   "properties.$anon_distinct_id", "string");
	reject_one(IDP("$identify", "\"$identified_id\":[\"u\"],"
				    "\"$anon_id\":\"" D1 "\""),
		   "properties.$identified_id", "string");
	/* Valid: distinct_id omitted, the HTTP spec's names. */
	accept_resolves(IDP("$identify",
			    "\"$identified_id\":\"u\",\"$anon_id\":\"" D1 "\""),
			"u", 1);
	/* A forbidden distinct_id is refused even when ids are given. */
	reject_one(IDP("$identify",
		       "\"distinct_id\":\"none\","
		       "\"$identified_id\":\"u\",\"$anon_id\":\"" D1 "\""),
		   "properties.distinct_id", "forbidden");
}

Test(ingest_bad, create_alias_ids)
{
	reject_one(IDP("$create_alias", "\"alias\":\"a\""),
		   "properties.distinct_id", "missing");
	reject_one(IDP("$create_alias", "\"distinct_id\":\"t\""),
		   "properties.alias", "missing");
	reject_one(IDP("$create_alias", "\"distinct_id\":\"t\",\"alias\":\"\""),
		   "properties.alias", "empty");
	reject_one(IDP("$create_alias", "\"distinct_id\":\"\",\"alias\":\"a\""),
		   "properties.distinct_id", "empty");
	reject_one(
	    IDP("$create_alias", "\"distinct_id\":\"t\",\"alias\":\"Unknown\""),
	    "properties.alias", "forbidden");
	reject_one(
	    IDP("$create_alias", "\"distinct_id\":\"nil\",\"alias\":\"a\""),
	    "properties.distinct_id", "forbidden");
	reject_one(IDP("$create_alias", "\"distinct_id\":\"t\",\"alias\":{}"),
		   "properties.alias", "string");
}

Test(ingest_bad, merge_ids)
{
	const char *fld = "properties.$distinct_ids";

	reject_one(IDP("$merge", "\"distinct_id\":\"a\""), fld, "missing");
	reject_one(IDP("$merge", "\"$distinct_ids\":[\"a\"]"), fld,
		   "exactly two");
	reject_one(IDP("$merge", "\"$distinct_ids\":[]"), fld, "exactly two");
	reject_one(IDP("$merge", "\"$distinct_ids\":[\"a\",\"b\",\"c\"]"), fld,
		   "exactly two");
	reject_one(IDP("$merge", "\"$distinct_ids\":[1,2]"), fld,
		   "exactly two");
	reject_one(IDP("$merge", "\"$distinct_ids\":[\"a\",null]"), fld,
		   "exactly two");
	reject_one(IDP("$merge", "\"$distinct_ids\":\"a,b\""), fld,
		   "exactly two");
	reject_one(IDP("$merge", "\"$distinct_ids\":{\"a\":\"b\"}"), fld,
		   "exactly two");
	reject_one(IDP("$merge", "\"$distinct_ids\":[\"a\",\"\"]"), fld,
		   "empty");
	reject_one(IDP("$merge", "\"$distinct_ids\":[\"null\",\"b\"]"), fld,
		   "forbidden");
	reject_one(IDP("$merge", "\"$distinct_ids\":[\"a\",\" ANON\"]"), fld,
		   "forbidden");
	reject_one(IDP("$merge", "\"$distinct_ids\":[\"a\",\"b\"],"
				 "\"distinct_id\":\"false\""),
		   "properties.distinct_id", "forbidden");
	accept_resolves(IDP("$merge", "\"$distinct_ids\":[\"a\",\"b\"]"), "b",
			1);
}

/* ------------------------------------------------------------------ */
/* Lines                                                               */

Test(ingest_bad, blank_lines_are_not_records)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir);
	struct rejects rs = {0};
	struct idg_ingest_stats st;
	const char in[] = "\n"
			  "   \n"
			  "\t\t\n" BEFORE "\n"
			  "\r\n"
			  " \t \r\n"
			  "{\"event\":\"e\"}\n"
			  "\n" AFTER "\n"
			  "\n\n  ";

	st = ingest(db, in, sizeof(in) - 1, &rs);
	cr_assert_eq(st.records, 3);
	cr_assert_eq(st.rejected, 1);
	cr_assert_eq(st.events, 2);
	cr_assert_eq(st.bytes, sizeof(in) - 1);
	cr_assert_eq(rs.n, 1);
	/* Blank lines still count for line numbers. */
	cr_assert_eq(rs.r[0].line, 7);
	expect_found(db, "before");
	expect_found(db, "after");
	rejects_free(&rs);

	/* Nothing but blank lines: no record at all. */
	st = ingest(db, "\n \n\t\n", 5, &rs);
	cr_assert_eq(st.records, 0);
	cr_assert_eq(st.events, 0);
	cr_assert_eq(rs.n, 0);
	st = ingest(db, "", 0, &rs);
	cr_assert_eq(st.records, 0);
	idg_close(db);
	tu_rmdir(dir);
}

/* A UTF-8 byte order mark before the first line is not data (it once
 * made the first record malformed JSON); anywhere else it is. */
Test(ingest_bad, byte_order_mark_before_the_first_line)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir);
	struct rejects rs = {0};
	struct idg_ingest_stats st;
	const char in[] = "\xef\xbb\xbf" BEFORE "\n"
			  "\xef\xbb\xbf" AFTER "\n";
	const char alone[] = "\xef\xbb\xbf\n" BEFORE "\n";

	st = ingest(db, in, sizeof(in) - 1, &rs);
	cr_assert_eq(st.records, 2);
	cr_assert_eq(st.events, 1);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].line, 2);
	cr_assert(contains_ci(rs.r[0].message, "malformed JSON"), "%s",
		  rs.r[0].message);
	expect_found(db, "before");
	rejects_free(&rs);
	/* A first line of nothing but the mark is blank. */
	st = ingest(db, alone, sizeof(alone) - 1, &rs);
	cr_assert_eq(st.records, 1);
	cr_assert_eq(st.events, 1);
	cr_assert_eq(rs.n, 0);
	idg_close(db);
	tu_rmdir(dir);
}

/* A valid event whose "pad" property makes it n bytes long. */
static char *
sized_event(size_t n, const char *id)
{
	char head[128];
	const char *tail = "\"}}";
	size_t h, t = strlen(tail);
	char *s;

	h = (size_t)snprintf(head, sizeof(head),
			     "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
			     "\"%s\",\"time\":1700000001,\"pad\":\"",
			     id);
	cr_assert_gt(n, h + t);
	s = malloc(n + 1);
	cr_assert_not_null(s);
	memcpy(s, head, h);
	memset(s + h, 'p', n - h - t);
	memcpy(s + n - t, tail, t);
	s[n] = '\0';
	return s;
}

Test(ingest_bad, huge_line)
{
	char *big = sized_event((1u << 20) + 1, "big");
	char *fits = sized_event(1u << 20, "fits");
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	char *dir;
	idg_db *db;
	FILE *fp;
	struct rejects rs = {0};
	struct idg_ingest_stats st;
	char *buf;
	size_t n;

	reject_one(big, "", "1 MiB");
	/* Exactly 1 MiB is allowed. */
	accept_resolves(fits, "fits", 4);
	free(fits);

	/* The same through a stream, the huge line between two others. */
	n = strlen(BEFORE "\n") + strlen(big) + strlen("\n" AFTER "\n");
	buf = malloc(n + 1);
	cr_assert_not_null(buf);
	snprintf(buf, n + 1, "%s\n%s\n%s\n", BEFORE, big, AFTER);
	fp = fmemopen(buf, n, "r");
	cr_assert_not_null(fp);
	dir = tu_tmpdir();
	db = open_db(dir);
	io.on_reject = on_reject;
	io.user = &rs;
	cr_assert_eq(idg_ingest_stream(db, fp, &io, &st), 0);
	fclose(fp);
	cr_assert_eq(st.records, 3);
	cr_assert_eq(st.rejected, 1);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].line, 2);
	cr_assert_eq(rs.r[0].raw_len, strlen(big));
	expect_found(db, "before");
	expect_found(db, "after");
	cr_assert(!found(db, "big", 3));
	rejects_free(&rs);
	idg_close(db);
	tu_rmdir(dir);
	free(buf);
	free(big);
}

/* An array line over 1 MiB: each record is judged on its own size. */
Test(ingest_bad, huge_array_line)
{
	char *big = sized_event((1u << 20) + 10, "big");
	char *small = sized_event(600 * 1024, "small");
	char *line;
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir);
	struct rejects rs = {0};
	struct idg_ingest_stats st;
	size_t n;

	n = strlen(small) * 2 + strlen(big) + 10;
	line = malloc(n);
	cr_assert_not_null(line);
	/* Blanks before the '[' change nothing (once they made the first
	 * line one record over 1 MiB). */
	snprintf(line, n, " \t[%s,%s]\n[%s]\n", small, small, big);
	st = ingest(db, line, strlen(line), &rs);
	cr_assert_eq(st.records, 3);
	cr_assert_eq(st.rejected, 1);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].line, 2);
	cr_assert_str_eq(rs.r[0].field, "");
	cr_assert(contains_ci(rs.r[0].message, "1 MiB"));
	expect_found(db, "small");
	rejects_free(&rs);
	free(line);
	free(small);
	free(big);
	idg_close(db);
	tu_rmdir(dir);
}

Test(ingest_bad, invalid_utf8)
{
	reject_one(EVP("\"distinct_id\":\"x\xff\",\"time\":1700000001"), "",
		   "UTF-8");
	reject_one(EVP("\"distinct_id\":\"\xc3\x28\",\"time\":1700000001"), "",
		   "UTF-8");
	/* In a property the engine does not read. */
	reject_one(EVP("\"distinct_id\":\"x\",\"time\":1700000001,"
		       "\"other\":\"\xe2\x82\""),
		   "", "UTF-8");
	/* An overlong encoding, a surrogate, and a lone continuation. */
	reject_one(EVP("\"distinct_id\":\"\xc0\xaf\",\"time\":1700000001"), "",
		   "UTF-8");
	reject_one(EVP("\"distinct_id\":\"\xed\xa0\x80\",\"time\":1700000001"),
		   "", "UTF-8");
	reject_one(EVP("\"distinct_id\":\"\x80\",\"time\":1700000001"), "",
		   "UTF-8");
	/* Valid multi-byte UTF-8 is an ordinary id. */
	accept_resolves(EVP("\"distinct_id\":\"J\xc3\xbcrgen \xe2\x82\xac "
			    "\xf0\x9f\x98\x80\",\"time\":1700000001"),
			"J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x98\x80", 16);
}

Test(ingest_bad, nul_byte)
{
	static const char in_string[] =
	    EVP("\"distinct_id\":\"x\0y\",\"time\":1700000001");
	static const char outside[] =
	    "{\"event\":\"e\",\0\"properties\":{\"distinct_id\":\"x\","
	    "\"time\":1700000001}}";
	static const char at_end[] =
	    EVP("\"distinct_id\":\"x\",\"time\":1700000001") "\0";

	reject_one_n(in_string, sizeof(in_string) - 1, "", "JSON");
	reject_one_n(outside, sizeof(outside) - 1, "", "JSON");
	reject_one_n(at_end, sizeof(at_end) - 1, "", "JSON");
	reject_one_n("\0", 1, "", "JSON");
}

Test(ingest_bad, control_characters_in_strings)
{
	reject_one(EVP("\"distinct_id\":\"a\tb\",\"time\":1700000001"), "",
		   "malformed JSON");
	reject_one(EVP("\"distinct_id\":\"a\x01"
		       "b\",\"time\":1700000001"),
		   "", "malformed JSON");
}

/* depth levels of [ ... ] around 1: head, the nest, tail. */
static char *
nested(const char *head, int depth, const char *tail)
{
	size_t h = strlen(head), t = strlen(tail);
	char *s = malloc(h + 2 * (size_t)depth + 1 + t + 1);

	cr_assert_not_null(s);
	memcpy(s, head, h);
	memset(s + h, '[', depth);
	s[h + depth] = '1';
	memset(s + h + depth + 1, ']', depth);
	memcpy(s + h + 2 * (size_t)depth + 1, tail, t + 1);
	return s;
}

#define DEEP_PROP                                                              \
	"{\"event\":\"e\",\"properties\":{\"distinct_id\":\"x\","              \
	"\"time\":1700000001,\"deep\":"

Test(ingest_bad, deeply_nested)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir);
	struct rejects rs = {0};
	struct idg_ingest_stats st;
	char *s, *buf;
	size_t n;

	/* Every value is read and kept as MessagePack, so nesting is
	 * bounded: over 29 levels the record is refused. */
	s = nested("{\"event\":", 100000,
		   ",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000001}}");
	reject_one(s, "", "nested more than 29 deep");
	free(s);
	s = nested("{\"event\":\"e\",\"properties\":{\"distinct_id\":", 100000,
		   ",\"time\":1700000001}}");
	reject_one(s, "", "nested more than 29 deep");
	free(s);
	/* A property value 29 lists deep is fine, 30 is not. */
	s = nested("{\"event\":\"e\",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000001,\"d\":",
		   29, "}}");
	st = ingest(db, s, strlen(s), &rs);
	cr_assert_eq(st.rejected, 0, "29 levels");
	free(s);
	s = nested("{\"event\":\"e\",\"properties\":{\"distinct_id\":\"x\","
		   "\"time\":1700000001,\"d\":",
		   30, "}}");
	st = ingest(db, s, strlen(s), &rs);
	cr_assert_eq(st.rejected, 1, "30 levels");
	free(s);
	rejects_free(&rs);
	rs = (struct rejects){0};
	/* An array line nested 100000 deep: one record, not an object. */
	s = nested("", 100000, "");
	st = ingest(db, s, strlen(s), &rs);
	cr_assert_eq(st.records, 1);
	cr_assert_eq(st.rejected, 1);
	cr_assert_eq(rs.r[0].in_array, 1);
	cr_assert_eq(rs.r[0].index, 0);
	cr_assert(contains_ci(rs.r[0].message, "not a JSON object"));
	/* The record is the element: the line without its outer [ ]. */
	cr_assert_eq(rs.r[0].raw_len, strlen(s) - 2);
	cr_assert(memcmp(rs.r[0].raw, s + 1, strlen(s) - 2) == 0);
	rejects_free(&rs);
	free(s);

	/* Moderate nesting in a property is an ordinary event. */
	s = nested(DEEP_PROP, 29, "}}");
	accept_resolves(s, "x", 1);
	free(s);

	/*
	 * Deep nesting in a property: valid JSON. Accepting it is allowed;
	 * if it is rejected, the message must say why. Either way nothing
	 * crashes and the neighbours are kept.
	 */
	s = nested(DEEP_PROP, 100000, "}}");
	n = strlen(s) + 2 * strlen(BEFORE) + 4;
	buf = malloc(n);
	cr_assert_not_null(buf);
	snprintf(buf, n, "%s\n%s\n%s\n", BEFORE, s, AFTER);
	st = ingest(db, buf, strlen(buf), &rs);
	cr_assert_eq(st.records, 3);
	cr_assert_geq(st.events, 2);
	if (rs.n)
		cr_assert(contains_ci(rs.r[0].message, "deep"), "%s",
			  rs.r[0].message);
	expect_found(db, "before");
	expect_found(db, "after");
	rejects_free(&rs);
	free(buf);
	free(s);
	idg_close(db);
	tu_rmdir(dir);
}

Test(ingest_bad, profile_update_rules)
{
	reject_one("{\"$distinct_id\":\"u1\",\"$token\":\"t\"}", "",
		   "needs an operator");
	reject_one("{\"$distinct_id\":\"null\",\"$set\":{\"a\":1}}",
		   "$distinct_id", "forbidden");
	reject_one("{\"$distinct_id\":\"\",\"$set\":{\"a\":1}}", "$distinct_id",
		   "empty");
	reject_one("{\"$distinct_id\":1.5,\"$set\":{\"a\":1}}", "$distinct_id",
		   "string or an integer");
	reject_one("{\"$distinct_id\":\"u1\",\"$set\":[1]}", "$set",
		   "needs an object");
	reject_one("{\"$distinct_id\":\"u1\",\"$set_once\":\"x\"}", "$set_once",
		   "needs an object");
	reject_one("{\"$distinct_id\":\"u1\",\"$add\":{\"n\":\"1\"}}", "$add",
		   "object of numbers");
	reject_one("{\"$distinct_id\":\"u1\",\"$union\":{\"l\":1}}", "$union",
		   "object of arrays");
	reject_one("{\"$distinct_id\":\"u1\",\"$unset\":[\"a\",1]}", "$unset",
		   "array of property names");
	reject_one("{\"$distinct_id\":\"u1\",\"$append\":null}", "$append",
		   "needs an object");
	reject_one("{\"$distinct_id\":\"u1\",\"$remove\":true}", "$remove",
		   "needs an object");
	reject_one("{\"$distinct_id\":\"u1\",\"$set\":{},\"$time\":\"x\"}",
		   "$time", "number");
	reject_one("{\"$distinct_id\":\"u1\",\"$set\":{},\"$time\":5}", "$time",
		   "1971");
	reject_one("{\"$distinct_id\":\"u1\",\"$set\":{},"
		   "\"$ignore_time\":\"yes\"}",
		   "$ignore_time", "true or false");
}

/* ------------------------------------------------------------------ */
/* Random garbage                                                      */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t
rng(void)
{
	/* xorshift64*: fixed seed, same sequence on every run. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1du) >> 32);
}

static const char *const seeds[] = {
    BEFORE,
    IDP("$identify", "\"distinct_id\":\"u\",\"$anon_distinct_id\":\"" D1 "\""),
    IDP("$create_alias", "\"distinct_id\":\"t\",\"alias\":\"a\""),
    IDP("$merge", "\"$distinct_ids\":[\"a\",\"b\"]"),
    EVP("\"distinct_id\":12345,\"time\":1700000001.5,\"$insert_id\":"
	"\"abc-1\",\"n\":[1,2.5,{\"k\":null}],\"s\":\"\\u00e9\\n\"}"),
    "[" BEFORE "," AFTER "]",
};

/* One line of random bytes or a mutated valid line, without '\n'. */
static size_t
garbage_line(char *out, size_t cap)
{
	size_t n, i;

	if (rng() % 2 == 0) {
		n = rng() % 200;
		for (i = 0; i < n; i++)
			out[i] = (char)(rng() % 256);
	} else {
		const char *s = seeds[rng() % (sizeof(seeds) / sizeof(*seeds))];
		int k, muts = 1 + (int)(rng() % 4);

		n = strlen(s);
		memcpy(out, s, n);
		for (k = 0; k < muts; k++) {
			size_t at = n ? rng() % n : 0;

			switch (rng() % 4) {
			case 0: /* flip a byte */
				if (n)
					out[at] = (char)(rng() % 256);
				break;
			case 1: /* truncate */
				n = at;
				break;
			case 2: /* delete a byte */
				if (n) {
					memmove(out + at, out + at + 1,
						n - at - 1);
					n--;
				}
				break;
			default: /* insert a structural byte */
				if (n + 1 < cap) {
					memmove(out + at + 1, out + at, n - at);
					out[at] = "{}[]\",:\\0-e."[rng() % 13];
					n++;
				}
			}
		}
	}
	for (i = 0; i < n; i++)
		if (out[i] == '\n')
			out[i] = ' ';
	return n;
}

static void
fuzz_check(idg_db *db, const char *buf, size_t len, int stream)
{
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct rejects rs = {0};
	struct idg_ingest_stats st;
	struct idg_info before, after;
	FILE *fp = NULL;
	int rc;

	io.on_reject = on_reject;
	io.user = &rs;
	cr_assert_eq(idg_info(db, &before), 0);
	if (stream) {
		fp = fmemopen((void *)buf, len, "r");
		cr_assert_not_null(fp);
		rc = idg_ingest_stream(db, fp, &io, &st);
		fclose(fp);
	} else {
		rc = idg_ingest_buffer(db, buf, len, &io, &st);
	}
	cr_assert_eq(rc, 0, "%d %s", rc, idg_errmsg(db));
	cr_assert_eq(st.records, st.rejected + st.events + st.profile_updates);
	cr_assert_eq((uint64_t)rs.n, st.rejected);
	cr_assert_gt(st.rejected, 1000);
	cr_assert_gt(st.events, 0);
	cr_assert_eq(idg_info(db, &after), 0);
	cr_assert_eq(after.records, before.records + st.events);
	cr_assert_eq(after.nodes, before.nodes + st.nodes_created);
	cr_assert_eq(st.bytes, len);
	rejects_free(&rs);
}

Test(ingest_bad, fuzz_random_lines)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir);
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	char line[1024];
	int i;

	cr_assert_not_null(mem);
	for (i = 0; i < 2000; i++) {
		size_t n = garbage_line(line, sizeof(line));

		fwrite(line, 1, n, mem);
		fputc('\n', mem);
		/* Valid lines now and then, so events > 0. */
		if (i % 100 == 0)
			fprintf(mem, "%s\n", AFTER);
	}
	cr_assert_eq(fclose(mem), 0);
	fuzz_check(db, buf, len, 0);
	fuzz_check(db, buf, len, 1);
	expect_found(db, "after");
	free(buf);
	idg_close(db);
	tu_rmdir(dir);
}
