/* Canary files: decoys seeded where ransomware looks first; any change to one by an SMB client is an incident. */
#ifndef SW_CANARY_H
#define SW_CANARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/*
 * The registry (a text file beside the journal, "<journal dir>/canaries.list")
 * lists every canary sharewarden created, so restore plans skip them and the
 * daemon knows them in O(1).
 */
struct canary_set;

/* The registry path for a configuration (in the journal's directory), written to buf. */
const char *canary_registry_path(const struct config *cfg, char *buf, size_t bufsz);

/*
 * Creates the missing canaries of every share: in the share's top folder and
 * in each first-level folder, one name that sorts first and one that sorts
 * last, in formats worth encrypting (.docx, .xlsx, .pdf, .jpg: real, valid
 * files). Created with O_EXCL|O_NOFOLLOW, mode 0666, owned like their folder;
 * an existing file of that name that is not a known canary is left alone.
 * Canaries whose content changed are rewritten (re-seed after an incident).
 * Records them in the registry (atomic rewrite). Reports one line per action
 * to report (may be NULL). Returns the number of canaries in place, or -1.
 */
int canary_seed(const struct config *cfg, FILE *report);

/* Loads the registry; an empty set when there is none. */
struct canary_set *canary_set_load(const struct config *cfg);
void canary_set_free(struct canary_set *cs);
size_t canary_set_count(const struct canary_set *cs);
/* Whether path (any bytes) is a canary: O(1). */
int canary_is(const struct canary_set *cs, const char *path, size_t pathlen);
/* Lists canaries with their state (intact, changed, missing) to out. Returns how many are not intact. */
int canary_list(const struct config *cfg, FILE *out);
/* Removes every canary file and the registry (the admin turns canaries off). */
int canary_remove_all(const struct config *cfg, FILE *report);

#endif
