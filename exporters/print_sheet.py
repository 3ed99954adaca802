"""Print sheets: many badges tiled on A4 pages with cut marks, for pre-printing on an office printer."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from fpdf import FPDF

from badge_scanner.issued_badges import BadgeData
from exhibit_crm.errors import InvalidInput

from .badges import SPECS, Spec, draw_pdf, layout, pdf_document

# Four A6 badges fill an A4 page edge to edge (as perforated 4-up A6 badge stock expects); an office printer leaves
# its unprintable ~4 mm blank, which only trims the outer badges' colour bands, as every text keeps 5 mm or more.
A4 = (210.0, 297.0)
# Crosshairs at every badge corner with their arms along the cut lines: where badges abut (A6 fills A4 edge to
# edge) the cut removes them, and on the sheet's edges they reach into the margin for lining up the guillotine.
MARK_ARM = 4.0
MARK_WIDTH = 0.15


def grid(spec: Spec) -> tuple[int, int, float, float]:
    """Columns and rows of badges on an A4 portrait page, and the top left corner of the centred grid."""
    columns, rows = math.floor(A4[0] / spec.width), math.floor(A4[1] / spec.height)
    return columns, rows, (A4[0] - columns * spec.width) / 2, (A4[1] - rows * spec.height) / 2


def print_sheet(badges: Iterable[BadgeData], *, progress: Callable[[], object] | None = None) -> bytes:
    """A PDF of A4 pages tiling the badges in the order given (A6: 4 a page, 4×3 in: 6), with cut marks;
    progress() is called after each badge."""
    with pdf_document() as pdf:
        page: _Page | None = None
        for badge in badges:
            lay = layout(badge)
            spec = SPECS[badge.layout]
            # a change of layout starts a new page, so every page tiles one badge size
            if page is None or page.full() or page.spec is not spec:
                if page:
                    page.mark(pdf)
                pdf.add_page(format=A4)
                page = _Page(spec)
            draw_pdf(pdf, lay, *page.place())
            if progress:
                progress()
        if page is None:
            raise InvalidInput("no_badges", "there are no badges to print")
        page.mark(pdf)
        return bytes(pdf.output())


def page_count(layouts: Iterable[str]) -> int:
    """How many A4 pages print_sheet() fills for badges of these layouts, in this order."""
    pages, placed, current = 0, 0, None
    for name in layouts:
        spec = SPECS[name]
        columns, rows, _, _ = grid(spec)
        if spec is not current or placed == columns * rows:
            pages, placed, current = pages + 1, 0, spec
        placed += 1
    return pages


class _Page:
    def __init__(self, spec: Spec):
        self.spec = spec
        self.columns, self.rows, self.left, self.top = grid(spec)
        self.placed = 0
        self.corners: set[tuple[float, float]] = set()

    def full(self) -> bool:
        return self.placed >= self.columns * self.rows

    def place(self) -> tuple[float, float]:
        """The top left corner of the next free place, left to right, then top to bottom."""
        row, column = divmod(self.placed, self.columns)
        self.placed += 1
        x, y = self.left + column * self.spec.width, self.top + row * self.spec.height
        for corner in ((x, y), (x + self.spec.width, y), (x, y + self.spec.height),
                       (x + self.spec.width, y + self.spec.height)):
            self.corners.add((round(corner[0], 3), round(corner[1], 3)))
        return x, y

    def mark(self, pdf: FPDF) -> None:
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(MARK_WIDTH)
        for x, y in sorted(self.corners):
            pdf.line(x - MARK_ARM, y, x + MARK_ARM, y)
            pdf.line(x, y - MARK_ARM, x, y + MARK_ARM)
