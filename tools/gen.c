/*
 * gen.c — the workload generator: a simulation of browsers, users and a
 * server, written as JSON lines or MessagePack.
 *
 * Each step of the simulation advances the clock by 0 to 5 seconds and
 * writes one record, or a short sequence (a login through alias() is a
 * $create_alias then an $identify). A record is first built as a small
 * tree of values (gen_rec.h), then written in the chosen format, so the
 * JSON and MessagePack streams of one seed hold the same records.
 *
 * Invariant: gen->c.records never exceeds opts.records; once it reaches it,
 * emit() writes nothing, so a sequence cut short at the end is still valid
 * input.
 */
#include "gen.h"
#include "gen_rec.h"

#include "idgraph.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Random numbers: xoshiro256** seeded by splitmix64                   */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rnd(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* A number in [0, n); n > 0. The modulo bias is below 2^-40 here. */
static uint64_t
below(uint64_t s[4], uint64_t n)
{
	return rnd(s) % n;
}

/* 1 with probability per-million ppm. */
static int
chance(uint64_t s[4], unsigned ppm)
{
	return below(s, 1000000) < ppm;
}

/* ------------------------------------------------------------------ */
/* The simulation                                                      */

/* A device id: 128 random bits, shown as a version 4 UUID. */
struct uuid {
	uint64_t hi, lo;
};

/* A browser (a cookie jar): its current device, who is logged in, who
 * usually uses it, and where it is in the shop's funnel. */
struct browser {
	uint32_t device;
	int32_t user;  /* logged-in user, or -1 */
	int32_t owner; /* the person's usual user once known, or -1 */
	uint8_t agent;
	uint8_t stage; /* 0 browsing, 1 viewed a product, 2 cart */
};

struct gen {
	struct gen_opts o;
	uint64_t s[4];
	int64_t now;
	struct uuid *dev;
	uint64_t ndev, capdev;
	struct browser *br;
	uint64_t nbr, capbr;
	uint64_t nusers, nserver;
	struct gen_counts c;
	FILE *out;
	idg_jw *jw;
	int err;
	struct rec r;
};

static const struct agent {
	const char *browser, *os;
	int height;
} agents[] = {
    {"Chrome", "Windows", 1080}, {"Chrome", "Mac OS X", 900},
    {"Safari", "Mac OS X", 982}, {"Mobile Safari", "iOS", 844},
    {"Chrome", "Android", 915},	 {"Firefox", "Windows", 1080},
    {"Edge", "Windows", 1440},	 {"Firefox", "Linux", 1080},
};

static const char *const categories[] = {"shoes", "shirts", "hats",
					 "bags",  "socks",  "jackets"};
static const char *const queries[] = {"red shoes", "summer hat", "wool socks",
				      "rain jacket", "tote bag"};
static const char *const referrers[][2] = {
    {"https://www.google.com/", "www.google.com"},
    {"https://www.facebook.com/", "www.facebook.com"},
    {"https://t.co/", "t.co"},
    {"https://news.ycombinator.com/", "news.ycombinator.com"},
};
static const char *const forbidden_ids[] = {
    "undefined", "null", "anonymous", "00000000-0000-0000-0000-000000000000",
    "0",	 "-1",	 "none",      "unknown",
    "[]",	 "false"};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(g, a) ((a)[below((g)->s, NELEMS(a))])

/* The project token that mixpanel-browser sends with every event. */
#define TOKEN "4e8f3b2a9c1d7e6f5a0b8c2d4e6f8a1b"

static int
grow(void **p, uint64_t *cap, uint64_t need, size_t size)
{
	uint64_t n = *cap ? *cap : 1024;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if ((q = realloc(*p, n * size)) == NULL)
		return IDG_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int
new_device(struct gen *g, uint32_t *out)
{
	if (grow((void **)&g->dev, &g->capdev, g->ndev + 1, sizeof(*g->dev)))
		return IDG_ENOMEM;
	g->dev[g->ndev].hi = rnd(g->s);
	g->dev[g->ndev].lo = rnd(g->s);
	*out = (uint32_t)g->ndev++;
	return 0;
}

static void
hex(char *p, uint64_t v, int digits)
{
	static const char h[] = "0123456789abcdef";

	for (int k = digits - 1; k >= 0; k--, v >>= 4)
		p[k] = h[v & 15];
}

/* The 36 characters of device d's UUID, plus a NUL. */
static void
uuid_text(const struct gen *g, uint32_t d, char out[37])
{
	uint64_t hi = (g->dev[d].hi & ~UINT64_C(0xf000)) | UINT64_C(0x4000);
	uint64_t lo = (g->dev[d].lo >> 2) | (UINT64_C(2) << 62);

	hex(out, hi >> 32, 8);
	out[8] = '-';
	hex(out + 9, (hi >> 16) & 0xffff, 4);
	out[13] = '-';
	hex(out + 14, hi & 0xffff, 4);
	out[18] = '-';
	hex(out + 19, lo >> 48, 4);
	out[23] = '-';
	hex(out + 24, lo & UINT64_C(0xffffffffffff), 12);
	out[36] = '\0';
}

static size_t
user_text(uint64_t u, char *buf, size_t size)
{
	/* A quarter of the users are numbered accounts, the rest e-mails. */
	int n = u % 4 == 0
		    ? snprintf(buf, size, "cust_%07" PRIu64, u)
		    : snprintf(buf, size, "user%" PRIu64 "@example.com", u);
	return (size_t)n;
}

static size_t
server_text(uint64_t k, char *buf, size_t size)
{
	return (size_t)snprintf(buf, size, "crm-%06" PRIu64, k);
}

uint64_t
gen_id_count(const struct gen *g)
{
	return g->ndev + g->nusers + g->nserver;
}

size_t
gen_id(const struct gen *g, uint64_t k, char *buf, size_t size)
{
	char u[37];

	if (k < g->ndev) {
		uuid_text(g, (uint32_t)k, u);
		return (size_t)snprintf(buf, size, "$device:%s", u);
	}
	k -= g->ndev;
	if (k < g->nusers)
		return user_text(k, buf, size);
	return server_text(k - g->nusers, buf, size);
}

/* ---- writing ---- */

static void
begin(struct gen *g)
{
	rec_clear(&g->r);
}

/*
 * The record as MessagePack: written as JSON, then encoded by the library
 * (idg_json_to_msgpack, msgpack-c behind it), the types ingest keeps.
 */
static void
emit_msgpack(struct gen *g)
{
	char *json = NULL, *mp = NULL;
	size_t jlen = 0, mlen = 0;
	FILE *jf = open_memstream(&json, &jlen), *mf = NULL;
	idg_jw *jw = jf ? idg_jw_open(jf) : NULL;
	int rc = jw ? 0 : IDG_ENOMEM;

	if (jw) {
		rec_write_json(jw, &g->r);
		rc = idg_jw_close(jw);
	}
	if (jf && fclose(jf) != 0 && rc == 0)
		rc = IDG_ENOMEM;
	mf = rc == 0 ? open_memstream(&mp, &mlen) : NULL;
	if (rc == 0 && !mf)
		rc = IDG_ENOMEM;
	if (rc == 0)
		rc = idg_json_to_msgpack(json, jlen, mf);
	if (mf && fclose(mf) != 0 && rc == 0)
		rc = IDG_ENOMEM;
	if (rc == 0 && fwrite(mp, 1, mlen, g->out) != mlen)
		rc = IDG_EIO;
	if (rc)
		g->err = rc;
	g->c.bytes += mlen;
	free(json);
	free(mp);
}

/* Writes the record built in g->r (node 0) once more. */
static void
emit(struct gen *g)
{
	if (g->c.records >= g->o.records || g->err)
		return;
	g->c.records++;
	if (g->o.format == IDG_FORMAT_MSGPACK) {
		emit_msgpack(g);
	} else {
		rec_write_json(g->jw, &g->r);
		idg_jw_newline(g->jw);
	}
}

/* Writes raw bytes as one JSON line (for malformed records). */
static void
emit_raw_line(struct gen *g, const char *s, size_t len)
{
	if (g->c.records >= g->o.records)
		return;
	g->c.records++;
	idg_jw_raw(g->jw, s, len);
	idg_jw_newline(g->jw);
}

/* ---- pieces of records ---- */

static void
insert_id(struct gen *g, int props)
{
	static const char a[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t x = rnd(g->s), y = rnd(g->s);
	char id[20];

	for (int k = 0; k < 10; k++, x /= 36, y /= 36) {
		id[k] = a[x % 36];
		id[10 + k] = a[y % 36];
	}
	rec_strcopy(&g->r, props, "$insert_id", id, sizeof id);
	g->r.has_insert_id = 1;
}

static void
device_id(struct gen *g, int props, const char *key, uint32_t d, int prefixed)
{
	char id[8 + 37] = "$device:";

	uuid_text(g, d, id + 8);
	if (prefixed)
		rec_strcopy(&g->r, props, key, id, 8 + 36);
	else
		rec_strcopy(&g->r, props, key, id + 8, 36);
}

static void
user_id(struct gen *g, int props, const char *key, uint64_t u)
{
	char buf[64];

	rec_strcopy(&g->r, props, key, buf, user_text(u, buf, sizeof buf));
}

static void
server_id(struct gen *g, int parent, const char *key, uint64_t k)
{
	char buf[32];

	rec_strcopy(&g->r, parent, key, buf, server_text(k, buf, sizeof buf));
}

/* The event's time, made up to an hour late now and then with noise. */
static int64_t
event_time(struct gen *g)
{
	int64_t t = g->now;

	if (g->o.noise && g->c.records > 10 && chance(g->s, 10000)) {
		t -= (int64_t)below(g->s, 3600000);
		if (t < GEN_EPOCH_MS)
			t = GEN_EPOCH_MS;
		g->c.late++;
	}
	return t;
}

/* Starts an event record; returns its properties object. */
static int
event(struct gen *g, const char *name)
{
	int root;

	begin(g);
	root = rec_obj(&g->r, -1, NULL);
	rec_strz(&g->r, root, "event", name);
	return rec_obj(&g->r, root, "properties");
}

/* The properties mixpanel-browser adds to every event of browser b. */
static int
browser_event(struct gen *g, const struct browser *b, const char *name)
{
	const struct agent *a = &agents[b->agent];
	int p = event(g, name);

	rec_dec(&g->r, p, "time", event_time(g), 3);
	if (b->user >= 0)
		user_id(g, p, "distinct_id", (uint64_t)b->user);
	else
		device_id(g, p, "distinct_id", b->device, 1);
	device_id(g, p, "$device_id", b->device, 0);
	if (b->user >= 0)
		user_id(g, p, "$user_id", (uint64_t)b->user);
	if (!chance(g->s, 50000))
		insert_id(g, p);
	rec_strz(&g->r, p, "mp_lib", "web");
	rec_strz(&g->r, p, "$browser", a->browser);
	rec_strz(&g->r, p, "$os", a->os);
	rec_int(&g->r, p, "$screen_height", a->height);
	return p;
}

/* Counts an event written once, and with noise sometimes writes it again
 * (an SDK's retry: only events with $insert_id are duplicates). */
static void
emit_event(struct gen *g, int identity)
{
	uint64_t before = g->c.records;

	emit(g);
	if (g->c.records == before)
		return;
	g->c.events++;
	g->c.identity += (uint64_t)identity;
	if (g->o.noise && g->r.has_insert_id && g->c.records > 10 &&
	    chance(g->s, 10000)) {
		before = g->c.records;
		emit(g);
		if (g->c.records > before) {
			g->c.events++;
			g->c.duplicates++;
		}
	}
}

/* ---- the browser ---- */

static int
new_browser(struct gen *g, uint64_t *out)
{
	struct browser *b;

	if (grow((void **)&g->br, &g->capbr, g->nbr + 1, sizeof(*g->br)))
		return IDG_ENOMEM;
	b = &g->br[g->nbr];
	if (new_device(g, &b->device))
		return IDG_ENOMEM;
	b->user = b->owner = -1;
	b->agent = (uint8_t)below(g->s, NELEMS(agents));
	b->stage = 0;
	*out = g->nbr++;
	return 0;
}

/* Which browser acts: a new visitor, one of the recent ones, or anyone. */
static int
pick_browser(struct gen *g, uint64_t *out)
{
	uint64_t recent = g->nbr < 2000 ? g->nbr : 2000;

	if (g->nbr == 0 || chance(g->s, 80000))
		return new_browser(g, out);
	if (chance(g->s, 800000))
		*out = g->nbr - 1 - below(g->s, recent);
	else
		*out = below(g->s, g->nbr);
	return 0;
}

/* A page of the shop and the event's own properties. */
static void
page_event(struct gen *g, struct browser *b)
{
	const char *name;
	unsigned r = (unsigned)below(g->s, 100);
	uint64_t sku = 1000 + below(g->s, 9000);
	int p;

	if (b->stage == 2 && r < 35)
		name = "Purchase";
	else if (b->stage >= 1 && r < 30)
		name = "Add To Cart";
	else if (r < 50)
		name = "$mp_web_page_view";
	else if (r < 85)
		name = "Product View";
	else
		name = "Search";
	p = browser_event(g, b, name);
	if (name[0] == '$') {
		const char *cat = PICK(g, categories);

		rec_strf(&g->r, p, "$current_url",
			 "https://shop.example.com/c/%s", cat);
		if (chance(g->s, 400000)) {
			const char *const *ref = PICK(g, referrers);

			rec_strz(&g->r, p, "$referrer", ref[0]);
		}
	} else if (name[0] == 'S') {
		const char *q = PICK(g, queries);

		rec_strf(&g->r, p, "$current_url",
			 "https://shop.example.com/search");
		rec_strz(&g->r, p, "query", q);
		b->stage = 0;
	} else {
		rec_strf(&g->r, p, "$current_url",
			 "https://shop.example.com/p/sku-%" PRIu64, sku);
		rec_strf(&g->r, p, "product_id", "sku-%" PRIu64, sku);
		rec_strz(&g->r, p, "category", PICK(g, categories));
		if (name[0] != 'P' || name[1] != 'r') {
			/* Add To Cart, Purchase: a price in cents. */
			rec_dec(&g->r, p, "price",
				199 + (int64_t)below(g->s, 20000), 2);
			rec_int(&g->r, p, "quantity",
				1 + (int64_t)below(g->s, 3));
		}
		if (name[0] == 'P' && name[1] == 'u') {
			rec_strz(&g->r, p, "currency", "USD");
			b->stage = 0;
		} else {
			b->stage = name[0] == 'A' ? 2 : 1;
		}
	}
	emit_event(g, 0);
}

/* The $identify that mixpanel-browser's identify() sends. anon is the
 * previous distinct_id: the device, or the user logged in before. */
static void
identify(struct gen *g, struct browser *b, uint64_t user, int64_t anon_user)
{
	int p = event(g, "$identify");

	rec_dec(&g->r, p, "time", event_time(g), 3);
	user_id(g, p, "distinct_id", user);
	if (anon_user >= 0)
		user_id(g, p, "$anon_distinct_id", (uint64_t)anon_user);
	else
		device_id(g, p, "$anon_distinct_id", b->device, 1);
	user_id(g, p, "$user_id", user);
	device_id(g, p, "$device_id", b->device, 0);
	insert_id(g, p);
	rec_strz(&g->r, p, "token", TOKEN);
	rec_strz(&g->r, p, "mp_lib", "web");
	rec_strz(&g->r, p, "$lib_version", "2.55.1");
	emit_event(g, 1);
}

/* alias(new user) from the browser: the new id aliased to the device. */
static void
browser_alias(struct gen *g, struct browser *b, uint64_t user)
{
	int p = event(g, "$create_alias");

	rec_dec(&g->r, p, "time", event_time(g), 3);
	device_id(g, p, "distinct_id", b->device, 1);
	user_id(g, p, "alias", user);
	insert_id(g, p);
	rec_strz(&g->r, p, "token", TOKEN);
	rec_strz(&g->r, p, "mp_lib", "web");
	emit_event(g, 1);
}

/* An anonymous browser logs in: its person's user, a returning user on a
 * new device, or a sign-up (one in ten through alias()). */
static void
login(struct gen *g, struct browser *b)
{
	uint64_t user;
	int signup = 0;

	if (b->owner >= 0 && chance(g->s, 850000)) {
		user = (uint64_t)b->owner;
	} else if (g->nusers > 0 && chance(g->s, 400000)) {
		user = below(g->s, g->nusers);
	} else {
		user = g->nusers++;
		signup = 1;
	}
	if (signup && chance(g->s, 100000))
		browser_alias(g, b, user);
	identify(g, b, user, -1);
	b->user = (int32_t)user;
	if (b->owner < 0)
		b->owner = b->user;
}

/* A second person logs in on a browser where someone is logged in, with
 * no reset: the SDK names the previous user as the anonymous id (refused:
 * not a UUID); a custom client names the device (refused: assigned). */
static void
shared_login(struct gen *g, struct browser *b)
{
	uint64_t user = g->nusers > 1 && chance(g->s, 500000)
			    ? below(g->s, g->nusers)
			    : g->nusers++;

	if (user == (uint64_t)b->user)
		return;
	identify(g, b, user, chance(g->s, 500000) ? b->user : -1);
	b->user = (int32_t)user;
}

static int
browser_step(struct gen *g)
{
	uint64_t i;
	struct browser *b;
	int rc = pick_browser(g, &i);

	if (rc)
		return rc;
	b = &g->br[i];
	if (b->user < 0 && chance(g->s, 40000)) {
		login(g, b);
	} else if (b->user >= 0 && chance(g->s, 15000)) {
		/* reset(): a new device id, logged out. */
		if ((rc = new_device(g, &b->device)) != 0)
			return rc;
		b->user = -1;
		b->stage = 0;
		page_event(g, b);
	} else if (b->user >= 0 && chance(g->s, 5000)) {
		shared_login(g, b);
	} else {
		page_event(g, b);
	}
	return 0;
}

/* ---- the server ---- */

/* A user the stream has named, or a new one when there is none yet. */
static uint64_t
some_user(struct gen *g)
{
	return g->nusers ? below(g->s, g->nusers) : g->nusers++;
}

static int
server_event(struct gen *g, const char *name)
{
	int p = event(g, name);

	rec_int(&g->r, p, "time", event_time(g));
	insert_id(g, p);
	rec_strz(&g->r, p, "mp_lib", "node");
	return p;
}

/* $create_alias of a CRM id to a user; one in ten reuses an alias. */
static void
server_alias(struct gen *g)
{
	uint64_t user = some_user(g);
	int p = server_event(g, "$create_alias");

	user_id(g, p, "distinct_id", user);
	if (g->nserver > 0 && chance(g->s, 100000))
		server_id(g, p, "alias", below(g->s, g->nserver));
	else
		server_id(g, p, "alias", g->nserver++);
	emit_event(g, 1);
}

/* $merge of a user with a new CRM id, or (three in ten) with any device:
 * the call with no guardrail. */
static void
server_merge(struct gen *g)
{
	uint64_t user = some_user(g);
	int p = server_event(g, "$merge"), ids;

	/* distinct_id as the first of the ids: original mode would default
	 * to it, and in the other modes $merge is a plain event, which needs
	 * one. */
	user_id(g, p, "distinct_id", user);
	ids = rec_arr(&g->r, p, "$distinct_ids");
	user_id(g, ids, NULL, user);
	if (g->ndev > 0 && chance(g->s, 300000))
		device_id(g, ids, NULL, (uint32_t)below(g->s, g->ndev), 1);
	else
		server_id(g, ids, NULL, g->nserver++);
	emit_event(g, 1);
}

/* ---- People updates ---- */

static void
profile_ops(struct gen *g, int root, uint64_t user)
{
	unsigned r = (unsigned)below(g->s, 100);
	int o, a;

	if (r < 40) {
		o = rec_obj(&g->r, root, "$set");
		rec_strf(&g->r, o, "$name", "User %" PRIu64, user);
		rec_strz(
		    &g->r, o, "plan",
		    (const char *[]){"free", "pro", "team"}[below(g->s, 3)]);
		rec_strz(&g->r, o, "$city",
			 (const char *[]){"Paris", "Austin", "Osaka",
					  "Lagos"}[below(g->s, 4)]);
		if (chance(g->s, 250000)) {
			o = rec_obj(&g->r, root, "$add");
			rec_int(&g->r, o, "logins", 1);
		}
	} else if (r < 55) {
		o = rec_obj(&g->r, root, "$set_once");
		rec_strz(&g->r, o, "signup_source", PICK(g, referrers)[1]);
		rec_int(&g->r, o, "first_seen", g->now);
	} else if (r < 70) {
		o = rec_obj(&g->r, root, "$add");
		rec_int(&g->r, o, "orders", 1);
		rec_dec(&g->r, o, "lifetime_value",
			199 + (int64_t)below(g->s, 20000), 2);
	} else if (r < 78) {
		o = rec_obj(&g->r, root, "$append");
		rec_strf(&g->r, o, "viewed_skus", "sku-%" PRIu64,
			 1000 + below(g->s, 9000));
	} else if (r < 86) {
		o = rec_obj(&g->r, root, "$union");
		a = rec_arr(&g->r, o, "tags");
		rec_strz(&g->r, a, NULL, PICK(g, categories));
		rec_strz(&g->r, a, NULL, PICK(g, categories));
	} else if (r < 91) {
		o = rec_obj(&g->r, root, "$remove");
		rec_strz(&g->r, o, "tags", PICK(g, categories));
	} else if (r < 97) {
		a = rec_arr(&g->r, root, "$unset");
		rec_strz(&g->r, a, NULL, "coupon");
		if (chance(g->s, 500000))
			rec_strz(&g->r, a, NULL, "trial_ends");
	} else {
		rec_strz(&g->r, root, "$delete", "");
		if (chance(g->s, 300000))
			rec_bool(&g->r, root, "$ignore_alias", 1);
	}
}

/* An /engage update: mostly for users, some for devices (which Mixpanel
 * advises against) and server ids. */
static void
profile_update(struct gen *g)
{
	unsigned r = (unsigned)below(g->s, 100);
	uint64_t user = 0;
	uint64_t before = g->c.records;
	int root;

	begin(g);
	root = rec_obj(&g->r, -1, NULL);
	rec_strz(&g->r, root, "$token", TOKEN);
	if (r < 10 && g->nbr > 0) {
		device_id(g, root, "$distinct_id",
			  g->br[below(g->s, g->nbr)].device, 1);
	} else if (r < 15 && g->nserver > 0) {
		server_id(g, root, "$distinct_id", below(g->s, g->nserver));
	} else {
		user = some_user(g);
		user_id(g, root, "$distinct_id", user);
	}
	r = (unsigned)below(g->s, 100);
	if (r < 25)
		rec_int(&g->r, root, "$time", g->now);
	else if (r < 50)
		rec_int(&g->r, root, "$time", g->now / 1000);
	if (chance(g->s, 100000))
		rec_bool(&g->r, root, "$ignore_time", 1);
	if (chance(g->s, 200000))
		rec_strz(&g->r, root, "$ip", "203.0.113.7");
	profile_ops(g, root, user);
	emit(g);
	g->c.profile_updates += g->c.records - before;
}

/* ---- noise ---- */

/* A record every ingest must reject: malformed, or naming a bad id. */
static void
noise_record(struct gen *g)
{
	int kind = (int)below(g->s, 6), p;
	uint64_t before = g->c.records;
	char line[160];

	if (kind == 0 && g->o.format != IDG_FORMAT_MSGPACK) {
		/* A line cut short, as a crashed writer leaves it. */
		int n =
		    snprintf(line, sizeof line,
			     "{\"event\":\"Product View\",\"properties\":"
			     "{\"time\":%" PRId64 ",\"distinct_id\":\"cust_",
			     g->now);
		emit_raw_line(g, line, (size_t)n);
	} else if (kind <= 1) {
		p = event(g, "$mp_web_page_view");
		rec_strz(&g->r, p, "time", "yesterday");
		rec_strz(&g->r, p, "distinct_id", "cust_0000001");
		emit(g);
	} else if (kind == 2) {
		p = event(g, "");
		rec_int(&g->r, p, "time", g->now);
		rec_strz(&g->r, p, "distinct_id", "cust_0000001");
		emit(g);
	} else if (kind == 3) {
		begin(g);
		rec_strz(&g->r, -1, NULL, "not a record");
		emit(g);
	} else {
		p = event(g, kind == 4 ? "$mp_web_page_view" : "$identify");
		rec_int(&g->r, p, "time", g->now);
		rec_strz(&g->r, p, "distinct_id", PICK(g, forbidden_ids));
		if (kind == 5)
			rec_strf(&g->r, p, "$anon_distinct_id",
				 "$device:%08x-0000-4000-8000-000000000000",
				 (unsigned)below(g->s, 1u << 31));
		emit(g);
		g->c.forbidden += g->c.records - before;
		return;
	}
	g->c.malformed += g->c.records - before;
}

/* ------------------------------------------------------------------ */
/* Driving it                                                          */

static int
step(struct gen *g)
{
	unsigned r = (unsigned)below(g->s, 1000000);

	g->now += (int64_t)below(g->s, 5001);
	if (g->o.noise && g->c.records > 10 && r < 10000) {
		noise_record(g);
		return 0;
	}
	r = (unsigned)below(g->s, 1000000);
	if (r < 60000)
		profile_update(g);
	else if (r < 63000)
		server_alias(g);
	else if (r < 64000)
		server_merge(g);
	else
		return browser_step(g);
	return 0;
}

struct gen *
gen_new(const struct gen_opts *o)
{
	struct gen *g = calloc(1, sizeof(*g));
	uint64_t x;

	if (!g)
		return NULL;
	g->o = *o;
	x = o->seed;
	for (int k = 0; k < 4; k++)
		g->s[k] = splitmix64(&x);
	g->now = GEN_EPOCH_MS;
	return g;
}

int
gen_write(struct gen *g, FILE *out)
{
	long start = ftell(out), end;
	int rc = 0;

	g->out = out;
	if (g->o.format != IDG_FORMAT_MSGPACK &&
	    (g->jw = idg_jw_open(out)) == NULL)
		return IDG_ENOMEM;
	while (g->c.records < g->o.records && rc == 0 && g->err == 0)
		rc = step(g);
	if (g->jw) {
		int jrc = idg_jw_close(g->jw);

		g->jw = NULL;
		if (rc == 0)
			rc = jrc;
		/* The writer does not count its bytes: a seekable output
		 * tells them, a pipe leaves them 0. */
		end = ftell(out);
		if (start >= 0 && end >= start)
			g->c.bytes = (uint64_t)(end - start);
	}
	if (rc == 0)
		rc = g->err;
	if (rc == 0 && fflush(out) != 0)
		rc = IDG_EIO;
	return rc;
}

const struct gen_counts *
gen_counts(const struct gen *g)
{
	return &g->c;
}

void
gen_free(struct gen *g)
{
	if (!g)
		return;
	free(g->dev);
	free(g->br);
	free(g);
}
