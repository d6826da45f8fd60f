#!/usr/bin/python3
"""A user tidying document names in bulk (benign), as a bulk-rename tool does it: every document in RENAME_DIRS
gets a date prefix ("2026-11-27 Budget.xlsx"), the files of CASE_DIR are lower-cased, including their extensions
(".PDF" -> ".pdf", "Scan.JPG" -> "scan.jpg"), and old web pages and notes get today's extensions (.htm -> .html,
.txt -> .md). Hundreds of renames a minute, without new contents: what a rename rule must not mistake for an
attack. Each new name is checked in the listing afterwards.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
RENAME_DIRS (default "Finance/2025/Invoices;HR/Contracts;Legal/Contracts"); CASE_DIR (default Marketing/Brand);
NOTES_DIR (default IT/Scripts); PREFIX (default 2026-11-27).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import ensure_folder, join, run_workload, workload_rng  # noqa: E402


def folders(value):
	return [f.strip("/\\").replace("/", "\\") for f in value.split(";") if f.strip("/\\")]


def rename_all(client, ops, folder, new_name):
	listing = ops.do(f"list {folder}", lambda: client.list_dir(folder))
	if listing is None:
		return
	done = []
	for name in listing[0]:
		new = new_name(name)
		if new == name:
			continue
		if ops.do(f"rename {name}", lambda name=name, new=new: client.rename(join(folder, name),
										       join(folder, new))) is not None:
			done.append(new)
	after = ops.do(f"list {folder}", lambda: client.list_dir(folder))
	if after is not None:
		missing = set(done) - set(after[0])
		if missing:
			ops.fail(f"{folder}: renamed files missing afterwards: {sorted(missing)[:3]}")


def body(client, ops):
	prefix = os.environ.get("PREFIX", "2026-11-27")
	dirs = folders(os.environ.get("RENAME_DIRS", "Finance/2025/Invoices;HR/Contracts;Legal/Contracts"))
	for folder in dirs:
		rename_all(client, ops, folder, lambda n: n if n.startswith(prefix) else f"{prefix} {n}")
	case_dir = os.environ.get("CASE_DIR", "Marketing/Brand").strip("/\\").replace("/", "\\")
	rename_all(client, ops, case_dir, lambda n: n.lower())
	notes = os.environ.get("NOTES_DIR", "IT/Scripts").strip("/\\").replace("/", "\\")
	# Old exports the user keeps as web pages, then brought to today's extensions.
	ensure_folder(client, ops, join(notes, "web"))
	rng = workload_rng()
	for i in range(30):
		page = f"<html><body><h1>Page {i}</h1><p>{corpus.paragraph(rng)}</p></body></html>\n".encode()
		ops.do(f"save page {i}", lambda i=i, page=page: client.put(join(join(notes, "web"), f"page-{i:02d}.htm"), page))
	rename_all(client, ops, join(notes, "web"), lambda n: n[:-4] + ".html" if n.endswith(".htm") else n)
	rename_all(client, ops, notes, lambda n: n[:-4] + ".md" if n.endswith(".txt") else n)


if __name__ == "__main__":
	sys.exit(run_workload(body))
