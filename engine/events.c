/*
 * events.c — the event store: every valid event, kept whole.
 *
 * An event is stored twice, once for each kind of reader:
 *   - ev:     (time, seq) -> head (stamp, node, name, dedup hash), for
 *             reports, which scan the small heads and never a property;
 *   - evbody: seq -> a block of msgpack bodies (name, time, distinct_id
 *             as sent, $insert_id, properties with their exact types), for
 *             exports. A block holds the bodies of consecutive seqs from
 *             its key on, as many as fit in IDG__BLOCK_BYTES (one body
 *             larger than that is a block of its own): one LMDB write per
 *             block instead of one per event, and a block stays in a leaf
 *             page (LMDB moves a value over half a page to pages of its
 *             own).
 * seq counts events in ingestion order, so it breaks ties of time in that
 * order. ev is appended to when events come in time order, evbody always.
 * The batch fills its last block in memory (db->blkw) and stores it when
 * the next body does not fit, or at idg__events_flush.
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

/* The stored block that holds seq: its first seq and its bodies. */
static int
block_get(struct idg__txn *t, uint64_t seq, struct idg__blockview *bv,
	  struct idg__err *e)
{
	struct idg__val k = {&seq, sizeof(seq)}, v;
	struct idg__cursor *c;
	uint64_t first = 0;
	int rc = idg__cursor_open(t, IDG__T_EVBODY, &c, e);

	/* The block that starts at seq, else the one before it. */
	if (rc == IDG_OK) {
		rc = idg__cursor_get(c, IDG__SET_RANGE, &k, &v, e);
		if (rc == IDG_OK && k.n == sizeof(first))
			memcpy(&first, k.p, sizeof(first));
		if (rc == IDG_ENOTFOUND || (rc == IDG_OK && first != seq))
			rc = idg__cursor_get(c, rc == IDG_OK ? IDG__PREV
							     : IDG__LAST,
					     &k, &v, e);
		if (rc == IDG_OK && k.n == sizeof(first))
			memcpy(&first, k.p, sizeof(first));
		idg__cursor_close(c);
	}
	if (rc == IDG_OK && (k.n != sizeof(first) ||
			     idg__block_read(v.p, v.n, bv->items,
					     IDG__BLOCK_MAX, &bv->n) != 0))
		rc = IDG_ECORRUPT;
	if (rc == IDG_OK && (seq < first || seq - first >= bv->n))
		rc = IDG_ENOTFOUND;
	if (rc == IDG_OK)
		bv->first = first;
	else
		bv->n = 0;
	return rc;
}

int
idg__events_body(struct idg__txn *t, struct idg__blockview *bv,
		 uint64_t seq, struct idg__val *out, struct idg__err *e)
{
	int rc = IDG_OK;

	if (!bv->n || seq < bv->first || seq - bv->first >= bv->n)
		rc = block_get(t, seq, bv, e);
	if (rc == IDG_ENOTFOUND || rc == IDG_ECORRUPT)
		return idg__err_set(e, IDG_ECORRUPT,
				    "event %llu is missing or corrupt",
				    (unsigned long long)seq);
	if (rc == IDG_OK) {
		out->p = bv->items[seq - bv->first].p;
		out->n = bv->items[seq - bv->first].n;
	}
	return rc;
}

/* 1 if seq is in the batch's block being filled. */
static int
in_open_block(const struct idg__batch *b, uint64_t seq)
{
	return b->blk_n && seq >= b->blk_first && seq - b->blk_first < b->blk_n;
}

/* The bodies of the block being filled. */
static int
open_block(const struct idg__batch *b, struct idg__blockview *bv)
{
	const void *data;
	size_t len;

	idg__mpw_array_end(b->db->blkw, b->blk_at, b->blk_n); /* its count */
	data = idg__mpw_data(b->db->blkw, &len);
	if (idg__block_read(data, len, bv->items, IDG__BLOCK_MAX, &bv->n) ||
	    bv->n != b->blk_n)
		return IDG_ECORRUPT;
	bv->first = b->blk_first;
	return IDG_OK;
}

static int
body_get(struct idg__batch *b, uint64_t seq, struct idg__body *out)
{
	struct idg__blockview bv = {0};
	struct idg__val v;
	int rc;

	if (in_open_block(b, seq)) {
		rc = open_block(b, &bv);
		if (rc == IDG_OK) {
			v.p = bv.items[seq - bv.first].p;
			v.n = bv.items[seq - bv.first].n;
		}
	} else {
		rc = idg__events_body(b->txn, &bv, seq, &v, b->err);
	}
	if (rc == IDG_OK && idg__body_decode(v.p, v.n, b->db->keys, out) != 0)
		rc = IDG_ECORRUPT;
	if (rc == IDG_ECORRUPT)
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

/* Encodes ev's body into db->mpw. */
static int
body_encode(struct idg__batch *b, uint64_t seq, const struct idg__event *ev)
{
	struct idg__mpw *w = b->db->mpw;
	const uint32_t *nums = NULL;
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
	return IDG_OK;
}

/* Bytes of a bin header for a body of n bytes, and of the block's. */
#define BIN_HEADER(n) ((n) < 256 ? 2u : (n) < 65536 ? 3u : 5u)
#define BLOCK_HEADER 5u

int
idg__events_flush(struct idg__batch *b)
{
	const void *data;
	size_t len;
	int rc;

	if (!b->blk_n)
		return IDG_OK;
	idg__mpw_array_end(b->db->blkw, b->blk_at, b->blk_n);
	data = idg__mpw_data(b->db->blkw, &len);
	rc = idg__mpw_error(b->db->blkw)
		 ? idg__err_set(b->err, IDG_ENOMEM, "out of memory")
		 : idg__cursor_put(b->bodyc, &b->blk_first,
				   sizeof(b->blk_first), data, len,
				   IDG__PUT_APPEND, b->err);
	b->blk_n = 0;
	return rc;
}

/* Adds the body in db->mpw, of event seq, to the block being filled. */
static int
block_add(struct idg__batch *b, uint64_t seq)
{
	struct idg__mpw *w = b->db->blkw;
	const void *body;
	size_t len, used;
	int rc = IDG_OK;

	body = idg__mpw_data(b->db->mpw, &len);
	idg__mpw_data(w, &used);
	if (b->blk_n &&
	    (b->blk_n == IDG__BLOCK_MAX ||
	     used + BIN_HEADER(len) + len > IDG__BLOCK_BYTES))
		rc = idg__events_flush(b);
	if (rc)
		return rc;
	if (!b->blk_n) {
		idg__mpw_reset(w);
		b->blk_at = idg__mpw_array_begin(w);
		b->blk_first = seq;
	}
	b->blk_n++;
	return idg__mpw_bin(w, body, len) ? idg__err_set(b->err, IDG_ENOMEM,
							 "out of memory")
					  : IDG_OK;
}

/* The block items with item i replaced by the body in db->mpw, into w. */
static void
block_rewrite(struct idg__batch *b, const struct idg__blockview *bv,
	      uint32_t i, struct idg__mpw *w)
{
	const void *body;
	size_t len, at;

	body = idg__mpw_data(b->db->mpw, &len);
	idg__mpw_reset(w);
	at = idg__mpw_array_begin(w);
	for (uint32_t j = 0; j < bv->n; j++)
		if (j == i)
			idg__mpw_bin(w, body, len);
		else
			idg__mpw_bin(w, bv->items[j].p, bv->items[j].n);
	idg__mpw_array_end(w, at, bv->n);
}

/* Replaces the stored body of seq by the one in db->mpw (rare: a
 * duplicate). The block is built anew beside the old one. */
static int
block_replace(struct idg__batch *b, uint64_t seq)
{
	struct idg__blockview bv = {0};
	struct idg__mpw *w = idg__mpw_new();
	struct idg__val v;
	const void *data;
	size_t len;
	int open = in_open_block(b, seq), rc;

	if (!w)
		return idg__err_set(b->err, IDG_ENOMEM, "out of memory");
	rc = open ? open_block(b, &bv)
		  : idg__events_body(b->txn, &bv, seq, &v, b->err);
	if (rc == IDG_ECORRUPT && open)
		rc = idg__err_set(b->err, rc, "event %llu is corrupt",
				  (unsigned long long)seq);
	if (rc == IDG_OK) {
		block_rewrite(b, &bv, (uint32_t)(seq - bv.first), w);
		if (idg__mpw_error(w))
			rc = idg__err_set(b->err, IDG_ENOMEM, "out of memory");
	}
	if (rc == IDG_OK && open) {
		/* It goes on being filled: w is its buffer now. */
		idg__mpw_free(b->db->blkw);
		b->db->blkw = w;
		b->blk_at = 0; /* where block_rewrite began the array */
		return IDG_OK;
	}
	if (rc == IDG_OK) {
		data = idg__mpw_data(w, &len);
		rc = idg__cursor_put(b->bodyc, &bv.first, sizeof(bv.first),
				     data, len, 0, b->err);
	}
	idg__mpw_free(w);
	return rc;
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
		rc = body_encode(b, seq, ev);
	if (rc == IDG_OK)
		rc = block_add(b, seq);
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

	if (rc == IDG_OK)
		rc = body_encode(b, seq, ev);
	return rc ? rc : block_replace(b, seq);
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
