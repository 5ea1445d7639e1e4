/* ids.h — distinct_id interning under an XXH3-128 hash. */
#ifndef IDG_IDS_H
#define IDG_IDS_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* Finds the node of name[0..len); IDG_ENOTFOUND (no message) if none. */
int idg__ids_find(struct idg__txn *t, const char *name, size_t len,
		  uint32_t *out, struct idg__err *e);

/*
 * Finds the node of name, or makes it the node numbered *next (which is then
 * incremented) and sets *created. The caller gives the new node its graph
 * record.
 */
int idg__ids_intern(struct idg__txn *t, const char *name, size_t len,
		    uint32_t *next, uint32_t *out, int *created,
		    struct idg__err *e);
/* Makes name the node *next, without looking: the caller knows it is new
 * (a complete id cache missed it). */
int idg__ids_add(struct idg__txn *t, const char *name, size_t len,
		 uint32_t *next, uint32_t *out, struct idg__err *e);

/* The distinct_id of a node, borrowed from the transaction. */
int idg__ids_name(struct idg__txn *t, uint32_t node, struct idg__val *out,
		  struct idg__err *e);

/* Event names, interned the same way in tables of their own. */
int idg__evname_find(struct idg__txn *t, const char *name, size_t len,
		     uint32_t *out, struct idg__err *e);
int idg__evname_intern(struct idg__txn *t, const char *name, size_t len,
		       uint32_t *next, uint32_t *out, int *created,
		       struct idg__err *e);
int idg__evname_name(struct idg__txn *t, uint32_t id, struct idg__val *out,
		     struct idg__err *e);
/*
 * IDG_ENOTFOUND, saying "no event named "NAME"; known events: ..." (about
 * 200 bytes of them, in the order first seen): the error about a name the
 * database never saw.
 */
int idg__evname_unknown(struct idg__txn *t, const char *name,
			struct idg__err *e);

/* The build's id hash (XXH3-128 cut to hash_bits) of p[0..n). */
#define IDG__HASH_BYTES 16
void idg__hash(const void *p, size_t n, unsigned char out[IDG__HASH_BYTES]);
/* A full 64-bit hash (never cut to hash_bits), for in-memory tables. */
uint64_t idg__hash64(const void *p, size_t n);
/* The hash of several byte ranges, each prefixed with its length. */
void idg__hash_parts(const struct idg__val *parts, int n,
		     unsigned char out[IDG__HASH_BYTES]);
/*
 * The dedup hash of an event (SPEC: same name, time in ms, distinct_id and
 * $insert_id are one event): of the event name's text, the time and the
 * two ids, cut to hash_bits like the id hash; never 0.
 */
uint64_t idg__event_key_hash(const char *name, size_t name_len,
			     int64_t time_ms, const char *did, size_t did_len,
			     const char *ins, size_t ins_len);
/* The full XXH3-128 (never cut to hash_bits) of the bytes of open file
 * fd, read with pread (its offset does not move): a file's identity.
 * IDG_EIO with errno set when a read fails. */
int idg__hash_file(int fd, unsigned char out[IDG__HASH_BYTES]);

#endif
