"""The edition report as files: XLSX (one sheet a table) and an A4 PDF with the report's charts and tables, in the
reader's language, Chinese text set in Noto Sans CJK. The report arrives as the statistics' plain dict."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from fpdf import FPDF
from fpdf.fonts import FontFace

from exhibit_crm.i18n import translations

from . import report_charts
from .fonts import add_pdf_fonts, cjk_face, close_pdf_fonts
from .report_tables import ReportTables, report_xlsx
from .tables import CONTENT_TYPES, ListTable

CONTENT_TYPES = {**CONTENT_TYPES, "pdf": "application/pdf"}
NOTES = {"no_show_days": "This edition has no show days yet.", "no_scans": "No entry scans were recorded yet.",
         "no_previous_edition": "There is no previous edition of this series to compare with.",
         "no_targets": "No targets were set for this edition."}
_MARGIN_MM, _WIDTH_MM = 15, 180
FAMILY = cjk_face().family  # the CJK face's name in fpdf2 documents (add_pdf_fonts adds regular and bold)


def render_report(report: dict, fmt: str, *, language: str = "zh-CN") -> bytes:
    """The report as an `xlsx` or `pdf` file."""
    if fmt == "xlsx":
        return report_xlsx(report, language=language)
    if fmt == "pdf":
        return report_pdf(report, language=language)
    raise ValueError(f"unknown report format {fmt!r}")


@contextmanager
def _document() -> Iterator[FPDF]:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
    pdf.set_auto_page_break(True, margin=_MARGIN_MM)
    add_pdf_fonts(pdf)
    try:
        yield pdf
    finally:
        close_pdf_fonts(pdf)


def report_pdf(report: dict, *, language: str = "zh-CN") -> bytes:
    """The report on A4 pages: a title, what could not be shown, the charts, then every table."""
    _ = translations(language).gettext
    tables = ReportTables(report, language=language)
    with _document() as pdf:
        pdf.add_page()
        _title(pdf, report, tables, _)
        for note in report.get("notes", []):
            pdf.set_font(FAMILY, "", 9)
            pdf.multi_cell(_WIDTH_MM, 5, _(NOTES.get(note, note)), new_x="LMARGIN", new_y="NEXT")
        for title, png in report_charts.images(report, language=language):
            _chart(pdf, _(title), png)
        for table in tables.all():
            _table(pdf, table)
        return bytes(pdf.output())


def _title(pdf: FPDF, report: dict, tables: ReportTables, _) -> None:
    edition = report["edition"]
    series = (edition.get("series_zh") if tables.zh else "") or edition.get("series", "")
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(_WIDTH_MM, 9, f"{series} {edition['year']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 10)
    days = edition.get("days") or []
    span = f"{days[0]} – {days[-1]}" if days else ""
    pdf.multi_cell(_WIDTH_MM, 6, f"{_('Edition report')} · {edition['name']} · {span}", new_x="LMARGIN",
                   new_y="NEXT")
    pdf.ln(3)


def _heading(pdf: FPDF, text: str, room_mm: float) -> None:
    if pdf.will_page_break(room_mm):
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 12)
    pdf.multi_cell(_WIDTH_MM, 8, text, new_x="LMARGIN", new_y="NEXT")


def _chart(pdf: FPDF, title: str, png: bytes) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        height = _WIDTH_MM * image.height / image.width
    _heading(pdf, title, height + 10)
    pdf.image(io.BytesIO(png), w=_WIDTH_MM, h=height)
    pdf.ln(4)


def _cell(value, kind: str = "number") -> str:
    """A cell as the PDF shows it: numbers grouped, shares as percentages, yes as a tick."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else ""
    if kind == "percent":
        return f"{value * 100:.1f} %"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.1f}".removesuffix(".0")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(pdf: FPDF, table: ListTable) -> None:
    rows = list(table.rows())
    _heading(pdf, table.sheet_title, 25)
    if not rows:
        pdf.set_font(FAMILY, "", 9)
        pdf.multi_cell(_WIDTH_MM, 5, "–", new_x="LMARGIN", new_y="NEXT")
        return
    columns = table.columns()
    widths = [3 if column.kind == "text" else 1.4 for column in columns]
    pdf.set_font(FAMILY, "", 8)
    align = ["LEFT" if column.kind == "text" else "RIGHT" for column in columns]
    with pdf.table(col_widths=widths, width=_WIDTH_MM, line_height=5, text_align=align,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(235, 238, 242)), padding=1) as grid:
        grid.row([column.title for column in columns])
        for row in rows:
            grid.row([_cell(value, column.kind) for value, column in zip(row, columns, strict=True)])
    pdf.ln(4)
