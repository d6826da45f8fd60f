/*
 * The fleet: every sharewarden server of one customer, over NATS JetStream.
 * An incident opened at one server isolates its actor at every other (the
 * same user denied, its sessions ended, its account locked, the IP
 * blocked); a release at any server releases it everywhere. Without
 * [fleet] nats each server is alone, as by default.
 */
#ifndef SW_FLEET_H
#define SW_FLEET_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct incident;
struct journal;

/* Message types. */
#define FLEET_INCIDENT	"incident"	/* an incident opened at its origin: isolate its actor here too */
#define FLEET_RELEASE	"release"	/* an incident released somewhere: release it here too */

/* Messages are JSON objects no larger than this. */
#define FLEET_MSG_MAX	16384

/* One message of the fleet's stream, as it travels (fleet_msg_render, fleet_msg_parse). */
struct fleet_msg {
	char type[16];			/* FLEET_INCIDENT, FLEET_RELEASE */
	char site[64];			/* who sent it */
	char server[64];
	char origin[192];		/* the incident everywhere: "site/server#id" of the server that opened it */
	char user[128];			/* incident: the actor */
	char domain[128];
	char ip[64];
	char mac[32];
	char host[128];
	int64_t first_event_at;		/* ms since the epoch */
	int64_t detected_at;
	int64_t at;			/* when it was sent */
	char reason[256];		/* incident: what was seen (the signals, in short) */
};

/* Whether [fleet] nats names servers. */
int fleet_enabled(const struct config *cfg);

/* inc's origin: its own when another server opened it, else "site/server#id" of this server. */
void fleet_origin_of(const struct config *cfg, const struct incident *inc, char *buf, size_t bufsz);

/*
 * Splits "site/server#id". Returns 0, or -1 when origin is not of that form
 * (site and server: 1 to 63 letters, digits, '_' or '-'; id > 0).
 */
int fleet_origin_split(const char *origin, char site[64], char server[64], int64_t *id);

/*
 * Parses one message received from NATS (untrusted bytes: any length, any
 * content). Returns 0 and fills m, or -1 with the reason in err.
 */
int fleet_msg_parse(const char *buf, size_t len, struct fleet_msg *m, char *err, size_t errlen);

/* The message as JSON (malloc'd, NUL-terminated, *len bytes), or NULL. */
char *fleet_msg_render(const struct fleet_msg *m, size_t *len);

/*
 * Queues the message that tells the fleet about this server's incident inc
 * (or its release) in the journal, inside the caller's transaction when one
 * is open; the fleet thread publishes it. Does nothing without a fleet or
 * for an incident another server opened (FLEET_INCIDENT only). 0, or -1 on
 * a journal error.
 */
int fleet_queue_incident(const struct config *cfg, struct journal *j, const struct incident *inc,
    const char *reason);
int fleet_queue_release(const struct config *cfg, struct journal *j, const struct incident *inc);

/*
 * The fleet's threads, with their own journal connections and one NATS
 * connection (reconnecting on its own, to every server of [fleet] nats):
 * the publisher sends what the journal holds for the fleet, oldest first,
 * each until the stream acknowledged it (a message id makes a retry
 * harmless), and a heartbeat; the consumer reads the stream through a
 * durable consumer of this server (one offline catches up), releases here
 * what was released elsewhere, and hands other servers' incidents to the
 * event loop: fleet_fd becomes readable, fleet_take gives each, and
 * fleet_done acknowledges it once its isolation is journaled (a crash in
 * between has it delivered again; its origin finds it done).
 */
struct fleet;

struct fleet *fleet_start(const struct config *cfg, char *err, size_t errlen);
int fleet_fd(struct fleet *f);
/* 1 and the next incident of another server in m (token for fleet_done), or 0 when none waits. */
int fleet_take(struct fleet *f, struct fleet_msg *m, void **token);
void fleet_done(struct fleet *f, void *token);
/* Something was queued: publish it now. */
void fleet_kick(struct fleet *f);
void fleet_stop(struct fleet *f);

#endif
