"""What every request passes through: request id, client address, limits, metrics, tracing."""
