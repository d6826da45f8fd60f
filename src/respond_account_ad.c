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

/* The value of "attr: value" on an unfolded LDIF line, or NULL. */
static const char *
ldif_value(const char *line, const char *attr)
{
	size_t n = strlen(attr);

	if (strncasecmp(line, attr, n) != 0 || line[n] != ':' || line[n + 1] != ' ')
		return NULL;
	return line + n + 2;
}

static int
ad_account_read(const struct config *cfg, const char *name, struct ad_account *acc, char *err, size_t errlen)
{
	char tool[PATH_MAX], filter[512];
	const char *argv[10];
	struct run_result r;
	char *s, *line, *next, *v;
	int i = 0, have_uac = 0;

	memset(acc, 0, sizeof *acc);
	if (account_filter(name, filter, sizeof filter) != 0) {
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
		return ACCOUNT_DIR_DOWN;
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
			if (account_parse_uac(v, &acc->uac) == 0)
				have_uac = 1;
		} else if ((v = (char *)ldif_value(line, "memberOf")) != NULL) {
			if (!acc->protected)
				acc->protected = account_group_protected(cfg, v, acc->why, sizeof acc->why);
		} else if ((v = (char *)ldif_value(line, "objectSid")) != NULL) {
			snprintf(acc->sid, sizeof acc->sid, "%s", v);
			if (!acc->protected)
				acc->protected = account_sid_protected(cfg, v, acc->why, sizeof acc->why);
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

static int
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

/* Opens the DC's database as the lock will: "the domain DN in PATH". */
static int
ad_database_check(const struct config *cfg, char *what, size_t whatlen, char *err, size_t errlen)
{
	char tool[PATH_MAX], dn[512], *v;
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
			snprintf(dn, sizeof dn, "%s", v);
	}
	run_result_free(&r);
	if (dn[0] == '\0') {
		snprintf(err, errlen, "%s holds no domain (no defaultNamingContext): not a DC's sam.ldb?",
		    cfg->ad_database);
		return -1;
	}
	snprintf(what, whatlen, "the domain %s in %s", dn, cfg->ad_database);
	return 0;
}

const struct account_dir account_dir_ad = {
	.name = "samba-ad-dc",
	.read = ad_account_read,
	.set_uac = ad_account_set_uac,
	.check = ad_database_check,
};
