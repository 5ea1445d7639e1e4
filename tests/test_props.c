/*
 * test_props.c — profile properties and the People operators
 * (engine/codec_msgpack.c, SPEC §3): each operator on a missing property,
 * on a property of the matching type and on a clashing one; operators in
 * sequence; equality by type for $union and $remove; integer sums at and
 * beyond the int64 and uint64 limits; key order; load / edit / encode
 * round trips; corrupt stored maps; a profile of 3000 properties.
 *
 * Values are written in a small literal syntax, parsed here into
 * MessagePack by msgpack-c: 'str', b'bin', x1'ext', 1 (integer), 1.0
 * (float64), 1.5f (float32), nan, true, false, null, [..], {k: v}.
 * Results are encoded by idg__props_encode, decoded by msgpack-c and
 * printed in the same syntax without spaces; expected strings are written
 * by hand from the contract, never captured from the code under test.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <math.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_msgpack.h"
#include "idgraph.h"

/* ---- literals to MessagePack ---- */

struct bytes {
	char *p;
	size_t n;
};

static const char *parse(const char *s, msgpack_zone *z, msgpack_object *o);

static const char *
skip(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

static const char *
parse_seq(const char *s, int map, msgpack_zone *z, msgpack_object *o)
{
	char close = map ? '}' : ']';
	msgpack_object *v = NULL;
	size_t n = 0, cap = 0, i;

	s = skip(s + 1);
	while (*s != close) {
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 8;
			v = realloc(v, cap * sizeof(*v));
			cr_assert_not_null(v);
		}
		s = skip(parse(s, z, &v[n++]));
		if (map) {
			cr_assert_eq(*s, ':', "bad literal near \"%s\"", s);
			s = skip(parse(skip(s + 1), z, &v[n++]));
		}
		if (*s == ',')
			s = skip(s + 1);
		else
			cr_assert_eq(*s, close, "bad literal near \"%s\"", s);
	}
	if (map) {
		o->type = MSGPACK_OBJECT_MAP;
		o->via.map.size = (uint32_t)(n / 2);
		o->via.map.ptr =
		    msgpack_zone_malloc(z, n / 2 * sizeof(msgpack_object_kv));
		for (i = 0; i < n / 2; i++) {
			o->via.map.ptr[i].key = v[2 * i];
			o->via.map.ptr[i].val = v[2 * i + 1];
		}
	} else {
		o->type = MSGPACK_OBJECT_ARRAY;
		o->via.array.size = (uint32_t)n;
		o->via.array.ptr =
		    msgpack_zone_malloc(z, n * sizeof(msgpack_object) + 1);
		if (n)
			memcpy(o->via.array.ptr, v, n * sizeof(*v));
	}
	free(v);
	return s + 1;
}

/* 'text' after a prefix of skip characters: a string, bin or ext body. */
static const char *
parse_quoted(const char *s, const char **ptr, uint32_t *size)
{
	const char *end = strchr(s + 1, '\'');

	cr_assert_not_null(end, "unterminated string \"%s\"", s);
	*ptr = s + 1;
	*size = (uint32_t)(end - s - 1);
	return end + 1;
}

static const char *
parse_number(const char *s, msgpack_object *o)
{
	size_t n = strspn(s, "-+0123456789.eE");
	char *end;

	cr_assert(n > 0, "bad literal near \"%s\"", s);
	if (strcspn(s, ".eE") < n) {
		o->type = MSGPACK_OBJECT_FLOAT64;
		o->via.f64 = strtod(s, &end);
		if (*end == 'f') {
			o->type = MSGPACK_OBJECT_FLOAT32;
			end++;
		}
		return end;
	}
	if (*s == '-') {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = strtoll(s, &end, 10);
	} else {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = strtoull(s, &end, 10);
	}
	return end;
}

static const char *
parse(const char *s, msgpack_zone *z, msgpack_object *o)
{
	s = skip(s);
	if (*s == '[' || *s == '{')
		return parse_seq(s, *s == '{', z, o);
	if (*s == '\'') {
		o->type = MSGPACK_OBJECT_STR;
		return parse_quoted(s, &o->via.str.ptr, &o->via.str.size);
	}
	if (s[0] == 'b' && s[1] == '\'') {
		o->type = MSGPACK_OBJECT_BIN;
		return parse_quoted(s + 1, &o->via.bin.ptr, &o->via.bin.size);
	}
	if (s[0] == 'x') {
		o->type = MSGPACK_OBJECT_EXT;
		o->via.ext.type = (int8_t)(s[1] - '0');
		return parse_quoted(s + 2, &o->via.ext.ptr, &o->via.ext.size);
	}
	if (strncmp(s, "nan", 3) == 0) {
		o->type = MSGPACK_OBJECT_FLOAT64;
		o->via.f64 = NAN;
		return s + 3;
	}
	if (strncmp(s, "null", 4) == 0) {
		o->type = MSGPACK_OBJECT_NIL;
		return s + 4;
	}
	if (strncmp(s, "true", 4) == 0 || strncmp(s, "false", 5) == 0) {
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = *s == 't';
		return s + (*s == 't' ? 4 : 5);
	}
	return parse_number(s, o);
}

/* The MessagePack of a literal; free .p. */
static struct bytes
mp(const char *lit)
{
	msgpack_zone z;
	msgpack_object o;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct bytes b;

	msgpack_zone_init(&z, 1024);
	cr_assert_eq(*skip(parse(lit, &z, &o)), 0, "trailing text in %s", lit);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	cr_assert_eq(msgpack_pack_object(&pk, o), 0);
	msgpack_zone_destroy(&z);
	b.p = sb.data;
	b.n = sb.size;
	return b;
}

/* Frees bytes after overwriting them, so any pointer kept into them would
 * read garbage even without AddressSanitizer. */
static void
drop(struct bytes b)
{
	memset(b.p, 0xc1, b.n);
	free(b.p);
}

/* ---- MessagePack to text ---- */

static void
dump_obj(FILE *f, const msgpack_object *o)
{
	uint32_t i;
	char num[40];

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		fputs("null", f);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(o->via.boolean ? "true" : "false", f);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(f, "%llu", (unsigned long long)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(f, "%lld", (long long)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		snprintf(num, sizeof(num), "%.17g", o->via.f64);
		fprintf(f, "%s%s%s", num, strpbrk(num, ".en") ? "" : ".0",
			o->type == MSGPACK_OBJECT_FLOAT32 ? "f" : "");
		break;
	case MSGPACK_OBJECT_STR:
		fprintf(f, "'%.*s'", (int)o->via.str.size, o->via.str.ptr);
		break;
	case MSGPACK_OBJECT_BIN:
		fprintf(f, "b'%.*s'", (int)o->via.bin.size, o->via.bin.ptr);
		break;
	case MSGPACK_OBJECT_EXT:
		fprintf(f, "x%d'%.*s'", o->via.ext.type, (int)o->via.ext.size,
			o->via.ext.ptr);
		break;
	case MSGPACK_OBJECT_ARRAY:
		fputc('[', f);
		for (i = 0; i < o->via.array.size; i++) {
			if (i)
				fputc(',', f);
			dump_obj(f, &o->via.array.ptr[i]);
		}
		fputc(']', f);
		break;
	case MSGPACK_OBJECT_MAP:
		fputc('{', f);
		for (i = 0; i < o->via.map.size; i++) {
			if (i)
				fputc(',', f);
			dump_obj(f, &o->via.map.ptr[i].key);
			fputc(':', f);
			dump_obj(f, &o->via.map.ptr[i].val);
		}
		fputc('}', f);
		break;
	}
}

/* The text of exactly one MessagePack value in data[0..len); free it. */
static char *
dump(const void *data, size_t len)
{
	msgpack_unpacked up;
	size_t off = 0, n = 0;
	char *s = NULL;
	FILE *f = open_memstream(&s, &n);

	cr_assert_not_null(f);
	msgpack_unpacked_init(&up);
	cr_assert_eq(msgpack_unpack_next(&up, data, len, &off),
		     MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(off, len, "bytes after the value");
	dump_obj(f, &up.data);
	msgpack_unpacked_destroy(&up);
	fclose(f);
	return s;
}

/* ---- fixture: one profile, one writer, one warning counter ---- */

static struct idg__props *P;
static struct idg__mpw *W;
static struct idg__props_warn warn;
static char *last;

static void
setup(void)
{
	P = idg__props_new();
	W = idg__mpw_new();
	cr_assert_not_null(P);
	cr_assert_not_null(W);
	memset(&warn, 0, sizeof(warn));
	last = NULL;
}

static void
teardown(void)
{
	idg__props_free(P);
	idg__mpw_free(W);
	free(last);
}

TestSuite(props, .init = setup, .fini = teardown);

/* The profile as text: encoded, decoded, printed. Valid until the next. */
static const char *
text(void)
{
	const void *data;
	size_t len;

	cr_assert_eq(idg__props_encode(P, W), IDG_OK);
	data = idg__mpw_data(W, &len);
	free(last);
	last = dump(data, len);
	return last;
}

static int
load(const char *lit)
{
	struct bytes b = mp(lit);
	int rc = idg__props_load(P, b.p, b.n);

	drop(b);
	return rc;
}

/* Applies operator name with the value lit; returns its code. */
static int
op(const char *name, const char *lit)
{
	struct bytes b = mp(lit);
	int rc;

	if (strcmp(name, "$set") == 0)
		rc = idg__props_set(P, b.p, b.n, 0);
	else if (strcmp(name, "$set_once") == 0)
		rc = idg__props_set(P, b.p, b.n, 1);
	else if (strcmp(name, "$add") == 0)
		rc = idg__props_add(P, b.p, b.n, &warn);
	else if (strcmp(name, "$append") == 0)
		rc = idg__props_append(P, b.p, b.n, &warn);
	else if (strcmp(name, "$union") == 0)
		rc = idg__props_union(P, b.p, b.n, &warn);
	else if (strcmp(name, "$remove") == 0)
		rc = idg__props_remove(P, b.p, b.n);
	else if (strcmp(name, "$unset") == 0)
		rc = idg__props_unset(P, b.p, b.n);
	else
		cr_assert_fail("no operator %s", name);
	drop(b);
	return rc;
}

#define OP(name, lit) cr_assert_eq(op(name, lit), IDG_OK)
#define EXPECT(lit) cr_assert_str_eq(text(), lit)

/* ---- $set, $set_once, set_str ---- */

Test(props, empty_profile_encodes_empty_map)
{
	cr_assert_eq(idg__props_load(P, NULL, 0), IDG_OK);
	cr_assert_eq(idg__props_count(P), 0);
	EXPECT("{}");
}

Test(props, set_overwrites_in_place_and_adds_at_the_end)
{
	OP("$set", "{'a': 1, 'b': 'x', 'c': true}");
	OP("$set", "{'d': null, 'b': [1, 2], 'a': 2.5}");
	EXPECT("{'a':2.5,'b':[1,2],'c':true,'d':null}");
	cr_assert_eq(idg__props_count(P), 4);
}

Test(props, set_keeps_every_type_exactly)
{
	OP("$set", "{'i': 1, 'f': 1.0, 's': '1', 't': true, 'n': null, "
		   "'neg': -7, 'big': 18446744073709551615, "
		   "'l': [1, [2, {'k': 'v'}]], 'o': {'z': 1, 'a': [ ]}, "
		   "'e': ''}");
	EXPECT("{'i':1,'f':1.0,'s':'1','t':true,'n':null,'neg':-7,"
	       "'big':18446744073709551615,'l':[1,[2,{'k':'v'}]],"
	       "'o':{'z':1,'a':[]},'e':''}");
}

Test(props, set_once_only_adds_missing_keys)
{
	OP("$set", "{'a': 1}");
	OP("$set_once", "{'a': 2, 'b': 3}");
	OP("$set_once", "{'b': 4, 'c': null}");
	OP("$set_once", "{'c': 5}");
	EXPECT("{'a':1,'b':3,'c':null}");
}

Test(props, duplicate_keys_in_one_operator)
{
	OP("$set", "{'a': 1, 'a': 2}");
	OP("$set_once", "{'b': 1, 'b': 2}");
	EXPECT("{'a':2,'b':1}");
}

Test(props, set_str_adds_then_overwrites_and_copies)
{
	char key[] = "$last_seen", val[] = "2024-01-02T03:04:05xyz";

	OP("$set", "{'a': 1}");
	cr_assert_eq(idg__props_set_str(P, key, val, 19), IDG_OK);
	memset(key, 'k', sizeof(key) - 1);
	memset(val, 'v', sizeof(val) - 1);
	EXPECT("{'a':1,'$last_seen':'2024-01-02T03:04:05'}");
	cr_assert_eq(idg__props_set_str(P, "a", "", 0), IDG_OK);
	cr_assert_eq(idg__props_set_str(P, "$last_seen", "t2", 2), IDG_OK);
	EXPECT("{'a':'','$last_seen':'t2'}");
	cr_assert_eq(idg__props_count(P), 2);
}

/* ---- $add ---- */

Test(props, add_missing_counts_as_zero)
{
	OP("$add", "{'i': 3, 'n': -2, 'f': 0.5, 'g': 2.5f}");
	EXPECT("{'i':3,'n':-2,'f':0.5,'g':2.5}");
	cr_assert_eq(warn.clashes, 0);
}

Test(props, add_integers_stay_integers)
{
	OP("$set", "{'a': 10, 'b': -5, 'c': 5}");
	OP("$add", "{'a': 5, 'b': 2, 'c': -8}");
	EXPECT("{'a':15,'b':-3,'c':-3}");
	OP("$add", "{'b': 3, 'c': 3}");
	EXPECT("{'a':15,'b':0,'c':0}");
	OP("$add", "{'a': -15}");
	EXPECT("{'a':0,'b':0,'c':0}");
}

Test(props, add_int_and_float_is_float)
{
	OP("$set", "{'a': 1, 'b': 1.5, 'c': 2.0}");
	OP("$add", "{'a': 0.5, 'b': 1, 'c': -2}");
	EXPECT("{'a':1.5,'b':2.5,'c':0.0}");
	OP("$add", "{'a': 1.0}");
	EXPECT("{'a':2.5,'b':2.5,'c':0.0}");
}

Test(props, add_clash_leaves_non_numbers_and_counts_once_each)
{
	OP("$set", "{'s': '5', 't': true, 'l': [1], 'o': {}, 'n': null, "
		   "'ok': 1}");
	OP("$add", "{'s': 1, 't': 1, 'l': 1, 'o': 1, 'n': 1, 'ok': 1}");
	EXPECT("{'s':'5','t':true,'l':[1],'o':{},'n':null,'ok':2}");
	cr_assert_eq(warn.clashes, 5);
}

Test(props, add_int64_exact_beyond_2_53)
{
	/* 2^53 + 1 is not a double; a float sum would give ...996. */
	OP("$set", "{'a': 9007199254740993, 'b': -9007199254740993}");
	OP("$add", "{'a': 2, 'b': -2}");
	EXPECT("{'a':9007199254740995,'b':-9007199254740995}");
	OP("$add", "{'a': 9223372036854775807}");
	OP("$add", "{'a': -9223372036854775807}");
	EXPECT("{'a':9007199254740995,'b':-9007199254740995}");
}

Test(props, add_overflow_falls_back_to_float)
{
	OP("$set", "{'lo': -9223372036854775808, 'top': 18446744073709551615,"
		   " 'two': 18446744073709551615}");
	OP("$add", "{'lo': -1, 'top': 1, 'two': 18446744073709551615}");
	EXPECT("{'lo':-9.2233720368547758e+18,'top':1.8446744073709552e+19,"
	       "'two':3.6893488147419103e+19}");
}

Test(props, add_beyond_int64_stays_exact_while_it_fits_uint64)
{
	OP("$set", "{'a': 9223372036854775807, 'b': 18446744073709551615, "
		   "'c': 9223372036854775808}");
	OP("$add", "{'a': 1, 'b': -1, 'c': -9223372036854775808}");
	EXPECT("{'a':9223372036854775808,'b':18446744073709551614,'c':0}");
	OP("$add", "{'a': 9223372036854775807, 'c': -1}");
	EXPECT("{'a':18446744073709551615,'b':18446744073709551614,'c':-1}");
}

Test(props, add_negative_sum_of_mixed_signs_beyond_int64)
{
	/* A uint64 plus a large negative that ends below zero. */
	OP("$set", "{'a': 9223372036854775808}");
	OP("$add", "{'a': -9223372036854775808}");
	OP("$add", "{'a': -9223372036854775808}");
	EXPECT("{'a':-9223372036854775808}");
}

Test(props, add_bigint_becomes_float)
{
	OP("$set", "{'a': 1}");
	OP("$add", "{'a': x1'100000000000000000000', "
		   "'b': x1'-200000000000000000000'}");
	EXPECT("{'a':1e+20,'b':-2e+20}");
}

Test(props, add_refuses_non_numbers_without_change)
{
	OP("$set", "{'a': 1}");
	cr_assert_eq(op("$add", "{'a': 1, 'b': '2'}"), IDG_EINVAL);
	cr_assert_eq(op("$add", "{'a': true}"), IDG_EINVAL);
	cr_assert_eq(op("$add", "[1]"), IDG_EINVAL);
	EXPECT("{'a':1}");
	cr_assert_eq(warn.clashes, 0);
}

/* ---- $append ---- */

Test(props, append_missing_list_and_clash)
{
	OP("$set", "{'l': [1, 'a'], 's': 'x', 'e': []}");
	OP("$append", "{'l': 1, 'm': 'v', 's': 'y', 'e': [2]}");
	EXPECT("{'l':[1,'a',1],'s':'x','e':[[2]],'m':['v']}");
	cr_assert_eq(warn.clashes, 1);
	OP("$append", "{'m': {'k': null}, 'l': 1.0}");
	EXPECT("{'l':[1,'a',1,1.0],'s':'x','e':[[2]],'m':['v',{'k':null}]}");
}

Test(props, append_changes_only_its_own_list)
{
	OP("$append", "{'a': 1}");
	OP("$union", "{'b': [1]}");
	OP("$append", "{'a': 2}");
	OP("$append", "{'a': 3, 'b': 4}");
	EXPECT("{'a':[1,2,3],'b':[1,4]}");
}

Test(props, append_every_value_type_to_a_non_list_clashes)
{
	OP("$set", "{'i': 1, 'f': 1.0, 't': false, 'n': null, 'o': {'a': 1}}");
	OP("$append", "{'i': 1, 'f': 1, 't': 1, 'n': 1, 'o': 1}");
	EXPECT("{'i':1,'f':1.0,'t':false,'n':null,'o':{'a':1}}");
	cr_assert_eq(warn.clashes, 5);
}

/* ---- $union ---- */

Test(props, union_missing_drops_duplicates_in_first_order)
{
	OP("$union", "{'u': ['b', 'a', 'b', 1, 'a', 1], 'e': []}");
	EXPECT("{'u':['b','a',1],'e':[]}");
}

Test(props, union_adds_values_not_present)
{
	OP("$set", "{'u': ['a', 'a', 2]}");
	OP("$union", "{'u': ['c', 'a', 2, 'c', 'd']}");
	/* Duplicates already stored stay: $union only adds. */
	EXPECT("{'u':['a','a',2,'c','d']}");
}

Test(props, union_equality_is_by_type)
{
	OP("$set", "{'u': [1]}");
	OP("$union", "{'u': [1, '1', true, 1.0, null, -1, 1.0, '1', true, "
		     "null, 1, false, 0, 0.0, '']}");
	EXPECT("{'u':[1,'1',true,1.0,null,-1,false,0,0.0,'']}");
}

Test(props, union_compares_nested_lists_and_maps_deeply)
{
	OP("$set", "{'u': [[1, 2], {'a': 1, 'b': [1]}]}");
	OP("$union", "{'u': [[1, 2], [2, 1], [1, 2.0], {'b': [1], 'a': 1}, "
		     "{'a': 1}, {'a': 1, 'b': ['1']}, [[1, 2]], {'a': 1}]}");
	EXPECT("{'u':[[1,2],{'a':1,'b':[1]},[2,1],[1,2.0],{'a':1},"
	       "{'a':1,'b':['1']},[[1,2]]]}");
}

Test(props, union_float32_and_float64_are_one_type)
{
	OP("$set", "{'u': [1.5f, 'x']}");
	OP("$union", "{'u': [1.5, 2.5, 2.5f, b'x']}");
	EXPECT("{'u':[1.5f,'x',2.5]}");
}

Test(props, nan_equals_nan_so_union_adds_it_once)
{
	OP("$union", "{'u': [nan, 1, nan]}");
	OP("$union", "{'u': [nan, 2]}");
	EXPECT("{'u':[nan,1,2]}");
	OP("$append", "{'u': nan}");
	OP("$remove", "{'u': nan}");
	EXPECT("{'u':[1,2]}");
}

Test(props, union_takes_minus_zero_for_zero)
{
	OP("$union", "{'u': [0.0, -0.0, 0, -0.0]}");
	EXPECT("{'u':[0.0,0]}");
}

/* Appends printf-formatted text to the string at *s (of *n bytes). */
static void
cat(char **s, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cat(char **s, size_t *n, const char *fmt, ...)
{
	va_list ap;
	char piece[128];
	int k;

	va_start(ap, fmt);
	k = vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	cr_assert_lt(k, (int)sizeof(piece));
	*s = realloc(*s, *n + (size_t)k + 1);
	cr_assert_not_null(*s);
	memcpy(*s + *n, piece, (size_t)k + 1);
	*n += (size_t)k;
}

/*
 * Thousands of values, found by their hash: a list of 0..N-1 (with 0 and
 * 1 twice) gets N/2..N+N/2-1, their strings, a few floats and lists, and
 * maps of one size (which share a hash). Exactly the new values come in,
 * in their order, once each.
 */
Test(props, union_of_thousands_of_values)
{
	enum { N = 3000 };
	char *set = NULL, *un = NULL, *want = NULL;
	size_t ns = 0, nu = 0, nw = 0;

	cat(&set, &ns, "{'u': [");
	cat(&want, &nw, "{'u':[");
	for (int i = 0; i < N; i++) {
		cat(&set, &ns, "%d, ", i);
		cat(&want, &nw, "%d,", i);
	}
	cat(&set, &ns, "0, 1]}");
	cat(&want, &nw, "0,1");
	cat(&un, &nu, "{'u': [");
	for (int i = N / 2; i < N + N / 2; i++) {
		cat(&un, &nu, "%d, '%d', ", i, i);
		cat(&want, &nw, i < N ? ",'%d'" : ",%d,'%d'", i, i);
	}
	cat(&un, &nu, "1.5, 1.5, [1, 2], [1, 2], {'a': 1}, {'b': 1}, "
		      "{'a': 1}, {'b': 2}, 7, '7']}");
	cat(&want, &nw, ",1.5,[1,2],{'a':1},{'b':1},{'b':2},'7']}");
	OP("$set", set);
	OP("$union", un);
	EXPECT(want);
	free(set);
	free(un);
	free(want);
}

/* A name given twice is one name with its first value: a map holding x
 * twice is the same as another only if the other has exactly its names,
 * whichever way round they are compared. */
Test(props, union_maps_with_a_name_given_twice)
{
	OP("$union", "{'u': [{'x': 1, 'x': 1}, {'x': 1, 'y': 2}, "
		     "{'y': 2, 'x': 1}, {'x': 1, 'x': 2}, {'x': 1, 'x': 1}]}");
	EXPECT("{'u':[{'x':1,'x':1},{'x':1,'y':2},{'x':1,'x':2}]}");
}

/* Thousands of maps of one size, each different: found by their pairs'
 * hash (once they all shared one, the size, and the union was
 * quadratic); the same pairs in another order are the same map. */
Test(props, union_of_thousands_of_maps)
{
	enum { N = 2000 };
	char *un = NULL, *want = NULL;
	size_t nu = 0, nw = 0;

	cat(&un, &nu, "{'u': [");
	cat(&want, &nw, "{'u':[");
	for (int i = 0; i < N; i++) {
		cat(&un, &nu, "{'a': %d, 'b': 'x'}, {'b': 'x', 'a': %d}, ", i,
		    i);
		cat(&want, &nw, "%s{'a':%d,'b':'x'}", i ? "," : "", i);
	}
	cat(&un, &nu, "{'a': 0, 'b': 'y'}]}");
	cat(&want, &nw, ",{'a':0,'b':'y'}]}");
	OP("$union", un);
	EXPECT(want);
	free(un);
	free(want);
}

Test(props, union_on_non_list_clashes)
{
	OP("$set", "{'s': 'a', 'o': {}, 'i': 0}");
	OP("$union", "{'s': ['a'], 'o': [1], 'i': [1], 'new': [1]}");
	EXPECT("{'s':'a','o':{},'i':0,'new':[1]}");
	cr_assert_eq(warn.clashes, 3);
}

Test(props, union_refuses_non_array_values)
{
	OP("$set", "{'u': [1]}");
	cr_assert_eq(op("$union", "{'u': [2], 'v': 3}"), IDG_EINVAL);
	EXPECT("{'u':[1]}");
}

/* ---- $remove ---- */

Test(props, remove_every_equal_element)
{
	OP("$set", "{'l': [1, 'x', 1, 2, 1, [1]]}");
	OP("$remove", "{'l': 1}");
	EXPECT("{'l':['x',2,[1]]}");
	OP("$remove", "{'l': [1]}");
	EXPECT("{'l':['x',2]}");
	OP("$remove", "{'l': 'x'}");
	OP("$remove", "{'l': 2}");
	EXPECT("{'l':[]}");
}

Test(props, remove_equality_is_by_type)
{
	OP("$set", "{'l': [1, '1', true, 1.0, null, {'a': [1]}, 1.0f]}");
	OP("$remove", "{'l': '1'}");
	OP("$remove", "{'l': 1.0}");
	OP("$remove", "{'l': {'a': ['1']}}");
	EXPECT("{'l':[1,true,null,{'a':[1]}]}");
	OP("$remove", "{'l': false}");
	OP("$remove", "{'l': 0}");
	OP("$remove", "{'l': {'a': [1]}}");
	EXPECT("{'l':[1,true,null]}");
}

Test(props, remove_on_missing_or_non_list_does_nothing)
{
	OP("$set", "{'s': 'abc', 'o': {'a': 1}}");
	OP("$remove", "{'s': 'abc', 'o': 1, 'missing': 1}");
	EXPECT("{'s':'abc','o':{'a':1}}");
	cr_assert_eq(warn.clashes, 0);
	cr_assert_eq(idg__props_count(P), 2);
}

Test(props, remove_leaves_a_list_it_was_copied_from)
{
	OP("$union", "{'a': [1, 2, 1], 'b': [1, 2]}");
	OP("$remove", "{'a': 1}");
	EXPECT("{'a':[2],'b':[1,2]}");
}

/* ---- $unset ---- */

Test(props, unset_removes_named_keys_and_keeps_order)
{
	OP("$set", "{'a': 1, 'b': 2, 'c': 3, 'd': 4, 'e': 5}");
	OP("$unset", "['d', 'missing', 'b', 'b']");
	EXPECT("{'a':1,'c':3,'e':5}");
	OP("$unset", "['zz']");
	EXPECT("{'a':1,'c':3,'e':5}");
	OP("$set", "{'b': 6}");
	EXPECT("{'a':1,'c':3,'e':5,'b':6}");
	cr_assert_eq(idg__props_count(P), 4);
}

Test(props, unset_ignores_non_strings)
{
	OP("$set", "{'1': 1, 'a': 2}");
	OP("$unset", "[1, null, ['a'], {'a': 1}]");
	EXPECT("{'1':1,'a':2}");
	OP("$unset", "[]");
	OP("$unset", "['a', '1']");
	EXPECT("{}");
	cr_assert_eq(idg__props_count(P), 0);
}

Test(props, unset_refuses_a_map)
{
	OP("$set", "{'a': 1}");
	cr_assert_eq(op("$unset", "{'a': 1}"), IDG_EINVAL);
	EXPECT("{'a':1}");
}

/* ---- operators in sequence, load, encode ---- */

Test(props, operators_in_spec_order)
{
	OP("$set", "{'name': 'Ann', 'n': 1, 'tags': ['a']}");
	OP("$set_once", "{'name': 'Bob', 'first': 'web'}");
	OP("$add", "{'n': 2, 'visits': 1}");
	OP("$append", "{'tags': 'b', 'log': 'x'}");
	OP("$union", "{'tags': ['a', 'c'], 'set': [3, 3]}");
	OP("$remove", "{'tags': 'a', 'log': 'x'}");
	OP("$unset", "['first']");
	EXPECT("{'name':'Ann','n':3,'tags':['b','c'],'visits':1,'log':[],"
	       "'set':[3]}");
	cr_assert_eq(warn.clashes, 0);
}

Test(props, load_edit_encode_round_trip)
{
	const char *stored = "{'s':'x','i':-3,'u':18446744073709551615,"
			     "'f':0.25,'g':1.5f,'b':b'raw','e':x1'123',"
			     "'n':null,'t':false,'l':[1,[2],{'k':'v'}],"
			     "'o':{'x':{'y':[]}}}";
	struct bytes b;
	const void *data;
	size_t len;

	cr_assert_eq(load(stored), IDG_OK);
	cr_assert_eq(idg__props_count(P), 11);
	EXPECT(stored);
	OP("$add", "{'i': 3}");
	OP("$append", "{'l': 'z'}");
	OP("$unset", "['b', 'e']");
	OP("$set", "{'new': 1}");
	EXPECT("{'s':'x','i':0,'u':18446744073709551615,'f':0.25,'g':1.5f,"
	       "'n':null,'t':false,'l':[1,[2],{'k':'v'},'z'],"
	       "'o':{'x':{'y':[]}},'new':1}");

	/* The encoded bytes load again to the same profile, and further
	 * edits go on from there. */
	data = idg__mpw_data(W, &len);
	b.p = malloc(len);
	cr_assert_not_null(b.p);
	memcpy(b.p, data, len);
	b.n = len;
	cr_assert_eq(idg__props_load(P, b.p, b.n), IDG_OK);
	drop(b);
	EXPECT("{'s':'x','i':0,'u':18446744073709551615,'f':0.25,'g':1.5f,"
	       "'n':null,'t':false,'l':[1,[2],{'k':'v'},'z'],"
	       "'o':{'x':{'y':[]}},'new':1}");
	OP("$remove", "{'l': [2]}");
	OP("$set_once", "{'s': 'no', 'b': b'back'}");
	EXPECT("{'s':'x','i':0,'u':18446744073709551615,'f':0.25,'g':1.5f,"
	       "'n':null,'t':false,'l':[1,{'k':'v'},'z'],"
	       "'o':{'x':{'y':[]}},'new':1,'b':b'back'}");
}

Test(props, load_starts_over)
{
	OP("$set", "{'a': 1}");
	OP("$append", "{'l': 1}");
	cr_assert_eq(load("{'b': [2]}"), IDG_OK);
	OP("$append", "{'b': 3}");
	EXPECT("{'b':[2,3]}");
	cr_assert_eq(idg__props_load(P, NULL, 0), IDG_OK);
	EXPECT("{}");
}

Test(props, encode_twice_and_keep_editing)
{
	OP("$set", "{'a': [1]}");
	EXPECT("{'a':[1]}");
	EXPECT("{'a':[1]}");
	OP("$union", "{'a': [2]}");
	EXPECT("{'a':[1,2]}");
}

Test(props, load_refuses_corrupt_bytes)
{
	static const unsigned char truncated[] = {0x82, 0xa1, 'a', 0x01, 0xa1};
	static const unsigned char bad[] = {0xc1};
	static const unsigned char extra[] = {0x81, 0xa1, 'a', 0x01, 0x00};
	static const unsigned char str_len[] = {0x81, 0xa5, 'a'};

	OP("$set", "{'keep': 1}");
	cr_assert_eq(idg__props_load(P, truncated, sizeof(truncated)),
		     IDG_ECORRUPT);
	cr_assert_eq(idg__props_count(P), 0);
	EXPECT("{}");
	cr_assert_eq(idg__props_load(P, bad, sizeof(bad)), IDG_ECORRUPT);
	cr_assert_eq(idg__props_load(P, extra, sizeof(extra)), IDG_ECORRUPT);
	cr_assert_eq(idg__props_load(P, str_len, sizeof(str_len)),
		     IDG_ECORRUPT);
	cr_assert_eq(load("['a', 1]"), IDG_ECORRUPT);
	cr_assert_eq(load("'a'"), IDG_ECORRUPT);
	cr_assert_eq(load("{1: 'a'}"), IDG_ECORRUPT);
	cr_assert_eq(load("{'a': 1, b'k': 2}"), IDG_ECORRUPT);
	cr_assert_eq(idg__props_count(P), 0);
	/* A good load after a failed one works. */
	cr_assert_eq(load("{'a': 1}"), IDG_OK);
	EXPECT("{'a':1}");
}

Test(props, operators_refuse_malformed_values)
{
	static const unsigned char truncated[] = {0x81, 0xa1, 'a'};

	OP("$set", "{'a': 1}");
	cr_assert_eq(idg__props_set(P, truncated, sizeof(truncated), 0),
		     IDG_EINVAL);
	cr_assert_eq(idg__props_set(P, NULL, 0, 0), IDG_EINVAL);
	cr_assert_eq(op("$set", "['a']"), IDG_EINVAL);
	cr_assert_eq(op("$set", "{1: 2}"), IDG_EINVAL);
	cr_assert_eq(op("$append", "'a'"), IDG_EINVAL);
	cr_assert_eq(op("$remove", "[1]"), IDG_EINVAL);
	cr_assert_eq(op("$unset", "'a'"), IDG_EINVAL);
	EXPECT("{'a':1}");
}

Test(props, warnings_may_be_left_uncounted)
{
	struct bytes b = mp("{'s': 1}");

	OP("$set", "{'s': 'x'}");
	cr_assert_eq(idg__props_add(P, b.p, b.n, NULL), IDG_OK);
	cr_assert_eq(idg__props_append(P, b.p, b.n, NULL), IDG_OK);
	drop(b);
	EXPECT("{'s':'x'}");
}

/* ---- a big profile ---- */

#define BIG 3000

/*
 * open + "'p<i>':<i * mult>" for i = first, first + step, ... below BIG,
 * joined by commas, + close; with mult < 0 only the names. Free it.
 */
static char *
big(char open, int first, int step, int mult, char close)
{
	size_t n = 0;
	char *s = NULL;
	FILE *f = open_memstream(&s, &n);
	int i;

	cr_assert_not_null(f);
	fputc(open, f);
	for (i = first; i < BIG; i += step) {
		fprintf(f, "%s'p%d'", i > first ? "," : "", i);
		if (mult >= 0)
			fprintf(f, ":%d", i * mult);
	}
	fputc(close, f);
	fclose(f);
	return s;
}

Test(props, big_profile)
{
	char *set = big('{', 0, 1, 1, '}');
	char *doubled = big('{', 0, 1, 2, '}');
	char *odd = big('[', 1, 2, -1, ']');
	char *even = big('{', 0, 2, 2, '}');
	struct bytes b;
	const void *data;

	OP("$set", set);
	cr_assert_eq(idg__props_count(P), BIG);
	EXPECT(set);
	OP("$add", set);
	EXPECT(doubled);
	OP("$unset", odd);
	cr_assert_eq(idg__props_count(P), BIG / 2);
	EXPECT(even);

	/* Round trip through stored bytes, then edit both ends. */
	data = idg__mpw_data(W, &b.n);
	b.p = malloc(b.n);
	cr_assert_not_null(b.p);
	memcpy(b.p, data, b.n);
	cr_assert_eq(idg__props_load(P, b.p, b.n), IDG_OK);
	drop(b);
	cr_assert_eq(idg__props_count(P), BIG / 2);
	OP("$set_once", "{'p2998': 'no', 'p2999': 'yes'}");
	OP("$append", "{'p0': 1}");
	text();
	cr_assert(strncmp(last, "{'p0':0,'p2':4,'p4':8,", 22) == 0, "%.40s",
		  last);
	cr_assert(strstr(last, ",'p2996':5992,'p2998':5996,'p2999':'yes'}"),
		  "%s", last + strlen(last) - 60);
	cr_assert_eq(warn.clashes, 1);
	free(set);
	free(doubled);
	free(odd);
	free(even);
}
