/*
 * parse_only.cpp — the parse floor of `idgraph bench`: the parsers the
 * engine uses (simdjson On Demand for JSON lines, msgpack-c for
 * MessagePack) walking every record and every value of a file, with no
 * engine behind them. Ingest can never be faster than this; the ratio of
 * the two says how much of ingest is parsing.
 *
 * Like the engine, JSON is parsed one line at a time on a padded view of
 * the line; every string is unescaped and every number converted. Unlike
 * the engine, nothing is validated or kept, and MessagePack values reuse
 * one unpacked zone.
 *
 *   usage: parse_only jsonl|msgpack FILE
 *   prints: records N values V seconds S
 *
 * S covers reading the file (from the page cache, as ingest does after the
 * generator wrote it) and parsing it; the exit status is 1 on an unreadable
 * file or a parse error.
 */
#include <msgpack.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace simdjson;

namespace
{

struct tally {
	unsigned long long records = 0, values = 0, bytes = 0;
};

error_code
walk(ondemand::value v, tally &t)
{
	ondemand::json_type type;
	error_code err = v.type().get(type);

	if (err)
		return err;
	t.values++;
	switch (type) {
	case ondemand::json_type::object: {
		ondemand::object o;
		if ((err = v.get_object().get(o)))
			return err;
		for (auto field : o) {
			std::string_view k;
			ondemand::value fv;
			if ((err = field.unescaped_key().get(k)) ||
			    (err = field.value().get(fv)) ||
			    (err = walk(fv, t)))
				return err;
			t.bytes += k.size();
		}
		return SUCCESS;
	}
	case ondemand::json_type::array: {
		ondemand::array a;
		if ((err = v.get_array().get(a)))
			return err;
		for (auto el : a) {
			ondemand::value ev;
			if ((err = el.get(ev)) || (err = walk(ev, t)))
				return err;
		}
		return SUCCESS;
	}
	case ondemand::json_type::string: {
		std::string_view s;
		err = v.get_string().get(s);
		t.bytes += s.size();
		return err;
	}
	case ondemand::json_type::number: {
		ondemand::number n;
		err = v.get_number().get(n);
		return err;
	}
	case ondemand::json_type::boolean: {
		bool b;
		return v.get_bool().get(b);
	}
	default: {
		bool null;
		return v.is_null().get(null);
	}
	}
}

int
parse_jsonl(const char *path, tally &t)
{
	padded_string text;
	ondemand::parser parser;

	if (padded_string::load(path).get(text)) {
		std::fprintf(stderr, "parse_only: cannot read %s\n", path);
		return 1;
	}
	const char *p = text.data(), *end = p + text.size();
	size_t cap = text.size() + SIMDJSON_PADDING;
	while (p < end) {
		const char *nl = static_cast<const char *>(
		    std::memchr(p, '\n', (size_t)(end - p)));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		ondemand::document doc;
		ondemand::value v;
		size_t room = cap - (size_t)(p - text.data());

		if (len > 0) {
			error_code err =
			    parser.iterate(padded_string_view(p, len, room))
				.get(doc);
			if (!err)
				err = doc.get_value().get(v);
			if (!err)
				err = walk(v, t);
			if (err) {
				std::fprintf(stderr,
					     "parse_only: record %llu: %s\n",
					     t.records + 1, error_message(err));
				return 1;
			}
			t.records++;
		}
		p += len + 1;
	}
	return 0;
}

void
walk_mp(const msgpack_object &o, tally &t)
{
	t.values++;
	switch (o.type) {
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o.via.map.size; i++) {
			walk_mp(o.via.map.ptr[i].key, t);
			walk_mp(o.via.map.ptr[i].val, t);
		}
		break;
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o.via.array.size; i++)
			walk_mp(o.via.array.ptr[i], t);
		break;
	case MSGPACK_OBJECT_STR:
		t.bytes += o.via.str.size;
		break;
	default:
		break;
	}
}

int
parse_msgpack(const char *path, tally &t)
{
	std::FILE *fp = std::fopen(path, "rb");
	std::vector<char> buf;
	char chunk[1 << 16];
	size_t n, off = 0;
	msgpack_unpacked up;
	int rc = 0;

	if (!fp) {
		std::fprintf(stderr, "parse_only: cannot read %s\n", path);
		return 1;
	}
	while ((n = std::fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf.insert(buf.end(), chunk, chunk + n);
	std::fclose(fp);
	msgpack_unpacked_init(&up);
	while (off < buf.size()) {
		if (msgpack_unpack_next(&up, buf.data(), buf.size(), &off) !=
		    MSGPACK_UNPACK_SUCCESS) {
			std::fprintf(stderr, "parse_only: value %llu: broken\n",
				     t.records + 1);
			rc = 1;
			break;
		}
		walk_mp(up.data, t);
		t.records++;
	}
	msgpack_unpacked_destroy(&up);
	return rc;
}

} // namespace

int
main(int argc, char **argv)
{
	tally t;
	int rc;

	if (argc != 3 || (std::strcmp(argv[1], "jsonl") != 0 &&
			  std::strcmp(argv[1], "msgpack") != 0)) {
		std::fprintf(stderr, "usage: parse_only jsonl|msgpack FILE\n");
		return 2;
	}
	auto t0 = std::chrono::steady_clock::now();
	rc = argv[1][0] == 'j' ? parse_jsonl(argv[2], t)
			       : parse_msgpack(argv[2], t);
	std::chrono::duration<double> s = std::chrono::steady_clock::now() - t0;
	if (rc)
		return rc;
	std::printf("records %llu values %llu seconds %.6f\n", t.records,
		    t.values, s.count());
	return 0;
}
