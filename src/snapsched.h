/* The snapshot schedule and retention, on a thread of its own so a slow backend never delays detection. */
#ifndef SW_SNAPSCHED_H
#define SW_SNAPSCHED_H

#include <stddef.h>

struct config;

/*
 * Starts the thread: a snapshot of every share at once, then on each
 * multiple of [snapshots] interval, each followed by retention. It has its
 * own journal connection. cfg must outlive it. NULL with the reason in err.
 */
struct snapsched *snapsched_start(const struct config *cfg, char *err, size_t errlen);
/* Stops the thread (waits for a round in progress to end). */
void snapsched_stop(struct snapsched *ss);

#endif
