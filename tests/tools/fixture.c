/* Test fixture: creates incidents and events in a journal, and reads a restore's progress back. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "incident.h"
#include "journal.h"
#include "util.h"

#define NFIELDS 8

static int
usage(void)
{
	fprintf(stderr,
	    "usage: sw-fixture JOURNAL incident USER IP FIRST_EVENT_MS DETECTED_MS STATE\n"
	    "       sw-fixture JOURNAL events < RECORDS   (8 NUL-ended fields each: at_ms, op, flags, user,\n"
	    "                                              ip, share, path, path2)\n"
	    "       sw-fixture JOURNAL restore-state ID    (prints: STATE done=N pending=N failed=N skipped=N)\n");
	return 2;
}

static int
parse_i64(const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' ? 0 : -1;
}

static int
parse_op(const char *s, enum sw_op *op)
{
	for (int i = OP_NONE + 1; i < OP__COUNT; i++)
		if (strcmp(op_name((enum sw_op)i), s) == 0) {
			*op = (enum sw_op)i;
			return 0;
		}
	return -1;
}

static int
cmd_incident(struct journal *j, char **argv)
{
	struct incident inc;

	memset(&inc, 0, sizeof(inc));
	if (parse_i64(argv[2], &inc.first_event_at) == -1 || parse_i64(argv[3], &inc.detected_at) == -1) {
		fprintf(stderr, "sw-fixture: FIRST_EVENT_MS and DETECTED_MS must be integers (ms since the epoch)\n");
		return 2;
	}
	if (strcmp(argv[4], INC_OPEN) != 0 && strcmp(argv[4], INC_CONTAINED) != 0 &&
	    strcmp(argv[4], INC_RESTORED) != 0 && strcmp(argv[4], INC_RELEASED) != 0) {
		fprintf(stderr, "sw-fixture: STATE must be open, contained, restored or released\n");
		return 2;
	}
	snprintf(inc.user, sizeof(inc.user), "%s", argv[0]);
	snprintf(inc.ip, sizeof(inc.ip), "%s", argv[1]);
	snprintf(inc.state, sizeof(inc.state), "%s", argv[4]);
	if (strcmp(argv[4], INC_OPEN) != 0)
		inc.contained_at = inc.detected_at;
	inc.score = 100;
	if (journal_incident_add(j, &inc) == -1) {
		fprintf(stderr, "sw-fixture: cannot add the incident\n");
		return 1;
	}
	printf("%" PRId64 "\n", inc.id);
	return 0;
}

static int
cmd_events(struct journal *j)
{
	char *buf = NULL, *f[NFIELDS], *p, *end;
	size_t len = 0, cap = 0, added = 0, rec = 0;
	size_t r;

	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = xrealloc(buf, cap);
		}
		r = fread(buf + len, 1, cap - len, stdin);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(stdin)) {
		fprintf(stderr, "sw-fixture: cannot read the records\n");
		return 2;
	}
	if (len > 0 && buf[len - 1] != '\0') {
		fprintf(stderr, "sw-fixture: the input does not end with a NUL byte (a cut record)\n");
		return 2;
	}
	if (journal_begin(j) == -1)
		return 1;
	for (p = buf, end = buf + len; p < end; rec++) {
		struct sw_event ev;
		int64_t at, flags;

		for (int i = 0; i < NFIELDS; i++) {
			if (p >= end) {
				fprintf(stderr, "sw-fixture: record %zu has %d fields, not %d\n", rec + 1, i, NFIELDS);
				goto bad;
			}
			f[i] = p;
			p += strlen(p) + 1;
		}
		memset(&ev, 0, sizeof(ev));
		if (parse_i64(f[0], &at) == -1 || at < 0) {
			fprintf(stderr, "sw-fixture: record %zu: bad time '%s'\n", rec + 1, f[0]);
			goto bad;
		}
		if (parse_op(f[1], &ev.op) == -1) {
			fprintf(stderr, "sw-fixture: record %zu: unknown op (create, write, rename, unlink, mkdir ...)\n",
			    rec + 1);
			goto bad;
		}
		if (parse_i64(f[2], &flags) == -1 || flags < 0 || flags > 0xffff) {
			fprintf(stderr, "sw-fixture: record %zu: bad flags '%s'\n", rec + 1, f[2]);
			goto bad;
		}
		if (f[6][0] != '/') {
			fprintf(stderr, "sw-fixture: record %zu: the path must be absolute\n", rec + 1);
			goto bad;
		}
		if (ev.op == OP_RENAME && f[7][0] != '/') {
			fprintf(stderr, "sw-fixture: record %zu: a rename needs an absolute path2\n", rec + 1);
			goto bad;
		}
		ev.at_ms = at;
		ev.ok = 1;
		ev.flags = (unsigned)flags;
		ev.src = SRC_AUDIT;
		ev.user = (struct sw_str){ f[3], strlen(f[3]) };
		ev.ip = (struct sw_str){ f[4], strlen(f[4]) };
		ev.host = (struct sw_str){ "", 0 };
		ev.share = (struct sw_str){ f[5], strlen(f[5]) };
		ev.path = (struct sw_str){ f[6], strlen(f[6]) };
		ev.path2 = (struct sw_str){ f[7], strlen(f[7]) };
		if (journal_add_event(j, &ev) == -1) {
			fprintf(stderr, "sw-fixture: record %zu: cannot add it to the journal\n", rec + 1);
			journal_commit(j);
			free(buf);
			return 1;
		}
		added++;
	}
	if (journal_commit(j) == -1) {
		free(buf);
		return 1;
	}
	free(buf);
	printf("%zu\n", added);
	return 0;
bad:
	free(buf);
	return 2;
}

static int
cmd_restore_state(struct journal *j, const char *ids)
{
	struct restore_rec rr;
	struct restore_item *it;
	size_t n, done = 0, pending = 0, failed = 0, skipped = 0;
	int64_t id;
	int rc;

	if (parse_i64(ids, &id) == -1)
		return usage();
	memset(&rr, 0, sizeof(rr));
	if ((rc = journal_restore_get(j, id, &rr)) == -1 || journal_restore_items(j, id, &it, &n) == -1)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(it[i].state, "done") == 0)
			done++;
		else if (strcmp(it[i].state, "failed") == 0)
			failed++;
		else if (strcmp(it[i].state, "skipped") == 0)
			skipped++;
		else
			pending++;
	}
	restore_item_free(it, n);
	printf("%s done=%zu pending=%zu failed=%zu skipped=%zu\n", rc == 0 ? rr.state : "none", done, pending,
	    failed, skipped);
	return 0;
}

int
main(int argc, char **argv)
{
	struct journal *j;
	char err[256];
	int rc;

	if (argc < 3)
		return usage();
	if (strcmp(argv[2], "incident") == 0 && argc != 8)
		return usage();
	if (strcmp(argv[2], "events") == 0 && argc != 3)
		return usage();
	if (strcmp(argv[2], "restore-state") == 0 && argc != 4)
		return usage();
	if (strcmp(argv[2], "incident") != 0 && strcmp(argv[2], "events") != 0 && strcmp(argv[2], "restore-state") != 0)
		return usage();
	if ((j = journal_open(argv[1], strcmp(argv[2], "restore-state") == 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "sw-fixture: %s\n", err);
		return 1;
	}
	if (strcmp(argv[2], "incident") == 0)
		rc = cmd_incident(j, argv + 3);
	else if (strcmp(argv[2], "events") == 0)
		rc = cmd_events(j);
	else
		rc = cmd_restore_state(j, argv[3]);
	journal_close(j);
	return rc;
}
