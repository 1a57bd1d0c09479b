"""Billing's copy of the lines it charges for (inventory's ``lines.changed``): who pays, on which tariff, since when."""
