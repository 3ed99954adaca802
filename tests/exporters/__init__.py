"""Helpers for the exporters' tests: badges signed with a throw-away key, and reading QR codes back."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import zxingcpp
from PIL import Image

from badge_scanner.codes import Signer
from badge_scanner.issued_badges import BadgeData

SIGNER = Signer.generate()
_BASE = BadgeData(registration_id=1, badge_version=1, code="", full_name="王伟", company="广州华美家居有限公司",
                  badge_type_code="trade_visitor", badge_type_name="Trade visitor", badge_type_name_zh="专业观众",
                  color="#1f6feb", edition_name="上海国际家具展 2026", layout="A6", status="registered")


def badge(registration_id: int = 1, *, badge_version: int = 1, **fields) -> BadgeData:
    """A badge with a genuinely signed code."""
    return replace(_BASE, registration_id=registration_id, badge_version=badge_version,
                   code=SIGNER.sign(registration_id, badge_version), **fields)


def read_qr_codes(image: Image.Image) -> list[zxingcpp.Barcode]:
    """Every QR code zxing-cpp finds, with the exact text it holds, top to bottom, then left to right."""
    found = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode,
                                   text_mode=zxingcpp.TextMode.Plain)
    rows: list[list[zxingcpp.Barcode]] = []
    for code in sorted(found, key=lambda code: centre(code)[1]):
        # codes in one row of a sheet share their height give or take a pixel of rounding
        if rows and centre(code)[1] - centre(rows[-1][0])[1] < 20:
            rows[-1].append(code)
        else:
            rows.append([code])
    return [code for row in rows for code in sorted(row, key=lambda code: centre(code)[0])]


def centre(code: zxingcpp.Barcode) -> tuple[float, float]:
    corners = (code.position.top_left, code.position.top_right, code.position.bottom_left, code.position.bottom_right)
    return sum(p.x for p in corners) / 4, sum(p.y for p in corners) / 4


def rasterise(pdf: Path, *, page: int = 1, dpi: int = 150) -> Image.Image:
    """One page of a PDF as an image, drawn by poppler's pdftoppm."""
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-f", str(page), "-l", str(page), str(pdf),
                    str(prefix)], check=True)
    return Image.open(prefix.with_suffix(".png"))


def pdf_info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())}


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
