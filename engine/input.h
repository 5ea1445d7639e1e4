/*
 * input.h — one input record as the codecs hand it to the engine: the
 * fields the engine reads, typed, and the properties already encoded as a
 * MessagePack map. JSON (codec_json_in.cpp) and MessagePack
 * (codec_msgpack.c) input both produce it.
 */
#ifndef IDG_INPUT_H
#define IDG_INPUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The type of a field; MISSING when the key was absent. */
enum idg__ft {
	IDG__F_MISSING = 0,
	IDG__F_STRING,
	IDG__F_INT,    /* fits int64: i */
	IDG__F_BIGINT, /* an integer beyond int64: only its text in s */
	IDG__F_FLOAT,  /* d */
	IDG__F_BOOL,
	IDG__F_NULL,
	IDG__F_ARRAY,
	IDG__F_OBJECT,
	IDG__F_OTHER, /* MessagePack bin or ext: no string, no number */
};

/* The People operators, in the order they apply (SPEC §3). */
enum idg__people_op {
	IDG__OP_SET,
	IDG__OP_SET_ONCE,
	IDG__OP_ADD,
	IDG__OP_APPEND,
	IDG__OP_UNION,
	IDG__OP_REMOVE,
	IDG__OP_UNSET,
	IDG__OP_DELETE,
	IDG__OP_COUNT
};

/* An operator's value in a profile update, as MessagePack. */
struct idg__opval {
	int type;        /* enum idg__ft; MISSING when the operator is absent */
	const void *mp;  /* its encoding */
	size_t mp_len;
	int all_numbers; /* an object whose values are all numbers */
	int all_arrays;  /* an object whose values are all arrays */
	int all_strings; /* an array whose elements are all strings */
	uint32_t long_strings; /* names and strings over 255 bytes in it */
};

/*
 * Where one top-level property lies in the record's props, in bytes from
 * props: its name at `at` and its value from `val` to the next property's
 * `at` (or props_len). A name the parser's dictionary knew is written as
 * its number (num, a MessagePack positive integer); any other as its text,
 * the len bytes just before `val` (num = 0). Lets a body store names as
 * numbers without decoding the values.
 */
struct idg__pkey {
	uint32_t at;
	uint32_t val;
	uint32_t len;
	uint32_t num;
};

struct idg__field {
	int type;     /* enum idg__ft */
	const char *s; /* STRING: the unescaped bytes; numbers: their text */
	size_t n;
	int64_t i;
	double d;
};

/*
 * The fields of one record that the engine reads. Strings and props point
 * into the decoder and stay valid until the callback returns.
 */
struct idg__inrec {
	struct idg__field event;        /* top-level "event" */
	struct idg__field properties;   /* type only */
	struct idg__field profile_id;   /* top-level "$distinct_id" */
	struct idg__field distinct_id;  /* properties.* below */
	struct idg__field time;
	struct idg__field insert_id;
	struct idg__field identified_id;
	struct idg__field anon_id;
	struct idg__field anon_distinct_id;
	struct idg__field alias;
	struct idg__field user_id;      /* $user_id (simplified mode) */
	struct idg__field device_id;    /* $device_id (simplified mode) */
	struct idg__field distinct_ids; /* $distinct_ids: type */
	uint32_t merge_count;            /* its elements */
	int merge_all_strings;           /* every element is a string */
	struct idg__field merge_ids[2]; /* its first two elements */
	struct idg__field ptime;          /* profile updates: $time */
	struct idg__field ignore_time;    /* $ignore_time */
	struct idg__field ignore_alias;   /* $ignore_alias */
	struct idg__opval ops[IDG__OP_COUNT];
	uint32_t nprops;                 /* properties of the record */
	uint32_t long_strings;           /* strings over 255 bytes in the
					    properties: values and names */
	const void *props;               /* properties as a MessagePack map */
	size_t props_len;
	const struct idg__pkey *pkeys;   /* nprops of them, or NULL */
	const char *raw;                 /* the record's bytes in the input */
	size_t raw_len;
};

/*
 * Called once per record of a line. For a record that cannot be read,
 * error says why (rec then has only raw set). A non-zero return stops the
 * line and is returned by idg__json_parse_line().
 */
typedef int (*idg__inrec_fn)(void *ctx, const struct idg__inrec *rec,
			       uint32_t index, int in_array, const char *error);

#ifdef __cplusplus
}
#endif

#endif
