"""/v1/forms: the forms library (TK-3), answered by ticketing.

A form comes back as a PDF filled in with what SIMfleet knows (the company, the
account, the applicant, the numbers) and what the user typed, to sign and
attach to a ticket of type ``request_by_form``. Filling needs ``tickets:write``
over the node the form is for; a node outside the caller's scope is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from gateway.deps import SignedInTicketing
from gateway.problems import problem_responses
from gateway.tickets.forms_schemas import FillFormRequest, FormResponse, FormsResponse, Language
from gateway.upstream.errors import fields_named
from simfleet.ticketing.v1 import forms_pb2 as pb

router = APIRouter(prefix="/v1/forms", tags=["tickets"])

FormCode = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="a form's code",
        examples=["sim_replacement"],
    ),
]


@router.get(
    "",
    operation_id="listForms",
    summary="The forms library",
    description="Application forms (SIM replacement, transfer of numbers, change of the contract's details) with "
    "their fields: which SIMfleet fills in and which the user types. Persian (`fa`) reads the English forms.",
    responses=problem_responses(401, 422),
)
async def list_forms(
    ticketing: SignedInTicketing,
    response: Response,
    language: Annotated[Language, Query(description="the texts' language")] = "en",
) -> FormsResponse:
    answer = await ticketing.call(ticketing.forms.ListForms, pb.ListFormsRequest(language=language))
    response.headers["Cache-Control"] = "private, max-age=300"
    return FormsResponse(
        language="ru" if answer.language == "ru" else "en",
        items=[FormResponse.from_proto(f) for f in answer.forms],
    )


@router.post(
    "/{code}/fill",
    operation_id="fillForm",
    summary="A form filled in, as a PDF",
    description="The form filled in for a node of the caller's hierarchy (`tickets:write` there): the company's "
    "and the account's names and number, the applicant (the caller), the numbers and the typed fields; what "
    "SIMfleet does not know is a blank line to write on. Nothing is stored.",
    response_class=Response,
    responses={
        200: {
            "description": "The PDF",
            "content": {
                "application/pdf": {
                    "schema": {"type": "string", "format": "binary", "examples": ["%PDF-1.3 …"]},
                }
            },
            "headers": {
                "Content-Disposition": {
                    "description": 'attachment; filename="<code>-<yyyymmdd>.pdf"',
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_responses(400, 401, 403, 404, 422),
    },
)
async def fill_form(code: FormCode, body: FillFormRequest, ticketing: SignedInTicketing) -> Response:
    with fields_named({"msisdns": "lines"}):
        answer = await ticketing.call(ticketing.forms.FillForm, body.to_proto(code))
    return Response(
        content=answer.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{answer.filename}"',
            "Cache-Control": "no-store",
        },
    )
