/*
 * ids.c — distinct_id and event name interning, and the project's hash:
 * the only file that includes <xxhash.h>.
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

#include <errno.h>
#include <string.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "idg_config.h"

#define HASH_BYTES IDG__HASH_BYTES

/* The two tables of one interning dictionary. */
struct dict {
	int hashes; /* hash -> numbers, dup-sorted uint32 */
	int names;  /* number -> bytes */
	const char *what;
};

static const struct dict ids = {IDG__T_IDS, IDG__T_NAMES, "node"};
static const struct dict evnames = {IDG__T_EVHASH, IDG__T_EVNAMES,
				    "event name"};

static void
cut(XXH128_hash_t h, unsigned char key[HASH_BYTES])
{
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

static void
hash_key(const char *name, size_t len, unsigned char key[HASH_BYTES])
{
	cut(XXH3_128bits(name, len), key);
}

void
idg__hash(const void *p, size_t n, unsigned char out[IDG__HASH_BYTES])
{
	cut(XXH3_128bits(p, n), out);
}

uint64_t
idg__hash64(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

void
idg__hash_parts(const struct idg__val *parts, int n,
		unsigned char out[IDG__HASH_BYTES])
{
	XXH3_state_t st;
	unsigned char buf[512];
	uint64_t len;
	size_t used = 0;
	int i;

	/* Small inputs (the common case) in one call: streaming costs more. */
	for (i = 0; i < n && used <= sizeof(buf); i++)
		used += sizeof(len) + parts[i].n;
	if (used <= sizeof(buf)) {
		used = 0;
		for (i = 0; i < n; i++) {
			len = parts[i].n;
			memcpy(buf + used, &len, sizeof(len));
			if (parts[i].n)
				memcpy(buf + used + sizeof(len), parts[i].p,
				       parts[i].n);
			used += sizeof(len) + parts[i].n;
		}
		cut(XXH3_128bits(buf, used), out);
		return;
	}
	XXH3_128bits_reset(&st);
	for (i = 0; i < n; i++) {
		len = parts[i].n;
		XXH3_128bits_update(&st, &len, sizeof(len));
		if (parts[i].n)
			XXH3_128bits_update(&st, parts[i].p, parts[i].n);
	}
	cut(XXH3_128bits_digest(&st), out);
}

uint64_t
idg__event_key_hash(const char *name, size_t name_len, int64_t time_ms,
		    const char *did, size_t did_len, const char *ins,
		    size_t ins_len)
{
	unsigned char time[8], h[HASH_BYTES];
	struct idg__val parts[4] = {
	    {name, name_len}, {time, 8}, {did, did_len}, {ins, ins_len}};
	uint64_t v = (uint64_t)time_ms;

	for (int i = 0; i < 8; i++)
		time[i] = (unsigned char)(v >> (56 - 8 * i));
	idg__hash_parts(parts, 4, h);
	memcpy(&v, h, sizeof(v));
	return v ? v : 1;
}

int
idg__hash_file(int fd, unsigned char out[IDG__HASH_BYTES])
{
	XXH3_state_t st;
	XXH128_hash_t h;
	char buf[1 << 16];
	off_t at = 0;
	ssize_t got;

	XXH3_128bits_reset(&st);
	while ((got = pread(fd, buf, sizeof(buf), at)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return IDG_EIO;
		XXH3_128bits_update(&st, buf, (size_t)got);
		at += got;
	}
	/* Never cut: nothing stands behind a file's hash to confirm it. */
	h = XXH3_128bits_digest(&st);
	memcpy(out, &h.low64, 8);
	memcpy(out + 8, &h.high64, 8);
	return IDG_OK;
}

static int
dict_name(const struct dict *d, struct idg__txn *t, uint32_t n,
	  struct idg__val *out, struct idg__err *e)
{
	int rc = idg__store_get(t, d->names, &n, sizeof(n), out, e);

	if (rc == IDG_ENOTFOUND)
		return idg__err_set(e, IDG_ECORRUPT, "%s %u has no name",
				    d->what, n);
	return rc;
}

/* Walks the chain of nodes under one hash, comparing names. */
static int
find_in_chain(const struct dict *d, struct idg__txn *t,
	      const unsigned char key[HASH_BYTES], const char *name,
	      size_t len, uint32_t *out, struct idg__err *e)
{
	struct idg__cursor *c;
	struct idg__val k = {key, HASH_BYTES}, v, nm;
	uint32_t node;
	int rc, op = IDG__SET_KEY;

	/* Most hashes name one id: a plain get finds it without a cursor. */
	rc = idg__store_get(t, d->hashes, key, HASH_BYTES, &v, e);
	if (rc)
		return rc;
	memcpy(&node, v.p, sizeof(node));
	rc = dict_name(d, t, node, &nm, e);
	if (rc == IDG_OK && nm.n == len && memcmp(nm.p, name, len) == 0) {
		*out = node;
		return IDG_OK;
	}
	if (rc)
		return rc;
	rc = idg__cursor_open(t, d->hashes, &c, e);
	if (rc)
		return rc;
	while ((rc = idg__cursor_get(c, op, &k, &v, e)) == IDG_OK) {
		op = IDG__NEXT_DUP;
		memcpy(&node, v.p, sizeof(node));
		rc = dict_name(d, t, node, &nm, e);
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

static int
dict_find(const struct dict *d, struct idg__txn *t, const char *name,
	  size_t len, uint32_t *out, struct idg__err *e)
{
	unsigned char key[HASH_BYTES];

	hash_key(name, len, key);
	return find_in_chain(d, t, key, name, len, out, e);
}

/* Interns name; with is_new the caller knows it is absent: no lookup. */
static int
dict_intern(const struct dict *d, struct idg__txn *t, const char *name,
	    size_t len, int is_new, uint32_t *next, uint32_t *out,
	    int *created, struct idg__err *e)
{
	unsigned char key[HASH_BYTES];
	uint32_t node;
	int rc;

	*created = 0;
	hash_key(name, len, key);
	rc = is_new ? IDG_ENOTFOUND
		    : find_in_chain(d, t, key, name, len, out, e);
	if (rc != IDG_ENOTFOUND)
		return rc;
	if (*next == UINT32_MAX)
		return idg__err_set(e, IDG_EFULL, "too many %ss", d->what);
	node = (*next)++;
	rc = idg__store_put(t, d->names, &node, sizeof(node), name, len,
			    IDG__PUT_APPEND, e);
	if (rc == IDG_OK)
		rc = idg__store_put(t, d->hashes, key, HASH_BYTES, &node,
				    sizeof(node), 0, e);
	if (rc == IDG_OK) {
		*out = node;
		*created = 1;
	}
	return rc;
}

int
idg__ids_find(struct idg__txn *t, const char *name, size_t len,
	      uint32_t *out, struct idg__err *e)
{
	return dict_find(&ids, t, name, len, out, e);
}

int
idg__ids_intern(struct idg__txn *t, const char *name, size_t len,
		uint32_t *next, uint32_t *out, int *created,
		struct idg__err *e)
{
	return dict_intern(&ids, t, name, len, 0, next, out, created, e);
}

int
idg__ids_add(struct idg__txn *t, const char *name, size_t len,
	     uint32_t *next, uint32_t *out, struct idg__err *e)
{
	int created;

	return dict_intern(&ids, t, name, len, 1, next, out, &created, e);
}

int
idg__ids_name(struct idg__txn *t, uint32_t node, struct idg__val *out,
	      struct idg__err *e)
{
	return dict_name(&ids, t, node, out, e);
}

int
idg__evname_find(struct idg__txn *t, const char *name, size_t len,
		 uint32_t *out, struct idg__err *e)
{
	return dict_find(&evnames, t, name, len, out, e);
}

int
idg__evname_intern(struct idg__txn *t, const char *name, size_t len,
		   uint32_t *next, uint32_t *out, int *created,
		   struct idg__err *e)
{
	return dict_intern(&evnames, t, name, len, 0, next, out, created, e);
}

int
idg__evname_name(struct idg__txn *t, uint32_t id, struct idg__val *out,
		 struct idg__err *e)
{
	return dict_name(&evnames, t, id, out, e);
}

int
idg__evname_unknown(struct idg__txn *t, const char *name, struct idg__err *e)
{
	char known[256] = "";
	struct idg__val v;
	size_t len = 0;

	for (uint32_t id = 1;
	     len < 200 && idg__evname_name(t, id, &v, e) == IDG_OK; id++)
		len += (size_t)snprintf(known + len, sizeof(known) - len,
					"%s%.*s", id > 1 ? ", " : "",
					(int)(v.n > 40 ? 40 : v.n),
					(const char *)v.p);
	return idg__err_set(e, IDG_ENOTFOUND, "no event named \"%s\"%s%s",
			    name, len ? "; known events: " : " (no events yet)",
			    known);
}
