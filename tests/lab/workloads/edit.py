#!/usr/bin/python3
"""A user keeps editing one existing document over SMB3 (Notepad style: saved in place, read back).

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2`); FILE (share-relative, required);
DURATION seconds at most (default 30); STOP_FILE: a local path; the user saves once more and stops when it exists.

Prints "final <sha256 of the last saved contents>" and then "ops_ok N ops_failed M"; exits 1 when M > 0.
"""

import hashlib
import os
import sys
import time

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import Client, Refused, describe, workload_rng  # noqa: E402


def main():
	name = os.environ.get("FILE", "").strip("/\\").replace("/", "\\")
	if not name:
		print("edit.py: set FILE to the share-relative name of the document to edit", file=sys.stderr)
		return 2
	duration = float(os.environ.get("DURATION", "30"))
	stop_file = os.environ.get("STOP_FILE", "")
	rng = workload_rng()
	client = Client()
	ok = failed = 0
	last = None
	end = time.monotonic() + duration
	try:
		client.connect()
		original = client.retry(lambda: client.get(name))
		while True:
			stopping = time.monotonic() >= end or (stop_file and os.path.exists(stop_file))
			text = corpus.make_text(rng, f"{name} edited by {client.user}, save {ok + failed + 1}",
						rng.randint(2000, 12000))
			data = original[:256] + b"\r\n" + text
			before = client.reconnects
			try:
				client.retry(lambda: client.put(name, data))
				if client.retry(lambda: client.get(name)) != data:
					raise RuntimeError(f"{name}: read back differs")
				if client.reconnects != before:
					raise RuntimeError("the session was cut and had to be opened again")
				ok += 1
				last = data
			except Refused as e:
				failed += 1
				print(f"save: refused: {e}", file=sys.stderr)
			except Exception as e:
				failed += 1
				print(f"save: {describe(e)}", file=sys.stderr)
			if stopping:
				break
			time.sleep(rng.uniform(0.2, 0.4))
	except Exception as e:
		failed += 1
		print(f"connect: {describe(e)}", file=sys.stderr)
	finally:
		client.close()
	print(f"final {hashlib.sha256(last).hexdigest() if last is not None else '-'}", flush=True)
	print(f"ops_ok {ok} ops_failed {failed}", flush=True)
	return 1 if failed or last is None else 0


if __name__ == "__main__":
	sys.exit(main())
