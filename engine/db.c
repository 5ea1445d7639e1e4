/*
 * db.c — opening, closing and configuring a database; its settings and
 * counters in the meta table.
 *
 * The meta table maps short ASCII keys to 8-byte integers. The settings
 * (mode, merge delay, cluster cap) are written when the database is made
 * and changed only by idg_configure(); the counters are written at the end
 * of every batch, in the batch's own transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "codec_json_in.h"
#include "codec_msgpack.h"
#include "db.h"
#include "graph.h"
#include "idcache.h"
#include "keys.h"
#include "profile.h"

/*
 * Version of the on-disk layout; a database of another layout is refused.
 * 2: event bodies name properties by number (the pkeys table).
 * 3: event bodies are stored in blocks of consecutive events, heads in
 *    runs (events.c).
 * 4: a body no longer holds its event's name and time (its head does);
 *    the dedup hash is of the event name's text.
 */
#define FORMAT_VERSION 4

static int
meta_get(struct idg__txn *t, const char *key, int64_t *out, int64_t dflt,
	 struct idg__err *e)
{
	struct idg__val v;
	int rc = idg__store_get(t, IDG__T_META, key, strlen(key), &v, e);

	if (rc == IDG_ENOTFOUND) {
		*out = dflt;
		return IDG_OK;
	}
	if (rc == IDG_OK && v.n != sizeof(*out))
		return idg__err_set(e, IDG_ECORRUPT, "meta %s is corrupt", key);
	if (rc == IDG_OK)
		memcpy(out, v.p, sizeof(*out));
	return rc;
}

static int
meta_put(struct idg__txn *t, const char *key, int64_t v, struct idg__err *e)
{
	return idg__store_put(t, IDG__T_META, key, strlen(key), &v, sizeof(v),
			      0, e);
}

int
idg__state_load(struct idg__txn *t, struct idg__state *out,
		struct idg__err *e)
{
	int64_t next = 1, seq = 0, recs = 0, evseq = 0, evname = 1;
	int rc = meta_get(t, "stamp", &out->stamp, INT64_MIN, e);

	if (rc == IDG_OK)
		rc = meta_get(t, "next_node", &next, 1, e);
	if (rc == IDG_OK)
		rc = meta_get(t, "log_seq", &seq, 0, e);
	if (rc == IDG_OK)
		rc = meta_get(t, "records", &recs, 0, e);
	if (rc == IDG_OK)
		rc = meta_get(t, "ev_seq", &evseq, 0, e);
	if (rc == IDG_OK)
		rc = meta_get(t, "next_evname", &evname, 1, e);
	if (rc == IDG_OK)
		rc = meta_get(t, "max_time", &out->max_time, INT64_MIN, e);
	out->ev_seq = (uint64_t)evseq;
	out->next_evname = (uint32_t)evname;
	out->next_node = (uint32_t)next;
	out->log_seq = (uint64_t)seq;
	out->records = (uint64_t)recs;
	return rc;
}

int
idg__state_stamp(struct idg__txn *t, int64_t *out, struct idg__err *e)
{
	return meta_get(t, "stamp", out, INT64_MIN, e);
}

int
idg__state_save(struct idg__txn *t, const struct idg__state *st,
		struct idg__err *e)
{
	int rc = meta_put(t, "stamp", st->stamp, e);

	if (rc == IDG_OK)
		rc = meta_put(t, "next_node", st->next_node, e);
	if (rc == IDG_OK)
		rc = meta_put(t, "log_seq", (int64_t)st->log_seq, e);
	if (rc == IDG_OK)
		rc = meta_put(t, "records", (int64_t)st->records, e);
	if (rc == IDG_OK)
		rc = meta_put(t, "ev_seq", (int64_t)st->ev_seq, e);
	if (rc == IDG_OK)
		rc = meta_put(t, "next_evname", st->next_evname, e);
	if (rc == IDG_OK)
		rc = meta_put(t, "max_time", st->max_time, e);
	return rc;
}

int
idg__settings_load(struct idg__txn *t, struct idg__settings *out,
		   struct idg__err *e)
{
	int64_t mode = 0, cap = 0, format = -1;
	int rc = meta_get(t, "format", &format, -1, e);

	if (rc == IDG_OK && format != FORMAT_VERSION)
		return idg__err_set(e, IDG_EFORMAT,
				    "database format %lld is not %d: not an "
				    "idgraph database of this version; "
				    "ingest its input again into a database "
				    "made by this one",
				    (long long)format, FORMAT_VERSION);
	if (rc == IDG_OK)
		rc = meta_get(t, "mode", &mode, IDG_MODE_ORIGINAL, e);
	if (rc == IDG_OK)
		rc = meta_get(t, "merge_delay", &out->merge_delay_ms,
			      IDG_DEFAULT_MERGE_DELAY_MS, e);
	if (rc == IDG_OK)
		rc = meta_get(t, "cluster_cap", &cap, IDG_DEFAULT_CLUSTER_CAP,
			      e);
	out->mode = (int)mode;
	out->cluster_cap = (uint32_t)cap;
	return rc;
}

static int
check_settings(const struct idg_options *o, struct idg__err *e)
{
	if (!idg_mode_name(o->mode))
		return idg__err_set(e, IDG_EINVAL, "unknown mode %d", o->mode);
	if (o->merge_delay_ms < 0)
		return idg__err_set(e, IDG_EINVAL,
				    "merge delay must not be negative");
	return IDG_OK;
}

static int
write_settings(struct idg__txn *t, const struct idg_options *o,
	       struct idg__err *e)
{
	int rc = meta_put(t, "format", FORMAT_VERSION, e);

	if (rc == IDG_OK)
		rc = meta_put(t, "mode", o->mode, e);
	if (rc == IDG_OK)
		rc = meta_put(t, "merge_delay", o->merge_delay_ms, e);
	if (rc == IDG_OK)
		rc = meta_put(t, "cluster_cap", o->cluster_cap, e);
	return rc;
}

/* Writes the settings of a new database, or reads those of an old one. */
static int
setup(struct idg_db *db, const char *dir, const struct idg_options *o)
{
	struct idg__txn *t = NULL;
	int64_t format = -1;
	size_t nmeta = 0, nnodes = 0;
	int write = !(db->flags & IDG_OPEN_RDONLY), rc;

	rc = idg__store_begin(db->store, write, &t, &db->err);
	if (rc == IDG_OK)
		rc = meta_get(t, "format", &format, -1, &db->err);
	if (rc == IDG_OK && format == -1)
		rc = idg__store_count(t, IDG__T_META, &nmeta, &db->err);
	if (rc == IDG_OK && format == -1)
		rc = idg__store_count(t, IDG__T_NODES, &nnodes, &db->err);
	/* Settings without their format, or records without settings:
	 * damage, which no init mends (it would set a mode of its own). */
	if (rc == IDG_OK && format == -1 && (nmeta > 0 || nnodes > 0))
		rc = idg__err_set(&db->err, IDG_ECORRUPT,
				  "the settings of %s are damaged (its format "
				  "is missing); restore it from a copy",
				  dir);
	/* Tables and no settings at all: an init that did not finish (its
	 * tables and its settings are two transactions). It finishes when
	 * asked to create, as init does after IDG_ENODB. */
	if (rc == IDG_OK && format == -1 && !(db->flags & IDG_OPEN_CREATE))
		rc = idg__err_set(&db->err, IDG_ENODB,
				  "%s holds an unfinished database (no "
				  "settings); finish it with: idgraph init %s",
				  dir, dir);
	if (rc == IDG_OK && format == -1 && write) {
		rc = check_settings(o, &db->err);
		if (rc == IDG_OK)
			rc = write_settings(t, o, &db->err);
	}
	if (rc == IDG_OK)
		rc = idg__settings_load(t, &db->set, &db->err);
	if (rc == IDG_OK && write)
		rc = idg__store_commit(t, &db->err);
	else
		idg__store_abort(t);
	return rc;
}

/* Why the calling thread's last idg_open() failed. */
static _Thread_local char open_msg[IDG__ERRMSG_MAX];

const char *
idg_open_errmsg(void)
{
	return open_msg;
}

int
idg_open(idg_db **out, const char *dir, const struct idg_options *opts)
{
	static const struct idg_options defaults = IDG_OPTIONS_INIT;
	const struct idg_options *o = opts ? opts : &defaults;
	unsigned sflags = 0;
	struct idg_db *db;
	int rc;

	open_msg[0] = '\0';
	if (!out)
		return IDG_EINVAL;
	*out = NULL;
	if (!dir || o->version != IDG_OPTIONS_VERSION)
		return IDG_EINVAL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return IDG_ENOMEM;
	db->flags = o->flags;
	db->batch_size = o->batch_size ? o->batch_size
				       : IDG_DEFAULT_BATCH_SIZE;
	if (o->flags & IDG_OPEN_CREATE)
		sflags |= IDG__STORE_CREATE;
	if (o->flags & IDG_OPEN_RDONLY)
		sflags |= IDG__STORE_RDONLY;
	if (o->durability == IDG_NOSYNC)
		sflags |= IDG__STORE_NOSYNC;
	db->mpw = idg__mpw_new();
	rc = db->mpw ? IDG_OK : IDG_ENOMEM;
	/* Settings checked before any table is made. */
	if (rc == IDG_OK && (o->flags & IDG_OPEN_CREATE))
		rc = check_settings(o, &db->err);
	if (rc == IDG_OK)
		rc = idg__store_open(&db->store, dir, sflags, &db->err);
	if (rc == IDG_OK)
		rc = setup(db, dir, o);
	if (rc) {
		snprintf(open_msg, sizeof(open_msg), "%s", db->err.msg);
		idg_close(db);
		return rc;
	}
	*out = db;
	return IDG_OK;
}

int
idg__db_keys(struct idg_db *db, struct idg__txn *t)
{
	if (!db->keys && !(db->keys = idg__keys_new()))
		return idg__err_set(&db->err, IDG_ENOMEM, "out of memory");
	return idg__keys_sync(db->keys, t, &db->err);
}

void
idg_close(idg_db *db)
{
	if (!db)
		return;
	idg__store_close(db->store);
	idg__jparser_free(db->jp);
	idg__mpin_free(db->mpin);
	idg__profiler_free(db->profiler);
	idg__pview_free(db->pview);
	idg__idcache_free(db->idcache);
	idg__idcache_free(db->namecache);
	idg__nodecache_free(db->nodecache);
	idg__rcache_free(db->rcache);
	idg__keys_free(db->keys);
	idg__mpw_free(db->mpw);
	idg__mpw_free(db->blkw);
	idg__mpdec_free(db->mpdec);
	free(db->runbuf);
	free(db->out);
	free(db);
}

const char *
idg_errmsg(const idg_db *db)
{
	return db ? db->err.msg : "";
}

int
idg_configure(idg_db *db, const struct idg_options *opts)
{
	struct idg__txn *t = NULL;
	struct idg__state st;
	int rc;

	if (!db || !opts)
		return IDG_EINVAL;
	idg__err_clear(&db->err);
	if (db->flags & IDG_OPEN_RDONLY)
		return idg__err_set(&db->err, IDG_EINVAL,
				    "this handle is read-only");
	rc = idg__store_begin(db->store, 1, &t, &db->err);
	if (rc == IDG_OK)
		rc = idg__state_load(t, &st, &db->err);
	if (rc == IDG_OK && opts->mode != db->set.mode && st.records > 0)
		rc = idg__err_set(&db->err, IDG_EMODE,
				  "the database holds records in %s mode, "
				  "which cannot change; ingest into a new "
				  "database to use %s mode",
				  idg_mode_name(db->set.mode),
				  idg_mode_name(opts->mode)
				      ? idg_mode_name(opts->mode)
				      : "another");
	if (rc == IDG_OK)
		rc = check_settings(opts, &db->err);
	if (rc == IDG_OK)
		rc = write_settings(t, opts, &db->err);
	if (rc == IDG_OK)
		rc = idg__settings_load(t, &db->set, &db->err);
	if (rc == IDG_OK)
		return idg__store_commit(t, &db->err);
	idg__store_abort(t);
	return rc;
}

const char *
idg__db_keep(struct idg_db *db, const void *s, size_t n)
{
	if (n + 1 > db->out_cap) {
		size_t cap = n + 1 < 256 ? 256 : n + 1;
		char *p = realloc(db->out, cap);

		if (!p)
			return NULL;
		db->out = p;
		db->out_cap = cap;
	}
	memcpy(db->out, s, n);
	db->out[n] = '\0';
	return db->out;
}
