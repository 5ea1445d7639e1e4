/*
 * ids.c — distinct_id interning: the only file that includes <xxhash.h>.
 *
 * Each distinct_id is a node, numbered 1, 2, ... in the order the database
 * first saw it. The ids table maps the id's XXH3-128 hash to the numbers of
 * the nodes with that hash (a dup-sorted list), and the names table maps a
 * node number back to the id's exact bytes. Invariant: two nodes never have
 * equal names. A hash match alone proves nothing: every candidate's name is
 * compared byte for byte, so a collision chains instead of merging two ids.
 * The build option hash_bits keeps only that many low bits of the hash,
 * which makes collisions constant and exercises the chains in the tests.
 */
#include "ids.h"

#include <string.h>
#include <xxhash.h>

#include "idg_config.h"

#define HASH_BYTES 16

static void
hash_key(const char *name, size_t len, unsigned char key[HASH_BYTES])
{
	XXH128_hash_t h = XXH3_128bits(name, len);
	uint64_t lo = h.low64, hi = h.high64;
	int bits = IDG_HASH_BITS;

	if (bits < 64) {
		lo &= (UINT64_C(1) << bits) - 1;
		hi = 0;
	} else if (bits < 128) {
		hi &= (UINT64_C(1) << (bits - 64)) - 1;
	}
	memcpy(key, &lo, 8);
	memcpy(key + 8, &hi, 8);
}

int
idg__ids_name(struct idg__txn *t, uint32_t node, struct idg__val *out,
	      struct idg__err *e)
{
	int rc = idg__store_get(t, IDG__T_NAMES, &node, sizeof(node), out, e);

	if (rc == IDG_ENOTFOUND)
		return idg__err_set(e, IDG_ECORRUPT, "node %u has no name",
				    node);
	return rc;
}

/* Walks the chain of nodes under one hash, comparing names. */
static int
find_in_chain(struct idg__txn *t, const unsigned char key[HASH_BYTES],
	      const char *name, size_t len, uint32_t *out, struct idg__err *e)
{
	struct idg__cursor *c;
	struct idg__val k = {key, HASH_BYTES}, v, nm;
	uint32_t node;
	int rc, op = IDG__SET_KEY;

	rc = idg__cursor_open(t, IDG__T_IDS, &c, e);
	if (rc)
		return rc;
	while ((rc = idg__cursor_get(c, op, &k, &v, e)) == IDG_OK) {
		op = IDG__NEXT_DUP;
		memcpy(&node, v.p, sizeof(node));
		rc = idg__ids_name(t, node, &nm, e);
		if (rc)
			break;
		if (nm.n == len && memcmp(nm.p, name, len) == 0) {
			*out = node;
			break;
		}
	}
	idg__cursor_close(c);
	return rc;
}

int
idg__ids_find(struct idg__txn *t, const char *name, size_t len,
	      uint32_t *out, struct idg__err *e)
{
	unsigned char key[HASH_BYTES];

	hash_key(name, len, key);
	return find_in_chain(t, key, name, len, out, e);
}

int
idg__ids_intern(struct idg__txn *t, const char *name, size_t len,
		uint32_t *next, uint32_t *out, int *created,
		struct idg__err *e)
{
	unsigned char key[HASH_BYTES];
	uint32_t node;
	int rc;

	*created = 0;
	hash_key(name, len, key);
	rc = find_in_chain(t, key, name, len, out, e);
	if (rc != IDG_ENOTFOUND)
		return rc;
	if (*next == UINT32_MAX)
		return idg__err_set(e, IDG_EFULL, "too many distinct_ids");
	node = (*next)++;
	rc = idg__store_put(t, IDG__T_NAMES, &node, sizeof(node), name, len,
			    IDG__PUT_APPEND, e);
	if (rc == IDG_OK)
		rc = idg__store_put(t, IDG__T_IDS, key, HASH_BYTES, &node,
				    sizeof(node), 0, e);
	if (rc == IDG_OK) {
		*out = node;
		*created = 1;
	}
	return rc;
}
