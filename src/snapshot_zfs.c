/* ZFS snapshots through the zfs command: DATASET@GMT-..., seen under <mountpoint>/.zfs/snapshot. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "respond.h"
#include "snapshot.h"
#include "snapshot_impl.h"
#include "util.h"

/* Listing and naming are quick; a snapshot or destroy may wait for a transaction group. */
#define ZFS_QUERY_TIMEOUT_MS	60000

/* The share's dataset and where it is mounted. */
struct zfs_loc {
	char dataset[256];
	char mountpoint[PATH_MAX];
	char rel[PATH_MAX];		/* the share below the mount point ("" = the mount point itself) */
};

const char *
zfs_bin(void)
{
	static const char *const dirs[] = { "/usr/sbin/zfs", "/sbin/zfs", "/usr/local/sbin/zfs" };

	for (size_t i = 0; i < nitems(dirs); i++) {
		if (access(dirs[i], X_OK) == 0)
			return dirs[i];
	}
	return NULL;
}

/* Runs zfs with args; on failure err says why. r is filled either way (free it). */
static int
zfs_run(const char *const *args, struct run_result *r, int timeout_ms, char *err, size_t errlen)
{
	const char *argv[16];
	const char *bin = zfs_bin();
	size_t n = 0;

	memset(r, 0, sizeof *r);
	if (bin == NULL) {
		snprintf(err, errlen, "no zfs command in /usr/sbin, /sbin or /usr/local/sbin: install the ZFS "
		    "utilities (zfsutils-linux) or set backend = btrfs or command in [snapshots]");
		return -1;
	}
	argv[n++] = bin;
	for (; *args != NULL && n < nitems(argv) - 1; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	if (run_argv(argv, r, timeout_ms) == -1 || r->status != 0) {
		respond_tool_error("zfs", r, err, errlen);
		return -1;
	}
	return 0;
}

/* Whether path is dir or below it; *rest then points at what follows the '/'. */
static int
path_under(const char *path, const char *dir, const char **rest)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0) {
		*rest = path + 1;
		return path[0] == '/';
	}
	if (strncmp(path, dir, n) != 0 || (path[n] != '\0' && path[n] != '/'))
		return 0;
	*rest = path[n] == '/' ? path + n + 1 : path + n;
	return 1;
}

static int
zfs_locate(const struct share *sh, struct zfs_loc *loc, char *err, size_t errlen)
{
	const char *const args[] = { "list", "-H", "-o", "name,mountpoint", "-t", "filesystem", NULL };
	const char *want = sh->zfs_dataset != NULL ? sh->zfs_dataset : "";
	struct run_result r;
	size_t best = 0;
	int found = 0;
	char *line, *save = NULL;

	memset(loc, 0, sizeof *loc);
	if (zfs_run(args, &r, ZFS_QUERY_TIMEOUT_MS, err, errlen) == -1) {
		run_result_free(&r);
		return -1;
	}
	for (line = strtok_r(r.out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		const char *mp, *rest;

		if (tab == NULL)
			continue;
		*tab = '\0';
		mp = tab + 1;
		if (want[0] != '\0') {
			if (strcmp(line, want) != 0)
				continue;
			if (mp[0] != '/') {
				snprintf(err, errlen, "zfs dataset %s is not mounted (mountpoint %s): set its "
				    "mountpoint to the share's folder", want, mp);
				run_result_free(&r);
				return -1;
			}
			if (!path_under(sh->path, mp, &rest)) {
				snprintf(err, errlen, "share %s (%s) is not inside zfs dataset %s, mounted at %s: "
				    "fix zfs dataset in [share %s]", sh->name, sh->path, want, mp, sh->name);
				run_result_free(&r);
				return -1;
			}
		} else if (mp[0] != '/' || !path_under(sh->path, mp, &rest) || (found && strlen(mp) <= best))
			continue;
		/* The deepest mount point holding the share is the dataset its files live in. */
		snprintf(loc->dataset, sizeof loc->dataset, "%s", line);
		snprintf(loc->mountpoint, sizeof loc->mountpoint, "%s", mp);
		snprintf(loc->rel, sizeof loc->rel, "%s", rest);
		best = strlen(mp);
		found = 1;
		if (want[0] != '\0')
			break;
	}
	run_result_free(&r);
	if (!found) {
		if (want[0] != '\0')
			snprintf(err, errlen, "no zfs filesystem %s: fix zfs dataset in [share %s]", want, sh->name);
		else
			snprintf(err, errlen, "share %s (%s) is on no mounted zfs filesystem: set zfs dataset in "
			    "[share %s] or another backend", sh->name, sh->path, sh->name);
		return -1;
	}
	return 0;
}

int
zfs_snap_mountpoint(const struct share *sh, char *buf, size_t bufsz, char *err, size_t errlen)
{
	struct zfs_loc *loc = xmalloc(sizeof *loc);
	int rc = zfs_locate(sh, loc, err, errlen);

	if (rc == 0)
		snprintf(buf, bufsz, "%s", loc->mountpoint);
	free(loc);
	return rc;
}

int
zfs_snap_dataset(const struct share *sh, char *buf, size_t bufsz, char *err, size_t errlen)
{
	struct zfs_loc *loc = xmalloc(sizeof *loc);
	int rc = zfs_locate(sh, loc, err, errlen);

	if (rc == 0)
		snprintf(buf, bufsz, "%s", loc->dataset);
	free(loc);
	return rc;
}

static int
zfs_full_name(char *buf, size_t bufsz, const struct zfs_loc *loc, const char *name)
{
	int n = snprintf(buf, bufsz, "%s@%s", loc->dataset, name);

	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

/* Runs `zfs VERB DATASET@NAME` for one of our snapshot names (anything else is refused with why). */
static int
zfs_on_snapshot(const struct share *sh, const char *name, const char *verb, const char *why,
    char *err, size_t errlen)
{
	struct zfs_loc *loc = xmalloc(sizeof *loc);
	char full[SNAP_NAME_MAX + 256];
	struct run_result r;
	int rc = -1;

	memset(&r, 0, sizeof r);
	if (!snap_name_valid(name, 1)) {
		snprintf(err, errlen, "%s", why);
		goto out;
	}
	if (zfs_locate(sh, loc, err, errlen) == -1)
		goto out;
	if (zfs_full_name(full, sizeof full, loc, name) == -1) {
		snprintf(err, errlen, "zfs dataset name %s too long", loc->dataset);
		goto out;
	}
	const char *const args[] = { verb, full, NULL };

	rc = zfs_run(args, &r, SNAP_CMD_TIMEOUT_MS, err, errlen);
out:
	run_result_free(&r);
	free(loc);
	return rc;
}

static int
zfs_create(const struct share *sh, const char *name, char *err, size_t errlen)
{
	return zfs_on_snapshot(sh, name, "snapshot", "invalid zfs snapshot name (expected GMT-YYYY.MM.DD-HH.MM.SS)",
	    err, errlen);
}

static int
zfs_list(const struct share *sh, struct snap_info **out, size_t *n, char *err, size_t errlen)
{
	struct zfs_loc *loc = xmalloc(sizeof *loc);
	struct snap_info *list = NULL;
	size_t cap = 0, cnt = 0, dl;
	struct run_result r;
	char *line, *save = NULL;
	int rc = -1;

	*out = NULL;
	*n = 0;
	memset(&r, 0, sizeof r);
	if (zfs_locate(sh, loc, err, errlen) == -1)
		goto out;
	/*
	 * "zfs get" rather than "zfs list -p -t snapshot": the same command works
	 * with OpenZFS and zfs-fuse, whose list has no -p. Depth 1 also yields
	 * the dataset and its children; only DATASET@... are its snapshots.
	 */
	const char *const args[] = { "get", "-H", "-p", "-d", "1", "-o", "name,value", "creation",
	    loc->dataset, NULL };

	if (zfs_run(args, &r, ZFS_QUERY_TIMEOUT_MS, err, errlen) == -1)
		goto out;
	dl = strlen(loc->dataset);
	for (line = strtok_r(r.out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), *end;
		const char *snap;
		long long secs;

		if (tab == NULL || strncmp(line, loc->dataset, dl) != 0 || line[dl] != '@')
			continue;
		*tab = '\0';
		snap = line + dl + 1;
		if (!snap_name_valid(snap, 1))
			continue;
		errno = 0;
		secs = strtoll(tab + 1, &end, 10);
		if (errno != 0 || end == tab + 1 || (*end != '\0' && *end != '\t') || secs < 0) {
			snprintf(err, errlen, "zfs get creation: unexpected value for %s", line);
			free(list);
			goto out;
		}
		/* creation has whole seconds: no better than the name, so not precise. */
		snap_list_add(&list, &cnt, &cap, snap, (int64_t)secs * 1000, 0);
	}
	snap_sort(list, cnt);
	*out = list;
	*n = cnt;
	rc = 0;
out:
	run_result_free(&r);
	free(loc);
	return rc;
}

static int
zfs_remove(const struct share *sh, const char *name, char *err, size_t errlen)
{
	/* Never hand zfs destroy anything but one of our snapshot names: DATASET alone would be the data. */
	return zfs_on_snapshot(sh, name, "destroy",
	    "refusing to destroy a zfs snapshot whose name is not GMT-YYYY.MM.DD-HH.MM.SS", err, errlen);
}

static int
zfs_root(const struct share *sh, const char *name, char *buf, size_t bufsz, char *err, size_t errlen)
{
	struct zfs_loc *loc = xmalloc(sizeof *loc);
	char base[PATH_MAX];
	int rc = -1;

	if (!snap_name_valid(name, 1)) {
		snprintf(err, errlen, "invalid zfs snapshot name (expected GMT-YYYY.MM.DD-HH.MM.SS)");
		goto out;
	}
	if (zfs_locate(sh, loc, err, errlen) == -1)
		goto out;
	if (snprintf(base, sizeof base, "%s/.zfs/snapshot", strcmp(loc->mountpoint, "/") == 0 ? "" :
	    loc->mountpoint) >= (int)sizeof base || snap_path_join(buf, bufsz, base, name, loc->rel) == -1) {
		snprintf(err, errlen, "share %s: snapshot path too long", sh->name);
		goto out;
	}
	rc = 0;
out:
	free(loc);
	return rc;
}

const struct snap_backend snap_zfs = {
	.name = "zfs",
	.create = zfs_create,
	.list = zfs_list,
	.remove = zfs_remove,
	.root = zfs_root,
};
