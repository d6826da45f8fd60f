/* SMB sessions: parsing `smbstatus --json` and a cache of sessions by smbd pid. */
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "log.h"
#include "session.h"
#include "util.h"

#define SESSION_REFRESH_MS	500
#define LEARNED_SLOTS		4096	/* pids learned from audit lines, direct-mapped */
#define LEARNED_CHECK_MS	10000	/* how often a learned pid's identity is checked again */
#define REFRESH_GAP_MS		200	/* between the end of one background refresh and the next */
#define REFRESH_MAX_OUT		(16 << 20)

/* A pid whose session an audit line told: known at once, no smbstatus needed. */
struct learned {
	int pid;			/* 0: empty slot */
	long long start;		/* the process's start time (/proc/PID/stat): a reused pid differs */
	int64_t checked;		/* mono_ms() of the last check of start */
	struct smb_session s;
};

struct session_cache {
	char smbstatus[PATH_MAX];
	char *samba_config;		/* NULL: smbstatus' own default */
	int64_t timeout_ms;		/* [global] smbstatus timeout */
	struct smb_session *s;
	size_t n;
	int64_t refreshed_at;		/* mono_ms() of the last attempt, 0 never */
	int last_failed;
	struct learned *lt;		/* LEARNED_SLOTS, allocated at the first audit line */
	/* the background refresh: smbstatus as a child whose output the event loop reads */
	pid_t child;			/* 0: none running */
	int fd;				/* its stdout, -1 when none */
	char *buf;
	size_t len, cap;
	int64_t child_started;		/* mono_ms() */
	int64_t child_ended;		/* mono_ms() of the end of the last one */
	int wanted;			/* a lookup missed: refresh when the gap allows */
	int hung_reported;
};

static void refresh_abort(struct session_cache *sc);

/*
 * Copies a JSON string into a fixed field. Embedded NULs (JSON_ALLOW_NUL)
 * become '?' so a name cannot end early and pass for another one.
 */
/* Copies n bytes into a fixed field, cut to fit; NULs become '?'. */
static void
copy_bounded(char *dst, size_t dstsz, const char *src, size_t n)
{
	if (n > dstsz - 1)
		n = dstsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (dst[i] == '\0')
			dst[i] = '?';
}

static void
field_copy(char *buf, size_t bufsz, const json_t *v)
{
	buf[0] = '\0';
	if (json_is_string(v))
		copy_bounded(buf, bufsz, json_string_value(v), json_string_length(v));
}

/* A pid as smbstatus writes it (a decimal string; an integer is accepted too). 0 when unusable. */
static int
json_pid(const json_t *v)
{
	const char *s;
	char *end;
	long long pid;

	if (json_is_integer(v)) {
		pid = json_integer_value(v);
		return pid > 0 && pid <= INT_MAX ? (int)pid : 0;
	}
	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	if (json_string_length(v) != strlen(s) || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	pid = strtoll(s, &end, 10);
	if (errno || *end != '\0' || pid <= 0 || pid > INT_MAX)
		return 0;
	return (int)pid;
}

/*
 * Normalizes a client address to what Samba's %I prints: no brackets, no
 * port, no zone, IPv4-mapped IPv6 as plain IPv4. Returns 0, or -1 when the
 * text is not an IP address.
 */
static int
ip_normalize(const char *in, size_t len, char *out, size_t outsz)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];
	char *pct;

	if (len >= sizeof tmp || len == 0)
		return -1;
	memcpy(tmp, in, len);
	tmp[len] = '\0';
	if ((pct = strchr(tmp, '%')) != NULL)
		*pct = '\0';
	if (inet_pton(AF_INET, tmp, bin) == 1) {
		if (inet_ntop(AF_INET, bin, out, (socklen_t)outsz) == NULL)
			return -1;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, bin) != 1)
		return -1;
	if (memcmp(bin, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		if (inet_ntop(AF_INET, bin + 12, out, (socklen_t)outsz) == NULL)
			return -1;
		return 0;
	}
	if (inet_ntop(AF_INET6, bin, out, (socklen_t)outsz) == NULL)
		return -1;
	return 0;
}

/*
 * Client address of a session's "hostname": Samba writes "ipv4:A.B.C.D:PORT"
 * and "ipv6:ADDR:PORT" (4.17 writes the IPv6 address without brackets, so
 * the port is what follows the last ':'); "[ADDR]:PORT" is accepted too.
 */
static void
session_ip(const char *hostname, char *out, size_t outsz)
{
	const char *p = hostname, *end, *colon;
	int tagged = 0;
	size_t len;

	out[0] = '\0';
	if (strncmp(p, "ipv4:", 5) == 0 || strncmp(p, "ipv6:", 5) == 0) {
		p += 5;
		tagged = 1;
	}
	len = strlen(p);
	if (*p == '[') {
		if ((end = memchr(p, ']', len)) == NULL)
			return;
		p++;
		len = (size_t)(end - p);
	} else if ((colon = strrchr(p, ':')) != NULL && colon[1] != '\0' &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	    (tagged || ip_normalize(p, len, out, outsz) == -1))
		len = (size_t)(colon - p);
	if (ip_normalize(p, len, out, outsz) == -1)
		out[0] = '\0';
}

int
smbstatus_parse_json(const char *json, size_t len, struct smb_session **out, size_t *n)
{
	json_t *root, *sessions, *v;
	json_error_t jerr;
	struct smb_session *s;
	const char *key;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	root = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
	if (root == NULL)
		return -1;
	sessions = json_object_get(root, "sessions");
	if (!json_is_object(root) || !json_is_object(sessions)) {
		json_decref(root);
		return -1;
	}
	s = xcalloc(json_object_size(sessions) + 1, sizeof *s);
	json_object_foreach(sessions, key, v) {
		struct smb_session *cur = &s[cnt];
		const json_t *host;

		(void)key;
		if (!json_is_object(v))
			continue;
		if ((cur->pid = json_pid(json_object_get(json_object_get(v, "server_id"), "pid"))) == 0)
			continue;
		field_copy(cur->user, sizeof cur->user, json_object_get(v, "username"));
		field_copy(cur->domain, sizeof cur->domain, json_object_get(v, "domain"));
		field_copy(cur->host, sizeof cur->host, json_object_get(v, "remote_machine"));
		host = json_object_get(v, "hostname");
		if (json_is_string(host) && json_string_length(host) == strlen(json_string_value(host)))
			session_ip(json_string_value(host), cur->ip, sizeof cur->ip);
		cnt++;
	}
	json_decref(root);
	*out = s;
	*n = cnt;
	return 0;
}

struct session_cache *
session_cache_new(const struct config *cfg)
{
	struct session_cache *sc = xcalloc(1, sizeof *sc);

	config_samba_tool(cfg, "smbstatus", sc->smbstatus, sizeof sc->smbstatus);
	sc->fd = -1;
	sc->timeout_ms = cfg->smbstatus_timeout_ms > 0 ? cfg->smbstatus_timeout_ms : 5000;
	if (cfg->samba_config != NULL && cfg->samba_config[0] != '\0')
		sc->samba_config = xstrdup(cfg->samba_config);
	return sc;
}

void
session_cache_free(struct session_cache *sc)
{
	if (sc == NULL)
		return;
	refresh_abort(sc);
	free(sc->s);
	free(sc->samba_config);
	free(sc->lt);
	free(sc->buf);
	free(sc);
}

/* smbstatus' argv (confopt holds the --configfile option; samba_config NULL or "": its default). */
static void
smbstatus_argv(const char *smbstatus, const char *samba_config, const char *argv[5], char *confopt,
    size_t confoptsz)
{
	size_t i = 0;

	argv[i++] = smbstatus;
	argv[i++] = "--json";
	argv[i++] = "--processes";	/* sessions only: skips walking the lock database */
	if (samba_config != NULL && samba_config[0] != '\0') {
		snprintf(confopt, confoptsz, "--configfile=%s", samba_config);
		argv[i++] = confopt;
	}
	argv[i] = NULL;
}

static const struct smb_session *
session_find(const struct session_cache *sc, int pid)
{
	for (size_t i = 0; i < sc->n; i++)
		if (sc->s[i].pid == pid)
			return &sc->s[i];
	return NULL;
}

/* The start time of a process (field 22 of /proc/PID/stat), -1 when it is gone. */
static long long
proc_start(int pid)
{
	char path[64], buf[1024], *p;
	long long start = -1;
	ssize_t n;
	int fd, field = 2;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: count fields after the last ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field == 22)
		start = strtoll(p, NULL, 10);
	return start;
}

static struct learned *
learned_slot(struct session_cache *sc, int pid)
{
	return sc->lt ? &sc->lt[(unsigned)pid % LEARNED_SLOTS] : NULL;
}

int
session_learn(struct session_cache *sc, int pid, const char *user, size_t ulen, const char *ip, size_t iplen,
    const char *host, size_t hlen)
{
	struct learned *l;
	char nip[INET6_ADDRSTRLEN + 1];

	if (pid <= 0 || ulen == 0 || iplen == 0)
		return 0;
	if (sc->lt == NULL)
		sc->lt = xcalloc(LEARNED_SLOTS, sizeof *sc->lt);
	l = learned_slot(sc, pid);
	if (ip_normalize(ip, iplen, nip, sizeof nip) == -1)
		copy_bounded(nip, sizeof nip, ip, iplen);
	/* the hot path: every audit line of a known session lands here */
	if (l->pid == pid && strlen(l->s.user) == ulen && memcmp(l->s.user, user, ulen) == 0 &&
	    strcmp(l->s.ip, nip) == 0)
		return 0;
	memset(l, 0, sizeof *l);
	l->pid = pid;
	l->start = proc_start(pid);
	l->checked = mono_ms();
	l->s.pid = pid;
	copy_bounded(l->s.user, sizeof l->s.user, user, ulen);
	snprintf(l->s.ip, sizeof l->s.ip, "%s", nip);
	copy_bounded(l->s.host, sizeof l->s.host, host, hlen);
	return 1;
}

int
session_lookup_pid(struct session_cache *sc, int pid, struct smb_session *out)
{
	struct learned *l = learned_slot(sc, pid);
	const struct smb_session *s;

	if (l != NULL && l->pid == pid) {
		int64_t now = mono_ms();

		if (now - l->checked < LEARNED_CHECK_MS || proc_start(pid) == l->start) {
			if (now - l->checked >= LEARNED_CHECK_MS)
				l->checked = now;
			*out = l->s;
			if ((s = session_find(sc, pid)) != NULL && s->domain[0] && strcmp(s->user, l->s.user) == 0)
				snprintf(out->domain, sizeof out->domain, "%s", s->domain);
			return 0;
		}
		l->pid = 0;		/* the pid ended or now belongs to another process */
	}
	if ((s = session_find(sc, pid)) != NULL) {
		*out = *s;
		return 0;
	}
	/* never wait for smbstatus here: the event loop reads its answer (session_fd) */
	sc->wanted = 1;
	session_tick(sc);
	return sc->last_failed ? -1 : 1;
}

/* ---- The background refresh: smbstatus as a child, its output read by the event loop. ---- */

static void
refresh_abort(struct session_cache *sc)
{
	if (sc->fd != -1)
		close(sc->fd);
	sc->fd = -1;
	if (sc->child > 0) {
		/* Its own process group: a wrapper's children (a hung helper) go with it. */
		kill(-sc->child, SIGKILL);
		kill(sc->child, SIGKILL);
		waitpid(sc->child, NULL, 0);
	}
	sc->child = 0;
	sc->len = 0;
	sc->child_ended = mono_ms();
}

static void
refresh_start(struct session_cache *sc)
{
	posix_spawn_file_actions_t fa;
	char confopt[PATH_MAX + 16];
	const char *argv[5];
	extern char **environ;
	posix_spawnattr_t attr;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("smbstatus: pipe");
		return;
	}
	smbstatus_argv(sc->smbstatus, sc->samba_config, argv, confopt, sizeof confopt);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	rc = posix_spawn(&sc->child, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		sc->child = 0;
		sc->last_failed = 1;
		sc->child_ended = mono_ms();
		log_warnx("%s: %s", sc->smbstatus, strerror(rc));
		return;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	sc->fd = p[0];
	sc->len = 0;
	sc->child_started = sc->refreshed_at = mono_ms();
	sc->wanted = 0;
}

int
session_fd(const struct session_cache *sc)
{
	return sc->fd;
}

int
session_poll(struct session_cache *sc)
{
	struct smb_session *s;
	size_t n;
	ssize_t r;
	int st = 0;

	if (sc->fd == -1)
		return 0;
	for (;;) {
		if (sc->cap - sc->len < 65536) {
			sc->cap = sc->cap ? sc->cap * 2 : 131072;
			sc->buf = xrealloc(sc->buf, sc->cap);
		}
		r = read(sc->fd, sc->buf + sc->len, sc->cap - sc->len - 1);
		if (r > 0) {
			sc->len += (size_t)r;
			if (sc->len > REFRESH_MAX_OUT) {
				log_warnx("%s: more than %d MiB of output: ignored", sc->smbstatus, REFRESH_MAX_OUT >> 20);
				refresh_abort(sc);
				sc->last_failed = 1;
				return 0;
			}
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return 0;
		break;		/* end of output (or a read error) */
	}
	close(sc->fd);
	sc->fd = -1;
	waitpid(sc->child, &st, 0);	/* it closed its output: it is exiting */
	sc->child = 0;
	sc->child_ended = mono_ms();
	if (sc->hung_reported) {
		log_info("%s answers again", sc->smbstatus);
		sc->hung_reported = 0;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || smbstatus_parse_json(sc->buf, sc->len, &s, &n) == -1) {
		if (!sc->last_failed)
			log_warnx("%s failed (status %d) or gave no smbstatus JSON: sessions are known from audit "
			    "lines only", sc->smbstatus, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		sc->last_failed = 1;
		sc->len = 0;
		return 0;
	}
	sc->len = 0;
	free(sc->s);
	sc->s = s;
	sc->n = n;
	sc->last_failed = 0;
	return 1;
}

void
session_tick(struct session_cache *sc)
{
	int64_t now = mono_ms();

	if (sc->child > 0 && now - sc->child_started > sc->timeout_ms) {
		char d[32];

		if (!sc->hung_reported)
			log_warnx("%s gave no answer within %s (smbstatus timeout): killed; sessions are known from "
			    "audit lines until it answers", sc->smbstatus, fmt_timeout(sc->timeout_ms, d));
		sc->hung_reported = 1;
		refresh_abort(sc);
		sc->last_failed = 1;
	}
	if (sc->wanted && sc->child == 0 && now - sc->child_ended >= REFRESH_GAP_MS)
		refresh_start(sc);
}

/* The account part of "DOMAIN\user". */
static const char *
user_base(const char *user)
{
	const char *bs = strrchr(user, '\\');

	return bs != NULL ? bs + 1 : user;
}

/*
 * Same account, ASCII case-insensitive; a name with a domain matches the
 * same name without one (the audit log and smbstatus may differ in that).
 */
static int
user_match(const struct smb_session *s, const char *user)
{
	char full[sizeof s->domain + sizeof s->user + 1];

	if (strcasecmp(s->user, user) == 0)
		return 1;
	if (s->domain[0] != '\0') {
		snprintf(full, sizeof full, "%s\\%s", s->domain, s->user);
		if (strcasecmp(full, user) == 0)
			return 1;
	}
	if (strchr(s->user, '\\') != NULL && strchr(user, '\\') != NULL)
		return 0;
	return strcasecmp(user_base(s->user), user_base(user)) == 0;
}

/* ip in the form smbstatus' sessions hold, in want; NULL when any IP will do. */
static const char *
want_ip(const char *ip, char *want, size_t wantsz)
{
	if (ip == NULL || ip[0] == '\0')
		return NULL;
	if (ip_normalize(ip, strlen(ip), want, wantsz) == -1)
		snprintf(want, wantsz, "%s", ip);
	return want;
}

int
session_pids_now(const struct config *cfg, const char *user, const char *ip, int *pids, int max, char *err,
    size_t errlen)
{
	char tool[PATH_MAX], confopt[PATH_MAX + 16], want[INET6_ADDRSTRLEN + 1], d[32];
	const char *argv[5];
	struct run_result r;
	struct smb_session *s;
	size_t n;
	int64_t timeout = cfg->smbstatus_timeout_ms > 0 ? cfg->smbstatus_timeout_ms : 5000;
	int cnt = 0, rc;

	err[0] = '\0';
	config_samba_tool(cfg, "smbstatus", tool, sizeof tool);
	smbstatus_argv(tool, cfg->samba_config, argv, confopt, sizeof confopt);
	if ((rc = run_argv(argv, &r, (int)timeout)) != 0) {
		if (rc == -2)
			snprintf(err, errlen, "smbstatus gave no answer within %s (smbstatus timeout)",
			    fmt_timeout(timeout, d));
		else {
			char *nl = strchr(r.err, '\n');

			if (nl != NULL)
				*nl = '\0';
			snprintf(err, errlen, "smbstatus failed (status %d)", rc);
			log_warnx("%s failed (status %d): %.200s", tool, rc, r.err);
		}
		run_result_free(&r);
		return rc == -2 ? -2 : -1;
	}
	if (smbstatus_parse_json(r.out, r.outlen, &s, &n) == -1) {
		snprintf(err, errlen, "smbstatus gave no smbstatus JSON");
		run_result_free(&r);
		return -1;
	}
	run_result_free(&r);
	ip = want_ip(ip, want, sizeof want);
	for (size_t i = 0; i < n && cnt < max; i++)
		if (user_match(&s[i], user) && (ip == NULL || strcmp(s[i].ip, want) == 0))
			pids[cnt++] = s[i].pid;
	free(s);
	return cnt;
}

int
session_pids_known(struct session_cache *sc, const char *user, const char *ip, int *pids, int max)
{
	char want[INET6_ADDRSTRLEN + 1];
	int cnt = 0;

	ip = want_ip(ip, want, sizeof want);
	for (size_t i = 0; sc->lt && i < LEARNED_SLOTS && cnt < max; i++) {
		const struct learned *l = &sc->lt[i];

		if (l->pid > 0 && user_match(&l->s, user) && (ip == NULL || strcmp(l->s.ip, want) == 0) &&
		    proc_start(l->pid) == l->start)
			pids[cnt++] = l->pid;
	}
	for (size_t i = 0; i < sc->n && cnt < max; i++) {
		const struct smb_session *s = &sc->s[i];
		int dup = 0;

		if (!user_match(s, user) || (ip != NULL && strcmp(s->ip, want) != 0))
			continue;
		for (int k = 0; k < cnt; k++)
			if (pids[k] == s->pid)
				dup = 1;
		if (!dup)
			pids[cnt++] = s->pid;
	}
	return cnt;
}
