"""Environment changes last only as long as their block (``sinergi.environment``)."""

from __future__ import annotations

import os

import pytest

from sinergi.environment import scoped_environment


def test_values_set_cleared_and_restored(monkeypatch):
    monkeypatch.setenv("SINERGI_T_KEEP", "before")
    monkeypatch.setenv("SINERGI_T_CLEAR", "x")
    monkeypatch.delenv("SINERGI_T_NEW", raising=False)
    with scoped_environment(
        {"SINERGI_T_NEW": "1", "SINERGI_T_KEEP": "inside"}, clear=["SINERGI_T_CLEAR"]
    ):
        assert os.environ["SINERGI_T_NEW"] == "1" and os.environ["SINERGI_T_KEEP"] == "inside"
        assert "SINERGI_T_CLEAR" not in os.environ
    assert os.environ["SINERGI_T_KEEP"] == "before" and os.environ["SINERGI_T_CLEAR"] == "x"
    assert "SINERGI_T_NEW" not in os.environ


def test_names_set_by_someone_else_inside_are_put_back_even_on_error(monkeypatch):
    monkeypatch.delenv("SINERGI_T_LEAK", raising=False)
    with pytest.raises(RuntimeError), scoped_environment(restore=["SINERGI_T_LEAK"]):
        os.environ["SINERGI_T_LEAK"] = "postgresql://u:p@h/d"  # as cosmos does
        raise RuntimeError
    assert "SINERGI_T_LEAK" not in os.environ
