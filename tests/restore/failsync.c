/* Preloaded by the restore tests: syncfs fails as on a disk that reports a write error. */
#include <errno.h>
#include <unistd.h>

int syncfs(int fd);

int
syncfs(int fd)
{
	(void)fd;
	errno = EIO;
	return -1;
}
