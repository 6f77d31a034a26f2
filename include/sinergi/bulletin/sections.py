"""The bulletin's sections: for each, a title, a chart and the one line that reads it.

The readings are computed from the same figures as the charts, and say how many districts
had no figure rather than treating them as zero.
"""

from __future__ import annotations

from sinergi.bulletin import charts
from sinergi.bulletin.data import BulletinData
from sinergi.bulletin.words import (
    DATASET_WORDS,
    FIGURE_WORDS,
    METHOD_WORDS,
    MISSING,
    number,
    percent,
    period_words,
)
from sinergi.messages import OUTLIER_WORDS


def sections(data: BulletinData) -> list[dict]:
    return [
        _completeness(data),
        _coverage(data),
        _reach(data),
        _trend(data),
        _duplicates(data),
        _outliers(data),
        _changes(data),
    ]


def _completeness(data: BulletinData) -> dict:
    complete = sum(
        all(
            (data.submissions.get(d, {}).get(ds) or {}).get("status") in ("ACCEPTED", "PARTIAL")
            for ds in DATASET_WORDS
        )
        for d in data.districts
    )
    rates = ", ".join(
        f"{DATASET_WORDS[ds]} {data.reporting[ds]['actual_reports']}/"
        f"{data.reporting[ds]['expected_reports']} "
        f"({data.reporting[ds]['reports_on_time']} tepat waktu)"
        for ds in DATASET_WORDS
        if ds in data.reporting
    )
    return {
        "id": "kelengkapan",
        "title": "1. Kelengkapan dan ketepatan waktu laporan",
        "reading": f"{complete} dari {len(data.districts)} kabupaten/kota mengirim keempat data "
        f"dengan status diterima; laporan masuk per data: {rates}. "
        "Tanda ✓ = tepat waktu.",
        "chart": charts.completeness_grid(data.districts, data.submissions),
    }


def _coverage(data: BulletinData) -> dict:
    rates = [
        (rate, d, p)
        for d, by_program in data.coverage.items()
        for p, rate in by_program.items()
        if rate is not None
    ]
    missing = sum(1 for d in data.districts if not any(data.coverage.get(d, {}).values()))
    if rates:
        low = min(rates)
        reading = (
            f"Cakupan terendah: {low[2]} di {data.districts.get(low[1], low[1])} "
            f"({percent(low[0])}); {missing} kabupaten/kota tanpa angka cakupan "
            f"(data penerima bantuan atau DTKS tidak ada), ditandai —."
        )
    else:
        reading = f"Belum ada angka cakupan: {MISSING}."
    return {
        "id": "cakupan",
        "title": "2. Cakupan program per kabupaten/kota "
        "(rumah tangga layak yang menerima / rumah tangga layak)",
        "reading": reading,
        "chart": charts.coverage_heatmap(data.districts, data.programs, data.coverage),
    }


def _reach(data: BulletinData) -> dict:
    known = {
        d: r
        for d, r in data.reach.items()
        if r.get("eligible_households_reached_ytd") is not None
        and r.get("eligible_households") is not None
    }
    unreached = sum(r["eligible_households"] - r["eligible_households_reached_ytd"]
                    for r in known.values())  # fmt: skip
    eligible = sum(r["eligible_households"] for r in known.values())
    if known:
        worst = max(
            known,
            key=lambda d: (
                known[d]["eligible_households"] - known[d]["eligible_households_reached_ytd"],
                d,
            ),
        )
        reading = (
            f"Sejak Januari {number(unreached)} dari {number(eligible)} rumah tangga layak di "
            f"{len(known)} kabupaten/kota belum terjangkau program apa pun; kesenjangan "
            f"terbesar di {data.districts.get(worst, worst)}. "
            f"{len(data.districts) - len(known)} kabupaten/kota: {MISSING}."
        )  # fmt: skip
    else:
        reading = f"Belum ada angka jangkauan: {MISSING}."
    return {
        "id": "jangkauan",
        "title": "3. Rumah tangga layak terjangkau dan belum terjangkau tahun ini",
        "reading": reading,
        "chart": charts.reach_bars(data.districts, data.reach),
    }


def _trend(data: BulletinData) -> dict:
    last = data.trend[-1] if data.trend else None
    if last and last["reached_share_ytd"] is not None:
        reading = (
            f"Sampai {period_words(last['period'])}: {percent(last['reached_share_ytd'])} "
            f"rumah tangga layak terjangkau sejak Januari (dari "
            f"{last['districts_with_reach']} kabupaten/kota yang datanya ada)."
        )
    else:
        reading = f"Tren tahun berjalan: {MISSING} untuk bulan ini."
    return {
        "id": "tren",
        "title": "4. Tren tahun berjalan",
        "reading": reading,
        "chart": charts.trend_lines(data.trend),
    }


PAIRS_SHOWN = 15  # district pairs listed in the bulletin (all are in the mart)


def _duplicates(data: BulletinData) -> dict:
    persons = sum(d["duplicate_persons"] or 0 for d in data.duplicates)
    amount = sum(d["duplicate_amount_idr"] or 0 for d in data.duplicates)
    pairs = data.duplicate_pairs
    rows = [
        [
            p["program_code"],
            f"{p['district_code']} {data.districts.get(p['district_code'], '')}",
            f"{p['other_district_code']} {data.districts.get(p['other_district_code'], '')}",
            number(p["duplicate_persons"]),
            f"Rp {number(p['amount_idr'])}",
            MISSING if p["other_amount_idr"] is None else f"Rp {number(p['other_amount_idr'])}",
        ]
        for p in pairs[:PAIRS_SHOWN]
    ]
    if pairs:
        top = pairs[0]
        most = (
            f" Pasangan terbanyak: {data.districts.get(top['district_code'], top['district_code'])}"
            f" dan {data.districts.get(top['other_district_code'], top['other_district_code'])}"
            f" ({top['program_code']}, {number(top['duplicate_persons'])} orang)."
        )
        if len(pairs) > PAIRS_SHOWN:
            most += f" Tabel menampilkan {PAIRS_SHOWN} dari {len(pairs)} pasangan."
    else:
        most = " Tidak ada pasangan kabupaten/kota yang membayar orang yang sama."
    return {
        "id": "ganda",
        "title": "5. Kemungkinan pembayaran ganda antar kabupaten/kota (per program)",
        "reading": f"{number(persons)} orang dibayar oleh program yang sama di dua "
        f"kabupaten/kota atau lebih pada bulan ini, senilai Rp {number(amount)}.{most}",
        "chart": charts.duplicate_bars(data.programs, data.duplicates),
        "table": (
            ["program", "kabupaten/kota", "dan kabupaten/kota", "orang", "dibayar di sini",
             "dibayar di sana"],
            rows,
        ),
    }  # fmt: skip


def outlier_figure(row: dict) -> str:
    breakdown = "" if row["breakdown"] == "ALL" else f" {row['breakdown']}"
    return f"{OUTLIER_WORDS.get(row['indicator'], row['indicator'])}{breakdown}"


def _outliers(data: BulletinData) -> dict:
    rows = [
        [
            f"{r['district_code']} {data.districts.get(r['district_code'], '')}",
            outlier_figure(r),
            number(r["value"]),
            number(r["previous_value"]),
            OUTLIER_WORDS.get(r["direction"], r["direction"]),
            METHOD_WORDS.get(r["method"], r["method"]),
            number(r["score"], 2),
        ]
        for r in data.outliers
    ]
    districts = len({r["district_code"] for r in data.outliers})
    return {
        "id": "pencilan",
        "title": "6. Angka yang perlu diperiksa (jauh berbeda dari bulan-bulan sebelumnya)",
        "reading": f"{len(rows)} angka dari {districts} kabupaten/kota jauh berbeda dari "
        "bulan-bulan sebelumnya atau dari perubahan kabupaten/kota lain; sudah dikirim sebagai "
        "peringatan (bukan penolakan) dalam umpan balik kabupaten/kota.",
        "chart": charts.outlier_bars(data.districts, data.outliers),
        "table": (
            ["kabupaten/kota", "angka", "nilai", "bulan lalu", "arah", "metode", "skor"],
            rows,
        ),
    }


def _changes(data: BulletinData) -> dict:
    rows = [
        [
            period_words(c["period"]),
            f"{c['district_code']} {data.districts.get(c['district_code'], '')}",
            FIGURE_WORDS.get(c["figure"], c["figure"]),
            MISSING if c["before"] is None else number(c["before"]),
            MISSING if c["after"] is None else number(c["after"]),
        ]
        for c in data.changes
    ]
    if data.previous_bulletin is None:
        reading = "Ini buletin pertama: belum ada pembanding."
    else:
        reading = (
            f"{len(rows)} angka buletin {period_words(data.previous_bulletin)} berubah sejak "
            "diterbitkan (perbaikan data yang terlambat)."
        )
    return {
        "id": "perubahan",
        "title": "7. Perubahan sejak buletin lalu",
        "reading": reading,
        "table": (["periode", "kabupaten/kota", "angka", "sebelumnya", "sekarang"], rows),
    }
