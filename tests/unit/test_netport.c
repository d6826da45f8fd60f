/* Unit tests of SNMP isolation against real agents: snmpsimd (simulated switches, router) and snmpd (SNMPv3). */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "netport.h"
#include "respond.h"
#include "snmp.h"
#include "util.h"

#include "snmprec.h"

#define DATA_DIR	"tests/unit/data/snmp"
#define SNMPSIMD	"/usr/bin/snmpsimd"
#define SNMPD		"/usr/sbin/snmpd"
#define ACTOR		"02:00:00:00:01:01"
#define IFADMIN		"1.3.6.1.2.1.2.2.1.7"
#define V3_AUTH		"Sw-auth-pass-1"
#define V3_PRIV		"Sw-priv-pass-2"

static char tmpdir[] = "/tmp/sw-netport-test-XXXXXX";
static int ready;		/* root, and both agents answer */
static pid_t sim_pid, snmpd_pid;
static int sim_port, v3_port, dead_port;
static struct config cfg;

static const char *
tpath(const char *name)
{
	static char buf[8][600];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
	return buf[k];
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		fatal("%s", path);
	fputs(text, f);
	fclose(f);
	if (chmod(path, mode) == -1)
		fatal("chmod %s", path);
}

static void
copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[8192];
	size_t n;
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");

	if (in == NULL || out == NULL)
		fatal("copy %s", from);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	if (chmod(to, mode) == -1)
		fatal("chmod %s", to);
}

/* Starts argv with its output in log; returns the pid. */
static pid_t
spawn(char *const argv[], char *const envp[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644), nul = open("/dev/null", O_RDONLY);

		dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		setsid();
		execve(argv[0], argv, envp);
		_exit(127);
	}
	return pid;
}

static void
stop(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
		usleep(20000);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

static const struct snmp_target *
sw(const char *name)
{
	for (const struct snmp_target *t = cfg.switches; t != NULL; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	for (const struct snmp_target *t = cfg.routers; t != NULL; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	fail_msg("no target %s", name);
	return NULL;
}

/* Waits until t answers a GET of oid, a string or a number (the agents need a moment to start). */
static int
wait_agent(const struct snmp_target *t, const char *oid, int is_str, int seconds)
{
	int64_t deadline = mono_ms() + seconds * 1000;
	char buf[64], err[256];
	long v;

	while (mono_ms() < deadline) {
		struct snmp_conn *c = snmp_connect(t, NULL, 0, err, sizeof err);
		enum snmp_status st;

		if (c == NULL)
			return 0;
		st = is_str ? snmp_get_str(c, oid, buf, sizeof buf, NULL, err, sizeof err) :
		    snmp_get_int(c, oid, &v, err, sizeof err);
		snmp_disconnect(c);
		if (st == SNMPST_OK)
			return 1;
		usleep(100000);
	}
	return 0;
}

static long
admin_status(const char *name, int ifindex)
{
	struct snmp_conn *c;
	char oid[64], err[256];
	long v = -1;

	c = snmp_connect(sw(name), NULL, 0, err, sizeof err);
	assert_non_null(c);
	snprintf(oid, sizeof oid, "%s.%d", IFADMIN, ifindex);
	assert_int_equal(snmp_get_int(c, oid, &v, err, sizeof err), SNMPST_OK);
	snmp_disconnect(c);
	return v;
}

static int
group_setup(void **state)
{
	static const char *files[] = { "access.snmprec", "cisco.snmprec", "cisco@10.snmprec", "cisco@20.snmprec",
	    "router.snmprec" };
	char conf[4096], ep[64], datadir[700], cachedir[700], snmpdconf[2048], persist[700];
	struct passwd *pw = getpwnam("nobody");
	FILE *errs;
	int base;

	log_init(1, LOG_LVL_ERROR);
	if (geteuid() != 0 || pw == NULL || access(SNMPSIMD, X_OK) != 0 || access(SNMPD, X_OK) != 0) {
		fprintf(stderr, "test_netport: needs root, snmpsimd and snmpd; skipped\n");
		return 0;
	}
	if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0755) == -1)
		fatal("mkdtemp");
	base = getpid() % 1000;
	sim_port = 21161 + base;
	v3_port = 23161 + base;
	dead_port = 25161 + base;

	/* snmpsimd drops to nobody: its data must be readable and its cache writable by it. */
	snprintf(datadir, sizeof datadir, "%s", tpath("data"));
	snprintf(cachedir, sizeof cachedir, "%s", tpath("cache"));
	if (mkdir(datadir, 0755) == -1 || mkdir(cachedir, 0755) == -1 || chown(cachedir, pw->pw_uid, pw->pw_gid) == -1)
		fatal("mkdir");
	for (size_t i = 0; i < nitems(files); i++) {
		char from[300], to[1400];

		snprintf(from, sizeof from, "%s/%s", DATA_DIR, files[i]);
		snprintf(to, sizeof to, "%s/%s", datadir, files[i]);
		copy_file(from, to, 0644);
	}
	{
		char a1[800], a2[800], a3[80];
		char *argv[] = { SNMPSIMD, a1, a2, a3, "--process-user=nobody", "--process-group=nogroup", NULL };
		char home[700];
		/* snmpsimd dies without HOME (it builds its search paths from it). */
		char *envp[] = { home, "PATH=/usr/bin:/bin", NULL };

		snprintf(home, sizeof home, "HOME=%s", tmpdir);

		snprintf(a1, sizeof a1, "--data-dir=%s", datadir);
		snprintf(a2, sizeof a2, "--cache-dir=%s", cachedir);
		snprintf(a3, sizeof a3, "--agent-udpv4-endpoint=127.0.0.1:%d", sim_port);
		sim_pid = spawn(argv, envp, tpath("snmpsimd.log"));
	}

	/* snmpd for SNMPv3: a USM user, and a pass_persist port whose ifAdminStatus can be set. */
	copy_file(DATA_DIR "/admin-status.sh", tpath("admin-status.sh"), 0755);
	snprintf(persist, sizeof persist, "%s", tpath("snmpd-state"));
	if (mkdir(persist, 0700) == -1)
		fatal("mkdir");
	snprintf(snmpdconf, sizeof snmpdconf,
	    "agentAddress udp:127.0.0.1:%d\n"
	    "createUser swv3 SHA \"" V3_AUTH "\" AES \"" V3_PRIV "\"\n"
	    "rwuser swv3 priv\n"
	    "pass_persist .1.3.6.1.2.1.2.2.1.7 %s\n", v3_port, tpath("admin-status.sh"));
	write_file(tpath("snmpd.conf"), snmpdconf, 0600);
	{
		char *argv[] = { SNMPD, "-f", "-Lf", (char *)tpath("snmpd.log"), "-C", "-c", (char *)tpath("snmpd.conf"),
		    "-M", "/nonexistent", "-m", "", NULL };
		char envs[800];
		char *envp[] = { envs, "PATH=/usr/bin:/bin", NULL };

		snprintf(envs, sizeof envs, "SNMP_PERSISTENT_DIR=%s", persist);
		snmpd_pid = spawn(argv, envp, tpath("snmpd.out"));
	}

	snprintf(conf, sizeof conf,
	    "[switch access]\naddress = 127.0.0.1:%d\ncommunity = access\ntimeout = 1s\nretries = 1\n"
	    "protected ports = gi1/0/1, 102\n"
	    "[switch cisco]\naddress = 127.0.0.1:%d\ncommunity = cisco\nvlans = 10, 20\ntimeout = 1s\n"
	    "[switch dead]\naddress = 127.0.0.1:%d\ncommunity = public\ntimeout = 200ms\nretries = 0\n"
	    "[switch wrongcomm]\naddress = 127.0.0.1:%d\ncommunity = nosuchcommunity\ntimeout = 200ms\nretries = 0\n"
	    "[switch v3]\naddress = 127.0.0.1:%d\nversion = 3\nuser = swv3\nauth protocol = SHA\n"
	    "auth password = " V3_AUTH "\npriv protocol = AES\npriv password = " V3_PRIV "\ntimeout = 1s\n"
	    "[switch v3badpass]\naddress = 127.0.0.1:%d\nversion = 3\nuser = swv3\n"
	    "auth password = wrong-password-here\npriv password = " V3_PRIV "\ntimeout = 500ms\nretries = 0\n"
	    "[switch v3nouser]\naddress = 127.0.0.1:%d\nversion = 3\nuser = nobodyhere\n"
	    "auth password = " V3_AUTH "\ntimeout = 500ms\nretries = 0\n"
	    "[router rt]\naddress = 127.0.0.1:%d\ncommunity = router\ntimeout = 1s\n"
	    "[router deadrt]\naddress = 127.0.0.1:%d\ncommunity = public\ntimeout = 200ms\nretries = 0\n",
	    sim_port, sim_port, dead_port, sim_port, v3_port, v3_port, v3_port, sim_port, dead_port);
	snprintf(ep, sizeof ep, "%s", tpath("sw.conf"));
	write_file(ep, conf, 0600);
	config_defaults(&cfg);
	errs = fdopen(dup(2), "w");
	if (config_load(ep, &cfg, errs) != 0)
		fatalx("test configuration rejected");
	fclose(errs);
	if (!wait_agent(sw("access"), "1.3.6.1.2.1.1.5.0", 1, 20)) {
		fprintf(stderr, "test_netport: snmpsimd did not answer (see %s)\n", tpath("snmpsimd.log"));
		return -1;
	}
	if (!wait_agent(sw("v3"), "1.3.6.1.2.1.1.3.0", 0, 10)) {
		fprintf(stderr, "test_netport: snmpd did not answer (see %s)\n", tpath("snmpd.log"));
		return -1;
	}
	ready = 1;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
group_teardown(void **state)
{
	stop(&sim_pid);
	stop(&snmpd_pid);
	if (cfg.file != NULL || cfg.switches != NULL)
		config_free(&cfg);
	if (strchr(tmpdir, 'X') == NULL)
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

#define NEED_AGENTS() do { if (!ready) skip(); } while (0)

static const struct port_hit *
hit_on(const struct port_hit *hits, size_t n, const char *swname, int ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(hits[i].sw->name, swname) == 0 && hits[i].ifindex == ifindex)
			return &hits[i];
	return NULL;
}

static const struct switch_error *
err_on(const struct switch_error *errs, size_t n, const char *swname)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(errs[i].sw->name, swname) == 0)
			return &errs[i];
	return NULL;
}

/* Only the snmpsim switches (and the dead ones) take part in netport_find: v3 switches are cut off the list. */
static struct snmp_target *
v2_only(void)
{
	struct snmp_target *t, *v3 = NULL;

	for (t = cfg.switches; t != NULL; t = t->next)
		if (t->next != NULL && t->next->version == 3) {
			v3 = t->next;
			t->next = NULL;
			break;
		}
	return v3;
}

static void
v2_restore(struct snmp_target *v3)
{
	struct snmp_target *t;

	for (t = cfg.switches; t->next != NULL; t = t->next)
		;
	t->next = v3;
}

static void
test_find_actor(void **state)
{
	struct port_hit *hits;
	struct switch_error *errs;
	size_t nhits, nerrs;
	const struct port_hit *h;
	const struct switch_error *e;
	struct snmp_target *v3;

	NEED_AGENTS();
	v3 = v2_only();
	assert_int_equal(netport_find(&cfg, ACTOR, &hits, &nhits, &errs, &nerrs), 1);
	v2_restore(v3);

	/* The access port: BRIDGE-MIB and Q-BRIDGE (FDB 5 = VLAN 10), bridge port 3 = ifIndex 103. */
	assert_non_null(h = hit_on(hits, nhits, "access", 103));
	assert_int_equal(h->bridge_port, 3);
	assert_string_equal(h->ifname, "Gi1/0/3");
	assert_int_equal(h->macs, 1);
	assert_string_equal(h->lldp, "");
	assert_false(h->trunk);
	assert_true(h->shut_ok);
	assert_string_equal(h->why, "");

	/* Mislearned behind an LLDP neighbour (FDB 7 = VLAN 30, bridge port 4); its ifName holds ESC and '%'. */
	assert_non_null(h = hit_on(hits, nhits, "access", 104));
	assert_int_equal(h->vlan, 30);
	assert_false(h->shut_ok);
	assert_string_equal(h->lldp, "core-sw-1");
	assert_non_null(strstr(h->why, "LLDP neighbour core-sw-1"));
	assert_null(strchr(h->ifname, 0x1b));
	assert_null(strchr(h->ifname, '%'));
	assert_non_null(strstr(h->ifname, "Gi1/0/4\\x1b"));

	/* Cisco per-VLAN: seen in VLAN 10 on Gi0/2, a trunk (DTP trunking, and MACs in VLANs 10 and 20). */
	assert_non_null(h = hit_on(hits, nhits, "cisco", 12));
	assert_int_equal(h->vlan, 10);
	assert_string_equal(h->ifname, "Gi0/2");
	assert_true(h->trunk);
	assert_false(h->shut_ok);
	assert_non_null(strstr(h->why, "trunk"));
	assert_int_equal(nhits, 3);

	/* Nothing listens on dead; snmpsim ignores an unknown community: both are timeouts, said so. */
	assert_int_equal(nerrs, 2);
	assert_non_null(e = err_on(errs, nerrs, "dead"));
	assert_non_null(strstr(e->reason, "timeout"));
	assert_non_null(e = err_on(errs, nerrs, "wrongcomm"));
	assert_non_null(strstr(e->reason, "timeout"));
	assert_non_null(strstr(e->reason, "wrong community"));
	free(hits);
	free(errs);
}

static void
test_find_guard(void **state)
{
	struct port_hit *hits;
	struct switch_error *errs;
	size_t nhits, nerrs;
	const struct port_hit *h;
	struct snmp_target *v3;

	NEED_AGENTS();
	v3 = v2_only();
	/* An uplink: 5 MACs and an LLDP neighbour (LLDP local port 49 = bridge port 49 = ifIndex 149). */
	netport_find(&cfg, "02:00:00:00:00:03", &hits, &nhits, &errs, &nerrs);
	assert_int_equal(nhits, 1);
	assert_non_null(h = hit_on(hits, nhits, "access", 149));
	assert_int_equal(h->macs, 5);
	assert_false(h->shut_ok);
	assert_non_null(strstr(h->why, "uplink: 5 MACs"));
	assert_non_null(strstr(h->why, "LLDP neighbour core-sw-2"));
	free(hits);
	free(errs);

	/* Protected by ifName, whatever the case. */
	netport_find(&cfg, "AA:BB:CC:00:00:01", &hits, &nhits, &errs, &nerrs);
	assert_int_equal(nhits, 1);
	assert_true(hits[0].is_protected);
	assert_false(hits[0].shut_ok);
	assert_string_equal(hits[0].why, "protected port");
	free(hits);
	free(errs);

	/* Protected by ifIndex. */
	netport_find(&cfg, "aa-bb-cc-00-00-02", &hits, &nhits, &errs, &nerrs);
	assert_int_equal(nhits, 1);
	assert_int_equal(hits[0].ifindex, 102);
	assert_true(hits[0].is_protected);
	free(hits);
	free(errs);

	/* No ifName: ifDescr names the port. */
	netport_find(&cfg, "aa:bb:cc:00:00:05", &hits, &nhits, &errs, &nerrs);
	assert_int_equal(nhits, 1);
	assert_string_equal(hits[0].ifname, "GigabitEthernet1/0/5");
	assert_true(hits[0].shut_ok);
	free(hits);
	free(errs);

	/* The switch's own entry (bridge port 0) is no port. */
	netport_find(&cfg, "02:00:00:00:00:00", &hits, &nhits, &errs, &nerrs);
	assert_int_equal(nhits, 0);
	free(hits);
	free(errs);
	v2_restore(v3);

	assert_int_equal(netport_find(&cfg, "02:00:00:00:01", &hits, &nhits, &errs, &nerrs), -1);
	assert_int_equal(netport_find(&cfg, "02:00:00:00:01:01:07", &hits, &nhits, &errs, &nerrs), -1);
}

static void
test_errors(void **state)
{
	struct snmp_conn *c;
	char err[256], buf[8];
	size_t len;
	long v;
	int before = 0;

	NEED_AGENTS();
	assert_non_null(c = snmp_connect(sw("dead"), NULL, 0, err, sizeof err));
	assert_int_equal(snmp_get_int(c, IFADMIN ".1", &v, err, sizeof err), SNMPST_TIMEOUT);
	assert_non_null(strstr(err, "timeout: no SNMP answer from dead (127.0.0.1:"));
	/* The time it was given: 200ms, retries = 0. */
	assert_non_null(strstr(err, ") within 200 ms x 1 try (agent down, or wrong community)"));
	snmp_disconnect(c);

	assert_int_equal(netport_set_admin(sw("wrongcomm"), 103, 2, &before, err, sizeof err), -1);
	assert_non_null(strstr(err, "wrong community"));

	assert_non_null(c = snmp_connect(sw("access"), NULL, 1, err, sizeof err));
	/* snmpsim answers a SET of a read-only object with noSuchInstance: refused all the same. */
	assert_int_equal(snmp_set_int(c, "1.3.6.1.2.1.1.5.0", 2, err, sizeof err), SNMPST_REFUSED);
	assert_int_equal(snmp_get_int(c, IFADMIN ".999", &v, err, sizeof err), SNMPST_NOSUCH);
	assert_int_equal(snmp_get_int(c, "1.3.6.1.2.1.1.5.0", &v, err, sizeof err), SNMPST_ERROR);
	assert_int_equal(snmp_get_str(c, "1.3.6.1.2.1.1.5.0", buf, sizeof buf, &len, err, sizeof err), SNMPST_OK);
	assert_string_equal(buf, "sw-acce");
	assert_int_equal(len, 11);
	assert_int_equal(snmp_get_int(c, "1.3.x", &v, err, sizeof err), SNMPST_ERROR);
	snmp_disconnect(c);
	assert_int_equal(netport_set_admin(sw("access"), 0, 2, NULL, err, sizeof err), -1);
}

static int
count_cb(const struct snmp_value *v, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int
lines_under(const char *file, const char *prefix)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(file, "r");

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL)
		n += strncmp(line, prefix, strlen(prefix)) == 0;
	fclose(f);
	return n;
}

static void
test_walk(void **state)
{
	struct snmp_conn *c;
	char err[256];
	int n = 0;

	NEED_AGENTS();
	assert_non_null(c = snmp_connect(sw("access"), NULL, 0, err, sizeof err));
	/* The bridge MIB fits one GETBULK of 32; all of mib-2 takes several. */
	assert_int_equal(snmp_walk(c, "1.3.6.1.2.1.17", count_cb, &n, 1000, err, sizeof err), SNMPST_OK);
	assert_int_equal(n, 6 + 10 + 8 + 2);
	n = 0;
	assert_int_equal(snmp_walk(c, "1.3.6.1.2.1", count_cb, &n, 1000, err, sizeof err), SNMPST_OK);
	assert_int_equal(n, lines_under(DATA_DIR "/access.snmprec", "1.3.6.1.2.1."));
	assert_true(n > 32);
	n = 0;
	assert_int_equal(snmp_walk(c, "1.3.6.1.2.1.17.4.3.1.2", count_cb, &n, 3, err, sizeof err), SNMPST_ERROR);
	assert_non_null(strstr(err, "more than 3 values"));
	n = 0;
	assert_int_equal(snmp_walk(c, "1.3.6.1.4.1.99999", count_cb, &n, 3, err, sizeof err), SNMPST_OK);
	assert_int_equal(n, 0);
	snmp_disconnect(c);
}

static void
test_v3(void **state)
{
	struct snmp_conn *c;
	char err[256];
	int before = 0;
	long v;

	NEED_AGENTS();
	/* Unknown user, then a wrong password: both refused as authentication, not as a timeout. */
	assert_non_null(c = snmp_connect(sw("v3nouser"), NULL, 0, err, sizeof err));
	assert_int_equal(snmp_get_int(c, "1.3.6.1.2.1.1.3.0", &v, err, sizeof err), SNMPST_AUTH);
	snmp_disconnect(c);
	assert_non_null(c = snmp_connect(sw("v3badpass"), NULL, 0, err, sizeof err));
	assert_int_equal(snmp_get_int(c, "1.3.6.1.2.1.1.3.0", &v, err, sizeof err), SNMPST_AUTH);
	snmp_disconnect(c);

	assert_int_equal(netport_set_admin(sw("v3"), 7, 2, &before, err, sizeof err), 0);
	assert_int_equal(before, 1);
	assert_int_equal(admin_status("v3", 7), 2);
	assert_int_equal(netport_set_admin(sw("v3"), 7, 1, &before, err, sizeof err), 0);
	assert_int_equal(before, 2);
	assert_int_equal(admin_status("v3", 7), 1);

	/* A read-only object: snmpd says notWritable. */
	assert_non_null(c = snmp_connect(sw("v3"), NULL, 1, err, sizeof err));
	assert_int_equal(snmp_set_int(c, "1.3.6.1.2.1.1.3.0", 5, err, sizeof err), SNMPST_REFUSED);
	assert_non_null(strstr(err, "refused"));
	snmp_disconnect(c);
}

static void
test_router(void **state)
{
	char mac[18], source[64];
	struct snmp_target *dead;

	NEED_AGENTS();
	dead = cfg.routers->next;
	cfg.routers->next = NULL;
	assert_int_equal(netport_router_mac(&cfg, "10.0.0.5", mac, source, sizeof source), 0);
	assert_string_equal(mac, ACTOR);
	assert_string_equal(source, "router rt");
	/* A 5-byte address and an all-zero one are not MACs. */
	assert_int_equal(netport_router_mac(&cfg, "10.0.0.6", mac, source, sizeof source), 1);
	assert_int_equal(netport_router_mac(&cfg, "10.0.0.7", mac, source, sizeof source), 1);
	assert_int_equal(netport_router_mac(&cfg, "not-an-ip", mac, source, sizeof source), 1);
	cfg.routers->next = dead;
	/* Only a router that does not answer. */
	{
		struct snmp_target *rt = cfg.routers;

		cfg.routers = dead;
		assert_int_equal(netport_router_mac(&cfg, "10.0.0.5", mac, source, sizeof source), -1);
		cfg.routers = rt;
	}
}

static void
inc_init(struct incident *inc, const char *mac)
{
	memset(inc, 0, sizeof *inc);
	snprintf(inc->user, sizeof inc->user, "alice");
	snprintf(inc->ip, sizeof inc->ip, "10.0.0.5");
	snprintf(inc->mac, sizeof inc->mac, "%s", mac);
}

static void
test_respond(void **state)
{
	struct incident inc;
	struct respond_ctx ctx = { .cfg = &cfg, .inc = &inc };
	struct action a, *acts;
	struct journal *j;
	struct snmp_target *v3;
	char err[256];
	size_t n;
	int failed_dead = 0;

	NEED_AGENTS();
	v3 = v2_only();
	if ((j = journal_open(tpath("journal.db"), 0, err, sizeof err)) == NULL)
		fail_msg("journal: %s", err);
	ctx.j = j;
	inc_init(&inc, ACTOR);
	snprintf(inc.state, sizeof inc.state, "%s", INC_OPEN);
	inc.detected_at = now_ms();
	assert_int_equal(journal_incident_add(j, &inc), 0);

	memset(&a, 0, sizeof a);
	a.incident_id = inc.id;
	assert_int_equal(respond_switch.run(&ctx, &a), 0);
	assert_string_equal(a.result, "ok");
	assert_string_equal(a.target, "access Gi1/0/3");
	assert_string_equal(inc.sw, "access");
	assert_string_equal(inc.port, "Gi1/0/3");
	assert_non_null(strstr(a.detail, "shut access ifindex=103 before=1;"));
	assert_non_null(strstr(a.detail, "not shut: "));
	assert_non_null(strstr(a.detail, "LLDP neighbour core-sw-1"));
	assert_non_null(strstr(a.detail, "cisco Gi0/2 (trunk"));
	assert_non_null(strstr(a.detail, "not asked: dead: timeout"));
	assert_int_equal(admin_status("access", 103), 2);
	/* The switches that did not answer are failed actions of their own. */
	assert_int_equal(journal_action_list(j, inc.id, &acts, &n), 0);
	for (size_t i = 0; i < n; i++)
		failed_dead += strcmp(acts[i].target, "dead") == 0 && strcmp(acts[i].result, "failed") == 0 &&
		    strstr(acts[i].detail, "timeout") != NULL;
	assert_int_equal(failed_dead, 1);
	free(acts);

	/* Release: back up, read back. */
	assert_int_equal(respond_switch.undo(&ctx, &a), 0);
	assert_string_equal(a.undo_detail, "access ifindex=103 up again");
	assert_int_equal(admin_status("access", 103), 1);

	/* A switch that does not answer on release: the undo fails with the reason, and can be retried. */
	snprintf(a.detail, sizeof a.detail, "shut dead ifindex=3 before=1; Gi1/0/3 (1 MAC)");
	a.undo_detail[0] = '\0';
	assert_int_equal(respond_switch.undo(&ctx, &a), -1);
	assert_non_null(strstr(a.undo_detail, "dead ifindex=3: reading ifAdminStatus: timeout"));
	snprintf(a.detail, sizeof a.detail, "shut gone ifindex=3 before=1");
	assert_int_equal(respond_switch.undo(&ctx, &a), -1);
	assert_non_null(strstr(a.undo_detail, "gone is no longer a [switch]"));
	snprintf(a.result, sizeof a.result, "failed");
	assert_int_equal(respond_switch.undo(&ctx, &a), 0);
	assert_string_equal(a.undo_result, "n/a");

	/* Only on uplinks: nothing shut, and the detail says where and why. */
	ctx.j = NULL;
	inc_init(&inc, "02:00:00:00:00:03");
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_switch.run(&ctx, &a), -1);
	assert_string_equal(a.result, "failed");
	assert_non_null(strstr(a.detail, "found only on uplinks: access Te1/1/1 (uplink: 5 MACs"));
	assert_non_null(strstr(a.detail, "LLDP neighbour core-sw-2"));
	assert_string_equal(inc.sw, "");
	assert_int_equal(admin_status("access", 149), 1);

	/* Dry run: says what it would do, does nothing. */
	inc_init(&inc, ACTOR);
	memset(&a, 0, sizeof a);
	cfg.dry_run = xcalloc(1, sizeof *cfg.dry_run);
	cfg.dry_run[0] = xstrdup("port_down");
	cfg.n_dry_run = 1;
	assert_int_equal(respond_switch.run(&ctx, &a), 1);
	assert_string_equal(a.result, "skipped");
	assert_non_null(strstr(a.detail, "dry run: would shut access Gi1/0/3"));
	assert_int_equal(admin_status("access", 103), 1);
	free(cfg.dry_run[0]);
	free(cfg.dry_run);
	cfg.dry_run = NULL;
	cfg.n_dry_run = 0;

	/* No MAC; monitor mode. */
	inc_init(&inc, "");
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_switch.run(&ctx, &a), 1);
	assert_string_equal(a.result, "skipped");
	assert_string_equal(a.detail, "MAC unknown");
	inc_init(&inc, ACTOR);
	cfg.monitor_only = 1;
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_switch.run(&ctx, &a), 1);
	assert_string_equal(a.detail, "monitor mode");
	cfg.monitor_only = 0;
	assert_int_equal(admin_status("access", 103), 1);
	journal_close(j);
	v2_restore(v3);
}

/* An agent's answers from an .snmprec file, per values a GETBULK reply; free with replay_free. */
static void
replay_load(const char *file, size_t per, struct bytes b[NPT_COUNT], struct netport_replies *r)
{
	struct rec *recs;
	size_t n;

	_Static_assert(sizeof replay_tables / sizeof replay_tables[0] == NPT_COUNT, "one OID per table");
	assert_non_null(recs = snmprec_load(file, &n));
	replies_tables(recs, n, per, b);
	for (int i = 0; i < NPT_COUNT; i++) {
		r->data[i] = b[i].p;
		r->len[i] = b[i].n;
	}
	free(recs);
}

static void
replay_free(struct bytes b[NPT_COUNT])
{
	for (int i = 0; i < NPT_COUNT; i++)
		free(b[i].p);
}

/* The access switch from its recorded answers: what test_find_actor finds live, whatever the GETBULK size. */
static void
test_replayed(void **state)
{
	char *prot[] = { "gi1/0/1", "102" };
	struct snmp_target t = { .name = "access", .address = "recorded", .max_macs = 3,
	    .protected_ports = prot, .n_protected_ports = 2 };
	static const size_t per[] = { 1, 3, 32 };
	struct bytes b[NPT_COUNT];
	struct netport_replies r;
	struct port_hit *hits;
	struct switch_error *errs;
	size_t nhits, nerrs;
	const struct port_hit *h;

	for (size_t k = 0; k < nitems(per); k++) {
		replay_load(DATA_DIR "/access.snmprec", per[k], b, &r);
		assert_int_equal(netport_find_replayed(&t, &r, ACTOR, &hits, &nhits, &errs, &nerrs), 0);
		assert_int_equal(nerrs, 0);
		assert_int_equal(nhits, 2);
		assert_non_null(h = hit_on(hits, nhits, "access", 103));
		assert_int_equal(h->bridge_port, 3);
		assert_string_equal(h->ifname, "Gi1/0/3");
		assert_int_equal(h->macs, 1);
		assert_string_equal(h->lldp, "");
		assert_false(h->trunk);
		assert_true(h->shut_ok);
		assert_string_equal(h->why, "");
		assert_non_null(h = hit_on(hits, nhits, "access", 104));
		assert_int_equal(h->vlan, 30);
		assert_false(h->shut_ok);
		assert_string_equal(h->lldp, "core-sw-1");
		assert_string_equal(h->ifname, "Gi1/0/4\\x1b[31m\\x25n");
		free(hits);
		free(errs);

		/* The uplink: 5 MACs behind an LLDP neighbour. */
		netport_find_replayed(&t, &r, "02:00:00:00:00:03", &hits, &nhits, &errs, &nerrs);
		assert_int_equal(nhits, 1);
		assert_int_equal(hits[0].ifindex, 149);
		assert_int_equal(hits[0].macs, 5);
		assert_non_null(strstr(hits[0].why, "uplink: 5 MACs"));
		assert_non_null(strstr(hits[0].why, "LLDP neighbour core-sw-2"));
		free(hits);
		free(errs);
		replay_free(b);
	}

	/* An agent that says nothing: a timeout, and nothing found. */
	memset(&r, 0, sizeof r);
	assert_int_equal(netport_find_replayed(&t, &r, ACTOR, &hits, &nhits, &errs, &nerrs), 1);
	assert_int_equal(nhits, 0);
	assert_int_equal(nerrs, 1);
	assert_non_null(strstr(errs[0].reason, "timeout"));
	free(hits);
	free(errs);

	/* The router's ARP table: a 5-byte and an all-zero address are not MACs. */
	replay_load(DATA_DIR "/router.snmprec", 2, b, &r);
	{
		char mac[18];

		assert_int_equal(netport_router_mac_replayed(&r, "10.0.0.5", mac), 0);
		assert_string_equal(mac, ACTOR);
		assert_int_equal(netport_router_mac_replayed(&r, "10.0.0.6", mac), 1);
		assert_int_equal(netport_router_mac_replayed(&r, "10.0.0.7", mac), 1);
		assert_int_equal(netport_router_mac_replayed(&r, "10.0.0.8", mac), 1);
		replay_free(b);
		memset(&r, 0, sizeof r);
		assert_int_equal(netport_router_mac_replayed(&r, "10.0.0.5", mac), -1);
	}
}

/* Agents that misbehave: damaged, backwards, refusing, endless, and answers too long for the buffer. */
static void
test_replayed_agents(void **state)
{
	struct rec a = { .oid = { 1, 3, 6, 1, 2, 1, 1, 5, 0 }, .noid = 9, .tag = 4, .val = "sw-access-1", .len = 11 };
	struct rec z = { .oid = { 1, 3, 6, 1, 2, 1, 1, 4, 0 }, .noid = 9, .tag = 2, .num = 7 };
	struct rec o = { .oid = { 1, 3, 6, 1, 2, 1, 1, 6, 0 }, .noid = 9, .tag = 0x41, .num = 4000000000 };
	const struct rec *va[] = { &a }, *vback[] = { &a, &z }, *vo[] = { &o };
	struct bytes b = { 0 };
	char err[256], buf[4];
	size_t len = 0;
	long v = 0;
	int n = 0;

	/* A string cut to the buffer, its whole length said; not a number. */
	ber_response(&b, va, 1, 0, 0);
	assert_int_equal(snmp_reply_get_str(b.p, b.n, "1.3.6.1.2.1.1.5.0", buf, sizeof buf, &len, err, sizeof err),
	    SNMPST_OK);
	assert_string_equal(buf, "sw-");
	assert_int_equal(len, 11);
	assert_int_equal(snmp_reply_get_int(b.p, b.n, "1.3.6.1.2.1.1.5.0", &v, err, sizeof err), SNMPST_ERROR);
	assert_non_null(strstr(err, "is not a number"));
	/* Every byte but the whole: damaged, so no answer. */
	for (size_t cut = 1; cut < b.n; cut++)
		assert_int_equal(snmp_reply_get_str(b.p, cut, "1.3.6.1.2.1.1.5.0", buf, sizeof buf, &len, err,
		    sizeof err), SNMPST_TIMEOUT);
	b.n = 0;

	/* A Counter32 above 2^31 stays positive. */
	ber_response(&b, vo, 1, 0, 0);
	assert_int_equal(snmp_reply_get_int(b.p, b.n, "1.3.6.1.2.1.1.6.0", &v, err, sizeof err), SNMPST_OK);
	assert_int_equal(v, 4000000000L);
	b.n = 0;

	/* noAccess (6) on variable 1. */
	ber_response(&b, va, 1, 6, 1);
	assert_int_equal(snmp_reply_get_int(b.p, b.n, "1.3.6.1.2.1.1.5.0", &v, err, sizeof err), SNMPST_REFUSED);
	assert_non_null(strstr(err, "refused"));
	b.n = 0;

	/* A walk whose agent goes backwards. */
	ber_response(&b, vback, 2, 0, 0);
	assert_int_equal(snmp_walk_replies(b.p, b.n, "1.3.6.1.2.1.1", count_cb, &n, 100, err, sizeof err),
	    SNMPST_ERROR);
	assert_non_null(strstr(err, "out of order"));
	assert_int_equal(n, 1);
	b.n = 0;

	/* One that never reaches the end: its replies run out, a timeout; and one past max_values. */
	ber_response(&b, va, 1, 0, 0);
	n = 0;
	assert_int_equal(snmp_walk_replies(b.p, b.n, "1.3.6.1.2.1.1", count_cb, &n, 100, err, sizeof err),
	    SNMPST_TIMEOUT);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(snmp_walk_replies(b.p, b.n, "1.3.6.1.2.1.1", count_cb, &n, 0, err, sizeof err),
	    SNMPST_ERROR);
	assert_non_null(strstr(err, "more than 0 values"));
	assert_int_equal(snmp_walk_replies(b.p, b.n, "1.3.x", count_cb, &n, 0, err, sizeof err), SNMPST_ERROR);
	free(b.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_actor),
		cmocka_unit_test(test_find_guard),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_v3),
		cmocka_unit_test(test_router),
		cmocka_unit_test(test_respond),
		cmocka_unit_test(test_replayed),
		cmocka_unit_test(test_replayed_agents),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
