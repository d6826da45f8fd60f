/* Opening files the attacker may have planted or moved: by kernel handle, or by path without following symlinks. */
#ifndef SW_FS_H
#define SW_FS_H

#include <stddef.h>
#include <stdint.h>

#include <sys/stat.h>

#include "event.h"

/*
 * Opens the object of a handle read-only (O_RDONLY|O_NOFOLLOW|O_NONBLOCK|
 * O_CLOEXEC, no atime update where allowed). Returns an fd or -1 (errno:
 * ESTALE when the object is gone).
 */
int fs_open_handle(const struct sw_handle *h);

/*
 * Opens path (absolute, any bytes but NUL, need not be NUL-terminated)
 * read-only without following a symlink in ANY component (openat2 with
 * RESOLVE_NO_SYMLINKS, or a component-by-component O_NOFOLLOW walk where that
 * is missing). Only regular files: -1 with errno EINVAL otherwise.
 */
int fs_open_nofollow(const char *path, size_t pathlen);

/*
 * Opens rel (relative, NUL-terminated, "" = dirfd itself) beneath the folder
 * dirfd with openat flags and mode, refusing any symlink and any way out of
 * dirfd (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or an O_NOFOLLOW walk
 * that refuses ".."). The restore writes only through such descriptors, so a
 * folder the attacker replaced by a symlink cannot lead it out of the share.
 */
int fs_open_beneath(int dirfd, const char *rel, int flags, mode_t mode);

/* lstat of rel beneath dirfd: the folders resolved as fs_open_beneath, the last name not followed. */
int fs_lstat_beneath(int dirfd, const char *rel, struct stat *st);

/*
 * lstat of name (one component) in the folder dirfd, and when it was made
 * (ms since the epoch): its birth time where the filesystem keeps one, else
 * its last status change (which is never earlier).
 */
int fs_lstat_born(int dirfd, const char *name, struct stat *st, int64_t *born_ms);

/*
 * Copies every byte of src into the empty file dst: a reflink (FICLONE) where
 * the filesystem shares extents, else copy_file_range, else read/write.
 * *cloned (may be NULL) tells whether it was a reflink. -1 with errno
 * (ENOSPC when the disk is full).
 */
int fs_copy_data(int src, int dst, int *cloned);

/*
 * Copies every extended attribute of src to dst (user.*, security.NTACL,
 * system.posix_acl_*, ...). -1 with errno and the name that failed in failed.
 */
int fs_copy_xattrs(int src, int dst, char *failed, size_t failedsz);

/* renameat that fails with EEXIST rather than replace newname. */
int fs_rename_noreplace(int olddirfd, const char *oldname, int newdirfd, const char *newname);

/* Writes the filesystem of fd to disk (syncfs). */
int fs_sync(int fd);

#endif
