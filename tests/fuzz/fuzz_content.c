/* libFuzzer harness: one input split into a file name and three samples through content_classify. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An exact-size copy of the next want bytes: a read past a sample's end is a heap overflow. */
static unsigned char *
piece(const uint8_t **p, size_t *left, size_t want, size_t *got)
{
	unsigned char *q;

	if (want > *left)
		want = *left;
	q = malloc(want ? want : 1);
	if (q == NULL)
		abort();
	memcpy(q, *p, want);
	*p += want;
	*left -= want;
	*got = want;
	return q;
}

static void
check_field(const char *s, size_t cap)
{
	size_t i;

	if (memchr(s, '\0', cap) == NULL)
		abort();
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			abort();
}

/*
 * Input: name length (1 byte, mod 64), head and middle lengths (2 bytes
 * each, little endian, up to CONTENT_SAMPLE), the file size (4 bytes; 0 means
 * the samples' total), then the name, head, middle and tail bytes.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct content_result r;
	const uint8_t *p = data + 9;
	size_t left, want[3], got[4], i;
	unsigned char *name, *part[3];
	uint64_t fsize;

	if (size < 9)
		return 0;
	left = size - 9;
	want[0] = (size_t)(data[1] | data[2] << 8) % (CONTENT_SAMPLE + 1);
	want[1] = (size_t)(data[3] | data[4] << 8) % (CONTENT_SAMPLE + 1);
	want[2] = CONTENT_SAMPLE;
	fsize = (uint64_t)data[5] | (uint64_t)data[6] << 8 | (uint64_t)data[7] << 16 | (uint64_t)data[8] << 24;
	name = piece(&p, &left, data[0] % 64, &got[3]);
	for (i = 0; i < 3; i++)
		part[i] = piece(&p, &left, want[i], &got[i]);
	if (fsize == 0)
		fsize = got[0] + got[1] + got[2];
	content_classify((const char *)name, got[3], part[0], got[0], part[1], got[1], part[2], got[2], fsize, &r);
	if ((unsigned)r.verdict > CV_PARTIAL || r.size != fsize)
		abort();
	check_field(r.detail, sizeof(r.detail));
	check_field(r.expected, sizeof(r.expected));
	check_field(r.found, sizeof(r.found));
	for (i = 0; i < 3; i++)
		if (r.entropy[i] != -1 && (r.entropy[i] < 0 || r.entropy[i] > 8.0001))
			abort();
	if (content_verdict_name(r.verdict) == NULL)
		abort();
	free(name);
	for (i = 0; i < 3; i++)
		free(part[i]);
	return 0;
}
