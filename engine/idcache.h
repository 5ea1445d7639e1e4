/* idcache.h — an in-memory cache of distinct_id -> node for the ingest. */
#ifndef IDG_IDCACHE_H
#define IDG_IDCACHE_H

#include <stddef.h>
#include <stdint.h>

struct idg__idcache;

struct idg__idcache *idg__idcache_new(void);
void idg__idcache_free(struct idg__idcache *c);

/* The node of name, or 0 when the cache does not know it. */
uint32_t idg__idcache_get(const struct idg__idcache *c, const char *name,
			  size_t len, uint64_t hash);

/*
 * Hints that a lookup of hash comes soon: stage 0 fetches its slot into
 * the CPU's cache, stage 1 (a few lookups later, once the slot is there)
 * the name it holds. Changes nothing else.
 */
void idg__idcache_prefetch(const struct idg__idcache *c, uint64_t hash,
			   int stage);

/* Remembers name -> node (committed or in the current batch). */
void idg__idcache_put(struct idg__idcache *c, const char *name, size_t len,
		      uint64_t hash, uint32_t node);

/* Forgets everything: after a batch was rolled back. */
void idg__idcache_clear(struct idg__idcache *c);

/*
 * A complete cache holds every id of the database, so a miss is a new id.
 * The ingest marks it so when the database has no id yet; it stays so
 * while every new id is put, and a put it cannot keep (out of memory, or
 * past its bounds, when it starts over) or a clear ends it.
 */
void idg__idcache_set_complete(struct idg__idcache *c, int complete);
int idg__idcache_complete(const struct idg__idcache *c);

#endif
