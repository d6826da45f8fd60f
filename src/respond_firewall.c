/* Blocking the actor's IP to the SMB ports in sharewarden's nftables table, unblocking it on release. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "firewall.h"
#include "incident.h"
#include "respond.h"

/*
 * The address to block in its printed form, or -1 when there is none that
 * names one client (empty, unspecified, multicast, broadcast).
 */
static int
firewall_target(const char *ip, char *out, size_t outsz)
{
	unsigned char bin[16];
	int family;

	if (inet_pton(AF_INET, ip, bin) == 1) {
		family = AF_INET;
		if (memcmp(bin, "\0\0\0\0", 4) == 0 || bin[0] >= 224)
			return -1;
	} else if (inet_pton(AF_INET6, ip, bin) == 1) {
		family = AF_INET6;
		if (IN6_IS_ADDR_UNSPECIFIED((struct in6_addr *)bin) || IN6_IS_ADDR_MULTICAST((struct in6_addr *)bin))
			return -1;
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)bin)) {
			memmove(bin, bin + 12, 4);
			family = AF_INET;
			if (memcmp(bin, "\0\0\0\0", 4) == 0 || bin[0] >= 224)
				return -1;
		}
	} else
		return -1;
	return inet_ntop(family, bin, out, (socklen_t)outsz) != NULL ? 0 : -1;
}

static int
firewall_run(struct respond_ctx *ctx, struct action *a)
{
	const struct config *cfg = ctx->cfg;
	char ip[INET6_ADDRSTRLEN], err[256];
	const char *set;
	int st;

	if (firewall_target(ctx->inc->ip, ip, sizeof ip) == -1) {
		respond_sanitize(a->target, sizeof a->target, ctx->inc->ip, strlen(ctx->inc->ip));
		if (respond_skip(ctx, a))
			return 1;
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "%s", ctx->inc->ip[0] ? "not a client address" :
		    "the client address is unknown");
		return -1;
	}
	snprintf(a->target, sizeof a->target, "%s", ip);
	if (respond_skip(ctx, a))
		return 1;
	set = strchr(ip, ':') != NULL ? "blocked6" : "blocked4";
	if (config_dry_run(cfg, "block_ip")) {
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, "dry run: would add %s to set %s of table inet %s",
		    ip, set, cfg->nft_table);
		return 1;
	}
	if (firewall_ensure(cfg, err, sizeof err) == -1 || firewall_block(cfg, ip, err, sizeof err) == -1) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "%s", err);
		return -1;
	}
	if ((st = firewall_is_blocked(cfg, ip, err, sizeof err)) != 1) {
		snprintf(a->result, sizeof a->result, "failed");
		if (st == 0)
			snprintf(a->detail, sizeof a->detail, "added, but not in set %s of table inet %s",
			    set, cfg->nft_table);
		else
			snprintf(a->detail, sizeof a->detail, "added, but cannot be checked: %s", err);
		return -1;
	}
	snprintf(a->result, sizeof a->result, "ok");
	/* Packets of open connections are dropped too, but only the session kill ends them. */
	snprintf(a->detail, sizeof a->detail, "dropped to the SMB ports (table inet %s, set %s)",
	    cfg->nft_table, set);
	return 0;
}

static int
firewall_undo(struct respond_ctx *ctx, struct action *a)
{
	char err[256], ip[INET6_ADDRSTRLEN];
	const char *target = a->target;
	int st, running = strcmp(a->result, ACT_RUNNING) == 0;

	/* Still running (no restart finished it): the incident's address may be in the set. */
	if ((strcmp(a->result, "ok") != 0 && !running) ||
	    (running && firewall_target(ctx->inc->ip, ip, sizeof ip) == -1)) {
		snprintf(a->undo_result, sizeof a->undo_result, "n/a");
		snprintf(a->undo_detail, sizeof a->undo_detail, "nothing to undo (the address was not blocked)");
		return 0;
	}
	if (running)
		target = ip;
	if ((st = firewall_is_blocked(ctx->cfg, target, err, sizeof err)) == -1 ||
	    (st == 1 && firewall_unblock(ctx->cfg, target, err, sizeof err) == -1)) {
		snprintf(a->undo_detail, sizeof a->undo_detail, "%s", err);
		return -1;
	}
	snprintf(a->undo_result, sizeof a->undo_result, "ok");
	snprintf(a->undo_detail, sizeof a->undo_detail, st == 1 ? "unblocked" : "already unblocked");
	return 0;
}

const struct responder respond_firewall = {
	.kind = "block_ip",
	.run = firewall_run,
	.undo = firewall_undo,
};
