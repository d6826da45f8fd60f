#!/usr/bin/python3
"""The lab's share contents: a deterministic tree of real office documents, PDFs, photos and text files.

Usage: corpus.py DIR        fills DIR (which must exist) and prints "files N bytes B".

The generators (make_docx, make_xlsx, make_pdf, make_jpeg, make_text, make_csv)
are also used by the benign workloads, so what users save looks like the corpus.
"""

import io
import os
import random
import sys
import time
import zipfile
import zlib
from xml.sax.saxutils import escape

from PIL import Image

SEED = 20251127

WORDS = (
    "account approval budget client contract customer deadline delivery department draft estimate "
    "figure forecast invoice ledger margin meeting milestone notes order payment policy price project "
    "proposal quarter receipt renewal report review revenue schedule service site staff summary supplier "
    "target team total update vendor warehouse audit balance board capital claim compliance cost credit "
    "debit equipment expense facility insurance inventory license maintenance overtime payroll pension "
    "premises procurement quality refund rent salary security shipment software storage tax training "
    "travel utility volume wage the of and to in for with on by from at as is was will be are this that "
    "our their all new next last first final annual monthly weekly agreed pending revised confirmed"
).split()

NAMES = ("Anderson", "Baker", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jones",
	 "Kowalski", "Larsen", "Martin", "Nguyen", "Olsen", "Patel", "Quinn", "Rossi", "Schmidt", "Tanaka")

# A fixed timestamp inside every zip, so the same seed gives the same bytes.
ZIP_TIME = (2025, 3, 14, 9, 30, 0)


def sentence(rng, n=None):
	n = n or rng.randint(6, 18)
	words = [rng.choice(WORDS) for _ in range(n)]
	return " ".join(words).capitalize() + "."


def paragraph(rng, n=None):
	return " ".join(sentence(rng) for _ in range(n or rng.randint(2, 6)))


# ---------------------------------------------------------------- images

_noise_cache = {}


def _noise(rng, size):
	"""A random grey texture, made once per size and cropped for each picture."""
	if size not in _noise_cache:
		w, h = size
		_noise_cache[size] = Image.frombytes("L", size, rng.randbytes(w * h))
	return _noise_cache[size]


def make_jpeg(rng, width, height, quality=None, detail=None, small=False):
	"""A real JPEG: colour gradients, soft blobs and sensor-like noise (detail 0..1 sets how much).
	small (pictures up to 1024x1024): scale only the part of the noise the picture shows; twice as fast
	for the hundreds of small photos a camera folder holds."""
	if detail is None:
		detail = rng.uniform(0.03, 0.2)
	c1 = tuple(rng.randint(0, 255) for _ in range(3))
	c2 = tuple(rng.randint(0, 255) for _ in range(3))
	grad = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize((width, height))
	base = Image.merge("RGB", [grad.point(lambda v, a=a, b=b: a + (b - a) * v // 255) for a, b in zip(c1, c2)])
	# Coarse blobs: a small random image scaled up smoothly.
	bw, bh = max(2, width // 64), max(2, height // 64)
	blobs = Image.frombytes("RGB", (bw, bh), rng.randbytes(bw * bh * 3)).resize((width, height), Image.BICUBIC)
	img = Image.blend(base, blobs, 0.35)
	# Fine noise, taken from a shared texture at a random offset.
	tex = _noise(rng, (1024, 1024))
	ox, oy = rng.randint(0, 1023), rng.randint(0, 1023)
	if small and width <= 1024 and height <= 1024:
		x0, y0 = ox % 512, oy % 512
		fine = tex.crop((x0, y0, x0 + (width + 1) // 2, y0 + (height + 1) // 2)).resize((width, height))
	else:
		fine = Image.new("L", (width, height))
		for y in range(0, height, 1024):
			for x in range(0, width, 1024):
				fine.paste(tex.crop((ox % 512, oy % 512, ox % 512 + 512, oy % 512 + 512)).resize((1024, 1024)), (x, y))
	img = Image.blend(img, Image.merge("RGB", (fine, fine, fine)), detail * 0.5)
	out = io.BytesIO()
	img.save(out, "JPEG", quality=quality or rng.randint(75, 88))
	return out.getvalue()


# ---------------------------------------------------------------- OOXML

def _zip(parts):
	out = io.BytesIO()
	with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
		for name, data in parts:
			info = zipfile.ZipInfo(name, ZIP_TIME)
			info.compress_type = zipfile.ZIP_STORED if name.endswith(".jpeg") else zipfile.ZIP_DEFLATED
			info.external_attr = 0o644 << 16
			z.writestr(info, data)
	return out.getvalue()


def _core_xml(title, author):
	return (
		'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
		'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
		'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
		'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
		f'<dc:title>{escape(title)}</dc:title><dc:creator>{escape(author)}</dc:creator>'
		f'<cp:lastModifiedBy>{escape(author)}</cp:lastModifiedBy>'
		'<dcterms:created xsi:type="dcterms:W3CDTF">2025-03-14T09:30:00Z</dcterms:created>'
		'<dcterms:modified xsi:type="dcterms:W3CDTF">2025-03-14T09:30:00Z</dcterms:modified>'
		'</cp:coreProperties>')


def _app_xml(app):
	return (
		'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
		'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
		f'<Application>{app}</Application></Properties>')


_ROOT_RELS = (
	'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
	'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
	'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="{main}"/>'
	'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
	'<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
	'</Relationships>')

_CT_HEAD = (
	'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
	'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
	'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
	'<Default Extension="xml" ContentType="application/xml"/>'
	'<Default Extension="jpeg" ContentType="image/jpeg"/>'
	'<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
	'<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>')

_W_NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
	 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
	 'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
	 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
	 'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"')


def _w_par(text, bold=False, size=None):
	rpr = ""
	if bold or size:
		rpr = "<w:rPr>" + ("<w:b/>" if bold else "") + (f'<w:sz w:val="{size}"/>' if size else "") + "</w:rPr>"
	return f'<w:p><w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'


def _w_picture(rid, width, height):
	emu = 9525	# EMUs per pixel at 96 dpi
	cx, cy = width * emu, height * emu
	if cx > 5486400:	# fit 6 inches of text width
		cy = cy * 5486400 // cx
		cx = 5486400
	return (
		'<w:p><w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">'
		f'<wp:extent cx="{cx}" cy="{cy}"/><wp:docPr id="1" name="Picture 1"/>'
		'<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
		'<pic:pic><pic:nvPicPr><pic:cNvPr id="0" name="image1.jpeg"/><pic:cNvPicPr/></pic:nvPicPr>'
		f'<pic:blipFill><a:blip r:embed="{rid}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
		f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
		'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>'
		'</a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>')


def make_docx(rng, title, paragraphs=None, picture=None, author=None):
	"""A Word document; picture = (jpeg bytes, width, height) embeds one image."""
	author = author or rng.choice(NAMES)
	if paragraphs is None:
		paragraphs = [paragraph(rng) for _ in range(rng.randint(25, 90))]
	body = [_w_par(title, bold=True, size=32)]
	rels = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
		'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">']
	parts = []
	for i, p in enumerate(paragraphs):
		body.append(_w_par(p))
		if picture and i == 0:
			body.append(_w_picture("rId10", picture[1], picture[2]))
	if picture:
		rels.append('<Relationship Id="rId10" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.jpeg"/>')
		parts.append(("word/media/image1.jpeg", picture[0]))
	rels.append("</Relationships>")
	doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
	       f'<w:document {_W_NS}><w:body>' + "".join(body) +
	       '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
	       '<w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/>'
	       '</w:sectPr></w:body></w:document>')
	ct = (_CT_HEAD + '<Override PartName="/word/document.xml" '
	      'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
	return _zip([
		("[Content_Types].xml", ct),
		("_rels/.rels", _ROOT_RELS.format(main="word/document.xml")),
		("word/document.xml", doc),
		("word/_rels/document.xml.rels", "".join(rels)),
		("docProps/core.xml", _core_xml(title, author)),
		("docProps/app.xml", _app_xml("Microsoft Office Word")),
	] + parts)


def _col(n):
	s = ""
	n += 1
	while n:
		n, r = divmod(n - 1, 26)
		s = chr(65 + r) + s
	return s


def make_xlsx(rng, title, rows=None, cols=None, author=None):
	"""An Excel workbook with one sheet: a header row of text, then numbers and text cells."""
	author = author or rng.choice(NAMES)
	rows = rows or rng.randint(80, 600)
	cols = cols or rng.randint(4, 10)
	heads = [rng.choice(WORDS).capitalize() for _ in range(cols)]
	out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
	       '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
	cells = "".join(f'<c r="{_col(c)}1" t="inlineStr"><is><t>{escape(h)}</t></is></c>' for c, h in enumerate(heads))
	out.append(f'<row r="1">{cells}</row>')
	for r in range(2, rows + 2):
		cells = []
		for c in range(cols):
			ref = f"{_col(c)}{r}"
			if c == 0:
				cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{rng.choice(NAMES)} {rng.choice(WORDS)}</t></is></c>')
			else:
				cells.append(f'<c r="{ref}"><v>{round(rng.uniform(-5000, 90000), 2)}</v></c>')
		out.append(f'<row r="{r}">' + "".join(cells) + "</row>")
	out.append("</sheetData></worksheet>")
	wb = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
	      '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
	      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
	      '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
	wbrels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
		  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
		  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
		  '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
		  '</Relationships>')
	styles = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
		  '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
		  '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
		  '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
		  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
		  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
		  '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
		  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
		  '</styleSheet>')
	ct = (_CT_HEAD +
	      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
	      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
	      '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
	      '</Types>')
	return _zip([
		("[Content_Types].xml", ct),
		("_rels/.rels", _ROOT_RELS.format(main="xl/workbook.xml")),
		("xl/workbook.xml", wb),
		("xl/_rels/workbook.xml.rels", wbrels),
		("xl/worksheets/sheet1.xml", "".join(out)),
		("xl/styles.xml", styles),
		("docProps/core.xml", _core_xml(title, author)),
		("docProps/app.xml", _app_xml("Microsoft Excel")),
	])


# ---------------------------------------------------------------- PDF

def _pdf_text(s):
	return "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(rng, title, pages=None, images=()):
	"""A valid PDF 1.4: one page of Helvetica text per entry of pages, plus one page per JPEG in images
	(each (bytes, width, height)), with a correct xref table."""
	if pages is None:
		pages = [[sentence(rng) for _ in range(rng.randint(30, 50))] for _ in range(rng.randint(2, 6))]
	objs = {}		# number -> bytes (without "N 0 obj")
	objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
	objs[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
	kids = []
	n = 4
	for i, lines in enumerate(pages):
		ops = ["BT", "/F1 16 Tf", "72 780 Td", _pdf_text(title if i == 0 else f"{title} ({i + 1})") + " Tj",
		       "/F1 10 Tf", "14 TL", "0 -28 Td"]
		for line in lines[:50]:
			ops.append(_pdf_text(line[:95]) + " '")
		ops.append("ET")
		stream = zlib.compress("\n".join(ops).encode("latin-1", "replace"))
		objs[n] = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"
		objs[n + 1] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
			       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % n)
		kids.append(n + 1)
		n += 2
	for data, w, h in images:
		objs[n] = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
			   b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n" % (w, h, len(data)) + data + b"\nendstream")
		scale = min(495 / w, 700 / h)
		dw, dh = w * scale, h * scale
		ops = f"q {dw:.2f} 0 0 {dh:.2f} 50 {792 - dh:.2f} cm /Im1 Do Q".encode()
		objs[n + 1] = b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream"
		objs[n + 2] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
			       b"/Resources << /XObject << /Im1 %d 0 R >> >> /Contents %d 0 R >>" % (n, n + 1))
		kids.append(n + 2)
		n += 3
	objs[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
	info = n
	objs[info] = b"<< /Title %s /Producer (sharewarden lab corpus) /CreationDate (D:20250314093000Z) >>" % \
		_pdf_text(title).encode("latin-1", "replace")
	out = io.BytesIO()
	out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets = {}
	for num in sorted(objs):
		offsets[num] = out.tell()
		out.write(b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n")
	xref = out.tell()
	size = max(objs) + 1
	out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
	for num in range(1, size):
		out.write(b"%010d 00000 n \n" % offsets[num])
	out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, info, xref))
	return out.getvalue()


# ---------------------------------------------------------------- text

def make_text(rng, title, size):
	out = [title, "=" * len(title), ""]
	n = len(title) * 2 + 2
	while n < size:
		p = paragraph(rng)
		out.append(p)
		out.append("")
		n += len(p) + 2
	return ("\r\n".join(out) + "\r\n").encode()


def make_csv(rng, size):
	cols = rng.randint(4, 9)
	out = [",".join(["id", "name"] + [rng.choice(WORDS) for _ in range(cols - 2)])]
	n, i = len(out[0]), 1
	while n < size:
		row = [str(i), f"{rng.choice(NAMES)} {rng.choice(WORDS)}"] + \
			[f"{rng.uniform(0, 100000):.2f}" for _ in range(cols - 2)]
		line = ",".join(row)
		out.append(line)
		n += len(line) + 2
		i += 1
	return ("\r\n".join(out) + "\r\n").encode()


# ---------------------------------------------------------------- the tree

# folder: list of (kind, count)
TREE = [
	("Finance/2024", [("docx", 4), ("xlsx", 8), ("pdf", 6), ("csv", 3)]),
	("Finance/2025", [("docx", 4), ("xlsx", 8), ("pdf", 6), ("csv", 3)]),
	("Finance/2025/Invoices", [("pdf", 18)]),
	("HR", [("docx", 3), ("xlsx", 2), ("txt", 2)]),
	("HR/Contracts", [("docx", 10), ("pdf", 4)]),
	("HR/Reviews/2025", [("docx", 8)]),
	("IT/Inventory", [("csv", 4), ("xlsx", 2), ("txt", 3)]),
	("IT/Scripts", [("txt", 6)]),
	("Legal/Contracts", [("docx", 6), ("pdf", 6)]),
	("Marketing/Brand", [("jpg", 10), ("pdf", 2), ("docx", 2)]),
	("Marketing/Campaigns", [("docx", 4), ("xlsx", 3), ("jpg", 6)]),
	("Photos/2024", [("jpg", 20)]),
	("Photos/2025/Events", [("jpg", 20)]),
	("Projects/Alpha/data", [("csv", 6), ("xlsx", 3)]),
	("Projects/Alpha/specs", [("docx", 6), ("txt", 4), ("pdf", 2)]),
	("Projects/Beta/drawings", [("jpg", 6), ("pdf", 2)]),
	("Projects/Beta/reports", [("docx", 5), ("xlsx", 4), ("pdf", 3)]),
	("Shared/Templates", [("docx", 4), ("xlsx", 3)]),
	("bob", [("docx", 4), ("xlsx", 3), ("txt", 3)]),
]

# The few large files (1-2 MB) a real share always has.
LARGE = [
	("Finance/2024", "General Ledger 2024.xlsx"),
	("Finance/2025", "General Ledger 2025.xlsx"),
	("HR", "Employee handbook 2025.pdf"),
	("IT/Inventory", "asset-export-full.csv"),
	("Legal/Contracts", "Signed contracts archive (scan).pdf"),
	("Marketing/Brand", "Brand book 2025.pdf"),
	("Marketing/Campaigns", "Spring campaign visuals.docx"),
	("Photos/2024", "Team photo 2024.jpg"),
	("Photos/2025/Events", "Summer party panorama.jpg"),
	("Projects/Alpha/data", "sensor-readings-2025.csv"),
	("Projects/Alpha/specs", "Alpha system specification.docx"),
	("Projects/Beta/drawings", "Floor plan scan.pdf"),
	("Projects/Beta/reports", "Site survey with photos.docx"),
]

# Camera uploads the photo workloads rename: (folder, names); small pictures, as phones and cameras sync them.
PHOTO_SETS = [
	("Photos/Holiday 2026", [f"IMG_{i:04d}.jpg" for i in range(1, 301)]),
	("Photos/Phone", [f"PHOTO-2026-08-{i:02d}.jpeg" for i in range(1, 51)]),
]
PHOTO_SIZES = ((320, 240), (400, 300), (480, 360), (240, 320), (300, 400))

STEMS = {
	"docx": ("Meeting notes", "Proposal", "Memo", "Contract", "Letter", "Minutes", "Policy", "Specification",
		 "Review", "Plan", "Offer", "Agreement"),
	"xlsx": ("Budget", "Forecast", "Timesheet", "Expenses", "Sales", "Inventory", "Payroll", "Costs",
		 "Headcount", "Pipeline"),
	"pdf": ("Invoice", "Statement", "Quote", "Receipt", "Brochure", "Datasheet", "Report", "Certificate"),
	"jpg": ("IMG", "DSC", "photo", "P"),
	"txt": ("readme-notes", "todo", "changelog", "install", "meeting", "ideas"),
	"csv": ("export", "customers", "orders", "readings", "contacts", "ledger"),
}


def file_name(rng, kind, used):
	while True:
		stem = rng.choice(STEMS[kind])
		if kind == "jpg":
			name = f"{stem}_{rng.randint(1000, 9999)}.jpg"
		elif kind in ("txt", "csv"):
			name = f"{stem}-{rng.randint(1, 300):03d}.{kind}"
		else:
			name = f"{stem} {rng.choice(NAMES)} {rng.randint(1, 99):02d}.{kind}"
		if name not in used:
			used.add(name)
			return name


def make_file(rng, kind, title):
	"""One corpus file of kind, 5 KB - 500 KB."""
	if kind == "docx":
		pic = None
		if rng.random() < 0.6:
			w, h = rng.choice(((640, 480), (800, 600), (1024, 768)))
			pic = (make_jpeg(rng, w, h), w, h)
		return make_docx(rng, title, picture=pic)
	if kind == "xlsx":
		return make_xlsx(rng, title)
	if kind == "pdf":
		# Logos, stamps or a scanned page: most PDFs carry an image.
		w, h = rng.choice(((320, 120), (640, 480), (800, 600), (1024, 768)))
		return make_pdf(rng, title, images=[(make_jpeg(rng, w, h), w, h)])
	if kind == "jpg":
		w, h = rng.choice(((640, 480), (800, 600), (1024, 768), (1280, 960)))
		return make_jpeg(rng, w, h)
	if kind == "txt":
		return make_text(rng, title, rng.randint(5000, 40000))
	if kind == "csv":
		return make_csv(rng, rng.randint(5000, 120000))
	raise ValueError(kind)


def make_large(rng, name):
	title = name.rsplit(".", 1)[0]
	if name.endswith(".xlsx"):
		return make_xlsx(rng, title, rows=rng.randint(12000, 18000), cols=12)
	if name.endswith(".csv"):
		return make_csv(rng, rng.randint(1100000, 1900000))
	if name.endswith(".pdf"):
		imgs = [(make_jpeg(rng, 1600, 1200, quality=90, detail=rng.uniform(0.3, 0.5)), 1600, 1200) for _ in range(3)]
		return make_pdf(rng, title, images=imgs)
	if name.endswith(".jpg"):
		return make_jpeg(rng, 3000, 1500, quality=90, detail=rng.uniform(0.4, 0.6))
	if name.endswith(".docx"):
		pic = (make_jpeg(rng, 2400, 1800, quality=90, detail=0.5), 2400, 1800)
		return make_docx(rng, title, paragraphs=[paragraph(rng) for _ in range(60)], picture=pic)
	raise ValueError(name)


START = time.mktime((2024, 1, 8, 9, 0, 0, 0, 0, -1))
SPAN = 660 * 86400


def build_documents(root):
	rng = random.Random(SEED)
	nfiles = nbytes = 0
	for folder, kinds in TREE:
		d = os.path.join(root, folder)
		os.makedirs(d, exist_ok=True)
		used = set()
		plan = [k for k, n in kinds for _ in range(n)]
		rng.shuffle(plan)
		for kind in plan:
			name = file_name(rng, kind, used)
			data = make_file(rng, kind, name.rsplit(".", 1)[0])
			path = os.path.join(d, name)
			with open(path, "wb") as f:
				f.write(data)
			t = START + rng.randint(0, SPAN)
			os.utime(path, (t, t))
			nfiles += 1
			nbytes += len(data)
	for folder, name in LARGE:
		data = make_large(rng, name)
		path = os.path.join(root, folder, name)
		with open(path, "wb") as f:
			f.write(data)
		t = START + rng.randint(0, SPAN)
		os.utime(path, (t, t))
		nfiles += 1
		nbytes += len(data)
	return nfiles, nbytes


def build_photos(root):
	rng = random.Random(SEED + 1)
	nfiles = nbytes = 0
	for folder, names in PHOTO_SETS:
		d = os.path.join(root, folder)
		os.makedirs(d, exist_ok=True)
		t = START + rng.randint(0, SPAN)
		for name in names:
			w, h = rng.choice(PHOTO_SIZES)
			data = make_jpeg(rng, w, h, small=True)
			path = os.path.join(d, name)
			with open(path, "wb") as f:
				f.write(data)
			# A burst of shots: a few seconds apart.
			t += rng.randint(2, 90)
			os.utime(path, (t, t))
			nfiles += 1
			nbytes += len(data)
	return nfiles, nbytes


def build(root):
	n1, b1 = build_documents(root)
	n2, b2 = build_photos(root)
	return n1 + n2, b1 + b2


def main():
	if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
		print("usage: corpus.py DIR (an existing directory)", file=sys.stderr)
		return 2
	n, b = build(sys.argv[1])
	print(f"files {n} bytes {b}")
	return 0


if __name__ == "__main__":
	sys.exit(main())
