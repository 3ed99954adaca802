"""Badges as PNG and PDF: the name, the company, the badge type on its colour band, the QR of the signed code and
the edition's name, laid out once in millimetres and drawn by either renderer."""

from __future__ import annotations

import functools
import io
import math
import tomllib
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources

import qrcode
import qrcode.util
from fpdf import FPDF
from PIL import Image, ImageDraw

from badge_scanner.issued_badges import BadgeData
from exhibit_crm import outbox
from exhibit_crm.errors import Conflict, InvalidInput

from .fonts import (
    ASCENT,
    FREETYPE_LOCK,
    LINE_HEIGHT,
    PT_MM,
    Fit,
    add_pdf_fonts,
    close_pdf_fonts,
    em_width,
    face_width,
    fit,
    pil_font,
    runs,
    set_pdf_font,
)

# The QR standard asks for a light margin of four modules around the symbol; the QR box below includes it.
QUIET_ZONE = 4
MIN_DPI, MAX_DPI = 72, 1200
TEXT = "#111111"
WHITE = "#ffffff"


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Slot:
    """Where a text goes and how far it may shrink before it wraps; sizes in points, boxes in millimetres."""

    box: Box
    max_pt: float
    min_pt: float
    bold: bool = False
    wrap: bool = True


@dataclass(frozen=True)
class Spec:
    """One badge stock (badge_layouts.toml): its size and where each part of the badge goes."""

    width: float
    height: float
    edition: Slot
    name: Slot
    company: Slot
    qr: Box
    band: Box
    type_zh: Slot
    type_en: Slot
    type_only: Slot

    @classmethod
    def of(cls, data: dict) -> Spec:
        slots = {key: Slot(Box(*value.pop("box")), **value) for key, value in data.items() if isinstance(value, dict)}
        boxes = {key: Box(*value) for key, value in data.items() if isinstance(value, list)}
        return cls(width=data["width"], height=data["height"], **slots, **boxes)


def _specs() -> dict[str, Spec]:
    with resources.files(__package__).joinpath("badge_layouts.toml").open("rb") as file:
        return {name: Spec.of(data) for name, data in tomllib.load(file).items()}


SPECS = _specs()
_NAME_GAP = 2.0


@dataclass(frozen=True)
class Line:
    text: str
    x: float
    baseline: float
    size_pt: float
    bold: bool
    ink: str  # "text", "muted" (on white) or "band" (on the colour band)


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    band: Box
    band_colour: str
    band_ink: str
    qr: Box
    modules: tuple[tuple[bool, ...], ...]
    lines: tuple[Line, ...]


def layout(badge: BadgeData) -> Layout:
    """Where everything on the badge goes, in millimetres from the top left corner."""
    if badge.status == "cancelled":
        raise Conflict("registration_cancelled", "a cancelled registration gets no badge")
    spec = SPECS.get(badge.layout)
    if spec is None:
        raise InvalidInput("unknown_layout", f"badge layout {badge.layout!r}: one of {', '.join(SPECS)}",
                           field="layout")
    lines = [*_centred(spec.edition, badge.edition_name, "muted"), *_people(spec, badge),
             *_band_texts(spec, badge)]
    return Layout(width=spec.width, height=spec.height, band=spec.band, band_colour=badge.color,
                  band_ink=ink_on(badge.color), qr=spec.qr, modules=qr_modules(badge.code), lines=tuple(lines))


def _fit(slot: Slot, text: str) -> Fit:
    return fit(text, width=slot.box.w, height=slot.box.h, max_pt=slot.max_pt, min_pt=slot.min_pt, bold=slot.bold,
               wrap=slot.wrap)


def _lines(slot: Slot, fitted: Fit, top: float, ink: str) -> list[Line]:
    size = fitted.size_pt * PT_MM
    box = slot.box
    return [Line(text, box.x + (box.w - em_width(text, bold=slot.bold) * size) / 2,
                 top + (ASCENT + i * LINE_HEIGHT) * size, fitted.size_pt, slot.bold, ink)
            for i, text in enumerate(fitted.lines)]


def _centred(slot: Slot, text: str, ink: str) -> list[Line]:
    if not text.strip():
        return []
    fitted = _fit(slot, text)
    return _lines(slot, fitted, slot.box.y + (slot.box.h - fitted.height_mm()) / 2, ink)


def _people(spec: Spec, badge: BadgeData) -> list[Line]:
    name = _fit(spec.name, badge.full_name)
    company = _fit(spec.company, badge.company) if badge.company.strip() else None
    height = name.height_mm() + (_NAME_GAP + company.height_mm() if company else 0)
    region_top, region_bottom = spec.name.box.y, spec.company.box.y + spec.company.box.h
    top = region_top + (region_bottom - region_top - height) / 2
    lines = _lines(spec.name, name, top, "text")
    if company:
        lines += _lines(spec.company, company, top + name.height_mm() + _NAME_GAP, "text")
    return lines


def _band_texts(spec: Spec, badge: BadgeData) -> list[Line]:
    zh, en = badge.badge_type_name_zh.strip(), badge.badge_type_name.strip()
    if zh and en and zh != en:
        return [*_centred(spec.type_zh, zh, "band"), *_centred(spec.type_en, en, "band")]
    return _centred(spec.type_only, zh or en, "band")


def rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = map(linear, rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ink_on(colour: str) -> str:
    """White or near-black, whichever has the higher WCAG contrast on the colour."""
    background = _luminance(colour)
    on_white = (_luminance(WHITE) + 0.05) / (background + 0.05)
    on_dark = (background + 0.05) / (_luminance(TEXT) + 0.05)
    return WHITE if on_white >= on_dark else TEXT


@functools.lru_cache(maxsize=64)
def qr_modules(code: str) -> tuple[tuple[bool, ...], ...]:
    """The QR symbol of a badge code, error correction M, quiet zone included; True is a dark module."""
    symbol = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    data = code.encode("ascii")
    if all(byte in qrcode.util.ALPHA_NUM for byte in data):
        # Badge codes are upper-case base32, inside the QR alphanumeric set (5.5 bits a character against 8 in byte
        # mode): 116 characters fit version 5 (37×37 modules) instead of version 7 (45×45).
        symbol.add_data(qrcode.util.QRData(data, mode=qrcode.util.MODE_ALPHA_NUM), optimize=0)
    else:
        symbol.add_data(data)
    symbol.make(fit=True)
    return tuple(tuple(row) for row in symbol.get_matrix())


# PNG: a 16-colour palette image, 4 bits a pixel, which compresses several times faster than RGB. Text is
# anti-aliased by blending palette indices, so each background gets a linear ramp of 8 colours towards its ink:
# 0..7 from TEXT to white, 8..15 from the band's ink to the band's colour; 8 levels of grey at 300 dpi print as
# smooth edges.
_RAMP = 8
_PNG_WHITE, _PNG_TEXT, _PNG_MUTED, _PNG_BAND, _PNG_BAND_INK = 7, 0, 2, 15, 8
_PNG_INK = {"text": _PNG_TEXT, "muted": _PNG_MUTED, "band": _PNG_BAND_INK}


def _ramp(start: str, end: str) -> list[int]:
    a, b = rgb(start), rgb(end)
    return [round(a[k] + (b[k] - a[k]) * i / (_RAMP - 1)) for i in range(_RAMP) for k in range(3)]


def _muted() -> str:
    # the PDF's grey for the edition name: the same colour the PNG's palette gives it
    return "#" + bytes(_ramp(TEXT, WHITE)[_PNG_MUTED * 3:_PNG_MUTED * 3 + 3]).hex()


def badge_png(badge: BadgeData, *, dpi: int = 300) -> bytes:
    """The badge as a PNG at its physical size and the given resolution."""
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise InvalidInput("out_of_range", f"dpi: between {MIN_DPI} and {MAX_DPI}", field="dpi")
    lay = layout(badge)
    scale = dpi / 25.4
    image = Image.new("P", (round(lay.width * scale), round(lay.height * scale)), _PNG_WHITE)
    palette = _ramp(TEXT, WHITE) + _ramp(lay.band_ink, lay.band_colour)
    image.putpalette(palette)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "L"
    band = lay.band
    draw.rectangle((round(band.x * scale), round(band.y * scale), round((band.x + band.w) * scale) - 1,
                    round((band.y + band.h) * scale) - 1), fill=_PNG_BAND)
    for line in lay.lines:
        size_px, x = line.size_pt / 72 * dpi, line.x * scale
        for part, face in runs(line.text, bold=line.bold):
            font = pil_font(face, size_px)
            with FREETYPE_LOCK:
                draw.text((x, line.baseline * scale), part, fill=_PNG_INK[line.ink], anchor="ls", font=font)
            x += face_width(part, face) * size_px
    _paste_qr(image, lay, scale, palette)
    out = io.BytesIO()
    # Z_RLE: as small as the default strategy on these flat colours, and faster
    image.save(out, "PNG", bits=4, compress_level=6, compress_type=zlib.Z_RLE, dpi=(dpi, dpi))
    return out.getvalue()


def _paste_qr(image: Image.Image, lay: Layout, scale: float, palette: list[int]) -> None:
    n = len(lay.modules)
    # whole pixels per module keep every module the same size, which scanners need more than the exact box size
    module = max(1, math.floor(lay.qr.w * scale / n))
    size = module * n
    symbol = qr_image(lay.modules, light=_PNG_WHITE, dark=_PNG_TEXT).resize((size, size), Image.Resampling.NEAREST)
    symbol.putpalette(palette)
    image.paste(symbol, (round((lay.qr.x + lay.qr.w / 2) * scale - size / 2),
                         round((lay.qr.y + lay.qr.h / 2) * scale - size / 2)))


# PDF: vector text in the embedded faces (subset when the document is written), the QR as an image.

@contextmanager
def pdf_document() -> Iterator[FPDF]:
    """An empty document in millimetres with the CJK face loaded; its font files are closed afterwards."""
    pdf = FPDF(unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    add_pdf_fonts(pdf)
    try:
        yield pdf
    finally:
        close_pdf_fonts(pdf)


def badge_pdf(badge: BadgeData) -> bytes:
    """The badge as a one-page PDF of the layout's size."""
    lay = layout(badge)
    with pdf_document() as pdf:
        pdf.add_page(format=(lay.width, lay.height))
        draw_pdf(pdf, lay, 0, 0)
        return bytes(pdf.output())


def draw_pdf(pdf: FPDF, lay: Layout, x: float, y: float) -> None:
    """Draw a laid-out badge on the current page with its top left corner at (x, y) mm."""
    pdf.set_fill_color(*rgb(lay.band_colour))
    pdf.rect(x + lay.band.x, y + lay.band.y, lay.band.w, lay.band.h, style="F")
    inks = {"text": TEXT, "muted": _muted(), "band": lay.band_ink}
    for line in lay.lines:
        pdf.set_text_color(*rgb(inks[line.ink]))
        left = x + line.x
        for part, face in runs(line.text, bold=line.bold):
            set_pdf_font(pdf, face, line.size_pt)
            pdf.text(left, y + line.baseline, part)
            left += face_width(part, face) * line.size_pt * PT_MM
    _draw_qr(pdf, lay, x, y)


def _draw_qr(pdf: FPDF, lay: Layout, x: float, y: float) -> None:
    # An image of one pixel a module, drawn without interpolation, prints as sharp squares, as rectangles would; it
    # takes a fifth of the time of the ~360 rectangles a symbol needs, which counts on a thousand-badge sheet.
    pdf.image(qr_image(lay.modules), x + lay.qr.x, y + lay.qr.y, lay.qr.w, lay.qr.h)


def qr_image(modules: tuple[tuple[bool, ...], ...], *, light: int = 255, dark: int = 0) -> Image.Image:
    """The symbol as a grey image with one pixel a module."""
    n = len(modules)
    return Image.frombytes("L", (n, n), bytes(dark if cell else light for row in modules for cell in row))


# The e-badge QR that mails carry, as a PNG: eight pixels a module, from the badges' own symbol.
QR_PIXELS_PER_MODULE = 8


def qr_png(code: str) -> bytes:
    """The QR of a badge code as a PNG, from the badges' own symbol (level M, quiet zone of four modules)."""
    modules = qr_modules(code)
    size = len(modules) * QR_PIXELS_PER_MODULE
    image = qr_image(modules).resize((size, size), Image.Resampling.NEAREST).convert("1")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _qr_png_of(data: bytes) -> bytes:
    return qr_png(data.decode("ascii"))


# A mail's QR is queued as the badge code and drawn by the sender: drawing it (choosing the QR mask above all) costs
# more than the rest of a registration.
QR_ATTACHMENT = outbox.register_renderer("e-badge-qr", content_type="image/png", render=_qr_png_of)
