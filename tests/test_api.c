/*
 * test_api.c — the public API end to end, through idgraph.h only: version,
 * error and name tables, opening and configuring, persistence, read-only
 * handles, ingest statistics and callbacks, crash safety, and the as-of
 * queries (resolve, cluster members, mappings, identity log).
 *
 * Expected values are worked out by hand from SPEC.md and the contract in
 * idgraph.h, never captured from the engine.
 */
#define _GNU_SOURCE
#include "idgraph.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Two anonymous ids of UUID shape. */
#define D1 "11111111-aaaa-4bbb-8ccc-000000000001"
#define D2 "22222222-aaaa-4bbb-8ccc-000000000002"

/* Epoch seconds used as record times; S(x) is x in milliseconds. */
#define T0 1700000000
#define S(x) ((int64_t)(x)*1000)

/* One event line; t is an integer literal of epoch seconds. */
#define EV(name, id, t)                                                        \
	"{\"event\":\"" name "\",\"properties\":{\"distinct_id\":\"" id        \
	"\",\"time\":" #t "}}\n"
#define IDENTIFY(user, anon, t)                                                \
	"{\"event\":\"$identify\",\"properties\":{\"distinct_id\":\"" user     \
	"\",\"$anon_distinct_id\":\"" anon "\",\"time\":" #t "}}\n"
#define ALIAS(target, alias, t)                                                \
	"{\"event\":\"$create_alias\",\"properties\":{\"distinct_id\":"        \
	"\"" target "\",\"alias\":\"" alias "\",\"time\":" #t "}}\n"
#define MERGE(a, b, t)                                                         \
	"{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":[\"" a        \
	"\",\"" b "\"],\"time\":" #t "}}\n"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static idg_db *
open_opts(const char *dir, struct idg_options *o)
{
	idg_db *db = NULL;
	int rc = idg_open(&db, dir, o);

	cr_assert_eq(rc, 0, "idg_open(%s): %d %s", dir, rc, idg_strerror(rc));
	cr_assert_not_null(db);
	return db;
}

/* Opens (creating) dir with the default settings and this batch size. */
static idg_db *
open_db(const char *dir, uint32_t batch_size)
{
	struct idg_options o = IDG_OPTIONS_INIT;

	o.flags = IDG_OPEN_CREATE;
	o.batch_size = batch_size;
	o.durability = IDG_NOSYNC;
	return open_opts(dir, &o);
}

static struct idg_ingest_stats
ingest_n(idg_db *db, const char *buf, size_t len)
{
	struct idg_ingest_stats st;
	int rc;

	memset(&st, 0xa5, sizeof(st));
	rc = idg_ingest_buffer(db, buf, len, NULL, &st);
	cr_assert_eq(rc, 0, "ingest: %d %s", rc, idg_errmsg(db));
	return st;
}

static struct idg_ingest_stats
ingest(idg_db *db, const char *s)
{
	return ingest_n(db, s, strlen(s));
}

static struct idg_info
info(idg_db *db)
{
	struct idg_info in;
	int rc;

	memset(&in, 0xa5, sizeof(in));
	rc = idg_info(db, &in);
	cr_assert_eq(rc, 0, "idg_info: %d %s", rc, idg_errmsg(db));
	return in;
}

/* Asserts that id resolves as of at in view to canon, in a cluster of n. */
static void
expect_resolve(idg_db *db, const char *id, int64_t at, int view,
	       const char *canon, uint64_t n)
{
	struct idg_resolution r;
	int rc = idg_resolve(db, id, strlen(id), at, view, &r);

	cr_assert_eq(rc, 0, "resolve %s at %lld view %d: %d %s", id,
		     (long long)at, view, rc, idg_errmsg(db));
	cr_assert_eq(r.canonical_len, strlen(canon),
		     "resolve %s at %lld view %d: canonical %s, want %s", id,
		     (long long)at, view, r.canonical, canon);
	cr_assert(memcmp(r.canonical, canon, r.canonical_len) == 0,
		  "resolve %s at %lld view %d: canonical %s, want %s", id,
		  (long long)at, view, r.canonical, canon);
	cr_assert_eq(r.canonical[r.canonical_len], '\0');
	cr_assert_eq(r.cluster_size, n,
		     "resolve %s at %lld view %d: size %llu, want %llu", id,
		     (long long)at, view, (unsigned long long)r.cluster_size,
		     (unsigned long long)n);
}

static void
expect_notfound(idg_db *db, const char *id, int64_t at, int view)
{
	struct idg_resolution r;
	int rc = idg_resolve(db, id, strlen(id), at, view, &r);

	cr_assert_eq(rc, IDG_ENOTFOUND, "resolve %s at %lld: %d, want %d", id,
		     (long long)at, rc, IDG_ENOTFOUND);
}

/* A growing text made of lines, for collecting callback output. */
struct text {
	char *buf;
	size_t len;
	FILE *fp;
	int calls;
	int stop_after; /* return non-zero on this call (1-based), 0: never */
};

static void
text_open(struct text *t)
{
	memset(t, 0, sizeof(*t));
	t->fp = open_memstream(&t->buf, &t->len);
	cr_assert_not_null(t->fp);
}

/* Closes the stream; t->buf holds the text (free it). */
static char *
text_close(struct text *t)
{
	cr_assert_eq(fclose(t->fp), 0);
	return t->buf;
}

static int
member_cb(void *user, const char *member, size_t len)
{
	struct text *t = user;

	cr_assert_eq(member[len], '\0');
	cr_assert_eq(strlen(member), len);
	fprintf(t->fp, "%s\n", member);
	return ++t->calls == t->stop_after;
}

static int
mapping_cb(void *user, const char *id, size_t id_len, const char *resolved,
	   size_t resolved_len)
{
	struct text *t = user;

	fprintf(t->fp, "%.*s,%.*s\n", (int)id_len, id, (int)resolved_len,
		resolved);
	return ++t->calls == t->stop_after;
}

static int
log_cb(void *user, const struct idg_log_entry *e)
{
	struct text *t = user;

	/* The lengths agree with the strings (none of these holds a NUL). */
	cr_assert_eq(e->ids_len[0], strlen(e->ids[0]));
	cr_assert_eq(e->ids_len[1], strlen(e->ids[1]));
	cr_assert_eq(e->insert_id_len, strlen(e->insert_id));
	cr_assert_eq(e->canonical_len, strlen(e->canonical));
	fprintf(t->fp, "%llu %lld %s %s %s [%s] %d %d [%s] %s\n",
		(unsigned long long)e->seq, (long long)e->stamp, e->event,
		e->ids[0], e->ids[1], e->insert_id, e->outcome, e->reason,
		e->description, e->canonical);
	return ++t->calls == t->stop_after;
}

/* Cluster members of id, one a line. Returns a malloc'd text. */
static char *
members(idg_db *db, const char *id, int64_t at, int view)
{
	struct text t;
	int rc;

	text_open(&t);
	rc = idg_cluster_foreach(db, id, strlen(id), at, view, member_cb, &t);
	text_close(&t);
	cr_assert_eq(rc, 0, "cluster %s: %d %s", id, rc, idg_errmsg(db));
	return t.buf;
}

static char *
mappings(idg_db *db, int64_t at, int view)
{
	struct text t;
	int rc;

	text_open(&t);
	rc = idg_mappings_foreach(db, at, view, mapping_cb, &t);
	text_close(&t);
	cr_assert_eq(rc, 0, "mappings: %d %s", rc, idg_errmsg(db));
	return t.buf;
}

static char *
log_text(idg_db *db)
{
	struct text t;
	int rc;

	text_open(&t);
	rc = idg_log_foreach(db, log_cb, &t);
	text_close(&t);
	cr_assert_eq(rc, 0, "log: %d %s", rc, idg_errmsg(db));
	return t.buf;
}

/* The ids of one log entry, by their lengths. */
static int
log_ids_cb(void *user, const struct idg_log_entry *e)
{
	struct idg_log_entry *out = user;

	cr_assert_eq(e->ids[1][e->ids_len[1]], '\0');
	cr_assert_eq(e->canonical[e->canonical_len], '\0');
	cr_assert_eq(e->ids_len[1], 3);
	cr_assert(memcmp(e->ids[1], "u\0x", 3) == 0);
	cr_assert_eq(e->insert_id_len, 5);
	cr_assert(memcmp(e->insert_id, "ins-9", 5) == 0);
	*out = *e;
	return 0;
}

#define EXPECT_TEXT(got, want)                                                 \
	do {                                                                   \
		char *got_ = (got);                                            \
		cr_assert_str_eq(got_, want);                                  \
		free(got_);                                                    \
	} while (0)

static void
expect_stats(const struct idg_ingest_stats *a, const struct idg_ingest_stats *b)
{
	int i;

	cr_assert_eq(a->records, b->records);
	cr_assert_eq(a->rejected, b->rejected);
	cr_assert_eq(a->events, b->events);
	cr_assert_eq(a->identity, b->identity);
	cr_assert_eq(a->nodes_created, b->nodes_created);
	cr_assert_eq(a->merged, b->merged);
	cr_assert_eq(a->noop, b->noop);
	for (i = 0; i < IDG_REASON_COUNT; i++)
		cr_assert_eq(a->refused[i], b->refused[i], "refused[%d]", i);
	cr_assert_eq(a->bytes, b->bytes);
	cr_assert_eq(a->batches, b->batches);
}

/* ------------------------------------------------------------------ */
/* Version, error and name tables                                      */

Test(api, version_macros_agree)
{
	char s[32];

	cr_assert_eq(idg_version(), IDG_VERSION_NUMBER);
	cr_assert_eq(IDG_VERSION_NUMBER, IDG_VERSION_MAJOR * 10000 +
					     IDG_VERSION_MINOR * 100 +
					     IDG_VERSION_PATCH);
	cr_assert_str_eq(idg_version_string(), IDG_VERSION_STRING);
	snprintf(s, sizeof(s), "%d.%d.%d", IDG_VERSION_MAJOR, IDG_VERSION_MINOR,
		 IDG_VERSION_PATCH);
	cr_assert_str_eq(idg_version_string(), s);
}

Test(api, strerror_every_code)
{
	int n = 0;

#define CHECK_CODE(name, value, text)                                          \
	cr_assert_eq(IDG_##name, value);                                       \
	cr_assert_eq(IDG_##name, -(n + 1));                                    \
	cr_assert_str_eq(idg_strerror(IDG_##name), text);                      \
	cr_assert_str_neq(idg_strerror(IDG_##name), "unknown error");          \
	n++;
	IDG_ERRNO_MAP(CHECK_CODE)
#undef CHECK_CODE
	/* Codes are -1, -2, ... in order; the first eleven are these. */
	cr_assert_geq(n, 11);
	cr_assert_str_eq(idg_strerror(IDG_ENODB),
			 "no idgraph database at this path");
	cr_assert_str_eq(idg_strerror(IDG_ESTOPPED), "stopped by the callback");
	cr_assert_str_eq(idg_strerror(-(n + 1)), "unknown error");
	cr_assert_str_eq(idg_strerror(-1000), "unknown error");
	cr_assert_str_eq(idg_strerror(1), "unknown error");
	cr_assert_str_eq(idg_strerror(INT32_MIN), "unknown error");
	cr_assert_not_null(idg_strerror(IDG_OK));
	cr_assert_str_neq(idg_strerror(IDG_OK), "unknown error");
}

Test(api, reason_names)
{
	int n = 0;

#define CHECK_REASON(name, text)                                               \
	cr_assert_eq(IDG_REASON_##name, n);                                    \
	cr_assert_str_eq(idg_reason_name(IDG_REASON_##name), text);            \
	n++;
	IDG_REASON_MAP(CHECK_REASON)
#undef CHECK_REASON
	cr_assert_eq(n, IDG_REASON_COUNT);
	cr_assert_eq(IDG_REASON_COUNT, 8);
	cr_assert_str_eq(idg_reason_name(IDG_REASON_NONE), "");
	cr_assert_str_eq(idg_reason_name(IDG_REASON_SAME_IDS), "errSameIDs");
	cr_assert_str_eq(idg_reason_name(IDG_REASON_ANON_NON_GUID),
			 "errAnonDistinctIdNonGUIDForm");
	cr_assert_str_eq(idg_reason_name(IDG_REASON_ANON_ASSIGNED),
			 "errAnonDistinctIdAssignedAlready");
	cr_assert_str_eq(idg_reason_name(IDG_REASON_MANY_IDS), "errManyIDs");
	cr_assert_str_eq(idg_reason_name(IDG_REASON_ALIAS_EXISTS),
			 "errAliasAlreadyExists");
	cr_assert_str_eq(idg_reason_name(IDG_REASON_ALIAS_CYCLE),
			 "errAliasCycle");
	cr_assert_str_eq(idg_reason_name(IDG_REASON_MERGE_REQUIRES_IMPORT),
			 "errMergeRequiresImport");
	/* Out of range: not a crash, and no reason's name. */
	cr_assert_not_null(idg_reason_name(-1));
	cr_assert_not_null(idg_reason_name(IDG_REASON_COUNT));
	cr_assert_str_eq(idg_reason_name(IDG_REASON_COUNT), "");
}

Test(api, mode_names)
{
	cr_assert_str_eq(idg_mode_name(IDG_MODE_ORIGINAL), "original");
	cr_assert_str_eq(idg_mode_name(IDG_MODE_SIMPLIFIED), "simplified");
	cr_assert_str_eq(idg_mode_name(IDG_MODE_LEGACY), "legacy");
	cr_assert_null(idg_mode_name(3));
	cr_assert_null(idg_mode_name(-1));
}

Test(api, null_handles)
{
	struct idg_info in;
	struct idg_resolution r;
	idg_db *db = (idg_db *)&in;

	idg_close(NULL);
	cr_assert_not_null(idg_errmsg(NULL));
	cr_assert_str_eq(idg_errmsg(NULL), "");
	cr_assert_eq(idg_open(NULL, "/tmp", NULL), IDG_EINVAL);
	cr_assert_eq(idg_open(&db, NULL, NULL), IDG_EINVAL);
	cr_assert_null(db);
	cr_assert_eq(idg_info(NULL, &in), IDG_EINVAL);
	cr_assert_eq(idg_resolve(NULL, "a", 1, IDG_NOW, IDG_VIEW_LIVE, &r),
		     IDG_EINVAL);
	cr_assert_eq(idg_ingest_buffer(NULL, "", 0, NULL, NULL), IDG_EINVAL);
	cr_assert_eq(idg_configure(NULL, NULL), IDG_EINVAL);
}

/* ------------------------------------------------------------------ */
/* Opening and configuring                                             */

Test(api, open_without_create_is_enodb)
{
	char *dir = tu_tmpdir();
	char sub[4200];
	struct idg_options o = IDG_OPTIONS_INIT;
	idg_db *db = (idg_db *)&o;

	cr_assert_eq(idg_open(&db, dir, NULL), IDG_ENODB);
	cr_assert_null(db);
	db = (idg_db *)&o;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_ENODB);
	cr_assert_null(db);
	/* A read-only open never creates, even with IDG_OPEN_CREATE. */
	o.flags = IDG_OPEN_RDONLY | IDG_OPEN_CREATE;
	db = (idg_db *)&o;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_ENODB);
	cr_assert_null(db);
	snprintf(sub, sizeof(sub), "%s/missing", dir);
	o.flags = IDG_OPEN_RDONLY;
	cr_assert_eq(idg_open(&db, sub, &o), IDG_ENODB);
	cr_assert_null(db);
	cr_assert_eq(idg_open(&db, sub, NULL), IDG_ENODB);
	cr_assert_null(db);
	tu_rmdir(dir);
}

Test(api, create_then_info_fresh)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_info in;
	idg_db *db;

	o.flags = IDG_OPEN_CREATE;
	db = open_opts(dir, &o);
	in = info(db);
	cr_assert_eq(in.mode, IDG_MODE_ORIGINAL);
	cr_assert_eq(in.merge_delay_ms, 3600000);
	cr_assert_eq(in.cluster_cap, 500);
	cr_assert_eq(in.stamp, INT64_MIN);
	cr_assert_eq(in.records, 0);
	cr_assert_eq(in.nodes, 0);
	cr_assert_eq(in.log_size, 0);
	cr_assert_str_eq(idg_errmsg(db), "");
	expect_notfound(db, "anyone", IDG_NOW, IDG_VIEW_LIVE);
	idg_close(db);

	/* Now there is a database: opening without CREATE works. */
	db = open_opts(dir, NULL);
	in = info(db);
	cr_assert_eq(in.stamp, INT64_MIN);
	cr_assert_eq(in.records, 0);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, create_with_settings_then_reopen_ignores_options)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_info in;
	idg_db *db;

	o.flags = IDG_OPEN_CREATE;
	o.merge_delay_ms = 1234;
	o.cluster_cap = 7;
	db = open_opts(dir, &o);
	in = info(db);
	cr_assert_eq(in.merge_delay_ms, 1234);
	cr_assert_eq(in.cluster_cap, 7);
	idg_close(db);

	/* Settings in opts are used only when the database is made. */
	o.merge_delay_ms = 99;
	o.cluster_cap = 99;
	db = open_opts(dir, &o);
	in = info(db);
	cr_assert_eq(in.merge_delay_ms, 1234);
	cr_assert_eq(in.cluster_cap, 7);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, open_bad_options_version)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	idg_db *db = (idg_db *)&o;
	struct idg_info in;

	o.flags = IDG_OPEN_CREATE;
	o.version = 0;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_EINVAL);
	cr_assert_null(db);
	o.version = IDG_OPTIONS_VERSION + 1;
	db = (idg_db *)&o;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_EINVAL);
	cr_assert_null(db);
	/* Nothing was created by the refused calls. */
	cr_assert_eq(idg_open(&db, dir, NULL), IDG_ENODB);
	o.version = IDG_OPTIONS_VERSION;
	db = open_opts(dir, &o);
	in = info(db);
	cr_assert_eq(in.records, 0);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, open_create_in_each_mode)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	idg_db *db = (idg_db *)&o;

	o.flags = IDG_OPEN_CREATE;
	o.mode = IDG_MODE_SIMPLIFIED;
	cr_assert_eq(idg_open(&db, dir, &o), 0);
	cr_assert_eq(info(db).mode, IDG_MODE_SIMPLIFIED);
	idg_close(db);
	tu_rmdir(dir);
	dir = tu_tmpdir();
	o.mode = 17;
	db = (idg_db *)&o;
	cr_assert_eq(idg_open(&db, dir, &o), IDG_EINVAL);
	cr_assert_null(db);
	tu_rmdir(dir);
}

Test(api, configure_on_empty_db)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_info in;
	idg_db *db = open_db(dir, 0);

	o.merge_delay_ms = 5000;
	o.cluster_cap = 3;
	cr_assert_eq(idg_configure(db, &o), 0, "%s", idg_errmsg(db));
	in = info(db);
	cr_assert_eq(in.merge_delay_ms, 5000);
	cr_assert_eq(in.cluster_cap, 3);
	cr_assert_eq(in.mode, IDG_MODE_ORIGINAL);
	idg_close(db);

	/* The settings are the database's: they survive a reopen. */
	db = open_opts(dir, NULL);
	in = info(db);
	cr_assert_eq(in.merge_delay_ms, 5000);
	cr_assert_eq(in.cluster_cap, 3);

	/* The new cap is in force: a third node fits, a fourth does not. */
	ingest(db, MERGE("a", "b", 1700000000) MERGE("a", "c", 1700000001)
		       MERGE("a", "d", 1700000002));
	expect_resolve(db, "c", IDG_NOW, IDG_VIEW_LIVE, "a", 3);
	expect_resolve(db, "d", IDG_NOW, IDG_VIEW_LIVE, "d", 1);
	/* And the new delay: the reported view lags 5 s behind the live. */
	expect_resolve(db, "b", S(T0) + 4999, IDG_VIEW_REPORTED, "b", 1);
	expect_resolve(db, "b", S(T0) + 5000, IDG_VIEW_REPORTED, "a", 2);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, configure_mode_while_empty_then_emode)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_info in;
	idg_db *db = open_db(dir, 0);

	/* An empty database may change its mode, and back. */
	o.mode = IDG_MODE_SIMPLIFIED;
	cr_assert_eq(idg_configure(db, &o), 0, "%s", idg_errmsg(db));
	cr_assert_eq(info(db).mode, IDG_MODE_SIMPLIFIED);
	o.mode = IDG_MODE_ORIGINAL;
	cr_assert_eq(idg_configure(db, &o), 0);
	o.mode = 42;
	cr_assert_eq(idg_configure(db, &o), IDG_EINVAL);
	in = info(db);
	cr_assert_eq(in.mode, IDG_MODE_ORIGINAL);

	ingest(db, EV("e", "u1", 1700000000));
	o.mode = IDG_MODE_LEGACY;
	cr_assert_eq(idg_configure(db, &o), IDG_EMODE);
	cr_assert(strstr(idg_errmsg(db), "original") != NULL, "%s",
		  idg_errmsg(db));
	o.mode = IDG_MODE_SIMPLIFIED;
	cr_assert_eq(idg_configure(db, &o), IDG_EMODE);
	cr_assert(strstr(idg_errmsg(db), "original") != NULL, "%s",
		  idg_errmsg(db));
	in = info(db);
	cr_assert_eq(in.mode, IDG_MODE_ORIGINAL);
	cr_assert_eq(in.cluster_cap, 500);

	/* The other settings may still change once there are records. */
	o.mode = IDG_MODE_ORIGINAL;
	o.cluster_cap = 10;
	o.merge_delay_ms = 60000;
	cr_assert_eq(idg_configure(db, &o), 0, "%s", idg_errmsg(db));
	cr_assert_str_eq(idg_errmsg(db), "");
	in = info(db);
	cr_assert_eq(in.cluster_cap, 10);
	cr_assert_eq(in.merge_delay_ms, 60000);
	cr_assert_eq(in.records, 1);
	idg_close(db);
	tu_rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* Persistence and read-only handles                                   */

static const char persist_input[] = EV("page", D1, 1700000000)
    IDENTIFY("U1", D1, 1700000100) EV("page", D2, 1700000200)
	IDENTIFY("U1", D2, 1700000300) EV("page", "lonely", 1700000400);

Test(api, persistence_across_reopen)
{
	char *dir = tu_tmpdir();
	struct idg_info in;
	idg_db *db = open_db(dir, 2);
	char *log_before;

	ingest(db, persist_input);
	log_before = log_text(db);
	idg_close(db);

	db = open_opts(dir, NULL);
	in = info(db);
	cr_assert_eq(in.records, 5);
	cr_assert_eq(in.nodes, 4);
	cr_assert_eq(in.log_size, 2);
	cr_assert_eq(in.stamp, S(1700000400));
	expect_resolve(db, D1, IDG_NOW, IDG_VIEW_LIVE, "U1", 3);
	expect_resolve(db, D2, IDG_NOW, IDG_VIEW_LIVE, "U1", 3);
	expect_resolve(db, "U1", IDG_NOW, IDG_VIEW_LIVE, "U1", 3);
	expect_resolve(db, "lonely", IDG_NOW, IDG_VIEW_LIVE, "lonely", 1);
	expect_resolve(db, D2, S(1700000299), IDG_VIEW_LIVE, D2, 1);
	EXPECT_TEXT(members(db, "U1", IDG_NOW, IDG_VIEW_LIVE),
		    D1 "\nU1\n" D2 "\n");
	EXPECT_TEXT(log_text(db), log_before);
	free(log_before);

	/* A second ingest continues the counters and the graph. */
	ingest(db,
	       EV("page", "U1", 1700000500) MERGE("lonely", "U1", 1700000600));
	in = info(db);
	cr_assert_eq(in.records, 7);
	cr_assert_eq(in.nodes, 4);
	cr_assert_eq(in.log_size, 3);
	cr_assert_eq(in.stamp, S(1700000600));
	expect_resolve(db, D1, IDG_NOW, IDG_VIEW_LIVE, "U1", 4);
	/* lonely won the $merge, but U1 is identified and lonely is not. */
	expect_resolve(db, "lonely", IDG_NOW, IDG_VIEW_LIVE, "U1", 4);
	idg_close(db);

	db = open_opts(dir, NULL);
	in = info(db);
	cr_assert_eq(in.records, 7);
	cr_assert_eq(in.log_size, 3);
	expect_resolve(db, "lonely", IDG_NOW, IDG_VIEW_LIVE, "U1", 4);
	expect_resolve(db, "lonely", S(1700000599), IDG_VIEW_LIVE, "lonely", 1);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, stamps_are_monotone)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct idg_info in;

	ingest(db, EV("e", "late", 1700000200));
	cr_assert_eq(info(db).stamp, S(1700000200));
	/* An older record keeps the stamp; so does the merge it causes. */
	ingest(db,
	       EV("e", "early", 1700000100) MERGE("early", "late", 1700000050));
	in = info(db);
	cr_assert_eq(in.stamp, S(1700000200));
	cr_assert_eq(in.records, 3);
	EXPECT_TEXT(log_text(db), "1 1700000200000 $merge early late [] 0 0 "
				  "[] early\n");
	/* early was first seen at stamp 1700000200000, not at its time. */
	expect_resolve(db, "early", S(1700000200), IDG_VIEW_LIVE, "early", 2);
	ingest(db, EV("e", "later", 1700000300));
	cr_assert_eq(info(db).stamp, S(1700000300));
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, wall_clock_stamps)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct timespec ts;
	int64_t before, after;
	const char *line = EV("e", "w", 1000000000);
	struct idg_info in;

	io.clock = IDG_CLOCK_WALL;
	clock_gettime(CLOCK_REALTIME, &ts);
	before = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	cr_assert_eq(idg_ingest_buffer(db, line, strlen(line), &io, NULL), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	after = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	in = info(db);
	cr_assert_geq(in.stamp, before);
	cr_assert_leq(in.stamp, after);
	idg_close(db);
	tu_rmdir(dir);
}

/*
 * A handle keeps its resolve answers while the database does not change,
 * and answers a kept id again without a transaction: another handle's
 * commit must still be seen at once, by every id kept.
 */
Test(api, resolve_sees_another_handles_commit)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	idg_db *w = open_db(dir, 0);
	idg_db *ro;

	ingest(w, EV("page", D1, 1700000000) EV("page", "lonely", 1700000100));
	o.flags = IDG_OPEN_RDONLY;
	ro = open_opts(dir, &o);
	for (int i = 0; i < 3; i++) { /* first answers, then kept ones */
		expect_resolve(ro, D1, IDG_NOW, IDG_VIEW_LIVE, D1, 1);
		expect_resolve(ro, "lonely", IDG_NOW, IDG_VIEW_LIVE, "lonely",
			       1);
	}
	ingest(w, IDENTIFY("U1", D1, 1700000200));
	expect_resolve(ro, D1, IDG_NOW, IDG_VIEW_LIVE, "U1", 2);
	expect_resolve(ro, D1, IDG_NOW, IDG_VIEW_LIVE, "U1", 2);
	expect_resolve(ro, "lonely", IDG_NOW, IDG_VIEW_LIVE, "lonely", 1);
	ingest(w, "{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":"
		  "[\"U1\",\"lonely\"],\"time\":1700000300}}\n");
	expect_resolve(ro, "lonely", IDG_NOW, IDG_VIEW_LIVE, "U1", 3);
	expect_resolve(ro, D1, IDG_NOW, IDG_VIEW_LIVE, "U1", 3);
	idg_close(ro);
	idg_close(w);
	tu_rmdir(dir);
}

Test(api, read_only_handle)
{
	char *dir = tu_tmpdir();
	struct idg_options o = IDG_OPTIONS_INIT;
	struct idg_ingest_stats st;
	const char *more = EV("e", "new", 1700001000);
	struct idg_info in;
	idg_db *db = open_db(dir, 0);
	idg_db *ro;
	FILE *fp;

	ingest(db, persist_input);
	idg_close(db);

	o.flags = IDG_OPEN_RDONLY;
	ro = open_opts(dir, &o);
	expect_resolve(ro, D2, IDG_NOW, IDG_VIEW_LIVE, "U1", 3);
	EXPECT_TEXT(members(ro, D1, IDG_NOW, IDG_VIEW_LIVE),
		    D1 "\nU1\n" D2 "\n");
	EXPECT_TEXT(mappings(ro, IDG_NOW, IDG_VIEW_LIVE),
		    D1 ",U1\nU1,U1\n" D2 ",U1\n");
	in = info(ro);
	cr_assert_eq(in.records, 5);

	memset(&st, 0, sizeof(st));
	cr_assert_lt(idg_ingest_buffer(ro, more, strlen(more), NULL, &st), 0);
	cr_assert(strstr(idg_errmsg(ro), "read-only") != NULL, "%s",
		  idg_errmsg(ro));
	cr_assert_eq(st.events, 0);
	fp = fmemopen((void *)more, strlen(more), "r");
	cr_assert_not_null(fp);
	cr_assert_lt(idg_ingest_stream(ro, fp, NULL, NULL), 0);
	fclose(fp);
	cr_assert(strstr(idg_errmsg(ro), "read-only") != NULL, "%s",
		  idg_errmsg(ro));
	o.flags = 0;
	o.cluster_cap = 3;
	cr_assert_lt(idg_configure(ro, &o), 0);
	cr_assert(strstr(idg_errmsg(ro), "read-only") != NULL, "%s",
		  idg_errmsg(ro));
	/* A success clears the message. */
	expect_notfound(ro, "new", IDG_NOW, IDG_VIEW_LIVE);
	in = info(ro);
	cr_assert_str_eq(idg_errmsg(ro), "");
	cr_assert_eq(in.records, 5);
	cr_assert_eq(in.cluster_cap, 500);
	idg_close(ro);
	tu_rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* Ingest statistics                                                   */

/* 13 lines, one blank: 11 records, 2 rejected, 9 events, 8 identity. */
static const char mixed_input[] = EV("page", D1, 1700000001)	    /* 1 */
    "{\"event\":\"page\",\"properties\":{\"distinct_id\":\"x\"}}\n" /* 2 */
    IDENTIFY("U1", D1, 1700000003)				    /* 3 */
    IDENTIFY("U1", D1, 1700000004)				    /* 4 */
    IDENTIFY("x", "x", 1700000005)				    /* 5 */
    IDENTIFY("U2", D1, 1700000006)				    /* 6 */
    ALIAS("U1", "al", 1700000007)				    /* 7 */
    ALIAS("U2", "al", 1700000008)				    /* 8 */
    IDENTIFY("u@x", "abc", 1700000009)				    /* 9 */
    "\n"							    /* 10 */
    "42\n"							    /* 11 */
    MERGE("m1", "m2", 1700000012)				    /* 12 */
    EV("page", "U2", 1700000013);				    /* 13 */

static void
expect_mixed_stats(const struct idg_ingest_stats *st, size_t len)
{
	cr_assert_eq(st->records, 12);
	cr_assert_eq(st->rejected, 2);
	cr_assert_eq(st->events, 10);
	cr_assert_eq(st->identity, 8);
	/* D1, U1, x, U2, al, u@x, abc, m1, m2 */
	cr_assert_eq(st->nodes_created, 9);
	cr_assert_eq(st->merged, 3);
	cr_assert_eq(st->noop, 1);
	cr_assert_eq(st->refused[IDG_REASON_NONE], 0);
	cr_assert_eq(st->refused[IDG_REASON_SAME_IDS], 1);
	cr_assert_eq(st->refused[IDG_REASON_ANON_NON_GUID], 1);
	cr_assert_eq(st->refused[IDG_REASON_ANON_ASSIGNED], 1);
	cr_assert_eq(st->refused[IDG_REASON_MANY_IDS], 0);
	cr_assert_eq(st->refused[IDG_REASON_ALIAS_EXISTS], 1);
	cr_assert_eq(st->refused[IDG_REASON_ALIAS_CYCLE], 0);
	cr_assert_eq(st->refused[IDG_REASON_MERGE_REQUIRES_IMPORT], 0);
	cr_assert_eq(st->bytes, len);
	cr_assert_eq(st->batches, 1);
}

static void
expect_mixed_graph(idg_db *db)
{
	struct idg_info in = info(db);

	cr_assert_eq(in.records, 10);
	cr_assert_eq(in.nodes, 9);
	cr_assert_eq(in.log_size, 8);
	cr_assert_eq(in.stamp, S(1700000013));
	expect_resolve(db, D1, IDG_NOW, IDG_VIEW_LIVE, "U1", 3);
	expect_resolve(db, "al", IDG_NOW, IDG_VIEW_LIVE, "U1", 3);
	expect_resolve(db, "U2", IDG_NOW, IDG_VIEW_LIVE, "U2", 1);
	expect_resolve(db, "x", IDG_NOW, IDG_VIEW_LIVE, "x", 1);
	expect_resolve(db, "abc", IDG_NOW, IDG_VIEW_LIVE, "abc", 1);
	expect_resolve(db, "m2", IDG_NOW, IDG_VIEW_LIVE, "m1", 2);
	EXPECT_TEXT(mappings(db, IDG_NOW, IDG_VIEW_LIVE),
		    D1 ",U1\nU1,U1\nal,U1\nm1,m1\nm2,m1\n");
}

Test(api, ingest_stats_exact)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct idg_ingest_stats st;

	st = ingest(db, mixed_input);
	expect_mixed_stats(&st, strlen(mixed_input));
	expect_mixed_graph(db);

	/* A second identical run creates no nodes and merges nothing. */
	st = ingest(db, mixed_input);
	cr_assert_eq(st.records, 12);
	cr_assert_eq(st.rejected, 2);
	cr_assert_eq(st.nodes_created, 0);
	cr_assert_eq(st.merged, 0);
	/*
	 * Lines 3, 4 and 12 are no-ops; line 7 is refused, not a no-op:
	 * "al" is a used alias, and that check comes first.
	 */
	cr_assert_eq(st.noop, 3);
	cr_assert_eq(st.refused[IDG_REASON_ALIAS_EXISTS], 2);
	cr_assert_eq(st.refused[IDG_REASON_SAME_IDS], 1);
	cr_assert_eq(st.refused[IDG_REASON_ANON_NON_GUID], 1);
	cr_assert_eq(st.refused[IDG_REASON_ANON_ASSIGNED], 1);
	cr_assert_eq(info(db).records, 20);
	cr_assert_eq(info(db).log_size, 16);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, ingest_stream_matches_buffer)
{
	char *dir1 = tu_tmpdir(), *dir2 = tu_tmpdir();
	idg_db *a = open_db(dir1, 0), *b = open_db(dir2, 0);
	struct idg_ingest_stats sa, sb;
	char *la, *lb;
	FILE *fp;

	sa = ingest(a, mixed_input);
	fp = fmemopen((void *)mixed_input, strlen(mixed_input), "r");
	cr_assert_not_null(fp);
	memset(&sb, 0xa5, sizeof(sb));
	cr_assert_eq(idg_ingest_stream(b, fp, NULL, &sb), 0, "%s",
		     idg_errmsg(b));
	fclose(fp);
	expect_mixed_stats(&sb, strlen(mixed_input));
	expect_stats(&sa, &sb);
	expect_mixed_graph(b);
	la = log_text(a);
	lb = log_text(b);
	cr_assert_str_eq(la, lb);
	free(la);
	free(lb);
	idg_close(a);
	idg_close(b);
	tu_rmdir(dir1);
	tu_rmdir(dir2);
}

/*
 * A stream larger than any read buffer, with lines straddling every
 * refill: same stats and graph as the same bytes from memory.
 */
Test(api, ingest_large_stream_matches_buffer)
{
	char *dir1 = tu_tmpdir(), *dir2 = tu_tmpdir();
	idg_db *a = open_db(dir1, 5000), *b = open_db(dir2, 5000);
	struct idg_ingest_stats sa, sb;
	char *buf = NULL, *ma, *mb;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len), *fp;
	int i;

	cr_assert_not_null(mem);
	for (i = 0; i < 20000; i++) {
		if (i % 1000 == 999)
			fprintf(mem,
				"{\"event\":\"$merge\",\"properties\":{"
				"\"$distinct_ids\":[\"u%d\",\"u%d\"],"
				"\"time\":%d}}\n",
				i % 37, (i + 1) % 37, T0 + i);
		else
			fprintf(mem,
				"{\"event\":\"e\",\"properties\":{"
				"\"distinct_id\":\"u%d\",\"time\":%d,"
				"\"pad\":\"%0*d\"}}\n",
				i % 37, T0 + i, 60 + i % 50, i);
	}
	fprintf(mem,
		"{\"event\":\"e\",\"properties\":{\"distinct_id\":"
		"\"last\",\"time\":%d}}",
		T0 + 20000);
	cr_assert_eq(fclose(mem), 0);
	cr_assert_gt(len, 2u << 20);

	sa = ingest_n(a, buf, len);
	fp = tmpfile();
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(buf, 1, len, fp), len);
	rewind(fp);
	memset(&sb, 0xa5, sizeof(sb));
	cr_assert_eq(idg_ingest_stream(b, fp, NULL, &sb), 0, "%s",
		     idg_errmsg(b));
	fclose(fp);
	cr_assert_eq(sa.records, 20001);
	cr_assert_eq(sa.rejected, 0);
	cr_assert_eq(sa.nodes_created, 38);
	cr_assert_eq(sa.identity, 20);
	cr_assert_eq(sa.bytes, len);
	cr_assert_eq(sa.batches, 5);
	expect_stats(&sa, &sb);
	expect_resolve(b, "last", IDG_NOW, IDG_VIEW_LIVE, "last", 1);
	ma = mappings(a, IDG_NOW, IDG_VIEW_LIVE);
	mb = mappings(b, IDG_NOW, IDG_VIEW_LIVE);
	cr_assert_str_eq(ma, mb);
	free(ma);
	free(mb);
	free(buf);
	idg_close(a);
	idg_close(b);
	tu_rmdir(dir1);
	tu_rmdir(dir2);
}

Test(api, last_line_without_newline)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct idg_ingest_stats st;
	const char in[] = "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
			  "\"a\",\"time\":1700000000}}\n"
			  "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
			  "\"b\",\"time\":1700000001}}";
	FILE *fp;

	st = ingest(db, in);
	cr_assert_eq(st.records, 2);
	cr_assert_eq(st.events, 2);
	cr_assert_eq(st.bytes, sizeof(in) - 1);
	expect_resolve(db, "b", IDG_NOW, IDG_VIEW_LIVE, "b", 1);
	cr_assert_eq(info(db).stamp, S(1700000001));
	idg_close(db);
	tu_rmdir(dir);

	/* The same through a stream. */
	dir = tu_tmpdir();
	db = open_db(dir, 0);
	fp = fmemopen((void *)in, sizeof(in) - 1, "r");
	cr_assert_not_null(fp);
	cr_assert_eq(idg_ingest_stream(db, fp, NULL, &st), 0);
	fclose(fp);
	cr_assert_eq(st.records, 2);
	cr_assert_eq(st.events, 2);
	cr_assert_eq(st.bytes, sizeof(in) - 1);
	expect_resolve(db, "b", IDG_NOW, IDG_VIEW_LIVE, "b", 1);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, crlf_line_endings)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct idg_ingest_stats st;
	const char in[] = "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
			  "\"a\",\"time\":1700000000}}\r\n"
			  "\r\n"
			  "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
			  "\"b\",\"time\":1700000001}}\r\n"
			  "{\"event\":\"$merge\",\"properties\":{"
			  "\"$distinct_ids\":[\"a\",\"b\"],"
			  "\"time\":1700000002}}\r\n";

	st = ingest(db, in);
	cr_assert_eq(st.records, 3);
	cr_assert_eq(st.rejected, 0);
	cr_assert_eq(st.merged, 1);
	cr_assert_eq(st.bytes, sizeof(in) - 1);
	expect_resolve(db, "b", IDG_NOW, IDG_VIEW_LIVE, "a", 2);
	expect_notfound(db, "a\r", IDG_NOW, IDG_VIEW_LIVE);
	cr_assert_eq(info(db).nodes, 2);
	idg_close(db);
	tu_rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* Batches and callbacks                                               */

struct progress_log {
	int calls;
	int stop_at; /* 1-based call that returns non-zero; 0: never */
	struct idg_progress p[16];
};

static int
progress_cb(void *user, const struct idg_progress *p)
{
	struct progress_log *pl = user;

	if (pl->calls < 16)
		pl->p[pl->calls] = *p;
	return ++pl->calls == pl->stop_at;
}

/* Byte offset just after the n-th '\n' of s. */
static uint64_t
after_line(const char *s, int n)
{
	const char *p = s;

	while (n-- > 0) {
		p = strchr(p, '\n');
		cr_assert_not_null(p);
		p++;
	}
	return (uint64_t)(p - s);
}

Test(api, batches_and_progress)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 3);
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct progress_log pl = {0};
	struct idg_ingest_stats st;
	/* 7 records: 3 | 3 | 1, rejected ones count toward a batch. */
	const char in[] =
	    EV("e", "a", 1700000001) "{}\n" EV("e", "b", 1700000003) "\n" EV(
		"e", "c", 1700000004) "[]x\n" EV("e", "d", 1700000006)
		EV("e", "e", 1700000007);

	io.on_progress = progress_cb;
	io.user = &pl;
	cr_assert_eq(idg_ingest_buffer(db, in, sizeof(in) - 1, &io, &st), 0);
	cr_assert_eq(st.records, 7);
	cr_assert_eq(st.rejected, 2);
	cr_assert_eq(st.batches, 3);
	cr_assert_eq(pl.calls, 3);
	cr_assert_eq(pl.p[0].records, 3);
	cr_assert_eq(pl.p[0].rejected, 1);
	cr_assert_eq(pl.p[0].bytes, after_line(in, 3));
	/* The blank line 4 is no record: the second batch ends at line 7. */
	cr_assert_eq(pl.p[1].records, 6);
	cr_assert_eq(pl.p[1].rejected, 2);
	cr_assert_eq(pl.p[1].bytes, after_line(in, 7));
	cr_assert_eq(pl.p[2].records, 7);
	cr_assert_eq(pl.p[2].bytes, sizeof(in) - 1);
	cr_assert_eq(info(db).records, 5);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, array_line_is_never_split)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 3);
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct progress_log pl = {0};
	struct idg_ingest_stats st;
	const char in[] =
	    "[{\"event\":\"e\",\"properties\":{\"distinct_id\":\"a\","
	    "\"time\":1700000001}},"
	    "{\"event\":\"e\",\"properties\":{\"distinct_id\":\"b\","
	    "\"time\":1700000002}},"
	    "{\"event\":\"e\",\"properties\":{\"distinct_id\":\"c\","
	    "\"time\":1700000003}},"
	    "{\"event\":\"e\",\"properties\":{\"distinct_id\":\"d\","
	    "\"time\":1700000004}}]\n" EV("e", "f", 1700000005);

	io.on_progress = progress_cb;
	io.user = &pl;
	cr_assert_eq(idg_ingest_buffer(db, in, sizeof(in) - 1, &io, &st), 0);
	cr_assert_eq(st.records, 5);
	cr_assert_eq(st.events, 5);
	cr_assert_eq(st.batches, 2);
	cr_assert_eq(pl.calls, 2);
	cr_assert_eq(pl.p[0].records, 4);
	cr_assert_eq(pl.p[0].bytes, after_line(in, 1));
	cr_assert_eq(pl.p[1].records, 5);
	expect_resolve(db, "d", IDG_NOW, IDG_VIEW_LIVE, "d", 1);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, progress_stop_keeps_committed_batches)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 2);
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct progress_log pl = {0};
	struct idg_ingest_stats st;
	const char in[] = EV("e", "a", 1700000001) EV("e", "b", 1700000002)
	    EV("e", "c", 1700000003) EV("e", "d", 1700000004)
		EV("e", "e", 1700000005);
	struct idg_info inf;

	pl.stop_at = 2;
	io.on_progress = progress_cb;
	io.user = &pl;
	cr_assert_eq(idg_ingest_buffer(db, in, sizeof(in) - 1, &io, &st),
		     IDG_ESTOPPED);
	cr_assert_neq(idg_errmsg(db)[0], '\0');
	cr_assert_eq(pl.calls, 2);
	cr_assert_eq(st.records, 4);
	cr_assert_eq(st.batches, 2);
	inf = info(db);
	cr_assert_eq(inf.records, 4);
	cr_assert_eq(inf.nodes, 4);
	expect_resolve(db, "d", IDG_NOW, IDG_VIEW_LIVE, "d", 1);
	expect_notfound(db, "e", IDG_NOW, IDG_VIEW_LIVE);
	idg_close(db);
	tu_rmdir(dir);
}

struct reject_log {
	int calls;
	int stop_at;
	uint64_t line[8];
	uint32_t index[8];
	int in_array[8];
	char field[8][64];
	char message[8][256];
	char raw[8][256];
	size_t raw_len[8];
};

static int
reject_cb(void *user, const struct idg_reject *r)
{
	struct reject_log *rl = user;
	int i = rl->calls;

	if (i < 8) {
		rl->line[i] = r->line;
		rl->index[i] = r->index;
		rl->in_array[i] = r->in_array;
		snprintf(rl->field[i], sizeof(rl->field[i]), "%s", r->field);
		snprintf(rl->message[i], sizeof(rl->message[i]), "%s",
			 r->message);
		cr_assert_lt(r->raw_len, sizeof(rl->raw[i]));
		memcpy(rl->raw[i], r->raw, r->raw_len);
		rl->raw_len[i] = r->raw_len;
	}
	return ++rl->calls == rl->stop_at;
}

static void
expect_raw(const struct reject_log *rl, int i, const char *want)
{
	cr_assert_eq(rl->raw_len[i], strlen(want), "raw %d: [%.*s] want [%s]",
		     i, (int)rl->raw_len[i], rl->raw[i], want);
	cr_assert(memcmp(rl->raw[i], want, rl->raw_len[i]) == 0,
		  "raw %d: [%.*s] want [%s]", i, (int)rl->raw_len[i],
		  rl->raw[i], want);
}

Test(api, reject_callback_arguments)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct reject_log rl = {0};
	struct idg_ingest_stats st;
	const char in[] =
	    EV("e", "a", 1700000001) "{\"event\":\"e\",\"properties\":{"
				     "\"distinct_id\":\"null\","
				     "\"time\":1700000002}}\n"
				     "\n"
				     "[{\"event\":\"e\",\"properties\":{"
				     "\"distinct_id\":\"b\","
				     "\"time\":1700000003}}, 42 "
				     ",{\"event\":\"e\",\"properties\":{"
				     "\"distinct_id\":\"c\",\"time\":"
				     "1700000004}},{\"event\":7}]\n"
				     "{\"event\":\"e\",\"properties\":{"
				     "\"distinct_id\":\"d\"}}";

	io.on_reject = reject_cb;
	io.user = &rl;
	cr_assert_eq(idg_ingest_buffer(db, in, sizeof(in) - 1, &io, &st), 0);
	cr_assert_eq(st.records, 7);
	cr_assert_eq(st.rejected, 4);
	cr_assert_eq(st.events, 3);
	cr_assert_eq(rl.calls, 4);

	cr_assert_eq(rl.line[0], 2);
	cr_assert_eq(rl.index[0], 0);
	cr_assert_eq(rl.in_array[0], 0);
	cr_assert_str_eq(rl.field[0], "properties.distinct_id");
	cr_assert(strstr(rl.message[0], "forbidden") != NULL, "%s",
		  rl.message[0]);
	expect_raw(&rl, 0,
		   "{\"event\":\"e\",\"properties\":{\"distinct_id\":"
		   "\"null\",\"time\":1700000002}}");

	cr_assert_eq(rl.line[1], 4);
	cr_assert_eq(rl.index[1], 1);
	cr_assert_eq(rl.in_array[1], 1);
	cr_assert_str_eq(rl.field[1], "");
	cr_assert(strstr(rl.message[1], "not a JSON object") != NULL, "%s",
		  rl.message[1]);
	expect_raw(&rl, 1, "42");

	cr_assert_eq(rl.line[2], 4);
	cr_assert_eq(rl.index[2], 3);
	cr_assert_eq(rl.in_array[2], 1);
	cr_assert_str_eq(rl.field[2], "event");
	cr_assert(strstr(rl.message[2], "string") != NULL, "%s", rl.message[2]);
	expect_raw(&rl, 2, "{\"event\":7}");

	cr_assert_eq(rl.line[3], 5);
	cr_assert_eq(rl.index[3], 0);
	cr_assert_eq(rl.in_array[3], 0);
	cr_assert_str_eq(rl.field[3], "properties.time");
	cr_assert(strstr(rl.message[3], "time is missing") != NULL, "%s",
		  rl.message[3]);
	expect_raw(&rl, 3,
		   "{\"event\":\"e\",\"properties\":{\"distinct_id\":\"d\"}}");

	expect_resolve(db, "b", IDG_NOW, IDG_VIEW_LIVE, "b", 1);
	expect_resolve(db, "c", IDG_NOW, IDG_VIEW_LIVE, "c", 1);
	expect_notfound(db, "d", IDG_NOW, IDG_VIEW_LIVE);
	idg_close(db);
	tu_rmdir(dir);
}

/* Records, rejects at lines 2 and 4, records: for stops by on_reject. */
static const char stop_input[] = EV("e", "a", 1700000001) "nonsense\n" EV(
    "e", "b", 1700000003) "more nonsense\n" EV("e", "c", 1700000005);

Test(api, reject_callback_stops)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct reject_log rl = {0};
	struct idg_ingest_stats st;
	struct idg_info inf;

	rl.stop_at = 1;
	io.on_reject = reject_cb;
	io.user = &rl;
	cr_assert_eq(idg_ingest_buffer(db, stop_input, sizeof(stop_input) - 1,
				       &io, &st),
		     IDG_ESTOPPED);
	cr_assert_eq(rl.calls, 1);
	cr_assert_eq(rl.line[0], 2);
	/* The batch the stop came in is rolled back whole: here all of it,
	 * "a" before the reject included. */
	cr_assert(strstr(idg_errmsg(db), "rolled back"), "%s", idg_errmsg(db));
	expect_notfound(db, "a", IDG_NOW, IDG_VIEW_LIVE);
	expect_notfound(db, "b", IDG_NOW, IDG_VIEW_LIVE);
	/* What the stats say was ingested is what the database holds. */
	inf = info(db);
	cr_assert_eq(inf.records, 0);
	cr_assert_eq(st.records, 0);
	cr_assert_eq(st.rejected, 0);
	idg_close(db);
	tu_rmdir(dir);
}

/*
 * A stop asked for by on_reject (a rejects file that cannot be written)
 * keeps the committed batches and rolls the one in progress back, so that
 * a resume reads the record it stopped at again: no reject is lost (the
 * record once counted as committed, and a resume went on after it).
 */
Test(api, reject_stop_rolls_its_batch_back_for_resume)
{
	char *dir = tu_tmpdir(), *path;
	idg_db *db = open_db(dir, 1);
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct reject_log rl = {0};
	struct idg_ingest_stats st;

	path = tu_write_file(dir, "in.jsonl", stop_input,
			     sizeof(stop_input) - 1);
	rl.stop_at = 1;
	io.on_reject = reject_cb;
	io.user = &rl;
	io.threads = 1;
	cr_assert_eq(idg_ingest_file(db, path, &io, &st), IDG_ESTOPPED);
	cr_assert_eq(st.records, 1, "line 1's batch, committed");
	cr_assert_eq(info(db).records, 1);
	expect_notfound(db, "b", IDG_NOW, IDG_VIEW_LIVE);
	rl.stop_at = 0;
	io.resume = 1;
	cr_assert_eq(idg_ingest_file(db, path, &io, &st), 0, "%s",
		     idg_errmsg(db));
	cr_assert_eq(st.resumed_at, 2, "at the line it stopped at");
	cr_assert_eq(rl.calls, 3, "line 2 reported again, then line 4");
	cr_assert_eq(rl.line[1], 2);
	cr_assert_eq(rl.line[2], 4);
	cr_assert_eq(info(db).records, 3, "a, b and c, once each");
	free(path);
	idg_close(db);
	tu_rmdir(dir);
}

/*
 * A stop asked for by on_reject takes effect inside an array line: the
 * rest of the line is not read, so the valid record after it is not
 * ingested and on_reject is not called again (this failed before the
 * ingest checked its stop flag per record).
 */
Test(api, reject_stop_inside_array_line)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct reject_log rl = {0};
	struct idg_ingest_stats st;
	const char in[] = "[42,{\"event\":\"e\",\"properties\":{"
			  "\"distinct_id\":\"c\",\"time\":1700000001}},7]\n";

	rl.stop_at = 1;
	io.on_reject = reject_cb;
	io.user = &rl;
	cr_assert_eq(idg_ingest_buffer(db, in, sizeof(in) - 1, &io, &st),
		     IDG_ESTOPPED);
	cr_assert_eq(rl.calls, 1);
	expect_notfound(db, "c", IDG_NOW, IDG_VIEW_LIVE);
	idg_close(db);
	tu_rmdir(dir);
}

/*
 * Input that ends exactly at a batch boundary commits no extra, empty,
 * batch: 6 records with batch_size 3 are 2 batches and 2 progress calls
 * (it used to be 3 of each).
 */
Test(api, exact_multiple_of_batch_size)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 3);
	struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
	struct progress_log pl = {0};
	struct idg_ingest_stats st;
	const char in[] = EV("e", "a", 1700000001) EV("e", "b", 1700000002)
	    EV("e", "c", 1700000003) EV("e", "d", 1700000004)
		EV("e", "e", 1700000005) EV("e", "f", 1700000006);

	io.on_progress = progress_cb;
	io.user = &pl;
	cr_assert_eq(idg_ingest_buffer(db, in, sizeof(in) - 1, &io, &st), 0);
	cr_assert_eq(st.records, 6);
	cr_assert_eq(st.batches, 2);
	cr_assert_eq(pl.calls, 2);
	idg_close(db);
	tu_rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* Crash safety                                                        */

static int
kill_after_third(void *user, const struct idg_progress *p)
{
	int *n = user;

	(void)p;
	if (++*n == 3)
		kill(getpid(), SIGKILL);
	return 0;
}

Test(api, kill9_keeps_whole_batches)
{
	char *dir = tu_tmpdir();
	char *buf = NULL, id[32];
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct idg_info inf;
	pid_t pid;
	int i, status;
	idg_db *db;

	cr_assert_not_null(mem);
	for (i = 1; i <= 1000; i++)
		fprintf(mem,
			"{\"event\":\"e\",\"properties\":{\"distinct_id\":"
			"\"id-%04d\",\"time\":%d}}\n",
			i, T0 + i);
	cr_assert_eq(fclose(mem), 0);

	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct idg_options o = IDG_OPTIONS_INIT;
		struct idg_ingest_opts io = IDG_INGEST_OPTS_INIT;
		int n = 0;
		idg_db *cdb = NULL;

		o.flags = IDG_OPEN_CREATE;
		o.batch_size = 100;
		o.durability = IDG_DURABLE;
		if (idg_open(&cdb, dir, &o) != 0)
			_exit(2);
		io.on_progress = kill_after_third;
		io.user = &n;
		idg_ingest_buffer(cdb, buf, len, &io, NULL);
		_exit(3); /* not reached */
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "child status %#x", status);

	db = open_opts(dir, NULL);
	inf = info(db);
	cr_assert_eq(inf.records, 300);
	cr_assert_eq(inf.nodes, 300);
	cr_assert_eq(inf.log_size, 0);
	cr_assert_eq(inf.stamp, S(T0 + 300));
	expect_resolve(db, "id-0300", IDG_NOW, IDG_VIEW_LIVE, "id-0300", 1);
	expect_resolve(db, "id-0001", IDG_NOW, IDG_VIEW_LIVE, "id-0001", 1);
	expect_notfound(db, "id-0301", IDG_NOW, IDG_VIEW_LIVE);
	expect_notfound(db, "id-1000", IDG_NOW, IDG_VIEW_LIVE);

	/* The database takes the rest after the crash. */
	ingest(db, buf);
	inf = info(db);
	cr_assert_eq(inf.records, 1300);
	cr_assert_eq(inf.nodes, 1000);
	snprintf(id, sizeof(id), "id-%04d", 1000);
	expect_resolve(db, id, IDG_NOW, IDG_VIEW_LIVE, id, 1);
	idg_close(db);
	free(buf);
	tu_rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* As-of queries                                                       */

/* D1 seen at T0, identified as U1 at T0+600 (stamp s), U1 seen later. */
#define ASOF_S S(T0 + 600)
static const char asof_input[] = EV("page", D1, 1700000000)
    IDENTIFY("U1", D1, 1700000600) EV("page", "U1", 1700000660);

Test(api, resolve_live_and_reported_as_of)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	const int64_t s = ASOF_S;

	ingest(db, asof_input);
	/* Live view: the merge applies from its stamp on. */
	expect_resolve(db, D1, s - 1, IDG_VIEW_LIVE, D1, 1);
	expect_resolve(db, D1, s, IDG_VIEW_LIVE, "U1", 2);
	expect_resolve(db, D1, IDG_NOW, IDG_VIEW_LIVE, "U1", 2);
	expect_resolve(db, "U1", s, IDG_VIEW_LIVE, "U1", 2);
	expect_resolve(db, D1, s + 3600000000, IDG_VIEW_LIVE, "U1", 2);

	/* Reported view: only from s + merge_delay on. */
	expect_resolve(db, D1, s, IDG_VIEW_REPORTED, D1, 1);
	expect_resolve(db, D1, s + 3599999, IDG_VIEW_REPORTED, D1, 1);
	expect_resolve(db, "U1", s + 3599999, IDG_VIEW_REPORTED, "U1", 1);
	expect_resolve(db, D1, s + 3600000, IDG_VIEW_REPORTED, "U1", 2);
	expect_resolve(db, "U1", s + 3600000, IDG_VIEW_REPORTED, "U1", 2);
	/* IDG_NOW is the current stamp, s + 60 s: still pending. */
	expect_resolve(db, D1, IDG_NOW, IDG_VIEW_REPORTED, D1, 1);
	expect_resolve(db, "U1", IDG_NOW, IDG_VIEW_REPORTED, "U1", 1);

	/* Not seen yet. */
	expect_notfound(db, "U1", s - 1, IDG_VIEW_LIVE);
	expect_notfound(db, "U1", s - 1, IDG_VIEW_REPORTED);
	expect_notfound(db, D1, S(T0) - 1, IDG_VIEW_LIVE);
	cr_assert(strstr(idg_errmsg(db), D1) != NULL, "%s", idg_errmsg(db));
	expect_resolve(db, D1, S(T0), IDG_VIEW_LIVE, D1, 1);
	expect_notfound(db, "never", IDG_NOW, IDG_VIEW_LIVE);
	expect_notfound(db, "never", s + 3600000, IDG_VIEW_REPORTED);
	expect_notfound(db, "U", IDG_NOW, IDG_VIEW_LIVE);
	expect_notfound(db, "U1x", IDG_NOW, IDG_VIEW_LIVE);

	/* An hour of stamp later, IDG_NOW in the reported view merges. */
	ingest(db, EV("page", "U1", 1700004200));
	expect_resolve(db, D1, IDG_NOW, IDG_VIEW_REPORTED, "U1", 2);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, cluster_members_in_first_seen_order)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct text t;
	int rc;

	ingest(db, EV("e", "C", 1700000001) EV("e", "A", 1700000002)
		       EV("e", "B", 1700000003) MERGE("B", "C", 1700000010)
			   MERGE("A", "C", 1700000020) EV("e", "Z", 1700000030)
			       MERGE("Z", "A", 1700000040));
	EXPECT_TEXT(members(db, "A", IDG_NOW, IDG_VIEW_LIVE), "C\nA\nB\nZ\n");
	EXPECT_TEXT(members(db, "Z", IDG_NOW, IDG_VIEW_LIVE), "C\nA\nB\nZ\n");
	EXPECT_TEXT(members(db, "C", S(1700000010), IDG_VIEW_LIVE), "C\nB\n");
	EXPECT_TEXT(members(db, "A", S(1700000019), IDG_VIEW_LIVE), "A\n");
	EXPECT_TEXT(members(db, "B", S(1700000039), IDG_VIEW_LIVE),
		    "C\nA\nB\n");
	EXPECT_TEXT(
	    members(db, "B", S(1700000010) + 3600000, IDG_VIEW_REPORTED),
	    "C\nB\n");
	EXPECT_TEXT(members(db, "A", IDG_NOW, IDG_VIEW_REPORTED), "A\n");
	expect_resolve(db, "B", S(1700000039), IDG_VIEW_LIVE, "A", 3);
	expect_resolve(db, "A", IDG_NOW, IDG_VIEW_LIVE, "Z", 4);

	/* Early stop after two members. */
	text_open(&t);
	t.stop_after = 2;
	rc = idg_cluster_foreach(db, "B", 1, IDG_NOW, IDG_VIEW_LIVE, member_cb,
				 &t);
	text_close(&t);
	cr_assert_eq(rc, IDG_ESTOPPED);
	cr_assert_eq(t.calls, 2);
	cr_assert_str_eq(t.buf, "C\nA\n");
	free(t.buf);

	/* Unknown id, and an id not seen yet as of T. */
	text_open(&t);
	rc = idg_cluster_foreach(db, "nobody", 6, IDG_NOW, IDG_VIEW_LIVE,
				 member_cb, &t);
	cr_assert_eq(rc, IDG_ENOTFOUND);
	rc = idg_cluster_foreach(db, "Z", 1, S(1700000029), IDG_VIEW_LIVE,
				 member_cb, &t);
	cr_assert_eq(rc, IDG_ENOTFOUND);
	text_close(&t);
	cr_assert_eq(t.calls, 0);
	free(t.buf);
	idg_close(db);
	tu_rmdir(dir);
}

Test(api, mappings_live_and_as_of)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct text t;
	int rc;

	ingest(db, EV("e", "A", 1700000000) EV("e", "B", 1700000001)
		       EV("e", "C", 1700000002) EV("e", "X", 1700000003)
			   EV("e", "Y", 1700000004) EV("e", "Z", 1700000005)
			       MERGE("B", "C", 1700000100)
				   MERGE("A", "C", 1700000200)
				       MERGE("Y", "X", 1700010000));
	/* Only clusters of two or more; the canonical maps to itself. */
	EXPECT_TEXT(mappings(db, IDG_NOW, IDG_VIEW_LIVE),
		    "A,A\nB,A\nC,A\nX,Y\nY,Y\n");
	EXPECT_TEXT(mappings(db, S(1700000099), IDG_VIEW_LIVE), "");
	EXPECT_TEXT(mappings(db, S(1700000100), IDG_VIEW_LIVE), "B,B\nC,B\n");
	EXPECT_TEXT(mappings(db, S(1700000199), IDG_VIEW_LIVE), "B,B\nC,B\n");
	EXPECT_TEXT(mappings(db, S(1700000200), IDG_VIEW_LIVE),
		    "A,A\nB,A\nC,A\n");
	/* Reported as of the last merge: the first two are an hour old. */
	EXPECT_TEXT(mappings(db, IDG_NOW, IDG_VIEW_REPORTED),
		    "A,A\nB,A\nC,A\n");
	EXPECT_TEXT(mappings(db, S(1700010000) + 3599999, IDG_VIEW_REPORTED),
		    "A,A\nB,A\nC,A\n");
	EXPECT_TEXT(mappings(db, S(1700010000) + 3600000, IDG_VIEW_REPORTED),
		    "A,A\nB,A\nC,A\nX,Y\nY,Y\n");
	EXPECT_TEXT(mappings(db, S(1700000100) + 3599999, IDG_VIEW_REPORTED),
		    "");
	EXPECT_TEXT(mappings(db, INT64_MIN, IDG_VIEW_LIVE), "");

	text_open(&t);
	t.stop_after = 2;
	rc = idg_mappings_foreach(db, IDG_NOW, IDG_VIEW_LIVE, mapping_cb, &t);
	text_close(&t);
	cr_assert_eq(rc, IDG_ESTOPPED);
	cr_assert_str_eq(t.buf, "A,A\nB,A\n");
	free(t.buf);
	idg_close(db);
	tu_rmdir(dir);
}

/*
 * SPEC §2.1 quotes no Mixpanel text for errAnonDistinctIdAssignedAlready;
 * this is idgraph's, naming both ids.
 */
#define DESC6                                                                  \
	"$anon_distinct_id " D1 " is already merged with another identified "  \
	"id; not merging it into U2"

Test(api, log_entries)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct text t;
	int rc;

	ingest(
	    db,
	    "{\"event\":\"$identify\",\"properties\":{\"distinct_id\":"
	    "\"U1\",\"$anon_distinct_id\":\"" D1 "\",\"$insert_id\":"
	    "\"ins-1\",\"time\":1700000001}}\n" IDENTIFY(
		"u@x", "abc", 1700000002) ALIAS("u@x", "abc", 1700000003)
		MERGE("m1", "m2", 1700000004) IDENTIFY(
		    "U1", D1,
		    1700000005) "{\"event\":\"$identify\",\"properties\":{"
				"\"$identified_id\":\"U2\",\"$anon_id\":\"" D1
				"\",\"time\":1700000006}}\n");
	EXPECT_TEXT(log_text(db),
		    "1 1700000001000 $identify U1 " D1 " [ins-1] 0 0 [] U1\n"
		    "2 1700000002000 $identify u@x abc [] 2 2 "
		    "[$anon_distinct_id didn't match expected GUID pattern: "
		    "abc] u@x\n"
		    "3 1700000003000 $create_alias u@x abc [] 0 0 [] u@x\n"
		    "4 1700000004000 $merge m1 m2 [] 0 0 [] m1\n"
		    "5 1700000005000 $identify U1 " D1 " [] 1 0 [] U1\n"
		    "6 1700000006000 $identify U2 " D1 " [] 2 3 [" DESC6
		    "] U2\n");
	cr_assert_eq(info(db).log_size, 6);

	text_open(&t);
	t.stop_after = 1;
	rc = idg_log_foreach(db, log_cb, &t);
	text_close(&t);
	cr_assert_eq(rc, IDG_ESTOPPED);
	cr_assert_eq(t.calls, 1);
	free(t.buf);
	idg_close(db);
	tu_rmdir(dir);
}

/* Ids may hold a NUL: the entry gives their lengths (its strings alone
 * once cut "u\0x" to "u"). */
Test(api, log_entry_lengths_cover_nul_bytes)
{
	char *dir = tu_tmpdir();
	idg_db *db = open_db(dir, 0);
	struct idg_log_entry e = {0};

	ingest(db, "{\"event\":\"$merge\",\"properties\":{\"$distinct_ids\":"
		   "[\"plain\",\"u\\u0000x\"],\"$insert_id\":"
		   "\"ins-9\",\"time\":1700000001}}\n");
	cr_assert_eq(idg_log_foreach(db, log_ids_cb, &e), 0);
	cr_assert_eq(e.seq, 1);
	cr_assert_eq(e.ids_len[0], 5);
	cr_assert_eq(e.canonical_len, 5);
	idg_close(db);
	tu_rmdir(dir);
}
