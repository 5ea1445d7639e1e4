/*
 * idcache.c — distinct_id -> node, in memory, in front of the ids table.
 *
 * Nodes are never renumbered or removed once committed, so a cached
 * mapping stays true for as long as its batch is not rolled back: the
 * ingest clears the cache when a batch aborts. Another process may add
 * nodes meanwhile; those are simply misses. Names are kept whole in an
 * arena and compared, so a hash collision is only a slower lookup. The
 * cache is bounded: when it would pass its limits it starts over empty.
 */
#include "idcache.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES (UINT64_C(1) << 23)
#define MAX_ARENA ((size_t)1 << 29)

struct slot {
	uint64_t hash;
	uint64_t off; /* name's offset in the arena; 0 marks an empty slot */
	uint32_t node;
	uint32_t len;
};

struct idg__idcache {
	struct slot *slots;
	size_t cap, n; /* cap is a power of two */
	char *arena;   /* names; offset 0 is never used */
	size_t alen, acap;
	int complete;  /* holds every id of the database */
};

struct idg__idcache *
idg__idcache_new(void)
{
	return calloc(1, sizeof(struct idg__idcache));
}

void
idg__idcache_free(struct idg__idcache *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c->arena);
	free(c);
}

void
idg__idcache_clear(struct idg__idcache *c)
{
	if (c->slots)
		memset(c->slots, 0, c->cap * sizeof(*c->slots));
	c->n = 0;
	c->alen = 1;
	c->complete = 0;
}

void
idg__idcache_set_complete(struct idg__idcache *c, int complete)
{
	c->complete = complete;
}

int
idg__idcache_complete(const struct idg__idcache *c)
{
	return c->complete;
}

uint32_t
idg__idcache_get(const struct idg__idcache *c, const char *name, size_t len,
		 uint64_t hash)
{
	size_t i;

	if (!c->cap)
		return 0;
	for (i = hash & (c->cap - 1); c->slots[i].off;
	     i = (i + 1) & (c->cap - 1)) {
		const struct slot *s = &c->slots[i];

		if (s->hash == hash && s->len == len &&
		    memcmp(c->arena + s->off, name, len) == 0)
			return s->node;
	}
	return 0;
}

void
idg__idcache_prefetch(const struct idg__idcache *c, uint64_t hash, int stage)
{
	const struct slot *s;

	if (!c->cap)
		return;
	s = &c->slots[hash & (c->cap - 1)];
	if (stage == 0)
		__builtin_prefetch(s);
	else if (s->off && s->hash == hash)
		__builtin_prefetch(c->arena + s->off);
}

static void
insert(struct slot *slots, size_t cap, const struct slot *s)
{
	size_t i;

	for (i = s->hash & (cap - 1); slots[i].off; i = (i + 1) & (cap - 1))
		;
	slots[i] = *s;
}

static int
grow_slots(struct idg__idcache *c)
{
	size_t cap = c->cap ? c->cap * 2 : 1u << 16, i;
	struct slot *s = calloc(cap, sizeof(*s));

	if (!s)
		return -1;
	for (i = 0; i < c->cap; i++)
		if (c->slots[i].off)
			insert(s, cap, &c->slots[i]);
	free(c->slots);
	c->slots = s;
	c->cap = cap;
	return 0;
}

static int
grow_arena(struct idg__idcache *c, size_t need)
{
	size_t cap = c->acap ? c->acap : 1u << 20;
	char *a;

	while (cap < c->alen + need)
		cap *= 2;
	a = realloc(c->arena, cap);
	if (!a)
		return -1;
	c->arena = a;
	c->acap = cap;
	return 0;
}

void
idg__idcache_put(struct idg__idcache *c, const char *name, size_t len,
		 uint64_t hash, uint32_t node)
{
	struct slot s;

	if (len > UINT32_MAX) {
		c->complete = 0;
		return;
	}
	if (c->n + 1 > MAX_ENTRIES || c->alen + len > MAX_ARENA)
		idg__idcache_clear(c);
	if (c->alen == 0)
		c->alen = 1;
	if (((c->n + 1) * 4 > c->cap * 3 && grow_slots(c)) ||
	    (c->alen + len > c->acap && grow_arena(c, len))) {
		c->complete = 0; /* out of memory: the cache stays smaller */
		return;
	}
	memcpy(c->arena + c->alen, name, len);
	s = (struct slot){hash, c->alen, node, (uint32_t)len};
	c->alen += len;
	insert(c->slots, c->cap, &s);
	c->n++;
}
