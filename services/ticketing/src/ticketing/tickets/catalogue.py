"""What a ticket may be: its types, severities and priorities, and the limits of its text."""

from __future__ import annotations

TYPES = ("question", "fault", "billing_dispute", "complaint", "suggestion", "request_by_form")
"""The catalogue of ticket types (TK-4's complaints and suggestions are two of them)."""

SEVERITIES = ("critical", "high", "medium", "low")
DEFAULT_SEVERITY = "medium"
PRIORITIES = ("urgent", "high", "normal", "low")
DEFAULT_PRIORITY = "normal"

TOPIC_MAX = 200
DESCRIPTION_MAX = 10_000
NOTE_MAX = 10_000
REASON_MAX = 1_000
RELATED_MSISDNS_MAX = 100
REFERENCE_MAX = 64
"""An operation's or a bill's id."""
