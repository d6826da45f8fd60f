#!/usr/bin/python3
"""Importing photos and videos from a camera card (benign): PHOTOS JPEG files (made here with PIL, of varied
sizes and quality) and VIDEOS MP4 files (an ftyp/moov/mdat box layout around a random mdat payload of 200 KB to
2 MB, as compressed video is near-random) copied into a new folder MEDIA_DIR. Every file is read back and
compared. Hundreds of new high-entropy files in a burst: a content check must see that they are what their
names say.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
PHOTOS (default 300); VIDEOS (default 20); MEDIA_DIR (default Media/Import, made when missing).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import struct
import sys

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402

PHOTO_SIZES = ((640, 480), (480, 640), (800, 600), (1024, 768), (768, 1024), (512, 384), (1024, 576))
TIMESCALE = 1000
FPS = 30


def box(kind, payload):
	return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind, version, flags, payload):
	return box(kind, struct.pack(">I", (version << 24) | flags) + payload)


def make_mp4(rng, size):
	"""An MP4 whose boxes a parser walks cleanly: ftyp, moov (mvhd, one video trak with sample tables that
	point into the mdat), mdat with size bytes of random payload cut into one-second chunks of frames."""
	frames = max(1, size // 4000)
	sizes = [size // frames] * frames
	sizes[-1] += size - sum(sizes)
	duration = frames * TIMESCALE // FPS
	width, height = rng.choice(((1920, 1080), (1280, 720), (3840, 2160)))
	ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
	matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
	mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, TIMESCALE, duration) +
			struct.pack(">IH", 0x10000, 0x100) + bytes(10) + matrix + bytes(24) + struct.pack(">I", 2))
	tkhd = full_box(b"tkhd", 0, 3, struct.pack(">IIII", 0, 0, 1, 0) + struct.pack(">I", duration) + bytes(8) +
			struct.pack(">hhhH", 0, 0, 0, 0) + matrix + struct.pack(">II", width << 16, height << 16))
	mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, TIMESCALE, duration) + struct.pack(">HH", 0x55c4, 0))
	hdlr = full_box(b"hdlr", 0, 0, bytes(4) + b"vide" + bytes(12) + b"VideoHandler\0")
	vmhd = full_box(b"vmhd", 0, 1, bytes(8))
	dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1) + full_box(b"url ", 0, 1, b"")))
	# A visual sample entry; its decoder configuration is left out (the payload is not real video anyway).
	entry = box(b"mp4v", bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HH", width, height) +
		    struct.pack(">II", 0x480000, 0x480000) + bytes(4) + struct.pack(">H", 1) + bytes(32) +
		    struct.pack(">Hh", 0x18, -1))
	stsd = full_box(b"stsd", 0, 0, struct.pack(">I", 1) + entry)
	stts = full_box(b"stts", 0, 0, struct.pack(">III", 1, frames, TIMESCALE // FPS))
	# One chunk per second of frames; the last one may be shorter.
	per_chunk = FPS
	full, rest = divmod(frames, per_chunk)
	chunks = full + (1 if rest else 0)
	runs = ([(1, per_chunk)] if full else []) + ([(full + 1, rest)] if rest else [])
	stsc = full_box(b"stsc", 0, 0, struct.pack(">I", len(runs)) +
			b"".join(struct.pack(">III", first, n, 1) for first, n in runs))
	stsz = full_box(b"stsz", 0, 0, struct.pack(">II", 0, frames) + struct.pack(f">{frames}I", *sizes))

	def moov_with(offsets):
		stco = full_box(b"stco", 0, 0, struct.pack(">I", len(offsets)) + struct.pack(f">{len(offsets)}I", *offsets))
		stbl = box(b"stbl", stsd + stts + stsc + stsz + stco)
		minf = box(b"minf", vmhd + dinf + stbl)
		mdia = box(b"mdia", mdhd + hdlr + minf)
		trak = box(b"trak", tkhd + mdia)
		return box(b"moov", mvhd + trak)

	# The chunk offsets depend on the size of moov, which does not depend on their values.
	moov = moov_with([0] * chunks)
	data_start = len(ftyp) + len(moov) + 8
	offsets, pos = [], data_start
	for c in range(chunks):
		offsets.append(pos)
		pos += sum(sizes[c * per_chunk:(c + 1) * per_chunk])
	moov = moov_with(offsets)
	return ftyp + moov + box(b"mdat", rng.randbytes(size))


def body(client, ops):
	rng = workload_rng()
	folder = env_folder("MEDIA_DIR", "Media\\Import")
	photos = int(os.environ.get("PHOTOS", "300"))
	videos = int(os.environ.get("VIDEOS", "20"))
	ensure_folder(client, ops, folder)
	files = []
	for i in range(photos):
		w, h = rng.choice(PHOTO_SIZES)
		name = f"DSC_{4711 + i:04d}.JPG" if i % 3 else f"IMG_20261127_{90000 + i * 7:06d}.jpg"
		files.append((name, lambda w=w, h=h: corpus.make_jpeg(rng, w, h, quality=rng.randint(70, 95),
								   detail=rng.uniform(0.05, 0.5), small=True)))
	for i in range(videos):
		size = rng.randint(200_000, 2_000_000)
		files.append((f"VID_20261127_{100000 + i * 311:06d}.mp4", lambda size=size: make_mp4(rng, size)))
	for name, make in files:
		path = join(folder, name)
		data = make()
		if ops.do(f"copy {path}", lambda path=path, data=data: client.put(path, data)) is None:
			continue
		back = ops.do(f"read back {path}", lambda path=path: client.get(path))
		if back is not None and back != data:
			ops.fail(f"{path}: read back differs")


if __name__ == "__main__":
	sys.exit(run_workload(body))
