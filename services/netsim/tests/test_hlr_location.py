"""Handset locations (SIM-10): deterministic, inside the city, moving at a walking pace."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from netsim.hlr.location import CENTRE_LATITUDE, CENTRE_LONGITUDE, locate, offset_metres

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NUMBERS = [f"+7999000{n:04d}" for n in range(40)]


def test_the_same_number_and_time_give_the_same_answer() -> None:
    assert locate("+79990000001", START) == locate("+79990000001", START)
    assert locate("+79990000001", START) != locate("+79990000002", START)


def test_handsets_stay_in_the_city_and_walk_slowly() -> None:
    for number in NUMBERS:
        previous = offset_metres(number, START)
        for minute in range(1, 240, 7):
            east, north = offset_metres(number, START + timedelta(minutes=minute))
            assert math.hypot(east, north) < 10_500, "within about 10 km of the centre"
            step = math.hypot(east - previous[0], north - previous[1])
            assert step <= 2.4 * 7 * 60, f"{number} moved {step:.0f} m in 7 minutes"
            previous = (east, north)


def test_a_handset_moves_over_an_hour_and_changes_cells_now_and_then() -> None:
    cells: set[str] = set()
    moved = []
    for number in NUMBERS[:10]:
        first = locate(number, START)
        later = locate(number, START + timedelta(hours=1))
        moved.append(math.hypot(later.latitude - first.latitude, later.longitude - first.longitude))
        cells |= {locate(number, START + timedelta(minutes=m)).cell_id for m in range(0, 120, 5)}
    assert all(d > 0.001 for d in moved)  # every one of them went somewhere (> ~100 m)
    assert len(cells) > 20


def test_the_answer_looks_like_a_serving_cell_of_the_home_network() -> None:
    for number in NUMBERS:
        where = locate(number, START)
        assert re.match(r"^250-01-\d{4}-\d{5}$", where.cell_id), where.cell_id
        assert 200 <= where.accuracy_m < 600
        assert abs(where.latitude - CENTRE_LATITUDE) < 0.1
        assert abs(where.longitude - CENTRE_LONGITUDE) < 0.17
        assert where.observed_at == START
        assert where.msisdn == number
