"""Badge PNG and PDF: the QR reads back as the code, Chinese glyphs are really drawn, long names fit."""

from __future__ import annotations

import io
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from exhibit_crm.errors import Conflict, InvalidInput
from exporters import fonts
from exporters.badges import SPECS, TEXT, WHITE, badge_pdf, badge_png, ink_on, layout, qr_modules
from tests.exporters import SIGNER, badge, pdf_info, pdf_text, rasterise, read_qr_codes

LAYOUTS = list(SPECS)
RARE = "王䶮𡈽"  # 䶮: CJK extension A; 𡈽: extension B, outside the Basic Multilingual Plane
LONG_LATIN = "Maximilian Alexander Ferdinand von Hohenzollern-Sigmaringen"
LONG_CHINESE = "买买提·艾力·阿不都热合曼·吐尔逊江·巴拉提"


def png_image(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("layout_name", LAYOUTS)
@pytest.mark.parametrize("name", ["王伟", "Anna Schmidt", "David 王 (王大卫)", RARE, LONG_LATIN])
def test_the_png_qr_reads_back_as_the_badge_code(layout_name, name):
    shown = badge(40_000 + len(name), badge_version=3, full_name=name, layout=layout_name)
    found = read_qr_codes(png_image(badge_png(shown)))
    assert [code.text for code in found] == [shown.code]
    assert SIGNER.verifier.verify(found[0].text).registration_id == shown.registration_id
    # what the issue asks of the symbol: error correction M; version 5 holds the 116 characters only in
    # alphanumeric mode (byte mode needs version 7)
    assert (found[0].ec_level, found[0].extra["Version"]) == ("M", "5")


def test_badge_codes_make_a_version_5_symbol_and_other_text_a_larger_one():
    rng = random.Random(3)
    for _ in range(10):
        code = SIGNER.sign(rng.randint(1, 2**32 - 1), rng.randint(1, 2**16 - 1))
        assert len(qr_modules(code)) == 5 * 4 + 17 + 2 * 4  # version 5 with its quiet zone
    assert len(qr_modules(code.lower())) > 5 * 4 + 17 + 2 * 4  # byte mode: what alphanumeric mode saves


@pytest.mark.parametrize(("layout_name", "pixels"), [("A6", (1240, 1748)), ("4x3in", (1200, 900))])
def test_the_png_has_the_layout_size_at_its_resolution(layout_name, pixels):
    image = png_image(badge_png(badge(layout=layout_name)))
    assert image.size == pixels
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert png_image(badge_png(badge(layout=layout_name), dpi=150)).size == tuple(round(p / 2) for p in pixels)


def test_the_font_is_noto_sans_cjk_sc_and_maps_rare_characters():
    for bold in (False, True):
        face = fonts.cjk_face(bold=bold)
        with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
            assert font["name"].getDebugName(1) == "Noto Sans CJK SC"
        assert {ord(char) for char in RARE + "é"} <= fonts.coverage(face)


@pytest.mark.parametrize("bold", [False, True])
def test_cjk_glyphs_are_drawn_not_the_missing_glyph_box(bold):
    font = fonts.pil_font(fonts.cjk_face(bold=bold), 120)
    # U+E000 (private use) is not in the font, so it draws the .notdef box, as any missing character would
    missing = font.getmask("\ue000")
    for char in RARE:
        glyph = font.getmask(char)
        assert glyph.getbbox() is not None, f"{char} drew nothing"
        assert (glyph.size, bytes(glyph)) != (missing.size, bytes(missing)), f"{char} drew the missing-glyph box"


@pytest.mark.parametrize(("name", "families"), [
    ("王伟 David", ["notosanscjksc"]),
    # a name the fallback face can set alone is set in it alone, not in two faces
    ("Łukasz Kowalski", ["dejavusans"]),
    ("Şükrü Çağrı Yılmaz", ["dejavusans"]),
    ("Łukasz 王", ["dejavusans", "notosanscjksc"]),
])
def test_letters_noto_cjk_lacks_come_from_the_fallback_face(name, families):
    faces = fonts.runs(name, bold=True)
    assert "".join(part for part, _ in faces) == name
    assert [face.family for _, face in faces] == families
    for part, face in faces:
        assert {ord(char) for char in part.strip()} <= fonts.coverage(face), f"{part!r} in a face without its glyphs"


def test_a_fallback_name_is_drawn_in_png_and_pdf(tmp_path):
    shown = badge(8, full_name="Łukasz 王", company="Şahin Mobilya A.Ş.")
    assert [code.text for code in read_qr_codes(png_image(badge_png(shown)))] == [shown.code]
    path = tmp_path / "badge.pdf"
    path.write_bytes(badge_pdf(shown))
    assert "Łukasz 王" in pdf_text(path) and "Şahin Mobilya A.Ş." in pdf_text(path)


def test_the_badge_png_draws_the_rare_name_differently_from_missing_glyphs():
    # one em each, so both names are set at the same size in the same place: only the glyphs differ
    real = png_image(badge_png(badge(full_name=RARE))).convert("L")
    boxes = png_image(badge_png(badge(full_name="\ue000" * len(RARE)))).convert("L")
    region = _name_region(badge(full_name=RARE))
    assert real.crop(region).tobytes() != boxes.crop(region).tobytes()
    assert real.crop(region).getextrema()[0] < 64, "the name drew no dark pixels"


def _name_region(shown, dpi: int = 300) -> tuple[int, int, int, int]:
    spec, scale = SPECS[shown.layout], dpi / 25.4
    box = spec.name.box
    return (round(box.x * scale), round(box.y * scale), round((box.x + box.w) * scale),
            round((spec.company.box.y + spec.company.box.h) * scale))


@pytest.mark.parametrize("layout_name", LAYOUTS)
@pytest.mark.parametrize("name", [LONG_LATIN, LONG_CHINESE, "Ødegaard-Ångström " * 8, "王" * 60])
def test_a_long_name_is_shrunk_and_wrapped_never_cut(layout_name, name):
    shown = badge(full_name=name, company="Deutsche Möbelwerkstätten GmbH & Co. KG Internationaler Vertrieb",
                  layout=layout_name)
    spec = SPECS[layout_name]
    lines = [line for line in layout(shown).lines if line.bold and line.ink == "text"]
    assert 1 <= len(lines) <= 2
    assert "".join(line.text for line in lines).replace(" ", "") == name.replace(" ", "")
    if len(name) < 60:
        assert len(lines) == 2 and lines[0].size_pt < spec.name.max_pt
    for line in lines:
        width = fonts.em_width(line.text, bold=True) * line.size_pt * fonts.PT_MM
        assert spec.name.box.x <= line.x and line.x + width <= spec.name.box.x + spec.name.box.w
    # and on the pixels: nothing is drawn in the margins beside the name and company rows (on 4×3 in, up to the QR)
    image = png_image(badge_png(shown)).convert("L")
    left, top, right, bottom = _name_region(shown)
    beside = round(spec.qr.x / 25.4 * 300) if spec.qr.y < spec.company.box.y else image.width
    assert image.crop((0, top, left, bottom)).getextrema() == (255, 255)
    assert image.crop((right, top, beside, bottom)).getextrema() == (255, 255)


def test_a_short_name_stays_on_one_line_at_full_size():
    lines = [line for line in layout(badge(full_name="王伟")).lines if line.bold and line.ink == "text"]
    assert [(line.text, line.size_pt) for line in lines] == [("王伟", SPECS["A6"].name.max_pt)]


def test_long_lines_break_at_spaces_and_name_dots():
    fitted = fonts.fit(LONG_LATIN, width=91, height=30, max_pt=40, min_pt=20, bold=True)
    assert fitted.lines == ("Maximilian Alexander Ferdinand", "von Hohenzollern-Sigmaringen")
    fitted = fonts.fit(LONG_CHINESE, width=91, height=30, max_pt=40, min_pt=20, bold=True)
    assert len(fitted.lines) == 2 and fitted.lines[0].endswith("·")


def test_the_band_shows_the_badge_type_in_both_languages_with_readable_ink():
    lines = layout(badge(color="#f2c94c")).lines
    assert [line.text for line in lines if line.ink == "band"] == ["专业观众", "Trade visitor"]
    assert ink_on("#f2c94c") == TEXT and ink_on("#1f6feb") == WHITE and ink_on("#000000") == WHITE
    only_english = layout(badge(badge_type_name_zh="")).lines
    assert [line.text for line in only_english if line.ink == "band"] == ["Trade visitor"]


def test_the_band_is_drawn_in_the_badge_type_colour():
    image = png_image(badge_png(badge(color="#c62828"))).convert("RGB")
    band = SPECS["A6"].band
    assert image.getpixel((5, round((band.y + 2) / 25.4 * 300))) == (0xC6, 0x28, 0x28)
    assert image.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize(("layout_name", "points"), [("A6", "297.64 x 419.53 pts"), ("4x3in", "288 x 216 pts")])
def test_the_pdf_is_one_page_of_the_layout_size_with_real_text_and_the_qr(tmp_path, layout_name, points):
    shown = badge(7, full_name=RARE + " David", company="欧阳家居 Ouyang Home", layout=layout_name)
    path = tmp_path / "badge.pdf"
    path.write_bytes(badge_pdf(shown))
    info = pdf_info(path)
    assert (info["Pages"], info["Page size"]) == ("1", points)
    text = pdf_text(path)
    for expected in (RARE + " David", "欧阳家居 Ouyang Home", "上海国际家具展 2026", "专业观众", "Trade visitor"):
        assert expected in text
    assert [code.text for code in read_qr_codes(rasterise(path, dpi=200))] == [shown.code]


def test_a_cancelled_registration_gets_no_badge():
    with pytest.raises(Conflict) as refused:
        badge_png(badge(status="cancelled"))
    assert refused.value.code == "registration_cancelled"


def test_an_unknown_layout_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as refused:
        badge_pdf(badge(layout="A5"))
    assert refused.value.field == "layout"


def test_an_absurd_resolution_is_refused():
    with pytest.raises(InvalidInput) as refused:
        badge_png(badge(), dpi=5000)
    assert refused.value.field == "dpi"


def test_badges_render_correctly_from_many_threads_at_once():
    # the web app renders in a thread pool, and FreeType faces are shared between threads
    shown = [badge(900 + i, full_name=name) for i, name in enumerate(["王伟", "Łukasz Kowalski", RARE, LONG_LATIN] * 3)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        images = list(pool.map(lambda b: badge_png(b, dpi=150), shown))
    assert images == [badge_png(b, dpi=150) for b in shown]
    assert [read_qr_codes(png_image(image))[0].text for image in images] == [b.code for b in shown]


def test_a_missing_font_names_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "FONT_DIRS", (tmp_path,))
    fonts.cjk_face.cache_clear()
    try:
        with pytest.raises(fonts.FontMissing) as missing:
            fonts.cjk_face(bold=True)
    finally:
        fonts.cjk_face.cache_clear()
    assert "fonts-noto-cjk" in missing.value.message
