#!/usr/bin/python3
"""Deleting an old project folder (benign), as Explorer does it: DELETE_DIR is walked, every file is deleted,
then every folder from the deepest up; thousands of deletions in a minute, by a user who does it on purpose.
Afterwards the folder must be gone.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
DELETE_DIR (default Projects\\Gamma-2019); MIN_FILES: fail when the folder holds fewer (default 1000).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import env_folder, join, run_workload  # noqa: E402


def tree(client, folder):
	"""(files, folders) under folder, folders deepest first."""
	files, dirs = client.list_dir(folder)
	paths, subs = [join(folder, f) for f in files], []
	for d in dirs:
		f2, d2 = tree(client, join(folder, d))
		paths += f2
		subs += d2 + [join(folder, d)]
	return paths, subs


def body(client, ops):
	top = env_folder("DELETE_DIR", "Projects\\Gamma-2019")
	found = ops.do(f"scan {top}", lambda: tree(client, top))
	if found is None:
		return
	files, folders = found
	if len(files) < int(os.environ.get("MIN_FILES", "1000")):
		ops.fail(f"{top} holds only {len(files)} files")
	for p in files:
		ops.do(f"delete {p}", lambda p=p: client.delete(p))
	for d in folders + [top]:
		ops.do(f"rmdir {d}", lambda d=d: client.conn.deleteDirectory(client.share, d))
	parent = top.rsplit("\\", 1)[0] if "\\" in top else ""
	listing = ops.do(f"list {parent}", lambda: client.list_dir(parent))
	if listing is not None and top.rsplit("\\", 1)[-1] in listing[1]:
		ops.fail(f"{top} is still there")


if __name__ == "__main__":
	sys.exit(run_workload(body))
