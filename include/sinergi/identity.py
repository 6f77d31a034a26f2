"""NIK / No. KK validity (contract §4) and their pseudonymisation (contract §5.3).

A NIK is 16 digits: province (1-2), regency (3-4), sub-district (5-6), birth day (7-8, women
+40), birth month (9-10), birth year (11-12), serial (13-16). A No. KK has the same region
prefix and a serial in 13-16. The checks here are the contract's, nothing more: a NIK that
passes them may still not exist, which only Dukcapil can tell.

Pseudonymisation is keyed HMAC-SHA256 so that the same person gets the same key in every
month and district (needed for reach and cross-district duplicates) while nobody without the
key can recover or confirm a NIK by hashing candidates.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from sinergi.reference import nik_province_codes

_SIXTEEN_DIGITS = re.compile(r"^[0-9]{16}$")


def is_valid_nik(value: str) -> bool:
    """True when ``value`` satisfies the contract's NIK rule."""
    if not _SIXTEEN_DIGITS.match(value):
        return False
    if value[:2] not in nik_province_codes():
        return False
    day, month = int(value[6:8]), int(value[8:10])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        return False
    if not 1 <= month <= 12:
        return False
    return value[12:16] != "0000"


def is_valid_kk(value: str) -> bool:
    """True when ``value`` satisfies the contract's No. KK rule."""
    return (
        bool(_SIXTEEN_DIGITS.match(value))
        and value[:2] in nik_province_codes()
        and value[12:16] != "0000"
    )


def nik_birth_parts(nik: str) -> tuple[int, int, int, str]:
    """(day, month, two-digit year, sex 'L'/'P') encoded in a valid NIK."""
    day = int(nik[6:8])
    sex = "P" if day > 40 else "L"
    return (day - 40 if day > 40 else day), int(nik[8:10]), int(nik[10:12]), sex


def pseudonymise(value: str, key: bytes) -> str:
    """Keyed HMAC-SHA256 of an identifier, as 64 lowercase hex characters."""
    return pseudonymise_many([value], key)[0]


def pseudonymise_many(values: Iterable[str], key: bytes) -> list[str]:
    """Keyed HMAC-SHA256 (64 lowercase hex characters) of many identifiers, in order.

    A province month pseudonymises ~5 million identifiers, so this is HMAC (RFC 2104) spelled
    out on two pre-keyed SHA-256 states, ``H((K ^ opad) || H((K ^ ipad) || m))``: copying
    plain hash states is 1.6x faster than copying an ``hmac`` object per value (measured on
    300,000 NIKs), 3x faster than ``hmac.digest`` per value. The tests compare it with
    ``hmac.new`` for short, block-sized and long keys.
    """
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    out = []
    for value in values:
        digest = inner.copy()
        digest.update(value.encode("utf-8"))
        mac = outer.copy()
        mac.update(digest.digest())
        out.append(mac.hexdigest())
    return out
