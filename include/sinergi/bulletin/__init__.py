"""The monthly bulletin for programme managers: ``<reports>/<period>/bulletin/``.

``index.html`` (one self-contained page) and ``buletin-<period>.pdf`` with the same
sections, in Bahasa Indonesia, built from the marts only (``data.py``), plus ``data.json``,
the figures as published, which the next bulletin compares with the marts to show the late
corrections. Written by ``publish_reports`` after dbt (``sinergi.reports.publish``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from sinergi.periods import Period

log = logging.getLogger(__name__)


def build(period: Period, reports_dir: Path, warehouse_url: str) -> Path:
    """Write the bulletin of ``period`` from the marts as they are now; returns index.html."""
    from sinergi.bulletin import data as bulletin_data
    from sinergi.bulletin import page, pdf
    from sinergi.bulletin.sections import sections
    from sinergi.bulletin.words import period_words
    from sinergi.scrub import scrub_identifiers
    from sinergi.warehouse.connection import open_warehouse

    wh = open_warehouse(warehouse_url)
    figures = bulletin_data.read(wh, period)
    previous = bulletin_data.previous_bulletin(reports_dir, period)
    if previous is not None:
        published = json.loads(previous.read_text(encoding="utf-8"))
        figures.previous_bulletin = published["period"]
        figures.changes = bulletin_data.changes_since(
            published, bulletin_data.read_reach(wh, published["period"])
        )
    folder = reports_dir / str(period) / "bulletin"
    folder.mkdir(parents=True, exist_ok=True)
    title = f"Buletin Sinergi — {period_words(str(period))}"
    meta = (
        "Dinas Sosial Provinsi Jawa Timur · dari mart gudang data Sinergi · dibuat "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    parts = sections(figures)
    pdf_name = f"buletin-{period}.pdf"
    pdf.write(folder / pdf_name, title, parts)
    index = folder / "index.html"
    index.write_text(scrub_identifiers(page.render(title, meta, parts, pdf_name)), "utf-8")
    (folder / "data.json").write_text(figures.to_json(), encoding="utf-8")
    log.info("bulletin for %s written to %s", period, folder)
    return index
