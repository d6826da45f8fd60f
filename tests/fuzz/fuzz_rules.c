/* libFuzzer harness: each input line through the community-list classifier, then as a name through rules_match. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An exact-size copy: a read past the end is a heap overflow. */
static char *
copy(const char *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	if (c == NULL)
		abort();
	memcpy(c, p, n);
	return c;
}

static void
check_match(const struct rules *r, const char *p, size_t n)
{
	const char *pat = "unset";
	char *c = copy(p, n);
	enum rule_hit h = rules_match(r, c, n, &pat);

	if ((h == HIT_NONE) != (pat == NULL))
		abort();
	free(c);
}

/* Length of the line starting at off (without its newline). */
static size_t
line_len(const uint8_t *data, size_t size, size_t off)
{
	const uint8_t *nl = memchr(data + off, '\n', size - off);

	return nl ? (size_t)(nl - (data + off)) : size - off;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	static struct rules *r;
	struct rules_import_stats st;
	const char *const *names;
	size_t n, i, off, len, lines = 0, added = 0;
	enum rule_hit h;
	char *c;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	/*
	 * A fresh set costs milliseconds under ASan: the one built-in set is kept
	 * while the inputs add nothing to it (a line that adds no rule leaves the
	 * set as it was), and built again after one that did.
	 */
	if (r == NULL)
		r = rules_new();
	memset(&st, 0, sizeof st);
	for (off = 0;; off += len + 1) {
		len = line_len(data, size, off);
		c = copy((const char *)data + off, len);
		added += (size_t)rules_import_line(r, c, len, &st, devnull);
		free(c);
		lines++;
		if (off + len >= size)
			break;
	}
	if (st.lines != lines || st.extensions + st.notes + st.weak_notes + st.wildcards != added ||
	    added + st.refused + st.duplicates > lines)
		abort();

	/* The first line as a pattern, the rest as a name, straight to the matcher. */
	len = line_len(data, size, 0);
	if (len < size && len <= 1024 && size - len - 1 <= 4096) {
		char *pc = copy((const char *)data, len), *nc = copy((const char *)data + len + 1, size - len - 1);

		rules_glob(pc, len, nc, size - len - 1);
		free(pc);
		free(nc);
	}

	/* Every line, and the whole input, as a file name. */
	for (off = 0;; off += len + 1) {
		len = line_len(data, size, off);
		check_match(r, (const char *)data + off, len);
		if (off + len >= size)
			break;
	}
	check_match(r, (const char *)data, size);

	/* Whatever the classifier let in must leave ordinary names alone. */
	names = rules_ordinary_names(&n);
	for (i = 0; added > 0 && i < n; i++) {
		h = rules_match(r, names[i], strlen(names[i]), NULL);
		if (h != HIT_NONE && h != HIT_NOTE_WEAK)
			abort();
	}
	if (added > 0) {
		rules_free(r);
		r = NULL;
	}
	return 0;
}
