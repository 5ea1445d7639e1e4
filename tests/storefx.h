/*
 * storefx.h — the module tests' fixture: a fresh store in a temporary
 * directory with one write transaction open (the internal library only).
 */
#ifndef IDG_STOREFX_H
#define IDG_STOREFX_H

#include "store.h"

struct fx {
	char *dir;
	struct idg__store *s;
	struct idg__txn *t;
	struct idg__err e;
};

/* Opens f (asserting success); fx_close() aborts and removes it. */
void fx_open(struct fx *f);
void fx_close(struct fx *f);

/*
 * Each test (its own process) gets a fresh database in storefx: the suite
 * runs fx_setup/fx_teardown as .init/.fini, so that a failed assertion
 * still removes the directory.
 */
extern struct fx storefx;
void fx_setup(void);
void fx_teardown(void);

#endif
