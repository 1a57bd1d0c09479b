"""The collector's settings a service runs with."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from simfleet_runtime.gctune import tune_gc


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restore_gc")
def test_what_exists_is_frozen_and_young_objects_wait_longer() -> None:
    gc.unfreeze()
    _, gen1, gen2 = gc.get_threshold()
    tune_gc(25_000)
    assert gc.get_threshold() == (25_000, gen1, gen2)
    assert gc.get_freeze_count() > 1000  # at least the modules' objects
