/* The responder worker: each incident's slow steps (sweep, switch walk, snapshot, messages) off the event loop. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "incident.h"
#include "journal.h"
#include "log.h"
#include "notify.h"
#include "respond.h"
#include "util.h"

#define WORKER_QUEUE_MAX	256

struct rw_job {
	struct incident inc;
	int breaker;
	int sweep;
	char protected_why[128];
	struct rw_job *next;
};

struct respond_worker {
	const struct config *cfg;
	struct journal *j;		/* this thread's own connection */
	struct notifier *notifier;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rw_job *head, *tail;
	int queued;			/* jobs in the queue, and the one running */
	int stop;
};

static void
run_job(struct respond_worker *w, struct rw_job *job)
{
	struct respond_ctx ctx;
	int64_t t0 = mono_ms();

	memset(&ctx, 0, sizeof ctx);
	ctx.cfg = w->cfg;
	ctx.j = w->j;
	ctx.inc = &job->inc;
	ctx.notifier = w->notifier;
	ctx.breaker = job->breaker;
	ctx.sweep = job->sweep;
	snprintf(ctx.protected_why, sizeof ctx.protected_why, "%s", job->protected_why);
	respond_incident_slow(&ctx);
	log_debug("incident %lld: the slow responders took %lld ms", (long long)job->inc.id,
	    (long long)(mono_ms() - t0));
}

static void *
worker_main(void *arg)
{
	struct respond_worker *w = arg;
	struct rw_job *job;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if ((job = w->head) == NULL)
			break;		/* stopping, and nothing is left */
		pthread_mutex_unlock(&w->mu);
		run_job(w, job);
		pthread_mutex_lock(&w->mu);
		w->head = job->next;
		if (w->head == NULL)
			w->tail = NULL;
		w->queued--;
		free(job);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct respond_worker *
respond_worker_start(const struct config *cfg, struct notifier *notifier, char *err, size_t errlen)
{
	struct respond_worker *w = xcalloc(1, sizeof *w);
	int rc;

	w->cfg = cfg;
	w->notifier = notifier;
	if ((w->j = journal_open(cfg->journal, 0, err, errlen)) == NULL) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	rc = thread_start(&w->thread, worker_main, w);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the responder worker: %s", strerror(rc));
		journal_close(w->j);
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return NULL;
	}
	return w;
}

int
respond_worker_submit(struct respond_worker *w, const struct respond_ctx *ctx)
{
	struct rw_job *job;

	if (w == NULL)
		return -1;
	pthread_mutex_lock(&w->mu);
	if (w->stop || w->queued >= WORKER_QUEUE_MAX) {
		pthread_mutex_unlock(&w->mu);
		return -1;
	}
	job = xcalloc(1, sizeof *job);
	job->inc = *ctx->inc;
	job->breaker = ctx->breaker;
	job->sweep = ctx->sweep;
	/* The directory's answer goes with the job: a protected account's port stays up too. */
	snprintf(job->protected_why, sizeof job->protected_why, "%s", ctx->protected_why);
	if (w->tail != NULL)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	w->queued++;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int
respond_worker_pending(struct respond_worker *w)
{
	int n;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&w->mu);
	n = w->queued;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void
respond_worker_stop(struct respond_worker *w)
{
	int n;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	n = w->queued;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (n > 0)
		log_info("finishing the switch, snapshot and message steps of %d incident%s first", n,
		    n == 1 ? "" : "s");
	pthread_join(w->thread, NULL);
	journal_close(w->j);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
