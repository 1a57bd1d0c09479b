"""/v1/me: the signed-in user."""
