"""Checks of a bulletin against the marts it was built from, as a person would see it.

The expected figures are read from the marts rows the test already holds and formatted here
(thousands with ``.``), not by the bulletin's code. The page is also rendered by headless
Chromium when it is installed (skipped otherwise): printed to PDF, whose text is what a
reader sees (SVG text included), and screenshotted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest


def thousands(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def reach_labels(rows: list[dict[str, Any]], period: date) -> dict[str, str | None]:
    """district -> "unreached / eligible" as the reach chart must write it (None: missing)."""
    out = {}
    for r in rows:
        if r["period"] != period:
            continue
        reached, eligible = r["eligible_households_reached_ytd"], r["eligible_households"]
        out[r["district_code"]] = (
            None
            if reached is None or eligible is None
            else f"{thousands(eligible - reached)} / {thousands(eligible)}"
        )
    return out


def pdf_text(path: Path) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    return " ".join(text.split())


def check_bulletin(index: Path, tables: dict[str, list[dict]], period: date) -> None:
    """Every district on the page and in the PDF; the reach figures equal the marts'; the
    outliers all listed; missing figures written as missing."""
    html = index.read_text(encoding="utf-8")
    names = {r["district_code"]: r["district_name"] for r in tables["dim_districts"]}
    assert len(names) == 38
    pdf = next(index.parent.glob("buletin-*.pdf"))
    printed = pdf_text(pdf)
    labels = reach_labels(tables["fct_household_reach"], period)
    assert len(labels) == 38
    for code, name in names.items():
        assert f"{code} " in html and name in html, name
        assert code in printed, code
        label = labels[code]
        if label is None:
            assert f"{name}: tidak ada data" in html, name
        else:
            assert label in html and label in printed, (name, label)
    outliers = [r for r in tables["fct_outliers"] if r["period"] == period]
    data = json.loads((index.parent / "data.json").read_text(encoding="utf-8"))
    assert len(data["outliers"]) == len(outliers)
    assert f"{len(outliers)} angka dari" in html
    # every district pair sharing a paid person is in the bulletin's data, each pair once
    pairs = {
        (r["program_code"], r["district_code"], r["other_district_code"], r["duplicate_persons"])
        for r in tables["fct_cross_district_duplicate_pairs"]
        if r["period"] == period and r["district_code"] < r["other_district_code"]
    }
    shown = {
        (p["program_code"], p["district_code"], p["other_district_code"], p["duplicate_persons"])
        for p in data["duplicate_pairs"]
    }
    assert shown == pairs
    if pairs:
        top = data["duplicate_pairs"][0]
        assert f"Pasangan terbanyak: {names[top['district_code']]}" in html
    submissions = [r for r in tables["fct_submissions"] if r["period"] == period]
    accepted = sum(r["status"] == "ACCEPTED" for r in submissions)
    assert (
        html.count(": Penerima bantuan diterima")
        + html.count(": PPKS diterima")
        + html.count(": PSKS diterima")
        + html.count(": DTKS diterima")
        == accepted
    )


def render_in_chromium(index: Path, words: list[str]) -> None:
    """Print the page with headless Chromium (network off, the page needs none) and find
    ``words`` in what it printed; take a screenshot too. Skips when Chromium is absent."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed: the bulletin is not rendered in a browser")
    folder = index.parent
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]  # fmt: skip
    printed, shot = folder / "chromium-print.pdf", folder / "chromium-screenshot.png"
    for extra in (
        [f"--print-to-pdf={printed}", "--no-pdf-header-footer"],
        [f"--screenshot={shot}", "--window-size=412,2400"],  # a phone's width
    ):
        subprocess.run([*common, *extra, index.as_uri()], check=True, capture_output=True,
                       timeout=120)  # fmt: skip
    text = pdf_text(printed)
    missing = [w for w in words if w not in text]
    assert not missing, missing
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size[0] >= 400
        assert len(image.convert("RGB").getcolors(1_000_000) or ()) > 20  # drawn, not blank
