/* Unit tests of snapshots: names, retention, choosing one, and the btrfs, command and zfs backends for real. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "log.h"
#include "snapshot.h"
#include "util.h"
#include "loopvol.h"

#define HOUR	3600000LL
#define DAY	(24 * HOUR)
/* 2026-11-27 08:15:00 UTC */
#define T0	1795767300000LL

static const char *
tool(const char *name)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	static char buf[8][128];
	static int k;
	char *p = buf[k++ % 8];

	for (size_t i = 0; i < nitems(dirs); i++) {
		snprintf(p, sizeof buf[0], "%s/%s", dirs[i], name);
		if (access(p, X_OK) == 0)
			return p;
	}
	return NULL;
}

static int quiet;

/* Runs argv; its first stdout line goes to out. Returns the exit status. */
static int
run(const char *const argv[], char *out, size_t outsz)
{
	struct run_result r;
	int st;

	if (argv[0] == NULL)
		return -1;
	memset(&r, 0, sizeof r);
	run_argv(argv, &r, 60000);
	st = r.status;
	if (st != 0 && !quiet)
		fprintf(stderr, "%s %s: status %d: %s", argv[0], argv[1] ? argv[1] : "", st, r.err ? r.err : "");
	if (out != NULL) {
		snprintf(out, outsz, "%s", r.out ? r.out : "");
		out[strcspn(out, "\n")] = '\0';
	}
	run_result_free(&r);
	return st;
}

static void
write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	assert_int_equal(close(fd), 0);
}

/* The file's contents, "" when it cannot be read. */
static char *
read_file(const char *path)
{
	static char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static char *
join(const char *a, const char *b)
{
	static char buf[8][PATH_MAX];
	static int k;
	char *p = buf[k++ % 8], tmp[PATH_MAX];

	/* Through tmp: a or b may be an earlier result. */
	if (snprintf(tmp, sizeof tmp, "%s/%s", a, b) >= (int)sizeof tmp)
		fail_msg("path too long");
	memcpy(p, tmp, sizeof tmp);
	return p;
}

/* Waits until the clock is early in a second, so that the next calls fall in the same second. */
static void
early_in_second(void)
{
	while (now_ms() % 1000 > 300)
		usleep(20000);
}

/* Waits for the next second, so that the next snapshot gets another name. */
static void
next_second(void)
{
	int64_t s = now_ms() / 1000;

	while (now_ms() / 1000 == s)
		usleep(20000);
}

static void
share_init(struct share *sh, const char *name, const char *path, int kind)
{
	memset(sh, 0, sizeof *sh);
	sh->name = (char *)name;
	sh->path = (char *)path;
	sh->snap_kind = kind;
	sh->snap_dir = (char *)"";
	sh->zfs_dataset = (char *)"";
	sh->snap_create = (char *)"";
	sh->snap_delete = (char *)"";
}

/* ---- names ---- */

static void
test_names(void **state)
{
	struct share sh;
	char buf[SNAP_NAME_MAX];
	int64_t t;

	(void)state;
	share_init(&sh, "docs", "/srv/docs", SNAP_BTRFS);
	snapshot_name(&sh, T0 + 999, buf, sizeof buf);
	assert_string_equal(buf, "@GMT-2026.11.27-08.15.00");
	snapshot_name(NULL, 0, buf, sizeof buf);
	assert_string_equal(buf, "@GMT-1970.01.01-00.00.00");
	/* Before 1970 a time still rounds down to its second. */
	snapshot_name(NULL, -1, buf, sizeof buf);
	assert_string_equal(buf, "@GMT-1969.12.31-23.59.59");
	sh.snap_kind = SNAP_ZFS;
	snapshot_name(&sh, T0, buf, sizeof buf);
	assert_string_equal(buf, "GMT-2026.11.27-08.15.00");
	sh.snap_kind = SNAP_COMMAND;
	snapshot_name(&sh, T0 + 1000, buf, sizeof buf);
	assert_string_equal(buf, "@GMT-2026.11.27-08.15.01");

	assert_int_equal(snapshot_parse_name("@GMT-2026.11.27-08.15.00", &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(snapshot_parse_name("GMT-2026.11.27-08.15.01", &t), 0);
	assert_int_equal(t, T0 + 1000);
	assert_int_equal(snapshot_parse_name("@GMT-2024.02.29-23.59.59", &t), 0);
	assert_int_equal(t, 1709251199000LL);
	assert_int_equal(snapshot_parse_name("@GMT-1970.01.01-00.00.00", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(snapshot_parse_name("@GMT-1969.12.31-23.59.59", &t), 0);
	assert_int_equal(t, -1000);
	/* Round trip of every name we make. */
	for (int64_t x = T0 - 400 * DAY; x < T0 + 400 * DAY; x += 7 * HOUR + 13001) {
		snapshot_name(NULL, x, buf, sizeof buf);
		assert_int_equal(snapshot_parse_name(buf, &t), 0);
		assert_int_equal(t, x - x % 1000);
	}
}

static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "@", "@GMT", "@GMT-", "GMT", "@GMT-2026.11.27-08.15", "@GMT-2026.11.27-08.15.0",
		"@GMT-2026.11.27-08.15.000", "@GMT-2026.11.27-08.15.00 ", " @GMT-2026.11.27-08.15.00",
		"@GMT-2026.11.27-08.15.00\n", "@@GMT-2026.11.27-08.15.00", "@gmt-2026.11.27-08.15.00",
		"@UTC-2026.11.27-08.15.00", "@GMT_2026.11.27-08.15.00", "@GMT-2026-11-27-08.15.00",
		"@GMT-2026.11.27_08.15.00", "@GMT-2026.11.27-08:15:00", "@GMT-2026.11.27-08.15.0a",
		"@GMT-2O26.11.27-08.15.00", "@GMT-2026.1.127-08.15.00", "@GMT-+026.11.27-08.15.00",
		"@GMT- 026.11.27-08.15.00", "@GMT-2026.00.10-08.15.00", "@GMT-2026.13.10-08.15.00",
		"@GMT-2026.11.00-08.15.00", "@GMT-2026.11.31-08.15.00", "@GMT-2026.02.29-08.15.00",
		"@GMT-2100.02.29-00.00.00", "@GMT-2026.11.27-24.00.00", "@GMT-2026.11.27-08.60.00",
		"@GMT-2026.11.27-08.15.60", "@GMT-2026.11.27-08.15.99", "@GMT-2026.11.27-08.15.-1",
		"@GMT-2026.11.27-08.15.00/..", "x@GMT-2026.11.27-08.15.00", "GMT-2026.11.27-08.15.00@",
		"@GMT-2026.11.27-08.15.00.snap", "@GMT-2026.11.27-08.15.0\xff",
		/* found by fuzz_snapname: strftime would name that time "@GMT-984.12.31-23.59.58" */
		"@GMT-0984.12.31-23.59.58", "GMT-0000.01.01-00.00.00",
	};
	int64_t t = 42;

	(void)state;
	for (size_t i = 0; i < nitems(bad); i++) {
		if (snapshot_parse_name(bad[i], &t) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(t, 42);
	}
	assert_int_equal(snapshot_parse_name(NULL, &t), -1);
}

/* ---- choosing a snapshot ---- */

static void
test_before(void **state)
{
	struct snap_info l[3];

	(void)state;
	memset(l, 0, sizeof l);
	snprintf(l[0].name, sizeof l[0].name, "a");
	l[0].taken_ms = T0;
	l[0].precise = 0;
	snprintf(l[1].name, sizeof l[1].name, "b");
	l[1].taken_ms = T0 + 10000;
	l[1].precise = 0;
	snprintf(l[2].name, sizeof l[2].name, "c");
	l[2].taken_ms = T0 + 20500;
	l[2].precise = 1;

	assert_null(snapshot_before(l, 0, T0 + 99999));
	assert_null(snapshot_before(l, 3, T0));
	/* From the name only: it may have been taken up to 999 ms after its second. */
	assert_null(snapshot_before(l, 3, T0 + 999));
	assert_ptr_equal(snapshot_before(l, 3, T0 + 1000), &l[0]);
	assert_ptr_equal(snapshot_before(l, 3, T0 + 10999), &l[0]);
	assert_ptr_equal(snapshot_before(l, 3, T0 + 11000), &l[1]);
	/* Precise: strictly before. */
	assert_ptr_equal(snapshot_before(l, 3, T0 + 20500), &l[1]);
	assert_ptr_equal(snapshot_before(l, 3, T0 + 20501), &l[2]);
	assert_ptr_equal(snapshot_before(l, 3, INT64_MAX), &l[2]);
	assert_null(snapshot_before(l, 3, INT64_MIN + 1));
	/* Not relying on the order. */
	{
		struct snap_info r[3] = { l[2], l[0], l[1] };

		assert_ptr_equal(snapshot_before(r, 3, T0 + 15000), &r[2]);
		assert_ptr_equal(snapshot_before(r, 3, T0 + 30000), &r[0]);
	}
}

/* ---- retention ---- */

static struct snap_info rl[512];
static unsigned char keep[512];

static size_t
mklist(const int64_t *t, size_t n)
{
	memset(rl, 0, sizeof rl);
	for (size_t i = 0; i < n; i++) {
		snapshot_name(NULL, t[i], rl[i].name, sizeof rl[i].name);
		rl[i].taken_ms = t[i];
	}
	return n;
}

static size_t
nkept(size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += keep[i];
	return c;
}

static void
test_retain_recent(void **state)
{
	int64_t t[10];
	size_t n;

	(void)state;
	for (int i = 0; i < 10; i++)
		t[i] = T0 + i * 60000;		/* one a minute, all in one hour */
	n = mklist(t, 10);
	snapshot_retain(rl, n, T0 + DAY, 4, 0, 0, keep);
	assert_int_equal(nkept(n), 4);
	for (int i = 6; i < 10; i++)
		assert_int_equal(keep[i], 1);
	/* The hour and the day add the same newest one. */
	snapshot_retain(rl, n, T0 + DAY, 4, 24, 14, keep);
	assert_int_equal(nkept(n), 4);
	snapshot_retain(rl, n, T0 + DAY, 0, 1, 0, keep);
	assert_int_equal(nkept(n), 1);
	assert_int_equal(keep[9], 1);
	snapshot_retain(rl, n, T0 + DAY, 100, 0, 0, keep);
	assert_int_equal(nkept(n), 10);
	snapshot_retain(rl, n, T0 + DAY, 0, 0, 0, keep);
	assert_int_equal(nkept(n), 0);
	/* Nothing to do, nothing touched. */
	keep[0] = 7;
	snapshot_retain(rl, 0, T0, 4, 24, 14, keep);
	assert_int_equal(keep[0], 7);
}

static void
test_retain_hourly(void **state)
{
	int64_t t[64];
	size_t n = 0;

	(void)state;
	/* Every 15 minutes for 10 hours, starting on an hour: 4 a hour. */
	for (int i = 0; i < 40; i++)
		t[n++] = T0 - T0 % HOUR + i * 15 * 60000;
	n = mklist(t, n);
	snapshot_retain(rl, n, t[n - 1], 1, 3, 0, keep);
	/* The newest, plus the newest of the 3 newest hours (the newest hour's is the newest itself). */
	assert_int_equal(nkept(n), 3);
	assert_int_equal(keep[n - 1], 1);
	for (size_t i = 0; i < n; i++) {
		int64_t hour = t[i] / HOUR, last = t[n - 1] / HOUR;
		int newest_of_hour = i + 1 == n || t[i + 1] / HOUR != hour;
		int want = (newest_of_hour && hour > last - 3) || i + 1 == n;

		if (keep[i] != want)
			fail_msg("snapshot %zu (%s): keep %d, want %d", i, rl[i].name, keep[i], want);
	}
	/* More hours asked than there are: one per hour, all of them. */
	snapshot_retain(rl, n, t[n - 1], 0, 100, 0, keep);
	assert_int_equal(nkept(n), 10);
	/* Hours that have no snapshot are not counted: a gap of a day between two groups. */
	{
		int64_t g[] = { T0, T0 + 10 * 60000, T0 + DAY + HOUR, T0 + DAY + HOUR + 60000,
		    T0 + DAY + 3 * HOUR };

		n = mklist(g, nitems(g));
		snapshot_retain(rl, n, T0 + 2 * DAY, 0, 3, 0, keep);
		assert_int_equal(keep[0], 0);
		assert_int_equal(keep[1], 1);	/* the third newest hour with a snapshot, a day earlier */
		assert_int_equal(keep[2], 0);
		assert_int_equal(keep[3], 1);
		assert_int_equal(keep[4], 1);
	}
}

static void
test_retain_daily(void **state)
{
	int64_t t[512];
	size_t n = 0;
	int64_t day0 = T0 - T0 % DAY;	/* midnight UTC */

	(void)state;
	/* Hourly for 20 days. */
	for (int i = 0; i < 20 * 24; i++)
		t[n++] = day0 + i * HOUR + 5 * 60000;
	n = mklist(t, n);
	snapshot_retain(rl, n, t[n - 1] + 1000, 4, 24, 14, keep);
	/* 4 recent within the 24 hourly; 14 daily of which the newest day's is the newest: 24 + 13. */
	assert_int_equal(nkept(n), 24 + 13);
	for (size_t i = 0; i < n; i++) {
		int64_t day = t[i] / DAY, last = t[n - 1] / DAY;
		int newest_of_day = i + 1 == n || t[i + 1] / DAY != day;
		int want = i + 24 >= n || (newest_of_day && day > last - 14);

		if (keep[i] != want)
			fail_msg("snapshot %zu (%s): keep %d, want %d", i, rl[i].name, keep[i], want);
	}
	/* The day boundary is UTC midnight: 23:59:59 and 00:00:00 are two days. */
	{
		int64_t g[] = { day0 - 1000, day0, day0 + 1000 };

		n = mklist(g, nitems(g));
		snapshot_retain(rl, n, day0 + HOUR, 0, 0, 2, keep);
		assert_int_equal(keep[0], 1);
		assert_int_equal(keep[1], 0);
		assert_int_equal(keep[2], 1);
		snapshot_retain(rl, n, day0 + HOUR, 0, 2, 0, keep);
		assert_int_equal(keep[0], 1);
		assert_int_equal(keep[2], 1);
	}
}

static void
test_retain_order_future(void **state)
{
	/* Not sorted, two of the same time, one from a clock that ran ahead. */
	int64_t t[] = { T0 + 5 * HOUR, T0, T0 + 5 * HOUR, T0 + 400 * DAY, T0 + HOUR };
	size_t n = mklist(t, nitems(t));

	(void)state;
	snapshot_retain(rl, n, T0 + 6 * HOUR, 1, 0, 0, keep);
	/* The future one is kept and counts for nothing; of the two equal, the later entry is the newest. */
	assert_int_equal(keep[3], 1);
	assert_int_equal(keep[2], 1);
	assert_int_equal(nkept(n), 2);
	snapshot_retain(rl, n, T0 + 6 * HOUR, 0, 0, 1, keep);
	assert_int_equal(keep[3], 1);
	assert_int_equal(keep[2], 1);
	assert_int_equal(nkept(n), 2);
	snapshot_retain(rl, n, T0 + 6 * HOUR, 0, 3, 0, keep);
	assert_int_equal(keep[0], 0);
	assert_int_equal(keep[1], 1);
	assert_int_equal(keep[2], 1);
	assert_int_equal(keep[4], 1);
}

/* ---- backends without a volume ---- */

static void
test_backend_pick(void **state)
{
	struct share sh;
	char why[256];

	(void)state;
	share_init(&sh, "docs", "/tmp", SNAP_NONE);
	assert_null(snapshot_backend(&sh, why, sizeof why));
	assert_string_equal(why, "snapshots are off");
	sh.snap_kind = SNAP_AUTO;
	assert_null(snapshot_backend(&sh, why, sizeof why));
	assert_string_equal(why, "share docs is not on btrfs: set backend = zfs or command in [snapshots]");
	sh.path = (char *)"/nonexistent/sw-snap";
	assert_null(snapshot_backend(&sh, why, sizeof why));
	assert_non_null(strstr(why, "No such file"));
	sh.snap_kind = SNAP_BTRFS;
	assert_ptr_equal(snapshot_backend(&sh, why, sizeof why), &snap_btrfs);
	sh.snap_kind = SNAP_ZFS;
	assert_ptr_equal(snapshot_backend(&sh, why, sizeof why), &snap_zfs);
	sh.snap_kind = SNAP_COMMAND;
	assert_ptr_equal(snapshot_backend(&sh, why, sizeof why), &snap_command);

	/* A share with no backend gets no smb.conf lines. */
	{
		char buf[1024] = "x";

		sh.snap_kind = SNAP_NONE;
		assert_int_equal(snapshot_samba_conf(&sh, buf, sizeof buf), -1);
		assert_string_equal(buf, "");
	}
	/* btrfs asked for on another filesystem: a clear error, nothing taken. */
	{
		struct snap_info s;
		char err[512];

		share_init(&sh, "docs", "/tmp", SNAP_BTRFS);
		assert_int_equal(snapshot_take(&sh, &s, err, sizeof err), -1);
		assert_string_equal(err, "share docs (/tmp) is not on btrfs: set backend = zfs or command in "
		    "[snapshots]");
	}
}

/* ---- the command backend ---- */

static char cmd_dir[128];

static int
cmd_up(void **state)
{
	char tmpl[] = "/tmp/swsnaptest-XXXXXX";

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(cmd_dir, sizeof cmd_dir, "%s", tmpl);
	return 0;
}

static int
cmd_down(void **state)
{
	const char *a[] = { tool("rm"), "-rf", "--", cmd_dir, NULL };

	(void)state;
	if (cmd_dir[0])
		run(a, NULL, 0);
	cmd_dir[0] = '\0';
	return 0;
}

/* Names have whole seconds: a second snapshot asked for in the same second waits for the next, and holds the change. */
static void
test_take_same_second(void **state)
{
	char share_path[256], snapdir[256], create[512];
	struct snap_info s1, s2;
	char err[512];
	struct share sh;
	int64_t t0;

	(void)state;
	snprintf(share_path, sizeof share_path, "%s/same-second", cmd_dir);
	snprintf(snapdir, sizeof snapdir, "%s/snaps/same", cmd_dir);
	assert_int_equal(mkdir(share_path, 0755), 0);
	write_file(join(share_path, "f"), "old");
	snprintf(create, sizeof create, "/bin/cp -a %%P %%D");
	share_init(&sh, "same", share_path, SNAP_COMMAND);
	sh.snap_dir = snapdir;
	sh.snap_create = create;
	early_in_second();
	assert_int_equal(snapshot_take(&sh, &s1, err, sizeof err), 0);
	write_file(join(share_path, "f"), "new");
	t0 = now_ms();
	assert_int_equal(snapshot_take(&sh, &s2, err, sizeof err), 0);
	assert_string_not_equal(s2.name, s1.name);
	assert_true(now_ms() - t0 < 1500);
	assert_string_equal(read_file(join(join(snapdir, s1.name), "f")), "old");
	assert_string_equal(read_file(join(join(snapdir, s2.name), "f")), "new");
}

static void
test_command(void **state)
{
	char share_path[256], snapdir[256], script[256], create[1024], del[256];
	char root[PATH_MAX], err[512], buf[2048], want[4096];
	struct snap_info s1, s2, *list = NULL;
	size_t n = 0;
	struct share sh;

	(void)state;
	/* A share path with a blank: %P must stay one argument (no shell, no splitting after substitution). */
	snprintf(share_path, sizeof share_path, "%s/share dir", cmd_dir);
	snprintf(snapdir, sizeof snapdir, "%s/snaps/docs", cmd_dir);
	snprintf(script, sizeof script, "%s/snap.sh", cmd_dir);
	assert_int_equal(mkdir(share_path, 0755), 0);
	write_file(join(share_path, "f"), "old");
	write_file(script,
	    "#!/bin/sh\n"
	    "[ \"$3\" = \"a b\" ] || { echo \"third word is '$3', not 'a b'\" >&2; exit 2; }\n"
	    "[ -e \"$1/fail\" ] && { echo 'disk on fire'; echo 'cannot copy: disk on fire' >&2; exit 3; }\n"
	    "exec cp -a --reflink=auto \"$1\" \"$2\"\n");
	assert_int_equal(chmod(script, 0755), 0);
	snprintf(create, sizeof create, "%s %%P\t%%D \"a b\"", script);
	snprintf(del, sizeof del, "/bin/rm -rf -- %%D");
	share_init(&sh, "docs", share_path, SNAP_COMMAND);
	sh.snap_dir = snapdir;
	sh.snap_create = create;

	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	free(list);

	early_in_second();
	assert_int_equal(snapshot_take(&sh, &s1, err, sizeof err), 0);
	assert_int_equal(s1.name[0], '@');
	assert_int_equal(s1.precise, 0);
	assert_int_equal(snapshot_parse_name(s1.name, &s2.taken_ms), 0);
	assert_int_equal(s1.taken_ms, s2.taken_ms);
	assert_int_equal(snap_command.root(&sh, s1.name, root, sizeof root, err, sizeof err), 0);
	assert_string_equal(root, join(snapdir, s1.name));
	write_file(join(share_path, "f"), "new");
	assert_string_equal(read_file(join(root, "f")), "old");

	next_second();
	assert_int_equal(snapshot_take(&sh, &s2, err, sizeof err), 0);
	assert_string_not_equal(s2.name, s1.name);
	assert_string_equal(read_file(join(join(snapdir, s2.name), "f")), "new");
	/* Other entries of the folder are not snapshots. */
	assert_int_equal(mkdir(join(snapdir, "notes"), 0755), 0);
	write_file(join(snapdir, "@GMT-2020.01.01-00.00.00"), "a file, not a folder");
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, s1.name);
	assert_string_equal(list[1].name, s2.name);
	assert_true(list[0].taken_ms < list[1].taken_ms);
	free(list);

	/* No delete command: removal says so. */
	assert_int_equal(snap_command.remove(&sh, s1.name, err, sizeof err), -1);
	assert_non_null(strstr(err, "no delete command configured"));
	sh.snap_delete = del;
	assert_int_equal(snap_command.remove(&sh, "..", err, sizeof err), -1);
	assert_int_equal(snap_command.remove(&sh, "@GMT-2026.11.27-08.15.00/..", err, sizeof err), -1);
	assert_int_equal(snap_command.remove(&sh, s1.name, err, sizeof err), 0);
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, s2.name);
	free(list);

	/* A failing command: its first stderr line. */
	next_second();
	write_file(join(share_path, "fail"), "");
	assert_int_equal(snapshot_take(&sh, &s1, err, sizeof err), -1);
	assert_non_null(strstr(err, "create command of share docs failed"));
	assert_non_null(strstr(err, "status 3: cannot copy: disk on fire"));
	assert_null(strstr(err, "\n"));

	/* Templates: relative program, unknown %, unbalanced quote. */
	sh.snap_create = (char *)"snap.sh %P %D";
	assert_int_equal(snap_command.create(&sh, "@GMT-2026.11.27-08.15.00", err, sizeof err), -1);
	assert_non_null(strstr(err, "absolute program path"));
	sh.snap_create = (char *)"/bin/true %X";
	assert_int_equal(snap_command.create(&sh, "@GMT-2026.11.27-08.15.00", err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown %X"));
	sh.snap_create = (char *)"/bin/true \"%P";
	assert_int_equal(snap_command.create(&sh, "@GMT-2026.11.27-08.15.00", err, sizeof err), -1);
	assert_non_null(strstr(err, "unbalanced"));
	sh.snap_create = (char *)"/nonexistent/prog %P";
	assert_int_equal(snap_command.create(&sh, "@GMT-2026.11.27-08.15.00", err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/prog"));
	/* %% is a percent sign; "" an empty argument. */
	{
		char t[1024], args[256], out[256];

		snprintf(args, sizeof args, "%s/args.sh", cmd_dir);
		snprintf(out, sizeof out, "%s/args", cmd_dir);
		write_file(args, "#!/bin/sh\nout=$1\nshift\nprintf '%s|' \"$@\" > \"$out\"\n");
		assert_int_equal(chmod(args, 0755), 0);
		snprintf(t, sizeof t, "%s %s 100%%%% \"\" %%N x\"%%P\"y", args, out);
		sh.snap_create = t;
		assert_int_equal(snap_command.create(&sh, "@GMT-2026.11.27-08.15.00", err, sizeof err), 0);
		snprintf(want, sizeof want, "100%%||@GMT-2026.11.27-08.15.00|x%sy|", share_path);
		assert_string_equal(read_file(out), want);
	}

	/* Previous Versions: the snapshot folder is the share's root. */
	assert_int_equal(snapshot_samba_conf(&sh, buf, sizeof buf), 0);
	snprintf(want, sizeof want,
	    "# Previous Versions from sharewarden's snapshots (add shadow_copy2 to this share's vfs objects)\n"
	    "vfs objects = shadow_copy2 full_audit\n"
	    "shadow:snapdir = %s\n"
	    "shadow:basedir = %s\n"
	    "shadow:format = @GMT-%%Y.%%m.%%d-%%H.%%M.%%S\n"
	    "shadow:sort = desc\n"
	    "shadow:localtime = no\n", snapdir, share_path);
	assert_string_equal(buf, want);
	assert_int_equal(snapshot_samba_conf(&sh, buf, 40), -1);
	assert_string_equal(buf, "");
}

/* ---- btrfs on a loop volume ---- */

static struct loopvol vol;
static char skip_btrfs[256];

static int
vol_up(void **state)
{
	(void)state;
	return loopvol_up(&vol, "/tmp/swsnaptest-XXXXXX", "mnt", skip_btrfs, sizeof skip_btrfs) < 0 ? -1 : 0;
}

static int
vol_down(void **state)
{
	(void)state;
	loopvol_down(&vol);
	return 0;
}

#define NEED_BTRFS() do {						\
	if (skip_btrfs[0]) {						\
		fprintf(stderr, "skipped: %s\n", skip_btrfs);		\
		skip();							\
	}								\
} while (0)

static void
test_btrfs_share_subvolume(void **state)
{
	char snapdir[1024], root[PATH_MAX], err[512], buf[2048], want[4096];
	struct snap_info s1, s2, *list = NULL;
	int64_t t0, t1;
	struct stat st;
	struct share sh;
	size_t n = 0;

	(void)state;
	NEED_BTRFS();
	share_init(&sh, "docs", vol.share, SNAP_AUTO);
	assert_ptr_equal(snapshot_backend(&sh, err, sizeof err), &snap_btrfs);
	snprintf(snapdir, sizeof snapdir, "%s/.snapshots/docs", vol.mnt);
	write_file(join(vol.share, "f"), "old");

	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	free(list);

	early_in_second();
	t0 = now_ms();
	/* As a daemon would run: the snapshot folders must still be readable by others. */
	mode_t old_umask = umask(077);
	int rc = snapshot_take(&sh, &s1, err, sizeof err);

	umask(old_umask);
	if (rc != 0)
		fail_msg("%s", err);
	t1 = now_ms();
	assert_int_equal(s1.precise, 1);
	assert_true(s1.taken_ms >= t0 - 5 && s1.taken_ms <= t1 + 5);
	assert_int_equal(s1.name[0], '@');
	/* Beside the subvolume, readable by smbd. */
	assert_int_equal(stat(snapdir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(join(vol.mnt, ".snapshots"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	write_file(join(vol.share, "f"), "new");
	assert_int_equal(snap_btrfs.root(&sh, s1.name, root, sizeof root, err, sizeof err), 0);
	assert_string_equal(root, join(snapdir, s1.name));
	assert_string_equal(read_file(join(root, "f")), "old");
	/* Read-only. */
	assert_true(open(join(root, "g"), O_WRONLY | O_CREAT, 0644) == -1);
	assert_int_equal(errno, EROFS);

	next_second();
	assert_int_equal(snapshot_take(&sh, &s2, err, sizeof err), 0);
	/* Other entries of the folder are not snapshots. */
	assert_int_equal(mkdir(join(snapdir, "@GMT-2020.01.01-00.00.00"), 0755), 0);
	assert_int_equal(mkdir(join(snapdir, "old"), 0755), 0);
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, s1.name);
	assert_string_equal(list[1].name, s2.name);
	assert_true(list[0].taken_ms < list[1].taken_ms);
	assert_int_equal(list[1].precise, 1);
	/* A change after the second snapshot is restored from it; one between the two from the first. */
	assert_string_equal(snapshot_before(list, n, s2.taken_ms + 1)->name, s2.name);
	assert_string_equal(snapshot_before(list, n, s2.taken_ms)->name, s1.name);
	free(list);

	/* Removing: refuses what is not a snapshot name or not a snapshot. */
	assert_int_equal(snap_btrfs.remove(&sh, "old", err, sizeof err), -1);
	assert_non_null(strstr(err, "refusing"));
	assert_int_equal(snap_btrfs.remove(&sh, "@GMT-2020.01.01-00.00.00", err, sizeof err), -1);
	assert_non_null(strstr(err, "not a btrfs snapshot"));
	assert_int_equal(snap_btrfs.remove(&sh, "@GMT-2021.01.01-00.00.00", err, sizeof err), -1);
	assert_non_null(strstr(err, "no such snapshot"));
	if (snap_btrfs.remove(&sh, s1.name, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, s2.name);
	free(list);
	/* Creating a name that exists: a clear error. */
	assert_int_equal(snap_btrfs.create(&sh, s2.name, err, sizeof err), -1);
	assert_non_null(strstr(err, "exists already"));

	assert_int_equal(snapshot_samba_conf(&sh, buf, sizeof buf), 0);
	snprintf(want, sizeof want,
	    "# Previous Versions from sharewarden's snapshots (add shadow_copy2 to this share's vfs objects)\n"
	    "vfs objects = shadow_copy2 full_audit\n"
	    "shadow:snapdir = %s\n"
	    "shadow:format = @GMT-%%Y.%%m.%%d-%%H.%%M.%%S\n"
	    "shadow:sort = desc\n"
	    "shadow:localtime = no\n", snapdir);
	assert_string_equal(buf, want);
	assert_int_equal(snap_btrfs.remove(&sh, s2.name, err, sizeof err), 0);
}

static void
test_btrfs_share_subfolder(void **state)
{
	char dept[1024], snapdir[1024], root[PATH_MAX], err[512], buf[2048], want[4096];
	struct snap_info s1, *list = NULL;
	struct share sh;
	size_t n = 0;

	(void)state;
	NEED_BTRFS();
	snprintf(dept, sizeof dept, "%s/dept/sales", vol.share);
	snprintf(snapdir, sizeof snapdir, "%s/snaps/sales", vol.mnt);
	assert_int_equal(mkdir(join(vol.share, "dept"), 0755), 0);
	assert_int_equal(mkdir(dept, 0755), 0);
	write_file(join(dept, "q"), "before");
	share_init(&sh, "sales", dept, SNAP_BTRFS);
	sh.snap_dir = snapdir;

	if (snapshot_take(&sh, &s1, err, sizeof err) != 0)
		fail_msg("%s", err);
	write_file(join(dept, "q"), "after");
	assert_int_equal(snap_btrfs.root(&sh, s1.name, root, sizeof root, err, sizeof err), 0);
	assert_string_equal(root, join(join(snapdir, s1.name), "dept/sales"));
	assert_string_equal(read_file(join(root, "q")), "before");
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	free(list);

	/* shadow_copy2 then maps the share to <snapshot>/dept/sales from the subvolume. */
	assert_int_equal(snapshot_samba_conf(&sh, buf, sizeof buf), 0);
	snprintf(want, sizeof want,
	    "# Previous Versions from sharewarden's snapshots (add shadow_copy2 to this share's vfs objects)\n"
	    "vfs objects = shadow_copy2 full_audit\n"
	    "shadow:snapdir = %s\n"
	    "shadow:mountpoint = %s\n"
	    "shadow:format = @GMT-%%Y.%%m.%%d-%%H.%%M.%%S\n"
	    "shadow:sort = desc\n"
	    "shadow:localtime = no\n", snapdir, vol.share);
	assert_string_equal(buf, want);
	assert_int_equal(snap_btrfs.remove(&sh, s1.name, err, sizeof err), 0);

	/* A snapshot dir on another filesystem cannot hold btrfs snapshots: say what to do. */
	sh.snap_dir = join(vol.dir, "elsewhere");
	assert_int_equal(snap_btrfs.create(&sh, s1.name, err, sizeof err), -1);
	assert_non_null(strstr(err, "same btrfs filesystem"));
	/* A share that does not exist. */
	share_init(&sh, "gone", join(vol.share, "gone"), SNAP_BTRFS);
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "does not exist"));
}

/* ---- zfs with zfs-fuse on a file pool ---- */

static struct {
	char dir[128];
	char img[256];
	char mnt[256];
	char pidfile[256];
	char pool[64];
	pid_t daemon;		/* ours to stop; 0 = none or someone else's */
	int created;
} zv;
static char skip_zfs[512];

static int zfs_down(void **);

/* zfs or zpool with args, silent. */
static int
zrun(const char *cmd, const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
    const char *a6, char *out, size_t outsz)
{
	const char *argv[] = { tool(cmd), a1, a2, a3, a4, a5, a6, NULL };

	return run(argv, out, outsz);
}

static int
zfs_up(void **state)
{
	const char *zfsfuse = tool("zfs-fuse"), *truncate_ = tool("truncate");
	char tmpl[] = "/tmp/swsnaptest-XXXXXX";
	int running;
	FILE *f;

	(void)state;
	if (geteuid() != 0 || !zfsfuse || !tool("zfs") || !tool("zpool") || !truncate_ ||
	    access("/dev/fuse", R_OK | W_OK) != 0) {
		snprintf(skip_zfs, sizeof skip_zfs, "needs root, zfs-fuse (zfs, zpool) and /dev/fuse");
		return 0;
	}
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(zv.dir, sizeof zv.dir, "%s", tmpl);
	snprintf(zv.img, sizeof zv.img, "%s/pool.img", zv.dir);
	snprintf(zv.mnt, sizeof zv.mnt, "%s/mnt", zv.dir);
	snprintf(zv.pidfile, sizeof zv.pidfile, "%s/zfs-fuse.pid", zv.dir);
	snprintf(zv.pool, sizeof zv.pool, "swsnaptest%d", (int)getpid());
	{
		const char *a1[] = { truncate_, "-s", "160M", zv.img, NULL };

		if (mkdir(zv.mnt, 0755) == -1 || run(a1, NULL, 0) != 0)
			goto fail;
	}
	/* A daemon already running (only one can) serves us too; we stop only our own. */
	quiet = 1;
	running = zrun("zpool", "list", "-H", NULL, NULL, NULL, NULL, NULL, 0) == 0;
	quiet = 0;
	if (!running) {
		const char *a[] = { zfsfuse, "--pidfile", zv.pidfile, "--no-kstat-mount", NULL };

		if (run(a, NULL, 0) != 0) {
			snprintf(skip_zfs, sizeof skip_zfs, "zfs-fuse did not start (see its message above)");
			zfs_down(state);
			return 0;
		}
		if ((f = fopen(zv.pidfile, "r")) != NULL) {
			int pid = 0;

			if (fscanf(f, "%d", &pid) == 1)
				zv.daemon = pid;
			fclose(f);
		}
		quiet = 1;
		for (int i = 0; i < 100 && zrun("zpool", "list", "-H", NULL, NULL, NULL, NULL, NULL, 0) != 0; i++)
			usleep(50000);
		quiet = 0;
	}
	/* cachefile=none: nothing of the test pool stays in /var/lib/zfs/zpool.cache. */
	{
		const char *a[] = { tool("zpool"), "create", "-o", "cachefile=none", "-m", zv.mnt, zv.pool, zv.img,
		    NULL };

		if (run(a, NULL, 0) != 0) {
			snprintf(skip_zfs, sizeof skip_zfs, "zpool create on a file failed under zfs-fuse");
			zfs_down(state);
			return 0;
		}
	}
	zv.created = 1;
	return 0;
fail:
	fprintf(stderr, "zfs setup failed: %s\n", strerror(errno));
	zfs_down(state);
	return -1;
}

static int
zfs_down(void **state)
{
	(void)state;
	if (zv.created)
		zrun("zpool", "destroy", "-f", zv.pool, NULL, NULL, NULL, NULL, 0);
	if (zv.daemon > 0) {
		kill(zv.daemon, SIGTERM);
		for (int i = 0; i < 100 && kill(zv.daemon, 0) == 0; i++)
			usleep(50000);
		if (kill(zv.daemon, 0) == 0)
			fprintf(stderr, "zfs-fuse %d did not stop\n", (int)zv.daemon);
	}
	if (zv.dir[0]) {
		const char *a[] = { tool("rm"), "-rf", "--", zv.dir, NULL };

		run(a, NULL, 0);
	}
	memset(&zv, 0, sizeof zv);
	return 0;
}

static void
test_zfs(void **state)
{
	char ds[128], dsmnt[512], docs[1024], root[PATH_MAX], err[512], buf[2048], want[4096];
	char clone[160], full[256];
	struct snap_info s1, s2, *list = NULL;
	struct share sh;
	struct stat st;
	int64_t t0, t1;
	size_t n = 0;

	(void)state;
	if (skip_zfs[0]) {
		fprintf(stderr, "skipped: %s\n", skip_zfs);
		skip();
	}
	snprintf(ds, sizeof ds, "%s/data", zv.pool);
	snprintf(dsmnt, sizeof dsmnt, "%s/data", zv.mnt);
	snprintf(docs, sizeof docs, "%s/docs", dsmnt);
	assert_int_equal(zrun("zfs", "create", ds, NULL, NULL, NULL, NULL, NULL, 0), 0);
	assert_int_equal(mkdir(docs, 0755), 0);
	write_file(join(docs, "f"), "old");

	/* The share is a folder inside the dataset, found from its mount point. */
	share_init(&sh, "docs", docs, SNAP_ZFS);
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), 0);
	assert_int_equal(n, 0);
	free(list);
	early_in_second();
	t0 = now_ms();
	if (snapshot_take(&sh, &s1, err, sizeof err) != 0)
		fail_msg("%s", err);
	t1 = now_ms();
	assert_memory_equal(s1.name, "GMT-", 4);
	assert_int_equal(s1.precise, 0);
	assert_true(s1.taken_ms >= t0 - t0 % 1000 && s1.taken_ms <= t1);
	write_file(join(docs, "f"), "new");

	assert_int_equal(snap_zfs.root(&sh, s1.name, root, sizeof root, err, sizeof err), 0);
	snprintf(want, sizeof want, "%s/.zfs/snapshot/%s/docs", dsmnt, s1.name);
	assert_string_equal(root, want);
	if (stat(root, &st) == 0) {
		assert_string_equal(read_file(join(root, "f")), "old");
	} else {
		/* zfs-fuse has no .zfs folder: check the snapshot's contents through a clone of it. */
		fprintf(stderr, "note: %s: %s (zfs-fuse has no .zfs folder); checking a clone instead\n", root,
		    strerror(errno));
		snprintf(full, sizeof full, "%s@%s", ds, s1.name);
		snprintf(clone, sizeof clone, "%s/check", zv.pool);
		assert_int_equal(zrun("zfs", "clone", full, clone, NULL, NULL, NULL, NULL, 0), 0);
		assert_string_equal(read_file(join(zv.mnt, "check/docs/f")), "old");
	}
	assert_string_equal(read_file(join(docs, "f")), "new");

	next_second();
	/* The dataset named explicitly, the share its mount point. */
	share_init(&sh, "data", dsmnt, SNAP_ZFS);
	sh.zfs_dataset = ds;
	assert_int_equal(snapshot_take(&sh, &s2, err, sizeof err), 0);
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, s1.name);
	assert_string_equal(list[1].name, s2.name);
	assert_true(list[0].taken_ms < list[1].taken_ms);
	assert_string_equal(snapshot_before(list, n, s2.taken_ms + 1000)->name, s2.name);
	assert_string_equal(snapshot_before(list, n, s2.taken_ms + 999)->name, s1.name);
	free(list);
	assert_int_equal(snap_zfs.root(&sh, s2.name, root, sizeof root, err, sizeof err), 0);
	snprintf(want, sizeof want, "%s/.zfs/snapshot/%s", dsmnt, s2.name);
	assert_string_equal(root, want);

	/* Removing: never anything but a snapshot name. */
	assert_int_equal(snap_zfs.remove(&sh, "", err, sizeof err), -1);
	assert_non_null(strstr(err, "refusing"));
	assert_int_equal(snap_zfs.remove(&sh, "@GMT-2026.11.27-08.15.00", err, sizeof err), -1);
	assert_int_equal(snap_zfs.remove(&sh, "GMT-2020.01.01-00.00.00", err, sizeof err), -1);
	assert_non_null(strstr(err, "zfs: status"));
	if (snap_zfs.remove(&sh, s2.name, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, s1.name);
	free(list);

	/* Previous Versions: .zfs/snapshot under the dataset, the share below it. */
	share_init(&sh, "docs", docs, SNAP_ZFS);
	assert_int_equal(snapshot_samba_conf(&sh, buf, sizeof buf), 0);
	snprintf(want, sizeof want,
	    "# Previous Versions from sharewarden's snapshots (add shadow_copy2 to this share's vfs objects)\n"
	    "vfs objects = shadow_copy2 full_audit\n"
	    "shadow:snapdir = .zfs/snapshot\n"
	    "shadow:mountpoint = %s\n"
	    "shadow:format = GMT-%%Y.%%m.%%d-%%H.%%M.%%S\n"
	    "shadow:sort = desc\n"
	    "shadow:localtime = no\n", dsmnt);
	assert_string_equal(buf, want);

	/* Not on zfs, or no such dataset: what to set. */
	share_init(&sh, "tmp", "/tmp", SNAP_ZFS);
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "is on no mounted zfs filesystem"));
	sh.zfs_dataset = (char *)"nosuchpool/x";
	assert_int_equal(snapshot_list(&sh, &list, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "no zfs filesystem nosuchpool/x"));
}

int
main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_before),
		cmocka_unit_test(test_retain_recent),
		cmocka_unit_test(test_retain_hourly),
		cmocka_unit_test(test_retain_daily),
		cmocka_unit_test(test_retain_order_future),
		cmocka_unit_test(test_backend_pick),
	};
	const struct CMUnitTest command[] = {
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_take_same_second),
	};
	const struct CMUnitTest btrfs[] = {
		cmocka_unit_test(test_btrfs_share_subvolume),
		cmocka_unit_test(test_btrfs_share_subfolder),
	};
	const struct CMUnitTest zfs[] = {
		cmocka_unit_test(test_zfs),
	};
	int failed = 0;

	log_init(1, LOG_LVL_WARN);
	failed += cmocka_run_group_tests_name("snapshot names and retention", pure, NULL, NULL);
	failed += cmocka_run_group_tests_name("snapshot command backend", command, cmd_up, cmd_down);
	failed += cmocka_run_group_tests_name("snapshot btrfs backend", btrfs, vol_up, vol_down);
	failed += cmocka_run_group_tests_name("snapshot zfs backend", zfs, zfs_up, zfs_down);
	return failed != 0;
}
