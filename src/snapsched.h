/* The snapshot schedule and retention, on a thread of its own so a slow backend never delays detection. */
#ifndef SW_SNAPSCHED_H
#define SW_SNAPSCHED_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct journal;
struct share;
struct snap_info;

/*
 * Before the daemon says it is ready: every share gets a clean snapshot, a
 * new one (reason "start") unless one was taken within [snapshots] interval,
 * which is reused. Logs each share's outcome and records it for `status` as
 * the counter SNAPSCHED_START_KEY<share>: the clean snapshot's time, 0 when
 * none could be had, -1 when the share has no snapshot backend. Returns how
 * many shares are left without a snapshot.
 */
#define SNAPSCHED_START_KEY	"start_snapshot:"
int snapsched_initial(const struct config *cfg, struct journal *j);

/*
 * Starts the thread: a snapshot of every share on each multiple of
 * [snapshots] interval (the one at start is snapsched_initial's), each
 * followed by retention. It has its own journal connection. cfg must outlive
 * it. NULL with the reason in err.
 */
struct snapsched *snapsched_start(const struct config *cfg, char *err, size_t errlen);
/* Stops the thread (waits for a round in progress to end). */
void snapsched_stop(struct snapsched *ss);

/*
 * Takes a snapshot of sh (snapshot_take) and records it in the journal as
 * sharewarden's own with reason "schedule", "detection" or "manual" (j may be
 * NULL). 0 ok; 1 taken but not journaled; -1 not taken. err says why.
 */
int snapshot_take_recorded(const struct share *sh, struct journal *j, const char *reason, int64_t incident_id,
    struct snap_info *si, char *err, size_t errlen);

#endif
