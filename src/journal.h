/* The journal: SQLite in WAL mode; the only module that speaks SQL. */
#ifndef SW_JOURNAL_H
#define SW_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "incident.h"

struct journal;

/*
 * Opens (creating the file, its directory's schema and WAL mode when missing)
 * the journal. readonly: the CLI's read commands. On failure returns NULL and
 * writes the reason to err.
 */
struct journal *journal_open(const char *path, int readonly, char *err, size_t errlen);
void journal_close(struct journal *j);

/* Groups writes; the daemon commits once per loop turn. Nesting is not supported. */
int journal_begin(struct journal *j);
int journal_commit(struct journal *j);

/* Events window. Only mutating events are worth adding (op_mutates). */
int journal_add_event(struct journal *j, const struct sw_event *ev);
int journal_prune_events(struct journal *j, int64_t older_than_ms);

/* Incidents. journal_incident_add sets inc->id. */
int journal_incident_add(struct journal *j, struct incident *inc);
int journal_incident_update(struct journal *j, const struct incident *inc);
/* 0 found, 1 no such incident, -1 error. */
int journal_incident_get(struct journal *j, int64_t id, struct incident *inc);
/* Newest first; *out is malloc'd, free() it. */
int journal_incident_list(struct journal *j, struct incident **out, size_t *n);

int journal_signal_add(struct journal *j, int64_t incident_id, const char *kind,
    const char *path, size_t pathlen, int64_t at, double weight, const char *detail);
int journal_signal_list(struct journal *j, int64_t incident_id, struct signal_rec **out, size_t *n);

/* Sets a->id. An empty a->state is journaled as ACT_DONE. */
int journal_action_add(struct journal *j, struct action *a);
/*
 * Records the target, result, at, detail and state of a->id: a "running"
 * action's outcome (or its progress, while it stays running).
 */
int journal_action_finish(struct journal *j, const struct action *a);
/* Records undone_at, undo_result and undo_detail of a->id. */
int journal_action_update(struct journal *j, const struct action *a);
int journal_action_list(struct journal *j, int64_t incident_id, struct action **out, size_t *n);

/* Every mutating event of user+ip with at >= since_ms, oldest first. */
int journal_files(struct journal *j, const char *user, const char *ip, int64_t since_ms,
    struct file_rec **out, size_t *n);

/* Every mutating event of any actor with at >= since_ms, oldest first (by time, then arrival). */
int journal_events_since(struct journal *j, int64_t since_ms, struct event_rec **out, size_t *n);

/* Snapshots sharewarden took. */
int journal_snapshot_add(struct journal *j, const struct snap_rec *r);
/* share NULL: every share. Oldest first; *out malloc'd, free() it. */
int journal_snapshot_list(struct journal *j, const char *share, struct snap_rec **out, size_t *n);
int journal_snapshot_removed(struct journal *j, const char *share, const char *name, int64_t at);

/* The restore of an incident: 0 found, 1 none yet, -1 error. */
int journal_restore_get(struct journal *j, int64_t incident_id, struct restore_rec *r);
/* Inserts or replaces the restore record of r->incident_id. */
int journal_restore_put(struct journal *j, const struct restore_rec *r);
/* Replaces the incident's plan with these items (sets each id). */
int journal_restore_items_set(struct journal *j, int64_t incident_id, struct restore_item *items, size_t n);
/* The plan in apply order; *out: free with restore_item_free. */
int journal_restore_items(struct journal *j, int64_t incident_id, struct restore_item **out, size_t *n);
/* Records it->state and it->detail of it->id. */
int journal_restore_item_update(struct journal *j, const struct restore_item *it);

/*
 * Sets the result and detail of action id: the notification sender turns
 * "queued" into "ok", or "failed" with the reason.
 */
int journal_action_set_result(struct journal *j, int64_t id, const char *result, const char *detail);

/*
 * The circuit breaker: into *n, how many distinct actors (user and IP) had
 * a lock_account, block_ip or port_down action that succeeded at or after
 * since_ms, in incidents not released yet (a release is a human's
 * judgement: those no longer count).
 */
int journal_isolations_since(struct journal *j, int64_t since_ms, int *n);

/* Outbox states. */
#define OUTBOX_QUEUED	"queued"
#define OUTBOX_SENT	"sent"
#define OUTBOX_FAILED	"failed"

/* One notification waiting in (or done with) the outbox. */
struct outbox_msg {
	int64_t id;
	int64_t incident_id;
	int64_t action_id;		/* its notify_mail / notify_webhook action */
	char channel[16];		/* "mail" or "webhook" */
	char *target;			/* owned: the recipients ("a@x, b@y") or the URL */
	char stage[16];			/* detected, contained, restored */
	char *subject;			/* owned: the mail subject, already sanitized ("" for webhooks) */
	char *body;			/* owned, NUL-terminated; body_len bytes */
	size_t body_len;
	char content_type[64];
	int attempts;
	int64_t next_at;		/* ms: not sent before */
	int64_t created_at;
	int64_t sent_at;		/* 0 = not sent */
	char last_error[512];
	char state[16];			/* OUTBOX_* */
};

/* Frees the n messages' strings and the array itself. */
void outbox_msg_free(struct outbox_msg *m, size_t n);

/*
 * The fleet's journal: the incident another server opened, found by its
 * origin ("site/server#id"): 0 found, 1 none, -1 error.
 */
int journal_incident_by_origin(struct journal *j, const char *origin, struct incident *inc);

/* A message for the fleet (NATS JetStream), kept until the stream acknowledged it. */
struct fleet_out {
	int64_t id;
	char subject[256];
	char msg_id[256];		/* JetStream's de-duplication id: a retry never acts twice */
	char *payload;			/* owned, NUL-terminated; len bytes */
	size_t len;
	int64_t created_at;
	int64_t sent_at;		/* 0 = not acknowledged yet */
	int attempts;
	char last_error[256];
};
void fleet_out_free(struct fleet_out *m, size_t n);
/* Queues a message; one with the same msg_id already queued or sent is left as it is. */
int journal_fleet_add(struct journal *j, const char *subject, const char *msg_id, const char *payload, size_t len);
/* The oldest max messages not sent yet, in the order they were queued. */
int journal_fleet_due(struct journal *j, size_t max, struct fleet_out **out, size_t *n);
/* Records m's sent_at, attempts and last_error. */
int journal_fleet_done(struct journal *j, const struct fleet_out *m);
/* Forgets the messages sent before older_than_ms (the stream has them; those not sent are kept). */
int journal_fleet_prune(struct journal *j, int64_t older_than_ms);
/* How many messages wait, and since when (0 = none). */
int journal_fleet_pending(struct journal *j, int64_t *count, int64_t *oldest_at);

/* The last heartbeat heard from one server of the fleet (this one's own included). */
struct fleet_server {
	char site[64];
	char server[64];
	char version[32];
	int64_t last_seen;		/* ms */
	int64_t open_incidents;
	int64_t pending;		/* messages it has not been able to send yet */
	char detail[256];
	int64_t repl_lag_s;		/* its replication's lag (-1: none); journaled as the stat FLEET_LAG_KEY */
};
/* The stat that holds a fleet server's replication lag: FLEET_LAG_KEY "site/server". */
#define FLEET_LAG_KEY	"fleet_replication_lag:"
int journal_fleet_server_put(struct journal *j, const struct fleet_server *s);
int journal_fleet_server_list(struct journal *j, struct fleet_server **out, size_t *n);

/*
 * Journals action a (sets a->id) and queues m for it (sets m->action_id,
 * m->incident_id from a, and m->id) as one change: both or neither. Inside
 * the caller's transaction when one is open.
 */
int journal_outbox_add(struct journal *j, struct action *a, struct outbox_msg *m);
/* Queued messages with next_at <= now_ms, the most overdue first. *out: free with outbox_msg_free. */
int journal_outbox_due(struct journal *j, int64_t now_ms, struct outbox_msg **out, size_t *n);
/* Every message of incident_id (0: of every incident), oldest first. */
int journal_outbox_list(struct journal *j, int64_t incident_id, struct outbox_msg **out, size_t *n);
/*
 * Takes m for sending until lease_until (moves its next_at there) unless
 * another sender took it first. 0 taken (m->next_at updated), 1 taken by
 * another or no longer queued, -1 error.
 */
int journal_outbox_claim(struct journal *j, struct outbox_msg *m, int64_t lease_until);
/*
 * Records m's attempts, next_at, sent_at, last_error and state and, when
 * result is not NULL, its action's result and detail, as one change.
 */
int journal_outbox_update(struct journal *j, const struct outbox_msg *m, const char *result,
    const char *detail);

/*
 * Notices: what the daemon saw that is neither a signal nor an action, such as
 * kernel events lost to a queue overflow, with incident_id 0 for the daemon's
 * own and one row per incident it concerns. add sets no->id; update records
 * last_at, count and detail of no->id.
 */
int journal_notice_add(struct journal *j, struct notice *no);
int journal_notice_update(struct journal *j, const struct notice *no);
/* Notices of incident_id (0: the daemon's own), the latest first, at most max; *out malloc'd, free() it. */
int journal_notice_list(struct journal *j, int64_t incident_id, size_t max, struct notice **out, size_t *n);

/* Daemon counters for `status` (lines, events, malformed, heartbeat ...). */
int journal_stat_set(struct journal *j, const char *key, int64_t value);
int journal_changed(struct journal *j);
/* 0 found, 1 missing, -1 error. */
int journal_stat_get(struct journal *j, const char *key, int64_t *value);
/* Calls fn for every counter whose key starts with prefix, in key order. 0 ok, -1 on a journal error. */
int journal_stat_each(struct journal *j, const char *prefix, void (*fn)(const char *key, int64_t value, void *arg),
    void *arg);
/* Deletes every counter whose key starts with prefix. */
int journal_stat_clear(struct journal *j, const char *prefix);

/* A snapshot sent to the replica (replication between sites). */
struct repl_rec {
	char share[128];
	char snapshot[64];
	int64_t taken_at;		/* from the snapshot's name, ms */
	char parent[64];		/* "" = a full send */
	char target[256];
	int64_t sent_at;		/* when the replica confirmed it */
	int64_t bytes;			/* the stream's size */
	int64_t ms;			/* how long the send took */
};

/* What the last replication cycle of a share found. */
struct repl_state {
	char share[128];
	int64_t checked_at;		/* 0 = never */
	char replica_newest[64];	/* the newest complete snapshot on the replica ("" = none) */
	char held[512];			/* why snapshots were not sent ("" = nothing held) */
	char last_error[512];		/* "" = the last cycle went well */
	int64_t last_error_at;
};

int journal_repl_add(struct journal *j, const struct repl_rec *r);
/* The share's last snapshot sent: 0 found, 1 none, -1 error. */
int journal_repl_last(struct journal *j, const char *share, struct repl_rec *r);
int journal_repl_state_put(struct journal *j, const struct repl_state *s);
/* 0 found, 1 none (s zeroed, its share set), -1 error. */
int journal_repl_state_get(struct journal *j, const char *share, struct repl_state *s);

#endif
