/* The configuration file: INI like smb.conf, a typed key table, every error reported as file:line in one pass. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "replicate.h"
#include "util.h"

#define TESTPARM_TIMEOUT_MS	10000
#define QUOTE_MAX		80	/* bytes of a value echoed in a message */

enum cfg_section {
	SEC_NONE,		/* before the first section */
	SEC_GLOBAL,
	SEC_DETECT,
	SEC_RESPOND,
	SEC_SNAPSHOTS,
	SEC_RESTORE,
	SEC_NETWORK,
	SEC_NOTIFY,
	SEC_FLEET,
	SEC_REPLICATION,
	SEC_REPLICA,
	SEC_SHARE,
	SEC_TARGET,		/* [switch NAME] or [router NAME]: keys of tkeys[] */
	SEC_UNKNOWN,		/* already reported: its keys are skipped */
};

enum cfg_type {
	T_STRING,
	T_BOOL,
	T_INT,
	T_NUMBER,
	T_DURATION,
	T_LIST,
	T_NAMES,		/* a list split on commas only: names hold blanks ("Domain Admins") */
	T_LOGLEVEL,
	T_SHARES,
	T_SNAPKIND,
	T_SNMPVERSION,
};

struct cfg_key {
	enum cfg_section sec;
	const char *name;
	enum cfg_type type;
	size_t off;
	size_t count_off;	/* T_LIST: where the item count goes */
	const char *def;
	double min, max;	/* T_INT, T_NUMBER; T_DURATION in ms */
};

#define G(f)		offsetof(struct config, f)
#define D(f)		offsetof(struct config, detect.f)
#define STR(s, n, f, d)	{ s, n, T_STRING, G(f), 0, d, 0, 0 }
#define BOOL(s, n, f, d) { s, n, T_BOOL, G(f), 0, d, 0, 0 }
#define DAY		86400000.0

static const struct cfg_key keys[] = {
	STR(SEC_GLOBAL, "journal", journal, "/var/lib/sharewarden/journal.db"),
	STR(SEC_GLOBAL, "audit log", audit_log, "/var/log/samba/audit.log"),
	STR(SEC_GLOBAL, "audit socket", audit_socket, ""),
	STR(SEC_GLOBAL, "samba config", samba_config, "/etc/samba/smb.conf"),
	STR(SEC_GLOBAL, "samba bin dir", samba_bin_dir, "/usr/bin"),
	{ SEC_GLOBAL, "smbstatus timeout", T_DURATION, G(smbstatus_timeout_ms), 0, "5s", 100, 600000 },
	{ SEC_GLOBAL, "shares", T_SHARES, 0, 0, "auto", 0, 0 },
	STR(SEC_GLOBAL, "patterns", patterns, "/var/lib/sharewarden/patterns.list"),
	{ SEC_GLOBAL, "event retention", T_DURATION, G(event_retention_ms), 0, "7d", 60000, 3650 * DAY },
	BOOL(SEC_GLOBAL, "monitor only", monitor_only, "no"),
	{ SEC_GLOBAL, "protected accounts", T_LIST, G(protected_accounts), G(n_protected),
	    "root, administrator", 0, 0 },
	{ SEC_GLOBAL, "protected groups", T_NAMES, G(protected_groups), G(n_protected_groups),
	    "Domain Admins, Enterprise Admins, Administrators, Backup Operators", 0, 0 },
	STR(SEC_GLOBAL, "account backend", account_backend, "tdbsam"),
	STR(SEC_GLOBAL, "ad database", ad_database, "/var/lib/samba/private/sam.ldb"),
	STR(SEC_GLOBAL, "ldap uri", ldap_uri, ""),
	STR(SEC_GLOBAL, "ldap base", ldap_base, ""),
	STR(SEC_GLOBAL, "ldap bind dn", ldap_bind_dn, ""),
	STR(SEC_GLOBAL, "ldap password file", ldap_password_file, "/etc/sharewarden/ldap.secret"),
	STR(SEC_GLOBAL, "ldap ca file", ldap_ca_file, ""),
	{ SEC_GLOBAL, "ldap timeout", T_DURATION, G(ldap_timeout_ms), 0, "3s", 100, 60000 },
	{ SEC_GLOBAL, "log level", T_LOGLEVEL, G(log_level), 0, "info", 0, 0 },
	BOOL(SEC_GLOBAL, "kernel events", fanotify, "yes"),
	BOOL(SEC_GLOBAL, "content analysis", content_analysis, "yes"),
	BOOL(SEC_GLOBAL, "canaries", canaries, "yes"),
	{ SEC_GLOBAL, "allow users", T_LIST, G(allow_users), G(n_allow_users), "", 0, 0 },
	{ SEC_GLOBAL, "allow ips", T_LIST, G(allow_ips), G(n_allow_ips), "", 0, 0 },
	{ SEC_GLOBAL, "allow paths", T_LIST, G(allow_paths), G(n_allow_paths), "", 0, 0 },
	{ SEC_GLOBAL, "allow shares", T_LIST, G(allow_shares), G(n_allow_shares), "", 0, 0 },

	{ SEC_DETECT, "window", T_DURATION, D(window_ms), 0, "60s", 100, DAY },
	{ SEC_DETECT, "incident score", T_NUMBER, D(incident_score), 0, "10", 1, 10000 },
	{ SEC_DETECT, "note weight", T_NUMBER, D(w_note), 0, "10", 0, 10000 },
	{ SEC_DETECT, "weak note weight", T_NUMBER, D(w_note_weak), 0, "2", 0, 10000 },
	{ SEC_DETECT, "extension weight", T_NUMBER, D(w_ext), 0, "5", 0, 10000 },
	{ SEC_DETECT, "wildcard weight", T_NUMBER, D(w_wildcard), 0, "3", 0, 10000 },
	{ SEC_DETECT, "rename burst", T_INT, D(rename_burst), 0, "5", 1, 1000000 },
	{ SEC_DETECT, "rename burst weight", T_NUMBER, D(w_rename_burst), 0, "10", 0, 10000 },
	{ SEC_DETECT, "overwrite rename weight", T_NUMBER, D(w_overwrite_rename), 0, "3", 0, 10000 },
	{ SEC_DETECT, "canary weight", T_NUMBER, D(w_canary), 0, "1000", 0, 10000 },
	{ SEC_DETECT, "format broken weight", T_NUMBER, D(w_format_broken), 0, "4", 0, 10000 },
	{ SEC_DETECT, "ciphertext weight", T_NUMBER, D(w_ciphertext), 0, "3", 0, 10000 },
	{ SEC_DETECT, "read overwrite weight", T_NUMBER, D(w_read_overwrite), 0, "1", 0, 10000 },
	{ SEC_DETECT, "copy delete weight", T_NUMBER, D(w_copy_delete), 0, "2", 0, 10000 },
	{ SEC_DETECT, "delete burst", T_INT, D(delete_burst), 0, "50", 1, 1000000 },
	{ SEC_DETECT, "delete burst weight", T_NUMBER, D(w_delete_burst), 0, "3", 0, 10000 },
	{ SEC_DETECT, "slow window", T_DURATION, D(slow_window_ms), 0, "1h", 1000, 7 * DAY },
	{ SEC_DETECT, "max actors", T_INT, D(max_actors), 0, "10000", 100, 10000000 },

	BOOL(SEC_RESPOND, "lock account", lock_account, "yes"),
	BOOL(SEC_RESPOND, "kill session", kill_session, "yes"),
	BOOL(SEC_RESPOND, "deny writer", deny_writer, "yes"),
	BOOL(SEC_RESPOND, "block ip", block_ip, "yes"),
	BOOL(SEC_RESPOND, "port down", port_down, "yes"),
	{ SEC_RESPOND, "max isolations per hour", T_INT, G(max_isolations), 0, "3", 1, 100000 },
	{ SEC_RESPOND, "dry run", T_LIST, G(dry_run), G(n_dry_run), "", 0, 0 },
	STR(SEC_RESPOND, "firewall table", nft_table, "sharewarden"),
	{ SEC_RESPOND, "smb ports", T_LIST, G(smb_ports), G(n_smb_ports), "445, 139", 0, 0 },

	{ SEC_NETWORK, "dhcp leases", T_LIST, G(dhcp_leases), G(n_dhcp_leases), "", 0, 0 },

	STR(SEC_NOTIFY, "smtp url", notify.smtp_url, ""),
	BOOL(SEC_NOTIFY, "starttls", notify.smtp_starttls, "yes"),
	STR(SEC_NOTIFY, "smtp user", notify.smtp_user, ""),
	STR(SEC_NOTIFY, "smtp password", notify.smtp_password, ""),
	STR(SEC_NOTIFY, "mail from", notify.mail_from, ""),
	{ SEC_NOTIFY, "mail to", T_LIST, G(notify.mail_to), G(notify.n_mail_to), "", 0, 0 },
	{ SEC_NOTIFY, "webhook", T_LIST, G(notify.webhooks), G(notify.n_webhooks), "", 0, 0 },
	STR(SEC_NOTIFY, "webhook format", notify.webhook_format, "json"),
	STR(SEC_NOTIFY, "ca file", notify.ca_file, ""),
	BOOL(SEC_NOTIFY, "tls verify", notify.tls_verify, "yes"),
	{ SEC_NOTIFY, "timeout", T_DURATION, G(notify.timeout_ms), 0, "10s", 500, 600000 },
	{ SEC_NOTIFY, "give up after", T_DURATION, G(notify.give_up_ms), 0, "24h", 1000, 30 * DAY },

	{ SEC_FLEET, "nats", T_LIST, G(fleet.nats), G(fleet.n_nats), "", 0, 0 },
	STR(SEC_FLEET, "site", fleet.site, ""),
	STR(SEC_FLEET, "server", fleet.server, ""),
	STR(SEC_FLEET, "user", fleet.user, ""),
	STR(SEC_FLEET, "password file", fleet.password_file, ""),
	STR(SEC_FLEET, "credentials", fleet.credentials, ""),
	STR(SEC_FLEET, "ca file", fleet.ca_file, ""),
	STR(SEC_FLEET, "cert file", fleet.cert_file, ""),
	STR(SEC_FLEET, "key file", fleet.key_file, ""),
	STR(SEC_FLEET, "stream", fleet.stream, "SHAREWARDEN"),
	{ SEC_FLEET, "replicas", T_INT, G(fleet.replicas), 0, "1", 1, 5 },
	{ SEC_FLEET, "heartbeat", T_DURATION, G(fleet.heartbeat_ms), 0, "10s", 200, 3600000 },
	{ SEC_FLEET, "timeout", T_DURATION, G(fleet.timeout_ms), 0, "2s", 100, 60000 },
	BOOL(SEC_FLEET, "isolate", fleet.isolate, "yes"),

	STR(SEC_REPLICATION, "target", repl.target, ""),
	STR(SEC_REPLICATION, "ssh key", repl.ssh_key, ""),
	STR(SEC_REPLICATION, "known hosts", repl.known_hosts, ""),
	STR(SEC_REPLICATION, "ssh", repl.ssh, "/usr/bin/ssh"),
	{ SEC_REPLICATION, "interval", T_DURATION, G(repl.interval_ms), 0, "15m", 0, 7 * DAY },
	{ SEC_REPLICATION, "settle", T_DURATION, G(repl.settle_ms), 0, "2m", 0, DAY },
	STR(SEC_REPLICATION, "bandwidth", repl.bandwidth, "0"),
	{ SEC_REPLICATION, "timeout", T_DURATION, G(repl.timeout_ms), 0, "60s", 1000, DAY },

	STR(SEC_REPLICA, "dir", replica.dir, ""),
	STR(SEC_REPLICA, "zfs dataset", replica.zfs_dataset, ""),
	{ SEC_REPLICA, "keep recent", T_INT, G(replica.keep_recent), 0, "8", 1, 100000 },
	{ SEC_REPLICA, "keep hourly", T_INT, G(replica.keep_hourly), 0, "24", 0, 100000 },
	{ SEC_REPLICA, "keep daily", T_INT, G(replica.keep_daily), 0, "30", 0, 100000 },

	{ SEC_SNAPSHOTS, "backend", T_SNAPKIND, G(snap.kind), 0, "auto", 0, 0 },
	STR(SEC_SNAPSHOTS, "dir", snap.dir, ""),
	STR(SEC_SNAPSHOTS, "create command", snap.create_cmd, ""),
	STR(SEC_SNAPSHOTS, "delete command", snap.delete_cmd, ""),
	{ SEC_SNAPSHOTS, "interval", T_DURATION, G(snap.interval_ms), 0, "15m", 0, 7 * DAY },
	{ SEC_SNAPSHOTS, "keep recent", T_INT, G(snap.keep_recent), 0, "4", 1, 100000 },
	{ SEC_SNAPSHOTS, "keep hourly", T_INT, G(snap.keep_hourly), 0, "24", 0, 100000 },
	{ SEC_SNAPSHOTS, "keep daily", T_INT, G(snap.keep_daily), 0, "14", 0, 100000 },
	BOOL(SEC_SNAPSHOTS, "at detection", snap.at_detection, "yes"),

	{ SEC_RESTORE, "look back", T_DURATION, G(restore_lookback_ms), 0, "0s", 0, 30 * DAY },
	BOOL(SEC_RESTORE, "verify", restore_verify, "yes"),
};

/* The keys of a [switch NAME] / [router NAME] section, stored in its struct snmp_target. */
#define TG(f)		offsetof(struct snmp_target, f)
static const struct cfg_key tkeys[] = {
	{ SEC_TARGET, "address", T_STRING, TG(address), 0, "", 0, 0 },
	{ SEC_TARGET, "version", T_SNMPVERSION, TG(version), 0, "2c", 0, 0 },
	{ SEC_TARGET, "community", T_STRING, TG(community), 0, "", 0, 0 },
	{ SEC_TARGET, "write community", T_STRING, TG(write_community), 0, "", 0, 0 },
	{ SEC_TARGET, "user", T_STRING, TG(user), 0, "", 0, 0 },
	{ SEC_TARGET, "auth protocol", T_STRING, TG(auth_protocol), 0, "SHA", 0, 0 },
	{ SEC_TARGET, "auth password", T_STRING, TG(auth_password), 0, "", 0, 0 },
	{ SEC_TARGET, "priv protocol", T_STRING, TG(priv_protocol), 0, "AES", 0, 0 },
	{ SEC_TARGET, "priv password", T_STRING, TG(priv_password), 0, "", 0, 0 },
	{ SEC_TARGET, "timeout", T_DURATION, TG(timeout_ms), 0, "2s", 50, 60000 },
	{ SEC_TARGET, "retries", T_INT, TG(retries), 0, "1", 0, 10 },
	{ SEC_TARGET, "vlans", T_LIST, TG(vlans), TG(n_vlans), "", 0, 0 },
	{ SEC_TARGET, "protected ports", T_LIST, TG(protected_ports), TG(n_protected_ports), "", 0, 0 },
	{ SEC_TARGET, "max macs", T_INT, TG(max_macs), 0, "3", 1, 100000 },
};

struct parser {
	const char *file;
	FILE *errs;
	int nerr;
	struct config *cfg;
	enum cfg_section sec;
	const char *sec_name;		/* "global", "detect", "respond", "snapshots", "restore", "network", "notify" */
	struct snmp_target *target;	/* the [switch NAME] / [router NAME] being read */
	int target_router;
	unsigned long target_line;
	unsigned long tseen[nitems(tkeys)];
	int secrets;			/* a community or password was set: the file must not be readable by others */
	char **target_names;		/* every [switch]/[router] name so far, for duplicates */
	size_t n_target_names;
	struct share *share;		/* the [share NAME] being read */
	int share_dup;			/* it repeats a name: read it, keep nothing */
	int share_path_seen;
	unsigned long share_line;
	char **share_names;		/* every [share NAME] so far, for duplicates */
	size_t n_share_names;
	unsigned long seen[nitems(keys)];	/* line each key was set on, 0 = not set */
};

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * A printable excerpt of s for a message: control bytes and bytes above
 * 0x7e become \xNN, so a value can never break a message's single line.
 */
static const char *
quote(char *buf, size_t bufsz, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; i < n && i < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o + 5 >= bufsz)
			break;
		if (c < 0x20 || c > 0x7e || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else
			buf[o++] = (char)c;
	}
	if (i < n && o + 4 <= bufsz) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

#define QBUF	(QUOTE_MAX * 4 + 4)

/* One error line; line 0 means no line applies. errs may be NULL: errors are only counted. */
static void
vreport(FILE *errs, const char *file, unsigned long line, const char *fmt, va_list ap)
{
	if (errs == NULL)
		return;
	if (line)
		fprintf(errs, "%s:%lu: ", file, line);
	else
		fprintf(errs, "%s: ", file);
	vfprintf(errs, fmt, ap);
	fputc('\n', errs);
}

static void report(FILE *errs, const char *file, unsigned long line, const char *fmt, ...)
    SW_PRINTF(4, 5);

static void
report(FILE *errs, const char *file, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(errs, file, line, fmt, ap);
	va_end(ap);
}

/*
 * Collapses runs of blanks (and lowercases when lower is set), so
 * "Incident   Score" is "incident score".
 */
static char *
norm_name(const char *s, size_t n, int lower)
{
	char *out = xmalloc(n + 1);
	size_t o = 0;
	int blank = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_ws(c)) {
			blank = 1;
			continue;
		}
		if (blank && o > 0)
			out[o++] = ' ';
		blank = 0;
		out[o++] = (lower && c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	out[o] = '\0';
	return out;
}

static void
list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Splits on commas and blanks (on commas only when commas_only, the blanks
 * around each item trimmed); "double quotes" keep a name with blanks in
 * one item, as in smb.conf lists. Returns -1 on an unterminated quote.
 */
static int
list_parse(const char *s, int commas_only, char ***out, size_t *outn)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = s;

	while (*p) {
		const char *start;
		size_t len;

		if (*p == ',' || is_ws((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p == '"') {
			const char *end = strchr(p + 1, '"');

			if (end == NULL) {
				list_free(v, n);
				return -1;
			}
			start = p + 1;
			len = (size_t)(end - start);
			p = end + 1;
			if (len == 0)
				continue;
		} else {
			start = p;
			while (*p && *p != ',' && *p != '"' && (commas_only || !is_ws((unsigned char)*p)))
				p++;
			len = (size_t)(p - start);
			while (len > 0 && is_ws((unsigned char)start[len - 1]))
				len--;
		}
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = xstrndup(start, len);
	}
	*out = v;
	*outn = n;
	return 0;
}

/* The n bytes of s are an optional '-', digits, an optional '.' and digits: no hex, exponent, nan or inf. */
static int
is_decimal(const char *s, size_t n, int allow_sign, int allow_frac)
{
	size_t i = 0, digits = 0;

	if (allow_sign && i < n && s[i] == '-')
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (allow_frac && i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	}
	return digits > 0 && i == n;
}

/* A duration in the largest unit that shows it exactly, for bound messages. */
static const char *
fmt_duration(char *buf, size_t bufsz, double dms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 } };
	int64_t ms = (int64_t)dms;

	for (size_t i = 0; i < nitems(units); i++) {
		if (ms >= units[i].ms && ms % units[i].ms == 0) {
			snprintf(buf, bufsz, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
			return buf;
		}
	}
	snprintf(buf, bufsz, "%lldms", (long long)ms);
	return buf;
}

static int
parse_bool(const char *s, int *v)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	return -1;
}

static int
parse_log_level(const char *s, int *v)
{
	static const struct {
		const char *name;
		enum log_level level;
	} levels[] = {
		{ "error", LOG_LVL_ERROR }, { "warning", LOG_LVL_WARN }, { "warn", LOG_LVL_WARN },
		{ "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
	};

	for (size_t i = 0; i < nitems(levels); i++) {
		if (strcasecmp(s, levels[i].name) == 0) {
			*v = (int)levels[i].level;
			return 0;
		}
	}
	return -1;
}

static const char *const snap_kinds[] = {
	[SNAP_DEFAULT] = "default",
	[SNAP_AUTO] = "auto",
	[SNAP_NONE] = "none",
	[SNAP_BTRFS] = "btrfs",
	[SNAP_ZFS] = "zfs",
	[SNAP_COMMAND] = "command",
};

const char *
snap_kind_name(int kind)
{
	if (kind < 0 || (size_t)kind >= nitems(snap_kinds))
		return "?";
	return snap_kinds[kind];
}

/* The snap_kind of a backend name ("no" is "none"), -1 when unknown. */
static int
parse_snap_kind(const char *val)
{
	if (strcasecmp(val, "no") == 0)
		return SNAP_NONE;
	for (size_t i = SNAP_AUTO; i < nitems(snap_kinds); i++) {
		if (strcasecmp(val, snap_kinds[i]) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * Stores val (NUL-terminated, trimmed) into the field of k. On a bad value
 * cfg is left as it was and why holds the message.
 */
static int
key_set_at(struct config *cfg, char *base, const struct cfg_key *k, const char *val, char *why, size_t whysz)
{
	char q[QBUF], lo[32], hi[32];
	char **list;
	size_t n;
	int64_t ms;
	double d;
	long long ll;
	int b;

	switch (k->type) {
	case T_STRING:
		free(*(char **)(base + k->off));
		*(char **)(base + k->off) = xstrdup(val);
		return 0;
	case T_BOOL:
		if (parse_bool(val, &b) == -1) {
			snprintf(why, whysz, "invalid boolean '%s' for '%s' (yes or no)",
			    quote(q, sizeof q, val, strlen(val)), k->name);
			return -1;
		}
		*(int *)(base + k->off) = b;
		return 0;
	case T_LOGLEVEL:
		if (parse_log_level(val, &b) == -1) {
			snprintf(why, whysz, "invalid log level '%s' for '%s' (error, warning, info or debug)",
			    quote(q, sizeof q, val, strlen(val)), k->name);
			return -1;
		}
		*(int *)(base + k->off) = b;
		return 0;
	case T_INT:
		ll = 0;
		errno = 0;
		if (is_decimal(val, strlen(val), 1, 0))
			ll = strtoll(val, NULL, 10);
		else
			errno = EINVAL;
		if (errno) {
			snprintf(why, whysz, "invalid integer '%s' for '%s'",
			    quote(q, sizeof q, val, strlen(val)), k->name);
			return -1;
		}
		if ((double)ll < k->min || (double)ll > k->max) {
			snprintf(why, whysz, "'%s' must be between %.15g and %.15g", k->name, k->min, k->max);
			return -1;
		}
		*(int *)(base + k->off) = (int)ll;
		return 0;
	case T_NUMBER:
		d = is_decimal(val, strlen(val), 1, 1) ? strtod(val, NULL) : NAN;
		if (!isfinite(d)) {
			snprintf(why, whysz, "invalid number '%s' for '%s'",
			    quote(q, sizeof q, val, strlen(val)), k->name);
			return -1;
		}
		if (d < k->min || d > k->max) {
			snprintf(why, whysz, "'%s' must be between %.15g and %.15g", k->name, k->min, k->max);
			return -1;
		}
		*(double *)(base + k->off) = d;
		return 0;
	case T_DURATION: {
		/* Checked here first: strtod alone would also take "nan", "0x1p4" and "1e9". */
		static const char *units[] = { "", "ms", "s", "m", "h", "d" };
		size_t len = strlen(val), unit = 0, u;

		while (unit < len && ((val[unit] >= '0' && val[unit] <= '9') || val[unit] == '.'))
			unit++;
		for (u = 0; u < nitems(units); u++) {
			if (strcmp(val + unit, units[u]) == 0)
				break;
		}
		if (!is_decimal(val, unit, 0, 1) || u == nitems(units) || parse_duration_ms(val, &ms) == -1) {
			snprintf(why, whysz, "invalid duration '%s' for '%s' (examples: 500ms, 60s, 5m)",
			    quote(q, sizeof q, val, len), k->name);
			return -1;
		}
		if ((double)ms < k->min || (double)ms > k->max) {
			snprintf(why, whysz, "'%s' must be between %s and %s", k->name,
			    fmt_duration(lo, sizeof lo, k->min), fmt_duration(hi, sizeof hi, k->max));
			return -1;
		}
		*(int64_t *)(base + k->off) = ms;
		return 0;
	}
	case T_LIST:
	case T_NAMES:
		if (list_parse(val, k->type == T_NAMES, &list, &n) == -1) {
			snprintf(why, whysz, "unterminated quote in '%s'", k->name);
			return -1;
		}
		list_free(*(char ***)(base + k->off), *(size_t *)(base + k->count_off));
		*(char ***)(base + k->off) = list;
		*(size_t *)(base + k->count_off) = n;
		return 0;
	case T_SNAPKIND:
		if ((b = parse_snap_kind(val)) < 0) {
			snprintf(why, whysz, "invalid backend '%s' for '%s' (auto, none, btrfs, zfs or command)",
			    quote(q, sizeof q, val, strlen(val)), k->name);
			return -1;
		}
		*(int *)(base + k->off) = b;
		return 0;
	case T_SNMPVERSION:
		if (strcmp(val, "2c") == 0 || strcmp(val, "2") == 0)
			b = 2;
		else if (strcmp(val, "3") == 0)
			b = 3;
		else {
			snprintf(why, whysz, "invalid SNMP version '%s' (2c or 3)", quote(q, sizeof q, val, strlen(val)));
			return -1;
		}
		*(int *)(base + k->off) = b;
		return 0;
	case T_SHARES:
		if (strcasecmp(val, "auto") == 0) {
			list = NULL;
			n = 0;
		} else if (list_parse(val, 0, &list, &n) == -1) {
			snprintf(why, whysz, "unterminated quote in '%s'", k->name);
			return -1;
		}
		list_free(cfg->share_names, cfg->n_share_names);
		cfg->share_names = list;
		cfg->n_share_names = n;
		cfg->shares_auto = strcasecmp(val, "auto") == 0;
		return 0;
	}
	snprintf(why, whysz, "key '%s' has no type", k->name);
	return -1;
}

static int
key_set(struct config *cfg, const struct cfg_key *k, const char *val, char *why, size_t whysz)
{
	return key_set_at(cfg, (char *)cfg, k, val, why, whysz);
}

/* Frees a target's strings and lists; secrets are wiped first. */
static void
target_free(struct snmp_target *t)
{
	char *secrets[] = { t->community, t->write_community, t->auth_password, t->priv_password };

	for (size_t i = 0; i < nitems(secrets); i++) {
		if (secrets[i])
			explicit_bzero(secrets[i], strlen(secrets[i]));
	}
	for (size_t i = 0; i < nitems(tkeys); i++) {
		if (tkeys[i].type == T_STRING)
			free(*(char **)((char *)t + tkeys[i].off));
		else if (tkeys[i].type == T_LIST || tkeys[i].type == T_NAMES)
			list_free(*(char ***)((char *)t + tkeys[i].off), *(size_t *)((char *)t + tkeys[i].count_off));
	}
	free(t->name);
	free(t);
}

int
config_dry_run(const struct config *cfg, const char *kind)
{
	for (size_t i = 0; i < cfg->n_dry_run; i++) {
		if (strcasecmp(cfg->dry_run[i], kind) == 0 || strcasecmp(cfg->dry_run[i], "all") == 0)
			return 1;
	}
	return 0;
}

void
config_defaults(struct config *cfg)
{
	char why[512];

	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < nitems(keys); i++) {
		if (key_set(cfg, &keys[i], keys[i].def, why, sizeof why) == -1)
			fatalx("built-in default: %s", why);
	}
}

/*
 * Lexical normalisation as smbd does for a share's connect path: repeated
 * slashes, "." and trailing slashes go, ".." removes the previous component.
 */
static char *
path_normalise(const char *s)
{
	size_t n = strlen(s), o = 0, i = 0;
	char *out = xmalloc(n + 2);

	while (i < n) {
		size_t start, len;

		while (i < n && s[i] == '/')
			i++;
		start = i;
		while (i < n && s[i] != '/')
			i++;
		len = i - start;
		if (len == 0 || (len == 1 && s[start] == '.'))
			continue;
		if (len == 2 && s[start] == '.' && s[start + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, s + start, len);
		o += len;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

static struct share *
share_find(struct share *list, const char *name)
{
	for (struct share *s = list; s; s = s->next) {
		if (strcasecmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

static void
share_append(struct share **list, struct share *sh)
{
	while (*list)
		list = &(*list)->next;
	sh->next = NULL;
	*list = sh;
}

static void
share_free(struct share *sh)
{
	free(sh->name);
	free(sh->path);
	free(sh->snap_dir);
	free(sh->zfs_dataset);
	free(sh->snap_create);
	free(sh->snap_delete);
	free(sh);
}

static void perr(struct parser *p, unsigned long line, const char *fmt, ...) SW_PRINTF(3, 4);

static void
perr(struct parser *p, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p->errs, p->file, line, fmt, ap);
	va_end(ap);
	p->nerr++;
}

/* Ends a [share NAME] section: it needs a valid path to be kept. */
static void
share_close(struct parser *p)
{
	struct share *sh = p->share;
	char q[QBUF];

	if (sh == NULL)
		return;
	p->share = NULL;
	if (!p->share_path_seen)
		perr(p, p->share_line, "[share %s]: path is required",
		    quote(q, sizeof q, sh->name, strlen(sh->name)));
	if (p->share_dup || sh->path == NULL) {
		share_free(sh);
		return;
	}
	share_append(&p->cfg->shares, sh);
}

/* [switch NAME] / [router NAME]: a new target with the defaults of tkeys[]. */
static void
target_open(struct parser *p, unsigned long line, const char *name)
{
	const char *kind = name[0] == 's' ? "switch" : "router";
	const char *tn = name + 6;
	char why[256], q[QBUF];

	while (*tn == ' ')
		tn++;
	if (*tn == '\0') {
		perr(p, line, "[%s] needs a name: [%s NAME]", kind, kind);
		p->sec = SEC_UNKNOWN;
		return;
	}
	for (size_t i = 0; i < p->n_target_names; i++) {
		if (strcasecmp(p->target_names[i], tn) == 0) {
			perr(p, line, "duplicate [switch]/[router] name '%s'", quote(q, sizeof q, tn, strlen(tn)));
			p->sec = SEC_UNKNOWN;
			return;
		}
	}
	p->target_names = xrealloc(p->target_names, (p->n_target_names + 1) * sizeof *p->target_names);
	p->target_names[p->n_target_names++] = xstrdup(tn);
	p->sec = SEC_TARGET;
	p->sec_name = kind;
	p->target = xcalloc(1, sizeof *p->target);
	p->target->name = xstrdup(tn);
	p->target_router = name[0] == 'r';
	p->target_line = line;
	memset(p->tseen, 0, sizeof p->tseen);
	for (size_t i = 0; i < nitems(tkeys); i++) {
		if (key_set_at(p->cfg, (char *)p->target, &tkeys[i], tkeys[i].def, why, sizeof why) == -1)
			fatalx("built-in default: %s", why);
	}
}

static void
target_key(struct parser *p, unsigned long line, const char *key, const char *val)
{
	char why[1024], q[QBUF];
	size_t i;

	for (i = 0; i < nitems(tkeys); i++) {
		if (strcmp(tkeys[i].name, key) == 0)
			break;
	}
	if (i == nitems(tkeys)) {
		perr(p, line, "unknown key '%s' in [%s %s]", quote(q, sizeof q, key, strlen(key)), p->sec_name,
		    p->target->name);
		return;
	}
	if (p->tseen[i]) {
		perr(p, line, "duplicate key '%s' in [%s %s]", tkeys[i].name, p->sec_name, p->target->name);
		return;
	}
	p->tseen[i] = line;
	if (strstr(key, "community") || strstr(key, "password")) {
		if (val[0] != '\0')
			p->secrets = 1;
	}
	if (key_set_at(p->cfg, (char *)p->target, &tkeys[i], val, why, sizeof why) == -1)
		perr(p, line, "%s", why);
}

static int
valid_protocol(const char *v, const char *const *names)
{
	for (; *names; names++) {
		if (strcasecmp(v, *names) == 0)
			return 1;
	}
	return 0;
}

/* Ends a [switch]/[router] section: checks what it needs and keeps it. */
static void
target_close(struct parser *p)
{
	static const char *const auths[] = { "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512", NULL };
	static const char *const privs[] = { "AES", "DES", NULL };
	struct snmp_target *t = p->target, **list;
	const char *kind = p->target_router ? "router" : "switch";
	unsigned long line = p->target_line;
	int bad = p->nerr;

	if (t == NULL)
		return;
	p->target = NULL;
	if (t->address[0] == '\0')
		perr(p, line, "[%s %s]: address is required", kind, t->name);
	if (t->version == 2 && t->community[0] == '\0')
		perr(p, line, "[%s %s]: version 2c needs a community", kind, t->name);
	if (t->version == 3 && t->user[0] == '\0')
		perr(p, line, "[%s %s]: version 3 needs a user", kind, t->name);
	if (!valid_protocol(t->auth_protocol, auths))
		perr(p, line, "[%s %s]: auth protocol must be one of MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512",
		    kind, t->name);
	if (!valid_protocol(t->priv_protocol, privs))
		perr(p, line, "[%s %s]: priv protocol must be AES or DES", kind, t->name);
	if (t->priv_password[0] != '\0' && t->auth_password[0] == '\0')
		perr(p, line, "[%s %s]: a priv password needs an auth password (authPriv)", kind, t->name);
	for (size_t i = 0; i < t->n_vlans; i++) {
		char *end;
		long v = strtol(t->vlans[i], &end, 10);

		if (*end != '\0' || end == t->vlans[i] || v < 1 || v > 4094) {
			perr(p, line, "[%s %s]: vlans must be numbers from 1 to 4094", kind, t->name);
			break;
		}
	}
	if (p->nerr != bad) {
		target_free(t);
		return;
	}
	list = p->target_router ? &p->cfg->routers : &p->cfg->switches;
	while (*list)
		list = &(*list)->next;
	*list = t;
}

static void
section_open(struct parser *p, unsigned long line, const char *s, size_t n)
{
	char *name = norm_name(s, n, 1);
	char q[QBUF];

	share_close(p);
	target_close(p);
	p->sec_name = NULL;
	if (strcmp(name, "global") == 0) {
		p->sec = SEC_GLOBAL;
		p->sec_name = "global";
	} else if (strcmp(name, "detect") == 0) {
		p->sec = SEC_DETECT;
		p->sec_name = "detect";
	} else if (strcmp(name, "respond") == 0) {
		p->sec = SEC_RESPOND;
		p->sec_name = "respond";
	} else if (strcmp(name, "snapshots") == 0) {
		p->sec = SEC_SNAPSHOTS;
		p->sec_name = "snapshots";
	} else if (strcmp(name, "restore") == 0) {
		p->sec = SEC_RESTORE;
		p->sec_name = "restore";
	} else if (strcmp(name, "network") == 0) {
		p->sec = SEC_NETWORK;
		p->sec_name = "network";
	} else if (strcmp(name, "notify") == 0) {
		p->sec = SEC_NOTIFY;
		p->sec_name = "notify";
	} else if (strcmp(name, "fleet") == 0) {
		p->sec = SEC_FLEET;
		p->sec_name = "fleet";
	} else if (strcmp(name, "replication") == 0) {
		p->sec = SEC_REPLICATION;
		p->sec_name = "replication";
	} else if (strcmp(name, "replica") == 0) {
		p->sec = SEC_REPLICA;
		p->sec_name = "replica";
	} else if (strncmp(name, "switch ", 7) == 0 || strncmp(name, "router ", 7) == 0 ||
	    strcmp(name, "switch") == 0 || strcmp(name, "router") == 0) {
		target_open(p, line, name);
	} else if (strcmp(name, "share") == 0 || strncmp(name, "share ", 6) == 0) {
		/* The name keeps its case and inner blanks, as Samba's share names do. */
		const char *sn = s, *end = s + n;

		while (sn < end && is_ws((unsigned char)*sn))
			sn++;
		sn += 5;
		while (sn < end && is_ws((unsigned char)*sn))
			sn++;
		while (end > sn && is_ws((unsigned char)end[-1]))
			end--;
		if (sn == end) {
			perr(p, line, "[share] needs a name: [share NAME]");
			p->sec = SEC_UNKNOWN;
			free(name);
			return;
		}
		p->sec = SEC_SHARE;
		p->share = xcalloc(1, sizeof *p->share);
		p->share->name = xstrndup(sn, (size_t)(end - sn));
		p->share_line = line;
		p->share_path_seen = 0;
		p->share_dup = 0;
		for (size_t i = 0; i < p->n_share_names && !p->share_dup; i++)
			p->share_dup = strcasecmp(p->share_names[i], p->share->name) == 0;
		if (p->share_dup) {
			perr(p, line, "duplicate share '%s'",
			    quote(q, sizeof q, p->share->name, strlen(p->share->name)));
		} else {
			p->share_names = xrealloc(p->share_names,
			    (p->n_share_names + 1) * sizeof *p->share_names);
			p->share_names[p->n_share_names++] = xstrdup(p->share->name);
		}
	} else {
		perr(p, line, "unknown section [%s]", quote(q, sizeof q, s, n));
		p->sec = SEC_UNKNOWN;
	}
	free(name);
}

static void
share_key(struct parser *p, unsigned long line, const char *key, const char *val)
{
	struct share *sh = p->share;
	char q[QBUF], qn[QBUF];

	quote(qn, sizeof qn, sh->name, strlen(sh->name));
	if (strcmp(key, "snapshots") == 0) {
		int kind = parse_snap_kind(val);

		if (kind < 0 || kind == SNAP_DEFAULT)
			perr(p, line, "[share %s]: invalid snapshots '%s' (auto, none, btrfs, zfs or command)",
			    qn, quote(q, sizeof q, val, strlen(val)));
		else
			sh->snap_kind = kind;
		return;
	}
	if (strcmp(key, "snapshot dir") == 0 || strcmp(key, "zfs dataset") == 0 ||
	    strcmp(key, "snapshot create command") == 0 || strcmp(key, "snapshot delete command") == 0) {
		int is_dir = strcmp(key, "snapshot dir") == 0;
		char **f = is_dir ? &sh->snap_dir :
		    strcmp(key, "zfs dataset") == 0 ? &sh->zfs_dataset :
		    strcmp(key, "snapshot create command") == 0 ? &sh->snap_create : &sh->snap_delete;

		if (*f != NULL) {
			perr(p, line, "duplicate key '%s' in [share %s]", key, qn);
			return;
		}
		if (is_dir && val[0] != '/' && val[0] != '\0') {
			perr(p, line, "[share %s]: snapshot dir must be absolute", qn);
			return;
		}
		*f = xstrdup(val);
		return;
	}
	if (strcmp(key, "path") != 0) {
		perr(p, line, "unknown key '%s' in [share %s]", quote(q, sizeof q, key, strlen(key)), qn);
		return;
	}
	if (p->share_path_seen) {
		perr(p, line, "duplicate key 'path' in [share %s]", qn);
		return;
	}
	p->share_path_seen = 1;
	if (val[0] != '/') {
		perr(p, line, "[share %s]: path must be absolute", qn);
		return;
	}
	sh->path = path_normalise(val);
}

static void
key_line(struct parser *p, unsigned long line, const char *ks, size_t kn, const char *val)
{
	char *key = norm_name(ks, kn, 1);
	char why[1024], q[QBUF];
	size_t i;

	if (p->sec == SEC_NONE) {
		perr(p, line, "key outside of a section");
		goto done;
	}
	if (p->sec == SEC_UNKNOWN)
		goto done;
	if (p->sec == SEC_SHARE) {
		share_key(p, line, key, val);
		goto done;
	}
	if (p->sec == SEC_TARGET) {
		target_key(p, line, key, val);
		goto done;
	}
	if (strcmp(key, "smtp password") == 0 && val[0] != '\0')
		p->secrets = 1;
	for (i = 0; i < nitems(keys); i++) {
		if (keys[i].sec == p->sec && strcmp(keys[i].name, key) == 0)
			break;
	}
	if (i == nitems(keys)) {
		perr(p, line, "unknown key '%s' in [%s]", quote(q, sizeof q, key, strlen(key)), p->sec_name);
		goto done;
	}
	if (p->seen[i]) {
		perr(p, line, "duplicate key '%s' in [%s]", keys[i].name, p->sec_name);
		goto done;
	}
	p->seen[i] = line;
	if (key_set(p->cfg, &keys[i], val, why, sizeof why) == -1)
		perr(p, line, "%s", why);
done:
	free(key);
}

static void
line_parse(struct parser *p, unsigned long line, char *s, size_t n)
{
	char *end, *eq, *close;

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	end = s + n;
	if (memchr(s, '\0', n) != NULL) {
		perr(p, line, "line contains a NUL byte");
		return;
	}
	while (s < end && is_ws((unsigned char)*s))
		s++;
	while (end > s && is_ws((unsigned char)end[-1]))
		end--;
	if (s == end || *s == '#' || *s == ';')
		return;
	*end = '\0';
	if (*s == '[') {
		close = memchr(s, ']', (size_t)(end - s));
		if (close != NULL) {
			char *after = close + 1;

			while (after < end && is_ws((unsigned char)*after))
				after++;
			if (after == end || *after == '#' || *after == ';') {
				section_open(p, line, s + 1, (size_t)(close - s - 1));
				return;
			}
		}
		perr(p, line, "line is not 'key = value' or [section]");
		return;
	}
	eq = memchr(s, '=', (size_t)(end - s));
	if (eq == NULL || eq == s) {
		perr(p, line, "line is not 'key = value' or [section]");
		return;
	}
	{
		char *kend = eq, *val = eq + 1;

		while (kend > s && is_ws((unsigned char)kend[-1]))
			kend--;
		while (val < end && is_ws((unsigned char)*val))
			val++;
		key_line(p, line, s, (size_t)(kend - s), val);
	}
}

static unsigned long
seen_line(const struct parser *p, const char *name)
{
	for (size_t i = 0; i < nitems(keys); i++) {
		if (strcmp(keys[i].name, name) == 0)
			return p->seen[i];
	}
	return 0;
}

/* The line of a key of one section (names such as "timeout" are in several). */
static unsigned long
seen_line_in(const struct parser *p, enum cfg_section sec, const char *name)
{
	for (size_t i = 0; i < nitems(keys); i++) {
		if (keys[i].sec == sec && strcmp(keys[i].name, name) == 0)
			return p->seen[i];
	}
	return 0;
}

/* A name that goes into NATS subjects and consumer names: letters, digits, '_' and '-'. */
static int
fleet_token_ok(const char *s)
{
	return name_token_ok(s, strlen(s));
}

static void
fleet_file_check(struct parser *p, const char *key, const char *path, int secret)
{
	unsigned long line = seen_line_in(p, SEC_FLEET, key);
	char q[QBUF], buf[8192], err[512];
	struct stat st;

	if (path[0] == '\0')
		return;
	quote(q, sizeof q, path, strlen(path));
	if (path[0] != '/')
		perr(p, line, "[fleet] %s '%s' must be an absolute path", key, q);
	else if (secret) {
		if (secret_file_read(key, path, buf, sizeof buf, err, sizeof err) != 0)
			perr(p, line, "[fleet] %s", err);
		explicit_bzero(buf, sizeof buf);
	} else if (stat(path, &st) == -1)
		perr(p, line, "[fleet] %s '%s': %s", key, q, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		perr(p, line, "[fleet] %s '%s' is not a file", key, q);
}

/* [fleet]: checked only when nats names servers (without it sharewarden is alone, as by default). */
static void
fleet_check(struct parser *p)
{
	struct fleet_cfg *f = &p->cfg->fleet;
	unsigned long nline = seen_line_in(p, SEC_FLEET, "nats");
	char q[QBUF], host[256];

	if (f->n_nats == 0)
		return;
	for (size_t i = 0; i < f->n_nats; i++) {
		const char *u = f->nats[i], *h = NULL;

		if (strncmp(u, "nats://", 7) == 0)
			h = u + 7;
		else if (strncmp(u, "tls://", 6) == 0)
			h = u + 6;
		if (h == NULL || *h == '\0' || *h == ':' || strpbrk(u, " \t\r\n\"'") != NULL) {
			perr(p, nline, "[fleet] nats: '%s' is not a NATS server URL (nats://host:4222, or tls://host:4222 "
			    "for TLS)", quote(q, sizeof q, u, strlen(u)));
			break;
		}
	}
	if (f->site[0] == '\0')
		perr(p, nline, "[fleet] nats needs 'site' (this server's site: letters, digits, _ -)");
	else if (!fleet_token_ok(f->site))
		perr(p, seen_line_in(p, SEC_FLEET, "site"), "[fleet] site '%s' must be 1 to 63 letters, digits, "
		    "'_' or '-' (it is part of NATS subjects)", quote(q, sizeof q, f->site, strlen(f->site)));
	if (f->server[0] == '\0') {
		/* The host name's first label: dots separate NATS subject tokens. */
		if (gethostname(host, sizeof host) != 0)
			snprintf(host, sizeof host, "server");
		host[sizeof host - 1] = '\0';
		host[strcspn(host, ".")] = '\0';
		free(f->server);
		f->server = xstrdup(host);
	}
	if (!fleet_token_ok(f->server))
		perr(p, seen_line_in(p, SEC_FLEET, "server") ? seen_line_in(p, SEC_FLEET, "server") : nline,
		    "[fleet] server '%s' must be 1 to 63 letters, digits, '_' or '-' (set 'server' when the host "
		    "name is not)", quote(q, sizeof q, f->server, strlen(f->server)));
	if (!fleet_token_ok(f->stream))
		perr(p, seen_line_in(p, SEC_FLEET, "stream"), "[fleet] stream '%s' must be letters, digits, "
		    "'_' or '-'", quote(q, sizeof q, f->stream, strlen(f->stream)));
	if (f->password_file[0] != '\0' && f->user[0] == '\0')
		perr(p, seen_line_in(p, SEC_FLEET, "password file"), "[fleet] password file needs 'user'");
	if (f->user[0] != '\0' && f->password_file[0] == '\0')
		perr(p, seen_line_in(p, SEC_FLEET, "user"), "[fleet] user needs 'password file' (a root-only file "
		    "holding the NATS password)");
	if (f->user[0] != '\0' && f->credentials[0] != '\0')
		perr(p, seen_line_in(p, SEC_FLEET, "credentials"), "[fleet] set 'user' or 'credentials', not both");
	if ((f->cert_file[0] == '\0') != (f->key_file[0] == '\0'))
		perr(p, seen_line_in(p, SEC_FLEET, f->cert_file[0] ? "cert file" : "key file"),
		    "[fleet] cert file and key file go together");
	fleet_file_check(p, "password file", f->password_file, 1);
	fleet_file_check(p, "credentials", f->credentials, 1);
	fleet_file_check(p, "key file", f->key_file, 1);
	fleet_file_check(p, "ca file", f->ca_file, 0);
	fleet_file_check(p, "cert file", f->cert_file, 0);
}

/* [replication] when a target is set, [replica] when a dir or dataset is. */
static void
repl_check(struct parser *p)
{
	struct repl_cfg *r = &p->cfg->repl;
	const struct replica_cfg *rc = &p->cfg->replica;
	char q[QBUF], err[512], buf[8192];
	struct repl_target t;
	struct stat st;

	if (repl_rate_parse(r->bandwidth, &r->bandwidth_bps) == -1)
		perr(p, seen_line_in(p, SEC_REPLICATION, "bandwidth"), "[replication] bandwidth '%s': expected bytes "
		    "per second, at least 1K (500K, 10M, 1G) or 0 for no limit",
		    quote(q, sizeof q, r->bandwidth, strlen(r->bandwidth)));
	if (r->target[0] != '\0') {
		unsigned long tline = seen_line_in(p, SEC_REPLICATION, "target");

		if (repl_target_parse(r->target, &t, err, sizeof err) == -1)
			perr(p, tline, "[replication] %s", err);
		if (r->ssh_key[0] == '\0')
			perr(p, tline, "[replication] target needs 'ssh key' (a root-only private key the replica's "
			    "forced command admits)");
		else if (r->ssh_key[0] != '/' || strpbrk(r->ssh_key, " \t\"'") != NULL)
			perr(p, seen_line_in(p, SEC_REPLICATION, "ssh key"), "[replication] ssh key must be an absolute "
			    "path without blanks or quotes");
		else if (secret_file_read("ssh key", r->ssh_key, buf, sizeof buf, err, sizeof err) != 0)
			perr(p, seen_line_in(p, SEC_REPLICATION, "ssh key"), "[replication] %s", err);
		explicit_bzero(buf, sizeof buf);
		if (r->known_hosts[0] == '\0')
			perr(p, tline, "[replication] target needs 'known hosts' (the replica's host key, e.g. from "
			    "ssh-keyscan checked by hand): sharewarden never trusts a host key on first use");
		else if (r->known_hosts[0] != '/' || strpbrk(r->known_hosts, " \t\"'") != NULL)
			perr(p, seen_line_in(p, SEC_REPLICATION, "known hosts"), "[replication] known hosts must be an "
			    "absolute path without blanks or quotes");
		else if (stat(r->known_hosts, &st) == -1)
			perr(p, seen_line_in(p, SEC_REPLICATION, "known hosts"), "[replication] known hosts '%s': %s",
			    quote(q, sizeof q, r->known_hosts, strlen(r->known_hosts)), strerror(errno));
		else if (!S_ISREG(st.st_mode))
			perr(p, seen_line_in(p, SEC_REPLICATION, "known hosts"), "[replication] known hosts '%s' is "
			    "not a file", quote(q, sizeof q, r->known_hosts, strlen(r->known_hosts)));
		if (r->ssh[0] != '/' || access(r->ssh, X_OK) != 0)
			perr(p, seen_line_in(p, SEC_REPLICATION, "ssh") ? seen_line_in(p, SEC_REPLICATION, "ssh") : tline,
			    "[replication] ssh '%s' is not an executable (install openssh-client or set ssh)",
			    quote(q, sizeof q, r->ssh, strlen(r->ssh)));
	}
	if (rc->dir[0] != '\0' && rc->dir[0] != '/')
		perr(p, seen_line_in(p, SEC_REPLICA, "dir"), "[replica] dir '%s' must be an absolute path",
		    quote(q, sizeof q, rc->dir, strlen(rc->dir)));
	if (rc->zfs_dataset[0] != '\0' && (rc->zfs_dataset[0] == '/' || rc->zfs_dataset[0] == '-' ||
	    strspn(rc->zfs_dataset, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/") !=
	    strlen(rc->zfs_dataset)))
		perr(p, seen_line_in(p, SEC_REPLICA, "zfs dataset"), "[replica] zfs dataset '%s' is not a zfs "
		    "dataset name (pool/replicas)", quote(q, sizeof q, rc->zfs_dataset, strlen(rc->zfs_dataset)));
}

/* Checks that need the whole file: they name the line of the key when it was set. */
static void
notify_check(struct parser *p)
{
	const struct notify_cfg *n = &p->cfg->notify;
	const char *fmt = n->webhook_format;

	if (n->smtp_url[0] != '\0') {
		if (strncmp(n->smtp_url, "smtp://", 7) != 0 && strncmp(n->smtp_url, "smtps://", 8) != 0)
			perr(p, seen_line(p, "smtp url"), "smtp url must start with smtp:// or smtps://");
		if (n->n_mail_to == 0)
			perr(p, seen_line(p, "smtp url"), "smtp url is set but mail to is empty");
	} else if (n->n_mail_to > 0)
		perr(p, seen_line(p, "mail to"), "mail to is set but smtp url is empty");
	for (size_t i = 0; i < n->n_webhooks; i++) {
		if (strncmp(n->webhooks[i], "http://", 7) != 0 && strncmp(n->webhooks[i], "https://", 8) != 0) {
			perr(p, seen_line(p, "webhook"), "webhook URLs must start with http:// or https://");
			break;
		}
	}
	if (strcmp(fmt, "json") != 0 && strcmp(fmt, "slack") != 0 && strcmp(fmt, "teams") != 0)
		perr(p, seen_line(p, "webhook format"), "webhook format must be json, slack or teams");
}

/* ldaps://HOST[:PORT] or ldap://HOST[:PORT], one DC, nothing after but a '/'. NULL, or what is wrong. */
static const char *
ldap_uri_problem(const char *uri)
{
	const char *h, *e;
	size_t n;

	if (strncmp(uri, "ldaps://", 8) == 0)
		h = uri + 8;
	else if (strncmp(uri, "ldap://", 7) == 0)
		h = uri + 7;
	else
		return "must start with ldaps:// (TLS) or ldap:// (StartTLS, always required)";
	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL || e == h + 1 ||
		    strspn(h + 1, "0123456789abcdefABCDEF:.") != (size_t)(e - h - 1))
			return "holds no host (an IPv6 address goes in brackets: ldaps://[2001:db8::2])";
		e++;
	} else {
		n = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (n == 0)
			return "holds no host: ldaps://dc1.example.com";
		e = h + n;
	}
	if (*e == ':') {
		char *end;
		long port;

		errno = 0;
		port = strtol(e + 1, &end, 10);
		if (end == e + 1 || !isdigit((unsigned char)e[1]) || errno != 0 || port < 1 || port > 65535)
			return "has a port that is not 1-65535";
		e = end;
	}
	if (*e == '/')
		e++;
	if (*e != '\0')
		return "must be one DC's URI alone, ldaps://HOST[:PORT] (no search base, no second URI)";
	return NULL;
}

/* Whether s reads as a DN: "attr=value" first, no control byte. */
static int
looks_like_dn(const char *s)
{
	const char *eq = strchr(s, '=');

	if (eq == NULL || eq == s || !isalpha((unsigned char)s[0]))
		return 0;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return 0;
	return 1;
}

/* account backend = ldap: every key it needs, each named with its line when it is wrong. */
static void
ldap_check(struct parser *p)
{
	struct config *cfg = p->cfg;
	unsigned long bline = seen_line(p, "account backend");
	const char *why;
	char q[QBUF], secret[1024], err[512];
	struct stat st;

	if (strcmp(cfg->account_backend, "ldap") != 0)
		return;
	if (cfg->ldap_uri[0] == '\0')
		perr(p, bline, "account backend = ldap needs 'ldap uri' (ldaps://dc1.example.com, or ldap://... "
		    "with StartTLS)");
	else if ((why = ldap_uri_problem(cfg->ldap_uri)) != NULL)
		perr(p, seen_line(p, "ldap uri"), "ldap uri '%s' %s",
		    quote(q, sizeof q, cfg->ldap_uri, strlen(cfg->ldap_uri)), why);
	if (cfg->ldap_base[0] == '\0')
		perr(p, bline, "account backend = ldap needs 'ldap base' (the domain's DN: DC=example,DC=com)");
	else if (!looks_like_dn(cfg->ldap_base))
		perr(p, seen_line(p, "ldap base"), "ldap base '%s' is not a DN (DC=example,DC=com)",
		    quote(q, sizeof q, cfg->ldap_base, strlen(cfg->ldap_base)));
	if (cfg->ldap_bind_dn[0] == '\0')
		perr(p, bline, "account backend = ldap needs 'ldap bind dn' (the DN of the service account "
		    "allowed to change userAccountControl)");
	else if (!looks_like_dn(cfg->ldap_bind_dn))
		perr(p, seen_line(p, "ldap bind dn"), "ldap bind dn '%s' is not a DN "
		    "(CN=svc_sharewarden,CN=Users,DC=example,DC=com)",
		    quote(q, sizeof q, cfg->ldap_bind_dn, strlen(cfg->ldap_bind_dn)));
	if (cfg->ldap_password_file[0] != '/')
		perr(p, seen_line(p, "ldap password file"), "ldap password file must be an absolute path");
	else if (secret_file_read("ldap password file", cfg->ldap_password_file, secret, sizeof secret, err,
	    sizeof err) != 0)
		perr(p, seen_line(p, "ldap password file"), "%s", err);
	explicit_bzero(secret, sizeof secret);
	if (cfg->ldap_ca_file[0] != '\0') {
		quote(q, sizeof q, cfg->ldap_ca_file, strlen(cfg->ldap_ca_file));
		if (stat(cfg->ldap_ca_file, &st) == -1)
			perr(p, seen_line(p, "ldap ca file"), "ldap ca file '%s': %s", q, strerror(errno));
		else if (!S_ISREG(st.st_mode))
			perr(p, seen_line(p, "ldap ca file"), "ldap ca file '%s' is not a file (PEM certificates)", q);
	}
}

static void
config_check(struct parser *p)
{
	struct config *cfg = p->cfg;
	unsigned long log_line = seen_line(p, "audit log"), sock_line = seen_line(p, "audit socket");
	unsigned long bin_line = seen_line(p, "samba bin dir");
	struct stat st;
	char q[QBUF];

	if (cfg->audit_log[0] == '\0' && cfg->audit_socket[0] == '\0' && !cfg->fanotify)
		perr(p, log_line ? log_line : sock_line,
		    "'audit log' and 'audit socket' are both empty and 'kernel events' is off: "
		    "sharewarden would see nothing");
	quote(q, sizeof q, cfg->samba_bin_dir, strlen(cfg->samba_bin_dir));
	if (stat(cfg->samba_bin_dir, &st) == -1) {
		if (errno == ENOENT)
			perr(p, bin_line, "samba bin dir '%s' does not exist", q);
		else
			perr(p, bin_line, "samba bin dir '%s': %s", q, strerror(errno));
	} else if (!S_ISDIR(st.st_mode))
		perr(p, bin_line, "samba bin dir '%s' is not a directory", q);
	notify_check(p);
	fleet_check(p);
	repl_check(p);
	for (size_t i = 0; i < cfg->n_smb_ports; i++) {
		char *end;
		long v = strtol(cfg->smb_ports[i], &end, 10);

		if (*end != '\0' || end == cfg->smb_ports[i] || v < 1 || v > 65535) {
			perr(p, seen_line(p, "smb ports"), "smb ports must be TCP port numbers");
			break;
		}
	}
	if (!isalpha((unsigned char)cfg->nft_table[0]) || strspn(cfg->nft_table, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(cfg->nft_table))
		perr(p, seen_line(p, "firewall table"), "firewall table must be a plain name (a letter, then letters, digits, _ -)");
	if (strcmp(cfg->account_backend, "tdbsam") != 0 && strcmp(cfg->account_backend, "samba-ad-dc") != 0 &&
	    strcmp(cfg->account_backend, "ldap") != 0)
		perr(p, seen_line(p, "account backend"), "account backend must be tdbsam (smbpasswd), samba-ad-dc "
		    "(the server is the AD DC) or ldap (a domain member: the lock is done on a DC over LDAP)");
	ldap_check(p);
	for (size_t i = 0; i < cfg->n_dry_run; i++) {
		static const char *const kinds[] = { "all", "deny_writer", "lock_account", "kill_session",
		    "block_ip", "port_down", "snapshot", "notify_mail", "notify_webhook", NULL };

		if (!valid_protocol(cfg->dry_run[i], kinds)) {
			perr(p, seen_line(p, "dry run"), "dry run: unknown responder '%s' (deny_writer, "
			    "lock_account, kill_session, block_ip, port_down, snapshot, notify_mail, "
			    "notify_webhook or all)", quote(q, sizeof q, cfg->dry_run[i], strlen(cfg->dry_run[i])));
			break;
		}
	}
}

int
config_load(const char *path, struct config *cfg, FILE *errs)
{
	struct parser *p;
	struct stat st;
	unsigned long line = 0;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int nerr;

	free(cfg->file);
	cfg->file = xstrdup(path);
	if ((f = fopen(path, "re")) == NULL) {
		report(errs, path, 0, "cannot open: %s", strerror(errno));
		return 1;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		report(errs, path, 0, "cannot open: %s", strerror(EISDIR));
		fclose(f);
		return 1;
	}
	p = xcalloc(1, sizeof *p);
	p->file = path;
	p->errs = errs;
	p->cfg = cfg;
	while ((n = getline(&buf, &cap, f)) != -1)
		line_parse(p, ++line, buf, (size_t)n);
	if (ferror(f))
		perr(p, 0, "read error: %s", strerror(errno));
	share_close(p);
	target_close(p);
	free(buf);
	/* Like OpenSMTPD's check_file_secrecy: credentials stay between root and the file. */
	if (p->secrets && fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		perr(p, 0, "holds SNMP or SMTP credentials but is readable by others (mode %03o): "
		    "chmod 600 %s", (unsigned)(st.st_mode & 0777), path);
	fclose(f);
	config_check(p);
	nerr = p->nerr;
	list_free(p->share_names, p->n_share_names);
	list_free(p->target_names, p->n_target_names);
	free(p);
	return nerr;
}

/* A share as testparm prints it. */
struct smb_share {
	char *name;
	char *path;		/* NULL: inherits [global] */
	int printable;		/* -1: inherits [global] */
	struct smb_share *next;
};

static void
smb_shares_free(struct smb_share *s)
{
	while (s) {
		struct smb_share *next = s->next;

		free(s->name);
		free(s->path);
		free(s);
		s = next;
	}
}

/* "[global]" and the shares that are not plain disk shares. */
static int
smb_share_special(const char *name)
{
	static const char *names[] = { "global", "homes", "printers", "print$", "ipc$" };

	for (size_t i = 0; i < nitems(names); i++) {
		if (strcasecmp(name, names[i]) == 0)
			return 1;
	}
	return 0;
}

/*
 * Parses `testparm -s`: "[name]" then "\tkey = value" lines. [global] comes
 * first and its path and printable are the defaults of every share.
 */
static struct smb_share *
testparm_parse(const char *out, size_t outlen, struct smb_share *global)
{
	struct smb_share *head = NULL, **tail = &head, *cur = NULL;
	const char *p = out, *end = out + outlen;

	memset(global, 0, sizeof *global);
	global->printable = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *s = p, *e = nl ? nl : end, *eq;

		p = nl ? nl + 1 : end;
		while (s < e && is_ws((unsigned char)*s))
			s++;
		while (e > s && is_ws((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[' && e[-1] == ']' && e - s >= 2) {
			char *name = xstrndup(s + 1, (size_t)(e - s - 2));

			if (strcasecmp(name, "global") == 0) {
				cur = global;
				free(name);
				continue;
			}
			cur = xcalloc(1, sizeof *cur);
			cur->name = name;
			cur->printable = -1;
			*tail = cur;
			tail = &cur->next;
			continue;
		}
		if (cur == NULL || (eq = memchr(s, '=', (size_t)(e - s))) == NULL)
			continue;
		{
			char *key = norm_name(s, (size_t)(eq - s), 1);
			const char *v = eq + 1;
			char *val;
			int b;

			while (v < e && is_ws((unsigned char)*v))
				v++;
			val = xstrndup(v, (size_t)(e - v));
			if (strcmp(key, "path") == 0) {
				free(cur->path);
				cur->path = val;
				val = NULL;
			} else if ((strcmp(key, "printable") == 0 || strcmp(key, "print ok") == 0) &&
			    parse_bool(val, &b) == 0)
				cur->printable = b;
			free(val);
			free(key);
		}
	}
	return head;
}

/*
 * Joins the lines of a tool's stderr into one escaped line for a message;
 * with problems_only, only its "ERROR" and "WARNING" lines.
 */
static void
condense(char *buf, size_t bufsz, const char *s, size_t n, int problems_only)
{
	static const char hex[] = "0123456789abcdef";
	const char *end = s + n;
	size_t o = 0;

	buf[0] = '\0';
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;

		while (s < e && is_ws((unsigned char)*s))
			s++;
		if (s < e && (!problems_only || strncmp(s, "ERROR", 5) == 0 || strncmp(s, "WARNING", 7) == 0)) {
			if (o > 0 && o + 2 < bufsz) {
				buf[o++] = ';';
				buf[o++] = ' ';
			}
			for (; s < e && o + 5 < bufsz; s++) {
				unsigned char c = (unsigned char)*s;

				if (c < 0x20 || c == 0x7f || c == '\\') {
					buf[o++] = '\\';
					buf[o++] = 'x';
					buf[o++] = hex[c >> 4];
					buf[o++] = hex[c & 15];
				} else
					buf[o++] = (char)c;
			}
			buf[o] = '\0';
		}
		s = nl ? nl + 1 : end;
	}
}

/*
 * Runs testparm. testparm exits 1 when its own checks find problems but still
 * prints every share; only a run that printed nothing is a failure.
 */
static int
testparm_run(struct config *cfg, const char *file, const char *smbconf, FILE *errs,
    struct smb_share **shares, struct smb_share *global)
{
	char tool[4096], detail[1024];
	const char *argv[6];
	struct run_result r;
	int i = 0, rc;

	*shares = NULL;
	config_samba_tool(cfg, "testparm", tool, sizeof tool);
	argv[i++] = tool;
	argv[i++] = "-s";
	argv[i++] = "--suppress-prompt";
	if (cfg->samba_config && cfg->samba_config[0]) {
		argv[i++] = "--";
		argv[i++] = cfg->samba_config;
	}
	argv[i] = NULL;
	rc = run_argv(argv, &r, TESTPARM_TIMEOUT_MS);
	if (rc == 0 || (rc == 1 && r.out && strstr(r.out, "[global]") != NULL)) {
		*shares = testparm_parse(r.out, r.outlen, global);
		if (rc != 0) {
			condense(detail, sizeof detail, r.err, r.errlen, 1);
			log_warnx("%s reports problems in %s: %s", tool, smbconf,
			    detail[0] ? detail : "(see its output)");
		}
		run_result_free(&r);
		return 0;
	}
	if (rc == -2)
		report(errs, file, 0, "cannot read the shares of %s: %s timed out after %d s",
		    smbconf, tool, TESTPARM_TIMEOUT_MS / 1000);
	else if (rc == -1)
		report(errs, file, 0, "cannot read the shares of %s: cannot run %s: %s",
		    smbconf, tool, strerror(errno));
	else {
		condense(detail, sizeof detail, r.err, r.errlen, 0);
		report(errs, file, 0, "cannot read the shares of %s: %s exited with status %d: %s",
		    smbconf, tool, rc, detail[0] ? detail : "(no message)");
	}
	run_result_free(&r);
	return -1;
}

/*
 * The path a share of smb.conf is served from, or NULL when it has none
 * that audit lines could be matched against (unset, relative, or with
 * %-substitutions that differ per connection).
 */
static const char *
smb_share_path(const struct smb_share *s, const struct smb_share *global)
{
	const char *path = s->path ? s->path : global->path;

	if (path == NULL || path[0] != '/' || strchr(path, '%') != NULL)
		return NULL;
	return path;
}

static int
smb_share_printable(const struct smb_share *s, const struct smb_share *global)
{
	return s->printable >= 0 ? s->printable : global->printable > 0;
}

static void
shares_add(struct config *cfg, const char *name, const char *path)
{
	struct share *sh = xcalloc(1, sizeof *sh);

	sh->name = xstrdup(name);
	sh->path = path_normalise(path);
	share_append(&cfg->shares, sh);
}

/* "%S" in a [snapshots] template becomes the share's name; "%%" is a percent sign. */
static char *
subst_share(const char *tmpl, const char *name)
{
	size_t n = strlen(tmpl), nn = strlen(name), o = 0;
	char *out = xmalloc(n * (nn + 1) + 1);

	for (size_t i = 0; i < n; i++) {
		if (tmpl[i] == '%' && i + 1 < n && tmpl[i + 1] == 'S') {
			memcpy(out + o, name, nn);
			o += nn;
			i++;
		} else if (tmpl[i] == '%' && i + 1 < n && tmpl[i + 1] == '%') {
			out[o++] = '%';
			i++;
		} else
			out[o++] = tmpl[i];
	}
	out[o] = '\0';
	return out;
}

/* Fills what the share's section left unset from [snapshots], then checks the backend's needs. */
static int
share_snap_defaults(const struct config *cfg, struct share *sh, const char *file, FILE *errs)
{
	char q[QBUF];
	int nerr = 0;

	if (sh->snap_kind == SNAP_DEFAULT)
		sh->snap_kind = cfg->snap.kind;
	if (sh->snap_dir == NULL)
		sh->snap_dir = subst_share(cfg->snap.dir ? cfg->snap.dir : "", sh->name);
	if (sh->zfs_dataset == NULL)
		sh->zfs_dataset = xstrdup("");
	if (sh->snap_create == NULL)
		sh->snap_create = xstrdup(cfg->snap.create_cmd ? cfg->snap.create_cmd : "");
	if (sh->snap_delete == NULL)
		sh->snap_delete = xstrdup(cfg->snap.delete_cmd ? cfg->snap.delete_cmd : "");
	quote(q, sizeof q, sh->name, strlen(sh->name));
	if (sh->snap_dir[0] != '\0' && sh->snap_dir[0] != '/') {
		report(errs, file, 0, "share '%s': snapshot dir must be absolute", q);
		nerr++;
	}
	if (sh->snap_kind == SNAP_COMMAND) {
		if (sh->snap_dir[0] == '\0') {
			report(errs, file, 0, "share '%s': the command backend needs a snapshot dir "
			    "(where each snapshot's folder appears)", q);
			nerr++;
		}
		if (sh->snap_create[0] != '/') {
			report(errs, file, 0, "share '%s': the command backend needs a create command "
			    "starting with an absolute program path", q);
			nerr++;
		}
	}
	return nerr;
}

int
config_resolve_shares(struct config *cfg, FILE *errs)
{
	const char *file = cfg->file ? cfg->file : SW_DEFAULT_CONFIG;
	const char *smbconf = cfg->samba_config && cfg->samba_config[0] ? cfg->samba_config : "smb.conf";
	struct smb_share *smb = NULL, global, *s;
	int need = cfg->shares_auto, failed = 0, nerr = 0;
	char q[QBUF], qp[QBUF];

	memset(&global, 0, sizeof global);
	for (size_t i = 0; i < cfg->n_share_names; i++) {
		if (share_find(cfg->shares, cfg->share_names[i]) == NULL)
			need = 1;
	}
	if (need && testparm_run(cfg, file, smbconf, errs, &smb, &global) == -1) {
		failed = 1;
		nerr++;
	}
	if (cfg->shares_auto) {
		for (s = smb; s; s = s->next) {
			const char *path = smb_share_path(s, &global);

			if (smb_share_special(s->name) || smb_share_printable(s, &global) ||
			    share_find(cfg->shares, s->name))
				continue;
			if (path == NULL) {
				log_warnx("share '%s' of %s is not protected: its path '%s' is not a fixed "
				    "absolute path", quote(q, sizeof q, s->name, strlen(s->name)), smbconf,
				    s->path ? quote(qp, sizeof qp, s->path, strlen(s->path)) : "");
				continue;
			}
			shares_add(cfg, s->name, path);
		}
	}
	for (size_t i = 0; i < cfg->n_share_names && !failed; i++) {
		const char *name = cfg->share_names[i];
		const char *path;

		if (share_find(cfg->shares, name))
			continue;
		quote(q, sizeof q, name, strlen(name));
		for (s = smb; s; s = s->next) {
			if (strcasecmp(s->name, name) == 0 && !smb_share_special(s->name) &&
			    !smb_share_printable(s, &global))
				break;
		}
		if (s == NULL) {
			report(errs, file, 0, "share '%s' is neither a [share %s] section nor a share of %s",
			    q, q, smbconf);
			nerr++;
			continue;
		}
		if ((path = smb_share_path(s, &global)) == NULL) {
			report(errs, file, 0, "share '%s' of %s has no fixed absolute path ('%s'): "
			    "give it a [share %s] section", q, smbconf,
			    s->path ? quote(qp, sizeof qp, s->path, strlen(s->path)) : "", q);
			nerr++;
			continue;
		}
		shares_add(cfg, s->name, path);
	}
	if (cfg->shares == NULL && !failed) {
		report(errs, file, 0, "no shares to protect");
		nerr++;
	}
	for (struct share *sh = cfg->shares; sh; sh = sh->next)
		nerr += share_snap_defaults(cfg, sh, file, errs);
	smb_shares_free(smb);
	free(global.path);
	return nerr;
}

const char *
config_samba_tool(const struct config *cfg, const char *tool, char *buf, size_t bufsz)
{
	const char *dir = cfg->samba_bin_dir ? cfg->samba_bin_dir : "/usr/bin";
	size_t n = strlen(dir);
	int w;

	if (bufsz == 0)
		return "";
	while (n > 0 && dir[n - 1] == '/')
		n--;
	w = snprintf(buf, bufsz, "%.*s/%s", (int)n, dir, tool);
	/* A cut path could name another program: an empty one just fails to run. */
	if (w < 0 || (size_t)w >= bufsz)
		buf[0] = '\0';
	return buf;
}

/* Splits "DOMAIN\user" (or "user@realm") into its domain and user parts. */
static void
account_split(const char *s, struct sw_str *dom, struct sw_str *user)
{
	const char *bs = strrchr(s, '\\'), *at;

	dom->p = s;
	dom->n = 0;
	user->p = s;
	user->n = strlen(s);
	if (bs) {
		dom->n = (size_t)(bs - s);
		user->p = bs + 1;
		user->n = strlen(user->p);
	} else if ((at = strchr(s, '@')) != NULL && at != s) {
		dom->p = at + 1;
		dom->n = strlen(dom->p);
		user->n = (size_t)(at - s);
	}
}

static int
view_caseeq(struct sw_str a, struct sw_str b)
{
	return a.n == b.n && strncasecmp(a.p, b.p, a.n) == 0;
}

/*
 * The same domain: "LAB", "lab" and the realm "lab.test" (whose first label
 * is the NetBIOS name a default provision gives it).
 */
static int
domain_eq(struct sw_str a, struct sw_str b)
{
	const char *dot;

	if (view_caseeq(a, b))
		return 1;
	if ((dot = memchr(a.p, '.', a.n)) != NULL && memchr(b.p, '.', b.n) == NULL)
		a.n = (size_t)(dot - a.p);
	else if ((dot = memchr(b.p, '.', b.n)) != NULL && memchr(a.p, '.', a.n) == NULL)
		b.n = (size_t)(dot - b.p);
	return view_caseeq(a, b);
}

/*
 * A name matches with or without its domain; two names that both carry a
 * domain must agree on it, so CORP\admin does not protect LAB\admin.
 */
int
config_is_protected(const struct config *cfg, const char *user)
{
	struct sw_str ud, uu, pd, pu;

	if (user == NULL || user[0] == '\0')
		return 0;
	account_split(user, &ud, &uu);
	for (size_t i = 0; i < cfg->n_protected; i++) {
		account_split(cfg->protected_accounts[i], &pd, &pu);
		if (!view_caseeq(uu, pu))
			continue;
		if (ud.n == 0 || pd.n == 0 || domain_eq(ud, pd))
			return 1;
	}
	return 0;
}

void
config_free(struct config *cfg)
{
	struct share *sh, *next;

	free(cfg->file);
	if (cfg->notify.smtp_password)
		explicit_bzero(cfg->notify.smtp_password, strlen(cfg->notify.smtp_password));
	for (size_t i = 0; i < nitems(keys); i++) {
		if (keys[i].type == T_STRING)
			free(*(char **)((char *)cfg + keys[i].off));
		else if (keys[i].type == T_LIST || keys[i].type == T_NAMES)
			list_free(*(char ***)((char *)cfg + keys[i].off),
			    *(size_t *)((char *)cfg + keys[i].count_off));
	}
	list_free(cfg->share_names, cfg->n_share_names);
	for (struct snmp_target *lists[] = { cfg->switches, cfg->routers }, **l = lists; l < lists + 2; l++) {
		for (struct snmp_target *t = *l, *tn; t; t = tn) {
			tn = t->next;
			target_free(t);
		}
	}
	for (sh = cfg->shares; sh; sh = next) {
		next = sh->next;
		share_free(sh);
	}
	memset(cfg, 0, sizeof *cfg);
}
