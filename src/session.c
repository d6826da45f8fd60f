/* SMB sessions: parsing `smbstatus --json` and a cache of sessions by smbd pid. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "config.h"
#include "log.h"
#include "session.h"
#include "util.h"

#define SESSION_REFRESH_MS	500
#define SMBSTATUS_TIMEOUT_MS	5000

struct session_cache {
	char smbstatus[PATH_MAX];
	char *samba_config;		/* NULL: smbstatus' own default */
	struct smb_session *s;
	size_t n;
	int64_t refreshed_at;		/* mono_ms() of the last attempt, 0 never */
	int last_failed;
};

/*
 * Copies a JSON string into a fixed field. Embedded NULs (JSON_ALLOW_NUL)
 * become '?' so a name cannot end early and pass for another one.
 */
static void
field_copy(char *buf, size_t bufsz, const json_t *v)
{
	const char *p;
	size_t n;

	buf[0] = '\0';
	if (!json_is_string(v))
		return;
	p = json_string_value(v);
	n = json_string_length(v);
	if (n > bufsz - 1)
		n = bufsz - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = '?';
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
	if (cfg->samba_config != NULL && cfg->samba_config[0] != '\0')
		sc->samba_config = xstrdup(cfg->samba_config);
	return sc;
}

void
session_cache_free(struct session_cache *sc)
{
	if (sc == NULL)
		return;
	free(sc->s);
	free(sc->samba_config);
	free(sc);
}

static int
session_refresh(struct session_cache *sc)
{
	struct run_result r;
	struct smb_session *s;
	char confopt[PATH_MAX + 16];
	const char *argv[5];
	size_t n, i = 0;

	sc->refreshed_at = mono_ms();
	argv[i++] = sc->smbstatus;
	argv[i++] = "--json";
	argv[i++] = "--processes";	/* sessions only: skips walking the lock database */
	if (sc->samba_config != NULL) {
		snprintf(confopt, sizeof confopt, "--configfile=%s", sc->samba_config);
		argv[i++] = confopt;
	}
	argv[i] = NULL;
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

int
session_lookup_pid(struct session_cache *sc, int pid, struct smb_session *out)
{
	const struct smb_session *s;

	if ((s = session_find(sc, pid)) == NULL) {
		if (sc->refreshed_at != 0 && mono_ms() - sc->refreshed_at < SESSION_REFRESH_MS)
			return sc->last_failed ? -1 : 1;
		if (session_refresh(sc) == -1)
			return -1;
		if ((s = session_find(sc, pid)) == NULL)
			return 1;
	}
	*out = *s;
	return 0;
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
	char want[INET6_ADDRSTRLEN + 1];
	int cnt = 0;

	if (session_refresh(sc) == -1)
		return -1;
	if (ip != NULL && ip[0] != '\0') {
		if (ip_normalize(ip, strlen(ip), want, sizeof want) == -1)
			snprintf(want, sizeof want, "%s", ip);
	} else
		ip = NULL;
	for (size_t i = 0; i < sc->n && cnt < max; i++) {
		const struct smb_session *s = &sc->s[i];
		int dup = 0;

		if (!user_match(s, user))
			continue;
		if (ip != NULL && strcmp(s->ip, want) != 0)
			continue;
		for (int k = 0; k < cnt; k++)
			if (pids[k] == s->pid)
				dup = 1;
		if (!dup)
			pids[cnt++] = s->pid;
	}
	return cnt;
}
