"""What each type of operation takes, read from the one definition in ``operation_params.proto``.

The contract's ``OperationParams`` has a field per operation type holding that
type's parameters (``ItemParams`` the same for each line's own), and every
parameter carries a ``ParamRule``: required or not, a named check, a default,
what it means. This module turns that into :class:`TypeSpec` entries and does
the three things every reader needs with them:

- :func:`check` a mapping of parameters against a spec: normalized values
  (defaults filled in, enums by their short names) or the violations, each
  naming its field the way the gateway names it (``params.block_type``);
- convert between the typed messages and the text mapping inventory keeps
  (:func:`params_to_text`, :func:`params_from_text` and their item twins);
- the named checks themselves (:data:`FORMATS`), which the gateway's schemas
  and inventory run alike.

A repeated parameter is kept as its values comma-joined (each checked, each
once, in the order given) and a bool as ``true`` or ``false``;
:func:`json_value` gives a parameter's JSON form (the gateway's examples).

Nothing here knows any particular type: a new type is a new message and a new
field in the contract, and every reader picks it up.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from simfleet.inventory.v1 import operation_params_pb2 as params_pb
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.ids import is_id
from simfleet_runtime.validation import (
    GROUP_MAX,
    LABEL_MAX,
    group_problem,
    label_problem,
    normalize_iccid,
    normalize_msisdn,
)

DOMESTIC_PREFIX = "+7"
"""The operator's country code: forwarding targets and new numbers are its own."""
SMS_TEXT_MAX = 670
"""Ten concatenated parts of 67 UCS-2 characters."""
APN_MAX = 100
TARIFF_CODE_MAX = 64
SERVICES = ("voice", "sms", "data", "roaming", "international")
"""The services the network lets a line use (the HLR's SET_SERVICES takes these names): "voice", "sms" and "data"
gate those kinds of usage, "roaming" use abroad, "international" calls and SMS to other countries."""
TRUE, FALSE = "true", "false"

_APN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
_SENDER = re.compile(r"[A-Za-z0-9 ]{1,11}")
_NODE_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_TARIFF_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


# ------------------------------------------------------------ named checks
def _msisdn(value: str) -> str:
    try:
        return normalize_msisdn(value)
    except InvalidArgument as exc:
        raise ValueError("must be a number in E.164 form, e.g. +79990000101") from exc


def _domestic_msisdn(value: str) -> str:
    number = _msisdn(value)
    if not number.startswith(DOMESTIC_PREFIX):
        raise ValueError(f"must be a number of the operator's country ({DOMESTIC_PREFIX})")
    return number


def _iccid(value: str) -> str:
    try:
        return normalize_iccid(value)
    except InvalidArgument as exc:
        raise ValueError("must be an ICCID: 19 or 20 digits starting with 89, with a valid check digit") from exc


def _apn(value: str) -> str:
    name = value.strip().lower()
    if len(name) > APN_MAX or not _APN.fullmatch(name):
        raise ValueError("must be an APN name, e.g. corp.simfleet")
    return name


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as exc:
        raise ValueError("must be an IPv4 or IPv6 address") from exc


def _sms_text(value: str) -> str:
    if len(value) > SMS_TEXT_MAX:
        raise ValueError(f"must be at most {SMS_TEXT_MAX} characters")
    if not value.strip() or not value.replace("\n", "").isprintable():
        raise ValueError("must be printable text")
    return value


def _sms_sender(value: str) -> str:
    sender = value.strip()
    if not _SENDER.fullmatch(sender):
        raise ValueError("must be up to 11 letters, digits or spaces")
    return sender


def _node_id(value: str) -> str:
    node = value.strip()
    if not _NODE_ID.fullmatch(node):
        raise ValueError("must be a node id")
    return node


def _tariff_code(value: str) -> str:
    code = value.strip()
    if not _TARIFF_CODE.fullmatch(code):
        raise ValueError(f"must be a tariff's code: up to {TARIFF_CODE_MAX} letters, digits, dots, dashes, e.g. BIZ-M")
    return code


def _service(value: str) -> str:
    if value not in SERVICES:
        raise ValueError("must be one of " + ", ".join(SERVICES))
    return value


def _label(value: str) -> str:
    if problem := label_problem(value):
        raise ValueError(problem)
    return value


def _group(value: str) -> str:
    if problem := group_problem(value):
        raise ValueError(problem)
    return value


def _group_id(value: str) -> str:
    if not is_id(value):
        raise ValueError("must be a group's id")
    return value


FORMATS: dict[str, Callable[[str], str]] = {
    "msisdn": _msisdn,
    "domestic_msisdn": _domestic_msisdn,
    "iccid": _iccid,
    "apn": _apn,
    "ip": _ip,
    "sms_text": _sms_text,
    "sms_sender": _sms_sender,
    "node_id": _node_id,
    "tariff_code": _tariff_code,
    "service": _service,
    "label": _label,
    "group": _group,
    "group_id": _group_id,
}
"""A named check: the value as kept (normalized), or ValueError saying what it must be."""

MAX_LENGTHS: dict[str, int] = {
    "msisdn": 16,
    "domestic_msisdn": 16,
    "iccid": 20,
    "apn": APN_MAX,
    "ip": 45,
    "sms_text": SMS_TEXT_MAX,
    "sms_sender": 11,
    "node_id": 64,
    "tariff_code": TARIFF_CODE_MAX,
    "service": max(map(len, SERVICES)),
    "label": LABEL_MAX,
    "group": GROUP_MAX,
    "group_id": 26,
}
"""The longest value each check can pass: the schema's maxLength, so nothing longer is even read."""

FORMAT_CHOICES: dict[str, tuple[str, ...]] = {"service": SERVICES}
"""Named checks that take a closed set of names: the schema lists them (an enum, like a proto enum's)."""


# ------------------------------------------------------------------ specs
@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its name, whether it must be given, its check or its choices, what it means."""

    name: str
    required: bool
    description: str
    format: str = ""
    choices: tuple[str, ...] = ()
    """The enum's values by their short names (``voluntary``); empty for text."""
    example: str = ""
    default: str = ""
    repeated: bool = False
    """A list: kept as its values comma-joined, each checked."""
    boolean: bool = False
    """A bool: kept as ``true`` or ``false``."""

    def normalized(self, value: str) -> str:
        """The value as kept; ValueError saying what it must be (a list's: :meth:`problems`)."""
        if self.repeated:
            values, problems = self.normalized_values(value)
            if problems:
                raise ValueError(problems[0][1])
            return ",".join(values)
        return self._one(value)

    def normalized_values(self, value: str) -> tuple[list[str], list[tuple[int, str]]]:
        """A list's values as kept (each once, in the order given), and what is wrong with which of them."""
        out: list[str] = []
        problems: list[tuple[int, str]] = []
        for index, part in enumerate(value.split(",")):
            try:
                one = self._one(part.strip())
            except ValueError as exc:
                problems.append((index, str(exc)))
                continue
            if one not in out:
                out.append(one)
        return out, problems

    def _one(self, value: str) -> str:
        if self.boolean:
            flag = value.strip().lower()
            if flag not in (TRUE, FALSE):
                raise ValueError("must be true or false")
            return flag
        if self.choices:
            if value not in self.choices:
                raise ValueError("must be one of " + ", ".join(self.choices))
            return value
        if self.format:
            return FORMATS[self.format](value)
        return value


@dataclass(frozen=True)
class TypeSpec:
    """What one operation type takes."""

    type: str
    description: str
    params: tuple[ParamSpec, ...]
    item_params: tuple[ParamSpec, ...]
    any_of: tuple[str, ...]
    items_required: bool
    disjoint: tuple[str, ...]
    """List parameters that may not share a value."""
    message: Descriptor
    item_message: Descriptor | None


def _prefix(enum: Any) -> str:
    """``BlockType`` → ``BLOCK_TYPE_``: what its values' names start with."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"


def _short_names(enum: EnumDescriptor) -> tuple[str, ...]:
    prefix = _prefix(enum)
    return tuple(v.name.removeprefix(prefix).lower() for v in enum.values if v.number != 0)


def _param(field: FieldDescriptor) -> ParamSpec:
    rule = field.GetOptions().Extensions[params_pb.param]
    if rule.format and rule.format not in FORMATS:
        raise ValueError(f"{field.full_name}: no check named {rule.format!r}")
    choices = _short_names(field.enum_type) if field.enum_type is not None else FORMAT_CHOICES.get(rule.format, ())
    return ParamSpec(
        name=field.name,
        required=rule.required,
        description=rule.description,
        format=rule.format,
        choices=choices,
        example=rule.example or (choices[0] if choices else ""),
        default=rule.default_value,
        repeated=field.is_repeated,
        boolean=field.type == FieldDescriptor.TYPE_BOOL,
    )


@functools.cache
def catalogue() -> dict[str, TypeSpec]:
    """Every type that takes parameters from a caller, by its name (``block``), in the contract's order."""
    items = {f.name: f.message_type for f in params_pb.ItemParams.DESCRIPTOR.fields}
    out: dict[str, TypeSpec] = {}
    for field in params_pb.OperationParams.DESCRIPTOR.fields:
        message = field.message_type
        assert message is not None, f"{field.full_name} is not a message"
        rule = message.GetOptions().Extensions[params_pb.params]
        item_message = items.get(field.name)
        out[field.name] = TypeSpec(
            type=field.name,
            description=rule.description,
            params=tuple(_param(f) for f in message.fields),
            item_params=tuple(_param(f) for f in item_message.fields) if item_message is not None else (),
            any_of=tuple(rule.any_of),
            items_required=rule.items_required,
            disjoint=tuple(rule.disjoint),
            message=message,
            item_message=item_message,
        )
    return out


def spec(type_name: str) -> TypeSpec | None:
    return catalogue().get(type_name)


# ----------------------------------------------------------------- checks
Violation = tuple[str, str]
"""(field, what is wrong), the field dotted from the body's top (``params.block_type``)."""


def check(
    specs: Iterable[ParamSpec],
    values: Mapping[str, str],
    *,
    where: str,
    any_of: Iterable[str] = (),
    disjoint: Iterable[str] = (),
) -> tuple[dict[str, str], list[Violation]]:
    """``values`` normalized (defaults filled in, empties dropped), and what is wrong with them.

    A list's bad value is named by its place (``params.connect[1]``), as a service names a list's members.
    """
    known = {p.name: p for p in specs}
    problems: list[Violation] = [
        (f"{where}.{name}", "takes no such parameter (it takes " + (", ".join(known) or "none") + ")")
        for name in values
        if name not in known
    ]
    out: dict[str, str] = {}
    for name, param in known.items():
        value = values.get(name, "")
        if value == "":
            if param.required:
                problems.append((f"{where}.{name}", "is required"))
            elif param.default:
                out[name] = param.default
            continue
        if param.repeated:
            kept, wrong = param.normalized_values(value)
            problems.extend((f"{where}.{name}[{index}]", what) for index, what in wrong)
            if kept and not wrong:
                out[name] = ",".join(kept)
            continue
        try:
            out[name] = param.normalized(value)
        except ValueError as exc:
            problems.append((f"{where}.{name}", str(exc)))
    wanted = tuple(any_of)
    named = {field.split("[")[0] for field, _ in problems}
    if wanted and not any(out.get(name) for name in wanted) and not named & {f"{where}.{n}" for n in wanted}:
        problems.append((where, "give " + " or ".join(wanted) + " (or both)" * (len(wanted) == 2)))
    problems.extend(shared_values({name: split(out.get(name, "")) for name in disjoint}, where=where))
    return out, problems


def split(value: str) -> list[str]:
    """A list parameter's values as kept (comma-joined; "" for none)."""
    return [part for part in value.split(",") if part]


def shared_values(lists: Mapping[str, list[str]], *, where: str) -> list[Violation]:
    """Each value of a list that an earlier list (in ``lists``' order) already has, named by its place."""
    seen: dict[str, str] = {}
    problems: list[Violation] = []
    for name, values in lists.items():
        for index, value in enumerate(values):
            if value in seen and seen[value] != name:
                problems.append((f"{where}.{name}[{index}]", f"{value} is also in {seen[value]}"))
            seen.setdefault(value, name)
    return problems


def refuse(problems: list[Violation], reason: str = "INVALID_PARAMS") -> InvalidArgument:
    """The violations as the error a service answers with."""
    first = problems[0]
    return InvalidArgument(f"{first[0]} {first[1]}", reason=reason, field_violations=dict(problems))


def checked_params(type_name: str, values: Mapping[str, str]) -> dict[str, str]:
    """An operation's parameters normalized, or InvalidArgument naming each bad one."""
    found = spec(type_name)
    if found is None:
        if values:
            raise refuse([("params", f"{type_name} takes no parameters")])
        return {}
    out, problems = check(found.params, values, where="params", any_of=found.any_of, disjoint=found.disjoint)
    if problems:
        raise refuse(problems)
    return out


def checked_item_params(type_name: str, values: Mapping[str, str], *, where: str = "items.params") -> dict[str, str]:
    """One line's own parameters normalized, or InvalidArgument naming each bad one."""
    found = spec(type_name)
    out, problems = check(found.item_params if found else (), values, where=where)
    if problems:
        raise refuse(problems)
    return out


# ------------------------------------------------------------ conversions
JsonParam = str | bool | list[str]
"""A parameter as JSON carries it: text, a bool, a list of text."""


def json_value(param: ParamSpec, text: str) -> JsonParam:
    """A parameter kept as text in its JSON form (``roaming,data`` → ``["roaming", "data"]``, ``true`` → true)."""
    if param.repeated:
        return split(text)
    if param.boolean:
        return text == TRUE
    return text


def text_value(value: JsonParam) -> str:
    """A parameter's JSON form as the text kept (:func:`json_value` back)."""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, list):
        return ",".join(value)
    return value


def _message_to_text(message: Message) -> dict[str, str]:
    out: dict[str, str] = {}
    for field, value in message.ListFields():
        enum = field.enum_type
        if field.is_repeated:
            out[field.name] = ",".join(str(v) for v in value)  # each value checked by check(), commas and all
            continue
        if field.type == FieldDescriptor.TYPE_BOOL:
            out[field.name] = TRUE if value else FALSE
            continue
        if enum is None:
            out[field.name] = str(value)
            continue
        known = enum.values_by_number.get(int(value))
        # An unknown number stays a number: check() refuses it as none of the choices.
        out[field.name] = known.name.removeprefix(_prefix(enum)).lower() if known is not None else str(int(value))
    return out


def _text_to_message(message: Message, values: Mapping[str, str]) -> None:
    """Set the fields ``values`` names; text that is none of an enum's short names is left unset."""
    for field in message.DESCRIPTOR.fields:
        value = values.get(field.name)
        if not value:
            continue
        enum = field.enum_type
        if field.is_repeated:
            getattr(message, field.name).extend(split(value))
        elif field.type == FieldDescriptor.TYPE_BOOL:
            setattr(message, field.name, value.strip().lower() == TRUE)
        elif enum is None:
            setattr(message, field.name, value)
        elif (known := enum.values_by_name.get(_prefix(enum) + value.upper())) is not None and known.number:
            setattr(message, field.name, known.number)


def params_to_text(typed: params_pb.OperationParams) -> tuple[str | None, dict[str, str]]:
    """The type the message's set field names (None when none is set) and its parameters as text."""
    which = typed.WhichOneof("params")
    if which is None:
        return None, {}
    return which, _message_to_text(getattr(typed, which))


def item_params_to_text(typed: params_pb.ItemParams) -> tuple[str | None, dict[str, str]]:
    which = typed.WhichOneof("params")
    if which is None:
        return None, {}
    return which, _message_to_text(getattr(typed, which))


def params_from_text(type_name: str, values: Mapping[str, str]) -> params_pb.OperationParams:
    """The typed form of parameters kept as text (an empty message for a type with none)."""
    typed = params_pb.OperationParams()
    if spec(type_name) is not None:
        inner = getattr(typed, type_name)
        inner.SetInParent()
        _text_to_message(inner, values)
    return typed


def item_params_from_text(type_name: str, values: Mapping[str, str]) -> params_pb.ItemParams:
    typed = params_pb.ItemParams()
    found = spec(type_name)
    if found is not None and found.item_message is not None:
        inner = getattr(typed, type_name)
        inner.SetInParent()
        _text_to_message(inner, values)
    return typed
