/* A snapshot of every share at detection: the state the attack left, kept as evidence and for other users' newer work. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "incident.h"
#include "journal.h"
#include "respond.h"
#include "snapshot.h"
#include "snapsched.h"
#include "util.h"

static int
snapshot_run(struct respond_ctx *ctx, struct action *a)
{
	int taken = 0, failed = 0;

	snprintf(a->target, sizeof a->target, "shares");
	if (respond_dry_run(ctx, a, "snapshot every share"))
		return 1;
	for (const struct share *s = ctx->cfg->shares; s; s = s->next) {
		struct snap_info si;
		char err[256], item[512];

		if (snapshot_backend(s, err, sizeof err) == NULL)
			continue;
		if (snapshot_take_recorded(s, ctx->j, "detection", ctx->inc->id, &si, err, sizeof err) < 0) {
			snprintf(item, sizeof item, "%s: failed: %s", s->name, err);
			str_appendf(a->detail, sizeof a->detail, "%s%s", a->detail[0] ? ", " : "", item);
			failed++;
			continue;
		}
		snprintf(item, sizeof item, "%s@%s", s->name, si.name);
		str_appendf(a->detail, sizeof a->detail, "%s%s", a->detail[0] ? ", " : "", item);
		taken++;
	}
	if (taken == 0 && failed == 0) {
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, "no share has snapshots configured");
		return 1;
	}
	snprintf(a->result, sizeof a->result, "%s", failed ? "failed" : "ok");
	return failed ? -1 : 0;
}

/*
 * Not undone on release: the snapshot is evidence and the next restore may
 * want it; retention removes it like any other sharewarden snapshot.
 */
const struct responder respond_snapshot = {
	.kind = "snapshot",
	.run = snapshot_run,
	.undo = NULL,
};
