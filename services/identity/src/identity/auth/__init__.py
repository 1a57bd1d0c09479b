"""Sign-in flows (ID-2 to ID-5, ID-7) and their gRPC adapter."""
