#!/usr/bin/python3
"""Office programs saving the way they do on a share (benign), many documents open at once:
Word opens a document with its owner file "~$NAME.docx", saves through "~WRD0001.tmp" (the new contents), the
document renamed to "~WRL0002.tmp", the temporary file renamed into place and "~WRL0002.tmp" deleted; with
"always create backup copy" the previous version becomes "Backup of NAME.wbk"; PowerPoint saves through
"pptNNNN.tmp"; LibreOffice holds ".~lock.NAME#" and writes "luNNNN.tmp" then renames it over the document;
AutoSave repeats this every few seconds. Each saved document is read back.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
DOCS open at once (default 12); SAVES of each (default 6); AUTOSAVE_DIR (default the user's name, then Autosave).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402


def owner_file(user, name):
	"""Word's owner file: the user's name, padded, in a 162-byte file."""
	u = user.encode()[:53]
	return bytes([len(u)]) + u.ljust(53, b" ") + bytes([len(user)]) + b"\0" + user.encode("utf-16-le")[:106].ljust(106, b" ")


def content(rng, name):
	title = name.rsplit(".", 1)[0]
	if name.endswith(".xlsx"):
		return corpus.make_xlsx(rng, title, author="Bob")
	if name.endswith(".odt"):
		return corpus.make_docx(rng, title, author="Bob")	# an OpenDocument is a zip too
	return corpus.make_docx(rng, title, author="Bob")


def word_save(client, ops, rng, folder, name, data, backup):
	"""backup: None, or the set of backup copies made so far (Word keeps one per document)."""
	path = join(folder, name)
	new = join(folder, f"~WRD{rng.randint(0, 9999):04d}.tmp")
	old = join(folder, f"~WRL{rng.randint(0, 9999):04d}.tmp")
	ops.do(f"save {new}", lambda: client.put(new, data))
	if backup is not None:
		# the previous backup copy gives way to the version being replaced
		bak = join(folder, f"Backup of {name.rsplit('.', 1)[0]}.wbk")
		if bak in backup:
			ops.do(f"delete {bak}", lambda: client.delete(bak))
		ops.do(f"backup {path}", lambda: client.rename(path, bak))
		backup.add(bak)
	else:
		ops.do(f"move aside {path}", lambda: client.rename(path, old))
	ops.do(f"rename {new}", lambda: client.rename(new, path))
	if backup is None:
		ops.do(f"delete {old}", lambda: client.delete(old))


def ppt_save(client, ops, rng, folder, name, data):
	path = join(folder, name)
	tmp = join(folder, f"ppt{rng.randint(0, 0xfff):X}.tmp")
	ops.do(f"save {tmp}", lambda: client.put(tmp, data))
	ops.do(f"delete {path}", lambda: client.delete(path))
	ops.do(f"rename {tmp}", lambda: client.rename(tmp, path))


def lo_save(client, ops, rng, folder, name, data):
	path = join(folder, name)
	tmp = join(folder, f"lu{rng.randint(0, 0xffffff):06x}.tmp")
	ops.do(f"save {tmp}", lambda: client.put(tmp, data))
	ops.do(f"rename {tmp}", lambda: client.rename(tmp, path))


def body(client, ops):
	rng = workload_rng()
	user = os.environ.get("SMB_USER", "bob")
	folder = env_folder("AUTOSAVE_DIR", f"{user}\\Autosave")
	ndocs = int(os.environ.get("DOCS", "12"))
	saves = int(os.environ.get("SAVES", "6"))
	ensure_folder(client, ops, folder)
	docs, backups = [], set()
	for i in range(ndocs):
		ext = ("docx", "docx", "xlsx", "pptx", "odt")[i % 5]
		name = f"{rng.choice(('Offer', 'Minutes', 'Forecast', 'Pitch', 'Handbook'))} {i + 1:02d}.{ext}"
		data = content(rng, name)
		if ops.do(f"create {name}", lambda name=name, data=data: client.put(join(folder, name), data)) is None:
			continue
		# Opened: Word and Excel write an owner file, LibreOffice a lock file.
		lock = join(folder, f".~lock.{name}#") if ext == "odt" else join(folder, "~$" + name[2:])
		lock_data = "1,Bob,CLIENT2,27.11.2026 10:00,file:///C:/Users/bob/AppData/Roaming/LibreOffice/4;".encode() \
			if ext == "odt" else owner_file("Bob", name)
		ops.do(f"lock {name}", lambda lock=lock, lock_data=lock_data: client.put(lock, lock_data))
		docs.append((name, lock))
	for s in range(saves):
		for name, _ in docs:
			data = content(rng, name)
			if name.endswith(".pptx"):
				ppt_save(client, ops, rng, folder, name, data)
			elif name.endswith(".odt"):
				lo_save(client, ops, rng, folder, name, data)
			else:
				word_save(client, ops, rng, folder, name, data, backup=backups if name.endswith(".docx") and s % 2 == 1 else None)
			back = ops.do(f"open {name}", lambda name=name: client.get(join(folder, name)))
			if back is not None and back != data:
				ops.fail(f"{name}: saved content differs")
	for name, lock in docs:
		ops.do(f"close {name}", lambda lock=lock: client.delete(lock))


if __name__ == "__main__":
	sys.exit(run_workload(body))
