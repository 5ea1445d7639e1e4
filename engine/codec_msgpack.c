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
	int failed; /* a write failed since the last reset */
};

struct idg__mpw *
idg__mpw_new(void)
{
	struct idg__mpw *w = malloc(sizeof(*w));

	if (!w)
		return NULL;
	msgpack_sbuffer_init(&w->buf);
	msgpack_packer_init(&w->pk, &w->buf, msgpack_sbuffer_write);
	w->failed = 0;
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
	w->failed = 0;
}

static int
ok(struct idg__mpw *w, int rc)
{
	if (rc == 0)
		return IDG_OK;
	w->failed = 1;
	return IDG_ENOMEM;
}

int
idg__mpw_error(const struct idg__mpw *w)
{
	return w->failed ? IDG_ENOMEM : IDG_OK;
}

int
idg__mpw_array(struct idg__mpw *w, uint32_t n)
{
	return ok(w, msgpack_pack_array(&w->pk, n));
}

int
idg__mpw_str(struct idg__mpw *w, const char *s, size_t n)
{
	int rc = msgpack_pack_str(&w->pk, n);

	if (rc == 0 && n)
		rc = msgpack_pack_str_body(&w->pk, s, n);
	return ok(w, rc);
}

int
idg__mpw_int(struct idg__mpw *w, int64_t v)
{
	return ok(w, msgpack_pack_int64(&w->pk, v));
}

int
idg__mpw_uint(struct idg__mpw *w, uint64_t v)
{
	return ok(w, msgpack_pack_uint64(&w->pk, v));
}

int
idg__mpw_nil(struct idg__mpw *w)
{
	return ok(w, msgpack_pack_nil(&w->pk));
}

int
idg__mpw_double(struct idg__mpw *w, double v)
{
	return ok(w, msgpack_pack_double(&w->pk, v));
}

int
idg__mpw_bool(struct idg__mpw *w, int v)
{
	return ok(w, v ? msgpack_pack_true(&w->pk)
		       : msgpack_pack_false(&w->pk));
}

int
idg__mpw_bigint(struct idg__mpw *w, const char *digits, size_t n)
{
	int rc = msgpack_pack_ext(&w->pk, n, IDG__MP_EXT_BIGINT);

	if (rc == 0)
		rc = msgpack_pack_ext_body(&w->pk, digits, n);
	return ok(w, rc);
}

int
idg__mpw_raw(struct idg__mpw *w, const void *p, size_t n)
{
	return ok(w, msgpack_sbuffer_write(&w->buf, p, n));
}

/* A 32-bit header (0xdf map, 0xdd array) with its count patched later. */
static size_t
begin32(struct idg__mpw *w, unsigned char tag)
{
	unsigned char hdr[5] = {tag, 0, 0, 0, 0};
	size_t at = w->buf.size;

	ok(w, msgpack_sbuffer_write(&w->buf, (const char *)hdr, 5));
	return at;
}

static void
end32(struct idg__mpw *w, size_t at, uint32_t n)
{
	unsigned char *p;

	if (w->failed || at + 5 > w->buf.size)
		return;
	p = (unsigned char *)w->buf.data + at + 1;
	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
}

size_t
idg__mpw_map_begin(struct idg__mpw *w)
{
	return begin32(w, 0xdf);
}

void
idg__mpw_map_end(struct idg__mpw *w, size_t at, uint32_t n)
{
	end32(w, at, n);
}

size_t
idg__mpw_array_begin(struct idg__mpw *w)
{
	return begin32(w, 0xdd);
}

void
idg__mpw_array_end(struct idg__mpw *w, size_t at, uint32_t n)
{
	end32(w, at, n);
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
