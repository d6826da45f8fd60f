/* libFuzzer harness: a name found in a snapshot directory or `zfs list` through snapshot_parse_name, and back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "snapshot.h"
#include "snapshot_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct share sh = { .snap_kind = SNAP_BTRFS };
	char *name, back[SNAP_NAME_MAX];
	int64_t t;

	/* An exact-size copy (directory entries hold no NUL): a read past the end is a heap overflow. */
	if ((name = malloc(size + 1)) == NULL)
		abort();
	memcpy(name, data, size);
	name[size] = '\0';
	if (snapshot_parse_name(name, &t) == 0) {
		/* A name that parses is the one sharewarden would give that time, in either backend's form. */
		if (name[0] != '@')
			sh.snap_kind = SNAP_ZFS;
		snapshot_name(&sh, t, back, sizeof back);
		if (strcmp(back, name) != 0 || t % 1000 != 0 || !snap_name_valid(name, sh.snap_kind == SNAP_ZFS))
			abort();
	} else if (snap_name_valid(name, 0) || snap_name_valid(name, 1))
		abort();
	free(name);
	return 0;
}
