/*
 * test_profiles.c — the People API through the public header: operators
 * as ingested, profiles following their clusters through merges, hidden
 * profiles, $delete, warnings, the Explore view, listing and export.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "idgraph.h"
#include "testutil.h"

#define D1 "6f1c3b1e-0000-4a1b-9c1d-000000000001"
#define D2 "6f1c3b1e-0000-4a1b-9c1d-000000000002"
#define T "1700000000"

static char *dir;
static idg_db *db;

static void
setup(void)
{
	struct idg_options o = IDG_OPTIONS_INIT;

	dir = tu_tmpdir();
	o.flags = IDG_OPEN_CREATE;
	cr_assert_eq(idg_open(&db, dir, &o), 0);
}

static void
teardown(void)
{
	idg_close(db);
	tu_rmdir(dir);
}

TestSuite(profiles, .init = setup, .fini = teardown);

/* Ingests the formatted records, none of which may be rejected. */
#define ingest(...) tu_ingestf(db, __VA_ARGS__)

/* The properties of id's active profile as JSON, or "none". */
static char *
props(const char *id)
{
	struct idg_profile p;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	idg_jw *jw;

	cr_assert_eq(idg_profile_get(db, id, strlen(id), &p), 0, "%s",
		     idg_errmsg(db));
	if (!p.properties)
		return strdup("none");
	fp = open_memstream(&buf, &len);
	jw = idg_jw_open(fp);
	idg_jw_msgpack(jw, p.properties, p.properties_len);
	cr_assert_eq(idg_jw_close(jw), 0);
	fclose(fp);
	return buf;
}

#define assert_props(id, want)                                                 \
	do {                                                                   \
		char *got_ = props(id);                                        \
		cr_assert_str_eq(got_, want);                                  \
		free(got_);                                                    \
	} while (0)

struct listing {
	int n, hidden;
	char ids[8][64];
};

static int
list_one(void *user, const struct idg_profile *p)
{
	struct listing *l = user;

	if (l->n < 8)
		snprintf(l->ids[l->n], 64, "%s%s", p->hidden ? "hidden:" : "",
			 p->stored_under);
	l->n++;
	l->hidden += p->hidden;
	return 0;
}

static struct listing
list(int hidden, const char *prop, const char *value)
{
	struct idg_profiles_opts o = {hidden, prop, value, 0};
	struct listing l = {0};

	cr_assert_eq(idg_profiles_foreach(db, &o, list_one, &l), 0);
	return l;
}

/* Updates without $last_seen noise: $ignore_time unless a test wants it. */
#define UPD(id, ops)                                                           \
	"{\"$distinct_id\":\"" id "\",\"$ignore_time\":true," ops "}\n"

Test(profiles, set_creates_and_overwrites)
{
	struct idg_ingest_stats st;

	st = ingest(UPD("u1", "\"$set\":{\"a\":1,\"b\":\"x\"}")
			UPD("u1", "\"$set\":{\"a\":2.5,\"c\":null}"));
	cr_assert_eq(st.profile_updates, 2);
	cr_assert_eq(st.profiles_created, 1);
	assert_props("u1", "{\"a\":2.5,\"b\":\"x\",\"c\":null}");
}

Test(profiles, set_once_keeps_existing)
{
	ingest(UPD("u1", "\"$set_once\":{\"a\":1}")
		   UPD("u1", "\"$set_once\":{\"a\":2,\"b\":3}"));
	assert_props("u1", "{\"a\":1,\"b\":3}");
}

Test(profiles, add_appends_union_remove_unset)
{
	struct idg_ingest_stats st;

	st = ingest(
	    UPD("u1", "\"$set\":{\"n\":1,\"s\":\"x\",\"l\":[1,\"1\",true]}")
		UPD("u1", "\"$add\":{\"n\":2,\"m\":1.5,\"s\":1}")
		    UPD("u1", "\"$append\":{\"l\":1,\"new\":[2],\"s\":3}") UPD(
			"u1", "\"$union\":{\"l\":[true,1.0,\"z\"],\"u\":[1,1]}")
			UPD("u1", "\"$remove\":{\"l\":1,\"missing\":1}")
			    UPD("u1", "\"$unset\":[\"m\",\"nope\"]"));
	cr_assert_eq(st.type_clashes, 2, "$add and $append on a string");
	cr_assert_eq(st.warnings, 2);
	assert_props("u1", "{\"n\":3,\"s\":\"x\",\"l\":[\"1\",true,1.0,\"z\"],"
			   "\"new\":[[2]],\"u\":[1]}");
}

Test(profiles, add_overflows_to_float)
{
	/* Past int64 but exact in uint64: still an integer. */
	ingest(UPD("u1", "\"$set\":{\"n\":9223372036854775807}")
		   UPD("u1", "\"$add\":{\"n\":1}"));
	assert_props("u1", "{\"n\":9223372036854775808}");
	/* Past 64 bits either way: a float. */
	ingest(UPD("u2", "\"$set\":{\"n\":18446744073709551615}")
		   UPD("u2", "\"$add\":{\"n\":1}"));
	assert_props("u2", "{\"n\":1.8446744073709552e+19}");
	ingest(UPD("u3", "\"$set\":{\"n\":-9223372036854775808}")
		   UPD("u3", "\"$add\":{\"n\":-1}"));
	assert_props("u3", "{\"n\":-9.223372036854776e+18}");
}

/* A sum no double holds (JSON has no form for infinities and NaN) leaves
 * the property as it was, missing included, and counts as a clash: once
 * stored as inf, exported as null in JSON and inf in MessagePack. */
Test(profiles, add_beyond_a_double_leaves_the_property)
{
	char big[400];
	struct idg_ingest_stats st;

	memset(big, '9', 330);
	big[330] = '\0';
	st = ingest(UPD("u1", "\"$add\":{\"x\":1e308}")
		    UPD("u1", "\"$add\":{\"x\":1e308}"));
	cr_assert_eq(st.type_clashes, 1);
	assert_props("u1", "{\"x\":1e+308}");
	st = ingest("{\"$distinct_id\":\"u2\",\"$add\":{\"y\":%s}}\n"
		    "{\"$distinct_id\":\"u2\",\"$set\":{\"z\":1}}\n"
		    "{\"$distinct_id\":\"u2\",\"$add\":{\"z\":-%s,"
		    "\"w\":2}}\n",
		    big, big);
	cr_assert_eq(st.type_clashes, 2, "y and z");
	assert_props("u2", "{\"z\":1,\"w\":2}");
}

Test(profiles, operators_apply_in_spec_order)
{
	/* $unset comes after $set whatever their order in the object. */
	ingest(UPD("u1", "\"$unset\":[\"a\"],\"$set\":{\"a\":1,\"b\":2}"));
	assert_props("u1", "{\"b\":2}");
	/* $add after $set_once: a missing n becomes 5 then 7. */
	ingest(UPD("u2", "\"$add\":{\"n\":2},\"$set_once\":{\"n\":5}"));
	assert_props("u2", "{\"n\":7}");
	/* $delete last: the profile made by $set is gone. */
	ingest(UPD("u3", "\"$delete\":\"\",\"$set\":{\"a\":1}"));
	assert_props("u3", "none");
}

Test(profiles, last_seen_from_time_in_seconds_or_ms)
{
	ingest("{\"$distinct_id\":\"s\",\"$time\":1700000000,\"$set\":{}}\n"
	       "{\"$distinct_id\":\"ms\",\"$time\":1700000000123,"
	       "\"$set\":{}}\n"
	       "{\"$distinct_id\":\"keep\",\"$time\":1700000000,"
	       "\"$ignore_time\":true,\"$set\":{}}\n"
	       "{\"$distinct_id\":\"s\",\"$time\":1700000000,"
	       "\"$unset\":[\"x\"]}\n");
	assert_props("s", "{\"$last_seen\":\"2023-11-14T22:13:20\"}");
	assert_props("ms", "{\"$last_seen\":\"2023-11-14T22:13:20\"}");
	assert_props("keep", "{}");
	/* Every field two digits (or four), with its zeros. */
	ingest("{\"$distinct_id\":\"z\",\"$time\":1704164645,\"$set\":{}}\n");
	assert_props("z", "{\"$last_seen\":\"2024-01-02T03:04:05\"}");
}

/* Without $time, an update is as of the records before it; before any
 * record there is no time, and no $last_seen (it once read the year
 * -292275055). */
Test(profiles, last_seen_without_time_follows_the_records_before)
{
	ingest("{\"$distinct_id\":\"first\",\"$set\":{\"a\":1}}\n");
	assert_props("first", "{\"a\":1}");
	ingest("{\"event\":\"e\",\"properties\":{\"distinct_id\":\"x\","
	       "\"time\":1704164645}}\n"
	       "{\"$distinct_id\":\"later\",\"$set\":{\"a\":1}}\n");
	assert_props("later",
		     "{\"a\":1,\"$last_seen\":\"2024-01-02T03:04:05\"}");
}

Test(profiles, unset_or_remove_create_nothing)
{
	ingest(UPD("u1", "\"$unset\":[\"a\"]")
		   UPD("u1", "\"$remove\":{\"l\":1}"));
	assert_props("u1", "none");
}

static void
identify(const char *user, const char *anon)
{
	ingest(
	    "{\"event\":\"$identify\",\"properties\":{\"distinct_id\":\"%s\","
	    "\"$anon_distinct_id\":\"%s\",\"time\":" T "}}\n",
	    user, anon);
}

Test(profiles, update_to_any_member_reaches_the_cluster)
{
	identify("U1", D1);
	ingest(UPD(D1, "\"$set\":{\"a\":1}") UPD("U1", "\"$set\":{\"b\":2}"));
	assert_props("U1", "{\"a\":1,\"b\":2}");
	assert_props(D1, "{\"a\":1,\"b\":2}");
	{
		struct idg_profile p;

		cr_assert_eq(idg_profile_get(db, D1, strlen(D1), &p), 0);
		cr_assert_str_eq(p.distinct_id, "U1");
		cr_assert_str_eq(p.stored_under, "U1");
		cr_assert_eq(p.nmembers, 2);
		cr_assert_str_eq(p.members[0], "U1");
		cr_assert_str_eq(p.members[1], D1);
	}
}

Test(profiles, merge_keeps_the_canonical_sides_profile)
{
	struct idg_profile p;

	ingest(UPD(D1, "\"$set\":{\"anon\":true}")
		   UPD("U1", "\"$set\":{\"user\":true}"));
	identify("U1", D1);
	assert_props(D1, "{\"user\":true}");
	cr_assert_eq(idg_profile_get(db, "U1", 2, &p), 0);
	cr_assert_str_eq(p.stored_under, "U1");
	/* The anonymous profile is hidden, not deleted. */
	cr_assert_eq(list(0, NULL, NULL).n, 1);
	cr_assert_eq(list(1, NULL, NULL).hidden, 1);
	cr_assert_str_eq(list(1, NULL, NULL).ids[0], "hidden:" D1);
}

Test(profiles, merge_moves_the_only_profile)
{
	ingest(UPD(D1, "\"$set\":{\"anon\":true}"));
	identify("U1", D1);
	assert_props("U1", "{\"anon\":true}");
	{
		struct idg_profile p;

		cr_assert_eq(idg_profile_get(db, "U1", 2, &p), 0);
		cr_assert_str_eq(p.distinct_id, "U1", "shown under canonical");
		cr_assert_str_eq(p.stored_under, D1);
	}
}

Test(profiles, merge_without_profiles_makes_none)
{
	identify("U1", D1);
	assert_props("U1", "none");
}

Test(profiles, chains_of_merges_hide_each_loser)
{
	struct listing l;

	ingest(UPD("U1", "\"$set\":{\"who\":1}") UPD(
	    "U2", "\"$set\":{\"who\":2}") UPD("X", "\"$set\":{\"who\":3}"));
	identify("U1", D1);
	ingest("{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":"
	       "[\"U1\",\"U2\"],\"time\":" T "}}\n"
	       "{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":"
	       "[\"X\",\"U1\"],\"time\":" T "}}\n");
	/* U1 was identified: the merges keep U1 canonical, so its profile. */
	assert_props("X", "{\"who\":1}");
	l = list(0, NULL, NULL);
	cr_assert_eq(l.n, 1);
	l = list(1, NULL, NULL);
	cr_assert_eq(l.n, 3);
	cr_assert_eq(l.hidden, 2);
}

Test(profiles, delete_and_delete_ignore_alias)
{
	struct idg_ingest_stats st;

	ingest(UPD(D1, "\"$set\":{\"anon\":true}")
		   UPD("U1", "\"$set\":{\"user\":true}"));
	identify("U1", D1);
	/* $delete with $ignore_alias removes exactly D1's (hidden) one. */
	st = ingest("{\"$distinct_id\":\"" D1 "\",\"$ignore_alias\":true,"
		    "\"$delete\":\"\"}\n");
	cr_assert_eq(st.profiles_deleted, 1);
	cr_assert_eq(list(1, NULL, NULL).n, 1);
	assert_props("U1", "{\"user\":true}");
	/* A plain $delete through D1 deletes the cluster's active one. */
	st = ingest("{\"$distinct_id\":\"" D1 "\",\"$delete\":null}\n");
	cr_assert_eq(st.profiles_deleted, 1);
	assert_props("U1", "none");
	cr_assert_eq(list(1, NULL, NULL).n, 0);
	/* Deleting again deletes nothing. */
	st = ingest("{\"$distinct_id\":\"U1\",\"$delete\":\"\"}\n");
	cr_assert_eq(st.profiles_deleted, 0);
}

Test(profiles, delete_ignore_alias_of_the_active_one)
{
	ingest(UPD("U1", "\"$set\":{\"a\":1}"));
	identify("U1", D1);
	ingest("{\"$distinct_id\":\"U1\",\"$ignore_alias\":true,"
	       "\"$delete\":\"\"}\n");
	assert_props(D1, "none");
	/* A new update makes a fresh profile under the canonical id. */
	ingest(UPD(D1, "\"$set\":{\"b\":2}"));
	assert_props("U1", "{\"b\":2}");
}

Test(profiles, fresh_profile_after_delete_keeps_hidden_ones)
{
	ingest(UPD("U1", "\"$set\":{\"old\":true}")
		   UPD("W", "\"$set\":{\"w\":true}"));
	identify("W", D1);
	identify("U1", D2);
	/* Both identified: $merge keeps the first listed's canonical (W). */
	ingest("{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":"
	       "[\"W\",\"U1\"],\"time\":" T "}}\n");
	assert_props("U1", "{\"w\":true}");
	/* Delete W's profile; the next update creates under canonical W. */
	ingest("{\"$distinct_id\":\"W\",\"$delete\":\"\"}\n");
	ingest(UPD("U1", "\"$set\":{\"n\":1}"));
	assert_props("U1", "{\"n\":1}");
	cr_assert_eq(list(1, NULL, NULL).hidden, 1, "U1's old profile");
}

Test(profiles, revives_hidden_profile_stored_under_canonical)
{
	struct idg_ingest_stats st;

	ingest(UPD("A", "\"$set\":{\"a\":1}") UPD("B", "\"$set\":{\"b\":1}"));
	ingest("{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":"
	       "[\"B\",\"A\"],\"time\":" T "}}\n");
	/* B keeps the canonical id and its profile; A's is hidden. */
	assert_props("A", "{\"b\":1}");
	/* A is identified: the unidentified canonical B gives way to A. */
	identify("A", D1);
	cr_assert_str_eq(list(0, NULL, NULL).ids[0], "B");
	/* Delete the active profile; the next update revives A's. */
	ingest("{\"$distinct_id\":\"A\",\"$delete\":\"\"}\n");
	st = ingest(UPD(D1, "\"$set\":{\"c\":1}"));
	cr_assert_eq(st.profiles_created, 0);
	assert_props("B", "{\"a\":1,\"c\":1}");
	cr_assert_eq(list(1, NULL, NULL).hidden, 0);
}

Test(profiles, warnings_for_anonymous_and_big_profiles)
{
	struct idg_ingest_stats st;
	char *buf = malloc(100000), *p = buf;
	int i;

	st = ingest(UPD(D1, "\"$set\":{\"a\":1}")
			UPD("$device:xyz", "\"$set\":{\"a\":1}")
			    UPD("named", "\"$set\":{\"a\":1}"));
	cr_assert_eq(st.anonymous_profiles, 2);
	p += sprintf(p, "{\"$distinct_id\":\"big\",\"$set\":{");
	for (i = 0; i < 2001; i++)
		p += sprintf(p, "%s\"p%d\":%d", i ? "," : "", i, i);
	p += sprintf(p, "}}\n");
	cr_assert_eq(idg_ingest_buffer(db, buf, (size_t)(p - buf), NULL, &st),
		     0);
	cr_assert_eq(st.big_profiles, 1);
	cr_assert_eq(st.warnings, 1);
	free(buf);
}

Test(profiles, identified_cluster_profile_is_not_anonymous)
{
	struct idg_ingest_stats st;

	identify("U1", D1);
	/* The canonical id is U1 anyway; and a device in an identified
	 * cluster is a known user. */
	st = ingest(UPD(D1, "\"$set\":{\"a\":1}"));
	cr_assert_eq(st.anonymous_profiles, 0);
}

Test(profiles, where_and_limit)
{
	struct idg_profiles_opts o = {0, NULL, NULL, 2};
	struct listing l = {0};

	ingest(UPD("a", "\"$set\":{\"plan\":\"pro\",\"age\":30}")
		   UPD("b", "\"$set\":{\"plan\":\"free\",\"age\":30.0}")
		       UPD("c", "\"$set\":{\"plan\":\"pro\",\"vip\":true}"));
	cr_assert_eq(list(0, "plan", "pro").n, 2);
	cr_assert_eq(list(0, "age", "30").n, 1, "30.0 is not 30");
	cr_assert_eq(list(0, "vip", "true").n, 1);
	cr_assert_eq(list(0, "nope", "x").n, 0);
	cr_assert_eq(idg_profiles_foreach(db, &o, list_one, &l), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.ids[0], "a");
}

Test(profiles, batch_engage_array_line)
{
	struct idg_ingest_stats st;

	st = ingest("[{\"$distinct_id\":\"a\",\"$set\":{\"x\":1}},"
		    "{\"$distinct_id\":\"b\",\"$set\":{\"x\":2}}]\n");
	cr_assert_eq(st.profile_updates, 2);
	cr_assert_eq(list(0, NULL, NULL).n, 2);
}

static char *
export_text(int hidden)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	uint64_t n;

	cr_assert_eq(idg_export_profiles(db, fp, IDG_FORMAT_JSONL, hidden, &n),
		     0);
	fclose(fp);
	return buf;
}

Test(profiles, export_shape_and_round_trip)
{
	char *out, *again;
	char *d2 = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	idg_db *other;

	ingest(UPD(D1, "\"$set\":{\"anon\":true}") UPD(
	    "U1", "\"$set\":{\"s\":\"\\u00e9\",\"n\":[1,{\"k\":null}],"
		  "\"big\":123456789012345678901}"));
	identify("U1", D1);
	out = export_text(0);
	cr_assert_str_eq(out, "{\"$distinct_id\":\"U1\",\"$properties\":{"
			      "\"s\":\"\xc3\xa9\",\"n\":[1,{\"k\":null}],"
			      "\"big\":123456789012345678901},"
			      "\"$distinct_ids\":[\"" D1 "\",\"U1\"]}\n");
	free(out);
	out = export_text(1);
	cr_assert(strstr(out, "\"$hidden\":true") != NULL);
	free(out);
	/* Round trip: the export, as $set updates, rebuilds the profile. */
	o.flags = IDG_OPEN_CREATE;
	cr_assert_eq(idg_open(&other, d2, &o), 0);
	{
		const char *upd =
		    "{\"$distinct_id\":\"U1\",\"$ignore_time\":true,\"$set\":{"
		    "\"s\":\"\xc3\xa9\",\"n\":[1,{\"k\":null}],"
		    "\"big\":123456789012345678901}}\n";

		cr_assert_eq(
		    idg_ingest_buffer(other, upd, strlen(upd), NULL, NULL), 0);
	}
	idg_close(db);
	db = other;
	again = export_text(0);
	cr_assert_str_eq(again, "{\"$distinct_id\":\"U1\",\"$properties\":{"
				"\"s\":\"\xc3\xa9\",\"n\":[1,{\"k\":null}],"
				"\"big\":123456789012345678901},"
				"\"$distinct_ids\":[\"U1\"]}\n");
	free(again);
	idg_close(db);
	tu_rmdir(d2);
	/* setup's database is gone; reopen one for teardown. */
	cr_assert_eq(idg_open(&db, dir, &o), 0);
}

Test(profiles, explore_view_of_an_id_without_profile)
{
	struct idg_profile p;

	identify("U1", D1);
	cr_assert_eq(idg_profile_get(db, D1, strlen(D1), &p), 0);
	cr_assert_null(p.properties);
	cr_assert_str_eq(p.distinct_id, "U1");
	cr_assert_eq(p.nmembers, 2);
	cr_assert_eq(idg_profile_get(db, "nobody", 6, &p), IDG_ENOTFOUND);
}

static void
pstr(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

Test(profiles, msgpack_updates_equal_json_ones)
{
	struct idg_ingest_stats st;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	/* {"$distinct_id":"u1","$ignore_time":true,"$set":{"a":1,"l":[1]},
	 *  "$add":{"n":2},"$append":{"l":"x"}} */
	msgpack_pack_map(&pk, 5);
	pstr(&pk, "$distinct_id");
	pstr(&pk, "u1");
	pstr(&pk, "$ignore_time");
	msgpack_pack_true(&pk);
	pstr(&pk, "$set");
	msgpack_pack_map(&pk, 2);
	pstr(&pk, "a");
	msgpack_pack_int(&pk, 1);
	pstr(&pk, "l");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_int(&pk, 1);
	pstr(&pk, "$add");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "n");
	msgpack_pack_int(&pk, 2);
	pstr(&pk, "$append");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "l");
	pstr(&pk, "x");
	/* {"$distinct_id":"u1","$add":{"n":"x"}}: rejected for its type */
	msgpack_pack_map(&pk, 2);
	pstr(&pk, "$distinct_id");
	pstr(&pk, "u1");
	pstr(&pk, "$add");
	msgpack_pack_map(&pk, 1);
	pstr(&pk, "n");
	pstr(&pk, "x");
	cr_assert_eq(idg_ingest_buffer(db, sb.data, sb.size, NULL, &st), 0);
	cr_assert_eq(st.profile_updates, 1);
	cr_assert_eq(st.rejected, 1);
	assert_props("u1", "{\"a\":1,\"l\":[1,\"x\"],\"n\":2}");
	msgpack_sbuffer_destroy(&sb);
}

Test(profiles, operators_before_a_properties_key_stay_in_json_and_msgpack)
{
	/* A "properties" key starts over only the fields read from
	 * properties: a $set before it still applies, in JSON as in
	 * MessagePack (JSON dropped it, and rejected the update). */
	const char *line =
	    "{\"$distinct_id\":\"u1\",\"$ignore_time\":true,"
	    "\"$set\":{\"a\":1},\"properties\":{\"x\":1}}\n";
	char *mp = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&mp, &len);
	struct idg_ingest_stats st;

	st = ingest("%s", line);
	cr_assert_eq(st.profile_updates, 1);
	assert_props("u1", "{\"a\":1}");
	cr_assert_not_null(fp);
	cr_assert_eq(idg_json_to_msgpack(
			 "{\"$distinct_id\":\"u2\",\"$ignore_time\":true,"
			 "\"$set\":{\"a\":2},\"properties\":{\"x\":1}}",
			 strlen(line) - 1, fp),
		     0);
	fclose(fp);
	cr_assert_eq(idg_ingest_buffer(db, mp, len, NULL, &st), 0);
	cr_assert_eq(st.rejected, 0);
	assert_props("u2", "{\"a\":2}");
	free(mp);
}
