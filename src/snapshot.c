/* Snapshots of shares: @GMT names, the backend of a share, taking one now, retention and smb.conf lines. */
#include <sys/stat.h>
#include <sys/statfs.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <linux/magic.h>

#include "config.h"
#include "snapshot.h"
#include "snapshot_impl.h"
#include "util.h"

#define GMT_FORMAT	"@GMT-%Y.%m.%d-%H.%M.%S"
#define GMT_LEN		24	/* strlen("@GMT-YYYY.MM.DD-HH.MM.SS") */
#define HOUR_MS		3600000LL
#define DAY_MS		(24 * HOUR_MS)

const struct snap_backend *
snapshot_backend(const struct share *sh, char *why, size_t whylen)
{
	struct statfs sf;

	switch (sh->snap_kind) {
	case SNAP_BTRFS:
		return &snap_btrfs;
	case SNAP_ZFS:
		return &snap_zfs;
	case SNAP_COMMAND:
		return &snap_command;
	case SNAP_NONE:
		snprintf(why, whylen, "snapshots are off");
		return NULL;
	case SNAP_AUTO:
	case SNAP_DEFAULT:
		if (statfs(sh->path, &sf) == -1) {
			snprintf(why, whylen, "cannot check the filesystem of share %s (%s): %s", sh->name,
			    sh->path, strerror(errno));
			return NULL;
		}
		if ((unsigned long)sf.f_type == (unsigned long)BTRFS_SUPER_MAGIC)
			return &snap_btrfs;
		snprintf(why, whylen, "share %s is not on btrfs: set backend = zfs or command in [snapshots]",
		    sh->name);
		return NULL;
	default:
		snprintf(why, whylen, "share %s has an unknown snapshot backend %d", sh->name, sh->snap_kind);
		return NULL;
	}
}

/* Floor division: names of times before 1970 still round down to their second. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void
snapshot_name(const struct share *sh, int64_t t_ms, char *buf, size_t bufsz)
{
	time_t t = (time_t)floor_div(t_ms, 1000);
	const char *fmt = GMT_FORMAT;
	struct tm tm;

	/* ZFS snapshot names cannot hold '@': the dataset@name separator. */
	if (sh != NULL && sh->snap_kind == SNAP_ZFS)
		fmt++;
	if (bufsz == 0)
		return;
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, bufsz, fmt, &tm) == 0)
		buf[0] = '\0';
}

/* Two digits at p, or -1. */
static int
two_digits(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

int
snapshot_parse_name(const char *name, int64_t *t_ms)
{
	struct tm tm, back;
	const char *p = name;
	int year = 0, v[5];
	time_t t;

	if (name == NULL)
		return -1;
	if (*p == '@')
		p++;
	if (strlen(p) != GMT_LEN - 1 || strncmp(p, "GMT-", 4) != 0)
		return -1;
	p += 4;
	/* YYYY.MM.DD-HH.MM.SS */
	for (int i = 0; i < 4; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		year = year * 10 + (p[i] - '0');
	}
	/* strftime's %Y writes years before 1000 with fewer digits: no name of ours holds one. */
	if (year < 1000 || p[4] != '.' || p[7] != '.' || p[10] != '-' || p[13] != '.' || p[16] != '.')
		return -1;
	for (int i = 0; i < 5; i++) {
		if ((v[i] = two_digits(p + 5 + 3 * i)) < 0)
			return -1;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = year - 1900;
	tm.tm_mon = v[0] - 1;
	tm.tm_mday = v[1];
	tm.tm_hour = v[2];
	tm.tm_min = v[3];
	tm.tm_sec = v[4];
	back = tm;
	if ((t = timegm(&back)) == (time_t)-1 && !(year == 1969 && v[0] == 12 && v[1] == 31))
		return -1;
	/* timegm normalises 02.30 into 03.02: a round trip rejects every impossible date. */
	if (gmtime_r(&t, &back) == NULL || back.tm_year != tm.tm_year || back.tm_mon != tm.tm_mon ||
	    back.tm_mday != tm.tm_mday || back.tm_hour != tm.tm_hour || back.tm_min != tm.tm_min ||
	    back.tm_sec != tm.tm_sec)
		return -1;
	if (t_ms != NULL)
		*t_ms = (int64_t)t * 1000;
	return 0;
}

int
snap_name_valid(const char *name, int zfs)
{
	if (name == NULL || snapshot_parse_name(name, NULL) == -1)
		return 0;
	return zfs ? name[0] != '@' : name[0] == '@';
}

static int
cmp_snap(const void *a, const void *b)
{
	const struct snap_info *x = a, *y = b;

	if (x->taken_ms != y->taken_ms)
		return x->taken_ms < y->taken_ms ? -1 : 1;
	return strcmp(x->name, y->name);
}

void
snap_sort(struct snap_info *list, size_t n)
{
	if (n > 1)
		qsort(list, n, sizeof *list, cmp_snap);
}

int
snap_list_add(struct snap_info **list, size_t *n, size_t *cap, const char *name, int64_t taken_ms, int precise)
{
	struct snap_info *s;

	if (strlen(name) >= SNAP_NAME_MAX)
		return -1;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*list = xrealloc(*list, *cap * sizeof **list);
	}
	s = &(*list)[(*n)++];
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->taken_ms = taken_ms;
	s->precise = precise;
	return 0;
}

int
snap_path_join(char *buf, size_t bufsz, const char *a, const char *b, const char *c)
{
	int n;

	if (c != NULL && c[0] != '\0')
		n = snprintf(buf, bufsz, "%s/%s/%s", a, b, c);
	else
		n = snprintf(buf, bufsz, "%s/%s", a, b);
	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

int
snap_mkdirs(const char *dir, char *err, size_t errlen)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
		snprintf(err, errlen, "snapshot dir %s: path too long", dir);
		return -1;
	}
	/* Each missing level gets 0755 so that smbd can read the snapshots for Previous Versions. */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0755) == 0) {
			/* A daemon's umask (077) would hide the snapshots from the users smbd acts for. */
			if (chmod(p, 0755) == -1) {
				snprintf(err, errlen, "cannot make snapshot dir %s readable: %s", p, strerror(errno));
				return -1;
			}
		} else if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create snapshot dir %s: %s (create it, or set dir in "
			    "[snapshots] to a folder on the share's filesystem)", p, strerror(errno));
			return -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (stat(p, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "snapshot dir %s is not a folder: remove what is there or set another dir "
		    "in [snapshots]", p);
		return -1;
	}
	return 0;
}

int
snapshot_list(const struct share *sh, struct snap_info **out, size_t *n, char *err, size_t errlen)
{
	const struct snap_backend *b = snapshot_backend(sh, err, errlen);

	*out = NULL;
	*n = 0;
	if (b == NULL)
		return -1;
	return b->list(sh, out, n, err, errlen);
}

static const struct snap_info *
snap_find(const struct snap_info *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	}
	return NULL;
}

int
snapshot_take(const struct share *sh, struct snap_info *out, char *err, size_t errlen)
{
	const struct snap_backend *b = snapshot_backend(sh, err, errlen);
	const struct snap_info *found;
	struct snap_info *list = NULL;
	char name[SNAP_NAME_MAX];
	int64_t asked;
	size_t n = 0;

	if (b == NULL)
		return -1;
	asked = now_ms();
	snapshot_name(sh, asked, name, sizeof name);
	if (b->list(sh, &list, &n, err, errlen) == -1)
		return -1;
	/*
	 * Names have whole seconds. One taken earlier in this second may miss what changed since: wait for
	 * the next second. One that another taker made in that next second holds everything until the
	 * request, and is the answer.
	 */
	if (snap_find(list, n, name) != NULL) {
		free(list);
		list = NULL;
		usleep((useconds_t)(1000 - asked % 1000 + 5) * 1000);
		snapshot_name(sh, now_ms(), name, sizeof name);
		if (b->list(sh, &list, &n, err, errlen) == -1)
			return -1;
		if ((found = snap_find(list, n, name)) != NULL) {
			*out = *found;
			free(list);
			return 0;
		}
	}
	free(list);
	list = NULL;
	if (b->create(sh, name, err, errlen) == -1)
		return -1;
	if (b->list(sh, &list, &n, err, errlen) == -1)
		return -1;
	if ((found = snap_find(list, n, name)) == NULL) {
		snprintf(err, errlen, "snapshot %s of share %s was created but is not listed by the %s backend "
		    "(check where it puts snapshots)", name, sh->name, b->name);
		free(list);
		return -1;
	}
	*out = *found;
	free(list);
	return 0;
}

const struct snap_info *
snapshot_before(const struct snap_info *list, size_t n, int64_t t_ms)
{
	const struct snap_info *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct snap_info *s = &list[i];
		/* A time from the name alone may be up to 999 ms early: the snapshot can be later than it says. */
		int ok = s->taken_ms < t_ms &&
		    (s->precise || (uint64_t)t_ms - (uint64_t)s->taken_ms >= 1000);

		if (ok && (best == NULL || s->taken_ms >= best->taken_ms))
			best = s;
	}
	return best;
}

struct retain_ref {
	int64_t t;
	size_t i;
};

/* Newest first; equal times keep the later index (the list is oldest first) first. */
static int
cmp_retain(const void *a, const void *b)
{
	const struct retain_ref *x = a, *y = b;

	if (x->t != y->t)
		return x->t > y->t ? -1 : 1;
	return x->i > y->i ? -1 : (x->i < y->i);
}

/* Keeps the newest snapshot of each of the first max distinct buckets (newest first). */
static void
retain_buckets(const struct retain_ref *r, size_t n, int64_t width, int max, unsigned char *keep)
{
	int64_t last = 0;
	int count = 0;

	for (size_t k = 0; k < n && count < max; k++) {
		int64_t b = floor_div(r[k].t, width);

		if (count > 0 && b == last)
			continue;
		keep[r[k].i] = 1;
		last = b;
		count++;
	}
}

void
snapshot_retain(const struct snap_info *list, size_t n, int64_t now, int keep_recent,
    int keep_hourly, int keep_daily, unsigned char *keep)
{
	struct retain_ref *r;
	size_t m = 0;

	if (n == 0)
		return;
	memset(keep, 0, n);
	r = xcalloc(n, sizeof *r);
	for (size_t i = 0; i < n; i++) {
		/* Taken after now: the clock went back. Keep it and let it count for nothing. */
		if (list[i].taken_ms > now) {
			keep[i] = 1;
			continue;
		}
		r[m].t = list[i].taken_ms;
		r[m].i = i;
		m++;
	}
	qsort(r, m, sizeof *r, cmp_retain);
	for (size_t k = 0; k < m && (int64_t)k < keep_recent; k++)
		keep[r[k].i] = 1;
	retain_buckets(r, m, HOUR_MS, keep_hourly, keep);
	retain_buckets(r, m, DAY_MS, keep_daily, keep);
	free(r);
}

/* Appends to buf at *o; -1 once it no longer fits. */
static int
conf_add(char *buf, size_t bufsz, size_t *o, const char *key, const char *val)
{
	int n;

	/* smb.conf has one parameter per line: a value with a line break cannot be written. */
	if (strpbrk(val, "\r\n") != NULL)
		return -1;
	n = snprintf(buf + *o, bufsz - *o, "%s%s%s\n", key, val[0] ? " = " : "", val);
	if (n < 0 || (size_t)n >= bufsz - *o)
		return -1;
	*o += (size_t)n;
	return 0;
}

int
snapshot_samba_conf(const struct share *sh, char *buf, size_t bufsz)
{
	const struct snap_backend *b;
	char why[256], snapdir[PATH_MAX], mountpoint[PATH_MAX];
	size_t o = 0;
	int rc = 0;

	if (bufsz == 0)
		return -1;
	buf[0] = '\0';
	if ((b = snapshot_backend(sh, why, sizeof why)) == NULL)
		return -1;
	mountpoint[0] = '\0';
	/*
	 * shadow_copy2 looks for a file at SNAPDIR/TOKEN/<share path relative
	 * to the mount point>/file. Its mount point defaults to where st_dev
	 * changes (a btrfs subvolume or a ZFS dataset); naming the snapshot's
	 * source explicitly keeps a share below it right.
	 */
	if (b == &snap_btrfs) {
		if (btrfs_snap_paths(sh, snapdir, sizeof snapdir, mountpoint, sizeof mountpoint,
		    why, sizeof why) == -1)
			return -1;
		if (strcmp(mountpoint, sh->path) == 0)
			mountpoint[0] = '\0';
	} else if (b == &snap_zfs) {
		snprintf(snapdir, sizeof snapdir, ".zfs/snapshot");
		if (zfs_snap_mountpoint(sh, mountpoint, sizeof mountpoint, why, sizeof why) == -1)
			return -1;
		if (strcmp(mountpoint, sh->path) == 0)
			mountpoint[0] = '\0';
	} else
		snprintf(snapdir, sizeof snapdir, "%s", sh->snap_dir);

	rc |= conf_add(buf, bufsz, &o, "# Previous Versions from sharewarden's snapshots "
	    "(add shadow_copy2 to this share's vfs objects)", "");
	rc |= conf_add(buf, bufsz, &o, "vfs objects", "shadow_copy2 full_audit");
	rc |= conf_add(buf, bufsz, &o, "shadow:snapdir", snapdir);
	if (mountpoint[0] != '\0')
		rc |= conf_add(buf, bufsz, &o, "shadow:mountpoint", mountpoint);
	/* A command's snapshot folder is a copy of the share's root, not of a whole filesystem. */
	if (b == &snap_command)
		rc |= conf_add(buf, bufsz, &o, "shadow:basedir", sh->path);
	rc |= conf_add(buf, bufsz, &o, "shadow:format", b == &snap_zfs ? &GMT_FORMAT[1] : GMT_FORMAT);
	rc |= conf_add(buf, bufsz, &o, "shadow:sort", "desc");
	rc |= conf_add(buf, bufsz, &o, "shadow:localtime", "no");
	if (rc != 0) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}
