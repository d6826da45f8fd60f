/*
 * libFuzzer harness: what reaches `sharewarden receive` (the forced command's SSH_ORIGINAL_COMMAND, chosen by
 * whoever holds the sender's key) through repl_req_parse; a request it accepts names only tokens and snapshot
 * names that are safe as path components, and the share token decodes from what repl_share_token makes.
 * The same bytes also go through the target and rate parsers of [replication].
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replicate.h"
#include "snapshot.h"
#include "snapshot_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A path component that stays in its folder: no '/', not "." or "..", no leading '.', no control byte. */
static int
safe_component(const char *s)
{
	if (s[0] == '\0' || s[0] == '.' || strchr(s, '/') != NULL)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x21 || *p > 0x7e)
			return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct repl_req r;
	struct repl_target t;
	char err[256], *s;
	int64_t bps;

	/* An exact-size copy: a read past the end is a heap overflow. */
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (repl_req_parse(s, size, &r, err, sizeof err) == 0) {
		int zfs = strcmp(r.kind, "zfs") == 0;

		if (!zfs && strcmp(r.kind, "btrfs") != 0)
			abort();
		if (r.verb != REPL_LIST && r.verb != REPL_RECEIVE && r.verb != REPL_SEND)
			abort();
		if (!safe_component(r.share) || strchr(r.share, ' ') != NULL)
			abort();
		if (r.verb != REPL_LIST && (!safe_component(r.name[0] == '@' ? r.name + 1 : r.name) ||
		    !snap_name_valid(r.name, zfs)))
			abort();
		if (r.parent[0] != '\0' && (!snap_name_valid(r.parent, zfs) || strcmp(r.parent, r.name) == 0))
			abort();
		if (r.verb != REPL_RECEIVE && r.parent[0] != '\0')
			abort();
	} else if (err[0] == '\0')
		abort();	/* a refusal always says why */
	if (repl_target_parse(s, &t, err, sizeof err) == 0) {
		if (t.host[0] == '\0' || t.host[0] == '-' || t.user[0] == '-' || t.port < 1 || t.port > 65535 ||
		    strpbrk(t.host, " \t\n;|&$`'\"\\") != NULL)
			abort();
	}
	if (repl_rate_parse(s, &bps) == 0 && bps < 0)
		abort();
	free(s);
	return 0;
}
