/*
 * cli_time.h — the CLI's time values: parsing --at arguments and printing
 * stamps as ISO 8601 UTC.
 *
 * Every time inside idgraph is an int64 count of milliseconds since the Unix
 * epoch (UTC). A --at argument may be written as
 *
 *   - epoch seconds, optionally with a fraction ("1714564800",
 *     "1714564800.25"), rounded to the nearest millisecond;
 *   - epoch milliseconds: any number >= 1e11 ("1714564800250");
 *   - ISO 8601 in UTC: "2024-05-01", "2024-05-01T12:00",
 *     "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250Z",
 *     "2024-05-01 12:00:00", with "Z", "+00:00", "+0000", "+00" or no
 *     suffix (all UTC). Other offsets are refused: convert to UTC first.
 *
 * Times before 1970 and after 9999-12-31T23:59:59.999Z are refused.
 */
#ifndef IDG_CLI_TIME_H
#define IDG_CLI_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Largest time accepted and printed: 9999-12-31T23:59:59.999Z. */
#define CLI_TIME_MAX_MS INT64_C(253402300799999)

/* Size of a buffer that holds any formatted time and its NUL. */
#define CLI_TIME_BUFSIZE 64

/*
 * Parses s into *out (milliseconds since the epoch). Returns 0, or -1 and
 * sets *why to a static text saying what is wrong (for an error message;
 * *out is left unchanged).
 */
int cli_time_parse(int64_t *out, const char *s, const char **why);

/*
 * Writes ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (CLI_TIME_BUFSIZE
 * bytes) and returns buf. Values outside [0, CLI_TIME_MAX_MS] are written
 * as the plain number of milliseconds.
 */
char *cli_time_format(char *buf, int64_t ms);

/*
 * Parses a non-negative decimal number of seconds ("3600", "0.5") into
 * milliseconds, rounded to the nearest one. Returns 0, or -1 and sets *why.
 */
int cli_seconds_parse(int64_t *out, const char *s, const char **why);

#endif
