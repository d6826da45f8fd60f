#!/usr/bin/python3
"""Converting a folder of Word documents to PDF (benign): every .docx of CONVERT_DIR is opened and saved as PDF
beside it ("Save as PDF": NAME.pdf), then, as a print-to-PDF driver names its output, the same documents are
printed to "NAME.docx.pdf" and the originals are deleted: the folder keeps only PDFs. A new file named after
each document, then the document deleted: what a copy-then-delete rule must not mistake for an attack.

Environment: SMB_SERVER, SMB_SHARE, SMB_USER, SMB_PASS (set by `lab client2` / `lab attack`);
CONVERT_DIR (default HR\\Reviews\\2025); DOCS to make there first (default 30).
Prints "ops_ok N ops_failed M" and exits 1 when M > 0.
"""

import os
import sys
import zipfile
import io
import re

# The shared modules sit one folder up; leave no bytecode in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import corpus  # noqa: E402
from smblab import ensure_folder, env_folder, join, run_workload, workload_rng  # noqa: E402


def to_pdf(rng, name, docx):
	"""The document's text set as PDF pages, with its pictures."""
	with zipfile.ZipFile(io.BytesIO(docx)) as z:
		xml = z.read("word/document.xml").decode("utf-8", "replace")
		pics = [z.read(n) for n in z.namelist() if n.startswith("word/media/")]
	text = [t for t in re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml) if t.strip()]
	pages = [text[i:i + 40] for i in range(0, len(text), 40)] or [[name]]
	images = []
	for p in pics[:2]:
		try:
			from PIL import Image
			w, h = Image.open(io.BytesIO(p)).size
			images.append((p, w, h))
		except Exception:
			pass
	return corpus.make_pdf(rng, name.rsplit(".", 1)[0], pages=pages, images=images)


def body(client, ops):
	rng = workload_rng()
	folder = env_folder("CONVERT_DIR", "HR\\Reviews\\2025")
	ensure_folder(client, ops, folder)
	for i in range(int(os.environ.get("DOCS", "30"))):
		name = f"Review {2025}-{i + 1:03d}.docx"
		w, h = rng.choice(((640, 480), (800, 600)))
		data = corpus.make_docx(rng, name[:-5], picture=(corpus.make_jpeg(rng, w, h), w, h) if i % 2 else None)
		ops.do(f"create {name}", lambda name=name, data=data: client.put(join(folder, name), data))
	listing = ops.do(f"list {folder}", lambda: client.list_dir(folder))
	docs = [n for n in (listing[0] if listing else []) if n.lower().endswith(".docx")]
	if not docs:
		ops.fail(f"no .docx files in {folder}")
	converted = {}
	for name in docs:
		data = ops.do(f"open {name}", lambda name=name: client.get(join(folder, name)))
		if data is None:
			continue
		pdf = to_pdf(rng, name, data)
		ops.do(f"save as PDF {name}", lambda name=name, pdf=pdf: client.put(join(folder, name[:-5] + ".pdf"), pdf))
		converted[name] = pdf
	for name, pdf in converted.items():
		out = join(folder, name + ".pdf")
		if ops.do(f"print {name}", lambda out=out, pdf=pdf: client.put(out, pdf)) is not None:
			ops.do(f"delete {name}", lambda name=name: client.delete(join(folder, name)))
	after = ops.do(f"list {folder}", lambda: client.list_dir(folder))
	if after is not None:
		left = [n for n in after[0] if n.lower().endswith(".docx")]
		if left:
			ops.fail(f"{folder}: documents left after the conversion: {left[:3]}")
		for name, pdf in list(converted.items())[:10]:
			back = ops.do(f"check {name}.pdf", lambda name=name: client.get(join(folder, name + ".pdf")))
			if back is not None and back != pdf:
				ops.fail(f"{name}.pdf: differs from what was printed")


if __name__ == "__main__":
	sys.exit(run_workload(body))
