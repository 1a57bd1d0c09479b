"""Protobuf enums as JSON names: lower case, without the type's prefix (``LINE_STATE_ACTIVE`` is ``active``).

:func:`enum_names` binds a ``Literal`` of the names the API documents to the
proto enum, and fails at import when the two disagree, so a value added to a
proto cannot silently fall outside the API.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, get_args

from gateway.problems import ProblemError

log = logging.getLogger(__name__)

V = TypeVar("V", bound=int)


class EnumNames(Generic[V]):
    """Names ⇄ values of one proto enum (its UNSPECIFIED value has no name)."""

    def __init__(self, values: Mapping[str, V], what: str) -> None:
        self.values: dict[str, V] = dict(values)
        self.names: dict[int, str] = {int(value): name for name, value in self.values.items()}
        self._what = what

    def value(self, name: str) -> V:
        return self.values[name]

    def name(self, value: int) -> str:
        """The name of a value a service answered; an unknown one is the service's fault (502)."""
        try:
            return self.names[int(value)]
        except KeyError:
            log.error("a service answered %s %d, which the gateway does not know", self._what, value)
            raise ProblemError(502, "BAD_GATEWAY", "a service gave an unexpected answer") from None


def enum_names(enum: Any, prefix: str, literal: Any) -> EnumNames[Any]:
    """The names of ``enum`` (a generated enum wrapper, e.g. ``lines_pb2.LineState``), which must be ``literal``'s."""
    declared = {v.name.removeprefix(prefix).lower(): v.number for v in enum.DESCRIPTOR.values if v.number != 0}
    documented = set(get_args(literal))
    if documented != set(declared):
        raise RuntimeError(
            f"{enum.DESCRIPTOR.full_name}: the API names {sorted(documented)}, the proto {sorted(declared)}"
        )
    return EnumNames({name: enum.Value(prefix + name.upper()) for name in declared}, enum.DESCRIPTOR.full_name)
