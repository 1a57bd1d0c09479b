"""One-time codes for sign-in and password reset (ID-3, ID-4, ID-5)."""
