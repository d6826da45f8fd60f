/* deny_writer: the kernel refuses every further open by the actor's smbd at once, before the slower steps run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fanotify.h"
#include "incident.h"
#include "respond.h"

static int
deny_run(struct respond_ctx *ctx, struct action *a)
{
	int pid = ctx->inc->smbd_pid;

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
