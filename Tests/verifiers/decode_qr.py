#!/usr/bin/env python3
"""Decodes QR code images with zxing-cpp (an independent decoder) and prints each text on its own line.

Usage: decode_qr.py IMAGE.png [IMAGE.png ...]
"""
import sys

import zxingcpp
from PIL import Image

for path in sys.argv[1:]:
    results = zxingcpp.read_barcodes(Image.open(path).convert("L"))
    qr = [r for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    if len(qr) != 1:
        print(f"{path}: expected one QR code, found {len(results)} barcodes", file=sys.stderr)
        sys.exit(1)
    print(qr[0].text)
