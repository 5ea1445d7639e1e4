/*
 * keys.c — the property-name dictionary (see keys.h).
 *
 * In memory: the names end to end in one arena, their offsets by number,
 * and an open-addressing table of numbers by hash. In LMDB: the pkeys
 * table, number (uint32) -> name bytes, appended to in number order.
 */
#include "keys.h"

#include <stdlib.h>
#include <string.h>

#include "ids.h"

struct idg__keys {
	uint32_t count;  /* names 1..count are known */
	uint32_t cap;    /* room in off */
	uint32_t *off;   /* off[i]..off[i+1]: the name of number i + 1 */
	char *arena;
	size_t arena_cap;
	uint32_t *slots; /* numbers by hash; 0 = empty */
	uint32_t nslots; /* a power of two, at least twice count */
	uint32_t *nums;  /* idg__keys_number's answer */
	uint32_t nums_cap;
};

struct idg__keys *
idg__keys_new(void)
{
	return calloc(1, sizeof(struct idg__keys));
}

void
idg__keys_free(struct idg__keys *k)
{
	if (!k)
		return;
	free(k->off);
	free(k->arena);
	free(k->slots);
	free(k->nums);
	free(k);
}

void
idg__keys_clear(struct idg__keys *k)
{
	if (!k)
		return;
	k->count = 0;
	if (k->slots)
		memset(k->slots, 0, k->nslots * sizeof(*k->slots));
}

static const char *
name_of(const struct idg__keys *k, uint32_t num, size_t *n)
{
	*n = k->off[num] - k->off[num - 1];
	return k->arena + k->off[num - 1];
}

static uint32_t *
slot_for(const struct idg__keys *k, const char *s, size_t n)
{
	uint32_t mask = k->nslots - 1;
	uint32_t i = (uint32_t)idg__hash64(s, n) & mask;
	const char *p;
	size_t len;

	for (;; i = (i + 1) & mask) {
		if (k->slots[i] == 0)
			return &k->slots[i];
		p = name_of(k, k->slots[i], &len);
		if (len == n && memcmp(p, s, n) == 0)
			return &k->slots[i];
	}
}

static int
grow_slots(struct idg__keys *k)
{
	uint32_t n = k->nslots ? k->nslots * 2 : 64, num, *old = k->slots;
	uint32_t old_n = k->nslots;

	k->slots = calloc(n, sizeof(*k->slots));
	if (!k->slots) {
		k->slots = old;
		return IDG_ENOMEM;
	}
	k->nslots = n;
	for (uint32_t i = 0; i < old_n; i++) {
		size_t len;
		const char *p;

		if ((num = old[i]) == 0)
			continue;
		p = name_of(k, num, &len);
		*slot_for(k, p, len) = num;
	}
	free(old);
	return IDG_OK;
}

/* Adds s as number count + 1 in memory. */
static int
add(struct idg__keys *k, const char *s, size_t n)
{
	size_t used = k->count ? k->off[k->count] : 0;
	uint32_t *slot;

	if (k->count + 2 > k->cap) {
		uint32_t cap = k->cap ? k->cap * 2 : 64;
		uint32_t *off = realloc(k->off, cap * sizeof(*off));

		if (!off)
			return IDG_ENOMEM;
		off[0] = 0;
		k->off = off;
		k->cap = cap;
	}
	if (used + n > k->arena_cap) {
		size_t cap = k->arena_cap ? k->arena_cap : 1024;
		char *a;

		while (cap < used + n)
			cap *= 2;
		if (!(a = realloc(k->arena, cap)))
			return IDG_ENOMEM;
		k->arena = a;
		k->arena_cap = cap;
	}
	if (2 * (k->count + 1) > k->nslots && grow_slots(k))
		return IDG_ENOMEM;
	if (n)
		memcpy(k->arena + used, s, n);
	k->off[k->count + 1] = (uint32_t)(used + n);
	slot = slot_for(k, s, n);
	k->count++;
	*slot = k->count;
	return IDG_OK;
}

int
idg__keys_sync(struct idg__keys *k, struct idg__txn *t, struct idg__err *e)
{
	struct idg__cursor *c;
	struct idg__val key, v;
	uint32_t next = k->count + 1, num;
	int rc = idg__cursor_open(t, IDG__T_PKEYS, &c, e), op = IDG__SET_KEY;

	key.p = &next;
	key.n = sizeof(next);
	while (rc == IDG_OK &&
	       (rc = idg__cursor_get(c, op, &key, &v, e)) == IDG_OK) {
		op = IDG__NEXT;
		num = 0;
		if (key.n == sizeof(num))
			memcpy(&num, key.p, sizeof(num));
		if (num != k->count + 1 || v.n > IDG__KEY_MAX_LEN) {
			rc = idg__err_set(e, IDG_ECORRUPT,
					  "pkeys: property name %u is corrupt",
					  (unsigned)num);
			break;
		}
		if (add(k, v.p, v.n))
			rc = idg__err_set(e, IDG_ENOMEM, "out of memory");
	}
	idg__cursor_close(c);
	return rc == IDG_ENOTFOUND ? IDG_OK : rc;
}

int
idg__keys_intern(struct idg__keys *k, struct idg__txn *t, const char *s,
		 size_t n, uint32_t *num, struct idg__err *e)
{
	uint32_t next;
	int rc;

	if ((*num = idg__keys_find(k, s, n)) != 0)
		return IDG_OK;
	if (n > IDG__KEY_MAX_LEN || k->count >= IDG__KEYS_MAX)
		return IDG_OK;
	next = k->count + 1;
	rc = idg__store_put(t, IDG__T_PKEYS, &next, sizeof(next), s, n,
			    IDG__PUT_APPEND, e);
	if (rc == IDG_OK && add(k, s, n))
		rc = idg__err_set(e, IDG_ENOMEM, "out of memory");
	if (rc == IDG_OK)
		*num = next;
	return rc;
}

int
idg__keys_number(struct idg__keys *k, struct idg__txn *t, const char *props,
		 const struct idg__pkey *pk, uint32_t n, const uint32_t **nums,
		 struct idg__err *e)
{
	uint32_t i;
	int rc = IDG_OK;

	if (n > k->nums_cap) {
		uint32_t cap = n < 64 ? 64 : n;
		uint32_t *p = realloc(k->nums, cap * sizeof(*p));

		if (!p)
			return idg__err_set(e, IDG_ENOMEM, "out of memory");
		k->nums = p;
		k->nums_cap = cap;
	}
	for (i = 0; rc == IDG_OK && i < n; i++) {
		k->nums[i] = pk[i].num;
		if (!pk[i].num)
			rc = idg__keys_intern(k, t, props + pk[i].val - pk[i].len,
					      pk[i].len, &k->nums[i], e);
	}
	*nums = k->nums;
	return rc;
}

uint32_t
idg__keys_count(const struct idg__keys *k)
{
	return k->count;
}

int
idg__keys_add(struct idg__keys *k, uint32_t num, const char *s, size_t n)
{
	if (num != k->count + 1 || n > IDG__KEY_MAX_LEN ||
	    num > IDG__KEYS_MAX)
		return IDG_EINVAL;
	return add(k, s, n);
}

uint32_t
idg__keys_find(const struct idg__keys *k, const char *s, size_t n)
{
	if (k->count == 0)
		return 0;
	return *slot_for(k, s, n);
}

/* a[0..n) == b[0..n): names of 4 to 16 bytes, most of them, by two
 * overlapping loads from each rather than a call to memcmp. */
static int
same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t a0, a1, b0, b1;
	uint32_t c0, c1, d0, d1;

	if (n >= 8 && n <= 16) {
		memcpy(&a0, a, 8);
		memcpy(&b0, b, 8);
		memcpy(&a1, a + n - 8, 8);
		memcpy(&b1, b + n - 8, 8);
		return ((a0 ^ b0) | (a1 ^ b1)) == 0;
	}
	if (n >= 4 && n < 8) {
		memcpy(&c0, a, 4);
		memcpy(&d0, b, 4);
		memcpy(&c1, a + n - 4, 4);
		memcpy(&d1, b + n - 4, 4);
		return ((c0 ^ d0) | (c1 ^ d1)) == 0;
	}
	return memcmp(a, b, n) == 0;
}

int
idg__keys_is(const struct idg__keys *k, uint32_t num, const char *s, size_t n)
{
	const char *p;
	size_t len;

	if (num == 0 || num > k->count)
		return 0;
	p = name_of(k, num, &len);
	return len == n && same_bytes(p, s, n);
}

int
idg__keys_name(const struct idg__keys *k, uint64_t num, const char **s,
	       size_t *n)
{
	if (num == 0 || num > k->count)
		return -1;
	*s = name_of(k, (uint32_t)num, n);
	return 0;
}
