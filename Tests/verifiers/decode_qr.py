#!/usr/bin/env python3
"""Decodes QR code images with zxing-cpp (an independent decoder) and prints each text on its own line.

Usage: decode_qr.py IMAGE.png|PAGE.svg|PAGE.html [...]

An SVG (or an HTML page holding one) is drawn module by module from its path of unit squares (`M x,y h1v1h-1z`, as
ParkFedQR writes them) into an image first, so the decoder reads what the page itself carries.
"""
import re
import sys

import zxingcpp
from PIL import Image


def load(path):
    if not (path.endswith(".svg") or path.endswith(".html")):
        return Image.open(path).convert("L")
    text = open(path, encoding="utf-8").read()
    box = re.search(r'viewBox="0 0 (\d+) (\d+)"', text)
    side = int(box.group(1))
    scale = 8
    image = Image.new("L", (side * scale, side * scale), 255)
    for x, y in re.findall(r"M(\d+),(\d+)h1v1h-1z", text):
        x, y = int(x), int(y)
        image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    return image


for path in sys.argv[1:]:
    results = zxingcpp.read_barcodes(load(path))
    qr = [r for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    if len(qr) != 1:
        print(f"{path}: expected one QR code, found {len(results)} barcodes", file=sys.stderr)
        sys.exit(1)
    print(qr[0].text)
