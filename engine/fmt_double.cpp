/*
 * fmt_double.cpp — doubles in the JSON writer's form: "%.*g" at the
 * fewest digits, 15 at the least for a normal double, that read back as
 * the same value.
 *
 * printf's "%.*g" with strtod to check each try costs multi-precision
 * arithmetic per digit count; std::to_chars (Ryu in libstdc++) gives the
 * shortest round-trip digits in one call, and its "%.*g" form with a
 * precision is printf's own, by the standard's definition. So: count the
 * shortest digits P, then write "%.*g" at max(P, 15), or at P for a
 * subnormal. For a normal double 15 digits round-trip whenever any 15 or
 * fewer do (a 15-digit decimal grid is coarser than the doubles near it),
 * and %g drops trailing zeros, so this is the precision the old search,
 * which tried 15, 16 and 17 in turn, stopped at.
 */
#include "fmt_double.h"

#include <charconv>
#include <float.h>

extern "C" size_t
idg__format_double(char *out, size_t size, double v)
{
	char sci[IDG__DOUBLE_CHARS];
	std::to_chars_result r =
	    std::to_chars(sci, sci + sizeof(sci), v, std::chars_format::scientific);
	int digits = 0, prec;

	for (const char *p = sci; p < r.ptr && *p != 'e'; p++)
		digits += *p >= '0' && *p <= '9';
	prec = digits;
	if (!(v > -DBL_MIN && v < DBL_MIN && v != 0) && prec < 15)
		prec = 15;
	r = std::to_chars(out, out + size, v, std::chars_format::general, prec);
	return r.ec == std::errc() ? (size_t)(r.ptr - out) : 0;
}
