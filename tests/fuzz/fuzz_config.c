/* libFuzzer harness: config_load on arbitrary file contents must report errors, never crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct config cfg;
	char path[64];
	int fd = memfd_create("fuzz-config", 0);

	if (fd == -1)
		return 0;
	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		config_defaults(&cfg);
		config_load(path, &cfg, devnull);
		config_free(&cfg);
	}
	close(fd);
	return 0;
}
