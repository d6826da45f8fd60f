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
	/*
	 * After a crash: the journaled "running" row of the action being run
	 * again (its detail holds what the first attempt recorded before it
	 * acted, e.g. the state it found), else NULL.
	 */
	const struct action *resume;
	int sweep;			/* the kill ran: the slow part asks smbstatus for sessions it missed */
	int decided;			/* respond_decide ran */
	/*
	 * Called right after a deny that took effect, before the account lock
	 * (which may take a while): the daemon holds the account there, so a
	 * session the client opens again before the lock lands is refused too.
	 */
	void (*on_denied)(struct respond_ctx *ctx, void *arg);
	void *on_denied_arg;
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
extern const struct responder respond_session;		/* kill_session (the sessions known at once) */
extern const struct responder respond_session_sweep;	/* kill_session (those smbstatus names later) */
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
 * when the isolating actions succeeded. The same as respond_incident_fast
 * then respond_incident_slow.
 */
void respond_incident(struct respond_ctx *ctx);

/*
 * Runs responder r (unless enabled is 0: then a "skipped" action) and
 * journals it twice: "running" before it acts, "done" with the result after.
 * When ctx->resume is r's interrupted row, that row is completed instead.
 */
void respond_action(struct respond_ctx *ctx, const struct responder *r, int enabled, struct action *a);

/*
 * Journals a's detail while it is still running, before the responder
 * changes anything: what a run after a crash must know (the state found).
 */
void respond_checkpoint(struct respond_ctx *ctx, struct action *a);

/*
 * At daemon start, for every incident not released: completes what a crash
 * interrupted. Re-applies the writer deny (it lived in the old process),
 * runs every responder whose action is missing or still "running" (the
 * interrupted row is completed, keeping the state its first attempt found),
 * queues the notices not queued yet, and marks the incident contained when
 * it is. Actions already done are not run again. deny may be NULL.
 */
void respond_resume(const struct config *cfg, struct journal *j, struct session_cache *sessions,
    struct fan_deny *deny, struct notifier *notifier);

/*
 * The part that stops the attacker, for the event loop: it never waits on
 * the network nor on smbstatus (bounded by the tools' own timeouts): deny,
 * the "detected" message, lock, kill the sessions known already, block the
 * IP, containment. Sets ctx->breaker and ctx->sweep for the slow part.
 */
void respond_incident_fast(struct respond_ctx *ctx);

/*
 * What respond_incident_fast decides first, once per incident: report only
 * (monitor mode, a protected account: inc->monitor set and journaled) or
 * the circuit breaker open (ctx->breaker). Returns 1 when the incident's
 * actor is to be isolated (the fleet hears only of those).
 */
int respond_decide(struct respond_ctx *ctx);

/*
 * The part that may wait seconds on hung peers, for the responder worker
 * (its own journal connection; ctx->sessions and ctx->deny unused): the
 * smbstatus sweep, the MAC from routers or leases when the neighbour table
 * had none, the switch port, the snapshot, the "contained" message, syslog.
 * Journals only the incident fields it finds (MAC, switch, port): the event
 * loop and `release` may have written the rest meanwhile.
 */
void respond_incident_slow(struct respond_ctx *ctx);

/*
 * The responder worker: a thread with its own journal connection that runs
 * respond_incident_slow for each incident handed to it, in order, so that a
 * switch or router that never answers, a hung smbstatus or a slow snapshot
 * delays neither the event loop nor the next incident's deny, lock and kill.
 */
struct respond_worker;

struct respond_worker *respond_worker_start(const struct config *cfg, struct notifier *notifier, char *err,
    size_t errlen);
/* Queues the slow part of ctx's incident (ctx and *ctx->inc are copied). Returns 0, or -1 when it cannot. */
int respond_worker_submit(struct respond_worker *w, const struct respond_ctx *ctx);
/* How many incidents wait for their slow part or are in it now. */
int respond_worker_pending(struct respond_worker *w);
/* Finishes every queued incident (each step is bounded by its timeout), then stops. */
void respond_worker_stop(struct respond_worker *w);

/*
 * Undoes every action of incident id that is not undone yet, journals each
 * undo, sets the state to released. Reports to out. Returns 0 when every undo
 * succeeded, 1 otherwise.
 */
int respond_release(const struct config *cfg, struct journal *j, int64_t id, FILE *out);
/* The same for a release another server of the fleet did: it is not announced again. */
int respond_release_fleet(const struct config *cfg, struct journal *j, int64_t id, FILE *out);

/* Helpers shared by the responders. */
struct run_result;

/*
 * The journal's stat "held.ID" is set while the daemon holds incident ID's
 * account (its sessions denied), 0 once it let it go: `release` waits for it.
 */
#define RESPOND_HELD_KEY	"held."

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

/*
 * The directory backends of lock_account: samba-ad-dc (the DC's own sam.ldb,
 * respond_account_ad.c) and ldap (a DC over LDAP from a member server,
 * respond_account_ldap.c). Both journal the same userAccountControl details.
 */
#define AD_ACCOUNTDISABLE	0x2

struct ad_account {
	char dn[512];
	char sid[80];
	unsigned uac;			/* userAccountControl */
	int protected;			/* member of a protected group, or its SID is protected */
	char why[128];
};

/* read's result when the directory itself cannot be reached (not the DC's answer about the account). */
#define ACCOUNT_DIR_DOWN	(-2)

struct account_dir {
	const char *name;		/* the account backend's name: "samba-ad-dc", "ldap" */
	/*
	 * Reads name's DN, userAccountControl, groups and SID. 0; -1 with err
	 * filled; ACCOUNT_DIR_DOWN with err filled when the directory did not
	 * answer (the DC, its database).
	 */
	int (*read)(const struct config *cfg, const char *name, struct ad_account *acc, char *err,
	    size_t errlen);
	/*
	 * Sets userAccountControl from acc->uac (as read) to uac exactly and
	 * reads it back. 0, or -1 with err filled.
	 */
	int (*set_uac)(const struct config *cfg, const char *name, const struct ad_account *acc, unsigned uac,
	    char *err, size_t errlen);
	/* Opens the directory as the lock will: what `check` prints in what. 0, or -1 with err filled. */
	int (*check)(const struct config *cfg, char *what, size_t whatlen, char *err, size_t errlen);
};

extern const struct account_dir account_dir_ad;		/* samba-ad-dc */
extern const struct account_dir account_dir_ldap;	/* ldap */

/* The directory of cfg's account backend; NULL for tdbsam. */
const struct account_dir *account_dir(const struct config *cfg);

/*
 * The search filter for the user account name, every byte of name but
 * [A-Za-z0-9._-] escaped as \XX (RFC 4515: names are chosen by the
 * attacker). 0, or -1 when it does not fit in bufsz.
 */
int account_filter(const char *name, char *buf, size_t bufsz);

/* Escapes the n bytes of s as the value of an RFC 4515 filter into buf. 0, or -1 when it does not fit. */
int account_filter_value(const char *s, size_t n, char *buf, size_t bufsz);

/*
 * A binary objectSid (revision, count, 48-bit authority, count 32-bit
 * little-endian sub-authorities) as text "S-1-5-21-...". 0, or -1 when the
 * bytes are not a SID or buf is too small.
 */
int account_sid_text(const unsigned char *sid, size_t n, char *buf, size_t bufsz);

/* Whether the group DN "CN=name,..." names one of cfg's protected groups; fills why. */
int account_group_protected(const struct config *cfg, const char *dn, char *why, size_t whylen);

/* Whether sid (text) is one of cfg's protected accounts; fills why. */
int account_sid_protected(const struct config *cfg, const char *sid, char *why, size_t whylen);

/* userAccountControl as AD writes it: a 32-bit integer in decimal, which may read negative. 0, or -1. */
int account_parse_uac(const char *s, unsigned *uac);

/*
 * Whether the account backend names user protected (a protected group or
 * SID); fills why. 0 when not, or when the backend has no such notion. It
 * runs before the deny: an answer respond_account_prefetch got less than a
 * few minutes ago is used without asking the directory, and a directory
 * that failed in the last minute is not waited on (the account is taken
 * for unprotected; protected accounts by name still hold).
 */
int respond_account_protected(const struct config *cfg, const char *user, char *why, size_t whylen);

/*
 * Asks the directory, in a thread of its own, whether user is protected,
 * for respond_account_protected to know without waiting: called when an
 * actor is first seen (a new smbd session). Never blocks; does nothing for
 * tdbsam. cfg must outlive respond_account_prefetch_stop.
 */
void respond_account_prefetch(const struct config *cfg, const char *user);

/* Stops the prefetch thread (it finishes the question it is on). */
void respond_account_prefetch_stop(void);

#endif
