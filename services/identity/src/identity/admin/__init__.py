"""Back-office calls of operator staff."""
