"""Print sheets: A4 pages of badges in the order given, every QR readable from the printed page, cut marks."""

from __future__ import annotations

import pytest
from PIL import Image

from exhibit_crm.errors import Conflict, InvalidInput
from exporters.badges import SPECS
from exporters.print_sheet import A4, grid, page_count, print_sheet
from tests.exporters import badge, pdf_info, rasterise, read_qr_codes

NAMES = ["王伟", "李娜", "Anna Schmidt", "欧阳建华", "王䶮", "David 王", "Jürgen Müller", "张敏", "陈静", "刘洋"]
DPI = 150


def sheet(tmp_path, badges, **kwargs):
    path = tmp_path / "sheet.pdf"
    path.write_bytes(print_sheet(badges, **kwargs))
    return path


def test_a6_tiles_four_to_a_page_and_every_qr_reads_back_in_order(tmp_path):
    badges = [badge(100 + i, full_name=name) for i, name in enumerate(NAMES)]
    path = sheet(tmp_path, badges)
    info = pdf_info(path)
    assert (info["Pages"], info["Page size"]) == ("3", "595.28 x 841.89 pts (A4)")
    for page, expected in ((1, badges[0:4]), (3, badges[8:10])):
        found = read_qr_codes(rasterise(path, page=page, dpi=DPI))
        assert [code.text for code in found] == [b.code for b in expected]


def test_4x3in_tiles_six_to_a_page_in_order(tmp_path):
    badges = [badge(200 + i, full_name=name, layout="4x3in") for i, name in enumerate(NAMES[:7])]
    path = sheet(tmp_path, badges)
    assert pdf_info(path)["Pages"] == "2"
    found = read_qr_codes(rasterise(path, page=1, dpi=DPI))
    assert [code.text for code in found] == [b.code for b in badges[:6]]


def test_grids_fit_the_page():
    assert grid(SPECS["A6"])[:2] == (2, 2)
    assert grid(SPECS["4x3in"])[:2] == (2, 3)
    for spec in SPECS.values():
        columns, rows, left, top = grid(spec)
        assert left >= 0 and top >= 0
        assert left + columns * spec.width <= A4[0] and top + rows * spec.height <= A4[1]


def test_cut_marks_sit_on_the_badge_corners(tmp_path):
    image = rasterise(sheet(tmp_path, [badge(300, layout="4x3in")]), dpi=DPI).convert("L")
    columns, rows, left, top = grid(SPECS["4x3in"])
    width, height = SPECS["4x3in"].width, SPECS["4x3in"].height

    def dark(x_mm: float, y_mm: float) -> bool:
        return _darkest(image, x_mm, y_mm) < 128

    # the crosshair's arms reach into the margin above and beside the badge's top left corner
    assert dark(left, top - 2) and dark(left - 2, top)
    assert dark(left + width, top - 2) and dark(left + width, top + height + 2)
    # nothing else is drawn in the margin, nor marks where no badge was placed
    assert not dark(left + width / 2, top - 2)
    assert not dark(left + 2 * width, top + 2 * height + 2)


def _darkest(image: Image.Image, x_mm: float, y_mm: float) -> int:
    x, y = round(x_mm / 25.4 * DPI), round(y_mm / 25.4 * DPI)
    return image.crop((x - 2, y - 2, x + 3, y + 3)).getextrema()[0]


def test_progress_is_called_once_per_badge(tmp_path):
    calls = []
    sheet(tmp_path, [badge(400 + i) for i in range(5)], progress=lambda: calls.append(1))
    assert len(calls) == 5


def test_a_change_of_layout_starts_a_new_page(tmp_path):
    layouts = ["A6", "A6", "4x3in", "4x3in", "A6"]
    path = sheet(tmp_path, [badge(500 + i, layout=name) for i, name in enumerate(layouts)])
    assert pdf_info(path)["Pages"] == "3" and page_count(layouts) == 3
    assert page_count(["A6"] * 8) == 2 and page_count(["A6"] * 9) == 3 and page_count(["4x3in"] * 6) == 1
    assert page_count([]) == 0


def test_nothing_to_print_is_an_error():
    with pytest.raises(InvalidInput) as refused:
        print_sheet([])
    assert refused.value.code == "no_badges"


def test_a_cancelled_badge_stops_the_sheet():
    with pytest.raises(Conflict):
        print_sheet([badge(600), badge(601, status="cancelled")])
