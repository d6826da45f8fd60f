/* Unit tests of attribution: the smbstatus JSON parser, the session cache, IP -> MAC from the neighbour table. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "session.h"
#include "util.h"

#define SAMPLE	"tests/unit/data/smbstatus-4.17.json"

static char tmpdir[] = "/tmp/sw-session-test-XXXXXX";

static char *
read_all(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = xmalloc((size_t)st.st_size + 1);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static const struct smb_session *
by_pid(const struct smb_session *s, size_t n, int pid)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].pid == pid)
			return &s[i];
	return NULL;
}

/* Parses text (a NUL-terminated literal) and returns the status. */
static int
parse(const char *text, struct smb_session **s, size_t *n)
{
	return smbstatus_parse_json(text, strlen(text), s, n);
}

/* One session object around the given members. */
static int
parse_one(const char *members, struct smb_session **s, size_t *n)
{
	char buf[4096];

	snprintf(buf, sizeof buf, "{\"version\": \"4.17.12\", \"sessions\": {\"1\": {%s}}}", members);
	return parse(buf, s, n);
}

static void
test_parse_sample(void **state)
{
	struct smb_session *s;
	const struct smb_session *p;
	size_t len, n;
	char *json = read_all(SAMPLE, &len);

	assert_int_equal(smbstatus_parse_json(json, len, &s, &n), 0);
	assert_int_equal(n, 3);
	p = by_pid(s, n, 7269);
	assert_non_null(p);
	assert_string_equal(p->user, "swtest_user");
	assert_string_equal(p->domain, "");
	assert_string_equal(p->ip, "::1");		/* "ipv6:::1:46248": no brackets in 4.17 */
	assert_string_equal(p->host, "::1");
	p = by_pid(s, n, 7268);
	assert_non_null(p);
	assert_string_equal(p->ip, "127.0.0.1");
	assert_string_equal(p->host, "127.0.0.1");
	assert_non_null(by_pid(s, n, 7265));
	free(s);
	/* The same text without its terminating NUL must parse the same. */
	{
		char *copy = xmalloc(len);

		memcpy(copy, json, len);
		assert_int_equal(smbstatus_parse_json(copy, len, &s, &n), 0);
		assert_int_equal(n, 3);
		free(s);
		free(copy);
	}
	free(json);
}

static void
test_parse_addresses(void **state)
{
	static const struct {
		const char *hostname;
		const char *ip;
	} t[] = {
		{ "ipv4:10.0.0.5:54186", "10.0.0.5" },
		{ "ipv6:[fe80::1]:445", "fe80::1" },
		{ "ipv6:fe80::1:445", "fe80::1" },
		{ "ipv6:fe80::1%eth0:445", "fe80::1" },
		{ "ipv6:2001:db8::17:50123", "2001:db8::17" },
		{ "ipv6:::ffff:10.0.0.7:50000", "10.0.0.7" },
		{ "ipv6:FE80:0:0::AB:1", "fe80::ab" },
		{ "10.0.0.9:1", "10.0.0.9" },
		{ "10.0.0.9", "10.0.0.9" },
		{ "[::1]:5", "::1" },
		{ "ipv4:300.0.0.1:5", "" },
		{ "ipv4:10.0.0.5", "10.0.0.5" },
		{ "ipv6:[fe80::1:445", "" },
		{ "unix:/run/samba/x", "" },
		{ "ipv4:", "" },
		{ "", "" },
		{ "ipv4:10.0.0.5:54186 extra", "" },
	};

	for (size_t i = 0; i < nitems(t); i++) {
		char members[512];
		struct smb_session *s;
		size_t n;

		snprintf(members, sizeof members,
		    "\"server_id\": {\"pid\": \"100\"}, \"username\": \"u\", \"hostname\": \"%s\"",
		    t[i].hostname);
		assert_int_equal(parse_one(members, &s, &n), 0);
		assert_int_equal(n, 1);
		if (strcmp(s[0].ip, t[i].ip) != 0)
			fail_msg("hostname \"%s\": ip \"%s\", expected \"%s\"", t[i].hostname, s[0].ip, t[i].ip);
		free(s);
	}
}

static void
test_parse_pids(void **state)
{
	static const struct {
		const char *pid;	/* JSON text */
		int want;		/* 0: the session is skipped */
	} t[] = {
		{ "\"6810\"", 6810 }, { "6810", 6810 }, { "\"2147483647\"", 2147483647 },
		{ "\"0\"", 0 }, { "\"-5\"", 0 }, { "-5", 0 }, { "\"12abc\"", 0 }, { "\" 12\"", 0 },
		{ "\"+12\"", 0 }, { "\"\"", 0 }, { "\"2147483648\"", 0 }, { "99999999999", 0 },
		{ "\"99999999999999999999999\"", 0 }, { "12.5", 0 }, { "null", 0 }, { "true", 0 },
		{ "[12]", 0 }, { "{\"pid\": 12}", 0 }, { "\"12\\u0000\"", 0 },
	};

	for (size_t i = 0; i < nitems(t); i++) {
		char members[256];
		struct smb_session *s;
		size_t n;

		snprintf(members, sizeof members, "\"server_id\": {\"pid\": %s}, \"username\": \"u\"", t[i].pid);
		assert_int_equal(parse_one(members, &s, &n), 0);
		if (t[i].want == 0) {
			if (n != 0)
				fail_msg("pid %s was accepted as %d", t[i].pid, s[0].pid);
		} else {
			assert_int_equal(n, 1);
			assert_int_equal(s[0].pid, t[i].want);
		}
		free(s);
	}
}

static void
test_parse_missing_and_wrong_types(void **state)
{
	struct smb_session *s;
	size_t n;

	/* No server_id, server_id not an object, session not an object: skipped, the others kept. */
	assert_int_equal(parse("{\"sessions\": {"
	    "\"1\": {\"username\": \"a\"},"
	    "\"2\": {\"server_id\": \"7\", \"username\": \"b\"},"
	    "\"3\": \"not a session\","
	    "\"4\": [1, 2],"
	    "\"5\": null,"
	    "\"6\": {\"server_id\": {\"pid\": \"42\"}}"
	    "}}", &s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].pid, 42);
	assert_string_equal(s[0].user, "");
	assert_string_equal(s[0].domain, "");
	assert_string_equal(s[0].ip, "");
	assert_string_equal(s[0].host, "");
	free(s);

	/* Names of the wrong type are left empty. */
	assert_int_equal(parse_one("\"server_id\": {\"pid\": \"42\"}, \"username\": 17, \"domain\": [\"x\"],"
	    "\"remote_machine\": {\"a\": 1}, \"hostname\": 5", &s, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].user, "");
	assert_string_equal(s[0].domain, "");
	assert_string_equal(s[0].host, "");
	assert_string_equal(s[0].ip, "");
	free(s);

	/* A domain, when a Samba version writes one. */
	assert_int_equal(parse_one("\"server_id\": {\"pid\": \"42\"}, \"username\": \"alice\", \"domain\": \"CORP\"",
	    &s, &n), 0);
	assert_string_equal(s[0].domain, "CORP");
	free(s);

	/* No sessions at all is a valid answer. */
	assert_int_equal(parse("{\"timestamp\": \"x\", \"version\": \"4.17.12-Debian\", \"sessions\": {}}",
	    &s, &n), 0);
	assert_int_equal(n, 0);
	free(s);

	/* Not smbstatus JSON. */
	assert_int_equal(parse("", &s, &n), -1);
	assert_int_equal(parse("not json", &s, &n), -1);
	assert_int_equal(parse("[]", &s, &n), -1);
	assert_int_equal(parse("\"sessions\"", &s, &n), -1);
	assert_int_equal(parse("{}", &s, &n), -1);
	assert_int_equal(parse("{\"sessions\": []}", &s, &n), -1);
	assert_int_equal(parse("{\"sessions\": null}", &s, &n), -1);
	assert_int_equal(parse("{\"sessions\": {}", &s, &n), -1);
	assert_int_equal(parse("{\"sessions\": {}} trailing", &s, &n), -1);
	assert_null(s);
	assert_int_equal(n, 0);
}

static void
test_parse_hostile_names(void **state)
{
	struct smb_session *s;
	size_t n;
	char *big, *json;
	size_t bigsz = 100000;

	/* Quotes, backslashes, newlines, '|', '%' and control bytes arrive verbatim, bounded. */
	assert_int_equal(parse_one("\"server_id\": {\"pid\": \"42\"},"
	    "\"username\": \"a\\\"b\\\\c\\nd|e%s%n\\u001b[31m\","
	    "\"remote_machine\": \"host\\r\\nFAKE LINE\"", &s, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].user, "a\"b\\c\nd|e%s%n\x1b[31m");
	assert_string_equal(s[0].host, "host\r\nFAKE LINE");
	free(s);

	/* An embedded NUL cannot cut a name short into another one. */
	assert_int_equal(parse_one("\"server_id\": {\"pid\": \"42\"}, \"username\": \"root\\u0000evil\"",
	    &s, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].user, "root?evil");
	free(s);

	/* Valid non-ASCII UTF-8 is kept. */
	assert_int_equal(parse_one("\"server_id\": {\"pid\": \"42\"}, \"username\": \"J\\u00fcrgen \xe2\x82\xac\"",
	    &s, &n), 0);
	assert_string_equal(s[0].user, "J\xc3\xbcrgen \xe2\x82\xac");
	free(s);

	/* Invalid UTF-8 (raw bytes or lone surrogate escapes): the text is refused, nothing crashes. */
	assert_int_equal(parse_one("\"server_id\": {\"pid\": \"42\"}, \"username\": \"\xff\xfe\"", &s, &n), -1);
	assert_int_equal(parse_one("\"server_id\": {\"pid\": \"42\"}, \"username\": \"\\udc80\"", &s, &n), -1);
	assert_int_equal(parse_one("\"server_id\": {\"pid\": \"42\"}, \"username\": \"\\ud800x\"", &s, &n), -1);
	assert_int_equal(parse_one("\"server_id\": {\"pid\": \"42\"}, \"username\": \"\xc0\xaf\"", &s, &n), -1);

	/* Huge strings are cut to the field size. */
	big = xmalloc(bigsz + 1);
	memset(big, 'A', bigsz);
	big[bigsz] = '\0';
	json = xmalloc(4 * bigsz + 256);
	snprintf(json, 4 * bigsz + 256, "{\"sessions\": {\"%s\": {\"server_id\": {\"pid\": \"42\"},"
	    "\"username\": \"%s\", \"domain\": \"%s\", \"remote_machine\": \"x\", \"hostname\": \"ipv4:%s\"}}}",
	    big, big, big, big);
	assert_int_equal(parse(json, &s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(s[0].user), sizeof s[0].user - 1);
	assert_int_equal(strlen(s[0].domain), sizeof s[0].domain - 1);
	assert_string_equal(s[0].ip, "");
	free(s);

	/* Deep nesting is refused by the parser's depth limit. */
	{
		size_t depth = 50000;
		char *deep = xmalloc(2 * depth + 32);
		size_t o = 0;

		o += (size_t)sprintf(deep, "{\"sessions\": ");
		for (size_t i = 0; i < depth; i++)
			deep[o++] = '[';
		for (size_t i = 0; i < depth; i++)
			deep[o++] = ']';
		deep[o++] = '}';
		assert_int_equal(smbstatus_parse_json(deep, o, &s, &n), -1);
		free(deep);
	}

	/* Many sessions. */
	{
		size_t cnt = 5000, o = 0, cap = cnt * 80 + 64;
		char *many = xmalloc(cap);

		o += (size_t)snprintf(many + o, cap - o, "{\"sessions\": {");
		for (size_t i = 0; i < cnt; i++)
			o += (size_t)snprintf(many + o, cap - o, "%s\"%zu\": {\"server_id\": {\"pid\": \"%zu\"}}",
			    i ? "," : "", i, i + 1);
		o += (size_t)snprintf(many + o, cap - o, "}}");
		assert_int_equal(smbstatus_parse_json(many, o, &s, &n), 0);
		assert_int_equal(n, cnt);
		free(s);
		free(many);
	}
	free(big);
	free(json);
}

/* A stand-in smbstatus that prints the captured sample and counts its runs. */
static void
write_fake_smbstatus(const char *dir, int fail)
{
	char path[512], cwd[512];
	FILE *f;

	assert_non_null(getcwd(cwd, sizeof cwd));
	snprintf(path, sizeof path, "%s/smbstatus", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho \"$@\" >> %s/runs\n", dir);
	if (fail == 2)
		fprintf(f, "exec sleep 30\n");
	else if (fail)
		fprintf(f, "echo 'simulated smbstatus failure' >&2\nexit 1\n");
	else
		fprintf(f, "exec cat %s/%s\n", cwd, SAMPLE);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Polls the background refresh until it ends (at most 6 s): what session_poll last returned. */
static int
wait_refresh(struct session_cache *sc)
{
	int64_t t0 = mono_ms();
	int got = 0;

	while (session_fd(sc) != -1 && mono_ms() - t0 < 6000) {
		struct pollfd p = { .fd = session_fd(sc), .events = POLLIN };

		poll(&p, 1, 100);
		got = session_poll(sc);
		session_tick(sc);
	}
	return got;
}

static int
count_runs(const char *dir, char *last, size_t lastsz)
{
	char path[512], line[1024];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof path, "%s/runs", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		n++;
		if (last != NULL)
			snprintf(last, lastsz, "%s", line);
	}
	fclose(f);
	return n;
}

static void
test_cache(void **state)
{
	struct config cfg;
	struct session_cache *sc;
	struct smb_session s;
	char bindir[512], conf[512], last[1024], want[1100], err[256];
	int pids[8], n;

	snprintf(bindir, sizeof bindir, "%s/bin", tmpdir);
	snprintf(conf, sizeof conf, "%s/smb.conf", tmpdir);
	assert_int_equal(mkdir(bindir, 0755), 0);
	write_fake_smbstatus(bindir, 0);
	config_defaults(&cfg);
	free(cfg.samba_bin_dir);
	cfg.samba_bin_dir = xstrdup(bindir);
	free(cfg.samba_config);
	cfg.samba_config = xstrdup(conf);
	sc = session_cache_new(&cfg);

	/* A miss never waits: it answers "unknown now" and smbstatus runs in the background. */
	assert_int_equal(session_lookup_pid(sc, 7268, &s), 1);
	assert_int_not_equal(session_fd(sc), -1);
	assert_int_equal(wait_refresh(sc), 1);
	assert_int_equal(session_lookup_pid(sc, 7268, &s), 0);
	assert_int_equal(count_runs(bindir, last, sizeof last), 1);
	snprintf(want, sizeof want, "--json --processes --configfile=%s\n", conf);
	assert_string_equal(last, want);
	assert_string_equal(s.user, "swtest_user");
	assert_string_equal(s.ip, "127.0.0.1");
	/* A hit does not run smbstatus. */
	assert_int_equal(session_lookup_pid(sc, 7269, &s), 0);
	assert_string_equal(s.ip, "::1");
	assert_int_equal(count_runs(bindir, NULL, 0), 1);
	/* A miss right after a refresh waits for the gap; the next tick after it runs smbstatus. */
	assert_int_equal(session_lookup_pid(sc, 4242, &s), 1);
	assert_int_equal(session_fd(sc), -1);
	usleep(300 * 1000);
	session_tick(sc);
	assert_int_not_equal(session_fd(sc), -1);
	assert_int_equal(wait_refresh(sc), 1);
	assert_int_equal(count_runs(bindir, NULL, 0), 2);
	assert_int_equal(session_lookup_pid(sc, 4242, &s), 1);

	/* What an audit line says is known at once, without smbstatus, with the IP normalized. */
	assert_int_equal(session_learn(sc, getpid(), "carol", 5, "::ffff:10.0.0.7", 15, "PC7", 3), 1);
	assert_int_equal(session_learn(sc, getpid(), "carol", 5, "::ffff:10.0.0.7", 15, "PC7", 3), 0);
	assert_int_equal(session_lookup_pid(sc, getpid(), &s), 0);
	assert_string_equal(s.user, "carol");
	assert_string_equal(s.ip, "10.0.0.7");
	assert_string_equal(s.host, "PC7");
	n = session_pids_known(sc, "carol", "10.0.0.7", pids, 8);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], getpid());
	/* known pids come from smbstatus' last answer too, and nothing runs */
	n = session_pids_known(sc, "swtest_user", "127.0.0.1", pids, 8);
	assert_int_equal(n, 2);
	assert_int_equal(count_runs(bindir, NULL, 0), 2);
	/* another user on the same pid (a reused pid's first line) replaces it */
	assert_int_equal(session_learn(sc, getpid(), "dave", 4, "10.0.0.8", 8, "", 0), 1);
	assert_int_equal(session_lookup_pid(sc, getpid(), &s), 0);
	assert_string_equal(s.user, "dave");
	assert_int_equal(session_pids_known(sc, "carol", NULL, pids, 8), 0);

	/* session_pids_now always runs smbstatus; user case-insensitive; ip NULL = any. */
	n = session_pids_now(&cfg, "SWTest_User", NULL, pids, 8, err, sizeof err);
	assert_int_equal(n, 3);
	assert_int_equal(count_runs(bindir, NULL, 0), 3);
	n = session_pids_now(&cfg, "swtest_user", "127.0.0.1", pids, 8, err, sizeof err);
	assert_int_equal(n, 2);
	assert_true((pids[0] == 7268 && pids[1] == 7265) || (pids[0] == 7265 && pids[1] == 7268));
	n = session_pids_now(&cfg, "swtest_user", "0:0::1", pids, 8, err, sizeof err);
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], 7269);
	n = session_pids_now(&cfg, "swtest_user", "::ffff:127.0.0.1", pids, 8, err, sizeof err);
	assert_int_equal(n, 2);
	n = session_pids_now(&cfg, "SWTEST\\swtest_user", "::1", pids, 8, err, sizeof err);
	assert_int_equal(n, 1);
	n = session_pids_now(&cfg, "swtest_use", NULL, pids, 8, err, sizeof err);
	assert_int_equal(n, 0);
	n = session_pids_now(&cfg, "swtest_user", "10.0.0.1", pids, 8, err, sizeof err);
	assert_int_equal(n, 0);
	n = session_pids_now(&cfg, "swtest_user", NULL, pids, 1, err, sizeof err);
	assert_int_equal(n, 1);

	/* A failing smbstatus: -1 once its background run has said so. */
	write_fake_smbstatus(bindir, 1);
	assert_int_equal(session_pids_now(&cfg, "swtest_user", NULL, pids, 8, err, sizeof err), -1);
	usleep(300 * 1000);
	session_lookup_pid(sc, 5555, &s);
	assert_int_equal(wait_refresh(sc), 0);
	assert_int_equal(session_lookup_pid(sc, 5555, &s), -1);
	session_cache_free(sc);

	/* A hung smbstatus: lookups answer at once, the run is killed after its timeout. */
	write_fake_smbstatus(bindir, 2);
	sc = session_cache_new(&cfg);
	{
		int64_t t0 = mono_ms();

		assert_int_equal(session_lookup_pid(sc, 7265, &s), 1);
		assert_true(mono_ms() - t0 < 100);
		assert_int_not_equal(session_fd(sc), -1);
		while (session_fd(sc) != -1 && mono_ms() - t0 < 8000) {
			usleep(100 * 1000);
			session_poll(sc);
			session_tick(sc);
		}
		assert_int_equal(session_fd(sc), -1);
		assert_true(mono_ms() - t0 >= 4900 && mono_ms() - t0 < 7000);
		assert_int_equal(session_lookup_pid(sc, 7265, &s), -1);
	}
	session_cache_free(sc);

	/* No samba config: no --configfile argument. */
	free(cfg.samba_config);
	cfg.samba_config = xstrdup("");
	write_fake_smbstatus(bindir, 0);
	sc = session_cache_new(&cfg);
	assert_int_equal(session_lookup_pid(sc, 7265, &s), 1);
	assert_int_equal(wait_refresh(sc), 1);
	assert_int_equal(session_lookup_pid(sc, 7265, &s), 0);
	count_runs(bindir, last, sizeof last);
	assert_string_equal(last, "--json --processes\n");
	session_cache_free(sc);
	config_free(&cfg);
}

static int ip_quiet;

/* Runs ip with the given arguments (NULL-terminated). */
static int
run_ip(const char *arg, ...)
{
	const char *argv[16];
	struct run_result r;
	va_list ap;
	int i = 0, rc;

	argv[i++] = access("/usr/sbin/ip", X_OK) == 0 ? "/usr/sbin/ip" : "/sbin/ip";
	va_start(ap, arg);
	for (; arg != NULL && i < 15; arg = va_arg(ap, const char *))
		argv[i++] = arg;
	va_end(ap);
	argv[i] = NULL;
	rc = run_argv(argv, &r, 5000);
	if (rc != 0 && !ip_quiet)
		fprintf(stderr, "ip %s %s %s: %s", argv[1], argv[2], argv[3], r.err);
	run_result_free(&r);
	return rc;
}

#define IP(...) run_ip(__VA_ARGS__, (const char *)NULL)

/* In the child, inside its own network namespace: builds a link with neighbours and looks them up. */
static int
neigh_child(void)
{
	char mac[18];
	int bad = 0, rc;

	if (unshare(CLONE_NEWNET) != 0) {
		perror("unshare(CLONE_NEWNET)");
		return 2;
	}
	/* Some kernels have no dummy links: a veth pair does as well. */
	ip_quiet = 1;
	rc = IP("link", "add", "d0", "type", "dummy");
	ip_quiet = 0;
	if (rc != 0 && IP("link", "add", "d0", "type", "veth", "peer", "name", "d1") != 0)
		return 3;
	if (IP("link", "set", "d0", "up") != 0 ||
	    IP("addr", "add", "10.9.0.1/24", "dev", "d0") != 0 ||
	    IP("-6", "addr", "add", "fd09::1/64", "dev", "d0", "nodad") != 0 ||
	    IP("neigh", "add", "10.9.0.5", "lladdr", "02:00:00:00:09:05", "dev", "d0", "nud", "permanent") != 0 ||
	    IP("-6", "neigh", "add", "fd09::5", "lladdr", "02:00:00:00:09:AB", "dev", "d0", "nud",
	    "permanent") != 0 ||
	    IP("neigh", "add", "10.9.0.6", "lladdr", "02:00:00:00:09:06", "dev", "d0", "nud", "stale") != 0 ||
	    IP("neigh", "add", "10.9.0.7", "lladdr", "02:00:00:00:09:07", "dev", "d0", "nud", "noarp") != 0 ||
	    IP("neigh", "add", "10.9.0.8", "dev", "d0", "nud", "incomplete") != 0 ||
	    IP("neigh", "add", "10.9.0.9", "lladdr", "02:00:00:00:09:09", "dev", "d0", "nud", "failed") != 0)
		return 4;
#define EXPECT(ip, rc, want) do {							\
	int r_ = neigh_lookup_mac(ip, mac);						\
	if (r_ != (rc) || (r_ == 0 && strcmp(mac, want) != 0)) {			\
		fprintf(stderr, "neigh_lookup_mac(%s) = %d %s, expected %d %s\n",	\
		    ip, r_, r_ == 0 ? mac : "", rc, want);				\
		bad = 1;								\
	}										\
} while (0)
	EXPECT("10.9.0.5", 0, "02:00:00:00:09:05");
	EXPECT("fd09::5", 0, "02:00:00:00:09:ab");
	EXPECT("fd09:0:0::5", 0, "02:00:00:00:09:ab");
	EXPECT("::ffff:10.9.0.5", 0, "02:00:00:00:09:05");
	EXPECT("10.9.0.6", 0, "02:00:00:00:09:06");
	EXPECT("10.9.0.7", 1, "");		/* noarp */
	EXPECT("10.9.0.8", 1, "");		/* incomplete */
	EXPECT("10.9.0.9", 1, "");		/* failed */
	EXPECT("10.9.0.99", 1, "");
	EXPECT("fd09::99", 1, "");
	EXPECT("10.9.0.1", 1, "");		/* our own address has no neighbour entry */
	EXPECT("not an ip", -1, "");
	EXPECT("", -1, "");
	EXPECT("10.9.0.5:445", -1, "");
#undef EXPECT
	return bad;
}

static void
test_neigh(void **state)
{
	pid_t pid;
	int st;

	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(neigh_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int
rm_tree(const char *dir)
{
	char path[512];

	snprintf(path, sizeof path, "%s/bin/smbstatus", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/bin/runs", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/bin", dir);
	rmdir(path);
	return rmdir(dir);
}

static int
setup(void **state)
{
	log_init(1, LOG_LVL_ERROR);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	return rm_tree(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sample),
		cmocka_unit_test(test_parse_addresses),
		cmocka_unit_test(test_parse_pids),
		cmocka_unit_test(test_parse_missing_and_wrong_types),
		cmocka_unit_test(test_parse_hostile_names),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_neigh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
