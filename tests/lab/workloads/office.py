#!/usr/bin/python3
"""A benign office user over SMB3 (bob): creates, reads and saves documents the way Word and Excel do.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2`);
DURATION seconds (default 20); OFFICE_DIR folder of the share to work in (default bob).

Every step is one user action (save, open, list...). A step that fails, or
that needed a new session because the old one was cut, counts as failed.
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import sys
import time

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import Client, Refused, describe, join, workload_rng  # noqa: E402

STEMS = ("Quarterly report", "Meeting notes", "Budget draft", "Customer list", "Project plan", "Minutes",
	 "Offer", "Timesheet", "Travel expenses", "Letter")


class Office:
	def __init__(self, client, folder, rng):
		self.c = client
		self.folder = folder
		self.rng = rng
		self.docs = []		# names this user saved in this run
		self.serial = 0
		self.ok = 0
		self.failed = 0

	def content(self, name):
		title = name.rsplit(".", 1)[0]
		if name.endswith(".docx"):
			return corpus.make_docx(self.rng, title, author="Bob")
		if name.endswith(".xlsx"):
			return corpus.make_xlsx(self.rng, title, author="Bob")
		return corpus.make_text(self.rng, title, self.rng.randint(3000, 20000))

	def create(self):
		self.serial += 1
		ext = self.rng.choice(("docx", "docx", "xlsx", "txt"))
		name = f"{self.rng.choice(STEMS)} {os.getpid() % 1000:03d}-{self.serial:03d}.{ext}"
		path = join(self.folder, name)
		data = self.content(name)
		self.c.put(path, data)
		if self.c.get(path) != data:
			raise RuntimeError(f"{name}: read back differs")
		self.docs.append(name)

	def save(self):
		"""Word and Excel never write over the document: they write a temporary file, move the
		original aside, move the temporary file into place and delete the original."""
		name = self.rng.choice(self.docs)
		path = join(self.folder, name)
		old = self.c.get(path)
		if not old:
			raise RuntimeError(f"{name}: empty")
		data = self.content(name)
		if name.endswith(".txt"):
			# Notepad saves in place.
			self.c.put(path, data)
		else:
			tmp = join(self.folder, f"~WRL{self.rng.randint(0, 9999):04d}.tmp")
			if name.endswith(".xlsx"):
				backup = join(self.folder, "%08X" % self.rng.getrandbits(32))
			else:
				backup = join(self.folder, f"~WRD{self.rng.randint(0, 9999):04d}.tmp")
			self.c.put(tmp, data)
			self.c.rename(path, backup)
			self.c.rename(tmp, path)
			self.c.delete(backup)
		if self.c.get(path) != data:
			raise RuntimeError(f"{name}: saved content differs")

	def browse(self):
		self.c.list_dir("")
		files, _ = self.c.list_dir(self.folder)
		if files:
			self.c.get(join(self.folder, self.rng.choice(files)))

	def step(self):
		if len(self.docs) < 3 or self.rng.random() < 0.2:
			return self.create
		if self.rng.random() < 0.35:
			return self.browse
		return self.save

	def run(self, duration):
		end = time.monotonic() + duration
		while time.monotonic() < end:
			action = self.step()
			before = self.c.reconnects
			try:
				self.c.retry(action)
				if self.c.reconnects != before:
					raise RuntimeError("the session was cut and had to be opened again")
				self.ok += 1
			except Refused as e:
				self.failed += 1
				print(f"{action.__name__}: refused: {e}", file=sys.stderr)
				time.sleep(0.5)
			except Exception as e:
				self.failed += 1
				print(f"{action.__name__}: {describe(e)}", file=sys.stderr)
			time.sleep(self.rng.uniform(0.05, 0.25))


def main():
	duration = float(os.environ.get("DURATION", "20"))
	folder = os.environ.get("OFFICE_DIR", "bob").strip("/\\").replace("/", "\\")
	client = Client()
	office = Office(client, folder, workload_rng())
	try:
		client.connect()
		office.run(duration)
	except Exception as e:
		office.failed += 1
		print(f"connect: {describe(e)}", file=sys.stderr)
	finally:
		client.close()
	print(f"ops_ok {office.ok} ops_failed {office.failed}", flush=True)
	return 1 if office.failed else 0


if __name__ == "__main__":
	sys.exit(main())
