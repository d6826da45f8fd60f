/* Surgical restore: the files an incident's actor damaged, back from the newest clean snapshot, verified. */
#ifndef SW_RESTORE_H
#define SW_RESTORE_H

#include <stdint.h>
#include <stdio.h>

struct config;
struct journal;

struct restore_opts {
	int dry_run;		/* print the plan, change nothing */
	int force;		/* restore although the actor is not contained yet */
	int progress;		/* progress lines on stderr while applying (a terminal, long restores) */
};

/* What restore_run returns (the CLI's exit codes). */
#define RESTORE_EXIT_OK		0	/* every damaged file is back and verified (or the plan was printed) */
#define RESTORE_EXIT_FAILED	1	/* something failed or is left; the report says what; rerun resumes */
#define RESTORE_EXIT_REFUSED	2	/* nothing was changed: not contained, no clean snapshot, no incident */

/*
 * Restores incident id (the `restore ID [--dry-run] [--force]` command).
 *
 * Plan: every path the incident's actor created, wrote, renamed or deleted
 * from first_event_at - [restore] look back on, renames followed back to
 * the name the file had before; for each original, the newest snapshot of
 * its share taken before that moment. Files the actor created are its
 * ransom notes and encrypted copies: removed, unless someone else changed
 * them since or their original cannot be restored. Canaries are left to the
 * re-seed.
 *
 * Apply: the plan is journaled first and resumed when it exists; each file
 * is cloned (FICLONE) or copied to a temporary name beside its target with
 * owner, mode, xattrs (user.DOSATTRIB, security.NTACL, POSIX ACLs) and
 * times, verified by SHA-256 against the snapshot, then renamed into place;
 * a file someone else changed after the attack began is kept and the clean
 * copy is put beside it (a conflict). Removals come after every restore
 * succeeded. Then canaries are re-seeded and the incident becomes restored.
 *
 * The plan and the report go to out. Returns a RESTORE_EXIT_* code.
 */
int restore_run(const struct config *cfg, struct journal *j, int64_t id,
    const struct restore_opts *o, FILE *out);

#endif
