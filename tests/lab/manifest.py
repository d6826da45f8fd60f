#!/usr/bin/python3
"""Manifests of a folder tree for the restore tests: what every file holds, and what changed since.

   manifest.py take DIR OUT            every file (sha256, size, mode, owner, mtime) and folder below DIR, to OUT
   manifest.py diff OLD NEW [SKIP]     compares two manifests; prints one line per difference and a summary line
   manifest.py damage OLD NEW [SKIP]   prints "changed N gone M new K" (files only) and exits 0
   manifest.py carried OLD NEW DIR...  lists every file below the DIRs whose bytes are those of a file the attack
                                       wrote (in NEW, changed or new since OLD); exits 1 when there is one

SKIP is a file of DIR-relative paths (one a line) left out of the comparison, e.g. canaries that are re-seeded;
a line ending in "/" leaves out everything below that folder.
diff lines: "changed PATH (bytes|mode|owner|mtime)", "gone PATH", "new PATH", "type PATH"; names are printed
with Python's repr escapes so that any byte shows. diff exits 0 when there is no difference, 1 otherwise.
"""

import hashlib
import json
import os
import stat
import sys


def take(root):
	out = {}
	root = os.fsencode(root)
	for dirpath, dirnames, filenames in os.walk(root):
		for name in dirnames + filenames:
			full = os.path.join(dirpath, name)
			rel = os.fsdecode(os.path.relpath(full, root))
			st = os.lstat(full)
			if stat.S_ISDIR(st.st_mode):
				out[rel] = {"type": "d"}
				continue
			rec = {"type": "f" if stat.S_ISREG(st.st_mode) else "o", "size": st.st_size,
			       "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
			       "mtime_ns": st.st_mtime_ns}
			if stat.S_ISREG(st.st_mode):
				h = hashlib.sha256()
				with open(full, "rb") as f:
					for block in iter(lambda: f.read(1 << 20), b""):
						h.update(block)
				rec["sha256"] = h.hexdigest()
			out[rel] = rec
	return out


def load(path):
	with open(path) as f:
		return json.load(f)


def skipped(path):
	if not path:
		return set()
	with open(path, encoding="utf-8", errors="surrogateescape") as f:
		return {line.rstrip("\n") for line in f if line.strip()}


def show(rel):
	return repr(rel)[1:-1]


def compare(old, new, skip):
	"""(kind, path, detail) for every difference, sorted by path."""
	diffs = []
	prefixes = tuple(p for p in skip if p.endswith("/"))
	for rel in sorted(set(old) | set(new)):
		if rel in skip or (prefixes and (rel + "/").startswith(prefixes)):
			continue
		a, b = old.get(rel), new.get(rel)
		if b is None:
			diffs.append(("gone", rel, ""))
		elif a is None:
			diffs.append(("new", rel, ""))
		elif a["type"] != b["type"]:
			diffs.append(("type", rel, f"{a['type']} -> {b['type']}"))
		elif a["type"] == "f":
			what = []
			if a["sha256"] != b["sha256"]:
				what.append("bytes")
			if a["mode"] != b["mode"]:
				what.append(f"mode {a['mode']:o} -> {b['mode']:o}")
			if (a["uid"], a["gid"]) != (b["uid"], b["gid"]):
				what.append(f"owner {a['uid']}:{a['gid']} -> {b['uid']}:{b['gid']}")
			if a["mtime_ns"] != b["mtime_ns"]:
				what.append("mtime")
			if what:
				diffs.append(("changed", rel, ", ".join(what)))
	return diffs


def main(argv):
	if len(argv) == 3 and argv[0] == "take":
		with open(argv[2], "w") as f:
			json.dump(take(argv[1]), f)
		return 0
	if len(argv) in (3, 4) and argv[0] in ("diff", "damage"):
		old, new = load(argv[1]), load(argv[2])
		diffs = compare(old, new, skipped(argv[3] if len(argv) == 4 else ""))
		if argv[0] == "damage":
			files = [(k, rel) for k, rel, _ in diffs if (old.get(rel) or new.get(rel))["type"] != "d"]
			count = {k: sum(1 for kind, _ in files if kind == k) for k in ("changed", "gone", "new")}
			print(f"changed {count['changed']} gone {count['gone']} new {count['new']}")
			return 0
		for kind, rel, detail in diffs:
			print(f"{kind} {show(rel)}" + (f" ({detail})" if detail else ""))
		print(f"differences {len(diffs)}")
		return 1 if diffs else 0
	if len(argv) >= 4 and argv[0] == "carried":
		old, new = load(argv[1]), load(argv[2])
		before = {r.get("sha256") for r in old.values() if r["type"] == "f"}
		bad = {r["sha256"]: rel for rel, r in new.items()
		       if r["type"] == "f" and r["sha256"] not in before}
		found = 0
		for d in argv[3:]:
			for rel, r in take(d).items():
				if r["type"] == "f" and r["sha256"] in bad:
					print(f"carried {show(os.path.join(d, rel))} (the bytes of {show(bad[r['sha256']])})")
					found += 1
		print(f"carried {found} (of {len(bad)} files the attack wrote)")
		return 1 if found else 0
	print(__doc__, file=sys.stderr)
	return 2


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
