/* Unit-test helper: a real btrfs volume on a loop device with a "share" subvolume, made and removed with the real tools. */
#ifndef SW_TEST_LOOPVOL_H
#define SW_TEST_LOOPVOL_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct loopvol {
	char dir[128];			/* the temporary folder holding everything */
	char img[256];			/* DIR/img, the volume's file */
	char mnt[256];			/* where the volume is mounted */
	char share[512];		/* MNT/share, a subvolume */
	char loop[64];			/* /dev/loopN */
	int mounted;
};

static const char *
loopvol_tool(const char *name)
{
	static char buf[8][PATH_MAX];
	static int slot;
	const char *dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	char *b = buf[slot++ % 8];

	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(b, PATH_MAX, "%s/%s", dirs[i], name);
		if (access(b, X_OK) == 0)
			return b;
	}
	return NULL;
}

/* Runs argv (argv[0] NULL: a missing tool); its first stdout line goes to out. Returns the exit status. */
static int
loopvol_run(const char *const argv[], char *out, size_t outsz)
{
	struct run_result r;
	int st;

	if (argv[0] == NULL)
		return -1;
	memset(&r, 0, sizeof r);
	run_argv(argv, &r, 60000);
	st = r.status;
	if (st != 0)
		fprintf(stderr, "%s %s: status %d: %s", argv[0], argv[1] ? argv[1] : "", st, r.err ? r.err : "");
	if (out != NULL) {
		snprintf(out, outsz, "%s", r.out ? r.out : "");
		out[strcspn(out, "\n")] = '\0';
	}
	run_result_free(&r);
	return st;
}

/* Unmounts, detaches (waiting until the kernel lets the device go) and removes everything; safe twice. */
static void
loopvol_down(struct loopvol *v)
{
	if (v->mounted) {
		const char *a[] = { loopvol_tool("umount"), v->mnt, NULL };

		loopvol_run(a, NULL, 0);
	}
	if (v->loop[0]) {
		const char *a[] = { loopvol_tool("losetup"), "-d", v->loop, NULL };
		char sys[128];

		loopvol_run(a, NULL, 0);
		/* A device still held (the superblock goes a moment after its last user) detaches when let go. */
		snprintf(sys, sizeof sys, "/sys/block/%s/loop", v->loop + 5);
		for (int i = 0; i < 100 && access(sys, F_OK) == 0; i++)
			usleep(50000);
		if (access(sys, F_OK) == 0)
			fprintf(stderr, "%s is still attached\n", v->loop);
	}
	if (v->dir[0]) {
		const char *a[] = { loopvol_tool("rm"), "-rf", "--", v->dir, NULL };

		loopvol_run(a, NULL, 0);
	}
	memset(v, 0, sizeof *v);
}

/*
 * Makes a 300 MB btrfs volume in a new folder from tmpl ("/tmp/x-XXXXXX",
 * mode 0711 so smbd-like users may pass), mounted on DIR/mntname, with the
 * subvolume MNT/share. 0 ready; 1 not possible here (why in skip: not root,
 * no tools, no loop devices); -1 failed (everything undone).
 */
static int
loopvol_up(struct loopvol *v, const char *tmpl, const char *mntname, char *skip, size_t skiplen)
{
	const char *truncate_ = loopvol_tool("truncate"), *mkfs = loopvol_tool("mkfs.btrfs");
	const char *losetup = loopvol_tool("losetup"), *mount_ = loopvol_tool("mount"), *btrfs = loopvol_tool("btrfs");
	char dir[128];

	memset(v, 0, sizeof *v);
	if (geteuid() != 0) {
		snprintf(skip, skiplen, "needs root");
		return 1;
	}
	if (!truncate_ || !mkfs || !losetup || !mount_ || !btrfs || access("/dev/loop-control", F_OK) != 0) {
		snprintf(skip, skiplen, "needs btrfs-progs, losetup and loop devices");
		return 1;
	}
	snprintf(dir, sizeof dir, "%s", tmpl);
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(v->dir, sizeof v->dir, "%s", dir);
	if (snprintf(v->img, sizeof v->img, "%s/img", v->dir) >= (int)sizeof v->img ||
	    snprintf(v->mnt, sizeof v->mnt, "%s/%s", v->dir, mntname) >= (int)sizeof v->mnt ||
	    snprintf(v->share, sizeof v->share, "%s/share", v->mnt) >= (int)sizeof v->share)
		goto fail;
	if (chmod(v->dir, 0711) == -1 || mkdir(v->mnt, 0755) == -1)
		goto fail;
	{
		const char *a1[] = { truncate_, "-s", "300M", v->img, NULL };
		const char *a2[] = { mkfs, "-q", "-f", v->img, NULL };
		const char *a3[] = { losetup, "--find", "--show", v->img, NULL };

		if (loopvol_run(a1, NULL, 0) != 0 || loopvol_run(a2, NULL, 0) != 0 ||
		    loopvol_run(a3, v->loop, sizeof v->loop) != 0 || strncmp(v->loop, "/dev/loop", 9) != 0) {
			snprintf(skip, skiplen, "cannot make a btrfs loop volume");
			if (strncmp(v->loop, "/dev/loop", 9) != 0)
				v->loop[0] = '\0';
			loopvol_down(v);
			return 1;
		}
	}
	{
		const char *a1[] = { mount_, v->loop, v->mnt, NULL };
		const char *a2[] = { btrfs, "-q", "subvolume", "create", v->share, NULL };

		if (loopvol_run(a1, NULL, 0) != 0)
			goto fail;
		v->mounted = 1;
		if (loopvol_run(a2, NULL, 0) != 0)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "volume setup failed: %s\n", strerror(errno));
	loopvol_down(v);
	return -1;
}

#endif
