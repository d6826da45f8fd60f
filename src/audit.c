/* Samba vfs_full_audit source: the line parser, and the follower of the audit log file and syslog socket. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "util.h"

#define AUDIT_MAX_LINE	(1024 * 1024)		/* longer lines are counted malformed */
#define AUDIT_BLOCK	(1024 * 1024)		/* read size once a stream proves busy */
#define AUDIT_MIN_BUF	(64 * 1024)
#define AUDIT_BATCH	(512 * 1024)		/* read per call, so a burst never holds the event loop */
#define AUDIT_MAX_BUF	(AUDIT_MAX_LINE + AUDIT_BLOCK)
#define PARTIAL_MS	1000			/* an unterminated line is parsed after this long */
#define PREV_IDLE_MS	60000			/* a rotated-away file is followed until idle this long */
#define PREV_MAX	8			/* and at most this many of them */
#define KNOWN_MAX	16			/* files no longer followed, remembered with their offset */
#define DGRAM_MAX	(256 * 1024)
#define HEADER_MAX	256			/* a debug or syslog header is never longer */
#define SPLIT_MAX	4096			/* rename split points examined per line */
#define DIRCMP_MAX	4096			/* PATH_MAX: longer common prefixes score the same */

/* create_file access mask bits that let the opener change data or the name. */
#define ACCESS_WRITE	(0x2u | 0x4u | 0x10000u | 0x02000000u | 0x10000000u | 0x40000000u)

struct audit_share {
	char	*name;
	size_t	 namelen;
	char	*root;		/* without trailing '/', "" for "/" */
	size_t	 rootlen;
};

enum hdr_state { HDR_NONE, HDR_AUDIT, HDR_OTHER };

/* What a stream's earlier lines tell about its next line. */
struct audit_stream {
	int64_t	 hdr_at_ms;	/* time of a two-line header waiting for its message */
	int	 hdr;		/* enum hdr_state */
	int	 debug_form;	/* debug headers seen: a bare line continues a name holding a newline */
};

struct audit_parser {
	struct audit_share	*shares;
	size_t			 nshares;
	struct audit_stream	 st;
	char			 tkey[16];	/* "YYYY/MM/DD HH:MM" whose local time is tbase */
	int			 tvalid;
	int64_t			 tbase;
};

static const char empty[1] = "";

struct audit_parser *
audit_parser_new(void)
{
	return xcalloc(1, sizeof(struct audit_parser));
}

void
audit_parser_free(struct audit_parser *ap)
{
	size_t i;

	if (ap == NULL)
		return;
	for (i = 0; i < ap->nshares; i++) {
		free(ap->shares[i].name);
		free(ap->shares[i].root);
	}
	free(ap->shares);
	free(ap);
}

void
audit_parser_add_share(struct audit_parser *ap, const char *name, const char *root)
{
	struct audit_share *sh = NULL;
	size_t i, rl = strlen(root);

	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	for (i = 0; i < ap->nshares; i++)
		if (strcasecmp(ap->shares[i].name, name) == 0) {
			sh = &ap->shares[i];
			free(sh->root);
			break;
		}
	if (sh == NULL) {
		ap->shares = xrealloc(ap->shares, (ap->nshares + 1) * sizeof(*ap->shares));
		sh = &ap->shares[ap->nshares++];
		sh->name = xstrdup(name);
		sh->namelen = strlen(name);
	}
	sh->root = xstrndup(root, rl);
	sh->rootlen = rl;
}

static const struct audit_share *
share_find(const struct audit_parser *ap, struct sw_str name)
{
	size_t i;

	for (i = 0; i < ap->nshares; i++)
		if (ap->shares[i].namelen == name.n &&
		    strncasecmp(ap->shares[i].name, name.p, name.n) == 0)
			return &ap->shares[i];
	return NULL;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static int
num2(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/*
 * "YYYY/MM/DD HH:MM:SS[.frac]" in local time. mktime is slow (it rereads
 * the zone), so the minute is converted once and cached.
 */
static int
parse_local_time(struct audit_parser *ap, const char *p, const char *end, int64_t *at,
    const char **rest)
{
	static const char shape[] = "dddd/dd/dd dd:dd:dd";
	int64_t ms = 0;
	int i, sec, scale;

	if (end - p < 19)
		return -1;
	for (i = 0; i < 19; i++)
		if (shape[i] == 'd' ? !is_digit(p[i]) : p[i] != shape[i])
			return -1;
	if (!ap->tvalid || memcmp(ap->tkey, p, sizeof(ap->tkey)) != 0) {
		struct tm tm;
		time_t t;

		memset(&tm, 0, sizeof tm);
		tm.tm_year = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + num2(p + 2) - 1900;
		tm.tm_mon = num2(p + 5) - 1;
		tm.tm_mday = num2(p + 8);
		tm.tm_hour = num2(p + 11);
		tm.tm_min = num2(p + 14);
		tm.tm_isdst = -1;
		if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
		    tm.tm_hour > 23 || tm.tm_min > 59)
			return -1;
		/* -1 is 23:59:59 and never a whole minute: it is an error here. */
		if ((t = mktime(&tm)) == (time_t)-1)
			return -1;
		memcpy(ap->tkey, p, sizeof(ap->tkey));
		ap->tbase = (int64_t)t;
		ap->tvalid = 1;
	}
	sec = num2(p + 17);
	if (sec > 60)
		return -1;
	p += 19;
	if (p < end && *p == '.') {
		p++;
		for (scale = 100; p < end && is_digit(*p); p++, scale /= 10)
			ms += (*p - '0') * scale;
	}
	*at = (ap->tbase + sec) * 1000 + ms;
	*rest = p;
	return 0;
}

/*
 * The first line of Samba's two-line debug entry ends in a source location,
 * "../../source3/modules/vfs_full_audit.c:643(do_log)". Returns 1 for it,
 * 2 for the location of another module, 0 when [p, end) is not one.
 */
static int
debug_location(const char *p, const char *end)
{
	const char *q = end - 1, *colon;

	if (end - p < 5 || *q != ')' || memchr(p, '|', (size_t)(end - p)) != NULL)
		return 0;
	for (q--; q > p && *q != '('; q--)
		if (!(is_digit(*q) || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		    *q == '_'))
			return 0;
	if (q <= p || q == end - 2)
		return 0;
	for (colon = q - 1; colon > p && is_digit(*colon); colon--)
		;
	if (*colon != ':' || colon == q - 1 || colon == p)
		return 0;
	if (memchr(p, ' ', (size_t)(colon - p)) != NULL)
		return 0;
	return memmem(p, (size_t)(colon - p), "vfs_full_audit.c", 16) != NULL ? 1 : 2;
}

/*
 * How the arguments after the result are laid out. The path comes last, or
 * before a fixed number of fields Samba formats itself, so it is cut from
 * the right: a path may hold '|'.
 */
enum op_args {
	ARGS_PATH,		/* PATH (the service name for connect) */
	ARGS_OPEN,		/* r|PATH or w|PATH */
	ARGS_CREATE,		/* 0xMASK|file|DISPOSITION|PATH */
	ARGS_RENAME,		/* OLD|NEW */
	ARGS_TAIL,		/* PATH|field...: fntimes 4 times, fchown uid|gid, fchmod mode, fsetxattr name */
	ARGS_ACL,		/* PATH [SDDL] */
};

static const struct audit_op {
	const char	*name;
	unsigned char	 len;
	unsigned char	 op;		/* enum sw_op */
	unsigned char	 args;		/* enum op_args */
	unsigned char	 tail;		/* ARGS_TAIL: fields after the path */
	unsigned char	 flags;
} audit_ops[] = {
	/* The most frequent first: the noise is mostly openat and close. */
	{ "openat",	 6, OP_OPEN,	   ARGS_OPEN,	0, 0 },
	{ "close",	 5, OP_CLOSE,	   ARGS_PATH,	0, 0 },
	{ "create_file", 11, OP_CREATE,	   ARGS_CREATE,	0, 0 },
	{ "pwrite_send", 11, OP_WRITE,	   ARGS_PATH,	0, 0 },
	{ "pwrite_recv", 11, OP_WRITE,	   ARGS_PATH,	0, 0 },
	{ "pwrite",	 6, OP_WRITE,	   ARGS_PATH,	0, 0 },
	{ "write",	 5, OP_WRITE,	   ARGS_PATH,	0, 0 },
	{ "renameat",	 8, OP_RENAME,	   ARGS_RENAME,	0, 0 },
	{ "unlinkat",	 8, OP_UNLINK,	   ARGS_PATH,	0, 0 },
	{ "mkdirat",	 7, OP_MKDIR,	   ARGS_PATH,	0, EVF_DIR },
	{ "fntimes",	 7, OP_ATTR,	   ARGS_TAIL,	4, 0 },
	{ "fchmod",	 6, OP_ATTR,	   ARGS_TAIL,	1, 0 },
	{ "fchown",	 6, OP_ATTR,	   ARGS_TAIL,	2, 0 },
	{ "fsetxattr",	 9, OP_ATTR,	   ARGS_TAIL,	1, 0 },
	{ "fset_nt_acl", 11, OP_ATTR,	   ARGS_ACL,	0, 0 },
	{ "connect",	 7, OP_CONNECT,	   ARGS_PATH,	0, 0 },
	{ "disconnect",	 10, OP_DISCONNECT, ARGS_PATH,	0, 0 },
	/* Setting the end of file rewrites data as surely as a write. */
	{ "ftruncate",	 9, OP_WRITE,	   ARGS_PATH,	0, 0 },
	/* Names written by Samba before 4.14. */
	{ "open",	 4, OP_OPEN,	   ARGS_OPEN,	0, 0 },
	{ "rename",	 6, OP_RENAME,	   ARGS_RENAME,	0, 0 },
	{ "unlink",	 6, OP_UNLINK,	   ARGS_PATH,	0, 0 },
	{ "rmdir",	 5, OP_UNLINK,	   ARGS_PATH,	0, EVF_DIR },
	{ "mkdir",	 5, OP_MKDIR,	   ARGS_PATH,	0, EVF_DIR },
};

static const struct {
	const char	*name;
	unsigned	 flags;
} dispositions[] = {
	{ "open", 0 },
	{ "create", EVF_NEWFILE },
	{ "open_if", EVF_NEWFILE },
	{ "overwrite", EVF_TRUNC },
	{ "overwrite_if", EVF_NEWFILE | EVF_TRUNC },
	{ "supersede", EVF_NEWFILE | EVF_TRUNC },
	{ "unknown", 0 },
};

/* Whether [p, p + n) is root itself or lies under it. */
static int
under_root(const char *p, size_t n, const char *root, size_t rl)
{
	if (n < rl || memcmp(p, root, rl) != 0)
		return 0;
	if (n == rl)
		return rl > 0;
	return p[rl] == '/';
}

/* Length of the leading directories two paths share. */
static size_t
dir_prefix(const char *a, size_t an, const char *b, size_t bn)
{
	size_t k = 0, m = an < bn ? an : bn;
	const char *slash;

	if (m > DIRCMP_MAX)
		m = DIRCMP_MAX;
	while (k < m && a[k] == b[k])
		k++;
	slash = k ? memrchr(a, '/', k) : NULL;
	return slash ? (size_t)(slash - a) + 1 : 0;
}

/*
 * Finds where "OLD|NEW" splits: at a '|' followed by '/', and when the
 * share's root is known only where both halves lie under it. Renames mostly
 * stay in one folder, so among several candidates the one whose halves share
 * the longest directory prefix wins, and the event is flagged ambiguous.
 */
static int
split_rename(const struct audit_share *sh, const char *a, size_t n, size_t *cut,
    unsigned *flags)
{
	const char *p, *end = a + n;
	size_t i, count, score, best, best_score;
	int anchored;

	for (anchored = sh != NULL; anchored >= 0; anchored--) {
		if (!anchored && (n == 0 || a[0] != '/'))
			return -1;
		count = best = best_score = 0;
		for (p = a; p < end && (p = memchr(p, '|', (size_t)(end - p))) != NULL; p++) {
			i = (size_t)(p - a);
			if (i == 0 || i + 1 >= n || a[i + 1] != '/')
				continue;
			if (anchored && (!under_root(a, i, sh->root, sh->rootlen) ||
			    !under_root(p + 1, n - i - 1, sh->root, sh->rootlen)))
				continue;
			if (++count > SPLIT_MAX)
				break;
			score = dir_prefix(a, i, p + 1, n - i - 1);
			if (count == 1 || score > best_score) {
				best = i;
				best_score = score;
			}
		}
		if (count > 0) {
			*cut = best;
			if (count > 1)
				*flags |= EVF_AMBIGUOUS;
			return 0;
		}
	}
	return -1;
}

/* "user|ip|host|share|pid|op|result|args" */
static enum audit_parse_result
parse_body(struct audit_parser *ap, const char *p, const char *end, int64_t at,
    struct sw_event *ev)
{
	const struct audit_op *o = NULL;
	const char *q, *args, *opname;
	struct sw_str *fields[4];
	unsigned flags;
	size_t i, oplen;
	int64_t pid = 0;

	fields[0] = &ev->user;
	fields[1] = &ev->ip;
	fields[2] = &ev->host;
	fields[3] = &ev->share;
	for (i = 0; i < 4; i++) {
		if ((q = memchr(p, '|', (size_t)(end - p))) == NULL)
			return AUDIT_MALFORMED;
		fields[i]->p = p;
		fields[i]->n = (size_t)(q - p);
		p = q + 1;
	}
	if ((q = memchr(p, '|', (size_t)(end - p))) == NULL || q == p || q - p > 10)
		return AUDIT_MALFORMED;
	for (; p < q; p++) {
		if (!is_digit(*p))
			return AUDIT_MALFORMED;
		pid = pid * 10 + (*p - '0');
	}
	if (pid > INT_MAX)
		return AUDIT_MALFORMED;
	p = q + 1;
	if ((q = memchr(p, '|', (size_t)(end - p))) == NULL)
		return AUDIT_MALFORMED;
	opname = p;
	oplen = (size_t)(q - p);
	p = q + 1;
	if (end - p >= 3 && p[0] == 'o' && p[1] == 'k' && p[2] == '|') {
		ev->ok = 1;
		args = p + 3;
	} else if (end - p >= 6 && memcmp(p, "fail (", 6) == 0 &&
	    (q = memmem(p + 6, (size_t)(end - p - 6), ")|", 2)) != NULL) {
		ev->ok = 0;
		args = q + 2;
	} else
		return AUDIT_MALFORMED;

	for (i = 0; i < nitems(audit_ops); i++)
		if (audit_ops[i].len == oplen && audit_ops[i].name[0] == opname[0] &&
		    memcmp(audit_ops[i].name, opname, oplen) == 0) {
			o = &audit_ops[i];
			break;
		}
	if (o == NULL)
		return AUDIT_SKIP;

	flags = o->flags;
	ev->path2.p = empty;
	ev->path2.n = 0;
	switch (o->args) {
	case ARGS_OPEN:
		if (end - args < 2 || (args[0] != 'r' && args[0] != 'w') || args[1] != '|')
			return AUDIT_MALFORMED;
		if (args[0] == 'w')
			flags |= EVF_WRITE;
		args += 2;
		break;
	case ARGS_CREATE: {
		uint32_t mask = 0;
		int nd = 0, v;

		if (end - args < 3 || args[0] != '0' || (args[1] != 'x' && args[1] != 'X'))
			return AUDIT_MALFORMED;
		for (args += 2; args < end && (v = hex_val(*args)) >= 0; args++) {
			if (++nd > 8)
				return AUDIT_MALFORMED;
			mask = mask << 4 | (uint32_t)v;
		}
		if (nd == 0 || args == end || *args++ != '|')
			return AUDIT_MALFORMED;
		if (end - args >= 5 && memcmp(args, "file|", 5) == 0)
			args += 5;
		else if (end - args >= 4 && memcmp(args, "dir|", 4) == 0) {
			flags |= EVF_DIR;
			args += 4;
		} else
			return AUDIT_MALFORMED;
		if ((q = memchr(args, '|', (size_t)(end - args))) == NULL)
			return AUDIT_MALFORMED;
		for (i = 0; i < nitems(dispositions); i++)
			if (strlen(dispositions[i].name) == (size_t)(q - args) &&
			    memcmp(dispositions[i].name, args, (size_t)(q - args)) == 0)
				break;
		if (i == nitems(dispositions))
			return AUDIT_MALFORMED;
		flags |= dispositions[i].flags;
		if (mask & ACCESS_WRITE)
			flags |= EVF_WRITE;
		args = q + 1;
		break;
	}
	case ARGS_RENAME: {
		size_t cut;

		if (split_rename(share_find(ap, ev->share), args, (size_t)(end - args), &cut,
		    &flags) == -1)
			return AUDIT_MALFORMED;
		ev->path2.p = args + cut + 1;
		ev->path2.n = (size_t)(end - args) - cut - 1;
		end = args + cut;
		break;
	}
	case ARGS_TAIL:
		for (i = 0; i < o->tail; i++)
			if ((end = memrchr(args, '|', (size_t)(end - args))) == NULL)
				return AUDIT_MALFORMED;
		break;
	case ARGS_ACL:
		if (end > args && end[-1] == ']' &&
		    (q = memrchr(args, '[', (size_t)(end - args))) != NULL && q > args &&
		    q[-1] == ' ')
			end = q - 1;
		break;
	}
	if (end <= args)
		return AUDIT_MALFORMED;
	ev->path.p = args;
	ev->path.n = (size_t)(end - args);
	ev->at_ms = at;
	ev->op = (enum sw_op)o->op;
	ev->flags = flags;
	ev->src = SRC_AUDIT;
	ev->pid = (int)pid;
	return AUDIT_EVENT;
}

/* "[2026/11/27 04:42:58.116603,  1, pid=6390]" and what follows it. */
static enum audit_parse_result
parse_debug(struct audit_parser *ap, const char *p, const char *end, struct sw_event *ev)
{
	const char *rb, *q;
	int64_t at;
	int level = 0, loc;

	if (parse_local_time(ap, p + 1, end, &at, &q) == -1)
		return AUDIT_MALFORMED;
	if (q == end || *q != ',')
		return AUDIT_MALFORMED;
	q = skip_blanks(q + 1, end);
	if (q == end || !is_digit(*q))
		return AUDIT_MALFORMED;
	for (; q < end && is_digit(*q) && level < 1000; q++)
		level = level * 10 + (*q - '0');
	rb = memchr(q, ']', (size_t)(end - q) < HEADER_MAX ? (size_t)(end - q) : HEADER_MAX);
	if (rb == NULL)
		return AUDIT_MALFORMED;
	q = skip_blanks(rb + 1, end);
	if (q == end)
		return AUDIT_MALFORMED;
	ap->st.debug_form = 1;
	if ((loc = debug_location(q, end)) != 0) {
		ap->st.hdr = loc == 1 && level == 1 ? HDR_AUDIT : HDR_OTHER;
		ap->st.hdr_at_ms = at;
		return AUDIT_SKIP;
	}
	ap->st.hdr = HDR_NONE;
	/* Audit records are level 1; anything else is another Samba message. */
	if (level != 1)
		return AUDIT_SKIP;
	return parse_body(ap, q, end, at, ev);
}

/* "<173>Nov 27 04:43:10 [host ]smbd_audit: message" */
static enum audit_parse_result
parse_syslog(struct audit_parser *ap, const char *p, const char *end, int64_t at,
    struct sw_event *ev)
{
	const char *q = p + 1, *colon, *tag;
	size_t n, taglen;

	while (q < end && is_digit(*q) && q - p <= 3)
		q++;
	if (q == p + 1 || q == end || *q != '>')
		return AUDIT_MALFORMED;
	q++;
	n = (size_t)(end - q) < HEADER_MAX ? (size_t)(end - q) : HEADER_MAX;
	if ((colon = memmem(q, n, ": ", 2)) == NULL)
		return AUDIT_MALFORMED;
	for (tag = colon; tag > q && tag[-1] != ' '; tag--)
		;
	taglen = (size_t)(colon - tag);
	if (taglen > 0 && tag[taglen - 1] == ']') {
		const char *b = memchr(tag, '[', taglen);

		if (b != NULL)
			taglen = (size_t)(b - tag);
	}
	if (taglen != 10 || memcmp(tag, "smbd_audit", 10) != 0)
		return AUDIT_SKIP;
	return parse_body(ap, skip_blanks(colon + 2, end), end, at, ev);
}

enum audit_parse_result
audit_parse_line(struct audit_parser *ap, const char *line, size_t len, int64_t default_at_ms,
    struct sw_event *ev)
{
	const char *p = line, *end = line + len;
	int64_t at = default_at_ms;

	if (p < end && end[-1] == '\r')
		end--;
	if (p < end && *p == '[')
		return parse_debug(ap, p, end, ev);
	if (p < end && *p == '<')
		return parse_syslog(ap, p, end, at, ev);
	if (ap->st.hdr != HDR_NONE) {
		int hdr = ap->st.hdr;

		ap->st.hdr = HDR_NONE;
		if (hdr == HDR_OTHER)
			return AUDIT_SKIP;
		at = ap->st.hdr_at_ms;
	} else if (ap->st.debug_form)
		return AUDIT_SKIP;
	p = skip_blanks(p, end);
	if (p == end)
		return AUDIT_SKIP;
	return parse_body(ap, p, end, at, ev);
}

/* Splitting a byte stream into lines. */

struct linebuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 skip;		/* discarding up to the next newline */
};

struct feed {
	struct audit_parser	*ap;
	audit_event_cb		 cb;
	void			*arg;
	struct audit_stats	*st;
	int64_t			 at;
};

static void
line_emit(struct feed *f, const char *p, size_t n)
{
	struct sw_event ev;

	f->st->lines++;
	if (n > AUDIT_MAX_LINE) {
		f->st->malformed++;
		return;
	}
	switch (audit_parse_line(f->ap, p, n, f->at, &ev)) {
	case AUDIT_EVENT:
		f->st->events++;
		f->cb(&ev, f->arg);
		break;
	case AUDIT_SKIP:
		f->st->skipped++;
		break;
	case AUDIT_MALFORMED:
		f->st->malformed++;
		break;
	}
}

/* Makes room for at least a read's worth after the kept tail. */
static void
linebuf_reserve(struct linebuf *lb, size_t want)
{
	size_t cap = lb->cap ? lb->cap : AUDIT_MIN_BUF;

	while (cap - lb->len < want && cap < AUDIT_MAX_BUF)
		cap *= 2;
	if (cap > AUDIT_MAX_BUF)
		cap = AUDIT_MAX_BUF;
	if (cap != lb->cap || lb->buf == NULL) {
		lb->buf = xrealloc(lb->buf, cap);
		lb->cap = cap;
	}
}

/* Parses every complete line and keeps the unterminated tail; returns the lines ended. */
static size_t
linebuf_scan(struct linebuf *lb, struct feed *f)
{
	char *p = lb->buf, *end = lb->buf + lb->len, *nl;
	size_t rest, n = 0;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (lb->skip)
			lb->skip = 0;
		else
			line_emit(f, p, (size_t)(nl - p));
		p = nl + 1;
		n++;
	}
	rest = (size_t)(end - p);
	if (lb->skip)
		rest = 0;
	else if (rest > AUDIT_MAX_LINE) {
		f->st->lines++;
		f->st->malformed++;
		lb->skip = 1;
		rest = 0;
	}
	if (rest && p != lb->buf)
		memmove(lb->buf, p, rest);
	lb->len = rest;
	return n;
}

/* Parses the unterminated tail as a line of its own. */
static void
linebuf_flush(struct linebuf *lb, struct feed *f)
{
	if (lb->len && !lb->skip)
		line_emit(f, lb->buf, lb->len);
	lb->len = 0;
	lb->skip = 0;
}

int
audit_feed_fd(struct audit_parser *ap, int fd, audit_event_cb cb, void *arg,
    struct audit_stats *st)
{
	struct linebuf lb = { NULL, 0, 0, 0 };
	struct feed f = { ap, cb, arg, st, 0 };
	size_t want = AUDIT_MIN_BUF;
	ssize_t n;
	int rc = 0;

	for (;;) {
		linebuf_reserve(&lb, want);
		n = read(fd, lb.buf + lb.len, lb.cap - lb.len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { fd, POLLIN, 0 };

				if (poll(&pfd, 1, -1) >= 0 || errno == EINTR)
					continue;
			}
			log_warn("audit lines: read");
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		/* A stream that fills the buffer gets big blocks from now on. */
		if ((size_t)n == lb.cap - lb.len)
			want = AUDIT_BLOCK;
		lb.len += (size_t)n;
		f.at = now_ms();
		linebuf_scan(&lb, &f);
	}
	f.at = now_ms();
	linebuf_flush(&lb, &f);
	free(lb.buf);
	return rc;
}

/* The source: a followed file (and those it rotated away from), and a syslog socket. */

struct tailfile {
	int			 fd;		/* -1 none */
	dev_t			 dev;
	ino_t			 ino;
	off_t			 off;
	int			 wd;		/* inotify watch, -1 none */
	struct linebuf		 lb;
	struct audit_stream	 stream;
	int64_t			 partial_since;	/* when the unterminated tail began waiting */
	int64_t			 last_data;	/* when bytes last arrived */
};

/* A file read up to off and then let go: if it grows again, reading resumes there. */
struct known_file {
	dev_t	 dev;
	ino_t	 ino;
	off_t	 off;
};

struct audit_source {
	struct audit_parser	*ap;
	audit_event_cb		 cb;
	void			*arg;
	char			*path;
	char			*old_path;	/* path.old, where Samba's "max log size" moves the file */
	char			*dir;
	int			 ifd;		/* inotify, -1 when the file is polled at each tick */
	int			 open_warned;
	struct tailfile		 cur;
	struct tailfile		 prev[PREV_MAX];	/* rotated away, oldest first */
	size_t			 nprev;
	struct known_file	 known[KNOWN_MAX];
	size_t			 nknown;
	char			*sock_path;
	int			 sfd;
	dev_t			 sock_dev;
	ino_t			 sock_ino;
	char			*dgram;
	struct audit_stream	 sock_stream;
	struct audit_stats	 st;
	int			 backlog;	/* the last read stopped at AUDIT_BATCH: more is waiting */
};

static void
tail_reset(struct tailfile *tf)
{
	memset(tf, 0, sizeof *tf);
	tf->fd = -1;
	tf->wd = -1;
}

static void
feed_init(struct audit_source *as, struct feed *f)
{
	f->ap = as->ap;
	f->cb = as->cb;
	f->arg = as->arg;
	f->st = &as->st;
	f->at = now_ms();
}

/* Parses the file's unterminated tail as a line, in the file's own stream state. */
static void
tail_flush(struct audit_source *as, struct tailfile *tf)
{
	struct audit_stream saved = as->ap->st;
	struct feed f;

	feed_init(as, &f);
	as->ap->st = tf->stream;
	linebuf_flush(&tf->lb, &f);
	tf->stream = as->ap->st;
	as->ap->st = saved;
	tf->partial_since = 0;
}

/*
 * Reads what the file gained, up to *budget bytes (taken from it); sets
 * as->backlog when the budget ran out first. budget NULL: everything.
 */
static void
tail_read(struct audit_source *as, struct tailfile *tf, size_t *budget)
{
	struct audit_stream saved;
	struct stat sb;
	struct feed f;
	ssize_t n;
	size_t room;
	int64_t now;

	if (fstat(tf->fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size < tf->off) {
		/* Truncated in place (logrotate copytruncate): a rotation without a new file. */
		tail_flush(as, tf);
		log_info("audit log %s truncated, reading it from the start", as->path);
		if (lseek(tf->fd, 0, SEEK_SET) == 0)
			tf->off = 0;
		as->st.rotations++;
	}
	saved = as->ap->st;
	as->ap->st = tf->stream;
	feed_init(as, &f);
	for (;;) {
		if (budget && *budget == 0) {
			as->backlog = 1;
			break;
		}
		linebuf_reserve(&tf->lb, AUDIT_MIN_BUF);
		room = tf->lb.cap - tf->lb.len;
		if (budget && room > *budget)
			room = *budget;
		n = read(tf->fd, tf->lb.buf + tf->lb.len, room);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("audit log %s: read", as->path);
			break;
		}
		if (n == 0)
			break;
		if (budget)
			*budget -= (size_t)n;
		now = mono_ms();
		tf->off += n;
		tf->last_data = now;
		tf->lb.len += (size_t)n;
		if (linebuf_scan(&tf->lb, &f) > 0 || tf->lb.len == 0)
			tf->partial_since = tf->lb.len ? now : 0;
		else if (tf->partial_since == 0)
			tf->partial_since = now;
	}
	tf->stream = as->ap->st;
	as->ap->st = saved;
}

/* Forgets a file without reading it further. */
static void
tail_release(struct audit_source *as, struct tailfile *tf)
{
	if (tf->fd < 0)
		return;
#ifdef __linux__
	if (tf->wd >= 0 && as->ifd >= 0)
		inotify_rm_watch(as->ifd, tf->wd);
#endif
	close(tf->fd);
	free(tf->lb.buf);
	tail_reset(tf);
}

static void
tail_watch(struct audit_source *as, struct tailfile *tf, const char *path)
{
#ifdef __linux__
	char fdpath[64];

	if (as->ifd < 0)
		return;
	/* Through the descriptor: the path may already name a newer file. */
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", tf->fd);
	tf->wd = inotify_add_watch(as->ifd, fdpath,
	    IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
	if (tf->wd == -1)
		tf->wd = inotify_add_watch(as->ifd, path,
		    IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
#else
	(void)as;
	(void)tf;
	(void)path;
#endif
}

/* Opens a log file and positions it at from (-1: its end). Returns -1 with errno. */
static int
tail_open(struct audit_source *as, const char *path, off_t from, struct tailfile *tf)
{
	struct stat sb;
	char c;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &sb) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		/* A directory or a device is no log to follow. */
		close(fd);
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	tail_reset(tf);
	tf->fd = fd;
	tf->dev = sb.st_dev;
	tf->ino = sb.st_ino;
	tf->last_data = mono_ms();
	if (from == -1 || from > sb.st_size)
		from = sb.st_size;
	if (from > 0 && lseek(fd, from, SEEK_SET) == from) {
		tf->off = from;
		/* Starting inside a line: its rest is not a line. */
		if (pread(fd, &c, 1, from - 1) == 1 && c != '\n')
			tf->lb.skip = 1;
	}
	tail_watch(as, tf, path);
	return 0;
}

static int
source_follows(const struct audit_source *as, dev_t dev, ino_t ino)
{
	size_t i;

	if (as->cur.fd >= 0 && as->cur.dev == dev && as->cur.ino == ino)
		return 1;
	for (i = 0; i < as->nprev; i++)
		if (as->prev[i].dev == dev && as->prev[i].ino == ino)
			return 1;
	return 0;
}

static void
known_add(struct audit_source *as, dev_t dev, ino_t ino, off_t off)
{
	if (as->nknown == KNOWN_MAX) {
		memmove(&as->known[0], &as->known[1], (KNOWN_MAX - 1) * sizeof(as->known[0]));
		as->nknown--;
	}
	as->known[as->nknown].dev = dev;
	as->known[as->nknown].ino = ino;
	as->known[as->nknown++].off = off;
}

static struct known_file *
known_find(struct audit_source *as, dev_t dev, ino_t ino)
{
	size_t i;

	for (i = 0; i < as->nknown; i++)
		if (as->known[i].dev == dev && as->known[i].ino == ino)
			return &as->known[i];
	return NULL;
}

static void
known_remove(struct audit_source *as, struct known_file *k)
{
	size_t i = (size_t)(k - as->known);

	memmove(&as->known[i], &as->known[i + 1], (as->nknown - i - 1) * sizeof(as->known[0]));
	as->nknown--;
}

/* Reads prev[i] out and lets it go, remembering how far it was read. */
static void
prev_drop(struct audit_source *as, size_t i)
{
	struct tailfile *tf = &as->prev[i];

	tail_read(as, tf, NULL);
	tail_flush(as, tf);
	known_add(as, tf->dev, tf->ino, tf->off);
	tail_release(as, tf);
	memmove(&as->prev[i], &as->prev[i + 1], (as->nprev - i - 1) * sizeof(as->prev[0]));
	as->nprev--;
}

/* Takes a rotated-away file into the followed ones; returns where it went. */
static struct tailfile *
prev_push(struct audit_source *as, const struct tailfile *tf)
{
	if (as->nprev == PREV_MAX)
		prev_drop(as, 0);
	as->prev[as->nprev] = *tf;
	as->prev[as->nprev].last_data = mono_ms();
	return &as->prev[as->nprev++];
}

/*
 * Two smbd processes can rotate one after the other so fast that a file is
 * created and moved to path.old between two looks at the path, and a writer
 * may go on appending to it: follow a file at path.old that is new, or that
 * grew since it was let go.
 */
static void
source_adopt_old(struct audit_source *as, size_t *budget)
{
	struct known_file *k;
	struct tailfile next;
	struct stat sb;
	off_t from = 0;

	if (stat(as->old_path, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    source_follows(as, sb.st_dev, sb.st_ino))
		return;
	if ((k = known_find(as, sb.st_dev, sb.st_ino)) != NULL) {
		if (sb.st_size <= k->off)
			return;
		from = k->off;
	}
	if (tail_open(as, as->old_path, from, &next) == -1)
		return;
	if (next.dev != sb.st_dev || next.ino != sb.st_ino) {
		tail_release(as, &next);
		return;
	}
	if (k != NULL)
		known_remove(as, k);
	else {
		as->st.rotations++;
		log_info("audit log %s: a file rotated away unseen, reading it", as->old_path);
	}
	tail_read(as, prev_push(as, &next), budget);
}

/*
 * Reads what is new, at most AUDIT_BATCH bytes of it (older files first), and
 * moves on to a new file at the path (rotation, or the first one).
 */
static void
source_sync(struct audit_source *as)
{
	struct tailfile next;
	struct stat sb;
	size_t i, budget = AUDIT_BATCH;

	as->backlog = 0;
	for (i = 0; i < as->nprev; i++)
		tail_read(as, &as->prev[i], &budget);
	if (as->cur.fd >= 0)
		tail_read(as, &as->cur, &budget);
	if (as->path == NULL)
		return;
	source_adopt_old(as, &budget);
	if (stat(as->path, &sb) == -1)
		return;
	if (as->cur.fd >= 0 && sb.st_dev == as->cur.dev && sb.st_ino == as->cur.ino)
		return;
	if (tail_open(as, as->path, 0, &next) == -1) {
		if (!as->open_warned)
			log_warn("audit log %s", as->path);
		as->open_warned = 1;
		return;
	}
	as->open_warned = 0;
	if (as->cur.fd >= 0) {
		if (next.dev == as->cur.dev && next.ino == as->cur.ino) {
			tail_release(as, &next);
			return;
		}
		/*
		 * Other smbd processes keep writing to the old file until they
		 * notice: follow it a while longer.
		 */
		tail_read(as, &as->cur, &budget);
		prev_push(as, &as->cur);
		as->st.rotations++;
		log_info("audit log %s rotated, following the new file", as->path);
	}
	as->cur = next;
	tail_read(as, &as->cur, &budget);
}

/* Binds the datagram socket smbd or syslog sends to; logs why when it cannot. */
static int
sock_open(struct audit_source *as, const char *path)
{
	struct sockaddr_un sa;
	struct stat sb;
	int s, probe, rcvbuf = 4 << 20;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("audit socket %s: path too long (at most %zu bytes)", path,
		    sizeof(sa.sun_path) - 1);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			log_warnx("audit socket %s: exists and is not a socket; remove it or "
			    "choose another path", path);
			return -1;
		}
		/* A socket someone still receives on is not stale. */
		if ((probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
			log_warn("audit socket %s", path);
			return -1;
		}
		if (connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
			close(probe);
			log_warnx("audit socket %s: another process receives on it; stop it or "
			    "choose another path", path);
			return -1;
		}
		close(probe);
		if (unlink(path) == -1) {
			log_warn("audit socket %s: removing the stale socket", path);
			return -1;
		}
	}
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sa, sizeof sa) == -1 || chmod(path, 0666) == -1 ||
	    lstat(path, &sb) == -1) {
		log_warn("audit socket %s", path);
		if (s != -1)
			close(s);
		return -1;
	}
	/* Room for a burst while detection is busy; the kernel caps it. */
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	as->sock_dev = sb.st_dev;
	as->sock_ino = sb.st_ino;
	return s;
}

struct audit_source *
audit_source_open(struct audit_parser *ap, const char *log_path, const char *sock_path,
    int start_at_end, audit_event_cb cb, void *arg)
{
	struct audit_source *as = xcalloc(1, sizeof *as);
	const char *slash;

	as->ap = ap;
	as->cb = cb;
	as->arg = arg;
	as->ifd = -1;
	as->sfd = -1;
	tail_reset(&as->cur);
	if (log_path != NULL) {
		struct stat sb;

		as->path = xstrdup(log_path);
		if (asprintf(&as->old_path, "%s.old", log_path) == -1)
			fatal("asprintf");
		if ((slash = strrchr(as->path, '/')) == NULL)
			as->dir = xstrdup(".");
		else
			as->dir = slash == as->path ? xstrdup("/") :
			    xstrndup(as->path, (size_t)(slash - as->path));
		if (stat(as->dir, &sb) == -1) {
			log_warn("audit log directory %s", as->dir);
			goto fail;
		}
		if (!S_ISDIR(sb.st_mode)) {
			log_warnx("audit log directory %s: not a directory", as->dir);
			goto fail;
		}
#ifdef __linux__
		if ((as->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
			log_warn("audit log %s: inotify unavailable, polling every tick instead",
			    as->path);
		else if (inotify_add_watch(as->ifd, as->dir, IN_CREATE | IN_MOVED_TO |
		    IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR) == -1) {
			log_warn("audit log directory %s", as->dir);
			goto fail;
		}
#endif
		/* Nothing is read yet: the first read or tick delivers what the file holds. */
		if (tail_open(as, as->path, start_at_end ? -1 : 0, &as->cur) == -1) {
			if (errno != ENOENT) {
				log_warn("audit log %s", as->path);
				goto fail;
			}
			log_info("audit log %s does not exist yet, waiting for it", as->path);
		}
		/* What an earlier rotation left is history; only what it gains is new. */
		if (stat(as->old_path, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    !source_follows(as, sb.st_dev, sb.st_ino))
			known_add(as, sb.st_dev, sb.st_ino, sb.st_size);
	}
	if (sock_path != NULL) {
		if ((as->sfd = sock_open(as, sock_path)) == -1)
			goto fail;
		as->sock_path = xstrdup(sock_path);
		as->dgram = xmalloc(DGRAM_MAX + 1);
	}
	return as;
fail:
	audit_source_close(as);
	return NULL;
}

void
audit_source_close(struct audit_source *as)
{
	struct stat sb;
	size_t i;

	if (as == NULL)
		return;
	for (i = 0; i < as->nprev; i++)
		tail_release(as, &as->prev[i]);
	tail_release(as, &as->cur);
	if (as->ifd >= 0)
		close(as->ifd);
	if (as->sfd >= 0) {
		close(as->sfd);
		/* Only our own socket: another daemon may have taken the path since. */
		if (lstat(as->sock_path, &sb) == 0 && sb.st_dev == as->sock_dev &&
		    sb.st_ino == as->sock_ino)
			unlink(as->sock_path);
	}
	free(as->sock_path);
	free(as->dgram);
	free(as->path);
	free(as->old_path);
	free(as->dir);
	free(as);
}

int
audit_source_fds(struct audit_source *as, int *fds, int max)
{
	int n = 0;

	if (as->ifd >= 0 && n < max)
		fds[n++] = as->ifd;
	if (as->sfd >= 0 && n < max)
		fds[n++] = as->sfd;
	return n;
}

#ifdef __linux__
static void
inotify_drain(struct audit_source *as)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	ssize_t n;
	size_t i;
	char *p;

	for (;;) {
		n = read(as->ifd, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (p = buf; p < buf + n; p += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)p;
			/* The kernel dropped a watch (file deleted): forget it. */
			if (ie->mask & IN_IGNORED) {
				if (ie->wd == as->cur.wd)
					as->cur.wd = -1;
				for (i = 0; i < as->nprev; i++)
					if (ie->wd == as->prev[i].wd)
						as->prev[i].wd = -1;
			}
		}
	}
}
#endif

/*
 * A datagram from syslog(3) is one message even when a file name in it holds
 * a newline; a datagram of bare lines may carry several.
 */
static void
sock_read(struct audit_source *as)
{
	struct audit_stream saved = as->ap->st;
	struct feed f;
	ssize_t n;
	char *p, *end, *nl;
	int i;

	as->ap->st = as->sock_stream;
	for (i = 0; i < 4096; i++) {
		n = recv(as->sfd, as->dgram, DGRAM_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("audit socket %s: recv", as->sock_path);
			break;
		}
		feed_init(as, &f);
		if (n > DGRAM_MAX) {
			as->st.lines++;
			as->st.malformed++;
			continue;
		}
		end = as->dgram + n;
		while (end > as->dgram && (end[-1] == '\n' || end[-1] == '\0'))
			end--;
		if (end == as->dgram)
			continue;
		if (as->dgram[0] == '<') {
			line_emit(&f, as->dgram, (size_t)(end - as->dgram));
			continue;
		}
		for (p = as->dgram; p <= end; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			line_emit(&f, p, (size_t)(nl - p));
		}
	}
	as->sock_stream = as->ap->st;
	as->ap->st = saved;
}

void
audit_source_read(struct audit_source *as, int fd)
{
	if (fd < 0)
		return;
	if (fd == as->sfd) {
		sock_read(as);
		return;
	}
#ifdef __linux__
	if (fd == as->ifd) {
		inotify_drain(as);
		source_sync(as);
	}
#endif
}

/* Samba ends every record with a newline: a tail that waited too long is parsed, its rest dropped. */
static void
tail_expire_partial(struct audit_source *as, struct tailfile *tf, int64_t now)
{
	if (tf->fd >= 0 && tf->lb.len && !tf->lb.skip && tf->partial_since &&
	    now - tf->partial_since >= PARTIAL_MS) {
		tail_flush(as, tf);
		tf->lb.skip = 1;
	}
}

void
audit_source_tick(struct audit_source *as)
{
	int64_t now;
	size_t i;

	source_sync(as);
	now = mono_ms();
	tail_expire_partial(as, &as->cur, now);
	for (i = 0; i < as->nprev; i++)
		tail_expire_partial(as, &as->prev[i], now);
	/* Writers that have not switched files within a minute never will. */
	for (i = 0; i < as->nprev; ) {
		if (now - as->prev[i].last_data >= PREV_IDLE_MS)
			prev_drop(as, i);
		else
			i++;
	}
}

const struct audit_stats *
audit_source_stats(const struct audit_source *as)
{
	return &as->st;
}

int
audit_source_backlog(const struct audit_source *as)
{
	return as->backlog;
}
