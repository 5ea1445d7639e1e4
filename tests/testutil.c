/* testutil.c — temporary directories, and ingesting test records. */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdarg.h>
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

char *
tu_write_file(const char *dir, const char *name, const void *data,
	      size_t len)
{
	char *path = malloc(4200);
	FILE *fp;

	cr_assert_not_null(path);
	snprintf(path, 4200, "%s/%s", dir, name);
	fp = fopen(path, "wb");
	cr_assert_not_null(fp, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
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

struct idg_ingest_stats
tu_ingestf(idg_db *db, const char *fmt, ...)
{
	static char buf[1 << 16];
	struct idg_ingest_stats st;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(buf), "records too long");
	cr_assert_eq(idg_ingest_buffer(db, buf, (size_t)n, NULL, &st), 0, "%s",
		     idg_errmsg(db));
	cr_assert_eq(st.rejected, 0, "%s", buf);
	return st;
}
