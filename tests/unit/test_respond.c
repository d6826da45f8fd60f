/* Unit tests of the responders against a real smbd with a tdbsam in a temporary directory (root only). */
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
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
#include "respond.h"
#include "session.h"
#include "util.h"

#define PASS		"Sw-test-9!pass"
#define U_LOCK		"swtest_rsp1"	/* locked, killed, released */
#define U_PROT		"swtest_rsp2"	/* a protected account */
#define U_DIS		"swtest_rsp3"	/* disabled before any incident */
#define PYTHON		"/usr/bin/python3"

static char tmpdir[] = "/tmp/sw-respond-test-XXXXXX";
static int have_smbd;		/* root, and the test smbd is running */
static pid_t smbd_pid;
static int port;
static char conf[600];
static struct config cfg;
static struct journal *jrn;
static const char *users[] = { U_LOCK, U_PROT, U_DIS };
static int users_made[3];

/* Holding clients: impacket sessions that stay connected until killed. */
struct holder {
	pid_t pid;
	int out;
};

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
	chmod(path, mode);
}

/* Runs argv with text on stdin; returns the exit status, stdout and stderr in out. */
static int
run_stdin(const char *const argv[], const char *text, char *out, size_t outsz)
{
	int in[2], res[2], st;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(in) == -1 || pipe(res) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(res[1], 1);
		dup2(res[1], 2);
		close(in[1]);
		close(res[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(res[1]);
	if (text != NULL && write(in[1], text, strlen(text)) < 0)
		perror("write");
	close(in[1]);
	while (got < outsz - 1 && (n = read(res[0], out + got, outsz - 1 - got)) > 0)
		got += (size_t)n;
	close(res[0]);
	out[got] = '\0';
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
run_quiet(const char *const argv[])
{
	struct run_result r;
	int rc = run_argv(argv, &r, 20000);

	run_result_free(&r);
	return rc;
}

/* The D flag of an account as pdbedit shows it: 1 disabled, 0 enabled, -1 unknown. */
static int
disabled(const char *user)
{
	char opt[700];
	const char *argv[] = { "/usr/bin/pdbedit", opt, "-L", "-v", "-u", user, NULL };
	struct run_result r;
	char *p, *e;
	int rc = -1;

	snprintf(opt, sizeof opt, "--configfile=%s", conf);
	if (run_argv(argv, &r, 10000) == 0 && (p = strstr(r.out, "Account Flags:")) != NULL &&
	    (p = strchr(p, '[')) != NULL && (e = strchr(p, ']')) != NULL)
		rc = memchr(p, 'D', (size_t)(e - p)) != NULL;
	run_result_free(&r);
	return rc;
}

static void
set_disabled(const char *user, int d)
{
	const char *argv[] = { "/usr/bin/smbpasswd", "-c", conf, d ? "-d" : "-e", user, NULL };

	assert_int_equal(run_quiet(argv), 0);
	assert_int_equal(disabled(user), d);
}

/* A fresh login: 0 accepted, 1 refused as a disabled account, 2 anything else. */
static int
login(const char *user)
{
	char svc[64], portstr[16], cred[128];
	const char *argv[] = { "/usr/bin/smbclient", "-s", conf, svc, "-p", portstr, "-U", cred,
	    "-c", "ls", NULL };
	struct run_result r;
	int rc;

	snprintf(svc, sizeof svc, "//127.0.0.1/data");
	snprintf(portstr, sizeof portstr, "%d", port);
	snprintf(cred, sizeof cred, "%s%%%s", user, PASS);
	rc = run_argv(argv, &r, 20000);
	if (rc == 0)
		;
	else if (strstr(r.out, "NT_STATUS_ACCOUNT_DISABLED") || strstr(r.err, "NT_STATUS_ACCOUNT_DISABLED"))
		rc = 1;
	else {
		fprintf(stderr, "smbclient: %d %s %s\n", rc, r.out, r.err);
		rc = 2;
	}
	run_result_free(&r);
	return rc;
}

static int
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), p = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		p = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

static int
port_open(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
	close(fd);
	return ok;
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int
start_smbd(void)
{
	char text[4096];
	const char *dirs[] = { "samba", "samba/private", "samba/lock", "samba/state", "samba/cache",
	    "samba/pid", "samba/ncalrpc", "samba/log", "share" };

	for (size_t i = 0; i < nitems(dirs); i++)
		if (mkdir(tpath(dirs[i]), 0711) == -1)
			return -1;
	chmod(tpath("share"), 0777);
	if ((port = free_port()) <= 0)
		return -1;
	snprintf(text, sizeof text,
	    "[global]\n"
	    "   workgroup = SWTEST\n   netbios name = SWTEST\n"
	    "   server role = standalone server\n   security = user\n"
	    "   passdb backend = tdbsam:%s/samba/private/passdb.tdb\n"
	    "   private dir = %s/samba/private\n   lock directory = %s/samba/lock\n"
	    "   state directory = %s/samba/state\n   cache directory = %s/samba/cache\n"
	    "   pid directory = %s/samba/pid\n   ncalrpc dir = %s/samba/ncalrpc\n"
	    "   binddns dir = %s/samba/private\n   log file = %s/samba/log/log.%%m\n"
	    "   max log size = 0\n   log level = 0\n"
	    "   smb ports = %d\n   interfaces = lo\n   bind interfaces only = yes\n"
	    "   disable netbios = yes\n   load printers = no\n   printing = bsd\n"
	    "   printcap name = /dev/null\n   disable spoolss = yes\n"
	    "   server min protocol = SMB2_10\n"
	    "[data]\n   path = %s/share\n   read only = no\n",
	    tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, tmpdir, port, tmpdir);
	snprintf(conf, sizeof conf, "%s/smb.conf", tmpdir);
	write_file(conf, text, 0644);
	for (size_t i = 0; i < nitems(users); i++) {
		const char *add[] = { "/usr/sbin/useradd", "-M", "-s", "/usr/sbin/nologin", users[i], NULL };
		char opt[700], pw[64], out[4096];
		const char *pdb[] = { "/usr/bin/pdbedit", opt, "-a", "-u", users[i], "-t", NULL };

		if (run_quiet(add) != 0)
			return -1;
		users_made[i] = 1;
		snprintf(opt, sizeof opt, "--configfile=%s", conf);
		snprintf(pw, sizeof pw, "%s\n%s\n", PASS, PASS);
		if (run_stdin(pdb, pw, out, sizeof out) != 0) {
			fprintf(stderr, "pdbedit -a %s: %s\n", users[i], out);
			return -1;
		}
	}
	if ((smbd_pid = fork()) == -1)
		return -1;
	if (smbd_pid == 0) {
		int fd = open(tpath("smbd.out"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

		/* Its own session: stopping it can never reach the test's process group. */
		setsid();
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/usr/sbin/smbd", "smbd", "-s", conf, "--foreground", "--no-process-group", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !port_open(); i++)
		msleep(50);
	return port_open() ? 0 : -1;
}

static void
stop_smbd(void)
{
	pid_t pgid = smbd_pid;
	int st, reaped = 0;

	if (pgid <= 1)
		return;
	/* Its children (per-client smbds, notifyd, cleanupd) share its process group. */
	kill(-pgid, SIGTERM);
	for (int i = 0; i < 100 && !reaped; i++) {
		if (waitpid(pgid, &st, WNOHANG) == pgid)
			reaped = 1;
		else
			msleep(50);
	}
	if (!reaped) {
		kill(-pgid, SIGKILL);
		waitpid(pgid, &st, 0);
	}
	msleep(200);
	kill(-pgid, SIGKILL);
	smbd_pid = 0;
}

/* Starts an impacket client that logs in as user from ip and stays connected; waits until it is. */
static struct holder
hold(const char *user, const char *ip)
{
	struct holder h = { -1, -1 };
	char portstr[16], line[256];
	int out[2];
	size_t got = 0;
	struct pollfd pfd;
	int64_t deadline = mono_ms() + 20000;

	snprintf(portstr, sizeof portstr, "%d", port);
	assert_int_equal(pipe(out), 0);
	h.pid = fork();
	assert_true(h.pid >= 0);
	if (h.pid == 0) {
		setsid();
		dup2(out[1], 1);
		close(out[0]);
		execl(PYTHON, "python3", tpath("hold.py"), ip, portstr, user, PASS, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	h.out = out[0];
	pfd.fd = h.out;
	pfd.events = POLLIN;
	while (got < sizeof line - 1 && mono_ms() < deadline) {
		ssize_t n;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((n = read(h.out, line + got, sizeof line - 1 - got)) <= 0)
			break;
		got += (size_t)n;
		line[got] = '\0';
		if (strstr(line, "connected\n") != NULL)
			return h;
	}
	fail_msg("the SMB client for %s from %s did not connect", user, ip);
	return h;
}

static void
unhold(struct holder *h)
{
	int st;

	if (h->pid > 0) {
		kill(-h->pid, SIGKILL);
		kill(h->pid, SIGKILL);
		waitpid(h->pid, &st, 0);
		h->pid = -1;
	}
	if (h->out >= 0) {
		close(h->out);
		h->out = -1;
	}
}

/* Whether a holding client lost its connection (the script says so and exits). */
static int
holder_dropped(struct holder *h, int ms)
{
	int st;
	int64_t deadline = mono_ms() + ms;

	while (mono_ms() < deadline) {
		if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
			h->pid = -1;
			return 1;
		}
		msleep(20);
	}
	return 0;
}

static int
alive(int pid)
{
	char path[64], buf[256], *rp;
	FILE *f;
	size_t n;

	if (kill(pid, 0) == -1)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return rp == NULL || rp[2] != 'Z';
}

static void
inc_init(struct incident *inc, const char *user, const char *ip)
{
	memset(inc, 0, sizeof *inc);
	snprintf(inc->state, sizeof inc->state, "%s", INC_OPEN);
	snprintf(inc->user, sizeof inc->user, "%s", user);
	snprintf(inc->ip, sizeof inc->ip, "%s", ip);
	snprintf(inc->host, sizeof inc->host, "ws01");
	inc->detected_at = inc->first_event_at = now_ms();
	inc->score = 12.5;
}

static int
setup(void **state)
{
	static const char *prot[] = { "root", "administrator", ("CORP\\" U_PROT) };
	char err[256];

	log_init(1, LOG_LVL_WARN);
	if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0711) == -1)
		return -1;
	config_defaults(&cfg);
	free(cfg.samba_bin_dir);
	cfg.samba_bin_dir = xstrdup("/usr/bin");
	for (size_t i = 0; i < cfg.n_protected; i++)
		free(cfg.protected_accounts[i]);
	free(cfg.protected_accounts);
	cfg.protected_accounts = xcalloc(nitems(prot), sizeof *cfg.protected_accounts);
	for (size_t i = 0; i < nitems(prot); i++)
		cfg.protected_accounts[i] = xstrdup(prot[i]);
	cfg.n_protected = nitems(prot);
	cfg.monitor_only = 0;
	cfg.lock_account = cfg.kill_session = 1;
	/* The firewall, switch and snapshot responders have their own suites and the lab; here they are off. */
	cfg.block_ip = cfg.port_down = cfg.snap.at_detection = 0;
	/* Every test isolates someone; only the breaker test wants the breaker. */
	cfg.max_isolations = 1000;
	if ((jrn = journal_open(tpath("journal.db"), 0, err, sizeof err)) == NULL) {
		fprintf(stderr, "journal_open: %s\n", err);
		return -1;
	}
	write_file(tpath("hold.py"),
	    "import sys, time\n"
	    "from impacket.smbconnection import SMBConnection\n"
	    "host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]\n"
	    "c = SMBConnection(host, host, sess_port=port, timeout=10)\n"
	    "c.login(user, pw)\n"
	    "tid = c.connectTree('data')\n"
	    "print('connected', flush=True)\n"
	    "try:\n"
	    "    for i in range(600):\n"
	    "        time.sleep(0.1)\n"
	    "        c.listPath('data', '*')\n"
	    "except Exception:\n"
	    "    print('dropped', flush=True)\n"
	    "    sys.exit(3)\n", 0644);
	if (geteuid() != 0 || access("/usr/sbin/smbd", X_OK) != 0 || access(PYTHON, X_OK) != 0) {
		fprintf(stderr, "not root or no samba/python3: the smbd tests are skipped\n");
		return 0;
	}
	if (start_smbd() != 0) {
		fprintf(stderr, "the test smbd did not start\n");
		return -1;
	}
	free(cfg.samba_config);
	cfg.samba_config = xstrdup(conf);
	set_disabled(U_DIS, 1);
	have_smbd = 1;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static int
teardown(void **state)
{
	stop_smbd();
	for (size_t i = 0; i < nitems(users); i++)
		if (users_made[i]) {
			const char *del[] = { "/usr/sbin/userdel", users[i], NULL };

			run_quiet(del);
		}
	if (jrn != NULL)
		journal_close(jrn);
	config_free(&cfg);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void
test_sanitize(void **state)
{
	char buf[64];
	struct run_result r = { 0 };

	assert_string_equal(respond_sanitize(buf, sizeof buf, "plain name", 10), "plain name");
	assert_string_equal(respond_sanitize(buf, sizeof buf, "a%sb%n", 6), "a\\x25sb\\x25n");
	assert_string_equal(respond_sanitize(buf, sizeof buf, "l1\nl2\r\x1b\x7f", 8), "l1\\x0al2\\x0d\\x1b\\x7f");
	assert_string_equal(respond_sanitize(buf, sizeof buf, "back\\slash", 10), "back\\x5cslash");
	assert_string_equal(respond_sanitize(buf, sizeof buf, "J\xc3\xbcrgen \xe2\x82\xac", 11),
	    "J\xc3\xbcrgen \xe2\x82\xac");
	assert_string_equal(respond_sanitize(buf, sizeof buf, "\xff\xc3(\xed\xa0\x80", 6),
	    "\\xff\\xc3(\\xed\\xa0\\x80");
	assert_string_equal(respond_sanitize(buf, sizeof buf, "nul\0x", 5), "nul\\x00x");
	/* Truncation never splits an escape nor a character. */
	assert_string_equal(respond_sanitize(buf, 6, "ab\ncd", 5), "ab");
	assert_string_equal(respond_sanitize(buf, 4, "a\xe2\x82\xac", 4), "a");
	assert_string_equal(respond_sanitize(buf, 1, "abc", 3), "");

	r.status = 1;
	r.err = "\n\nFailed to find entry for user x%n.\nsecond line\n";
	r.out = "";
	respond_tool_error("smbpasswd", &r, buf, sizeof buf);
	assert_string_equal(buf, "smbpasswd: status 1: Failed to find entry for user x\\x25n.");
	r.err = "";
	r.out = "only stdout\n";
	respond_tool_error("pdbedit", &r, buf, sizeof buf);
	assert_string_equal(buf, "pdbedit: status 1: only stdout");
	r.out = "";
	respond_tool_error("pdbedit", &r, buf, sizeof buf);
	assert_string_equal(buf, "pdbedit: status 1");
	r.status = -2;
	respond_tool_error("smbcontrol", &r, buf, sizeof buf);
	assert_string_equal(buf, "smbcontrol timed out");
}

/* In a child with its own mount namespace and /dev, so /dev/log is our socket and nobody else's. */
static int
syslog_child(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct respond_ctx ctx;
	struct incident inc;
	struct action a;
	struct timeval tv = { 5, 0 };
	char msg[2048];
	ssize_t n;
	int fd;

	if (unshare(CLONE_NEWNS) == -1 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") == -1) {
		perror("mount namespace");
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	snprintf(sun.sun_path, sizeof sun.sun_path, "/dev/log");
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		perror("/dev/log");
		return 3;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	inc_init(&inc, "ev\nil%s%n\\", "10.0.0.5");
	inc.id = 7;
	snprintf(inc.host, sizeof inc.host, "WS\x1b[31m\xff");
	snprintf(inc.mac, sizeof inc.mac, "02:00:00:00:01:01");
	cfg.monitor_only = 1;		/* notification is never skipped */
	ctx.cfg = &cfg;
	ctx.j = NULL;
	ctx.sessions = NULL;
	ctx.inc = &inc;
	ctx.deny = NULL;
	memset(&a, 0, sizeof a);
	if (respond_syslog.run(&ctx, &a) != 0 || strcmp(a.result, "ok") != 0 || strcmp(a.target, "syslog") != 0)
		return 4;
	if ((n = recv(fd, msg, sizeof msg - 1, 0)) <= 0) {
		perror("recv");
		return 5;
	}
	msg[n] = '\0';
	/* <33> = LOG_AUTH | LOG_ALERT */
	if (strncmp(msg, "<33>", 4) != 0 || strstr(msg, "sharewarden[") == NULL ||
	    strstr(msg, "sharewarden: ransomware activity: incident 7 user ev\\x0ail\\x25s\\x25n\\x5c "
	    "ip 10.0.0.5 mac 02:00:00:00:01:01 host WS\\x1b[31m\\xff score 12.5") == NULL) {
		fprintf(stderr, "syslog line: %s\n", msg);
		return 6;
	}
	if (strcmp(a.detail, "sharewarden: ransomware activity: incident 7 user ev\\x0ail\\x25s\\x25n\\x5c "
	    "ip 10.0.0.5 mac 02:00:00:00:01:01 host WS\\x1b[31m\\xff score 12.5") != 0) {
		fprintf(stderr, "detail: %s\n", a.detail);
		return 7;
	}
	/* Empty fields keep the line's shape. */
	inc.mac[0] = inc.host[0] = '\0';
	memset(&a, 0, sizeof a);
	respond_syslog.run(&ctx, &a);
	if ((n = recv(fd, msg, sizeof msg - 1, 0)) <= 0)
		return 8;
	msg[n] = '\0';
	if (strstr(msg, "mac - host - score") == NULL) {
		fprintf(stderr, "syslog line: %s\n", msg);
		return 9;
	}
	return 0;
}

static void
test_syslog(void **state)
{
	pid_t pid;
	int st;

	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(syslog_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
ctx_init(struct respond_ctx *ctx, struct incident *inc, struct session_cache *sc)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->cfg = &cfg;
	ctx->j = jrn;
	ctx->sessions = sc;
	ctx->inc = inc;
}

static void
test_lock_and_undo(void **state)
{
	struct respond_ctx ctx;
	struct incident inc;
	struct action a;

	if (!have_smbd)
		skip();
	inc_init(&inc, U_LOCK, "127.0.0.1");
	ctx_init(&ctx, &inc, NULL);
	assert_int_equal(login(U_LOCK), 0);
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_account.run(&ctx, &a), 0);
	assert_string_equal(a.result, "ok");
	assert_string_equal(a.target, U_LOCK);
	assert_int_equal(disabled(U_LOCK), 1);
	assert_int_equal(login(U_LOCK), 1);
	assert_int_equal(respond_account.undo(&ctx, &a), 0);
	assert_string_equal(a.undo_result, "ok");
	assert_string_equal(a.undo_detail, "enabled again");
	assert_int_equal(disabled(U_LOCK), 0);
	assert_int_equal(login(U_LOCK), 0);

	/* A domain-qualified name locks the tdbsam account after the backslash. */
	inc_init(&inc, "SWTEST\\" U_LOCK, "127.0.0.1");
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_account.run(&ctx, &a), 0);
	assert_string_equal(a.target, "SWTEST\\" U_LOCK);
	assert_int_equal(disabled(U_LOCK), 1);
	assert_int_equal(respond_account.undo(&ctx, &a), 0);
	assert_int_equal(disabled(U_LOCK), 0);
}

static void
test_lock_skipped(void **state)
{
	struct respond_ctx ctx;
	struct incident inc;
	struct action a;

	if (!have_smbd)
		skip();
	ctx_init(&ctx, &inc, NULL);

	/* Protected, with or without a domain, in any case. */
	inc_init(&inc, U_PROT, "127.0.0.1");
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_account.run(&ctx, &a), 1);
	assert_string_equal(a.result, "skipped");
	assert_string_equal(a.detail, "protected account");
	assert_int_equal(disabled(U_PROT), 0);
	inc_init(&inc, "corp\\SWTEST_RSP2", "127.0.0.1");
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_account.run(&ctx, &a), 1);
	assert_string_equal(a.detail, "protected account");
	assert_int_equal(respond_account.undo(&ctx, &a), 0);
	assert_string_equal(a.undo_result, "n/a");
	assert_int_equal(disabled(U_PROT), 0);

	/* Monitor mode. */
	cfg.monitor_only = 1;
	inc_init(&inc, U_LOCK, "127.0.0.1");
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_account.run(&ctx, &a), 1);
	cfg.monitor_only = 0;
	assert_string_equal(a.result, "skipped");
	assert_string_equal(a.detail, "monitor mode");
	assert_int_equal(disabled(U_LOCK), 0);

	/* Already disabled: left alone, and the undo does not enable it. */
	inc_init(&inc, U_DIS, "127.0.0.1");
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_account.run(&ctx, &a), 1);
	assert_string_equal(a.result, "skipped");
	assert_string_equal(a.detail, RESPOND_ALREADY_DISABLED);
	assert_int_equal(respond_account.undo(&ctx, &a), 0);
	assert_string_equal(a.undo_result, "n/a");
	assert_int_equal(disabled(U_DIS), 1);
}

static void
test_lock_refused_names(void **state)
{
	static const char *bad[] = { "-h", "--configfile=/tmp/x", "CORP\\-d", "a\nb", "", "CORP\\", "\x7f" };
	struct respond_ctx ctx;
	struct incident inc;
	struct action a;

	if (!have_smbd)
		skip();
	ctx_init(&ctx, &inc, NULL);
	for (size_t i = 0; i < nitems(bad); i++) {
		inc_init(&inc, bad[i], "127.0.0.1");
		memset(&a, 0, sizeof a);
		assert_int_equal(respond_account.run(&ctx, &a), -1);
		assert_string_equal(a.result, "failed");
		assert_string_equal(a.detail, "suspicious user name");
	}
	/* An unknown account: the tool's own message, sanitized. */
	inc_init(&inc, "swtest_nosuch%n", "127.0.0.1");
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_account.run(&ctx, &a), -1);
	assert_string_equal(a.result, "failed");
	assert_non_null(strstr(a.detail, "pdbedit: status"));
	assert_null(strchr(a.detail, '%'));
	assert_null(strchr(a.detail, '\n'));
}

/* The pids of user's sessions from ip, asked of smbstatus now. */
static int
test_pids(const char *user, const char *ip, int *pids, int max)
{
	char err[256];

	return session_pids_now(&cfg, user, ip, pids, max, err, sizeof err);
}

static void
test_kill_session(void **state)
{
	struct session_cache *sc = session_cache_new(&cfg);
	struct holder h4, h6;
	struct respond_ctx ctx;
	struct incident inc;
	struct action a;
	int pids[8], n, p4, p6, rc;
	char want[64], *saved;

	if (!have_smbd) {
		session_cache_free(sc);
		skip();
	}
	h4 = hold(U_LOCK, "127.0.0.1");
	h6 = hold(U_LOCK, "::1");
	n = test_pids(U_LOCK, "127.0.0.1", pids, 8);
	assert_int_equal(n, 1);
	p4 = pids[0];
	n = test_pids(U_LOCK, "::1", pids, 8);
	assert_int_equal(n, 1);
	p6 = pids[0];
	assert_int_not_equal(p4, p6);
	assert_true(alive(p4) && alive(p6));

	/* Only the sessions from the incident's IP end. */
	inc_init(&inc, U_LOCK, "127.0.0.1");
	inc.smbd_pid = p4;
	ctx_init(&ctx, &inc, sc);
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_session.run(&ctx, &a), 0);
	assert_string_equal(a.result, "ok");
	snprintf(want, sizeof want, "smbd %d", p4);
	assert_string_equal(a.target, want);
	assert_false(alive(p4));
	assert_true(holder_dropped(&h4, 15000));
	assert_true(alive(p6));
	assert_false(holder_dropped(&h6, 300));

	/* Without smbstatus, the pid of the incident alone. */
	inc_init(&inc, U_LOCK, "::1");
	inc.smbd_pid = p6;
	ctx_init(&ctx, &inc, NULL);
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_session.run(&ctx, &a), 0);
	snprintf(want, sizeof want, "smbd %d", p6);
	assert_string_equal(a.target, want);
	assert_false(alive(p6));
	assert_true(holder_dropped(&h6, 15000));

	/* smbcontrol cannot run: SIGTERM ends the smbd, and the detail says so. */
	h4 = hold(U_LOCK, "127.0.0.1");
	assert_int_equal(test_pids(U_LOCK, "127.0.0.1", pids, 8), 1);
	p4 = pids[0];
	inc_init(&inc, U_LOCK, "127.0.0.1");
	inc.smbd_pid = p4;
	ctx_init(&ctx, &inc, NULL);
	saved = cfg.samba_bin_dir;
	cfg.samba_bin_dir = xstrdup(tpath("nowhere"));
	memset(&a, 0, sizeof a);
	rc = respond_session.run(&ctx, &a);
	free(cfg.samba_bin_dir);
	cfg.samba_bin_dir = saved;
	assert_int_equal(rc, 0);
	assert_string_equal(a.result, "ok");
	snprintf(want, sizeof want, "SIGTERM sent to %d", p4);
	assert_non_null(strstr(a.detail, want));
	assert_non_null(strstr(a.detail, "smbcontrol: status 127"));
	assert_false(alive(p4));
	assert_true(holder_dropped(&h4, 15000));

	/* Never the main smbd, even when an incident names it. */
	inc_init(&inc, U_LOCK, "127.0.0.1");
	inc.smbd_pid = smbd_pid;
	ctx_init(&ctx, &inc, NULL);
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_session.run(&ctx, &a), -1);
	assert_string_equal(a.result, "failed");
	assert_non_null(strstr(a.detail, "is the main smbd: never shut down"));
	assert_true(alive(smbd_pid));
	/* The sweep asks smbstatus: no session left, nothing to end is fine. */
	ctx_init(&ctx, &inc, sc);
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_session_sweep.run(&ctx, &a), 0);
	assert_string_equal(a.detail, "sweep: smbstatus shows no other session");
	assert_true(alive(smbd_pid));
	assert_true(port_open());

	/* Monitor mode and protected accounts: nothing is killed. */
	h4 = hold(U_PROT, "127.0.0.1");
	assert_int_equal(test_pids(U_PROT, NULL, pids, 8), 1);
	inc_init(&inc, U_PROT, "127.0.0.1");
	inc.smbd_pid = pids[0];
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_session.run(&ctx, &a), 1);
	assert_string_equal(a.detail, "protected account");
	cfg.monitor_only = 1;
	inc_init(&inc, U_LOCK, "127.0.0.1");
	inc.smbd_pid = pids[0];
	memset(&a, 0, sizeof a);
	assert_int_equal(respond_session.run(&ctx, &a), 1);
	cfg.monitor_only = 0;
	assert_string_equal(a.detail, "monitor mode");
	assert_true(alive(pids[0]));
	assert_false(holder_dropped(&h4, 200));
	unhold(&h4);
	unhold(&h6);
	session_cache_free(sc);
}

static struct action *
find_action(struct action *acts, size_t n, const char *kind)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(acts[i].kind, kind) == 0)
			return &acts[i];
	fail_msg("no %s action", kind);
	return NULL;
}

static char *
release_text(int64_t id, int *rc)
{
	static char text[4096];
	FILE *f = fmemopen(text, sizeof text, "w");

	assert_non_null(f);
	*rc = respond_release(&cfg, jrn, id, f);
	fclose(f);
	return text;
}

static void
test_incident_contained_and_released(void **state)
{
	struct session_cache *sc = session_cache_new(&cfg);
	struct respond_ctx ctx;
	struct incident inc, got;
	struct action *acts;
	struct holder h;
	size_t n;
	int pids[8], pid, rc;
	char want[128], *text;

	if (!have_smbd) {
		session_cache_free(sc);
		skip();
	}
	h = hold(U_LOCK, "127.0.0.1");
	assert_int_equal(test_pids(U_LOCK, "127.0.0.1", pids, 8), 1);
	pid = pids[0];
	inc_init(&inc, U_LOCK, "127.0.0.1");
	inc.smbd_pid = pid;
	assert_int_equal(journal_incident_add(jrn, &inc), 0);
	ctx_init(&ctx, &inc, sc);
	respond_incident(&ctx);
	assert_string_equal(inc.state, INC_CONTAINED);
	assert_true(inc.contained_at >= inc.detected_at);
	assert_int_equal(inc.monitor, 0);
	assert_false(alive(pid));
	assert_true(holder_dropped(&h, 15000));
	assert_int_equal(disabled(U_LOCK), 1);
	assert_int_equal(login(U_LOCK), 1);

	/* Everything is in the journal, committed. */
	assert_int_equal(journal_incident_get(jrn, inc.id, &got), 0);
	assert_string_equal(got.state, INC_CONTAINED);
	assert_true(got.contained_at > 0);
	assert_int_equal(journal_action_list(jrn, inc.id, &acts, &n), 0);
	assert_int_equal(n, 8);
	/* Deny first (no deny group outside the daemon: skipped), disable, then kill. */
	assert_string_equal(acts[0].kind, "deny_writer");
	assert_string_equal(acts[0].result, "skipped");
	assert_string_equal(acts[1].kind, "lock_account");
	assert_string_equal(acts[2].kind, "kill_session");
	assert_string_equal(acts[3].kind, "block_ip");
	/* The slow part: smbstatus' sweep for sessions no audit line named, then the switch. */
	assert_string_equal(acts[4].kind, "kill_session");
	assert_string_equal(acts[4].result, "ok");
	assert_string_equal(acts[4].detail, "sweep: smbstatus shows no other session");
	assert_string_equal(acts[5].kind, "port_down");
	assert_string_equal(acts[6].kind, "snapshot");
	assert_string_equal(acts[7].kind, "notify_syslog");
	assert_string_equal(acts[3].detail, "turned off in the configuration");
	for (size_t i = 5; i < 7; i++)
		assert_string_equal(acts[i].detail, "turned off in the configuration");
	assert_string_equal(find_action(acts, n, "lock_account")->result, "ok");
	assert_string_equal(find_action(acts, n, "kill_session")->result, "ok");
	snprintf(want, sizeof want, "smbd %d", pid);
	assert_string_equal(find_action(acts, n, "kill_session")->target, want);
	assert_string_equal(find_action(acts, n, "notify_syslog")->result, "ok");
	assert_true(acts[1].at > 0 && acts[1].at <= acts[2].at && acts[2].at <= acts[3].at);
	free(acts);

	/* Release: the account works again; every action is marked undone. */
	text = release_text(inc.id, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "lock_account " U_LOCK ": enabled again\n"));
	snprintf(want, sizeof want, "kill_session smbd %d: nothing to undo\n", pid);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "notify_syslog syslog: nothing to undo\n"));
	snprintf(want, sizeof want, "incident %lld released\n", (long long)inc.id);
	assert_non_null(strstr(text, want));
	assert_int_equal(disabled(U_LOCK), 0);
	assert_int_equal(login(U_LOCK), 0);
	assert_int_equal(journal_incident_get(jrn, inc.id, &got), 0);
	assert_string_equal(got.state, INC_RELEASED);
	assert_true(got.released_at > 0);
	assert_int_equal(journal_action_list(jrn, inc.id, &acts, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_true(acts[i].undone_at > 0);
	assert_string_equal(find_action(acts, n, "lock_account")->undo_result, "ok");
	assert_string_equal(find_action(acts, n, "kill_session")->undo_result, "n/a");
	free(acts);

	/* Releasing again changes nothing and is not an error. */
	text = release_text(inc.id, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "already released"));
	text = release_text(99999, &rc);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(text, "no incident 99999"));
	session_cache_free(sc);
}

static void
test_incident_monitor(void **state)
{
	struct session_cache *sc = session_cache_new(&cfg);
	struct respond_ctx ctx;
	struct incident inc, got;
	struct action *acts;
	struct holder h;
	size_t n;
	int pids[8], rc;
	char *text;

	if (!have_smbd) {
		session_cache_free(sc);
		skip();
	}
	h = hold(U_LOCK, "127.0.0.1");
	assert_int_equal(test_pids(U_LOCK, "127.0.0.1", pids, 8), 1);
	inc_init(&inc, U_LOCK, "127.0.0.1");
	inc.smbd_pid = pids[0];
	assert_int_equal(journal_incident_add(jrn, &inc), 0);
	cfg.monitor_only = 1;
	ctx_init(&ctx, &inc, sc);
	respond_incident(&ctx);
	cfg.monitor_only = 0;
	assert_string_equal(inc.state, INC_OPEN);
	assert_int_equal(inc.monitor, 1);
	assert_int_equal(inc.contained_at, 0);
	assert_true(alive(pids[0]));
	assert_false(holder_dropped(&h, 200));
	assert_int_equal(disabled(U_LOCK), 0);
	assert_int_equal(journal_incident_get(jrn, inc.id, &got), 0);
	assert_int_equal(got.monitor, 1);
	assert_string_equal(got.state, INC_OPEN);
	assert_int_equal(journal_action_list(jrn, inc.id, &acts, &n), 0);
	assert_int_equal(n, 7);
	assert_string_equal(find_action(acts, n, "lock_account")->result, "skipped");
	assert_string_equal(find_action(acts, n, "kill_session")->result, "skipped");
	assert_string_equal(find_action(acts, n, "notify_syslog")->result, "ok");
	free(acts);
	text = release_text(inc.id, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "lock_account " U_LOCK ": left as it was (monitor mode)\n"));
	assert_int_equal(disabled(U_LOCK), 0);
	unhold(&h);
	session_cache_free(sc);
}

static void
test_incident_already_disabled(void **state)
{
	struct session_cache *sc = session_cache_new(&cfg);
	struct respond_ctx ctx;
	struct incident inc;
	struct action *acts;
	size_t n;
	int rc;
	char *text;

	if (!have_smbd) {
		session_cache_free(sc);
		skip();
	}
	inc_init(&inc, U_DIS, "127.0.0.1");
	assert_int_equal(journal_incident_add(jrn, &inc), 0);
	ctx_init(&ctx, &inc, sc);
	respond_incident(&ctx);
	/* Disabled before, no session open: contained all the same. */
	assert_string_equal(inc.state, INC_CONTAINED);
	assert_int_equal(journal_action_list(jrn, inc.id, &acts, &n), 0);
	assert_string_equal(find_action(acts, n, "lock_account")->detail, RESPOND_ALREADY_DISABLED);
	assert_string_equal(find_action(acts, n, "kill_session")->result, "ok");
	free(acts);
	text = release_text(inc.id, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "left as it was (already disabled)"));
	assert_int_equal(disabled(U_DIS), 1);
	session_cache_free(sc);
}

static void
test_release_retry(void **state)
{
	struct respond_ctx ctx;
	struct incident inc, got;
	struct action *acts;
	size_t n;
	int rc;
	char *text, *saved;

	if (!have_smbd)
		skip();
	inc_init(&inc, U_LOCK, "127.0.0.1");
	assert_int_equal(journal_incident_add(jrn, &inc), 0);
	ctx_init(&ctx, &inc, NULL);
	cfg.kill_session = 0;
	respond_incident(&ctx);
	cfg.kill_session = 1;
	/* The kill was turned off: locked, but not contained. */
	assert_string_equal(inc.state, INC_OPEN);
	assert_int_equal(disabled(U_LOCK), 1);

	/* The tools cannot run: the release fails, says so, and can be run again. */
	saved = cfg.samba_bin_dir;
	cfg.samba_bin_dir = xstrdup(tpath("nowhere"));
	text = release_text(inc.id, &rc);
	free(cfg.samba_bin_dir);
	cfg.samba_bin_dir = saved;
	assert_int_equal(rc, 1);
	assert_non_null(strstr(text, "is not released"));
	assert_int_equal(journal_incident_get(jrn, inc.id, &got), 0);
	assert_string_equal(got.state, INC_OPEN);
	assert_int_equal(journal_action_list(jrn, inc.id, &acts, &n), 0);
	assert_int_equal(find_action(acts, n, "lock_account")->undone_at, 0);
	assert_string_equal(find_action(acts, n, "lock_account")->undo_result, "failed");
	assert_true(find_action(acts, n, "notify_syslog")->undone_at > 0);
	free(acts);
	assert_int_equal(disabled(U_LOCK), 1);

	text = release_text(inc.id, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "lock_account " U_LOCK ": enabled again\n"));
	assert_null(strstr(text, "notify_syslog"));	/* undone the first time */
	assert_int_equal(disabled(U_LOCK), 0);
	assert_int_equal(journal_incident_get(jrn, inc.id, &got), 0);
	assert_string_equal(got.state, INC_RELEASED);
}

/* More isolations in the last hour than allowed: the next actor is only reported; dry run says what it would do. */
static void
test_incident_breaker_and_dry_run(void **state)
{
	struct session_cache *sc = session_cache_new(&cfg);
	struct respond_ctx ctx;
	struct incident prev, inc;
	struct action a, *acts;
	struct holder h;
	size_t n;
	int pids[8];
	char *dry[] = { "lock_account" };

	if (!have_smbd) {
		session_cache_free(sc);
		skip();
	}
	/* An actor isolated ten minutes ago. */
	inc_init(&prev, "someone", "10.9.9.9");
	assert_int_equal(journal_incident_add(jrn, &prev), 0);
	memset(&a, 0, sizeof a);
	a.incident_id = prev.id;
	snprintf(a.kind, sizeof a.kind, "lock_account");
	snprintf(a.result, sizeof a.result, "ok");
	a.at = now_ms() - 600000;
	assert_int_equal(journal_action_add(jrn, &a), 0);

	h = hold(U_LOCK, "127.0.0.1");
	assert_int_equal(test_pids(U_LOCK, "127.0.0.1", pids, 8), 1);
	inc_init(&inc, U_LOCK, "127.0.0.1");
	inc.smbd_pid = pids[0];
	assert_int_equal(journal_incident_add(jrn, &inc), 0);
	cfg.max_isolations = 1;
	ctx_init(&ctx, &inc, sc);
	respond_incident(&ctx);
	cfg.max_isolations = 1000;
	assert_string_equal(inc.state, INC_OPEN);
	assert_true(alive(pids[0]));
	assert_int_equal(disabled(U_LOCK), 0);
	assert_int_equal(journal_action_list(jrn, inc.id, &acts, &n), 0);
	assert_string_equal(find_action(acts, n, "lock_account")->result, "skipped");
	assert_non_null(strstr(find_action(acts, n, "lock_account")->detail, "circuit breaker"));
	assert_string_equal(find_action(acts, n, "kill_session")->result, "skipped");
	assert_string_equal(find_action(acts, n, "notify_syslog")->result, "ok");
	free(acts);

	/* Dry run of one responder: it says what it would do, the others act. */
	inc_init(&inc, U_LOCK, "127.0.0.1");
	inc.smbd_pid = pids[0];
	assert_int_equal(journal_incident_add(jrn, &inc), 0);
	cfg.dry_run = dry;
	cfg.n_dry_run = 1;
	ctx_init(&ctx, &inc, sc);
	respond_incident(&ctx);
	cfg.dry_run = NULL;
	cfg.n_dry_run = 0;
	assert_int_equal(disabled(U_LOCK), 0);
	assert_false(alive(pids[0]));
	assert_int_equal(journal_action_list(jrn, inc.id, &acts, &n), 0);
	assert_string_equal(find_action(acts, n, "lock_account")->result, "skipped");
	assert_string_equal(find_action(acts, n, "lock_account")->detail, "dry run: would disable the Samba account");
	assert_string_equal(find_action(acts, n, "kill_session")->result, "ok");
	free(acts);
	assert_true(holder_dropped(&h, 15000));
	session_cache_free(sc);
}

/* A release that comes while the slow part waits, or is still undoing: no switch port is shut for it. */
static void
test_slow_after_release(void **state)
{
	static const char *states[] = { INC_RELEASED, INC_RELEASING };
	struct respond_ctx ctx;
	struct incident inc;
	struct action *acts;
	size_t n;

	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		inc_init(&inc, U_LOCK, "127.0.0.1");
		assert_int_equal(journal_incident_add(jrn, &inc), 0);
		snprintf(inc.state, sizeof inc.state, "%s", states[i]);
		assert_int_equal(journal_incident_update(jrn, &inc), 0);
		cfg.port_down = 1;
		ctx_init(&ctx, &inc, NULL);
		respond_incident_slow(&ctx);
		cfg.port_down = 0;
		assert_int_equal(journal_action_list(jrn, inc.id, &acts, &n), 0);
		assert_string_equal(find_action(acts, n, "port_down")->result, "skipped");
		assert_string_equal(find_action(acts, n, "port_down")->detail,
		    "the incident was released before the switch walk");
		free(acts);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_syslog),
		cmocka_unit_test(test_lock_and_undo),
		cmocka_unit_test(test_lock_skipped),
		cmocka_unit_test(test_lock_refused_names),
		cmocka_unit_test(test_kill_session),
		cmocka_unit_test(test_incident_contained_and_released),
		cmocka_unit_test(test_incident_monitor),
		cmocka_unit_test(test_incident_breaker_and_dry_run),
		cmocka_unit_test(test_incident_already_disabled),
		cmocka_unit_test(test_release_retry),
		cmocka_unit_test(test_slow_after_release),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
