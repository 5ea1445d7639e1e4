/*
 * export.c — the events export: stored events in Mixpanel's export shape,
 * with each distinct_id resolved in a view as of a stamp.
 *
 * One read transaction walks the time index (or the name index for one
 * event name) from the first key of the range, reads each body, and writes
 * it out. Events stamped after T did not exist at T and are left out, so
 * an export as of T equals the export of a database that ingested only the
 * records stamped <= T.
 *
 * The view is fixed for the whole export, so a node's canonical id is too:
 * a direct-mapped memo keeps the last answer per slot, its text pointing
 * into the transaction's map, which stays valid until the export ends.
 */
#include <stdlib.h>
#include <string.h>

#include "codec_msgpack.h"
#include "events.h"
#include "ids.h"
#include "view.h"

/* Slots of the canonical-id memo (16 bytes each). */
#define MEMO_SLOTS (1u << 16)

struct memo {
	uint32_t node; /* 0: empty */
	uint32_t n;
	const char *p;
};

struct exporter {
	struct idg_db *db;
	struct idg__txn *t;
	const struct idg_export_opts *o;
	struct idg__asof a;
	FILE *out;
	idg_jw *jw;
	struct idg__mpw *mpw;
	struct idg__mpdec *dec;
	struct memo *memo; /* MEMO_SLOTS of them */
	uint32_t name_id; /* the event name last looked up */
	char *name;
	size_t name_len, name_cap;
	uint64_t count;
	struct idg__blockview bv; /* the block of bodies last read */
};

/* Copies the event name of id (cached: events of one name come in runs). */
static int
event_name(struct exporter *x, uint32_t id)
{
	struct idg__val v;
	int rc;

	if (x->name && x->name_id == id)
		return IDG_OK;
	rc = idg__evname_name(x->t, id, &v, &x->db->err);
	if (rc)
		return rc;
	if (v.n + 1 > x->name_cap) {
		char *p = realloc(x->name, v.n + 1);

		if (!p)
			return idg__err_set(&x->db->err, IDG_ENOMEM,
					    "out of memory");
		x->name = p;
		x->name_cap = v.n + 1;
	}
	memcpy(x->name, v.p, v.n);
	x->name_len = v.n;
	x->name_id = id;
	return IDG_OK;
}

/* The canonical id of an event's node in the export's view. */
static int
resolve(struct exporter *x, uint32_t node, struct idg__val *out)
{
	uint32_t root, canon;
	int rc;

	if (x->db->set.mode == IDG_MODE_LEGACY) /* attributed for good */
		return idg__ids_name(x->t, node, out, &x->db->err);
	rc = idg__asof_root(x->t, node, &x->a, &root, &canon, &x->db->err);
	return rc ? rc : idg__ids_name(x->t, canon, out, &x->db->err);
}

static int
resolved(struct exporter *x, uint32_t node, struct idg__val *out)
{
	struct memo *m = &x->memo[node & (MEMO_SLOTS - 1)];
	int rc;

	if (node == 0) {
		out->p = "";
		out->n = 0;
		return IDG_OK;
	}
	if (m->node == node) {
		out->p = m->p;
		out->n = m->n;
		return IDG_OK;
	}
	rc = resolve(x, node, out);
	if (rc == IDG_OK && out->n <= UINT32_MAX) {
		m->node = node;
		m->p = out->p;
		m->n = (uint32_t)out->n;
	}
	return rc;
}

static int
write_event(struct exporter *x, const struct idg__evhead *h, uint64_t seq)
{
	struct idg__body body;
	struct idg__val v, res;
	const void *data;
	size_t len;
	int rc;

	rc = idg__events_body(x->t, &x->bv, seq, &v, &x->db->err);
	if (rc == IDG_OK &&
	    idg__body_decode(x->dec, v.p, v.n, x->db->keys, &body))
		rc = idg__err_set(&x->db->err, IDG_ECORRUPT,
				  "event %llu is corrupt",
				  (unsigned long long)seq);
	if (rc == IDG_OK)
		rc = event_name(x, h->name);
	if (rc == IDG_OK)
		rc = resolved(x, h->node, &res);
	if (rc)
		return rc;
	if (x->o->format == IDG_FORMAT_MSGPACK) {
		rc = idg__event_write_msgpack(x->mpw, x->dec, x->db->keys,
					      x->name, x->name_len, &body,
					      res.p, res.n);
		data = idg__mpw_data(x->mpw, &len);
		if (rc == IDG_OK && fwrite(data, 1, len, x->out) != len)
			rc = idg__err_set(&x->db->err, IDG_EIO,
					  "writing the export failed");
	} else {
		rc = idg__event_write_json(x->jw, x->dec, x->db->keys,
					   x->name, x->name_len, &body, res.p,
					   res.n);
		idg_jw_newline(x->jw);
	}
	if (rc == IDG_OK)
		x->count++; /* events written whole */
	return rc;
}

static int
export_one(void *ctx, int64_t time_ms, uint64_t seq,
	   const struct idg__evhead *h)
{
	struct exporter *x = ctx;

	(void)time_ms;
	return h->stamp <= x->a.at ? write_event(x, h, seq) : IDG_OK;
}

static int
export_range(struct exporter *x)
{
	uint32_t name = 0;
	int rc = IDG_OK;

	if (x->o->event)
		rc = idg__evname_find(x->t, x->o->event, strlen(x->o->event),
				      &name, &x->db->err);
	if (rc == IDG_ENOTFOUND)
		return idg__evname_unknown(x->t, x->o->event, &x->db->err);
	if (rc)
		return rc;
	return idg__events_scan(x->t, name, x->o->from_ms, x->o->to_ms,
				export_one, x, &x->db->err);
}

int
idg_export_events(idg_db *db, FILE *out, const struct idg_export_opts *opts,
		  uint64_t *count)
{
	static const struct idg_export_opts defaults = IDG_EXPORT_OPTS_INIT;
	struct exporter x = {0};
	struct idg__state st;
	int rc, wrc;

	if (!db || !out)
		return IDG_EINVAL;
	idg__err_clear(&db->err);
	x.db = db;
	x.o = opts ? opts : &defaults;
	x.out = out;
	if (x.o->from_ms >= x.o->to_ms)
		return idg__err_set(&db->err, IDG_EINVAL,
				    "the time range is empty: from must be "
				    "before to");
	x.jw = idg_jw_open(out);
	x.mpw = idg__mpw_new();
	x.dec = idg__mpdec_new();
	x.memo = calloc(MEMO_SLOTS, sizeof(*x.memo));
	if (x.jw && x.mpw && x.dec && x.memo)
		rc = idg__store_begin(db->store, 0, &x.t, &db->err);
	else
		rc = idg__err_set(&db->err, IDG_ENOMEM, "out of memory");
	if (rc == IDG_OK)
		rc = idg__state_load(x.t, &st, &db->err);
	if (rc == IDG_OK)
		rc = idg__db_keys(db, x.t);
	if (rc == IDG_OK) {
		x.a = idg__asof_make(db, &st, x.o->at, x.o->view);
		rc = export_range(&x);
	}
	idg__store_abort(x.t);
	wrc = idg_jw_close(x.jw);
	if (rc == IDG_OK && (wrc || fflush(out) != 0))
		rc = idg__err_set(&db->err, IDG_EIO,
				  "writing the export failed");
	idg__mpw_free(x.mpw);
	idg__mpdec_free(x.dec);
	free(x.memo);
	free(x.name);
	if (count)
		*count = x.count;
	return rc;
}
