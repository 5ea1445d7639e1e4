/*
 * codec_json_in.h — JSON records in: the C face of codec_json_in.cpp,
 * which parses with simdjson's On Demand API.
 */
#ifndef IDG_CODEC_JSON_IN_H
#define IDG_CODEC_JSON_IN_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes after a line's end that must be readable (simdjson's padding). */
#define IDG__JSON_PADDING 64

struct idg__jparser;

struct idg__jparser *idg__jparser_new(void);
void idg__jparser_free(struct idg__jparser *jp);

/*
 * Parses line[0..len), a JSON object or an array of objects, and calls cb
 * for each record. capacity >= len + IDG__JSON_PADDING bytes of line must
 * be readable. Returns 0, or what cb returned.
 */
int idg__json_parse_line(struct idg__jparser *jp, const char *line, size_t len,
			 size_t capacity, idg__inrec_fn cb, void *ctx);
/* Whether line[0..len) is read as an array of records: its first byte
 * after blanks (spaces, tabs) is '['. */
int idg__json_array_line(const char *line, size_t len);

/* Numbers the records' top-level property names by keys (idg__mpw_set_keys):
 * NULL for text. */
struct idg__keys;
void idg__json_set_keys(struct idg__jparser *jp, const struct idg__keys *keys);

struct idg__mpw;

/*
 * Encodes one JSON value text[0..len) (a whole record) as MessagePack into
 * w, with the types ingest stores (integers beyond 64 bits as ext type 1).
 * capacity as for idg__json_parse_line. 0, or a message (malformed JSON).
 */
const char *idg__json_to_msgpack(struct idg__jparser *jp, const char *text,
				 size_t len, size_t capacity,
				 struct idg__mpw *w);

/* Whether p[0..n) is valid UTF-8 (simdjson's validator): for strings that
 * arrive other than as JSON text, which simdjson checks as it parses. */
int idg__utf8_valid(const char *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif
