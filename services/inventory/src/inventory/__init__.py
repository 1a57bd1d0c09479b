"""SIMfleet inventory: SIM cards, numbers, lines, and the operations that change them on the network."""
