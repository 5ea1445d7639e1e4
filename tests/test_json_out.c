/*
 * test_json_out.c — the JSON writer: exact bytes for punctuation, escapes,
 * UTF-8 handling and numbers, round trips of doubles, flushing and errors.
 *
 * Expected outputs are written out by hand from the contract in idgraph.h
 * (or built by simple loops from such hand-written pieces), never captured
 * from the writer itself.
 */
#include "idgraph.h"

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An in-memory stream and the writer on it. */
struct out {
	FILE *fp;
	char *buf;
	size_t len;
	idg_jw *w;
};

static idg_jw *
out_open(struct out *o)
{
	o->buf = NULL;
	o->len = 0;
	o->fp = open_memstream(&o->buf, &o->len);
	cr_assert_not_null(o->fp);
	o->w = idg_jw_open(o->fp);
	cr_assert_not_null(o->w);
	return o->w;
}

/* Closes the writer and the stream; the bytes written are in o->buf. */
static void
out_close(struct out *o)
{
	cr_assert_eq(idg_jw_close(o->w), 0);
	cr_assert_eq(fclose(o->fp), 0);
}

static void
out_expect_n(struct out *o, const char *want, size_t want_len)
{
	out_close(o);
	cr_assert(o->len == want_len && memcmp(o->buf, want, want_len) == 0,
		  "got  (%zu) [%.*s]\nwant (%zu) [%.*s]", o->len, (int)o->len,
		  o->buf, want_len, (int)want_len, want);
	free(o->buf);
}

#define EXPECT(o, lit) out_expect_n((o), (lit), sizeof(lit) - 1)

/* Writes one string value (len bytes, may hold NULs) and checks it. */
static void
check_string(const char *in, size_t in_len, const char *want, size_t want_len)
{
	struct out o;

	idg_jw_string(out_open(&o), in, in_len);
	out_expect_n(&o, want, want_len);
}

#define CHECK_STRING(in, want)                                                 \
	check_string((in), sizeof(in) - 1, (want), sizeof(want) - 1)

Test(json_out, nested_containers_place_commas_and_colons)
{
	struct out o;
	idg_jw *w = out_open(&o);

	idg_jw_object_begin(w);
	idg_jw_key(w, "a", 1);
	idg_jw_array_begin(w);
	idg_jw_int(w, 1);
	idg_jw_object_begin(w);
	idg_jw_key(w, "b", 1);
	idg_jw_null(w);
	idg_jw_object_end(w);
	idg_jw_array_begin(w);
	idg_jw_array_end(w);
	idg_jw_string(w, "x", 1);
	idg_jw_array_end(w);
	idg_jw_key(w, "c", 1);
	idg_jw_object_begin(w);
	idg_jw_object_end(w);
	idg_jw_key(w, "d", 1);
	idg_jw_bool(w, 1);
	idg_jw_key(w, "e", 1);
	idg_jw_bool(w, 0);
	idg_jw_key(w, "f", 1);
	idg_jw_uint(w, 7);
	idg_jw_key(w, "", 0);
	idg_jw_string(w, "", 0);
	idg_jw_object_end(w);
	EXPECT(&o, "{\"a\":[1,{\"b\":null},[],\"x\"],\"c\":{},\"d\":true,"
		   "\"e\":false,\"f\":7,\"\":\"\"}");
}

Test(json_out, bool_takes_any_nonzero_as_true)
{
	struct out o;
	idg_jw *w = out_open(&o);

	idg_jw_array_begin(w);
	idg_jw_bool(w, 2);
	idg_jw_bool(w, -1);
	idg_jw_bool(w, 0);
	idg_jw_array_end(w);
	EXPECT(&o, "[true,true,false]");
}

/*
 * Alternating arrays and objects 1000 deep, with a value after every
 * nested container, so commas are right only if every level's state
 * survives far beyond any small fixed stack.
 */
Test(json_out, deep_nesting_keeps_comma_state_per_level)
{
	enum { D = 1000 };
	struct out o;
	idg_jw *w = out_open(&o);
	char *want = malloc((size_t)D * 32), *p = want;
	int i;

	cr_assert_not_null(want);
	for (i = 0; i < D; i++) {
		if (i % 2 == 0) {
			idg_jw_array_begin(w);
			idg_jw_int(w, i);
			p += sprintf(p, "[%d%s", i, i < D - 1 ? "," : "");
		} else {
			idg_jw_object_begin(w);
			idg_jw_key(w, "k", 1);
			idg_jw_int(w, i);
			p += sprintf(p, "{\"k\":%d", i);
			if (i < D - 1) {
				idg_jw_key(w, "c", 1);
				p += sprintf(p, ",\"c\":");
			}
		}
	}
	for (i = D - 1; i >= 0; i--) {
		if (i % 2 == 0)
			idg_jw_array_end(w);
		else
			idg_jw_object_end(w);
		p += sprintf(p, "%s", i % 2 == 0 ? "]" : "}");
		if (i == 0)
			break;
		if ((i - 1) % 2 == 0) {
			idg_jw_bool(w, 1);
			p += sprintf(p, ",true");
		} else {
			idg_jw_key(w, "z", 1);
			idg_jw_null(w);
			p += sprintf(p, ",\"z\":null");
		}
	}
	out_expect_n(&o, want, (size_t)(p - want));
	free(want);
}

Test(json_out, every_escape)
{
	/* All of 0x00-0x1f (the NUL shows len is used, not strlen), DEL, the
	 * two characters JSON requires escaped, and neighbours that must
	 * pass through: '/', ' ', '~'. */
	static const char in[] =
	    "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
	    "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
	    "\x7f\"\\/ ~";
	static const char want[] =
	    "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
	    "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
	    "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
	    "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"
	    "\\u007f\\\"\\\\/ ~\"";

	CHECK_STRING(in, want);
}

Test(json_out, keys_are_escaped_like_strings)
{
	struct out o;
	idg_jw *w = out_open(&o);

	idg_jw_object_begin(w);
	idg_jw_key(w, "a\"b\\\n\xff", 6);
	idg_jw_int(w, 1);
	idg_jw_key(w, "\xc3\xa9", 2);
	idg_jw_int(w, 2);
	idg_jw_object_end(w);
	EXPECT(&o, "{\"a\\\"b\\\\\\n\\ufffd\":1,\"\xc3\xa9\":2}");
}

/*
 * The fast path skips eight bytes at a time: each kind of byte it must
 * stop at (both bounds of the control range, DEL, '"', '\\', bytes >= 0x80)
 * is placed at every position of strings of every length up to 40.
 */
Test(json_out, special_bytes_seen_at_every_length_and_alignment)
{
	static const struct {
		char in;
		const char *out;
	} special[] = {
	    {'"', "\\\""},	 {'\\', "\\\\"},	  {'\0', "\\u0000"},
	    {'\x1f', "\\u001f"}, {'\x7f', "\\u007f"},	  {'\n', "\\n"},
	    {'\x80', "\\ufffd"}, {(char)0xff, "\\ufffd"},
	};
	char in[41], want[64];
	size_t k, len, at, n, el;

	for (k = 0; k < sizeof(special) / sizeof(special[0]); k++) {
		el = strlen(special[k].out);
		for (len = 1; len <= 40; len++) {
			for (at = 0; at < len; at++) {
				memset(in, 'a', len);
				in[at] = special[k].in;
				n = 0;
				want[n++] = '"';
				memset(want + n, 'a', at);
				n += at;
				memcpy(want + n, special[k].out, el);
				n += el;
				memset(want + n, 'a', len - at - 1);
				n += len - at - 1;
				want[n++] = '"';
				check_string(in, len, want, n);
			}
		}
	}
}

Test(json_out, valid_utf8_passes_through)
{
	/* Each length at its smallest and largest code point, the code points
	 * either side of the surrogates, and a mix with ASCII. */
	static const char *const cases[] = {
	    "\xc3\xa9",		"\xc2\x80",
	    "\xdf\xbf",		"\xe2\x82\xac",
	    "\xe0\xa0\x80",	"\xef\xbf\xbf",
	    "\xed\x9f\xbf",	"\xee\x80\x80",
	    "\xf0\x9f\x98\x80", "\xf0\x90\x80\x80",
	    "\xf4\x8f\xbf\xbf", "a\xc3\xa9z\xf0\x9f\x98\x80",
	};
	char want[64];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = strlen(cases[i]);
		want[0] = '"';
		memcpy(want + 1, cases[i], n);
		want[n + 1] = '"';
		check_string(cases[i], n, want, n + 2);
	}
}

/*
 * Each byte that does not belong to a well-formed sequence becomes one
 * U+FFFD, and the bytes after it are looked at afresh.
 */
Test(json_out, invalid_utf8_becomes_fffd_per_byte)
{
#define R "\\ufffd"
	static const struct {
		const char *in, *want;
	} cases[] = {
	    /* Lone continuation bytes. */
	    {"\x80", R},
	    {"\xbf", R},
	    /* Overlong forms: U+0000, U+007F, 3-byte U+0000 and U+07FF,
	     * 4-byte U+0000 and U+FFFF. */
	    {"\xc0\x80", R R},
	    {"\xc1\xbf", R R},
	    {"\xe0\x80\x80", R R R},
	    {"\xe0\x9f\xbf", R R R},
	    {"\xf0\x80\x80\x80", R R R R},
	    {"\xf0\x8f\xbf\xbf", R R R R},
	    /* Surrogates U+D800 and U+DFFF, and a CESU-8 surrogate pair. */
	    {"\xed\xa0\x80", R R R},
	    {"\xed\xbf\xbf", R R R},
	    {"\xed\xa0\x80\xed\xb0\x80", R R R R R R},
	    /* Beyond U+10FFFF: U+110000, lead F5, the old 5-byte form, FE, FF.
	     */
	    {"\xf4\x90\x80\x80", R R R R},
	    {"\xf5\x80\x80\x80", R R R R},
	    {"\xf8\x88\x80\x80\x80", R R R R R},
	    {"\xfe", R},
	    {"\xff", R},
	    /* Truncated at the end, by ASCII, by another lead byte. */
	    {"\xc3", R},
	    {"\xe2\x82", R R},
	    {"\xf0\x9f\x98", R R R},
	    {"\xe2\x82Z", R R "Z"},
	    {"\xc3\xc3\xa9", R "\xc3\xa9"},
	    {"\xf0\x9f\xc3\xa9", R R "\xc3\xa9"},
	    /* One continuation byte too many; invalid between ASCII. */
	    {"\xe2\x82\xac\x80", "\xe2\x82\xac" R},
	    {"a\xffz", "a" R "z"},
	};
#undef R
	char want[128];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = strlen(cases[i].want);
		want[0] = '"';
		memcpy(want + 1, cases[i].want, n);
		want[n + 1] = '"';
		check_string(cases[i].in, strlen(cases[i].in), want, n + 2);
	}
}

Test(json_out, integers_in_full)
{
	struct out o;
	idg_jw *w = out_open(&o);

	idg_jw_array_begin(w);
	idg_jw_int(w, INT64_MIN);
	idg_jw_int(w, INT64_MAX);
	idg_jw_int(w, 0);
	idg_jw_int(w, -1);
	idg_jw_int(w, 10);
	idg_jw_int(w, -1000000007);
	idg_jw_uint(w, UINT64_MAX);
	idg_jw_uint(w, 0);
	idg_jw_uint(w, 9223372036854775808u);
	idg_jw_array_end(w);
	EXPECT(&o, "[-9223372036854775808,9223372036854775807,0,-1,10,"
		   "-1000000007,18446744073709551615,0,9223372036854775808]");
}

Test(json_out, doubles_shortest_and_still_floats)
{
	struct out o;
	idg_jw *w = out_open(&o);

	idg_jw_array_begin(w);
	idg_jw_double(w, 0.1);
	idg_jw_double(w, 1.0);
	idg_jw_double(w, -0.0);
	idg_jw_double(w, 0.0);
	idg_jw_double(w, 1e300);
	idg_jw_double(w, 5e-324);
	idg_jw_double(w, 123456789.125);
	idg_jw_double(w, 100.0);
	idg_jw_double(w, -2.5);
	idg_jw_double(w, 0.1 + 0.2);
	idg_jw_double(w, 1.0 / 3.0);
	idg_jw_double(w, DBL_MAX);
	idg_jw_double(w, DBL_MIN);
	idg_jw_double(w, 9007199254740992.0);
	idg_jw_double(w, 123456789012345.0);
	idg_jw_double(w, 1e15);
	idg_jw_double(w, 1e21);
	idg_jw_double(w, 1e-7);
	idg_jw_double(w, 0.0001);
	idg_jw_array_end(w);
	/*
	 * 5e-324 is the shortest form of the smallest subnormal; a search
	 * that only tried 15, 16 and 17 digits would give
	 * 4.94065645841247e-324. 2^53 needs 16 digits and has no point, so
	 * it gets ".0". 1e15 is printed by %g in exponent form already.
	 */
	EXPECT(&o, "[0.1,1.0,-0.0,0.0,1e+300,5e-324,123456789.125,100.0,-2.5,"
		   "0.30000000000000004,0.3333333333333333,"
		   "1.7976931348623157e+308,2.2250738585072014e-308,"
		   "9007199254740992.0,123456789012345.0,1e+15,1e+21,1e-07,"
		   "0.0001]");
}

Test(json_out, nan_and_infinities_are_null)
{
	struct out o;
	idg_jw *w = out_open(&o);

	idg_jw_object_begin(w);
	idg_jw_key(w, "n", 1);
	idg_jw_double(w, NAN);
	idg_jw_key(w, "p", 1);
	idg_jw_double(w, INFINITY);
	idg_jw_key(w, "m", 1);
	idg_jw_double(w, -INFINITY);
	idg_jw_object_end(w);
	EXPECT(&o, "{\"n\":null,\"p\":null,\"m\":null}");
}

static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* A mix of all bit patterns, subnormals, [0,1) and short decimals. */
static double
random_double(uint64_t *state)
{
	static const double pow10[12] = {1e0, 1e1, 1e2, 1e3, 1e4,  1e5,
					 1e6, 1e7, 1e8, 1e9, 1e10, 1e11};
	uint64_t r = splitmix64(state);
	double d;

	switch (r % 5) {
	case 0:
		r = splitmix64(state);
		memcpy(&d, &r, sizeof(d));
		return d;
	case 1:
		r = splitmix64(state) & 0x800fffffffffffffu; /* exponent 0 */
		memcpy(&d, &r, sizeof(d));
		return d;
	case 2:
		return (double)(splitmix64(state) >> 11) / 9007199254740992.0;
	case 3:
		return (double)(int64_t)(splitmix64(state) % 2000001) /
		       pow10[splitmix64(state) % 12];
	default:
		return (double)(int64_t)splitmix64(state);
	}
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, the JSON number grammar. */
static int
is_json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		if (!(*++s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* Significant digits of a number's significand: "100.0" has 1. */
static int
significant_digits(const char *s)
{
	const char *first = NULL, *last = NULL;
	int n = 0;

	for (; *s && *s != 'e'; s++) {
		if (*s >= '1' && *s <= '9') {
			if (!first)
				first = s;
			last = s;
		}
	}
	if (!first)
		return 0;
	/* Count the digits from the first to the last non-zero one. */
	for (s = first; s <= last; s++)
		n += *s >= '0' && *s <= '9';
	return n;
}

/*
 * Every output must be JSON, read back bit for bit, look like a float,
 * and be shortest: with one significant digit fewer, even the nearest
 * decimal (%.*g rounds to nearest) no longer reads back as the same value.
 */
Test(json_out, random_doubles_round_trip_shortest)
{
	enum { N = 50000 };
	uint64_t state = 20240917;
	double *vals = malloc(N * sizeof(*vals));
	struct out o;
	idg_jw *w = out_open(&o);
	char *line, *nl, shorter[320];
	double back;
	int i, k;

	cr_assert_not_null(vals);
	for (i = 0; i < N; i++) {
		do
			vals[i] = random_double(&state);
		while (!isfinite(vals[i]));
		idg_jw_double(w, vals[i]);
		idg_jw_newline(w);
	}
	out_close(&o);
	line = o.buf;
	for (i = 0; i < N; i++, line = nl + 1) {
		nl = memchr(line, '\n', o.len - (size_t)(line - o.buf));
		cr_assert_not_null(nl, "missing line %d", i);
		*nl = '\0';
		cr_assert(is_json_number(line), "not JSON: %s", line);
		cr_assert(strpbrk(line, ".e"), "reads as integer: %s", line);
		back = strtod(line, NULL);
		cr_assert(memcmp(&back, &vals[i], sizeof(back)) == 0,
			  "%s read back as %.17g, wrote %.17g", line, back,
			  vals[i]);
		k = significant_digits(line);
		if (k > 1) {
			snprintf(shorter, sizeof(shorter), "%.*g", k - 1,
				 vals[i]);
			cr_assert(strtod(shorter, NULL) != vals[i],
				  "%s is not shortest: %s also reads back",
				  line, shorter);
		}
	}
	cr_assert_eq((size_t)(line - o.buf), o.len);
	free(o.buf);
	free(vals);
}

/*
 * The form is printf's: "%.*g" at the first precision, from 15 (from 1 for
 * a subnormal), that strtod reads back as the same value, plus ".0" when
 * that looks like an integer. Written out here as that search, slow and
 * plain, and compared byte for byte over random doubles.
 */
static void
reference_double(char *out, size_t size, double v)
{
	int prec = (v > -DBL_MIN && v < DBL_MIN && v != 0) ? 1 : 15;

	for (;;) {
		snprintf(out, size, "%.*g", prec, v);
		if (prec >= 17 || strtod(out, NULL) == v)
			break;
		prec++;
	}
	if (!strpbrk(out, ".e"))
		strcat(out, ".0");
}

/* Each of vals[0..n), written one a line, is in printf's form. */
static void
expect_printfs_form(const double *vals, int n)
{
	char want[64];
	struct out o;
	idg_jw *w = out_open(&o);
	char *line, *nl;
	int i;

	for (i = 0; i < n; i++) {
		idg_jw_double(w, vals[i]);
		idg_jw_newline(w);
	}
	out_close(&o);
	line = o.buf;
	for (i = 0; i < n; i++, line = nl + 1) {
		nl = memchr(line, '\n', o.len - (size_t)(line - o.buf));
		cr_assert_not_null(nl, "missing line %d", i);
		*nl = '\0';
		reference_double(want, sizeof(want), vals[i]);
		cr_assert_str_eq(line, want, "%a: wrote %s, printf's form is %s",
				 vals[i], line, want);
	}
	free(o.buf);
}

Test(json_out, random_doubles_in_printfs_form)
{
	enum { N = 50000 };
	uint64_t state = 20261128;
	double *vals = malloc(N * sizeof(*vals));
	int i;

	cr_assert_not_null(vals);
	for (i = 0; i < N; i++)
		do
			vals[i] = random_double(&state);
		while (!isfinite(vals[i]));
	expect_printfs_form(vals, N);
	free(vals);
}

/*
 * At a power of two the double below is twice as close as the one above,
 * so the nearest 16 digits may fall outside the value's interval and 17
 * are needed: every +-2^k and its two neighbours, in printf's form.
 */
Test(json_out, powers_of_two_and_neighbours_in_printfs_form)
{
	enum { N = 3 * 2 * (1023 + 1074 + 1) };
	double *vals = malloc(N * sizeof(*vals));
	int k, sign, n = 0;

	cr_assert_not_null(vals);
	for (k = -1074; k <= 1023; k++)
		for (sign = -1; sign <= 1; sign += 2) {
			vals[n] = sign * ldexp(1.0, k);
			vals[n + 1] = nextafter(vals[n], 0.0);
			vals[n + 2] = nextafter(vals[n], sign * INFINITY);
			n += 3;
		}
	cr_assert_eq(n, N);
	expect_printfs_form(vals, N);
	free(vals);
}

Test(json_out, newline_starts_a_new_top_level_value)
{
	struct out o;
	idg_jw *w = out_open(&o);

	idg_jw_object_begin(w);
	idg_jw_key(w, "id", 2);
	idg_jw_int(w, 1);
	idg_jw_object_end(w);
	idg_jw_newline(w);
	idg_jw_object_begin(w);
	idg_jw_key(w, "id", 2);
	idg_jw_int(w, 2);
	idg_jw_object_end(w);
	idg_jw_newline(w);
	idg_jw_array_begin(w);
	idg_jw_array_end(w);
	idg_jw_newline(w);
	idg_jw_string(w, "s", 1);
	idg_jw_newline(w);
	idg_jw_int(w, 5);
	idg_jw_newline(w);
	EXPECT(&o, "{\"id\":1}\n{\"id\":2}\n[]\n\"s\"\n5\n");
}

/*
 * Without idg_jw_newline, successive top-level values are separated like
 * array elements: the top level is treated as one more level of nesting.
 */
Test(json_out, top_level_values_without_newline_get_commas)
{
	struct out o;
	idg_jw *w = out_open(&o);

	idg_jw_int(w, 1);
	idg_jw_int(w, 2);
	idg_jw_object_begin(w);
	idg_jw_object_end(w);
	EXPECT(&o, "1,2,{}");
}

Test(json_out, raw_is_verbatim_and_leaves_commas_alone)
{
	struct out o;
	idg_jw *w = out_open(&o);

	idg_jw_raw(w, "# head\n", 7);
	idg_jw_array_begin(w);
	idg_jw_int(w, 1);
	idg_jw_raw(w, " \"\xff\x01 ", 5);
	idg_jw_int(w, 2);
	idg_jw_array_end(w);
	idg_jw_newline(w);
	idg_jw_raw(w, "", 0);
	idg_jw_int(w, 3);
	idg_jw_newline(w);
	EXPECT(&o, "# head\n[1 \"\xff\x01 ,2]\n3\n");
}

Test(json_out, close_does_not_close_the_stream)
{
	struct out o;

	idg_jw_null(out_open(&o));
	cr_assert_eq(idg_jw_close(o.w), 0);
	cr_assert_geq(fputs(" after", o.fp), 0);
	cr_assert_eq(fclose(o.fp), 0);
	cr_assert_eq(o.len, 10);
	cr_assert_eq(memcmp(o.buf, "null after", 10), 0);
	free(o.buf);
}

/* A 4 MiB string whose escapes and multibyte characters straddle every
 * buffer boundary, and a 2 MiB all-ASCII one that takes the fast path. */
Test(json_out, large_strings_are_exact_across_flushes)
{
	static const char unit[] = "ab\"\xc3\xa9\n\x01\xf0\x9f\x98\x80\xff";
	static const char unit_out[] =
	    "ab\\\"\xc3\xa9\\n\\u0001\xf0\x9f\x98\x80\\ufffd";
	enum { REPS = 300000, ASCII = 2 << 20 };
	size_t ul = sizeof(unit) - 1, uol = sizeof(unit_out) - 1, i;
	char *in = malloc(REPS * ul), *want = malloc(REPS * uol + ASCII + 8);
	char *p = want;
	struct out o;
	idg_jw *w = out_open(&o);

	cr_assert(in && want);
	for (i = 0; i < REPS; i++)
		memcpy(in + i * ul, unit, ul);
	*p++ = '"';
	for (i = 0; i < REPS; i++, p += uol)
		memcpy(p, unit_out, uol);
	*p++ = '"';
	idg_jw_string(w, in, REPS * ul);
	free(in);
	in = malloc(ASCII);
	cr_assert_not_null(in);
	memset(in, 'q', ASCII);
	in[ASCII - 1] = 'z';
	idg_jw_string(w, in, ASCII);
	*p++ = ',';
	*p++ = '"';
	memcpy(p, in, ASCII);
	p += ASCII;
	*p++ = '"';
	free(in);
	out_expect_n(&o, want, (size_t)(p - want));
	free(want);
}

Test(json_out, many_lines_are_exact_after_flushing)
{
	enum { LINES = 100000 };
	FILE *fp = tmpfile();
	idg_jw *w;
	char line[128], want[128];
	int i;

	cr_assert_not_null(fp);
	w = idg_jw_open(fp);
	cr_assert_not_null(w);
	for (i = 0; i < LINES; i++) {
		idg_jw_object_begin(w);
		idg_jw_key(w, "i", 1);
		idg_jw_int(w, i);
		idg_jw_key(w, "s", 1);
		snprintf(line, sizeof(line), "line\t%d", i);
		idg_jw_string(w, line, strlen(line));
		idg_jw_object_end(w);
		idg_jw_newline(w);
	}
	cr_assert_eq(idg_jw_close(w), 0);
	cr_assert_gt(ftell(fp), 1L << 20, "only %ld bytes", ftell(fp));
	rewind(fp);
	for (i = 0; i < LINES; i++) {
		cr_assert_not_null(fgets(line, sizeof(line), fp), "line %d", i);
		snprintf(want, sizeof(want), "{\"i\":%d,\"s\":\"line\\t%d\"}\n",
			 i, i);
		cr_assert_str_eq(line, want);
	}
	cr_assert_null(fgets(line, sizeof(line), fp));
	fclose(fp);
}

/*
 * The header promises idg_jw_newline() flushes once the buffer is large:
 * after 150 KB of lines most must have reached the stream, and the
 * writer must have handed them over at line boundaries.
 */
Test(json_out, newline_flushes_a_large_buffer)
{
	struct out o;
	idg_jw *w = out_open(&o);
	int i;

	for (i = 0; i < 5000; i++) {
		idg_jw_string(w, "twenty-eight bytes of text", 26);
		idg_jw_newline(w);
	}
	cr_assert_eq(fflush(o.fp), 0);
	cr_assert_geq(o.len, 100000, "only %zu bytes reached fp", o.len);
	cr_assert_eq(o.buf[o.len - 1], '\n');
	cr_assert_eq(o.len % 29, 0);
	out_close(&o);
	cr_assert_eq(o.len, 5000 * 29);
	free(o.buf);
}

Test(json_out, close_null_is_a_no_op)
{
	cr_assert_eq(idg_jw_close(NULL), 0);
}

/* A small output fails only when stdio flushes its own buffer at close. */
Test(json_out, eio_when_the_stream_fails_at_close)
{
	FILE *fp = fopen("/dev/full", "w");
	idg_jw *w;

	if (!fp)
		cr_skip_test("no /dev/full");
	w = idg_jw_open(fp);
	cr_assert_not_null(w);
	idg_jw_string(w, "x", 1);
	idg_jw_newline(w);
	cr_assert_eq(idg_jw_close(w), IDG_EIO);
	fclose(fp);
}

/*
 * A large output fails in the writer's own fwrite calls, long before
 * close; a writer that ignored their result could miss it, as stdio has
 * nothing left to flush by then.
 */
Test(json_out, eio_when_the_stream_fails_while_writing)
{
	FILE *fp = fopen("/dev/full", "w");
	idg_jw *w;
	int i;

	if (!fp)
		cr_skip_test("no /dev/full");
	w = idg_jw_open(fp);
	cr_assert_not_null(w);
	for (i = 0; i < 100000; i++) {
		idg_jw_array_begin(w);
		idg_jw_uint(w, UINT64_MAX);
		idg_jw_double(w, 0.1);
		idg_jw_array_end(w);
		idg_jw_newline(w);
	}
	cr_assert_eq(idg_jw_close(w), IDG_EIO);
	fclose(fp);
}

Test(json_out, number_text_takes_commas_like_any_value)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	idg_jw *w = idg_jw_open(fp);

	idg_jw_array_begin(w);
	idg_jw_number_text(w, "123456789012345678901234567890", 30);
	idg_jw_number_text(w, "-1", 2);
	idg_jw_array_end(w);
	cr_assert_eq(idg_jw_close(w), 0);
	fclose(fp);
	cr_assert_str_eq(buf, "[123456789012345678901234567890,-1]");
	free(buf);
}
