"""SIMfleet billing: the double-entry ledger of personal accounts."""
