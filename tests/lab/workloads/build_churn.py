#!/usr/bin/python3
"""A build tree on the share (benign): a compiler writes FILES small .o (ELF objects), .d (dependency lists) and
.tmp (assembler temporaries) files in BUILD_DIR's module folders, a rebuild overwrites many of them, then a
"make clean" deletes them all with their folders; ROUNDS times. Thousands of binary writes, overwrites and
deletions in a minute: what a rate rule must not mistake for an attack.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
FILES (default 3000); ROUNDS (default 2); JOBS parallel sessions, as make -j (default 2);
BUILD_DIR (default build).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import multiprocessing
import os
import struct
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import Client, Ops, Refused, Stopped, describe, ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402

MODULES = ("app", "core", "db", "http", "json", "net", "render", "storage", "ui", "util")
WORDS = ("init", "parse", "read", "write", "open", "close", "free", "alloc", "update", "flush", "send", "recv",
	 "lookup", "insert", "remove", "encode", "decode", "draw", "layout", "event", "timer", "queue", "cache")


def elf_object(rng, stem):
	"""An ELF64 relocatable x86-64 object: a real header, code-like bytes, then a string table of symbols."""
	code = rng.randbytes(rng.randint(800, 12000))
	symbols = b"\0".join(f"{stem}_{rng.choice(WORDS)}_{i}".encode() for i in range(rng.randint(5, 40))) + b"\0"
	shoff = 64 + len(code) + len(symbols)
	header = (b"\x7fELF\x02\x01\x01\x00" + bytes(8) +
		  struct.pack("<HHIQQQIHHHHHH", 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 0, 0))
	return header + code + symbols


def depfile(rng, folder, module, stem):
	headers = " ".join(f"include/{module}/{rng.choice(WORDS)}.h" for _ in range(rng.randint(2, 8)))
	return f"{folder}/{module}/{stem}.o: src/{module}/{stem}.c {headers}\n".encode()


def assembly(rng, stem):
	lines = [f'\t.file\t"{stem}.c"', "\t.text"]
	for i in range(rng.randint(20, 120)):
		lines.append(f"\t{rng.choice(('movq', 'addq', 'call', 'cmpl', 'jne', 'leaq', 'pushq', 'popq'))}\t"
			     f"%r{rng.randint(8, 15)}, {rng.randint(0, 512)}(%rsp)")
	return ("\n".join(lines) + "\n").encode()


def content(rng, task):
	_, path, folder, module, stem = task
	if path.endswith(".o"):
		return elf_object(rng, stem)
	if path.endswith(".d"):
		return depfile(rng, folder.replace("\\", "/"), module, stem)
	return assembly(rng, stem)


def job(tasks):
	"""One compiler or make job: its own session, its share of the tasks; returns (ok, failed, why it was
	stopped or None)."""
	rng = workload_rng()
	client = Client()
	ops = Ops(client)
	stopped = None
	try:
		client.connect()
		for task in tasks:
			what, path = task[0], task[1]
			if what in ("create", "overwrite"):
				data = content(rng, task)
				ops.do(f"{what} {path}", lambda path=path, data=data: client.put(path, data))
			elif what == "delete":
				ops.do(f"delete {path}", lambda path=path: client.delete(path))
	except Stopped as e:
		stopped = str(e)
	except Refused as e:
		ops.fail(f"job: refused: {e}")
		stopped = str(e)
	except Exception as e:
		ops.fail(f"job: {describe(e)}")
	finally:
		client.close()
	return ops.ok, ops.failed, stopped


class Build:
	def __init__(self, client, ops, folder, nfiles, jobs, rng):
		self.c = client
		self.ops = ops
		self.folder = folder
		self.jobs = jobs
		self.rng = rng
		# Per source: an object and a dependency list; every other source also leaves a temporary.
		per_module = max(1, nfiles * 2 // 5 // len(MODULES))
		self.sources = [(m, f"{m}_{rng.choice(WORDS)}{i:03d}") for m in MODULES for i in range(per_module)]

	def outputs(self, what, sources):
		tasks = []
		for n, (module, stem) in enumerate(sources):
			base = join(join(self.folder, module), stem)
			for ext in (".o", ".d", ".tmp") if n % 2 == 0 else (".o", ".d"):
				tasks.append((what, base + ext, self.folder, module, stem))
		return tasks

	def run(self, tasks):
		"""Runs the tasks in self.jobs parallel jobs, as make -j does."""
		if self.jobs <= 1:
			results = [job(tasks)]
		else:
			with multiprocessing.get_context("fork").Pool(self.jobs) as pool:
				results = pool.map(job, [tasks[i::self.jobs] for i in range(self.jobs)])
		for ok, failed, _ in results:
			self.ops.ok += ok
			self.ops.failed += failed
		stopped = [why for _, _, why in results if why]
		if stopped:
			raise Stopped(stopped[0])

	def round(self):
		for module in MODULES:
			ensure_folder(self.c, self.ops, join(self.folder, module))
		self.run(self.outputs("create", self.sources))
		# A header changed: part of the tree is rebuilt over the old outputs.
		self.run(self.outputs("overwrite", [s for s in self.sources if self.rng.random() < 0.4]))
		# make clean: every file, then the folders.
		doomed = []
		for module in MODULES:
			sub = join(self.folder, module)
			listing = self.ops.do(f"list {sub}", lambda sub=sub: self.c.list_dir(sub))
			doomed += [("delete", join(sub, name)) for name in (listing[0] if listing else [])]
		self.run(doomed)
		for module in MODULES:
			sub = join(self.folder, module)
			self.ops.do(f"rmdir {sub}", lambda sub=sub: self.c.conn.deleteDirectory(self.c.share, sub))


def body(client, ops):
	folder = env_folder("BUILD_DIR", "build")
	build = Build(client, ops, folder, int(os.environ.get("FILES", "3000")), int(os.environ.get("JOBS", "2")),
		      workload_rng())
	for _ in range(int(os.environ.get("ROUNDS", "2"))):
		build.round()

if __name__ == "__main__":
	sys.exit(run_workload(body))
