/*
 * source.h — input units read and parsed: a JSON line or a top-level
 * MessagePack value, whose records go to a callback (idg__inrec_fn) in
 * order. The same code serves an ingest on one thread and the parse stage
 * of the pipeline (pipe.h).
 */
#ifndef IDG_SOURCE_H
#define IDG_SOURCE_H

#include <stdint.h>

#include "codec_json_in.h"
#include "codec_msgpack.h"
#include "reader.h"

/* A read error (not the callback's): the reader is at line rd->line. */
#define IDG__SOURCE_EREAD (-100)

struct idg__source {
	struct idg__reader *rd;
	int msgpack;            /* MessagePack values, not JSON lines */
	struct idg__jparser *jp;
	struct idg__mpin *mp;
	idg__inrec_fn fn;       /* where the records go */
	void *ctx;
	uint64_t line;          /* the unit being read: line or value number */
	int broken;             /* MessagePack that cannot be read further */
};

/*
 * Reads one unit and hands its records to fn: 1 after a unit, 0 at the
 * end of the input (or after the value that broke a MessagePack stream),
 * IDG__SOURCE_EREAD, or what fn returned when it stopped the unit (the
 * unit is consumed all the same). Blank lines are units without records;
 * a line over 1 MiB (a truncated MessagePack value at the end) is one
 * record handed over as unreadable.
 */
int idg__source_unit(struct idg__source *s);

/*
 * The dictionary by which the parsers write the records' top-level
 * property names as numbers (idg__mpw_set_keys), or NULL for text. Only
 * the thread that reads the source may use keys meanwhile.
 */
struct idg__keys;
void idg__source_set_keys(struct idg__source *s, const struct idg__keys *keys);

#endif
