/*
 * test_ingest_mp.c — bad MessagePack input never stops an ingest, and
 * what MessagePack can say but JSON cannot (bin and ext values, names that
 * are not strings, NaN) is refused with a message rather than stored.
 *
 * Each check ingests three values: a valid event of "before", the bad
 * value, a valid event of "after". The bad value must be the only rejected
 * record, reported as value 2; both neighbours must resolve, and the
 * events export must hold both of them.
 */
#define _GNU_SOURCE
#include "idgraph.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static idg_db *db;

static void
setup(void)
{
	struct idg_options o = IDG_OPTIONS_INIT;

	dir = tu_tmpdir();
	o.flags = IDG_OPEN_CREATE;
	o.durability = IDG_NOSYNC;
	cr_assert_eq(idg_open(&db, dir, &o), 0);
}

static void
teardown(void)
{
	idg_close(db);
	tu_rmdir(dir);
}

TestSuite(ingest_mp, .init = setup, .fini = teardown);

struct rej {
	int n;
	uint64_t value;
	char field[64];
	char message[256];
};

static int
on_reject(void *user, const struct idg_reject *r)
{
	struct rej *rj = user;

	if (rj->n++ == 0) {
		rj->value = r->line;
		snprintf(rj->field, sizeof(rj->field), "%s", r->field);
		snprintf(rj->message, sizeof(rj->message), "%s", r->message);
	}
	return 0;
}

static void
str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* {"event":"e","properties":{ and the name of its first property,
 * distinct_id: the caller packs the rest of its n properties. */
static void
event_head(msgpack_packer *pk, uint32_t n)
{
	msgpack_pack_map(pk, 2);
	str(pk, "event");
	str(pk, "e");
	str(pk, "properties");
	msgpack_pack_map(pk, n);
	str(pk, "distinct_id");
}

static void
time_at(msgpack_packer *pk, int t)
{
	str(pk, "time");
	msgpack_pack_int(pk, 1700000000 + t);
}

/* {"event":"e","properties":{"distinct_id":did,"time":t}} */
static void
event(msgpack_packer *pk, const char *did, int t)
{
	event_head(pk, 2);
	str(pk, did);
	time_at(pk, t);
}

/* An event of user "bad" whose property name holds what value packs. */
static void
event_with(msgpack_packer *pk, const char *name,
	   void (*value)(msgpack_packer *))
{
	event_head(pk, 3);
	str(pk, "bad");
	time_at(pk, 1);
	str(pk, name);
	value(pk);
}

/* A profile update of "p" whose operator op holds what value packs. */
static void
update_with(msgpack_packer *pk, const char *op,
	    void (*value)(msgpack_packer *))
{
	msgpack_pack_map(pk, 2);
	str(pk, "$distinct_id");
	str(pk, "p");
	str(pk, op);
	value(pk);
}

static int
exported_events(void)
{
	struct idg_export_opts eo = IDG_EXPORT_OPTS_INIT;
	char *buf = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&buf, &n);
	int lines = 0;

	cr_assert_eq(idg_export_events(db, fp, &eo, NULL), 0, "export: %s",
		     idg_errmsg(db));
	fclose(fp);
	for (size_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	free(buf);
	return lines;
}

static int
resolves(const char *id)
{
	struct idg_resolution r;

	return idg_resolve(db, id, strlen(id), IDG_NOW, IDG_VIEW_LIVE, &r) ==
	       0;
}

/* Ingests the first len bytes of sb as MessagePack, reporting rejects
 * to rj when it is not NULL. */
static struct idg_ingest_stats
ingest_packed(const msgpack_sbuffer *sb, size_t len, struct rej *rj)
{
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats st;

	io.format = IDG_FORMAT_MSGPACK;
	if (rj) {
		io.on_reject = on_reject;
		io.user = rj;
	}
	cr_assert_eq(idg_ingest_buffer(db, sb->data, len, &io, &st), 0,
		     "ingest: %s", idg_errmsg(db));
	return st;
}

/*
 * before, the value bad packs, after: exactly the bad value is rejected,
 * as value 2, with field and a message containing needle.
 */
static void
reject_one(void (*bad)(msgpack_packer *), const char *field,
	   const char *needle)
{
	struct idg_ingest_stats st;
	struct rej rj = {0};
	msgpack_sbuffer sb;
	msgpack_packer pk;

	teardown(); /* a fresh database */
	setup();
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	event(&pk, "before", 0);
	bad(&pk);
	event(&pk, "after", 2);
	st = ingest_packed(&sb, sb.size, &rj);
	cr_assert_eq(st.records, 3);
	cr_assert_eq(st.rejected, 1, "not rejected (%s)", needle);
	cr_assert_eq(rj.value, 2);
	cr_assert_str_eq(rj.field, field, "field %s, message %s", rj.field,
			 rj.message);
	cr_assert(strstr(rj.message, needle), "message \"%s\" lacks \"%s\"",
		  rj.message, needle);
	cr_assert(resolves("before"));
	cr_assert(resolves("after"));
	cr_assert_eq(exported_events(), 2);
	msgpack_sbuffer_destroy(&sb);
}

/* ---- ids that are not text ---- */

static void bin_bad(msgpack_packer *pk) { msgpack_pack_bin_with_body(pk, "bad", 3); }
static void bin_i1(msgpack_packer *pk) { msgpack_pack_bin_with_body(pk, "i1", 2); }

/* {"event":"e","properties":{"distinct_id": what did packs, "time":...}} */
static void
event_of(msgpack_packer *pk, void (*did)(msgpack_packer *))
{
	event_head(pk, 2);
	did(pk);
	time_at(pk, 1);
}

static void bin_did(msgpack_packer *pk) { event_of(pk, bin_bad); }
static void bin_insert_id(msgpack_packer *pk) { event_with(pk, "$insert_id", bin_i1); }

/* distinct_id as an ext value of type ext_type holding ext_body. */
static int8_t ext_type;
static const char *ext_body;

static void
ext_value_did(msgpack_packer *pk)
{
	msgpack_pack_ext_with_body(pk, ext_body, strlen(ext_body), ext_type);
}

static void
ext_did(msgpack_packer *pk, int8_t t, const char *s)
{
	ext_type = t;
	ext_body = s;
	event_of(pk, ext_value_did);
}

static void ext_empty(msgpack_packer *pk) { ext_did(pk, 1, ""); }
static void ext_other_type(msgpack_packer *pk) { ext_did(pk, 5, "123"); }
static void ext_not_digits(msgpack_packer *pk) { ext_did(pk, 1, "12a"); }
static void ext_leading_zero(msgpack_packer *pk) { ext_did(pk, 1, "007"); }
static void ext_lone_minus(msgpack_packer *pk) { ext_did(pk, 1, "-"); }

/* Bin is bytes, not text: an id of bin would be stored but never
 * exported (the bug: "event 2 is corrupt"). */
Test(ingest_mp, bin_ids_are_refused)
{
	reject_one(bin_did, "properties.distinct_id",
		   "distinct_id must be a string or an integer");
	reject_one(bin_insert_id, "properties.$insert_id",
		   "$insert_id must be a string");
}

/* Only a big integer's digits are an ext value idgraph reads; the empty
 * one once reached memcmp as a null pointer. */
Test(ingest_mp, ext_ids_other_than_big_integers_are_refused)
{
	const char *m = "properties.distinct_id: a MessagePack ext value "
			"other than a big integer's digits";

	reject_one(ext_empty, "", m);
	reject_one(ext_other_type, "", m);
	reject_one(ext_not_digits, "", m);
	reject_one(ext_leading_zero, "", m);
	reject_one(ext_lone_minus, "", m);
}

Test(ingest_mp, a_big_integer_id_is_its_digits)
{
	const char *digits = "-123456789012345678901234567890";
	struct idg_ingest_stats st;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	ext_did(&pk, 1, digits);
	st = ingest_packed(&sb, sb.size, NULL);
	cr_assert_eq(st.events, 1);
	cr_assert(resolves(digits));
	cr_assert_eq(exported_events(), 1);
	msgpack_sbuffer_destroy(&sb);
}

/* A big integer's digits that fit 64 bits are that integer, as JSON
 * would have read them: "-0" is the forbidden id 0 (it was kept as "-0",
 * which exported as JSON that no longer ingested), and a time is a time
 * (it was "more than one hour after the wall clock"). */
static void ext_minus_zero(msgpack_packer *pk) { ext_did(pk, 1, "-0"); }

static void
ext_time(msgpack_packer *pk)
{
	event_head(pk, 2);
	str(pk, "u-time");
	str(pk, "time");
	msgpack_pack_ext_with_body(pk, "1704067200", 10, 1);
}

Test(ingest_mp, a_big_integer_that_fits_64_bits_is_that_integer)
{
	const char *ids[] = {"18446744073709551615", "-9223372036854775808",
			     "9223372036854775807", "7"};
	struct idg_ingest_stats st;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char *out = NULL;
	size_t len = 0;
	struct idg_export_opts eo = IDG_EXPORT_OPTS_INIT;
	FILE *fp;

	reject_one(ext_minus_zero, "properties.distinct_id",
		   "forbidden value: \"0\"");
	teardown();
	setup();
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		ext_did(&pk, 1, ids[i]);
	ext_time(&pk);
	st = ingest_packed(&sb, sb.size, NULL);
	cr_assert_eq(st.events, 5);
	cr_assert_eq(st.rejected, 0);
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		cr_assert(resolves(ids[i]), "%s", ids[i]);
	fp = open_memstream(&out, &len);
	eo.event = NULL;
	cr_assert_eq(idg_export_events(db, fp, &eo, NULL), 0);
	fclose(fp);
	cr_assert(strstr(out, "\"time\":1704067200}"), "%s", out);
	free(out);
	msgpack_sbuffer_destroy(&sb);
}

/* Integer ids read as their decimal text: once a ring of 12 texts, so
 * that the 13th integer of a record overwrote the first's. */
Test(ingest_mp, every_integer_id_of_a_record_keeps_its_text)
{
	const char *names[] = {"$identified_id", "$anon_id",
			       "$anon_distinct_id", "alias", "$user_id",
			       "$device_id"};
	struct idg_ingest_stats st;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	str(&pk, "event");
	str(&pk, "Purchase");
	str(&pk, "$time");
	msgpack_pack_int(&pk, 1);
	str(&pk, "$ignore_time");
	msgpack_pack_int(&pk, 2);
	str(&pk, "$ignore_alias");
	msgpack_pack_int(&pk, 3);
	str(&pk, "properties");
	msgpack_pack_map(&pk, 3 + 6 + 3);
	str(&pk, "distinct_id");
	msgpack_pack_int(&pk, 424242);
	str(&pk, "time");
	msgpack_pack_int(&pk, 1700000000);
	for (int i = 0; i < 6; i++) {
		str(&pk, names[i]);
		msgpack_pack_int(&pk, 10 + i);
	}
	/* time again, three times over: each reads the integer anew. */
	for (int i = 0; i < 3; i++) {
		str(&pk, "time");
		msgpack_pack_int(&pk, 1700000000);
	}
	str(&pk, "$distinct_ids");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int(&pk, 20);
	msgpack_pack_int(&pk, 21);
	st = ingest_packed(&sb, sb.size, NULL);
	cr_assert_eq(st.events, 1);
	cr_assert(resolves("424242"), "the id lost its text");
	msgpack_sbuffer_destroy(&sb);
}

/* ---- values JSON cannot carry ---- */

static void
int_key_map(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	msgpack_pack_int(pk, 1);
	msgpack_pack_int(pk, 2);
}

static void
nested_int_key(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	str(pk, "a");
	int_key_map(pk);
}

static void
int_key_list(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	int_key_map(pk);
}

static void nan_value(msgpack_packer *pk) { msgpack_pack_double(pk, NAN); }
static void inf_value(msgpack_packer *pk) { msgpack_pack_float(pk, -INFINITY); }

static void
nan_map(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	str(pk, "a");
	nan_value(pk);
}

static void
ext_value(msgpack_packer *pk)
{
	msgpack_pack_ext_with_body(pk, "\x01\x02", 2, -1);
}

static void p_int_key(msgpack_packer *pk) { event_with(pk, "x", nested_int_key); }
static void p_nan(msgpack_packer *pk) { event_with(pk, "x", nan_value); }
static void p_inf(msgpack_packer *pk) { event_with(pk, "x", inf_value); }
static void p_ext(msgpack_packer *pk) { event_with(pk, "x", ext_value); }
static void set_int_key(msgpack_packer *pk) { update_with(pk, "$set", int_key_map); }
static void add_int_key(msgpack_packer *pk) { update_with(pk, "$add", int_key_map); }
static void union_int_key(msgpack_packer *pk) { update_with(pk, "$union", int_key_map); }
static void append_int_key(msgpack_packer *pk) { update_with(pk, "$append", nested_int_key); }
static void set_once_list(msgpack_packer *pk) { update_with(pk, "$set_once", int_key_list); }
static void set_nan(msgpack_packer *pk) { update_with(pk, "$set", nan_map); }

/* A name that is not a string in a profile operator once failed the
 * whole ingest ("updating a profile failed"), every time it was tried. */
Test(ingest_mp, names_that_are_not_strings_are_refused)
{
	reject_one(p_int_key, "", "properties.x: names in objects must be "
				  "strings");
	reject_one(set_int_key, "", "$set: names in objects must be strings");
	reject_one(add_int_key, "", "$add: names in objects must be strings");
	reject_one(union_int_key, "",
		   "$union: names in objects must be strings");
	reject_one(append_int_key, "",
		   "$append: names in objects must be strings");
	reject_one(set_once_list, "",
		   "$set_once: names in objects must be strings");
}

Test(ingest_mp, nan_infinities_and_other_ext_values_are_refused)
{
	reject_one(p_nan, "", "properties.x: NaN and infinities");
	reject_one(p_inf, "", "properties.x: NaN and infinities");
	reject_one(set_nan, "", "$set: NaN and infinities");
	reject_one(p_ext, "", "properties.x: a MessagePack ext value");
}

/* ---- the bytes of a rejected element of a list ---- */

struct raw_rej {
	char raw[256];
	size_t len;
	uint32_t index;
};

static int
keep_raw(void *user, const struct idg_reject *r)
{
	struct raw_rej *k = user;

	cr_assert_lt(r->raw_len, sizeof k->raw);
	memcpy(k->raw, r->raw, r->raw_len);
	k->len = r->raw_len;
	k->index = r->index;
	return 0;
}

/* A rejected element of a list is handed over as its own bytes, as sent:
 * they were msgpack-c's re-encoding (a uint8 5 came back as a fixint, a
 * str16 as a fixstr), which the rejects file then held. */
Test(ingest_mp, a_rejected_element_keeps_its_bytes)
{
	/* [{"event":"e","properties":{"distinct_id":"ok","time":T}},
	 *  {"event":"e","properties":{"distinct_id": str16 "anon",
	 *   "n": uint8 5, "time":T}}] */
	static const unsigned char bad[] = {
	    0x82, 0xa5, 'e', 'v', 'e', 'n', 't', 0xa1, 'e', 0xaa, 'p', 'r',
	    'o', 'p', 'e', 'r', 't', 'i', 'e', 's', 0x83, 0xab, 'd', 'i', 's',
	    't', 'i', 'n', 'c', 't', '_', 'i', 'd', 0xda, 0x00, 0x04, 'a',
	    'n', 'o', 'n', 0xa1, 'n', 0xcc, 0x05, 0xa4, 't', 'i', 'm', 'e',
	    0xce, 0x65, 0x53, 0xf1, 0x00};
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats st;
	struct raw_rej k = {0};
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	event(&pk, "ok", 0);
	msgpack_sbuffer_write(&sb, (const char *)bad, sizeof bad);
	io.format = IDG_FORMAT_MSGPACK;
	io.on_reject = keep_raw;
	io.user = &k;
	cr_assert_eq(idg_ingest_buffer(db, sb.data, sb.size, &io, &st), 0);
	cr_assert_eq(st.rejected, 1, "\"anon\" is forbidden");
	cr_assert_eq(k.index, 1);
	cr_assert_eq(k.len, sizeof bad);
	cr_assert(memcmp(k.raw, bad, sizeof bad) == 0, "not the sent bytes");
	msgpack_sbuffer_destroy(&sb);
}

/* ---- file memory ---- */

static int
stop_at_once(void *user, const struct idg_progress *p)
{
	(void)user;
	(void)p;
	return 1;
}

/* A MessagePack file's progress is counted in values, not lines. */
Test(ingest_mp, a_partly_ingested_file_counts_values)
{
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_options o = IDG_OPTIONS_INIT;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char *path;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	for (int i = 0; i < 5; i++)
		event(&pk, "u", i);
	path = tu_write_file(dir, "in.mp", sb.data, sb.size);
	idg_close(db);
	o.batch_size = 2;
	cr_assert_eq(idg_open(&db, dir, &o), 0);
	io.on_progress = stop_at_once;
	cr_assert_eq(idg_ingest_file(db, path, &io, NULL), IDG_ESTOPPED);
	io.on_progress = NULL;
	cr_assert_eq(idg_ingest_file(db, path, &io, NULL), IDG_EPARTIAL);
	cr_assert(strstr(idg_errmsg(db), "(2 values committed)"), "%s",
		  idg_errmsg(db));
	free(path);
	msgpack_sbuffer_destroy(&sb);
}

/* ---- invalid UTF-8: rejected, as in JSON, never altered ---- */

/* "a\xffb", "\xe2\x82" (cut short), "\xc0\xaf" (overlong): not UTF-8. */
static const char *bad_text = "a\xff" "b";

static void bad_str(msgpack_packer *pk) { str(pk, bad_text); }

static void
bad_in_list(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 2);
	str(pk, "ok");
	str(pk, bad_text);
}

static void
bad_name_map(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	str(pk, bad_text);
	msgpack_pack_int(pk, 1);
}

static void
bad_bin(msgpack_packer *pk)
{
	msgpack_pack_bin_with_body(pk, bad_text, strlen(bad_text));
}

static void u_bin(msgpack_packer *pk) { event_with(pk, "x", bad_bin); }
static void u_did(msgpack_packer *pk) { event_of(pk, bad_str); }
static void u_value(msgpack_packer *pk) { event_with(pk, "x", bad_str); }
static void u_nested(msgpack_packer *pk) { event_with(pk, "x", bad_in_list); }
static void u_nested_name(msgpack_packer *pk) { event_with(pk, "x", bad_name_map); }
static void u_name(msgpack_packer *pk) { event_with(pk, bad_text, bad_in_list); }
static void u_set(msgpack_packer *pk) { update_with(pk, "$set", bad_name_map); }
static void u_union(msgpack_packer *pk) { update_with(pk, "$union", bad_in_list); }

static void
u_event_name(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 2);
	str(pk, "event");
	str(pk, bad_text);
	str(pk, "properties");
	msgpack_pack_map(pk, 2);
	str(pk, "distinct_id");
	str(pk, "bad");
	time_at(pk, 1);
}

/* A top-level name or value nothing reads: a JSON line holding it is
 * rejected whole, so is this. */
static void
u_top(msgpack_packer *pk, int in_key)
{
	msgpack_pack_map(pk, 3);
	str(pk, "event");
	str(pk, "e");
	str(pk, "properties");
	msgpack_pack_map(pk, 2);
	str(pk, "distinct_id");
	str(pk, "bad");
	time_at(pk, 1);
	str(pk, in_key ? bad_text : "junk");
	bad_in_list(pk);
}

static void u_top_key(msgpack_packer *pk) { u_top(pk, 1); }
static void u_top_value(msgpack_packer *pk) { u_top(pk, 0); }

static void
u_profile_id(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 2);
	str(pk, "$distinct_id");
	str(pk, bad_text);
	str(pk, "$set");
	msgpack_pack_map(pk, 0);
}

/* JSON input with these bytes is rejected (simdjson validates it); the
 * same in MessagePack was stored, then exported as U+FFFD. */
Test(ingest_mp, invalid_utf8_is_refused_anywhere)
{
	static const char *const texts[] = {"a\xff" "b", "\xe2\x82",
					    "\xc0\xaf", "ok \xed\xa0\x80"};

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		bad_text = texts[i];
		reject_one(u_did, "", "properties.distinct_id: invalid UTF-8");
		reject_one(u_value, "", "properties.x: invalid UTF-8");
		reject_one(u_nested, "", "properties.x: invalid UTF-8");
		reject_one(u_nested_name, "",
			   "properties.x: invalid UTF-8 in a name");
		reject_one(u_name, "", "invalid UTF-8 in a property name");
		reject_one(u_event_name, "", "event: invalid UTF-8");
		reject_one(u_profile_id, "", "$distinct_id: invalid UTF-8");
		reject_one(u_set, "", "$set: invalid UTF-8 in a name");
		reject_one(u_union, "", "$union: invalid UTF-8");
		reject_one(u_bin, "", "properties.x: bytes (bin) that are "
				      "not UTF-8 text have no JSON form");
		reject_one(u_top_key, "", "invalid UTF-8 in a name");
		reject_one(u_top_value, "", "junk: invalid UTF-8");
	}
	/* Bad bytes first, in the middle and last of strings long enough
	 * for the 8-byte words and the overlapping last word. */
	{
		static const size_t lens[] = {8, 9, 15, 16, 17, 24, 33};
		char buf[40];

		for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
			size_t n = lens[l], at[] = {0, n / 2, n - 1};

			for (size_t k = 0; k < 3; k++) {
				memset(buf, 'a', n);
				buf[n] = '\0';
				buf[at[k]] = (char)0xff;
				bad_text = buf;
				reject_one(u_value, "",
					   "properties.x: invalid UTF-8");
			}
		}
	}
	/* Valid UTF-8 beyond ASCII, of every length, is kept. */
	bad_text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	teardown();
	setup();
	{
		msgpack_sbuffer sb;
		msgpack_packer pk;
		struct rej rj = {0};

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		u_value(&pk);
		u_nested_name(&pk);
		u_bin(&pk); /* bin of text: exported as that string */
		event(&pk, bad_text, 3);
		cr_assert_eq(ingest_packed(&sb, sb.size, &rj).rejected, 0,
			     "%s", rj.message);
		cr_assert(resolves(bad_text));
		msgpack_sbuffer_destroy(&sb);
	}
}

/* ---- nesting: the same limit as JSON's ---- */

static int depth;

static void
lists(msgpack_packer *pk)
{
	for (int i = 0; i < depth; i++)
		msgpack_pack_array(pk, i + 1 < depth ? 1 : 0);
}

static void p_deep(msgpack_packer *pk) { event_with(pk, "d", lists); }

/* 29 lists inside a property are an event, 30 are refused, as in JSON
 * (test_ingest_bad.c), so that every event read from MessagePack
 * exports as JSON that ingests again. */
Test(ingest_mp, lists_nested_as_deep_as_json_allows)
{
	struct idg_ingest_stats st;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	depth = 30;
	reject_one(p_deep, "", "properties.d: lists and objects nested more "
			       "than 29 deep");
	depth = 29;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	p_deep(&pk);
	st = ingest_packed(&sb, sb.size, NULL);
	cr_assert_eq(st.rejected, 0);
	cr_assert(resolves("bad"));
	msgpack_sbuffer_destroy(&sb);
}

/* Deeper than msgpack-c's stack of 32, which refuses such a value as if
 * out of memory: the value is found to its end and rejected, and the
 * values after it are read (once the rest of the stream was lost). */
static void
event_in_lists(msgpack_packer *pk)
{
	for (int i = 0; i < depth; i++)
		msgpack_pack_array(pk, 1);
	event(pk, "inside", 1);
}

Test(ingest_mp, values_deeper_than_msgpack_c_reads_are_rejected_alone)
{
	depth = 33;
	reject_one(p_deep, "", "nested more than 29 deep");
	depth = 40;
	reject_one(event_in_lists, "", "nested more than 29 deep");
	depth = 100000;
	reject_one(p_deep, "", "nested more than 29 deep");
}

/* From a stream, a deep value larger than one read (1 MiB) is waited for
 * to its end; one cut short by the end of the input is truncated. */
Test(ingest_mp, a_deep_value_across_reads_and_at_the_end)
{
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct idg_ingest_stats st;
	struct rej rj = {0};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t cut;
	FILE *fp;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	event(&pk, "before", 0);
	depth = 3000000;
	cut = sb.size + depth / 2;
	p_deep(&pk);
	event(&pk, "after", 2);
	cr_assert_gt(sb.size, 2u << 20);
	fp = fmemopen(sb.data, sb.size, "r");
	cr_assert_not_null(fp);
	io.format = IDG_FORMAT_MSGPACK;
	io.on_reject = on_reject;
	io.user = &rj;
	cr_assert_eq(idg_ingest_stream(db, fp, &io, &st), 0, "%s",
		     idg_errmsg(db));
	fclose(fp);
	cr_assert_eq(st.records, 3);
	cr_assert_eq(st.rejected, 1);
	cr_assert_eq(rj.value, 2);
	cr_assert(strstr(rj.message, "nested more than 29 deep"), "%s",
		  rj.message);
	cr_assert(resolves("before"));
	cr_assert(resolves("after"));

	/* Cut in the middle of the deep value: it is truncated. */
	rj = (struct rej){0};
	st = ingest_packed(&sb, cut, &rj);
	cr_assert_eq(st.records, 2);
	cr_assert_eq(st.rejected, 1);
	cr_assert(strstr(rj.message, "truncated"), "%s", rj.message);
	msgpack_sbuffer_destroy(&sb);
}

/* A list of records with one too deep: only that element is rejected,
 * as in a JSON array line (once the whole list was). */
Test(ingest_mp, a_deep_record_in_a_list_is_rejected_alone)
{
	struct idg_ingest_stats st;
	struct rej rj = {0};
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	event(&pk, "before", 0);
	depth = 40;
	p_deep(&pk);
	event(&pk, "after", 2);
	st = ingest_packed(&sb, sb.size, &rj);
	cr_assert_eq(st.records, 3);
	cr_assert_eq(st.rejected, 1);
	cr_assert(strstr(rj.message, "nested more than 29 deep"), "%s",
		  rj.message);
	cr_assert(resolves("before"));
	cr_assert(resolves("after"));
	msgpack_sbuffer_destroy(&sb);
}
