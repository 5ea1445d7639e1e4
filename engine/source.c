/* source.c — input units read and parsed (see source.h). */
#include "source.h"

#include <stdio.h>
#include <string.h>

#include "idgraph.h"
#include "record.h"

static int
is_blank(const struct idg__line *ln)
{
	size_t i;

	for (i = 0; i < ln->n; i++)
		if (ln->p[i] != ' ' && ln->p[i] != '\t' && ln->p[i] != '\r')
			return 0;
	return 1;
}

/* A record that cannot be read: only its bytes, and why. */
static int
unreadable(struct idg__source *s, const char *p, size_t n, const char *msg)
{
	struct idg__inrec bare = {0};

	bare.raw = p;
	bare.raw_len = n;
	return s->fn(s->ctx, &bare, 0, 0, msg);
}

static int
json_unit(struct idg__source *s)
{
	struct idg__line ln;
	int got = idg__reader_line(s->rd, &ln), rc;

	if (got <= 0)
		return got < 0 ? IDG__SOURCE_EREAD : 0;
	s->line = s->rd->line;
	if (ln.n && ln.p[ln.n - 1] == '\r')
		ln.n--;
	/* A UTF-8 byte order mark opens some exported files: not data. */
	if (s->line == 1 && ln.n >= 3 && memcmp(ln.p, "\xef\xbb\xbf", 3) == 0) {
		ln.p += 3;
		ln.n -= 3;
		ln.capacity -= 3;
	}
	if (is_blank(&ln))
		return 1;
	if (ln.n > IDG__MAX_RECORD_BYTES &&
	    !idg__json_array_line(ln.p, ln.n)) {
		char msg[96];

		snprintf(msg, sizeof(msg),
			 "record is larger than 1 MiB (%zu bytes)", ln.n);
		rc = unreadable(s, ln.p, ln.n, msg);
	} else {
		rc = idg__json_parse_line(s->jp, ln.p, ln.n, ln.capacity, s->fn,
					  s->ctx);
	}
	return rc ? rc : 1;
}

static int
msgpack_unit(struct idg__source *s)
{
	const char *p;
	size_t n, off;
	int rc;

	for (;;) {
		idg__reader_window(s->rd, &p, &n);
		off = 0;
		s->line = s->rd->line + 1;
		rc = n ? idg__mpin_next(s->mp, p, n, &off, s->fn, s->ctx)
		       : IDG__MPIN_MORE;
		if (rc != IDG__MPIN_MORE)
			break;
		rc = idg__reader_more(s->rd);
		if (rc < 0)
			return IDG__SOURCE_EREAD;
		if (rc > 0 && n == 0)
			return 0;
		if (rc > 0) {
			rc = unreadable(s, p, n,
					"truncated MessagePack value at the "
					"end of the input");
			off = n;
			break;
		}
	}
	if (rc == IDG__MPIN_BROKEN) {
		s->broken = 1;
		rc = IDG_OK;
	}
	if (rc && rc != IDG_ESTOPPED)
		return rc;
	idg__reader_skip(s->rd, off);
	if (rc)
		return rc;
	return s->broken ? 0 : 1;
}

int
idg__source_unit(struct idg__source *s)
{
	return s->msgpack ? msgpack_unit(s) : json_unit(s);
}

void
idg__source_set_keys(struct idg__source *s, const struct idg__keys *keys)
{
	if (s->jp)
		idg__json_set_keys(s->jp, keys);
	if (s->mp)
		idg__mpin_set_keys(s->mp, keys);
}
