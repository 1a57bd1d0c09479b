"""Whether a line may take a tariff or a change of its options (SIM-6, SIM-7, SIM-14): pure rules, one place.

A request names a target: a tariff to move to, and/or services to connect and
to disconnect. A line may take it unless one of these says no, checked in
this order (the first that applies is the answer):

- ``LINE_TERMINATED``: a terminated line takes nothing.
- ``UNKNOWN_TARIFF``: the tariff is not in the catalogue.
- ``SERVICE_NOT_ALLOWED_ON_TARIFF``: on a tariff change, the line would keep
  or get a service the new tariff does not allow (disconnecting it in the
  same request lets the change through); without one, it would connect a
  service its tariff does not allow (one it already has is left alone).
- ``SERVICE_REQUIRES_ANOTHER``: the line would have a service without one of
  the services it needs (international without voice and SMS; roaming with
  neither voice, SMS nor data), e.g. disconnecting voice and SMS while
  international stays.
- ``FINANCIALLY_BLOCKED``: a line under a financial block (its personal
  account is below its floor) may not connect roaming or international: both
  run up costs the account cannot pay. Disconnecting, and changing tariff,
  stay allowed.

Asking for what the line already has is allowed (the operation then skips
the line as having nothing to change).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from billing.catalogue.options import INTERNATIONAL, OPTION_CODES, OPTIONS, ROAMING, options_of

TERMINATED: Final = "terminated"

LINE_TERMINATED: Final = "LINE_TERMINATED"
UNKNOWN_TARIFF: Final = "UNKNOWN_TARIFF"
SERVICE_NOT_ALLOWED_ON_TARIFF: Final = "SERVICE_NOT_ALLOWED_ON_TARIFF"
SERVICE_REQUIRES_ANOTHER: Final = "SERVICE_REQUIRES_ANOTHER"
FINANCIALLY_BLOCKED: Final = "FINANCIALLY_BLOCKED"
REASONS: Final = (
    LINE_TERMINATED,
    UNKNOWN_TARIFF,
    SERVICE_NOT_ALLOWED_ON_TARIFF,
    SERVICE_REQUIRES_ANOTHER,
    FINANCIALLY_BLOCKED,
)

COSTLY_ABROAD: Final = frozenset({ROAMING, INTERNATIONAL})
"""What a financially blocked line may not connect."""


@dataclass(frozen=True, slots=True)
class LineFacts:
    """What the rules need of a line."""

    tariff_code: str
    services: frozenset[str]
    state: str
    financially_blocked: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    """What is asked: a tariff ("" keeps the line's), services to connect and to disconnect."""

    tariff_code: str = ""
    connect: frozenset[str] = field(default_factory=frozenset)
    disconnect: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    reason: str = ""
    message: str = ""


ALLOWED: Final = Verdict(True)


def _names(codes: Iterable[str]) -> str:
    return ", ".join(code for code in OPTION_CODES if code in set(codes))


def check(line: LineFacts, target: Target, tariffs: Iterable[str]) -> Verdict:
    """May ``line`` take ``target``? ``tariffs`` are the codes the catalogue has in force."""
    if line.state == TERMINATED:
        return Verdict(False, LINE_TERMINATED, "the line is terminated")
    tariff = target.tariff_code or line.tariff_code
    if target.tariff_code and target.tariff_code not in set(tariffs):
        return Verdict(False, UNKNOWN_TARIFF, f"the catalogue has no tariff {target.tariff_code}")
    after = (line.services | target.connect) - target.disconnect
    # A tariff change answers for everything the line would have; otherwise what it connects (a service the line
    # already had before its tariff stopped allowing it is kept until it is disconnected).
    judged = after if target.tariff_code and target.tariff_code != line.tariff_code else target.connect - line.services
    not_allowed = judged - options_of(tariff).allowed
    if not_allowed:
        connected = not_allowed & target.connect
        if connected:
            message = f"{tariff} does not allow {_names(connected)}"
        else:
            message = (
                f"{tariff} does not allow {_names(not_allowed)}, which the line has: disconnect it in the same request"
            )
        return Verdict(False, SERVICE_NOT_ALLOWED_ON_TARIFF, message)
    for code in OPTION_CODES:
        needs = OPTIONS[code].requires_any
        if code in after and needs and not after & set(needs):
            return Verdict(False, SERVICE_REQUIRES_ANOTHER, f"{code} needs one of {_names(needs)} connected with it")
    costly = (target.connect - line.services) & COSTLY_ABROAD
    if line.financially_blocked and costly:
        return Verdict(
            False,
            FINANCIALLY_BLOCKED,
            f"the line is blocked for its account's debt: {_names(costly)} cannot be connected until it is paid",
        )
    return ALLOWED


def available_tariffs(line: LineFacts, tariffs: Iterable[str]) -> list[str]:
    """The tariffs ``line`` may move to as it is (without changing its services), its own excluded."""
    codes = sorted(set(tariffs))
    return [code for code in codes if code != line.tariff_code and check(line, Target(tariff_code=code), codes).allowed]


def available_options(line: LineFacts, tariffs: Iterable[str]) -> list[str]:
    """The options ``line`` may connect as it is (on its tariff), those it has excluded."""
    codes = list(tariffs)
    return [
        code
        for code in OPTION_CODES
        if code not in line.services and check(line, Target(connect=frozenset({code})), codes).allowed
    ]
