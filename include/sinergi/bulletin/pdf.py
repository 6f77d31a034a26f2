"""The bulletin as PDF, drawn with fpdf2 from the same sections and chart primitives.

Why fpdf2 and not "print the HTML": printing needs a browser (Chromium), which the Airflow
image does not have and should not carry for one file; fpdf2 is pure Python (in uv.lock),
so the PDF is made the same way on a laptop, in CI and in the docker image. It uses the
PDF core font Helvetica (no font file to ship), so text is reduced to Latin-1 (``—`` -> ``-``,
``✓`` -> ``v``); the numbers are the page's, written identically.
"""

from __future__ import annotations

from pathlib import Path

from sinergi.bulletin.charts import Chart, Line, Rect, Text

_LATIN1 = str.maketrans({"—": "-", "–": "-", "✓": "v", "≤": "<=", "≥": ">=", "→": "->",
                         "’": "'", "“": '"', "”": '"', "…": "..."})  # fmt: skip
PAGE_W = 190.0  # mm of A4 inside 10 mm margins


def latin1(text: str) -> str:
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _draw(pdf, chart: Chart) -> None:
    """The chart at the current position, scaled to the page width; a page break first
    when it does not fit."""
    scale = PAGE_W / chart.width
    height = chart.height * scale
    if pdf.get_y() + height > pdf.h - pdf.b_margin:
        pdf.add_page()
    left, top = pdf.l_margin, pdf.get_y()
    for shape in chart.shapes:
        if isinstance(shape, Rect):
            pdf.set_fill_color(*_rgb("#dddddd" if shape.hatched else shape.fill))
            if shape.w > 0:
                pdf.rect(left + shape.x * scale, top + shape.y * scale, shape.w * scale,
                         shape.h * scale, style="F")  # fmt: skip
        elif isinstance(shape, Line):
            pdf.set_draw_color(*_rgb(shape.stroke))
            pdf.set_line_width(shape.width * scale * 0.5)
            pdf.line(left + shape.x1 * scale, top + shape.y1 * scale,
                     left + shape.x2 * scale, top + shape.y2 * scale)  # fmt: skip
        elif isinstance(shape, Text):
            pdf.set_font("Helvetica", "B" if shape.bold else "", shape.size * scale * 2.835)
            pdf.set_text_color(*_rgb(shape.fill))
            text = latin1(shape.text)
            width = pdf.get_string_width(text)
            x = left + shape.x * scale
            x -= {"start": 0, "middle": width / 2, "end": width}[shape.anchor]
            pdf.text(x, top + shape.y * scale, text)
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(top + height + 2)


def write(path: Path, title: str, sections: list[dict]) -> Path:
    """``sections``: dicts with ``title``, ``reading``, an optional ``chart`` and an
    optional ``table`` (header + rows of text), in page order."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_margins(10, 10, 10)
    pdf.set_title(latin1(title))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(PAGE_W, 7, latin1(title), new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(PAGE_W, 6, latin1(section["title"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9.5)
        pdf.multi_cell(PAGE_W, 4.5, latin1(section["reading"]), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        if section.get("chart"):
            _draw(pdf, section["chart"])
        if section.get("table"):
            _table(pdf, *section["table"])
    pdf.output(str(path))
    return path


def _table(pdf, header: list[str], rows: list[list[str]]) -> None:
    if not rows:
        pdf.set_font("Helvetica", "I", 9)
        pdf.cell(PAGE_W, 5, "Tidak ada.", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font("Helvetica", "", 8)
    pdf.set_fill_color(235, 235, 235)  # the heading row; not the last chart's colour
    pdf.set_draw_color(180, 180, 180)
    pdf.set_line_width(0.2)
    with pdf.table(
        text_align="LEFT", line_height=4, first_row_as_headings=True, width=PAGE_W
    ) as table:
        for cells in [header, *rows]:
            line = table.row()
            for cell in cells:
                line.cell(latin1(str(cell)))
