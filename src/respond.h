/* Responders: each action taken on an incident, journaled with its result and undone by `release`. */
#ifndef SW_RESPOND_H
#define SW_RESPOND_H

#include <stdio.h>

#include "incident.h"

struct config;
struct journal;
struct session_cache;

struct respond_ctx {
	const struct config *cfg;
	struct journal *j;
	struct session_cache *sessions;
	struct incident *inc;
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

extern const struct responder respond_account;		/* lock_account */
extern const struct responder respond_session;		/* kill_session */
extern const struct responder respond_syslog;		/* notify_syslog */

/*
 * Runs the responders on a newly opened incident, in order: lock the account,
 * kill its SMB sessions, notify. Each action is journaled (and committed) as
 * it ends. Monitor mode and protected accounts record "skipped" actions.
 * Sets inc->contained_at and state when the isolating actions succeeded.
 */
void respond_incident(struct respond_ctx *ctx);

/*
 * Undoes every action of incident id that is not undone yet, journals each
 * undo, sets the state to released. Reports to out. Returns 0 when every undo
 * succeeded, 1 otherwise.
 */
int respond_release(const struct config *cfg, struct journal *j, int64_t id, FILE *out);

#endif
