"""The catalogue's option rules (SIM-6, SIM-7, SIM-14): every reason, and what is allowed."""

from __future__ import annotations

import pytest

from billing.catalogue.options import OPTIONS, TARIFF_OPTIONS, option_fee, options_of
from billing.catalogue.plans import BUILTIN
from billing.catalogue.rules import (
    FINANCIALLY_BLOCKED,
    LINE_TERMINATED,
    REASONS,
    SERVICE_NOT_ALLOWED_ON_TARIFF,
    SERVICE_REQUIRES_ANOTHER,
    UNKNOWN_TARIFF,
    LineFacts,
    Target,
    available_options,
    available_tariffs,
    check,
)
from simfleet_runtime.operation_params import SERVICES

TARIFFS = [t.code for t in BUILTIN]
BASIC = frozenset({"voice", "sms", "data"})


def line(
    services: set[str] | frozenset[str] = BASIC, *, tariff: str = "BIZ-S", state: str = "active", debt: bool = False
) -> LineFacts:
    return LineFacts(tariff_code=tariff, services=frozenset(services), state=state, financially_blocked=debt)


def target(tariff: str = "", connect: set[str] = set(), disconnect: set[str] = set()) -> Target:  # noqa: B006
    return Target(tariff_code=tariff, connect=frozenset(connect), disconnect=frozenset(disconnect))


def test_every_network_service_is_an_option_and_every_shipped_tariff_has_rules() -> None:
    assert set(OPTIONS) == set(SERVICES)
    assert {t.code for t in BUILTIN} == set(TARIFF_OPTIONS)
    for rules in TARIFF_OPTIONS.values():
        assert rules.included <= rules.allowed


def test_fees_are_nothing_where_the_tariff_includes_the_option() -> None:
    assert option_fee("BIZ-S", "international") == OPTIONS["international"].monthly_fee > 0
    assert option_fee("BIZ-S", "roaming") == OPTIONS["roaming"].monthly_fee > 0
    assert option_fee("BIZ-M", "roaming") == 0
    assert option_fee("BIZ-L", "international") == 0
    assert option_fee("BIZ-S", "voice") == 0
    assert option_fee("NEW-T", "international") == OPTIONS["international"].monthly_fee
    assert options_of("NEW-T").allowed == frozenset(SERVICES)


def test_a_plain_change_is_allowed() -> None:
    assert check(line(), target("BIZ-M"), TARIFFS).allowed
    assert check(line(), target(connect={"roaming", "international"}), TARIFFS).allowed
    assert check(line(), target(disconnect={"voice"}), TARIFFS).allowed


def test_a_terminated_line_takes_nothing() -> None:
    verdict = check(line(state="terminated"), target("BIZ-M"), TARIFFS)
    assert (verdict.allowed, verdict.reason) == (False, LINE_TERMINATED)


def test_an_unknown_tariff_is_refused() -> None:
    verdict = check(line(), target("GOLD"), TARIFFS)
    assert (verdict.allowed, verdict.reason) == (False, UNKNOWN_TARIFF)
    assert "GOLD" in verdict.message


def test_moving_to_iot_with_voice_is_refused_unless_the_request_disconnects_it() -> None:
    refused = check(line(), target("IOT-S"), TARIFFS)
    assert (refused.allowed, refused.reason) == (False, SERVICE_NOT_ALLOWED_ON_TARIFF)
    assert "voice" in refused.message and "disconnect" in refused.message
    assert check(line(), target("IOT-S", disconnect={"voice"}), TARIFFS).allowed
    assert check(line({"sms", "data"}), target("IOT-S"), TARIFFS).allowed


def test_connecting_what_the_tariff_does_not_allow_is_refused() -> None:
    on_iot = line({"sms", "data"}, tariff="IOT-S")
    for service in ("voice", "international"):
        verdict = check(on_iot, target(connect={service}), TARIFFS)
        assert (verdict.allowed, verdict.reason) == (False, SERVICE_NOT_ALLOWED_ON_TARIFF), service
        assert "IOT-S does not allow " + service == verdict.message
    assert check(on_iot, target(connect={"roaming"}), TARIFFS).allowed
    # A service the line had before is left alone: it does not stop other changes.
    assert check(line(BASIC, tariff="IOT-S"), target(connect={"roaming"}), TARIFFS).allowed
    assert check(line(BASIC, tariff="IOT-S"), target("IOT-S"), TARIFFS).allowed


def test_an_option_without_what_it_needs_is_refused() -> None:
    verdict = check(line({"data"}), target(connect={"international"}), TARIFFS)
    assert (verdict.allowed, verdict.reason) == (False, SERVICE_REQUIRES_ANOTHER)
    assert "international" in verdict.message
    # Taking away what an option stands on is refused the same way.
    verdict = check(line(BASIC | {"international"}), target(disconnect={"voice", "sms"}), TARIFFS)
    assert verdict.reason == SERVICE_REQUIRES_ANOTHER
    verdict = check(line({"data", "roaming"}), target(disconnect={"data"}), TARIFFS)
    assert verdict.reason == SERVICE_REQUIRES_ANOTHER
    # ...and connecting what it needs with it lets it through.
    assert check(line({"data"}), target(connect={"international", "sms"}), TARIFFS).allowed


@pytest.mark.parametrize("service", ["roaming", "international"])
def test_a_financially_blocked_line_may_not_connect_costly_options(service: str) -> None:
    verdict = check(line(debt=True), target(connect={service}), TARIFFS)
    assert (verdict.allowed, verdict.reason) == (False, FINANCIALLY_BLOCKED)


def test_a_financially_blocked_line_may_still_disconnect_and_change_tariff() -> None:
    blocked = line(BASIC | {"roaming"}, debt=True)
    assert check(blocked, target(disconnect={"roaming"}), TARIFFS).allowed
    assert check(blocked, target("BIZ-M"), TARIFFS).allowed
    assert check(blocked, target(connect={"roaming"}), TARIFFS).allowed  # already has it: nothing new


def test_every_reason_is_reached() -> None:
    seen = {
        check(line(state="terminated"), target(), TARIFFS).reason,
        check(line(), target("GOLD"), TARIFFS).reason,
        check(line(), target("IOT-S"), TARIFFS).reason,
        check(line({"data"}), target(connect={"international"}), TARIFFS).reason,
        check(line(debt=True), target(connect={"roaming"}), TARIFFS).reason,
    }
    assert seen == set(REASONS)


def test_what_a_line_may_take() -> None:
    assert available_tariffs(line(), TARIFFS) == ["BIZ-L", "BIZ-M"]
    assert available_tariffs(line({"sms", "data"}), TARIFFS) == ["BIZ-L", "BIZ-M", "IOT-S"]
    assert available_options(line({"sms", "data"}, tariff="IOT-S"), TARIFFS) == ["roaming"]
    assert available_options(line(debt=True), TARIFFS) == []
    assert available_options(line({"data"}), TARIFFS) == ["voice", "sms", "roaming"]
