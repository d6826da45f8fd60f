/* Content analysis of written files: does the content still match what its name promises, or is it ciphertext? */
#ifndef SW_CONTENT_H
#define SW_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define CONTENT_SAMPLE	4096	/* bytes read at each of head, middle and tail */

enum content_verdict {
	CV_OK,			/* content matches the extension, or nothing to say */
	CV_UNKNOWN,		/* unknown extension and unremarkable content */
	CV_FORMAT_BROKEN,	/* the extension promises a format whose signature is gone (docx not a zip, pdf without %PDF) */
	CV_TEXT_BROKEN,		/* a text format (txt, csv, xml, html...) that is no longer text */
	CV_CIPHERTEXT,		/* no known format and near-random bytes throughout (an encrypted copy) */
	CV_PARTIAL,		/* near-random bytes in one part where the format expects structure (header-only, intermittent) */
};

struct content_result {
	enum content_verdict verdict;
	char expected[16];	/* what the extension promises: "zip", "pdf", "jpeg", "text", ... or "" */
	char found[16];		/* what the bytes are: "zip", "pdf", ..., "text", "random", "unknown" */
	double entropy[3];	/* bits per byte of head, middle, tail samples (-1 when not sampled) */
	uint64_t size;
	char detail[128];
};

const char *content_verdict_name(enum content_verdict v);

/*
 * Pure classifier over the samples of one file (any may be empty). name is the
 * base name whose extension tells the promised format. Files that really are
 * compressed or encrypted by design (.zip .7z .gz .jpg .mp4 .gpg .kdbx ...) are
 * CV_OK when their signature is valid.
 */
void content_classify(const char *name, size_t namelen, const unsigned char *head, size_t headlen,
    const unsigned char *mid, size_t midlen, const unsigned char *tail, size_t taillen, uint64_t size,
    struct content_result *r);

/* Reads the samples from fd (at most 3 x CONTENT_SAMPLE bytes, pread) and classifies. 0 ok, -1 read error. */
int content_analyze_fd(int fd, const char *name, size_t namelen, struct content_result *r);

/* A written file to analyze, owned by the worker once submitted (content_worker_submit copies it). */
struct content_job {
	uint64_t seq;
	int64_t at;
	int pid;
	char user[128];
	char ip[64];
	char *path;			/* malloc'd copy */
	size_t pathlen;
	int has_handle;
	struct sw_handle handle;	/* preferred: still opens after a rename */
};

typedef void (*content_result_cb)(const struct content_job *job, const struct content_result *r, void *arg);

/*
 * One worker thread off the event path. Jobs are opened by handle (or by path
 * with fs_open_nofollow), read with bounded samples, classified; results are
 * queued and the fd from content_worker_fd becomes readable.
 */
struct content_worker;

struct content_worker *content_worker_start(size_t max_queue);
void content_worker_stop(struct content_worker *w);
/*
 * Copies job (the handle's mount_fd is borrowed: it must stay open until the
 * result is collected). Returns 0, or -1 when the queue is full (the job is
 * dropped and counted).
 */
int content_worker_submit(struct content_worker *w, const struct content_job *job);
int content_worker_fd(const struct content_worker *w);
/* Delivers every finished result to cb (in the caller's thread). Returns how many. */
int content_worker_collect(struct content_worker *w, content_result_cb cb, void *arg);
/* Counters: analyzed, dropped (queue full), failed (open/read), total CPU ns spent in analysis. */
void content_worker_stats(const struct content_worker *w, uint64_t *analyzed, uint64_t *dropped,
    uint64_t *failed, uint64_t *cpu_ns);

#endif
