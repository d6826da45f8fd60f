/* The daemon: sources -> attribution -> detection -> journal -> responders, in one event loop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "canary.h"
#include "config.h"
#include "content.h"
#include "daemon.h"
#include "detect.h"
#include "event.h"
#include "fanotify.h"
#include "firewall.h"
#include "fleet.h"
#include "incident.h"
#include "journal.h"
#include "leases.h"
#include "log.h"
#include "notify.h"
#include "respond.h"
#include "rules.h"
#include "session.h"
#include "replicate.h"
#include "snapsched.h"
#include "util.h"

#define MAX_PENDING	64
#define MAX_HELD	64	/* incidents whose account is held: its new sessions are denied */
#define HELD_PIDS	64
#define TICK_MS		250
#define DEBOUNCE_MS	150	/* audit-only content analysis: a file is read this long after its last write */
#define MAX_DEBOUNCE	256
#define PID_CACHE	256
#define PARK_MAX	4096	/* kernel events waiting for their session to be known */
#define PARK_MS		3000	/* ... at most this long */
#define OVERFLOW_QUIET_MS 5000	/* kernel queue overflows this far apart are one episode of lost events */
#define OVERFLOW_FLUSH_MS 1000	/* an episode's notices are brought up to date this often */
#define OVERFLOW_INCIDENTS 16	/* incidents one episode's notices name */

static volatile sig_atomic_t quit_flag;

struct daemon;
static void park_replay(struct daemon *d, int pid);

/* A written file waiting for content analysis (audit-only mode has no close event). */
struct debounce {
	uint64_t h;
	char *path;
	size_t pathlen;
	char user[128];
	char ip[64];
	int pid;
	int64_t due;		/* mono ms */
};

/* Whether a pid is a client smbd: read once from /proc, so local processes cost nothing later. */
struct pid_kind {
	int pid;
	int smbd;
	int64_t until;		/* mono ms: re-check after (pids are reused) */
};

/*
 * Kernel events lost to queue overflows: one episode from the first overflow
 * until none came for OVERFLOW_QUIET_MS, journaled as the daemon's notice and
 * one notice per incident that was open meanwhile.
 */
struct overflow_episode {
	int active;
	struct notice all;			/* incident_id 0 */
	struct notice inc[OVERFLOW_INCIDENTS];
	size_t ninc;
	int canaries_bad;			/* canaries changed when last checked; -1 not checked */
	int dirty;
	int64_t flushed;			/* mono ms */
	int64_t last;				/* mono ms of the latest overflow */
};

/* A kernel event of an smbd pid whose session is not known yet (a new client): replayed once it is. */
struct parked {
	struct sw_event ev;	/* its strings point into buf; handle is NULL (see has_h) */
	char *buf;
	struct sw_handle h;
	int has_h;
	int64_t until;		/* mono ms */
};

/*
 * An isolated account: a disabled AD account keeps the sessions and Kerberos
 * tickets it had, and the fleet's incidents come from another client, so
 * every new session of it is denied until the release.
 */
struct held {
	int64_t incident_id;
	char user[128];
	unsigned uid;			/* its Unix uid, held in the deny group (0: unknown, pids only) */
	int pids[HELD_PIDS];		/* denied for this incident */
	int npids;
};

struct daemon {
	struct config *cfg;
	struct journal *j;
	struct rules *rules;
	struct detect *det;
	struct audit_parser *ap;
	struct audit_source *as;
	struct fan_source *fs;
	struct fan_deny *deny;
	struct content_worker *cw;
	struct canary_set *canaries;
	struct session_cache *sc;
	struct notifier *notifier;		/* NULL without mail or webhooks */
	struct respond_worker *rw;		/* the slow responders; NULL: they run in the loop */
	int audit_primary;			/* audit lines drive detection; kernel events feed content only */
	struct actor *pending[MAX_PENDING];	/* crossed the threshold during this batch */
	int npending;
	struct debounce deb[MAX_DEBOUNCE];
	int ndeb;
	struct pid_kind pids[PID_CACHE];
	struct parked *park;			/* PARK_MAX, a ring */
	size_t park_head, npark;
	uint64_t unattributed;			/* kernel events whose session never became known */
	uint64_t content_seq;
	int in_tx;
	int64_t started_at;
	int64_t overflows, last_overflow_at;
	struct overflow_episode ov;
	int64_t through;			/* every source was empty then and all read is committed */
	int64_t last_stats, last_prune, last_release_check, last_idle_trim;
	int actors_warned;			/* the actor table reached max actors once */
	struct snapsched *snapsched;		/* the snapshot schedule's thread; NULL without a schedule */
	struct replsched *replsched;		/* replication's thread; NULL without [replication] target */
	struct fleet *fleet;			/* NULL without [fleet] nats */
	struct held held[MAX_HELD];
	int nheld;
	struct timespec canary_mtime;		/* of the registry when last loaded (restore re-seeds it) */
};

static void
on_signal(int sig)
{
	(void)sig;
	quit_flag = 1;
}

static const struct share *
share_of(const struct daemon *d, struct sw_str name)
{
	for (const struct share *s = d->cfg->shares; s; s = s->next)
		if (strlen(s->name) == name.n && strncasecmp(s->name, name.p, name.n) == 0)
			return s;
	return NULL;
}

static void
tx_begin(struct daemon *d)
{
	if (!d->in_tx && journal_begin(d->j) == 0)
		d->in_tx = 1;
}

static void
tx_commit(struct daemon *d)
{
	if (d->in_tx) {
		journal_commit(d->j);
		d->in_tx = 0;
	}
}

/* What detection said about one event or content verdict: journal signals, queue a new incident. */
static void
on_verdict(struct daemon *d, const struct detect_verdict *v)
{
	if (v->actor == NULL || v->nsig == 0)
		return;
	/* Signals below the incident score are journaled nowhere: the debug log shows how close an actor came. */
	for (int i = 0; i < v->nsig; i++)
		log_debug("signal %s (weight %g, %s) for %s from %s: score %g", v->sig[i]->kind, v->sig[i]->weight,
		    v->sig[i]->detail, v->actor->user, v->actor->ip, v->actor->score);
	if (v->actor->incident_id > 0) {
		tx_begin(d);
		for (int i = 0; i < v->nsig; i++)
			journal_signal_add(d->j, v->actor->incident_id, v->sig[i]->kind, v->sig[i]->path,
			    v->sig[i]->pathlen, v->sig[i]->at, v->sig[i]->weight, v->sig[i]->detail);
		return;
	}
	if (!v->crossed)
		return;
	for (int i = 0; i < d->npending; i++)
		if (d->pending[i] == v->actor)
			return;
	if (d->npending < MAX_PENDING)
		d->pending[d->npending++] = v->actor;
}

static void
content_submit(struct daemon *d, const struct sw_event *ev, const char *user, const char *ip)
{
	struct content_job job;

	memset(&job, 0, sizeof job);
	job.seq = ++d->content_seq;
	job.at = ev->at_ms;
	job.pid = ev->pid;
	snprintf(job.user, sizeof job.user, "%s", user);
	snprintf(job.ip, sizeof job.ip, "%s", ip);
	job.path = (char *)ev->path.p;	/* copied by submit */
	job.pathlen = ev->path.n;
	if (ev->handle) {
		job.has_handle = 1;
		job.handle = *ev->handle;
	}
	if (content_worker_submit(d->cw, &job) != 0)
		log_debug("content queue full: a written file was not analyzed");
}

static uint64_t
path_hash(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Audit-only content analysis: analyze a file once its writes have paused; follow its renames. */
static void
debounce_event(struct daemon *d, const struct sw_event *ev)
{
	uint64_t h = path_hash(ev->path.p, ev->path.n);
	struct debounce *b = NULL;

	for (int i = 0; i < d->ndeb; i++)
		if (d->deb[i].h == h && d->deb[i].pathlen == ev->path.n &&
		    memcmp(d->deb[i].path, ev->path.p, ev->path.n) == 0)
			b = &d->deb[i];
	if (ev->op == OP_RENAME) {
		if (b) {
			free(b->path);
			b->path = xstrndup(ev->path2.p, ev->path2.n);
			b->pathlen = ev->path2.n;
			b->h = path_hash(ev->path2.p, ev->path2.n);
		}
		return;
	}
	if (b == NULL) {
		if (d->ndeb == MAX_DEBOUNCE)
			return;
		b = &d->deb[d->ndeb++];
		b->h = h;
		b->path = xstrndup(ev->path.p, ev->path.n);
		b->pathlen = ev->path.n;
		str_copy(b->user, sizeof b->user, ev->user);
		str_copy(b->ip, sizeof b->ip, ev->ip);
		b->pid = ev->pid;
	}
	b->due = mono_ms() + DEBOUNCE_MS;
}

static void
debounce_flush(struct daemon *d, int all)
{
	int64_t now = mono_ms();

	for (int i = 0; i < d->ndeb; ) {
		struct debounce *b = &d->deb[i];

		if (!all && b->due > now) {
			i++;
			continue;
		}
		if (!all) {
			struct sw_event ev;

			memset(&ev, 0, sizeof ev);
			ev.at_ms = now_ms();
			ev.pid = b->pid;
			ev.path.p = b->path;
			ev.path.n = b->pathlen;
			content_submit(d, &ev, b->user, b->ip);
		}
		free(b->path);
		d->deb[i] = d->deb[--d->ndeb];
	}
}

/* The scored path shared by both sources: journal, detection, verdict. */
static void
score_event(struct daemon *d, const struct sw_event *ev)
{
	struct detect_verdict v;

	if (op_mutates(ev)) {
		tx_begin(d);
		journal_add_event(d->j, ev);
	}
	detect_feed(d->det, ev, &v);
	on_verdict(d, &v);
}

/* The account part of a name: "LAB\\alice", "alice@lab.test" and "alice" are one account. */
static struct sw_str
account_base(const char *s, size_t n)
{
	struct sw_str r = { s, n };
	const char *bs = memrchr(s, '\\', n), *at;

	if (bs != NULL) {
		r.p = bs + 1;
		r.n = n - (size_t)(r.p - s);
	}
	if ((at = memchr(r.p, '@', r.n)) != NULL)
		r.n = (size_t)(at - r.p);
	return r;
}

/*
 * One account: the same base name, and the same domain when both names
 * carry one in the DOMAIN\user form ("LAB\alice" is not "OTHER\alice").
 */
static int
same_account(const char *a, const char *b, size_t bn)
{
	size_t an = strlen(a);
	struct sw_str x = account_base(a, an), y = account_base(b, bn);
	const char *ad = memchr(a, '\\', an), *bd = memchr(b, '\\', bn);

	if (x.n == 0 || x.n != y.n || strncasecmp(x.p, y.p, x.n) != 0)
		return 0;
	if (ad != NULL && bd != NULL &&
	    ((size_t)(ad - a) != (size_t)(bd - b) || strncasecmp(a, b, (size_t)(ad - a)) != 0))
		return 0;
	return 1;
}

/* The Unix uid of an account as smbd runs its sessions ("LAB\\alice" through winbind, or "alice"); 0 = none. */
static unsigned
account_uid(const char *user)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	struct sw_str base = account_base(user, strlen(user));
	char name[128];

	if (getpwnam_r(user, &pw, buf, sizeof buf, &res) == 0 && res != NULL && pw.pw_uid != 0)
		return pw.pw_uid;
	snprintf(name, sizeof name, "%.*s", (int)base.n, base.p);
	if (strcmp(name, user) != 0 && getpwnam_r(name, &pw, buf, sizeof buf, &res) == 0 && res != NULL &&
	    pw.pw_uid != 0)
		return pw.pw_uid;
	return 0;
}

/* Holds inc's account: its sessions denied now (pids) and every new one until the release. */
static void
hold_account(struct daemon *d, const struct incident *inc, const int *pids, int n)
{
	struct held *h;
	char key[64];

	if (d->deny == NULL)
		return;
	if (d->nheld == MAX_HELD) {
		log_warnx("incident %lld: %d accounts are held already: new sessions of this one are not denied "
		    "(its account lock and IP block still stand)", (long long)inc->id, MAX_HELD);
		return;
	}
	h = &d->held[d->nheld++];
	memset(h, 0, sizeof *h);
	h->incident_id = inc->id;
	snprintf(h->user, sizeof h->user, "%s", inc->user);
	for (int i = 0; i < n && h->npids < HELD_PIDS; i++)
		if (pids[i] > 0)
			h->pids[h->npids++] = pids[i];
	/* smbd works as the session's user: its uid denies a new session from its first open. */
	h->uid = account_uid(inc->user);
	if (h->uid != 0 && fan_deny_hold_uid(d->deny, h->uid) != 0) {
		log_warn("incident %lld: cannot hold uid %u in the deny group", (long long)inc->id, h->uid);
		h->uid = 0;
	}
	/* `release` waits for the daemon to let the account go (see release_held). */
	snprintf(key, sizeof key, "%s%lld", RESPOND_HELD_KEY, (long long)inc->id);
	tx_begin(d);
	journal_stat_set(d->j, key, now_ms());
	tx_commit(d);
}

/* The denies of every held account again: one released incident lifted pids another still holds. */
static void
reapply_held(struct daemon *d)
{
	for (int i = 0; i < d->nheld; i++)
		for (int k = 0; k < d->held[i].npids; k++)
			if (fan_deny_add(d->deny, d->held[i].pids[k]) != 0 && errno != ESRCH)
				log_warn("incident %lld: cannot deny smbd %d again", (long long)d->held[i].incident_id,
				    d->held[i].pids[k]);
}

/* Whether incident id's deny took effect (the account is then held). */
static int
deny_done(struct daemon *d, int64_t id)
{
	struct action *acts = NULL;
	size_t n = 0;
	int ok = 0;

	if (journal_action_list(d->j, id, &acts, &n) != 0)
		return 0;
	for (size_t i = 0; i < n && !ok; i++)
		ok = strcmp(acts[i].kind, "deny_writer") == 0 && strcmp(acts[i].result, "ok") == 0;
	free(acts);
	return ok;
}

static void release_held(struct daemon *d);

/* A new session of a held account: denied at once, journaled on its incident. */
static void
deny_held_session(struct daemon *d, const struct sw_event *ev)
{
	char ip[64], user[128];
	struct action a;

	for (int i = 0; i < d->nheld; i++) {
		struct held *h = &d->held[i];
		struct incident inc;
		int known = 0;

		if (!same_account(h->user, ev->user.p, ev->user.n))
			continue;
		for (int k = 0; k < h->npids; k++)
			known |= h->pids[k] == ev->pid;
		if (known || ev->pid <= 0)
			continue;
		/* Released (by the CLI, a moment ago): the account logs on again freely. */
		if (journal_incident_get(d->j, h->incident_id, &inc) == 0 && strcmp(inc.state, INC_RELEASED) == 0) {
			release_held(d);
			return;
		}
		if (h->npids == HELD_PIDS) {
			log_warnx("incident %lld: %d sessions of the held account are denied already: this one is not",
			    (long long)h->incident_id, HELD_PIDS);
			continue;
		}
		if (fan_deny_add(d->deny, ev->pid) != 0) {
			log_warn("incident %lld: cannot deny the new session (smbd %d) of the held account",
			    (long long)h->incident_id, ev->pid);
			continue;
		}
		h->pids[h->npids++] = ev->pid;
		memset(&a, 0, sizeof a);
		a.incident_id = h->incident_id;
		a.at = now_ms();
		snprintf(a.kind, sizeof a.kind, "deny_writer");
		snprintf(a.target, sizeof a.target, "smbd %d", ev->pid);
		snprintf(a.result, sizeof a.result, "ok");
		snprintf(a.state, sizeof a.state, "%s", ACT_DONE);
		snprintf(a.detail, sizeof a.detail, "a new session of the isolated account %s from %s: every open "
		    "refused until the release", respond_sanitize(user, sizeof user, ev->user.p, ev->user.n),
		    respond_sanitize(ip, sizeof ip, ev->ip.p, ev->ip.n));
		tx_begin(d);
		journal_action_add(d->j, &a);
		tx_commit(d);
		log_warnx("incident %lld: %s", (long long)h->incident_id, a.detail);
	}
}

/* Released incidents let their account go: the denies of its sessions are lifted. */
static void
release_held(struct daemon *d)
{
	struct incident inc;
	char user[128], key[64];
	int lifted = 0;

	for (int i = 0; i < d->nheld;) {
		struct held *h = &d->held[i];

		/* Only a release that completed: one that failed puts the incident back, still held. */
		if (journal_incident_get(d->j, h->incident_id, &inc) != 0 || strcmp(inc.state, INC_RELEASED) != 0) {
			i++;
			continue;
		}
		for (int k = 0; k < h->npids; k++)
			fan_deny_remove(d->deny, h->pids[k]);
		if (h->uid != 0)
			fan_deny_release_uid(d->deny, h->uid);
		log_info("incident %lld released: new sessions of %s are allowed again", (long long)h->incident_id,
		    respond_sanitize(user, sizeof user, h->user, strlen(h->user)));
		snprintf(key, sizeof key, "%s%lld", RESPOND_HELD_KEY, (long long)h->incident_id);
		tx_begin(d);
		journal_stat_set(d->j, key, 0);
		tx_commit(d);
		d->held[i] = d->held[--d->nheld];
		lifted = 1;
	}
	if (lifted)
		reapply_held(d);
}

static void
on_audit_event(const struct sw_event *ev, void *arg)
{
	struct daemon *d = arg;

	/* Every line names its smbd pid's user and client: kernel events of that pid need no smbstatus. */
	if (session_learn(d->sc, ev->pid, ev->user.p, ev->user.n, ev->ip.p, ev->ip.n, ev->host.p, ev->host.n)) {
		char user[128];

		/* A new session: the directory is asked now whether its user is protected, not at the incident. */
		if (ev->user.n > 0 && ev->user.n < sizeof user)
			respond_account_prefetch(d->cfg, str_copy(user, sizeof user, ev->user));
		if (d->npark)
			park_replay(d, ev->pid);
		if (d->nheld && ev->user.n)
			deny_held_session(d, ev);
	}
	if (share_of(d, ev->share) == NULL)
		return;
	score_event(d, ev);
	/* Without kernel events, written files are analyzed after their writes pause. */
	if (d->cw && d->fs == NULL && ev->ok && ev->user.n &&
	    (ev->op == OP_WRITE || (ev->op == OP_RENAME && d->ndeb)))
		debounce_event(d, ev);
}

static int
pid_is_smbd(struct daemon *d, int pid)
{
	struct pid_kind *k = &d->pids[(unsigned)pid % PID_CACHE];
	int64_t now = mono_ms();
	char path[64], comm[32] = "";
	int fd;
	ssize_t n;

	if (k->pid == pid && k->until > now)
		return k->smbd;
	snprintf(path, sizeof path, "/proc/%d/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, comm, sizeof comm - 1);
		close(fd);
		comm[n > 0 ? n : 0] = '\0';
	}
	k->pid = pid;
	k->smbd = strncmp(comm, "smbd", 4) == 0;
	k->until = now + 10000;
	return k->smbd;
}

/* The lost window may have touched a canary: each episode checks them all when it begins and ends. */
static void
overflow_check_canaries(struct daemon *d)
{
	struct overflow_episode *ov = &d->ov;

	if (!d->cfg->canaries)
		return;
	ov->canaries_bad = canary_list(d->cfg, NULL);
	if (ov->canaries_bad > 0)
		log_warnx("%d canaries changed while kernel events were lost: see `sharewarden canaries`",
		    ov->canaries_bad);
}

/* "once", "3 times" */
static const char *
times(int64_t n, char buf[32])
{
	if (n == 1)
		return "once";
	snprintf(buf, 32, "%lld times", (long long)n);
	return buf;
}

/* The notices' details, from what the episode knows now. */
static void
overflow_details(struct daemon *d)
{
	struct overflow_episode *ov = &d->ov;
	char ids[128] = "", canaries[96] = "", tb[32];
	const char *audit = d->as ? "full_audit still saw every SMB operation" :
	    "no audit log is configured: SMB activity of that time was not seen";
	size_t len = 0;

	for (size_t i = 0; i < ov->ninc && len < sizeof ids; i++)
		len += (size_t)snprintf(ids + len, sizeof ids - len, "%s%lld", i ? ", " : "; incidents ",
		    (long long)ov->inc[i].incident_id);
	if (ov->canaries_bad == 0)
		snprintf(canaries, sizeof canaries, "; canaries checked: all intact");
	else if (ov->canaries_bad > 0)
		snprintf(canaries, sizeof canaries, "; canaries checked: %d changed (sharewarden canaries)",
		    ov->canaries_bad);
	snprintf(ov->all.detail, sizeof ov->all.detail, "the kernel event queue overflowed %s: kernel "
	    "events were lost; %s%s%s", times(ov->all.count, tb), audit, canaries, ids);
	for (size_t i = 0; i < ov->ninc; i++)
		snprintf(ov->inc[i].detail, sizeof ov->inc[i].detail, "kernel events were lost while this "
		    "incident was under way (the queue overflowed %s): %s%s", times(ov->inc[i].count, tb),
		    d->as ? "full_audit still saw every SMB operation, its files list is complete" :
		    "its files list may miss operations of that time", canaries);
}

static void
overflow_flush(struct daemon *d)
{
	struct overflow_episode *ov = &d->ov;

	overflow_details(d);
	tx_begin(d);
	if (ov->all.id > 0)
		journal_notice_update(d->j, &ov->all);
	for (size_t i = 0; i < ov->ninc; i++)
		if (ov->inc[i].id > 0)
			journal_notice_update(d->j, &ov->inc[i]);
	ov->dirty = 0;
	ov->flushed = mono_ms();
}

/* An incident open during the episode: its report says events were lost. */
static void
overflow_attach(struct daemon *d, int64_t incident_id)
{
	struct overflow_episode *ov = &d->ov;
	struct notice *no;

	if (!ov->active || incident_id <= 0 || ov->ninc == OVERFLOW_INCIDENTS)
		return;
	for (size_t i = 0; i < ov->ninc; i++)
		if (ov->inc[i].incident_id == incident_id)
			return;
	no = &ov->inc[ov->ninc++];
	*no = ov->all;
	no->id = 0;
	no->incident_id = incident_id;
	overflow_details(d);
	tx_begin(d);
	if (journal_notice_add(d->j, no) != 0)
		no->id = 0;
	ov->dirty = 1;
}

static void
overflow_begin(struct daemon *d, int64_t now)
{
	struct overflow_episode *ov = &d->ov;
	struct incident *list = NULL;
	size_t n = 0;

	memset(ov, 0, sizeof *ov);
	ov->active = 1;
	ov->canaries_bad = -1;
	snprintf(ov->all.kind, sizeof ov->all.kind, "%s", NOTICE_KERNEL_OVERFLOW);
	ov->all.first_at = ov->all.last_at = now;
	log_warnx("kernel event queue overflowed: kernel events are being lost; full_audit %s, canaries "
	    "checked now", d->as ? "still covers SMB activity" : "is not configured");
	overflow_check_canaries(d);
	overflow_details(d);
	tx_begin(d);
	if (journal_notice_add(d->j, &ov->all) != 0)
		ov->all.id = 0;
	if (journal_incident_list(d->j, &list, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(list[i].state, INC_OPEN) == 0 || strcmp(list[i].state, INC_CONTAINED) == 0)
				overflow_attach(d, list[i].id);
		free(list);
	}
	ov->flushed = mono_ms();
}

/*
 * The kernel dropped events (FAN_Q_OVERFLOW): counted, and journaled as a
 * notice per episode (and per incident open meanwhile) rather than a row per
 * overflow, which a storm repeats many times a second.
 */
static void
on_overflow(struct daemon *d)
{
	struct overflow_episode *ov = &d->ov;
	int64_t now = now_ms();

	d->overflows++;
	d->last_overflow_at = now;
	if (!ov->active)
		overflow_begin(d, now);
	ov->last = mono_ms();
	ov->all.count++;
	ov->all.last_at = now;
	for (size_t i = 0; i < ov->ninc; i++) {
		ov->inc[i].count++;
		ov->inc[i].last_at = now;
	}
	ov->dirty = 1;
	if (ov->last - ov->flushed >= OVERFLOW_FLUSH_MS)
		overflow_flush(d);
}

/* Brings the episode's notices up to date; ends the episode once overflows stopped. */
static void
overflow_tick(struct daemon *d)
{
	struct overflow_episode *ov = &d->ov;
	int64_t now = mono_ms();
	char t1[32], t2[32];

	if (!ov->active)
		return;
	if (now - ov->last >= OVERFLOW_QUIET_MS) {
		overflow_check_canaries(d);
		overflow_flush(d);
		log_info("kernel events flow again: %lld queue overflows from %s to %s", (long long)ov->all.count,
		    fmt_time(ov->all.first_at, t1), fmt_time(ov->all.last_at, t2));
		ov->active = 0;
	} else if (ov->dirty && now - ov->flushed >= OVERFLOW_FLUSH_MS)
		overflow_flush(d);
}

/* A kernel event of a known session: content analysis, and scoring or the journal. */
static void
fan_feed(struct daemon *d, const struct sw_event *ev, const struct smb_session *sess)
{
	const struct smb_session *s = sess;
	struct sw_event e;

	e = *ev;
	e.user.p = s->user;
	e.user.n = strlen(s->user);
	e.ip.p = s->ip;
	e.ip.n = strlen(s->ip);
	e.host.p = s->host;
	e.host.n = strlen(s->host);
	if (d->cw && ev->op == OP_CLOSE && (ev->flags & EVF_WRITE) && !(ev->flags & EVF_DIR))
		content_submit(d, &e, s->user, s->ip);
	if (!d->audit_primary) {
		score_event(d, &e);
		return;
	}
	/*
	 * full_audit drives detection, but the kernel's word on a canary comes
	 * first when a burst of audit lines is still being read.
	 */
	if (d->canaries) {
		struct detect_verdict v;

		detect_canary(d->det, &e, &v);
		on_verdict(d, &v);
	}
	if ((e.op == OP_CREATE || e.op == OP_MKDIR) && op_mutates(&e)) {
		/*
		 * Detection counts the audit line; the journal also keeps the kernel's word that a
		 * name was made, for the restore: a create the deny cut short leaves a file whose
		 * create_file line says "fail", and a dropped line leaves nothing at all.
		 */
		e.flags |= EVF_WITNESS;
		tx_begin(d);
		journal_add_event(d->j, &e);
	}
}

static void
park_free(struct parked *p)
{
	free(p->buf);
	p->buf = NULL;
}

/* Copies v to *b and moves *b past it; the copy, or NULL for an empty v. */
static const char *
park_copy(char **b, struct sw_str v)
{
	char *p = *b;

	if (v.n == 0)
		return NULL;
	memcpy(p, v.p, v.n);
	*b += v.n;
	return p;
}

/* Keeps a copy of ev until its session is known (the oldest goes when the ring is full). */
static void
park_event(struct daemon *d, const struct sw_event *ev)
{
	struct parked *p;
	char *b;

	if (d->park == NULL)
		d->park = xcalloc(PARK_MAX, sizeof *d->park);
	if (d->npark == PARK_MAX) {
		park_free(&d->park[d->park_head]);
		d->park_head = (d->park_head + 1) % PARK_MAX;
		d->npark--;
		d->unattributed++;
	}
	p = &d->park[(d->park_head + d->npark++) % PARK_MAX];
	p->ev = *ev;
	p->until = mono_ms() + PARK_MS;
	b = p->buf = xmalloc(ev->path.n + ev->path2.n + ev->share.n + 1);
	p->ev.path.p = park_copy(&b, ev->path);
	p->ev.path2.p = park_copy(&b, ev->path2);
	p->ev.share.p = park_copy(&b, ev->share);
	p->ev.handle = NULL;
	if ((p->has_h = ev->handle != NULL))
		p->h = *ev->handle;
}

/*
 * Replays the parked events whose session is known now (pid > 0: only that
 * pid's; 0: every one), in their order; drops those past their time.
 */
static void
park_replay(struct daemon *d, int pid)
{
	size_t n = d->npark, kept = 0;
	int64_t now = mono_ms();

	for (size_t i = 0; i < n; i++) {
		struct parked p = d->park[(d->park_head + i) % PARK_MAX];
		struct smb_session s;

		if ((pid == 0 || p.ev.pid == pid) && session_lookup_pid(d->sc, p.ev.pid, &s) == 0) {
			p.ev.handle = p.has_h ? &p.h : NULL;
			fan_feed(d, &p.ev, &s);
			park_free(&p);
		} else if (p.until <= now) {
			d->unattributed++;
			park_free(&p);
		} else
			d->park[(d->park_head + kept++) % PARK_MAX] = p;
	}
	d->npark = kept;
}

static void
on_fan_event(const struct sw_event *ev, void *arg)
{
	struct daemon *d = arg;
	struct smb_session s;

	if (ev->op == OP_OVERFLOW) {
		on_overflow(d);
		return;
	}
	/* Only SMB clients are actors: local processes (backups on the server itself) are not. */
	if (ev->pid <= 0 || !pid_is_smbd(d, ev->pid))
		return;
	if (session_lookup_pid(d->sc, ev->pid, &s) == 0)
		fan_feed(d, ev, &s);
	else
		park_event(d, ev);	/* a new client: its audit line or smbstatus names it in a moment */
}

static void
on_content(const struct content_job *job, const struct content_result *r, void *arg)
{
	struct daemon *d = arg;
	struct detect_verdict v;
	struct sw_event ev;

	if (r->verdict == CV_OK || r->verdict == CV_UNKNOWN)
		return;
	memset(&ev, 0, sizeof ev);
	ev.at_ms = job->at;
	ev.ok = 1;
	ev.pid = job->pid;
	ev.user.p = job->user;
	ev.user.n = strlen(job->user);
	ev.ip.p = job->ip;
	ev.ip.n = strlen(job->ip);
	ev.path.p = job->path;
	ev.path.n = job->pathlen;
	log_debug("content: %s (%s)", content_verdict_name(r->verdict), r->detail);
	detect_content(d->det, &ev, (int)r->verdict, r->detail, &v);
	on_verdict(d, &v);
}

/* An incident of this actor that is not released yet (the daemon may have restarted since it opened). */
static int64_t
unreleased_incident(struct daemon *d, const struct actor *a)
{
	struct incident *list = NULL;
	size_t n = 0;
	int64_t id = 0;

	if (journal_incident_list(d->j, &list, &n) != 0)
		return 0;
	for (size_t i = 0; i < n && id == 0; i++)
		if (strcmp(list[i].state, INC_RELEASED) != 0 && strcmp(list[i].user, a->user) == 0 &&
		    strcmp(list[i].ip, a->ip) == 0)
			id = list[i].id;
	free(list);
	return id;
}

static void
journal_signals(struct daemon *d, int64_t id, const struct actor *a)
{
	size_t n = a->nsig < ACTOR_SIGNALS ? a->nsig : ACTOR_SIGNALS;

	for (size_t i = 0; i < n; i++)
		journal_signal_add(d->j, id, a->sig[i].kind, a->sig[i].path, a->sig[i].pathlen, a->sig[i].at,
		    a->sig[i].weight, a->sig[i].detail);
}

static void
reseed_canaries(struct daemon *d)
{
	if (!d->cfg->canaries)
		return;
	if (canary_seed(d->cfg, NULL) < 0)
		log_warnx("canaries could not be re-seeded");
	canary_set_free(d->canaries);
	d->canaries = canary_set_load(d->cfg);
	detect_set_canaries(d->det, d->canaries);
}

/* The responders' context in the event loop: its journal, sessions, deny group and sender. */
static void
loop_ctx(struct daemon *d, struct respond_ctx *ctx, struct incident *inc)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->cfg = d->cfg;
	ctx->j = d->j;
	ctx->sessions = d->sc;
	ctx->inc = inc;
	ctx->deny = d->deny;
	ctx->notifier = d->notifier;
}

/*
 * Right after the deny took effect, before the lock: the account is held, so a
 * session the client opens again before the lock lands is refused from its
 * first open. The fleet's incidents hold every session of the user here.
 */
static void
hold_after_deny(struct respond_ctx *ctx, void *arg)
{
	struct daemon *d = arg;
	struct incident *inc = ctx->inc;
	int pids[HELD_PIDS], npids;

	if (inc->origin[0] == '\0') {
		hold_account(d, inc, &inc->smbd_pid, 1);
		return;
	}
	/* The pids deny_fleet denied: the same cache, now (those gone were skipped there). */
	npids = session_pids_known(d->sc, inc->user, NULL, pids, HELD_PIDS);
	for (int i = 0; i < npids; i++)
		if (kill(pids[i], 0) == -1 && errno == ESRCH)
			pids[i] = 0;
	hold_account(d, inc, pids, npids > 0 ? npids : 0);
}

/* The signals in short, for the fleet: "ransom_note, rename_burst (score 25.0)". */
static void
signal_summary(const struct actor *a, char *buf, size_t bufsz)
{
	size_t n = a->nsig < ACTOR_SIGNALS ? a->nsig : ACTOR_SIGNALS;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int dup = 0;

		for (size_t k = 0; k < i; k++)
			dup |= strcmp(a->sig[k].kind, a->sig[i].kind) == 0;
		if (!dup)
			str_appendf(buf, bufsz, "%s%s", buf[0] ? ", " : "", a->sig[i].kind);
	}
	str_appendf(buf, bufsz, " (score %.1f)", a->score);
}

static void
open_incident(struct daemon *d, struct actor *a)
{
	struct incident inc;
	struct smb_session s;
	struct respond_ctx ctx;
	int64_t existing;
	int known;

	existing = unreleased_incident(d, a);
	if (existing > 0) {
		a->incident_id = existing;
		log_info("actor %s from %s: signals added to incident %lld", a->user, a->ip,
		    (long long)existing);
		tx_begin(d);
		journal_signals(d, existing, a);
		tx_commit(d);
		return;
	}
	memset(&inc, 0, sizeof inc);
	snprintf(inc.state, sizeof inc.state, "%s", INC_OPEN);
	inc.detected_at = now_ms();
	inc.first_event_at = detect_first_event_at(d->det, a);
	snprintf(inc.user, sizeof inc.user, "%s", a->user);
	snprintf(inc.ip, sizeof inc.ip, "%s", a->ip);
	snprintf(inc.host, sizeof inc.host, "%s", a->host);
	inc.smbd_pid = a->pid;
	inc.score = a->score;
	/* The neighbour table answers in microseconds; routers and lease files wait for the slow part. */
	if (neigh_lookup_mac(inc.ip, inc.mac) == 0)
		snprintf(inc.mac_source, sizeof inc.mac_source, "neighbour");
	else
		inc.mac[0] = '\0';
	tx_begin(d);
	if (journal_incident_add(d->j, &inc) != 0)
		log_warnx("cannot journal the incident of %s from %s; acting anyway", a->user, a->ip);
	else {
		journal_signals(d, inc.id, a);
		overflow_attach(d, inc.id);
	}
	tx_commit(d);
	crash_point("detected");
	a->incident_id = inc.id > 0 ? inc.id : -1;
	log_warnx("incident %lld: ransomware activity by %s from %s (mac %s), score %.1f",
	    (long long)inc.id, inc.user, inc.ip, inc.mac[0] ? inc.mac : "unknown", inc.score);
	loop_ctx(d, &ctx, &inc);
	/* Never waits: what the audit lines and smbstatus' last answer say of the session. */
	known = session_lookup_pid(d->sc, inc.smbd_pid, &s) == 0;
	if (known && s.domain[0])
		snprintf(inc.domain, sizeof inc.domain, "%s", s.domain);
	/* The other servers isolate the actor too, unless this one only reports (monitor, protected, breaker). */
	if (fleet_enabled(d->cfg) && respond_decide(&ctx)) {
		char reason[256];

		signal_summary(a, reason, sizeof reason);
		tx_begin(d);
		if (fleet_queue_incident(d->cfg, d->j, &inc, reason) != 0)
			log_warnx("incident %lld: cannot queue it for the fleet", (long long)inc.id);
		tx_commit(d);
		fleet_kick(d->fleet);
	}
	ctx.on_denied = hold_after_deny;
	ctx.on_denied_arg = d;
	respond_incident_fast(&ctx);
	/* The domain and host go into the journal after containment: they only add to the report. */
	if (known && (s.domain[0] || inc.host[0] == '\0')) {
		if (inc.host[0] == '\0')
			snprintf(inc.host, sizeof inc.host, "%s", s.host);
		tx_begin(d);
		journal_incident_update(d->j, &inc);
		tx_commit(d);
	}
	/* Switches, routers, smbstatus and snapshots may hang: the worker waits on them, not the loop. */
	if (respond_worker_submit(d->rw, &ctx) != 0) {
		if (d->rw != NULL)
			log_warnx("incident %lld: the responder worker's queue is full: its slow steps run here",
			    (long long)inc.id);
		respond_incident_slow(&ctx);
	}
	reseed_canaries(d);
}

/*
 * An incident another server of the fleet opened: the same actor is isolated
 * here (its user's sessions denied and ended, its account locked, its IP
 * blocked) as an incident of this server that names its origin. Journaled
 * once per origin: a message delivered again after a crash finds it.
 */
static void
open_fleet_incident(struct daemon *d, const struct fleet_msg *m)
{
	struct incident inc;
	struct respond_ctx ctx;
	char detail[256];

	char key[256], user[128], ip[64];
	int64_t released_at = 0;

	/* Delivered twice (plain NATS, the stream, after a crash): one incident. Same origin, other first event:
	 * the origin's journal was started afresh and reuses its ids. */
	if (journal_incident_by_origin(d->j, m->origin, &inc) == 0 && inc.first_event_at == m->first_event_at)
		return;
	/* Its release came first (the stream had no leader when the incident was sent): nothing to isolate. */
	snprintf(key, sizeof key, "fleet_released %s", m->origin);
	if (journal_stat_get(d->j, key, &released_at) == 0 && released_at > now_ms() - 86400000) {
		log_info("the fleet's incident %s was released before it arrived here: not acted on", m->origin);
		return;
	}
	memset(&inc, 0, sizeof inc);
	snprintf(inc.state, sizeof inc.state, "%s", INC_OPEN);
	inc.detected_at = now_ms();
	inc.first_event_at = m->first_event_at ? m->first_event_at : inc.detected_at;
	snprintf(inc.user, sizeof inc.user, "%s", m->user);
	snprintf(inc.domain, sizeof inc.domain, "%s", m->domain);
	snprintf(inc.ip, sizeof inc.ip, "%s", m->ip);
	snprintf(inc.mac, sizeof inc.mac, "%s", m->mac);
	snprintf(inc.host, sizeof inc.host, "%s", m->host);
	snprintf(inc.origin, sizeof inc.origin, "%s", m->origin);
	if (inc.mac[0])
		snprintf(inc.mac_source, sizeof inc.mac_source, "fleet %s/%s", m->site, m->server);
	snprintf(detail, sizeof detail, "detected at %s/%s %lld ms before: %.100s", m->site, m->server,
	    (long long)(m->detected_at ? inc.detected_at - m->detected_at : 0), m->reason);
	tx_begin(d);
	if (journal_incident_add(d->j, &inc) != 0)
		log_warnx("cannot journal the fleet's incident %s; acting anyway", m->origin);
	else
		journal_signal_add(d->j, inc.id, "fleet", "", 0, inc.detected_at, 0, detail);
	tx_commit(d);
	log_warnx("incident %lld: the fleet's incident %s (%s from %s at %s/%s): isolating the actor here",
	    (long long)inc.id, m->origin, respond_sanitize(user, sizeof user, inc.user, strlen(inc.user)),
	    inc.ip[0] ? respond_sanitize(ip, sizeof ip, inc.ip, strlen(inc.ip)) : "?", m->site, m->server);
	loop_ctx(d, &ctx, &inc);
	ctx.on_denied = hold_after_deny;
	ctx.on_denied_arg = d;
	respond_incident_fast(&ctx);
	if (respond_worker_submit(d->rw, &ctx) != 0)
		respond_incident_slow(&ctx);
}

/* After a restart: the accounts of the incidents still open are held again (respond_resume re-denied their pids). */
static void
hold_open_incidents(struct daemon *d)
{
	struct incident *list = NULL;
	size_t n = 0;

	if (journal_incident_list(d->j, &list, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].state, INC_RELEASED) == 0 || list[i].monitor)
			continue;
		if (!deny_done(d, list[i].id))
			continue;
		hold_account(d, &list[i], &list[i].smbd_pid, list[i].smbd_pid > 0);
		/* A crash between the incident and its message: queued now (the same message id: sent once). */
		if (list[i].origin[0] == '\0' && fleet_queue_incident(d->cfg, d->j, &list[i], "resumed after a restart")
		    != 0)
			log_warnx("incident %lld: cannot queue it for the fleet", (long long)list[i].id);
	}
	free(list);
}

static void
handle_fleet(struct daemon *d)
{
	struct fleet_msg m;
	void *token;

	tx_commit(d);
	while (fleet_take(d->fleet, &m, &token) == 1) {
		open_fleet_incident(d, &m);
		fleet_done(d->fleet, token);
	}
}

static void
handle_pending(struct daemon *d)
{
	tx_commit(d);
	for (int i = 0; i < d->npending; i++)
		open_incident(d, d->pending[i]);
	d->npending = 0;
}

/* Actors whose incident an administrator released start from a clean slate. */
static void
check_releases(struct daemon *d)
{
	struct incident inc;
	int lifted = 0;

	for (struct actor *a = detect_actors(d->det); a; a = a->next) {
		if (a->incident_id <= 0)
			continue;
		if (journal_incident_get(d->j, a->incident_id, &inc) == 0 &&
		    strcmp(inc.state, INC_RELEASED) == 0) {
			log_info("incident %lld released: %s from %s is watched afresh",
			    (long long)a->incident_id, a->user, a->ip);
			if (d->deny && inc.smbd_pid > 0)
				fan_deny_remove(d->deny, inc.smbd_pid);
			detect_actor_reset(a);
			lifted = 1;
		}
	}
	if (d->nheld) {
		release_held(d);
		if (lifted)
			reapply_held(d);
	}
}

static void
write_stats(struct daemon *d)
{
	const struct audit_stats *st = d->as ? audit_source_stats(d->as) : NULL;
	const struct fan_stats *fst = d->fs ? fan_source_stats(d->fs) : NULL;
	uint64_t analyzed = 0, dropped = 0, failed = 0, cpu_ns = 0;

	if (d->cw)
		content_worker_stats(d->cw, &analyzed, &dropped, &failed, &cpu_ns);
	tx_begin(d);
	journal_stat_set(d->j, "pid", getpid());
	journal_stat_set(d->j, "started_at", d->started_at);
	journal_stat_set(d->j, "heartbeat", now_ms());
	journal_stat_set(d->j, "journal_through", d->through);
	journal_stat_set(d->j, "lines", st ? (int64_t)st->lines : 0);
	journal_stat_set(d->j, "events", st ? (int64_t)st->events : 0);
	journal_stat_set(d->j, "malformed", st ? (int64_t)st->malformed : 0);
	journal_stat_set(d->j, "skipped", st ? (int64_t)st->skipped : 0);
	journal_stat_set(d->j, "rotations", st ? (int64_t)st->rotations : 0);
	journal_stat_set(d->j, "kernel_events", fst ? (int64_t)fst->events : -1);
	journal_stat_set(d->j, "kernel_overflows", fst ? (int64_t)fst->overflows : -1);
	journal_stat_set(d->j, "kernel_unattributed", fst ? (int64_t)d->unattributed : -1);
	journal_stat_set(d->j, "last_overflow_at", d->last_overflow_at);
	journal_stat_set(d->j, "content_analyzed", d->cw ? (int64_t)analyzed : -1);
	journal_stat_set(d->j, "content_dropped", (int64_t)dropped);
	journal_stat_set(d->j, "content_cpu_ns", (int64_t)cpu_ns);
	journal_stat_set(d->j, "canaries", d->canaries ? (int64_t)canary_set_count(d->canaries) : -1);
	journal_stat_set(d->j, "denied_opens", d->deny ? (int64_t)fan_deny_denied(d->deny) : -1);
	{
		size_t actors;
		uint64_t evicted;

		detect_stats(d->det, &actors, &evicted);
		journal_stat_set(d->j, "actors", (int64_t)actors);
		journal_stat_set(d->j, "actors_evicted", (int64_t)evicted);
	}
	tx_commit(d);
}

/*
 * Keeps the actor table bounded: a storm of clients or a flood of lines from
 * many users costs at most max actors; an actor idle longer than the slow
 * window has nothing left that counts. Runs after handle_pending, when no
 * verdict holds an actor.
 */
static void
trim_actors(struct daemon *d, int64_t now)
{
	int64_t idle_before = 0;
	size_t n;

	if (now - d->last_idle_trim >= 60000) {
		d->last_idle_trim = now;
		idle_before = now_ms() - d->cfg->detect.slow_window_ms;
	}
	n = detect_trim(d->det, (size_t)d->cfg->detect.max_actors, idle_before);
	if (n > 0 && idle_before == 0 && !d->actors_warned) {
		d->actors_warned = 1;
		log_warnx("more than %d actors (user and client IP) at once: the least recently active ones "
		    "without an incident are forgotten (max actors); `status` counts them", d->cfg->detect.max_actors);
	}
}

/* A restore or `canaries --seed` rewrote the registry: know the new canaries. */
static void
canaries_reload_if_changed(struct daemon *d)
{
	char path[4096];
	struct stat st;

	if (!d->cfg->canaries || canary_registry_path(d->cfg, path, sizeof path) == NULL ||
	    stat(path, &st) != 0)
		return;
	if (st.st_mtim.tv_sec == d->canary_mtime.tv_sec && st.st_mtim.tv_nsec == d->canary_mtime.tv_nsec)
		return;
	d->canary_mtime = st.st_mtim;
	canary_set_free(d->canaries);
	d->canaries = canary_set_load(d->cfg);
	detect_set_canaries(d->det, d->canaries);
}

static void
tick(struct daemon *d)
{
	int64_t now = mono_ms();

	if (d->as)
		audit_source_tick(d->as);
	session_tick(d->sc);
	if (d->npark)
		park_replay(d, 0);	/* drops what waited too long */
	if (d->ndeb)
		debounce_flush(d, 0);
	handle_pending(d);
	trim_actors(d, now);
	overflow_tick(d);
	/* A release committed by the CLI is seen at once: signals after it belong to a fresh watch. */
	if (journal_changed(d->j))
		check_releases(d);
	if (now - d->last_release_check >= 1000) {
		d->last_release_check = now;
		check_releases(d);
		canaries_reload_if_changed(d);
		if (d->deny)
			fan_deny_tick(d->deny);
	}
	if (now - d->last_stats >= 1000) {
		d->last_stats = now;
		write_stats(d);
	}
	if (now - d->last_prune >= 60000) {
		d->last_prune = now;
		tx_begin(d);
		journal_prune_events(d->j, now_ms() - d->cfg->event_retention_ms);
		journal_fleet_prune(d->j, now_ms() - d->cfg->event_retention_ms);
		tx_commit(d);
	}
}

/* One daemon per journal: an advisory lock next to it. */
static int
lock_journal(const char *journal)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s.lock", journal);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		log_warnx("another sharewarden daemon uses %s (lock %s)", journal, path);
		close(fd);
		return -1;
	}
	return fd;
}

static int
start_sources(struct daemon *d)
{
	struct config *cfg = d->cfg;
	char err[512];

	if (cfg->audit_log[0] || cfg->audit_socket[0]) {
		d->as = audit_source_open(d->ap, cfg->audit_log[0] ? cfg->audit_log : NULL,
		    cfg->audit_socket[0] ? cfg->audit_socket : NULL, 1, on_audit_event, d);
		if (d->as == NULL)
			return -1;
		d->audit_primary = 1;
	}
	if (cfg->fanotify) {
		d->fs = fan_source_open(cfg->shares, on_fan_event, d, err, sizeof err);
		if (d->fs == NULL) {
			if (d->as == NULL) {
				log_warnx("kernel events: %s; and no audit log is configured", err);
				return -1;
			}
			log_warnx("kernel events off: %s (full_audit alone)", err);
		}
		if (cfg->deny_writer && (d->deny = fan_deny_open(cfg->shares, err, sizeof err)) == NULL)
			log_warnx("instant deny off: %s (lock and kill still run)", err);
	}
	log_info("sources: %s%s%s", d->as ? "full_audit" : "", d->as && d->fs ? " + " : "",
	    d->fs ? (d->audit_primary ? "kernel events (content, canaries)" : "kernel events") : "");
	return 0;
}

int
daemon_run(struct config *cfg, int foreground)
{
	struct daemon d;
	struct sigaction sa;
	char err[512];
	int lockfd, rc = 0;

	memset(&d, 0, sizeof d);
	d.cfg = cfg;
	log_init(foreground ? LOG_FG_STAMPED : 0, (enum log_level)cfg->log_level);
	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	d.j = journal_open(cfg->journal, 0, err, sizeof err);
	if (d.j == NULL) {
		log_warnx("%s", err);
		return 1;
	}
	if ((lockfd = lock_journal(cfg->journal)) == -1) {
		journal_close(d.j);
		return 1;
	}
	d.rules = rules_new();
	if (cfg->patterns && cfg->patterns[0] && access(cfg->patterns, F_OK) == 0 &&
	    rules_load(d.rules, cfg->patterns) != 0)
		log_warn("patterns %s not loaded; using the built-in list", cfg->patterns);
	d.det = detect_new(&cfg->detect, d.rules);
	detect_set_allow(d.det, cfg);
	d.ap = audit_parser_new();
	for (const struct share *s = cfg->shares; s; s = s->next) {
		audit_parser_add_share(d.ap, s->name, s->path);
		log_info("protecting share %s at %s", s->name, s->path);
	}
	d.sc = session_cache_new(cfg);
	if (cfg->canaries) {
		int n = canary_seed(cfg, NULL);

		d.canaries = canary_set_load(cfg);
		detect_set_canaries(d.det, d.canaries);
		log_info("%d canaries in place", n);
	}
	if (cfg->content_analysis && (d.cw = content_worker_start(4096)) == NULL)
		log_warnx("content analysis off: the worker could not start");
	/* Ready before the first incident: the table exists, earlier blocks are kept. */
	if (cfg->block_ip && !cfg->monitor_only && firewall_ensure(cfg, err, sizeof err) != 0)
		log_warnx("IP blocking will fail: %s", err);
	if (cfg->snap.interval_ms > 0 && (d.snapsched = snapsched_start(cfg, err, sizeof err)) == NULL)
		log_warnx("scheduled snapshots off: %s", err);
	if (cfg->repl.target[0] && cfg->repl.interval_ms > 0 &&
	    (d.replsched = replsched_start(cfg, err, sizeof err)) == NULL)
		log_warnx("replication off: %s", err);
	if ((cfg->notify.smtp_url[0] || cfg->notify.n_webhooks) &&
	    (d.notifier = notifier_start(cfg, err, sizeof err)) == NULL)
		log_warnx("mail and webhooks off: %s", err);
	if ((d.rw = respond_worker_start(cfg, d.notifier, err, sizeof err)) == NULL)
		log_warnx("%s: switches and snapshots will be handled in the event loop", err);
	if (start_sources(&d) != 0) {
		rc = 1;
		goto out;
	}
	/* A crash or kill -9 may have cut a response short: finish it before watching again. */
	respond_resume(cfg, d.j, d.sc, d.deny, d.notifier);
	hold_open_incidents(&d);
	if (fleet_enabled(cfg) && (d.fleet = fleet_start(cfg, err, sizeof err)) == NULL)
		log_warnx("%s: this server protects its own shares alone", err);
	/* Protected from the first write on: a clean snapshot of every share exists before we say we are ready. */
	journal_stat_set(d.j, "snapshots_missing", snapsched_initial(cfg, d.j));
	d.started_at = now_ms();
	write_stats(&d);
	log_info("sharewarden started%s", cfg->monitor_only ? " in monitor mode" : "");
	while (!quit_flag) {
		struct pollfd pfd[12];
		int fds[8], n = d.as ? audit_source_fds(d.as, fds, 8) : 0, nf = 0;
		int timeout = d.ndeb ? DEBOUNCE_MS / 3 : TICK_MS;

		/* A burst of audit lines is read a batch per turn: the kernel queue and incidents get their turn. */
		if (d.as && audit_source_backlog(d.as))
			timeout = 0;

		for (int i = 0; i < n; i++) {
			pfd[nf].fd = fds[i];
			pfd[nf].events = POLLIN;
			pfd[nf++].revents = 0;
		}
		if (d.fs) {
			pfd[nf].fd = fan_source_fd(d.fs);
			pfd[nf].events = POLLIN;
			pfd[nf++].revents = 0;
		}
		if (d.cw) {
			pfd[nf].fd = content_worker_fd(d.cw);
			pfd[nf].events = POLLIN;
			pfd[nf++].revents = 0;
		}
		if (session_fd(d.sc) != -1) {
			pfd[nf].fd = session_fd(d.sc);
			pfd[nf].events = POLLIN;
			pfd[nf++].revents = 0;
		}
		if (d.fleet) {
			pfd[nf].fd = fleet_fd(d.fleet);
			pfd[nf].events = POLLIN;
			pfd[nf++].revents = 0;
		}
		if (poll(pfd, (nfds_t)nf, timeout) > 0) {
			for (int i = 0; i < nf; i++) {
				if (!(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)))
					continue;
				if (i < n)
					audit_source_read(d.as, pfd[i].fd);
				else if (d.fs && pfd[i].fd == fan_source_fd(d.fs))
					fan_source_read(d.fs);
				else if (d.cw && pfd[i].fd == content_worker_fd(d.cw))
					content_worker_collect(d.cw, on_content, &d);
				else if (d.fleet && pfd[i].fd == fleet_fd(d.fleet))
					handle_fleet(&d);
				else if (pfd[i].fd == session_fd(d.sc) && session_poll(d.sc) && d.npark)
					park_replay(&d, 0);
			}
			handle_pending(&d);
		}
		/* Restore plans from the journal: it waits until we are through the time of containment. */
		if (now_ms() - d.through >= 50 && !(d.as && audit_source_backlog(d.as))) {
			int64_t mark = now_ms();

			if (poll(pfd, (nfds_t)nf, 0) == 0) {
				tx_commit(&d);
				d.through = mark;
			}
		}
		tick(&d);
	}
	log_info("sharewarden stopping");
	if (d.ov.active)
		overflow_flush(&d);
	tx_commit(&d);
	write_stats(&d);
out:
	debounce_flush(&d, 1);
	if (d.fs)
		fan_source_close(d.fs);
	if (d.deny)
		fan_deny_close(d.deny);
	if (d.cw)
		content_worker_stop(d.cw);
	/* Before the notifier: its last steps queue the "contained" messages. */
	respond_worker_stop(d.rw);
	fleet_stop(d.fleet);
	respond_account_prefetch_stop();
	if (d.notifier)
		notifier_stop(d.notifier);
	if (d.replsched)
		replsched_stop(d.replsched);
	if (d.snapsched)
		snapsched_stop(d.snapsched);
	if (d.as)
		audit_source_close(d.as);
	for (size_t i = 0; i < d.npark; i++)
		park_free(&d.park[(d.park_head + i) % PARK_MAX]);
	free(d.park);
	canary_set_free(d.canaries);
	session_cache_free(d.sc);
	audit_parser_free(d.ap);
	detect_free(d.det);
	rules_free(d.rules);
	journal_close(d.j);
	close(lockfd);
	return rc;
}
