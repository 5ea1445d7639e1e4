/*
 * pipe.h — the two-stage ingest: reading and parsing (source.h) on a
 * thread of its own, while the caller's thread applies.
 *
 * The parse stage checks each record and copies what the apply stage
 * needs of it (a valid record's fields and properties, a rejected one's
 * reason and bytes) into chunks of about 1 MiB; four chunks go round between the two
 * threads, so the parser runs at most three chunks ahead and memory stays
 * bounded (a unit of many records, a long JSON array line, spans chunks;
 * only a single record larger than a chunk makes one larger). The apply
 * stage takes units back in input order, each with the reader's position
 * after it, exactly as a one-thread ingest would see them: same records,
 * same order, same line numbers, same offsets.
 */
#ifndef IDG_PIPE_H
#define IDG_PIPE_H

#include <stdint.h>

#include "record.h"
#include "source.h"

/* Where a unit was read from, and where the reader stood after it. */
struct idg__upos {
	uint64_t line;     /* the unit's line (or value) number */
	uint64_t rd_line;  /* the reader's line count after the unit */
	uint64_t consumed; /* input bytes up to the end of the unit */
};

struct idg__pipe;

/*
 * Starts the parse stage over src, which the pipe uses from now on (its
 * fn and ctx are replaced). The stage also checks each record
 * (idg__record_check, against now_ms and mode), so that only what the
 * apply stage needs crosses. With keys, the apply stage's dictionary of
 * property names, the parsers number names by a copy of it (see pipe.c);
 * only the apply stage may add to keys meanwhile. IDG_ENOMEM, or IDG_EIO
 * if no thread starts.
 */
struct idg__keys;
int idg__pipe_start(struct idg__pipe **out, const struct idg__source *src,
		    const struct idg__keys *keys, int64_t now_ms, int mode);

/*
 * The next unit: *pos is set, then its checked records go to fn(ctx,
 * ...) in order, and ahead (if not NULL) is told of the records that
 * follow in the chunk 8 (stage 0) and 4 (stage 1) records before each is
 * taken. Returns what idg__source_unit returned for it (1, 0 at the end,
 * IDG__SOURCE_EREAD), IDG_ENOMEM if the parse stage ran out of memory, or
 * fn's nonzero return, which ends the unit's replay.
 */
int idg__pipe_unit(struct idg__pipe *p, idg__vrec_fn fn, idg__ahead_fn ahead,
		   void *ctx, struct idg__upos *pos);

/* Where the stages' time went, in seconds (idg_ingest_stats). */
struct idg__pipe_times {
	double parse_busy, parse_wait, apply_wait;
};

/*
 * Stops the parse stage, adds its times to *t (if t is not NULL) and
 * frees p. The stage reads no further unit, but finishes the one it is
 * reading (or its record, in a long line) if that part of it fits in its
 * chunk: this may wait for a read from a pipe.
 */
void idg__pipe_end(struct idg__pipe *p, struct idg__pipe_times *t);

#endif
