/*
 * cli_bench.h — what the two halves of `idgraph bench` share: cmd_bench.c
 * makes the workload and measures, cli_bench.c prints the table or the
 * JSON object. Every timed figure keeps one sample per run and is shown as
 * the median; a baseline that could not run has seconds < 0 and a
 * message saying why.
 */
#ifndef IDG_CLI_BENCH_H
#define IDG_CLI_BENCH_H

#include "cli.h"
#include "gen.h"
#include "uf.h"

#include <limits.h>
#include <stdint.h>

#define MAX_RUNS 99
#define FUNNEL_STEPS 3

/* A timed figure: one sample per run, reported as the median. */
struct timing {
	double s[MAX_RUNS];
	int n;
};

/* An external baseline's answer; seconds < 0 when it was skipped. */
struct external {
	double seconds;
	uint64_t components, nodes, largest, iterations;
	char skipped[256];
};

/* Where an ingest's time went (idg_ingest_stats), a sample per run. */
struct stage_times {
	struct timing parse_busy, parse_wait, apply_busy, apply_wait, commit;
};

struct bench {
	uint64_t records, seed, runs;
	int json;
	char dir[PATH_MAX];
	char jsonl[PATH_MAX], msgpack[PATH_MAX], ident[PATH_MAX];
	char edges[PATH_MAX], dbj[PATH_MAX], dbm[PATH_MAX], dbi[PATH_MAX];
	char dbs[PATH_MAX]; /* the store-only copy of the JSONL database */
	struct gen *gen;
	struct gen_counts counts;
	uint64_t msgpack_bytes, ident_records;

	/* ids of the workload, for resolve */
	char *idtext;
	size_t *idoff;
	uint64_t nids;
	uint32_t *lookups;
	uint64_t nlookups;

	struct timing t_jsonl, t_jsonl1, t_msgpack, t_parse_j, t_parse_m,
	    t_ident;
	struct timing t_resolve, t_uf_resolve, t_uniques, t_funnel, t_uf;
	struct timing t_export; /* events export, JSONL, to /dev/null */
	struct timing t_store;  /* store-only: LMDB alone (idg_store_only) */
	uint64_t store_records; /* LMDB records it wrote */
	uint64_t exported;	/* events it wrote */
	struct idg_ingest_stats st_j, st_j1, st_m, st_i;
	struct stage_times sg_j, sg_m; /* of the JSONL, MessagePack ingests */
	struct idg_graph_stats gs_j, gs_j1, gs_m, gs_i, gs_s;
	int parse_skipped;
	char parse_why[256];
	struct idg_uniques uniq;
	struct idg_funnel_step funnel[FUNNEL_STEPS];
	uint64_t resolved, uf_resolved; /* ids found by each */
	long peak_rss_kb;		/* at the end (ru_maxrss) */
	long peak_rss_ingest_kb; /* after generation and the ingest runs */
	long peak_rss_child_kb;  /* `idgraph ingest` alone; 0 if not run */
	long rss_anon_kb;	 /* most anonymous memory at the end of an
				    ingest, handle open; -1 if unknown */
	uint64_t db_bytes;

	/* the identity edges (merged log entries) */
	char *etext;
	size_t elen, ecap;
	uint64_t nedges;
	struct uf *uf;
	uint64_t uf_clusters, uf_largest;

	struct external nx, sql;
	int counts_ok, msgpack_ok, uf_ok, ident_ok, threads_ok, export_ok;
	int store_ok; /* the store-only copy holds the JSONL database */
	char uf_why[512];
};

/* The median of a figure's samples; -1 when it has none. */
double bench_median(const struct timing *t);

/* 1 if an external baseline found the union-find's components. */
int bench_external_ok(const struct bench *b, const struct external *x);

/* The table, then the checks, on stdout. */
void bench_print_table(struct bench *b);

/* One JSON object on stdout; the exit status. */
int bench_print_json(struct bench *b);

#endif
