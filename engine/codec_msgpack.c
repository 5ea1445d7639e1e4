/*
 * codec_msgpack.c — MessagePack for stored values, through msgpack-c.
 *
 * The writer reuses one growing buffer, so encoding a value allocates only
 * when the buffer must grow. The reader decodes flat arrays of scalars in
 * place with msgpack-c's zone-free unpacker for scalars; strings point into
 * the input, which the caller keeps alive.
 */
#include "codec_msgpack.h"

#include <math.h>
#include <msgpack.h>
#include <msgpack/unpack_define.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec_json_in.h"
#include "idgraph.h"
#include "ids.h"
#include "keys.h"

#include <string.h>

#define MPW_AFTER 256 /* a power of two */

struct idg__mpw {
	msgpack_sbuffer buf;
	msgpack_packer pk;
	int failed; /* a write failed since the last reset */
	struct idg__pkey *pkeys; /* idg__mpw_prop_key's notes */
	uint32_t npkeys, pkeys_cap;
	const struct idg__keys *keys; /* numbers prop_key's names, or NULL */
	/* The name found after each name (by its number; 0 stands for the
	 * start of the properties and for a name without a number): bodies
	 * mostly name their properties in the same order, so a name is
	 * compared with the one that followed the previous name last time
	 * before it is hashed. */
	uint32_t after[MPW_AFTER];
	uint32_t prev;
};

/*
 * The packer's sink: msgpack_sbuffer's buffer, with msgpack_sbuffer_write's
 * growth, but the few bytes of a header or a short name copied by two
 * fixed-size (overlapping) moves rather than a call to memcpy: most writes
 * are of 1 to 16 bytes.
 */
static int
sink(void *data, const char *buf, size_t len)
{
	msgpack_sbuffer *sb = data;
	char *d;

	if (sb->alloc - sb->size < len) {
		size_t cap = sb->alloc ? sb->alloc * 2 : MSGPACK_SBUFFER_INIT_SIZE;

		while (cap < sb->size + len)
			cap *= 2;
		if (!(d = realloc(sb->data, cap)))
			return -1;
		sb->data = d;
		sb->alloc = cap;
	}
	d = sb->data + sb->size;
	sb->size += len;
	if (len >= 8 && len <= 16) {
		memcpy(d, buf, 8);
		memcpy(d + len - 8, buf + len - 8, 8);
	} else if (len >= 4 && len < 8) {
		memcpy(d, buf, 4);
		memcpy(d + len - 4, buf + len - 4, 4);
	} else if (len < 4) {
		for (size_t i = 0; i < len; i++)
			d[i] = buf[i];
	} else {
		memcpy(d, buf, len);
	}
	return 0;
}

/*
 * msgpack-c's packers once more, from its pack_template.h as its own
 * pack.h makes them, but calling sink directly rather than through the
 * packer's callback pointer, so that each header's few bytes are copied
 * in line: idg__pk_str, idg__pk_uint64, ... The library's own stay for
 * msgpack_pack_object.
 */
#define msgpack_pack_inline_func(name) static inline int idg__pk##name
#define msgpack_pack_user msgpack_packer *
#define msgpack_pack_append_buffer(user, buf, len)                            \
	return sink((user)->data, (const char *)(buf), (len))
#include <msgpack/pack_template.h>

struct idg__mpw *
idg__mpw_new(void)
{
	struct idg__mpw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	msgpack_sbuffer_init(&w->buf);
	msgpack_packer_init(&w->pk, &w->buf, sink);
	return w;
}

void
idg__mpw_free(struct idg__mpw *w)
{
	if (!w)
		return;
	msgpack_sbuffer_destroy(&w->buf);
	free(w->pkeys);
	free(w);
}

void
idg__mpw_reset(struct idg__mpw *w)
{
	w->buf.size = 0;
	w->failed = 0;
	w->npkeys = 0;
	w->prev = 0;
}

void
idg__mpw_pkeys_reset(struct idg__mpw *w)
{
	w->npkeys = 0;
	w->prev = 0;
}

const struct idg__pkey *
idg__mpw_pkeys(const struct idg__mpw *w, uint32_t *count)
{
	*count = w->npkeys;
	return w->pkeys;
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
	return ok(w, idg__pk_array(&w->pk, n));
}

int
idg__mpw_str(struct idg__mpw *w, const char *s, size_t n)
{
	int rc = idg__pk_str(&w->pk, n);

	if (rc == 0 && n)
		rc = idg__pk_str_body(&w->pk, s, n);
	return ok(w, rc);
}

int
idg__mpw_prop_key(struct idg__mpw *w, size_t map_at, const char *s,
		  size_t n)
{
	size_t at = w->buf.size - map_at;
	struct idg__pkey *k;
	uint32_t num;

	if (w->npkeys == w->pkeys_cap) {
		uint32_t cap = w->pkeys_cap ? 2 * w->pkeys_cap : 64;

		k = realloc(w->pkeys, cap * sizeof(*k));
		if (!k)
			return ok(w, -1);
		w->pkeys = k;
		w->pkeys_cap = cap;
	}
	num = 0;
	if (w->keys) {
		uint32_t *after = &w->after[w->prev & (MPW_AFTER - 1)];

		num = idg__keys_is(w->keys, *after, s, n)
			  ? *after
			  : idg__keys_find(w->keys, s, n);
		if (num)
			*after = num;
		w->prev = num;
	}
	if (num ? idg__mpw_uint(w, num) : idg__mpw_str(w, s, n))
		return IDG_ENOMEM;
	k = &w->pkeys[w->npkeys++];
	k->at = (uint32_t)at;
	k->val = (uint32_t)(w->buf.size - map_at);
	k->len = (uint32_t)n;
	k->num = num;
	return IDG_OK;
}

void
idg__mpw_set_keys(struct idg__mpw *w, const struct idg__keys *keys)
{
	w->keys = keys;
}

int
idg__mpw_int(struct idg__mpw *w, int64_t v)
{
	return ok(w, idg__pk_int64(&w->pk, v));
}

int
idg__mpw_uint(struct idg__mpw *w, uint64_t v)
{
	return ok(w, idg__pk_uint64(&w->pk, v));
}

int
idg__mpw_nil(struct idg__mpw *w)
{
	return ok(w, idg__pk_nil(&w->pk));
}

int
idg__mpw_double(struct idg__mpw *w, double v)
{
	return ok(w, idg__pk_double(&w->pk, v));
}

int
idg__mpw_bool(struct idg__mpw *w, int v)
{
	return ok(w, v ? idg__pk_true(&w->pk)
		       : idg__pk_false(&w->pk));
}

int
idg__mpw_bigint(struct idg__mpw *w, const char *digits, size_t n)
{
	int rc = idg__pk_ext(&w->pk, n, IDG__MP_EXT_BIGINT);

	if (rc == 0)
		rc = idg__pk_ext_body(&w->pk, digits, n);
	return ok(w, rc);
}

int
idg__mpw_raw(struct idg__mpw *w, const void *p, size_t n)
{
	return ok(w, sink(&w->buf, p, n));
}

int
idg__mpw_bin(struct idg__mpw *w, const void *p, size_t n)
{
	return idg__mpw_bin2(w, p, n, NULL, 0);
}

int
idg__mpw_bin2(struct idg__mpw *w, const void *a, size_t an, const void *b,
	      size_t bn)
{
	int rc = idg__pk_bin(&w->pk, an + bn);

	if (rc == 0 && an)
		rc = idg__pk_bin_body(&w->pk, a, an);
	if (rc == 0 && bn)
		rc = idg__pk_bin_body(&w->pk, b, bn);
	return ok(w, rc);
}

int
idg__block_read(const void *data, size_t len, struct idg__blob *items,
		uint32_t max, uint32_t *count)
{
	msgpack_unpacked up;
	msgpack_object_array *a;
	int rc = IDG_OK;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, data, len, NULL) !=
		MSGPACK_UNPACK_SUCCESS ||
	    up.data.type != MSGPACK_OBJECT_ARRAY ||
	    up.data.via.array.size > max) {
		rc = IDG_ECORRUPT;
		goto out;
	}
	a = &up.data.via.array;
	for (uint32_t i = 0; i < a->size; i++) {
		/* Bins point into data: they outlive up. */
		if (a->ptr[i].type != MSGPACK_OBJECT_BIN) {
			rc = IDG_ECORRUPT;
			goto out;
		}
		items[i].p = a->ptr[i].via.bin.ptr;
		items[i].n = a->ptr[i].via.bin.size;
	}
	*count = a->size;
out:
	msgpack_unpacked_destroy(&up);
	return rc;
}

/* A 32-bit header (0xdf map, 0xdd array) with its count patched later. */
static size_t
begin32(struct idg__mpw *w, unsigned char tag)
{
	unsigned char hdr[5] = {tag, 0, 0, 0, 0};
	size_t at = w->buf.size;

	ok(w, sink(&w->buf, (const char *)hdr, 5));
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

static int
key_is(const msgpack_object *k, const char *s)
{
	size_t n = strlen(s);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       memcmp(k->via.str.ptr, s, n) == 0;
}

/*
 * The text of a body's top-level property name k: its string, or the
 * name its number stands for in keys. -1 when it has neither.
 */
static int
prop_name(const struct idg__keys *keys, const msgpack_object *k,
	  const char **s, size_t *n)
{
	if (k->type == MSGPACK_OBJECT_STR) {
		*s = k->via.str.ptr;
		*n = k->via.str.size;
		return 0;
	}
	if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER && keys)
		return idg__keys_name(keys, k->via.u64, s, n);
	return -1;
}

/* 1 if the body property name k is s. */
static int
prop_is(const struct idg__keys *keys, const msgpack_object *k, const char *s)
{
	const char *p;
	size_t n;

	return prop_name(keys, k, &p, &n) == 0 && n == strlen(s) &&
	       memcmp(p, s, n) == 0;
}

/* 1 if s[0..n) is one of the extra keys (even entries of extra). */
static int
is_extra_name(const char *s, size_t n, const char *const *extra, int nextra)
{
	int i;

	for (i = 0; i < nextra; i++)
		if (strlen(extra[2 * i]) == n && memcmp(extra[2 * i], s, n) == 0)
			return 1;
	return 0;
}

/* The properties with each name numbered in nums written as its number. */
static int
numbered_props(struct idg__mpw *w, const struct idg__body *b,
	       const uint32_t *nums)
{
	const char *p = b->props;
	size_t at = idg__mpw_map_begin(w), end;
	uint32_t i;

	for (i = 0; i < b->npkeys; i++) {
		const struct idg__pkey *k = &b->pkeys[i];

		end = i + 1 < b->npkeys ? b->pkeys[i + 1].at : b->props_len;
		if (k->at > k->val || k->val > end || end > b->props_len)
			return IDG_ECORRUPT;
		if (nums[i])
			idg__mpw_uint(w, nums[i]);
		else
			idg__mpw_raw(w, p + k->at, k->val - k->at);
		idg__mpw_raw(w, p + k->val, end - k->val);
	}
	idg__mpw_map_end(w, at, b->npkeys);
	return idg__mpw_error(w);
}

int
idg__body_head(struct idg__mpw *w, const struct idg__body *b)
{
	if (b->did_in_props)
		idg__mpw_nil(w);
	else
		idg__mpw_str(w, b->did, b->did_len);
	if (b->ins && b->ins_in_props)
		idg__mpw_bool(w, 1);
	else if (b->ins)
		idg__mpw_str(w, b->ins, b->ins_len);
	else
		idg__mpw_nil(w);
	return idg__mpw_error(w);
}

int
idg__body_encode(struct idg__mpw *w, const struct idg__body *b,
		 const uint32_t *nums, const char *const *extra, int nextra,
		 const struct idg__keys *keys)
{
	msgpack_unpacked up;
	size_t at, off = 0;
	uint32_t i, n = 0;
	int j;

	idg__mpw_reset(w);
	idg__body_head(w, b);
	if (nextra == 0 && b->npkeys && nums)
		return numbered_props(w, b, nums);
	if (nextra == 0)
		return idg__mpw_raw(w, b->props, b->props_len);
	/* The extras replace properties of the same names (a failed
	 * identity event ingested again from an export carries them). */
	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, b->props, b->props_len, &off) !=
		MSGPACK_UNPACK_SUCCESS ||
	    up.data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(&up);
		return IDG_ECORRUPT;
	}
	at = idg__mpw_map_begin(w);
	for (i = 0; i < up.data.via.map.size; i++) {
		const msgpack_object_kv *kv = &up.data.via.map.ptr[i];
		const char *name;
		size_t len;

		if (prop_name(keys, &kv->key, &name, &len) != 0) {
			msgpack_unpacked_destroy(&up);
			return IDG_ECORRUPT;
		}
		if (is_extra_name(name, len, extra, nextra))
			continue;
		idg__mpw_str(w, name, len);
		ok(w, msgpack_pack_object(&w->pk, kv->val));
		n++;
	}
	msgpack_unpacked_destroy(&up);
	for (j = 0; j < 2 * nextra; j++)
		idg__mpw_str(w, extra[j], strlen(extra[j]));
	idg__mpw_map_end(w, at, n + (uint32_t)nextra);
	return idg__mpw_error(w);
}

/* Whether c begins a map: fixmap, map 16 or map 32. */
static int
map_start(unsigned char c)
{
	return (c & 0xf0) == 0x80 || c == 0xde || c == 0xdf;
}

/*
 * A body decoder keeps one zone from body to body (msgpack_unpack_next
 * would allocate and free a zone for each value), and in it the last
 * body's properties, which an export writes next.
 */
struct idg__mpdec {
	msgpack_zone *zone;
	msgpack_object props; /* the last body's properties: a map */
};

struct idg__mpdec *
idg__mpdec_new(void)
{
	struct idg__mpdec *d = calloc(1, sizeof(*d));

	if (d && !(d->zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE))) {
		free(d);
		d = NULL;
	}
	return d;
}

void
idg__mpdec_free(struct idg__mpdec *d)
{
	if (!d)
		return;
	msgpack_zone_free(d->zone);
	free(d);
}

/* Unpacks the value at *off into d's zone; strings point into data. */
static int
unpack_at(struct idg__mpdec *d, const char *data, size_t len, size_t *off,
	  msgpack_object *o)
{
	switch (msgpack_unpack(data, len, off, d->zone, o)) {
	case MSGPACK_UNPACK_SUCCESS:
	case MSGPACK_UNPACK_EXTRA_BYTES:
		return 0;
	default:
		return -1;
	}
}

/* The string property key of map m, pointing into the body's bytes. */
static int
props_string(const msgpack_object_map *m, const struct idg__keys *keys,
	     const char *key, const char **p, size_t *n)
{
	int rc = IDG_ECORRUPT;
	uint32_t i;

	for (i = 0; i < m->size; i++) {
		const msgpack_object_kv *kv = &m->ptr[i];

		if (prop_is(keys, &kv->key, key) &&
		    kv->val.type == MSGPACK_OBJECT_STR) {
			*p = kv->val.via.str.ptr;
			*n = kv->val.via.str.size;
			rc = IDG_OK;
		}
	}
	return rc;
}

int
idg__body_decode(struct idg__mpdec *d, const void *data, size_t len,
		 const struct idg__keys *keys, struct idg__body *out)
{
	const char *p = data;
	const msgpack_object_map *m = &d->props.via.map;
	msgpack_object o[2];
	size_t off = 0;
	int i;

	/* The last body's objects go; the zone's first chunk stays. */
	msgpack_zone_clear(d->zone);
	d->props.type = MSGPACK_OBJECT_NIL;
	for (i = 0; i < 2; i++)
		if (unpack_at(d, p, len, &off, &o[i]))
			return IDG_ECORRUPT;
	if ((o[0].type != MSGPACK_OBJECT_STR &&
	     o[0].type != MSGPACK_OBJECT_NIL) ||
	    (o[1].type != MSGPACK_OBJECT_STR && o[1].type != MSGPACK_OBJECT_NIL &&
	     o[1].type != MSGPACK_OBJECT_BOOLEAN))
		return IDG_ECORRUPT;
	/* The properties: a map to the end. */
	memset(out, 0, sizeof(*out));
	out->props = p + off;
	out->props_len = len - off;
	if (unpack_at(d, p, len, &off, &d->props) || off != len ||
	    d->props.type != MSGPACK_OBJECT_MAP)
		return IDG_ECORRUPT;
	if (o[0].type == MSGPACK_OBJECT_STR) {
		out->did = o[0].via.str.ptr;
		out->did_len = o[0].via.str.size;
	} else if (props_string(m, keys, "distinct_id", &out->did,
				&out->did_len)) {
		return IDG_ECORRUPT;
	}
	if (o[1].type == MSGPACK_OBJECT_STR) {
		out->ins = o[1].via.str.ptr;
		out->ins_len = o[1].via.str.size;
	} else if (o[1].type == MSGPACK_OBJECT_BOOLEAN &&
		   props_string(m, keys, "$insert_id", &out->ins,
				&out->ins_len)) {
		return IDG_ECORRUPT;
	}
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


/*
 * The properties d decoded last, every name known to keys; *has_did: one
 * of them is distinct_id.
 */
static const msgpack_object_map *
props_of(const struct idg__mpdec *d, const struct idg__keys *keys,
	 int *has_did)
{
	const msgpack_object_map *m = &d->props.via.map;
	size_t n;
	const char *s;
	uint32_t i;

	*has_did = 0;
	if (d->props.type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < m->size; i++) {
		if (prop_name(keys, &m->ptr[i].key, &s, &n))
			return NULL;
		*has_did |= n == 11 && memcmp(s, "distinct_id", 11) == 0;
	}
	return m;
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

/* Whether the name s[0..n) is the literal lit. */
#define NAME_IS(s, n, lit)                                                    \
	((n) == sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

int
idg__event_write_json(struct idg_jw *jw, const struct idg__mpdec *d,
		      const struct idg__keys *keys, const char *name,
		      size_t name_len, const struct idg__body *b,
		      const char *resolved, size_t resolved_len)
{
	const msgpack_object_map *m;
	int has_did = 0, diff = differs(b, resolved, resolved_len);
	uint32_t i;

	if (!(m = props_of(d, keys, &has_did)))
		return IDG_ECORRUPT;
	idg_jw_object_begin(jw);
	idg_jw_key(jw, "event", 5);
	idg_jw_string(jw, name, name_len);
	idg_jw_key(jw, "properties", 10);
	idg_jw_object_begin(jw);
	if (!has_did)
		json_ids(jw, b, resolved, resolved_len);
	for (i = 0; i < m->size; i++) {
		const char *s = "";
		size_t n = 0;

		prop_name(keys, &m->ptr[i].key, &s, &n);
		if (NAME_IS(s, n, "distinct_id")) {
			json_ids(jw, b, resolved, resolved_len);
			continue;
		}
		if (diff && NAME_IS(s, n, "$distinct_id_before_identity"))
			continue;
		idg_jw_key(jw, s, n);
		object_to_json(jw, &m->ptr[i].val);
	}
	idg_jw_object_end(jw);
	idg_jw_object_end(jw);
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
idg__event_write_msgpack(struct idg__mpw *w, const struct idg__mpdec *d,
			 const struct idg__keys *keys, const char *name,
			 size_t name_len, const struct idg__body *b,
			 const char *resolved, size_t resolved_len)
{
	const msgpack_object_map *m;
	int has_did = 0, diff = differs(b, resolved, resolved_len);
	uint32_t i, count = 0;
	size_t at;

	if (!(m = props_of(d, keys, &has_did)))
		return IDG_ECORRUPT;
	idg__mpw_reset(w);
	idg__pk_map(&w->pk, 2);
	idg__mpw_str(w, "event", 5);
	idg__mpw_str(w, name, name_len);
	idg__mpw_str(w, "properties", 10);
	at = idg__mpw_map_begin(w);
	if (!has_did)
		msgpack_ids(w, b, resolved, resolved_len, &count);
	for (i = 0; i < m->size; i++) {
		const char *s = "";
		size_t n = 0;

		prop_name(keys, &m->ptr[i].key, &s, &n);
		if (NAME_IS(s, n, "distinct_id")) {
			msgpack_ids(w, b, resolved, resolved_len, &count);
			continue;
		}
		if (diff && NAME_IS(s, n, "$distinct_id_before_identity"))
			continue;
		idg__mpw_str(w, s, n);
		ok(w, msgpack_pack_object(&w->pk, m->ptr[i].val));
		count++;
	}
	idg__mpw_map_end(w, at, count);
	return idg__mpw_error(w);
}

void
idg_jw_msgpack(idg_jw *jw, const void *data, size_t len)
{
	msgpack_unpacked up;
	size_t off = 0;

	msgpack_unpacked_init(&up);
	if (data && msgpack_unpack_next(&up, data, len, &off) ==
			MSGPACK_UNPACK_SUCCESS)
		object_to_json(jw, &up.data);
	else
		idg_jw_null(jw);
	msgpack_unpacked_destroy(&up);
}

/* The JSON text of a value, for comparing it with a user's text. */
static int
json_text_is(const msgpack_object *o, const char *value)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	idg_jw *jw;
	int same = 0;

	if (!fp)
		return 0;
	jw = idg_jw_open(fp);
	if (jw) {
		object_to_json(jw, o);
		same = idg_jw_close(jw) == 0;
	}
	fclose(fp);
	same = same && buf && strcmp(buf, value) == 0;
	free(buf);
	return same;
}

int
idg__mp_map_match(const void *map, size_t len, const char *key,
		  const char *value)
{
	msgpack_unpacked up;
	const msgpack_object *v = NULL;
	size_t off = 0, n = strlen(value);
	uint32_t i;
	int match = 0;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, map, len, &off) == MSGPACK_UNPACK_SUCCESS &&
	    up.data.type == MSGPACK_OBJECT_MAP)
		for (i = 0; i < up.data.via.map.size; i++)
			if (key_is(&up.data.via.map.ptr[i].key, key))
				v = &up.data.via.map.ptr[i].val;
	if (v && v->type == MSGPACK_OBJECT_STR)
		match = v->via.str.size == n &&
			memcmp(v->via.str.ptr, value, n) == 0;
	else if (v)
		match = json_text_is(v, value);
	msgpack_unpacked_destroy(&up);
	return match;
}

/* ---- MessagePack input ---- */

/*
 * Lists and objects nested in a property value, at most: the JSON codec's
 * limit, so that what MessagePack brings in exports as JSON that ingests
 * again.
 */
#define MP_MAX_DEPTH 29

struct idg__mpin {
	/* The decoded value, kept from one to the next: msgpack_unpack_next
	 * would allocate and free a zone for each. */
	msgpack_zone *zone;
	struct idg__mpw *props; /* the record's properties, re-encoded */
	struct idg__mpw *ops;   /* a profile update's operator values */
	int nomem;              /* an integer's text found no room */
	char why[160];          /* a rejected value's message */
};

struct idg__mpin *
idg__mpin_new(void)
{
	struct idg__mpin *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
	in->props = idg__mpw_new();
	in->ops = idg__mpw_new();
	if (!in->zone || !in->props || !in->ops) {
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
	if (in->zone)
		msgpack_zone_free(in->zone);
	idg__mpw_free(in->props);
	idg__mpw_free(in->ops);
	free(in);
}

void
idg__mpin_set_keys(struct idg__mpin *in, const struct idg__keys *keys)
{
	idg__mpw_set_keys(in->props, keys);
}

int
idg__mpin_sniff(unsigned char c)
{
	/* A map, or an array (fixarray, array 16 or array 32) of them. */
	return map_start(c) || (c & 0xf0) == 0x90 || c == 0xdc || c == 0xdd;
}

/* Whether o is a big integer as the codecs write one: an ext value of
 * type IDG__MP_EXT_BIGINT holding a JSON integer's digits. */
static int
is_bigint(const msgpack_object *o)
{
	const char *p = o->via.ext.ptr;
	uint32_t n = o->via.ext.size, i = 0;

	if (o->type != MSGPACK_OBJECT_EXT || o->via.ext.type != IDG__MP_EXT_BIGINT)
		return 0;
	if (n > 0 && p[0] == '-')
		i++;
	if (i == n || (p[i] == '0' && n - i > 1))
		return 0;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/*
 * Whether a string is valid UTF-8, as JSON text must be: ASCII (most ids,
 * names and values) is seen 8 bytes at a time, anything else goes to the
 * validator. Inlined: it runs for every string of every record (3.8% of a
 * MessagePack ingest's instructions with the call, 4.5% without).
 */
static inline __attribute__((always_inline)) int
utf8_ok(const char *p, uint32_t n)
{
	uint32_t i, h4, t4;
	uint64_t w, high = 0;

	if (n >= 8) {
		/* 8 bytes at a time, the last 8 overlapping the run before */
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&w, p + i, 8);
			high |= w;
		}
		memcpy(&w, p + n - 8, 8);
		high |= w;
	} else if (n >= 4) {
		memcpy(&h4, p, 4);
		memcpy(&t4, p + n - 4, 4);
		high = h4 | t4;
	} else {
		for (i = 0; i < n; i++)
			high |= (unsigned char)p[i];
	}
	return !(high & 0x8080808080808080ULL) || idg__utf8_valid(p, n);
}

/*
 * What JSON could not carry, in a value of a record: a name that is not
 * a string, invalid UTF-8, NaN or an infinity, an ext value other than a
 * big integer, lists and objects nested deeper than MP_MAX_DEPTH. Counts
 * the strings longer than Mixpanel's 255 bytes on the way. NULL when o is
 * fine.
 */
static const char *
mp_check(const msgpack_object *o, int depth, uint32_t *long_strs)
{
	const char *err = NULL;
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		*long_strs += o->via.str.size > 255;
		return utf8_ok(o->via.str.ptr, o->via.str.size) ? NULL
							  : "invalid UTF-8";
	case MSGPACK_OBJECT_BIN:
		/* exported as a string: text, or it would be altered */
		return utf8_ok(o->via.bin.ptr, o->via.bin.size)
			   ? NULL
			   : "bytes (bin) that are not UTF-8 text have no "
			     "JSON form";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return isfinite(o->via.f64) ? NULL
					    : "NaN and infinities have no "
					      "JSON form";
	case MSGPACK_OBJECT_EXT:
		return is_bigint(o) ? NULL
				    : "a MessagePack ext value other than a "
				      "big integer's digits";
	case MSGPACK_OBJECT_ARRAY:
		if (depth == MP_MAX_DEPTH)
			return "lists and objects nested more than 29 deep";
		for (i = 0; i < o->via.array.size && !err; i++)
			err = mp_check(&o->via.array.ptr[i], depth + 1,
				       long_strs);
		return err;
	case MSGPACK_OBJECT_MAP:
		if (depth == MP_MAX_DEPTH)
			return "lists and objects nested more than 29 deep";
		for (i = 0; i < o->via.map.size && !err; i++) {
			if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
				return "names in objects must be strings";
			if (!utf8_ok(o->via.map.ptr[i].key.via.str.ptr,
				     o->via.map.ptr[i].key.via.str.size))
				return "invalid UTF-8 in a name";
			*long_strs += o->via.map.ptr[i].key.via.str.size > 255;
			err = mp_check(&o->via.map.ptr[i].val, depth + 1,
				       long_strs);
		}
		return err;
	default:
		return NULL;
	}
}

/* err about the value named k (after prefix), in in->why. */
static const char *
why(struct idg__mpin *in, const char *prefix, const msgpack_object *k,
    const char *err)
{
	uint32_t n = k->type == MSGPACK_OBJECT_STR ? k->via.str.size : 0;

	snprintf(in->why, sizeof(in->why), "%s%.*s: %s", prefix,
		 (int)(n > 64 ? 64 : n), n ? k->via.str.ptr : "", err);
	return in->why;
}

/* An integer's decimal text, which the engine reads as an id, in the
 * zone of the value being read (so that it lives as long as the record's
 * strings). */
static void
int_text(struct idg__mpin *in, struct idg__field *f, int neg, uint64_t u,
	 int64_t i)
{
	char *t = msgpack_zone_malloc_no_align(in->zone, 24);

	if (!t) {
		in->nomem = 1;
		return;
	}
	if (neg)
		snprintf(t, 24, "%lld", (long long)i);
	else
		snprintf(t, 24, "%llu", (unsigned long long)u);
	f->s = t;
	f->n = strlen(t);
}

/*
 * A big integer's digits that fit 64 bits (what JSON would have given as
 * an integer: "1704067200" as a time, "-0" as 0) read as that integer,
 * with its decimal text. 0 when they do not fit.
 */
static int
small_bigint(struct idg__mpin *in, const msgpack_object *o,
	     struct idg__field *f)
{
	const char *p = o->via.ext.ptr;
	uint32_t n = o->via.ext.size, i = p[0] == '-';
	uint64_t u = 0;

	for (; i < n; i++) {
		if (u > (UINT64_MAX - 9) / 10)
			return 0;
		u = u * 10 + (uint64_t)(p[i] - '0');
	}
	if (p[0] != '-') {
		f->type = u > INT64_MAX ? IDG__F_BIGINT : IDG__F_INT;
		f->i = (int64_t)u;
		int_text(in, f, 0, u, 0);
		return 1;
	}
	if (u > (uint64_t)INT64_MAX + 1)
		return 0;
	f->type = IDG__F_INT;
	f->i = u ? (int64_t)(0 - u) : 0;
	if (f->i == 0)
		int_text(in, f, 0, 0, 0);
	else
		int_text(in, f, 1, 0, f->i);
	return 1;
}

/* The typed field the engine reads, from a decoded value. */
static void
to_field(struct idg__mpin *in, const msgpack_object *o, struct idg__field *f)
{
	memset(f, 0, sizeof(*f));
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		f->type = IDG__F_STRING;
		f->s = o->via.str.ptr;
		f->n = o->via.str.size;
		break;
	case MSGPACK_OBJECT_BIN:
		f->type = IDG__F_OTHER; /* bytes, not text */
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
		if (!is_bigint(o)) {
			f->type = IDG__F_OTHER;
			break;
		}
		if (small_bigint(in, o, f))
			break;
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
	    "distinct_id",	 "time",     "$insert_id", "$identified_id",
	    "$anon_id",	 "$anon_distinct_id", "alias",	   "$user_id",
	    "$device_id"};
	struct idg__field *slots[] = {
	    &r->distinct_id, &r->time,		  &r->insert_id,
	    &r->identified_id, &r->anon_id, &r->anon_distinct_id,
	    &r->alias,	     &r->user_id,	  &r->device_id};
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
	const struct idg__pkey *pk;
	const char *err;
	size_t at;
	uint32_t i, npk;

	idg__mpw_reset(in->props);
	at = idg__mpw_map_begin(in->props);
	for (i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
		struct idg__field *slot = mp_slot(r, k);

		if (k->type != MSGPACK_OBJECT_STR)
			return "property names must be strings";
		idg__mpw_prop_key(in->props, at, k->via.str.ptr,
				  k->via.str.size);
		/* a name the dictionary numbered is one checked before */
		pk = idg__mpw_pkeys(in->props, &npk);
		if (!(npk && pk[npk - 1].num) &&
		    !utf8_ok(k->via.str.ptr, k->via.str.size))
			return "invalid UTF-8 in a property name";
		r->long_strings += k->via.str.size > 255;
		if ((err = mp_check(v, 0, &r->long_strings)) != NULL)
			return why(in, "properties.", k, err);
		if (slot)
			to_field(in, v, slot);
		else if (key_is(k, "$distinct_ids"))
			mp_merge_ids(in, r, v);
		ok(in->props, msgpack_pack_object(&in->props->pk, *v));
	}
	idg__mpw_map_end(in->props, at, m->size);
	r->properties.type = IDG__F_OBJECT;
	r->nprops = m->size;
	r->props = idg__mpw_data(in->props, &r->props_len);
	r->pkeys = idg__mpw_pkeys(in->props, &i);
	return idg__mpw_error(in->props) ? "out of memory" : NULL;
}

static int
mp_operator_of(const msgpack_object *k)
{
	static const char *const names[IDG__OP_COUNT] = {
	    "$set",   "$set_once", "$add",   "$append",
	    "$union", "$remove",   "$unset", "$delete"};
	int i;

	for (i = 0; i < IDG__OP_COUNT; i++)
		if (key_is(k, names[i]))
			return i;
	return -1;
}

/* A number, as $add takes it (defined with the People operators). */
static int is_number(const msgpack_object *o);

/* An operator's value, re-encoded, with what its members are. */
static void
mp_operator(struct idg__mpin *in, const msgpack_object *v,
	    struct idg__opval *op)
{
	struct idg__field f;
	size_t start, end;
	uint32_t i;

	idg__mpw_data(in->ops, &start);
	ok(in->ops, msgpack_pack_object(&in->ops->pk, *v));
	idg__mpw_data(in->ops, &end);
	memset(op, 0, sizeof(*op));
	to_field(in, v, &f);
	op->type = f.type;
	op->mp = (const void *)start; /* an offset until the record ends */
	op->mp_len = end - start;
	if (v->type == MSGPACK_OBJECT_MAP) {
		op->all_numbers = op->all_arrays = 1;
		for (i = 0; i < v->via.map.size; i++) {
			const msgpack_object *x = &v->via.map.ptr[i].val;

			op->all_numbers &= is_number(x);
			op->all_arrays &= x->type == MSGPACK_OBJECT_ARRAY;
		}
	} else if (v->type == MSGPACK_OBJECT_ARRAY) {
		op->all_strings = 1;
		for (i = 0; i < v->via.array.size; i++)
			op->all_strings &=
			    v->via.array.ptr[i].type == MSGPACK_OBJECT_STR;
	}
}

static const char *
mp_record(struct idg__mpin *in, struct idg__inrec *r, const msgpack_object *o)
{
	const msgpack_object_map *m;
	const char *err = NULL, *base;
	size_t len;
	uint32_t i;
	int op;

	if (o->type != MSGPACK_OBJECT_MAP)
		return "record is not a map";
	idg__mpw_reset(in->ops);
	m = &o->via.map;
	for (i = 0; i < m->size && !err; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;

		if (v->type == MSGPACK_OBJECT_STR &&
		    !utf8_ok(v->via.str.ptr, v->via.str.size) &&
		    (key_is(k, "event") || key_is(k, "$distinct_id"))) {
			err = why(in, "", k, "invalid UTF-8");
		} else if (key_is(k, "event")) {
			to_field(in, v, &r->event);
		} else if (key_is(k, "$distinct_id")) {
			to_field(in, v, &r->profile_id);
		} else if (key_is(k, "$time")) {
			to_field(in, v, &r->ptime);
		} else if (key_is(k, "$ignore_time")) {
			to_field(in, v, &r->ignore_time);
		} else if (key_is(k, "$ignore_alias")) {
			to_field(in, v, &r->ignore_alias);
		} else if ((op = mp_operator_of(k)) >= 0) {
			uint32_t long_strs = 0;

			if ((err = mp_check(v, 0, &long_strs)) != NULL)
				err = why(in, "", k, err);
			else
				mp_operator(in, v, &r->ops[op]);
			r->ops[op].long_strings = long_strs;
		} else if (key_is(k, "properties")) {
			struct idg__inrec fresh = *r;

			/* Only the properties' own fields start over. */
			memset(&fresh.distinct_id, 0,
			       (size_t)((char *)&fresh.ptime -
					(char *)&fresh.distinct_id));
			fresh.nprops = 0;
			fresh.long_strings = 0;
			*r = fresh;
			if (v->type == MSGPACK_OBJECT_MAP)
				err = mp_properties(in, r, v);
			else
				to_field(in, v, &r->properties);
		} else if (k->type == MSGPACK_OBJECT_STR &&
			   !utf8_ok(k->via.str.ptr, k->via.str.size)) {
			err = "invalid UTF-8 in a name";
		} else {
			/* read by nothing, stored by nothing, but a JSON line
			 * with invalid UTF-8 anywhere is rejected whole */
			uint32_t ignored = 0;

			if ((err = mp_check(v, 0, &ignored)) != NULL &&
			    strncmp(err, "invalid UTF-8", 13) != 0)
				err = NULL;
			else if (err)
				err = why(in, "", k, err);
		}
	}
	base = idg__mpw_data(in->ops, &len);
	for (i = 0; i < IDG__OP_COUNT; i++)
		if (r->ops[i].type != IDG__F_MISSING)
			r->ops[i].mp = base + (size_t)r->ops[i].mp;
	if (!err && idg__mpw_error(in->ops))
		err = "out of memory";
	return err;
}

static int
mp_emit(struct idg__mpin *in, const msgpack_object *o, const char *raw,
	size_t raw_len, uint32_t index, int in_array, idg__inrec_fn cb,
	void *ctx)
{
	struct idg__inrec r = {0};
	const char *err;

	in->nomem = 0;
	r.raw = raw;
	r.raw_len = raw_len;
	err = mp_record(in, &r, o);
	if (!err && in->nomem)
		err = "out of memory";
	if (err) {
		struct idg__inrec bare = {0};

		bare.raw = raw;
		bare.raw_len = raw_len;
		return cb(ctx, &bare, index, in_array, err);
	}
	return cb(ctx, &r, index, in_array, NULL);
}

static long long value_end(const unsigned char *p, size_t n, int *too_deep);

/* The records of a list p[0..n) that msgpack-c read whole as o, each with
 * its own bytes as they are in the input (for a rejects file, and the
 * size limit), found by its headers. */
static int
mp_array(struct idg__mpin *in, const msgpack_object *o, const char *p,
	 size_t n, idg__inrec_fn cb, void *ctx)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t at = (u[0] & 0xf0) == 0x90 ? 1 : u[0] == 0xdc ? 3 : 5;
	long long end;
	uint32_t i;
	int rc, deep;

	for (i = 0; i < o->via.array.size; i++, at += (size_t)end) {
		end = value_end(u + at, n - at, &deep);
		if (end <= 0) /* not for a list read whole; never whole */
			end = (long long)(n - at);
		rc = mp_emit(in, &o->via.array.ptr[i], p + at, (size_t)end, i,
			     1, cb, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

/* The big-endian unsigned integer of n (1, 2 or 4) bytes at p. */
static uint64_t
be(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* msgpack-c's stack: it refuses a list or map opened inside this many
 * unfinished ones. */
#define MP_STACK MSGPACK_EMBED_STACK_SIZE

/*
 * Where the value at p[0..n) ends, from its headers alone, and whether it
 * opens a list or map inside MP_STACK unfinished ones (*too_deep), which
 * msgpack-c refuses as if out of memory: found so that the values after
 * it are still read. The value's length; 0 when it goes on past n; -1 at
 * a byte no value starts with.
 */
static long long
value_end(const unsigned char *p, size_t n, int *too_deep)
{
	/* Per header byte from 0xc0: bytes of length (negative: of item
	 * count), then fixed payload bytes. */
	static const signed char len_bytes[32] = {
	    0, 0, 0, 0,			  /* nil, (unused), false, true */
	    1, 2, 4,			  /* bin 8, 16, 32 */
	    1, 2, 4,			  /* ext 8, 16, 32 */
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* float, uint, int */
	    0, 0, 0, 0, 0,		  /* fixext 1 to 16 */
	    1, 2, 4,			  /* str 8, 16, 32 */
	    -2, -4,			  /* array 16, 32 */
	    -2, -4};			  /* map 16, 32 */
	static const unsigned char payload[32] = {
	    0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 4, 8, 1, 2, 4, 8,
	    1, 2, 4, 8, 2, 3, 5, 9, 17, 0, 0, 0, 0, 0, 0, 0};
	uint64_t pending = 1, count, i = 0, left[MP_STACK];
	int c, k, nb, top = 0, container;

	*too_deep = 0;
	while (pending--) {
		if (i >= n)
			return 0;
		c = p[i++];
		count = 0;
		container = 0;
		if (top > 0)
			left[top - 1]--;
		if (c <= 0x7f || c >= 0xe0) {
			/* fixint */
		} else if (c <= 0x9f) {
			container = 1; /* fixmap, fixarray */
			count = c <= 0x8f ? 2 * (uint64_t)(c & 0x0f)
					  : (uint64_t)(c & 0x0f);
		} else if (c <= 0xbf) {
			i += c & 0x1f; /* fixstr */
		} else if (c == 0xc1) {
			return -1;
		} else {
			k = len_bytes[c - 0xc0];
			nb = k < 0 ? -k : k;
			if (i + (uint64_t)nb > n)
				return 0;
			if (nb != 0)
				count = be(p + i, nb);
			i += (uint64_t)nb;
			if (k < 0) {
				container = 1;
				count = c >= 0xde ? 2 * count : count;
			} else {
				i += count + payload[c - 0xc0];
				count = 0;
			}
		}
		if (container && !*too_deep) {
			if (top == MP_STACK)
				*too_deep = 1;
			else if (count > 0)
				left[top++] = count;
		}
		pending += count;
		while (!*too_deep && top > 0 && left[top - 1] == 0)
			top--;
	}
	return i > n ? 0 : (long long)i;
}

static const char *
unreadable_why(int deep)
{
	return deep ? "lists and objects nested more than 29 deep"
		    : "a value too large to decode";
}

/*
 * A whole value p[0..n) msgpack-c could not decode (deep: too deep for
 * its stack): one record rejected, or, for a list of records, each
 * element decoded on its own, so that only those it cannot decode are.
 */
static int
unreadable_value(struct idg__mpin *in, const char *p, size_t n, int deep,
		 idg__inrec_fn cb, void *ctx)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t at, count = 0, i, off;
	long long end;
	msgpack_object o;
	int rc = 0, elem_deep;

	if ((u[0] & 0xf0) == 0x90) {
		count = u[0] & 0x0f;
		at = 1;
	} else if (u[0] == 0xdc || u[0] == 0xdd) {
		at = u[0] == 0xdc ? 3 : 5;
		count = (size_t)be(u + 1, (int)at - 1);
	} else {
		struct idg__inrec bare = {0};

		bare.raw = p;
		bare.raw_len = n;
		return cb(ctx, &bare, 0, 0, unreadable_why(deep));
	}
	for (i = 0; rc == 0 && i < count; i++, at += (size_t)end) {
		/* Within a whole list, every element ends. */
		if ((end = value_end(u + at, n - at, &elem_deep)) <= 0)
			break;
		off = 0;
		msgpack_zone_clear(in->zone);
		if (msgpack_unpack(p + at, (size_t)end, &off, in->zone, &o) ==
		    MSGPACK_UNPACK_SUCCESS) {
			rc = mp_emit(in, &o, p + at, (size_t)end, (uint32_t)i, 1,
				     cb, ctx);
		} else {
			struct idg__inrec bare = {0};

			bare.raw = p + at;
			bare.raw_len = (size_t)end;
			rc = cb(ctx, &bare, (uint32_t)i, 1,
				unreadable_why(elem_deep));
		}
	}
	return rc;
}

int
idg__mpin_next(struct idg__mpin *in, const char *data, size_t len,
	       size_t *off, idg__inrec_fn cb, void *ctx)
{
	msgpack_object o;
	size_t start = *off;
	long long end;
	int rc, deep;

	/* The last value's objects go; its first chunk stays for this one. */
	msgpack_zone_clear(in->zone);
	switch (msgpack_unpack(data, len, off, in->zone, &o)) {
	case MSGPACK_UNPACK_SUCCESS:
	case MSGPACK_UNPACK_EXTRA_BYTES: /* the values after it */
		if (o.type == MSGPACK_OBJECT_ARRAY)
			rc = mp_array(in, &o, data + start, *off - start, cb,
				      ctx);
		else
			rc = mp_emit(in, &o, data + start, *off - start, 0, 0,
				     cb, ctx);
		break;
	case MSGPACK_UNPACK_CONTINUE:
		*off = start;
		rc = IDG__MPIN_MORE;
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		/* Too deep for msgpack-c's stack, or too large: which, and
		 * where the value ends, its headers tell. */
		end = value_end((const unsigned char *)data + start,
				len - start, &deep);
		if (deep && end == 0) {
			*off = start;
			rc = IDG__MPIN_MORE;
			break;
		}
		if (end > 0) {
			*off = start + (size_t)end;
			rc = unreadable_value(in, data + start, (size_t)end,
					      deep, cb, ctx);
			break;
		}
		/* fall through */
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
	return rc;
}

/* ---- profile properties and the People operators (SPEC §3) ---- */

/*
 * A profile is an array of (key, value) pairs in order of first insertion;
 * every key is a string and no key appears twice (the stored maps come
 * from idg__props_encode, and every operator looks a key up before adding
 * it). Everything an object points into — the copy of the stored map, the
 * copies of operator values, the lists the operators build — lives in the
 * zone, so a loaded profile never depends on the caller's bytes; the zone
 * is cleared by the next load. Lookups are linear: a profile holds at most
 * a few thousand properties and an update names a few.
 */
struct prop {
	msgpack_object key;
	msgpack_object val;
};

struct idg__props {
	msgpack_zone zone;
	struct prop *v;
	size_t n, cap;
};

#define NOT_FOUND SIZE_MAX

struct idg__props *
idg__props_new(void)
{
	struct idg__props *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (!msgpack_zone_init(&p->zone, MSGPACK_ZONE_CHUNK_SIZE)) {
		free(p);
		return NULL;
	}
	return p;
}

void
idg__props_free(struct idg__props *p)
{
	if (!p)
		return;
	msgpack_zone_destroy(&p->zone);
	free(p->v);
	free(p);
}

/* Decodes a private copy of data[0..len) into the zone. */
static int
decode_copy(struct idg__props *p, const void *data, size_t len,
	    msgpack_object *o)
{
	size_t off = 0;
	char *copy;

	if (len == 0)
		return IDG_ECORRUPT;
	copy = msgpack_zone_malloc_no_align(&p->zone, len);
	if (!copy)
		return IDG_ENOMEM;
	memcpy(copy, data, len);
	switch (msgpack_unpack(copy, len, &off, &p->zone, o)) {
	case MSGPACK_UNPACK_SUCCESS:
		return IDG_OK;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		return IDG_ENOMEM;
	default:
		return IDG_ECORRUPT;
	}
}

static int
keys_are_strings(const msgpack_object_map *m)
{
	uint32_t i;

	for (i = 0; i < m->size; i++)
		if (m->ptr[i].key.type != MSGPACK_OBJECT_STR)
			return 0;
	return 1;
}

static int
reserve(struct idg__props *p, size_t extra)
{
	struct prop *v;
	size_t cap = p->cap ? p->cap : 16;

	if (p->n + extra <= p->cap)
		return IDG_OK;
	while (cap < p->n + extra)
		cap *= 2;
	v = realloc(p->v, cap * sizeof(*v));
	if (!v)
		return IDG_ENOMEM;
	p->v = v;
	p->cap = cap;
	return IDG_OK;
}

int
idg__props_load(struct idg__props *p, const void *map, size_t len)
{
	msgpack_object o;
	uint32_t i;
	int rc;

	msgpack_zone_clear(&p->zone);
	p->n = 0;
	if (len == 0)
		return IDG_OK;
	rc = decode_copy(p, map, len, &o);
	if (rc == IDG_OK &&
	    (o.type != MSGPACK_OBJECT_MAP || !keys_are_strings(&o.via.map)))
		rc = IDG_ECORRUPT;
	if (rc == IDG_OK)
		rc = reserve(p, o.via.map.size);
	if (rc != IDG_OK)
		return rc;
	for (i = 0; i < o.via.map.size; i++) {
		p->v[i].key = o.via.map.ptr[i].key;
		p->v[i].val = o.via.map.ptr[i].val;
	}
	p->n = o.via.map.size;
	return IDG_OK;
}

/* An operator's value: malformed bytes or the wrong shape are EINVAL. */
static int
op_decode(struct idg__props *p, const void *data, size_t len,
	  msgpack_object_type type, msgpack_object *o)
{
	int rc = decode_copy(p, data, len, o);

	if (rc == IDG_ENOMEM)
		return rc;
	if (rc != IDG_OK || o->type != type)
		return IDG_EINVAL;
	if (type == MSGPACK_OBJECT_MAP && !keys_are_strings(&o->via.map))
		return IDG_EINVAL;
	return IDG_OK;
}

static size_t
find(const struct idg__props *p, const char *k, size_t n)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const msgpack_object_str *s = &p->v[i].key.via.str;

		if (s->size == n && (n == 0 || memcmp(s->ptr, k, n) == 0))
			return i;
	}
	return NOT_FOUND;
}

static size_t
find_key(const struct idg__props *p, const msgpack_object *key)
{
	return find(p, key->via.str.ptr, key->via.str.size);
}

static int
push(struct idg__props *p, const msgpack_object *key, const msgpack_object *val)
{
	if (reserve(p, 1))
		return IDG_ENOMEM;
	p->v[p->n].key = *key;
	p->v[p->n].val = *val;
	p->n++;
	return IDG_OK;
}

int
idg__props_set(struct idg__props *p, const void *map, size_t len, int once)
{
	msgpack_object m;
	uint32_t i;
	size_t at;
	int rc = op_decode(p, map, len, MSGPACK_OBJECT_MAP, &m);

	for (i = 0; rc == IDG_OK && i < m.via.map.size; i++) {
		const msgpack_object_kv *kv = &m.via.map.ptr[i];

		at = find_key(p, &kv->key);
		if (at == NOT_FOUND)
			rc = push(p, &kv->key, &kv->val);
		else if (!once)
			p->v[at].val = kv->val;
	}
	return rc;
}

/*
 * Equality by type and value, as JSON sees values: an integer never equals
 * a float or a boolean, float32 and float64 are one type (as are str and
 * bin), NaN equals NaN so that $union cannot add it twice, lists compare
 * element by element and maps compare as sets of pairs, in any order.
 */
static int same(const msgpack_object *a, const msgpack_object *b);

static msgpack_object_type
type_class(msgpack_object_type t)
{
	if (t == MSGPACK_OBJECT_FLOAT32)
		return MSGPACK_OBJECT_FLOAT64;
	if (t == MSGPACK_OBJECT_BIN)
		return MSGPACK_OBJECT_STR;
	return t;
}

/* Whether each pair of a has its name in b, with the same value as the
 * name's first pair in b. */
static int
pairs_in(const msgpack_object_map *a, const msgpack_object_map *b)
{
	uint32_t i, j;

	for (i = 0; i < a->size; i++) {
		for (j = 0; j < b->size; j++)
			if (same(&a->ptr[i].key, &b->ptr[j].key))
				break;
		if (j == b->size || !same(&a->ptr[i].val, &b->ptr[j].val))
			return 0;
	}
	return 1;
}

/* Maps are the same in any order of their names; both ways, so that a
 * name given twice cannot make {x:1,x:1} the same as {x:1,y:2}. */
static int
same_map(const msgpack_object_map *a, const msgpack_object_map *b)
{
	return a->size == b->size && pairs_in(a, b) && pairs_in(b, a);
}

static int
same(const msgpack_object *a, const msgpack_object *b)
{
	uint32_t i;

	if (type_class(a->type) != type_class(b->type))
		return 0;
	switch (a->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return a->via.f64 == b->via.f64 ||
		       (a->via.f64 != a->via.f64 && b->via.f64 != b->via.f64);
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		/* str and bin share one layout: size, then ptr. */
		return a->via.str.size == b->via.str.size &&
		       (a->via.str.size == 0 ||
			memcmp(a->via.str.ptr, b->via.str.ptr,
			       a->via.str.size) == 0);
	case MSGPACK_OBJECT_ARRAY:
		if (a->via.array.size != b->via.array.size)
			return 0;
		for (i = 0; i < a->via.array.size; i++)
			if (!same(&a->via.array.ptr[i], &b->via.array.ptr[i]))
				return 0;
		return 1;
	case MSGPACK_OBJECT_MAP:
		return same_map(&a->via.map, &b->via.map);
	default:
		/* nil, booleans, integers (msgpack-c decodes every integer
		 * >= 0 as POSITIVE_INTEGER, and so do we), ext */
		return msgpack_object_equal(*a, *b);
	}
}

static int
is_number(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return 1;
	case MSGPACK_OBJECT_EXT:
		return o->via.ext.type == IDG__MP_EXT_BIGINT;
	default:
		return 0;
	}
}

static int
is_int(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	       o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

static double
to_double(const msgpack_object *o)
{
	char digits[400];
	size_t n;

	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return (double)o->via.u64;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return (double)o->via.i64;
	case MSGPACK_OBJECT_EXT:
		/* Beyond 400 digits the value is beyond any double anyway. */
		n = o->via.ext.size < sizeof(digits) - 1 ? o->via.ext.size
							 : sizeof(digits) - 1;
		if (n)
			memcpy(digits, o->via.ext.ptr, n);
		digits[n] = 0;
		return strtod(digits, NULL);
	default:
		return o->via.f64;
	}
}

static void
set_double(msgpack_object *o, double d)
{
	o->type = MSGPACK_OBJECT_FLOAT64;
	o->via.f64 = d;
}

/* The sum of two integers, kept exact when it fits int64 or uint64. */
static int
int_sum(const msgpack_object *a, const msgpack_object *b, msgpack_object *out)
{
	int64_t i;
	uint64_t u;
	int neg_a = a->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
	int neg_b = b->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;

	if (neg_a && neg_b) {
		if (__builtin_add_overflow(a->via.i64, b->via.i64, &i))
			return -1;
		out->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		out->via.i64 = i;
		return 0;
	}
	if (!neg_a && !neg_b) {
		if (__builtin_add_overflow(a->via.u64, b->via.u64, &u))
			return -1;
	} else {
		/* One sign each: the exact sum lies between the operands, so
		 * it fits int64 when negative and uint64 otherwise. */
		uint64_t pos = neg_a ? b->via.u64 : a->via.u64;
		int64_t neg = neg_a ? a->via.i64 : b->via.i64;

		if (!__builtin_add_overflow(pos, neg, &i) && i < 0) {
			out->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
			out->via.i64 = i;
			return 0;
		}
		if (__builtin_add_overflow(pos, neg, &u))
			return -1;
	}
	out->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
	out->via.u64 = u;
	return 0;
}

/*
 * A missing property counts as 0; 0 + n is n (a bigint becomes float).
 * -1, cur unchanged, when the sum is no finite double (beyond +-1.8e308,
 * or inf - inf of two huge bigints): JSON has no form for it.
 */
static int
add_to(msgpack_object *cur, const msgpack_object *n)
{
	double d;

	if (is_int(cur) && is_int(n) && int_sum(cur, n, cur) == 0)
		return 0;
	d = to_double(cur) + to_double(n);
	if (!isfinite(d))
		return -1;
	set_double(cur, d);
	return 0;
}

int
idg__props_add(struct idg__props *p, const void *map, size_t len,
	       struct idg__props_warn *w)
{
	msgpack_object m, zero;
	uint32_t i;
	size_t at;
	int rc = op_decode(p, map, len, MSGPACK_OBJECT_MAP, &m);

	for (i = 0; rc == IDG_OK && i < m.via.map.size; i++)
		if (!is_number(&m.via.map.ptr[i].val))
			rc = IDG_EINVAL;
	zero.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
	zero.via.u64 = 0;
	for (i = 0; rc == IDG_OK && i < m.via.map.size; i++) {
		const msgpack_object_kv *kv = &m.via.map.ptr[i];
		int fresh = 0;

		at = find_key(p, &kv->key);
		if (at == NOT_FOUND) {
			rc = push(p, &kv->key, &zero);
			at = p->n - 1;
			fresh = 1;
		} else if (!is_number(&p->v[at].val)) {
			if (w)
				w->clashes++;
			continue;
		}
		if (rc == IDG_OK && add_to(&p->v[at].val, &kv->val)) {
			if (fresh)
				p->n--; /* it stays missing */
			if (w)
				w->clashes++;
		}
	}
	return rc;
}

/* A new list in the zone with room for n elements. */
static int
new_list(struct idg__props *p, uint32_t n, msgpack_object *out)
{
	out->type = MSGPACK_OBJECT_ARRAY;
	out->via.array.size = 0;
	out->via.array.ptr = NULL;
	if (n == 0)
		return IDG_OK;
	out->via.array.ptr =
	    msgpack_zone_malloc(&p->zone, (size_t)n * sizeof(msgpack_object));
	return out->via.array.ptr ? IDG_OK : IDG_ENOMEM;
}

static int
list_has(const msgpack_object_array *a, const msgpack_object *o)
{
	uint32_t i;

	for (i = 0; i < a->size; i++)
		if (same(&a->ptr[i], o))
			return 1;
	return 0;
}

int
idg__props_append(struct idg__props *p, const void *map, size_t len,
		  struct idg__props_warn *w)
{
	msgpack_object m, list, *cur;
	msgpack_object_array old = {0, NULL};
	uint32_t i;
	size_t at;
	int rc = op_decode(p, map, len, MSGPACK_OBJECT_MAP, &m);

	for (i = 0; rc == IDG_OK && i < m.via.map.size; i++) {
		const msgpack_object_kv *kv = &m.via.map.ptr[i];

		at = find_key(p, &kv->key);
		cur = at == NOT_FOUND ? NULL : &p->v[at].val;
		if (cur && cur->type != MSGPACK_OBJECT_ARRAY) {
			if (w)
				w->clashes++;
			continue;
		}
		old = cur ? cur->via.array : (msgpack_object_array){0, NULL};
		rc = new_list(p, old.size + 1, &list);
		if (rc != IDG_OK)
			break;
		if (old.size)
			memcpy(list.via.array.ptr, old.ptr,
			       old.size * sizeof(msgpack_object));
		list.via.array.ptr[old.size] = kv->val;
		list.via.array.size = old.size + 1;
		if (cur)
			*cur = list;
		else
			rc = push(p, &kv->key, &list);
	}
	return rc;
}

/* h and v into one: MurmurHash3's finalizer, every bit into every bit. */
static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdu;
	h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53u;
	return h ^ (h >> 33);
}

static uint64_t hash_of(const msgpack_object *o);

/* Maps of at most this many pairs hash by their pairs (the names found
 * once each, in n^2), larger ones by their size alone. */
#define HASHED_PAIRS 32

/*
 * A map's hash, the same in any order of its names: the sum over each
 * name's first pair of the name's and value's hash, with the size.
 */
static uint64_t
hash_map(const msgpack_object_map *m)
{
	uint64_t sum = 0;
	uint32_t i, j;

	if (m->size > HASHED_PAIRS)
		return m->size;
	for (i = 0; i < m->size; i++) {
		for (j = 0; j < i; j++)
			if (same(&m->ptr[j].key, &m->ptr[i].key))
				break;
		if (j == i)
			sum += mix(hash_of(&m->ptr[i].key),
				   hash_of(&m->ptr[i].val));
	}
	return mix(sum, m->size);
}

/* A hash of o that agrees with same(): values same() takes for one hash
 * alike. */
static uint64_t
hash_of(const msgpack_object *o)
{
	uint64_t h = mix(0, (uint64_t)type_class(o->type)), bits;
	double d;
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		d = o->via.f64;
		if (d != d)
			return mix(h, 1); /* every NaN is the same */
		if (d == 0)
			d = 0; /* and -0.0 is 0.0 */
		memcpy(&bits, &d, sizeof(bits));
		return mix(h, bits);
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		return mix(h, idg__hash64(o->via.str.ptr, o->via.str.size));
	case MSGPACK_OBJECT_EXT:
		h = mix(h, (uint64_t)(uint8_t)o->via.ext.type);
		return mix(h, idg__hash64(o->via.ext.ptr, o->via.ext.size));
	case MSGPACK_OBJECT_ARRAY:
		for (i = 0; i < o->via.array.size; i++)
			h = mix(h, hash_of(&o->via.array.ptr[i]));
		return mix(h, o->via.array.size);
	case MSGPACK_OBJECT_MAP:
		return mix(h, hash_map(&o->via.map));
	case MSGPACK_OBJECT_BOOLEAN:
		return mix(h, o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return mix(h, o->via.u64);
	default:
		return h;
	}
}

/*
 * Whether a value same() as v is among the list's values already noted in
 * slots (an open-addressing table of their positions + 1); if not, notes
 * v as the value at position at.
 */
static int
noted(uint32_t *slots, uint32_t mask, const msgpack_object *list,
      const msgpack_object *v, uint32_t at)
{
	uint32_t i = (uint32_t)hash_of(v) & mask;

	for (; slots[i]; i = (i + 1) & mask)
		if (same(&list[slots[i] - 1], v))
			return 1;
	slots[i] = at + 1;
	return 0;
}

/*
 * old followed by the values of add not in old nor earlier in add; the
 * values already in the list are found by their hash, so that a union
 * of n values takes time in n, not n squared.
 */
static int
union_list(struct idg__props *p, const msgpack_object_array *old,
	   const msgpack_object_array *add, msgpack_object *out)
{
	uint64_t n = (uint64_t)old->size + add->size, nslots = 16;
	msgpack_object_array *a;
	uint32_t *slots, i;

	while (nslots < 2 * n)
		nslots *= 2;
	if (new_list(p, (uint32_t)n, out) ||
	    !(slots = calloc(nslots, sizeof(*slots))))
		return IDG_ENOMEM;
	a = &out->via.array;
	/* The old values all stay, duplicates too: $union only adds. */
	for (i = 0; i < old->size; i++) {
		a->ptr[i] = old->ptr[i];
		noted(slots, (uint32_t)nslots - 1, a->ptr, &old->ptr[i], i);
	}
	a->size = old->size;
	for (i = 0; i < add->size; i++)
		if (!noted(slots, (uint32_t)nslots - 1, a->ptr, &add->ptr[i],
			   a->size))
			a->ptr[a->size++] = add->ptr[i];
	free(slots);
	return IDG_OK;
}

int
idg__props_union(struct idg__props *p, const void *map, size_t len,
		 struct idg__props_warn *w)
{
	static const msgpack_object_array none = {0, NULL};
	msgpack_object m, list, *cur;
	uint32_t i;
	size_t at;
	int rc = op_decode(p, map, len, MSGPACK_OBJECT_MAP, &m);

	for (i = 0; rc == IDG_OK && i < m.via.map.size; i++)
		if (m.via.map.ptr[i].val.type != MSGPACK_OBJECT_ARRAY)
			rc = IDG_EINVAL;
	for (i = 0; rc == IDG_OK && i < m.via.map.size; i++) {
		const msgpack_object_kv *kv = &m.via.map.ptr[i];

		at = find_key(p, &kv->key);
		cur = at == NOT_FOUND ? NULL : &p->v[at].val;
		if (cur && cur->type != MSGPACK_OBJECT_ARRAY) {
			if (w)
				w->clashes++;
			continue;
		}
		rc = union_list(p, cur ? &cur->via.array : &none,
				&kv->val.via.array, &list);
		if (rc == IDG_OK && cur)
			*cur = list;
		else if (rc == IDG_OK)
			rc = push(p, &kv->key, &list);
	}
	return rc;
}

int
idg__props_remove(struct idg__props *p, const void *map, size_t len)
{
	msgpack_object m, list, *cur;
	uint32_t i, j;
	size_t at;
	int rc = op_decode(p, map, len, MSGPACK_OBJECT_MAP, &m);

	for (i = 0; rc == IDG_OK && i < m.via.map.size; i++) {
		const msgpack_object_kv *kv = &m.via.map.ptr[i];

		at = find_key(p, &kv->key);
		cur = at == NOT_FOUND ? NULL : &p->v[at].val;
		if (!cur || cur->type != MSGPACK_OBJECT_ARRAY ||
		    !list_has(&cur->via.array, &kv->val))
			continue;
		/* A new list: the old one may be shared with an operator's
		 * value or another property. */
		rc = new_list(p, cur->via.array.size, &list);
		for (j = 0; rc == IDG_OK && j < cur->via.array.size; j++)
			if (!same(&cur->via.array.ptr[j], &kv->val))
				list.via.array.ptr[list.via.array.size++] =
				    cur->via.array.ptr[j];
		if (rc == IDG_OK)
			*cur = list;
	}
	return rc;
}

int
idg__props_unset(struct idg__props *p, const void *array, size_t len)
{
	msgpack_object a;
	uint32_t i;
	size_t at, k;
	int rc = op_decode(p, array, len, MSGPACK_OBJECT_ARRAY, &a);

	if (rc != IDG_OK)
		return rc;
	/* Mark, then close the gaps in one pass to keep the order. */
	for (i = 0; i < a.via.array.size; i++) {
		const msgpack_object *name = &a.via.array.ptr[i];

		if (name->type != MSGPACK_OBJECT_STR)
			continue;
		at = find_key(p, name);
		if (at != NOT_FOUND)
			p->v[at].key.type = MSGPACK_OBJECT_NIL;
	}
	for (at = 0, k = 0; at < p->n; at++)
		if (p->v[at].key.type == MSGPACK_OBJECT_STR)
			p->v[k++] = p->v[at];
	p->n = k;
	return IDG_OK;
}

int
idg__props_set_str(struct idg__props *p, const char *key, const char *val,
		   size_t val_len)
{
	size_t klen = strlen(key), at = find(p, key, klen);
	char *kcopy = NULL, *vcopy;
	msgpack_object k, v;

	vcopy = msgpack_zone_malloc_no_align(&p->zone, val_len + 1);
	if (at == NOT_FOUND)
		kcopy = msgpack_zone_malloc_no_align(&p->zone, klen + 1);
	if (!vcopy || (at == NOT_FOUND && !kcopy))
		return IDG_ENOMEM;
	if (val_len)
		memcpy(vcopy, val, val_len);
	v.type = MSGPACK_OBJECT_STR;
	v.via.str.ptr = vcopy;
	v.via.str.size = (uint32_t)val_len;
	if (at != NOT_FOUND) {
		p->v[at].val = v;
		return IDG_OK;
	}
	memcpy(kcopy, key, klen + 1);
	k.type = MSGPACK_OBJECT_STR;
	k.via.str.ptr = kcopy;
	k.via.str.size = (uint32_t)klen;
	return push(p, &k, &v);
}

size_t
idg__props_count(const struct idg__props *p)
{
	return p->n;
}

int
idg__props_encode(const struct idg__props *p, struct idg__mpw *w)
{
	size_t i;

	idg__mpw_reset(w);
	ok(w, idg__pk_map(&w->pk, (uint32_t)p->n));
	for (i = 0; i < p->n && !w->failed; i++) {
		ok(w, msgpack_pack_object(&w->pk, p->v[i].key));
		ok(w, msgpack_pack_object(&w->pk, p->v[i].val));
	}
	return idg__mpw_error(w);
}
