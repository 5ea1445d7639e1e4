/*
 * cmd_explain.c — idgraph explain: why ids share a cluster (SPEC §6).
 *
 * One id: the merges that built its cluster, in stamp order. Two ids: the
 * shortest chain of merges between them (the fewest merges; of equally
 * short chains, the first a breadth-first search from the first id finds,
 * taking each id's merges in log order), or the statement that they are
 * not connected. Ids may hold NUL bytes: lengths go with them throughout.
 *
 * Both read the identity log and keep the merges applied as of T in the
 * view (stamped <= T, or <= T - merge delay) whose two ids are in the
 * cluster. Each such merge joined the clusters of the two ids it named,
 * so the cluster is the connected component of its ids under them, and a
 * breadth-first search over them finds the shortest chain.
 */
#include "cli.h"
#include "cli_time.h"
#include "uf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One merge of the log, its strings copied out of its callback. */
struct merge {
	struct idg_log_entry e;
	uint32_t a, b; /* the numbers of e.ids[0] and e.ids[1] in the cluster */
};

struct explain {
	struct uf *members; /* the cluster's ids, numbered */
	int64_t eff;	    /* merges stamped after it were not applied */
	struct merge *v;    /* the cluster's merges, in log order */
	size_t n, cap;
	int nomem;
};

/* One explain: the database and what the command line asked. */
struct query {
	idg_db *db;
	const char *dir;
	int64_t at; /* a stamp: the database's own when --at is not given */
	int at_given;
	int view;
	int64_t eff; /* the view applies the merges stamped up to it */
	idg_jw *w;   /* --json, or NULL */
};

static void
explain_free(struct explain *x)
{
	for (size_t i = 0; i < x->n; i++) {
		struct idg_log_entry *e = &x->v[i].e;

		free((char *)e->event);
		free((char *)e->ids[0]);
		free((char *)e->ids[1]);
		free((char *)e->insert_id);
		free((char *)e->canonical);
	}
	free(x->v);
	uf_free(x->members);
}

/* The stamp a view as of stamp at applies merges up to (the engine's
 * rule, engine/view.c). */
static int64_t
effective_stamp(const struct idg_info *in, int64_t at, int view)
{
	if (view != IDG_VIEW_REPORTED)
		return at;
	return at < INT64_MIN + in->merge_delay_ms ? INT64_MIN
						   : at - in->merge_delay_ms;
}

static int
add_member(void *user, const char *member, size_t len)
{
	struct explain *x = user;

	if (uf_intern(x->members, member, len) == UF_NONE) {
		x->nomem = 1;
		return 1;
	}
	return 0;
}

/* A copy of n bytes at p, NUL-terminated; NULL when out of memory. */
static char *
copy(const char *p, size_t n)
{
	char *c = malloc(n + 1);

	if (c) {
		memcpy(c, p, n);
		c[n] = '\0';
	}
	return c;
}

/* Writes n bytes at p on stdout for a person (an id may hold a NUL). */
static void
put(const char *p, size_t n)
{
	put_text(stdout, p, n);
}

/* idg_log_cb: keeps a merge applied by x->eff between two members. */
static int
keep_merge(void *user, const struct idg_log_entry *e)
{
	struct explain *x = user;
	struct merge *m;
	uint32_t a, b;

	if (e->outcome != IDG_OUTCOME_MERGED || e->stamp > x->eff)
		return 0;
	a = uf_lookup(x->members, e->ids[0], e->ids_len[0]);
	b = uf_lookup(x->members, e->ids[1], e->ids_len[1]);
	if (a == UF_NONE || b == UF_NONE)
		return 0;
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 16;
		struct merge *v = realloc(x->v, cap * sizeof(*v));

		if (!v) {
			x->nomem = 1;
			return 1;
		}
		x->v = v;
		x->cap = cap;
	}
	m = &x->v[x->n++];
	m->e = *e;
	m->e.event = copy(e->event, strlen(e->event));
	m->e.ids[0] = copy(e->ids[0], e->ids_len[0]);
	m->e.ids[1] = copy(e->ids[1], e->ids_len[1]);
	m->e.insert_id = copy(e->insert_id, e->insert_id_len);
	m->e.description = "";
	m->e.canonical = copy(e->canonical, e->canonical_len);
	m->a = a;
	m->b = b;
	if (!m->e.event || !m->e.ids[0] || !m->e.ids[1] || !m->e.insert_id ||
	    !m->e.canonical) {
		x->nomem = 1;
		return 1;
	}
	return 0;
}

/* Fills x with id's cluster as of q, and the merges that built it; 0, or
 * the exit status after a message. */
static int
collect(const struct query *q, const char *id, struct explain *x)
{
	int rc;

	x->eff = q->eff;
	if (!(x->members = uf_new()))
		return fail("out of memory");
	rc = idg_cluster_foreach(q->db, id, strlen(id), q->at, q->view,
				 add_member, x);
	if (rc == 0)
		rc = idg_log_foreach(q->db, keep_merge, x);
	if (x->nomem)
		return fail("out of memory");
	if (rc != 0)
		return fail("cannot read the identity log: %s",
			    detail(q->db, rc));
	return 0;
}

/* The member a merge joined member u to. */
static uint32_t
other_end(const struct merge *m, uint32_t u)
{
	return m->a == u ? m->b : m->a;
}

/* The next id of a path at *u, over merge m: moves *u there and returns
 * its name (*len bytes). */
static const char *
path_step(const struct explain *x, size_t m, uint32_t *u, size_t *len)
{
	*u = other_end(&x->v[m], *u);
	return uf_name(x->members, *u, len);
}

/*
 * The shortest chain of merges from member s to member t: the indexes of
 * its merges into x->v, in order from s, in *out (*len of them; none when
 * s is t). 0; 1 when no chain joins them; -1 when out of memory.
 */
static int
shortest_chain(const struct explain *x, uint32_t s, uint32_t t, size_t **out,
	       size_t *len)
{
	uint32_t nodes = uf_count(x->members), head = 0, tail = 0, u, w;
	size_t *first = calloc((size_t)nodes + 1, sizeof(size_t));
	size_t *adj = malloc((2 * x->n + 1) * sizeof(size_t));
	size_t *via = malloc(((size_t)nodes + 1) * sizeof(size_t));
	uint32_t *queue = malloc(((size_t)nodes + 1) * sizeof(uint32_t));
	size_t i, k, n = 0, *chain = NULL;
	int rc = 1;

	*out = NULL;
	*len = 0;
	if (s >= nodes || t >= nodes)
		goto out; /* not members (cannot happen: both resolve here) */
	if (!first || !adj || !via || !queue) {
		rc = -1;
		goto out;
	}
	/* Each member's merges, in log order (a CSR adjacency). */
	for (i = 0; i < x->n; i++) {
		first[x->v[i].a + 1]++;
		first[x->v[i].b + 1]++;
	}
	for (u = 0; u < nodes; u++)
		first[u + 1] += first[u];
	for (u = 0; u <= nodes; u++)
		via[u] = first[u]; /* fill positions, reused below */
	for (i = 0; i < x->n; i++) {
		adj[via[x->v[i].a]++] = i;
		adj[via[x->v[i].b]++] = i;
	}
	/* via[u]: the merge u was reached by; SIZE_MAX: not reached. */
	for (u = 0; u < nodes; u++)
		via[u] = SIZE_MAX;
	via[s] = SIZE_MAX - 1; /* the start */
	queue[tail++] = s;
	while (head < tail && via[t] == SIZE_MAX) {
		u = queue[head++];
		for (k = first[u]; k < first[u + 1]; k++) {
			w = other_end(&x->v[adj[k]], u);
			if (via[w] == SIZE_MAX) {
				via[w] = adj[k];
				queue[tail++] = w;
			}
		}
	}
	if (via[t] == SIZE_MAX)
		goto out; /* no chain */
	for (u = t; u != s; n++)
		u = other_end(&x->v[via[u]], u);
	if (n && !(chain = malloc(n * sizeof(*chain)))) {
		rc = -1;
		goto out;
	}
	for (u = t, k = n; u != s; u = other_end(&x->v[chain[k]], u))
		chain[--k] = via[u];
	*out = chain;
	*len = n;
	rc = 0;
out:
	free(first);
	free(adj);
	free(via);
	free(queue);
	return rc;
}

/* ---- output ---- */

/* The merges v[idx[0..n)] (all of v when idx is NULL) as a table. */
static void
print_merges(const struct explain *x, const size_t *idx, size_t n)
{
	int ev = 5, ids = 3;
	char when[CLI_TIME_BUFSIZE];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct idg_log_entry *e = &x->v[idx ? idx[i] : i].e;

		ev = table_width(text_width(e->event, strlen(e->event)), ev);
		ids = table_width(table_ids_len(e), ids);
	}
	table_cell("stamp", 24);
	table_cell("event", ev);
	table_cell("ids", ids);
	printf("insert_id\n");
	for (i = 0; i < n; i++) {
		const struct idg_log_entry *e = &x->v[idx ? idx[i] : i].e;

		table_cell(cli_time_format(when, e->stamp), 24);
		table_cell(e->event, ev);
		table_ids(e, ids);
		if (e->insert_id_len)
			put(e->insert_id, e->insert_id_len);
		else
			putchar('-');
		putchar('\n');
	}
}

static void
json_merges(idg_jw *w, const struct explain *x, const size_t *idx, size_t n)
{
	jw_key(w, "merges");
	idg_jw_array_begin(w);
	for (size_t i = 0; i < n; i++) {
		const struct idg_log_entry *e = &x->v[idx ? idx[i] : i].e;

		idg_jw_object_begin(w);
		jw_log_head(w, e);
		jw_key(w, "canonical");
		idg_jw_string(w, e->canonical, e->canonical_len);
		idg_jw_object_end(w);
	}
	idg_jw_array_end(w);
}

/* "at" and "view" of a JSON answer. */
static void
json_when(const struct query *q)
{
	jw_at(q->w, q->at_given, q->at);
	jw_key(q->w, "view");
	jw_str(q->w, view_name(q->view));
}

/* " as of T", " (reported view)", both or nothing, for a sentence. */
static const char *
when_text(char *buf, size_t size, const struct query *q)
{
	char t[CLI_TIME_BUFSIZE];

	snprintf(buf, size, "%s%s%s", q->at_given ? " as of " : "",
		 q->at_given ? cli_time_format(t, q->at) : "",
		 q->view == IDG_VIEW_REPORTED ? " (reported view)" : "");
	return buf;
}

/* ---- the command ---- */

/* id's resolution, its canonical id copied into canon (r->canonical
 * points there); 0, or the exit status after a message. */
static int
resolve(const struct query *q, const char *id, struct idg_resolution *r,
	char **canon)
{
	char when[CLI_TIME_BUFSIZE];
	int rc = idg_resolve(q->db, id, strlen(id), q->at, q->view, r);

	if (rc == IDG_ENOTFOUND && q->at_given)
		return fail("distinct_id %s not found in %s as of %s",
			    shown_id(id), q->dir, cli_time_format(when, q->at));
	if (rc == IDG_ENOTFOUND)
		return fail("distinct_id %s not found in %s", shown_id(id),
			    q->dir);
	if (rc != 0)
		return fail("cannot resolve %s: %s", shown_id(id),
			    detail(q->db, rc));
	if (!(*canon = copy(r->canonical, r->canonical_len)))
		return fail("out of memory");
	r->canonical = *canon;
	return 0;
}

static int
explain_one(const struct query *q, const char *id)
{
	idg_jw *w = q->w;
	struct explain x = {0};
	struct idg_resolution r;
	char *canon = NULL, when[128];
	int rc = resolve(q, id, &r, &canon);

	if (rc == 0)
		rc = collect(q, id, &x);
	if (rc == 0 && w) {
		idg_jw_object_begin(w);
		jw_key(w, "distinct_id");
		jw_str(w, id);
		jw_key(w, "canonical");
		idg_jw_string(w, r.canonical, r.canonical_len);
		jw_u(w, "cluster_size", uf_count(x.members));
		json_when(q);
		json_merges(w, &x, NULL, x.n);
		idg_jw_object_end(w);
		idg_jw_newline(w);
	} else if (rc == 0) {
		printf("%s is in the cluster of ", id);
		put(r.canonical, r.canonical_len);
		printf(" (%" PRIu32 " id%s)%s", uf_count(x.members),
		       uf_count(x.members) == 1 ? "" : "s",
		       when_text(when, sizeof(when), q));
		if (x.n == 0) {
			printf(": no merge built it\n");
		} else {
			printf(", built by %zu merge%s:\n", x.n,
			       x.n == 1 ? "" : "s");
			print_merges(&x, NULL, x.n);
		}
	}
	free(canon);
	explain_free(&x);
	return rc;
}

static int
explain_two(const struct query *q, const char *const id[2])
{
	idg_jw *w = q->w;
	struct explain x = {0};
	struct idg_resolution r[2];
	char *canon[2] = {NULL, NULL}, when[128];
	size_t *chain = NULL, n = 0;
	uint32_t from = UF_NONE;
	int rc, connected = 0, got;

	rc = resolve(q, id[0], &r[0], &canon[0]);
	if (rc == 0)
		rc = resolve(q, id[1], &r[1], &canon[1]);
	if (rc == 0 && r[0].canonical_len == r[1].canonical_len &&
	    memcmp(canon[0], canon[1], r[0].canonical_len) == 0) {
		rc = collect(q, id[0], &x);
		if (rc == 0) {
			from = uf_lookup(x.members, id[0], strlen(id[0]));
			got = shortest_chain(
			    &x, from, uf_lookup(x.members, id[1], strlen(id[1])),
			    &chain, &n);
			if (got < 0)
				rc = fail("out of memory");
			else if (got > 0)
				rc = fail("the two ids share a cluster, but no "
					  "chain of merges in the identity "
					  "log joins them: the database is "
					  "damaged");
			connected = got == 0;
		}
	}
	if (rc == 0 && w) {
		idg_jw_object_begin(w);
		jw_pair(w, "distinct_ids", id[0], id[1]);
		jw_key(w, "connected");
		idg_jw_bool(w, connected);
		jw_key(w, "canonicals");
		idg_jw_array_begin(w);
		idg_jw_string(w, r[0].canonical, r[0].canonical_len);
		idg_jw_string(w, r[1].canonical, r[1].canonical_len);
		idg_jw_array_end(w);
		jw_key(w, "path");
		if (connected) {
			uint32_t u = from;
			size_t len;

			idg_jw_array_begin(w);
			jw_str(w, id[0]);
			for (size_t i = 0; i < n; i++) {
				const char *name = path_step(&x, chain[i], &u,
							     &len);

				idg_jw_string(w, name, len);
			}
			idg_jw_array_end(w);
		} else {
			idg_jw_null(w);
		}
		json_when(q);
		json_merges(w, &x, chain, n);
		idg_jw_object_end(w);
		idg_jw_newline(w);
	} else if (rc == 0 && !connected) {
		printf("%s and %s are not connected%s: %s is in the cluster "
		       "of ",
		       id[0], id[1], when_text(when, sizeof(when), q), id[0]);
		put(r[0].canonical, r[0].canonical_len);
		printf(", %s in the cluster of ", id[1]);
		put(r[1].canonical, r[1].canonical_len);
		putchar('\n');
	} else if (rc == 0) {
		uint32_t u = from;
		size_t len;

		printf("%s and %s are connected by %zu merge%s%s, in the "
		       "cluster of ",
		       id[0], id[1], n, n == 1 ? "" : "s",
		       when_text(when, sizeof(when), q));
		put(r[0].canonical, r[0].canonical_len);
		printf("\npath: %s", id[0]);
		for (size_t i = 0; i < n; i++) {
			const char *name = path_step(&x, chain[i], &u, &len);

			fputs(" -> ", stdout);
			put(name, len);
		}
		putchar('\n');
		if (n)
			print_merges(&x, chain, n);
	}
	free(chain);
	free(canon[0]);
	free(canon[1]);
	explain_free(&x);
	return rc;
}

int
cmd_explain(struct args *a)
{
	struct query q = {.dir = a->pos[0]};
	struct idg_info in;
	int rc;

	if ((rc = parse_at(a, &q.at, &q.at_given)) != 0 ||
	    (rc = parse_view(a, &q.view)) != 0)
		return rc;
	if ((rc = open_db(&q.db, q.dir, NULL, IDG_OPEN_RDONLY)) != 0)
		return rc;
	/* Every read below as of one stamp (the database's now, without
	 * --at): merges an ingest running meanwhile stamps later do not
	 * show. The reads are several transactions, though: those of a late
	 * record, which take the same stamp, may show in some and not in
	 * others. */
	if ((rc = idg_info(q.db, &in)) != 0) {
		rc = fail("cannot read %s: %s", q.dir, detail(q.db, rc));
		idg_close(q.db);
		return rc;
	}
	if (!q.at_given)
		q.at = in.stamp;
	q.eff = effective_stamp(&in, q.at, q.view);
	if (a->val[OPT_JSON] && (q.w = open_writer()) == NULL) {
		idg_close(q.db);
		return EXIT_FAILURE;
	}
	if (a->npos == 2) {
		rc = explain_one(&q, a->pos[1]);
	} else {
		const char *ids[2] = {a->pos[1], a->pos[2]};

		rc = explain_two(&q, ids);
	}
	if (q.w && close_writer(q.w) != 0 && rc == 0)
		rc = EXIT_FAILURE;
	if (rc == 0)
		rc = finish_stdout();
	idg_close(q.db);
	return rc;
}
