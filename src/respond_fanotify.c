/* deny_writer: the kernel refuses every further open by the actor's smbd at once, before the slower steps run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fanotify.h"
#include "incident.h"
#include "respond.h"
#include "session.h"
#include "util.h"

#define DENY_MAX_PIDS	64

/*
 * An incident another server of the fleet opened: every session of its
 * user here is denied (the actor works from another client at this site);
 * the daemon refuses the user's new sessions too until the release.
 */
static int
deny_fleet(struct respond_ctx *ctx, struct action *a)
{
	int pids[DENY_MAX_PIDS], n = 0, denied = 0, gone = 0;

	snprintf(a->target, sizeof a->target, "user %s", ctx->inc->user);
	if (respond_skip(ctx, a) || respond_dry_run(ctx, a, "deny every open by this user's sessions here"))
		return 1;
	if (ctx->deny == NULL) {
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, "no deny group (kernel events off, or not root)");
		return 1;
	}
	if (ctx->sessions != NULL)
		n = session_pids_known(ctx->sessions, ctx->inc->user, NULL, pids, DENY_MAX_PIDS);
	a->detail[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (fan_deny_add(ctx->deny, pids[i]) != 0) {
			/* A session that ended since it was last seen writes nothing: not a failure. */
			if (errno == ESRCH) {
				gone++;
				continue;
			}
			str_appendf(a->detail, sizeof a->detail, "cannot deny smbd %d: %s; ", pids[i], strerror(errno));
			continue;
		}
		str_appendf(a->target, sizeof a->target, "%s%d", denied ? "," : ": smbd ", pids[i]);
		denied++;
	}
	if (denied + gone < n) {
		snprintf(a->result, sizeof a->result, "failed");
		return -1;
	}
	snprintf(a->result, sizeof a->result, "ok");
	str_appendf(a->detail, sizeof a->detail, "%d session%s of this user here denied every open (the fleet's "
	    "incident %s); new ones are refused until the release", denied, denied == 1 ? "" : "s", ctx->inc->origin);
	return 0;
}

static int
deny_run(struct respond_ctx *ctx, struct action *a)
{
	int pid = ctx->inc->smbd_pid;

	if (ctx->inc->origin[0] != '\0')
		return deny_fleet(ctx, a);

	snprintf(a->target, sizeof a->target, "smbd %d", pid);
	if (respond_skip(ctx, a) || respond_dry_run(ctx, a, "deny this smbd every further open"))
		return 1;
	if (ctx->deny == NULL) {
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, "no deny group (kernel events off, or not root)");
		return 1;
	}
	if (pid <= 0 || fan_deny_add(ctx->deny, pid) != 0) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "cannot deny smbd %d: %s", pid,
		    pid <= 0 ? "no smbd pid" : strerror(errno));
		return -1;
	}
	snprintf(a->result, sizeof a->result, "ok");
	snprintf(a->detail, sizeof a->detail, "every further open by this client's smbd is refused");
	return 0;
}

/*
 * The deny list lives in the daemon: it lifts the entry when it sees the
 * release (and drops it by itself once the killed smbd is gone).
 */
static int
deny_undo(struct respond_ctx *ctx, struct action *a)
{
	if (ctx->deny && ctx->inc->smbd_pid > 0)
		fan_deny_remove(ctx->deny, ctx->inc->smbd_pid);
	snprintf(a->undo_result, sizeof a->undo_result, "ok");
	snprintf(a->undo_detail, sizeof a->undo_detail, "opens allowed again (the daemon lifts the deny)");
	return 0;
}

const struct responder respond_deny = { "deny_writer", deny_run, deny_undo };
