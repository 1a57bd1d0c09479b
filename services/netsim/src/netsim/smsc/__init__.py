"""The SMSC: SMS submitted over NATS, delivered to simulated handsets' inboxes."""
