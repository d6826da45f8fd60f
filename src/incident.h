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
	char host[128];
	char sw[128];			/* switch ("switch" in JSON) */
	char port[64];
	int smbd_pid;
	double score;
	int monitor;			/* opened in monitor mode or for a protected account: report only */
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
};

struct file_rec {
	char *path;			/* owned */
	char *path2;			/* owned, rename target or NULL */
	char op[16];
	int64_t at;
};

/* Frees the n records' strings and the array itself (as the journal lists return them). */
void signal_rec_free(struct signal_rec *s, size_t n);
void file_rec_free(struct file_rec *f, size_t n);

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
