"""The bulletin's page and PDF from hand-made figures (no warehouse): missing is shown as
missing, gaps are ordered, the page loads nothing from anywhere, the PDF has the same text."""

from __future__ import annotations

import re

import pytest

from sinergi.bulletin import page, pdf
from sinergi.bulletin.data import BulletinData, changes_since
from sinergi.bulletin.sections import sections

DISTRICTS = {"3501": "Kabupaten Pacitan", "3502": "Kabupaten Ponorogo", "3578": "Kota Surabaya"}


def _reach(eligible, reached_ytd, reported=True):
    return {
        "is_reported": reported,
        "eligible_households": eligible,
        "households_reached": None if reached_ytd is None else reached_ytd,
        "eligible_households_reached": reached_ytd,
        "eligible_households_reached_ytd": reached_ytd,
        "unreached_rate_ytd": None,
    }


def figures() -> BulletinData:
    return BulletinData(
        period="2025-03",
        districts=DISTRICTS,
        programs={"PKH": "Program Keluarga Harapan", "SEMBAKO": "Program Sembako"},
        submissions={
            "3501": {
                ds: {"status": "ACCEPTED", "is_on_time": True}
                for ds in ("ppks", "psks", "penerima_bantuan", "dtks")
            },
            "3502": {
                "ppks": {"status": "REJECTED", "is_on_time": False},
                "penerima_bantuan": {"status": "PARTIAL", "is_on_time": True},
            },
        },  # fmt: skip
        reporting={
            "ppks": {"actual_reports": 1, "expected_reports": 38, "reports_on_time": 1},
        },
        coverage={"3501": {"PKH": 0.5, "SEMBAKO": 0.0}, "3502": {"PKH": None, "SEMBAKO": None}},
        reach={
            "3501": _reach(1000, 400),  # gap 600
            "3502": _reach(5000, None, reported=False),  # not reported: missing, not 0
            "3578": _reach(2000, 100),  # gap 1900: first
        },
        trend=[
            {
                "period": "2025-01",
                "reporting_rate": {"ppks": 0.5},
                "districts_with_reach": 0,
                "eligible_households": None,
                "eligible_households_reached_ytd": None,
                "reached_share_ytd": None,
            },
            {
                "period": "2025-03",
                "reporting_rate": {"ppks": 1.0},
                "districts_with_reach": 2,
                "eligible_households": 3000,
                "eligible_households_reached_ytd": 500,
                "reached_share_ytd": 500 / 3000,
            },
        ],  # fmt: skip
        duplicates=[
            {
                "program_code": "PKH",
                "duplicate_persons": 3,
                "duplicate_rows": 6,
                "duplicate_amount_idr": 1800000,
            }
        ],  # fmt: skip
        outliers=[
            {
                "district_code": "3578",
                "dataset": "penerima_bantuan",
                "indicator": "recipients",
                "breakdown": "PKH",
                "method": "history",
                "value": 300.0,
                "previous_value": 101.0,
                "relative_change": 1.97,
                "history_months": 4,
                "baseline_median": 100.5,
                "score": 26.78,
                "direction": "UP",
            },
        ],  # fmt: skip
        changes=[
            {
                "period": "2025-02",
                "district_code": "3501",
                "figure": "households_reached",
                "before": None,
                "after": 12,
            }
        ],  # fmt: skip
        previous_bulletin="2025-02",
    )


@pytest.fixture
def html() -> str:
    return page.render("Buletin Sinergi — Maret 2025", "meta", sections(figures()), "b.pdf")


def test_page_is_self_contained(html):
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert not re.search(r"url\((https?:)?//", html)
    assert "default-src 'none'" in html


def test_every_district_is_on_the_page_and_missing_is_not_zero(html):
    for code, name in DISTRICTS.items():
        assert f"{code} {name.replace('Kabupaten ', 'Kab. ')}" in html
    # Ponorogo's reach is NULL: written as missing, with no bar and no "0 / 5.000"
    assert "Kabupaten Ponorogo: tidak ada data" in html
    assert "0 / 5.000" not in html
    # its coverage is NULL: a hatched dash, never "0,0 %"
    assert "Kabupaten Ponorogo PKH: tidak ada data" in html
    assert "Kabupaten Pacitan SEMBAKO: 0,0 %" in html  # a real zero stays a zero


def test_reach_is_ordered_by_largest_gap_with_missing_last(html):
    section = html[html.index('id="jangkauan"') : html.index('id="tren"')]
    order = [m for m in re.findall(r">(\d{4}) ", section)]
    assert order == ["3578", "3501", "3502"]
    assert "1.900 / 2.000" in section and "600 / 1.000" in section


def test_outliers_and_late_corrections_are_listed(html):
    assert "jumlah penerima bantuan PKH" in html and "26,78" in html
    assert "1 angka buletin Februari 2025 berubah" in html
    assert "tidak ada data</td><td>12" in html


def test_changes_since_compares_the_published_figures():
    published = {"period": "2025-02", "reach": {"3501": {"households_reached": 10}}}
    now = {"3501": {"households_reached": 12}, "3502": {}}
    found = changes_since(published, now)
    assert {"district_code": "3501", "figure": "households_reached", "before": 10,
            "after": 12, "period": "2025-02"} in found  # fmt: skip
    assert not [c for c in found if c["district_code"] == "3502"]


def test_pdf_has_the_same_words_and_numbers(tmp_path):
    pypdfium2 = pytest.importorskip("pypdfium2")
    path = pdf.write(tmp_path / "b.pdf", "Buletin Sinergi — Maret 2025", sections(figures()))
    document = pypdfium2.PdfDocument(str(path))
    text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    text = " ".join(text.split())
    assert "Buletin Sinergi - Maret 2025" in text
    for code in DISTRICTS:
        assert code in text
    assert "1.900 / 2.000" in text and "tidak ada data" in text and "26,78" in text
    bitmap = document[0].render(scale=1).to_pil()
    assert bitmap.size[0] > 500 and len(bitmap.getcolors(100000) or ()) > 10  # drawn, not blank
