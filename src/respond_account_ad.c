/* The samba-ad-dc account backend: userAccountControl in the DC's own database (ldbsearch, ldbmodify on sam.ldb). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config.h"
#include "respond.h"
#include "util.h"

/* The filter for sAMAccountName=name, every byte but [A-Za-z0-9._-] escaped as \XX (RFC 4515). */
static int
ad_filter(const char *name, char *buf, size_t bufsz)
{
	size_t o;
	int n;

	n = snprintf(buf, bufsz, "(&(objectClass=user)(sAMAccountName=");
	if (n < 0 || (size_t)n >= bufsz)
		return -1;
	o = (size_t)n;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (o + 4 >= bufsz)
			return -1;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '_' || *p == '-')
			buf[o++] = (char)*p;
		else
			o += (size_t)snprintf(buf + o, bufsz - o, "\\%02x", *p);
	}
	if (o + 3 > bufsz)
		return -1;
	memcpy(buf + o, "))", 3);
	return 0;
}

/* The value of "attr: value" on an unfolded LDIF line, or NULL. */
static const char *
ldif_value(const char *line, const char *attr)
{
	size_t n = strlen(attr);

	if (strncasecmp(line, attr, n) != 0 || line[n] != ':' || line[n + 1] != ' ')
		return NULL;
	return line + n + 2;
}

/* Whether the group DN "CN=name,..." names one of the protected groups. */
static int
group_protected(const struct config *cfg, const char *dn, char *why, size_t whylen)
{
	const char *cn, *end;

	if (strncasecmp(dn, "CN=", 3) != 0)
		return 0;
	cn = dn + 3;
	for (end = cn; *end != '\0' && *end != ','; end++)
		if (*end == '\\' && end[1] != '\0')
			end++;
	for (size_t i = 0; i < cfg->n_protected_groups; i++) {
		const char *g = cfg->protected_groups[i], *bs = strrchr(g, '\\');

		if (bs != NULL)
			g = bs + 1;
		if (strlen(g) == (size_t)(end - cn) && strncasecmp(g, cn, (size_t)(end - cn)) == 0) {
			snprintf(why, whylen, "protected account: member of %s", g);
			return 1;
		}
	}
	return 0;
}

int
ad_account_read(const struct config *cfg, const char *name, struct ad_account *acc, char *err, size_t errlen)
{
	char tool[PATH_MAX], filter[512];
	const char *argv[10];
	struct run_result r;
	char *s, *line, *next, *v;
	int i = 0, have_uac = 0;

	memset(acc, 0, sizeof *acc);
	if (ad_filter(name, filter, sizeof filter) != 0) {
		snprintf(err, errlen, "user name too long");
		return -1;
	}
	argv[i++] = config_samba_tool(cfg, "ldbsearch", tool, sizeof tool);
	argv[i++] = "-H";
	argv[i++] = cfg->ad_database;
	argv[i++] = filter;
	argv[i++] = "userAccountControl";
	argv[i++] = "memberOf";
	argv[i++] = "objectSid";
	argv[i] = NULL;
	if (run_argv(argv, &r, RESPOND_TOOL_TIMEOUT_MS) != 0) {
		respond_tool_error("ldbsearch", &r, err, errlen);
		run_result_free(&r);
		return -1;
	}
	/* Unfold LDIF continuation lines (a newline then one space) in place. */
	s = r.out;
	for (char *rd = s, *wr = s;; rd++) {
		if (rd[0] == '\n' && rd[1] == ' ') {
			rd++;
			continue;
		}
		*wr++ = *rd;
		if (*rd == '\0')
			break;
	}
	for (line = s; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "dn: ", 4) == 0) {
			if (acc->dn[0] != '\0') {
				snprintf(err, errlen, "more than one account is named %s", name);
				run_result_free(&r);
				return -1;
			}
			snprintf(acc->dn, sizeof acc->dn, "%s", line + 4);
		} else if (strncmp(line, "dn:: ", 5) == 0) {
			snprintf(err, errlen, "the account's DN is not plain text (not handled)");
			run_result_free(&r);
			return -1;
		} else if ((v = (char *)ldif_value(line, "userAccountControl")) != NULL) {
			char *e;
			unsigned long u;

			errno = 0;
			u = strtoul(v, &e, 10);
			if (errno == 0 && e != v && *e == '\0' && u <= 0xffffffffUL) {
				acc->uac = (unsigned)u;
				have_uac = 1;
			}
		} else if ((v = (char *)ldif_value(line, "memberOf")) != NULL) {
			if (!acc->protected)
				acc->protected = group_protected(cfg, v, acc->why, sizeof acc->why);
		} else if ((v = (char *)ldif_value(line, "objectSid")) != NULL) {
			snprintf(acc->sid, sizeof acc->sid, "%s", v);
			for (size_t k = 0; k < cfg->n_protected && !acc->protected; k++)
				if (strcasecmp(cfg->protected_accounts[k], v) == 0) {
					acc->protected = 1;
					snprintf(acc->why, sizeof acc->why, "protected account: SID %.64s", v);
				}
		}
	}
	run_result_free(&r);
	if (acc->dn[0] == '\0') {
		snprintf(err, errlen, "no account %s in %s", name, cfg->ad_database);
		return -1;
	}
	if (!have_uac) {
		snprintf(err, errlen, "%s has no readable userAccountControl", name);
		return -1;
	}
	return 0;
}

int
ad_account_set_uac(const struct config *cfg, const char *name, const struct ad_account *acc, unsigned uac,
    char *err, size_t errlen)
{
	char tool[PATH_MAX], path[] = "/tmp/sharewarden-ldif.XXXXXX", rerr[256];
	unsigned char b64[sizeof acc->dn * 2];
	const char *argv[6];
	struct run_result r;
	struct ad_account now;
	FILE *f;
	int fd, i = 0, rc;

	/* The DN as base64 (dn::): whatever bytes it holds, it cannot add a line to the LDIF. */
	EVP_EncodeBlock(b64, (const unsigned char *)acc->dn, (int)strlen(acc->dn));
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "cannot write the LDIF file: %s", strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(path);
		}
		return -1;
	}
	fprintf(f, "dn:: %s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: %u\n-\n",
	    (const char *)b64, uac);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write the LDIF file: %s", strerror(errno));
		unlink(path);
		return -1;
	}
	argv[i++] = config_samba_tool(cfg, "ldbmodify", tool, sizeof tool);
	argv[i++] = "-H";
	argv[i++] = cfg->ad_database;
	argv[i++] = path;
	argv[i] = NULL;
	rc = run_argv(argv, &r, RESPOND_TOOL_TIMEOUT_MS);
	unlink(path);
	if (rc != 0) {
		respond_tool_error("ldbmodify", &r, err, errlen);
		run_result_free(&r);
		return -1;
	}
	run_result_free(&r);
	/* Read back: the directory, not the tool's exit code, says whether the account changed. */
	if (ad_account_read(cfg, name, &now, rerr, sizeof rerr) != 0) {
		snprintf(err, errlen, "ldbmodify succeeded but the result cannot be checked: %s", rerr);
		return -1;
	}
	if (now.uac != uac) {
		snprintf(err, errlen, "ldbmodify succeeded but userAccountControl reads %u, not %u", now.uac, uac);
		return -1;
	}
	return 0;
}

int
ad_database_check(const struct config *cfg, char *dn, size_t dnlen, char *err, size_t errlen)
{
	char tool[PATH_MAX], *v;
	const char *argv[9];
	struct run_result r;
	int i = 0;

	dn[0] = '\0';
	argv[i++] = config_samba_tool(cfg, "ldbsearch", tool, sizeof tool);
	argv[i++] = "-H";
	argv[i++] = cfg->ad_database;
	argv[i++] = "-s";
	argv[i++] = "base";
	argv[i++] = "-b";
	argv[i++] = "";
	argv[i++] = "defaultNamingContext";
	argv[i] = NULL;
	if (run_argv(argv, &r, RESPOND_TOOL_TIMEOUT_MS) != 0) {
		respond_tool_error("ldbsearch", &r, err, errlen);
		run_result_free(&r);
		return -1;
	}
	for (char *line = r.out, *next; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((v = (char *)ldif_value(line, "defaultNamingContext")) != NULL)
			snprintf(dn, dnlen, "%s", v);
	}
	run_result_free(&r);
	if (dn[0] == '\0') {
		snprintf(err, errlen, "%s holds no domain (no defaultNamingContext): not a DC's sam.ldb?",
		    cfg->ad_database);
		return -1;
	}
	return 0;
}
