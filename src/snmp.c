/* SNMP for isolation over net-snmp's single-session API: v2c and v3 sessions, GETBULK walks, gets and sets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include "config.h"
#include "log.h"
#include "snmp.h"
#include "util.h"

#define SNMP_BULK_REPS	32	/* values asked for per GETBULK */

struct snmp_conn {
	void *sess;			/* net-snmp single session */
	char peer[300];			/* for messages: "name (address)" */
	int v3;
	int64_t timeout_ms;		/* per try, and how many tries: named when nothing answers */
	int tries;
};

/* What a request that got no answer says: the agent, and how long it was given. */
static void
no_answer(const struct snmp_conn *c, char *err, size_t errlen)
{
	char d[32];

	snprintf(err, errlen, "timeout: no SNMP answer from %s within %s x %d tr%s%s", c->peer,
	    fmt_timeout(c->timeout_ms, d), c->tries, c->tries == 1 ? "y" : "ies",
	    c->v3 ? "" : " (agent down, or wrong community)");
}

/*
 * Once per process: no configuration files, no persistent state (engine
 * boots would otherwise be written under /var/lib/snmp), no MIB files (every
 * OID here is numeric), and no library chatter on stderr.
 */
static void
snmp_lib_init(void)
{
	static int done;
	char pdir[] = "/tmp/sharewarden-snmp-XXXXXX";

	if (done)
		return;
	done = 1;
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
	netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_NO_TOKEN_WARNINGS, 1);
	netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_MIB_WARNINGS, 0);
	/* An empty MIB list: init_snmp then reads no MIB module at all. */
	netsnmp_set_mib_directory("");
	setenv("MIBS", "", 0);
	netsnmp_register_loghandler(NETSNMP_LOGHANDLER_NONE, LOG_EMERG);
	/*
	 * Even without persistence init_snmp makes <persistent dir>/cert_indexes:
	 * a private empty directory takes it, and goes once init is done.
	 */
	if (mkdtemp(pdir) != NULL)
		netsnmp_ds_set_string(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_PERSISTENT_DIR, pdir);
	else
		log_warn("snmp: cannot make a private state directory");
	init_snmp("sharewarden");
	if (pdir[strlen(pdir) - 1] != 'X') {
		char sub[sizeof pdir + 16];

		snprintf(sub, sizeof sub, "%s/cert_indexes", pdir);
		rmdir(sub);
		if (rmdir(pdir) == -1)
			log_warn("snmp: %s", pdir);
	}
}

/* "1.3.6.1.2.1.17.4.3.1.2" (a leading dot is allowed) into o; the number of sub-ids, 0 when malformed. */
static size_t
oid_parse(const char *s, oid *o, size_t max)
{
	size_t n = 0;
	const char *p = s;

	if (*p == '.')
		p++;
	while (*p != '\0') {
		unsigned long long v = 0;
		const char *start = p;

		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (unsigned long long)(*p - '0');
			if (v > UINT32_MAX)
				return 0;
			p++;
		}
		if (p == start || n == max)
			return 0;
		o[n++] = (oid)v;
		if (*p == '.') {
			if (p[1] == '\0')
				return 0;
			p++;
		} else if (*p != '\0')
			return 0;
	}
	return n >= 2 ? n : 0;
}

/* host, host:port, [v6]:port or a bare IPv6 address, as net-snmp's "udp:"/"udp6:" peer name. */
static void
peer_name(const char *address, char *buf, size_t bufsz)
{
	const char *c = strchr(address, ':');

	if (address[0] == '[')
		snprintf(buf, bufsz, "udp6:%s", address);
	else if (c != NULL && strchr(c + 1, ':') != NULL)
		snprintf(buf, bufsz, "udp6:[%s]", address);
	else
		snprintf(buf, bufsz, "udp:%s", address);
}

static oid *
auth_proto(const char *name, size_t *len)
{
	static const struct {
		const char *name;
		oid *proto;
	} protos[] = {
		{ "MD5", usmHMACMD5AuthProtocol },
		{ "SHA", usmHMACSHA1AuthProtocol },
		{ "SHA1", usmHMACSHA1AuthProtocol },
		{ "SHA-224", usmHMAC128SHA224AuthProtocol },
		{ "SHA-256", usmHMAC192SHA256AuthProtocol },
		{ "SHA-384", usmHMAC256SHA384AuthProtocol },
		{ "SHA-512", usmHMAC384SHA512AuthProtocol },
	};

	for (size_t i = 0; i < nitems(protos); i++) {
		if (strcasecmp(name, protos[i].name) == 0) {
			*len = USM_AUTH_PROTO_SHA_LEN;
			return protos[i].proto;
		}
	}
	return NULL;
}

static oid *
priv_proto(const char *name, size_t *len)
{
	if (strcasecmp(name, "AES") == 0 || strcasecmp(name, "AES128") == 0) {
		*len = USM_PRIV_PROTO_AES_LEN;
		return usmAESPrivProtocol;
	}
	if (strcasecmp(name, "DES") == 0) {
		*len = USM_PRIV_PROTO_DES_LEN;
		return usmDESPrivProtocol;
	}
	return NULL;
}

/* The v3 half of the session: user, level, keys derived from the passwords. -1 with err. */
static int
session_v3(netsnmp_session *s, const struct snmp_target *t, const char *context, char *err,
    size_t errlen)
{
	const char *ap = t->auth_password != NULL ? t->auth_password : "";
	const char *pp = t->priv_password != NULL ? t->priv_password : "";

	if (t->user == NULL || t->user[0] == '\0') {
		snprintf(err, errlen, "version 3 needs a user");
		return -1;
	}
	s->version = SNMP_VERSION_3;
	s->securityName = t->user;
	s->securityNameLen = strlen(t->user);
	s->securityModel = USM_SEC_MODEL_NUMBER;
	if (context != NULL) {
		s->contextName = (char *)context;
		s->contextNameLen = strlen(context);
	}
	if (ap[0] == '\0') {
		s->securityLevel = SNMP_SEC_LEVEL_NOAUTH;
		return 0;
	}
	if ((s->securityAuthProto = auth_proto(t->auth_protocol, &s->securityAuthProtoLen)) == NULL) {
		snprintf(err, errlen, "unknown auth protocol '%s'", t->auth_protocol);
		return -1;
	}
	s->securityAuthKeyLen = USM_AUTH_KU_LEN;
	if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen, (const u_char *)ap,
	    strlen(ap), s->securityAuthKey, &s->securityAuthKeyLen) != SNMPERR_SUCCESS) {
		snprintf(err, errlen, "cannot derive the auth key (password of 8 characters or more?)");
		return -1;
	}
	if (pp[0] == '\0') {
		s->securityLevel = SNMP_SEC_LEVEL_AUTHNOPRIV;
		return 0;
	}
	s->securityLevel = SNMP_SEC_LEVEL_AUTHPRIV;
	if ((s->securityPrivProto = priv_proto(t->priv_protocol, &s->securityPrivProtoLen)) == NULL) {
		snprintf(err, errlen, "unknown priv protocol '%s'", t->priv_protocol);
		return -1;
	}
	/* The privacy key is derived with the authentication hash (RFC 3414). */
	s->securityPrivKeyLen = USM_PRIV_KU_LEN;
	if (generate_Ku(s->securityAuthProto, (u_int)s->securityAuthProtoLen, (const u_char *)pp,
	    strlen(pp), s->securityPrivKey, &s->securityPrivKeyLen) != SNMPERR_SUCCESS) {
		snprintf(err, errlen, "cannot derive the privacy key (password of 8 characters or more?)");
		return -1;
	}
	return 0;
}

/*
 * net-snmp keeps each v3 user it has used (per engine) with its keys, and a
 * new session for the same engine and user silently reuses them: a changed
 * or wrong password would go unnoticed. Dropping the user makes the session
 * derive its keys afresh.
 */
static void
usm_forget(const char *name)
{
	struct usmUser *u, *next;

	for (u = usm_get_userList(); u != NULL; u = next) {
		next = u->next;
		if (u->secName != NULL && strcmp(u->secName, name) == 0) {
			usm_remove_user(u);
			usm_free_user(u);
		}
	}
}

struct snmp_conn *
snmp_connect(const struct snmp_target *t, const char *community, int write, char *err, size_t errlen)
{
	netsnmp_session s;
	struct snmp_conn *c;
	char peer[300], comm[256], context[64];
	const char *ctx = NULL;
	int rc = 0;

	snmp_lib_init();
	snmp_sess_init(&s);
	peer_name(t->address, peer, sizeof peer);
	s.peername = peer;
	s.timeout = (long)t->timeout_ms * 1000;
	s.retries = t->retries;
	comm[0] = '\0';
	if (t->version == 3) {
		/* Per-VLAN bridge tables live in the "vlan-N" context under v3 (Cisco). */
		const char *at = community != NULL ? strrchr(community, '@') : NULL;

		if (at != NULL) {
			snprintf(context, sizeof context, "vlan-%s", at + 1);
			ctx = context;
		}
		rc = session_v3(&s, t, ctx, err, errlen);
	} else {
		const char *cm = community;

		if (cm == NULL)
			cm = write && t->write_community != NULL && t->write_community[0] != '\0' ?
			    t->write_community : t->community;
		if (cm == NULL)
			cm = "";
		snprintf(comm, sizeof comm, "%s", cm);
		s.version = SNMP_VERSION_2c;
		s.community = (u_char *)comm;
		s.community_len = strlen(comm);
	}
	if (rc == 0 && t->version == 3)
		usm_forget(t->user);
	if (rc == 0) {
		c = xcalloc(1, sizeof *c);
		/* snmp_sess_open copies the community and the keys. */
		if ((c->sess = snmp_sess_open(&s)) == NULL) {
			int liberr, snmperr;
			char *msg = NULL;

			snmp_error(&s, &liberr, &snmperr, &msg);
			snprintf(err, errlen, "cannot open a session to %s: %s", t->address,
			    msg != NULL ? msg : "unknown error");
			free(msg);
			free(c);
			rc = -1;
		}
	}
	explicit_bzero(comm, sizeof comm);
	explicit_bzero(s.securityAuthKey, sizeof s.securityAuthKey);
	explicit_bzero(s.securityPrivKey, sizeof s.securityPrivKey);
	if (rc != 0)
		return NULL;
	snprintf(c->peer, sizeof c->peer, "%s (%s)", t->name, t->address);
	c->v3 = t->version == 3;
	c->timeout_ms = t->timeout_ms;
	c->tries = t->retries + 1;
	return c;
}

void
snmp_disconnect(struct snmp_conn *c)
{
	if (c == NULL)
		return;
	snmp_sess_close(c->sess);
	free(c);
}

const char *
snmp_status_name(enum snmp_status st)
{
	switch (st) {
	case SNMPST_OK:
		return "ok";
	case SNMPST_TIMEOUT:
		return "timeout";
	case SNMPST_AUTH:
		return "authentication refused";
	case SNMPST_REFUSED:
		return "refused";
	case SNMPST_NOSUCH:
		return "no such object";
	case SNMPST_ERROR:
		break;
	}
	return "error";
}

/* Whether the agent answered with an error status (noAccess, notWritable ...); err says which. */
static int
reply_refused(const char *peer, const netsnmp_pdu *resp, char *err, size_t errlen)
{
	if (resp->errstat == SNMP_ERR_NOERROR)
		return 0;
	snprintf(err, errlen, "%s refused: %s (variable %ld)", peer, snmp_errstring((int)resp->errstat),
	    resp->errindex);
	return 1;
}

/*
 * Sends pdu (consumed) and waits for the answer. On SNMPST_OK *resp is the
 * response, whose error status is already checked.
 */
static enum snmp_status
snmp_request(struct snmp_conn *c, netsnmp_pdu *pdu, netsnmp_pdu **resp, char *err, size_t errlen)
{
	int st;

	*resp = NULL;
	st = snmp_sess_synch_response(c->sess, pdu, resp);
	if (st == STAT_TIMEOUT) {
		no_answer(c, err, errlen);
		return SNMPST_TIMEOUT;
	}
	if (st != STAT_SUCCESS || *resp == NULL) {
		int liberr, snmperr;
		char *msg = NULL;
		enum snmp_status ret = SNMPST_ERROR;

		snmp_sess_error(c->sess, &liberr, &snmperr, &msg);
		switch (snmperr) {
		case SNMPERR_TIMEOUT:
			ret = SNMPST_TIMEOUT;
			break;
		case SNMPERR_UNKNOWN_USER_NAME:
		case SNMPERR_UNSUPPORTED_SEC_LEVEL:
		case SNMPERR_AUTHENTICATION_FAILURE:
		case SNMPERR_DECRYPTION_ERR:
		case SNMPERR_UNKNOWN_ENG_ID:
		case SNMPERR_NOT_IN_TIME_WINDOW:
		case SNMPERR_USM_GENERICERROR:
		case SNMPERR_USM_UNKNOWNSECURITYNAME:
		case SNMPERR_USM_UNSUPPORTEDSECURITYLEVEL:
		case SNMPERR_USM_ENCRYPTIONERROR:
		case SNMPERR_USM_AUTHENTICATIONFAILURE:
		case SNMPERR_USM_UNKNOWNENGINEID:
		case SNMPERR_USM_NOTINTIMEWINDOW:
		case SNMPERR_USM_DECRYPTIONERROR:
			ret = SNMPST_AUTH;
			break;
		default:
			break;
		}
		if (ret == SNMPST_TIMEOUT)
			no_answer(c, err, errlen);
		else
			snprintf(err, errlen, "%s: %s%s", c->peer, ret == SNMPST_AUTH ? "SNMPv3 refused: " : "",
			    msg != NULL ? msg : "request failed");
		free(msg);
		if (*resp != NULL)
			snmp_free_pdu(*resp);
		*resp = NULL;
		return ret;
	}
	if (reply_refused(c->peer, *resp, err, errlen)) {
		snmp_free_pdu(*resp);
		*resp = NULL;
		return SNMPST_REFUSED;
	}
	return SNMPST_OK;
}

/* The value of a variable in the caller's form; -1 when it cannot be shown (sub-ids past 32 bits). */
static int
value_fill(const netsnmp_variable_list *vb, size_t skip, uint32_t *sub, struct snmp_value *v)
{
	memset(v, 0, sizeof *v);
	if (vb->name_length < skip || vb->name_length - skip > MAX_OID_LEN)
		return -1;
	for (size_t i = skip; i < vb->name_length; i++) {
		if (vb->name[i] > UINT32_MAX)
			return -1;
		sub[i - skip] = (uint32_t)vb->name[i];
	}
	v->sub = sub;
	v->nsub = vb->name_length - skip;
	v->type = vb->type;
	switch (vb->type) {
	case ASN_INTEGER:
		v->integer = vb->val.integer != NULL ? *vb->val.integer : 0;
		break;
	case ASN_COUNTER:
	case ASN_GAUGE:
	case ASN_TIMETICKS:
	case ASN_UINTEGER:
		v->integer = vb->val.integer != NULL ? (long)(*(u_long *)vb->val.integer & 0xffffffffUL) : 0;
		break;
	case ASN_COUNTER64:
		if (vb->val.counter64 != NULL)
			v->integer = (long)(((uint64_t)vb->val.counter64->high << 32) |
			    (vb->val.counter64->low & 0xffffffffUL));
		break;
	case ASN_OCTET_STR:
	case ASN_IPADDRESS:
	case ASN_OPAQUE:
		v->bytes = vb->val.string;
		v->len = vb->val.string != NULL ? vb->val_len : 0;
		break;
	default:
		break;
	}
	return 0;
}

/* Where a walk stands: its subtree, the last OID seen (the next GETBULK asks from there), values so far. */
struct walk_state {
	const char *base;
	oid root[MAX_OID_LEN], cur[MAX_OID_LEN];
	size_t rootlen, curlen, seen, max_values;
};

static int
walk_start(struct walk_state *w, const char *base, size_t max_values, char *err, size_t errlen)
{
	w->base = base;
	w->max_values = max_values;
	w->seen = 0;
	if ((w->rootlen = oid_parse(base, w->root, MAX_OID_LEN)) == 0) {
		snprintf(err, errlen, "bad OID '%s'", base);
		return -1;
	}
	memcpy(w->cur, w->root, w->rootlen * sizeof *w->root);
	w->curlen = w->rootlen;
	return 0;
}

/*
 * One answer of a walk: each value under the subtree to cb, in order. *more
 * says whether to ask again from w->cur: not past the subtree's end, nor once
 * cb asked to stop. An agent that goes backwards or sends too many values is
 * an error.
 */
static enum snmp_status
walk_answer(struct walk_state *w, const netsnmp_variable_list *vars, const char *peer,
    int (*cb)(const struct snmp_value *v, void *arg), void *arg, int *more, char *err, size_t errlen)
{
	uint32_t sub[MAX_OID_LEN];

	*more = 0;
	for (const netsnmp_variable_list *vb = vars; vb != NULL; vb = vb->next_variable) {
		struct snmp_value v;

		if (vb->type == SNMP_ENDOFMIBVIEW || vb->type == SNMP_NOSUCHOBJECT ||
		    vb->type == SNMP_NOSUCHINSTANCE || vb->name_length <= w->rootlen ||
		    snmp_oid_ncompare(w->root, w->rootlen, vb->name, vb->name_length, w->rootlen) != 0) {
			*more = 0;
			break;
		}
		/* An agent that does not move forward would keep us here forever. */
		if (snmp_oid_compare(vb->name, vb->name_length, w->cur, w->curlen) <= 0) {
			snprintf(err, errlen, "%s: OIDs out of order under %s", peer, w->base);
			return SNMPST_ERROR;
		}
		memcpy(w->cur, vb->name, vb->name_length * sizeof *w->cur);
		w->curlen = vb->name_length;
		*more = 1;
		if (value_fill(vb, w->rootlen, sub, &v) == -1)
			continue;
		if (++w->seen > w->max_values) {
			snprintf(err, errlen, "%s: more than %zu values under %s", peer, w->max_values, w->base);
			return SNMPST_ERROR;
		}
		if (cb(&v, arg) != 0) {
			*more = 0;
			return SNMPST_OK;
		}
	}
	return SNMPST_OK;
}

enum snmp_status
snmp_walk(struct snmp_conn *c, const char *base, int (*cb)(const struct snmp_value *v, void *arg), void *arg,
    size_t max_values, char *err, size_t errlen)
{
	struct walk_state w;
	netsnmp_pdu *pdu, *resp;
	enum snmp_status st;
	int more;

	if (walk_start(&w, base, max_values, err, errlen) == -1)
		return SNMPST_ERROR;
	for (;;) {
		pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
		pdu->non_repeaters = 0;
		pdu->max_repetitions = SNMP_BULK_REPS;
		snmp_add_null_var(pdu, w.cur, w.curlen);
		if ((st = snmp_request(c, pdu, &resp, err, errlen)) != SNMPST_OK)
			return st;
		st = walk_answer(&w, resp->variables, c->peer, cb, arg, &more, err, errlen);
		snmp_free_pdu(resp);
		if (st != SNMPST_OK || !more)
			return st;
	}
}

/* A GET of one OID; on SNMPST_OK *resp holds the answer (free it), not yet checked for an exception. */
static enum snmp_status
snmp_get(struct snmp_conn *c, const char *oidstr, netsnmp_pdu **resp, char *err, size_t errlen)
{
	oid o[MAX_OID_LEN];
	size_t n;
	netsnmp_pdu *pdu;

	if ((n = oid_parse(oidstr, o, MAX_OID_LEN)) == 0) {
		snprintf(err, errlen, "bad OID '%s'", oidstr);
		return SNMPST_ERROR;
	}
	pdu = snmp_pdu_create(SNMP_MSG_GET);
	snmp_add_null_var(pdu, o, n);
	return snmp_request(c, pdu, resp, err, errlen);
}

/* The value a GET of oidstr answered: SNMPST_NOSUCH for an exception (or none). */
static enum snmp_status
get_value(const char *peer, const char *oidstr, const netsnmp_pdu *resp, char *err, size_t errlen)
{
	const netsnmp_variable_list *vb = resp->variables;

	if (vb == NULL || vb->type == SNMP_NOSUCHOBJECT || vb->type == SNMP_NOSUCHINSTANCE ||
	    vb->type == SNMP_ENDOFMIBVIEW) {
		snprintf(err, errlen, "%s: no such object %s", peer, oidstr);
		return SNMPST_NOSUCH;
	}
	return SNMPST_OK;
}

static enum snmp_status
get_int(const char *peer, const char *oidstr, const netsnmp_pdu *resp, long *value, char *err, size_t errlen)
{
	struct snmp_value v;
	uint32_t sub[MAX_OID_LEN];
	enum snmp_status st;

	if ((st = get_value(peer, oidstr, resp, err, errlen)) != SNMPST_OK)
		return st;
	st = SNMPST_ERROR;
	if (value_fill(resp->variables, 0, sub, &v) == 0) {
		switch (v.type) {
		case ASN_INTEGER:
		case ASN_COUNTER:
		case ASN_GAUGE:
		case ASN_TIMETICKS:
		case ASN_UINTEGER:
		case ASN_COUNTER64:
			*value = v.integer;
			st = SNMPST_OK;
			break;
		default:
			break;
		}
	}
	if (st != SNMPST_OK)
		snprintf(err, errlen, "%s: %s is not a number (type %d)", peer, oidstr, v.type);
	return st;
}

static enum snmp_status
get_str(const char *peer, const char *oidstr, const netsnmp_pdu *resp, char *buf, size_t bufsz, size_t *len,
    char *err, size_t errlen)
{
	struct snmp_value v;
	uint32_t sub[MAX_OID_LEN];
	enum snmp_status st;

	if ((st = get_value(peer, oidstr, resp, err, errlen)) != SNMPST_OK)
		return st;
	if (value_fill(resp->variables, 0, sub, &v) == 0 && v.type == ASN_OCTET_STR) {
		size_t n = v.len < bufsz - 1 ? v.len : bufsz - 1;

		if (n > 0)
			memcpy(buf, v.bytes, n);
		buf[n] = '\0';
		if (len != NULL)
			*len = v.len;
		return SNMPST_OK;
	}
	snprintf(err, errlen, "%s: %s is not a string", peer, oidstr);
	return SNMPST_ERROR;
}

enum snmp_status
snmp_get_int(struct snmp_conn *c, const char *oidstr, long *value, char *err, size_t errlen)
{
	netsnmp_pdu *resp;
	enum snmp_status st;

	if ((st = snmp_get(c, oidstr, &resp, err, errlen)) != SNMPST_OK)
		return st;
	st = get_int(c->peer, oidstr, resp, value, err, errlen);
	snmp_free_pdu(resp);
	return st;
}

enum snmp_status
snmp_get_str(struct snmp_conn *c, const char *oidstr, char *buf, size_t bufsz, size_t *len, char *err,
    size_t errlen)
{
	netsnmp_pdu *resp;
	enum snmp_status st;

	if (bufsz == 0) {
		snprintf(err, errlen, "no room for %s", oidstr);
		return SNMPST_ERROR;
	}
	if ((st = snmp_get(c, oidstr, &resp, err, errlen)) != SNMPST_OK)
		return st;
	st = get_str(c->peer, oidstr, resp, buf, bufsz, len, err, errlen);
	snmp_free_pdu(resp);
	return st;
}

enum snmp_status
snmp_set_int(struct snmp_conn *c, const char *oidstr, long value, char *err, size_t errlen)
{
	oid o[MAX_OID_LEN];
	size_t n;
	netsnmp_pdu *pdu, *resp;
	enum snmp_status st;

	if ((n = oid_parse(oidstr, o, MAX_OID_LEN)) == 0) {
		snprintf(err, errlen, "bad OID '%s'", oidstr);
		return SNMPST_ERROR;
	}
	pdu = snmp_pdu_create(SNMP_MSG_SET);
	snmp_pdu_add_variable(pdu, o, n, ASN_INTEGER, &value, sizeof value);
	if ((st = snmp_request(c, pdu, &resp, err, errlen)) != SNMPST_OK)
		return st;
	/* snmpsim answers a SET of a read-only object with noSuchInstance and no error status. */
	if (resp->variables == NULL || resp->variables->type == SNMP_NOSUCHOBJECT ||
	    resp->variables->type == SNMP_NOSUCHINSTANCE || resp->variables->type == SNMP_ENDOFMIBVIEW) {
		snprintf(err, errlen, "%s refused: %s is not writable", c->peer, oidstr);
		st = SNMPST_REFUSED;
	}
	snmp_free_pdu(resp);
	return st;
}

/* ---- answers as they come off the wire, without an agent (tests, fuzzing) ---- */

#define REPLY_PEER	"the agent"

/*
 * The first response PDU of *data (BER, from its tag on) decoded as net-snmp
 * decodes what a session receives; *data and *len move past it. A damaged
 * PDU is what a session drops: no answer.
 */
static enum snmp_status
reply_next(const unsigned char **data, size_t *len, netsnmp_pdu **resp, char *err, size_t errlen)
{
	unsigned char *copy, *body, type;
	size_t n = *len, left = *len;
	int rc = -1;

	*resp = NULL;
	snmp_lib_init();
	if (*len == 0) {
		snprintf(err, errlen, "timeout: no answer from %s", REPLY_PEER);
		return SNMPST_TIMEOUT;
	}
	/* asn_parse_header only reads; it takes a non-const pointer. */
	if ((body = asn_parse_header((unsigned char *)*data, &left, &type)) != NULL &&
	    left <= *len - (size_t)(body - *data)) {
		n = (size_t)(body - *data) + left;
		/* An exact-size copy of the PDU: net-snmp takes a writable buffer, and reads past it would show. */
		copy = xmalloc(n);
		memcpy(copy, *data, n);
		*resp = snmp_pdu_create(SNMP_MSG_RESPONSE);
		left = n;
		rc = snmp_pdu_parse(*resp, copy, &left);
		free(copy);
	}
	*data += n;
	*len -= n;
	if (rc != 0 || (*resp)->command != SNMP_MSG_RESPONSE) {
		if (*resp != NULL)
			snmp_free_pdu(*resp);
		*resp = NULL;
		snprintf(err, errlen, "timeout: no answer from %s (a damaged reply)", REPLY_PEER);
		return SNMPST_TIMEOUT;
	}
	if (reply_refused(REPLY_PEER, *resp, err, errlen)) {
		snmp_free_pdu(*resp);
		*resp = NULL;
		return SNMPST_REFUSED;
	}
	return SNMPST_OK;
}

enum snmp_status
snmp_walk_replies(const unsigned char *data, size_t len, const char *base,
    int (*cb)(const struct snmp_value *v, void *arg), void *arg, size_t max_values, char *err, size_t errlen)
{
	struct walk_state w;
	netsnmp_pdu *resp;
	enum snmp_status st;
	int more;

	if (walk_start(&w, base, max_values, err, errlen) == -1)
		return SNMPST_ERROR;
	for (;;) {
		if ((st = reply_next(&data, &len, &resp, err, errlen)) != SNMPST_OK)
			return st;
		st = walk_answer(&w, resp->variables, REPLY_PEER, cb, arg, &more, err, errlen);
		snmp_free_pdu(resp);
		if (st != SNMPST_OK || !more)
			return st;
	}
}

/*
 * The answer to a GET of oidstr among the replies: the first that names it,
 * else the first that can be read at all (an agent may answer for another
 * OID), else why the first could not.
 */
static enum snmp_status
reply_get(const unsigned char *data, size_t len, const char *oidstr, netsnmp_pdu **resp, char *err, size_t errlen)
{
	oid o[MAX_OID_LEN];
	size_t n, left = len;
	const unsigned char *p = data;
	netsnmp_pdu *r, *first = NULL;

	if ((n = oid_parse(oidstr, o, MAX_OID_LEN)) == 0) {
		snprintf(err, errlen, "bad OID '%s'", oidstr);
		return SNMPST_ERROR;
	}
	while (left > 0) {
		if (reply_next(&p, &left, &r, err, errlen) != SNMPST_OK)
			continue;
		if (r->variables != NULL &&
		    snmp_oid_compare(r->variables->name, r->variables->name_length, o, n) == 0) {
			if (first != NULL)
				snmp_free_pdu(first);
			*resp = r;
			return SNMPST_OK;
		}
		if (first == NULL)
			first = r;
		else
			snmp_free_pdu(r);
	}
	if (first != NULL) {
		*resp = first;
		return SNMPST_OK;
	}
	return reply_next(&data, &len, resp, err, errlen);
}

enum snmp_status
snmp_reply_get_int(const unsigned char *data, size_t len, const char *oidstr, long *value, char *err,
    size_t errlen)
{
	netsnmp_pdu *resp;
	enum snmp_status st;

	if ((st = reply_get(data, len, oidstr, &resp, err, errlen)) != SNMPST_OK)
		return st;
	st = get_int(REPLY_PEER, oidstr, resp, value, err, errlen);
	snmp_free_pdu(resp);
	return st;
}

enum snmp_status
snmp_reply_get_str(const unsigned char *data, size_t len, const char *oidstr, char *buf, size_t bufsz,
    size_t *slen, char *err, size_t errlen)
{
	netsnmp_pdu *resp;
	enum snmp_status st;

	if (bufsz == 0) {
		snprintf(err, errlen, "no room for %s", oidstr);
		return SNMPST_ERROR;
	}
	if ((st = reply_get(data, len, oidstr, &resp, err, errlen)) != SNMPST_OK)
		return st;
	st = get_str(REPLY_PEER, oidstr, resp, buf, bufsz, slen, err, errlen);
	snmp_free_pdu(resp);
	return st;
}
