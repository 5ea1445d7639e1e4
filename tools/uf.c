/*
 * uf.c — union-find by size with path halving, over strings interned in an
 * open-addressing hash table.
 *
 * Invariant: every interned string has a number below n; parent[x] == x
 * exactly for roots, and size[r] of a root r counts the strings in its set.
 * The table holds number + 1 in each used slot (0 is empty) and is never
 * more than half full, so a probe always ends at an empty slot.
 */
#include "uf.h"

#include <stdlib.h>
#include <string.h>

struct uf {
	char *text; /* every string, NUL-terminated, back to back */
	size_t tlen, tcap;
	size_t *off; /* where string x starts in text */
	uint32_t *len, *parent, *size;
	uint32_t n, cap;
	uint32_t *slots;
	size_t nslots; /* a power of two */
};

/* FNV-1a: the CLI may not use the engine's xxHash, and ids are short. */
static uint64_t
hash(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
	return h ^ (h >> 29);
}

struct uf *
uf_new(void)
{
	struct uf *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->nslots = 1024;
	if ((u->slots = calloc(u->nslots, sizeof(*u->slots))) == NULL) {
		free(u);
		return NULL;
	}
	return u;
}

void
uf_free(struct uf *u)
{
	if (!u)
		return;
	free(u->text);
	free(u->off);
	free(u->len);
	free(u->parent);
	free(u->size);
	free(u->slots);
	free(u);
}

static int
equal(const struct uf *u, uint32_t x, const char *s, size_t len)
{
	return u->len[x] == len && memcmp(u->text + u->off[x], s, len) == 0;
}

/* The slot of s: its own when interned, else the empty one to fill. */
static size_t
probe(const struct uf *u, const char *s, size_t len)
{
	size_t mask = u->nslots - 1, i = (size_t)hash(s, len) & mask;

	while (u->slots[i] && !equal(u, u->slots[i] - 1, s, len))
		i = (i + 1) & mask;
	return i;
}

uint32_t
uf_lookup(const struct uf *u, const char *s, size_t len)
{
	uint32_t v = u->slots[probe(u, s, len)];

	return v ? v - 1 : UF_NONE;
}

static int
rehash(struct uf *u)
{
	size_t n = u->nslots * 2;
	uint32_t *old = u->slots, *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -1;
	u->slots = slots;
	u->nslots = n;
	for (uint32_t x = 0; x < u->n; x++)
		u->slots[probe(u, u->text + u->off[x], u->len[x])] = x + 1;
	free(old);
	return 0;
}

static int
grow_arrays(struct uf *u)
{
	uint32_t cap = u->cap ? u->cap * 2 : 1024;
	void *p;

	if ((p = realloc(u->off, cap * sizeof(*u->off))) == NULL)
		return -1;
	u->off = p;
	if ((p = realloc(u->len, cap * sizeof(*u->len))) == NULL)
		return -1;
	u->len = p;
	if ((p = realloc(u->parent, cap * sizeof(*u->parent))) == NULL)
		return -1;
	u->parent = p;
	if ((p = realloc(u->size, cap * sizeof(*u->size))) == NULL)
		return -1;
	u->size = p;
	u->cap = cap;
	return 0;
}

static int
add_text(struct uf *u, const char *s, size_t len)
{
	if (u->tlen + len + 1 > u->tcap) {
		size_t cap = u->tcap ? u->tcap : 65536;
		char *p;

		while (cap < u->tlen + len + 1)
			cap *= 2;
		if ((p = realloc(u->text, cap)) == NULL)
			return -1;
		u->text = p;
		u->tcap = cap;
	}
	memcpy(u->text + u->tlen, s, len);
	u->text[u->tlen + len] = '\0';
	return 0;
}

uint32_t
uf_intern(struct uf *u, const char *s, size_t len)
{
	size_t i = probe(u, s, len);
	uint32_t x = u->n;

	if (u->slots[i])
		return u->slots[i] - 1;
	if (x == UF_NONE - 1 || len > UINT32_MAX ||
	    (x == u->cap && grow_arrays(u)) || add_text(u, s, len))
		return UF_NONE;
	u->off[x] = u->tlen;
	u->len[x] = (uint32_t)len;
	u->parent[x] = x;
	u->size[x] = 1;
	u->tlen += len + 1;
	u->slots[i] = x + 1;
	u->n++;
	if (u->n * 2 > u->nslots && rehash(u))
		return UF_NONE;
	return x;
}

uint32_t
uf_find(struct uf *u, uint32_t x)
{
	while (u->parent[x] != x) {
		u->parent[x] = u->parent[u->parent[x]];
		x = u->parent[x];
	}
	return x;
}

void
uf_union(struct uf *u, uint32_t a, uint32_t b)
{
	uint32_t t;

	a = uf_find(u, a);
	b = uf_find(u, b);
	if (a == b)
		return;
	if (u->size[a] < u->size[b]) {
		t = a;
		a = b;
		b = t;
	}
	u->parent[b] = a;
	u->size[a] += u->size[b];
}

uint32_t
uf_count(const struct uf *u)
{
	return u->n;
}

uint32_t
uf_size(struct uf *u, uint32_t x)
{
	return u->size[uf_find(u, x)];
}

const char *
uf_name(const struct uf *u, uint32_t x, size_t *len)
{
	*len = u->len[x];
	return u->text + u->off[x];
}
