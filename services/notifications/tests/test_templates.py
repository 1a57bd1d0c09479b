"""The message catalogues: every kind in English, Russian and Persian, one event and a summary."""

from __future__ import annotations

import re

import pytest

from notifications.catalogue import KINDS, LANGUAGES
from notifications.templates import VALUES, catalogue, render

SAMPLE = {
    "when": "2026-12-07 10:00 UTC",
    "address": "198.51.100.7",
    "type": "block",
    "total": 120,
    "succeeded": 118,
    "failed": 2,
    "period": "2026-12",
    "spent": "1000.00",
    "amount": "1000.00",
    "currency": "RUB",
    "balance": "-3.50",
    "number": "T-2026-000123",
    "state": "inProgress",
}
SCRIPT = {
    "en": re.compile(r"[A-Za-z]{4}"),
    "ru": re.compile(r"[\u0400-\u04FF]{4}"),
    "fa": re.compile(r"[\u0600-\u06FF]{4}"),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_has_its_texts_in_every_language(language: str) -> None:
    texts = catalogue(language)
    assert set(KINDS) <= texts.keys()
    for kind in KINDS:
        one = render(kind, language, SAMPLE)
        many = render(kind, language, SAMPLE, count=37)
        assert SCRIPT[language].search(one.text), (kind, one.text)
        assert one.text != many.text and one.subject != many.subject
        assert "37" in many.text and "37" in many.subject
        assert "{" not in one.text + many.text + one.subject + many.subject


def test_values_reach_the_text_and_states_are_in_the_users_words() -> None:
    assert "T-2026-000123" in render("ticket_reply", "fa", SAMPLE).text
    assert "в работе" in render("ticket_state_changed", "ru", SAMPLE).text
    assert "in progress" in render("ticket_state_changed", "en", SAMPLE).text
    signed = render("sign_in", "en", SAMPLE).text
    assert "2026-12-07 10:00 UTC" in signed and "198.51.100.7" in signed
    assert "from" not in render("sign_in", "en", {**SAMPLE, "address": ""}).text
    assert "118" in render("operation_finished", "ru", SAMPLE).text
    assert "блокировка" in render("operation_finished", "ru", SAMPLE).text
    assert "تغییر تعرفه" in render("tariff_changed", "fa", {**SAMPLE, "type": "change_tariff"}).text
    assert "operation teleport" in render("operation_failed", "en", {**SAMPLE, "type": "teleport"}).text


def test_every_operation_type_is_named_in_every_language() -> None:
    names = [set(catalogue(language)["operation_types"]) for language in LANGUAGES]
    assert names[0] == names[1] == names[2] and {"block", "change_tariff", "set_services", "send_sms"} <= names[0]


def test_an_unknown_language_falls_back_to_english() -> None:
    assert render("ticket_reply", "xx", SAMPLE).text == render("ticket_reply", "en", SAMPLE).text


def test_texts_name_only_what_events_carry() -> None:
    assert set(VALUES) == set(KINDS)
