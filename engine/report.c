/*
 * report.c — Insights-style unique users and funnels, SPEC §5.
 *
 * A report streams once through the event heads of its range (never a
 * property), keeps the events stamped <= T, and maps each event's node to
 * its user: the root of its cluster in the view as of T. A node is resolved
 * at most once per report (a memo keyed by node), and nothing of the graph
 * is copied: the memo holds only the nodes the report meets. Time travel is
 * exact because every input is filtered by stamp: events by their own,
 * merges by the forest's link stamps.
 *
 * Funnels gather the step events per user, sort them by (user, time, seq)
 * and run one pass per user that keeps, for each step, the latest start
 * time of a partial match reaching it: a later start never hurts, since
 * every later step must fall within the window of its start.
 */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "ids.h"
#include "log.h"
#include "view.h"

/* ---- a small open-addressing map of 64-bit keys ------------------- */

struct map {
	uint64_t *keys; /* key + 1; 0 marks an empty slot */
	uint64_t *vals;
	size_t cap, n;
};

static size_t
slot_of(const struct map *m, uint64_t key)
{
	return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 20) &
	       (m->cap - 1);
}

static uint64_t *
map_find(const struct map *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = slot_of(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key + 1)
			return &m->vals[i];
	return NULL;
}

static int
map_grow(struct map *m)
{
	struct map big = {0};
	size_t i, j;

	big.cap = m->cap ? m->cap * 2 : 1024;
	big.keys = calloc(big.cap, sizeof(*big.keys));
	big.vals = malloc(big.cap * sizeof(*big.vals));
	if (!big.keys || !big.vals) {
		free(big.keys);
		free(big.vals);
		return IDG_ENOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		for (j = slot_of(&big, m->keys[i] - 1); big.keys[j];
		     j = (j + 1) & (big.cap - 1))
			;
		big.keys[j] = m->keys[i];
		big.vals[j] = m->vals[i];
	}
	big.n = m->n;
	free(m->keys);
	free(m->vals);
	*m = big;
	return IDG_OK;
}

/* The value of key, made (as 0) if absent; NULL when out of memory. */
static uint64_t *
map_at(struct map *m, uint64_t key, int *made)
{
	uint64_t *v = map_find(m, key);
	size_t i;

	*made = 0;
	if (v)
		return v;
	if ((m->n + 1) * 4 > m->cap * 3 && map_grow(m))
		return NULL;
	for (i = slot_of(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1))
		;
	m->keys[i] = key + 1;
	m->vals[i] = 0;
	m->n++;
	*made = 1;
	return &m->vals[i];
}

static void
map_free(struct map *m)
{
	free(m->keys);
	free(m->vals);
}

/* ---- what every report shares ------------------------------------- */

struct report {
	struct idg_db *db;
	struct idg__txn *t;
	struct idg__state st;
	struct idg__asof a;
	uint32_t *memo;    /* by node: its root, resolved once; 0 unknown */
	uint32_t nodes;    /* node numbers are below this */
	uint32_t skip[3];  /* the identity event names' numbers, or 0 */
};

static int
report_begin(struct report *r, struct idg_db *db, int64_t at, int view)
{
	static const char *const identity[3] = {"$identify", "$create_alias",
						"$merge"};
	int rc, i;

	memset(r, 0, sizeof(*r));
	r->db = db;
	idg__err_clear(&db->err);
	rc = idg__store_begin(db->store, 0, &r->t, &db->err);
	if (rc == IDG_OK)
		rc = idg__state_load(r->t, &r->st, &db->err);
	for (i = 0; rc == IDG_OK && i < 3; i++) {
		rc = idg__evname_find(r->t, identity[i], strlen(identity[i]),
				      &r->skip[i], &db->err);
		if (rc == IDG_ENOTFOUND)
			rc = IDG_OK;
	}
	r->a = idg__asof_make(db, &r->st, at, view);
	/* Filled only for the nodes the report meets: a cache of answers,
	 * 4 bytes a node, not a copy of the graph. */
	r->nodes = r->st.next_node;
	r->memo = rc == IDG_OK ? calloc(r->nodes ? r->nodes : 1, 4) : NULL;
	if (rc == IDG_OK && !r->memo)
		rc = idg__err_set(&db->err, IDG_ENOMEM, "out of memory");
	return rc;
}

static void
report_end(struct report *r)
{
	idg__store_abort(r->t);
	free(r->memo);
}

static int
is_identity_event(const struct report *r, uint32_t name)
{
	return name && (name == r->skip[0] || name == r->skip[1] ||
			name == r->skip[2]);
}

/* The user (cluster root) of a node in the report's view. */
static int
user_of(struct report *r, uint32_t node, uint32_t *root)
{
	int rc;

	if (r->db->set.mode == IDG_MODE_LEGACY) {
		/* Attributed at ingestion, for good: no view changes it. */
		*root = node;
	} else if (node < r->nodes && r->memo[node]) {
		*root = r->memo[node];
		return IDG_OK;
	} else {
		rc = idg__asof_root(r->t, node, &r->a, root, NULL,
				    &r->db->err);
		if (rc)
			return rc;
	}
	/* Roots index the report's tables: a corrupt one must stop here. */
	if (*root == 0 || *root >= r->nodes)
		return idg__err_set(&r->db->err, IDG_ECORRUPT,
				    "node %u is corrupt: its root %u is no "
				    "node",
				    node, *root);
	if (node < r->nodes)
		r->memo[node] = *root;
	return IDG_OK;
}

static int
event_number(struct report *r, const char *name, uint32_t *out)
{
	int rc;

	if (!name || !*name)
		return idg__err_set(&r->db->err, IDG_EINVAL,
				    "an event name is empty");
	rc = idg__evname_find(r->t, name, strlen(name), out, &r->db->err);
	return rc == IDG_ENOTFOUND ? idg__evname_unknown(r->t, name, &r->db->err)
				   : rc;
}

/* The merges a report at T does not count yet: stamped in (T - delay,
 * T]. None in legacy mode, whose reports count the ids events were
 * attributed to when ingested, so that no merge ever changes them. */
static int
pending_merges(struct report *r, uint64_t *out)
{
	int64_t at = r->a.at, after;

	if (r->db->set.mode == IDG_MODE_LEGACY) {
		*out = 0;
		return IDG_OK;
	}
	after = at < INT64_MIN + r->db->set.merge_delay_ms
		    ? INT64_MIN
		    : at - r->db->set.merge_delay_ms;
	return idg__log_count_merges(r->t, r->st.log_seq, after, at, out,
				     &r->db->err);
}

static int
check_range(struct idg_db *db, int64_t from, int64_t to)
{
	if (from >= to)
		return idg__err_set(&db->err, IDG_EINVAL,
				    "the time range is empty: --from must be "
				    "before --to");
	return IDG_OK;
}

/* ---- uniques ------------------------------------------------------ */

struct uniques {
	struct report r;
	int64_t bucket_ms;  /* 0 for a total */
	unsigned char *users; /* bit per node: a root seen */
	uint64_t nusers;
	struct map pairs;   /* (bucket, root) -> 1 */
	struct map buckets; /* bucket -> (users << 32 | events) */
	uint64_t events;
};

static int
count_event(void *ctx, int64_t time_ms, uint64_t seq,
	    const struct idg__evhead *h)
{
	struct uniques *u = ctx;
	uint64_t bucket = 0, *b = NULL;
	uint32_t root;
	int made, rc;

	(void)seq;
	if (h->stamp > u->r.a.at || is_identity_event(&u->r, h->name))
		return IDG_OK;
	u->events++;
	if (u->bucket_ms) {
		bucket = (uint64_t)(time_ms / u->bucket_ms);
		b = map_at(&u->buckets, bucket, &made);
		if (!b)
			return IDG_ENOMEM;
		(*b)++;
	}
	if (h->node == 0)
		return IDG_OK; /* an event of no user */
	rc = user_of(&u->r, h->node, &root);
	if (rc)
		return rc;
	if (root < u->r.nodes && !(u->users[root / 8] & (1u << (root % 8)))) {
		u->users[root / 8] |= (unsigned char)(1u << (root % 8));
		u->nusers++;
	}
	if (u->bucket_ms) {
		if (!map_at(&u->pairs, bucket << 32 | root, &made))
			return IDG_ENOMEM;
		if (made)
			*b += UINT64_C(1) << 32;
	}
	return IDG_OK;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Hands the buckets to cb in time order. */
static int
emit_buckets(struct uniques *u, idg_bucket_cb cb, void *user)
{
	uint64_t *order = malloc((u->buckets.n + 1) * sizeof(*order)), *v;
	size_t i, n = 0;
	int rc = IDG_OK;

	if (!order)
		return IDG_ENOMEM;
	for (i = 0; i < u->buckets.cap; i++)
		if (u->buckets.keys[i])
			order[n++] = u->buckets.keys[i] - 1;
	qsort(order, n, sizeof(*order), cmp_u64);
	for (i = 0; i < n && rc == IDG_OK; i++) {
		v = map_find(&u->buckets, order[i]);
		if (cb(user, (int64_t)order[i] * u->bucket_ms, *v >> 32,
		       *v & 0xffffffffu))
			rc = IDG_ESTOPPED;
	}
	free(order);
	return rc;
}

int
idg_report_uniques(idg_db *db, const struct idg_report_opts *opts,
		   struct idg_uniques *out, idg_bucket_cb cb, void *user)
{
	static const int64_t bucket[] = {0, 86400000, 3600000};
	struct uniques u;
	uint32_t name = 0;
	int rc;

	if (!db || !opts || !out || opts->interval < 0 || opts->interval > 2)
		return IDG_EINVAL;
	memset(&u, 0, sizeof(u));
	rc = report_begin(&u.r, db, opts->at, opts->view);
	if (rc == IDG_OK)
		rc = check_range(db, opts->from_ms, opts->to_ms);
	if (rc == IDG_OK && opts->event)
		rc = event_number(&u.r, opts->event, &name);
	u.bucket_ms = bucket[opts->interval];
	if (rc == IDG_OK) {
		u.users = calloc(u.r.nodes / 8 + 1, 1);
		if (!u.users)
			rc = idg__err_set(&db->err, IDG_ENOMEM,
					  "out of memory");
	}
	if (rc == IDG_OK)
		rc = idg__events_scan(u.r.t, name, opts->from_ms, opts->to_ms,
				      count_event, &u, &db->err);
	if (rc == IDG_ENOMEM)
		idg__err_set(&db->err, rc, "out of memory");
	if (rc == IDG_OK) {
		out->uniques = u.nusers;
		out->events = u.events;
		out->at = u.r.a.at;
		rc = pending_merges(&u.r, &out->pending_merges);
	}
	if (rc == IDG_OK && cb && u.bucket_ms)
		rc = emit_buckets(&u, cb, user);
	free(u.users);
	map_free(&u.pairs);
	map_free(&u.buckets);
	report_end(&u.r);
	return rc;
}

/* ---- funnels ------------------------------------------------------ */

/* One step event of one user. */
struct hit {
	uint32_t root;
	uint32_t name;
	int64_t time;
	uint64_t seq;
};

struct funnel {
	struct report r;
	const struct idg_funnel_opts *o;
	uint32_t *step;     /* step i's name number */
	struct hit *hits;
	size_t n, cap;
	int64_t *best;      /* per step: latest start reaching it */
	uint64_t *reached;  /* per step: users whose furthest step it is */
};

static int
collect_hit(void *ctx, int64_t time_ms, uint64_t seq,
	    const struct idg__evhead *h)
{
	struct funnel *f = ctx;
	uint32_t root;
	size_t i;
	int rc;

	/* as in uniques: no identity event, and no empty id, is a user's */
	if (h->stamp > f->r.a.at || h->node == 0 ||
	    is_identity_event(&f->r, h->name))
		return IDG_OK;
	for (i = 0; i < f->o->nsteps && f->step[i] != h->name; i++)
		;
	if (i == f->o->nsteps)
		return IDG_OK; /* not a step of this funnel */
	rc = user_of(&f->r, h->node, &root);
	if (rc)
		return rc;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4096;
		struct hit *p = realloc(f->hits, cap * sizeof(*p));

		if (!p)
			return IDG_ENOMEM;
		f->hits = p;
		f->cap = cap;
	}
	f->hits[f->n++] = (struct hit){root, h->name, time_ms, seq};
	return IDG_OK;
}

static int
cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The furthest step (1-based; 0 for none) one user's hits reach. */
static size_t
furthest(struct funnel *f, const struct hit *h, size_t n)
{
	size_t k, i, max = 0, steps = f->o->nsteps;

	for (k = 0; k < steps; k++)
		f->best[k] = INT64_MIN;
	for (i = 0; i < n; i++) {
		/* Later steps first, so one event never chains to itself. */
		for (k = steps - 1; k >= 1; k--)
			if (h[i].name == f->step[k] &&
			    f->best[k - 1] != INT64_MIN &&
			    h[i].time - f->best[k - 1] <= f->o->window_ms &&
			    f->best[k - 1] > f->best[k])
				f->best[k] = f->best[k - 1];
		if (h[i].name == f->step[0] && h[i].time >= f->o->from_ms &&
		    h[i].time < f->o->to_ms)
			f->best[0] = h[i].time;
	}
	for (k = 0; k < steps; k++)
		if (f->best[k] != INT64_MIN)
			max = k + 1;
	return max;
}

static int
funnel_names(struct funnel *f)
{
	size_t i;
	int rc = IDG_OK;

	if (f->o->nsteps < 2 || !f->o->steps)
		return idg__err_set(&f->r.db->err, IDG_EINVAL,
				    "a funnel needs two or more steps");
	if (f->o->window_ms < 0)
		return idg__err_set(&f->r.db->err, IDG_EINVAL,
				    "the conversion window must not be "
				    "negative");
	f->step = calloc(f->o->nsteps, sizeof(*f->step));
	f->best = calloc(f->o->nsteps, sizeof(*f->best));
	f->reached = calloc(f->o->nsteps + 1, sizeof(*f->reached));
	if (!f->step || !f->best || !f->reached)
		return idg__err_set(&f->r.db->err, IDG_ENOMEM, "out of memory");
	for (i = 0; rc == IDG_OK && i < f->o->nsteps; i++)
		rc = event_number(&f->r, f->o->steps[i], &f->step[i]);
	return rc;
}

/* Gathers, in one scan, every event of a step's name. */
static int
funnel_collect(struct funnel *f)
{
	int64_t to = f->o->to_ms, end;
	int rc;

	end = to > INT64_MAX - f->o->window_ms ? INT64_MAX
					      : to + f->o->window_ms;
	rc = idg__events_scan(f->r.t, 0, f->o->from_ms, end, collect_hit, f,
			      &f->r.db->err);
	if (rc == IDG_ENOMEM)
		idg__err_set(&f->r.db->err, rc, "out of memory");
	return rc;
}

/*
 * Groups the hits by user, keeping each user's hits in the (time, seq)
 * order of the scan: a counting sort on the root, stable, in linear time.
 */
static int
group_by_user(struct funnel *f)
{
	uint32_t nodes = f->r.nodes, *start;
	struct hit *sorted;
	size_t i;

	if (f->n == 0)
		return IDG_OK; /* (f->hits may be NULL: no qsort) */
	if (f->r.db->set.mode == IDG_MODE_LEGACY) {
		/* Legacy roots are any node; the scan order still holds. */
		qsort(f->hits, f->n, sizeof(*f->hits), cmp_hit);
		return IDG_OK;
	}
	start = calloc((size_t)nodes + 1, sizeof(*start));
	sorted = malloc(f->n * sizeof(*sorted));
	if (!start || !sorted) {
		free(start);
		free(sorted);
		return IDG_ENOMEM;
	}
	for (i = 0; i < f->n; i++)
		start[f->hits[i].root + 1 <= nodes ? f->hits[i].root + 1 : 0]++;
	for (i = 1; i <= nodes; i++)
		start[i] += start[i - 1];
	for (i = 0; i < f->n; i++)
		sorted[start[f->hits[i].root]++] = f->hits[i];
	free(start);
	free(f->hits);
	f->hits = sorted;
	return IDG_OK;
}

static int
funnel_count(struct funnel *f, struct idg_funnel_step *out)
{
	size_t i = 0, j, k, steps = f->o->nsteps;
	uint64_t users = 0;

	if (group_by_user(f))
		return idg__err_set(&f->r.db->err, IDG_ENOMEM, "out of memory");
	while (i < f->n) {
		for (j = i; j < f->n && f->hits[j].root == f->hits[i].root; j++)
			;
		f->reached[furthest(f, f->hits + i, j - i)]++;
		i = j;
	}
	for (k = steps; k >= 1; k--) {
		users += f->reached[k];
		out[k - 1].users = users;
	}
	for (k = 0; k < steps; k++)
		out[k].conversion = out[0].users ? (double)out[k].users /
						       (double)out[0].users
						 : 0.0;
	return IDG_OK;
}

int
idg_report_funnel(idg_db *db, const struct idg_funnel_opts *opts,
		  struct idg_funnel_step *out, uint64_t *pending)
{
	struct funnel f;
	int rc;

	if (!db || !opts || !out)
		return IDG_EINVAL;
	memset(&f, 0, sizeof(f));
	f.o = opts;
	rc = report_begin(&f.r, db, opts->at, opts->view);
	if (rc == IDG_OK)
		rc = check_range(db, opts->from_ms, opts->to_ms);
	if (rc == IDG_OK)
		rc = funnel_names(&f);
	if (rc == IDG_OK)
		rc = funnel_collect(&f);
	if (rc == IDG_OK)
		rc = funnel_count(&f, out);
	if (rc == IDG_OK && pending)
		rc = pending_merges(&f.r, pending);
	free(f.step);
	free(f.best);
	free(f.reached);
	free(f.hits);
	report_end(&f.r);
	return rc;
}
