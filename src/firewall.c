/* sharewarden's own nftables table through libnftables: commands built from validated, re-printed values only. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nftables/libnftables.h>

#include "config.h"
#include "firewall.h"
#include "respond.h"
#include "util.h"

#define FW_TABLE_MAX	64
#define FW_CMD_MAX	2048

/* An address as nft will be given it: the family's set and inet_ntop's text. */
struct fw_addr {
	int family;
	unsigned char bin[16];
	char text[INET6_ADDRSTRLEN];
	const char *set;		/* "blocked4" or "blocked6" */
};

static void
fw_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fw_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Parses ip (v4, v6, v6 with a "%zone" suffix, IPv4-mapped v6 as v4) and
 * prints it again: only that printed form ever reaches the nft parser.
 */
static int
fw_addr_parse(const char *ip, struct fw_addr *a, char *err, size_t errlen)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	const char *pct;
	size_t len;

	memset(a, 0, sizeof *a);
	if (ip == NULL || (len = strnlen(ip, sizeof tmp)) == 0 || len >= sizeof tmp)
		goto bad;
	memcpy(tmp, ip, len + 1);
	if ((pct = strchr(tmp, '%')) != NULL) {
		/* A link-local zone says where the packets come in, not who sent them. */
		for (const char *p = pct + 1; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
				goto bad;
		tmp[pct - tmp] = '\0';
	}
	if (pct == NULL && inet_pton(AF_INET, tmp, a->bin) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, a->bin) == 1) {
		a->family = AF_INET6;
		if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a->bin)) {
			if (pct != NULL)
				goto bad;
			memmove(a->bin, a->bin + 12, 4);
			a->family = AF_INET;
		}
	} else
		goto bad;
	if (inet_ntop(a->family, a->bin, a->text, sizeof a->text) == NULL)
		goto bad;
	a->set = a->family == AF_INET ? "blocked4" : "blocked6";
	return 0;
bad:
	fw_err(err, errlen, "not an IP address");
	return -1;
}

/* The table name goes into nft commands unquoted (nft takes no quoted table names). */
static int
fw_table_ok(const struct config *cfg, char *err, size_t errlen)
{
	const char *t = cfg->nft_table;
	size_t len;

	if (t == NULL || !isalpha((unsigned char)t[0]) || (len = strlen(t)) > FW_TABLE_MAX ||
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len) {
		fw_err(err, errlen, "firewall table must be a letter then letters, digits, '_' or '-'");
		return -1;
	}
	return 0;
}

/* The first line of nft's error text, without its "Error: " prefix, made harmless. */
static void
fw_nft_error(struct nft_ctx *nft, const char *what, char *err, size_t errlen)
{
	const char *e = nft_ctx_get_error_buffer(nft), *p;
	char line[256];
	size_t n;

	if (e == NULL || e[0] == '\0') {
		fw_err(err, errlen, "nft %s failed", what);
		return;
	}
	if ((p = strstr(e, "Error: ")) != NULL)
		e = p + 7;
	n = strcspn(e, "\n");
	respond_sanitize(line, sizeof line, e, n);
	fw_err(err, errlen, "nft %s: %s", what, line);
}

/*
 * Runs cmd (one nft transaction: all of it or nothing). json asks for JSON
 * output, then *out gets a malloc'd copy of it. 0 ok, -1 with the reason.
 */
static int
fw_run(const char *cmd, const char *what, int json, char **out, char *err, size_t errlen)
{
	struct nft_ctx *nft;
	const char *o;
	int rc = 0;

	if (out != NULL)
		*out = NULL;
	if ((nft = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		fw_err(err, errlen, "nft: cannot create a context");
		return -1;
	}
	if (nft_ctx_buffer_output(nft) != 0 || nft_ctx_buffer_error(nft) != 0) {
		fw_err(err, errlen, "nft: cannot buffer its output");
		nft_ctx_free(nft);
		return -1;
	}
	if (json)
		nft_ctx_output_set_flags(nft, nft_ctx_output_get_flags(nft) | NFT_CTX_OUTPUT_JSON);
	if (nft_run_cmd_from_buffer(nft, cmd) != 0) {
		fw_nft_error(nft, what, err, errlen);
		rc = -1;
	} else if (out != NULL) {
		o = nft_ctx_get_output_buffer(nft);
		*out = xstrdup(o != NULL ? o : "");
	}
	nft_ctx_free(nft);
	return rc;
}

/* "445, 139" from the configured ports, each checked to be a port number. */
static int
fw_ports(const struct config *cfg, char *buf, size_t bufsz, char *err, size_t errlen)
{
	size_t len = 0;

	buf[0] = '\0';
	if (cfg->n_smb_ports == 0) {
		fw_err(err, errlen, "no smb ports configured");
		return -1;
	}
	for (size_t i = 0; i < cfg->n_smb_ports; i++) {
		const char *s = cfg->smb_ports[i];
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s || *end != '\0' || v < 1 || v > 65535 || !isdigit((unsigned char)s[0])) {
			fw_err(err, errlen, "smb ports: not a port number");
			return -1;
		}
		len += (size_t)snprintf(buf + len, bufsz - len, "%s%ld", i ? ", " : "", v);
		if (len >= bufsz) {
			fw_err(err, errlen, "smb ports: too many");
			return -1;
		}
	}
	return 0;
}

int
firewall_ensure(const struct config *cfg, char *err, size_t errlen)
{
	char ports[1024], cmd[FW_CMD_MAX];
	const char *t = cfg->nft_table;
	int n;

	if (fw_table_ok(cfg, err, errlen) == -1 || fw_ports(cfg, ports, sizeof ports, err, errlen) == -1)
		return -1;
	/*
	 * "add" keeps what exists (the sets' elements above all); the chain is
	 * rebuilt in the same transaction, so the rules follow the configured
	 * ports without a moment where blocked clients get through.
	 */
	n = snprintf(cmd, sizeof cmd,
	    "add table inet %s\n"
	    "add set inet %s blocked4 { type ipv4_addr; }\n"
	    "add set inet %s blocked6 { type ipv6_addr; }\n"
	    "add chain inet %s input { type filter hook input priority -10; policy accept; }\n"
	    "flush chain inet %s input\n"
	    "add rule inet %s input tcp dport { %s } ip saddr @blocked4 drop\n"
	    "add rule inet %s input tcp dport { %s } ip6 saddr @blocked6 drop\n",
	    t, t, t, t, t, t, ports, t, ports);
	if (n < 0 || (size_t)n >= sizeof cmd) {
		fw_err(err, errlen, "nft command too long");
		return -1;
	}
	return fw_run(cmd, "table setup", 0, NULL, err, errlen);
}

int
firewall_block(const struct config *cfg, const char *ip, char *err, size_t errlen)
{
	struct fw_addr a;
	char cmd[FW_CMD_MAX];

	if (fw_addr_parse(ip, &a, err, errlen) == -1 || fw_table_ok(cfg, err, errlen) == -1)
		return -1;
	snprintf(cmd, sizeof cmd, "add element inet %s %s { %s }\n", cfg->nft_table, a.set, a.text);
	return fw_run(cmd, "add element", 0, NULL, err, errlen);
}

/* Whether table inet <table> exists. 1 yes, 0 no, -1 error. */
static int
fw_table_exists(const struct config *cfg, char *err, size_t errlen)
{
	json_t *root, *arr, *it, *tab;
	json_error_t jerr;
	char *out;
	size_t i;
	int found = 0;

	if (fw_run("list tables inet\n", "list tables", 1, &out, err, errlen) == -1)
		return -1;
	if ((root = json_loads(out, 0, &jerr)) == NULL) {
		fw_err(err, errlen, "nft list tables: unreadable JSON");
		free(out);
		return -1;
	}
	free(out);
	arr = json_object_get(root, "nftables");
	json_array_foreach(arr, i, it) {
		tab = json_object_get(it, "table");
		if (tab != NULL && json_is_string(json_object_get(tab, "name")) &&
		    strcmp(json_string_value(json_object_get(tab, "name")), cfg->nft_table) == 0)
			found = 1;
	}
	json_decref(root);
	return found;
}

/* Whether one "elem" entry of nft's JSON (a string, or an object with "val") is the address. */
static int
fw_elem_is(json_t *e, const struct fw_addr *a)
{
	unsigned char bin[16];

	if (json_is_object(e) && json_object_get(e, "elem") != NULL)
		e = json_object_get(e, "elem");
	if (json_is_object(e))
		e = json_object_get(e, "val");
	if (!json_is_string(e) || inet_pton(a->family, json_string_value(e), bin) != 1)
		return 0;
	return memcmp(bin, a->bin, a->family == AF_INET ? 4 : 16) == 0;
}

static int
fw_is_blocked(const struct config *cfg, const struct fw_addr *a, char *err, size_t errlen)
{
	json_t *root, *arr, *it, *set, *elems, *e;
	json_error_t jerr;
	char cmd[FW_CMD_MAX], *out;
	size_t i, k;
	int st, found = 0;

	if ((st = fw_table_exists(cfg, err, errlen)) != 1)
		return st;
	snprintf(cmd, sizeof cmd, "list set inet %s %s\n", cfg->nft_table, a->set);
	if (fw_run(cmd, "list set", 1, &out, err, errlen) == -1)
		return -1;
	if ((root = json_loads(out, 0, &jerr)) == NULL) {
		fw_err(err, errlen, "nft list set: unreadable JSON");
		free(out);
		return -1;
	}
	free(out);
	arr = json_object_get(root, "nftables");
	json_array_foreach(arr, i, it) {
		if ((set = json_object_get(it, "set")) == NULL)
			continue;
		elems = json_object_get(set, "elem");
		if (json_is_array(elems)) {
			json_array_foreach(elems, k, e)
				found |= fw_elem_is(e, a);
		} else if (elems != NULL)
			found |= fw_elem_is(elems, a);
	}
	json_decref(root);
	return found;
}

int
firewall_is_blocked(const struct config *cfg, const char *ip, char *err, size_t errlen)
{
	struct fw_addr a;

	if (fw_addr_parse(ip, &a, err, errlen) == -1 || fw_table_ok(cfg, err, errlen) == -1)
		return -1;
	return fw_is_blocked(cfg, &a, err, errlen);
}

int
firewall_unblock(const struct config *cfg, const char *ip, char *err, size_t errlen)
{
	struct fw_addr a;
	char cmd[FW_CMD_MAX];
	int st;

	if (fw_addr_parse(ip, &a, err, errlen) == -1 || fw_table_ok(cfg, err, errlen) == -1)
		return -1;
	/* Already gone (table removed, element deleted by hand) is what was wanted. */
	if ((st = fw_is_blocked(cfg, &a, err, errlen)) != 1)
		return st;
	snprintf(cmd, sizeof cmd, "delete element inet %s %s { %s }\n", cfg->nft_table, a.set, a.text);
	return fw_run(cmd, "delete element", 0, NULL, err, errlen);
}
