/* libFuzzer harness: "IP\n" then a lease file (dnsmasq, ISC dhcpd or Kea, client-chosen names inside) through leases_parse. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leases.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A MAC as leases_parse promises it: "aa:bb:cc:dd:ee:ff", lower-case hex. */
static void
check_mac(const char *mac)
{
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? mac[i] != ':' : strchr("0123456789abcdef", mac[i]) == NULL || mac[i] == '\0')
			abort();
	if (mac[17] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size < 64 ? size : 64);
	char ip[65], mac[18], *text;
	size_t iplen = nl != NULL ? (size_t)(nl - data) : 0, n;

	memcpy(ip, data, iplen);
	ip[iplen] = '\0';
	n = size - (nl != NULL ? iplen + 1 : 0);
	/* An exact-size copy: a read past the end is a heap overflow. */
	if ((text = malloc(n ? n : 1)) == NULL)
		abort();
	memcpy(text, data + (size - n), n);
	if (leases_parse(text, n, ip, mac) == 0)
		check_mac(mac);
	if (leases_parse(text, n, "10.0.0.11", mac) == 0)
		check_mac(mac);
	free(text);
	return 0;
}
