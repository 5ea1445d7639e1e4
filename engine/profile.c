/*
 * profile.c — user profiles: the People operators applied to the profile
 * of a cluster, and what a merge does to profiles (SPEC §3).
 *
 * A profile is stored under one node (the canonical id of its cluster when
 * it was made) as [hidden, properties]. A live cluster's root names its
 * active profile, if any, so an update to any member finds it in two
 * reads. Invariant: every profile a root names is stored and not hidden;
 * every other stored profile is hidden, or active for no cluster only
 * between its creation and the root update of the same update. Merges hide
 * the losing profile and delete nothing.
 */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

#include "codec_msgpack.h"
#include "graph.h"
#include "ids.h"

/* Stored value: 0x92 (array of 2), 0x00 or 0x01 (hidden), the map. */
#define HEAD 2

int
idg__profile_get(struct idg__txn *t, uint32_t node,
		 struct idg__profile_rec *out, struct idg__err *e)
{
	struct idg__val v;
	const unsigned char *p;
	int rc = idg__store_get(t, IDG__T_PROFILES, &node, sizeof(node), &v, e);

	if (rc)
		return rc;
	p = v.p;
	if (v.n < HEAD + 1 || p[0] != 0x92 || p[1] > 1)
		return idg__err_set(e, IDG_ECORRUPT,
				    "the profile of node %u is corrupt", node);
	out->hidden = p[1];
	out->props = p + HEAD;
	out->props_len = v.n - HEAD;
	return IDG_OK;
}

/* The per-handle tools of profile updates, made on first use. */
struct idg__profiler {
	struct idg__props *props;
	struct idg__mpw *w;
	char *buf;
	size_t cap;
};

static struct idg__profiler *
profiler(struct idg__batch *b)
{
	struct idg__profiler *pr = b->db->profiler;

	if (pr)
		return pr;
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return NULL;
	pr->props = idg__props_new();
	pr->w = idg__mpw_new();
	if (!pr->props || !pr->w) {
		idg__profiler_free(pr);
		return NULL;
	}
	b->db->profiler = pr;
	return pr;
}

void
idg__profiler_free(struct idg__profiler *pr)
{
	if (!pr)
		return;
	idg__props_free(pr->props);
	idg__mpw_free(pr->w);
	free(pr->buf);
	free(pr);
}

static int
store(struct idg__batch *b, struct idg__profiler *pr, uint32_t node,
      int hidden, const void *map, size_t len)
{
	if (len + HEAD > pr->cap) {
		char *p = realloc(pr->buf, len + HEAD);

		if (!p)
			return idg__err_set(b->err, IDG_ENOMEM,
					    "out of memory");
		pr->buf = p;
		pr->cap = len + HEAD;
	}
	pr->buf[0] = (char)0x92;
	pr->buf[1] = (char)(hidden ? 1 : 0);
	memcpy(pr->buf + HEAD, map, len);
	return idg__store_put(b->txn, IDG__T_PROFILES, &node, sizeof(node),
			      pr->buf, len + HEAD, 0, b->err);
}

/* Marks the profile stored under node hidden (or active again). */
static int
set_hidden(struct idg__batch *b, uint32_t node, int hidden)
{
	struct idg__profiler *pr = profiler(b);
	struct idg__profile_rec rec = {0};
	int rc;

	if (!pr)
		return idg__err_set(b->err, IDG_ENOMEM, "out of memory");
	rc = idg__profile_get(b->txn, node, &rec, b->err);
	if (rc || rec.hidden == hidden)
		return rc;
	return store(b, pr, node, hidden, rec.props, rec.props_len);
}

int
idg__profile_merged(struct idg__batch *b, uint32_t root, uint32_t keep,
		    uint32_t other, int other_stays_hidden)
{
	uint32_t active = keep || other_stays_hidden ? keep : other;
	int rc = idg__graph_set_profile(b->txn, root, active, b->err);

	if (rc == IDG_OK && other && other != active)
		rc = set_hidden(b, other, 1);
	return rc;
}

/* 1 if the update makes a profile that does not exist yet. */
static int
creates(const struct idg__prec *u)
{
	int i;

	for (i = IDG__OP_SET; i <= IDG__OP_UNION; i++)
		if (u->ops[i].p)
			return 1;
	return 0;
}

static int
edits(const struct idg__prec *u)
{
	int i;

	for (i = IDG__OP_SET; i <= IDG__OP_UNSET; i++)
		if (u->ops[i].p)
			return 1;
	return 0;
}

/* Mixpanel's advice: profiles only for known users. */
static int
anonymous(struct idg__batch *b, uint32_t id, const struct idg__node *root,
	  int *out)
{
	struct idg__val v;
	int rc = idg__ids_name(b->txn, id, &v, b->err);

	*out = 0;
	if (rc)
		return rc;
	if (root->flags & IDG__N_HAS_IDENTIFIED)
		return IDG_OK;
	*out = idg__id_is_uuid(v.p, v.n) ||
	       (v.n >= 8 && memcmp(v.p, "$device:", 8) == 0);
	return IDG_OK;
}

/*
 * Legacy mode with $ignore_alias: the profile stored under exactly the
 * update's id, not the alias chain's; hidden unless it is the cluster's.
 */
static int
own_profile(struct idg__batch *b, const struct idg__prec *u,
	    struct idg__node root, uint32_t *pid, struct idg__profile_rec *rec,
	    struct idg__profile_stats *ps)
{
	int rc = idg__profile_get(b->txn, *pid, rec, b->err);

	if (rc == IDG_ENOTFOUND && creates(u)) {
		memset(rec, 0, sizeof(*rec));
		rec->hidden = root.profile != *pid;
		ps->created++;
		return IDG_OK;
	}
	if (rc == IDG_ENOTFOUND)
		*pid = 0;
	return rc == IDG_ENOTFOUND ? IDG_OK : rc;
}

/*
 * The profile an update edits: the cluster's active one, or a new one
 * under the canonical id (a hidden one stored there comes back).
 */
static int
target(struct idg__batch *b, const struct idg__prec *u, uint32_t root_id,
       uint32_t *pid, struct idg__profile_rec *rec,
       struct idg__profile_stats *ps)
{
	struct idg__node root;
	int rc = idg__graph_get(b->txn, root_id, &root, b->err), anon;

	if (rc == IDG_OK && u->ignore_alias &&
	    b->db->set.mode == IDG_MODE_LEGACY)
		return own_profile(b, u, root, pid, rec, ps);
	*pid = root.profile;
	if (rc == IDG_OK && *pid)
		return idg__profile_get(b->txn, *pid, rec, b->err);
	if (rc || !creates(u))
		return rc;
	*pid = root.canon;
	rc = idg__profile_get(b->txn, *pid, rec, b->err);
	rec->hidden = 0; /* new, or a hidden one that comes back */
	if (rc == IDG_ENOTFOUND) {
		memset(rec, 0, sizeof(*rec));
		ps->created++;
		rc = anonymous(b, *pid, &root, &anon);
		ps->anonymous += anon;
	}
	if (rc == IDG_OK)
		rc = idg__graph_set_profile(b->txn, root_id, *pid, b->err);
	return rc;
}

/* v (>= 0) in n decimal digits at p. */
static void
put_digits(char *p, int64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* "2024-05-01T08:00:00", as Mixpanel shows $last_seen. */
static size_t
iso_seconds(int64_t ms, char out[32])
{
	int64_t s = ms / 1000 - (ms % 1000 < 0), days = s / 86400,
		sod = s % 86400;
	int64_t z, era, doe, yoe, y, doy, mp, d, m;

	if (sod < 0) {
		sod += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		return (size_t)snprintf(
		    out, 32, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
		    (long long)y, (long long)m, (long long)d,
		    (long long)(sod / 3600), (long long)(sod / 60 % 60),
		    (long long)(sod % 60));
	/* The usual years, without snprintf (a tenth of a profile update). */
	memcpy(out, "0000-00-00T00:00:00", 20);
	put_digits(out, y, 4);
	put_digits(out + 5, m, 2);
	put_digits(out + 8, d, 2);
	put_digits(out + 11, sod / 3600, 2);
	put_digits(out + 14, sod / 60 % 60, 2);
	put_digits(out + 17, sod % 60, 2);
	return 19;
}

/* Runs the operators in SPEC §3's order on the loaded properties. */
static int
apply_ops(struct idg__props *p, const struct idg__prec *u, int64_t when,
	  struct idg__profile_stats *ps)
{
	const struct idg__str *op = u->ops;
	struct idg__props_warn w = {0};
	char iso[32];
	int rc = IDG_OK;

	if (op[IDG__OP_SET].p)
		rc = idg__props_set(p, op[IDG__OP_SET].p, op[IDG__OP_SET].n, 0);
	if (!rc && op[IDG__OP_SET_ONCE].p)
		rc = idg__props_set(p, op[IDG__OP_SET_ONCE].p,
				    op[IDG__OP_SET_ONCE].n, 1);
	if (!rc && op[IDG__OP_ADD].p)
		rc = idg__props_add(p, op[IDG__OP_ADD].p, op[IDG__OP_ADD].n, &w);
	if (!rc && op[IDG__OP_APPEND].p)
		rc = idg__props_append(p, op[IDG__OP_APPEND].p,
				       op[IDG__OP_APPEND].n, &w);
	if (!rc && op[IDG__OP_UNION].p)
		rc = idg__props_union(p, op[IDG__OP_UNION].p,
				      op[IDG__OP_UNION].n, &w);
	if (!rc && op[IDG__OP_REMOVE].p)
		rc = idg__props_remove(p, op[IDG__OP_REMOVE].p,
				       op[IDG__OP_REMOVE].n);
	if (!rc && op[IDG__OP_UNSET].p)
		rc = idg__props_unset(p, op[IDG__OP_UNSET].p,
				      op[IDG__OP_UNSET].n);
	/* No time at all (no $time, and no record before it gave one): no
	 * $last_seen, rather than the year -292275055. */
	if (!rc && creates(u) && !u->ignore_time && when != INT64_MIN)
		rc = idg__props_set_str(p, "$last_seen", iso,
					iso_seconds(when, iso));
	ps->clashes += w.clashes;
	if (idg__props_count(p) > 2000)
		ps->big++;
	return rc;
}

static int
edit(struct idg__batch *b, const struct idg__prec *u, uint32_t pid,
     const struct idg__profile_rec *rec, struct idg__profile_stats *ps)
{
	struct idg__profiler *pr = profiler(b);
	const void *map;
	size_t len;
	int rc;

	if (!pr)
		return idg__err_set(b->err, IDG_ENOMEM, "out of memory");
	rc = idg__props_load(pr->props, rec->props, rec->props_len);
	if (rc == IDG_OK)
		rc = apply_ops(pr->props, u, u->has_time ? u->time_ms
							 : b->st.stamp,
			       ps);
	if (rc == IDG_OK)
		rc = idg__props_encode(pr->props, pr->w);
	if (rc)
		return idg__err_set(b->err, rc, "updating a profile failed");
	map = idg__mpw_data(pr->w, &len);
	return store(b, pr, pid, rec->hidden, map, len);
}

/* $delete: the active profile, or with $ignore_alias exactly node's. */
static int
delete_profile(struct idg__batch *b, uint32_t victim,
	       struct idg__profile_stats *ps)
{
	struct idg__node nd;
	int rc;

	if (!victim)
		return IDG_OK;
	rc = idg__store_del(b->txn, IDG__T_PROFILES, &victim, sizeof(victim),
			    b->err);
	if (rc == IDG_ENOTFOUND)
		return IDG_OK;
	ps->deleted += rc == IDG_OK;
	if (rc == IDG_OK)
		rc = idg__graph_get(b->txn, victim, &nd, b->err);
	if (rc == IDG_OK)
		rc = idg__graph_get(b->txn, nd.root, &nd, b->err);
	if (rc == IDG_OK && nd.profile == victim)
		rc = idg__graph_set_profile(b->txn, nd.root, 0, b->err);
	return rc;
}

int
idg__profile_update(struct idg__batch *b, const struct idg__prec *u,
		    uint32_t node, struct idg__profile_stats *ps)
{
	struct idg__profile_rec rec = {0};
	struct idg__node nd;
	uint32_t pid = 0;
	int rc;

	ps->updates++;
	rc = idg__graph_get(b->txn, node, &nd, b->err);
	pid = node; /* legacy $ignore_alias: this id's own profile */
	if (rc == IDG_OK && edits(u))
		rc = target(b, u, nd.root, &pid, &rec, ps);
	else
		pid = 0;
	if (rc == IDG_OK && pid)
		rc = edit(b, u, pid, &rec, ps);
	if (rc == IDG_OK && u->ops[IDG__OP_DELETE].p) {
		if (!u->ignore_alias && !pid) {
			struct idg__node root;

			rc = idg__graph_get(b->txn, nd.root, &root, b->err);
			pid = root.profile;
		}
		if (rc == IDG_OK)
			rc = delete_profile(b, u->ignore_alias ? node : pid,
					    ps);
	}
	return rc;
}
