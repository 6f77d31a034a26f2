"""Pseudonymisation of NIK / No. KK (contract §5.3).

Their validity rules (contract §4) are expectations in ``sinergi.suites`` (``nik_regex``,
``kk_regex``); the test oracle in ``tests/contract_oracle.py`` checks them independently.

Pseudonymisation is keyed HMAC-SHA256 so that the same person gets the same key in every
month and district (needed for reach and cross-district duplicates) while nobody without the
key can recover or confirm a NIK by hashing candidates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def pseudonymise(value: str, key: bytes) -> str:
    """Keyed HMAC-SHA256 of an identifier, as 64 lowercase hex characters."""
    return pseudonymise_many([value], key)[0]


def pseudonymise_many(values: Iterable[str], key: bytes) -> list[str]:
    """Keyed HMAC-SHA256 (64 lowercase hex characters) of many identifiers, in order.

    A province month pseudonymises ~5 million identifiers, so this is HMAC (RFC 2104) spelled
    out on two pre-keyed SHA-256 states, ``H((K ^ opad) || H((K ^ ipad) || m))``: copying
    plain hash states is cheaper than copying an ``hmac`` object or calling ``hmac.digest``
    per value (numbers in ``bench/results``). The tests compare it with
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
