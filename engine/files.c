/*
 * files.c — the input files a database remembers: for each file, by the
 * hash of its content, how many bytes and lines are committed and whether
 * it was read to its end. The entry is written in the same transaction as
 * each batch, so after a crash it says exactly where to resume.
 */
#include "files.h"

#include "codec_msgpack.h"

static int
decode(const struct idg__val *v, struct idg__file *out, struct idg__err *e)
{
	struct idg__mp_item it[IDG__MP_MAX_ITEMS];
	uint32_t n, i;

	if (idg__mp_read_array(v->p, v->n, it, &n) || n != 6 ||
	    it[0].kind != IDG__MP_STR)
		return idg__err_set(e, IDG_ECORRUPT, "a file entry is corrupt");
	for (i = 1; i < 6; i++)
		if (it[i].kind != IDG__MP_INT)
			return idg__err_set(e, IDG_ECORRUPT,
					    "a file entry is corrupt");
	out->name = it[0].s;
	out->name_len = it[0].n;
	out->size = (uint64_t)it[1].i;
	out->offset = (uint64_t)it[2].i;
	out->line = (uint64_t)it[3].i;
	out->done = (int)it[4].i;
	out->format = (int)it[5].i;
	return IDG_OK;
}

int
idg__files_get(struct idg__txn *t, const unsigned char key[IDG__HASH_BYTES],
	       struct idg__file *out, struct idg__err *e)
{
	struct idg__val v;
	int rc = idg__store_get(t, IDG__T_FILES, key, IDG__HASH_BYTES, &v, e);

	return rc ? rc : decode(&v, out, e);
}

int
idg__files_size_known(struct idg__txn *t, uint64_t size, int *known,
		      struct idg__err *e)
{
	struct idg__cursor *c = NULL;
	struct idg__err ignored;
	struct idg__file f = {0};
	struct idg__val k, v;
	int rc = idg__cursor_open(t, IDG__T_FILES, &c, e), op = IDG__FIRST;

	*known = 0;
	while (rc == IDG_OK && !*known) {
		rc = idg__cursor_get(c, op, &k, &v, e);
		op = IDG__NEXT;
		/* An entry that does not decode may be this file's: say so,
		 * and the lookup by hash that follows judges it. */
		if (rc == IDG_OK)
			*known = decode(&v, &f, &ignored) != IDG_OK ||
				 f.size == size;
	}
	idg__cursor_close(c);
	return rc == IDG_ENOTFOUND ? IDG_OK : rc;
}

int
idg__files_put(struct idg__txn *t, const unsigned char key[IDG__HASH_BYTES],
	       const struct idg__file *f, struct idg__mpw *w,
	       struct idg__err *e)
{
	const void *data;
	size_t len;

	idg__mpw_reset(w);
	idg__mpw_array(w, 6);
	idg__mpw_str(w, f->name, f->name_len);
	idg__mpw_uint(w, f->size);
	idg__mpw_uint(w, f->offset);
	idg__mpw_uint(w, f->line);
	idg__mpw_int(w, f->done);
	idg__mpw_int(w, f->format);
	if (idg__mpw_error(w))
		return idg__err_set(e, IDG_ENOMEM, "out of memory");
	data = idg__mpw_data(w, &len);
	return idg__store_put(t, IDG__T_FILES, key, IDG__HASH_BYTES, data, len,
			      0, e);
}
