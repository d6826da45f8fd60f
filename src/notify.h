/* Telling IT beyond syslog: email over SMTP and webhooks, through a journaled outbox retried with backoff. */
#ifndef SW_NOTIFY_H
#define SW_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct journal;
struct json_t;

/* The three moments IT hears about. */
#define NOTIFY_DETECTED		"detected"
#define NOTIFY_CONTAINED	"contained"
#define NOTIFY_RESTORED		"restored"

/*
 * Renders incident id's message for stage (who: user, host, IP, MAC, switch
 * and port; what was done and what failed; how many files were touched; the
 * exact `restore` and `release` commands) and queues it in the journal's
 * outbox for every configured channel (each mail recipient list, each
 * webhook), journaling a notify_mail / notify_webhook action as "queued".
 * Never touches the network: isolation is never delayed by a mail server.
 * Returns how many messages were queued, -1 on a journal error.
 */
int notify_enqueue(const struct config *cfg, struct journal *j, int64_t id, const char *stage);

/*
 * The technician's ticket for an incident, as plain text (malloc'd): the
 * mail body and the "text" of Slack/Teams webhooks. Attacker-chosen names
 * are made harmless (control characters escaped).
 */
char *notify_ticket(const struct config *cfg, struct journal *j, int64_t id, const char *stage);

/*
 * What notify_enqueue sends, from an incident's JSON (as incident_json makes
 * it; borrowed): the ticket, the mail subject and the webhook body in cfg's
 * webhook format, each malloc'd. Touches neither journal nor network (tests,
 * fuzzing of attacker-chosen names). -1 for an unknown stage.
 */
int notify_render(const struct config *cfg, struct json_t *inc, const char *stage, char **ticket,
    char **subject, char **webhook);

/*
 * The sender: a thread with its own journal connection that delivers due
 * outbox messages (libcurl SMTP with STARTTLS/auth; HTTP POST of JSON),
 * retrying with exponential backoff until [notify] give up after, and
 * records each outcome on its action (ok, or failed with the reason).
 */
struct notifier;
struct notifier *notifier_start(const struct config *cfg, char *err, size_t errlen);
/* Wakes the sender (a message was queued). */
void notifier_kick(struct notifier *n);
void notifier_stop(struct notifier *n);

/* Delivers every due message once, in the caller's thread (tests, `notify --flush`). Returns how many were sent. */
int notify_flush(const struct config *cfg, struct journal *j);

#endif
