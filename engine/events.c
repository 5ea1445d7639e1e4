/*
 * events.c — the event store: every valid event, kept whole.
 *
 * An event is stored twice, once for each kind of reader:
 *   - ev:     (time, seq) -> a run of heads (stamp, node, name, dedup
 *             hash, each with its time and seq), for reports, which scan
 *             the small heads and never a property. A run's key is its
 *             first head's; runs are disjoint and in key order, so heads
 *             read in key order are in (time, seq) order. Heads that come
 *             after every stored one fill a run in memory, stored whole
 *             (IDG__RUN_MAX heads, or at idg__events_flush); a late head
 *             is put into the stored run before it, split in two when
 *             full;
 *   - evbody: seq -> a block of msgpack bodies (distinct_id as sent,
 *             $insert_id, properties with their exact types: name and
 *             time are the head's), for exports. A block holds the
 *             bodies of consecutive seqs from its key on, as many as fit
 *             in IDG__BLOCK_BYTES (one body
 *             larger than that is a block of its own): one LMDB write per
 *             block instead of one per event, and a block stays in a leaf
 *             page (LMDB moves a value over half a page to pages of its
 *             own).
 * seq counts events in ingestion order, so it breaks ties of time in that
 * order. Both tables are appended to when events come in time order.
 * The batch fills its last block in memory (db->blkw) and stores it when
 * the next body does not fit, or at idg__events_flush.
 *
 * Deduplication: two copies of an event share their time, so the heads
 * stored under that millisecond are the only candidates; one with the
 * same name and hash of (name, time, distinct_id as sent, $insert_id)
 * (idg__event_key_hash, made on the parse stage) is confirmed against its
 * body's ids, so a collision never merges two events. The last copy
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

/* Whether a stored body is of the same event as body (whose name and time
 * the caller has matched with its head). */
static int
same_event(const struct idg__body *a, const struct idg__body *b)
{
	return a->did_len == b->did_len && a->ins_len == b->ins_len &&
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

	/* The last block that starts at seq or before. */
	if (rc == IDG_OK) {
		rc = idg__cursor_floor(c, &k, &v, e);
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

/* The body of event seq, through bv (the last block read: candidates of
 * one millisecond mostly share theirs). */
static int
body_get(struct idg__batch *b, struct idg__blockview *bv, uint64_t seq,
	 struct idg__body *out)
{
	struct idg__val v = {0};
	int rc;

	if (in_open_block(b, seq)) {
		rc = open_block(b, bv);
		if (rc == IDG_OK) {
			v.p = bv->items[seq - bv->first].p;
			v.n = bv->items[seq - bv->first].n;
		}
	} else {
		rc = idg__events_body(b->txn, bv, seq, &v, b->err);
	}
	if (rc == IDG_OK && !b->db->mpdec && !(b->db->mpdec = idg__mpdec_new()))
		return idg__err_set(b->err, IDG_ENOMEM, "out of memory");
	if (rc == IDG_OK &&
	    idg__body_decode(b->db->mpdec, v.p, v.n, b->db->keys, out) != 0)
		rc = IDG_ECORRUPT;
	if (rc == IDG_ECORRUPT)
		return idg__err_set(b->err, IDG_ECORRUPT,
				    "event %llu is missing or corrupt",
				    (unsigned long long)seq);
	return rc;
}

/* Orders two heads by (time, seq). */
static int
run_cmp(const struct idg__evrun *a, const struct idg__evrun *b)
{
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Head i of a stored run v (a copy: LMDB's bytes need not be aligned). */
static void
run_entry(const struct idg__val *v, uint32_t i, struct idg__evrun *out)
{
	memcpy(out, (const char *)v->p + (size_t)i * sizeof(*out),
	       sizeof(*out));
}

/* The number of heads of stored run v, or 0 if it is corrupt. */
static uint32_t
run_len(const struct idg__val *v)
{
	size_t n = v->n / sizeof(struct idg__evrun);

	return v->n % sizeof(struct idg__evrun) || n > 2 * IDG__RUN_MAX
		   ? 0
		   : (uint32_t)n;
}

/*
 * Positions c on the stored run that holds (time, 0) or would: the last
 * run whose key is not after it, else the first. IDG_ENOTFOUND when
 * there is no run at all.
 */
static int
run_seek(struct idg__cursor *c, int64_t time, struct idg__val *v,
	 struct idg__err *e)
{
	unsigned char key[IDG__EVKEY_BYTES];
	struct idg__val k = {key, sizeof(key)};
	int rc;

	idg__evkey(key, time, 0);
	rc = idg__cursor_floor(c, &k, v, e);
	return rc == IDG_ENOTFOUND ? idg__cursor_get(c, IDG__FIRST, &k, v, e)
				   : rc;
}

/* 1 if head h, of time time, is a copy of body (its body confirms). */
static int
is_copy(struct idg__batch *b, struct idg__blockview *bv,
	const struct idg__evrun *h, const struct idg__body *body, uint64_t want,
	int *rc)
{
	struct idg__body old;

	if (h->time != body->time_ms || h->head.dedup != want ||
	    h->head.name != body->name)
		return 0;
	*rc = body_get(b, bv, h->seq, &old);
	return *rc == IDG_OK && same_event(&old, body);
}

int
idg__events_find_dup(struct idg__batch *b, const struct idg__event *ev,
		     uint64_t *seq)
{
	const struct idg__body *body = &ev->body;
	const struct idg__evrun *open = b->db->runbuf;
	struct idg__blockview bv = {0};
	struct idg__cursor *c;
	struct idg__evrun h;
	struct idg__val v;
	uint64_t want;
	uint32_t i, n;
	int rc, done = 0;

	/* A copy shares its time: none can precede the latest time yet. */
	if (!body->ins || body->time_ms > b->st.max_time)
		return IDG_ENOTFOUND;
	want = ev->head.dedup;
	rc = idg__cursor_open(b->txn, IDG__T_EV, &c, b->err);
	if (rc == IDG_OK)
		rc = run_seek(c, body->time_ms, &v, b->err);
	/* The stored runs, up to the first head after that time. */
	while (rc == IDG_OK && !done) {
		if (!(n = run_len(&v)))
			rc = idg__err_set(b->err, IDG_ECORRUPT,
					  "ev: a run of heads is corrupt");
		for (i = 0; rc == IDG_OK && i < n && !done; i++) {
			run_entry(&v, i, &h);
			if (h.time > body->time_ms)
				done = 1;
			else if (is_copy(b, &bv, &h, body, want, &rc))
				done = 2;
		}
		if (rc == IDG_OK && !done)
			rc = idg__cursor_get(c, IDG__NEXT, NULL, &v, b->err);
	}
	idg__cursor_close(c);
	if (rc == IDG_ENOTFOUND)
		rc = IDG_OK;
	/* Then the run being filled. */
	for (i = 0; rc == IDG_OK && done != 2 && i < b->run_n; i++) {
		if (is_copy(b, &bv, &open[i], body, want, &rc)) {
			done = 2;
			h = open[i];
		}
	}
	if (rc == IDG_OK && done == 2) {
		*seq = h.seq;
		return IDG_OK;
	}
	return rc ? rc : IDG_ENOTFOUND;
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

/* Bytes of the MessagePack bin header of a body of n bytes. */
#define BIN_HEADER(n) ((n) < 256 ? 2u : (n) < 65536 ? 3u : 5u)

static int
block_flush(struct idg__batch *b)
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

/* Adds the body of event seq, head[0..hn) then rest[0..rn), to the block
 * being filled. */
static int
block_add(struct idg__batch *b, uint64_t seq, const void *head, size_t hn,
	  const void *rest, size_t rn)
{
	struct idg__mpw *w = b->db->blkw;
	size_t len = hn + rn, used;
	int rc = IDG_OK;

	idg__mpw_data(w, &used);
	if (b->blk_n &&
	    (b->blk_n == IDG__BLOCK_MAX ||
	     used + BIN_HEADER(len) + len > IDG__BLOCK_BYTES))
		rc = block_flush(b);
	if (rc)
		return rc;
	if (!b->blk_n) {
		idg__mpw_reset(w);
		b->blk_at = idg__mpw_array_begin(w);
		b->blk_first = seq;
	}
	b->blk_n++;
	return idg__mpw_bin2(w, head, hn, rest, rn)
		   ? idg__err_set(b->err, IDG_ENOMEM, "out of memory")
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

/* Stores the run being filled, after every stored head. */
static int
run_flush(struct idg__batch *b)
{
	const struct idg__evrun *r = b->db->runbuf;
	unsigned char key[IDG__EVKEY_BYTES];
	uint32_t n = b->run_n;

	if (!n)
		return IDG_OK;
	b->run_n = 0;
	idg__evkey(key, r[0].time, r[0].seq);
	return idg__cursor_put(b->evc, key, sizeof(key), r, n * sizeof(*r),
			       IDG__PUT_APPEND, b->err);
}

/* Stores heads r[0..n) as one run, under r[0]'s key. */
static int
run_put(struct idg__batch *b, const struct idg__evrun *r, uint32_t n)
{
	unsigned char key[IDG__EVKEY_BYTES];

	idg__evkey(key, r[0].time, r[0].seq);
	return idg__cursor_put(b->evc, key, sizeof(key), r, n * sizeof(*r), 0,
			       b->err);
}

/* A late head: into the stored run before it (split when full), or a run
 * of its own before the first. */
static int
run_insert_stored(struct idg__batch *b, const struct idg__evrun *h)
{
	unsigned char key[IDG__EVKEY_BYTES];
	struct idg__val k = {key, sizeof(key)}, v;
	struct idg__evrun r[2 * IDG__RUN_MAX + 1];
	struct idg__cursor *c;
	uint32_t n = 0, i;
	int rc;

	idg__evkey(key, h->time, h->seq);
	rc = idg__cursor_open(b->txn, IDG__T_EV, &c, b->err);
	if (rc == IDG_OK) {
		/* The last run that starts before h (none starts at h). */
		rc = idg__cursor_floor(c, &k, &v, b->err);
		if (rc == IDG_OK && !(n = run_len(&v)))
			rc = idg__err_set(b->err, IDG_ECORRUPT,
					  "ev: a run of heads is corrupt");
		if (rc == IDG_OK)
			memcpy(r, v.p, n * sizeof(*r));
		idg__cursor_close(c);
	}
	if (rc == IDG_ENOTFOUND)
		return run_put(b, h, 1); /* before every run */
	if (rc)
		return rc;
	for (i = n; i > 0 && run_cmp(&r[i - 1], h) > 0; i--)
		r[i] = r[i - 1];
	r[i] = *h;
	n++;
	if (n <= IDG__RUN_MAX)
		return run_put(b, r, n);
	rc = run_put(b, r, n / 2);
	return rc ? rc : run_put(b, r + n / 2, n - n / 2);
}

/* Adds a new event's head. */
static int
run_add(struct idg__batch *b, const struct idg__evrun *h)
{
	struct idg__evrun *r = b->db->runbuf;
	uint32_t i;
	int rc = IDG_OK;

	if (h->time >= b->st.max_time) {
		/* After every head, stored or in the run: appended. */
		if (b->run_n == IDG__RUN_MAX)
			rc = run_flush(b);
		if (rc == IDG_OK)
			r[b->run_n++] = *h;
		return rc;
	}
	if (!b->run_n || run_cmp(h, &r[0]) < 0)
		return run_insert_stored(b, h);
	/* Inside the run being filled (it has room for one more). */
	for (i = b->run_n; i > 0 && run_cmp(&r[i - 1], h) > 0; i--)
		r[i] = r[i - 1];
	r[i] = *h;
	if (++b->run_n > IDG__RUN_MAX) {
		b->run_n = IDG__RUN_MAX;
		rc = run_flush(b);
		r[0] = r[IDG__RUN_MAX];
		b->run_n = 1;
	}
	return rc;
}

int
idg__events_flush(struct idg__batch *b)
{
	int rc = block_flush(b);
	int rc2 = run_flush(b);

	return rc ? rc : rc2;
}

int
idg__events_insert(struct idg__batch *b, const struct idg__event *ev)
{
	uint64_t seq = b->st.ev_seq + 1;
	struct idg__evrun h = {ev->body.time_ms, seq, ev->head};
	const void *body;
	size_t len;
	int rc = cursors(b);

	if (rc == IDG_OK)
		rc = run_add(b, &h);
	/* The parse stage wrote the body's head: the properties follow it
	 * as they are, unless names must be numbered or properties added. */
	if (rc == IDG_OK && ev->bhead && ev->nextra == 0 &&
	    all_numbered(&ev->body)) {
		rc = block_add(b, seq, ev->bhead, ev->bhead_len,
			       ev->body.props, ev->body.props_len);
	} else if (rc == IDG_OK && (rc = body_encode(b, seq, ev)) == IDG_OK) {
		body = idg__mpw_data(b->db->mpw, &len);
		rc = block_add(b, seq, body, len, NULL, 0);
	}
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
	struct idg__cursor *c;
	struct idg__evrun h;
	struct idg__val v;
	uint32_t i, n;
	int rc = idg__cursor_open(t, IDG__T_EV, &c, e), done = 0;

	if (rc == IDG_OK)
		rc = run_seek(c, from_ms, &v, e);
	while (rc == IDG_OK && !done) {
		if (!(n = run_len(&v)))
			rc = idg__err_set(e, IDG_ECORRUPT,
					  "ev: a run of heads is corrupt");
		for (i = 0; rc == IDG_OK && i < n; i++) {
			run_entry(&v, i, &h);
			if (h.time >= to_ms) {
				done = 1;
				break;
			}
			if (h.time >= from_ms && (!name || h.head.name == name))
				rc = fn(ctx, h.time, h.seq, &h.head);
		}
		if (rc == IDG_OK && !done)
			rc = idg__cursor_get(c, IDG__NEXT, NULL, &v, e);
	}
	idg__cursor_close(c);
	return rc == IDG_ENOTFOUND ? IDG_OK : rc;
}
