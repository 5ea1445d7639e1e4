/*
 * uf.h — an in-memory union-find over interned strings: the floor that
 * `idgraph bench` holds the engine's graph work against (no persistence,
 * no history, no rules), and the check that the engine's clusters are the
 * connected components of the merges its identity log says it applied.
 */
#ifndef IDG_UF_H
#define IDG_UF_H

#include <stddef.h>
#include <stdint.h>

#define UF_NONE UINT32_MAX

struct uf;

/* A new, empty union-find; NULL when out of memory. */
struct uf *uf_new(void);

/* Frees u; NULL is a no-op. */
void uf_free(struct uf *u);

/* The number of the string s[0..len), added as a set of its own when new;
 * UF_NONE when out of memory. */
uint32_t uf_intern(struct uf *u, const char *s, size_t len);

/* The number of s[0..len), or UF_NONE when it was never interned. */
uint32_t uf_lookup(const struct uf *u, const char *s, size_t len);

/* The root of x's set (halving the path on the way). */
uint32_t uf_find(struct uf *u, uint32_t x);

/* Joins the sets of a and b (the smaller under the larger). */
void uf_union(struct uf *u, uint32_t a, uint32_t b);

/* The number of strings interned. */
uint32_t uf_count(const struct uf *u);

/* The size of x's set. */
uint32_t uf_size(struct uf *u, uint32_t x);

/* The string of number x (NUL-terminated), its length in *len. */
const char *uf_name(const struct uf *u, uint32_t x, size_t *len);

#endif
