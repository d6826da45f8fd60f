/* What the snapshot backends share with snapshot.c: name checks, list building, paths. */
#ifndef SW_SNAPSHOT_IMPL_H
#define SW_SNAPSHOT_IMPL_H

#include <stddef.h>
#include <stdint.h>

struct share;
struct snap_info;

/* The whole command runs this long before it is killed. */
#define SNAP_CMD_TIMEOUT_MS	(10 * 60 * 1000)

/* Whether name is a snapshot name in the backend's own form: "@GMT-..." or, for zfs, "GMT-...". */
int snap_name_valid(const char *name, int zfs);

/* Sorts oldest first (then by name). */
void snap_sort(struct snap_info *list, size_t n);

/* Appends one entry to a growing array; -1 when the name is too long. */
int snap_list_add(struct snap_info **list, size_t *n, size_t *cap, const char *name, int64_t taken_ms,
    int precise);

/* "a/b" or "a/b/c" (c may be NULL or ""); -1 when it does not fit. */
int snap_path_join(char *buf, size_t bufsz, const char *a, const char *b, const char *c);

/* Creates dir and its missing parents with mode 0755. */
int snap_mkdirs(const char *dir, char *err, size_t errlen);

/* btrfs: the snapshot dir of a share and the subvolume its snapshots are taken of. */
int btrfs_snap_paths(const struct share *sh, char *snapdir, size_t snapdirsz, char *subvol, size_t subvolsz,
    char *err, size_t errlen);

/* zfs: the mount point of the share's dataset. */
int zfs_snap_mountpoint(const struct share *sh, char *buf, size_t bufsz, char *err, size_t errlen);

/* zfs: the dataset the share's files live in, and the zfs command (NULL: not installed). */
int zfs_snap_dataset(const struct share *sh, char *buf, size_t bufsz, char *err, size_t errlen);
const char *zfs_bin(void);

#endif
