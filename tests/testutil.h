/* testutil.h — helpers shared by the Criterion tests. */
#ifndef IDG_TESTUTIL_H
#define IDG_TESTUTIL_H

#include <stddef.h>

#include "idgraph.h"

/* Makes a fresh temporary directory; returns its path (static storage per
 * call slot is not used: the string is malloc'd, free it with tu_rmdir). */
char *tu_tmpdir(void);
/* Removes the directory tree at path and frees path. NULL is a no-op. */
void tu_rmdir(char *path);

/* Writes data[0..len) to the file dir/name; returns its path (malloc'd). */
char *tu_write_file(const char *dir, const char *name, const void *data,
		    size_t len);

/*
 * Ingests the records printf-formatted from fmt into db, asserting that
 * the ingest succeeds and rejects none; returns its counts.
 */
struct idg_ingest_stats tu_ingestf(idg_db *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
