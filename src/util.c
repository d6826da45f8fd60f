/* Small helpers shared by every module: allocation, time, strings, running programs without a shell. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

extern char **environ;

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("malloc");
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		fatal("calloc");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		fatal("realloc");
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
fmt_timeout(int64_t ms, char buf[32])
{
	if (ms < 1000 || (ms % 100) != 0)
		snprintf(buf, 32, "%lld ms", (long long)ms);
	else if (ms % 1000 == 0)
		snprintf(buf, 32, "%lld s", (long long)(ms / 1000));
	else
		snprintf(buf, 32, "%lld.%lld s", (long long)(ms / 1000), (long long)(ms % 1000 / 100));
	return buf;
}

char *
fmt_time(int64_t ms, char buf[32])
{
	struct tm tm;
	time_t t;

	if (ms <= 0) {
		buf[0] = '\0';
		return buf;
	}
	t = (time_t)(ms / 1000);
	gmtime_r(&t, &tm);
	snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
	    (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u, (unsigned)(ms % 1000));
	return buf;
}

char *
str_copy(char *buf, size_t bufsz, struct sw_str s)
{
	size_t n = s.n < bufsz - 1 ? s.n : bufsz - 1;

	if (n)
		memcpy(buf, s.p, n);
	buf[n] = '\0';
	return buf;
}

int
str_eq(struct sw_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

struct sw_str
path_base(struct sw_str path)
{
	const char *slash = path.n ? memrchr(path.p, '/', path.n) : NULL;
	struct sw_str b = path;

	if (slash) {
		b.p = slash + 1;
		b.n = path.n - (size_t)(b.p - path.p);
	}
	return b;
}

/* Drains fd into a growing buffer; returns 0 at EOF, 1 when more may come, -1 on error. */
static int
drain(int fd, char **buf, size_t *len, size_t *cap)
{
	const size_t limit = 16u << 20;
	char tmp[65536];
	ssize_t n = read(fd, tmp, sizeof tmp);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	if (n == 0)
		return 0;
	if (*len + (size_t)n > limit)
		n = (ssize_t)(limit - *len);
	if (*len + (size_t)n + 1 > *cap) {
		*cap = (*len + (size_t)n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, tmp, (size_t)n);
	*len += (size_t)n;
	(*buf)[*len] = '\0';
	return 1;
}

int
run_argv(const char *const argv[], struct run_result *r, int timeout_ms)
{
	int outp[2], errp[2], st;
	size_t ocap = 1, ecap = 1;
	int64_t deadline = mono_ms() + timeout_ms;
	int open_fds = 2;
	pid_t pid;

	memset(r, 0, sizeof *r);
	r->out = xcalloc(1, 1);
	r->err = xcalloc(1, 1);
	r->status = -1;
	if (pipe2(outp, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(errp, O_CLOEXEC) == -1) {
		close(outp[0]);
		close(outp[1]);
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		close(outp[0]); close(outp[1]); close(errp[0]); close(errp[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		setpgid(0, 0);
		execve(argv[0], (char *const *)argv, environ);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	{
		struct pollfd pfd[2] = { { outp[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };

		while (open_fds > 0) {
			int left = (int)(deadline - mono_ms());

			if (left <= 0) {
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				r->status = -2;
				break;
			}
			if (poll(pfd, 2, left) < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			for (int i = 0; i < 2; i++) {
				int rc;

				if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				rc = i == 0 ? drain(pfd[i].fd, &r->out, &r->outlen, &ocap) :
				    drain(pfd[i].fd, &r->err, &r->errlen, &ecap);
				if (rc <= 0) {
					pfd[i].fd = -1;
					open_fds--;
				}
			}
		}
	}
	close(outp[0]);
	close(errp[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (r->status != -2) {
		if (WIFEXITED(st))
			r->status = WEXITSTATUS(st);
		else if (WIFSIGNALED(st))
			r->status = 128 + WTERMSIG(st);
	}
	return r->status;
}

void
run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int
parse_duration_ms(const char *s, int64_t *ms)
{
	char *end;
	double v;
	int64_t mul = 1000;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60000;
	else if (strcmp(end, "h") == 0)
		mul = 3600000;
	else if (strcmp(end, "d") == 0)
		mul = 86400000;
	else
		return -1;
	if (v * (double)mul > 9.2e18)
		return -1;
	*ms = (int64_t)(v * (double)mul);
	return 0;
}

size_t
utf8_char_len(const unsigned char *p, size_t n, uint32_t *cpp)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80) {
		if (cpp)
			*cpp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cpp)
		*cpp = cp;
	return len;
}

int
utf8_cp_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0x061c ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

void
fput_escaped(FILE *f, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;
	uint32_t cp;

	while (i < n) {
		size_t l = utf8_char_len(u + i, n - i, &cp);

		if (l == 0 || utf8_cp_unsafe(cp)) {
			if (l == 0)
				l = 1;
			for (size_t k = 0; k < l; k++)
				fprintf(f, "\\x%02x", u[i + k]);
		} else if (cp == '\\')
			fputs("\\\\", f);
		else
			fwrite(u + i, 1, l, f);
		i += l;
	}
}

char *
utf8_sanitize(const char *p, size_t n, int *lossy)
{
	const unsigned char *u = (const unsigned char *)p;
	char *out = xmalloc(n * 3 + 1), *o = out;
	size_t i = 0;

	if (lossy)
		*lossy = 0;
	while (i < n) {
		size_t l = utf8_char_len(u + i, n - i, NULL);

		if (l == 0 || u[i] == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			if (lossy)
				*lossy = 1;
			continue;
		}
		memcpy(o, u + i, l);
		o += l;
		i += l;
	}
	*o = '\0';
	return out;
}

void
str_appendf(char *buf, size_t bufsz, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= bufsz)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, bufsz - len, fmt, ap);
	va_end(ap);
}

void
crash_point(const char *name)
{
	const char *at = getenv("SHAREWARDEN_CRASH_AT");

	if (at == NULL || strcmp(at, name) != 0)
		return;
	log_warnx("SHAREWARDEN_CRASH_AT=%s: killing myself here (test hook)", name);
	raise(SIGKILL);
}

int
thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int
secret_file_read(const char *what, const char *path, char *buf, size_t bufsz, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd;

	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	/* Checked on the file opened, not on the name: it cannot be swapped in between. */
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a regular file", what, path);
		close(fd);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s %s belongs to uid %u, not root: chown root %s", what, path,
		    (unsigned)st.st_uid, path);
		close(fd);
		return -1;
	}
	/* Like OpenSMTPD's check_file_secrecy: the secret stays between root and the file. */
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen, "%s %s is open to group or others (mode %03o): it holds a password: "
		    "chmod 600 %s", what, path, (unsigned)(st.st_mode & 0777), path);
		close(fd);
		return -1;
	}
	while (len < bufsz && (n = read(fd, buf + len, bufsz - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
			explicit_bzero(buf, bufsz);
			close(fd);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len == bufsz) {
		explicit_bzero(buf, bufsz);
		snprintf(err, errlen, "%s %s is too long: it holds the password alone, on one line", what, path);
		return -1;
	}
	buf[len] = '\0';
	/* The first line, without its end: "echo pass > file" and an editor's final newline both work. */
	{
		const char *nl = memchr(buf, '\n', len);

		if (nl != NULL)
			len = (size_t)(nl - buf);
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	explicit_bzero(buf + len, bufsz - len);
	if (len == 0) {
		snprintf(err, errlen, "%s %s is empty: a bind without a password is anonymous", what, path);
		return -1;
	}
	if (memchr(buf, '\0', len) != NULL) {
		explicit_bzero(buf, bufsz);
		snprintf(err, errlen, "%s %s holds a NUL byte: it holds the password alone, as text", what, path);
		return -1;
	}
	return 0;
}

int
name_token_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}
