/* Opening files the attacker may have planted or moved: by kernel handle, or by path without following symlinks. */
#ifndef SW_FS_H
#define SW_FS_H

#include <stddef.h>

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

#endif
