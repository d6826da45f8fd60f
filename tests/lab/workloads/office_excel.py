#!/usr/bin/python3
"""Excel saving workbooks (benign), the way Excel really does it: the new contents go to a temporary file named
with 8 random hex digits and no extension, the workbook is renamed to another such name, the temporary file is
renamed to the workbook's name, and the old one is deleted. A workbook keeps its name while its bytes are
replaced by a new zip: what a copy-then-delete or rename rule must not mistake for an attack.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
SAVES (default 40); BOOKS workbooks saved in turn (default 4); EXCEL_DIR (default the user's name, made when
missing).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import sys
import time

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402

TITLES = ("Budget 2027", "Sales pipeline", "Cash flow forecast", "Headcount plan", "Price list", "Stock count")


def body(client, ops):
	rng = workload_rng()
	folder = env_folder("EXCEL_DIR", client.user)
	saves = int(os.environ.get("SAVES", "40"))
	nbooks = min(len(TITLES), int(os.environ.get("BOOKS", "4")))
	books = [f"{t} ({client.user}).xlsx" for t in rng.sample(TITLES, nbooks)]
	ensure_folder(client, ops, folder)
	for name in books:
		path = join(folder, name)
		data = corpus.make_xlsx(rng, name[:-5], author=client.user.capitalize())
		ops.do(f"create {path}", lambda path=path, data=data: client.put(path, data))
	for n in range(saves):
		name = books[n % len(books)]
		path = join(folder, name)
		if ops.do(f"open {path}", lambda path=path: client.get(path)) is None:
			continue
		data = corpus.make_xlsx(rng, name[:-5], author=client.user.capitalize())
		tmp = join(folder, "%08X" % rng.getrandbits(32))
		old = join(folder, "%08X" % rng.getrandbits(32))
		steps = (
			(f"write {tmp}", lambda: client.put(tmp, data)),
			(f"rename {path} to {old}", lambda: client.rename(path, old)),
			(f"rename {tmp} to {path}", lambda: client.rename(tmp, path)),
			(f"delete {old}", lambda: client.delete(old)),
		)
		for what, fn in steps:
			if ops.do(what, fn) is None and what.startswith(("write", "rename")):
				break
		back = ops.do(f"reopen {path}", lambda path=path: client.get(path))
		if back is not None and back != data:
			ops.fail(f"{path}: saved content differs")
		time.sleep(rng.uniform(0.02, 0.12))


if __name__ == "__main__":
	sys.exit(run_workload(body))
