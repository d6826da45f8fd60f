/* Ending the actor's SMB sessions: smbcontrol PID shutdown on each per-client smbd, SIGTERM at last. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "incident.h"
#include "respond.h"
#include "session.h"
#include "util.h"

#define SESSION_MAX_PIDS	64
#define SESSION_GONE_MS		1000
#define SESSION_POLL_MS		10

/*
 * Reads /proc/PID/stat: the command name, the state and the parent. Returns
 * 0, or -1 when the process does not exist (or /proc cannot tell).
 */
static int
proc_stat(int pid, char comm[32], char *state, int *ppid)
{
	char path[64], buf[512], *lp, *rp;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name is in parentheses and may itself hold ')' or spaces. */
	if ((lp = strchr(buf, '(')) == NULL || (rp = strrchr(buf, ')')) == NULL || rp < lp)
		return -1;
	snprintf(comm, 32, "%.*s", (int)(rp - lp - 1), lp + 1);
	if (sscanf(rp + 1, " %c %d", state, ppid) != 2)
		return -1;
	return 0;
}

/* Newer Samba names its processes "smbd[client-ip]"; 4.17 leaves them "smbd". */
static int
comm_is_smbd(const char *comm)
{
	return strcmp(comm, "smbd") == 0 || strncmp(comm, "smbd[", 5) == 0;
}

/*
 * Whether pid is a per-client smbd: an "smbd" whose parent is an "smbd".
 * *is_main is set when it is the main smbd instead, which must never be shut
 * down: that would cut every client.
 */
static int
is_client_smbd(int pid, int *is_main)
{
	char comm[32], pcomm[32], state, pstate;
	int ppid, pppid;

	if (is_main != NULL)
		*is_main = 0;
	if (pid <= 1 || pid == getpid())
		return 0;
	if (proc_stat(pid, comm, &state, &ppid) == -1 || state == 'Z' || !comm_is_smbd(comm))
		return 0;
	if (proc_stat(ppid, pcomm, &pstate, &pppid) == -1 || !comm_is_smbd(pcomm)) {
		if (is_main != NULL)
			*is_main = 1;
		return 0;
	}
	return 1;
}

/*
 * Never the main smbd nor ourselves, whatever smbstatus said. A pid that is
 * not (or no longer) visible as a client smbd is still handed to smbcontrol,
 * which only reaches smbd processes.
 */
static int
pid_acceptable(int pid)
{
	int is_main;

	if (is_client_smbd(pid, &is_main))
		return 1;
	return pid > 1 && pid != getpid() && !is_main;
}

/* Gone, or a zombie waiting for the main smbd to reap it. */
static int
pid_gone(int pid)
{
	char comm[32], state;
	int ppid;

	if (kill(pid, 0) == -1 && errno == ESRCH)
		return 1;
	return proc_stat(pid, comm, &state, &ppid) == 0 && state == 'Z';
}

/* Waits up to ms for every pid to be gone; returns how many are left. */
static int
wait_gone(const int *pids, int n, int ms)
{
	const struct timespec tick = { 0, SESSION_POLL_MS * 1000000L };
	int64_t deadline = mono_ms() + ms;
	int left;

	for (;;) {
		left = 0;
		for (int i = 0; i < n; i++)
			if (!pid_gone(pids[i]))
				left++;
		if (left == 0 || mono_ms() >= deadline)
			return left;
		nanosleep(&tick, NULL);
	}
}

/* Asks the smbd to end itself cleanly (it closes its files and the client's connection). */
static int
session_shutdown(const struct config *cfg, int pid, char *err, size_t errlen)
{
	char tool[PATH_MAX], confopt[PATH_MAX + 16], pidstr[16];
	const char *argv[5];
	struct run_result r;
	int i = 0, rc = 0;

	argv[i++] = config_samba_tool(cfg, "smbcontrol", tool, sizeof tool);
	if (cfg->samba_config != NULL && cfg->samba_config[0] != '\0') {
		snprintf(confopt, sizeof confopt, "--configfile=%s", cfg->samba_config);
		argv[i++] = confopt;
	}
	snprintf(pidstr, sizeof pidstr, "%d", pid);
	argv[i++] = pidstr;
	argv[i++] = "shutdown";
	argv[i] = NULL;
	if (run_argv(argv, &r, RESPOND_TOOL_TIMEOUT_MS) != 0) {
		respond_tool_error("smbcontrol", &r, err, errlen);
		rc = -1;
	}
	run_result_free(&r);
	return rc;
}

/*
 * Ends the sessions in pids (n of them, already acceptable): smbcontrol
 * shutdown, then SIGTERM to those still there. Appends to a->detail; returns
 * 0 when every one is gone.
 */
static int
end_sessions(struct respond_ctx *ctx, struct action *a, int *pids, int n)
{
	int left[SESSION_MAX_PIDS] = { 0 }, nleft = 0;
	char err[256];

	for (int i = 0; i < n; i++)
		if (session_shutdown(ctx->cfg, pids[i], err, sizeof err) == -1)
			str_appendf(a->detail, sizeof a->detail, "%d: %s; ", pids[i], err);
	if (wait_gone(pids, n, SESSION_GONE_MS) == 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if (pid_gone(pids[i]))
			continue;
		/* Only a per-client smbd: the pid may have been reused meanwhile. */
		if (is_client_smbd(pids[i], NULL) && kill(pids[i], SIGTERM) == 0)
			str_appendf(a->detail, sizeof a->detail, "SIGTERM sent to %d; ", pids[i]);
		left[nleft++] = pids[i];
	}
	if (wait_gone(left, nleft, SESSION_GONE_MS) == 0)
		return 0;
	str_appendf(a->detail, sizeof a->detail, "still running:");
	for (int i = 0; i < nleft; i++)
		if (!pid_gone(left[i]))
			str_appendf(a->detail, sizeof a->detail, " %d", left[i]);
	return -1;
}

/*
 * The IP whose sessions are ended (NULL = every session of the user): the
 * fleet's incidents end the user's sessions from any client of this site.
 */
static const char *
actor_ip(const struct incident *inc)
{
	return inc->origin[0] == '\0' && inc->ip[0] != '\0' ? inc->ip : NULL;
}

/* Keeps the pids that may be shut down, each once; returns how many. */
static int
keep_acceptable(int *pids, int n)
{
	int kept = 0;

	for (int i = 0; i < n; i++) {
		int dup = 0;

		for (int k = 0; k < kept; k++)
			dup |= pids[k] == pids[i];
		if (!dup && pid_acceptable(pids[i]))
			pids[kept++] = pids[i];
	}
	return kept;
}

static void
target_pids(struct action *a, const int *pids, int n)
{
	snprintf(a->target, sizeof a->target, "smbd ");
	for (int i = 0; i < n; i++)
		str_appendf(a->target, sizeof a->target, "%s%d", i ? "," : "", pids[i]);
}

/*
 * The sessions known without asking smbstatus (the incident's smbd, every
 * pid an audit line named, smbstatus' last background answer) are ended at
 * once: a hung smbstatus never delays the kill. The sweep in the slow part
 * asks smbstatus for any other.
 */
static int
session_run(struct respond_ctx *ctx, struct action *a)
{
	const struct incident *inc = ctx->inc;
	int pids[SESSION_MAX_PIDS];
	int n = 0, is_main = 0;

	snprintf(a->target, sizeof a->target, "%s", inc->user);
	if (respond_skip(ctx, a) || respond_dry_run(ctx, a, "end the SMB sessions of this user and IP"))
		return 1;
	a->detail[0] = '\0';
	if (ctx->sessions != NULL)
		n = session_pids_known(ctx->sessions, inc->user, actor_ip(inc), pids, SESSION_MAX_PIDS - 1);
	if (n < 0)
		n = 0;
	if (is_client_smbd(inc->smbd_pid, &is_main))
		pids[n++] = inc->smbd_pid;
	n = keep_acceptable(pids, n);
	if (n == 0 && is_main) {
		/* What named the main smbd was wrong: shutting it down would cut every client. */
		snprintf(a->target, sizeof a->target, "smbd %d", inc->smbd_pid);
		snprintf(a->result, sizeof a->result, "failed");
		str_appendf(a->detail, sizeof a->detail, "%d is the main smbd: never shut down; smbstatus is "
		    "asked next", inc->smbd_pid);
		return -1;
	}
	if (n == 0) {
		snprintf(a->target, sizeof a->target, "smbd");
		snprintf(a->result, sizeof a->result, "ok");
		str_appendf(a->detail, sizeof a->detail, "no open session known; smbstatus is asked next");
		return 0;
	}
	target_pids(a, pids, n);
	if (end_sessions(ctx, a, pids, n) == -1) {
		snprintf(a->result, sizeof a->result, "failed");
		return -1;
	}
	snprintf(a->result, sizeof a->result, "ok");
	str_appendf(a->detail, sizeof a->detail, "%d connection%s ended", n, n == 1 ? "" : "s");
	return 0;
}

/*
 * The sweep after the kill: smbstatus (bounded by its timeout) names every
 * session of the user from that IP; those still running are ended too. A
 * hung smbstatus is named with its timeout.
 */
static int
sweep_run(struct respond_ctx *ctx, struct action *a)
{
	const struct incident *inc = ctx->inc;
	int pids[SESSION_MAX_PIDS];
	int n, kept = 0;
	char err[256];

	snprintf(a->target, sizeof a->target, "smbd");
	if (respond_skip(ctx, a) || respond_dry_run(ctx, a, "end the SMB sessions of this user and IP"))
		return 1;
	a->detail[0] = '\0';
	n = session_pids_now(ctx->cfg, inc->user, actor_ip(inc), pids, SESSION_MAX_PIDS, err, sizeof err);
	if (n < 0) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "sweep: %s: sessions no audit line named may remain "
		    "(those known were ended at once)", err);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (!pid_gone(pids[i]))
			pids[kept++] = pids[i];
	n = keep_acceptable(pids, kept);
	if (n == 0) {
		snprintf(a->result, sizeof a->result, "ok");
		snprintf(a->detail, sizeof a->detail, "sweep: smbstatus shows no other session");
		return 0;
	}
	target_pids(a, pids, n);
	str_appendf(a->detail, sizeof a->detail, "sweep: ");
	if (end_sessions(ctx, a, pids, n) == -1) {
		snprintf(a->result, sizeof a->result, "failed");
		return -1;
	}
	snprintf(a->result, sizeof a->result, "ok");
	str_appendf(a->detail, sizeof a->detail, "%d more connection%s ended", n, n == 1 ? "" : "s");
	return 0;
}

const struct responder respond_session_sweep = {
	.kind = "kill_session",
	.run = sweep_run,
	.undo = NULL,
};

const struct responder respond_session = {
	.kind = "kill_session",
	.run = session_run,
	.undo = NULL,
};
