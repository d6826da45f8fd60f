#!/usr/bin/python3
"""Sorting holiday photos (benign): the camera's IMG_0001.jpg ... in PHOTO_DIR renamed to "Holiday 2026 - 001.jpg"
... (300 in the corpus), and the phone's .jpeg files in PHONE_DIR renamed to .jpg (50 in the corpus). A burst of
renames, many to one "new" extension: what a rename rule must not mistake for an attack.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
PHOTO_DIR (default Photos/Holiday 2026); PHONE_DIR (default Photos/Phone); ALBUM (default the name of PHOTO_DIR).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0 (also when there was nothing to rename).
"""

import os
import re
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from smblab import env_folder, join, run_workload  # noqa: E402

CAMERA = re.compile(r"IMG_(\d{4})\.jpg$", re.I)


def body(client, ops):
	photos = env_folder("PHOTO_DIR", "Photos\\Holiday 2026")
	phone = env_folder("PHONE_DIR", "Photos\\Phone")
	album = os.environ.get("ALBUM") or photos.rsplit("\\", 1)[-1]
	listing = ops.do(f"list {photos}", lambda: client.list_dir(photos))
	shots = [n for n in (listing[0] if listing else []) if CAMERA.match(n)]
	if not shots and listing is not None:
		ops.fail(f"no IMG_nnnn.jpg files in {photos}")
	for n, name in enumerate(shots, 1):
		new = f"{album} - {n:03d}.jpg"
		ops.do(f"rename {name}", lambda name=name, new=new: client.rename(join(photos, name), join(photos, new)))
	listing = ops.do(f"list {phone}", lambda: client.list_dir(phone))
	jpegs = [n for n in (listing[0] if listing else []) if n.lower().endswith(".jpeg")]
	if not jpegs and listing is not None:
		ops.fail(f"no .jpeg files in {phone}")
	for name in jpegs:
		new = name[:-len(".jpeg")] + ".jpg"
		ops.do(f"rename {name}", lambda name=name, new=new: client.rename(join(phone, name), join(phone, new)))
	# What the user sees afterwards.
	after = ops.do(f"list {photos}", lambda: client.list_dir(photos))
	if after and sum(1 for n in after[0] if n.startswith(album + " - ")) < len(shots):
		ops.fail(f"{photos}: not every photo carries its new name")


if __name__ == "__main__":
	sys.exit(run_workload(body))
