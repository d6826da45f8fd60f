#!/usr/bin/python3
"""A nightly backup job on the share (benign): last week's backup BACKUP_DIR/nightly-2026-11-20.tar.gz is made
first (so there is one to rotate out), then DOCS documents are read and tonight's nightly-2026-11-27.tar.gz
(tar + gzip, made in memory) is written, read back and checked, and last week's is deleted. A large new
compressed file and a deletion in one job: what a copy-then-delete rule must not mistake for an attack.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
DOCS (default 40); BACKUP_DIR (default Backups, made when missing).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import gzip
import io
import os
import sys
import tarfile
import time

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import ensure_folder, env_folder, join, run_workload, walk  # noqa: E402

DOC_EXTS = (".docx", ".xlsx", ".pdf", ".txt", ".csv")
LAST_WEEK = "nightly-2026-11-20.tar.gz"
TONIGHT = "nightly-2026-11-27.tar.gz"


def tar_gz(docs, when):
	raw = io.BytesIO()
	with tarfile.open(fileobj=raw, mode="w") as tar:
		for path, data in docs:
			info = tarfile.TarInfo(path.replace("\\", "/"))
			info.size = len(data)
			info.mtime = when
			info.mode = 0o644
			tar.addfile(info, io.BytesIO(data))
	return gzip.compress(raw.getvalue(), compresslevel=6, mtime=when)


def check(blob, docs):
	"""A valid gzip holding a tar with every document, byte for byte."""
	with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob)), mode="r:") as tar:
		members = {m.name: m for m in tar.getmembers()}
		for path, data in docs:
			m = members.get(path.replace("\\", "/"))
			if m is None or tar.extractfile(m).read() != data:
				raise RuntimeError(f"{path} is missing or differs in the backup")


def body(client, ops):
	folder = env_folder("BACKUP_DIR", "Backups")
	want = int(os.environ.get("DOCS", "40"))
	ensure_folder(client, ops, folder)
	listed = ops.do("list documents", lambda: [p for p in walk(client) if p.lower().endswith(DOC_EXTS)])
	if not listed:
		if listed is not None:
			ops.fail("no documents found in the share")
		return
	paths = listed if len(listed) <= want else [listed[i * len(listed) // want] for i in range(want)]
	docs = []
	for p in paths:
		data = ops.do(f"read {p}", lambda p=p: client.get(p))
		if data is not None:
			docs.append((p, data))
	old = join(folder, LAST_WEEK)
	new = join(folder, TONIGHT)
	week_ago = int(time.time()) - 7 * 86400
	blob = tar_gz(docs[: len(docs) // 2], week_ago)
	ops.do(f"write {old}", lambda: client.put(old, blob))
	blob = tar_gz(docs, int(time.time()))
	if ops.do(f"write {new}", lambda: client.put(new, blob)) is None:
		return
	back = ops.do(f"read back {new}", lambda: client.get(new))
	if back is None:
		return
	try:
		if back != blob:
			raise RuntimeError("read back differs")
		check(back, docs)
	except Exception as e:
		ops.fail(f"{new}: {e}")
		return
	ops.do(f"delete {old}", lambda: client.delete(old))


if __name__ == "__main__":
	sys.exit(run_workload(body))
