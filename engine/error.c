/*
 * error.c — the error table, reason and mode names, version, and
 * per-handle messages.
 *
 * Codes come from IDG_ERRNO_MAP in idgraph.h, so the enum and the texts
 * cannot drift apart. A message is set where a failure is detected; the
 * code travels up unchanged.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *
idg_strerror(int code)
{
	switch (code) {
	case IDG_OK:
		return "success";
#define IDG__ERRCASE(name, value, text)                                        \
	case IDG_##name:                                                       \
		return text;
		IDG_ERRNO_MAP(IDG__ERRCASE)
#undef IDG__ERRCASE
	}
	return "unknown error";
}

const char *
idg_reason_name(int reason)
{
	static const char *const names[] = {
#define IDG__REASONNAME(name, text) text,
	    IDG_REASON_MAP(IDG__REASONNAME)
#undef IDG__REASONNAME
	};

	if (reason < 0 || reason >= IDG_REASON_COUNT)
		return "";
	return names[reason];
}

const char *
idg_mode_name(int mode)
{
	switch (mode) {
	case IDG_MODE_ORIGINAL:
		return "original";
	case IDG_MODE_SIMPLIFIED:
		return "simplified";
	case IDG_MODE_LEGACY:
		return "legacy";
	}
	return NULL;
}

int
idg_version(void)
{
	return IDG_VERSION_NUMBER;
}

const char *
idg_version_string(void)
{
	return IDG_VERSION_STRING;
}

int
idg__err_set(struct idg__err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void
idg__err_clear(struct idg__err *e)
{
	if (e)
		e->msg[0] = '\0';
}
