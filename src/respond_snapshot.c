/* A snapshot of every share at detection: the state the attack left, kept as evidence and for other users' newer work. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "incident.h"
#include "journal.h"
#include "respond.h"
#include "snapshot.h"
#include "util.h"

/* Appends ", s" (or s to an empty buf), cut to fit. */
static void
append(char *buf, size_t bufsz, const char *s)
{
	size_t n = strlen(buf), m = strlen(s);

	if (n > 0 && n + 2 < bufsz) {
		memcpy(buf + n, ", ", 2);
		n += 2;
	}
	if (n + 1 >= bufsz)
		return;
	if (m > bufsz - 1 - n)
		m = bufsz - 1 - n;
	memcpy(buf + n, s, m);
	buf[n + m] = '\0';
}

static int
snapshot_run(struct respond_ctx *ctx, struct action *a)
{
	int taken = 0, failed = 0;

	snprintf(a->target, sizeof a->target, "shares");
	if (respond_dry_run(ctx, a, "snapshot every share"))
		return 1;
	for (const struct share *s = ctx->cfg->shares; s; s = s->next) {
		struct snap_info si;
		struct snap_rec r;
		char err[256], item[512];

		if (snapshot_backend(s, err, sizeof err) == NULL)
			continue;
		if (snapshot_take(s, &si, err, sizeof err) != 0) {
			snprintf(item, sizeof item, "%s: failed: %s", s->name, err);
			append(a->detail, sizeof a->detail, item);
			failed++;
			continue;
		}
		memset(&r, 0, sizeof r);
		snprintf(r.share, sizeof r.share, "%s", s->name);
		snprintf(r.name, sizeof r.name, "%s", si.name);
		snprintf(r.reason, sizeof r.reason, "detection");
		r.taken_at = si.taken_ms;
		r.incident_id = ctx->inc->id;
		if (ctx->j)
			journal_snapshot_add(ctx->j, &r);
		snprintf(item, sizeof item, "%s@%s", s->name, si.name);
		append(a->detail, sizeof a->detail, item);
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
