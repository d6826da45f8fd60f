/* The snapshot schedule and retention, on a thread of its own so a slow backend never delays detection. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "snapshot.h"
#include "snapsched.h"
#include "util.h"

struct snapsched {
	const struct config *cfg;
	struct journal *j;		/* this thread's own connection */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
};

/*
 * Snapshots the retention rules may not delete: for every incident not yet
 * restored or released, the clean one its restore needs and the ones taken
 * at its detection.
 */
static int
snapshot_needed(struct snapsched *ss, const struct share *sh, const struct snap_info *list, size_t n,
    const struct snap_rec *recs, size_t nrecs, const char *name)
{
	struct incident *incs = NULL;
	size_t ninc = 0;
	int needed = 0;

	if (journal_incident_list(ss->j, &incs, &ninc) != 0)
		return 1;		/* cannot tell: keep it */
	for (size_t i = 0; i < ninc && !needed; i++) {
		const struct snap_info *clean;

		if (strcmp(incs[i].state, INC_RESTORED) == 0 || strcmp(incs[i].state, INC_RELEASED) == 0)
			continue;
		clean = snapshot_before(list, n, incs[i].first_event_at - ss->cfg->restore_lookback_ms);
		if (clean && strcmp(clean->name, name) == 0)
			needed = 1;
		for (size_t k = 0; k < nrecs && !needed; k++)
			needed = recs[k].incident_id == incs[i].id && strcmp(recs[k].share, sh->name) == 0 &&
			    strcmp(recs[k].name, name) == 0;
	}
	free(incs);
	return needed;
}

/*
 * Deletes the share's snapshots the retention rules no longer keep: only
 * those sharewarden took on its own (schedule, detection), never manual ones.
 */
static void
snapshots_prune(struct snapsched *ss, const struct share *sh, const struct snap_backend *b)
{
	struct snap_info *list = NULL;
	struct snap_rec *recs = NULL;
	size_t n = 0, nrecs = 0;
	unsigned char *keep;
	char err[512];
	const struct snap_cfg *sc = &ss->cfg->snap;

	if (snapshot_list(sh, &list, &n, err, sizeof err) != 0) {
		log_warnx("share %s: cannot list snapshots: %s", sh->name, err);
		return;
	}
	if (journal_snapshot_list(ss->j, sh->name, &recs, &nrecs) != 0) {
		free(list);
		return;
	}
	keep = xcalloc(n ? n : 1, 1);
	snapshot_retain(list, n, now_ms(), sc->keep_recent, sc->keep_hourly, sc->keep_daily, keep);
	for (size_t i = 0; i < n; i++) {
		const struct snap_rec *mine = NULL;

		if (keep[i])
			continue;
		for (size_t k = 0; k < nrecs && mine == NULL; k++) {
			if (strcmp(recs[k].name, list[i].name) == 0 && recs[k].removed_at == 0 &&
			    strcmp(recs[k].reason, "manual") != 0)
				mine = &recs[k];
		}
		if (mine == NULL || snapshot_needed(ss, sh, list, n, recs, nrecs, list[i].name))
			continue;
		if (b->remove(sh, list[i].name, err, sizeof err) != 0) {
			log_warnx("share %s: cannot delete expired snapshot %s: %s", sh->name, list[i].name, err);
			continue;
		}
		journal_snapshot_removed(ss->j, sh->name, list[i].name, now_ms());
		log_info("share %s: expired snapshot %s deleted", sh->name, list[i].name);
	}
	free(keep);
	free(recs);
	free(list);
}

int
snapshot_take_recorded(const struct share *sh, struct journal *j, const char *reason, int64_t incident_id,
    struct snap_info *si, char *err, size_t errlen)
{
	struct snap_rec r;

	if (snapshot_take(sh, si, err, errlen) != 0)
		return -1;
	memset(&r, 0, sizeof r);
	snprintf(r.share, sizeof r.share, "%s", sh->name);
	snprintf(r.name, sizeof r.name, "%s", si->name);
	snprintf(r.reason, sizeof r.reason, "%s", reason);
	r.taken_at = si->taken_ms;
	r.incident_id = incident_id;
	if (j != NULL && journal_snapshot_add(j, &r) != 0) {
		snprintf(err, errlen, "snapshot %s taken but not journaled (retention will never delete it)",
		    si->name);
		return 1;
	}
	return 0;
}

/* One round of the schedule: a snapshot of every share, then its retention. */
static void
snapshots_round(struct snapsched *ss)
{
	for (const struct share *sh = ss->cfg->shares; sh; sh = sh->next) {
		const struct snap_backend *b;
		struct snap_info si;
		char err[512];
		int rc;

		if ((b = snapshot_backend(sh, err, sizeof err)) == NULL)
			continue;
		if ((rc = snapshot_take_recorded(sh, ss->j, "schedule", 0, &si, err, sizeof err)) != 0) {
			log_warnx("share %s: scheduled snapshot: %s", sh->name, err);
			if (rc < 0)
				continue;
		}
		log_debug("share %s: snapshot %s", sh->name, si.name);
		snapshots_prune(ss, sh, b);
	}
}

/* The outcome of the start's snapshot of sh, for `status`. */
static void
start_record(struct journal *j, const struct share *sh, int64_t v)
{
	char key[256];

	snprintf(key, sizeof key, "%s%s", SNAPSCHED_START_KEY, sh->name);
	if (j != NULL)
		journal_stat_set(j, key, v);
}

int
snapsched_initial(const struct config *cfg, struct journal *j)
{
	int missing = 0;

	if (j != NULL)
		journal_stat_clear(j, SNAPSCHED_START_KEY);
	for (const struct share *sh = cfg->shares; sh; sh = sh->next) {
		struct snap_info *list = NULL, si;
		size_t n = 0;
		char err[512];
		int rc;

		if (snapshot_backend(sh, err, sizeof err) == NULL) {
			log_warnx("share %s: no snapshots (%s): an attack on it cannot be undone", sh->name, err);
			start_record(j, sh, -1);
			missing++;
			continue;
		}
		if (snapshot_list(sh, &list, &n, err, sizeof err) != 0) {
			log_warnx("share %s: cannot list snapshots: %s", sh->name, err);
			start_record(j, sh, 0);
			missing++;
			continue;
		}
		if (n > 0 && cfg->snap.interval_ms > 0 && list[n - 1].taken_ms <= now_ms() &&
		    now_ms() - list[n - 1].taken_ms < cfg->snap.interval_ms) {
			log_info("share %s: clean snapshot %s (taken within the interval) kept for the start",
			    sh->name, list[n - 1].name);
			start_record(j, sh, list[n - 1].taken_ms);
			free(list);
			continue;
		}
		free(list);
		if ((rc = snapshot_take_recorded(sh, j, "start", 0, &si, err, sizeof err)) != 0) {
			log_warnx("share %s: snapshot at start: %s", sh->name, err);
			if (rc < 0) {
				start_record(j, sh, 0);
				missing++;
				continue;
			}
		}
		start_record(j, sh, si.taken_ms);
		log_info("share %s: clean snapshot %s taken at start", sh->name, si.name);
	}
	return missing;
}

static void
snapshots_prune_all(struct snapsched *ss)
{
	for (const struct share *sh = ss->cfg->shares; sh; sh = sh->next) {
		const struct snap_backend *b;
		char err[512];

		if ((b = snapshot_backend(sh, err, sizeof err)) != NULL)
			snapshots_prune(ss, sh, b);
	}
}

static void *
snapsched_main(void *arg)
{
	struct snapsched *ss = arg;
	int64_t iv = ss->cfg->snap.interval_ms;

	pthread_mutex_lock(&ss->mu);
	for (int round = 0; !ss->stop; round++) {
		int64_t next;
		struct timespec ts;

		pthread_mutex_unlock(&ss->mu);
		/* The first round is retention only: snapsched_initial took the start's snapshot. */
		if (round == 0)
			snapshots_prune_all(ss);
		else
			snapshots_round(ss);
		pthread_mutex_lock(&ss->mu);
		/* The next multiple of the interval on the wall clock: 15m gives :00, :15, :30, :45. */
		next = (now_ms() / iv + 1) * iv;
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000L;
		while (!ss->stop && now_ms() < next) {
			if (pthread_cond_timedwait(&ss->cv, &ss->mu, &ts) == ETIMEDOUT)
				break;
		}
	}
	pthread_mutex_unlock(&ss->mu);
	return NULL;
}

struct snapsched *
snapsched_start(const struct config *cfg, char *err, size_t errlen)
{
	struct snapsched *ss;
	int rc;

	if (cfg->snap.interval_ms <= 0) {
		snprintf(err, errlen, "no interval");
		return NULL;
	}
	ss = xcalloc(1, sizeof *ss);
	ss->cfg = cfg;
	if ((ss->j = journal_open(cfg->journal, 0, err, errlen)) == NULL) {
		free(ss);
		return NULL;
	}
	pthread_mutex_init(&ss->mu, NULL);
	pthread_cond_init(&ss->cv, NULL);
	rc = thread_start(&ss->thread, snapsched_main, ss);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the snapshot thread: %s", strerror(rc));
		journal_close(ss->j);
		pthread_cond_destroy(&ss->cv);
		pthread_mutex_destroy(&ss->mu);
		free(ss);
		return NULL;
	}
	return ss;
}

void
snapsched_stop(struct snapsched *ss)
{
	if (ss == NULL)
		return;
	pthread_mutex_lock(&ss->mu);
	ss->stop = 1;
	pthread_cond_signal(&ss->cv);
	pthread_mutex_unlock(&ss->mu);
	pthread_join(ss->thread, NULL);
	journal_close(ss->j);
	pthread_cond_destroy(&ss->cv);
	pthread_mutex_destroy(&ss->mu);
	free(ss);
}
