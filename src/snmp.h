/* SNMP for isolation: net-snmp sessions (v2c, v3), walks, gets and sets, with errors a responder can report. */
#ifndef SW_SNMP_H
#define SW_SNMP_H

#include <stddef.h>
#include <stdint.h>

struct snmp_target;

/* Why a request failed: the incident shows it. */
enum snmp_status {
	SNMPST_OK = 0,
	SNMPST_TIMEOUT,		/* no answer (also what a wrong v2c community looks like) */
	SNMPST_AUTH,		/* v3 authentication/privacy refused, unknown user */
	SNMPST_REFUSED,		/* the agent answered with an error status (noAccess, notWritable ...) */
	SNMPST_NOSUCH,		/* noSuchObject / noSuchInstance / endOfMibView on a get */
	SNMPST_ERROR,		/* anything else (bad address, library error) */
};

struct snmp_conn;

/*
 * Opens a session to t. community overrides t's (Cisco per-VLAN
 * "community@vlan"; NULL = t's own); write selects the write community
 * for v2c. NULL with the reason in err.
 */
struct snmp_conn *snmp_connect(const struct snmp_target *t, const char *community, int write,
    char *err, size_t errlen);
void snmp_disconnect(struct snmp_conn *c);	/* not snmp_close: net-snmp owns that name */

/* One value of a walk or get, valid during the callback. */
struct snmp_value {
	const uint32_t *sub;		/* the OID's sub-identifiers after the walked base */
	size_t nsub;
	int type;			/* ASN_INTEGER, ASN_OCTET_STR, ... (net-snmp's tags) */
	long integer;			/* integers, counters, gauges, timeticks */
	const unsigned char *bytes;	/* octet strings */
	size_t len;
};

/*
 * Walks the subtree under base ("1.3.6.1.2.1.17.4.3.1.2") with GETBULK (v2c/
 * v3), calling cb for each value; cb returns non-zero to stop. At most
 * max_values values (a guard against agents that loop). Returns a status;
 * err holds a one-line reason.
 */
enum snmp_status snmp_walk(struct snmp_conn *c, const char *base,
    int (*cb)(const struct snmp_value *v, void *arg), void *arg, size_t max_values,
    char *err, size_t errlen);

enum snmp_status snmp_get_int(struct snmp_conn *c, const char *oid, long *value, char *err, size_t errlen);
/* An octet string into buf (NUL-terminated, cut to fit); *len gets its length. */
enum snmp_status snmp_get_str(struct snmp_conn *c, const char *oid, char *buf, size_t bufsz, size_t *len,
    char *err, size_t errlen);
enum snmp_status snmp_set_int(struct snmp_conn *c, const char *oid, long value, char *err, size_t errlen);

const char *snmp_status_name(enum snmp_status st);

/*
 * The same without an agent, for tests and fuzzing: data holds what an agent
 * sent, response PDUs (BER, each from its PDU tag on, as net-snmp decodes
 * them once the message's version, community or v3 security are checked),
 * one after another. snmp_walk_replies takes each as the answer to the next
 * GETBULK of the walk; once they run out, or at a damaged one, the agent
 * has stopped answering (SNMPST_TIMEOUT). A get takes the reply that names
 * the OID asked for, else the first readable one.
 */
enum snmp_status snmp_walk_replies(const unsigned char *data, size_t len, const char *base,
    int (*cb)(const struct snmp_value *v, void *arg), void *arg, size_t max_values,
    char *err, size_t errlen);
enum snmp_status snmp_reply_get_int(const unsigned char *data, size_t len, const char *oid, long *value,
    char *err, size_t errlen);
enum snmp_status snmp_reply_get_str(const unsigned char *data, size_t len, const char *oid, char *buf,
    size_t bufsz, size_t *slen, char *err, size_t errlen);

#endif
