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

/* Sets a->id. */
int journal_action_add(struct journal *j, struct action *a);
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

/* Daemon counters for `status` (lines, events, malformed, heartbeat ...). */
int journal_stat_set(struct journal *j, const char *key, int64_t value);
/* 0 found, 1 missing, -1 error. */
int journal_stat_get(struct journal *j, const char *key, int64_t *value);

#endif
