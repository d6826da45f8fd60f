/* Kernel file events on the shares with fanotify, and the permission group that denies a writer's opens. */
#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fanotify.h"
#include "log.h"
#include "util.h"

#ifndef FAN_REPORT_DFID_NAME_TARGET
#error "linux/fanotify.h from Linux 5.17 or later is needed (FAN_REPORT_DFID_NAME_TARGET, FAN_RENAME)"
#endif

#define FAN_HANDLE_MAX	128		/* MAX_HANDLE_SZ, and the size of sw_handle.bytes */
#define FAN_PATH_MAX	(PATH_MAX + NAME_MAX + 2)
#define MOUNTINFO_MAX	(64u << 20)

/* ---- the mount table and the filesystems that hold the shares ---- */

struct mnt_ent {
	unsigned	 major, minor;
	char		*root;		/* the mount's root inside its filesystem, "" for "/" */
	char		*mp;		/* the mount point, "" for "/" */
};

struct mnt_tab {
	struct mnt_ent	*ent;
	size_t		 n;
	char		*text;		/* the file; root and mp point into it */
};

/* One filesystem we mark, through one of its mounts. */
struct fan_fs {
	unsigned	 major, minor;
	char		*mp;		/* the marked mount: its mount point ("" = "/") */
	char		*root;		/* and its root inside the filesystem ("" = "/") */
	int		 mfd;		/* O_RDONLY|O_DIRECTORY on mp: marks and open_by_handle_at */
	int		 has_fsid;
	fsid_t		 fsid;		/* statfs of mfd: matched against the fsid of FID records */
};

struct fan_share {
	char		*name;
	char		*path;		/* as configured, "" for "/" */
	size_t		 pathlen;
	char		*rel;		/* its path inside the filesystem, "" for the root */
	size_t		 rellen;
	size_t		 fs;		/* index in fan_tgt.fs */
};

struct fan_tgt {
	struct mnt_tab	 mt;
	struct fan_fs	*fs;
	size_t		 nfs;
	struct fan_share *sh;
	size_t		 nsh;
};

/* Normalized paths: no trailing '/', and the root is "". */
static size_t
path_norm_len(const char *p, size_t n)
{
	while (n > 0 && p[n - 1] == '/')
		n--;
	return n;
}

/* Whether p is pre or lies below it (both normalized). */
static int
path_under(const char *p, size_t plen, const char *pre, size_t prelen)
{
	return plen >= prelen && memcmp(p, pre, prelen) == 0 && (plen == prelen || p[prelen] == '/');
}

/* Undoes the octal escapes of /proc/self/mountinfo (\040 space, \011 tab, \012 newline, \134 backslash). */
static void
mountinfo_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

static void
mnt_tab_free(struct mnt_tab *mt)
{
	free(mt->ent);
	free(mt->text);
	memset(mt, 0, sizeof *mt);
}

static int
mnt_tab_load(struct mnt_tab *mt)
{
	size_t cap = 65536, len = 0, nent = 0, cent = 64;
	char *line, *next;
	int fd;

	memset(mt, 0, sizeof *mt);
	if ((fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	mt->text = xmalloc(cap);
	for (;;) {
		ssize_t r;

		if (len + 1 >= cap) {
			if (cap >= MOUNTINFO_MAX) {
				close(fd);
				mnt_tab_free(mt);
				errno = EFBIG;
				return -1;
			}
			cap *= 2;
			mt->text = xrealloc(mt->text, cap);
		}
		r = read(fd, mt->text + len, cap - len - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			int e = errno;

			close(fd);
			mnt_tab_free(mt);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	mt->text[len] = '\0';
	mt->ent = xcalloc(cent, sizeof *mt->ent);
	for (line = mt->text; line && *line; line = next) {
		char *f[5], *save = NULL, *tok;
		int nf = 0;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		for (tok = strtok_r(line, " ", &save); tok && nf < 5; tok = strtok_r(NULL, " ", &save))
			f[nf++] = tok;
		if (nf < 5 || f[3][0] != '/' || f[4][0] != '/')
			continue;
		if (nent == cent) {
			cent *= 2;
			mt->ent = xrealloc(mt->ent, cent * sizeof *mt->ent);
		}
		if (sscanf(f[2], "%u:%u", &mt->ent[nent].major, &mt->ent[nent].minor) != 2)
			continue;
		mountinfo_unescape(f[3]);
		mountinfo_unescape(f[4]);
		f[3][path_norm_len(f[3], strlen(f[3]))] = '\0';
		f[4][path_norm_len(f[4], strlen(f[4]))] = '\0';
		mt->ent[nent].root = f[3];
		mt->ent[nent].mp = f[4];
		nent++;
	}
	mt->n = nent;
	return 0;
}

/* The mount that holds path (normalized, canonical): the longest mount point above it; the later one on a tie. */
static const struct mnt_ent *
mnt_tab_holder(const struct mnt_tab *mt, const char *path)
{
	const struct mnt_ent *best = NULL;
	size_t plen = strlen(path), bestlen = 0;

	for (size_t i = 0; i < mt->n; i++) {
		size_t l = strlen(mt->ent[i].mp);

		if (path_under(path, plen, mt->ent[i].mp, l) && (best == NULL || l >= bestlen)) {
			best = &mt->ent[i];
			bestlen = l;
		}
	}
	return best;
}

static void
tgt_free(struct fan_tgt *t)
{
	for (size_t i = 0; i < t->nfs; i++) {
		if (t->fs[i].mfd != -1)
			close(t->fs[i].mfd);
		free(t->fs[i].mp);
		free(t->fs[i].root);
	}
	for (size_t i = 0; i < t->nsh; i++) {
		free(t->sh[i].name);
		free(t->sh[i].path);
		free(t->sh[i].rel);
	}
	free(t->fs);
	free(t->sh);
	mnt_tab_free(&t->mt);
	memset(t, 0, sizeof *t);
}

static int
open_dir(const char *mp)
{
	return open(mp[0] ? mp : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/*
 * For each share: its canonical path, the mount that holds it, and its path
 * inside that filesystem; one fan_fs per filesystem (major:minor), opened
 * through the share's mount.
 */
static int
tgt_build(struct fan_tgt *t, const struct share *shares, char *err, size_t errlen)
{
	size_t n = 0;

	memset(t, 0, sizeof *t);
	for (const struct share *s = shares; s; s = s->next)
		n++;
	if (n == 0) {
		snprintf(err, errlen, "no shares to watch");
		return -1;
	}
	if (mnt_tab_load(&t->mt) == -1) {
		snprintf(err, errlen, "/proc/self/mountinfo: %s", strerror(errno));
		return -1;
	}
	t->sh = xcalloc(n, sizeof *t->sh);
	t->fs = xcalloc(n, sizeof *t->fs);
	for (const struct share *s = shares; s; s = s->next) {
		struct fan_share *fsh = &t->sh[t->nsh];
		const struct mnt_ent *m;
		char *real;
		size_t rl, ml, i;

		if ((real = realpath(s->path, NULL)) == NULL) {
			snprintf(err, errlen, "share %s: %s: %s", s->name, s->path, strerror(errno));
			goto fail;
		}
		rl = path_norm_len(real, strlen(real));
		real[rl] = '\0';
		if ((m = mnt_tab_holder(&t->mt, real)) == NULL) {
			snprintf(err, errlen, "share %s: %s: no mount holds it in /proc/self/mountinfo",
			    s->name, s->path);
			free(real);
			goto fail;
		}
		ml = strlen(m->mp);
		fsh->name = xstrdup(s->name);
		fsh->pathlen = path_norm_len(s->path, strlen(s->path));
		fsh->path = xstrndup(s->path, fsh->pathlen);
		fsh->rellen = strlen(m->root) + (rl - ml);
		fsh->rel = xmalloc(fsh->rellen + 1);
		memcpy(fsh->rel, m->root, strlen(m->root));
		memcpy(fsh->rel + strlen(m->root), real + ml, rl - ml + 1);
		free(real);
		for (i = 0; i < t->nfs; i++)
			if (t->fs[i].major == m->major && t->fs[i].minor == m->minor)
				break;
		if (i == t->nfs) {
			struct fan_fs *f = &t->fs[t->nfs];

			f->major = m->major;
			f->minor = m->minor;
			f->mp = xstrdup(m->mp);
			f->root = xstrdup(m->root);
			if ((f->mfd = open_dir(f->mp)) == -1) {
				snprintf(err, errlen, "share %s: mount %s: %s", s->name, f->mp[0] ? f->mp : "/",
				    strerror(errno));
				free(f->mp);
				free(f->root);
				goto fail;
			}
			t->nfs++;
		}
		fsh->fs = i;
		t->nsh++;
	}
	return 0;
fail:
	tgt_free(t);
	return -1;
}

/*
 * Marks a filesystem. A btrfs subvolume mounted on its own has an fsid of its
 * own, and a filesystem mark through it fails with EXDEV in FID mode: then
 * another mount of the same filesystem is marked instead, the top-level one
 * first, and it becomes the mount events are resolved through.
 */
static int
tgt_mark(struct fan_tgt *t, struct fan_fs *f, int gfd, unsigned int flags, uint64_t mask)
{
	int e;

	if (fanotify_mark(gfd, flags, mask, f->mfd, NULL) == 0)
		return 0;
	if ((e = errno) != EXDEV)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < t->mt.n; i++) {
			const struct mnt_ent *m = &t->mt.ent[i];
			int mfd;

			if (m->major != f->major || m->minor != f->minor || strcmp(m->mp, f->mp) == 0 ||
			    (pass == 0) != (m->root[0] == '\0'))
				continue;
			if ((mfd = open_dir(m->mp)) == -1)
				continue;
			if (fanotify_mark(gfd, flags, mask, mfd, NULL) == -1) {
				close(mfd);
				continue;
			}
			log_info("fanotify: %s is a subvolume mounted on its own, watched through %s",
			    f->mp[0] ? f->mp : "/", m->mp[0] ? m->mp : "/");
			close(f->mfd);
			free(f->mp);
			free(f->root);
			f->mfd = mfd;
			f->mp = xstrdup(m->mp);
			f->root = xstrdup(m->root);
			return 0;
		}
	}
	errno = e;
	return -1;
}

/* The share (most specific) holding rel, a path inside filesystem fs; NULL if none. */
static const struct fan_share *
tgt_share_of(const struct fan_tgt *t, size_t fs, const char *rel, size_t rellen)
{
	const struct fan_share *best = NULL;

	for (size_t i = 0; i < t->nsh; i++) {
		const struct fan_share *s = &t->sh[i];

		if (s->fs == fs && path_under(rel, rellen, s->rel, s->rellen) &&
		    (best == NULL || s->rellen > best->rellen))
			best = s;
	}
	return best;
}

/* ---- the notification source ---- */

#define SRC_BUFSZ	65536
#define SRC_MAX_READS	64		/* per call: the daemon's loop gets a turn under a flood */
#define DC_SETS		64
#define DC_WAYS		4

/* A directory handle and its path inside the filesystem, in a set-associative cache with LRU in each set. */
struct dc_ent {
	uint64_t	 used;		/* LRU clock; 0 = empty */
	size_t		 fs;
	int		 type;
	unsigned	 len;
	unsigned char	 fh[FAN_HANDLE_MAX];
	char		*path;
	size_t		 pathlen;
};

/* A FID record of an event, pointing into the read buffer. */
struct fan_fid {
	int			 present;
	unsigned char		 fsid[8];
	int			 type;
	unsigned		 len;
	const unsigned char	*fh;
	const char		*name;		/* NULL unless a *DFID_NAME record */
	size_t			 namelen;
};

struct fan_source {
	int			 fd;
	struct fan_tgt		 t;
	audit_event_cb		 cb;
	void			*arg;
	struct fan_stats	 st;
	struct dc_ent		 dc[DC_SETS][DC_WAYS];
	uint64_t		 dc_clock;
	int			 warned;
	struct sw_handle	 h;
	char			 rel[2][FAN_PATH_MAX];	/* paths inside the filesystem */
	char			 out[2][FAN_PATH_MAX];	/* the delivered paths */
	unsigned char		 buf[SRC_BUFSZ] __attribute__((aligned(8)));
};

static unsigned
dc_set(size_t fs, int type, const unsigned char *fh, unsigned len)
{
	uint32_t h = 2166136261u ^ (uint32_t)fs ^ (uint32_t)type * 16777619u;

	for (unsigned i = 0; i < len; i++)
		h = (h ^ fh[i]) * 16777619u;
	return h % DC_SETS;
}

static struct dc_ent *
dc_find(struct fan_source *s, size_t fs, const struct fan_fid *f)
{
	struct dc_ent *set = s->dc[dc_set(fs, f->type, f->fh, f->len)];

	for (int w = 0; w < DC_WAYS; w++) {
		struct dc_ent *e = &set[w];

		if (e->used && e->fs == fs && e->type == f->type && e->len == f->len &&
		    memcmp(e->fh, f->fh, f->len) == 0) {
			e->used = ++s->dc_clock;
			return e;
		}
	}
	return NULL;
}

static void
dc_put(struct fan_source *s, size_t fs, const struct fan_fid *f, const char *path, size_t pathlen)
{
	struct dc_ent *set, *e;

	if (f->len > FAN_HANDLE_MAX)
		return;
	if ((e = dc_find(s, fs, f)) == NULL) {
		set = s->dc[dc_set(fs, f->type, f->fh, f->len)];
		e = &set[0];
		for (int w = 1; w < DC_WAYS; w++)
			if (set[w].used < e->used)
				e = &set[w];
		e->fs = fs;
		e->type = f->type;
		e->len = f->len;
		memcpy(e->fh, f->fh, f->len);
	}
	free(e->path);
	e->path = xstrndup(path, pathlen);
	e->pathlen = pathlen;
	e->used = ++s->dc_clock;
}

/* A renamed directory moves every path below it: forget them all. */
static void
dc_clear(struct fan_source *s)
{
	for (int i = 0; i < DC_SETS; i++)
		for (int w = 0; w < DC_WAYS; w++) {
			free(s->dc[i][w].path);
			s->dc[i][w].path = NULL;
			s->dc[i][w].used = 0;
		}
}

/* Reads one info record; returns its length, or 0 when it is damaged. */
static size_t
fid_parse(const unsigned char *p, size_t avail, uint8_t *type, struct fan_fid *f)
{
	struct fanotify_event_info_header hdr;
	uint32_t hb;
	int ht;
	size_t off = sizeof hdr + 8 + sizeof hb + sizeof ht;

	if (avail < sizeof hdr)
		return 0;
	memcpy(&hdr, p, sizeof hdr);
	if (hdr.len < sizeof hdr || hdr.len > avail)
		return 0;
	*type = hdr.info_type;
	switch (hdr.info_type) {
	case FAN_EVENT_INFO_TYPE_FID:
	case FAN_EVENT_INFO_TYPE_DFID:
	case FAN_EVENT_INFO_TYPE_DFID_NAME:
	case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME:
	case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME:
		break;
	default:
		return hdr.len;		/* pidfd, error and future records: not ours */
	}
	if (hdr.len < off)
		return 0;
	memcpy(f->fsid, p + sizeof hdr, 8);
	memcpy(&hb, p + sizeof hdr + 8, sizeof hb);
	memcpy(&ht, p + sizeof hdr + 8 + sizeof hb, sizeof ht);
	if (hb > hdr.len - off)
		return 0;
	f->present = 1;
	f->type = ht;
	f->len = hb;
	f->fh = p + off;
	f->name = NULL;
	f->namelen = 0;
	if (hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
	    hdr.info_type == FAN_EVENT_INFO_TYPE_OLD_DFID_NAME ||
	    hdr.info_type == FAN_EVENT_INFO_TYPE_NEW_DFID_NAME) {
		const char *name = (const char *)p + off + hb;
		size_t room = hdr.len - off - hb;
		const char *nul = memchr(name, '\0', room);

		if (nul == NULL || nul == name || memchr(name, '/', (size_t)(nul - name)) != NULL)
			return 0;
		f->name = name;
		f->namelen = (size_t)(nul - name);
	}
	return hdr.len;
}

/* The filesystem an FID record belongs to, or -1 when its fsid matches none of ours. */
static ssize_t
src_fs_of(const struct fan_source *s, const struct fan_fid *f)
{
	for (size_t i = 0; i < s->t.nfs; i++)
		if (s->t.fs[i].has_fsid && memcmp(&s->t.fs[i].fsid, f->fsid, 8) == 0)
			return (ssize_t)i;
	return -1;
}

/*
 * Turns a handle into the object's path inside filesystem *fsi (through the
 * marked mount, then relative to the filesystem root): from the cache, else
 * open_by_handle_at(O_PATH) and the fd's link in /proc. Directories are
 * cached. Returns the length, or -1 (errno ESTALE when the object is gone).
 */
static ssize_t
src_resolve(struct fan_source *s, const struct fan_fid *f, int isdir, size_t *fsi, char *out)
{
	union {
		struct file_handle fh;
		unsigned char b[sizeof(struct file_handle) + FAN_HANDLE_MAX];
	} u;
	char link[32], tmp[PATH_MAX];
	ssize_t want = src_fs_of(s, f), n;
	struct dc_ent *e;
	int err = ESTALE;

	if (f->len > FAN_HANDLE_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < s->t.nfs; i++) {
		const struct fan_fs *fs;
		struct stat sb;
		size_t mpl, rootl;
		int ofd;

		/* The fsid names the filesystem; without a match, each mount is tried. */
		if (want >= 0 && i != (size_t)want)
			continue;
		fs = &s->t.fs[i];
		if (isdir && (e = dc_find(s, i, f)) != NULL) {
			memcpy(out, e->path, e->pathlen + 1);
			*fsi = i;
			return (ssize_t)e->pathlen;
		}
		u.fh.handle_bytes = f->len;
		u.fh.handle_type = f->type;
		memcpy(u.fh.f_handle, f->fh, f->len);
		if ((ofd = open_by_handle_at(fs->mfd, &u.fh, O_PATH | O_CLOEXEC)) == -1) {
			err = errno;
			continue;
		}
		snprintf(link, sizeof link, "/proc/self/fd/%d", ofd);
		n = readlink(link, tmp, sizeof tmp);
		err = n == -1 ? errno : ESTALE;
		/* A directory removed but still held open reads as "path (deleted)": it has no path. */
		if (n > 0 && (size_t)n < sizeof tmp && fstat(ofd, &sb) == 0 && sb.st_nlink == 0)
			n = -1;
		close(ofd);
		if (n <= 0 || (size_t)n >= sizeof tmp || tmp[0] != '/')
			continue;
		n = (ssize_t)path_norm_len(tmp, (size_t)n);
		mpl = strlen(fs->mp);
		rootl = strlen(fs->root);
		if (!path_under(tmp, (size_t)n, fs->mp, mpl)) {
			err = EXDEV;	/* not reachable through the marked mount */
			continue;
		}
		memcpy(out, fs->root, rootl);
		memcpy(out + rootl, tmp + mpl, (size_t)n - mpl);
		out[rootl + (size_t)n - mpl] = '\0';
		*fsi = i;
		if (isdir)
			dc_put(s, i, f, out, rootl + (size_t)n - mpl);
		return (ssize_t)(rootl + (size_t)n - mpl);
	}
	errno = err;
	return -1;
}

/* Appends "/name" to a path inside the filesystem; -1 when too long. */
static ssize_t
path_join(char *out, size_t len, const struct fan_fid *f)
{
	if (f->name == NULL || (f->namelen == 1 && f->name[0] == '.'))
		return (ssize_t)len;
	if (len + 1 + f->namelen >= FAN_PATH_MAX)
		return -1;
	out[len] = '/';
	memcpy(out + len + 1, f->name, f->namelen);
	out[len + 1 + f->namelen] = '\0';
	return (ssize_t)(len + 1 + f->namelen);
}

/* The delivered form of a path inside filesystem fs: under the configured share path, or under the marked mount. */
static struct sw_str
src_outpath(struct fan_source *s, int slot, const struct fan_share *sh, size_t fs, const char *rel,
    size_t rellen)
{
	const char *pre, *sub;
	size_t prelen, sublen;
	char *o = s->out[slot];

	if (sh != NULL) {
		pre = sh->path;
		prelen = sh->pathlen;
		sub = rel + sh->rellen;
		sublen = rellen - sh->rellen;
	} else {
		/* Outside every share (one side of a rename): the path through the marked mount. */
		const struct fan_fs *f = &s->t.fs[fs];
		size_t rootl = strlen(f->root);

		pre = f->mp;
		prelen = strlen(f->mp);
		sub = rel + (path_under(rel, rellen, f->root, rootl) ? rootl : 0);
		sublen = rellen - (size_t)(sub - rel);
	}
	if (prelen + sublen >= FAN_PATH_MAX)
		sublen = FAN_PATH_MAX - 1 - prelen;
	memcpy(o, pre, prelen);
	memcpy(o + prelen, sub, sublen);
	if (prelen + sublen == 0) {
		o[0] = '/';
		prelen = 1;
	}
	o[prelen + sublen] = '\0';
	return (struct sw_str){ o, prelen + sublen };
}

static void
src_deliver(struct fan_source *s, struct sw_event *ev, enum sw_op op, unsigned flags)
{
	ev->op = op;
	ev->flags = flags;
	s->st.events++;
	s->cb(ev, s->arg);
}

static void
src_event_init(struct sw_event *ev, int64_t at, int pid)
{
	static const char empty[] = "";

	memset(ev, 0, sizeof *ev);
	ev->at_ms = at;
	ev->ok = 1;
	ev->src = SRC_FANOTIFY;
	ev->pid = pid;
	ev->user = ev->ip = ev->host = ev->share = ev->path = ev->path2 = (struct sw_str){ empty, 0 };
}

static void
src_handle(struct fan_source *s, struct sw_event *ev, size_t fs, const struct fan_fid *f)
{
	if (!f->present || f->len > sizeof s->h.bytes)
		return;
	s->h.mount_fd = s->t.fs[fs].mfd;
	s->h.type = f->type;
	s->h.len = f->len;
	memcpy(s->h.bytes, f->fh, f->len);
	ev->handle = &s->h;
}

static void
src_rename(struct fan_source *s, const struct fanotify_event_metadata *m, const struct fan_fid *from,
    const struct fan_fid *to, const struct fan_fid *obj, int64_t at)
{
	const struct fan_share *sh1, *sh2;
	struct sw_event ev;
	int isdir = (m->mask & FAN_ONDIR) != 0;
	ssize_t l1, l2;
	size_t fs1, fs2;

	if ((l1 = src_resolve(s, from, 1, &fs1, s->rel[0])) == -1 ||
	    (l2 = src_resolve(s, to, 1, &fs2, s->rel[1])) == -1 ||
	    (l1 = path_join(s->rel[0], (size_t)l1, from)) == -1 ||
	    (l2 = path_join(s->rel[1], (size_t)l2, to)) == -1) {
		if (isdir)
			dc_clear(s);
		s->st.unresolved++;
		return;
	}
	if (isdir) {
		dc_clear(s);
		if (obj->present)
			dc_put(s, fs2, obj, s->rel[1], (size_t)l2);
	}
	sh1 = tgt_share_of(&s->t, fs1, s->rel[0], (size_t)l1);
	sh2 = tgt_share_of(&s->t, fs2, s->rel[1], (size_t)l2);
	if (sh1 == NULL && sh2 == NULL) {
		s->st.dropped++;
		return;
	}
	src_event_init(&ev, at, m->pid);
	ev.share.p = sh1 ? sh1->name : sh2->name;
	ev.share.n = strlen(ev.share.p);
	ev.path = src_outpath(s, 0, sh1, fs1, s->rel[0], (size_t)l1);
	ev.path2 = src_outpath(s, 1, sh2, fs2, s->rel[1], (size_t)l2);
	if (obj->present)
		src_handle(s, &ev, fs2, obj);
	src_deliver(s, &ev, OP_RENAME, isdir ? EVF_DIR : 0);
}

static void
src_event(struct fan_source *s, const struct fanotify_event_metadata *m, const unsigned char *info,
    size_t infolen, int64_t at, int self)
{
	struct fan_fid dir = { 0 }, from = { 0 }, to = { 0 }, obj = { 0 }, *hobj;
	const struct fan_share *sh;
	struct sw_event ev;
	unsigned dflag = (m->mask & FAN_ONDIR) ? EVF_DIR : 0;
	size_t off = 0, fs = 0;
	ssize_t l;

	if (m->mask & FAN_Q_OVERFLOW) {
		s->st.overflows++;
		src_event_init(&ev, at, 0);
		src_deliver(s, &ev, OP_OVERFLOW, 0);
		return;
	}
	while (off < infolen) {
		struct fan_fid f = { 0 };
		uint8_t type = 0;
		size_t rl = fid_parse(info + off, infolen - off, &type, &f);

		if (rl == 0) {
			s->st.unresolved++;
			return;
		}
		off += rl;
		if (!f.present)
			continue;
		switch (type) {
		case FAN_EVENT_INFO_TYPE_FID:
			obj = f;
			break;
		case FAN_EVENT_INFO_TYPE_DFID:
		case FAN_EVENT_INFO_TYPE_DFID_NAME:
			dir = f;
			break;
		case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME:
			from = f;
			break;
		case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME:
			to = f;
			break;
		}
	}
	if (m->pid == self) {
		/* Not reported, but a directory we renamed still moves the paths of the cache. */
		if ((m->mask & FAN_RENAME) && dflag)
			dc_clear(s);
		s->st.dropped++;
		return;
	}
	if (m->mask & FAN_RENAME) {
		if (!from.present || !to.present) {
			s->st.unresolved++;
			return;
		}
		src_rename(s, m, &from, &to, &obj, at);
		return;
	}
	/* FAN_RENAME reports each rename whole: MOVED_FROM/MOVED_TO bits would only repeat it. */
	if ((m->mask & (FAN_CREATE | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ATTRIB | FAN_DELETE)) == 0) {
		s->st.dropped++;
		return;
	}
	if (dir.present) {
		/* A directory's own event comes as its handle with the name ".": it is the object. */
		int self_dir = dir.name == NULL || (dir.namelen == 1 && dir.name[0] == '.');

		if ((l = src_resolve(s, &dir, 1, &fs, s->rel[0])) == -1 ||
		    (l = path_join(s->rel[0], (size_t)l, &dir)) == -1) {
			s->st.unresolved++;
			return;
		}
		hobj = obj.present ? &obj : self_dir ? &dir : NULL;
	} else if (obj.present) {
		if ((l = src_resolve(s, &obj, dflag != 0, &fs, s->rel[0])) == -1) {
			/*
			 * A file's last link removed: the kernel adds an attribute change
			 * (link count) without a parent; the delete event already said it.
			 */
			if (errno == ESTALE && (m->mask & ~(uint64_t)FAN_ONDIR) == FAN_ATTRIB)
				return;
			s->st.unresolved++;
			return;
		}
		hobj = &obj;
	} else {
		s->st.unresolved++;
		return;
	}
	/* A new directory: its handle will name the parent of what is made in it, maybe after it is gone. */
	if ((m->mask & FAN_CREATE) && dflag && obj.present)
		dc_put(s, fs, &obj, s->rel[0], (size_t)l);
	if ((sh = tgt_share_of(&s->t, fs, s->rel[0], (size_t)l)) == NULL) {
		s->st.dropped++;
		return;
	}
	src_event_init(&ev, at, m->pid);
	ev.share.p = sh->name;
	ev.share.n = strlen(sh->name);
	ev.path = src_outpath(s, 0, sh, fs, s->rel[0], (size_t)l);
	if (hobj)
		src_handle(s, &ev, fs, hobj);
	/* Merged events come in the order they most likely happened. */
	if (m->mask & FAN_CREATE)
		src_deliver(s, &ev, dflag ? OP_MKDIR : OP_CREATE, dflag ? EVF_DIR : EVF_NEWFILE | EVF_WRITE);
	if (m->mask & FAN_MODIFY)
		src_deliver(s, &ev, OP_WRITE, dflag);
	if (m->mask & FAN_CLOSE_WRITE)
		src_deliver(s, &ev, OP_CLOSE, dflag | EVF_WRITE);
	if (m->mask & FAN_ATTRIB)
		src_deliver(s, &ev, OP_ATTR, dflag);
	if (m->mask & FAN_DELETE)
		src_deliver(s, &ev, OP_UNLINK, dflag);
}

struct fan_source *
fan_source_open(const struct share *shares, audit_event_cb cb, void *arg, char *err, size_t errlen)
{
	const uint64_t mask = FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_MODIFY | FAN_CLOSE_WRITE |
	    FAN_ATTRIB | FAN_ONDIR | FAN_EVENT_ON_CHILD;
	struct fan_source *s;
	int fd;

	fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME_TARGET,
	    O_RDONLY | O_LARGEFILE);
	if (fd == -1) {
		if (errno == EPERM)
			snprintf(err, errlen, "fanotify needs root (CAP_SYS_ADMIN)");
		else if (errno == EINVAL)
			snprintf(err, errlen, "the kernel lacks fanotify FAN_REPORT_DFID_NAME_TARGET "
			    "(file handles with names, Linux 5.17 or later)");
		else if (errno == ENOSYS)
			snprintf(err, errlen, "the kernel has no fanotify (CONFIG_FANOTIFY)");
		else
			snprintf(err, errlen, "fanotify_init: %s", strerror(errno));
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->fd = fd;
	s->cb = cb;
	s->arg = arg;
	if (tgt_build(&s->t, shares, err, errlen) == -1) {
		close(fd);
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < s->t.nfs; i++) {
		struct fan_fs *f = &s->t.fs[i];
		struct statfs sf;

		if (tgt_mark(&s->t, f, fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask) == -1) {
			const char *mp = f->mp[0] ? f->mp : "/";

			if (errno == EINVAL)
				snprintf(err, errlen, "fanotify mark on %s: the kernel lacks FAN_RENAME "
				    "events on filesystem marks (Linux 5.17 or later)", mp);
			else if (errno == EXDEV)
				snprintf(err, errlen, "fanotify mark on %s: a btrfs subvolume mounted alone "
				    "cannot be watched; mount the top-level volume (subvolid=5) too", mp);
			else if (errno == EOPNOTSUPP || errno == ENODEV)
				snprintf(err, errlen, "fanotify mark on %s: the filesystem cannot report "
				    "file handles", mp);
			else if (errno == EPERM)
				snprintf(err, errlen, "fanotify needs root (CAP_SYS_ADMIN)");
			else
				snprintf(err, errlen, "fanotify mark on %s: %s", mp, strerror(errno));
			fan_source_close(s);
			return NULL;
		}
		if (fstatfs(f->mfd, &sf) == 0) {
			f->fsid = sf.f_fsid;
			f->has_fsid = 1;
		}
		log_debug("fanotify: watching the filesystem of %s", f->mp[0] ? f->mp : "/");
	}
	return s;
}

void
fan_source_close(struct fan_source *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	dc_clear(s);
	tgt_free(&s->t);
	free(s);
}

int
fan_source_fd(const struct fan_source *s)
{
	return s->fd;
}

const struct fan_stats *
fan_source_stats(const struct fan_source *s)
{
	return &s->st;
}

void
fan_source_read(struct fan_source *s)
{
	int self = getpid();

	for (int reads = 0; reads < SRC_MAX_READS; reads++) {
		ssize_t n = read(s->fd, s->buf, sizeof s->buf);
		size_t off = 0;
		int64_t at;

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1) {
			log_warn("fanotify read");
			return;
		}
		if (n == 0)
			return;
		at = now_ms();
		/* Event lengths are not a multiple of 8: copy each header out of the buffer. */
		while ((size_t)n - off >= FAN_EVENT_METADATA_LEN) {
			struct fanotify_event_metadata m;

			memcpy(&m, s->buf + off, sizeof m);
			if (m.vers != FANOTIFY_METADATA_VERSION) {
				if (!s->warned)
					log_warnx("fanotify: the kernel speaks metadata version %u, not %u: "
					    "kernel events are ignored", m.vers, FANOTIFY_METADATA_VERSION);
				s->warned = 1;
				break;
			}
			if (m.event_len < FAN_EVENT_METADATA_LEN || m.event_len > (size_t)n - off ||
			    m.metadata_len < FAN_EVENT_METADATA_LEN || m.metadata_len > m.event_len) {
				if (!s->warned)
					log_warnx("fanotify: a damaged event (length %u): the rest of the read "
					    "is skipped", m.event_len);
				s->warned = 1;
				break;
			}
			if (m.fd >= 0)
				close(m.fd);
			src_event(s, &m, s->buf + off + m.metadata_len, m.event_len - m.metadata_len, at,
			    self);
			off += m.event_len;
		}
	}
}

/* ---- the deny group ---- */

#define DENY_MAX	64
#define DENY_UIDS	16		/* accounts held: every process running as one is denied */
#define DENY_BUFSZ	2048		/* about 85 events: as many open fds at once, at most */

struct fan_deny {
	int		 gfd;		/* the group; after a failure, /dev/null in its place */
	int		 stopfd;	/* eventfd: stops the listener */
	int		 nullfd;
	int		 self;
	pthread_t	 thr;
	int		 started;
	struct fan_tgt	 t;
	uint64_t	 permmask;
	pthread_mutex_t	 lock;		/* callers only: the listener never takes it */
	int		 marked;	/* under lock */
	int64_t		 start[DENY_MAX];	/* under lock: the start time of each listed pid */
	/* Shared with the listener, through atomics only. */
	int		 pids[DENY_MAX];	/* 0 = free */
	int		 count;
	unsigned	 uids[DENY_UIDS];	/* 0 = free (root is never held) */
	int		 uidrefs[DENY_UIDS];	/* under lock: holders of each uid */
	int		 nuids;
	int		 failed;	/* the listener gave up and let every open through */
	int		 fail_errno;
	uint64_t	 denied;
	uint64_t	 errors;	/* read or answer errors */
	uint64_t	 errors_logged;	/* under lock */
};

/*
 * Start time (clock ticks since boot, field 22 of /proc/PID/stat) of a live
 * process; -1 with errno ESRCH when it is gone or a zombie.
 */
static int64_t
proc_start_time(int pid)
{
	char path[64], buf[1024], *p, *end;
	long long v;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errno = ESRCH;
		return -1;
	}
	do
		n = read(fd, buf, sizeof buf - 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n <= 0) {
		errno = ESRCH;
		return -1;
	}
	buf[n] = '\0';
	/* The command name may hold spaces and ')': fields resume after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ') {
		errno = EIO;
		return -1;
	}
	p += 2;
	if (*p == 'Z' || *p == 'X') {
		errno = ESRCH;
		return -1;
	}
	for (field = 3; field < 22 && p; field++)
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	if (p == NULL) {
		errno = EIO;
		return -1;
	}
	errno = 0;
	v = strtoll(p, &end, 10);
	if (errno || end == p) {
		errno = EIO;
		return -1;
	}
	return v;
}

/*
 * The effective and file-system uids of pid, from /proc/PID/status (procfs,
 * never a file of the shares: no event of our own). 0, or -1 when gone.
 */
static int
proc_uids(int pid, unsigned *euid, unsigned *fsuid)
{
	char path[64], buf[2048], *p;
	unsigned r, s;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	do
		n = read(fd, buf, sizeof buf - 1);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nUid:")) == NULL || sscanf(p + 5, "%u %u %u %u", &r, euid, &s, fsuid) != 4)
		return -1;
	return 0;
}

static uint32_t
deny_verdict(struct fan_deny *dn, int pid)
{
	unsigned euid, fsuid;

	if (pid <= 0 || pid == dn->self)
		return FAN_ALLOW;
	for (int i = 0; i < DENY_MAX; i++)
		if (__atomic_load_n(&dn->pids[i], __ATOMIC_ACQUIRE) == pid) {
			__atomic_add_fetch(&dn->denied, 1, __ATOMIC_RELAXED);
			return FAN_DENY;
		}
	/*
	 * A held account: smbd works as its user, so a session that began a
	 * moment ago is refused from its first open, before its audit line.
	 */
	if (__atomic_load_n(&dn->nuids, __ATOMIC_ACQUIRE) > 0 && proc_uids(pid, &euid, &fsuid) == 0)
		for (int i = 0; i < DENY_UIDS; i++) {
			unsigned u = __atomic_load_n(&dn->uids[i], __ATOMIC_ACQUIRE);

			if (u != 0 && (u == euid || u == fsuid)) {
				__atomic_add_fetch(&dn->denied, 1, __ATOMIC_RELAXED);
				return FAN_DENY;
			}
		}
	return FAN_ALLOW;
}

/*
 * The listener cannot go on: stop new events, then put /dev/null in place of
 * the group fd. Once the group is released the kernel allows every pending
 * event; a wedged file server is worse than a writer let through.
 */
static void
deny_fail_open(struct fan_deny *dn, int err)
{
	fanotify_mark(dn->gfd, FAN_MARK_FLUSH | FAN_MARK_FILESYSTEM, 0, AT_FDCWD, NULL);
	__atomic_store_n(&dn->fail_errno, err, __ATOMIC_RELAXED);
	__atomic_store_n(&dn->failed, 1, __ATOMIC_RELEASE);
	dup2(dn->nullfd, dn->gfd);
}

/* Answers every event in one read buffer. Returns -1 when the buffer cannot be understood. */
static int
deny_answer(struct fan_deny *dn, const unsigned char *buf, size_t n)
{
	size_t off = 0;

	while (n - off >= FAN_EVENT_METADATA_LEN) {
		struct fanotify_event_metadata m;

		memcpy(&m, buf + off, sizeof m);
		if (m.vers != FANOTIFY_METADATA_VERSION || m.event_len < FAN_EVENT_METADATA_LEN ||
		    m.event_len > n - off)
			return -1;
		if (m.fd >= 0) {
			if (m.mask & (FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM)) {
				struct fanotify_response r = { .fd = m.fd, .response = deny_verdict(dn, m.pid) };
				ssize_t w;

				do
					w = write(dn->gfd, &r, sizeof r);
				while (w == -1 && errno == EINTR);
				if (w != (ssize_t)sizeof r)
					__atomic_add_fetch(&dn->errors, 1, __ATOMIC_RELAXED);
			}
			close(m.fd);
		}
		off += m.event_len;
	}
	return 0;
}

/*
 * The listener: poll, read, answer. It never opens, stats or reads a file
 * (only /proc/PID/status while an account is held: procfs, no disk), never
 * allocates, never logs and never takes a lock, so an answer never waits on
 * another thread or on the disk.
 */
static void *
deny_listen(void *arg)
{
	struct fan_deny *dn = arg;
	unsigned char buf[DENY_BUFSZ] __attribute__((aligned(8)));
	struct pollfd pfd[2] = { { .fd = dn->gfd, .events = POLLIN }, { .fd = dn->stopfd, .events = POLLIN } };
	int stopping = 0, errs = 0;

	for (;;) {
		ssize_t n;

		if (!stopping) {
			if (poll(pfd, 2, -1) == -1) {
				if (errno == EINTR)
					continue;
				deny_fail_open(dn, errno);
				return NULL;
			}
			/* Stopping: the marks are gone; answer what is queued, then leave. */
			if (pfd[1].revents)
				stopping = 1;
			else if (!(pfd[0].revents & POLLIN)) {
				/* POLLERR or POLLNVAL alone: the group is unusable. */
				if (pfd[0].revents) {
					__atomic_add_fetch(&dn->errors, 1, __ATOMIC_RELAXED);
					deny_fail_open(dn, EBADF);
					return NULL;
				}
				continue;
			}
		}
		n = read(dn->gfd, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (stopping)
				return NULL;
			continue;
		}
		if (n <= 0) {
			int e = n == 0 ? EIO : errno;

			__atomic_add_fetch(&dn->errors, 1, __ATOMIC_RELAXED);
			/* Without fds the kernel denies the events it cannot hand over: let all through instead. */
			if (e == EMFILE || e == ENFILE || ++errs >= 100) {
				deny_fail_open(dn, e);
				return NULL;
			}
			if (stopping)
				return NULL;
			poll(NULL, 0, 1);
			continue;
		}
		errs = 0;
		if (deny_answer(dn, buf, (size_t)n) == -1) {
			__atomic_add_fetch(&dn->errors, 1, __ATOMIC_RELAXED);
			deny_fail_open(dn, EPROTO);
			return NULL;
		}
	}
}

static int
deny_mark(struct fan_deny *dn)
{
	for (size_t i = 0; i < dn->t.nfs; i++) {
		struct fan_fs *f = &dn->t.fs[i];
		int r;

		r = tgt_mark(&dn->t, f, dn->gfd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, dn->permmask);
		/* Directory opens are refused too where the kernel can; files are what matter. */
		if (r == -1 && errno == EINVAL && (dn->permmask & FAN_ONDIR)) {
			dn->permmask &= ~(uint64_t)FAN_ONDIR;
			r = tgt_mark(&dn->t, f, dn->gfd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, dn->permmask);
		}
		if (r == -1) {
			int e = errno;

			log_warn("fanotify deny: mark on %s", f->mp[0] ? f->mp : "/");
			fanotify_mark(dn->gfd, FAN_MARK_FLUSH | FAN_MARK_FILESYSTEM, 0, AT_FDCWD, NULL);
			errno = e;
			return -1;
		}
	}
	return 0;
}

/* Under lock: the shares' filesystems are marked (the first pid or uid listed marks them). 0, or -1. */
static int
deny_marked(struct fan_deny *dn)
{
	if (dn->marked)
		return 0;
	if (deny_mark(dn) == -1)
		return -1;
	dn->marked = 1;
	return 0;
}

/* With nobody listed the marks go: the file server then pays nothing for the group. */
static void
deny_unmark_if_empty(struct fan_deny *dn)
{
	if (dn->marked && __atomic_load_n(&dn->count, __ATOMIC_ACQUIRE) == 0 &&
	    __atomic_load_n(&dn->nuids, __ATOMIC_ACQUIRE) == 0) {
		if (fanotify_mark(dn->gfd, FAN_MARK_FLUSH | FAN_MARK_FILESYSTEM, 0, AT_FDCWD, NULL) == -1 &&
		    !__atomic_load_n(&dn->failed, __ATOMIC_ACQUIRE))
			log_warn("fanotify deny: unmark");
		dn->marked = 0;
	}
}

static void
deny_drop_slot(struct fan_deny *dn, int i)
{
	__atomic_store_n(&dn->pids[i], 0, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&dn->count, 1, __ATOMIC_RELEASE);
	dn->start[i] = 0;
}

struct fan_deny *
fan_deny_open(const struct share *shares, char *err, size_t errlen)
{
	struct fan_deny *dn;
	int gfd, e;

	if ((gfd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE)) == -1) {
		if (errno == EPERM)
			snprintf(err, errlen, "fanotify needs root (CAP_SYS_ADMIN)");
		else if (errno == EINVAL)
			snprintf(err, errlen, "the kernel lacks fanotify permission events "
			    "(CONFIG_FANOTIFY_ACCESS_PERMISSIONS)");
		else if (errno == ENOSYS)
			snprintf(err, errlen, "the kernel has no fanotify (CONFIG_FANOTIFY)");
		else
			snprintf(err, errlen, "fanotify_init: %s", strerror(errno));
		return NULL;
	}
	dn = xcalloc(1, sizeof *dn);
	dn->gfd = gfd;
	dn->stopfd = dn->nullfd = -1;
	dn->self = getpid();
	dn->permmask = FAN_OPEN_PERM | FAN_ONDIR;
	pthread_mutex_init(&dn->lock, NULL);
	if (tgt_build(&dn->t, shares, err, errlen) == -1)
		goto fail;
	if ((dn->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (dn->nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "fanotify deny: %s", strerror(errno));
		goto fail;
	}
	e = thread_start(&dn->thr, deny_listen, dn);
	if (e != 0) {
		snprintf(err, errlen, "fanotify deny: thread: %s", strerror(e));
		goto fail;
	}
	dn->started = 1;
	return dn;
fail:
	fan_deny_close(dn);
	return NULL;
}

void
fan_deny_close(struct fan_deny *dn)
{
	uint64_t one = 1;

	if (dn == NULL)
		return;
	/* No new events; the listener answers what is queued, then the group goes. */
	fanotify_mark(dn->gfd, FAN_MARK_FLUSH | FAN_MARK_FILESYSTEM, 0, AT_FDCWD, NULL);
	if (dn->started) {
		while (write(dn->stopfd, &one, sizeof one) == -1 && errno == EINTR)
			;
		pthread_join(dn->thr, NULL);
	}
	close(dn->gfd);
	if (dn->stopfd != -1)
		close(dn->stopfd);
	if (dn->nullfd != -1)
		close(dn->nullfd);
	tgt_free(&dn->t);
	pthread_mutex_destroy(&dn->lock);
	free(dn);
}

int
fan_deny_add(struct fan_deny *dn, int pid)
{
	int64_t st;
	int freeslot = -1;

	if (pid <= 0 || pid == dn->self) {
		errno = EINVAL;
		return -1;
	}
	if ((st = proc_start_time(pid)) == -1)
		return -1;
	pthread_mutex_lock(&dn->lock);
	if (__atomic_load_n(&dn->failed, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&dn->lock);
		errno = EIO;
		return -1;
	}
	for (int i = 0; i < DENY_MAX; i++) {
		int p = __atomic_load_n(&dn->pids[i], __ATOMIC_RELAXED);

		if (p == pid) {
			dn->start[i] = st;
			pthread_mutex_unlock(&dn->lock);
			return 0;
		}
		if (p == 0 && freeslot == -1)
			freeslot = i;
	}
	if (freeslot == -1) {
		pthread_mutex_unlock(&dn->lock);
		errno = ENOSPC;
		return -1;
	}
	dn->start[freeslot] = st;
	__atomic_store_n(&dn->pids[freeslot], pid, __ATOMIC_RELEASE);
	__atomic_add_fetch(&dn->count, 1, __ATOMIC_RELEASE);
	if (deny_marked(dn) == -1) {
		int e = errno;

		deny_drop_slot(dn, freeslot);
		pthread_mutex_unlock(&dn->lock);
		errno = e;
		return -1;
	}
	pthread_mutex_unlock(&dn->lock);
	log_debug("fanotify deny: opens by pid %d are refused", pid);
	return 0;
}

int
fan_deny_remove(struct fan_deny *dn, int pid)
{
	int found = 0;

	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&dn->lock);
	for (int i = 0; i < DENY_MAX; i++)
		if (__atomic_load_n(&dn->pids[i], __ATOMIC_RELAXED) == pid) {
			deny_drop_slot(dn, i);
			found = 1;
		}
	deny_unmark_if_empty(dn);
	pthread_mutex_unlock(&dn->lock);
	if (!found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int
fan_deny_count(const struct fan_deny *dn)
{
	return __atomic_load_n(&dn->count, __ATOMIC_ACQUIRE);
}

void
fan_deny_tick(struct fan_deny *dn)
{
	uint64_t errs = __atomic_load_n(&dn->errors, __ATOMIC_RELAXED);

	pthread_mutex_lock(&dn->lock);
	for (int i = 0; i < DENY_MAX; i++) {
		int pid = __atomic_load_n(&dn->pids[i], __ATOMIC_RELAXED);
		int64_t st;

		if (pid == 0)
			continue;
		st = proc_start_time(pid);
		if (st == -1 && errno != ESRCH)
			continue;	/* unreadable for a moment: keep it */
		if (st != dn->start[i]) {
			deny_drop_slot(dn, i);
			log_debug("fanotify deny: pid %d %s, no longer denied", pid,
			    st == -1 ? "ended" : "was reused");
		}
	}
	deny_unmark_if_empty(dn);
	if (errs != dn->errors_logged) {
		log_warnx("fanotify deny: %llu read or answer errors so far",
		    (unsigned long long)errs);
		dn->errors_logged = errs;
	}
	if (__atomic_load_n(&dn->failed, __ATOMIC_ACQUIRE) == 1) {
		errno = __atomic_load_n(&dn->fail_errno, __ATOMIC_RELAXED);
		log_warn("fanotify deny: the listener stopped, every open is allowed now");
		__atomic_store_n(&dn->failed, 2, __ATOMIC_RELEASE);
		for (int i = 0; i < DENY_MAX; i++)
			if (__atomic_load_n(&dn->pids[i], __ATOMIC_RELAXED) != 0)
				deny_drop_slot(dn, i);
		for (int i = 0; i < DENY_UIDS; i++) {
			__atomic_store_n(&dn->uids[i], 0, __ATOMIC_RELEASE);
			dn->uidrefs[i] = 0;
		}
		__atomic_store_n(&dn->nuids, 0, __ATOMIC_RELEASE);
		dn->marked = 0;
	}
	pthread_mutex_unlock(&dn->lock);
}

uint64_t
fan_deny_denied(const struct fan_deny *dn)
{
	return __atomic_load_n(&dn->denied, __ATOMIC_RELAXED);
}

int
fan_deny_hold_uid(struct fan_deny *dn, unsigned uid)
{
	int slot = -1;

	if (uid == 0) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&dn->lock);
	if (__atomic_load_n(&dn->failed, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&dn->lock);
		errno = EIO;
		return -1;
	}
	for (int i = 0; i < DENY_UIDS; i++) {
		unsigned u = __atomic_load_n(&dn->uids[i], __ATOMIC_RELAXED);

		if (u == uid) {
			dn->uidrefs[i]++;
			pthread_mutex_unlock(&dn->lock);
			return 0;
		}
		if (u == 0 && slot == -1)
			slot = i;
	}
	if (slot == -1) {
		pthread_mutex_unlock(&dn->lock);
		errno = ENOSPC;
		return -1;
	}
	if (deny_marked(dn) == -1) {
		int e = errno;

		pthread_mutex_unlock(&dn->lock);
		errno = e;
		return -1;
	}
	dn->uidrefs[slot] = 1;
	__atomic_store_n(&dn->uids[slot], uid, __ATOMIC_RELEASE);
	__atomic_add_fetch(&dn->nuids, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dn->lock);
	return 0;
}

int
fan_deny_release_uid(struct fan_deny *dn, unsigned uid)
{
	int found = 0;

	pthread_mutex_lock(&dn->lock);
	for (int i = 0; i < DENY_UIDS && uid != 0; i++)
		if (__atomic_load_n(&dn->uids[i], __ATOMIC_RELAXED) == uid) {
			found = 1;
			if (--dn->uidrefs[i] == 0) {
				__atomic_store_n(&dn->uids[i], 0, __ATOMIC_RELEASE);
				__atomic_sub_fetch(&dn->nuids, 1, __ATOMIC_RELEASE);
			}
			break;
		}
	deny_unmark_if_empty(dn);
	pthread_mutex_unlock(&dn->lock);
	if (!found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}
