"""The signed-in user's own profile (ID-6, ID-7)."""
