/*
 * fmt_double.cpp — doubles in the JSON writer's form: "%.*g" at the
 * fewest digits, 15 at the least for a normal double, that read back as
 * the same value.
 *
 * printf's "%.*g" with strtod to check each try costs multi-precision
 * arithmetic per digit count; std::to_chars (Ryu in libstdc++) gives the
 * shortest round-trip digits in one call, and its "%.*g" form with a
 * precision is printf's own, by the standard's definition. So: count the
 * shortest digits P, then try "%.*g" from max(P, 15) up (from P for a
 * subnormal), checking each with std::from_chars, as the old search
 * tried 15, 16 and 17 with strtod. Mostly the first try reads back; at
 * a power of two, whose lower neighbour is twice as close, the nearest
 * 16 digits may not, and 17 always do.
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
	for (;; prec++) {
		double back = 0;

		r = std::to_chars(out, out + size, v, std::chars_format::general,
				  prec);
		if (r.ec != std::errc())
			return 0;
		if (prec >= 17 || (std::from_chars(out, r.ptr, back).ec ==
					   std::errc() &&
				   back == v))
			return (size_t)(r.ptr - out);
	}
}
