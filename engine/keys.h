/*
 * keys.h — property names interned to small numbers in stored event bodies.
 *
 * An event body's top-level property names are mostly the same few dozen
 * ("$current_url", "$browser", ...): a body stores each as its number in
 * the pkeys table (MessagePack positive integer, 1 byte up to 127) instead
 * of its text, which takes about a quarter off an event's stored size.
 * Numbers count from 1 and never change; up to IDG__KEYS_MAX names of at
 * most IDG__KEY_MAX_LEN bytes are interned, later or longer ones stay text
 * (a body may hold both). Nested maps keep their names as text.
 *
 * A handle keeps the dictionary in memory (bounded by the limits above):
 * idg__keys_sync brings it up to a transaction's snapshot, and must run
 * at the start of each write batch (another handle may have added names)
 * and before a reader decodes bodies.
 */
#ifndef IDG_KEYS_H
#define IDG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "input.h"
#include "store.h"

#define IDG__KEYS_MAX 65535u
#define IDG__KEY_MAX_LEN 255u

struct idg__keys;

struct idg__keys *idg__keys_new(void);
void idg__keys_free(struct idg__keys *k);
/* Forgets every name (after a failed batch: the next sync reloads). */
void idg__keys_clear(struct idg__keys *k);

/* Loads the names t sees that k does not know yet. */
int idg__keys_sync(struct idg__keys *k, struct idg__txn *t,
		   struct idg__err *e);
/*
 * The number of s[0..n), interned in the write transaction t if new;
 * *num = 0 when the name stays text (too long, or the dictionary full).
 */
int idg__keys_intern(struct idg__keys *k, struct idg__txn *t, const char *s,
		     size_t n, uint32_t *num, struct idg__err *e);
/*
 * The numbers of a body's n top-level names (pk[i] locates name i in
 * props), into *nums (room owned by k, valid until the next call): a
 * name written as its number keeps it, one written as text is interned
 * in the write transaction t (0 if it stays text).
 */
int idg__keys_number(struct idg__keys *k, struct idg__txn *t,
		     const char *props, const struct idg__pkey *pk, uint32_t n,
		     const uint32_t **nums, struct idg__err *e);

/* How many names k knows (numbers 1..count). */
uint32_t idg__keys_count(const struct idg__keys *k);
/* Adds s[0..n) as number num, which must be count + 1, in memory only (a
 * copy of another handle's dictionary). IDG_OK, IDG_ENOMEM or
 * IDG_EINVAL. */
int idg__keys_add(struct idg__keys *k, uint32_t num, const char *s, size_t n);

/* The number of a known name, or 0. */
uint32_t idg__keys_find(const struct idg__keys *k, const char *s, size_t n);
/* Whether s[0..n) is the name of number num (cheaper than a lookup). */
int idg__keys_is(const struct idg__keys *k, uint32_t num, const char *s,
		 size_t n);
/* The name of number num: 0, or -1 when num is unknown. */
int idg__keys_name(const struct idg__keys *k, uint64_t num, const char **s,
		   size_t *n);

#endif
