/* The daemon: sources -> detection -> journal -> responders, in one event loop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "detect.h"
#include "event.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "respond.h"
#include "rules.h"
#include "session.h"
#include "util.h"

#define MAX_PENDING	64
#define TICK_MS		250

static volatile sig_atomic_t quit_flag;

struct daemon {
	struct config *cfg;
	struct journal *j;
	struct rules *rules;
	struct detect *det;
	struct audit_parser *ap;
	struct audit_source *as;
	struct session_cache *sc;
	struct actor *pending[MAX_PENDING];	/* crossed the threshold during this batch */
	int npending;
	int in_tx;
	int64_t started_at;
	int64_t last_stats, last_prune, last_release_check;
};

static void
on_signal(int sig)
{
	(void)sig;
	quit_flag = 1;
}

static int
share_known(const struct daemon *d, const struct sw_event *ev)
{
	for (const struct share *s = d->cfg->shares; s; s = s->next)
		if (strlen(s->name) == ev->share.n && strncasecmp(s->name, ev->share.p, ev->share.n) == 0)
			return 1;
	return 0;
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

static void
on_event(const struct sw_event *ev, void *arg)
{
	struct daemon *d = arg;
	struct detect_verdict v;

	if (!share_known(d, ev))
		return;
	if (op_mutates(ev)) {
		tx_begin(d);
		journal_add_event(d->j, ev);
	}
	detect_feed(d->det, ev, &v);
	if (v.actor == NULL || v.nsig == 0)
		return;
	if (v.actor->incident_id > 0) {
		tx_begin(d);
		for (int i = 0; i < v.nsig; i++)
			journal_signal_add(d->j, v.actor->incident_id, v.sig[i]->kind, v.sig[i]->path,
			    v.sig[i]->pathlen, v.sig[i]->at, v.sig[i]->weight, v.sig[i]->detail);
		return;
	}
	if (!v.crossed)
		return;
	for (int i = 0; i < d->npending; i++)
		if (d->pending[i] == v.actor)
			return;
	if (d->npending < MAX_PENDING)
		d->pending[d->npending++] = v.actor;
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
open_incident(struct daemon *d, struct actor *a)
{
	struct incident inc;
	struct smb_session s;
	struct respond_ctx ctx;
	size_t n = a->nsig < ACTOR_SIGNALS ? a->nsig : ACTOR_SIGNALS;
	int64_t existing;

	existing = unreleased_incident(d, a);
	if (existing > 0) {
		a->incident_id = existing;
		log_info("actor %s from %s: signals added to incident %lld", a->user, a->ip,
		    (long long)existing);
		tx_begin(d);
		for (size_t i = 0; i < n; i++)
			journal_signal_add(d->j, existing, a->sig[i].kind, a->sig[i].path,
			    a->sig[i].pathlen, a->sig[i].at, a->sig[i].weight, a->sig[i].detail);
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
	if (session_lookup_pid(d->sc, a->pid, &s) == 0) {
		snprintf(inc.domain, sizeof inc.domain, "%s", s.domain);
		if (inc.host[0] == '\0')
			snprintf(inc.host, sizeof inc.host, "%s", s.host);
	}
	if (neigh_lookup_mac(inc.ip, inc.mac) != 0)
		inc.mac[0] = '\0';
	tx_begin(d);
	if (journal_incident_add(d->j, &inc) != 0) {
		tx_commit(d);
		log_warnx("cannot journal the incident of %s from %s; acting anyway", a->user, a->ip);
	} else {
		for (size_t i = 0; i < n; i++)
			journal_signal_add(d->j, inc.id, a->sig[i].kind, a->sig[i].path,
			    a->sig[i].pathlen, a->sig[i].at, a->sig[i].weight, a->sig[i].detail);
		tx_commit(d);
	}
	a->incident_id = inc.id > 0 ? inc.id : -1;
	log_warnx("incident %lld: ransomware activity by %s from %s (mac %s), score %.1f",
	    (long long)inc.id, inc.user, inc.ip, inc.mac[0] ? inc.mac : "unknown", inc.score);
	ctx.cfg = d->cfg;
	ctx.j = d->j;
	ctx.sessions = d->sc;
	ctx.inc = &inc;
	respond_incident(&ctx);
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

	for (struct actor *a = detect_actors(d->det); a; a = a->next) {
		if (a->incident_id <= 0)
			continue;
		if (journal_incident_get(d->j, a->incident_id, &inc) == 0 &&
		    strcmp(inc.state, INC_RELEASED) == 0) {
			log_info("incident %lld released: %s from %s is watched afresh",
			    (long long)a->incident_id, a->user, a->ip);
			detect_actor_reset(a);
		}
	}
}

static void
write_stats(struct daemon *d)
{
	const struct audit_stats *st = audit_source_stats(d->as);

	tx_begin(d);
	journal_stat_set(d->j, "pid", getpid());
	journal_stat_set(d->j, "started_at", d->started_at);
	journal_stat_set(d->j, "heartbeat", now_ms());
	journal_stat_set(d->j, "lines", (int64_t)st->lines);
	journal_stat_set(d->j, "events", (int64_t)st->events);
	journal_stat_set(d->j, "malformed", (int64_t)st->malformed);
	journal_stat_set(d->j, "skipped", (int64_t)st->skipped);
	journal_stat_set(d->j, "rotations", (int64_t)st->rotations);
	tx_commit(d);
}

static void
tick(struct daemon *d)
{
	int64_t now = mono_ms();

	audit_source_tick(d->as);
	handle_pending(d);
	if (now - d->last_release_check >= 1000) {
		d->last_release_check = now;
		check_releases(d);
	}
	if (now - d->last_stats >= 1000) {
		d->last_stats = now;
		write_stats(d);
	}
	if (now - d->last_prune >= 60000) {
		d->last_prune = now;
		tx_begin(d);
		journal_prune_events(d->j, now_ms() - d->cfg->event_retention_ms);
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
	d.ap = audit_parser_new();
	for (const struct share *s = cfg->shares; s; s = s->next) {
		audit_parser_add_share(d.ap, s->name, s->path);
		log_info("protecting share %s at %s", s->name, s->path);
	}
	d.sc = session_cache_new(cfg);
	d.as = audit_source_open(d.ap, cfg->audit_log[0] ? cfg->audit_log : NULL,
	    cfg->audit_socket[0] ? cfg->audit_socket : NULL, 1, on_event, &d);
	if (d.as == NULL) {
		rc = 1;
		goto out;
	}
	d.started_at = now_ms();
	write_stats(&d);
	log_info("sharewarden started%s", cfg->monitor_only ? " in monitor mode" : "");
	while (!quit_flag) {
		struct pollfd pfd[8];
		int fds[8], n = audit_source_fds(d.as, fds, 8);

		for (int i = 0; i < n; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, TICK_MS) > 0) {
			for (int i = 0; i < n; i++)
				if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
					audit_source_read(d.as, pfd[i].fd);
			handle_pending(&d);
		}
		tick(&d);
	}
	log_info("sharewarden stopping");
	tx_commit(&d);
	write_stats(&d);
out:
	if (d.as)
		audit_source_close(d.as);
	session_cache_free(d.sc);
	audit_parser_free(d.ap);
	detect_free(d.det);
	rules_free(d.rules);
	journal_close(d.j);
	close(lockfd);
	return rc;
}
