/* Unit tests of per-actor detection: which event streams open an incident and which never do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "canary.h"
#include "config.h"
#include "content.h"
#include "detect.h"
#include "rules.h"

static struct config cfg;
static struct rules *rules;

static struct sw_str
S(const char *s)
{
	struct sw_str v = { s, strlen(s) };

	return v;
}

static struct sw_event
ev(const char *user, const char *ip, enum sw_op op, unsigned flags, int64_t at, const char *p, const char *p2)
{
	struct sw_event e;

	memset(&e, 0, sizeof e);
	e.at_ms = at;
	e.op = op;
	e.ok = 1;
	e.flags = flags;
	e.src = SRC_AUDIT;
	e.pid = 100;
	e.user = S(user);
	e.ip = S(ip);
	e.share = S("data");
	e.path = S(p);
	e.path2 = S(p2 ? p2 : "");
	return e;
}

/* The CryptoLocker pattern for one file: overwrite in place, then rename. */
static int
encrypt_file(struct detect *d, const char *user, const char *ip, int64_t at, const char *path, const char *ext)
{
	char to[512];
	struct detect_verdict v;
	struct sw_event e;
	int crossed = 0;

	snprintf(to, sizeof to, "%s%s", path, ext);
	e = ev(user, ip, OP_CREATE, EVF_WRITE | EVF_NEWFILE | EVF_TRUNC, at, path, NULL);
	detect_feed(d, &e, &v);
	crossed |= v.crossed;
	e = ev(user, ip, OP_WRITE, 0, at + 1, path, NULL);
	detect_feed(d, &e, &v);
	crossed |= v.crossed;
	e = ev(user, ip, OP_RENAME, 0, at + 2, path, to);
	detect_feed(d, &e, &v);
	return crossed | v.crossed;
}

static int
setup(void **state)
{
	(void)state;
	config_defaults(&cfg);
	rules = rules_new();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rules_free(rules);
	config_free(&cfg);
	return 0;
}

static void
test_note_opens_incident(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 1000,
	    "/srv/share/Finance/DECRYPT_INSTRUCTIONS.txt", NULL);

	(void)state;
	detect_feed(d, &e, &v);
	assert_non_null(v.actor);
	assert_int_equal(v.nsig, 1);
	assert_string_equal(v.sig[0]->kind, "ransom_note");
	assert_true(v.crossed);
	assert_string_equal(v.actor->user, "alice");
	assert_string_equal(v.actor->ip, "10.0.0.11");
	/* A second write of the same note is not a second signal. */
	e = ev("alice", "10.0.0.11", OP_WRITE, 0, 1001, "/srv/share/Finance/DECRYPT_INSTRUCTIONS.txt", NULL);
	detect_feed(d, &e, &v);
	assert_int_equal(v.nsig, 0);
	detect_free(d);
}

static void
test_weak_note_alone_is_not_enough(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e = ev("bob", "10.0.0.12", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 1000,
	    "/srv/share/docs/README.txt", NULL);

	(void)state;
	detect_feed(d, &e, &v);
	assert_false(v.crossed);
	detect_free(d);
}

static void
test_encrypt_rename_without_note(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	char path[64];
	int crossed_at = -1;

	(void)state;
	/* A random per-victim extension: no name rule knows it; behaviour must. */
	for (int i = 0; i < 10 && crossed_at < 0; i++) {
		snprintf(path, sizeof path, "/srv/share/p/doc%d.docx", i);
		if (encrypt_file(d, "alice", "10.0.0.11", 1000 + i * 10, path, ".x7kq2"))
			crossed_at = i + 1;
	}
	assert_true(crossed_at > 0 && crossed_at <= 5);
	detect_free(d);
}

static void
test_office_saves_stay_quiet(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;
	char tmp1[64], tmp2[64];
	int64_t t = 1000;

	(void)state;
	for (int i = 0; i < 200; i++, t += 10) {
		snprintf(tmp1, sizeof tmp1, "/srv/share/bob/~WRL%04d.tmp", i);
		snprintf(tmp2, sizeof tmp2, "/srv/share/bob/~WRL%04d.tmp", 5000 + i);
		e = ev("bob", "10.0.0.12", OP_CREATE, EVF_WRITE | EVF_NEWFILE, t, tmp1, NULL);
		detect_feed(d, &e, &v);
		assert_false(v.crossed);
		e = ev("bob", "10.0.0.12", OP_WRITE, 0, t + 1, tmp1, NULL);
		detect_feed(d, &e, &v);
		e = ev("bob", "10.0.0.12", OP_RENAME, 0, t + 2, "/srv/share/bob/report.docx", tmp2);
		detect_feed(d, &e, &v);
		assert_int_equal(v.nsig, 0);
		e = ev("bob", "10.0.0.12", OP_RENAME, 0, t + 3, tmp1, "/srv/share/bob/report.docx");
		detect_feed(d, &e, &v);
		assert_int_equal(v.nsig, 0);
		e = ev("bob", "10.0.0.12", OP_UNLINK, 0, t + 4, tmp2, NULL);
		detect_feed(d, &e, &v);
		assert_false(v.crossed);
	}
	/* Renaming photos within one extension is not suspicious either. */
	for (int i = 0; i < 300; i++, t += 5) {
		snprintf(tmp1, sizeof tmp1, "/srv/share/Photos/IMG_%04d.jpg", i);
		snprintf(tmp2, sizeof tmp2, "/srv/share/Photos/Holiday_%04d.jpg", i);
		e = ev("bob", "10.0.0.12", OP_RENAME, 0, t, tmp1, tmp2);
		detect_feed(d, &e, &v);
		assert_int_equal(v.nsig, 0);
	}
	detect_free(d);
}

static void
test_actors_are_separate(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;

	(void)state;
	/* Each actor gets a weak signal; together they would cross, apart they must not. */
	e = ev("alice", "10.0.0.11", OP_RENAME, 0, 1000, "/srv/share/a.docx", "/srv/share/a.docx.locky");
	detect_feed(d, &e, &v);
	assert_false(v.crossed);
	e = ev("bob", "10.0.0.12", OP_RENAME, 0, 1001, "/srv/share/b.docx", "/srv/share/b.docx.locky");
	detect_feed(d, &e, &v);
	assert_false(v.crossed);
	e = ev("alice", "10.0.0.13", OP_RENAME, 0, 1002, "/srv/share/c.docx", "/srv/share/c.docx.locky");
	detect_feed(d, &e, &v);
	assert_false(v.crossed);
	detect_free(d);
}

/* LAB\\alice, alice, alice@lab.test and ALICE from one PC are one actor: their signals add up. */
static void
test_name_forms_are_one_actor(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;
	struct actor *alice;

	(void)state;
	e = ev("LAB\\alice", "10.0.0.11", OP_RENAME, 0, 1000, "/srv/share/a.docx", "/srv/share/a.docx.locky");
	detect_feed(d, &e, &v);
	assert_false(v.crossed);
	alice = v.actor;
	assert_non_null(alice);
	e = ev("alice@lab.test", "10.0.0.11", OP_RENAME, 0, 1001, "/srv/share/b.docx", "/srv/share/b.docx.locky");
	detect_feed(d, &e, &v);
	assert_ptr_equal(v.actor, alice);
	e = ev("lab\\ALICE", "10.0.0.11", OP_RENAME, 0, 1002, "/srv/share/c.docx", "/srv/share/c.docx.locky");
	detect_feed(d, &e, &v);
	assert_ptr_equal(v.actor, alice);
	/* bob from the same PC is someone else. */
	e = ev("bob", "10.0.0.11", OP_RENAME, 0, 1003, "/srv/share/d.docx", "/srv/share/d.docx.locky");
	detect_feed(d, &e, &v);
	assert_ptr_not_equal(v.actor, alice);
	detect_free(d);
}

static void
test_window_expires(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;

	(void)state;
	e = ev("alice", "10.0.0.11", OP_RENAME, 0, 1000, "/srv/share/a.docx", "/srv/share/a.docx.locky");
	detect_feed(d, &e, &v);
	assert_false(v.crossed);
	/* The next one comes long after the window: the first no longer counts. */
	e = ev("alice", "10.0.0.11", OP_RENAME, 0, 1000 + cfg.detect.window_ms + 1, "/srv/share/b.docx",
	    "/srv/share/b.docx.locky");
	detect_feed(d, &e, &v);
	assert_false(v.crossed);
	/* Within the window it adds up. */
	e = ev("alice", "10.0.0.11", OP_RENAME, 0, 1000 + cfg.detect.window_ms + 2, "/srv/share/c.docx",
	    "/srv/share/c.docx.locky");
	detect_feed(d, &e, &v);
	assert_true(v.crossed);
	detect_free(d);
}

static void
test_reset_and_first_event(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;

	(void)state;
	/* Damage starts before the evidence: the first encrypted file precedes the note. */
	e = ev("alice", "10.0.0.11", OP_WRITE, 0, 5000, "/srv/share/a.docx", NULL);
	detect_feed(d, &e, &v);
	e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 5200, "/srv/share/HOW_TO_DECRYPT_FILES.txt", NULL);
	detect_feed(d, &e, &v);
	assert_true(v.crossed);
	assert_int_equal(detect_first_event_at(d, v.actor), 5000);
	v.actor->incident_id = 7;
	/* With an incident open, more signals are reported but do not cross again. */
	e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 5300, "/srv/share/x/HOW_TO_DECRYPT_FILES.txt", NULL);
	detect_feed(d, &e, &v);
	assert_int_equal(v.nsig, 1);
	assert_false(v.crossed);
	detect_actor_reset(v.actor);
	assert_int_equal(v.actor->incident_id, 0);
	assert_true(v.actor->score == 0);
	e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 5400, "/srv/share/y/HOW_TO_DECRYPT_FILES.txt", NULL);
	detect_feed(d, &e, &v);
	assert_true(v.crossed);
	detect_free(d);
}

static void
test_failed_and_unattributed_events_ignored(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 1000,
	    "/srv/share/DECRYPT_INSTRUCTIONS.txt", NULL);

	(void)state;
	e.ok = 0;
	detect_feed(d, &e, &v);
	assert_null(v.actor);
	e.ok = 1;
	e.user = S("");
	detect_feed(d, &e, &v);
	assert_null(v.actor);
	/* Opening an existing note to read it is not creating one. */
	e = ev("alice", "10.0.0.11", OP_CREATE, 0, 1000, "/srv/share/DECRYPT_INSTRUCTIONS.txt", NULL);
	detect_feed(d, &e, &v);
	assert_false(v.crossed);
	detect_free(d);
}

static void
test_ordinary_extension_renames_quiet(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;
	char a[64], b[64];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(a, sizeof a, "/srv/share/Photos/p%03d.jpeg", i);
		snprintf(b, sizeof b, "/srv/share/Photos/p%03d.jpg", i);
		e = ev("bob", "10.0.0.12", OP_RENAME, 0, 1000 + i, a, b);
		detect_feed(d, &e, &v);
		assert_int_equal(v.nsig, 0);
	}
	detect_free(d);
}

static void
test_copy_then_delete(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;

	(void)state;
	e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 1000, "/srv/share/a.docx.lck9", NULL);
	detect_feed(d, &e, &v);
	e = ev("alice", "10.0.0.11", OP_UNLINK, 0, 1010, "/srv/share/a.docx", NULL);
	detect_feed(d, &e, &v);
	assert_int_equal(v.nsig, 1);
	assert_string_equal(v.sig[0]->kind, "copy_delete");
	/* Deleting an unrelated file is not. */
	e = ev("alice", "10.0.0.11", OP_UNLINK, 0, 1020, "/srv/share/b.docx", NULL);
	detect_feed(d, &e, &v);
	assert_int_equal(v.nsig, 0);
	detect_free(d);
}

static void
test_read_then_overwrite(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;

	(void)state;
	e = ev("alice", "10.0.0.11", OP_OPEN, 0, 1000, "/srv/share/q1.xlsx", NULL);
	detect_feed(d, &e, &v);
	e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_TRUNC | EVF_NEWFILE, 1005, "/srv/share/q1.xlsx", NULL);
	detect_feed(d, &e, &v);
	assert_int_equal(v.nsig, 1);
	assert_string_equal(v.sig[0]->kind, "read_overwrite");
	assert_false(v.crossed);
	detect_free(d);
}

/* A photo editor's in-place saves: read, then overwritten, as many as its batch holds (weak, capped at 5). */
static int64_t
edit_photos(struct detect *d, int64_t at, int n)
{
	struct detect_verdict v;
	struct sw_event e;
	char p[96];

	for (int i = 0; i < n; i++, at += 10) {
		snprintf(p, sizeof p, "/srv/share/Photos/Shoot/_MG_%04d.JPG", i);
		e = ev("bob", "10.0.0.12", OP_OPEN, 0, at, p, NULL);
		detect_feed(d, &e, &v);
		e = ev("bob", "10.0.0.12", OP_CREATE, EVF_WRITE | EVF_TRUNC, at + 1, p, NULL);
		detect_feed(d, &e, &v);
		assert_false(v.crossed);
	}
	return at;
}

/*
 * Copies named after an original that then take its place by a rename
 * (KeePass "Passwords.kdbx.tmp", FreeFileSync "NAME.ffs_tmp", "NAME.partial")
 * or that are its conversion ("NAME.docx.pdf" of a PDF printer) are no
 * encrypted copies: with the photo editor's read-then-overwrite in the same
 * minute, the user's work must stay below the incident score.
 */
static void
test_save_transactions_are_no_copies(void **state)
{
	static const char *const copies[] = { ".tmp", ".ffs_tmp", ".partial", ".pdf", ".bak" };
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;
	char orig[96], copy[112];
	int64_t at;

	(void)state;
	at = edit_photos(d, 1000, 20);
	for (int i = 0; i < 40; i++, at += 20) {
		snprintf(orig, sizeof orig, "/srv/share/Backups/Mirror/doc%02d.docx", i);
		snprintf(copy, sizeof copy, "%s%s", orig, copies[i % nitems(copies)]);
		e = ev("bob", "10.0.0.12", OP_CREATE, EVF_WRITE | EVF_NEWFILE | EVF_TRUNC, at, copy, NULL);
		detect_feed(d, &e, &v);
		assert_false(v.crossed);
		e = ev("bob", "10.0.0.12", OP_UNLINK, 0, at + 1, orig, NULL);
		detect_feed(d, &e, &v);
		assert_int_equal(v.nsig, 0);
		assert_false(v.crossed);
		if (strcmp(copies[i % nitems(copies)], ".pdf") != 0) {
			e = ev("bob", "10.0.0.12", OP_RENAME, 0, at + 2, copy, orig);
			detect_feed(d, &e, &v);
			assert_false(v.crossed);
		}
	}
	assert_true(v.actor->score < cfg.detect.incident_score);
	/* ransomware's own extension still makes a copy that replaces the original */
	e = ev("bob", "10.0.0.12", OP_CREATE, EVF_WRITE | EVF_NEWFILE, at, "/srv/share/a.docx.lck9", NULL);
	detect_feed(d, &e, &v);
	e = ev("bob", "10.0.0.12", OP_UNLINK, 0, at + 1, "/srv/share/a.docx", NULL);
	detect_feed(d, &e, &v);
	assert_int_equal(v.nsig, 1);
	assert_string_equal(v.sig[0]->kind, "copy_delete");
	detect_free(d);
}

/*
 * git receives a pack as tmp_pack_XXXXXX and renames it to pack-SHA.pack
 * (then tmp_idx_ to .idx): written, then renamed to a new extension, but a
 * temporary file reaching its name, not a damaged file renamed.
 */
static void
test_git_pack_renames_quiet(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;
	char tmp[128], pack[160];
	int64_t at;

	(void)state;
	at = edit_photos(d, 1000, 20);
	for (int i = 0; i < 8; i++, at += 50) {
		snprintf(tmp, sizeof tmp, "/srv/share/bob/repo%d/.git/objects/pack/tmp_pack_a%05d", i, i);
		snprintf(pack, sizeof pack, "/srv/share/bob/repo%d/.git/objects/pack/pack-%040d.pack", i, i);
		e = ev("bob", "10.0.0.12", OP_CREATE, EVF_WRITE | EVF_NEWFILE, at, tmp, NULL);
		detect_feed(d, &e, &v);
		e = ev("bob", "10.0.0.12", OP_WRITE, 0, at + 1, tmp, NULL);
		detect_feed(d, &e, &v);
		e = ev("bob", "10.0.0.12", OP_RENAME, 0, at + 2, tmp, pack);
		detect_feed(d, &e, &v);
		assert_int_equal(v.nsig, 0);
	}
	assert_true(v.actor->score < cfg.detect.incident_score);
	/* a written document renamed to a new extension still counts */
	e = ev("bob", "10.0.0.12", OP_WRITE, 0, at, "/srv/share/bob/q.docx", NULL);
	detect_feed(d, &e, &v);
	e = ev("bob", "10.0.0.12", OP_RENAME, 0, at + 1, "/srv/share/bob/q.docx", "/srv/share/bob/q.docx.x7kq2");
	detect_feed(d, &e, &v);
	assert_int_equal(v.nsig, 1);
	assert_string_equal(v.sig[0]->kind, "overwrite_rename");
	detect_free(d);
}

static void
test_weak_kind_never_alone(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;
	char p[64];

	(void)state;
	/* A build or an editor reads and rewrites many files: weak, capped, never an incident alone. */
	for (int i = 0; i < 200; i++) {
		snprintf(p, sizeof p, "/srv/share/build/f%d.o", i);
		e = ev("bob", "10.0.0.12", OP_OPEN, 0, 1000 + i * 3, p, NULL);
		detect_feed(d, &e, &v);
		e = ev("bob", "10.0.0.12", OP_CREATE, EVF_WRITE | EVF_TRUNC, 1001 + i * 3, p, NULL);
		detect_feed(d, &e, &v);
		assert_false(v.crossed);
		e = ev("bob", "10.0.0.12", OP_UNLINK, 0, 1002 + i * 3, p, NULL);
		detect_feed(d, &e, &v);
		assert_false(v.crossed);
	}
	assert_true(v.actor->score < cfg.detect.incident_score);
	detect_free(d);
}

static void
test_content_verdicts(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;
	char p[64];
	int crossed = 0;

	(void)state;
	/* Random bytes in object files are what object files hold. */
	e = ev("bob", "10.0.0.12", OP_CLOSE, 0, 1000, "/srv/share/build/x.o", NULL);
	detect_content(d, &e, CV_CIPHERTEXT, "random", &v);
	assert_int_equal(v.nsig, 0);
	/* Broken formats add up, even minutes apart (the slow window). */
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "/srv/share/f%d.docx", i);
		e = ev("alice", "10.0.0.11", OP_CLOSE, 0, 1000 + i * 120000, p, NULL);
		detect_content(d, &e, CV_FORMAT_BROKEN, "docx is not a zip", &v);
		assert_int_equal(v.nsig, 1);
		crossed |= v.crossed;
		if (i < 2)
			assert_false(v.crossed);
	}
	assert_true(crossed);
	/* The same file twice is one signal. */
	detect_content(d, &e, CV_FORMAT_BROKEN, "docx is not a zip", &v);
	assert_int_equal(v.nsig, 0);
	detect_free(d);
}

static void
test_allowlist(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;
	struct config c;
	char *users[] = { "backup" }, *paths[] = { "/srv/share/scratch" };

	(void)state;
	memset(&c, 0, sizeof c);
	c.allow_users = users;
	c.n_allow_users = 1;
	c.allow_paths = paths;
	c.n_allow_paths = 1;
	detect_set_allow(d, &c);
	e = ev("BACKUP", "10.0.0.5", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 1000, "/srv/share/DECRYPT_INSTRUCTIONS.txt", NULL);
	detect_feed(d, &e, &v);
	assert_null(v.actor);
	e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 1000, "/srv/share/scratch/DECRYPT_INSTRUCTIONS.txt", NULL);
	detect_feed(d, &e, &v);
	assert_null(v.actor);
	/* A prefix of a name is not its folder. */
	e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 1000, "/srv/share/scratchpad/DECRYPT_INSTRUCTIONS.txt", NULL);
	detect_feed(d, &e, &v);
	assert_true(v.crossed);
	detect_free(d);
}

static size_t
actor_count(struct detect *d)
{
	size_t n;
	uint64_t evicted;

	detect_stats(d, &n, &evicted);
	return n;
}

static uint64_t
evicted_count(struct detect *d)
{
	size_t n;
	uint64_t evicted;

	detect_stats(d, &n, &evicted);
	return evicted;
}

/* A user of its own from an address of its own saving one document: a storm of clients. */
static void
storm_actor(struct detect *d, int i, int64_t at)
{
	char user[32], ip[32], path[64];
	struct detect_verdict v;
	struct sw_event e;

	snprintf(user, sizeof user, "storm%05d", i);
	snprintf(ip, sizeof ip, "10.200.%d.%d", i / 250, i % 250 + 1);
	snprintf(path, sizeof path, "/srv/share/%s/report.docx", user);
	e = ev(user, ip, OP_OPEN, 0, at, path, NULL);
	detect_feed(d, &e, &v);
	e = ev(user, ip, OP_CREATE, EVF_WRITE | EVF_TRUNC, at, path, NULL);
	detect_feed(d, &e, &v);
	e = ev(user, ip, OP_WRITE, 0, at, path, NULL);
	detect_feed(d, &e, &v);
	assert_false(v.crossed);
}

/*
 * Memory stays bounded in a storm of distinct users and addresses: the least
 * recently active actors are forgotten down to the cap, the newest kept in
 * order; an actor with an incident, or one whose score reached the incident
 * score and waits for it, is never forgotten however long ago it was active.
 */
static void
test_actor_table_bounded(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;
	struct actor *a, *alice = NULL, *carol = NULL;
	size_t n;

	(void)state;
	e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 1000,
	    "/srv/share/Finance/DECRYPT_INSTRUCTIONS.txt", NULL);
	detect_feed(d, &e, &v);
	assert_true(v.crossed);
	alice = v.actor;
	e = ev("carol", "10.0.0.13", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 1000,
	    "/srv/share/HR/HOW_TO_DECRYPT.txt", NULL);
	detect_feed(d, &e, &v);
	carol = v.actor;
	carol->incident_id = 7;
	for (int i = 0; i < 5000; i++)
		storm_actor(d, i, 2000 + i);
	assert_int_equal(actor_count(d), 5002);
	/* Under the cap with nothing idle: nothing goes. */
	assert_int_equal(detect_trim(d, 6000, 0), 0);
	n = detect_trim(d, 1000, 0);
	assert_int_equal(n, 4002);
	assert_int_equal(actor_count(d), 1000);
	assert_int_equal(evicted_count(d), 4002);
	/* The newest 998 storm actors in order, then the two kept. */
	a = detect_actors(d);
	assert_string_equal(a->user, "storm04999");
	for (int i = 0; i < 998; i++, a = a->next) {
		char want[32];

		snprintf(want, sizeof want, "storm%05d", 4999 - i);
		assert_non_null(a);
		assert_string_equal(a->user, want);
	}
	assert_ptr_equal(a, carol);
	assert_ptr_equal(a->next, alice);
	assert_null(alice->next);
	/* A forgotten actor comes back as a new one, from a clean slate. */
	storm_actor(d, 0, 9000);
	assert_int_equal(actor_count(d), 1001);
	assert_string_equal(detect_actors(d)->user, "storm00000");
	assert_int_equal(detect_actors(d)->first_mut_at, 9000);
	/* The kept attacker is still the same actor, with its evidence: its next signal adds to it. */
	e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 9001,
	    "/srv/share/HR/DECRYPT_INSTRUCTIONS.txt", NULL);
	detect_feed(d, &e, &v);
	assert_ptr_equal(v.actor, alice);
	assert_int_equal(alice->nsig, 2);
	assert_true(alice->score >= 20);
	detect_free(d);
}

/*
 * The rings grow on demand and then wrap like fixed ones: after 1,000 writes
 * the most recent 256 are remembered (a rename of one is overwrite-then-rename)
 * and the first ones are not.
 */
static void
test_rings_grow_and_wrap(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;
	char path[64], to[80];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(path, sizeof path, "/srv/share/w/%04d.docx", i);
		e = ev("alice", "10.0.0.11", OP_WRITE, 0, 1000 + i, path, NULL);
		detect_feed(d, &e, &v);
	}
	e = ev("alice", "10.0.0.11", OP_RENAME, 0, 3000, "/srv/share/w/0000.docx", "/srv/share/w/0000.docx.qwx");
	detect_feed(d, &e, &v);
	assert_int_equal(v.nsig, 0);
	for (int i = 999; i > 999 - 4; i--) {
		snprintf(path, sizeof path, "/srv/share/w/%04d.docx", i);
		snprintf(to, sizeof to, "%s.qwx", path);
		e = ev("alice", "10.0.0.11", OP_RENAME, 0, 3001, path, to);
		detect_feed(d, &e, &v);
		assert_true(v.nsig >= 1);
		assert_string_equal(v.sig[0]->kind, "overwrite_rename");
	}
	detect_free(d);
}

/* Actors idle for longer than the caller's limit are forgotten even below the cap. */
static void
test_idle_actors_forgotten(void **state)
{
	struct detect *d = detect_new(&cfg.detect, rules);
	struct detect_verdict v;
	struct sw_event e;

	(void)state;
	for (int i = 0; i < 300; i++)
		storm_actor(d, i, 1000 + i);
	e = ev("alice", "10.0.0.11", OP_CREATE, EVF_WRITE | EVF_NEWFILE, 1100,
	    "/srv/share/Finance/DECRYPT_INSTRUCTIONS.txt", NULL);
	detect_feed(d, &e, &v);
	v.actor->incident_id = 3;
	/* Active again later: storm 0..9 are the recent ones. */
	for (int i = 0; i < 10; i++)
		storm_actor(d, i, 5000 + i);
	assert_int_equal(actor_count(d), 301);
	assert_int_equal(detect_trim(d, 10000, 4000), 290);
	assert_int_equal(actor_count(d), 11);
	for (struct actor *a = detect_actors(d); a; a = a->next)
		assert_true(a->last_at >= 4000 || a->incident_id != 0);
	detect_free(d);
}

/*
 * Kernel events beside full_audit: a canary the kernel reports touched is a
 * signal at once (a burst of audit lines may still hold the audit line), the
 * audit line of the same touch adds nothing, and the kernel's other events
 * (an ordinary file, metadata) score nothing here.
 */
static void
test_kernel_canary(void **state)
{
	char dir[] = "/tmp/test_detect.XXXXXX", reg[128], journal[128];
	const char *canary = "/srv/share/Finance/!0000 Budget.xlsx";
	struct detect *d = detect_new(&cfg.detect, rules);
	struct canary_set *cs;
	struct detect_verdict v;
	struct config c2;
	struct sw_event e;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(reg, sizeof reg, "%s/canaries.list", dir);
	snprintf(journal, sizeof journal, "%s/journal.db", dir);
	fp = fopen(reg, "w");
	assert_non_null(fp);
	fprintf(fp, "data\t%064d\t%s\n", 0, canary);
	fclose(fp);
	memset(&c2, 0, sizeof c2);
	c2.journal = journal;
	c2.canaries = 1;
	cs = canary_set_load(&c2);
	assert_non_null(cs);
	detect_set_canaries(d, cs);

	e = ev("bob", "10.0.0.12", OP_WRITE, 0, 1000, "/srv/share/Finance/report.xlsx", NULL);
	e.src = SRC_FANOTIFY;
	detect_canary(d, &e, &v);
	assert_null(v.actor);
	e = ev("bob", "10.0.0.12", OP_ATTR, 0, 1000, canary, NULL);
	e.src = SRC_FANOTIFY;
	detect_canary(d, &e, &v);
	assert_int_equal(v.nsig, 0);
	e = ev("bob", "10.0.0.12", OP_WRITE, 0, 1001, canary, NULL);
	e.src = SRC_FANOTIFY;
	detect_canary(d, &e, &v);
	assert_non_null(v.actor);
	assert_int_equal(v.nsig, 1);
	assert_string_equal(v.sig[0]->kind, "canary");
	assert_true(v.crossed);
	/* The audit line of that write, read later, is the same touch. */
	e = ev("bob", "10.0.0.12", OP_WRITE, 0, 1001, canary, NULL);
	detect_feed(d, &e, &v);
	assert_int_equal(v.nsig, 0);
	detect_free(d);
	canary_set_free(cs);
	assert_int_equal(unlink(reg), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_note_opens_incident),
		cmocka_unit_test(test_weak_note_alone_is_not_enough),
		cmocka_unit_test(test_encrypt_rename_without_note),
		cmocka_unit_test(test_office_saves_stay_quiet),
		cmocka_unit_test(test_actors_are_separate),
		cmocka_unit_test(test_name_forms_are_one_actor),
		cmocka_unit_test(test_window_expires),
		cmocka_unit_test(test_reset_and_first_event),
		cmocka_unit_test(test_failed_and_unattributed_events_ignored),
		cmocka_unit_test(test_ordinary_extension_renames_quiet),
		cmocka_unit_test(test_copy_then_delete),
		cmocka_unit_test(test_read_then_overwrite),
		cmocka_unit_test(test_save_transactions_are_no_copies),
		cmocka_unit_test(test_git_pack_renames_quiet),
		cmocka_unit_test(test_content_verdicts),
		cmocka_unit_test(test_weak_kind_never_alone),
		cmocka_unit_test(test_allowlist),
		cmocka_unit_test(test_actor_table_bounded),
		cmocka_unit_test(test_idle_actors_forgotten),
		cmocka_unit_test(test_rings_grow_and_wrap),
		cmocka_unit_test(test_kernel_canary),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
