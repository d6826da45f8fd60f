/* Unit tests of the configuration file: defaults, every error, bounds, odd bytes, and shares read by a real testparm. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define TESTPARM	"/usr/bin/testparm"

static char srcdir[PATH_MAX];	/* the directory the tests were started from */
static char tmpdir[64];		/* every file the tests write goes here; it is the cwd */

static int
group_setup(void **state)
{
	if (getcwd(srcdir, sizeof srcdir) == NULL)
		return -1;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/sw-test-config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) == -1)
		return -1;
	log_init(1, LOG_LVL_ERROR);
	return 0;
}

static int
group_teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	if (chdir(srcdir) == -1)
		return -1;
	while (d && (de = readdir(d)) != NULL) {
		char p[PATH_MAX * 2];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
		if (unlink(p) == -1)
			rmdir(p);
	}
	if (d)
		closedir(d);
	return rmdir(tmpdir);
}

static void
write_file(const char *name, const char *data, size_t n)
{
	FILE *f = fopen(name, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* The mode t.conf gets: private, as a file holding credentials must be. */
static mode_t conf_mode = 0600;

/* Loads n bytes as t.conf over the defaults; *errs gets what was reported. */
static int
load_bytes(const char *data, size_t n, struct config *cfg, char **errs)
{
	size_t len;
	FILE *f;
	int nerr;

	write_file("t.conf", data, n);
	assert_int_equal(chmod("t.conf", conf_mode), 0);
	f = open_memstream(errs, &len);
	assert_non_null(f);
	config_defaults(cfg);
	nerr = config_load("t.conf", cfg, f);
	fclose(f);
	return nerr;
}

static int
load_text(const char *text, struct config *cfg, char **errs)
{
	return load_bytes(text, strlen(text), cfg, errs);
}

static void
expect_errors(const char *text, int n, const char *expected)
{
	struct config cfg;
	char *errs;
	int got = load_text(text, &cfg, &errs);

	assert_string_equal(errs, expected);
	assert_int_equal(got, n);
	free(errs);
	config_free(&cfg);
}

static void
expect_ok(const char *text, struct config *cfg)
{
	char *errs;
	int got = load_text(text, cfg, &errs);

	assert_string_equal(errs, "");
	assert_int_equal(got, 0);
	free(errs);
}

static int
resolve(struct config *cfg, char **errs)
{
	size_t len;
	FILE *f = open_memstream(errs, &len);
	int nerr;

	assert_non_null(f);
	nerr = config_resolve_shares(cfg, f);
	fclose(f);
	return nerr;
}

static void
assert_share(const struct share *sh, const char *name, const char *path)
{
	assert_non_null(sh);
	assert_string_equal(sh->name, name);
	assert_string_equal(sh->path, path);
}

static size_t
count_shares(const struct config *cfg)
{
	size_t n = 0;

	for (const struct share *sh = cfg->shares; sh; sh = sh->next)
		n++;
	return n;
}

static void
assert_defaults(const struct config *cfg)
{
	assert_string_equal(cfg->journal, "/var/lib/sharewarden/journal.db");
	assert_string_equal(cfg->audit_log, "/var/log/samba/audit.log");
	assert_string_equal(cfg->audit_socket, "");
	assert_string_equal(cfg->samba_config, "/etc/samba/smb.conf");
	assert_string_equal(cfg->samba_bin_dir, "/usr/bin");
	assert_int_equal(cfg->shares_auto, 1);
	assert_int_equal(cfg->n_share_names, 0);
	assert_null(cfg->shares);
	assert_string_equal(cfg->patterns, "/var/lib/sharewarden/patterns.list");
	assert_int_equal(cfg->event_retention_ms, 7 * 86400000LL);
	assert_int_equal(cfg->monitor_only, 0);
	assert_int_equal(cfg->n_protected, 2);
	assert_string_equal(cfg->protected_accounts[0], "root");
	assert_string_equal(cfg->protected_accounts[1], "administrator");
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
	assert_int_equal(cfg->detect.window_ms, 60000);
	assert_true(cfg->detect.incident_score == 10);
	assert_true(cfg->detect.w_note == 10);
	assert_true(cfg->detect.w_note_weak == 2);
	assert_true(cfg->detect.w_ext == 5);
	assert_true(cfg->detect.w_wildcard == 3);
	assert_int_equal(cfg->detect.rename_burst, 5);
	assert_true(cfg->detect.w_rename_burst == 10);
	assert_true(cfg->detect.w_overwrite_rename == 3);
	assert_int_equal(cfg->lock_account, 1);
	assert_int_equal(cfg->kill_session, 1);
	assert_string_equal(cfg->account_backend, "tdbsam");
	assert_string_equal(cfg->ldap_uri, "");
	assert_string_equal(cfg->ldap_base, "");
	assert_string_equal(cfg->ldap_bind_dn, "");
	assert_string_equal(cfg->ldap_password_file, "/etc/sharewarden/ldap.secret");
	assert_string_equal(cfg->ldap_ca_file, "");
	assert_int_equal(cfg->ldap_timeout_ms, 3000);
}

static void
test_defaults(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	assert_null(cfg.file);
	assert_defaults(&cfg);
	config_free(&cfg);
	/* A freed config can be filled again. */
	config_defaults(&cfg);
	assert_defaults(&cfg);
	config_free(&cfg);
}

/* Group names hold blanks: "protected groups" splits on commas only, as an administrator writes it. */
static void
test_protected_groups(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	assert_int_equal(cfg.n_protected_groups, 4);
	assert_string_equal(cfg.protected_groups[0], "Domain Admins");
	assert_string_equal(cfg.protected_groups[3], "Backup Operators");
	config_free(&cfg);
	expect_ok("[global]\nprotected groups =  Domain Admins ,Backup Operators,\"LAB\\Help, Desk\" , x\n"
	    "protected accounts = root, LAB\\svc one\n", &cfg);
	assert_int_equal(cfg.n_protected_groups, 4);
	assert_string_equal(cfg.protected_groups[0], "Domain Admins");
	assert_string_equal(cfg.protected_groups[1], "Backup Operators");
	assert_string_equal(cfg.protected_groups[2], "LAB\\Help, Desk");
	assert_string_equal(cfg.protected_groups[3], "x");
	/* Account lists keep splitting on blanks too, as smb.conf's do. */
	assert_int_equal(cfg.n_protected, 3);
	config_free(&cfg);
}

/* The shipped example sets every key to its default, and loads cleanly. */
static void
test_example_file(void **state)
{
	char path[PATH_MAX * 2];
	struct config cfg;

	snprintf(path, sizeof path, "%s/etc/sharewarden.conf", srcdir);
	if (access(path, R_OK) == -1)
		skip();
	config_defaults(&cfg);
	assert_int_equal(config_load(path, &cfg, stderr), 0);
	assert_string_equal(cfg.file, path);
	assert_defaults(&cfg);
	config_free(&cfg);
}

static void
test_empty_file(void **state)
{
	struct config cfg;

	expect_ok("", &cfg);
	assert_string_equal(cfg.file, "t.conf");
	assert_defaults(&cfg);
	config_free(&cfg);
	expect_ok("\n\n   \n# only comments\n\t; and this\n", &cfg);
	assert_defaults(&cfg);
	config_free(&cfg);
}

static void
test_full_valid(void **state)
{
	struct config cfg;

	expect_ok(
	    "# a full configuration\n"
	    "[global]\n"
	    "   journal = /srv/state/journal.db\n"
	    "   audit log =\n"
	    "   audit socket = /run/sharewarden/audit.sock\n"
	    "   samba config = /etc/samba/other.conf\n"
	    "   samba bin dir = /usr/sbin\n"
	    "   shares = data, projects\n"
	    "   patterns = /srv/state/patterns.list\n"
	    "   event retention = 30d\n"
	    "   monitor only = yes\n"
	    "   protected accounts = root, CORP\\backup, svc-sql\n"
	    "   log level = debug\n"
	    "\n"
	    "[detect]\n"
	    "   window = 90s\n"
	    "   incident score = 25.5\n"
	    "   note weight = 20\n"
	    "   weak note weight = 0.5\n"
	    "   extension weight = 7\n"
	    "   wildcard weight = 4\n"
	    "   rename burst = 12\n"
	    "   rename burst weight = 15\n"
	    "   overwrite rename weight = 6\n"
	    "\n"
	    "[respond]\n"
	    "   lock account = no\n"
	    "   kill session = off\n"
	    "\n"
	    "[share data]\n"
	    "   path = /srv/data/\n"
	    "[share Team Files]\n"
	    "   path = //srv/team//files/.\n"
	    "[share root]\n"
	    "   path = ///\n", &cfg);
	assert_string_equal(cfg.journal, "/srv/state/journal.db");
	assert_string_equal(cfg.audit_log, "");
	assert_string_equal(cfg.audit_socket, "/run/sharewarden/audit.sock");
	assert_string_equal(cfg.samba_config, "/etc/samba/other.conf");
	assert_string_equal(cfg.samba_bin_dir, "/usr/sbin");
	assert_int_equal(cfg.shares_auto, 0);
	assert_int_equal(cfg.n_share_names, 2);
	assert_string_equal(cfg.share_names[0], "data");
	assert_string_equal(cfg.share_names[1], "projects");
	assert_string_equal(cfg.patterns, "/srv/state/patterns.list");
	assert_int_equal(cfg.event_retention_ms, 30 * 86400000LL);
	assert_int_equal(cfg.monitor_only, 1);
	assert_int_equal(cfg.n_protected, 3);
	assert_string_equal(cfg.protected_accounts[1], "CORP\\backup");
	assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
	assert_int_equal(cfg.detect.window_ms, 90000);
	assert_true(cfg.detect.incident_score == 25.5);
	assert_true(cfg.detect.w_note == 20);
	assert_true(cfg.detect.w_note_weak == 0.5);
	assert_true(cfg.detect.w_ext == 7);
	assert_true(cfg.detect.w_wildcard == 4);
	assert_int_equal(cfg.detect.rename_burst, 12);
	assert_true(cfg.detect.w_rename_burst == 15);
	assert_true(cfg.detect.w_overwrite_rename == 6);
	assert_int_equal(cfg.lock_account, 0);
	assert_int_equal(cfg.kill_session, 0);
	assert_int_equal(count_shares(&cfg), 3);
	assert_share(cfg.shares, "data", "/srv/data");
	assert_share(cfg.shares->next, "Team Files", "/srv/team/files");
	assert_share(cfg.shares->next->next, "root", "/");
	config_free(&cfg);
}

/* Sections may come back, as in smb.conf; a key is still set only once. */
static void
test_sections_reopen(void **state)
{
	struct config cfg;

	expect_ok("[detect]\nwindow = 5s\n[global]\nmonitor only = yes\n[detect]\nrename burst = 3\n"
	    "[detect] # trailing comment\nnote weight = 1\n", &cfg);
	assert_int_equal(cfg.detect.window_ms, 5000);
	assert_int_equal(cfg.detect.rename_burst, 3);
	assert_true(cfg.detect.w_note == 1);
	assert_int_equal(cfg.monitor_only, 1);
	config_free(&cfg);
	expect_errors("[detect]\nwindow = 5s\n[global]\n[detect]\nwindow = 6s\n", 1,
	    "t.conf:5: duplicate key 'window' in [detect]\n");
}

static void
test_error_messages(void **state)
{
	static const struct {
		const char *text;
		const char *expected;
	} cases[] = {
		{ "[detect]\nwidnow = 5s\n", "t.conf:2: unknown key 'widnow' in [detect]\n" },
		{ "[global]\n\nwindow = 5s\n", "t.conf:3: unknown key 'window' in [global]\n" },
		{ "[respond]\nwindow = 5s\n", "t.conf:2: unknown key 'window' in [respond]\n" },
		{ "[detect]\nwindow = fast\n",
		    "t.conf:2: invalid duration 'fast' for 'window' (examples: 500ms, 60s, 5m)\n" },
		{ "[global]\nevent retention = 7 days\n",
		    "t.conf:2: invalid duration '7 days' for 'event retention' (examples: 500ms, 60s, 5m)\n" },
		{ "[detect]\nincident score = 0\n", "t.conf:2: 'incident score' must be between 1 and 10000\n" },
		{ "[detect]\nwindow = 2d\n", "t.conf:2: 'window' must be between 100ms and 1d\n" },
		{ "[global]\nevent retention = 30s\n",
		    "t.conf:2: 'event retention' must be between 1m and 3650d\n" },
		{ "[detect]\nrename burst = 0\n", "t.conf:2: 'rename burst' must be between 1 and 1000000\n" },
		{ "[detect]\nrename burst = 5.5\n", "t.conf:2: invalid integer '5.5' for 'rename burst'\n" },
		{ "[detect]\nnote weight = ten\n", "t.conf:2: invalid number 'ten' for 'note weight'\n" },
		{ "[detect]\nnote weight = -1\n", "t.conf:2: 'note weight' must be between 0 and 10000\n" },
		{ "[respond]\nlock account = maybe\n",
		    "t.conf:2: invalid boolean 'maybe' for 'lock account' (yes or no)\n" },
		{ "[global]\nlog level = loud\n",
		    "t.conf:2: invalid log level 'loud' for 'log level' (error, warning, info or debug)\n" },
		{ "[global]\nprotected accounts = \"Domain Admins\n",
		    "t.conf:2: unterminated quote in 'protected accounts'\n" },
		{ "[global]\nshares = data, \"Team\n", "t.conf:2: unterminated quote in 'shares'\n" },
		{ "[foo]\nwindow = 5s\n", "t.conf:1: unknown section [foo]\n" },
		{ "[shares]\n", "t.conf:1: unknown section [shares]\n" },
		{ "journal = /x.db\n[global]\n", "t.conf:1: key outside of a section\n" },
		{ "[global]\njust some words\n", "t.conf:2: line is not 'key = value' or [section]\n" },
		{ "[global]\n= value\n", "t.conf:2: line is not 'key = value' or [section]\n" },
		{ "[global\n", "t.conf:1: line is not 'key = value' or [section]\n" },
		{ "[global] junk\n", "t.conf:1: line is not 'key = value' or [section]\n" },
		{ "[detect]\nwindow = 5s\nwindow = 6s\n", "t.conf:3: duplicate key 'window' in [detect]\n" },
		{ "[detect]\nwindow = 5s\nWINDOW = 6s\n", "t.conf:3: duplicate key 'window' in [detect]\n" },
		{ "[share data]\npath = srv/data\n", "t.conf:2: [share data]: path must be absolute\n" },
		{ "[share data]\npath =\n", "t.conf:2: [share data]: path must be absolute\n" },
		{ "[share data]\npath = /a\n[share data]\npath = /b\n", "t.conf:3: duplicate share 'data'\n" },
		{ "[share data]\npath = /a\n[share DATA]\npath = /b\n", "t.conf:3: duplicate share 'DATA'\n" },
		{ "[share data]\n# no path\n[detect]\n", "t.conf:1: [share data]: path is required\n" },
		{ "[global]\n[share data]\n", "t.conf:2: [share data]: path is required\n" },
		{ "[share data]\npath = /a\npath = /b\n", "t.conf:3: duplicate key 'path' in [share data]\n" },
		{ "[share data]\npath = /a\ncomment = x\n", "t.conf:3: unknown key 'comment' in [share data]\n" },
		{ "[share]\npath = /a\n", "t.conf:1: [share] needs a name: [share NAME]\n" },
		{ "[share   ]\n", "t.conf:1: [share] needs a name: [share NAME]\n" },
		{ "[global]\naudit log =\nkernel events = no\n",
		    "t.conf:2: 'audit log' and 'audit socket' are both empty and 'kernel events' is off: "
		    "sharewarden would see nothing\n" },
		{ "[global]\nsamba bin dir = /nonexistent/sw-bin\n",
		    "t.conf:2: samba bin dir '/nonexistent/sw-bin' does not exist\n" },
		{ "[global]\nsamba bin dir = /etc/passwd\n",
		    "t.conf:2: samba bin dir '/etc/passwd' is not a directory\n" },
		{ "[fo\x01o]\n", "t.conf:1: unknown section [fo\\x01o]\n" },
		{ "[global]\nwin\x1b[2Jdow = 1\n", "t.conf:2: unknown key 'win\\x1b[2jdow' in [global]\n" },
	};

	for (size_t i = 0; i < nitems(cases); i++)
		expect_errors(cases[i].text, 1, cases[i].expected);
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "[global]\njournal = /a\0b\nmonitor only = yes\n";
	struct config cfg;
	char *errs;

	assert_int_equal(load_bytes(text, sizeof text - 1, &cfg, &errs), 1);
	assert_string_equal(errs, "t.conf:2: line contains a NUL byte\n");
	assert_string_equal(cfg.journal, "/var/lib/sharewarden/journal.db");
	assert_int_equal(cfg.monitor_only, 1);
	free(errs);
	config_free(&cfg);
}

static void
test_cannot_open(void **state)
{
	struct config cfg;
	char *errs;
	size_t len;
	FILE *f;

	config_defaults(&cfg);
	f = open_memstream(&errs, &len);
	assert_int_equal(config_load("missing.conf", &cfg, f), 1);
	fclose(f);
	assert_string_equal(errs, "missing.conf: cannot open: No such file or directory\n");
	free(errs);
	assert_int_equal(mkdir("adir.conf", 0700), 0);
	f = open_memstream(&errs, &len);
	assert_int_equal(config_load("adir.conf", &cfg, f), 1);
	fclose(f);
	assert_string_equal(errs, "adir.conf: cannot open: Is a directory\n");
	free(errs);
	assert_defaults(&cfg);
	/* Without an error stream errors are still counted. */
	assert_int_equal(config_load("missing.conf", &cfg, NULL), 1);
	config_free(&cfg);
}

/* One pass reports every problem, each on its own line, and keeps the good values. */
static void
test_many_errors(void **state)
{
	expect_errors(
	    "journal = /early.db\n"			/* 1 */
	    "[global]\n"				/* 2 */
	    "audit log =\n"				/* 3 */
	    "samba bin dir = /nonexistent/sw-bin\n"	/* 4 */
	    "kernel events = no\n"			/* 5 */
	    "[detect]\n"				/* 6 */
	    "widnow = 60s\n"				/* 7 */
	    "window = soon\n"				/* 8 */
	    "incident score = 20000\n"			/* 9 */
	    "incident score = 5\n"			/* 10 */
	    "rename burst = many\n"			/* 11 */
	    "this is not a key\n"			/* 12 */
	    "[foo]\n"					/* 13 */
	    "ignored = yes\n"				/* 14 */
	    "[respond]\n"				/* 15 */
	    "kill session = perhaps\n"			/* 16 */
	    "[share data]\n"				/* 17 */
	    "path = relative/dir\n"			/* 18 */
	    "[share data]\n"				/* 19 */
	    "path = /srv/data\n"			/* 20 */
	    "[share empty]\n",				/* 21 */
	    14,
	    "t.conf:1: key outside of a section\n"
	    "t.conf:7: unknown key 'widnow' in [detect]\n"
	    "t.conf:8: invalid duration 'soon' for 'window' (examples: 500ms, 60s, 5m)\n"
	    "t.conf:9: 'incident score' must be between 1 and 10000\n"
	    "t.conf:10: duplicate key 'incident score' in [detect]\n"
	    "t.conf:11: invalid integer 'many' for 'rename burst'\n"
	    "t.conf:12: line is not 'key = value' or [section]\n"
	    "t.conf:13: unknown section [foo]\n"
	    "t.conf:16: invalid boolean 'perhaps' for 'kill session' (yes or no)\n"
	    "t.conf:18: [share data]: path must be absolute\n"
	    "t.conf:19: duplicate share 'data'\n"
	    "t.conf:21: [share empty]: path is required\n"
	    "t.conf:3: 'audit log' and 'audit socket' are both empty and 'kernel events' is off: "
	    "sharewarden would see nothing\n"
	    "t.conf:4: samba bin dir '/nonexistent/sw-bin' does not exist\n");
}

static void
test_bounds(void **state)
{
	static const struct {
		const char *line;
		int ok;
	} cases[] = {
		{ "incident score = 1", 1 }, { "incident score = 10000", 1 },
		{ "incident score = 0.999", 0 }, { "incident score = 10000.5", 0 },
		{ "incident score = -5", 0 },
		{ "note weight = 0", 1 }, { "note weight = 10000", 1 }, { "note weight = 10001", 0 },
		{ "weak note weight = 0", 1 }, { "weak note weight = -0.1", 0 },
		{ "extension weight = 10000", 1 }, { "extension weight = 1e3", 0 },
		{ "wildcard weight = inf", 0 }, { "wildcard weight = nan", 0 }, { "wildcard weight = 0x10", 0 },
		{ "rename burst = 1", 1 }, { "rename burst = 1000000", 1 }, { "rename burst = 1000001", 0 },
		{ "rename burst = 0", 0 }, { "rename burst = -3", 0 },
		{ "rename burst = 99999999999999999999999", 0 }, { "rename burst = 5x", 0 },
		{ "rename burst weight = 10000", 1 }, { "overwrite rename weight = 10000.01", 0 },
		{ "window = 100ms", 1 }, { "window = 99ms", 0 }, { "window = 1d", 1 }, { "window = 86401s", 0 },
		{ "window = 0", 0 },
	};
	char text[256];
	struct config cfg;
	char *errs;

	for (size_t i = 0; i < nitems(cases); i++) {
		snprintf(text, sizeof text, "[detect]\n%s\n", cases[i].line);
		assert_int_equal(load_text(text, &cfg, &errs), cases[i].ok ? 0 : 1);
		if (!cases[i].ok)
			assert_non_null(strstr(errs, "t.conf:2: "));
		free(errs);
		config_free(&cfg);
	}
	expect_ok("[global]\nevent retention = 1m\n", &cfg);
	assert_int_equal(cfg.event_retention_ms, 60000);
	config_free(&cfg);
	expect_ok("[global]\nevent retention = 3650d\n", &cfg);
	assert_int_equal(cfg.event_retention_ms, 3650 * 86400000LL);
	config_free(&cfg);
	expect_errors("[global]\nevent retention = 3651d\n", 1,
	    "t.conf:2: 'event retention' must be between 1m and 3650d\n");
	/* A rejected value leaves the default in place. */
	assert_int_equal(load_text("[detect]\nrename burst = 0\nincident score = 0\n", &cfg, &errs), 2);
	assert_int_equal(cfg.detect.rename_burst, 5);
	assert_true(cfg.detect.incident_score == 10);
	free(errs);
	config_free(&cfg);
}

static void
test_durations(void **state)
{
	static const struct {
		const char *key, *value;
		int64_t ms;
	} good[] = {
		{ "window", "250ms", 250 }, { "window", "60s", 60000 }, { "window", "5m", 300000 },
		{ "window", "2h", 7200000 }, { "window", "30", 30000 }, { "window", "1.5s", 1500 },
		{ "window", "0.5", 500 }, { "window", "1d", 86400000 },
		{ "event retention", "7d", 7 * 86400000LL }, { "event retention", "12h", 43200000 },
		{ "event retention", "90m", 5400000 },
	};
	static const char *bad[] = {
		"fast", "-1s", "nan", "inf", "1e3", "0x10", "5 m", "5mm", "s", "5sec", "5S", ".", "1..5s",
		"+5s", "5s5",
	};
	char text[256], expected[256];
	struct config cfg;

	for (size_t i = 0; i < nitems(good); i++) {
		snprintf(text, sizeof text, "[%s]\n%s = %s\n",
		    strcmp(good[i].key, "window") == 0 ? "detect" : "global", good[i].key, good[i].value);
		expect_ok(text, &cfg);
		if (strcmp(good[i].key, "window") == 0)
			assert_int_equal(cfg.detect.window_ms, good[i].ms);
		else
			assert_int_equal(cfg.event_retention_ms, good[i].ms);
		config_free(&cfg);
	}
	for (size_t i = 0; i < nitems(bad); i++) {
		snprintf(text, sizeof text, "[detect]\nwindow = %s\n", bad[i]);
		snprintf(expected, sizeof expected,
		    "t.conf:2: invalid duration '%s' for 'window' (examples: 500ms, 60s, 5m)\n", bad[i]);
		expect_errors(text, 1, expected);
	}
	expect_errors("[detect]\nwindow =\n", 1,
	    "t.conf:2: invalid duration '' for 'window' (examples: 500ms, 60s, 5m)\n");
}

static void
test_lists(void **state)
{
	struct config cfg;

	expect_ok("[global]\nprotected accounts = alice,bob  carol ,, \"Domain Admins\",CORP\\dave\t\n", &cfg);
	assert_int_equal(cfg.n_protected, 5);
	assert_string_equal(cfg.protected_accounts[0], "alice");
	assert_string_equal(cfg.protected_accounts[1], "bob");
	assert_string_equal(cfg.protected_accounts[2], "carol");
	assert_string_equal(cfg.protected_accounts[3], "Domain Admins");
	assert_string_equal(cfg.protected_accounts[4], "CORP\\dave");
	config_free(&cfg);

	expect_ok("[global]\nprotected accounts =\n", &cfg);
	assert_int_equal(cfg.n_protected, 0);
	assert_null(cfg.protected_accounts);
	assert_int_equal(config_is_protected(&cfg, "root"), 0);
	config_free(&cfg);

	expect_ok("[global]\nprotected accounts = , ,\n", &cfg);
	assert_int_equal(cfg.n_protected, 0);
	config_free(&cfg);

	expect_ok("[global]\nshares = data \"Team Files\",print\n", &cfg);
	assert_int_equal(cfg.shares_auto, 0);
	assert_int_equal(cfg.n_share_names, 3);
	assert_string_equal(cfg.share_names[0], "data");
	assert_string_equal(cfg.share_names[1], "Team Files");
	assert_string_equal(cfg.share_names[2], "print");
	config_free(&cfg);

	expect_ok("[global]\nshares = AUTO\n", &cfg);
	assert_int_equal(cfg.shares_auto, 1);
	assert_int_equal(cfg.n_share_names, 0);
	config_free(&cfg);

	expect_ok("[global]\nshares =\n", &cfg);
	assert_int_equal(cfg.shares_auto, 0);
	assert_int_equal(cfg.n_share_names, 0);
	config_free(&cfg);
}

static void
test_case_and_blanks(void **state)
{
	struct config cfg;

	expect_ok(
	    "  [ GLOBAL ]  \n"
	    "Monitor   Only=YES\n"
	    "\tLOG LEVEL\t=\tWarning  \n"
	    "Audit\t \tSocket =  /run/a b.sock  \n"
	    "[DeTeCt]\n"
	    "INCIDENT     SCORE = 20\n"
	    "weak\tnote   weight=1\n"
	    "[Respond]\n"
	    "Kill Session = Off\n"
	    "lock account = TRUE\n"
	    "[SHARE Data]\n"
	    "PATH = /srv/Data\n"
	    "   ; a comment\n"
	    "\t# another\n", &cfg);
	assert_int_equal(cfg.monitor_only, 1);
	assert_int_equal(cfg.log_level, LOG_LVL_WARN);
	assert_string_equal(cfg.audit_socket, "/run/a b.sock");
	assert_true(cfg.detect.incident_score == 20);
	assert_true(cfg.detect.w_note_weak == 1);
	assert_int_equal(cfg.kill_session, 0);
	assert_int_equal(cfg.lock_account, 1);
	assert_share(cfg.shares, "Data", "/srv/Data");
	config_free(&cfg);

	expect_ok("[global]\nlog level = ERROR\n", &cfg);
	assert_int_equal(cfg.log_level, LOG_LVL_ERROR);
	config_free(&cfg);
	expect_ok("[global]\nlog level = warn\nmonitor only = 1\n[respond]\nlock account = 0\n"
	    "kill session = on\n", &cfg);
	assert_int_equal(cfg.log_level, LOG_LVL_WARN);
	assert_int_equal(cfg.monitor_only, 1);
	assert_int_equal(cfg.lock_account, 0);
	assert_int_equal(cfg.kill_session, 1);
	config_free(&cfg);
	/* CRLF line ends, as files edited on Windows have. */
	expect_ok("[detect]\r\nwindow = 5s\r\n", &cfg);
	assert_int_equal(cfg.detect.window_ms, 5000);
	config_free(&cfg);
	/* A value may hold '=' and '#': there are no comments after a value. */
	expect_ok("[global]\njournal = /srv/a=b#c.db\n", &cfg);
	assert_string_equal(cfg.journal, "/srv/a=b#c.db");
	config_free(&cfg);
}

/* Every byte of the error stream is printable or a newline, and there is one line per error. */
static void
assert_clean_errors(const char *errs, int nerr)
{
	int lines = 0;

	for (const unsigned char *p = (const unsigned char *)errs; *p; p++) {
		if (*p == '\n')
			lines++;
		else
			assert_true(*p >= 0x20 && *p <= 0x7e);
	}
	assert_int_equal(lines, nerr);
}

static void
test_long_lines(void **state)
{
	size_t n = 65536;
	size_t textsz = 3 * n + 256;
	char *big = xmalloc(n + 64), *text = xmalloc(textsz);
	struct config cfg;
	char *errs;
	int nerr;

	/* A 64 KiB value is kept whole. */
	memset(big, 'a', n);
	big[n] = '\0';
	snprintf(text, textsz, "[global]\npatterns = /%s\n", big);
	expect_ok(text, &cfg);
	assert_int_equal(strlen(cfg.patterns), n + 1);
	config_free(&cfg);

	/* A 64 KiB key is reported with a short excerpt. */
	snprintf(text, textsz, "[global]\n%s = 1\n", big);
	nerr = load_text(text, &cfg, &errs);
	assert_int_equal(nerr, 1);
	assert_true(strlen(errs) < 200);
	assert_non_null(strstr(errs, "t.conf:2: unknown key 'aaaa"));
	assert_non_null(strstr(errs, "...' in [global]\n"));
	free(errs);
	config_free(&cfg);

	/* A 64 KiB bad value, a long section name, and a long line without '='. */
	snprintf(text, textsz, "[detect]\nwindow = %s\n[%s]\n%s\n", big, big, big);
	nerr = load_text(text, &cfg, &errs);
	assert_int_equal(nerr, 3);
	assert_clean_errors(errs, nerr);
	assert_non_null(strstr(errs, "t.conf:2: invalid duration 'aaaa"));
	assert_non_null(strstr(errs, "t.conf:3: unknown section [aaaa"));
	assert_non_null(strstr(errs, "t.conf:4: line is not 'key = value' or [section]\n"));
	free(errs);
	config_free(&cfg);

	/* 200 KiB on one line, no newline at the end of the file. */
	free(text);
	text = xmalloc(200 * 1024 + 64);
	strcpy(text, "[global]\njournal = /");
	memset(text + strlen(text), 'j', 200 * 1024);
	text[20 + 200 * 1024] = '\0';
	expect_ok(text, &cfg);
	assert_int_equal(strlen(cfg.journal), 200 * 1024 + 1);
	config_free(&cfg);
	free(big);
	free(text);
}

static void
test_binary_lines(void **state)
{
	static const char text[] =
	    "[global]\n"
	    "\xff\xfe\x01[\x80]=\x1b\n"
	    "journal = /srv/\xe2\x82\xac/\xff\x01.db\n"
	    "\x1b[31m = red\n"
	    "[share \xff\n]\n"
	    "\x01\x02\x03\n"
	    "[\xc3\x28 \x7f]\n"
	    "\x1b = skipped: its section is unknown\n";
	struct config cfg;
	char *errs;
	int nerr;

	nerr = load_bytes(text, sizeof text - 1, &cfg, &errs);
	assert_int_equal(nerr, 6);
	assert_clean_errors(errs, nerr);
	assert_string_equal(errs,
	    "t.conf:2: unknown key '\\xff\\xfe\\x01[\\x80]' in [global]\n"
	    "t.conf:4: unknown key '\\x1b[31m' in [global]\n"
	    "t.conf:5: line is not 'key = value' or [section]\n"
	    "t.conf:6: line is not 'key = value' or [section]\n"
	    "t.conf:7: line is not 'key = value' or [section]\n"
	    "t.conf:8: unknown section [\\xc3( \\x7f]\n");
	/* Values are bytes: they are kept as they are. */
	assert_string_equal(cfg.journal, "/srv/\xe2\x82\xac/\xff\x01.db");
	free(errs);
	config_free(&cfg);
}

/* Random bytes shaped like config lines: the parser never crashes and every error is one clean line. */
static void
test_random_bytes(void **state)
{
	static const char alphabet[] = "[]=#; \t\n\r\"\\/,abcdeglorstwx0123456789.%\x01\xff\x80";
	size_t cap = 70000;
	char *buf = xmalloc(cap);
	unsigned int seed = 12345;

	for (int iter = 0; iter < 300; iter++) {
		size_t n = (size_t)rand_r(&seed) % cap;
		struct config cfg;
		char *errs;
		int nerr;

		if (iter % 3 == 0) {
			static const char *pieces[] = {
				"[global]\n", "[detect]\n", "[respond]\n", "[share x]\n", "[share y]\n",
				"window = ", "shares = ", "protected accounts = ", "path = ", "incident score = ",
				"\"", "5s", "/srv/x", "\n", " ", ",", "\0", "samba bin dir = /\n", "=",
			};
			size_t o = 0;

			while (o + 32 < n) {
				const char *p = pieces[(size_t)rand_r(&seed) % nitems(pieces)];
				size_t l = p[0] ? strlen(p) : 1;

				memcpy(buf + o, p, l);
				o += l;
			}
			n = o;
		} else {
			for (size_t i = 0; i < n; i++)
				buf[i] = (char)(iter % 3 == 1 ? alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)] :
				    rand_r(&seed));
		}
		nerr = load_bytes(buf, n, &cfg, &errs);
		assert_true(nerr >= 0);
		assert_clean_errors(errs, nerr);
		free(errs);
		config_free(&cfg);
	}
	free(buf);
}

static void
test_samba_tool(void **state)
{
	struct config cfg;
	char buf[64], tiny[8];

	config_defaults(&cfg);
	assert_string_equal(config_samba_tool(&cfg, "smbstatus", buf, sizeof buf), "/usr/bin/smbstatus");
	free(cfg.samba_bin_dir);
	cfg.samba_bin_dir = xstrdup("/opt/samba/bin//");
	assert_string_equal(config_samba_tool(&cfg, "smbcontrol", buf, sizeof buf), "/opt/samba/bin/smbcontrol");
	/* Too long for the buffer: no cut path, which could name another program. */
	assert_string_equal(config_samba_tool(&cfg, "smbcontrol", tiny, sizeof tiny), "");
	free(cfg.samba_bin_dir);
	cfg.samba_bin_dir = xstrdup("/");
	assert_string_equal(config_samba_tool(&cfg, "pdbedit", buf, sizeof buf), "/pdbedit");
	config_free(&cfg);
}

static void
test_protected(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	assert_true(config_is_protected(&cfg, "root"));
	assert_true(config_is_protected(&cfg, "ROOT"));
	assert_true(config_is_protected(&cfg, "Administrator"));
	assert_true(config_is_protected(&cfg, "WORKGROUP\\root"));
	assert_true(config_is_protected(&cfg, "corp\\ADMINISTRATOR"));
	assert_true(config_is_protected(&cfg, "administrator@CORP.EXAMPLE.COM"));
	assert_false(config_is_protected(&cfg, "alice"));
	assert_false(config_is_protected(&cfg, "rootx"));
	assert_false(config_is_protected(&cfg, "roo"));
	assert_false(config_is_protected(&cfg, "root\\alice"));
	assert_false(config_is_protected(&cfg, ""));
	assert_false(config_is_protected(&cfg, NULL));
	config_free(&cfg);

	expect_ok("[global]\nprotected accounts = CORP\\Backup, svc-sql, \"Domain Admin\"\n", &cfg);
	assert_true(config_is_protected(&cfg, "backup"));
	assert_true(config_is_protected(&cfg, "corp\\BACKUP"));
	assert_false(config_is_protected(&cfg, "LAB\\backup"));
	/* The realm's first label is the NetBIOS domain: one account in every form. */
	assert_true(config_is_protected(&cfg, "backup@corp.example.com"));
	assert_true(config_is_protected(&cfg, "BACKUP@CORP"));
	assert_false(config_is_protected(&cfg, "backup@lab.test"));
	assert_true(config_is_protected(&cfg, "svc-sql"));
	assert_true(config_is_protected(&cfg, "CORP\\svc-sql"));
	assert_true(config_is_protected(&cfg, "domain admin"));
	assert_false(config_is_protected(&cfg, "root"));
	assert_false(config_is_protected(&cfg, "CORP\\"));
	assert_false(config_is_protected(&cfg, "\\"));
	config_free(&cfg);
}

/* A temporary smb.conf with two disk shares, printers and [homes], read by the real testparm. */
static const char smbconf[] =
    "[global]\n"
    "\tworkgroup = SWTEST\n"
    "\tserver role = standalone server\n"
    "[homes]\n"
    "\tbrowseable = no\n"
    "\tread only = no\n"
    "[printers]\n"
    "\tpath = /var/spool/samba\n"
    "\tprintable = yes\n"
    "[data]\n"
    "\tpath = /srv/sw-data/\n"
    "\tvfs objects = full_audit\n"
    "[Projects]\n"
    "\tpath = //srv//sw-projects/./\n"
    "[labels]\n"
    "\tpath = /var/spool/labels\n"
    "\tprint ok = yes\n"
    "[print$]\n"
    "\tpath = /srv/drivers\n"
    "[perUser]\n"
    "\tpath = /srv/users/%U\n";

static void
load_with_smbconf(const char *extra, struct config *cfg)
{
	char text[4096];

	if (access(TESTPARM, X_OK) == -1)
		skip();
	write_file("smb.conf", smbconf, sizeof smbconf - 1);
	snprintf(text, sizeof text, "[global]\nsamba config = %s/smb.conf\nsamba bin dir = /usr/bin\n%s",
	    tmpdir, extra);
	expect_ok(text, cfg);
}

static void
test_resolve_auto(void **state)
{
	struct config cfg;
	char *errs;

	load_with_smbconf("", &cfg);
	assert_int_equal(resolve(&cfg, &errs), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(count_shares(&cfg), 2);
	assert_share(cfg.shares, "data", "/srv/sw-data");
	assert_share(cfg.shares->next, "Projects", "/srv/sw-projects");
	/* Resolving again adds nothing. */
	assert_int_equal(resolve(&cfg, &errs), 0);
	free(errs);
	assert_int_equal(count_shares(&cfg), 2);
	config_free(&cfg);
}

static void
test_resolve_section_wins(void **state)
{
	struct config cfg;
	char *errs;

	load_with_smbconf("[share DATA]\npath = /mnt/elsewhere/\n[share extra]\npath = /srv/extra\n", &cfg);
	assert_int_equal(resolve(&cfg, &errs), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(count_shares(&cfg), 3);
	assert_share(cfg.shares, "DATA", "/mnt/elsewhere");
	assert_share(cfg.shares->next, "extra", "/srv/extra");
	assert_share(cfg.shares->next->next, "Projects", "/srv/sw-projects");
	config_free(&cfg);
}

static void
test_resolve_named(void **state)
{
	struct config cfg;
	char *errs;

	load_with_smbconf("shares = projects, extra\n[share extra]\npath = /srv/extra\n", &cfg);
	assert_int_equal(resolve(&cfg, &errs), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(count_shares(&cfg), 2);
	assert_share(cfg.shares, "extra", "/srv/extra");
	assert_share(cfg.shares->next, "Projects", "/srv/sw-projects");
	config_free(&cfg);
}

static void
test_resolve_missing(void **state)
{
	char expected[2048];
	struct config cfg;
	char *errs;

	load_with_smbconf("shares = data, nosuch, labels, homes, perUser\n", &cfg);
	assert_int_equal(resolve(&cfg, &errs), 4);
	snprintf(expected, sizeof expected,
	    "t.conf: share 'nosuch' is neither a [share nosuch] section nor a share of %s/smb.conf\n"
	    "t.conf: share 'labels' is neither a [share labels] section nor a share of %s/smb.conf\n"
	    "t.conf: share 'homes' is neither a [share homes] section nor a share of %s/smb.conf\n"
	    "t.conf: share 'perUser' of %s/smb.conf has no fixed absolute path ('/srv/users/%%U'): "
	    "give it a [share perUser] section\n",
	    tmpdir, tmpdir, tmpdir, tmpdir);
	assert_string_equal(errs, expected);
	free(errs);
	assert_int_equal(count_shares(&cfg), 1);
	assert_share(cfg.shares, "data", "/srv/sw-data");
	config_free(&cfg);
}

/* Only [share NAME] sections: testparm is not needed, and none at all is an error. */
static void
test_resolve_sections_only(void **state)
{
	struct config cfg;
	char *errs;

	expect_ok("[global]\nshares =\nsamba config = /nonexistent/smb.conf\n[share a]\npath = /srv/a\n", &cfg);
	assert_int_equal(resolve(&cfg, &errs), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_share(cfg.shares, "a", "/srv/a");
	config_free(&cfg);

	expect_ok("[global]\nshares =\n", &cfg);
	assert_int_equal(resolve(&cfg, &errs), 1);
	assert_string_equal(errs, "t.conf: no shares to protect\n");
	free(errs);
	config_free(&cfg);
}

static void
test_resolve_no_disk_share(void **state)
{
	static const char printers_only[] =
	    "[global]\n\tworkgroup = SWTEST\n[printers]\n\tpath = /var/spool/samba\n\tprintable = yes\n"
	    "[homes]\n\tbrowseable = no\n";
	char text[4096];
	struct config cfg;
	char *errs;

	if (access(TESTPARM, X_OK) == -1)
		skip();
	write_file("printers.conf", printers_only, sizeof printers_only - 1);
	snprintf(text, sizeof text, "[global]\nsamba config = %s/printers.conf\n", tmpdir);
	expect_ok(text, &cfg);
	assert_int_equal(resolve(&cfg, &errs), 1);
	assert_string_equal(errs, "t.conf: no shares to protect\n");
	free(errs);
	config_free(&cfg);
}

static void
test_resolve_testparm_fails(void **state)
{
	struct config cfg;
	char *errs;

	if (access(TESTPARM, X_OK) == -1)
		skip();
	expect_ok("[global]\nsamba config = /nonexistent/smb.conf\n", &cfg);
	assert_int_equal(resolve(&cfg, &errs), 1);
	assert_non_null(strstr(errs, "t.conf: cannot read the shares of /nonexistent/smb.conf: "
	    "/usr/bin/testparm exited with status 1: "));
	assert_non_null(strstr(errs, "Error loading services"));
	assert_clean_errors(errs, 1);
	free(errs);
	assert_null(cfg.shares);
	config_free(&cfg);

	/* No testparm in samba bin dir. */
	{
		char text[4096], expected[4096];

		snprintf(text, sizeof text, "[global]\nsamba bin dir = %s\nsamba config = /etc/samba/smb.conf\n",
		    tmpdir);
		expect_ok(text, &cfg);
		assert_int_equal(resolve(&cfg, &errs), 1);
		snprintf(expected, sizeof expected, "t.conf: cannot read the shares of /etc/samba/smb.conf: "
		    "%s/testparm exited with status 127: cannot run %s/testparm: No such file or directory\n",
		    tmpdir, tmpdir);
		assert_string_equal(errs, expected);
		free(errs);
		config_free(&cfg);
	}
}

/*
 * testparm exits 1 when its own checks fail but still prints the shares:
 * they are used. A share without a path takes the one of [global].
 */
static void
test_resolve_testparm_warns(void **state)
{
	static const char conf[] =
	    "[global]\n\twins support = yes\n\twins server = 192.0.2.1\n\tpath = /srv/sw-default\n"
	    "[plain]\n\tcomment = no path of its own\n[own]\n\tpath = /srv/sw-own\n";
	char text[4096];
	struct config cfg;
	char *errs;

	if (access(TESTPARM, X_OK) == -1)
		skip();
	write_file("warns.conf", conf, sizeof conf - 1);
	snprintf(text, sizeof text, "[global]\nsamba config = %s/warns.conf\n", tmpdir);
	expect_ok(text, &cfg);
	assert_int_equal(resolve(&cfg, &errs), 0);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(count_shares(&cfg), 2);
	assert_share(cfg.shares, "plain", "/srv/sw-default");
	assert_share(cfg.shares->next, "own", "/srv/sw-own");
	config_free(&cfg);
}

static void
test_snapshot_keys(void **state)
{
	struct config cfg;
	const struct share *a, *b;
	char *errs;

	expect_ok("[global]\nshares = a, b\n"
	    "[snapshots]\nbackend = btrfs\ndir = /srv/.snap/%S\ninterval = 5m\nkeep recent = 2\n"
	    "keep hourly = 0\nkeep daily = 7\nat detection = no\ncreate command = /bin/true %P %N\n"
	    "[restore]\nlook back = 2m\nverify = no\n"
	    "[share a]\npath = /srv/a\n"
	    "[share b]\npath = /srv/b\nsnapshots = command\nsnapshot dir = /backup/b\n"
	    "snapshot create command = /usr/local/bin/snap \"%P\" %D\nsnapshot delete command = /bin/rm -r %D\n",
	    &cfg);
	assert_int_equal(cfg.snap.kind, SNAP_BTRFS);
	assert_int_equal(cfg.snap.interval_ms, 300000);
	assert_int_equal(cfg.snap.keep_recent, 2);
	assert_int_equal(cfg.snap.keep_hourly, 0);
	assert_int_equal(cfg.snap.keep_daily, 7);
	assert_int_equal(cfg.snap.at_detection, 0);
	assert_int_equal(cfg.restore_lookback_ms, 120000);
	assert_int_equal(cfg.restore_verify, 0);
	assert_int_equal(resolve(&cfg, &errs), 0);
	assert_string_equal(errs, "");
	free(errs);
	a = cfg.shares;
	b = a->next;
	assert_string_equal(a->name, "a");
	assert_int_equal(a->snap_kind, SNAP_BTRFS);
	assert_string_equal(a->snap_dir, "/srv/.snap/a");
	assert_string_equal(a->snap_create, "/bin/true %P %N");
	assert_string_equal(a->zfs_dataset, "");
	assert_int_equal(b->snap_kind, SNAP_COMMAND);
	assert_string_equal(b->snap_dir, "/backup/b");
	assert_string_equal(b->snap_create, "/usr/local/bin/snap \"%P\" %D");
	assert_string_equal(b->snap_delete, "/bin/rm -r %D");
	assert_string_equal(snap_kind_name(b->snap_kind), "command");
	config_free(&cfg);

	/* The defaults: auto, every 15 minutes, no look-back. */
	expect_ok("[share a]\npath = /srv/a\n", &cfg);
	assert_int_equal(cfg.snap.kind, SNAP_AUTO);
	assert_int_equal(cfg.snap.interval_ms, 900000);
	assert_int_equal(cfg.restore_lookback_ms, 0);
	assert_int_equal(cfg.restore_verify, 1);
	assert_int_equal(resolve(&cfg, &errs), 0);
	free(errs);
	assert_int_equal(cfg.shares->snap_kind, SNAP_AUTO);
	assert_string_equal(cfg.shares->snap_dir, "");
	config_free(&cfg);
}

static void
test_snapshot_errors(void **state)
{
	struct config cfg;
	char *errs;

	expect_errors("[snapshots]\nbackend = lvm\ninterval = 8d\nkeep recent = 0\n"
	    "[restore]\nlook back = soon\n"
	    "[share a]\npath = /srv/a\nsnapshots = maybe\nsnapshot dir = relative\nsnapshot dir = /x\n"
	    "snapshot dir = /y\n", 7,
	    "t.conf:2: invalid backend 'lvm' for 'backend' (auto, none, btrfs, zfs or command)\n"
	    "t.conf:3: 'interval' must be between 0ms and 7d\n"
	    "t.conf:4: 'keep recent' must be between 1 and 100000\n"
	    "t.conf:6: invalid duration 'soon' for 'look back' (examples: 500ms, 60s, 5m)\n"
	    "t.conf:9: [share a]: invalid snapshots 'maybe' (auto, none, btrfs, zfs or command)\n"
	    "t.conf:10: [share a]: snapshot dir must be absolute\n"
	    "t.conf:12: duplicate key 'snapshot dir' in [share a]\n");
	/* The command backend needs its folder and program: reported when shares are resolved. */
	expect_ok("[snapshots]\nbackend = command\ncreate command = snap %P\n[share a]\npath = /srv/a\n", &cfg);
	assert_int_equal(resolve(&cfg, &errs), 2);
	assert_non_null(strstr(errs, "share 'a': the command backend needs a snapshot dir"));
	assert_non_null(strstr(errs, "share 'a': the command backend needs a create command"));
	free(errs);
	config_free(&cfg);
}

static void
test_network_keys(void **state)
{
	struct config cfg;
	const struct snmp_target *t;

	expect_ok("[respond]\nblock ip = no\nport down = yes\nmax isolations per hour = 5\n"
	    "dry run = port_down, block_ip\nfirewall table = sw_test\nsmb ports = 445\n"
	    "[network]\ndhcp leases = /var/lib/misc/dnsmasq.leases, /var/lib/kea/kea-leases4.csv\n"
	    "[switch access-1]\naddress = 10.0.0.2:1161\ncommunity = public\nwrite community = private\n"
	    "vlans = 10, 20\nprotected ports = Gi1/0/48, 49\nmax macs = 2\ntimeout = 500ms\nretries = 0\n"
	    "[switch core]\naddress = 10.0.0.1\nversion = 3\nuser = sw\nauth protocol = SHA-256\n"
	    "auth password = authpass1\npriv password = privpass1\n"
	    "[router edge]\naddress = 10.0.0.254\ncommunity = public\n"
	    "[notify]\nsmtp url = smtp://mail.example:587\nsmtp user = sw\nsmtp password = pw\n"
	    "mail to = it@example, oncall@example\nwebhook = https://hooks.example/x\nwebhook format = slack\n",
	    &cfg);
	assert_int_equal(cfg.block_ip, 0);
	assert_int_equal(cfg.port_down, 1);
	assert_int_equal(cfg.max_isolations, 5);
	assert_true(config_dry_run(&cfg, "port_down"));
	assert_true(config_dry_run(&cfg, "BLOCK_IP"));
	assert_false(config_dry_run(&cfg, "lock_account"));
	assert_string_equal(cfg.nft_table, "sw_test");
	assert_int_equal(cfg.n_smb_ports, 1);
	assert_int_equal(cfg.n_dhcp_leases, 2);
	t = cfg.switches;
	assert_string_equal(t->name, "access-1");
	assert_string_equal(t->address, "10.0.0.2:1161");
	assert_int_equal(t->version, 2);
	assert_string_equal(t->community, "public");
	assert_string_equal(t->write_community, "private");
	assert_int_equal(t->n_vlans, 2);
	assert_string_equal(t->protected_ports[0], "Gi1/0/48");
	assert_int_equal(t->max_macs, 2);
	assert_int_equal(t->timeout_ms, 500);
	assert_int_equal(t->retries, 0);
	t = t->next;
	assert_string_equal(t->name, "core");
	assert_int_equal(t->version, 3);
	assert_string_equal(t->auth_protocol, "SHA-256");
	assert_string_equal(t->priv_protocol, "AES");
	assert_int_equal(t->max_macs, 3);
	assert_null(t->next);
	assert_string_equal(cfg.routers->name, "edge");
	assert_null(cfg.routers->next);
	assert_int_equal(cfg.notify.n_mail_to, 2);
	assert_int_equal(cfg.notify.smtp_starttls, 1);
	assert_string_equal(cfg.notify.webhook_format, "slack");
	config_free(&cfg);

	/* Defaults: every isolating responder on, three isolations an hour, SMB ports. */
	expect_ok("", &cfg);
	assert_int_equal(cfg.block_ip, 1);
	assert_int_equal(cfg.port_down, 1);
	assert_int_equal(cfg.max_isolations, 3);
	assert_int_equal(cfg.n_smb_ports, 2);
	assert_null(cfg.switches);
	assert_false(config_dry_run(&cfg, "port_down"));
	config_free(&cfg);
}

/* Writes the password file of the ldap tests (mode 0600 unless told) and returns its absolute path. */
static const char *
ldap_secret(mode_t mode)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/ldap.secret", tmpdir);
	write_file("ldap.secret", "Svc-Pass-1\n", 11);
	assert_int_equal(chmod("ldap.secret", mode), 0);
	return path;
}

static char *
ldap_conf(const char *uri, const char *pwfile, const char *extra)
{
	static char text[16384];

	snprintf(text, sizeof text, "[global]\naccount backend = ldap\nldap uri = %s\nldap base = DC=lab,DC=test\n"
	    "ldap bind dn = CN=svc_sharewarden,CN=Users,DC=lab,DC=test\nldap password file = %s\n%s", uri, pwfile,
	    extra);
	return text;
}

static void
test_ldap_keys(void **state)
{
	const char *pw = ldap_secret(0600);
	char extra[PATH_MAX + 64], *errs, *want;
	struct config cfg;

	write_file("ca.pem", "-----BEGIN CERTIFICATE-----\n", 28);
	snprintf(extra, sizeof extra, "ldap ca file = %s/ca.pem\nldap timeout = 1500ms\n", tmpdir);
	expect_ok(ldap_conf("ldap://dc1.lab.test", pw, extra), &cfg);
	assert_string_equal(cfg.account_backend, "ldap");
	assert_string_equal(cfg.ldap_uri, "ldap://dc1.lab.test");
	assert_string_equal(cfg.ldap_base, "DC=lab,DC=test");
	assert_string_equal(cfg.ldap_bind_dn, "CN=svc_sharewarden,CN=Users,DC=lab,DC=test");
	assert_string_equal(cfg.ldap_password_file, pw);
	assert_int_equal(cfg.ldap_timeout_ms, 1500);
	config_free(&cfg);
	/* Every form of one DC's URI. */
	expect_ok(ldap_conf("ldaps://dc1.lab.test", pw, ""), &cfg);
	config_free(&cfg);
	expect_ok(ldap_conf("ldaps://10.77.0.2:636/", pw, ""), &cfg);
	config_free(&cfg);
	expect_ok(ldap_conf("ldap://[2001:db8::2]:389", pw, ""), &cfg);
	config_free(&cfg);
	/* The ldap keys are not looked at with another backend (the example file holds them). */
	expect_ok("[global]\nldap uri = http://x\nldap password file = relative\n", &cfg);
	config_free(&cfg);

	expect_errors("[global]\naccount backend = ldap\nldap password file = /nonexistent/ldap.secret\n", 4,
	    "t.conf:2: account backend = ldap needs 'ldap uri' (ldaps://dc1.example.com, or ldap://... with "
	    "StartTLS)\n"
	    "t.conf:2: account backend = ldap needs 'ldap base' (the domain's DN: DC=example,DC=com)\n"
	    "t.conf:2: account backend = ldap needs 'ldap bind dn' (the DN of the service account allowed to "
	    "change userAccountControl)\n"
	    "t.conf:3: ldap password file /nonexistent/ldap.secret: No such file or directory\n");
	expect_errors("[global]\naccount backend = ldap2\n", 1,
	    "t.conf:2: account backend must be tdbsam (smbpasswd), samba-ad-dc (the server is the AD DC) or ldap "
	    "(a domain member: the lock is done on a DC over LDAP)\n");
	expect_errors(ldap_conf("http://dc1", pw, ""), 1,
	    "t.conf:3: ldap uri 'http://dc1' must start with ldaps:// (TLS) or ldap:// (StartTLS, always required)\n");
	expect_errors(ldap_conf("ldap://", pw, ""), 1, "t.conf:3: ldap uri 'ldap://' holds no host: "
	    "ldaps://dc1.example.com\n");
	expect_errors(ldap_conf("ldaps://dc1:0", pw, ""), 1, "t.conf:3: ldap uri 'ldaps://dc1:0' has a port that "
	    "is not 1-65535\n");
	expect_errors(ldap_conf("ldaps://dc1:65536", pw, ""), 1, "t.conf:3: ldap uri 'ldaps://dc1:65536' has a "
	    "port that is not 1-65535\n");
	expect_errors(ldap_conf("ldaps://dc1:x", pw, ""), 1, "t.conf:3: ldap uri 'ldaps://dc1:x' has a port that "
	    "is not 1-65535\n");
	expect_errors(ldap_conf("ldaps://dc1 ldaps://dc2", pw, ""), 1, "t.conf:3: ldap uri 'ldaps://dc1 "
	    "ldaps://dc2' must be one DC's URI alone, ldaps://HOST[:PORT] (no search base, no second URI)\n");
	expect_errors(ldap_conf("ldaps://dc1/DC=lab,DC=test", pw, ""), 1, "t.conf:3: ldap uri "
	    "'ldaps://dc1/DC=lab,DC=test' must be one DC's URI alone, ldaps://HOST[:PORT] (no search base, no "
	    "second URI)\n");
	expect_errors(ldap_conf("ldaps://[zz]", pw, ""), 1, "t.conf:3: ldap uri 'ldaps://[zz]' holds no host (an "
	    "IPv6 address goes in brackets: ldaps://[2001:db8::2])\n");
	expect_errors("[global]\naccount backend = ldap\nldap uri = ldaps://dc1\nldap base = lab.test\n"
	    "ldap bind dn = svc_sharewarden\nldap password file = ldap.secret\nldap ca file = /nonexistent.pem\n"
	    "ldap timeout = 0\n", 5,
	    "t.conf:8: 'ldap timeout' must be between 100ms and 1m\n"
	    "t.conf:4: ldap base 'lab.test' is not a DN (DC=example,DC=com)\n"
	    "t.conf:5: ldap bind dn 'svc_sharewarden' is not a DN (CN=svc_sharewarden,CN=Users,DC=example,DC=com)\n"
	    "t.conf:6: ldap password file must be an absolute path\n"
	    "t.conf:7: ldap ca file '/nonexistent.pem': No such file or directory\n");
	snprintf(extra, sizeof extra, "ldap ca file = %s\n", tmpdir);
	assert_int_equal(load_text(ldap_conf("ldaps://dc1", pw, extra), &cfg, &errs), 1);
	assert_non_null(strstr(errs, "' is not a file (PEM certificates)"));
	free(errs);
	config_free(&cfg);

	/* A password file that group or others may read is refused, with the fix. */
	pw = ldap_secret(0644);
	assert_int_equal(load_text(ldap_conf("ldaps://dc1", pw, ""), &cfg, &errs), 1);
	if (asprintf(&want, "t.conf:6: ldap password file %s is open to group or others (mode 644): it holds a "
	    "password: chmod 600 %s\n", pw, pw) < 0)
		fail();
	assert_string_equal(errs, want);
	free(want);
	free(errs);
	config_free(&cfg);
	pw = ldap_secret(0600);
	write_file("ldap.secret", "\n", 1);
	assert_int_equal(load_text(ldap_conf("ldaps://dc1", pw, ""), &cfg, &errs), 1);
	assert_non_null(strstr(errs, "is empty: a bind without a password is anonymous"));
	free(errs);
	config_free(&cfg);
	unlink("ldap.secret");
	unlink("ca.pem");
}

static void
test_network_errors(void **state)
{
	conf_mode = 0644;
	expect_errors("[switch a]\nversion = 1\ncommunity = x\nfoo = 1\n"
	    "[switch a]\naddress = y\ncommunity = z\n"
	    "[router]\n"
	    "[switch b]\naddress = h\nversion = 3\npriv password = p\nauth protocol = SHA1\n", 9,
	    "t.conf:2: invalid SNMP version '1' (2c or 3)\n"
	    "t.conf:4: unknown key 'foo' in [switch a]\n"
	    "t.conf:1: [switch a]: address is required\n"
	    "t.conf:5: duplicate [switch]/[router] name 'a'\n"
	    "t.conf:8: [router] needs a name: [router NAME]\n"
	    "t.conf:9: [switch b]: version 3 needs a user\n"
	    "t.conf:9: [switch b]: auth protocol must be one of MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512\n"
	    "t.conf:9: [switch b]: a priv password needs an auth password (authPriv)\n"
	    "t.conf: holds SNMP or SMTP credentials but is readable by others (mode 644): chmod 600 t.conf\n");
	conf_mode = 0600;
	expect_errors("[notify]\nsmtp url = http://m\nwebhook = ftp://x\nwebhook format = xml\n"
	    "[respond]\ndry run = everything\nsmb ports = 445, smb\n", 6,
	    "t.conf:2: smtp url must start with smtp:// or smtps://\n"
	    "t.conf:2: smtp url is set but mail to is empty\n"
	    "t.conf:3: webhook URLs must start with http:// or https://\n"
	    "t.conf:4: webhook format must be json, slack or teams\n"
	    "t.conf:7: smb ports must be TCP port numbers\n"
	    "t.conf:6: dry run: unknown responder 'everything' (deny_writer, lock_account, kill_session, "
	    "block_ip, port_down, snapshot, notify_mail, notify_webhook or all)\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_protected_groups),
		cmocka_unit_test(test_ldap_keys),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_full_valid),
		cmocka_unit_test(test_sections_reopen),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_cannot_open),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_case_and_blanks),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_binary_lines),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_samba_tool),
		cmocka_unit_test(test_protected),
		cmocka_unit_test(test_resolve_auto),
		cmocka_unit_test(test_resolve_section_wins),
		cmocka_unit_test(test_resolve_named),
		cmocka_unit_test(test_resolve_missing),
		cmocka_unit_test(test_resolve_sections_only),
		cmocka_unit_test(test_resolve_no_disk_share),
		cmocka_unit_test(test_resolve_testparm_fails),
		cmocka_unit_test(test_resolve_testparm_warns),
		cmocka_unit_test(test_snapshot_keys),
		cmocka_unit_test(test_snapshot_errors),
		cmocka_unit_test(test_network_keys),
		cmocka_unit_test(test_network_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
