/* Unit tests of the journal and the incident report, against real SQLite files in a temporary directory. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
/* Only to inspect the files the journal writes, from outside the journal. */
#include <sqlite3.h>

#include "event.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "util.h"

static char tmpdir[] = "/tmp/sw-journal-test-XXXXXX";

/* Every non-NUL byte once, then some invalid UTF-8 and format directives. */
static char binary_name[300];

static const char *hostile[] = {
	"plain",
	"\xff\xfe not utf-8",
	"\xc3\x28 bad continuation",
	"\xed\xa0\x80 surrogate",
	"\xe2\x82 truncated",
	"quotes ' \" ` and \\ backslash",
	"%s%n%x%%",
	"line1\nline2\r\nline3",
	"'); DROP TABLE incidents; --",
	"a|b|c|",
	"\x1b[31mred\x1b[0m",
};

static const char *
tpath(const char *name)
{
	static char buf[8][512];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
	return buf[k];
}

static struct journal *
open_ok(const char *path, int readonly)
{
	char err[512] = "";
	struct journal *j = journal_open(path, readonly, err, sizeof err);

	if (j == NULL)
		fail_msg("journal_open %s: %s", path, err);
	return j;
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup_all(void **state)
{
	size_t i;

	(void)state;
	umask(022);
	log_init(1, LOG_LVL_WARN);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	for (i = 0; i < 255; i++)
		binary_name[i] = (char)(i + 1);
	binary_name[255] = '\0';
	return 0;
}

static int
teardown_all(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* First column of the first row of sql on a separate connection, or -1. */
static int64_t
raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static char *
raw_text(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *v = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
make_incident(struct incident *inc, const char *user, const char *ip, int64_t first)
{
	memset(inc, 0, sizeof *inc);
	snprintf(inc->state, sizeof inc->state, "%s", INC_OPEN);
	inc->first_event_at = first;
	inc->detected_at = first + 1500;
	snprintf(inc->user, sizeof inc->user, "%s", user);
	snprintf(inc->domain, sizeof inc->domain, "LAB");
	snprintf(inc->ip, sizeof inc->ip, "%s", ip);
	snprintf(inc->mac, sizeof inc->mac, "02:00:00:00:01:01");
	snprintf(inc->host, sizeof inc->host, "CLIENT1");
	snprintf(inc->sw, sizeof inc->sw, "switch1");
	snprintf(inc->port, sizeof inc->port, "ge-0/0/7");
	inc->smbd_pid = 4242;
	inc->score = 25.5;
}

static struct sw_str
view(const char *s)
{
	struct sw_str v = { s, s ? strlen(s) : 0 };

	return v;
}

static void
add_event(struct journal *j, const char *user, const char *ip, int64_t at, enum sw_op op,
    int ok, const char *path, const char *path2)
{
	struct sw_event ev;

	memset(&ev, 0, sizeof ev);
	ev.at_ms = at;
	ev.op = op;
	ev.ok = ok;
	ev.src = SRC_AUDIT;
	ev.pid = 4242;
	ev.user = view(user);
	ev.ip = view(ip);
	ev.host = view("CLIENT1");
	ev.share = view("data");
	ev.path = view(path);
	ev.path2 = view(path2);
	assert_int_equal(journal_add_event(j, &ev), 0);
}

static void
test_create_reopen_schema(void **state)
{
	const char *dir = tpath("state/sub"), *path = tpath("state/sub/journal.db");
	char walpath[600], err[512];
	struct journal *j;
	struct stat sb;
	char *s;

	(void)state;
	j = open_ok(path, 0);
	assert_int_equal(stat(dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0750);
	assert_int_equal(stat(tpath("state"), &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0750);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	snprintf(walpath, sizeof walpath, "%s-wal", path);
	assert_int_equal(stat(walpath, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	journal_close(j);

	j = open_ok(path, 0);
	journal_close(j);
	j = open_ok(path, 1);
	journal_close(j);

	s = raw_text(path, "PRAGMA journal_mode");
	assert_string_equal(s, "wal");
	free(s);
	assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 7);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('events') ORDER BY cid)");
	assert_string_equal(s, "id,at,src,op,ok,flags,pid,user,ip,host,share,path,path2");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('incidents') ORDER BY cid)");
	assert_string_equal(s, "id,state,first_event_at,detected_at,contained_at,released_at,"
	    "user,domain,ip,mac,host,switch,port,smbd_pid,score,monitor,mac_source,origin");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('outbox') ORDER BY cid)");
	assert_string_equal(s, "id,incident_id,action_id,channel,target,stage,subject,body,"
	    "content_type,attempts,next_at,created_at,sent_at,last_error,state");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_index_info('outbox_due') ORDER BY seqno)");
	assert_string_equal(s, "state,next_at");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('signals') ORDER BY cid)");
	assert_string_equal(s, "id,incident_id,kind,path,at,weight,detail");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('actions') ORDER BY cid)");
	assert_string_equal(s, "id,incident_id,kind,target,result,at,detail,undone_at,"
	    "undo_result,undo_detail,state");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('stats') ORDER BY cid)");
	assert_string_equal(s, "key,value");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_index_info('events_actor') ORDER BY seqno)");
	assert_string_equal(s, "user,ip,at");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM pragma_index_info('events_at')");
	assert_string_equal(s, "at");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('snapshots') ORDER BY cid)");
	assert_string_equal(s, "id,share,name,taken_at,reason,incident_id,removed_at");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('restores') ORDER BY cid)");
	assert_string_equal(s, "incident_id,state,share,snapshot,snapshot_at,started_at,"
	    "finished_at,restored,removed,conflicts,failed,unrestorable,detail");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('restore_items') ORDER BY cid)");
	assert_string_equal(s, "id,incident_id,seq,kind,path,src,aux,size,mtime_ns,state,detail");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_index_info('restore_items_incident') ORDER BY seqno)");
	assert_string_equal(s, "incident_id,seq");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('replication') ORDER BY cid)");
	assert_string_equal(s, "id,share,snapshot,taken_at,parent,target,sent_at,bytes,ms");
	free(s);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('replication_state') ORDER BY cid)");
	assert_string_equal(s, "share,checked_at,replica_newest,held,last_error,last_error_at");
	free(s);

	/* A journal written by a newer sharewarden is refused, read-write and read-only. */
	raw_exec(path, "UPDATE meta SET value = 8 WHERE key = 'schema_version'");
	assert_null(journal_open(path, 0, err, sizeof err));
	assert_non_null(strstr(err, "schema version 8, newer than"));
	assert_null(journal_open(path, 1, err, sizeof err));
	assert_non_null(strstr(err, "schema version 8, newer than"));
	raw_exec(path, "UPDATE meta SET value = 7 WHERE key = 'schema_version'");
	journal_close(open_ok(path, 0));

	/* Someone else's database is left alone. */
	raw_exec(tpath("other.db"), "CREATE TABLE x (y)");
	assert_null(journal_open(tpath("other.db"), 0, err, sizeof err));
	assert_non_null(strstr(err, "is not a sharewarden journal"));
	assert_int_equal(raw_int(tpath("other.db"),
	    "SELECT count(*) FROM sqlite_master WHERE name = 'events'"), 0);

	{
		FILE *f = fopen(tpath("garbage.db"), "w");

		assert_non_null(f);
		for (int i = 0; i < 200; i++)
			fputs("this is not an SQLite database\n", f);
		fclose(f);
	}
	assert_null(journal_open(tpath("garbage.db"), 0, err, sizeof err));
	assert_non_null(strstr(err, "not a database"));
}

static void
test_readonly_missing(void **state)
{
	const char *path = tpath("nothing/journal.db");
	char err[512], want[600];
	struct stat sb;

	(void)state;
	assert_null(journal_open(path, 1, err, sizeof err));
	snprintf(want, sizeof want, "no journal at %s (has the daemon run yet?)", path);
	assert_string_equal(err, want);
	assert_int_equal(stat(tpath("nothing"), &sb), -1);
}

static void
test_incidents(void **state)
{
	struct journal *j = open_ok(tpath("incidents.db"), 0), *ro;
	struct incident a, b, c, got, *list;
	size_t n;

	(void)state;
	make_incident(&a, "alice", "10.77.0.11", 1000);
	make_incident(&b, "bob", "10.77.0.12", 2000);
	make_incident(&c, "carol", "fe80::1", 3000);
	snprintf(b.mac_source, sizeof b.mac_source, "dhcp /var/lib/misc/dnsmasq.leases");
	c.monitor = 1;
	c.domain[0] = '\0';
	assert_int_equal(journal_incident_add(j, &a), 0);
	assert_int_equal(journal_incident_add(j, &b), 0);
	assert_int_equal(journal_incident_add(j, &c), 0);
	assert_int_equal(a.id, 1);
	assert_int_equal(b.id, 2);
	assert_int_equal(c.id, 3);

	assert_int_equal(journal_incident_get(j, b.id, &got), 0);
	assert_memory_equal(&got, &b, sizeof b);
	assert_string_equal(got.user, "bob");
	assert_string_equal(got.sw, "switch1");
	assert_string_equal(got.mac_source, "dhcp /var/lib/misc/dnsmasq.leases");
	assert_int_equal(got.smbd_pid, 4242);
	assert_true(got.score == 25.5);
	assert_int_equal(journal_incident_get(j, c.id, &got), 0);
	assert_int_equal(got.monitor, 1);
	assert_string_equal(got.domain, "");
	assert_int_equal(journal_incident_get(j, 99, &got), 1);

	snprintf(b.state, sizeof b.state, "%s", INC_CONTAINED);
	b.contained_at = 2600;
	b.score = 31;
	memset(b.mac_source, 0, sizeof b.mac_source);
	snprintf(b.mac_source, sizeof b.mac_source, "router core1");
	assert_int_equal(journal_incident_update(j, &b), 0);
	assert_int_equal(journal_incident_get(j, b.id, &got), 0);
	assert_memory_equal(&got, &b, sizeof b);
	assert_string_equal(got.state, "contained");
	assert_string_equal(got.mac_source, "router core1");
	b.id = 77;
	assert_int_equal(journal_incident_update(j, &b), -1);

	assert_int_equal(journal_incident_list(j, &list, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].id, 3);
	assert_int_equal(list[1].id, 2);
	assert_int_equal(list[2].id, 1);
	assert_string_equal(list[1].state, "contained");
	assert_string_equal(list[2].user, "alice");
	free(list);

	/* The CLI's read-only connection reads everything and writes nothing. */
	ro = open_ok(tpath("incidents.db"), 1);
	assert_int_equal(journal_incident_get(ro, 1, &got), 0);
	assert_memory_equal(&got, &a, sizeof a);
	assert_int_equal(journal_incident_add(ro, &a), -1);
	assert_int_equal(journal_stat_set(ro, "lines", 1), -1);
	journal_close(ro);

	/* Signals and actions belong to an existing incident. */
	assert_int_equal(journal_signal_add(j, 1234, "ransom_note", "/x", 2, 1, 1.0, ""), -1);
	journal_close(j);
}

static void
test_hostile_round_trip(void **state)
{
	struct journal *j = open_ok(tpath("hostile.db"), 0);
	struct incident inc, got;
	struct signal_rec *sig;
	struct action act, *acts;
	size_t n, i, nh = nitems(hostile);
	char detail[256];

	(void)state;
	make_incident(&inc, "\xff\xfe" "alice'\n%s", "10.0.0.1", 1000);
	snprintf(inc.host, sizeof inc.host, "%s", "HOST\x1b[2J|\"'");
	assert_int_equal(journal_incident_add(j, &inc), 0);
	assert_int_equal(journal_incident_get(j, inc.id, &got), 0);
	assert_memory_equal(&got, &inc, sizeof inc);

	for (i = 0; i < nh; i++) {
		snprintf(detail, sizeof detail, "detail %zu: %s", i, hostile[i]);
		assert_int_equal(journal_signal_add(j, inc.id, "k'%s\n\xff", hostile[i],
		    strlen(hostile[i]), (int64_t)(2000 + i), 0.5 * (double)i, detail), 0);
	}
	assert_int_equal(journal_signal_add(j, inc.id, "binary", binary_name, strlen(binary_name),
	    9000, 1, hostile[1]), 0);
	assert_int_equal(journal_signal_list(j, inc.id, &sig, &n), 0);
	assert_int_equal(n, nh + 1);
	for (i = 0; i < nh; i++) {
		snprintf(detail, sizeof detail, "detail %zu: %s", i, hostile[i]);
		assert_string_equal(sig[i].kind, "k'%s\n\xff");
		assert_int_equal(strlen(sig[i].path), strlen(hostile[i]));
		assert_memory_equal(sig[i].path, hostile[i], strlen(hostile[i]) + 1);
		assert_string_equal(sig[i].detail, detail);
		assert_int_equal(sig[i].at, 2000 + i);
		assert_true(sig[i].weight == 0.5 * (double)i);
	}
	assert_int_equal(strlen(sig[nh].path), 255);
	assert_memory_equal(sig[nh].path, binary_name, 256);
	assert_string_equal(sig[nh].detail, hostile[1]);
	signal_rec_free(sig, n);

	for (i = 0; i < nh; i++) {
		memset(&act, 0, sizeof act);
		act.incident_id = inc.id;
		snprintf(act.kind, sizeof act.kind, "lock_account");
		snprintf(act.target, sizeof act.target, "%s", hostile[i]);
		snprintf(act.result, sizeof act.result, "ok");
		act.at = 5000 + (int64_t)i;
		snprintf(act.detail, sizeof act.detail, "%s|%s", hostile[i], hostile[nh - 1 - i]);
		assert_int_equal(journal_action_add(j, &act), 0);
		assert_int_equal(act.id, (int64_t)i + 1);
		if (i % 2) {
			act.undone_at = 8000 + (int64_t)i;
			snprintf(act.undo_result, sizeof act.undo_result, "failed");
			snprintf(act.undo_detail, sizeof act.undo_detail, "undo %s", hostile[i]);
			assert_int_equal(journal_action_update(j, &act), 0);
		}
	}
	act.id = 999;
	assert_int_equal(journal_action_update(j, &act), -1);
	assert_int_equal(journal_action_list(j, inc.id, &acts, &n), 0);
	assert_int_equal(n, nh);
	for (i = 0; i < nh; i++) {
		char want[512];

		assert_int_equal(acts[i].id, (int64_t)i + 1);
		assert_int_equal(acts[i].incident_id, inc.id);
		assert_string_equal(acts[i].kind, "lock_account");
		assert_string_equal(acts[i].target, hostile[i]);
		assert_string_equal(acts[i].result, "ok");
		assert_int_equal(acts[i].at, 5000 + (int64_t)i);
		snprintf(want, sizeof want, "%s|%s", hostile[i], hostile[nh - 1 - i]);
		assert_string_equal(acts[i].detail, want);
		if (i % 2) {
			assert_int_equal(acts[i].undone_at, 8000 + (int64_t)i);
			assert_string_equal(acts[i].undo_result, "failed");
			snprintf(want, sizeof want, "undo %s", hostile[i]);
			assert_string_equal(acts[i].undo_detail, want);
		} else {
			assert_int_equal(acts[i].undone_at, 0);
			assert_string_equal(acts[i].undo_result, "");
			assert_string_equal(acts[i].undo_detail, "");
		}
	}
	free(acts);
	assert_int_equal(journal_action_list(j, 4321, &acts, &n), 0);
	assert_int_equal(n, 0);
	free(acts);

	/* Still all there: nothing was taken for SQL. */
	assert_int_equal(journal_incident_get(j, inc.id, &got), 0);
	journal_close(j);
	assert_int_equal(raw_int(tpath("hostile.db"),
	    "SELECT count(*) FROM signals WHERE typeof(path) = 'blob'"), nh + 1);
}

static void
test_files(void **state)
{
	struct journal *j = open_ok(tpath("files.db"), 0);
	/* Views that are not NUL-terminated where they end. */
	static const char userbuf[] = "alice-and-more", ipbuf[] = "10.0.0.1999";
	struct sw_event ev;
	struct file_rec *f;
	size_t n;

	(void)state;
	assert_int_equal(journal_begin(j), 0);
	add_event(j, "alice", "10.0.0.1", 1000, OP_CREATE, 1, "/srv/data/a.docx", NULL);
	add_event(j, "alice", "10.0.0.1", 1500, OP_OPEN, 1, "/srv/data/a.docx", NULL);
	add_event(j, "alice", "10.0.0.1", 2000, OP_WRITE, 1, "/srv/data/a.docx", NULL);
	add_event(j, "alice", "10.0.0.1", 3000, OP_RENAME, 1, "/srv/data/a.docx",
	    "/srv/data/a|b\n.docx.enc");
	add_event(j, "alice", "10.0.0.1", 3500, OP_ATTR, 1, "/srv/data/a.docx.enc", NULL);
	add_event(j, "alice", "10.0.0.1", 3700, OP_UNLINK, 0, "/srv/data/denied", NULL);
	add_event(j, "alice", "10.0.0.2", 2500, OP_WRITE, 1, "/srv/data/other-ip", NULL);
	add_event(j, "bob", "10.0.0.1", 2500, OP_WRITE, 1, "/srv/data/other-user", NULL);
	add_event(j, "alic", "10.0.0.1", 2500, OP_WRITE, 1, "/srv/data/prefix-user", NULL);
	memset(&ev, 0, sizeof ev);
	ev.at_ms = 4000;
	ev.op = OP_UNLINK;
	ev.ok = 1;
	ev.src = SRC_FANOTIFY;
	ev.user.p = userbuf;
	ev.user.n = 5;
	ev.ip.p = ipbuf;
	ev.ip.n = 8;
	ev.path.p = binary_name;
	ev.path.n = 255;
	assert_int_equal(journal_add_event(j, &ev), 0);
	add_event(j, "alice", "10.0.0.1", 5000, OP_MKDIR, 1, "/srv/data/new", NULL);
	add_event(j, "alice", "10.0.0.1", 5000, OP_WRITE, 1, "/srv/data/same-ms", NULL);
	assert_int_equal(journal_commit(j), 0);

	assert_int_equal(journal_files(j, "alice", "10.0.0.1", 1000, &f, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(f[0].op, "create");
	assert_string_equal(f[0].path, "/srv/data/a.docx");
	assert_null(f[0].path2);
	assert_int_equal(f[0].at, 1000);
	assert_string_equal(f[1].op, "write");
	assert_int_equal(f[1].at, 2000);
	assert_string_equal(f[2].op, "rename");
	assert_string_equal(f[2].path, "/srv/data/a.docx");
	assert_string_equal(f[2].path2, "/srv/data/a|b\n.docx.enc");
	assert_string_equal(f[3].op, "unlink");
	assert_memory_equal(f[3].path, binary_name, 256);
	assert_null(f[3].path2);
	assert_string_equal(f[4].op, "mkdir");
	assert_string_equal(f[4].path, "/srv/data/new");
	assert_string_equal(f[5].op, "write");
	assert_string_equal(f[5].path, "/srv/data/same-ms");
	file_rec_free(f, n);

	/* since is inclusive. */
	assert_int_equal(journal_files(j, "alice", "10.0.0.1", 3000, &f, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(f[0].op, "rename");
	file_rec_free(f, n);
	assert_int_equal(journal_files(j, "alice", "10.0.0.2", 0, &f, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].path, "/srv/data/other-ip");
	file_rec_free(f, n);
	assert_int_equal(journal_files(j, "nobody", "10.0.0.1", 0, &f, &n), 0);
	assert_int_equal(n, 0);
	file_rec_free(f, n);
	assert_int_equal(journal_files(j, "alice", "10.0.0.1", 6000, &f, &n), 0);
	assert_int_equal(n, 0);
	file_rec_free(f, n);
	journal_close(j);

	assert_int_equal(raw_int(tpath("files.db"), "SELECT count(*) FROM events"), 12);
	assert_int_equal(raw_int(tpath("files.db"),
	    "SELECT count(*) FROM events WHERE typeof(path) = 'blob'"), 12);
	assert_int_equal(raw_int(tpath("files.db"),
	    "SELECT count(*) FROM events WHERE path2 IS NOT NULL"), 1);
	assert_int_equal(raw_int(tpath("files.db"),
	    "SELECT src FROM events WHERE at = 4000"), SRC_FANOTIFY);
}

static void
test_prune_and_stats(void **state)
{
	struct journal *j = open_ok(tpath("prune.db"), 0);
	struct file_rec *f;
	int64_t v;
	size_t n;

	(void)state;
	add_event(j, "u", "1.2.3.4", 100, OP_WRITE, 1, "/s/100", NULL);
	add_event(j, "u", "1.2.3.4", 200, OP_WRITE, 1, "/s/200", NULL);
	add_event(j, "u", "1.2.3.4", 300, OP_WRITE, 1, "/s/300", NULL);
	assert_int_equal(journal_prune_events(j, 0), 0);
	assert_int_equal(journal_files(j, "u", "1.2.3.4", 0, &f, &n), 0);
	assert_int_equal(n, 3);
	file_rec_free(f, n);
	assert_int_equal(journal_prune_events(j, 250), 0);
	assert_int_equal(journal_files(j, "u", "1.2.3.4", 0, &f, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(f[0].path, "/s/300");
	file_rec_free(f, n);
	assert_int_equal(journal_prune_events(j, 301), 0);
	assert_int_equal(journal_files(j, "u", "1.2.3.4", 0, &f, &n), 0);
	assert_int_equal(n, 0);
	file_rec_free(f, n);

	assert_int_equal(journal_stat_get(j, "events", &v), 1);
	assert_int_equal(journal_stat_set(j, "events", 42), 0);
	assert_int_equal(journal_stat_set(j, "heartbeat", INT64_C(1795754578116)), 0);
	assert_int_equal(journal_stat_get(j, "events", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(journal_stat_set(j, "events", -7), 0);
	assert_int_equal(journal_stat_get(j, "events", &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(journal_stat_get(j, "heartbeat", &v), 0);
	assert_int_equal(v, INT64_C(1795754578116));
	journal_close(j);
}

static void
test_transactions(void **state)
{
	struct journal *j = open_ok(tpath("tx.db"), 0);
	struct incident inc, got;

	(void)state;
	assert_int_equal(journal_commit(j), -1);
	assert_int_equal(journal_begin(j), 0);
	assert_int_equal(journal_begin(j), -1);
	make_incident(&inc, "alice", "10.0.0.1", 1000);
	assert_int_equal(journal_incident_add(j, &inc), 0);
	/* A failed statement inside a transaction does not undo the others. */
	assert_int_equal(journal_signal_add(j, 555, "x", "p", 1, 1, 1, ""), -1);
	assert_int_equal(journal_commit(j), 0);
	assert_int_equal(journal_incident_get(j, inc.id, &got), 0);
	assert_int_equal(journal_begin(j), 0);
	assert_int_equal(journal_commit(j), 0);
	journal_close(j);
}

/* A reader is never held up by the writer's open transaction and sees only what was committed. */
static void
test_wal_reader(void **state)
{
	const char *path = tpath("wal.db");
	struct journal *w = open_ok(path, 0), *r;
	struct incident a, b, got, *list;
	int64_t t0, v;
	size_t n;

	(void)state;
	make_incident(&a, "alice", "10.0.0.1", 1000);
	assert_int_equal(journal_incident_add(w, &a), 0);
	assert_int_equal(journal_stat_set(w, "events", 1), 0);
	assert_int_equal(journal_begin(w), 0);
	make_incident(&b, "bob", "10.0.0.2", 2000);
	assert_int_equal(journal_incident_add(w, &b), 0);
	assert_int_equal(journal_stat_set(w, "events", 2), 0);
	add_event(w, "bob", "10.0.0.2", 2000, OP_WRITE, 1, "/s/x", NULL);

	t0 = mono_ms();
	r = open_ok(path, 1);
	assert_int_equal(journal_incident_list(r, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].user, "alice");
	free(list);
	assert_int_equal(journal_incident_get(r, b.id, &got), 1);
	assert_int_equal(journal_stat_get(r, "events", &v), 0);
	assert_int_equal(v, 1);
	assert_true(mono_ms() - t0 < 1000);

	assert_int_equal(journal_commit(w), 0);
	assert_int_equal(journal_incident_list(r, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].user, "bob");
	free(list);
	assert_int_equal(journal_stat_get(r, "events", &v), 0);
	assert_int_equal(v, 2);
	journal_close(r);
	journal_close(w);
}

/*
 * A child commits one incident, then writes far more than the page cache
 * holds (so uncommitted pages reach the WAL) and dies without committing.
 */
static void
test_crash_safety(void **state)
{
	const char *path = tpath("crash.db");
	struct journal *j;
	struct incident inc, *list;
	struct signal_rec *sig;
	struct action *acts;
	struct file_rec *f;
	size_t n;
	pid_t pid;
	int st;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct action act;
		char p[64];
		int i;

		if ((j = journal_open(path, 0, p, sizeof p)) == NULL)
			_exit(10);
		if (journal_begin(j) == -1)
			_exit(11);
		make_incident(&inc, "alice", "10.0.0.1", 1000);
		if (journal_incident_add(j, &inc) == -1 ||
		    journal_signal_add(j, inc.id, "ransom_note", "/s/README.txt", 13, 1200, 10,
		    "note") == -1)
			_exit(12);
		memset(&act, 0, sizeof act);
		act.incident_id = inc.id;
		snprintf(act.kind, sizeof act.kind, "kill_session");
		snprintf(act.result, sizeof act.result, "ok");
		if (journal_action_add(j, &act) == -1 || journal_commit(j) == -1)
			_exit(13);

		if (journal_begin(j) == -1)
			_exit(14);
		make_incident(&inc, "bob", "10.0.0.2", 2000);
		if (journal_incident_add(j, &inc) == -1 ||
		    journal_signal_add(j, 1, "late", "/s/late", 7, 1300, 1, "") == -1 ||
		    journal_action_add(j, &act) == -1)
			_exit(15);
		for (i = 0; i < 30000; i++) {
			struct sw_event ev;

			memset(&ev, 0, sizeof ev);
			snprintf(p, sizeof p, "/srv/data/dir/file-%06d.docx", i);
			ev.at_ms = 5000 + i;
			ev.op = OP_WRITE;
			ev.ok = 1;
			ev.src = SRC_AUDIT;
			ev.user = view("alice");
			ev.ip = view("10.0.0.1");
			ev.path = view(p);
			if (journal_add_event(j, &ev) == -1)
				_exit(16);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	j = open_ok(path, 0);
	assert_int_equal(journal_incident_list(j, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].user, "alice");
	free(list);
	assert_int_equal(journal_signal_list(j, 1, &sig, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(sig[0].path, "/s/README.txt");
	signal_rec_free(sig, n);
	assert_int_equal(journal_action_list(j, 1, &acts, &n), 0);
	assert_int_equal(n, 1);
	free(acts);
	assert_int_equal(journal_files(j, "alice", "10.0.0.1", 0, &f, &n), 0);
	assert_int_equal(n, 0);
	file_rec_free(f, n);
	/* Writable again, and the next incident takes the next id. */
	make_incident(&inc, "carol", "10.0.0.3", 3000);
	assert_int_equal(journal_incident_add(j, &inc), 0);
	assert_int_equal(inc.id, 2);
	journal_close(j);
	{
		char *s = raw_text(path, "PRAGMA integrity_check");

		assert_string_equal(s, "ok");
		free(s);
	}
}

static int64_t
utc_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static void
assert_json_string(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("%s is not a string", key);
	assert_string_equal(json_string_value(v), want);
}

static void
assert_json_null(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_null(v))
		fail_msg("%s is not null", key);
}

static void
test_incident_json(void **state)
{
	struct journal *j = open_ok(tpath("json.db"), 0);
	int64_t t0 = utc_ms(2026, 11, 27, 4, 42, 58, 116);
	struct incident inc;
	struct action act;
	json_t *o, *actor, *arr, *e, *rs, *back;
	json_error_t jerr;
	char *dump, user[128];

	(void)state;
	make_incident(&inc, "alice", "10.77.0.11", t0);
	inc.domain[0] = '\0';
	inc.mac[0] = '\0';
	inc.sw[0] = '\0';
	inc.port[0] = '\0';
	snprintf(inc.host, sizeof inc.host, "CLIENT\xff" "1");
	snprintf(inc.state, sizeof inc.state, "%s", INC_CONTAINED);
	inc.detected_at = t0 + 1000;
	inc.contained_at = 0;
	inc.score = 25;
	assert_int_equal(journal_incident_add(j, &inc), 0);

	assert_int_equal(journal_signal_add(j, inc.id, "ransom_extension",
	    "/srv/data/a.docx.locky", 22, t0 + 500, 5, "extension .locky"), 0);
	assert_int_equal(journal_signal_add(j, inc.id, "ransom_note",
	    "/srv/data/\xff\xfe" "b\xc3\x28", 15, t0 + 600, 10, "note \xe2\x82"), 0);

	add_event(j, "alice", "10.77.0.11", t0 - 1, OP_WRITE, 1, "/srv/data/before", NULL);
	add_event(j, "alice", "10.77.0.11", t0, OP_WRITE, 1, "/srv/data/a.docx", NULL);
	add_event(j, "alice", "10.77.0.11", t0 + 1, OP_RENAME, 1, "/srv/data/a.docx",
	    "/srv/data/a.docx.\x80locky");
	add_event(j, "alice", "10.77.0.12", t0 + 2, OP_WRITE, 1, "/srv/data/other-ip", NULL);

	memset(&act, 0, sizeof act);
	act.incident_id = inc.id;
	act.at = t0 + 1200;
	snprintf(act.kind, sizeof act.kind, "lock_account");
	snprintf(act.target, sizeof act.target, "alice");
	snprintf(act.result, sizeof act.result, "ok");
	snprintf(act.detail, sizeof act.detail, "pdbedit -c [D]");
	assert_int_equal(journal_action_add(j, &act), 0);
	act.undone_at = t0 + 60000;
	snprintf(act.undo_result, sizeof act.undo_result, "ok");
	snprintf(act.undo_detail, sizeof act.undo_detail, "enabled again");
	assert_int_equal(journal_action_update(j, &act), 0);
	memset(&act, 0, sizeof act);
	act.incident_id = inc.id;
	act.at = t0 + 1300;
	snprintf(act.kind, sizeof act.kind, "kill_session");
	snprintf(act.target, sizeof act.target, "4242");
	snprintf(act.result, sizeof act.result, "failed");
	assert_int_equal(journal_action_add(j, &act), 0);

	assert_null(incident_json(j, 999));
	o = incident_json(j, inc.id);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "id")), inc.id);
	assert_json_string(o, "state", "contained");
	assert_json_string(o, "first_event_at", "2026-11-27T04:42:58.116Z");
	assert_json_string(o, "detected_at", "2026-11-27T04:42:59.116Z");
	assert_json_null(o, "contained_at");
	assert_json_null(o, "released_at");
	assert_true(json_is_real(json_object_get(o, "score")));
	assert_true(json_real_value(json_object_get(o, "score")) == 25.0);
	assert_true(json_is_false(json_object_get(o, "monitor")));

	actor = json_object_get(o, "actor");
	assert_true(json_is_object(actor));
	assert_int_equal(json_object_size(actor), 9);
	assert_json_null(actor, "mac_source");
	assert_json_string(actor, "user", "alice");
	assert_json_null(actor, "domain");
	assert_json_string(actor, "ip", "10.77.0.11");
	assert_json_null(actor, "mac");
	assert_json_string(actor, "host", "CLIENT\xef\xbf\xbd" "1");
	assert_int_equal(json_integer_value(json_object_get(actor, "smbd_pid")), 4242);
	assert_json_null(actor, "switch");
	assert_json_null(actor, "port");

	arr = json_object_get(o, "signals");
	assert_int_equal(json_array_size(arr), 2);
	e = json_array_get(arr, 0);
	assert_json_string(e, "kind", "ransom_extension");
	assert_json_string(e, "path", "/srv/data/a.docx.locky");
	assert_null(json_object_get(e, "path_hex"));
	assert_json_string(e, "at", "2026-11-27T04:42:58.616Z");
	assert_true(json_real_value(json_object_get(e, "weight")) == 5.0);
	assert_json_string(e, "detail", "extension .locky");
	e = json_array_get(arr, 1);
	assert_json_string(e, "path", "/srv/data/\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd(");
	assert_json_string(e, "path_hex", "2f7372762f646174612ffffe62c328");
	assert_json_string(e, "detail", "note \xef\xbf\xbd\xef\xbf\xbd");

	arr = json_object_get(o, "files");
	assert_int_equal(json_array_size(arr), 2);
	e = json_array_get(arr, 0);
	assert_json_string(e, "path", "/srv/data/a.docx");
	assert_json_string(e, "op", "write");
	assert_json_string(e, "at", "2026-11-27T04:42:58.116Z");
	assert_null(json_object_get(e, "path2"));
	assert_null(json_object_get(e, "path_hex"));
	e = json_array_get(arr, 1);
	assert_json_string(e, "op", "rename");
	assert_json_string(e, "path", "/srv/data/a.docx");
	assert_json_string(e, "path2", "/srv/data/a.docx.\xef\xbf\xbdlocky");
	assert_json_string(e, "path2_hex", "2f7372762f646174612f612e646f63782e806c6f636b79");

	arr = json_object_get(o, "actions");
	assert_int_equal(json_array_size(arr), 2);
	e = json_array_get(arr, 0);
	assert_json_string(e, "kind", "lock_account");
	assert_json_string(e, "target", "alice");
	assert_json_string(e, "result", "ok");
	assert_json_string(e, "at", "2026-11-27T04:42:59.316Z");
	assert_json_string(e, "detail", "pdbedit -c [D]");
	assert_json_string(e, "undone_at", "2026-11-27T04:43:58.116Z");
	assert_json_string(e, "undo_result", "ok");
	assert_json_string(e, "undo_detail", "enabled again");
	e = json_array_get(arr, 1);
	assert_json_string(e, "kind", "kill_session");
	assert_json_string(e, "result", "failed");
	assert_json_string(e, "detail", "");
	assert_json_null(e, "undone_at");
	assert_json_null(e, "undo_result");
	assert_json_null(e, "undo_detail");

	rs = json_object_get(o, "restore");
	assert_json_string(rs, "state", "none");
	assert_int_equal(json_integer_value(json_object_get(rs, "restored")), 0);
	assert_int_equal(json_integer_value(json_object_get(rs, "removed")), 0);
	assert_int_equal(json_integer_value(json_object_get(rs, "conflicts")), 0);
	assert_int_equal(json_integer_value(json_object_get(rs, "failed")), 0);

	/* Everything is valid UTF-8, so the whole document serializes and parses back. */
	dump = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(dump);
	back = json_loads(dump, 0, &jerr);
	assert_non_null(back);
	assert_true(json_equal(o, back));
	json_decref(back);
	free(dump);
	json_decref(o);

	/* Hostile strings everywhere still give a document. */
	memcpy(user, binary_name + 1, sizeof user - 1);
	user[sizeof user - 1] = '\0';
	make_incident(&inc, user, "10.0.0.9", 1);
	snprintf(inc.domain, sizeof inc.domain, "%s", hostile[1]);
	assert_int_equal(journal_incident_add(j, &inc), 0);
	for (size_t i = 0; i < nitems(hostile); i++)
		assert_int_equal(journal_signal_add(j, inc.id, hostile[i], binary_name, 255, 5,
		    1, hostile[i]), 0);
	add_event(j, user, "10.0.0.9", 9, OP_RENAME, 1, binary_name, hostile[2]);
	o = incident_json(j, inc.id);
	assert_non_null(o);
	dump = json_dumps(o, 0);
	assert_non_null(dump);
	free(dump);
	assert_int_equal(json_array_size(json_object_get(o, "files")), 1);
	assert_non_null(json_object_get(json_array_get(json_object_get(o, "files"), 0), "path_hex"));
	json_decref(o);
	journal_close(j);
}

static char *
print_to_string(struct journal *j, int64_t id, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*rc = incident_print(j, id, f);
	fclose(f);
	return buf;
}

static void
test_incident_print(void **state)
{
	struct journal *j = open_ok(tpath("print.db"), 0);
	const char *evil = "/srv/data/evil\n\x1b[31mFAKE";
	const char *sneaky = "/srv/a\\x1b\xc2\x9b" "2J\xe2\x80\xae" "cod.exe\xff";
	struct incident inc;
	struct action act;
	char *out, *line, name[64];
	int rc, i, lines;

	(void)state;
	make_incident(&inc, "bob\x1b]0;owned\x07", "10.77.0.12", 1000);
	snprintf(inc.state, sizeof inc.state, "%s", INC_RELEASED);
	inc.contained_at = 3000;
	inc.released_at = 90000;
	inc.monitor = 1;
	assert_int_equal(journal_incident_add(j, &inc), 0);
	assert_int_equal(journal_signal_add(j, inc.id, "ransom_note", evil, strlen(evil), 1100,
	    10, "line\nbreak"), 0);
	assert_int_equal(journal_signal_add(j, inc.id, "ransom_extension",
	    sneaky, strlen(sneaky), 1200, 5, ""), 0);
	memset(&act, 0, sizeof act);
	act.incident_id = inc.id;
	act.at = 2000;
	snprintf(act.kind, sizeof act.kind, "lock_account");
	snprintf(act.target, sizeof act.target, "bob\x1b[8m");
	snprintf(act.result, sizeof act.result, "ok");
	assert_int_equal(journal_action_add(j, &act), 0);
	act.undone_at = 90000;
	snprintf(act.undo_result, sizeof act.undo_result, "ok");
	assert_int_equal(journal_action_update(j, &act), 0);
	add_event(j, "bob\x1b]0;owned\x07", "10.77.0.12", 1000, OP_RENAME, 1, "/srv/data/x",
	    evil);
	for (i = 0; i < 24; i++) {
		snprintf(name, sizeof name, "/srv/data/f%02d", i);
		add_event(j, "bob\x1b]0;owned\x07", "10.77.0.12", 1001 + i, OP_WRITE, 1, name, NULL);
	}

	out = print_to_string(j, inc.id, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(out);
	/* No raw control byte but the line ends, no C1 control, no bidi override. */
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 && out[i] != '\n')
			fail_msg("raw control byte 0x%02x at offset %d", (unsigned char)out[i], i);
	assert_null(strstr(out, "\xc2\x9b"));
	assert_null(strstr(out, "\xe2\x80\xae"));
	assert_non_null(strstr(out, "/srv/data/evil\\x0a\\x1b[31mFAKE"));
	assert_non_null(strstr(out, "/srv/a\\\\x1b\\xc2\\x9b2J\\xe2\\x80\\xaecod.exe\\xff"));
	assert_non_null(strstr(out, "bob\\x1b]0;owned\\x07 (LAB) from 10.77.0.12"
	    " [02:00:00:00:01:01] host CLIENT1, smbd pid 4242\n"));
	assert_non_null(strstr(out, "incident 1  released\n"));
	assert_non_null(strstr(out, "line\\x0abreak"));
	assert_non_null(strstr(out, "bob\\x1b[8m  ok; undone 1970-01-01T00:01:30.000Z ok\n"));
	assert_non_null(strstr(out, "first event 1970-01-01T00:00:01.000Z"));
	assert_non_null(strstr(out, "score       25.5\n"));
	assert_non_null(strstr(out, "files       26 touched in 25 operations (first 20 listed)\n"));
	assert_non_null(strstr(out, "rename  /srv/data/x -> /srv/data/evil\\x0a\\x1b[31mFAKE\n"));
	assert_non_null(strstr(out, "    ... and 5 more\n"));
	assert_null(strstr(out, "/srv/data/f19"));
	assert_non_null(strstr(out, "/srv/data/f18"));
	/* Every line is one the report meant to write. */
	lines = 0;
	for (line = out; *line; line = strchr(line, '\n') + 1) {
		lines++;
		assert_true(strncmp(line, "incident ", 9) == 0 || strncmp(line, "  ", 2) == 0);
		assert_non_null(strchr(line, '\n'));
	}
	/* header, actor, switch, times, score, mode, 3 + 2 + 22 list lines ... */
	assert_int_equal(lines, 1 + 1 + 1 + 1 + 1 + 1 + 3 + 2 + 22);
	free(out);

	out = print_to_string(j, 999, &rc);
	assert_int_equal(rc, 1);
	free(out);
	journal_close(j);
}

/* Every event of every actor, ordered by time then arrival, from the since bound on. */
static void
test_events_since(void **state)
{
	struct journal *j = open_ok(tpath("since.db"), 0);
	struct event_rec *e;
	struct sw_event ev;
	char p[64];
	size_t n, i, nh = sizeof hostile / sizeof hostile[0];
	int64_t t0, ms;

	(void)state;
	assert_int_equal(journal_events_since(j, 0, &e, &n), 0);
	assert_int_equal(n, 0);
	event_rec_free(e, n);

	/* Arrival order differs from time order; two events share at = 2000. */
	add_event(j, "alice", "10.0.0.1", 3000, OP_RENAME, 1, "/s/a|b", "/s/a\nb.locked");
	add_event(j, "bob", "10.0.0.2", 2000, OP_WRITE, 0, "/s/\xff\xfe", NULL);
	add_event(j, "carol", "10.0.0.3", 999, OP_UNLINK, 1, "/s/old", NULL);
	add_event(j, "dave", "10.0.0.4", 2000, OP_CREATE, 1, binary_name, NULL);
	memset(&ev, 0, sizeof ev);
	ev.at_ms = 1000;
	ev.op = OP_MKDIR;
	ev.ok = 1;
	ev.flags = EVF_DIR | EVF_AMBIGUOUS;
	ev.user = view("erin");
	ev.ip = view("");
	ev.path = view("/s/dir");
	assert_int_equal(journal_add_event(j, &ev), 0);

	assert_int_equal(journal_events_since(j, 1000, &e, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(e[0].at, 1000);
	assert_string_equal(e[0].op, "mkdir");
	assert_int_equal(e[0].flags, EVF_DIR | EVF_AMBIGUOUS);
	assert_string_equal(e[0].user, "erin");
	assert_string_equal(e[0].ip, "");
	assert_string_equal(e[0].path, "/s/dir");
	assert_null(e[0].path2);
	assert_int_equal(e[1].at, 2000);
	assert_string_equal(e[1].user, "bob");
	assert_string_equal(e[1].op, "write");
	assert_int_equal(e[1].ok, 0);
	assert_string_equal(e[1].path, "/s/\xff\xfe");
	assert_int_equal(e[2].at, 2000);
	assert_true(e[2].id > e[1].id);
	assert_string_equal(e[2].user, "dave");
	assert_int_equal(e[2].ok, 1);
	assert_memory_equal(e[2].path, binary_name, 256);
	assert_int_equal(e[3].at, 3000);
	assert_string_equal(e[3].op, "rename");
	assert_string_equal(e[3].user, "alice");
	assert_string_equal(e[3].ip, "10.0.0.1");
	assert_string_equal(e[3].path, "/s/a|b");
	assert_string_equal(e[3].path2, "/s/a\nb.locked");
	event_rec_free(e, n);

	assert_int_equal(journal_events_since(j, 2001, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].at, 3000);
	event_rec_free(e, n);
	assert_int_equal(journal_events_since(j, 3001, &e, &n), 0);
	assert_int_equal(n, 0);
	event_rec_free(e, n);
	assert_int_equal(journal_events_since(j, INT64_MIN, &e, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(e[0].at, 999);
	event_rec_free(e, n);

	/* Every hostile name comes back byte for byte. */
	for (i = 0; i < nh; i++)
		add_event(j, "mallory", "10.0.0.9", 10000 + (int64_t)i, OP_RENAME, 1, hostile[i],
		    hostile[nh - 1 - i]);
	assert_int_equal(journal_events_since(j, 10000, &e, &n), 0);
	assert_int_equal(n, nh);
	for (i = 0; i < nh; i++) {
		assert_string_equal(e[i].path, hostile[i]);
		assert_string_equal(e[i].path2, hostile[nh - 1 - i]);
	}
	event_rec_free(e, n);

	/* 300,000 rows in one query, quickly. */
	assert_int_equal(journal_begin(j), 0);
	for (i = 0; i < 300000; i++) {
		snprintf(p, sizeof p, "/srv/data/dir%zu/file-%06zu.docx", i % 100, i);
		memset(&ev, 0, sizeof ev);
		ev.at_ms = 100000 + (int64_t)(i / 3);
		ev.op = OP_WRITE;
		ev.ok = 1;
		ev.src = SRC_AUDIT;
		ev.user = view(i % 2 ? "alice" : "bob");
		ev.ip = view("10.0.0.1");
		ev.path = view(p);
		assert_int_equal(journal_add_event(j, &ev), 0);
	}
	assert_int_equal(journal_commit(j), 0);
	t0 = mono_ms();
	assert_int_equal(journal_events_since(j, 100000, &e, &n), 0);
	ms = mono_ms() - t0;
	print_message("journal_events_since: 300000 rows in %lld ms\n", (long long)ms);
	assert_int_equal(n, 300000);
	for (i = 1; i < n; i++)
		assert_true(e[i].at > e[i - 1].at || (e[i].at == e[i - 1].at && e[i].id > e[i - 1].id));
	assert_string_equal(e[299999].path, "/srv/data/dir99/file-299999.docx");
	assert_true(ms < 5000);
	event_rec_free(e, n);
	journal_close(j);
}

static void
make_snap(struct snap_rec *r, const char *share, const char *name, int64_t taken,
    const char *reason, int64_t incident_id)
{
	memset(r, 0, sizeof *r);
	snprintf(r->share, sizeof r->share, "%s", share);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->taken_at = taken;
	snprintf(r->reason, sizeof r->reason, "%s", reason);
	r->incident_id = incident_id;
}

static void
test_snapshots(void **state)
{
	const char *path = tpath("snaps.db");
	struct journal *j = open_ok(path, 0), *ro;
	struct snap_rec r, *l;
	size_t n;

	(void)state;
	assert_int_equal(journal_snapshot_list(j, NULL, &l, &n), 0);
	assert_int_equal(n, 0);
	free(l);

	make_snap(&r, "data", "sw-20250101-0300", 3000, "schedule", 0);
	assert_int_equal(journal_snapshot_add(j, &r), 0);
	make_snap(&r, "data", "sw-20250101-0100", 1000, "schedule", 0);
	assert_int_equal(journal_snapshot_add(j, &r), 0);
	make_snap(&r, "a|b\n\xff", "sw-inc7", 2000, "detection", 7);
	assert_int_equal(journal_snapshot_add(j, &r), 0);
	make_snap(&r, "home", "same-time", 3000, "manual", 0);
	assert_int_equal(journal_snapshot_add(j, &r), 0);

	assert_int_equal(journal_snapshot_list(j, NULL, &l, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(l[0].name, "sw-20250101-0100");
	assert_string_equal(l[1].share, "a|b\n\xff");
	assert_string_equal(l[1].name, "sw-inc7");
	assert_string_equal(l[1].reason, "detection");
	assert_int_equal(l[1].incident_id, 7);
	assert_int_equal(l[1].removed_at, 0);
	/* Same taken_at: the one recorded first. */
	assert_string_equal(l[2].name, "sw-20250101-0300");
	assert_string_equal(l[3].share, "home");
	free(l);

	assert_int_equal(journal_snapshot_list(j, "data", &l, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].name, "sw-20250101-0100");
	assert_string_equal(l[1].name, "sw-20250101-0300");
	free(l);
	assert_int_equal(journal_snapshot_list(j, "a|b\n\xff", &l, &n), 0);
	assert_int_equal(n, 1);
	free(l);
	assert_int_equal(journal_snapshot_list(j, "nosuch", &l, &n), 0);
	assert_int_equal(n, 0);
	free(l);

	/* Same share and name: replaced, not added. */
	make_snap(&r, "data", "sw-20250101-0100", 500, "manual", 0);
	assert_int_equal(journal_snapshot_add(j, &r), 0);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM snapshots"), 4);
	assert_int_equal(journal_snapshot_list(j, "data", &l, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(l[0].taken_at, 500);
	assert_string_equal(l[0].reason, "manual");
	free(l);

	assert_int_equal(journal_snapshot_removed(j, "data", "sw-20250101-0300", 9000), 0);
	assert_int_equal(journal_snapshot_removed(j, "data", "nosuch", 9000), -1);
	assert_int_equal(journal_snapshot_removed(j, "home", "sw-20250101-0300", 9000), -1);
	ro = open_ok(path, 1);
	assert_int_equal(journal_snapshot_list(ro, "data", &l, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(l[0].removed_at, 0);
	assert_int_equal(l[1].removed_at, 9000);
	free(l);
	/* A read-only journal refuses writes. */
	assert_int_equal(journal_snapshot_add(ro, &r), -1);
	journal_close(ro);
	journal_close(j);
}

static void
test_restores(void **state)
{
	struct journal *j = open_ok(tpath("restores.db"), 0);
	struct restore_rec r, got;

	(void)state;
	assert_int_equal(journal_restore_get(j, 1, &got), 1);
	memset(&r, 0, sizeof r);
	r.incident_id = 1;
	snprintf(r.state, sizeof r.state, "%s", RESTORE_RUNNING);
	snprintf(r.share, sizeof r.share, "da|ta\n");
	snprintf(r.snapshot, sizeof r.snapshot, "sw-20250101-0100");
	r.snapshot_at = 1000;
	r.started_at = 5000;
	snprintf(r.detail, sizeof r.detail, "%s", "started '); DROP TABLE restores; --");
	assert_int_equal(journal_restore_put(j, &r), 0);
	memset(&got, 0x5a, sizeof got);
	assert_int_equal(journal_restore_get(j, 1, &got), 0);
	assert_memory_equal(&got, &r, sizeof r);
	assert_int_equal(journal_restore_get(j, 2, &got), 1);

	/* Replaced in place. */
	snprintf(r.state, sizeof r.state, "%s", RESTORE_PARTIAL);
	r.finished_at = 9000;
	r.restored = 120;
	r.removed = 121;
	r.conflicts = 3;
	r.failed = 2;
	r.unrestorable = INT64_C(1) << 40;
	snprintf(r.detail, sizeof r.detail, "2 steps failed");
	assert_int_equal(journal_restore_put(j, &r), 0);
	assert_int_equal(journal_restore_get(j, 1, &got), 0);
	assert_string_equal(got.state, "partial");
	assert_int_equal(got.restored, 120);
	assert_int_equal(got.removed, 121);
	assert_int_equal(got.conflicts, 3);
	assert_int_equal(got.failed, 2);
	assert_int_equal(got.unrestorable, INT64_C(1) << 40);
	assert_int_equal(got.finished_at, 9000);
	assert_string_equal(got.detail, "2 steps failed");
	assert_int_equal(raw_int(tpath("restores.db"), "SELECT count(*) FROM restores"), 1);
	journal_close(j);
}

static void
make_item(struct restore_item *it, int64_t seq, const char *kind, const char *path,
    const char *src, const char *aux)
{
	memset(it, 0, sizeof *it);
	it->seq = seq;
	snprintf(it->kind, sizeof it->kind, "%s", kind);
	it->path = (char *)path;
	it->src = (char *)src;
	it->aux = (char *)aux;
	it->size = seq * 100;
	it->mtime_ns = INT64_C(1700000000123456789) + seq;
	snprintf(it->state, sizeof it->state, "pending");
}

static void
test_restore_items(void **state)
{
	const char *path = tpath("items.db");
	struct journal *j = open_ok(path, 0);
	struct restore_item items[4], *l;
	struct incident inc, got;
	size_t n;

	(void)state;
	assert_int_equal(journal_restore_items(j, 1, &l, &n), 0);
	assert_int_equal(n, 0);
	restore_item_free(l, n);

	/* Not in seq order, two of the same seq; NULL src and aux stay NULL. */
	make_item(&items[0], 2, "restore", "/s/a|b\nc", "/snap/a|b\nc", NULL);
	make_item(&items[1], 1, "mkdir", "/s/\xff\xfe dir", "/snap/\xff\xfe dir", NULL);
	make_item(&items[2], 2, "keep_both", "/s/k", "/snap/k", "/s/k (restored)");
	make_item(&items[3], 0, "remove", binary_name, NULL, "/s/orig\x80");
	assert_int_equal(journal_restore_items_set(j, 7, items, 4), 0);
	assert_true(items[0].id > 0 && items[1].id > 0 && items[2].id > 0 && items[3].id > 0);
	assert_int_equal(items[0].incident_id, 7);
	assert_int_equal(journal_restore_items(j, 7, &l, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(l[0].seq, 0);
	assert_int_equal(l[0].id, items[3].id);
	assert_string_equal(l[0].kind, "remove");
	assert_memory_equal(l[0].path, binary_name, 256);
	assert_null(l[0].src);
	assert_string_equal(l[0].aux, "/s/orig\x80");
	assert_int_equal(l[0].size, 0);
	assert_string_equal(l[1].path, "/s/\xff\xfe dir");
	assert_string_equal(l[1].src, "/snap/\xff\xfe dir");
	assert_null(l[1].aux);
	assert_int_equal(l[2].id, items[0].id);
	assert_string_equal(l[2].path, "/s/a|b\nc");
	assert_string_equal(l[2].src, "/snap/a|b\nc");
	assert_int_equal(l[3].id, items[2].id);
	assert_string_equal(l[3].kind, "keep_both");
	assert_string_equal(l[3].aux, "/s/k (restored)");
	assert_int_equal(l[3].size, 200);
	assert_int_equal(l[3].mtime_ns, INT64_C(1700000000123456791));
	assert_int_equal(l[3].incident_id, 7);
	assert_string_equal(l[3].state, "pending");
	assert_string_equal(l[3].detail, "");
	restore_item_free(l, n);

	/* Another incident's plan is separate. */
	make_item(&items[0], 1, "rmdir", "/s/other", NULL, NULL);
	assert_int_equal(journal_restore_items_set(j, 8, items, 1), 0);

	/* Replacing drops the old plan. */
	make_item(&items[0], 5, "dirmeta", "/s", "/snap", NULL);
	make_item(&items[1], 4, "unrestorable", "/s/gone", NULL, NULL);
	assert_int_equal(journal_restore_items_set(j, 7, items, 2), 0);
	assert_int_equal(journal_restore_items(j, 7, &l, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].kind, "unrestorable");
	assert_string_equal(l[1].kind, "dirmeta");
	restore_item_free(l, n);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM restore_items"), 3);

	/* State and detail of one item. */
	snprintf(items[1].state, sizeof items[1].state, "failed");
	snprintf(items[1].detail, sizeof items[1].detail, "no snapshot holds /s/gone\n\xff");
	snprintf(items[1].kind, sizeof items[1].kind, "ignored");
	assert_int_equal(journal_restore_item_update(j, &items[1]), 0);
	assert_int_equal(journal_restore_items(j, 7, &l, &n), 0);
	assert_string_equal(l[0].state, "failed");
	assert_string_equal(l[0].detail, "no snapshot holds /s/gone\n\xff");
	assert_string_equal(l[0].kind, "unrestorable");
	assert_string_equal(l[1].state, "pending");
	restore_item_free(l, n);
	items[1].id = 99999;
	assert_int_equal(journal_restore_item_update(j, &items[1]), -1);

	/* An empty plan clears it. */
	assert_int_equal(journal_restore_items_set(j, 8, NULL, 0), 0);
	assert_int_equal(journal_restore_items(j, 8, &l, &n), 0);
	assert_int_equal(n, 0);
	restore_item_free(l, n);

	/* A failing insert leaves the old plan whole, in its own transaction ... */
	raw_exec(path, "CREATE TRIGGER boom BEFORE INSERT ON restore_items"
	    " WHEN NEW.kind = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
	make_item(&items[0], 1, "restore", "/s/new", "/snap/new", NULL);
	make_item(&items[1], 2, "boom", "/s/boom", NULL, NULL);
	assert_int_equal(journal_restore_items_set(j, 7, items, 2), -1);
	assert_int_equal(journal_restore_items(j, 7, &l, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].kind, "unrestorable");
	restore_item_free(l, n);

	/* ... and inside the caller's, whose other writes stay and commit. */
	assert_int_equal(journal_begin(j), 0);
	make_incident(&inc, "alice", "10.0.0.1", 1000);
	assert_int_equal(journal_incident_add(j, &inc), 0);
	assert_int_equal(journal_restore_items_set(j, 7, items, 2), -1);
	assert_int_equal(journal_restore_items_set(j, 8, items, 1), 0);
	assert_int_equal(journal_commit(j), 0);
	assert_int_equal(journal_incident_get(j, inc.id, &got), 0);
	assert_int_equal(journal_restore_items(j, 7, &l, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].kind, "unrestorable");
	restore_item_free(l, n);
	assert_int_equal(journal_restore_items(j, 8, &l, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].path, "/s/new");
	restore_item_free(l, n);

	/* Not left in a transaction either way. */
	assert_int_equal(journal_begin(j), 0);
	assert_int_equal(journal_commit(j), 0);
	assert_int_equal(journal_restore_items_set(j, 7, items, 1), 0);
	assert_int_equal(journal_begin(j), 0);
	assert_int_equal(journal_commit(j), 0);
	journal_close(j);
}

/* Schema version 1, as the first releases wrote it. */
static const char schema_v1_sql[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value);"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY, at INTEGER NOT NULL, src INTEGER NOT NULL,"
	" op TEXT NOT NULL, ok INTEGER NOT NULL, flags INTEGER NOT NULL,"
	" pid INTEGER NOT NULL, user TEXT NOT NULL, ip TEXT NOT NULL,"
	" host TEXT NOT NULL, share TEXT NOT NULL, path BLOB NOT NULL, path2 BLOB);"
	"CREATE INDEX events_at ON events (at);"
	"CREATE INDEX events_actor ON events (user, ip, at);"
	"CREATE TABLE incidents ("
	" id INTEGER PRIMARY KEY, state TEXT NOT NULL,"
	" first_event_at INTEGER NOT NULL, detected_at INTEGER NOT NULL,"
	" contained_at INTEGER NOT NULL, released_at INTEGER NOT NULL,"
	" user TEXT NOT NULL, domain TEXT NOT NULL, ip TEXT NOT NULL,"
	" mac TEXT NOT NULL, host TEXT NOT NULL, switch TEXT NOT NULL,"
	" port TEXT NOT NULL, smbd_pid INTEGER NOT NULL, score REAL NOT NULL,"
	" monitor INTEGER NOT NULL);"
	"CREATE TABLE signals ("
	" id INTEGER PRIMARY KEY,"
	" incident_id INTEGER NOT NULL REFERENCES incidents (id),"
	" kind TEXT NOT NULL, path BLOB NOT NULL, at INTEGER NOT NULL,"
	" weight REAL NOT NULL, detail TEXT NOT NULL);"
	"CREATE INDEX signals_incident ON signals (incident_id);"
	"CREATE TABLE actions ("
	" id INTEGER PRIMARY KEY,"
	" incident_id INTEGER NOT NULL REFERENCES incidents (id),"
	" kind TEXT NOT NULL, target TEXT NOT NULL, result TEXT NOT NULL,"
	" at INTEGER NOT NULL, detail TEXT NOT NULL, undone_at INTEGER NOT NULL,"
	" undo_result TEXT NOT NULL, undo_detail TEXT NOT NULL);"
	"CREATE INDEX actions_incident ON actions (incident_id);"
	"CREATE TABLE stats (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO meta (key, value) VALUES ('schema_version', 1);"
	"PRAGMA journal_mode = WAL;"
	"INSERT INTO incidents VALUES (1, 'contained', 1000, 2500, 2600, 0, 'alice', 'LAB',"
	" '10.0.0.1', '02:00:00:00:01:01', 'CLIENT1', 'switch1', 'ge-0/0/7', 4242, 25.5, 0);"
	"INSERT INTO signals VALUES (1, 1, 'ransom_note', CAST('/s/README|.txt' AS BLOB), 1200,"
	" 10, 'note');"
	"INSERT INTO actions VALUES (1, 1, 'kill_session', 'alice', 'ok', 2600, '', 0, '', '');"
	"INSERT INTO events VALUES (1, 1100, 0, 'write', 1, 0, 4242, 'alice', '10.0.0.1',"
	" 'CLIENT1', 'data', CAST('/s/a' AS BLOB), NULL);"
	"INSERT INTO stats VALUES ('events', 1);";

/* A version-1 journal: read-only opens read it as it is, the first writer upgrades it in place. */
static void
test_migration(void **state)
{
	const char *path = tpath("v1.db");
	struct journal *ro, *j;
	struct incident inc;
	struct signal_rec *sig;
	struct action *acts;
	struct file_rec *f;
	struct event_rec *e;
	struct snap_rec sr, *snaps;
	struct restore_rec rr;
	struct restore_item it, *items;
	size_t n;
	int64_t v;
	char *s;

	(void)state;
	raw_exec(path, schema_v1_sql);
	assert_int_equal(chmod(path, 0600), 0);

	ro = open_ok(path, 1);
	assert_int_equal(journal_incident_get(ro, 1, &inc), 0);
	assert_string_equal(inc.user, "alice");
	assert_int_equal(journal_events_since(ro, 0, &e, &n), 0);
	assert_int_equal(n, 1);
	event_rec_free(e, n);
	assert_int_equal(journal_snapshot_list(ro, NULL, &snaps, &n), 0);
	assert_int_equal(n, 0);
	assert_null(snaps);
	assert_int_equal(journal_restore_get(ro, 1, &rr), 1);
	assert_int_equal(journal_restore_items(ro, 1, &items, &n), 0);
	assert_int_equal(n, 0);
	restore_item_free(items, n);
	make_snap(&sr, "data", "x", 1, "manual", 0);
	assert_int_equal(journal_snapshot_add(ro, &sr), -1);
	assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 1);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'snapshots'"),
	    0);

	/* The writer upgrades while the old reader stays open. */
	j = open_ok(path, 0);
	assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 7);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master"
	    " WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name)");
	assert_string_equal(s, "actions,actions_incident,events,events_actor,events_at,fleet_out,fleet_out_due,"
	    "fleet_servers,incidents,incidents_origin,meta,notices,notices_incident,outbox,outbox_due,"
	    "outbox_incident,replication,replication_share,replication_state,restore_items,"
	    "restore_items_incident,restores,signals,signals_incident,snapshots,"
	    "stats");
	free(s);
	assert_int_equal(journal_incident_get(ro, 1, &inc), 0);
	journal_close(ro);

	/* Everything version 1 held is still there. */
	assert_int_equal(journal_incident_get(j, 1, &inc), 0);
	assert_string_equal(inc.state, "contained");
	assert_string_equal(inc.port, "ge-0/0/7");
	assert_int_equal(journal_signal_list(j, 1, &sig, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(sig[0].path, "/s/README|.txt");
	signal_rec_free(sig, n);
	assert_int_equal(journal_action_list(j, 1, &acts, &n), 0);
	assert_int_equal(n, 1);
	free(acts);
	assert_int_equal(journal_files(j, "alice", "10.0.0.1", 0, &f, &n), 0);
	assert_int_equal(n, 1);
	file_rec_free(f, n);
	assert_int_equal(journal_stat_get(j, "events", &v), 0);
	assert_int_equal(v, 1);

	/* And version 2 works. */
	assert_int_equal(journal_snapshot_add(j, &sr), 0);
	memset(&rr, 0, sizeof rr);
	rr.incident_id = 1;
	snprintf(rr.state, sizeof rr.state, "%s", RESTORE_DONE);
	assert_int_equal(journal_restore_put(j, &rr), 0);
	make_item(&it, 1, "restore", "/s/a", "/snap/a", NULL);
	assert_int_equal(journal_restore_items_set(j, 1, &it, 1), 0);
	make_incident(&inc, "bob", "10.0.0.2", 5000);
	assert_int_equal(journal_incident_add(j, &inc), 0);
	assert_int_equal(inc.id, 2);
	journal_close(j);

	/* Reopened: no second upgrade, the new rows kept. */
	j = open_ok(path, 0);
	journal_close(j);
	ro = open_ok(path, 1);
	assert_int_equal(journal_snapshot_list(ro, NULL, &snaps, &n), 0);
	assert_int_equal(n, 1);
	free(snaps);
	assert_int_equal(journal_restore_get(ro, 1, &rr), 0);
	assert_string_equal(rr.state, "done");
	assert_int_equal(journal_restore_items(ro, 1, &items, &n), 0);
	assert_int_equal(n, 1);
	restore_item_free(items, n);
	journal_close(ro);
	s = raw_text(path, "PRAGMA integrity_check");
	assert_string_equal(s, "ok");
	free(s);
}

/* What version 2 added to version 1, as those releases wrote it. */
static const char schema_v2_add_sql[] =
	"CREATE TABLE snapshots ("
	" id INTEGER PRIMARY KEY, share TEXT NOT NULL, name TEXT NOT NULL,"
	" taken_at INTEGER NOT NULL, reason TEXT NOT NULL, incident_id INTEGER NOT NULL,"
	" removed_at INTEGER NOT NULL, UNIQUE (share, name));"
	"CREATE TABLE restores ("
	" incident_id INTEGER PRIMARY KEY, state TEXT NOT NULL, share TEXT NOT NULL,"
	" snapshot TEXT NOT NULL, snapshot_at INTEGER NOT NULL, started_at INTEGER NOT NULL,"
	" finished_at INTEGER NOT NULL, restored INTEGER NOT NULL, removed INTEGER NOT NULL,"
	" conflicts INTEGER NOT NULL, failed INTEGER NOT NULL, unrestorable INTEGER NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE TABLE restore_items ("
	" id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" kind TEXT NOT NULL, path BLOB NOT NULL, src BLOB, aux BLOB,"
	" size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, state TEXT NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE INDEX restore_items_incident ON restore_items (incident_id, seq);"
	"INSERT INTO snapshots VALUES (1, 'data', 'sw-1', 900, 'schedule', 0, 0);"
	"INSERT INTO actions VALUES (2, 1, 'lock_account', 'alice', 'ok', 2550, '', 0, '', '');"
	"UPDATE meta SET value = 2 WHERE key = 'schema_version';";

/* A version-2 journal: read as it is read-only (mac_source empty, no outbox); the writer adds version 3. */
static void
test_migration_v2(void **state)
{
	const char *path = tpath("v2.db");
	struct journal *ro, *j;
	struct incident inc, *list;
	struct outbox_msg *msgs, m;
	struct action a;
	struct snap_rec *snaps;
	size_t n;
	int k;
	char *s;

	(void)state;
	raw_exec(path, schema_v1_sql);
	raw_exec(path, schema_v2_add_sql);
	assert_int_equal(chmod(path, 0600), 0);

	ro = open_ok(path, 1);
	assert_int_equal(journal_incident_get(ro, 1, &inc), 0);
	assert_string_equal(inc.user, "alice");
	assert_string_equal(inc.mac_source, "");
	assert_int_equal(journal_incident_list(ro, &list, &n), 0);
	assert_int_equal(n, 1);
	free(list);
	assert_int_equal(journal_outbox_list(ro, 0, &msgs, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(journal_outbox_due(ro, INT64_MAX, &msgs, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(journal_isolations_since(ro, 0, &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(journal_snapshot_list(ro, NULL, &snaps, &n), 0);
	assert_int_equal(n, 1);
	free(snaps);
	assert_int_equal(journal_incident_update(ro, &inc), -1);
	assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 2);

	j = open_ok(path, 0);
	assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 7);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('incidents') ORDER BY cid)");
	assert_string_equal(s, "id,state,first_event_at,detected_at,contained_at,released_at,"
	    "user,domain,ip,mac,host,switch,port,smbd_pid,score,monitor,mac_source,origin");
	free(s);
	/* The old reader keeps reading through its version-2 statements. */
	assert_int_equal(journal_incident_get(ro, 1, &inc), 0);
	journal_close(ro);

	assert_int_equal(journal_incident_get(j, 1, &inc), 0);
	assert_string_equal(inc.port, "ge-0/0/7");
	assert_string_equal(inc.mac_source, "");
	snprintf(inc.mac_source, sizeof inc.mac_source, "neighbour");
	assert_int_equal(journal_incident_update(j, &inc), 0);
	memset(&a, 0, sizeof a);
	a.incident_id = 1;
	snprintf(a.kind, sizeof a.kind, "notify_mail");
	snprintf(a.result, sizeof a.result, "queued");
	memset(&m, 0, sizeof m);
	snprintf(m.channel, sizeof m.channel, "mail");
	snprintf(m.state, sizeof m.state, "%s", OUTBOX_QUEUED);
	assert_int_equal(journal_outbox_add(j, &a, &m), 0);
	journal_close(j);

	ro = open_ok(path, 1);
	assert_int_equal(journal_incident_get(ro, 1, &inc), 0);
	assert_string_equal(inc.mac_source, "neighbour");
	assert_int_equal(journal_outbox_list(ro, 1, &msgs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(msgs[0].target, "");
	outbox_msg_free(msgs, n);
	journal_close(ro);
	s = raw_text(path, "PRAGMA integrity_check");
	assert_string_equal(s, "ok");
	free(s);
}

/* What version 3 added to version 2, as those releases wrote it. */
static const char schema_v3_add_sql[] =
	"ALTER TABLE incidents ADD COLUMN mac_source TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL, action_id INTEGER NOT NULL,"
	" channel TEXT NOT NULL, target TEXT NOT NULL, stage TEXT NOT NULL,"
	" subject TEXT NOT NULL, body BLOB NOT NULL, content_type TEXT NOT NULL,"
	" attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
	" sent_at INTEGER NOT NULL, last_error TEXT NOT NULL, state TEXT NOT NULL);"
	"CREATE INDEX outbox_due ON outbox (state, next_at);"
	"CREATE INDEX outbox_incident ON outbox (incident_id);"
	"UPDATE meta SET value = 3 WHERE key = 'schema_version';";

/* What version 6 added, taken away again: a version-6 journal made to look as version 5 left it. */
#define UNDO_V7 \
	"DROP INDEX replication_share; DROP TABLE replication; DROP TABLE replication_state;"
#define UNDO_V6 UNDO_V7 \
	"DROP INDEX incidents_origin; ALTER TABLE incidents DROP COLUMN origin;" \
	"DROP TABLE fleet_out; DROP TABLE fleet_servers;"

/*
 * A version-5 journal: its incidents read as this server's own (no origin),
 * read-only opens find no fleet; the writer adds the origin and the fleet's
 * tables, and the old incidents keep every field.
 */
static void
test_migration_v5(void **state)
{
	const char *path = tpath("v5.db");
	struct journal *ro, *j;
	struct incident inc, got;
	struct fleet_out *m;
	struct fleet_server *fs;
	int64_t count, oldest;
	size_t n;

	(void)state;
	j = open_ok(path, 0);
	memset(&inc, 0, sizeof inc);
	snprintf(inc.state, sizeof inc.state, "%s", INC_CONTAINED);
	snprintf(inc.user, sizeof inc.user, "alice");
	snprintf(inc.ip, sizeof inc.ip, "10.0.0.11");
	inc.detected_at = 1000;
	assert_int_equal(journal_incident_add(j, &inc), 0);
	journal_close(j);
	raw_exec(path, UNDO_V6 "UPDATE meta SET value = 5 WHERE key = 'schema_version'");

	ro = open_ok(path, 1);
	assert_int_equal(journal_incident_get(ro, inc.id, &got), 0);
	assert_string_equal(got.user, "alice");
	assert_string_equal(got.origin, "");
	assert_int_equal(journal_incident_by_origin(ro, "a/b#1", &got), 1);
	assert_int_equal(journal_fleet_server_list(ro, &fs, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(journal_fleet_pending(ro, &count, &oldest), 0);
	assert_int_equal(count, 0);
	assert_int_equal(journal_incident_add(ro, &inc), -1);

	j = open_ok(path, 0);
	assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 7);
	assert_int_equal(journal_incident_get(j, inc.id, &got), 0);
	assert_string_equal(got.user, "alice");
	assert_string_equal(got.state, INC_CONTAINED);
	assert_int_equal(got.detected_at, 1000);
	/* An incident of the fleet, found by its origin. */
	memset(&inc, 0, sizeof inc);
	snprintf(inc.state, sizeof inc.state, "%s", INC_OPEN);
	snprintf(inc.user, sizeof inc.user, "bob");
	snprintf(inc.origin, sizeof inc.origin, "site1/srv1#7");
	assert_int_equal(journal_incident_add(j, &inc), 0);
	assert_int_equal(journal_incident_by_origin(j, "site1/srv1#7", &got), 0);
	assert_int_equal(got.id, inc.id);
	assert_string_equal(got.user, "bob");
	assert_int_equal(journal_incident_by_origin(j, "site1/srv1#8", &got), 1);
	/* The fleet's outbox: one row per message id, oldest first, until sent. */
	assert_int_equal(journal_fleet_add(j, "sharewarden.s.a.incident", "incident s/a#1", "{}", 2), 0);
	assert_int_equal(journal_fleet_add(j, "sharewarden.s.a.incident", "incident s/a#1", "{}", 2), 0);
	assert_int_equal(journal_fleet_add(j, "sharewarden.s.a.release", "release s/a#1", "{\"x\":1}", 7), 0);
	assert_int_equal(journal_fleet_due(j, 10, &m, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].msg_id, "incident s/a#1");
	assert_string_equal(m[1].payload, "{\"x\":1}");
	assert_int_equal(m[1].len, 7);
	m[0].sent_at = 5;
	m[0].attempts = 1;
	assert_int_equal(journal_fleet_done(j, &m[0]), 0);
	snprintf(m[1].last_error, sizeof m[1].last_error, "no responders");
	m[1].attempts = 1;
	assert_int_equal(journal_fleet_done(j, &m[1]), 0);
	fleet_out_free(m, n);
	assert_int_equal(journal_fleet_pending(j, &count, &oldest), 0);
	assert_int_equal(count, 1);
	assert_true(oldest > 0);
	assert_int_equal(journal_fleet_due(j, 10, &m, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].last_error, "no responders");
	fleet_out_free(m, n);
	journal_close(j);
	/* The old reader still reads through its version-5 statements. */
	assert_int_equal(journal_incident_get(ro, 1, &got), 0);
	journal_close(ro);
}

/*
 * A version-6 journal: read-only opens find nothing replicated; the writer
 * adds replication's tables; what was sent and what a cycle found round-trip.
 */
static void
test_migration_v6(void **state)
{
	const char *path = tpath("v6.db");
	struct journal *ro, *j;
	struct repl_rec r, got;
	struct repl_state st, gst;

	(void)state;
	journal_close(open_ok(path, 0));
	raw_exec(path, UNDO_V7 "UPDATE meta SET value = 6 WHERE key = 'schema_version'");
	ro = open_ok(path, 1);
	assert_int_equal(journal_repl_last(ro, "data", &got), 1);
	assert_int_equal(journal_repl_state_get(ro, "data", &gst), 1);
	assert_string_equal(gst.share, "data");
	memset(&r, 0, sizeof r);
	assert_int_equal(journal_repl_add(ro, &r), -1);
	journal_close(ro);

	j = open_ok(path, 0);
	assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 7);
	assert_int_equal(journal_repl_last(j, "data", &got), 1);
	snprintf(r.share, sizeof r.share, "data");
	snprintf(r.snapshot, sizeof r.snapshot, "@GMT-2026.12.01-10.00.00");
	snprintf(r.target, sizeof r.target, "root@replica");
	r.taken_at = 10;
	r.sent_at = 20;
	r.bytes = 12345;
	r.ms = 67;
	assert_int_equal(journal_repl_add(j, &r), 0);
	snprintf(r.snapshot, sizeof r.snapshot, "@GMT-2026.12.01-10.15.00");
	snprintf(r.parent, sizeof r.parent, "@GMT-2026.12.01-10.00.00");
	r.sent_at = 30;
	assert_int_equal(journal_repl_add(j, &r), 0);
	assert_int_equal(journal_repl_last(j, "data", &got), 0);
	assert_string_equal(got.snapshot, "@GMT-2026.12.01-10.15.00");
	assert_string_equal(got.parent, "@GMT-2026.12.01-10.00.00");
	assert_int_equal(got.bytes, 12345);
	assert_int_equal(got.ms, 67);
	assert_int_equal(journal_repl_last(j, "other", &got), 1);
	memset(&st, 0, sizeof st);
	snprintf(st.share, sizeof st.share, "data");
	st.checked_at = 40;
	snprintf(st.replica_newest, sizeof st.replica_newest, "@GMT-2026.12.01-10.15.00");
	snprintf(st.held, sizeof st.held, "incident 3 is open");
	assert_int_equal(journal_repl_state_put(j, &st), 0);
	st.checked_at = 50;
	snprintf(st.last_error, sizeof st.last_error, "ssh failed: name | with\nnewline");
	assert_int_equal(journal_repl_state_put(j, &st), 0);
	assert_int_equal(journal_repl_state_get(j, "data", &gst), 0);
	assert_int_equal(gst.checked_at, 50);
	assert_string_equal(gst.held, "incident 3 is open");
	assert_string_equal(gst.last_error, "ssh failed: name | with\nnewline");
	journal_close(j);
}

/*
 * A version-3 journal: its actions read as done (read-only, and after the
 * writer adds version 4's action state); a running action is journaled and
 * finished in place, one row.
 */
static void
test_migration_v3(void **state)
{
	const char *path = tpath("v3.db");
	struct journal *ro, *j;
	struct action *acts, a;
	size_t n;
	char *s;

	(void)state;
	raw_exec(path, schema_v1_sql);
	raw_exec(path, schema_v2_add_sql);
	raw_exec(path, schema_v3_add_sql);
	assert_int_equal(chmod(path, 0600), 0);

	ro = open_ok(path, 1);
	assert_int_equal(journal_action_list(ro, 1, &acts, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(acts[0].state, ACT_DONE);
	assert_string_equal(acts[1].kind, "lock_account");
	assert_string_equal(acts[1].state, ACT_DONE);
	free(acts);
	memset(&a, 0, sizeof a);
	a.id = 2;
	assert_int_equal(journal_action_finish(ro, &a), -1);
	assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 3);

	j = open_ok(path, 0);
	assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 7);
	s = raw_text(path, "SELECT group_concat(name, ',') FROM"
	    " (SELECT name FROM pragma_table_info('actions') ORDER BY cid)");
	assert_string_equal(s, "id,incident_id,kind,target,result,at,detail,undone_at,undo_result,"
	    "undo_detail,state");
	free(s);
	/* The old reader keeps reading through its version-3 statements. */
	assert_int_equal(journal_action_list(ro, 1, &acts, &n), 0);
	assert_int_equal(n, 2);
	free(acts);
	journal_close(ro);

	assert_int_equal(raw_int(path, "SELECT count(*) FROM actions WHERE state = 'done'"), 2);
	/* Running before the responder acts, with what it found; done after, in the same row. */
	memset(&a, 0, sizeof a);
	a.incident_id = 1;
	snprintf(a.kind, sizeof a.kind, "port_down");
	snprintf(a.result, sizeof a.result, "%s", ACT_RUNNING);
	snprintf(a.state, sizeof a.state, "%s", ACT_RUNNING);
	assert_int_equal(journal_action_add(j, &a), 0);
	assert_int_equal(a.id, 3);
	snprintf(a.detail, sizeof a.detail, "shut lab ifindex=3 before=1 port=sw-c1; in progress");
	assert_int_equal(journal_action_finish(j, &a), 0);
	journal_close(j);

	j = open_ok(path, 0);
	assert_int_equal(journal_action_list(j, 1, &acts, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(acts[2].state, ACT_RUNNING);
	assert_string_equal(acts[2].result, ACT_RUNNING);
	assert_string_equal(acts[2].detail, "shut lab ifindex=3 before=1 port=sw-c1; in progress");
	a = acts[2];
	free(acts);
	snprintf(a.result, sizeof a.result, "ok");
	snprintf(a.target, sizeof a.target, "lab sw-c1");
	snprintf(a.detail, sizeof a.detail, "shut lab ifindex=3 before=1; lab sw-c1 (1 MAC)");
	snprintf(a.state, sizeof a.state, "%s", ACT_DONE);
	assert_int_equal(journal_action_finish(j, &a), 0);
	/* An action added without a state is done (notices, port_down's error records). */
	memset(&a, 0, sizeof a);
	a.incident_id = 1;
	snprintf(a.kind, sizeof a.kind, "notify_syslog");
	snprintf(a.result, sizeof a.result, "ok");
	assert_int_equal(journal_action_add(j, &a), 0);
	assert_int_equal(journal_action_list(j, 1, &acts, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(acts[2].state, ACT_DONE);
	assert_string_equal(acts[2].result, "ok");
	assert_string_equal(acts[2].target, "lab sw-c1");
	assert_string_equal(acts[3].state, ACT_DONE);
	free(acts);
	memset(&a, 0, sizeof a);
	a.id = 99;
	assert_int_equal(journal_action_finish(j, &a), -1);
	journal_close(j);
	s = raw_text(path, "PRAGMA integrity_check");
	assert_string_equal(s, "ok");
	free(s);
}

static struct notice
notice(int64_t incident_id, int64_t first_at, const char *detail)
{
	struct notice no;

	memset(&no, 0, sizeof no);
	snprintf(no.kind, sizeof no.kind, "%s", NOTICE_KERNEL_OVERFLOW);
	no.incident_id = incident_id;
	no.first_at = no.last_at = first_at;
	no.count = 1;
	snprintf(no.detail, sizeof no.detail, "%s", detail);
	return no;
}

/*
 * Notices (events lost to a kernel queue overflow): the daemon's own and one
 * per incident, updated as the overflows go on, listed latest first. A
 * version-3 journal reads as having none until a writer adds the table.
 */
static void
test_notices(void **state)
{
	const char *path = tpath("notices.db");
	struct journal *j, *ro;
	struct notice a, b, c, *list;
	size_t n;

	(void)state;
	j = open_ok(path, 0);
	a = notice(0, 1000, "lost");
	b = notice(1, 1000, "lost during incident 1");
	assert_int_equal(journal_notice_add(j, &a), 0);
	assert_int_equal(journal_notice_add(j, &b), 0);
	assert_true(a.id > 0 && b.id > a.id);
	a.last_at = 4000;
	a.count = 37;
	snprintf(a.detail, sizeof a.detail, "lost 37 times");
	assert_int_equal(journal_notice_update(j, &a), 0);
	c = notice(0, 9000, "again");
	assert_int_equal(journal_notice_add(j, &c), 0);

	assert_int_equal(journal_notice_list(j, 0, 10, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, c.id);
	assert_int_equal(list[1].id, a.id);
	assert_string_equal(list[1].kind, NOTICE_KERNEL_OVERFLOW);
	assert_int_equal(list[1].first_at, 1000);
	assert_int_equal(list[1].last_at, 4000);
	assert_int_equal(list[1].count, 37);
	assert_string_equal(list[1].detail, "lost 37 times");
	free(list);
	assert_int_equal(journal_notice_list(j, 0, 1, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].id, c.id);
	free(list);
	assert_int_equal(journal_notice_list(j, 1, 10, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].detail, "lost during incident 1");
	free(list);
	assert_int_equal(journal_notice_list(j, 2, 10, &list, &n), 0);
	assert_int_equal(n, 0);
	free(list);
	journal_close(j);

	/* As a version-4 journal: no notices table yet. */
	raw_exec(path, UNDO_V6 "DROP TABLE notices; UPDATE meta SET value = 4 WHERE key = 'schema_version'");
	ro = open_ok(path, 1);
	assert_int_equal(journal_notice_list(ro, 0, 10, &list, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(journal_notice_add(ro, &a), -1);
	j = open_ok(path, 0);
	assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 7);
	a = notice(0, 20000, "after the upgrade");
	assert_int_equal(journal_notice_add(j, &a), 0);
	assert_int_equal(journal_notice_list(j, 0, 10, &list, &n), 0);
	assert_int_equal(n, 1);
	free(list);
	journal_close(j);
	journal_close(ro);
}

static void
make_msg(struct outbox_msg *m, const char *channel, const char *target, const char *body,
    size_t bodylen, int64_t next_at)
{
	memset(m, 0, sizeof *m);
	snprintf(m->channel, sizeof m->channel, "%s", channel);
	m->target = (char *)target;
	snprintf(m->stage, sizeof m->stage, "contained");
	m->subject = (char *)"[sharewarden] incident";
	m->body = (char *)body;
	m->body_len = bodylen;
	snprintf(m->content_type, sizeof m->content_type, "application/json");
	m->next_at = next_at;
	m->created_at = next_at;
	snprintf(m->state, sizeof m->state, "%s", OUTBOX_QUEUED);
}

static void
make_action(struct action *a, int64_t incident_id, const char *kind, const char *result, int64_t at)
{
	memset(a, 0, sizeof *a);
	a->incident_id = incident_id;
	snprintf(a->kind, sizeof a->kind, "%s", kind);
	snprintf(a->target, sizeof a->target, "target");
	snprintf(a->result, sizeof a->result, "%s", result);
	a->at = at;
}

/* The outbox: queued with its action as one change, due by time, claimed once, updated with its action. */
static void
test_outbox(void **state)
{
	struct journal *j = open_ok(tpath("outbox.db"), 0), *j2;
	static const char body[] = "line1\r\nBcc: x\0after NUL \xff\xfe";
	struct incident inc;
	struct action a, b, *acts;
	struct outbox_msg m1, m2, *due, *all;
	size_t n;

	(void)state;
	make_incident(&inc, "alice", "10.0.0.1", 1000);
	assert_int_equal(journal_incident_add(j, &inc), 0);
	make_action(&a, inc.id, "notify_mail", "queued", 5000);
	make_msg(&m1, "mail", "it@example.org, sec@example.org", body, sizeof body - 1, 5000);
	assert_int_equal(journal_outbox_add(j, &a, &m1), 0);
	assert_true(a.id > 0);
	assert_int_equal(m1.action_id, a.id);
	assert_int_equal(m1.incident_id, inc.id);
	make_action(&b, inc.id, "notify_webhook", "queued", 5000);
	make_msg(&m2, "webhook", "http://127.0.0.1:1/hook", "{}", 2, 7000);
	assert_int_equal(journal_outbox_add(j, &b, &m2), 0);
	assert_true(m2.id > m1.id);

	/* Due by next_at, most overdue first; the body's bytes kept exactly. */
	assert_int_equal(journal_outbox_due(j, 4999, &due, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(journal_outbox_due(j, 6000, &due, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].id, m1.id);
	assert_int_equal(due[0].body_len, sizeof body - 1);
	assert_memory_equal(due[0].body, body, sizeof body - 1);
	assert_string_equal(due[0].target, "it@example.org, sec@example.org");
	assert_string_equal(due[0].channel, "mail");
	assert_string_equal(due[0].stage, "contained");
	assert_string_equal(due[0].state, "queued");

	/* Only one sender takes a message. */
	j2 = open_ok(tpath("outbox.db"), 0);
	assert_int_equal(journal_outbox_claim(j, &due[0], 60000), 0);
	assert_int_equal(due[0].next_at, 60000);
	m1.next_at = 5000;
	assert_int_equal(journal_outbox_claim(j2, &m1, 70000), 1);
	journal_close(j2);
	assert_int_equal(journal_outbox_due(j, 8000, &all, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(all[0].id, m2.id);
	outbox_msg_free(all, n);

	/* A failed attempt: the message waits, its action says why and stays queued. */
	due[0].attempts = 1;
	due[0].next_at = 10000;
	snprintf(due[0].last_error, sizeof due[0].last_error, "Couldn't connect to server");
	assert_int_equal(journal_outbox_update(j, &due[0], "queued",
	    "attempt 1 failed: Couldn't connect to server"), 0);
	assert_int_equal(journal_action_list(j, inc.id, &acts, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(acts[0].result, "queued");
	assert_string_equal(acts[0].detail, "attempt 1 failed: Couldn't connect to server");
	free(acts);
	/* Then sent. */
	due[0].attempts = 2;
	due[0].sent_at = 11000;
	snprintf(due[0].state, sizeof due[0].state, "%s", OUTBOX_SENT);
	assert_int_equal(journal_outbox_update(j, &due[0], "ok", "sent to it@example.org"), 0);
	assert_int_equal(journal_outbox_claim(j, &due[0], 90000), 1);
	assert_int_equal(journal_outbox_due(j, INT64_MAX, &all, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(all[0].id, m2.id);
	outbox_msg_free(all, n);
	assert_int_equal(journal_outbox_list(j, inc.id, &all, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(all[0].state, "sent");
	assert_int_equal(all[0].attempts, 2);
	assert_int_equal(all[0].sent_at, 11000);
	assert_string_equal(all[0].last_error, "Couldn't connect to server");
	outbox_msg_free(all, n);
	assert_int_equal(journal_outbox_list(j, 999, &all, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(journal_action_list(j, inc.id, &acts, &n), 0);
	assert_string_equal(acts[0].result, "ok");
	assert_string_equal(acts[0].detail, "sent to it@example.org");
	assert_string_equal(acts[1].result, "queued");
	free(acts);
	outbox_msg_free(due, 1);

	/* An update of a message that does not exist changes nothing, its action included. */
	m2.id = 4242;
	assert_int_equal(journal_outbox_update(j, &m2, "ok", "nope"), -1);
	assert_int_equal(journal_action_list(j, inc.id, &acts, &n), 0);
	assert_string_equal(acts[1].result, "queued");
	free(acts);
	/* Inside the caller's transaction: rolled back with it. */
	assert_int_equal(journal_begin(j), 0);
	make_action(&a, inc.id, "notify_webhook", "queued", 9000);
	make_msg(&m1, "webhook", "http://x/", "{}", 2, 9000);
	assert_int_equal(journal_outbox_add(j, &a, &m1), 0);
	/* An action of an incident that does not exist fails; the savepoint undoes only it. */
	make_action(&b, 777, "notify_webhook", "queued", 9000);
	make_msg(&m2, "webhook", "http://y/", "{}", 2, 9000);
	assert_int_equal(journal_outbox_add(j, &b, &m2), -1);
	assert_int_equal(journal_commit(j), 0);
	assert_int_equal(journal_outbox_list(j, 0, &all, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(all[2].target, "http://x/");
	outbox_msg_free(all, n);
	journal_close(j);
}

static void
test_action_result(void **state)
{
	struct journal *j = open_ok(tpath("result.db"), 0), *ro;
	struct incident inc;
	struct action a, *acts;
	size_t n;

	(void)state;
	make_incident(&inc, "alice", "10.0.0.1", 1000);
	assert_int_equal(journal_incident_add(j, &inc), 0);
	make_action(&a, inc.id, "notify_mail", "queued", 2000);
	snprintf(a.detail, sizeof a.detail, "contained: queued");
	assert_int_equal(journal_action_add(j, &a), 0);
	assert_int_equal(journal_action_set_result(j, a.id, "failed",
	    "gave up after 24h: 535 5.7.8 'quoted' \\ detail"), 0);
	assert_int_equal(journal_action_list(j, inc.id, &acts, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(acts[0].result, "failed");
	assert_string_equal(acts[0].detail, "gave up after 24h: 535 5.7.8 'quoted' \\ detail");
	assert_string_equal(acts[0].kind, "notify_mail");
	assert_int_equal(acts[0].at, 2000);
	free(acts);
	assert_int_equal(journal_action_set_result(j, 9999, "ok", ""), -1);
	ro = open_ok(tpath("result.db"), 1);
	assert_int_equal(journal_action_set_result(ro, a.id, "ok", ""), -1);
	journal_close(ro);
	journal_close(j);
}

/* The circuit breaker's count: distinct actors with a successful isolating action since a time, not released. */
static void
test_isolations(void **state)
{
	struct journal *j = open_ok(tpath("isolations.db"), 0);
	struct incident inc[6];
	struct action a;
	char user[8];
	int n;

	(void)state;
	for (int i = 0; i < 4; i++) {
		snprintf(user, sizeof user, "u%d", i);
		make_incident(&inc[i], user, "10.0.0.9", 1000 + i);
		assert_int_equal(journal_incident_add(j, &inc[i]), 0);
	}
	assert_int_equal(journal_isolations_since(j, 0, &n), 0);
	assert_int_equal(n, 0);
	/* Incident 1: three isolating actions count once. */
	make_action(&a, inc[0].id, "lock_account", "ok", 10000);
	assert_int_equal(journal_action_add(j, &a), 0);
	make_action(&a, inc[0].id, "block_ip", "ok", 10001);
	assert_int_equal(journal_action_add(j, &a), 0);
	make_action(&a, inc[0].id, "port_down", "ok", 10002);
	a.undone_at = 20000;
	assert_int_equal(journal_action_add(j, &a), 0);
	/* Incident 2: failed, skipped and non-isolating actions do not count. */
	make_action(&a, inc[1].id, "block_ip", "failed", 11000);
	assert_int_equal(journal_action_add(j, &a), 0);
	make_action(&a, inc[1].id, "port_down", "skipped", 11000);
	assert_int_equal(journal_action_add(j, &a), 0);
	make_action(&a, inc[1].id, "kill_session", "ok", 11000);
	assert_int_equal(journal_action_add(j, &a), 0);
	make_action(&a, inc[1].id, "deny_writer", "ok", 11000);
	assert_int_equal(journal_action_add(j, &a), 0);
	make_action(&a, inc[1].id, "snapshot", "ok", 11000);
	assert_int_equal(journal_action_add(j, &a), 0);
	/* Incidents 3 and 4: one each, at different times. */
	make_action(&a, inc[2].id, "port_down", "ok", 12000);
	assert_int_equal(journal_action_add(j, &a), 0);
	make_action(&a, inc[3].id, "block_ip", "ok", 13000);
	assert_int_equal(journal_action_add(j, &a), 0);

	assert_int_equal(journal_isolations_since(j, 0, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(journal_isolations_since(j, 10002, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(journal_isolations_since(j, 10003, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(journal_isolations_since(j, 12001, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(journal_isolations_since(j, 13001, &n), 0);
	assert_int_equal(n, 0);

	/* The same actor again is one actor; a released incident no longer counts. */
	make_incident(&inc[4], "u3", "10.0.0.9", 1004);
	assert_int_equal(journal_incident_add(j, &inc[4]), 0);
	make_action(&a, inc[4].id, "lock_account", "ok", 14000);
	assert_int_equal(journal_action_add(j, &a), 0);
	make_incident(&inc[5], "u5", "10.0.0.9", 1005);
	assert_int_equal(journal_incident_add(j, &inc[5]), 0);
	make_action(&a, inc[5].id, "lock_account", "ok", 14000);
	assert_int_equal(journal_action_add(j, &a), 0);
	assert_int_equal(journal_isolations_since(j, 0, &n), 0);
	assert_int_equal(n, 4);
	snprintf(inc[5].state, sizeof inc[5].state, "%s", INC_RELEASED);
	assert_int_equal(journal_incident_update(j, &inc[5]), 0);
	assert_int_equal(journal_isolations_since(j, 0, &n), 0);
	assert_int_equal(n, 3);
	journal_close(j);
}

/*
 * A second connection in the same process (the daemon's threads) must not
 * drop the first one's locks: another process opening and closing the
 * journal would then take itself for the last user and delete the live WAL,
 * and later writes would be lost. The other process is sqlite3(1): a forked
 * copy of this one would share its idea of the locks.
 */
/* The daemon notices another connection's commit (a release from the CLI) and not its own. */
static void
test_changed_by_another(void **state)
{
	const char *path = tpath("changed.db");
	struct journal *j1, *j2;
	struct incident inc;

	(void)state;
	j1 = open_ok(path, 0);
	j2 = open_ok(path, 0);
	(void)journal_changed(j1);
	assert_int_equal(journal_changed(j1), 0);
	make_incident(&inc, "alice", "10.0.0.5", 1000);
	assert_int_equal(journal_incident_add(j1, &inc), 0);
	assert_int_equal(journal_changed(j1), 0);
	snprintf(inc.state, sizeof inc.state, "%s", INC_RELEASED);
	assert_int_equal(journal_incident_update(j2, &inc), 0);
	assert_int_equal(journal_changed(j1), 1);
	assert_int_equal(journal_changed(j1), 0);
	journal_close(j2);
	journal_close(j1);
}

static void
test_second_connection_keeps_locks(void **state)
{
	const char *path = tpath("twoconn.db");
	struct journal *j1, *j2;
	struct incident inc;
	struct run_result rr;
	char sql[128];

	(void)state;
	if (access("/usr/bin/sqlite3", X_OK) != 0)
		skip();
	j1 = open_ok(path, 0);
	make_incident(&inc, "alice", "10.0.0.5", 1000);
	assert_int_equal(journal_incident_add(j1, &inc), 0);
	j2 = open_ok(path, 0);
	{
		const char *argv[] = { "/usr/bin/sqlite3", path, "SELECT count(*) FROM incidents;", NULL };

		assert_int_equal(run_argv(argv, &rr, 10000), 0);
		assert_int_equal(rr.status, 0);
		run_result_free(&rr);
	}
	/* The first connection goes on writing; another process must see it. */
	make_incident(&inc, "bob", "10.0.0.6", 2000);
	assert_int_equal(journal_incident_add(j1, &inc), 0);
	snprintf(sql, sizeof sql, "SELECT user FROM incidents WHERE id = %lld;", (long long)inc.id);
	{
		const char *argv[] = { "/usr/bin/sqlite3", path, sql, NULL };

		assert_int_equal(run_argv(argv, &rr, 10000), 0);
		assert_int_equal(rr.status, 0);
		assert_string_equal(rr.out, "bob\n");
		run_result_free(&rr);
	}
	journal_close(j2);
	journal_close(j1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_reopen_schema),
		cmocka_unit_test(test_readonly_missing),
		cmocka_unit_test(test_incidents),
		cmocka_unit_test(test_hostile_round_trip),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_prune_and_stats),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_wal_reader),
		cmocka_unit_test(test_crash_safety),
		cmocka_unit_test(test_incident_json),
		cmocka_unit_test(test_incident_print),
		cmocka_unit_test(test_events_since),
		cmocka_unit_test(test_snapshots),
		cmocka_unit_test(test_restores),
		cmocka_unit_test(test_restore_items),
		cmocka_unit_test(test_migration),
		cmocka_unit_test(test_migration_v2),
		cmocka_unit_test(test_migration_v3),
		cmocka_unit_test(test_migration_v5),
		cmocka_unit_test(test_migration_v6),
		cmocka_unit_test(test_notices),
		cmocka_unit_test(test_outbox),
		cmocka_unit_test(test_action_result),
		cmocka_unit_test(test_isolations),
		cmocka_unit_test(test_second_connection_keeps_locks),
		cmocka_unit_test(test_changed_by_another),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
