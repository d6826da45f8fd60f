#!/usr/bin/python3
"""Writes one small file every INTERVAL_MS as $SMB_USER for DURATION seconds, on one session; after a
failure it logs on again before the next write. Prints one line per write: "MS ok NAME" or
"MS failed WHY" (MS: ms since the epoch), then "writes_ok N writes_failed M". Exit 0.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS; DURATION (default 10), INTERVAL_MS
(default 100), FOLDER (default loop-$SMB_USER).
"""

import os
import sys
import time

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import Client, describe, ms, out  # noqa: E402


def main():
	client = Client(timeout=2)
	duration = float(os.environ.get("DURATION", "10"))
	interval = int(os.environ.get("INTERVAL_MS", "100")) / 1000.0
	folder = os.environ.get("FOLDER") or f"loop-{client.user}"
	ok = failed = 0
	end = time.time() + duration
	connected = False
	i = 0
	while time.time() < end:
		i += 1
		name = f"{folder}\\w{i:05d}.txt"
		try:
			if not connected:
				client.connect()
				connected = True
				try:
					client.conn.createDirectory(client.share, folder)
				except Exception:
					pass
			client.put(name, f"write {i} by {client.user}\r\n".encode())
			out(f"{ms()} ok {name}")
			ok += 1
		except Exception as e:
			out(f"{ms()} failed {describe(e)}")
			failed += 1
			client.close()
			connected = False
		time.sleep(interval)
	client.close()
	out(f"writes_ok {ok} writes_failed {failed}")
	return 0


if __name__ == "__main__":
	sys.exit(main())
