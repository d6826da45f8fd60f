#!/usr/bin/python3
"""Saving files that are encrypted by design (benign): password-protected Word and Excel documents (the CDFV2
encrypted container Office writes), password-protected zip (AES-256 and ZipCrypto, 7-Zip) and 7z archives (with
encrypted headers), .gpg (gpg --symmetric) and .age files, a KeePass database saved again and again the way
KeePass 2 saves (Passwords.kdbx.tmp written, the database deleted, the temporary file renamed into place), and
BitLocker-like random .vhdx disk images. Random bytes under the names that promise them: a content check must
not call them ciphertext. Every file is read back and compared.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
DOCS password-protected documents (default 40); KDBX_SAVES (default 12); SECRET_DIR (default Private).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import shutil
import subprocess
import sys
import tempfile

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
import officecrypt  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402

PASSWORD = "Tr0ub4dor&3"
STEMS = ("Salary review", "Disciplinary letter", "Patient record", "Contract draft", "Bank details",
	 "Board minutes", "Appraisal", "Medical report")


def run(argv, cwd=None, data=None):
	return subprocess.run(argv, cwd=cwd, input=data, check=True, stdout=subprocess.PIPE,
			      stderr=subprocess.PIPE).stdout


def archives(rng, tmp):
	"""Password-protected archives of a few documents and photos, made by the tools users run."""
	names = []
	for i in range(8):
		name = f"scan-{i:02d}.jpg" if i % 3 == 0 else f"letter-{i:02d}.docx"
		data = corpus.make_jpeg(rng, 1024, 768) if name.endswith(".jpg") else corpus.make_docx(rng, name, author="Bob")
		with open(os.path.join(tmp, name), "wb") as f:
			f.write(data)
		names.append(name)
	out = []
	for arc, argv in (("HR-2026 (AES).zip", ["7z", "a", "-tzip", f"-p{PASSWORD}", "-mem=AES256"]),
			  ("HR-2026 (legacy).zip", ["7z", "a", "-tzip", f"-p{PASSWORD}", "-mem=ZipCrypto"]),
			  ("HR-2026.7z", ["7z", "a", "-t7z", f"-p{PASSWORD}", "-mhe=on"]),
			  ("HR-2026 (names visible).7z", ["7z", "a", "-t7z", f"-p{PASSWORD}", "-mhe=off"])):
		dest = os.path.join(tmp, "out-" + arc)
		run(argv + [dest] + names, cwd=tmp)
		with open(dest, "rb") as f:
			out.append((arc, f.read()))
	return out


def gpg_and_age(rng, tmp):
	out = []
	home = os.path.join(tmp, "gnupg")
	os.mkdir(home, 0o700)
	keys = os.path.join(tmp, "age-key.txt")
	run(["age-keygen", "-o", keys])
	recipient = [line.split(": ", 1)[1] for line in open(keys).read().splitlines()
		     if line.startswith("# public key: ")][0]
	for i in range(6):
		plain = corpus.make_docx(rng, f"Tax return {2020 + i}", author="Bob") if i % 2 else \
			corpus.make_jpeg(rng, 1280, 960)
		name = f"Tax return {2020 + i}.docx" if i % 2 else f"passport-scan-{i}.jpg"
		out.append((name + ".gpg", run(["gpg", "--homedir", home, "--batch", "--quiet", "--pinentry-mode",
						"loopback", "--passphrase", PASSWORD, "--symmetric", "-o", "-"], data=plain)))
		out.append((name + ".age", run(["age", "-r", recipient], data=plain)))
	out.append(("recovery-codes.txt.age", run(["age", "-a", "-r", recipient], data=b"1234-5678\n" * 20)))
	return out


def keepass_saves(client, ops, rng, folder, tmp, saves):
	"""KeePass 2 saves through a transaction: the new database goes to NAME.tmp, the old one is deleted and the
	temporary file renamed in its place."""
	try:
		import pykeepass
	except ImportError:
		ops.fail("python3-pykeepass is missing (scripts/install-deps)")
		return
	local = os.path.join(tmp, "Passwords.kdbx")
	db = pykeepass.create_database(local, password=PASSWORD)
	path, temp = join(folder, "Passwords.kdbx"), join(folder, "Passwords.kdbx.tmp")
	for n in range(saves):
		for _ in range(rng.randint(1, 4)):
			db.add_entry(db.root_group, f"site-{n}-{rng.randint(0, 1 << 30)}", "bob", corpus.sentence(rng)[:30])
		db.save()
		with open(local, "rb") as f:
			data = f.read()
		if ops.do(f"save {temp}", lambda: client.put(temp, data)) is None:
			continue
		if n > 0:
			ops.do(f"delete {path}", lambda: client.delete(path))
		ops.do(f"rename {temp}", lambda: client.rename(temp, path))
		back = ops.do(f"open {path}", lambda: client.get(path))
		if back is not None and back != data:
			ops.fail(f"{path}: read back differs")


def body(client, ops):
	rng = workload_rng()
	folder = env_folder("SECRET_DIR", "Private")
	ndocs = int(os.environ.get("DOCS", "40"))
	ensure_folder(client, ops, folder)
	tmp = tempfile.mkdtemp(prefix="sw-encrypted-")
	try:
		files = []
		for i in range(ndocs):
			stem = f"{rng.choice(STEMS)} {i + 1:03d}"
			if i % 3 == 2:
				plain, name = corpus.make_xlsx(rng, stem, author="Bob"), stem + ".xlsx"
			else:
				pic = None
				if i % 2:
					w, h = rng.choice(((640, 480), (1024, 768), (1600, 1200)))
					pic = (corpus.make_jpeg(rng, w, h), w, h)
				plain, name = corpus.make_docx(rng, stem, picture=pic, author="Bob"), stem + ".docx"
			files.append((name, officecrypt.encrypt_ooxml(plain, PASSWORD)))
		files += archives(rng, tmp)
		files += gpg_and_age(rng, tmp)
		for i in range(3):
			files.append((f"Laptop backup {i + 1}.vhdx", os.urandom(rng.randint(1, 3) << 20)))
		for name, data in files:
			path = join(folder, name)
			if ops.do(f"save {path}", lambda path=path, data=data: client.put(path, data)) is None:
				continue
			back = ops.do(f"read back {path}", lambda path=path: client.get(path))
			if back is not None and back != data:
				ops.fail(f"{path}: read back differs")
		keepass_saves(client, ops, rng, folder, tmp, int(os.environ.get("KDBX_SAVES", "12")))
	finally:
		shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
	sys.exit(run_workload(body))
