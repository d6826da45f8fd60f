/* Where a MAC is plugged in: bridge tables walked over SNMP, the uplink guard, ifAdminStatus down and up again. */
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "netport.h"
#include "respond.h"
#include "snmp.h"
#include "util.h"

/* net-snmp's ASN.1 tags of the values walked (asn1.h), without pulling in its headers. */
#define ASN_INTEGER_TAG		0x02
#define ASN_OCTET_STR_TAG	0x04
#define ASN_COUNTER_TAG		0x41
#define ASN_GAUGE_TAG		0x42

/* Values per walk: a large campus switch holds some 32k MACs per table; more means a looping agent. */
#define NETPORT_WALK_MAX	200000

#define OID_BASE_PORT_IFINDEX	"1.3.6.1.2.1.17.1.4.1.2"	/* dot1dBasePortIfIndex.<bport> */
#define OID_TP_FDB_PORT		"1.3.6.1.2.1.17.4.3.1.2"	/* dot1dTpFdbPort.<mac> */
#define OID_VLAN_FDB_ID		"1.3.6.1.2.1.17.7.1.4.2.1.3"	/* dot1qVlanFdbId.<timeMark>.<vlan> */
#define OID_Q_FDB_PORT		"1.3.6.1.2.1.17.7.1.2.2.1.2"	/* dot1qTpFdbPort.<fdbId>.<mac> */
#define OID_IF_NAME		"1.3.6.1.2.1.31.1.1.1.1"
#define OID_IF_DESCR		"1.3.6.1.2.1.2.2.1.2"
#define OID_IF_ADMIN		"1.3.6.1.2.1.2.2.1.7"
#define OID_LLDP_REM_SYSNAME	"1.0.8802.1.1.2.1.4.1.1.9"	/* .<timeMark>.<localPort>.<index> */
#define OID_CISCO_TRUNK		"1.3.6.1.4.1.9.9.46.1.6.1.1.14"	/* vlanTrunkPortDynamicStatus.<ifIndex> */
#define OID_ARP_PHYS		"1.3.6.1.2.1.4.22.1.2"		/* ipNetToMediaPhysAddress.<ifIndex>.<ip> */

/* The OID of each table read (enum netport_table). */
static const char *const table_oid[NPT_COUNT] = {
	[NPT_BASE_PORT_IFINDEX] = OID_BASE_PORT_IFINDEX,
	[NPT_TP_FDB_PORT] = OID_TP_FDB_PORT,
	[NPT_VLAN_FDB_ID] = OID_VLAN_FDB_ID,
	[NPT_Q_FDB_PORT] = OID_Q_FDB_PORT,
	[NPT_LLDP_REM_SYSNAME] = OID_LLDP_REM_SYSNAME,
	[NPT_IF_NAME] = OID_IF_NAME,
	[NPT_IF_DESCR] = OID_IF_DESCR,
	[NPT_CISCO_TRUNK] = OID_CISCO_TRUNK,
	[NPT_ARP_PHYS] = OID_ARP_PHYS,
};

/* Who answers: a live session, or an agent's recorded replies (r; then c is NULL). */
struct agent {
	struct snmp_conn *c;
	const struct netport_replies *r;
};

static enum snmp_status
agent_walk(struct agent *a, enum netport_table t, int (*cb)(const struct snmp_value *v, void *arg), void *arg,
    char *err, size_t errlen)
{
	if (a->c != NULL)
		return snmp_walk(a->c, table_oid[t], cb, arg, NETPORT_WALK_MAX, err, errlen);
	return snmp_walk_replies(a->r->data[t], a->r->len[t], table_oid[t], cb, arg, NETPORT_WALK_MAX, err,
	    errlen);
}

/* The entry of table t at index, as a number. */
static enum snmp_status
agent_get_int(struct agent *a, enum netport_table t, int index, long *value, char *err, size_t errlen)
{
	char oid[64];

	snprintf(oid, sizeof oid, "%s.%d", table_oid[t], index);
	if (a->c != NULL)
		return snmp_get_int(a->c, oid, value, err, errlen);
	return snmp_reply_get_int(a->r->data[t], a->r->len[t], oid, value, err, errlen);
}

/* The entry of table t at index, as a string (see snmp_get_str). */
static enum snmp_status
agent_get_str(struct agent *a, enum netport_table t, int index, char *buf, size_t bufsz, size_t *len,
    char *err, size_t errlen)
{
	char oid[64];

	snprintf(oid, sizeof oid, "%s.%d", table_oid[t], index);
	if (a->c != NULL)
		return snmp_get_str(a->c, oid, buf, bufsz, len, err, errlen);
	return snmp_reply_get_str(a->r->data[t], a->r->len[t], oid, buf, bufsz, len, err, errlen);
}

struct pair {
	long key, val;
};

struct pairs {
	struct pair *v;
	size_t n, cap;
};

/* One learned MAC of one bridge table. */
struct fdb_ent {
	unsigned char mac[6];
	int vlan;
	int bport;
	int ifindex;		/* 0 = the bridge port has no known ifIndex */
};

/* Everything read from one switch. */
struct swdata {
	const struct snmp_target *sw;
	struct fdb_ent *fdb;
	size_t nfdb, capfdb;
	struct pairs base_ports;	/* bridge port -> ifIndex of the default context */
	char incomplete[200];		/* a part that could not be read: no port of this switch is shut */
};

/* What a walk callback fills, with the context it belongs to. */
struct walk_ctx {
	struct swdata *d;
	struct pairs *ports;		/* bridge port -> ifIndex of this context */
	struct pairs *fdbids;		/* FDB id -> VLAN */
	struct pairs *out;
	int vlan;
};

static void
pairs_add(struct pairs *p, long key, long val)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xrealloc(p->v, p->cap * sizeof *p->v);
	}
	p->v[p->n].key = key;
	p->v[p->n].val = val;
	p->n++;
}

/* The value of key, or def. The first entry wins. */
static long
pairs_get(const struct pairs *p, long key, long def)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].key == key)
			return p->v[i].val;
	return def;
}

static void
pairs_free(struct pairs *p)
{
	free(p->v);
	memset(p, 0, sizeof *p);
}

/* "02:00:00:00:01:01" or with '-': 0, else -1. */
static int
mac_parse(const char *s, unsigned char mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++, s++) {
			int c = *s;

			if (c >= '0' && c <= '9')
				v = v * 16 + (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v = v * 16 + (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v = v * 16 + (unsigned)(c - 'A' + 10);
			else
				return -1;
		}
		mac[i] = (unsigned char)v;
		if (i < 5 && *s != ':' && *s != '-')
			return -1;
		if (i < 5)
			s++;
	}
	return *s == '\0' ? 0 : -1;
}

/* Six sub-ids that are octets, from sub: 0, else -1 (an agent's malformed index). */
static int
mac_from_sub(const uint32_t *sub, unsigned char mac[6])
{
	for (int i = 0; i < 6; i++) {
		if (sub[i] > 255)
			return -1;
		mac[i] = (unsigned char)sub[i];
	}
	return 0;
}

static int
is_int(const struct snmp_value *v)
{
	return v->type == ASN_INTEGER_TAG || v->type == ASN_GAUGE_TAG || v->type == ASN_COUNTER_TAG;
}

/* dot1dBasePortIfIndex.<bport> = ifIndex */
static int
cb_ports(const struct snmp_value *v, void *arg)
{
	struct walk_ctx *w = arg;

	if (v->nsub == 1 && is_int(v) && v->sub[0] > 0 && v->sub[0] <= INT32_MAX && v->integer > 0 &&
	    v->integer <= INT32_MAX)
		pairs_add(w->ports, (long)v->sub[0], v->integer);
	return 0;
}

/* dot1qVlanFdbId.<timeMark>.<vlan> = fdbId */
static int
cb_fdbids(const struct snmp_value *v, void *arg)
{
	struct walk_ctx *w = arg;

	if (v->nsub == 2 && is_int(v) && v->sub[1] >= 1 && v->sub[1] <= 4094 && v->integer > 0 &&
	    v->integer <= INT32_MAX)
		pairs_add(w->fdbids, v->integer, (long)v->sub[1]);
	return 0;
}

static void
fdb_add(struct swdata *d, const unsigned char mac[6], int vlan, int bport, int ifindex)
{
	if (d->nfdb == d->capfdb) {
		d->capfdb = d->capfdb ? d->capfdb * 2 : 256;
		d->fdb = xrealloc(d->fdb, d->capfdb * sizeof *d->fdb);
	}
	memcpy(d->fdb[d->nfdb].mac, mac, 6);
	d->fdb[d->nfdb].vlan = vlan;
	d->fdb[d->nfdb].bport = bport;
	d->fdb[d->nfdb].ifindex = ifindex;
	d->nfdb++;
}

/* dot1dTpFdbPort.<mac> = bport (port 0: learned nowhere, or the switch itself) */
static int
cb_tpfdb(const struct snmp_value *v, void *arg)
{
	struct walk_ctx *w = arg;
	unsigned char mac[6];

	if (v->nsub == 6 && is_int(v) && v->integer > 0 && v->integer <= INT32_MAX &&
	    mac_from_sub(v->sub, mac) == 0)
		fdb_add(w->d, mac, w->vlan, (int)v->integer, (int)pairs_get(w->ports, v->integer, 0));
	return 0;
}

/* dot1qTpFdbPort.<fdbId>.<mac> = bport; the FDB id is not always the VLAN. */
static int
cb_qfdb(const struct snmp_value *v, void *arg)
{
	struct walk_ctx *w = arg;
	unsigned char mac[6];

	if (v->nsub == 7 && is_int(v) && v->integer > 0 && v->integer <= INT32_MAX &&
	    v->sub[0] <= INT32_MAX && mac_from_sub(v->sub + 1, mac) == 0)
		fdb_add(w->d, mac, (int)pairs_get(w->fdbids, (long)v->sub[0], (long)v->sub[0]),
		    (int)v->integer, (int)pairs_get(w->ports, v->integer, 0));
	return 0;
}

/* lldpRemSysName.<timeMark>.<localPort>.<index> = name, kept as localPort -> index into out. */
struct lldp_ctx {
	char (*names)[128];
	struct pairs ports;
	size_t n;
};

static int
cb_lldp(const struct snmp_value *v, void *arg)
{
	struct lldp_ctx *l = arg;

	if (v->nsub != 3 || v->type != ASN_OCTET_STR_TAG || v->sub[1] == 0 || v->sub[1] > INT32_MAX)
		return 0;
	l->names = xrealloc(l->names, (l->n + 1) * sizeof *l->names);
	respond_sanitize(l->names[l->n], sizeof l->names[l->n], (const char *)v->bytes, v->len);
	if (l->names[l->n][0] == '\0')
		snprintf(l->names[l->n], sizeof l->names[l->n], "(unnamed)");
	pairs_add(&l->ports, (long)v->sub[1], (long)l->n);
	l->n++;
	return 0;
}

/*
 * Reads the bridge tables of one context: the default one (vlan 0; also the
 * Q-BRIDGE table) or a Cisco per-VLAN one (community@vlan). Returns the walk
 * status; err says why.
 */
static enum snmp_status
read_context(struct swdata *d, struct agent *a, int vlan, char *err, size_t errlen)
{
	struct pairs vports = { 0 }, fdbids = { 0 };
	struct walk_ctx w = { .d = d, .ports = vlan ? &vports : &d->base_ports, .fdbids = &fdbids,
	    .vlan = vlan };
	enum snmp_status st;

	if ((st = agent_walk(a, NPT_BASE_PORT_IFINDEX, cb_ports, &w, err, errlen)) != SNMPST_OK)
		goto out;
	if ((st = agent_walk(a, NPT_TP_FDB_PORT, cb_tpfdb, &w, err, errlen)) != SNMPST_OK)
		goto out;
	if (vlan == 0) {
		if ((st = agent_walk(a, NPT_VLAN_FDB_ID, cb_fdbids, &w, err, errlen)) != SNMPST_OK)
			goto out;
		st = agent_walk(a, NPT_Q_FDB_PORT, cb_qfdb, &w, err, errlen);
	}
out:
	pairs_free(&vports);
	pairs_free(&fdbids);
	return st;
}

static void
err_add(struct switch_error **errs, size_t *nerrs, const struct snmp_target *sw, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
err_add(struct switch_error **errs, size_t *nerrs, const struct snmp_target *sw, const char *fmt, ...)
{
	va_list ap;
	struct switch_error *e;

	*errs = xrealloc(*errs, (*nerrs + 1) * sizeof **errs);
	e = &(*errs)[(*nerrs)++];
	e->sw = sw;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof e->reason, fmt, ap);
	va_end(ap);
}

/* Whether the port is on the switch's protected list, by ifName or ifIndex (case does not matter). */
static int
port_protected(const struct snmp_target *sw, const struct port_hit *h)
{
	char idx[16];

	snprintf(idx, sizeof idx, "%d", h->ifindex);
	for (size_t i = 0; i < sw->n_protected_ports; i++) {
		const char *p = sw->protected_ports[i];

		if ((h->ifname[0] != '\0' && strcasecmp(p, h->ifname) == 0) || strcmp(p, idx) == 0)
			return 1;
	}
	return 0;
}

/* ifName, else ifDescr, sanitized; "" when the agent has neither. */
static void
port_name(struct agent *a, int ifindex, char *buf, size_t bufsz)
{
	char raw[256], err[256];
	size_t len = 0;

	buf[0] = '\0';
	if (agent_get_str(a, NPT_IF_NAME, ifindex, raw, sizeof raw, &len, err, sizeof err) != SNMPST_OK ||
	    len == 0) {
		if (agent_get_str(a, NPT_IF_DESCR, ifindex, raw, sizeof raw, &len, err, sizeof err) != SNMPST_OK)
			return;
	}
	respond_sanitize(buf, bufsz, raw, len < sizeof raw ? len : sizeof raw - 1);
}

/*
 * Judges one port where the MAC is learned: MACs and VLANs over every table
 * walked on the switch, LLDP neighbours, Cisco trunk status, protected list.
 */
static void
port_judge(struct swdata *d, struct agent *a, const struct lldp_ctx *lldp, struct port_hit *h)
{
	const struct snmp_target *sw = d->sw;
	int vlans[8], nvlans = 0, many_vlans = 0;
	char err[256];
	long dyn;
	enum snmp_status st;

	/* Distinct MACs and VLANs seen on this port, in any table. */
	h->macs = 0;
	for (size_t i = 0; i < d->nfdb; i++) {
		const struct fdb_ent *e = &d->fdb[i];
		int dup = 0;

		if (e->ifindex != h->ifindex || (h->ifindex == 0 && e->bport != h->bridge_port))
			continue;
		for (size_t k = 0; k < i && !dup; k++) {
			const struct fdb_ent *o = &d->fdb[k];

			dup = memcmp(o->mac, e->mac, 6) == 0 && o->ifindex == e->ifindex &&
			    (h->ifindex != 0 || o->bport == e->bport);
		}
		if (!dup)
			h->macs++;
		if (e->vlan != 0) {
			int known = 0;

			for (int k = 0; k < nvlans; k++)
				known |= vlans[k] == e->vlan;
			if (!known) {
				if (nvlans < (int)nitems(vlans))
					vlans[nvlans++] = e->vlan;
				else
					many_vlans = 1;
			}
		}
	}
	if (h->ifindex > 0)
		port_name(a, h->ifindex, h->ifname, sizeof h->ifname);
	if (h->ifname[0] == '\0')
		snprintf(h->ifname, sizeof h->ifname, h->ifindex > 0 ? "ifIndex %d" : "bridge port %d",
		    h->ifindex > 0 ? h->ifindex : h->bridge_port);
	/*
	 * LLDP's localPort is an lldpLocPortNum, which the LLDP-MIB allows to be
	 * the dot1dBasePort: it is mapped through dot1dBasePortIfIndex, and
	 * taken as the ifIndex itself when the bridge has no such port. Either
	 * way a neighbour can only stop a shutdown, never allow one.
	 */
	h->lldp[0] = '\0';
	for (size_t i = 0; i < lldp->ports.n; i++) {
		long lp = lldp->ports.v[i].key;

		if (h->ifindex > 0 && pairs_get(&d->base_ports, lp, lp) == h->ifindex) {
			snprintf(h->lldp, sizeof h->lldp, "%s", lldp->names[lldp->ports.v[i].val]);
			break;
		}
	}
	h->trunk = nvlans > 1 || many_vlans;
	if (h->ifindex > 0) {
		st = agent_get_int(a, NPT_CISCO_TRUNK, h->ifindex, &dyn, err, sizeof err);
		if (st == SNMPST_OK && dyn == 1)
			h->trunk = 2;
		else if (st != SNMPST_OK && st != SNMPST_NOSUCH && d->incomplete[0] == '\0')
			snprintf(d->incomplete, sizeof d->incomplete, "trunk status unreadable: %.150s", err);
	}
	h->is_protected = port_protected(sw, h);

	h->why[0] = '\0';
	if (h->ifindex <= 0)
		str_appendf(h->why, sizeof h->why, "%sbridge port %d has no ifIndex", h->why[0] ? "; " : "",
		    h->bridge_port);
	if (h->macs > sw->max_macs)
		str_appendf(h->why, sizeof h->why, "%suplink: %d MACs (max macs %d)", h->why[0] ? "; " : "", h->macs,
		    sw->max_macs);
	if (h->lldp[0] != '\0')
		str_appendf(h->why, sizeof h->why, "%sLLDP neighbour %s", h->why[0] ? "; " : "", h->lldp);
	if (h->trunk == 2)
		str_appendf(h->why, sizeof h->why, "%strunk (trunking)", h->why[0] ? "; " : "");
	else if (h->trunk) {
		str_appendf(h->why, sizeof h->why, "%strunk: MACs in VLANs", h->why[0] ? "; " : "");
		for (int k = 0; k < nvlans; k++)
			str_appendf(h->why, sizeof h->why, "%s%d", k ? "," : " ", vlans[k]);
		if (many_vlans)
			str_appendf(h->why, sizeof h->why, ",...");
	}
	if (h->is_protected)
		str_appendf(h->why, sizeof h->why, "%sprotected port", h->why[0] ? "; " : "");
	if (d->incomplete[0] != '\0')
		str_appendf(h->why, sizeof h->why, "%sincomplete view of %s: %s", h->why[0] ? "; " : "", sw->name,
		    d->incomplete);
	h->shut_ok = h->why[0] == '\0';
}

/* One switch (its agent's replies rec, else a live session): its tables, then one hit per port where mac is learned. */
static int
find_on_switch(const struct snmp_target *sw, const struct netport_replies *rec, const unsigned char mac[6],
    struct port_hit **hits, size_t *nhits, struct switch_error **errs, size_t *nerrs)
{
	struct swdata d = { .sw = sw };
	struct lldp_ctx lldp = { 0 };
	struct agent a = { .r = rec };
	char err[256];
	size_t first = *nhits;
	int rc = 0;

	if (rec == NULL && (a.c = snmp_connect(sw, NULL, 0, err, sizeof err)) == NULL) {
		err_add(errs, nerrs, sw, "%s", err);
		return 1;
	}
	if (read_context(&d, &a, 0, err, sizeof err) != SNMPST_OK) {
		err_add(errs, nerrs, sw, "%s", err);
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < sw->n_vlans; i++) {
		struct agent va = { .r = rec };
		char comm[300];
		int vlan = atoi(sw->vlans[i]);

		if (rec == NULL) {
			snprintf(comm, sizeof comm, "%s@%d", sw->community != NULL ? sw->community : "", vlan);
			va.c = snmp_connect(sw, comm, 0, err, sizeof err);
			explicit_bzero(comm, sizeof comm);
		}
		if ((rec == NULL && va.c == NULL) || read_context(&d, &va, vlan, err, sizeof err) != SNMPST_OK) {
			err_add(errs, nerrs, sw, "VLAN %d: %s", vlan, err);
			if (d.incomplete[0] == '\0')
				snprintf(d.incomplete, sizeof d.incomplete, "VLAN %d did not answer", vlan);
			rc = 1;
		}
		snmp_disconnect(va.c);
	}
	for (size_t i = 0; i < d.nfdb; i++) {
		const struct fdb_ent *e = &d.fdb[i];
		struct port_hit *h;
		int dup = 0;

		if (memcmp(e->mac, mac, 6) != 0)
			continue;
		for (size_t k = first; k < *nhits && !dup; k++)
			dup = (*hits)[k].ifindex == e->ifindex &&
			    (e->ifindex != 0 || (*hits)[k].bridge_port == e->bport);
		if (dup)
			continue;
		*hits = xrealloc(*hits, (*nhits + 1) * sizeof **hits);
		h = &(*hits)[(*nhits)++];
		memset(h, 0, sizeof *h);
		h->sw = sw;
		h->vlan = e->vlan;
		h->bridge_port = e->bport;
		h->ifindex = e->ifindex;
	}
	if (*nhits > first) {
		/* A switch without LLDP answers with nothing under the table, not an error. */
		if (agent_walk(&a, NPT_LLDP_REM_SYSNAME, cb_lldp, &lldp, err, sizeof err) != SNMPST_OK &&
		    d.incomplete[0] == '\0')
			snprintf(d.incomplete, sizeof d.incomplete, "LLDP unreadable: %.150s", err);
		for (size_t k = first; k < *nhits; k++)
			port_judge(&d, &a, &lldp, &(*hits)[k]);
	}
out:
	snmp_disconnect(a.c);
	free(d.fdb);
	pairs_free(&d.base_ports);
	pairs_free(&lldp.ports);
	free(lldp.names);
	return rc;
}

/* netport_find over the switches from sws on (one only when rec holds its replies). */
static int
find_on_switches(const struct snmp_target *sws, const struct netport_replies *rec, const char *mac,
    struct port_hit **hits, size_t *nhits, struct switch_error **errs, size_t *nerrs)
{
	unsigned char m[6];
	int rc = 0;

	*hits = NULL;
	*nhits = 0;
	*errs = NULL;
	*nerrs = 0;
	if (mac == NULL || mac_parse(mac, m) == -1)
		return -1;
	for (const struct snmp_target *sw = sws; sw != NULL; sw = rec != NULL ? NULL : sw->next)
		rc |= find_on_switch(sw, rec, m, hits, nhits, errs, nerrs);
	return rc;
}

int
netport_find(const struct config *cfg, const char *mac, struct port_hit **hits, size_t *nhits,
    struct switch_error **errs, size_t *nerrs)
{
	return find_on_switches(cfg->switches, NULL, mac, hits, nhits, errs, nerrs);
}

int
netport_find_replayed(const struct snmp_target *sw, const struct netport_replies *r, const char *mac,
    struct port_hit **hits, size_t *nhits, struct switch_error **errs, size_t *nerrs)
{
	return find_on_switches(sw, r, mac, hits, nhits, errs, nerrs);
}

int
netport_set_admin(const struct snmp_target *sw, int ifindex, int status, int *before, char *err, size_t errlen)
{
	struct snmp_conn *c;
	char oid[64], why[256];
	long was, now;
	int rc = -1;

	if (ifindex <= 0 || (status != 1 && status != 2)) {
		snprintf(err, errlen, "bad ifIndex %d or status %d", ifindex, status);
		return -1;
	}
	if ((c = snmp_connect(sw, NULL, 1, err, errlen)) == NULL)
		return -1;
	snprintf(oid, sizeof oid, "%s.%d", OID_IF_ADMIN, ifindex);
	if (snmp_get_int(c, oid, &was, why, sizeof why) != SNMPST_OK) {
		snprintf(err, errlen, "reading ifAdminStatus: %s", why);
		goto out;
	}
	if (before != NULL)
		*before = (int)was;
	if (snmp_set_int(c, oid, status, why, sizeof why) != SNMPST_OK) {
		snprintf(err, errlen, "setting ifAdminStatus to %d: %s", status, why);
		goto out;
	}
	if (snmp_get_int(c, oid, &now, why, sizeof why) != SNMPST_OK) {
		snprintf(err, errlen, "set, but cannot be read back: %s", why);
		goto out;
	}
	if (now != status) {
		snprintf(err, errlen, "set to %d, but ifAdminStatus reads %ld", status, now);
		goto out;
	}
	rc = 0;
out:
	snmp_disconnect(c);
	return rc;
}

int
netport_get_admin(const struct snmp_target *sw, int ifindex, int *status, char *err, size_t errlen)
{
	struct snmp_conn *c;
	char oid[64], why[256];
	long v;
	int rc = -1;

	if ((c = snmp_connect(sw, NULL, 0, err, errlen)) == NULL)
		return -1;
	snprintf(oid, sizeof oid, "%s.%d", OID_IF_ADMIN, ifindex);
	if (snmp_get_int(c, oid, &v, why, sizeof why) != SNMPST_OK)
		snprintf(err, errlen, "reading ifAdminStatus: %s", why);
	else {
		*status = (int)v;
		rc = 0;
	}
	snmp_disconnect(c);
	return rc;
}

struct arp_ctx {
	unsigned char ip[4];
	unsigned char mac[6];
	int found;
};

/* ipNetToMediaPhysAddress.<ifIndex>.<a.b.c.d> = 6 bytes */
static int
cb_arp(const struct snmp_value *v, void *arg)
{
	struct arp_ctx *a = arg;
	static const unsigned char zero[6], bcast[6] = { 255, 255, 255, 255, 255, 255 };

	if (v->nsub != 5 || v->type != ASN_OCTET_STR_TAG || v->len != 6)
		return 0;
	for (int i = 0; i < 4; i++)
		if (v->sub[i + 1] != a->ip[i])
			return 0;
	if (memcmp(v->bytes, zero, 6) == 0 || memcmp(v->bytes, bcast, 6) == 0)
		return 0;
	memcpy(a->mac, v->bytes, 6);
	a->found = 1;
	return 1;
}

static void
arp_mac(const struct arp_ctx *a, char mac[18])
{
	snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", a->mac[0], a->mac[1], a->mac[2], a->mac[3], a->mac[4],
	    a->mac[5]);
}

int
netport_router_mac(const struct config *cfg, const char *ip, char mac[18], char *source, size_t srclen)
{
	struct arp_ctx a = { 0 };
	struct agent ag = { 0 };
	char err[256];
	int asked = 0, answered = 0;

	if (inet_pton(AF_INET, ip, a.ip) != 1)
		return 1;
	for (const struct snmp_target *r = cfg->routers; r != NULL; r = r->next) {
		asked++;
		if ((ag.c = snmp_connect(r, NULL, 0, err, sizeof err)) == NULL) {
			log_warnx("router %s: %s", r->name, err);
			continue;
		}
		if (agent_walk(&ag, NPT_ARP_PHYS, cb_arp, &a, err, sizeof err) != SNMPST_OK)
			log_warnx("router %s: %s", r->name, err);
		else
			answered++;
		snmp_disconnect(ag.c);
		if (a.found) {
			arp_mac(&a, mac);
			snprintf(source, srclen, "router %s", r->name);
			return 0;
		}
	}
	return asked > 0 && answered == 0 ? -1 : 1;
}

int
netport_router_mac_replayed(const struct netport_replies *r, const char *ip, char mac[18])
{
	struct arp_ctx a = { 0 };
	struct agent ag = { .r = r };
	char err[256];

	if (inet_pton(AF_INET, ip, a.ip) != 1)
		return 1;
	if (agent_walk(&ag, NPT_ARP_PHYS, cb_arp, &a, err, sizeof err) != SNMPST_OK && !a.found)
		return -1;
	if (!a.found)
		return 1;
	arp_mac(&a, mac);
	return 0;
}
