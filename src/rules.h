/* Name rules: ransom-note names, ransomware extensions and wildcard patterns (built-in and imported). */
#ifndef SW_RULES_H
#define SW_RULES_H

#include <stddef.h>
#include <stdio.h>

enum rule_hit {
	HIT_NONE,
	HIT_NOTE,		/* a ransom-note name */
	HIT_NOTE_WEAK,		/* a common name some families also use (readme.txt): weak evidence */
	HIT_EXT,		/* a ransomware extension */
	HIT_WILDCARD,		/* an imported wildcard pattern */
};

struct rules;

/* A rule set holding the built-in curated list. */
struct rules *rules_new(void);
/* A set without the built-in rules (the same guards): what an import adds, alone. */
struct rules *rules_new_empty(void);
void rules_free(struct rules *r);
/* A copy of r that shares nothing with it but the ordinary-name sample: the same set, without building it again. */
struct rules *rules_dup(const struct rules *r);

/*
 * Matches a file's base name (any bytes, case-insensitive for ASCII). Sets
 * *pattern (may be NULL) to the rule that matched, owned by r.
 */
enum rule_hit rules_match(const struct rules *r, const char *name, size_t n, const char **pattern);

struct rules_import_stats {
	size_t lines;
	size_t extensions;	/* "*.ext" */
	size_t notes;		/* literal names */
	size_t weak_notes;	/* literal names that ordinary files also use */
	size_t wildcards;	/* other patterns, kept */
	size_t refused;		/* too broad: "*", "*.*", "*.???", "*crypt*", short fragments */
	size_t duplicates;
};

/*
 * Reads a community FSRM pattern list (one pattern per line, '*' and '?'
 * wildcards), classifies each and adds the usable ones to r. Writes what it
 * refused and why to report when not NULL. Returns 0, or -1 when the file
 * cannot be read (errno set).
 */
int rules_import(struct rules *r, const char *path, struct rules_import_stats *st, FILE *report);

/*
 * Classifies one line of such a list the way rules_import() does and adds
 * the pattern when usable; counts it in *st (may be NULL). Returns 1 when a
 * rule was added.
 */
int rules_import_line(struct rules *r, const char *line, size_t n, struct rules_import_stats *st,
    FILE *report);

/*
 * FSRM wildcard match, ASCII case-insensitive: '*' any run, '?' one
 * character, anything else literal. O(m * n) at worst.
 */
int rules_glob(const char *pattern, size_t m, const char *name, size_t n);

/* The built-in sample of ordinary file names imported patterns are checked against. */
const char *const *rules_ordinary_names(size_t *n);

/*
 * Saves / loads the imported (non built-in) rules in sharewarden's own list
 * format: one "kind<TAB>pattern" line each. Returns 0 or -1 (errno set).
 */
/*
 * Whether an extension (without the dot; any bytes) belongs to ordinary files:
 * the guard list, one-character and all-digit extensions. Renames to such an
 * extension are not suspicious.
 */
int rules_ordinary_ext(const struct rules *r, const char *ext, size_t n);

int rules_save(const struct rules *r, const char *path);
int rules_load(struct rules *r, const char *path);

#endif
