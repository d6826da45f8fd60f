#!/usr/bin/python3
"""Downloads into the share (benign), as browsers save them, and a mailbox file kept by a mail client.

Chrome and Edge write "Unconfirmed NNNNNN.crdownload" in pieces and rename it to the final name; Firefox creates
the final name empty, writes NAME.part and renames it over. What is downloaded is compressed by design: a
fragmented MP4 (ftyp, moov, then moof/mdat pairs), WebP and HEIC pictures (PIL, heif-enc), a zip, a Java .jar,
an Android .apk (a zip with an APK signing block before its central directory) and an ISO 9660 image whose files
are compressed. Then Outlook.pst (a Unicode PST: "!BDN" header, blocks of mail encoded with the PST's
"compressible encryption" byte table, attachments as they came) is created, written in its middle again and
again, and grown at its end, each time through a new handle.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
ROUNDS downloads of each kind (default 3); PST_UPDATES (default 60); DOWNLOAD_DIR (default Downloads).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import io
import os
import random
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402

CHUNK = 256 * 1024


def box(kind, payload):
	return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind, version, flags, payload):
	return box(kind, struct.pack(">I", (version << 24) | flags) + payload)


def fragmented_mp4(rng, size):
	"""A fragmented MP4 as streaming sites serve it: ftyp, moov with mvex, then moof + mdat per segment."""
	ftyp = box(b"ftyp", b"iso6" + struct.pack(">I", 512) + b"iso6cmfcdashavc1mp41")
	mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, 90000, 0) + struct.pack(">IH", 0x10000, 0x100) +
			bytes(10) + struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000) + bytes(24) +
			struct.pack(">I", 2))
	mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0)))
	out = [ftyp, box(b"moov", mvhd + mvex)]
	seq, left = 1, size
	while left > 0:
		n = min(left, rng.randint(60_000, 200_000))
		samples = max(1, n // 5000)
		trun = full_box(b"trun", 0, 0x201, struct.pack(">I", samples) +
				b"".join(struct.pack(">I", n // samples) for _ in range(samples)))
		traf = box(b"traf", full_box(b"tfhd", 0, 0x20000, struct.pack(">I", 1)) +
			   full_box(b"tfdt", 1, 0, struct.pack(">Q", seq * 180000)) + trun)
		out.append(box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", seq)) + traf))
		out.append(box(b"mdat", rng.randbytes(n)))
		seq += 1
		left -= n
	return b"".join(out)


def picture(rng, fmt, tmp):
	w, h = rng.choice(((1280, 960), (1600, 1200), (1024, 768)))
	jpeg = corpus.make_jpeg(rng, w, h, detail=rng.uniform(0.1, 0.4))
	if fmt == "heic":
		src, dst = os.path.join(tmp, "in.jpg"), os.path.join(tmp, "out.heic")
		with open(src, "wb") as f:
			f.write(jpeg)
		subprocess.run(["heif-enc", "-q", "60", "-o", dst, src], check=True, stdout=subprocess.DEVNULL)
		with open(dst, "rb") as f:
			return f.read()
	from PIL import Image
	out = io.BytesIO()
	Image.open(io.BytesIO(jpeg)).save(out, "WEBP", quality=rng.randint(60, 90))
	return out.getvalue()


def class_file(rng, name):
	"""A Java class file: magic, version, a constant pool of names and code-like bytes."""
	pool = b"".join(b"\x01" + struct.pack(">H", len(s)) + s for s in
			(name.encode(), b"java/lang/Object", b"<init>", b"()V", b"Code", b"main"))
	return b"\xca\xfe\xba\xbe\x00\x00\x00\x3d" + struct.pack(">H", 7) + pool + rng.randbytes(rng.randint(300, 3000))


def java_archive(rng, apk):
	out = io.BytesIO()
	with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
		z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: 17.0.9\r\n\r\n")
		if apk:
			z.writestr("AndroidManifest.xml", rng.randbytes(2000))
			z.writestr("classes.dex", b"dex\n035\0" + rng.randbytes(rng.randint(200_000, 600_000)))
			z.writestr(zipfile.ZipInfo("resources.arsc"), rng.randbytes(100_000), compress_type=zipfile.ZIP_STORED)
			for i in range(20):
				z.writestr(zipfile.ZipInfo(f"res/drawable/icon_{i}.png"), rng.randbytes(3000),
					   compress_type=zipfile.ZIP_STORED)
		for i in range(rng.randint(40, 120)):
			cls = f"com/acme/app/Class{i}"
			z.writestr(cls + ".class", class_file(rng, cls))
	blob = out.getvalue()
	if not apk:
		return blob
	# APK signature scheme v2: a signing block between the last entry and the central directory.
	eocd = blob.rfind(b"PK\5\6")
	cd_off = struct.unpack("<I", blob[eocd + 16:eocd + 20])[0]
	pair = struct.pack("<QI", 4 + 1200, 0x7109871a) + rng.randbytes(1200)
	size = len(pair) + 8 + 16
	block = struct.pack("<Q", size) + pair + struct.pack("<Q", size) + b"APK Sig Block 42"
	eocd_rec = bytearray(blob[eocd:])
	eocd_rec[16:20] = struct.pack("<I", cd_off + len(block))
	return blob[:cd_off] + block + blob[cd_off:eocd] + bytes(eocd_rec)


def iso_image(rng):
	"""An ISO 9660 image: 32 KiB of system area, the primary volume descriptor, the set terminator, then the
	image's compressed payload (a live system's squashfs)."""
	blocks = rng.randint(400, 900)
	pvd = bytearray(2048)
	pvd[0:8] = b"\x01CD001\x01\x00"
	pvd[8:40] = b"LINUX".ljust(32)
	pvd[40:72] = b"LIVE_2026_11".ljust(32)
	pvd[80:88] = struct.pack("<I", blocks + 19) + struct.pack(">I", blocks + 19)
	pvd[120:124] = struct.pack("<H", 1) + struct.pack(">H", 1)
	pvd[128:132] = struct.pack("<H", 2048) + struct.pack(">H", 2048)
	pvd[881] = 1
	term = b"\xffCD001\x01" + bytes(2041)
	return bytes(32768) + bytes(pvd) + term + bytes(2048 * 2) + rng.randbytes(blocks * 2048)


def zip_of_documents(rng):
	out = io.BytesIO()
	with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
		for i in range(rng.randint(5, 15)):
			z.writestr(f"statements/statement-{i:02d}.pdf", corpus.make_pdf(rng, f"Statement {i}"))
	return out.getvalue()


def save_chrome(client, ops, folder, name, data, rng):
	temp = join(folder, f"Unconfirmed {rng.randint(100000, 999999)}.crdownload")
	for off in range(0, max(len(data), 1), CHUNK):
		if ops.do(f"download {temp}", lambda off=off: client.write_at(temp, off, data[off:off + CHUNK],
									       create=True)) is None:
			return None
	if ops.do(f"rename {temp}", lambda: client.rename(temp, join(folder, name))) is None:
		return None
	return join(folder, name)


def save_firefox(client, ops, folder, name, data, rng):
	final, part = join(folder, name), join(folder, name + ".part")
	ops.do(f"create {final}", lambda: client.put(final, b""))
	for off in range(0, max(len(data), 1), CHUNK):
		if ops.do(f"download {part}", lambda off=off: client.write_at(part, off, data[off:off + CHUNK],
									       create=True)) is None:
			return None
	ops.do(f"delete {final}", lambda: client.delete(final))
	if ops.do(f"rename {part}", lambda: client.rename(part, final)) is None:
		return None
	return final


# The byte table of the PST "compressible encryption" (NDB_CRYPT_PERMUTE): a fixed substitution.
_PERMUTE = bytes(random.Random(0x5057).sample(range(256), 256))


def pst_block(rng):
	"""A block of mail: message text (substituted byte for byte, as a PST stores it) or an attachment."""
	if rng.random() < 0.3:
		return corpus.make_jpeg(rng, 640, 480)
	return corpus.make_text(rng, corpus.sentence(rng), rng.randint(2000, 16000)).translate(_PERMUTE)


def pst_header():
	h = bytearray(564)
	h[0:4] = b"!BDN"
	h[8:10] = b"SM"
	h[10:12] = struct.pack("<H", 23)	# Unicode PST
	h[12:14] = struct.pack("<H", 19)
	h[14] = 1
	h[15] = 1
	h[4:8] = struct.pack("<I", zlib.crc32(bytes(h[8:479])))
	h[513] = 1				# bCryptMethod: NDB_CRYPT_PERMUTE
	return bytes(h) + bytes(512 * 1024 - len(h))


def outlook(client, ops, folder, rng, updates):
	path = join("Outlook Files", "Outlook.pst")
	ensure_folder(client, ops, "Outlook Files")
	data = bytearray(pst_header())
	while len(data) < 2 << 20:
		data += pst_block(rng)
	data += bytes(-len(data) % 512)
	if ops.do(f"create {path}", lambda: client.put(path, bytes(data))) is None:
		return
	for _ in range(updates):
		blk = pst_block(rng)
		blk += bytes(-len(blk) % 512)		# the PST allocates whole 512-byte units
		if rng.random() < 0.5:
			off = len(data)
			data += blk
		else:
			off = rng.randrange(512 * 1024, len(data) - len(blk)) // 512 * 512
			data[off:off + len(blk)] = blk
		ops.do(f"update {path}", lambda off=off, blk=blk: client.write_at(path, off, blk))
		# the header's allocation state changes with every write
		ops.do(f"update {path} header", lambda: client.write_at(path, 0, bytes(data[:564])))
	back = ops.do(f"read {path}", lambda: client.get(path))
	if back is not None and back != bytes(data):
		ops.fail(f"{path}: read back differs")


def body(client, ops):
	rng = workload_rng()
	folder = env_folder("DOWNLOAD_DIR", "Downloads")
	rounds = int(os.environ.get("ROUNDS", "3"))
	ensure_folder(client, ops, folder)
	with tempfile.TemporaryDirectory(prefix="sw-downloads-") as tmp:
		for r in range(rounds):
			files = [
				(f"lecture-{r + 1:02d}.mp4", fragmented_mp4(rng, rng.randint(1 << 20, 4 << 20))),
				(f"wallpaper-{r + 1:02d}.webp", picture(rng, "webp", tmp)),
				(f"IMG_{4100 + r:04d}.HEIC", picture(rng, "heic", tmp)),
				(f"statements-2026-{r + 1:02d}.zip", zip_of_documents(rng)),
				(f"report-tool-{r + 1}.0.jar", java_archive(rng, False)),
				(f"app-release-{r + 1}.apk", java_archive(rng, True)),
				(f"live-2026.{r + 1}-amd64.iso", iso_image(rng)),
			]
			for i, (name, data) in enumerate(files):
				save = save_chrome if (i + r) % 2 == 0 else save_firefox
				path = save(client, ops, folder, name, data, rng)
				if path is None:
					continue
				back = ops.do(f"open {path}", lambda path=path: client.get(path))
				if back is not None and back != data:
					ops.fail(f"{path}: read back differs")
	outlook(client, ops, folder, rng, int(os.environ.get("PST_UPDATES", "60")))


if __name__ == "__main__":
	sys.exit(run_workload(body))
