#!/usr/bin/env python3
"""Where each text string of a PDF is drawn, read with pikepdf (outside Paraaf):

    text_positions.py FILE.pdf

Prints one line per string, PAGE (from 1), X, Y and TEXT separated by tabs,
x and y the string's origin in the page's default user space (the text matrix times the
current transformation matrix; q/Q, cm, BT, Tm, Td, TD, TL, T*, ', " are followed).
Strings are decoded as WinAnsi (cp1252), as the standard fonts encode them.
"""
import sys

import pikepdf


def mul(a, b):
    return [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]


ID = [1, 0, 0, 1, 0, 0]
pdf = pikepdf.open(sys.argv[1])
for number, page in enumerate(pdf.pages, start=1):
    ctm, stack, tm, tlm, leading = ID, [], ID, ID, 0.0
    for operands, op in pikepdf.parse_content_stream(page):
        op = str(op)
        nums = [float(o) for o in operands] if op in ("cm", "Tm", "Td", "TD", "TL") else []
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            ctm = stack.pop() if stack else ID
        elif op == "cm":
            ctm = mul(nums, ctm)
        elif op == "BT":
            tm = tlm = ID
        elif op == "Tm":
            tm = tlm = nums
        elif op in ("Td", "TD"):
            if op == "TD":
                leading = -nums[1]
            tlm = mul([1, 0, 0, 1, nums[0], nums[1]], tlm)
            tm = tlm
        elif op == "TL":
            leading = nums[0]
        elif op in ("T*", "'", '"'):
            tlm = mul([1, 0, 0, 1, 0, -leading], tlm)
            tm = tlm
        if op in ("Tj", "'", '"', "TJ"):
            parts = operands[0] if op == "TJ" else operands[-1:]
            text = b"".join(bytes(p) for p in parts if isinstance(p, pikepdf.String))
            at = mul(tm, ctm)
            text = text.decode("cp1252", errors="replace").replace("\t", " ").replace("\n", " ")
            print(f"{number}\t{at[4]:.2f}\t{at[5]:.2f}\t{text}")
