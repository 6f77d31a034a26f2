"""A chart as inline SVG: scales to the page width, text stays text (searchable, printable)."""

from __future__ import annotations

from html import escape

from sinergi.bulletin.charts import Chart, Line, Rect, Text

_HATCH = (
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eeeeee"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#bbbbbb" stroke-width="2"/></pattern></defs>'
)


def _shape(shape) -> str:
    if isinstance(shape, Rect):
        fill = "url(#hatch)" if shape.hatched else shape.fill
        title = f"<title>{escape(shape.title)}</title>" if shape.title else ""
        return (
            f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{max(shape.w, 0):.1f}" '
            f'height="{shape.h:.1f}" fill="{fill}">{title}</rect>'
        )
    if isinstance(shape, Text):
        weight = ' font-weight="bold"' if shape.bold else ""
        return (
            f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size}" '
            f'text-anchor="{shape.anchor}" fill="{shape.fill}"{weight}>{escape(shape.text)}</text>'
        )
    if isinstance(shape, Line):
        return (
            f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" '
            f'y2="{shape.y2:.1f}" stroke="{shape.stroke}" stroke-width="{shape.width}"/>'
        )
    raise TypeError(shape)


def render(chart: Chart, reading: str) -> str:
    """``<svg>`` with a title and the one-line reading as its accessible description."""
    body = "".join(_shape(s) for s in chart.shapes)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {chart.width:.0f} '
        f'{chart.height:.0f}" role="img" font-family="Helvetica, Arial, sans-serif">'
        f"<title>{escape(chart.title)}</title><desc>{escape(reading)}</desc>"
        f"{_HATCH if any(getattr(s, 'hatched', False) for s in chart.shapes) else ''}{body}</svg>"
    )
