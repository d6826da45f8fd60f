/* port_down: shuts the switch port where the actor's MAC is learned (SNMP ifAdminStatus), reopens it on release. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "netport.h"
#include "respond.h"
#include "util.h"

/*
 * The detail of an "ok" action starts with the ports shut, in the form undo
 * reads back: "shut SWITCH ifindex=N before=S[, SWITCH ifindex=N before=S]; ..."
 * Switch names come from the configuration; nothing agent-supplied is in
 * that part.
 */
#define SHUT_PREFIX	"shut "

/* A switch that could not be asked or refused the shutdown: its own failed action, so the incident shows it. */
static void
record_error(struct respond_ctx *ctx, const char *sw, const char *reason)
{
	struct action e;
	int tx;

	log_warnx("incident %lld: port_down on %s: %s", (long long)ctx->inc->id, sw, reason);
	if (ctx->j == NULL || ctx->inc->id <= 0)
		return;
	memset(&e, 0, sizeof e);
	e.incident_id = ctx->inc->id;
	snprintf(e.kind, sizeof e.kind, "%s", respond_switch.kind);
	snprintf(e.target, sizeof e.target, "%s", sw);
	snprintf(e.result, sizeof e.result, "failed");
	e.at = now_ms();
	snprintf(e.detail, sizeof e.detail, "%s", reason);
	tx = journal_begin(ctx->j) == 0;
	if (journal_action_add(ctx->j, &e) != 0)
		log_warnx("incident %lld: port_down error on %s could not be journaled", (long long)e.incident_id,
		    sw);
	if (tx && journal_commit(ctx->j) != 0)
		log_warnx("incident %lld: port_down error on %s could not be committed", (long long)e.incident_id,
		    sw);
}

static const struct snmp_target *
switch_find(const struct config *cfg, const char *name, size_t len)
{
	for (const struct snmp_target *sw = cfg->switches; sw != NULL; sw = sw->next)
		if (strlen(sw->name) == len && strncmp(sw->name, name, len) == 0)
			return sw;
	return NULL;
}

/* A port the interrupted first attempt had begun to shut, as its checkpoint names it. */
struct shut_entry {
	const struct snmp_target *sw;
	int ifindex;
	int before;			/* ifAdminStatus found before the first attempt's SET */
	char ifname[64];
	int seen;			/* the walk found it again */
};

#define RESUME_MAX	16

/*
 * The ports of the interrupted attempt: its detail is "shut SW ifindex=N
 * before=S port=NAME, ...; in progress", journaled before each SET.
 */
static size_t
resume_entries(const struct respond_ctx *ctx, struct shut_entry *e, size_t max)
{
	char seg[sizeof ctx->resume->detail];
	char *entry, *next, *semi, *key, *port;
	size_t n = 0;

	if (ctx->resume == NULL || strcmp(ctx->resume->kind, respond_switch.kind) != 0 ||
	    strncmp(ctx->resume->detail, SHUT_PREFIX, strlen(SHUT_PREFIX)) != 0)
		return 0;
	snprintf(seg, sizeof seg, "%s", ctx->resume->detail + strlen(SHUT_PREFIX));
	if ((semi = strchr(seg, ';')) != NULL)
		*semi = '\0';
	for (entry = seg; entry != NULL && n < max; entry = next) {
		if ((next = strstr(entry, ", ")) != NULL) {
			*next = '\0';
			next += 2;
		}
		for (key = NULL, semi = entry; (semi = strstr(semi, " ifindex=")) != NULL; semi++)
			key = semi;
		if (key == NULL || sscanf(key, " ifindex=%d before=%d", &e[n].ifindex, &e[n].before) != 2 ||
		    e[n].ifindex <= 0 || (e[n].sw = switch_find(ctx->cfg, entry, (size_t)(key - entry))) == NULL)
			continue;
		port = strstr(key, " port=");
		snprintf(e[n].ifname, sizeof e[n].ifname, "%s", port != NULL ? port + 6 : "");
		e[n].seen = 0;
		n++;
	}
	return n;
}

static struct shut_entry *
resume_find(struct shut_entry *e, size_t n, const struct snmp_target *sw, int ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].sw == sw && e[i].ifindex == ifindex)
			return &e[i];
	return NULL;
}

/* Journals the ports about to be shut, with the state each had, before the SET. */
static void
shut_checkpoint(struct respond_ctx *ctx, struct action *a, char *ckpt, size_t cksz,
    const struct snmp_target *sw, int ifindex, int before, const char *ifname)
{
	char name[64];

	snprintf(name, sizeof name, "%s", ifname);
	for (char *p = name; *p; p++)
		if (*p == ',' || *p == ';')
			*p = '_';
	str_appendf(ckpt, cksz, "%s%s ifindex=%d before=%d port=%s", ckpt[0] ? ", " : SHUT_PREFIX, sw->name,
	    ifindex, before, name);
	snprintf(a->detail, sizeof a->detail, "%s; in progress", ckpt);
	respond_checkpoint(ctx, a);
}

static int
switch_run(struct respond_ctx *ctx, struct action *a)
{
	const struct config *cfg = ctx->cfg;
	struct incident *inc = ctx->inc;
	struct port_hit *hits = NULL;
	struct switch_error *errs = NULL;
	size_t nhits = 0, nerrs = 0;
	char shut[512], names[256], refused[512], failed[512], noanswer[512], err[256], ckpt[512];
	struct shut_entry prev[RESUME_MAX];
	size_t nprev;
	int dry, nshut = 0, nok = 0, rc;

	snprintf(a->target, sizeof a->target, "%s", inc->mac[0] != '\0' ? inc->mac : inc->user);
	if (respond_skip(ctx, a))
		return 1;
	if (inc->origin[0] != '\0') {
		/* The PC is at the origin's site: its switches are walked there. */
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, "the fleet's incident %s: the origin site shuts the port",
		    inc->origin);
		return 1;
	}
	if (inc->mac[0] == '\0') {
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, "MAC unknown");
		return 1;
	}
	if (cfg->switches == NULL) {
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, "no [switch] configured");
		return 1;
	}
	if (netport_find(cfg, inc->mac, &hits, &nhits, &errs, &nerrs) == -1) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "not a MAC address");
		return -1;
	}
	dry = config_dry_run(cfg, "port_down");
	shut[0] = names[0] = refused[0] = failed[0] = noanswer[0] = ckpt[0] = '\0';
	/* After a crash: the ports the first attempt began to shut keep the state it found. */
	nprev = resume_entries(ctx, prev, RESUME_MAX);
	for (size_t i = 0; i < nprev; i++)
		str_appendf(ckpt, sizeof ckpt, "%s%s ifindex=%d before=%d port=%s", ckpt[0] ? ", " : SHUT_PREFIX,
		    prev[i].sw->name, prev[i].ifindex, prev[i].before, prev[i].ifname);
	for (size_t i = 0; i < nhits; i++) {
		struct port_hit *h = &hits[i];
		struct shut_entry *p;
		int before = 0, known;

		if (!h->shut_ok) {
			str_appendf(refused, sizeof refused, "%s%s %s (%s)", refused[0] ? ", " : "", h->sw->name, h->ifname,
			    h->why);
			continue;
		}
		nok++;
		if (nok == 1) {
			snprintf(inc->sw, sizeof inc->sw, "%s", h->sw->name);
			snprintf(inc->port, sizeof inc->port, "%s", h->ifname);
			snprintf(a->target, sizeof a->target, "%s %s", h->sw->name, h->ifname);
		}
		if (dry) {
			str_appendf(names, sizeof names, "%s%s %s", names[0] ? ", " : "", h->sw->name, h->ifname);
			continue;
		}
		known = 0;
		if ((p = resume_find(prev, nprev, h->sw, h->ifindex)) != NULL) {
			before = p->before;
			p->seen = 1;
			known = 1;
		} else if (netport_get_admin(h->sw, h->ifindex, &before, err, sizeof err) == 0) {
			/* Journaled before the SET: a run after a crash must not take "down" for the old state. */
			shut_checkpoint(ctx, a, ckpt, sizeof ckpt, h->sw, h->ifindex, before, h->ifname);
			known = 1;
		}
		if (!known || netport_set_admin(h->sw, h->ifindex, 2, NULL, err, sizeof err) == -1) {
			char reason[512];

			snprintf(reason, sizeof reason, "%s (ifIndex %d): %s", h->ifname, h->ifindex, err);
			str_appendf(failed, sizeof failed, "%s%s %s", failed[0] ? ", " : "", h->sw->name, reason);
			record_error(ctx, h->sw->name, reason);
			continue;
		}
		crash_point("switch_walk");
		nshut++;
		str_appendf(shut, sizeof shut, "%s%s ifindex=%d before=%d", shut[0] ? ", " : SHUT_PREFIX, h->sw->name,
		    h->ifindex, before);
		str_appendf(names, sizeof names, "%s%s %s (%d MAC%s)", names[0] ? ", " : "", h->sw->name, h->ifname,
		    h->macs, h->macs == 1 ? "" : "s");
	}
	/* A shut port forgets the MACs it had learned: the walk no longer finds it, the checkpoint does. */
	for (size_t i = 0; i < nprev && !dry; i++) {
		struct shut_entry *p = &prev[i];

		if (p->seen)
			continue;
		if (netport_set_admin(p->sw, p->ifindex, 2, NULL, err, sizeof err) == -1) {
			char reason[512];

			snprintf(reason, sizeof reason, "%s (ifIndex %d): %s", p->ifname, p->ifindex, err);
			str_appendf(failed, sizeof failed, "%s%s %s", failed[0] ? ", " : "", p->sw->name, reason);
			record_error(ctx, p->sw->name, reason);
			continue;
		}
		if (++nok == 1) {
			snprintf(inc->sw, sizeof inc->sw, "%s", p->sw->name);
			snprintf(inc->port, sizeof inc->port, "%s", p->ifname);
			snprintf(a->target, sizeof a->target, "%s %s", p->sw->name, p->ifname);
		}
		nshut++;
		str_appendf(shut, sizeof shut, "%s%s ifindex=%d before=%d", shut[0] ? ", " : SHUT_PREFIX, p->sw->name,
		    p->ifindex, p->before);
		str_appendf(names, sizeof names, "%s%s %s (shut before a restart)", names[0] ? ", " : "", p->sw->name,
		    p->ifname);
	}
	for (size_t i = 0; i < nerrs; i++) {
		str_appendf(noanswer, sizeof noanswer, "%s%s: %s", noanswer[0] ? ", " : "", errs[i].sw->name,
		    errs[i].reason);
		record_error(ctx, errs[i].sw->name, errs[i].reason);
	}

	a->detail[0] = '\0';
	if (dry) {
		snprintf(a->result, sizeof a->result, "skipped");
		if (nok > 0)
			str_appendf(a->detail, sizeof a->detail, "dry run: would shut %s", names);
		else
			str_appendf(a->detail, sizeof a->detail, "dry run: would shut nothing");
		rc = 1;
	} else if (nshut > 0) {
		snprintf(a->result, sizeof a->result, "ok");
		str_appendf(a->detail, sizeof a->detail, "%s; %s", shut, names);
		rc = 0;
	} else {
		snprintf(a->result, sizeof a->result, "failed");
		if (failed[0] != '\0')
			str_appendf(a->detail, sizeof a->detail, "shutdown failed: %s", failed);
		else if (nhits > 0)
			str_appendf(a->detail, sizeof a->detail, "found only on uplinks");
		else
			str_appendf(a->detail, sizeof a->detail, "MAC %s not found on any switch", inc->mac);
		rc = -1;
	}
	if (nshut > 0 && failed[0] != '\0')
		str_appendf(a->detail, sizeof a->detail, "; shutdown failed: %s", failed);
	if (refused[0] != '\0')
		str_appendf(a->detail, sizeof a->detail, "%s%s", nshut == 0 && !dry && failed[0] == '\0' && nhits > 0 ?
		    ": " : "; not shut: ", refused);
	if (noanswer[0] != '\0')
		str_appendf(a->detail, sizeof a->detail, "; not asked: %s", noanswer);
	free(hits);
	free(errs);
	return rc;
}

static int
switch_undo(struct respond_ctx *ctx, struct action *a)
{
	char seg[sizeof a->detail], err[256];
	char *entry, *next, *semi;
	int n = 0, bad = 0;

	/* Still running (no restart finished it): its detail names the ports it was shutting. */
	if (strcmp(a->result, "ok") != 0 && strcmp(a->result, ACT_RUNNING) != 0) {
		snprintf(a->undo_result, sizeof a->undo_result, "n/a");
		snprintf(a->undo_detail, sizeof a->undo_detail, "nothing to undo (no port was shut)");
		return 0;
	}
	/* Each port is journaled before its SET: with none named, the walk had shut nothing yet. */
	if (strcmp(a->result, ACT_RUNNING) == 0 && strncmp(a->detail, SHUT_PREFIX, strlen(SHUT_PREFIX)) != 0) {
		snprintf(a->undo_result, sizeof a->undo_result, "n/a");
		snprintf(a->undo_detail, sizeof a->undo_detail, "no port shut yet (the switch walk was running: "
		    "a port it shuts after the release is brought up again)");
		return 0;
	}
	if (strncmp(a->detail, SHUT_PREFIX, strlen(SHUT_PREFIX)) != 0) {
		snprintf(a->undo_detail, sizeof a->undo_detail, "the shut ports cannot be read from the detail");
		return -1;
	}
	snprintf(seg, sizeof seg, "%s", a->detail + strlen(SHUT_PREFIX));
	if ((semi = strchr(seg, ';')) != NULL)
		*semi = '\0';
	a->undo_detail[0] = '\0';
	for (entry = seg; entry != NULL; entry = next) {
		const struct snmp_target *sw;
		char *key;
		int ifindex, before, status;

		if ((next = strstr(entry, ", ")) != NULL) {
			*next = '\0';
			next += 2;
		}
		/* The name is everything before the last " ifindex=": names may hold spaces. */
		for (key = NULL, semi = entry; (semi = strstr(semi, " ifindex=")) != NULL; semi++)
			key = semi;
		if (key == NULL || sscanf(key, " ifindex=%d before=%d", &ifindex, &before) != 2 || ifindex <= 0) {
			str_appendf(a->undo_detail, sizeof a->undo_detail, "%sunreadable entry", a->undo_detail[0] ? "; " : "");
			bad++;
			continue;
		}
		n++;
		if ((sw = switch_find(ctx->cfg, entry, (size_t)(key - entry))) == NULL) {
			str_appendf(a->undo_detail, sizeof a->undo_detail, "%s%.*s is no longer a [switch]",
			    a->undo_detail[0] ? "; " : "", (int)(key - entry), entry);
			bad++;
			continue;
		}
		/* Back to what it was: up, unless it was already down before the incident. */
		status = before == 2 ? 2 : 1;
		if (netport_set_admin(sw, ifindex, status, NULL, err, sizeof err) == -1) {
			str_appendf(a->undo_detail, sizeof a->undo_detail, "%s%s ifindex=%d: %s", a->undo_detail[0] ? "; " : "",
			    sw->name, ifindex, err);
			bad++;
			continue;
		}
		str_appendf(a->undo_detail, sizeof a->undo_detail, "%s%s ifindex=%d %s", a->undo_detail[0] ? "; " : "",
		    sw->name, ifindex, status == 1 ? "up again" : "left down (it was down before)");
	}
	if (n == 0 && bad == 0) {
		snprintf(a->undo_detail, sizeof a->undo_detail, "the shut ports cannot be read from the detail");
		return -1;
	}
	return bad ? -1 : 0;
}

const struct responder respond_switch = {
	.kind = "port_down",
	.run = switch_run,
	.undo = switch_undo,
};
