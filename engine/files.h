/* files.h — the input files a database remembers, by content hash. */
#ifndef IDG_FILES_H
#define IDG_FILES_H

#include <stdint.h>

#include "db.h"
#include "ids.h"

/* How far an input file's ingest got. */
struct idg__file {
	const char *name; /* as last given; not NUL-terminated */
	size_t name_len;
	uint64_t size;
	uint64_t offset; /* bytes committed */
	uint64_t line;   /* lines (or MessagePack values) committed */
	int done;        /* ingested to its end */
	int format;      /* enum idg_format actually read */
};

/* IDG_ENOTFOUND (no message) for a file never ingested. */
int idg__files_get(struct idg__txn *t, const unsigned char key[IDG__HASH_BYTES],
		   struct idg__file *out, struct idg__err *e);
/* *known: some file remembered has this size (its content may be this
 * file's; no other file's can). */
int idg__files_size_known(struct idg__txn *t, uint64_t size, int *known,
			  struct idg__err *e);
int idg__files_put(struct idg__txn *t, const unsigned char key[IDG__HASH_BYTES],
		   const struct idg__file *f, struct idg__mpw *w,
		   struct idg__err *e);

#endif
