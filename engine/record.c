/*
 * record.c — validation of input records, SPEC §4.
 *
 * A record is checked field by field in a fixed order, and the first
 * failure names the field and says what is wrong, so the same bad record
 * always gets the same message. Nothing here touches the database.
 */
#include "record.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec_msgpack.h"
#include "idgraph.h"
#include "ids.h"
#include "log.h"

/* 1971-01-01T00:00:00Z in milliseconds. */
#define MIN_TIME_MS INT64_C(31536000000)
#define HOUR_MS INT64_C(3600000)

static const char *const forbidden[] = {
    "00000000-0000-0000-0000-000000000000",
    "anon", "anonymous", "nil", "none", "null", "n/a", "na", "undefined",
    "unknown", "<nil>", "0", "-1", "true", "false", "[]", "{}",
};

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

int
idg__id_forbidden(const char *s, size_t n)
{
	size_t i;

	while (n && is_space(*s)) {
		s++;
		n--;
	}
	while (n && is_space(s[n - 1]))
		n--;
	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
		if (strlen(forbidden[i]) == n &&
		    strncasecmp(forbidden[i], s, n) == 0)
			return 1;
	return 0;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

int
idg__id_is_uuid(const char *s, size_t n)
{
	static const char prefix[] = "$device:";
	size_t i;

	if (n > sizeof(prefix) - 1 &&
	    memcmp(s, prefix, sizeof(prefix) - 1) == 0) {
		s += sizeof(prefix) - 1;
		n -= sizeof(prefix) - 1;
	}
	if (n != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return 0;
	}
	return 1;
}

int64_t
idg__time_to_ms(double t)
{
	return (int64_t)llround(t < 1e11 ? t * 1000.0 : t);
}

static int
invalid(struct idg__invalid *why, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
invalid(struct idg__invalid *why, const char *field, const char *fmt, ...)
{
	va_list ap;

	why->field = field;
	va_start(ap, fmt);
	vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
check_time(const struct idg__field *f, const char *fld, int64_t now_ms,
	   int64_t *out, struct idg__invalid *why)
{
	double t;

	if (f->type == IDG__F_MISSING)
		return invalid(why, fld, "time is missing");
	if (f->type == IDG__F_BIGINT && f->n > 0 && f->s[0] == '-')
		return invalid(why, fld, "time is before 1971-01-01");
	if (f->type == IDG__F_BIGINT)
		return invalid(why, fld,
			       "time is more than one hour after the wall "
			       "clock");
	if (f->type != IDG__F_INT && f->type != IDG__F_FLOAT)
		return invalid(why, fld,
			       "time must be a number (epoch seconds or "
			       "milliseconds)");
	t = f->type == IDG__F_INT ? (double)f->i : f->d;
	if (t > (double)(now_ms + HOUR_MS) ||
	    (t >= 1e11 && t > 9.0e18)) /* keeps llround in range */
		return invalid(why, fld,
			       "time is more than one hour after the wall "
			       "clock");
	*out = f->type == IDG__F_INT && f->i >= (int64_t)1e11
		   ? f->i
		   : idg__time_to_ms(t);
	if (*out < MIN_TIME_MS)
		return invalid(why, fld, "time is before 1971-01-01");
	if (*out > now_ms + HOUR_MS)
		return invalid(why, fld,
			       "time is more than one hour after the wall "
			       "clock");
	return 0;
}

/*
 * Reads an id: a string, or an integer standing for its decimal text.
 * Empty is allowed only when allow_empty; forbidden values never are.
 */
static int
check_id(const struct idg__field *f, const char *field, int allow_empty,
	 struct idg__str *out, struct idg__invalid *why)
{
	if (f->type == IDG__F_MISSING)
		return invalid(why, field, "%s is missing", field + 11);
	if (f->type != IDG__F_STRING && f->type != IDG__F_INT &&
	    f->type != IDG__F_BIGINT)
		return invalid(why, field, "%s must be a string or an integer",
			       field + 11);
	if (f->n == 0 && !allow_empty)
		return invalid(why, field, "%s is empty", field + 11);
	if (idg__id_forbidden(f->s, f->n))
		return invalid(why, field, "%s is a forbidden value: \"%.*s\"",
			       field + 11, (int)(f->n > 64 ? 64 : f->n), f->s);
	out->p = f->s;
	out->n = f->n;
	return 0;
}

static int
check_insert_id(const struct idg__field *f, struct idg__str *out,
		struct idg__invalid *why)
{
	const char *fld = "properties.$insert_id";
	size_t i;

	out->p = NULL;
	out->n = 0;
	if (f->type == IDG__F_MISSING)
		return 0;
	if (f->type != IDG__F_STRING)
		return invalid(why, fld, "$insert_id must be a string");
	if (f->n == 0 || f->n > 36)
		return invalid(why, fld,
			       "$insert_id must be 1 to 36 bytes long (is %zu)",
			       f->n);
	for (i = 0; i < f->n; i++) {
		char c = f->s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return invalid(why, fld,
				       "$insert_id may hold only A-Z, a-z, "
				       "0-9 and '-'");
	}
	if (idg__id_forbidden(f->s, f->n))
		return invalid(why, fld, "$insert_id is a forbidden value");
	out->p = f->s;
	out->n = f->n;
	return 0;
}

/* The identity ids of $identify, $create_alias and $merge (SPEC §2.1). */
static int
check_identity(const struct idg__inrec *jr, struct idg__rec *r,
	       struct idg__invalid *why)
{
	const struct idg__field *f;
	const char *fld;

	switch (r->kind) {
	case IDG__IDENTIFY:
		f = &jr->identified_id;
		fld = "properties.$identified_id";
		if (f->type == IDG__F_MISSING) {
			f = &jr->distinct_id;
			fld = "properties.distinct_id";
		}
		if (check_id(f, fld, 0, &r->ids[0], why))
			return -1;
		f = &jr->anon_id;
		fld = "properties.$anon_id";
		if (f->type == IDG__F_MISSING) {
			f = &jr->anon_distinct_id;
			fld = "properties.$anon_distinct_id";
		}
		return check_id(f, fld, 0, &r->ids[1], why);
	case IDG__ALIAS:
		if (check_id(&jr->distinct_id, "properties.distinct_id", 0,
			     &r->ids[0], why))
			return -1;
		return check_id(&jr->alias, "properties.alias", 0, &r->ids[1],
				why);
	default:
		fld = "properties.$distinct_ids";
		if (jr->distinct_ids.type == IDG__F_MISSING &&
		    jr->merge_count == 0)
			return invalid(why, fld, "$distinct_ids is missing");
		if (jr->distinct_ids.type != IDG__F_ARRAY ||
		    jr->merge_count != 2 || !jr->merge_all_strings)
			return invalid(why, fld,
				       "$distinct_ids must be an array of "
				       "exactly two strings");
		if (check_id(&jr->merge_ids[0], fld, 0, &r->ids[0], why))
			return -1;
		return check_id(&jr->merge_ids[1], fld, 0, &r->ids[1], why);
	}
}

static int
identity_kind(const struct idg__str *ev)
{
	int k;

	for (k = IDG__IDENTIFY; k <= IDG__MERGE; k++) {
		const char *name = idg__ident_name(k);

		if (strlen(name) == ev->n && memcmp(name, ev->p, ev->n) == 0)
			return k;
	}
	return -1;
}

static int
check_event(const struct idg__inrec *jr, struct idg__rec *r,
	    struct idg__invalid *why)
{
	const struct idg__field *f = &jr->event;

	if (f->type == IDG__F_MISSING)
		return invalid(why, "event", "event is missing");
	if (f->type != IDG__F_STRING)
		return invalid(why, "event", "event must be a string");
	if (f->n == 0)
		return invalid(why, "event", "event is empty");
	r->event.p = f->s;
	r->event.n = f->n;
	if (jr->properties.type == IDG__F_MISSING)
		return invalid(why, "properties", "properties is missing");
	if (jr->properties.type != IDG__F_OBJECT)
		return invalid(why, "properties",
			       "properties must be an object");
	return 0;
}

/* "$device:" + d, in the scratch buffer. */
static int
device_name(const struct idg__str *d, struct idg__scratch *sc,
	    struct idg__str *out, struct idg__invalid *why)
{
	size_t n = d->n + 8;

	if (n > sc->cap) {
		char *p = realloc(sc->p, n);

		if (!p)
			return invalid(why, "", "out of memory");
		sc->p = p;
		sc->cap = n;
	}
	memcpy(sc->p, "$device:", 8);
	memcpy(sc->p + 8, d->p, d->n);
	out->p = sc->p;
	out->n = n;
	return 0;
}

/*
 * Simplified ID Merge (SPEC §2.2): the event's distinct_id is its
 * $user_id, else "$device:" + its $device_id, else distinct_id as sent;
 * one that names both, and is not an identity event, links the device.
 */
static int
simplified_ids(const struct idg__inrec *jr, int kind, struct idg__rec *r,
	       struct idg__scratch *sc, struct idg__invalid *why)
{
	struct idg__str user = {0}, dev = {0};

	if (jr->user_id.type != IDG__F_MISSING &&
	    check_id(&jr->user_id, "properties.$user_id", 0, &user, why))
		return -1;
	if (jr->device_id.type != IDG__F_MISSING &&
	    (check_id(&jr->device_id, "properties.$device_id", 0, &dev, why) ||
	     device_name(&dev, sc, &dev, why)))
		return -1;
	if (user.p) {
		r->distinct_id = user;
		if (dev.p && kind < 0)
			r->device = dev;
		return 0;
	}
	if (dev.p) {
		r->distinct_id = dev;
		return 0;
	}
	return check_id(&jr->distinct_id, "properties.distinct_id", 1,
			&r->distinct_id, why);
}

int
idg__record_validate(const struct idg__inrec *jr, int64_t now_ms, int mode,
		     struct idg__scratch *sc, struct idg__rec *out,
		     struct idg__invalid *why)
{
	struct idg__rec r = {0};
	int kind;

	if (jr->raw_len > IDG__MAX_RECORD_BYTES)
		return invalid(why, "", "record is larger than 1 MiB (%zu bytes)",
			       jr->raw_len);
	if (check_event(jr, &r, why) ||
	    check_time(&jr->time, "properties.time", now_ms, &r.time_ms,
		       why) ||
	    check_insert_id(&jr->insert_id, &r.insert_id, why))
		return -1;
	kind = identity_kind(&r.event);
	if (mode == IDG_MODE_SIMPLIFIED) {
		if (simplified_ids(jr, kind, &r, sc, why))
			return -1;
		*out = r;
		return 0;
	}
	/* Legacy knows only $create_alias; original all three. */
	r.kind = mode == IDG_MODE_LEGACY && kind != IDG__ALIAS ? -1 : kind;
	r.identity = r.kind >= 0;
	if (r.identity) {
		if (check_identity(jr, &r, why))
			return -1;
		/* distinct_id may be omitted: it is then the first id. */
		r.distinct_id = r.ids[0];
		if (jr->distinct_id.type != IDG__F_MISSING &&
		    check_id(&jr->distinct_id, "properties.distinct_id", 1,
			     &r.distinct_id, why))
			return -1;
	} else if (check_id(&jr->distinct_id, "properties.distinct_id", 1,
			    &r.distinct_id, why)) {
		return -1;
	}
	*out = r;
	return 0;
}

int
idg__record_is_profile(const struct idg__inrec *jr)
{
	return jr->event.type == IDG__F_MISSING &&
	       jr->profile_id.type != IDG__F_MISSING;
}

static int
check_flag(const struct idg__field *f, const char *fld, int *out,
	   struct idg__invalid *why)
{
	*out = 0;
	if (f->type == IDG__F_MISSING)
		return 0;
	if (f->type != IDG__F_BOOL)
		return invalid(why, fld, "%s must be true or false", fld);
	*out = f->i != 0;
	return 0;
}

/* Each operator's value must have the type SPEC §4 names. */
static int
check_op(const struct idg__opval *op, int i, struct idg__invalid *why)
{
	static const char *const names[IDG__OP_COUNT] = {
	    "$set",   "$set_once", "$add",   "$append",
	    "$union", "$remove",   "$unset", "$delete"};
	const char *name = names[i];

	switch (i) {
	case IDG__OP_ADD:
		if (op->type != IDG__F_OBJECT || !op->all_numbers)
			return invalid(why, name,
				       "%s needs an object of numbers", name);
		return 0;
	case IDG__OP_UNION:
		if (op->type != IDG__F_OBJECT || !op->all_arrays)
			return invalid(why, name,
				       "%s needs an object of arrays", name);
		return 0;
	case IDG__OP_UNSET:
		if (op->type != IDG__F_ARRAY || !op->all_strings)
			return invalid(why, name,
				       "%s needs an array of property names",
				       name);
		return 0;
	case IDG__OP_DELETE:
		return 0; /* its value is ignored */
	default:
		if (op->type != IDG__F_OBJECT)
			return invalid(why, name, "%s needs an object", name);
		return 0;
	}
}

int
idg__profile_validate(const struct idg__inrec *jr, int64_t now_ms,
		      struct idg__prec *out, struct idg__invalid *why)
{
	struct idg__prec p;
	const struct idg__field *id = &jr->profile_id;
	int i, any = 0;

	memset(&p, 0, sizeof(p));
	if (jr->raw_len > IDG__MAX_RECORD_BYTES)
		return invalid(why, "", "record is larger than 1 MiB (%zu bytes)",
			       jr->raw_len);
	if (id->type != IDG__F_STRING && id->type != IDG__F_INT &&
	    id->type != IDG__F_BIGINT)
		return invalid(why, "$distinct_id",
			       "$distinct_id must be a string or an integer");
	if (id->n == 0)
		return invalid(why, "$distinct_id", "$distinct_id is empty");
	if (idg__id_forbidden(id->s, id->n))
		return invalid(why, "$distinct_id",
			       "$distinct_id is a forbidden value: \"%.*s\"",
			       (int)(id->n > 64 ? 64 : id->n), id->s);
	p.distinct_id.p = id->s;
	p.distinct_id.n = id->n;
	for (i = 0; i < IDG__OP_COUNT; i++) {
		const struct idg__opval *op = &jr->ops[i];

		if (op->type == IDG__F_MISSING)
			continue;
		if (check_op(op, i, why))
			return -1;
		p.ops[i].p = op->mp;
		p.ops[i].n = op->mp_len;
		any = 1;
	}
	if (!any)
		return invalid(why, "",
			       "a profile update needs an operator: $set, "
			       "$set_once, $add, $append, $union, $remove, "
			       "$unset or $delete (a profiles export's "
			       "$properties becomes one with: jq -c "
			       "'{\"$distinct_id\", \"$set\": "
			       ".\"$properties\"}')");
	if (jr->ptime.type != IDG__F_MISSING) {
		if (check_time(&jr->ptime, "$time", now_ms, &p.time_ms, why))
			return -1;
		p.has_time = 1;
	}
	if (check_flag(&jr->ignore_time, "$ignore_time", &p.ignore_time, why) ||
	    check_flag(&jr->ignore_alias, "$ignore_alias", &p.ignore_alias,
		       why))
		return -1;
	*out = p;
	return 0;
}

void
idg__record_extras(const struct idg__vrec *v, struct idg__scratch *sc,
		   struct idg__extras *out)
{
	const struct idg__rec *r = &v->ev;
	struct idg__body b = {0};

	memset(out, 0, sizeof(*out));
	b.did = r->distinct_id.p;
	b.did_len = r->distinct_id.n;
	b.did_in_props = v->did_in_props;
	b.ins = r->insert_id.p;
	b.ins_len = r->insert_id.n;
	b.ins_in_props = r->insert_id.p != NULL;
	if (!sc->head)
		sc->head = idg__mpw_new();
	if (sc->head) {
		idg__mpw_reset(sc->head);
		if (idg__body_head(sc->head, &b) == IDG_OK)
			out->bhead = idg__mpw_data(sc->head, &out->bhead_len);
	}
	out->dedup = r->insert_id.p
			 ? idg__event_key_hash(r->event.p, r->event.n,
					       r->time_ms, r->distinct_id.p,
					       r->distinct_id.n, r->insert_id.p,
					       r->insert_id.n)
			 : 0;
	out->name_hash = idg__hash64(r->event.p, r->event.n);
	out->done = 1;
}

static void
reject(const struct idg__inrec *jr, const char *field, const char *msg,
       struct idg__vrec *out)
{
	out->kind = IDG__V_REJECT;
	out->field = field;
	out->msg = msg;
	out->raw = jr->raw;
	out->raw_len = jr->raw_len;
}

void
idg__record_check(const struct idg__inrec *jr, const char *error,
		  int64_t now_ms, int mode, struct idg__scratch *sc,
		  struct idg__vrec *out, struct idg__invalid *why)
{
	memset(out, 0, sizeof(*out));
	if (error) {
		reject(jr, "", error, out);
	} else if (idg__record_is_profile(jr)) {
		out->kind = IDG__V_PROFILE;
		if (idg__profile_validate(jr, now_ms, &out->pr, why))
			reject(jr, why->field, why->msg, out);
		else
			out->id_hash = idg__hash64(out->pr.distinct_id.p,
						   out->pr.distinct_id.n);
		for (int i = 0; i < IDG__OP_COUNT; i++)
			if (jr->ops[i].type != IDG__F_MISSING)
				out->long_strings += jr->ops[i].long_strings;
	} else if (idg__record_validate(jr, now_ms, mode, sc, &out->ev, why)) {
		reject(jr, why->field, why->msg, out);
	} else {
		out->kind = IDG__V_EVENT;
		out->props = jr->props;
		out->props_len = jr->props_len;
		out->pkeys = jr->pkeys;
		out->nprops = jr->nprops;
		out->long_strings = jr->long_strings + (out->ev.event.n > 255);
		/* Stored once: as a property, when that is where it came
		 * from. */
		out->did_in_props = out->ev.distinct_id.p == jr->distinct_id.s &&
				    jr->distinct_id.type == IDG__F_STRING;
		out->id_hash = idg__hash64(out->ev.distinct_id.p,
					   out->ev.distinct_id.n);
	}
}

void
idg__scratch_free(struct idg__scratch *sc)
{
	free(sc->p);
	idg__mpw_free(sc->head);
	sc->p = NULL;
	sc->cap = 0;
	sc->head = NULL;
}
