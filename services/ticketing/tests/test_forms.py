"""The forms library (TK-3): the catalogue, the checks, and forms filled in over a real channel and read back."""

from __future__ import annotations

import io

import grpc
import pdfplumber
import pytest

from simfleet.accounts.v1 import hierarchy_pb2
from simfleet.ticketing.v1 import forms_pb2
from simfleet_runtime.authz import Grant
from simfleet_runtime.errors import InvalidArgument, NotFound
from ticketing.forms import catalogue as cat
from ticketing.forms.service import check

from .conftest import READER, Directory, Running, failure  # type: ignore[import-not-found]


def pdf_text(content: bytes) -> str:
    with pdfplumber.open(io.BytesIO(content)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_every_form_speaks_every_language_and_its_choices_have_labels() -> None:
    for form in cat.FORMS.values():
        texts = [form.title, form.description, form.declaration, *(f.label for f in form.fields)]
        for text in texts:
            assert set(text) == set(cat.LANGUAGES) and all(text.values()), (form.code, text)
        keys = [f.key for f in form.fields]
        assert len(keys) == len(set(keys)), form.code
        assert all(f.source in (*cat.SOURCES, cat.INPUT) for f in form.fields)
        for field in form.fields:
            for choice in field.choices:
                assert set(cat.CHOICE_LABELS[choice]) == set(cat.LANGUAGES), choice
    assert {"sim_replacement", "number_transfer", "contract_details_change"} <= set(cat.FORMS)


def test_a_bad_request_names_every_bad_part_at_once() -> None:
    with pytest.raises(NotFound) as unknown:
        check("praise", language="en", msisdns=[], fields={})
    assert unknown.value.reason == "FORM_NOT_FOUND"
    with pytest.raises(InvalidArgument) as refused:
        check(
            "sim_replacement",
            language="de",
            msisdns=["+79160000001", "79160000002"],
            fields={
                "reason": "bored",
                "delivery_address": "x" * 301,
                "company": "Someone Else LLC",  # filled by SIMfleet, not typed
                "../etc/passwd": "x",
                "tax_number": "77\x0012",
            },
        )
    assert refused.value.reason == "INVALID_FORM"
    assert set(refused.value.field_violations) == {
        "language",
        "msisdns.1",
        "fields.reason",
        "fields.delivery_address",
        "fields.company",
        "fields.../etc/passwd",
        "fields.tax_number",
    }
    assert check("sim_replacement", language="", msisdns=[], fields={}).msisdns == ()  # written by hand
    with pytest.raises(InvalidArgument) as too_many:
        check("sim_replacement", language="", msisdns=[f"+7916{i:07d}" for i in range(101)], fields={})
    assert set(too_many.value.field_violations) == {"msisdns"}
    with pytest.raises(InvalidArgument) as not_about_lines:
        check("contract_details_change", language="", msisdns=["+79160000001"], fields={})
    assert set(not_about_lines.value.field_violations) == {"msisdns"}
    fine = check("sim_replacement", language="fa", msisdns=["+79160000001", "+79160000001 "], fields={"reason": "lost"})
    assert (fine.language, fine.msisdns, fine.inputs) == ("en", ("+79160000001",), {"reason": "lost"})


def given_tree(running: Running, directory: Directory) -> None:
    directory.nodes[running.company] = hierarchy_pb2.Node(
        id=running.company, name="Romashka LLC", path=f"/{running.company}/"
    )
    directory.nodes[running.branch] = hierarchy_pb2.Node(
        id=running.branch,
        name="Sales, Moscow",
        account_number="4200000123",
        path=f"/{running.company}/{running.branch}/",
    )


async def test_the_catalogue_in_a_language(running: Running) -> None:
    listed = await running.forms.ListForms(forms_pb2.ListFormsRequest(language="ru"), metadata=running.manager())
    assert listed.language == "ru"
    replacement = next(f for f in listed.forms if f.code == "sim_replacement")
    assert replacement.title == "Заявление на замену SIM-карты" and replacement.needs_lines
    reason = next(f for f in replacement.fields if f.key == "reason")
    assert (reason.source, list(reason.choices), reason.max_length) == (
        "input",
        ["lost", "stolen", "damaged", "format"],
        300,
    )
    assert next(f for f in replacement.fields if f.key == "company").source == "company"
    english = await running.forms.ListForms(forms_pb2.ListFormsRequest(language="fa"), metadata=running.manager())
    assert english.language == "en"
    code, reason_code, fields, _ = await failure(
        running.forms.ListForms(forms_pb2.ListFormsRequest(language="xx"), metadata=running.manager())
    )
    assert (code, reason_code, set(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FORM", {"language"})


async def test_a_form_filled_in_with_what_simfleet_knows_and_what_was_typed(
    running: Running, directory: Directory
) -> None:
    given_tree(running, directory)
    manager = running.manager()
    answer = await running.forms.FillForm(
        forms_pb2.FillFormRequest(
            code="sim_replacement",
            node_id=running.branch,
            msisdns=["+79160000001", "+79160000002"],
            fields={"reason": "stolen", "delivery_address": "Tverskaya 1, Moscow"},
            language="ru",
        ),
        metadata=manager,
    )
    assert answer.content_type == "application/pdf" and answer.content.startswith(b"%PDF-")
    assert answer.filename.startswith("sim_replacement-") and answer.filename.endswith(".pdf")
    text = pdf_text(answer.content)
    for expected in (
        "Заявление на замену SIM-карты",
        "Romashka LLC",
        "Sales, Moscow",
        "4200000123",
        "+79160000001, +79160000002",
        "украдена",  # the choice, in the form's language
        "Tverskaya 1, Moscow",
        "Anna Smirnova",
        "anna@example.com",
    ):
        assert expected in text, expected
    # accounts and identity were asked with the caller's own token, never another.
    assert directory.tokens and set(directory.tokens) == {dict(manager)["authorization"]}


async def test_only_a_writer_in_scope_fills_a_form_and_a_missing_account_fills_nothing(
    running: Running, directory: Directory
) -> None:
    given_tree(running, directory)
    request = forms_pb2.FillFormRequest(code="number_transfer", node_id=running.branch, msisdns=["+79160000001"])
    elsewhere = running.bearer(Grant(running.other_branch, frozenset({"tickets:read", "tickets:write"})))
    code, *_ = await failure(running.forms.FillForm(request, metadata=elsewhere))
    assert code == grpc.StatusCode.NOT_FOUND
    reader = running.bearer(Grant(running.company, READER))
    code, *_ = await failure(running.forms.FillForm(request, metadata=reader))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    other_customer = running.bearer(Grant(running.branch, READER), customer_id="another-customer")
    code, *_ = await failure(running.forms.FillForm(request, metadata=other_customer))
    assert code == grpc.StatusCode.NOT_FOUND
    assert directory.tokens == []  # refused before anyone was asked

    code, reason, *_ = await failure(
        running.forms.FillForm(
            forms_pb2.FillFormRequest(code="nope", node_id=running.branch), metadata=running.manager()
        )
    )
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "FORM_NOT_FOUND")

    directory.nodes.pop(running.branch)  # accounts does not show it (any more)
    code, *_ = await failure(running.forms.FillForm(request, metadata=running.manager()))
    assert code == grpc.StatusCode.NOT_FOUND
    directory.unavailable = True
    code, reason, *_ = await failure(running.forms.FillForm(request, metadata=running.manager()))
    assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "ACCOUNTS_UNAVAILABLE")


async def test_a_user_scoped_below_the_company_gets_a_blank_company_line(
    running: Running, directory: Directory
) -> None:
    given_tree(running, directory)
    directory.nodes.pop(running.company)  # not shown to a user whose scope is the branch
    writer = running.bearer(Grant(running.branch, frozenset({"tickets:read", "tickets:write"})))
    answer = await running.forms.FillForm(
        forms_pb2.FillFormRequest(code="contract_details_change", node_id=running.branch, language="en"),
        metadata=writer,
    )
    text = pdf_text(answer.content)
    assert "Application to change the contract's details" in text
    assert "Sales, Moscow" in text and "Romashka LLC" not in text
