/* Incidents, their signals and the actions taken: the records kept in the journal, and their JSON. */
#ifndef SW_INCIDENT_H
#define SW_INCIDENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct journal;

/* States, in lifecycle order. */
#define INC_OPEN	"open"
#define INC_CONTAINED	"contained"
#define INC_RESTORED	"restored"
#define INC_RELEASING	"releasing"	/* `release` is undoing its actions (back to the state before, if one fails) */
#define INC_RELEASED	"released"

struct incident {
	int64_t id;
	char state[16];
	int64_t first_event_at;		/* ms since the epoch; 0 = unset */
	int64_t detected_at;
	int64_t contained_at;
	int64_t released_at;
	char user[128];
	char domain[128];
	char ip[64];
	char mac[32];
	char mac_source[160];		/* where the MAC came from: "neighbour", "router NAME", "dhcp FILE" ("" = unknown) */
	char host[128];
	char sw[128];			/* switch ("switch" in JSON) */
	char port[64];
	int smbd_pid;
	double score;
	int monitor;			/* opened in monitor mode or for a protected account: report only */
	char origin[192];		/* "site/server#id" when another server of the fleet opened it; "" = here */
};

struct signal_rec {
	char kind[32];			/* ransom_note, ransom_extension, wildcard, rename_burst, overwrite_rename ... */
	char *path;			/* owned, any bytes but NUL */
	int64_t at;
	double weight;
	char detail[256];
};

struct action {
	int64_t id;
	int64_t incident_id;
	char kind[32];			/* lock_account, kill_session, notify_syslog ... */
	char target[256];
	char result[16];		/* ok, failed, skipped */
	int64_t at;
	char detail[512];
	int64_t undone_at;		/* 0 = not undone */
	char undo_result[16];
	char undo_detail[256];
	char state[16];			/* ACT_RUNNING while the responder acts, then ACT_DONE */
};

/*
 * An action is journaled "running" (and committed) before its responder
 * acts and "done" with its result after: a row still running after a crash
 * is one the daemon resumes at its next start.
 */
#define ACT_RUNNING	"running"
#define ACT_DONE	"done"

struct file_rec {
	char *path;			/* owned */
	char *path2;			/* owned, rename target or NULL */
	char op[16];
	int64_t at;
};

/* Notice kinds. */
#define NOTICE_KERNEL_OVERFLOW	"kernel_overflow"	/* the fanotify queue overflowed: kernel events were lost */

/* Something the daemon saw that is neither a signal nor an action (notices[] of the JSON). */
struct notice {
	int64_t id;
	char kind[32];			/* NOTICE_* */
	int64_t incident_id;		/* 0: the daemon's own */
	int64_t first_at;		/* ms since the epoch */
	int64_t last_at;
	int64_t count;			/* how many times it happened from first_at to last_at */
	char detail[256];
};

/* One mutating event of any actor, as the restore planner reads them back. */
struct event_rec {
	int64_t id;
	int64_t at;
	char op[16];			/* op_name(): create, write, rename, unlink, mkdir ... */
	unsigned flags;			/* EVF_* */
	int ok;
	char *user;			/* owned */
	char *ip;			/* owned */
	char *path;			/* owned, absolute */
	char *path2;			/* owned, rename target or NULL */
};

/* A snapshot sharewarden took (only those are ever deleted by retention). */
struct snap_rec {
	char share[128];
	char name[64];
	int64_t taken_at;
	char reason[16];		/* schedule, detection, manual */
	int64_t incident_id;		/* detection: the incident; else 0 */
	int64_t removed_at;		/* 0 = still there */
};

/* Restore states: planned (dry run only) -> running -> done | partial | failed. */
#define RESTORE_NONE	"none"
#define RESTORE_RUNNING	"running"
#define RESTORE_DONE	"done"
#define RESTORE_PARTIAL	"partial"
#define RESTORE_FAILED	"failed"

/* The restore of one incident (restore{} of the JSON). */
struct restore_rec {
	int64_t incident_id;
	char state[16];
	char share[128];		/* the share restored first (multi-share incidents list several items) */
	char snapshot[64];		/* the snapshot used (the first share's) */
	int64_t snapshot_at;
	int64_t started_at;
	int64_t finished_at;
	int64_t restored;		/* files put back and verified */
	int64_t removed;		/* ransom notes and encrypted copies removed */
	int64_t conflicts;		/* kept both: someone else changed the file after the attack began */
	int64_t failed;			/* steps that failed (the detail says why) */
	int64_t unrestorable;		/* damaged files no snapshot holds: left as they are */
	char detail[512];
};

/*
 * One step of a restore plan, journaled before the apply starts so a crash
 * resumes where it stopped. Kinds: "mkdir" (recreate a folder from the
 * snapshot), "restore" (src -> path), "keep_both" (src -> aux, path left:
 * someone else changed it), "remove" (an attacker's file), "rmdir" (a folder
 * the attacker created, once empty), "unrestorable" (damaged, no clean copy:
 * left alone, reported), "dirmeta" (folder times and attributes from src, last).
 * States: pending, done, failed, skipped.
 */
struct restore_item {
	int64_t id;
	int64_t incident_id;
	int64_t seq;			/* apply order */
	char kind[16];
	char *path;			/* owned, absolute live path */
	char *src;			/* owned, absolute path in the snapshot, or NULL */
	char *aux;			/* owned: keep_both's target name; remove: the original it came from; or NULL */
	int64_t size;			/* remove: the size the planner saw (the file must still have it) */
	int64_t mtime_ns;		/* remove: the mtime the planner saw */
	char state[16];
	char detail[256];
};

/* Frees the n records' strings and the array itself (as the journal lists return them). */
void signal_rec_free(struct signal_rec *s, size_t n);
void file_rec_free(struct file_rec *f, size_t n);
void event_rec_free(struct event_rec *e, size_t n);
void restore_item_free(struct restore_item *it, size_t n);

/*
 * The incident as the stable JSON of DESIGN.md (id, state, times in RFC 3339,
 * actor{}, signals[], files[], actions[], restore{}). Paths that are not
 * valid UTF-8 have each bad byte replaced with U+FFFD and carry "path_hex".
 * Returns a new reference, or NULL when the incident does not exist or the
 * journal cannot be read (logged).
 */
json_t *incident_json(struct journal *j, int64_t id);

/*
 * A readable multi-line report of one incident (the `incident ID` command),
 * attacker-chosen names escaped. 0 printed, 1 no such incident, -1 error.
 */
int incident_print(struct journal *j, int64_t id, FILE *out);

#endif
