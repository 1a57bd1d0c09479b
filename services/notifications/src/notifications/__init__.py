"""SIMfleet notifications: the notices customers' users choose (NO-1)."""
