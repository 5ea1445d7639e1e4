/* graph.h — the identity graph: live map plus stamped union-find forest. */
#ifndef IDG_GRAPH_H
#define IDG_GRAPH_H

#include <stdint.h>

#include "store.h"

/* Node flags. */
#define IDG__N_IDENTIFIED 0x1u  /* identified id of a successful $identify */
#define IDG__N_ALIAS_USED 0x2u  /* alias of a successful $create_alias */
#define IDG__N_HAS_IDENTIFIED 0x4u /* roots: the live cluster holds one */

/* A root's link stamp: it has no parent yet. */
#define IDG__UNLINKED INT64_MAX

/* The stored record of one node (host byte order, fixed size). */
struct idg__node {
	uint32_t parent; /* forest parent; the node itself for a root */
	uint32_t root;   /* live map: the root of its live cluster */
	uint32_t next;   /* next member of the live cluster's ring */
	uint32_t size;   /* roots: number of nodes in the live cluster */
	uint32_t canon;  /* roots: the live cluster's canonical node */
	uint32_t flags;  /* IDG__N_* */
	uint32_t profile; /* roots: node the active profile is stored under */
	uint32_t spare;
	int64_t created; /* stamp of the record that first named it */
	int64_t linked;  /* stamp of the link to parent, or IDG__UNLINKED */
};

/*
 * A writer's cache of node records, in front of the nodes table for the
 * write transactions it is attached to (idg__nodecache_attach): a bounded
 * direct-mapped table, written through by graph_put and graph_add. Its
 * records are those of the last write transaction that committed with
 * it; it starts empty when another transaction committed since (another
 * handle's, or a write of this one without it) and after an abort.
 */
struct idg__nodecache;
struct idg__nodecache *idg__nodecache_new(void);
void idg__nodecache_free(struct idg__nodecache *c);
/* Attaches c to the open write transaction t (emptied if stale). */
int idg__nodecache_attach(struct idg__nodecache *c, struct idg__txn *t);
/* t, which c is attached to, committed: c stays true to the database. */
void idg__nodecache_committed(struct idg__nodecache *c, uint64_t txn_id);
/* t aborted (or failed to commit): c forgets what t wrote. */
void idg__nodecache_clear(struct idg__nodecache *c);

int idg__graph_get(struct idg__txn *t, uint32_t n, struct idg__node *out,
		   struct idg__err *e);
int idg__graph_put(struct idg__txn *t, uint32_t n, const struct idg__node *nd,
		   struct idg__err *e);
/* Stores node n as a new cluster of one, created at stamp. */
int idg__graph_add(struct idg__txn *t, uint32_t n, int64_t stamp,
		   struct idg__err *e);

/* Root of n's cluster as of stamp at: the forest walked up to at. */
int idg__graph_find_at(struct idg__txn *t, uint32_t n, int64_t at,
		       uint32_t *out, struct idg__err *e);
/* Canonical node of the cluster rooted at root (as of at) . */
int idg__graph_canon_at(struct idg__txn *t, uint32_t root, int64_t at,
			uint32_t *out, struct idg__err *e);

/*
 * Unites the live clusters rooted at a and b at stamp, with canonical node
 * canon; *out is the root of the union. Stamps must not decrease from one
 * union to the next.
 */
int idg__graph_union(struct idg__txn *t, uint32_t a, uint32_t b,
		     uint32_t canon, int64_t stamp, uint32_t *out,
		     struct idg__err *e);

/* Records the active profile (0: none) of the live cluster at root. */
int idg__graph_set_profile(struct idg__txn *t, uint32_t root, uint32_t profile,
			   struct idg__err *e);

/* Makes canon the canonical node of the live cluster rooted at root. */
int idg__graph_set_canon(struct idg__txn *t, uint32_t root, uint32_t canon,
			 int64_t stamp, struct idg__err *e);

/*
 * Calls cb for each member of the live cluster containing n, in ring order
 * (n first). cb returning non-zero stops the walk with that value.
 */
typedef int (*idg__member_fn)(void *ctx, uint32_t node);
int idg__graph_ring(struct idg__txn *t, uint32_t n, idg__member_fn cb,
		    void *ctx, struct idg__err *e);

#endif
