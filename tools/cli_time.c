/*
 * cli_time.c — parsing and printing the CLI's times (see cli_time.h).
 *
 * Calendar arithmetic is done by hand with Howard Hinnant's days-from-civil
 * algorithms (proleptic Gregorian calendar), not with timegm() or gmtime(),
 * so that it is exact, portable and independent of the local time zone.
 * Every parse ends in one range check against [0, CLI_TIME_MAX_MS], and the
 * intermediate values are bounded well below INT64_MAX before any multiply.
 */
#include "cli_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define MS_PER_DAY INT64_C(86400000)
/* Numbers at or above this are milliseconds, below it seconds (SPEC §3). */
#define MS_THRESHOLD INT64_C(100000000000)

static const char why_garbage[] =
    "not a time: give epoch seconds, epoch milliseconds or ISO 8601 UTC "
    "(e.g. 2024-05-01T12:00:00Z)";
static const char why_range[] =
    "time out of range (1970-01-01 to 9999-12-31 UTC)";

/* Days since 1970-01-01 of the civil date y-m-d. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The civil date of day z (days since 1970-01-01). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned days[12] = {31, 28, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads exactly n digits at *p into *out and advances *p. */
static int
read_digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return -1;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/*
 * Milliseconds of a fraction's digits frac[0..len), rounded to the nearest
 * (halves up); may be 1000 when .9995 rounds up.
 */
static int64_t
fraction_ms(const char *frac, size_t len)
{
	int64_t ms = 0;
	for (size_t i = 0; i < 3; i++)
		ms = ms * 10 + (i < len ? frac[i] - '0' : 0);
	if (len > 3 && frac[3] >= '5')
		ms++;
	return ms;
}

/* The UTC offset suffix at p: 0 for UTC, -1 (with *why) otherwise. */
static int
parse_zone(const char *p, const char **why)
{
	static const char *const utc[] = {"",	   "Z",	  "z",	   "+00:00",
					  "+0000", "+00", "-00:00"};
	for (size_t i = 0; i < sizeof utc / sizeof utc[0]; i++)
		if (strcmp(p, utc[i]) == 0)
			return 0;
	if ((*p == '+' || *p == '-') && is_digit(p[1]) && is_digit(p[2]))
		*why = "only UTC times are accepted (Z or +00:00): convert the "
		       "time to UTC first";
	else
		*why = why_garbage;
	return -1;
}

/* Parses the time of day after the date: "HH:MM[:SS[.fff]]" and a zone. */
static int
parse_clock(const char *p, int64_t *ms_of_day, const char **why)
{
	unsigned hh, mm, ss = 0;
	int64_t frac = 0;

	if (read_digits(&p, 2, &hh) || *p++ != ':' || read_digits(&p, 2, &mm))
		goto garbage;
	if (*p == ':') {
		p++;
		if (read_digits(&p, 2, &ss))
			goto garbage;
		if (*p == '.' || *p == ',') {
			const char *f = ++p;
			while (is_digit(*p))
				p++;
			if (p == f)
				goto garbage;
			frac = fraction_ms(f, (size_t)(p - f));
		}
	}
	if (hh > 23 || mm > 59 || ss > 59) {
		*why = "hour, minute or second out of range";
		return -1;
	}
	if (parse_zone(p, why))
		return -1;
	*ms_of_day = ((int64_t)hh * 3600 + mm * 60 + ss) * 1000 + frac;
	return 0;
garbage:
	*why = why_garbage;
	return -1;
}

static int
parse_iso(int64_t *out, const char *s, const char **why)
{
	const char *p = s;
	unsigned y, m, d;
	int64_t ms_of_day = 0;

	if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &m) ||
	    *p++ != '-' || read_digits(&p, 2, &d)) {
		*why = why_garbage;
		return -1;
	}
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
		*why = "no such date";
		return -1;
	}
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (parse_clock(p + 1, &ms_of_day, why))
			return -1;
	} else if (*p != '\0') {
		*why = why_garbage;
		return -1;
	}
	if (y < 1970) {
		*why = why_range;
		return -1;
	}
	*out = days_from_civil(y, m, d) * MS_PER_DAY + ms_of_day;
	return 0;
}

/*
 * Parses "DIGITS[.DIGITS]" into its integer part (capped: anything above
 * CLI_TIME_MAX_MS is out of range whatever the unit) and fraction digits.
 */
static int
parse_decimal(const char *s, int64_t *ipart, const char **frac,
	      size_t *frac_len, const char **why)
{
	const char *p = s;
	int64_t v = 0;

	if (!is_digit(*s)) {
		*why = *s == '-' && (is_digit(s[1]) || s[1] == '.')
			   ? "negative times are not allowed"
			   : why_garbage;
		return -1;
	}
	while (is_digit(*p)) {
		v = v * 10 + (*p++ - '0');
		if (v > CLI_TIME_MAX_MS) {
			*why = why_range;
			return -1;
		}
	}
	*frac = p;
	*frac_len = 0;
	if (*p == '.') {
		*frac = ++p;
		while (is_digit(*p))
			p++;
		*frac_len = (size_t)(p - *frac);
	}
	if (*p != '\0' || (p[-1] == '.')) {
		*why = why_garbage;
		return -1;
	}
	*ipart = v;
	return 0;
}

/* A plain number: seconds below 1e11, milliseconds from 1e11 on. */
static int
parse_number(int64_t *out, const char *s, const char **why)
{
	int64_t v, ms;
	const char *frac;
	size_t frac_len;

	if (parse_decimal(s, &v, &frac, &frac_len, why))
		return -1;
	if (v >= MS_THRESHOLD)
		ms = v + (frac_len > 0 && frac[0] >= '5');
	else
		ms = v * 1000 + fraction_ms(frac, frac_len);
	*out = ms;
	return 0;
}

static int
is_iso_shape(const char *s)
{
	return is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) &&
	       is_digit(s[3]) && s[4] == '-';
}

/* "-YYYY-MM-..." or "YYYYY-MM-...": a date whose year has a sign or more
 * than 4 digits. */
static int
is_far_date(const char *s)
{
	size_t sign = s[0] == '-', n = sign;

	while (is_digit(s[n]))
		n++;
	return s[n] == '-' && n - sign >= 4 && (sign || n > 4) &&
	       is_digit(s[n + 1]) && is_digit(s[n + 2]) && s[n + 3] == '-';
}

int
cli_time_parse(int64_t *out, const char *s, const char **why)
{
	int64_t ms;

	if (s == NULL || *s == '\0') {
		*why = "empty time";
		return -1;
	}
	if (is_far_date(s)) {
		*why = why_range;
		return -1;
	}
	if ((is_iso_shape(s) ? parse_iso : parse_number)(&ms, s, why))
		return -1;
	if (ms < 0 || ms > CLI_TIME_MAX_MS) {
		*why = why_range;
		return -1;
	}
	*out = ms;
	return 0;
}

int
cli_seconds_parse(int64_t *out, const char *s, const char **why)
{
	int64_t v;
	const char *frac;
	size_t frac_len;

	if (s == NULL || *s == '\0') {
		*why = "empty number";
		return -1;
	}
	if (s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
		*why = "negative";
		return -1;
	}
	if (parse_decimal(s, &v, &frac, &frac_len, why)) {
		if (*why != why_range)
			*why = "not a number of seconds";
		else
			*why = "too many seconds";
		return -1;
	}
	if (v > CLI_TIME_MAX_MS / 1000) {
		*why = "too many seconds";
		return -1;
	}
	*out = v * 1000 + fraction_ms(frac, frac_len);
	return 0;
}

char *
cli_time_format(char *buf, int64_t ms)
{
	int64_t y;
	unsigned m, d;

	if (ms < 0 || ms > CLI_TIME_MAX_MS) {
		snprintf(buf, CLI_TIME_BUFSIZE, "%" PRId64, ms);
		return buf;
	}
	int64_t days = ms / MS_PER_DAY, rest = ms % MS_PER_DAY;
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, CLI_TIME_BUFSIZE, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
		 (int)y, m, d, (int)(rest / 3600000), (int)(rest / 60000 % 60),
		 (int)(rest / 1000 % 60), (int)(rest % 1000));
	return buf;
}
