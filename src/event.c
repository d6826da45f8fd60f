/* Names and classes of the normalized event ops. */
#include "event.h"

const char *
op_name(enum sw_op op)
{
	static const char *names[OP__COUNT] = {
		[OP_NONE] = "none", [OP_CONNECT] = "connect", [OP_DISCONNECT] = "disconnect",
		[OP_OPEN] = "open", [OP_CREATE] = "create", [OP_WRITE] = "write",
		[OP_CLOSE] = "close", [OP_RENAME] = "rename", [OP_UNLINK] = "unlink",
		[OP_MKDIR] = "mkdir", [OP_ATTR] = "attr", [OP_OVERFLOW] = "overflow",
	};

	return (unsigned)op < OP__COUNT && names[op] ? names[op] : "none";
}

int
op_mutates(const struct sw_event *ev)
{
	if (!ev->ok)
		return 0;
	switch (ev->op) {
	case OP_WRITE:
	case OP_RENAME:
	case OP_UNLINK:
	case OP_MKDIR:
		return 1;
	case OP_CREATE:
		return (ev->flags & (EVF_TRUNC | EVF_NEWFILE)) != 0 && (ev->flags & EVF_WRITE);
	default:
		return 0;
	}
}
