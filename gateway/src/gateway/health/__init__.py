"""/healthz, /readyz, /metrics."""
