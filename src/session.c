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
#define SMBSTATUS_TIMEOUT_MS	5000
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

/* smbstatus' argv (confopt holds the --configfile option). */
static void
smbstatus_argv(const struct session_cache *sc, const char *argv[5], char *confopt, size_t confoptsz)
{
	size_t i = 0;

	argv[i++] = sc->smbstatus;
	argv[i++] = "--json";
	argv[i++] = "--processes";	/* sessions only: skips walking the lock database */
	if (sc->samba_config != NULL) {
		snprintf(confopt, confoptsz, "--configfile=%s", sc->samba_config);
		argv[i++] = confopt;
	}
	argv[i] = NULL;
}

static int
session_refresh(struct session_cache *sc)
{
	struct run_result r;
	struct smb_session *s;
	char confopt[PATH_MAX + 16];
	const char *argv[5];
	size_t n;

	sc->refreshed_at = mono_ms();
	smbstatus_argv(sc, argv, confopt, sizeof confopt);
	if (run_argv(argv, &r, SMBSTATUS_TIMEOUT_MS) != 0) {
		char *nl = strchr(r.err, '\n');

		if (nl != NULL)
			*nl = '\0';
		log_warnx("%s failed (status %d): %.200s", sc->smbstatus, r.status, r.err);
		run_result_free(&r);
		sc->last_failed = 1;
		return -1;
	}
	if (smbstatus_parse_json(r.out, r.outlen, &s, &n) == -1) {
		log_warnx("%s: output is not smbstatus JSON", sc->smbstatus);
		run_result_free(&r);
		sc->last_failed = 1;
		return -1;
	}
	run_result_free(&r);
	free(sc->s);
	sc->s = s;
	sc->n = n;
	sc->last_failed = 0;
	return 0;
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
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("smbstatus: pipe");
		return;
	}
	smbstatus_argv(sc, argv, confopt, sizeof confopt);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&sc->child, argv[0], &fa, NULL, (char *const *)argv, environ);
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

	if (sc->child > 0 && now - sc->child_started > SMBSTATUS_TIMEOUT_MS) {
		if (!sc->hung_reported)
			log_warnx("%s gave no answer within %d s: killed; sessions are known from audit lines "
			    "until it answers", sc->smbstatus, SMBSTATUS_TIMEOUT_MS / 1000);
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

int
session_pids(struct session_cache *sc, const char *user, const char *ip, int *pids, int max)
{
	if (session_refresh(sc) == -1)
		return -1;
	return session_pids_known(sc, user, ip, pids, max);
}

int
session_pids_known(struct session_cache *sc, const char *user, const char *ip, int *pids, int max)
{
	char want[INET6_ADDRSTRLEN + 1];
	int cnt = 0;

	if (ip != NULL && ip[0] != '\0') {
		if (ip_normalize(ip, strlen(ip), want, sizeof want) == -1)
			snprintf(want, sizeof want, "%s", ip);
	} else
		ip = NULL;
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
