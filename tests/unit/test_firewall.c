/* Unit tests of the nftables table and the block_ip responder, in a private network namespace (root only). */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "config.h"
#include "firewall.h"
#include "incident.h"
#include "log.h"
#include "respond.h"
#include "util.h"

#define NFT		"/usr/sbin/nft"
#define IP		"/usr/sbin/ip"
#define TABLE		"swtest"
#define DROP_WAIT_MS	600

static struct config cfg;
static int netns;		/* root, and the private namespace is ours */

static void
set_list(char ***list, size_t *n, const char *const *items, size_t nitems)
{
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = xcalloc(nitems + 1, sizeof **list);
	for (size_t i = 0; i < nitems; i++)
		(*list)[i] = xstrdup(items[i]);
	*n = nitems;
}

/* Runs a fixed argv; returns its stdout (malloc'd) or NULL when it failed. */
static char *
run(const char *const argv[])
{
	struct run_result r;
	char *out = NULL;

	if (run_argv(argv, &r, 10000) == 0)
		out = xstrdup(r.out);
	else
		fprintf(stderr, "%s %s: status %d: %s\n", argv[0], argv[1], r.status, r.err);
	run_result_free(&r);
	return out;
}

static void
run_ok(const char *const argv[])
{
	char *out = run(argv);

	assert_non_null(out);
	free(out);
}

static int
setup(void **state)
{
	const char *lo_up[] = { IP, "link", "set", "lo", "up", NULL };

	log_init(1, LOG_LVL_WARN);
	config_defaults(&cfg);
	free(cfg.nft_table);
	cfg.nft_table = xstrdup(TABLE);
	if (geteuid() != 0 || access(NFT, X_OK) != 0 || access(IP, X_OK) != 0) {
		fprintf(stderr, "not root or no nft/ip: the firewall tests are skipped\n");
		return 0;
	}
	/* Everything below happens in a namespace of our own: the host's ruleset is never touched. */
	if (unshare(CLONE_NEWNET) == -1) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	netns = 1;
	run_ok(lo_up);
	return 0;
}

static int
teardown(void **state)
{
	config_free(&cfg);
	return 0;
}

#define NEED_NETNS() do { if (!netns) skip(); } while (0)

/* The elements of set NAME of our table, as `nft -j list set` prints them, joined by spaces. */
static void
set_elements(const char *set, char *buf, size_t bufsz)
{
	const char *argv[] = { NFT, "-j", "list", "set", "inet", TABLE, set, NULL };
	json_t *root, *arr, *it, *elems, *e;
	size_t i, k;
	char *out;

	buf[0] = '\0';
	out = run(argv);
	assert_non_null(out);
	root = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(root);
	arr = json_object_get(root, "nftables");
	json_array_foreach(arr, i, it) {
		if ((elems = json_object_get(json_object_get(it, "set"), "elem")) == NULL)
			continue;
		json_array_foreach(elems, k, e) {
			assert_true(json_is_string(e));
			snprintf(buf + strlen(buf), bufsz - strlen(buf), "%s%s", buf[0] ? " " : "",
			    json_string_value(e));
		}
	}
	json_decref(root);
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static char *
list_table(const char *name)
{
	const char *argv[] = { NFT, "list", "table", "inet", name, NULL };

	return run(argv);
}

static void
make_other_table(void)
{
	const char *t[] = { NFT, "add", "table", "inet", "other", NULL };
	const char *s[] = { NFT, "add set inet other keep { type ipv4_addr; elements = { 192.0.2.7 } }", NULL };
	const char *c[] = { NFT, "add chain inet other input { type filter hook input priority 0; policy accept; }",
	    NULL };
	const char *r[] = { NFT, "add rule inet other input tcp dport 8080 ip saddr @keep drop", NULL };

	run_ok(t);
	run_ok(s);
	run_ok(c);
	run_ok(r);
}

static void
test_bad_input(void **state)
{
	const char *bad[] = { "1.2.3.4; flush ruleset", "", "::1::2", "1.2.3.4 }", "10.0.0.256", "1.2.3.4%eth0",
	    "fe80::1%eth0; x", "::ffff:1.2.3.4%eth0", "1.2.3.4\n", "2001:db8::1/64",
	    "1234567890123456789012345678901234567890123456789012345678901234" };
	const char *tables[] = { "1abc", "-x", "a b", "a;b", "", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	char err[256], *before, *after;
	const char *list[] = { NFT, "list", "ruleset", NULL };
	char *saved;

	NEED_NETNS();
	before = run(list);
	assert_non_null(before);
	for (size_t i = 0; i < nitems(bad); i++) {
		/* The address check comes first: no nft context is created, nothing is run. */
		err[0] = '\0';
		assert_int_equal(firewall_block(&cfg, bad[i], err, sizeof err), -1);
		assert_string_equal(err, "not an IP address");
		err[0] = '\0';
		assert_int_equal(firewall_unblock(&cfg, bad[i], err, sizeof err), -1);
		assert_string_equal(err, "not an IP address");
		assert_int_equal(firewall_is_blocked(&cfg, bad[i], err, sizeof err), -1);
		assert_string_equal(err, "not an IP address");
	}
	assert_int_equal(firewall_block(&cfg, NULL, err, sizeof err), -1);
	saved = cfg.nft_table;
	for (size_t i = 0; i < nitems(tables); i++) {
		cfg.nft_table = (char *)tables[i];
		assert_int_equal(firewall_ensure(&cfg, err, sizeof err), -1);
		assert_non_null(strstr(err, "firewall table"));
		assert_int_equal(firewall_block(&cfg, "10.1.1.1", err, sizeof err), -1);
		assert_non_null(strstr(err, "firewall table"));
	}
	cfg.nft_table = saved;
	after = run(list);
	assert_non_null(after);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void
test_ensure(void **state)
{
	char err[256], *other, *other2, *ours, *ours2;
	const char *ports1[] = { "445" }, *ports2[] = { "445", "139" };

	NEED_NETNS();
	make_other_table();
	other = list_table("other");
	assert_non_null(other);
	assert_int_equal(firewall_ensure(&cfg, err, sizeof err), 0);
	ours = list_table(TABLE);
	assert_non_null(ours);
	assert_int_equal(firewall_ensure(&cfg, err, sizeof err), 0);
	ours2 = list_table(TABLE);
	assert_non_null(ours2);
	/* Idempotent: the same table, two rules, not four. */
	assert_string_equal(ours, ours2);
	assert_int_equal(count(ours2, "drop"), 2);
	assert_non_null(strstr(ours2, "set blocked4"));
	assert_non_null(strstr(ours2, "set blocked6"));
	assert_non_null(strstr(ours2, "type filter hook input priority filter - 10; policy accept;"));
	assert_non_null(strstr(ours2, "tcp dport { 139, 445 } ip saddr @blocked4 drop"));
	assert_non_null(strstr(ours2, "tcp dport { 139, 445 } ip6 saddr @blocked6 drop"));

	/* Blocks survive a second ensure (a daemon restart), also one with other ports. */
	assert_int_equal(firewall_block(&cfg, "198.51.100.9", err, sizeof err), 0);
	set_list(&cfg.smb_ports, &cfg.n_smb_ports, ports1, 1);
	assert_int_equal(firewall_ensure(&cfg, err, sizeof err), 0);
	assert_int_equal(firewall_is_blocked(&cfg, "198.51.100.9", err, sizeof err), 1);
	free(ours2);
	ours2 = list_table(TABLE);
	assert_int_equal(count(ours2, "drop"), 2);
	assert_non_null(strstr(ours2, "tcp dport 445 ip saddr @blocked4 drop"));
	set_list(&cfg.smb_ports, &cfg.n_smb_ports, ports2, 2);
	assert_int_equal(firewall_ensure(&cfg, err, sizeof err), 0);
	assert_int_equal(firewall_is_blocked(&cfg, "198.51.100.9", err, sizeof err), 1);
	assert_int_equal(firewall_unblock(&cfg, "198.51.100.9", err, sizeof err), 0);

	/* No other table is touched. */
	other2 = list_table("other");
	assert_non_null(other2);
	assert_string_equal(other, other2);
	assert_non_null(strstr(other2, "192.0.2.7"));
	free(other);
	free(other2);
	free(ours);
	free(ours2);
}

static void
test_block_unblock(void **state)
{
	char err[256], elems[1024], *other, *other2;

	NEED_NETNS();
	other = list_table("other");
	assert_int_equal(firewall_ensure(&cfg, err, sizeof err), 0);
	assert_int_equal(firewall_is_blocked(&cfg, "10.0.0.11", err, sizeof err), 0);
	assert_int_equal(firewall_block(&cfg, "10.0.0.11", err, sizeof err), 0);
	assert_int_equal(firewall_block(&cfg, "10.0.0.11", err, sizeof err), 0);	/* twice: still one */
	assert_int_equal(firewall_block(&cfg, "2001:0db8:0000::0011", err, sizeof err), 0);
	assert_int_equal(firewall_block(&cfg, "::ffff:10.0.0.12", err, sizeof err), 0);	/* an IPv4 client */
	assert_int_equal(firewall_block(&cfg, "fe80::5%lo", err, sizeof err), 0);
	set_elements("blocked4", elems, sizeof elems);
	assert_true(strcmp(elems, "10.0.0.11 10.0.0.12") == 0 || strcmp(elems, "10.0.0.12 10.0.0.11") == 0);
	set_elements("blocked6", elems, sizeof elems);
	assert_true(strcmp(elems, "2001:db8::11 fe80::5") == 0 || strcmp(elems, "fe80::5 2001:db8::11") == 0);
	assert_int_equal(firewall_is_blocked(&cfg, "10.0.0.11", err, sizeof err), 1);
	assert_int_equal(firewall_is_blocked(&cfg, "10.0.0.13", err, sizeof err), 0);
	assert_int_equal(firewall_is_blocked(&cfg, "2001:db8::11", err, sizeof err), 1);
	assert_int_equal(firewall_is_blocked(&cfg, "2001:db8::12", err, sizeof err), 0);

	assert_int_equal(firewall_unblock(&cfg, "10.0.0.11", err, sizeof err), 0);
	assert_int_equal(firewall_unblock(&cfg, "10.0.0.11", err, sizeof err), 0);	/* already absent: ok */
	assert_int_equal(firewall_unblock(&cfg, "2001:db8::11", err, sizeof err), 0);
	assert_int_equal(firewall_unblock(&cfg, "10.0.0.12", err, sizeof err), 0);
	assert_int_equal(firewall_unblock(&cfg, "fe80::5", err, sizeof err), 0);
	set_elements("blocked4", elems, sizeof elems);
	assert_string_equal(elems, "");
	set_elements("blocked6", elems, sizeof elems);
	assert_string_equal(elems, "");
	assert_int_equal(firewall_is_blocked(&cfg, "10.0.0.11", err, sizeof err), 0);

	other2 = list_table("other");
	assert_non_null(other);
	assert_non_null(other2);
	assert_string_equal(other, other2);
	free(other);
	free(other2);
}

/* Without our table: nothing is blocked, unblocking is a no-op, blocking says why it cannot. */
static void
test_no_table(void **state)
{
	const char *del[] = { NFT, "delete", "table", "inet", TABLE, NULL };
	char err[256];

	NEED_NETNS();
	assert_int_equal(firewall_ensure(&cfg, err, sizeof err), 0);
	run_ok(del);
	assert_int_equal(firewall_is_blocked(&cfg, "10.0.0.11", err, sizeof err), 0);
	assert_int_equal(firewall_unblock(&cfg, "10.0.0.11", err, sizeof err), 0);
	err[0] = '\0';
	assert_int_equal(firewall_block(&cfg, "10.0.0.11", err, sizeof err), -1);
	assert_true(strncmp(err, "nft add element: ", 17) == 0);
	assert_null(strchr(err, '\n'));
}

static int
listener(int family, const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		len = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		len = sizeof *s6;
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

static void
sockaddr_fill(int family, const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		*len = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		*len = sizeof *s6;
	}
}

/*
 * Connects from src to dst:port within ms. Returns the connected socket, or
 * -1 when the connection did not come up in time (dropped SYNs).
 */
static int
connect_from(int family, const char *src, const char *dst, int port, int ms)
{
	struct sockaddr_storage ss;
	struct pollfd pfd;
	socklen_t len;
	int fd, soerr = 0;
	socklen_t sl = sizeof soerr;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	sockaddr_fill(family, src, 0, &ss, &len);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	sockaddr_fill(family, dst, port, &ss, &len);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return fd;
	assert_int_equal(errno, EINPROGRESS);
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
		return fd;
	close(fd);
	return -1;
}

static int
readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

/* Real packets over lo in the namespace: the blocked address gets no answer on 445, another one does. */
static void
test_packets(void **state)
{
	const char *addrs[][8] = {
		{ IP, "addr", "add", "10.77.0.1/24", "dev", "lo", NULL },
		{ IP, "addr", "add", "10.77.0.2/24", "dev", "lo", NULL },
		{ IP, "addr", "add", "10.77.0.3/24", "dev", "lo", NULL },
		{ IP, "addr", "add", "fd00:77::1/128", "dev", "lo", "nodad", },
		{ IP, "addr", "add", "fd00:77::2/128", "dev", "lo", "nodad", },
		{ IP, "addr", "add", "fd00:77::3/128", "dev", "lo", "nodad", },
	};
	char err[256], buf[8];
	int l4, l6, l4other, fd, est, a, soerr;
	socklen_t sl = sizeof soerr;

	NEED_NETNS();
	for (size_t i = 0; i < nitems(addrs); i++)
		run_ok(addrs[i]);
	l4 = listener(AF_INET, "10.77.0.1", 445);
	l6 = listener(AF_INET6, "fd00:77::1", 445);
	l4other = listener(AF_INET, "10.77.0.1", 8445);
	assert_int_equal(firewall_ensure(&cfg, err, sizeof err), 0);

	/* Before the block: both connect. An established connection is kept for later. */
	est = connect_from(AF_INET, "10.77.0.2", "10.77.0.1", 445, 2000);
	assert_true(est >= 0);
	a = accept(l4, NULL, NULL);
	assert_true(a >= 0);

	assert_int_equal(firewall_block(&cfg, "10.77.0.2", err, sizeof err), 0);
	assert_int_equal(firewall_block(&cfg, "fd00:77::2", err, sizeof err), 0);

	/* New connections from the blocked addresses time out, on IPv4 and IPv6. */
	assert_int_equal(connect_from(AF_INET, "10.77.0.2", "10.77.0.1", 445, DROP_WAIT_MS), -1);
	assert_int_equal(connect_from(AF_INET6, "fd00:77::2", "fd00:77::1", 445, DROP_WAIT_MS), -1);
	/* Other addresses still get through, and other ports stay open to the blocked one. */
	fd = connect_from(AF_INET, "10.77.0.3", "10.77.0.1", 445, 2000);
	assert_true(fd >= 0);
	close(fd);
	close(accept(l4, NULL, NULL));
	fd = connect_from(AF_INET6, "fd00:77::3", "fd00:77::1", 445, 2000);
	assert_true(fd >= 0);
	close(fd);
	close(accept(l6, NULL, NULL));
	fd = connect_from(AF_INET, "10.77.0.2", "10.77.0.1", 8445, 2000);
	assert_true(fd >= 0);
	close(fd);
	close(accept(l4other, NULL, NULL));

	/* The established connection is not ended, it just gets nothing through (the session kill ends it). */
	assert_int_equal(write(est, "x", 1), 1);
	assert_false(readable(a, DROP_WAIT_MS));
	assert_int_equal(getsockopt(est, SOL_SOCKET, SO_ERROR, &soerr, &sl), 0);
	assert_int_equal(soerr, 0);

	/* Unblocked: the retransmission arrives, new connections work again. */
	assert_int_equal(firewall_unblock(&cfg, "10.77.0.2", err, sizeof err), 0);
	assert_int_equal(firewall_unblock(&cfg, "fd00:77::2", err, sizeof err), 0);
	assert_true(readable(a, 5000));
	assert_int_equal(read(a, buf, sizeof buf), 1);
	fd = connect_from(AF_INET6, "fd00:77::2", "fd00:77::1", 445, 2000);
	assert_true(fd >= 0);
	close(fd);
	close(accept(l6, NULL, NULL));
	close(est);
	close(a);
	close(l4);
	close(l6);
	close(l4other);
}

static void
incident_fill(struct incident *inc, const char *ip)
{
	memset(inc, 0, sizeof *inc);
	inc->id = 7;
	snprintf(inc->user, sizeof inc->user, "alice");
	snprintf(inc->ip, sizeof inc->ip, "%s", ip);
}

static void
test_responder(void **state)
{
	struct respond_ctx ctx;
	struct incident inc;
	struct action act, act2;
	const char *dry[] = { "block_ip" };
	const char *prot[] = { "alice" };
	const char *bad_t[] = { NFT, "add", "table", "inet", "swbad", NULL };
	const char *bad_s[] = { NFT, "add set inet swbad blocked4 { type ipv6_addr; }", NULL };
	char err[256];

	NEED_NETNS();
	assert_string_equal(respond_firewall.kind, "block_ip");
	memset(&ctx, 0, sizeof ctx);
	ctx.cfg = &cfg;
	ctx.inc = &inc;

	/* Run: ensure + block + check; undo twice (already gone is ok). */
	incident_fill(&inc, "10.0.0.21");
	memset(&act, 0, sizeof act);
	assert_int_equal(respond_firewall.run(&ctx, &act), 0);
	assert_string_equal(act.result, "ok");
	assert_string_equal(act.target, "10.0.0.21");
	assert_non_null(strstr(act.detail, "set blocked4"));
	assert_int_equal(firewall_is_blocked(&cfg, "10.0.0.21", err, sizeof err), 1);
	assert_int_equal(respond_firewall.undo(&ctx, &act), 0);
	assert_string_equal(act.undo_result, "ok");
	assert_string_equal(act.undo_detail, "unblocked");
	assert_int_equal(firewall_is_blocked(&cfg, "10.0.0.21", err, sizeof err), 0);
	assert_int_equal(respond_firewall.undo(&ctx, &act), 0);
	assert_string_equal(act.undo_detail, "already unblocked");

	/* IPv6, printed canonically. */
	incident_fill(&inc, "2001:DB8:0::21");
	memset(&act, 0, sizeof act);
	assert_int_equal(respond_firewall.run(&ctx, &act), 0);
	assert_string_equal(act.target, "2001:db8::21");
	assert_non_null(strstr(act.detail, "set blocked6"));
	assert_int_equal(firewall_is_blocked(&cfg, "2001:db8::21", err, sizeof err), 1);
	assert_int_equal(respond_firewall.undo(&ctx, &act), 0);
	assert_int_equal(firewall_is_blocked(&cfg, "2001:db8::21", err, sizeof err), 0);

	/* Bad or missing addresses fail, with the target made harmless. */
	incident_fill(&inc, "1.2.3.4; flush ruleset\n");
	memset(&act, 0, sizeof act);
	assert_int_equal(respond_firewall.run(&ctx, &act), -1);
	assert_string_equal(act.result, "failed");
	assert_string_equal(act.detail, "not a client address");
	assert_null(strchr(act.target, '\n'));
	assert_int_equal(respond_firewall.undo(&ctx, &act), 0);
	assert_string_equal(act.undo_result, "n/a");
	incident_fill(&inc, "");
	memset(&act, 0, sizeof act);
	assert_int_equal(respond_firewall.run(&ctx, &act), -1);
	assert_string_equal(act.detail, "the client address is unknown");
	incident_fill(&inc, "0.0.0.0");
	memset(&act, 0, sizeof act);
	assert_int_equal(respond_firewall.run(&ctx, &act), -1);
	incident_fill(&inc, "ff02::1");
	memset(&act, 0, sizeof act);
	assert_int_equal(respond_firewall.run(&ctx, &act), -1);

	/* Dry run: says what it would do, blocks nothing. */
	set_list(&cfg.dry_run, &cfg.n_dry_run, dry, 1);
	incident_fill(&inc, "10.0.0.22");
	memset(&act2, 0, sizeof act2);
	assert_int_equal(respond_firewall.run(&ctx, &act2), 1);
	assert_string_equal(act2.result, "skipped");
	assert_string_equal(act2.detail, "dry run: would add 10.0.0.22 to set blocked4 of table inet " TABLE);
	assert_int_equal(firewall_is_blocked(&cfg, "10.0.0.22", err, sizeof err), 0);
	assert_int_equal(respond_firewall.undo(&ctx, &act2), 0);
	assert_string_equal(act2.undo_result, "n/a");
	set_list(&cfg.dry_run, &cfg.n_dry_run, NULL, 0);

	/* Monitor mode and protected accounts: skipped, nothing blocked. */
	cfg.monitor_only = 1;
	memset(&act2, 0, sizeof act2);
	assert_int_equal(respond_firewall.run(&ctx, &act2), 1);
	assert_string_equal(act2.result, "skipped");
	assert_string_equal(act2.detail, "monitor mode");
	cfg.monitor_only = 0;
	set_list(&cfg.protected_accounts, &cfg.n_protected, prot, 1);
	memset(&act2, 0, sizeof act2);
	assert_int_equal(respond_firewall.run(&ctx, &act2), 1);
	assert_string_equal(act2.detail, "protected account");
	assert_int_equal(firewall_is_blocked(&cfg, "10.0.0.22", err, sizeof err), 0);
	set_list(&cfg.protected_accounts, &cfg.n_protected, NULL, 0);

	/* A failure says why: nft's own reason, on one line (a set of the wrong type is in the way). */
	run_ok(bad_t);
	run_ok(bad_s);
	free(cfg.nft_table);
	cfg.nft_table = xstrdup("swbad");
	memset(&act2, 0, sizeof act2);
	assert_int_equal(respond_firewall.run(&ctx, &act2), -1);
	assert_string_equal(act2.result, "failed");
	assert_true(strncmp(act2.detail, "nft table setup: ", 17) == 0 && strlen(act2.detail) > 17);
	assert_null(strchr(act2.detail, '\n'));
	free(cfg.nft_table);
	cfg.nft_table = xstrdup(TABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_ensure),
		cmocka_unit_test(test_block_unblock),
		cmocka_unit_test(test_no_table),
		cmocka_unit_test(test_packets),
		cmocka_unit_test(test_responder),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
