/*
 * Replication of the shares' snapshots to another site: btrfs send/receive
 * (or zfs send/recv) over SSH to `sharewarden receive`, a forced command on
 * the receiving server. Gated on incidents: no snapshot taken while an
 * incident was going on is ever sent, so the replica never holds ciphertext.
 */
#ifndef SW_REPLICATE_H
#define SW_REPLICATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot.h"

struct config;
struct journal;
struct share;

/* The receiving server: [user@]host[:port]. */
struct repl_target {
	char user[64];
	char host[256];
	int port;
};

/* 0, or -1 with what is wrong in err. */
int repl_target_parse(const char *s, struct repl_target *t, char *err, size_t errlen);
/* "0", "500K", "10M", "1G" (bytes per second, powers of 1024): 0, or -1. */
int repl_rate_parse(const char *s, int64_t *bps);

/* A share's name on the wire and in the replica's folder: [A-Za-z0-9_-] kept, '.' kept but not first, else %XX. */
#define REPL_TOKEN_MAX	(3 * 128 + 1)
int repl_share_token(const char *share, char *buf, size_t bufsz);
/* A sender's name (--from): 1 to 63 letters, digits, '_' or '-'. */
int repl_sender_ok(const char *s);

/* A request of the sender, in SSH_ORIGINAL_COMMAND. */
enum repl_verb {
	REPL_LIST = 1,		/* "list SHARE": the replica's complete snapshots, oldest first */
	REPL_RECEIVE,		/* "receive SHARE NAME PARENT|-": a stream on stdin */
	REPL_SEND,		/* "send SHARE NAME": the snapshot as a full stream on stdout */
};
struct repl_req {
	int verb;
	char kind[8];			/* "btrfs" or "zfs" (the stream's format) */
	char share[REPL_TOKEN_MAX];	/* the token, as repl_share_token makes it */
	char name[SNAP_NAME_MAX];
	char parent[SNAP_NAME_MAX];	/* "" = a full stream */
};
/*
 * Parses "VERB KIND SHARE [NAME [PARENT]]" (single spaces, nothing else).
 * Untrusted input (whoever holds the key): 0, or -1 with why in err.
 */
int repl_req_parse(const char *s, size_t n, struct repl_req *r, char *err, size_t errlen);

/* An incident's window: snapshots taken in [from_ms, to_ms] are never sent. */
struct repl_window {
	int64_t incident_id;
	int64_t from_ms;
	int64_t to_ms;			/* INT64_MAX while the incident is open */
	int open;			/* not restored, not released: nothing after from_ms goes */
};
/* The windows of every incident of the journal; *out malloc'd. 0, or -1. */
int repl_windows(const struct config *cfg, struct journal *j, struct repl_window **out, size_t *n);
/* The window that taints a snapshot taken at taken_ms, or NULL. */
const struct repl_window *repl_tainted(const struct repl_window *w, size_t n, int64_t taken_ms);

/*
 * The plan of one cycle of a share: which of its local snapshots (oldest
 * first) go to the replica, each with its parent, given what the replica has
 * (names) and the incidents' windows. A pure function (tests, fuzzing).
 */
struct repl_step {
	size_t idx;			/* into local */
	int parent;			/* index into local of the parent, -1 = full */
};
struct repl_plan {
	struct repl_step *steps;	/* malloc'd */
	size_t nsteps;
	int64_t held_incident;		/* an open incident holds snapshots back (0 = none) */
	size_t held;			/* settled snapshots it holds back */
	size_t tainted;			/* snapshots never to be sent (taken during an incident) */
	size_t unsettled;		/* newer than settle: sent by a later cycle */
	int base;			/* the newest local snapshot the replica has (-1 = none) */
};
void repl_plan_make(const struct snap_info *local, size_t nlocal, char (*remote)[SNAP_NAME_MAX], size_t nremote,
    const struct repl_window *w, size_t nw, int64_t now, int64_t settle_ms, struct repl_plan *plan);
void repl_plan_free(struct repl_plan *plan);

/* One cycle: every share (or only), to [replication] target; a line per share and snapshot to out. */
struct repl_opts {
	const volatile int *stop;	/* set: a send in progress is stopped (the daemon ends) */
	FILE *out;			/* NULL: log only */
};
/* 0 everything due went (or was held), 1 a share failed. */
int replicate_run(const struct config *cfg, struct journal *j, const struct share *only, const struct repl_opts *o);

/* `sharewarden replication`: per share what was sent, lag, what is held; JSON when json. */
int replication_report(const struct config *cfg, struct journal *j, int json, FILE *out);

/*
 * `sharewarden receive --from SENDER`: serves one request (request: the
 * SSH_ORIGINAL_COMMAND) on stdin/stdout for [replica]. Exit code.
 */
int replica_serve(const struct config *cfg, const char *sender, const char *request);

/*
 * Brings back the replica's newest snapshot of sh taken before before_ms into
 * the share's snapshot folder (for `restore --from-replica`), journaled with
 * the incident. 0 (name set: fetched, or already here), -1 with err.
 */
int replica_fetch(const struct config *cfg, struct journal *j, const struct share *sh, int64_t before_ms,
    int64_t incident_id, char *name, size_t namesz, char *err, size_t errlen);

/* The daemon's thread: a cycle every [replication] interval. NULL with err (or no replication). */
struct replsched;
struct replsched *replsched_start(const struct config *cfg, char *err, size_t errlen);
void replsched_stop(struct replsched *r);

/* Lag in seconds of the share most behind (now - the replica's newest), -1 when nothing was ever sent. */
int64_t replication_lag_s(const struct config *cfg, struct journal *j);

#endif
