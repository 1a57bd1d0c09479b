"""/v1/forms on a scripted ticketing: the catalogue as answered, a filled form as a PDF download, bad bodies as
422s that never reach ticketing, ticketing's refusals as problems.

What a form holds and who may fill it is ticketing's decision (services/ticketing/tests/test_forms.py); the
routes end to end are in tests/e2e/test_tickets.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.main import create_app
from gateway.upstream.identity import open_identity_channel
from gateway.upstream.ticketing import open_ticketing_channel
from simfleet.ticketing.v1 import forms_pb2 as pb
from simfleet_runtime.errors import InvalidArgument, NotFound

from .conftest import CLIENT_ADDRESS, ScriptedIdentity, make_settings
from .scripted import ScriptedServices

BEARER = {"Authorization": "Bearer access.token.1"}
NODE = "01JA0Z6X3W8T9R2Q1P0N5M4K7B"
PDF = b"%PDF-1.7\n...a filled form...\n%%EOF\n"


@pytest.fixture(scope="module")
async def forms_server() -> AsyncIterator[ScriptedServices]:
    double = ScriptedServices("ticketing", pb.DESCRIPTOR.services_by_name["FormService"])
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def forms(forms_server: ScriptedServices) -> AsyncIterator[ScriptedServices]:
    forms_server.reset()
    yield forms_server
    forms_server.reset()


@pytest.fixture
async def client(identity: ScriptedIdentity, forms: ScriptedServices) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(identity.target, ticketing_target=forms.target)
    identity_channel, ticketing_channel = open_identity_channel(settings), open_ticketing_channel(settings)
    app = create_app(settings, identity_channel=identity_channel, ticketing_channel=ticketing_channel)
    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield client
    await identity_channel.close()
    await ticketing_channel.close()


async def test_the_catalogue_in_the_language_asked(client, forms):
    forms.script(
        "ListForms",
        pb.ListFormsResponse(
            language="ru",
            forms=[
                pb.FormDescription(
                    code="sim_replacement",
                    title="Заявление на замену SIM-карты",
                    description="…",
                    needs_lines=True,
                    fields=[
                        pb.FormField(key="company", label="Организация", source="company"),
                        pb.FormField(key="reason", label="Причина", source="input", choices=["lost"], max_length=300),
                    ],
                )
            ],
        ),
    )
    response = await client.get("/v1/forms", params={"language": "ru"}, headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "language": "ru",
        "items": [
            {
                "code": "sim_replacement",
                "title": "Заявление на замену SIM-карты",
                "description": "…",
                "needs_lines": True,
                "fields": [
                    {"key": "company", "label": "Организация", "source": "company", "choices": [], "max_length": None},
                    {"key": "reason", "label": "Причина", "source": "input", "choices": ["lost"], "max_length": 300},
                ],
            }
        ],
    }
    call = forms.last("ListForms")
    assert (call.request.language, call.metadata["authorization"]) == ("ru", "Bearer access.token.1")


async def test_a_filled_form_downloads_as_a_pdf_and_is_not_cached(client, forms):
    forms.script(
        "FillForm",
        pb.FillFormResponse(filename="sim_replacement-20261207.pdf", content_type="application/pdf", content=PDF),
    )
    body = {"node_id": NODE, "lines": ["+79160000001"], "fields": {"reason": "lost"}, "language": "fa"}
    response = await client.post("/v1/forms/sim_replacement/fill", json=body, headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="sim_replacement-20261207.pdf"'
    assert response.headers["cache-control"] == "no-store"
    request = forms.last("FillForm").request
    assert (request.code, request.node_id, list(request.msisdns), dict(request.fields), request.language) == (
        "sim_replacement",
        NODE,
        ["+79160000001"],
        {"reason": "lost"},
        "fa",
    )


@pytest.mark.parametrize(
    ("path", "changes", "field"),
    [
        ("/v1/forms/sim_replacement/fill", {"node_id": ""}, "node_id"),
        ("/v1/forms/sim_replacement/fill", {"lines": ["+7916"]}, "lines.0"),
        ("/v1/forms/sim_replacement/fill", {"lines": [f"+7916{i:07d}" for i in range(101)]}, "lines"),
        ("/v1/forms/sim_replacement/fill", {"fields": {"../x": "1"}}, "fields.../x.[key]"),
        ("/v1/forms/sim_replacement/fill", {"fields": {"reason": "x" * 1001}}, "fields.reason"),
        ("/v1/forms/sim_replacement/fill", {"language": "de"}, "language"),
        ("/v1/forms/sim_replacement/fill", {"extra": 1}, "extra"),
        ("/v1/forms/Sim-Replacement/fill", {}, "code"),
    ],
)
async def test_a_bad_request_is_a_422_and_ticketing_is_not_asked(client, forms, problem, path, changes, field):
    body = {"node_id": NODE, **changes}
    refused = problem(await client.post(path, json=body, headers=BEARER), 422, "VALIDATION_FAILED")
    assert field in {e["field"] for e in refused["errors"]}, refused
    assert forms.count("FillForm") == 0


async def test_ticketings_refusals_are_problems_naming_the_fields_as_sent(client, forms, problem):
    forms.script(
        "FillForm",
        InvalidArgument("bad", reason="INVALID_FORM", field_violations={"msisdns.0": "E.164", "fields.reason": "one"}),
    )
    refused = problem(
        await client.post("/v1/forms/sim_replacement/fill", json={"node_id": NODE}, headers=BEARER),
        422,
        "INVALID_FORM",
    )
    assert {e["field"] for e in refused["errors"]} == {"lines.0", "fields.reason"}
    forms.script("FillForm", NotFound("no such form", reason="FORM_NOT_FOUND"))
    problem(await client.post("/v1/forms/praise/fill", json={"node_id": NODE}, headers=BEARER), 404, "FORM_NOT_FOUND")
    problem(await client.get("/v1/forms", headers={}), 401, "UNAUTHENTICATED")
