"""The garbage-collector settings of server processes."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bizosaas.kit.memory import tune_for_server


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restore_gc")
def test_server_tuning_raises_the_young_threshold_and_freezes_startup_objects() -> None:
    gc.unfreeze()
    tune_for_server(20_000)
    assert gc.get_threshold()[0] == 20_000
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("restore_gc")
def test_zero_keeps_pythons_own_thresholds() -> None:
    before = gc.get_threshold()
    tune_for_server(0)
    assert gc.get_threshold() == before
