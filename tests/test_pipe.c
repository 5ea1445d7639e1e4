/*
 * test_pipe.c — the two-stage ingest's handover of property names
 * (engine/pipe.c): the parse stage numbers names by its copy of the apply
 * stage's dictionary, and names the apply stage adds reach it, with the
 * same numbers.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec_json_in.h"
#include "codec_msgpack.h"
#include "idgraph.h"
#include "keys.h"
#include "ids.h"
#include "pipe.h"
#include "reader.h"
#include "record.h"

#define LINES 80000 /* over twice the records the chunks in flight hold */
#define ADD_AT 100 /* the record after which the apply stage adds "x" */
#define NOW_MS INT64_C(1800000000000)

struct seen {
	struct idg__keys *ak; /* the apply stage's dictionary */
	uint32_t records;
	uint32_t x_text_after; /* records after ADD_AT with "x" as text */
	uint32_t x_numbered;   /* records with "x" as its number */
	uint32_t last_x_text;  /* the last record with "x" as text */
};

static const char *
name_of(const struct idg__vrec *r, const struct idg__pkey *p, size_t *n)
{
	*n = p->len;
	return (const char *)r->props + p->val - p->len;
}

static int
apply(void *ctx, const struct idg__vrec *r, uint32_t index, int in_array)
{
	struct seen *s = ctx;
	static const char *const want[] = {"a", "x", "b", "distinct_id",
					   "time"};

	(void)index;
	(void)in_array;
	cr_assert_eq(r->kind, IDG__V_EVENT, "%s", r->msg ? r->msg : "");
	cr_assert_eq(r->nprops, 5);
	s->records++;
	for (uint32_t i = 0; i < 5; i++) {
		const struct idg__pkey *p = &r->pkeys[i];
		const char *name;
		size_t n;

		cr_assert_eq(p->len, strlen(want[i]));
		if (p->num) {
			/* A number is the apply stage's number of the name. */
			cr_assert_eq(idg__keys_name(s->ak, p->num, &name, &n),
				     0);
			cr_assert_eq(n, strlen(want[i]));
			cr_assert_eq(memcmp(name, want[i], n), 0);
			if (i == 1)
				s->x_numbered++;
			continue;
		}
		name = name_of(r, p, &n);
		cr_assert_eq(memcmp(name, want[i], n), 0);
		cr_assert_eq(i, 1, "the others are known from the start");
		s->last_x_text = s->records;
		if (s->records > ADD_AT)
			s->x_text_after++;
	}
	if (s->records == ADD_AT)
		cr_assert_eq(idg__keys_add(s->ak, 5, "x", 1), IDG_OK);
	return IDG_OK;
}

/* n lines of fmt, each given its number (fmt's one %d), in one buffer. */
static char *
lines_of(const char *fmt, int n, size_t *len)
{
	size_t cap = (size_t)n * (strlen(fmt) + 12);
	char *buf = malloc(cap);

	cr_assert_not_null(buf);
	*len = 0;
	for (int i = 0; i < n; i++)
		*len += (size_t)snprintf(buf + *len, cap - *len, fmt, i);
	return buf;
}

Test(pipe, names_the_apply_stage_adds_reach_the_parse_stage)
{
	size_t len;
	char *buf = lines_of("{\"event\":\"E\",\"properties\":"
			     "{\"a\":%d,\"x\":1,\"b\":2,"
			     "\"distinct_id\":\"u\",\"time\":1700000000}}\n",
			     LINES, &len);
	struct idg__jparser *jp = idg__jparser_new();
	struct idg__reader rd;
	struct idg__pipe *p;
	struct idg__upos pos;
	struct seen s = {0};
	int got;

	cr_assert_not_null(jp);
	s.ak = idg__keys_new();
	cr_assert_eq(idg__keys_add(s.ak, 1, "a", 1), IDG_OK);
	cr_assert_eq(idg__keys_add(s.ak, 2, "b", 1), IDG_OK);
	cr_assert_eq(idg__keys_add(s.ak, 3, "distinct_id", 11), IDG_OK);
	cr_assert_eq(idg__keys_add(s.ak, 4, "time", 4), IDG_OK);
	cr_assert_eq(idg__reader_init_mem(&rd, buf, len), IDG_OK);
	struct idg__source src = {&rd, 0, jp, NULL, NULL, NULL, 0, 0};

	cr_assert_eq(idg__pipe_start(&p, &src, s.ak, NOW_MS, IDG_MODE_ORIGINAL), IDG_OK);
	while ((got = idg__pipe_unit(p, apply, NULL, &s, &pos)) == 1)
		;
	cr_assert_eq(got, 0);
	idg__pipe_end(p, NULL);
	cr_assert_eq(s.records, LINES);
	/* "x" crossed with a chunk given back: the parse stage was at most
	 * the chunks in flight (32,768 records) ahead. */
	cr_assert_gt(s.x_text_after, 0, "the parse stage runs ahead");
	cr_assert_lt(s.last_x_text, LINES / 2, "last text x: %u",
		     s.last_x_text);
	cr_assert_eq(s.x_numbered, LINES - s.last_x_text);
	idg__reader_free(&rd);
	idg__jparser_free(jp);
	idg__keys_free(s.ak);
	free(buf);
}

static int
note_num(void *ctx, const struct idg__vrec *r, uint32_t index, int in_array)
{
	(void)index;
	(void)in_array;
	cr_assert_eq(r->kind, IDG__V_EVENT, "%s", r->msg ? r->msg : "");
	cr_assert_eq(r->nprops, 3);
	*(uint32_t *)ctx = r->pkeys[0].num;
	return IDG_OK;
}

static int
note_parsed_num(void *ctx, const struct idg__inrec *r, uint32_t index,
		int in_array, const char *error)
{
	(void)index;
	(void)in_array;
	cr_assert_null(error, "%s", error);
	cr_assert_eq(r->nprops, 3);
	*(uint32_t *)ctx = r->pkeys[0].num;
	return IDG_OK;
}

Test(pipe, the_parser_writes_text_again_after_the_pipe_ends)
{
	static const char line[IDG__JSON_PADDING + 128] =
	    "{\"event\":\"E\",\"properties\":{\"a\":1,"
	    "\"distinct_id\":\"u\",\"time\":1700000000}}\n";
	struct idg__jparser *jp = idg__jparser_new();
	struct idg__keys *ak = idg__keys_new();
	struct idg__reader rd;
	struct idg__pipe *p;
	struct idg__upos pos;
	uint32_t num = 0;

	cr_assert(jp && ak);
	cr_assert_eq(idg__keys_add(ak, 1, "a", 1), IDG_OK);
	cr_assert_eq(idg__reader_init_mem(&rd, line, strlen(line)), IDG_OK);
	struct idg__source src = {&rd, 0, jp, NULL, NULL, NULL, 0, 0};

	cr_assert_eq(idg__pipe_start(&p, &src, ak, NOW_MS, IDG_MODE_ORIGINAL), IDG_OK);
	cr_assert_eq(idg__pipe_unit(p, note_num, NULL, &num, &pos), 1);
	cr_assert_eq(num, 1, "numbered by the parse stage's copy");
	idg__pipe_end(p, NULL);
	/* The copy is gone with the pipe; the parser no longer uses it. */
	num = 99;
	cr_assert_eq(idg__json_parse_line(jp, line, strlen(line) - 1,
					  sizeof(line), note_parsed_num, &num),
		     IDG_OK);
	cr_assert_eq(num, 0);
	idg__reader_free(&rd);
	idg__jparser_free(jp);
	idg__keys_free(ak);
}

/* ---- what the parse stage works out for the apply stage ---- */

/* The body event v would be stored as (its head, then its properties),
 * assembled in buf and decoded into b. */
static void
body_of(const struct idg__vrec *v, char *buf, size_t cap, struct idg__body *b)
{
	size_t n = v->x.bhead_len + v->props_len;
	struct idg__mpdec *dec = idg__mpdec_new();

	cr_assert_not_null(v->x.bhead);
	cr_assert_lt(n, cap);
	memcpy(buf, v->x.bhead, v->x.bhead_len);
	memcpy(buf + v->x.bhead_len, v->props, v->props_len);
	cr_assert_not_null(dec);
	cr_assert_eq(idg__body_decode(dec, buf, n, NULL, b), IDG_OK);
	idg__mpdec_free(dec);
}

struct checked {
	int mode;
	struct idg__scratch sc;
	struct idg__invalid why;
	struct idg__vrec v;
	struct idg__body body; /* v's body (its head, then its properties) */
	char bytes[1024];
};

static int
check_one(void *ctx, const struct idg__inrec *jr, uint32_t index,
	  int in_array, const char *error)
{
	struct checked *c = ctx;

	(void)index;
	(void)in_array;
	idg__record_check(jr, error, NOW_MS, c->mode, &c->sc, &c->v, &c->why);
	cr_assert_eq(c->v.kind, IDG__V_EVENT, "%s", c->v.msg ? c->v.msg : "");
	cr_assert_eq(c->v.x.done, 0, "left to whichever stage has time");
	idg__record_extras(&c->v, &c->sc, &c->v.x);
	cr_assert_eq(c->v.x.done, 1);
	body_of(&c->v, c->bytes, sizeof(c->bytes), &c->body);
	return IDG_OK;
}

/* Checks the one record in text in mode, into c. */
static void
check_text(struct checked *c, int mode, const char *text)
{
	struct idg__jparser *jp = idg__jparser_new();
	size_t len = strlen(text);
	char *line = calloc(1, len + IDG__JSON_PADDING);

	cr_assert(jp && line);
	memcpy(line, text, len);
	c->mode = mode;
	cr_assert_eq(idg__json_parse_line(jp, line, len,
					  len + IDG__JSON_PADDING, check_one,
					  c),
		     IDG_OK);
	idg__jparser_free(jp);
	free(line);
}

static void
expect_str(const char *p, size_t n, const char *want)
{
	cr_assert_not_null(p);
	cr_assert_eq(n, strlen(want));
	cr_assert_eq(memcmp(p, want, n), 0, "%.*s", (int)n, p);
}

Test(pipe, record_extras_write_the_body_head_and_dedup_hash)
{
	struct checked c = {0};

	/* Ids that are properties: a byte each. */
	check_text(&c, IDG_MODE_ORIGINAL,
		   "{\"event\":\"E\",\"properties\":{\"distinct_id\":\"u1\","
		   "\"time\":1700000000,\"$insert_id\":\"i1\"}}");
	cr_assert_eq(c.v.x.bhead_len, 2);
	expect_str(c.body.did, c.body.did_len, "u1");
	expect_str(c.body.ins, c.body.ins_len, "i1");
	cr_assert_eq(c.v.x.dedup, idg__event_key_hash("E", 1,
						    INT64_C(1700000000000),
						    "u1", 2, "i1", 2));
	cr_assert_eq(c.v.x.name_hash, idg__hash64("E", 1));

	/* Simplified: the id is $user_id's, which the head holds as text;
	 * no $insert_id, no dedup hash. */
	check_text(&c, IDG_MODE_SIMPLIFIED,
		   "{\"event\":\"E\",\"properties\":{\"distinct_id\":\"d\","
		   "\"$user_id\":\"alice\",\"time\":1700000000}}");
	cr_assert_eq(c.v.x.bhead_len, 1 + 5 + 1);
	expect_str(c.body.did, c.body.did_len, "alice");
	cr_assert_null(c.body.ins);
	cr_assert_eq(c.v.x.dedup, 0);

	/* An integer distinct_id is stored as its text. */
	check_text(&c, IDG_MODE_ORIGINAL,
		   "{\"event\":\"F\",\"properties\":{\"distinct_id\":42,"
		   "\"time\":1700000000,\"$insert_id\":\"i1\"}}");
	expect_str(c.body.did, c.body.did_len, "42");
	expect_str(c.body.ins, c.body.ins_len, "i1");
	/* Another name, another hash. */
	cr_assert_neq(c.v.x.dedup, idg__event_key_hash("E", 1,
						     INT64_C(1700000000000),
						     "42", 2, "i1", 2));
	idg__scratch_free(&c.sc);
}

/* Records the apply stage takes, and how many came with their extras. */
struct taken {
	uint32_t records, with_extras;
};

static int
take_event(void *ctx, const struct idg__vrec *v, uint32_t index, int in_array)
{
	struct taken *t = ctx;
	char body[512], want_ins[16];
	struct idg__body b;

	(void)index;
	(void)in_array;
	cr_assert_eq(v->kind, IDG__V_EVENT);
	snprintf(want_ins, sizeof(want_ins), "i%u", t->records);
	t->records++;
	if (!v->x.done)
		return IDG_OK;
	/* Made on the parse stage, they crossed in the chunk intact. */
	t->with_extras++;
	body_of(v, body, sizeof(body), &b);
	expect_str(b.ins, b.ins_len, want_ins);
	cr_assert_eq(v->x.dedup,
		     idg__event_key_hash("E", 1, INT64_C(1700000000000), "u", 1,
					 want_ins, strlen(want_ins)));
	cr_assert_eq(v->x.name_hash, idg__hash64("E", 1));
	return IDG_OK;
}

/*
 * The parse stage takes on the extras while the apply stage has a backlog
 * (here: it waits before taking anything), and leaves them to the apply
 * stage while it has none (the first chunks).
 */
Test(pipe, the_parse_stage_does_the_extras_while_the_apply_stage_is_behind)
{
	enum { N = 20000 };
	size_t len;
	char *buf = lines_of("{\"event\":\"E\",\"properties\":"
			     "{\"distinct_id\":\"u\",\"time\":"
			     "1700000000,\"$insert_id\":\"i%d\"}}\n",
			     N, &len);
	struct idg__jparser *jp = idg__jparser_new();
	struct idg__reader rd;
	struct idg__pipe *p;
	struct idg__upos pos;
	struct taken t = {0};
	int got;

	cr_assert_not_null(jp);
	cr_assert_eq(idg__reader_init_mem(&rd, buf, len), IDG_OK);
	struct idg__source src = {&rd, 0, jp, NULL, NULL, NULL, 0, 0};

	cr_assert_eq(idg__pipe_start(&p, &src, NULL, NOW_MS,
				     IDG_MODE_ORIGINAL),
		     IDG_OK);
	sleep(1); /* the parse stage fills chunks meanwhile */
	while ((got = idg__pipe_unit(p, take_event, NULL, &t, &pos)) == 1)
		;
	cr_assert_eq(got, 0);
	idg__pipe_end(p, NULL);
	cr_assert_eq(t.records, N);
	cr_assert_gt(t.with_extras, 0, "none made on the parse stage");
	cr_assert_lt(t.with_extras, N, "the first chunks had no backlog");
	idg__reader_free(&rd);
	idg__jparser_free(jp);
	free(buf);
}
