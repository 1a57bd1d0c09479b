"""The history of sign-in attempts (ID-7)."""
