"""Users of corporate customers and their passwords."""
