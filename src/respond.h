/* Responders: each action taken on an incident, journaled with its result and undone by `release`. */
#ifndef SW_RESPOND_H
#define SW_RESPOND_H

#include <stddef.h>
#include <stdio.h>

#include "incident.h"

struct config;
struct journal;
struct session_cache;

struct fan_deny;
struct notifier;

struct respond_ctx {
	const struct config *cfg;
	struct journal *j;
	struct session_cache *sessions;
	struct incident *inc;
	struct fan_deny *deny;		/* the daemon's deny group; NULL in the CLI or without kernel events */
	struct notifier *notifier;	/* the daemon's sender, kicked when messages are queued; may be NULL */
	int breaker;			/* the circuit breaker is open: isolating responders only report */
	char protected_why[128];	/* set when the directory names the account protected (group, SID) */
};

/*
 * run fills a->target, a->result ("ok", "failed", "skipped") and a->detail;
 * it returns 0 when the action took effect. undo reverses a journaled action
 * and fills a->undo_result / a->undo_detail. undo may be NULL (nothing to undo).
 */
struct responder {
	const char *kind;
	int (*run)(struct respond_ctx *ctx, struct action *a);
	int (*undo)(struct respond_ctx *ctx, struct action *a);
};

extern const struct responder respond_deny;		/* deny_writer */
extern const struct responder respond_account;		/* lock_account */
extern const struct responder respond_session;		/* kill_session */
extern const struct responder respond_firewall;		/* block_ip (nftables, respond_firewall.c) */
extern const struct responder respond_switch;		/* port_down (SNMP, respond_switch.c) */
extern const struct responder respond_snapshot;		/* snapshot (of every share, at detection) */
extern const struct responder respond_syslog;		/* notify_syslog */

/*
 * Runs the responders on a newly opened incident, in order: deny the
 * writer's opens (instant), queue the "detected" message, lock the account,
 * kill its SMB sessions, block its IP, shut its switch port, snapshot the
 * shares, queue the "contained" message, syslog. Each action is journaled
 * (and committed) as it ends. Monitor mode, protected accounts, dry run and
 * an open circuit breaker (more than [respond] max isolations per hour)
 * record "skipped" actions that say why. Sets inc->contained_at and state
 * when the isolating actions succeeded.
 */
void respond_incident(struct respond_ctx *ctx);

/*
 * Undoes every action of incident id that is not undone yet, journals each
 * undo, sets the state to released. Reports to out. Returns 0 when every undo
 * succeeded, 1 otherwise.
 */
int respond_release(const struct config *cfg, struct journal *j, int64_t id, FILE *out);

/* Helpers shared by the responders. */
struct run_result;

/* lock_account's detail when the account was disabled before the incident: never enabled on release. */
#define RESPOND_ALREADY_DISABLED	"already disabled"

/* Samba tools get this long before they are killed. */
#define RESPOND_TOOL_TIMEOUT_MS	10000

/*
 * Copies n bytes of untrusted text into dst so that it is harmless in a log
 * line or a report: control bytes, DEL, '%', '\\' and bytes that are not
 * valid UTF-8 become \xNN. Truncates between characters. Returns dst.
 */
char *respond_sanitize(char *dst, size_t dstsz, const char *src, size_t n);

/* Why a tool failed: the first line of its stderr (else stdout), sanitized, or how it ended. */
void respond_tool_error(const char *tool, const struct run_result *r, char *buf, size_t bufsz);

/*
 * Whether the incident's account must be left alone: monitor mode, a
 * protected account or the open circuit breaker. Then fills a as "skipped"
 * with the reason and returns 1.
 */
int respond_skip(const struct respond_ctx *ctx, struct action *a);

/*
 * Whether a's kind is in [respond] dry run: then fills a as "skipped" with
 * "dry run: would " + what, and returns 1.
 */
int respond_dry_run(const struct respond_ctx *ctx, struct action *a, const char *what);

/* The samba-ad-dc backend (respond_account_ad.c): an account of the DC's own database. */
#define AD_ACCOUNTDISABLE	0x2

struct ad_account {
	char dn[512];
	char sid[80];
	unsigned uac;			/* userAccountControl */
	int protected;			/* member of a protected group, or its SID is protected */
	char why[128];
};

/* Reads name's DN, userAccountControl, groups and SID. 0, or -1 with err filled. */
int ad_account_read(const struct config *cfg, const char *name, struct ad_account *acc, char *err, size_t errlen);

/* Sets userAccountControl to uac exactly and reads it back. 0, or -1 with err filled. */
int ad_account_set_uac(const struct config *cfg, const char *name, const struct ad_account *acc, unsigned uac,
    char *err, size_t errlen);

/*
 * Whether the account backend names user protected (a protected group or
 * SID); fills why. 0 when not, or when the backend has no such notion.
 */
int respond_account_protected(const struct config *cfg, const char *user, char *why, size_t whylen);

#endif
