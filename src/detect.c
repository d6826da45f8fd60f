/* Detection: per-actor (user + client IP) scoring of name rules and behaviour over a sliding window. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "canary.h"
#include "content.h"
#include "detect.h"
#include "rules.h"
#include "util.h"

#define ACTOR_BUCKETS	1024
#define RING_WRITES	256	/* recently written paths, for overwrite-then-rename */
#define RING_RENAMES	64	/* recent extension-changing renames */
#define RING_MUT	256	/* recent mutating event times, for first_event_at */
#define RING_SEEN	64	/* paths that already gave a name signal */
#define RING_READS	64	/* recently read files, for read-then-overwrite */
#define RING_COPIES	64	/* originals of recently created "name.ext.new" copies */
#define RING_DELETES	128	/* recent deletion times */

struct path_at {
	uint64_t h;
	int64_t at;
};

/*
 * Each ring holds at most RING_* entries and is grown to that on demand: most
 * actors touch a handful of files, and a storm of thousands of them must not
 * cost each the room of the busiest. Entry i of a ring that has seen n is at
 * i % RING_* (the first n while n is below it).
 */
struct actor_private {
	struct path_at *writes;
	size_t nwrites, capwrites;
	struct path_at *renames;		/* h = hash of the new extension */
	size_t nrenames, caprenames;
	int64_t *mut;
	size_t nmut, capmut;
	uint64_t *seen;
	size_t nseen, capseen;
	uint64_t burst_ext;			/* extension whose burst already fired */
	int64_t burst_at;
	struct path_at *reads;
	size_t nreads, capreads;
	struct path_at *copies;			/* h = hash of the path the copy was named after */
	size_t ncopies, capcopies;
	int64_t *deletes;
	size_t ndeletes, capdeletes;
	int64_t delete_burst_at;
};

/* Hash chain of actors by user + ip. */
struct actor_link {
	struct actor *a;
	struct actor_link *next;
};

struct detect {
	struct detect_cfg cfg;
	const struct rules *rules;
	const struct canary_set *canaries;
	const struct config *allow;
	struct actor_link *buckets[ACTOR_BUCKETS];
	struct actor *all;			/* every actor, most recently active first (detect_actors) */
	struct actor *tail;			/* ... and the least recently active */
	struct actor *last;			/* the actor of the previous event: most events come in runs */
	size_t nactors;
	uint64_t evicted;			/* actors forgotten by detect_trim */
};

/* The room a ring of at most max entries needs for its entry number n, having cap. */
static size_t
ring_room(size_t n, size_t cap, size_t max)
{
	size_t room;

	if (n < cap || cap >= max)
		return cap;
	room = cap ? cap * 2 : 8;
	return room > max ? max : room;
}

/* slot = where the next entry of ring p->name (at most max) goes; the ring grows first when full. */
#define RING_ADD(p, name, max, slot) do {					\
	size_t room_ = ring_room((p)->n##name, (p)->cap##name, (max));		\
									\
	if (room_ != (p)->cap##name) {						\
		(p)->name = xrealloc((p)->name, room_ * sizeof *(p)->name);	\
		(p)->cap##name = room_;						\
	}									\
	(slot) = &(p)->name[(p)->n##name++ % (max)];				\
} while (0)

static uint64_t
hash_bytes(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define HASH_SEED 0xcbf29ce484222325ULL

static uint64_t
hash_ext_lower(struct sw_str ext)
{
	uint64_t h = HASH_SEED;

	for (size_t i = 0; i < ext.n; i++) {
		unsigned char c = (unsigned char)ext.p[i];

		if (c >= 'A' && c <= 'Z')
			c += 32;
		h ^= c;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The extension of a base name: after the last dot, empty for dot-files and names without one. */
static struct sw_str
name_ext(struct sw_str base)
{
	const char *dot = base.n ? memrchr(base.p, '.', base.n) : NULL;
	struct sw_str e = { "", 0 };

	if (dot && dot != base.p) {
		e.p = dot + 1;
		e.n = base.n - (size_t)(e.p - base.p);
	}
	return e;
}

/* Extensions of scratch files that editors, browsers and copy tools rename to and from. */
static int
scratch_ext(struct sw_str e)
{
	static const char *const scratch[] = { "tmp", "temp", "bak", "old", "swp", "part", "partial",
	    "crdownload", "download", "wbk", "asd", "ffs_tmp", "filepart", "~" };

	for (size_t i = 0; i < nitems(scratch); i++)
		if (e.n == strlen(scratch[i]) && strncasecmp(e.p, scratch[i], e.n) == 0)
			return 1;
	return e.n > 0 && e.p[e.n - 1] == '~';
}

struct detect *
detect_new(const struct detect_cfg *cfg, const struct rules *rules)
{
	struct detect *d = xcalloc(1, sizeof *d);

	d->cfg = *cfg;
	d->rules = rules;
	return d;
}

static void
actor_clear_signals(struct actor *a)
{
	size_t n = a->nsig < ACTOR_SIGNALS ? a->nsig : ACTOR_SIGNALS;

	for (size_t i = 0; i < n; i++) {
		free(a->sig[i].path);
		a->sig[i].path = NULL;
	}
	a->nsig = 0;
	a->score = 0;
}

/* Forgets what the rings hold; their room is kept. */
static void
priv_clear(struct actor_private *p)
{
	p->nwrites = p->nrenames = p->nmut = p->nseen = p->nreads = p->ncopies = p->ndeletes = 0;
	p->burst_ext = 0;
	p->burst_at = p->delete_burst_at = 0;
}

static void
actor_free(struct actor *a)
{
	struct actor_private *p = a->priv;

	actor_clear_signals(a);
	free(a->sig);
	free(p->writes);
	free(p->renames);
	free(p->mut);
	free(p->seen);
	free(p->reads);
	free(p->copies);
	free(p->deletes);
	free(p);
	free(a);
}

void
detect_free(struct detect *d)
{
	struct actor *a, *next;

	if (d == NULL)
		return;
	for (size_t b = 0; b < ACTOR_BUCKETS; b++) {
		struct actor_link *l, *ln;

		for (l = d->buckets[b]; l; l = ln) {
			ln = l->next;
			free(l);
		}
	}
	for (a = d->all; a; a = next) {
		next = a->next;
		actor_free(a);
	}
	free(d);
}

struct actor *
detect_actors(struct detect *d)
{
	return d->all;
}

void
detect_actor_reset(struct actor *a)
{
	actor_clear_signals(a);
	priv_clear(a->priv);
	a->incident_id = 0;
	a->first_mut_at = a->last_mut_at = 0;
}

/*
 * The account part of a user name: "LAB\\alice", "alice@lab.test" and
 * "alice" all name alice (Samba's audit lines, smbstatus and clients use
 * each form; the directory compares names without case).
 */
static struct sw_str
account_base(const char *p, size_t n)
{
	struct sw_str v = { p, n };

	for (size_t i = n; i-- > 0;)
		if (p[i] == '\\') {
			v.p = p + i + 1;
			v.n = n - i - 1;
			break;
		}
	for (size_t i = 0; i < v.n; i++)
		if (v.p[i] == '@' && i > 0) {
			v.n = i;
			break;
		}
	return v;
}

static int
same_actor(const struct actor *a, const struct sw_event *ev)
{
	struct sw_str x = account_base(a->user, strlen(a->user)), y = account_base(ev->user.p, ev->user.n);

	return x.n == y.n && strncasecmp(x.p, y.p, x.n) == 0 &&
	    strlen(a->ip) == ev->ip.n && memcmp(a->ip, ev->ip.p, ev->ip.n) == 0;
}

/* One bucket for every form of a name: the account part, without case. */
static size_t
actor_bucket(const char *user, size_t ulen, const char *ip, size_t iplen)
{
	struct sw_str u = account_base(user, ulen);
	char low[128];
	size_t n = u.n < sizeof low ? u.n : sizeof low;

	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)u.p[i]);
	return hash_bytes(hash_bytes(HASH_SEED, low, n), ip, iplen) % ACTOR_BUCKETS;
}

static void
lru_unlink(struct detect *d, struct actor *a)
{
	if (a->prev)
		a->prev->next = a->next;
	else
		d->all = a->next;
	if (a->next)
		a->next->prev = a->prev;
	else
		d->tail = a->prev;
	a->prev = a->next = NULL;
}

static void
lru_push(struct detect *d, struct actor *a)
{
	a->prev = NULL;
	a->next = d->all;
	if (d->all)
		d->all->prev = a;
	else
		d->tail = a;
	d->all = a;
}

/* The actor of ev (made when new), now the most recently active one. */
static struct actor *
actor_get(struct detect *d, const struct sw_event *ev)
{
	struct actor *a = d->last;
	size_t b;

	if (a && same_actor(a, ev))
		goto found;
	b = actor_bucket(ev->user.p, ev->user.n, ev->ip.p, ev->ip.n);
	for (struct actor_link *l = d->buckets[b]; l; l = l->next)
		if (same_actor(l->a, ev)) {
			a = l->a;
			goto found;
		}
	a = xcalloc(1, sizeof *a);
	a->priv = xcalloc(1, sizeof *a->priv);
	str_copy(a->user, sizeof a->user, ev->user);
	str_copy(a->ip, sizeof a->ip, ev->ip);
	lru_push(d, a);
	d->nactors++;
	{
		struct actor_link *l = xmalloc(sizeof *l);

		l->a = a;
		l->next = d->buckets[b];
		d->buckets[b] = l;
	}
	goto done;
found:
	if (d->all != a) {
		lru_unlink(d, a);
		lru_push(d, a);
	}
done:
	if (ev->at_ms > a->last_at)
		a->last_at = ev->at_ms;
	return d->last = a;
}

/* Forgets an actor: its hash link, its place in the list, its memory. */
static void
actor_evict(struct detect *d, struct actor *a)
{
	struct actor_link **lp = &d->buckets[actor_bucket(a->user, strlen(a->user), a->ip, strlen(a->ip))];

	while (*lp && (*lp)->a != a)
		lp = &(*lp)->next;
	if (*lp) {
		struct actor_link *l = *lp;

		*lp = l->next;
		free(l);
	}
	if (d->last == a)
		d->last = NULL;
	lru_unlink(d, a);
	actor_free(a);
	d->nactors--;
	d->evicted++;
}

size_t
detect_trim(struct detect *d, size_t max, int64_t idle_before)
{
	struct actor *a, *prev;
	size_t n = 0;

	for (a = d->tail; a; a = prev) {
		prev = a->prev;
		if (d->nactors <= max && a->last_at >= idle_before)
			break;
		/* An actor with an incident, or one about to get it, is never forgotten. */
		if (a->incident_id != 0 || a->score >= d->cfg.incident_score)
			continue;
		actor_evict(d, a);
		n++;
	}
	return n;
}

void
detect_stats(const struct detect *d, size_t *actors, uint64_t *evicted)
{
	*actors = d->nactors;
	*evicted = d->evicted;
}

static int
seen_path(struct actor_private *p, uint64_t h)
{
	size_t n = p->nseen < RING_SEEN ? p->nseen : RING_SEEN;

	uint64_t *slot;

	for (size_t i = 0; i < n; i++)
		if (p->seen[i] == h)
			return 1;
	RING_ADD(p, seen, RING_SEEN, slot);
	*slot = h;
	return 0;
}

static struct actor_signal *
add_signal(struct actor *a, struct detect_verdict *v, const char *kind, double w, int64_t at,
    struct sw_str path, const char *detail)
{
	struct actor_signal *s;

	if (a->nsig >= a->sigcap && a->sigcap < ACTOR_SIGNALS) {
		size_t ncap = a->sigcap ? a->sigcap * 2 : 4, idx[nitems(v->sig)];

		if (ncap > ACTOR_SIGNALS)
			ncap = ACTOR_SIGNALS;
		/* The verdict points at this event's earlier signals: move them along. */
		for (int k = 0; k < v->nsig; k++)
			idx[k] = (size_t)(v->sig[k] - a->sig);
		a->sig = xrealloc(a->sig, ncap * sizeof *a->sig);
		memset(a->sig + a->sigcap, 0, (ncap - a->sigcap) * sizeof *a->sig);
		a->sigcap = ncap;
		for (int k = 0; k < v->nsig; k++)
			v->sig[k] = a->sig + idx[k];
	}
	s = &a->sig[a->nsig % ACTOR_SIGNALS];
	free(s->path);
	s->kind = kind;
	s->weight = w;
	s->at = at;
	s->path = xstrndup(path.p, path.n);
	s->pathlen = path.n;
	snprintf(s->detail, sizeof s->detail, "%s", detail ? detail : "");
	s->slow = 0;
	a->nsig++;
	if (v->nsig < (int)nitems(v->sig))
		v->sig[v->nsig++] = s;
	return s;
}

/*
 * Weak signals happen in ordinary work too (an editor reads then rewrites a
 * file; a cleanup deletes many). Each weak kind adds at most half the
 * incident score, so no single weak kind can open an incident alone: it takes
 * two kinds together, or one strong signal.
 */
static int
weak_kind(const char *kind)
{
	static const char *const weak[] = { "read_overwrite", "copy_delete", "delete_burst", "weak_note",
	    "overwrite_rename", "ransom_pattern", "ciphertext" };

	for (size_t i = 0; i < nitems(weak); i++)
		if (strcmp(kind, weak[i]) == 0)
			return 1;
	return 0;
}

/* The actor's score at now: the signals inside their windows, weak kinds capped. */
static double
window_score(const struct actor *a, int64_t now, int64_t window, int64_t slow_window, double incident)
{
	size_t n = a->nsig < ACTOR_SIGNALS ? a->nsig : ACTOR_SIGNALS;
	const char *kinds[ACTOR_SIGNALS];
	double sums[ACTOR_SIGNALS], total = 0;
	size_t nk = 0;

	for (size_t i = 0; i < n; i++) {
		const struct actor_signal *s = &a->sig[i];
		size_t k;

		if (s->at < now - (s->slow ? slow_window : window))
			continue;
		for (k = 0; k < nk && strcmp(kinds[k], s->kind) != 0; k++)
			;
		if (k == nk) {
			kinds[nk] = s->kind;
			sums[nk++] = 0;
		}
		sums[k] += s->weight;
	}
	for (size_t k = 0; k < nk; k++)
		total += weak_kind(kinds[k]) && sums[k] > incident / 2 ? incident / 2 : sums[k];
	return total;
}

/* Name rules on a name that the actor just created or renamed something to. */
static void
check_name(struct detect *d, struct actor *a, const struct sw_event *ev, struct sw_str path,
    struct detect_verdict *v)
{
	struct sw_str base = path_base(path);
	const char *pattern = NULL;
	char detail[128];
	enum rule_hit hit;

	if (base.n == 0)
		return;
	hit = rules_match(d->rules, base.p, base.n, &pattern);
	if (hit == HIT_NONE)
		return;
	if (seen_path(a->priv, hash_bytes(HASH_SEED, path.p, path.n)))
		return;
	snprintf(detail, sizeof detail, "matches %s", pattern ? pattern : "?");
	switch (hit) {
	case HIT_NOTE:
		add_signal(a, v, "ransom_note", d->cfg.w_note, ev->at_ms, path, detail);
		break;
	case HIT_NOTE_WEAK:
		add_signal(a, v, "weak_note", d->cfg.w_note_weak, ev->at_ms, path, detail);
		break;
	case HIT_EXT:
		add_signal(a, v, "ransom_extension", d->cfg.w_ext, ev->at_ms, path, detail);
		break;
	case HIT_WILDCARD:
		add_signal(a, v, "ransom_pattern", d->cfg.w_wildcard, ev->at_ms, path, detail);
		break;
	case HIT_NONE:
		break;
	}
}

static int
written_recently(struct actor_private *p, uint64_t h, int64_t since)
{
	size_t n = p->nwrites < RING_WRITES ? p->nwrites : RING_WRITES;

	for (size_t i = 0; i < n; i++)
		if (p->writes[i].h == h && p->writes[i].at >= since)
			return 1;
	return 0;
}

static void
note_write(struct actor_private *p, struct sw_str path, int64_t at)
{
	uint64_t h = hash_bytes(HASH_SEED, path.p, path.n);
	size_t last = (p->nwrites + RING_WRITES - 1) % RING_WRITES;

	struct path_at *w;

	/* Several write events for one file in a row are one write. */
	if (p->nwrites && p->writes[last].h == h) {
		p->writes[last].at = at;
		return;
	}
	RING_ADD(p, writes, RING_WRITES, w);
	w->h = h;
	w->at = at;
}

/* A rename that changes the extension: overwrite-then-rename and bursts of renames to one new extension. */
static void
check_rename(struct detect *d, struct actor *a, const struct sw_event *ev, struct detect_verdict *v)
{
	struct actor_private *p = a->priv;
	struct sw_str oldb = path_base(ev->path), newb = path_base(ev->path2);
	struct sw_str olde = name_ext(oldb), newe = name_ext(newb);
	int64_t since = ev->at_ms - d->cfg.window_ms;
	struct path_at *r;
	uint64_t eh;
	size_t n, same = 0;
	char detail[128], ext[48];

	if (ev->flags & EVF_DIR)
		return;
	if (newe.n == 0 || (olde.n == newe.n && hash_ext_lower(olde) == hash_ext_lower(newe)))
		return;
	/* Office-style saves rename through temp and backup names: that is not a new extension. */
	if (scratch_ext(olde) || scratch_ext(newe))
		return;
	/* .jpeg -> .jpg, .htm -> .html: renames to an ordinary extension are housekeeping. */
	if (rules_ordinary_ext(d->rules, newe.p, newe.n))
		return;
	str_copy(ext, sizeof ext, newe);
	/*
	 * Written under a name without an extension, then given one: a
	 * temporary file reaching its name (git's tmp_pack_XXXXXX, mkstemp).
	 * Ransomware renames the files it damaged, and those carry the user's
	 * extensions.
	 */
	if (olde.n > 0 && written_recently(p, hash_bytes(HASH_SEED, ev->path.p, ev->path.n), since)) {
		snprintf(detail, sizeof detail, "written then renamed to .%s", ext);
		add_signal(a, v, "overwrite_rename", d->cfg.w_overwrite_rename, ev->at_ms, ev->path2, detail);
	}
	eh = hash_ext_lower(newe);
	RING_ADD(p, renames, RING_RENAMES, r);
	r->h = eh;
	r->at = ev->at_ms;
	n = p->nrenames < RING_RENAMES ? p->nrenames : RING_RENAMES;
	for (size_t i = 0; i < n; i++)
		if (p->renames[i].h == eh && p->renames[i].at >= since)
			same++;
	if (d->cfg.rename_burst > 0 && same >= (size_t)d->cfg.rename_burst &&
	    !(p->burst_ext == eh && p->burst_at >= since)) {
		p->burst_ext = eh;
		p->burst_at = ev->at_ms;
		snprintf(detail, sizeof detail, "%zu renames to .%s within the window", same, ext);
		add_signal(a, v, "rename_burst", d->cfg.w_rename_burst, ev->at_ms, ev->path2, detail);
	}
}

static void
note_mutation(struct detect *d, struct actor *a, int64_t at)
{
	struct actor_private *p = a->priv;
	int64_t *slot;

	if (a->last_mut_at == 0 || at - a->last_mut_at > d->cfg.window_ms)
		a->first_mut_at = at;
	a->last_mut_at = at;
	RING_ADD(p, mut, RING_MUT, slot);
	*slot = at;
}

void
detect_set_canaries(struct detect *d, const struct canary_set *cs)
{
	d->canaries = cs;
}

void
detect_set_allow(struct detect *d, const struct config *cfg)
{
	d->allow = cfg;
}

static int
in_list_ci(char **list, size_t n, struct sw_str s)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == s.n && strncasecmp(list[i], s.p, s.n) == 0)
			return 1;
	return 0;
}

/* Allowlisted activity is journaled but never scored. */
static int
allowed(const struct detect *d, const struct sw_event *ev)
{
	const struct config *c = d->allow;

	if (c == NULL)
		return 0;
	if (in_list_ci(c->allow_users, c->n_allow_users, ev->user) ||
	    in_list_ci(c->allow_ips, c->n_allow_ips, ev->ip) ||
	    in_list_ci(c->allow_shares, c->n_allow_shares, ev->share))
		return 1;
	for (size_t i = 0; i < c->n_allow_paths; i++) {
		size_t n = strlen(c->allow_paths[i]);

		if (n && ev->path.n >= n && memcmp(ev->path.p, c->allow_paths[i], n) == 0 &&
		    (ev->path.n == n || ev->path.p[n] == '/' || c->allow_paths[i][n - 1] == '/'))
			return 1;
	}
	return 0;
}

static int
ring_has(const struct path_at *ring, size_t count, size_t size, uint64_t h, int64_t since)
{
	size_t n = count < size ? count : size;

	for (size_t i = 0; i < n; i++)
		if (ring[i].h == h && ring[i].at >= since)
			return 1;
	return 0;
}

#define RING_PUT(p, name, max, hash, when) do {				\
	struct path_at *e_;							\
									\
	RING_ADD(p, name, max, e_);						\
	e_->h = (hash);								\
	e_->at = (when);							\
} while (0)

static void
check_canary(struct detect *d, struct actor *a, const struct sw_event *ev, struct sw_str path,
    struct detect_verdict *v)
{
	if (d->canaries == NULL || path.n == 0 || !canary_is(d->canaries, path.p, path.n))
		return;
	/* One signal per canary and kind of touch: a write is often logged twice (send and receive). */
	if (seen_path(a->priv, hash_bytes(HASH_SEED ^ (0x100u + (unsigned)ev->op), path.p, path.n)))
		return;
	add_signal(a, v, "canary", d->cfg.w_canary, ev->at_ms, path, op_name(ev->op));
}

/*
 * "report.docx.locked" created: remember "report.docx" in the same folder, so
 * deleting that original soon after is an encrypted copy replacing it. Not
 * for copies under a scratch or ordinary extension: "Passwords.kdbx.tmp"
 * (KeePass), "report.docx.ffs_tmp" (FreeFileSync) and "report.docx.partial"
 * take the original's place by a rename, and "report.docx.pdf" (a PDF
 * printer) is the document converted. Ransomware names its copies with an
 * extension of its own.
 */
static void
note_copy(const struct detect *d, struct actor_private *p, struct sw_str path, int64_t at)
{
	struct sw_str base = path_base(path);
	const char *dot = base.n ? memrchr(base.p, '.', base.n) : NULL;
	struct sw_str ext;

	if (dot == NULL || dot == base.p || memchr(base.p, '.', (size_t)(dot - base.p)) == NULL)
		return;
	ext = name_ext(base);
	if (scratch_ext(ext) || rules_ordinary_ext(d->rules, ext.p, ext.n))
		return;
	RING_PUT(p, copies, RING_COPIES, hash_bytes(HASH_SEED, path.p, (size_t)(dot - path.p)), at);
}

static void
check_delete(struct detect *d, struct actor *a, const struct sw_event *ev, struct detect_verdict *v)
{
	struct actor_private *p = a->priv;
	int64_t since = ev->at_ms - d->cfg.window_ms;
	size_t n, count = 0;
	int64_t *slot;

	if (ring_has(p->copies, p->ncopies, RING_COPIES, hash_bytes(HASH_SEED, ev->path.p, ev->path.n), since))
		add_signal(a, v, "copy_delete", d->cfg.w_copy_delete, ev->at_ms, ev->path,
		    "deleted after a copy named after it was written");
	RING_ADD(p, deletes, RING_DELETES, slot);
	*slot = ev->at_ms;
	n = p->ndeletes < RING_DELETES ? p->ndeletes : RING_DELETES;
	for (size_t i = 0; i < n; i++)
		if (p->deletes[i] >= since)
			count++;
	if (d->cfg.delete_burst > 0 && count >= (size_t)d->cfg.delete_burst && p->delete_burst_at < since) {
		char detail[128];

		p->delete_burst_at = ev->at_ms;
		snprintf(detail, sizeof detail, "%zu deletions within the window", count);
		add_signal(a, v, "delete_burst", d->cfg.w_delete_burst, ev->at_ms, ev->path, detail);
	}
}

static void
finish(struct detect *d, struct actor *a, int64_t at, struct detect_verdict *v)
{
	if (v->nsig == 0)
		return;
	a->score = window_score(a, at, d->cfg.window_ms, d->cfg.slow_window_ms, d->cfg.incident_score);
	if (a->incident_id == 0 && a->score >= d->cfg.incident_score)
		v->crossed = 1;
}

void
detect_feed(struct detect *d, const struct sw_event *ev, struct detect_verdict *v)
{
	struct actor *a;

	v->actor = NULL;
	v->nsig = 0;
	v->crossed = 0;
	if (ev->user.n == 0 || !ev->ok)
		return;
	switch (ev->op) {
	case OP_OPEN:
		/* Reads matter only as the first half of read-then-overwrite. */
		if (ev->flags & (EVF_WRITE | EVF_DIR) || allowed(d, ev))
			return;
		a = actor_get(d, ev);
		RING_PUT(a->priv, reads, RING_READS, hash_bytes(HASH_SEED, ev->path.p, ev->path.n), ev->at_ms);
		return;
	case OP_CREATE:
	case OP_WRITE:
	case OP_RENAME:
	case OP_UNLINK:
	case OP_MKDIR:
		break;
	default:
		return;		/* connects, closes and metadata carry no evidence */
	}
	if (!op_mutates(ev) || allowed(d, ev))
		return;
	a = actor_get(d, ev);
	v->actor = a;
	a->pid = ev->pid;
	if (ev->host.n)
		str_copy(a->host, sizeof a->host, ev->host);
	note_mutation(d, a, ev->at_ms);
	switch (ev->op) {
	case OP_CREATE:
		if (ev->flags & EVF_DIR)
			break;
		check_canary(d, a, ev, ev->path, v);
		check_name(d, a, ev, ev->path, v);
		if ((ev->flags & EVF_TRUNC) && ring_has(a->priv->reads, a->priv->nreads, RING_READS,
		    hash_bytes(HASH_SEED, ev->path.p, ev->path.n), ev->at_ms - d->cfg.window_ms) &&
		    !seen_path(a->priv, hash_bytes(HASH_SEED ^ 1, ev->path.p, ev->path.n)))
			add_signal(a, v, "read_overwrite", d->cfg.w_read_overwrite, ev->at_ms, ev->path,
			    "read, then overwritten in place");
		if (ev->flags & EVF_NEWFILE)
			note_copy(d, a->priv, ev->path, ev->at_ms);
		break;
	case OP_WRITE:
		note_write(a->priv, ev->path, ev->at_ms);
		check_canary(d, a, ev, ev->path, v);
		check_name(d, a, ev, ev->path, v);
		break;
	case OP_RENAME:
		check_canary(d, a, ev, ev->path, v);
		check_name(d, a, ev, ev->path2, v);
		check_rename(d, a, ev, v);
		break;
	case OP_UNLINK:
		check_canary(d, a, ev, ev->path, v);
		check_delete(d, a, ev, v);
		break;
	default:
		break;
	}
	finish(d, a, ev->at_ms, v);
}

void
detect_canary(struct detect *d, const struct sw_event *ev, struct detect_verdict *v)
{
	struct actor *a;

	v->actor = NULL;
	v->nsig = 0;
	v->crossed = 0;
	if (ev->user.n == 0 || !ev->ok || d->canaries == NULL || ev->path.n == 0)
		return;
	switch (ev->op) {
	case OP_CREATE:
	case OP_WRITE:
	case OP_RENAME:
	case OP_UNLINK:
		break;
	default:
		return;
	}
	if ((ev->flags & EVF_DIR) || !canary_is(d->canaries, ev->path.p, ev->path.n) || allowed(d, ev))
		return;
	a = actor_get(d, ev);
	v->actor = a;
	a->pid = ev->pid;
	check_canary(d, a, ev, ev->path, v);
	finish(d, a, ev->at_ms, v);
}

void
detect_content(struct detect *d, const struct sw_event *ev, int verdict, const char *detail,
    struct detect_verdict *v)
{
	struct sw_str ext, base;
	struct actor *a;
	const char *kind;
	double w;

	v->actor = NULL;
	v->nsig = 0;
	v->crossed = 0;
	if (ev->user.n == 0 || allowed(d, ev))
		return;
	switch (verdict) {
	case CV_FORMAT_BROKEN:
		kind = "format_broken", w = d->cfg.w_format_broken;
		break;
	case CV_TEXT_BROKEN:
		kind = "text_broken", w = d->cfg.w_format_broken;
		break;
	case CV_PARTIAL:
		kind = "partial_encryption", w = d->cfg.w_format_broken;
		break;
	case CV_CIPHERTEXT:
		/* Random bytes under an ordinary extension (.o, .bin, .dat) are what such files hold. */
		base = path_base(ev->path);
		ext = name_ext(base);
		if (ext.n && rules_ordinary_ext(d->rules, ext.p, ext.n))
			return;
		kind = "ciphertext", w = d->cfg.w_ciphertext;
		break;
	default:
		return;
	}
	a = actor_get(d, ev);
	v->actor = a;
	if (seen_path(a->priv, hash_bytes(HASH_SEED ^ 2, ev->path.p, ev->path.n)))
		return;
	add_signal(a, v, kind, w, ev->at_ms, ev->path, detail)->slow = 1;
	finish(d, a, ev->at_ms, v);
}

int64_t
detect_first_event_at(const struct detect *d, const struct actor *a)
{
	const struct actor_private *p = a->priv;
	size_t n = a->nsig < ACTOR_SIGNALS ? a->nsig : ACTOR_SIGNALS;
	size_t nm = p->nmut < RING_MUT ? p->nmut : RING_MUT;
	int64_t first_sig = 0, from, best = 0;

	for (size_t i = 0; i < n; i++)
		if (first_sig == 0 || a->sig[i].at < first_sig)
			first_sig = a->sig[i].at;
	if (first_sig == 0)
		return a->first_mut_at;
	/* The evidence arrives after the damage started: look back one window from the first signal. */
	from = first_sig - d->cfg.window_ms;
	for (size_t i = 0; i < nm; i++)
		if (p->mut[i] >= from && (best == 0 || p->mut[i] < best))
			best = p->mut[i];
	if (best == 0 || best > first_sig)
		best = first_sig;
	if (a->first_mut_at > best)
		best = a->first_mut_at;
	return best;
}
