/* Small helpers shared by every module: allocation, time, strings, running programs without a shell. */
#ifndef SW_UTIL_H
#define SW_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

#define SW_VERSION	"0.1.0"

/* A borrowed byte string (not NUL-terminated, may hold any byte). */
struct sw_str {
	const char *p;
	size_t n;
};

/* Allocation wrappers: they never return NULL, they exit on exhaustion. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

int64_t now_ms(void);		/* wall clock, ms since the epoch */
int64_t mono_ms(void);		/* monotonic clock, ms */

/*
 * A test hook: when the environment variable SHAREWARDEN_CRASH_AT names
 * this point, the process kills itself with SIGKILL here, as a power cut or
 * an OOM kill would. Unset (production), it costs a getenv and does nothing.
 */
void crash_point(const char *name);

/* RFC 3339 in UTC with milliseconds, "2026-11-27T04:42:58.116Z"; "" for 0. Returns buf. */
char *fmt_time(int64_t ms, char buf[32]);
/* A timeout as people read it: "2 s", "1.5 s", "300 ms". Returns buf. */
char *fmt_timeout(int64_t ms, char buf[32]);
/*
 * pthread_create with every signal blocked in the new thread: signals stay
 * with the daemon's main thread, whose handlers set its flags. Returns
 * pthread_create's result.
 */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* Copies a view into buf as a NUL-terminated string, truncating to bufsz - 1. Returns buf. */
char *str_copy(char *buf, size_t bufsz, struct sw_str s);
int str_eq(struct sw_str s, const char *lit);

/* Last path component of a path view (after the last '/'). */
struct sw_str path_base(struct sw_str path);

/*
 * The result of run_argv(). out and err are NUL-terminated and owned by the
 * result; free them with run_result_free().
 */
struct run_result {
	int status;		/* exit code 0..255, 128+N for signal N, -1 not started, -2 timed out */
	char *out;
	size_t outlen;
	char *err;
	size_t errlen;
};

/*
 * Runs argv[0] (an absolute path) with execve and exactly the given argv: no
 * shell, no PATH search. stdin is /dev/null. stdout and stderr are captured
 * (each up to 16 MiB). The child is killed after timeout_ms.
 */
int run_argv(const char *const argv[], struct run_result *r, int timeout_ms);
void run_result_free(struct run_result *r);

/* Appends printf-style text to the NUL-terminated buf, cut to fit (reasons, details). */
void str_appendf(char *buf, size_t bufsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Length of the well-formed UTF-8 character at p (1-4; no overlong forms, no
 * surrogates, nothing past U+10FFFF), or 0 when the bytes there are not one.
 * Its code point goes to *cp when cp is not NULL.
 */
size_t utf8_char_len(const unsigned char *p, size_t n, uint32_t *cp);

/* Code points that can move a cursor, break a line or reorder what is shown: C0, DEL, C1, separators, bidi. */
int utf8_cp_unsafe(uint32_t cp);

/*
 * Writes attacker-chosen bytes so that they can neither fake lines nor drive a
 * terminal: C0/C1 controls, DEL, bidi controls and invalid UTF-8 become \xNN
 * per byte, and '\' is doubled so an escape cannot be faked.
 */
void fput_escaped(FILE *f, const char *p, size_t n);

/*
 * A valid UTF-8 copy of p (malloc'd, NUL-terminated): each byte that is not
 * part of a valid sequence becomes U+FFFD. *lossy (may be NULL) tells whether
 * a replacement happened. NUL bytes also become U+FFFD.
 */
char *utf8_sanitize(const char *p, size_t n, int *lossy);

/*
 * Reads the secret held on the first line of path (its line end left out)
 * into buf, refusing a file that is not a regular file of root (or of the
 * caller) with no permission for group or others. what names the file in
 * err ("ldap password file"). 0, or -1 with err filled and buf wiped.
 */
int secret_file_read(const char *what, const char *path, char *buf, size_t bufsz, char *err, size_t errlen);

/* A name of the fleet and of replication (site, server, sender): 1 to 63 letters, digits, '_' or '-'. */
int name_token_ok(const char *s, size_t n);

/* Parses "250ms", "60s", "5m", "2h", "7d" or a bare number of seconds. */
int parse_duration_ms(const char *s, int64_t *ms);

#endif
