/* testutil.h — helpers shared by the Criterion tests. */
#ifndef IDG_TESTUTIL_H
#define IDG_TESTUTIL_H

#include <stddef.h>

/* Makes a fresh temporary directory; returns its path (static storage per
 * call slot is not used: the string is malloc'd, free it with tu_rmdir). */
char *tu_tmpdir(void);
/* Removes the directory tree at path and frees path. NULL is a no-op. */
void tu_rmdir(char *path);

#endif
