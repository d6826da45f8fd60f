/*
 * The journal: SQLite in WAL mode holding the events window, incidents, signals, actions,
 * counters, snapshots and restores.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "incident.h"
#include "journal.h"
#include "log.h"
#include "util.h"

#define SCHEMA_VERSION	7

/* Version 1, as the first releases created it. */
static const char schema_sql[] =
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
	"CREATE TABLE stats (key TEXT PRIMARY KEY, value INTEGER NOT NULL);";

/* Version 2 adds snapshots and restores; IF NOT EXISTS lets it upgrade a version-1 journal too. */
static const char schema_v2_sql[] =
	"CREATE TABLE IF NOT EXISTS snapshots ("
	" id INTEGER PRIMARY KEY, share TEXT NOT NULL, name TEXT NOT NULL,"
	" taken_at INTEGER NOT NULL, reason TEXT NOT NULL, incident_id INTEGER NOT NULL,"
	" removed_at INTEGER NOT NULL, UNIQUE (share, name));"
	"CREATE TABLE IF NOT EXISTS restores ("
	" incident_id INTEGER PRIMARY KEY, state TEXT NOT NULL, share TEXT NOT NULL,"
	" snapshot TEXT NOT NULL, snapshot_at INTEGER NOT NULL, started_at INTEGER NOT NULL,"
	" finished_at INTEGER NOT NULL, restored INTEGER NOT NULL, removed INTEGER NOT NULL,"
	" conflicts INTEGER NOT NULL, failed INTEGER NOT NULL, unrestorable INTEGER NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS restore_items ("
	" id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" kind TEXT NOT NULL, path BLOB NOT NULL, src BLOB, aux BLOB,"
	" size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, state TEXT NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS restore_items_incident ON restore_items (incident_id, seq);";

/* Version 3 adds where the MAC came from and the notification outbox. */
static const char schema_v3_sql[] =
	"ALTER TABLE incidents ADD COLUMN mac_source TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY, incident_id INTEGER NOT NULL, action_id INTEGER NOT NULL,"
	" channel TEXT NOT NULL, target TEXT NOT NULL, stage TEXT NOT NULL,"
	" subject TEXT NOT NULL, body BLOB NOT NULL, content_type TEXT NOT NULL,"
	" attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
	" sent_at INTEGER NOT NULL, last_error TEXT NOT NULL, state TEXT NOT NULL);"
	"CREATE INDEX outbox_due ON outbox (state, next_at);"
	"CREATE INDEX outbox_incident ON outbox (incident_id);";

/*
 * Version 4 adds each action's state: "running" is written (and committed)
 * before a responder acts, "done" once its result is journaled, so a daemon
 * killed in between finds what it left unfinished. Older rows were all done.
 */
static const char schema_v4_sql[] =
	"ALTER TABLE actions ADD COLUMN state TEXT NOT NULL DEFAULT 'done';";

/* Version 5 adds notices: what the daemon saw that is neither a signal nor an action (events lost). */
static const char schema_v5_sql[] =
	"CREATE TABLE notices ("
	" id INTEGER PRIMARY KEY, kind TEXT NOT NULL, incident_id INTEGER NOT NULL,"
	" first_at INTEGER NOT NULL, last_at INTEGER NOT NULL, count INTEGER NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE INDEX notices_incident ON notices (incident_id, last_at);";

/*
 * Version 6 adds the fleet: the origin of an incident another server of the
 * fleet opened ("site/server#id", '' for this server's own), the messages
 * waiting for NATS, and the last heartbeat of every server heard from.
 */
static const char schema_v6_sql[] =
	"ALTER TABLE incidents ADD COLUMN origin TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX incidents_origin ON incidents (origin);"
	"CREATE TABLE fleet_out ("
	" id INTEGER PRIMARY KEY, subject TEXT NOT NULL, msg_id TEXT NOT NULL UNIQUE,"
	" payload BLOB NOT NULL, created_at INTEGER NOT NULL, sent_at INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL, last_error TEXT NOT NULL);"
	"CREATE INDEX fleet_out_due ON fleet_out (sent_at, id);"
	"CREATE TABLE fleet_servers ("
	" site TEXT NOT NULL, server TEXT NOT NULL, version TEXT NOT NULL,"
	" last_seen INTEGER NOT NULL, open_incidents INTEGER NOT NULL, pending INTEGER NOT NULL,"
	" detail TEXT NOT NULL, PRIMARY KEY (site, server));";

/*
 * Version 7 adds replication between sites: every snapshot sent to the
 * replica, and per share what the last cycle found (the replica's newest
 * snapshot, why it held, the last error).
 */
static const char schema_v7_sql[] =
	"CREATE TABLE replication ("
	" id INTEGER PRIMARY KEY, share TEXT NOT NULL, snapshot TEXT NOT NULL, taken_at INTEGER NOT NULL,"
	" parent TEXT NOT NULL, target TEXT NOT NULL, sent_at INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" ms INTEGER NOT NULL);"
	"CREATE INDEX replication_share ON replication (share, sent_at);"
	"CREATE TABLE replication_state ("
	" share TEXT PRIMARY KEY, checked_at INTEGER NOT NULL, replica_newest TEXT NOT NULL,"
	" held TEXT NOT NULL, last_error TEXT NOT NULL, last_error_at INTEGER NOT NULL);";

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_EVENT_ADD,
	ST_EVENT_PRUNE,
	ST_INC_GET,
	ST_INC_LIST,
	ST_SIG_ADD,
	ST_SIG_LIST,
	ST_ACT_ADD,
	ST_ACT_UPDATE,
	ST_ACT_LIST,
	ST_FILES,
	ST_STAT_SET,
	ST_STAT_GET,
	ST_EVENTS_SINCE,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_ACT_RESULT,
	ST_ISOLATIONS,
	/* From here on the statements need schema version 2. */
	ST_SNAP_ADD,
	ST_V2_FIRST = ST_SNAP_ADD,
	ST_SNAP_LIST,
	ST_SNAP_REMOVED,
	ST_RESTORE_GET,
	ST_RESTORE_PUT,
	ST_ITEM_CLEAR,
	ST_ITEM_ADD,
	ST_ITEM_LIST,
	ST_ITEM_UPDATE,
	/* From here on the statements need schema version 3. */
	ST_INC_ADD,
	ST_V3_FIRST = ST_INC_ADD,
	ST_INC_UPDATE,
	ST_OUT_ADD,
	ST_OUT_DUE,
	ST_OUT_LIST,
	ST_OUT_CLAIM,
	ST_OUT_UPDATE,
	/* From here on the statements need schema version 4. */
	ST_ACT_FINISH,
	ST_V4_FIRST = ST_ACT_FINISH,
	/* From here on the statements need schema version 5. */
	ST_NOTICE_ADD,
	ST_V5_FIRST = ST_NOTICE_ADD,
	ST_NOTICE_UPDATE,
	ST_NOTICE_LIST,
	/* From here on the statements need schema version 6. */
	ST_INC_ORIGIN,
	ST_V6_FIRST = ST_INC_ORIGIN,
	ST_FLEET_ADD,
	ST_FLEET_DUE,
	ST_FLEET_DONE,
	ST_FLEET_PENDING,
	ST_FLEET_SRV_PUT,
	ST_FLEET_SRV_LIST,
	ST_FLEET_PRUNE,
	/* From here on the statements need schema version 7. */
	ST_REPL_ADD,
	ST_V7_FIRST = ST_REPL_ADD,
	ST_REPL_LAST,
	ST_REPL_STATE_PUT,
	ST_REPL_STATE_GET,
	ST__COUNT
};

#define INC_COLS	"id, state, first_event_at, detected_at, contained_at, released_at," \
			" user, domain, ip, mac, host, switch, port, smbd_pid, score, monitor, mac_source, origin"
/* A journal older than version 6 read as if every incident were this server's own. */
#define INC_COLS_V5	"id, state, first_event_at, detected_at, contained_at, released_at," \
			" user, domain, ip, mac, host, switch, port, smbd_pid, score, monitor, mac_source, ''"
/* A journal older than version 3 read as if mac_source were empty. */
#define INC_COLS_V2	"id, state, first_event_at, detected_at, contained_at, released_at," \
			" user, domain, ip, mac, host, switch, port, smbd_pid, score, monitor, '', ''"
#define OUT_COLS	"id, incident_id, action_id, channel, target, stage, subject, body," \
			" content_type, attempts, next_at, created_at, sent_at, last_error, state"
#define ACT_COLS	"id, incident_id, kind, target, result, at, detail, undone_at," \
			" undo_result, undo_detail, state"
/* A journal older than version 4 read as if every action were done. */
#define ACT_COLS_V3	"id, incident_id, kind, target, result, at, detail, undone_at," \
			" undo_result, undo_detail, 'done'"
#define SNAP_COLS	"share, name, taken_at, reason, incident_id, removed_at"
#define RESTORE_COLS	"incident_id, state, share, snapshot, snapshot_at, started_at," \
			" finished_at, restored, removed, conflicts, failed, unrestorable, detail"
#define ITEM_COLS	"id, incident_id, seq, kind, path, src, aux, size, mtime_ns, state, detail"

/* Incident and action statements share one parameter numbering: ?1 is the id. */
static const char *const stmt_sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_EVENT_ADD] = "INSERT INTO events (at, src, op, ok, flags, pid, user, ip, host,"
	    " share, path, path2) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_EVENT_PRUNE] = "DELETE FROM events WHERE at < ?",
	[ST_INC_GET] = "SELECT " INC_COLS " FROM incidents WHERE id = ?",
	[ST_INC_LIST] = "SELECT " INC_COLS " FROM incidents ORDER BY id DESC",
	[ST_SIG_ADD] = "INSERT INTO signals (incident_id, kind, path, at, weight, detail)"
	    " VALUES (?, ?, ?, ?, ?, ?)",
	[ST_SIG_LIST] = "SELECT kind, path, at, weight, detail FROM signals"
	    " WHERE incident_id = ? ORDER BY at, id",
	[ST_ACT_ADD] = "INSERT INTO actions (incident_id, kind, target, result, at, detail,"
	    " undone_at, undo_result, undo_detail, state)"
	    " VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_ACT_UPDATE] = "UPDATE actions SET undone_at = ?8, undo_result = ?9, undo_detail = ?10"
	    " WHERE id = ?1",
	[ST_ACT_LIST] = "SELECT " ACT_COLS " FROM actions WHERE incident_id = ? ORDER BY id",
	[ST_FILES] = "SELECT path, path2, op, at FROM events"
	    " WHERE user = ? AND ip = ? AND at >= ? AND ok = 1"
	    " AND op IN ('create', 'write', 'rename', 'unlink', 'mkdir') ORDER BY at, id",
	[ST_STAT_SET] = "INSERT INTO stats (key, value) VALUES (?, ?)"
	    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	[ST_STAT_GET] = "SELECT value FROM stats WHERE key = ?",
	[ST_EVENTS_SINCE] = "SELECT id, at, op, flags, ok, user, ip, path, path2 FROM events"
	    " WHERE at >= ? ORDER BY at, id",
	[ST_SAVEPOINT] = "SAVEPOINT journal_items",
	[ST_RELEASE] = "RELEASE journal_items",
	[ST_ROLLBACK_TO] = "ROLLBACK TO journal_items",
	[ST_SNAP_ADD] = "INSERT OR REPLACE INTO snapshots (" SNAP_COLS ") VALUES (?, ?, ?, ?, ?, ?)",
	[ST_SNAP_LIST] = "SELECT " SNAP_COLS " FROM snapshots"
	    " WHERE ?1 IS NULL OR share = ?1 ORDER BY taken_at, id",
	[ST_SNAP_REMOVED] = "UPDATE snapshots SET removed_at = ? WHERE share = ? AND name = ?",
	[ST_RESTORE_GET] = "SELECT " RESTORE_COLS " FROM restores WHERE incident_id = ?",
	[ST_RESTORE_PUT] = "INSERT OR REPLACE INTO restores (" RESTORE_COLS ")"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_ITEM_CLEAR] = "DELETE FROM restore_items WHERE incident_id = ?",
	[ST_ITEM_ADD] = "INSERT INTO restore_items (incident_id, seq, kind, path, src, aux, size,"
	    " mtime_ns, state, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_ITEM_LIST] = "SELECT " ITEM_COLS " FROM restore_items"
	    " WHERE incident_id = ? ORDER BY seq, id",
	[ST_ITEM_UPDATE] = "UPDATE restore_items SET state = ?, detail = ? WHERE id = ?",
	[ST_INC_ADD] = "INSERT INTO incidents (state, first_event_at, detected_at, contained_at,"
	    " released_at, user, domain, ip, mac, host, switch, port, smbd_pid, score, monitor,"
	    " mac_source, origin)"
	    " VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
	[ST_INC_UPDATE] = "UPDATE incidents SET state = ?2, first_event_at = ?3, detected_at = ?4,"
	    " contained_at = ?5, released_at = ?6, user = ?7, domain = ?8, ip = ?9, mac = ?10,"
	    " host = ?11, switch = ?12, port = ?13, smbd_pid = ?14, score = ?15, monitor = ?16,"
	    " mac_source = ?17, origin = ?18 WHERE id = ?1",
	[ST_OUT_ADD] = "INSERT INTO outbox (incident_id, action_id, channel, target, stage, subject,"
	    " body, content_type, attempts, next_at, created_at, sent_at, last_error, state)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_OUT_DUE] = "SELECT " OUT_COLS " FROM outbox WHERE state = 'queued' AND next_at <= ?"
	    " ORDER BY next_at, id",
	[ST_OUT_LIST] = "SELECT " OUT_COLS " FROM outbox WHERE ?1 = 0 OR incident_id = ?1"
	    " ORDER BY id",
	[ST_OUT_CLAIM] = "UPDATE outbox SET next_at = ?1 WHERE id = ?2 AND next_at = ?3"
	    " AND state = 'queued'",
	[ST_OUT_UPDATE] = "UPDATE outbox SET attempts = ?, next_at = ?, sent_at = ?, last_error = ?,"
	    " state = ? WHERE id = ?",
	[ST_ACT_RESULT] = "UPDATE actions SET result = ?, detail = ? WHERE id = ?",
	[ST_ACT_FINISH] = "UPDATE actions SET target = ?4, result = ?5, at = ?6, detail = ?7, state = ?11"
	    " WHERE id = ?1",
	[ST_NOTICE_ADD] = "INSERT INTO notices (kind, incident_id, first_at, last_at, count, detail)"
	    " VALUES (?, ?, ?, ?, ?, ?)",
	[ST_NOTICE_UPDATE] = "UPDATE notices SET last_at = ?, count = ?, detail = ? WHERE id = ?",
	[ST_NOTICE_LIST] = "SELECT id, kind, incident_id, first_at, last_at, count, detail FROM notices"
	    " WHERE incident_id = ? ORDER BY last_at DESC, id DESC LIMIT ?",
	[ST_INC_ORIGIN] = "SELECT " INC_COLS " FROM incidents WHERE origin = ? ORDER BY id DESC LIMIT 1",
	[ST_FLEET_ADD] = "INSERT OR IGNORE INTO fleet_out (subject, msg_id, payload, created_at, sent_at,"
	    " attempts, last_error) VALUES (?, ?, ?, ?, 0, 0, '')",
	[ST_FLEET_DUE] = "SELECT id, subject, msg_id, payload, created_at, sent_at, attempts, last_error"
	    " FROM fleet_out WHERE sent_at = 0 ORDER BY id LIMIT ?",
	[ST_FLEET_DONE] = "UPDATE fleet_out SET sent_at = ?, attempts = ?, last_error = ? WHERE id = ?",
	[ST_FLEET_PENDING] = "SELECT count(*), coalesce(min(created_at), 0) FROM fleet_out WHERE sent_at = 0",
	[ST_FLEET_SRV_PUT] = "INSERT OR REPLACE INTO fleet_servers (site, server, version, last_seen,"
	    " open_incidents, pending, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
	[ST_FLEET_PRUNE] = "DELETE FROM fleet_out WHERE sent_at != 0 AND sent_at < ?",
	[ST_FLEET_SRV_LIST] = "SELECT site, server, version, last_seen, open_incidents, pending, detail"
	    " FROM fleet_servers ORDER BY site, server",
	[ST_REPL_ADD] = "INSERT INTO replication (share, snapshot, taken_at, parent, target, sent_at, bytes, ms)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_REPL_LAST] = "SELECT share, snapshot, taken_at, parent, target, sent_at, bytes, ms FROM replication"
	    " WHERE share = ? ORDER BY sent_at DESC, id DESC LIMIT 1",
	[ST_REPL_STATE_PUT] = "INSERT OR REPLACE INTO replication_state (share, checked_at, replica_newest, held,"
	    " last_error, last_error_at) VALUES (?, ?, ?, ?, ?, ?)",
	[ST_REPL_STATE_GET] = "SELECT share, checked_at, replica_newest, held, last_error, last_error_at"
	    " FROM replication_state WHERE share = ?",
	/* Actors (user and IP) isolated since then whose incident no human has released yet. */
	[ST_ISOLATIONS] = "SELECT count(*) FROM (SELECT DISTINCT i.user, i.ip FROM actions a"
	    " JOIN incidents i ON i.id = a.incident_id"
	    " WHERE a.kind IN ('lock_account', 'block_ip', 'port_down') AND a.result = 'ok' AND a.at >= ?"
	    " AND i.state != 'released' AND i.origin = '')",
};

/* Read-only opens of a journal older than version 6 read incidents through these. */
static const char *const stmt_sql_v5[ST__COUNT] = {
	[ST_INC_GET] = "SELECT " INC_COLS_V5 " FROM incidents WHERE id = ?",
	[ST_INC_LIST] = "SELECT " INC_COLS_V5 " FROM incidents ORDER BY id DESC",
	[ST_ISOLATIONS] = "SELECT count(*) FROM (SELECT DISTINCT i.user, i.ip FROM actions a"
	    " JOIN incidents i ON i.id = a.incident_id"
	    " WHERE a.kind IN ('lock_account', 'block_ip', 'port_down') AND a.result = 'ok' AND a.at >= ?"
	    " AND i.state != 'released')",
};

/* Read-only opens of a journal older than version 4 read actions through these. */
static const char *const stmt_sql_v3[ST__COUNT] = {
	[ST_ACT_ADD] = "INSERT INTO actions (incident_id, kind, target, result, at, detail,"
	    " undone_at, undo_result, undo_detail) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_ACT_LIST] = "SELECT " ACT_COLS_V3 " FROM actions WHERE incident_id = ? ORDER BY id",
};

/* Read-only opens of a journal older than version 3 read incidents through these. */
static const char *const stmt_sql_v2[ST__COUNT] = {
	[ST_INC_GET] = "SELECT " INC_COLS_V2 " FROM incidents WHERE id = ?",
	[ST_INC_LIST] = "SELECT " INC_COLS_V2 " FROM incidents ORDER BY id DESC",
};

struct journal {
	sqlite3 *db;
	int readonly;
	int64_t version;	/* the schema version; 1 only in a read-only open of an old journal */
	sqlite3_stmt *st[ST__COUNT];
	sqlite3_stmt *dv;	/* PRAGMA data_version, prepared on first use */
	int64_t data_version;	/* journal_changed's last reading */
};

static int
db_fail(struct journal *j, const char *what)
{
	log_warnx("journal: %s: %s", what, sqlite3_errmsg(j->db));
	return -1;
}

/* Leaves a statement ready for its next use and drops the borrowed bindings. */
static void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows. */
static int
stmt_exec(struct journal *j, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		db_fail(j, what);
		stmt_done(st);
		return -1;
	}
	stmt_done(st);
	return 0;
}

/*
 * Bindings borrow the caller's bytes (SQLITE_STATIC): every statement is
 * stepped and cleared before its function returns. A NULL pointer would bind
 * SQL NULL, so empty views bind an empty string or blob instead.
 */
static int
bind_text(sqlite3_stmt *st, int i, const char *p, size_t n)
{
	return sqlite3_bind_text64(st, i, p ? p : "", p ? n : 0, SQLITE_STATIC, SQLITE_UTF8);
}

static int
bind_cstr(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
	return bind_text(st, i, s, strnlen(s, cap));
}

static int
bind_blob(sqlite3_stmt *st, int i, const char *p, size_t n)
{
	return sqlite3_bind_blob64(st, i, p ? p : "", p ? n : 0, SQLITE_STATIC);
}

#define BIND_CSTR(st, i, field)	bind_cstr((st), (i), (field), sizeof(field))

static void
col_cstr(sqlite3_stmt *st, int i, char *buf, size_t bufsz)
{
	const unsigned char *p = sqlite3_column_text(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);

	if (p == NULL)
		n = 0;
	if (n > bufsz - 1)
		n = bufsz - 1;
	if (n)
		memcpy(buf, p, n);
	buf[n] = '\0';
}

#define COL_CSTR(st, i, field)	col_cstr((st), (i), (field), sizeof(field))

/* A BLOB column as an owned NUL-terminated string; NULL stays NULL. */
static char *
col_blob_dup(sqlite3_stmt *st, int i)
{
	const void *p;
	size_t n;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_blob(st, i);
	n = (size_t)sqlite3_column_bytes(st, i);
	return xstrndup(p ? p : "", p ? n : 0);
}

static int
db_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Creates each missing directory above path with mode 0750. */
static int
make_parent(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path), *slash, *p;
	int last;

	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		last = *p == '\0';
		*p = '\0';
		if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create directory %s for the journal: %s",
			    dir, strerror(errno));
			free(dir);
			return -1;
		}
		if (last)
			break;
		*p = '/';
	}
	free(dir);
	return 0;
}

/* Checks the schema version, creating the schema in a new file. */
static int
schema_check(struct journal *j, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 nobj = 0, nmeta = 0, version = 0;
	int rc, have_version = 0, intx = 0;

	if (!j->readonly) {
		if (db_exec(j->db, "BEGIN IMMEDIATE") != SQLITE_OK)
			goto dberr;
		intx = 1;
	}
	if (sqlite3_prepare_v2(j->db, "SELECT (SELECT count(*) FROM sqlite_master),"
	    " (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
	    -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto dberr;
	nobj = sqlite3_column_int64(st, 0);
	nmeta = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	st = NULL;

	if (nmeta) {
		if (sqlite3_prepare_v2(j->db, "SELECT value FROM meta WHERE key = 'schema_version'",
		    -1, &st, NULL) != SQLITE_OK)
			goto dberr;
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
			version = sqlite3_column_int64(st, 0);
			have_version = 1;
		} else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto dberr;
		sqlite3_finalize(st);
		st = NULL;
		if (!have_version || version < 1) {
			snprintf(err, errlen, "%s is not a sharewarden journal (no schema version)", path);
			goto fail;
		}
		if (version > SCHEMA_VERSION) {
			snprintf(err, errlen, "journal %s has schema version %lld, newer than this"
			    " sharewarden understands (%d): run the newer sharewarden that wrote it",
			    path, (long long)version, SCHEMA_VERSION);
			goto fail;
		}
		if (version < SCHEMA_VERSION && !j->readonly) {
			/* Same transaction: a crash leaves the old version or all of the new one. */
			if ((version < 2 && db_exec(j->db, schema_v2_sql) != SQLITE_OK) ||
			    (version < 3 && db_exec(j->db, schema_v3_sql) != SQLITE_OK) ||
			    (version < 4 && db_exec(j->db, schema_v4_sql) != SQLITE_OK) ||
			    (version < 5 && db_exec(j->db, schema_v5_sql) != SQLITE_OK) ||
			    (version < 6 && db_exec(j->db, schema_v6_sql) != SQLITE_OK) ||
			    db_exec(j->db, schema_v7_sql) != SQLITE_OK ||
			    sqlite3_prepare_v2(j->db, "UPDATE meta SET value = ?"
			    " WHERE key = 'schema_version'", -1, &st, NULL) != SQLITE_OK ||
			    sqlite3_bind_int(st, 1, SCHEMA_VERSION) != SQLITE_OK ||
			    sqlite3_step(st) != SQLITE_DONE)
				goto dberr;
			sqlite3_finalize(st);
			st = NULL;
			log_info("journal: %s upgraded from schema version %lld to %d", path,
			    (long long)version, SCHEMA_VERSION);
			version = SCHEMA_VERSION;
		}
		j->version = version;
	} else if (nobj) {
		snprintf(err, errlen, "%s is not a sharewarden journal (it holds other tables)", path);
		goto fail;
	} else if (j->readonly) {
		snprintf(err, errlen, "journal %s is empty (has the daemon run yet?)", path);
		goto fail;
	} else {
		if (db_exec(j->db, schema_sql) != SQLITE_OK ||
		    db_exec(j->db, schema_v2_sql) != SQLITE_OK ||
		    db_exec(j->db, schema_v3_sql) != SQLITE_OK ||
		    db_exec(j->db, schema_v4_sql) != SQLITE_OK ||
		    db_exec(j->db, schema_v5_sql) != SQLITE_OK ||
		    db_exec(j->db, schema_v6_sql) != SQLITE_OK ||
		    db_exec(j->db, schema_v7_sql) != SQLITE_OK)
			goto dberr;
		if (sqlite3_prepare_v2(j->db, "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
		    -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_bind_int(st, 1, SCHEMA_VERSION) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE)
			goto dberr;
		sqlite3_finalize(st);
		st = NULL;
		j->version = SCHEMA_VERSION;
	}
	if (intx && db_exec(j->db, "COMMIT") != SQLITE_OK)
		goto dberr;
	return 0;

dberr:
	snprintf(err, errlen, "cannot open journal %s: %s", path, sqlite3_errmsg(j->db));
fail:
	sqlite3_finalize(st);
	if (intx && !sqlite3_get_autocommit(j->db))
		db_exec(j->db, "ROLLBACK");
	return -1;
}

/* journal_mode answers with the mode in effect, which stays "delete" when WAL is refused. */
static int
set_wal(struct journal *j)
{
	sqlite3_stmt *st;
	int ok;

	if (sqlite3_prepare_v2(j->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
		return -1;
	ok = sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

struct journal *
journal_open(const char *path, int readonly, char *err, size_t errlen)
{
	struct journal *j;
	struct stat sb;
	int fd, i;

	if (readonly) {
		if (stat(path, &sb) == -1 || access(path, R_OK) == -1) {
			if (errno == ENOENT)
				snprintf(err, errlen, "no journal at %s (has the daemon run yet?)", path);
			else
				snprintf(err, errlen, "cannot read journal %s: %s", path, strerror(errno));
			return NULL;
		}
	} else {
		if (make_parent(path, err, errlen) == -1)
			return NULL;
		/*
		 * Create it ourselves (SQLite would use 0644 less the umask), and only
		 * when it is missing: closing any descriptor of an existing journal
		 * would drop the POSIX locks this process's other connections hold
		 * (the daemon's threads), and a CLI could then delete the live WAL.
		 */
		if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) != -1)
			close(fd);
		else if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create journal %s: %s", path, strerror(errno));
			return NULL;
		}
	}

	j = xcalloc(1, sizeof *j);
	j->readonly = readonly;
	if (sqlite3_open_v2(path, &j->db, readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE,
	    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open journal %s: %s", path,
		    j->db ? sqlite3_errmsg(j->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(j->db, 1);
	sqlite3_busy_timeout(j->db, 5000);
	if (db_exec(j->db, "PRAGMA foreign_keys = ON") != SQLITE_OK)
		goto dberr;
	if (!readonly) {
		if (set_wal(j) == -1) {
			if (sqlite3_errcode(j->db) != SQLITE_OK)
				goto dberr;
			snprintf(err, errlen, "cannot open journal %s: WAL mode refused", path);
			goto fail;
		}
		/*
		 * Incidents, signals and actions must outlive a power cut once
		 * journal_commit returns: FULL syncs the WAL on every commit.
		 */
		if (db_exec(j->db, "PRAGMA synchronous = FULL") != SQLITE_OK)
			goto dberr;
	}
	if (schema_check(j, path, err, errlen) == -1)
		goto fail;
	/*
	 * A read-only open leaves an old journal as it is: its version-2
	 * statements stay NULL and read as empty tables.
	 */
	for (i = 0; i < ST__COUNT; i++) {
		const char *sql = stmt_sql[i];

		if (i >= ST_V2_FIRST && j->version < 2)
			continue;
		if (i >= ST_V3_FIRST && j->version < 3)
			continue;
		if (i >= ST_V4_FIRST && j->version < 4)
			continue;
		if (i >= ST_V5_FIRST && j->version < 5)
			continue;
		if (i >= ST_V6_FIRST && j->version < 6)
			continue;
		if (i >= ST_V7_FIRST && j->version < 7)
			continue;
		/* Incidents are written only once the journal has their origin column. */
		if ((i == ST_INC_ADD || i == ST_INC_UPDATE) && j->version < 6)
			continue;
		if (j->version < 6 && stmt_sql_v5[i] != NULL)
			sql = stmt_sql_v5[i];
		if (j->version < 4 && stmt_sql_v3[i] != NULL)
			sql = stmt_sql_v3[i];
		if (j->version < 3 && stmt_sql_v2[i] != NULL)
			sql = stmt_sql_v2[i];
		if (sqlite3_prepare_v3(j->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
		    &j->st[i], NULL) != SQLITE_OK)
			goto dberr;
	}
	return j;

dberr:
	snprintf(err, errlen, "cannot open journal %s: %s", path, sqlite3_errmsg(j->db));
fail:
	journal_close(j);
	return NULL;
}

void
journal_close(struct journal *j)
{
	int i;

	if (j == NULL)
		return;
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(j->st[i]);
	sqlite3_finalize(j->dv);
	if (j->db && sqlite3_close(j->db) != SQLITE_OK)
		log_warnx("journal: close: %s", sqlite3_errmsg(j->db));
	free(j);
}

int
journal_begin(struct journal *j)
{
	if (!sqlite3_get_autocommit(j->db)) {
		log_warnx("journal: begin: a transaction is already open");
		return -1;
	}
	return stmt_exec(j, j->st[ST_BEGIN], "begin");
}

/*
 * A failed COMMIT may leave the transaction open; roll it back so the next
 * journal_begin starts clean instead of failing forever.
 */
int
journal_commit(struct journal *j)
{
	if (stmt_exec(j, j->st[ST_COMMIT], "commit") == 0)
		return 0;
	if (!sqlite3_get_autocommit(j->db))
		stmt_exec(j, j->st[ST_ROLLBACK], "rollback");
	return -1;
}

int
journal_add_event(struct journal *j, const struct sw_event *ev)
{
	sqlite3_stmt *st = j->st[ST_EVENT_ADD];
	int rc;

	rc = sqlite3_bind_int64(st, 1, ev->at_ms);
	rc |= sqlite3_bind_int(st, 2, (int)ev->src);
	rc |= sqlite3_bind_text(st, 3, op_name(ev->op), -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int(st, 4, ev->ok ? 1 : 0);
	rc |= sqlite3_bind_int64(st, 5, ev->flags);
	rc |= sqlite3_bind_int(st, 6, ev->pid);
	rc |= bind_text(st, 7, ev->user.p, ev->user.n);
	rc |= bind_text(st, 8, ev->ip.p, ev->ip.n);
	rc |= bind_text(st, 9, ev->host.p, ev->host.n);
	rc |= bind_text(st, 10, ev->share.p, ev->share.n);
	rc |= bind_blob(st, 11, ev->path.p, ev->path.n);
	if (ev->path2.n)
		rc |= bind_blob(st, 12, ev->path2.p, ev->path2.n);
	else
		rc |= sqlite3_bind_null(st, 12);
	if (rc != SQLITE_OK) {
		db_fail(j, "add event");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "add event");
}

int
journal_prune_events(struct journal *j, int64_t older_than_ms)
{
	sqlite3_stmt *st = j->st[ST_EVENT_PRUNE];

	if (sqlite3_bind_int64(st, 1, older_than_ms) != SQLITE_OK) {
		db_fail(j, "prune events");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "prune events");
}

/* A statement that needs a newer schema, or NULL (logged) in an old journal open read-only. */
static sqlite3_stmt *
newer_stmt(struct journal *j, enum stmt i, const char *what)
{
	if (j->st[i] == NULL)
		log_warnx("journal: %s: the journal is open read-only at schema version %lld",
		    what, (long long)j->version);
	return j->st[i];
}

static int
bind_incident(sqlite3_stmt *st, const struct incident *inc)
{
	int rc;

	rc = BIND_CSTR(st, 2, inc->state);
	rc |= sqlite3_bind_int64(st, 3, inc->first_event_at);
	rc |= sqlite3_bind_int64(st, 4, inc->detected_at);
	rc |= sqlite3_bind_int64(st, 5, inc->contained_at);
	rc |= sqlite3_bind_int64(st, 6, inc->released_at);
	rc |= BIND_CSTR(st, 7, inc->user);
	rc |= BIND_CSTR(st, 8, inc->domain);
	rc |= BIND_CSTR(st, 9, inc->ip);
	rc |= BIND_CSTR(st, 10, inc->mac);
	rc |= BIND_CSTR(st, 11, inc->host);
	rc |= BIND_CSTR(st, 12, inc->sw);
	rc |= BIND_CSTR(st, 13, inc->port);
	rc |= sqlite3_bind_int(st, 14, inc->smbd_pid);
	rc |= sqlite3_bind_double(st, 15, inc->score);
	rc |= sqlite3_bind_int(st, 16, inc->monitor ? 1 : 0);
	rc |= BIND_CSTR(st, 17, inc->mac_source);
	rc |= BIND_CSTR(st, 18, inc->origin);
	return rc;
}

static void
col_incident(sqlite3_stmt *st, struct incident *inc)
{
	memset(inc, 0, sizeof *inc);
	inc->id = sqlite3_column_int64(st, 0);
	COL_CSTR(st, 1, inc->state);
	inc->first_event_at = sqlite3_column_int64(st, 2);
	inc->detected_at = sqlite3_column_int64(st, 3);
	inc->contained_at = sqlite3_column_int64(st, 4);
	inc->released_at = sqlite3_column_int64(st, 5);
	COL_CSTR(st, 6, inc->user);
	COL_CSTR(st, 7, inc->domain);
	COL_CSTR(st, 8, inc->ip);
	COL_CSTR(st, 9, inc->mac);
	COL_CSTR(st, 10, inc->host);
	COL_CSTR(st, 11, inc->sw);
	COL_CSTR(st, 12, inc->port);
	inc->smbd_pid = sqlite3_column_int(st, 13);
	inc->score = sqlite3_column_double(st, 14);
	inc->monitor = sqlite3_column_int(st, 15);
	COL_CSTR(st, 16, inc->mac_source);
	COL_CSTR(st, 17, inc->origin);
}

int
journal_incident_add(struct journal *j, struct incident *inc)
{
	sqlite3_stmt *st = newer_stmt(j, ST_INC_ADD, "add incident");

	if (st == NULL)
		return -1;
	if (bind_incident(st, inc) != SQLITE_OK) {
		db_fail(j, "add incident");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "add incident") == -1)
		return -1;
	inc->id = sqlite3_last_insert_rowid(j->db);
	return 0;
}

int
journal_incident_update(struct journal *j, const struct incident *inc)
{
	sqlite3_stmt *st = newer_stmt(j, ST_INC_UPDATE, "update incident");

	if (st == NULL)
		return -1;
	if (bind_incident(st, inc) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 1, inc->id) != SQLITE_OK) {
		db_fail(j, "update incident");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "update incident") == -1)
		return -1;
	if (sqlite3_changes(j->db) == 0) {
		log_warnx("journal: update incident: no incident %lld", (long long)inc->id);
		return -1;
	}
	return 0;
}

int
journal_incident_get(struct journal *j, int64_t id, struct incident *inc)
{
	sqlite3_stmt *st = j->st[ST_INC_GET];
	int rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
		db_fail(j, "get incident");
		stmt_done(st);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		col_incident(st, inc);
		stmt_done(st);
		return 0;
	}
	if (rc == SQLITE_DONE) {
		stmt_done(st);
		return 1;
	}
	db_fail(j, "get incident");
	stmt_done(st);
	return -1;
}

/*
 * Steps a query to its end, growing *arr by elsize for each row and letting
 * fill() read the row into the new element. On error, free_rows() releases
 * what the rows already own.
 */
static int
collect_rows(struct journal *j, sqlite3_stmt *st, const char *what, size_t elsize,
    void (*fill)(sqlite3_stmt *, void *), void (*free_rows)(void *, size_t),
    void **arr, size_t *n)
{
	void *a = NULL;
	size_t len = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			a = xrealloc(a, cap * elsize);
		}
		fill(st, (char *)a + len * elsize);
		len++;
	}
	if (rc != SQLITE_DONE) {
		db_fail(j, what);
		stmt_done(st);
		if (free_rows)
			free_rows(a, len);
		else
			free(a);
		*arr = NULL;
		*n = 0;
		return -1;
	}
	stmt_done(st);
	*arr = a;
	*n = len;
	return 0;
}

static void
fill_incident(sqlite3_stmt *st, void *el)
{
	col_incident(st, el);
}

int
journal_incident_list(struct journal *j, struct incident **out, size_t *n)
{
	void *a;
	int rc;

	rc = collect_rows(j, j->st[ST_INC_LIST], "list incidents", sizeof(struct incident),
	    fill_incident, NULL, &a, n);
	*out = a;
	return rc;
}

int
journal_signal_add(struct journal *j, int64_t incident_id, const char *kind,
    const char *path, size_t pathlen, int64_t at, double weight, const char *detail)
{
	sqlite3_stmt *st = j->st[ST_SIG_ADD];
	int rc;

	rc = sqlite3_bind_int64(st, 1, incident_id);
	rc |= bind_text(st, 2, kind, kind ? strlen(kind) : 0);
	rc |= bind_blob(st, 3, path, path ? pathlen : 0);
	rc |= sqlite3_bind_int64(st, 4, at);
	rc |= sqlite3_bind_double(st, 5, weight);
	rc |= bind_text(st, 6, detail, detail ? strlen(detail) : 0);
	if (rc != SQLITE_OK) {
		db_fail(j, "add signal");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "add signal");
}

static void
fill_signal(sqlite3_stmt *st, void *el)
{
	struct signal_rec *s = el;

	memset(s, 0, sizeof *s);
	COL_CSTR(st, 0, s->kind);
	s->path = col_blob_dup(st, 1);
	if (s->path == NULL)
		s->path = xstrdup("");
	s->at = sqlite3_column_int64(st, 2);
	s->weight = sqlite3_column_double(st, 3);
	COL_CSTR(st, 4, s->detail);
}

static void
free_signals(void *a, size_t n)
{
	signal_rec_free(a, n);
}

int
journal_signal_list(struct journal *j, int64_t incident_id, struct signal_rec **out, size_t *n)
{
	sqlite3_stmt *st = j->st[ST_SIG_LIST];
	void *a;
	int rc;

	if (sqlite3_bind_int64(st, 1, incident_id) != SQLITE_OK) {
		db_fail(j, "list signals");
		stmt_done(st);
		*out = NULL;
		*n = 0;
		return -1;
	}
	rc = collect_rows(j, st, "list signals", sizeof(struct signal_rec), fill_signal,
	    free_signals, &a, n);
	*out = a;
	return rc;
}

int
journal_action_add(struct journal *j, struct action *a)
{
	sqlite3_stmt *st = j->st[ST_ACT_ADD];
	int rc;

	rc = sqlite3_bind_int64(st, 2, a->incident_id);
	rc |= BIND_CSTR(st, 3, a->kind);
	rc |= BIND_CSTR(st, 4, a->target);
	rc |= BIND_CSTR(st, 5, a->result);
	rc |= sqlite3_bind_int64(st, 6, a->at);
	rc |= BIND_CSTR(st, 7, a->detail);
	rc |= sqlite3_bind_int64(st, 8, a->undone_at);
	rc |= BIND_CSTR(st, 9, a->undo_result);
	rc |= BIND_CSTR(st, 10, a->undo_detail);
	if (j->version >= 4)
		rc |= bind_text(st, 11, a->state[0] ? a->state : ACT_DONE,
		    a->state[0] ? strnlen(a->state, sizeof a->state) : strlen(ACT_DONE));
	if (rc != SQLITE_OK) {
		db_fail(j, "add action");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "add action") == -1)
		return -1;
	a->id = sqlite3_last_insert_rowid(j->db);
	return 0;
}

int
journal_action_update(struct journal *j, const struct action *a)
{
	sqlite3_stmt *st = j->st[ST_ACT_UPDATE];
	int rc;

	rc = sqlite3_bind_int64(st, 1, a->id);
	rc |= sqlite3_bind_int64(st, 8, a->undone_at);
	rc |= BIND_CSTR(st, 9, a->undo_result);
	rc |= BIND_CSTR(st, 10, a->undo_detail);
	if (rc != SQLITE_OK) {
		db_fail(j, "update action");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "update action") == -1)
		return -1;
	if (sqlite3_changes(j->db) == 0) {
		log_warnx("journal: update action: no action %lld", (long long)a->id);
		return -1;
	}
	return 0;
}

int
journal_action_finish(struct journal *j, const struct action *a)
{
	sqlite3_stmt *st = newer_stmt(j, ST_ACT_FINISH, "finish action");
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, a->id);
	rc |= BIND_CSTR(st, 4, a->target);
	rc |= BIND_CSTR(st, 5, a->result);
	rc |= sqlite3_bind_int64(st, 6, a->at);
	rc |= BIND_CSTR(st, 7, a->detail);
	rc |= bind_text(st, 11, a->state[0] ? a->state : ACT_DONE,
	    a->state[0] ? strnlen(a->state, sizeof a->state) : strlen(ACT_DONE));
	if (rc != SQLITE_OK) {
		db_fail(j, "finish action");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "finish action") == -1)
		return -1;
	if (sqlite3_changes(j->db) == 0) {
		log_warnx("journal: finish action: no action %lld", (long long)a->id);
		return -1;
	}
	return 0;
}

static void
fill_action(sqlite3_stmt *st, void *el)
{
	struct action *a = el;

	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(st, 0);
	a->incident_id = sqlite3_column_int64(st, 1);
	COL_CSTR(st, 2, a->kind);
	COL_CSTR(st, 3, a->target);
	COL_CSTR(st, 4, a->result);
	a->at = sqlite3_column_int64(st, 5);
	COL_CSTR(st, 6, a->detail);
	a->undone_at = sqlite3_column_int64(st, 7);
	COL_CSTR(st, 8, a->undo_result);
	COL_CSTR(st, 9, a->undo_detail);
	COL_CSTR(st, 10, a->state);
}

int
journal_action_list(struct journal *j, int64_t incident_id, struct action **out, size_t *n)
{
	sqlite3_stmt *st = j->st[ST_ACT_LIST];
	void *a;
	int rc;

	if (sqlite3_bind_int64(st, 1, incident_id) != SQLITE_OK) {
		db_fail(j, "list actions");
		stmt_done(st);
		*out = NULL;
		*n = 0;
		return -1;
	}
	rc = collect_rows(j, st, "list actions", sizeof(struct action), fill_action, NULL, &a, n);
	*out = a;
	return rc;
}

static void
fill_file(sqlite3_stmt *st, void *el)
{
	struct file_rec *f = el;

	memset(f, 0, sizeof *f);
	f->path = col_blob_dup(st, 0);
	if (f->path == NULL)
		f->path = xstrdup("");
	f->path2 = col_blob_dup(st, 1);
	COL_CSTR(st, 2, f->op);
	f->at = sqlite3_column_int64(st, 3);
}

static void
free_files(void *a, size_t n)
{
	file_rec_free(a, n);
}

int
journal_files(struct journal *j, const char *user, const char *ip, int64_t since_ms,
    struct file_rec **out, size_t *n)
{
	sqlite3_stmt *st = j->st[ST_FILES];
	void *a;
	int rc;

	rc = bind_text(st, 1, user, user ? strlen(user) : 0);
	rc |= bind_text(st, 2, ip, ip ? strlen(ip) : 0);
	rc |= sqlite3_bind_int64(st, 3, since_ms);
	if (rc != SQLITE_OK) {
		db_fail(j, "list files");
		stmt_done(st);
		*out = NULL;
		*n = 0;
		return -1;
	}
	rc = collect_rows(j, st, "list files", sizeof(struct file_rec), fill_file, free_files, &a, n);
	*out = a;
	return rc;
}

/*
 * Whether another connection (the CLI's release or restore, the notifier) committed since the last call:
 * SQLite's data_version, a cheap read that lets the daemon notice a release at once rather than by polling.
 */
int
journal_changed(struct journal *j)
{
	sqlite3_stmt *st = j->dv;
	int64_t v;
	int changed = 0;

	if (st == NULL && sqlite3_prepare_v2(j->db, "PRAGMA data_version", -1, &j->dv, NULL) != SQLITE_OK)
		return 1;
	st = j->dv;
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
		changed = v != j->data_version;
		j->data_version = v;
	} else
		changed = 1;
	sqlite3_reset(st);
	return changed;
}

int
journal_stat_set(struct journal *j, const char *key, int64_t value)
{
	sqlite3_stmt *st = j->st[ST_STAT_SET];

	if (bind_text(st, 1, key, strlen(key)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, value) != SQLITE_OK) {
		db_fail(j, "set counter");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "set counter");
}

int
journal_stat_get(struct journal *j, const char *key, int64_t *value)
{
	sqlite3_stmt *st = j->st[ST_STAT_GET];
	int rc;

	if (bind_text(st, 1, key, strlen(key)) != SQLITE_OK) {
		db_fail(j, "get counter");
		stmt_done(st);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = sqlite3_column_int64(st, 0);
		stmt_done(st);
		return 0;
	}
	if (rc == SQLITE_DONE) {
		stmt_done(st);
		return 1;
	}
	db_fail(j, "get counter");
	stmt_done(st);
	return -1;
}

static void
fill_event(sqlite3_stmt *st, void *el)
{
	struct event_rec *e = el;

	e->id = sqlite3_column_int64(st, 0);
	e->at = sqlite3_column_int64(st, 1);
	COL_CSTR(st, 2, e->op);
	e->flags = (unsigned)sqlite3_column_int64(st, 3);
	e->ok = sqlite3_column_int(st, 4);
	e->user = col_blob_dup(st, 5);
	e->ip = col_blob_dup(st, 6);
	e->path = col_blob_dup(st, 7);
	if (e->user == NULL)
		e->user = xstrdup("");
	if (e->ip == NULL)
		e->ip = xstrdup("");
	if (e->path == NULL)
		e->path = xstrdup("");
	e->path2 = col_blob_dup(st, 8);
}

static void
free_events(void *a, size_t n)
{
	event_rec_free(a, n);
}

int
journal_events_since(struct journal *j, int64_t since_ms, struct event_rec **out, size_t *n)
{
	sqlite3_stmt *st = j->st[ST_EVENTS_SINCE];
	void *a;
	int rc;

	if (sqlite3_bind_int64(st, 1, since_ms) != SQLITE_OK) {
		db_fail(j, "list events");
		stmt_done(st);
		*out = NULL;
		*n = 0;
		return -1;
	}
	rc = collect_rows(j, st, "list events", sizeof(struct event_rec), fill_event, free_events,
	    &a, n);
	*out = a;
	return rc;
}

int
journal_snapshot_add(struct journal *j, const struct snap_rec *r)
{
	sqlite3_stmt *st = newer_stmt(j, ST_SNAP_ADD, "add snapshot");
	int rc;

	if (st == NULL)
		return -1;
	rc = BIND_CSTR(st, 1, r->share);
	rc |= BIND_CSTR(st, 2, r->name);
	rc |= sqlite3_bind_int64(st, 3, r->taken_at);
	rc |= BIND_CSTR(st, 4, r->reason);
	rc |= sqlite3_bind_int64(st, 5, r->incident_id);
	rc |= sqlite3_bind_int64(st, 6, r->removed_at);
	if (rc != SQLITE_OK) {
		db_fail(j, "add snapshot");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "add snapshot");
}

static void
fill_snap(sqlite3_stmt *st, void *el)
{
	struct snap_rec *r = el;

	memset(r, 0, sizeof *r);
	COL_CSTR(st, 0, r->share);
	COL_CSTR(st, 1, r->name);
	r->taken_at = sqlite3_column_int64(st, 2);
	COL_CSTR(st, 3, r->reason);
	r->incident_id = sqlite3_column_int64(st, 4);
	r->removed_at = sqlite3_column_int64(st, 5);
}

int
journal_snapshot_list(struct journal *j, const char *share, struct snap_rec **out, size_t *n)
{
	sqlite3_stmt *st = j->st[ST_SNAP_LIST];
	void *a;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return 0;
	if (share)
		rc = bind_text(st, 1, share, strlen(share));
	else
		rc = sqlite3_bind_null(st, 1);
	if (rc != SQLITE_OK) {
		db_fail(j, "list snapshots");
		stmt_done(st);
		return -1;
	}
	rc = collect_rows(j, st, "list snapshots", sizeof(struct snap_rec), fill_snap, NULL, &a, n);
	*out = a;
	return rc;
}

int
journal_snapshot_removed(struct journal *j, const char *share, const char *name, int64_t at)
{
	sqlite3_stmt *st = newer_stmt(j, ST_SNAP_REMOVED, "record snapshot removal");
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, at);
	rc |= bind_text(st, 2, share, share ? strlen(share) : 0);
	rc |= bind_text(st, 3, name, name ? strlen(name) : 0);
	if (rc != SQLITE_OK) {
		db_fail(j, "record snapshot removal");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "record snapshot removal") == -1)
		return -1;
	if (sqlite3_changes(j->db) == 0) {
		log_warnx("journal: record snapshot removal: no snapshot %s of share %s",
		    name ? name : "", share ? share : "");
		return -1;
	}
	return 0;
}

int
journal_restore_get(struct journal *j, int64_t incident_id, struct restore_rec *r)
{
	sqlite3_stmt *st = j->st[ST_RESTORE_GET];
	int rc;

	if (st == NULL)
		return 1;
	if (sqlite3_bind_int64(st, 1, incident_id) != SQLITE_OK) {
		db_fail(j, "get restore");
		stmt_done(st);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(r, 0, sizeof *r);
		r->incident_id = sqlite3_column_int64(st, 0);
		COL_CSTR(st, 1, r->state);
		COL_CSTR(st, 2, r->share);
		COL_CSTR(st, 3, r->snapshot);
		r->snapshot_at = sqlite3_column_int64(st, 4);
		r->started_at = sqlite3_column_int64(st, 5);
		r->finished_at = sqlite3_column_int64(st, 6);
		r->restored = sqlite3_column_int64(st, 7);
		r->removed = sqlite3_column_int64(st, 8);
		r->conflicts = sqlite3_column_int64(st, 9);
		r->failed = sqlite3_column_int64(st, 10);
		r->unrestorable = sqlite3_column_int64(st, 11);
		COL_CSTR(st, 12, r->detail);
		stmt_done(st);
		return 0;
	}
	if (rc == SQLITE_DONE) {
		stmt_done(st);
		return 1;
	}
	db_fail(j, "get restore");
	stmt_done(st);
	return -1;
}

int
journal_restore_put(struct journal *j, const struct restore_rec *r)
{
	sqlite3_stmt *st = newer_stmt(j, ST_RESTORE_PUT, "put restore");
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, r->incident_id);
	rc |= BIND_CSTR(st, 2, r->state);
	rc |= BIND_CSTR(st, 3, r->share);
	rc |= BIND_CSTR(st, 4, r->snapshot);
	rc |= sqlite3_bind_int64(st, 5, r->snapshot_at);
	rc |= sqlite3_bind_int64(st, 6, r->started_at);
	rc |= sqlite3_bind_int64(st, 7, r->finished_at);
	rc |= sqlite3_bind_int64(st, 8, r->restored);
	rc |= sqlite3_bind_int64(st, 9, r->removed);
	rc |= sqlite3_bind_int64(st, 10, r->conflicts);
	rc |= sqlite3_bind_int64(st, 11, r->failed);
	rc |= sqlite3_bind_int64(st, 12, r->unrestorable);
	rc |= BIND_CSTR(st, 13, r->detail);
	if (rc != SQLITE_OK) {
		db_fail(j, "put restore");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "put restore");
}

/* A NULL path binds SQL NULL (src and aux are optional). */
static int
bind_opt_blob(sqlite3_stmt *st, int i, const char *p)
{
	if (p == NULL)
		return sqlite3_bind_null(st, i);
	return bind_blob(st, i, p, strlen(p));
}

static int
item_insert(struct journal *j, int64_t incident_id, struct restore_item *it)
{
	sqlite3_stmt *st = j->st[ST_ITEM_ADD];
	int rc;

	rc = sqlite3_bind_int64(st, 1, incident_id);
	rc |= sqlite3_bind_int64(st, 2, it->seq);
	rc |= BIND_CSTR(st, 3, it->kind);
	rc |= bind_blob(st, 4, it->path, it->path ? strlen(it->path) : 0);
	rc |= bind_opt_blob(st, 5, it->src);
	rc |= bind_opt_blob(st, 6, it->aux);
	rc |= sqlite3_bind_int64(st, 7, it->size);
	rc |= sqlite3_bind_int64(st, 8, it->mtime_ns);
	rc |= BIND_CSTR(st, 9, it->state);
	rc |= BIND_CSTR(st, 10, it->detail);
	if (rc != SQLITE_OK) {
		db_fail(j, "add restore item");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "add restore item") == -1)
		return -1;
	it->id = sqlite3_last_insert_rowid(j->db);
	it->incident_id = incident_id;
	return 0;
}

/*
 * All or nothing: its own transaction, or a savepoint inside the caller's
 * (which journal_begin cannot nest and the caller cannot roll back).
 */
int
journal_restore_items_set(struct journal *j, int64_t incident_id, struct restore_item *items,
    size_t n)
{
	sqlite3_stmt *st = newer_stmt(j, ST_ITEM_CLEAR, "set restore items");
	int own = sqlite3_get_autocommit(j->db);
	size_t i;

	if (st == NULL)
		return -1;
	if (own) {
		if (journal_begin(j) == -1)
			return -1;
	} else if (stmt_exec(j, j->st[ST_SAVEPOINT], "set restore items") == -1)
		return -1;
	if (sqlite3_bind_int64(st, 1, incident_id) != SQLITE_OK) {
		db_fail(j, "set restore items");
		stmt_done(st);
		goto fail;
	}
	if (stmt_exec(j, st, "set restore items") == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (item_insert(j, incident_id, &items[i]) == -1)
			goto fail;
	if (own)
		return journal_commit(j);
	return stmt_exec(j, j->st[ST_RELEASE], "set restore items");

fail:
	if (own) {
		if (!sqlite3_get_autocommit(j->db))
			stmt_exec(j, j->st[ST_ROLLBACK], "rollback");
	} else if (stmt_exec(j, j->st[ST_ROLLBACK_TO], "roll back restore items") == 0)
		stmt_exec(j, j->st[ST_RELEASE], "roll back restore items");
	return -1;
}

static void
fill_item(sqlite3_stmt *st, void *el)
{
	struct restore_item *it = el;

	memset(it, 0, sizeof *it);
	it->id = sqlite3_column_int64(st, 0);
	it->incident_id = sqlite3_column_int64(st, 1);
	it->seq = sqlite3_column_int64(st, 2);
	COL_CSTR(st, 3, it->kind);
	it->path = col_blob_dup(st, 4);
	if (it->path == NULL)
		it->path = xstrdup("");
	it->src = col_blob_dup(st, 5);
	it->aux = col_blob_dup(st, 6);
	it->size = sqlite3_column_int64(st, 7);
	it->mtime_ns = sqlite3_column_int64(st, 8);
	COL_CSTR(st, 9, it->state);
	COL_CSTR(st, 10, it->detail);
}

static void
free_items(void *a, size_t n)
{
	restore_item_free(a, n);
}

int
journal_restore_items(struct journal *j, int64_t incident_id, struct restore_item **out, size_t *n)
{
	sqlite3_stmt *st = j->st[ST_ITEM_LIST];
	void *a;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return 0;
	if (sqlite3_bind_int64(st, 1, incident_id) != SQLITE_OK) {
		db_fail(j, "list restore items");
		stmt_done(st);
		return -1;
	}
	rc = collect_rows(j, st, "list restore items", sizeof(struct restore_item), fill_item,
	    free_items, &a, n);
	*out = a;
	return rc;
}

int
journal_restore_item_update(struct journal *j, const struct restore_item *it)
{
	sqlite3_stmt *st = newer_stmt(j, ST_ITEM_UPDATE, "update restore item");
	int rc;

	if (st == NULL)
		return -1;
	rc = BIND_CSTR(st, 1, it->state);
	rc |= BIND_CSTR(st, 2, it->detail);
	rc |= sqlite3_bind_int64(st, 3, it->id);
	if (rc != SQLITE_OK) {
		db_fail(j, "update restore item");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "update restore item") == -1)
		return -1;
	if (sqlite3_changes(j->db) == 0) {
		log_warnx("journal: update restore item: no item %lld", (long long)it->id);
		return -1;
	}
	return 0;
}

/*
 * One change made of several statements: its own transaction, or a
 * savepoint inside the caller's (journal_begin cannot nest). *own says which.
 */
static int
change_begin(struct journal *j, int *own, const char *what)
{
	*own = sqlite3_get_autocommit(j->db);
	if (*own)
		return journal_begin(j);
	return stmt_exec(j, j->st[ST_SAVEPOINT], what);
}

static int
change_end(struct journal *j, int own, int ok, const char *what)
{
	if (ok) {
		if (own)
			return journal_commit(j);
		return stmt_exec(j, j->st[ST_RELEASE], what);
	}
	if (own) {
		if (!sqlite3_get_autocommit(j->db))
			stmt_exec(j, j->st[ST_ROLLBACK], "rollback");
	} else if (stmt_exec(j, j->st[ST_ROLLBACK_TO], what) == 0)
		stmt_exec(j, j->st[ST_RELEASE], what);
	return -1;
}

static int
action_result_set(struct journal *j, sqlite3_stmt *st, int64_t id, const char *result,
    const char *detail)
{
	int rc;

	rc = bind_text(st, 1, result, result ? strlen(result) : 0);
	rc |= bind_text(st, 2, detail, detail ? strlen(detail) : 0);
	rc |= sqlite3_bind_int64(st, 3, id);
	if (rc != SQLITE_OK) {
		db_fail(j, "set action result");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "set action result") == -1)
		return -1;
	if (sqlite3_changes(j->db) == 0) {
		log_warnx("journal: set action result: no action %lld", (long long)id);
		return -1;
	}
	return 0;
}

int
journal_action_set_result(struct journal *j, int64_t id, const char *result, const char *detail)
{
	return action_result_set(j, j->st[ST_ACT_RESULT], id, result, detail);
}

int
journal_isolations_since(struct journal *j, int64_t since_ms, int *n)
{
	sqlite3_stmt *st = j->st[ST_ISOLATIONS];

	*n = 0;
	if (sqlite3_bind_int64(st, 1, since_ms) != SQLITE_OK) {
		db_fail(j, "count isolations");
		stmt_done(st);
		return -1;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_fail(j, "count isolations");
		stmt_done(st);
		return -1;
	}
	*n = sqlite3_column_int(st, 0);
	stmt_done(st);
	return 0;
}

void
outbox_msg_free(struct outbox_msg *m, size_t n)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(m[i].target);
		free(m[i].subject);
		free(m[i].body);
	}
	free(m);
}

static int
outbox_insert(struct journal *j, struct outbox_msg *m)
{
	sqlite3_stmt *st = j->st[ST_OUT_ADD];
	int rc;

	rc = sqlite3_bind_int64(st, 1, m->incident_id);
	rc |= sqlite3_bind_int64(st, 2, m->action_id);
	rc |= BIND_CSTR(st, 3, m->channel);
	rc |= bind_text(st, 4, m->target, m->target ? strlen(m->target) : 0);
	rc |= BIND_CSTR(st, 5, m->stage);
	rc |= bind_text(st, 6, m->subject, m->subject ? strlen(m->subject) : 0);
	rc |= bind_blob(st, 7, m->body, m->body ? m->body_len : 0);
	rc |= BIND_CSTR(st, 8, m->content_type);
	rc |= sqlite3_bind_int(st, 9, m->attempts);
	rc |= sqlite3_bind_int64(st, 10, m->next_at);
	rc |= sqlite3_bind_int64(st, 11, m->created_at);
	rc |= sqlite3_bind_int64(st, 12, m->sent_at);
	rc |= BIND_CSTR(st, 13, m->last_error);
	rc |= BIND_CSTR(st, 14, m->state);
	if (rc != SQLITE_OK) {
		db_fail(j, "queue message");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "queue message") == -1)
		return -1;
	m->id = sqlite3_last_insert_rowid(j->db);
	return 0;
}

int
journal_outbox_add(struct journal *j, struct action *a, struct outbox_msg *m)
{
	int own;

	if (newer_stmt(j, ST_OUT_ADD, "queue message") == NULL)
		return -1;
	if (change_begin(j, &own, "queue message") == -1)
		return -1;
	if (journal_action_add(j, a) == -1)
		return change_end(j, own, 0, "queue message");
	m->action_id = a->id;
	m->incident_id = a->incident_id;
	if (outbox_insert(j, m) == -1)
		return change_end(j, own, 0, "queue message");
	return change_end(j, own, 1, "queue message");
}

static void
fill_outbox(sqlite3_stmt *st, void *el)
{
	struct outbox_msg *m = el;

	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(st, 0);
	m->incident_id = sqlite3_column_int64(st, 1);
	m->action_id = sqlite3_column_int64(st, 2);
	COL_CSTR(st, 3, m->channel);
	m->target = col_blob_dup(st, 4);
	m->subject = col_blob_dup(st, 6);
	m->body = col_blob_dup(st, 7);
	m->body_len = (size_t)sqlite3_column_bytes(st, 7);
	if (m->target == NULL)
		m->target = xstrdup("");
	if (m->subject == NULL)
		m->subject = xstrdup("");
	if (m->body == NULL) {
		m->body = xstrdup("");
		m->body_len = 0;
	}
	COL_CSTR(st, 5, m->stage);
	COL_CSTR(st, 8, m->content_type);
	m->attempts = sqlite3_column_int(st, 9);
	m->next_at = sqlite3_column_int64(st, 10);
	m->created_at = sqlite3_column_int64(st, 11);
	m->sent_at = sqlite3_column_int64(st, 12);
	COL_CSTR(st, 13, m->last_error);
	COL_CSTR(st, 14, m->state);
}

static void
free_outbox(void *a, size_t n)
{
	outbox_msg_free(a, n);
}

static int
outbox_query(struct journal *j, enum stmt i, int64_t key, const char *what,
    struct outbox_msg **out, size_t *n)
{
	sqlite3_stmt *st = j->st[i];
	void *a;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return 0;
	if (sqlite3_bind_int64(st, 1, key) != SQLITE_OK) {
		db_fail(j, what);
		stmt_done(st);
		return -1;
	}
	rc = collect_rows(j, st, what, sizeof(struct outbox_msg), fill_outbox, free_outbox, &a, n);
	*out = a;
	return rc;
}

int
journal_outbox_due(struct journal *j, int64_t now, struct outbox_msg **out, size_t *n)
{
	return outbox_query(j, ST_OUT_DUE, now, "list due messages", out, n);
}

int
journal_outbox_list(struct journal *j, int64_t incident_id, struct outbox_msg **out, size_t *n)
{
	return outbox_query(j, ST_OUT_LIST, incident_id, "list messages", out, n);
}

int
journal_outbox_claim(struct journal *j, struct outbox_msg *m, int64_t lease_until)
{
	sqlite3_stmt *st = newer_stmt(j, ST_OUT_CLAIM, "claim message");
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, lease_until);
	rc |= sqlite3_bind_int64(st, 2, m->id);
	rc |= sqlite3_bind_int64(st, 3, m->next_at);
	if (rc != SQLITE_OK) {
		db_fail(j, "claim message");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "claim message") == -1)
		return -1;
	if (sqlite3_changes(j->db) == 0)
		return 1;
	m->next_at = lease_until;
	return 0;
}

int
journal_outbox_update(struct journal *j, const struct outbox_msg *m, const char *result,
    const char *detail)
{
	sqlite3_stmt *st = newer_stmt(j, ST_OUT_UPDATE, "update message");
	int own, rc;

	if (st == NULL)
		return -1;
	if (change_begin(j, &own, "update message") == -1)
		return -1;
	rc = sqlite3_bind_int(st, 1, m->attempts);
	rc |= sqlite3_bind_int64(st, 2, m->next_at);
	rc |= sqlite3_bind_int64(st, 3, m->sent_at);
	rc |= BIND_CSTR(st, 4, m->last_error);
	rc |= BIND_CSTR(st, 5, m->state);
	rc |= sqlite3_bind_int64(st, 6, m->id);
	if (rc != SQLITE_OK) {
		db_fail(j, "update message");
		stmt_done(st);
		return change_end(j, own, 0, "update message");
	}
	if (stmt_exec(j, st, "update message") == -1)
		return change_end(j, own, 0, "update message");
	if (sqlite3_changes(j->db) == 0) {
		log_warnx("journal: update message: no message %lld", (long long)m->id);
		return change_end(j, own, 0, "update message");
	}
	if (result != NULL &&
	    action_result_set(j, j->st[ST_ACT_RESULT], m->action_id, result, detail) == -1)
		return change_end(j, own, 0, "update message");
	return change_end(j, own, 1, "update message");
}

int
journal_stat_each(struct journal *j, const char *prefix, void (*fn)(const char *key, int64_t value, void *arg),
    void *arg)
{
	sqlite3_stmt *st;
	size_t plen = strlen(prefix);
	int rc;

	/* substr() rather than LIKE: a prefix is compared byte for byte, '%' and '_' included. */
	if (sqlite3_prepare_v2(j->db, "SELECT key, value FROM stats WHERE substr(key, 1, ?1) = ?2 ORDER BY key",
	    -1, &st, NULL) != SQLITE_OK)
		return db_fail(j, "list counters");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)plen);
	sqlite3_bind_text(st, 2, prefix, (int)plen, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1), arg);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(j, "list counters");
}

int
journal_stat_clear(struct journal *j, const char *prefix)
{
	sqlite3_stmt *st;
	size_t plen = strlen(prefix);
	int rc;

	if (sqlite3_prepare_v2(j->db, "DELETE FROM stats WHERE substr(key, 1, ?1) = ?2", -1, &st, NULL) != SQLITE_OK)
		return db_fail(j, "clear counters");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)plen);
	sqlite3_bind_text(st, 2, prefix, (int)plen, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(j, "clear counters");
}

int
journal_notice_add(struct journal *j, struct notice *no)
{
	sqlite3_stmt *st = newer_stmt(j, ST_NOTICE_ADD, "add notice");
	int rc;

	if (st == NULL)
		return -1;
	rc = BIND_CSTR(st, 1, no->kind);
	rc |= sqlite3_bind_int64(st, 2, no->incident_id);
	rc |= sqlite3_bind_int64(st, 3, no->first_at);
	rc |= sqlite3_bind_int64(st, 4, no->last_at);
	rc |= sqlite3_bind_int64(st, 5, no->count);
	rc |= BIND_CSTR(st, 6, no->detail);
	if (rc != SQLITE_OK) {
		db_fail(j, "add notice");
		stmt_done(st);
		return -1;
	}
	if (stmt_exec(j, st, "add notice") == -1)
		return -1;
	no->id = sqlite3_last_insert_rowid(j->db);
	return 0;
}

int
journal_notice_update(struct journal *j, const struct notice *no)
{
	sqlite3_stmt *st = newer_stmt(j, ST_NOTICE_UPDATE, "update notice");
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, no->last_at);
	rc |= sqlite3_bind_int64(st, 2, no->count);
	rc |= BIND_CSTR(st, 3, no->detail);
	rc |= sqlite3_bind_int64(st, 4, no->id);
	if (rc != SQLITE_OK) {
		db_fail(j, "update notice");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "update notice");
}

static void
fill_notice(sqlite3_stmt *st, void *el)
{
	struct notice *no = el;

	memset(no, 0, sizeof *no);
	no->id = sqlite3_column_int64(st, 0);
	COL_CSTR(st, 1, no->kind);
	no->incident_id = sqlite3_column_int64(st, 2);
	no->first_at = sqlite3_column_int64(st, 3);
	no->last_at = sqlite3_column_int64(st, 4);
	no->count = sqlite3_column_int64(st, 5);
	COL_CSTR(st, 6, no->detail);
}

int
journal_notice_list(struct journal *j, int64_t incident_id, size_t max, struct notice **out, size_t *n)
{
	sqlite3_stmt *st = j->st[ST_NOTICE_LIST];
	void *a;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)		/* an older journal open read-only: it has none */
		return 0;
	if (sqlite3_bind_int64(st, 1, incident_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max) != SQLITE_OK) {
		db_fail(j, "list notices");
		stmt_done(st);
		return -1;
	}
	rc = collect_rows(j, st, "list notices", sizeof(struct notice), fill_notice, NULL, &a, n);
	*out = a;
	return rc;
}

int
journal_incident_by_origin(struct journal *j, const char *origin, struct incident *inc)
{
	sqlite3_stmt *st = j->st[ST_INC_ORIGIN];
	int rc;

	if (st == NULL)		/* an older journal open read-only: no incident came from the fleet */
		return 1;
	if (bind_text(st, 1, origin, strlen(origin)) != SQLITE_OK) {
		db_fail(j, "find incident by origin");
		stmt_done(st);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		col_incident(st, inc);
		stmt_done(st);
		return 0;
	}
	stmt_done(st);
	if (rc == SQLITE_DONE)
		return 1;
	db_fail(j, "find incident by origin");
	return -1;
}

void
fleet_out_free(struct fleet_out *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].payload);
	free(m);
}

int
journal_fleet_add(struct journal *j, const char *subject, const char *msg_id, const char *payload, size_t len)
{
	sqlite3_stmt *st = newer_stmt(j, ST_FLEET_ADD, "queue fleet message");
	int rc;

	if (st == NULL)
		return -1;
	rc = bind_text(st, 1, subject, strlen(subject));
	rc |= bind_text(st, 2, msg_id, strlen(msg_id));
	rc |= bind_blob(st, 3, payload, len);
	rc |= sqlite3_bind_int64(st, 4, now_ms());
	if (rc != SQLITE_OK) {
		db_fail(j, "queue fleet message");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "queue fleet message") == -1 ? -1 : 0;
}

static void
fill_fleet_out(sqlite3_stmt *st, void *el)
{
	struct fleet_out *m = el;

	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(st, 0);
	COL_CSTR(st, 1, m->subject);
	COL_CSTR(st, 2, m->msg_id);
	m->len = (size_t)sqlite3_column_bytes(st, 3);
	m->payload = xmalloc(m->len + 1);
	if (m->len)
		memcpy(m->payload, sqlite3_column_blob(st, 3), m->len);
	m->payload[m->len] = '\0';
	m->created_at = sqlite3_column_int64(st, 4);
	m->sent_at = sqlite3_column_int64(st, 5);
	m->attempts = sqlite3_column_int(st, 6);
	COL_CSTR(st, 7, m->last_error);
}

static void
free_fleet_rows(void *a, size_t n)
{
	fleet_out_free(a, n);
}

int
journal_fleet_due(struct journal *j, size_t max, struct fleet_out **out, size_t *n)
{
	sqlite3_stmt *st = newer_stmt(j, ST_FLEET_DUE, "list fleet messages");
	void *a;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, max > INT64_MAX ? INT64_MAX : (int64_t)max) != SQLITE_OK) {
		db_fail(j, "list fleet messages");
		stmt_done(st);
		return -1;
	}
	rc = collect_rows(j, st, "list fleet messages", sizeof(struct fleet_out), fill_fleet_out, free_fleet_rows,
	    &a, n);
	*out = a;
	return rc;
}

int
journal_fleet_done(struct journal *j, const struct fleet_out *m)
{
	sqlite3_stmt *st = newer_stmt(j, ST_FLEET_DONE, "record fleet message");
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_bind_int64(st, 1, m->sent_at);
	rc |= sqlite3_bind_int(st, 2, m->attempts);
	rc |= BIND_CSTR(st, 3, m->last_error);
	rc |= sqlite3_bind_int64(st, 4, m->id);
	if (rc != SQLITE_OK) {
		db_fail(j, "record fleet message");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "record fleet message") == -1 ? -1 : 0;
}

int
journal_fleet_pending(struct journal *j, int64_t *count, int64_t *oldest_at)
{
	sqlite3_stmt *st = j->st[ST_FLEET_PENDING];
	int rc;

	*count = 0;
	*oldest_at = 0;
	if (st == NULL)
		return 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*count = sqlite3_column_int64(st, 0);
		*oldest_at = sqlite3_column_int64(st, 1);
	}
	stmt_done(st);
	if (rc != SQLITE_ROW) {
		db_fail(j, "count fleet messages");
		return -1;
	}
	return 0;
}

int
journal_fleet_server_put(struct journal *j, const struct fleet_server *s)
{
	sqlite3_stmt *st = newer_stmt(j, ST_FLEET_SRV_PUT, "record fleet server");
	int rc;

	if (st == NULL)
		return -1;
	rc = BIND_CSTR(st, 1, s->site);
	rc |= BIND_CSTR(st, 2, s->server);
	rc |= BIND_CSTR(st, 3, s->version);
	rc |= sqlite3_bind_int64(st, 4, s->last_seen);
	rc |= sqlite3_bind_int64(st, 5, s->open_incidents);
	rc |= sqlite3_bind_int64(st, 6, s->pending);
	rc |= BIND_CSTR(st, 7, s->detail);
	if (rc != SQLITE_OK) {
		db_fail(j, "record fleet server");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "record fleet server") == -1 ? -1 : 0;
}

static void
fill_fleet_server(sqlite3_stmt *st, void *el)
{
	struct fleet_server *s = el;

	memset(s, 0, sizeof *s);
	COL_CSTR(st, 0, s->site);
	COL_CSTR(st, 1, s->server);
	COL_CSTR(st, 2, s->version);
	s->last_seen = sqlite3_column_int64(st, 3);
	s->open_incidents = sqlite3_column_int64(st, 4);
	s->pending = sqlite3_column_int64(st, 5);
	COL_CSTR(st, 6, s->detail);
}

int
journal_fleet_server_list(struct journal *j, struct fleet_server **out, size_t *n)
{
	sqlite3_stmt *st = j->st[ST_FLEET_SRV_LIST];
	void *a;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL)
		return 0;
	rc = collect_rows(j, st, "list fleet servers", sizeof(struct fleet_server), fill_fleet_server, NULL, &a, n);
	*out = a;
	return rc;
}

int
journal_fleet_prune(struct journal *j, int64_t older_than_ms)
{
	sqlite3_stmt *st = newer_stmt(j, ST_FLEET_PRUNE, "prune fleet messages");

	if (st == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, older_than_ms) != SQLITE_OK) {
		db_fail(j, "prune fleet messages");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "prune fleet messages") == -1 ? -1 : 0;
}

int
journal_repl_add(struct journal *j, const struct repl_rec *r)
{
	sqlite3_stmt *st = newer_stmt(j, ST_REPL_ADD, "record replication");
	int rc;

	if (st == NULL)
		return -1;
	rc = BIND_CSTR(st, 1, r->share);
	rc |= BIND_CSTR(st, 2, r->snapshot);
	rc |= sqlite3_bind_int64(st, 3, r->taken_at);
	rc |= BIND_CSTR(st, 4, r->parent);
	rc |= BIND_CSTR(st, 5, r->target);
	rc |= sqlite3_bind_int64(st, 6, r->sent_at);
	rc |= sqlite3_bind_int64(st, 7, r->bytes);
	rc |= sqlite3_bind_int64(st, 8, r->ms);
	if (rc != SQLITE_OK) {
		db_fail(j, "record replication");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "record replication") == -1 ? -1 : 0;
}

int
journal_repl_last(struct journal *j, const char *share, struct repl_rec *r)
{
	sqlite3_stmt *st = j->st[ST_REPL_LAST];
	int rc;

	memset(r, 0, sizeof *r);
	if (st == NULL)
		return 1;
	if (bind_text(st, 1, share, strlen(share)) != SQLITE_OK) {
		db_fail(j, "read replication");
		stmt_done(st);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		COL_CSTR(st, 0, r->share);
		COL_CSTR(st, 1, r->snapshot);
		r->taken_at = sqlite3_column_int64(st, 2);
		COL_CSTR(st, 3, r->parent);
		COL_CSTR(st, 4, r->target);
		r->sent_at = sqlite3_column_int64(st, 5);
		r->bytes = sqlite3_column_int64(st, 6);
		r->ms = sqlite3_column_int64(st, 7);
	}
	stmt_done(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return db_fail(j, "read replication");
}

int
journal_repl_state_put(struct journal *j, const struct repl_state *s)
{
	sqlite3_stmt *st = newer_stmt(j, ST_REPL_STATE_PUT, "record replication state");
	int rc;

	if (st == NULL)
		return -1;
	rc = BIND_CSTR(st, 1, s->share);
	rc |= sqlite3_bind_int64(st, 2, s->checked_at);
	rc |= BIND_CSTR(st, 3, s->replica_newest);
	rc |= BIND_CSTR(st, 4, s->held);
	rc |= BIND_CSTR(st, 5, s->last_error);
	rc |= sqlite3_bind_int64(st, 6, s->last_error_at);
	if (rc != SQLITE_OK) {
		db_fail(j, "record replication state");
		stmt_done(st);
		return -1;
	}
	return stmt_exec(j, st, "record replication state") == -1 ? -1 : 0;
}

int
journal_repl_state_get(struct journal *j, const char *share, struct repl_state *s)
{
	sqlite3_stmt *st = j->st[ST_REPL_STATE_GET];
	int rc;

	memset(s, 0, sizeof *s);
	snprintf(s->share, sizeof s->share, "%s", share);
	if (st == NULL)
		return 1;
	if (bind_text(st, 1, share, strlen(share)) != SQLITE_OK) {
		db_fail(j, "read replication state");
		stmt_done(st);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->checked_at = sqlite3_column_int64(st, 1);
		COL_CSTR(st, 2, s->replica_newest);
		COL_CSTR(st, 3, s->held);
		COL_CSTR(st, 4, s->last_error);
		s->last_error_at = sqlite3_column_int64(st, 5);
	}
	stmt_done(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return db_fail(j, "read replication state");
}
