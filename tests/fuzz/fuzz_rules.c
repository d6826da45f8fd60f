/* libFuzzer harness: one input as a community pattern list through the classifier, then the ordinary names through what it let in. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the line starting at off (without its newline). */
static size_t
line_len(const uint8_t *data, size_t size, size_t off)
{
	const uint8_t *nl = memchr(data + off, '\n', size - off);

	return nl ? (size_t)(nl - (data + off)) : size - off;
}

/*
 * Names through the matcher are fuzz_rules_match's part; this one is about
 * what an import takes. The import goes into a set without the built-in
 * rules (the same guards: they do not depend on what the set holds), so the
 * ordinary names are matched against what this input added alone, and the
 * set costs two allocations instead of a copy of the built-in one.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct rules_import_stats st;
	const char *const *names;
	struct rules *r;
	size_t n, i, off, len, lines = 0, added = 0;
	enum rule_hit h;
	char *c;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	r = rules_new_empty();
	memset(&st, 0, sizeof st);
	for (off = 0;; off += len + 1) {
		len = line_len(data, size, off);
		/* An exact-size copy: a read past the line's end is a heap overflow. */
		if ((c = malloc(len ? len : 1)) == NULL)
			abort();
		memcpy(c, data + off, len);
		added += (size_t)rules_import_line(r, c, len, &st, devnull);
		free(c);
		lines++;
		if (off + len >= size)
			break;
	}
	if (st.lines != lines || st.extensions + st.notes + st.weak_notes + st.wildcards != added ||
	    added + st.refused + st.duplicates > lines)
		abort();
	/* Whatever the classifier let in must leave ordinary names alone. */
	if (added > 0) {
		names = rules_ordinary_names(&n);
		for (i = 0; i < n; i++) {
			h = rules_match(r, names[i], strlen(names[i]), NULL);
			if (h != HIT_NONE && h != HIT_NOTE_WEAK)
				abort();
		}
	}
	rules_free(r);
	return 0;
}
