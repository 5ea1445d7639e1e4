/*
 * store.c — the LMDB environment: the only file that includes <lmdb.h>.
 *
 * A database is one LMDB environment with the named tables of store.h.
 * Every write happens inside one write transaction per ingest batch, so a
 * reader or a crash sees whole batches only. LMDB's codes are mapped to
 * idgraph's here and nowhere else; the opaque idg__txn and idg__cursor are
 * LMDB's own handles under another name, so wrapping costs nothing.
 */
#define _DEFAULT_SOURCE /* madvise(MADV_DONTNEED) */

#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

/*
 * Virtual size of the map: the file grows only as data is written. Where
 * address space is short (ulimit -v, valgrind) a smaller map is tried.
 */
#define MAP_SIZE_MAX ((size_t)1 << 38)
#define MAP_SIZE_MIN ((size_t)1 << 30)

struct idg__store {
	MDB_env *env;
	MDB_dbi dbi[IDG__T_COUNT];
	MDB_txn *rtxn;  /* a read transaction kept for reuse (reset) */
	int rtxn_busy;  /* rtxn is in use */
	char *map;      /* where LMDB mapped data.mdb (NULL: not known) */
	size_t map_len;
	int map_looked; /* map was looked for */
	MDB_txn *wtxn;  /* the open write transaction, if any */
};

/*
 * The write transaction that has a cache (idg__store_set_wcache), per
 * thread: an LMDB write transaction lives on the thread that began it, and
 * a lookup here is a compare, not two calls into LMDB (graph_get asks on
 * every read, in read transactions too).
 */
static _Thread_local struct {
	MDB_txn *txn;
	void *cache;
} wcache;

static const struct {
	const char *name;
	unsigned flags;
} tables[IDG__T_COUNT] = {
    [IDG__T_META] = {"meta", 0},
    [IDG__T_IDS] = {"ids", MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP},
    [IDG__T_NAMES] = {"names", MDB_INTEGERKEY},
    [IDG__T_NODES] = {"nodes", MDB_INTEGERKEY},
    [IDG__T_CANON] = {"canon", 0},
    [IDG__T_LOG] = {"log", MDB_INTEGERKEY},
    [IDG__T_EVHASH] = {"evhash",
		       MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP},
    [IDG__T_EVNAMES] = {"evnames", MDB_INTEGERKEY},
    [IDG__T_EV] = {"ev", 0},
    [IDG__T_EVBODY] = {"evbody", MDB_INTEGERKEY},
    [IDG__T_FILES] = {"files", 0},
    [IDG__T_PROFILES] = {"profiles", MDB_INTEGERKEY},
    [IDG__T_PKEYS] = {"pkeys", MDB_INTEGERKEY},
};

static int
map_error(int rc, struct idg__err *e, const char *what)
{
	int code;

	switch (rc) {
	case MDB_SUCCESS:
		return IDG_OK;
	case MDB_NOTFOUND:
		return IDG_ENOTFOUND;
	case MDB_MAP_FULL:
		code = IDG_EFULL;
		break;
	case MDB_READERS_FULL:
		code = IDG_EBUSY;
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return idg__err_set(e, IDG_ECORRUPT,
				    "%s: %s: the database is damaged (a copy "
				    "cut short, a changed file?); restore it "
				    "from a copy",
				    what, mdb_strerror(rc));
	case MDB_INVALID:
		return idg__err_set(e, IDG_ECORRUPT,
				    "%s: %s; if it is an idgraph database, its "
				    "data.mdb was cut short or overwritten: "
				    "restore it from a copy",
				    what, mdb_strerror(rc));
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_VALSIZE:
		code = IDG_ECORRUPT;
		break;
	case ENOMEM:
		code = IDG_ENOMEM;
		break;
	default:
		code = IDG_EIO;
	}
	return idg__err_set(e, code, "%s: %s", what, mdb_strerror(rc));
}

/* Whether the environment holds nothing yet: no table, no key. */
static int
empty_env(MDB_txn *txn)
{
	MDB_stat st;
	MDB_dbi main;

	return mdb_dbi_open(txn, NULL, 0, &main) == 0 &&
	       mdb_stat(txn, main, &st) == 0 && st.ms_entries == 0;
}

static int
open_tables(struct idg__store *s, unsigned flags, struct idg__err *e)
{
	int rdonly = flags & IDG__STORE_RDONLY;
	MDB_txn *txn = NULL;
	int rc, i, fresh;

	rc = mdb_txn_begin(s->env, NULL, rdonly ? MDB_RDONLY : 0, &txn);
	if (rc)
		return map_error(rc, e, "opening tables");
	/* A new environment gets every table; one with a meta table must
	 * have them all already (an older layout lacks some). */
	rc = mdb_dbi_open(txn, tables[IDG__T_META].name, 0,
			  &s->dbi[IDG__T_META]);
	if (rc && rc != MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return map_error(rc, e, "opening tables");
	}
	fresh = rc == MDB_NOTFOUND && !rdonly && (flags & IDG__STORE_CREATE);
	if (fresh && !empty_env(txn)) {
		mdb_txn_abort(txn);
		return idg__err_set(e, IDG_ECORRUPT,
				    "not an idgraph database: an LMDB "
				    "database of another program; give idgraph "
				    "a directory of its own");
	}
	for (i = 0; i < IDG__T_COUNT; i++) {
		unsigned f = tables[i].flags | (fresh ? MDB_CREATE : 0);

		rc = mdb_dbi_open(txn, tables[i].name, f, &s->dbi[i]);
		if (rc == MDB_NOTFOUND && i != IDG__T_META) {
			mdb_txn_abort(txn);
			return idg__err_set(
			    e, IDG_EFORMAT,
			    "table %s is missing: a database made by an older "
			    "idgraph (ingest its input again into a database "
			    "made by this one)",
			    tables[i].name);
		}
		if (rc == MDB_NOTFOUND) {
			mdb_txn_abort(txn);
			return idg__err_set(e, IDG_ECORRUPT,
					    "not an idgraph database (it has "
					    "no meta table)");
		}
		if (rc) {
			mdb_txn_abort(txn);
			return map_error(rc, e, "opening tables");
		}
	}
	rc = mdb_txn_commit(txn);
	return rc ? map_error(rc, e, "opening tables") : IDG_OK;
}

/* 1 unless dir is a directory with entries (absent counts as empty). */
static int
empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *x;
	int empty = 1;

	while (d && empty && (x = readdir(d)) != NULL)
		empty = strcmp(x->d_name, ".") == 0 ||
			strcmp(x->d_name, "..") == 0;
	if (d)
		closedir(d);
	return empty;
}

static int
check_dir(const char *dir, unsigned flags, struct idg__err *e)
{
	char path[4096];
	struct stat st;

	if (!*dir)
		return idg__err_set(e, IDG_ENODB,
				    "no database path given (an empty one)");
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return idg__err_set(e, IDG_ENODB,
				    "%s is a file, not a database (a "
				    "directory); give idgraph init a new path",
				    dir);
	if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >=
	    (int)sizeof(path))
		return idg__err_set(e, IDG_EINVAL, "path too long: %s", dir);
	if (stat(path, &st) == 0 && st.st_size == 0)
		return idg__err_set(e, IDG_ECORRUPT,
				    "%s is empty: unless another idgraph is "
				    "creating it right now, the database was "
				    "lost (a full disk, a copy cut short?); "
				    "restore it from a copy, or remove %s and "
				    "start again with: idgraph init %s",
				    path, dir, dir);
	if (stat(path, &st) == 0)
		return IDG_OK;
	if ((!(flags & IDG__STORE_CREATE) || (flags & IDG__STORE_RDONLY)) &&
	    !empty_dir(dir))
		return idg__err_set(e, IDG_ENODB,
				    "no database at %s: the directory holds "
				    "other files; check the path",
				    dir);
	if (!(flags & IDG__STORE_CREATE) || (flags & IDG__STORE_RDONLY))
		return idg__err_set(e, IDG_ENODB,
				    "no database at %s; create one "
				    "with: idgraph init %s",
				    dir, dir);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return idg__err_set(e, IDG_EIO, "cannot create %s: %s", dir,
				    strerror(errno));
	return IDG_OK;
}

static int
open_env(struct idg__store *s, const char *dir, unsigned envflags)
{
	size_t size;
	int rc = ENOMEM;

	/* mmap refuses a map it cannot place with ENOMEM or EINVAL. */
	for (size = MAP_SIZE_MAX;
	     (rc == ENOMEM || rc == EINVAL) && size >= MAP_SIZE_MIN;
	     size /= 4) {
		if (s->env)
			mdb_env_close(s->env);
		s->env = NULL;
		rc = mdb_env_create(&s->env);
		if (rc == 0)
			rc = mdb_env_set_userctx(s->env, s);
		if (rc == 0)
			rc = mdb_env_set_maxdbs(s->env, IDG__T_COUNT + 4);
		if (rc == 0)
			rc = mdb_env_set_mapsize(s->env, size);
		if (rc == 0)
			rc = mdb_env_open(s->env, dir, envflags, 0666);
	}
	return rc;
}

int
idg__store_open(struct idg__store **out, const char *dir, unsigned flags,
		struct idg__err *e)
{
	struct idg__store *s;
	/* NOMEMINIT: LMDB need not zero the unused part of a page it
	 * writes (3% of the apply thread's instructions otherwise); that
	 * part may then hold stale bytes of this process (README). */
	unsigned envflags = MDB_NOTLS | MDB_NOMEMINIT;
	int rc;

	*out = NULL;
	rc = check_dir(dir, flags, e);
	if (rc)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return idg__err_set(e, IDG_ENOMEM, "out of memory");
	if (flags & IDG__STORE_RDONLY)
		envflags |= MDB_RDONLY;
	if (flags & IDG__STORE_NOSYNC)
		envflags |= MDB_NOSYNC;
	rc = open_env(s, dir, envflags);
	if (rc) {
		rc = map_error(rc, e, dir);
		goto fail;
	}
	rc = open_tables(s, flags, e);
	if (rc)
		goto fail;
	*out = s;
	return IDG_OK;
fail:
	idg__store_close(s);
	return rc;
}

void
idg__store_close(struct idg__store *s)
{
	if (!s)
		return;
	if (s->rtxn)
		mdb_txn_abort(s->rtxn);
	if (s->env)
		mdb_env_close(s->env);
	free(s);
}

/* A transaction handle is LMDB's own; the store rides in its user data. */
static struct idg__store *
txn_store(struct idg__txn *t)
{
	return mdb_env_get_userctx(mdb_txn_env((MDB_txn *)t));
}

/*
 * Finds the map of data.mdb among the process's mappings. LMDB tells its
 * address only for MDB_FIXEDMAP, so it is the mapping of the file's inode
 * whose length is the map size. Linux only; elsewhere the map stays
 * unknown and idg__store_drop_pages does nothing.
 */
static void
find_map(struct idg__store *s)
{
#ifdef __linux__
	unsigned long lo, hi, off, ino;
	MDB_envinfo info;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	mdb_filehandle_t fd;
	FILE *f;

	if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &st) ||
	    mdb_env_info(s->env, &info))
		return;
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "%lx-%lx %*s %lx %*x:%*x %lu", &lo, &hi, &off,
			   &ino) == 4 &&
		    ino == (unsigned long)st.st_ino && off == 0 &&
		    hi - lo == info.me_mapsize) {
			s->map = (char *)lo;
			s->map_len = hi - lo;
			break;
		}
	}
	free(line);
	fclose(f);
#else
	(void)s;
#endif
}

void
idg__store_drop_pages(struct idg__store *s)
{
	mdb_filehandle_t fd;
	struct stat st;
	size_t len;

	if (!s->map_looked) {
		find_map(s);
		s->map_looked = 1;
	}
	if (!s->map || mdb_env_get_fd(s->env, &fd) || fstat(fd, &st))
		return;
	len = (size_t)st.st_size < s->map_len ? (size_t)st.st_size
					       : s->map_len;
	/* The pages of a shared file map are the page cache's: dropping
	 * them unmaps them here, and a later read maps them again. */
	(void)madvise(s->map, len, MADV_DONTNEED);
}

int
idg__store_begin(struct idg__store *s, int write, struct idg__txn **out,
		 struct idg__err *e)
{
	MDB_txn *txn;
	int rc;

	/* Readers reuse one transaction: a renew costs far less than a
	 * begin, which matters to a resolve of a few microseconds. */
	if (!write && s->rtxn && !s->rtxn_busy) {
		rc = mdb_txn_renew(s->rtxn);
		if (rc == 0) {
			s->rtxn_busy = 1;
			*out = (struct idg__txn *)s->rtxn;
			return IDG_OK;
		}
		mdb_txn_abort(s->rtxn);
		s->rtxn = NULL;
	}
	rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &txn);
	if (rc == 0 && !write && !s->rtxn) {
		s->rtxn = txn;
		s->rtxn_busy = 1;
	}
	if (rc) {
		*out = NULL;
		return map_error(rc, e, "beginning a transaction");
	}
	if (write) {
		s->wtxn = txn;
	}
	*out = (struct idg__txn *)txn;
	return IDG_OK;
}

/* The write transaction t ends: so does its cache. */
static void
write_ends(struct idg__store *s, struct idg__txn *t)
{
	if ((MDB_txn *)t == s->wtxn)
		s->wtxn = NULL;
	if ((MDB_txn *)t == wcache.txn) {
		wcache.txn = NULL;
		wcache.cache = NULL;
	}
}

int
idg__store_commit(struct idg__txn *t, struct idg__err *e)
{
	int rc;

	write_ends(txn_store(t), t);
	rc = mdb_txn_commit((MDB_txn *)t);
	return rc ? map_error(rc, e, "committing") : IDG_OK;
}

void
idg__store_set_wcache(struct idg__txn *t, void *cache)
{
	struct idg__store *s = txn_store(t);

	if ((MDB_txn *)t == s->wtxn) {
		wcache.txn = (MDB_txn *)t;
		wcache.cache = cache;
	}
}

void *
idg__store_wcache(struct idg__txn *t)
{
	return t && (MDB_txn *)t == wcache.txn ? wcache.cache : NULL;
}

void
idg__store_abort(struct idg__txn *t)
{
	struct idg__store *s;

	if (!t)
		return;
	s = txn_store(t);
	if ((MDB_txn *)t == s->rtxn) {
		mdb_txn_reset(s->rtxn);
		s->rtxn_busy = 0;
		return;
	}
	write_ends(s, t);
	mdb_txn_abort((MDB_txn *)t);
}

uint64_t
idg__store_txn_id(struct idg__txn *t)
{
	return mdb_txn_id((MDB_txn *)t);
}

int
idg__store_snapshot(struct idg__store *s, uint64_t *out)
{
	MDB_envinfo info;

	if (mdb_env_info(s->env, &info) != 0)
		return -1;
	*out = info.me_last_txnid;
	return 0;
}

int
idg__store_get(struct idg__txn *t, int table, const void *key, size_t klen,
	       struct idg__val *out, struct idg__err *e)
{
	MDB_val k = {klen, (void *)key}, v;
	int rc;

	rc = mdb_get((MDB_txn *)t, txn_store(t)->dbi[table], &k, &v);
	if (rc)
		return map_error(rc, e, tables[table].name);
	out->p = v.mv_data;
	out->n = v.mv_size;
	return IDG_OK;
}

int
idg__store_put(struct idg__txn *t, int table, const void *key, size_t klen,
	       const void *val, size_t vlen, unsigned flags,
	       struct idg__err *e)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	unsigned f = 0;
	int rc;

	if (flags & IDG__PUT_APPEND)
		f |= MDB_APPEND;
	if (flags & IDG__PUT_NODUPDATA)
		f |= MDB_NODUPDATA;
	rc = mdb_put((MDB_txn *)t, txn_store(t)->dbi[table], &k, &v, f);
	if (rc == MDB_KEYEXIST && (f & MDB_APPEND)) {
		/* Not in order after all: an ordinary put finds its place,
		 * but an append never overwrites. */
		f = (f & ~(unsigned)MDB_APPEND) | MDB_NOOVERWRITE;
		rc = mdb_put((MDB_txn *)t, txn_store(t)->dbi[table], &k, &v,
			     f);
		if (rc == MDB_KEYEXIST)
			return idg__err_set(e, IDG_ECORRUPT,
					    "%s: appending a key that exists",
					    tables[table].name);
	}
	if (rc == MDB_KEYEXIST)
		return IDG_OK; /* NODUPDATA: the pair is already there */
	return rc ? map_error(rc, e, tables[table].name) : IDG_OK;
}

/* The table a cursor was opened on, for messages. */
static const char *
cursor_table(MDB_cursor *c)
{
	struct idg__store *s = txn_store((struct idg__txn *)mdb_cursor_txn(c));
	MDB_dbi dbi = mdb_cursor_dbi(c);

	for (int i = 0; i < IDG__T_COUNT; i++)
		if (s->dbi[i] == dbi)
			return tables[i].name;
	return "cursor";
}

int
idg__cursor_put(struct idg__cursor *c, const void *key, size_t klen,
		const void *val, size_t vlen, unsigned flags,
		struct idg__err *e)
{
	MDB_cursor *mc = (MDB_cursor *)c;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc;

	if (!(flags & IDG__PUT_APPEND))
		rc = mdb_cursor_put(mc, &k, &v, 0);
	else if ((rc = mdb_cursor_put(mc, &k, &v, MDB_APPEND)) ==
		 MDB_KEYEXIST) {
		/* Out of order: an ordinary put finds the key's place. */
		rc = mdb_cursor_put(mc, &k, &v, MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST)
			return idg__err_set(e, IDG_ECORRUPT,
					    "%s: appending a key that exists",
					    cursor_table(mc));
	}
	return rc ? map_error(rc, e, cursor_table(mc)) : IDG_OK;
}

int
idg__store_del(struct idg__txn *t, int table, const void *key, size_t klen,
	       struct idg__err *e)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_del((MDB_txn *)t, txn_store(t)->dbi[table], &k, NULL);

	return rc ? map_error(rc, e, tables[table].name) : IDG_OK;
}

int
idg__store_count(struct idg__txn *t, int table, size_t *out,
		 struct idg__err *e)
{
	MDB_stat st;
	int rc = mdb_stat((MDB_txn *)t, txn_store(t)->dbi[table], &st);

	if (rc)
		return map_error(rc, e, tables[table].name);
	*out = st.ms_entries;
	return IDG_OK;
}

int
idg__cursor_open(struct idg__txn *t, int table, struct idg__cursor **out,
		 struct idg__err *e)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open((MDB_txn *)t, txn_store(t)->dbi[table], &c);

	if (rc) {
		*out = NULL;
		return map_error(rc, e, tables[table].name);
	}
	*out = (struct idg__cursor *)c;
	return IDG_OK;
}

void
idg__cursor_close(struct idg__cursor *c)
{
	if (c)
		mdb_cursor_close((MDB_cursor *)c);
}

int
idg__cursor_get(struct idg__cursor *c, int op, struct idg__val *key,
		struct idg__val *val, struct idg__err *e)
{
	static const MDB_cursor_op ops[] = {
	    [IDG__FIRST] = MDB_FIRST,		[IDG__LAST] = MDB_LAST,
	    [IDG__NEXT] = MDB_NEXT,		[IDG__PREV] = MDB_PREV,
	    [IDG__SET_KEY] = MDB_SET_KEY,	[IDG__SET_RANGE] = MDB_SET_RANGE,
	    [IDG__NEXT_DUP] = MDB_NEXT_DUP,
	};
	MDB_val k = {0, NULL}, v = {0, NULL};
	int rc;

	if (key) {
		k.mv_size = key->n;
		k.mv_data = (void *)key->p;
	}
	rc = mdb_cursor_get((MDB_cursor *)c, &k, &v, ops[op]);
	if (rc)
		return map_error(rc, e, "cursor");
	if (key) {
		key->p = k.mv_data;
		key->n = k.mv_size;
	}
	if (val) {
		val->p = v.mv_data;
		val->n = v.mv_size;
	}
	return IDG_OK;
}

int
idg__cursor_floor(struct idg__cursor *c, struct idg__val *key,
		  struct idg__val *val, struct idg__err *e)
{
	MDB_cursor *mc = (MDB_cursor *)c;
	MDB_val want = {key->n, (void *)key->p}, k = want, v;
	int rc = mdb_cursor_get(mc, &k, &v, MDB_SET_RANGE);

	/* The first key at or after it: the one before, unless equal. */
	if (rc == 0 && mdb_cmp(mdb_cursor_txn(mc), mdb_cursor_dbi(mc), &k,
			       &want) != 0)
		rc = mdb_cursor_get(mc, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(mc, &k, &v, MDB_LAST);
	if (rc)
		return map_error(rc, e, cursor_table(mc));
	key->p = k.mv_data;
	key->n = k.mv_size;
	if (val) {
		val->p = v.mv_data;
		val->n = v.mv_size;
	}
	return IDG_OK;
}

/* The store-only baseline's write transaction: begun on first use. */
static int
copy_begin(struct idg__store *dst, int table, MDB_txn **wt, MDB_cursor **out)
{
	int rc = 0;

	if (!*wt && (rc = mdb_txn_begin(dst->env, NULL, 0, wt)) != 0)
		*wt = NULL;
	if (rc == 0 && !*out)
		rc = mdb_cursor_open(*wt, dst->dbi[table], out);
	return rc;
}

int
idg__store_copy(struct idg__store *src, struct idg__store *dst,
		uint64_t commits, uint64_t *written, struct idg__err *e)
{
	MDB_txn *rt = NULL, *wt = NULL;
	MDB_cursor *in = NULL, *out = NULL;
	MDB_stat st;
	MDB_val k, v;
	uint64_t total = 0, per, n = 0;
	const char *what = "reading the source";
	int rc, i, dup;
	unsigned f;

	*written = 0;
	rc = mdb_txn_begin(src->env, NULL, MDB_RDONLY, &rt);
	for (i = 0; rc == 0 && i < IDG__T_COUNT; i++)
		if ((rc = mdb_stat(rt, src->dbi[i], &st)) == 0)
			total += st.ms_entries;
	per = total / (commits ? commits : 1) + 1;
	for (i = 0; rc == 0 && i < IDG__T_COUNT; i++) {
		dup = (tables[i].flags & MDB_DUPSORT) != 0;
		if ((rc = mdb_cursor_open(rt, src->dbi[i], &in)) != 0)
			break;
		rc = mdb_cursor_get(in, &k, &v, MDB_FIRST);
		for (f = MDB_APPEND; rc == 0;) {
			what = "writing the copy";
			if ((rc = copy_begin(dst, i, &wt, &out)) != 0 ||
			    (rc = mdb_cursor_put(out, &k, &v, f)) != 0)
				break;
			/* what was read stays in the page cache, not in this
			 * process's resident memory (as an ingest does) */
			if (n % 8192 == 0)
				idg__store_drop_pages(src);
			if (++n % per == 0) {
				/* out is the transaction's: it closes too */
				rc = mdb_txn_commit(wt);
				wt = NULL;
				out = NULL;
				if (rc)
					break;
			}
			what = "reading the source";
			/* a key's further values of a dup-sorted table append
			 * to its list; a new key, to the table */
			rc = dup ? mdb_cursor_get(in, &k, &v, MDB_NEXT_DUP)
				 : MDB_NOTFOUND;
			f = MDB_APPENDDUP;
			if (rc == MDB_NOTFOUND) {
				rc = mdb_cursor_get(in, &k, &v,
						    dup ? MDB_NEXT_NODUP
							: MDB_NEXT);
				f = MDB_APPEND;
			}
		}
		mdb_cursor_close(in);
		in = NULL;
		if (out)
			mdb_cursor_close(out);
		out = NULL;
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	mdb_txn_abort(rt);
	if (rc == 0 && wt) {
		what = "writing the copy";
		rc = mdb_txn_commit(wt);
		wt = NULL;
	}
	if (wt)
		mdb_txn_abort(wt);
	*written = n;
	return rc ? map_error(rc, e, what) : IDG_OK;
}
