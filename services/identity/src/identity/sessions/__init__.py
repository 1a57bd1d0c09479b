"""Sessions: signing keys, access tokens, rotating refresh tokens."""
