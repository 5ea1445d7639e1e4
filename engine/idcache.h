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

/* Remembers name -> node (committed or in the current batch). */
void idg__idcache_put(struct idg__idcache *c, const char *name, size_t len,
		      uint64_t hash, uint32_t node);

/* Forgets everything: after a batch was rolled back. */
void idg__idcache_clear(struct idg__idcache *c);

#endif
