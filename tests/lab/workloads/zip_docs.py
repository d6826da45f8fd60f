#!/usr/bin/python3
"""Archiving documents (benign): reads DOCS documents from the share and saves them as a zip (DEFLATE, made in
memory) named Archive-2026.zip, and as a 7z (py7zr) named Archive-2026.7z, in ARCHIVE_DIR; without py7zr the
second archive is a zip compressed with LZMA, Archive-2026-lzma.zip. Each archive is read back and checked.
New, large, near-random files: what a content check must not mistake for ciphertext.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
DOCS (default 60); ARCHIVE_DIR (default Archives, made when missing).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import io
import os
import sys
import tempfile
import zipfile

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import ensure_folder, env_folder, join, run_workload, walk  # noqa: E402

try:
	import py7zr
except ImportError:
	py7zr = None

DOC_EXTS = (".docx", ".xlsx", ".pdf", ".txt", ".csv")


def pick_documents(client, n):
	"""n documents spread over the whole share, in walk order."""
	docs = [p for p in walk(client) if p.lower().endswith(DOC_EXTS)]
	if len(docs) <= n:
		return docs
	return [docs[i * len(docs) // n] for i in range(n)]


def make_zip(docs, method):
	out = io.BytesIO()
	with zipfile.ZipFile(out, "w", method) as z:
		for path, data in docs:
			z.writestr(zipfile.ZipInfo(path.replace("\\", "/"), (2026, 11, 27, 17, 5, 0)), data,
				   compress_type=method)
	return out.getvalue()


def check_zip(blob, docs):
	with zipfile.ZipFile(io.BytesIO(blob)) as z:
		bad = z.testzip()
		if bad is not None:
			raise RuntimeError(f"zip member {bad} is damaged")
		if len(z.namelist()) != len(docs):
			raise RuntimeError(f"zip holds {len(z.namelist())} members, not {len(docs)}")


def make_7z(docs):
	# py7zr archives files from a directory: stage the documents in a private temporary one.
	with tempfile.TemporaryDirectory() as tmp:
		out = io.BytesIO()
		with py7zr.SevenZipFile(out, "w") as z:
			for i, (path, data) in enumerate(docs):
				local = os.path.join(tmp, str(i))
				with open(local, "wb") as f:
					f.write(data)
				z.write(local, path.replace("\\", "/"))
		return out.getvalue()


def check_7z(blob, docs):
	with py7zr.SevenZipFile(io.BytesIO(blob), "r") as z:
		if len(z.getnames()) != len(docs):
			raise RuntimeError(f"7z holds {len(z.getnames())} members, not {len(docs)}")
		if z.testzip() is not None:
			raise RuntimeError("7z fails its CRC check")


def body(client, ops):
	want = int(os.environ.get("DOCS", "60"))
	folder = env_folder("ARCHIVE_DIR", "Archives")
	paths = ops.do("list documents", lambda: pick_documents(client, want))
	if not paths:
		if paths is not None:
			ops.fail("no documents found in the share")
		return
	docs = []
	for p in paths:
		data = ops.do(f"read {p}", lambda p=p: client.get(p))
		if data is not None:
			docs.append((p, data))
	ensure_folder(client, ops, folder)
	archives = [("Archive-2026.zip", make_zip(docs, zipfile.ZIP_DEFLATED), check_zip)]
	if py7zr is not None:
		archives.append(("Archive-2026.7z", make_7z(docs), check_7z))
	else:
		archives.append(("Archive-2026-lzma.zip", make_zip(docs, zipfile.ZIP_LZMA), check_zip))
	for name, blob, check in archives:
		path = join(folder, name)
		if ops.do(f"save {path}", lambda path=path, blob=blob: client.put(path, blob)) is None:
			continue
		back = ops.do(f"read back {path}", lambda path=path: client.get(path))
		if back is None:
			continue
		if back != blob:
			ops.fail(f"{path}: read back differs")
			continue
		try:
			check(back, docs)
		except Exception as e:
			ops.fail(f"{path}: {e}")


if __name__ == "__main__":
	sys.exit(run_workload(body))
