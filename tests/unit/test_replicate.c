/* Replication's pure parts: the requests the forced command accepts, targets, rates, and which snapshots go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replicate.h"
#include "snapshot.h"

static int
parse(const char *s, struct repl_req *r)
{
	char err[256];

	return repl_req_parse(s, strlen(s), r, err, sizeof err);
}

static void
test_requests(void **state)
{
	struct repl_req r;
	static const char *const bad[] = {
		"", "list", "list btrfs", "list btrfs ", " list btrfs data", "list  btrfs data", "list btrfs data ",
		"list btrfs ../etc", "list btrfs .hidden", "list btrfs a/b", "list btrfs %2", "list btrfs %zz",
		"list btrfs da%2fta", "list ext4 data", "rm btrfs data", "list btrfs data extra",
		"receive btrfs data @GMT-2026.12.01-10.00.00", "receive btrfs data @GMT-2026.12.01-10.00.00 - x",
		"receive btrfs data @GMT-2026.13.01-10.00.00 -", "receive btrfs data GMT-2026.12.01-10.00.00 -",
		"receive zfs data @GMT-2026.12.01-10.00.00 -", "receive btrfs data @GMT-2026.12.01-10.00.00 ;reboot",
		"receive btrfs data @GMT-2026.12.01-10.00.00 @GMT-2026.12.01-10.00.00",
		"send btrfs data", "send btrfs data /etc/shadow", "list btrfs data\n", "list btrfs data;id",
	};

	(void)state;
	assert_int_equal(parse("list btrfs data", &r), 0);
	assert_int_equal(r.verb, REPL_LIST);
	assert_string_equal(r.kind, "btrfs");
	assert_string_equal(r.share, "data");
	assert_int_equal(parse("receive btrfs Legal%20Docs @GMT-2026.12.01-10.15.00 @GMT-2026.12.01-10.00.00", &r), 0);
	assert_int_equal(r.verb, REPL_RECEIVE);
	assert_string_equal(r.share, "Legal%20Docs");
	assert_string_equal(r.name, "@GMT-2026.12.01-10.15.00");
	assert_string_equal(r.parent, "@GMT-2026.12.01-10.00.00");
	assert_int_equal(parse("receive zfs data GMT-2026.12.01-10.15.00 -", &r), 0);
	assert_string_equal(r.parent, "");
	assert_int_equal(parse("send btrfs data.v2 @GMT-2026.12.01-10.15.00", &r), 0);
	assert_int_equal(r.verb, REPL_SEND);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i], &r) != -1)
			fail_msg("accepted: '%s'", bad[i]);
	}
	/* A NUL inside is refused too (the environment cannot hold one, a harness can). */
	{
		char err[64];

		assert_int_equal(repl_req_parse("list btrfs da\0ta", 16, &r, err, sizeof err), -1);
	}
}

static void
test_tokens(void **state)
{
	char buf[REPL_TOKEN_MAX];
	struct repl_req r;
	char req[512];

	(void)state;
	assert_int_equal(repl_share_token("data", buf, sizeof buf), 0);
	assert_string_equal(buf, "data");
	assert_int_equal(repl_share_token("Legal Docs/../x", buf, sizeof buf), 0);
	assert_string_equal(buf, "Legal%20Docs%2F..%2Fx");
	assert_int_equal(repl_share_token(".hidden", buf, sizeof buf), 0);
	assert_string_equal(buf, "%2Ehidden");
	assert_int_equal(repl_share_token("\xc3\xa9t\xc3\xa9", buf, sizeof buf), 0);
	assert_string_equal(buf, "%C3%A9t%C3%A9");
	assert_int_equal(repl_share_token("", buf, sizeof buf), -1);
	assert_int_equal(repl_share_token("abc", buf, 3), -1);
	/* Every token the sender makes is one the receiver takes. */
	for (int c = 1; c < 256; c++) {
		char name[4] = { (char)c, 'x', (char)c, 0 };

		assert_int_equal(repl_share_token(name, buf, sizeof buf), 0);
		snprintf(req, sizeof req, "list btrfs %s", buf);
		assert_int_equal(parse(req, &r), 0);
	}
	assert_true(repl_sender_ok("site1-srv1"));
	assert_false(repl_sender_ok("../x"));
	assert_false(repl_sender_ok(""));
	assert_false(repl_sender_ok("a.b"));
}

static void
test_targets(void **state)
{
	struct repl_target t;
	char err[256];
	int64_t bps;

	(void)state;
	assert_int_equal(repl_target_parse("replica.example.com", &t, err, sizeof err), 0);
	assert_string_equal(t.user, "root");
	assert_string_equal(t.host, "replica.example.com");
	assert_int_equal(t.port, 22);
	assert_int_equal(repl_target_parse("backup@10.0.0.5:2222", &t, err, sizeof err), 0);
	assert_string_equal(t.user, "backup");
	assert_string_equal(t.host, "10.0.0.5");
	assert_int_equal(t.port, 2222);
	assert_int_equal(repl_target_parse("root@[2001:db8::5]:22", &t, err, sizeof err), 0);
	assert_string_equal(t.host, "2001:db8::5");
	assert_int_equal(repl_target_parse("-oProxyCommand=x", &t, err, sizeof err), -1);
	assert_int_equal(repl_target_parse("root@-oProxyCommand=x", &t, err, sizeof err), -1);
	assert_int_equal(repl_target_parse("root@host;reboot", &t, err, sizeof err), -1);
	assert_int_equal(repl_target_parse("root@host:0", &t, err, sizeof err), -1);
	assert_int_equal(repl_target_parse("root@host:22x", &t, err, sizeof err), -1);
	assert_int_equal(repl_target_parse("@host", &t, err, sizeof err), -1);
	assert_int_equal(repl_target_parse("root@", &t, err, sizeof err), -1);
	assert_int_equal(repl_target_parse("root@[::1", &t, err, sizeof err), -1);
	assert_int_equal(repl_rate_parse("0", &bps), 0);
	assert_int_equal(bps, 0);
	assert_int_equal(repl_rate_parse("10M", &bps), 0);
	assert_int_equal(bps, 10 * 1024 * 1024);
	assert_int_equal(repl_rate_parse("500K", &bps), 0);
	assert_int_equal(bps, 500 * 1024);
	assert_int_equal(repl_rate_parse("1.5GB", &bps), 0);
	assert_int_equal(repl_rate_parse("100", &bps), -1);	/* below 1K: a typo, not a rate */
	assert_int_equal(repl_rate_parse("-1M", &bps), -1);
	assert_int_equal(repl_rate_parse("10X", &bps), -1);
	assert_int_equal(repl_rate_parse("", &bps), -1);
}

/* Snapshots every 15 minutes from 10:00 (name time = taken time). */
static size_t
locals(struct snap_info *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char name[SNAP_NAME_MAX];

		snprintf(name, sizeof name, "@GMT-2026.12.01-%02zu.%02zu.00", 10 + i * 15 / 60, i * 15 % 60);
		snprintf(l[i].name, sizeof l[i].name, "%s", name);
		assert_int_equal(snapshot_parse_name(name, &l[i].taken_ms), 0);
		l[i].precise = 0;
	}
	return n;
}

static void
test_plan(void **state)
{
	struct snap_info l[8];
	char remote[8][SNAP_NAME_MAX];
	struct repl_window w[2];
	struct repl_plan p;
	size_t n = locals(l, 8);
	int64_t now = l[7].taken_ms + 3600000;

	(void)state;
	/* An empty replica: one full send of the newest, nothing else. */
	repl_plan_make(l, n, NULL, 0, NULL, 0, now, 0, &p);
	assert_int_equal(p.nsteps, 1);
	assert_int_equal(p.steps[0].idx, 7);
	assert_int_equal(p.steps[0].parent, -1);
	assert_int_equal(p.base, -1);
	repl_plan_free(&p);

	/* The replica has 10:15: every later one goes, each from the one before. */
	snprintf(remote[0], SNAP_NAME_MAX, "%s", l[0].name);
	snprintf(remote[1], SNAP_NAME_MAX, "%s", l[1].name);
	repl_plan_make(l, n, remote, 2, NULL, 0, now, 0, &p);
	assert_int_equal(p.base, 1);
	assert_int_equal(p.nsteps, 6);
	for (size_t i = 0; i < p.nsteps; i++) {
		assert_int_equal(p.steps[i].idx, 2 + i);
		assert_int_equal(p.steps[i].parent, (int)(1 + i));
	}
	repl_plan_free(&p);

	/* Settle: a snapshot younger than that waits for a later cycle. */
	repl_plan_make(l, n, remote, 2, NULL, 0, l[7].taken_ms + 1000, 120000, &p);
	assert_int_equal(p.nsteps, 5);
	assert_int_equal(p.unsettled, 1);
	repl_plan_free(&p);

	/* An open incident whose first event came at 10:50: 11:00 and later are held, 10:30 and 10:45 go. */
	memset(w, 0, sizeof w);
	w[0].incident_id = 4;
	w[0].from_ms = l[3].taken_ms + 5 * 60000;
	w[0].to_ms = INT64_MAX;
	w[0].open = 1;
	repl_plan_make(l, n, remote, 2, w, 1, now, 0, &p);
	assert_int_equal(p.nsteps, 2);
	assert_int_equal(p.steps[1].idx, 3);
	assert_int_equal(p.held_incident, 4);
	assert_int_equal(p.held, 4);
	repl_plan_free(&p);

	/* The first event in the second the snapshot is named for: it may hold the first files, so it is held. */
	w[0].from_ms = l[3].taken_ms + 500;
	repl_plan_make(l, n, remote, 2, w, 1, now, 0, &p);
	assert_int_equal(p.nsteps, 1);
	assert_int_equal(p.steps[0].idx, 2);
	repl_plan_free(&p);

	/* Restored at 11:20: 11:00 and 11:15 are never sent, 11:30 goes from 10:45 (the last clean one). */
	w[0].from_ms = l[3].taken_ms + 5 * 60000;
	w[0].to_ms = l[5].taken_ms + 5 * 60000;
	w[0].open = 0;
	repl_plan_make(l, n, remote, 2, w, 1, now, 0, &p);
	assert_int_equal(p.held_incident, 0);
	assert_int_equal(p.tainted, 2);
	assert_int_equal(p.nsteps, 4);
	assert_int_equal(p.steps[2].idx, 6);
	assert_int_equal(p.steps[2].parent, 3);
	repl_plan_free(&p);

	/* A snapshot of the window on the replica (sent before anyone knew) is never a parent. */
	snprintf(remote[2], SNAP_NAME_MAX, "%s", l[4].name);
	repl_plan_make(l, n, remote, 3, w, 1, now, 0, &p);
	assert_int_equal(p.base, 1);
	assert_int_equal(p.nsteps, 4);
	repl_plan_free(&p);

	/* An empty replica during an open incident: the newest clean snapshot before it, in full. */
	w[0].to_ms = INT64_MAX;
	w[0].open = 1;
	repl_plan_make(l, n, NULL, 0, w, 1, now, 0, &p);
	assert_int_equal(p.nsteps, 1);
	assert_int_equal(p.steps[0].idx, 3);
	assert_int_equal(p.steps[0].parent, -1);
	assert_int_equal(p.held_incident, 4);
	repl_plan_free(&p);

	/* Two incidents, one restored and one open. */
	w[1] = w[0];
	w[1].incident_id = 9;
	w[0].to_ms = l[5].taken_ms + 5 * 60000;
	w[0].open = 0;
	w[1].from_ms = l[6].taken_ms + 60000;
	repl_plan_make(l, n, remote, 2, w, 2, now, 0, &p);
	assert_int_equal(p.held_incident, 9);
	assert_int_equal(p.nsteps, 3);	/* 10:30, 10:45, 11:30 */
	assert_int_equal(p.steps[2].idx, 6);
	assert_int_equal(p.held, 1);
	repl_plan_free(&p);
	assert_non_null(repl_tainted(w, 2, l[4].taken_ms));
	assert_null(repl_tainted(w, 2, l[3].taken_ms));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
