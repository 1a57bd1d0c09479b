"""Human-readable text in request bodies (names, descriptions, labels): the runtime's one rule.

``Annotated[str, HumanText]`` refuses (422, the field named) control
characters and bidirectional controls exactly as the services do with
:func:`simfleet_runtime.validation.text_problem`, so a caller learns it here
and a gRPC caller that skips the gateway is refused the same way.
"""

from __future__ import annotations

from pydantic import AfterValidator

from simfleet_runtime.validation import text_problem


def _human_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _human_text_block(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem is not None:
        raise ValueError(problem)
    return value


HumanText = AfterValidator(_human_text)
HumanTextBlock = AfterValidator(_human_text_block)
"""The same rule for text of several lines (a ticket's description, a note): line feeds are taken."""
