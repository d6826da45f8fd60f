/* Incident reports: the stable JSON of an incident and the readable text printed for admins. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "incident.h"
#include "journal.h"
#include "log.h"
#include "util.h"

#define PRINT_FILES	20

void
signal_rec_free(struct signal_rec *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		free(s[i].path);
	free(s);
}

void
file_rec_free(struct file_rec *f, size_t n)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(f[i].path);
		free(f[i].path2);
	}
	free(f);
}

void
event_rec_free(struct event_rec *e, size_t n)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(e[i].user);
		free(e[i].ip);
		free(e[i].path);
		free(e[i].path2);
	}
	free(e);
}

void
restore_item_free(struct restore_item *it, size_t n)
{
	size_t i;

	if (it == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(it[i].path);
		free(it[i].src);
		free(it[i].aux);
	}
	free(it);
}

/* The string as valid UTF-8, each invalid byte replaced with U+FFFD. */
static json_t *
json_utf8(const char *s, size_t n, int *replaced)
{
	char *buf = utf8_sanitize(s, n, replaced);
	json_t *v = json_string(buf);

	free(buf);
	if (v == NULL)
		fatalx("cannot build incident JSON: string of %zu bytes", n);
	return v;
}

static void
jset(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) == -1)
		fatalx("cannot build incident JSON: %s", key);
}

static void
jappend(json_t *a, json_t *v)
{
	if (v == NULL || json_array_append_new(a, v) == -1)
		fatalx("cannot build incident JSON: array");
}

static json_t *
jstr(const char *s)
{
	int replaced;

	return json_utf8(s, strlen(s), &replaced);
}

/* Empty means unknown. */
static json_t *
jstr_or_null(const char *s)
{
	return s[0] ? jstr(s) : json_null();
}

static json_t *
jtime(int64_t ms)
{
	char buf[32];

	return ms > 0 ? json_string(fmt_time(ms, buf)) : json_null();
}

static json_t *
jreal(double d)
{
	return isfinite(d) ? json_real(d) : json_null();
}

/* Sets key to the path and, when bytes had to be replaced, key_hex to the raw bytes. */
static void
jset_path(json_t *o, const char *key, const char *path)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(path), i;
	char hkey[32], *h;
	int replaced;

	jset(o, key, json_utf8(path, n, &replaced));
	if (!replaced)
		return;
	h = xmalloc(n * 2 + 1);
	for (i = 0; i < n; i++) {
		h[2 * i] = hex[(unsigned char)path[i] >> 4];
		h[2 * i + 1] = hex[(unsigned char)path[i] & 0xf];
	}
	h[2 * n] = '\0';
	snprintf(hkey, sizeof hkey, "%s_hex", key);
	jset(o, hkey, json_string(h));
	free(h);
}

static json_t *
json_actor(const struct incident *inc)
{
	json_t *a = json_object();

	if (a == NULL)
		fatalx("cannot build incident JSON: actor");
	jset(a, "user", jstr_or_null(inc->user));
	jset(a, "domain", jstr_or_null(inc->domain));
	jset(a, "ip", jstr_or_null(inc->ip));
	jset(a, "mac", jstr_or_null(inc->mac));
	jset(a, "mac_source", jstr_or_null(inc->mac_source));
	jset(a, "host", jstr_or_null(inc->host));
	jset(a, "smbd_pid", inc->smbd_pid > 0 ? json_integer(inc->smbd_pid) : json_null());
	jset(a, "switch", jstr_or_null(inc->sw));
	jset(a, "port", jstr_or_null(inc->port));
	return a;
}

static json_t *
json_signals(const struct signal_rec *s, size_t n)
{
	json_t *arr = json_array(), *o;
	size_t i;

	if (arr == NULL)
		fatalx("cannot build incident JSON: signals");
	for (i = 0; i < n; i++) {
		if ((o = json_object()) == NULL)
			fatalx("cannot build incident JSON: signal");
		jset(o, "kind", jstr(s[i].kind));
		jset_path(o, "path", s[i].path);
		jset(o, "at", jtime(s[i].at));
		jset(o, "weight", jreal(s[i].weight));
		jset(o, "detail", jstr(s[i].detail));
		jappend(arr, o);
	}
	return arr;
}

static json_t *
json_files(const struct file_rec *f, size_t n)
{
	json_t *arr = json_array(), *o;
	size_t i;

	if (arr == NULL)
		fatalx("cannot build incident JSON: files");
	for (i = 0; i < n; i++) {
		if ((o = json_object()) == NULL)
			fatalx("cannot build incident JSON: file");
		jset_path(o, "path", f[i].path);
		if (f[i].path2)
			jset_path(o, "path2", f[i].path2);
		jset(o, "op", jstr(f[i].op));
		jset(o, "at", jtime(f[i].at));
		jappend(arr, o);
	}
	return arr;
}

/* undo_result and undo_detail are null until the action is undone. */
static json_t *
json_actions(const struct action *a, size_t n)
{
	json_t *arr = json_array(), *o;
	size_t i;

	if (arr == NULL)
		fatalx("cannot build incident JSON: actions");
	for (i = 0; i < n; i++) {
		if ((o = json_object()) == NULL)
			fatalx("cannot build incident JSON: action");
		jset(o, "kind", jstr(a[i].kind));
		jset(o, "target", jstr(a[i].target));
		jset(o, "result", jstr(a[i].result));
		jset(o, "at", jtime(a[i].at));
		jset(o, "detail", jstr(a[i].detail));
		jset(o, "undone_at", jtime(a[i].undone_at));
		jset(o, "undo_result", jstr_or_null(a[i].undo_result));
		jset(o, "undo_detail", jstr_or_null(a[i].undo_detail));
		jappend(arr, o);
	}
	return arr;
}

static json_t *
json_notices(const struct notice *no, size_t n)
{
	json_t *arr = json_array(), *o;
	size_t i;

	if (arr == NULL)
		fatalx("cannot build incident JSON: notices");
	for (i = 0; i < n; i++) {
		if ((o = json_object()) == NULL)
			fatalx("cannot build incident JSON: notice");
		jset(o, "kind", jstr(no[i].kind));
		jset(o, "first_at", jtime(no[i].first_at));
		jset(o, "last_at", jtime(no[i].last_at));
		jset(o, "count", json_integer(no[i].count));
		jset(o, "detail", jstr(no[i].detail));
		jappend(arr, o);
	}
	return arr;
}

#define REPORT_NOTICES	100

/* Everything one report needs, read from the journal. */
struct report {
	struct incident inc;
	struct signal_rec *sig;
	size_t nsig;
	struct action *act;
	size_t nact;
	struct notice *notices;		/* the latest first */
	size_t nnotices;
	struct file_rec *files;
	size_t nfiles;
	struct restore_rec rst;
	int has_restore;
};

static void
report_free(struct report *r)
{
	signal_rec_free(r->sig, r->nsig);
	free(r->act);
	free(r->notices);
	file_rec_free(r->files, r->nfiles);
	memset(r, 0, sizeof *r);
}

/* 0 loaded, 1 no such incident, -1 error (logged). */
static int
report_load(struct journal *j, int64_t id, struct report *r)
{
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = journal_incident_get(j, id, &r->inc)) != 0)
		return rc;
	if (journal_signal_list(j, id, &r->sig, &r->nsig) == -1 ||
	    journal_action_list(j, id, &r->act, &r->nact) == -1 ||
	    journal_notice_list(j, id, REPORT_NOTICES, &r->notices, &r->nnotices) == -1 ||
	    journal_files(j, r->inc.user, r->inc.ip, r->inc.first_event_at,
	    &r->files, &r->nfiles) == -1 ||
	    (rc = journal_restore_get(j, id, &r->rst)) == -1) {
		report_free(r);
		return -1;
	}
	r->has_restore = rc == 0;
	return 0;
}

json_t *
incident_json(struct journal *j, int64_t id)
{
	struct report r;
	json_t *o, *restore;

	if (report_load(j, id, &r) != 0)
		return NULL;
	if ((o = json_object()) == NULL || (restore = json_object()) == NULL)
		fatalx("cannot build incident JSON");
	jset(o, "id", json_integer(r.inc.id));
	jset(o, "state", jstr(r.inc.state));
	jset(o, "first_event_at", jtime(r.inc.first_event_at));
	jset(o, "detected_at", jtime(r.inc.detected_at));
	jset(o, "contained_at", jtime(r.inc.contained_at));
	jset(o, "released_at", jtime(r.inc.released_at));
	jset(o, "actor", json_actor(&r.inc));
	jset(o, "score", jreal(r.inc.score));
	jset(o, "monitor", json_boolean(r.inc.monitor));
	/* Another server of the fleet opened it: this one isolated the same actor ("" = here). */
	jset(o, "origin", jstr_or_null(r.inc.origin));
	jset(o, "signals", json_signals(r.sig, r.nsig));
	jset(o, "files", json_files(r.files, r.nfiles));
	jset(o, "actions", json_actions(r.act, r.nact));
	jset(o, "notices", json_notices(r.notices, r.nnotices));
	jset(restore, "state", jstr(r.has_restore ? r.rst.state : RESTORE_NONE));
	jset(restore, "restored", json_integer(r.has_restore ? r.rst.restored : 0));
	jset(restore, "removed", json_integer(r.has_restore ? r.rst.removed : 0));
	jset(restore, "conflicts", json_integer(r.has_restore ? r.rst.conflicts : 0));
	jset(restore, "failed", json_integer(r.has_restore ? r.rst.failed : 0));
	jset(restore, "unrestorable", json_integer(r.has_restore ? r.rst.unrestorable : 0));
	if (r.has_restore) {
		jset(restore, "snapshot", jstr(r.rst.snapshot));
		jset(restore, "snapshot_at", jtime(r.rst.snapshot_at));
		jset(restore, "started_at", jtime(r.rst.started_at));
		jset(restore, "finished_at", jtime(r.rst.finished_at));
		jset(restore, "detail", jstr_or_null(r.rst.detail));
	}
	jset(o, "restore", restore);
	report_free(&r);
	return o;
}

/* Attacker-chosen text for a terminal: see fput_escaped. */
static void
put_safe(FILE *out, const char *s)
{
	fput_escaped(out, s, strlen(s));
}

static const char *
time_or_dash(int64_t ms, char buf[32])
{
	return ms > 0 ? fmt_time(ms, buf) : "-";
}

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Distinct names among the files' paths and rename targets. */
static size_t
count_paths(const struct file_rec *f, size_t n)
{
	char **v = xcalloc(n * 2 + 1, sizeof *v);
	size_t i, m = 0, distinct = 0;

	for (i = 0; i < n; i++) {
		v[m++] = f[i].path;
		if (f[i].path2)
			v[m++] = f[i].path2;
	}
	qsort(v, m, sizeof *v, path_cmp);
	for (i = 0; i < m; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			distinct++;
	free(v);
	return distinct;
}

static void
print_actor(FILE *out, const struct incident *inc)
{
	fputs("  actor       ", out);
	put_safe(out, inc->user[0] ? inc->user : "(unknown user)");
	if (inc->domain[0]) {
		fputs(" (", out);
		put_safe(out, inc->domain);
		fputc(')', out);
	}
	if (inc->ip[0]) {
		fputs(" from ", out);
		put_safe(out, inc->ip);
	}
	if (inc->mac[0]) {
		fputs(" [", out);
		put_safe(out, inc->mac);
		if (inc->mac_source[0]) {
			fputs(" from ", out);
			put_safe(out, inc->mac_source);
		}
		fputc(']', out);
	}
	if (inc->host[0]) {
		fputs(" host ", out);
		put_safe(out, inc->host);
	}
	if (inc->smbd_pid > 0)
		fprintf(out, ", smbd pid %d", inc->smbd_pid);
	fputc('\n', out);
	if (inc->sw[0] || inc->port[0]) {
		fputs("  switch      ", out);
		put_safe(out, inc->sw[0] ? inc->sw : "(unknown)");
		if (inc->port[0]) {
			fputs(" port ", out);
			put_safe(out, inc->port);
		}
		fputc('\n', out);
	}
}

static void
print_report(FILE *out, const struct report *r)
{
	const struct incident *inc = &r->inc;
	char t1[32], t2[32], t3[32];
	size_t i;

	fprintf(out, "incident %lld  ", (long long)inc->id);
	put_safe(out, inc->state);
	fputc('\n', out);
	print_actor(out, inc);
	fprintf(out, "  first event %s   detected %s   contained %s",
	    time_or_dash(inc->first_event_at, t1), time_or_dash(inc->detected_at, t2),
	    time_or_dash(inc->contained_at, t3));
	if (inc->released_at > 0)
		fprintf(out, "   released %s", fmt_time(inc->released_at, t1));
	fputc('\n', out);
	fprintf(out, "  score       %.1f\n", inc->score);
	if (inc->origin[0]) {
		fputs("  origin      ", out);
		put_safe(out, inc->origin);
		fputs(" (opened there; the fleet isolates the actor here too)\n", out);
	}
	if (inc->monitor)
		fputs("  mode        report only (monitor mode or protected account): no action taken\n",
		    out);

	fprintf(out, "  signals     %zu\n", r->nsig);
	for (i = 0; i < r->nsig; i++) {
		const struct signal_rec *s = &r->sig[i];

		fprintf(out, "    %s  ", time_or_dash(s->at, t1));
		put_safe(out, s->kind);
		fprintf(out, "  %.1f  ", s->weight);
		put_safe(out, s->path);
		if (s->detail[0]) {
			fputs("  ", out);
			put_safe(out, s->detail);
		}
		fputc('\n', out);
	}

	fprintf(out, "  actions     %zu\n", r->nact);
	for (i = 0; i < r->nact; i++) {
		const struct action *a = &r->act[i];

		fprintf(out, "    %s  ", time_or_dash(a->at, t1));
		put_safe(out, a->kind);
		fputs("  ", out);
		put_safe(out, a->target[0] ? a->target : "-");
		fputs("  ", out);
		put_safe(out, a->result);
		if (a->detail[0]) {
			fputs("  ", out);
			put_safe(out, a->detail);
		}
		if (a->undone_at > 0) {
			fprintf(out, "; undone %s ", fmt_time(a->undone_at, t2));
			put_safe(out, a->undo_result);
			if (a->undo_detail[0]) {
				fputs("  ", out);
				put_safe(out, a->undo_detail);
			}
		}
		fputc('\n', out);
	}

	if (r->nnotices)
		fprintf(out, "  notices     %zu\n", r->nnotices);
	for (i = r->nnotices; i-- > 0; ) {
		const struct notice *no = &r->notices[i];

		fprintf(out, "    %s  ", time_or_dash(no->first_at, t1));
		put_safe(out, no->kind);
		fprintf(out, "  %lld until %s  ", (long long)no->count, time_or_dash(no->last_at, t2));
		put_safe(out, no->detail);
		fputc('\n', out);
	}

	if (r->has_restore) {
		fprintf(out, "  restore     %s: %lld restored, %lld removed, %lld conflicts, %lld failed, "
		    "%lld unrestorable; snapshot ", r->rst.state, (long long)r->rst.restored,
		    (long long)r->rst.removed, (long long)r->rst.conflicts, (long long)r->rst.failed,
		    (long long)r->rst.unrestorable);
		put_safe(out, r->rst.snapshot[0] ? r->rst.snapshot : "-");
		fputc('\n', out);
	} else if (strcmp(r->inc.state, INC_OPEN) != 0 && !r->inc.monitor)
		fprintf(out, "  restore     not yet: `sharewarden restore %lld --dry-run` shows the plan\n",
		    (long long)r->inc.id);

	fprintf(out, "  files       %zu touched in %zu operations", count_paths(r->files, r->nfiles),
	    r->nfiles);
	if (r->nfiles > PRINT_FILES)
		fprintf(out, " (first %d listed)", PRINT_FILES);
	fputc('\n', out);
	for (i = 0; i < r->nfiles && i < PRINT_FILES; i++) {
		const struct file_rec *f = &r->files[i];

		fprintf(out, "    %s  ", time_or_dash(f->at, t1));
		put_safe(out, f->op);
		fprintf(out, "%*s  ", (int)(strlen(f->op) < 6 ? 6 - strlen(f->op) : 0), "");
		put_safe(out, f->path);
		if (f->path2) {
			fputs(" -> ", out);
			put_safe(out, f->path2);
		}
		fputc('\n', out);
	}
	if (r->nfiles > PRINT_FILES)
		fprintf(out, "    ... and %zu more\n", r->nfiles - PRINT_FILES);
}

int
incident_print(struct journal *j, int64_t id, FILE *out)
{
	struct report r;
	int rc;

	if ((rc = report_load(j, id, &r)) != 0)
		return rc;
	print_report(out, &r);
	report_free(&r);
	if (fflush(out) == EOF || ferror(out)) {
		log_warn("incident %lld: cannot write the report", (long long)id);
		return -1;
	}
	return 0;
}
