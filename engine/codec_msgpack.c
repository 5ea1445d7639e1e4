/*
 * codec_msgpack.c — MessagePack for stored values, through msgpack-c.
 *
 * The writer reuses one growing buffer, so encoding a value allocates only
 * when the buffer must grow. The reader decodes flat arrays of scalars in
 * place with msgpack-c's zone-free unpacker for scalars; strings point into
 * the input, which the caller keeps alive.
 */
#include "codec_msgpack.h"

#include <msgpack.h>
#include <stdlib.h>

#include "idgraph.h"

struct idg__mpw {
	msgpack_sbuffer buf;
	msgpack_packer pk;
};

struct idg__mpw *
idg__mpw_new(void)
{
	struct idg__mpw *w = malloc(sizeof(*w));

	if (!w)
		return NULL;
	msgpack_sbuffer_init(&w->buf);
	msgpack_packer_init(&w->pk, &w->buf, msgpack_sbuffer_write);
	return w;
}

void
idg__mpw_free(struct idg__mpw *w)
{
	if (!w)
		return;
	msgpack_sbuffer_destroy(&w->buf);
	free(w);
}

void
idg__mpw_reset(struct idg__mpw *w)
{
	w->buf.size = 0;
}

static int
ok(int rc)
{
	return rc == 0 ? IDG_OK : IDG_ENOMEM;
}

int
idg__mpw_array(struct idg__mpw *w, uint32_t n)
{
	return ok(msgpack_pack_array(&w->pk, n));
}

int
idg__mpw_str(struct idg__mpw *w, const char *s, size_t n)
{
	int rc = msgpack_pack_str(&w->pk, n);

	if (rc == 0 && n)
		rc = msgpack_pack_str_body(&w->pk, s, n);
	return ok(rc);
}

int
idg__mpw_int(struct idg__mpw *w, int64_t v)
{
	return ok(msgpack_pack_int64(&w->pk, v));
}

int
idg__mpw_uint(struct idg__mpw *w, uint64_t v)
{
	return ok(msgpack_pack_uint64(&w->pk, v));
}

int
idg__mpw_nil(struct idg__mpw *w)
{
	return ok(msgpack_pack_nil(&w->pk));
}

const void *
idg__mpw_data(const struct idg__mpw *w, size_t *len)
{
	*len = w->buf.size;
	return w->buf.data;
}

int
idg__mp_read_array(const void *data, size_t len,
		   struct idg__mp_item items[IDG__MP_MAX_ITEMS],
		   uint32_t *count)
{
	msgpack_unpacked up;
	msgpack_object_array *a;
	int rc = IDG_OK;
	uint32_t i;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, data, len, NULL) !=
		MSGPACK_UNPACK_SUCCESS ||
	    up.data.type != MSGPACK_OBJECT_ARRAY ||
	    up.data.via.array.size > IDG__MP_MAX_ITEMS) {
		rc = IDG_ECORRUPT;
		goto out;
	}
	a = &up.data.via.array;
	for (i = 0; i < a->size; i++) {
		const msgpack_object *o = &a->ptr[i];
		struct idg__mp_item *it = &items[i];

		it->kind = IDG__MP_OTHER;
		if (o->type == MSGPACK_OBJECT_NIL) {
			it->kind = IDG__MP_NIL;
		} else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
			   o->via.u64 <= INT64_MAX) {
			it->kind = IDG__MP_INT;
			it->i = (int64_t)o->via.u64;
		} else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
			it->kind = IDG__MP_INT;
			it->i = o->via.i64;
		} else if (o->type == MSGPACK_OBJECT_STR) {
			it->kind = IDG__MP_STR;
			it->s = o->via.str.ptr;
			it->n = o->via.str.size;
		}
	}
	*count = a->size;
out:
	msgpack_unpacked_destroy(&up);
	return rc;
}
