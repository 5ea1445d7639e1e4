/* error.h — per-handle error messages. */
#ifndef IDG_ERROR_H
#define IDG_ERROR_H

#include "idgraph.h"

/* Room for one error message, kept in each handle. */
#define IDG__ERRMSG_MAX 512

struct idg__err {
	char msg[IDG__ERRMSG_MAX];
};

/*
 * Records a message for the failure being returned and returns code, so
 * that callers can write `return idg__err_set(e, IDG_EINVAL, "...")`.
 */
int idg__err_set(struct idg__err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void idg__err_clear(struct idg__err *e);

#endif
