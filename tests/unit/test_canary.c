/* Unit tests of canary files: placement, real file formats, the registry, re-seeding after damage, removal. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "canary.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define PYTHON		"/usr/bin/python3"
#define FILE_CMD	"/usr/bin/file"
#define SHA256SUM	"/usr/bin/sha256sum"
#define OWNER_UID	4242
#define OWNER_GID	4243
#define MAX_CANARIES	64

/* A first-level folder whose name holds TAB, newline, backslash and a byte that is not UTF-8. */
#define WEIRD		"We\tird\nname\\x\xff"

static char tmpdir[] = "/tmp/test_canary.XXXXXX";
static char share_dir[256], journal[256], regpath[1024], outside[256], user_file[1024];
static struct share share;
static struct config cfg;
/* Folders that get canaries, and the expected count (one name in HR is taken by a user's file). */
static const char *const seeded[] = { "", "Finance", "HR", "Projects", WEIRD };
#define EXPECTED	(2 * (int)nitems(seeded) - 1)

struct reg_line {
	char share[64];
	char hash[65];
	char path[1024];
	size_t pathlen;
};

static struct reg_line reg[MAX_CANARIES];
static size_t nreg;

static char *
tpath(const char *fmt, const char *a)
{
	static char buf[8][1024];
	static int k;
	char *p = buf[k++ % 8];

	snprintf(p, sizeof buf[0], fmt, a);
	return p;
}

static void
write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static char *
read_all(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = xmalloc((size_t)st.st_size + 1);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* An independent reading of the registry format (escapes \t \n \\). */
static size_t
unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			out[o++] = s[i] == 't' ? '\t' : s[i] == 'n' ? '\n' : s[i];
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return o;
}

static size_t
load_registry(void)
{
	size_t len;
	char *text = read_all(regpath, &len), *line = text, *nl;

	nreg = 0;
	while ((nl = strchr(line, '\n')) != NULL) {
		char *t1 = memchr(line, '\t', (size_t)(nl - line)), *t2;

		assert_non_null(t1);
		t2 = memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1));
		assert_non_null(t2);
		assert_true(nreg < MAX_CANARIES);
		assert_int_equal(t2 - t1 - 1, 64);
		unescape(line, (size_t)(t1 - line), reg[nreg].share);
		memcpy(reg[nreg].hash, t1 + 1, 64);
		reg[nreg].hash[64] = '\0';
		reg[nreg].pathlen = unescape(t2 + 1, (size_t)(nl - t2 - 1), reg[nreg].path);
		nreg++;
		line = nl + 1;
	}
	assert_string_equal(line, "");
	free(text);
	return nreg;
}

static const struct reg_line *
reg_find(const char *path)
{
	for (size_t i = 0; i < nreg; i++)
		if (strcmp(reg[i].path, path) == 0)
			return &reg[i];
	return NULL;
}

/* The registered canary of a folder ("" = top) whose name starts with prefix. */
static const char *
canary_of(const char *folder, const char *prefix)
{
	static char dir[1024];

	snprintf(dir, sizeof dir, "%s%s%s/", share_dir, *folder ? "/" : "", folder);
	for (size_t i = 0; i < nreg; i++) {
		const char *p = reg[i].path;

		if (strncmp(p, dir, strlen(dir)) == 0 && strchr(p + strlen(dir), '/') == NULL &&
		    strncmp(p + strlen(dir), prefix, strlen(prefix)) == 0)
			return p;
	}
	return NULL;
}

static int
have(const char *prog)
{
	return access(prog, X_OK) == 0;
}

static void
sha256_of(const char *path, char out[65])
{
	const char *argv[] = { SHA256SUM, "--", path, NULL };
	struct run_result r;
	const char *p;

	assert_int_equal(run_argv(argv, &r, 10000), 0);
	/* sha256sum marks a line whose name it had to escape with a leading backslash. */
	p = r.out[0] == '\\' ? r.out + 1 : r.out;
	assert_true(strlen(p) >= 64);
	memcpy(out, p, 64);
	out[64] = '\0';
	run_result_free(&r);
}

/* Runs seed (or list, remove) into a string. */
static int
run_report(int (*fn)(const struct config *, FILE *), const struct config *c, char **text)
{
	size_t len;
	FILE *fp = open_memstream(text, &len);
	int rc;

	assert_non_null(fp);
	rc = fn(c, fp);
	fclose(fp);
	return rc;
}

/* Whether text holds the line "<verb> <escaped path><what>". */
static int
has_line(const char *text, const char *verb, const char *path, const char *what)
{
	char *want;
	size_t len;
	FILE *fp = open_memstream(&want, &len);
	int found = 0;

	fprintf(fp, "%s ", verb);
	fput_escaped(fp, path, strlen(path));
	fprintf(fp, "%s\n", what);
	fclose(fp);
	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, want, len) == 0)
			found = 1;
	free(want);
	return found;
}

static size_t
count_lines(const char *text, const char *prefix)
{
	size_t n = 0;

	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

static int
is_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), e = strlen(ext);

	return n > e && strcmp(path + n - e, ext) == 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of a folder in byte order; returns how many. */
static size_t
folder_names(const char *dir, char *names[], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		assert_true(n < max);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);
	return n;
}

static void
assert_canary_file(const char *path, const char *hash, const char *dir)
{
	struct stat st, dst;
	char got[65];

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0666);
	assert_true(st.st_size >= 20 * 1024 && st.st_size <= 80 * 1024);
	assert_int_equal(stat(dir, &dst), 0);
	assert_int_equal(st.st_uid, dst.st_uid);
	assert_int_equal(st.st_gid, dst.st_gid);
	sha256_of(path, got);
	assert_string_equal(got, hash);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
rm_tree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
test_seed(void **state)
{
	char *rep, *names[32];
	struct stat st;
	size_t len, n;
	char *text;

	assert_int_equal(run_report(canary_seed, &cfg, &rep), EXPECTED);
	assert_int_equal(count_lines(rep, "created "), EXPECTED);
	assert_true(has_line(rep, "skipped", user_file, ": a file of that name exists"));
	assert_int_equal(count_lines(rep, "skipped "), 1);
	free(rep);

	/* The registry: private, in a directory made 0750, one line per canary. */
	assert_int_equal(stat(regpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(tpath("%s/state/sub", tmpdir), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(load_registry(), EXPECTED);
	for (size_t i = 0; i < nreg; i++) {
		assert_string_equal(reg[i].share, "data");
		assert_int_equal(strncmp(reg[i].path, share_dir, strlen(share_dir)), 0);
		assert_null(strstr(reg[i].path, "/.hidden/"));
		assert_null(strstr(reg[i].path, "/link/"));
		assert_null(strstr(reg[i].path, "/Deeper/"));
		assert_true(is_ext(reg[i].path, ".docx") || is_ext(reg[i].path, ".xlsx") ||
		    is_ext(reg[i].path, ".pdf") || is_ext(reg[i].path, ".jpg"));
	}
	/* The raw TAB and newline of the folder name are escaped in the file. */
	text = read_all(regpath, &len);
	assert_non_null(strstr(text, "/We\\tird\\nname\\\\x\xff/"));
	assert_int_equal(count_lines(text, "data\t"), EXPECTED);
	free(text);

	for (size_t f = 0; f < nitems(seeded); f++) {
		const char *first = canary_of(seeded[f], "!0000 "), *last = canary_of(seeded[f], "zzzz ");
		char dir[1024];

		snprintf(dir, sizeof dir, "%s%s%s", share_dir, *seeded[f] ? "/" : "", seeded[f]);
		assert_non_null(last);
		assert_canary_file(last, reg_find(last)->hash, dir);
		/* The two of a folder differ in format. */
		if (first != NULL) {
			assert_canary_file(first, reg_find(first)->hash, dir);
			assert_string_not_equal(strrchr(first, '.'), strrchr(last, '.'));
		}
		/* First and last in byte order among everything in the folder. */
		n = folder_names(dir, names, nitems(names));
		assert_true(n >= 2);
		assert_int_equal(strncmp(names[0], "!0000 ", 6), 0);
		assert_string_equal(strrchr(last, '/') + 1, names[n - 1]);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
	}
	/* HR's first name is the user's file: left alone, not registered. */
	assert_null(canary_of("HR", "!0000 "));
	assert_null(reg_find(user_file));
	text = read_all(user_file, &len);
	assert_string_equal(text, "the user's own notes\n");
	free(text);
	/* Owned like the folder: Projects belongs to another user. */
	if (geteuid() == 0) {
		assert_int_equal(stat(canary_of("Projects", "zzzz "), &st), 0);
		assert_int_equal(st.st_uid, OWNER_UID);
		assert_int_equal(st.st_gid, OWNER_GID);
	}
	/* Nothing in hidden folders, behind the symlink, or deeper than the first level. */
	n = folder_names(tpath("%s/.hidden", share_dir), names, nitems(names));
	assert_int_equal(n, 0);
	n = folder_names(outside, names, nitems(names));
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	n = folder_names(tpath("%s/Finance/Deeper", share_dir), names, nitems(names));
	assert_int_equal(n, 0);
}

static void
test_lookup(void **state)
{
	struct canary_set *cs = canary_set_load(&cfg);
	char buf[1100];

	assert_non_null(cs);
	assert_int_equal(canary_set_count(cs), EXPECTED);
	for (size_t i = 0; i < nreg; i++) {
		const char *p = reg[i].path;
		size_t n = reg[i].pathlen;

		assert_true(canary_is(cs, p, n));
		assert_false(canary_is(cs, p, n - 1));
		assert_false(canary_is(cs, p + 1, n - 1));
		snprintf(buf, sizeof buf, "%sx", p);
		assert_false(canary_is(cs, buf, n + 1));
		/* Not NUL-terminated: only the given bytes count. */
		memcpy(buf, p, n);
		buf[n] = 'x';
		assert_true(canary_is(cs, buf, n));
	}
	assert_false(canary_is(cs, user_file, strlen(user_file)));
	assert_false(canary_is(cs, share_dir, strlen(share_dir)));
	assert_false(canary_is(cs, "", 0));
	assert_false(canary_is(cs, tpath("%s/!0000", share_dir), strlen(share_dir) + 6));
	canary_set_free(cs);
	assert_false(canary_is(NULL, "/x", 2));
	assert_int_equal(canary_set_count(NULL), 0);
	canary_set_free(NULL);
}

/* Checks each file by its extension with zipfile, an xref walk, PIL, and file(1). */
static const char check_py[] =
    "import re, sys, zipfile, xml.etree.ElementTree as ET\n"
    "jpeg = sys.argv[1] == '1'\n"
    "if jpeg:\n"
    "    from PIL import Image\n"
    "for p in sys.argv[2:]:\n"
    "    d = open(p, 'rb').read()\n"
    "    if p.endswith(('.docx', '.xlsx')):\n"
    "        z = zipfile.ZipFile(p)\n"
    "        assert z.testzip() is None, p\n"
    "        names = z.namelist()\n"
    "        assert names[0] == '[Content_Types].xml' and '_rels/.rels' in names, p\n"
    "        want = ['word/document.xml'] if p.endswith('.docx') else "
    "['xl/workbook.xml', 'xl/_rels/workbook.xml.rels', 'xl/worksheets/sheet1.xml']\n"
    "        assert all(w in names for w in want), p\n"
    "        for n in names:\n"
    "            ET.fromstring(z.read(n))\n"
    "        assert len(z.read(want[-1])) > 15000, p\n"
    "    elif p.endswith('.pdf'):\n"
    "        assert d.startswith(b'%PDF-1.4\\n'), p\n"
    "        m = re.search(rb'startxref\\n(\\d+)\\n%%EOF\\n$', d)\n"
    "        sx = int(m.group(1))\n"
    "        rows = d[sx:].split(b'\\n')\n"
    "        assert rows[0] == b'xref', p\n"
    "        n = int(rows[1].split()[1])\n"
    "        assert rows[2] == b'0000000000 65535 f ', p\n"
    "        for i in range(1, n):\n"
    "            off = int(rows[2 + i][:10])\n"
    "            assert d[off:].startswith(b'%d 0 obj' % i), (p, i)\n"
    "        assert b'/Type /Catalog' in d and b' Tj' in d, p\n"
    "    elif p.endswith('.jpg'):\n"
    "        assert d[:3] == b'\\xff\\xd8\\xff' and d[-2:] == b'\\xff\\xd9', p\n"
    "        if jpeg:\n"
    "            Image.open(p).verify()\n"
    "            im = Image.open(p)\n"
    "            im.load()\n"
    "            assert im.format == 'JPEG' and im.size == (160, 120), p\n"
    "    else:\n"
    "        raise SystemExit('unexpected ' + p)\n"
    "print('checked', len(sys.argv) - 2)\n";

static void
check_formats(struct reg_line *lines, size_t n)
{
	const char *argv[MAX_CANARIES + 8];
	struct run_result r;
	size_t k = 0;
	int jpeg;

	if (!have(PYTHON)) {
		print_message("skipped: no %s\n", PYTHON);
		return;
	}
	{
		const char *probe[] = { PYTHON, "-c", "import PIL", NULL };

		jpeg = run_argv(probe, &r, 20000) == 0;
		run_result_free(&r);
		if (!jpeg)
			print_message("skipped: the JPEG check (no python3-pil)\n");
	}
	argv[k++] = PYTHON;
	argv[k++] = "-c";
	argv[k++] = check_py;
	argv[k++] = jpeg ? "1" : "0";
	for (size_t i = 0; i < n; i++)
		argv[k++] = lines[i].path;
	argv[k] = NULL;
	if (run_argv(argv, &r, 60000) != 0)
		fail_msg("format check: %s", r.err);
	run_result_free(&r);

	if (!have(FILE_CMD))
		return;
	for (size_t i = 0; i < n; i++) {
		const char *fargv[] = { FILE_CMD, "-b", "--", lines[i].path, NULL };
		const char *p = lines[i].path, *want;

		want = is_ext(p, ".docx") ? "Microsoft Word 2007+" : is_ext(p, ".xlsx") ?
		    "Microsoft Excel 2007+" : is_ext(p, ".pdf") ? "PDF document, version 1.4" : "JPEG image data";
		assert_int_equal(run_argv(fargv, &r, 10000), 0);
		if (strstr(r.out, want) == NULL)
			fail_msg("file(1) on %s: %s", p, r.out);
		run_result_free(&r);
	}
}

static void
test_formats(void **state)
{
	struct share many = { .name = "many" };
	struct config c2 = cfg;
	size_t counts[4] = { 0 }, n;
	struct reg_line saved[MAX_CANARIES];
	char *rep;

	check_formats(reg, nreg);

	/* Enough folders that every format shows up; same name, same bytes. */
	assert_int_equal(mkdir(tpath("%s/many", tmpdir), 0755), 0);
	for (int i = 0; i < 20; i++) {
		char d[1024];

		snprintf(d, sizeof d, "%s/many/Dept %02d", tmpdir, i);
		assert_int_equal(mkdir(d, 0755), 0);
	}
	many.path = xstrdup(tpath("%s/many", tmpdir));
	c2.shares = &many;
	c2.journal = xstrdup(tpath("%s/state2/journal.db", tmpdir));
	memcpy(saved, reg, sizeof reg);
	n = nreg;
	strcpy(regpath, tpath("%s/state2/canaries.list", tmpdir));
	assert_int_equal(run_report(canary_seed, &c2, &rep), 42);
	free(rep);
	assert_int_equal(load_registry(), 42);
	for (size_t i = 0; i < nreg; i++) {
		counts[0] += is_ext(reg[i].path, ".docx");
		counts[1] += is_ext(reg[i].path, ".xlsx");
		counts[2] += is_ext(reg[i].path, ".pdf");
		counts[3] += is_ext(reg[i].path, ".jpg");
		for (size_t j = 0; j < nreg; j++)
			if (strcmp(strrchr(reg[i].path, '/'), strrchr(reg[j].path, '/')) == 0)
				assert_string_equal(reg[i].hash, reg[j].hash);
	}
	for (int f = 0; f < 4; f++)
		assert_true(counts[f] > 0);
	check_formats(reg, nreg);
	assert_int_equal(run_report(canary_remove_all, &c2, &rep), 42);
	assert_int_equal(count_lines(rep, "removed "), 42);
	free(rep);
	assert_int_equal(access(regpath, F_OK), -1);

	memcpy(reg, saved, sizeof reg);
	nreg = n;
	strcpy(regpath, tpath("%s/state/sub/canaries.list", tmpdir));
	free(many.path);
	free((char *)c2.journal);
}

static void
test_idempotent(void **state)
{
	struct stat before[MAX_CANARIES], after, rb, ra;
	char *rep, *t1, *t2;
	size_t l1, l2;

	assert_int_equal(stat(regpath, &rb), 0);
	t1 = read_all(regpath, &l1);
	for (size_t i = 0; i < nreg; i++)
		assert_int_equal(stat(reg[i].path, &before[i]), 0);
	/* As the daemon calls it, without a report. */
	assert_int_equal(canary_seed(&cfg, NULL), EXPECTED);
	assert_int_equal(run_report(canary_seed, &cfg, &rep), EXPECTED);
	/* Nothing to do but say again that the user's file keeps its name. */
	assert_int_equal(count_lines(rep, ""), 1);
	assert_true(has_line(rep, "skipped", user_file, ": a file of that name exists"));
	free(rep);
	assert_int_equal(stat(regpath, &ra), 0);
	assert_int_equal(ra.st_ino, rb.st_ino);
	assert_int_equal(ra.st_mtim.tv_nsec, rb.st_mtim.tv_nsec);
	t2 = read_all(regpath, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(t1, t2, l1);
	free(t1);
	free(t2);
	for (size_t i = 0; i < nreg; i++) {
		assert_int_equal(stat(reg[i].path, &after), 0);
		assert_int_equal(after.st_ino, before[i].st_ino);
		assert_int_equal(after.st_mtim.tv_sec, before[i].st_mtim.tv_sec);
		assert_int_equal(after.st_mtim.tv_nsec, before[i].st_mtim.tv_nsec);
	}
}

static void
test_restore(void **state)
{
	const char *changed = canary_of("Finance", "!0000 "), *gone = canary_of(WEIRD, "zzzz ");
	char *rep;
	int fd;

	assert_non_null(changed);
	assert_non_null(gone);
	/* Encrypted in place (no truncation, as ransomware writes), and one deleted. */
	fd = open(changed, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\x8f\x13\xa7 ciphertext", 14, 0), 14);
	close(fd);
	assert_int_equal(unlink(gone), 0);

	assert_int_equal(canary_list(&cfg, NULL), 2);
	assert_int_equal(run_report(canary_list, &cfg, &rep), 2);
	assert_int_equal(count_lines(rep, "intact  "), EXPECTED - 2);
	assert_int_equal(count_lines(rep, "changed  "), 1);
	assert_int_equal(count_lines(rep, "missing  "), 1);
	assert_int_equal(strncmp(strstr(rep, "changed  "), tpath("changed  %s", changed), strlen(changed) + 9), 0);
	free(rep);

	assert_int_equal(run_report(canary_seed, &cfg, &rep), EXPECTED);
	assert_true(has_line(rep, "restored", changed, " (content changed)"));
	assert_true(has_line(rep, "restored", gone, " (was deleted)"));
	assert_int_equal(count_lines(rep, "restored "), 2);
	free(rep);
	assert_canary_file(changed, reg_find(changed)->hash, tpath("%s/Finance", share_dir));
	assert_canary_file(gone, reg_find(gone)->hash, tpath("%s/" WEIRD, share_dir));
	/* No temporary file left behind. */
	{
		char *names[32];
		size_t n = folder_names(tpath("%s/Finance", share_dir), names, nitems(names));

		assert_int_equal(n, 4);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
	}
	assert_int_equal(canary_list(&cfg, NULL), 0);
	assert_int_equal(run_report(canary_list, &cfg, &rep), 0);
	assert_int_equal(count_lines(rep, "intact  "), EXPECTED);
	free(rep);
}

static void
test_hostile(void **state)
{
	const char *linked = canary_of("", "!0000 "), *symlinked = canary_of("", "zzzz ");
	const char *secret = tpath("%s/secret.txt", outside), *secret2 = tpath("%s/secret2.txt", outside);
	char path_proj[1024], *rep, *text;
	struct stat st;
	size_t len;

	assert_non_null(linked);
	assert_non_null(symlinked);
	/* A hard link to another file in the canary's place: cut, never written through. */
	assert_int_equal(unlink(linked), 0);
	assert_int_equal(link(secret, linked), 0);
	/* A symlink in its place: not followed, not replaced. */
	assert_int_equal(unlink(symlinked), 0);
	assert_int_equal(symlink(secret2, symlinked), 0);
	assert_int_equal(run_report(canary_seed, &cfg, &rep), EXPECTED - 1);
	assert_true(has_line(rep, "restored", linked, " (content changed)"));
	assert_true(has_line(rep, "skipped", symlinked, ": not a regular file"));
	free(rep);
	text = read_all(secret, &len);
	assert_string_equal(text, "secret\n");
	free(text);
	text = read_all(secret2, &len);
	assert_string_equal(text, "secret two\n");
	free(text);
	assert_int_equal(stat(secret, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	assert_canary_file(linked, reg_find(linked)->hash, share_dir);
	assert_int_equal(lstat(symlinked, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	/* Still registered: a touch is still an incident; the listing says it changed. */
	assert_int_equal(load_registry(), EXPECTED);
	assert_int_equal(run_report(canary_list, &cfg, &rep), 1);
	assert_true(has_line(rep, "changed ", symlinked, ""));
	free(rep);
	assert_int_equal(unlink(symlinked), 0);
	assert_int_equal(run_report(canary_seed, &cfg, &rep), EXPECTED);
	assert_true(has_line(rep, "restored", symlinked, " (was deleted)"));
	free(rep);

	/* A folder swapped for a symlink: not seeded through, its canaries leave the registry. */
	snprintf(path_proj, sizeof path_proj, "%s/Projects", share_dir);
	assert_int_equal(rename(path_proj, tpath("%s/Projects.moved", tmpdir)), 0);
	assert_int_equal(symlink(outside, path_proj), 0);
	assert_int_equal(run_report(canary_seed, &cfg, &rep), EXPECTED - 2);
	assert_int_equal(count_lines(rep, "created "), 0);
	free(rep);
	assert_int_equal(load_registry(), EXPECTED - 2);
	assert_null(canary_of("Projects", "zzzz "));
	{
		char *names[8];
		size_t n = folder_names(outside, names, nitems(names));

		assert_int_equal(n, 2);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
	}
	/* Back again: the canaries that moved with it are recognized by their bytes. */
	assert_int_equal(unlink(path_proj), 0);
	assert_int_equal(rename(tpath("%s/Projects.moved", tmpdir), path_proj), 0);
	assert_int_equal(run_report(canary_seed, &cfg, &rep), EXPECTED);
	assert_int_equal(count_lines(rep, "adopted "), 2);
	assert_int_equal(count_lines(rep, "created "), 0);
	free(rep);
	assert_int_equal(load_registry(), EXPECTED);
}

static void
test_remove(void **state)
{
	const char *kept = canary_of("HR", "zzzz ");
	struct canary_set *cs;
	char *rep, *text, keep[1024];
	size_t len;
	int fd;

	assert_non_null(kept);
	snprintf(keep, sizeof keep, "%s", kept);
	fd = open(keep, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(run_report(canary_remove_all, &cfg, &rep), EXPECTED - 1);
	assert_int_equal(count_lines(rep, "removed "), EXPECTED - 1);
	assert_true(has_line(rep, "kept", keep, " (content changed)"));
	free(rep);
	for (size_t i = 0; i < nreg; i++)
		assert_int_equal(access(reg[i].path, F_OK), strcmp(reg[i].path, keep) == 0 ? 0 : -1);
	assert_int_equal(access(regpath, F_OK), -1);
	text = read_all(user_file, &len);
	assert_string_equal(text, "the user's own notes\n");
	free(text);
	cs = canary_set_load(&cfg);
	assert_non_null(cs);
	assert_int_equal(canary_set_count(cs), 0);
	canary_set_free(cs);
	assert_int_equal(run_report(canary_list, &cfg, &rep), 0);
	assert_string_equal(rep, "");
	free(rep);
	assert_int_equal(unlink(keep), 0);
}

static void
test_off(void **state)
{
	struct config c2 = cfg;
	char *rep;

	c2.canaries = 0;
	assert_int_equal(run_report(canary_seed, &c2, &rep), 0);
	assert_string_equal(rep, "");
	free(rep);
	assert_int_equal(access(regpath, F_OK), -1);
	assert_int_equal(access(canary_of("Finance", "zzzz "), F_OK), -1);
}

static void
test_registry_lines(void **state)
{
	char buf[64];
	struct canary_set *cs;
	struct config c2;
	const char *good = "/srv/a\tb\nc\\d";
	FILE *fp;

	memset(&c2, 0, sizeof c2);
	c2.journal = "journal.db";
	assert_string_equal(canary_registry_path(&c2, buf, sizeof buf), "canaries.list");
	c2.journal = "/journal.db";
	assert_string_equal(canary_registry_path(&c2, buf, sizeof buf), "/canaries.list");
	c2.journal = "/var/lib/sharewarden/journal.db";
	assert_string_equal(canary_registry_path(&c2, buf, sizeof buf), "/var/lib/sharewarden/canaries.list");
	assert_null(canary_registry_path(&c2, buf, 10));

	/* Malformed lines are skipped, the good one is read with its escapes undone. */
	c2.journal = tpath("%s/state3/journal.db", tmpdir);
	assert_int_equal(mkdir(tpath("%s/state3", tmpdir), 0700), 0);
	fp = fopen(tpath("%s/state3/canaries.list", tmpdir), "w");
	assert_non_null(fp);
	fputs("data\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\t/srv/a\\tb\\nc\\\\d\n", fp);
	fputs("\n", fp);
	fputs("data\t0123\t/srv/short-hash\n", fp);
	fputs("data\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\t/srv/bad\\q\n", fp);
	fputs("data\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\trelative\n", fp);
	fputs("no tabs at all\n", fp);
	fclose(fp);
	cs = canary_set_load(&c2);
	assert_non_null(cs);
	assert_int_equal(canary_set_count(cs), 1);
	assert_true(canary_is(cs, good, strlen(good)));
	assert_false(canary_is(cs, "/srv/short-hash", 15));
	canary_set_free(cs);

	/* Many entries: the set grows and still answers exactly. */
	fp = fopen(tpath("%s/state3/canaries.list", tmpdir), "w");
	assert_non_null(fp);
	for (int i = 0; i < 5000; i++)
		fprintf(fp, "s\t%064d\t/srv/share/folder %d/!0000 Index.docx\n", i, i);
	fclose(fp);
	cs = canary_set_load(&c2);
	assert_int_equal(canary_set_count(cs), 5000);
	for (int i = 0; i < 5000; i++) {
		char p[128];

		snprintf(p, sizeof p, "/srv/share/folder %d/!0000 Index.docx", i);
		assert_true(canary_is(cs, p, strlen(p)));
		snprintf(p, sizeof p, "/srv/share/folder %d/!0000 Index.doc", i);
		assert_false(canary_is(cs, p, strlen(p)));
	}
	canary_set_free(cs);
}

/* The names a share called "data" gets in a folder "HR", learned from a scratch tree. */
static void
learn_hr_name(char *name, size_t namesz)
{
	struct share s = { .name = "data" };
	struct config c;
	char *rep;

	memset(&c, 0, sizeof c);
	c.canaries = 1;
	s.path = xstrdup(tpath("%s/scratch", tmpdir));
	c.shares = &s;
	c.journal = xstrdup(tpath("%s/scratch-state/journal.db", tmpdir));
	assert_int_equal(mkdir(s.path, 0755), 0);
	assert_int_equal(mkdir(tpath("%s/scratch/HR", tmpdir), 0755), 0);
	assert_int_equal(run_report(canary_seed, &c, &rep), 4);
	free(rep);
	strcpy(regpath, tpath("%s/scratch-state/canaries.list", tmpdir));
	load_registry();
	for (size_t i = 0; i < nreg; i++)
		if (strstr(reg[i].path, "/HR/!0000 ") != NULL)
			snprintf(name, namesz, "%s", strrchr(reg[i].path, '/') + 1);
	assert_true(*name != '\0');
	assert_int_equal(run_report(canary_remove_all, &c, &rep), 4);
	free(rep);
	assert_int_equal(rm_tree(s.path), 0);
	assert_int_equal(rm_tree(tpath("%s/scratch-state", tmpdir)), 0);
	free(s.path);
	free((char *)c.journal);
}

static int
setup(void **state)
{
	char hr_name[128] = "";

	log_init(1, LOG_LVL_ERROR);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(share_dir, sizeof share_dir, "%s/share", tmpdir);
	snprintf(journal, sizeof journal, "%s/state/sub/journal.db", tmpdir);
	snprintf(regpath, sizeof regpath, "%s/state/sub/canaries.list", tmpdir);
	snprintf(outside, sizeof outside, "%s/outside", tmpdir);
	if (mkdir(share_dir, 0755) == -1 || mkdir(outside, 0755) == -1)
		return -1;
	for (size_t i = 1; i < nitems(seeded); i++) {
		char d[1100];

		snprintf(d, sizeof d, "%s/%s", share_dir, seeded[i]);
		if (mkdir(d, 0755) == -1)
			return -1;
	}
	if (mkdir(tpath("%s/Finance/Deeper", share_dir), 0755) == -1 ||
	    mkdir(tpath("%s/.hidden", share_dir), 0755) == -1 ||
	    symlink(outside, tpath("%s/link", share_dir)) == -1)
		return -1;
	write_file(tpath("%s/Finance/Budget 2024.xlsx", share_dir), "not really a workbook\n");
	write_file(tpath("%s/notes.txt", share_dir), "minutes\n");
	write_file(tpath("%s/secret.txt", outside), "secret\n");
	write_file(tpath("%s/secret2.txt", outside), "secret two\n");
	if (geteuid() == 0 && chown(tpath("%s/Projects", share_dir), OWNER_UID, OWNER_GID) == -1)
		return -1;
	learn_hr_name(hr_name, sizeof hr_name);
	snprintf(regpath, sizeof regpath, "%s/state/sub/canaries.list", tmpdir);
	snprintf(user_file, sizeof user_file, "%s/HR/%s", share_dir, hr_name);
	write_file(user_file, "the user's own notes\n");

	share.name = "data";
	share.path = share_dir;
	cfg.journal = journal;
	cfg.shares = &share;
	cfg.canaries = 1;
	return 0;
}

static int
teardown(void **state)
{
	return rm_tree(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_registry_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
