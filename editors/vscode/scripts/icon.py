"""Draws images/icon.png (128x128): a document with a signature stroke (a paraph).

Run from editors/vscode with Pillow installed: python3 scripts/icon.py
"""
from PIL import Image, ImageDraw

S = 4  # drawn at 4x, then scaled down for smooth edges
W = 128 * S
img = Image.new("RGBA", (W, W), (0, 0, 0, 0))
d = ImageDraw.Draw(img)
d.rounded_rectangle([4 * S, 4 * S, 124 * S, 124 * S], radius=22 * S, fill=(0, 84, 147, 255))
# The page.
d.rounded_rectangle([30 * S, 20 * S, 90 * S, 100 * S], radius=6 * S, fill=(255, 255, 255, 255))
for y in (36, 48, 60):
    d.rounded_rectangle([40 * S, y * S, 80 * S, (y + 5) * S], radius=2 * S, fill=(170, 195, 220, 255))
# The paraph.
pts = [(44, 86), (54, 72), (60, 84), (68, 70), (74, 82), (104, 60)]
d.line([(x * S, y * S) for x, y in pts], fill=(255, 205, 0, 255), width=8 * S, joint="curve")
for x, y in (pts[0], pts[-1]):
    r = 4 * S
    d.ellipse([x * S - r, y * S - r, x * S + r, y * S + r], fill=(255, 205, 0, 255))
img.resize((128, 128), Image.LANCZOS).save("images/icon.png", optimize=True)
