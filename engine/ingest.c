/*
 * ingest.c — JSON lines in: reading lines, validating records, applying
 * them to the graph, batch by batch.
 *
 * One write transaction holds a batch of batch_size records; it commits
 * (durably, unless the handle says otherwise) before the next begins, so a
 * crash leaves whole batches only. A line is never split between batches.
 * Lines are handed to the parser where they lie when the input is memory
 * with room for simdjson's padding after them, and through one reusable
 * buffer otherwise: nothing is allocated per record.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

#include "codec_json_in.h"
#include "codec_msgpack.h"
#include "db.h"
#include "events.h"
#include "files.h"
#include "graph.h"
#include "profile.h"
#include "idcache.h"
#include "ids.h"
#include "log.h"
#include "reader.h"
#include "record.h"
#include "rules.h"

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everything one ingest call carries from record to record. */
struct ingest {
	struct idg__batch b;
	const struct idg_ingest_opts *opts;
	struct idg_ingest_stats stats;
	int64_t now_ms;
	uint64_t line;
	int stop;   /* a callback asked to stop */
	int format; /* enum idg_format, once known */
	int broken; /* a MessagePack stream that cannot be read further */
	struct idg__scratch scratch; /* record validation's room */
	const struct idg__file *file; /* idg_ingest_file(): what it is */
	const unsigned char *file_key;
};

static int
reject(struct ingest *in, const struct idg__inrec *jr, uint32_t index,
       int in_array, const char *field, const char *msg)
{
	struct idg_reject rej = {in->line, index, in_array, field, msg,
				 jr->raw, jr->raw_len};

	in->stats.rejected++;
	if (in->opts->on_reject &&
	    in->opts->on_reject(in->opts->user, &rej) != 0)
		in->stop = 1;
	return IDG_OK;
}

/* The node of an id, made if new; the id cache answers most of them. */
static int
intern(struct ingest *in, const struct idg__str *id, uint32_t *node)
{
	struct idg__batch *b = &in->b;
	struct idg__idcache *cache = b->db->idcache;
	uint64_t h = idg__hash64(id->p, id->n);
	int created, rc;

	*node = idg__idcache_get(cache, id->p, id->n, h);
	if (*node)
		return IDG_OK;
	rc = idg__ids_intern(b->txn, id->p, id->n, &b->st.next_node, node,
			     &created, b->err);
	if (rc == IDG_OK && created) {
		in->stats.nodes_created++;
		rc = idg__graph_add(b->txn, *node, b->st.stamp, b->err);
	}
	if (rc == IDG_OK)
		idg__idcache_put(cache, id->p, id->n, h, *node);
	return rc;
}

/* Counts an identity outcome, and logs it unless it is a simplified-mode
 * no-op (every event that names both ids would be one). */
static int
log_identity(struct ingest *in, const struct idg__rec *r,
	     const struct idg__ident *ev, const struct idg__outcome *out)
{
	struct idg__log_rec lr = {
	    ev->stamp, ev->kind, {ev->nodes[0], ev->nodes[1]},
	    r->insert_id.p, r->insert_id.n, out->outcome, out->reason,
	    out->desc[0] ? out->desc : NULL, strlen(out->desc), out->canon,
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
	struct idg__ident ev = {r->kind, {r->ids[0], r->ids[1]}, {0, 0},
				in->b.st.stamp};
	int mode = in->b.db->set.mode, rc;

	rc = intern(in, &r->ids[0], &ev.nodes[0]);
	if (rc == IDG_OK)
		rc = intern(in, &r->ids[1], &ev.nodes[1]);
	if (rc == IDG_OK)
		rc = mode == IDG_MODE_LEGACY ? idg__rules_legacy(&in->b, &ev, out)
					     : idg__rules_original(&in->b, &ev,
								   out);
	return rc ? rc : log_identity(in, r, &ev, out);
}

/* Simplified mode: a user id is marked; a device named with it links. */
static int
apply_simplified(struct ingest *in, const struct idg__rec *r, uint32_t user,
		 struct idg__event *evt)
{
	struct idg__ident ev = {IDG__LINK, {r->distinct_id, r->device},
				{user, 0}, in->b.st.stamp};
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
count_warnings(struct ingest *in, const struct idg__inrec *jr)
{
	in->stats.long_strings += jr->long_strings;
	in->stats.warnings += jr->long_strings;
	if (jr->nprops > 255) {
		in->stats.many_props++;
		in->stats.warnings++;
	}
}

/* The event as stored, before the graph has seen it. */
static int
make_event(struct ingest *in, const struct idg__rec *r,
	   const struct idg__inrec *jr, struct idg__event *ev)
{
	struct idg__batch *b = &in->b;
	uint64_t h;
	int created, rc;

	memset(ev, 0, sizeof(*ev));
	ev->body.time_ms = r->time_ms;
	ev->body.did = r->distinct_id.p;
	ev->body.did_len = r->distinct_id.n;
	ev->body.ins = r->insert_id.p;
	ev->body.ins_len = r->insert_id.n;
	ev->body.props = jr->props;
	ev->body.props_len = jr->props_len;
	/* Stored once: as a property, when that is where they came from. */
	ev->body.did_in_props = r->distinct_id.p == jr->distinct_id.s &&
				jr->distinct_id.type == IDG__F_STRING;
	ev->body.ins_in_props = r->insert_id.p != NULL;
	ev->head.stamp = b->st.stamp;
	/* Event names are few: the cache answers nearly every one. */
	h = idg__hash64(r->event.p, r->event.n);
	ev->body.name = idg__idcache_get(b->db->namecache, r->event.p,
					 r->event.n, h);
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
apply(struct ingest *in, const struct idg__rec *r, const struct idg__inrec *jr)
{
	struct idg__state *st = &in->b.st;
	int64_t clock = in->opts->clock == IDG_CLOCK_WALL ? in->now_ms
							   : r->time_ms;
	struct idg__outcome out;
	struct idg__event ev;
	uint64_t seq;
	int mode = in->b.db->set.mode, rc;

	if (clock > st->stamp)
		st->stamp = clock;
	count_warnings(in, jr);
	rc = make_event(in, r, jr, &ev);
	if (rc == IDG_OK)
		rc = idg__events_find_dup(&in->b, &ev.body, &seq);
	if (rc == IDG_OK) {
		/* A copy: its properties win; it merges nothing again. */
		in->stats.duplicates++;
		rc = idg__events_replace(&in->b, seq, &ev);
		goto done;
	}
	if (rc != IDG_ENOTFOUND)
		return rc;
	rc = r->distinct_id.n ? intern(in, &r->distinct_id, &ev.head.node)
			      : IDG_OK;
	if (rc == IDG_OK && mode == IDG_MODE_SIMPLIFIED && ev.head.node)
		rc = apply_simplified(in, r, ev.head.node, &ev);
	if (rc == IDG_OK && r->identity)
		rc = apply_identity(in, r, &out);
	if (rc == IDG_OK && r->identity &&
	    out.outcome == IDG_OUTCOME_REFUSED) {
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
apply_profile(struct ingest *in, const struct idg__prec *u)
{
	struct idg__state *st = &in->b.st;
	struct idg__profile_stats ps = {0};
	struct idg_ingest_stats *s = &in->stats;
	int64_t clock = in->opts->clock == IDG_CLOCK_WALL ? in->now_ms
			: u->has_time				   ? u->time_ms
								   : st->stamp;
	uint32_t node;
	int rc;

	if (clock > st->stamp)
		st->stamp = clock;
	rc = intern(in, &u->distinct_id, &node);
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

static int
on_record(void *ctx, const struct idg__inrec *jr, uint32_t index,
	  int in_array, const char *error)
{
	struct ingest *in = ctx;
	struct idg__invalid why;
	struct idg__rec r;

	if (in->stop)
		return IDG_ESTOPPED; /* the rest of the line is not read */
	in->stats.records++;
	if (error)
		return reject(in, jr, index, in_array, "", error);
	if (idg__record_is_profile(jr)) {
		struct idg__prec u;

		if (idg__profile_validate(jr, in->now_ms, &u, &why))
			return reject(in, jr, index, in_array, why.field,
				      why.msg);
		return apply_profile(in, &u);
	}
	if (idg__record_validate(jr, in->now_ms, in->b.db->set.mode,
				 &in->scratch, &r, &why))
		return reject(in, jr, index, in_array, why.field, why.msg);
	return apply(in, &r, jr);
}

static int
is_blank(const struct idg__line *ln)
{
	size_t i;

	for (i = 0; i < ln->n; i++)
		if (ln->p[i] != ' ' && ln->p[i] != '\t' && ln->p[i] != '\r')
			return 0;
	return 1;
}

static int
ingest_line(struct ingest *in, struct idg__line *ln)
{
	struct idg__inrec jr = {0};

	if (ln->n && ln->p[ln->n - 1] == '\r')
		ln->n--;
	if (is_blank(ln))
		return IDG_OK;
	if (ln->n > IDG__MAX_RECORD_BYTES && ln->p[0] != '[') {
		char msg[96];

		in->stats.records++;
		jr.raw = ln->p;
		jr.raw_len = ln->n;
		snprintf(msg, sizeof(msg),
			 "record is larger than 1 MiB (%zu bytes)", ln->n);
		return reject(in, &jr, 0, 0, "", msg);
	}
	return idg__json_parse_line(in->b.db->jp, ln->p, ln->n, ln->capacity,
				    on_record, in);
}

static int
batch_begin(struct ingest *in)
{
	struct idg__batch *b = &in->b;
	int rc = idg__store_begin(b->db->store, 1, &b->txn, b->err);

	if (rc == IDG_OK)
		rc = idg__state_load(b->txn, &b->st, b->err);
	in->now_ms = wall_ms();
	return rc;
}

/* Notes in the batch how far into its file the ingest has come. */
static int
note_file(struct ingest *in, const struct idg__reader *rd, int done)
{
	struct idg__file f = *in->file;

	f.offset = rd->consumed;
	f.line = rd->line;
	f.done = done;
	f.format = in->format;
	return idg__files_put(in->b.txn, in->file_key, &f, in->b.db->mpw,
			      in->b.err);
}

static int
batch_commit(struct ingest *in, const struct idg__reader *rd, int last)
{
	struct idg__batch *b = &in->b;
	struct idg_progress prog;
	int rc = idg__state_save(b->txn, &b->st, b->err);

	if (rc == IDG_OK && in->file)
		rc = note_file(in, rd, last);
	if (rc)
		idg__store_abort(b->txn);
	else
		rc = idg__store_commit(b->txn, b->err);
	b->txn = NULL;
	if (rc)
		return rc;
	in->stats.batches++;
	in->stats.bytes = rd->consumed;
	prog = (struct idg_progress){in->stats.records, in->stats.rejected,
				     rd->consumed};
	if (in->opts->on_progress &&
	    in->opts->on_progress(in->opts->user, &prog) != 0)
		in->stop = 1;
	return IDG_OK;
}

static int
prepare(struct idg_db *db)
{
	if (db->flags & IDG_OPEN_RDONLY)
		return idg__err_set(&db->err, IDG_EINVAL,
				    "this handle is read-only; open the "
				    "database without IDG_OPEN_RDONLY to "
				    "ingest");
	if (!db->jp)
		db->jp = idg__jparser_new();
	if (!db->mpin)
		db->mpin = idg__mpin_new();
	if (!db->idcache)
		db->idcache = idg__idcache_new();
	if (!db->namecache)
		db->namecache = idg__idcache_new();
	if (!db->jp || !db->mpin || !db->idcache || !db->namecache)
		return idg__err_set(&db->err, IDG_ENOMEM, "out of memory");
	return IDG_OK;
}

static int
read_error(struct ingest *in, const struct idg__reader *rd)
{
	return idg__err_set(in->b.err, IDG_EIO, "read error after %s %llu",
			    in->format == IDG_FORMAT_MSGPACK ? "value" : "line",
			    (unsigned long long)rd->line);
}

/* One line of JSON: 1, 0 at the end of input, or an error code. */
static int
json_unit(struct ingest *in, struct idg__reader *rd)
{
	struct idg__line ln;
	int got = idg__reader_line(rd, &ln), rc;

	if (got <= 0)
		return got < 0 ? read_error(in, rd) : 0;
	in->line = rd->line;
	rc = ingest_line(in, &ln);
	if (rc == IDG_ESTOPPED && in->stop)
		rc = IDG_OK;
	return rc ? rc : 1;
}

/* A MessagePack value cut short by the end of the input. */
static int
truncated(struct ingest *in, const char *p, size_t n)
{
	struct idg__inrec bare = {0};

	in->stats.records++;
	bare.raw = p;
	bare.raw_len = n;
	return reject(in, &bare, 0, 0, "",
		      "truncated MessagePack value at the end of the input");
}

/* One top-level MessagePack value: 1, 0 at the end, or an error code. */
static int
msgpack_unit(struct ingest *in, struct idg__reader *rd)
{
	const char *p;
	size_t n, off;
	int rc;

	for (;;) {
		idg__reader_window(rd, &p, &n);
		off = 0;
		in->line = rd->line + 1;
		rc = n ? idg__mpin_next(in->b.db->mpin, p, n, &off, on_record,
					in)
		       : IDG__MPIN_MORE;
		if (rc == IDG_ESTOPPED && in->stop)
			rc = IDG_OK;
		if (rc != IDG__MPIN_MORE)
			break;
		rc = idg__reader_more(rd);
		if (rc < 0)
			return read_error(in, rd);
		if (rc > 0 && n == 0)
			return 0;
		if (rc > 0) {
			rc = truncated(in, p, n);
			off = n;
			break;
		}
	}
	if (rc == IDG__MPIN_BROKEN) {
		in->broken = 1;
		rc = IDG_OK;
	}
	if (rc)
		return rc;
	idg__reader_skip(rd, off);
	return in->broken ? 0 : 1;
}

static int
pick_format(struct ingest *in, struct idg__reader *rd)
{
	int c;

	if (in->format != IDG_FORMAT_AUTO)
		return IDG_OK;
	c = idg__reader_peek(rd);
	if (c == -1 && rd->fp && ferror(rd->fp))
		return read_error(in, rd);
	in->format = c >= 0 && idg__mpin_sniff((unsigned char)c)
			 ? IDG_FORMAT_MSGPACK
			 : IDG_FORMAT_JSONL;
	return IDG_OK;
}

/* The batch loop: units of input until the end, batch_size at a time. */
static int
ingest_all(struct ingest *in, struct idg__reader *rd)
{
	struct idg_db *db = in->b.db;
	struct idg_ingest_stats saved = in->stats;
	uint64_t in_batch = 0, before;
	int rc = pick_format(in, rd), got = 1;

	if (rc == IDG_OK)
		rc = batch_begin(in);
	while (rc == IDG_OK && !in->stop && got > 0) {
		before = in->stats.records;
		got = in->format == IDG_FORMAT_MSGPACK ? msgpack_unit(in, rd)
						       : json_unit(in, rd);
		if (got < 0)
			rc = got;
		in_batch += in->stats.records - before;
		if (rc == IDG_OK && got > 0 && in_batch >= db->batch_size) {
			rc = batch_commit(in, rd, 0);
			saved = in->stats;
			in_batch = 0;
			if (rc == IDG_OK && !in->stop)
				rc = batch_begin(in);
		}
	}
	if (rc == IDG_OK && in->b.txn && in_batch == 0 && !in->file) {
		/* Nothing since the last commit: no empty batch. */
		idg__store_abort(in->b.txn);
		in->b.txn = NULL;
	} else if (rc == IDG_OK && in->b.txn) {
		rc = batch_commit(in, rd, got == 0);
		saved = in->stats;
	}
	if (rc) {
		idg__store_abort(in->b.txn);
		in->b.txn = NULL;
		in->stats = saved; /* the failed batch left no trace */
		idg__idcache_clear(db->idcache); /* nor its new nodes */
		idg__idcache_clear(db->namecache);
	} else if (in->stop) {
		rc = idg__err_set(&db->err, IDG_ESTOPPED,
				  "stopped by the callback after %s %llu",
				  in->format == IDG_FORMAT_MSGPACK ? "value"
								   : "line",
				  (unsigned long long)rd->line);
	}
	return rc;
}

static void
ingest_init(struct ingest *in, struct idg_db *db,
	    const struct idg_ingest_opts *opts)
{
	static const struct idg_ingest_opts defaults = IDG_INGEST_OPTS_INIT;

	memset(in, 0, sizeof(*in));
	in->b.db = db;
	in->b.err = &db->err;
	in->opts = opts ? opts : &defaults;
	in->format = in->opts->format;
	idg__err_clear(&db->err);
}

static int
run(struct idg_db *db, struct idg__reader *rd,
    const struct idg_ingest_opts *opts, struct idg_ingest_stats *stats)
{
	struct ingest in;
	int rc;

	ingest_init(&in, db, opts);
	rc = prepare(db);
	if (rc == IDG_OK)
		rc = ingest_all(&in, rd);
	free(in.scratch.p);
	if (stats)
		*stats = in.stats;
	return rc;
}

int
idg_ingest_buffer(idg_db *db, const char *buf, size_t len,
		  const struct idg_ingest_opts *opts,
		  struct idg_ingest_stats *stats)
{
	struct idg__reader rd;
	int rc;

	if (!db || (!buf && len))
		return IDG_EINVAL;
	idg__reader_init_mem(&rd, buf, len);
	rc = run(db, &rd, opts, stats);
	idg__reader_free(&rd);
	return rc;
}

int
idg_ingest_stream(idg_db *db, FILE *fp, const struct idg_ingest_opts *opts,
		  struct idg_ingest_stats *stats)
{
	struct idg__reader rd;
	int rc;

	if (!db || !fp)
		return IDG_EINVAL;
	rc = idg__reader_init_stream(&rd, fp);
	if (rc == IDG_OK)
		rc = run(db, &rd, opts, stats);
	else
		idg__err_set(&db->err, rc, "out of memory");
	idg__reader_free(&rd);
	return rc;
}

/* What the database remembers of a file: where to start, or to skip it. */
static int
file_plan(struct ingest *in, const char *path, struct idg__file *f,
	  struct idg__reader *rd)
{
	struct idg__txn *t = NULL;
	struct idg__file old;
	int rc = idg__store_begin(in->b.db->store, 0, &t, in->b.err);

	if (rc == IDG_OK)
		rc = idg__files_get(t, in->file_key, &old, in->b.err);
	idg__store_abort(t);
	if (rc == IDG_ENOTFOUND || (rc == IDG_OK && in->opts->force))
		return IDG_OK;
	if (rc)
		return rc;
	if (old.done) {
		in->stats.skipped = 1;
		return IDG_OK;
	}
	if (!in->opts->resume)
		return idg__err_set(in->b.err, IDG_EPARTIAL,
				    "%s was partly ingested before (%llu "
				    "lines committed); continue it with "
				    "--resume, or start over with --force",
				    path, (unsigned long long)old.line);
	in->format = old.format;
	in->stats.resumed_at = old.line + 1;
	(void)f;
	return idg__reader_seek(rd, old.offset, old.line);
}

static int
open_file(struct idg_db *db, const char *path, FILE **fp,
	  unsigned char key[IDG__HASH_BYTES], uint64_t *size)
{
	struct stat st;

	*fp = fopen(path, "rb");
	if (!*fp)
		return idg__err_set(&db->err, IDG_EIO, "cannot open %s: %s",
				    path, strerror(errno));
	if (fstat(fileno(*fp), &st) != 0 || idg__hash_stream(*fp, key) ||
	    fseeko(*fp, 0, SEEK_SET) != 0)
		return idg__err_set(&db->err, IDG_EIO, "cannot read %s: %s",
				    path, strerror(errno));
	*size = (uint64_t)st.st_size;
	return IDG_OK;
}

int
idg_ingest_file(idg_db *db, const char *path,
		const struct idg_ingest_opts *opts,
		struct idg_ingest_stats *stats)
{
	unsigned char key[IDG__HASH_BYTES];
	struct idg__file f = {0};
	struct idg__reader rd = {0};
	struct ingest in;
	FILE *fp = NULL;
	int rc;

	if (!db || !path)
		return IDG_EINVAL;
	ingest_init(&in, db, opts);
	rc = prepare(db);
	if (rc == IDG_OK)
		rc = open_file(db, path, &fp, key, &f.size);
	if (rc == IDG_OK)
		rc = idg__reader_init_stream(&rd, fp);
	f.name = path;
	f.name_len = strlen(path);
	in.file = &f;
	in.file_key = key;
	if (rc == IDG_OK)
		rc = file_plan(&in, path, &f, &rd);
	if (rc == IDG_OK && !in.stats.skipped)
		rc = ingest_all(&in, &rd);
	free(in.scratch.p);
	if (stats)
		*stats = in.stats;
	idg__reader_free(&rd);
	if (fp)
		fclose(fp);
	return rc;
}
