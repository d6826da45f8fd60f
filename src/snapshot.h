/* Snapshots of shares: @GMT names Samba shows as Previous Versions, backends, schedule and retention. */
#ifndef SW_SNAPSHOT_H
#define SW_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct share;

/* Longest name, "@GMT-YYYY.MM.DD-HH.MM.SS" with room to spare. */
#define SNAP_NAME_MAX	64

struct snap_info {
	char name[SNAP_NAME_MAX];	/* as the backend lists it: "@GMT-2026.11.27-08.15.00" (zfs: without the "@") */
	int64_t taken_ms;		/* when it was taken, ms since the epoch */
	int precise;			/* taken_ms comes from the filesystem (otime, creation), not from the name alone */
};

/*
 * A backend. Every function returns 0 on success, -1 with a one-line reason
 * in err. sh has been resolved (config_resolve_shares).
 */
struct snap_backend {
	const char *name;		/* "btrfs", "zfs", "command" */
	/* Takes a read-only snapshot of the share named name. */
	int (*create)(const struct share *sh, const char *name, char *err, size_t errlen);
	/* Every snapshot of the share whose name parses as @GMT (others are ignored), oldest first; *out malloc'd. */
	int (*list)(const struct share *sh, struct snap_info **out, size_t *n, char *err, size_t errlen);
	int (*remove)(const struct share *sh, const char *name, char *err, size_t errlen);
	/* The folder where snapshot name shows the share's root directory (it need not exist). */
	int (*root)(const struct share *sh, const char *name, char *buf, size_t bufsz, char *err, size_t errlen);
};

extern const struct snap_backend snap_btrfs;
extern const struct snap_backend snap_zfs;
extern const struct snap_backend snap_command;

/*
 * The backend of a resolved share: SNAP_AUTO picks btrfs when the share is
 * on btrfs. NULL when the share has none (SNAP_NONE, or auto on another
 * filesystem); why then says so.
 */
const struct snap_backend *snapshot_backend(const struct share *sh, char *why, size_t whylen);

/* The snapshot name of t in the share's backend's format (UTC, whole seconds). */
void snapshot_name(const struct share *sh, int64_t t_ms, char *buf, size_t bufsz);
/* Parses "@GMT-YYYY.MM.DD-HH.MM.SS" or "GMT-..." into ms since the epoch; -1 when it is not one. */
int snapshot_parse_name(const char *name, int64_t *t_ms);

/*
 * Takes a snapshot of sh now. When one of the same second already exists
 * (names have whole seconds), it waits for the next second, so the snapshot
 * always holds what was there when it was asked for. 0 ok, -1 with err.
 */
int snapshot_take(const struct share *sh, struct snap_info *out, char *err, size_t errlen);

/* The share's snapshots, oldest first (see struct snap_backend.list). */
int snapshot_list(const struct share *sh, struct snap_info **out, size_t *n, char *err, size_t errlen);

/*
 * The newest snapshot of list taken strictly before t_ms; when its time
 * comes from the name only, it must be a whole second before. NULL when none.
 */
const struct snap_info *snapshot_before(const struct snap_info *list, size_t n, int64_t t_ms);

/*
 * Retention: marks in keep[i] (0/1) which of the n snapshots (oldest first)
 * the rules keep at time now: the keep_recent newest, the newest of each of
 * the last keep_hourly hours and keep_daily days (UTC) that have one.
 */
void snapshot_retain(const struct snap_info *list, size_t n, int64_t now_ms, int keep_recent,
    int keep_hourly, int keep_daily, unsigned char *keep);

/* The smb.conf lines a share needs for Previous Versions (vfs objects and shadow:*), to buf. */
int snapshot_samba_conf(const struct share *sh, char *buf, size_t bufsz);

#endif
