/* Telling the administrators: one LOG_AUTH|LOG_ALERT syslog line per incident, in monitor mode too. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "incident.h"
#include "respond.h"

#define NOTIFY_FORMAT \
	"sharewarden: ransomware activity: incident %lld user %s ip %s mac %s host %s score %.1f"

/* A field for the line: sanitized, "-" when empty so the line keeps its shape. */
static const char *
field(char *buf, size_t bufsz, const char *s)
{
	if (s[0] == '\0')
		return "-";
	return respond_sanitize(buf, bufsz, s, strlen(s));
}

static int
syslog_run(struct respond_ctx *ctx, struct action *a)
{
	static int opened;
	const struct incident *inc = ctx->inc;
	char user[160], ip[80], mac[40], host[160];
	const char *u, *i, *m, *h;

	u = field(user, sizeof user, inc->user);
	i = field(ip, sizeof ip, inc->ip);
	m = field(mac, sizeof mac, inc->mac);
	h = field(host, sizeof host, inc->host);
	/* The same settings as log.c, so its lines keep their ident and pid. */
	if (!opened) {
		openlog("sharewarden", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		opened = 1;
	}
	syslog(LOG_AUTH | LOG_ALERT, NOTIFY_FORMAT, (long long)inc->id, u, i, m, h, inc->score);
	snprintf(a->target, sizeof a->target, "syslog");
	snprintf(a->result, sizeof a->result, "ok");
	snprintf(a->detail, sizeof a->detail, NOTIFY_FORMAT, (long long)inc->id, u, i, m, h, inc->score);
	return 0;
}

const struct responder respond_syslog = {
	.kind = "notify_syslog",
	.run = syslog_run,
	.undo = NULL,
};
