/*
 * codec_json_in.cpp — JSON records in, with simdjson's On Demand API: the
 * only C++ file and the only user of <simdjson.h>.
 *
 * One pass over each record: the top-level fields, then every property,
 * picking out the few the engine reads and skipping the rest without
 * building a DOM. Nothing is allocated per record: strings live in the
 * parser's buffer until the next line. A line holding an array is walked
 * twice, first to prove the whole line is well-formed (so a syntax error
 * late in the line rejects the line rather than half of it), then to read.
 */
#include "codec_json_in.h"

#include <new>
#include <simdjson.h>
#include <string.h>
#include <vector>

using namespace simdjson;

struct idg__jparser {
	ondemand::parser parser;
	std::vector<std::string_view> elems; /* an array line's records */
};

extern "C" struct idg__jparser *
idg__jparser_new(void)
{
	return new (std::nothrow) idg__jparser();
}

extern "C" void
idg__jparser_free(struct idg__jparser *jp)
{
	delete jp;
}

static const char *
describe(error_code err)
{
	switch (err) {
	case UTF8_ERROR:
		return "invalid UTF-8";
	case DEPTH_ERROR:
		return "malformed JSON: nested too deeply";
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

/* Reads a number: int64, beyond int64 (text only), or double. */
static error_code
read_number(ondemand::value &v, struct idg__jfield *f)
{
	std::string_view tok = trim_ws(v.raw_json_token());
	ondemand::number_type nt;

	f->s = tok.data();
	f->n = tok.size();
	if (v.get_number_type().get(nt) == SUCCESS &&
	    nt == ondemand::number_type::signed_integer) {
		f->type = IDG__J_INT;
		return v.get_int64().get(f->i);
	}
	if (tok.find_first_of(".eE") == std::string_view::npos) {
		/* An integer too large for int64: keep its digits. */
		f->type = IDG__J_BIGINT;
		return SUCCESS;
	}
	f->type = IDG__J_FLOAT;
	return v.get_double().get(f->d);
}

/* Reads a scalar or notes the type of a compound value. */
static error_code
read_field(ondemand::value v, struct idg__jfield *f)
{
	ondemand::json_type t;
	std::string_view sv;
	bool b = false;
	error_code err = v.type().get(t);

	if (err)
		return err;
	switch (t) {
	case ondemand::json_type::string:
		f->type = IDG__J_STRING;
		err = v.get_string().get(sv);
		f->s = sv.data();
		f->n = sv.size();
		return err;
	case ondemand::json_type::number:
		return read_number(v, f);
	case ondemand::json_type::boolean:
		f->type = IDG__J_BOOL;
		err = v.get_bool().get(b);
		f->i = b;
		return err;
	case ondemand::json_type::null:
		f->type = IDG__J_NULL;
		return v.is_null().error();
	case ondemand::json_type::array: {
		ondemand::array a;

		f->type = IDG__J_ARRAY;
		err = v.get_array().get(a);
		return err ? err : a.raw_json().error();
	}
	case ondemand::json_type::object: {
		ondemand::object o;

		f->type = IDG__J_OBJECT;
		err = v.get_object().get(o);
		return err ? err : o.raw_json().error();
	}
	}
	return INCORRECT_TYPE;
}

static error_code
read_merge_ids(ondemand::value v, struct idg__jrecord *r)
{
	ondemand::array arr;
	error_code err = v.get_array().get(arr);

	if (err)
		return err;
	r->distinct_ids.type = IDG__J_ARRAY;
	r->merge_all_strings = 1;
	for (auto el : arr) {
		struct idg__jfield f = {};
		ondemand::value ev;

		err = el.get(ev);
		if (!err)
			err = read_field(ev, &f);
		if (err)
			return err;
		if (f.type != IDG__J_STRING)
			r->merge_all_strings = 0;
		if (r->merge_count < 2)
			r->merge_ids[r->merge_count] = f;
		r->merge_count++;
	}
	return SUCCESS;
}

/* The properties the engine reads; the rest are skipped. */
static struct idg__jfield *
property_slot(struct idg__jrecord *r, std::string_view k)
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
	return NULL;
}

static error_code
read_properties(ondemand::value v, struct idg__jrecord *r)
{
	ondemand::object obj;
	error_code err = v.get_object().get(obj);

	if (err)
		return err;
	r->properties.type = IDG__J_OBJECT;
	for (auto field : obj) {
		std::string_view k;
		ondemand::value fv;
		struct idg__jfield *slot;

		err = field.unescaped_key().get(k);
		if (!err)
			err = field.value().get(fv);
		if (err)
			return err;
		r->nprops++;
		if (k == "$distinct_ids") {
			ondemand::json_type t;

			r->merge_count = 0;
			r->distinct_ids = idg__jfield{};
			err = fv.type().get(t);
			if (!err && t == ondemand::json_type::array)
				err = read_merge_ids(fv, r);
			else if (!err)
				err = read_field(fv, &r->distinct_ids);
		} else if ((slot = property_slot(r, k)) != NULL) {
			*slot = idg__jfield{};
			err = read_field(fv, slot);
		}
		if (err)
			return err;
	}
	return SUCCESS;
}

/* Forgets what an earlier "properties" key of the same record set. */
static void
clear_properties(struct idg__jrecord *r)
{
	struct idg__jrecord fresh = {};

	fresh.event = r->event;
	fresh.profile_id = r->profile_id;
	fresh.raw = r->raw;
	fresh.raw_len = r->raw_len;
	*r = fresh;
}

static error_code
read_record(ondemand::object obj, struct idg__jrecord *r)
{
	error_code err;

	for (auto field : obj) {
		std::string_view k;
		ondemand::value fv;

		err = field.unescaped_key().get(k);
		if (!err)
			err = field.value().get(fv);
		if (err)
			return err;
		if (k == "event") {
			r->event = idg__jfield{};
			err = read_field(fv, &r->event);
		} else if (k == "properties") {
			ondemand::json_type t;

			err = fv.type().get(t);
			if (!err && t == ondemand::json_type::object) {
				clear_properties(r);
				err = read_properties(fv, r);
			} else if (!err) {
				clear_properties(r);
				err = read_field(fv, &r->properties);
			}
		} else if (k == "$distinct_id") {
			r->profile_id = idg__jfield{};
			err = read_field(fv, &r->profile_id);
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

/* Parses text as one record and hands it to cb. */
static int
parse_record(struct idg__jparser *jp, const char *text, size_t len,
	     size_t capacity, uint32_t index, int in_array, idg__jrecord_fn cb,
	     void *ctx)
{
	struct idg__jrecord r = {};
	ondemand::document doc;
	ondemand::json_type t;
	ondemand::object obj;
	error_code err;

	r.raw = text;
	r.raw_len = len;
	err = jp->parser.iterate(padded_string_view(text, len, capacity))
		  .get(doc);
	if (!err)
		err = doc.type().get(t);
	if (err)
		return cb(ctx, &r, index, in_array, describe(err));
	if (t != ondemand::json_type::object)
		return cb(ctx, &r, index, in_array,
			  scalar_ok(doc, t) ? "record is not a JSON object"
					    : "malformed JSON");
	err = doc.get_object().get(obj);
	if (!err)
		err = read_record(obj, &r);
	if (!err && !at_end(doc))
		err = TRAILING_CONTENT;
	if (err)
		return cb(ctx, &r, index, in_array, describe(err));
	return cb(ctx, &r, index, in_array, NULL);
}

/*
 * An array line: first collect every element's text, which also proves the
 * line well-formed, then parse each element as a record of its own.
 */
static int
parse_array(struct idg__jparser *jp, const char *line, size_t len,
	    size_t capacity, idg__jrecord_fn cb, void *ctx)
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
		struct idg__jrecord r = {};

		r.raw = line;
		r.raw_len = len;
		return cb(ctx, &r, 0, 1, describe(err));
	}
	for (i = 0; i < jp->elems.size(); i++) {
		std::string_view el = jp->elems[i];
		size_t cap = capacity - (size_t)(el.data() - line);
		int rc = parse_record(jp, el.data(), el.size(), cap, i, 1, cb,
				      ctx);

		if (rc)
			return rc;
	}
	return 0;
}

extern "C" int
idg__json_parse_line(struct idg__jparser *jp, const char *line, size_t len,
		     size_t capacity, idg__jrecord_fn cb, void *ctx)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] == '[')
		return parse_array(jp, line, len, capacity, cb, ctx);
	return parse_record(jp, line, len, capacity, 0, 0, cb, ctx);
}
