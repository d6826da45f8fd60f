/* libFuzzer harness: a message from the fleet's NATS stream (another server's JSON) through fleet_msg_parse. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A name fleet_msg_parse accepted: 1 to 63 letters, digits, '_' or '-'. */
static void
check_token(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fleet_msg m, back;
	char err[256], site[64], server[64], *text, *out;
	size_t len = 0;
	int64_t id;

	/* An exact-size copy: a read past the end is a heap overflow. */
	if ((text = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(text, data, size);
	if (fleet_msg_parse(text, size, &m, err, sizeof err) == 0) {
		check_token(m.site);
		check_token(m.server);
		if (fleet_origin_split(m.origin, site, server, &id) != 0 || id <= 0)
			abort();
		if (strcmp(m.type, FLEET_INCIDENT) != 0 && strcmp(m.type, FLEET_RELEASE) != 0)
			abort();
		if (strcmp(m.type, FLEET_INCIDENT) == 0 && (m.user[0] == '\0' || strcmp(site, m.site) != 0))
			abort();
		/* What was accepted renders, and reads back as the same message. */
		if ((out = fleet_msg_render(&m, &len)) == NULL)
			abort();
		if (fleet_msg_parse(out, len, &back, err, sizeof err) != 0 || strcmp(back.origin, m.origin) != 0 ||
		    strcmp(back.user, m.user) != 0 || back.detected_at != m.detected_at)
			abort();
		free(out);
	} else if (err[0] == '\0')
		abort();
	free(text);
	return 0;
}
