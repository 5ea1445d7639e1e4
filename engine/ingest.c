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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec_json_in.h"
#include "codec_msgpack.h"
#include "db.h"
#include "graph.h"
#include "ids.h"
#include "log.h"
#include "record.h"
#include "rules.h"

#define READ_CHUNK (1u << 20)

/* Lines from a stream or from memory. */
struct reader {
	FILE *fp;            /* stream source, or NULL */
	const char *mem;     /* memory source */
	size_t mem_len;
	char *buf;           /* holds cap bytes + IDG__JSON_PADDING */
	size_t cap, start, end;
	int eof;
	uint64_t line;       /* number of the line last returned */
	uint64_t consumed;   /* input bytes up to the end of that line */
};

struct line {
	const char *p;
	size_t n;
	size_t capacity; /* readable bytes from p */
};

static int
reader_grow(struct reader *r, size_t want)
{
	size_t cap = r->cap ? r->cap : READ_CHUNK;
	char *nb;

	while (cap < want)
		cap *= 2;
	if (cap == r->cap)
		return IDG_OK;
	nb = realloc(r->buf, cap + IDG__JSON_PADDING);
	if (!nb)
		return IDG_ENOMEM;
	r->buf = nb;
	r->cap = cap;
	return IDG_OK;
}

/* Moves unread bytes to the front and reads more from the stream. */
static int
reader_fill(struct reader *r)
{
	size_t got;
	int rc;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		rc = reader_grow(r, r->cap * 2);
		if (rc)
			return rc;
	}
	got = fread(r->buf + r->end, 1, r->cap - r->end, r->fp);
	r->end += got;
	if (got == 0) {
		if (ferror(r->fp))
			return IDG_EIO;
		r->eof = 1;
	}
	return IDG_OK;
}

/* Copies a memory line that lacks padding room into the buffer. */
static int
pad_line(struct reader *r, struct line *ln)
{
	int rc = reader_grow(r, ln->n);

	if (rc)
		return rc;
	memcpy(r->buf, ln->p, ln->n);
	memset(r->buf + ln->n, 0, IDG__JSON_PADDING);
	ln->p = r->buf;
	ln->capacity = r->cap + IDG__JSON_PADDING;
	return IDG_OK;
}

static int
next_mem_line(struct reader *r, struct line *ln)
{
	const char *p = r->mem + r->consumed, *nl;
	size_t left = r->mem_len - r->consumed;

	if (left == 0)
		return 0;
	nl = memchr(p, '\n', left);
	ln->p = p;
	ln->n = nl ? (size_t)(nl - p) : left;
	ln->capacity = left;
	r->consumed += ln->n + (nl != NULL);
	r->line++;
	if (ln->capacity < ln->n + IDG__JSON_PADDING)
		return pad_line(r, ln) ? -1 : 1;
	return 1;
}

/* Returns 1 with a line, 0 at the end of input, -1 on a read error. */
static int
next_line(struct reader *r, struct line *ln)
{
	const char *nl;

	if (!r->fp)
		return next_mem_line(r, ln);
	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl || (r->eof && r->start < r->end))
			break;
		if (r->eof)
			return 0;
		if (reader_fill(r))
			return -1;
	}
	ln->p = r->buf + r->start;
	ln->n = nl ? (size_t)(nl - ln->p) : r->end - r->start;
	ln->capacity = r->cap + IDG__JSON_PADDING - r->start;
	r->start += ln->n + (nl != NULL);
	r->consumed += ln->n + (nl != NULL);
	r->line++;
	return 1;
}

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
	int stop; /* a callback asked to stop */
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

static int
intern(struct ingest *in, const struct idg__str *id, uint32_t *node)
{
	struct idg__batch *b = &in->b;
	int created, rc;

	rc = idg__ids_intern(b->txn, id->p, id->n, &b->st.next_node, node,
			     &created, b->err);
	if (rc == IDG_OK && created) {
		in->stats.nodes_created++;
		rc = idg__graph_add(b->txn, *node, b->st.stamp, b->err);
	}
	return rc;
}

static int
apply_identity(struct ingest *in, const struct idg__rec *r)
{
	struct idg__ident ev = {r->kind, {r->ids[0], r->ids[1]}, {0, 0},
				in->b.st.stamp};
	struct idg__outcome out;
	struct idg__log_rec lr;
	int rc;

	rc = intern(in, &r->ids[0], &ev.nodes[0]);
	if (rc == IDG_OK)
		rc = intern(in, &r->ids[1], &ev.nodes[1]);
	if (rc == IDG_OK)
		rc = idg__rules_original(&in->b, &ev, &out);
	if (rc)
		return rc;
	lr = (struct idg__log_rec){
	    ev.stamp, r->kind, {ev.nodes[0], ev.nodes[1]},
	    r->insert_id.p, r->insert_id.n, out.outcome, out.reason,
	    out.desc[0] ? out.desc : NULL, strlen(out.desc), out.canon,
	};
	in->stats.identity++;
	if (out.outcome == IDG_OUTCOME_MERGED)
		in->stats.merged++;
	else if (out.outcome == IDG_OUTCOME_NOOP)
		in->stats.noop++;
	else
		in->stats.refused[out.reason]++;
	return idg__log_append(&in->b, &lr);
}

static int
apply(struct ingest *in, const struct idg__rec *r)
{
	struct idg__state *st = &in->b.st;
	int64_t clock = in->opts->clock == IDG_CLOCK_WALL ? in->now_ms
							   : r->time_ms;
	uint32_t node;
	int rc = IDG_OK;

	if (clock > st->stamp)
		st->stamp = clock;
	if (r->distinct_id.n)
		rc = intern(in, &r->distinct_id, &node);
	if (rc == IDG_OK && r->identity)
		rc = apply_identity(in, r);
	if (rc == IDG_OK) {
		st->records++;
		in->stats.events++;
	}
	return rc;
}

static int
on_record(void *ctx, const struct idg__inrec *jr, uint32_t index,
	  int in_array, const char *error)
{
	struct ingest *in = ctx;
	struct idg__invalid why;
	struct idg__rec r;

	in->stats.records++;
	if (error)
		return reject(in, jr, index, in_array, "", error);
	if (idg__record_validate(jr, in->now_ms, &r, &why))
		return reject(in, jr, index, in_array, why.field, why.msg);
	return apply(in, &r);
}

static int
is_blank(const struct line *ln)
{
	size_t i;

	for (i = 0; i < ln->n; i++)
		if (ln->p[i] != ' ' && ln->p[i] != '\t' && ln->p[i] != '\r')
			return 0;
	return 1;
}

static int
ingest_line(struct ingest *in, struct line *ln)
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

static int
batch_commit(struct ingest *in, const struct reader *rd)
{
	struct idg__batch *b = &in->b;
	struct idg_progress prog;
	int rc = idg__state_save(b->txn, &b->st, b->err);

	if (rc) {
		idg__store_abort(b->txn);
	} else {
		rc = idg__store_commit(b->txn, b->err);
	}
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
	if (!db->jp)
		return idg__err_set(&db->err, IDG_ENOMEM, "out of memory");
	return IDG_OK;
}

static int
run(struct idg_db *db, struct reader *rd, const struct idg_ingest_opts *opts,
    struct idg_ingest_stats *stats)
{
	static const struct idg_ingest_opts defaults = IDG_INGEST_OPTS_INIT;
	struct ingest in;
	struct idg_ingest_stats saved = {0};
	uint64_t in_batch = 0;
	struct line ln;
	int rc, got;

	memset(&in, 0, sizeof(in));
	in.b.db = db;
	in.b.err = &db->err;
	in.opts = opts ? opts : &defaults;
	idg__err_clear(&db->err);
	rc = prepare(db);
	if (rc == IDG_OK)
		rc = batch_begin(&in);
	while (rc == IDG_OK && !in.stop && (got = next_line(rd, &ln)) != 0) {
		uint64_t before = in.stats.records;

		if (got < 0) {
			rc = idg__err_set(&db->err, IDG_EIO,
					  "reading line %llu: read error",
					  (unsigned long long)rd->line + 1);
			break;
		}
		in.line = rd->line;
		rc = ingest_line(&in, &ln);
		in_batch += in.stats.records - before;
		if (rc == IDG_OK && in_batch >= db->batch_size) {
			rc = batch_commit(&in, rd);
			saved = in.stats;
			in_batch = 0;
			if (rc == IDG_OK && !in.stop)
				rc = batch_begin(&in);
		}
	}
	if (rc == IDG_OK && in.b.txn) {
		rc = batch_commit(&in, rd);
		saved = in.stats;
	}
	if (rc) {
		idg__store_abort(in.b.txn);
		in.stats = saved; /* the failed batch left no trace */
	} else if (in.stop) {
		rc = idg__err_set(&db->err, IDG_ESTOPPED,
				  "stopped by the callback after line %llu",
				  (unsigned long long)rd->line);
	}
	if (stats)
		*stats = in.stats;
	return rc;
}

int
idg_ingest_buffer(idg_db *db, const char *buf, size_t len,
		  const struct idg_ingest_opts *opts,
		  struct idg_ingest_stats *stats)
{
	struct reader rd = {0};
	int rc;

	if (!db || (!buf && len))
		return IDG_EINVAL;
	rd.mem = buf;
	rd.mem_len = len;
	rc = run(db, &rd, opts, stats);
	free(rd.buf);
	return rc;
}

int
idg_ingest_stream(idg_db *db, FILE *fp, const struct idg_ingest_opts *opts,
		  struct idg_ingest_stats *stats)
{
	struct reader rd = {0};
	int rc;

	if (!db || !fp)
		return IDG_EINVAL;
	rd.fp = fp;
	rc = reader_grow(&rd, READ_CHUNK);
	if (rc)
		return idg__err_set(&db->err, rc, "out of memory");
	rc = run(db, &rd, opts, stats);
	free(rd.buf);
	return rc;
}
