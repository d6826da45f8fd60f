#!/usr/bin/python3
"""A photo editor working on a shoot in place (benign): PHOTOS camera JPEGs, PNG screenshots, WebP exports and
RAW files (DNG, a TIFF structure around compressed sensor data) are imported into EDIT_DIR, then each is opened,
edited (rotated, retouched, re-encoded) and saved over itself, RAW files get an .xmp sidecar, and a catalog of
the shoot (SQLite, as Lightroom keeps it) is updated in place after every photo. Read, then overwritten in place,
hundreds of times in a few minutes: what a read-then-overwrite rule must not mistake for an attack.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
PHOTOS (default 60); PASSES edits of every photo (default 2); EDIT_DIR (default Photos/Shoot 2026-11).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import io
import os
import sqlite3
import struct
import sys
import tempfile

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from PIL import Image, ImageEnhance, ImageOps  # noqa: E402

import corpus  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402


def dng(rng, w, h):
	"""A DNG: little-endian TIFF header, one IFD describing a lossless-JPEG compressed CFA image, the strip."""
	strip = corpus.make_jpeg(rng, w // 4, h // 4, quality=98, detail=0.5)
	entries = [(254, 4, 1, 0), (256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 16), (259, 3, 1, 7),
		   (262, 3, 1, 32803), (271, 2, 6, 0), (273, 4, 1, 0), (277, 3, 1, 1), (279, 4, 1, len(strip)),
		   (50706, 1, 4, 0x00000401)]
	ifd_off = 8
	data_off = ifd_off + 2 + 12 * len(entries) + 4
	make = b"Canon\0"
	out = bytearray(b"II*\0" + struct.pack("<I", ifd_off) + struct.pack("<H", len(entries)))
	for tag, typ, count, val in entries:
		if tag == 271:
			val = data_off
		if tag == 273:
			val = data_off + len(make)
		fmt = "<HHIHH" if typ == 3 else "<HHII"
		out += struct.pack(fmt, tag, typ, count, val, 0) if typ == 3 else struct.pack(fmt, tag, typ, count, val)
	out += struct.pack("<I", 0) + make + strip
	return bytes(out)


def xmp(name, rating):
	return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
		'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
		f'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="{rating}" '
		f'xmp:Label="{name}"/></rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>\n').encode()


def edit(rng, name, data):
	"""What the editor saves: the picture decoded, changed and encoded again in its own format."""
	low = name.lower()
	if low.endswith(".dng"):
		return dng(rng, 4000, 3000)
	img = Image.open(io.BytesIO(data))
	img.load()
	img = ImageOps.exif_transpose(img)
	if rng.random() < 0.3:
		img = img.rotate(90, expand=True)
	img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.9, 1.1))
	out = io.BytesIO()
	if low.endswith((".jpg", ".jpeg")):
		img.save(out, "JPEG", quality=rng.randint(80, 95))
	elif low.endswith(".png"):
		img.save(out, "PNG", optimize=rng.random() < 0.5)
	else:
		img.save(out, "WEBP", quality=rng.randint(70, 90))
	return out.getvalue()


def body(client, ops):
	rng = workload_rng()
	folder = env_folder("EDIT_DIR", "Photos\\Shoot 2026-11")
	nphotos = int(os.environ.get("PHOTOS", "60"))
	passes = int(os.environ.get("PASSES", "2"))
	ensure_folder(client, ops, folder)
	names = []
	for i in range(nphotos):
		kind = i % 6
		w, h = rng.choice(((1024, 768), (1280, 960), (800, 600)))
		jpeg = corpus.make_jpeg(rng, w, h, detail=rng.uniform(0.1, 0.4))
		if kind in (0, 1, 2):
			name, data = f"_MG_{8100 + i:04d}.JPG", jpeg
		elif kind == 3:
			name, data = f"_MG_{8100 + i:04d}.dng", dng(rng, 4000, 3000)
		elif kind == 4:
			out = io.BytesIO()
			Image.open(io.BytesIO(jpeg)).save(out, "PNG")
			name, data = f"Screenshot {i:03d}.png", out.getvalue()
		else:
			out = io.BytesIO()
			Image.open(io.BytesIO(jpeg)).save(out, "WEBP", quality=80)
			name, data = f"export-{i:03d}.webp", out.getvalue()
		path = join(folder, name)
		if ops.do(f"import {path}", lambda path=path, data=data: client.put(path, data)) is not None:
			names.append(name)
	# The catalog lives beside the photos; a local copy is edited and its changed pages written back in place.
	with tempfile.TemporaryDirectory(prefix="sw-photo-") as tmp:
		local = os.path.join(tmp, "Shoot.lrcat")
		db = sqlite3.connect(local)
		db.execute("CREATE TABLE photo (id INTEGER PRIMARY KEY, name TEXT, rating INTEGER, edits INTEGER, "
			   "develop TEXT)")
		db.executemany("INSERT INTO photo (name, rating, edits, develop) VALUES (?, 0, 0, '')",
			       [(n,) for n in names])
		db.commit()
		cat = join(folder, "Shoot.lrcat")
		with open(local, "rb") as f:
			ops.do(f"create {cat}", lambda data=f.read(): client.put(cat, data))
		for p in range(passes):
			for name in names:
				path = join(folder, name)
				data = ops.do(f"open {path}", lambda path=path: client.get(path))
				if data is None:
					continue
				new = edit(rng, name, data)
				if ops.do(f"save {path}", lambda path=path, new=new: client.put(path, new)) is None:
					continue
				if name.lower().endswith(".dng"):
					side = join(folder, name.rsplit(".", 1)[0] + ".xmp")
					ops.do(f"save {side}", lambda side=side: client.put(side, xmp(name, rng.randint(1, 5))))
				with open(local, "rb") as f:
					before = f.read()
				db.execute("UPDATE photo SET edits = edits + 1, rating = ?, develop = ? WHERE name = ?",
					   (rng.randint(0, 5), corpus.sentence(rng) * 3, name))
				db.commit()
				with open(local, "rb") as f:
					after = f.read()
				for off in range(0, len(after), 4096):
					if after[off:off + 4096] != before[off:off + 4096]:
						ops.do(f"update {cat}", lambda off=off: client.write_at(cat, off, after[off:off + 4096]))
		back = ops.do(f"read {cat}", lambda: client.get(cat))
		with open(local, "rb") as f:
			if back is not None and back != f.read():
				ops.fail(f"{cat}: read back differs")


if __name__ == "__main__":
	sys.exit(run_workload(body))
