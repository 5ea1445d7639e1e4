/*
 * query.c — the read side: info, resolve, cluster members, the identity
 * log and the identity mappings, in the live or reported view as of T.
 *
 * Every query runs in one read transaction, so it sees whole batches only,
 * even while another process ingests. A query at or after the current
 * stamp in the live view reads the live map; any other reads the forest as
 * of the effective stamp (T, or T - merge_delay for the reported view).
 * A node exists as of T if the record that first named it is stamped <= T.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "graph.h"
#include "ids.h"
#include "log.h"
#include "idcache.h"
#include "view.h"

/* NUL-terminated copies of a few names, for one callback at a time. */
struct names {
	char *buf;
	size_t cap, len;
};

static int
names_add(struct names *nm, struct idg__txn *t, uint32_t node, size_t *off,
	  struct idg__err *e)
{
	struct idg__val v;
	int rc = idg__ids_name(t, node, &v, e);

	if (rc)
		return rc;
	if (nm->len + v.n + 1 > nm->cap) {
		size_t cap = (nm->len + v.n + 1) * 2;
		char *p = realloc(nm->buf, cap);

		if (!p)
			return idg__err_set(e, IDG_ENOMEM, "out of memory");
		nm->buf = p;
		nm->cap = cap;
	}
	memcpy(nm->buf + nm->len, v.p, v.n);
	nm->buf[nm->len + v.n] = '\0';
	*off = nm->len;
	nm->len += v.n + 1;
	return IDG_OK;
}

/* A read transaction and the current stamp, for a query as of T. */
static int
begin_stamp(struct idg_db *db, struct idg__txn **t, struct idg__state *st)
{
	int rc = idg__store_begin(db->store, 0, t, &db->err);

	memset(st, 0, sizeof(*st));
	if (rc == IDG_OK)
		rc = idg__state_stamp(*t, &st->stamp, &db->err);
	return rc;
}

static int
begin_read(struct idg_db *db, struct idg__txn **t, struct idg__state *st)
{
	int rc = idg__store_begin(db->store, 0, t, &db->err);

	if (rc == IDG_OK)
		rc = idg__state_load(*t, st, &db->err);
	return rc;
}

int
idg_info(idg_db *db, struct idg_info *out)
{
	struct idg__txn *t = NULL;
	struct idg__state st;
	int rc;

	if (!db || !out)
		return IDG_EINVAL;
	idg__err_clear(&db->err);
	rc = begin_read(db, &t, &st);
	if (rc == IDG_OK) {
		out->mode = db->set.mode;
		out->merge_delay_ms = db->set.merge_delay_ms;
		out->cluster_cap = db->set.cluster_cap;
		out->stamp = st.stamp;
		out->records = st.records;
		out->nodes = st.next_node - 1;
		out->log_size = st.log_seq;
	}
	idg__store_abort(t);
	return rc;
}

/* The node of id as of a.at, with a message naming the id if absent. */
static int
find_node(struct idg_db *db, struct idg__txn *t, const char *id, size_t len,
	  const struct idg__asof *a, uint32_t *node)
{
	struct idg__node nd;
	int rc = idg__ids_find(t, id, len, node, &db->err);

	if (rc == IDG_OK)
		rc = idg__graph_get(t, *node, &nd, &db->err);
	if (rc == IDG_OK && nd.created > a->at)
		rc = IDG_ENOTFOUND;
	if (rc == IDG_ENOTFOUND)
		return idg__err_set(
		    &db->err, IDG_ENOTFOUND, "distinct_id \"%.*s\" not found%s",
		    (int)(len > 200 ? 200 : len), id,
		    a->at == INT64_MIN || a->live ? ""
						  : " as of the given time");
	return rc;
}

/* Members of a cluster as of a: the live ring, filtered. */
struct members {
	struct idg__txn *t;
	struct idg__err *e;
	const struct idg__asof *a;
	uint32_t root;
	uint32_t *v;
	size_t n, cap;
};

static int
member_add(void *ctx, uint32_t x)
{
	struct members *m = ctx;
	struct idg__node nd;
	uint32_t root;
	int rc;

	if (!m->a->live) {
		rc = idg__graph_get(m->t, x, &nd, m->e);
		if (rc)
			return rc;
		if (nd.created > m->a->at)
			return IDG_OK;
		rc = idg__graph_find_at(m->t, x, m->a->eff, &root, m->e);
		if (rc || root != m->root)
			return rc;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		uint32_t *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return idg__err_set(m->e, IDG_ENOMEM, "out of memory");
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = x;
	return IDG_OK;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int
collect_members(struct idg__txn *t, uint32_t node, uint32_t root,
		const struct idg__asof *a, struct members *m,
		struct idg__err *e)
{
	int rc;

	*m = (struct members){t, e, a, root, NULL, 0, 0};
	rc = idg__graph_ring(t, node, member_add, m, e);
	if (rc == IDG_OK)
		qsort(m->v, m->n, sizeof(*m->v), cmp_u32);
	return rc;
}

static int
live_size(struct idg__txn *t, uint32_t root, size_t *out, struct idg__err *e)
{
	struct idg__node r;
	int rc = idg__graph_get(t, root, &r, e);

	*out = r.size;
	return rc;
}

/*
 * Answers of live resolves, kept for one database snapshot: any commit,
 * by this handle or another process, changes the snapshot and empties
 * the cache. Entries live in the id cache's arena: "id\0canonical".
 */
struct idg__rcache {
	struct idg__idcache *ids; /* "id" -> answer number */
	char **canon;
	size_t *canon_len;
	uint64_t *size;
	size_t n, cap;
	uint64_t snapshot;
};

void
idg__rcache_free(struct idg__rcache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		free(c->canon[i]);
	free(c->canon);
	free(c->canon_len);
	free(c->size);
	idg__idcache_free(c->ids);
	free(c);
}

static void
rcache_reset(struct idg__rcache *c, uint64_t snapshot)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->canon[i]);
	c->n = 0;
	idg__idcache_clear(c->ids);
	c->snapshot = snapshot;
}

/* The cached answer for id, or 0. */
static int
rcache_get(struct idg_db *db, const char *id, size_t len, uint64_t h,
	   struct idg_resolution *out)
{
	struct idg__rcache *c = db->rcache;
	uint32_t k = idg__idcache_get(c->ids, id, len, h);

	if (!k)
		return 0;
	out->canonical = c->canon[k - 1];
	out->canonical_len = c->canon_len[k - 1];
	out->cluster_size = c->size[k - 1];
	return 1;
}

static void
rcache_put(struct idg_db *db, const char *id, size_t len, uint64_t h,
	   const struct idg_resolution *r)
{
	struct idg__rcache *c = db->rcache;
	char *copy;

	if (c->n >= (1u << 20))
		rcache_reset(c, c->snapshot);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		char **a = realloc(c->canon, cap * sizeof(*a));
		size_t *b = a ? realloc(c->canon_len, cap * sizeof(*b)) : NULL;
		uint64_t *d = b ? realloc(c->size, cap * sizeof(*d)) : NULL;

		if (a)
			c->canon = a;
		if (b)
			c->canon_len = b;
		if (!a || !b || !d)
			return; /* no room: just not cached */
		c->size = d;
		c->cap = cap;
	}
	copy = malloc(r->canonical_len + 1);
	if (!copy)
		return;
	memcpy(copy, r->canonical, r->canonical_len + 1);
	c->canon[c->n] = copy;
	c->canon_len[c->n] = r->canonical_len;
	c->size[c->n] = r->cluster_size;
	c->n++;
	idg__idcache_put(c->ids, id, len, h, (uint32_t)c->n);
}

/* The cache, made on first use and emptied when the snapshot moved. */
static struct idg__rcache *
rcache_for(struct idg_db *db, uint64_t snapshot)
{
	if (!db->rcache) {
		db->rcache = calloc(1, sizeof(*db->rcache));
		if (db->rcache)
			db->rcache->ids = idg__idcache_new();
		if (db->rcache && !db->rcache->ids) {
			idg__rcache_free(db->rcache);
			db->rcache = NULL;
		}
	}
	if (db->rcache && db->rcache->snapshot != snapshot)
		rcache_reset(db->rcache, snapshot);
	return db->rcache;
}

static int
resolve_in(idg_db *db, struct idg__txn *t, const char *id, size_t len,
	   int64_t at, int view, struct idg_resolution *out)
{
	struct idg__state st = {0};
	struct members m = {0};
	struct idg__val v;
	struct idg__asof a;
	uint32_t node, root, canon;
	int rc;

	rc = idg__state_stamp(t, &st.stamp, &db->err);
	a = idg__asof_make(db, &st, at, view);
	if (rc == IDG_OK)
		rc = find_node(db, t, id, len, &a, &node);
	if (rc == IDG_OK)
		rc = idg__asof_root(t, node, &a, &root, &canon, &db->err);
	/* The live view knows its sizes; a past one counts its members. */
	if (rc == IDG_OK && a.live)
		rc = live_size(t, root, &m.n, &db->err);
	else if (rc == IDG_OK)
		rc = collect_members(t, node, root, &a, &m, &db->err);
	if (rc == IDG_OK)
		rc = idg__ids_name(t, canon, &v, &db->err);
	if (rc == IDG_OK) {
		out->canonical = idg__db_keep(db, v.p, v.n);
		out->canonical_len = v.n;
		out->cluster_size = m.n;
		if (!out->canonical)
			rc = idg__err_set(&db->err, IDG_ENOMEM,
					  "out of memory");
	}
	free(m.v);
	return rc;
}

int
idg_resolve(idg_db *db, const char *id, size_t len, int64_t at, int view,
	    struct idg_resolution *out)
{
	struct idg__rcache *c = NULL;
	struct idg__txn *t = NULL;
	uint64_t h = 0, snap;
	int rc, kept = at == IDG_NOW && view == IDG_VIEW_LIVE;

	if (!db || !id || !out)
		return IDG_EINVAL;
	idg__err_clear(&db->err);
	/* Live answers now are kept for as long as nothing commits, and a
	 * kept one needs no transaction: only the snapshot's id. */
	if (kept) {
		h = idg__hash64(id, len);
		if (db->rcache && idg__store_snapshot(db->store, &snap) == 0 &&
		    snap == db->rcache->snapshot &&
		    rcache_get(db, id, len, h, out))
			return IDG_OK;
	}
	rc = idg__store_begin(db->store, 0, &t, &db->err);
	if (rc)
		return rc;
	if (kept) /* not kept, or kept for a snapshot that has moved */
		c = rcache_for(db, idg__store_txn_id(t));
	rc = resolve_in(db, t, id, len, at, view, out);
	if (rc == IDG_OK && c)
		rcache_put(db, id, len, h, out);
	idg__store_abort(t);
	return rc;
}

int
idg_cluster_foreach(idg_db *db, const char *id, size_t len, int64_t at,
		    int view, idg_member_cb cb, void *user)
{
	struct idg__txn *t = NULL;
	struct idg__state st;
	struct members m = {0};
	struct names nm = {0};
	struct idg__asof a;
	uint32_t node, root;
	size_t i, off;
	int rc;

	if (!db || !id || !cb)
		return IDG_EINVAL;
	idg__err_clear(&db->err);
	rc = begin_stamp(db, &t, &st);
	if (rc)
		goto out;
	a = idg__asof_make(db, &st, at, view);
	rc = find_node(db, t, id, len, &a, &node);
	if (rc == IDG_OK)
		rc = idg__asof_root(t, node, &a, &root, NULL, &db->err);
	if (rc == IDG_OK)
		rc = collect_members(t, node, root, &a, &m, &db->err);
	for (i = 0; rc == IDG_OK && i < m.n; i++) {
		nm.len = 0;
		rc = names_add(&nm, t, m.v[i], &off, &db->err);
		if (rc == IDG_OK && cb(user, nm.buf, nm.len - 1))
			rc = IDG_ESTOPPED;
	}
out:
	free(m.v);
	free(nm.buf);
	idg__store_abort(t);
	return rc;
}

static int
log_emit(struct idg_db *db, struct idg__txn *t, uint64_t seq,
	 const struct idg__log_rec *r, struct names *nm, idg_log_cb cb,
	 void *user)
{
	struct idg_log_entry e;
	size_t o0, o1, oc, oi, od;
	int rc;

	nm->len = 0;
	rc = names_add(nm, t, r->ids[0], &o0, &db->err);
	if (rc == IDG_OK)
		rc = names_add(nm, t, r->ids[1], &o1, &db->err);
	if (rc == IDG_OK)
		rc = names_add(nm, t, r->canon, &oc, &db->err);
	if (rc)
		return rc;
	/* insert_id and description ride in the same buffer. */
	oi = nm->len;
	od = oi + r->insert_len + 1;
	if (od + r->desc_len + 1 > nm->cap) {
		char *p = realloc(nm->buf, od + r->desc_len + 1);

		if (!p)
			return idg__err_set(&db->err, IDG_ENOMEM,
					    "out of memory");
		nm->buf = p;
		nm->cap = od + r->desc_len + 1;
	}
	if (r->insert_len)
		memcpy(nm->buf + oi, r->insert_id, r->insert_len);
	nm->buf[oi + r->insert_len] = '\0';
	if (r->desc_len)
		memcpy(nm->buf + od, r->desc, r->desc_len);
	nm->buf[od + r->desc_len] = '\0';
	e = (struct idg_log_entry){
	    seq,
	    r->stamp,
	    idg__ident_name(r->kind),
	    {nm->buf + o0, nm->buf + o1},
	    nm->buf + oi,
	    r->outcome,
	    r->reason,
	    nm->buf + od,
	    nm->buf + oc,
	    {o1 - o0 - 1, oc - o1 - 1},
	    r->insert_len,
	    oi - oc - 1,
	};
	return cb(user, &e) ? IDG_ESTOPPED : IDG_OK;
}

int
idg_log_foreach(idg_db *db, idg_log_cb cb, void *user)
{
	struct idg__txn *t = NULL;
	struct idg__cursor *c = NULL;
	struct idg__state st;
	struct idg__log_rec r;
	struct names nm = {0};
	struct idg__val k, v;
	uint64_t seq;
	int rc, op = IDG__FIRST;

	if (!db || !cb)
		return IDG_EINVAL;
	idg__err_clear(&db->err);
	rc = begin_read(db, &t, &st);
	if (rc == IDG_OK)
		rc = idg__cursor_open(t, IDG__T_LOG, &c, &db->err);
	while (rc == IDG_OK &&
	       (rc = idg__cursor_get(c, op, &k, &v, &db->err)) == IDG_OK) {
		op = IDG__NEXT;
		memcpy(&seq, k.p, sizeof(seq));
		if (idg__log_decode(v.p, v.n, &r))
			rc = idg__err_set(&db->err, IDG_ECORRUPT,
					  "log entry %llu is corrupt",
					  (unsigned long long)seq);
		else
			rc = log_emit(db, t, seq, &r, &nm, cb, user);
	}
	if (rc == IDG_ENOTFOUND)
		rc = IDG_OK;
	free(nm.buf);
	idg__cursor_close(c);
	idg__store_abort(t);
	return rc;
}

/* Roots, sizes and canonical nodes of every node as of a. */
struct mapping_pass {
	uint32_t *root;	 /* by node number; 0 for nodes not yet created */
	uint32_t *size;	 /* by root */
	uint32_t *canon; /* by root, 0 until looked up */
};

static int
mapping_roots(struct idg__txn *t, uint32_t nodes, const struct idg__asof *a,
	      struct mapping_pass *p, struct idg__err *e)
{
	struct idg__node nd;
	uint32_t x;
	int rc;

	for (x = 1; x < nodes; x++) {
		rc = idg__graph_get(t, x, &nd, e);
		if (rc)
			return rc;
		if (nd.created > a->at)
			continue;
		if (a->live)
			p->root[x] = nd.root;
		else if ((rc = idg__graph_find_at(t, x, a->eff, &p->root[x],
						  e)) != IDG_OK)
			return rc;
		if (p->root[x] == 0 || p->root[x] >= nodes)
			return idg__err_set(e, IDG_ECORRUPT,
					    "node %u is corrupt: its root %u "
					    "is no node",
					    x, p->root[x]);
		p->size[p->root[x]]++;
	}
	return IDG_OK;
}

static int
mapping_emit(struct idg__txn *t, uint32_t nodes, const struct idg__asof *a,
	     struct mapping_pass *p, idg_mapping_cb cb, void *user,
	     struct idg__err *e)
{
	struct names nm = {0};
	size_t o0, o1;
	uint32_t x, r;
	int rc = IDG_OK;

	for (x = 1; rc == IDG_OK && x < nodes; x++) {
		r = p->root[x];
		if (r == 0 || p->size[r] < 2)
			continue;
		if (!p->canon[r])
			rc = idg__graph_canon_at(t, r,
						 a->live ? INT64_MAX : a->eff,
						 &p->canon[r], e);
		nm.len = 0;
		if (rc == IDG_OK)
			rc = names_add(&nm, t, x, &o0, e);
		if (rc == IDG_OK)
			rc = names_add(&nm, t, p->canon[r], &o1, e);
		if (rc == IDG_OK && cb(user, nm.buf + o0, o1 - o0 - 1,
				       nm.buf + o1, nm.len - o1 - 1))
			rc = IDG_ESTOPPED;
	}
	free(nm.buf);
	return rc;
}

int
idg_mappings_foreach(idg_db *db, int64_t at, int view, idg_mapping_cb cb,
		     void *user)
{
	struct idg__txn *t = NULL;
	struct idg__state st;
	struct mapping_pass p = {0};
	struct idg__asof a;
	int rc;

	if (!db || !cb)
		return IDG_EINVAL;
	idg__err_clear(&db->err);
	rc = begin_read(db, &t, &st);
	if (rc)
		goto out;
	a = idg__asof_make(db, &st, at, view);
	p.root = calloc(st.next_node, sizeof(*p.root));
	p.size = calloc(st.next_node, sizeof(*p.size));
	p.canon = calloc(st.next_node, sizeof(*p.canon));
	if (!p.root || !p.size || !p.canon)
		rc = idg__err_set(&db->err, IDG_ENOMEM, "out of memory");
	if (rc == IDG_OK)
		rc = mapping_roots(t, st.next_node, &a, &p, &db->err);
	if (rc == IDG_OK)
		rc = mapping_emit(t, st.next_node, &a, &p, cb, user, &db->err);
out:
	free(p.root);
	free(p.size);
	free(p.canon);
	idg__store_abort(t);
	return rc;
}

int
idg__members_live(struct idg__txn *t, uint32_t node, uint32_t **out,
		  size_t *n, struct idg__err *e)
{
	struct idg__asof live = {INT64_MAX, INT64_MAX, 1};
	struct members m;
	struct idg__node nd;
	int rc = idg__graph_get(t, node, &nd, e);

	*out = NULL;
	*n = 0;
	if (rc == IDG_OK)
		rc = collect_members(t, node, nd.root, &live, &m, e);
	if (rc) {
		free(m.v);
		return rc;
	}
	*out = m.v;
	*n = m.n;
	return IDG_OK;
}

/* Counts the clusters of two or more, and the largest one. */
static int
cluster_stats(struct idg__txn *t, struct idg_graph_stats *out,
	      struct idg__err *e)
{
	struct idg__cursor *c;
	struct idg__node nd;
	struct idg__val k, v;
	int rc, op = IDG__FIRST;

	rc = idg__cursor_open(t, IDG__T_NODES, &c, e);
	while (rc == IDG_OK && (rc = idg__cursor_get(c, op, &k, &v, e)) == 0) {
		uint32_t n;

		op = IDG__NEXT;
		memcpy(&n, k.p, sizeof(n));
		memcpy(&nd, v.p, sizeof(nd));
		out->distinct_ids++;
		if (nd.parent != n)
			continue;
		out->clusters += nd.size >= 2;
		if (nd.size > out->largest_cluster)
			out->largest_cluster = nd.size;
	}
	idg__cursor_close(c);
	return rc == IDG_ENOTFOUND ? IDG_OK : rc;
}

static int
profile_stats(struct idg__txn *t, struct idg_graph_stats *out,
	      struct idg__err *e)
{
	struct idg__cursor *c;
	struct idg__val k, v;
	int rc, op = IDG__FIRST;

	rc = idg__cursor_open(t, IDG__T_PROFILES, &c, e);
	while (rc == IDG_OK && (rc = idg__cursor_get(c, op, &k, &v, e)) == 0) {
		op = IDG__NEXT;
		/* [hidden, properties]: the second byte says which. */
		if (v.n >= 2 && ((const unsigned char *)v.p)[1])
			out->profiles_hidden++;
		else
			out->profiles_active++;
	}
	idg__cursor_close(c);
	return rc == IDG_ENOTFOUND ? IDG_OK : rc;
}

int
idg_graph_stats(idg_db *db, struct idg_graph_stats *out)
{
	struct idg__txn *t = NULL;
	int rc;

	if (!db || !out)
		return IDG_EINVAL;
	memset(out, 0, sizeof(*out));
	idg__err_clear(&db->err);
	rc = idg__store_begin(db->store, 0, &t, &db->err);
	if (rc == IDG_OK)
		rc = cluster_stats(t, out, &db->err);
	if (rc == IDG_OK)
		rc = profile_stats(t, out, &db->err);
	idg__store_abort(t);
	return rc;
}
