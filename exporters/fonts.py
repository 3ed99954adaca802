"""The fonts badges are set in, and fitting text into a box: shrink first, then wrap, never cut.

Badges carry Chinese, Latin and mixed names, rare characters (䶮, 𡈽) included, so one face has to cover them
all: Noto Sans CJK SC from Debian's fonts-noto-cjk package. Its .ttc collections hold several faces; the SC one
is found by name, not by a hard-coded index. Noto CJK lacks some European letters (Polish Ł, Turkish Ş ğ ı,
Greek έ): a word it cannot set is set in DejaVu Sans (fonts-dejavu-core) instead, so no name shows empty boxes.
"""

from __future__ import annotations

import copy
import functools
import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import TTFFont
from PIL import ImageFont

from exhibit_crm.errors import DomainError

FAMILY = "Noto Sans CJK SC"
FILES = {False: "NotoSansCJK-Regular.ttc", True: "NotoSansCJK-Bold.ttc"}
# where distributions install Noto CJK; Debian's fonts-noto-cjk first
FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/google-noto-cjk"),
    Path("/usr/local/share/fonts"),
)
FALLBACK_FILES = {False: Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                  True: Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")}
PT_MM = 25.4 / 72
# Vertical metrics in em, from the glyphs: accented capitals (É) reach 1.0 above the baseline, descenders (g, y)
# 0.25 below; CJK ideographs sit inside that box, so mixed lines share one baseline grid.
ASCENT = 1.0
DESCENT = 0.25
LINE_HEIGHT = ASCENT + DESCENT
# advances are measured at 1000 px, where hinting moves them by under 0.1 %
_MEASURE_PX = 1000
# room for the renderer's hinted advances to differ from the exact ones
_SLACK = 0.98
# after these a line may break even without a space: "买买提·艾力", "Jean-Luc", "Sales/Marketing"
_BREAK_AFTER = set("·・-/‐–")
# a natural break may leave the longer line this much longer than the most even break
_NATURAL_BREAK_COST = 1.3
# A FreeType face must not be used by two threads at once, and the web app renders badges in a thread pool.
FREETYPE_LOCK = threading.RLock()


class FontMissing(DomainError):
    """The CJK font is not installed; badges would show empty boxes instead of Chinese names."""

    status = 500

    def __init__(self, missing: str):
        super().__init__("font_missing", f"{missing} not found in {', '.join(map(str, FONT_DIRS))}: install "
                         "Debian's fonts-noto-cjk package (apt-get install fonts-noto-cjk)")


@dataclass(frozen=True)
class Face:
    """One font face: its file, its index in a collection, and its family name in PDF documents."""

    path: Path
    index: int
    family: str
    bold: bool

    @property
    def style(self) -> str:
        return "B" if self.bold else ""


@functools.cache
def cjk_face(*, bold: bool = False) -> Face:
    """Noto Sans CJK SC (simplified Chinese glyph forms), regular or bold."""
    for directory in FONT_DIRS:
        if (path := directory / FILES[bold]).is_file():
            return Face(path, _index_of(path, FAMILY), "notosanscjksc", bold)
    raise FontMissing(FILES[bold])


@functools.cache
def fallback_face(*, bold: bool = False) -> Face | None:
    """DejaVu Sans, for the letters Noto CJK lacks; None when it is not installed."""
    path = FALLBACK_FILES[bold]
    return Face(path, 0, "dejavusans", bold) if path.is_file() else None


def _index_of(path: Path, family: str) -> int:
    index = 0
    while True:
        try:
            with FREETYPE_LOCK:
                name, _style = ImageFont.truetype(str(path), 10, index=index).getname()
        except OSError:
            raise FontMissing(f"{family} in {path}") from None
        if name == family:
            return index
        index += 1


@functools.cache
def coverage(face: Face) -> frozenset[int]:
    """The code points the face has glyphs for."""
    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        return frozenset(font.getBestCmap())


@functools.lru_cache(maxsize=4096)
def runs(text: str, *, bold: bool = False) -> tuple[tuple[str, Face], ...]:
    """The text cut into runs that share a face: Noto CJK wherever it has the glyphs, else the fallback face for
    the whole text or at least the whole word, so a name is not set in two faces where one will do."""
    primary, fallback = cjk_face(bold=bold), fallback_face(bold=bold)
    if fallback and not _covers(primary, text) and _covers(fallback, text):
        return ((text, fallback),)  # "Łukasz Kowalski" all in one face
    parts: list[tuple[str, Face]] = []
    for word in re.split(r"(\s+)", text):
        if not word:
            continue
        if word.isspace() or _covers(primary, word):
            face = parts[-1][1] if word.isspace() and parts else primary
            parts.append((word, face))
        elif fallback and _covers(fallback, word):
            parts.append((word, fallback))
        else:
            # neither face has every letter: each character from the face that has it
            parts += [(char, fallback if fallback and not _covers(primary, char) and _covers(fallback, char)
                       else primary) for char in word]
    merged: list[tuple[str, Face]] = []
    for part, face in parts:
        if merged and merged[-1][1] == face:
            merged[-1] = (merged[-1][0] + part, face)
        else:
            merged.append((part, face))
    return tuple(merged)


def _covers(face: Face, text: str) -> bool:
    have = coverage(face)
    return all(ord(char) in have for char in text)


# A loaded face of the CID-keyed CFF font holds ~6 MB, so only a few sizes stay loaded; loading one takes ~1.5 ms.
@functools.lru_cache(maxsize=16)
def pil_font(face: Face, size_px: float) -> ImageFont.FreeTypeFont:
    """The face at a pixel size; basic layout, as the PDF renderer has no shaping or kerning either."""
    return _load(face, size_px)


@functools.cache
def _measuring_font(face: Face) -> ImageFont.FreeTypeFont:
    return _load(face, _MEASURE_PX)


def _load(face: Face, size_px: float) -> ImageFont.FreeTypeFont:
    with FREETYPE_LOCK:
        return ImageFont.truetype(str(face.path), size_px, index=face.index, layout_engine=ImageFont.Layout.BASIC)


def face_width(text: str, face: Face) -> float:
    """The advance width of text set in one face, in em (1 em = the font size)."""
    font = _measuring_font(face)
    with FREETYPE_LOCK:
        return font.getlength(text) / _MEASURE_PX


@functools.lru_cache(maxsize=8192)
def em_width(text: str, *, bold: bool = False) -> float:
    """The advance width of text in em, each run in its face."""
    return sum(face_width(part, face) for part, face in runs(text, bold=bold))


@dataclass(frozen=True)
class Fit:
    lines: tuple[str, ...]
    size_pt: float

    def height_mm(self) -> float:
        return len(self.lines) * LINE_HEIGHT * self.size_pt * PT_MM


def fit(text: str, *, width: float, height: float, max_pt: float, min_pt: float, bold: bool = False,
        wrap: bool = True) -> Fit:
    """The largest size ≤ max_pt at which text fits width × height mm: one line down to min_pt, then two lines."""
    text = " ".join(text.split())
    one = _size(width, height, 1, max_pt, em_width(text, bold=bold))
    if one >= min_pt or not wrap or not text:
        return Fit((text,), one)
    best = _best_split(text, bold)
    if best is None:
        return Fit((text,), one)
    two = _size(width, height, 2, max_pt, max(em_width(line, bold=bold) for line in best))
    # below min_pt on two lines too: keep shrinking rather than cut a name
    return Fit(best, two) if two > one else Fit((text,), one)


def _best_split(text: str, bold: bool) -> tuple[str, str] | None:
    """The two lines whose longer one is shortest, preferring a break at a space or hyphen if it is nearly as good."""
    def widest(split: tuple[tuple[str, str], bool]) -> float:
        return max(em_width(line, bold=bold) for line in split[0])
    splits = list(_splits(text))
    if not splits:
        return None
    best = min(splits, key=widest)
    natural = min((split for split in splits if split[1]), key=widest, default=None)
    if natural and widest(natural) <= widest(best) * _NATURAL_BREAK_COST:
        best = natural
    return best[0]


def _size(width: float, height: float, lines: int, max_pt: float, widest_em: float) -> float:
    by_width = width * _SLACK / (widest_em * PT_MM) if widest_em else max_pt
    by_height = height / (lines * LINE_HEIGHT * PT_MM)
    size = min(max_pt, by_width, by_height)
    # half-point steps (rounded down, so the text still fits) keep the number of distinct sizes, and loaded faces,
    # small; a name too long even for that shrinks on, since a name is never cut
    return math.floor(size * 2) / 2 if size >= 1 else size


def _splits(text: str):
    """Every way to break text into two lines, and whether the break is a natural one: at spaces and after hyphens
    and name dots (natural), and between CJK characters."""
    for i in range(1, len(text)):
        before, after = text[i - 1], text[i]
        if after == " ":
            continue
        if before == " ":
            yield (text[:i - 1], text[i:]), True
        elif before in _BREAK_AFTER:
            yield (text[:i], text[i:]), True
        elif (_wide(before) or _wide(after)) and _word(before) and _word(after):
            yield (text[:i], text[i:]), False


def _wide(char: str) -> bool:
    # ideographs, kana and hangul are set without spaces: a line may break between any two of them
    return unicodedata.east_asian_width(char) in ("W", "F")


def _word(char: str) -> bool:
    # never break before or after punctuation, so "（上海）" and "王伟，" stay together
    return unicodedata.category(char)[0] in ("L", "N")


# fpdf2

@functools.cache
def _pdf_font_template(face: Face) -> TTFFont:
    # Parsing the CJK collection's metrics and cmap takes ~0.3 s per face; it is done once per process and each
    # document gets a copy, so a single badge PDF at the desk pays only for subsetting.
    pdf = FPDF()
    pdf.add_font(face.family, face.style, str(face.path), collection_font_number=face.index)
    template = pdf.fonts[face.family + face.style]
    template.close()  # what it parsed is kept; every document opens the file afresh
    return template


def add_pdf_fonts(pdf: FPDF) -> None:
    """Make the CJK faces available to a document."""
    for bold in (False, True):
        face = cjk_face(bold=bold)
        # deepcopy shares the parsed metrics and copies the per-document glyph subset (TTFFont.__deepcopy__);
        # the font file object is opened afresh, because writing the document subsets it in place
        font = copy.deepcopy(_pdf_font_template(face))
        font.ttfont = TTFont(str(face.path), fontNumber=face.index, lazy=True, recalcTimestamp=False)
        font.i = len(pdf.fonts) + 1
        pdf.fonts[font.fontkey] = font
    # embedded CID-keyed CFF (FontFile3/CIDFontType0C) needs PDF 1.6, as add_font() itself would require
    pdf.pdf_version = max(pdf.pdf_version, "1.6")


def set_pdf_font(pdf: FPDF, face: Face, size_pt: float) -> None:
    """Select a face for the text that follows, adding the fallback face to the document on first use."""
    if face.family + face.style not in pdf.fonts:
        pdf.add_font(face.family, face.style, str(face.path))
    pdf.set_font(face.family, face.style, size_pt)


def close_pdf_fonts(pdf: FPDF) -> None:
    """Close the font files a document opened (fpdf2 leaves them open)."""
    for font in pdf.fonts.values():
        if isinstance(font, TTFFont):
            font.close()
