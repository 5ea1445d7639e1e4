/*
 * test_store.c — the LMDB layer: append cursors and dropping mapped pages;
 * the files table's answer to "is a file of this size remembered".
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec_msgpack.h"
#include "files.h"
#include "idgraph.h"
#include "storefx.h"
#include "testutil.h"

#define S storefx

TestSuite(store, .init = fx_setup, .fini = fx_teardown);

static int
get_u64(struct idg__txn *t, uint64_t key, uint64_t *out)
{
	struct idg__val v;
	struct idg__err e = {0};
	int rc = idg__store_get(t, IDG__T_EVBODY, &key, sizeof(key), &v, &e);

	if (rc == IDG_OK)
		memcpy(out, v.p, sizeof(*out));
	return rc;
}

Test(store, append_cursor_writes_ascending_keys_and_finds_a_late_ones_place)
{
	struct idg__cursor *c;
	uint64_t keys[] = {1, 2, 5, 7, 3, 8}, got;

	cr_assert_eq(idg__cursor_open(S.t, IDG__T_EVBODY, &c, &S.e), IDG_OK);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uint64_t v = keys[i] * 10;

		cr_assert_eq(idg__cursor_put(c, &keys[i], sizeof(keys[i]), &v,
					     sizeof(v), IDG__PUT_APPEND, &S.e),
			     IDG_OK, "key %llu: %s",
			     (unsigned long long)keys[i], S.e.msg);
	}
	/* A key that exists is never overwritten by an append. */
	cr_assert_eq(idg__cursor_put(c, &keys[1], sizeof(keys[1]), &keys[0],
				     sizeof(keys[0]), IDG__PUT_APPEND, &S.e),
		     IDG_ECORRUPT);
	cr_assert(strstr(S.e.msg, "evbody"), "%s", S.e.msg);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		cr_assert_eq(get_u64(S.t, keys[i], &got), IDG_OK);
		cr_assert_eq(got, keys[i] * 10);
	}
	/* Without APPEND the cursor replaces a value in place. */
	got = 99;
	cr_assert_eq(idg__cursor_put(c, &keys[4], sizeof(keys[4]), &got,
				     sizeof(got), 0, &S.e),
		     IDG_OK);
	cr_assert_eq(get_u64(S.t, 3, &got), IDG_OK);
	cr_assert_eq(got, 99);
	idg__cursor_close(c);
}

#ifdef __linux__
/* Resident pages of mapped files, from /proc/self/status, in KiB. */
static long
rss_file_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssFile: %ld kB", &kb) == 1)
			break;
	fclose(f);
	cr_assert_geq(kb, 0);
	return kb;
}

Test(store, drop_pages_unmaps_what_reads_mapped)
{
	enum { N = 12000, VLEN = 2000 }; /* ~24 MB of leaf pages */
	static char val[VLEN];
	struct idg__txn *r;
	struct idg__val v;
	unsigned long sum = 0;
	long before, read, dropped;

	for (uint64_t k = 0; k < N; k++) {
		memset(val, (int)(k & 0xff), sizeof(val));
		cr_assert_eq(idg__store_put(S.t, IDG__T_EVBODY, &k, sizeof(k),
					    val, sizeof(val), IDG__PUT_APPEND,
					    &S.e),
			     IDG_OK, "%s", S.e.msg);
	}
	cr_assert_eq(idg__store_commit(S.t, &S.e), IDG_OK, "%s", S.e.msg);
	S.t = NULL;
	idg__store_drop_pages(S.s);
	before = rss_file_kb();
	cr_assert_eq(idg__store_begin(S.s, 0, &r, &S.e), IDG_OK);
	for (uint64_t k = 0; k < N; k++) {
		cr_assert_eq(idg__store_get(r, IDG__T_EVBODY, &k, sizeof(k), &v,
					    &S.e),
			     IDG_OK);
		sum += ((const unsigned char *)v.p)[VLEN / 2];
	}
	read = rss_file_kb();
	/* Dropped while the reader is open: it reads on, faulting in. */
	idg__store_drop_pages(S.s);
	dropped = rss_file_kb();
	cr_assert_eq(idg__store_get(r, IDG__T_EVBODY, &(uint64_t){7},
				    sizeof(uint64_t), &v, &S.e),
		     IDG_OK);
	cr_assert_eq(((const unsigned char *)v.p)[0], 7);
	idg__store_abort(r);
	cr_assert_gt(sum, 0);
	cr_assert_gt(read - before, 16 * 1024, "reading mapped %ld KiB",
		     read - before);
	cr_assert_lt(dropped - before, 2 * 1024,
		     "still mapped after the drop: %ld KiB", dropped - before);
}
#endif

#include <lmdb.h>

/* Opens an LMDB environment at dir with LMDB itself, in a write txn. */
static MDB_env *
lmdb_at(const char *dir, MDB_txn **txn)
{
	MDB_env *env;

	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 32), 0);
	cr_assert_eq(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
	cr_assert_eq(mdb_env_open(env, dir, 0, 0666), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, txn), 0);
	return env;
}

static char *
data_path(const char *dir)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return path;
}

/* Removes table name from the environment at dir, with LMDB itself. */
static void
drop_table(const char *dir, const char *name)
{
	MDB_txn *txn;
	MDB_env *env = lmdb_at(dir, &txn);
	MDB_dbi dbi;

	cr_assert_eq(mdb_dbi_open(txn, name, 0, &dbi), 0);
	cr_assert_eq(mdb_drop(txn, dbi, 1), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

Test(store, a_database_of_an_older_layout_is_refused_and_left_alone)
{
	struct idg__store *s = NULL;
	struct idg__err e = {0};

	cr_assert_eq(idg__store_commit(S.t, &S.e), IDG_OK);
	S.t = NULL;
	idg__store_close(S.s);
	S.s = NULL;
	drop_table(S.dir, "pkeys"); /* what an idgraph of format 1 made */
	for (int rdonly = 0; rdonly < 2; rdonly++) {
		cr_assert_eq(idg__store_open(&s, S.dir,
					     rdonly ? IDG__STORE_RDONLY : 0, &e),
			     IDG_EFORMAT, "read-only: %d", rdonly);
		cr_assert(strstr(e.msg, "older idgraph"), "%s", e.msg);
		cr_assert_null(s);
	}
}

Test(store, a_database_of_another_format_is_refused_by_idg_open)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	char *dir = tu_tmpdir();
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {6, "format"}, v;
	int64_t format = 2; /* 0.2.0's: bodies one per event */
	idg_db *db;

	o.flags = IDG_OPEN_CREATE;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_OK);
	idg_close(db);
	/* The meta table's format, set back with LMDB itself. */
	env = lmdb_at(dir, &txn);
	cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	v.mv_size = sizeof(format);
	v.mv_data = &format;
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	o.flags = 0;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_EFORMAT);
	cr_assert_null(db);
	o.flags = IDG_OPEN_RDONLY;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_EFORMAT);
	cr_assert_str_eq(idg_strerror(IDG_EFORMAT),
			 "the database was made by another version of "
			 "idgraph");
	tu_rmdir(dir);
}

Test(store, floor_finds_the_last_key_not_after_a_key)
{
	struct idg__cursor *c;
	uint64_t keys[] = {10, 20, 30}, want, v = 0;
	uint64_t probe[] = {5, 10, 15, 29, 30, 1000};
	uint64_t got[] = {0, 10, 10, 20, 30, 30}; /* 0: none */
	struct idg__val k = {&want, sizeof(want)};

	cr_assert_eq(idg__cursor_open(S.t, IDG__T_EVBODY, &c, &S.e), IDG_OK);
	want = 10;
	cr_assert_eq(idg__cursor_floor(c, &k, NULL, &S.e), IDG_ENOTFOUND,
		     "an empty table");
	for (int i = 0; i < 3; i++)
		cr_assert_eq(idg__cursor_put(c, &keys[i], sizeof(keys[i]), &v,
					     sizeof(v), IDG__PUT_APPEND, &S.e),
			     IDG_OK);
	for (int i = 0; i < 6; i++) {
		uint64_t found = 0;

		want = probe[i];
		k.p = &want;
		k.n = sizeof(want);
		cr_assert_eq(idg__cursor_floor(c, &k, NULL, &S.e),
			     got[i] ? IDG_OK : IDG_ENOTFOUND, "floor of %llu",
			     (unsigned long long)probe[i]);
		if (got[i]) {
			memcpy(&found, k.p, sizeof(found));
			cr_assert_eq(found, got[i], "floor of %llu",
				     (unsigned long long)probe[i]);
		}
	}
	idg__cursor_close(c);
}

/*
 * Whether a file of a size is remembered decides if an ingest may hash
 * the file beside its work (no: it is hashed first, and looked up). An
 * entry that does not decode answers yes, so the lookup by hash judges it.
 */
Test(store, files_of_a_size_are_found_and_a_corrupt_entry_counts_as_one)
{
	unsigned char k1[IDG__HASH_BYTES] = {1}, k2[IDG__HASH_BYTES] = {2};
	struct idg__file f = {.name = "a.jsonl", .name_len = 7, .size = 1000};
	struct idg__mpw *w = idg__mpw_new();
	int known = -1;

	cr_assert_not_null(w);
	cr_assert_eq(idg__files_size_known(S.t, 1000, &known, &S.e), IDG_OK);
	cr_assert_eq(known, 0, "an empty table knows no size");
	cr_assert_eq(idg__files_put(S.t, k1, &f, w, &S.e), IDG_OK);
	f.size = 5000;
	cr_assert_eq(idg__files_put(S.t, k2, &f, w, &S.e), IDG_OK);
	cr_assert_eq(idg__files_size_known(S.t, 1000, &known, &S.e), IDG_OK);
	cr_assert_eq(known, 1);
	cr_assert_eq(idg__files_size_known(S.t, 5000, &known, &S.e), IDG_OK);
	cr_assert_eq(known, 1);
	cr_assert_eq(idg__files_size_known(S.t, 999, &known, &S.e), IDG_OK);
	cr_assert_eq(known, 0);
	cr_assert_eq(idg__store_put(S.t, IDG__T_FILES, k1, IDG__HASH_BYTES,
				    "x", 1, 0, &S.e),
		     IDG_OK);
	cr_assert_eq(idg__files_size_known(S.t, 999, &known, &S.e), IDG_OK);
	cr_assert_eq(known, 1, "a corrupt entry may be any file's");
	idg__mpw_free(w);
}

/* ---- damaged and foreign databases ---- */

/* An empty data.mdb (a full disk, a copy cut short): refused, also by a
 * creating open, which once made a new database of default settings in
 * its place (a legacy database came back in original mode). */
Test(store, an_empty_data_file_is_refused)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg__store *s = NULL;
	struct idg__err e = {0};
	FILE *fp = fopen(data_path(dir), "w");
	idg_db *db;

	cr_assert_not_null(fp);
	fclose(fp);
	for (unsigned f = 0; f < 3; f++) {
		cr_assert_eq(idg__store_open(&s, dir, f, &e), IDG_ECORRUPT,
			     "flags %u", f);
		cr_assert(strstr(e.msg, "is empty"), "%s", e.msg);
	}
	o.flags = IDG_OPEN_CREATE;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_ECORRUPT);
	cr_assert(strstr(idg_open_errmsg(), "is empty"), "%s",
		  idg_open_errmsg());
	tu_rmdir(dir);
}

/* Puts n keys of META with values of vlen bytes (0: deletes them). */
static void
meta_keys(struct idg__txn *t, int n, size_t vlen)
{
	static char val[600];
	struct idg__err e = {0};
	char key[16];

	cr_assert_leq(vlen, sizeof(val));
	memset(val, 'v', sizeof(val));
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "k%06d", i);
		if (vlen)
			cr_assert_eq(idg__store_put(t, IDG__T_META, key,
						    strlen(key), val, vlen, 0,
						    &e),
				     IDG_OK, "%s", e.msg);
		else
			cr_assert_eq(idg__store_del(t, IDG__T_META, key,
						    strlen(key), &e),
				     IDG_OK, "%s", e.msg);
	}
}

/* The bytes of data.mdb, and the bytes its last commit's pages take. */
static void
data_sizes(const char *dir, long long *size, long long *pages)
{
	MDB_txn *txn;
	MDB_env *env = lmdb_at(dir, &txn);
	MDB_envinfo info;
	MDB_stat ms;
	struct stat st;

	cr_assert_eq(mdb_env_info(env, &info), 0);
	cr_assert_eq(mdb_env_stat(env, &ms), 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	cr_assert_eq(stat(data_path(dir), &st), 0);
	*size = (long long)st.st_size;
	*pages = ((long long)info.me_last_pgno + 1) * ms.ms_psize;
}

/* The page size of the environment at dir. */
static long long
page_size(const char *dir)
{
	MDB_txn *txn;
	MDB_env *env = lmdb_at(dir, &txn);
	MDB_stat ms;

	cr_assert_eq(mdb_env_stat(env, &ms), 0);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return ms.ms_psize;
}

/* Every kind of open refuses dir as damaged, saying why and what to do. */
static void
refused_as_damaged(const char *dir, const char *why)
{
	struct idg__store *s = NULL;
	struct idg__err e = {0};

	for (unsigned f = 0; f < 3; f++) {
		cr_assert_eq(idg__store_open(&s, dir, f, &e), IDG_ECORRUPT,
			     "flags %u: %s", f, e.msg);
		cr_assert(strstr(e.msg, why) &&
			      strstr(e.msg, "restore it from a copy"),
			  "%s", e.msg);
	}
}

/*
 * Damage LMDB sees (pages of zeros where the tables were): every open
 * says the database is damaged and to restore it (it once said
 * MDB_BAD_TXN); a file shorter than its two meta pages, that it may be
 * cut short.
 */
Test(store, a_damaged_data_file_says_so)
{
	long long psize, size, pages;
	FILE *fp;

	meta_keys(S.t, 2000, 25);
	cr_assert_eq(idg__store_commit(S.t, &S.e), IDG_OK);
	S.t = NULL;
	idg__store_close(S.s);
	S.s = NULL;
	psize = page_size(S.dir);
	data_sizes(S.dir, &size, &pages);
	cr_assert_gt(size, 4 * psize);
	cr_assert_not_null(fp = fopen(data_path(S.dir), "r+b"));
	cr_assert_eq(fseek(fp, 2 * psize, SEEK_SET), 0);
	for (long long i = 2 * psize; i < size; i++)
		cr_assert_neq(fputc(0, fp), EOF);
	cr_assert_eq(fclose(fp), 0);
	refused_as_damaged(S.dir, "MDB_CORRUPTED");
	cr_assert_eq(truncate(data_path(S.dir), psize), 0);
	refused_as_damaged(S.dir, "cut short");
}

/* Puts (vlen > 0) or deletes key of META, in a transaction of its own. */
static void
lmdb_meta(const char *dir, const char *key, size_t vlen)
{
	static char val[100000];
	MDB_txn *txn;
	MDB_env *env = lmdb_at(dir, &txn);
	MDB_dbi dbi;
	MDB_val k = {strlen(key), (void *)key}, v = {vlen, val};

	cr_assert_leq(vlen, sizeof(val));
	cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	if (vlen)
		cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	else
		cr_assert_eq(mdb_del(txn, dbi, &k, NULL), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* The bytes of the free pages that end the environment at dir. */
static long long
free_at_end(const char *dir)
{
	static unsigned char is_free[1 << 16];
	MDB_txn *txn;
	MDB_env *env = lmdb_at(dir, &txn);
	MDB_envinfo info;
	MDB_stat ms;
	MDB_cursor *c;
	MDB_val k, v;
	size_t n = 0;

	memset(is_free, 0, sizeof(is_free));
	cr_assert_eq(mdb_env_info(env, &info), 0);
	cr_assert_eq(mdb_env_stat(env, &ms), 0);
	cr_assert_lt(info.me_last_pgno, sizeof(is_free));
	/* The free list (table 0) has cursors in read transactions only. */
	mdb_txn_abort(txn);
	cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	cr_assert_eq(mdb_cursor_open(txn, 0, &c), 0);
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		/* A count, then the pages (LMDB's MDB_ID is a size_t). */
		const size_t *ids = v.mv_data;

		for (size_t i = 1; i <= ids[0]; i++)
			if (ids[i] < sizeof(is_free))
				is_free[ids[i]] = 1;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	while (n < info.me_last_pgno && is_free[info.me_last_pgno - n])
		n++;
	return (long long)n * ms.ms_psize;
}

/*
 * LMDB never writes the pages a transaction allocates and frees, so a
 * valid data.mdb can lack free pages at its end: every open takes it (a
 * check of the file's size once refused such a file). The test makes one
 * by cutting off free pages.
 */
Test(store, a_data_file_short_of_free_pages_opens)
{
	struct idg__store *s = NULL;
	struct idg__txn *t;
	struct idg__val v;
	struct idg__err e = {0};
	long long size, pages, cut;

	cr_assert_eq(idg__store_commit(S.t, &S.e), IDG_OK);
	S.t = NULL;
	idg__store_close(S.s);
	S.s = NULL;
	lmdb_meta(S.dir, "big", 100000);
	lmdb_meta(S.dir, "big", 0);
	lmdb_meta(S.dir, "kept", 3);
	lmdb_meta(S.dir, "kept", 4);
	cut = free_at_end(S.dir);
	cr_assert_geq(cut, 8 * 4096, "the case to test: free pages at the end");
	for (unsigned f = 0; f < 3; f++) {
		data_sizes(S.dir, &size, &pages);
		cr_assert_eq(truncate(data_path(S.dir), pages - cut), 0);
		cr_assert_eq(idg__store_open(&s, S.dir, f, &e), IDG_OK,
			     "flags %u: %s", f, e.msg);
		cr_assert_eq(idg__store_begin(s, f != IDG__STORE_RDONLY, &t,
					      &e),
			     IDG_OK);
		cr_assert_eq(idg__store_get(t, IDG__T_META, "kept", 4, &v, &e),
			     IDG_OK, "%s", e.msg);
		cr_assert_eq(v.n, 4);
		if (f == IDG__STORE_RDONLY) {
			idg__store_abort(t);
		} else {
			meta_keys(t, 10, 100);
			cr_assert_eq(idg__store_commit(t, &e), IDG_OK, "%s",
				     e.msg);
		}
		idg__store_close(s);
		cut = free_at_end(S.dir);
	}
}

/* Another program's LMDB database: never taken over, even by init. */
Test(store, another_programs_lmdb_database_is_left_alone)
{
	char *dir = tu_tmpdir();
	struct idg__store *s = NULL;
	struct idg__err e = {0};
	MDB_txn *txn;
	MDB_env *env = lmdb_at(dir, &txn);
	MDB_dbi dbi;
	MDB_val k = {3, "key"}, v = {5, "value"};

	cr_assert_eq(mdb_dbi_open(txn, "theirs", MDB_CREATE, &dbi), 0);
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	cr_assert_eq(idg__store_open(&s, dir, IDG__STORE_CREATE, &e),
		     IDG_ECORRUPT);
	cr_assert(strstr(e.msg, "another program"), "%s", e.msg);
	cr_assert_eq(idg__store_open(&s, dir, 0, &e), IDG_ECORRUPT);
	cr_assert(strstr(e.msg, "not an idgraph database"), "%s", e.msg);
	/* Nothing was added to it. */
	env = lmdb_at(dir, &txn);
	cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &dbi), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	tu_rmdir(dir);
}

/* Empties the meta table (drop_all 1) or removes only its format. */
static void
damage_meta(const char *dir, int drop_all)
{
	MDB_txn *txn;
	MDB_env *env = lmdb_at(dir, &txn);
	MDB_dbi dbi;
	MDB_val k = {6, "format"};

	cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	if (drop_all)
		cr_assert_eq(mdb_drop(txn, dbi, 0), 0);
	else
		cr_assert_eq(mdb_del(txn, dbi, &k, NULL), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/*
 * Tables without settings (an init killed between its two transactions)
 * are an unfinished database: no open but a creating one takes them (one
 * once wrote the default settings in silence), and that one finishes
 * them, with its own settings. A creating open with bad settings makes
 * no table at all. Settings that lost only their format are damage, which
 * no open mends (init would have given a legacy database original mode).
 */
Test(store, a_database_without_settings_is_finished_by_init_only)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_info in;
	char *dir = tu_tmpdir();
	idg_db *db;

	o.flags = IDG_OPEN_CREATE;
	o.mode = 99;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_EINVAL);
	cr_assert(strstr(idg_open_errmsg(), "unknown mode"), "%s",
		  idg_open_errmsg());
	o.flags = 0;
	o.mode = IDG_MODE_ORIGINAL;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_ENODB, "no table was made");

	o.flags = IDG_OPEN_CREATE;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_OK);
	cr_assert_str_eq(idg_open_errmsg(), "");
	idg_close(db);
	damage_meta(dir, 1);
	o.flags = 0;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_ENODB);
	cr_assert(strstr(idg_open_errmsg(), "unfinished"), "%s",
		  idg_open_errmsg());
	o.flags = IDG_OPEN_RDONLY;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_ENODB);
	o.flags = IDG_OPEN_CREATE;
	o.mode = IDG_MODE_LEGACY;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_OK);
	cr_assert_eq(idg_info(db, &in), 0);
	cr_assert_eq(in.mode, IDG_MODE_LEGACY);

	tu_ingestf(db, "{\"event\":\"e\",\"properties\":{"
		       "\"distinct_id\":\"u\",\"time\":1700000000}}\n");
	idg_close(db);

	damage_meta(dir, 0);
	for (unsigned f = 0; f < 3; f++) {
		o.flags = f == 2 ? IDG_OPEN_RDONLY : f;
		o.mode = IDG_MODE_ORIGINAL;
		cr_assert_eq(idg_open(&db, dir, &o), IDG_ECORRUPT, "flags %u",
			     f);
		cr_assert(strstr(idg_open_errmsg(), "damaged"), "%s",
			  idg_open_errmsg());
	}
	/* Records and no settings at all: damage too. */
	damage_meta(dir, 1);
	o.flags = IDG_OPEN_CREATE;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_ECORRUPT);
	cr_assert(strstr(idg_open_errmsg(), "damaged"), "%s",
		  idg_open_errmsg());
	tu_rmdir(dir);
}

/* A file where a database directory should be, and an empty path. */
Test(store, a_file_or_no_path_is_no_database)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	idg_db *db;
	FILE *fp;

	cr_assert_eq(idg_open(&db, data_path(dir), &o), IDG_ENODB);
	fp = fopen(data_path(dir), "w");
	cr_assert_not_null(fp);
	fclose(fp);
	cr_assert_eq(idg_open(&db, data_path(dir), &o), IDG_ENODB);
	cr_assert(strstr(idg_open_errmsg(), "is a file"), "%s",
		  idg_open_errmsg());
	cr_assert_eq(idg_open(&db, "", &o), IDG_ENODB);
	cr_assert(strstr(idg_open_errmsg(), "no database path"), "%s",
		  idg_open_errmsg());
	tu_rmdir(dir);
}
