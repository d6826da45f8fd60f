/* One logging module: stderr in the foreground, syslog otherwise. */
#ifndef SW_LOG_H
#define SW_LOG_H

#define SW_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

#define LOG_FG_STAMPED 2	/* foreground value: stderr lines carry a timestamp */

/* foreground: log to stderr instead of syslog (LOG_FG_STAMPED: with timestamps). errno is preserved by every call. */
void log_init(int foreground, enum log_level level);
void log_set_level(enum log_level level);
void log_warn(const char *fmt, ...) SW_PRINTF(1, 2);	/* appends strerror(errno) */
void log_warnx(const char *fmt, ...) SW_PRINTF(1, 2);
void log_info(const char *fmt, ...) SW_PRINTF(1, 2);
void log_debug(const char *fmt, ...) SW_PRINTF(1, 2);
void fatal(const char *fmt, ...) SW_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) SW_PRINTF(1, 2) __attribute__((noreturn));

#endif
