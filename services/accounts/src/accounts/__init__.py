"""SIMfleet accounts: corporate customers, the hierarchy of their accounts and departments, node summaries."""
