"""Bodies of /v1/forms: the forms library (TK-3)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from gateway.tickets.schemas import NODE_ID, Msisdn
from simfleet.ticketing.v1 import forms_pb2 as pb

Language = Literal["en", "ru", "fa"]
FieldKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
FieldValue = Annotated[str, StringConstraints(max_length=1000)]


class FormFieldResponse(BaseModel):
    key: str
    label: str
    source: str = Field(
        description="`input`: typed by the user (optional; a blank line to write on when not given); otherwise "
        "filled in by SIMfleet: `company`, `account_name`, `account_number`, `applicant_name`, `applicant_phone`, "
        "`applicant_email`, `lines`, `today`"
    )
    choices: list[str] = Field(description="for an input: the only values it takes (empty: any text)")
    max_length: int | None = Field(None, description="for an input: its longest value, in characters")

    @classmethod
    def from_proto(cls, f: pb.FormField) -> FormFieldResponse:
        return cls(key=f.key, label=f.label, source=f.source, choices=list(f.choices), max_length=f.max_length or None)


class FormResponse(BaseModel):
    code: str = Field(examples=["sim_replacement"])
    title: str
    description: str
    needs_lines: bool = Field(
        description="whether the form is about numbers (`lines`, up to 100; none: a blank to write them on)"
    )
    fields: list[FormFieldResponse]

    @classmethod
    def from_proto(cls, f: pb.FormDescription) -> FormResponse:
        return cls(
            code=f.code,
            title=f.title,
            description=f.description,
            needs_lines=f.needs_lines,
            fields=[FormFieldResponse.from_proto(x) for x in f.fields],
        )


class FormsResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "language": "en",
                    "items": [
                        {
                            "code": "sim_replacement",
                            "title": "Application for SIM card replacement",
                            "description": "Replace the SIM cards of the lines listed; the numbers stay.",
                            "needs_lines": True,
                            "fields": [
                                {
                                    "key": "company",
                                    "label": "Company",
                                    "source": "company",
                                    "choices": [],
                                    "max_length": None,
                                },
                                {
                                    "key": "reason",
                                    "label": "Reason",
                                    "source": "input",
                                    "choices": ["lost", "stolen", "damaged", "format"],
                                    "max_length": 300,
                                },
                            ],
                        }
                    ],
                }
            ]
        }
    )

    language: Literal["en", "ru"] = Field(description="the language the texts are in (Persian reads English)")
    items: list[FormResponse]


class FillFormRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "node_id": NODE_ID,
                    "lines": ["+79160000001", "+79160000002"],
                    "fields": {"reason": "lost", "delivery_address": "Tverskaya 1, Moscow"},
                    "language": "ru",
                }
            ]
        },
    )

    node_id: str = Field(
        min_length=1, max_length=64, description="the account (or node) the form is for (tickets:write there)"
    )
    lines: list[Msisdn] = Field(
        default_factory=list, max_length=100, description="the numbers it is about (only for forms about numbers)"
    )
    fields: dict[FieldKey, FieldValue] = Field(
        default_factory=dict, max_length=20, description="the form's input fields, by key (see GET /v1/forms)"
    )
    language: Language = "en"

    def to_proto(self, code: str) -> pb.FillFormRequest:
        return pb.FillFormRequest(
            code=code, node_id=self.node_id, msisdns=self.lines, fields=self.fields, language=self.language
        )
