"""Password protection of Office documents as Office saves it (ECMA-376 Agile Encryption, MS-OFFCRYPTO 2.3.4):
the .docx/.xlsx zip is encrypted with AES-256-CBC under a key derived from the password by SHA-512 with 100,000
spins, and stored as the EncryptedPackage stream of a compound file (CFB, "CDFV2 Encrypted") beside its
EncryptionInfo XML and the \\x06DataSpaces storage.

encrypt_ooxml(package, password) -> bytes. msoffcrypto (python3-msoffcrypto-tool) opens and decrypts what it
writes, so the files are what Word and Excel read.
"""

import base64
import hashlib
import hmac
import os
import struct

from Cryptodome.Cipher import AES

SPIN = 100000
SEGMENT = 4096
BLK_VERIFIER_INPUT = bytes.fromhex("fea7d2763b4b9e79")
BLK_VERIFIER_VALUE = bytes.fromhex("d7aa0f6d3061344e")
BLK_KEY = bytes.fromhex("146e0be7abacd0d6")
BLK_HMAC_KEY = bytes.fromhex("5fb2ad010cb9e1f6")
BLK_HMAC_VALUE = bytes.fromhex("a0677f02b22c8433")


def _pad(data, block=16):
	return data + bytes(-len(data) % block)


def _cbc(key, iv, data):
	return AES.new(key, AES.MODE_CBC, iv).encrypt(_pad(data))


def _password_hash(password, salt):
	h = hashlib.sha512(salt + password.encode("utf-16-le")).digest()
	for i in range(SPIN):
		h = hashlib.sha512(struct.pack("<I", i) + h).digest()
	return h


def _block_key(h, block, bits=256):
	k = hashlib.sha512(h + block).digest()[: bits // 8]
	return k + b"\x36" * (bits // 8 - len(k))


def _iv(salt, block):
	return hashlib.sha512(salt + block).digest()[:16]


def _b64(b):
	return base64.b64encode(b).decode()


def _encryption_info(password, secret, key_salt, enc_package):
	pw_salt = os.urandom(16)
	h = _password_hash(password, pw_salt)
	verifier = os.urandom(16)
	enc_vin = _cbc(_block_key(h, BLK_VERIFIER_INPUT), pw_salt, verifier)
	enc_vval = _cbc(_block_key(h, BLK_VERIFIER_VALUE), pw_salt, hashlib.sha512(verifier).digest())
	enc_key = _cbc(_block_key(h, BLK_KEY), pw_salt, secret)
	hmac_key = os.urandom(64)
	enc_hkey = _cbc(secret, _iv(key_salt, BLK_HMAC_KEY), hmac_key)
	hval = hmac.new(hmac_key, enc_package, hashlib.sha512).digest()
	enc_hval = _cbc(secret, _iv(key_salt, BLK_HMAC_VALUE), hval)
	common = ('saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
		  'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512"')
	xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
	       '<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption" '
	       'xmlns:p="http://schemas.microsoft.com/office/2006/keyEncryptor/password" '
	       'xmlns:c="http://schemas.microsoft.com/office/2006/keyEncryptor/certificate">'
	       f'<keyData {common} saltValue="{_b64(key_salt)}"/>'
	       f'<dataIntegrity encryptedHmacKey="{_b64(enc_hkey)}" encryptedHmacValue="{_b64(enc_hval)}"/>'
	       '<keyEncryptors><keyEncryptor uri="http://schemas.microsoft.com/office/2006/keyEncryptor/password">'
	       f'<p:encryptedKey spinCount="{SPIN}" {common} saltValue="{_b64(pw_salt)}" '
	       f'encryptedVerifierHashInput="{_b64(enc_vin)}" encryptedVerifierHashValue="{_b64(enc_vval)}" '
	       f'encryptedKeyValue="{_b64(enc_key)}"/></keyEncryptor></keyEncryptors></encryption>')
	return struct.pack("<HHI", 4, 4, 0x40) + xml.encode()


def _encrypted_package(package, secret, key_salt):
	out = [struct.pack("<Q", len(package))]
	for i in range(0, len(package), SEGMENT):
		out.append(_cbc(secret, _iv(key_salt, struct.pack("<I", i // SEGMENT)), package[i:i + SEGMENT]))
	return b"".join(out)


def _lp_p4(s):
	"""UNICODE-LP-P4: a length in bytes, UTF-16LE, padded to 4 bytes."""
	b = s.encode("utf-16-le")
	return struct.pack("<I", len(b)) + b + bytes(-len(b) % 4)


def _data_spaces():
	"""The \\x06DataSpaces storage of MS-OFFCRYPTO 2.1: one data space, StrongEncryptionDataSpace, applied to
	EncryptedPackage through the StrongEncryptionTransform."""
	version = _lp_p4("Microsoft.Container.DataSpaces") + struct.pack("<6H", 1, 0, 1, 0, 1, 0)
	entry = struct.pack("<II", 1, 0) + _lp_p4("EncryptedPackage") + _lp_p4("StrongEncryptionDataSpace")
	space_map = struct.pack("<II", 8, 1) + struct.pack("<I", len(entry) + 4) + entry
	space_info = struct.pack("<II", 8, 1) + _lp_p4("StrongEncryptionTransform")
	header = (struct.pack("<I", 1) + _lp_p4("{FF9A3F03-56EF-4613-BDD5-5A41C1D07246}") +
		  _lp_p4("Microsoft.Container.EncryptionTransform") + struct.pack("<6H", 1, 0, 1, 0, 1, 0))
	primary = struct.pack("<I", len(header) + 4) + header + struct.pack("<IIII", 0, 0, 0, 4)
	return version, space_map, space_info, primary


# ---------------------------------------------------------------- compound file (CFB v3, 512-byte sectors)

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF


class _Entry:
	def __init__(self, name, kind, data=b"", children=()):
		self.name, self.kind, self.data, self.children = name, kind, data, list(children)
		self.left = self.right = self.child = NOSTREAM
		self.red = False
		self.start, self.size = END, 0


def _cfb_key(e):
	return (len(e.name), e.name.upper())


def _tree(entries, depth, out, maxdepth):
	"""A balanced binary tree of siblings; the nodes of an incomplete last level are red (a valid red-black tree)."""
	if not entries:
		return NOSTREAM
	mid = len(entries) // 2
	node = entries[mid]
	node.left = _tree(entries[:mid], depth + 1, out, maxdepth)
	node.right = _tree(entries[mid + 1:], depth + 1, out, maxdepth)
	node.red = depth == maxdepth and depth > 0
	return node.index


def _link(storage):
	kids = sorted(storage.children, key=_cfb_key)
	n, depth = len(kids), 0
	while (1 << (depth + 1)) - 1 < n:
		depth += 1
	full = (1 << (depth + 1)) - 1 == n
	storage.child = _tree(kids, 0, None, depth if not full else -1)
	for k in kids:
		if k.kind == 1:
			_link(k)


def _cfb(root_children):
	root = _Entry("Root Entry", 5, children=root_children)
	order = [root]

	def collect(e):
		for k in e.children:
			order.append(k)
		for k in e.children:
			if k.kind == 1:
				collect(k)
	collect(root)
	for i, e in enumerate(order):
		e.index = i
	_link(root)
	# Small streams go to the mini stream (64-byte sectors), the rest to ordinary sectors.
	mini, minifat = bytearray(), []
	for e in order:
		if e.kind == 2 and len(e.data) < CUTOFF:
			e.size = len(e.data)
			if e.size == 0:
				e.start = END
				continue
			n = (e.size + MINI - 1) // MINI
			e.start = len(minifat)
			minifat += [len(minifat) + i + 1 for i in range(n - 1)] + [END]
			mini += e.data + bytes(-e.size % MINI)
	big = [e for e in order if e.kind == 2 and len(e.data) >= CUTOFF]
	# Layout as Office writes a new file: directory, mini FAT and mini stream first, large streams after,
	# the FAT sectors in front of everything.
	dir_bytes = len(order) * 128
	ndir = (dir_bytes + SECTOR - 1) // SECTOR
	nminifat = (len(minifat) * 4 + SECTOR - 1) // SECTOR
	nmini = (len(mini) + SECTOR - 1) // SECTOR
	nbig = sum((len(e.data) + SECTOR - 1) // SECTOR for e in big)
	nfat = 1
	while nfat * (SECTOR // 4) < nfat + ndir + nminifat + nmini + nbig:
		nfat += 1
	if nfat > 109:
		raise ValueError("document too large for this writer (no DIFAT sectors)")
	fat = [FATSECT] * nfat
	sectors = bytearray()

	def chain(nsect):
		start = len(fat)
		fat.extend(range(start + 1, start + nsect))
		fat.append(END)
		return start

	dir_start = chain(ndir)
	minifat_start = chain(nminifat) if nminifat else END
	root.start = chain(nmini) if nmini else END
	root.size = len(mini)
	for e in big:
		e.size = len(e.data)
		e.start = chain((e.size + SECTOR - 1) // SECTOR)
	fat += [FREE] * (-len(fat) % (SECTOR // 4))
	# The directory.
	d = bytearray()
	for e in order:
		name = e.name.encode("utf-16-le") + b"\0\0"
		d += name + bytes(64 - len(name))
		d += struct.pack("<HBB", len(name), e.kind, 0 if e.red else 1)
		d += struct.pack("<III", e.left, e.right, e.child)
		d += bytes(16) + struct.pack("<I", 0) + bytes(16)
		d += struct.pack("<IQ", e.start, e.size)
	d += (b"\0" * 64 + struct.pack("<HBB", 0, 0, 0) + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) +
	      bytes(48)) * ((ndir * SECTOR - len(d)) // 128)
	sectors += struct.pack(f"<{len(fat)}I", *fat)
	sectors += d
	mf = struct.pack(f"<{len(minifat)}I", *minifat) if minifat else b""
	sectors += mf + b"\xff" * (nminifat * SECTOR - len(mf))
	sectors += mini + bytes(nmini * SECTOR - len(mini))
	for e in big:
		sectors += e.data + bytes(-len(e.data) % SECTOR)
	difat = list(range(nfat)) + [FREE] * (109 - nfat)
	header = (bytes.fromhex("d0cf11e0a1b11ae1") + bytes(16) + struct.pack("<HHHHH", 0x3e, 3, 0xfffe, 9, 6) +
		  bytes(6) + struct.pack("<IIIIIIIII", 0, nfat, dir_start, 0, CUTOFF, minifat_start, nminifat,
					 END, 0) + struct.pack("<109I", *difat))
	return header + bytes(sectors)


def encrypt_ooxml(package, password):
	"""The password-protected form of an OOXML package (a .docx/.xlsx/.pptx zip), as Office saves it."""
	secret = os.urandom(32)
	key_salt = os.urandom(16)
	enc = _encrypted_package(package, secret, key_salt)
	info = _encryption_info(password, secret, key_salt, enc)
	version, space_map, space_info, primary = _data_spaces()
	ds = _Entry("\x06DataSpaces", 1, children=[
		_Entry("Version", 2, version),
		_Entry("DataSpaceMap", 2, space_map),
		_Entry("DataSpaceInfo", 1, children=[_Entry("StrongEncryptionDataSpace", 2, space_info)]),
		_Entry("TransformInfo", 1, children=[
			_Entry("StrongEncryptionTransform", 1, children=[_Entry("\x06Primary", 2, primary)])]),
	])
	return _cfb([ds, _Entry("EncryptionInfo", 2, info), _Entry("EncryptedPackage", 2, enc)])
