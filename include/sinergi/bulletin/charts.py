"""The bulletin's charts as lists of drawing primitives, drawn twice: SVG and PDF.

Hand-written rather than a plotting library: the charts are bars, cells and lines with their
numbers written on them, and describing them once as primitives lets the page (inline SVG,
``svg.py``) and the PDF (``pdf.py``) show exactly the same picture and the same numbers,
with no font or asset fetched from anywhere. Coordinates are in points of a 720-wide canvas
that the page scales to the screen (phone or print).

Missing figures (NULL in the marts) are drawn as a grey hatched cell or a written
"tidak ada data", never as an empty bar that would read as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sinergi.bulletin.words import MISSING, STATUS_WORDS, number, percent

WIDTH = 720.0
INK = "#222222"
GRID = "#dddddd"
MISSING_FILL = "#eeeeee"
STATUS_COLOURS = {
    "ACCEPTED": "#1a9850",
    "PARTIAL": "#fdae61",
    "REJECTED": "#d73027",
    "MISSING": "#bdbdbd",
}
REACHED = "#4575b4"
UNREACHED = "#d73027"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str = ""
    hatched: bool = False  # a missing figure


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: float = 10.0
    anchor: str = "start"  # start | middle | end
    bold: bool = False
    fill: str = INK


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = INK
    width: float = 1.0


@dataclass
class Chart:
    """One figure: a canvas size, its primitives, and a sentence saying what it shows."""

    height: float
    title: str
    shapes: list = field(default_factory=list)
    width: float = WIDTH

    def add(self, *shapes) -> None:
        self.shapes.extend(shapes)


def _text_on(fill: str) -> str:
    """Dark text on light cells, white on dark ones (readable in print and on a phone)."""
    red, green, blue = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return INK if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "#ffffff"


def _short(name: str) -> str:
    return name.replace("Kabupaten ", "Kab. ").replace("Kota ", "Kota ")


def completeness_grid(districts: dict[str, str], submissions: dict[str, dict]) -> Chart:
    """38 districts x 4 datasets, each cell coloured and labelled with the status; a tick
    when the dataset arrived on time."""
    from sinergi.bulletin.words import DATASET_WORDS

    row, top, name_w = 17.0, 34.0, 200.0
    cell_w = (WIDTH - name_w) / 4
    chart = Chart(top + row * len(districts) + 6, "Kelengkapan dan ketepatan waktu")
    for i, dataset in enumerate(DATASET_WORDS):
        chart.add(Text(name_w + cell_w * (i + 0.5), top - 10, DATASET_WORDS[dataset],
                       10, "middle", True))  # fmt: skip
    for r, (code, name) in enumerate(districts.items()):
        y = top + r * row
        chart.add(Text(4, y + 12, f"{code} {_short(name)}", 9.5))
        for i, dataset in enumerate(DATASET_WORDS):
            facts = submissions.get(code, {}).get(dataset, {})
            status = facts.get("status") or "MISSING"
            on_time = " ✓" if facts.get("is_on_time") else ""
            fill = STATUS_COLOURS.get(status, STATUS_COLOURS["MISSING"])
            x = name_w + i * cell_w
            label = STATUS_WORDS.get(status, status)
            chart.add(
                Rect(x + 1, y + 1, cell_w - 2, row - 2, fill,
                     f"{name}: {DATASET_WORDS[dataset]} {label}{on_time}"),
                Text(x + cell_w / 2, y + 12, label + on_time, 8.5, "middle", fill=_text_on(fill)),
            )  # fmt: skip
    return chart


def coverage_heatmap(
    districts: dict[str, str], programs: dict[str, str], coverage: dict[str, dict]
) -> Chart:
    """District x programme, the share of eligible households the programme reached."""
    row, top, name_w = 17.0, 34.0, 200.0
    codes = list(programs)
    cell_w = (WIDTH - name_w) / max(len(codes), 1)
    chart = Chart(top + row * len(districts) + 6, "Cakupan program")
    for i, program in enumerate(codes):
        chart.add(Text(name_w + cell_w * (i + 0.5), top - 10, program, 8.5, "middle", True))
    for r, (code, name) in enumerate(districts.items()):
        y = top + r * row
        chart.add(Text(4, y + 12, f"{code} {_short(name)}", 9.5))
        for i, program in enumerate(codes):
            rate = coverage.get(code, {}).get(program)
            x = name_w + i * cell_w
            if rate is None:
                chart.add(
                    Rect(x + 1, y + 1, cell_w - 2, row - 2, MISSING_FILL,
                         f"{name} {program}: {MISSING}", hatched=True),
                    Text(x + cell_w / 2, y + 12, "—", 8.5, "middle"),
                )  # fmt: skip
                continue
            fill = _blue(rate)
            chart.add(
                Rect(x + 1, y + 1, cell_w - 2, row - 2, fill, f"{name} {program}: {percent(rate)}"),
                Text(x + cell_w / 2, y + 12, percent(rate), 8.5, "middle", fill=_text_on(fill)),
            )
    return chart


def _blue(rate: float) -> str:
    """White (0 %) to dark blue (100 %)."""
    share = max(0.0, min(1.0, rate))
    low, high = (247, 251, 255), (8, 69, 148)
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def reach_bars(districts: dict[str, str], reach: dict[str, dict]) -> Chart:
    """Eligible households reached / not reached since January, largest gap first; districts
    without figures last, written as missing."""

    def gap(code: str) -> tuple:
        row = reach.get(code, {})
        reached, eligible = (
            row.get("eligible_households_reached_ytd"),
            row.get("eligible_households"),
        )
        if reached is None or eligible is None:
            return (1, 0, code)
        return (0, -(eligible - reached), code)

    row_h, top, name_w, label_w = 17.0, 30.0, 200.0, 150.0
    bar_w = WIDTH - name_w - label_w
    order = sorted(districts, key=gap)
    most = max([reach.get(c, {}).get("eligible_households") or 0 for c in districts] + [1])
    chart = Chart(top + row_h * len(order) + 6, "Rumah tangga layak terjangkau")
    chart.add(
        Rect(name_w, 8, 10, 10, REACHED), Text(name_w + 14, 17, "terjangkau sejak Januari", 9),
        Rect(name_w + 170, 8, 10, 10, UNREACHED), Text(name_w + 184, 17, "belum terjangkau", 9),
        Text(WIDTH - 4, 17, "belum / layak", 9, "end", True),
    )  # fmt: skip
    for r, code in enumerate(order):
        y = top + r * row_h
        name = districts[code]
        chart.add(Text(4, y + 12, f"{code} {_short(name)}", 9.5))
        row = reach.get(code, {})
        reached, eligible = (
            row.get("eligible_households_reached_ytd"),
            row.get("eligible_households"),
        )
        if reached is None or eligible is None:
            chart.add(
                Rect(name_w, y + 2, bar_w, row_h - 4, MISSING_FILL, f"{name}: {MISSING}", True),
                Text(name_w + 6, y + 12, MISSING, 8.5),
            )
            continue
        scale = bar_w / most
        unreached = eligible - reached
        chart.add(
            Rect(name_w, y + 2, reached * scale, row_h - 4, REACHED,
                 f"{name}: {number(reached)} terjangkau"),
            Rect(name_w + reached * scale, y + 2, unreached * scale, row_h - 4, UNREACHED,
                 f"{name}: {number(unreached)} belum terjangkau"),
            Text(WIDTH - 4, y + 12, f"{number(unreached)} / {number(eligible)}", 9, "end"),
        )  # fmt: skip
    return chart


def trend_lines(trend: list[dict]) -> Chart:
    """Per month of the year so far: the share of reports received (mean of the four
    datasets) and the share of eligible households reached since January."""
    left, right, top, bottom = 50.0, 30.0, 30.0, 40.0
    height = 220.0
    chart = Chart(height, "Tren tahun berjalan")
    plot_h = height - top - bottom
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        chart.add(Line(left, y, WIDTH - right, y, GRID), Text(left - 6, y + 3, percent(tick, 0),
                                                                8.5, "end"))  # fmt: skip
    step = (WIDTH - left - right) / max(len(trend), 1)
    series = (
        ("laporan diterima (rata-rata 4 data)", "#1a9850", _mean_rate),
        ("rumah tangga layak terjangkau sejak Januari", REACHED,
         lambda t: t["reached_share_ytd"]),
    )  # fmt: skip
    for s, (label, colour, value_of) in enumerate(series):
        chart.add(Rect(left + s * 300, 8, 10, 10, colour), Text(left + s * 300 + 14, 17, label, 9))
        previous = None
        for i, month in enumerate(trend):
            x = left + step * (i + 0.5)
            value = value_of(month)
            if value is None:
                chart.add(Text(x, top + plot_h - 4 - 12 * s, MISSING, 8, "middle"))
                previous = None
                continue
            y = top + plot_h * (1 - max(0.0, min(1.0, value)))
            if previous:
                chart.add(Line(previous[0], previous[1], x, y, colour, 2))
            chart.add(
                Rect(x - 3, y - 3, 6, 6, colour, f"{month['period']} {label}: {percent(value)}"),
                Text(x, y - 7 if s == 0 else y + 14, percent(value), 8.5, "middle", fill=colour),
            )
            previous = (x, y)
    for i, month in enumerate(trend):
        chart.add(Text(left + step * (i + 0.5), height - 18, month["period"], 9, "middle"))
    return chart


def _mean_rate(month: dict) -> float | None:
    rates = [v for v in month["reporting_rate"].values() if v is not None]
    return sum(rates) / len(rates) if rates else None


def duplicate_bars(programs: dict[str, str], duplicates: list[dict]) -> Chart:
    """Persons paid by the same programme in two or more districts, per programme."""
    row_h, top, name_w, label_w = 20.0, 10.0, 120.0, 230.0
    bar_w = WIDTH - name_w - label_w
    by_program = {d["program_code"]: d for d in duplicates}
    most = max([d["duplicate_persons"] or 0 for d in duplicates] + [1])
    chart = Chart(top + row_h * len(programs) + 6, "Pembayaran ganda antar kabupaten/kota")
    for r, program in enumerate(programs):
        y = top + r * row_h
        chart.add(Text(4, y + 14, program, 9.5, bold=True))
        facts = by_program.get(program)
        if facts is None:
            chart.add(Text(name_w, y + 14, MISSING, 9))
            continue
        persons = facts["duplicate_persons"]
        amount = number(facts["duplicate_amount_idr"])
        chart.add(
            Rect(name_w, y + 3, bar_w * persons / most, row_h - 6, UNREACHED,
                 f"{program}: {number(persons)} orang"),
            Text(WIDTH - 4, y + 14, f"{number(persons)} orang, Rp {amount}", 9, "end"),
        )  # fmt: skip
    return chart


def outlier_bars(districts: dict[str, str], outliers: list[dict]) -> Chart:
    """Figures to check per district (districts with none left out), most first."""
    counts: dict[str, int] = {}
    for row in outliers:
        counts[row["district_code"]] = counts.get(row["district_code"], 0) + 1
    order = sorted(counts, key=lambda d: (-counts[d], d))
    row_h, top, name_w = 17.0, 6.0, 200.0
    most = max(counts.values(), default=1)
    chart = Chart(top + row_h * max(len(order), 1) + 6, "Angka yang perlu diperiksa")
    if not order:
        chart.add(Text(4, top + 12, "Tidak ada angka yang jauh berbeda.", 9.5))
    for r, code in enumerate(order):
        y = top + r * row_h
        name = districts.get(code, code)
        chart.add(
            Text(4, y + 12, f"{code} {_short(name)}", 9.5),
            Rect(name_w, y + 2, (WIDTH - name_w - 60) * counts[code] / most, row_h - 4,
                 STATUS_COLOURS["PARTIAL"], f"{name}: {counts[code]} angka"),
            Text(WIDTH - 4, y + 12, f"{counts[code]} angka", 9, "end"),
        )  # fmt: skip
    return chart
