/*
 * events.c — the event store: every valid event, kept whole.
 *
 * An event is stored twice, once for each kind of reader:
 *   - ev:     (time, seq) -> head (stamp, node, name, dedup hash), for
 *             reports, which scan the small heads and never a property;
 *   - evbody: seq -> msgpack body (name, time, distinct_id as sent,
 *             $insert_id, properties with their exact types), for exports.
 * seq counts events in ingestion order, so it breaks ties of time in that
 * order. Both tables are appended to when events come in time order.
 *
 * Deduplication: two copies of an event share their time, so the heads
 * stored under that millisecond are the only candidates; one whose hash of
 * (name, time, distinct_id as sent, $insert_id) matches is confirmed
 * against its body, so a collision never merges two events. The last copy
 * ingested wins: its properties replace the earlier copy's body, while the
 * head (the first copy's stamp and node) stays.
 */
#include "events.h"

#include <string.h>

#include <stdlib.h>

#include "ids.h"
#include "keys.h"

static void
put_be(unsigned char *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
}

static uint64_t
get_be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* Signed times sort as unsigned once the sign bit is flipped. */
#define FLIP(t) ((uint64_t)(t) ^ (UINT64_C(1) << 63))

void
idg__evkey(unsigned char key[IDG__EVKEY_BYTES], int64_t time_ms, uint64_t seq)
{
	put_be(key, FLIP(time_ms), 8);
	put_be(key + 8, seq, 8);
}

void
idg__evkey_read(const void *key, size_t len, int64_t *time_ms, uint64_t *seq)
{
	const unsigned char *p = (const unsigned char *)key + len - 16;

	*time_ms = (int64_t)FLIP(get_be(p, 8));
	*seq = get_be(p + 8, 8);
}

/* The dedup hash of an event with $insert_id: never 0. */
static uint64_t
dedup_hash(const struct idg__body *body)
{
	unsigned char name[4], time[8], h[IDG__HASH_BYTES];
	struct idg__val parts[4] = {
	    {name, 4}, {time, 8}, {body->did, body->did_len},
	    {body->ins, body->ins_len}};
	uint64_t v;

	put_be(name, body->name, 4);
	put_be(time, FLIP(body->time_ms), 8);
	idg__hash_parts(parts, 4, h);
	memcpy(&v, h, sizeof(v));
	return v ? v : 1;
}

static int
same_event(const struct idg__body *a, const struct idg__body *b)
{
	return a->name == b->name && a->time_ms == b->time_ms &&
	       a->did_len == b->did_len && a->ins_len == b->ins_len &&
	       memcmp(a->did, b->did, a->did_len) == 0 &&
	       memcmp(a->ins, b->ins, a->ins_len) == 0;
}

static int
body_get(struct idg__batch *b, uint64_t seq, struct idg__body *out)
{
	struct idg__val v;
	int rc = idg__store_get(b->txn, IDG__T_EVBODY, &seq, sizeof(seq), &v,
				b->err);

	if (rc == IDG_ENOTFOUND ||
	    (rc == IDG_OK &&
	     idg__body_decode(v.p, v.n, b->db->keys, out) != 0))
		return idg__err_set(b->err, IDG_ECORRUPT,
				    "event %llu is missing or corrupt",
				    (unsigned long long)seq);
	return rc;
}

int
idg__events_find_dup(struct idg__batch *b, const struct idg__body *body,
		     uint64_t *seq)
{
	unsigned char key[IDG__EVKEY_BYTES];
	struct idg__val k = {key, sizeof(key)}, v;
	struct idg__cursor *c;
	struct idg__evhead h;
	struct idg__body old;
	uint64_t want;
	int64_t time;
	int rc, op = IDG__SET_RANGE;

	/* A copy shares its time: none can precede the latest time yet. */
	if (!body->ins || body->time_ms > b->st.max_time)
		return IDG_ENOTFOUND;
	want = dedup_hash(body);
	idg__evkey(key, body->time_ms, 0);
	rc = idg__cursor_open(b->txn, IDG__T_EV, &c, b->err);
	while (rc == IDG_OK &&
	       (rc = idg__cursor_get(c, op, &k, &v, b->err)) == IDG_OK) {
		op = IDG__NEXT;
		idg__evkey_read(k.p, k.n, &time, seq);
		if (time != body->time_ms) {
			rc = IDG_ENOTFOUND;
			break;
		}
		memcpy(&h, v.p, sizeof(h));
		if (h.dedup != want)
			continue;
		rc = body_get(b, *seq, &old);
		if (rc == IDG_OK && same_event(&old, body))
			break;
	}
	idg__cursor_close(c);
	return rc;
}

/* The batch's cursors: every write to ev and evbody goes through them. */
static int
cursors(struct idg__batch *b)
{
	int rc = IDG_OK;

	if (!b->evc)
		rc = idg__cursor_open(b->txn, IDG__T_EV, &b->evc, b->err);
	if (rc == IDG_OK && !b->bodyc)
		rc = idg__cursor_open(b->txn, IDG__T_EVBODY, &b->bodyc,
				      b->err);
	return rc;
}

/* 1 if every property name of the body was written as its number. */
static int
all_numbered(const struct idg__body *body)
{
	for (uint32_t i = 0; i < body->npkeys; i++)
		if (!body->pkeys[i].num)
			return 0;
	return 1;
}

static int
body_put(struct idg__batch *b, uint64_t seq, const struct idg__event *ev,
	 unsigned flags)
{
	struct idg__mpw *w = b->db->mpw;
	const uint32_t *nums = NULL;
	const void *data;
	size_t len;
	int rc = IDG_OK;

	/* Names the parser numbered are copied with the properties; others
	 * are numbered here. A body with extra properties is rewritten with
	 * its names as text (rare: failed identity events). */
	if (ev->body.npkeys && ev->nextra == 0 && !all_numbered(&ev->body))
		rc = idg__keys_number(b->db->keys, b->txn, ev->body.props,
				      ev->body.pkeys, ev->body.npkeys, &nums,
				      b->err);
	if (rc)
		return rc;
	rc = idg__body_encode(w, &ev->body, nums, ev->extra, ev->nextra,
			      b->db->keys);

	if (rc)
		return idg__err_set(b->err, rc, "encoding event %llu",
				    (unsigned long long)seq);
	data = idg__mpw_data(w, &len);
	return idg__cursor_put(b->bodyc, &seq, sizeof(seq), data, len, flags,
			       b->err);
}

int
idg__events_insert(struct idg__batch *b, struct idg__event *ev)
{
	unsigned char key[IDG__EVKEY_BYTES];
	uint64_t seq = b->st.ev_seq + 1;
	int rc;

	ev->head.dedup = ev->body.ins ? dedup_hash(&ev->body) : 0;
	idg__evkey(key, ev->body.time_ms, seq);
	rc = cursors(b);
	if (rc == IDG_OK)
		rc = idg__cursor_put(b->evc, key, IDG__EVKEY_BYTES, &ev->head,
				     sizeof(ev->head), IDG__PUT_APPEND, b->err);
	if (rc == IDG_OK)
		rc = body_put(b, seq, ev, IDG__PUT_APPEND);
	if (rc == IDG_OK) {
		b->st.ev_seq = seq;
		if (ev->body.time_ms > b->st.max_time)
			b->st.max_time = ev->body.time_ms;
	}
	return rc;
}

int
idg__events_replace(struct idg__batch *b, uint64_t seq,
		    const struct idg__event *ev)
{
	int rc = cursors(b);

	return rc ? rc : body_put(b, seq, ev, 0);
}

int
idg__events_scan(struct idg__txn *t, uint32_t name, int64_t from_ms,
		 int64_t to_ms, idg__event_fn fn, void *ctx,
		 struct idg__err *e)
{
	unsigned char start[IDG__EVKEY_BYTES];
	struct idg__val k = {start, sizeof(start)}, v;
	struct idg__cursor *c;
	struct idg__evhead h;
	int64_t time;
	uint64_t seq;
	int rc, op = IDG__SET_RANGE;

	idg__evkey(start, from_ms, 0);
	rc = idg__cursor_open(t, IDG__T_EV, &c, e);
	while (rc == IDG_OK && (rc = idg__cursor_get(c, op, &k, &v, e)) == 0) {
		op = IDG__NEXT;
		idg__evkey_read(k.p, k.n, &time, &seq);
		if (time >= to_ms)
			break;
		memcpy(&h, v.p, sizeof(h));
		if (!name || h.name == name)
			rc = fn(ctx, time, seq, &h);
	}
	idg__cursor_close(c);
	return rc == IDG_ENOTFOUND ? IDG_OK : rc;
}
