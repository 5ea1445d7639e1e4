/*
 * ingest.c — the batch loop: input read unit by unit (a JSON line, or a
 * MessagePack value), each record handed to apply.c, batch_size records
 * to a write transaction, and input files remembered for skip and resume.
 *
 * One write transaction holds a batch; it commits (durably, unless the
 * handle says otherwise) before the next begins, so a crash leaves whole
 * batches only. A unit is never split between batches, and a file's entry
 * (how far it got) is written in the same transaction as its batch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "codec_json_in.h"
#include "codec_msgpack.h"
#include "events.h"
#include "files.h"
#include "graph.h"
#include "idcache.h"
#include "ids.h"
#include "ingest.h"
#include "keys.h"
#include "pipe.h"
#include "reader.h"
#include "source.h"

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Whether the id cache knows every id: from an empty database on, for as
 * long as no other handle adds ids (their count would differ from ours).
 */
static void
ids_known(struct idg_db *db, const struct idg__state *st)
{
	if (st->next_node == 1) {
		idg__idcache_clear(db->idcache);
		idg__idcache_set_complete(db->idcache, 1);
		db->ids_next = 1;
	} else if (st->next_node != db->ids_next) {
		idg__idcache_set_complete(db->idcache, 0);
	}
}

static int
batch_begin(struct ingest *in)
{
	struct idg__batch *b = &in->b;
	int rc = idg__store_begin(b->db->store, 1, &b->txn, b->err);

	if (rc == IDG_OK)
		rc = idg__state_load(b->txn, &b->st, b->err);
	if (rc == IDG_OK)
		rc = idg__db_keys(b->db, b->txn);
	if (rc == IDG_OK)
		ids_known(b->db, &b->st);
	if (rc == IDG_OK && idg__nodecache_attach(b->db->nodecache, b->txn))
		rc = idg__err_set(b->err, IDG_ENOMEM, "out of memory");
	in->now_ms = wall_ms();
	if (!in->check_ms)
		in->check_ms = in->now_ms;
	return rc;
}

/*
 * A file's content hash, made on a thread of its own beside the ingest
 * when no file the database remembers has the file's size: such a file
 * can be neither skipped nor resumed, so its hash is first needed to
 * write its entry, with the first commit, which waits for it.
 */
struct hasher {
	pthread_t thread;
	int fd;
	unsigned char *key;
	int rc, err; /* idg__hash_file's answer, and its errno */
};

static void *
hash_main(void *arg)
{
	struct hasher *h = arg;

	h->rc = idg__hash_file(h->fd, h->key);
	h->err = errno;
	return NULL;
}

/* Waits for the hash begun beside the ingest, if any: 0, or the errno
 * of the read that failed it. */
static int
hash_join(struct ingest *in)
{
	struct hasher *h = in->hash;

	if (!h)
		return 0;
	pthread_join(h->thread, NULL);
	in->hash = NULL;
	return h->rc ? (h->err ? h->err : EIO) : 0;
}

/* The file could not be read to make its hash (err: errno). */
static int
hash_failed(struct ingest *in, int err)
{
	return idg__err_set(in->b.err, IDG_EIO, "cannot read %.*s: %s",
			    (int)in->file->name_len, in->file->name,
			    strerror(err));
}

/* What a unit of input is called in messages: a line of JSON, or a
 * MessagePack value; plural with many. */
static const char *
unit_name(int format, int many)
{
	if (format == IDG_FORMAT_MSGPACK)
		return many ? "values" : "value";
	return many ? "lines" : "line";
}

/*
 * Notes in the batch how far into its file the ingest has come, unless
 * another ingest of the same content committed since this one last looked:
 * both would apply the same records. The batch then rolls back.
 */
static int
note_file(struct ingest *in, const struct idg__upos *pos, int done)
{
	struct idg__file f = *in->file, cur;
	int rc, err = hash_join(in);

	if (err)
		return hash_failed(in, err);
	rc = idg__files_get(in->b.txn, in->file_key, &cur, in->b.err);
	if (rc && rc != IDG_ENOTFOUND)
		return rc;
	if ((rc == IDG_OK) != in->seen.present ||
	    (rc == IDG_OK && (cur.offset != in->seen.offset ||
			      cur.done != in->seen.done)))
		return idg__err_set(
		    in->b.err, IDG_EBUSY,
		    "another ingest of %.*s (the same content) committed %s "
		    "(%llu %s) since this one began: this one stopped, so "
		    "that no record is applied twice",
		    (int)f.name_len, f.name,
		    rc == IDG_OK && cur.done ? "all of it" : "part of it",
		    rc == IDG_OK ? (unsigned long long)cur.line : 0ULL,
		    unit_name(in->format, 1));
	f.offset = pos->consumed;
	f.line = pos->rd_line;
	f.done = done;
	f.format = in->format;
	rc = idg__files_put(in->b.txn, in->file_key, &f, in->b.db->mpw,
			    in->b.err);
	in->seen.present = 1;
	in->seen.offset = f.offset;
	in->seen.done = done;
	return rc;
}

static int
batch_commit(struct ingest *in, const struct idg__upos *pos, int last)
{
	struct idg__batch *b = &in->b;
	struct idg_progress prog;
	uint64_t id = idg__store_txn_id(b->txn);
	int rc = idg__events_flush(b);

	if (rc == IDG_OK)
		rc = idg__state_save(b->txn, &b->st, b->err);
	if (rc == IDG_OK && in->file)
		rc = note_file(in, pos, last);
	if (rc) {
		idg__store_abort(b->txn);
	} else {
		double t = idg__clock_wall();

		rc = idg__store_commit(b->txn, b->err);
		in->stats.commit_seconds += idg__clock_wall() - t;
	}
	if (rc == IDG_OK)
		idg__nodecache_committed(b->db->nodecache, id);
	else
		idg__nodecache_clear(b->db->nodecache);
	b->txn = NULL;
	b->evc = b->bodyc = NULL; /* closed with their transaction */
	if (rc)
		return rc;
	in->stats.batches++;
	in->stats.bytes = pos->consumed;
	prog = (struct idg_progress){in->stats.records, in->stats.rejected,
				     pos->consumed};
	if (in->opts->on_progress &&
	    in->opts->on_progress(in->opts->user, &prog) != 0)
		in->stop = IDG__STOP_AFTER_COMMIT;
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
	if (!db->nodecache)
		db->nodecache = idg__nodecache_new();
	if (!db->blkw)
		db->blkw = idg__mpw_new();
	if (!db->runbuf)
		db->runbuf = calloc(IDG__RUN_MAX + 1, sizeof(*db->runbuf));
	if (!db->jp || !db->mpin || !db->idcache || !db->namecache ||
	    !db->nodecache || !db->blkw || !db->runbuf)
		return idg__err_set(&db->err, IDG_ENOMEM, "out of memory");
	return IDG_OK;
}

static int
read_error(struct ingest *in, uint64_t line)
{
	return idg__err_set(in->b.err, IDG_EIO, "read error after %s %llu",
			    unit_name(in->format, 0),
			    (unsigned long long)line);
}

/* Where the units come from: the source itself, or the pipe over it. */
struct feed {
	struct ingest *in;
	struct idg__source src;
	struct idg__pipe *pipe; /* NULL: one thread */
	struct idg__upos pos;   /* of the unit last taken */
};

/* Every record goes to the appliers with the line of its unit. */
static int
unit_record(void *ctx, const struct idg__inrec *jr, uint32_t index,
	    int in_array, const char *error)
{
	struct feed *f = ctx;

	f->in->line = f->src.line;
	return idg__ingest_record(f->in, jr, index, in_array, error);
}

static void
unit_ahead(void *ctx, const struct idg__vrec *v, int stage)
{
	idg__ingest_ahead(((struct feed *)ctx)->in, v, stage);
}

/* The same, checked by the parse stage. */
static int
unit_checked(void *ctx, const struct idg__vrec *v, uint32_t index,
	     int in_array)
{
	struct feed *f = ctx;

	f->in->line = f->pos.line;
	return idg__ingest_checked(f->in, v, index, in_array);
}

static int
feed_start(struct ingest *in, struct feed *f, struct idg__reader *rd)
{
	struct idg_db *db = in->b.db;
	int rc;

	memset(f, 0, sizeof(*f));
	f->in = in;
	f->src = (struct idg__source){rd, in->format == IDG_FORMAT_MSGPACK,
				      db->jp, db->mpin, unit_record, f, 0, 0};
	if (in->opts->threads == 1) {
		idg__source_set_keys(&f->src, db->keys);
		return IDG_OK;
	}
	rc = idg__pipe_start(&f->pipe, &f->src, db->keys, in->check_ms,
			     db->set.mode);
	if (rc)
		return idg__err_set(in->b.err, rc,
				    "cannot start the parse thread; ingest "
				    "on one thread (threads = 1 in the "
				    "ingest options, --threads 1)");
	return IDG_OK;
}

/* One unit: 1, 0 at the end of the input, or an error code. */
static int
next_unit(struct ingest *in, struct feed *f)
{
	struct idg__reader *rd = f->src.rd;
	int got;

	if (f->pipe) {
		got = idg__pipe_unit(f->pipe, unit_checked, unit_ahead, f,
				     &f->pos);
	} else {
		got = idg__source_unit(&f->src);
		f->pos = (struct idg__upos){f->src.line, rd->line,
					    rd->consumed};
	}
	if (got == IDG_ESTOPPED && in->stop)
		return 1; /* the unit's other records were not read */
	if (got == IDG__SOURCE_EREAD)
		return read_error(in, f->pos.rd_line);
	if (got == IDG_ENOMEM && !in->b.err->msg[0])
		return idg__err_set(in->b.err, got, "out of memory");
	return got;
}

static int
pick_format(struct ingest *in, struct idg__reader *rd)
{
	int c;

	if (in->format != IDG_FORMAT_AUTO)
		return IDG_OK;
	c = idg__reader_peek(rd);
	if (c == -1 && rd->fp && ferror(rd->fp))
		return read_error(in, rd->line);
	in->format = c >= 0 && idg__mpin_sniff((unsigned char)c)
			 ? IDG_FORMAT_MSGPACK
			 : IDG_FORMAT_JSONL;
	return IDG_OK;
}

/*
 * Records between two drops of the database pages this process has mapped
 * (idg__store_drop_pages): random lookups map the file 64 KiB at a time,
 * and without drops an ingest's resident memory grows with the database.
 * At most a few thousand lookups' worth stay mapped; what they cost again
 * (a minor fault per hot page) was not measurable at 1M records.
 */
#define DROP_EVERY 8192

/* The batch loop: units of input until the end, batch_size at a time. */
static int
ingest_all(struct ingest *in, struct idg__reader *rd)
{
	struct idg_db *db = in->b.db;
	struct idg_ingest_stats saved = in->stats;
	uint64_t in_batch = 0, since_drop = 0, before;
	struct feed f = {0};
	struct idg__pipe_times times = {0};
	double cpu = idg__clock_cpu();
	int rc = pick_format(in, rd), got = 1;

	if (rc == IDG_OK)
		rc = batch_begin(in);
	if (rc == IDG_OK)
		rc = feed_start(in, &f, rd);
	while (rc == IDG_OK && !in->stop && got > 0) {
		before = in->stats.records;
		got = next_unit(in, &f);
		if (got < 0)
			rc = got;
		in_batch += in->stats.records - before;
		since_drop += in->stats.records - before;
		if (since_drop >= DROP_EVERY) {
			idg__store_drop_pages(db->store);
			since_drop = 0;
		}
		if (rc == IDG_OK && got > 0 && !in->stop &&
		    in_batch >= db->batch_size) {
			rc = batch_commit(in, &f.pos, 0);
			saved = in->stats;
			in_batch = 0;
			if (rc == IDG_OK && !in->stop)
				rc = batch_begin(in);
		}
	}
	idg__pipe_end(f.pipe, &times);
	idg__source_set_keys(&f.src, NULL);
	if (rc == IDG_OK && in->b.txn && in_batch == 0 && !in->file) {
		/* Nothing since the last commit: no empty batch. */
		idg__store_abort(in->b.txn);
		idg__nodecache_clear(db->nodecache);
		in->b.txn = NULL;
		in->b.evc = in->b.bodyc = NULL;
	} else if (rc == IDG_OK && in->b.txn &&
		   in->stop != IDG__STOP_ROLLBACK) {
		rc = batch_commit(in, &f.pos, got == 0);
		saved = in->stats;
	}
	if (rc || in->stop == IDG__STOP_ROLLBACK) {
		idg__store_abort(in->b.txn);
		in->b.txn = NULL;
		in->b.evc = in->b.bodyc = NULL;
		in->b.blk_n = 0; /* nor its last block of bodies */
		in->b.run_n = 0; /* nor its last run of heads */
		in->stats = saved; /* the failed batch left no trace */
		idg__idcache_clear(db->idcache); /* nor its new nodes */
		idg__idcache_clear(db->namecache);
		idg__nodecache_clear(db->nodecache); /* nor its node records */
		idg__keys_clear(db->keys); /* nor its property names */
	}
	if (rc == IDG_OK && in->stop == IDG__STOP_ROLLBACK)
		rc = idg__err_set(&db->err, IDG_ESTOPPED,
				  "stopped by the reject callback at %s %llu; "
				  "the batch it was in was rolled back, so a "
				  "resume reads it again",
				  unit_name(in->format, 0),
				  (unsigned long long)f.pos.rd_line);
	else if (rc == IDG_OK && in->stop)
		rc = idg__err_set(&db->err, IDG_ESTOPPED,
				  "stopped by the callback after %s %llu",
				  unit_name(in->format, 0),
				  (unsigned long long)f.pos.rd_line);
	in->stats.parse_busy += times.parse_busy;
	in->stats.parse_wait += times.parse_wait;
	in->stats.apply_wait += times.apply_wait;
	in->stats.apply_busy += idg__clock_cpu() - cpu;
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
	idg__scratch_free(&in.scratch);
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

/*
 * The file's hash, now, or begun beside the ingest when the database
 * remembers no file of its size (then there is nothing to skip or
 * resume); *remembered: whether file_plan must look it up.
 */
static int
file_hash(struct ingest *in, struct hasher *h, int fd,
	  unsigned char key[IDG__HASH_BYTES], int *remembered)
{
	struct idg__txn *t = NULL;
	int rc = idg__store_begin(in->b.db->store, 0, &t, in->b.err);

	*remembered = 1;
	if (rc == IDG_OK)
		rc = idg__files_size_known(t, in->file->size, remembered,
					   in->b.err);
	idg__store_abort(t);
	if (rc)
		return rc;
	if (!*remembered) {
		*h = (struct hasher){.fd = fd, .key = key};
		if (pthread_create(&h->thread, NULL, hash_main, h) == 0) {
			in->hash = h;
			return IDG_OK;
		}
	}
	return idg__hash_file(fd, key) ? hash_failed(in, errno) : IDG_OK;
}

/* What the database remembers of a file: where to start, or to skip it. */
static int
file_plan(struct ingest *in, const char *path, struct idg__reader *rd)
{
	struct idg__txn *t = NULL;
	struct idg__file old;
	int rc = idg__store_begin(in->b.db->store, 0, &t, in->b.err);

	if (rc == IDG_OK)
		rc = idg__files_get(t, in->file_key, &old, in->b.err);
	idg__store_abort(t);
	if (rc == IDG_OK) {
		in->seen.present = 1;
		in->seen.offset = old.offset;
		in->seen.done = old.done;
	}
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
				    "%s committed), or another ingest of it "
				    "is running now; if none is, continue it "
				    "with --resume (as if never stopped), or "
				    "ingest "
				    "it again from its start with --force (its "
				    "committed records are then applied twice: "
				    "events without $insert_id stored twice)",
				    path, (unsigned long long)old.line,
				    unit_name(old.format, 1));
	in->format = old.format;
	in->stats.resumed_at = old.line + 1;
	return idg__reader_seek(rd, old.offset, old.line);
}

static int
open_file(struct idg_db *db, const char *path, FILE **fp, uint64_t *size)
{
	struct stat st;

	*fp = fopen(path, "rb");
	if (!*fp)
		return idg__err_set(&db->err, IDG_EIO, "cannot open %s: %s",
				    path, strerror(errno));
	if (fstat(fileno(*fp), &st) != 0)
		return idg__err_set(&db->err, IDG_EIO, "cannot read %s: %s",
				    path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return idg__err_set(&db->err, IDG_EINVAL,
				    "%s is a directory; give the files in it",
				    path);
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
	struct hasher h;
	struct ingest in;
	FILE *fp = NULL;
	int rc, remembered = 1;

	if (!db || !path)
		return IDG_EINVAL;
	ingest_init(&in, db, opts);
	rc = prepare(db);
	if (rc == IDG_OK)
		rc = open_file(db, path, &fp, &f.size);
	if (rc == IDG_OK)
		rc = idg__reader_init_stream(&rd, fp);
	f.name = path;
	f.name_len = strlen(path);
	in.file = &f;
	in.file_key = key;
	if (rc == IDG_OK)
		rc = file_hash(&in, &h, fileno(fp), key, &remembered);
	if (rc == IDG_OK && remembered)
		rc = file_plan(&in, path, &rd);
	if (rc == IDG_OK && !in.stats.skipped)
		rc = ingest_all(&in, &rd);
	hash_join(&in); /* still running if the ingest failed early */
	idg__scratch_free(&in.scratch);
	if (stats)
		*stats = in.stats;
	idg__reader_free(&rd);
	if (fp)
		fclose(fp);
	return rc;
}

static int
count_record(void *ctx, const struct idg__inrec *jr, uint32_t index,
	     int in_array, const char *error)
{
	(void)jr;
	(void)index;
	(void)in_array;
	(void)error;
	++*(uint64_t *)ctx;
	return 0;
}

/* One unit of a parse-only run: 1, 0 at the end, -1 on a read error. */
static int
parse_unit(struct idg__reader *rd, int msgpack, struct idg__jparser *jp,
	   struct idg__mpin *mp, uint64_t *records)
{
	struct idg__line ln;
	const char *p;
	size_t n, off = 0;
	int got, more;

	if (!msgpack) {
		got = idg__reader_line(rd, &ln);
		if (got > 0)
			idg__json_parse_line(jp, ln.p, ln.n, ln.capacity,
					     count_record, records);
		return got;
	}
	for (;;) {
		idg__reader_window(rd, &p, &n);
		got = n ? idg__mpin_next(mp, p, n, &off, count_record, records)
			: IDG__MPIN_MORE;
		if (got != IDG__MPIN_MORE)
			break;
		more = idg__reader_more(rd);
		if (more)
			return more < 0 ? -1 : 0;
	}
	if (got == IDG__MPIN_BROKEN)
		return 0;
	idg__reader_skip(rd, off);
	return 1;
}

int
idg_parse_only(FILE *fp, int format, uint64_t *records)
{
	struct idg__jparser *jp = idg__jparser_new();
	struct idg__mpin *mp = idg__mpin_new();
	struct idg__reader rd;
	int rc, got, c, msgpack = format == IDG_FORMAT_MSGPACK;

	*records = 0;
	rc = !fp || !jp || !mp ? IDG_EINVAL : idg__reader_init_stream(&rd, fp);
	if (rc == IDG_OK && format == IDG_FORMAT_AUTO) {
		c = idg__reader_peek(&rd);
		msgpack = c >= 0 && idg__mpin_sniff((unsigned char)c);
	}
	while (rc == IDG_OK &&
	       (got = parse_unit(&rd, msgpack, jp, mp, records)) != 0)
		if (got < 0)
			rc = IDG_EIO;
	if (fp && jp && mp)
		idg__reader_free(&rd);
	idg__jparser_free(jp);
	idg__mpin_free(mp);
	return rc;
}

int
idg_store_only(idg_db *db, const char *dst, uint64_t commits,
	       uint64_t *records)
{
	struct idg__store *out = NULL;
	char path[4096];
	struct stat st;
	int rc;

	if (!db || !dst || !records)
		return IDG_EINVAL;
	*records = 0;
	if (snprintf(path, sizeof path, "%s/data.mdb", dst) >=
	    (int)sizeof path)
		return idg__err_set(&db->err, IDG_EINVAL, "path too long: %s",
				    dst);
	if (stat(path, &st) == 0)
		return idg__err_set(&db->err, IDG_EINVAL,
				    "%s holds a database already; give the "
				    "copy a new path",
				    dst);
	rc = idg__store_open(&out, dst, IDG__STORE_CREATE, &db->err);
	if (rc == IDG_OK)
		rc = idg__store_copy(db->store, out, commits, records,
				     &db->err);
	idg__store_close(out);
	return rc;
}

int
idg_json_to_msgpack(const char *json, size_t len, FILE *out)
{
	struct idg__jparser *jp = idg__jparser_new();
	struct idg__mpw *w = idg__mpw_new();
	char *padded = malloc(len + IDG__JSON_PADDING);
	const void *data;
	size_t n;
	int rc = IDG_OK;

	if (!json || !out || !jp || !w || !padded) {
		rc = json && out ? IDG_ENOMEM : IDG_EINVAL;
		goto out;
	}
	memcpy(padded, json, len);
	memset(padded + len, 0, IDG__JSON_PADDING);
	if (idg__json_to_msgpack(jp, padded, len, len + IDG__JSON_PADDING, w) ||
	    idg__mpw_error(w)) {
		rc = IDG_EINVAL;
		goto out;
	}
	data = idg__mpw_data(w, &n);
	if (fwrite(data, 1, n, out) != n)
		rc = IDG_EIO;
out:
	free(padded);
	idg__mpw_free(w);
	idg__jparser_free(jp);
	return rc;
}
