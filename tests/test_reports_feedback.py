"""The district feedback builder (sinergi.feedback) on hand-made facts, without a warehouse."""

from __future__ import annotations

import csv
import json

import pytest

from sinergi.feedback import (
    COLUMNS,
    DELIMITER,
    FileFacts,
    OutlierFacts,
    RowFacts,
    describe_identifier,
    district_lines,
    neutralise,
    suggested_name,
    write_csv,
    write_xlsx,
)

NIK = "3578014501900001"


def _rows(dataset, codes, cells_list, version=1):
    return [
        RowFacts(dataset, version, number, codes, json.dumps(cells))
        for number, cells in enumerate(cells_list, start=2)
    ]


def _by_code(lines):
    return {line[8]: line for line in lines}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("penerima-bantuan.csv", ("penerima_bantuan", "penerima_bantuan.csv")),
        ("PSKS.CSV", ("psks", "psks.csv")),
        ("dtks (1).xlsx", ("dtks", "dtks.xlsx")),
        ("data_ppks.csv", ("ppks", "ppks.csv")),
        ("psks_januari.csv", ("psks", "psks.csv")),
        ("ppks.xls", ("ppks", "ppks.xlsx")),
        ("~$ppks.xlsx", None),
        ("catatan.txt", None),
        ("foto.jpg", None),
    ],
)
def test_suggested_name(name, expected):
    assert suggested_name(name) == expected


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("3.57801E+15", "notasi ilmiah"),
        ("35780145019", "panjangnya 11 digit"),
        ("35780145O1900001", "selain angka"),
        ("9978014501900001", "kode provinsi"),
        ("3578019901900001", "tanggal lahir"),
        ("", "kosong"),
    ],
)
def test_identifier_shape_is_described_without_the_value(value, says):
    text = describe_identifier(value)
    assert says in text and (not value or value not in text)


def test_neutralise_formula_injection_and_identifiers():
    assert neutralise('=HYPERLINK("http://x")').startswith("'=")
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("-5") == "'-5" and neutralise("+1") == "'+1"
    assert neutralise("AKTIF") == "AKTIF"
    assert neutralise(f"x{NIK}") == "x<16 digits>"


def _penerima(status="PARTIAL", total=10, rejected=3, reason=None, detail=None):
    return FileFacts(
        "penerima_bantuan", 1, "penerima_bantuan.csv", status, reason, detail,
        total, total - rejected, rejected,
    )  # fmt: skip


def test_unknown_code_shows_value_and_allowed_codes_and_never_a_nik():
    rows = _rows(
        "penerima_bantuan",
        "unknown_code:status_salur;invalid_nik",
        [{"status_salur": "TIDAK AKTIF", "nik": "3.57801E+15"}],
    )
    lines, _ = district_lines("3578", "2025-12", [_penerima(rejected=1)], rows, [], False)
    codes = _by_code(lines)
    unknown = codes["unknown_code:status_salur"]
    assert unknown[5] == "TIDAK AKTIF" and "TIDAK AKTIF" in unknown[6]
    assert "GAGAL" in unknown[7] and "SALUR" in unknown[7]
    nik = codes["invalid_nik"]
    assert nik[4] == "nik" and nik[5] == "" and "notasi ilmiah" in nik[6]
    assert "3.57801E+15" not in json.dumps(lines)


def test_file_line_first_then_rows_in_order_and_partial_says_resend_all():
    rows = _rows("penerima_bantuan", "missing_value:tanggal_salur", [{}, {}, {}])
    lines, summary = district_lines("3578", "2025-12", [_penerima()], rows[::-1], [], True)
    assert lines[0][8] == "PARTIAL" and lines[0][2] == "DITERIMA SEBAGIAN"
    assert "3 dari 10 baris ditolak, 7 baris dimuat" in lines[0][6]
    assert "SELURUH berkas" in lines[0][7]
    assert [line[3] for line in lines if line[3]] == [2, 3, 4]
    assert summary[0][:2] == ["penerima_bantuan.csv", "DITERIMA SEBAGIAN"]


def test_missing_datasets_and_dtks_carried_forward():
    lines, _ = district_lines("3578", "2025-12", [_penerima()], [], [], True)
    missing = [line for line in lines if line[2] == "TIDAK ADA"]
    assert {line[0] for line in missing} == {"ppks.csv / ppks.xlsx", "psks.csv / psks.xlsx"}
    (dtks,) = [line for line in lines if line[8] == "carried_forward"]
    assert dtks[2] == "INFORMASI" and "tetap berlaku" in dtks[6]
    lines, _ = district_lines("3578", "2025-12", [_penerima()], [], [], False)
    assert any(line[8] == "missing" and "dtks" in line[6] for line in lines)


def test_outliers_are_indonesian_warnings_on_their_file_never_rejections():
    jump = OutlierFacts(
        "penerima_bantuan", "recipients", "PKH", "history", 300.0, 101.0, 1.9703, 4, 100.5, "UP"
    )
    drop = OutlierFacts(
        "penerima_bantuan", "amount_disbursed_idr", "BPNT", "province_change",
        1250000.0, 5000000.0, -0.75, None, 0.02, "DOWN",
    )  # fmt: skip
    other_dataset = OutlierFacts("ppks", "total_count", "PPKS01 LUAR_UPT", "history",
                                 9.0, 1.0, 8.0, 3, 1.0, "UP")  # fmt: skip
    files = [_penerima()]
    lines, summary = district_lines(
        "3578", "2025-12", files, [], [], True, outliers=[jump, drop, other_dataset]
    )
    warned = [line for line in lines if line[8].startswith("outlier:")]
    assert [line[8] for line in warned] == ["outlier:province_change", "outlier:history"]
    assert all(line[2] == "PERINGATAN" and line[0] == "penerima_bantuan.csv" for line in warned)
    assert all("jauh berbeda dari bulan-bulan sebelumnya — mohon periksa kembali" in line[6]
               for line in warned)  # fmt: skip
    history = warned[1]
    assert "jumlah penerima bantuan PKH = 300" in history[6]
    assert "naik; median 100,5 dari 4 bulan" in history[6] and history[4] == "nik"
    province = warned[0]
    assert "nilai bantuan tersalur (Rp) BPNT = 1.250.000" in province[6]
    assert "turun -75,0 % dari bulan lalu (5.000.000)" in province[6]
    assert "median perubahan kabupaten/kota lain +2,0 %" in province[6]
    assert not any("DITOLAK" in line[2] for line in lines)  # warnings, never rejections
    assert lines[0][8] == "PARTIAL"  # the file's own status is unchanged
    assert summary[1][:2] == ["penerima_bantuan.csv", "PERINGATAN"]
    assert "2 angka jauh berbeda" in summary[1][2]
    # ppks was not sent: its outlier (impossible in practice) is not attached anywhere
    assert not any(line[0].startswith("ppks") and line[2] == "PERINGATAN" for line in lines)


def test_misnamed_file_notice_gives_the_right_name():
    notices = [("2025-12/3578/penerima-bantuan.csv", "ignored_file", "not a dataset file")]
    lines, _ = district_lines("3578", "2025-12", [], [], notices, False)
    (line,) = [x for x in lines if x[8] == "ignored_file"]
    assert line[2] == "DIABAIKAN"
    assert "Ganti nama berkas menjadi penerima_bantuan.csv" in line[7]


def test_scientific_notation_is_one_file_level_line():
    cells = [{"nik": f"3.5780{i}E+15", "no_kk": "3.5E+15"} for i in range(5)]
    rows = _rows("penerima_bantuan", "invalid_nik;invalid_kk", cells)
    file = _penerima(status="REJECTED", total=5, rejected=5, reason="too_many_invalid_rows",
                     detail="5 of 5 rows rejected (100.0% > 20%)")  # fmt: skip
    lines, _ = district_lines("3578", "2025-12", [file], rows, [], False)
    assert "5 dari 5 baris (100,0%, batas 20%)" in lines[0][6]
    systemic = [line for line in lines if line[8] == "scientific_notation"]
    assert {line[4] for line in systemic} == {"nik", "no_kk"}
    assert all("sebagai Teks" in line[7] and line[3] == "" for line in systemic)
    assert lines.index(systemic[0]) < min(i for i, x in enumerate(lines) if x[3])


def _rejected(reason, params, detail="an English detail the feedback must not need", **kw):
    name = kw.pop("name", "psks.xlsx")
    total, rejected = kw.pop("total", 0), kw.pop("rejected", 0)
    return FileFacts(
        "psks", 1, name, "REJECTED", reason, detail, total, 0, rejected, params=params
    )  # fmt: skip


def _head(file) -> list:
    lines, _ = district_lines("3578", "2025-12", [file], [], [], False)
    return lines[0]


def test_file_lines_come_from_the_structured_params_not_the_english_detail():
    head = _head(_rejected("missing_columns", {"columns": ["jumlah"], "header_row": 4}))
    assert head[6] == "Kolom wajib tidak ada: jumlah (judul kolom di baris 4)"
    assert head[2] == "DITOLAK" and head[8] == "missing_columns"
    head = _head(_rejected("missing_columns", {"columns": ["kode_psks", "jumlah"],
                                               "header_row": None}))  # fmt: skip
    assert head[6].startswith("Kolom wajib tidak ada: kode_psks, jumlah (tidak ada baris judul")
    head = _head(_rejected("too_many_invalid_rows", {"limit_pct": 12.5}, total=8, rejected=3))
    assert "3 dari 8 baris (37,5%, batas 12,5%)" in head[6]
    head = _head(_rejected("too_many_invalid_rows", {"limit_pct": 20.0}, total=8, rejected=3))
    assert "batas 20%)" in head[6]


@pytest.mark.parametrize(
    ("cause", "says"),
    [
        ("zero_bytes", "berkas kosong (0 byte)"),
        ("too_large", "ukuran berkas melebihi batas"),
        (
            "limit",
            "melebihi batas yang ditetapkan (jumlah kolom, panjang isi sel atau "
            "ukuran isi berkas XLSX)",
        ),
        ("nul", "karakter NUL"),
        ("encoding", "pengodean karakter"),
        ("csv", "struktur CSV rusak"),
        ("xlsx", "bukan berkas XLSX yang valid"),
        ("other", "format berkas tidak dikenali"),
        ("a key from a newer release", "format berkas tidak dikenali"),
    ],
)
def test_unreadable_cause_is_said_from_its_key(cause, says):
    # the English detail says something else on purpose: only the key counts
    head = _head(_rejected("unreadable", {"cause": cause}, detail="NUL byte, 0 bytes, xlsx"))
    assert head[6].startswith("Berkas tidak dapat dibaca: ") and says in head[6]


def test_every_unreadable_cause_of_the_reader_has_an_indonesian_phrase():
    from sinergi.messages import PHRASES
    from sinergi.reading import UNREADABLE_CAUSES

    assert all(f"unreadable_{cause}" in PHRASES for cause in UNREADABLE_CAUSES)


def test_versions_judged_before_the_params_column_fall_back_to_their_detail():
    detail = "missing column(s): jumlah (likely header row 4; no row ...)"
    head = _head(_rejected("missing_columns", None, detail=detail))
    assert head[6] == "Kolom wajib tidak ada: jumlah (judul kolom di baris 4)"
    detail = "3 of 8 rows rejected (37.5% > 20%)"
    head = _head(_rejected("too_many_invalid_rows", None, detail=detail, total=8, rejected=3))
    assert "batas 20%)" in head[6]
    head = _head(_rejected("unreadable", None, detail="file is 0 bytes"))
    assert head[6] == "Berkas tidak dapat dibaca: format berkas tidak dikenali"


# --- systemic causes: the rule (docs/feedback.md) ------------------------------------------


def _full(**cells) -> dict:
    """A penerima_bantuan row's original cells, every required one filled unless given."""
    row = {
        "periode": "2025-12", "kode_kabkota": "3578", "nik": NIK, "no_kk": NIK,
        "jenis_kelamin": "P", "tanggal_lahir": "1990-01-05", "kode_desa": "3578010001",
        "kode_program": "PKH", "status_salur": "SALUR", "nilai_bantuan": "750000",
        "tanggal_salur": "2025-12-03",
    }  # fmt: skip
    return row | cells


def _partial_penerima(total: int, rows: list[RowFacts]) -> FileFacts:
    return _penerima(status="PARTIAL", total=total, rejected=len(rows))


def _systemic(lines):
    return [line for line in lines if line[8] in ("scientific_notation", "empty_column",
                                                  "same_reason")]  # fmt: skip


def test_partial_file_one_date_format_in_every_rejected_row_is_said_once():
    # 15 of 100 rows rejected (below the 20 % threshold), all for a US date format
    cells = [_full(tanggal_lahir=f"12/{13 + i % 15}/1980") for i in range(15)]
    rows = _rows("penerima_bantuan", "invalid_date:tanggal_lahir", cells)
    lines, summary = district_lines("3578", "2025-12", [_partial_penerima(100, rows)], rows,
                                    [], True)  # fmt: skip
    (line,) = _systemic(lines)
    assert line[8] == "same_reason" and line[4] == "tanggal_lahir" and line[3] == ""
    assert line[2] == "DITERIMA SEBAGIAN"
    assert line[6] == (
        "Alasan penolakan yang sama pada semua 15 baris yang ditolak: Tanggal tidak valid "
        "pada kolom tanggal_lahir: 12/13/1980 (contoh: baris 2)"
    )
    assert "YYYY-MM-DD" in line[7] and "seluruh berkas" in line[7]
    # said once, at file level, right after the file line; every row line kept below it
    assert lines.index(line) == 1
    assert [x[3] for x in lines if x[3]] == list(range(2, 17))
    assert summary[1][:2] == ["penerima_bantuan.csv", "DITERIMA SEBAGIAN"]
    assert NIK not in json.dumps(lines)


def test_partial_file_cause_shared_by_at_least_90_percent_of_rejected_rows():
    cells = [_full(status_salur="TIDAK AKTIF")] * 20
    codes = ["unknown_code:status_salur"] * 18 + ["invalid_date:tanggal_lahir"] * 2
    rows = [
        RowFacts("penerima_bantuan", 1, n, code, json.dumps(c))
        for n, (code, c) in enumerate(zip(codes, cells, strict=True), start=2)
    ]
    lines, _ = district_lines("3578", "2025-12", [_partial_penerima(200, rows)], rows, [], True)
    (line,) = _systemic(lines)
    assert line[4] == "status_salur"
    assert "18 dari 20 baris yang ditolak" in line[6]
    assert "GAGAL, SALUR, TUNDA" in line[7]  # the row message's fix, allowed codes included


def test_a_mix_of_causes_is_not_collapsed():
    # 10 rejected rows: half a date, half a code; neither explains 90 % of them
    codes = ["invalid_date:tanggal_lahir", "unknown_code:status_salur"] * 5
    rows = [RowFacts("penerima_bantuan", 1, n, code, json.dumps(_full()))
            for n, code in enumerate(codes, start=2)]  # fmt: skip
    lines, _ = district_lines("3578", "2025-12", [_partial_penerima(100, rows)], rows, [], True)
    assert _systemic(lines) == []
    assert len([x for x in lines if x[3]]) == 10
    # 8 of 10 (80 %) share a cause: still below the 90 % share
    codes = ["invalid_date:tanggal_lahir"] * 8 + ["unknown_code:status_salur"] * 2
    rows = [RowFacts("penerima_bantuan", 1, n, code, json.dumps(_full()))
            for n, code in enumerate(codes, start=2)]  # fmt: skip
    lines, _ = district_lines("3578", "2025-12", [_partial_penerima(100, rows)], rows, [], True)
    assert _systemic(lines) == []


def test_two_rejected_rows_with_the_same_reason_are_no_systemic_cause():
    rows = _rows("penerima_bantuan", "invalid_date:tanggal_lahir",
                 [_full(tanggal_lahir="31.12.1980")] * 2)  # fmt: skip
    lines, _ = district_lines("3578", "2025-12", [_partial_penerima(100, rows)], rows, [], True)
    assert _systemic(lines) == []


def test_partial_file_column_empty_in_every_rejected_row():
    cells = [_full(kode_desa="")] * 6
    rows = _rows("penerima_bantuan", "missing_value:kode_desa", cells)
    lines, _ = district_lines("3578", "2025-12", [_partial_penerima(60, rows)], rows, [], True)
    (line,) = _systemic(lines)  # the empty column, not the same reason again
    assert line[8] == "empty_column" and line[4] == "kode_desa"
    assert line[6] == "Kolom kode_desa kosong pada semua 6 baris yang ditolak"


def test_partial_file_scientific_notation_is_said_once():
    cells = [_full(nik=f"3.5780{i}E+15") for i in range(3)]
    rows = _rows("penerima_bantuan", "invalid_nik", cells)
    lines, _ = district_lines("3578", "2025-12", [_partial_penerima(50, rows)], rows, [], True)
    (line,) = _systemic(lines)  # invalid_nik on the same column is not repeated
    assert line[8] == "scientific_notation" and line[4] == "nik" and "sebagai Teks" in line[7]
    assert "3.5780" not in json.dumps(lines)


def test_rejected_file_with_every_row_rejected_for_one_reason():
    cells = [
        {"periode": "2025-11", "kode_kabkota": "3578", "kode_psks": "PSKS01", "jumlah": "3"}
    ] * 4
    rows = _rows("psks", "period_mismatch", cells)
    file = FileFacts("psks", 1, "psks.csv", "REJECTED", "too_many_invalid_rows", None, 4, 0, 4,
                     params={"limit_pct": 20.0})  # fmt: skip
    lines, _ = district_lines("3578", "2025-12", [file], rows, [], False)
    (line,) = _systemic(lines)
    assert line[4] == "periode" and "semua 4 baris berkas" in line[6]
    assert "2025-11 tidak sama dengan folder pengiriman (2025-12)" in line[6]


def test_csv_has_bom_semicolons_and_the_xlsx_twin(tmp_path):
    from openpyxl import load_workbook

    lines, summary = district_lines("3578", "2025-12", [_penerima()], [], [], False)
    lines.append(["=cmd", "", "", "", "", "", "", "", "x"])
    path = write_csv(tmp_path / "umpan-balik-3578.csv", lines)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        read = list(csv.reader(handle, delimiter=DELIMITER))
    assert tuple(read[0]) == COLUMNS and read[-1][0] == "'=cmd"
    book = load_workbook(write_xlsx(tmp_path / "f.xlsx", lines, summary))
    assert book.sheetnames == ["Ringkasan", "Rincian"]
    assert book["Rincian"].freeze_panes == "A2"
    assert book["Rincian"].cell(row=len(lines) + 1, column=1).value == "'=cmd"
    # XlsxWriter stores Excel's width with its padding: 80 characters is 80.71
    assert abs(book["Rincian"].column_dimensions["G"].width - 80) < 1
    assert book["Rincian"]["A1"].font.bold
    # a cell that looks like a formula is stored as text
    plain = write_xlsx(tmp_path / "g.xlsx", [["=1+1", 2]], [])
    assert load_workbook(plain)["Rincian"]["A2"].data_type == "s"
    assert book["Rincian"].cell(row=2, column=2).value == 1  # numbers stay numbers


def _feedback_pieces(folder, districts=("3501", "3502", "3578")):
    rows = _rows("penerima_bantuan", "invalid_nik", [{"nik": NIK, "nama": "A"}] * 3)
    return [(d, (folder, d, "2025-12", [_penerima()], rows, [], False, [], [])) for d in districts]


def _write(pieces):
    from sinergi import reports

    lines = {district: 3 for district, _ in pieces}
    return reports._write_feedback_files(pieces, lines, reports._feedback_workers(pieces, lines))


def _sheets(path):
    from openpyxl import load_workbook

    book = load_workbook(path)
    return {sheet.title: [list(r) for r in sheet.iter_rows(values_only=True)] for sheet in book}


def test_feedback_written_in_worker_processes_equals_feedback_written_here(tmp_path, monkeypatch):
    from sinergi import reports, workers

    here, there = tmp_path / "here", tmp_path / "workers"
    here.mkdir()
    there.mkdir()
    monkeypatch.setenv(workers.PROCESSES_ENV, "0")
    assert _write(_feedback_pieces(here)) == (["3501", "3502", "3578"], [])
    monkeypatch.setenv(workers.PROCESSES_ENV, "2")
    monkeypatch.setattr(reports, "PARALLEL_MIN_LINES", 1)
    assert _write(_feedback_pieces(there)) == (
        ["3501", "3502", "3578"],
        [],
    )
    for district in ("3501", "3502", "3578"):
        name = f"umpan-balik-{district}"
        assert (there / f"{name}.csv").read_bytes() == (here / f"{name}.csv").read_bytes()
        assert _sheets(there / f"{name}.xlsx") == _sheets(here / f"{name}.xlsx")
        assert NIK not in (there / f"{name}.csv").read_text(encoding="utf-8-sig")


def test_a_feedback_file_that_cannot_be_written_is_named_and_the_others_are_written(
    tmp_path, monkeypatch
):
    from sinergi import reports, workers

    monkeypatch.setenv(workers.PROCESSES_ENV, "2")
    monkeypatch.setattr(reports, "PARALLEL_MIN_LINES", 1)
    pieces = _feedback_pieces(tmp_path, ("3501", "3578"))
    pieces += _feedback_pieces(tmp_path / "gone", ("3502",))
    written, failed = _write(pieces)
    assert written == ["3501", "3578"]
    assert len(failed) == 1 and failed[0].startswith("3502: FileNotFoundError")
    assert (tmp_path / "umpan-balik-3578.xlsx").is_file()


def test_the_site_is_rendered_here_while_workers_write_the_feedback(tmp_path, monkeypatch):
    """A province month's feedback goes to worker processes; meanwhile this process (the
    task's main thread) does the other work of ``publish`` and gets its result back."""
    import threading

    from sinergi import reports, workers

    monkeypatch.setenv(workers.PROCESSES_ENV, "2")
    monkeypatch.setattr(reports, "PARALLEL_MIN_LINES", 1)
    pieces = _feedback_pieces(tmp_path)
    lines = {district: 3 for district, _ in pieces}
    seen = []

    def meanwhile():
        seen.append(threading.current_thread() is threading.main_thread())
        seen.append(sorted(t.name.split("_")[0] for t in threading.enumerate()))
        return "site"

    written, failed, other = reports._feedback_alongside(pieces, lines, meanwhile)
    assert (written, failed, other) == (["3501", "3502", "3578"], [], "site")
    assert seen[0] is True and "feedback" in seen[1]  # the writer thread was running
    for district in ("3501", "3502", "3578"):
        assert (tmp_path / f"umpan-balik-{district}.csv").is_file()
    # a small month: written here, then the other work, in this thread
    monkeypatch.setattr(reports, "PARALLEL_MIN_LINES", 10**6)
    seen.clear()
    assert reports._feedback_alongside(pieces, lines, meanwhile)[2] == "site"
    assert seen[0] is True and "feedback" not in seen[1]
