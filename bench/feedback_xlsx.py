"""One huge district's feedback: XlsxWriter (the old XLSX path) vs sinergi.xlsx.

``python -m bench.feedback_xlsx [ROWS]`` builds the facts of one district whose
``penerima_bantuan`` file has ROWS rejected rows (default 100,000: ~130,000 feedback lines,
the size of the profiled province district), then times, median of 3, in this one process:
``write_district_feedback`` (lines, CSV and XLSX) and the XLSX alone, each way, and the
Python memory the XLSX writing allocates at its peak (tracemalloc, a separate run). The old
XLSX path is the test's reference writer (tests/test_xlsx.py); the old CSV path is today's
(its bytes are unchanged). "writer alone" is sinergi.xlsx on cells already neutralised: its
peak should not grow with the lines (streamed). Times are printed, never asserted.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sinergi import feedback
from sinergi.feedback import FileFacts, RowFacts
from tests.test_xlsx import _xlsxwriter_feedback

_NAMES = ["Siti Rahayu", "Budi Santoso", "Ni Luh Putu Ayu", "Muhammad Rizki", "Dewi Lestari"]
_ROW_CODES = [
    "invalid_nik",
    "invalid_date:tanggal_lahir",
    "unknown_code:status_salur",
    "invalid_village_code",
    "amount_out_of_range",
    "missing_value:kode_desa",
    "disbursement_outside_period",
    "invalid_nik;invalid_date:tanggal_lahir",
    "unknown_code:jenis_kelamin;invalid_village_code",
    "duplicate_key;amount_out_of_range",
]


def district_facts(rows: int, district: str = "3578") -> tuple:
    """``district_lines``' arguments for one district with ``rows`` rejected rows."""
    pick = random.Random(7)
    file = FileFacts("penerima_bantuan", 2, "penerima_bantuan.csv", "PARTIAL", None, None,
                     rows * 3, rows * 2, rows)  # fmt: skip
    rejected = [
        RowFacts("penerima_bantuan", 2, number, pick.choice(_ROW_CODES), json.dumps(_cells(pick)))
        for number in range(2, rows + 2)
    ]
    notices = [(f"{district}/catatan bulan ini.docx", "ignored_file", "")]
    return district, "2025-12", [file], rejected, notices, True


def _cells(pick: random.Random) -> dict:
    """A row's cells as districts type them: mostly valid, the faulty ones varied."""
    day, month, year = pick.randrange(1, 36), pick.randrange(1, 15), pick.randrange(1930, 2026)
    return {
        "nik": f"3578{pick.randrange(10**11, 10**12)}",
        "nama": f"{pick.choice(_NAMES)} {pick.choice(_NAMES).split()[-1]}",
        "tanggal_lahir": pick.choice([f"{day}/{month}/{year}", f"{year}-{month}-{day}", "-"]),
        "status_salur": pick.choice(["SUDAH", "sudah disalurkan", "BELUM", f"proses {day}"]),
        "jenis_kelamin": pick.choice(["L", "P", "laki-laki", "Perempuan", "Lk"]),
        "kode_desa": pick.choice(["", f"3578{pick.randrange(10**5, 10**7)}", "Desa Sukamaju"]),
        "kode_program": pick.choice(["PKH", "SEMBAKO", "BLT_DD"]),
        "nilai_bantuan": str(pick.randrange(10**3, 10**8)),
        "tanggal_salur": f"2025-{pick.choice(['11', '12'])}-{day:02d}",
    }


def _old_district_feedback(folder: Path, *facts) -> Path:
    """``write_district_feedback`` before sinergi.xlsx: neutralised per file, XlsxWriter."""
    lines, overview = feedback.district_lines(*facts)
    path = feedback.write_csv(folder / f"umpan-balik-{facts[0]}.csv", lines)
    _xlsxwriter_feedback(path.with_suffix(".xlsx"), lines, overview)
    return path


def _median_seconds(call, *args, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _peak_mib(call, *args) -> float:
    tracemalloc.start()
    call(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main(rows: int) -> None:
    facts = district_facts(rows)
    lines, overview = feedback.district_lines(*facts)
    print(f"{len(lines):,} detail lines, {len(overview)} summary lines")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        old = out / "old.xlsx"
        new = out / "new.xlsx"
        ways = {
            "district, old": (_old_district_feedback, out, *facts),
            "district, new": (feedback.write_district_feedback, out, *facts),
            "xlsx, old": (_xlsxwriter_feedback, old, lines, overview),
            "xlsx, new": (feedback.write_xlsx, new, lines, overview),
        }
        for name, (call, *args) in ways.items():
            print(f"{name}: {_median_seconds(call, *args):.2f} s (median of 3)", flush=True)
        cells = feedback._cells(lines)
        ways["writer alone, new"] = (feedback._write_xlsx, new, cells, feedback._cells(overview))
        for name in ("xlsx, old", "xlsx, new", "writer alone, new"):
            call, *args = ways[name]
            print(f"{name}: peak {_peak_mib(call, *args):.1f} MiB allocated (tracemalloc)")
        print(f"sizes: old {old.stat().st_size:,} B, new {new.stat().st_size:,} B")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
