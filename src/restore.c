/* Surgical restore: the incident actor's changes followed back to the snapshot, planned, journaled, applied, verified. */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "canary.h"
#include "config.h"
#include "fs.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "restore.h"
#include "snapshot.h"
#include "util.h"

/* A plan item's state and kind names, as journaled. */
#define ST_PENDING	"pending"
#define ST_DONE		"done"
#define ST_FAILED	"failed"
#define ST_SKIPPED	"skipped"

/* Commit item states at least this often, so a kill loses little. */
#define COMMIT_ITEMS	1000
#define COMMIT_MS	1000
/* How long a restore waits for the daemon to journal every event up to the containment. */
#define RESTORE_WAIT_MS	30000

/* ---- A small open-addressing hash map on byte-string keys (the planner's only index). ---- */

struct hent {
	char *key;		/* owned; NULL = empty, TOMB = deleted */
	size_t klen;
	uint64_t h;
	void *val;
};

struct hmap {
	struct hent *tab;
	size_t cap;		/* a power of two */
	size_t used;		/* live + tombstones */
	size_t live;
};

static char tomb_key;
#define TOMB (&tomb_key)

static uint64_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *u = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= u[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

static void hmap_grow(struct hmap *m);

/* The slot of key, or of where it would go (an empty slot) when absent. */
static struct hent *
hmap_slot(struct hmap *m, const char *key, size_t klen, uint64_t h, int for_insert)
{
	struct hent *tomb = NULL;
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct hent *e = &m->tab[i];

		if (e->key == NULL)
			return for_insert && tomb ? tomb : e;
		if (e->key == TOMB) {
			if (tomb == NULL)
				tomb = e;
			continue;
		}
		if (e->h == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	}
}

static void *
hmap_get(struct hmap *m, const char *key, size_t klen)
{
	struct hent *e = hmap_slot(m, key, klen, hash_bytes(key, klen), 0);

	return e && e->key && e->key != TOMB ? e->val : NULL;
}

/* The entry of key, added with val NULL when absent; *added tells which. */
static struct hent *
hmap_put(struct hmap *m, const char *key, size_t klen, int *added)
{
	uint64_t h = hash_bytes(key, klen);
	struct hent *e;

	if ((m->used + 1) * 4 >= m->cap * 3)
		hmap_grow(m);
	e = hmap_slot(m, key, klen, h, 0);
	if (e->key != NULL) {
		if (added)
			*added = 0;
		return e;
	}
	e = hmap_slot(m, key, klen, h, 1);
	if (e->key == NULL)
		m->used++;
	e->key = xmalloc(klen + 1);
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->klen = klen;
	e->h = h;
	e->val = NULL;
	m->live++;
	if (added)
		*added = 1;
	return e;
}

static void
hmap_del(struct hmap *m, const char *key, size_t klen)
{
	struct hent *e = hmap_slot(m, key, klen, hash_bytes(key, klen), 0);

	if (e == NULL || e->key == NULL || e->key == TOMB)
		return;
	free(e->key);
	e->key = TOMB;
	e->val = NULL;
	m->live--;
}

static void
hmap_grow(struct hmap *m)
{
	struct hmap n = { 0 };

	n.cap = m->cap ? m->cap : 64;
	while (m->live * 2 >= n.cap)
		n.cap *= 2;
	if (n.cap == m->cap && m->used - m->live < m->cap / 4)
		n.cap *= 2;
	n.tab = xcalloc(n.cap, sizeof(*n.tab));
	for (size_t i = 0; i < m->cap; i++) {
		struct hent *e = &m->tab[i], *d;

		if (e->key == NULL || e->key == TOMB)
			continue;
		d = hmap_slot(&n, e->key, e->klen, e->h, 1);
		*d = *e;
		n.used++;
		n.live++;
	}
	free(m->tab);
	*m = n;
}

static void
hmap_free(struct hmap *m, int free_vals)
{
	for (size_t i = 0; i < m->cap; i++) {
		if (m->tab[i].key == NULL || m->tab[i].key == TOMB)
			continue;
		if (free_vals)
			free(m->tab[i].val);
		free(m->tab[i].key);
	}
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

/* ---- A growable string. ---- */

struct sbuf {
	char *p;
	size_t n, cap;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static char *
str_cat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = xmalloc(na + nb + 1);

	memcpy(s, a, na);
	memcpy(s + na, b, nb + 1);
	return s;
}

/* ---- The namespace as the actor's events changed it: one node per name seen, renames move nodes. ---- */

struct node {
	struct node *parent;
	char *key;		/* owned: parent pointer bytes + name, the node table's key */
	size_t klen;
	char *origin;		/* the name the object had at the cut; NULL = parent's origin + "/" + name */
	unsigned produced : 1;	/* the actor created, wrote or renamed into it, and it is still there */
	unsigned detached : 1;	/* displaced by a rename over it: no longer in the namespace */
	unsigned isdir : 1;
};

#define NODE_NAME(n)	((n)->key + sizeof(struct node *))
#define NODE_NAMELEN(n)	((n)->klen - sizeof(struct node *))

struct tree {
	struct node root;
	struct hmap names;	/* (parent, name) -> node */
	struct hmap origins;	/* materialized origin -> node (the first object that had it) */
	struct node **all;
	size_t n, cap;
};

static size_t
node_key(char *buf, size_t bufsz, const struct node *parent, const char *name, size_t namelen)
{
	if (sizeof(parent) + namelen > bufsz)
		namelen = bufsz - sizeof(parent);
	memcpy(buf, &parent, sizeof(parent));
	memcpy(buf + sizeof(parent), name, namelen);
	return sizeof(parent) + namelen;
}

static struct node *
tree_child(struct tree *t, struct node *parent, const char *name, size_t namelen, int create)
{
	char key[4096 + sizeof(struct node *)];
	size_t klen = node_key(key, sizeof(key), parent, name, namelen);
	struct hent *e;
	struct node *n;
	int added;

	if (!create)
		return hmap_get(&t->names, key, klen);
	e = hmap_put(&t->names, key, klen, &added);
	if (!added)
		return e->val;
	n = xcalloc(1, sizeof(*n));
	n->parent = parent;
	n->key = xmalloc(klen);
	memcpy(n->key, key, klen);
	n->klen = klen;
	e->val = n;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->all = xrealloc(t->all, t->cap * sizeof(*t->all));
	}
	t->all[t->n++] = n;
	return n;
}

/*
 * The node of path. create: make the missing ones. Otherwise *rest gets the
 * part of path below the deepest node found (NULL when all were found).
 */
static struct node *
tree_walk(struct tree *t, const char *path, int create, const char **rest)
{
	struct node *cur = &t->root, *next;
	const char *p = path, *e;

	if (rest)
		*rest = NULL;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return cur;
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		next = tree_child(t, cur, p, (size_t)(e - p), create);
		if (next == NULL) {
			if (rest)
				*rest = p;
			return cur;
		}
		cur = next;
		p = e;
	}
}

static void
node_origin_sb(const struct node *n, struct sbuf *b)
{
	if (n->origin) {
		sb_add(b, n->origin, strlen(n->origin));
		return;
	}
	if (n->parent == NULL)
		return;
	node_origin_sb(n->parent, b);
	sb_add(b, "/", 1);
	sb_add(b, NODE_NAME(n), NODE_NAMELEN(n));
}

static char *
node_origin(const struct node *n)
{
	struct sbuf b = { 0 };

	sb_add(&b, "", 0);
	node_origin_sb(n, &b);
	return b.p;
}

/* The node's current path, or NULL when it or a parent was displaced. */
static char *
node_path(const struct node *n)
{
	const struct node *c;
	struct sbuf b = { 0 };
	size_t depth = 0, i;
	const struct node **chain;

	for (c = n; c->parent; c = c->parent) {
		if (c->detached)
			return NULL;
		depth++;
	}
	chain = xmalloc((depth + 1) * sizeof(*chain));
	for (i = depth, c = n; c->parent; c = c->parent)
		chain[--i] = c;
	sb_add(&b, "", 0);
	for (i = 0; i < depth; i++) {
		sb_add(&b, "/", 1);
		sb_add(&b, NODE_NAME(chain[i]), NODE_NAMELEN(chain[i]));
	}
	free(chain);
	return b.p;
}

/* Fixes the node's origin before it moves (its descendants keep deriving theirs from it). */
static void
node_materialize(struct tree *t, struct node *n)
{
	struct hent *e;
	int added;

	if (n->origin)
		return;
	n->origin = node_origin(n);
	e = hmap_put(&t->origins, n->origin, strlen(n->origin), &added);
	if (added)
		e->val = n;
}

/* The origin of path as the tree knows it now, without adding nodes. */
static char *
tree_resolve(struct tree *t, const char *path)
{
	const char *rest;
	struct node *n = tree_walk(t, path, 0, &rest);
	struct sbuf b = { 0 };

	sb_add(&b, "", 0);
	node_origin_sb(n, &b);
	if (rest) {
		sb_add(&b, "/", 1);
		sb_add(&b, rest, strlen(rest));
	}
	return b.p;
}

/* Moves n to path (its new parent created as needed); the node already there is displaced. */
static void
tree_move(struct tree *t, struct node *n, const char *path, struct node **displaced)
{
	const char *base = strrchr(path, '/');
	char *dir = xstrndup(path, base ? (size_t)(base - path) : 0);
	struct node *np, *old;
	char key[4096 + sizeof(struct node *)];
	size_t klen, namelen;
	struct hent *e;

	base = base ? base + 1 : path;
	namelen = strlen(base);
	np = tree_walk(t, dir, 1, NULL);
	free(dir);
	*displaced = NULL;
	old = tree_child(t, np, base, namelen, 0);
	if (old == n)
		return;
	if (old) {
		node_materialize(t, old);
		old->detached = 1;
		hmap_del(&t->names, old->key, old->klen);
	}
	*displaced = old;
	/* a folder moved into its own subtree would loop: the kernel refuses it, so do we */
	for (struct node *c = np; c; c = c->parent)
		if (c == n)
			return;
	hmap_del(&t->names, n->key, n->klen);
	klen = node_key(key, sizeof(key), np, base, namelen);
	free(n->key);
	n->key = xmalloc(klen);
	memcpy(n->key, key, klen);
	n->klen = klen;
	n->parent = np;
	n->detached = 0;
	e = hmap_put(&t->names, key, klen, NULL);
	e->val = n;
}

static void
tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->all[i]->key);
		free(t->all[i]->origin);
		free(t->all[i]);
	}
	free(t->all);
	hmap_free(&t->names, 0);
	hmap_free(&t->origins, 0);
}

/* The current path of the object that was origin at the cut, or NULL when it is gone (malloc'd). */
static char *
tree_current(struct tree *t, const char *origin)
{
	struct node *n = hmap_get(&t->origins, origin, strlen(origin));
	const char *slash;
	char *parent, *pc, *r;
	struct node *c;

	if (n)
		return node_path(n);
	slash = strrchr(origin, '/');
	if (slash == NULL || slash == origin)
		return xstrdup(origin);
	parent = xstrndup(origin, (size_t)(slash - origin));
	pc = tree_current(t, parent);
	free(parent);
	if (pc == NULL)
		return NULL;
	r = str_cat(pc, slash);
	free(pc);
	/* a node at that name with another origin means another object took the name */
	c = tree_walk(t, r, 0, NULL);
	if (c && c != &t->root && strcmp(r, "") != 0) {
		const char *rest;

		tree_walk(t, r, 0, &rest);
		if (rest == NULL) {
			char *o = node_origin(c);
			int same = strcmp(o, origin) == 0;

			free(o);
			if (!same) {
				free(r);
				return NULL;
			}
		}
	}
	return r;
}

/* ---- The planner. ---- */

/* How the actor first touched an origin. */
enum first_op { FIRST_NONE, FIRST_CREATE, FIRST_MKDIR, FIRST_WRITE, FIRST_UNLINK, FIRST_RENAME, FIRST_OVER };

struct orec {
	char *origin;		/* owned, absolute */
	enum first_op first;
	int expanded;		/* not touched: inside a folder the actor renamed or deleted */
	char **produced;	/* the actor's live names of this object (owned) */
	size_t nproduced, capproduced;
	int planned;
};

/* One share's side of the restore: the live root and the clean snapshot. */
struct sharectx {
	const struct share *sh;
	size_t pathlen;
	const struct snap_backend *be;
	struct snap_info *snaps;
	size_t nsnaps;
	const struct snap_info *snap;	/* the newest before the cut, or NULL */
	char why[256];			/* why there is no backend or no list */
	char root[4096];		/* the snapshot's view of the share root */
	int rootfd;			/* live share root */
	int snapfd;			/* snapshot root, -1 when unreadable */
	int used;
};

/* A removal the planner wants: decided only once every restore target is known. */
struct premove {
	struct sharectx *sc;		/* the share of the original it came from */
	char *path;			/* owned */
	char *origin;			/* owned, or NULL */
	char why[256];
};

/* A plan item while planning: the journal's record plus how to order and show it. */
struct pitem {
	struct restore_item it;
	int phase;			/* 0 mkdir, 1 restore/keep_both, 2 remove, 3 rmdir, 4 dirmeta, 5 unrestorable */
	int depth;
	size_t order;
	struct sharectx *sc;
};

struct plan {
	const struct config *cfg;
	struct incident inc;
	int64_t cut;
	struct sharectx *sc;
	size_t nsc;
	struct event_rec *ev;
	size_t nev;
	struct tree tree;
	struct hmap orecs;		/* origin -> struct orec */
	struct orec **olist;		/* in the order found (the worklist) */
	size_t nolist, capolist;
	struct hmap others;		/* path or origin touched by another actor after the cut -> its event */
	struct hmap pre;		/* path touched by anyone before the cut -> latest event */
	struct hmap targets;		/* live paths the plan writes (never removed) */
	struct hmap mkdirs;		/* relative folders checked or planned, per share ("i:rel") */
	struct hmap unrestorable;	/* unrestorable origins and their produced names */
	struct canary_set *canaries;
	struct pitem *items;
	size_t nitems, capitems;
	struct premove *rm;		/* removals waiting for every target (plan_removals) */
	size_t nrm, caprm;
	size_t badpaths;		/* the actor's events whose paths were not canonical: ignored */
	size_t swept;			/* the actor's names no event told of, found in its folders */
	size_t unexplained;		/* new names in the actor's folders that no one's events explain */
	size_t swept_gone;		/* names gone from the actor's folders that no event explains: restored */
	struct sbuf notes;		/* "leave" lines: produced names kept, and why */
	size_t nleft;
	size_t nleft_in;		/* of them, names inside a share: the share is not fully back */
	char *buf;			/* hashing buffer */
};

static int
depth_of(const char *p)
{
	int d = 0;

	for (; *p; p++)
		if (*p == '/')
			d++;
	return d;
}

static struct sharectx *
share_of(struct plan *pl, const char *path)
{
	struct sharectx *best = NULL;
	size_t n = strlen(path);

	for (size_t i = 0; i < pl->nsc; i++) {
		struct sharectx *s = &pl->sc[i];
		size_t l = s->pathlen;

		if (l == 1 && path[0] == '/') {
			if (best == NULL)
				best = s;
			continue;
		}
		if (n >= l && memcmp(path, s->sh->path, l) == 0 && (path[l] == '/' || path[l] == '\0') &&
		    (best == NULL || l > best->pathlen))
			best = s;
	}
	return best;
}

/* The part of path below the share root ("" for the root itself). */
static const char *
share_rel(const struct sharectx *sc, const char *path)
{
	const char *r = path + (sc->pathlen == 1 ? 1 : sc->pathlen);

	while (*r == '/')
		r++;
	return r;
}

static void
print_loc(FILE *out, const struct sharectx *sc, const char *path)
{
	const char *rel = share_rel(sc, path);

	fput_escaped(out, sc->sh->name, strlen(sc->sh->name));
	fputc(':', out);
	fput_escaped(out, rel, strlen(rel));
}

static struct orec *
orec_get(struct plan *pl, const char *origin, int create)
{
	struct hent *e;
	struct orec *r;
	int added;

	if (!create)
		return hmap_get(&pl->orecs, origin, strlen(origin));
	e = hmap_put(&pl->orecs, origin, strlen(origin), &added);
	if (!added)
		return e->val;
	r = xcalloc(1, sizeof(*r));
	r->origin = xstrdup(origin);
	e->val = r;
	if (pl->nolist == pl->capolist) {
		pl->capolist = pl->capolist ? pl->capolist * 2 : 256;
		pl->olist = xrealloc(pl->olist, pl->capolist * sizeof(*pl->olist));
	}
	pl->olist[pl->nolist++] = r;
	return r;
}

static void
orec_touch(struct plan *pl, const char *origin, enum first_op op)
{
	struct orec *r = orec_get(pl, origin, 1);

	if (r->first == FIRST_NONE)
		r->first = op;
}

static void
orec_produced(struct orec *r, const char *path)
{
	if (r->nproduced == r->capproduced) {
		r->capproduced = r->capproduced ? r->capproduced * 2 : 2;
		r->produced = xrealloc(r->produced, r->capproduced * sizeof(*r->produced));
	}
	r->produced[r->nproduced++] = xstrdup(path);
}

/* Remembers the first event on path (keep_latest: the latest instead). */
static void
note_event(struct hmap *m, const char *path, struct event_rec *e, int keep_latest)
{
	struct hent *h;

	if (path == NULL || *path == '\0')
		return;
	h = hmap_put(m, path, strlen(path), NULL);
	if (h->val == NULL || (keep_latest && ((struct event_rec *)h->val)->at <= e->at))
		h->val = e;
}

/*
 * Whether p is an absolute path as the kernel reports one: no empty, "." or
 * ".." name, none longer than NAME_MAX. Only such paths of the actor's may
 * decide what the restore writes or removes.
 */
static int
path_canonical(const char *p)
{
	const char *c, *e;
	size_t n;

	if (p == NULL || p[0] != '/' || strlen(p) >= PATH_MAX)
		return 0;
	if (p[1] == '\0')
		return 1;
	for (c = p + 1;; c = e + 1) {
		e = strchr(c, '/');
		n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0 || n > NAME_MAX || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (e == NULL)
			return 1;
	}
}

/* p with empty and "." names dropped and ".." applied (malloc'd), or NULL when it climbs above "/". */
static char *
path_lexical(const char *p)
{
	char *out = xmalloc(strlen(p) + 2);
	size_t o = 0, n;
	const char *c = p, *e;

	for (;;) {
		while (*c == '/')
			c++;
		if (*c == '\0')
			break;
		e = strchr(c, '/');
		n = e ? (size_t)(e - c) : strlen(c);
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (o == 0) {
				free(out);
				return NULL;
			}
			while (o > 0 && out[o - 1] != '/')
				o--;
			o--;
		} else if (!(n == 1 && c[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, c, n);
			o += n;
		}
		c += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

/* Someone else touched path: remember it as written and as the kernel would name it. */
static void
note_other(struct plan *pl, const char *path, struct event_rec *e)
{
	char *o, *lex;

	if (path == NULL || *path == '\0')
		return;
	note_event(&pl->others, path, e, 0);
	o = tree_resolve(&pl->tree, path);
	if (strcmp(o, path) != 0)
		note_event(&pl->others, o, e, 0);
	free(o);
	if (!path_canonical(path) && (lex = path_lexical(path)) != NULL) {
		note_event(&pl->others, lex, e, 0);
		o = tree_resolve(&pl->tree, lex);
		note_event(&pl->others, o, e, 0);
		free(o);
		free(lex);
	}
}

/* Follows the actor's events from the cut on: origins touched, names produced, renames resolved. */
static void
plan_events(struct plan *pl)
{
	struct tree *t = &pl->tree;

	for (size_t i = 0; i < pl->nev; i++) {
		struct event_rec *e = &pl->ev[i];
		int actor;
		struct node *n, *d;
		char *o, *o2;

		if (!e->ok)
			continue;
		/*
		 * A kernel create journaled beside the audit line is stamped when it was read, which
		 * may be a moment before the line that opened the window: before the cut it says nothing.
		 */
		if ((e->flags & EVF_WITNESS) && e->at < pl->cut)
			continue;
		if (e->at < pl->cut) {
			note_event(&pl->pre, e->path, e, 1);
			note_event(&pl->pre, e->path2, e, 1);
			continue;
		}
		actor = strcmp(e->user, pl->inc.user) == 0 && strcmp(e->ip, pl->inc.ip) == 0;
		if (!actor) {
			note_other(pl, e->path, e);
			note_other(pl, e->path2, e);
			continue;
		}
		/* "..", "//" or a name too long: not a path the kernel reports, so not one to act on */
		if (!path_canonical(e->path) || (strcmp(e->op, "rename") == 0 && e->path2 && *e->path2 &&
		    !path_canonical(e->path2))) {
			pl->badpaths++;
			continue;
		}
		if (strcmp(e->op, "create") == 0 || strcmp(e->op, "mkdir") == 0 || strcmp(e->op, "write") == 0) {
			enum first_op f = FIRST_WRITE;

			if (strcmp(e->op, "mkdir") == 0)
				f = FIRST_MKDIR;
			else if (strcmp(e->op, "create") == 0 && (e->flags & EVF_NEWFILE))
				f = (e->flags & EVF_DIR) ? FIRST_MKDIR : FIRST_CREATE;
			n = tree_walk(t, e->path, 1, NULL);
			if (n == &t->root)
				continue;
			o = node_origin(n);
			orec_touch(pl, o, f);
			free(o);
			n->produced = 1;
			if (f == FIRST_MKDIR || (e->flags & EVF_DIR))
				n->isdir = 1;
		} else if (strcmp(e->op, "unlink") == 0) {
			n = tree_walk(t, e->path, 1, NULL);
			if (n == &t->root)
				continue;
			o = node_origin(n);
			orec_touch(pl, o, FIRST_UNLINK);
			free(o);
			n->produced = 0;
		} else if (strcmp(e->op, "rename") == 0 && e->path2 && *e->path2) {
			n = tree_walk(t, e->path, 1, NULL);
			if (n == &t->root)
				continue;
			node_materialize(t, n);
			orec_touch(pl, n->origin, FIRST_RENAME);
			/* whatever had the new name is displaced, whether or not an event named it before */
			o2 = tree_resolve(t, e->path2);
			if (strcmp(o2, n->origin) != 0)
				orec_touch(pl, o2, FIRST_OVER);
			free(o2);
			tree_move(t, n, e->path2, &d);
			n->produced = 1;
		}
	}
	if (pl->badpaths)
		log_warnx("restore: %zu events of the actor with a path that is not canonical were ignored",
		    pl->badpaths);
	/* every produced name still in the namespace, under the origin it came from */
	for (size_t i = 0; i < t->n; i++) {
		struct node *n = t->all[i];
		struct orec *r;
		char *p, *o;

		if (!n->produced || (p = node_path(n)) == NULL)
			continue;
		o = node_origin(n);
		r = orec_get(pl, o, 1);
		if (r->first == FIRST_NONE)
			r->first = FIRST_WRITE;
		orec_produced(r, p);
		free(o);
		free(p);
	}
}

static struct event_rec *
other_touch(struct plan *pl, const char *path)
{
	return hmap_get(&pl->others, path, strlen(path));
}

static struct pitem *
item_add(struct plan *pl, struct sharectx *sc, const char *kind, int phase, const char *path)
{
	struct pitem *p;

	if (pl->nitems == pl->capitems) {
		pl->capitems = pl->capitems ? pl->capitems * 2 : 256;
		pl->items = xrealloc(pl->items, pl->capitems * sizeof(*pl->items));
	}
	p = &pl->items[pl->nitems];
	memset(p, 0, sizeof(*p));
	p->it.incident_id = pl->inc.id;
	snprintf(p->it.kind, sizeof(p->it.kind), "%s", kind);
	snprintf(p->it.state, sizeof(p->it.state), "%s", ST_PENDING);
	p->it.path = xstrdup(path);
	p->phase = phase;
	p->depth = depth_of(path);
	p->order = pl->nitems;
	p->sc = sc;
	pl->nitems++;
	return p;
}

/* A "leave" line; path may lie in any share, or in none (then it is shown whole). */
static void
left_note(struct plan *pl, const char *path, const char *why, const char *who)
{
	struct sharectx *sc = share_of(pl, path);
	FILE *f;
	char *s = NULL;
	size_t n = 0;

	if ((f = open_memstream(&s, &n)) == NULL)
		return;
	fputs("leave     ", f);
	if (sc)
		print_loc(f, sc, path);
	else
		fput_escaped(f, path, strlen(path));
	fputs("   (", f);
	fputs(why, f);
	if (who) {
		fputc(' ', f);
		fput_escaped(f, who, strlen(who));
	}
	fputs(")\n", f);
	fclose(f);
	sb_add(&pl->notes, s, n);
	free(s);
	pl->nleft++;
	if (sc)
		pl->nleft_in++;
}

/* SHA-256 of an open file from its start. 0, or -1 with errno. */
static int
sha256_fd(int fd, unsigned char md[32], char *buf, size_t bufsz)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	off_t off = 0;
	ssize_t r;
	int rc = -1;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	for (;;) {
		r = pread(fd, buf, bufsz, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto out;
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1)
			goto out;
		off += r;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32)
		rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

#define HASHBUF	(1 << 20)

/* Whether live lrel (beneath the share) holds exactly the bytes of srel in the snapshot: 1 yes, 0 no or unreadable. */
static int
same_content(struct plan *pl, struct sharectx *sc, const char *lrel, const char *rel, const struct stat *sst)
{
	struct stat lst;
	unsigned char a[32], b[32];
	int lfd, sfd, same = 0;

	if (fs_lstat_beneath(sc->rootfd, lrel, &lst) == -1 || !S_ISREG(lst.st_mode) || lst.st_size != sst->st_size)
		return 0;
	if ((lfd = fs_open_beneath(sc->rootfd, lrel, O_RDONLY | O_NONBLOCK, 0)) == -1)
		return 0;
	if ((sfd = fs_open_beneath(sc->snapfd, rel, O_RDONLY | O_NONBLOCK, 0)) != -1) {
		same = sha256_fd(lfd, a, pl->buf, HASHBUF) == 0 && sha256_fd(sfd, b, pl->buf, HASHBUF) == 0 &&
		    memcmp(a, b, 32) == 0;
		close(sfd);
	}
	close(lfd);
	return same;
}

/* "<stem> (restored YYYY-MM-DD HH.MM.SS)<.ext>" beside path, in the snapshot's UTC time. */
static char *
keep_both_name(const char *path, int64_t snap_ms)
{
	const char *base = strrchr(path, '/'), *dot;
	char stamp[64];
	struct tm tm;
	time_t t = (time_t)(snap_ms / 1000);
	struct sbuf b = { 0 };
	size_t stem, ext, room;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (dot == base || (dot && strlen(dot) > 32))
		dot = NULL;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), " (restored %Y-%m-%d %H.%M.%S)", &tm);
	ext = dot ? strlen(dot) : 0;
	stem = (size_t)((dot ? dot : base + strlen(base)) - base);
	/* the new name must fit NAME_MAX too: shorten the stem, never inside a UTF-8 sequence */
	room = NAME_MAX - strlen(stamp) - ext;
	if (stem > room) {
		stem = room;
		while (stem > 0 && ((unsigned char)base[stem] & 0xc0) == 0x80)
			stem--;
	}
	sb_add(&b, path, (size_t)(base - path) + stem);
	sb_add(&b, stamp, strlen(stamp));
	if (dot)
		sb_add(&b, dot, ext);
	return b.p;
}

static int
target_has(struct plan *pl, const char *path)
{
	return hmap_get(&pl->targets, path, strlen(path)) != NULL;
}

static void
target_add(struct plan *pl, const char *path)
{
	struct hent *e = hmap_put(&pl->targets, path, strlen(path), NULL);

	e->val = (void *)1;
}

/* mkdir items for the missing folders above rel that the snapshot has (parents first, once each). */
static void
plan_parents(struct plan *pl, struct sharectx *sc, const char *rel)
{
	char *dup = xstrdup(rel), *slash, key[32];
	struct stat st, sst;
	struct sbuf k = { 0 };

	snprintf(key, sizeof(key), "%zu:", (size_t)(sc - pl->sc));
	for (slash = strchr(dup, '/'); slash; slash = strchr(slash + 1, '/')) {
		struct hent *e;
		int added;

		*slash = '\0';
		k.n = 0;
		sb_add(&k, key, strlen(key));
		sb_add(&k, dup, strlen(dup));
		e = hmap_put(&pl->mkdirs, k.p, k.n, &added);
		if (added && fs_lstat_beneath(sc->rootfd, dup, &st) == -1 && errno == ENOENT &&
		    fs_lstat_beneath(sc->snapfd, dup, &sst) == 0 && S_ISDIR(sst.st_mode)) {
			char *abs = str_cat(sc->sh->path, "/");
			char *full = str_cat(abs, dup);
			struct pitem *p;

			p = item_add(pl, sc, "mkdir", 0, full);
			p->it.src = str_cat(sc->root, strchr(full + sc->pathlen, '/'));
			p = item_add(pl, sc, "dirmeta", 4, full);
			p->it.src = str_cat(sc->root, strchr(full + sc->pathlen, '/'));
			target_add(pl, full);
			free(abs);
			free(full);
		}
		e->val = (void *)1;
		*slash = '/';
	}
	free(k.p);
	free(dup);
}

/* The snapshot path of a live path of share sc. */
static char *
snap_path(const struct sharectx *sc, const char *rel)
{
	char *a = str_cat(sc->root, "/"), *r = str_cat(a, rel);

	free(a);
	return r;
}

/*
 * Queues the removal of p, a name the actor produced. Removals are decided
 * after every restore target is known: a name the plan restores into (a
 * file the actor renamed over another) is never removed.
 */
static void
plan_remove(struct plan *pl, struct sharectx *sc, const char *p, const char *origin, const char *why)
{
	struct premove *m;

	if (pl->nrm == pl->caprm) {
		pl->caprm = pl->caprm ? pl->caprm * 2 : 256;
		pl->rm = xrealloc(pl->rm, pl->caprm * sizeof(*pl->rm));
	}
	m = &pl->rm[pl->nrm++];
	m->sc = sc;
	m->path = xstrdup(p);
	m->origin = origin ? xstrdup(origin) : NULL;
	snprintf(m->why, sizeof(m->why), "%s", why);
}

static void
plan_remove_one(struct plan *pl, struct sharectx *sc, const char *p, const char *origin, const char *why)
{
	struct sharectx *psc = share_of(pl, p);
	struct stat st;
	struct event_rec *oe;
	struct pitem *it;
	const char *rel;

	/* a name outside the original's share (or every share) is not this share's to remove */
	if (psc != sc) {
		left_note(pl, p, psc ? "in another share than its original" : "outside every configured share", NULL);
		return;
	}
	rel = share_rel(sc, p);
	if (*rel == '\0' || target_has(pl, p) || fs_lstat_beneath(sc->rootfd, rel, &st) == -1)
		return;
	if ((oe = other_touch(pl, p)) != NULL) {
		left_note(pl, p, "changed after the attack began by", oe->user);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		it = item_add(pl, sc, "rmdir", 3, p);
	} else if (S_ISREG(st.st_mode)) {
		it = item_add(pl, sc, "remove", 2, p);
		it->it.size = st.st_size;
		it->it.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	} else {
		left_note(pl, p, "not a regular file", NULL);
		return;
	}
	target_add(pl, p);
	if (origin)
		it->it.aux = xstrdup(origin);
	snprintf(it->it.detail, sizeof(it->it.detail), "%s", why);
}

/* Decides the queued removals, in the order they were queued. */
static void
plan_removals(struct plan *pl)
{
	for (size_t i = 0; i < pl->nrm; i++) {
		struct premove *m = &pl->rm[i];

		plan_remove_one(pl, m->sc, m->path, m->origin, m->why);
		free(m->path);
		free(m->origin);
	}
	free(pl->rm);
	pl->rm = NULL;
	pl->nrm = pl->caprm = 0;
}

/* The snapshot has a regular file at the origin: put it back, or beside, and drop the actor's copies. */
static void
plan_file(struct plan *pl, struct sharectx *sc, struct orec *r, const struct stat *sst)
{
	const char *rel = share_rel(sc, r->origin);
	struct event_rec *oe = other_touch(pl, r->origin);
	struct stat lst;
	int live, produced_here = 0, equal;
	struct pitem *it;

	for (size_t i = 0; i < r->nproduced; i++)
		if (strcmp(r->produced[i], r->origin) == 0)
			produced_here = 1;
	if (!produced_here) {
		/* another object the actor produced may sit at this name */
		const char *rest;
		struct node *n = tree_walk(&pl->tree, r->origin, 0, &rest);

		if (rest == NULL && n != &pl->tree.root && n->produced)
			produced_here = 1;
	}
	live = fs_lstat_beneath(sc->rootfd, rel, &lst) == 0;
	equal = live && same_content(pl, sc, rel, rel, sst);
	if (!equal) {
		int changed_by_other = oe != NULL || (live && !produced_here && S_ISREG(lst.st_mode));

		plan_parents(pl, sc, rel);
		if (changed_by_other) {
			char *aux = keep_both_name(r->origin, sc->snap->taken_ms);

			it = item_add(pl, sc, "keep_both", 1, r->origin);
			it->it.aux = aux;
			if (oe)
				snprintf(it->it.detail, sizeof(it->it.detail), "changed by %s after the attack began",
				    oe->user);
			else
				snprintf(it->it.detail, sizeof(it->it.detail), "changed after the attack began");
			target_add(pl, aux);
		} else {
			/* what is at the name now: apply replaces only that (anything else there gets a conflict) */
			it = item_add(pl, sc, "restore", 1, r->origin);
			it->it.size = live ? lst.st_size : -1;
			it->it.mtime_ns = live ? (int64_t)lst.st_mtim.tv_sec * 1000000000 + lst.st_mtim.tv_nsec : 0;
		}
		it->it.src = snap_path(sc, rel);
	}
	target_add(pl, r->origin);
	for (size_t i = 0; i < r->nproduced; i++) {
		char why[256];

		if (strcmp(r->produced[i], r->origin) == 0)
			continue;
		/* someone else changed the file after the attack began: the actor's copy may hold that work */
		if (oe) {
			left_note(pl, r->produced[i], "may hold changes made after the attack began by", oe->user);
			continue;
		}
		snprintf(why, sizeof(why), "encrypted copy of %s", rel);
		plan_remove(pl, sc, r->produced[i], r->origin, why);
	}
	/* untouched, moved with its folder: the live copy goes once the clean one is back */
	if (r->expanded) {
		char *cur = tree_current(&pl->tree, r->origin);

		if (cur && strcmp(cur, r->origin) != 0 && !target_has(pl, cur)) {
			struct sharectx *csc = share_of(pl, cur);
			struct event_rec *ce = other_touch(pl, cur);
			struct stat cst;
			const char *crel = csc ? share_rel(csc, cur) : NULL;

			if (csc == sc && fs_lstat_beneath(sc->rootfd, crel, &cst) == 0 && S_ISREG(cst.st_mode)) {
				char why[256];

				if (ce)
					left_note(pl, cur, "moved by the attacker, then changed by", ce->user);
				else if (!same_content(pl, sc, crel, rel, sst)) {
					left_note(pl, cur, "moved by the attacker, then changed", NULL);
				} else {
					snprintf(why, sizeof(why), "moved copy of %s", rel);
					plan_remove(pl, sc, cur, r->origin, why);
				}
			}
		}
		free(cur);
	}
}

/* The snapshot has a folder at the origin: recreate it when gone, and every entry below it becomes an origin. */
static void
plan_dir(struct plan *pl, struct sharectx *sc, struct orec *r)
{
	const char *rel = share_rel(sc, r->origin);
	struct stat lst;
	struct sbuf b = { 0 };
	DIR *d;
	struct dirent *de;
	int fd;

	if (fs_lstat_beneath(sc->rootfd, rel, &lst) == -1) {
		sb_add(&b, rel, strlen(rel));
		sb_add(&b, "/", 1);
		plan_parents(pl, sc, b.p);
	} else if (!S_ISDIR(lst.st_mode)) {
		struct pitem *it = item_add(pl, sc, "mkdir", 0, r->origin);

		it->it.src = snap_path(sc, rel);
		snprintf(it->it.detail, sizeof(it->it.detail), "something that is not a folder is in the way");
	}
	target_add(pl, r->origin);
	if ((fd = fs_open_beneath(sc->snapfd, rel, O_RDONLY | O_DIRECTORY, 0)) != -1 && (d = fdopendir(fd)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct orec *c;
			char *co;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			b.n = 0;
			sb_add(&b, r->origin, strlen(r->origin));
			sb_add(&b, "/", 1);
			sb_add(&b, de->d_name, strlen(de->d_name));
			co = b.p;
			if ((c = orec_get(pl, co, 0)) == NULL) {
				c = orec_get(pl, co, 1);
				c->expanded = 1;
			}
		}
		closedir(d);
	} else if (fd != -1) {
		close(fd);
	}
	free(b.p);
	for (size_t i = 0; i < r->nproduced; i++)
		if (strcmp(r->produced[i], r->origin) != 0)
			plan_remove(pl, sc, r->produced[i], r->origin, "folder the attacker renamed, once empty");
	if (r->expanded) {
		char *cur = tree_current(&pl->tree, r->origin);

		if (cur && strcmp(cur, r->origin) != 0 && share_of(pl, cur) == sc)
			plan_remove(pl, sc, cur, r->origin, "folder the attacker moved, once empty");
		free(cur);
	}
}

static void
unrestorable_add(struct plan *pl, const char *path)
{
	struct hent *e = hmap_put(&pl->unrestorable, path, strlen(path), NULL);

	e->val = (void *)1;
}

/* The origin did not exist when the snapshot was taken. */
static void
plan_new(struct plan *pl, struct sharectx *sc, struct orec *r, struct orec ***created, size_t *ncreated,
    size_t *capcreated)
{
	struct event_rec *pre = hmap_get(&pl->pre, r->origin, strlen(r->origin));
	struct pitem *it;
	const char *why = NULL;

	if (pre && pre->at >= sc->snap->taken_ms)
		why = "changed after the snapshot, before the attack; no clean copy";
	else if (r->first == FIRST_CREATE || r->first == FIRST_MKDIR) {
		if (*ncreated == *capcreated) {
			*capcreated = *capcreated ? *capcreated * 2 : 64;
			*created = xrealloc(*created, *capcreated * sizeof(**created));
		}
		(*created)[(*ncreated)++] = r;
		return;
	} else if (r->first == FIRST_OVER && r->nproduced == 0)
		return;
	else if (r->first == FIRST_NONE)
		return;
	else
		why = "not in the snapshot (newer than it); no clean copy";
	it = item_add(pl, sc, "unrestorable", 5, r->origin);
	snprintf(it->it.state, sizeof(it->it.state), "%s", ST_SKIPPED);
	snprintf(it->it.detail, sizeof(it->it.detail), "%s", why);
	unrestorable_add(pl, r->origin);
	for (size_t i = 0; i < r->nproduced; i++) {
		unrestorable_add(pl, r->produced[i]);
		if (strcmp(r->produced[i], r->origin) != 0)
			left_note(pl, r->produced[i], "the attacker's copy of a file no snapshot holds", NULL);
	}
}

/* Whether a file the actor created looks like the encrypted copy of an unrestorable one ("x.docx.locked"). */
static int
copy_of_unrestorable(struct plan *pl, const char *p)
{
	char *s = xstrdup(p), *dot, *slash = strrchr(s, '/');
	int found = 0;

	for (int k = 0; k < 4 && !found; k++) {
		dot = strrchr(s, '.');
		if (dot == NULL || (slash && dot <= slash + 1))
			break;
		*dot = '\0';
		found = hmap_get(&pl->unrestorable, s, strlen(s)) != NULL;
	}
	free(s);
	return found;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct pitem *x = a, *y = b;

	if (x->phase != y->phase)
		return x->phase - y->phase;
	if (x->depth != y->depth) {
		if (x->phase == 0)
			return x->depth - y->depth;
		if (x->phase == 3 || x->phase == 4)
			return y->depth - x->depth;
	}
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The parent folder of an absolute path (malloc'd), or NULL for the root or a path without a slash. */
static char *
path_dir(const char *p)
{
	const char *slash = p ? strrchr(p, '/') : NULL;

	if (slash == NULL || slash == p)
		return NULL;
	return xstrndup(p, (size_t)(slash - p));
}

static void
dir_add(struct hmap *dirs, char *d)
{
	int added;

	if (d == NULL)
		return;
	if (path_canonical(d)) {
		hmap_put(dirs, d, strlen(d), &added);
	}
	free(d);
}

/*
 * A name the snapshot holds in folder dir that is gone now, and that no
 * event of anyone since the snapshot accounts for (a dropped unlink or
 * rename line): restored like the actor's other damage, rather than lost.
 */
static void
sweep_gone(struct plan *pl, struct sharectx *sc, const char *folder, struct hmap *known)
{
	const char *rel = share_rel(sc, folder);
	struct dirent *de;
	DIR *dir;
	int fd;

	if ((fd = fs_open_beneath(sc->snapfd, rel, O_RDONLY | O_DIRECTORY, 0)) == -1)
		return;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		struct stat sst, lst;
		char *full, *t;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		t = str_cat(folder, "/");
		full = str_cat(t, de->d_name);
		free(t);
		if (hmap_get(known, full, strlen(full)) || hmap_get(&pl->orecs, full, strlen(full)) ||
		    other_touch(pl, full) || hmap_get(&pl->pre, full, strlen(full)) ||
		    (pl->canaries && canary_is(pl->canaries, full, strlen(full))) ||
		    fs_lstat_beneath(sc->rootfd, share_rel(sc, full), &lst) == 0 || errno != ENOENT ||
		    fstatat(dirfd(dir), de->d_name, &sst, AT_SYMLINK_NOFOLLOW) == -1 ||
		    (!S_ISREG(sst.st_mode) && !S_ISDIR(sst.st_mode))) {
			free(full);
			continue;
		}
		/* planned by plan_build like any origin the actor deleted */
		orec_get(pl, full, 1)->first = FIRST_UNLINK;
		pl->swept_gone++;
		free(full);
	}
	closedir(dir);
}

/*
 * The names the journal may not tell of: a create the deny cut short (the
 * file exists, the create_file line says "fail"), a line or kernel event
 * that was lost. Every folder the actor touched after the cut is read; a
 * name that is there now, not in the snapshot, made since the cut, and that
 * no event of anyone accounts for, is the actor's when its account owns it
 * (removed with the rest), and is reported otherwise: the restore then says
 * the share is not fully back.
 */
static void
plan_sweep(struct plan *pl)
{
	struct hmap dirs = { 0 }, known = { 0 };
	struct passwd *pw = getpwnam(pl->inc.user);
	uid_t actor_uid = pw ? pw->pw_uid : (uid_t)-1;
	int added;

	for (size_t i = 0; i < pl->nev; i++) {
		struct event_rec *e = &pl->ev[i];

		if (!e->ok || e->at < pl->cut || strcmp(e->user, pl->inc.user) != 0 || strcmp(e->ip, pl->inc.ip) != 0)
			continue;
		dir_add(&dirs, path_dir(e->path));
		if (e->path2 && *e->path2)
			dir_add(&dirs, path_dir(e->path2));
		if (strcmp(e->op, "mkdir") == 0 && path_canonical(e->path))
			dir_add(&dirs, xstrdup(e->path));
	}
	for (size_t i = 0; i < pl->nolist; i++) {
		struct orec *r = pl->olist[i];

		hmap_put(&known, r->origin, strlen(r->origin), &added)->val = (void *)1;
		for (size_t k = 0; k < r->nproduced; k++)
			hmap_put(&known, r->produced[k], strlen(r->produced[k]), &added)->val = (void *)1;
	}
	for (size_t i = 0; i < dirs.cap; i++) {
		struct hent *h = &dirs.tab[i];
		struct sharectx *sc;
		struct dirent *de;
		const char *rel;
		DIR *dir;
		int fd;

		if (h->key == NULL || h->key == TOMB || (sc = share_of(pl, h->key)) == NULL || sc->snapfd == -1 ||
		    sc->rootfd == -1)
			continue;
		rel = share_rel(sc, h->key);
		if ((fd = fs_open_beneath(sc->rootfd, rel, O_RDONLY | O_DIRECTORY, 0)) == -1)
			continue;	/* gone, or no longer a folder: its names are the events' */
		if ((dir = fdopendir(fd)) == NULL) {
			close(fd);
			continue;
		}
		while ((de = readdir(dir)) != NULL) {
			struct stat st, sst;
			int64_t born;
			char *full, *frel;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			full = str_cat(h->key, "/");
			frel = str_cat(full, de->d_name);
			free(full);
			full = frel;
			frel = (char *)share_rel(sc, full);
			if (hmap_get(&known, full, strlen(full)) || target_has(pl, full) || other_touch(pl, full) ||
			    (pl->canaries && canary_is(pl->canaries, full, strlen(full))) ||
			    strncmp(de->d_name, ".sw-restore-", 12) == 0 ||
			    fs_lstat_beneath(sc->snapfd, frel, &sst) == 0 || (errno != ENOENT && errno != ENOTDIR) ||
			    fs_lstat_born(dirfd(dir), de->d_name, &st, &born) == -1 || born < pl->cut) {
				free(full);
				continue;
			}
			if (st.st_uid == actor_uid && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
				plan_remove(pl, sc, full, NULL, "made by the attacker's account during the attack "
				    "(found in its folder; no event told of it)");
				pl->swept++;
			} else {
				left_note(pl, full, "new since the attack began and no one's events explain it: "
				    "compare it with the snapshot and remove it if it is the attacker's", NULL);
				pl->unexplained++;
			}
			free(full);
		}
		closedir(dir);
		sweep_gone(pl, sc, h->key, &known);
	}
	if (pl->swept || pl->unexplained || pl->swept_gone)
		log_warnx("restore: the journal did not tell of %zu names in the attacker's folders: %zu new and "
		    "its account's (removed), %zu new and not its account's (left), %zu gone (restored)",
		    pl->swept + pl->unexplained + pl->swept_gone, pl->swept, pl->unexplained, pl->swept_gone);
	hmap_free(&dirs, 0);
	hmap_free(&known, 0);
}

/* Builds the plan from the events: 0, or RESTORE_EXIT_REFUSED after saying why to out. */
static int
plan_build(struct plan *pl, FILE *out)
{
	struct orec **created = NULL;
	size_t ncreated = 0, capcreated = 0, planned = 0;
	int refused = 0, swept = 0;

	plan_events(pl);
again:
	for (size_t i = planned; i < pl->nolist; i++) {
		struct orec *r = pl->olist[i];
		struct sharectx *sc = share_of(pl, r->origin);
		const char *rel;
		struct stat sst;

		if (sc == NULL)
			continue;
		rel = share_rel(sc, r->origin);
		if (*rel == '\0')
			continue;
		sc->used = 1;
		if (sc->snap == NULL || sc->snapfd == -1) {
			refused = 1;
			continue;
		}
		if (pl->canaries && canary_is(pl->canaries, r->origin, strlen(r->origin))) {
			for (size_t k = 0; k < r->nproduced; k++)
				if (strcmp(r->produced[k], r->origin) != 0)
					plan_remove(pl, sc, r->produced[k], r->origin, "encrypted copy of a canary");
			continue;
		}
		if (fs_lstat_beneath(sc->snapfd, rel, &sst) == -1) {
			if (errno == ENOENT || errno == ENOTDIR)
				plan_new(pl, sc, r, &created, &ncreated, &capcreated);
			else {
				struct pitem *it = item_add(pl, sc, "unrestorable", 5, r->origin);

				snprintf(it->it.state, sizeof(it->it.state), "%s", ST_SKIPPED);
				snprintf(it->it.detail, sizeof(it->it.detail), "the snapshot's copy cannot be read: %s",
				    strerror(errno));
				unrestorable_add(pl, r->origin);
			}
		} else if (S_ISREG(sst.st_mode))
			plan_file(pl, sc, r, &sst);
		else if (S_ISDIR(sst.st_mode))
			plan_dir(pl, sc, r);
		else if (!r->expanded) {
			struct pitem *it = item_add(pl, sc, "unrestorable", 5, r->origin);

			snprintf(it->it.state, sizeof(it->it.state), "%s", ST_SKIPPED);
			snprintf(it->it.detail, sizeof(it->it.detail), "neither a file nor a folder in the snapshot");
			unrestorable_add(pl, r->origin);
		}
	}
	if (refused) {
		char t[32];

		fmt_time(pl->inc.first_event_at, t);
		t[10] = ' ';
		for (size_t i = 0; i < pl->nsc; i++) {
			struct sharectx *sc = &pl->sc[i];

			if (!sc->used || (sc->snap && sc->snapfd != -1))
				continue;
			fputs("restore refused: share ", out);
			fput_escaped(out, sc->sh->name, strlen(sc->sh->name));
			if (sc->snap && sc->rootfd == -1) {
				fputs(": its folder cannot be opened (", out);
				fput_escaped(out, sc->why, strlen(sc->why));
				fputc(')', out);
			} else if (sc->snap) {
				fprintf(out, ": snapshot %s cannot be read (%s)", sc->snap->name, sc->why);
			} else if (sc->nsnaps == 0) {
				fprintf(out, " has no snapshot at all%s%s; configure [snapshots] (backend, interval) "
				    "and take them with `sharewarden snapshot`", sc->why[0] ? ": " : "", sc->why);
			} else {
				char o[32];

				fmt_time(sc->snaps[0].taken_ms, o);
				o[10] = ' ';
				fprintf(out, " has no snapshot taken before the attack began (%s); the oldest is %s "
				    "(%s)", t, sc->snaps[0].name, o);
			}
			if (!sc->snap && pl->cfg->repl.target[0] != '\0')
				fprintf(out, "; the replica on %s may hold one: `sharewarden restore %lld --from-replica`",
				    pl->cfg->repl.target, (long long)pl->inc.id);
			fputs("; nothing was changed\n", out);
		}
		free(created);
		return RESTORE_EXIT_REFUSED;
	}
	/* what the journal did not tell of: gone names become origins to plan, new ones removals */
	if (!swept) {
		swept = 1;
		planned = pl->nolist;
		plan_sweep(pl);
		if (pl->nolist > planned)
			goto again;
	}
	/* the actor's new files go, unless they may be the only copy of something no snapshot holds */
	for (size_t i = 0; i < ncreated; i++) {
		struct orec *r = created[i];
		struct sharectx *sc = share_of(pl, r->origin);

		for (size_t k = 0; k < r->nproduced; k++) {
			if (copy_of_unrestorable(pl, r->produced[k]))
				left_note(pl, r->produced[k], "may be the only copy of a file no snapshot holds", NULL);
			else
				plan_remove(pl, sc, r->produced[k], NULL, "created by the attacker");
		}
	}
	free(created);
	plan_removals(pl);
	qsort(pl->items, pl->nitems, sizeof(*pl->items), item_cmp);
	for (size_t i = 0; i < pl->nitems; i++)
		pl->items[i].it.seq = (int64_t)i + 1;
	return 0;
}

/* ---- Showing the plan and the report. ---- */

struct counts {
	size_t mkdir, restore, keep_both, remove, rmdir, unrestorable;
};

static void
count_items(const struct restore_item *it, size_t n, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		const char *k = it[i].kind;

		if (strcmp(k, "mkdir") == 0)
			c->mkdir++;
		else if (strcmp(k, "restore") == 0)
			c->restore++;
		else if (strcmp(k, "keep_both") == 0)
			c->keep_both++;
		else if (strcmp(k, "remove") == 0)
			c->remove++;
		else if (strcmp(k, "rmdir") == 0)
			c->rmdir++;
		else if (strcmp(k, "unrestorable") == 0)
			c->unrestorable++;
	}
}

static void
print_header(struct plan *pl, FILE *out)
{
	char t[32];
	int first = 1;

	fmt_time(pl->inc.first_event_at, t);
	t[10] = ' ';
	fprintf(out, "incident %" PRId64 ": ", pl->inc.id);
	fput_escaped(out, pl->inc.user, strlen(pl->inc.user));
	fputs(" from ", out);
	fput_escaped(out, pl->inc.ip, strlen(pl->inc.ip));
	fprintf(out, ", attack began %s", t);
	for (size_t i = 0; i < pl->nsc; i++) {
		struct sharectx *sc = &pl->sc[i];

		if (!sc->used || sc->snap == NULL)
			continue;
		fprintf(out, "%s snapshot %s of ", first ? ";" : ",", sc->snap->name);
		fput_escaped(out, sc->sh->name, strlen(sc->sh->name));
		first = 0;
	}
	fputc('\n', out);
}

/* One item as a plan line; "what" overrides the kind's word (the report's "failed"). */
static void
print_item(struct plan *pl, const struct restore_item *it, const char *what, FILE *out)
{
	struct sharectx *sc = share_of(pl, it->path);
	const char *word = what;

	if (sc == NULL || strcmp(it->kind, "dirmeta") == 0)
		return;
	if (word == NULL)
		word = strcmp(it->kind, "keep_both") == 0 ? "conflict" : it->kind;
	fprintf(out, "%-9s ", word);
	print_loc(out, sc, it->path);
	if (strcmp(it->kind, "keep_both") == 0 && what == NULL) {
		const char *b = strrchr(it->aux, '/');

		fputs("   (", out);
		fput_escaped(out, it->detail, strlen(it->detail));
		fputs("; clean copy -> \"", out);
		b = b ? b + 1 : it->aux;
		fput_escaped(out, b, strlen(b));
		fputs("\")\n", out);
		return;
	}
	if (it->detail[0]) {
		fputs("   (", out);
		fput_escaped(out, it->detail, strlen(it->detail));
		fputc(')', out);
	}
	fputc('\n', out);
}

static void
print_plan(struct plan *pl, FILE *out)
{
	struct counts c;
	struct restore_item *its = xcalloc(pl->nitems ? pl->nitems : 1, sizeof(*its));

	for (size_t i = 0; i < pl->nitems; i++) {
		its[i] = pl->items[i].it;
		print_item(pl, &pl->items[i].it, NULL, out);
	}
	if (pl->notes.n)
		fwrite(pl->notes.p, 1, pl->notes.n, out);
	count_items(its, pl->nitems, &c);
	free(its);
	fprintf(out, "plan: %zu to restore, %zu to remove, %zu conflict%s, %zu unrestorable", c.restore,
	    c.remove + c.rmdir, c.keep_both, c.keep_both == 1 ? "" : "s", c.unrestorable);
	if (c.mkdir)
		fprintf(out, "; %zu folder%s to recreate", c.mkdir, c.mkdir == 1 ? "" : "s");
	if (pl->nleft)
		fprintf(out, "; %zu left as they are", pl->nleft);
	fputc('\n', out);
}

/* ---- Applying. ---- */

static int
state_is(const char *s, const char *a)
{
	return strcmp(s, a) == 0;
}

struct apply {
	struct plan *pl;
	struct journal *j;
	const struct restore_opts *o;
	struct restore_item *items;
	size_t n;
	int64_t t0, last_progress, last_commit;
	size_t batch, done, total, verified;
	int disk_full;
	int restores_checked, restores_ok;
	int removing;
	int in_tx;
	int sync_failed;	/* a share could not be written to disk: nothing may be removed */
	size_t tx_first, cur;	/* the items updated in the open transaction lie in [tx_first, cur) */
	char *touched;		/* per item: applied in this run */
};

static int
is_disk_full(int e)
{
	return e == ENOSPC || e == EDQUOT;
}

/* The folder holding rel, opened beneath the share root; *base: rel's last name. */
static int
open_parent(int rootfd, const char *rel, const char **base)
{
	const char *slash = strrchr(rel, '/');
	char *dir;
	int fd;

	if (slash == NULL) {
		*base = rel;
		return fs_open_beneath(rootfd, "", O_RDONLY | O_DIRECTORY, 0);
	}
	dir = xstrndup(rel, (size_t)(slash - rel));
	fd = fs_open_beneath(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
	free(dir);
	*base = slash + 1;
	return fd;
}

/* The item's path in the snapshot, relative to its root; NULL when the snapshot is not the one in use. */
static const char *
src_rel(const struct sharectx *sc, const char *src)
{
	size_t l = strlen(sc->root);

	if (src == NULL || sc->snapfd == -1 || strncmp(src, sc->root, l) != 0 || src[l] != '/')
		return NULL;
	return src + l + 1;
}

static int
item_fail(struct apply *ap, struct restore_item *it, int e, const char *what)
{
	snprintf(it->state, sizeof(it->state), "%s", ST_FAILED);
	if (is_disk_full(e)) {
		ap->disk_full = 1;
		snprintf(it->detail, sizeof(it->detail), "disk full");
	} else if (e == ELOOP || e == EXDEV)
		snprintf(it->detail, sizeof(it->detail), "%s: a symlink or a moved folder is in the way", what);
	else if (e)
		snprintf(it->detail, sizeof(it->detail), "%s: %s", what, strerror(e));
	else
		snprintf(it->detail, sizeof(it->detail), "%s", what);
	return -1;
}

static int
item_ok(struct restore_item *it, const char *state, const char *detail)
{
	snprintf(it->state, sizeof(it->state), "%s", state);
	snprintf(it->detail, sizeof(it->detail), "%s", detail);
	return 0;
}

/*
 * What is at a restore's target now: 0 what the planner saw (or nothing, or
 * the actor's copy gone), 1 the snapshot's copy already (a rerun after a
 * crash), 2 something else, -1 error.
 */
static int
target_state(struct apply *ap, struct sharectx *sc, const struct restore_item *it, int pfd, const char *base,
    int sfd, const struct stat *sst)
{
	struct stat st;
	unsigned char a[32], b[32];
	int fd, same;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (it->size >= 0 && st.st_size == it->size &&
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == it->mtime_ns)
		return 0;
	if (!S_ISREG(st.st_mode) || st.st_size != sst->st_size)
		return 2;
	if ((fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && sha256_fd(fd, a, ap->pl->buf, HASHBUF) == 0 &&
	    sha256_fd(sfd, b, ap->pl->buf, HASHBUF) == 0 && memcmp(a, b, 32) == 0;
	close(fd);
	return same ? 1 : 2;
}

/* restore / keep_both: a verified copy under a temporary name, renamed into place. */
static int
apply_copy(struct apply *ap, struct sharectx *sc, struct restore_item *it)
{
	int keep = strcmp(it->kind, "keep_both") == 0;
	const char *rel = share_rel(sc, it->path), *srel = src_rel(sc, it->src), *base, *abase = NULL;
	char tmp[64], failed[256];
	struct stat sst, ast;
	struct timespec ts[2];
	unsigned char a[32], b[32];
	int pfd = -1, sfd = -1, tfd = -1, rc = -1, e;

	if (srel == NULL)
		return item_fail(ap, it, 0, "the snapshot is no longer there");
	if ((pfd = open_parent(sc->rootfd, rel, &base)) == -1)
		return item_fail(ap, it, errno, "cannot open the folder");
	snprintf(tmp, sizeof(tmp), ".sw-restore-%" PRId64 "-%" PRId64, it->incident_id, it->seq);
	if (unlinkat(pfd, tmp, 0) == -1 && errno != ENOENT) {
		item_fail(ap, it, errno, "cannot remove a stale temporary file");
		goto out;
	}
	if ((sfd = fs_open_beneath(sc->snapfd, srel, O_RDONLY | O_NONBLOCK, 0)) == -1 || fstat(sfd, &sst) == -1) {
		item_fail(ap, it, errno, "cannot open the snapshot's copy");
		goto out;
	}
	if (!S_ISREG(sst.st_mode)) {
		item_fail(ap, it, 0, "the snapshot's copy is not a regular file");
		goto out;
	}
	if (!keep) {
		switch (target_state(ap, sc, it, pfd, base, sfd, &sst)) {
		case -1:
			item_fail(ap, it, errno, "cannot check what is there now");
			goto out;
		case 1:
			rc = item_ok(it, ST_DONE, "already there");
			goto out;
		case 2:
			/* someone put another file there since the plan: it stays, the clean copy goes beside */
			free(it->aux);
			it->aux = keep_both_name(it->path, sc->snap->taken_ms);
			snprintf(it->kind, sizeof(it->kind), "keep_both");
			keep = 1;
			break;
		}
	}
	if (keep) {
		abase = strrchr(it->aux, '/');
		abase = abase ? abase + 1 : it->aux;
		if (fstatat(pfd, abase, &ast, AT_SYMLINK_NOFOLLOW) == 0) {
			int afd = openat(pfd, abase, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

			if (afd != -1 && S_ISREG(ast.st_mode) && ast.st_size == sst.st_size &&
			    sha256_fd(afd, a, ap->pl->buf, HASHBUF) == 0 && sha256_fd(sfd, b, ap->pl->buf, HASHBUF) == 0 &&
			    memcmp(a, b, 32) == 0) {
				close(afd);
				rc = item_ok(it, ST_DONE, "already there");
				goto out;
			}
			if (afd != -1)
				close(afd);
			item_fail(ap, it, 0, "the name for the clean copy is taken");
			goto out;
		}
	}
	if ((tfd = openat(pfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		item_fail(ap, it, errno, "cannot create a temporary file");
		goto out;
	}
	if (fs_copy_data(sfd, tfd, NULL) == -1) {
		item_fail(ap, it, errno, "copy failed");
		goto unlink;
	}
	if (fchown(tfd, sst.st_uid, sst.st_gid) == -1) {
		item_fail(ap, it, errno, "cannot set the owner");
		goto unlink;
	}
	if (fs_copy_xattrs(sfd, tfd, failed, sizeof(failed)) == -1) {
		char what[300];

		e = errno;
		snprintf(what, sizeof(what), "cannot copy the attribute %s", failed);
		item_fail(ap, it, e, what);
		goto unlink;
	}
	if (fchmod(tfd, sst.st_mode & 07777) == -1) {
		item_fail(ap, it, errno, "cannot set the mode");
		goto unlink;
	}
	if (ap->pl->cfg->restore_verify) {
		if (sha256_fd(tfd, a, ap->pl->buf, HASHBUF) == -1 || sha256_fd(sfd, b, ap->pl->buf, HASHBUF) == -1) {
			item_fail(ap, it, errno, "cannot read back for verification");
			goto unlink;
		}
		if (memcmp(a, b, 32) != 0) {
			item_fail(ap, it, 0, "verification failed: the copy differs from the snapshot");
			goto unlink;
		}
	}
	ts[0] = sst.st_atim;
	ts[1] = sst.st_mtim;
	/* no fsync here: each commit of the item states syncs the filesystem first (apply_commit) */
	if (futimens(tfd, ts) == -1) {
		item_fail(ap, it, errno, "cannot set the times");
		goto unlink;
	}
	if (keep ? fs_rename_noreplace(pfd, tmp, pfd, abase) == -1 : renameat(pfd, tmp, pfd, base) == -1) {
		item_fail(ap, it, errno, "cannot put it in place");
		goto unlink;
	}
	if (ap->pl->cfg->restore_verify)
		ap->verified++;
	rc = item_ok(it, ST_DONE, ap->pl->cfg->restore_verify ? "verified" : "");
	goto out;
unlink:
	e = errno;
	unlinkat(pfd, tmp, 0);
	errno = e;
out:
	if (tfd != -1)
		close(tfd);
	if (sfd != -1)
		close(sfd);
	close(pfd);
	return rc;
}

static int
apply_mkdir(struct apply *ap, struct sharectx *sc, struct restore_item *it)
{
	const char *base;
	struct stat st;
	int pfd, rc = 0;

	if ((pfd = open_parent(sc->rootfd, share_rel(sc, it->path), &base)) == -1)
		return item_fail(ap, it, errno, "cannot open the parent folder");
	if (mkdirat(pfd, base, 0700) == -1) {
		if (errno != EEXIST)
			rc = item_fail(ap, it, errno, "cannot create the folder");
		else if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISDIR(st.st_mode))
			rc = item_fail(ap, it, 0, "something that is not a folder is in the way (a symlink?)");
	}
	close(pfd);
	return rc ? rc : item_ok(it, ST_DONE, "");
}

static int
apply_remove(struct apply *ap, struct sharectx *sc, struct restore_item *it)
{
	const char *base;
	struct stat st;
	int pfd, rc;
	int rmdir_ = strcmp(it->kind, "rmdir") == 0;

	if ((pfd = open_parent(sc->rootfd, share_rel(sc, it->path), &base)) == -1) {
		if (errno == ENOENT)
			return item_ok(it, ST_DONE, "already gone");
		return item_fail(ap, it, errno, "cannot open the folder");
	}
	if (rmdir_) {
		if (unlinkat(pfd, base, AT_REMOVEDIR) == 0 || errno == ENOENT)
			rc = item_ok(it, ST_DONE, "");
		else if (errno == ENOTEMPTY || errno == EEXIST)
			rc = item_ok(it, ST_SKIPPED, "not empty: left");
		else if (errno == ENOTDIR)
			rc = item_ok(it, ST_SKIPPED, "no longer a folder: left");
		else
			rc = item_fail(ap, it, errno, "cannot remove the folder");
		close(pfd);
		return rc;
	}
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		rc = errno == ENOENT ? item_ok(it, ST_DONE, "already gone") : item_fail(ap, it, errno, "cannot check it");
	else if (!S_ISREG(st.st_mode) || st.st_size != it->size ||
	    (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != it->mtime_ns)
		rc = item_ok(it, ST_SKIPPED, "changed since the plan: left");
	else if (unlinkat(pfd, base, 0) == -1)
		rc = errno == ENOENT ? item_ok(it, ST_DONE, "already gone") : item_fail(ap, it, errno, "cannot remove it");
	else
		rc = item_ok(it, ST_DONE, "");
	close(pfd);
	return rc;
}

static int
apply_dirmeta(struct apply *ap, struct sharectx *sc, struct restore_item *it)
{
	const char *srel = src_rel(sc, it->src);
	struct stat sst;
	struct timespec ts[2];
	char failed[256];
	int dfd, sfd, rc = 0;

	if (srel == NULL)
		return item_fail(ap, it, 0, "the snapshot is no longer there");
	if ((dfd = fs_open_beneath(sc->rootfd, share_rel(sc, it->path), O_RDONLY | O_DIRECTORY, 0)) == -1)
		return item_fail(ap, it, errno, "cannot open the folder");
	if ((sfd = fs_open_beneath(sc->snapfd, srel, O_RDONLY | O_DIRECTORY, 0)) == -1 || fstat(sfd, &sst) == -1) {
		rc = item_fail(ap, it, errno, "cannot open the snapshot's folder");
	} else if (fchown(dfd, sst.st_uid, sst.st_gid) == -1) {
		rc = item_fail(ap, it, errno, "cannot set the owner");
	} else if (fs_copy_xattrs(sfd, dfd, failed, sizeof(failed)) == -1) {
		char what[300];
		int e = errno;

		snprintf(what, sizeof(what), "cannot copy the attribute %s", failed);
		rc = item_fail(ap, it, e, what);
	} else {
		ts[0] = sst.st_atim;
		ts[1] = sst.st_mtim;
		if (fchmod(dfd, sst.st_mode & 07777) == -1 || futimens(dfd, ts) == -1)
			rc = item_fail(ap, it, errno, "cannot set the mode and times");
	}
	if (sfd != -1)
		close(sfd);
	close(dfd);
	return rc ? rc : item_ok(it, ST_DONE, "");
}

/* Every folder, restore and conflict item is done: only then may anything be removed. */
static int
restores_complete(struct apply *ap)
{
	if (!ap->restores_checked) {
		ap->restores_checked = 1;
		ap->restores_ok = !ap->disk_full && !ap->sync_failed;
		for (size_t i = 0; i < ap->n && ap->restores_ok; i++) {
			const char *k = ap->items[i].kind;

			if ((strcmp(k, "mkdir") == 0 || strcmp(k, "restore") == 0 || strcmp(k, "keep_both") == 0) &&
			    strcmp(ap->items[i].state, ST_DONE) != 0)
				ap->restores_ok = 0;
		}
	}
	return ap->restores_ok;
}

static void
apply_commit(struct apply *ap, int reopen)
{
	int e = 0;

	if (!ap->in_tx)
		return;
	/* the renames must be on disk before the journal says done */
	for (size_t i = 0; i < ap->pl->nsc; i++)
		if (ap->pl->sc[i].used && ap->pl->sc[i].rootfd != -1 && fs_sync(ap->pl->sc[i].rootfd) == -1)
			e = errno;
	if (e) {
		/* what this transaction calls done may not be on disk: say failed, so a rerun does it again */
		log_warnx("restore: the share could not be written to disk: %s", strerror(e));
		ap->sync_failed = 1;
		ap->restores_checked = 0;
		for (size_t i = ap->tx_first; i < ap->cur; i++) {
			struct restore_item *it = &ap->items[i];

			if (!ap->touched[i] || !state_is(it->state, ST_DONE) || state_is(it->kind, "remove") ||
			    state_is(it->kind, "rmdir"))
				continue;
			item_fail(ap, it, e, "not safely on disk");
			if (journal_restore_item_update(ap->j, it) == -1)
				log_warnx("restore: cannot record step %" PRId64 " in the journal", it->seq);
		}
	}
	ap->tx_first = ap->cur;
	if (journal_commit(ap->j) == -1)
		log_warnx("restore: cannot record progress in the journal");
	ap->in_tx = 0;
	ap->batch = 0;
	ap->last_commit = mono_ms();
	if (reopen && journal_begin(ap->j) == 0)
		ap->in_tx = 1;
}

static void
apply_progress(struct apply *ap, int final)
{
	int64_t now = mono_ms();

	if (!ap->o->progress || (!final && now - ap->last_progress < 1000))
		return;
	ap->last_progress = now;
	fprintf(stderr, "restore: %zu/%zu files (%d%%), %" PRId64 " s\n", ap->done, ap->total,
	    ap->total ? (int)(ap->done * 100 / ap->total) : 100, (now - ap->t0) / 1000);
}

static void
apply_items(struct apply *ap)
{
	ap->t0 = ap->last_commit = mono_ms();
	for (size_t i = 0; i < ap->n; i++) {
		const char *k = ap->items[i].kind;

		if (strcmp(k, "unrestorable") != 0)
			ap->total++;
		if (strcmp(k, "unrestorable") != 0 && strcmp(ap->items[i].state, ST_PENDING) != 0 &&
		    strcmp(ap->items[i].state, ST_FAILED) != 0)
			ap->done++;
	}
	if (journal_begin(ap->j) == 0)
		ap->in_tx = 1;
	for (size_t i = 0; i < ap->n; i++) {
		struct restore_item *it = &ap->items[i];
		struct sharectx *sc;
		const char *k = it->kind;

		if (strcmp(it->state, ST_DONE) == 0 || strcmp(it->state, ST_SKIPPED) == 0 || strcmp(k, "unrestorable") == 0)
			continue;
		/* folders get their attributes even when a file failed: people must be able to use them */
		if (strcmp(k, "remove") == 0 || strcmp(k, "rmdir") == 0) {
			/* the clean copies are on disk and journaled before the first removal */
			if (!ap->removing) {
				ap->removing = 1;
				apply_commit(ap, 1);
			}
			if (!restores_complete(ap))
				continue;
		} else if (ap->disk_full && strcmp(k, "dirmeta") != 0)
			continue;
		if ((sc = share_of(ap->pl, it->path)) == NULL) {
			item_fail(ap, it, 0, "no longer in a configured share");
		} else if (strcmp(k, "restore") == 0 || strcmp(k, "keep_both") == 0)
			apply_copy(ap, sc, it);
		else if (strcmp(k, "mkdir") == 0)
			apply_mkdir(ap, sc, it);
		else if (strcmp(k, "remove") == 0 || strcmp(k, "rmdir") == 0)
			apply_remove(ap, sc, it);
		else if (strcmp(k, "dirmeta") == 0)
			apply_dirmeta(ap, sc, it);
		else
			item_fail(ap, it, 0, "unknown step");
		if (strcmp(it->state, ST_FAILED) != 0)
			ap->done++;
		if (journal_restore_item_update(ap->j, it) == -1)
			log_warnx("restore: cannot record step %" PRId64 " in the journal", it->seq);
		ap->touched[i] = 1;
		ap->cur = i + 1;
		if (++ap->batch >= COMMIT_ITEMS || mono_ms() - ap->last_commit >= COMMIT_MS)
			apply_commit(ap, 1);
		apply_progress(ap, 0);
	}
	apply_commit(ap, 0);
	apply_progress(ap, 1);
}

/* ---- The command. ---- */

static void
shares_open(struct plan *pl)
{
	const struct share *sh;
	size_t n = 0;
	int slash;

	for (sh = pl->cfg->shares; sh; sh = sh->next)
		n++;
	pl->sc = xcalloc(n ? n : 1, sizeof(*pl->sc));
	slash = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (sh = pl->cfg->shares; sh; sh = sh->next) {
		struct sharectx *sc = &pl->sc[pl->nsc++];
		char err[256];

		sc->sh = sh;
		sc->pathlen = strlen(sh->path);
		sc->rootfd = sc->snapfd = -1;
		if ((sc->be = snapshot_backend(sh, sc->why, sizeof(sc->why))) == NULL)
			continue;
		if (snapshot_list(sh, &sc->snaps, &sc->nsnaps, err, sizeof(err)) == -1) {
			snprintf(sc->why, sizeof(sc->why), "%s", err);
			sc->snaps = NULL;
			sc->nsnaps = 0;
			continue;
		}
		if ((sc->snap = snapshot_before(sc->snaps, sc->nsnaps, pl->cut)) == NULL)
			continue;
		if (sc->be->root(sh, sc->snap->name, sc->root, sizeof(sc->root), err, sizeof(err)) == -1) {
			snprintf(sc->why, sizeof(sc->why), "%s", err);
			continue;
		}
		/* no symlink anywhere in the share's path: a folder swapped for one must not lead the restore out */
		if ((sc->rootfd = fs_open_beneath(slash, sh->path + strspn(sh->path, "/"), O_RDONLY | O_DIRECTORY,
		    0)) == -1) {
			snprintf(sc->why, sizeof(sc->why), "the share %.180s: %s", sh->path,
			    errno == ELOOP || errno == EXDEV ? "a symlink is in its path" : strerror(errno));
			continue;
		}
		if ((sc->snapfd = open(sc->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			snprintf(sc->why, sizeof(sc->why), "%.180s: %s", sc->root, strerror(errno));
	}
	if (slash != -1)
		close(slash);
}

static void
plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->nsc; i++) {
		if (pl->sc[i].rootfd != -1)
			close(pl->sc[i].rootfd);
		if (pl->sc[i].snapfd != -1)
			close(pl->sc[i].snapfd);
		free(pl->sc[i].snaps);
	}
	free(pl->sc);
	for (size_t i = 0; i < pl->nolist; i++) {
		struct orec *r = pl->olist[i];

		for (size_t k = 0; k < r->nproduced; k++)
			free(r->produced[k]);
		free(r->produced);
		free(r->origin);
		free(r);
	}
	free(pl->olist);
	hmap_free(&pl->orecs, 0);
	hmap_free(&pl->others, 0);
	hmap_free(&pl->pre, 0);
	hmap_free(&pl->targets, 0);
	hmap_free(&pl->mkdirs, 0);
	hmap_free(&pl->unrestorable, 0);
	tree_free(&pl->tree);
	for (size_t i = 0; i < pl->nitems; i++) {
		free(pl->items[i].it.path);
		free(pl->items[i].it.src);
		free(pl->items[i].it.aux);
	}
	free(pl->items);
	for (size_t i = 0; i < pl->nrm; i++) {
		free(pl->rm[i].path);
		free(pl->rm[i].origin);
	}
	free(pl->rm);
	free(pl->notes.p);
	event_rec_free(pl->ev, pl->nev);
	if (pl->canaries)
		canary_set_free(pl->canaries);
	free(pl->buf);
}

/* Applies items (journaled already), records the outcome and prints the report. */
static int
restore_apply(struct plan *pl, struct journal *j, struct restore_rec *rr, struct restore_item *items, size_t n,
    const struct restore_opts *o, FILE *out)
{
	struct apply ap = { 0 };
	struct counts c;
	size_t failed = 0, pending = 0, restored = 0, removed = 0, skipped = 0;
	int64_t t0 = mono_ms();
	int rc;

	ap.pl = pl;
	ap.j = j;
	ap.o = o;
	ap.items = items;
	ap.n = n;
	ap.touched = xcalloc(n ? n : 1, 1);
	apply_items(&ap);
	free(ap.touched);
	count_items(items, n, &c);
	for (size_t i = 0; i < n; i++) {
		const struct restore_item *it = &items[i];
		const char *k = it->kind;

		if (state_is(k, "unrestorable"))
			print_item(pl, it, NULL, out);
		else if (state_is(it->state, ST_FAILED)) {
			failed++;
			print_item(pl, it, "failed", out);
		} else if (state_is(it->state, ST_PENDING))
			pending++;
		else if (state_is(it->state, ST_SKIPPED)) {
			skipped++;
			print_item(pl, it, "left", out);
		} else if (state_is(it->state, ST_DONE)) {
			if (state_is(k, "restore") || state_is(k, "keep_both"))
				restored++;
			else if (state_is(k, "remove") || state_is(k, "rmdir"))
				removed++;
			if (state_is(k, "keep_both"))
				print_item(pl, it, NULL, out);
		}
	}
	if (pl->notes.n)
		fwrite(pl->notes.p, 1, pl->notes.n, out);
	rr->restored = (int64_t)restored;
	rr->removed = (int64_t)removed;
	rr->conflicts = (int64_t)c.keep_both;
	rr->failed = (int64_t)failed;
	rr->unrestorable = (int64_t)c.unrestorable;
	rr->finished_at = now_ms();
	if (failed == 0 && pending == 0) {
		snprintf(rr->state, sizeof(rr->state), "%s", RESTORE_DONE);
		snprintf(rr->detail, sizeof(rr->detail), "restored %zu, removed %zu, conflicts %zu, unrestorable %zu",
		    restored, removed, c.keep_both, c.unrestorable);
	} else {
		snprintf(rr->state, sizeof(rr->state), "%s", restored + removed ? RESTORE_PARTIAL : RESTORE_FAILED);
		snprintf(rr->detail, sizeof(rr->detail), "%zu failed, %zu not done yet%s", failed, pending,
		    ap.disk_full ? "; disk full" : "");
	}
	if (journal_restore_put(j, rr) == -1)
		log_warnx("restore: cannot record the outcome in the journal");
	if (state_is(rr->state, RESTORE_DONE)) {
		if (pl->cfg->canaries && canary_seed(pl->cfg, NULL) == -1)
			log_warnx("restore: re-seeding the canaries failed; run `sharewarden canaries`");
		snprintf(pl->inc.state, sizeof(pl->inc.state), "%s", INC_RESTORED);
		if (journal_incident_update(j, &pl->inc) == -1)
			log_warnx("restore: cannot mark incident %" PRId64 " restored", pl->inc.id);
	}
	fprintf(out, "restored %zu, removed %zu, conflicts %zu, failed %zu, unrestorable %zu", restored, removed,
	    c.keep_both, failed, c.unrestorable);
	if (skipped)
		fprintf(out, ", left %zu", skipped);
	fprintf(out, "; verified %zu by SHA-256; %.1f s\n", ap.verified, (double)(mono_ms() - t0) / 1000.0);
	rc = RESTORE_EXIT_OK;
	if (ap.disk_full) {
		fprintf(out, "the disk is full: nothing was removed; free space on the share and run "
		    "`sharewarden restore %" PRId64 "` again to finish\n", pl->inc.id);
		rc = RESTORE_EXIT_FAILED;
	} else if (failed || pending) {
		fprintf(out, "%zu step%s failed%s; fix the cause and run `sharewarden restore %" PRId64 "` again to "
		    "resume\n", failed, failed == 1 ? "" : "s", pending ? " (removals wait until every file is back)" : "",
		    pl->inc.id);
		rc = RESTORE_EXIT_FAILED;
	} else if (c.unrestorable || pl->nleft_in) {
		/* every step is done, yet the share is not as it was: say what stays and what to do */
		fprintf(out, "incident %" PRId64 " restored as far as the snapshot allows, but the share is NOT fully "
		    "back:", pl->inc.id);
		if (c.unrestorable)
			fprintf(out, " %zu file%s no clean snapshot holds (listed as unrestorable above: take them "
			    "from a backup)%s", c.unrestorable, c.unrestorable == 1 ? "" : "s", pl->nleft_in ? ";" : "");
		if (pl->nleft_in)
			fprintf(out, " %zu name%s left in place (listed as leave above, with the reason: check each "
			    "and remove it by hand if it is the attacker's)", pl->nleft_in, pl->nleft_in == 1 ? "" : "s");
		fputs("\n", out);
		rc = RESTORE_EXIT_FAILED;
	} else {
		fprintf(out, "incident %" PRId64 " restored\n", pl->inc.id);
	}
	return rc;
}

/*
 * The plan is only as good as the journal: while the daemon runs, wait until
 * it has read and journaled everything up to the incident's containment (it
 * may still be walking switches, or reading a backlog). 0 when the journal is
 * complete enough, RESTORE_EXIT_REFUSED after saying why.
 */
static int
wait_journal(struct journal *j, const struct incident *inc, FILE *out)
{
	int64_t target = inc->contained_at > inc->detected_at ? inc->contained_at : inc->detected_at;
	int64_t t0 = mono_ms(), pid = 0, hb = 0, through = 0;
	int said = 0;

	if (state_is(inc->state, INC_OPEN))
		target = now_ms();	/* --force: everything until now */
	for (;;) {
		if (journal_stat_get(j, "pid", &pid) != 0 || journal_stat_get(j, "heartbeat", &hb) != 0 || pid <= 0)
			return 0;	/* no daemon ever wrote this journal */
		if (kill((pid_t)pid, 0) != 0 || now_ms() - hb > 5000) {
			fputs("note: the daemon is not running: the plan rests on what it journaled before it stopped "
			    "and on what the folders show\n", out);
			return 0;
		}
		if (journal_stat_get(j, "journal_through", &through) == 0 && through >= target)
			return 0;
		if (mono_ms() - t0 > RESTORE_WAIT_MS) {
			char t[32];

			fprintf(out, "restore refused: the daemon has journaled the events only up to %s, not yet up to "
			    "the incident's containment; it may be reading a backlog or waiting for a switch: run the "
			    "restore again in a minute; nothing was changed\n", through ? fmt_time(through, t) : "never");
			return RESTORE_EXIT_REFUSED;
		}
		if (!said && mono_ms() - t0 > 1500) {
			fputs("waiting for the daemon to journal every event up to the containment ...\n", out);
			fflush(out);
			said = 1;
		}
		usleep(100 * 1000);
	}
}

int
restore_run(const struct config *cfg, struct journal *j, int64_t id, const struct restore_opts *o, FILE *out)
{
	struct plan pl;
	struct restore_rec rr;
	struct restore_item *items = NULL;
	size_t n = 0;
	int64_t since;
	int rc, rrc;

	memset(&pl, 0, sizeof(pl));
	memset(&rr, 0, sizeof(rr));
	pl.cfg = cfg;
	rc = journal_incident_get(j, id, &pl.inc);
	if (rc != 0) {
		if (rc == 1)
			fprintf(out, "restore refused: no incident %" PRId64 "; nothing was changed\n", id);
		return rc == 1 ? RESTORE_EXIT_REFUSED : RESTORE_EXIT_FAILED;
	}
	pl.cut = (pl.inc.first_event_at ? pl.inc.first_event_at : pl.inc.detected_at) - cfg->restore_lookback_ms;
	if ((rrc = journal_restore_get(j, id, &rr)) == -1)
		return RESTORE_EXIT_FAILED;
	if (!o->dry_run && rrc == 0 && state_is(rr.state, RESTORE_DONE)) {
		char t[32];

		fprintf(out, "incident %" PRId64 " was already restored (finished %s): restored %" PRId64 ", removed %"
		    PRId64 ", conflicts %" PRId64 ", unrestorable %" PRId64 "; nothing to do, nothing was changed\n",
		    id, fmt_time(rr.finished_at, t), rr.restored, rr.removed, rr.conflicts, rr.unrestorable);
		if (rr.unrestorable > 0) {
			fprintf(out, "the share is NOT fully back: %" PRId64 " file%s no clean snapshot held; take them "
			    "from a backup (`sharewarden restore %" PRId64 " --dry-run` lists them)\n", rr.unrestorable,
			    rr.unrestorable == 1 ? "" : "s", id);
			return RESTORE_EXIT_FAILED;
		}
		return RESTORE_EXIT_OK;
	}
	if (!o->dry_run && state_is(pl.inc.state, INC_OPEN) && !o->force) {
		fprintf(out, "restore refused: incident %" PRId64 " is still open (its actor is not contained yet, "
		    "and could damage the files again); contain it first, or use --force; nothing was changed\n", id);
		return RESTORE_EXIT_REFUSED;
	}
	if ((rc = wait_journal(j, &pl.inc, out)) != 0)
		return rc;
	pl.buf = xmalloc(HASHBUF);
	shares_open(&pl);
	/* a plan that was started: resume it, skipping what is done */
	if (!o->dry_run && rrc == 0 && (state_is(rr.state, RESTORE_RUNNING) || state_is(rr.state, RESTORE_PARTIAL) ||
	    state_is(rr.state, RESTORE_FAILED))) {
		if (journal_restore_items(j, id, &items, &n) == -1) {
			plan_free(&pl);
			return RESTORE_EXIT_FAILED;
		}
		if (n > 0) {
			size_t done = 0;

			for (size_t i = 0; i < n; i++) {
				struct sharectx *sc = share_of(&pl, items[i].path);

				if (sc)
					sc->used = 1;
				if (!state_is(items[i].state, ST_PENDING) && !state_is(items[i].state, ST_FAILED))
					done++;
			}
			print_header(&pl, out);
			fprintf(out, "resuming the restore begun %s: %zu of %zu steps done\n",
			    fmt_time(rr.started_at, (char[32]){ 0 }), done, n);
			snprintf(rr.state, sizeof(rr.state), "%s", RESTORE_RUNNING);
			journal_restore_put(j, &rr);
			rc = restore_apply(&pl, j, &rr, items, n, o, out);
			restore_item_free(items, n);
			plan_free(&pl);
			return rc;
		}
		restore_item_free(items, n);
		items = NULL;
	}
	since = pl.cut;
	for (size_t i = 0; i < pl.nsc; i++)
		if (pl.sc[i].snap && pl.sc[i].snap->taken_ms < since)
			since = pl.sc[i].snap->taken_ms;
	if (journal_events_since(j, since, &pl.ev, &pl.nev) == -1) {
		plan_free(&pl);
		return RESTORE_EXIT_FAILED;
	}
	pl.canaries = canary_set_load(cfg);
	if ((rc = plan_build(&pl, out)) != 0) {
		plan_free(&pl);
		return rc;
	}
	print_header(&pl, out);
	if (o->progress) {
		struct counts c;

		n = pl.nitems;
		items = xcalloc(n ? n : 1, sizeof(*items));
		for (size_t i = 0; i < n; i++)
			items[i] = pl.items[i].it;
		count_items(items, n, &c);
		fprintf(stderr, "restore: plan of %zu steps: %zu to restore, %zu to remove, %zu conflicts, %zu "
		    "unrestorable\n", n, c.restore, c.remove + c.rmdir, c.keep_both, c.unrestorable);
		free(items);
	}
	if (o->dry_run) {
		print_plan(&pl, out);
		if (rrc == 0 && !state_is(rr.state, RESTORE_NONE))
			fprintf(out, "(a restore of this incident is recorded as %s)\n", rr.state);
		fputs("dry run: nothing was changed\n", out);
		plan_free(&pl);
		return RESTORE_EXIT_OK;
	}
	/* the plan is journaled before anything changes, so a crash resumes it */
	n = pl.nitems;
	items = xcalloc(n ? n : 1, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		items[i] = pl.items[i].it;
		pl.items[i].it.path = pl.items[i].it.src = pl.items[i].it.aux = NULL;
	}
	rr.incident_id = id;
	snprintf(rr.state, sizeof(rr.state), "%s", RESTORE_RUNNING);
	for (size_t i = 0; i < pl.nsc; i++) {
		if (pl.sc[i].used && pl.sc[i].snap) {
			snprintf(rr.share, sizeof(rr.share), "%s", pl.sc[i].sh->name);
			snprintf(rr.snapshot, sizeof(rr.snapshot), "%s", pl.sc[i].snap->name);
			rr.snapshot_at = pl.sc[i].snap->taken_ms;
			break;
		}
	}
	rr.started_at = now_ms();
	rr.finished_at = 0;
	rr.restored = rr.removed = rr.conflicts = rr.failed = rr.unrestorable = 0;
	rr.detail[0] = '\0';
	if (journal_restore_items_set(j, id, items, n) == -1 || journal_restore_put(j, &rr) == -1) {
		fprintf(out, "restore failed: cannot record the plan in the journal; nothing was changed\n");
		restore_item_free(items, n);
		plan_free(&pl);
		return RESTORE_EXIT_FAILED;
	}
	rc = restore_apply(&pl, j, &rr, items, n, o, out);
	restore_item_free(items, n);
	plan_free(&pl);
	return rc;
}
