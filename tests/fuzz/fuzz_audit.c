/* libFuzzer harness: one input as a full_audit line through the parser, and as a stream through audit_feed_fd. */
#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
touch(const struct sw_event *ev, void *arg)
{
	/* Reading every byte of every view lets ASan check they lie in the buffer. */
	const struct sw_str *v[] = { &ev->user, &ev->ip, &ev->host, &ev->share, &ev->path, &ev->path2 };
	size_t i, j;

	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		for (j = 0; j < v[i]->n; j++)
			*(size_t *)arg += (unsigned char)v[i]->p[j];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_parser *ap = audit_parser_new();
	struct audit_stats st = { 0 };
	struct sw_event ev;
	size_t sum = 0;
	char *copy = malloc(size ? size : 1);
	int fd;

	audit_parser_add_share(ap, "data", "/srv/share");
	/* An exact-size copy: a read past the line's end is a heap overflow. */
	memcpy(copy, data, size);
	if (audit_parse_line(ap, copy, size, 0, &ev) == AUDIT_EVENT) {
		if (ev.path.n == 0 || ev.path.p < copy || ev.path.p + ev.path.n > copy + size)
			abort();
		touch(&ev, &sum);
	}
	free(copy);
	if ((fd = memfd_create("fuzz_audit", MFD_CLOEXEC)) != -1) {
		if (write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0)
			audit_feed_fd(ap, fd, touch, &sum, &st);
		close(fd);
		if (st.events + st.skipped + st.malformed != st.lines)
			abort();
	}
	audit_parser_free(ap);
	return 0;
}
