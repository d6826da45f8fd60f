/* Opening files the attacker may have planted or moved, on Linux: open_by_handle_at and openat2 without symlinks. */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/openat2.h>

#include "fs.h"

#define FS_OPEN_FLAGS	(O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)

/* Set once openat2 turned out to be missing (old kernel, or a seccomp filter that hides it). */
static atomic_int no_openat2;

/* Keeps fd only if it is a regular file: a FIFO, device or directory is never read. */
static int
keep_regular(int fd)
{
	struct stat st;
	int saved;

	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

int
fs_open_handle(const struct sw_handle *h)
{
	union {
		struct file_handle fh;
		unsigned char buf[sizeof(struct file_handle) + sizeof(h->bytes)];
	} u;
	int fd;

	if (h == NULL || h->len == 0 || h->len > sizeof(h->bytes) || (h->mount_fd < 0 && h->mount_fd != AT_FDCWD)) {
		errno = EINVAL;
		return -1;
	}
	u.fh.handle_bytes = h->len;
	u.fh.handle_type = h->type;
	memcpy(u.fh.f_handle, h->bytes, h->len);
	fd = open_by_handle_at(h->mount_fd, &u.fh, FS_OPEN_FLAGS | O_NOATIME);
	/* O_NOATIME needs ownership or CAP_FOWNER; reading without it only costs an atime update. */
	if (fd == -1 && errno == EPERM)
		fd = open_by_handle_at(h->mount_fd, &u.fh, FS_OPEN_FLAGS);
	if (fd == -1)
		return -1;
	return keep_regular(fd);
}

static int
open_final(int dirfd, const char *name)
{
	int fd;

	fd = openat(dirfd, name, FS_OPEN_FLAGS | O_NOATIME);
	if (fd == -1 && errno == EPERM)
		fd = openat(dirfd, name, FS_OPEN_FLAGS);
	return fd;
}

/* The same refusal as RESOLVE_NO_SYMLINKS, one component at a time: every directory with O_NOFOLLOW. */
static int
open_walk(char *path)
{
	struct stat st;
	char *comp, *slash;
	int dirfd, fd, saved;

	if ((dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	comp = path + 1;
	while ((slash = strchr(comp, '/')) != NULL) {
		*slash = '\0';
		if (*comp != '\0' && strcmp(comp, ".") != 0) {
			fd = openat(dirfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			saved = errno;
			/* a symlink to a directory fails as "not a directory": say what openat2 says */
			if (fd == -1 && saved == ENOTDIR && fstatat(dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				saved = ELOOP;
			close(dirfd);
			if (fd == -1) {
				errno = saved;
				return -1;
			}
			dirfd = fd;
		}
		comp = slash + 1;
	}
	fd = open_final(dirfd, comp);
	saved = errno;
	close(dirfd);
	errno = saved;
	return fd;
}

int
fs_open_nofollow(const char *path, size_t pathlen)
{
	struct open_how how;
	char buf[PATH_MAX];
	const char *last;
	long fd;

	if (path == NULL || pathlen == 0 || path[0] != '/' || memchr(path, '\0', pathlen) != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (pathlen >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, pathlen);
	buf[pathlen] = '\0';
	/* A trailing slash names a directory (or makes the kernel follow a final symlink). */
	last = buf + pathlen - 1;
	if (*last == '/' || strcmp(strrchr(buf, '/'), "/.") == 0 || strcmp(strrchr(buf, '/'), "/..") == 0) {
		errno = EINVAL;
		return -1;
	}
	fd = -1;
	if (!atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
		memset(&how, 0, sizeof(how));
		how.flags = FS_OPEN_FLAGS | O_NOATIME;
		how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
		fd = syscall(SYS_openat2, AT_FDCWD, buf, &how, sizeof(how));
		if (fd == -1 && errno == EPERM) {
			how.flags = FS_OPEN_FLAGS;
			fd = syscall(SYS_openat2, AT_FDCWD, buf, &how, sizeof(how));
		}
		if (fd == -1 && errno == ENOSYS)
			atomic_store_explicit(&no_openat2, 1, memory_order_relaxed);
		/* Some container filters answer EPERM for syscalls they do not know: the walk tells the truth. */
		else if (fd == -1 && errno != EPERM)
			return -1;
	}
	if (fd == -1 && (fd = open_walk(buf)) == -1)
		return -1;
	return keep_regular((int)fd);
}

/* The walk fs_open_beneath falls back to: every folder with O_NOFOLLOW, ".." refused. */
static int
beneath_walk(int dirfd, const char *rel, int flags, mode_t mode)
{
	char buf[PATH_MAX], *comp, *slash;
	int cur, fd, saved;

	if (strlen(rel) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, rel);
	if ((cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return -1;
	comp = buf;
	for (;;) {
		while (*comp == '/')
			comp++;
		slash = strchr(comp, '/');
		if (slash != NULL)
			*slash = '\0';
		if (strcmp(comp, "..") == 0) {
			close(cur);
			errno = EXDEV;
			return -1;
		}
		if (slash == NULL || slash[1] == '\0') {
			if (*comp == '\0' || strcmp(comp, ".") == 0)
				fd = openat(cur, ".", flags & ~(O_CREAT | O_EXCL), mode);
			else
				fd = openat(cur, comp, flags | O_NOFOLLOW, mode);
			saved = errno;
			close(cur);
			errno = saved;
			return fd;
		}
		if (*comp != '\0' && strcmp(comp, ".") != 0) {
			fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			saved = errno;
			close(cur);
			if (fd == -1) {
				errno = saved == ENOTDIR ? ELOOP : saved;
				return -1;
			}
			cur = fd;
		}
		comp = slash + 1;
	}
}

int
fs_open_beneath(int dirfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how;
	long fd;

	if (rel[0] == '\0')
		rel = ".";
	flags |= O_CLOEXEC;
	if (!atomic_load_explicit(&no_openat2, memory_order_relaxed)) {
		memset(&how, 0, sizeof(how));
		how.flags = (unsigned)flags;
		how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
		fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno == ENOSYS)
			atomic_store_explicit(&no_openat2, 1, memory_order_relaxed);
		else if (errno != EPERM)
			return -1;
	}
	return beneath_walk(dirfd, rel, flags, mode);
}

int
fs_lstat_born(int dirfd, const char *name, struct stat *st, int64_t *born_ms)
{
	struct statx sx;

	if (strchr(name, '/') != NULL || strcmp(name, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	*born_ms = (int64_t)st->st_ctim.tv_sec * 1000 + st->st_ctim.tv_nsec / 1000000;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_BTIME, &sx) == 0 &&
	    (sx.stx_mask & STATX_BTIME))
		*born_ms = (int64_t)sx.stx_btime.tv_sec * 1000 + sx.stx_btime.tv_nsec / 1000000;
	return 0;
}

int
fs_lstat_beneath(int dirfd, const char *rel, struct stat *st)
{
	const char *slash = strrchr(rel, '/');
	char parent[PATH_MAX];
	int pfd, rc, saved;

	if (rel[0] == '\0')
		return fstat(dirfd, st);
	/* ".." last would name the folder above: as fs_open_beneath, refuse to leave dirfd */
	if (strcmp(slash ? slash + 1 : rel, "..") == 0) {
		errno = EXDEV;
		return -1;
	}
	if (slash == NULL)
		return fstatat(dirfd, rel, st, AT_SYMLINK_NOFOLLOW);
	if ((size_t)(slash - rel) >= sizeof(parent)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(parent, rel, (size_t)(slash - rel));
	parent[slash - rel] = '\0';
	if ((pfd = fs_open_beneath(dirfd, parent, O_PATH | O_DIRECTORY, 0)) == -1)
		return -1;
	rc = fstatat(pfd, slash + 1, st, AT_SYMLINK_NOFOLLOW);
	saved = errno;
	close(pfd);
	errno = saved;
	return rc;
}

int
fs_copy_data(int src, int dst, int *cloned)
{
	static char buf[1 << 20];
	ssize_t r, w, off;

	if (cloned)
		*cloned = 0;
	if (ioctl(dst, FICLONE, src) == 0) {
		if (cloned)
			*cloned = 1;
		return 0;
	}
	if (lseek(src, 0, SEEK_SET) == -1 || lseek(dst, 0, SEEK_SET) == -1)
		return -1;
	/* copy_file_range: in-kernel, and server-side where the filesystem can; other errors fall back to read/write. */
	for (;;) {
		r = copy_file_range(src, NULL, dst, NULL, 1 << 30, 0);
		if (r == 0)
			return 0;
		if (r > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno == ENOSPC || errno == EDQUOT || errno == EIO || errno == EFBIG)
			return -1;
		break;
	}
	if (lseek(src, 0, SEEK_SET) == -1 || lseek(dst, 0, SEEK_SET) == -1 || ftruncate(dst, 0) == -1)
		return -1;
	for (;;) {
		r = read(src, buf, sizeof(buf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return (int)r;
		for (off = 0; off < r; off += w) {
			w = write(dst, buf + off, (size_t)(r - off));
			if (w == -1 && errno == EINTR)
				w = 0;
			else if (w == -1)
				return -1;
		}
	}
}

/*
 * Removes the attributes of dst that are not in the list keep (a new file
 * inherits a folder's default ACL, which the original did not have). The
 * LSM label is the policy's to set and stays.
 */
static int
drop_extra_xattrs(int dst, const char *keep, size_t keeplen, char *failed, size_t failedsz)
{
	char *names = NULL, *n;
	const char *k;
	ssize_t len;
	int found, saved;

	if ((len = flistxattr(dst, NULL, 0)) <= 0) {
		if (len == 0 || errno == ENOTSUP)
			return 0;
		snprintf(failed, failedsz, "(list)");
		return -1;
	}
	names = malloc((size_t)len + 1);
	if (names == NULL)
		return -1;
	if ((len = flistxattr(dst, names, (size_t)len)) == -1) {
		saved = errno;
		free(names);
		errno = saved;
		return -1;
	}
	for (n = names; n < names + len; n += strlen(n) + 1) {
		found = strcmp(n, "security.selinux") == 0;
		for (k = keep; k != NULL && !found && k < keep + keeplen; k += strlen(k) + 1)
			found = strcmp(k, n) == 0;
		if (found || fremovexattr(dst, n) == 0 || errno == ENODATA)
			continue;
		saved = errno;
		snprintf(failed, failedsz, "%s", n);
		free(names);
		errno = saved;
		return -1;
	}
	free(names);
	return 0;
}

int
fs_copy_xattrs(int src, int dst, char *failed, size_t failedsz)
{
	char *names = NULL, *val = NULL, *n;
	ssize_t len, vlen;
	size_t vcap = 0;
	int saved;

	if (failedsz)
		failed[0] = '\0';
	for (;;) {
		if ((len = flistxattr(src, NULL, 0)) == -1 && errno != ENOTSUP) {
			snprintf(failed, failedsz, "(list)");
			return -1;
		}
		if (len <= 0) {
			len = 0;
			free(names);
			names = NULL;
			break;
		}
		free(names);
		names = malloc((size_t)len);
		if (names == NULL)
			return -1;
		if ((len = flistxattr(src, names, (size_t)len)) >= 0)
			break;
		if (errno != ERANGE) {
			saved = errno;
			free(names);
			snprintf(failed, failedsz, "(list)");
			errno = saved;
			return -1;
		}
	}
	for (n = names; n != NULL && n < names + len; n += strlen(n) + 1) {
		for (;;) {
			vlen = fgetxattr(src, n, NULL, 0);
			if (vlen >= 0 && (size_t)vlen > vcap) {
				char *nv = realloc(val, (size_t)vlen);

				if (nv == NULL)
					goto fail;
				val = nv;
				vcap = (size_t)vlen;
			}
			if (vlen >= 0)
				vlen = fgetxattr(src, n, val, (size_t)vlen);
			if (vlen >= 0 || errno != ERANGE)
				break;
		}
		if (vlen == -1 && errno == ENODATA)
			continue;	/* removed meanwhile (only on a live source) */
		if (vlen == -1 || fsetxattr(dst, n, val, (size_t)vlen, 0) == -1)
			goto fail;
	}
	free(val);
	val = NULL;
	if (drop_extra_xattrs(dst, names, names ? (size_t)len : 0, failed, failedsz) == -1) {
		saved = errno;
		free(names);
		errno = saved;
		return -1;
	}
	free(names);
	return 0;
fail:
	saved = errno;
	snprintf(failed, failedsz, "%s", n);
	free(names);
	free(val);
	errno = saved;
	return -1;
}

int
fs_rename_noreplace(int olddirfd, const char *oldname, int newdirfd, const char *newname)
{
	return renameat2(olddirfd, oldname, newdirfd, newname, RENAME_NOREPLACE);
}

int
fs_sync(int fd)
{
	return syncfs(fd);
}
