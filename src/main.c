/* The command line: `sharewarden [-c FILE] COMMAND [ARGS]`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "canary.h"
#include "config.h"
#include "daemon.h"
#include "detect.h"
#include "fleet.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "notify.h"
#include "respond.h"
#include "replicate.h"
#include "restore.h"
#include "rules.h"
#include "snapshot.h"
#include "snapsched.h"
#include "util.h"

#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2

static const char *config_path = SW_DEFAULT_CONFIG;
static int config_explicit;

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct command *find_command(const char *name);

static int
usage_error(const struct command *c, const char *msg)
{
	if (msg)
		fprintf(stderr, "sharewarden %s: %s\n", c->name, msg);
	fprintf(stderr, "usage: sharewarden [-c FILE] %s %s\n", c->name, c->usage);
	return EXIT_USAGE;
}

static int
wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static void
print_help(const struct command *c)
{
	printf("usage: sharewarden [-c FILE] %s %s\n\n%s\n", c->name, c->usage, c->help);
}

/*
 * Loads the configuration. A missing default file is fine for commands that
 * only read (they use the defaults); an explicit -c must exist. Returns 0, or
 * EXIT_USAGE after printing the errors.
 */
static int
load_config(struct config *cfg, int need_file, int need_shares)
{
	int errs;

	config_defaults(cfg);
	if (!need_file && !config_explicit && access(config_path, F_OK) != 0)
		return 0;
	errs = config_load(config_path, cfg, stderr);
	if (errs == 0 && need_shares)
		errs = config_resolve_shares(cfg, stderr);
	if (errs) {
		fprintf(stderr, "sharewarden: %d error%s in %s; `sharewarden check` lists them\n", errs,
		    errs == 1 ? "" : "s", config_path);
		config_free(cfg);
		return EXIT_USAGE;
	}
	return 0;
}

static struct journal *
open_journal(const struct config *cfg, int readonly)
{
	char err[512];
	struct journal *j = journal_open(cfg->journal, readonly, err, sizeof err);

	if (j == NULL)
		fprintf(stderr, "sharewarden: %s\n", err);
	return j;
}

static int
parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v <= 0)
		return -1;
	*id = v;
	return 0;
}

static int
require_root(const char *what)
{
	if (geteuid() != 0) {
		fprintf(stderr, "sharewarden %s: must be run as root (it changes accounts and the journal)\n", what);
		return EXIT_USAGE;
	}
	return 0;
}

static int
cmd_run(int argc, char **argv)
{
	const struct command *c = find_command("run");
	struct config cfg;
	int fg = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--foreground") == 0)
			fg = 1;
		else
			return usage_error(c, "unexpected argument");
	}
	if ((rc = load_config(&cfg, 1, 1)) != 0)
		return rc;
	rc = daemon_run(&cfg, fg);
	config_free(&cfg);
	return rc;
}

static int
cmd_check(int argc, char **argv)
{
	const struct command *c = find_command("check");
	const struct account_dir *dir;
	struct config cfg;
	int errs;

	if (argc > 1)
		return usage_error(c, "unexpected argument");
	config_defaults(&cfg);
	errs = config_load(config_path, &cfg, stdout);
	if (errs == 0)
		errs = config_resolve_shares(&cfg, stdout);
	if (errs) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	for (const struct share *s = cfg.shares; s; s = s->next) {
		const struct snap_backend *b;
		char why[512], root[4096], name[SNAP_NAME_MAX];

		printf("share %s: %s\n", s->name, s->path);
		if ((b = snapshot_backend(s, why, sizeof why)) == NULL) {
			printf("  snapshots: none (%s): restore will have nothing to restore from\n", why);
			continue;
		}
		snapshot_name(s, now_ms(), name, sizeof name);
		if (b->root(s, name, root, sizeof root, why, sizeof why) != 0)
			printf("  snapshots: %s: %s\n", b->name, why);
		else
			printf("  snapshots: %s (one taken now would hold the share at %s)\n", b->name, root);
	}
	if ((dir = account_dir(&cfg)) != NULL && cfg.lock_account) {
		char what[1024], why[512];

		if (dir->check(&cfg, what, sizeof what, why, sizeof why) != 0) {
			printf("accounts: %s: %s: the lock will fail\n", dir->name, why);
			config_free(&cfg);
			return EXIT_FAILED;
		}
		printf("accounts: %s: %s\n", dir->name, what);
	}
	if (cfg.monitor_only)
		printf("monitor only: incidents are reported, nothing is acted on\n");
	printf("configuration OK\n");
	config_free(&cfg);
	return EXIT_OK;
}

/* One share's clean snapshot from the daemon's start (snapsched_initial), as `status` shows it. */
static void
status_start_snapshot(const char *key, int64_t v, void *arg)
{
	const char *share = key + strlen(SNAPSCHED_START_KEY);
	char t[32];

	(void)arg;
	fputs("share ", stdout);
	fput_escaped(stdout, share, strlen(share));
	if (v > 0)
		printf(": clean snapshot from %s\n", fmt_time(v, t));
	else if (v == 0)
		printf(": NO clean snapshot: none could be taken at start (the daemon's log says why; "
		    "`sharewarden snapshot` tries again)\n");
	else
		printf(": NO clean snapshot: the share has no snapshot backend (see `sharewarden check`)\n");
}

#define STATUS_NOTICES	3

static int
cmd_status(int argc, char **argv)
{
	const struct command *c = find_command("status");
	struct config cfg;
	struct journal *j;
	struct incident *list = NULL;
	size_t n = 0, active = 0;
	int64_t pid = 0, hb = 0, started = 0, v;
	static const char *keys[] = { "lines", "events", "malformed", "skipped", "rotations", "kernel_events",
	    "kernel_overflows", "kernel_unattributed", "content_analyzed", "content_dropped", "canaries", "denied_opens",
	    "actors", "actors_evicted", "journal_through" };
	char t[32];
	int running, rc;

	if (argc > 1)
		return usage_error(c, "unexpected argument");
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	if ((j = open_journal(&cfg, 1)) == NULL) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	journal_stat_get(j, "pid", &pid);
	journal_stat_get(j, "heartbeat", &hb);
	journal_stat_get(j, "started_at", &started);
	running = pid > 0 && kill((pid_t)pid, 0) == 0 && now_ms() - hb < 5000;
	if (running)
		printf("daemon running (pid %lld, since %s)\n", (long long)pid, fmt_time(started, t));
	else
		printf("daemon not running (last heartbeat %s)\n", hb ? fmt_time(hb, t) : "never");
	for (size_t i = 0; i < nitems(keys); i++) {
		v = 0;
		journal_stat_get(j, keys[i], &v);
		if (v < 0)	/* -1: that part is off */
			continue;
		printf("%s %lld", keys[i], (long long)v);
		if (strcmp(keys[i], "kernel_overflows") == 0 && v > 0) {
			int64_t last = 0;

			journal_stat_get(j, "last_overflow_at", &last);
			if (last > 0)
				printf(" (last %s)", fmt_time(last, t));
		}
		putchar('\n');
	}
	{
		struct notice *no = NULL;
		size_t nn = 0;
		char t2[32];

		/* The daemon's notices (kernel events lost to queue overflows), the latest first. */
		if (journal_notice_list(j, 0, STATUS_NOTICES, &no, &nn) == 0)
			for (size_t i = 0; i < nn; i++) {
				printf("%s %s to %s: ", no[i].kind, fmt_time(no[i].first_at, t),
				    fmt_time(no[i].last_at, t2));
				fput_escaped(stdout, no[i].detail, strlen(no[i].detail));
				putchar('\n');
			}
		free(no);
	}
	if (running)
		journal_stat_each(j, SNAPSCHED_START_KEY, status_start_snapshot, NULL);
	if (journal_incident_list(j, &list, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(list[i].state, INC_RELEASED) != 0)
				active++;
		printf("incidents %zu (%zu not released)\n", n, active);
		free(list);
	}
	{
		int isolated = 0;

		if (journal_isolations_since(j, now_ms() - 3600000, &isolated) == 0)
			printf("isolations in the last hour %d of %d%s\n", isolated, cfg.max_isolations,
			    isolated >= cfg.max_isolations ? " (circuit breaker open: new incidents are only "
			    "reported)" : "");
	}
	if (cfg.monitor_only)
		printf("monitor only\n");
	journal_close(j);
	config_free(&cfg);
	return running ? EXIT_OK : EXIT_FAILED;
}

static int
cmd_incidents(int argc, char **argv)
{
	const struct command *c = find_command("incidents");
	struct config cfg;
	struct journal *j;
	struct incident *list = NULL;
	size_t n = 0;
	int json = 0, rc;
	char t[32];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return usage_error(c, "unexpected argument");
	}
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	if ((j = open_journal(&cfg, 1)) == NULL || journal_incident_list(j, &list, &n) != 0) {
		journal_close(j);
		config_free(&cfg);
		return EXIT_FAILED;
	}
	if (json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++) {
			json_t *o = incident_json(j, list[i].id);

			if (o)
				json_array_append_new(arr, o);
		}
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	} else if (n == 0) {
		printf("no incidents\n");
	} else {
		printf("%-5s %-10s %-24s %-16s %-16s %-17s %s\n", "ID", "STATE", "DETECTED", "USER", "IP",
		    "MAC", "SCORE");
		for (size_t i = 0; i < n; i++) {
			printf("%-5lld %-10s %-24s ", (long long)list[i].id, list[i].state,
			    fmt_time(list[i].detected_at, t));
			fput_escaped(stdout, list[i].user, strlen(list[i].user));
			printf("%*s %-16s %-17s %.1f%s\n", (int)(strlen(list[i].user) < 16 ? 16 - strlen(list[i].user) : 0),
			    "", list[i].ip, list[i].mac[0] ? list[i].mac : "-", list[i].score,
			    list[i].monitor ? " (report only)" : "");
		}
	}
	free(list);
	journal_close(j);
	config_free(&cfg);
	return EXIT_OK;
}

static int
cmd_incident(int argc, char **argv)
{
	const struct command *c = find_command("incident");
	struct config cfg;
	struct journal *j;
	int json = 0, rc = EXIT_OK;
	int64_t id = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (id == 0 && parse_id(argv[i], &id) == 0)
			;
		else
			return usage_error(c, "expected an incident number");
	}
	if (id == 0)
		return usage_error(c, "which incident? (see `sharewarden incidents`)");
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	if ((j = open_journal(&cfg, 1)) == NULL) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	if (json) {
		json_t *o = incident_json(j, id);

		if (o == NULL) {
			fprintf(stderr, "sharewarden: no incident %lld\n", (long long)id);
			rc = EXIT_FAILED;
		} else {
			json_dumpf(o, stdout, JSON_INDENT(2));
			putchar('\n');
			json_decref(o);
		}
	} else if (incident_print(j, id, stdout) != 0) {
		fprintf(stderr, "sharewarden: no incident %lld\n", (long long)id);
		rc = EXIT_FAILED;
	}
	journal_close(j);
	config_free(&cfg);
	return rc;
}

static int
cmd_release(int argc, char **argv)
{
	const struct command *c = find_command("release");
	struct config cfg;
	struct journal *j;
	struct incident inc;
	int64_t id;
	int rc;

	if (argc != 2 || parse_id(argv[1], &id) != 0)
		return usage_error(c, "expected one incident number");
	if ((rc = require_root("release")) != 0)
		return rc;
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	if ((j = open_journal(&cfg, 0)) == NULL) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	if (journal_incident_get(j, id, &inc) != 0) {
		fprintf(stderr, "sharewarden: no incident %lld (see `sharewarden incidents`)\n", (long long)id);
		rc = EXIT_FAILED;
	} else
		rc = respond_release(&cfg, j, id, stdout) == 0 ? EXIT_OK : EXIT_FAILED;
	journal_close(j);
	config_free(&cfg);
	return rc;
}

/* Prints lines, each indented as smb.conf shows share parameters. */
static void
print_indented(const char *text)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);

		printf("   %.*s\n", (int)n, text);
		text += n + (nl != NULL);
	}
}

static int
cmd_samba_conf(int argc, char **argv)
{
	const struct command *c = find_command("samba-conf");
	struct config cfg;
	int rc, have_shares;

	if (argc > 1)
		return usage_error(c, "unexpected argument");
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	have_shares = (config_explicit || access(config_path, F_OK) == 0) &&
	    config_resolve_shares(&cfg, stderr) == 0;
	printf("# smb.conf lines for sharewarden (Samba 4.17 and later).\n");
	printf("# Keep any vfs objects a share already has, and add full_audit (and shadow_copy2) to them.\n\n");
	printf("[global]\n");
	if (cfg.audit_log[0]) {
		printf("   log level = 0 full_audit:1@%s\n", cfg.audit_log);
		printf("   debug prefix timestamp = yes\n");
		printf("   debug pid = yes\n");
		printf("   max log size = 0\n\n");
	} else
		printf("   # audit lines go to syslog (full_audit:syslog = yes below)\n\n");
	for (const struct share *s = have_shares ? cfg.shares : NULL; ; s = s->next) {
		char snapconf[4096];

		printf("[%s]\n", s ? s->name : "SHARE");
		if (s && snapshot_samba_conf(s, snapconf, sizeof snapconf) == 0)
			print_indented(snapconf);
		else
			printf("   vfs objects = full_audit\n");
		printf("   full_audit:prefix = %%u|%%I|%%m|%%S|%%d\n");
		printf("   full_audit:success = connect disconnect create_file openat renameat unlinkat mkdirat "
		    "pwrite_send pwrite_recv fntimes\n");
		printf("   full_audit:failure = connect create_file openat renameat unlinkat mkdirat\n");
		if (cfg.audit_log[0])
			printf("   full_audit:syslog = false\n");
		else
			printf("   full_audit:syslog = true\n   full_audit:facility = LOCAL5\n"
			    "   full_audit:priority = NOTICE\n");
		if (s == NULL || s->next == NULL)
			break;
		printf("\n");
	}
	config_free(&cfg);
	return EXIT_OK;
}

static int
cmd_import_patterns(int argc, char **argv)
{
	const struct command *c = find_command("import-patterns");
	struct config cfg;
	struct rules *r;
	struct rules_import_stats st;
	const char *file = NULL;
	int report = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--report") == 0)
			report = 1;
		else if (file == NULL)
			file = argv[i];
		else
			return usage_error(c, "one pattern file at a time");
	}
	if (file == NULL)
		return usage_error(c, "which pattern file?");
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	r = rules_new();
	memset(&st, 0, sizeof st);
	if (rules_import(r, file, &st, report ? stdout : NULL) != 0) {
		fprintf(stderr, "sharewarden: cannot read %s: %s\n", file, strerror(errno));
		rules_free(r);
		config_free(&cfg);
		return EXIT_FAILED;
	}
	printf("%zu patterns read: %zu extensions, %zu note names (%zu weak), %zu wildcard patterns; "
	    "%zu refused as too broad, %zu duplicates\n", st.lines, st.extensions, st.notes + st.weak_notes,
	    st.weak_notes, st.wildcards, st.refused, st.duplicates);
	if (rules_save(r, cfg.patterns) != 0) {
		fprintf(stderr, "sharewarden: cannot write %s: %s\n", cfg.patterns, strerror(errno));
		rc = EXIT_FAILED;
	} else
		printf("saved to %s; the daemon loads it at start\n", cfg.patterns);
	rules_free(r);
	config_free(&cfg);
	return rc;
}

/* Replay: the daemon's parser and detection over a file, acting on nothing. */
struct replay_incident {
	int64_t id;
	char user[128], ip[64], host[128];
	double score;
	int64_t first_event_at, detected_at;
	json_t *signals;
	size_t later_signals;
};

struct replay {
	struct detect *det;
	struct replay_incident *inc;
	size_t ninc;
	int json;
};

static json_t *
json_bytes(const char *p, size_t n)
{
	char *s = utf8_sanitize(p, n, NULL);
	json_t *v = json_string(s);

	free(s);
	return v;
}

static void
replay_event(const struct sw_event *ev, void *arg)
{
	struct replay *rp = arg;
	struct detect_verdict v;
	struct replay_incident *ri;
	struct actor *a;
	size_t n;

	detect_feed(rp->det, ev, &v);
	if ((a = v.actor) == NULL || v.nsig == 0)
		return;
	if (a->incident_id > 0) {
		rp->inc[a->incident_id - 1].later_signals += (size_t)v.nsig;
		return;
	}
	if (!v.crossed)
		return;
	rp->inc = xrealloc(rp->inc, (rp->ninc + 1) * sizeof *rp->inc);
	ri = &rp->inc[rp->ninc++];
	memset(ri, 0, sizeof *ri);
	ri->id = (int64_t)rp->ninc;
	a->incident_id = ri->id;
	snprintf(ri->user, sizeof ri->user, "%s", a->user);
	snprintf(ri->ip, sizeof ri->ip, "%s", a->ip);
	snprintf(ri->host, sizeof ri->host, "%s", a->host);
	ri->score = a->score;
	ri->first_event_at = detect_first_event_at(rp->det, a);
	ri->detected_at = ev->at_ms;
	ri->signals = json_array();
	n = a->nsig < ACTOR_SIGNALS ? a->nsig : ACTOR_SIGNALS;
	for (size_t k = 0; k < n; k++) {
		/* Oldest first: the ring starts at nsig % ACTOR_SIGNALS once full. */
		size_t i = a->nsig > ACTOR_SIGNALS ? (a->nsig + k) % ACTOR_SIGNALS : k;
		const struct actor_signal *s = &a->sig[i];
		char t[32];

		json_array_append_new(ri->signals, json_pack("{s:s, s:o, s:s, s:f, s:s}", "kind", s->kind,
		    "path", json_bytes(s->path, s->pathlen), "at", fmt_time(s->at, t), "weight", s->weight,
		    "detail", s->detail));
	}
}

static int
cmd_replay(int argc, char **argv)
{
	const struct command *c = find_command("replay");
	struct config cfg;
	struct replay rp;
	struct rules *rules;
	struct audit_parser *ap;
	struct audit_stats st;
	struct timespec t0, t1;
	const char *file = NULL;
	double secs;
	int fd, rc;
	char t[32];

	memset(&rp, 0, sizeof rp);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			rp.json = 1;
		else if (file == NULL)
			file = argv[i];
		else
			return usage_error(c, "one file at a time");
	}
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	if (file == NULL || strcmp(file, "-") == 0)
		fd = 0;
	else if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "sharewarden: cannot open %s: %s\n", file, strerror(errno));
		config_free(&cfg);
		return EXIT_FAILED;
	}
	rules = rules_new();
	if (cfg.patterns[0] && access(cfg.patterns, F_OK) == 0 && rules_load(rules, cfg.patterns) != 0)
		fprintf(stderr, "sharewarden: %s not loaded, using the built-in list\n", cfg.patterns);
	rp.det = detect_new(&cfg.detect, rules);
	detect_set_allow(rp.det, &cfg);
	ap = audit_parser_new();
	/* Shares anchor the paths of renames; read them from the configuration when it names any. */
	if ((config_explicit || access(config_path, F_OK) == 0) && config_resolve_shares(&cfg, stderr) == 0)
		for (const struct share *s = cfg.shares; s; s = s->next)
			audit_parser_add_share(ap, s->name, s->path);
	memset(&st, 0, sizeof st);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = audit_feed_fd(ap, fd, replay_event, &rp, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rc != 0)
		fprintf(stderr, "sharewarden: read error: %s\n", strerror(errno));
	if (rp.json) {
		json_t *out = json_object(), *arr = json_array();

		for (size_t i = 0; i < rp.ninc; i++) {
			struct replay_incident *ri = &rp.inc[i];
			char t2[32];

			json_array_append_new(arr, json_pack("{s:I, s:{s:o, s:o, s:o}, s:f, s:s, s:s, s:O, s:I}",
			    "id", (json_int_t)ri->id, "actor", "user", json_bytes(ri->user, strlen(ri->user)),
			    "ip", json_bytes(ri->ip, strlen(ri->ip)), "host", json_bytes(ri->host, strlen(ri->host)),
			    "score", ri->score, "first_event_at", fmt_time(ri->first_event_at, t),
			    "detected_at", fmt_time(ri->detected_at, t2), "signals", ri->signals,
			    "later_signals", (json_int_t)ri->later_signals));
		}
		json_object_set_new(out, "incidents", arr);
		json_object_set_new(out, "lines", json_integer((json_int_t)st.lines));
		json_object_set_new(out, "events", json_integer((json_int_t)st.events));
		json_object_set_new(out, "malformed", json_integer((json_int_t)st.malformed));
		json_object_set_new(out, "skipped", json_integer((json_int_t)st.skipped));
		json_object_set_new(out, "seconds", json_real(secs));
		json_object_set_new(out, "lines_per_second", json_real(secs > 0 ? (double)st.lines / secs : 0));
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(out);
	} else {
		for (size_t i = 0; i < rp.ninc; i++) {
			struct replay_incident *ri = &rp.inc[i];
			size_t k;
			json_t *s;

			printf("incident %lld: user ", (long long)ri->id);
			fput_escaped(stdout, ri->user, strlen(ri->user));
			printf(" ip %s host ", ri->ip);
			fput_escaped(stdout, ri->host, strlen(ri->host));
			printf(" score %.1f\n", ri->score);
			printf("  first event %s\n", fmt_time(ri->first_event_at, t));
			printf("  detected    %s\n", fmt_time(ri->detected_at, t));
			json_array_foreach(ri->signals, k, s) {
				const char *path = json_string_value(json_object_get(s, "path"));

				printf("  signal %s %.1f ", json_string_value(json_object_get(s, "kind")),
				    json_real_value(json_object_get(s, "weight")));
				fput_escaped(stdout, path, strlen(path));
				printf(" (%s)\n", json_string_value(json_object_get(s, "detail")));
			}
			if (ri->later_signals)
				printf("  %zu more signals after detection\n", ri->later_signals);
		}
		printf("%zu incident%s\n", rp.ninc, rp.ninc == 1 ? "" : "s");
		fprintf(stderr, "replay: %llu lines, %llu events, %llu malformed, %llu skipped in %.3f s: "
		    "%.0f lines/s\n", (unsigned long long)st.lines, (unsigned long long)st.events,
		    (unsigned long long)st.malformed, (unsigned long long)st.skipped, secs,
		    secs > 0 ? (double)st.lines / secs : 0.0);
	}
	for (size_t i = 0; i < rp.ninc; i++)
		json_decref(rp.inc[i].signals);
	free(rp.inc);
	if (fd > 0)
		close(fd);
	audit_parser_free(ap);
	detect_free(rp.det);
	rules_free(rules);
	config_free(&cfg);
	return rc == 0 ? EXIT_OK : EXIT_FAILED;
}

static int
cmd_explain(int argc, char **argv)
{
	const struct command *c = find_command("explain");
	struct config cfg;
	struct journal *j;
	struct incident inc;
	struct signal_rec *sig = NULL;
	size_t n = 0;
	int64_t id;
	double sum = 0;
	int rc, crossed = 0;
	char t[32];

	if (argc != 2 || parse_id(argv[1], &id) != 0)
		return usage_error(c, "expected one incident number");
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	if ((j = open_journal(&cfg, 1)) == NULL) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	if (journal_incident_get(j, id, &inc) != 0 || journal_signal_list(j, id, &sig, &n) != 0) {
		fprintf(stderr, "sharewarden: no incident %lld (see `sharewarden incidents`)\n", (long long)id);
		journal_close(j);
		config_free(&cfg);
		return EXIT_FAILED;
	}
	printf("incident %lld: ", (long long)id);
	fput_escaped(stdout, inc.user, strlen(inc.user));
	printf(" from %s\n", inc.ip);
	printf("It opens when one actor's signals add up to %.1f (incident score) within %lld s "
	    "(content signals: %lld s).\n", cfg.detect.incident_score, (long long)(cfg.detect.window_ms / 1000),
	    (long long)(cfg.detect.slow_window_ms / 1000));
	printf("Signals, oldest first (weight, running total):\n");
	for (size_t i = 0; i < n; i++) {
		sum += sig[i].weight;
		printf("  %s  %-18s %6.1f %8.1f  ", fmt_time(sig[i].at, t), sig[i].kind, sig[i].weight, sum);
		fput_escaped(stdout, sig[i].path, strlen(sig[i].path));
		if (sig[i].detail[0]) {
			printf("  (");
			fput_escaped(stdout, sig[i].detail, strlen(sig[i].detail));
			printf(")");
		}
		if (!crossed && sum >= cfg.detect.incident_score) {
			printf("  <- incident score reached");
			crossed = 1;
		}
		printf("\n");
	}
	printf("Score when the incident opened: %.1f. Weights are set in [detect] of %s.\n", inc.score, config_path);
	if (inc.monitor)
		printf("Report only: monitor mode or a protected account; nothing was acted on.\n");
	signal_rec_free(sig, n);
	journal_close(j);
	config_free(&cfg);
	return EXIT_OK;
}

static int
cmd_canaries(int argc, char **argv)
{
	const struct command *c = find_command("canaries");
	struct config cfg;
	int seed = 0, remove = 0, rc, bad;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0)
			seed = 1;
		else if (strcmp(argv[i], "--remove") == 0)
			remove = 1;
		else
			return usage_error(c, "unexpected argument");
	}
	if ((seed || remove) && (rc = require_root("canaries")) != 0)
		return rc;
	if ((rc = load_config(&cfg, 0, 1)) != 0)
		return rc;
	if (remove) {
		rc = canary_remove_all(&cfg, stdout) < 0 ? EXIT_FAILED : EXIT_OK;
		config_free(&cfg);
		return rc;
	}
	if (seed && canary_seed(&cfg, stdout) < 0) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	bad = canary_list(&cfg, stdout);
	config_free(&cfg);
	return bad == 0 ? EXIT_OK : EXIT_FAILED;
}

/*
 * restore --from-replica: every share without a local snapshot taken before
 * the incident began gets the replica's newest such snapshot back first.
 */
static int
restore_fetch_replicas(const struct config *cfg, struct journal *j, int64_t id, int dry_run)
{
	struct incident inc;
	int64_t before;

	if (cfg->repl.target[0] == '\0') {
		fprintf(stderr, "sharewarden restore: --from-replica needs [replication] target (the replica)\n");
		return EXIT_USAGE;
	}
	if (journal_incident_get(j, id, &inc) != 0) {
		fprintf(stderr, "sharewarden restore: no incident %lld\n", (long long)id);
		return EXIT_USAGE;
	}
	before = (inc.first_event_at > 0 ? inc.first_event_at : inc.detected_at) - cfg->restore_lookback_ms;
	for (const struct share *sh = cfg->shares; sh; sh = sh->next) {
		struct snap_info *list = NULL;
		size_t n = 0;
		char err[1024], name[SNAP_NAME_MAX];
		int have;

		if (snapshot_backend(sh, err, sizeof err) == NULL)
			continue;
		if (snapshot_list(sh, &list, &n, err, sizeof err) != 0) {
			fprintf(stderr, "sharewarden restore: share %s: %s\n", sh->name, err);
			return EXIT_FAILED;
		}
		have = snapshot_before(list, n, before) != NULL;
		if (have) {
			printf("%s: clean snapshot %s is here: the replica is not needed\n", sh->name,
			    snapshot_before(list, n, before)->name);
			free(list);
			continue;
		}
		free(list);
		if (dry_run) {
			printf("%s: no local snapshot from before the attack: would bring one back from %s\n",
			    sh->name, cfg->repl.target);
			continue;
		}
		if (replica_fetch(cfg, j, sh, before, id, name, sizeof name, err, sizeof err) != 0) {
			fprintf(stderr, "sharewarden restore: share %s: from the replica: %s\n", sh->name, err);
			return EXIT_FAILED;
		}
		printf("%s: snapshot %s brought back from the replica on %s\n", sh->name, name, cfg->repl.target);
	}
	return 0;
}

static int
cmd_restore(int argc, char **argv)
{
	const struct command *c = find_command("restore");
	struct restore_opts o;
	struct incident inc;
	struct config cfg;
	struct journal *j;
	int64_t id = 0;
	int rc, have_id = 0, was_restored, from_replica = 0;

	memset(&o, 0, sizeof o);
	o.progress = isatty(STDERR_FILENO);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0)
			o.dry_run = 1;
		else if (strcmp(argv[i], "--force") == 0)
			o.force = 1;
		else if (strcmp(argv[i], "--progress") == 0)
			o.progress = 1;
		else if (strcmp(argv[i], "--from-replica") == 0)
			from_replica = 1;
		else if (!have_id && parse_id(argv[i], &id) == 0)
			have_id = 1;
		else
			return usage_error(c, "expected one incident number and options");
	}
	if (!have_id)
		return usage_error(c, "expected one incident number");
	if (!o.dry_run && (rc = require_root("restore")) != 0)
		return rc;
	if ((rc = load_config(&cfg, 0, 1)) != 0)
		return rc;
	if ((j = open_journal(&cfg, o.dry_run)) == NULL) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	was_restored = journal_incident_get(j, id, &inc) == 0 && strcmp(inc.state, INC_RESTORED) == 0;
	if (from_replica && (rc = restore_fetch_replicas(&cfg, j, id, o.dry_run)) != 0) {
		journal_close(j);
		config_free(&cfg);
		return rc;
	}
	rc = restore_run(&cfg, j, id, &o, stdout);
	/* Once, when the incident became restored; the daemon's sender delivers it. */
	if (!o.dry_run && rc == RESTORE_EXIT_OK && !was_restored &&
	    journal_incident_get(j, id, &inc) == 0 && strcmp(inc.state, INC_RESTORED) == 0 &&
	    notify_enqueue(&cfg, j, id, NOTIFY_RESTORED) < 0)
		fprintf(stderr, "sharewarden: the 'restored' message could not be queued\n");
	journal_close(j);
	config_free(&cfg);
	return rc;
}

/* The shares named on the command line (all when none), or NULL after an error. */
static int
pick_share(const struct config *cfg, const char *name, const struct share **out)
{
	*out = NULL;
	if (name == NULL)
		return 0;
	for (const struct share *s = cfg->shares; s; s = s->next) {
		if (strcasecmp(s->name, name) == 0) {
			*out = s;
			return 0;
		}
	}
	fprintf(stderr, "sharewarden: no protected share '");
	fput_escaped(stderr, name, strlen(name));
	fprintf(stderr, "' (see `sharewarden check`)\n");
	return -1;
}

static int
cmd_snapshot(int argc, char **argv)
{
	const struct command *c = find_command("snapshot");
	const struct share *only;
	struct config cfg;
	struct journal *j;
	int rc, failed = 0, taken = 0;

	if (argc > 2)
		return usage_error(c, "expected at most one share name");
	if ((rc = require_root("snapshot")) != 0)
		return rc;
	if ((rc = load_config(&cfg, 0, 1)) != 0)
		return rc;
	if (pick_share(&cfg, argc == 2 ? argv[1] : NULL, &only) != 0) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if ((j = open_journal(&cfg, 0)) == NULL) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	for (const struct share *s = cfg.shares; s; s = s->next) {
		const struct snap_backend *b;
		struct snap_info si;
		char err[512];

		if (only && s != only)
			continue;
		if ((b = snapshot_backend(s, err, sizeof err)) == NULL) {
			printf("%s: no snapshot: %s\n", s->name, err);
			if (only)
				failed++;
			continue;
		}
		if ((rc = snapshot_take_recorded(s, j, "manual", 0, &si, err, sizeof err)) != 0) {
			fprintf(stderr, "sharewarden: share %s: %s\n", s->name, err);
			if (rc < 0) {
				failed++;
				continue;
			}
		}
		printf("%s: %s (%s)\n", s->name, si.name, b->name);
		taken++;
	}
	journal_close(j);
	config_free(&cfg);
	if (failed)
		return EXIT_FAILED;
	if (taken == 0) {
		fprintf(stderr, "sharewarden: no share has snapshots configured ([snapshots] backend)\n");
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static int
cmd_snapshots(int argc, char **argv)
{
	const struct command *c = find_command("snapshots");
	const struct share *only;
	struct snap_rec *recs = NULL;
	size_t nrecs = 0;
	struct config cfg;
	struct journal *j;
	int rc, failed = 0;

	if (argc > 2)
		return usage_error(c, "expected at most one share name");
	if ((rc = load_config(&cfg, 0, 1)) != 0)
		return rc;
	if (pick_share(&cfg, argc == 2 ? argv[1] : NULL, &only) != 0) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	/* Who took which snapshot comes from the journal when there is one. */
	if (access(cfg.journal, F_OK) == 0 && (j = open_journal(&cfg, 1)) != NULL) {
		journal_snapshot_list(j, NULL, &recs, &nrecs);
		journal_close(j);
	}
	for (const struct share *s = cfg.shares; s; s = s->next) {
		const struct snap_backend *b;
		struct snap_info *list = NULL;
		size_t n = 0;
		char err[512], t[40], root[4096];

		if (only && s != only)
			continue;
		if ((b = snapshot_backend(s, err, sizeof err)) == NULL) {
			printf("%s: no snapshots: %s\n", s->name, err);
			continue;
		}
		if (snapshot_list(s, &list, &n, err, sizeof err) != 0) {
			fprintf(stderr, "sharewarden: share %s: %s\n", s->name, err);
			failed++;
			continue;
		}
		printf("%s: %zu snapshot%s (%s)\n", s->name, n, n == 1 ? "" : "s", b->name);
		for (size_t i = n; i-- > 0; ) {
			const char *why = "not sharewarden's";

			for (size_t k = 0; k < nrecs; k++) {
				if (strcmp(recs[k].share, s->name) == 0 && strcmp(recs[k].name, list[i].name) == 0 &&
				    recs[k].removed_at == 0) {
					why = recs[k].reason;
					break;
				}
			}
			if (b->root(s, list[i].name, root, sizeof root, err, sizeof err) != 0)
				snprintf(root, sizeof root, "?");
			printf("  %-26s %s  %-10s %s\n", list[i].name, fmt_time(list[i].taken_ms, t), why, root);
		}
		free(list);
	}
	free(recs);
	config_free(&cfg);
	return failed ? EXIT_FAILED : EXIT_OK;
}

static int
cmd_ticket(int argc, char **argv)
{
	const struct command *c = find_command("ticket");
	struct incident inc;
	struct config cfg;
	struct journal *j;
	int64_t id;
	char *text;
	int rc;

	if (argc != 2 || parse_id(argv[1], &id) != 0)
		return usage_error(c, "expected one incident number");
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	if ((j = open_journal(&cfg, 1)) == NULL) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	if (journal_incident_get(j, id, &inc) != 0) {
		fprintf(stderr, "sharewarden: no incident %lld (see `sharewarden incidents`)\n", (long long)id);
		rc = EXIT_FAILED;
	} else if ((text = notify_ticket(&cfg, j, id, strcmp(inc.state, INC_RESTORED) == 0 ? NOTIFY_RESTORED :
	    strcmp(inc.state, INC_OPEN) == 0 ? NOTIFY_DETECTED : NOTIFY_CONTAINED)) == NULL) {
		fprintf(stderr, "sharewarden: the ticket of incident %lld cannot be built\n", (long long)id);
		rc = EXIT_FAILED;
	} else {
		fputs(text, stdout);
		free(text);
		rc = EXIT_OK;
	}
	journal_close(j);
	config_free(&cfg);
	return rc;
}

/* A server's replication lag from its last heartbeat, seconds; -1 when it replicates nothing. */
static int64_t
fleet_lag(struct journal *j, const struct fleet_server *s)
{
	char key[192];
	int64_t v = -1;

	snprintf(key, sizeof key, "%s%.63s/%.63s", FLEET_LAG_KEY, s->site, s->server);
	if (journal_stat_get(j, key, &v) != 0)
		return -1;
	return v;
}

/* A server of the fleet is silent when three heartbeats did not come. */
static int
fleet_silent(const struct config *cfg, const struct fleet_server *s, int64_t now)
{
	return now - s->last_seen > 3 * cfg->fleet.heartbeat_ms + 1000;
}

static int
cmd_fleet(int argc, char **argv)
{
	const struct command *c = find_command("fleet");
	struct fleet_server *list = NULL;
	struct config cfg;
	struct journal *j;
	size_t n = 0;
	int rc, json = 0;
	int64_t now, lag;
	char lagbuf[32];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return usage_error(c, "unknown argument");
	}
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	if (!fleet_enabled(&cfg)) {
		if (json)
			printf("{\"fleet\": false, \"servers\": []}\n");
		else
			printf("no fleet: [fleet] nats is not set, this server is on its own\n");
		config_free(&cfg);
		return EXIT_OK;
	}
	if ((j = open_journal(&cfg, 1)) == NULL) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	rc = journal_fleet_server_list(j, &list, &n);
	if (rc != 0) {
		journal_close(j);
		config_free(&cfg);
		return EXIT_FAILED;
	}
	now = now_ms();
	if (json) {
		json_t *o = json_object(), *arr = json_array();
		char t[32];

		json_object_set_new(o, "fleet", json_true());
		json_object_set_new(o, "site", json_string(cfg.fleet.site));
		json_object_set_new(o, "server", json_string(cfg.fleet.server));
		for (size_t i = 0; i < n; i++) {
			json_t *s = json_object();

			json_object_set_new(s, "site", json_string(list[i].site));
			json_object_set_new(s, "server", json_string(list[i].server));
			json_object_set_new(s, "version", json_string(list[i].version));
			json_object_set_new(s, "last_heartbeat", json_string(fmt_time(list[i].last_seen, t)));
			json_object_set_new(s, "age_ms", json_integer(now - list[i].last_seen));
			json_object_set_new(s, "silent", json_boolean(fleet_silent(&cfg, &list[i], now)));
			json_object_set_new(s, "open_incidents", json_integer(list[i].open_incidents));
			json_object_set_new(s, "unsent", json_integer(list[i].pending));
			lag = fleet_lag(j, &list[i]);
			json_object_set_new(s, "replication_lag_s", lag >= 0 ? json_integer(lag) : json_null());
			json_object_set_new(s, "detail", json_string(list[i].detail));
			json_array_append_new(arr, s);
		}
		json_object_set_new(o, "servers", arr);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		printf("fleet: site %s, server %s, %zu NATS server%s, stream %s\n", cfg.fleet.site, cfg.fleet.server,
		    cfg.fleet.n_nats, cfg.fleet.n_nats == 1 ? "" : "s", cfg.fleet.stream);
		printf("%-16s %-16s %-8s %-16s %5s %7s %11s  %s\n", "SITE", "SERVER", "VERSION", "LAST HEARD", "OPEN",
		    "UNSENT", "REPLICATION", "STATE");
		for (size_t i = 0; i < n; i++) {
			char age[32];
			int64_t ms = now - list[i].last_seen;

			if (ms < 0)
				ms = 0;
			snprintf(age, sizeof age, "%lld.%llds ago%s", (long long)(ms / 1000),
			    (long long)(ms % 1000 / 100), fleet_silent(&cfg, &list[i], now) ? " SILENT" : "");
			lag = fleet_lag(j, &list[i]);
			if (lag >= 0)
				snprintf(lagbuf, sizeof lagbuf, "%llds", (long long)lag);
			else
				snprintf(lagbuf, sizeof lagbuf, "-");
			printf("%-16s %-16s %-8s %-16s %5lld %7lld %11s  %s\n", list[i].site, list[i].server,
			    list[i].version, age, (long long)list[i].open_incidents, (long long)list[i].pending, lagbuf,
			    list[i].detail);
		}
		if (n == 0)
			printf("(no heartbeat journaled yet: is the daemon running?)\n");
	}
	free(list);
	config_free(&cfg);
	return EXIT_OK;
}

static int
cmd_replicate(int argc, char **argv)
{
	const struct command *c = find_command("replicate");
	const struct share *only;
	struct repl_opts o = { .stop = NULL, .out = stdout };
	struct config cfg;
	struct journal *j;
	int rc;

	const char *share = NULL, *rate = NULL;
	int64_t bps = -1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bandwidth") == 0 && i + 1 < argc)
			rate = argv[++i];
		else if (argv[i][0] != '-' && share == NULL)
			share = argv[i];
		else
			return usage_error(c, "expected [SHARE] [--bandwidth RATE]");
	}
	if (rate && repl_rate_parse(rate, &bps) == -1)
		return usage_error(c, "--bandwidth: bytes per second, at least 1K (500K, 10M, 1G), or 0 for no limit");
	if ((rc = require_root("replicate")) != 0)
		return rc;
	if ((rc = load_config(&cfg, 0, 1)) != 0)
		return rc;
	if (bps >= 0)
		cfg.repl.bandwidth_bps = bps;
	if (cfg.repl.target[0] == '\0') {
		fprintf(stderr, "sharewarden replicate: no replication: set target in [replication]\n");
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if (pick_share(&cfg, share, &only) != 0) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if ((j = open_journal(&cfg, 0)) == NULL) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	rc = replicate_run(&cfg, j, only, &o) == 0 ? EXIT_OK : EXIT_FAILED;
	journal_close(j);
	config_free(&cfg);
	return rc;
}

static int
cmd_replication(int argc, char **argv)
{
	const struct command *c = find_command("replication");
	struct config cfg;
	struct journal *j;
	int rc, json = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return usage_error(c, "unknown argument");
	}
	if ((rc = load_config(&cfg, 0, 1)) != 0)
		return rc;
	if (cfg.repl.target[0] == '\0' || access(cfg.journal, F_OK) != 0) {
		if (cfg.repl.target[0] != '\0')
			printf("%s\n", json ? "{\"replication\": true, \"shares\": []}" :
			    "replication configured; nothing journaled yet (no cycle has run)");
		else
			replication_report(&cfg, NULL, json, stdout);
		config_free(&cfg);
		return EXIT_OK;
	}
	if ((j = open_journal(&cfg, 1)) == NULL) {
		config_free(&cfg);
		return EXIT_FAILED;
	}
	rc = replication_report(&cfg, j, json, stdout);
	journal_close(j);
	config_free(&cfg);
	return rc == 0 ? EXIT_OK : EXIT_FAILED;
}

static int
cmd_receive(int argc, char **argv)
{
	const struct command *c = find_command("receive");
	const char *from = NULL;
	struct config cfg;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			from = argv[++i];
		else
			return usage_error(c, "expected --from SENDER");
	}
	if (from == NULL)
		return usage_error(c, "expected --from SENDER (set in the forced command of the sender's key)");
	if ((rc = require_root("receive")) != 0)
		return rc;
	if ((rc = load_config(&cfg, 0, 0)) != 0)
		return rc;
	rc = replica_serve(&cfg, from, getenv("SSH_ORIGINAL_COMMAND"));
	config_free(&cfg);
	return rc;
}

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "run", cmd_run, "[-d]",
	  "Runs the daemon: follows Samba's audit stream, detects ransomware activity and acts on it.\n"
	  "  -d   stay in the foreground and log to stderr" },
	{ "check", cmd_check, "",
	  "Checks the configuration and the shares it protects; prints `configuration OK` or every error\n"
	  "as file:line and exits 2." },
	{ "status", cmd_status, "",
	  "Shows whether the daemon runs, its counters (lines, events, malformed ...) and open incidents.\n"
	  "Exits 0 when the daemon runs, 1 when it does not." },
	{ "incidents", cmd_incidents, "[--json]", "Lists incidents, newest first." },
	{ "incident", cmd_incident, "ID [--json]",
	  "Shows one incident: who, from where, every signal, every action and every file touched." },
	{ "release", cmd_release, "ID",
	  "Undoes what was done for an incident (enables the account again) and records it. Root only." },
	{ "restore", cmd_restore, "ID [--dry-run] [--force] [--progress] [--from-replica]",
	  "Puts back exactly the files the incident's actor damaged, from the newest snapshot taken before\n"
	  "the attack began; removes its ransom notes and encrypted copies; verifies every file by SHA-256.\n"
	  "A file someone else changed since is kept, with the clean copy beside it. Resumes after a crash;\n"
	  "running it twice is harmless. --dry-run prints the plan and changes nothing; --force restores\n"
	  "although the actor is not contained yet; --from-replica first brings the clean snapshot back from\n"
	  "the replica ([replication]) when it is gone here. Exit 0 all restored, 1 something failed (rerun to\n"
	  "resume), 2 refused (nothing changed). Root only." },
	{ "snapshot", cmd_snapshot, "[SHARE]",
	  "Takes a read-only snapshot of every protected share (or of SHARE) now, named in Samba's @GMT\n"
	  "format so Windows shows it under Previous Versions. Root only." },
	{ "snapshots", cmd_snapshots, "[SHARE]",
	  "Lists each share's snapshots, newest first, and which ones sharewarden took (schedule,\n"
	  "detection, manual); retention only ever deletes those." },
	{ "samba-conf", cmd_samba_conf, "",
	  "Prints the smb.conf lines sharewarden needs (full_audit for each protected share, and\n"
	  "shadow_copy2 so its snapshots show as Previous Versions)." },
	{ "import-patterns", cmd_import_patterns, "FILE [--report]",
	  "Imports a community ransomware file-pattern list (FSRM format: one pattern per line). Broad\n"
	  "patterns that match ordinary files are refused; --report lists them. The result is saved to\n"
	  "the `patterns` file of the configuration." },
	{ "ticket", cmd_ticket, "ID",
	  "Prints the technician's ticket for an incident (the text mail and webhooks carry): who, which\n"
	  "switch port, what was done and what failed, files touched, and the restore and release commands." },
	{ "explain", cmd_explain, "ID",
	  "Explains why an incident opened: every signal with its weight and the running score." },
	{ "canaries", cmd_canaries, "[--seed | --remove]",
	  "Lists the canary files and whether each is intact (exit 1 if any is not). --seed creates the\n"
	  "missing ones and restores changed ones now; --remove deletes them (set `canaries = no` too)." },
	{ "fleet", cmd_fleet, "[--json]",
	  "Lists the servers of the fleet ([fleet] nats): site, version, last heartbeat (SILENT after three\n"
	  "missed), open incidents, messages not sent yet, and this server's NATS state." },
	{ "replicate", cmd_replicate, "[SHARE] [--bandwidth RATE]",
	  "Runs one replication cycle now ([replication] target): sends each share's snapshots the replica\n"
	  "lacks, incrementally from the newest both have. Never one taken while an incident was going on;\n"
	  "while one is open, everything after its start is held. --bandwidth overrides [replication]\n"
	  "bandwidth for this run. Exit 1 when a share failed. Root only." },
	{ "replication", cmd_replication, "[--json]",
	  "Shows per share the replica's newest snapshot, the lag, the last send, what is held and why, and\n"
	  "the last error." },
	{ "receive", cmd_receive, "--from SENDER",
	  "The receiving side of replication, run by sshd as the forced command of SENDER's key:\n"
	  "command=\"sharewarden receive --from SENDER\",restrict ssh-ed25519 AAAA... ([replica] dir)." },
	{ "replay", cmd_replay, "[--json] [FILE|-]",
	  "Runs full_audit lines from FILE (or stdin) through the parser and detection, acts on nothing,\n"
	  "and prints the incidents it would open, then the lines/s on stderr. Use it to tune thresholds." },
	{ "help", cmd_help, "[COMMAND]", "Shows help." },
};

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < nitems(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
print_usage(FILE *f)
{
	fprintf(f, "usage: sharewarden [-c FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < nitems(commands); i++)
		fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].usage);
	fprintf(f, "\n  -c FILE   configuration (default %s)\n", SW_DEFAULT_CONFIG);
	fprintf(f, "`sharewarden COMMAND --help` explains a command.\n");
}

static int
cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc > 1 && (c = find_command(argv[1])) != NULL) {
		print_help(c);
		return EXIT_OK;
	}
	print_usage(stdout);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	char **args = xcalloc((size_t)argc + 1, sizeof *args);
	const struct command *c;
	int n = 0, rc;

	log_init(1, LOG_LVL_WARN);
	/* -c FILE may stand before or after the command. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "sharewarden: %s needs a file\n", argv[i]);
				rc = EXIT_USAGE;
				goto out;
			}
			config_path = argv[++i];
			config_explicit = 1;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config_path = argv[i] + 9;
			config_explicit = 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("sharewarden %s\n", SW_VERSION);
			rc = EXIT_OK;
			goto out;
		} else
			args[n++] = argv[i];
	}
	if (n == 0 || strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0) {
		print_usage(n == 0 ? stderr : stdout);
		rc = n == 0 ? EXIT_USAGE : EXIT_OK;
	} else if ((c = find_command(args[0])) == NULL) {
		fprintf(stderr, "sharewarden: unknown command '%s'\n", args[0]);
		print_usage(stderr);
		rc = EXIT_USAGE;
	} else if (c->fn != cmd_help && wants_help(n, args)) {
		print_help(c);
		rc = EXIT_OK;
	} else
		rc = c->fn(n, args);
out:
	free(args);
	return rc;
}
