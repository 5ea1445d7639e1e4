/*
 * fmt_double.h — doubles in the JSON writer's form, through C++17's
 * std::to_chars (fmt_double.cpp, a C face like codec_json_in.h's).
 */
#ifndef IDG_FMT_DOUBLE_H
#define IDG_FMT_DOUBLE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room enough for any double in the form below, with two bytes to spare. */
#define IDG__DOUBLE_CHARS 40

/*
 * Writes finite v as printf's "%.*g" in the "C" locale at the fewest
 * significant digits that read back as v (15 at the least for a normal
 * double), into out[0..size) without a terminator; returns the length.
 * size >= IDG__DOUBLE_CHARS - 2.
 */
size_t idg__format_double(char *out, size_t size, double v);

#ifdef __cplusplus
}
#endif

#endif
