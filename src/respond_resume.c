/* After a crash or restart: finishes the response to every incident not released, from what the journal holds. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fanotify.h"
#include "journal.h"
#include "leases.h"
#include "log.h"
#include "notify.h"
#include "respond.h"
#include "util.h"

/* The responders of respond_incident, in its order, with the switch that turns each on. */
static int
resume_enabled(const struct config *cfg, const struct responder *r)
{
	if (r == &respond_deny)
		return cfg->deny_writer;
	if (r == &respond_account)
		return cfg->lock_account;
	if (r == &respond_session)
		return cfg->kill_session;
	if (r == &respond_firewall)
		return cfg->block_ip;
	if (r == &respond_switch)
		return cfg->port_down;
	if (r == &respond_snapshot)
		return cfg->snap.at_detection;
	return 1;
}

static const struct responder *const order[] = {
	&respond_deny,
	&respond_account,
	&respond_session,
	&respond_firewall,
	&respond_switch,
	&respond_snapshot,
	&respond_syslog,
};

/*
 * The nth action of kind (from 0): the first is the one respond_incident
 * journaled; a second kill_session is the smbstatus sweep, later port_down
 * rows are its error records.
 */
static struct action *
find_nth(struct action *acts, size_t n, const char *kind, int nth)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(acts[i].kind, kind) == 0 && nth-- == 0)
			return &acts[i];
	return NULL;
}

static struct action *
find_kind(struct action *acts, size_t n, const char *kind)
{
	return find_nth(acts, n, kind, 0);
}

static int
is_running(const struct action *a)
{
	return a != NULL && strcmp(a->state, ACT_RUNNING) == 0;
}

static int
pid_is_smbd(int pid)
{
	char path[64], comm[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, comm, sizeof comm - 1);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	return strncmp(comm, "smbd", 4) == 0;
}

/* Whether any message of stage was queued for the incident (notices are sent once). */
static int
stage_queued(struct journal *j, int64_t id, const char *stage)
{
	struct outbox_msg *m;
	size_t n;
	int found = 0;

	if (journal_outbox_list(j, id, &m, &n) != 0)
		return 1;
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(m[i].stage, stage) == 0;
	outbox_msg_free(m, n);
	return found;
}

static void
notify_once(struct respond_ctx *ctx, const char *stage)
{
	/* IT hears of the fleet's incidents from their origin. */
	if (ctx->inc->origin[0] != '\0' || stage_queued(ctx->j, ctx->inc->id, stage))
		return;
	if (notify_enqueue(ctx->cfg, ctx->j, ctx->inc->id, stage) > 0 && ctx->notifier)
		notifier_kick(ctx->notifier);
}

static void
journal_state(struct journal *j, const struct incident *inc)
{
	int tx = journal_begin(j) == 0;

	if (journal_incident_update(j, inc) != 0)
		log_warnx("incident %lld: state could not be journaled", (long long)inc->id);
	if (tx && journal_commit(j) != 0)
		log_warnx("incident %lld: state could not be committed", (long long)inc->id);
}

static void
resume_one(struct respond_ctx *ctx)
{
	struct incident *inc = ctx->inc;
	struct action *acts = NULL, *prev, *lock, *kill, a;
	size_t n = 0;
	int ran = 0, sweep = 0, locked, isolated, finished;

	if (journal_action_list(ctx->j, inc->id, &acts, &n) != 0) {
		log_warnx("incident %lld: its actions cannot be read: not resumed", (long long)inc->id);
		return;
	}
	/* The breaker's word at detection stands; with nothing journaled yet, ask it now. */
	for (size_t i = 0; i < n; i++)
		if (strncmp(acts[i].detail, "circuit breaker open", 20) == 0)
			ctx->breaker = 1;
	if (n == 0 && journal_isolations_since(ctx->j, now_ms() - 3600000, &isolated) == 0 &&
	    isolated >= ctx->cfg->max_isolations)
		ctx->breaker = 1;
	/*
	 * syslog is always the last action: once it is done the response ran
	 * to its end, and a kind missing then was not part of it (an older
	 * version, or a configuration since changed) and is not run now.
	 */
	prev = find_kind(acts, n, respond_syslog.kind);
	finished = prev != NULL && strcmp(prev->state, ACT_RUNNING) != 0;
	for (size_t i = 0; i < nitems(order); i++) {
		const struct responder *r = order[i];

		prev = find_kind(acts, n, r->kind);
		if (prev == NULL && finished)
			continue;
		if (prev != NULL && strcmp(prev->state, ACT_RUNNING) != 0) {
			/* Done: only the deny is put back, since it lived in the killed process. */
			if (r == &respond_deny && strcmp(prev->result, "ok") == 0 && ctx->deny != NULL &&
			    inc->smbd_pid > 0 && pid_is_smbd(inc->smbd_pid)) {
				if (fan_deny_add(ctx->deny, inc->smbd_pid) == 0)
					log_info("incident %lld: deny_writer smbd %d: re-applied after a restart",
					    (long long)inc->id, inc->smbd_pid);
			}
			continue;
		}
		if (r == &respond_account)
			notify_once(ctx, NOTIFY_DETECTED);
		/* As the slow part does: a routed client's MAC from the routers or leases. */
		if (r == &respond_switch && inc->mac[0] == '\0' &&
		    mac_lookup(ctx->cfg, inc->ip, inc->mac, inc->mac_source, sizeof inc->mac_source) != 0) {
			inc->mac[0] = '\0';
			inc->mac_source[0] = '\0';
		}
		log_info("incident %lld: %s %s after a restart", (long long)inc->id, r->kind,
		    prev != NULL ? "interrupted: running it again" : "never ran: running it now");
		ctx->resume = prev;
		respond_action(ctx, r, resume_enabled(ctx->cfg, r), &a);
		ctx->resume = NULL;
		ran++;
		if (r == &respond_session && strcmp(a.result, "skipped") != 0)
			sweep = 1;
	}
	/* The smbstatus sweep after the kill: after a kill run now, or when it was cut short or never ran. */
	prev = find_nth(acts, n, respond_session.kind, 1);
	if (!sweep && (is_running(prev) || (prev == NULL && !finished)) && resume_enabled(ctx->cfg, &respond_session)) {
		kill = find_kind(acts, n, respond_session.kind);
		sweep = kill != NULL && strcmp(kill->result, "skipped") != 0;
	}
	if (sweep) {
		log_info("incident %lld: the smbstatus sweep after the kill: running it after a restart",
		    (long long)inc->id);
		ctx->resume = is_running(prev) ? prev : NULL;
		respond_action(ctx, &respond_session_sweep, 1, &a);
		ctx->resume = NULL;
		ran++;
	}
	free(acts);
	if (ran == 0)
		return;
	/* The same judgement as respond_incident, on the journal's final word. */
	if (journal_action_list(ctx->j, inc->id, &acts, &n) != 0)
		return;
	lock = find_kind(acts, n, respond_account.kind);
	kill = find_kind(acts, n, respond_session.kind);
	locked = lock != NULL && (strcmp(lock->result, "ok") == 0 ||
	    (strcmp(lock->result, "skipped") == 0 && strcmp(lock->detail, RESPOND_ALREADY_DISABLED) == 0));
	if (strcmp(inc->state, INC_OPEN) == 0 && !ctx->breaker && locked && kill != NULL &&
	    strcmp(kill->result, "ok") == 0) {
		snprintf(inc->state, sizeof inc->state, "%s", INC_CONTAINED);
		inc->contained_at = now_ms();
		log_info("incident %lld: contained (after a restart)", (long long)inc->id);
	}
	free(acts);
	/* port_down names the switch and port; the notice says whether it is contained. */
	journal_state(ctx->j, inc);
	notify_once(ctx, NOTIFY_CONTAINED);
}

void
respond_resume(const struct config *cfg, struct journal *j, struct session_cache *sessions,
    struct fan_deny *deny, struct notifier *notifier)
{
	struct incident *list = NULL;
	size_t n = 0;

	if (journal_incident_list(j, &list, &n) != 0) {
		log_warnx("the incidents cannot be read: an interrupted response is not resumed");
		return;
	}
	/* Oldest first, as they were detected. */
	for (size_t i = n; i-- > 0;) {
		struct respond_ctx ctx;

		if (strcmp(list[i].state, INC_RELEASED) == 0 || list[i].monitor)
			continue;
		memset(&ctx, 0, sizeof ctx);
		ctx.cfg = cfg;
		ctx.j = j;
		ctx.sessions = sessions;
		ctx.inc = &list[i];
		ctx.deny = deny;
		ctx.notifier = notifier;
		resume_one(&ctx);
	}
	free(list);
}
