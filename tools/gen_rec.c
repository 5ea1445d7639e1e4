/*
 * gen_rec.c — records of the workload generator as trees of values, and
 * their JSON and MessagePack forms (see gen_rec.h).
 *
 * Invariant: nodes[0..nn) and text[0..nt) hold the record being built;
 * every container's children are the chain first -> next -> ... -> last,
 * n of them, in the order they were added, which is the order written.
 */
#include "gen_rec.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
rec_clear(struct rec *r)
{
	r->nn = 0;
	r->nt = 0;
	r->has_insert_id = 0;
}

static int
add(struct rec *r, int parent, const char *key, int type)
{
	struct rec_node *n;
	int i = r->nn++;

	assert(i < REC_MAX_NODES);
	n = &r->nodes[i];
	memset(n, 0, sizeof(*n));
	n->key = key;
	n->type = type;
	n->first = n->last = n->next = -1;
	if (parent >= 0) {
		struct rec_node *p = &r->nodes[parent];

		if (p->last >= 0)
			r->nodes[p->last].next = i;
		else
			p->first = i;
		p->last = i;
		p->n++;
	}
	return i;
}

int
rec_obj(struct rec *r, int parent, const char *key)
{
	return add(r, parent, key, V_OBJ);
}

int
rec_arr(struct rec *r, int parent, const char *key)
{
	return add(r, parent, key, V_ARR);
}

/* A string the record does not own: a literal, or text in r->text. */
void
rec_str(struct rec *r, int parent, const char *key, const char *s, size_t len)
{
	int i = add(r, parent, key, V_STR);

	r->nodes[i].s = s;
	r->nodes[i].len = len;
}

void
rec_strz(struct rec *r, int parent, const char *key, const char *s)
{
	rec_str(r, parent, key, s, strlen(s));
}

/* A string formatted into the record's text arena. */
void
rec_strf(struct rec *r, int parent, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->text + r->nt, REC_MAX_TEXT - r->nt, fmt, ap);
	va_end(ap);
	assert(n >= 0 && (size_t)n < REC_MAX_TEXT - r->nt);
	rec_str(r, parent, key, r->text + r->nt, (size_t)n);
	r->nt += (size_t)n + 1;
}

/* Copies s into the record's text arena. */
void
rec_strcopy(struct rec *r, int parent, const char *key, const char *s,
	    size_t len)
{
	assert(len < REC_MAX_TEXT - r->nt);
	memcpy(r->text + r->nt, s, len);
	r->text[r->nt + len] = '\0';
	rec_str(r, parent, key, r->text + r->nt, len);
	r->nt += len + 1;
}

void
rec_int(struct rec *r, int parent, const char *key, int64_t v)
{
	r->nodes[add(r, parent, key, V_INT)].i = v;
}

/* The decimal number mantissa / 10^places (mantissa >= 0): JSON gets its
 * exact digits, MessagePack the nearest double, and since IEEE division
 * rounds correctly both read back as the same double. */
void
rec_dec(struct rec *r, int parent, const char *key, int64_t mantissa,
	int places)
{
	int i = add(r, parent, key, V_DEC);

	assert(mantissa >= 0 && places > 0 && places < 10);
	r->nodes[i].i = mantissa;
	r->nodes[i].places = places;
}

void
rec_bool(struct rec *r, int parent, const char *key, int v)
{
	r->nodes[add(r, parent, key, V_BOOL)].i = v;
}

/* ------------------------------------------------------------------ */
/* Writing a record: JSON through idg_jw, MessagePack by hand          */

static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4,
			       1e5, 1e6, 1e7, 1e8, 1e9};

/* Writes m / 10^places with its digits, e.g. 1704067203.600. */
static void
json_decimal(idg_jw *w, int64_t m, int places)
{
	char buf[32], *p = buf + sizeof buf;
	int k = 0;

	do {
		*--p = (char)('0' + m % 10);
		m /= 10;
		if (++k == places)
			*--p = '.';
	} while (m > 0 || k <= places);
	if (*p == '.')
		*--p = '0';
	idg_jw_number_text(w, p, (size_t)(buf + sizeof buf - p));
}

static void
json_value(idg_jw *w, const struct rec *r, int i)
{
	const struct rec_node *n = &r->nodes[i];

	if (n->key)
		idg_jw_key(w, n->key, strlen(n->key));
	switch (n->type) {
	case V_STR:
		idg_jw_string(w, n->s, n->len);
		break;
	case V_INT:
		idg_jw_int(w, n->i);
		break;
	case V_DEC:
		json_decimal(w, n->i, n->places);
		break;
	case V_BOOL:
		idg_jw_bool(w, (int)n->i);
		break;
	case V_NULL:
		idg_jw_null(w);
		break;
	default:
		if (n->type == V_OBJ)
			idg_jw_object_begin(w);
		else
			idg_jw_array_begin(w);
		for (int k = n->first; k >= 0; k = r->nodes[k].next)
			json_value(w, r, k);
		if (n->type == V_OBJ)
			idg_jw_object_end(w);
		else
			idg_jw_array_end(w);
	}
}

static void
mp_put(struct rec_buf *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *p;

		while (cap < b->len + n)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* A type byte followed by v in `bytes` big-endian bytes. */
static void
mp_be(struct rec_buf *b, unsigned char type, uint64_t v, int bytes)
{
	unsigned char t[9];

	t[0] = type;
	for (int k = 0; k < bytes; k++)
		t[1 + k] = (unsigned char)(v >> (8 * (bytes - 1 - k)));
	mp_put(b, t, (size_t)bytes + 1);
}

/* A map, array or string header: fix form below fix_max, else 8/16/32. */
static void
mp_head(struct rec_buf *b, unsigned char fix, size_t fix_max,
	const unsigned char wide[3], size_t n)
{
	if (n < fix_max)
		mp_be(b, (unsigned char)(fix | n), 0, 0);
	else if (wide[0] && n <= 0xff)
		mp_be(b, wide[0], n, 1);
	else if (n <= 0xffff)
		mp_be(b, wide[1], n, 2);
	else
		mp_be(b, wide[2], n, 4);
}

static void
mp_str(struct rec_buf *b, const char *s, size_t n)
{
	static const unsigned char wide[3] = {0xd9, 0xda, 0xdb};

	mp_head(b, 0xa0, 32, wide, n);
	mp_put(b, s, n);
}

static void
mp_int(struct rec_buf *b, int64_t v)
{
	if (v >= 0 && v < 128)
		mp_be(b, (unsigned char)v, 0, 0);
	else if (v >= 0 && v <= 0xffff)
		mp_be(b, v <= 0xff ? 0xcc : 0xcd, (uint64_t)v,
		      v <= 0xff ? 1 : 2);
	else if (v >= 0 && v <= 0xffffffff)
		mp_be(b, 0xce, (uint64_t)v, 4);
	else if (v >= 0)
		mp_be(b, 0xcf, (uint64_t)v, 8);
	else if (v >= -32)
		mp_be(b, (unsigned char)(0xe0 | (v + 32)), 0, 0);
	else
		mp_be(b, 0xd3, (uint64_t)v, 8);
}

static void
mp_value(struct rec_buf *b, const struct rec *r, int i)
{
	static const unsigned char map_wide[3] = {0, 0xde, 0xdf};
	static const unsigned char arr_wide[3] = {0, 0xdc, 0xdd};
	const struct rec_node *n = &r->nodes[i];
	uint64_t bits;
	double d;

	if (n->key)
		mp_str(b, n->key, strlen(n->key));
	switch (n->type) {
	case V_STR:
		mp_str(b, n->s, n->len);
		break;
	case V_INT:
		mp_int(b, n->i);
		break;
	case V_DEC:
		d = (double)n->i / pow10[n->places];
		memcpy(&bits, &d, sizeof bits);
		mp_be(b, 0xcb, bits, 8);
		break;
	case V_BOOL:
		mp_be(b, n->i ? 0xc3 : 0xc2, 0, 0);
		break;
	case V_NULL:
		mp_be(b, 0xc0, 0, 0);
		break;
	default:
		if (n->type == V_OBJ)
			mp_head(b, 0x80, 16, map_wide, (size_t)n->n);
		else
			mp_head(b, 0x90, 16, arr_wide, (size_t)n->n);
		for (int k = n->first; k >= 0; k = r->nodes[k].next)
			mp_value(b, r, k);
	}
}

void
rec_write_json(idg_jw *w, const struct rec *r)
{
	json_value(w, r, 0);
}

void
rec_write_msgpack(struct rec_buf *b, const struct rec *r)
{
	mp_value(b, r, 0);
}
