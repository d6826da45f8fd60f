/* libFuzzer harness: an agent's replies (BER response PDUs) through SNMP walks and gets, a switch's and a router's tables. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "netport.h"
#include "snmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the agent chose, after sanitizing: one NUL-terminated line without control bytes or '%'. */
static void
check_text(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '%')
			abort();
}

/* Reading every sub-id and byte of a value lets ASan check they lie in their buffers. */
static int
touch(const struct snmp_value *v, void *arg)
{
	if (v->nsub > 128 || (v->len > 0 && v->bytes == NULL))
		abort();
	for (size_t i = 0; i < v->nsub; i++)
		*(size_t *)arg += v->sub[i];
	for (size_t i = 0; i < v->len; i++)
		*(size_t *)arg += v->bytes[i];
	return 0;
}

/*
 * Input: the MAC looked for (6 bytes), the IP asked of the router (4), a
 * flags byte (VLANs, protected ports, max macs), then for each table of
 * enum netport_table a 2-byte little-endian length and its replies.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *vlans[] = { "10", "20" }, *prot[] = { "Gi1/0/1", "103" }, mac[18], ip[16], err[256], buf[9];
	struct snmp_target t = { .name = "sw", .address = "recorded", .community = "public" };
	struct netport_replies r = { 0 };
	struct port_hit *hits;
	struct switch_error *errs;
	size_t nhits, nerrs, off = 11, sum = 0, len;

	if (size < off)
		return 0;
	snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", data[0], data[1], data[2], data[3], data[4],
	    data[5]);
	snprintf(ip, sizeof ip, "%u.%u.%u.%u", data[6], data[7], data[8], data[9]);
	t.vlans = vlans;
	t.n_vlans = data[10] & 3 ? 1 + (data[10] & 1) : 0;
	t.protected_ports = prot;
	t.n_protected_ports = data[10] & 4 ? 2 : 0;
	t.max_macs = data[10] >> 4;
	for (int i = 0; i < NPT_COUNT && off + 2 <= size; i++) {
		len = (size_t)(data[off] | data[off + 1] << 8);
		off += 2;
		r.data[i] = data + off;
		r.len[i] = len < size - off ? len : size - off;
		off += r.len[i];
	}

	if (netport_find_replayed(&t, &r, mac, &hits, &nhits, &errs, &nerrs) != -1) {
		for (size_t i = 0; i < nhits; i++) {
			check_text(hits[i].ifname, sizeof hits[i].ifname);
			check_text(hits[i].lldp, sizeof hits[i].lldp);
			if (hits[i].sw != &t || memchr(hits[i].why, '\0', sizeof hits[i].why) == NULL ||
			    hits[i].shut_ok != (hits[i].why[0] == '\0'))
				abort();
		}
		for (size_t i = 0; i < nerrs; i++)
			if (errs[i].sw != &t || memchr(errs[i].reason, '\0', sizeof errs[i].reason) == NULL)
				abort();
		free(hits);
		free(errs);
	}
	if (netport_router_mac_replayed(&r, ip, mac) == 0 && strlen(mac) != 17)
		abort();

	/* Every value of the first table's replies, and the ifName answer cut to a small buffer. */
	snmp_walk_replies(r.data[0], r.len[0], "1.3.6", touch, &sum, 1000, err, sizeof err);
	len = 0;
	if (snmp_reply_get_str(r.data[NPT_IF_NAME], r.len[NPT_IF_NAME], "1.3.6.1.2.1.31.1.1.1.1.1", buf,
	    1 + data[10] % 8, &len, err, sizeof err) == SNMPST_OK && strnlen(buf, 1 + data[10] % 8) > len)
		abort();
	return 0;
}
