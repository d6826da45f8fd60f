/* The ldap account backend: userAccountControl of an AD account changed on a DC over LDAP (StartTLS or LDAPS). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#define LDAP_DEPRECATED 0
#include <ldap.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "respond.h"
#include "util.h"

/*
 * How long a bound connection (or a DC's failure) is kept: the protection
 * check and the lock of one incident share one TLS handshake and one bind,
 * and a DC that just did not answer is not waited on a second time.
 */
#define CONN_KEEP_MS	5000

static struct {
	pthread_mutex_t mu;
	LDAP *ld;
	int64_t at;		/* mono_ms when it was bound, or when it failed */
	char failed[384];	/* why the last connection failed ("" when ld or nothing) */
} conn = { .mu = PTHREAD_MUTEX_INITIALIZER };

/*
 * Held while a request may write to a socket the DC has closed: the SIGPIPE
 * that write raises is blocked for this thread and discarded, as the CLI
 * does not ignore it and would die of it. Also takes conn.mu.
 */
struct conn_hold {
	sigset_t old;
	int pending;		/* a SIGPIPE was pending before: it is not ours to discard */
};

static void
conn_lock(struct conn_hold *h)
{
	sigset_t pipe, pend;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigpending(&pend);
	h->pending = sigismember(&pend, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &h->old);
	pthread_mutex_lock(&conn.mu);
}

static void
conn_unlock(struct conn_hold *h)
{
	struct timespec zero = { 0, 0 };
	sigset_t pipe, pend;

	pthread_mutex_unlock(&conn.mu);
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (!h->pending && sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE))
		while (sigtimedwait(&pipe, NULL, &zero) == -1 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &h->old, NULL);
}

/* A diagnostic of the server's (or of libldap's TLS layer), "" when none. */
static void
ldap_diag(LDAP *ld, char *buf, size_t bufsz)
{
	char *msg = NULL;

	buf[0] = '\0';
	if (ld != NULL && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS &&
	    msg != NULL) {
		respond_sanitize(buf, bufsz, msg, strlen(msg));
		ldap_memfree(msg);
	}
}

/*
 * Why rc failed, as "WHAT: reason (diagnostic)". A request that got no answer
 * within the timeout, or a connection that timed out, says so with the URI.
 */
static void
ldap_why(const struct config *cfg, LDAP *ld, int rc, int64_t t0, const char *what, char *err, size_t errlen)
{
	char diag[256], t[32], uri[160];

	respond_sanitize(uri, sizeof uri, cfg->ldap_uri, strlen(cfg->ldap_uri));
	fmt_timeout(cfg->ldap_timeout_ms, t);
	if (rc == LDAP_TIMEOUT) {
		snprintf(err, errlen, "%s: no answer within %s (%s)", uri, t, what);
		return;
	}
	/* libldap tells a connection that timed out from one refused by neither code nor errno: the clock does. */
	if ((rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) && mono_ms() - t0 >= cfg->ldap_timeout_ms - 50) {
		snprintf(err, errlen, "%s: no answer within %s", uri, t);
		return;
	}
	ldap_diag(ld, diag, sizeof diag);
	if (rc == LDAP_SERVER_DOWN)
		snprintf(err, errlen, "%s: cannot connect (%s)%s%s", uri, ldap_err2string(rc), diag[0] ? ": " : "",
		    diag);
	else
		snprintf(err, errlen, "%s: %s%s%s", what, ldap_err2string(rc), diag[0] ? ": " : "", diag);
}

/*
 * The TLS handshake failed: why, read from the DC's certificate fetched once
 * more without checking it (the handshake alone: nothing is sent, no bind).
 * "" when that does not tell.
 */
static void
tls_diagnose(const struct config *cfg, char *buf, size_t bufsz)
{
	struct timeval tv = { .tv_sec = cfg->ldap_timeout_ms / 1000, .tv_usec = cfg->ldap_timeout_ms % 1000 * 1000 };
	int version = LDAP_VERSION3, never = LDAP_OPT_X_TLS_NEVER, zero = 0, rc, named, verr = X509_V_OK;
	char subject[256], host[256], ca[256];
	struct berval cert = { 0, NULL };
	LDAPURLDesc *lud = NULL;
	X509_STORE_CTX *sctx = NULL;
	X509_STORE *store = NULL;
	const unsigned char *p;
	X509 *x = NULL;
	LDAP *ld = NULL;

	buf[0] = '\0';
	if (ldap_url_parse(cfg->ldap_uri, &lud) != LDAP_URL_SUCCESS || lud->lud_host == NULL ||
	    ldap_initialize(&ld, cfg->ldap_uri) != LDAP_SUCCESS)
		goto out;
	snprintf(host, sizeof host, "%s", lud->lud_host);
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &never) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS)
		goto out;
	rc = strncmp(cfg->ldap_uri, "ldap://", 7) == 0 ? ldap_start_tls_s(ld, NULL, NULL) : ldap_connect(ld);
	if (rc != LDAP_SUCCESS || ldap_get_option(ld, LDAP_OPT_X_TLS_PEERCERT, &cert) != LDAP_OPT_SUCCESS ||
	    cert.bv_val == NULL)
		goto out;
	p = (const unsigned char *)cert.bv_val;
	if ((x = d2i_X509(NULL, &p, (long)cert.bv_len)) == NULL)
		goto out;
	X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
	if (strchr(host, ':') != NULL || strspn(host, "0123456789.") == strlen(host))
		named = X509_check_ip_asc(x, host, 0) == 1;
	else
		named = X509_check_host(x, host, 0, 0, NULL) == 1;
	if ((store = X509_STORE_new()) == NULL || (sctx = X509_STORE_CTX_new()) == NULL)
		goto out;
	if ((cfg->ldap_ca_file[0] != '\0' ? X509_STORE_load_locations(store, cfg->ldap_ca_file, NULL) :
	    X509_STORE_set_default_paths(store)) != 1 || X509_STORE_CTX_init(sctx, store, x, NULL) != 1)
		goto out;
	if (X509_verify_cert(sctx) != 1)
		verr = X509_STORE_CTX_get_error(sctx);
	if (cfg->ldap_ca_file[0] != '\0')
		snprintf(ca, sizeof ca, "ldap ca file %s", cfg->ldap_ca_file);
	else
		snprintf(ca, sizeof ca, "the system's CAs (ldap ca file is unset)");
	respond_sanitize(subject, sizeof subject, subject, strlen(subject));
	if (verr != X509_V_OK)
		snprintf(buf, bufsz, "the DC's certificate (%s) is not trusted by %s: %s", subject, ca,
		    X509_verify_cert_error_string(verr));
	else if (!named)
		snprintf(buf, bufsz, "the DC's certificate (%s) does not name %s: use a name it holds in ldap uri",
		    subject, host);
out:
	X509_STORE_CTX_free(sctx);
	X509_STORE_free(store);
	X509_free(x);
	ber_memfree(cert.bv_val);
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	ldap_free_urldesc(lud);
}

/* The handshake or the bind failed with rc: a TLS failure says what is wrong with the certificate. */
static void
conn_why(const struct config *cfg, LDAP *ld, int rc, int64_t t0, const char *what, char *err, size_t errlen)
{
	char tls[512], uri[160];

	ldap_why(cfg, ld, rc, t0, what, err, errlen);
	if ((rc != LDAP_CONNECT_ERROR && rc != LDAP_SERVER_DOWN) || strstr(err, "no answer within") != NULL)
		return;
	tls_diagnose(cfg, tls, sizeof tls);
	if (tls[0] != '\0') {
		respond_sanitize(uri, sizeof uri, cfg->ldap_uri, strlen(cfg->ldap_uri));
		snprintf(err, errlen, "%s: TLS: %s", uri, tls);
	}
}

static void
conn_close(void)
{
	if (conn.ld != NULL)
		ldap_unbind_ext_s(conn.ld, NULL, NULL);
	conn.ld = NULL;
}

/* Connects, secures (LDAPS, or StartTLS on ldap://: never in clear) and binds as the service account. */
static LDAP *
conn_open(const struct config *cfg, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = cfg->ldap_timeout_ms / 1000, .tv_usec = cfg->ldap_timeout_ms % 1000 * 1000 };
	int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
	int zero = 0, rc;
	char secret[1024], what[600], bdn[512];
	struct berval cred;
	int64_t t0;
	LDAP *ld = NULL;

	if (secret_file_read("ldap password file", cfg->ldap_password_file, secret, sizeof secret, err,
	    errlen) != 0)
		return NULL;
	if ((rc = ldap_initialize(&ld, cfg->ldap_uri)) != LDAP_SUCCESS) {
		snprintf(err, errlen, "ldap uri %.200s: %s", cfg->ldap_uri, ldap_err2string(rc));
		explicit_bzero(secret, sizeof secret);
		return NULL;
	}
	/* The certificate is always checked, whatever ldap.conf says; no referral is followed with our bind. */
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12) != LDAP_OPT_SUCCESS ||
	    (cfg->ldap_ca_file[0] != '\0' &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->ldap_ca_file) != LDAP_OPT_SUCCESS) ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS) {
		snprintf(err, errlen, "cannot set up TLS for %.200s (ldap ca file %.200s)", cfg->ldap_uri,
		    cfg->ldap_ca_file[0] ? cfg->ldap_ca_file : "unset: the system's CAs");
		goto fail;
	}
	t0 = mono_ms();
	if (strncmp(cfg->ldap_uri, "ldap://", 7) == 0 && (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		conn_why(cfg, ld, rc, t0, "StartTLS", err, errlen);
		goto fail;
	}
	cred.bv_val = secret;
	cred.bv_len = strlen(secret);
	t0 = mono_ms();
	rc = ldap_sasl_bind_s(ld, cfg->ldap_bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	explicit_bzero(secret, sizeof secret);
	if (rc != LDAP_SUCCESS) {
		respond_sanitize(bdn, sizeof bdn, cfg->ldap_bind_dn, strlen(cfg->ldap_bind_dn));
		snprintf(what, sizeof what, "bind as %s", bdn);
		conn_why(cfg, ld, rc, t0, what, err, errlen);
		goto fail;
	}
	return ld;
fail:
	explicit_bzero(secret, sizeof secret);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return NULL;
}

/* The bound connection of the last few seconds, or a new one. Called with conn.mu held. */
static LDAP *
conn_get(const struct config *cfg, char *err, size_t errlen)
{
	int64_t now = mono_ms();

	if (now - conn.at < CONN_KEEP_MS) {
		if (conn.ld != NULL)
			return conn.ld;
		if (conn.failed[0] != '\0') {
			snprintf(err, errlen, "%s", conn.failed);
			return NULL;
		}
	}
	conn_close();
	conn.failed[0] = '\0';
	conn.ld = conn_open(cfg, err, errlen);
	conn.at = mono_ms();
	if (conn.ld == NULL)
		snprintf(conn.failed, sizeof conn.failed, "%s", err);
	return conn.ld;
}

/*
 * A request failed with err: a connection the DC dropped or left without an
 * answer is not used again, and the DC is not asked again for a few seconds.
 */
static void
conn_failed(int rc, const char *err)
{
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR || rc == LDAP_UNAVAILABLE) {
		conn_close();
		snprintf(conn.failed, sizeof conn.failed, "%s", err);
		conn.at = mono_ms();
	}
}

/* The first value of attr as a NUL-terminated string in buf; 0, or -1 when absent or too long. */
static int
entry_value(LDAP *ld, LDAPMessage *e, const char *attr, char *buf, size_t bufsz)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	int rc = -1;

	if (v != NULL && v[0] != NULL && v[0]->bv_len < bufsz && memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL) {
		memcpy(buf, v[0]->bv_val, v[0]->bv_len);
		buf[v[0]->bv_len] = '\0';
		rc = 0;
	}
	ldap_value_free_len(v);
	return rc;
}

/* Reads the entry for name (or, with dn set, the entry at dn). Called with conn.mu held. */
static int
search_account(const struct config *cfg, LDAP *ld, const char *name, const char *dn, struct ad_account *acc,
    char *err, size_t errlen)
{
	char *attrs[] = { "userAccountControl", "memberOf", "objectSid", NULL };
	struct timeval tv = { .tv_sec = cfg->ldap_timeout_ms / 1000, .tv_usec = cfg->ldap_timeout_ms % 1000 * 1000 };
	char filter[512], v[32], *edn, shown[160], base[160];
	LDAPMessage *res = NULL, *e;
	struct berval **vals;
	int64_t t0 = mono_ms();
	int rc, n = 0;

	memset(acc, 0, sizeof *acc);
	respond_sanitize(shown, sizeof shown, name, strlen(name));
	if (dn == NULL && account_filter(name, filter, sizeof filter) != 0) {
		snprintf(err, errlen, "user name too long");
		return -1;
	}
	rc = ldap_search_ext_s(ld, dn != NULL ? dn : cfg->ldap_base, dn != NULL ? LDAP_SCOPE_BASE : LDAP_SCOPE_SUBTREE,
	    dn != NULL ? "(objectClass=user)" : filter, attrs, 0, NULL, NULL, &tv, 2, &res);
	respond_sanitize(base, sizeof base, cfg->ldap_base, strlen(cfg->ldap_base));
	if (rc == LDAP_SIZELIMIT_EXCEEDED || (rc == LDAP_SUCCESS && (n = ldap_count_entries(ld, res)) > 1)) {
		snprintf(err, errlen, "more than one account is named %s in %s", shown, base);
		ldap_msgfree(res);
		return -1;
	}
	if (rc != LDAP_SUCCESS) {
		char what[400];

		snprintf(what, sizeof what, "search for %s in %s", shown, base);
		ldap_why(cfg, ld, rc, t0, what, err, errlen);
		ldap_msgfree(res);
		conn_failed(rc, err);
		return conn.ld == NULL ? ACCOUNT_DIR_DOWN : -1;
	}
	if (n == 0 || (e = ldap_first_entry(ld, res)) == NULL) {
		snprintf(err, errlen, "no account %s in %s", shown, base);
		ldap_msgfree(res);
		return -1;
	}
	if ((edn = ldap_get_dn(ld, e)) == NULL || strlen(edn) >= sizeof acc->dn) {
		snprintf(err, errlen, "the DN of %s cannot be read", shown);
		ldap_memfree(edn);
		ldap_msgfree(res);
		return -1;
	}
	snprintf(acc->dn, sizeof acc->dn, "%s", edn);
	ldap_memfree(edn);
	if (entry_value(ld, e, "userAccountControl", v, sizeof v) != 0 || account_parse_uac(v, &acc->uac) != 0) {
		snprintf(err, errlen, "%s has no readable userAccountControl (may %s read it?)", shown,
		    cfg->ldap_bind_dn);
		ldap_msgfree(res);
		return -1;
	}
	if ((vals = ldap_get_values_len(ld, e, "objectSid")) != NULL && vals[0] != NULL &&
	    account_sid_text((const unsigned char *)vals[0]->bv_val, vals[0]->bv_len, acc->sid, sizeof acc->sid) == 0)
		acc->protected = account_sid_protected(cfg, acc->sid, acc->why, sizeof acc->why);
	ldap_value_free_len(vals);
	if ((vals = ldap_get_values_len(ld, e, "memberOf")) != NULL) {
		char g[512];

		for (size_t i = 0; vals[i] != NULL && !acc->protected; i++) {
			if (vals[i]->bv_len >= sizeof g || memchr(vals[i]->bv_val, '\0', vals[i]->bv_len) != NULL)
				continue;
			memcpy(g, vals[i]->bv_val, vals[i]->bv_len);
			g[vals[i]->bv_len] = '\0';
			acc->protected = account_group_protected(cfg, g, acc->why, sizeof acc->why);
		}
	}
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	return 0;
}

static int
ldap_account_read(const struct config *cfg, const char *name, struct ad_account *acc, char *err, size_t errlen)
{
	struct conn_hold h;
	LDAP *ld;
	int rc = -1;

	conn_lock(&h);
	if ((ld = conn_get(cfg, err, errlen)) != NULL)
		rc = search_account(cfg, ld, name, NULL, acc, err, errlen);
	else
		rc = ACCOUNT_DIR_DOWN;
	conn_unlock(&h);
	return rc;
}

/*
 * One modify that deletes the value read and adds the new one: the DC
 * refuses it (noSuchAttribute) when someone changed the flags in between,
 * instead of our overwriting their change with a stale value.
 */
static int
ldap_account_set_uac(const struct config *cfg, const char *name, const struct ad_account *acc, unsigned uac,
    char *err, size_t errlen)
{
	char oldv[16], newv[16], what[700], shown[560];
	char *oldvals[] = { oldv, NULL }, *newvals[] = { newv, NULL };
	LDAPMod del = { .mod_op = LDAP_MOD_DELETE, .mod_type = "userAccountControl", .mod_values = oldvals };
	LDAPMod add = { .mod_op = LDAP_MOD_ADD, .mod_type = "userAccountControl", .mod_values = newvals };
	LDAPMod *mods[] = { &del, &add, NULL };
	struct ad_account now;
	struct conn_hold h;
	char rerr[384];
	int64_t t0;
	LDAP *ld;
	int rc;

	snprintf(oldv, sizeof oldv, "%u", acc->uac);
	snprintf(newv, sizeof newv, "%u", uac);
	respond_sanitize(shown, sizeof shown, acc->dn, strlen(acc->dn));
	conn_lock(&h);
	if ((ld = conn_get(cfg, err, errlen)) == NULL) {
		conn_unlock(&h);
		return -1;
	}
	t0 = mono_ms();
	rc = ldap_modify_ext_s(ld, acc->dn, mods, NULL, NULL);
	if (rc == LDAP_NO_SUCH_ATTRIBUTE) {
		snprintf(err, errlen, "userAccountControl of %s changed since it was read as %u: not written", shown,
		    acc->uac);
		conn_unlock(&h);
		return -1;
	}
	if (rc != LDAP_SUCCESS) {
		snprintf(what, sizeof what, "modify of %s", shown);
		ldap_why(cfg, ld, rc, t0, what, err, errlen);
		if (rc == LDAP_INSUFFICIENT_ACCESS)
			str_appendf(err, errlen, " (%s needs write access to userAccountControl)", cfg->ldap_bind_dn);
		conn_failed(rc, err);
		conn_unlock(&h);
		return -1;
	}
	/* Read back: the directory, not the modify's result, says whether the account changed. */
	rc = search_account(cfg, ld, name, acc->dn, &now, rerr, sizeof rerr);
	/* The lock is done: the next incident connects afresh. */
	conn_close();
	conn.at = 0;
	conn_unlock(&h);
	if (rc != 0) {
		snprintf(err, errlen, "the modify succeeded but the result cannot be checked: %s", rerr);
		return -1;
	}
	if (now.uac != uac) {
		snprintf(err, errlen, "the modify succeeded but userAccountControl reads %u, not %u", now.uac, uac);
		return -1;
	}
	return 0;
}

/* Binds as the lock will and reads the base: "bound to URI as DN". */
static int
ldap_check(const struct config *cfg, char *what, size_t whatlen, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = cfg->ldap_timeout_ms / 1000, .tv_usec = cfg->ldap_timeout_ms % 1000 * 1000 };
	char *attrs[] = { "objectClass", NULL }, w[400], base[160];
	LDAPMessage *res = NULL;
	struct conn_hold h;
	int64_t t0;
	LDAP *ld;
	int rc;

	conn_lock(&h);
	conn.at = 0;
	if ((ld = conn_get(cfg, err, errlen)) == NULL) {
		conn_unlock(&h);
		return -1;
	}
	t0 = mono_ms();
	rc = ldap_search_ext_s(ld, cfg->ldap_base, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 1,
	    &res);
	ldap_msgfree(res);
	if (rc != LDAP_SUCCESS) {
		respond_sanitize(base, sizeof base, cfg->ldap_base, strlen(cfg->ldap_base));
		snprintf(w, sizeof w, "ldap base %s", base);
		ldap_why(cfg, ld, rc, t0, w, err, errlen);
	} else
		snprintf(what, whatlen, "bound to %s as %s", cfg->ldap_uri, cfg->ldap_bind_dn);
	conn_close();
	conn.at = 0;
	conn_unlock(&h);
	return rc == LDAP_SUCCESS ? 0 : -1;
}

const struct account_dir account_dir_ldap = {
	.name = "ldap",
	.read = ldap_account_read,
	.set_uac = ldap_account_set_uac,
	.check = ldap_check,
};
