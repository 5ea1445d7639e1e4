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
#include <stdio.h>
#include <stdlib.h>

#include "idgraph.h"

#include <string.h>

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

/* The count and header length of a map header at p, or -1. */
static int
map_header(const unsigned char *p, size_t len, uint32_t *n, size_t *hdr)
{
	if (len >= 1 && p[0] >= 0x80 && p[0] <= 0x8f) {
		*n = p[0] & 0x0f;
		*hdr = 1;
	} else if (len >= 3 && p[0] == 0xde) {
		*n = (uint32_t)p[1] << 8 | p[2];
		*hdr = 3;
	} else if (len >= 5 && p[0] == 0xdf) {
		*n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		     (uint32_t)p[3] << 8 | p[4];
		*hdr = 5;
	} else {
		return -1;
	}
	return 0;
}

int
idg__body_encode(struct idg__mpw *w, const struct idg__body *b,
		 const char *fail_reason, const char *fail_desc)
{
	uint32_t n;
	size_t hdr, at;

	idg__mpw_reset(w);
	idg__mpw_array(w, 5);
	idg__mpw_uint(w, b->name);
	idg__mpw_int(w, b->time_ms);
	idg__mpw_str(w, b->did, b->did_len);
	if (b->ins)
		idg__mpw_str(w, b->ins, b->ins_len);
	else
		idg__mpw_nil(w);
	if (!fail_reason)
		return idg__mpw_raw(w, b->props, b->props_len);
	if (map_header(b->props, b->props_len, &n, &hdr))
		return IDG_ECORRUPT;
	at = idg__mpw_map_begin(w);
	idg__mpw_raw(w, (const char *)b->props + hdr, b->props_len - hdr);
	idg__mpw_str(w, "$failure_reason", 15);
	idg__mpw_str(w, fail_reason, strlen(fail_reason));
	idg__mpw_str(w, "$failure_description", 20);
	idg__mpw_str(w, fail_desc, strlen(fail_desc));
	idg__mpw_map_end(w, at, n + 2);
	return idg__mpw_error(w);
}

/* Unpacks the scalar at *off; strings point into data. */
static int
next_scalar(const char *data, size_t len, size_t *off, msgpack_object *o)
{
	msgpack_unpacked up;
	int rc = 0;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, data, len, off) != MSGPACK_UNPACK_SUCCESS)
		rc = -1;
	else
		*o = up.data;
	msgpack_unpacked_destroy(&up);
	return rc;
}

int
idg__body_decode(const void *data, size_t len, struct idg__body *out)
{
	const char *d = data;
	msgpack_object o[4];
	size_t off = 1;
	int i;

	if (len < 1 || (unsigned char)d[0] != 0x95)
		return IDG_ECORRUPT;
	for (i = 0; i < 4; i++)
		if (next_scalar(d, len, &off, &o[i]))
			return IDG_ECORRUPT;
	if (o[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    (o[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
	     o[1].type != MSGPACK_OBJECT_NEGATIVE_INTEGER) ||
	    o[2].type != MSGPACK_OBJECT_STR ||
	    (o[3].type != MSGPACK_OBJECT_STR && o[3].type != MSGPACK_OBJECT_NIL))
		return IDG_ECORRUPT;
	out->name = (uint32_t)o[0].via.u64;
	out->time_ms = o[1].via.i64;
	out->did = o[2].via.str.ptr;
	out->did_len = o[2].via.str.size;
	out->ins = o[3].type == MSGPACK_OBJECT_STR ? o[3].via.str.ptr : NULL;
	out->ins_len = o[3].type == MSGPACK_OBJECT_STR ? o[3].via.str.size : 0;
	out->props = d + off;
	out->props_len = len - off;
	return IDG_OK;
}

/* Writes one decoded MessagePack value as JSON. */
static void
object_to_json(idg_jw *jw, const msgpack_object *o)
{
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		idg_jw_null(jw);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		idg_jw_bool(jw, o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		idg_jw_uint(jw, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		idg_jw_int(jw, o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		idg_jw_double(jw, o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		idg_jw_string(jw, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		idg_jw_string(jw, o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_EXT:
		/* Integers beyond 64 bits: their digits, as a JSON number. */
		if (o->via.ext.type == IDG__MP_EXT_BIGINT)
			idg_jw_number_text(jw, o->via.ext.ptr,
					   o->via.ext.size);
		else
			idg_jw_null(jw);
		break;
	case MSGPACK_OBJECT_ARRAY:
		idg_jw_array_begin(jw);
		for (i = 0; i < o->via.array.size; i++)
			object_to_json(jw, &o->via.array.ptr[i]);
		idg_jw_array_end(jw);
		break;
	case MSGPACK_OBJECT_MAP:
		idg_jw_object_begin(jw);
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (k->type == MSGPACK_OBJECT_STR)
				idg_jw_key(jw, k->via.str.ptr, k->via.str.size);
			else
				idg_jw_key(jw, "", 0);
			object_to_json(jw, &o->via.map.ptr[i].val);
		}
		idg_jw_object_end(jw);
		break;
	}
}

static int
key_is(const msgpack_object *k, const char *s)
{
	size_t n = strlen(s);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       memcmp(k->via.str.ptr, s, n) == 0;
}

/* Decodes the properties map of a body into up. */
static int
props_unpack(const struct idg__body *b, msgpack_unpacked *up)
{
	size_t off = 0;

	msgpack_unpacked_init(up);
	if (msgpack_unpack_next(up, b->props, b->props_len, &off) !=
		MSGPACK_UNPACK_SUCCESS ||
	    up->data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(up);
		return IDG_ECORRUPT;
	}
	return IDG_OK;
}

static int
differs(const struct idg__body *b, const char *resolved, size_t n)
{
	return b->did_len != n || memcmp(b->did, resolved, n) != 0;
}

/* Writes the resolved distinct_id, and the id as sent when it differs. */
static void
json_ids(idg_jw *jw, const struct idg__body *b, const char *resolved,
	 size_t n)
{
	idg_jw_key(jw, "distinct_id", 11);
	idg_jw_string(jw, resolved, n);
	if (differs(b, resolved, n)) {
		idg_jw_key(jw, "$distinct_id_before_identity", 28);
		idg_jw_string(jw, b->did, b->did_len);
	}
}

int
idg__event_write_json(idg_jw *jw, const char *name, size_t name_len,
		      const struct idg__body *b, const char *resolved,
		      size_t resolved_len)
{
	msgpack_unpacked up;
	const msgpack_object_map *m;
	int has_did = 0, diff = differs(b, resolved, resolved_len);
	uint32_t i;

	if (props_unpack(b, &up))
		return IDG_ECORRUPT;
	m = &up.data.via.map;
	for (i = 0; i < m->size; i++)
		has_did |= key_is(&m->ptr[i].key, "distinct_id");
	idg_jw_object_begin(jw);
	idg_jw_key(jw, "event", 5);
	idg_jw_string(jw, name, name_len);
	idg_jw_key(jw, "properties", 10);
	idg_jw_object_begin(jw);
	if (!has_did)
		json_ids(jw, b, resolved, resolved_len);
	for (i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key;

		if (key_is(k, "distinct_id")) {
			json_ids(jw, b, resolved, resolved_len);
			continue;
		}
		if (diff && key_is(k, "$distinct_id_before_identity"))
			continue;
		if (k->type == MSGPACK_OBJECT_STR)
			idg_jw_key(jw, k->via.str.ptr, k->via.str.size);
		else
			idg_jw_key(jw, "", 0);
		object_to_json(jw, &m->ptr[i].val);
	}
	idg_jw_object_end(jw);
	idg_jw_object_end(jw);
	msgpack_unpacked_destroy(&up);
	return IDG_OK;
}

static void
msgpack_ids(struct idg__mpw *w, const struct idg__body *b,
	    const char *resolved, size_t n, uint32_t *count)
{
	idg__mpw_str(w, "distinct_id", 11);
	idg__mpw_str(w, resolved, n);
	(*count)++;
	if (differs(b, resolved, n)) {
		idg__mpw_str(w, "$distinct_id_before_identity", 28);
		idg__mpw_str(w, b->did, b->did_len);
		(*count)++;
	}
}

int
idg__event_write_msgpack(struct idg__mpw *w, const char *name,
			 size_t name_len, const struct idg__body *b,
			 const char *resolved, size_t resolved_len)
{
	msgpack_unpacked up;
	const msgpack_object_map *m;
	int has_did = 0, diff = differs(b, resolved, resolved_len);
	uint32_t i, count = 0;
	size_t at;

	if (props_unpack(b, &up))
		return IDG_ECORRUPT;
	m = &up.data.via.map;
	for (i = 0; i < m->size; i++)
		has_did |= key_is(&m->ptr[i].key, "distinct_id");
	idg__mpw_reset(w);
	msgpack_pack_map(&w->pk, 2);
	idg__mpw_str(w, "event", 5);
	idg__mpw_str(w, name, name_len);
	idg__mpw_str(w, "properties", 10);
	at = idg__mpw_map_begin(w);
	if (!has_did)
		msgpack_ids(w, b, resolved, resolved_len, &count);
	for (i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key;

		if (key_is(k, "distinct_id")) {
			msgpack_ids(w, b, resolved, resolved_len, &count);
			continue;
		}
		if (diff && key_is(k, "$distinct_id_before_identity"))
			continue;
		ok(w, msgpack_pack_object(&w->pk, *k));
		ok(w, msgpack_pack_object(&w->pk, m->ptr[i].val));
		count++;
	}
	idg__mpw_map_end(w, at, count);
	msgpack_unpacked_destroy(&up);
	return idg__mpw_error(w);
}

/* ---- MessagePack input ---- */

/* Decimal texts of integer ids, which the engine reads as strings. */
#define TEXT_SLOTS 12

struct idg__mpin {
	struct idg__mpw *props; /* the record's properties, re-encoded */
	struct idg__mpw *raw;   /* an array element's own bytes */
	char text[TEXT_SLOTS][24];
	int ntext;
};

struct idg__mpin *
idg__mpin_new(void)
{
	struct idg__mpin *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->props = idg__mpw_new();
	in->raw = idg__mpw_new();
	if (!in->props || !in->raw) {
		idg__mpin_free(in);
		return NULL;
	}
	return in;
}

void
idg__mpin_free(struct idg__mpin *in)
{
	if (!in)
		return;
	idg__mpw_free(in->props);
	idg__mpw_free(in->raw);
	free(in);
}

int
idg__mpin_sniff(unsigned char c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0xdc || c == 0xdd ||
	       c == 0xde || c == 0xdf;
}

/* Strings longer than Mixpanel's 255 bytes, at any depth. */
static uint32_t
long_strings(const msgpack_object *o)
{
	uint32_t n = 0, i;

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		return o->via.str.size > 255;
	case MSGPACK_OBJECT_ARRAY:
		for (i = 0; i < o->via.array.size; i++)
			n += long_strings(&o->via.array.ptr[i]);
		return n;
	case MSGPACK_OBJECT_MAP:
		for (i = 0; i < o->via.map.size; i++)
			n += long_strings(&o->via.map.ptr[i].val);
		return n;
	default:
		return 0;
	}
}

static void
int_text(struct idg__mpin *in, struct idg__field *f, int neg, uint64_t u,
	 int64_t i)
{
	char *t = in->text[in->ntext++ % TEXT_SLOTS];

	if (neg)
		snprintf(t, 24, "%lld", (long long)i);
	else
		snprintf(t, 24, "%llu", (unsigned long long)u);
	f->s = t;
	f->n = strlen(t);
}

/* The typed field the engine reads, from a decoded value. */
static void
to_field(struct idg__mpin *in, const msgpack_object *o, struct idg__field *f)
{
	memset(f, 0, sizeof(*f));
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		f->type = IDG__F_STRING;
		f->s = o->via.str.ptr;
		f->n = o->via.str.size;
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		f->type = o->via.u64 > INT64_MAX ? IDG__F_BIGINT : IDG__F_INT;
		f->i = (int64_t)o->via.u64;
		int_text(in, f, 0, o->via.u64, 0);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		f->type = IDG__F_INT;
		f->i = o->via.i64;
		int_text(in, f, 1, 0, o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		f->type = IDG__F_FLOAT;
		f->d = o->via.f64;
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		f->type = IDG__F_BOOL;
		f->i = o->via.boolean;
		break;
	case MSGPACK_OBJECT_NIL:
		f->type = IDG__F_NULL;
		break;
	case MSGPACK_OBJECT_ARRAY:
		f->type = IDG__F_ARRAY;
		break;
	case MSGPACK_OBJECT_MAP:
		f->type = IDG__F_OBJECT;
		break;
	case MSGPACK_OBJECT_EXT:
		f->type = IDG__F_BIGINT;
		f->s = o->via.ext.ptr;
		f->n = o->via.ext.size;
		break;
	}
}

static struct idg__field *
mp_slot(struct idg__inrec *r, const msgpack_object *k)
{
	static const char *const keys[] = {
	    "distinct_id", "time",	     "$insert_id",
	    "$identified_id", "$anon_id", "$anon_distinct_id",
	    "alias"};
	struct idg__field *slots[] = {
	    &r->distinct_id,   &r->time,    &r->insert_id,
	    &r->identified_id, &r->anon_id, &r->anon_distinct_id,
	    &r->alias};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (key_is(k, keys[i]))
			return slots[i];
	return NULL;
}

static void
mp_merge_ids(struct idg__mpin *in, struct idg__inrec *r,
	     const msgpack_object *o)
{
	uint32_t i;

	to_field(in, o, &r->distinct_ids);
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return;
	r->merge_count = o->via.array.size;
	r->merge_all_strings = 1;
	for (i = 0; i < o->via.array.size; i++) {
		const msgpack_object *e = &o->via.array.ptr[i];

		if (e->type != MSGPACK_OBJECT_STR)
			r->merge_all_strings = 0;
		if (i < 2)
			to_field(in, e, &r->merge_ids[i]);
	}
}

/* Properties: the typed fields, and the map re-encoded as stored. */
static const char *
mp_properties(struct idg__mpin *in, struct idg__inrec *r,
	      const msgpack_object *o)
{
	const msgpack_object_map *m = &o->via.map;
	size_t at;
	uint32_t i;

	idg__mpw_reset(in->props);
	at = idg__mpw_map_begin(in->props);
	for (i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
		struct idg__field *slot = mp_slot(r, k);

		if (k->type != MSGPACK_OBJECT_STR)
			return "property names must be strings";
		if (slot)
			to_field(in, v, slot);
		else if (key_is(k, "$distinct_ids"))
			mp_merge_ids(in, r, v);
		r->long_strings += long_strings(v);
		ok(in->props, msgpack_pack_object(&in->props->pk, *k));
		ok(in->props, msgpack_pack_object(&in->props->pk, *v));
	}
	idg__mpw_map_end(in->props, at, m->size);
	r->properties.type = IDG__F_OBJECT;
	r->nprops = m->size;
	r->props = idg__mpw_data(in->props, &r->props_len);
	return idg__mpw_error(in->props) ? "out of memory" : NULL;
}

static const char *
mp_record(struct idg__mpin *in, struct idg__inrec *r, const msgpack_object *o)
{
	const msgpack_object_map *m;
	const char *err = NULL;
	uint32_t i;

	if (o->type != MSGPACK_OBJECT_MAP)
		return "record is not a map";
	m = &o->via.map;
	for (i = 0; i < m->size && !err; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;

		if (key_is(k, "event")) {
			to_field(in, v, &r->event);
		} else if (key_is(k, "$distinct_id")) {
			to_field(in, v, &r->profile_id);
		} else if (key_is(k, "properties")) {
			struct idg__inrec fresh = {0};

			fresh.event = r->event;
			fresh.profile_id = r->profile_id;
			fresh.raw = r->raw;
			fresh.raw_len = r->raw_len;
			*r = fresh;
			if (v->type == MSGPACK_OBJECT_MAP)
				err = mp_properties(in, r, v);
			else
				to_field(in, v, &r->properties);
		}
	}
	return err;
}

static int
mp_emit(struct idg__mpin *in, const msgpack_object *o, const char *raw,
	size_t raw_len, uint32_t index, int in_array, idg__inrec_fn cb,
	void *ctx)
{
	struct idg__inrec r = {0};
	const char *err;

	in->ntext = 0;
	r.raw = raw;
	r.raw_len = raw_len;
	err = mp_record(in, &r, o);
	if (err) {
		struct idg__inrec bare = {0};

		bare.raw = raw;
		bare.raw_len = raw_len;
		return cb(ctx, &bare, index, in_array, err);
	}
	return cb(ctx, &r, index, in_array, NULL);
}

static int
mp_array(struct idg__mpin *in, const msgpack_object *o, idg__inrec_fn cb,
	 void *ctx)
{
	const char *raw;
	size_t raw_len;
	uint32_t i;
	int rc;

	for (i = 0; i < o->via.array.size; i++) {
		/* An element's own bytes, for a rejects file. */
		idg__mpw_reset(in->raw);
		ok(in->raw, msgpack_pack_object(&in->raw->pk,
						o->via.array.ptr[i]));
		raw = idg__mpw_data(in->raw, &raw_len);
		rc = mp_emit(in, &o->via.array.ptr[i], raw, raw_len, i, 1, cb,
			     ctx);
		if (rc)
			return rc;
	}
	return 0;
}

int
idg__mpin_next(struct idg__mpin *in, const char *data, size_t len,
	       size_t *off, idg__inrec_fn cb, void *ctx)
{
	msgpack_unpacked up;
	size_t start = *off;
	int rc;

	msgpack_unpacked_init(&up);
	switch (msgpack_unpack_next(&up, data, len, off)) {
	case MSGPACK_UNPACK_SUCCESS:
		if (up.data.type == MSGPACK_OBJECT_ARRAY)
			rc = mp_array(in, &up.data, cb, ctx);
		else
			rc = mp_emit(in, &up.data, data + start, *off - start,
				     0, 0, cb, ctx);
		break;
	case MSGPACK_UNPACK_CONTINUE:
		*off = start;
		rc = IDG__MPIN_MORE;
		break;
	default: {
		struct idg__inrec bare = {0};

		bare.raw = data + start;
		bare.raw_len = len - start;
		rc = cb(ctx, &bare, 0, 0,
			"malformed MessagePack: the rest of the stream "
			"cannot be read");
		if (rc == 0)
			rc = IDG__MPIN_BROKEN;
		*off = len;
	}
	}
	msgpack_unpacked_destroy(&up);
	return rc;
}
