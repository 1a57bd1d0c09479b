"""The operator's stock: SIM cards (with their PUK codes, encrypted) and the pool of numbers."""
