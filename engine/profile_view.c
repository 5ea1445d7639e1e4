/*
 * profile_view.c — the read side of profiles: the Explore view of one id,
 * the Users list, and the profiles export.
 *
 * Everything is read in one read transaction and copied into the handle's
 * view buffer before the transaction ends, so what a caller gets stays
 * valid until its next call, whatever another process writes meanwhile.
 */
#include <stdlib.h>
#include <string.h>

#include "codec_msgpack.h"
#include "graph.h"
#include "ids.h"
#include "profile.h"
#include "view.h"

/* Copies made for one struct idg_profile; offsets until fixed up. */
struct idg__pview {
	char *buf;
	size_t cap, len;
	size_t *offs; /* member name offsets, then their lengths */
	const char **members;
	size_t *lens;
	size_t mcap;
};

void
idg__pview_free(struct idg__pview *v)
{
	if (!v)
		return;
	free(v->buf);
	free(v->offs);
	free(v->members);
	free(v->lens);
	free(v);
}

static int
keep(struct idg__pview *v, const void *p, size_t n, size_t *off)
{
	if (v->len + n + 1 > v->cap) {
		size_t cap = (v->len + n + 1) * 2;
		char *b = realloc(v->buf, cap);

		if (!b)
			return IDG_ENOMEM;
		v->buf = b;
		v->cap = cap;
	}
	if (n)
		memcpy(v->buf + v->len, p, n);
	v->buf[v->len + n] = '\0';
	*off = v->len;
	v->len += n + 1;
	return IDG_OK;
}

static int
room_for_members(struct idg__pview *v, size_t n)
{
	if (n <= v->mcap)
		return IDG_OK;
	free(v->offs);
	free(v->members);
	free(v->lens);
	v->offs = malloc(n * sizeof(*v->offs));
	v->members = malloc(n * sizeof(*v->members));
	v->lens = malloc(n * sizeof(*v->lens));
	v->mcap = v->offs && v->members && v->lens ? n : 0;
	return v->mcap ? IDG_OK : IDG_ENOMEM;
}

/* Reads a name into the view buffer. */
static int
keep_name(struct idg__pview *v, struct idg__txn *t, uint32_t node,
	  size_t *off, size_t *len, struct idg__err *e)
{
	struct idg__val nm;
	int rc = idg__ids_name(t, node, &nm, e);

	if (rc)
		return rc;
	*len = nm.n;
	return keep(v, nm.p, nm.n, off) ? idg__err_set(e, IDG_ENOMEM,
						       "out of memory")
					: IDG_OK;
}

/*
 * Fills out for the cluster of node: shown id, members, and the profile
 * stored under pid (0: none).
 */
static int
fill(struct idg_db *db, struct idg__txn *t, uint32_t node, uint32_t pid,
     struct idg_profile *out)
{
	struct idg__pview *v = db->pview;
	struct idg__profile_rec rec = {0};
	struct idg__node nd, root;
	size_t off_id, len_id, off_st = 0, len_st = 0, off_p = 0, i, n;
	uint32_t *m = NULL;
	int rc;

	v->len = 0;
	rc = idg__graph_get(t, node, &nd, &db->err);
	if (rc == IDG_OK)
		rc = idg__graph_get(t, nd.root, &root, &db->err);
	if (rc == IDG_OK && pid)
		rc = idg__profile_get(t, pid, &rec, &db->err);
	if (rc == IDG_OK)
		rc = keep_name(v, t, rec.hidden ? pid : root.canon, &off_id,
			       &len_id, &db->err);
	if (rc == IDG_OK && pid)
		rc = keep_name(v, t, pid, &off_st, &len_st, &db->err);
	if (rc == IDG_OK && pid && keep(v, rec.props, rec.props_len, &off_p))
		rc = idg__err_set(&db->err, IDG_ENOMEM, "out of memory");
	if (rc == IDG_OK)
		rc = idg__members_live(t, node, &m, &n, &db->err);
	if (rc == IDG_OK && room_for_members(v, n))
		rc = idg__err_set(&db->err, IDG_ENOMEM, "out of memory");
	for (i = 0; rc == IDG_OK && i < n; i++)
		rc = keep_name(v, t, m[i], &v->offs[i], &v->lens[i], &db->err);
	free(m);
	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		v->members[i] = v->buf + v->offs[i];
	*out = (struct idg_profile){
	    v->buf + off_id, len_id,	 pid ? v->buf + off_st : NULL,
	    len_st,	     rec.hidden, pid ? v->buf + off_p : NULL,
	    pid ? rec.props_len : 0,	 v->members,
	    v->lens,	     n,
	};
	return IDG_OK;
}

static int
prepare(struct idg_db *db)
{
	idg__err_clear(&db->err);
	if (!db->pview)
		db->pview = calloc(1, sizeof(*db->pview));
	return db->pview ? IDG_OK
			 : idg__err_set(&db->err, IDG_ENOMEM, "out of memory");
}

int
idg_profile_get(idg_db *db, const char *id, size_t len,
		struct idg_profile *out)
{
	struct idg__txn *t = NULL;
	struct idg__node nd;
	uint32_t node;
	int rc;

	if (!db || !id || !out)
		return IDG_EINVAL;
	rc = prepare(db);
	if (rc == IDG_OK)
		rc = idg__store_begin(db->store, 0, &t, &db->err);
	if (rc == IDG_OK)
		rc = idg__ids_find(t, id, len, &node, &db->err);
	if (rc == IDG_ENOTFOUND)
		rc = idg__err_set(&db->err, IDG_ENOTFOUND,
				  "distinct_id \"%.*s\" not found",
				  (int)(len > 200 ? 200 : len), id);
	if (rc == IDG_OK)
		rc = idg__graph_get(t, node, &nd, &db->err);
	if (rc == IDG_OK)
		rc = idg__graph_get(t, nd.root, &nd, &db->err);
	if (rc == IDG_OK)
		rc = fill(db, t, node, nd.profile, out);
	idg__store_abort(t);
	return rc;
}

int
idg_profiles_foreach(idg_db *db, const struct idg_profiles_opts *opts,
		     idg_profile_cb cb, void *user)
{
	static const struct idg_profiles_opts none = {0, NULL, NULL, 0};
	const struct idg_profiles_opts *o = opts ? opts : &none;
	struct idg__txn *t = NULL;
	struct idg__cursor *c = NULL;
	struct idg__profile_rec rec;
	struct idg_profile p;
	struct idg__val k, v;
	uint64_t shown = 0;
	uint32_t node;
	int rc, op = IDG__FIRST;

	if (!db || !cb)
		return IDG_EINVAL;
	rc = prepare(db);
	if (rc == IDG_OK)
		rc = idg__store_begin(db->store, 0, &t, &db->err);
	if (rc == IDG_OK)
		rc = idg__cursor_open(t, IDG__T_PROFILES, &c, &db->err);
	while (rc == IDG_OK && (!o->limit || shown < o->limit) &&
	       (rc = idg__cursor_get(c, op, &k, &v, &db->err)) == IDG_OK) {
		op = IDG__NEXT;
		memcpy(&node, k.p, sizeof(node));
		rc = idg__profile_get(t, node, &rec, &db->err);
		if (rc || (rec.hidden && !o->hidden))
			continue;
		if (o->where_prop &&
		    !idg__mp_map_match(rec.props, rec.props_len, o->where_prop,
				       o->where_value ? o->where_value : ""))
			continue;
		rc = fill(db, t, node, node, &p);
		if (rc == IDG_OK && cb(user, &p))
			rc = IDG_ESTOPPED;
		shown++;
	}
	if (rc == IDG_ENOTFOUND)
		rc = IDG_OK;
	idg__cursor_close(c);
	idg__store_abort(t);
	return rc;
}

/* ---- export ------------------------------------------------------- */

struct pexport {
	FILE *out;
	int format;
	idg_jw *jw;
	struct idg__mpw *w;
	uint64_t count;
	int failed;
};

static void
json_profile(idg_jw *jw, const struct idg_profile *p)
{
	size_t i;

	idg_jw_object_begin(jw);
	idg_jw_key(jw, "$distinct_id", 12);
	idg_jw_string(jw, p->distinct_id, p->distinct_id_len);
	idg_jw_key(jw, "$properties", 11);
	idg_jw_msgpack(jw, p->properties, p->properties_len);
	idg_jw_key(jw, "$distinct_ids", 13);
	idg_jw_array_begin(jw);
	for (i = 0; i < p->nmembers; i++)
		idg_jw_string(jw, p->members[i], p->member_lens[i]);
	idg_jw_array_end(jw);
	if (p->hidden) {
		idg_jw_key(jw, "$hidden", 7);
		idg_jw_bool(jw, 1);
	}
	idg_jw_object_end(jw);
	idg_jw_newline(jw);
}

static int
msgpack_profile(struct pexport *x, const struct idg_profile *p)
{
	const void *data;
	size_t i, len;

	idg__mpw_reset(x->w);
	idg__mpw_map_end(x->w, idg__mpw_map_begin(x->w), p->hidden ? 4 : 3);
	idg__mpw_str(x->w, "$distinct_id", 12);
	idg__mpw_str(x->w, p->distinct_id, p->distinct_id_len);
	idg__mpw_str(x->w, "$properties", 11);
	idg__mpw_raw(x->w, p->properties, p->properties_len);
	idg__mpw_str(x->w, "$distinct_ids", 13);
	idg__mpw_array(x->w, (uint32_t)p->nmembers);
	for (i = 0; i < p->nmembers; i++)
		idg__mpw_str(x->w, p->members[i], p->member_lens[i]);
	if (p->hidden) {
		idg__mpw_str(x->w, "$hidden", 7);
		idg__mpw_bool(x->w, 1);
	}
	data = idg__mpw_data(x->w, &len);
	if (idg__mpw_error(x->w) || fwrite(data, 1, len, x->out) != len)
		return -1;
	return 0;
}

static int
export_one(void *user, const struct idg_profile *p)
{
	struct pexport *x = user;

	if (x->format == IDG_FORMAT_MSGPACK)
		x->failed |= msgpack_profile(x, p) != 0;
	else
		json_profile(x->jw, p);
	x->count++;
	return x->failed;
}

int
idg_export_profiles(idg_db *db, FILE *out, int format, int hidden,
		    uint64_t *count)
{
	struct idg_profiles_opts o = {hidden, NULL, NULL, 0};
	struct pexport x = {out, format, NULL, NULL, 0, 0};
	int rc, wrc;

	if (!db || !out)
		return IDG_EINVAL;
	x.jw = idg_jw_open(out);
	x.w = idg__mpw_new();
	rc = x.jw && x.w ? idg_profiles_foreach(db, &o, export_one, &x)
			 : IDG_ENOMEM;
	wrc = idg_jw_close(x.jw);
	idg__mpw_free(x.w);
	if (rc == IDG_ESTOPPED || (rc == IDG_OK && (wrc || fflush(out))))
		rc = idg__err_set(&db->err, IDG_EIO,
				  "writing the profiles export failed");
	if (count)
		*count = x.count;
	return rc;
}
