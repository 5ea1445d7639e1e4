/*
 * codec_json_in.h — JSON records in: the C face of the one C++ file,
 * codec_json_in.cpp, which parses with simdjson's On Demand API.
 */
#ifndef IDG_CODEC_JSON_IN_H
#define IDG_CODEC_JSON_IN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes after a line's end that must be readable (simdjson's padding). */
#define IDG__JSON_PADDING 64

/* The JSON type of a field; MISSING when the key was absent. */
enum idg__jt {
	IDG__J_MISSING = 0,
	IDG__J_STRING,
	IDG__J_INT,    /* fits int64: i */
	IDG__J_BIGINT, /* an integer beyond int64: only its text in s */
	IDG__J_FLOAT,  /* d */
	IDG__J_BOOL,
	IDG__J_NULL,
	IDG__J_ARRAY,
	IDG__J_OBJECT,
};

struct idg__jfield {
	int type;     /* enum idg__jt */
	const char *s; /* STRING: the unescaped bytes; numbers: their text */
	size_t n;
	int64_t i;
	double d;
};

/*
 * The fields of one record that the engine reads. Strings point into the
 * parser and stay valid until the next idg__json_parse_line() call.
 */
struct idg__jrecord {
	struct idg__jfield event;        /* top-level "event" */
	struct idg__jfield properties;   /* type only */
	struct idg__jfield profile_id;   /* top-level "$distinct_id" */
	struct idg__jfield distinct_id;  /* properties.* below */
	struct idg__jfield time;
	struct idg__jfield insert_id;
	struct idg__jfield identified_id;
	struct idg__jfield anon_id;
	struct idg__jfield anon_distinct_id;
	struct idg__jfield alias;
	struct idg__jfield distinct_ids; /* $distinct_ids: type */
	uint32_t merge_count;            /* its elements */
	int merge_all_strings;           /* every element is a string */
	struct idg__jfield merge_ids[2]; /* its first two elements */
	uint32_t nprops;                 /* properties of the record */
	const char *raw;                 /* the record's bytes in the input */
	size_t raw_len;
};

/*
 * Called once per record of a line. For a record that cannot be read,
 * error says why (rec then has only raw set). A non-zero return stops the
 * line and is returned by idg__json_parse_line().
 */
typedef int (*idg__jrecord_fn)(void *ctx, const struct idg__jrecord *rec,
			       uint32_t index, int in_array, const char *error);

struct idg__jparser;

struct idg__jparser *idg__jparser_new(void);
void idg__jparser_free(struct idg__jparser *jp);

/*
 * Parses line[0..len), a JSON object or an array of objects, and calls cb
 * for each record. capacity >= len + IDG__JSON_PADDING bytes of line must
 * be readable. Returns 0, or what cb returned.
 */
int idg__json_parse_line(struct idg__jparser *jp, const char *line, size_t len,
			 size_t capacity, idg__jrecord_fn cb, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
