#!/usr/bin/env python3
"""PDFs made by other tools, to seal in tests (`make_pdfs.py DIR`):

  decision.pdf   a college decision from a template (reportlab), two pages
  scanned.pdf    a scanned letter: one page that is only an image, no text (reportlab + Pillow)
  pdfa.pdf       a PDF/A-2B declaration (XMP pdfaid, sRGB output intent), written by pikepdf
                 with object streams and a cross-reference stream
  form.pdf       a PDF with AcroForm fields (a text field and a check box), reportlab
  markers.pdf    a decision template with signature markers (reportlab, two pages):
                 {{paraaf:handtekening:visum}} at (72, 300) on page 1 (under a cm
                 translation), {{paraaf:handtekening:handtekening}} at (320, 180) and
                 {{paraaf:handtekening:onbekend}} (a step nobody signs) at (72, 100) on page 2
"""
import io
import os
import sys

import pikepdf
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def decision(path):
    c = canvas.Canvas(path, pagesize=A4, invariant=1)
    c.setTitle("Collegebesluit: verkeersreglement Kerkstraat")
    for page in (1, 2):
        c.setFont("Helvetica-Bold", 16)
        c.drawString(72, 770, "Stad Aalst - College van burgemeester en schepenen")
        c.setFont("Helvetica", 11)
        c.drawString(72, 740, f"Besluit 2026/0412 - verkeersreglement Kerkstraat (blad {page}/2)")
        for i in range(20):
            c.drawString(72, 700 - i * 16, f"Overweging {page}.{i + 1}: het college beslist zoals hieronder.")
        c.showPage()
    c.save()


def scanned(path):
    img = Image.new("L", (1240, 1754), 245)
    d = ImageDraw.Draw(img)
    for i in range(40):
        d.line((100, 150 + i * 36, 1100 - (i % 7) * 60, 150 + i * 36), fill=40, width=6)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=60)
    buf.seek(0)
    from reportlab.lib.utils import ImageReader

    c = canvas.Canvas(path, pagesize=A4, invariant=1)
    c.drawImage(ImageReader(buf), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    c.save()


def pdfa(path):
    tmp = io.BytesIO()
    c = canvas.Canvas(tmp, pagesize=A4, invariant=1)
    c.setFont("Helvetica", 12)
    c.drawString(72, 770, "Archiefexemplaar (PDF/A-2B)")
    c.showPage()
    c.save()
    tmp.seek(0)
    pdf = pikepdf.open(tmp)
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["pdfaid:part"] = "2"
        meta["pdfaid:conformance"] = "B"
        meta["dc:title"] = "Archiefexemplaar"
    icc = None
    for candidate in ("/usr/share/color/icc/ghostscript/srgb.icc", "/usr/share/color/icc/sRGB.icc"):
        if os.path.exists(candidate):
            icc = open(candidate, "rb").read()
            break
    if icc:
        profile = pdf.make_stream(icc)
        profile.N = 3
        pdf.Root.OutputIntents = pikepdf.Array([
            pikepdf.Dictionary(
                Type=pikepdf.Name.OutputIntent,
                S=pikepdf.Name.GTS_PDFA1,
                OutputConditionIdentifier="sRGB",
                DestOutputProfile=profile,
            )
        ])
    pdf.save(path, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def form(path):
    c = canvas.Canvas(path, pagesize=A4, invariant=1)
    c.setFont("Helvetica", 12)
    c.drawString(72, 770, "Aanvraag evenementenvergunning")
    c.drawString(72, 730, "Naam organisator:")
    c.acroForm.textfield(name="organisator", value="VZW Carnaval", x=200, y=720, width=250, height=20)
    c.drawString(72, 690, "Geluid boven 85 dB:")
    c.acroForm.checkbox(name="geluid", x=200, y=685, size=14, checked=True)
    c.showPage()
    c.save()


def markers(path):
    c = canvas.Canvas(path, pagesize=A4, invariant=1)
    c.setFont("Helvetica", 11)
    c.drawString(72, 770, "Besluit 2026/0413 - sjabloon met handtekeningvelden (blad 1/2)")
    c.drawString(72, 330, "Gezien door de algemeen directeur:")
    c.saveState()
    c.translate(36, 100)  # the marker's text sits in a translated coordinate system
    c.drawString(36, 200, "{{paraaf:handtekening:visum}}")
    c.restoreState()
    c.showPage()
    c.setFont("Helvetica", 11)
    c.drawString(72, 770, "Besluit 2026/0413 (blad 2/2)")
    c.drawString(320, 210, "De burgemeester:")
    c.drawString(320, 180, "{{paraaf:handtekening:handtekening}}")
    c.drawString(72, 100, "{{paraaf:handtekening:onbekend}}")
    c.showPage()
    c.save()


decision(os.path.join(out, "decision.pdf"))
markers(os.path.join(out, "markers.pdf"))
scanned(os.path.join(out, "scanned.pdf"))
pdfa(os.path.join(out, "pdfa.pdf"))
form(os.path.join(out, "form.pdf"))
