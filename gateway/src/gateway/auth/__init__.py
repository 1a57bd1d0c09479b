"""/v1/auth: sign-in and sessions."""
