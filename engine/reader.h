/* reader.h — input bytes, as lines (JSON) or as a window (MessagePack). */
#ifndef IDG_READER_H
#define IDG_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Lines from a stream or from memory. */
struct idg__reader {
	FILE *fp;            /* stream source, or NULL */
	const char *mem;     /* memory source */
	size_t mem_len;
	char *buf;           /* holds cap bytes + IDG__JSON_PADDING */
	size_t cap, start, end;
	int eof;
	uint64_t line;       /* number of the line last returned */
	uint64_t consumed;   /* input bytes up to the end of that line */
};

struct idg__line {
	const char *p;
	size_t n;
	size_t capacity; /* readable bytes from p */
};

int idg__reader_init_mem(struct idg__reader *r, const char *buf, size_t len);
int idg__reader_init_stream(struct idg__reader *r, FILE *fp);
void idg__reader_free(struct idg__reader *r);

/* Returns 1 with a line, 0 at the end of input, -1 on a read error. */
int idg__reader_line(struct idg__reader *r, struct idg__line *ln);

/*
 * The unread bytes: *p and *n. idg__reader_more() reads more of a stream
 * into the window (1 at the end of input, -1 on error); after a value is
 * used, idg__reader_skip() consumes its n bytes.
 */
void idg__reader_window(struct idg__reader *r, const char **p, size_t *n);
int idg__reader_more(struct idg__reader *r);
void idg__reader_skip(struct idg__reader *r, size_t n);

/* The first byte of the input that is not white space, or -1 if none. */
int idg__reader_peek(struct idg__reader *r);

/* Moves a stream to byte offset at, which is line (or value) number line. */
int idg__reader_seek(struct idg__reader *r, uint64_t at, uint64_t line);

#endif
