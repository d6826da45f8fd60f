/* Samba vfs_full_audit lines: a pure parser, and the source that tails the log file or a syslog socket. */
#ifndef SW_AUDIT_H
#define SW_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/*
 * Parser state: the known share roots (share name -> absolute path, used to
 * anchor the paths of a line) and a cache for timestamp conversion. The
 * parser never allocates per line.
 */
struct audit_parser;

struct audit_parser *audit_parser_new(void);
void audit_parser_free(struct audit_parser *ap);
/* Registers a share: lines for this share have paths under root. Copies both. */
void audit_parser_add_share(struct audit_parser *ap, const char *name, const char *root);

enum audit_parse_result {
	AUDIT_EVENT,		/* *ev was filled */
	AUDIT_SKIP,		/* a well-formed line that carries no event (a debug header line) */
	AUDIT_MALFORMED,	/* not a full_audit line, or damaged */
};

/*
 * Parses one line (no trailing newline; need not be NUL-terminated). Accepts
 * the three forms Samba writes:
 *   "[2026/11/27 04:42:58.116603,  1, pid=6390]   PREFIX|op|ok|args"  (debug prefix timestamp)
 *   "<173>Nov 27 04:43:10 smbd_audit: PREFIX|op|ok|args"              (syslog datagram)
 *   "PREFIX|op|ok|args"                                                (bare)
 * where PREFIX is "%u|%I|%m|%S|%d". The string views in *ev point into line.
 * When the line carries no usable time, ev->at_ms = default_at_ms.
 */
enum audit_parse_result audit_parse_line(struct audit_parser *ap, const char *line,
    size_t len, int64_t default_at_ms, struct sw_event *ev);

/* Counters kept by a source and reported by `status` and `replay`. */
struct audit_stats {
	uint64_t lines;
	uint64_t events;
	uint64_t malformed;
	uint64_t skipped;
	uint64_t rotations;
};

typedef void (*audit_event_cb)(const struct sw_event *ev, void *arg);

/*
 * A source that follows a log file (appends, truncation and rotation by
 * rename) and, optionally, receives syslog datagrams on a unix socket. It is
 * driven by the daemon's event loop: register the fds it returns, call
 * audit_source_read() when one is readable, and audit_source_tick() about
 * every 250 ms (rotation checks, partial lines). Each call reads at most a
 * batch (512 KiB of the file, 4096 datagrams), so a burst of a million lines
 * never holds the loop: while audit_source_backlog() says more is waiting,
 * call audit_source_tick() again without sleeping.
 */
struct audit_source;

/* log_path may be NULL (socket only); sock_path may be NULL (file only). start_at_end: skip what the file already holds. */
struct audit_source *audit_source_open(struct audit_parser *ap, const char *log_path,
    const char *sock_path, int start_at_end, audit_event_cb cb, void *arg);
void audit_source_close(struct audit_source *as);
/* Fills fds (up to max) with descriptors to poll for input; returns how many. */
int audit_source_fds(struct audit_source *as, int *fds, int max);
void audit_source_read(struct audit_source *as, int fd);
void audit_source_tick(struct audit_source *as);
const struct audit_stats *audit_source_stats(const struct audit_source *as);
/* 1 when the last read stopped at its batch size with more of the file unread. */
int audit_source_backlog(const struct audit_source *as);

/*
 * Feeds a whole stream (replay): splits lines, parses each, calls cb for every
 * event, updates st. Lines longer than 1 MiB are counted malformed and skipped.
 */
int audit_feed_fd(struct audit_parser *ap, int fd, audit_event_cb cb, void *arg, struct audit_stats *st);

#endif
