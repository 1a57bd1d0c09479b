"""SIMfleet ticketing: customers' tickets, their states and conversation, and the operator's support desk."""
