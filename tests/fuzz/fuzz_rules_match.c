/* libFuzzer harness: client-chosen file names through rules_match, against the built-in rules and the community list. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"

#define DEFAULT_LIST "/work/shared/data/community-patterns.txt"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Imported on top of the list, or alone where the list is not there: one
 * rule of each kind the matcher files differently.
 */
static const char *const sample[] = {
	"*.lockbit3", "*.aes.JANELLE", "*.id-*.[*@*].zzzx", "HOW_TO_BACK_FILES_NOW.html",
	"*_RESTORE_MY_FILES_*.txt", "Ab?cD?eF?gH*", "*.[*].God*",
};

/* Built once: rules_match never changes the set, so every input meets the same one. */
static struct rules *r;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *list = getenv("SW_COMMUNITY_LIST");
	struct rules_import_stats st;
	FILE *devnull;
	size_t i;

	(void)argc;
	(void)argv;
	if (list == NULL || *list == '\0')
		list = DEFAULT_LIST;
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	r = rules_new();
	if (access(list, R_OK) == 0) {
		if (rules_import(r, list, &st, devnull) != 0)
			abort();
		fprintf(stderr, "fuzz_rules_match: %s: %zu extensions, %zu notes, %zu weak notes, %zu wildcards\n",
		    list, st.extensions, st.notes, st.weak_notes, st.wildcards);
	} else
		fprintf(stderr, "fuzz_rules_match: %s not readable (set SW_COMMUNITY_LIST): built-in rules only\n",
		    list);
	for (i = 0; i < sizeof sample / sizeof sample[0]; i++)
		rules_import_line(r, sample[i], strlen(sample[i]), NULL, devnull);
	fclose(devnull);
	return 0;
}

static int
eq_ascii_ci(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return 0;
	return 1;
}

/*
 * What rules_match says must be what the pattern it names says of the name,
 * and the same for the name with its ASCII letters' case turned over.
 */
static void
check_match(const uint8_t *p, size_t n)
{
	const char *pat = "unset", *pat2 = "unset";
	char *c = malloc(n ? n : 1);
	enum rule_hit h, h2;
	size_t i, m;

	/* An exact-size copy: a read past the name's end is a heap overflow. */
	if (c == NULL)
		abort();
	memcpy(c, p, n);
	h = rules_match(r, c, n, &pat);
	if ((h == HIT_NONE) != (pat == NULL))
		abort();
	if (pat != NULL) {
		m = strlen(pat);
		switch (h) {
		case HIT_NOTE:
		case HIT_NOTE_WEAK:
			if (m != n || !eq_ascii_ci(pat, c, n))
				abort();
			break;
		case HIT_EXT:
			/* "*.ext": the name ends in ".ext" after a non-empty stem. */
			if (m < 3 || memcmp(pat, "*.", 2) != 0 || n < m ||
			    !eq_ascii_ci(pat + 1, c + n - (m - 1), m - 1))
				abort();
			break;
		case HIT_WILDCARD:
			if (!rules_glob(pat, m, c, n))
				abort();
			break;
		default:
			abort();
		}
	}
	for (i = 0; i < n; i++)
		if (isalpha((unsigned char)c[i]) && (unsigned char)c[i] < 0x80)
			c[i] ^= 0x20;
	h2 = rules_match(r, c, n, &pat2);
	if (h2 != h || pat2 != pat)
		abort();
	/* The extension as a rename's target is looked up too; any bytes. */
	for (i = n; i > 0 && c[i - 1] != '.'; i--)
		;
	if (i > 0 && rules_ordinary_ext(r, c + i, n - i) > 1)
		abort();
	free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t len = nl ? (size_t)(nl - data) : size;

	check_match(data, size);
	if (nl == NULL)
		return 0;
	/* First line and the rest as two names; then as a pattern and a name, straight to the glob. */
	check_match(data, len);
	check_match(nl + 1, size - len - 1);
	if (len <= 1024 && size - len - 1 <= 4096) {
		char *pc = malloc(len ? len : 1), *nc = malloc(size - len - 1 ? size - len - 1 : 1);

		if (pc == NULL || nc == NULL)
			abort();
		memcpy(pc, data, len);
		memcpy(nc, nl + 1, size - len - 1);
		if ((unsigned)rules_glob(pc, len, nc, size - len - 1) > 1)
			abort();
		free(pc);
		free(nc);
	}
	return 0;
}
