/*
 * reader.c — input bytes: lines for JSON, a window for MessagePack.
 *
 * Lines are handed out where they lie when the input is memory with room
 * for simdjson's padding after them, and through one reusable buffer
 * otherwise: nothing is allocated per record. The buffer grows to hold the
 * longest line, which is then judged (and rejected if over 1 MiB) whole.
 */
#include "reader.h"

#include <stdlib.h>
#include <string.h>

#include "codec_json_in.h"
#include "idgraph.h"

#define READ_CHUNK (1u << 20)

static int
grow(struct idg__reader *r, size_t want)
{
	size_t cap = r->cap ? r->cap : READ_CHUNK;
	char *nb;

	while (cap < want)
		cap *= 2;
	if (cap == r->cap)
		return IDG_OK;
	nb = realloc(r->buf, cap + IDG__JSON_PADDING);
	if (!nb)
		return IDG_ENOMEM;
	r->buf = nb;
	r->cap = cap;
	return IDG_OK;
}

/* Moves unread bytes to the front and reads more from the stream. */
static int
fill(struct idg__reader *r)
{
	size_t got;
	int rc;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		rc = grow(r, r->cap * 2);
		if (rc)
			return rc;
	}
	got = fread(r->buf + r->end, 1, r->cap - r->end, r->fp);
	r->end += got;
	if (got == 0) {
		if (ferror(r->fp))
			return IDG_EIO;
		r->eof = 1;
	}
	return IDG_OK;
}

/* Copies a memory line that lacks padding room into the buffer. */
static int
pad_line(struct idg__reader *r, struct idg__line *ln)
{
	int rc = grow(r, ln->n);

	if (rc)
		return rc;
	memcpy(r->buf, ln->p, ln->n);
	memset(r->buf + ln->n, 0, IDG__JSON_PADDING);
	ln->p = r->buf;
	ln->capacity = r->cap + IDG__JSON_PADDING;
	return IDG_OK;
}

static int
next_mem_line(struct idg__reader *r, struct idg__line *ln)
{
	const char *p = r->mem + r->consumed, *nl;
	size_t left = r->mem_len - r->consumed;

	if (left == 0)
		return 0;
	nl = memchr(p, '\n', left);
	ln->p = p;
	ln->n = nl ? (size_t)(nl - p) : left;
	ln->capacity = left;
	r->consumed += ln->n + (nl != NULL);
	r->line++;
	if (ln->capacity < ln->n + IDG__JSON_PADDING)
		return pad_line(r, ln) ? -1 : 1;
	return 1;
}

/* Returns 1 with a line, 0 at the end of input, -1 on a read error. */
int
idg__reader_line(struct idg__reader *r, struct idg__line *ln)
{
	const char *nl;

	if (!r->fp)
		return next_mem_line(r, ln);
	for (;;) {
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl || (r->eof && r->start < r->end))
			break;
		if (r->eof)
			return 0;
		if (fill(r))
			return -1;
	}
	ln->p = r->buf + r->start;
	ln->n = nl ? (size_t)(nl - ln->p) : r->end - r->start;
	ln->capacity = r->cap + IDG__JSON_PADDING - r->start;
	r->start += ln->n + (nl != NULL);
	r->consumed += ln->n + (nl != NULL);
	r->line++;
	return 1;
}


int
idg__reader_init_mem(struct idg__reader *r, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->mem = buf;
	r->mem_len = len;
	return IDG_OK;
}

int
idg__reader_init_stream(struct idg__reader *r, FILE *fp)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	return grow(r, READ_CHUNK);
}

void
idg__reader_free(struct idg__reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

void
idg__reader_window(struct idg__reader *r, const char **p, size_t *n)
{
	if (!r->fp) {
		*p = r->mem + r->consumed;
		*n = r->mem_len - r->consumed;
	} else {
		*p = r->buf + r->start;
		*n = r->end - r->start;
	}
}

int
idg__reader_more(struct idg__reader *r)
{
	size_t before = r->end - r->start;

	if (!r->fp || r->eof)
		return 1;
	if (fill(r))
		return -1;
	return r->end - r->start == before && r->eof ? 1 : 0;
}

void
idg__reader_skip(struct idg__reader *r, size_t n)
{
	if (r->fp)
		r->start += n;
	r->consumed += n;
	r->line++;
}

int
idg__reader_peek(struct idg__reader *r)
{
	const char *p;
	size_t n, i = 0;

	for (;;) {
		idg__reader_window(r, &p, &n);
		for (; i < n; i++)
			if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
			    p[i] != '\r')
				return (unsigned char)p[i];
		if (idg__reader_more(r))
			return -1;
	}
}

int
idg__reader_seek(struct idg__reader *r, uint64_t at, uint64_t line)
{
	if (!r->fp) {
		if (at > r->mem_len)
			return IDG_EINVAL;
	} else {
		if (fseeko(r->fp, (off_t)at, SEEK_SET) != 0)
			return IDG_EIO;
		r->start = r->end = 0;
		r->eof = 0;
	}
	r->consumed = at;
	r->line = line;
	return IDG_OK;
}
