/* Replication between sites: snapshots sent over SSH with btrfs send / zfs send, never one taken during an incident. */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <btrfsutil.h>
#include <jansson.h>

#include "config.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "replicate.h"
#include "snapshot.h"
#include "snapshot_impl.h"
#include "util.h"

#define BTRFS_BIN	"/usr/bin/btrfs"
#define ERR_TAIL	2048		/* bytes of the children's messages kept for the reason */
#define LIST_MAX	(4 << 20)	/* bytes of a replica's list read at most */

extern char **environ;

/* ------------------------------------------------------------------ names on the wire */

int
repl_sender_ok(const char *s)
{
	return name_token_ok(s, strlen(s));
}

int
repl_share_token(const char *share, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (share[0] == '\0')
		return -1;
	for (const unsigned char *p = (const unsigned char *)share; *p; p++) {
		int keep = isalnum(*p) || *p == '_' || *p == '-' || (*p == '.' && p != (const unsigned char *)share);

		if (o + (keep ? 1 : 3) >= bufsz)
			return -1;
		if (keep)
			buf[o++] = (char)*p;
		else {
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	buf[o] = '\0';
	return 0;
}

/* A token as repl_share_token makes them: nothing else is a folder name of the replica. */
static int
token_ok(const char *t, size_t n)
{
	if (n == 0 || n >= REPL_TOKEN_MAX || t[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == '%') {
			if (i + 2 >= n || !strchr("0123456789ABCDEF", t[i + 1]) ||
			    !strchr("0123456789ABCDEF", t[i + 2]))
				return 0;
			i += 2;
		} else if (!(isalnum(c) || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* One space-separated word of s into buf; -1 when it is empty or too long. */
static int
word(const char **s, const char *end, char *buf, size_t bufsz)
{
	const char *p = *s, *e = p;

	while (e < end && *e != ' ')
		e++;
	if (e == p || (size_t)(e - p) >= bufsz)
		return -1;
	memcpy(buf, p, (size_t)(e - p));
	buf[e - p] = '\0';
	*s = e < end ? e + 1 : e;
	if (e < end && *s == end)
		return -1;	/* a trailing space */
	return 0;
}

int
repl_req_parse(const char *s, size_t n, struct repl_req *r, char *err, size_t errlen)
{
	const char *p = s, *end = s + n;
	char verb[16];
	int zfs;

	memset(r, 0, sizeof *r);
	if (n == 0 || memchr(s, '\0', n) != NULL) {
		snprintf(err, errlen, "no request (this key only runs sharewarden's replication)");
		return -1;
	}
	if (word(&p, end, verb, sizeof verb) == -1 || word(&p, end, r->kind, sizeof r->kind) == -1) {
		snprintf(err, errlen, "not a replication request: expected VERB KIND SHARE ...");
		return -1;
	}
	if (strcmp(verb, "list") == 0)
		r->verb = REPL_LIST;
	else if (strcmp(verb, "receive") == 0)
		r->verb = REPL_RECEIVE;
	else if (strcmp(verb, "send") == 0)
		r->verb = REPL_SEND;
	else {
		snprintf(err, errlen, "unknown request (list, receive or send)");
		return -1;
	}
	if (strcmp(r->kind, "btrfs") != 0 && strcmp(r->kind, "zfs") != 0) {
		snprintf(err, errlen, "unknown stream kind (btrfs or zfs)");
		return -1;
	}
	zfs = r->kind[0] == 'z';
	if (word(&p, end, r->share, sizeof r->share) == -1 || !token_ok(r->share, strlen(r->share))) {
		snprintf(err, errlen, "bad share name in the request");
		return -1;
	}
	if (r->verb != REPL_LIST) {
		if (word(&p, end, r->name, sizeof r->name) == -1 || !snap_name_valid(r->name, zfs)) {
			snprintf(err, errlen, "bad snapshot name in the request (%s)",
			    zfs ? "GMT-YYYY.MM.DD-HH.MM.SS" : "@GMT-YYYY.MM.DD-HH.MM.SS");
			return -1;
		}
	}
	if (r->verb == REPL_RECEIVE) {
		if (word(&p, end, r->parent, sizeof r->parent) == -1) {
			snprintf(err, errlen, "receive needs a parent snapshot or '-'");
			return -1;
		}
		if (strcmp(r->parent, "-") == 0)
			r->parent[0] = '\0';
		else if (!snap_name_valid(r->parent, zfs) || strcmp(r->parent, r->name) == 0) {
			snprintf(err, errlen, "bad parent snapshot name in the request");
			return -1;
		}
	}
	if (p != end) {
		snprintf(err, errlen, "unexpected words after the request");
		return -1;
	}
	return 0;
}

int
repl_target_parse(const char *s, struct repl_target *t, char *err, size_t errlen)
{
	const char *at = strchr(s, '@'), *h = at ? at + 1 : s, *hend, *colon;
	size_t ul = at ? (size_t)(at - s) : 0, hl;

	memset(t, 0, sizeof *t);
	t->port = 22;
	snprintf(t->user, sizeof t->user, "root");
	if (at) {
		if (ul == 0 || ul >= sizeof t->user || s[0] == '-' ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != ul) {
			snprintf(err, errlen, "target '%s': the user must be letters, digits, '.', '_' or '-'", s);
			return -1;
		}
		memcpy(t->user, s, ul);
		t->user[ul] = '\0';
	}
	if (*h == '[') {
		hend = strchr(h, ']');
		if (hend == NULL || hend == h + 1 || strspn(h + 1, "0123456789abcdefABCDEF:.") != (size_t)(hend - h - 1)) {
			snprintf(err, errlen, "target '%s': an IPv6 address goes in brackets: user@[2001:db8::1]:22", s);
			return -1;
		}
		hl = (size_t)(hend - h - 1);
		memcpy(t->host, h + 1, hl);
		t->host[hl] = '\0';
		colon = hend[1] == ':' ? hend + 1 : NULL;
		if (hend[1] != '\0' && colon == NULL) {
			snprintf(err, errlen, "target '%s': unexpected text after the address", s);
			return -1;
		}
	} else {
		colon = strchr(h, ':');
		hl = colon ? (size_t)(colon - h) : strlen(h);
		if (hl == 0 || hl >= sizeof t->host || h[0] == '-' || h[0] == '.' ||
		    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != hl) {
			snprintf(err, errlen, "target '%s': expected [user@]host[:port] (host: a name or an address)", s);
			return -1;
		}
		memcpy(t->host, h, hl);
		t->host[hl] = '\0';
	}
	if (colon) {
		char *e;
		long v;

		errno = 0;
		v = strtol(colon + 1, &e, 10);
		if (errno || *e || e == colon + 1 || v < 1 || v > 65535) {
			snprintf(err, errlen, "target '%s': the port must be 1 to 65535", s);
			return -1;
		}
		t->port = (int)v;
	}
	return 0;
}

int
repl_rate_parse(const char *s, int64_t *bps)
{
	char *e;
	double v;

	errno = 0;
	v = strtod(s, &e);
	if (errno || e == s || v < 0)
		return -1;
	switch (*e) {
	case '\0': break;
	case 'k': case 'K': v *= 1024; e++; break;
	case 'm': case 'M': v *= 1024 * 1024; e++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; e++; break;
	default: return -1;
	}
	if (*e == 'B' || *e == 'b')
		e++;
	if (*e != '\0' || v > 1e15 || (v > 0 && v < 1024))
		return -1;
	*bps = (int64_t)v;
	return 0;
}

/* ------------------------------------------------------------------ the gate */

int
repl_windows(const struct config *cfg, struct journal *j, struct repl_window **out, size_t *n)
{
	struct incident *incs = NULL;
	struct repl_window *w;
	size_t ninc = 0, k = 0;

	*out = NULL;
	*n = 0;
	if (journal_incident_list(j, &incs, &ninc) != 0)
		return -1;
	w = xcalloc(ninc ? ninc : 1, sizeof *w);
	for (size_t i = 0; i < ninc; i++) {
		const struct incident *inc = &incs[i];
		int64_t from = inc->first_event_at > 0 ? inc->first_event_at : inc->detected_at;

		w[k].incident_id = inc->id;
		w[k].from_ms = from - cfg->restore_lookback_ms;
		w[k].to_ms = INT64_MAX;
		if (strcmp(inc->state, INC_RESTORED) == 0) {
			struct restore_rec rr;

			/* Back as before once the restore finished: later snapshots are clean. */
			if (journal_restore_get(j, inc->id, &rr) == 0 && rr.finished_at > 0)
				w[k].to_ms = rr.finished_at;
		} else if (strcmp(inc->state, INC_RELEASED) == 0 && inc->released_at > 0)
			w[k].to_ms = inc->released_at;
		w[k].open = w[k].to_ms == INT64_MAX;
		k++;
	}
	free(incs);
	*out = w;
	*n = k;
	return 0;
}

const struct repl_window *
repl_tainted(const struct repl_window *w, size_t n, int64_t taken_ms)
{
	for (size_t i = 0; i < n; i++) {
		/* A snapshot named for the second the attack began may hold its first files. */
		if (taken_ms >= w[i].from_ms - 1000 && taken_ms <= w[i].to_ms)
			return &w[i];
	}
	return NULL;
}

void
repl_plan_make(const struct snap_info *local, size_t nlocal, char (*remote)[SNAP_NAME_MAX], size_t nremote,
    const struct repl_window *w, size_t nw, int64_t now, int64_t settle_ms, struct repl_plan *plan)
{
	int prev;

	memset(plan, 0, sizeof *plan);
	plan->base = -1;
	plan->steps = xcalloc(nlocal ? nlocal : 1, sizeof *plan->steps);
	/* The newest local snapshot the replica holds complete: the parent of the next one. */
	for (size_t i = 0; i < nlocal; i++) {
		for (size_t k = 0; k < nremote; k++) {
			if (strcmp(local[i].name, remote[k]) == 0 && repl_tainted(w, nw, local[i].taken_ms) == NULL)
				plan->base = (int)i;
		}
	}
	prev = plan->base;
	for (size_t i = plan->base < 0 ? 0 : (size_t)plan->base + 1; i < nlocal; i++) {
		const struct repl_window *t = repl_tainted(w, nw, local[i].taken_ms);

		if (t != NULL) {
			if (t->open) {
				plan->held_incident = t->incident_id;
				plan->held++;
			} else
				plan->tainted++;
			continue;
		}
		if (local[i].taken_ms > now - settle_ms) {
			plan->unsettled++;
			continue;
		}
		/* Nothing on the replica yet: one full send of the newest clean snapshot, not of every one. */
		if (prev < 0) {
			for (size_t k = i + 1; k < nlocal; k++) {
				if (repl_tainted(w, nw, local[k].taken_ms) == NULL && local[k].taken_ms <= now - settle_ms)
					i = k;
			}
		}
		plan->steps[plan->nsteps].idx = i;
		plan->steps[plan->nsteps].parent = prev;
		plan->nsteps++;
		prev = (int)i;
	}
	/* An open incident holds everything after it began, settled or not. */
	for (size_t i = 0; i < nw && plan->held_incident == 0; i++) {
		if (w[i].open)
			plan->held_incident = w[i].incident_id;
	}
}

void
repl_plan_free(struct repl_plan *plan)
{
	free(plan->steps);
	plan->steps = NULL;
}

/* ------------------------------------------------------------------ processes */

/* fork + exec with the given stdin/stdout/stderr and nothing else open; -1 with errno. */
static pid_t
spawn(const char *const argv[], int fd0, int fd1, int fd2)
{
	sigset_t all;
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	sigemptyset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (fd0 < 0)
		fd0 = open("/dev/null", O_RDONLY);
	if (fd0 != 0)
		dup2(fd0, 0);
	if (fd1 != 1)
		dup2(fd1, 1);
	if (fd2 != 2)
		dup2(fd2, 2);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	execve(argv[0], (char *const *)argv, environ);
	_exit(127);
}

static int
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

/* Keeps the last ERR_TAIL bytes the children said. */
struct tail {
	char buf[ERR_TAIL + 1];
	size_t n;
};

static void
tail_add(struct tail *t, const char *p, size_t n)
{
	if (n >= ERR_TAIL) {
		memcpy(t->buf, p + n - ERR_TAIL, ERR_TAIL);
		t->n = ERR_TAIL;
	} else {
		if (t->n + n > ERR_TAIL) {
			size_t drop = t->n + n - ERR_TAIL;

			memmove(t->buf, t->buf + drop, t->n - drop);
			t->n -= drop;
		}
		memcpy(t->buf + t->n, p, n);
		t->n += n;
	}
	t->buf[t->n] = '\0';
}

/* The children's last line, one line, for a reason. */
static const char *
tail_line(struct tail *t)
{
	char *s = t->buf, *e;

	while (t->n > 0 && (t->buf[t->n - 1] == '\n' || t->buf[t->n - 1] == '\r'))
		t->buf[--t->n] = '\0';
	e = strrchr(s, '\n');
	s = e ? e + 1 : s;
	for (char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	return *s ? s : "(no message)";
}

/*
 * producer | (us, counting and pacing) | consumer. Both children's stderr
 * and the consumer's stdout go to one tail. 0 when both exited 0.
 */
static int
pump(const char *const producer[], const char *const consumer[], int64_t bps, int64_t idle_ms,
    const volatile int *stop, int64_t *bytes, char *err, size_t errlen)
{
	int a[2] = { -1, -1 }, b[2] = { -1, -1 }, e[2] = { -1, -1 };
	pid_t pp = -1, pc = -1;
	char *buf = xmalloc(1 << 16);
	size_t have = 0, off = 0;
	struct tail *t = xcalloc(1, sizeof *t);
	int64_t start = mono_ms(), last = start;
	int src_open = 1, err_open = 1, rc = -1, sp, sc, killed = 0;
	char why[256] = "";

	*bytes = 0;
	if (pipe2(a, O_CLOEXEC) == -1 || pipe2(b, O_CLOEXEC) == -1 || pipe2(e, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((pp = spawn(producer, -1, a[1], e[1])) == -1 || (pc = spawn(consumer, b[0], e[1], e[1])) == -1) {
		snprintf(err, errlen, "cannot start %s: %s", pp == -1 ? producer[0] : consumer[0], strerror(errno));
		goto out;
	}
	close(a[1]);
	close(b[0]);
	close(e[1]);
	a[1] = b[0] = e[1] = -1;
	fcntl(b[1], F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	while (src_open || have > off || err_open) {
		struct pollfd pf[3];
		int np = 0, ia = -1, ib = -1, ie = -1, wait = 200;
		int64_t now = mono_ms();

		if (stop && *stop) {
			snprintf(why, sizeof why, "stopped (the daemon ends)");
			break;
		}
		if (now - last > idle_ms) {
			snprintf(why, sizeof why, "no progress for %lld s", (long long)(idle_ms / 1000));
			break;
		}
		if (have == off && src_open) {
			pf[np].fd = a[0];
			pf[np].events = POLLIN;
			ia = np++;
		}
		if (have > off && b[1] >= 0) {
			int64_t allowed = bps > 0 ? (now - start) * bps / 1000 + 65536 - *bytes : INT64_MAX;

			if (allowed > 0) {
				pf[np].fd = b[1];
				pf[np].events = POLLOUT;
				ib = np++;
			} else
				wait = 20;
		}
		if (err_open) {
			pf[np].fd = e[0];
			pf[np].events = POLLIN;
			ie = np++;
		}
		if (have > off && b[1] < 0) {
			snprintf(why, sizeof why, "the receiving side closed the stream");
			break;
		}
		if (poll(pf, (nfds_t)np, wait) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(why, sizeof why, "poll: %s", strerror(errno));
			break;
		}
		if (ia >= 0 && pf[ia].revents) {
			ssize_t r = read(a[0], buf, 1 << 16);

			if (r > 0) {
				have = (size_t)r;
				off = 0;
				last = mono_ms();
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				src_open = 0;
				close(a[0]);
				a[0] = -1;
			}
		}
		if (ib >= 0 && pf[ib].revents) {
			size_t want = have - off;
			ssize_t w;

			if (bps > 0) {
				int64_t allowed = (mono_ms() - start) * bps / 1000 + 65536 - *bytes;

				if (allowed < (int64_t)want)
					want = allowed > 0 ? (size_t)allowed : 0;
			}
			w = want ? write(b[1], buf + off, want) : 0;
			if (w > 0) {
				off += (size_t)w;
				*bytes += w;
				last = mono_ms();
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				close(b[1]);
				b[1] = -1;
			}
		}
		if (ie >= 0 && pf[ie].revents) {
			char m[1024];
			ssize_t r = read(e[0], m, sizeof m);

			if (r > 0)
				tail_add(t, m, (size_t)r);
			else if (r == 0 || (errno != EINTR && errno != EAGAIN))
				err_open = 0;
		}
		if (!src_open && have == off && b[1] >= 0) {
			close(b[1]);	/* the end of the stream */
			b[1] = -1;
		}
	}
	if (why[0] != '\0') {
		kill(pp, SIGKILL);
		kill(pc, SIGKILL);
		killed = 1;
	}
	if (b[1] >= 0) {
		close(b[1]);
		b[1] = -1;
	}
	if (a[0] >= 0) {
		close(a[0]);
		a[0] = -1;
	}
	sp = reap(pp);
	sc = reap(pc);
	pp = pc = -1;
	if (killed)
		snprintf(err, errlen, "%s after %lld bytes: %s", why, (long long)*bytes, tail_line(t));
	else if (sp != 0 || sc != 0)
		snprintf(err, errlen, "%s exited %d, %s exited %d: %s", producer[0], sp, consumer[0], sc, tail_line(t));
	else
		rc = 0;
out:
	for (int *fd = (int[]){ a[0], a[1], b[0], b[1], e[0], e[1] }, i = 0; i < 6; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	if (pp > 0) {
		kill(pp, SIGKILL);
		reap(pp);
	}
	if (pc > 0) {
		kill(pc, SIGKILL);
		reap(pc);
	}
	free(t);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------ the sender */

struct sender {
	const struct config *cfg;
	struct repl_target t;
	char port[8];
	char known[PATH_MAX + 32];
	char connect[48];
};

static int
sender_init(const struct config *cfg, struct sender *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->cfg = cfg;
	if (cfg->repl.target[0] == '\0') {
		snprintf(err, errlen, "no replication: [replication] target is not set");
		return -1;
	}
	if (repl_target_parse(cfg->repl.target, &s->t, err, errlen) == -1)
		return -1;
	snprintf(s->port, sizeof s->port, "%d", s->t.port);
	snprintf(s->known, sizeof s->known, "UserKnownHostsFile=%s", cfg->repl.known_hosts);
	snprintf(s->connect, sizeof s->connect, "ConnectTimeout=%lld",
	    (long long)(cfg->repl.timeout_ms / 1000 > 0 ? cfg->repl.timeout_ms / 1000 : 1));
	return 0;
}

/* ssh ... -- host VERB KIND SHARE [A [B]] into argv (room for 40). */
static void
ssh_argv(const struct sender *s, const char *argv[40], const char *verb, const char *kind, const char *share,
    const char *a1, const char *a2)
{
	const char *opts[] = { "BatchMode=yes", "IdentitiesOnly=yes", "StrictHostKeyChecking=yes", s->known,
	    s->connect, "ServerAliveInterval=10", "ServerAliveCountMax=3", "LogLevel=ERROR" };
	size_t n = 0;

	argv[n++] = s->cfg->repl.ssh;
	argv[n++] = "-F";
	argv[n++] = "/dev/null";
	for (size_t i = 0; i < nitems(opts); i++) {
		argv[n++] = "-o";
		argv[n++] = opts[i];
	}
	argv[n++] = "-i";
	argv[n++] = s->cfg->repl.ssh_key;
	argv[n++] = "-p";
	argv[n++] = s->port;
	argv[n++] = "-l";
	argv[n++] = s->t.user;
	argv[n++] = "--";
	argv[n++] = s->t.host;
	argv[n++] = verb;
	argv[n++] = kind;
	argv[n++] = share;
	if (a1)
		argv[n++] = a1;
	if (a2)
		argv[n++] = a2;
	argv[n] = NULL;
}

/* The replica's complete snapshots of a share (names), oldest first. */
static int
remote_list(const struct sender *s, const char *kind, const char *token, char (**out)[SNAP_NAME_MAX], size_t *n,
    char *err, size_t errlen)
{
	const char *argv[40];
	struct run_result r;
	char (*list)[SNAP_NAME_MAX] = NULL;
	size_t cnt = 0;
	char *line, *save = NULL;

	*out = NULL;
	*n = 0;
	ssh_argv(s, argv, "list", kind, token, NULL, NULL);
	if (run_argv(argv, &r, (int)(s->cfg->repl.timeout_ms > INT_MAX ? INT_MAX : s->cfg->repl.timeout_ms)) == -1 ||
	    r.status != 0) {
		struct tail t = { .n = 0 };

		tail_add(&t, r.err ? r.err : "", r.errlen);
		snprintf(err, errlen, "cannot list the replica on %s (%s): %s", s->cfg->repl.target,
		    r.status == -2 ? "timed out" : r.status == -1 ? "ssh did not start" : "ssh failed", tail_line(&t));
		run_result_free(&r);
		return -1;
	}
	list = xcalloc(1, sizeof *list);
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!snap_name_valid(line, kind[0] == 'z'))
			continue;
		list = xrealloc(list, (cnt + 1) * sizeof *list);
		snprintf(list[cnt++], SNAP_NAME_MAX, "%s", line);
	}
	run_result_free(&r);
	*out = list;
	*n = cnt;
	return 0;
}

/* Where a share's snapshots are read from by the backend's send. */
struct local_src {
	int zfs;
	char snapdir[PATH_MAX];		/* btrfs */
	char dataset[256];		/* zfs */
};

static int
local_src(const struct share *sh, struct local_src *src, char *err, size_t errlen)
{
	char subvol[PATH_MAX];

	memset(src, 0, sizeof *src);
	if (sh->snap_kind == SNAP_ZFS) {
		src->zfs = 1;
		if (zfs_bin() == NULL) {
			snprintf(err, errlen, "no zfs command");
			return -1;
		}
		return zfs_snap_dataset(sh, src->dataset, sizeof src->dataset, err, errlen);
	}
	if (sh->snap_kind != SNAP_BTRFS && sh->snap_kind != SNAP_AUTO) {
		snprintf(err, errlen, "share %s: replication needs btrfs or zfs snapshots", sh->name);
		return -1;
	}
	return btrfs_snap_paths(sh, src->snapdir, sizeof src->snapdir, subvol, sizeof subvol, err, errlen);
}

static void
state_error(struct journal *j, struct repl_state *st, const char *msg)
{
	size_t n = strnlen(msg, sizeof st->last_error - 1);

	memcpy(st->last_error, msg, n);
	st->last_error[n] = '\0';
	st->last_error_at = now_ms();
	journal_repl_state_put(j, st);
}

static void
say(const struct repl_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(const struct repl_opts *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (o && o->out)
		fprintf(o->out, "%s\n", line);
	log_info("replication: %s", line);
}

/* One share's cycle: 0 done (or held), -1 failed (journaled). */
static int
replicate_share(const struct sender *s, struct journal *j, const struct share *sh, const struct repl_opts *o)
{
	const struct config *cfg = s->cfg;
	char err[1024], token[REPL_TOKEN_MAX], (*remote)[SNAP_NAME_MAX] = NULL;
	struct snap_info *local = NULL;
	struct repl_window *w = NULL;
	struct local_src src;
	struct repl_state st;
	struct repl_plan plan;
	size_t nlocal = 0, nremote = 0, nw = 0;
	const char *kind;
	int rc = -1;

	memset(&plan, 0, sizeof plan);
	err[0] = '\0';
	journal_repl_state_get(j, sh->name, &st);
	st.checked_at = now_ms();
	if (local_src(sh, &src, err, sizeof err) == -1 || repl_share_token(sh->name, token, sizeof token) == -1) {
		if (err[0] == '\0')
			snprintf(err, sizeof err, "share name too long");
		state_error(j, &st, err);
		say(o, "%s: %s", sh->name, err);
		return -1;
	}
	kind = src.zfs ? "zfs" : "btrfs";
	if (snapshot_list(sh, &local, &nlocal, err, sizeof err) == -1)
		goto fail;
	if (repl_windows(cfg, j, &w, &nw) == -1) {
		snprintf(err, sizeof err, "cannot read the journal's incidents: nothing sent");
		goto fail;
	}
	if (remote_list(s, kind, token, &remote, &nremote, err, sizeof err) == -1)
		goto fail;
	repl_plan_make(local, nlocal, remote, nremote, w, nw, now_ms(), cfg->repl.settle_ms, &plan);
	snprintf(st.replica_newest, sizeof st.replica_newest, "%s", nremote ? remote[nremote - 1] : "");
	st.held[0] = '\0';
	if (plan.held_incident != 0)
		snprintf(st.held, sizeof st.held, "incident %lld is open: no snapshot taken after it began is sent "
		    "until it is restored or released (%zu held)", (long long)plan.held_incident, plan.held);
	for (size_t i = 0; i < plan.nsteps; i++) {
		const struct snap_info *sn = &local[plan.steps[i].idx];
		const struct snap_info *par = plan.steps[i].parent >= 0 ? &local[plan.steps[i].parent] : NULL;
		const char *prod[12], *cons[40];
		char path[PATH_MAX], ppath[PATH_MAX], full[320], pfull[320];
		struct repl_rec rec;
		const struct repl_window *again;
		struct repl_window *w2 = NULL;
		size_t nw2 = 0, np = 0;
		int64_t bytes = 0, t0;

		/* Asked again right before: an incident may have opened while the last one went. */
		if (repl_windows(cfg, j, &w2, &nw2) == -1 || (again = repl_tainted(w2, nw2, sn->taken_ms)) != NULL) {
			free(w2);
			snprintf(st.held, sizeof st.held, "an incident opened during the cycle: %s not sent", sn->name);
			say(o, "%s: %s", sh->name, st.held);
			break;
		}
		free(w2);
		if (src.zfs) {
			snprintf(full, sizeof full, "%s@%s", src.dataset, sn->name);
			prod[np++] = zfs_bin();
			prod[np++] = "send";
			if (par) {
				snprintf(pfull, sizeof pfull, "@%s", par->name);
				prod[np++] = "-i";
				prod[np++] = pfull;
			}
			prod[np++] = full;
		} else {
			snap_path_join(path, sizeof path, src.snapdir, sn->name, NULL);
			prod[np++] = BTRFS_BIN;
			prod[np++] = "send";
			prod[np++] = "-q";
			if (par) {
				snap_path_join(ppath, sizeof ppath, src.snapdir, par->name, NULL);
				prod[np++] = "-p";
				prod[np++] = ppath;
			}
			prod[np++] = path;
		}
		prod[np] = NULL;
		ssh_argv(s, cons, "receive", kind, token, sn->name, par ? par->name : "-");
		t0 = mono_ms();
		if (pump(prod, cons, cfg->repl.bandwidth_bps, cfg->repl.timeout_ms, o ? o->stop : NULL, &bytes,
		    err, sizeof err) == -1) {
			char msg[1200];

			snprintf(msg, sizeof msg, "%s not sent: %s", sn->name, err);
			state_error(j, &st, msg);
			say(o, "%s: %s", sh->name, msg);
			goto out;
		}
		memset(&rec, 0, sizeof rec);
		snprintf(rec.share, sizeof rec.share, "%s", sh->name);
		snprintf(rec.snapshot, sizeof rec.snapshot, "%s", sn->name);
		snapshot_parse_name(sn->name, &rec.taken_at);
		snprintf(rec.parent, sizeof rec.parent, "%s", par ? par->name : "");
		snprintf(rec.target, sizeof rec.target, "%s", cfg->repl.target);
		rec.sent_at = now_ms();
		rec.bytes = bytes;
		rec.ms = mono_ms() - t0;
		journal_repl_add(j, &rec);
		snprintf(st.replica_newest, sizeof st.replica_newest, "%s", sn->name);
		say(o, "%s: %s sent (%s%s, %lld bytes in %lld ms, %.1f MB/s)", sh->name, sn->name,
		    par ? "incremental from " : "full", par ? par->name : "", (long long)bytes, (long long)rec.ms,
		    rec.ms > 0 ? (double)bytes / 1e6 / ((double)rec.ms / 1000) : 0.0);
	}
	if (st.held[0] != '\0' && plan.held_incident != 0)
		say(o, "%s: held: %s", sh->name, st.held);
	if (plan.tainted)
		say(o, "%s: %zu snapshot%s taken during an incident never sent", sh->name, plan.tainted,
		    plan.tainted == 1 ? "" : "s");
	if (plan.nsteps == 0 && plan.held_incident == 0)
		say(o, "%s: replica up to date (%s)%s", sh->name, st.replica_newest[0] ? st.replica_newest : "empty",
		    plan.unsettled ? ": newer snapshots are sent once settled" : "");
	st.last_error[0] = '\0';
	journal_repl_state_put(j, &st);
	rc = 0;
	goto out;
fail:
	state_error(j, &st, err);
	say(o, "%s: %s", sh->name, err);
out:
	repl_plan_free(&plan);
	free(local);
	free(remote);
	free(w);
	return rc;
}

/* One cycle at a time per journal: the daemon's thread and the CLI take turns. */
static int
cycle_lock(const struct config *cfg)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof p, "%s.replication.lock", cfg->journal);
	if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

int
replicate_run(const struct config *cfg, struct journal *j, const struct share *only, const struct repl_opts *o)
{
	struct sender s;
	char err[512];
	int failed = 0, lk;

	if (sender_init(cfg, &s, err, sizeof err) == -1) {
		say(o, "%s", err);
		return 1;
	}
	if ((lk = cycle_lock(cfg)) == -1) {
		say(o, "cannot lock %s.replication.lock: %s", cfg->journal, strerror(errno));
		return 1;
	}
	for (const struct share *sh = cfg->shares; sh; sh = sh->next) {
		if (only && sh != only)
			continue;
		if (o && o->stop && *o->stop)
			break;
		if (snapshot_backend(sh, err, sizeof err) == NULL) {
			say(o, "%s: not replicated: %s", sh->name, err);
			continue;
		}
		if (replicate_share(&s, j, sh, o) != 0)
			failed++;
	}
	close(lk);
	return failed ? 1 : 0;
}

/* ------------------------------------------------------------------ status */

int64_t
replication_lag_s(const struct config *cfg, struct journal *j)
{
	int64_t worst = -1, now = now_ms();

	if (cfg->repl.target[0] == '\0')
		return -1;
	for (const struct share *sh = cfg->shares; sh; sh = sh->next) {
		struct repl_state st;
		int64_t t;

		if (journal_repl_state_get(j, sh->name, &st) != 0 || st.replica_newest[0] == '\0' ||
		    snapshot_parse_name(st.replica_newest, &t) == -1)
			continue;
		if ((now - t) / 1000 > worst)
			worst = (now - t) / 1000;
	}
	return worst;
}

int
replication_report(const struct config *cfg, struct journal *j, int json, FILE *out)
{
	json_t *arr = json ? json_array() : NULL;
	int64_t now = now_ms();

	if (cfg->repl.target[0] == '\0') {
		if (json)
			fprintf(out, "{\"replication\": false, \"shares\": []}\n");
		else
			fprintf(out, "no replication: [replication] target is not set\n");
		json_decref(arr);
		return 0;
	}
	if (!json && cfg->repl.interval_ms > 0)
		fprintf(out, "replication to %s every %lld s (snapshots sent once %lld s old)\n", cfg->repl.target,
		    (long long)(cfg->repl.interval_ms / 1000), (long long)(cfg->repl.settle_ms / 1000));
	else if (!json)
		fprintf(out, "replication to %s by `sharewarden replicate` only (interval = 0)\n", cfg->repl.target);
	for (const struct share *sh = cfg->shares; sh; sh = sh->next) {
		struct repl_state st;
		struct repl_rec last;
		struct repl_window *w = NULL;
		struct snap_info *local = NULL;
		size_t nw = 0, nlocal = 0, unsent = 0, never = 0;
		int64_t newest_t = 0, lag = -1;
		char held[512] = "", t1[32], t2[32], err[512];

		journal_repl_state_get(j, sh->name, &st);
		journal_repl_last(j, sh->name, &last);
		if (st.replica_newest[0] && snapshot_parse_name(st.replica_newest, &newest_t) == 0)
			lag = (now - newest_t) / 1000;
		repl_windows(cfg, j, &w, &nw);
		if (snapshot_list(sh, &local, &nlocal, err, sizeof err) == 0) {
			for (size_t i = 0; i < nlocal; i++) {
				const struct repl_window *t = repl_tainted(w, nw, local[i].taken_ms);

				if (local[i].taken_ms <= newest_t)
					continue;
				if (t && !t->open)
					never++;
				else
					unsent++;
			}
		}
		for (size_t i = 0; i < nw; i++) {
			if (w[i].open) {
				snprintf(held, sizeof held, "incident %lld is open: snapshots taken after %s are held",
				    (long long)w[i].incident_id, fmt_time(w[i].from_ms, t1));
				break;
			}
		}
		if (json) {
			json_t *o = json_object();

			json_object_set_new(o, "share", json_string(sh->name));
			json_object_set_new(o, "target", json_string(cfg->repl.target));
			json_object_set_new(o, "replica_newest", json_string(st.replica_newest));
			json_object_set_new(o, "lag_s", lag >= 0 ? json_integer(lag) : json_null());
			json_object_set_new(o, "last_sent", json_string(last.snapshot));
			json_object_set_new(o, "last_sent_at", json_string(fmt_time(last.sent_at, t2)));
			json_object_set_new(o, "last_bytes", json_integer(last.bytes));
			json_object_set_new(o, "last_ms", json_integer(last.ms));
			json_object_set_new(o, "last_parent", json_string(last.parent));
			json_object_set_new(o, "unsent", json_integer((json_int_t)unsent));
			json_object_set_new(o, "never_sent", json_integer((json_int_t)never));
			json_object_set_new(o, "held", json_string(held));
			json_object_set_new(o, "checked_at", json_string(fmt_time(st.checked_at, t1)));
			json_object_set_new(o, "last_error", json_string(st.last_error));
			json_array_append_new(arr, o);
		} else {
			fprintf(out, "%s: replica has %s", sh->name, st.replica_newest[0] ? st.replica_newest : "nothing yet");
			if (lag >= 0)
				fprintf(out, " (lag %lld s)", (long long)lag);
			fprintf(out, "; %zu unsent", unsent);
			if (never)
				fprintf(out, ", %zu never sent (taken during an incident)", never);
			fputc('\n', out);
			if (last.snapshot[0])
				fprintf(out, "  last sent %s at %s (%s, %lld bytes in %lld ms)\n", last.snapshot,
				    fmt_time(last.sent_at, t2), last.parent[0] ? "incremental" : "full",
				    (long long)last.bytes, (long long)last.ms);
			if (held[0])
				fprintf(out, "  HELD: %s\n", held);
			if (st.last_error[0])
				fprintf(out, "  last error at %s: %s\n", fmt_time(st.last_error_at, t2), st.last_error);
		}
		free(w);
		free(local);
	}
	if (json) {
		json_t *o = json_object();

		json_object_set_new(o, "replication", json_true());
		json_object_set_new(o, "shares", arr);
		json_dumpf(o, out, JSON_INDENT(2));
		fputc('\n', out);
		json_decref(o);
	}
	return 0;
}

/* ------------------------------------------------------------------ the receiving side */

/* btrfs: a subvolume received complete (read-only, with its received UUID). */
static int
btrfs_complete(const char *path)
{
	struct btrfs_util_subvolume_info info;
	static const uint8_t zero[16];

	if (btrfs_util_is_subvolume(path) != BTRFS_UTIL_OK ||
	    btrfs_util_subvolume_info(path, 0, &info) != BTRFS_UTIL_OK)
		return 0;
	return (info.flags & 1) && memcmp(info.received_uuid, zero, sizeof zero) != 0;
}

/* The complete snapshots in dir, oldest first (by name time). */
static size_t
dir_snaps(const char *dir, struct snap_info **out)
{
	struct snap_info *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	*out = NULL;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX];
		int64_t t;

		if (!snap_name_valid(de->d_name, 0) || snap_path_join(p, sizeof p, dir, de->d_name, NULL) == -1 ||
		    !btrfs_complete(p) || snapshot_parse_name(de->d_name, &t) == -1)
			continue;
		snap_list_add(&list, &n, &cap, de->d_name, t, 0);
	}
	closedir(d);
	snap_sort(list, n);
	*out = list;
	return n;
}

/* A subvolume an interrupted btrfs receive left: still writable (receive makes it read-only at the end). */
static int
btrfs_partial(const char *path)
{
	bool ro = true;

	return btrfs_util_is_subvolume(path) == BTRFS_UTIL_OK &&
	    btrfs_util_get_subvolume_read_only(path, &ro) == BTRFS_UTIL_OK && !ro;
}

/* Removes the writable @GMT subvolume name in dir (NULL: every one) that an interrupted receive left. */
static void
dir_clean_partial(const char *dir, const char *only)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX];

		if (!snap_name_valid(de->d_name, 0) || (only && strcmp(de->d_name, only) != 0) ||
		    snap_path_join(p, sizeof p, dir, de->d_name, NULL) == -1)
			continue;
		if (btrfs_partial(p) && btrfs_util_delete_subvolume(p, 0) == BTRFS_UTIL_OK)
			log_info("removed %s, left by an interrupted receive", p);
	}
	closedir(d);
}

/* zfs dataset names cannot hold '%': the token's escapes become ':' there. */
static void
zfs_component(const char *token, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s", token);
	for (char *p = buf; *p; p++)
		if (*p == '%')
			*p = ':';
}

static int
zfs_ok(const char *what, const char *const argv[], char *out, size_t outsz)
{
	struct run_result r;
	int rc = run_argv(argv, &r, 600000);

	if (rc == -1 || r.status != 0) {
		fprintf(stderr, "sharewarden receive: %s: %s", what, r.err && r.err[0] ? r.err : "failed\n");
		run_result_free(&r);
		return -1;
	}
	if (out)
		snprintf(out, outsz, "%s", r.out ? r.out : "");
	run_result_free(&r);
	return 0;
}

/* The zfs side of replica_serve. */
static int
serve_zfs(const struct config *cfg, const char *sender, const struct repl_req *rq)
{
	char comp[REPL_TOKEN_MAX], parent[512], ds[1024], full[1100], *out = NULL, *line, *save = NULL;
	const char *zfs = zfs_bin();
	struct snap_info *list = NULL;
	size_t n = 0, cap = 0;
	int rc = 1;

	if (zfs == NULL) {
		fprintf(stderr, "sharewarden receive: no zfs command on the replica\n");
		return 1;
	}
	zfs_component(rq->share, comp, sizeof comp);
	if (snprintf(parent, sizeof parent, "%s/%s", cfg->replica.zfs_dataset, sender) >= (int)sizeof parent ||
	    snprintf(ds, sizeof ds, "%s/%s", parent, comp) >= (int)sizeof ds) {
		fprintf(stderr, "sharewarden receive: zfs dataset name too long\n");
		return 1;
	}
	{
		const char *a[] = { zfs, "create", "-p", "-o", "mountpoint=none", parent, NULL };
		const char *l[] = { zfs, "list", "-H", "-o", "name", parent, NULL };
		struct run_result r;

		if (run_argv(l, &r, 60000) != 0 || r.status != 0) {
			if (zfs_ok("zfs create", a, NULL, 0) == -1) {
				run_result_free(&r);
				return 1;
			}
		}
		run_result_free(&r);
	}
	out = xmalloc(LIST_MAX);
	{
		const char *a[] = { zfs, "list", "-H", "-t", "snapshot", "-o", "name", "-r", ds, NULL };
		struct run_result r;

		out[0] = '\0';
		if (run_argv(a, &r, 60000) == 0 && r.status == 0)
			snprintf(out, LIST_MAX, "%s", r.out);
		run_result_free(&r);
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t dl = strlen(ds);
		int64_t t;

		if (strncmp(line, ds, dl) != 0 || line[dl] != '@' || !snap_name_valid(line + dl + 1, 1) ||
		    snapshot_parse_name(line + dl + 1, &t) == -1)
			continue;
		snap_list_add(&list, &n, &cap, line + dl + 1, t, 0);
	}
	snap_sort(list, n);
	if (rq->verb == REPL_LIST) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", list[i].name);
		rc = 0;
	} else if (rq->verb == REPL_SEND) {
		const char *a[] = { zfs, "send", full, NULL };

		snprintf(full, sizeof full, "%s@%s", ds, rq->name);
		fflush(stdout);
		execve(a[0], (char *const *)a, environ);
		fprintf(stderr, "sharewarden receive: cannot run zfs send: %s\n", strerror(errno));
	} else {
		int have_parent = rq->parent[0] == '\0';

		for (size_t i = 0; i < n; i++) {
			if (strcmp(list[i].name, rq->name) == 0) {
				printf("have %s\n", rq->name);
				rc = 0;
				goto out;
			}
			if (rq->parent[0] && strcmp(list[i].name, rq->parent) == 0)
				have_parent = 1;
		}
		if (!have_parent) {
			fprintf(stderr, "sharewarden receive: parent %s is not on the replica: send in full\n",
			    rq->parent);
			goto out;
		}
		snprintf(full, sizeof full, "%s@%s", ds, rq->name);
		{
			const char *a[] = { zfs, "recv", "-u", "-F", full, NULL };
			pid_t pid;

			fflush(stdout);
			if ((pid = spawn(a, 0, 2, 2)) == -1 || reap(pid) != 0) {
				fprintf(stderr, "sharewarden receive: zfs recv of %s failed\n", rq->name);
				goto out;
			}
		}
		printf("received %s\n", rq->name);
		rc = 0;
	}
out:
	free(out);
	free(list);
	return rc;
}

/* Deletes the replica's snapshots its retention no longer keeps (never the newest: the next one's parent). */
static void
replica_prune(const struct config *cfg, const char *dir)
{
	struct snap_info *list = NULL;
	size_t n = dir_snaps(dir, &list);
	unsigned char *keep = xcalloc(n ? n : 1, 1);

	snapshot_retain(list, n, now_ms(), cfg->replica.keep_recent, cfg->replica.keep_hourly,
	    cfg->replica.keep_daily, keep);
	for (size_t i = 0; i + 1 < n; i++) {
		char p[PATH_MAX];

		if (keep[i] || snap_path_join(p, sizeof p, dir, list[i].name, NULL) == -1)
			continue;
		if (btrfs_util_delete_subvolume(p, 0) == BTRFS_UTIL_OK)
			log_info("replica: expired %s deleted", p);
	}
	free(keep);
	free(list);
}

int
replica_serve(const struct config *cfg, const char *sender, const char *request)
{
	char err[256], dir[PATH_MAX], lockp[PATH_MAX + 16], p[PATH_MAX];
	struct snap_info *list = NULL;
	struct repl_req rq;
	size_t n;
	int lk, rc = 1;

	if (!repl_sender_ok(sender)) {
		fprintf(stderr, "sharewarden receive: --from must be 1 to 63 letters, digits, '_' or '-'\n");
		return 2;
	}
	if (request == NULL) {
		fprintf(stderr, "sharewarden receive: no SSH_ORIGINAL_COMMAND: run it as the forced command of the "
		    "sender's key in authorized_keys\n");
		return 2;
	}
	if (repl_req_parse(request, strlen(request), &rq, err, sizeof err) == -1) {
		fprintf(stderr, "sharewarden receive: %s\n", err);
		return 2;
	}
	if (rq.kind[0] == 'z') {
		if (cfg->replica.zfs_dataset[0] == '\0') {
			fprintf(stderr, "sharewarden receive: this server keeps no zfs replicas ([replica] zfs dataset)\n");
			return 1;
		}
		return serve_zfs(cfg, sender, &rq);
	}
	if (cfg->replica.dir[0] == '\0') {
		fprintf(stderr, "sharewarden receive: this server keeps no btrfs replicas ([replica] dir)\n");
		return 1;
	}
	if (snprintf(dir, sizeof dir, "%s/%s/%s", cfg->replica.dir, sender, rq.share) >= (int)sizeof dir) {
		fprintf(stderr, "sharewarden receive: replica path too long\n");
		return 1;
	}
	snprintf(p, sizeof p, "%s/%s", cfg->replica.dir, sender);
	if (snap_mkdirs(dir, err, sizeof err) == -1) {
		fprintf(stderr, "sharewarden receive: %s\n", err);
		return 1;
	}
	/* One request at a time per share: a second sender waits. */
	snprintf(lockp, sizeof lockp, "%s/.lock", dir);
	if ((lk = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 || flock(lk, LOCK_EX) == -1) {
		fprintf(stderr, "sharewarden receive: cannot lock %s: %s\n", lockp, strerror(errno));
		if (lk >= 0)
			close(lk);
		return 1;
	}
	n = dir_snaps(dir, &list);
	switch (rq.verb) {
	case REPL_LIST:
		for (size_t i = 0; i < n; i++)
			printf("%s\n", list[i].name);
		rc = 0;
		break;
	case REPL_SEND: {
		const char *a[] = { BTRFS_BIN, "send", "-q", p, NULL };

		if (snap_path_join(p, sizeof p, dir, rq.name, NULL) == -1 || !btrfs_complete(p)) {
			fprintf(stderr, "sharewarden receive: the replica has no snapshot %s\n", rq.name);
			break;
		}
		fflush(stdout);
		execve(a[0], (char *const *)a, environ);
		fprintf(stderr, "sharewarden receive: cannot run btrfs send: %s\n", strerror(errno));
		break;
	}
	case REPL_RECEIVE: {
		const char *a[] = { BTRFS_BIN, "receive", "-q", "-C", "-e", dir, NULL };
		int have_parent = rq.parent[0] == '\0';
		pid_t pid;

		for (size_t i = 0; i < n; i++) {
			if (strcmp(list[i].name, rq.name) == 0) {
				/* Sent twice (a reply lost on the way): it is here, nothing to do. */
				printf("have %s\n", rq.name);
				rc = 0;
				goto out;
			}
			if (rq.parent[0] && strcmp(list[i].name, rq.parent) == 0)
				have_parent = 1;
		}
		if (!have_parent) {
			fprintf(stderr, "sharewarden receive: parent %s is not on the replica: send in full\n",
			    rq.parent);
			break;
		}
		dir_clean_partial(dir, NULL);
		fflush(stdout);
		if ((pid = spawn(a, 0, 2, 2)) == -1 || reap(pid) != 0) {
			fprintf(stderr, "sharewarden receive: btrfs receive of %s failed\n", rq.name);
			dir_clean_partial(dir, NULL);
			break;
		}
		{
			/* A stream holds what its sender named: whatever else it brought goes. */
			struct snap_info *now = NULL;
			size_t nn = dir_snaps(dir, &now);

			for (size_t i = 0; i < nn; i++) {
				int had = strcmp(now[i].name, rq.name) == 0;

				for (size_t k = 0; k < n && !had; k++)
					had = strcmp(now[i].name, list[k].name) == 0;
				if (!had && snap_path_join(p, sizeof p, dir, now[i].name, NULL) == 0 &&
				    btrfs_util_delete_subvolume(p, 0) == BTRFS_UTIL_OK)
					fprintf(stderr, "sharewarden receive: removed %s, which the request did not name\n",
					    now[i].name);
			}
			free(now);
		}
		if (snap_path_join(p, sizeof p, dir, rq.name, NULL) == -1 || !btrfs_complete(p)) {
			fprintf(stderr, "sharewarden receive: the stream did not hold %s\n", rq.name);
			dir_clean_partial(dir, NULL);
			break;
		}
		replica_prune(cfg, dir);
		printf("received %s\n", rq.name);
		rc = 0;
		break;
	}
	}
out:
	fflush(stdout);
	free(list);
	close(lk);
	return rc;
}

/* ------------------------------------------------------------------ restore from the replica */

int
replica_fetch(const struct config *cfg, struct journal *j, const struct share *sh, int64_t before_ms,
    int64_t incident_id, char *name, size_t namesz, char *err, size_t errlen)
{
	char token[REPL_TOKEN_MAX], (*remote)[SNAP_NAME_MAX] = NULL, path[PATH_MAX];
	const char *cons[40], *prod[40];
	struct snap_info *ri = NULL;
	size_t nremote = 0, cap = 0, nri = 0;
	const struct snap_info *pick;
	struct local_src src;
	struct snap_rec rec;
	struct sender s;
	int64_t bytes = 0;
	int rc = -1;

	name[0] = '\0';
	if (sender_init(cfg, &s, err, errlen) == -1 || local_src(sh, &src, err, errlen) == -1)
		return -1;
	if (src.zfs) {
		snprintf(err, errlen, "restore --from-replica works with btrfs replicas (for zfs: zfs send the "
		    "replica's snapshot back by hand)");
		return -1;
	}
	if (repl_share_token(sh->name, token, sizeof token) == -1) {
		snprintf(err, errlen, "share name too long");
		return -1;
	}
	if (remote_list(&s, "btrfs", token, &remote, &nremote, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < nremote; i++) {
		int64_t t;

		if (snapshot_parse_name(remote[i], &t) == 0)
			snap_list_add(&ri, &nri, &cap, remote[i], t, 0);
	}
	snap_sort(ri, nri);
	if ((pick = snapshot_before(ri, nri, before_ms)) == NULL) {
		snprintf(err, errlen, "the replica on %s has no snapshot of %s taken before the attack began",
		    cfg->repl.target, sh->name);
		goto out;
	}
	snprintf(name, namesz, "%s", pick->name);
	if (snap_path_join(path, sizeof path, src.snapdir, pick->name, NULL) == -1) {
		snprintf(err, errlen, "snapshot path too long");
		goto out;
	}
	if (btrfs_util_is_subvolume(path) == BTRFS_UTIL_OK) {
		rc = 0;		/* the snapshot is here already */
		goto out;
	}
	if (snap_mkdirs(src.snapdir, err, errlen) == -1)
		goto out;
	dir_clean_partial(src.snapdir, pick->name);
	ssh_argv(&s, prod, "send", "btrfs", token, pick->name, NULL);
	cons[0] = BTRFS_BIN;
	cons[1] = "receive";
	cons[2] = "-q";
	cons[3] = "-e";
	cons[4] = src.snapdir;
	cons[5] = NULL;
	if (pump(prod, cons, 0, cfg->repl.timeout_ms, NULL, &bytes, err, errlen) == -1 || !btrfs_complete(path)) {
		if (err[0] == '\0')
			snprintf(err, errlen, "the stream from the replica did not hold %s", pick->name);
		dir_clean_partial(src.snapdir, pick->name);
		goto out;
	}
	memset(&rec, 0, sizeof rec);
	snprintf(rec.share, sizeof rec.share, "%s", sh->name);
	snprintf(rec.name, sizeof rec.name, "%s", pick->name);
	snprintf(rec.reason, sizeof rec.reason, "replica");
	rec.taken_at = pick->taken_ms;
	rec.incident_id = incident_id;
	journal_snapshot_add(j, &rec);
	log_info("share %s: snapshot %s brought back from the replica (%lld bytes)", sh->name, pick->name,
	    (long long)bytes);
	rc = 0;
out:
	free(remote);
	free(ri);
	return rc;
}

/* ------------------------------------------------------------------ the daemon's thread */

struct replsched {
	const struct config *cfg;
	struct journal *j;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	volatile int stop;
};

static void *
replsched_main(void *arg)
{
	struct replsched *r = arg;
	int64_t iv = r->cfg->repl.interval_ms;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		struct repl_opts o = { .stop = &r->stop, .out = NULL };
		int64_t next;
		struct timespec ts;

		pthread_mutex_unlock(&r->mu);
		replicate_run(r->cfg, r->j, NULL, &o);
		pthread_mutex_lock(&r->mu);
		next = (now_ms() / iv + 1) * iv;
		/* After the snapshot the schedule takes at the same multiple, and its settle time. */
		next += r->cfg->repl.settle_ms % iv;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000L;
		while (!r->stop && now_ms() < next) {
			if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
				break;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct replsched *
replsched_start(const struct config *cfg, char *err, size_t errlen)
{
	struct replsched *r;
	int rc;

	if (cfg->repl.target[0] == '\0' || cfg->repl.interval_ms <= 0) {
		snprintf(err, errlen, "no replication schedule");
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->cfg = cfg;
	if ((r->j = journal_open(cfg->journal, 0, err, errlen)) == NULL) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if ((rc = thread_start(&r->thread, replsched_main, r)) != 0) {
		snprintf(err, errlen, "cannot start the replication thread: %s", strerror(rc));
		journal_close(r->j);
		free(r);
		return NULL;
	}
	return r;
}

void
replsched_stop(struct replsched *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	journal_close(r->j);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
