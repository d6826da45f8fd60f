/* Locking the incident's account (tdbsam: smbpasswd -d; samba-ad-dc, ldap: userAccountControl), unlocking it on release. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "incident.h"
#include "log.h"
#include "respond.h"
#include "util.h"

/*
 * The account name of user, the same for every form Samba and clients use:
 * "LAB\\alice", "alice", "alice@lab.test" are all "alice" (the directory
 * compares names without case). NULL when the name could be taken for an
 * option by the tools, or is not a name at all.
 */
static const char *
account_name(const char *user, char *buf, size_t bufsz)
{
	const char *bs = strrchr(user, '\\'), *name = bs != NULL ? bs + 1 : user, *at;

	if ((at = strchr(name, '@')) != NULL) {
		if ((size_t)(at - name) >= bufsz)
			return NULL;
		memcpy(buf, name, (size_t)(at - name));
		buf[at - name] = '\0';
		name = buf;
	}
	if (name[0] == '\0' || name[0] == '-')
		return NULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return NULL;
	return name;
}

const struct account_dir *
account_dir(const struct config *cfg)
{
	if (strcmp(cfg->account_backend, "samba-ad-dc") == 0)
		return &account_dir_ad;
	if (strcmp(cfg->account_backend, "ldap") == 0)
		return &account_dir_ldap;
	return NULL;
}

int
account_filter_value(const char *s, size_t n, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-';

		/* Room for the byte (or its three-byte escape) and the final NUL. */
		if (o + (plain ? 1 : 3) >= bufsz)
			return -1;
		if (plain)
			buf[o++] = (char)c;
		else {
			buf[o++] = '\\';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	if (o >= bufsz)
		return -1;
	buf[o] = '\0';
	return 0;
}

int
account_filter(const char *name, char *buf, size_t bufsz)
{
	static const char head[] = "(&(objectClass=user)(sAMAccountName=";
	size_t o = sizeof head - 1;

	if (bufsz < sizeof head + 2)
		return -1;
	memcpy(buf, head, o);
	if (account_filter_value(name, strlen(name), buf + o, bufsz - o - 2) != 0)
		return -1;
	o += strlen(buf + o);
	memcpy(buf + o, "))", 3);
	return 0;
}

int
account_sid_text(const unsigned char *sid, size_t n, char *buf, size_t bufsz)
{
	uint64_t auth = 0;
	size_t count, o;
	int w;

	/* Revision 1, at most 15 sub-authorities (MS-DTYP 2.4.2.2), and exactly as many bytes as they take. */
	if (n < 8 || sid[0] != 1 || (count = sid[1]) > 15 || n != 8 + 4 * count)
		return -1;
	for (int i = 2; i < 8; i++)
		auth = auth << 8 | sid[i];
	/* The authority in decimal below 2^32, else in hex (as Windows prints it). */
	if (auth < (UINT64_C(1) << 32))
		w = snprintf(buf, bufsz, "S-1-%llu", (unsigned long long)auth);
	else
		w = snprintf(buf, bufsz, "S-1-0x%012llX", (unsigned long long)auth);
	if (w < 0 || (size_t)w >= bufsz)
		return -1;
	o = (size_t)w;
	for (size_t i = 0; i < count; i++) {
		const unsigned char *p = sid + 8 + 4 * i;
		uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

		w = snprintf(buf + o, bufsz - o, "-%lu", (unsigned long)v);
		if (w < 0 || (size_t)w >= bufsz - o)
			return -1;
		o += (size_t)w;
	}
	return 0;
}

int
account_group_protected(const struct config *cfg, const char *dn, char *why, size_t whylen)
{
	const char *cn, *end;

	if (strncasecmp(dn, "CN=", 3) != 0)
		return 0;
	cn = dn + 3;
	for (end = cn; *end != '\0' && *end != ','; end++)
		if (*end == '\\' && end[1] != '\0')
			end++;
	for (size_t i = 0; i < cfg->n_protected_groups; i++) {
		const char *g = cfg->protected_groups[i], *bs = strrchr(g, '\\');

		if (bs != NULL)
			g = bs + 1;
		if (strlen(g) == (size_t)(end - cn) && strncasecmp(g, cn, (size_t)(end - cn)) == 0) {
			snprintf(why, whylen, "protected account: member of %s", g);
			return 1;
		}
	}
	return 0;
}

int
account_sid_protected(const struct config *cfg, const char *sid, char *why, size_t whylen)
{
	for (size_t k = 0; k < cfg->n_protected; k++)
		if (strcasecmp(cfg->protected_accounts[k], sid) == 0) {
			snprintf(why, whylen, "protected account: SID %.64s", sid);
			return 1;
		}
	return 0;
}

/* userAccountControl as AD writes it: a 32-bit integer in decimal, which may read negative. */
int
account_parse_uac(const char *s, unsigned *uac)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < INT32_MIN || v > UINT32_MAX)
		return -1;
	*uac = (unsigned)(uint32_t)v;
	return 0;
}

/*
 * The directory's answers on protection, kept for the fast path. A thread
 * asks: ahead, when an actor is first seen (its first audit line), and at
 * the incident when nothing fresh is known. The deny waits for it at most
 * PROT_WAIT_MS: never a whole TLS handshake and bind, nor a timeout when
 * the DC does not answer.
 */
#define PROT_SLOTS	64
#define PROT_FRESH_MS	(5 * 60 * 1000)	/* an answer this old is asked again: a group change is seen */
#define PROT_WAIT_MS	500		/* the most the deny waits for the directory's answer */
#define DIR_DOWN_MS	60000		/* a directory that failed this recently is not waited on */

/* FAILED: the directory answered nothing usable (why holds the error); asked again next time. */
enum prot_state { PROT_EMPTY, PROT_QUEUED, PROT_ASKING, PROT_KNOWN, PROT_FAILED };

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* a question was queued (for the thread) */
	pthread_cond_t answered;	/* a question was answered (for the fast path) */
	pthread_t thr;
	int started, stop;
	const struct config *cfg;
	struct {
		enum prot_state state;
		char name[128];
		int protected;
		char why[256];		/* why it is protected, or the directory's error (FAILED) */
		int64_t at;		/* mono_ms of the answer, or of the question */
	} slot[PROT_SLOTS];
	int64_t down_at;		/* mono_ms the directory last failed, 0 when it answered since */
	char down_err[256];
} prot = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
	.answered = PTHREAD_COND_INITIALIZER };

/* The slot of name, or -1. Called with prot.mu held, as every prot_ function. */
static int
prot_find(const char *name)
{
	for (int i = 0; i < PROT_SLOTS; i++)
		if (prot.slot[i].state != PROT_EMPTY && strcasecmp(prot.slot[i].name, name) == 0)
			return i;
	return -1;
}

/* A slot for a new name: an empty one, else the oldest answer; -1 when every slot waits on the directory. */
static int
prot_free_slot(void)
{
	int best = -1;

	for (int i = 0; i < PROT_SLOTS; i++) {
		if (prot.slot[i].state == PROT_EMPTY)
			return i;
		if ((prot.slot[i].state == PROT_KNOWN || prot.slot[i].state == PROT_FAILED) &&
		    (best == -1 || prot.slot[i].at < prot.slot[best].at))
			best = i;
	}
	return best;
}

static void *
prot_main(void *arg)
{
	struct ad_account acc;
	char name[128], err[256];
	int i, rc;

	(void)arg;
	pthread_mutex_lock(&prot.mu);
	while (!prot.stop) {
		for (i = 0; i < PROT_SLOTS && prot.slot[i].state != PROT_QUEUED; i++)
			;
		if (i == PROT_SLOTS) {
			pthread_cond_wait(&prot.cv, &prot.mu);
			continue;
		}
		prot.slot[i].state = PROT_ASKING;
		snprintf(name, sizeof name, "%s", prot.slot[i].name);
		pthread_mutex_unlock(&prot.mu);
		rc = account_dir(prot.cfg)->read(prot.cfg, name, &acc, err, sizeof err);
		pthread_mutex_lock(&prot.mu);
		if (rc == ACCOUNT_DIR_DOWN) {
			prot.down_at = mono_ms();
			snprintf(prot.down_err, sizeof prot.down_err, "%s", err);
		} else
			prot.down_at = 0;
		if ((i = prot_find(name)) == -1)
			continue;
		if (rc != 0) {
			/* Nothing known (no such account, or no answer): the lock finds out again and says why. */
			prot.slot[i].state = PROT_FAILED;
			snprintf(prot.slot[i].why, sizeof prot.slot[i].why, "%s", err);
			prot.slot[i].at = mono_ms();
		} else {
			prot.slot[i].state = PROT_KNOWN;
			prot.slot[i].protected = acc.protected;
			snprintf(prot.slot[i].why, sizeof prot.slot[i].why, "%s", acc.protected ? acc.why : "");
			prot.slot[i].at = mono_ms();
		}
		pthread_cond_broadcast(&prot.answered);
	}
	pthread_mutex_unlock(&prot.mu);
	return NULL;
}

/* Queues a question on name unless one is on its way or a fresh answer is known. The slot, or -1. */
static int
prot_ask(const struct config *cfg, const char *name, int64_t fresh_ms)
{
	int i = prot_find(name);

	if (i != -1 && (prot.slot[i].state == PROT_QUEUED || prot.slot[i].state == PROT_ASKING ||
	    (prot.slot[i].state == PROT_KNOWN && mono_ms() - prot.slot[i].at < fresh_ms)))
		return i;
	if (i == -1 && (i = prot_free_slot()) == -1)
		return -1;
	if (!prot.started) {
		prot.cfg = cfg;
		prot.stop = 0;
		if (thread_start(&prot.thr, prot_main, NULL) != 0) {
			log_warnx("%s: cannot start the thread that asks the directory", account_dir(cfg)->name);
			return -1;
		}
		prot.started = 1;
	}
	prot.slot[i].state = PROT_QUEUED;
	snprintf(prot.slot[i].name, sizeof prot.slot[i].name, "%s", name);
	prot.slot[i].at = mono_ms();
	pthread_cond_signal(&prot.cv);
	return i;
}

void
respond_account_prefetch(const struct config *cfg, const char *user)
{
	char buf[128];
	const char *name;

	if (account_dir(cfg) == NULL || !cfg->lock_account || cfg->monitor_only || config_is_protected(cfg, user) ||
	    (name = account_name(user, buf, sizeof buf)) == NULL)
		return;
	pthread_mutex_lock(&prot.mu);
	/* A directory that just failed is not asked for every new session. */
	if (prot.down_at == 0 || mono_ms() - prot.down_at >= DIR_DOWN_MS)
		prot_ask(cfg, name, PROT_FRESH_MS / 2);
	pthread_mutex_unlock(&prot.mu);
}

void
respond_account_prefetch_stop(void)
{
	pthread_mutex_lock(&prot.mu);
	if (!prot.started) {
		pthread_mutex_unlock(&prot.mu);
		return;
	}
	prot.stop = 1;
	pthread_cond_signal(&prot.cv);
	pthread_mutex_unlock(&prot.mu);
	pthread_join(prot.thr, NULL);
	pthread_mutex_lock(&prot.mu);
	prot.started = 0;
	pthread_mutex_unlock(&prot.mu);
}

int
respond_account_protected(const struct config *cfg, const char *user, char *why, size_t whylen)
{
	const struct account_dir *dir = account_dir(cfg);
	char buf[128], shown[160];
	struct timespec until;
	const char *name;
	int64_t t0 = mono_ms();
	int i, rc = 0;

	why[0] = '\0';
	if (dir == NULL || (name = account_name(user, buf, sizeof buf)) == NULL)
		return 0;
	respond_sanitize(shown, sizeof shown, name, strlen(name));
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += PROT_WAIT_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&prot.mu);
	if (prot.down_at != 0 && t0 - prot.down_at < DIR_DOWN_MS && ((i = prot_find(name)) == -1 ||
	    prot.slot[i].state != PROT_KNOWN || t0 - prot.slot[i].at >= PROT_FRESH_MS)) {
		log_warnx("%s: cannot tell whether %s is in a protected group: the directory failed %lld s ago (%s): "
		    "not waited on before the deny", dir->name, shown, (long long)((t0 - prot.down_at) / 1000),
		    prot.down_err);
		pthread_mutex_unlock(&prot.mu);
		return 0;
	}
	if ((i = prot_ask(cfg, name, PROT_FRESH_MS)) != -1)
		while ((prot.slot[i].state == PROT_QUEUED || prot.slot[i].state == PROT_ASKING) &&
		    strcasecmp(prot.slot[i].name, name) == 0 &&
		    pthread_cond_timedwait(&prot.answered, &prot.mu, &until) == 0)
			;
	if (i != -1 && prot.slot[i].state == PROT_KNOWN && strcasecmp(prot.slot[i].name, name) == 0) {
		rc = prot.slot[i].protected;
		snprintf(why, whylen, "%s", prot.slot[i].why);
		log_debug("%s: %s is %sprotected (known since %lld ms, waited %lld ms)", dir->name, shown,
		    rc ? "" : "not ", (long long)(mono_ms() - prot.slot[i].at), (long long)(mono_ms() - t0));
	} else if (i != -1 && prot.slot[i].state == PROT_FAILED && strcasecmp(prot.slot[i].name, name) == 0)
		log_warnx("%s: cannot tell whether %s is in a protected group: %s", dir->name, shown,
		    prot.slot[i].why);
	else
		log_warnx("%s: cannot tell whether %s is in a protected group: no answer from the directory within "
		    "%d ms: not waited on longer before the deny (the lock asks again)", dir->name, shown,
		    PROT_WAIT_MS);
	pthread_mutex_unlock(&prot.mu);
	return rc;
}

/* What a lock journals before it disables: the account was enabled, so it is ours to enable again. */
#define LOCK_CHECKPOINT	"disabling (it was enabled)"
/* The same in AD, with the userAccountControl found: "disabling in AD: userAccountControl OLD -> NEW (DN)". */
#define AD_CHECKPOINT	"disabling in AD: "
#define AD_DONE		"disabled in AD: "

/* samba-ad-dc, ldap: userAccountControl |= ACCOUNTDISABLE; the detail keeps the old value for release. */
static int
ad_run(struct respond_ctx *ctx, struct action *a, const char *name, const struct account_dir *dir)
{
	struct ad_account acc;
	unsigned before, after;
	char err[256];

	if (dir->read(ctx->cfg, name, &acc, err, sizeof err) != 0) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "%s", err);
		return -1;
	}
	/* The directory answered too late for the check before the deny: the lock still never happens. */
	if (acc.protected) {
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, "%.200s", acc.why);
		return 1;
	}
	/* A first attempt journaled the value it found and was about to disable: a crash interrupted it. */
	if ((acc.uac & AD_ACCOUNTDISABLE) && ctx->resume != NULL &&
	    sscanf(ctx->resume->detail, AD_CHECKPOINT "userAccountControl %u -> %u", &before, &after) == 2 &&
	    acc.uac == after) {
		snprintf(a->result, sizeof a->result, "ok");
		snprintf(a->detail, sizeof a->detail, AD_DONE "userAccountControl %u -> %u (%.300s)", before, after,
		    acc.dn);
		return 0;
	}
	if (acc.uac & AD_ACCOUNTDISABLE) {
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, RESPOND_ALREADY_DISABLED);
		return 1;
	}
	/* Journaled before the change: a run after a crash must not take "disabled" for the old state. */
	snprintf(a->detail, sizeof a->detail, AD_CHECKPOINT "userAccountControl %u -> %u (%.300s)", acc.uac,
	    acc.uac | AD_ACCOUNTDISABLE, acc.dn);
	respond_checkpoint(ctx, a);
	if (dir->set_uac(ctx->cfg, name, &acc, acc.uac | AD_ACCOUNTDISABLE, err, sizeof err) != 0) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "%s", err);
		return -1;
	}
	snprintf(a->result, sizeof a->result, "ok");
	snprintf(a->detail, sizeof a->detail, AD_DONE "userAccountControl %u -> %u (%.300s)", acc.uac,
	    acc.uac | AD_ACCOUNTDISABLE, acc.dn);
	return 0;
}

/* Puts back the exact userAccountControl the account had before the lock. */
static int
ad_undo(struct respond_ctx *ctx, struct action *a, const char *name)
{
	const struct account_dir *dir = account_dir(ctx->cfg);
	struct ad_account acc;
	unsigned before, after;
	char err[256];

	if (sscanf(a->detail, AD_DONE "userAccountControl %u -> %u", &before, &after) != 2 &&
	    sscanf(a->detail, AD_CHECKPOINT "userAccountControl %u -> %u", &before, &after) != 2) {
		snprintf(a->undo_result, sizeof a->undo_result, "failed");
		snprintf(a->undo_detail, sizeof a->undo_detail, "the journal does not hold the old userAccountControl");
		return -1;
	}
	if (dir == NULL) {
		snprintf(a->undo_result, sizeof a->undo_result, "failed");
		snprintf(a->undo_detail, sizeof a->undo_detail, "disabled in AD, but account backend is now %.40s: "
		    "set it to samba-ad-dc or ldap again to enable it", ctx->cfg->account_backend);
		return -1;
	}
	if (dir->read(ctx->cfg, name, &acc, err, sizeof err) != 0 ||
	    dir->set_uac(ctx->cfg, name, &acc, before, err, sizeof err) != 0) {
		snprintf(a->undo_result, sizeof a->undo_result, "failed");
		snprintf(a->undo_detail, sizeof a->undo_detail, "%s", err);
		return -1;
	}
	snprintf(a->undo_result, sizeof a->undo_result, "ok");
	if (acc.uac != after)
		snprintf(a->undo_detail, sizeof a->undo_detail, "enabled again: userAccountControl %u "
		    "(it read %u, not %u: changed by someone else since the lock)", before, acc.uac, after);
	else
		snprintf(a->undo_detail, sizeof a->undo_detail, "enabled again: userAccountControl %u", before);
	return 0;
}

/* Reads the account flags ("Account Flags: [DU   ]"). 1 disabled, 0 enabled, -1 error (err filled). */
static int
account_disabled(const struct config *cfg, const char *name, char *err, size_t errlen)
{
	char tool[PATH_MAX], confopt[PATH_MAX + 16];
	const char *argv[8];
	struct run_result r;
	const char *line, *nl, *lb, *rb;
	int i = 0, rc = -1;

	argv[i++] = config_samba_tool(cfg, "pdbedit", tool, sizeof tool);
	if (cfg->samba_config != NULL && cfg->samba_config[0] != '\0') {
		snprintf(confopt, sizeof confopt, "--configfile=%s", cfg->samba_config);
		argv[i++] = confopt;
	}
	argv[i++] = "-L";
	argv[i++] = "-v";
	argv[i++] = "-u";
	argv[i++] = name;
	argv[i] = NULL;
	if (run_argv(argv, &r, RESPOND_TOOL_TIMEOUT_MS) != 0) {
		respond_tool_error("pdbedit", &r, err, errlen);
		run_result_free(&r);
		return -1;
	}
	for (line = r.out; line != NULL; line = (nl = strchr(line, '\n')) != NULL ? nl + 1 : NULL) {
		if (strncmp(line, "Account Flags:", 14) != 0)
			continue;
		lb = strchr(line, '[');
		rb = lb != NULL ? strchr(lb, ']') : NULL;
		if (rb != NULL && memchr(lb, '\n', (size_t)(rb - lb)) == NULL)
			rc = memchr(lb, 'D', (size_t)(rb - lb)) != NULL;
		break;
	}
	if (rc == -1)
		snprintf(err, errlen, "pdbedit printed no account flags");
	run_result_free(&r);
	return rc;
}

/* smbpasswd -d / -e, then checks with pdbedit that the flag really changed. */
static int
account_set(const struct config *cfg, const char *name, int disable, char *detail, size_t len)
{
	char tool[PATH_MAX], err[256];
	const char *argv[6];
	struct run_result r;
	int i = 0, st;

	argv[i++] = config_samba_tool(cfg, "smbpasswd", tool, sizeof tool);
	if (cfg->samba_config != NULL && cfg->samba_config[0] != '\0') {
		argv[i++] = "-c";
		argv[i++] = cfg->samba_config;
	}
	argv[i++] = disable ? "-d" : "-e";
	argv[i++] = name;
	argv[i] = NULL;
	if (run_argv(argv, &r, RESPOND_TOOL_TIMEOUT_MS) != 0) {
		respond_tool_error("smbpasswd", &r, detail, len);
		run_result_free(&r);
		return -1;
	}
	run_result_free(&r);
	if ((st = account_disabled(cfg, name, err, sizeof err)) == -1) {
		snprintf(detail, len, "smbpasswd succeeded but the result cannot be checked: %s", err);
		return -1;
	}
	if (st != disable) {
		snprintf(detail, len, "smbpasswd succeeded but the account is still %s",
		    disable ? "enabled" : "disabled");
		return -1;
	}
	return 0;
}


static int
account_run(struct respond_ctx *ctx, struct action *a)
{
	const char *name;
	char err[256], buf[128];
	int st;

	snprintf(a->target, sizeof a->target, "%s", ctx->inc->user);
	if (respond_skip(ctx, a) || respond_dry_run(ctx, a, "disable the Samba account"))
		return 1;
	if ((name = account_name(ctx->inc->user, buf, sizeof buf)) == NULL) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "suspicious user name");
		return -1;
	}
	if (account_dir(ctx->cfg) != NULL)
		return ad_run(ctx, a, name, account_dir(ctx->cfg));
	if ((st = account_disabled(ctx->cfg, name, err, sizeof err)) == -1) {
		snprintf(a->result, sizeof a->result, "failed");
		snprintf(a->detail, sizeof a->detail, "%s", err);
		return -1;
	}
	/*
	 * A first attempt journaled that it found the account enabled and was
	 * about to disable it: a crash interrupted it. Disabled now is our doing.
	 */
	if (st == 1 && ctx->resume != NULL && strcmp(ctx->resume->detail, LOCK_CHECKPOINT) == 0) {
		snprintf(a->result, sizeof a->result, "ok");
		snprintf(a->detail, sizeof a->detail, "disabled");
		return 0;
	}
	if (st == 1) {
		/* Not ours to enable again on release. */
		snprintf(a->result, sizeof a->result, "skipped");
		snprintf(a->detail, sizeof a->detail, RESPOND_ALREADY_DISABLED);
		return 1;
	}
	snprintf(a->detail, sizeof a->detail, LOCK_CHECKPOINT);
	respond_checkpoint(ctx, a);
	if (account_set(ctx->cfg, name, 1, a->detail, sizeof a->detail) == -1) {
		snprintf(a->result, sizeof a->result, "failed");
		return -1;
	}
	snprintf(a->result, sizeof a->result, "ok");
	snprintf(a->detail, sizeof a->detail, "disabled");
	return 0;
}

static int
account_undo(struct respond_ctx *ctx, struct action *a)
{
	const char *name;
	char buf[128];

	/* Still running (the daemon did not restart to finish it): it may have disabled the account. */
	if (strcmp(a->result, "ok") != 0 &&
	    !(strcmp(a->result, ACT_RUNNING) == 0 && (strcmp(a->detail, LOCK_CHECKPOINT) == 0 ||
	    strncmp(a->detail, AD_CHECKPOINT, strlen(AD_CHECKPOINT)) == 0))) {
		snprintf(a->undo_result, sizeof a->undo_result, "n/a");
		if (strcmp(a->result, "skipped") == 0)
			snprintf(a->undo_detail, sizeof a->undo_detail, "left as it was (%.200s)", a->detail);
		else
			snprintf(a->undo_detail, sizeof a->undo_detail, "nothing to undo (the lock had failed)");
		return 0;
	}
	if ((name = account_name(a->target, buf, sizeof buf)) == NULL) {
		snprintf(a->undo_result, sizeof a->undo_result, "failed");
		snprintf(a->undo_detail, sizeof a->undo_detail, "suspicious user name");
		return -1;
	}
	if (strncmp(a->detail, AD_DONE, strlen(AD_DONE)) == 0 ||
	    strncmp(a->detail, AD_CHECKPOINT, strlen(AD_CHECKPOINT)) == 0)
		return ad_undo(ctx, a, name);
	if (account_set(ctx->cfg, name, 0, a->undo_detail, sizeof a->undo_detail) == -1) {
		snprintf(a->undo_result, sizeof a->undo_result, "failed");
		return -1;
	}
	snprintf(a->undo_result, sizeof a->undo_result, "ok");
	snprintf(a->undo_detail, sizeof a->undo_detail, "enabled again");
	return 0;
}

const struct responder respond_account = {
	.kind = "lock_account",
	.run = account_run,
	.undo = account_undo,
};
