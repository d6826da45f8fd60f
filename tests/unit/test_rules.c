/* Unit tests for the name rules: built-in list, community list import, wildcard matching, save and load. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "rules.h"

#define DEFAULT_LIST "/work/shared/data/community-patterns.txt"

static char tmpdir[] = "/tmp/test_rules.XXXXXX";

static const char *
community_list(void)
{
	const char *p = getenv("SW_COMMUNITY_LIST");

	return p && *p ? p : DEFAULT_LIST;
}

static enum rule_hit
match(const struct rules *r, const char *name, const char **pat)
{
	return rules_match(r, name, strlen(name), pat);
}

static int
imp(struct rules *r, const char *line, struct rules_import_stats *st)
{
	return rules_import_line(r, line, strlen(line), st, NULL);
}

/* Lines of a list, and how many of them are blank or comments. */
static size_t
count_lines(const char *path, size_t *skipped)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lines = 0, n;
	ssize_t len;

	assert_non_null(fp);
	*skipped = 0;
	while ((len = getline(&line, &cap, fp)) != -1) {
		lines++;
		for (n = (size_t)len; n > 0 && strchr("\r\n \t", line[n - 1]); n--)
			;
		if (n == 0 || line[0] == '#')
			(*skipped)++;
	}
	free(line);
	fclose(fp);
	return lines;
}

static char *
tmp_path(const char *name)
{
	static char buf[4][256];
	static int k;
	char *p = buf[k++ % 4];

	snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
	return p;
}

static void
write_file(const char *path, const char *data, size_t n)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* Reads a whole file into a NUL-terminated buffer. */
static char *
read_file(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long len;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len >= 0);
	rewind(fp);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
	buf[len] = '\0';
	fclose(fp);
	if (n)
		*n = (size_t)len;
	return buf;
}

static struct rules *
import_real(struct rules_import_stats *st, FILE *report)
{
	struct rules *r = rules_new();

	if (access(community_list(), R_OK) != 0) {
		rules_free(r);
		fprintf(stderr, "%s not readable (set SW_COMMUNITY_LIST)\n", community_list());
		return NULL;
	}
	assert_int_equal(rules_import(r, community_list(), st, report), 0);
	return r;
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown(void **state)
{
	const char *names[] = { "list.txt", "saved.txt", "saved2.txt", "bad.txt", "weird.txt", "guarded.txt", "dup.txt" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(tmp_path(names[i]));
	return rmdir(tmpdir);
}

static void
test_builtin_hits(void **state)
{
	static const char *notes[] = {
		"HELP_DECRYPT.html", "DECRYPT_INSTRUCTIONS.txt", "HOW_TO_DECRYPT_FILES.txt", "_readme.txt",
		"@Please_Read_Me@.txt", "!!!_READ_ME_!!!.txt", "RyukReadMe.txt", "Restore-My-Files.txt",
		"_HELP_instructions.html", "README_FOR_DECRYPT.txt", "RECOVERY_KEY.txt",
		"HOW_TO_RECOVER_FILES.txt", "HELP_YOUR_FILES.png",
	};
	static const char *exts[] = {
		"report.docx.encrypted", "a.locked", "b.crypt", "c.crypted", "d.cry", "e.crypto", "f.locky",
		"g.zepto", "h.odin", "i.thor", "j.aesir", "k.zzzzz", "l.cerber", "m.cerber3", "n.wncry",
		"o.wcry", "p.wnry", "q.wncryt", "r.ryk", "s.conti", "t.lockbit",
	};
	static const char *weak[] = {
		"readme.txt", "read_me.txt", "readme.html", "instructions.txt", "help.txt", "!.txt",
	};
	struct rules *r = rules_new();
	const char *pat;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof notes / sizeof notes[0]; i++) {
		assert_int_equal(match(r, notes[i], &pat), HIT_NOTE);
		assert_string_equal(pat, notes[i]);
	}
	for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
		assert_int_equal(match(r, exts[i], NULL), HIT_EXT);
	assert_int_equal(match(r, "Budget 2027.xlsx.locky", &pat), HIT_EXT);
	assert_string_equal(pat, "*.locky");
	for (i = 0; i < sizeof weak / sizeof weak[0]; i++)
		assert_int_equal(match(r, weak[i], NULL), HIT_NOTE_WEAK);
	/* Families with a victim id in the name. */
	assert_int_equal(match(r, "Recovery+abcde.txt", &pat), HIT_WILDCARD);
	assert_string_equal(pat, "Recovery+*.txt");
	assert_int_equal(match(r, "plan.docx.id-1A2B3C4D.[help@mail.example].qwzx", &pat), HIT_WILDCARD);
	/* An extension only counts after a stem, and only as the last one. */
	assert_int_equal(match(r, ".locky", NULL), HIT_NONE);
	assert_int_equal(match(r, "locky", NULL), HIT_NONE);
	assert_int_equal(match(r, "report.locky.docx", NULL), HIT_NONE);
	assert_int_equal(match(r, "report.", NULL), HIT_NONE);
	rules_free(r);
}

/* Every ordinary name misses the built-in list (weak notes aside), and so do ordinary extensions. */
static void
test_ordinary_builtin(void **state)
{
	struct rules *r = rules_new();
	const char *const *names, *pat;
	enum rule_hit h;
	size_t n, i;

	(void)state;
	names = rules_ordinary_names(&n);
	assert_true(n >= 400);
	for (i = 0; i < n; i++) {
		h = rules_match(r, names[i], strlen(names[i]), &pat);
		if (h != HIT_NONE && h != HIT_NOTE_WEAK)
			fail_msg("ordinary name \"%s\" hit %d by \"%s\"", names[i], h, pat);
	}
	rules_free(r);
}

static const char *ordinary_exts[] = {
	"docx", "xlsx", "pptx", "pdf", "jpg", "png", "mp4", "zip", "7z", "gz", "tar", "rar", "iso",
	"java", "js", "py", "c", "h", "go", "rs", "cs", "bak", "tmp", "old", "log", "dat", "db", "sqlite",
	"enc", "gpg", "aes", "lock", "key", "txt", "csv", "html", "exe", "dll", "1", "2026", "swift", "tib",
};

static void
test_import_real(void **state)
{
	struct rules_import_stats st;
	size_t i, n, lines = 0, weak = 0, skipped;
	const char *const *names, *pat;
	char *report_buf = NULL, name[64], *p;
	size_t report_len = 0;
	FILE *report = open_memstream(&report_buf, &report_len);
	struct rules *r;
	enum rule_hit h;

	(void)state;
	assert_non_null(report);
	if ((r = import_real(&st, report)) == NULL) {
		fclose(report);
		free(report_buf);
		skip();
	}
	fclose(report);
	printf("import %s: %zu lines, %zu extensions, %zu notes, %zu weak notes, %zu wildcards, "
	    "%zu refused, %zu duplicates\n", community_list(), st.lines, st.extensions, st.notes,
	    st.weak_notes, st.wildcards, st.refused, st.duplicates);
	assert_int_equal(st.lines, count_lines(community_list(), &skipped));
	if (strcmp(community_list(), DEFAULT_LIST) == 0)
		assert_int_equal(st.lines, 6865);
	assert_true(st.extensions > 5000);
	assert_true(st.notes > 400);
	assert_true(st.wildcards > 300);
	assert_true(st.refused > 0);
	/* Every line is counted once: comments and blank lines are the rest. */
	assert_int_equal(st.lines, st.extensions + st.notes + st.weak_notes + st.wildcards + st.refused +
	    st.duplicates + skipped);

	/* One report line per refusal; the known bad ones of the list are among them. */
	for (p = report_buf; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, st.refused);
	assert_non_null(strstr(report_buf, "refused *_out: "));
	assert_non_null(strstr(report_buf, "refused *.*exx: "));
	assert_non_null(strstr(report_buf, "refused *.*cry: "));
	assert_non_null(strstr(report_buf, "refused *.jpg.js*: matches the ordinary file name"));
	assert_non_null(strstr(report_buf, "refused *.enc: ordinary extension"));
	free(report_buf);

	/* The known bad ones users reported, whether or not this list has them. */
	{
		static const char *bad[] = { "*.???", "*", "*crypt*", "*_out", "*.*exx", "*.*", "**", "*.*.*" };
		struct rules_import_stats one;

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			memset(&one, 0, sizeof one);
			assert_int_equal(rules_import_line(r, bad[i], strlen(bad[i]), &one, NULL), 0);
			assert_int_equal(one.refused, 1);
		}
	}

	/* The whole ordinary sample against ~7,000 imported rules: nothing but weak notes. */
	names = rules_ordinary_names(&n);
	for (i = 0; i < n; i++) {
		h = rules_match(r, names[i], strlen(names[i]), &pat);
		if (h == HIT_NOTE_WEAK) {
			weak++;
			continue;
		}
		if (h != HIT_NONE)
			fail_msg("ordinary name \"%s\" hit %d by \"%s\"", names[i], h, pat);
	}
	printf("ordinary sample: %zu names, %zu weak-note hits, no other hit\n", n, weak);
	for (i = 0; i < sizeof ordinary_exts / sizeof ordinary_exts[0]; i++) {
		snprintf(name, sizeof name, "file.%s", ordinary_exts[i]);
		assert_int_not_equal(match(r, name, NULL), HIT_EXT);
	}

	/* What the list adds. */
	assert_int_equal(match(r, "report.docx.KIMO", &pat), HIT_EXT);
	assert_string_equal(pat, "*.KIMO");
	assert_int_equal(match(r, "kansasgroup.TXT", &pat), HIT_NOTE);
	assert_string_equal(pat, "KANSASGROUP.txt");
	assert_int_equal(match(r, "plan.xlsx.betelgeuse-7", &pat), HIT_WILDCARD);
	assert_string_equal(pat, "*.betelgeuse*");
	assert_int_equal(match(r, "plan.xlsx.[brunobiden76@gmail.com].bricks", &pat), HIT_EXT);
	assert_string_equal(pat, "*.[brunobiden76@gmail.com].bricks");
	assert_int_equal(match(r, "[brunobiden76@gmail.com].bricks", NULL), HIT_NONE);
	/* Literal names ordinary files also carry are weak. */
	assert_int_equal(match(r, "FE04.tmp", NULL), HIT_NOTE_WEAK);
	assert_int_equal(match(r, "SECRET.KEY", NULL), HIT_NOTE_WEAK);
	assert_int_equal(match(r, "Read.txt", NULL), HIT_NOTE_WEAK);
	assert_int_equal(match(r, "README_ab12.txt", NULL), HIT_NONE);
	assert_int_equal(match(r, "README_[ab12].txt", &pat), HIT_WILDCARD);
	assert_string_equal(pat, "README_[*].txt");
	rules_free(r);
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per rules_match() call over names, rounds times each. */
static double
time_match(const struct rules *r, const char **names, const size_t *len, size_t n, size_t rounds)
{
	volatile unsigned sink = 0;
	size_t i, k;
	double t0;

	t0 = now_ns();
	for (k = 0; k < rounds; k++)
		for (i = 0; i < n; i++)
			sink += rules_match(r, names[i], len[i], NULL);
	(void)sink;
	return (now_ns() - t0) / (double)(n * rounds);
}

static void
test_match_speed(void **state)
{
	struct rules_import_stats st;
	const char *const *names, **miss;
	size_t n, i, nmiss = 0, *len, *misslen;
	struct rules *r;
	double all, none;

	(void)state;
	if ((r = import_real(&st, NULL)) == NULL)
		skip();
	names = rules_ordinary_names(&n);
	len = calloc(n, sizeof *len);
	misslen = calloc(n, sizeof *misslen);
	miss = calloc(n, sizeof *miss);
	assert_true(len && misslen && miss);
	for (i = 0; i < n; i++) {
		len[i] = strlen(names[i]);
		if (rules_match(r, names[i], len[i], NULL) == HIT_NONE) {
			miss[nmiss] = names[i];
			misslen[nmiss++] = len[i];
		}
	}
	all = time_match(r, (const char **)names, len, n, 300);
	none = time_match(r, miss, misslen, nmiss, 300);
	printf("rules_match with %zu imported rules: %.0f ns per call over %zu ordinary names, "
	    "%.0f ns over the %zu that match nothing\n", st.extensions + st.notes + st.weak_notes +
	    st.wildcards, all, n, none, nmiss);
	/* Loose bound: sanitizer builds run this too. */
	assert_true(none < 5000);
	free(len);
	free(misslen);
	free(miss);
	rules_free(r);
}

static void
test_case_insensitive(void **state)
{
	struct rules *r = rules_new();
	struct rules_import_stats st;
	const char *pat;

	(void)state;
	assert_int_equal(match(r, "help_decrypt.HTML", &pat), HIT_NOTE);
	assert_string_equal(pat, "HELP_DECRYPT.html");
	assert_int_equal(match(r, "hElP_dEcRyPt.HtMl", NULL), HIT_NOTE);
	assert_int_equal(match(r, "X.LoCkY", NULL), HIT_EXT);
	assert_int_equal(match(r, "README.TXT", NULL), HIT_NOTE_WEAK);
	assert_int_equal(match(r, "recovery+ABCDE.TXT", NULL), HIT_WILDCARD);
	memset(&st, 0, sizeof st);
	assert_int_equal(imp(r, "*.QwErTzZ", &st), 1);
	assert_int_equal(imp(r, "*.qwertzz", &st), 0);
	assert_int_equal(st.extensions, 1);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(match(r, "a.QWERTZZ", &pat), HIT_EXT);
	assert_string_equal(pat, "*.QwErTzZ");
	assert_int_equal(imp(r, "MyNote_Zq.TXT", &st), 1);
	assert_int_equal(match(r, "mynote_zq.txt", NULL), HIT_NOTE);
	/* Only ASCII folds: no locale tricks with other bytes. */
	assert_int_equal(imp(r, "\xc3\x89QUIPE_NOTE.txt", &st), 1);
	assert_int_equal(match(r, "\xc3\x89quipe_note.txt", NULL), HIT_NOTE);
	assert_int_equal(match(r, "\xc3\xa9quipe_note.txt", NULL), HIT_NONE);
	rules_free(r);
}

static void
test_weird_bytes(void **state)
{
	struct rules *r = rules_new();
	struct rules_import_stats st;
	const char *pat;
	char name[300], *big;
	uint32_t x = 2463534242u;
	size_t i, j, len;

	(void)state;
	assert_int_equal(rules_match(r, "\xff\xfe\x80.locky", 9, &pat), HIT_EXT);
	assert_int_equal(match(r, "a|b|c.txt", NULL), HIT_NONE);
	assert_int_equal(match(r, "x|y\n.locky", NULL), HIT_EXT);
	assert_int_equal(match(r, "%s%n%x.txt", NULL), HIT_NONE);
	assert_int_equal(rules_match(r, "", 0, &pat), HIT_NONE);
	assert_null(pat);
	assert_int_equal(rules_match(r, NULL, 5, &pat), HIT_NONE);
	assert_int_equal(rules_match(NULL, "a.locky", 7, &pat), HIT_NONE);
	/* A NUL inside is part of the name, not its end. */
	assert_int_equal(rules_match(r, "HELP_DECRYPT.html\0x", 19, NULL), HIT_NONE);
	assert_int_equal(rules_match(r, "HELP_DECRYPT.html", 17, NULL), HIT_NOTE);

	/* Patterns with pipes, control bytes and invalid UTF-8 are handled as bytes. */
	memset(&st, 0, sizeof st);
	assert_int_equal(imp(r, "*|pipe|\xff\xfe*", &st), 1);
	assert_int_equal(match(r, "a|pipe|\xff\xfe|b", NULL), HIT_WILDCARD);
	assert_int_equal(imp(r, "note|with\x01pipe.txt", &st), 1);
	assert_int_equal(match(r, "NOTE|WITH\x01PIPE.TXT", NULL), HIT_NOTE);

	/* Every short byte string and a run of random ones: no crash, no sanitizer report. */
	for (i = 0; i < 256; i++)
		for (j = 0; j < 256; j += 7) {
			name[0] = (char)i;
			name[1] = '.';
			name[2] = (char)j;
			rules_match(r, name, 3, NULL);
			rules_import_line(r, name, 3, &st, NULL);
		}
	for (i = 0; i < 20000; i++) {
		len = 1 + (x % (sizeof name - 1));
		for (j = 0; j < len; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			name[j] = "*?.ab|\n\xff\xc3\xa9[]{}Aa.xz"[x % 20];
		}
		rules_match(r, name, len, NULL);
		if (i % 16 == 0)
			rules_import_line(r, name, len, &st, NULL);
	}
	/* Far longer than any file name. */
	len = 1 << 20;
	big = malloc(len);
	assert_non_null(big);
	memset(big, 'a', len);
	memcpy(big + len - 6, ".locky", 6);
	assert_int_equal(rules_match(r, big, len, NULL), HIT_EXT);
	memset(big, 'z', len);
	assert_int_equal(rules_match(r, big, len, NULL), HIT_NONE);
	free(big);
	rules_free(r);
}

static int
glob(const char *p, const char *s)
{
	return rules_glob(p, strlen(p), s, strlen(s));
}

static void
test_glob(void **state)
{
	char *name, *pat;
	size_t n = 100000, i;
	double t0;

	(void)state;
	/* '*' at either end, in the middle, consecutive. */
	assert_true(glob("*", ""));
	assert_true(glob("*", "anything"));
	assert_true(glob("abc*", "abc"));
	assert_true(glob("abc*", "abcdef"));
	assert_false(glob("abc*", "xabc"));
	assert_true(glob("*abc", "abc"));
	assert_true(glob("*abc", "xxabc"));
	assert_false(glob("*abc", "abcx"));
	assert_true(glob("*abc*", "xxabcxx"));
	assert_true(glob("a*b*c", "aXXbYYc"));
	assert_false(glob("a*b*c", "aXXbYYcd"));
	assert_true(glob("**ab***cd**", "zzabyycdzz"));
	assert_true(glob("*.locked*", "x.locked"));
	assert_true(glob("*.locked*", "x.lockedfiles"));
	assert_false(glob("*.locked*", "xlocked"));
	/* '?' is exactly one character, a UTF-8 sequence counting as one. */
	assert_true(glob("ab?d", "abcd"));
	assert_false(glob("ab?d", "abd"));
	assert_false(glob("ab?d", "abccd"));
	assert_true(glob("ab?d", "ab\xc3\xa9" "d"));
	assert_true(glob("ab?d", "ab\xe2\x80\xa6" "d"));
	assert_true(glob("ab??d", "ab\xff\xfe" "d"));
	assert_true(glob("*.???", "x.doc"));
	assert_false(glob("*.???", "x.docx"));
	assert_true(glob("*?", "a"));
	assert_false(glob("*?", ""));
	/* '[', ']', '{', '}' are literal in FSRM, not classes. */
	assert_true(glob("[abc]*", "[abc]x"));
	assert_false(glob("[abc]*", "ax"));
	assert_true(glob("*.[*@*].*", "f.[me@x.y].z"));
	assert_false(glob("*.[*@*].*", "f.me@x.y.z"));
	assert_true(glob("{*}.bruk", "{1234}.BRUK"));
	assert_false(glob("{*}.bruk", "1234.bruk"));
	/* Case-insensitive for ASCII only, either side. */
	assert_true(glob("ReadMe*.TXT", "README_1.txt"));
	assert_false(glob("\xc3\x89*", "\xc3\xa9t\xc3\xa9"));
	/* Empty pattern, empty name. */
	assert_true(glob("", ""));
	assert_false(glob("", "a"));
	assert_false(glob("a", ""));

	/* Long names and pathological patterns stay O(m * n). */
	name = malloc(n + 1);
	assert_non_null(name);
	memset(name, 'a', n);
	name[n] = '\0';
	t0 = now_ns();
	assert_false(glob("*a*a*a*a*a*b", name));
	assert_false(glob("*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", name));
	assert_false(glob("*?*?*?*?*?*?*?*?*?*?*?*?*b", name));
	name[n - 1] = 'b';
	assert_true(glob("*a*a*a*a*a*b", name));
	assert_true(glob("a*b", name));
	pat = malloc(1025);
	assert_non_null(pat);
	for (i = 0; i < 1024; i++)
		pat[i] = i % 2 ? 'a' : '*';
	pat[1024] = '\0';
	name[n - 1] = 'a';
	assert_true(glob(pat, name));
	name[n / 2] = 'b';
	assert_true(glob(pat, name));
	pat[1023] = 'c';
	assert_false(glob(pat, name));
	printf("pathological patterns on a %zu-byte name: %.1f ms\n", n, (now_ns() - t0) / 1e6);
	assert_true(now_ns() - t0 < 20e9);
	free(pat);
	free(name);
}

static void
test_import_small(void **state)
{
	static const char list[] =
	    "# a comment\n"
	    "\n"
	    "*.Foobarx\r\n"
	    "*.FOOBARX  \n"
	    "HELP_ME_NOW_PLEASE.txt\n"
	    "ReadMe.md\n"
	    "README.TXT\n"
	    "*.???\n"
	    "*crypt*\n"
	    "*.docx\n"
	    "*.wxyzq*\n"
	    "*.luck*\n"
	    "*.?\x1b\n"
	    "*|\r|*\n"
	    "*.2048\n"
	    "*.zz.yy.qq\n"
	    "   \r\n"
	    "*.HELP_DECRYPT.html\n"
	    "\xff\xfe*.\x80\x81\n";
	struct rules_import_stats st;
	struct rules *r = rules_new();
	char *rep = NULL;
	size_t replen = 0;
	FILE *report = open_memstream(&rep, &replen);
	const char *pat;

	(void)state;
	write_file(tmp_path("list.txt"), list, sizeof list - 1);
	assert_int_equal(rules_import(r, tmp_path("list.txt"), &st, report), 0);
	fclose(report);
	printf("%s", rep);
	assert_int_equal(st.lines, 19);
	assert_int_equal(st.extensions, 3);	/* foobarx, zz.yy.qq, HELP_DECRYPT.html */
	assert_int_equal(st.notes, 1);
	assert_int_equal(st.weak_notes, 1);	/* ReadMe.md; README.TXT is built in */
	assert_int_equal(st.wildcards, 2);	/* *.wxyzq*, \xff\xfe*.\x80\x81 */
	assert_int_equal(st.refused, 7);
	assert_int_equal(st.duplicates, 2);
	assert_string_equal(rep,
	    "refused *.???: only wildcards and dots\n"
	    "refused *crypt*: reported to match ordinary files\n"
	    "refused *.docx: ordinary extension\n"
	    "refused *.luck*: its only fixed text \".luck\" is shorter than 5 characters\n"
	    "refused *.?\\x1b: fewer than 4 literal characters\n"
	    "refused *|\\x0d|*: fewer than 4 literal characters\n"
	    "refused *.2048: numbered extensions are ordinary (rotated logs, versions, core dumps)\n");
	free(rep);
	assert_int_equal(match(r, "a.foobarx", NULL), HIT_EXT);
	assert_int_equal(match(r, "a.b.zz.yy.qq", &pat), HIT_EXT);
	assert_string_equal(pat, "*.zz.yy.qq");
	assert_int_equal(match(r, "a.yy.qq", NULL), HIT_NONE);
	assert_int_equal(match(r, "help_me_now_please.txt", NULL), HIT_NOTE);
	assert_int_equal(match(r, "readme.md", NULL), HIT_NOTE_WEAK);
	assert_int_equal(match(r, "x.wxyzq", NULL), HIT_WILDCARD);
	assert_int_equal(match(r, "x.docx", NULL), HIT_NONE);
	assert_int_equal(match(r, "x.luck", NULL), HIT_NONE);

	/* Importing again adds nothing and counts everything kept as a duplicate. */
	assert_int_equal(rules_import(r, tmp_path("list.txt"), &st, NULL), 0);
	assert_int_equal(st.extensions + st.notes + st.weak_notes + st.wildcards, 0);
	assert_int_equal(st.duplicates, 9);

	assert_int_equal(rules_import(r, tmp_path("missing.txt"), &st, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rules_import(r, tmpdir, &st, NULL), -1);
	rules_free(r);
}

/*
 * A copy matches as the original does, and the two go separate ways: what
 * is imported into one is not in the other, and each is freed alone.
 */
static void
test_dup(void **state)
{
	static const char list[] = "*.Foobarx\nHELP_ME_NOW_PLEASE.txt\n*.wxyzq*\n*.zz.yy.qq\n";
	struct rules_import_stats st;
	struct rules *r = rules_new(), *c, *c2;
	const char *pat;

	(void)state;
	write_file(tmp_path("dup.txt"), list, sizeof list - 1);
	assert_int_equal(rules_import(r, tmp_path("dup.txt"), &st, NULL), 0);
	assert_int_equal(st.extensions + st.notes + st.wildcards, 4);
	c = rules_dup(r);
	c2 = rules_dup(c);
	rules_free(r);
	assert_int_equal(match(c, "a.foobarx", NULL), HIT_EXT);
	assert_int_equal(match(c, "a.b.zz.yy.qq", &pat), HIT_EXT);
	assert_string_equal(pat, "*.zz.yy.qq");
	assert_int_equal(match(c, "help_me_now_please.txt", NULL), HIT_NOTE);
	assert_int_equal(match(c, "x.wxyzq", &pat), HIT_WILDCARD);
	assert_string_equal(pat, "*.wxyzq*");
	assert_int_equal(match(c, "report.docx", NULL), HIT_NONE);
	assert_int_equal(match(c, "x.locky", NULL), HIT_EXT);
	assert_int_equal(match(c, "x.wxyzq", NULL), HIT_WILDCARD);
	/* A rule added to the copy is the copy's alone. */
	assert_int_equal(rules_import_line(c2, "*.qwertz", 8, &st, NULL), 1);
	assert_int_equal(match(c2, "a.qwertz", NULL), HIT_EXT);
	assert_int_equal(match(c, "a.qwertz", NULL), HIT_NONE);
	/* Importing again into the copy finds the originals' rules. */
	assert_int_equal(rules_import(c, tmp_path("dup.txt"), &st, NULL), 0);
	assert_int_equal(st.duplicates, 4);
	rules_free(c);
	assert_int_equal(match(c2, "a.foobarx", NULL), HIT_EXT);
	rules_free(c2);
}

static void
test_save_load(void **state)
{
	struct rules_import_stats st;
	struct rules *a, *b;
	const char *const *names, *pa, *pb;
	char *one, *two, *p, *line;
	size_t n, i, k, n1, n2;
	struct stat sb;

	(void)state;
	if ((a = import_real(&st, NULL)) == NULL)
		skip();
	assert_int_equal(rules_save(a, tmp_path("saved.txt")), 0);
	assert_int_equal(stat(tmp_path("saved.txt"), &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);

	b = rules_new();
	assert_int_equal(rules_load(b, tmp_path("saved.txt")), 0);
	assert_int_equal(rules_save(b, tmp_path("saved2.txt")), 0);
	one = read_file(tmp_path("saved.txt"), &n1);
	two = read_file(tmp_path("saved2.txt"), &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(one, two, n1);

	/* Each saved line matches the same way in both sets; so does the ordinary sample. */
	k = 0;
	for (p = one; (line = strsep(&p, "\n")) != NULL;) {
		char *tab = strchr(line, '\t'), name[2048];

		if (*line == '#' || tab == NULL)
			continue;
		k++;
		if (strncmp(line, "ext\t", 4) == 0)
			snprintf(name, sizeof name, "file.%s", tab + 1);
		else if (strncmp(line, "wild\t", 5) == 0)
			continue;
		else
			snprintf(name, sizeof name, "%s", tab + 1);
		assert_int_equal(match(a, name, &pa), match(b, name, &pb));
		assert_int_not_equal(match(a, name, NULL), HIT_NONE);
		assert_string_equal(pa, pb);
	}
	assert_int_equal(k, st.extensions + st.notes + st.weak_notes + st.wildcards);
	names = rules_ordinary_names(&n);
	for (i = 0; i < n; i++)
		assert_int_equal(match(a, names[i], NULL), match(b, names[i], NULL));
	assert_int_equal(match(b, "x.betelgeuse1", &pb), HIT_WILDCARD);
	free(one);
	free(two);
	rules_free(a);
	rules_free(b);

	/* Saving where no file can be created fails and leaves nothing behind. */
	a = rules_new();
	assert_int_equal(rules_save(a, tmp_path("no/such/dir/rules.txt")), -1);
	assert_int_equal(errno, ENOENT);
	rules_free(a);
}

static void
test_load_errors(void **state)
{
	static const char bad[] =
	    "# header\n"
	    "note\tGOOD_NOTE_QX.txt\n"
	    "bogus\tfoo\n"
	    "ext\n"
	    "ext\tfoo*bar\n";
	static const char weird[] =
	    "note\tpipe|note\x01\xff.txt\n"
	    "note\ttab\tinside.txt\r\n"
	    "weaknote\tNOTES.TXT\n"
	    "note\treadme.txt\n"
	    "ext\tqqzzkk\n";
	static const char guarded[] =
	    "ext\tdocx\n"
	    "ext\tenc\n"
	    "wild\t*crypt*\n"
	    "wild\t*.luck*\n"
	    "wild\t*.wxyzq*\n";
	struct rules *r = rules_new();

	(void)state;
	write_file(tmp_path("bad.txt"), bad, sizeof bad - 1);
	errno = 0;
	assert_int_equal(rules_load(r, tmp_path("bad.txt")), -1);
	assert_int_equal(errno, EINVAL);
	/* Nothing of a bad file is loaded. */
	assert_int_equal(match(r, "good_note_qx.txt", NULL), HIT_NONE);

	write_file(tmp_path("weird.txt"), weird, sizeof weird - 1);
	assert_int_equal(rules_load(r, tmp_path("weird.txt")), 0);
	assert_int_equal(match(r, "PIPE|NOTE\x01\xff.TXT", NULL), HIT_NOTE);
	assert_int_equal(match(r, "tab\tinside.txt", NULL), HIT_NOTE);
	assert_int_equal(match(r, "notes.txt", NULL), HIT_NOTE_WEAK);
	assert_int_equal(match(r, "readme.txt", NULL), HIT_NOTE_WEAK);
	assert_int_equal(match(r, "a.QQZZKK", NULL), HIT_EXT);

	/* Ordinary extensions and broad wildcards are skipped, even from our own format. */
	write_file(tmp_path("guarded.txt"), guarded, sizeof guarded - 1);
	assert_int_equal(rules_load(r, tmp_path("guarded.txt")), 0);
	assert_int_equal(match(r, "a.docx", NULL), HIT_NONE);
	assert_int_equal(match(r, "a.enc", NULL), HIT_NONE);
	assert_int_equal(match(r, "cryptography-notes.docx", NULL), HIT_NONE);
	assert_int_equal(match(r, "x.lucky", NULL), HIT_NONE);
	assert_int_equal(match(r, "x.wxyzq", NULL), HIT_WILDCARD);

	assert_int_equal(rules_load(r, tmp_path("missing.txt")), -1);
	assert_int_equal(errno, ENOENT);
	rules_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_hits),
		cmocka_unit_test(test_ordinary_builtin),
		cmocka_unit_test(test_import_real),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_match_speed),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_weird_bytes),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_import_small),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
