/* Writes an fuzz_snmp input from an snmpsim record file: the agent's answers to every table netport reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netport.h"

#include "../unit/snmprec.h"

int
main(int argc, char **argv)
{
	struct bytes b[NPT_COUNT], out = { 0 };
	unsigned m[6], a[4], flags;
	struct rec *recs;
	size_t n;

	if (argc != 6 || sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6 ||
	    sscanf(argv[3], "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]) != 4 ||
	    (flags = (unsigned)strtoul(argv[4], NULL, 0)) > 255) {
		fprintf(stderr, "usage: sw-snmp-replies FILE.snmprec MAC IP FLAGS PER > INPUT\n");
		return 2;
	}
	if ((recs = snmprec_load(argv[1], &n)) == NULL) {
		perror(argv[1]);
		return 1;
	}
	replies_tables(recs, n, (size_t)atoi(argv[5]), b);
	for (int i = 0; i < 6; i++)
		bytes_byte(&out, m[i]);
	for (int i = 0; i < 4; i++)
		bytes_byte(&out, a[i]);
	bytes_byte(&out, flags);
	for (int i = 0; i < NPT_COUNT; i++) {
		bytes_byte(&out, (unsigned)(b[i].n & 0xff));
		bytes_byte(&out, (unsigned)(b[i].n >> 8));
		bytes_add(&out, b[i].p, b[i].n);
		free(b[i].p);
	}
	fwrite(out.p, 1, out.n, stdout);
	free(out.p);
	free(recs);
	return 0;
}
