/* DHCP lease files as a source of a client's MAC: dnsmasq, ISC dhcpd and Kea memfile (client-written hostnames inside). */
#ifndef SW_LEASES_H
#define SW_LEASES_H

#include <stddef.h>

struct config;

/*
 * The MAC of ip in n bytes of one lease file's text (format detected from
 * the text): the active lease that was granted last wins. 0 found (mac
 * "aa:bb:cc:dd:ee:ff", lower case), 1 not found. Never reads past n.
 */
int leases_parse(const char *text, size_t n, const char *ip, char mac[18]);

/* Each of the configured dhcp leases files in turn; source gets "dhcp FILE". 0 found, 1 not found. */
int leases_lookup(const struct config *cfg, const char *ip, char mac[18], char *source, size_t srclen);

/*
 * The actor's MAC from the best source: the kernel's neighbour table when the
 * client is on a local segment ("neighbour"), else the routers' ARP tables
 * over SNMP ("router NAME"), else DHCP leases ("dhcp FILE"). 0 found, 1 not.
 */
int mac_lookup(const struct config *cfg, const char *ip, char mac[18], char *source, size_t srclen);

#endif
