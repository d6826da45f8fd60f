/* Notifications: the technician's ticket, the journaled outbox and the sender thread that empties it with backoff. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "notify.h"
#include "notify_impl.h"
#include "util.h"

#define BACKOFF_FIRST_MS	5000
#define BACKOFF_MAX_MS		(10 * 60 * 1000)
#define TICKET_FILES		10	/* paths listed in the ticket */
#define TICKET_SIGNALS		5
#define SUBJECT_FIELD		64	/* bytes of each attacker-chosen name in a subject */

/* ---- escaping ---- */

/*
 * Copies n bytes of untrusted text into dst as one line: what fput_escaped
 * escapes (controls, line separators, bidi controls, invalid UTF-8) becomes
 * \xNN here too, and so does '\'.
 */
static void
notify_escape(char *dst, size_t dstsz, const char *src, size_t n)
{
	const unsigned char *u = (const unsigned char *)src;
	size_t i = 0, o = 0, l, k;
	uint32_t cp;

	if (dstsz == 0)
		return;
	while (i < n) {
		l = utf8_char_len(u + i, n - i, &cp);
		if (l == 0 || cp == '\\' || utf8_cp_unsafe(cp)) {
			if (l == 0)
				l = 1;
			if (o + 4 * l >= dstsz)
				break;
			for (k = 0; k < l; k++, o += 4)
				snprintf(dst + o, dstsz - o, "\\x%02x", u[i + k]);
			i += l;
			continue;
		}
		if (o + l >= dstsz)
			break;
		memcpy(dst + o, u + i, l);
		o += l;
		i += l;
	}
	dst[o] = '\0';
}

/* ---- the ticket ---- */

static const char *
jget(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* An attacker-chosen string for the ticket: escaped, or `none` when unknown. */
static void
put_text(FILE *f, const char *s, const char *none)
{
	if (s == NULL || s[0] == '\0')
		fputs(none, f);
	else
		fput_escaped(f, s, strlen(s));
}

static int
str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* How many different paths files[] holds. */
static size_t
count_paths(json_t *files)
{
	size_t n = json_array_size(files), i, distinct = 0;
	const char **p = xcalloc(n ? n : 1, sizeof *p);
	size_t k = 0;

	for (i = 0; i < n; i++) {
		const char *s = jget(json_array_get(files, i), "path");

		if (s)
			p[k++] = s;
	}
	qsort(p, k, sizeof *p, str_ptr_cmp);
	for (i = 0; i < k; i++)
		if (i == 0 || strcmp(p[i], p[i - 1]) != 0)
			distinct++;
	free(p);
	return distinct;
}

/* What happened to one path: its operations in order ("write, rename -> new name"). */
static void
put_path_ops(FILE *f, json_t *files, size_t from, const char *path)
{
	const char *ops[8];
	size_t n = json_array_size(files), i, k, nops = 0;

	for (i = from; i < n; i++) {
		json_t *e = json_array_get(files, i);
		const char *p = jget(e, "path"), *op = jget(e, "op");

		if (p == NULL || op == NULL || strcmp(p, path) != 0)
			continue;
		for (k = 0; k < nops; k++)
			if (strcmp(ops[k], op) == 0)
				break;
		if (k < nops || nops == nitems(ops))
			continue;
		ops[nops] = op;
		fputs(nops++ ? ", " : " [", f);
		put_text(f, op, "?");
		if (jget(e, "path2")) {
			fputs(" -> ", f);
			put_text(f, jget(e, "path2"), "?");
		}
	}
	if (nops)
		fputc(']', f);
}

/* The first TICKET_FILES different paths, in the order they were touched. */
static void
put_first_paths(FILE *f, json_t *files, size_t distinct, long long id)
{
	const char *shown[TICKET_FILES];
	size_t n = json_array_size(files), i, k, nshown = 0;

	for (i = 0; i < n && nshown < TICKET_FILES; i++) {
		const char *p = jget(json_array_get(files, i), "path");

		if (p == NULL)
			continue;
		for (k = 0; k < nshown; k++)
			if (strcmp(shown[k], p) == 0)
				break;
		if (k < nshown)
			continue;
		shown[nshown++] = p;
		fputs("    ", f);
		put_text(f, p, "?");
		put_path_ops(f, files, i, p);
		fputc('\n', f);
	}
	if (distinct > nshown)
		fprintf(f, "    ... and %zu more (`sharewarden incident %lld --json` lists them all)\n",
		    distinct - nshown, id);
}

static const char *
stage_title(const char *stage, json_t *inc)
{
	const char *state = jget(inc, "state");

	if (strcmp(stage, NOTIFY_DETECTED) == 0)
		return "ransomware activity DETECTED";
	if (strcmp(stage, NOTIFY_CONTAINED) == 0)
		return state && strcmp(state, INC_OPEN) == 0 ?
		    "ransomware activity NOT CONTAINED: act now" : "ransomware activity CONTAINED";
	return "files RESTORED after ransomware activity";
}

static void
put_actor(FILE *f, json_t *actor)
{
	json_t *pid = json_object_get(actor, "smbd_pid");

	fputs("WHO\n  User:         ", f);
	put_text(f, jget(actor, "user"), "unknown");
	fputs("\n  Domain:       ", f);
	put_text(f, jget(actor, "domain"), "-");
	fputs("\n  Host:         ", f);
	put_text(f, jget(actor, "host"), "unknown");
	fputs("\n  IP address:   ", f);
	put_text(f, jget(actor, "ip"), "unknown");
	fputs("\n  MAC address:  ", f);
	put_text(f, jget(actor, "mac"), "unknown");
	if (jget(actor, "mac")) {
		fputs(" (from ", f);
		put_text(f, jget(actor, "mac_source"), "an unknown source");
		fputc(')', f);
	}
	fputs("\n  Switch port:  ", f);
	if (jget(actor, "switch") || jget(actor, "port")) {
		fputs("switch ", f);
		put_text(f, jget(actor, "switch"), "?");
		fputs(" port ", f);
		put_text(f, jget(actor, "port"), "?");
	} else
		fputs("unknown", f);
	if (json_is_integer(pid))
		fprintf(f, "\n  smbd pid:     %lld", (long long)json_integer_value(pid));
	fputs("\n\n", f);
}

static void
put_happened(FILE *f, json_t *inc)
{
	json_t *sig = json_object_get(inc, "signals"), *files = json_object_get(inc, "files");
	size_t i, distinct = count_paths(files);

	fputs("WHAT HAPPENED\n  First event:  ", f);
	put_text(f, jget(inc, "first_event_at"), "unknown");
	fputs("\n  Detected:     ", f);
	put_text(f, jget(inc, "detected_at"), "unknown");
	fputs("\n  Contained:    ", f);
	put_text(f, jget(inc, "contained_at"), "NOT contained");
	if (json_is_true(json_object_get(inc, "monitor")))
		fputs("\n  Mode:         report only (monitor mode or a protected account):"
		    " nothing was isolated", f);
	fputs("\n  Signals:\n", f);
	for (i = 0; i < json_array_size(sig) && i < TICKET_SIGNALS; i++) {
		json_t *s = json_array_get(sig, i);

		fputs("    ", f);
		put_text(f, jget(s, "kind"), "?");
		fputc(' ', f);
		put_text(f, jget(s, "path"), "");
		if (jget(s, "detail") && jget(s, "detail")[0]) {
			fputs(" (", f);
			put_text(f, jget(s, "detail"), "");
			fputc(')', f);
		}
		fputc('\n', f);
	}
	if (json_array_size(sig) > TICKET_SIGNALS)
		fprintf(f, "    ... and %zu more\n", json_array_size(sig) - TICKET_SIGNALS);
	fprintf(f, "  Files touched: %zu\n", distinct);
	put_first_paths(f, files, distinct,
	    (long long)json_integer_value(json_object_get(inc, "id")));
	fputc('\n', f);
}

static void
put_actions(FILE *f, json_t *inc)
{
	json_t *acts = json_object_get(inc, "actions");
	size_t i, shown = 0;

	fputs("WHAT WAS DONE\n", f);
	for (i = 0; i < json_array_size(acts); i++) {
		json_t *a = json_array_get(acts, i);
		const char *kind = jget(a, "kind"), *result = jget(a, "result");
		const char *detail = jget(a, "detail");

		/* The notifications are this message itself. */
		if (kind == NULL || strcmp(kind, "notify_mail") == 0 ||
		    strcmp(kind, "notify_webhook") == 0)
			continue;
		fputs("  ", f);
		put_text(f, kind, "?");
		fputs(" ", f);
		put_text(f, jget(a, "target"), "-");
		fputs(": ", f);
		put_text(f, result, "?");
		if (result && strcmp(result, "ok") != 0 && detail && detail[0]) {
			fputs(" (", f);
			put_text(f, detail, "");
			fputc(')', f);
		}
		if (jget(a, "undone_at")) {
			fputs(", undone ", f);
			put_text(f, jget(a, "undone_at"), "");
			fputs(": ", f);
			put_text(f, jget(a, "undo_result"), "?");
		}
		fputc('\n', f);
		shown++;
	}
	if (shown == 0)
		fputs("  nothing yet\n", f);
	fputc('\n', f);
}

static void
put_restore(FILE *f, json_t *inc)
{
	json_t *r = json_object_get(inc, "restore");

	fputs("RESTORE\n  State:        ", f);
	put_text(f, jget(r, "state"), "none");
	if (jget(r, "snapshot")) {
		fputs("\n  Snapshot:     ", f);
		put_text(f, jget(r, "snapshot"), "");
	}
	fprintf(f, "\n  Restored %lld, removed %lld, conflicts kept both %lld, failed %lld,"
	    " unrestorable %lld\n",
	    (long long)json_integer_value(json_object_get(r, "restored")),
	    (long long)json_integer_value(json_object_get(r, "removed")),
	    (long long)json_integer_value(json_object_get(r, "conflicts")),
	    (long long)json_integer_value(json_object_get(r, "failed")),
	    (long long)json_integer_value(json_object_get(r, "unrestorable")));
	if (jget(r, "detail")) {
		fputs("  ", f);
		put_text(f, jget(r, "detail"), "");
		fputc('\n', f);
	}
	fputc('\n', f);
}

static int
stage_known(const char *stage)
{
	return stage && (strcmp(stage, NOTIFY_DETECTED) == 0 ||
	    strcmp(stage, NOTIFY_CONTAINED) == 0 || strcmp(stage, NOTIFY_RESTORED) == 0);
}

/* The ticket from the incident's JSON (the one rendering both channels share). */
static char *
ticket_render(json_t *inc, const char *stage)
{
	long long id = (long long)json_integer_value(json_object_get(inc, "id"));
	json_t *actor = json_object_get(inc, "actor");
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		fatal("notify: open_memstream");
	fprintf(f, "sharewarden incident %lld: %s\n\n", id, stage_title(stage, inc));
	fputs("The account ", f);
	put_text(f, jget(actor, "user"), "(unknown)");
	fputs(" at ", f);
	put_text(f, jget(actor, "ip"), "(unknown address)");
	fputs(" changed files on the file server the way ransomware does.\n\n", f);
	put_actor(f, actor);
	put_happened(f, inc);
	put_actions(f, inc);
	if (strcmp(stage, NOTIFY_RESTORED) == 0)
		put_restore(f, inc);
	fputs("NEXT STEPS\n", f);
	fputs("  1. Go to the PC above. Keep it off the network, find what ran, clean or swap it.\n", f);
	fprintf(f, "  2. See what a restore would change:    sharewarden restore %lld --dry-run\n", id);
	fprintf(f, "  3. Put the damaged files back:          sharewarden restore %lld\n", id);
	fprintf(f, "  4. Once the PC is clean or swapped:     sharewarden release %lld\n", id);
	fputs("     (re-enables the account, lifts the IP block, brings the switch port up)\n", f);
	fprintf(f, "  Full report:                            sharewarden incident %lld\n", id);
	if (fclose(f) != 0)
		fatal("notify: ticket");
	return buf;
}

char *
notify_ticket(const struct config *cfg, struct journal *j, int64_t id, const char *stage)
{
	json_t *inc;
	char *t;

	(void)cfg;
	if (!stage_known(stage)) {
		log_warnx("notify: unknown stage");
		return NULL;
	}
	if ((inc = incident_json(j, id)) == NULL)
		return NULL;
	t = ticket_render(inc, stage);
	json_decref(inc);
	return t;
}

/* ---- queueing ---- */

/* "[sharewarden] incident 12 contained: alice at 10.0.0.5 (PC-7)": every name escaped, so no CR/LF. */
static char *
subject_render(json_t *inc, const char *stage)
{
	json_t *actor = json_object_get(inc, "actor");
	const char *u = jget(actor, "user"), *ip = jget(actor, "ip"), *h = jget(actor, "host");
	char user[SUBJECT_FIELD], addr[SUBJECT_FIELD], host[SUBJECT_FIELD], *s;
	const char *what = strcmp(stage, NOTIFY_CONTAINED) == 0 &&
	    jget(inc, "state") && strcmp(jget(inc, "state"), INC_OPEN) == 0 ? "NOT contained" : stage;

	notify_escape(user, sizeof user, u ? u : "?", u ? strlen(u) : 1);
	notify_escape(addr, sizeof addr, ip ? ip : "?", ip ? strlen(ip) : 1);
	notify_escape(host, sizeof host, h ? h : "", h ? strlen(h) : 0);
	if (asprintf(&s, "[sharewarden] incident %lld %s: %s at %s%s%s%s",
	    (long long)json_integer_value(json_object_get(inc, "id")), what, user, addr,
	    host[0] ? " (" : "", host, host[0] ? ")" : "") == -1)
		fatal("notify: subject");
	return s;
}

/* The webhook body for [notify] webhook format. */
static char *
webhook_render(const struct config *cfg, json_t *inc, const char *stage, const char *ticket,
    const char *subject)
{
	const char *fmt = cfg->notify.webhook_format;
	json_t *o, *copy;
	char *s;

	if (strcmp(fmt, "slack") == 0)
		o = json_pack("{s:s}", "text", ticket);
	else if (strcmp(fmt, "teams") == 0)
		o = json_pack("{s:s, s:s, s:s, s:s}", "@type", "MessageCard",
		    "@context", "https://schema.org/extensions", "title", subject, "text", ticket);
	else {
		if ((copy = json_deep_copy(inc)) == NULL)
			fatalx("notify: webhook JSON");
		o = json_pack("{s:s, s:o, s:s}", "event", stage, "incident", copy, "text", ticket);
	}
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("notify: webhook JSON");
	json_decref(o);
	return s;
}

int
notify_render(const struct config *cfg, json_t *inc, const char *stage, char **ticket, char **subject,
    char **webhook)
{
	if (!stage_known(stage))
		return -1;
	*ticket = ticket_render(inc, stage);
	*subject = subject_render(inc, stage);
	*webhook = webhook_render(cfg, inc, stage, *ticket, *subject);
	return 0;
}

/* A webhook URL may carry a secret (Slack, Teams): actions show only scheme://host/... */
static void
url_redact(char *dst, size_t dstsz, const char *url)
{
	const char *p = strstr(url, "://"), *slash;

	p = p ? p + 3 : url;
	slash = strpbrk(p, "/?#");
	if (slash == NULL || (slash[0] == '/' && slash[1] == '\0'))
		notify_escape(dst, dstsz, url, strlen(url));
	else {
		char head[200];

		notify_escape(head, sizeof head, url, (size_t)(slash - url));
		snprintf(dst, dstsz, "%s/...", head);
	}
}

static char *
recipients_join(const struct config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		fatal("notify: recipients");
	for (size_t i = 0; i < cfg->notify.n_mail_to; i++)
		fprintf(f, "%s%s", i ? ", " : "", cfg->notify.mail_to[i]);
	if (fclose(f) != 0)
		fatal("notify: recipients");
	return buf;
}

/* Journals one channel's action and, unless it is a dry run, its message. 1 queued, 0 dry run, -1 error. */
static int
queue_one(const struct config *cfg, struct journal *j, int64_t id, const char *stage,
    const char *kind, const char *channel, const char *target, const char *shown,
    const char *subject, const char *body, const char *ctype)
{
	struct action a;
	struct outbox_msg m;
	int64_t now = now_ms();

	memset(&a, 0, sizeof a);
	a.incident_id = id;
	a.at = now;
	snprintf(a.kind, sizeof a.kind, "%s", kind);
	snprintf(a.target, sizeof a.target, "%s", shown);
	if (config_dry_run(cfg, kind)) {
		snprintf(a.result, sizeof a.result, "skipped");
		snprintf(a.detail, sizeof a.detail, "dry run: would send the %s notice to %s",
		    stage, shown);
		return journal_action_add(j, &a) == -1 ? -1 : 0;
	}
	snprintf(a.result, sizeof a.result, "queued");
	snprintf(a.detail, sizeof a.detail, "%s: queued", stage);
	memset(&m, 0, sizeof m);
	snprintf(m.channel, sizeof m.channel, "%s", channel);
	m.target = (char *)target;
	snprintf(m.stage, sizeof m.stage, "%s", stage);
	m.subject = (char *)subject;
	m.body = (char *)body;
	m.body_len = strlen(body);
	snprintf(m.content_type, sizeof m.content_type, "%s", ctype);
	m.next_at = now;
	m.created_at = now;
	snprintf(m.state, sizeof m.state, "%s", OUTBOX_QUEUED);
	return journal_outbox_add(j, &a, &m) == -1 ? -1 : 1;
}

int
notify_enqueue(const struct config *cfg, struct journal *j, int64_t id, const char *stage)
{
	const struct notify_cfg *nc = &cfg->notify;
	char *ticket, *subject, *to, *body, shown[256];
	json_t *inc;
	int queued = 0, rc = 0;

	if (!stage_known(stage)) {
		log_warnx("notify: incident %lld: unknown stage", (long long)id);
		return -1;
	}
	if ((nc->smtp_url[0] == '\0' || nc->n_mail_to == 0) && nc->n_webhooks == 0)
		return 0;
	if ((inc = incident_json(j, id)) == NULL)
		return -1;
	ticket = ticket_render(inc, stage);
	subject = subject_render(inc, stage);
	if (nc->smtp_url[0] != '\0' && nc->n_mail_to > 0) {
		to = recipients_join(cfg);
		notify_escape(shown, sizeof shown, to, strlen(to));
		rc = queue_one(cfg, j, id, stage, "notify_mail", "mail", to, shown, subject, ticket,
		    "text/plain; charset=utf-8");
		free(to);
		if (rc > 0)
			queued += rc;
	}
	for (size_t i = 0; rc != -1 && i < nc->n_webhooks; i++) {
		body = webhook_render(cfg, inc, stage, ticket, subject);
		url_redact(shown, sizeof shown, nc->webhooks[i]);
		rc = queue_one(cfg, j, id, stage, "notify_webhook", "webhook", nc->webhooks[i], shown,
		    "", body, "application/json");
		free(body);
		if (rc > 0)
			queued += rc;
	}
	free(ticket);
	free(subject);
	json_decref(inc);
	if (rc == -1)
		return -1;
	if (queued)
		log_info("notify: incident %lld: %s notice queued for %d channel%s", (long long)id,
		    stage, queued, queued == 1 ? "" : "s");
	return queued;
}

/* ---- sending ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("notify: curl_global_init failed");
}

static int
progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const volatile int *stop = arg;

	return stop && __atomic_load_n(stop, __ATOMIC_RELAXED) ? 1 : 0;
}

void
notify_curl_setup(CURL *c, const struct config *cfg, const volatile int *stop,
    char errbuf[CURL_ERROR_SIZE])
{
	const struct notify_cfg *nc = &cfg->notify;

	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)nc->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)nc->timeout_ms);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (nc->ca_file[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, nc->ca_file);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, nc->tls_verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, nc->tls_verify ? 2L : 0L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop);
}

/* scheme://host[:port] of url: no user, password, path or query. */
static void
url_server(const char *url, char *buf, size_t bufsz)
{
	const char *p = strstr(url, "://"), *host, *at, *end;

	if (p == NULL) {
		snprintf(buf, bufsz, "the server");
		return;
	}
	host = p + 3;
	end = host + strcspn(host, "/?#");
	if ((at = memchr(host, '@', (size_t)(end - host))) != NULL)
		host = at + 1;
	snprintf(buf, bufsz, "%.*s%.*s", (int)(p + 3 - url), url, (int)(end - host), host);
}

int
notify_curl_error(CURLcode rc, const char *errbuf, const struct config *cfg, const char *url,
    const volatile int *stop, char *err, size_t errlen)
{
	const char *why = errbuf && errbuf[0] ? errbuf : curl_easy_strerror(rc);
	char line[512], server[256], d[32];

	if (rc == CURLE_ABORTED_BY_CALLBACK && stop && __atomic_load_n(stop, __ATOMIC_RELAXED)) {
		snprintf(err, errlen, "interrupted: sharewarden is stopping");
		return NOTIFY_ABORTED;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		/* A server that accepts and then says nothing: named, with the time it was given. */
		url_server(url, server, sizeof server);
		snprintf(line, sizeof line, "%s: no answer within %s (timeout): %s", server,
		    fmt_timeout(cfg->notify.timeout_ms, d), why);
		why = line;
	}
	notify_escape(err, errlen, why, strlen(why));
	return -1;
}

static int64_t
backoff_ms(int attempts)
{
	int64_t d = BACKOFF_FIRST_MS;

	for (int i = 1; i < attempts && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

/* One due message: claimed, tried once, its outcome journaled. 1 sent, 0 not sent, -1 journal error. */
static int
deliver(const struct config *cfg, struct journal *j, struct outbox_msg *m,
    const volatile int *stop)
{
	char err[400] = "", detail[512], when[32];
	int64_t now = now_ms();
	int rc;

	/* Held for longer than one attempt can last, so a second sender leaves it alone. */
	if ((rc = journal_outbox_claim(j, m, now + 2 * cfg->notify.timeout_ms + 10000)) != 0)
		return rc == 1 ? 0 : -1;
	if (strcmp(m->channel, "mail") == 0)
		rc = notify_mail_send(cfg, m, stop, err, sizeof err);
	else if (strcmp(m->channel, "webhook") == 0)
		rc = notify_webhook_send(cfg, m, stop, err, sizeof err);
	else {
		snprintf(err, sizeof err, "unknown channel");
		rc = -1;
	}
	now = now_ms();
	if (rc == NOTIFY_ABORTED) {
		m->next_at = now;
		return journal_outbox_update(j, m, NULL, NULL) == -1 ? -1 : 0;
	}
	m->attempts++;
	if (rc == 0) {
		m->sent_at = now;
		m->last_error[0] = '\0';
		snprintf(m->state, sizeof m->state, "%s", OUTBOX_SENT);
		snprintf(detail, sizeof detail, "%s: sent (attempt %d)", m->stage, m->attempts);
		log_info("notify: incident %lld: %s notice sent by %s", (long long)m->incident_id,
		    m->stage, m->channel);
		return journal_outbox_update(j, m, "ok", detail) == -1 ? -1 : 1;
	}
	snprintf(m->last_error, sizeof m->last_error, "%s", err);
	if (now - m->created_at >= cfg->notify.give_up_ms) {
		snprintf(m->state, sizeof m->state, "%s", OUTBOX_FAILED);
		snprintf(detail, sizeof detail, "%s: gave up after %d attempts: %s", m->stage,
		    m->attempts, err);
		log_warnx("notify: incident %lld: %s notice by %s: gave up after %d attempts: %s",
		    (long long)m->incident_id, m->stage, m->channel, m->attempts, err);
		return journal_outbox_update(j, m, "failed", detail) == -1 ? -1 : 0;
	}
	m->next_at = now + backoff_ms(m->attempts);
	snprintf(detail, sizeof detail, "%s: attempt %d failed, next try %s: %s", m->stage,
	    m->attempts, fmt_time(m->next_at, when), err);
	log_warnx("notify: incident %lld: %s notice by %s: attempt %d failed: %s",
	    (long long)m->incident_id, m->stage, m->channel, m->attempts, err);
	return journal_outbox_update(j, m, "queued", detail) == -1 ? -1 : 0;
}

/* Tries every due message once. Returns how many were sent. */
static int
outbox_run(const struct config *cfg, struct journal *j, const volatile int *stop)
{
	struct outbox_msg *due;
	size_t n, i;
	int sent = 0, rc;

	pthread_once(&curl_once, curl_init);
	if (journal_outbox_due(j, now_ms(), &due, &n) == -1)
		return 0;
	for (i = 0; i < n; i++) {
		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED))
			break;
		if ((rc = deliver(cfg, j, &due[i], stop)) == -1)
			break;
		sent += rc;
	}
	outbox_msg_free(due, n);
	return sent;
}

int
notify_flush(const struct config *cfg, struct journal *j)
{
	return outbox_run(cfg, j, NULL);
}

struct notifier {
	const struct config *cfg;
	struct journal *j;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int kicked;
	int stop;
};

static void *
notifier_main(void *arg)
{
	struct notifier *n = arg;
	struct timespec ts;

	pthread_mutex_lock(&n->mu);
	while (!n->stop) {
		n->kicked = 0;
		pthread_mutex_unlock(&n->mu);
		outbox_run(n->cfg, n->j, &n->stop);
		pthread_mutex_lock(&n->mu);
		if (n->kicked || n->stop)
			continue;
		/* The tick retries what backoff made due again. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&n->cv, &n->mu, &ts);
	}
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

struct notifier *
notifier_start(const struct config *cfg, char *err, size_t errlen)
{
	struct notifier *n = xcalloc(1, sizeof *n);
	pthread_condattr_t ca;
	int rc;

	pthread_once(&curl_once, curl_init);
	n->cfg = cfg;
	if ((n->j = journal_open(cfg->journal, 0, err, errlen)) == NULL) {
		free(n);
		return NULL;
	}
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = thread_start(&n->thread, notifier_main, n);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the notification sender: %s", strerror(rc));
		journal_close(n->j);
		pthread_cond_destroy(&n->cv);
		pthread_mutex_destroy(&n->mu);
		free(n);
		return NULL;
	}
	return n;
}

void
notifier_kick(struct notifier *n)
{
	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	n->kicked = 1;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

void
notifier_stop(struct notifier *n)
{
	if (n == NULL)
		return;
	pthread_mutex_lock(&n->mu);
	__atomic_store_n(&n->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
	pthread_join(n->thread, NULL);
	journal_close(n->j);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	free(n);
}
