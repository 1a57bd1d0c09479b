"""Each operation type's parameters as request schemas, built from the contract's one definition.

``operation_params.proto`` says what each type takes (``simfleet_runtime.operation_params``
reads it); this module turns every entry into a pydantic model for the
operation's ``params`` and a typed dict for a line's own ``items[].params``, so
the OpenAPI document shows one schema per type and a generated client gets
types. Values are checked by the same named checks inventory runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired, Required

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, create_model
from pydantic.fields import FieldInfo
from typing_extensions import TypedDict

from simfleet_runtime.operation_params import FORMATS, MAX_LENGTHS, ParamSpec, TypeSpec, catalogue, json_value

MAX_LIST = 20
"""The most values a list parameter takes (each checked; repeats count once)."""


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _checked_by(format_name: str) -> Callable[[str], str]:
    check = FORMATS[format_name]

    def run(value: str) -> str:
        return value if value == "" else check(value)

    return run


def _annotation(param: ParamSpec) -> Any:
    """The parameter's type: a list of its values' type, a bool, or one value.

    One value is a closed set of names for an enum (or a named check that takes names, such as ``service``),
    else text passing its named check.
    """
    if param.boolean:
        return StrictBool
    one = _value(param)
    if param.repeated:
        return Annotated[list[one], Field(min_length=1 if param.required else 0, max_length=MAX_LIST)]  # type: ignore[valid-type]
    return one


def _value(param: ParamSpec) -> Any:
    if param.choices:
        return Literal[param.choices]
    constraints: list[Any] = [
        Field(min_length=1 if param.required else 0, max_length=MAX_LENGTHS.get(param.format, 670))
    ]
    if param.format:
        constraints.append(AfterValidator(_checked_by(param.format)))
    return Annotated[str, *constraints]


def _field(param: ParamSpec) -> FieldInfo:
    description = param.description + (f" (default {param.default})" if param.default else "")
    extra: dict[str, Any] = {"examples": [json_value(param, param.example)]} if param.example else {}
    info: FieldInfo = (
        Field(description=description, **extra) if param.required else Field(None, description=description, **extra)
    )
    return info


def _params_model(spec: TypeSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {p.name: (_annotation(p), _field(p)) for p in spec.params}
    extra: dict[str, Any] = {"description": spec.description}
    if spec.any_of:
        extra["description"] += " Give " + " and/or ".join(spec.any_of) + "."
        extra["x-at-least-one-of"] = list(spec.any_of)  # not anyOf: generators drop such a model
    if spec.disjoint:
        extra["description"] += " A value may be in only one of " + " and ".join(spec.disjoint) + "."
    return create_model(
        f"{camel(spec.type)}Params",
        __config__=ConfigDict(extra="forbid", json_schema_extra=extra),
        **fields,
    )


def _item_params_type(spec: TypeSpec) -> Any:
    """A line's own parameters: a typed dict, as an operation names up to 200,000 lines (a model each cost a second)."""
    fields = {
        p.name: (Required if p.required else NotRequired)[Annotated[_annotation(p), _field(p)]]
        for p in spec.item_params
    }
    typed = TypedDict(f"{camel(spec.type)}ItemParams", fields)  # type: ignore[misc]
    typed.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return typed


@dataclass(frozen=True)
class TypeSchemas:
    """What an operation of one type takes, as schemas: its ``params`` and, if any, each line's own."""

    spec: TypeSpec
    params: type[BaseModel]
    item_params: Any | None
    params_required: bool
    """Whether ``params`` must be given (some parameter is required, or one of several)."""
    item_params_required: bool


def _schemas(spec: TypeSpec) -> TypeSchemas:
    return TypeSchemas(
        spec=spec,
        params=_params_model(spec),
        item_params=_item_params_type(spec) if spec.item_params else None,
        params_required=any(p.required for p in spec.params) or bool(spec.any_of),
        item_params_required=any(p.required for p in spec.item_params),
    )


SCHEMAS: dict[str, TypeSchemas] = {name: _schemas(spec) for name, spec in catalogue().items()}
"""By operation type (``block``), in the contract's order: the types POST /v1/operations takes."""


def described() -> str:
    """The types and their parameters for people, in Markdown (the endpoint's description)."""
    lines = []
    for name, schemas in SCHEMAS.items():
        spec = schemas.spec
        takes = ", ".join(_named(p) for p in spec.params) or "no params"
        line = f"- `{name}`: {spec.description} `params`: {takes}"
        if spec.any_of:
            line += " (" + " and/or ".join(f"`{p}`" for p in spec.any_of) + ")"
        if spec.item_params:
            each = ", ".join(_named(p) for p in spec.item_params)
            line += f"; each line's `items[].params`: {each}"
            if spec.items_required:
                line += " (needs `items`)"
        lines.append(line + ".")
    return "\n".join(lines)


def _named(param: ParamSpec) -> str:
    text = f"`{param.name}`" + ("" if param.required else " (optional)")
    if param.choices:
        text += (" a list of " if param.repeated else " one of ") + ", ".join(param.choices)
    elif param.boolean:
        text += " true or false"
    return text
