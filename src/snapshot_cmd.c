/* Snapshots by commands of the administrator's choosing: each one a folder <snapshot dir>/@GMT-... */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "respond.h"
#include "snapshot.h"
#include "snapshot_impl.h"
#include "util.h"

#define CMD_MAX_ARGS	64

/* An argv built from a template: words and their storage. */
struct cmd_argv {
	char *argv[CMD_MAX_ARGS + 1];
	size_t argc;
};

static void
cmd_argv_free(struct cmd_argv *a)
{
	for (size_t i = 0; i < a->argc; i++)
		free(a->argv[i]);
	a->argc = 0;
}

/* Appends s to the growing word *w. */
static void
word_add(char **w, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*w = xrealloc(*w, *cap);
	}
	memcpy(*w + *len, s, n);
	*len += n;
	(*w)[*len] = '\0';
}

/*
 * Splits a template on blanks (double quotes group words, no other quoting:
 * it never reaches a shell) and substitutes %P, %N, %D and %%.
 */
static int
cmd_expand(const char *what, const char *tmpl, const struct share *sh, const char *name, struct cmd_argv *a,
    char *err, size_t errlen)
{
	char dpath[PATH_MAX];
	const char *p = tmpl;

	a->argc = 0;
	if (snap_path_join(dpath, sizeof dpath, sh->snap_dir, name, NULL) == -1) {
		snprintf(err, errlen, "share %s: snapshot path too long", sh->name);
		return -1;
	}
	for (;;) {
		char *w = NULL;
		size_t len = 0, cap = 0;
		int quoted = 0, inword = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (; *p != '\0'; p++) {
			const char *sub = NULL;

			if (*p == '"') {
				quoted = !quoted;
				inword = 1;
				continue;
			}
			if (!quoted && (*p == ' ' || *p == '\t'))
				break;
			inword = 1;
			if (*p != '%') {
				word_add(&w, &len, &cap, p, 1);
				continue;
			}
			switch (p[1]) {
			case 'P': sub = sh->path; break;
			case 'N': sub = name; break;
			case 'D': sub = dpath; break;
			case '%': sub = "%"; break;
			default:
				snprintf(err, errlen, "share %s: %s: unknown %%%c (use %%P, %%N, %%D or %%%%)",
				    sh->name, what, p[1] ? p[1] : ' ');
				free(w);
				cmd_argv_free(a);
				return -1;
			}
			word_add(&w, &len, &cap, sub, strlen(sub));
			p++;
		}
		if (quoted) {
			snprintf(err, errlen, "share %s: %s: unbalanced double quote", sh->name, what);
			free(w);
			cmd_argv_free(a);
			return -1;
		}
		if (a->argc == CMD_MAX_ARGS) {
			snprintf(err, errlen, "share %s: %s: more than %d words", sh->name, what, CMD_MAX_ARGS);
			free(w);
			cmd_argv_free(a);
			return -1;
		}
		if (inword && w == NULL)
			w = xstrdup("");	/* "" is an empty argument */
		a->argv[a->argc++] = w;
	}
	a->argv[a->argc] = NULL;
	if (a->argc == 0 || a->argv[0][0] != '/') {
		snprintf(err, errlen, "share %s: %s must start with an absolute program path", sh->name, what);
		cmd_argv_free(a);
		return -1;
	}
	return 0;
}

static int
cmd_run(const char *what, const char *tmpl, const struct share *sh, const char *name, char *err, size_t errlen)
{
	struct cmd_argv a;
	struct run_result r;
	int rc;

	if (cmd_expand(what, tmpl, sh, name, &a, err, errlen) == -1)
		return -1;
	memset(&r, 0, sizeof r);
	rc = run_argv((const char *const *)a.argv, &r, SNAP_CMD_TIMEOUT_MS);
	if (rc == -1 || r.status != 0) {
		char why[512];

		respond_tool_error(a.argv[0], &r, why, sizeof why);
		snprintf(err, errlen, "%s of share %s failed: %s", what, sh->name, why);
		rc = -1;
	}
	run_result_free(&r);
	cmd_argv_free(&a);
	return rc;
}

static int
cmd_create(const struct share *sh, const char *name, char *err, size_t errlen)
{
	if (!snap_name_valid(name, 0)) {
		snprintf(err, errlen, "invalid snapshot name (expected @GMT-YYYY.MM.DD-HH.MM.SS)");
		return -1;
	}
	if (sh->snap_dir == NULL || sh->snap_dir[0] != '/') {
		snprintf(err, errlen, "share %s: the command backend needs an absolute snapshot dir", sh->name);
		return -1;
	}
	if (sh->snap_create == NULL || sh->snap_create[0] == '\0') {
		snprintf(err, errlen, "share %s: no create command configured: set create command in [snapshots]",
		    sh->name);
		return -1;
	}
	if (snap_mkdirs(sh->snap_dir, err, errlen) == -1)
		return -1;
	return cmd_run("create command", sh->snap_create, sh, name, err, errlen);
}

static int
cmd_list(const struct share *sh, struct snap_info **out, size_t *n, char *err, size_t errlen)
{
	struct snap_info *list = NULL;
	size_t cap = 0, cnt = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	if (sh->snap_dir == NULL || sh->snap_dir[0] != '/') {
		snprintf(err, errlen, "share %s: the command backend needs an absolute snapshot dir", sh->name);
		return -1;
	}
	if ((d = opendir(sh->snap_dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read snapshot dir %s: %s", sh->snap_dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		int64_t t;

		if (!snap_name_valid(de->d_name, 0) || snapshot_parse_name(de->d_name, &t) == -1)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == -1 || !S_ISDIR(st.st_mode))
			continue;
		snap_list_add(&list, &cnt, &cap, de->d_name, t, 0);
	}
	closedir(d);
	snap_sort(list, cnt);
	*out = list;
	*n = cnt;
	return 0;
}

static int
cmd_remove(const struct share *sh, const char *name, char *err, size_t errlen)
{
	if (!snap_name_valid(name, 0)) {
		snprintf(err, errlen, "refusing to remove a snapshot whose name is not @GMT-YYYY.MM.DD-HH.MM.SS");
		return -1;
	}
	if (sh->snap_delete == NULL || sh->snap_delete[0] == '\0') {
		snprintf(err, errlen, "no delete command configured: set delete command in [snapshots] to "
		    "remove snapshots of share %s", sh->name);
		return -1;
	}
	return cmd_run("delete command", sh->snap_delete, sh, name, err, errlen);
}

static int
cmd_root(const struct share *sh, const char *name, char *buf, size_t bufsz, char *err, size_t errlen)
{
	if (!snap_name_valid(name, 0)) {
		snprintf(err, errlen, "invalid snapshot name (expected @GMT-YYYY.MM.DD-HH.MM.SS)");
		return -1;
	}
	if (sh->snap_dir == NULL || sh->snap_dir[0] != '/' ||
	    snap_path_join(buf, bufsz, sh->snap_dir, name, NULL) == -1) {
		snprintf(err, errlen, "share %s: the command backend needs an absolute snapshot dir", sh->name);
		return -1;
	}
	return 0;
}

const struct snap_backend snap_command = {
	.name = "command",
	.create = cmd_create,
	.list = cmd_list,
	.remove = cmd_remove,
	.root = cmd_root,
};
