/* libFuzzer harness: incident JSON (attacker-chosen names and paths inside) through the ticket, subject and webhook rendering. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "notify.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Valid UTF-8 without a control, C1, bidi or line-separator code point: newlines only where allowed. */
static void
check_text(const char *s, int newlines)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, l;
	uint32_t cp;

	while (i < n) {
		if ((l = utf8_char_len(u + i, n - i, &cp)) == 0)
			abort();
		if ((cp < 0x20 && !(newlines && cp == '\n')) || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		    cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			abort();
		i += l;
	}
}

/* Input: a byte choosing the stage and the webhook format, then the incident's JSON. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const stages[] = { NOTIFY_DETECTED, NOTIFY_CONTAINED, NOTIFY_RESTORED };
	static const char *const formats[] = { "json", "slack", "teams" };
	static struct config cfg;
	char *ticket, *subject, *webhook;
	json_t *inc, *hook;

	if (size < 1 || (inc = json_loadb((const char *)data + 1, size - 1, 0, NULL)) == NULL)
		return 0;
	cfg.notify.webhook_format = (char *)formats[data[0] / 3 % 3];
	if (notify_render(&cfg, inc, stages[data[0] % 3], &ticket, &subject, &webhook) != 0)
		abort();
	check_text(ticket, 1);
	check_text(subject, 0);
	/* The body is JSON whose text is the ticket, whatever the names held. */
	if ((hook = json_loads(webhook, 0, NULL)) == NULL ||
	    strcmp(json_string_value(json_object_get(hook, "text")), ticket) != 0)
		abort();
	json_decref(hook);
	json_decref(inc);
	free(ticket);
	free(subject);
	free(webhook);
	return 0;
}
