"""Notices' text from the message catalogues (``messages/<language>.json``), in the user's language.

Every kind has four texts: ``one`` (a notice of one event), ``many`` (the
summary of a burst, with ``{count}`` and the last event's values),
``subject_one`` and ``subject_many`` (the email's subject). Values come from
the event (:mod:`notifications.notices.intake`); the catalogue decides the
words, the code never does. A catalogue missing a text or naming a value the
events do not carry fails at load (a test loads all three).
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from notifications.catalogue import DEFAULT_LANGUAGE, KINDS, LANGUAGES, SIGN_IN, TICKET_STATE_CHANGED

MESSAGES = Path(__file__).resolve().parent / "messages"
TEXTS = ("one", "many", "subject_one", "subject_many")

VALUES: Mapping[str, frozenset[str]] = {
    "sign_in": frozenset({"when", "where"}),
    "operation_finished": frozenset({"type", "total", "succeeded", "failed"}),
    "operation_failed": frozenset({"type", "total", "succeeded", "failed"}),
    "tariff_changed": frozenset({"type", "total", "succeeded"}),
    "limit_reached": frozenset({"period", "spent", "amount", "currency"}),
    "balance_low": frozenset({"balance", "currency"}),
    "payment_received": frozenset({"amount", "balance", "currency"}),
    "ticket_reply": frozenset({"number"}),
    "ticket_state_changed": frozenset({"number", "state"}),
}
"""What each kind's texts may name (besides ``count`` in the summaries)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@cache
def catalogue(language: str) -> dict[str, Any]:
    """One language's catalogue, checked: every kind's four texts, naming only what the events carry."""
    data: dict[str, Any] = json.loads((MESSAGES / f"{language}.json").read_text(encoding="utf-8"))
    for kind in KINDS:
        texts = data.get(kind)
        if not isinstance(texts, dict):
            raise ValueError(f"messages/{language}.json has no texts for {kind}")
        for name in TEXTS:
            if not isinstance(texts.get(name), str):
                raise ValueError(f"messages/{language}.json: {kind}.{name} is missing")
            allowed = VALUES[kind] | ({"count"} if name.endswith("many") else set())
            unknown = _fields(texts[name]) - allowed
            if unknown:
                raise ValueError(f"messages/{language}.json: {kind}.{name} names {sorted(unknown)}")
    if not isinstance(data.get(SIGN_IN, {}).get("where"), str):
        raise ValueError(f"messages/{language}.json: sign_in.where is missing")
    return data


def render(kind: str, language: str, values: Mapping[str, Any], *, count: int = 1) -> Rendered:
    """The notice of ``count`` events of ``kind`` (the values of the last one) in ``language``."""
    texts = catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    words = dict(_localised(kind, texts, values))
    words["count"] = count
    one = count <= 1
    return Rendered(
        subject=texts[kind]["subject_one" if one else "subject_many"].format_map(words),
        text=texts[kind]["one" if one else "many"].format_map(words),
    )


def _localised(kind: str, texts: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    words = {name: values.get(name, "") for name in VALUES[kind]}
    if kind == SIGN_IN:
        address = str(values.get("address", ""))
        words["where"] = texts[SIGN_IN]["where"].format(address=address) if address else ""
    if kind == TICKET_STATE_CHANGED:
        state = str(values.get("state", ""))
        words["state"] = texts.get("states", {}).get(state, state)
    if "type" in words:  # an operation's type in the user's words (a type the catalogue lacks: as inventory names it)
        op_type = str(values.get("type", ""))
        words["type"] = texts.get("operation_types", {}).get(op_type, op_type)
    return words
