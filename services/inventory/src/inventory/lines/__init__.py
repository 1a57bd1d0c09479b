"""Lines: a number and a SIM under a node, with their tariff, services, APNs, forwarding and blocks."""
