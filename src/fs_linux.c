/* Opening files the attacker may have planted or moved, on Linux: open_by_handle_at and openat2 without symlinks. */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

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
