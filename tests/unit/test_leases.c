/* Unit tests of IP -> MAC from DHCP lease files (dnsmasq, ISC dhcpd, Kea) and of the MAC lookup chain. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#include "config.h"
#include "leases.h"
#include "log.h"
#include "util.h"

#define IP_TOOL		"/usr/sbin/ip"

static char tmpdir[] = "/tmp/sw-leases-test-XXXXXX";
static int netns;		/* root, in a network namespace of our own */

/* dnsmasq 2.89 as written: v4 leases, then the server DUID and v6 leases (IAID where the MAC is). */
static const char dnsmasq_leases[] =
    "4102444800 02:00:00:00:01:01 10.0.0.11 alice-pc 01:02:00:00:00:01:01\n"
    "4102444800 52:54:00:AB:CD:EF 10.0.0.12 * *\n"
    "1000000000 02:00:00:00:01:03 10.0.0.13 expired-pc 01:02:00:00:00:01:03\n"
    "0 02:00:00:00:01:04 10.0.0.14 static-forever *\n"
    "4102444800 02:00:00:00:01:05 10.0.0.15 \x1b[31mevil\x1b[0m%s%n *\n"
    "4102444800 06-00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33 10.0.0.16 ib-node *\n"
    "4102444000 02:00:00:00:01:07 10.0.0.17 older *\n"
    "4102444800 02:00:00:00:01:77 10.0.0.17 newer *\n"
    "4102444800 02:00:00:00:01:08\n"
    "garbage line\n"
    "4102444800 00:00:00:00:00:00 10.0.0.18 zero *\n"
    "duid 00:01:00:01:2c:5f:3e:11:52:54:00:12:34:56\n"
    "4102444800 305419896 fd00::1234 bob-laptop 00:01:00:01:2c:5f:3e:11:52:54:00:ab:cd:ef\n"
    "4102444800 1193046 fd00::1235 * 00:04:3c:1d:33:8d:6a:7e:a5:3a:77:2a:4a:36:0f:1b:9f:ae\n";

/* ISC dhcpd 4.4 as written, with the tricks a client name and a crash can play. */
static const char isc_leases[] =
    "# The format of this file is documented in the dhcpd.leases(5) manual page.\n"
    "# This lease file was written by isc-dhcp-4.4.3-P1\n"
    "\n"
    "# authoring-byte-order entry is generated, DO NOT DELETE\n"
    "authoring-byte-order little-endian;\n"
    "\n"
    "server-duid \"\\000\\001\\000\\001+\\2223\\302RT\\000\\022\\0044\";\n"
    "\n"
    "lease 10.0.0.11 {\n"
    "  starts 3 2026/11/25 10:00:00;\n"
    "  ends 5 2099/11/27 10:00:00;\n"
    "  cltt 3 2026/11/25 10:00:00;\n"
    "  binding state active;\n"
    "  next binding state free;\n"
    "  rewind binding state free;\n"
    "  hardware ethernet 02:00:00:00:02:01;\n"
    "  uid \"\\001\\002\\000\\000\\000\\002\\001\";\n"
    "  set vendor-class-identifier = \"MSFT 5.0\";\n"
    "  client-hostname \"alice-pc\";\n"
    "}\n"
    /* Given to A, then released: the last block says nobody holds it. */
    "lease 10.0.0.12 {\n"
    "  starts 3 2026/11/25 10:00:00;\n"
    "  ends 5 2099/11/27 10:00:00;\n"
    "  binding state active;\n"
    "  hardware ethernet 02:00:00:00:02:02;\n"
    "}\n"
    "lease 10.0.0.12 {\n"
    "  starts 3 2026/11/25 11:00:00;\n"
    "  ends 3 2026/11/25 11:00:00;\n"
    "  binding state free;\n"
    "  next binding state free;\n"
    "  hardware ethernet 02:00:00:00:02:02;\n"
    "}\n"
    /* Free, then given to someone else: the later holder. */
    "lease 10.0.0.13 {\n"
    "  binding state free;\n"
    "  hardware ethernet 02:00:00:00:02:03;\n"
    "}\n"
    "lease 10.0.0.13 {\n"
    "  starts 4 2026/11/26 09:00:00;\n"
    "  ends never;\n"
    "  binding state active;\n"
    "  hardware ethernet 52:54:00:AB:CD:03;\n"
    "}\n"
    /* Active by its state but its time ran out long ago (dhcpd was down). */
    "lease 10.0.0.14 {\n"
    "  ends 1 2001/01/01 00:00:00;\n"
    "  binding state active;\n"
    "  hardware ethernet 02:00:00:00:02:04;\n"
    "}\n"
    "lease 10.0.0.15 {\n"
    "  ends 5 2099/11/27 10:00:00;\n"
    "  binding state expired;\n"
    "  hardware ethernet 02:00:00:00:02:05;\n"
    "}\n"
    /* A client name that tries to close the block and forge another. */
    "lease 10.0.0.16 {\n"
    "  ends epoch 4102444800; # Fri Jan  1 00:00:00 2100\n"
    "  binding state active;\n"
    "  client-hostname \"x\\\" } lease 10.0.0.17 { hardware ethernet 66:66:66:66:66:66; binding state active; } #\";\n"
    "  hardware ethernet 02:00:00:00:02:06;\n"
    "  set ddns-fwd-name = \"a;b{c}d\";\n"
    "  on expiry {\n"
    "    set x = \"}\";\n"
    "    hardware ethernet 66:66:66:66:66:67;\n"
    "  }\n"
    "}\n"
    "# lease 10.0.0.19 { hardware ethernet 66:66:66:66:66:68; binding state active; }\n"
    "host fixed-pc {\n"
    "  dynamic;\n"
    "  hardware ethernet 66:66:66:66:66:69;\n"
    "  fixed-address 10.0.0.20;\n"
    "}\n"
    /* dhcpd 2 wrote no binding state. */
    "lease 10.0.0.21 {\n"
    "  starts 4 2026/11/26 09:00:00;\n"
    "  ends 4 2099/11/26 21:00:00;\n"
    "  hardware ethernet 2:0:0:0:2:15;\n"
    "}\n"
    /* dhcpd6: IPv6 leases have no hardware address to give. */
    "ia-na \"\\001\\000\\000\\000\\000\\003\\000\\001RT\\000\\253\\315\\357\" {\n"
    "  cltt 4 2026/11/26 09:00:00;\n"
    "  iaaddr fd00::5 {\n"
    "    binding state active;\n"
    "    preferred-life 27000;\n"
    "    max-life 43200;\n"
    "    ends 4 2099/11/26 21:00:00;\n"
    "  }\n"
    "}\n"
    /* The server died while writing: this block never ended. */
    "lease 10.0.0.11 {\n"
    "  starts 4 2026/11/26 09:00:00;\n"
    "  ends 4 2099/11/26 21:00:00;\n"
    "  binding state active;\n"
    "  hardware ethernet 66:66:66:66:66:6a;\n";

/* Kea 2.2 memfile (lease4): one row per change, the last row of an address is its state. */
static const char kea_leases[] =
    "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,"
    "pool_id\n"
    "10.0.0.21,02:00:00:00:03:01,01:02:00:00:00:03:01,4000,4102444800,1,0,0,alice-pc,0,,0\n"
    "10.0.0.22,02:00:00:00:03:02,,4000,4102444800,1,0,0,bob&#x2cpc,0,{ \"comment\": \"x&#x2c y\" },0\n"
    "10.0.0.22,02:00:00:00:03:03,,4000,4102444800,1,0,0,bob,0,,0\n"
    "10.0.0.23,02:00:00:00:03:04,,4000,4102444800,1,0,0,declined,1,,0\n"
    "10.0.0.24,02:00:00:00:03:05,,4000,4102444800,1,0,0,reclaimed,2,,0\n"
    "10.0.0.25,02:00:00:00:03:06,,4000,4102444800,1,0,0,gone,0,,0\n"
    "10.0.0.25,02:00:00:00:03:06,,0,4102444800,1,0,0,gone,0,,0\n"
    "10.0.0.26,02:00:00:00:03:07,,4000,1000000000,1,0,0,old,0,,0\n"
    "10.0.0.27,52:54:00:AB:CD:08,,4000,4102444800,1,0,0,upper,0,,0\n"
    "10.0.0.28,,,4000,4102444800,1,0,0,nohw,0,,0\n"
    "10.0.0.29,02:00:00:00:03:09,,4294967295,1000000000,1,0,0,infinite,0,,0\n"
    "10.0.0.21,02:00:00:00:09:09,,40";

/* Kea lease6: the hwaddr column is elsewhere; named columns find it. */
static const char kea6_leases[] =
    "address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,"
    "hostname,hwaddr,state,user_context,hwtype,hwaddr_source,pool_id\n"
    "fd00::21,00:03:00:01:02:00:00:00:04:01,4000,4102444800,1,3000,0,1,128,0,0,v6host,02:00:00:00:04:01,0,,1,2,0\n"
    "fd00::22,00:03:00:01:02:00:00:00:04:02,4000,4102444800,1,3000,0,1,128,0,0,,,0,,1,0,0\n";

static char *
tpath(const char *name)
{
	static char buf[8][600];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
	return buf[k];
}

static void
write_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Looks ip up in an exact-size heap copy of text, so reading past the end is caught under ASan. */
static const char *
lookup(const char *text, size_t n, const char *ip)
{
	static char mac[18];
	char *copy = xmalloc(n > 0 ? n : 1);
	int rc;

	memcpy(copy, text, n);
	rc = leases_parse(copy, n, ip, mac);
	free(copy);
	if (rc != 0) {
		assert_int_equal(rc, 1);
		assert_string_equal(mac, "");
		return NULL;
	}
	assert_int_equal(strlen(mac), 17);
	return mac;
}

/* The same text with every "\n" made "\r\n". */
static char *
crlf(const char *text, size_t *n)
{
	char *out = xmalloc(strlen(text) * 2 + 1), *o = out;

	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			*o++ = '\r';
		*o++ = *p;
	}
	*o = '\0';
	*n = (size_t)(o - out);
	return out;
}

#define FOUND(text, n, ip, want) do { const char *m_ = lookup(text, n, ip); \
	assert_non_null(m_); assert_string_equal(m_, want); } while (0)
#define NOT_FOUND(text, n, ip) assert_null(lookup(text, n, ip))
/* The same for a string literal, which may hold NUL bytes. */
#define FOUNDL(lit, ip, want) FOUND(lit, sizeof(lit) - 1, ip, want)
#define NOT_FOUNDL(lit, ip) NOT_FOUND(lit, sizeof(lit) - 1, ip)

static void
check_dnsmasq(const char *t, size_t n)
{
	FOUND(t, n, "10.0.0.11", "02:00:00:00:01:01");
	FOUND(t, n, "::ffff:10.0.0.11", "02:00:00:00:01:01");
	FOUND(t, n, "10.0.0.12", "52:54:00:ab:cd:ef");		/* upper case in the file */
	NOT_FOUND(t, n, "10.0.0.13");				/* expired */
	FOUND(t, n, "10.0.0.14", "02:00:00:00:01:04");		/* expiry 0: never */
	FOUND(t, n, "10.0.0.15", "02:00:00:00:01:05");		/* hostile host name beside it */
	NOT_FOUND(t, n, "10.0.0.16");				/* InfiniBand, not Ethernet */
	FOUND(t, n, "10.0.0.17", "02:00:00:00:01:77");		/* the later expiry */
	NOT_FOUND(t, n, "10.0.0.18");				/* all-zero MAC */
	NOT_FOUND(t, n, "10.0.0.99");
	NOT_FOUND(t, n, "fd00::1234");				/* IPv6: an IAID, no MAC */
	NOT_FOUND(t, n, "fd00::1235");
	NOT_FOUND(t, n, "305419896");
}

static void
test_dnsmasq(void **state)
{
	size_t n;
	char *c;

	check_dnsmasq(dnsmasq_leases, strlen(dnsmasq_leases));
	c = crlf(dnsmasq_leases, &n);
	check_dnsmasq(c, n);
	free(c);
	/* Cut in the middle of the first line's address: only the rest counts. */
	NOT_FOUND(dnsmasq_leases, 31, "10.0.0.11");
	NOT_FOUND(dnsmasq_leases, 32, "10.0.0.11");
	/* The address field cut: "10.0.0.1" must not take 10.0.0.11's MAC. */
	NOT_FOUND(dnsmasq_leases, 37, "10.0.0.1");
	for (size_t cut = 0; cut < strlen(dnsmasq_leases); cut++) {
		const char *m = lookup(dnsmasq_leases, cut, "10.0.0.1");

		assert_null(m);
	}
}

static void
check_isc(const char *t, size_t n)
{
	/* The last block of 10.0.0.11 never ended: the complete one before it decides. */
	FOUND(t, n, "10.0.0.11", "02:00:00:00:02:01");
	NOT_FOUND(t, n, "10.0.0.12");				/* released: binding state free */
	FOUND(t, n, "10.0.0.13", "52:54:00:ab:cd:03");		/* the later block */
	NOT_FOUND(t, n, "10.0.0.14");				/* ended in 2001 */
	NOT_FOUND(t, n, "10.0.0.15");				/* binding state expired */
	FOUND(t, n, "10.0.0.16", "02:00:00:00:02:06");		/* not the on-expiry block's */
	NOT_FOUND(t, n, "10.0.0.17");				/* only inside a quoted name */
	NOT_FOUND(t, n, "10.0.0.19");				/* only in a comment */
	NOT_FOUND(t, n, "10.0.0.20");				/* a host declaration, not a lease */
	FOUND(t, n, "10.0.0.21", "02:00:00:00:02:15");		/* dhcpd 2, one-digit groups */
	NOT_FOUND(t, n, "fd00::5");
	NOT_FOUND(t, n, "10.0.0.99");
}

static void
test_isc(void **state)
{
	size_t n;
	char *c;

	check_isc(isc_leases, strlen(isc_leases));
	c = crlf(isc_leases, &n);
	check_isc(c, n);
	free(c);
	/* A block cut before its '}' at every length: never another lease's MAC. */
	for (size_t cut = 0; cut < strlen(isc_leases); cut++) {
		const char *m = lookup(isc_leases, cut, "10.0.0.16");

		if (m != NULL)
			assert_string_equal(m, "02:00:00:00:02:06");
		m = lookup(isc_leases, cut, "10.0.0.17");
		assert_null(m);
		m = lookup(isc_leases, cut, "10.0.0.11");
		if (m != NULL)
			assert_string_equal(m, "02:00:00:00:02:01");
	}
	/* An unterminated quoted string swallows the rest. */
	NOT_FOUNDL("lease 10.0.0.1 { client-hostname \"x; hardware ethernet 02:00:00:00:00:01; }\n", "10.0.0.1");
	/* The end of a file read from its middle: a stray '}' before the first whole block. */
	FOUNDL("  hardware ethernet 66:66:66:66:66:66;\n}\nlease 10.0.0.1 {\n  binding state active;\n"
	    "  hardware ethernet 02:00:00:00:00:01;\n}\n", "10.0.0.1", "02:00:00:00:00:01");
}

static void
check_kea(const char *t, size_t n)
{
	/* The last row of 10.0.0.21 is cut short: the whole one before it decides. */
	FOUND(t, n, "10.0.0.21", "02:00:00:00:03:01");
	FOUND(t, n, "10.0.0.22", "02:00:00:00:03:03");		/* the last row wins */
	NOT_FOUND(t, n, "10.0.0.23");				/* declined */
	NOT_FOUND(t, n, "10.0.0.24");				/* expired-reclaimed */
	NOT_FOUND(t, n, "10.0.0.25");				/* deleted: valid_lifetime 0 */
	NOT_FOUND(t, n, "10.0.0.26");				/* expired */
	FOUND(t, n, "10.0.0.27", "52:54:00:ab:cd:08");
	NOT_FOUND(t, n, "10.0.0.28");				/* no hardware address */
	FOUND(t, n, "10.0.0.29", "02:00:00:00:03:09");		/* infinite lifetime */
	NOT_FOUND(t, n, "10.0.0.99");
}

static void
test_kea(void **state)
{
	size_t n;
	char *c;

	check_kea(kea_leases, strlen(kea_leases));
	c = crlf(kea_leases, &n);
	check_kea(c, n);
	free(c);
	FOUND(kea6_leases, strlen(kea6_leases), "fd00::21", "02:00:00:00:04:01");
	FOUND(kea6_leases, strlen(kea6_leases), "FD00:0::21", "02:00:00:00:04:01");
	NOT_FOUND(kea6_leases, strlen(kea6_leases), "fd00::22");
	NOT_FOUND(kea6_leases, strlen(kea6_leases), "10.0.0.21");
	/* Without a header naming address and hwaddr, nothing is taken. */
	NOT_FOUNDL("address,client_id\n10.0.0.21,02:00:00:00:03:01\n", "10.0.0.21");
	for (size_t cut = 0; cut < strlen(kea_leases); cut++) {
		const char *m = lookup(kea_leases, cut, "10.0.0.22");

		if (m != NULL)
			assert_true(strcmp(m, "02:00:00:00:03:02") == 0 || strcmp(m, "02:00:00:00:03:03") == 0);
	}
}

static void
test_odd_input(void **state)
{
	static const char *const bad_ips[] = { "", "10.0.0.11 ", "10.0.0.11\n", "x", "10.0.0.011", NULL };
	char mac[18];

	for (size_t i = 0; bad_ips[i] != NULL; i++)
		NOT_FOUND(dnsmasq_leases, strlen(dnsmasq_leases), bad_ips[i]);
	assert_int_equal(leases_parse(dnsmasq_leases, strlen(dnsmasq_leases), NULL, mac), 1);
	NOT_FOUNDL("", "10.0.0.11");
	NOT_FOUNDL("\n\n# nothing\n", "10.0.0.11");
	NOT_FOUNDL("\0\0\0", "10.0.0.11");
	/* NUL bytes inside a line do not end the text early nor join fields. */
	FOUNDL("4102444800 02:00:00:00:01:01 10.0.0.11 a\0b *\n4102444800 02:00:00:00:01:02 10.0.0.12 * *\n",
	    "10.0.0.12", "02:00:00:00:01:02");
	FOUNDL("4102444800 02:00:00:00:01:01 10.0.0.11 a\0b *\n4102444800 02:00:00:00:01:02 10.0.0.12 * *\n",
	    "10.0.0.11", "02:00:00:00:01:01");
	/* A last line without its newline may be cut short (dnsmasq rewrites in place). */
	NOT_FOUNDL("4102444800 02:00:00:00:01:01 10.0.0.1", "10.0.0.1");
	/* A byte-order mark and comment lines before a Kea header. */
	FOUNDL("\xef\xbb\xbf\naddress,hwaddr,state\n10.0.0.5,02:00:00:00:00:05,0\n", "10.0.0.5",
	    "02:00:00:00:00:05");
}

static void
write_config(const char *path, const char *body)
{
	write_file(path, body, strlen(body));
	chmod(path, 0600);
}

static void
load(struct config *cfg, const char *body)
{
	write_config(tpath("sw.conf"), body);
	config_defaults(cfg);
	assert_int_equal(config_load(tpath("sw.conf"), cfg, stderr), 0);
}

static void
test_lookup_files(void **state)
{
	struct config cfg;
	char body[2048], mac[18], source[300];
	char *big;
	size_t n, pad;
	const char *block = "lease 10.9.0.1 {\n  binding state active;\n  hardware ethernet 02:00:00:00:0f:01;\n}\n";

	write_file(tpath("dnsmasq.leases"), dnsmasq_leases, strlen(dnsmasq_leases));
	write_file(tpath("dhcpd.leases"), isc_leases, strlen(isc_leases));
	write_file(tpath("kea-leases4.csv"), kea_leases, strlen(kea_leases));
	assert_int_equal(mkdir(tpath("adir"), 0700), 0);
	assert_int_equal(mkfifo(tpath("fifo"), 0600), 0);
	snprintf(body, sizeof body, "[network]\ndhcp leases = %s, %s, %s, %s, %s, %s\n", tpath("missing"),
	    tpath("adir"), tpath("fifo"), tpath("dnsmasq.leases"), tpath("dhcpd.leases"),
	    tpath("kea-leases4.csv"));
	load(&cfg, body);
	assert_int_equal(leases_lookup(&cfg, "10.0.0.11", mac, source, sizeof source), 0);
	assert_string_equal(mac, "02:00:00:00:01:01");		/* the first file that knows it */
	snprintf(body, sizeof body, "dhcp %s", tpath("dnsmasq.leases"));
	assert_string_equal(source, body);
	assert_int_equal(leases_lookup(&cfg, "10.0.0.13", mac, source, sizeof source), 0);
	assert_string_equal(mac, "52:54:00:ab:cd:03");		/* expired in dnsmasq, active in dhcpd */
	snprintf(body, sizeof body, "dhcp %s", tpath("dhcpd.leases"));
	assert_string_equal(source, body);
	assert_int_equal(leases_lookup(&cfg, "10.0.0.22", mac, source, sizeof source), 0);
	assert_string_equal(mac, "02:00:00:00:03:03");
	assert_int_equal(leases_lookup(&cfg, "10.0.0.99", mac, source, sizeof source), 1);
	assert_string_equal(mac, "");
	assert_string_equal(source, "");
	config_free(&cfg);

	/* Larger than what is read: the newest leases, at the end, are the ones read. */
	pad = (6u << 20) / strlen(block) + 1;
	big = xmalloc(pad * strlen(block) + 256);
	n = 0;
	for (size_t i = 0; i < pad; i++) {
		memcpy(big + n, block, strlen(block));
		n += strlen(block);
	}
	n += (size_t)snprintf(big + n, 256, "lease 10.9.0.2 {\n  binding state active;\n"
	    "  hardware ethernet 02:00:00:00:0f:02;\n}\n");
	write_file(tpath("big.leases"), big, n);
	/* Kea: the header is kept with the end. */
	n = (size_t)snprintf(big, 256, "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,state\n");
	for (size_t i = 0; n < (6u << 20); i++)
		n += (size_t)snprintf(big + n, 256, "10.8.%zu.%zu,02:00:00:00:0e:01,,4000,4102444800,1,0\n",
		    (i / 250) % 250, i % 250 + 1);
	n += (size_t)snprintf(big + n, 256, "10.9.0.3,02:00:00:00:0f:03,,4000,4102444800,1,0\n");
	write_file(tpath("big.csv"), big, n);
	free(big);
	snprintf(body, sizeof body, "[network]\ndhcp leases = %s, %s\n", tpath("big.leases"), tpath("big.csv"));
	load(&cfg, body);
	assert_int_equal(leases_lookup(&cfg, "10.9.0.2", mac, source, sizeof source), 0);
	assert_string_equal(mac, "02:00:00:00:0f:02");
	assert_int_equal(leases_lookup(&cfg, "10.9.0.1", mac, source, sizeof source), 0);
	assert_int_equal(leases_lookup(&cfg, "10.9.0.3", mac, source, sizeof source), 0);
	assert_string_equal(mac, "02:00:00:00:0f:03");
	snprintf(body, sizeof body, "dhcp %s", tpath("big.csv"));
	assert_string_equal(source, body);
	config_free(&cfg);
}

static void
run_ok(const char *const argv[])
{
	struct run_result r;

	if (run_argv(argv, &r, 10000) != 0)
		fprintf(stderr, "%s: status %d: %s\n", argv[1], r.status, r.err);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
}

/* neighbour, then the routers over SNMP (none answers here), then the lease files. */
static void
test_mac_lookup(void **state)
{
	const char *veth[] = { IP_TOOL, "link", "add", "swlease0", "type", "veth", "peer", "name", "swlease1", NULL };
	const char *up[] = { IP_TOOL, "link", "set", "swlease0", "up", NULL };
	const char *addr[] = { IP_TOOL, "addr", "add", "10.0.0.1/24", "dev", "swlease0", NULL };
	const char *neigh[] = { IP_TOOL, "neigh", "replace", "10.0.0.12", "lladdr", "02:00:00:00:aa:12", "dev",
	    "swlease0", "nud", "permanent", NULL };
	struct config cfg;
	char body[1024], mac[18], source[300];
	int64_t t0;

	const char *lo[] = { IP_TOOL, "link", "set", "lo", "up", NULL };

	if (!netns)
		skip();
	run_ok(lo);
	run_ok(veth);
	run_ok(up);
	run_ok(addr);
	run_ok(neigh);
	write_file(tpath("chain.leases"), dnsmasq_leases, strlen(dnsmasq_leases));
	/* A router that never answers: its timeout is short, then the leases are asked. */
	snprintf(body, sizeof body, "[network]\ndhcp leases = %s\n\n[router edge]\naddress = 127.0.0.1:9\n"
	    "community = public\ntimeout = 100ms\nretries = 0\n", tpath("chain.leases"));
	load(&cfg, body);
	/* On the segment: the kernel's neighbour entry wins over the lease file's older MAC. */
	assert_int_equal(mac_lookup(&cfg, "10.0.0.12", mac, source, sizeof source), 0);
	assert_string_equal(mac, "02:00:00:00:aa:12");
	assert_string_equal(source, "neighbour");
	t0 = mono_ms();
	assert_int_equal(mac_lookup(&cfg, "10.0.0.11", mac, source, sizeof source), 0);
	assert_true(mono_ms() - t0 < 5000);
	assert_string_equal(mac, "02:00:00:00:01:01");
	snprintf(body, sizeof body, "dhcp %s", tpath("chain.leases"));
	assert_string_equal(source, body);
	assert_int_equal(mac_lookup(&cfg, "10.0.0.99", mac, source, sizeof source), 1);
	assert_string_equal(mac, "");
	assert_string_equal(source, "");
	assert_int_equal(mac_lookup(&cfg, "", mac, source, sizeof source), 1);
	config_free(&cfg);
}

static int
setup(void **state)
{
	log_init(1, LOG_LVL_ERROR);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if (geteuid() == 0 && access(IP_TOOL, X_OK) == 0) {
		/* The neighbour entries and links the chain test makes stay in a namespace of our own. */
		if (unshare(CLONE_NEWNET) == -1) {
			fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
			return -1;
		}
		netns = 1;
	} else
		fprintf(stderr, "not root: the lookup chain test is skipped\n");
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
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsmasq),
		cmocka_unit_test(test_isc),
		cmocka_unit_test(test_kea),
		cmocka_unit_test(test_odd_input),
		cmocka_unit_test(test_lookup_files),
		cmocka_unit_test(test_mac_lookup),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
