/* testutil.c — temporary directories for tests. */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path = malloc(4096);

	if (!path)
		abort();
	snprintf(path, 4096, "%s/idgraph-test-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(path))
		abort();
	return path;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tu_rmdir(char *path)
{
	if (!path)
		return;
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
}
