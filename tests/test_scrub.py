"""Identifiers are hidden by shape wherever they appear; names cannot forge log lines."""

import re

from sinergi.scrub import printable, scrub_identifiers


def test_sixteen_digits_anywhere_are_hidden():
    assert (
        scrub_identifiers("jenis_kelamin ['3521011007200771']") == "jenis_kelamin ['<16 digits>']"
    )
    assert scrub_identifiers("3578014501900001x") == "<16 digits>x"
    assert scrub_identifiers("a 35780145019000011 b") == "a <17 digits> b"
    assert scrub_identifiers("\uff13" * 16) == "<16 digits>"


def test_shorter_numbers_are_kept():
    assert (
        scrub_identifiers("row 123456789012345, 3.52301E+15") == "row 123456789012345, 3.52301E+15"
    )


def test_printable_escapes_newlines_and_scrubs():
    assert printable("x\nINFO forged 3578014501900001") == "x\\nINFO forged <16 digits>"
    assert len(printable("a" * 500, limit=50)) == 50


def test_digests_kept_in_the_reports_never_read_as_an_identifier():
    from sinergi.scrub import lettered

    spelled = lettered("0123456789abcdef" * 4)
    assert spelled == "ghijklmnopabcdef" * 4
    assert not re.search(r"\d", spelled)
