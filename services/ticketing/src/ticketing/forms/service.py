"""Filling a form: the request checked whole, the known details asked for, the PDF written off the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from simfleet_runtime.clock import Clock
from simfleet_runtime.errors import NotFound
from simfleet_runtime.validation import is_e164
from ticketing.forms import catalogue as cat
from ticketing.forms.accounts_client import NodeFacts
from ticketing.forms.identity_client import Applicant
from ticketing.forms.render import Filled, render
from ticketing.tickets.validation import Problems, text

MAX_LINES = 100
FORM_LANGUAGES = (*cat.LANGUAGES, "fa")
"""What a caller may ask for; ``fa`` is written in English (see :data:`catalogue.LANGUAGES`)."""


class Nodes(Protocol):
    async def node(self, node_id: str) -> NodeFacts | None: ...


class Applicants(Protocol):
    async def me(self) -> Applicant: ...


@dataclass(frozen=True)
class Request:
    """A form request as checked: its form, the numbers (normalised, each once) and the typed values."""

    form: cat.Form
    language: str
    msisdns: tuple[str, ...]
    inputs: dict[str, str]


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    content_type: str = "application/pdf"


def form(code: str) -> cat.Form:
    found = cat.FORMS.get(code)
    if found is None:
        raise NotFound("no such form", reason="FORM_NOT_FOUND")
    return found


def _language(language: str, problems: Problems) -> None:
    if language and language not in FORM_LANGUAGES:
        problems.add("language", f"one of {', '.join(FORM_LANGUAGES)}")


def check_language(language: str) -> None:
    problems = Problems(reason="INVALID_FORM")
    _language(language, problems)
    problems.raise_any("the language is not one the forms are in")


def check(code: str, *, language: str, msisdns: Sequence[str], fields: Mapping[str, str]) -> Request:
    """Every bad part named at once (``INVALID_FORM``); an unknown form is NOT_FOUND."""
    chosen = form(code)
    problems = Problems(reason="INVALID_FORM")
    _language(language, problems)
    numbers = list(dict.fromkeys(m.strip() for m in msisdns))
    # A form about numbers given none has a blank to write them on; one not about numbers takes none.
    if not chosen.needs_lines and numbers:
        problems.add("msisdns", "this form is not about numbers: leave them out")
    elif len(numbers) > MAX_LINES:
        problems.add("msisdns", f"at most {MAX_LINES} numbers (got {len(numbers)})")
    for index, number in enumerate(numbers[:MAX_LINES]):
        if not is_e164(number):
            problems.add(f"msisdns.{index}", "an E.164 number, like +79161234567")
    inputs: dict[str, str] = {}
    for key, value in fields.items():
        field = chosen.field(key)
        if field is None or field.source != cat.INPUT:
            typed = ", ".join(f.key for f in chosen.inputs)
            problems.add(f"fields.{key[:64]}", f"not a field this form takes (it takes {typed})")
            continue
        kept = text(value, field=f"fields.{key}", maximum=field.max_length, problems=problems, multiline=False)
        if kept and field.choices and kept not in field.choices:
            problems.add(f"fields.{key}", f"one of {', '.join(field.choices)}")
        if kept:
            inputs[key] = kept
    problems.raise_any("the form cannot be filled in")
    return Request(chosen, cat.language(language), tuple(numbers), inputs)


class Forms:
    def __init__(self, *, nodes: Nodes, applicants: Applicants, clock: Clock) -> None:
        self._nodes = nodes
        self._applicants = applicants
        self._clock = clock

    async def fill(self, request: Request, *, node_id: str) -> Document:
        """The form filled in for ``node_id`` (already checked to be in the caller's scope)."""
        node, applicant = await asyncio.gather(self._nodes.node(node_id), self._applicants.me())
        if node is None:
            raise NotFound("no such node", reason="NOT_FOUND")
        company = node if node.root_id == node_id else await self._nodes.node(node.root_id)
        now = self._clock.now()
        known = {
            cat.COMPANY: company.name if company else "",
            cat.ACCOUNT_NAME: node.name,
            cat.ACCOUNT_NUMBER: node.account_number,
            cat.APPLICANT_NAME: applicant.name,
            cat.APPLICANT_PHONE: applicant.phone,
            cat.APPLICANT_EMAIL: applicant.email,
            cat.TODAY: f"{now:%Y-%m-%d}",
        }
        values = {
            field.key: request.inputs.get(field.key, "") if field.source == cat.INPUT else known.get(field.source, "")
            for field in request.form.fields
        }
        filled = Filled(request.form, request.language, values, request.msisdns, now)
        # Writing a PDF takes tens of milliseconds of CPU: not on the loop that answers everyone else.
        content = await asyncio.to_thread(render, filled)
        return Document(filename=f"{request.form.code}-{now:%Y%m%d}.pdf", content=content)
