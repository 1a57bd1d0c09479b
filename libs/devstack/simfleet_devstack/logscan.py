"""Warnings and errors the processes logged during a window, counted by message."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

SERIOUS = {"warning", "error", "critical"}
_NATS_LEVEL = re.compile(r"\[(WRN|ERR|FTL)\]\s*(.*)")
_NUMBERS = re.compile(r"\b\d+(\.\d+)?\b")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Timeout|Interrupt)\w*(:|$)")


def _exception_summary(text: str) -> str:
    """The line of a traceback that names the exception (not SQLAlchemy's trailing hints)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if _EXCEPTION_LINE.match(line):
            return line
    return lines[-1] if lines else ""


def size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _summary(line: str) -> tuple[str, str] | None:
    """(level, message) of a warning or error line; None for anything else."""
    try:
        record = json.loads(line)
    except ValueError:
        found = _NATS_LEVEL.search(line)
        return (found.group(1).lower(), found.group(2).strip()) if found else None
    if not isinstance(record, dict) or str(record.get("level", "")).lower() not in SERIOUS:
        return None
    message = " ".join(str(record.get("message", "")).split())
    exception = _exception_summary(str(record.get("exception", "")))
    if exception:
        message += f" ({exception})"
    return str(record["level"]).lower(), message


def serious_lines(path: Path, since: int) -> Counter[tuple[str, str]]:
    """Count warnings and errors written to ``path`` from byte ``since``, by (level, message)."""
    counts: Counter[tuple[str, str]] = Counter()
    try:
        with open(path, "rb") as handle:
            handle.seek(since)
            data = handle.read()
    except FileNotFoundError:
        return counts
    for raw in data.decode("utf-8", errors="replace").splitlines():
        summary = _summary(raw)
        if summary is not None:
            level, message = summary
            counts[(level, _NUMBERS.sub("N", message)[:200])] += 1
    return counts
