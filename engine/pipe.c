/*
 * pipe.c — the two-stage ingest (see pipe.h).
 *
 * A record crosses threads as a copy: its struct, and the bytes behind
 * each of its pointers in the chunk's arena, remembered as offsets (the
 * arena may move while it grows) and turned back into pointers by the
 * apply stage. A chunk is owned by one thread at a time; the ring's
 * states change under one mutex.
 *
 * A chunk is handed over when its slots and arena pass CHUNK_BYTES, also
 * in the middle of a unit (a JSON array line may hold any number of
 * records): the unit then ends in a later chunk, and its first chunk
 * holds a PART marker. The apply stage replays a unit across its chunks
 * as one, so memory stays at about NCHUNKS chunks whatever the input.
 *
 * Property names: the parsers write the names the parse stage's own copy
 * of the dictionary knows as their numbers (keys.h), so the apply stage
 * stores most bodies as they come. The copy starts as the apply stage's
 * dictionary; the names the apply stage adds later cross with the chunks
 * it gives back (hand_names, take_names), in number order. A name the
 * copy does not know yet stays text, and the apply stage numbers it.
 */
#include "pipe.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "idgraph.h"
#include "keys.h"
#include "record.h"

/*
 * Chunks in flight: enough that the parse stage goes on through a batch
 * commit (30 to 50 ms with its flush to disk, while the apply stage takes
 * nothing): 32 chunks of up to 1,024 records hold ~25 ms of parsing. With
 * 4, the parse stage, which bounds the rate, waited out every commit
 * (bench/RESULTS.md).
 */
#define NCHUNKS 32
/* Chunks waiting for the apply stage from which the parse stage takes on
 * the apply stage's share of work either may do (idg__record_extras). */
#define EXTRAS_QUEUE 8
#define CHUNK_BYTES ((size_t)1 << 20)
#define CHUNK_UNITS 1024u

/* A unit marker's got: the unit goes on in the next chunk. */
#define PART 2

/* The strings of a checked event (struct idg__rec), each a (p, n). */
#define EVENT_STRINGS(X)                                                      \
	X(event) X(distinct_id) X(insert_id) X(ids[0]) X(ids[1]) X(device)

/* Pointers of a checked record: at most a profile update's id and
 * operators (an event has its strings, props, pkeys and body head; a
 * rejected record its message and bytes). */
#define NREFS (1 + IDG__OP_COUNT)
#define ONE(f) +1
_Static_assert(0 EVENT_STRINGS(ONE) + 3 <= NREFS, "an event's refs fit");
#undef ONE

struct slot {
	struct idg__vrec rec;
	size_t ref[NREFS]; /* arena offset + 1 of each pointer; 0: NULL */
	uint32_t index;
	int in_array;
};

struct unit {
	uint32_t end; /* its records (or their part) end before this slot */
	int got;      /* what idg__source_unit returned, or PART */
	struct idg__upos pos;
};

/* A cache line: what one stage writes is kept off the lines the other
 * reads while it does (false sharing stalls the apply stage). */
#define LINE 64

struct chunk {
	_Alignas(LINE) struct slot *slots;
	uint32_t nslots, slots_cap;
	struct unit units[CHUNK_UNITS];
	uint32_t nunits;
	char *arena;
	size_t used, cap;
	int failed; /* out of memory while filling */
	int ready;  /* filled, for the apply stage */
};

struct idg__pipe {
	struct idg__source src;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int stop; /* the apply stage wants no more */
	struct chunk chunks[NCHUNKS];
	_Alignas(LINE) uint32_t fill; /* the parse stage's chunk */
	uint32_t queued; /* chunks handed over, not yet given back (mu) */
	int extras;      /* the parse stage does idg__record_extras */
	double parse_busy, parse_wait; /* read once the stage has ended */
	_Alignas(LINE) uint32_t take; /* the apply stage's chunk */
	uint32_t unit;  /* the next unit of chunks[take] */
	int taken;      /* chunks[take] is held by the apply stage */
	double apply_wait;
	int ended;      /* the last unit was taken: end holds its result */
	int end;
	struct idg__upos end_pos;
	/* Property names: the apply stage's dictionary, the parse stage's
	 * copy, and the names in between, each a length byte then its bytes,
	 * numbered from names_first (under mu). */
	const struct idg__keys *akeys;
	struct idg__keys *pkeys;
	/* What records are checked against, and the check's room. */
	_Alignas(LINE) int64_t now_ms;
	int mode;
	struct idg__scratch scratch;
	uint32_t handed; /* names up to this number are handed over */
	uint32_t names_first;
	unsigned char *names;
	size_t names_len, names_cap;
};

/* Apply stage, under mu: the names its dictionary gained since the last
 * call, queued for the parse stage (kept for a later call if out of
 * memory). */
static void
hand_names(struct idg__pipe *p)
{
	uint32_t count = idg__keys_count(p->akeys);
	const char *s;
	size_t n;

	if (p->names_len == 0)
		p->names_first = p->handed + 1;
	for (; p->handed < count; p->handed++) {
		if (idg__keys_name(p->akeys, p->handed + 1, &s, &n) != 0 ||
		    n > IDG__KEY_MAX_LEN)
			break;
		if (p->names_len + 1 + n > p->names_cap) {
			size_t cap = p->names_cap ? 2 * p->names_cap : 4096;
			unsigned char *a;

			while (cap < p->names_len + 1 + n)
				cap *= 2;
			if (!(a = realloc(p->names, cap)))
				break;
			p->names = a;
			p->names_cap = cap;
		}
		p->names[p->names_len++] = (unsigned char)n;
		memcpy(p->names + p->names_len, s, n);
		p->names_len += n;
	}
}

/* Parse stage, under mu: the queued names into its copy. One that cannot
 * be added (out of memory) ends the copy's growth: later names stay text
 * and the apply stage numbers them. */
static void
take_names(struct idg__pipe *p)
{
	uint32_t num = p->names_first;
	size_t i = 0, n;

	while (i < p->names_len) {
		n = p->names[i++];
		idg__keys_add(p->pkeys, num++, (const char *)p->names + i, n);
		i += n;
	}
	p->names_len = 0;
}

/* Copies n bytes at p into the arena: offset + 1, or 0 for NULL. */
static size_t
put(struct chunk *c, const void *p, size_t n)
{
	size_t at = (c->used + 7) & ~(size_t)7;

	if (!p)
		return 0;
	if (at + n > c->cap) {
		size_t cap = c->cap ? c->cap : CHUNK_BYTES;
		char *a;

		while (cap < at + n)
			cap *= 2;
		if (!(a = realloc(c->arena, cap))) {
			c->failed = 1;
			return 0;
		}
		c->arena = a;
		c->cap = cap;
	}
	if (n)
		memcpy(c->arena + at, p, n);
	c->used = at + n;
	return at + 1;
}

static const void *
at(const struct chunk *c, size_t ref)
{
	return ref ? c->arena + ref - 1 : NULL;
}

/* Copies what r points to into the chunk: a valid record's fields, but
 * the record's bytes only if it is rejected. */
static void
save(struct chunk *c, struct slot *s, const struct idg__vrec *r)
{
	int k = 0;

	s->rec = *r;
	switch (r->kind) {
	case IDG__V_EVENT:
#define SAVE(f) s->ref[k++] = put(c, r->ev.f.p, r->ev.f.n);
		EVENT_STRINGS(SAVE)
#undef SAVE
		s->ref[k++] = put(c, r->props, r->props_len);
		s->ref[k++] = put(c, r->pkeys,
				  r->pkeys ? r->nprops * sizeof(*r->pkeys) : 0);
		s->ref[k++] = put(c, r->x.bhead, r->x.bhead_len);
		break;
	case IDG__V_PROFILE:
		s->ref[k++] = put(c, r->pr.distinct_id.p, r->pr.distinct_id.n);
		for (int i = 0; i < IDG__OP_COUNT; i++)
			s->ref[k++] = put(c, r->pr.ops[i].p, r->pr.ops[i].n);
		break;
	default:
		s->ref[k++] = put(c, r->msg, strlen(r->msg) + 1);
		s->ref[k++] = put(c, r->raw, r->raw_len);
		break;
	}
}

static void
load(const struct chunk *c, struct slot *s)
{
	struct idg__vrec *r = &s->rec;
	int k = 0;

	switch (r->kind) {
	case IDG__V_EVENT:
#define LOAD(f) r->ev.f.p = at(c, s->ref[k++]);
		EVENT_STRINGS(LOAD)
#undef LOAD
		r->props = at(c, s->ref[k++]);
		r->pkeys = at(c, s->ref[k++]);
		r->x.bhead = at(c, s->ref[k++]);
		break;
	case IDG__V_PROFILE:
		r->pr.distinct_id.p = at(c, s->ref[k++]);
		for (int i = 0; i < IDG__OP_COUNT; i++)
			r->pr.ops[i].p = at(c, s->ref[k++]);
		break;
	default:
		r->msg = at(c, s->ref[k++]);
		r->raw = at(c, s->ref[k++]);
		break;
	}
}

static int
full(const struct chunk *c)
{
	return c->nunits == CHUNK_UNITS ||
	       c->used + (size_t)c->nslots * sizeof(struct slot) >=
		   CHUNK_BYTES;
}

/* Hands chunks[fill] over and waits for the next to be free: 0, or 1 if
 * the apply stage stopped. */
static int
publish(struct idg__pipe *p)
{
	int stop;

	pthread_mutex_lock(&p->mu);
	p->chunks[p->fill].ready = 1;
	p->fill = (p->fill + 1) % NCHUNKS;
	p->queued++;
	pthread_cond_broadcast(&p->cv);
	if (!p->stop && p->chunks[p->fill].ready) {
		double t = idg__clock_wall();

		while (!p->stop && p->chunks[p->fill].ready)
			pthread_cond_wait(&p->cv, &p->mu);
		p->parse_wait += idg__clock_wall() - t;
	}
	stop = p->stop;
	take_names(p);
	/* Work either stage may do goes to the one with time to spare: here
	 * while the apply stage has a backlog, there when it waits. */
	p->extras = p->queued >= EXTRAS_QUEUE;
	pthread_mutex_unlock(&p->mu);
	return stop;
}

/* The parse stage's idg__inrec_fn: the record checked, and a copy of it
 * into the chunk, the chunk handed over first when it is full. */
static int
keep_record(void *ctx, const struct idg__inrec *jr, uint32_t index,
	    int in_array, const char *error)
{
	struct idg__pipe *p = ctx;
	struct chunk *c = &p->chunks[p->fill];
	struct idg__invalid why;
	struct idg__vrec r;
	struct slot *s;

	idg__record_check(jr, error, p->now_ms, p->mode, &p->scratch, &r,
			  &why);
	if (p->extras && r.kind == IDG__V_EVENT)
		idg__record_extras(&r, &p->scratch, &r.x);
	if (full(c)) {
		/* The unit's line now; its end position with its end. */
		c->units[c->nunits++] =
		    (struct unit){c->nslots, PART, {p->src.line, 0, 0}};
		if (publish(p))
			return IDG_ESTOPPED; /* nobody takes the rest */
		c = &p->chunks[p->fill];
	}
	if (c->nslots == c->slots_cap) {
		uint32_t cap = c->slots_cap ? 2 * c->slots_cap : 256;

		s = realloc(c->slots, cap * sizeof(*s));
		if (!s) {
			c->failed = 1;
			return IDG_ENOMEM;
		}
		c->slots = s;
		c->slots_cap = cap;
	}
	s = &c->slots[c->nslots];
	save(c, s, &r);
	s->index = index;
	s->in_array = in_array;
	if (c->failed)
		return IDG_ENOMEM;
	c->nslots++;
	return IDG_OK;
}

static void *
parse_stage(void *arg)
{
	struct idg__pipe *p = arg;
	struct idg__reader *rd = p->src.rd;
	struct chunk *c;
	int got;

	do {
		got = atomic_load(&p->stop)
			  ? 0 /* not read: nobody would take it */
			  : idg__source_unit(&p->src);
		c = &p->chunks[p->fill];
		if (c->failed)
			got = IDG_ENOMEM;
		c->units[c->nunits++] = (struct unit){
		    c->nslots, got, {p->src.line, rd->line, rd->consumed}};
		if (got != 1 || full(c))
			if (publish(p))
				break;
	} while (got == 1);
	p->parse_busy = idg__clock_cpu();
	return NULL;
}

int
idg__pipe_start(struct idg__pipe **out, const struct idg__source *src,
		const struct idg__keys *keys, int64_t now_ms, int mode)
{
	/* sizeof(*p) is a multiple of LINE (its _Alignas members). */
	struct idg__pipe *p = aligned_alloc(LINE, sizeof(*p));
	int rc;

	*out = NULL;
	if (!p)
		return IDG_ENOMEM;
	memset(p, 0, sizeof(*p));
	p->src = *src;
	p->src.fn = keep_record;
	p->src.ctx = p;
	p->akeys = keys;
	p->now_ms = now_ms;
	p->mode = mode;
	if (keys) {
		if (!(p->pkeys = idg__keys_new())) {
			free(p);
			return IDG_ENOMEM;
		}
		hand_names(p);
		take_names(p);
		idg__source_set_keys(&p->src, p->pkeys);
	}
	atomic_init(&p->stop, 0);
	rc = pthread_mutex_init(&p->mu, NULL);
	if (rc == 0 && (rc = pthread_cond_init(&p->cv, NULL)) != 0)
		pthread_mutex_destroy(&p->mu);
	if (rc == 0 &&
	    (rc = pthread_create(&p->thread, NULL, parse_stage, p)) != 0) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
	}
	if (rc != 0) {
		idg__source_set_keys(&p->src, NULL);
		idg__keys_free(p->pkeys);
		free(p->names);
		free(p);
		return IDG_EIO;
	}
	*out = p;
	return IDG_OK;
}

/* Gives chunks[take] back to the parse stage, emptied; memory that one
 * large record made it take is freed. */
static void
release(struct idg__pipe *p)
{
	struct chunk *c = &p->chunks[p->take];

	c->nslots = c->nunits = 0;
	c->used = 0;
	c->failed = 0;
	if (c->cap > 2 * CHUNK_BYTES) {
		free(c->arena);
		c->arena = NULL;
		c->cap = 0;
	}
	if ((size_t)c->slots_cap * sizeof(struct slot) > 2 * CHUNK_BYTES) {
		free(c->slots);
		c->slots = NULL;
		c->slots_cap = 0;
	}
	pthread_mutex_lock(&p->mu);
	if (p->akeys)
		hand_names(p);
	c->ready = 0;
	p->queued--;
	p->take = (p->take + 1) % NCHUNKS;
	p->unit = 0;
	p->taken = 0;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* The next unit marker, waiting for its chunk; its first slot in *first. */
static const struct unit *
next_marker(struct idg__pipe *p, struct chunk **cp, uint32_t *first)
{
	struct chunk *c = &p->chunks[p->take];

	if (p->taken && p->unit == c->nunits)
		release(p);
	c = &p->chunks[p->take];
	if (!p->taken) {
		pthread_mutex_lock(&p->mu);
		if (!c->ready) {
			double t = idg__clock_wall();

			while (!c->ready)
				pthread_cond_wait(&p->cv, &p->mu);
			p->apply_wait += idg__clock_wall() - t;
		}
		pthread_mutex_unlock(&p->mu);
		p->taken = 1;
	}
	*first = p->unit ? c->units[p->unit - 1].end : 0;
	*cp = c;
	return &c->units[p->unit++];
}

int
idg__pipe_unit(struct idg__pipe *p, idg__vrec_fn fn, idg__ahead_fn ahead,
	       void *ctx, struct idg__upos *pos)
{
	const struct unit *u;
	struct chunk *c;
	uint32_t i;
	int rc = IDG_OK;

	if (p->ended) {
		*pos = p->end_pos;
		return p->end;
	}
	do {
		u = next_marker(p, &c, &i);
		*pos = u->pos;
		/* After a failure the unit's other records are passed over,
		 * as one thread would not read them, up to its end. */
		for (; rc == IDG_OK && i < u->end; i++) {
			struct slot *s = &c->slots[i];

			if (ahead && i + 8 < c->nslots)
				ahead(ctx, &c->slots[i + 8].rec, 0);
			if (ahead && i + 4 < c->nslots)
				ahead(ctx, &c->slots[i + 4].rec, 1);
			load(c, s);
			rc = fn(ctx, &s->rec, s->index, s->in_array);
		}
	} while (u->got == PART);
	if (u->got != 1) {
		/* The last unit: a caller that asks again gets its result. */
		p->ended = 1;
		p->end = u->got;
		p->end_pos = u->pos;
	}
	return rc ? rc : u->got;
}

void
idg__pipe_end(struct idg__pipe *p, struct idg__pipe_times *t)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, 1);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	if (t) {
		t->parse_busy += p->parse_busy;
		t->parse_wait += p->parse_wait;
		t->apply_wait += p->apply_wait;
	}
	idg__source_set_keys(&p->src, NULL);
	idg__keys_free(p->pkeys);
	free(p->names);
	idg__scratch_free(&p->scratch);
	for (int i = 0; i < NCHUNKS; i++) {
		free(p->chunks[i].slots);
		free(p->chunks[i].arena);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
