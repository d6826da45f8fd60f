/* libFuzzer harness: smbstatus --json output (client-chosen names) through the session parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smb_session *s;
	size_t n;

	if (smbstatus_parse_json((const char *)data, size, &s, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if (s[i].pid <= 0 || strnlen(s[i].user, sizeof s[i].user) == sizeof s[i].user ||
			    strnlen(s[i].ip, sizeof s[i].ip) == sizeof s[i].ip)
				abort();
		free(s);
	}
	return 0;
}
