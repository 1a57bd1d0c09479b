"""Message headers every SIMfleet message carries (docs/architecture.md)."""

MSG_ID = "Nats-Msg-Id"
TENANT = "Simfleet-Tenant"
EVENT_TYPE = "Simfleet-Event-Type"
TRACEPARENT = "traceparent"
SENSITIVE = "Simfleet-Sensitive"
"""Set ("1") on a message carrying a secret (a one-time code): sealed wherever the platform stores it."""
