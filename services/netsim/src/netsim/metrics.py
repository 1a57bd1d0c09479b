"""netsim's business metrics (the shared RED and bus metrics live in simfleet_runtime.metrics)."""

from __future__ import annotations

from prometheus_client import Counter

SMS_DELIVERED = Counter(
    "simfleet_netsim_sms_delivered_total",
    "SMS the SMSC delivered to a simulated handset's inbox.",
)
MAIL_RECEIVED = Counter(
    "simfleet_netsim_mail_received_total",
    "Messages the SMTP sink stored, counted once per recipient mailbox.",
)
