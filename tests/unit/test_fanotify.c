/* fanotify source and deny group against a real btrfs loop volume with a subvolume share (root only). */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
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
#include "event.h"
#include "fanotify.h"
#include "fs.h"
#include "log.h"
#include "util.h"
#include "loopvol.h"

/* The volume: DIR/img on a loop device, mounted at "DIR/vol mnt" (a space, escaped in mountinfo). */
static struct {
	struct loopvol lv;		/* share = MNT/share, a btrfs subvolume */
	char	outside[PATH_MAX];	/* MNT/outside, a sibling on the same filesystem */
	char	submnt[PATH_MAX];	/* the subvolume mounted on its own (subvol=share) */
	int	submounted;
} vol;

static char skip_reason[256];
static struct fan_source *g_src;
static struct fan_deny *g_deny;
static pid_t g_kids[16];
static int g_nkids;

/* ---- helpers ---- */

static int
run(const char *const argv[], char *out, size_t outsz)
{
	struct run_result r;
	int st;

	if (run_argv(argv, &r, 60000) == -1)
		return -1;
	st = r.status;
	if (st != 0)
		fprintf(stderr, "%s: exit %d: %s", argv[0], st, r.err ? r.err : "");
	if (out && outsz) {
		size_t n = r.outlen < outsz - 1 ? r.outlen : outsz - 1;

		memcpy(out, r.out ? r.out : "", n);
		out[n] = '\0';
		while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
			out[--n] = '\0';
	}
	run_result_free(&r);
	return st;
}

static const char *
tool(const char *name)
{
	static char buf[8][PATH_MAX];
	static int slot;
	const char *dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	char *b = buf[slot++ % 8];

	for (size_t i = 0; i < nitems(dirs); i++) {
		snprintf(b, PATH_MAX, "%s/%s", dirs[i], name);
		if (access(b, X_OK) == 0)
			return b;
	}
	return NULL;
}

static void
path_in(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= PATH_MAX)
		abort();
}

static int
write_file(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);

	if (fd == -1)
		return -1;
	if (write(fd, data, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static pid_t
kid_track(pid_t pid)
{
	if (pid > 0 && g_nkids < (int)nitems(g_kids))
		g_kids[g_nkids++] = pid;
	return pid;
}

/* Waits for a child and returns its exit code (or 128 + signal). */
static int
kid_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	for (int i = 0; i < g_nkids; i++)
		if (g_kids[i] == pid)
			g_kids[i] = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs fn in a child process (exit code = what fn returns) and waits for it. */
static int
in_child(int (*fn)(void *), void *arg, pid_t *pidp)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(arg));
	kid_track(pid);
	if (pidp)
		*pidp = pid;
	return pid == -1 ? -1 : kid_wait(pid);
}

static struct share *
share_make(const char *name, const char *path)
{
	struct share *s = xcalloc(1, sizeof *s);

	s->name = xstrdup(name);
	s->path = xstrdup(path);
	return s;
}

static void
share_free(struct share *s)
{
	while (s) {
		struct share *n = s->next;

		free(s->name);
		free(s->path);
		free(s);
		s = n;
	}
}

/* ---- collected events ---- */

struct rec {
	enum sw_op	 op;
	unsigned	 flags;
	int		 pid;
	char		*share;
	char		*path;
	size_t		 pathlen;
	char		*path2;
	size_t		 path2len;
	int		 has_handle;
	struct sw_handle h;
};

struct recs {
	struct rec	*v;
	size_t		 n, cap;
	int		 keep;		/* 0: count only (benchmarks) */
	uint64_t	 count;
};

static void
collect(const struct sw_event *ev, void *arg)
{
	struct recs *rs = arg;
	struct rec *r;

	rs->count++;
	if (!rs->keep)
		return;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		rs->v = xrealloc(rs->v, rs->cap * sizeof *rs->v);
	}
	r = &rs->v[rs->n++];
	memset(r, 0, sizeof *r);
	r->op = ev->op;
	r->flags = ev->flags;
	r->pid = ev->pid;
	r->share = xstrndup(ev->share.p, ev->share.n);
	r->path = xstrndup(ev->path.p, ev->path.n);
	r->pathlen = ev->path.n;
	r->path2 = xstrndup(ev->path2.p, ev->path2.n);
	r->path2len = ev->path2.n;
	assert_int_equal(ev->src, SRC_FANOTIFY);
	assert_int_equal(ev->ok, 1);
	assert_int_equal(ev->user.n, 0);
	assert_int_equal(ev->ip.n, 0);
	assert_int_equal(ev->host.n, 0);
	if (ev->handle) {
		r->has_handle = 1;
		r->h = *ev->handle;
	}
}

static void
recs_free(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].share);
		free(rs->v[i].path);
		free(rs->v[i].path2);
	}
	free(rs->v);
	memset(rs, 0, sizeof *rs);
}

static void
drain(struct fan_source *s)
{
	struct pollfd p = { .fd = fan_source_fd(s), .events = POLLIN };

	do
		fan_source_read(s);
	while (poll(&p, 1, 50) > 0);
}

static void
dump(const struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		fprintf(stderr, "  %-8s %#x pid %d ", op_name(rs->v[i].op), rs->v[i].flags, rs->v[i].pid);
		fput_escaped(stderr, rs->v[i].path, rs->v[i].pathlen);
		if (rs->v[i].path2len) {
			fprintf(stderr, " -> ");
			fput_escaped(stderr, rs->v[i].path2, rs->v[i].path2len);
		}
		fprintf(stderr, "\n");
	}
}

#define CLASS_MASK	0x0c	/* FAN_CLASS_* bits of "fanotify flags:" in fdinfo */
#define CLASS_CONTENT	0x04	/* FAN_CLASS_CONTENT */

/* Number of marks of the content-class fanotify group of this process (-1: no such group). */
static int
deny_marks(void)
{
	DIR *d = opendir("/proc/self/fdinfo");
	struct dirent *de;
	int marks = -1;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX], line[512];
		unsigned flags;
		int n = 0, content = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/fdinfo/%s", de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		while (fgets(line, sizeof line, f)) {
			if (sscanf(line, "fanotify flags:%x", &flags) == 1)
				content = (flags & CLASS_MASK) == CLASS_CONTENT;
			else if (strncmp(line, "fanotify sdev:", 14) == 0)
				n++;
		}
		fclose(f);
		if (content)
			marks = n;
	}
	closedir(d);
	return marks;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the volume ---- */

static int vol_down(void **);

static int
vol_up(void **state)
{
	int rc;

	log_init(1, LOG_LVL_WARN);
	if ((rc = loopvol_up(&vol.lv, "/tmp/sw-fan-XXXXXX", "vol mnt", skip_reason, sizeof skip_reason)) != 0)
		return rc < 0 ? -1 : 0;
	path_in(vol.outside, vol.lv.mnt, "outside");
	path_in(vol.submnt, vol.lv.dir, "sub");
	if (mkdir(vol.submnt, 0755) == -1 || mkdir(vol.outside, 0755) == -1) {
		fprintf(stderr, "volume setup failed: %s\n", strerror(errno));
		vol_down(state);
		return -1;
	}
	return 0;
}

static int
vol_down(void **state)
{
	(void)state;
	if (vol.submounted) {
		const char *a[] = { tool("umount"), vol.submnt, NULL };

		run(a, NULL, 0);
	}
	loopvol_down(&vol.lv);
	memset(&vol, 0, sizeof vol);
	return 0;
}

static int
test_setup(void **state)
{
	(void)state;
	g_nkids = 0;
	return 0;
}

/* Whatever a failed assertion left: children, groups (their marks), the subvolume mount. */
static int
test_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < g_nkids; i++)
		if (g_kids[i] > 0) {
			kill(g_kids[i], SIGKILL);
			waitpid(g_kids[i], NULL, 0);
		}
	g_nkids = 0;
	fan_source_close(g_src);
	g_src = NULL;
	fan_deny_close(g_deny);
	g_deny = NULL;
	if (vol.submounted) {
		const char *a[] = { tool("umount"), vol.submnt, NULL };

		if (run(a, NULL, 0) == 0)
			vol.submounted = 0;
	}
	return 0;
}

#define NEED_VOLUME() do {					\
	if (skip_reason[0]) {					\
		fprintf(stderr, "skipped: %s\n", skip_reason);	\
		skip();						\
	}							\
} while (0)

/* ---- the notification source ---- */

static const char weird[] = "b|c d\nx\xff\xfe.enc";

static int
child_ops(void *arg)
{
	char p[PATH_MAX], q[PATH_MAX];

	(void)arg;
	path_in(p, vol.lv.share, "a.txt");
	if (write_file(p, "hello", 5) == -1)
		return 10;
	path_in(q, vol.lv.share, weird);
	if (rename(p, q) == -1)
		return 11;
	path_in(p, vol.lv.share, "sub");
	if (mkdir(p, 0755) == -1)
		return 12;
	path_in(p, vol.lv.share, "sub/f");
	if (write_file(p, "x", 1) == -1 || unlink(p) == -1)
		return 13;
	path_in(p, vol.lv.share, "sub");
	if (rmdir(p) == -1)
		return 14;
	path_in(p, vol.lv.share, "del.txt");
	if (write_file(p, "d", 1) == -1 || unlink(p) == -1)
		return 15;
	path_in(p, vol.lv.share, "d1");
	path_in(q, vol.lv.share, "d2");
	if (mkdir(p, 0755) == -1)
		return 16;
	path_in(p, vol.lv.share, "d1/in.txt");
	if (write_file(p, "i", 1) == -1)
		return 17;
	path_in(p, vol.lv.share, "d1");
	if (rename(p, q) == -1)
		return 18;
	path_in(p, vol.lv.share, "d2/new.txt");
	if (write_file(p, "n", 1) == -1)
		return 19;
	/* A sibling of the share on the same filesystem: none of this may be reported. */
	path_in(p, vol.outside, "o.txt");
	path_in(q, vol.outside, "o2.txt");
	if (write_file(p, "o", 1) == -1 || rename(p, q) == -1 || unlink(q) == -1)
		return 20;
	path_in(p, vol.outside, "od");
	if (mkdir(p, 0755) == -1 || rmdir(p) == -1)
		return 21;
	return 0;
}

struct want {
	const char	*name;		/* below the share */
	enum sw_op	 ops[6];
	unsigned	 flags[6];
	const char	*to;		/* the rename target (OP_RENAME) */
};

static void
check_path(const struct recs *rs, const struct want *w)
{
	char path[PATH_MAX], to[PATH_MAX];
	size_t k = 0, nops = 0;

	while (nops < nitems(w->ops) && w->ops[nops] != OP_NONE)
		nops++;
	path_in(path, vol.lv.share, w->name);
	if (w->to)
		path_in(to, vol.lv.share, w->to);
	for (size_t i = 0; i < rs->n; i++) {
		const struct rec *r = &rs->v[i];

		if (r->op == OP_ATTR || r->pathlen != strlen(path) || memcmp(r->path, path, r->pathlen) != 0)
			continue;
		if (k >= nops) {
			fprintf(stderr, "unexpected %s on %s\n", op_name(r->op), w->name);
			fail();
		}
		assert_int_equal(r->op, w->ops[k]);
		assert_int_equal(r->flags, w->flags[k]);
		if (r->op == OP_RENAME) {
			assert_int_equal(r->path2len, strlen(to));
			assert_memory_equal(r->path2, to, r->path2len);
		} else
			assert_int_equal(r->path2len, 0);
		k++;
	}
	if (k != nops)
		fprintf(stderr, "%s: %zu of %zu events\n", w->name, k, nops);
	assert_int_equal(k, nops);
}

static void
test_source_events(void **state)
{
	const unsigned NW = EVF_NEWFILE | EVF_WRITE;
	const struct want wants[] = {
		{ "a.txt", { OP_CREATE, OP_WRITE, OP_CLOSE, OP_RENAME }, { NW, 0, EVF_WRITE, 0 }, weird },
		{ "sub", { OP_MKDIR, OP_UNLINK }, { EVF_DIR, EVF_DIR }, NULL },
		{ "sub/f", { OP_CREATE, OP_WRITE, OP_CLOSE, OP_UNLINK }, { NW, 0, EVF_WRITE, 0 }, NULL },
		{ "del.txt", { OP_CREATE, OP_WRITE, OP_CLOSE, OP_UNLINK }, { NW, 0, EVF_WRITE, 0 }, NULL },
		{ "d1", { OP_MKDIR, OP_RENAME }, { EVF_DIR, EVF_DIR }, "d2" },
		{ "d1/in.txt", { OP_CREATE, OP_WRITE, OP_CLOSE }, { NW, 0, EVF_WRITE }, NULL },
		{ "d2/new.txt", { OP_CREATE, OP_WRITE, OP_CLOSE }, { NW, 0, EVF_WRITE }, NULL },
	};
	struct recs rs = { .keep = 1 };
	struct share *sh;
	char err[256], self[PATH_MAX], sharepre[PATH_MAX], a[PATH_MAX], w[PATH_MAX];
	const struct fan_stats *st;
	size_t expected = 0, renames = 0;
	pid_t kid;
	int fd, closes = 0;
	struct stat sb1, sb2;
	char got[8];

	(void)state;
	NEED_VOLUME();
	sh = share_make("data", vol.lv.share);
	g_src = fan_source_open(sh, collect, &rs, err, sizeof err);
	if (g_src == NULL)
		fprintf(stderr, "fan_source_open: %s\n", err);
	assert_non_null(g_src);
	/* This process's own changes are never reported. */
	path_in(self, vol.lv.share, "self.txt");
	assert_int_equal(write_file(self, "me", 2), 0);
	assert_int_equal(unlink(self), 0);
	assert_int_equal(in_child(child_ops, NULL, &kid), 0);
	drain(g_src);
	st = fan_source_stats(g_src);
	if (getenv("SW_TEST_VERBOSE"))
		dump(&rs);
	assert_int_equal(st->events, rs.n);
	assert_true(st->dropped >= 2);		/* ours, and the sibling directory's */
	assert_int_equal(st->unresolved, 0);
	assert_int_equal(st->overflows, 0);
	path_in(sharepre, vol.lv.share, "");
	for (size_t i = 0; i < rs.n; i++) {
		const struct rec *r = &rs.v[i];

		assert_int_equal(r->pid, kid);
		assert_string_equal(r->share, "data");
		assert_true(r->pathlen > strlen(sharepre) && memcmp(r->path, sharepre, strlen(sharepre)) == 0);
		if (r->op == OP_RENAME) {
			renames++;
			assert_true(r->path2len > strlen(sharepre));
			assert_memory_equal(r->path2, sharepre, strlen(sharepre));
		}
	}
	for (size_t i = 0; i < nitems(wants); i++) {
		check_path(&rs, &wants[i]);
		for (size_t k = 0; k < nitems(wants[i].ops) && wants[i].ops[k] != OP_NONE; k++)
			expected++;
	}
	/* Nothing else: no second report of a rename, nothing from outside, nothing of ours. */
	for (size_t i = 0; i < rs.n; i++)
		if (rs.v[i].op != OP_ATTR)
			expected--;
	assert_int_equal(expected, 0);
	assert_int_equal(renames, 2);
	/* The handle of the written file still opens it after the rename, with the bytes written. */
	path_in(a, vol.lv.share, "a.txt");
	path_in(w, vol.lv.share, weird);
	for (size_t i = 0; i < rs.n; i++) {
		const struct rec *r = &rs.v[i];

		if (r->op != OP_CLOSE || strcmp(r->path, a) != 0)
			continue;
		assert_true(r->has_handle);
		fd = fs_open_handle(&r->h);
		assert_true(fd >= 0);
		assert_int_equal(read(fd, got, sizeof got), 5);
		assert_memory_equal(got, "hello", 5);
		assert_int_equal(fstat(fd, &sb1), 0);
		assert_int_equal(stat(w, &sb2), 0);
		assert_int_equal(sb1.st_ino, sb2.st_ino);
		close(fd);
		closes++;
	}
	assert_int_equal(closes, 1);
	fan_source_close(g_src);
	g_src = NULL;
	recs_free(&rs);
	share_free(sh);
}

/*
 * The share is a subvolume mounted on its own: marking it fails with EXDEV,
 * the top-level mount is marked instead, and paths still come out under the
 * configured share path, whichever mount the writer used.
 */
static int
child_subvol(void *arg)
{
	char p[PATH_MAX];

	(void)arg;
	path_in(p, vol.submnt, "via-sub.txt");
	if (write_file(p, "1", 1) == -1)
		return 10;
	path_in(p, vol.lv.share, "via-top.txt");
	if (write_file(p, "2", 1) == -1)
		return 11;
	return 0;
}

static void
test_source_subvol_mount(void **state)
{
	const char *a[] = { tool("mount"), "-o", "subvol=share", vol.lv.loop, vol.submnt, NULL };
	struct recs rs = { .keep = 1 };
	struct share *sh;
	char err[256], p1[PATH_MAX], p2[PATH_MAX];
	int n1 = 0, n2 = 0;

	(void)state;
	NEED_VOLUME();
	assert_int_equal(run(a, NULL, 0), 0);
	vol.submounted = 1;
	sh = share_make("sub", vol.submnt);
	g_src = fan_source_open(sh, collect, &rs, err, sizeof err);
	if (g_src == NULL)
		fprintf(stderr, "fan_source_open: %s\n", err);
	assert_non_null(g_src);
	assert_int_equal(in_child(child_subvol, NULL, NULL), 0);
	drain(g_src);
	if (getenv("SW_TEST_VERBOSE"))
		dump(&rs);
	path_in(p1, vol.submnt, "via-sub.txt");
	path_in(p2, vol.submnt, "via-top.txt");
	for (size_t i = 0; i < rs.n; i++) {
		assert_string_equal(rs.v[i].share, "sub");
		if (strcmp(rs.v[i].path, p1) == 0)
			n1++;
		else if (strcmp(rs.v[i].path, p2) == 0)
			n2++;
		else
			fail_msg("unexpected path %s", rs.v[i].path);
	}
	assert_int_equal(n1, 3);	/* create, write, close */
	assert_int_equal(n2, 3);
	fan_source_close(g_src);
	g_src = NULL;
	recs_free(&rs);
	share_free(sh);
}

static int
child_many(void *arg)
{
	const char *dir = arg;
	char p[PATH_MAX];

	for (int i = 0; i < 20000; i++) {
		int fd;

		snprintf(p, sizeof p, "%s/f%05d", dir, i);
		if ((fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == -1)
			return 10;
		close(fd);
	}
	return 0;
}

static void
test_source_overflow(void **state)
{
	struct recs rs = { .keep = 1 };
	struct share *sh;
	char err[256], dir[PATH_MAX];
	int overflows = 0;

	(void)state;
	NEED_VOLUME();
	path_in(dir, vol.lv.share, "many");
	assert_int_equal(mkdir(dir, 0755), 0);
	sh = share_make("data", vol.lv.share);
	g_src = fan_source_open(sh, collect, &rs, err, sizeof err);
	assert_non_null(g_src);
	/* More than the queue's 16384 events before anything is read. */
	assert_int_equal(in_child(child_many, dir, NULL), 0);
	drain(g_src);
	for (size_t i = 0; i < rs.n; i++)
		if (rs.v[i].op == OP_OVERFLOW) {
			overflows++;
			assert_int_equal(rs.v[i].pathlen, 0);
		}
	assert_int_equal(overflows, 1);
	assert_int_equal(fan_source_stats(g_src)->overflows, 1);
	assert_true(rs.n > 16000);
	fan_source_close(g_src);
	g_src = NULL;
	recs_free(&rs);
	share_free(sh);
}

struct burst {
	const char	*dir;
	int		 files;
};

static int
child_burst(void *arg)
{
	const struct burst *b = arg;
	char p[PATH_MAX], data[4096];

	memset(data, 'x', sizeof data);
	for (int i = 0; i < b->files; i++) {
		snprintf(p, sizeof p, "%s/b%05d.dat", b->dir, i);
		if (write_file(p, data, sizeof data) == -1)
			return 10;
	}
	return 0;
}

/* Not a pass/fail check: how fast a burst is turned into events (printed). */
static void
test_source_rate(void **state)
{
	struct recs rs = { .keep = 0 };
	struct burst b = { .files = 12000 };
	struct pollfd pfd = { .events = POLLIN };
	struct share *sh;
	char err[256], dir[PATH_MAX];
	int64_t t0, t1;

	(void)state;
	NEED_VOLUME();
	path_in(dir, vol.lv.share, "burst");
	assert_int_equal(mkdir(dir, 0755), 0);
	b.dir = dir;
	sh = share_make("data", vol.lv.share);
	g_src = fan_source_open(sh, collect, &rs, err, sizeof err);
	assert_non_null(g_src);
	pfd.fd = fan_source_fd(g_src);
	assert_int_equal(in_child(child_burst, &b, NULL), 0);
	/* Everything is queued once the child is gone: time the reads alone. */
	t0 = mono_ns();
	do
		fan_source_read(g_src);
	while (poll(&pfd, 1, 0) > 0);
	t1 = mono_ns();
	assert_int_equal(fan_source_stats(g_src)->overflows, 0);
	assert_int_equal(rs.count, 3 * (uint64_t)b.files);
	printf("fanotify source: %d files created+written: %llu events in %.1f ms = %.0f events/s "
	    "(%.0f kernel events/s)\n", b.files, (unsigned long long)rs.count, (t1 - t0) / 1e6,
	    rs.count / ((t1 - t0) / 1e9), b.files / ((t1 - t0) / 1e9));
	fan_source_close(g_src);
	g_src = NULL;
	share_free(sh);
}

static int
child_unpriv(void *arg)
{
	struct share *sh = arg;
	struct fan_deny *dn;
	struct fan_source *s;
	char err[256];

	if (setgroups(0, NULL) == -1 || setresgid(65534, 65534, 65534) == -1 ||
	    setresuid(65534, 65534, 65534) == -1)
		return 10;
	if ((s = fan_source_open(sh, collect, NULL, err, sizeof err)) != NULL)
		return 11;
	if (strcmp(err, "fanotify needs root (CAP_SYS_ADMIN)") != 0) {
		fprintf(stderr, "source: %s\n", err);
		return 12;
	}
	if ((dn = fan_deny_open(sh, err, sizeof err)) != NULL)
		return 13;
	if (strcmp(err, "fanotify needs root (CAP_SYS_ADMIN)") != 0) {
		fprintf(stderr, "deny: %s\n", err);
		return 14;
	}
	return 0;
}

static void
test_open_errors(void **state)
{
	struct share *sh;
	char err[256];

	(void)state;
	NEED_VOLUME();
	sh = share_make("data", vol.lv.share);
	assert_int_equal(in_child(child_unpriv, sh, NULL), 0);
	share_free(sh);
	sh = share_make("gone", "/nonexistent/share");
	assert_null(fan_source_open(sh, collect, NULL, err, sizeof err));
	assert_string_equal(err, "share gone: /nonexistent/share: No such file or directory");
	assert_null(fan_deny_open(sh, err, sizeof err));
	assert_string_equal(err, "share gone: /nonexistent/share: No such file or directory");
	share_free(sh);
}

/* ---- the deny group ---- */

/*
 * A child that opens path (and then the share directory) each time it is told
 * to, and reports 0 or the errno of each.
 */
struct opener {
	pid_t	pid;
	int	go[2], res[2];
};

static int
opener_try(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd == -1)
		return errno;
	close(fd);
	return 0;
}

static void opener_start_as(struct opener *o, const char *path, unsigned uid);

static void
opener_start(struct opener *o, const char *path)
{
	opener_start_as(o, path, 0);
}

/* An opener that works as uid (as smbd works as its session's user); 0 = stays root. */
static void
opener_start_as(struct opener *o, const char *path, unsigned uid)
{
	assert_int_equal(pipe(o->go), 0);
	assert_int_equal(pipe(o->res), 0);
	o->pid = fork();
	assert_true(o->pid != -1);
	if (o->pid == 0) {
		char c;

		/* Other openers' pipe ends (and the groups) stay with their owners. */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != o->go[0] && fd != o->res[1])
				close(fd);
		if (uid != 0 && setresuid(uid, uid, 0) != 0)
			_exit(1);
		while (read(o->go[0], &c, 1) == 1) {
			int r[2] = { opener_try(path, O_RDONLY), opener_try(vol.lv.share, O_RDONLY | O_DIRECTORY) };

			if (write(o->res[1], r, sizeof r) != sizeof r)
				_exit(1);
		}
		_exit(0);
	}
	kid_track(o->pid);
	close(o->go[0]);
	close(o->res[1]);
}

static void
opener_try_now(struct opener *o, int *file_err, int *dir_err)
{
	int r[2];

	assert_int_equal(write(o->go[1], "g", 1), 1);
	assert_int_equal(read(o->res[0], r, sizeof r), sizeof r);
	*file_err = r[0];
	*dir_err = r[1];
}

static void
opener_stop(struct opener *o)
{
	close(o->go[1]);
	close(o->res[0]);
	assert_int_equal(kid_wait(o->pid), 0);
}

struct lat {
	const char	*path;
	int		 n;
	int		 res[2];
};

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* In a fresh child: the median and the worst time of n opens of path, in ns. */
static int
child_latency(void *arg)
{
	struct lat *l = arg;
	int64_t *t = malloc((size_t)l->n * sizeof *t), r[2];

	if (t == NULL)
		return 10;
	for (int i = 0; i < l->n; i++) {
		int64_t t0 = mono_ns();
		int fd = open(l->path, O_RDONLY | O_CLOEXEC);

		if (fd == -1)
			return 11;
		t[i] = mono_ns() - t0;
		close(fd);
	}
	qsort(t, (size_t)l->n, sizeof *t, cmp_i64);
	r[0] = t[l->n / 2];
	r[1] = t[l->n - 1];
	if (write(l->res[1], r, sizeof r) != sizeof r)
		return 12;
	return 0;
}

static void
open_latency(const char *path, int n, int64_t *median, int64_t *worst)
{
	struct lat l = { .path = path, .n = n };
	int64_t r[2];

	assert_int_equal(pipe(l.res), 0);
	assert_int_equal(in_child(child_latency, &l, NULL), 0);
	assert_int_equal(read(l.res[0], r, sizeof r), sizeof r);
	close(l.res[0]);
	close(l.res[1]);
	*median = r[0];
	*worst = r[1];
}

static void
test_deny(void **state)
{
	struct opener a, b;
	struct share *sh;
	char err[256], path[PATH_MAX];
	int fe, de, fd;
	int64_t med, worst;

	(void)state;
	NEED_VOLUME();
	path_in(path, vol.lv.share, "victim.doc");
	assert_int_equal(write_file(path, "data", 4), 0);
	sh = share_make("data", vol.lv.share);
	g_deny = fan_deny_open(sh, err, sizeof err);
	if (g_deny == NULL)
		fprintf(stderr, "fan_deny_open: %s\n", err);
	assert_non_null(g_deny);
	assert_int_equal(fan_deny_count(g_deny), 0);
	assert_int_equal(deny_marks(), 0);
	opener_start(&a, path);
	opener_start(&b, path);
	opener_try_now(&a, &fe, &de);
	assert_int_equal(fe, 0);

	assert_int_equal(fan_deny_add(g_deny, a.pid), 0);
	assert_int_equal(fan_deny_add(g_deny, a.pid), 0);	/* twice is once */
	assert_int_equal(fan_deny_count(g_deny), 1);
	assert_int_equal(deny_marks(), 1);
	opener_try_now(&a, &fe, &de);
	assert_int_equal(fe, EPERM);
	assert_int_equal(de, EPERM);
	opener_try_now(&b, &fe, &de);
	assert_int_equal(fe, 0);
	assert_int_equal(de, 0);
	/* This process is never denied: the content worker opens written files. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fan_deny_denied(g_deny), 2);

	assert_int_equal(fan_deny_remove(g_deny, a.pid), 0);
	assert_int_equal(fan_deny_count(g_deny), 0);
	assert_int_equal(deny_marks(), 0);
	opener_try_now(&a, &fe, &de);
	assert_int_equal(fe, 0);
	assert_int_equal(de, 0);
	assert_int_equal(fan_deny_remove(g_deny, a.pid), -1);
	assert_int_equal(errno, ENOENT);
	/* Nothing marked: a fresh process's open is not held up. */
	open_latency(path, 50, &med, &worst);
	assert_true(worst < 100 * 1000000);
	assert_int_equal(fan_deny_add(g_deny, getpid()), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fan_deny_add(g_deny, 0), -1);
	assert_int_equal(fan_deny_count(g_deny), 0);
	opener_stop(&a);
	opener_stop(&b);
	assert_int_equal(fan_deny_denied(g_deny), 2);
	fan_deny_close(g_deny);
	g_deny = NULL;
	share_free(sh);
}

/* A held account: a process working as its uid is denied from its first open, whatever its pid. */
static void
test_deny_uid(void **state)
{
	struct opener a, b;
	struct share *sh;
	char err[256], path[PATH_MAX];
	int fe, de;

	(void)state;
	NEED_VOLUME();
	path_in(path, vol.lv.share, "held.doc");
	assert_int_equal(write_file(path, "data", 4), 0);
	assert_int_equal(chmod(path, 0644), 0);
	sh = share_make("data", vol.lv.share);
	assert_non_null(g_deny = fan_deny_open(sh, err, sizeof err));
	opener_start_as(&a, path, 65534);
	opener_start_as(&b, path, 65533);
	opener_try_now(&a, &fe, &de);
	assert_int_equal(fe, 0);

	assert_int_equal(fan_deny_hold_uid(g_deny, 65534), 0);
	assert_int_equal(fan_deny_hold_uid(g_deny, 65534), 0);	/* two incidents of one account */
	assert_int_equal(deny_marks(), 1);
	opener_try_now(&a, &fe, &de);
	assert_int_equal(fe, EPERM);
	opener_try_now(&b, &fe, &de);
	assert_int_equal(fe, 0);
	assert_int_equal(fan_deny_release_uid(g_deny, 65534), 0);
	opener_try_now(&a, &fe, &de);
	assert_int_equal(fe, EPERM);			/* the other incident still holds it */
	assert_int_equal(fan_deny_release_uid(g_deny, 65534), 0);
	assert_int_equal(deny_marks(), 0);
	opener_try_now(&a, &fe, &de);
	assert_int_equal(fe, 0);
	assert_int_equal(fan_deny_release_uid(g_deny, 65534), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fan_deny_hold_uid(g_deny, 0), -1);	/* never root */
	opener_stop(&a);
	opener_stop(&b);
	fan_deny_close(g_deny);
	g_deny = NULL;
	share_free(sh);
}

/* clone3 with set_tid (Linux 5.5): the kernel's own way to get a given pid back. */
struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size;
};

static pid_t
fork_with_pid(pid_t want)
{
	struct clone_args_v2 ca;
	pid_t tid = want;

	memset(&ca, 0, sizeof ca);
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uint64_t)(uintptr_t)&tid;
	ca.set_tid_size = 1;
	return (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
}

static void
test_deny_tick(void **state)
{
	struct share *sh;
	struct opener z;
	char err[256], path[PATH_MAX], statp[64], buf[512];
	pid_t p, q;
	int res[2], r;

	(void)state;
	NEED_VOLUME();
	path_in(path, vol.lv.share, "victim.doc");
	sh = share_make("data", vol.lv.share);
	g_deny = fan_deny_open(sh, err, sizeof err);
	assert_non_null(g_deny);

	/* Ended and reaped. */
	opener_start(&z, path);
	assert_int_equal(fan_deny_add(g_deny, z.pid), 0);
	fan_deny_tick(g_deny);
	assert_int_equal(fan_deny_count(g_deny), 1);
	opener_stop(&z);
	fan_deny_tick(g_deny);
	assert_int_equal(fan_deny_count(g_deny), 0);
	assert_int_equal(deny_marks(), 0);

	/* Ended, not yet reaped: a zombie opens nothing. */
	opener_start(&z, path);
	assert_int_equal(fan_deny_add(g_deny, z.pid), 0);
	close(z.go[1]);
	snprintf(statp, sizeof statp, "/proc/%d/stat", (int)z.pid);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(statp, "re");
		char *rp;

		assert_non_null(f);
		assert_non_null(fgets(buf, sizeof buf, f));
		fclose(f);
		if ((rp = strrchr(buf, ')')) != NULL && rp[2] == 'Z')
			break;
		usleep(2000);
	}
	fan_deny_tick(g_deny);
	assert_int_equal(fan_deny_count(g_deny), 0);
	close(z.res[0]);
	assert_int_equal(kid_wait(z.pid), 0);
	assert_int_equal(fan_deny_add(g_deny, z.pid), -1);	/* gone */
	assert_int_equal(errno, ESRCH);

	/* The same pid, another process: the start time tells them apart. */
	opener_start(&z, path);
	p = z.pid;
	assert_int_equal(fan_deny_add(g_deny, p), 0);
	opener_stop(&z);
	usleep(20000);		/* a new start time, in clock ticks */
	assert_int_equal(pipe(res), 0);
	q = fork_with_pid(p);
	if (q == 0) {
		int e = opener_try(path, O_RDONLY);

		if (write(res[1], &e, sizeof e) != sizeof e)
			_exit(1);
		_exit(0);
	}
	if (q == -1) {
		fprintf(stderr, "pid reuse not exercised: clone3 set_tid %d: %s\n", (int)p, strerror(errno));
		fan_deny_tick(g_deny);
	} else {
		kid_track(q);
		assert_int_equal(q, p);
		/* Before the tick the reused pid is still on the list: one tick at most. */
		assert_int_equal(read(res[0], &r, sizeof r), sizeof r);
		assert_int_equal(r, EPERM);
		assert_int_equal(kid_wait(q), 0);
		q = fork_with_pid(p);
		if (q == 0) {
			int e;

			usleep(50000);
			e = opener_try(path, O_RDONLY);
			if (write(res[1], &e, sizeof e) != sizeof e)
				_exit(1);
			_exit(0);
		}
		assert_int_equal(q, p);
		kid_track(q);
		fan_deny_tick(g_deny);
		assert_int_equal(fan_deny_count(g_deny), 0);
		assert_int_equal(read(res[0], &r, sizeof r), sizeof r);
		assert_int_equal(r, 0);
		assert_int_equal(kid_wait(q), 0);
	}
	assert_int_equal(fan_deny_count(g_deny), 0);
	assert_int_equal(deny_marks(), 0);
	close(res[0]);
	close(res[1]);
	fan_deny_close(g_deny);
	g_deny = NULL;
	share_free(sh);
}

/*
 * The listener cannot take an event (no fd left for it): it must give up
 * towards ALLOW, so that nobody's opens are refused or held from then on.
 */
/* How many of this process's descriptors are open on path (the deny thread's event descriptors). */
static int
fds_open_to(const char *path)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char link[PATH_MAX], to[PATH_MAX];
		ssize_t len;

		snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
		if ((len = readlink(link, to, sizeof to - 1)) <= 0)
			continue;
		to[len] = '\0';
		n += strcmp(to, path) == 0;
	}
	closedir(d);
	return n;
}

/* The highest descriptor open in this process. */
static int
highest_fd(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int top = -1, self;

	assert_non_null(d);
	self = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd != self && fd > top)
			top = fd;
	}
	closedir(d);
	return top;
}

static void
test_deny_fail_open(void **state)
{
	struct share *sh;
	struct opener idle, b;
	struct rlimit rl, low;
	char err[256], path[PATH_MAX];
	int fe, de, top, nfill, fill[256], base;

	(void)state;
	NEED_VOLUME();
	path_in(path, vol.lv.share, "victim.doc");
	sh = share_make("data", vol.lv.share);
	g_deny = fan_deny_open(sh, err, sizeof err);
	assert_non_null(g_deny);
	opener_start(&idle, path);
	opener_start(&b, path);
	/* What this process holds open to the share before any event (the openers open it too). */
	base = fds_open_to(vol.lv.share);
	assert_int_equal(fan_deny_add(g_deny, idle.pid), 0);
	opener_try_now(&b, &fe, &de);
	assert_int_equal(fe, 0);
	/*
	 * No descriptor left in this process: the kernel cannot hand the next
	 * event over. Every free number below the highest open one is taken and
	 * the limit set just above it (the group's own number stays usable, as
	 * when a real table fills up). First the deny thread must have closed
	 * the last events' descriptors (the file's and the share folder's):
	 * closed later, one would free a number and the event would go through.
	 */
	for (int i = 0; i < 500 && (fds_open_to(path) > 0 || fds_open_to(vol.lv.share) > base); i++)
		usleep(10000);
	assert_int_equal(fds_open_to(path), 0);
	assert_int_equal(fds_open_to(vol.lv.share), base);
	top = highest_fd() + 1;
	for (nfill = 0; nfill < (int)nitems(fill); nfill++) {
		if ((fill[nfill] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= top) {
			close(fill[nfill]);
			break;
		}
		assert_true(fill[nfill] >= 0);
	}
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = rl;
	low.rlim_cur = (rlim_t)top;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	opener_try_now(&b, &fe, &de);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (nfill > 0)
		close(fill[--nfill]);
	/*
	 * That one open may have been refused by the kernel itself; from then on
	 * all pass, once the deny thread has seen the failure and closed the
	 * group (on a loaded machine that takes a while: wait for it).
	 */
	assert_true(fe == 0 || fe == EPERM);
	for (int i = 0; i < 500 && deny_marks() != -1; i++)
		usleep(10000);
	opener_try_now(&b, &fe, &de);
	assert_int_equal(fe, 0);
	assert_int_equal(de, 0);
	opener_try_now(&idle, &fe, &de);
	assert_int_equal(fe, 0);
	assert_int_equal(deny_marks(), -1);	/* the group itself is gone */
	fan_deny_tick(g_deny);
	assert_int_equal(fan_deny_count(g_deny), 0);
	assert_int_equal(fan_deny_add(g_deny, idle.pid), -1);
	assert_int_equal(errno, EIO);
	opener_stop(&idle);
	opener_stop(&b);
	fan_deny_close(g_deny);
	g_deny = NULL;
	share_free(sh);
}

/* Not a pass/fail check: what a marked deny group adds to an open by anyone else (printed). */
static void
test_deny_latency(void **state)
{
	struct share *sh;
	struct opener idle;
	char err[256], path[PATH_MAX];
	int64_t m0, m1, w0, w1;

	(void)state;
	NEED_VOLUME();
	path_in(path, vol.lv.share, "victim.doc");
	sh = share_make("data", vol.lv.share);
	g_deny = fan_deny_open(sh, err, sizeof err);
	assert_non_null(g_deny);
	open_latency(path, 1000, &m0, &w0);
	opener_start(&idle, path);
	assert_int_equal(fan_deny_add(g_deny, idle.pid), 0);
	assert_int_equal(deny_marks(), 1);
	open_latency(path, 1000, &m1, &w1);
	printf("deny group: open() median of 1000 by another process: unmarked %.1f us, marked %.1f us "
	    "(+%.1f us); worst %.1f us / %.1f us\n", m0 / 1e3, m1 / 1e3, (m1 - m0) / 1e3, w0 / 1e3, w1 / 1e3);
	assert_int_equal(fan_deny_remove(g_deny, idle.pid), 0);
	opener_stop(&idle);
	fan_deny_close(g_deny);
	g_deny = NULL;
	share_free(sh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_source_events, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_source_subvol_mount, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_source_overflow, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_source_rate, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_deny, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_deny_uid, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_deny_tick, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_deny_fail_open, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_deny_latency, test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, vol_up, vol_down);
}
