"""Where a subscriber's handset is (SIM-10): a slow, deterministic walk around Moscow's centre.

Each number has a home point within 8 km of the centre and walks an ellipse of
0.5 to 2 km around it, once every 1.5 to 4 hours (at most about 2.3 m/s: a
walk). Everything follows from the number and the time, so the same question
gets the same answer and tests can reason about it. The serving cell is the
600 m square of a grid the position falls in (its location area a block of
8 by 8 cells); the accuracy is the cell's, 200 to 599 m.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime

CENTRE_LATITUDE = 55.7539
CENTRE_LONGITUDE = 37.6208
MCC_MNC = "250-01"
CELL_METRES = 600.0
CELLS_PER_AREA = 8
GRID_ORIGIN_METRES = 20_000.0  # the grid starts this far south-west of the centre
METRES_PER_DEGREE = 111_320.0
HOME_RADIUS_METRES = 8_000.0


@dataclass(frozen=True)
class Location:
    msisdn: str
    cell_id: str
    latitude: float
    longitude: float
    accuracy_m: int
    observed_at: datetime


def _draws(msisdn: str) -> list[float]:
    """Five numbers in [0, 1) that belong to the number."""
    digest = hashlib.sha256(f"simfleet-location:{msisdn}".encode()).digest()
    return [int.from_bytes(digest[i * 4 : i * 4 + 4], "big") / 2**32 for i in range(5)]


def offset_metres(msisdn: str, at: datetime) -> tuple[float, float]:
    """(east, north) of the handset from the centre, in metres."""
    home, home_angle, walk, period_share, phase = _draws(msisdn)
    home_radius = HOME_RADIUS_METRES * math.sqrt(home)
    walk_radius = 500.0 + 1500.0 * walk
    period = 3600.0 * (1.5 + 2.5 * period_share)
    angle = 2 * math.pi * (phase + at.timestamp() / period)
    east = home_radius * math.cos(2 * math.pi * home_angle) + walk_radius * math.cos(angle)
    north = home_radius * math.sin(2 * math.pi * home_angle) + 0.6 * walk_radius * math.sin(angle)
    return east, north


def locate(msisdn: str, at: datetime) -> Location:
    east, north = offset_metres(msisdn, at)
    latitude = CENTRE_LATITUDE + north / METRES_PER_DEGREE
    longitude = CENTRE_LONGITUDE + east / (METRES_PER_DEGREE * math.cos(math.radians(CENTRE_LATITUDE)))
    column = int((east + GRID_ORIGIN_METRES) // CELL_METRES)
    row = int((north + GRID_ORIGIN_METRES) // CELL_METRES)
    lac = 7700 + (row // CELLS_PER_AREA) * 10 + column // CELLS_PER_AREA
    cell = 10_000 + row * 100 + column
    return Location(
        msisdn=msisdn,
        cell_id=f"{MCC_MNC}-{lac}-{cell}",
        latitude=round(latitude, 6),
        longitude=round(longitude, 6),
        accuracy_m=200 + (cell * 37) % 400,
        observed_at=at,
    )
