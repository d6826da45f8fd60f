/* The notification channels behind notify.c: one delivery attempt each, over libcurl. */
#ifndef SW_NOTIFY_IMPL_H
#define SW_NOTIFY_IMPL_H

#include <stddef.h>

#include <curl/curl.h>

struct config;
struct outbox_msg;

/* A send returns this when the sender is stopping: not an attempt, the message stays due. */
#define NOTIFY_ABORTED	(-2)

/*
 * One attempt to deliver m. 0 delivered; -1 failed with the reason (one
 * line, control bytes escaped) in err; NOTIFY_ABORTED when *stop became set.
 */
int notify_mail_send(const struct config *cfg, const struct outbox_msg *m,
    const volatile int *stop, char *err, size_t errlen);
int notify_webhook_send(const struct config *cfg, const struct outbox_msg *m,
    const volatile int *stop, char *err, size_t errlen);

/* Settings every transfer shares: timeouts, TLS trust, no signals, abort on *stop. */
void notify_curl_setup(CURL *c, const struct config *cfg, const volatile int *stop,
    char errbuf[CURL_ERROR_SIZE]);

/*
 * The reason a transfer to url failed, as one safe line in err; NOTIFY_ABORTED
 * when it was stopped. A server that did not answer in time is named (without
 * credentials or path) with [notify] timeout.
 */
int notify_curl_error(CURLcode rc, const char *errbuf, const struct config *cfg, const char *url,
    const volatile int *stop, char *err, size_t errlen);

#endif
