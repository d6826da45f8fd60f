"""SMB3 client helpers shared by the lab's attack and workload scripts (impacket, Windows-like retries)."""

import io
import os
import socket
import sys
import time

from impacket import nt_errors
from impacket.nmb import NetBIOSError, NetBIOSTimeout
from impacket.smb3structs import SMB2_DIALECT_30
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
		self.timeout = timeout
		self.conn = None
		self.tid = None
		self.denied = 0
		self.reconnects = 0

	def connect(self):
		"""Connects and logs in; login refusals raise Refused, network errors propagate."""
		self.close()
		conn = SMBConnection(self.server, self.server, sess_port=445, timeout=self.timeout,
				     preferredDialect=SMB2_DIALECT_30)
		try:
			conn.login(self.user, self.password, "")
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
