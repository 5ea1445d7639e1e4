/*
 * events.c — the event store: every valid event, kept whole.
 *
 * An event is stored three times over, each for one kind of reader:
 *   - ev:     (time, seq) -> head, for reports and exports over a time range;
 *   - evname: (name, time, seq) -> head, for those limited to one event;
 *   - evbody: seq -> msgpack body (name, time, distinct_id as sent,
 *             $insert_id, properties with their exact types), for exports.
 * Reports scan the heads alone and never decode a property. seq counts
 * events in ingestion order, so it breaks ties of time in that order.
 *
 * Deduplication: the dedup table maps the hash of (name, time, distinct_id
 * as sent, $insert_id) to the seqs stored under it; a hash match is
 * confirmed against the stored body, so a collision never merges two
 * events. The last copy ingested wins: its properties replace the earlier
 * copy's body, while the head (the first copy's stamp and node) stays.
 */
#include "events.h"

#include <string.h>

#include "ids.h"

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
idg__evnamekey(unsigned char key[IDG__EVNAMEKEY_BYTES], uint32_t name,
	       int64_t time_ms, uint64_t seq)
{
	put_be(key, name, 4);
	idg__evkey(key + 4, time_ms, seq);
}

void
idg__evkey_read(const void *key, size_t len, int64_t *time_ms, uint64_t *seq)
{
	const unsigned char *p = (const unsigned char *)key + len - 16;

	*time_ms = (int64_t)FLIP(get_be(p, 8));
	*seq = get_be(p + 8, 8);
}

static void
dedup_key(const struct idg__body *body, unsigned char key[IDG__HASH_BYTES])
{
	unsigned char name[4], time[8];
	struct idg__val parts[4] = {
	    {name, 4}, {time, 8}, {body->did, body->did_len},
	    {body->ins, body->ins_len}};

	put_be(name, body->name, 4);
	put_be(time, FLIP(body->time_ms), 8);
	idg__hash_parts(parts, 4, key);
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

	if (rc == IDG_ENOTFOUND || (rc == IDG_OK &&
				    idg__body_decode(v.p, v.n, out) != 0))
		return idg__err_set(b->err, IDG_ECORRUPT,
				    "event %llu is missing or corrupt",
				    (unsigned long long)seq);
	return rc;
}

int
idg__events_find_dup(struct idg__batch *b, const struct idg__body *body,
		     uint64_t *seq)
{
	unsigned char key[IDG__HASH_BYTES];
	struct idg__val k = {key, sizeof(key)}, v;
	struct idg__cursor *c;
	struct idg__body old;
	int rc, op = IDG__SET_KEY;

	if (!body->ins)
		return IDG_ENOTFOUND;
	dedup_key(body, key);
	rc = idg__cursor_open(b->txn, IDG__T_DEDUP, &c, b->err);
	while (rc == IDG_OK &&
	       (rc = idg__cursor_get(c, op, &k, &v, b->err)) == IDG_OK) {
		op = IDG__NEXT_DUP;
		memcpy(seq, v.p, sizeof(*seq));
		rc = body_get(b, *seq, &old);
		if (rc == IDG_OK && same_event(&old, body))
			break;
	}
	idg__cursor_close(c);
	return rc;
}

static int
body_put(struct idg__batch *b, uint64_t seq, const struct idg__event *ev,
	 unsigned flags)
{
	struct idg__mpw *w = b->db->mpw;
	const void *data;
	size_t len;
	int rc = idg__body_encode(w, &ev->body, ev->extra, ev->nextra);

	if (rc)
		return idg__err_set(b->err, rc, "encoding event %llu",
				    (unsigned long long)seq);
	data = idg__mpw_data(w, &len);
	return idg__store_put(b->txn, IDG__T_EVBODY, &seq, sizeof(seq), data,
			      len, flags, b->err);
}

int
idg__events_insert(struct idg__batch *b, const struct idg__event *ev)
{
	unsigned char key[IDG__EVNAMEKEY_BYTES], dkey[IDG__HASH_BYTES];
	uint64_t seq = b->st.ev_seq + 1;
	int64_t t = ev->body.time_ms;
	int rc;

	idg__evkey(key, t, seq);
	rc = idg__store_put(b->txn, IDG__T_EV, key, IDG__EVKEY_BYTES,
			    &ev->head, sizeof(ev->head), IDG__PUT_APPEND,
			    b->err);
	idg__evnamekey(key, ev->body.name, t, seq);
	if (rc == IDG_OK)
		rc = idg__store_put(b->txn, IDG__T_EVNAME, key,
				    IDG__EVNAMEKEY_BYTES, &ev->head,
				    sizeof(ev->head), 0, b->err);
	if (rc == IDG_OK)
		rc = body_put(b, seq, ev, IDG__PUT_APPEND);
	if (rc == IDG_OK && ev->body.ins) {
		dedup_key(&ev->body, dkey);
		rc = idg__store_put(b->txn, IDG__T_DEDUP, dkey, sizeof(dkey),
				    &seq, sizeof(seq), 0, b->err);
	}
	if (rc == IDG_OK)
		b->st.ev_seq = seq;
	return rc;
}

int
idg__events_replace(struct idg__batch *b, uint64_t seq,
		    const struct idg__event *ev)
{
	return body_put(b, seq, ev, 0);
}

int
idg__events_scan(struct idg__txn *t, uint32_t name, int64_t from_ms,
		 int64_t to_ms, idg__event_fn fn, void *ctx,
		 struct idg__err *e)
{
	unsigned char start[IDG__EVNAMEKEY_BYTES];
	size_t klen = name ? IDG__EVNAMEKEY_BYTES : IDG__EVKEY_BYTES;
	struct idg__val k = {start, klen}, v;
	struct idg__cursor *c;
	struct idg__evhead h;
	int64_t time;
	uint64_t seq;
	int rc, op = IDG__SET_RANGE;

	if (name)
		idg__evnamekey(start, name, from_ms, 0);
	else
		idg__evkey(start, from_ms, 0);
	rc = idg__cursor_open(t, name ? IDG__T_EVNAME : IDG__T_EV, &c, e);
	while (rc == IDG_OK && (rc = idg__cursor_get(c, op, &k, &v, e)) == 0) {
		op = IDG__NEXT;
		/* Past the name's run of keys, or past the range: done. */
		if (k.n != klen || memcmp(k.p, start, klen - 16) != 0)
			break;
		idg__evkey_read(k.p, k.n, &time, &seq);
		if (time >= to_ms)
			break;
		memcpy(&h, v.p, sizeof(h));
		rc = fn(ctx, time, seq, &h);
	}
	idg__cursor_close(c);
	return rc == IDG_ENOTFOUND ? IDG_OK : rc;
}
