"""Judging a month's files together leaves exactly the folders judging each alone leaves.

A generated faulty month (contract faults, unreadable and ambiguous files; six districts
whose files the generator made faulty) is judged twice: each version on its own
(``judge_version``, the district task's way) and each dataset's versions of every district
together (``judge_together``, the ``judge`` task's way, in small batches so that several
batches and a file judged alone by size occur). Every folder must hold the same record, the
same rows in every table and the same Data Docs results.
"""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sinergi.inbox import scan_district
from sinergi.judgement import (
    REPORTS_NAME,
    FileVersion,
    JudgeOptions,
    judge_together,
    judge_version,
    prejudged,
)
from sinergi.paths import EXPECTATIONS_DIR
from sinergi.periods import Period
from sinergi.reference import district_codes
from sinergi.synthetic import generate_inbox
from sinergi.warehouse.judged import JudgedVersion

PERIOD = Period(2025, 2)
WHEN = datetime(2025, 3, 5, tzinfo=UTC)
# Districts whose files (seed 7) are partial or rejected in several ways, besides accepted
# ones; the first test checks that all three statuses occur. More districts judge the same
# cases again (a third of them took a minute of the suite).
DISTRICTS = ("3507", "3510", "3516", "3519", "3522", "3575")
# Small batches: several batches per dataset, and roster files above the batch size alone.
OPTIONS = JudgeOptions(b"key", 0.2, EXPECTATIONS_DIR / "suites", chunk_rows=150, batch_rows=150)


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> list[tuple[FileVersion, bool]]:
    inbox = tmp_path_factory.mktemp("inbox")
    generate_inbox(inbox, [str(PERIOD)], seed=7, scale=0.0005, faults=True)
    versions = []
    for code in DISTRICTS:
        assert code in district_codes(), code
        found = scan_district(inbox, PERIOD, code)
        for dataset, paths in sorted(found.files.items()):
            for path in paths:
                version = FileVersion(
                    PERIOD, code, dataset, 1, path.name, path.name, 1, WHEN, WHEN, path
                )
                versions.append((version, len(paths) > 1))
    return versions


def _folder(root: Path, version: FileVersion) -> Path:
    return root / version.district_code / f"{version.dataset}-{version.file_name}"


def _content(folder: Path) -> dict:
    record = JudgedVersion.read(folder)
    tables = {}
    for table, names in sorted(record.rows.items()):
        frame = pd.concat([pq.read_table(folder / n).to_pandas() for n in names])
        tables[table] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    reports = json.loads((folder / REPORTS_NAME).read_text(encoding="utf-8"))
    return {
        "file_version": record.file_version,
        "summary": record.summary,
        "tables": tables,
        "reports": [(r["success"], r["statistics"], r["results"]) for r in reports],
    }


def test_judged_together_equals_judged_alone(month, tmp_path, monkeypatch):
    import sinergi.judgement

    def no_fallback(*args, **kwargs):
        raise AssertionError("a batch failed and was judged file by file (see the log)")

    monkeypatch.setattr(sinergi.judgement, "judge_together_alone", no_fallback)
    alone = {
        v.name + v.file_name: judge_version(v, _folder(tmp_path / "a", v), OPTIONS, ambiguous=amb)
        for v, amb in month
    }
    by_dataset: dict[str, list] = {}
    for version, ambiguous in month:
        item = (version, _folder(tmp_path / "b", version), ambiguous)
        by_dataset.setdefault(version.dataset, []).append(item)
    together = {}
    for items in by_dataset.values():
        together.update(judge_together(items, OPTIONS))
    assert len(together) == len(month)
    statuses = {v.status for v in alone.values()}
    assert statuses == {"ACCEPTED", "PARTIAL", "REJECTED"}  # the month is really faulty
    for version, _ in month:
        one, both = (
            _content(_folder(tmp_path / "a", version)),
            _content(_folder(tmp_path / "b", version)),
        )
        assert both["file_version"] == one["file_version"], version.name
        assert both["summary"] == one["summary"], version.name
        assert both["reports"] == one["reports"], version.name
        assert both["tables"].keys() == one["tables"].keys(), version.name
        for table, frame in one["tables"].items():
            pd.testing.assert_frame_equal(both["tables"][table], frame, obj=table)


def test_a_district_task_reuses_only_the_exact_version(month, tmp_path):
    version, ambiguous = next((v, a) for v, a in month if v.dataset == "psks" and not a)
    folder = tmp_path / "judged"
    judge_together([(version, folder, ambiguous)], OPTIONS)
    verdict = prejudged(version, folder)
    assert verdict is not None
    assert (
        verdict.status
        == json.loads((folder / "judged-version.json").read_text())["file_version"]["status"]
    )
    assert verdict.gx_results  # the Data Docs results travel with the folder
    other = FileVersion(**{**version.__dict__, "sha256": "0" * 64})
    assert prejudged(other, folder) is None  # other bytes arrived since: judged again
    assert prejudged(version, tmp_path / "nothing-here") is None


def test_one_failing_file_does_not_stop_the_others(month, tmp_path, monkeypatch):
    """A GX error in a batch: the batch is judged file by file; the failing file is left
    without a folder (its district task judges it again and fails there), the others pass."""
    import sinergi.judgement as judgement

    items = [(v, _folder(tmp_path, v), a) for v, a in month if v.dataset == "psks" and not a][:4]
    broken = items[1][0]
    real = judgement.judge_chunks

    def failing(spec, chunks, contexts, suites_dir):
        if any(c.district_code == broken.district_code for c in contexts):
            raise RuntimeError("expectation could not run")
        return real(spec, chunks, contexts, suites_dir)

    monkeypatch.setattr(judgement, "judge_chunks", failing)
    monkeypatch.setattr(
        judgement, "judge_chunk", lambda s, ch, ctx, d: failing(s, [ch], [ctx], d)[0]
    )
    verdicts = judge_together(items, OPTIONS)
    assert set(verdicts) == {folder for v, folder, _ in items if v is not broken}
    assert not (_folder(tmp_path, broken) / "judged-version.json").exists()


def test_rejected_rows_spilled_in_slices_are_the_same_rows(month, tmp_path, monkeypatch):
    """``audit.row_rejections`` written a few rows per Parquet part (as a province file's
    ~100,000 rejected rows are, 25,000 per part) holds exactly the rows of one part."""
    import sinergi.judgement as judgement

    items = [(v, a) for v, a in month if v.dataset == "penerima_bantuan" and not a]
    whole = judge_together([(v, _folder(tmp_path / "a", v), False) for v, _ in items], OPTIONS)
    monkeypatch.setattr(judgement, "QUARANTINE_SLICE_ROWS", 3)
    sliced = judge_together([(v, _folder(tmp_path / "b", v), False) for v, _ in items], OPTIONS)
    assert len(whole) == len(sliced) == len(items)
    more_parts = 0
    for version, _ in items:
        one = _content(_folder(tmp_path / "a", version))
        many = _content(_folder(tmp_path / "b", version))
        assert many["summary"] == one["summary"], version.name
        for table, frame in one["tables"].items():
            pd.testing.assert_frame_equal(many["tables"][table], frame, obj=table)
        parts = JudgedVersion.read(_folder(tmp_path / "b", version)).rows
        rejected = len(one["tables"].get("audit.row_rejections", ()))
        assert len(parts.get("audit.row_rejections", [])) == -(-rejected // 3), version.name
        more_parts += rejected > 3
    assert more_parts  # some file had rows enough for several parts


@pytest.mark.parametrize("after_rows", [1, 10**9])
def test_garbage_is_collected_after_each_large_batch(month, tmp_path, monkeypatch, after_rows):
    """A full collection after every batch of ``COLLECT_AFTER_ROWS`` rows or more (GX's
    validation objects hold the validated frame in reference cycles, docs/performance.md),
    and none after small ones: each collection walks every object judging created."""
    import types

    import sinergi.judgement as judgement

    events: list[str] = []
    real_batch = judgement._judge_batch
    monkeypatch.setattr(
        judgement, "_judge_batch", lambda b, o: events.append("batch") or real_batch(b, o)
    )
    fake_gc = types.SimpleNamespace(
        collect=lambda: events.append("gc"),
        freeze=gc.freeze,
        unfreeze=gc.unfreeze,
        get_freeze_count=gc.get_freeze_count,
    )
    monkeypatch.setattr(judgement, "gc", fake_gc)
    monkeypatch.setattr(judgement, "COLLECT_AFTER_ROWS", after_rows)
    items = [(v, _folder(tmp_path, v), a) for v, a in month if v.dataset == "penerima_bantuan"]
    judge_together(items, OPTIONS)
    assert events.count("batch") > 1
    if after_rows > 1:
        assert "gc" not in events
        return
    for at, event in enumerate(events):
        if event == "batch":
            assert events[at + 1] == "gc"  # before the next batch is read


def _rosters(month):
    """Four districts' rosters: several batches and collections, a fraction of the month."""
    return [(v, a) for v, a in month if v.dataset == "penerima_bantuan"][:4]


def _freeze_counts_at_collections(monkeypatch) -> list[int]:
    """Record ``gc.get_freeze_count()`` at every collection judging asks for."""
    import sinergi.judgement as judgement

    seen: list[int] = []
    collect = judgement._collect_cycles

    def spy(rows: int) -> None:
        seen.append(gc.get_freeze_count())
        collect(rows)

    monkeypatch.setattr(judgement, "_collect_cycles", spy)
    return seen


def test_collections_while_judging_skip_the_objects_that_were_there_before(
    month, tmp_path, monkeypatch
):
    """In a process with nothing frozen (a task's, with Airflow loaded), judging freezes what
    exists, so its collections walk only what it created, and unfreezes it afterwards."""
    gc.unfreeze()
    seen = _freeze_counts_at_collections(monkeypatch)
    judge_together([(v, _folder(tmp_path / "t", v), a) for v, a in _rosters(month)], OPTIONS)
    version, ambiguous = next((v, a) for v, a in month if v.dataset == "penerima_bantuan")
    judge_version(version, _folder(tmp_path / "v", version), OPTIONS, ambiguous=ambiguous)
    assert len(seen) > 2
    assert all(count > 1000 for count in seen), seen
    assert gc.get_freeze_count() == 0


def test_judging_leaves_a_frozen_process_frozen(month, tmp_path, monkeypatch):
    """A judge worker froze what it inherited (``sinergi.workers``): judging does not unfreeze
    it, so later collections there still never copy the inherited pages."""
    gc.freeze()
    try:
        seen = _freeze_counts_at_collections(monkeypatch)
        judge_together([(v, _folder(tmp_path, v), a) for v, a in _rosters(month)], OPTIONS)
        assert seen and all(count > 1000 for count in seen), seen
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
