"""Sinergi's Data Docs site classes render what GX's own classes render, reading less.

``sinergi.datadocs_site`` replaces two of GX's site-builder classes so that a month's build
does not re-read every earlier month's results. These tests build the same results store
with Sinergi's classes and with GX's own (``datadocs._context(..., gx_classes=True)``) and
compare the pages, then count what a later build reads.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sinergi import datadocs
from sinergi.datadocs_site import KeptSummaryIndexBuilder

RECEIVED = datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
# what GX writes differently into every build of the same page: a time and element ids
_VOLATILE = re.compile(
    r"\?d=\d{8}T\d{6}\.\d{6}Z|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def _version(district: str, dataset: str, number: int, status: str, period="2025-01") -> dict:
    return {
        "run_name": datadocs.run_name(period, district, dataset, number),
        "file_name": f"{dataset}.csv",
        "status": status,
        "reason": "unreadable" if status == "REJECTED" else "",
        "detail": "",
        "dataset": dataset,
        "received_at": RECEIVED,
    }


VERSIONS = [
    _version("3501", "ppks", 1, "ACCEPTED"),
    _version("3502", "ppks", 1, "REJECTED"),
    _version("3502", "psks", 2, "PARTIAL"),
    _version("3578", "dtks", 1, "ACCEPTED", period="2024-12"),
]


def _store(reports: Path, versions: list[dict]) -> None:
    for version in versions:
        datadocs.save_results(
            reports,
            version["run_name"],
            version["received_at"],
            version["file_name"],
            [datadocs._minimal_result(version)],
        )


def _rewrite_verdict(reports: Path, version: dict) -> None:
    """The verdict written into a stored result's header, as ``datadocs.reconcile`` does."""
    path = datadocs.result_file(
        reports,
        f"sinergi.{version['dataset']}",
        version["run_name"],
        version["received_at"],
        f"{version['file_name']}-part1",
    )
    stored = json.loads(path.read_text(encoding="utf-8"))
    stored["meta"].update(
        datadocs._file_meta(
            version["run_name"], version["file_name"], version["received_at"], version
        )
    )
    path.write_text(datadocs._stored_text(stored), encoding="utf-8")


def _build(reports: Path, gx_classes: bool) -> None:
    datadocs._context(reports, gx_classes).build_data_docs(site_names=[datadocs.SITE])


def _pages(reports: Path) -> dict[str, str]:
    site = reports / "data-docs"
    return {
        p.relative_to(site).as_posix(): _VOLATILE.sub("", p.read_text(encoding="utf-8"))
        for p in sorted(site.rglob("*.html"))
    }


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """The run names of the results the index builder reads from the store."""
    read: list[str] = []
    summary = KeptSummaryIndexBuilder._summary

    def counting(self, key):
        read.append(key.run_id.run_name)
        return summary(self, key)

    monkeypatch.setattr(KeptSummaryIndexBuilder, "_summary", counting)
    return read


def test_the_site_is_the_one_gx_renders(tmp_path, counted):
    ours, theirs = tmp_path / "ours", tmp_path / "gx"
    _store(ours, VERSIONS)
    _store(theirs, VERSIONS)
    _build(ours, gx_classes=False)
    _build(theirs, gx_classes=True)
    pages = _pages(ours)
    assert len(pages) == len(VERSIONS) + 1  # a page per result and the index
    assert pages == _pages(theirs)
    assert sorted(counted) == sorted(v["run_name"] for v in VERSIONS)
    index = pages["index.html"]
    assert all(v["run_name"] in index for v in VERSIONS)


def test_a_later_build_reads_only_the_results_written_since(tmp_path, counted):
    ours, theirs = tmp_path / "ours", tmp_path / "gx"
    for reports in (ours, theirs):
        _store(reports, VERSIONS)
    _build(ours, gx_classes=False)
    assert len(counted) == len(VERSIONS)
    counted.clear()

    _build(ours, gx_classes=False)  # nothing new: nothing read, the same index
    assert counted == []
    # a new version, and a verdict rewritten into an earlier result's header (as reconcile
    # rewrites it): those two are read again, the others are not
    new = _version("3501", "ppks", 2, "PARTIAL")
    rewritten = {**VERSIONS[2], "status": "REJECTED", "reason": "too_many_invalid_rows"}
    for reports in (ours, theirs):
        _store(reports, [new])
        _rewrite_verdict(reports, rewritten)
    _build(ours, gx_classes=False)
    _build(theirs, gx_classes=True)
    assert sorted(counted) == sorted([new["run_name"], rewritten["run_name"]])
    pages = _pages(ours)
    assert pages == _pages(theirs)
    assert "too_many_invalid_rows" in pages["index.html"]


def test_a_removed_result_leaves_the_index_and_the_kept_summaries(tmp_path, counted):
    ours, theirs = tmp_path / "ours", tmp_path / "gx"
    for reports in (ours, theirs):
        _store(reports, VERSIONS)
    _build(ours, gx_classes=False)
    for reports in (ours, theirs):
        shutil.rmtree(reports / "gx" / "validations" / "sinergi" / "dtks")
    counted.clear()
    _build(ours, gx_classes=False)
    _build(theirs, gx_classes=True)
    index = _pages(ours)["index.html"]
    assert index == _pages(theirs)["index.html"]
    assert VERSIONS[3]["run_name"] not in index
    assert counted == []
    kept = json.loads((ours / "gx" / "index-summaries.json").read_text(encoding="utf-8"))
    assert len(kept) == len(VERSIONS) - 1
    assert not any(VERSIONS[3]["run_name"] in name for name in kept)


def test_the_kept_summaries_hold_no_value_and_no_long_number(tmp_path):
    """What the index shows, and a stamp spelled without digits: a file time in nanoseconds
    is 19 digits, which an auditor's search for leaked NIKs in the reports would find."""
    reports = tmp_path / "r"
    _store(reports, VERSIONS)
    _build(reports, gx_classes=False)
    text = (reports / "gx" / "index-summaries.json").read_text(encoding="utf-8")
    assert not re.search(r"\d{16,}", text)
    kept = json.loads(text)
    assert len(kept) == len(VERSIONS)
    for summary in kept.values():
        assert set(summary) == {
            "validation_success",
            "asset_name",
            "batch_kwargs",
            "batch_spec",
            "stamp",
        }
        assert not re.search(r"\d", summary["stamp"])
