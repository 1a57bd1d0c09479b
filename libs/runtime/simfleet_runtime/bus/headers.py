"""Message headers every SIMfleet message carries (docs/architecture.md)."""

MSG_ID = "Nats-Msg-Id"
TENANT = "Simfleet-Tenant"
EVENT_TYPE = "Simfleet-Event-Type"
TRACEPARENT = "traceparent"
