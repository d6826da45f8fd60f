/* Where a MAC is plugged in: walks the configured switches over SNMP, judges uplinks, shuts and reopens ports. */
#ifndef SW_NETPORT_H
#define SW_NETPORT_H

#include <stddef.h>

struct config;
struct snmp_target;

/* A port of one switch where the MAC is learned. */
struct port_hit {
	const struct snmp_target *sw;	/* the [switch NAME] it was found on */
	int vlan;			/* 0 = not per VLAN (BRIDGE-MIB), else the VLAN / FDB id */
	int bridge_port;
	int ifindex;
	char ifname[64];		/* ifName, else ifDescr; sanitized (agent-supplied) */
	int macs;			/* MACs learned on this port (all VLANs walked) */
	char lldp[128];			/* an LLDP neighbour's system name, "" = none (sanitized) */
	int trunk;			/* carries more than one VLAN / a trunk port */
	int is_protected;		/* on the switch's protected ports */
	int shut_ok;			/* passes the uplink guard: this is the port to shut */
	char why[256];			/* why it may not be shut (uplink: 14 MACs; LLDP neighbour core-sw-1 ...) */
};

/* One switch that could not be asked, and why (timeout, community refused ...). */
struct switch_error {
	const struct snmp_target *sw;
	char reason[256];
};

/*
 * Looks for mac ("02:00:00:00:01:01") on every [switch NAME]: BRIDGE-MIB
 * dot1dTpFdbPort, Q-BRIDGE-MIB dot1qTpFdbPort (FDB id -> VLAN through
 * dot1qVlanFdbId), and for switches with vlans = ... the per-VLAN
 * community@VLAN contexts; bridge port -> ifIndex -> ifName; counts MACs per
 * port, reads LLDP neighbours and trunk status, applies the guard (max macs,
 * LLDP, trunk, protected ports). *hits and *errs are malloc'd (free()).
 * Returns 0 when every switch answered, 1 when some could not be asked.
 */
int netport_find(const struct config *cfg, const char *mac, struct port_hit **hits, size_t *nhits,
    struct switch_error **errs, size_t *nerrs);

/*
 * Sets ifAdminStatus of ifindex on sw (1 up, 2 down) and reads it back.
 * *before gets the status it had (may be NULL). 0 ok, -1 with the reason.
 */
int netport_set_admin(const struct snmp_target *sw, int ifindex, int status, int *before,
    char *err, size_t errlen);

/* Reads ifAdminStatus of ifindex on sw into *status. 0 ok, -1 with the reason. */
int netport_get_admin(const struct snmp_target *sw, int ifindex, int *status, char *err, size_t errlen);

/*
 * The MAC of ip from the ARP tables of the [router NAME] sections
 * (ipNetToMediaPhysAddress). 0 found (mac "aa:bb:..", source "router NAME"),
 * 1 not found, -1 no router answered.
 */
int netport_router_mac(const struct config *cfg, const char *ip, char mac[18], char *source, size_t srclen);

/*
 * The same without an agent, for tests and fuzzing: what one switch (or
 * router) sent for each table read, as snmp_walk_replies takes it (response
 * PDUs, BER, one after another); a table without replies is an agent that
 * does not answer it. Every VLAN of sw reads the same replies.
 */
enum netport_table {
	NPT_BASE_PORT_IFINDEX,		/* dot1dBasePortIfIndex */
	NPT_TP_FDB_PORT,		/* dot1dTpFdbPort */
	NPT_VLAN_FDB_ID,		/* dot1qVlanFdbId */
	NPT_Q_FDB_PORT,			/* dot1qTpFdbPort */
	NPT_LLDP_REM_SYSNAME,		/* lldpRemSysName */
	NPT_IF_NAME,			/* ifName (a get) */
	NPT_IF_DESCR,			/* ifDescr (a get) */
	NPT_CISCO_TRUNK,		/* vlanTrunkPortDynamicStatus (a get) */
	NPT_ARP_PHYS,			/* ipNetToMediaPhysAddress (routers) */
	NPT_COUNT
};

struct netport_replies {
	const unsigned char *data[NPT_COUNT];
	size_t len[NPT_COUNT];
};

/* netport_find on sw alone, its answers from r. */
int netport_find_replayed(const struct snmp_target *sw, const struct netport_replies *r, const char *mac,
    struct port_hit **hits, size_t *nhits, struct switch_error **errs, size_t *nerrs);
/* netport_router_mac on one router whose answers are r: 0 found, 1 not found, -1 no answer. */
int netport_router_mac_replayed(const struct netport_replies *r, const char *ip, char mac[18]);

#endif
