/* The fleet over NATS JetStream: incidents and releases shared by every server of a customer, and heartbeats. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nats/nats.h>

#include "config.h"
#include "fleet.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "replicate.h"
#include "respond.h"
#include "util.h"

#define FLEET_SUBJECTS		"sharewarden.>"
#define FLEET_HB_PREFIX		"sharewarden-heartbeat"
/*
 * Incidents also go out on plain NATS (no JetStream) under this prefix while
 * the stream has not taken them: a cluster that just came back serves plain
 * subjects at once but elects its stream leaders for seconds.
 */
#define FLEET_NOW_PREFIX	"sharewarden-now"
#define FLEET_POLL_MS		250	/* the publisher looks at the journal this often (the CLI's releases) */
#define FLEET_RETRY_MS		250	/* after a failed publish or fetch */
#define FLEET_FETCH_MS		500	/* a pull request waits this long for the stream */
#define FLEET_BATCH		16
#define FLEET_MAX_SERVERS	256	/* heartbeats kept between two journal writes */
#define FLEET_QUEUE_MAX		1024	/* other servers' incidents waiting for the event loop */
#define FLEET_DUP_WINDOW_MS	(3600LL * 1000)
#define FLEET_MAX_AGE_MS	(30LL * 86400 * 1000)
#define NS_PER_MS		1000000LL

int
fleet_enabled(const struct config *cfg)
{
	return cfg->fleet.n_nats > 0;
}


void
fleet_origin_of(const struct config *cfg, const struct incident *inc, char *buf, size_t bufsz)
{
	if (inc->origin[0] != '\0')
		snprintf(buf, bufsz, "%s", inc->origin);
	else
		snprintf(buf, bufsz, "%s/%s#%lld", cfg->fleet.site, cfg->fleet.server, (long long)inc->id);
}

int
fleet_origin_split(const char *origin, char site[64], char server[64], int64_t *id)
{
	const char *slash = strchr(origin, '/'), *hash;
	char *end;
	long long v;

	if (slash == NULL || (hash = strchr(slash + 1, '#')) == NULL)
		return -1;
	if (!name_token_ok(origin, (size_t)(slash - origin)) || !name_token_ok(slash + 1, (size_t)(hash - slash - 1)))
		return -1;
	if (hash[1] < '1' || hash[1] > '9')
		return -1;
	errno = 0;
	v = strtoll(hash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -1;
	snprintf(site, 64, "%.*s", (int)(slash - origin), origin);
	snprintf(server, 64, "%.*s", (int)(hash - slash - 1), slash + 1);
	*id = v;
	return 0;
}

/* ------------------------------------------------------------------ messages */

/*
 * A string member into buf: absent is "" unless required; present it must be
 * a string without NUL that fits. Returns 0, or -1 with err set.
 */
static int
get_str(json_t *o, const char *key, char *buf, size_t bufsz, int required, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	buf[0] = '\0';
	if (v == NULL) {
		if (!required)
			return 0;
		snprintf(err, errlen, "no \"%s\"", key);
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "\"%s\" is not a string", key);
		return -1;
	}
	n = json_string_length(v);
	if (n >= bufsz || memchr(json_string_value(v), '\0', n) != NULL) {
		snprintf(err, errlen, "\"%s\" is too long or holds a NUL", key);
		return -1;
	}
	memcpy(buf, json_string_value(v), n);
	buf[n] = '\0';
	if (required && n == 0) {
		snprintf(err, errlen, "\"%s\" is empty", key);
		return -1;
	}
	return 0;
}

static int
get_time(json_t *o, const char *key, int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, errlen, "\"%s\" is not a time in ms", key);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int
fleet_msg_parse(const char *buf, size_t len, struct fleet_msg *m, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o, *v;
	char site[64], server[64];
	int64_t id;
	int rc = -1;

	memset(m, 0, sizeof *m);
	if (len > FLEET_MSG_MAX) {
		snprintf(err, errlen, "message of %zu bytes: more than %d", len, FLEET_MSG_MAX);
		return -1;
	}
	if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(err, errlen, "not JSON: %s", jerr.text);
		return -1;
	}
	if (!json_is_object(o)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	v = json_object_get(o, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		snprintf(err, errlen, "\"v\" is not 1 (a newer sharewarden sent it?)");
		goto out;
	}
	if (get_str(o, "type", m->type, sizeof m->type, 1, err, errlen) != 0 ||
	    get_str(o, "site", m->site, sizeof m->site, 1, err, errlen) != 0 ||
	    get_str(o, "server", m->server, sizeof m->server, 1, err, errlen) != 0 ||
	    get_str(o, "origin", m->origin, sizeof m->origin, 1, err, errlen) != 0 ||
	    get_time(o, "at", &m->at, err, errlen) != 0)
		goto out;
	if (strcmp(m->type, FLEET_INCIDENT) != 0 && strcmp(m->type, FLEET_RELEASE) != 0) {
		snprintf(err, errlen, "unknown type (incident or release)");
		goto out;
	}
	if (!name_token_ok(m->site, strlen(m->site)) || !name_token_ok(m->server, strlen(m->server))) {
		snprintf(err, errlen, "\"site\" or \"server\" is not a name (letters, digits, _ -)");
		goto out;
	}
	if (fleet_origin_split(m->origin, site, server, &id) != 0) {
		snprintf(err, errlen, "\"origin\" is not site/server#id");
		goto out;
	}
	if (strcmp(m->type, FLEET_INCIDENT) == 0) {
		/* Only the server that opened an incident announces it. */
		if (strcmp(site, m->site) != 0 || strcmp(server, m->server) != 0) {
			snprintf(err, errlen, "an incident announced by another server than its origin");
			goto out;
		}
		if (get_str(o, "user", m->user, sizeof m->user, 1, err, errlen) != 0 ||
		    get_str(o, "domain", m->domain, sizeof m->domain, 0, err, errlen) != 0 ||
		    get_str(o, "ip", m->ip, sizeof m->ip, 0, err, errlen) != 0 ||
		    get_str(o, "mac", m->mac, sizeof m->mac, 0, err, errlen) != 0 ||
		    get_str(o, "host", m->host, sizeof m->host, 0, err, errlen) != 0 ||
		    get_str(o, "reason", m->reason, sizeof m->reason, 0, err, errlen) != 0 ||
		    get_time(o, "first_event_at", &m->first_event_at, err, errlen) != 0 ||
		    get_time(o, "detected_at", &m->detected_at, err, errlen) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

char *
fleet_msg_render(const struct fleet_msg *m, size_t *len)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "v", json_integer(1));
	json_object_set_new(o, "type", json_string(m->type));
	json_object_set_new(o, "site", json_string(m->site));
	json_object_set_new(o, "server", json_string(m->server));
	json_object_set_new(o, "origin", json_string(m->origin));
	json_object_set_new(o, "at", json_integer(m->at));
	if (strcmp(m->type, FLEET_INCIDENT) == 0) {
		/* Names are bytes from SMB: invalid UTF-8 is not JSON, so it travels escaped. */
		const char *fields[][2] = { { "user", m->user }, { "domain", m->domain }, { "ip", m->ip },
		    { "mac", m->mac }, { "host", m->host }, { "reason", m->reason } };

		for (size_t i = 0; i < nitems(fields); i++) {
			json_t *v = json_string(fields[i][1]);
			char safe[1024];

			if (v == NULL)
				v = json_string(respond_sanitize(safe, sizeof safe, fields[i][1],
				    strlen(fields[i][1])));
			json_object_set_new(o, fields[i][0], v ? v : json_string(""));
		}
		json_object_set_new(o, "first_event_at", json_integer(m->first_event_at));
		json_object_set_new(o, "detected_at", json_integer(m->detected_at));
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s != NULL)
		*len = strlen(s);
	return s;
}

/* ------------------------------------------------------------------ queueing */

static int
queue_msg(const struct config *cfg, struct journal *j, const struct fleet_msg *m, const char *msg_id)
{
	char subject[256];
	size_t len = 0;
	char *payload;
	int rc;

	snprintf(subject, sizeof subject, "sharewarden.%s.%s.%s", cfg->fleet.site, cfg->fleet.server, m->type);
	if ((payload = fleet_msg_render(m, &len)) == NULL)
		return -1;
	rc = journal_fleet_add(j, subject, msg_id, payload, len);
	free(payload);
	return rc;
}

static void
msg_header(const struct config *cfg, struct fleet_msg *m, const char *type, const char *origin)
{
	memset(m, 0, sizeof *m);
	snprintf(m->type, sizeof m->type, "%s", type);
	snprintf(m->site, sizeof m->site, "%s", cfg->fleet.site);
	snprintf(m->server, sizeof m->server, "%s", cfg->fleet.server);
	snprintf(m->origin, sizeof m->origin, "%s", origin);
	m->at = now_ms();
}

int
fleet_queue_incident(const struct config *cfg, struct journal *j, const struct incident *inc, const char *reason)
{
	struct fleet_msg m;
	char origin[192], msg_id[256];

	if (!fleet_enabled(cfg) || inc->origin[0] != '\0' || inc->id <= 0)
		return 0;
	fleet_origin_of(cfg, inc, origin, sizeof origin);
	msg_header(cfg, &m, FLEET_INCIDENT, origin);
	snprintf(m.user, sizeof m.user, "%s", inc->user);
	snprintf(m.domain, sizeof m.domain, "%s", inc->domain);
	snprintf(m.ip, sizeof m.ip, "%s", inc->ip);
	snprintf(m.mac, sizeof m.mac, "%s", inc->mac);
	snprintf(m.host, sizeof m.host, "%s", inc->host);
	snprintf(m.reason, sizeof m.reason, "%s", reason ? reason : "");
	m.first_event_at = inc->first_event_at;
	m.detected_at = inc->detected_at;
	/* The time too: a journal started afresh reuses ids, and its incidents are news. */
	snprintf(msg_id, sizeof msg_id, "incident %s at %lld", origin, (long long)inc->detected_at);
	return queue_msg(cfg, j, &m, msg_id);
}

int
fleet_queue_release(const struct config *cfg, struct journal *j, const struct incident *inc)
{
	struct fleet_msg m;
	char origin[192], msg_id[256];

	if (!fleet_enabled(cfg) || inc->id <= 0)
		return 0;
	fleet_origin_of(cfg, inc, origin, sizeof origin);
	msg_header(cfg, &m, FLEET_RELEASE, origin);
	/* One release per server and time: released again after a new incident, it is news again. */
	snprintf(msg_id, sizeof msg_id, "release %s by %s/%s at %lld", origin, cfg->fleet.site, cfg->fleet.server,
	    (long long)m.at);
	return queue_msg(cfg, j, &m, msg_id);
}

/* ------------------------------------------------------------------ the threads */

struct fleet_item {
	struct fleet_msg m;
	natsMsg *msg;
};

struct fleet {
	const struct config *cfg;
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *hb_sub;
	pthread_t pub_t, sub_t;
	int pub_started, sub_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* the publisher waits on it; the consumer waits for the loop on it too */
	int kicked;
	volatile int stop;
	int efd;			/* readable while items wait for the event loop */
	struct fleet_item *q;		/* a ring of FLEET_QUEUE_MAX */
	size_t qhead, qlen;
	int inflight;			/* taken by the loop, not done yet */
	int stream_ok;
	char state[256];		/* the connection as `fleet` shows it */
	natsSubscription *now_sub;
	struct fleet_server hbs[FLEET_MAX_SERVERS];
	size_t nhbs;
	char durable[160];
};

static void on_heartbeat(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg);
static void on_now(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg);
static int subject_matches(const char *subject, const char *prefix, const struct fleet_msg *m);

static void
set_state(struct fleet *f, const char *fmt, const char *detail)
{
	char buf[256];

	snprintf(buf, sizeof buf, fmt, detail);
	pthread_mutex_lock(&f->mu);
	if (strcmp(buf, f->state) != 0) {
		snprintf(f->state, sizeof f->state, "%s", buf);
		pthread_mutex_unlock(&f->mu);
		log_info("fleet: %s", buf);
		return;
	}
	pthread_mutex_unlock(&f->mu);
}

/* Sleeps up to ms, woken early by *flag (set by fleet_kick for the publisher) or fleet_stop. */
static void
wait_flag(struct fleet *f, int64_t ms, int *flag)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->mu);
	while (!*flag && !f->stop)
		if (pthread_cond_timedwait(&f->cv, &f->mu, &ts) == ETIMEDOUT)
			break;
	*flag = 0;
	pthread_mutex_unlock(&f->mu);
}

/* The publisher's wait: a kick means something was queued. */
static void
wait_kick(struct fleet *f, int64_t ms)
{
	wait_flag(f, ms, &f->kicked);
}

/* The consumer's wait between retries: only stopping cuts it short. */
static void
wait_retry(struct fleet *f, int64_t ms)
{
	int never = 0;

	wait_flag(f, ms, &never);
}

static const char *
nats_error(natsStatus s, jsErrCode jerr, char *buf, size_t bufsz)
{
	const char *last = nats_GetLastError(NULL), *p;

	/* The library prefixes "(conn.c:1905): ": where it was, not what. */
	if (last != NULL && last[0] == '(' && (p = strstr(last, "): ")) != NULL)
		last = p + 3;

	if (jerr != 0)
		snprintf(buf, bufsz, "%s (JetStream error %d)", last && *last ? last : natsStatus_GetText(s),
		    (int)jerr);
	else
		snprintf(buf, bufsz, "%s", last && *last ? last : natsStatus_GetText(s));
	return buf;
}

/* The stream of the fleet exists (made when missing, with [fleet] replicas). 0, or -1 with err. */
static int
ensure_stream(struct fleet *f, char *err, size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig sc;
	jsErrCode jerr = 0;
	natsStatus s;
	const char *subjects[] = { FLEET_SUBJECTS };
	int ok;

	pthread_mutex_lock(&f->mu);
	ok = f->stream_ok;
	pthread_mutex_unlock(&f->mu);
	if (ok)
		return 0;
	s = js_GetStreamInfo(&si, f->js, f->cfg->fleet.stream, NULL, &jerr);
	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
	} else if (jerr == JSStreamNotFoundErr) {
		jsStreamConfig_Init(&sc);
		sc.Name = f->cfg->fleet.stream;
		sc.Subjects = subjects;
		sc.SubjectsLen = 1;
		sc.Storage = js_FileStorage;
		sc.Replicas = f->cfg->fleet.replicas;
		sc.MaxAge = FLEET_MAX_AGE_MS * NS_PER_MS;
		sc.Duplicates = FLEET_DUP_WINDOW_MS * NS_PER_MS;
		jerr = 0;
		s = js_AddStream(&si, f->js, &sc, NULL, &jerr);
		if (s != NATS_OK && jerr != JSStreamNameExistErr) {
			nats_error(s, jerr, err, errlen);
			return -1;
		}
		if (s == NATS_OK) {
			log_info("fleet: stream %s created (%d replica%s)", f->cfg->fleet.stream,
			    f->cfg->fleet.replicas, f->cfg->fleet.replicas == 1 ? "" : "s");
			jsStreamInfo_Destroy(si);
		}
	} else {
		nats_error(s, jerr, err, errlen);
		return -1;
	}
	pthread_mutex_lock(&f->mu);
	f->stream_ok = 1;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static int
connected(struct fleet *f)
{
	natsConnection *nc;

	pthread_mutex_lock(&f->mu);
	nc = f->js != NULL ? f->nc : NULL;
	pthread_mutex_unlock(&f->mu);
	return nc != NULL && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED;
}

/* Why the connection is down, as the library last saw it. */
static void
set_disconnected(struct fleet *f)
{
	const char *last = NULL;
	char why[200];

	if (f->nc != NULL)
		natsConnection_GetLastError(f->nc, &last);
	snprintf(why, sizeof why, "%s", last != NULL && *last ? last : "no server answers");
	set_state(f, "not connected to NATS: %s (retrying)", why);
}

/*
 * Connects, retrying every second until it works or the daemon stops (a
 * refused login or a wrong address is named in the log, once per change),
 * then makes the JetStream context and the heartbeat subscription; from
 * then on the library reconnects on its own. In the publisher thread: a
 * NATS that does not answer never holds the daemon. 0, or -1 when stopped
 * or when the fleet cannot work at all.
 */
static int
fleet_connect(struct fleet *f)
{
	jsOptions jo;
	char subject[256], err[256], last[256] = "", url[256] = "";
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	natsStatus s;

	while ((s = natsConnection_Connect(&nc, f->opts)) != NATS_OK) {
		nats_error(s, 0, err, sizeof err);
		if (strcmp(err, last) != 0) {
			log_warnx("fleet: cannot connect to NATS: %s; retrying (this server protects its own shares "
			    "meanwhile)", err);
			snprintf(last, sizeof last, "%s", err);
		}
		set_state(f, "not connected to NATS: %s (retrying)", err);
		wait_kick(f, 1000);
		if (f->stop)
			return -1;
	}
	natsConnection_GetConnectedUrl(nc, url, sizeof url);
	set_state(f, "connected to %s", url);
	jsOptions_Init(&jo);
	jo.Wait = f->cfg->fleet.timeout_ms;
	snprintf(subject, sizeof subject, "%s.>", FLEET_HB_PREFIX);
	if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK ||
	    (s = natsConnection_Subscribe(&f->hb_sub, nc, subject, on_heartbeat, f)) != NATS_OK ||
	    (s = natsConnection_Subscribe(&f->now_sub, nc, FLEET_NOW_PREFIX ".>", on_now, f)) != NATS_OK) {
		log_warnx("fleet: NATS: %s: the fleet is off", nats_error(s, 0, err, sizeof err));
		if (js != NULL)
			jsCtx_Destroy(js);
		natsConnection_Destroy(nc);
		return -1;
	}
	pthread_mutex_lock(&f->mu);
	f->nc = nc;
	f->js = js;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

/* Sends what the journal holds, oldest first; stops at the first failure (order is kept). */
static void
publish_due(struct fleet *f, struct journal *j)
{
	struct fleet_out *m = NULL;
	size_t n = 0;
	char err[256];

	if (!connected(f) || journal_fleet_due(j, FLEET_BATCH, &m, &n) != 0 || n == 0) {
		fleet_out_free(m, n);
		return;
	}
	if (ensure_stream(f, err, sizeof err) != 0) {
		set_state(f, "the stream cannot be reached: %s", err);
		fleet_out_free(m, n);
		return;
	}
	for (size_t i = 0; i < n && !f->stop; i++) {
		jsPubOptions po;
		jsPubAck *ack = NULL;
		jsErrCode jerr = 0;
		natsStatus s;

		/* The isolation goes out at once on plain NATS too; the stream keeps it for who is away. */
		if (strstr(m[i].subject, "." FLEET_INCIDENT) != NULL) {
			char now_subject[300];

			snprintf(now_subject, sizeof now_subject, "%s.%s", FLEET_NOW_PREFIX, m[i].subject);
			natsConnection_Publish(f->nc, now_subject, m[i].payload, (int)m[i].len);
			natsConnection_FlushTimeout(f->nc, f->cfg->fleet.timeout_ms);
		}
		jsPubOptions_Init(&po);
		po.MsgId = m[i].msg_id;
		po.MaxWait = f->cfg->fleet.timeout_ms;
		s = js_Publish(&ack, f->js, m[i].subject, m[i].payload, (int)m[i].len, &po, &jerr);
		m[i].attempts++;
		if (s == NATS_OK) {
			m[i].sent_at = now_ms();
			m[i].last_error[0] = '\0';
			jsPubAck_Destroy(ack);
			log_debug("fleet: sent %s (%lld ms after it was queued)", m[i].subject,
			    (long long)(m[i].sent_at - m[i].created_at));
		} else {
			nats_error(s, jerr, m[i].last_error, sizeof m[i].last_error);
			if (jerr == JSStreamNotFoundErr) {
				pthread_mutex_lock(&f->mu);
				f->stream_ok = 0;
				pthread_mutex_unlock(&f->mu);
			}
		}
		if (journal_begin(j) == 0) {
			journal_fleet_done(j, &m[i]);
			journal_commit(j);
		}
		if (s != NATS_OK) {
			set_state(f, "publishing fails: %s (kept; sent once NATS answers)", m[i].last_error);
			break;
		}
	}
	fleet_out_free(m, n);
}

static int64_t
open_incidents(struct journal *j)
{
	struct incident *list = NULL;
	size_t n = 0;
	int64_t open = 0;

	if (journal_incident_list(j, &list, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		open += strcmp(list[i].state, INC_RELEASED) != 0;
	free(list);
	return open;
}

/* A server's replication lag, for `fleet`. */
static void
lag_put(struct journal *j, const struct fleet_server *s)
{
	char key[192];

	snprintf(key, sizeof key, "%s%.63s/%.63s", FLEET_LAG_KEY, s->site, s->server);
	journal_stat_set(j, key, s->repl_lag_s);
}

/* This server's heartbeat to the fleet, and the ones heard since the last, into the journal. */
static void
heartbeat(struct fleet *f, struct journal *j)
{
	struct fleet_server me, heard[FLEET_MAX_SERVERS];
	int64_t pending = 0, oldest = 0;
	size_t nheard;
	char subject[256], *s;
	json_t *o;

	memset(&me, 0, sizeof me);
	snprintf(me.site, sizeof me.site, "%s", f->cfg->fleet.site);
	snprintf(me.server, sizeof me.server, "%s", f->cfg->fleet.server);
	snprintf(me.version, sizeof me.version, "%s", SW_VERSION);
	me.last_seen = now_ms();
	me.open_incidents = open_incidents(j);
	journal_fleet_pending(j, &pending, &oldest);
	me.pending = pending;
	me.repl_lag_s = replication_lag_s(f->cfg, j);
	pthread_mutex_lock(&f->mu);
	snprintf(me.detail, sizeof me.detail, "%.240s", f->state[0] ? f->state : "starting");
	nheard = f->nhbs;
	memcpy(heard, f->hbs, nheard * sizeof heard[0]);
	f->nhbs = 0;
	pthread_mutex_unlock(&f->mu);
	if (journal_begin(j) == 0) {
		journal_fleet_server_put(j, &me);
		lag_put(j, &me);
		for (size_t i = 0; i < nheard; i++) {
			journal_fleet_server_put(j, &heard[i]);
			lag_put(j, &heard[i]);
		}
		journal_commit(j);
	}
	if (!connected(f))
		return;
	o = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "v", 1, "site", me.site, "server", me.server,
	    "version", me.version, "at", (json_int_t)me.last_seen, "open_incidents", (json_int_t)me.open_incidents,
	    "pending", (json_int_t)me.pending, "oldest_pending_at", (json_int_t)oldest,
	    "replication_lag_s", (json_int_t)me.repl_lag_s);
	if (o == NULL)
		return;
	if ((s = json_dumps(o, JSON_COMPACT)) != NULL) {
		snprintf(subject, sizeof subject, "%s.%s.%s", FLEET_HB_PREFIX, me.site, me.server);
		natsConnection_PublishString(f->nc, subject, s);
		free(s);
	}
	json_decref(o);
}

/* A heartbeat from another server (libnats' thread): kept for the publisher to journal. */
static void
on_heartbeat(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
	struct fleet *f = arg;
	struct fleet_server s;
	json_error_t jerr;
	json_t *o;
	const char *site = NULL, *server = NULL, *version = "";
	json_int_t at = 0, open = 0, pending = 0, lag = -1;

	(void)nc;
	(void)sub;
	memset(&s, 0, sizeof s);
	o = json_loadb(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL || json_unpack(o, "{s:s, s:s, s?s, s:I, s?I, s?I, s?I}", "site", &site, "server", &server,
	    "version", &version, "at", &at, "open_incidents", &open, "pending", &pending,
	    "replication_lag_s", &lag) != 0 ||
	    !name_token_ok(site, strlen(site)) || !name_token_ok(server, strlen(server)) ||
	    (strcmp(site, f->cfg->fleet.site) == 0 && strcmp(server, f->cfg->fleet.server) == 0))
		goto out;
	snprintf(s.site, sizeof s.site, "%s", site);
	snprintf(s.server, sizeof s.server, "%s", server);
	respond_sanitize(s.version, sizeof s.version, version, strlen(version));
	/* Our clock, not theirs: "last heard" stays true when their clock is off. */
	s.last_seen = now_ms();
	s.open_incidents = open;
	s.pending = pending;
	s.repl_lag_s = lag >= 0 ? lag : -1;
	snprintf(s.detail, sizeof s.detail, "heartbeat");
	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->nhbs; i++)
		if (strcmp(f->hbs[i].site, s.site) == 0 && strcmp(f->hbs[i].server, s.server) == 0) {
			f->hbs[i] = s;
			goto unlock;
		}
	if (f->nhbs < FLEET_MAX_SERVERS)
		f->hbs[f->nhbs++] = s;
unlock:
	pthread_mutex_unlock(&f->mu);
out:
	json_decref(o);
	natsMsg_Destroy(msg);
}

static int loop_push(struct fleet *f, const struct fleet_msg *m, natsMsg *msg);

/* An incident on plain NATS (libnats' thread): to the event loop at once, unacknowledged (the stream's copy is). */
static void
on_now(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *arg)
{
	struct fleet *f = arg;
	struct fleet_msg m;
	char err[256];

	(void)nc;
	(void)sub;
	if (fleet_msg_parse(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), &m, err, sizeof err) == 0 &&
	    subject_matches(natsMsg_GetSubject(msg), FLEET_NOW_PREFIX ".", &m) &&
	    strcmp(m.type, FLEET_INCIDENT) == 0 && f->cfg->fleet.isolate &&
	    (strcmp(m.site, f->cfg->fleet.site) != 0 || strcmp(m.server, f->cfg->fleet.server) != 0))
		loop_push(f, &m, NULL);
	natsMsg_Destroy(msg);
}

static void *
publisher(void *arg)
{
	struct fleet *f = arg;
	struct journal *j;
	char err[512];
	int64_t next_hb = 0;

	if ((j = journal_open(f->cfg->journal, 0, err, sizeof err)) == NULL) {
		log_warnx("fleet: publisher off: %s", err);
		return NULL;
	}
	if (fleet_connect(f) != 0) {
		journal_close(j);
		return NULL;
	}
	while (!f->stop) {
		publish_due(f, j);
		if (mono_ms() >= next_hb) {
			heartbeat(f, j);
			next_hb = mono_ms() + f->cfg->fleet.heartbeat_ms;
		}
		wait_kick(f, FLEET_POLL_MS);
	}
	/* What the loop queued while stopping goes out if NATS is there; the rest waits in the journal. */
	publish_due(f, j);
	journal_close(j);
	return NULL;
}

/* Hands an incident of another server to the event loop. 0, or -1 when the queue is full. */
static int
loop_push(struct fleet *f, const struct fleet_msg *m, natsMsg *msg)
{
	uint64_t one = 1;
	struct fleet_item *it;

	pthread_mutex_lock(&f->mu);
	if (f->qlen == FLEET_QUEUE_MAX) {
		pthread_mutex_unlock(&f->mu);
		return -1;
	}
	it = &f->q[(f->qhead + f->qlen) % FLEET_QUEUE_MAX];
	it->m = *m;
	it->msg = msg;
	f->qlen++;
	pthread_mutex_unlock(&f->mu);
	if (write(f->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("fleet: eventfd");
	return 0;
}

/* Waits until the loop has journaled every incident handed to it (a release may follow its incident). */
static void
loop_drain(struct fleet *f)
{
	pthread_mutex_lock(&f->mu);
	while ((f->qlen > 0 || f->inflight > 0) && !f->stop)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
}

/*
 * A release from another server: the incident it names is released here too
 * (no new message). Returns -1 when a step of the release failed here.
 */
static int
fleet_release(struct fleet *f, struct journal *j, const struct fleet_msg *m)
{
	char site[64], server[64], *text = NULL;
	struct incident inc;
	size_t len = 0;
	int64_t id;
	FILE *out;
	int rc;

	if (fleet_origin_split(m->origin, site, server, &id) != 0)
		return 0;
	loop_drain(f);
	if (strcmp(site, f->cfg->fleet.site) == 0 && strcmp(server, f->cfg->fleet.server) == 0) {
		rc = journal_incident_get(j, id, &inc);
		if (rc == 0 && inc.origin[0] != '\0')
			rc = 1;
	} else
		rc = journal_incident_by_origin(j, m->origin, &inc);
	if (rc != 0) {
		char key[256];

		/* Before its incident (the stream had no leader then): remembered, so the incident is not acted on. */
		log_debug("fleet: release of %s by %s/%s: no such incident here (yet)", m->origin, m->site, m->server);
		snprintf(key, sizeof key, "fleet_released %s", m->origin);
		if (rc == 1 && journal_begin(j) == 0) {
			journal_stat_set(j, key, now_ms());
			journal_commit(j);
		}
		return 0;
	}
	if (strcmp(inc.state, INC_RELEASED) == 0)
		return 0;
	log_info("fleet: incident %lld (%s) released at %s/%s: releasing it here", (long long)inc.id, m->origin,
	    m->site, m->server);
	if ((out = open_memstream(&text, &len)) == NULL)
		return -1;
	rc = respond_release_fleet(f->cfg, j, inc.id, out);
	fclose(out);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		log_info("fleet: release: %s", line);
	if (rc != 0)
		log_warnx("fleet: incident %lld: the release from %s/%s did not complete here: run `sharewarden "
		    "release %lld` (tried again in a minute)", (long long)inc.id, m->site, m->server, (long long)inc.id);
	free(text);
	return rc != 0 ? -1 : 0;
}

/*
 * Whether subject is the one the sender of m publishes on (prefix "" for
 * the stream's, FLEET_NOW_PREFIX "." for plain NATS): NATS permissions per
 * server then keep one server from speaking in another's name.
 */
static int
subject_matches(const char *subject, const char *prefix, const struct fleet_msg *m)
{
	char want[300];

	snprintf(want, sizeof want, "%ssharewarden.%s.%s.%s", prefix, m->site, m->server, m->type);
	return strcmp(subject, want) == 0;
}

/* One message of the stream. Takes msg (acknowledged now, or by fleet_done). */
static void
on_stream_msg(struct fleet *f, struct journal *j, natsMsg *msg)
{
	struct fleet_msg m;
	char err[256] = "", safe[128];

	if (fleet_msg_parse(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), &m, err, sizeof err) == 0 &&
	    !subject_matches(natsMsg_GetSubject(msg), "", &m))
		snprintf(err, sizeof err, "sent as %s/%s on another server's subject", m.site, m.server);
	if (err[0] != '\0' || m.type[0] == '\0') {
		char why[256];

		log_warnx("fleet: message on %s ignored: %s",
		    respond_sanitize(safe, sizeof safe, natsMsg_GetSubject(msg), strlen(natsMsg_GetSubject(msg))),
		    respond_sanitize(why, sizeof why, err, strlen(err)));
		natsMsg_Term(msg, NULL);
		natsMsg_Destroy(msg);
		return;
	}
	if (strcmp(m.site, f->cfg->fleet.site) == 0 && strcmp(m.server, f->cfg->fleet.server) == 0) {
		/* Our own: already acted on here. */
		natsMsg_Ack(msg, NULL);
		natsMsg_Destroy(msg);
		return;
	}
	if (strcmp(m.type, FLEET_RELEASE) == 0) {
		jsMsgMetaData *meta = NULL;

		/* A step that failed here (a DC away for a minute) is tried again, ten times, a minute apart. */
		if (fleet_release(f, j, &m) != 0 && natsMsg_GetMetaData(&meta, msg) == NATS_OK &&
		    meta->NumDelivered < 10) {
			natsMsg_NakWithDelay(msg, 60000, NULL);
		} else
			natsMsg_Ack(msg, NULL);
		jsMsgMetaData_Destroy(meta);
		natsMsg_Destroy(msg);
		return;
	}
	if (!f->cfg->fleet.isolate) {
		log_info("fleet: incident %s (%s at %s/%s): isolate = no: not acted on here", m.origin,
		    respond_sanitize(safe, sizeof safe, m.user, strlen(m.user)), m.site, m.server);
		natsMsg_Ack(msg, NULL);
		natsMsg_Destroy(msg);
		return;
	}
	if (loop_push(f, &m, msg) != 0) {
		/* Not acknowledged: the stream delivers it again. */
		log_warnx("fleet: incident %s: the event loop's queue is full; it comes again", m.origin);
		natsMsg_NakWithDelay(msg, 1000, NULL);
		natsMsg_Destroy(msg);
	}
}

static void *
consumer(void *arg)
{
	struct fleet *f = arg;
	natsSubscription *sub = NULL;
	struct journal *j;
	char err[512];

	if ((j = journal_open(f->cfg->journal, 0, err, sizeof err)) == NULL) {
		log_warnx("fleet: consumer off: %s", err);
		return NULL;
	}
	int idle = 0;

	while (!f->stop) {
		natsMsgList list = { 0 };
		jsErrCode jerr = 0;
		natsStatus s;

		if (sub == NULL) {
			jsSubOptions so;

			if (!connected(f) || ensure_stream(f, err, sizeof err) != 0) {
				if (connected(f))
					set_state(f, "the stream cannot be reached: %s", err);
				else
					set_disconnected(f);
				wait_retry(f, FLEET_RETRY_MS);
				continue;
			}
			jsSubOptions_Init(&so);
			so.Stream = f->cfg->fleet.stream;
			/* A new server starts from now; one that was offline resumes where it stopped. */
			so.Config.DeliverPolicy = js_DeliverNew;
			so.Config.AckPolicy = js_AckExplicit;
			so.Config.AckWait = 30000 * NS_PER_MS;
			so.Config.MaxAckPending = FLEET_QUEUE_MAX;
			s = js_PullSubscribe(&sub, f->js, FLEET_SUBJECTS, f->durable, NULL, &so, &jerr);
			if (s != NATS_OK) {
				sub = NULL;
				set_state(f, "cannot read the stream: %s", nats_error(s, jerr, err, sizeof err));
				pthread_mutex_lock(&f->mu);
				f->stream_ok = 0;
				pthread_mutex_unlock(&f->mu);
				wait_retry(f, FLEET_RETRY_MS);
				continue;
			}
			set_state(f, "connected: reading the stream as %s", f->durable);
		}
		s = natsSubscription_Fetch(&list, sub, FLEET_BATCH, FLEET_FETCH_MS, &jerr);
		/*
		 * A fetch from a consumer the server lost (the stream deleted and made
		 * again, an administrator's cleanup) only times out: asked every 5 s.
		 */
		if (s == NATS_TIMEOUT && ++idle >= 10) {
			jsConsumerInfo *ci = NULL;

			idle = 0;
			jerr = 0;
			if (natsSubscription_GetConsumerInfo(&ci, sub, NULL, &jerr) == NATS_OK)
				jsConsumerInfo_Destroy(ci);
			else if (jerr == JSConsumerNotFoundErr || jerr == JSStreamNotFoundErr) {
				set_state(f, "the stream or this server's consumer is gone: %s", "making it again");
				s = NATS_INVALID_SUBSCRIPTION;
			}
		}
		if (s == NATS_OK) {
			idle = 0;
			set_state(f, "connected: reading the stream as %s", f->durable);
			for (int i = 0; i < list.Count; i++) {
				on_stream_msg(f, j, list.Msgs[i]);
				list.Msgs[i] = NULL;
			}
		} else if (s != NATS_TIMEOUT) {
			if (connected(f))
				set_state(f, "reading the stream fails: %s (retrying)", nats_error(s, jerr, err,
				    sizeof err));
			else
				set_disconnected(f);
			/* A subscription the server forgot (all nodes restarted, consumer gone) is made again. */
			if (s == NATS_INVALID_SUBSCRIPTION || s == NATS_CONNECTION_CLOSED || jerr == JSConsumerNotFoundErr) {
				/* Its messages still with the event loop are acknowledged through it: they go first. */
				loop_drain(f);
				pthread_mutex_lock(&f->mu);
				f->stream_ok = 0;
				pthread_mutex_unlock(&f->mu);
				natsSubscription_Destroy(sub);
				sub = NULL;
			}
			wait_retry(f, FLEET_RETRY_MS);
		}
		natsMsgList_Destroy(&list);
	}
	if (sub != NULL) {
		/* Destroy, not Unsubscribe: the durable consumer stays on the server and remembers where we are. */
		natsSubscription_Destroy(sub);
	}
	journal_close(j);
	return NULL;
}

static void
on_disconnected(natsConnection *nc, void *arg)
{
	(void)nc;
	set_state(arg, "%s", "disconnected from NATS (reconnecting)");
}

static void
on_reconnected(natsConnection *nc, void *arg)
{
	struct fleet *f = arg;
	char url[256] = "";

	natsConnection_GetConnectedUrl(nc, url, sizeof url);
	set_state(f, "connected to %s", url);
	fleet_kick(f);
}

struct fleet *
fleet_start(const struct config *cfg, char *err, size_t errlen)
{
	const struct fleet_cfg *fc = &cfg->fleet;
	struct fleet *f;
	char secret[1024], name[200];
	natsStatus s;

	f = xcalloc(1, sizeof *f);
	f->cfg = cfg;
	f->efd = -1;
	pthread_mutex_init(&f->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&f->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	f->q = xcalloc(FLEET_QUEUE_MAX, sizeof *f->q);
	/* The site's length keeps "a_b"/"c" and "a"/"b_c" apart. */
	snprintf(f->durable, sizeof f->durable, "sharewarden_%zu_%s_%s", strlen(fc->site), fc->site, fc->server);
	if ((f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		snprintf(err, errlen, "fleet: eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((s = natsOptions_Create(&f->opts)) != NATS_OK)
		goto nerr;
	snprintf(name, sizeof name, "sharewarden %s/%s", fc->site, fc->server);
	s = natsOptions_SetServers(f->opts, (const char **)fc->nats, (int)fc->n_nats);
	if (s == NATS_OK)
		s = natsOptions_SetName(f->opts, name);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(f->opts, fc->timeout_ms);
	/* Never give up: the daemon protects its own shares meanwhile and sends what it kept once back. */
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(f->opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(f->opts, 250);
	/* A node that died without closing the connection is noticed within seconds. */
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(f->opts, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(f->opts, 2);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(f->opts, on_disconnected, f);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(f->opts, on_reconnected, f);
	if (s == NATS_OK && fc->user[0] != '\0') {
		if (secret_file_read("fleet password file", fc->password_file, secret, sizeof secret, err, errlen)
		    != 0)
			goto fail;
		secret[strcspn(secret, "\r\n")] = '\0';
		s = natsOptions_SetUserInfo(f->opts, fc->user, secret);
		explicit_bzero(secret, sizeof secret);
	}
	if (s == NATS_OK && fc->credentials[0] != '\0')
		s = natsOptions_SetUserCredentialsFromFiles(f->opts, fc->credentials, NULL);
	if (s == NATS_OK && fc->ca_file[0] != '\0') {
		s = natsOptions_SetSecure(f->opts, true);
		if (s == NATS_OK)
			s = natsOptions_LoadCATrustedCertificates(f->opts, fc->ca_file);
	}
	if (s == NATS_OK && fc->cert_file[0] != '\0')
		s = natsOptions_LoadCertificatesChain(f->opts, fc->cert_file, fc->key_file);
	if (s != NATS_OK)
		goto nerr;
	set_state(f, "%s", "connecting to NATS");
	if (thread_start(&f->pub_t, publisher, f) != 0) {
		snprintf(err, errlen, "fleet: cannot start the publisher thread");
		goto fail;
	}
	f->pub_started = 1;
	if (thread_start(&f->sub_t, consumer, f) != 0) {
		snprintf(err, errlen, "fleet: cannot start the consumer thread");
		goto fail;
	}
	f->sub_started = 1;
	log_info("fleet: site %s, server %s, %zu NATS server%s, stream %s", fc->site, fc->server, fc->n_nats,
	    fc->n_nats == 1 ? "" : "s", fc->stream);
	return f;

nerr:
	nats_error(s, 0, secret, sizeof secret);
	snprintf(err, errlen, "fleet: NATS: %s", secret);
fail:
	fleet_stop(f);
	return NULL;
}

int
fleet_fd(struct fleet *f)
{
	return f->efd;
}

int
fleet_take(struct fleet *f, struct fleet_msg *m, void **token)
{
	uint64_t v;
	int got = 0;

	pthread_mutex_lock(&f->mu);
	if (f->qlen > 0) {
		struct fleet_item *it = &f->q[f->qhead];

		*m = it->m;
		*token = it->msg;
		f->qhead = (f->qhead + 1) % FLEET_QUEUE_MAX;
		f->qlen--;
		f->inflight++;
		got = 1;
	}
	if (f->qlen == 0 && read(f->efd, &v, sizeof v) < 0 && errno != EAGAIN)
		log_warn("fleet: eventfd");
	pthread_mutex_unlock(&f->mu);
	return got;
}

void
fleet_done(struct fleet *f, void *token)
{
	natsMsg *msg = token;

	if (msg != NULL) {
		natsMsg_Ack(msg, NULL);
		natsMsg_Destroy(msg);
	}
	pthread_mutex_lock(&f->mu);
	f->inflight--;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

void
fleet_kick(struct fleet *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->kicked = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

void
fleet_stop(struct fleet *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (f->pub_started)
		pthread_join(f->pub_t, NULL);
	if (f->sub_started)
		pthread_join(f->sub_t, NULL);
	/* Not acknowledged: the stream delivers them again at the next start. */
	for (size_t i = 0; i < f->qlen; i++)
		natsMsg_Destroy(f->q[(f->qhead + i) % FLEET_QUEUE_MAX].msg);
	if (f->hb_sub)
		natsSubscription_Destroy(f->hb_sub);
	if (f->now_sub)
		natsSubscription_Destroy(f->now_sub);
	if (f->js)
		jsCtx_Destroy(f->js);
	if (f->nc) {
		natsConnection_Close(f->nc);
		natsConnection_Destroy(f->nc);
	}
	if (f->opts)
		natsOptions_Destroy(f->opts);
	/* The library's own threads run our callbacks (on_disconnected ...): they end before f goes. */
	if (nats_CloseAndWait(5000) != NATS_OK) {
		/* A library thread may still call us: f stays (the process is ending anyway). */
		log_warnx("fleet: the NATS library did not stop within 5 s");
		return;
	}
	if (f->efd != -1)
		close(f->efd);
	free(f->q);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
