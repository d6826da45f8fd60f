/* The daemon: sources -> detection -> journal -> responders, in one event loop. */
#ifndef SW_DAEMON_H
#define SW_DAEMON_H

struct config;

/* Runs until SIGTERM/SIGINT. foreground: stay attached and log to stderr. Returns an exit code. */
int daemon_run(struct config *cfg, int foreground);

#endif
