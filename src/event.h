/* The one normalized file event that flows from the sources to detection and the journal. */
#ifndef SW_EVENT_H
#define SW_EVENT_H

#include <stdint.h>

#include "util.h"

enum sw_op {
	OP_NONE,
	OP_CONNECT,	/* tree connect; path = share name */
	OP_DISCONNECT,
	OP_OPEN,	/* openat; EVF_WRITE when opened for writing */
	OP_CREATE,	/* create_file; EVF_DIR for directories, disposition in EVF_* */
	OP_WRITE,	/* pwrite_send / pwrite_recv / pwrite / write */
	OP_CLOSE,
	OP_RENAME,	/* path -> path2 */
	OP_UNLINK,	/* file or directory removed */
	OP_MKDIR,
	OP_ATTR,	/* fntimes and other metadata changes */
	OP_OVERFLOW,	/* the kernel queue overflowed: events were lost (no path) */
	OP__COUNT
};

enum sw_source {
	SRC_AUDIT = 1,
	SRC_FANOTIFY = 2,
};

/* Event flags. */
#define EVF_WRITE	0x01	/* open for writing / create with write access */
#define EVF_DIR		0x02	/* the object is a directory */
#define EVF_NEWFILE	0x04	/* create_file may create a new file (create, open_if, overwrite_if, supersede) */
#define EVF_TRUNC	0x08	/* create_file truncates an existing file (overwrite, overwrite_if, supersede) */
#define EVF_AMBIGUOUS	0x10	/* a two-path line could be split in more than one way */
#define EVF_WITNESS	0x20	/* journaled from a second source (a kernel create beside full_audit): not scored */

/*
 * A kernel file handle of the event's object (fanotify FID), opaque outside
 * fs_linux.c: it opens the object even after a rename (fs_open_handle).
 */
struct sw_handle {
	int mount_fd;		/* an fd on the filesystem the handle belongs to */
	int type;
	unsigned int len;
	unsigned char bytes[128];
};

/*
 * Every string is a view into the source's buffer: valid only during the
 * callback that receives the event. Consumers that keep anything copy it.
 * Paths are absolute filesystem paths and may hold any byte but NUL.
 */
struct sw_event {
	int64_t at_ms;		/* when it happened, ms since the epoch */
	enum sw_op op;
	int ok;			/* 1 the operation succeeded, 0 it failed */
	unsigned flags;
	enum sw_source src;
	int pid;		/* the per-client smbd pid */
	struct sw_str user;	/* may be empty for kernel events until attributed */
	struct sw_str ip;
	struct sw_str host;
	struct sw_str share;
	struct sw_str path;
	struct sw_str path2;	/* rename target */
	const struct sw_handle *handle;	/* NULL unless the source has the object's handle */
};

const char *op_name(enum sw_op op);
/* Whether the op can change data or names (what the journal keeps and restore needs). */
int op_mutates(const struct sw_event *ev);

#endif
