/* storefx.c — a fresh store per module test (see storefx.h). */
#include "storefx.h"

#include <criterion/criterion.h>

#include "testutil.h"

struct fx storefx;

void
fx_open(struct fx *f)
{
	f->dir = tu_tmpdir();
	cr_assert_eq(idg__store_open(&f->s, f->dir, IDG__STORE_CREATE, &f->e),
		     IDG_OK, "%s", f->e.msg);
	cr_assert_eq(idg__store_begin(f->s, 1, &f->t, &f->e), IDG_OK, "%s",
		     f->e.msg);
}

void
fx_close(struct fx *f)
{
	idg__store_abort(f->t);
	idg__store_close(f->s);
	tu_rmdir(f->dir);
}

void
fx_setup(void)
{
	fx_open(&storefx);
}

void
fx_teardown(void)
{
	fx_close(&storefx);
}
