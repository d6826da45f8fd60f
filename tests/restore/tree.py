#!/usr/bin/env python3
"""Trees for the restore tests: build a share with owners, modes, xattrs, ACLs and odd names; damage it; manifest it.

   tree.py build DIR             the sample tree (docs/, finance/sub/, photos/, odd names)
   tree.py many DIR N            N small files in folders of 100 (crash and resume)
   tree.py encrypt FILE...       overwrite each file in place with "ciphertext" (same inode, 16 bytes longer)
   tree.py defacl DIR            a default ACL on DIR (new entries inherit it: user 65534 rwx)
   tree.py manifest DIR [SKIP..] one line per entry: name, type, sha256, mode, owner, mtime, xattrs (sorted)
"""

import hashlib
import os
import stat
import struct
import sys


def acl_xattr(entries):
	"""A POSIX ACL in the kernel's xattr format: version 2, then (tag, perm, id) records."""
	out = struct.pack("<I", 2)
	for tag, perm, uid in entries:
		out += struct.pack("<HHI", tag, perm, uid)
	return out


def put(path, data, mode=0o644, uid=0, gid=0, mtime=1700000000, dosattrib=b"0x20", acl=False):
	with open(path, "wb") as f:
		f.write(data)
	os.chown(path, uid, gid)
	os.chmod(path, mode)
	os.setxattr(path, b"user.DOSATTRIB", dosattrib)
	if acl:
		# user::rw- user:65534:r-- group::r-- mask::r-- other::---
		os.setxattr(path, b"system.posix_acl_access",
			acl_xattr([(1, 6, 0xffffffff), (2, 4, 65534), (4, 4, 0xffffffff), (0x10, 4, 0xffffffff),
				   (0x20, 0, 0xffffffff)]))
	os.utime(path, ns=(mtime * 10**9 + 123456789, mtime * 10**9 + 987654321))


def blob(seed, n):
	out = bytearray()
	h = hashlib.sha256(seed.encode()).digest()
	while len(out) < n:
		h = hashlib.sha256(h).digest()
		out += h
	return bytes(out[:n])


def build(root):
	root = os.fsencode(root)
	j = lambda *p: os.path.join(root, *[os.fsencode(x) if isinstance(x, str) else x for x in p])
	for d in ("docs", "finance", "finance/sub", "photos"):
		os.makedirs(j(d), exist_ok=True)
	put(j("docs", "report.docx"), blob("report", 20000), acl=True)
	put(j("docs", "notes.txt"), b"meeting notes\n" * 50, mode=0o600, uid=65534, gid=65534)
	put(j("docs", "odd|name.txt"), blob("odd", 3000))
	put(j("docs", b"new\nline.txt"), blob("nl", 1000))
	put(j("docs", b"bad\xff\xfeutf8.txt"), blob("bad", 1500), dosattrib=b"0x21")
	put(j("finance", "budget.xlsx"), blob("budget", 30000), mode=0o640, gid=65534, acl=True)
	put(j("finance", "sub", "deep.pdf"), blob("deep", 12000))
	put(j("finance", "sub", "untouched.txt"), b"never touched\n")
	put(j("photos", "a.jpg"), blob("a", 40000))
	put(j("photos", "b.jpg"), blob("b", 50000), uid=65534)
	os.chmod(j("photos"), 0o750)
	os.chown(j("photos"), 65534, 0)
	os.setxattr(j("photos"), b"user.DOSATTRIB", b"0x10")
	os.utime(j("photos"), ns=(1600000000 * 10**9, 1600000000 * 10**9))
	os.utime(j("finance", "sub"), ns=(1600000000 * 10**9, 1600000000 * 10**9))


def many(root, n):
	root = os.fsencode(root)
	for i in range(n):
		d = os.path.join(root, b"d%03d" % (i // 100))
		os.makedirs(d, exist_ok=True)
		put(os.path.join(d, b"f%05d.docx" % i), blob("m%d" % i, 2000 + (i % 7) * 1000))


def encrypt(path):
	with open(path, "r+b") as f:
		data = f.read()
		key = hashlib.sha256(b"key" + data[:64]).digest()
		out = bytes(b ^ key[i % 32] for i, b in enumerate(data)) + b"LOCKED-HEADER-16"
		f.seek(0)
		f.write(out)
		f.truncate()


def manifest(root, skip):
	root = os.fsencode(root)
	lines = []
	for dirpath, dirnames, filenames in os.walk(root):
		for name in dirnames + filenames:
			full = os.path.join(dirpath, name)
			rel = os.path.relpath(full, root)
			if any(rel == s or rel.startswith(s + b"/") for s in skip):
				continue
			st = os.lstat(full)
			xs = []
			if not stat.S_ISLNK(st.st_mode):
				for x in sorted(os.listxattr(full, follow_symlinks=False)):
					xs.append("%s=%s" % (x, os.getxattr(full, x, follow_symlinks=False).hex()))
			if stat.S_ISDIR(st.st_mode):
				kind, extra = "d", ""
			elif stat.S_ISREG(st.st_mode):
				with open(full, "rb") as f:
					kind, extra = "f", hashlib.sha256(f.read()).hexdigest() + " %d" % st.st_mtime_ns
			else:
				kind, extra = "o", ""
			lines.append("%s %s %s %o %d:%d %s" % (repr(rel)[2:-1], kind, extra, stat.S_IMODE(st.st_mode),
				st.st_uid, st.st_gid, " ".join(xs)))
	for line in sorted(lines):
		print(line)


if __name__ == "__main__":
	cmd = sys.argv[1]
	if cmd == "build":
		build(sys.argv[2])
	elif cmd == "many":
		many(sys.argv[2], int(sys.argv[3]))
	elif cmd == "encrypt":
		for p in sys.argv[2:]:
			encrypt(os.fsencode(p))
	elif cmd == "defacl":
		os.setxattr(os.fsencode(sys.argv[2]), b"system.posix_acl_default",
			acl_xattr([(1, 7, 0xffffffff), (2, 7, 65534), (4, 5, 0xffffffff), (0x10, 7, 0xffffffff),
				   (0x20, 5, 0xffffffff)]))
	elif cmd == "manifest":
		manifest(sys.argv[2], [os.fsencode(s) for s in sys.argv[3:]])
	else:
		sys.exit("tree.py: unknown command " + cmd)
