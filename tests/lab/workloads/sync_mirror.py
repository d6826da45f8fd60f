#!/usr/bin/python3
"""A sync and backup tool keeping a mirror of a folder on the share (benign), the way robocopy, rsync and
FreeFileSync write:

1. first sync: every file of SRC (read from the share) copied into DEST\\SRC under a temporary name ("NAME.partial",
   rsync's ".NAME.XXXXXX", FreeFileSync's "NAME.ffs_tmp") and renamed to its name;
2. the user changes some files of SRC; the next sync writes each changed file to "NAME.ffs_tmp", deletes the old
   copy and renames the temporary file into place (FreeFileSync), or writes over the copy (robocopy);
3. a move job (robocopy /MOV): an outbox folder's files copied to DEST\\Sent and deleted from the outbox;
4. files deleted from SRC are purged from the mirror (robocopy /MIR), and a previous mirror generation is deleted.
Copy, then delete, under temporary names, hundreds of files a minute: what copy-then-delete and delete-burst
rules must not mistake for an attack. The mirror is compared with its source at the end.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
SRC (default Projects); DEST (default Backups\\Mirror); OUTBOX files (default 120).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, walk, workload_rng  # noqa: E402


def temp_name(rng, name, style):
	if style == 0:
		return name + ".partial"
	if style == 1:
		return "." + name + "." + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
						   for _ in range(6))
	return name + ".ffs_tmp"


def split(path):
	return path.rsplit("\\", 1) if "\\" in path else ("", path)


def copy_in(client, ops, rng, dest, data, style):
	folder, name = split(dest)
	temp = join(folder, temp_name(rng, name, style))
	if ops.do(f"write {temp}", lambda: client.put(temp, data)) is None:
		return
	ops.do(f"rename {temp}", lambda: client.rename(temp, dest))


def body(client, ops):
	rng = workload_rng()
	src = env_folder("SRC", "Projects")
	dest = env_folder("DEST", "Backups\\Mirror")
	files = ops.do(f"scan {src}", lambda: walk(client, src))
	if not files:
		if files is not None:
			ops.fail(f"nothing to mirror in {src}")
		return
	mirror = {}
	made = set()

	def mirror_path(p):
		return join(dest, p)

	def ensure_parent(p):
		folder = split(p)[0]
		if folder not in made:
			ensure_folder(client, ops, folder)
			made.add(folder)

	# 1. the first sync
	for i, p in enumerate(files):
		data = ops.do(f"read {p}", lambda p=p: client.get(p))
		if data is None:
			continue
		ensure_parent(mirror_path(p))
		copy_in(client, ops, rng, mirror_path(p), data, i % 3)
		mirror[p] = data
	# 2. changes in the source, then the next sync; the user's own documents, not the daemon's decoys
	# ("!0000 ..." and "zzzz ..." canaries sort first and last: a person never edits or deletes them)
	mine = sorted(p for p in mirror if not split(p)[1].startswith(("!0000 ", "zzzz ")))
	changed = rng.sample(mine, min(len(mine), 40))
	for p in changed:
		if p.lower().endswith((".txt", ".csv")):
			data = mirror[p] + corpus.make_text(rng, "update", 2000)
		elif p.lower().endswith(".docx"):
			data = corpus.make_docx(rng, split(p)[1], author="Bob")
		elif p.lower().endswith(".xlsx"):
			data = corpus.make_xlsx(rng, split(p)[1], author="Bob")
		else:
			continue
		if ops.do(f"save {p}", lambda p=p, data=data: client.put(p, data)) is None:
			continue
		mirror[p] = data
		dst = mirror_path(p)
		if rng.random() < 0.7:
			folder, name = split(dst)
			temp = join(folder, name + ".ffs_tmp")
			ops.do(f"write {temp}", lambda temp=temp, data=data: client.put(temp, data))
			ops.do(f"delete {dst}", lambda dst=dst: client.delete(dst))
			ops.do(f"rename {temp}", lambda temp=temp, dst=dst: client.rename(temp, dst))
		else:
			ops.do(f"write {dst}", lambda dst=dst, data=data: client.put(dst, data))
	# 3. a move job: an outbox emptied into the backup
	outbox, sent = "Outbox", join(dest, "Sent")
	ensure_folder(client, ops, outbox)
	ensure_folder(client, ops, sent)
	moved = []
	for i in range(int(os.environ.get("OUTBOX", "120"))):
		name = f"scan-{20261127 * 1000 + i}.pdf" if i % 2 else f"letter-{i:03d}.docx"
		data = corpus.make_pdf(rng, name, pages=[[corpus.sentence(rng)]]) if i % 2 else \
			corpus.make_docx(rng, name, paragraphs=[corpus.paragraph(rng)], author="Bob")
		if ops.do(f"save {name}", lambda name=name, data=data: client.put(join(outbox, name), data)) is not None:
			moved.append((name, data))
	for name, data in moved:
		copy_in(client, ops, rng, join(sent, name), data, 0)
		ops.do(f"delete {name}", lambda name=name: client.delete(join(outbox, name)))
	# 4. /MIR: what the source no longer has leaves the mirror
	gone = rng.sample([p for p in mine if p not in changed], min(len(mine) - len(changed), 25))
	for p in gone:
		if ops.do(f"delete {p}", lambda p=p: client.delete(p)) is not None:
			ops.do(f"purge {mirror_path(p)}", lambda p=p: client.delete(mirror_path(p)))
			del mirror[p]
	# The mirror holds exactly what the source holds.
	for p, data in sorted(mirror.items()):
		back = ops.do(f"verify {mirror_path(p)}", lambda p=p: client.get(mirror_path(p)))
		if back is not None and back != data:
			ops.fail(f"{mirror_path(p)}: differs from {p}")
	for name, data in moved:
		back = ops.do(f"verify {name}", lambda name=name: client.get(join(sent, name)))
		if back is not None and back != data:
			ops.fail(f"{join(sent, name)}: differs from what was moved")


if __name__ == "__main__":
	sys.exit(run_workload(body))
