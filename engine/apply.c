/*
 * apply.c — one valid record applied to the database, in the batch's
 * write transaction: its ids interned, its identity rules run in the
 * database's mode, the event stored (or merged into its earlier copy), or
 * the profile update applied. Everything a record changes is in the same
 * transaction, so a batch that rolls back leaves none of it behind.
 */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "graph.h"
#include "idcache.h"
#include "ids.h"
#include "ingest.h"
#include "log.h"
#include "profile.h"
#include "rules.h"

static int
reject(struct ingest *in, const struct idg__vrec *v, uint32_t index,
       int in_array)
{
	struct idg_reject rej = {in->line, index,  in_array,  v->field,
				 v->msg,   v->raw, v->raw_len};

	in->stats.rejected++;
	if (in->opts->on_reject &&
	    in->opts->on_reject(in->opts->user, &rej) != 0)
		in->stop = IDG__STOP_ROLLBACK;
	return IDG_OK;
}

/* The node of an id (h: its idg__hash64), made if new; the id cache
 * answers most of them. */
static int
intern_hashed(struct ingest *in, const struct idg__str *id, uint64_t h,
	      uint32_t *node)
{
	struct idg__batch *b = &in->b;
	struct idg__idcache *cache = b->db->idcache;
	int created, rc;

	*node = idg__idcache_get(cache, id->p, id->n, h);
	if (*node)
		return IDG_OK;
	if (idg__idcache_complete(cache)) {
		/* A miss of a complete cache: a new id, no lookup. */
		rc = idg__ids_add(b->txn, id->p, id->n, &b->st.next_node,
				  node, b->err);
		created = 1;
	} else {
		rc = idg__ids_intern(b->txn, id->p, id->n, &b->st.next_node,
				     node, &created, b->err);
	}
	if (rc == IDG_OK && created) {
		in->stats.nodes_created++;
		rc = idg__graph_add(b->txn, *node, b->st.stamp, b->err);
	}
	if (rc == IDG_OK)
		idg__idcache_put(cache, id->p, id->n, h, *node);
	b->db->ids_next = b->st.next_node;
	return rc;
}

static int
intern(struct ingest *in, const struct idg__str *id, uint32_t *node)
{
	return intern_hashed(in, id, idg__hash64(id->p, id->n), node);
}

/* Counts an identity outcome, and logs it unless it is a simplified-mode
 * no-op (every event that names both ids would be one). */
static int
log_identity(struct ingest *in, const struct idg__rec *r,
	     const struct idg__ident *ev, const struct idg__outcome *out)
{
	struct idg__log_rec lr = {
	    ev->stamp,
	    ev->kind,
	    {ev->nodes[0], ev->nodes[1]},
	    r->insert_id.p,
	    r->insert_id.n,
	    out->outcome,
	    out->reason,
	    out->desc[0] ? out->desc : NULL,
	    strlen(out->desc),
	    out->canon,
	};

	in->stats.identity++;
	if (out->outcome == IDG_OUTCOME_MERGED)
		in->stats.merged++;
	else if (out->outcome == IDG_OUTCOME_NOOP)
		in->stats.noop++;
	else
		in->stats.refused[out->reason]++;
	if (ev->kind == IDG__LINK && out->outcome == IDG_OUTCOME_NOOP)
		return IDG_OK;
	return idg__log_append(&in->b, &lr);
}

static int
apply_identity(struct ingest *in, const struct idg__rec *r,
	       struct idg__outcome *out)
{
	struct idg__ident ev = {
	    r->kind, {r->ids[0], r->ids[1]}, {0, 0}, in->b.st.stamp};
	int mode = in->b.db->set.mode, rc;

	rc = intern(in, &r->ids[0], &ev.nodes[0]);
	if (rc == IDG_OK)
		rc = intern(in, &r->ids[1], &ev.nodes[1]);
	if (rc == IDG_OK)
		rc = mode == IDG_MODE_LEGACY
			 ? idg__rules_legacy(&in->b, &ev, out)
			 : idg__rules_original(&in->b, &ev, out);
	return rc ? rc : log_identity(in, r, &ev, out);
}

/* Simplified mode: a user id is marked; a device named with it links. */
static int
apply_simplified(struct ingest *in, const struct idg__rec *r, uint32_t user,
		 struct idg__event *evt)
{
	struct idg__ident ev = {
	    IDG__LINK, {r->distinct_id, r->device}, {user, 0}, in->b.st.stamp};
	struct idg__outcome out;
	int rc = IDG_OK;

	if (r->distinct_id.n < 8 || memcmp(r->distinct_id.p, "$device:", 8))
		rc = idg__rules_mark_user(&in->b, user);
	if (rc || !r->device.p)
		return rc;
	rc = intern(in, &r->device, &ev.nodes[1]);
	if (rc == IDG_OK)
		rc = idg__rules_simplified(&in->b, &ev, &out);
	if (rc == IDG_OK && out.outcome == IDG_OUTCOME_REFUSED) {
		evt->extra[0] = "$identity_failure_reason";
		evt->extra[1] = idg_reason_name(out.reason);
		evt->nextra = 1;
	}
	return rc ? rc : log_identity(in, r, &ev, &out);
}

/* Legacy mode: an event keeps the canonical id it had when ingested. */
static int
attribute(struct ingest *in, uint32_t *node)
{
	struct idg__node nd;
	int rc = idg__graph_get(in->b.txn, *node, &nd, in->b.err);

	if (rc == IDG_OK)
		rc = idg__graph_get(in->b.txn, nd.root, &nd, in->b.err);
	if (rc == IDG_OK)
		*node = nd.canon;
	return rc;
}

/* Mixpanel's soft limits: counted, never enforced by truncation. */
static void
count_warnings(struct ingest *in, const struct idg__vrec *v)
{
	in->stats.long_strings += v->long_strings;
	in->stats.warnings += v->long_strings;
	if (v->nprops > 255) {
		in->stats.many_props++;
		in->stats.warnings++;
	}
}

/* The event as stored, before the graph has seen it. */
static int
make_event(struct ingest *in, const struct idg__vrec *v,
	   struct idg__event *ev)
{
	const struct idg__rec *r = &v->ev;
	struct idg__batch *b = &in->b;
	struct idg__extras x = v->x;
	uint64_t h;
	int created, rc;

	/* The parse stage left them to this one (or there is one). */
	if (!x.done)
		idg__record_extras(v, &in->scratch, &x);
	memset(ev, 0, sizeof(*ev));
	ev->body.time_ms = r->time_ms;
	ev->body.did = r->distinct_id.p;
	ev->body.did_len = r->distinct_id.n;
	ev->body.ins = r->insert_id.p;
	ev->body.ins_len = r->insert_id.n;
	ev->body.props = v->props;
	ev->body.props_len = v->props_len;
	ev->body.pkeys = v->pkeys;
	ev->body.npkeys = v->pkeys ? v->nprops : 0;
	/* Stored once: as a property, when that is where they came from. */
	ev->body.did_in_props = v->did_in_props;
	ev->body.ins_in_props = r->insert_id.p != NULL;
	ev->head.stamp = b->st.stamp;
	ev->head.dedup = x.dedup;
	ev->bhead = x.bhead;
	ev->bhead_len = x.bhead_len;
	/* Event names are few: the cache answers nearly every one. */
	h = x.name_hash;
	ev->body.name =
	    idg__idcache_get(b->db->namecache, r->event.p, r->event.n, h);
	rc = IDG_OK;
	if (!ev->body.name) {
		rc = idg__evname_intern(b->txn, r->event.p, r->event.n,
					&b->st.next_evname, &ev->body.name,
					&created, b->err);
		if (rc == IDG_OK)
			idg__idcache_put(b->db->namecache, r->event.p,
					 r->event.n, h, ev->body.name);
	}
	ev->head.name = ev->body.name;
	return rc;
}

static int
apply(struct ingest *in, const struct idg__vrec *v)
{
	const struct idg__rec *r = &v->ev;
	struct idg__state *st = &in->b.st;
	int64_t clock =
	    in->opts->clock == IDG_CLOCK_WALL ? in->now_ms : r->time_ms;
	struct idg__outcome out;
	struct idg__event ev;
	uint64_t seq;
	int mode = in->b.db->set.mode, rc;

	if (clock > st->stamp)
		st->stamp = clock;
	count_warnings(in, v);
	rc = make_event(in, v, &ev);
	if (rc == IDG_OK)
		rc = idg__events_find_dup(&in->b, &ev, &seq);
	if (rc == IDG_OK) {
		/* A copy: its properties win; it merges nothing again. */
		in->stats.duplicates++;
		rc = idg__events_replace(&in->b, seq, &ev);
		goto done;
	}
	if (rc != IDG_ENOTFOUND)
		return rc;
	rc = r->distinct_id.n ? intern_hashed(in, &r->distinct_id, v->id_hash,
					      &ev.head.node)
			      : IDG_OK;
	if (rc == IDG_OK && mode == IDG_MODE_SIMPLIFIED && ev.head.node)
		rc = apply_simplified(in, r, ev.head.node, &ev);
	if (rc == IDG_OK && r->identity)
		rc = apply_identity(in, r, &out);
	if (rc == IDG_OK && r->identity && out.outcome == IDG_OUTCOME_REFUSED) {
		ev.extra[0] = "$failure_reason";
		ev.extra[1] = idg_reason_name(out.reason);
		ev.extra[2] = "$failure_description";
		ev.extra[3] = out.desc;
		ev.nextra = 2;
	}
	if (rc == IDG_OK && mode == IDG_MODE_LEGACY && ev.head.node)
		rc = attribute(in, &ev.head.node);
	if (rc == IDG_OK)
		rc = idg__events_insert(&in->b, &ev);
done:
	if (rc == IDG_OK) {
		st->records++;
		in->stats.events++;
	}
	return rc;
}

/* A profile update: stamped by its $time, else the current stamp. */
static int
apply_profile(struct ingest *in, const struct idg__vrec *v)
{
	const struct idg__prec *u = &v->pr;
	struct idg__state *st = &in->b.st;
	struct idg__profile_stats ps = {0};
	struct idg_ingest_stats *s = &in->stats;
	int64_t clock = in->opts->clock == IDG_CLOCK_WALL ? in->now_ms
			: u->has_time			  ? u->time_ms
							  : st->stamp;
	uint32_t node;
	int rc;

	if (clock > st->stamp)
		st->stamp = clock;
	count_warnings(in, v); /* nprops is 0: long strings only */
	rc = intern_hashed(in, &u->distinct_id, v->id_hash, &node);
	if (rc == IDG_OK)
		rc = idg__profile_update(&in->b, u, node, &ps);
	if (rc)
		return rc;
	st->records++;
	s->profile_updates += ps.updates;
	s->profiles_created += ps.created;
	s->profiles_deleted += ps.deleted;
	s->type_clashes += ps.clashes;
	s->big_profiles += ps.big;
	s->anonymous_profiles += ps.anonymous;
	s->warnings += ps.clashes + ps.big + ps.anonymous;
	return IDG_OK;
}

int
idg__ingest_checked(void *ctx, const struct idg__vrec *v, uint32_t index,
		    int in_array)
{
	struct ingest *in = ctx;

	if (in->stop)
		return IDG_ESTOPPED; /* the rest of the line is not read */
	in->stats.records++;
	if (v->kind == IDG__V_REJECT)
		return reject(in, v, index, in_array);
	if (v->kind == IDG__V_PROFILE)
		return apply_profile(in, v);
	return apply(in, v);
}

void
idg__ingest_ahead(void *ctx, const struct idg__vrec *v, int stage)
{
	struct ingest *in = ctx;

	if (v->kind != IDG__V_REJECT)
		idg__idcache_prefetch(in->b.db->idcache, v->id_hash, stage);
}

int
idg__ingest_record(void *ctx, const struct idg__inrec *jr, uint32_t index,
		   int in_array, const char *error)
{
	struct ingest *in = ctx;
	struct idg__invalid why;
	struct idg__vrec v;

	idg__record_check(jr, error, in->check_ms, in->b.db->set.mode,
			  &in->scratch, &v, &why);
	return idg__ingest_checked(in, &v, index, in_array);
}
