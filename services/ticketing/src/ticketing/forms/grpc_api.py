"""simfleet.ticketing.v1.FormService: the forms library (TK-3) for customers' users.

Listing needs only a signed-in user; filling needs ``tickets:write`` over the node
the form is for (a node outside the caller's scope is NOT_FOUND).
"""

from __future__ import annotations

from typing import Any

from simfleet.ticketing.v1 import forms_pb2 as pb
from simfleet.ticketing.v1 import forms_pb2_grpc
from simfleet_runtime.authz import Authorizer
from ticketing.forms import catalogue as cat
from ticketing.forms import service
from ticketing.forms.service import Forms
from ticketing.tickets.grpc_api import WRITE

SERVICE_NAME = "simfleet.ticketing.v1.FormService"


def describe(form: cat.Form, language: str) -> pb.FormDescription:
    return pb.FormDescription(
        code=form.code,
        title=form.title[language],
        description=form.description[language],
        needs_lines=form.needs_lines,
        fields=[
            pb.FormField(
                key=f.key,
                label=f.label[language],
                source=f.source,
                choices=list(f.choices),
                max_length=f.max_length if f.source == cat.INPUT else 0,
            )
            for f in form.fields
        ],
    )


class FormApi(forms_pb2_grpc.FormServiceServicer):
    def __init__(self, *, forms: Forms, authorizer: Authorizer) -> None:
        self._forms = forms
        self._authz = authorizer

    async def ListForms(self, request: pb.ListFormsRequest, context: Any) -> pb.ListFormsResponse:
        await self._authz.access()
        # An unknown language is refused as FillForm refuses it; none means English.
        service.check_language(request.language)
        language = cat.language(request.language)
        return pb.ListFormsResponse(forms=[describe(form, language) for form in cat.FORMS.values()], language=language)

    async def FillForm(self, request: pb.FillFormRequest, context: Any) -> pb.FillFormResponse:
        access = await self._authz.access()
        checked = service.check(
            request.code, language=request.language, msisdns=list(request.msisdns), fields=dict(request.fields)
        )
        access.check(WRITE, await self._authz.path(access, request.node_id), what="node")
        document = await self._forms.fill(checked, node_id=request.node_id)
        return pb.FillFormResponse(
            filename=document.filename, content_type=document.content_type, content=document.content
        )
