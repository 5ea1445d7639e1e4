/*
 * cmd_bench.c — idgraph bench: the standard suite on a generated workload,
 * with its baselines measured in the same run on the same files.
 *
 * The workload (gen.h, the standard seed and no noise) is written to a
 * temporary directory twice, as JSON lines and as MessagePack. Each of the
 * --runs runs then ingests both into fresh databases (durable batch
 * commits, idg_ingest_file), times the parse floor of both files with
 * idg_parse_only (the same parsers as ingest, walking every record with
 * no database behind them), times the store floor of the JSONL database
 * with idg_store_only (LMDB alone writing its records into a new one, in
 * key order, with as many durable commits), and replays the
 * workload's identity events alone into a third database. The queries run
 * on the last JSONL database with one warm handle. The merges that the
 * identity log says were applied are then fed to an in-memory union-find
 * (uf.h), which is both a baseline and a check: its sets must be exactly
 * the engine's clusters. networkx and SQLite work on the same edges through
 * bench/baselines.py. Each timed figure is the median of the runs; every
 * figure is printed with its ratio to its baseline, since absolute times
 * on shared machines move from run to run.
 */
#define _DEFAULT_SOURCE /* wait4 */

#include "cli_bench.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IDG_BENCH_SOURCE_DIR
#define IDG_BENCH_SOURCE_DIR "bench"
#endif

static const char *const funnel_steps[FUNNEL_STEPS] = {
    "Product View", "Add To Cart", "Purchase"};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bench_median(const struct timing *t)
{
	double s[MAX_RUNS];

	if (t->n == 0)
		return -1;
	memcpy(s, t->s, sizeof(double) * (size_t)t->n);
	qsort(s, (size_t)t->n, sizeof(double), cmp_double);
	return t->n % 2 ? s[t->n / 2] : (s[t->n / 2 - 1] + s[t->n / 2]) / 2;
}

static void
record(struct timing *t, double seconds)
{
	if (t->n < MAX_RUNS)
		t->s[t->n++] = seconds;
}

/* dir/name into out, PATH_MAX bytes; make_dir() keeps every dir short. */
static void
join(char *out, const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		out[0] = '\0';
}

static uint64_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Disk use of a file, as du counts it. */
static uint64_t
disk_use(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

/*
 * Runs argv as a child with its stdout in out (NUL-terminated, cut at
 * size); its stderr goes to ours. Returns its exit status, 127 when it
 * could not be started, -1 on a failure here.
 */
static int
run_child(char *const argv[], char *out, size_t size, struct rusage *ru)
{
	int fd[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	out[0] = '\0';
	if (pipe(fd) != 0)
		return -1;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		close(fd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	while ((n = read(fd[0], out + len, size - 1 - len)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			len += (size_t)n;
	out[len] = '\0';
	close(fd[0]);
	while (wait4(pid, &status, 0, ru) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ------------------------------------------------------------------ */
/* The workload                                                        */

static int
write_workload(struct bench *b, const char *path, int format, struct gen **keep)
{
	struct gen_opts o = {b->records, b->seed, 0, format};
	struct gen *g = gen_new(&o);
	FILE *fp = g ? fopen(path, "wb") : NULL;
	int rc;

	if (!g)
		return fail("out of memory");
	if (!fp) {
		gen_free(g);
		return fail("cannot create %s: %s", path, strerror(errno));
	}
	rc = gen_write(g, fp);
	/* On disk before the timed runs: the kernel's writeback of these
	 * files would otherwise compete with the first run's fsyncs. */
	if (rc == 0 && fsync(fileno(fp)) != 0)
		rc = IDG_EIO;
	if (fclose(fp) != 0 && rc == 0)
		rc = IDG_EIO;
	if (rc != 0) {
		gen_free(g);
		return fail("cannot write %s: %s", path, idg_strerror(rc));
	}
	if (keep)
		*keep = g;
	else
		gen_free(g);
	return 0;
}

/* The workload's identity events alone, for the replay that measures the
 * engine's graph work (the generator writes "event" first). */
static int
write_identity_file(struct bench *b)
{
	static const char *const prefixes[] = {"{\"event\":\"$identify\"",
					       "{\"event\":\"$create_alias\"",
					       "{\"event\":\"$merge\""};
	FILE *in = fopen(b->jsonl, "rb"), *out = fopen(b->ident, "wb");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (!in || !out) {
		rc = fail("cannot write %s: %s", b->ident, strerror(errno));
		goto out;
	}
	while ((n = getline(&line, &cap, in)) > 0)
		for (size_t k = 0; k < 3; k++)
			if (strncmp(line, prefixes[k], strlen(prefixes[k])) ==
			    0) {
				fwrite(line, 1, (size_t)n, out);
				b->ident_records++;
			}
	if (ferror(in) || ferror(out) || fflush(out) != 0 ||
	    fsync(fileno(out)) != 0)
		rc = fail("cannot write %s: %s", b->ident, strerror(errno));
out:
	free(line);
	if (in)
		fclose(in);
	if (out && fclose(out) != 0 && rc == 0)
		rc = fail("cannot write %s: %s", b->ident, strerror(errno));
	return rc;
}

/* Every id the workload named, and the random order resolve asks them in. */
static int
collect_ids(struct bench *b)
{
	uint64_t x = b->seed ^ UINT64_C(0x5deece66d), tlen = 0;
	char buf[128];

	b->nids = gen_id_count(b->gen);
	b->idoff = malloc((b->nids + 1) * sizeof(*b->idoff));
	b->idtext = malloc(b->nids * 64 + 1);
	b->nlookups = b->records < 100000 ? 100000 : b->records;
	if (b->nlookups > 2000000)
		b->nlookups = 2000000;
	b->lookups = malloc(b->nlookups * sizeof(*b->lookups));
	if (!b->idoff || !b->idtext || !b->lookups || b->nids == 0 ||
	    b->nids > UINT32_MAX)
		return fail("out of memory");
	for (uint64_t k = 0; k < b->nids; k++) {
		size_t n = gen_id(b->gen, k, buf, sizeof buf);

		if (n >= 64)
			n = 63;
		b->idoff[k] = tlen;
		memcpy(b->idtext + tlen, buf, n);
		tlen += n;
	}
	b->idoff[b->nids] = tlen;
	for (uint64_t k = 0; k < b->nlookups; k++) {
		/* An LCG is enough to scatter the lookups. */
		x = x * UINT64_C(6364136223846793005) +
		    UINT64_C(1442695040888963407);
		b->lookups[k] = (uint32_t)((x >> 33) % b->nids);
	}
	return 0;
}

static int
make_workload(struct bench *b)
{
	int rc;

	/* Same options but the format: the same records (gen.h). */
	if ((rc = write_workload(b, b->jsonl, IDG_FORMAT_JSONL, &b->gen)) ||
	    (rc = write_workload(b, b->msgpack, IDG_FORMAT_MSGPACK, NULL)))
		return rc;
	b->counts = *gen_counts(b->gen);
	b->msgpack_bytes = file_size(b->msgpack);
	if ((rc = write_identity_file(b)) != 0)
		return rc;
	return collect_ids(b);
}

/* ------------------------------------------------------------------ */
/* Timed runs                                                          */

/* Resident anonymous memory now, in kB (Linux), or -1: unlike the peak,
 * it leaves out the database's pages that LMDB maps from the file. */
static long
rss_anon_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (fp && fgets(line, sizeof line, fp))
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	if (fp)
		fclose(fp);
	return kb;
}

static void
record_stages(struct stage_times *t, const struct idg_ingest_stats *st)
{
	record(&t->parse_busy, st->parse_busy);
	record(&t->parse_wait, st->parse_wait);
	record(&t->apply_busy, st->apply_busy);
	record(&t->apply_wait, st->apply_wait);
	record(&t->commit, st->commit_seconds);
}

/* Ingests file into a fresh database at dir; seconds of the ingest. The
 * anonymous memory is sampled before the handle closes, caches and all. */
static int
ingest(struct bench *b, const char *dir, const char *file, int format,
       int threads, double *seconds, struct idg_ingest_stats *st,
       struct idg_graph_stats *gs)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	idg_db *db = NULL;
	double t0;
	int rc;

	remove_tree(dir);
	o.flags = IDG_OPEN_CREATE;
	if ((rc = open_db(&db, dir, &o, 0)) != 0)
		return rc;
	io.format = format;
	io.threads = threads;
	t0 = now();
	rc = idg_ingest_file(db, file, &io, st);
	*seconds = now() - t0;
	if (rss_anon_kb() > b->rss_anon_kb)
		b->rss_anon_kb = rss_anon_kb();
	if (rc == 0)
		rc = idg_graph_stats(db, gs);
	if (rc != 0) {
		fail("cannot ingest %s: %s", file, detail(db, rc));
		idg_close(db);
		return EXIT_FAILURE;
	}
	idg_close(db);
	return 0;
}

/* The path of a helper: the environment's, else the one meson built. */
static const char *
helper_path(const char *env, const char *dir, const char *name, char *buf,
	    size_t size)
{
	const char *p = getenv(env);

	if (p && *p)
		return p;
	(void)size;
	join(buf, dir, name);
	return buf;
}

/* The engine's parser alone over file (idg_parse_only); < 0 on failure. */
static double
parse_only(struct bench *b, int format, const char *file)
{
	FILE *fp = fopen(file, "rb");
	uint64_t records;
	double t0, t1;
	int rc;

	if (!fp) {
		snprintf(b->parse_why, sizeof b->parse_why,
			 "parse-only skipped: cannot open %.150s", file);
		return -1;
	}
	t0 = now();
	rc = idg_parse_only(fp, format, &records);
	t1 = now();
	fclose(fp);
	if (rc != IDG_OK) {
		snprintf(b->parse_why, sizeof b->parse_why,
			 "parse-only skipped: %s", idg_strerror(rc));
		return -1;
	}
	return t1 - t0;
}

/*
 * LMDB alone storing what the JSONL ingest stored (idg_store_only): its
 * records, in key order, in as many durable commits as the ingest had
 * batches. The floor of the ingest's apply stage; the copy must hold the
 * same graph and profiles as the database it was made from.
 */
static int
store_only(struct bench *b)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	idg_db *db = NULL;
	double t0;
	int rc;

	remove_tree(b->dbs);
	if ((rc = open_db(&db, b->dbj, &o, 0)) != 0)
		return rc;
	t0 = now();
	rc = idg_store_only(db, b->dbs, b->st_j.batches, &b->store_records);
	if (rc == 0)
		record(&b->t_store, now() - t0);
	else
		fail("cannot copy %s: %s", b->dbj, detail(db, rc));
	idg_close(db);
	if (rc == 0 && (rc = open_db(&db, b->dbs, &o, 0)) == 0) {
		if ((rc = idg_graph_stats(db, &b->gs_s)) != 0)
			fail("cannot read the copy %s: %s", b->dbs,
			     detail(db, rc));
		idg_close(db);
	}
	remove_tree(b->dbs);
	return rc ? EXIT_FAILURE : 0;
}

static int
one_run(struct bench *b)
{
	double s, pj, pm;
	int rc;


	if ((rc = ingest(b, b->dbj, b->jsonl, IDG_FORMAT_JSONL, 0, &s,
			 &b->st_j, &b->gs_j)) != 0)
		return rc;
	record(&b->t_jsonl, s);
	record_stages(&b->sg_j, &b->st_j);
	if ((rc = store_only(b)) != 0)
		return rc;
	if ((rc = ingest(b, b->dbm, b->jsonl, IDG_FORMAT_JSONL, 1, &s,
			 &b->st_j1, &b->gs_j1)) != 0)
		return rc;
	record(&b->t_jsonl1, s);
	remove_tree(b->dbm);
	if ((rc = ingest(b, b->dbm, b->msgpack, IDG_FORMAT_MSGPACK, 0, &s,
			 &b->st_m, &b->gs_m)) != 0)
		return rc;
	record(&b->t_msgpack, s);
	record_stages(&b->sg_m, &b->st_m);
	remove_tree(b->dbm);
	if ((rc = ingest(b, b->dbi, b->ident, IDG_FORMAT_JSONL, 0, &s,
			 &b->st_i, &b->gs_i)) != 0)
		return rc;
	record(&b->t_ident, s);
	remove_tree(b->dbi);
	if (!b->parse_skipped) {
		pj = parse_only(b, IDG_FORMAT_JSONL, b->jsonl);
		pm =
		    pj < 0 ? -1 : parse_only(b, IDG_FORMAT_MSGPACK, b->msgpack);
		if (pj < 0 || pm < 0) {
			b->parse_skipped = 1;
		} else {
			record(&b->t_parse_j, pj);
			record(&b->t_parse_m, pm);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Queries on the JSONL database                                       */

static int
time_resolve(struct bench *b, idg_db *db, int timed)
{
	struct idg_resolution r;
	double t0 = now();
	uint64_t found = 0;

	for (uint64_t k = 0; k < b->nlookups; k++) {
		uint32_t i = b->lookups[k];
		int rc = idg_resolve(db, b->idtext + b->idoff[i],
				     b->idoff[i + 1] - b->idoff[i], IDG_NOW,
				     IDG_VIEW_LIVE, &r);

		if (rc == 0)
			found++;
		else if (rc != IDG_ENOTFOUND)
			return fail("cannot resolve: %s", detail(db, rc));
	}
	if (timed)
		record(&b->t_resolve, now() - t0);
	b->resolved = found;
	return 0;
}

static int
time_reports(struct bench *b, idg_db *db, int timed)
{
	struct idg_report_opts ro = IDG_REPORT_OPTS_INIT;
	struct idg_funnel_opts fo = IDG_FUNNEL_OPTS_INIT;
	double t0 = now();
	int rc = idg_report_uniques(db, &ro, &b->uniq, NULL, NULL);

	if (rc != 0)
		return fail("uniques report failed: %s", detail(db, rc));
	if (timed)
		record(&b->t_uniques, now() - t0);
	fo.steps = funnel_steps;
	fo.nsteps = FUNNEL_STEPS;
	t0 = now();
	if ((rc = idg_report_funnel(db, &fo, b->funnel, NULL)) != 0)
		return fail("funnel report failed: %s", detail(db, rc));
	if (timed)
		record(&b->t_funnel, now() - t0);
	return 0;
}

/* The events export in JSONL, written to /dev/null: the engine's work
 * without the disk's. */
static int
time_export(struct bench *b, idg_db *db, int timed)
{
	FILE *fp = fopen("/dev/null", "w");
	double t0 = now();
	int rc;

	if (!fp)
		return fail("cannot open /dev/null: %s", strerror(errno));
	rc = idg_export_events(db, fp, NULL, &b->exported);
	fclose(fp);
	if (rc != 0)
		return fail("events export failed: %s", detail(db, rc));
	if (timed)
		record(&b->t_export, now() - t0);
	return 0;
}

static int
on_log(void *user, const struct idg_log_entry *e)
{
	struct bench *b = user;
	size_t a = e->ids_len[0], c = e->ids_len[1];

	if (e->outcome != IDG_OUTCOME_MERGED)
		return 0;
	if (b->elen + a + c + 2 > b->ecap) {
		size_t cap = b->ecap ? b->ecap * 2 : 65536;
		char *p;

		while (cap < b->elen + a + c + 2)
			cap *= 2;
		if ((p = realloc(b->etext, cap)) == NULL)
			return 1;
		b->etext = p;
		b->ecap = cap;
	}
	/* "a\tb\n": the edge list file and the union-find's input. */
	memcpy(b->etext + b->elen, e->ids[0], a);
	b->etext[b->elen + a] = '\t';
	memcpy(b->etext + b->elen + a + 1, e->ids[1], c);
	b->etext[b->elen + a + c + 1] = '\n';
	b->elen += a + c + 2;
	b->nedges++;
	return 0;
}

static int
queries(struct bench *b)
{
	char path[PATH_MAX];
	idg_db *db = NULL;
	struct rusage ru;
	int rc;

	if ((rc = open_db(&db, b->dbj, NULL, IDG_OPEN_RDONLY)) != 0)
		return rc;
	/* One untimed pass of each warms the handle and the page cache. */
	rc = time_resolve(b, db, 0);
	for (uint64_t r = 0; rc == 0 && r < b->runs; r++)
		rc = time_resolve(b, db, 1);
	if (rc == 0)
		rc = time_reports(b, db, 0);
	for (uint64_t r = 0; rc == 0 && r < b->runs; r++)
		rc = time_reports(b, db, 1);
	if (rc == 0)
		rc = time_export(b, db, 0);
	for (uint64_t r = 0; rc == 0 && r < b->runs; r++)
		rc = time_export(b, db, 1);
	if (rc == 0 && (rc = idg_log_foreach(db, on_log, b)) != 0)
		rc = fail("cannot read the identity log: %s", detail(db, rc));
	idg_close(db);
	join(path, b->dbj, "data.mdb");
	b->db_bytes = disk_use(path);
	getrusage(RUSAGE_SELF, &ru);
	b->peak_rss_kb = ru.ru_maxrss;
	return rc;
}

/*
 * The peak RSS of an ingest alone: `idgraph ingest` of the JSONL file in
 * a process of its own (this one holds the generator and the ids), read
 * from its rusage. Without /proc/self/exe the figure is left out (0); a
 * child that fails or cannot start is an error.
 */
static int
child_ingest(struct bench *b)
{
	struct idg_options o = IDG_OPTIONS_INIT;
	char self[PATH_MAX], out[4096], recs[32];
	struct rusage ru;
	idg_db *db = NULL;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	int rc;

	if (n <= 0)
		return 0;
	self[n] = '\0';
	remove_tree(b->dbm);
	o.flags = IDG_OPEN_CREATE;
	if ((rc = open_db(&db, b->dbm, &o, 0)) != 0)
		return rc;
	idg_close(db);
	{
		char *argv[] = {self, "ingest", b->dbm, b->jsonl, "--json",
				"--quiet", NULL};

		rc = run_child(argv, out, sizeof out, &ru);
	}
	remove_tree(b->dbm);
	snprintf(recs, sizeof recs, "\"records\":%" PRIu64, b->counts.records);
	if (rc != 0 || !strstr(out, recs))
		return fail("the ingest in a process of its own failed "
			    "(exit status %d)", rc);
	b->peak_rss_child_kb = ru.ru_maxrss;
	return 0;
}

static void
ingest_memory(struct bench *b)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	b->peak_rss_ingest_kb = ru.ru_maxrss;
}

/* ------------------------------------------------------------------ */
/* The in-memory union-find: baseline and check                        */

/* Builds the union-find from the edge text; NULL when out of memory. */
static struct uf *
build_uf(const struct bench *b)
{
	struct uf *u = uf_new();
	const char *p = b->etext, *end = b->etext + b->elen;

	while (u && p < end) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *nl = memchr(tab, '\n', (size_t)(end - tab));
		uint32_t x = uf_intern(u, p, (size_t)(tab - p));
		uint32_t y = uf_intern(u, tab + 1, (size_t)(nl - tab - 1));

		if (x == UF_NONE || y == UF_NONE) {
			uf_free(u);
			return NULL;
		}
		uf_union(u, x, y);
		p = nl + 1;
	}
	return u;
}

static void
time_uf_resolve(struct bench *b)
{
	double t0 = now();
	uint64_t found = 0;

	for (uint64_t k = 0; k < b->nlookups; k++) {
		uint32_t i = b->lookups[k];
		uint32_t x = uf_lookup(b->uf, b->idtext + b->idoff[i],
				       b->idoff[i + 1] - b->idoff[i]);

		if (x != UF_NONE)
			found += uf_find(b->uf, x) != UF_NONE;
	}
	record(&b->t_uf_resolve, now() - t0);
	b->uf_resolved = found;
}

/*
 * The check: every node of the edges resolves, in the engine, to a
 * cluster of the union-find set's size, and two nodes share a canonical
 * id exactly when they share a root; and the engine has as many clusters
 * of two or more nodes as the union-find has sets.
 */
static int
verify_uf(struct bench *b)
{
	uint32_t n = uf_count(b->uf);
	uint32_t *root_canon = malloc((size_t)n * sizeof(*root_canon) + 1);
	uint32_t *canon_root = malloc((size_t)n * sizeof(*canon_root) + 1);
	struct uf *canon = uf_new();
	struct idg_resolution r;
	idg_db *db = NULL;
	int rc = 0;

	b->uf_ok = 0;
	if (!root_canon || !canon_root || !canon) {
		rc = fail("out of memory");
		goto out;
	}
	if ((rc = open_db(&db, b->dbj, NULL, IDG_OPEN_RDONLY)) != 0)
		goto out;
	for (uint32_t x = 0; x < n; x++)
		root_canon[x] = canon_root[x] = UF_NONE;
	b->uf_clusters = b->uf_largest = 0;
	for (uint32_t x = 0; x < n; x++) {
		size_t len;
		const char *id = uf_name(b->uf, x, &len);
		uint32_t root = uf_find(b->uf, x), c;
		int e = idg_resolve(db, id, len, IDG_NOW, IDG_VIEW_LIVE, &r);

		if (e != 0) {
			snprintf(b->uf_why, sizeof b->uf_why,
				 "%s: resolve failed: %s", id, detail(db, e));
			goto out;
		}
		c = uf_intern(canon, r.canonical, r.canonical_len);
		if (c == UF_NONE) {
			rc = fail("out of memory");
			goto out;
		}
		if (root_canon[root] == UF_NONE && canon_root[c] == UF_NONE) {
			root_canon[root] = c;
			canon_root[c] = root;
			b->uf_clusters++;
			if (uf_size(b->uf, root) > b->uf_largest)
				b->uf_largest = uf_size(b->uf, root);
		}
		if (root_canon[root] != c || canon_root[c] != root ||
		    r.cluster_size != uf_size(b->uf, root)) {
			snprintf(b->uf_why, sizeof b->uf_why,
				 "%s: engine cluster %s of %" PRIu64
				 " nodes, union-find set of %" PRIu32,
				 id, r.canonical, r.cluster_size,
				 uf_size(b->uf, root));
			goto out;
		}
	}
	if (b->uf_clusters != b->gs_j.clusters) {
		snprintf(b->uf_why, sizeof b->uf_why,
			 "engine has %" PRIu64 " clusters, union-find %" PRIu64,
			 b->gs_j.clusters, b->uf_clusters);
		goto out;
	}
	b->uf_ok = 1;
out:
	idg_close(db);
	uf_free(canon);
	free(root_canon);
	free(canon_root);
	return rc;
}

static int
union_find(struct bench *b)
{
	FILE *fp;

	for (uint64_t r = 0; r < b->runs; r++) {
		double t0 = now();

		uf_free(b->uf);
		if ((b->uf = build_uf(b)) == NULL)
			return fail("out of memory");
		record(&b->t_uf, now() - t0);
	}
	for (uint64_t r = 0; r < b->runs; r++)
		time_uf_resolve(b);
	if ((fp = fopen(b->edges, "wb")) == NULL ||
	    fwrite(b->etext, 1, b->elen, fp) != b->elen || fclose(fp) != 0)
		return fail("cannot write %s: %s", b->edges, strerror(errno));
	return verify_uf(b);
}

/* ------------------------------------------------------------------ */
/* The Python baselines                                                */

static void
parse_external(const char *out, const char *name, struct external *x)
{
	char key[64];
	const char *line = out;

	x->seconds = -1;
	snprintf(x->skipped, sizeof x->skipped,
		 "%s skipped: bench/baselines.py gave no answer", name);
	snprintf(key, sizeof key, "%s ", name);
	for (; line && *line; line = strchr(line, '\n'), line += !!line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		if (strncmp(line, key, strlen(key)) == 0 &&
		    sscanf(line + strlen(key),
			   "seconds %lf components %" SCNu64 " nodes %" SCNu64
			   " largest %" SCNu64,
			   &x->seconds, &x->components, &x->nodes,
			   &x->largest) == 4) {
			const char *it = strstr(line, " iterations ");

			if (it && it < line + n)
				sscanf(it, " iterations %" SCNu64,
				       &x->iterations);
			x->skipped[0] = '\0';
			return;
		}
		if (strncmp(line, name, strlen(name)) == 0 &&
		    strncmp(line + strlen(name), " skipped", 8) == 0) {
			snprintf(x->skipped, sizeof x->skipped, "%.*s", (int)n,
				 line);
			return;
		}
	}
}

static void
python_baselines(struct bench *b)
{
	char path[PATH_MAX], runs[32], out[2048];
	const char *script =
	    helper_path("IDGRAPH_BASELINES", IDG_BENCH_SOURCE_DIR,
			"baselines.py", path, sizeof path);
	char *argv[] = {"python3", (char *)script, b->edges,
			"--runs",  runs,	   NULL};
	int rc;

	snprintf(runs, sizeof runs, "%" PRIu64, b->runs);
	if (access(script, R_OK) != 0) {
		b->nx.seconds = b->sql.seconds = -1;
		snprintf(b->nx.skipped, sizeof b->nx.skipped,
			 "networkx skipped: no %.150s (set IDGRAPH_BASELINES)",
			 script);
		snprintf(b->sql.skipped, sizeof b->sql.skipped,
			 "sqlite skipped: no %.150s (set IDGRAPH_BASELINES)",
			 script);
		return;
	}
	rc = run_child(argv, out, sizeof out, NULL);
	parse_external(out, "networkx", &b->nx);
	parse_external(out, "sqlite", &b->sql);
	if (rc == 127) {
		snprintf(b->nx.skipped, sizeof b->nx.skipped,
			 "networkx skipped: python3 not found");
		snprintf(b->sql.skipped, sizeof b->sql.skipped,
			 "sqlite skipped: python3 not found");
	}
}

/* 1 if an external baseline found the union-find's components. */
int
bench_external_ok(const struct bench *b, const struct external *x)
{
	return x->seconds >= 0 && x->components == b->uf_clusters &&
	       x->nodes == uf_count(b->uf) && x->largest == b->uf_largest;
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */

static int
same_ingest(const struct idg_ingest_stats *x, const struct idg_ingest_stats *y)
{
	return x->records == y->records && x->rejected == y->rejected &&
	       x->events == y->events && x->identity == y->identity &&
	       x->nodes_created == y->nodes_created && x->merged == y->merged &&
	       x->noop == y->noop &&
	       memcmp(x->refused, y->refused, sizeof x->refused) == 0 &&
	       x->duplicates == y->duplicates &&
	       x->profile_updates == y->profile_updates &&
	       x->profiles_created == y->profiles_created &&
	       x->profiles_deleted == y->profiles_deleted;
}

static int
same_graph(const struct idg_graph_stats *x, const struct idg_graph_stats *y)
{
	return memcmp(x, y, sizeof(*x)) == 0;
}

static void
checks(struct bench *b)
{
	const struct gen_counts *c = &b->counts;
	const struct idg_ingest_stats *s = &b->st_j;

	b->counts_ok = s->records == c->records && s->rejected == 0 &&
		       s->events == c->events && s->identity == c->identity &&
		       s->profile_updates == c->profile_updates &&
		       b->st_i.records == b->ident_records &&
		       b->ident_records == c->identity;
	b->msgpack_ok =
	    same_ingest(&b->st_j, &b->st_m) && same_graph(&b->gs_j, &b->gs_m);
	b->threads_ok = same_ingest(&b->st_j, &b->st_j1) &&
			same_graph(&b->gs_j, &b->gs_j1);
	b->export_ok = b->exported == s->events - s->duplicates;
	b->store_ok = b->store_records > 0 && same_graph(&b->gs_j, &b->gs_s);
	/* The identity events alone make the same clusters: events and
	 * profile updates never change the graph in original mode. */
	b->ident_ok = b->gs_i.clusters == b->gs_j.clusters &&
		      b->gs_i.largest_cluster == b->gs_j.largest_cluster &&
		      b->st_i.merged == b->st_j.merged;
}

/* ------------------------------------------------------------------ */
/* The command                                                         */

static int
parse_bench_opts(const struct args *a, struct bench *b)
{
	int rc;

	b->records = 1000000;
	b->rss_anon_kb = -1;
	b->seed = 1;
	b->runs = 3;
	b->json = a->val[OPT_JSON] != NULL;
	if (a->val[OPT_EVENTS] &&
	    (rc = parse_uint_opt(a, OPT_EVENTS, 1000, UINT64_C(1) << 32,
				 &b->records)) != 0)
		return rc;
	if (a->val[OPT_SEED] &&
	    (rc = parse_uint_opt(a, OPT_SEED, 0, UINT64_MAX, &b->seed)) != 0)
		return rc;
	if (a->val[OPT_RUNS] &&
	    (rc = parse_uint_opt(a, OPT_RUNS, 1, MAX_RUNS, &b->runs)) != 0)
		return rc;
	return 0;
}

/* The temporary directory and the paths in it. */
static int
make_dir(struct bench *b)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (strlen(tmp) > PATH_MAX - 64)
		return fail("TMPDIR is too long: %.64s...", tmp);
	join(b->dir, tmp, "idgraph-bench.XXXXXX");
	if (mkdtemp(b->dir) == NULL)
		return fail("cannot create a directory in %s: %s", tmp,
			    strerror(errno));
	join(b->jsonl, b->dir, "workload.jsonl");
	join(b->msgpack, b->dir, "workload.msgpack");
	join(b->ident, b->dir, "identity.jsonl");
	join(b->edges, b->dir, "edges.tsv");
	join(b->dbj, b->dir, "db-jsonl");
	join(b->dbm, b->dir, "db-msgpack");
	join(b->dbi, b->dir, "db-identity");
	join(b->dbs, b->dir, "db-store-only");
	return 0;
}

static void
progress(const struct bench *b, const char *what)
{
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "idgraph bench: %s\n", what);
	(void)b;
}

static int
run_bench(struct bench *b)
{
	int rc;

	progress(b, "generating the workload");
	if ((rc = make_workload(b)) != 0)
		return rc;
	for (uint64_t r = 0; r < b->runs; r++) {
		progress(b, "ingesting");
		if ((rc = one_run(b)) != 0)
			return rc;
	}
	ingest_memory(b);
	progress(b, "ingesting in a process of its own");
	if ((rc = child_ingest(b)) != 0)
		return rc;
	progress(b, "querying");
	if ((rc = queries(b)) != 0)
		return rc;
	progress(b, "baselines");
	if ((rc = union_find(b)) != 0)
		return rc;
	python_baselines(b);
	checks(b);
	return 0;
}

int
cmd_bench(struct args *a)
{
	struct bench *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return fail("out of memory");
	if ((rc = parse_bench_opts(a, b)) != 0 || (rc = make_dir(b)) != 0) {
		free(b);
		return rc;
	}
	rc = run_bench(b);
	if (rc == 0)
		rc = b->json ? bench_print_json(b)
			     : (bench_print_table(b), finish_stdout());
	if (rc == 0 &&
	    !(b->counts_ok && b->msgpack_ok && b->threads_ok && b->uf_ok &&
	      b->store_ok))
		rc = fail("a check failed: the figures above are not to be "
			  "trusted");
	remove_tree(b->dir);
	gen_free(b->gen);
	uf_free(b->uf);
	free(b->idtext);
	free(b->idoff);
	free(b->lookups);
	free(b->etext);
	free(b);
	return rc;
}
