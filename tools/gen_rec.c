/*
 * gen_rec.c — records of the workload generator as trees of values, and
 * their JSON form (see gen_rec.h; gen.c turns it into MessagePack).
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
/* Writing a record: JSON through idg_jw (MessagePack: gen.c)         */

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

void
rec_write_json(idg_jw *w, const struct rec *r)
{
	json_value(w, r, 0);
}
