/* Kernel file events (fanotify) on the protected shares, and the permission group that denies a writer's opens. */
#ifndef SW_FANOTIFY_H
#define SW_FANOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"	/* audit_event_cb */
#include "config.h"

struct fan_stats {
	uint64_t events;	/* events delivered to the callback */
	uint64_t dropped;	/* outside every share, or caused by this process */
	uint64_t unresolved;	/* handle could not be turned into a path (object gone) */
	uint64_t overflows;	/* FAN_Q_OVERFLOW seen */
};

/*
 * A notification group in FID mode (FAN_REPORT_DFID_NAME_TARGET) with
 * FAN_MARK_FILESYSTEM on the mount that holds each share (for a btrfs
 * subvolume that is the top-level mount: found in /proc/self/mountinfo).
 * Events: create, delete, rename (one OP_RENAME with path -> path2), modify
 * (OP_WRITE), close-write (OP_CLOSE with EVF_WRITE), attrib; EVF_DIR for
 * directories (a directory create is OP_MKDIR). Each event carries pid (the
 * per-client smbd for SMB traffic), share (name), path(s), the object's
 * handle where the kernel gave one, src SRC_FANOTIFY and ok = 1; user, ip and
 * host are empty (the daemon attributes by pid). Events outside the shares and
 * events caused by this process are dropped. A queue overflow is delivered as
 * one OP_OVERFLOW event and counted. On failure returns NULL and writes the
 * reason to err (EPERM: "needs root (CAP_SYS_ADMIN)", ...).
 */
struct fan_source;

struct fan_source *fan_source_open(const struct share *shares, audit_event_cb cb, void *arg,
    char *err, size_t errlen);
void fan_source_close(struct fan_source *fs);
int fan_source_fd(const struct fan_source *fs);
/* Reads and delivers every pending event (non-blocking). */
void fan_source_read(struct fan_source *fs);
const struct fan_stats *fan_source_stats(const struct fan_source *fs);

/*
 * The deny group: a FAN_CLASS_CONTENT group answered by its own small thread
 * that never opens a file. While the deny list is empty nothing is marked
 * (no cost on the file server); the first fan_deny_add marks FAN_OPEN_PERM on
 * the shares' filesystems and from then on every open by a listed pid gets
 * FAN_DENY (the SMB client sees ACCESS_DENIED), every other open FAN_ALLOW.
 * Answers are bounded: the listener never blocks on anything but the group fd.
 */
struct fan_deny;

struct fan_deny *fan_deny_open(const struct share *shares, char *err, size_t errlen);
void fan_deny_close(struct fan_deny *fd);
/* Adds pid (remembering its start time, so a reused pid is never denied). 0 ok, -1 error (errno). */
int fan_deny_add(struct fan_deny *fd, int pid);
int fan_deny_remove(struct fan_deny *fd, int pid);
int fan_deny_count(const struct fan_deny *fd);
/*
 * Holds an account: every open by a process whose effective or file-system
 * uid is uid (smbd works as its session's user) is denied, whatever its
 * pid, until as many releases as holds. Never root. 0, or -1 (errno).
 */
int fan_deny_hold_uid(struct fan_deny *fd, unsigned uid);
int fan_deny_release_uid(struct fan_deny *fd, unsigned uid);
/* Drops entries whose process ended; unmarks when the list becomes empty. Call about once a second. */
void fan_deny_tick(struct fan_deny *fd);
/* Opens denied so far (for the incident report and tests). */
uint64_t fan_deny_denied(const struct fan_deny *fd);

#endif
