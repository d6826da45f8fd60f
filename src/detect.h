/* Detection: per-actor (user + client IP) scoring of name rules and behaviour over a sliding window. */
#ifndef SW_DETECT_H
#define SW_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"

struct rules;

#define ACTOR_SIGNALS 64

/* A signal kept by an actor; the path is copied. */
struct actor_signal {
	const char *kind;		/* static string */
	double weight;
	int64_t at;
	char *path;			/* owned */
	size_t pathlen;
	char detail[128];
	int slow;			/* counts over the slow window (content signals) */
};

struct actor {
	char user[128];
	char ip[64];
	char host[128];
	int pid;			/* smbd pid of the latest event */
	int64_t first_mut_at;		/* first mutating event of the current run of activity */
	int64_t last_mut_at;
	double score;			/* weights of the signals inside the window */
	int64_t incident_id;		/* the incident open for this actor, 0 none */
	int64_t last_at;		/* its latest event (ms since the epoch) */
	struct actor_signal *sig;	/* ring of recent signals, grown on demand to ACTOR_SIGNALS */
	size_t sigcap;
	size_t nsig;			/* how many were ever added (ring index = nsig % ACTOR_SIGNALS) */
	struct actor_private *priv;
	struct actor *next;		/* the next less recently active actor */
	struct actor *prev;
};

/* What one event did. sig points into actor->sig (valid until the next feed). */
struct detect_verdict {
	struct actor *actor;		/* NULL when the event has no actor */
	struct actor_signal *sig[4];
	int nsig;
	int crossed;			/* the actor reached incident score with this event and has no incident */
};

struct detect;
struct canary_set;
struct config;

struct detect *detect_new(const struct detect_cfg *cfg, const struct rules *rules);
/* Canaries: any change to one is a canary signal. cs may be NULL; it is borrowed. */
void detect_set_canaries(struct detect *d, const struct canary_set *cs);
/* Allowlists (allow users/ips/shares/paths of cfg, borrowed): matching events are never scored. */
void detect_set_allow(struct detect *d, const struct config *cfg);
/*
 * The verdict of content analysis on a file the actor of ev wrote (ev: user,
 * ip, path, at). verdict is an enum content_verdict. Signals as detect_feed.
 */
void detect_content(struct detect *d, const struct sw_event *ev, int verdict, const char *detail,
    struct detect_verdict *v);
/*
 * Only the canary rule, for a second source of the same operations (kernel
 * events beside full_audit): a touch both report counts once per actor,
 * canary and kind of touch. Signals as detect_feed.
 */
void detect_canary(struct detect *d, const struct sw_event *ev, struct detect_verdict *v);
void detect_free(struct detect *d);
void detect_feed(struct detect *d, const struct sw_event *ev, struct detect_verdict *v);
/* Forgets the actor's score and signals (after an incident is released). */
void detect_actor_reset(struct actor *a);
/*
 * When the actor's attack began: the earliest of its mutating events within one
 * window before its first counted signal (the damage precedes the evidence),
 * but not before its current run of activity.
 */
int64_t detect_first_event_at(const struct detect *d, const struct actor *a);
/* Every actor, most recently active first (follow ->next), for status and tests. */
struct actor *detect_actors(struct detect *d);
/*
 * Forgets the least recently active actors until at most max are left, and
 * every actor whose latest event is older than idle_before (0: none for
 * idleness): their memory is freed. An actor with an incident, or whose score
 * reached the incident score (a pending incident), is never forgotten. Returns
 * how many were. Invalidates pointers to the forgotten actors: call it where no
 * verdict's actor is held.
 */
size_t detect_trim(struct detect *d, size_t max, int64_t idle_before);
/* How many actors are known now, and how many detect_trim has forgotten. */
void detect_stats(const struct detect *d, size_t *actors, uint64_t *evicted);

#endif
