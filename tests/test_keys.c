/*
 * test_keys.c — the property-name dictionary (engine/keys.c) and event
 * bodies whose property names are numbers: interning and lookups, another
 * handle's names picked up by a sync, the limits past which names stay
 * text, and bodies written and read back with numbered names.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_msgpack.h"
#include "idgraph.h"
#include "keys.h"
#include "storefx.h"
#include "testutil.h"

#define S storefx

static struct idg__keys *k;

static void
setup(void)
{
	fx_setup();
	k = idg__keys_new();
	cr_assert_not_null(k);
	cr_assert_eq(idg__keys_sync(k, S.t, &S.e), IDG_OK, "%s", S.e.msg);
}

static void
teardown(void)
{
	idg__keys_free(k);
	fx_teardown();
}

TestSuite(keys, .init = setup, .fini = teardown);

static uint32_t
intern(struct idg__keys *d, const char *s)
{
	uint32_t num = 99;

	cr_assert_eq(idg__keys_intern(d, S.t, s, strlen(s), &num, &S.e),
		     IDG_OK, "%s", S.e.msg);
	return num;
}

static void
assert_name(const struct idg__keys *d, uint32_t num, const char *want)
{
	const char *s;
	size_t n;

	cr_assert_eq(idg__keys_name(d, num, &s, &n), 0, "number %u", num);
	cr_assert_eq(n, strlen(want));
	cr_assert_eq(memcmp(s, want, n), 0, "number %u", num);
}

Test(keys, names_get_numbers_from_one_and_keep_them)
{
	const char *s;
	size_t n;

	cr_assert_eq(idg__keys_find(k, "$browser", 8), 0);
	cr_assert_eq(intern(k, "$browser"), 1);
	cr_assert_eq(intern(k, "$os"), 2);
	cr_assert_eq(intern(k, ""), 3);
	cr_assert_eq(intern(k, "$browser"), 1);
	cr_assert_eq(idg__keys_find(k, "$os", 3), 2);
	cr_assert_eq(idg__keys_find(k, "$o", 2), 0);
	assert_name(k, 1, "$browser");
	assert_name(k, 3, "");
	cr_assert_eq(idg__keys_name(k, 0, &s, &n), -1);
	cr_assert_eq(idg__keys_name(k, 4, &s, &n), -1);
}

Test(keys, many_names_survive_the_tables_growth)
{
	char name[32];

	for (uint32_t i = 1; i <= 5000; i++) {
		snprintf(name, sizeof(name), "prop_%u", i);
		cr_assert_eq(intern(k, name), i);
	}
	for (uint32_t i = 1; i <= 5000; i += 7) {
		snprintf(name, sizeof(name), "prop_%u", i);
		cr_assert_eq(idg__keys_find(k, name, strlen(name)), i);
		assert_name(k, i, name);
	}
}

Test(keys, a_sync_loads_the_names_another_handle_added)
{
	struct idg__keys *other = idg__keys_new();

	cr_assert_eq(idg__keys_sync(other, S.t, &S.e), IDG_OK);
	cr_assert_eq(intern(k, "a"), 1);
	cr_assert_eq(intern(k, "b"), 2);
	/* other has not seen them: a sync brings them in, in order. */
	cr_assert_eq(idg__keys_find(other, "b", 1), 0);
	cr_assert_eq(idg__keys_sync(other, S.t, &S.e), IDG_OK, "%s", S.e.msg);
	cr_assert_eq(idg__keys_find(other, "b", 1), 2);
	cr_assert_eq(intern(other, "c"), 3);
	cr_assert_eq(idg__keys_sync(k, S.t, &S.e), IDG_OK);
	cr_assert_eq(intern(k, "c"), 3);
	cr_assert_eq(intern(k, "d"), 4);
	/* A cleared dictionary (a failed batch) reloads what is stored. */
	idg__keys_clear(other);
	cr_assert_eq(idg__keys_find(other, "a", 1), 0);
	cr_assert_eq(idg__keys_sync(other, S.t, &S.e), IDG_OK);
	assert_name(other, 4, "d");
	idg__keys_free(other);
}

Test(keys, long_names_and_names_past_the_limit_stay_text)
{
	char name[IDG__KEY_MAX_LEN + 2];

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	cr_assert_eq(intern(k, name), 0, "%zu bytes", strlen(name));
	name[IDG__KEY_MAX_LEN] = '\0';
	cr_assert_eq(intern(k, name), 1, "%zu bytes", strlen(name));
	for (uint32_t i = 2; i <= IDG__KEYS_MAX; i++) {
		snprintf(name, sizeof(name), "%u", i);
		cr_assert_eq(intern(k, name), i);
	}
	cr_assert_eq(intern(k, "one too many"), 0);
	cr_assert_eq(intern(k, "2"), 2, "known names keep their numbers");
}

/* keys_is compares a name with the name of a number: by length, then by
 * the bytes, which it reads in different ways for 1-3, 4-7, 8-16 and
 * longer names. A difference in the first, a middle or the last byte, or
 * one byte less, is another name. */
Test(keys, a_number_is_its_own_name_and_no_other)
{
	char name[40][41], other[41];
	uint32_t num[40];

	for (int len = 1; len <= 40; len++) {
		for (int i = 0; i < len; i++)
			name[len - 1][i] = (char)('a' + (i * 7 + len) % 26);
		name[len - 1][len] = '\0';
		num[len - 1] = intern(k, name[len - 1]);
	}
	for (int len = 1; len <= 40; len++) {
		const char *s = name[len - 1];
		uint32_t n = num[len - 1];
		int at[] = {0, len / 2, len - 1};

		cr_assert(idg__keys_is(k, n, s, (size_t)len), "length %d", len);
		cr_assert_not(idg__keys_is(k, n, s, (size_t)len - 1),
			      "length %d, one byte less", len);
		cr_assert_not(idg__keys_is(k, n == 1 ? 2 : n - 1, s,
					   (size_t)len),
			      "length %d, another number", len);
		for (int j = 0; j < 3; j++) {
			memcpy(other, s, (size_t)len + 1);
			other[at[j]] = 'A';
			cr_assert_not(idg__keys_is(k, n, other, (size_t)len),
				      "length %d, byte %d changed", len,
				      at[j]);
		}
	}
	cr_assert_not(idg__keys_is(k, 0, "a", 1), "0 is no number");
	cr_assert_not(idg__keys_is(k, 41, "a", 1), "41 is not known yet");
}

/* ---- bodies with numbered names ---- */

/* A props map of string names written as the parsers write it. */
static const void *
props_of(struct idg__mpw *w, const char *const *names, int n,
	 const struct idg__pkey **pk, size_t *len)
{
	uint32_t count;
	size_t at;

	idg__mpw_reset(w);
	at = idg__mpw_map_begin(w);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(idg__mpw_prop_key(w, at, names[i],
					       strlen(names[i])),
			     IDG_OK);
		/* A nested map's names are not top-level names. */
		if (i == 1) {
			size_t in = idg__mpw_map_begin(w);

			idg__mpw_str(w, "inner", 5);
			idg__mpw_int(w, -1);
			idg__mpw_map_end(w, in, 1);
		} else {
			idg__mpw_str(w, names[i], strlen(names[i]));
		}
	}
	idg__mpw_map_end(w, at, (uint32_t)n);
	*pk = idg__mpw_pkeys(w, &count);
	cr_assert_eq(count, (uint32_t)n);
	return idg__mpw_data(w, len);
}

static char *
body_json(const struct idg__keys *d, const void *data, size_t len, int *rc)
{
	struct idg__body b;
	char *buf = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&buf, &n);
	idg_jw *jw = idg_jw_open(fp);
	struct idg__mpdec *dec = idg__mpdec_new();

	cr_assert_not_null(dec);
	*rc = idg__body_decode(dec, data, len, d, &b);
	if (*rc == IDG_OK)
		*rc = idg__event_write_json(jw, dec, d, "E", 1, &b, "u", 1);
	idg__mpdec_free(dec);
	idg_jw_close(jw);
	fclose(fp);
	return buf;
}

/* The body bw holds, read back through dictionary d (NULL: none), is the
 * export want. */
static void
expect_body(const struct idg__mpw *bw, const struct idg__keys *d,
	    const char *want)
{
	struct idg__keys *empty = d ? NULL : idg__keys_new();
	const void *data;
	size_t len;
	char *json;
	int rc;

	data = idg__mpw_data(bw, &len);
	json = body_json(d ? d : empty, data, len, &rc);
	cr_assert_eq(rc, IDG_OK);
	cr_assert_str_eq(json, want);
	free(json);
	idg__keys_free(empty);
}

Test(keys, a_body_with_numbered_names_reads_back_as_its_text)
{
	const char *names[] = {"distinct_id", "nested", "$insert_id",
			       "plain"};
	struct idg__mpw *pw = idg__mpw_new(), *bw = idg__mpw_new();
	const struct idg__pkey *pk;
	struct idg__body b = {0};
	uint32_t nums[4];
	const void *data;
	size_t len;
	char *json;
	int rc;

	b.props = props_of(pw, names, 4, &pk, &b.props_len);
	b.name = 1;
	b.time_ms = 1000;
	b.did = "distinct_id";
	b.did_len = 11;
	b.did_in_props = 1;
	b.ins = "$insert_id";
	b.ins_len = 10;
	b.ins_in_props = 1;
	b.pkeys = pk;
	b.npkeys = 4;
	nums[0] = intern(k, "distinct_id");
	nums[1] = intern(k, "nested");
	nums[2] = intern(k, "$insert_id");
	nums[3] = 0; /* "plain" stays text */
	cr_assert_eq(idg__body_encode(bw, &b, nums, NULL, 0, k), IDG_OK);
	expect_body(bw, k,
		    "{\"event\":\"E\",\"properties\":{\"distinct_id\":"
		    "\"u\",\"$distinct_id_before_identity\":"
		    "\"distinct_id\",\"nested\":{\"inner\":-1},"
		    "\"$insert_id\":\"$insert_id\",\"plain\":\"plain\"}}");
	data = idg__mpw_data(bw, &len);
	/* Numbered names are shorter than their text. */
	cr_assert_lt(len, b.props_len);
	/* A dictionary without those numbers cannot read the body. */
	{
		struct idg__keys *empty = idg__keys_new();

		json = body_json(empty, data, len, &rc);
		cr_assert_eq(rc, IDG_ECORRUPT);
		free(json);
		idg__keys_free(empty);
	}
	idg__mpw_free(pw);
	idg__mpw_free(bw);
}

/* ---- names numbered by the parsers ---- */

/* Event 1 at time 1000 of user "u", with props' n names at pk. */
static void
of_user_u(struct idg__body *b, const struct idg__pkey *pk, uint32_t n)
{
	b->name = 1;
	b->time_ms = 1000;
	b->did = "u";
	b->did_len = 1;
	b->pkeys = pk;
	b->npkeys = n;
}

Test(keys, a_writer_with_a_dictionary_writes_known_names_as_numbers)
{
	const char *names[] = {"known", "nested", "unknown", "also known"};
	struct idg__mpw *w = idg__mpw_new(), *bw = idg__mpw_new();
	const struct idg__pkey *pk;
	struct idg__body b = {0};
	const uint32_t *nums;
	size_t text_len;

	cr_assert_eq(intern(k, "known"), 1);
	cr_assert_eq(intern(k, "nested"), 2);
	cr_assert_eq(intern(k, "also known"), 3);
	props_of(w, names, 4, &pk, &text_len);
	idg__mpw_set_keys(w, k);
	b.props = props_of(w, names, 4, &pk, &b.props_len);
	cr_assert_eq(pk[0].num, 1);
	cr_assert_eq(pk[1].num, 2);
	cr_assert_eq(pk[2].num, 0, "a name the dictionary lacks stays text");
	cr_assert_eq(pk[3].num, 3);
	/* "known" (5 bytes + header), "nested", "also known" took a byte. */
	cr_assert_eq(b.props_len, text_len - 6 - 7 - 11 + 3);

	/* The text name is numbered by the write transaction; the others
	 * keep theirs. */
	cr_assert_eq(idg__keys_number(k, S.t, b.props, pk, 4, &nums, &S.e),
		     IDG_OK);
	cr_assert_eq(nums[0], 1);
	cr_assert_eq(nums[1], 2);
	cr_assert_eq(nums[2], 4);
	cr_assert_eq(nums[3], 3);
	of_user_u(&b, pk, 4);
	cr_assert_eq(idg__body_encode(bw, &b, nums, NULL, 0, k), IDG_OK);
	expect_body(bw, k,
		    "{\"event\":\"E\",\"properties\":{\"distinct_id\":\"u\","
		    "\"known\":\"known\",\"nested\":{\"inner\":-1},"
		    "\"unknown\":\"unknown\",\"also known\":\"also known\"}}");
	idg__mpw_free(w);
	idg__mpw_free(bw);
}

/* The writer compares each name with the one that followed the previous
 * name in the last body before it looks it up: bodies in a row with their
 * names in another order, with names left out or added, still number
 * every name as the dictionary does. */
Test(keys, a_writer_numbers_names_in_any_order)
{
	const char *names[] = {"time", "distinct_id", "$os", "$browser",
			       "x", "a name of more than sixteen bytes",
			       "$current_url", "not in the dictionary"};
	const int count = 8, known = 7;
	struct idg__mpw *w = idg__mpw_new();
	const struct idg__pkey *pk;
	const char *order[8];
	size_t len;

	for (int i = 0; i < known; i++)
		cr_assert_eq(intern(k, names[i]), (uint32_t)i + 1);
	idg__mpw_set_keys(w, k);
	for (int body = 0; body < 200; body++) {
		/* A rotation, every third body reversed, and a length of 1
		 * to count names. */
		int n = 1 + (body * 5) % count;

		for (int i = 0; i < n; i++) {
			int j = (body + i) % count;

			order[i] = names[body % 3 ? j : count - 1 - j];
		}
		props_of(w, order, n, &pk, &len);
		for (int i = 0; i < n; i++)
			cr_assert_eq(pk[i].num,
				     idg__keys_find(k, order[i],
						    strlen(order[i])),
				     "body %d, name %d (%s)", body, i,
				     order[i]);
	}
	idg__mpw_free(w);
}

Test(keys, extra_properties_replace_numbered_names_and_write_text)
{
	const char *names[] = {"$failure_reason", "nested", "kept"};
	const char *extra[] = {"$failure_reason", "errManyIDs"};
	struct idg__mpw *w = idg__mpw_new(), *bw = idg__mpw_new();
	const struct idg__pkey *pk;
	struct idg__body b = {0};

	cr_assert_eq(intern(k, "$failure_reason"), 1);
	cr_assert_eq(intern(k, "kept"), 2);
	idg__mpw_set_keys(w, k);
	b.props = props_of(w, names, 3, &pk, &b.props_len);
	cr_assert_eq(pk[0].num, 1);
	of_user_u(&b, pk, 3);
	cr_assert_eq(idg__body_encode(bw, &b, NULL, extra, 1, k), IDG_OK);
	/* Read back without a dictionary: every name is text. */
	expect_body(bw, NULL,
		    "{\"event\":\"E\",\"properties\":{\"distinct_id\":\"u\","
		    "\"nested\":{\"inner\":-1},\"kept\":\"kept\","
		    "\"$failure_reason\":\"errManyIDs\"}}");
	/* A numbered name the dictionary does not know is corrupt. */
	cr_assert_eq(idg__body_encode(bw, &b, NULL, extra, 1, NULL),
		     IDG_ECORRUPT);
	idg__mpw_free(w);
	idg__mpw_free(bw);
}

/* ---- the body's head, written on the parse stage ---- */

Test(keys, a_body_is_its_head_then_its_properties)
{
	const char *names[] = {"distinct_id", "nested", "$insert_id"};
	struct idg__mpw *pw = idg__mpw_new(), *bw = idg__mpw_new(),
			*hw = idg__mpw_new();
	const struct idg__pkey *pk;
	struct idg__body b = {0};

	b.props = props_of(pw, names, 3, &pk, &b.props_len);
	/* Every way the two ids are stored: as properties, as text, or
	 * ($insert_id) absent. */
	for (int did = 0; did < 2; did++) {
		for (int ins = 0; ins < 3; ins++) {
			const void *body, *head;
			size_t blen, hlen;

			b.did = did ? "distinct_id" : "u9";
			b.did_len = strlen(b.did);
			b.did_in_props = did;
			b.ins = ins == 2 ? NULL : ins ? "$insert_id" : "i9";
			b.ins_len = b.ins ? strlen(b.ins) : 0;
			b.ins_in_props = ins == 1;
			cr_assert_eq(idg__body_encode(bw, &b, NULL, NULL, 0, k),
				     IDG_OK);
			idg__mpw_reset(hw);
			cr_assert_eq(idg__body_head(hw, &b), IDG_OK);
			body = idg__mpw_data(bw, &blen);
			head = idg__mpw_data(hw, &hlen);
			cr_assert_eq(blen, hlen + b.props_len, "did %d ins %d",
				     did, ins);
			cr_assert_eq(memcmp(body, head, hlen), 0);
			cr_assert_eq(memcmp((const char *)body + hlen, b.props,
					    b.props_len),
				     0);
			/* Ids as properties take one byte each. */
			if (did && ins == 1)
				cr_assert_eq(hlen, 2);
		}
	}
	idg__mpw_free(pw);
	idg__mpw_free(bw);
	idg__mpw_free(hw);
}

Test(keys, a_body_of_another_shape_is_corrupt)
{
	const char *names[] = {"distinct_id", "nested"};
	struct idg__mpw *pw = idg__mpw_new(), *bw = idg__mpw_new();
	struct idg__mpdec *dec = idg__mpdec_new();
	const struct idg__pkey *pk;
	struct idg__body b = {0}, out;
	const void *props;
	size_t plen;

	cr_assert_not_null(dec);
	props = props_of(pw, names, 2, &pk, &plen);
	/* Format 3's bodies: [name, time, did, ins, properties]. */
	idg__mpw_reset(bw);
	idg__mpw_array(bw, 5);
	idg__mpw_uint(bw, 1);
	idg__mpw_int(bw, 1000);
	idg__mpw_nil(bw);
	idg__mpw_nil(bw);
	idg__mpw_raw(bw, props, plen);
	{
		size_t len;
		const void *data = idg__mpw_data(bw, &len);

		cr_assert_eq(idg__body_decode(dec, data, len, k, &out),
			     IDG_ECORRUPT);
	}
	/* Ids, then something that is not a map. */
	idg__mpw_reset(bw);
	b.did = "u";
	b.did_len = 1;
	idg__body_head(bw, &b);
	idg__mpw_str(bw, "x", 1);
	{
		size_t len;
		const void *data = idg__mpw_data(bw, &len);

		cr_assert_eq(idg__body_decode(dec, data, len, k, &out),
			     IDG_ECORRUPT);
		/* Cut short inside the head. */
		cr_assert_eq(idg__body_decode(dec, data, 1, k, &out), IDG_ECORRUPT);
	}
	/* Ids in the head, then properties cut short, or followed by more. */
	idg__mpw_reset(bw);
	idg__body_head(bw, &b);
	idg__mpw_raw(bw, props, plen);
	{
		size_t len;
		const void *data = idg__mpw_data(bw, &len);

		cr_assert_eq(idg__body_decode(dec, data, len, k, &out), IDG_OK);
		cr_assert_eq(idg__body_decode(dec, data, len - 1, k, &out),
			     IDG_ECORRUPT);
	}
	idg__mpw_nil(bw);
	{
		size_t len;
		const void *data = idg__mpw_data(bw, &len);

		cr_assert_eq(idg__body_decode(dec, data, len, k, &out),
			     IDG_ECORRUPT);
	}
	idg__mpdec_free(dec);
	idg__mpw_free(pw);
	idg__mpw_free(bw);
}
