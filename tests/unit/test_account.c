/* Unit tests of the directory account backends' pure parts: RFC 4515 filters, binary SIDs, protected groups, secrets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "respond.h"
#include "util.h"

static void
expect_filter(const char *name, const char *want)
{
	char buf[512];

	assert_int_equal(account_filter(name, buf, sizeof buf), 0);
	assert_string_equal(buf, want);
}

static void
test_filter_escaping(void **state)
{
	char buf[64];

	expect_filter("alice", "(&(objectClass=user)(sAMAccountName=alice))");
	expect_filter("svc_backup.01-x", "(&(objectClass=user)(sAMAccountName=svc_backup.01-x))");
	/* The characters RFC 4515 names (* ( ) \ NUL) and every other one an attacker could use. */
	expect_filter("*", "(&(objectClass=user)(sAMAccountName=\\2a))");
	expect_filter("a*)(objectClass=*", "(&(objectClass=user)(sAMAccountName=a\\2a\\29\\28objectClass\\3d\\2a))");
	expect_filter("x)(|(sAMAccountName=admin", "(&(objectClass=user)(sAMAccountName="
	    "x\\29\\28\\7c\\28sAMAccountName\\3dadmin))");
	expect_filter("back\\slash", "(&(objectClass=user)(sAMAccountName=back\\5cslash))");
	expect_filter("a b&c!d", "(&(objectClass=user)(sAMAccountName=a\\20b\\26c\\21d))");
	/* UTF-8 goes byte by byte: "Jürgen". */
	expect_filter("J\xc3\xbcrgen", "(&(objectClass=user)(sAMAccountName=J\\c3\\bcrgen))");
	expect_filter("", "(&(objectClass=user)(sAMAccountName=))");

	/* A NUL inside the value is escaped, not the end of the filter. */
	assert_int_equal(account_filter_value("a\0b", 3, buf, sizeof buf), 0);
	assert_string_equal(buf, "a\\00b");
	assert_int_equal(account_filter_value("\x01\x7f\xff", 3, buf, sizeof buf), 0);
	assert_string_equal(buf, "\\01\\7f\\ff");

	/* Exactly full and one byte short. */
	assert_int_equal(account_filter_value("abc", 3, buf, 4), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(account_filter_value("abc", 3, buf, 3), -1);
	assert_int_equal(account_filter_value("(", 1, buf, 4), 0);
	assert_string_equal(buf, "\\28");
	assert_int_equal(account_filter_value("(", 1, buf, 3), -1);
	assert_int_equal(account_filter("alice", buf, 30), -1);
	assert_int_equal(account_filter("alice", buf, 44), 0);
	assert_int_equal(account_filter("alice", buf, 43), -1);
}

/* Every filter of random bytes is balanced and holds nothing but its own parentheses and \XX escapes. */
static void
test_filter_random(void **state)
{
	char name[64], buf[512];

	srand(4515);
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand() % 40), depth = 0;
		const char *v;

		for (size_t i = 0; i < n; i++)
			name[i] = (char)(1 + rand() % 255);
		name[n] = '\0';
		assert_int_equal(account_filter(name, buf, sizeof buf), 0);
		for (const char *p = buf; *p; p++) {
			if (*p == '(')
				depth++;
			else if (*p == ')') {
				assert_true(depth > 0);
				depth--;
			}
		}
		assert_int_equal(depth, 0);
		v = buf + strlen("(&(objectClass=user)(sAMAccountName=");
		for (const char *p = v; *p != ')'; p++) {
			if (*p == '\\') {
				assert_non_null(strchr("0123456789abcdef", p[1]));
				assert_non_null(strchr("0123456789abcdef", p[2]));
				p += 2;
			} else
				assert_non_null(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p));
		}
	}
}

static void
test_sid_text(void **state)
{
	/* LAB\alice as the DC's objectSid holds it (S-1-5-21-3177681844-994759504-3157270980-1103). */
	static const unsigned char alice[] = {
		0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
		0x15, 0x00, 0x00, 0x00, 0xb4, 0x93, 0x67, 0xbd, 0x50, 0xd3, 0x4a, 0x3b, 0xc4, 0x21, 0x30, 0xbc,
		0x4f, 0x04, 0x00, 0x00,
	};
	/* BUILTIN\Administrators, S-1-5-32-544; Everyone, S-1-1-0; the null SID S-1-0 with no sub-authority. */
	static const unsigned char admins[] = { 1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0 };
	static const unsigned char everyone[] = { 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
	static const unsigned char bare[] = { 1, 0, 0, 0, 0, 0, 0, 0 };
	/* An authority of 2^32 or more is printed in hex; the largest sub-authority in full. */
	static const unsigned char big[] = { 1, 1, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
	unsigned char sid15[8 + 60], bad[sizeof alice];
	char buf[200];

	assert_int_equal(account_sid_text(alice, sizeof alice, buf, sizeof buf), 0);
	assert_string_equal(buf, "S-1-5-21-3177681844-994759504-3157270980-1103");
	assert_int_equal(account_sid_text(admins, sizeof admins, buf, sizeof buf), 0);
	assert_string_equal(buf, "S-1-5-32-544");
	assert_int_equal(account_sid_text(everyone, sizeof everyone, buf, sizeof buf), 0);
	assert_string_equal(buf, "S-1-1-0");
	assert_int_equal(account_sid_text(bare, sizeof bare, buf, sizeof buf), 0);
	assert_string_equal(buf, "S-1-0");
	assert_int_equal(account_sid_text(big, sizeof big, buf, sizeof buf), 0);
	assert_string_equal(buf, "S-1-0x000100000000-4294967295");

	/* Fifteen sub-authorities is the most a SID has. */
	memset(sid15, 0xff, sizeof sid15);
	memcpy(sid15, "\x01\x0f\x00\x00\x00\x00\x00\x05", 8);
	assert_int_equal(account_sid_text(sid15, sizeof sid15, buf, sizeof buf), 0);
	assert_int_equal(strncmp(buf, "S-1-5-4294967295-", 17), 0);
	sid15[1] = 16;
	assert_int_equal(account_sid_text(sid15, sizeof sid15, buf, sizeof buf), -1);

	/* Not a SID: a wrong revision, a count the length does not match, too short. */
	memcpy(bad, alice, sizeof alice);
	bad[0] = 2;
	assert_int_equal(account_sid_text(bad, sizeof bad, buf, sizeof buf), -1);
	assert_int_equal(account_sid_text(alice, sizeof alice - 1, buf, sizeof buf), -1);
	assert_int_equal(account_sid_text(alice, sizeof alice + 0, buf, sizeof buf), 0);
	memcpy(bad, alice, sizeof alice);
	bad[1] = 4;
	assert_int_equal(account_sid_text(bad, sizeof bad, buf, sizeof buf), -1);
	assert_int_equal(account_sid_text(alice, 7, buf, sizeof buf), -1);
	assert_int_equal(account_sid_text(alice, 0, buf, sizeof buf), -1);

	/* Too small a buffer fails, one just big enough does not. */
	assert_int_equal(account_sid_text(admins, sizeof admins, buf, 12), -1);
	assert_int_equal(account_sid_text(admins, sizeof admins, buf, 13), 0);
	assert_string_equal(buf, "S-1-5-32-544");
	assert_int_equal(account_sid_text(admins, sizeof admins, buf, 4), -1);
}

static void
test_protected_dn(void **state)
{
	char *groups[] = { "Domain Admins", "LAB\\Backup Operators" };
	char *accounts[] = { "root", "S-1-5-21-1-2-3-500" };
	struct config cfg;
	char why[128];

	memset(&cfg, 0, sizeof cfg);
	cfg.protected_groups = groups;
	cfg.n_protected_groups = 2;
	cfg.protected_accounts = accounts;
	cfg.n_protected = 2;
	assert_true(account_group_protected(&cfg, "CN=Domain Admins,CN=Users,DC=lab,DC=test", why, sizeof why));
	assert_string_equal(why, "protected account: member of Domain Admins");
	assert_true(account_group_protected(&cfg, "cn=domain admins,CN=Users,DC=lab,DC=test", why, sizeof why));
	/* The domain of a configured group is left out; the builtin container does not matter. */
	assert_true(account_group_protected(&cfg, "CN=Backup Operators,CN=Builtin,DC=lab,DC=test", why, sizeof why));
	assert_string_equal(why, "protected account: member of Backup Operators");
	/* The CN must be the whole name: not a prefix, not a longer name, not another attribute. */
	assert_false(account_group_protected(&cfg, "CN=Domain Admins Helpers,CN=Users,DC=lab,DC=test", why,
	    sizeof why));
	assert_false(account_group_protected(&cfg, "CN=Domain,CN=Users,DC=lab,DC=test", why, sizeof why));
	assert_false(account_group_protected(&cfg, "OU=Domain Admins,DC=lab,DC=test", why, sizeof why));
	assert_false(account_group_protected(&cfg, "CN=Domain\\, Admins,CN=Users,DC=lab,DC=test", why, sizeof why));
	assert_false(account_group_protected(&cfg, "", why, sizeof why));
	assert_true(account_sid_protected(&cfg, "S-1-5-21-1-2-3-500", why, sizeof why));
	assert_string_equal(why, "protected account: SID S-1-5-21-1-2-3-500");
	assert_false(account_sid_protected(&cfg, "S-1-5-21-1-2-3-5000", why, sizeof why));
}

static void
write_secret(const char *path, const char *data, size_t n, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void
test_secret_file(void **state)
{
	char dir[] = "/tmp/sw-test-account.XXXXXX", path[64], buf[64], err[256], big[200];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/pw", dir);

	write_secret(path, "Svc-Pass-1\n", 11, 0600);
	assert_int_equal(secret_file_read("ldap password file", path, buf, sizeof buf, err, sizeof err), 0);
	assert_string_equal(buf, "Svc-Pass-1");
	/* No line end, a CRLF, and a second line (left out): the first line is the password. */
	write_secret(path, "p w", 3, 0400);
	assert_int_equal(secret_file_read("f", path, buf, sizeof buf, err, sizeof err), 0);
	assert_string_equal(buf, "p w");
	write_secret(path, "pw\r\nmore\n", 9, 0600);
	assert_int_equal(secret_file_read("f", path, buf, sizeof buf, err, sizeof err), 0);
	assert_string_equal(buf, "pw");

	/* Readable, or only writable, by group or others: refused, with the fix. */
	write_secret(path, "pw\n", 3, 0640);
	assert_int_equal(secret_file_read("ldap password file", path, buf, sizeof buf, err, sizeof err), -1);
	assert_string_equal(buf, "");
	assert_non_null(strstr(err, "is open to group or others (mode 640)"));
	assert_non_null(strstr(err, "chmod 600 "));
	write_secret(path, "pw\n", 3, 0602);
	assert_int_equal(secret_file_read("f", path, buf, sizeof buf, err, sizeof err), -1);
	assert_non_null(strstr(err, "(mode 602)"));
	write_secret(path, "pw\n", 3, 0604);
	assert_int_equal(secret_file_read("f", path, buf, sizeof buf, err, sizeof err), -1);

	/* Empty (an anonymous bind), a NUL byte, too long for the buffer. */
	write_secret(path, "\n", 1, 0600);
	assert_int_equal(secret_file_read("f", path, buf, sizeof buf, err, sizeof err), -1);
	assert_non_null(strstr(err, "is empty"));
	write_secret(path, "", 0, 0600);
	assert_int_equal(secret_file_read("f", path, buf, sizeof buf, err, sizeof err), -1);
	write_secret(path, "p\0w\n", 4, 0600);
	assert_int_equal(secret_file_read("f", path, buf, sizeof buf, err, sizeof err), -1);
	assert_non_null(strstr(err, "NUL"));
	memset(big, 'x', sizeof big);
	write_secret(path, big, sizeof big, 0600);
	assert_int_equal(secret_file_read("f", path, buf, sizeof buf, err, sizeof err), -1);
	assert_non_null(strstr(err, "too long"));
	assert_int_equal(buf[0], '\0');

	/* Missing, and a folder. */
	unlink(path);
	assert_int_equal(secret_file_read("f", path, buf, sizeof buf, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(secret_file_read("f", dir, buf, sizeof buf, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_escaping),
		cmocka_unit_test(test_filter_random),
		cmocka_unit_test(test_sid_text),
		cmocka_unit_test(test_protected_dn),
		cmocka_unit_test(test_secret_file),
	};

	log_init(1, LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
