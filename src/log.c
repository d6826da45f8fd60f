/* One logging module: stderr in the foreground, syslog otherwise. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "util.h"

static int log_fg = 1;
static enum log_level log_lvl = LOG_LVL_INFO;

void
log_init(int foreground, enum log_level level)
{
	log_fg = foreground;
	log_lvl = level;
	if (!foreground)
		openlog("sharewarden", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_lvl = level;
}

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048];
	int saved = errno;

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_fg) {
		char t[32] = "";

		/* The daemon in the foreground stamps its lines; the CLI does not. */
		if (log_fg == LOG_FG_STAMPED) {
			fmt_time(now_ms(), t);
			strcat(t, " ");
		}
		if (suffix)
			fprintf(stderr, "%ssharewarden: %s: %s\n", t, msg, suffix);
		else
			fprintf(stderr, "%ssharewarden: %s\n", t, msg);
		fflush(stderr);
	} else if (suffix)
		syslog(pri, "%s: %s", msg, suffix);
	else
		syslog(pri, "%s", msg);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror(e));
	va_end(ap);
	errno = e;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_lvl < LOG_LVL_INFO)
		return;
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_lvl < LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(e));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
