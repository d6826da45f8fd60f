/* The responder registry: runs the responders on an incident, journals each action, undoes them on release. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "fleet.h"
#include "journal.h"
#include "leases.h"
#include "log.h"
#include "notify.h"
#include "respond.h"
#include "util.h"

/*
 * Deny first (microseconds, stops the next file), then disable, then kill: a
 * killed client with a working account just reconnects.
 */
static const struct responder *const responders[] = {
	&respond_deny,
	&respond_account,
	&respond_session,
	&respond_session_sweep,
	&respond_firewall,
	&respond_switch,
	&respond_snapshot,
	&respond_syslog,
};

static const struct responder *
respond_find(const char *kind)
{
	for (size_t i = 0; i < nitems(responders); i++)
		if (strcmp(responders[i]->kind, kind) == 0)
			return responders[i];
	return NULL;
}

char *
respond_sanitize(char *dst, size_t dstsz, const char *src, size_t n)
{
	const unsigned char *u = (const unsigned char *)src;
	size_t i = 0, o = 0;

	if (dstsz == 0)
		return dst;
	while (i < n) {
		size_t l = utf8_char_len(u + i, n - i, NULL);

		if (l == 0 || (l == 1 && (u[i] < 0x20 || u[i] == 0x7f || u[i] == '%' || u[i] == '\\'))) {
			if (o + 4 >= dstsz)
				break;
			snprintf(dst + o, dstsz - o, "\\x%02x", u[i]);
			o += 4;
			i++;
			continue;
		}
		if (o + l >= dstsz)
			break;
		memcpy(dst + o, u + i, l);
		o += l;
		i += l;
	}
	dst[o] = '\0';
	return dst;
}

/* The first non-empty line of s, as a view. */
static struct sw_str
first_line(const char *s)
{
	struct sw_str v = { "", 0 };

	while (s != NULL && *s != '\0') {
		size_t len = strcspn(s, "\r\n");

		if (len > 0) {
			v.p = s;
			v.n = len;
			break;
		}
		s += strspn(s, "\r\n");
	}
	return v;
}

void
respond_tool_error(const char *tool, const struct run_result *r, char *buf, size_t bufsz)
{
	char line[256];
	struct sw_str v;

	if (r->status == -2) {
		snprintf(buf, bufsz, "%s timed out", tool);
		return;
	}
	v = first_line(r->err);
	if (v.n == 0)
		v = first_line(r->out);
	respond_sanitize(line, sizeof line, v.p, v.n);
	if (r->status == -1)
		snprintf(buf, bufsz, "%s could not be started%s%s", tool, line[0] ? ": " : "", line);
	else if (line[0] != '\0')
		snprintf(buf, bufsz, "%s: status %d: %s", tool, r->status, line);
	else
		snprintf(buf, bufsz, "%s: status %d", tool, r->status);
}

int
respond_skip(const struct respond_ctx *ctx, struct action *a)
{
	const char *why = NULL;

	if (ctx->cfg->monitor_only)
		why = "monitor mode";
	else if (config_is_protected(ctx->cfg, ctx->inc->user))
		why = "protected account";
	else if (ctx->protected_why[0] != '\0')
		why = ctx->protected_why;
	else if (ctx->breaker)
		why = "circuit breaker open: max isolations per hour reached; a human must act";
	else if (ctx->inc->monitor)
		/* Resumed after a restart: the journal says the incident was opened to report only. */
		why = "report only: opened for a protected account or in monitor mode";
	if (why == NULL)
		return 0;
	snprintf(a->result, sizeof a->result, "skipped");
	snprintf(a->detail, sizeof a->detail, "%s", why);
	return 1;
}

int
respond_dry_run(const struct respond_ctx *ctx, struct action *a, const char *what)
{
	if (!config_dry_run(ctx->cfg, a->kind))
		return 0;
	snprintf(a->result, sizeof a->result, "skipped");
	snprintf(a->detail, sizeof a->detail, "dry run: would %s", what);
	return 1;
}

static void
journal_action(struct journal *j, struct action *a)
{
	int tx, rc;

	if (j == NULL)
		return;
	tx = journal_begin(j) == 0;
	rc = a->id > 0 ? journal_action_finish(j, a) : journal_action_add(j, a);
	if (rc != 0)
		log_warnx("incident %lld: %s could not be journaled", (long long)a->incident_id, a->kind);
	if (tx && journal_commit(j) != 0)
		log_warnx("incident %lld: %s could not be committed", (long long)a->incident_id, a->kind);
}

static void
journal_incident(struct journal *j, const struct incident *inc)
{
	int tx;

	if (j == NULL || inc->id <= 0)
		return;
	tx = journal_begin(j) == 0;
	if (journal_incident_update(j, inc) != 0)
		log_warnx("incident %lld: state could not be journaled", (long long)inc->id);
	if (tx && journal_commit(j) != 0)
		log_warnx("incident %lld: state could not be committed", (long long)inc->id);
}

void
respond_checkpoint(struct respond_ctx *ctx, struct action *a)
{
	snprintf(a->state, sizeof a->state, "%s", ACT_RUNNING);
	if (a->id <= 0)
		return;
	snprintf(a->result, sizeof a->result, "%s", ACT_RUNNING);
	journal_action(ctx->j, a);
	a->result[0] = '\0';
}

void
respond_action(struct respond_ctx *ctx, const struct responder *r, int enabled, struct action *a)
{
	char target[128], detail[256];

	memset(a, 0, sizeof *a);
	a->incident_id = ctx->inc->id;
	snprintf(a->kind, sizeof a->kind, "%s", r->kind);
	a->at = now_ms();
	if (ctx->resume != NULL && strcmp(ctx->resume->kind, r->kind) == 0)
		a->id = ctx->resume->id;
	else if (enabled && ctx->inc->id > 0 && r != &respond_deny) {
		/*
		 * Journaled before it acts: a crash from here on leaves a row to
		 * resume. Not the deny: it must not wait for a sync, and a restart
		 * applies it again anyway.
		 */
		snprintf(a->target, sizeof a->target, "%s", ctx->inc->user);
		snprintf(a->result, sizeof a->result, "%s", ACT_RUNNING);
		snprintf(a->state, sizeof a->state, "%s", ACT_RUNNING);
		journal_action(ctx->j, a);
		a->target[0] = a->result[0] = a->state[0] = '\0';
	}
	if (!enabled) {
		snprintf(a->target, sizeof a->target, "%s", ctx->inc->user);
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, "turned off in the configuration");
	} else
		r->run(ctx, a);
	if (a->result[0] == '\0' || strcmp(a->result, ACT_RUNNING) == 0)
		snprintf(a->result, sizeof a->result, "failed");
	snprintf(a->state, sizeof a->state, "%s", ACT_DONE);
	journal_action(ctx->j, a);
	respond_sanitize(target, sizeof target, a->target, strlen(a->target));
	respond_sanitize(detail, sizeof detail, a->detail, strlen(a->detail));
	if (strcmp(a->result, "failed") == 0)
		log_warnx("incident %lld: %s %s: failed: %s", (long long)a->incident_id, a->kind,
		    target, detail);
	else
		log_info("incident %lld: %s %s: %s%s%s", (long long)a->incident_id, a->kind, target,
		    a->result, detail[0] ? ": " : "", detail);
}

/* Queues a message for IT and wakes the sender; never waits for the network. */
static void
respond_notify(struct respond_ctx *ctx, const char *stage)
{
	if (ctx->j == NULL || ctx->inc->id <= 0)
		return;
	/* IT hears of an attack once, from the server that saw it, not from every server of the fleet. */
	if (ctx->inc->origin[0] != '\0')
		return;
	if (notify_enqueue(ctx->cfg, ctx->j, ctx->inc->id, stage) > 0 && ctx->notifier)
		notifier_kick(ctx->notifier);
}

int
respond_decide(struct respond_ctx *ctx)
{
	struct incident *inc = ctx->inc;
	int isolated = 0;

	if (ctx->decided)
		return !inc->monitor && !ctx->breaker;
	ctx->decided = 1;
	/* Asked once: the directory's answer (groups, SID) holds for every responder of this incident. */
	if (!ctx->cfg->monitor_only && !config_is_protected(ctx->cfg, inc->user))
		respond_account_protected(ctx->cfg, inc->user, ctx->protected_why, sizeof ctx->protected_why);
	if (ctx->cfg->monitor_only || config_is_protected(ctx->cfg, inc->user) || ctx->protected_why[0] != '\0') {
		inc->monitor = 1;
		journal_incident(ctx->j, inc);
	} else if (ctx->j) {
		/* Many actors at once is more likely a false alarm than many infected PCs. */
		if (journal_isolations_since(ctx->j, now_ms() - 3600000, &isolated) == 0 &&
		    isolated >= ctx->cfg->max_isolations) {
			ctx->breaker = 1;
			log_warnx("incident %lld: circuit breaker open: %d actors isolated in the last hour "
			    "(max isolations per hour = %d): reporting only", (long long)inc->id, isolated,
			    ctx->cfg->max_isolations);
		}
	}
	return !inc->monitor && !ctx->breaker;
}

void
respond_incident_fast(struct respond_ctx *ctx)
{
	struct incident *inc = ctx->inc;
	struct action deny, lock, kill, block;
	int locked, lock_last = account_dir(ctx->cfg) != NULL;

	respond_decide(ctx);
	/* The deny costs microseconds and stops the next file: nothing goes before it. */
	respond_action(ctx, &respond_deny, ctx->cfg->deny_writer, &deny);
	if (ctx->on_denied != NULL && !inc->monitor && strcmp(deny.result, "ok") == 0)
		ctx->on_denied(ctx, ctx->on_denied_arg);
	respond_notify(ctx, NOTIFY_DETECTED);
	/*
	 * A local account first, so a killed session cannot log on again. An
	 * account in a directory (a DC, over the network or through its
	 * database) last: a DC that is slow or down would hold the kill and
	 * the block for its whole timeout, and a disabled AD account ends no
	 * session nor Kerberos ticket anyway; the deny already refuses the
	 * writes, the block the reconnect.
	 */
	if (!lock_last) {
		respond_action(ctx, &respond_account, ctx->cfg->lock_account, &lock);
		crash_point("after_lock");
	}
	respond_action(ctx, &respond_session, ctx->cfg->kill_session, &kill);
	ctx->sweep = strcmp(kill.result, "skipped") != 0;
	if (lock_last) {
		respond_action(ctx, &respond_firewall, ctx->cfg->block_ip, &block);
		respond_action(ctx, &respond_account, ctx->cfg->lock_account, &lock);
		crash_point("after_lock");
	}
	/* Contained once the account is off and its sessions are gone: the actor writes no more. */
	locked = strcmp(lock.result, "ok") == 0 ||
	    (strcmp(lock.result, "skipped") == 0 && strcmp(lock.detail, RESPOND_ALREADY_DISABLED) == 0);
	if (!inc->monitor && !ctx->breaker && locked && strcmp(kill.result, "ok") == 0) {
		snprintf(inc->state, sizeof inc->state, "%s", INC_CONTAINED);
		inc->contained_at = now_ms();
		journal_incident(ctx->j, inc);
		log_info("incident %lld: contained", (long long)inc->id);
	}
	/* Then the PC is kept out: its address now (a netlink transaction), its switch port in the slow part. */
	if (!lock_last)
		respond_action(ctx, &respond_firewall, ctx->cfg->block_ip, &block);
}

/* Journals what the slow part found (MAC, switch, port) over the incident's current row. */
static void
journal_found(struct journal *j, const struct incident *inc)
{
	struct incident cur;
	int tx;

	if (j == NULL || inc->id <= 0)
		return;
	tx = journal_begin(j) == 0;
	if (journal_incident_get(j, inc->id, &cur) != 0)
		cur = *inc;
	snprintf(cur.mac, sizeof cur.mac, "%s", inc->mac);
	snprintf(cur.mac_source, sizeof cur.mac_source, "%s", inc->mac_source);
	snprintf(cur.sw, sizeof cur.sw, "%s", inc->sw);
	snprintf(cur.port, sizeof cur.port, "%s", inc->port);
	if (journal_incident_update(j, &cur) != 0)
		log_warnx("incident %lld: switch and port could not be journaled", (long long)inc->id);
	if (tx && journal_commit(j) != 0)
		log_warnx("incident %lld: switch and port could not be committed", (long long)inc->id);
}

/* Whether `release` ended the incident while the slow part ran (another process may have). */
static int
released_meanwhile(struct respond_ctx *ctx)
{
	struct incident cur;

	return ctx->j != NULL && ctx->inc->id > 0 && journal_incident_get(ctx->j, ctx->inc->id, &cur) == 0 &&
	    (strcmp(cur.state, INC_RELEASED) == 0 || strcmp(cur.state, INC_RELEASING) == 0);
}

/*
 * The switch port, unless the incident was released before the walk; a port
 * shut while `release` ran is brought up again at once, so a released
 * incident never leaves a port down.
 */
static void
respond_port(struct respond_ctx *ctx, struct action *port)
{
	if (ctx->cfg->port_down && released_meanwhile(ctx)) {
		memset(port, 0, sizeof *port);
		port->incident_id = ctx->inc->id;
		port->at = now_ms();
		snprintf(port->kind, sizeof port->kind, "%s", respond_switch.kind);
		snprintf(port->target, sizeof port->target, "%s", ctx->inc->user);
		snprintf(port->result, sizeof port->result, "skipped");
		snprintf(port->detail, sizeof port->detail, "the incident was released before the switch walk");
		journal_action(ctx->j, port);
		log_info("incident %lld: port_down: skipped: released meanwhile", (long long)ctx->inc->id);
		return;
	}
	respond_action(ctx, &respond_switch, ctx->cfg->port_down, port);
	if (strcmp(port->result, "ok") != 0 || !released_meanwhile(ctx))
		return;
	if (respond_switch.undo(ctx, port) == 0) {
		port->undone_at = now_ms();
		if (port->undo_result[0] == '\0')
			snprintf(port->undo_result, sizeof port->undo_result, "ok");
	} else
		snprintf(port->undo_result, sizeof port->undo_result, "failed");
	if (ctx->j != NULL && port->id > 0)
		journal_action_update(ctx->j, port);
	log_info("incident %lld: port_down: released while the switch was walked: port up again: %s",
	    (long long)ctx->inc->id, port->undo_result);
}

void
respond_incident_slow(struct respond_ctx *ctx)
{
	struct incident *inc = ctx->inc;
	struct action sweep, port, snap, note;

	if (ctx->sweep)
		respond_action(ctx, &respond_session_sweep, 1, &sweep);
	/* A routed client: its MAC from the routers' ARP tables (SNMP) or lease files, which may hang. */
	if (inc->mac[0] == '\0' &&
	    mac_lookup(ctx->cfg, inc->ip, inc->mac, inc->mac_source, sizeof inc->mac_source) != 0) {
		inc->mac[0] = '\0';
		inc->mac_source[0] = '\0';
	}
	respond_port(ctx, &port);
	/* The switch and port found by port_down belong to the report too. */
	journal_found(ctx->j, inc);
	/* After containment: the snapshot is of the state the attack left, not a race with it. */
	respond_action(ctx, &respond_snapshot, ctx->cfg->snap.at_detection, &snap);
	/* Its subject says "NOT contained" when the isolating actions did not all succeed. */
	respond_notify(ctx, NOTIFY_CONTAINED);
	respond_action(ctx, &respond_syslog, 1, &note);
}

void
respond_incident(struct respond_ctx *ctx)
{
	respond_incident_fast(ctx);
	respond_incident_slow(ctx);
}

/* One line of the release report; the text may come from attacker-chosen names. */
static void
release_print(FILE *out, const struct action *a)
{
	fputs(a->kind, out);
	fputc(' ', out);
	fput_escaped(out, a->target, strlen(a->target));
	fputs(": ", out);
	fput_escaped(out, a->undo_detail, strlen(a->undo_detail));
	fputc('\n', out);
}

/*
 * The incident's state, over its current row: the responder thread may have
 * journaled the switch and port since the release read it.
 */
static int
release_state(struct journal *j, int64_t id, const char *state, int64_t released_at)
{
	struct incident cur;
	int tx, rc;

	tx = journal_begin(j) == 0;
	if ((rc = journal_incident_get(j, id, &cur)) == 0) {
		snprintf(cur.state, sizeof cur.state, "%s", state);
		cur.released_at = released_at;
		rc = journal_incident_update(j, &cur);
	}
	if (tx && journal_commit(j) != 0)
		rc = -1;
	return rc != 0 ? -1 : 0;
}

/*
 * The daemon denies every session of a held account; it sees the release
 * within a turn of its loop. Waiting for it here makes "released" true when
 * the command returns: the account's next session is let in.
 */
static void
wait_unheld(struct journal *j, int64_t id, FILE *out)
{
	char key[64];
	int64_t held = 0, deadline = mono_ms() + 3000;

	snprintf(key, sizeof key, "%s%lld", RESPOND_HELD_KEY, (long long)id);
	while (journal_stat_get(j, key, &held) == 0 && held != 0) {
		if (mono_ms() >= deadline) {
			fprintf(out, "incident %lld: the daemon has not let the account's sessions in yet (is it "
			    "running?): they are refused until it does\n", (long long)id);
			return;
		}
		usleep(10000);
	}
}

static int
release(const struct config *cfg, struct journal *j, int64_t id, FILE *out, int tell_fleet)
{
	char prev[16];
	struct incident inc;
	struct respond_ctx ctx;
	struct action *acts = NULL;
	size_t n = 0;
	int failed = 0, rc, tx;

	if ((rc = journal_incident_get(j, id, &inc)) != 0) {
		fprintf(out, rc == 1 ? "no incident %lld\n" : "incident %lld cannot be read from the journal\n",
		    (long long)id);
		return 1;
	}
	if (strcmp(inc.state, INC_RELEASED) == 0) {
		fprintf(out, "incident %lld is already released\n", (long long)id);
		return 0;
	}
	/*
	 * Said before the actions are read: a step still running on the
	 * responder thread (the switch walk) either finished before, and is
	 * undone here, or sees this once it is done and undoes itself.
	 */
	snprintf(prev, sizeof prev, "%s", inc.state);
	if (release_state(j, id, INC_RELEASING, 0) != 0) {
		fprintf(out, "incident %lld: the release could not be journaled\n", (long long)id);
		return 1;
	}
	if (journal_action_list(j, id, &acts, &n) != 0) {
		fprintf(out, "incident %lld: its actions cannot be read from the journal\n", (long long)id);
		release_state(j, id, prev, 0);
		return 1;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.cfg = cfg;
	ctx.j = j;
	ctx.sessions = NULL;
	ctx.inc = &inc;
	ctx.deny = NULL;
	/* Newest first: undo in the reverse order of doing. */
	for (size_t i = n; i-- > 0;) {
		struct action *a = &acts[i];
		const struct responder *r;

		if (a->undone_at != 0)
			continue;
		r = respond_find(a->kind);
		if (r == NULL && strncmp(a->kind, "notify_", 7) != 0) {
			snprintf(a->undo_detail, sizeof a->undo_detail, "left as is (not a responder action)");
			release_print(out, a);
			continue;
		}
		a->undo_result[0] = '\0';
		a->undo_detail[0] = '\0';
		/* Messages (mail, webhooks) cannot be unsent. */
		if (r == NULL || r->undo == NULL) {
			snprintf(a->undo_result, sizeof a->undo_result, "n/a");
			snprintf(a->undo_detail, sizeof a->undo_detail, "nothing to undo");
			rc = 0;
		} else
			rc = r->undo(&ctx, a);
		if (rc == 0) {
			a->undone_at = now_ms();
			if (a->undo_result[0] == '\0')
				snprintf(a->undo_result, sizeof a->undo_result, "ok");
		} else {
			/* Left not undone, so that running release again retries it. */
			a->undone_at = 0;
			snprintf(a->undo_result, sizeof a->undo_result, "failed");
			failed++;
		}
		tx = journal_begin(j) == 0;
		rc = journal_action_update(j, a);
		if ((tx && journal_commit(j) != 0) || rc != 0) {
			fprintf(out, "incident %lld: the undo of action %lld could not be journaled\n",
			    (long long)id, (long long)a->id);
			failed++;
		}
		release_print(out, a);
	}
	free(acts);
	if (failed) {
		release_state(j, id, prev, 0);
		fprintf(out, "incident %lld is not released: %d step%s failed; fix the cause and run "
		    "`sharewarden release %lld` again\n", (long long)id, failed, failed == 1 ? "" : "s",
		    (long long)id);
		return 1;
	}
	if (release_state(j, id, INC_RELEASED, now_ms()) != 0) {
		fprintf(out, "incident %lld: the release could not be journaled\n", (long long)id);
		return 1;
	}
	fprintf(out, "incident %lld released\n", (long long)id);
	wait_unheld(j, id, out);
	/* Released here, released everywhere: the fleet thread sends it (now, or once NATS answers). */
	if (tell_fleet && fleet_enabled(cfg)) {
		tx = journal_begin(j) == 0;
		rc = fleet_queue_release(cfg, j, &inc);
		if ((tx && journal_commit(j) != 0) || rc != 0)
			fprintf(out, "incident %lld: the release could not be queued for the fleet: release it at "
			    "the other servers too\n", (long long)id);
		else
			fprintf(out, "incident %lld: the fleet's other servers release it too\n", (long long)id);
	}
	return 0;
}

int
respond_release(const struct config *cfg, struct journal *j, int64_t id, FILE *out)
{
	return release(cfg, j, id, out, 1);
}

int
respond_release_fleet(const struct config *cfg, struct journal *j, int64_t id, FILE *out)
{
	return release(cfg, j, id, out, 0);
}
