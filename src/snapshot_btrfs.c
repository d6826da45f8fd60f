/* btrfs snapshots through libbtrfsutil: read-only snapshots of the subvolume holding a share. */
#include <sys/stat.h>
#include <sys/statfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <btrfsutil.h>
#include <linux/magic.h>

#include "config.h"
#include "snapshot.h"
#include "snapshot_impl.h"
#include "util.h"

/* Where a share's snapshots go and what they are taken of. */
struct btrfs_loc {
	char subvol[PATH_MAX];		/* the subvolume holding the share */
	char rel[PATH_MAX];		/* the share below it ("" = the subvolume itself) */
	char snapdir[PATH_MAX];		/* one snapshot per entry */
};

/* What went wrong in a libbtrfsutil call, with the errno it left. */
static void
btrfs_error(char *err, size_t errlen, const char *what, enum btrfs_util_error e, int saved, const char *hint)
{
	if (saved != 0)
		snprintf(err, errlen, "%s: %s: %s%s%s", what, btrfs_util_strerror(e), strerror(saved),
		    hint ? ": " : "", hint ? hint : "");
	else
		snprintf(err, errlen, "%s: %s%s%s", what, btrfs_util_strerror(e), hint ? ": " : "",
		    hint ? hint : "");
}

static const char *
btrfs_hint(int saved)
{
	switch (saved) {
	case EPERM:
	case EACCES:
		return "sharewarden must run as root (CAP_SYS_ADMIN) to manage btrfs snapshots";
	case EXDEV:
		return "the snapshot dir must be on the same btrfs filesystem as the share: set dir in [snapshots]";
	case ENOSPC:
	case EDQUOT:
		return "the filesystem is full: free space or remove old snapshots";
	case EROFS:
		return "the filesystem is mounted read-only";
	default:
		return NULL;
	}
}

static int
btrfs_locate(const struct share *sh, struct btrfs_loc *loc, char *err, size_t errlen)
{
	char p[PATH_MAX];
	size_t n;

	if (snprintf(p, sizeof p, "%s", sh->path) >= (int)sizeof p) {
		snprintf(err, errlen, "share %s: path too long", sh->name);
		return -1;
	}
	/* The nearest subvolume at or above the share: only a whole subvolume can be snapshotted. */
	for (;;) {
		enum btrfs_util_error e;
		char *slash;

		errno = 0;
		e = btrfs_util_is_subvolume(p);
		if (e == BTRFS_UTIL_OK)
			break;
		if (e == BTRFS_UTIL_ERROR_NOT_BTRFS) {
			snprintf(err, errlen, "share %s (%s) is not on btrfs: set backend = zfs or command in "
			    "[snapshots]", sh->name, sh->path);
			return -1;
		}
		if (e != BTRFS_UTIL_ERROR_NOT_SUBVOLUME) {
			char what[PATH_MAX + 64];
			int saved = errno;

			snprintf(what, sizeof what, "share %s: cannot check whether %s is a btrfs subvolume",
			    sh->name, p);
			btrfs_error(err, errlen, what, e, saved,
			    saved == ENOENT ? "the share's folder does not exist" : btrfs_hint(saved));
			return -1;
		}
		if (strcmp(p, "/") == 0) {
			snprintf(err, errlen, "share %s: no btrfs subvolume holds %s", sh->name, sh->path);
			return -1;
		}
		slash = strrchr(p, '/');
		if (slash == p)
			p[1] = '\0';
		else
			*slash = '\0';
	}
	snprintf(loc->subvol, sizeof loc->subvol, "%s", p);
	n = strlen(p);
	if (strcmp(p, "/") == 0)
		snprintf(loc->rel, sizeof loc->rel, "%s", sh->path + 1);
	else
		snprintf(loc->rel, sizeof loc->rel, "%s", sh->path[n] == '/' ? sh->path + n + 1 : "");
	if (sh->snap_dir != NULL && sh->snap_dir[0] != '\0') {
		snprintf(loc->snapdir, sizeof loc->snapdir, "%s", sh->snap_dir);
		return 0;
	}
	/* Beside the subvolume, so that it is neither inside the share nor inside its own snapshots. */
	if (strchr(sh->name, '/') != NULL || strcmp(sh->name, ".") == 0 || strcmp(sh->name, "..") == 0 ||
	    sh->name[0] == '\0') {
		snprintf(err, errlen, "share %s: its name cannot be a folder name: set dir in [snapshots] or "
		    "snapshot dir in [share %s]", sh->name, sh->name);
		return -1;
	}
	if (strcmp(p, "/") == 0) {
		snprintf(err, errlen, "share %s: its subvolume is /, which has no parent for .snapshots: set dir "
		    "in [snapshots]", sh->name);
		return -1;
	}
	*strrchr(p, '/') = '\0';
	if (snprintf(loc->snapdir, sizeof loc->snapdir, "%s/.snapshots/%s", p, sh->name) >=
	    (int)sizeof loc->snapdir) {
		snprintf(err, errlen, "share %s: snapshot dir path too long", sh->name);
		return -1;
	}
	return 0;
}

int
btrfs_snap_paths(const struct share *sh, char *snapdir, size_t snapdirsz, char *subvol, size_t subvolsz,
    char *err, size_t errlen)
{
	struct btrfs_loc *loc = xmalloc(sizeof *loc);
	int rc = btrfs_locate(sh, loc, err, errlen);

	if (rc == 0) {
		snprintf(snapdir, snapdirsz, "%s", loc->snapdir);
		snprintf(subvol, subvolsz, "%s", loc->subvol);
	}
	free(loc);
	return rc;
}

static int
btrfs_create(const struct share *sh, const char *name, char *err, size_t errlen)
{
	struct btrfs_loc *loc = xmalloc(sizeof *loc);
	char dst[PATH_MAX], what[2 * PATH_MAX + 64];
	enum btrfs_util_error e;
	struct statfs sf;
	int rc = -1;

	if (!snap_name_valid(name, 0)) {
		snprintf(err, errlen, "invalid snapshot name (expected @GMT-YYYY.MM.DD-HH.MM.SS)");
		goto out;
	}
	if (btrfs_locate(sh, loc, err, errlen) == -1 || snap_mkdirs(loc->snapdir, err, errlen) == -1)
		goto out;
	/* On another filesystem the ioctl fails with a baffling ENOTTY: say what is wrong instead. */
	if (statfs(loc->snapdir, &sf) == 0 && (unsigned long)sf.f_type != (unsigned long)BTRFS_SUPER_MAGIC) {
		snprintf(err, errlen, "snapshot dir %s is not on btrfs: it must be on the same btrfs filesystem "
		    "as share %s (%s): set dir in [snapshots]", loc->snapdir, sh->name, sh->path);
		goto out;
	}
	if (snap_path_join(dst, sizeof dst, loc->snapdir, name, NULL) == -1) {
		snprintf(err, errlen, "share %s: snapshot path too long", sh->name);
		goto out;
	}
	errno = 0;
	e = btrfs_util_create_snapshot(loc->subvol, dst, BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY, NULL, NULL);
	if (e != BTRFS_UTIL_OK) {
		int saved = errno;

		snprintf(what, sizeof what, "cannot snapshot %s to %s", loc->subvol, dst);
		btrfs_error(err, errlen, what, e, saved,
		    saved == EEXIST ? "a snapshot of that name exists already" : btrfs_hint(saved));
		goto out;
	}
	rc = 0;
out:
	free(loc);
	return rc;
}

static int
btrfs_list(const struct share *sh, struct snap_info **out, size_t *n, char *err, size_t errlen)
{
	struct btrfs_loc *loc = xmalloc(sizeof *loc);
	struct snap_info *list = NULL;
	size_t cap = 0, cnt = 0;
	struct dirent *de;
	DIR *d;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (btrfs_locate(sh, loc, err, errlen) == -1)
		goto out;
	if ((d = opendir(loc->snapdir)) == NULL) {
		/* No snapshot taken yet: the folder appears with the first one. */
		if (errno == ENOENT)
			rc = 0;
		else
			snprintf(err, errlen, "cannot read snapshot dir %s: %s", loc->snapdir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		struct btrfs_util_subvolume_info info;
		char p[PATH_MAX], what[PATH_MAX + 64];
		enum btrfs_util_error e;

		if (!snap_name_valid(de->d_name, 0) ||
		    snap_path_join(p, sizeof p, loc->snapdir, de->d_name, NULL) == -1)
			continue;
		if (btrfs_util_is_subvolume(p) != BTRFS_UTIL_OK)
			continue;
		errno = 0;
		if ((e = btrfs_util_subvolume_info(p, 0, &info)) != BTRFS_UTIL_OK) {
			int saved = errno;

			snprintf(what, sizeof what, "cannot read the creation time of snapshot %s", p);
			btrfs_error(err, errlen, what, e, saved, btrfs_hint(saved));
			closedir(d);
			free(list);
			goto out;
		}
		/*
		 * A snapshot brought back from a replica (btrfs receive) was created
		 * when it came: its name says when it was taken.
		 */
		if (memcmp(info.received_uuid, (const uint8_t[16]){ 0 }, sizeof info.received_uuid) != 0) {
			int64_t t;

			if (snapshot_parse_name(de->d_name, &t) == 0)
				snap_list_add(&list, &cnt, &cap, de->d_name, t, 0);
			continue;
		}
		snap_list_add(&list, &cnt, &cap, de->d_name,
		    (int64_t)info.otime.tv_sec * 1000 + info.otime.tv_nsec / 1000000, 1);
	}
	closedir(d);
	snap_sort(list, cnt);
	*out = list;
	*n = cnt;
	rc = 0;
out:
	free(loc);
	return rc;
}

static int
btrfs_remove(const struct share *sh, const char *name, char *err, size_t errlen)
{
	struct btrfs_loc *loc = xmalloc(sizeof *loc);
	char p[PATH_MAX], what[PATH_MAX + 64];
	enum btrfs_util_error e;
	int rc = -1;

	if (!snap_name_valid(name, 0)) {
		snprintf(err, errlen, "refusing to remove a snapshot whose name is not @GMT-YYYY.MM.DD-HH.MM.SS");
		goto out;
	}
	if (btrfs_locate(sh, loc, err, errlen) == -1)
		goto out;
	if (snap_path_join(p, sizeof p, loc->snapdir, name, NULL) == -1) {
		snprintf(err, errlen, "share %s: snapshot path too long", sh->name);
		goto out;
	}
	errno = 0;
	if ((e = btrfs_util_is_subvolume(p)) != BTRFS_UTIL_OK) {
		int saved = errno;

		snprintf(what, sizeof what, "refusing to remove %s, which is not a btrfs snapshot", p);
		btrfs_error(err, errlen, what, e, saved, saved == ENOENT ? "no such snapshot" : NULL);
		goto out;
	}
	errno = 0;
	if ((e = btrfs_util_delete_subvolume(p, 0)) != BTRFS_UTIL_OK) {
		int saved = errno;

		snprintf(what, sizeof what, "cannot remove snapshot %s", p);
		btrfs_error(err, errlen, what, e, saved, btrfs_hint(saved));
		goto out;
	}
	rc = 0;
out:
	free(loc);
	return rc;
}

static int
btrfs_root(const struct share *sh, const char *name, char *buf, size_t bufsz, char *err, size_t errlen)
{
	struct btrfs_loc *loc = xmalloc(sizeof *loc);
	int rc = -1;

	if (!snap_name_valid(name, 0)) {
		snprintf(err, errlen, "invalid snapshot name (expected @GMT-YYYY.MM.DD-HH.MM.SS)");
		goto out;
	}
	if (btrfs_locate(sh, loc, err, errlen) == -1)
		goto out;
	if (snap_path_join(buf, bufsz, loc->snapdir, name, loc->rel) == -1) {
		snprintf(err, errlen, "share %s: snapshot path too long", sh->name);
		goto out;
	}
	rc = 0;
out:
	free(loc);
	return rc;
}

const struct snap_backend snap_btrfs = {
	.name = "btrfs",
	.create = btrfs_create,
	.list = btrfs_list,
	.remove = btrfs_remove,
	.root = btrfs_root,
};
