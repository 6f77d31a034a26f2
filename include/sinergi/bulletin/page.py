"""The bulletin page: one self-contained HTML file (inline CSS and SVG, no script, nothing
loaded from anywhere), readable on a phone and printable."""

from __future__ import annotations

from html import escape

from sinergi.bulletin import svg

CSS = """
body{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:820px;margin:0 auto;
padding:12px;line-height:1.4}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .3em;
border-bottom:2px solid #4575b4}
p.reading{margin:.2em 0 .6em}svg{width:100%;height:auto;display:block}
.chart{overflow-x:auto}.chart svg{min-width:600px}
table{border-collapse:collapse;width:100%;font-size:.85em}
th,td{border:1px solid #ccc;padding:3px 5px;text-align:left;vertical-align:top}
th{background:#f0f0f0}.meta{color:#555;font-size:.9em}
.table-wrap{overflow-x:auto}
@media print{body{max-width:none}h2{break-after:avoid}svg,tr{break-inside:avoid}
.chart svg{min-width:0}}
"""


def _table(header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return '<p class="reading"><em>Tidak ada.</em></p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<div class="table-wrap"><table><tr>{head}</tr>{body}</table></div>'


def render(title: str, meta: str, sections: list[dict], pdf_name: str) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="id"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # nothing of this page may come from elsewhere: no script, no remote asset
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(meta)} · <a href="{escape(pdf_name)}">PDF</a></p>',
    ]
    for section in sections:
        parts.append(f'<section id="{section["id"]}"><h2>{escape(section["title"])}</h2>')
        parts.append(f'<p class="reading">{escape(section["reading"])}</p>')
        if section.get("chart"):
            # on a phone the chart keeps a readable size and scrolls sideways
            parts.append(
                f'<div class="chart">{svg.render(section["chart"], section["reading"])}</div>'
            )
        if section.get("table"):
            parts.append(_table(*section["table"]))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)
