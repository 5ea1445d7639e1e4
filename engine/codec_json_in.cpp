/*
 * codec_json_in.cpp — JSON records in, with simdjson's On Demand API: the
 * only user of <simdjson.h>.
 *
 * One pass over each record: the top-level fields, then every property,
 * picking out the few the engine reads and skipping the rest without
 * building a DOM. Nothing is allocated per record: strings live in the
 * parser's buffer until the next line. A line holding an array is walked
 * twice, first to prove the whole line is well-formed (so a syntax error
 * late in the line rejects the line rather than half of it), then to read.
 */
#include "codec_json_in.h"
#include "codec_msgpack.h"

#include <new>
#include <simdjson.h>
#include <string.h>
#include <vector>

using namespace simdjson;

struct idg__jparser {
	ondemand::parser parser;
	std::vector<std::string_view> elems; /* an array line's records */
	struct idg__mpw *props;		     /* the record's properties */
	struct idg__mpw *scratch;
};

extern "C" struct idg__jparser *
idg__jparser_new(void)
{
	struct idg__jparser *jp = new (std::nothrow) idg__jparser();

	if (!jp)
		return NULL;
	jp->props = idg__mpw_new();
	jp->scratch = idg__mpw_new();
	if (!jp->props || !jp->scratch) {
		idg__jparser_free(jp);
		return NULL;
	}
	return jp;
}

extern "C" void
idg__jparser_free(struct idg__jparser *jp)
{
	if (!jp)
		return;
	idg__mpw_free(jp->props);
	idg__mpw_free(jp->scratch);
	delete jp;
}

extern "C" void
idg__json_set_keys(struct idg__jparser *jp, const struct idg__keys *keys)
{
	idg__mpw_set_keys(jp->props, keys);
}

static const char *
describe(error_code err)
{
	switch (err) {
	case UTF8_ERROR:
		return "invalid UTF-8";
	case DEPTH_ERROR:
		return "lists and objects nested more than 29 deep";
	case TRAILING_CONTENT:
		return "malformed JSON: unexpected text after the record";
	case INCOMPLETE_ARRAY_OR_OBJECT:
		return "malformed JSON: unclosed object or array";
	case UNCLOSED_STRING:
		return "malformed JSON: unclosed string";
	case STRING_ERROR:
		return "malformed JSON: bad string or escape";
	case NUMBER_ERROR:
		return "malformed JSON: bad number";
	case T_ATOM_ERROR:
	case F_ATOM_ERROR:
	case N_ATOM_ERROR:
		return "malformed JSON: bad literal";
	case UNESCAPED_CHARS:
		return "malformed JSON: control character in a string";
	default:
		return "malformed JSON";
	}
}

static std::string_view
trim_ws(std::string_view s)
{
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t' ||
			      s.back() == '\n' || s.back() == '\r'))
		s.remove_suffix(1);
	return s;
}

/*
 * Reads a value into MessagePack (exact JSON types) and, when slot is not
 * NULL, into the field the engine reads. Integers that fit int64 or
 * uint64 stay integers; larger ones keep their digits (an extension type);
 * anything with a fraction or exponent is a double.
 */
struct converter {
	struct idg__mpw *w;	  /* the properties' encoding */
	struct idg__mpw *scratch; /* top-level fields, not kept */
	struct idg__inrec *r;
	int depth; /* lists and objects we are inside */
	/* Member kinds of the last object or list converted: */
	int all_numbers, all_arrays, all_strings;
};

/*
 * Lists and objects nested deeper inside a property are refused: stored
 * values are MessagePack, which msgpack-c decodes only 32 levels deep, and
 * the record, its properties and an export wrapper take three of them.
 */
#define MAX_DEPTH 29

static error_code convert(struct converter *c, ondemand::value v,
			  struct idg__field *slot, int merge_ids);

/*
 * Whether tok is a well-formed JSON integer too large for int64 (negative)
 * or uint64 (positive). Anything else is left to simdjson to judge.
 */
static bool
beyond_64_bits(std::string_view tok)
{
	bool neg = !tok.empty() && tok[0] == '-';
	std::string_view d = neg ? tok.substr(1) : tok;
	std::string_view limit =
	    neg ? "9223372036854775808" : "18446744073709551615";
	size_t i;

	if (d.empty() || (d[0] == '0' && d.size() > 1))
		return false;
	for (i = 0; i < d.size(); i++)
		if (d[i] < '0' || d[i] > '9')
			return false;
	return d.size() > limit.size() ||
	       (d.size() == limit.size() && d > limit);
}

static error_code
convert_number(struct converter *c, ondemand::value &v, struct idg__field *f)
{
	std::string_view tok = trim_ws(v.raw_json_token());
	ondemand::number_type nt;
	uint64_t u;
	error_code err;

	f->s = tok.data();
	f->n = tok.size();
	if (beyond_64_bits(tok)) {
		/* simdjson would fail on it (for good): keep the digits. */
		f->type = IDG__F_BIGINT;
		return idg__mpw_bigint(c->w, tok.data(), tok.size()) ? MEMALLOC
								     : SUCCESS;
	}
	err = v.get_number_type().get(nt);
	if (err)
		return err;
	switch (nt) {
	case ondemand::number_type::signed_integer:
		f->type = IDG__F_INT;
		err = v.get_int64().get(f->i);
		/* An integer stands for its decimal text, and -0 is 0. */
		if (!err && f->i == 0) {
			f->s = "0";
			f->n = 1;
		}
		if (!err && idg__mpw_int(c->w, f->i))
			err = MEMALLOC;
		return err;
	case ondemand::number_type::unsigned_integer:
		f->type = IDG__F_BIGINT;
		err = v.get_uint64().get(u);
		if (!err && idg__mpw_uint(c->w, u))
			err = MEMALLOC;
		return err;
	default:
		f->type = IDG__F_FLOAT;
		err = v.get_double().get(f->d);
		if (!err && idg__mpw_double(c->w, f->d))
			err = MEMALLOC;
		return err;
	}
}

static error_code
convert_string(struct converter *c, ondemand::value &v, struct idg__field *f)
{
	std::string_view sv;
	error_code err = v.get_string().get(sv);

	if (err)
		return err;
	f->type = IDG__F_STRING;
	f->s = sv.data();
	f->n = sv.size();
	if (sv.size() > 255)
		c->r->long_strings++;
	return idg__mpw_str(c->w, sv.data(), sv.size()) ? MEMALLOC : SUCCESS;
}

/* $distinct_ids: an array whose first two elements the engine reads. */
static void
note_merge_id(struct idg__inrec *r, const struct idg__field *f)
{
	if (f->type != IDG__F_STRING)
		r->merge_all_strings = 0;
	if (r->merge_count < 2)
		r->merge_ids[r->merge_count] = *f;
	r->merge_count++;
}

static error_code
convert_array(struct converter *c, ondemand::value &v, struct idg__field *f,
	      int merge_ids)
{
	ondemand::array arr;
	size_t at = idg__mpw_array_begin(c->w);
	uint32_t n = 0;
	int all_strings = 1;
	error_code err = v.get_array().get(arr);

	if (err)
		return err;
	f->type = IDG__F_ARRAY;
	if (merge_ids) {
		c->r->merge_count = 0;
		c->r->merge_all_strings = 1;
	}
	for (auto el : arr) {
		struct idg__field ef = {};
		ondemand::value ev;

		err = el.get(ev);
		if (!err)
			err = convert(c, ev, &ef, 0);
		if (err)
			return err;
		if (merge_ids)
			note_merge_id(c->r, &ef);
		all_strings &= ef.type == IDG__F_STRING;
		n++;
	}
	idg__mpw_array_end(c->w, at, n);
	c->all_strings = all_strings;
	return SUCCESS;
}

static error_code
convert_object(struct converter *c, ondemand::value &v, struct idg__field *f)
{
	ondemand::object obj;
	size_t at = idg__mpw_map_begin(c->w);
	uint32_t n = 0;
	int numbers = 1, arrays = 1;
	error_code err = v.get_object().get(obj);

	if (err)
		return err;
	f->type = IDG__F_OBJECT;
	for (auto field : obj) {
		std::string_view k;
		ondemand::value fv;
		struct idg__field ignored = {};

		err = field.unescaped_key().get(k);
		if (!err)
			err = field.value().get(fv);
		if (!err && k.size() > 255)
			c->r->long_strings++;
		if (!err && idg__mpw_str(c->w, k.data(), k.size()))
			err = MEMALLOC;
		if (!err)
			err = convert(c, fv, &ignored, 0);
		if (err)
			return err;
		numbers &= ignored.type == IDG__F_INT ||
			   ignored.type == IDG__F_BIGINT ||
			   ignored.type == IDG__F_FLOAT;
		arrays &= ignored.type == IDG__F_ARRAY;
		n++;
	}
	idg__mpw_map_end(c->w, at, n);
	c->all_numbers = numbers;
	c->all_arrays = arrays;
	return SUCCESS;
}

static error_code
convert(struct converter *c, ondemand::value v, struct idg__field *f,
	int merge_ids)
{
	ondemand::json_type t;
	bool b = false;
	error_code err = v.type().get(t);

	if (err)
		return err;
	switch (t) {
	case ondemand::json_type::string:
		return convert_string(c, v, f);
	case ondemand::json_type::number:
		return convert_number(c, v, f);
	case ondemand::json_type::boolean:
		err = v.get_bool().get(b);
		f->type = IDG__F_BOOL;
		f->i = b;
		if (!err && idg__mpw_bool(c->w, b))
			err = MEMALLOC;
		return err;
	case ondemand::json_type::null:
		err = v.is_null().get(b);
		if (!err && !b)
			err = N_ATOM_ERROR;
		f->type = IDG__F_NULL;
		if (!err && idg__mpw_nil(c->w))
			err = MEMALLOC;
		return err;
	case ondemand::json_type::array:
	case ondemand::json_type::object:
		if (c->depth >= MAX_DEPTH)
			return DEPTH_ERROR;
		c->depth++;
		err = t == ondemand::json_type::array
			  ? convert_array(c, v, f, merge_ids)
			  : convert_object(c, v, f);
		c->depth--;
		return err;
	}
	return INCORRECT_TYPE;
}

/* The properties the engine reads; the rest are only converted. */
static struct idg__field *
property_slot(struct idg__inrec *r, std::string_view k)
{
	if (k == "distinct_id")
		return &r->distinct_id;
	if (k == "time")
		return &r->time;
	if (k == "$insert_id")
		return &r->insert_id;
	if (k == "$identified_id")
		return &r->identified_id;
	if (k == "$anon_id")
		return &r->anon_id;
	if (k == "$anon_distinct_id")
		return &r->anon_distinct_id;
	if (k == "alias")
		return &r->alias;
	if (k == "$user_id")
		return &r->user_id;
	if (k == "$device_id")
		return &r->device_id;
	if (k == "$distinct_ids")
		return &r->distinct_ids;
	return NULL;
}

/*
 * Forgets what an earlier "properties" key of the same record set: only
 * the properties' own fields start over (as in the MessagePack codec);
 * top-level ones ($set, $time, ...) stay.
 */
static void
clear_properties(struct idg__inrec *r)
{
	memset(&r->distinct_id, 0,
	       (size_t)((char *)&r->ptime - (char *)&r->distinct_id));
	r->nprops = 0;
	r->long_strings = 0;
	r->props = NULL;
	r->props_len = 0;
	r->pkeys = NULL;
}

static error_code
read_properties(struct converter *c, ondemand::value v)
{
	struct idg__inrec *r = c->r;
	ondemand::object obj;
	size_t at;
	uint32_t n = 0;
	error_code err = v.get_object().get(obj);

	if (err)
		return err;
	at = idg__mpw_map_begin(c->w);
	idg__mpw_pkeys_reset(c->w);
	r->properties.type = IDG__F_OBJECT;
	for (auto field : obj) {
		std::string_view k;
		ondemand::value fv;
		struct idg__field *slot, ignored = {};

		err = field.unescaped_key().get(k);
		if (!err)
			err = field.value().get(fv);
		if (!err && k.size() > 255)
			r->long_strings++;
		if (!err && idg__mpw_prop_key(c->w, at, k.data(), k.size()))
			err = MEMALLOC;
		if (err)
			return err;
		slot = property_slot(r, k);
		if (slot)
			*slot = idg__field{};
		err = convert(c, fv, slot ? slot : &ignored,
			      slot == &r->distinct_ids);
		if (err)
			return err;
		n++;
	}
	idg__mpw_map_end(c->w, at, n);
	r->nprops = n;
	/* An offset for now: the buffer may still move (see finish()). */
	r->props = (const void *)at;
	idg__mpw_data(c->w, &r->props_len);
	r->props_len -= at;
	return SUCCESS;
}

/* Reads a top-level field the engine looks at, without keeping it. */
static error_code
read_top_field(struct converter *c, ondemand::value v, struct idg__field *f)
{
	struct converter top = {c->scratch, c->scratch, c->r, c->depth,
				0,	    0,		0};
	uint32_t long_strings = c->r->long_strings;
	error_code err;

	idg__mpw_reset(c->scratch);
	*f = idg__field{};
	err = convert(&top, v, f, 0);
	c->r->long_strings = long_strings;
	return err;
}

static int
operator_of(std::string_view k)
{
	static const char *const names[IDG__OP_COUNT] = {
	    "$set",   "$set_once", "$add",   "$append",
	    "$union", "$remove",   "$unset", "$delete"};
	int i;

	for (i = 0; i < IDG__OP_COUNT; i++)
		if (k == names[i])
			return i;
	return -1;
}

/* An operator's value, kept as MessagePack with what its members are. */
static error_code
read_operator(struct converter *c, ondemand::value v, struct idg__opval *op)
{
	struct idg__field f = {};
	uint32_t props_long = c->r->long_strings;
	size_t start, end;
	error_code err;

	idg__mpw_data(c->w, &start);
	c->all_numbers = c->all_arrays = c->all_strings = 0;
	err = convert(c, v, &f, 0);
	/* The operator's own: a second one of the same name replaces it,
	 * and a later "properties" key starts its own count over. */
	op->long_strings = c->r->long_strings - props_long;
	c->r->long_strings = props_long;
	idg__mpw_data(c->w, &end);
	op->type = f.type;
	op->mp = (const void *)start; /* an offset until finish() */
	op->mp_len = end - start;
	op->all_numbers = f.type == IDG__F_OBJECT && c->all_numbers;
	op->all_arrays = f.type == IDG__F_OBJECT && c->all_arrays;
	op->all_strings = f.type == IDG__F_ARRAY && c->all_strings;
	return err;
}

/* Turns the offsets into the record's buffer into pointers. */
static void
finish(struct converter *c)
{
	struct idg__inrec *r = c->r;
	const char *base;
	size_t len;
	int i;

	base = (const char *)idg__mpw_data(c->w, &len);
	if (r->properties.type == IDG__F_OBJECT) {
		uint32_t n;

		r->props = base + (size_t)r->props;
		r->pkeys = idg__mpw_pkeys(c->w, &n);
	}
	for (i = 0; i < IDG__OP_COUNT; i++)
		if (r->ops[i].type != IDG__F_MISSING)
			r->ops[i].mp = base + (size_t)r->ops[i].mp;
}

static error_code
read_record(struct converter *c, ondemand::object obj)
{
	struct idg__inrec *r = c->r;
	error_code err;
	int op;

	for (auto field : obj) {
		std::string_view k;
		ondemand::value fv;
		ondemand::json_type t;

		err = field.unescaped_key().get(k);
		if (!err)
			err = field.value().get(fv);
		if (err)
			return err;
		if (k == "event") {
			err = read_top_field(c, fv, &r->event);
		} else if (k == "properties") {
			err = fv.type().get(t);
			if (r->properties.type != IDG__F_MISSING)
				clear_properties(r); /* a second one */
			r->long_strings = 0;
			if (!err && t == ondemand::json_type::object)
				err = read_properties(c, fv);
			else if (!err)
				err = read_top_field(c, fv, &r->properties);
		} else if (k == "$distinct_id") {
			err = read_top_field(c, fv, &r->profile_id);
		} else if (k == "$time") {
			err = read_top_field(c, fv, &r->ptime);
		} else if (k == "$ignore_time") {
			err = read_top_field(c, fv, &r->ignore_time);
		} else if (k == "$ignore_alias") {
			err = read_top_field(c, fv, &r->ignore_alias);
		} else if ((op = operator_of(k)) >= 0) {
			err = read_operator(c, fv, &r->ops[op]);
		} else {
			/* Read to be sure it is well-formed, then dropped. */
			struct idg__field ignored;

			err = read_top_field(c, fv, &ignored);
		}
		if (err)
			return err;
	}
	return SUCCESS;
}

/* True when nothing but white space follows the document's value. */
static bool
at_end(ondemand::document &doc)
{
	return doc.current_location().error() == OUT_OF_BOUNDS;
}

/* The text of one array element, whatever its type. */
static error_code
element_text(simdjson_result<ondemand::value> el, std::string_view *out)
{
	ondemand::value v;
	ondemand::json_type t;
	ondemand::object o;
	ondemand::array a;
	error_code err = el.get(v);

	if (!err)
		err = v.type().get(t);
	if (err)
		return err;
	if (t == ondemand::json_type::object) {
		err = v.get_object().get(o);
		return err ? err : o.raw_json().get(*out);
	}
	if (t == ondemand::json_type::array) {
		err = v.get_array().get(a);
		return err ? err : a.raw_json().get(*out);
	}
	*out = v.raw_json_token();
	return SUCCESS;
}

/* Whether a document that is not an object is at least valid JSON. */
static bool
scalar_ok(ondemand::document &doc, ondemand::json_type t)
{
	std::string_view sv;
	double d;
	bool b;

	switch (t) {
	case ondemand::json_type::string:
		return doc.get_string().get(sv) == SUCCESS && at_end(doc);
	case ondemand::json_type::number:
		return doc.get_double().get(d) == SUCCESS && at_end(doc);
	case ondemand::json_type::boolean:
		return doc.get_bool().get(b) == SUCCESS && at_end(doc);
	case ondemand::json_type::null:
		return doc.is_null().get(b) == SUCCESS && b && at_end(doc);
	default:
		return true;
	}
}

/*
 * Starts a document over one JSON value. Trailing blanks are not part of
 * the value (simdjson's root literals mind them).
 */
static error_code
iterate_value(struct idg__jparser *jp, const char *text, size_t len,
	      size_t capacity, ondemand::document &doc)
{
	return jp->parser
	    .iterate(padded_string_view(
		text, trim_ws(std::string_view(text, len)).size(), capacity))
	    .get(doc);
}

/* Parses text as one record and hands it to cb. */
static int
parse_record(struct idg__jparser *jp, const char *text, size_t len,
	     size_t capacity, uint32_t index, int in_array, idg__inrec_fn cb,
	     void *ctx)
{
	struct idg__inrec r = {};
	struct converter conv = {jp->props, jp->scratch, &r, 0, 0, 0, 0};
	ondemand::document doc;
	ondemand::json_type t;
	ondemand::object obj;
	error_code err;

	r.raw = text;
	r.raw_len = len;
	err = iterate_value(jp, text, len, capacity, doc);
	if (!err)
		err = doc.type().get(t);
	if (err)
		return cb(ctx, &r, index, in_array, describe(err));
	if (t != ondemand::json_type::object)
		return cb(ctx, &r, index, in_array,
			  scalar_ok(doc, t) ? "record is not a JSON object"
					    : "malformed JSON");
	idg__mpw_reset(jp->props);
	err = doc.get_object().get(obj);
	if (!err)
		err = read_record(&conv, obj);
	if (!err)
		finish(&conv);
	if (!err && !at_end(doc))
		err = TRAILING_CONTENT;
	if (err) {
		/* Half read: offsets not yet pointers. Only raw goes on. */
		struct idg__inrec bare = {};

		bare.raw = text;
		bare.raw_len = len;
		return cb(ctx, &bare, index, in_array, describe(err));
	}
	return cb(ctx, &r, index, in_array, NULL);
}

/*
 * An array line: first collect every element's text, which also proves the
 * line well-formed, then parse each element as a record of its own.
 */
static int
parse_array(struct idg__jparser *jp, const char *line, size_t len,
	    size_t capacity, idg__inrec_fn cb, void *ctx)
{
	ondemand::document doc;
	ondemand::array arr;
	error_code err;
	uint32_t i;

	jp->elems.clear();
	err = jp->parser.iterate(padded_string_view(line, len, capacity))
		  .get(doc);
	if (!err)
		err = doc.get_array().get(arr);
	if (!err) {
		for (auto el : arr) {
			std::string_view raw;

			err = element_text(el, &raw);
			if (err)
				break;
			jp->elems.push_back(trim_ws(raw));
		}
	}
	if (!err && !at_end(doc))
		err = TRAILING_CONTENT;
	if (err) {
		struct idg__inrec r = {};

		r.raw = line;
		r.raw_len = len;
		return cb(ctx, &r, 0, 1, describe(err));
	}
	for (i = 0; i < jp->elems.size(); i++) {
		std::string_view el = jp->elems[i];
		size_t cap = capacity - (size_t)(el.data() - line);
		int rc =
		    parse_record(jp, el.data(), el.size(), cap, i, 1, cb, ctx);

		if (rc)
			return rc;
	}
	return 0;
}

extern "C" int
idg__json_array_line(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < len && line[i] == '[';
}

extern "C" int
idg__json_parse_line(struct idg__jparser *jp, const char *line, size_t len,
		     size_t capacity, idg__inrec_fn cb, void *ctx)
{
	if (idg__json_array_line(line, len))
		return parse_array(jp, line, len, capacity, cb, ctx);
	return parse_record(jp, line, len, capacity, 0, 0, cb, ctx);
}

/*
 * A document that is a lone string, number, true, false or null, which
 * On-Demand reads only as a document, not as a value: converted as the
 * element of [text], whose encoding is an array header (1, 3 or 5 bytes)
 * and then the element's.
 */
static const char *
scalar_to_msgpack(struct idg__jparser *jp, const char *text, size_t len,
		  struct idg__mpw *w)
{
	size_t cap = len + 2 + IDG__JSON_PADDING, n, head;
	char *wrapped = (char *)malloc(cap);
	struct idg__mpw *arr = idg__mpw_new();
	const char *err = "out of memory", *data;

	if (wrapped && arr) {
		wrapped[0] = '[';
		memcpy(wrapped + 1, text, len);
		wrapped[len + 1] = ']';
		memset(wrapped + len + 2, 0, IDG__JSON_PADDING);
		err = idg__json_to_msgpack(jp, wrapped, len + 2, cap, arr);
	}
	if (!err) {
		data = (const char *)idg__mpw_data(arr, &n);
		head = (unsigned char)data[0] == 0xdd   ? 5
		       : (unsigned char)data[0] == 0xdc ? 3
							: 1;
		const unsigned char *h = (const unsigned char *)data;
		uint32_t count = head == 1 ? h[0] & 0x0fu : 0;

		for (size_t i = 1; i < head; i++)
			count = count << 8 | h[i];
		/* "1,2" is no value, though [1,2] is. */
		if (count != 1)
			err = "malformed JSON: unexpected text after the value";
		else if (idg__mpw_raw(w, data + head, n - head))
			err = "out of memory";
	}
	idg__mpw_free(arr);
	free(wrapped);
	return err;
}

extern "C" const char *
idg__json_to_msgpack(struct idg__jparser *jp, const char *text, size_t len,
		     size_t capacity, struct idg__mpw *w)
{
	struct idg__inrec r = {};
	struct converter conv = {w, jp->scratch, &r, 0, 0, 0, 0};
	struct idg__field f = {};
	ondemand::document doc;
	ondemand::value v;
	error_code err;

	idg__mpw_reset(w);
	err = iterate_value(jp, text, len, capacity, doc);
	if (!err)
		err = doc.get_value().get(v);
	if (err == SCALAR_DOCUMENT_AS_VALUE)
		return scalar_to_msgpack(jp, text, len, w);
	if (!err)
		err = convert(&conv, v, &f, 0);
	if (!err && !at_end(doc))
		err = TRAILING_CONTENT;
	return err ? describe(err) : NULL;
}

extern "C" int
idg__utf8_valid(const char *p, size_t n)
{
	return simdjson::validate_utf8(p, n);
}
