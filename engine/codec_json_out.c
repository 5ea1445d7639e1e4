/*
 * codec_json_out.c — the JSON writer: escaping, numbers and punctuation.
 *
 * Invariant: buf[0..len) holds, in order, every byte produced since the last
 * flush, and nothing reaches fp except by flush(), so the output is exactly
 * the sequence of calls made. Bit d of `more` is set iff the container open
 * at depth d (depth 0 being the top level) already holds a key or a value,
 * so the next one there must be preceded by a comma; after_key is set iff
 * the last thing written was a key and its colon, whose value takes no
 * comma. Once err is set the output is already broken, so later bytes are
 * discarded instead of written.
 */
#include "idgraph.h"

#include "fmt_double.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The buffer starts small, so that a writer used for one short answer
 * allocates little, and doubles up to JW_FLUSH_AT; from then on it is
 * flushed whenever it is full, so memory stays bounded however long a
 * single value is. Every fixed-size piece (a number, an escape) is at most
 * JW_MIN_CAP bytes, so it always fits once the buffer has been flushed.
 */
#define JW_MIN_CAP 4096
#define JW_FLUSH_AT (64 * 1024)
#define JW_STACK_BITS 64 /* nesting levels tracked without allocating */

struct idg_jw {
	FILE *fp;
	char *buf;
	size_t len;
	size_t cap;
	int err;
	int after_key;
	size_t depth;
	size_t more_bytes; /* size of more[] in bytes */
	unsigned char *more;
	unsigned char small[JW_STACK_BITS / 8];
};

idg_jw *
idg_jw_open(FILE *fp)
{
	idg_jw *w;

	/* NULL is the only failure this function can report. */
	if (!fp)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->buf = malloc(JW_MIN_CAP);
	if (!w->buf) {
		free(w);
		return NULL;
	}
	w->fp = fp;
	w->cap = JW_MIN_CAP;
	w->more = w->small;
	w->more_bytes = sizeof(w->small);
	return w;
}

static void
flush(idg_jw *w)
{
	if (w->len > 0 && !w->err && fwrite(w->buf, 1, w->len, w->fp) != w->len)
		w->err = IDG_EIO;
	w->len = 0;
}

int
idg_jw_close(idg_jw *w)
{
	int err;

	if (!w)
		return 0;
	flush(w);
	/* fp is borrowed, but a full disk often shows only when stdio writes
	 * its own buffer out: without this fflush the error would be lost. */
	if (!w->err && fflush(w->fp) != 0)
		w->err = IDG_EIO;
	err = w->err;
	if (w->more != w->small)
		free(w->more);
	free(w->buf);
	free(w);
	return err;
}

/* Called when fewer than some n <= JW_MIN_CAP bytes are free: makes room
 * for n by growing the buffer or, once it is large, by flushing it. */
static void
make_room(idg_jw *w)
{
	char *bigger;

	if (w->cap < JW_FLUSH_AT) {
		/* One doubling is enough: cap - len < n <= cap. */
		bigger = realloc(w->buf, w->cap * 2);
		if (bigger) {
			w->buf = bigger;
			w->cap *= 2;
			return;
		}
		/* Out of memory: a flush makes room just as well. */
	}
	flush(w);
}

/* Returns where n (<= JW_MIN_CAP) bytes can be written; the caller adds the
 * number it wrote to len. */
static char *
room(idg_jw *w, size_t n)
{
	if (w->cap - w->len < n)
		make_room(w);
	return w->buf + w->len;
}

static void
put_byte(idg_jw *w, char c)
{
	*room(w, 1) = c;
	w->len++;
}

/* Appends any number of bytes, filling and flushing the buffer as it goes. */
static void
append(idg_jw *w, const void *p, size_t n)
{
	const char *src = p;
	size_t k;

	while (n > 0) {
		if (w->len == w->cap)
			make_room(w);
		k = w->cap - w->len;
		if (k > n)
			k = n;
		memcpy(w->buf + w->len, src, k);
		w->len += k;
		src += k;
		n -= k;
	}
}

/*
 * Comma state. The first JW_STACK_BITS levels live in the struct; deeper
 * nesting moves the bits to the heap. If that allocation fails the writer
 * records an error rather than placing commas wrongly, and reads of bits it
 * could not store see 0, so nothing is ever accessed out of bounds.
 */
static int
test_and_set_more(idg_jw *w, size_t d)
{
	unsigned char bit = (unsigned char)(1u << (d % 8));
	int was;

	if (d / 8 >= w->more_bytes)
		return 0;
	was = (w->more[d / 8] & bit) != 0;
	w->more[d / 8] |= bit;
	return was;
}

static void
clear_more(idg_jw *w, size_t d)
{
	if (d / 8 < w->more_bytes)
		w->more[d / 8] &= (unsigned char)~(1u << (d % 8));
}

static void
grow_more(idg_jw *w)
{
	size_t n = w->more_bytes * 2;
	unsigned char *p;

	p = w->more == w->small ? malloc(n) : realloc(w->more, n);
	if (!p) {
		w->err = IDG_EIO;
		return;
	}
	if (w->more == w->small)
		memcpy(p, w->small, sizeof(w->small));
	memset(p + w->more_bytes, 0, n - w->more_bytes);
	w->more = p;
	w->more_bytes = n;
}

/* Writes the comma, if any, that must come before a value or key. */
static void
begin_item(idg_jw *w)
{
	if (w->after_key)
		w->after_key = 0;
	else if (test_and_set_more(w, w->depth))
		put_byte(w, ',');
}

static void
open_container(idg_jw *w, char c)
{
	begin_item(w);
	put_byte(w, c);
	w->depth++;
	if (w->depth / 8 >= w->more_bytes)
		grow_more(w);
	clear_more(w, w->depth);
}

static void
close_container(idg_jw *w, char c)
{
	/* A stray end must not take depth below the top level. */
	if (w->depth > 0)
		w->depth--;
	w->after_key = 0;
	put_byte(w, c);
}

void
idg_jw_object_begin(idg_jw *w)
{
	open_container(w, '{');
}

void
idg_jw_object_end(idg_jw *w)
{
	close_container(w, '}');
}

void
idg_jw_array_begin(idg_jw *w)
{
	open_container(w, '[');
}

void
idg_jw_array_end(idg_jw *w)
{
	close_container(w, ']');
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */

static int
is_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/*
 * Nonzero iff some byte of x is < 0x20, '"', '\\' or >= 0x7f: the bytes
 * is_plain() refuses. These are the exact "does any byte" tests from Sean
 * Anderson's Bit Twiddling Hacks (haszero, hasless, hasmore); they may flag
 * extra bytes next to a real one, which is harmless because the caller
 * only uses the answer to stop skipping eight bytes at a time.
 */
static uint64_t
word_has_special(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101u;
	const uint64_t high = ones * 0x80;
	uint64_t q = x ^ (ones * '"');
	uint64_t b = x ^ (ones * '\\');

	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
		((b - ones) & ~b) | (x + ones) | x) &
	       high;
}

/* Returns the first byte at or after s that is not plain ASCII. */
static const unsigned char *
skip_plain(const unsigned char *s, const unsigned char *end)
{
	uint64_t x;

	while (end - s >= 8) {
		memcpy(&x, s, sizeof(x));
		if (word_has_special(x))
			break;
		s += 8;
	}
	while (s < end && is_plain(*s))
		s++;
	return s;
}

/*
 * Length of the well-formed UTF-8 sequence starting with the byte >= 0x80
 * at s, or 0 if it does not start one. The ranges are those of Unicode's
 * table of well-formed byte sequences (RFC 3629 §4): narrowing the second
 * byte's range after E0, ED, F0 and F4 is what rejects overlong forms,
 * surrogates and code points above U+10FFFF.
 */
static size_t
utf8_len(const unsigned char *s, const unsigned char *end)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		lo = c == 0xe0 ? 0xa0 : lo;
		hi = c == 0xed ? 0x9f : hi;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		lo = c == 0xf0 ? 0x90 : lo;
		hi = c == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if ((size_t)(end - s) < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Escapes one byte that is neither plain ASCII nor part of valid UTF-8. */
static void
put_escape(idg_jw *w, unsigned char c)
{
	/* The characters JSON has a two-character escape for, and its
	 * letters; every other byte below 0x20, and DEL, takes \u00XX. */
	static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
	static const char hex[] = "0123456789abcdef";
	const char *f = memchr(from, c, sizeof(from) - 1);
	char *p = room(w, 6);

	if (c >= 0x80) {
		memcpy(p, "\\ufffd", 6);
		w->len += 6;
	} else if (f) {
		p[0] = '\\';
		p[1] = to[f - from];
		w->len += 2;
	} else {
		memcpy(p, "\\u00", 4);
		p[4] = hex[c >> 4];
		p[5] = hex[c & 0xf];
		w->len += 6;
	}
}

/*
 * Plain ASCII and valid UTF-8 both pass through unchanged, so they are
 * gathered into one run and copied with a single append; only the bytes
 * that need escaping end a run.
 */
static void
put_string(idg_jw *w, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *end = s + len, *run = s;
	size_t n;

	put_byte(w, '"');
	while (s < end) {
		s = skip_plain(s, end);
		if (s == end)
			break;
		n = *s >= 0x80 ? utf8_len(s, end) : 0;
		if (n > 0) {
			s += n;
			continue;
		}
		append(w, run, (size_t)(s - run));
		put_escape(w, *s);
		run = ++s;
	}
	append(w, run, (size_t)(s - run));
	put_byte(w, '"');
}

void
idg_jw_key(idg_jw *w, const char *key, size_t len)
{
	begin_item(w);
	put_string(w, key, len);
	put_byte(w, ':');
	w->after_key = 1;
}

void
idg_jw_string(idg_jw *w, const char *s, size_t len)
{
	begin_item(w);
	put_string(w, s, len);
}

/* ------------------------------------------------------------------ */
/* Numbers and literals                                                */

static void
put_decimal(idg_jw *w, uint64_t u, int negative)
{
	char tmp[21], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (negative)
		*--p = '-';
	append(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
idg_jw_int(idg_jw *w, int64_t v)
{
	begin_item(w);
	/* Negating in unsigned arithmetic is defined even for INT64_MIN. */
	if (v < 0)
		put_decimal(w, (uint64_t)0 - (uint64_t)v, 1);
	else
		put_decimal(w, (uint64_t)v, 0);
}

void
idg_jw_uint(idg_jw *w, uint64_t v)
{
	begin_item(w);
	put_decimal(w, v, 0);
}

void
idg_jw_double(idg_jw *w, double v)
{
	char num[IDG__DOUBLE_CHARS];
	size_t n;

	if (!isfinite(v)) {
		idg_jw_null(w);
		return;
	}
	begin_item(w);
	/* "%g" at the fewest digits that read back as v (fmt_double.h). */
	n = idg__format_double(num, sizeof(num) - 2, v);
	/* A reader would take "1" for an integer; "1.0" stays a double. */
	if (!memchr(num, '.', n) && !memchr(num, 'e', n)) {
		memcpy(num + n, ".0", 2);
		n += 2;
	}
	append(w, num, n);
}

void
idg_jw_bool(idg_jw *w, int v)
{
	begin_item(w);
	if (v)
		append(w, "true", 4);
	else
		append(w, "false", 5);
}

void
idg_jw_null(idg_jw *w)
{
	begin_item(w);
	append(w, "null", 4);
}

void
idg_jw_number_text(idg_jw *w, const char *digits, size_t len)
{
	begin_item(w);
	append(w, digits, len);
}

/* ------------------------------------------------------------------ */
/* Lines and raw text                                                  */

/*
 * A flush only when the buffer is at least half full keeps fwrite calls
 * few for short lines, while lines shorter than half the buffer still
 * reach fp whole.
 */
void
idg_jw_newline(idg_jw *w)
{
	put_byte(w, '\n');
	w->depth = 0;
	w->after_key = 0;
	clear_more(w, 0);
	if (w->len >= JW_FLUSH_AT / 2)
		flush(w);
}

void
idg_jw_raw(idg_jw *w, const char *s, size_t len)
{
	append(w, s, len);
}
