/* Locking the incident's account (tdbsam: smbpasswd -d; samba-ad-dc: userAccountControl), unlocking it on release. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "incident.h"
#include "respond.h"
#include "util.h"

/*
 * The account name of user, the same for every form Samba and clients use:
 * "LAB\\alice", "alice", "alice@lab.test" are all "alice" (the directory
 * compares names without case). NULL when the name could be taken for an
 * option by the tools, or is not a name at all.
 */
static const char *
account_name(const char *user, char *buf, size_t bufsz)
{
	const char *bs = strrchr(user, '\\'), *name = bs != NULL ? bs + 1 : user, *at;

	if ((at = strchr(name, '@')) != NULL) {
		if ((size_t)(at - name) >= bufsz)
			return NULL;
		memcpy(buf, name, (size_t)(at - name));
		buf[at - name] = '\0';
		name = buf;
	}
	if (name[0] == '\0' || name[0] == '-')
		return NULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return NULL;
	return name;
}

static int
backend_ad(const struct config *cfg)
{
	return strcmp(cfg->account_backend, "samba-ad-dc") == 0;
}

int
respond_account_protected(const struct config *cfg, const char *user, char *why, size_t whylen)
{
	struct ad_account acc;
	char buf[128], err[256];
	const char *name;

	why[0] = '\0';
	if (!backend_ad(cfg) || (name = account_name(user, buf, sizeof buf)) == NULL)
		return 0;
	if (ad_account_read(cfg, name, &acc, err, sizeof err) != 0)
		return 0;
	if (acc.protected)
		snprintf(why, whylen, "%s", acc.why);
	return acc.protected;
}

/* What a lock journals before it disables: the account was enabled, so it is ours to enable again. */
#define LOCK_CHECKPOINT	"disabling (it was enabled)"
/* The same in AD, with the userAccountControl found: "disabling in AD: userAccountControl OLD -> NEW (DN)". */
#define AD_CHECKPOINT	"disabling in AD: "
#define AD_DONE		"disabled in AD: "

/* samba-ad-dc: userAccountControl |= ACCOUNTDISABLE; the detail keeps the old value for release. */
static int
ad_run(struct respond_ctx *ctx, struct action *a, const char *name)
{
	struct ad_account acc;
	unsigned before, after;
	char err[256];

	if (ad_account_read(ctx->cfg, name, &acc, err, sizeof err) != 0) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "%s", err);
		return -1;
	}
	/* A first attempt journaled the value it found and was about to disable: a crash interrupted it. */
	if ((acc.uac & AD_ACCOUNTDISABLE) && ctx->resume != NULL &&
	    sscanf(ctx->resume->detail, AD_CHECKPOINT "userAccountControl %u -> %u", &before, &after) == 2 &&
	    acc.uac == after) {
		snprintf(a->result, sizeof a->result, "ok");
		snprintf(a->detail, sizeof a->detail, AD_DONE "userAccountControl %u -> %u (%.300s)", before, after,
		    acc.dn);
		return 0;
	}
	if (acc.uac & AD_ACCOUNTDISABLE) {
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, RESPOND_ALREADY_DISABLED);
		return 1;
	}
	/* Journaled before the change: a run after a crash must not take "disabled" for the old state. */
	snprintf(a->detail, sizeof a->detail, AD_CHECKPOINT "userAccountControl %u -> %u (%.300s)", acc.uac,
	    acc.uac | AD_ACCOUNTDISABLE, acc.dn);
	respond_checkpoint(ctx, a);
	if (ad_account_set_uac(ctx->cfg, name, &acc, acc.uac | AD_ACCOUNTDISABLE, err, sizeof err) != 0) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "%s", err);
		return -1;
	}
	snprintf(a->result, sizeof a->result, "ok");
	snprintf(a->detail, sizeof a->detail, AD_DONE "userAccountControl %u -> %u (%.300s)", acc.uac,
	    acc.uac | AD_ACCOUNTDISABLE, acc.dn);
	return 0;
}

/* Puts back the exact userAccountControl the account had before the lock. */
static int
ad_undo(struct respond_ctx *ctx, struct action *a, const char *name)
{
	struct ad_account acc;
	unsigned before, after;
	char err[256];

	if (sscanf(a->detail, AD_DONE "userAccountControl %u -> %u", &before, &after) != 2 &&
	    sscanf(a->detail, AD_CHECKPOINT "userAccountControl %u -> %u", &before, &after) != 2) {
		snprintf(a->undo_result, sizeof a->undo_result, "failed");
		snprintf(a->undo_detail, sizeof a->undo_detail, "the journal does not hold the old userAccountControl");
		return -1;
	}
	if (ad_account_read(ctx->cfg, name, &acc, err, sizeof err) != 0 ||
	    ad_account_set_uac(ctx->cfg, name, &acc, before, err, sizeof err) != 0) {
		snprintf(a->undo_result, sizeof a->undo_result, "failed");
		snprintf(a->undo_detail, sizeof a->undo_detail, "%s", err);
		return -1;
	}
	snprintf(a->undo_result, sizeof a->undo_result, "ok");
	if (acc.uac != after)
		snprintf(a->undo_detail, sizeof a->undo_detail, "enabled again: userAccountControl %u "
		    "(it read %u, not %u: changed by someone else since the lock)", before, acc.uac, after);
	else
		snprintf(a->undo_detail, sizeof a->undo_detail, "enabled again: userAccountControl %u", before);
	return 0;
}

/* Reads the account flags ("Account Flags: [DU   ]"). 1 disabled, 0 enabled, -1 error (err filled). */
static int
account_disabled(const struct config *cfg, const char *name, char *err, size_t errlen)
{
	char tool[PATH_MAX], confopt[PATH_MAX + 16];
	const char *argv[8];
	struct run_result r;
	const char *line, *nl, *lb, *rb;
	int i = 0, rc = -1;

	argv[i++] = config_samba_tool(cfg, "pdbedit", tool, sizeof tool);
	if (cfg->samba_config != NULL && cfg->samba_config[0] != '\0') {
		snprintf(confopt, sizeof confopt, "--configfile=%s", cfg->samba_config);
		argv[i++] = confopt;
	}
	argv[i++] = "-L";
	argv[i++] = "-v";
	argv[i++] = "-u";
	argv[i++] = name;
	argv[i] = NULL;
	if (run_argv(argv, &r, RESPOND_TOOL_TIMEOUT_MS) != 0) {
		respond_tool_error("pdbedit", &r, err, errlen);
		run_result_free(&r);
		return -1;
	}
	for (line = r.out; line != NULL; line = (nl = strchr(line, '\n')) != NULL ? nl + 1 : NULL) {
		if (strncmp(line, "Account Flags:", 14) != 0)
			continue;
		lb = strchr(line, '[');
		rb = lb != NULL ? strchr(lb, ']') : NULL;
		if (rb != NULL && memchr(lb, '\n', (size_t)(rb - lb)) == NULL)
			rc = memchr(lb, 'D', (size_t)(rb - lb)) != NULL;
		break;
	}
	if (rc == -1)
		snprintf(err, errlen, "pdbedit printed no account flags");
	run_result_free(&r);
	return rc;
}

/* smbpasswd -d / -e, then checks with pdbedit that the flag really changed. */
static int
account_set(const struct config *cfg, const char *name, int disable, char *detail, size_t len)
{
	char tool[PATH_MAX], err[256];
	const char *argv[6];
	struct run_result r;
	int i = 0, st;

	argv[i++] = config_samba_tool(cfg, "smbpasswd", tool, sizeof tool);
	if (cfg->samba_config != NULL && cfg->samba_config[0] != '\0') {
		argv[i++] = "-c";
		argv[i++] = cfg->samba_config;
	}
	argv[i++] = disable ? "-d" : "-e";
	argv[i++] = name;
	argv[i] = NULL;
	if (run_argv(argv, &r, RESPOND_TOOL_TIMEOUT_MS) != 0) {
		respond_tool_error("smbpasswd", &r, detail, len);
		run_result_free(&r);
		return -1;
	}
	run_result_free(&r);
	if ((st = account_disabled(cfg, name, err, sizeof err)) == -1) {
		snprintf(detail, len, "smbpasswd succeeded but the result cannot be checked: %s", err);
		return -1;
	}
	if (st != disable) {
		snprintf(detail, len, "smbpasswd succeeded but the account is still %s",
		    disable ? "enabled" : "disabled");
		return -1;
	}
	return 0;
}


static int
account_run(struct respond_ctx *ctx, struct action *a)
{
	const char *name;
	char err[256], buf[128];
	int st;

	snprintf(a->target, sizeof a->target, "%s", ctx->inc->user);
	if (respond_skip(ctx, a) || respond_dry_run(ctx, a, "disable the Samba account"))
		return 1;
	if ((name = account_name(ctx->inc->user, buf, sizeof buf)) == NULL) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "suspicious user name");
		return -1;
	}
	if (backend_ad(ctx->cfg))
		return ad_run(ctx, a, name);
	if ((st = account_disabled(ctx->cfg, name, err, sizeof err)) == -1) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "%s", err);
		return -1;
	}
	/*
	 * A first attempt journaled that it found the account enabled and was
	 * about to disable it: a crash interrupted it. Disabled now is our doing.
	 */
	if (st == 1 && ctx->resume != NULL && strcmp(ctx->resume->detail, LOCK_CHECKPOINT) == 0) {
		snprintf(a->result, sizeof a->result, "ok");
		snprintf(a->detail, sizeof a->detail, "disabled");
		return 0;
	}
	if (st == 1) {
		/* Not ours to enable again on release. */
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, RESPOND_ALREADY_DISABLED);
		return 1;
	}
	snprintf(a->detail, sizeof a->detail, LOCK_CHECKPOINT);
	respond_checkpoint(ctx, a);
	if (account_set(ctx->cfg, name, 1, a->detail, sizeof a->detail) == -1) {
		snprintf(a->result, sizeof a->result, "failed");
		return -1;
	}
	snprintf(a->result, sizeof a->result, "ok");
	snprintf(a->detail, sizeof a->detail, "disabled");
	return 0;
}

static int
account_undo(struct respond_ctx *ctx, struct action *a)
{
	const char *name;
	char buf[128];

	/* Still running (the daemon did not restart to finish it): it may have disabled the account. */
	if (strcmp(a->result, "ok") != 0 &&
	    !(strcmp(a->result, ACT_RUNNING) == 0 && (strcmp(a->detail, LOCK_CHECKPOINT) == 0 ||
	    strncmp(a->detail, AD_CHECKPOINT, strlen(AD_CHECKPOINT)) == 0))) {
		snprintf(a->undo_result, sizeof a->undo_result, "n/a");
		if (strcmp(a->result, "skipped") == 0)
			snprintf(a->undo_detail, sizeof a->undo_detail, "left as it was (%.200s)", a->detail);
		else
			snprintf(a->undo_detail, sizeof a->undo_detail, "nothing to undo (the lock had failed)");
		return 0;
	}
	if ((name = account_name(a->target, buf, sizeof buf)) == NULL) {
		snprintf(a->undo_result, sizeof a->undo_result, "failed");
		snprintf(a->undo_detail, sizeof a->undo_detail, "suspicious user name");
		return -1;
	}
	if (strncmp(a->detail, AD_DONE, strlen(AD_DONE)) == 0 ||
	    strncmp(a->detail, AD_CHECKPOINT, strlen(AD_CHECKPOINT)) == 0)
		return ad_undo(ctx, a, name);
	if (account_set(ctx->cfg, name, 0, a->undo_detail, sizeof a->undo_detail) == -1) {
		snprintf(a->undo_result, sizeof a->undo_result, "failed");
		return -1;
	}
	snprintf(a->undo_result, sizeof a->undo_result, "ok");
	snprintf(a->undo_detail, sizeof a->undo_detail, "enabled again");
	return 0;
}

const struct responder respond_account = {
	.kind = "lock_account",
	.run = account_run,
	.undo = account_undo,
};
