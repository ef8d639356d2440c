"""Prefect's private parts we rely on are where ``prefect_api.internals`` says, in the installed Prefect."""

from __future__ import annotations

import pytest

from resolwe_prefect.execution.prefect_api import internals


def test_every_internal_we_use_is_still_there():
    assert internals.moved() == [], "\n".join(internals.moved())


def test_a_moved_internal_fails_loudly_with_its_name(monkeypatch):
    monkeypatch.setitem(internals.INTERNALS, "gone", ("prefect.flow_engine", "no_such_attribute"))
    with pytest.raises(internals.PrefectInternalsMoved, match=r"prefect\.flow_engine\.no_such_attribute.*'gone'"):
        internals.internal("gone")
    assert any("no_such_attribute" in problem for problem in internals.moved())


@pytest.mark.parametrize("name", sorted(internals.INTERNALS))
def test_patched_attributes_keep_their_shape(name):
    """The attributes we replace or call still have the form our code expects."""
    value = internals.internal(name)
    if name == "AioSqliteConfiguration":
        assert callable(getattr(value, "begin_transaction", None))
    else:
        assert callable(value)
