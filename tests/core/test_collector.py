"""The cyclic garbage collector is paused for a block and left as it was found."""

from __future__ import annotations

import gc

import pytest

from okrbridge.collector import collector_paused


def test_the_collector_is_off_inside_the_block_and_on_again_after_it_even_after_an_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
