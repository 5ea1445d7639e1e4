/*
 * log.c — the identity log: one msgpack array per identity event, keyed by
 * its 1-based sequence number.
 *
 * Entries are appended in ingestion order, which is stamp order, so the
 * table read from first to last is the log in stamp order. An entry names
 * nodes by number; their names never change.
 */
#include "log.h"

#include "codec_msgpack.h"

const char *
idg__ident_name(int kind)
{
	static const char *const names[] = {"$identify", "$create_alias",
					    "$merge", "$link_device"};

	return kind >= 0 && kind <= IDG__LINK ? names[kind] : "";
}

static int
pack_str(struct idg__mpw *w, const char *s, size_t n)
{
	return s ? idg__mpw_str(w, s, n) : idg__mpw_nil(w);
}

int
idg__log_append(struct idg__batch *b, const struct idg__log_rec *r)
{
	struct idg__mpw *w = b->db->mpw;
	const void *data;
	size_t len;
	uint64_t seq = b->st.log_seq + 1;
	int rc;

	idg__mpw_reset(w);
	rc = idg__mpw_array(w, 9);
	rc = rc ? rc : idg__mpw_int(w, r->stamp);
	rc = rc ? rc : idg__mpw_int(w, r->kind);
	rc = rc ? rc : idg__mpw_uint(w, r->ids[0]);
	rc = rc ? rc : idg__mpw_uint(w, r->ids[1]);
	rc = rc ? rc : pack_str(w, r->insert_id, r->insert_len);
	rc = rc ? rc : idg__mpw_int(w, r->outcome);
	rc = rc ? rc : idg__mpw_int(w, r->reason);
	rc = rc ? rc : pack_str(w, r->desc, r->desc_len);
	rc = rc ? rc : idg__mpw_uint(w, r->canon);
	if (rc)
		return idg__err_set(b->err, rc, "encoding a log entry");
	data = idg__mpw_data(w, &len);
	rc = idg__store_put(b->txn, IDG__T_LOG, &seq, sizeof(seq), data, len,
			    IDG__PUT_APPEND, b->err);
	if (rc == IDG_OK)
		b->st.log_seq = seq;
	return rc;
}

static void
item_str(const struct idg__mp_item *it, const char **s, size_t *n)
{
	*s = it->kind == IDG__MP_STR ? it->s : NULL;
	*n = it->kind == IDG__MP_STR ? it->n : 0;
}

int
idg__log_decode(const void *data, size_t len, struct idg__log_rec *out)
{
	struct idg__mp_item it[IDG__MP_MAX_ITEMS];
	uint32_t n, i;

	if (idg__mp_read_array(data, len, it, &n) || n != 9)
		return IDG_ECORRUPT;
	for (i = 0; i < n; i++)
		if (i != 4 && i != 7 && it[i].kind != IDG__MP_INT)
			return IDG_ECORRUPT;
	out->stamp = it[0].i;
	out->kind = (int)it[1].i;
	out->ids[0] = (uint32_t)it[2].i;
	out->ids[1] = (uint32_t)it[3].i;
	item_str(&it[4], &out->insert_id, &out->insert_len);
	out->outcome = (int)it[5].i;
	out->reason = (int)it[6].i;
	item_str(&it[7], &out->desc, &out->desc_len);
	out->canon = (uint32_t)it[8].i;
	return IDG_OK;
}

static int
entry_at(struct idg__txn *t, uint64_t seq, struct idg__log_rec *r,
	 struct idg__err *e)
{
	struct idg__val v;
	int rc = idg__store_get(t, IDG__T_LOG, &seq, sizeof(seq), &v, e);

	if (rc == IDG_ENOTFOUND || (rc == IDG_OK && idg__log_decode(v.p, v.n, r)))
		return idg__err_set(e, IDG_ECORRUPT,
				    "log entry %llu is missing or corrupt",
				    (unsigned long long)seq);
	return rc;
}

int
idg__log_count_merges(struct idg__txn *t, uint64_t entries, int64_t after,
		      int64_t upto, uint64_t *out, struct idg__err *e)
{
	struct idg__log_rec r;
	uint64_t lo = 1, hi = entries + 1, mid;
	int rc;

	*out = 0;
	/* The first entry stamped after `after`: stamps never decrease. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		rc = entry_at(t, mid, &r, e);
		if (rc)
			return rc;
		if (r.stamp > after)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (; lo <= entries; lo++) {
		rc = entry_at(t, lo, &r, e);
		if (rc)
			return rc;
		if (r.stamp > upto)
			break;
		*out += r.outcome == IDG_OUTCOME_MERGED;
	}
	return IDG_OK;
}
