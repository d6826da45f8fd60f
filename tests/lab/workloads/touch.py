#!/usr/bin/python3
"""One small write as $SMB_USER: exit 0 when it worked, 1 when it did not (account disabled, access denied...).

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS; FILE (share-relative name,
default touch-$SMB_USER.txt).
"""

import os
import sys
import time

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import Client, describe  # noqa: E402


def main():
	client = Client()
	name = os.environ.get("FILE") or f"touch-{client.user}.txt"
	name = name.strip("/\\").replace("/", "\\")
	data = f"written by {client.user} at {time.strftime('%Y-%m-%d %H:%M:%S')}\r\n".encode()
	try:
		client.connect()
		client.put(name, data)
	except Exception as e:
		print(f"failed {client.user} {name}: {describe(e)}", flush=True)
		return 1
	finally:
		client.close()
	print(f"ok {client.user} {name}", flush=True)
	return 0


if __name__ == "__main__":
	sys.exit(main())
