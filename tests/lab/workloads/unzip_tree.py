#!/usr/bin/python3
"""Unzipping a large archive onto the share (benign), as Explorer's "Extract all" does: the archive
(ENTRIES source files, documents and pictures of an old project, DEFLATE) is saved into EXTRACT_DIR's parent,
then every folder is created and every member written, thousands of new files in a few minutes. Every member is
compared with the archive afterwards (by listing and by reading back one in ten).

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
ENTRIES (default 2500); EXTRACT_DIR (default Projects\\Gamma-2019).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import io
import os
import sys
import zipfile

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402

SUBDIRS = ("src", "src/core", "src/ui", "src/net", "include", "tests", "docs", "docs/img", "data", "build/obj")


def member(rng, i):
	sub = SUBDIRS[i % len(SUBDIRS)]
	if sub == "docs/img":
		return f"{sub}/figure-{i:04d}.jpg", corpus.make_jpeg(rng, 160, 120)
	if sub == "docs":
		return f"{sub}/note-{i:04d}.txt", corpus.make_text(rng, f"Note {i}", rng.randint(500, 4000))
	if sub == "data":
		return f"{sub}/readings-{i:04d}.csv", corpus.make_csv(rng, rng.randint(500, 4000))
	if sub == "build/obj":
		return f"{sub}/unit_{i:04d}.o", b"\x7fELF\2\1\1" + bytes(9) + rng.randbytes(rng.randint(200, 2000))
	ext = "h" if sub == "include" else "c"
	body = "\n".join(f"int {rng.choice(corpus.WORDS)}_{i}_{k}(int x) {{ return x * {k}; }}"
			 for k in range(rng.randint(5, 60)))
	return f"{sub}/file_{i:04d}.{ext}", f"/* {corpus.sentence(rng)} */\n{body}\n".encode()


def body(client, ops):
	rng = workload_rng()
	dest = env_folder("EXTRACT_DIR", "Projects\\Gamma-2019")
	n = int(os.environ.get("ENTRIES", "2500"))
	members = [member(rng, i) for i in range(n)]
	blob = io.BytesIO()
	with zipfile.ZipFile(blob, "w", zipfile.ZIP_DEFLATED) as z:
		for name, data in members:
			z.writestr("Gamma-2019/" + name, data)
	parent = dest.rsplit("\\", 1)[0] if "\\" in dest else ""
	if parent:
		ensure_folder(client, ops, parent)
	archive = join(parent, dest.rsplit("\\", 1)[-1] + ".zip")
	ops.do(f"save {archive}", lambda: client.put(archive, blob.getvalue()))
	made = set()
	ensure_folder(client, ops, dest)
	with zipfile.ZipFile(io.BytesIO(blob.getvalue())) as z:
		for info in z.infolist():
			rel = info.filename.split("/", 1)[1].replace("/", "\\")
			folder = join(dest, rel.rsplit("\\", 1)[0])
			if folder not in made:
				ensure_folder(client, ops, folder)
				made.add(folder)
			data = z.read(info)
			ops.do(f"extract {rel}", lambda rel=rel, data=data: client.put(join(dest, rel), data))
	for i, (name, data) in enumerate(members):
		if i % 10:
			continue
		back = ops.do(f"check {name}", lambda name=name: client.get(join(dest, name.replace("/", "\\"))))
		if back is not None and back != data:
			ops.fail(f"{name}: differs from the archive")


if __name__ == "__main__":
	sys.exit(run_workload(body))
