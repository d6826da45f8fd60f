#!/usr/bin/python3
"""Files that programs keep open and change in place (benign): an SQLite database (journal_mode=DELETE, as
desktop programs use it) whose changed pages are written back in the middle of the file after each transaction,
with its rollback journal created and deleted every time; an Access-style database (.accdb, "Standard ACE DB"
pages) with its .laccdb lock file; a virtual machine's disk (.vhdx, its "vhdxfile" header and region table in
front, compressed and encrypted guest blocks written all over it and appended); and the VM's log, appended line
by line. Every change goes through a new handle, as programs that close their files do; the files are read back
and compared at the end.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
TRANSACTIONS (default 150); DISK_WRITES (default 150); DB_DIR (default Apps).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import sqlite3
import struct
import sys
import tempfile
import time
import uuid

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402

PAGE = 4096


def read(path):
	with open(path, "rb") as f:
		return f.read()


def changed_pages(before, after):
	for off in range(0, len(after), PAGE):
		if after[off:off + PAGE] != before[off:off + PAGE]:
			yield off, after[off:off + PAGE]


def sqlite_work(client, ops, rng, folder, tmp, transactions):
	local = os.path.join(tmp, "stock.db")
	db = sqlite3.connect(local)
	db.execute(f"PRAGMA page_size={PAGE}")
	db.execute("PRAGMA journal_mode=DELETE")
	db.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, note TEXT, photo BLOB)")
	db.executemany("INSERT INTO item (name, qty, note, photo) VALUES (?, ?, ?, ?)",
		       [(corpus.sentence(rng)[:40], rng.randint(0, 500), corpus.paragraph(rng),
			 corpus.make_jpeg(rng, 96, 72) if i % 5 == 0 else None) for i in range(800)])
	db.commit()
	path, journal = join(folder, "stock.db"), join(folder, "stock.db-journal")
	ops.do(f"create {path}", lambda: client.put(path, read(local)))
	for _ in range(transactions):
		before = read(local)
		for _ in range(rng.randint(1, 6)):
			db.execute("UPDATE item SET qty = ?, note = ? WHERE id = ?",
				   (rng.randint(0, 500), corpus.paragraph(rng), rng.randint(1, 800)))
		if rng.random() < 0.2:
			db.execute("INSERT INTO item (name, qty, note) VALUES (?, ?, ?)",
				   (corpus.sentence(rng)[:40], 1, corpus.paragraph(rng)))
		db.commit()
		after = read(local)
		pages = list(changed_pages(before, after))
		# The rollback journal holds the original pages, then the pages go to the database, then it goes.
		hdr = b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + struct.pack(">IIIII", len(pages), rng.getrandbits(32),
									  len(before) // PAGE, 512, PAGE)
		jdata = hdr + bytes(512 - len(hdr)) + b"".join(struct.pack(">I", off // PAGE + 1) + before[off:off + PAGE] +
								  b"\0\0\0\0" for off, _ in pages if off < len(before))
		ops.do(f"write {journal}", lambda jdata=jdata: client.put(journal, jdata))
		for off, data in pages:
			ops.do(f"update {path}", lambda off=off, data=data: client.write_at(path, off, data))
		ops.do(f"delete {journal}", lambda: client.delete(journal))
	back = ops.do(f"read {path}", lambda: client.get(path))
	if back is not None and back != read(local):
		ops.fail(f"{path}: differs from the program's copy")


def access_page(rng, n):
	"""A data page of an Access database: page type 1, a row count, then rows of text and numbers."""
	rows = b"".join(corpus.sentence(rng).encode("utf-16-le")[:120] + struct.pack("<Id", rng.randint(0, 1 << 30),
												 rng.random() * 1e4) for _ in range(20))
	return (struct.pack("<BBHII", 1, 1, 0, n, 0) + rows)[:PAGE].ljust(PAGE, b"\0")


def access_work(client, ops, rng, folder, transactions):
	path, lock = join(folder, "Orders.accdb"), join(folder, "Orders.laccdb")
	header = bytearray(PAGE)
	header[0:4] = b"\0\1\0\0"
	header[4:19] = b"Standard ACE DB"
	header[20:24] = struct.pack("<I", 3)		# Access 2010 and later
	header[24:128] = rng.randbytes(104)		# the encoded (RC4-scrambled) database definition
	pages = [bytes(header)] + [access_page(rng, i) for i in range(1, 200)]
	ops.do(f"create {path}", lambda: client.put(path, b"".join(pages)))
	ops.do(f"lock {lock}", lambda: client.put(lock, b"CLIENT2".ljust(32, b" ") + b"Admin".ljust(32, b" ")))
	for _ in range(transactions // 3):
		n = rng.randrange(1, len(pages) + 1)
		page = access_page(rng, n)
		if n == len(pages):
			pages.append(page)
		else:
			pages[n] = page
		ops.do(f"update {path}", lambda n=n, page=page: client.write_at(path, n * PAGE, page))
	ops.do(f"unlock {lock}", lambda: client.delete(lock))
	back = ops.do(f"read {path}", lambda: client.get(path))
	if back is not None and back != b"".join(pages):
		ops.fail(f"{path}: differs from what was written")


def vhdx_header():
	"""The first 1 MiB of a VHDX: file identifier, two headers and the region table (the rest of the metadata
	is left blank here)."""
	h = bytearray(1 << 20)
	h[0:8] = b"vhdxfile"
	h[8:8 + 32] = "Microsoft Windows 10.0.19045.0".encode("utf-16-le")[:32]
	for off in (64 * 1024, 128 * 1024):
		h[off:off + 4] = b"head"
		h[off + 8:off + 16] = struct.pack("<Q", 1)
		h[off + 16:off + 64] = uuid.uuid4().bytes * 3
		h[off + 66:off + 68] = struct.pack("<H", 1)
		h[off + 68:off + 72] = struct.pack("<I", 1 << 20)
	h[192 * 1024:192 * 1024 + 4] = b"regi"
	return h


def vm_work(client, ops, rng, folder, writes):
	disk, log = join(folder, "Win11-dev.vhdx"), join(folder, "Win11-dev.log")
	data = vhdx_header() + rng.randbytes(4 << 20)
	ops.do(f"create {disk}", lambda: client.put(disk, bytes(data)))
	lines = bytearray()
	ops.do(f"create {log}", lambda: client.put(log, b""))
	for i in range(writes):
		blk = rng.randbytes(rng.choice((4096, 65536, 262144)))
		if rng.random() < 0.4:
			off = len(data)
			data += blk
		else:
			off = rng.randrange(1 << 20, len(data) - len(blk)) // 4096 * 4096
			data[off:off + len(blk)] = blk
		ops.do(f"write {disk}", lambda off=off, blk=blk: client.write_at(disk, off, blk))
		line = (f"{time.strftime('%Y-%m-%dT%H:%M:%S')}.{i % 1000:03d}Z| vcpu-0| I005: Guest wrote {len(blk)} "
			f"bytes at {off:#x}\n").encode()
		ops.do(f"append {log}", lambda off=len(lines), line=line: client.write_at(log, off, line))
		lines += line
	back = ops.do(f"read {disk}", lambda: client.get(disk))
	if back is not None and back != bytes(data):
		ops.fail(f"{disk}: differs from what the VM wrote")
	back = ops.do(f"read {log}", lambda: client.get(log))
	if back is not None and back != bytes(lines):
		ops.fail(f"{log}: differs from what the VM wrote")


def body(client, ops):
	rng = workload_rng()
	folder = env_folder("DB_DIR", "Apps")
	transactions = int(os.environ.get("TRANSACTIONS", "150"))
	ensure_folder(client, ops, folder)
	with tempfile.TemporaryDirectory(prefix="sw-db-") as tmp:
		sqlite_work(client, ops, rng, folder, tmp, transactions)
	access_work(client, ops, rng, folder, transactions)
	vm_work(client, ops, rng, folder, int(os.environ.get("DISK_WRITES", "150")))


if __name__ == "__main__":
	sys.exit(run_workload(body))
